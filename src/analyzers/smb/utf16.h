// UTF-16LE (SMB and NTLM strings) to UTF-8, bounded and lossless for valid
// input; unpaired surrogates become U+FFFD. No allocation beyond the output.
#pragma once

#include <cstddef>
#include <string>

#include "core/byte_view.h"

namespace trawl::analyzers::smb {

// Appends the UTF-8 form of `in` (an odd last byte is ignored) to `out`,
// stopping at the first NUL code unit when `stop_at_nul`, and after at most
// `max_units` code units. Returns the number of input bytes consumed
// (including the NUL when one ended the string).
size_t utf16le_to_utf8(core::ByteView in, std::string& out, size_t max_units = 4096, bool stop_at_nul = true);

// An OEM (8-bit) string up to the first NUL, at most `max_len` bytes, kept as
// is (JSON output escapes bytes that are not UTF-8). Returns bytes consumed.
size_t oem_string(core::ByteView in, std::string& out, size_t max_len = 4096);

}  // namespace trawl::analyzers::smb

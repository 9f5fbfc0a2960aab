// The ByteSources behind open_byte_source: a plain file read with read() into
// the caller's buffer, memory, and gzip/zstd decompressors stacked on either.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "capture/packet_reader.h"

namespace trawl::capture {

enum class Compression : uint8_t { kNone, kGzip, kZstd };

// The file's bytes as they are (no decompression). nullptr and
// err = "cannot open PATH: reason" on failure.
std::unique_ptr<ByteSource> open_file_source(const std::string& path, std::string& err);

// Reads the first bytes of source and, if they are a gzip (1f 8b) or zstd
// (28 b5 2f fd) magic, returns a source of the decompressed stream; otherwise a
// source of the same bytes. name prefixes error messages. Returns nullptr and
// sets err only if reading the first bytes fails.
std::unique_ptr<ByteSource> decompress_by_magic(std::unique_ptr<ByteSource> source, const std::string& name,
                                                std::string& err, Compression* found = nullptr);

}  // namespace trawl::capture

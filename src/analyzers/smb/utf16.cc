#include "analyzers/smb/utf16.h"

#include "core/utf8.h"

namespace trawl::analyzers::smb {

namespace {

constexpr uint32_t kReplacement = 0xfffd;

}  // namespace

size_t utf16le_to_utf8(core::ByteView in, std::string& out, size_t max_units, bool stop_at_nul) {
  size_t i = 0;
  size_t units = 0;
  while (i + 1 < in.size() && units < max_units) {
    uint32_t u = core::load_le16(in.data() + i);
    i += 2;
    ++units;
    if (u == 0 && stop_at_nul) return i;
    if (u >= 0xd800 && u <= 0xdbff) {
      if (i + 1 < in.size()) {
        uint32_t lo = core::load_le16(in.data() + i);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          i += 2;
          ++units;
          core::append_utf8(out, 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
          continue;
        }
      }
      core::append_utf8(out, kReplacement);
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      core::append_utf8(out, kReplacement);
    } else {
      core::append_utf8(out, u);
    }
  }
  return i;
}

size_t oem_string(core::ByteView in, std::string& out, size_t max_len) {
  size_t i = 0;
  size_t kept = 0;
  while (i < in.size()) {
    const uint8_t c = in[i++];
    if (c == 0) return i;
    if (kept < max_len) {
      out.push_back(static_cast<char>(c));
      ++kept;
    }
  }
  return i;
}

}  // namespace trawl::analyzers::smb

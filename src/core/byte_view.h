// ByteView and Cursor: borrowed byte ranges and a bounds-checked reader that
// reports failure instead of reading past the end (input is hostile).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace trawl::core {

using ByteView = std::span<const uint8_t>;

inline std::string_view as_chars(ByteView v) {
  return {reinterpret_cast<const char*>(v.data()), v.size()};
}

inline uint16_t load_be16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
inline uint16_t load_le16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
inline uint64_t load_le64(const uint8_t* p) {
  return uint64_t{load_le32(p)} | (uint64_t{load_le32(p + 4)} << 32);
}

// Sequential reader over a ByteView. Every read checks the remaining length;
// a failed read returns false and leaves the cursor where it was.
class Cursor {
 public:
  explicit Cursor(ByteView data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool empty() const { return pos_ >= data_.size(); }
  ByteView rest() const { return data_.subspan(pos_); }
  const uint8_t* ptr() const { return data_.data() + pos_; }

  bool skip(size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }
  bool u8(uint8_t& out) {
    if (remaining() < 1) return false;
    out = data_[pos_++];
    return true;
  }
  bool be16(uint16_t& out) {
    if (remaining() < 2) return false;
    out = load_be16(ptr());
    pos_ += 2;
    return true;
  }
  bool be32(uint32_t& out) {
    if (remaining() < 4) return false;
    out = load_be32(ptr());
    pos_ += 4;
    return true;
  }
  bool le16(uint16_t& out) {
    if (remaining() < 2) return false;
    out = load_le16(ptr());
    pos_ += 2;
    return true;
  }
  bool le32(uint32_t& out) {
    if (remaining() < 4) return false;
    out = load_le32(ptr());
    pos_ += 4;
    return true;
  }
  bool bytes(size_t n, ByteView& out) {
    if (n > remaining()) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  ByteView data_;
  size_t pos_ = 0;
};

}  // namespace trawl::core

// JsonLine: builds one JSON object into a string without allocation per field,
// with deterministic number formatting. Keys are trusted literals; string
// values are escaped (control characters, quotes, invalid UTF-8 as \u00XX).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "core/ip_address.h"
#include "core/timestamp.h"

namespace trawl::output {

void append_json_string(std::string& out, std::string_view s);

// Low-level writers behind JsonLine, exposed for tests. Each writes at p and
// returns the end; the caller guarantees the room named.
inline constexpr size_t kU64TextMax = 20;
char* write_u64(char* p, uint64_t v);  // kU64TextMax bytes
char* write_i64(char* p, int64_t v);   // kU64TextMax + 1 bytes
// The address as IpAddress::to_string gives it, in quotes; kIpJsonMax bytes.
inline constexpr size_t kIpJsonMax = 64;
static_assert(kIpJsonMax >= core::IpAddress::kTextMax + 2, "room for the quotes");
char* write_ip_json(char* p, const core::IpAddress& a);

class JsonLine {
 public:
  // kEachField: every call appends its text to `out` at once, so the caller
  // may also append to `out` between fields. kAtEnd: fields gather in the
  // line's own buffer and reach `out` at end()/end_object() (or when the
  // buffer fills, or at destruction); `out` must not be touched before. The
  // record writers use kAtEnd: one string append per line instead of one or
  // more per field (about half of their cost before).
  enum class Flush { kEachField, kAtEnd };

  explicit JsonLine(std::string& out, Flush flush = Flush::kEachField)
      : out_(out), each_field_(flush == Flush::kEachField) {
    *p_++ = '{';
    done_();
  }
  ~JsonLine() {
    if (p_ != buf_) flush_();
  }
  JsonLine(const JsonLine&) = delete;
  JsonLine& operator=(const JsonLine&) = delete;

  JsonLine& str(std::string_view key, std::string_view value) {
    char* p = key_(key, 2);  // both quotes
    *p++ = '"';
    p_ = p;
    string_body_(value);
    done_();
    return *this;
  }
  JsonLine& u64(std::string_view key, uint64_t value) {
    p_ = write_u64(key_(key, kU64TextMax), value);
    done_();
    return *this;
  }
  JsonLine& i64(std::string_view key, int64_t value) {
    p_ = write_i64(key_(key, kU64TextMax + 1), value);
    done_();
    return *this;
  }
  JsonLine& boolean(std::string_view key, bool value) {
    char* p = key_(key, 5);
    // Both words are written whole; the length picks one (room for 5 is sure).
    std::memcpy(p, value ? "true " : "false", 5);
    p_ = p + (value ? 4 : 5);
    done_();
    return *this;
  }
  // Pre-formatted JSON (a number, array or object).
  JsonLine& raw(std::string_view key, std::string_view json) {
    p_ = key_(key, 0);
    put_(json);
    done_();
    return *this;
  }
  // A time as seconds with six decimals ("1320279566.452687"), a number.
  JsonLine& ts(std::string_view key, core::Timestamp t) { return micros(key, t.ns); }
  // A duration in ns as seconds with six decimals, a number.
  JsonLine& micros(std::string_view key, int64_t ns) {
    p_ = core::write_micros(key_(key, core::kMicrosTextMax), ns);
    done_();
    return *this;
  }
  // An address as a string, with IpAddress::to_string's text.
  JsonLine& ip(std::string_view key, const core::IpAddress& a) {
    p_ = write_ip_json(key_(key, kIpJsonMax), a);
    done_();
    return *this;
  }
  // An array of strings.
  JsonLine& str_list(std::string_view key, std::span<const std::string> values);

  // An array written element by element: begin_array(key), then add_str or
  // add_raw per element, then end_array().
  JsonLine& begin_array(std::string_view key) {
    char* p = key_(key, 1);
    *p++ = '[';
    p_ = p;
    first_ = true;
    done_();
    return *this;
  }
  JsonLine& add_str(std::string_view value) {
    char* p = element_(2);  // both quotes
    *p++ = '"';
    p_ = p;
    string_body_(value);
    done_();
    return *this;
  }
  JsonLine& add_raw(std::string_view json) {
    p_ = element_(0);
    put_(json);
    done_();
    return *this;
  }
  JsonLine& end_array() {
    room_(1);
    *p_++ = ']';
    first_ = false;
    done_();
    return *this;
  }

  void end() {
    room_(2);
    *p_++ = '}';
    *p_++ = '\n';
    flush_();
  }
  void end_object() {
    room_(1);
    *p_++ = '}';
    flush_();
  }

 private:
  static constexpr size_t kBuf = 1024;
  // Keys up to this length go through the buffer; longer ones straight to out_.
  static constexpr size_t kKeyMax = 128;

  // Out of line: with kAtEnd it runs once per line, and the field writers
  // stay small enough to be inlined (a literal key is then copied with
  // constant-size stores).
  void flush_();
  void done_() {
    if (each_field_) flush_();
  }
  void room_(size_t n) {
    if (static_cast<size_t>(buf_ + kBuf - p_) < n) [[unlikely]] flush_();
  }
  // Writes `,"key":` and returns where the value goes, with room for `value_room`
  // bytes after it (value_room <= kBuf - kKeyMax - 4). Keys are usually
  // literals, so once inlined the copy has a constant size.
  char* key_(std::string_view key, size_t value_room) {
    if (key.size() > kKeyMax) [[unlikely]] return long_key_(key, value_room);
    room_(key.size() + 4 + value_room);
    char* p = p_;
    *p = ',';
    p += first_ ? 0 : 1;
    first_ = false;
    *p++ = '"';
    std::memcpy(p, key.data(), key.size());
    p += key.size();
    *p++ = '"';
    *p++ = ':';
    return p;
  }
  char* element_(size_t value_room) {
    room_(1 + value_room);
    char* p = p_;
    *p = ',';
    p += first_ ? 0 : 1;
    first_ = false;
    return p;
  }
  char* long_key_(std::string_view key, size_t value_room);
  // Appends pre-formatted text.
  void put_(std::string_view s) {
    if (s.size() <= static_cast<size_t>(buf_ + kBuf - p_)) {
      std::memcpy(p_, s.data(), s.size());
      p_ += s.size();
    } else {
      flush_();
      out_.append(s);
    }
  }
  // The escaped string and its closing quote (the opening one is written).
  void string_body_(std::string_view s);

  std::string& out_;
  bool first_ = true;
  bool each_field_;
  char* p_ = buf_;
  char buf_[kBuf];
};

}  // namespace trawl::output

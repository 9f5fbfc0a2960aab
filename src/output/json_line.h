// JsonLine: builds one JSON object into a string without allocation per field,
// with deterministic number formatting. Keys are trusted literals; string
// values are escaped (control characters, quotes, invalid UTF-8 as \u00XX).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace trawl::output {

void append_json_string(std::string& out, std::string_view s);

class JsonLine {
 public:
  explicit JsonLine(std::string& out) : out_(out) { out_.push_back('{'); }
  JsonLine& str(std::string_view key, std::string_view value) {
    key_(key);
    append_json_string(out_, value);
    return *this;
  }
  JsonLine& u64(std::string_view key, uint64_t value);
  JsonLine& i64(std::string_view key, int64_t value);
  JsonLine& boolean(std::string_view key, bool value) {
    key_(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  // Pre-formatted JSON (a number, array or object).
  JsonLine& raw(std::string_view key, std::string_view json) {
    key_(key);
    out_ += json;
    return *this;
  }
  void end() { out_ += "}\n"; }
  void end_object() { out_.push_back('}'); }

 private:
  void key_(std::string_view key) {
    // One append of `,"key":` (keys are short literals).
    char buf[64];
    if (key.size() > sizeof buf - 4) [[unlikely]] {
      if (!first_) out_.push_back(',');
      first_ = false;
      out_.push_back('"');
      out_ += key;
      out_ += "\":";
      return;
    }
    size_t n = 0;
    if (!first_) buf[n++] = ',';
    first_ = false;
    buf[n++] = '"';
    std::memcpy(buf + n, key.data(), key.size());
    n += key.size();
    buf[n++] = '"';
    buf[n++] = ':';
    out_.append(buf, n);
  }
  std::string& out_;
  bool first_ = true;
};

}  // namespace trawl::output

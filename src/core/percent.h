// Hex digits and RFC 3986 percent-decoding, one copy for the HTTP and MIME
// parsers, intel's URL normalization and the ClickHouse URL.
#pragma once

#include <string>
#include <string_view>

namespace trawl::core {

// 0-15 for a hex digit, else -1.
constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// For what a capture holds: a '%' not followed by two hex digits stays as it
// is; '+' is a space when plus_as_space (form bodies).
inline std::string percent_decode(std::string_view s, bool plus_as_space = false) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// For what a user typed (a URL on the command line): false on a '%' not
// followed by two hex digits, and on %00, which would cut the text short
// wherever it is passed on as a C string.
inline bool percent_decode_strict(std::string_view s, std::string& out) {
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return false;
    const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

}  // namespace trawl::core

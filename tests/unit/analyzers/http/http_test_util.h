// Shared builders for the HTTP analyzer tests: base64 and NTLMSSP messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace trawl::analyzers::http::test_util {

inline std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<uint8_t>(in[i])} << 16) | (uint32_t{static_cast<uint8_t>(in[i + 1])} << 8) |
                       static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint32_t{static_cast<uint8_t>(in[i])} << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint32_t{static_cast<uint8_t>(in[i])} << 16) | (uint32_t{static_cast<uint8_t>(in[i + 1])} << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

inline void put_le16(std::string& s, size_t at, uint32_t v) {
  s[at] = static_cast<char>(v & 0xff);
  s[at + 1] = static_cast<char>((v >> 8) & 0xff);
}
inline void put_le32(std::string& s, size_t at, uint32_t v) {
  put_le16(s, at, v & 0xffff);
  put_le16(s, at + 2, v >> 16);
}

inline std::string utf16le(std::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    out.push_back(c);
    out.push_back('\0');
  }
  return out;
}

// NTLMSSP NEGOTIATE (type 1).
inline std::string ntlm_negotiate() {
  std::string m("NTLMSSP\0", 8);
  m.resize(32, '\0');
  put_le32(m, 8, 1);
  put_le32(m, 12, 0xe2088297u);
  return m;
}

// NTLMSSP AUTHENTICATE (type 3) with the given names; payload after a
// 64-byte header (no version, no MIC). unicode: names in UTF-16LE.
inline std::string ntlm_authenticate(std::string_view domain, std::string_view user, std::string_view host,
                                     bool unicode = true) {
  std::string m("NTLMSSP\0", 8);
  m.resize(64, '\0');
  put_le32(m, 8, 3);
  put_le32(m, 60, unicode ? 0xe2088215u : 0xe2088214u);
  const std::string lm(24, '\x11');
  const std::string nt(24, '\x22');
  auto field = [&](size_t at, const std::string& data) {
    put_le16(m, at, static_cast<uint32_t>(data.size()));
    put_le16(m, at + 2, static_cast<uint32_t>(data.size()));
    put_le32(m, at + 4, static_cast<uint32_t>(m.size()));
    m += data;
  };
  auto text = [&](std::string_view s) { return unicode ? utf16le(s) : std::string(s); };
  field(12, lm);
  field(20, nt);
  field(28, text(domain));
  field(36, text(user));
  field(44, text(host));
  field(52, std::string());
  return m;
}

}  // namespace trawl::analyzers::http::test_util

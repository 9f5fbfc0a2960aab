// Helpers for the SMTP and MIME tests: encoders that build test messages from
// known payloads (so expected sizes come from the payload, not from a number
// typed into the test), a Dispatcher harness and record accessors.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/common/auth_record.h"
#include "analyzers/dispatcher.h"
#include "analyzers/smtp/smtp_record.h"
#include "flow/conn_record.h"

namespace trawl::analyzers::smtp::test_util {

inline std::string b64(std::string_view in, size_t line_len = 76) {
  static const char kAlpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t col = 0;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (i + 2 < in.size()) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 2]));
    out.push_back(kAlpha[(v >> 18) & 63]);
    out.push_back(kAlpha[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlpha[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < in.size() ? kAlpha[v & 63] : '=');
    col += 4;
    if (line_len != 0 && col >= line_len && i + 3 < in.size()) {
      out += "\r\n";
      col = 0;
    }
  }
  return out;
}

// Quoted-printable of `in` whose line breaks are CRLF: CRLF stays a hard
// break, '=' and bytes outside printable ASCII are escaped, a space or tab
// before a line end is escaped, long lines get soft breaks.
inline std::string qp(std::string_view in) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  size_t col = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == '\r' && i + 1 < in.size() && in[i + 1] == '\n') {
      out += "\r\n";
      ++i;
      col = 0;
      continue;
    }
    const bool at_eol = i + 1 == in.size() || (in[i + 1] == '\r' && i + 2 < in.size() && in[i + 2] == '\n');
    std::string piece;
    if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol)) {
      piece.push_back(static_cast<char>(c));
    } else {
      piece = {'=', kHex[c >> 4], kHex[c & 15]};
    }
    if (col + piece.size() > 75) {
      out += "=\r\n";
      col = 0;
    }
    out += piece;
    col += piece.size();
  }
  return out;
}

// Deterministic bytes of every value (a binary attachment).
inline std::string binary_payload(size_t n, uint32_t seed = 7) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (char& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>((x >> 16) & 0xff);
  }
  return s;
}

// Text lines joined with CRLF; trailing spaces included on purpose.
inline std::string text_payload(size_t lines) {
  std::string s;
  for (size_t i = 0; i < lines; ++i) {
    s += "Line " + std::to_string(i) + " = caf\xc3\xa9 \t tabs and = signs ";
    if (i + 1 < lines) s += "\r\n";
  }
  return s;
}

// SMTP dot-stuffing of a message body (CRLF lines).
inline std::string dot_stuff(std::string_view body) {
  std::string out;
  bool line_start = true;
  for (char c : body) {
    if (line_start && c == '.') out.push_back('.');
    out.push_back(c);
    line_start = c == '\n';
  }
  return out;
}

inline core::Timestamp at(int64_t ms) { return core::Timestamp::from_sec_nsec(1254722768, 0) + ms * 1000000; }

inline ConnInfo smtp_conn(uint16_t resp_p = 25) {
  ConnInfo c;
  c.uid = "CSmtpTest00000001";
  c.orig_h = *core::IpAddress::parse("10.10.1.4");
  c.resp_h = *core::IpAddress::parse("74.53.140.153");
  c.orig_p = 1470;
  c.resp_p = resp_p;
  c.proto = 6;
  return c;
}

// A Dispatcher over the real registry. Each call of c()/s() is one delivery.
struct Harness {
  explicit Harness(const ConnInfo& info = smtp_conn(), bool reveal = false)
      : config(make_config(reveal)), d(info, config, anomalies, sink, registry()) {}

  static AnalyzerConfig make_config(bool reveal) {
    AnalyzerConfig c;
    c.reveal_credentials = reveal;
    return c;
  }
  void c(std::string_view s) { send(true, s); }
  void s(std::string_view s) { send(false, s); }
  void send(bool is_orig, std::string_view s) {
    d.stream_data(is_orig, {reinterpret_cast<const uint8_t*>(s.data()), s.size()}, at(++clock));
  }
  void gap(bool is_orig, uint64_t n) { d.stream_gap(is_orig, n, at(++clock)); }
  void finish() { d.finish(at(++clock), rec); }

  std::vector<const SmtpRecord*> smtp() const {
    std::vector<const SmtpRecord*> v;
    for (const auto& r : sink) {
      if (auto* m = dynamic_cast<const SmtpRecord*>(r.get())) v.push_back(m);
    }
    return v;
  }
  std::vector<const AuthRecord*> auth() const {
    std::vector<const AuthRecord*> v;
    for (const auto& r : sink) {
      if (auto* m = dynamic_cast<const AuthRecord*>(r.get())) v.push_back(m);
    }
    return v;
  }
  std::string json() const {
    std::string out;
    for (const auto& r : sink) r->write_json(out);
    return out;
  }

  AnalyzerConfig config;
  core::Anomalies anomalies;
  std::vector<std::unique_ptr<Record>> sink;
  Dispatcher d;
  flow::ConnRecord rec;
  int64_t clock = 0;
};

}  // namespace trawl::analyzers::smtp::test_util

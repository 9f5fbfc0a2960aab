// Helpers for the RDP analyzer tests: a Dispatcher with its sink and the
// segment fixtures in tests/unit/analyzers/rdp/data/ (connections of
// tests/data/crafted/rdp/rdp_sessions.pcap, written by
// tests/integration/ssh_rdp_segments.py: "c|s MICROS HEX" per line).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/common/auth_record.h"
#include "analyzers/dispatcher.h"
#include "analyzers/rdp/rdp_record.h"
#include "flow/conn_record.h"

namespace trawl::analyzers::rdp::test {

struct Segment {
  bool is_orig = true;
  int64_t micros = 0;
  std::vector<uint8_t> bytes;
};

inline std::vector<uint8_t> from_hex(std::string_view hex) {
  std::vector<uint8_t> out;
  auto nib = [](char c) -> int { return c >= '0' && c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    if (hex[i] == ' ') {
      --i;
      continue;
    }
    out.push_back(static_cast<uint8_t>(nib(hex[i]) * 16 + nib(hex[i + 1])));
  }
  return out;
}

inline std::vector<Segment> load_segments(std::string_view name) {
  // From the build's data-folder macro, not __FILE__ (which ccache may make relative).
  std::ifstream f(std::string(TRAWL_TEST_DATA "/../unit/analyzers/rdp/data/") + std::string(name));
  std::vector<Segment> out;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string dir, hex;
    Segment s;
    in >> dir >> s.micros >> hex;
    s.is_orig = dir == "c";
    s.bytes = from_hex(hex);
    out.push_back(std::move(s));
  }
  return out;
}

struct RdpConn {
  core::Anomalies anomalies;
  std::vector<std::unique_ptr<Record>> sink;
  flow::ConnInfo info;
  std::unique_ptr<Dispatcher> d;
  flow::ConnRecord conn;
  core::Timestamp t0 = core::Timestamp::from_sec_nsec(1700000000, 0);

  explicit RdpConn(uint16_t resp_p = 3389) {
    info.uid = "CrdpTest1";
    info.orig_h = core::IpAddress::parse("10.0.0.6").value();
    info.resp_h = core::IpAddress::parse("10.0.0.20").value();
    info.orig_p = 49300;
    info.resp_p = resp_p;
    info.proto = 6;
    info.start = t0;
    d = std::make_unique<Dispatcher>(info, AnalyzerConfig{}, anomalies, sink, registry());
  }
  core::Timestamp at(int64_t micros) const { return t0 + micros * 1000; }
  void send(bool is_orig, const std::vector<uint8_t>& b, int64_t micros = 0) {
    d->stream_data(is_orig, core::ByteView(b.data(), b.size()), at(micros));
  }
  void replay(const std::vector<Segment>& segs) {
    for (const Segment& s : segs) send(s.is_orig, s.bytes, s.micros);
  }
  void end(int64_t micros = 1000000) {
    d->stream_end(true, at(micros));
    d->stream_end(false, at(micros));
    d->finish(at(micros), conn);
  }
  std::vector<const RdpRecord*> rdp() const {
    std::vector<const RdpRecord*> out;
    for (const auto& r : sink) {
      if (auto* x = dynamic_cast<const RdpRecord*>(r.get())) out.push_back(x);
    }
    return out;
  }
  std::vector<const AuthRecord*> auth() const {
    std::vector<const AuthRecord*> out;
    for (const auto& r : sink) {
      if (auto* a = dynamic_cast<const AuthRecord*>(r.get())) out.push_back(a);
    }
    return out;
  }
};

// Little-endian / TPKT builders for hand-made PDUs.
struct Bytes {
  std::vector<uint8_t> b;
  Bytes& u8(unsigned v) {
    b.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  Bytes& le16(unsigned v) { return u8(v & 0xff).u8((v >> 8) & 0xff); }
  Bytes& le32(uint32_t v) { return le16(v & 0xffff).le16(v >> 16); }
  Bytes& raw(std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& raw(const std::vector<uint8_t>& v) {
    b.insert(b.end(), v.begin(), v.end());
    return *this;
  }
};

inline std::vector<uint8_t> tpkt(const std::vector<uint8_t>& payload) {
  Bytes t;
  const size_t n = payload.size() + 4;
  t.u8(3).u8(0).u8((n >> 8) & 0xff).u8(n & 0xff).raw(payload);
  return t.b;
}

// X.224 Connection Request/Confirm with the given variable part.
inline std::vector<uint8_t> x224(uint8_t code, const std::vector<uint8_t>& variable) {
  Bytes x;
  x.u8(static_cast<unsigned>(6 + variable.size())).u8(code).le16(0).le16(code == 0xd0 ? 0x3412 : 0).u8(0).raw(variable);
  return tpkt(x.b);
}

inline std::vector<uint8_t> neg(uint8_t type, uint8_t flags, uint32_t value) {
  Bytes n;
  n.u8(type).u8(flags).le16(8).le32(value);
  return n.b;
}

}  // namespace trawl::analyzers::rdp::test

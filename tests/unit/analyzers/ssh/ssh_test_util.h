// Helpers for the SSH analyzer tests: a Dispatcher with its sink, segment
// fixtures (tests/unit/analyzers/ssh/data/*.txt, "c|s MICROS HEX" per line,
// written by tests/integration/ssh_rdp_segments.py) and an SSH message builder.
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
#include "analyzers/ssh/ssh_record.h"
#include "flow/conn_record.h"

namespace trawl::analyzers::ssh::test {

struct Segment {
  bool is_orig = true;
  int64_t micros = 0;
  std::vector<uint8_t> bytes;
};

inline std::string fixture_path(std::string_view name) {
  // From the build's data-folder macro, not __FILE__ (which ccache may make relative).
  return std::string(TRAWL_TEST_DATA "/../unit/analyzers/ssh/data/") + std::string(name);
}

inline std::vector<uint8_t> from_hex(std::string_view hex) {
  std::vector<uint8_t> out;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(nib(hex[i]) * 16 + nib(hex[i + 1])));
  }
  return out;
}

inline std::vector<Segment> load_segments(std::string_view name) {
  std::vector<Segment> out;
  std::ifstream f(fixture_path(name));
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

// One connection driven through a Dispatcher with the real registry.
struct SshConn {
  core::Anomalies anomalies;
  std::vector<std::unique_ptr<Record>> sink;
  flow::ConnInfo info;
  std::unique_ptr<Dispatcher> d;
  flow::ConnRecord conn;
  core::Timestamp t0 = core::Timestamp::from_sec_nsec(1427000000, 0);

  explicit SshConn(uint16_t resp_p = 22, AnalyzerConfig config = {}) {
    info.uid = "CsshTest1";
    info.orig_h = core::IpAddress::parse("192.168.56.1").value();
    info.resp_h = core::IpAddress::parse("192.168.56.103").value();
    info.orig_p = 55470;
    info.resp_p = resp_p;
    info.proto = 6;
    info.start = t0;
    d = std::make_unique<Dispatcher>(info, config, anomalies, sink, registry());
  }
  core::Timestamp at(int64_t micros) const { return t0 + micros * 1000; }
  void send(bool is_orig, const std::vector<uint8_t>& b, int64_t micros = 0) {
    d->stream_data(is_orig, core::ByteView(b.data(), b.size()), at(micros));
  }
  void send(bool is_orig, std::string_view s, int64_t micros = 0) {
    d->stream_data(is_orig, core::ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()), at(micros));
  }
  void replay(const std::vector<Segment>& segs) {
    for (const Segment& s : segs) send(s.is_orig, s.bytes, s.micros);
  }
  void end(int64_t micros = 10000000) {
    d->stream_end(true, at(micros));
    d->stream_end(false, at(micros));
    d->finish(at(micros), conn);
  }
  std::vector<const SshRecord*> ssh() const {
    std::vector<const SshRecord*> out;
    for (const auto& r : sink) {
      if (auto* s = dynamic_cast<const SshRecord*>(r.get())) out.push_back(s);
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
  uint64_t anomaly(const core::AnomalyId& id) const { return anomalies.count(id); }
};

// Builds SSH binary packets and their fields.
struct Bytes {
  std::vector<uint8_t> b;
  Bytes& u8(unsigned v) {
    b.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  Bytes& u32(uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) u8((v >> s) & 0xff);
    return *this;
  }
  Bytes& raw(std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& raw(const std::vector<uint8_t>& v) {
    b.insert(b.end(), v.begin(), v.end());
    return *this;
  }
  Bytes& str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    return raw(s);
  }
  Bytes& str(const std::vector<uint8_t>& v) {
    u32(static_cast<uint32_t>(v.size()));
    return raw(v);
  }
};

// Wraps a payload in an unencrypted binary packet (block size 8, padding >= 4).
inline std::vector<uint8_t> packet(const std::vector<uint8_t>& payload) {
  size_t pad = 8 - (payload.size() + 5) % 8;
  if (pad < 4) pad += 8;
  Bytes p;
  p.u32(static_cast<uint32_t>(payload.size() + pad + 1)).u8(static_cast<unsigned>(pad)).raw(payload);
  for (size_t i = 0; i < pad; ++i) p.u8(0);
  return p.b;
}

struct KexLists {
  std::string kex = "curve25519-sha256,ecdh-sha2-nistp256";
  std::string host_key = "ssh-ed25519,rsa-sha2-512";
  std::string enc = "chacha20-poly1305@openssh.com,aes128-ctr";
  std::string mac = "umac-64-etm@openssh.com,hmac-sha2-256";
  std::string comp = "none,zlib@openssh.com";
};

inline std::vector<uint8_t> kexinit(const KexLists& k) {
  Bytes p;
  p.u8(20);
  for (int i = 0; i < 16; ++i) p.u8(static_cast<unsigned>(i));
  p.str(k.kex).str(k.host_key).str(k.enc).str(k.enc).str(k.mac).str(k.mac).str(k.comp).str(k.comp).str("").str("");
  p.u8(0).u32(0);
  return packet(p.b);
}

// An ssh-ed25519 public key blob.
inline std::vector<uint8_t> ed25519_blob() {
  Bytes k;
  std::vector<uint8_t> key(32);
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(0xa0 + i);
  k.str("ssh-ed25519").str(key);
  return k.b;
}

// KEX_ECDH_REPLY (31): K_S, Q_S, signature.
inline std::vector<uint8_t> ecdh_reply(const std::vector<uint8_t>& host_key) {
  Bytes p;
  p.u8(31).str(host_key).str(std::string(32, 'q')).str(std::string(83, 's'));
  return packet(p.b);
}

inline std::vector<uint8_t> newkeys() { return packet({21}); }

inline std::vector<uint8_t> noise(size_t n, uint8_t seed = 0x5a) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 37);
  return v;
}

}  // namespace trawl::analyzers::ssh::test

// Helpers for the ssl analyzer tests: the byte streams in data/*.tls (written
// by make_handshakes.py: chunks of direction byte, 4-byte length, payload),
// a Dispatcher harness over the real registry, and a TLS message builder.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/dispatcher.h"
#include "analyzers/ssl/ssl_record.h"
#include "flow/conn_record.h"

namespace trawl::analyzers::ssl::test {

struct Chunk {
  bool is_orig = true;
  std::vector<uint8_t> bytes;
};

inline std::string data_path(std::string_view name) {
  // From the build's data-folder macro, not __FILE__ (which ccache may make relative).
  return std::string(TRAWL_TEST_DATA "/../unit/analyzers/ssl/data/") + std::string(name);
}

inline std::vector<uint8_t> read_file(std::string_view name) {
  std::ifstream f(data_path(name), std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline std::vector<Chunk> load_chunks(std::string_view name) {
  const std::vector<uint8_t> raw = read_file(std::string(name) + ".tls");
  std::vector<Chunk> out;
  size_t pos = 0;
  while (pos + 5 <= raw.size()) {
    const size_t len = (size_t{raw[pos + 1]} << 24) | (size_t{raw[pos + 2]} << 16) | (size_t{raw[pos + 3]} << 8) |
                       raw[pos + 4];
    if (pos + 5 + len > raw.size()) break;
    Chunk c;
    c.is_orig = raw[pos] == 0;
    c.bytes.assign(raw.begin() + static_cast<std::ptrdiff_t>(pos + 5),
                   raw.begin() + static_cast<std::ptrdiff_t>(pos + 5 + len));
    out.push_back(std::move(c));
    pos += 5 + len;
  }
  return out;
}

// The payload of one direction, all chunks joined.
inline std::vector<uint8_t> direction(const std::vector<Chunk>& chunks, bool is_orig) {
  std::vector<uint8_t> out;
  for (const Chunk& c : chunks) {
    if (c.is_orig == is_orig) out.insert(out.end(), c.bytes.begin(), c.bytes.end());
  }
  return out;
}

// One connection driven through a Dispatcher with the real registry.
struct TlsConn {
  core::Anomalies anomalies;
  std::vector<std::unique_ptr<Record>> sink;
  flow::ConnInfo info;
  std::unique_ptr<Dispatcher> d;
  flow::ConnRecord conn;
  core::Timestamp t0 = core::Timestamp::from_sec_nsec(1700000000, 0);
  int64_t step = 0;

  explicit TlsConn(uint16_t resp_p = 443) {
    info.uid = "CsslTest000000001";
    info.orig_h = core::IpAddress::parse("10.9.0.10").value();
    info.resp_h = core::IpAddress::parse("10.9.1.1").value();
    info.orig_p = 40000;
    info.resp_p = resp_p;
    info.proto = 6;
    info.start = t0;
    d = std::make_unique<Dispatcher>(info, AnalyzerConfig{}, anomalies, sink, registry());
  }
  core::Timestamp next() { return t0 + (++step) * 1000000; }  // 1 ms per delivery
  void send(bool is_orig, const std::vector<uint8_t>& b) {
    if (d->wants_data()) d->stream_data(is_orig, core::ByteView(b.data(), b.size()), next());
  }
  // Delivers each chunk in pieces of at most `piece` bytes (0: whole chunks);
  // all pieces of one chunk carry the chunk's time.
  void replay(const std::vector<Chunk>& chunks, size_t piece = 0) {
    for (const Chunk& c : chunks) {
      const core::Timestamp t = next();
      const size_t n = piece == 0 ? c.bytes.size() : piece;
      for (size_t off = 0; off < c.bytes.size() && d->wants_data(); off += n) {
        const size_t len = std::min(n, c.bytes.size() - off);
        d->stream_data(c.is_orig, core::ByteView(c.bytes.data() + off, len), t);
      }
    }
  }
  void end() {
    const core::Timestamp t = next();
    d->stream_end(true, t);
    d->stream_end(false, t);
    d->finish(t, conn);
  }
  std::vector<const SslRecord*> ssl() const {
    std::vector<const SslRecord*> out;
    for (const auto& r : sink) {
      if (auto* s = dynamic_cast<const SslRecord*>(r.get())) out.push_back(s);
    }
    return out;
  }
  std::string json() const {
    std::string out;
    for (const auto& r : sink) r->write_json(out);
    return out;
  }
  uint64_t anomaly(const core::AnomalyId& id) const { return anomalies.count(id); }
};

// Builds TLS records and handshake messages.
struct Bytes {
  std::vector<uint8_t> b;
  Bytes& u8(unsigned v) {
    b.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  Bytes& u16(unsigned v) { return u8(v >> 8).u8(v); }
  Bytes& u24(unsigned v) { return u8(v >> 16).u8(v >> 8).u8(v); }
  Bytes& raw(const std::vector<uint8_t>& v) {
    b.insert(b.end(), v.begin(), v.end());
    return *this;
  }
  Bytes& str(std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& fill(size_t n, uint8_t v) {
    b.insert(b.end(), n, v);
    return *this;
  }
  size_t size() const { return b.size(); }
};

inline std::vector<uint8_t> u16_vector(const std::vector<uint16_t>& v, bool one_byte_len = false) {
  Bytes x;
  if (one_byte_len) {
    x.u8(static_cast<unsigned>(v.size() * 2));
  } else {
    x.u16(static_cast<unsigned>(v.size() * 2));
  }
  for (uint16_t e : v) x.u16(e);
  return x.b;
}

struct Ext {
  uint16_t type;
  std::vector<uint8_t> data;
};

inline Ext sni_ext(std::string_view host) {
  Bytes x;
  x.u16(static_cast<unsigned>(host.size() + 3)).u8(0).u16(static_cast<unsigned>(host.size())).str(host);
  return {0, x.b};
}

inline Ext alpn_ext(const std::vector<std::string>& names) {
  Bytes list;
  for (const auto& n : names) list.u8(static_cast<unsigned>(n.size())).str(n);
  Bytes x;
  x.u16(static_cast<unsigned>(list.size())).raw(list.b);
  return {16, x.b};
}

// A ClientHello handshake message (4-byte header included).
inline std::vector<uint8_t> client_hello(uint16_t version, const std::vector<uint16_t>& ciphers,
                                         const std::vector<Ext>& exts, std::string_view session_id = {}) {
  Bytes body;
  body.u16(version).fill(32, 0x11).u8(static_cast<unsigned>(session_id.size())).str(session_id);
  body.raw(u16_vector(ciphers)).u8(1).u8(0);
  Bytes ext;
  for (const Ext& e : exts) ext.u16(e.type).u16(static_cast<unsigned>(e.data.size())).raw(e.data);
  body.u16(static_cast<unsigned>(ext.size())).raw(ext.b);
  Bytes m;
  m.u8(1).u24(static_cast<unsigned>(body.size())).raw(body.b);
  return m.b;
}

inline std::vector<uint8_t> server_hello(uint16_t version, uint16_t cipher, const std::vector<Ext>& exts,
                                         std::string_view session_id = {}) {
  Bytes body;
  body.u16(version).fill(32, 0x22).u8(static_cast<unsigned>(session_id.size())).str(session_id);
  body.u16(cipher).u8(0);
  Bytes ext;
  for (const Ext& e : exts) ext.u16(e.type).u16(static_cast<unsigned>(e.data.size())).raw(e.data);
  if (!exts.empty()) body.u16(static_cast<unsigned>(ext.size())).raw(ext.b);
  Bytes m;
  m.u8(2).u24(static_cast<unsigned>(body.size())).raw(body.b);
  return m.b;
}

// One TLS record around `body`.
inline std::vector<uint8_t> record(uint8_t type, const std::vector<uint8_t>& body, uint16_t version = 0x0303) {
  Bytes r;
  r.u8(type).u16(version).u16(static_cast<unsigned>(body.size())).raw(body);
  return r.b;
}

}  // namespace trawl::analyzers::ssl::test

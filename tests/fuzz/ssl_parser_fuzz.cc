// Fuzz target for the TLS analyzer (analyzers/ssl): records, handshake
// messages, certificates and fingerprints.
//
// Input: [split: 2 bytes BE][piece: 1 byte] then the bytes; the first `split`
// bytes are the client's stream, the rest the server's. Both streams go
// through the record and handshake layers (in pieces of `piece` bytes) with
// every message decoded (hellos, certificate lists, each DER through OpenSSL,
// ServerKeyExchange) and fingerprinted; then the same two streams drive a
// whole connection through the Dispatcher (probe, SslAnalyzer, record JSON).
// The whole input is also decoded directly as a ClientHello, ServerHello,
// SSLv2 hello, certificate list and one DER certificate, and checked for the
// limits the parser promises.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "analyzers/dispatcher.h"
#include "analyzers/registry.h"
#include "analyzers/ssl/tls_fingerprint.h"
#include "analyzers/ssl/tls_parser.h"
#include "analyzers/ssl/x509_cert.h"
#include "core/anomalies.h"
#include "flow/conn_record.h"

namespace {

using namespace trawl::analyzers::ssl;
using trawl::core::ByteView;

volatile uint64_t g_sink;

uint64_t touch(const std::string& s) {
  uint64_t sum = s.size();
  for (char c : s) sum += static_cast<unsigned char>(c);
  return sum;
}

void check_hello(const ClientHello& ch, const TlsLimits& limits) {
  if (ch.extensions.size() > limits.max_extensions || ch.server_name.size() > limits.max_server_name ||
      ch.alpn.size() > limits.max_alpn || ch.session_id.size() > 32) {
    __builtin_trap();
  }
  for (const auto& a : ch.alpn) {
    if (a.size() > limits.max_alpn_name) __builtin_trap();
  }
  const std::string j4 = ja4(ch);
  if (!ch.ssl2 && j4.size() != 36) __builtin_trap();  // "t13d1516h2_" + 12 + "_" + 12
  g_sink = g_sink + touch(ja3(ch)) + touch(ja3_string(ch)) + touch(j4) + touch(ja4_raw(ch)) + touch(ch.server_name);
}

void decode_certificates(ByteView body, trawl::core::Anomalies& a, const TlsLimits& limits) {
  std::vector<ByteView> certs;
  parse_certificate_list(body, certs, a, limits);
  if (certs.size() > limits.max_certificates) __builtin_trap();
  for (ByteView der : certs) {
    if (der.data() < body.data() || der.data() + der.size() > body.data() + body.size()) __builtin_trap();
    CertInfo info;
    if (der.size() <= limits.max_certificate && parse_x509(der, info)) {
      uint64_t sum = touch(info.subject) + touch(info.issuer) + touch(info.common_name);
      for (const auto& n : info.san_dns) sum += touch(n) + (hostname_matches_pattern("www.example.com", n) ? 1 : 0);
      g_sink = g_sink + sum + static_cast<uint64_t>(info.not_before);
    }
    g_sink = g_sink + touch(sha256_hex(der));
  }
}

void decode_message(uint8_t type, ByteView body, trawl::core::Anomalies& a, const TlsLimits& limits) {
  switch (type) {
    case kHsClientHello: {
      ClientHello ch;
      if (parse_client_hello(body, ch, a, limits) != ParseResult::kError) check_hello(ch, limits);
      break;
    }
    case kHsServerHello: {
      ServerHello sh;
      if (parse_server_hello(body, sh, a, limits) != ParseResult::kError) {
        if (sh.extensions.size() > limits.max_extensions) __builtin_trap();
        g_sink = g_sink + touch(ja3s(sh)) + touch(ja4s(sh)) + touch(sh.alpn);
      }
      break;
    }
    case kHsCertificate:
      decode_certificates(body, a, limits);
      break;
    case kHsServerKeyExchange:
      if (auto c = server_key_exchange_curve(body)) g_sink = g_sink + *c;
      break;
    default:
      break;
  }
}

// Record and handshake layers of one direction, every message decoded.
class Direction final : public RecordHandler, public HandshakeHandler {
 public:
  Direction(const TlsLimits& limits, bool client) : limits_(limits), records_(limits, client), hs_(limits) {}

  void feed(ByteView data, size_t piece) {
    for (size_t off = 0; off < data.size(); off += piece) {
      const size_t n = std::min(piece, data.size() - off);
      // A private copy: the parser must not read past the piece it was given.
      std::unique_ptr<uint8_t[]> copy(new uint8_t[n]);
      std::memcpy(copy.get(), data.data() + off, n);
      if (records_.feed(ByteView(copy.get(), n), *this, anomalies_) != TlsRecordReader::Status::kOk) return;
    }
    if (hs_.pending() > limits_.max_handshake_message + 4) __builtin_trap();
  }

  RecordAction record_begin(const RecordHeader& h) override {
    if (h.length > limits_.max_record_body && !h.ssl2) __builtin_trap();
    type_ = h.ssl2 ? 0 : h.content_type;
    ssl2_.clear();
    return (h.ssl2 || h.content_type == kContentHandshake) ? RecordAction::kDeliver : RecordAction::kSkip;
  }
  void record_data(ByteView piece) override {
    if (type_ == 0) {
      ssl2_.insert(ssl2_.end(), piece.begin(), piece.end());
    } else {
      hs_.feed(piece, *this, anomalies_);
    }
  }
  bool record_end() override {
    if (type_ == 0 && !ssl2_.empty()) {
      ClientHello ch;
      if (parse_ssl2_client_hello(ByteView(ssl2_.data(), ssl2_.size()), ch, anomalies_) == ParseResult::kOk) {
        check_hello(ch, limits_);
      }
    }
    return true;
  }
  bool handshake_message(uint8_t type, ByteView body) override {
    if (body.size() > limits_.max_handshake_message) __builtin_trap();
    decode_message(type, body, anomalies_, limits_);
    return true;
  }
  void handshake_skipped(uint8_t type, uint32_t length) override {
    if (length <= limits_.max_handshake_message) __builtin_trap();
    g_sink = g_sink + type;
  }

 private:
  const TlsLimits& limits_;
  TlsRecordReader records_;
  HandshakeReader hs_;
  trawl::core::Anomalies anomalies_;
  uint8_t type_ = 0;
  std::vector<uint8_t> ssl2_;
};

void whole_connection(ByteView client, ByteView server, size_t piece) {
  trawl::core::Anomalies anomalies;
  std::vector<std::unique_ptr<trawl::analyzers::Record>> sink;
  trawl::flow::ConnInfo info;
  info.uid = "CfuzzSsl000000001";
  info.orig_p = 40000;
  info.resp_p = 443;
  info.proto = 6;
  trawl::analyzers::Dispatcher d(info, {}, anomalies, sink, trawl::analyzers::registry());
  trawl::core::Timestamp t{0};
  size_t c = 0, s = 0;
  // Alternate pieces of both directions, as a conversation would.
  while ((c < client.size() || s < server.size()) && d.wants_data()) {
    if (c < client.size()) {
      const size_t n = std::min(piece, client.size() - c);
      d.stream_data(true, client.subspan(c, n), t);
      c += n;
    }
    if (s < server.size() && d.wants_data()) {
      const size_t n = std::min(piece, server.size() - s);
      d.stream_data(false, server.subspan(s, n), t);
      s += n;
    }
    t = t + 1000;
  }
  d.stream_end(true, t);
  d.stream_end(false, t);
  trawl::flow::ConnRecord rec;
  d.finish(t, rec);
  std::string out;
  for (const auto& r : sink) r->write_json(out);
  g_sink = g_sink + out.size() + rec.service.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const size_t split = std::min<size_t>((size_t{data[0]} << 8) | data[1], size - 3);
  const size_t piece = data[2] == 0 ? size : data[2];
  const ByteView rest(data + 3, size - 3);
  const ByteView client = rest.first(split);
  const ByteView server = rest.subspan(split);

  TlsLimits limits;
  Direction(limits, true).feed(client, piece);
  Direction(limits, false).feed(server, piece);
  TlsLimits small;
  small.max_handshake_message = 512;
  small.max_certificates = 2;
  small.max_extensions = 4;
  small.max_server_name = 5;
  small.max_alpn = 1;
  small.max_alpn_name = 2;
  Direction(small, true).feed(client, 7);
  Direction(small, false).feed(server, 7);

  whole_connection(client, server, piece);

  trawl::core::Anomalies a;
  for (uint8_t type : {kHsClientHello, kHsServerHello, kHsCertificate, kHsServerKeyExchange}) {
    decode_message(type, rest, a, limits);
  }
  ClientHello v2;
  parse_ssl2_client_hello(rest, v2, a);
  CertInfo info;
  if (parse_x509(rest, info)) g_sink = g_sink + touch(info.subject);
  return 0;
}

// The ssl analyzer through a Dispatcher: real TLS 1.2 and 1.3 handshakes
// (full, resumed by session or PSK, with client certificates, rejected with
// an alert) give the ssl.jsonl fields Zeek's ssl.log would hold, with tshark's
// JA3/JA3S; delivery in any pieces gives the same record; the analyzer gives
// up once established; probes, flipped roles, SSLv2, gaps and limits.
#include <gtest/gtest.h>

#include "analyzers/ssl/ssl_analyzer.h"
#include "analyzers/ssl/tls_fingerprint.h"
#include "analyzers/ssl/tls_names.h"
#include "ssl_test_util.h"

namespace trawl::analyzers::ssl {
namespace {

using test::Bytes;
using test::TlsConn;

const SslRecord& only(const TlsConn& r) {
  const auto recs = r.ssl();
  EXPECT_EQ(recs.size(), 1u);
  static const SslRecord kEmpty;
  return recs.empty() ? kEmpty : *recs[0];
}

TEST(SslAnalyzer, RealTls12WithCertificateChain) {
  TlsConn r;
  r.replay(test::load_chunks("pcpp_google_tls12"));
  EXPECT_FALSE(r.d->wants_data());  // gave up once established: no application data reassembled
  r.end();
  EXPECT_EQ(r.conn.service, "ssl");
  const SslRecord& s = only(r);
  EXPECT_EQ(s.version, kTlsV12);
  EXPECT_EQ(cipher_name(*s.cipher), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
  EXPECT_EQ(curve_name(*s.curve), "secp256r1");
  EXPECT_EQ(s.server_name, "www.google.com");
  EXPECT_FALSE(s.resumed);
  EXPECT_EQ(s.next_protocol, "spdy/3.1");
  EXPECT_TRUE(s.established);
  EXPECT_EQ(s.ssl_history, "CsxknGIti");
  ASSERT_EQ(s.cert_chain_fps.size(), 3u);
  EXPECT_EQ(s.cert_chain_fps[0], "79c8ac448434acb8a544812d3864d7fc141549830be0c533c81d395e696ee25a");
  EXPECT_TRUE(s.client_cert_chain_fps.empty());
  EXPECT_EQ(s.subject, "CN=www.google.com,O=Google Inc,L=Mountain View,ST=California,C=US");
  EXPECT_EQ(s.issuer, "CN=Google Internet Authority G2,O=Google Inc,C=US");
  EXPECT_EQ(s.sni_matches_cert, true);
  EXPECT_EQ(s.client_version, 0x0303);
  EXPECT_EQ(s.ja3, "8fbbd0f3c1f089979b04b8f8f1b21d41");
  EXPECT_EQ(s.ja3s, "b898351eb5e266aefd3723d466935494");
  EXPECT_EQ(s.not_valid_before, 1418213139);
  EXPECT_EQ(s.not_valid_after, 1425945600);
  EXPECT_EQ(s.san_dns, (std::vector<std::string>{"www.google.com"}));
  EXPECT_EQ(s.ts, r.t0 + 1000000);  // the ClientHello's delivery
  EXPECT_EQ(r.anomalies.total(), 0u);
  const std::string j = r.json();
  EXPECT_NE(j.find("\"version\":\"TLSv12\",\"cipher\":\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\",\"curve\":"
                   "\"secp256r1\",\"server_name\":\"www.google.com\",\"resumed\":false,\"next_protocol\":"
                   "\"spdy/3.1\",\"established\":true,\"ssl_history\":\"CsxknGIti\",\"cert_chain_fps\":["),
            std::string::npos)
      << j;
  EXPECT_NE(j.find("\"client_cert_chain_fps\":[],\"subject\":"), std::string::npos) << j;
}

TEST(SslAnalyzer, AnySplitGivesTheSameLine) {
  for (const char* name : {"pcpp_google_tls12", "tls13_h2", "tls12_client_cert", "tls12_alert"}) {
    TlsConn whole;
    whole.replay(test::load_chunks(name));
    whole.end();
    for (size_t piece : {1u, 3u, 64u}) {
      TlsConn split;
      split.replay(test::load_chunks(name), piece);
      split.end();
      EXPECT_EQ(split.json(), whole.json()) << name << " piece " << piece;
    }
    EXPECT_EQ(whole.ssl().size(), 1u) << name;
  }
}

TEST(SslAnalyzer, Tls13FullHandshake) {
  TlsConn r;
  r.replay(test::load_chunks("tls13_h2"));
  EXPECT_FALSE(r.d->wants_data());
  r.end();
  const SslRecord& s = only(r);
  EXPECT_EQ(s.version, kTlsV13);
  EXPECT_EQ(cipher_name(*s.cipher), "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(curve_name(*s.curve), "x25519");  // server key_share
  EXPECT_EQ(s.server_name, "www.trawl.test");
  EXPECT_FALSE(s.next_protocol.has_value());  // ALPN is in the encrypted extensions
  EXPECT_TRUE(s.established);
  EXPECT_FALSE(s.resumed);
  EXPECT_EQ(s.ssl_history, "CsiI");
  EXPECT_FALSE(s.has_certificates);  // encrypted in TLS 1.3
  EXPECT_EQ(s.client_version, 0x0303);
  // tshark tls.handshake.ja3 / ja3s of trawl_tls_handshakes.pcap tcp.stream 0.
  EXPECT_EQ(s.ja3, "3adacb99ecb51ed59c4f6c4ed9a7dcaa");
  EXPECT_EQ(s.ja3s, "15af977ce25de452b96affa2addb1036");
  EXPECT_EQ(s.ja4.substr(0, 11), "t13d3112h2_");  // 31 ciphers, 12 extensions
  EXPECT_EQ(s.ja4s.substr(0, 13), "t130200_1302_");
}

TEST(SslAnalyzer, Tls13PskResumption) {
  TlsConn r;
  r.replay(test::load_chunks("tls13_psk_resumed"));
  r.end();
  const SslRecord& s = only(r);
  EXPECT_TRUE(s.resumed);
  EXPECT_TRUE(s.established);
  EXPECT_EQ(s.ssl_history, "CsiI");
  EXPECT_EQ(s.ja3, "c0e5810f00ceee6efc58219761adf1db");
}

TEST(SslAnalyzer, Tls12ChainWildcardSniAndResumption) {
  TlsConn full;
  full.replay(test::load_chunks("tls12_chain"));
  full.end();
  const SslRecord& s = only(full);
  EXPECT_EQ(s.version, kTlsV12);
  EXPECT_EQ(cipher_name(*s.cipher), "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  EXPECT_EQ(curve_name(*s.curve), "x25519");  // ServerKeyExchange (tshark: server_named_curve 0x001d)
  EXPECT_EQ(s.server_name, "v1.api.trawl.test");
  EXPECT_EQ(s.next_protocol, "http/1.1");
  EXPECT_EQ(s.ssl_history, "CsxknGIti");
  EXPECT_EQ(s.cert_chain_fps.size(), 2u);
  EXPECT_EQ(s.subject, "CN=www.trawl.test,O=Trawl Web,C=DE");
  EXPECT_EQ(s.sni_matches_cert, true);  // *.api.trawl.test
  EXPECT_EQ(s.ja3, "22558766122974704364c9c75c5cce0a");
  EXPECT_EQ(s.ja3s, "afbc203706421f15554867b55caf16d6");

  TlsConn again;
  again.replay(test::load_chunks("tls12_resumed"));
  again.end();
  const SslRecord& s2 = only(again);
  EXPECT_TRUE(s2.resumed);
  EXPECT_TRUE(s2.established);
  EXPECT_EQ(s2.ssl_history, "CsiI");
  EXPECT_FALSE(s2.has_certificates);
  EXPECT_EQ(s2.ja3, "33c065cebfce795869cc52f558e4c880");
}

TEST(SslAnalyzer, ClientCertificates) {
  TlsConn r;
  r.replay(test::load_chunks("tls12_client_cert"));
  r.end();
  const SslRecord& s = only(r);
  EXPECT_EQ(s.ssl_history, "CsxkrnXGYIti");
  EXPECT_EQ(s.cert_chain_fps.size(), 2u);
  EXPECT_EQ(s.client_cert_chain_fps, s.cert_chain_fps);  // the client sent the same chain
  EXPECT_EQ(s.client_subject, "CN=www.trawl.test,O=Trawl Web,C=DE");
  EXPECT_EQ(s.client_issuer, "CN=Trawl Test CA,O=Trawl Test,C=DE");
  EXPECT_TRUE(s.established);
}

TEST(SslAnalyzer, RejectedCertificateAlert) {
  TlsConn r(8444);  // not a hint port: found by content
  r.replay(test::load_chunks("tls12_alert"));
  EXPECT_TRUE(r.d->wants_data());  // not established: still following
  EXPECT_TRUE(r.ssl().empty());    // logged when the connection ends
  r.end();
  EXPECT_EQ(r.conn.service, "ssl");
  const SslRecord& s = only(r);
  EXPECT_FALSE(s.established);
  EXPECT_EQ(alert_name(*s.last_alert), "unknown_ca");
  EXPECT_EQ(s.ssl_history, "CsxknL");
  EXPECT_EQ(s.sni_matches_cert, false);  // other.example
  EXPECT_NE(r.json().find("\"last_alert\":\"unknown_ca\""), std::string::npos);
}

// Hand-built flows for the rest.
std::vector<uint8_t> hs_record(const std::vector<uint8_t>& msg) { return test::record(kContentHandshake, msg); }

TEST(SslAnalyzer, Tls13WithoutChangeCipherSpec) {
  TlsConn r;
  Bytes ks;
  ks.u16(23).u16(65).fill(65, 4);
  r.send(true, hs_record(test::client_hello(0x0303, {0x1301}, {{kExtSupportedVersions, {2, 3, 4}}})));
  Bytes srv;
  srv.raw(hs_record(test::server_hello(0x0303, 0x1301, {{kExtSupportedVersions, {3, 4}}, {kExtKeyShare, ks.b}})));
  srv.raw(test::record(kContentApplicationData, std::vector<uint8_t>(40, 1)));
  r.send(false, srv.b);
  EXPECT_TRUE(r.d->wants_data());
  r.send(true, test::record(kContentApplicationData, std::vector<uint8_t>(40, 2)));
  EXPECT_FALSE(r.d->wants_data());
  r.end();
  const SslRecord& s = only(r);
  EXPECT_TRUE(s.established);
  EXPECT_EQ(s.ssl_history, "Cs");
  EXPECT_EQ(curve_name(*s.curve), "secp256r1");
}

TEST(SslAnalyzer, HelloRetryRequest) {
  TlsConn r;
  r.send(true, hs_record(test::client_hello(0x0303, {0x1301}, {test::sni_ext("hrr.example")})));
  std::vector<uint8_t> hrr = test::server_hello(0x0303, 0x1301, {{kExtSupportedVersions, {3, 4}}, {kExtKeyShare, {0, 24}}});
  const uint8_t magic[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
                             0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
                             0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
  std::copy(std::begin(magic), std::end(magic), hrr.begin() + 6);
  r.send(false, hs_record(hrr));
  r.send(true, hs_record(test::client_hello(0x0303, {0x1301}, {test::sni_ext("hrr.example"), {44, {0, 0}}})));
  r.send(false, hs_record(test::server_hello(0x0303, 0x1301, {{kExtSupportedVersions, {3, 4}}})));
  r.end();
  const SslRecord& s = only(r);
  EXPECT_EQ(s.ssl_history, "CjCs");
  EXPECT_EQ(s.version, kTlsV13);
  EXPECT_EQ(curve_name(*s.curve), "secp384r1");
  // Fingerprints of the first ClientHello (without the cookie extension).
  EXPECT_EQ(s.ja4.substr(0, 10), "t12d010100");
}

TEST(SslAnalyzer, SessionIdResumptionTls12) {
  TlsConn r;
  const std::string sid(32, 'S');
  r.send(true, hs_record(test::client_hello(0x0303, {0xc02f}, {}, sid)));
  Bytes srv;
  srv.raw(hs_record(test::server_hello(0x0303, 0xc02f, {}, sid)));
  srv.raw(test::record(kContentChangeCipherSpec, {1}));
  srv.raw(hs_record(std::vector<uint8_t>(40, 9)));  // encrypted Finished
  r.send(false, srv.b);
  Bytes cli;
  cli.raw(test::record(kContentChangeCipherSpec, {1})).raw(hs_record(std::vector<uint8_t>(40, 7)));
  r.send(true, cli.b);
  r.end();
  const SslRecord& s = only(r);
  EXPECT_TRUE(s.resumed);
  EXPECT_TRUE(s.established);
  EXPECT_EQ(s.ssl_history, "CsiI");
  EXPECT_EQ(s.ja3s, md5_hex("771,49199,"));
}

TEST(SslAnalyzer, FlippedRoles) {
  TlsConn r;
  // The responder sends the ClientHello (e.g. the SYN was missed and roles guessed wrong).
  r.send(false, hs_record(test::client_hello(0x0303, {0xc02f}, {test::sni_ext("flip.example")})));
  r.send(true, hs_record(test::server_hello(0x0303, 0xc02f, {})));
  r.end();
  const SslRecord& s = only(r);
  EXPECT_EQ(s.ssl_history, "^Cs");
  EXPECT_EQ(s.server_name, "flip.example");
}

TEST(SslAnalyzer, Ssl2CompatibleClientHello) {
  TlsConn r;
  Bytes v2;
  v2.u8(0x80).u8(9 + 6 + 16).u8(1).u16(0x0301).u16(6).u16(0).u16(16);
  v2.u8(0).u16(0x0035).u8(0x07).u16(0x00c0).fill(16, 0x42);  // TLS_RSA_WITH_AES_256_CBC_SHA, SSL_CK_DES_192_EDE3
  r.send(true, v2.b);
  r.send(false, hs_record(test::server_hello(0x0301, 0x0035, {})));
  r.end();
  EXPECT_EQ(r.conn.service, "ssl");
  const SslRecord& s = only(r);
  EXPECT_EQ(s.client_version, 0x0301);
  EXPECT_EQ(s.ssl_history, "Cs");
  EXPECT_EQ(s.version, kTlsV10);
  EXPECT_TRUE(s.ja3.empty());
  EXPECT_TRUE(s.ja4.empty());
}

TEST(SslAnalyzer, ProbeLeavesOtherProtocolsAlone) {
  for (std::string_view text : {std::string_view("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                                std::string_view("SSH-2.0-OpenSSH_8.9\r\n"),
                                std::string_view("\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00", 10)}) {
    ProbeInput in;
    in.orig = core::ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    in.orig_done = true;
    EXPECT_EQ(probe_ssl(in), Probe::kNo) << text;
  }
  const auto ch = hs_record(test::client_hello(0x0303, {0x1301}, {}));
  ProbeInput in;
  in.orig = core::ByteView(ch.data(), 6);
  EXPECT_EQ(probe_ssl(in), Probe::kMaybe);
  in.orig = core::ByteView(ch.data(), ch.size());
  EXPECT_EQ(probe_ssl(in), Probe::kYes);
  // Only the server's side was captured.
  const auto sh = hs_record(test::server_hello(0x0303, 0x1301, {}));
  ProbeInput srv;
  srv.resp = core::ByteView(sh.data(), sh.size());
  EXPECT_EQ(probe_ssl(srv), Probe::kYes);
  const std::string banner = "220 mail.example ESMTP\r\n";
  srv.resp = core::ByteView(reinterpret_cast<const uint8_t*>(banner.data()), banner.size());
  EXPECT_EQ(probe_ssl(srv), Probe::kNo);

  TlsConn http(443);
  const std::string req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  http.send(true, std::vector<uint8_t>(req.begin(), req.end()));
  http.end();
  EXPECT_TRUE(http.ssl().empty());
  EXPECT_NE(http.conn.service, "ssl");
}

TEST(SslAnalyzer, GapStopsAndLogsWhatWasSeen) {
  TlsConn r;
  const auto chunks = test::load_chunks("tls12_chain");
  r.send(chunks[0].is_orig, chunks[0].bytes);
  r.d->stream_gap(false, 100, r.next());
  EXPECT_FALSE(r.d->wants_data());
  r.end();
  const SslRecord& s = only(r);
  EXPECT_EQ(s.server_name, "v1.api.trawl.test");
  EXPECT_FALSE(s.established);
  EXPECT_EQ(s.ssl_history, "C");
}

TEST(SslAnalyzer, GarbageAfterHelloGivesUp) {
  TlsConn r;
  r.send(true, hs_record(test::client_hello(0x0303, {0x1301}, {})));
  const std::string junk = "this is not a TLS record at all";
  r.send(false, std::vector<uint8_t>(junk.begin(), junk.end()));
  EXPECT_FALSE(r.d->wants_data());
  r.end();
  EXPECT_EQ(r.anomaly(kAnomBadRecordHeader), 1u);
  EXPECT_EQ(only(r).ssl_history, "C");
}

TEST(SslAnalyzer, OneSidedTls13StopsAfterTheLimit) {
  TlsConn r;
  r.send(true, hs_record(test::client_hello(0x0303, {0x1301}, {})));
  r.send(false, hs_record(test::server_hello(0x0303, 0x1301, {{kExtSupportedVersions, {3, 4}}})));
  const auto app = test::record(kContentApplicationData, std::vector<uint8_t>(100, 3));
  int sent = 0;
  while (r.d->wants_data() && sent < 1000) {
    r.send(false, app);
    ++sent;
  }
  EXPECT_EQ(sent, static_cast<int>(SslLimits{}.max_encrypted_records) + 1);
  r.end();
  EXPECT_FALSE(only(r).established);
}

TEST(SslAnalyzer, TooManyHandshakeMessages) {
  TlsConn r;
  r.send(true, hs_record(test::client_hello(0x0303, {0x1301}, {})));
  Bytes many;
  for (int i = 0; i < 100; ++i) many.u8(0).u24(0);  // HelloRequest, empty
  r.send(false, hs_record(many.b));
  EXPECT_FALSE(r.d->wants_data());
  r.end();
  EXPECT_EQ(r.anomaly(kAnomTooManyHandshakeMessages), 1u);
  EXPECT_EQ(only(r).ssl_history.size(), 1u + SslLimits{}.max_handshake_messages);
}

TEST(SslAnalyzer, PlaintextApplicationDataInTls12) {
  TlsConn r;
  r.send(true, hs_record(test::client_hello(0x0303, {0xc02f}, {})));
  r.send(false, hs_record(test::server_hello(0x0303, 0xc02f, {})));
  r.send(true, test::record(kContentApplicationData, {1, 2, 3}));
  r.end();
  EXPECT_EQ(r.anomaly(kAnomPlaintextApplicationData), 1u);
  EXPECT_FALSE(only(r).established);
}

TEST(SslAnalyzer, OversizeCertificateIsFingerprintedNotDecoded) {
  TlsConn r;
  r.send(true, hs_record(test::client_hello(0x0303, {0xc02f}, {})));
  Bytes cert;
  const uint32_t big = 20000;
  cert.u8(kHsCertificate).u24(big + 6).u24(big + 3).u24(big).fill(big, 0x30);
  Bytes srv;
  srv.raw(hs_record(test::server_hello(0x0303, 0xc02f, {})));
  for (size_t off = 0; off < cert.size(); off += 16000) {
    srv.raw(hs_record(std::vector<uint8_t>(cert.b.begin() + static_cast<std::ptrdiff_t>(off),
                                           cert.b.begin() + static_cast<std::ptrdiff_t>(std::min(off + 16000, cert.size())))));
  }
  r.send(false, srv.b);
  r.end();
  const SslRecord& s = only(r);
  EXPECT_EQ(r.anomaly(kAnomCertificateTooLong), 1u);
  EXPECT_EQ(s.cert_chain_fps.size(), 1u);
  EXPECT_FALSE(s.subject.has_value());
  EXPECT_EQ(s.ssl_history, "Csx");
}

}  // namespace
}  // namespace trawl::analyzers::ssl

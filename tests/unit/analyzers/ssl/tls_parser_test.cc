// The pure TLS parser: record layer (headers split anywhere, limits, SSLv2),
// handshake layer (messages across records, oversize skipped), and the
// ClientHello, ServerHello, Certificate and ServerKeyExchange decoders on
// real and hand-built messages, including truncated and hostile ones.
#include <gtest/gtest.h>

#include "analyzers/ssl/tls_names.h"
#include "analyzers/ssl/tls_parser.h"
#include "ssl_test_util.h"

namespace trawl::analyzers::ssl {
namespace {

using test::Bytes;
using test::Ext;

// Collects what the record and handshake layers report.
struct Collector final : RecordHandler, HandshakeHandler {
  explicit Collector(const TlsLimits& l) : hs(l) {}
  RecordAction record_begin(const RecordHeader& h) override {
    headers.push_back(h);
    current.clear();
    return skip_type == h.content_type ? RecordAction::kSkip : RecordAction::kDeliver;
  }
  void record_data(core::ByteView p) override {
    current.insert(current.end(), p.begin(), p.end());
    if (headers.back().content_type == kContentHandshake) hs.feed(p, *this, anomalies);
  }
  bool record_end() override {
    bodies.push_back(current);
    return true;
  }
  bool handshake_message(uint8_t type, core::ByteView body) override {
    messages.emplace_back(type, std::vector<uint8_t>(body.begin(), body.end()));
    return true;
  }
  void handshake_skipped(uint8_t type, uint32_t length) override { skipped.emplace_back(type, length); }

  HandshakeReader hs;
  core::Anomalies anomalies;
  uint8_t skip_type = 0xff;  // none
  std::vector<RecordHeader> headers;
  std::vector<std::vector<uint8_t>> bodies;
  std::vector<uint8_t> current;
  std::vector<std::pair<uint8_t, std::vector<uint8_t>>> messages;
  std::vector<std::pair<uint8_t, uint32_t>> skipped;
};

core::ByteView view(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

TEST(TlsRecordReader, SplitAnywhereGivesTheSameRecordsAndMessages) {
  const auto chunks = test::load_chunks("pcpp_google_tls12");
  const std::vector<uint8_t> server = test::direction(chunks, false);
  TlsLimits limits;
  Collector whole(limits);
  TlsRecordReader r1(limits, false);
  ASSERT_EQ(r1.feed(view(server), whole, whole.anomalies), TlsRecordReader::Status::kOk);
  // ServerHello, Certificate, ServerKeyExchange, ServerHelloDone, NewSessionTicket,
  // then the encrypted Finished (content type 22 too, so it is "a message" here).
  ASSERT_GE(whole.messages.size(), 5u);
  EXPECT_EQ(whole.messages[0].first, kHsServerHello);
  EXPECT_EQ(whole.messages[1].first, kHsCertificate);
  EXPECT_EQ(whole.messages[2].first, kHsServerKeyExchange);
  EXPECT_EQ(whole.messages[3].first, kHsServerHelloDone);
  EXPECT_EQ(whole.messages[4].first, kHsNewSessionTicket);

  for (size_t piece : {1u, 2u, 3u, 5u, 7u, 100u}) {
    Collector split(limits);
    TlsRecordReader r2(limits, false);
    for (size_t off = 0; off < server.size(); off += piece) {
      const size_t n = std::min(piece, server.size() - off);
      ASSERT_EQ(r2.feed(core::ByteView(server.data() + off, n), split, split.anomalies), TlsRecordReader::Status::kOk);
    }
    ASSERT_EQ(split.bodies, whole.bodies) << "piece " << piece;
    ASSERT_EQ(split.messages, whole.messages) << "piece " << piece;
    EXPECT_EQ(r2.records(), r1.records());
  }
}

TEST(TlsRecordReader, SkippedBodiesAreCountedNotDelivered) {
  TlsLimits limits;
  Collector c(limits);
  c.skip_type = kContentApplicationData;
  Bytes s;
  s.raw(test::record(kContentApplicationData, std::vector<uint8_t>(3000, 0xab)));
  s.raw(test::record(kContentAlert, {1, 0}));
  TlsRecordReader r(limits, false);
  ASSERT_EQ(r.feed(view(s.b), c, c.anomalies), TlsRecordReader::Status::kOk);
  ASSERT_EQ(c.headers.size(), 2u);
  EXPECT_EQ(c.headers[0].length, 3000u);
  EXPECT_TRUE(c.bodies[0].empty());
  EXPECT_EQ(c.bodies[1], (std::vector<uint8_t>{1, 0}));
}

TEST(TlsRecordReader, NotTlsIsAnError) {
  TlsLimits limits;
  for (const std::string_view junk : {std::string_view("GET / HTTP/1.1\r\n"), std::string_view("\x16\x04\x01\x00\x10", 5),
                                      std::string_view("\x19\x03\x03\x00\x10", 5)}) {
    Collector c(limits);
    TlsRecordReader r(limits, false);
    const std::vector<uint8_t> b(junk.begin(), junk.end());
    EXPECT_EQ(r.feed(view(b), c, c.anomalies), TlsRecordReader::Status::kError) << junk;
    EXPECT_EQ(c.anomalies.count(kAnomBadRecordHeader), 1u);
    EXPECT_EQ(r.feed(view(b), c, c.anomalies), TlsRecordReader::Status::kError);  // stays failed
    EXPECT_TRUE(c.headers.empty());
  }
}

TEST(TlsRecordReader, OversizeRecordIsAnError) {
  TlsLimits limits;
  Collector c(limits);
  TlsRecordReader r(limits, false);
  const std::vector<uint8_t> b{0x17, 0x03, 0x03, 0x48, 0x01};  // 18433 > 16384 + 2048
  EXPECT_EQ(r.feed(view(b), c, c.anomalies), TlsRecordReader::Status::kError);
  EXPECT_EQ(c.anomalies.count(kAnomRecordTooLong), 1u);
}

TEST(TlsRecordReader, Ssl2HeaderOnlyAsTheFirstClientRecord) {
  TlsLimits limits;
  // RFC 5246 E.2: 2-byte header, CLIENT-HELLO, version 3.1, one cipher spec, 16-byte challenge.
  Bytes v2;
  v2.u8(0x80).u8(9 + 3 + 16).u8(1).u16(0x0301).u16(3).u16(0).u16(16).u8(0).u16(0x002f).fill(16, 0x42);
  Collector c(limits);
  TlsRecordReader client(limits, true);
  ASSERT_EQ(client.feed(view(v2.b), c, c.anomalies), TlsRecordReader::Status::kOk);
  ASSERT_EQ(c.headers.size(), 1u);
  EXPECT_TRUE(c.headers[0].ssl2);
  ClientHello ch;
  ASSERT_EQ(parse_ssl2_client_hello(view(c.bodies[0]), ch, c.anomalies), ParseResult::kOk);
  EXPECT_TRUE(ch.ssl2);
  EXPECT_EQ(ch.version, 0x0301);
  EXPECT_EQ(ch.ciphers, (std::vector<uint16_t>{0x002f}));
  EXPECT_EQ(ch.random[16], 0x42);
  EXPECT_EQ(ch.random[15], 0);

  Collector c2(limits);
  TlsRecordReader server(limits, false);  // not allowed on the server side
  EXPECT_EQ(server.feed(view(v2.b), c2, c2.anomalies), TlsRecordReader::Status::kError);
}

TEST(HandshakeReader, MessagesAcrossRecordsAndSeveralPerRecord) {
  TlsLimits limits;
  const auto ch = test::client_hello(0x0303, {0x1301}, {test::sni_ext("a.example")});
  Bytes two;  // the ClientHello twice, cut into records of 7 bytes
  two.raw(ch).raw(ch);
  Bytes stream;
  for (size_t off = 0; off < two.size(); off += 7) {
    stream.raw(test::record(kContentHandshake,
                            std::vector<uint8_t>(two.b.begin() + static_cast<std::ptrdiff_t>(off),
                                                 two.b.begin() + static_cast<std::ptrdiff_t>(std::min(off + 7, two.size())))));
  }
  Collector c(limits);
  TlsRecordReader r(limits, true);
  ASSERT_EQ(r.feed(view(stream.b), c, c.anomalies), TlsRecordReader::Status::kOk);
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0], c.messages[1]);
  EXPECT_EQ(c.messages[0].second.size(), ch.size() - 4);
  EXPECT_EQ(c.hs.pending(), 0u);
}

TEST(HandshakeReader, OversizeMessageIsSkippedAndTheNextOneRead) {
  TlsLimits limits;
  limits.max_handshake_message = 100;
  Bytes big;
  big.u8(kHsCertificate).u24(300).fill(300, 0x30);
  const auto ch = test::client_hello(0x0303, {0x1301}, {});
  Bytes stream;
  stream.raw(test::record(kContentHandshake, big.b)).raw(test::record(kContentHandshake, ch));
  Collector c(limits);
  TlsRecordReader r(limits, false);
  ASSERT_EQ(r.feed(view(stream.b), c, c.anomalies), TlsRecordReader::Status::kOk);
  ASSERT_EQ(c.skipped.size(), 1u);
  EXPECT_EQ(c.skipped[0], (std::pair<uint8_t, uint32_t>{kHsCertificate, 300}));
  EXPECT_EQ(c.anomalies.count(kAnomHandshakeTooLong), 1u);
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].first, kHsClientHello);
}

TEST(ClientHelloParser, RealChromeLikeHello) {
  const auto chunks = test::load_chunks("pcpp_google_tls12");
  const std::vector<uint8_t> client = test::direction(chunks, true);
  ASSERT_GT(client.size(), 9u);
  core::Anomalies a;
  ClientHello ch;
  // Record header (5) and handshake header (4) removed.
  const size_t len = (size_t{client[6]} << 16) | (size_t{client[7]} << 8) | client[8];
  ASSERT_EQ(parse_client_hello(core::ByteView(client.data() + 9, len), ch, a), ParseResult::kOk);
  EXPECT_EQ(ch.version, 0x0303);
  EXPECT_EQ(ch.server_name, "www.google.com");
  EXPECT_EQ(ch.server_names, 1u);
  EXPECT_EQ(ch.alpn, (std::vector<std::string>{"spdy/3.1", "spdy/3", "http/1.1"}));
  EXPECT_EQ(ch.ciphers.size(), 16u);
  EXPECT_EQ(ch.ciphers.front(), 0xc02b);
  EXPECT_EQ(ch.groups, (std::vector<uint16_t>{23, 24, 25}));
  EXPECT_EQ(ch.point_formats, (std::vector<uint8_t>{0}));
  EXPECT_EQ(a.total(), 0u);
}

TEST(ClientHelloParser, GreaseAndExtensionsKeptInOrder) {
  core::Anomalies a;
  const auto m = test::client_hello(0x0303, {0x3a3a, 0x1301, 0xc02f},
                                    {{0x0a0a, {}},
                                     test::sni_ext("x.test"),
                                     {kExtSupportedVersions, {6, 0x7a, 0x7a, 0x03, 0x04, 0x03, 0x03}},
                                     {kExtSupportedGroups, test::u16_vector({0x2a2a, 29, 23})},
                                     {kExtSessionTicket, {1, 2, 3}},
                                     {kExtPreSharedKey, {0, 0}}});
  ClientHello ch;
  ASSERT_EQ(parse_client_hello(core::ByteView(m.data() + 4, m.size() - 4), ch, a), ParseResult::kOk);
  EXPECT_EQ(ch.ciphers, (std::vector<uint16_t>{0x3a3a, 0x1301, 0xc02f}));
  EXPECT_EQ(ch.extensions, (std::vector<uint16_t>{0x0a0a, 0, 43, 10, 35, 41}));
  EXPECT_EQ(ch.supported_versions, (std::vector<uint16_t>{0x7a7a, 0x0304, 0x0303}));
  EXPECT_EQ(ch.groups, (std::vector<uint16_t>{0x2a2a, 29, 23}));
  EXPECT_TRUE(ch.session_ticket_data);
  EXPECT_TRUE(ch.has_psk);
  EXPECT_TRUE(is_grease(0x0a0a) && is_grease(0xfafa) && !is_grease(0x0a1a) && !is_grease(0x1301));
}

TEST(ClientHelloParser, TruncatedAtEveryLength) {
  const auto m = test::client_hello(0x0303, {0x1301, 0x1302},
                                    {test::sni_ext("truncated.example"), test::alpn_ext({"h2", "http/1.1"})});
  const core::ByteView body(m.data() + 4, m.size() - 4);
  for (size_t n = 0; n < body.size(); ++n) {
    core::Anomalies a;
    ClientHello ch;
    const ParseResult r = parse_client_hello(body.first(n), ch, a);
    // The fixed part ends after the compression methods (2 + 32 + 1 + 2 + 4 + 1 + 1 = 43).
    if (n < 43) {
      EXPECT_EQ(r, ParseResult::kError) << n;
    } else if (n == 43) {
      EXPECT_EQ(r, ParseResult::kOk) << n;  // a hello without extensions
    } else {
      EXPECT_EQ(r, ParseResult::kPartial) << n;
    }
    EXPECT_GE(a.total(), n == 43 ? 0u : 1u);
  }
  core::Anomalies a;
  ClientHello ch;
  EXPECT_EQ(parse_client_hello(body, ch, a), ParseResult::kOk);
  EXPECT_EQ(ch.alpn.size(), 2u);
}

TEST(ClientHelloParser, LimitsOnExtensionsAndServerName) {
  TlsLimits limits;
  limits.max_extensions = 3;
  limits.max_server_name = 8;
  std::vector<Ext> exts{test::sni_ext("a-very-long-host.example")};
  for (uint16_t t = 100; t < 110; ++t) exts.push_back({t, {}});
  const auto m = test::client_hello(0x0303, {0x1301}, exts);
  core::Anomalies a;
  ClientHello ch;
  EXPECT_EQ(parse_client_hello(core::ByteView(m.data() + 4, m.size() - 4), ch, a, limits), ParseResult::kOk);
  EXPECT_EQ(ch.extensions.size(), 3u);
  EXPECT_EQ(ch.server_name, "a-very-l");
  EXPECT_EQ(a.count(kAnomTooManyExtensions), 1u);
  EXPECT_EQ(a.count(kAnomServerNameTooLong), 1u);
}

TEST(ClientHelloParser, MalformedExtensionBodiesAreCounted) {
  const auto m = test::client_hello(0x0303, {0x1301},
                                    {{kExtServerName, {0, 9, 0, 0, 20, 'a'}},   // name longer than the list
                                     {kExtSupportedGroups, {0, 3, 0, 23, 0}},   // odd length
                                     {kExtAlpn, {0, 5, 9, 'h', '2'}}});         // name past the list
  core::Anomalies a;
  ClientHello ch;
  EXPECT_EQ(parse_client_hello(core::ByteView(m.data() + 4, m.size() - 4), ch, a), ParseResult::kOk);
  EXPECT_TRUE(ch.has_server_name);
  EXPECT_EQ(ch.server_names, 0u);
  EXPECT_TRUE(ch.groups.empty());
  EXPECT_TRUE(ch.alpn.empty());
  EXPECT_EQ(a.count(kAnomBadExtension), 3u);
}

TEST(ServerHelloParser, Tls13SupportedVersionsKeyShareAndHrr) {
  Bytes ks;
  ks.u16(29).u16(32).fill(32, 1);
  const auto m = test::server_hello(0x0303, 0x1302, {{kExtSupportedVersions, {3, 4}}, {kExtKeyShare, ks.b}}, "sess");
  core::Anomalies a;
  ServerHello sh;
  ASSERT_EQ(parse_server_hello(core::ByteView(m.data() + 4, m.size() - 4), sh, a), ParseResult::kOk);
  EXPECT_EQ(sh.version, 0x0303);
  EXPECT_EQ(sh.negotiated_version(), 0x0304);
  EXPECT_EQ(sh.cipher, 0x1302);
  EXPECT_EQ(sh.key_share_group, 29);
  EXPECT_EQ(sh.session_id, "sess");
  EXPECT_FALSE(sh.hello_retry_request);

  // RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello with this random.
  std::vector<uint8_t> hrr = test::server_hello(0x0303, 0x1301, {{kExtSupportedVersions, {3, 4}}});
  const uint8_t magic[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
                             0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
                             0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
  std::copy(std::begin(magic), std::end(magic), hrr.begin() + 6);
  ASSERT_EQ(parse_server_hello(core::ByteView(hrr.data() + 4, hrr.size() - 4), sh, a), ParseResult::kOk);
  EXPECT_TRUE(sh.hello_retry_request);
}

TEST(ServerHelloParser, Ssl3WithoutExtensionsAndGarbage) {
  const auto m = test::server_hello(0x0300, 0x0005, {});
  core::Anomalies a;
  ServerHello sh;
  ASSERT_EQ(parse_server_hello(core::ByteView(m.data() + 4, m.size() - 4), sh, a), ParseResult::kOk);
  EXPECT_FALSE(sh.has_extensions);
  EXPECT_EQ(sh.negotiated_version(), 0x0300);
  for (size_t n = 0; n < m.size() - 4; ++n) {
    EXPECT_EQ(parse_server_hello(core::ByteView(m.data() + 4, n), sh, a), ParseResult::kError) << n;
  }
  EXPECT_EQ(a.count(kAnomBadServerHello), m.size() - 4);
}

TEST(CertificateList, RealChainAndHostileLengths) {
  const auto chunks = test::load_chunks("pcpp_google_tls12");
  const std::vector<uint8_t> server = test::direction(chunks, false);
  TlsLimits limits;
  Collector c(limits);
  TlsRecordReader r(limits, false);
  r.feed(view(server), c, c.anomalies);
  ASSERT_GE(c.messages.size(), 2u);
  const auto& cert_msg = c.messages[1].second;
  std::vector<core::ByteView> certs;
  core::Anomalies a;
  ASSERT_EQ(parse_certificate_list(view(cert_msg), certs, a), ParseResult::kOk);
  // tshark: tls.handshake.certificate_length 1146,1012,897.
  ASSERT_EQ(certs.size(), 3u);
  EXPECT_EQ(certs[0].size(), 1146u);
  EXPECT_EQ(certs[1].size(), 1012u);
  EXPECT_EQ(certs[2].size(), 897u);

  TlsLimits two;
  two.max_certificates = 2;
  EXPECT_EQ(parse_certificate_list(view(cert_msg), certs, a, two), ParseResult::kPartial);
  EXPECT_EQ(certs.size(), 2u);
  EXPECT_EQ(a.count(kAnomTooManyCertificates), 1u);

  std::vector<uint8_t> bad = cert_msg;
  bad[3] = 0xff;  // first certificate length now runs past the list
  EXPECT_EQ(parse_certificate_list(view(bad), certs, a), ParseResult::kPartial);
  EXPECT_TRUE(certs.empty());
  bad[0] = 0xff;  // list length past the message
  EXPECT_EQ(parse_certificate_list(view(bad), certs, a), ParseResult::kError);
  EXPECT_EQ(a.count(kAnomBadCertificateMessage), 2u);
}

TEST(ServerKeyExchange, NamedCurveOnly) {
  EXPECT_EQ(server_key_exchange_curve(view({3, 0, 23, 65})), 23);
  EXPECT_EQ(server_key_exchange_curve(view({3, 0})), std::nullopt);
  EXPECT_EQ(server_key_exchange_curve(view({1, 0, 23})), std::nullopt);  // explicit prime
  EXPECT_TRUE(cipher_is_ecdh(0xc02f));
  EXPECT_TRUE(cipher_is_ecdh(0xc018));
  EXPECT_FALSE(cipher_is_ecdh(0x009e));
  EXPECT_FALSE(cipher_is_ecdh(0xc00e));  // static ECDH: no ServerKeyExchange
}

TEST(TlsNames, AsZeekWritesThem) {
  EXPECT_EQ(version_name(0x0300), "SSLv3");
  EXPECT_EQ(version_name(0x0303), "TLSv12");
  EXPECT_EQ(version_name(0x0304), "TLSv13");
  EXPECT_EQ(version_name(0x7f17), "TLSv13-draft23");
  EXPECT_EQ(version_name(0x1234), "unknown-4660");
  EXPECT_EQ(cipher_name(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
  EXPECT_EQ(cipher_name(0x1301), "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(cipher_name(0xfefe), "unknown-65278");
  EXPECT_EQ(curve_name(29), "x25519");
  EXPECT_EQ(curve_name(4588), "X25519MLKEM768");
  EXPECT_EQ(curve_name(999), "unknown-999");
  EXPECT_EQ(alert_name(48), "unknown_ca");
  EXPECT_EQ(alert_name(0), "close_notify");
  EXPECT_EQ(alert_name(200), "unknown-200");
  EXPECT_TRUE(is_tls13_or_later(0x0304));
  EXPECT_TRUE(is_tls13_or_later(0x7f1c));
  EXPECT_FALSE(is_tls13_or_later(0x0303));
}

}  // namespace
}  // namespace trawl::analyzers::ssl

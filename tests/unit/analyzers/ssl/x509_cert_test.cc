// Certificate decoding (subject and issuer as `openssl x509 -nameopt RFC2253`
// prints them, validity, DNS SANs) on a real Google chain and on the test
// PKI of make_handshakes.py, hostile DER, and RFC 6125 host name matching.
#include <gtest/gtest.h>

#include "analyzers/ssl/tls_fingerprint.h"
#include "analyzers/ssl/tls_parser.h"
#include "analyzers/ssl/x509_cert.h"
#include "ssl_test_util.h"

namespace trawl::analyzers::ssl {
namespace {

// The certificates of the first Certificate message the server sent.
struct Chain {
  std::vector<uint8_t> message;
  std::vector<core::ByteView> certs;
};

struct FirstCertificates final : RecordHandler, HandshakeHandler {
  explicit FirstCertificates(const TlsLimits& l) : hs(l) {}
  RecordAction record_begin(const RecordHeader& h) override {
    return h.content_type == kContentHandshake && !done ? RecordAction::kDeliver : RecordAction::kSkip;
  }
  void record_data(core::ByteView p) override { hs.feed(p, *this, anomalies); }
  bool record_end() override { return true; }
  bool handshake_message(uint8_t type, core::ByteView body) override {
    if (type == kHsCertificate && !done) {
      chain.message.assign(body.begin(), body.end());
      done = true;
    }
    return true;
  }
  void handshake_skipped(uint8_t, uint32_t) override {}
  HandshakeReader hs;
  core::Anomalies anomalies;
  Chain chain;
  bool done = false;
};

Chain server_chain(std::string_view name) {
  const auto server = test::direction(test::load_chunks(name), false);
  TlsLimits limits;
  FirstCertificates f(limits);
  TlsRecordReader r(limits, false);
  r.feed(core::ByteView(server.data(), server.size()), f, f.anomalies);
  Chain c = std::move(f.chain);
  core::Anomalies a;
  parse_certificate_list(core::ByteView(c.message.data(), c.message.size()), c.certs, a);
  return c;
}

TEST(X509, RealGoogleCertificate) {
  const Chain c = server_chain("pcpp_google_tls12");
  ASSERT_EQ(c.certs.size(), 3u);
  CertInfo info;
  ASSERT_TRUE(parse_x509(c.certs[0], info));
  // openssl x509 -noout -subject -issuer -dates -nameopt RFC2253 -ext subjectAltName -fingerprint -sha256
  EXPECT_EQ(info.subject, "CN=www.google.com,O=Google Inc,L=Mountain View,ST=California,C=US");
  EXPECT_EQ(info.issuer, "CN=Google Internet Authority G2,O=Google Inc,C=US");
  EXPECT_EQ(info.common_name, "www.google.com");
  ASSERT_TRUE(info.has_validity);
  EXPECT_EQ(info.not_before, 1418213139);  // Dec 10 12:05:39 2014 GMT
  EXPECT_EQ(info.not_after, 1425945600);   // Mar 10 00:00:00 2015 GMT
  EXPECT_EQ(info.san_dns, (std::vector<std::string>{"www.google.com"}));
  EXPECT_EQ(sha256_hex(c.certs[0]), "79c8ac448434acb8a544812d3864d7fc141549830be0c533c81d395e696ee25a");
  CertInfo ca;
  ASSERT_TRUE(parse_x509(c.certs[2], ca));
  EXPECT_EQ(ca.subject, "CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US");
  EXPECT_TRUE(ca.san_dns.empty());
}

TEST(X509, GeneratedLeafWithWildcardSan) {
  const Chain c = server_chain("tls12_chain");
  ASSERT_EQ(c.certs.size(), 2u);
  CertInfo info;
  ASSERT_TRUE(parse_x509(c.certs[0], info));
  EXPECT_EQ(info.subject, "CN=www.trawl.test,O=Trawl Web,C=DE");
  EXPECT_EQ(info.issuer, "CN=Trawl Test CA,O=Trawl Test,C=DE");
  EXPECT_EQ(info.not_before, 1704067200);  // 2024-01-01
  EXPECT_EQ(info.not_after, 2019686400);   // 2034-01-01
  EXPECT_EQ(info.san_dns, (std::vector<std::string>{"www.trawl.test", "*.api.trawl.test"}));
  EXPECT_TRUE(hostname_matches_cert("v1.api.trawl.test", info));
  EXPECT_TRUE(hostname_matches_cert("WWW.Trawl.Test", info));
  EXPECT_FALSE(hostname_matches_cert("api.trawl.test", info));
  EXPECT_FALSE(hostname_matches_cert("a.b.api.trawl.test", info));
  EXPECT_FALSE(hostname_matches_cert("other.example", info));
}

TEST(X509, HostileDerNeverParses) {
  const Chain c = server_chain("tls12_chain");
  ASSERT_FALSE(c.certs.empty());
  const core::ByteView der = c.certs[0];
  CertInfo info;
  for (size_t n = 0; n < der.size(); n += 7) EXPECT_FALSE(parse_x509(der.first(n), info)) << n;
  EXPECT_TRUE(info.subject.empty());
  std::vector<uint8_t> junk(300, 0x30);
  EXPECT_FALSE(parse_x509(core::ByteView(junk.data(), junk.size()), info));
  std::vector<uint8_t> flipped(der.begin(), der.end());
  flipped[1] ^= 0x7f;  // outer length
  EXPECT_FALSE(parse_x509(core::ByteView(flipped.data(), flipped.size()), info));
  EXPECT_FALSE(parse_x509({}, info));
}

TEST(X509, NameLimits) {
  const Chain c = server_chain("pcpp_google_tls12");
  X509Limits small;
  small.max_name = 10;
  small.max_san = 0;
  CertInfo info;
  ASSERT_TRUE(parse_x509(c.certs[0], info, small));
  EXPECT_EQ(info.subject, "CN=www.goo");
  EXPECT_TRUE(info.san_dns.empty());
}

TEST(HostnameMatch, Rfc6125Wildcards) {
  EXPECT_TRUE(hostname_matches_pattern("www.zeek.org", "www.zeek.org"));
  EXPECT_TRUE(hostname_matches_pattern("www.zeek.org", "*.zeek.org"));
  EXPECT_TRUE(hostname_matches_pattern("www.zeek.org", "ww*.zeek.org"));
  EXPECT_TRUE(hostname_matches_pattern("www.zeek.org", "*w.zeek.org"));
  EXPECT_FALSE(hostname_matches_pattern("www.zeek.org", "wa*.zeek.org"));
  EXPECT_FALSE(hostname_matches_pattern("www.zeek.org", "ww*.leek.com"));
  EXPECT_FALSE(hostname_matches_pattern("www.zeek.org", "*"));
  EXPECT_FALSE(hostname_matches_pattern("zeek.org", "*.org"));
  EXPECT_FALSE(hostname_matches_pattern("www.zeek.org", "*.*.org"));
  EXPECT_FALSE(hostname_matches_pattern("www.zeek.org", "zeek.org"));
  EXPECT_FALSE(hostname_matches_pattern("", ""));
  EXPECT_FALSE(hostname_matches_pattern("a.www.zeek.org", "*.zeek.org"));
}

}  // namespace
}  // namespace trawl::analyzers::ssl

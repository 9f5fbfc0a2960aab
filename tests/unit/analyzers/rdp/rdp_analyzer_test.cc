// Tests for the RDP analyzer through a Dispatcher: the crafted capture's
// standard-security, CredSSP/TLS and legacy X.509 connections, splits,
// negotiation failure, the probe (including an S7comm Connection Request
// it must not claim) and hostile streams.
#include "analyzers/rdp/rdp_analyzer.h"

#include <gtest/gtest.h>

#include "analyzers/rdp/rdp_test_util.h"

namespace trawl::analyzers::rdp {
namespace {

using test::Bytes;
using test::RdpConn;

std::vector<uint8_t> request(std::string_view cookie_line, std::optional<uint32_t> protocols) {
  Bytes v;
  v.raw(cookie_line);
  if (protocols) v.raw(test::neg(1, 0, *protocols));
  return test::x224(0xe0, v.b);
}

TEST(RdpAnalyzer, StandardSecuritySession) {
  const auto segs = test::load_segments("standard_security.txt");
  RdpConn c;
  c.replay(segs);
  EXPECT_FALSE(c.d->wants_data());  // gave up after the Connect Response
  c.end();
  EXPECT_EQ(c.conn.service, "rdp");
  ASSERT_EQ(c.rdp().size(), 1u);
  const RdpRecord& r = *c.rdp()[0];
  EXPECT_EQ(r.ts, c.at(segs[0].micros));
  EXPECT_EQ(r.uid, "CrdpTest1");
  EXPECT_EQ(r.cookie, "Administr");
  EXPECT_EQ(r.result, "Success");
  EXPECT_EQ(r.security_protocol, "RDP");
  EXPECT_EQ(r.requested_protocols, (std::vector<std::string>{"RDP"}));
  EXPECT_EQ(r.client_channels, (std::vector<std::string>{"rdpdr", "rdpsnd", "cliprdr", "drdynvc"}));
  EXPECT_EQ(r.keyboard_layout, "English - United States");
  EXPECT_EQ(r.client_build, "RDP 7.1");
  EXPECT_EQ(r.client_name, "WS-FINANCE-07");
  EXPECT_EQ(r.client_dig_product_id, "00371-OEM-8992671-00524");
  EXPECT_EQ(r.desktop_width, 1920u);
  EXPECT_EQ(r.desktop_height, 1080u);
  EXPECT_EQ(r.requested_color_depth, "32bit");
  EXPECT_EQ(r.cert_type, "RSA");
  EXPECT_EQ(r.cert_count, 1u);
  EXPECT_EQ(r.cert_permanent, true);
  EXPECT_EQ(r.encryption_level, "Client compatible");
  EXPECT_EQ(r.encryption_method, "128bit");
  EXPECT_EQ(c.anomalies.total(), 0u);

  const auto auth = c.auth();
  ASSERT_EQ(auth.size(), 1u);
  EXPECT_EQ(auth[0]->proto, "rdp");
  EXPECT_EQ(auth[0]->method, "cookie");
  EXPECT_EQ(auth[0]->user, "Administr");
  EXPECT_EQ(auth[0]->outcome, AuthOutcome::kUnknown);
  EXPECT_EQ(auth[0]->ts, c.at(segs[0].micros));

  std::string json;
  r.write_json(json);
  EXPECT_NE(json.find("\"requested_protocols\":[\"RDP\"],\"client_channels\":[\"rdpdr\",\"rdpsnd\",\"cliprdr\","
                      "\"drdynvc\"]"),
            std::string::npos)
      << json;
}

TEST(RdpAnalyzer, ByteByByteGivesTheSameRecord) {
  const auto segs = test::load_segments("legacy_x509.txt");
  RdpConn whole;
  whole.replay(segs);
  whole.end();
  RdpConn bytes;
  for (const auto& s : segs) {
    for (uint8_t b : s.bytes) bytes.send(s.is_orig, std::vector<uint8_t>{b}, s.micros);
  }
  bytes.end();
  ASSERT_EQ(whole.rdp().size(), 1u);
  ASSERT_EQ(bytes.rdp().size(), 1u);
  std::string a, b;
  whole.rdp()[0]->write_json(a);
  bytes.rdp()[0]->write_json(b);
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find("\"cert_type\":\"X.509\",\"cert_count\":2,\"cert_permanent\":false"), std::string::npos) << a;
  EXPECT_NE(a.find("\"keyboard_layout\":\"German - Germany\""), std::string::npos) << a;
  EXPECT_EQ(a.find("requested_protocols"), std::string::npos);  // an old client: no RDP_NEG_REQ
  EXPECT_EQ(whole.anomalies.total(), 0u);
  EXPECT_EQ(bytes.anomalies.total(), 0u);
}

TEST(RdpAnalyzer, CredSspHandsOverToTls) {
  const auto segs = test::load_segments("hybrid_tls.txt");
  RdpConn c;
  c.send(segs[0].is_orig, segs[0].bytes, segs[0].micros);
  c.send(segs[1].is_orig, segs[1].bytes, segs[1].micros);
  EXPECT_EQ(c.d->service().rfind("rdp", 0), 0u);
  for (size_t i = 2; i < segs.size(); ++i) c.send(segs[i].is_orig, segs[i].bytes, segs[i].micros);
  c.end();
  // The rest of the stream went to the TLS analyzer when one is registered.
  if (registry().find("ssl", 6) != nullptr) EXPECT_EQ(c.conn.service, "rdp,ssl");
  ASSERT_EQ(c.rdp().size(), 1u);
  const RdpRecord& r = *c.rdp()[0];
  EXPECT_EQ(r.cookie, "alice");
  EXPECT_EQ(r.result, "encrypted");
  EXPECT_EQ(r.security_protocol, "HYBRID");
  EXPECT_EQ(r.requested_protocols, (std::vector<std::string>{"SSL", "HYBRID", "HYBRID_EX"}));
  EXPECT_FALSE(r.client_name);
  EXPECT_EQ(r.cert_count, 0u);
  EXPECT_EQ(c.anomalies.count(kAnomNotTpkt), 0u);  // TLS bytes never reached the RDP parser
}

TEST(RdpAnalyzer, NegotiationFailure) {
  RdpConn c;
  c.send(true, request("Cookie: mstshash=scanner\r\n", 0), 0);
  c.send(false, test::x224(0xd0, test::neg(3, 0, 5)), 100);
  EXPECT_FALSE(c.d->wants_data());
  c.end();
  const RdpRecord& r = *c.rdp().at(0);
  EXPECT_EQ(r.result, "HYBRID_REQUIRED_BY_SERVER");
  EXPECT_FALSE(r.security_protocol);
  EXPECT_EQ(c.auth().size(), 1u);
}

TEST(RdpAnalyzer, NoCookieNoAnswerNoRecord) {
  // Zeek logs an RDP connection only with a cookie, keyboard layout or result.
  RdpConn c;
  c.send(true, request("", 3), 0);
  c.end();
  EXPECT_TRUE(c.rdp().empty());
  EXPECT_TRUE(c.auth().empty());
  EXPECT_EQ(c.conn.service, "rdp");
}

TEST(RdpAnalyzer, RoutingTokenIsNoUser) {
  RdpConn c(33890);
  c.send(true, request("Cookie: msts=3640205228.15629.0000\r\n", 1), 0);
  c.send(false, test::x224(0xd0, test::neg(2, 0, 1)), 100);
  c.end();
  EXPECT_EQ(c.conn.service.rfind("rdp", 0), 0u);
  const RdpRecord& r = *c.rdp().at(0);
  EXPECT_FALSE(r.cookie);
  EXPECT_EQ(r.security_protocol, "SSL");
  EXPECT_TRUE(c.auth().empty());
}

TEST(RdpAnalyzer, GarbageAfterTheRequest) {
  RdpConn c;
  c.send(true, request("Cookie: mstshash=x\r\n", 0), 0);
  c.send(true, std::vector<uint8_t>{'G', 'E', 'T', ' ', '/'}, 10);
  EXPECT_FALSE(c.d->wants_data());
  EXPECT_EQ(c.anomalies.count(kAnomNotTpkt), 1u);
  c.end();
  EXPECT_EQ(c.rdp().at(0)->cookie, "x");
}

TEST(RdpAnalyzer, TooManyPdusAndBadLength) {
  RdpConn flood;
  flood.send(true, request("Cookie: mstshash=x\r\n", 0), 0);
  std::vector<uint8_t> many;
  const auto dt = test::tpkt({0x02, 0xf0, 0x80, 0x04, 0x01, 0x00, 0x01, 0x00});
  for (int i = 0; i < 40; ++i) many.insert(many.end(), dt.begin(), dt.end());
  flood.send(true, many, 10);
  EXPECT_FALSE(flood.d->wants_data());
  EXPECT_EQ(flood.anomalies.count(kAnomTooManyPdus), 1u);

  RdpConn bad;
  bad.send(true, request("Cookie: mstshash=x\r\n", 0), 0);
  bad.send(false, std::vector<uint8_t>{3, 0, 0, 2}, 10);
  EXPECT_FALSE(bad.d->wants_data());
  EXPECT_EQ(bad.anomalies.count(kAnomBadTpktLength), 1u);
}

TEST(RdpAnalyzer, GapStops) {
  RdpConn c;
  c.send(true, request("Cookie: mstshash=x\r\n", 0), 0);
  c.d->stream_gap(false, 100, c.at(10));
  EXPECT_FALSE(c.d->wants_data());
  c.end();
  EXPECT_EQ(c.rdp().size(), 1u);
}

TEST(RdpProbe, Decisions) {
  auto probe = [](const std::vector<uint8_t>& orig, bool hint, bool done = false) {
    ProbeInput in;
    in.orig = {orig.data(), orig.size()};
    in.port_hint = hint;
    in.orig_done = done;
    return RdpAnalyzer::probe(in);
  };
  const auto cr = request("Cookie: mstshash=eltons\r\n", 0);
  EXPECT_EQ(probe(cr, true), Probe::kYes);
  EXPECT_EQ(probe(cr, false), Probe::kYes);
  EXPECT_EQ(probe(request("", 3), false), Probe::kYes);
  EXPECT_EQ(probe(request("", std::nullopt), false), Probe::kYes);
  EXPECT_EQ(probe({cr.begin(), cr.begin() + 3}, false), Probe::kMaybe);
  EXPECT_EQ(probe({cr.begin(), cr.begin() + 20}, false), Probe::kMaybe);
  EXPECT_EQ(probe({cr.begin(), cr.begin() + 20}, false, true), Probe::kNo);
  // S7comm's Connection Request on port 102: TSAP parameters, not RDP.
  const auto s7 = test::from_hex("0300001611e00000000100c0010ac1020100c2020102");
  EXPECT_EQ(probe(s7, false), Probe::kNo);
  EXPECT_EQ(probe(test::from_hex("160301"), true), Probe::kNo);
  EXPECT_EQ(probe(test::x224(0xd0, {}), true), Probe::kNo);  // a Confirm from the client
  EXPECT_EQ(probe({}, false), Probe::kMaybe);
  EXPECT_EQ(probe({}, false, true), Probe::kNo);
}

}  // namespace
}  // namespace trawl::analyzers::rdp

// Tests for the pure RDP parsing functions: TPKT and X.224 framing, the
// Connection Request of MS-RDPBCGR's own example (4.1.1), Confirm variants,
// the MCS Connect Initial / Response of the crafted capture (which tshark
// decodes field by field, see tests/integration/rdp_oracle.py), every
// truncation of them, hostile counts, UTF-16 and the name tables.
#include "analyzers/rdp/rdp_parser.h"

#include <gtest/gtest.h>

#include "analyzers/rdp/rdp_names.h"
#include "analyzers/rdp/rdp_test_util.h"

namespace trawl::analyzers::rdp {
namespace {

using test::Bytes;

core::ByteView view(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

// MS-RDPBCGR 4.1.1: "Cookie: mstshash=eltons", RDP_NEG_REQ for standard RDP security.
const std::vector<uint8_t> kSpecRequest = test::from_hex(
    "0300002c27e00000000000436f6f6b69653a206d737473686173683d656c746f6e730d0a0100080000000000");

TEST(RdpFraming, Tpkt) {
  size_t total = 0;
  EXPECT_EQ(frame_tpkt(view(kSpecRequest), total), TpktResult::kOk);
  EXPECT_EQ(total, 44u);
  EXPECT_EQ(frame_tpkt(view(kSpecRequest).subspan(0, 3), total), TpktResult::kNeedMore);
  EXPECT_EQ(frame_tpkt(view(kSpecRequest).subspan(0, 20), total), TpktResult::kNeedMore);
  EXPECT_EQ(total, 44u);
  EXPECT_EQ(frame_tpkt(view(test::from_hex("16030100")), total), TpktResult::kNotTpkt);
  EXPECT_EQ(frame_tpkt(view(test::from_hex("0301")), total), TpktResult::kNotTpkt);
  EXPECT_EQ(frame_tpkt(view(test::from_hex("03000006")), total), TpktResult::kBadLength);
  EXPECT_EQ(frame_tpkt({}, total), TpktResult::kNeedMore);
}

TEST(RdpFraming, Tpdu) {
  core::Anomalies an;
  Tpdu t;
  ASSERT_TRUE(parse_tpdu(view(kSpecRequest), t, an));
  EXPECT_EQ(t.code, kTpduConnectRequest);
  EXPECT_EQ(t.rest.size(), 33u);  // cookie line (25) + RDP_NEG_REQ (8)
  const auto dt = test::tpkt({0x02, 0xf0, 0x80, 0x7f, 0x65});
  ASSERT_TRUE(parse_tpdu(view(dt), t, an));
  EXPECT_EQ(t.code, kTpduData);
  EXPECT_EQ(t.rest.size(), 2u);
  EXPECT_EQ(an.total(), 0u);
  // A length indicator past the TPKT, and one too short for a CR.
  EXPECT_FALSE(parse_tpdu(view(test::tpkt({0x40, 0xe0, 0, 0, 0, 0, 0})), t, an));
  EXPECT_FALSE(parse_tpdu(view(test::tpkt({0x02, 0xe0, 0, 0, 0, 0, 0})), t, an));
  EXPECT_FALSE(parse_tpdu(view(test::from_hex("0300000502")), t, an));
  EXPECT_EQ(an.count(kAnomMalformedX224), 3u);
}

TEST(RdpRequest, SpecExample) {
  core::Anomalies an;
  Tpdu t;
  ASSERT_TRUE(parse_tpdu(view(kSpecRequest), t, an));
  ConnectionRequest cr;
  parse_connection_request(t.rest, cr, an);
  EXPECT_EQ(cr.cookie, "eltons");
  EXPECT_FALSE(cr.routing_token);
  EXPECT_EQ(cr.requested_protocols, 0u);
  EXPECT_EQ(an.total(), 0u);
}

TEST(RdpRequest, RoutingTokenNoCookieAndMalformed) {
  core::Anomalies an;
  ConnectionRequest cr;
  Bytes token;
  token.raw("Cookie: msts=3640205228.15629.0000\r\n").raw(test::neg(1, 0, 0x0b));
  parse_connection_request(view(token.b), cr, an);
  EXPECT_FALSE(cr.cookie);
  EXPECT_EQ(cr.routing_token, "msts=3640205228.15629.0000");
  EXPECT_EQ(cr.requested_protocols, 0x0bu);

  parse_connection_request(view(test::neg(1, 0, 0x3)), cr, an);  // no cookie at all
  EXPECT_FALSE(cr.cookie);
  EXPECT_EQ(cr.requested_protocols, 3u);

  parse_connection_request({}, cr, an);  // nothing after the header (old clients, scanners)
  EXPECT_FALSE(cr.cookie);
  EXPECT_FALSE(cr.requested_protocols);
  EXPECT_EQ(an.total(), 0u);

  Bytes unterminated;
  unterminated.raw("Cookie: mstshash=bob");
  parse_connection_request(view(unterminated.b), cr, an);
  EXPECT_FALSE(cr.cookie);
  EXPECT_EQ(an.count(kAnomMalformedCookie), 1u);

  Bytes bad_len;
  bad_len.raw("Cookie: mstshash=bob\r\n").u8(1).u8(0).le16(9).le32(1);
  parse_connection_request(view(bad_len.b), cr, an);
  EXPECT_EQ(cr.cookie, "bob");
  EXPECT_FALSE(cr.requested_protocols);
  EXPECT_EQ(an.count(kAnomMalformedNegotiation), 1u);
}

TEST(RdpConfirm, ResponseFailureLegacyAndMalformed) {
  core::Anomalies an;
  ConnectionConfirm cc;
  parse_connection_confirm(view(test::neg(2, 0x1f, 2)), cc, an);
  EXPECT_EQ(cc.selected_protocol, 2u);
  EXPECT_EQ(cc.flags, 0x1f);
  EXPECT_FALSE(cc.failure_code);
  parse_connection_confirm(view(test::neg(3, 0, 5)), cc, an);
  EXPECT_EQ(cc.failure_code, 5u);
  EXPECT_FALSE(cc.selected_protocol);
  parse_connection_confirm({}, cc, an);
  EXPECT_FALSE(cc.selected_protocol);
  EXPECT_FALSE(cc.failure_code);
  EXPECT_EQ(an.total(), 0u);
  parse_connection_confirm(view(test::neg(7, 0, 5)), cc, an);
  parse_connection_confirm(view(test::from_hex("020008")), cc, an);
  EXPECT_EQ(an.count(kAnomMalformedNegotiation), 2u);
}

// The MCS payload (after the X.224 DT header) of a fixture segment.
std::vector<uint8_t> mcs_of(const char* fixture, size_t segment) {
  const auto segs = test::load_segments(fixture);
  core::Anomalies an;
  Tpdu t;
  const auto& b = segs.at(segment).bytes;
  EXPECT_TRUE(parse_tpdu(view(b), t, an));
  return {t.rest.begin(), t.rest.end()};
}

TEST(RdpMcs, ConnectInitialOfTheCraftedSession) {
  const auto mcs = mcs_of("standard_security.txt", 2);
  core::Anomalies an;
  ClientData c;
  ASSERT_TRUE(parse_connect_initial(view(mcs), c, an));
  EXPECT_EQ(an.total(), 0u);
  ASSERT_TRUE(c.core);
  EXPECT_EQ(c.core->client_name, "WS-FINANCE-07");
  EXPECT_EQ(c.core->client_build, 7601u);
  EXPECT_EQ(c.core->keyboard_layout, 0x409u);
  EXPECT_EQ(c.core->desktop_width, 1920);
  EXPECT_EQ(c.core->desktop_height, 1080);
  EXPECT_EQ(c.core->high_color_depth, 0x18);
  EXPECT_EQ(c.core->early_capability_flags, 0x07);
  EXPECT_EQ(c.core->dig_product_id, "00371-OEM-8992671-00524");
  ASSERT_TRUE(c.channels);
  EXPECT_EQ(*c.channels, (std::vector<std::string>{"rdpdr", "rdpsnd", "cliprdr", "drdynvc"}));
  EXPECT_EQ(c.channel_count, 4u);
  // A Connect Response is not a Connect Initial.
  EXPECT_FALSE(parse_connect_initial(view(mcs_of("standard_security.txt", 3)), c, an));
}

TEST(RdpMcs, ConnectResponsesOfTheCraftedSessions) {
  core::Anomalies an;
  ServerData s;
  ASSERT_TRUE(parse_connect_response(view(mcs_of("standard_security.txt", 3)), s, an));
  EXPECT_EQ(s.result, 0);
  EXPECT_EQ(s.encryption_method, 2u);
  EXPECT_EQ(s.encryption_level, 2u);
  EXPECT_EQ(s.cert_type, 1u);
  EXPECT_EQ(s.cert_permanent, true);
  EXPECT_EQ(s.cert_count, 1u);
  ASSERT_TRUE(parse_connect_response(view(mcs_of("legacy_x509.txt", 3)), s, an));
  EXPECT_EQ(s.encryption_level, 3u);
  EXPECT_EQ(s.cert_type, 2u);
  EXPECT_EQ(s.cert_permanent, false);
  EXPECT_EQ(s.cert_count, 2u);
  EXPECT_EQ(an.total(), 0u);
}

TEST(RdpMcs, EveryTruncationIsSafe) {
  for (size_t seg : {2u, 3u}) {
    const auto mcs = mcs_of("standard_security.txt", seg);
    size_t accepted = 0;
    for (size_t n = 0; n < mcs.size(); ++n) {
      // A copy of exactly n bytes, so reading past it is caught under ASan.
      const std::vector<uint8_t> cut(mcs.begin(), mcs.begin() + static_cast<long>(n));
      core::Anomalies an;
      ClientData c;
      ServerData s;
      const bool ok = seg == 2 ? parse_connect_initial(view(cut), c, an) : parse_connect_response(view(cut), s, an);
      accepted += ok;
    }
    EXPECT_EQ(accepted, 0u) << seg;  // the BER length covers everything
  }
}

TEST(RdpMcs, HostileCounts) {
  // TS_UD_CS_NET announcing 1000 channels with 40 present.
  Bytes net;
  net.le16(0xc003).le16(static_cast<unsigned>(4 + 4 + 40 * 12)).le32(1000);
  for (int i = 0; i < 40; ++i) net.raw(std::string_view("chan\0\0\0\0", 8)).le32(0);
  Bytes gcc;
  gcc.raw(test::from_hex("000500147c0001")).u8(0x80 | 0x02).u8(0x00);
  gcc.raw(test::from_hex("000800100001c000")).raw("Duca").u8(0x80 | (net.b.size() >> 8)).u8(net.b.size() & 0xff);
  gcc.raw(net.b);
  Bytes body;
  body.raw(test::from_hex("040101" "040101" "0101ff" "3003020101" "3003020101" "3003020101")).u8(0x04).u8(0x82);
  body.u8((gcc.b.size() >> 8) & 0xff).u8(gcc.b.size() & 0xff).raw(gcc.b);
  Bytes mcs;
  mcs.u8(0x7f).u8(0x65).u8(0x82).u8((body.b.size() >> 8) & 0xff).u8(body.b.size() & 0xff).raw(body.b);
  core::Anomalies an;
  ClientData c;
  ASSERT_TRUE(parse_connect_initial(view(mcs.b), c, an));
  EXPECT_EQ(c.channel_count, 1000u);
  ASSERT_TRUE(c.channels);
  EXPECT_EQ(c.channels->size(), 40u);
  EXPECT_EQ(c.channels->front(), "chan");
  EXPECT_EQ(an.count(kAnomTooManyChannels), 1u);
  EXPECT_EQ(an.count(kAnomMalformedDataBlock), 1u);  // the 41st definition is missing

  Limits small;
  small.max_channels = 8;
  ClientData c2;
  ASSERT_TRUE(parse_connect_initial(view(mcs.b), c2, an, small));
  EXPECT_EQ(c2.channels->size(), 8u);
}

TEST(RdpText, Utf16) {
  auto u = [](std::vector<uint8_t> v) { return utf16le_to_utf8({v.data(), v.size()}); };
  EXPECT_EQ(u({'A', 0, 'b', 0, 0, 0, 'x', 0}), "Ab");
  EXPECT_EQ(u({0xe9, 0x00}), "\xc3\xa9");                       // é
  EXPECT_EQ(u({0x3d, 0xd8, 0x00, 0xde}), "\xf0\x9f\x98\x80");   // U+1F600
  EXPECT_EQ(u({0x3d, 0xd8, 'a', 0}), "\xef\xbf\xbd" "a");       // lone high surrogate
  EXPECT_EQ(u({'a'}), "");                                       // odd byte dropped
}

TEST(RdpNames, TablesAndFallbacks) {
  EXPECT_EQ(security_protocol_name(2), "HYBRID");
  EXPECT_EQ(security_protocol_name(3), "security_protocol-3");
  EXPECT_EQ(requested_protocol_names(0), (std::vector<std::string>{"RDP"}));
  EXPECT_EQ(requested_protocol_names(0x0b), (std::vector<std::string>{"SSL", "HYBRID", "HYBRID_EX"}));
  EXPECT_EQ(requested_protocol_names(0x80000004), (std::vector<std::string>{"RDSTLS", "security_protocol-2147483648"}));
  EXPECT_EQ(failure_code_name(2), "SSL_NOT_ALLOWED_BY_SERVER");
  EXPECT_EQ(failure_code_name(99), "failure_code-99");
  EXPECT_EQ(result_name(0), "Success");
  EXPECT_EQ(client_build_name(7601), "RDP 7.1");
  EXPECT_EQ(client_build_name(22621), "client_build-22621");
  EXPECT_EQ(keyboard_layout_name(1033), "English - United States");
  EXPECT_EQ(keyboard_layout_name(0x10409), "English - United States (Dvorak)");
  EXPECT_EQ(keyboard_layout_name(0xa0000407), "German - Germany (Best Guess for 2684355591)");
  EXPECT_EQ(keyboard_layout_name(0x7777), "keyboard-30583");
  EXPECT_EQ(high_color_depth_name(0x18), "24bit");
  EXPECT_EQ(encryption_method_name(0x10), "FIPS");
  EXPECT_EQ(encryption_level_name(2), "Client compatible");
  EXPECT_EQ(cert_type_name(2), "X.509");
}

}  // namespace
}  // namespace trawl::analyzers::rdp

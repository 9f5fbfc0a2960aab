// GRE version 0 (IP, Ethernet, ERSPAN) and version 1 (PPTP).
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;
namespace anomaly = decode::anomaly;

constexpr uint32_t kInnerA = ip4(172, 16, 1, 1);
constexpr uint32_t kInnerB = ip4(172, 16, 1, 2);

Bytes inner_tcp() { return ipv4(6, tcp(1111, 22, 0x02), kInnerA, kInnerB); }

class GreTest : public DecodeFixture {
 protected:
  void expect_inner() {
    EXPECT_EQ(out.l3, L3::kIpv4);
    EXPECT_EQ(out.src, v4addr(kInnerA));
    EXPECT_EQ(out.dst, v4addr(kInnerB));
    EXPECT_EQ(out.ip_proto, 6);
    EXPECT_EQ(out.sport, 1111);
    EXPECT_EQ(out.dport, 22);
    EXPECT_TRUE(out.has_l4);
  }
};

TEST_F(GreTest, PlainIpv4) {
  ASSERT_EQ(decode(ether(0x0800, ipv4(47, gre(0x0800, inner_tcp())))), DecodeStatus::kOk);
  expect_inner();
  EXPECT_EQ(out.tunnel_depth, 1);
  EXPECT_EQ(out.ip_len, 40u);  // the inner packet's
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(GreTest, OptionalFields) {
  Gre g;
  g.checksum = 0;
  g.key = 0xdeadbeef;
  g.seq = 5;
  ASSERT_EQ(decode(ether(0x0800, ipv4(47, gre(g, inner_tcp())))), DecodeStatus::kOk);
  expect_inner();
  Gre k;
  k.key = 1;
  ASSERT_EQ(decode(ether(0x0800, ipv4(47, gre(k, inner_tcp())))), DecodeStatus::kOk);
  expect_inner();
}

TEST_F(GreTest, Ipv6InsideIpv6) {
  const Bytes inner = ipv6(17, udp(1, 2, bytes_of("v6")));
  ASSERT_EQ(decode(ether(0x86dd, ipv6(47, gre(0x86dd, inner)))), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv6);
  EXPECT_EQ(payload_string(), "v6");
  EXPECT_EQ(out.tunnel_depth, 1);
}

TEST_F(GreTest, TransparentEthernetBridging) {
  const Mac inner_src{0x02, 1, 1, 1, 1, 1};
  const Bytes inner = ether(0x8100, vlan(55, 0x0800, inner_tcp()), kMacB, inner_src);
  ASSERT_EQ(decode(ether(0x8100, vlan(10, 0x0800, ipv4(47, gre(0x6558, inner))))), DecodeStatus::kOk);
  expect_inner();
  EXPECT_EQ(out.src_mac, inner_src);
  EXPECT_EQ(out.vlan_count, 2);  // outer tag first
  EXPECT_EQ(out.vlan[0], 10);
  EXPECT_EQ(out.vlan[1], 55);
}

TEST_F(GreTest, ErspanTypeIIAndI) {
  Gre g;
  g.proto = 0x88be;
  g.seq = 1;
  const Bytes erspan2 = Bytes{0x10, 0x01, 0x00, 0x05} + zeros(4);  // version 1 (type II)
  ASSERT_EQ(decode(ether(0x0800, ipv4(47, gre(g, erspan2 + ether(0x0800, inner_tcp()))))), DecodeStatus::kOk);
  expect_inner();
  // Type I: no sequence number, no ERSPAN header.
  ASSERT_EQ(decode(ether(0x0800, ipv4(47, gre(0x88be, ether(0x0800, inner_tcp()))))), DecodeStatus::kOk);
  expect_inner();
  // Type III with the optional platform subheader.
  Bytes erspan3 = zeros(12);
  erspan3[0] = 0x20;
  erspan3[11] = 0x01;
  ASSERT_EQ(decode(ether(0x0800, ipv4(47, gre(0x22eb, erspan3 + zeros(8) + ether(0x0800, inner_tcp()))))),
            DecodeStatus::kOk);
  expect_inner();
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(GreTest, SourceRoutes) {
  // R flag: checksum/offset present, then SREs ending with a NULL SRE.
  const Bytes hdr = be16(0x4000) + be16(0x0800) + zeros(4) + be16(0x0800) + Bytes{0, 4} + be32(kIpA) + zeros(4);
  ASSERT_EQ(decode(ether(0x0800, ipv4(47, hdr + inner_tcp()))), DecodeStatus::kOk);
  expect_inner();
}

TEST_F(GreTest, PptpEnhancedGre) {
  ASSERT_EQ(decode(ether(0x0800, ipv4(47, gre_pptp(ppp_frame(0x0021, inner_tcp()), 1, 0)))), DecodeStatus::kOk);
  expect_inner();
  EXPECT_EQ(out.tunnel_depth, 1);
  // Without address/control bytes and with a compressed protocol field.
  ASSERT_EQ(decode(ether(0x0800, ipv4(47, gre_pptp(Bytes{0x21} + inner_tcp(), 2, {})))), DecodeStatus::kOk);
  expect_inner();
  ASSERT_EQ(decode(ether(0x0800, ipv4(47, gre_pptp(ppp_frame(0x0057, ipv6(17, udp(1, 2, {}))), 3, {})))),
            DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv6);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(GreTest, PptpWithoutInnerIpStaysOuter) {
  // Acknowledgement only.
  ASSERT_EQ(decode(ether(0x0800, ipv4(47, gre_pptp({}, {}, 9)))), DecodeStatus::kOk);
  EXPECT_EQ(out.src, v4addr(kIpA));
  EXPECT_EQ(out.ip_proto, 47);
  EXPECT_EQ(out.tunnel_depth, 0);
  EXPECT_FALSE(out.has_l4);
  // Encrypted (MPPE compressed datagram, protocol 0xfd).
  ASSERT_EQ(decode(ether(0x0800, ipv4(47, gre_pptp(Bytes{0xff, 0x03, 0x00, 0xfd} + pattern(40), 4, 3)))),
            DecodeStatus::kOk);
  EXPECT_EQ(out.src, v4addr(kIpA));
  EXPECT_EQ(out.tunnel_depth, 0);
  EXPECT_EQ(out.payload_len, 44u);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(GreTest, BadVersionsAndHeaders) {
  EXPECT_EQ(decode(ether(0x0800, ipv4(47, be16(0x0002) + be16(0x0800) + inner_tcp()))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kBadGreVersion), 1u);
  EXPECT_EQ(out.src, v4addr(kIpA));  // the outer packet stays
  EXPECT_EQ(decode(ether(0x0800, ipv4(47, be16(0x0001) + be16(0x0800) + inner_tcp()))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kBadGreHeader), 1u);
  EXPECT_EQ(decode(ether(0x0800, ipv4(47, be16(0x3000) + be16(0x0800) + zeros(2)))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedGre), 1u);
}

TEST_F(GreTest, NestingIsLimited) {
  Bytes pkt = inner_tcp();
  for (int i = 0; i < 12; ++i) pkt = ipv4(47, gre(0x0800, pkt));
  EXPECT_EQ(decode(ether(0x0800, pkt)), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTooManyEncapsulations), 1u);
  EXPECT_EQ(out.l3, L3::kIpv4);
  EXPECT_EQ(out.ip_proto, 47);
  EXPECT_EQ(out.tunnel_depth, 8);

  decode::DecoderLimits limits;
  limits.max_encapsulation = 12;
  reset(limits);
  ASSERT_EQ(decode(ether(0x0800, pkt)), DecodeStatus::kOk);
  expect_inner();
  EXPECT_EQ(out.tunnel_depth, 12);
}

}  // namespace
}  // namespace trawl::test

// VXLAN.
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;
namespace anomaly = decode::anomaly;

class VxlanTest : public DecodeFixture {};

const Mac kInnerMac{0x02, 0, 0, 0, 0, 0x11};

TEST_F(VxlanTest, InnerFrameReplacesOuter) {
  const Bytes inner = ether(0x0800, ipv4(6, tcp(3333, 80, 0x18, bytes_of("in")), ip4(1, 1, 1, 1), ip4(2, 2, 2, 2)),
                            kMacB, kInnerMac);
  for (uint16_t port : std::initializer_list<uint16_t>{4789, 8472}) {
    ASSERT_EQ(decode(ether(0x0800, ipv4(17, udp(50000, port, vxlan(42, inner))))), DecodeStatus::kOk) << port;
    EXPECT_EQ(out.l3, L3::kIpv4);
    EXPECT_EQ(out.src, v4addr(ip4(1, 1, 1, 1)));
    EXPECT_EQ(out.ip_proto, 6);
    EXPECT_EQ(out.sport, 3333);
    EXPECT_EQ(out.dport, 80);
    EXPECT_EQ(out.src_mac, kInnerMac);
    EXPECT_EQ(out.tunnel_depth, 1);
    EXPECT_EQ(payload_string(), "in");
  }
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(VxlanTest, InnerNonIpClearsOuterTransport) {
  // Inner ARP: the outer UDP ports must not describe it.
  const Bytes inner = ether(0x0806, arp(1, kInnerMac, ip4(1, 1, 1, 1), Mac{}, ip4(1, 1, 1, 2)));
  ASSERT_EQ(decode(ether(0x0800, ipv4(17, udp(50000, 4789, vxlan(1, inner))))), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kArp);
  EXPECT_FALSE(out.has_l4);
  EXPECT_EQ(out.sport, 0);
  EXPECT_EQ(out.tunnel_depth, 1);
  EXPECT_EQ(out.src, core::IpAddress{});
}

TEST_F(VxlanTest, InnerIcmpClearsOuterPorts) {
  const Bytes inner = ether(0x0800, ipv4(89, pattern(20)));
  ASSERT_EQ(decode(ether(0x0800, ipv4(17, udp(50000, 4789, vxlan(1, inner))))), DecodeStatus::kOk);
  EXPECT_EQ(out.ip_proto, 89);
  EXPECT_FALSE(out.has_l4);
  EXPECT_EQ(out.sport, 0);
  EXPECT_EQ(out.dport, 0);
}

TEST_F(VxlanTest, NotVxlanStaysUdp) {
  // I flag clear.
  Bytes body = vxlan(1, ether(0x0800, ipv4(17, udp(1, 2, {}))));
  body[0] = 0;
  ASSERT_EQ(decode(ether(0x0800, ipv4(17, udp(50000, 4789, body)))), DecodeStatus::kOk);
  EXPECT_EQ(out.dport, 4789);
  EXPECT_EQ(out.tunnel_depth, 0);
  // Too short to hold a frame.
  ASSERT_EQ(decode(ether(0x0800, ipv4(17, udp(50000, 4789, bytes_of("hi"))))), DecodeStatus::kOk);
  EXPECT_EQ(out.dport, 4789);
  EXPECT_EQ(payload_string(), "hi");
}

TEST_F(VxlanTest, VxlanInsideVxlanAndVlan) {
  const Bytes innermost = ether(0x86dd, ipv6(17, udp(7, 9, bytes_of("deep"))));
  const Bytes middle = ether(0x8100, vlan(300, 0x0800, ipv4(17, udp(1, 4789, vxlan(2, innermost)))));
  ASSERT_EQ(decode(ether(0x0800, ipv4(17, udp(2, 4789, vxlan(1, middle))))), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv6);
  EXPECT_EQ(out.sport, 7);
  EXPECT_EQ(out.tunnel_depth, 2);
  EXPECT_EQ(out.vlan_count, 1);
  EXPECT_EQ(out.vlan[0], 300);
  EXPECT_EQ(payload_string(), "deep");
}

}  // namespace
}  // namespace trawl::test

// Linux cooked captures: SLL (113) and SLL2 (276).
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;
namespace anomaly = decode::anomaly;

class LinuxSllTest : public DecodeFixture {};

TEST_F(LinuxSllTest, SllIpv4) {
  ASSERT_EQ(decode(sll(0x0800, ipv4(6, tcp(1234, 80, 0x02))), 113), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv4);
  EXPECT_EQ(out.dport, 80);
  EXPECT_TRUE(out.has_mac);
  EXPECT_EQ(out.src_mac, kMacA);
  EXPECT_EQ(out.dst_mac, Mac{});  // SLL does not carry it
  EXPECT_EQ(out.linktype, 113);
}

TEST_F(LinuxSllTest, SllNonEthernetAddressIsNotAMac) {
  // ARPHRD_NONE (tun device), no link address.
  Bytes frame = sll(0x86dd, ipv6(17, udp(1, 2, {})), 0xfffe);
  frame[5] = 0;  // address length 0
  ASSERT_EQ(decode(frame, 113), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv6);
  EXPECT_FALSE(out.has_mac);
}

TEST_F(LinuxSllTest, SllVlanAndNonIp) {
  ASSERT_EQ(decode(sll(0x8100, vlan(7, 0x0800, ipv4(17, udp(1, 2, {})))), 113), DecodeStatus::kOk);
  EXPECT_EQ(out.vlan_count, 1);
  EXPECT_EQ(out.l3, L3::kIpv4);
  ASSERT_EQ(decode(sll(0x0003, zeros(20)), 113), DecodeStatus::kOk);  // ETH_P_ALL-ish, not IP
  EXPECT_EQ(out.l3, L3::kNone);
  ASSERT_EQ(decode(sll(0x0800, zeros(20), 824), 113), DecodeStatus::kOk);  // netlink
  EXPECT_EQ(out.l3, L3::kNone);
  ASSERT_EQ(decode(sll(0x0004, snap(0x0800, ipv4(17, udp(3, 4, {})))), 113), DecodeStatus::kOk);  // 802.2
  EXPECT_EQ(out.sport, 3);
}

TEST_F(LinuxSllTest, Sll2Ipv6) {
  ASSERT_EQ(decode(sll2(0x86dd, ipv6(17, udp(5353, 5353, bytes_of("mdns")))), 276), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv6);
  EXPECT_EQ(out.sport, 5353);
  EXPECT_EQ(payload_string(), "mdns");
  EXPECT_TRUE(out.has_mac);
  EXPECT_EQ(out.src_mac, kMacA);
}

TEST_F(LinuxSllTest, Sll2Arp) {
  ASSERT_EQ(decode(sll2(0x0806, arp(2, kMacA, kIpA, kMacB, kIpB)), 276), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kArp);
  EXPECT_EQ(out.arp.op, 2);
}

TEST_F(LinuxSllTest, Truncated) {
  EXPECT_EQ(decode(zeros(15), 113), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedSll), 1u);
  EXPECT_EQ(decode(zeros(19), 276), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedSll2), 1u);
}

}  // namespace
}  // namespace trawl::test

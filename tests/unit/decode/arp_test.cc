// ARP.
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;
namespace anomaly = decode::anomaly;

class ArpTest : public DecodeFixture {};

TEST_F(ArpTest, RequestAndReply) {
  ASSERT_EQ(decode(pad_to(ether(0x0806, arp(1, kMacA, kIpA, Mac{}, kIpB), Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), 60)),
            DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kArp);
  EXPECT_EQ(out.arp.op, 1);
  EXPECT_EQ(out.arp.sender_mac, kMacA);
  EXPECT_EQ(out.arp.sender_ip, v4addr(kIpA));
  EXPECT_EQ(out.arp.target_mac, Mac{});
  EXPECT_EQ(out.arp.target_ip, v4addr(kIpB));
  EXPECT_FALSE(out.has_l4);
  ASSERT_EQ(decode(ether(0x0806, arp(2, kMacB, kIpB, kMacA, kIpA))), DecodeStatus::kOk);
  EXPECT_EQ(out.arp.op, 2);
  EXPECT_EQ(out.arp.sender_mac, kMacB);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(ArpTest, OnlyEthernetIpv4) {
  Bytes body = arp(1, kMacA, kIpA, Mac{}, kIpB);
  body[1] = 6;  // IEEE 802 hardware
  ASSERT_EQ(decode(ether(0x0806, body)), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kNone);
  EXPECT_EQ(count(anomaly::kUnsupportedArp), 1u);
}

TEST_F(ArpTest, Truncated) {
  EXPECT_EQ(decode(ether(0x0806, Bytes{0, 1, 8, 0, 6, 4, 0})), DecodeStatus::kMalformed);
  EXPECT_EQ(decode(ether(0x0806, Bytes{0, 1, 8, 0, 6, 4, 0, 1} + zeros(10))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedArp), 2u);
  EXPECT_EQ(out.l3, L3::kNone);
}

}  // namespace
}  // namespace trawl::test

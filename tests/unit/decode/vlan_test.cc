// 802.1Q, QinQ (0x88a8, 0x9100) and the encapsulation limit.
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;
namespace anomaly = decode::anomaly;

class VlanTest : public DecodeFixture {};

TEST_F(VlanTest, SingleTag) {
  ASSERT_EQ(decode(ether(0x8100, vlan(100, 0x0800, ipv4(6, tcp(1, 2, 0x02))), kMacB, kMacA)), DecodeStatus::kOk);
  EXPECT_EQ(out.vlan_count, 1);
  EXPECT_EQ(out.vlan[0], 100);
  EXPECT_EQ(out.l3, L3::kIpv4);
  EXPECT_EQ(out.tcp_flags, 0x02);
}

TEST_F(VlanTest, PriorityBitsAreNotTheId) {
  ASSERT_EQ(decode(ether(0x8100, vlan(0x0abc, 0x86dd, ipv6(17, udp(1, 2, {})), 7))), DecodeStatus::kOk);
  EXPECT_EQ(out.vlan[0], 0x0abc);
  EXPECT_EQ(out.l3, L3::kIpv6);
}

TEST_F(VlanTest, QinQOuterFirst) {
  for (uint16_t outer : std::initializer_list<uint16_t>{0x88a8, 0x9100, 0x8100}) {
    const Bytes frame = ether(outer, vlan(200, 0x8100, vlan(300, 0x0800, ipv4(17, udp(5, 6, bytes_of("q"))))));
    ASSERT_EQ(decode(frame), DecodeStatus::kOk) << outer;
    EXPECT_EQ(out.vlan_count, 2);
    EXPECT_EQ(out.vlan[0], 200);
    EXPECT_EQ(out.vlan[1], 300);
    EXPECT_EQ(out.sport, 5);
    EXPECT_EQ(payload_string(), "q");
  }
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(VlanTest, ThirdTagIsDecodedThroughButNotKept) {
  const Bytes frame =
      ether(0x88a8, vlan(1, 0x8100, vlan(2, 0x8100, vlan(3, 0x0800, ipv4(17, udp(5, 6, bytes_of("q")))))));
  ASSERT_EQ(decode(frame), DecodeStatus::kOk);
  EXPECT_EQ(out.vlan_count, 2);
  EXPECT_EQ(out.vlan[0], 1);
  EXPECT_EQ(out.vlan[1], 2);
  EXPECT_EQ(out.l3, L3::kIpv4);
  EXPECT_EQ(count(anomaly::kVlanTagsBeyondTwo), 1u);
}

TEST_F(VlanTest, TagStackBeyondLimit) {
  Bytes inner = ipv4(17, udp(5, 6, {}));
  uint16_t type = 0x0800;
  for (int i = 0; i < 9; ++i) {
    inner = vlan(static_cast<uint16_t>(i + 1), type, inner);
    type = 0x8100;
  }
  EXPECT_EQ(decode(ether(0x8100, inner)), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTooManyEncapsulations), 1u);
  EXPECT_EQ(out.l3, L3::kNone);

  decode::DecoderLimits limits;
  limits.max_encapsulation = 9;
  reset(limits);
  EXPECT_EQ(decode(ether(0x8100, inner)), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv4);
}

TEST_F(VlanTest, TruncatedTag) {
  EXPECT_EQ(decode(ether(0x8100, Bytes{0x00, 0x64, 0x08})), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedVlan), 1u);
}

}  // namespace
}  // namespace trawl::test

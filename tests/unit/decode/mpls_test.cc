// MPLS label stacks, payload guessing and Ethernet pseudowires.
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;
namespace anomaly = decode::anomaly;

class MplsTest : public DecodeFixture {};

TEST_F(MplsTest, TwoLabelsThenIpv4) {
  const Bytes frame = ether(0x8847, mpls(16, false, mpls(17, true, ipv4(6, tcp(1000, 22, 0x12)))));
  ASSERT_EQ(decode(frame), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv4);
  EXPECT_EQ(out.dport, 22);
  EXPECT_EQ(out.tcp_flags, 0x12);
  EXPECT_EQ(out.tunnel_depth, 0);  // a label stack is not a tunnel
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(MplsTest, MulticastLabelThenIpv6) {
  ASSERT_EQ(decode(ether(0x8848, mpls(2, true, ipv6(17, udp(1, 2, bytes_of("six")))))), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv6);
  EXPECT_EQ(payload_string(), "six");
}

TEST_F(MplsTest, PseudowireControlWordThenEthernet) {
  const Bytes inner = ether(0x0800, ipv4(17, udp(7, 8, bytes_of("pw"))), Mac{2, 0, 0, 0, 0, 2}, Mac{2, 0, 0, 0, 0, 1});
  ASSERT_EQ(decode(ether(0x8847, mpls(100, false, mpls(200, true, zeros(4) + inner)))), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv4);
  EXPECT_EQ(out.src_mac, (Mac{2, 0, 0, 0, 0, 1}));  // the inner frame's
  EXPECT_EQ(out.sport, 7);
  EXPECT_EQ(out.tunnel_depth, 1);
  EXPECT_EQ(payload_string(), "pw");
}

TEST_F(MplsTest, UnknownPayloadIsNotIp) {
  ASSERT_EQ(decode(ether(0x8847, mpls(5, true, Bytes{0x91, 0x22} + zeros(40)))), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kNone);
  ASSERT_EQ(decode(ether(0x8847, mpls(5, true, {}))), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kNone);
}

TEST_F(MplsTest, StackWithoutBottomIsTruncated) {
  EXPECT_EQ(decode(ether(0x8847, mpls(1, false, mpls(2, false, {})))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedMpls), 1u);
  EXPECT_EQ(decode(ether(0x8847, Bytes{0, 1, 0x21})), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedMpls), 2u);
}

TEST_F(MplsTest, LongStackIsFine) {
  Bytes inner = mpls(99, true, ipv4(17, udp(1, 2, {})));
  for (uint32_t l = 0; l < 20; ++l) inner = mpls(l + 16, false, inner);
  ASSERT_EQ(decode(ether(0x8847, inner)), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv4);
}

}  // namespace
}  // namespace trawl::test

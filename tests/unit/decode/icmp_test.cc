// ICMP and ICMPv6.
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;
namespace anomaly = decode::anomaly;

class IcmpTest : public DecodeFixture {};

TEST_F(IcmpTest, EchoRequest) {
  ASSERT_EQ(decode(ether(0x0800, ipv4(1, icmp(8, 0, 0x4242, 1, pattern(56))))), DecodeStatus::kOk);
  EXPECT_TRUE(out.has_l4);
  EXPECT_EQ(out.ip_proto, 1);
  EXPECT_EQ(out.sport, 8);
  EXPECT_EQ(out.dport, 0);
  EXPECT_EQ(out.icmp_id, 0x4242);
  EXPECT_EQ(out.payload_len, 56u);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(IcmpTest, ErrorQuotesAnotherPacketAsPayload) {
  const Bytes quoted = ipv4(17, udp(33434, 33435, {}), kIpB, ip4(8, 8, 8, 8));
  ASSERT_EQ(decode(ether(0x0800, ipv4(1, icmp(3, 3, 0, 0, quoted), ip4(8, 8, 8, 8), kIpB))), DecodeStatus::kOk);
  EXPECT_EQ(out.src, v4addr(ip4(8, 8, 8, 8)));
  EXPECT_EQ(out.ip_proto, 1);
  EXPECT_EQ(out.sport, 3);
  EXPECT_EQ(out.dport, 3);
  EXPECT_EQ(out.icmp_id, 0);  // not an echo
  EXPECT_EQ(out.payload_len, quoted.size());
  EXPECT_EQ(out.tunnel_depth, 0);
}

TEST_F(IcmpTest, Icmpv6Echo) {
  ASSERT_EQ(decode(ether(0x86dd, ipv6(58, icmp(128, 0, 7, 1, bytes_of("ping"))))), DecodeStatus::kOk);
  EXPECT_EQ(out.ip_proto, 58);
  EXPECT_EQ(out.sport, 128);
  EXPECT_EQ(out.icmp_id, 7);
  EXPECT_EQ(payload_string(), "ping");
  // Neighbour solicitation: no echo id.
  ASSERT_EQ(decode(ether(0x86dd, ipv6(58, icmp(135, 0, 0, 0, zeros(16))))), DecodeStatus::kOk);
  EXPECT_EQ(out.sport, 135);
  EXPECT_EQ(out.icmp_id, 0);
}

TEST_F(IcmpTest, Truncated) {
  EXPECT_EQ(decode(pad_to(ether(0x0800, ipv4(1, Bytes{8, 0, 0, 0})), 60)), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedIcmp), 1u);
  EXPECT_EQ(out.sport, 8);
  EXPECT_EQ(decode(ether(0x86dd, ipv6(58, Bytes{128, 0, 0}))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedIcmpv6), 1u);
}

}  // namespace
}  // namespace trawl::test

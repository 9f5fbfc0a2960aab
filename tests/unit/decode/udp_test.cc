// UDP.
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
namespace anomaly = decode::anomaly;

class UdpTest : public DecodeFixture {};

TEST_F(UdpTest, PortsAndPayload) {
  ASSERT_EQ(decode(ether(0x0800, ipv4(17, udp(5353, 53, bytes_of("query"))))), DecodeStatus::kOk);
  EXPECT_TRUE(out.has_l4);
  EXPECT_EQ(out.sport, 5353);
  EXPECT_EQ(out.dport, 53);
  EXPECT_EQ(out.payload_len, 5u);
  EXPECT_EQ(payload_string(), "query");
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(UdpTest, LengthMismatchTrustsIp) {
  ASSERT_EQ(decode(ether(0x0800, ipv4(17, udp(1, 2, bytes_of("abcdef"), 9)))), DecodeStatus::kOk);
  EXPECT_EQ(count(anomaly::kUdpLengthMismatch), 1u);
  EXPECT_EQ(out.payload_len, 6u);
  ASSERT_EQ(decode(ether(0x0800, ipv4(17, udp(1, 2, bytes_of("abcdef"), 900)))), DecodeStatus::kOk);
  EXPECT_EQ(count(anomaly::kUdpLengthMismatch), 2u);
  EXPECT_EQ(out.payload_len, 6u);
}

TEST_F(UdpTest, Truncated) {
  EXPECT_EQ(decode(pad_to(ether(0x0800, ipv4(17, zeros(6))), 60)), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kUdpHeaderExceedsIpPayload), 1u);
  const Bytes frame = ether(0x0800, ipv4(17, udp(1, 2, pattern(20))));
  EXPECT_EQ(decode_cut(frame, 14 + 20 + 5, true), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kHeaderCutBySnaplen), 1u);
  EXPECT_EQ(out.sport, 1);
  EXPECT_EQ(decode_cut(frame, 14 + 20 + 5, false), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kUdpHeaderExceedsIpPayload), 2u);
}

}  // namespace
}  // namespace trawl::test

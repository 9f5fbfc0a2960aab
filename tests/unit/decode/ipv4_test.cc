// IPv4 header checks, options, and total length against the capture.
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;
namespace anomaly = decode::anomaly;

class Ipv4Test : public DecodeFixture {};

TEST_F(Ipv4Test, OptionsAreSkipped) {
  Ip4 h;
  h.proto = 17;
  h.options = Bytes{0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00};  // router alert, NOP, NOP, NOP, EOL
  ASSERT_EQ(decode(ether(0x0800, ipv4(h, udp(1, 2, bytes_of("opt"))))), DecodeStatus::kOk);
  EXPECT_EQ(out.sport, 1);
  EXPECT_EQ(out.ip_len, 28u + 8u + 3u);
  EXPECT_EQ(payload_string(), "opt");
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(Ipv4Test, TtlAndUnknownProtocolPayload) {
  Ip4 h;
  h.proto = 89;  // OSPF
  h.ttl = 1;
  ASSERT_EQ(decode(ether(0x0800, ipv4(h, pattern(24)))), DecodeStatus::kOk);
  EXPECT_EQ(out.ip_proto, 89);
  EXPECT_EQ(out.ttl, 1);
  EXPECT_FALSE(out.has_l4);
  EXPECT_EQ(out.payload_len, 24u);
  EXPECT_EQ(out.payload.size(), 24u);
}

TEST_F(Ipv4Test, BadVersionAndHeaderLength) {
  Ip4 h;
  h.version = 5;
  EXPECT_EQ(decode(ether(0x0800, ipv4(h, tcp(1, 2, 0)))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kBadIpVersion), 1u);
  EXPECT_EQ(out.l3, L3::kNone);

  Ip4 small;
  small.ihl = 4;
  EXPECT_EQ(decode(ether(0x0800, ipv4(small, tcp(1, 2, 0)))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kBadIpHeaderLength), 1u);

  Ip4 big;
  big.ihl = 15;  // 60 bytes of header; only 20 + 20 there
  EXPECT_EQ(decode(ether(0x0800, ipv4(big, zeros(10)))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedIpv4), 1u);
}

TEST_F(Ipv4Test, TotalLengthShorterThanHeader) {
  Ip4 h;
  h.total_length = 12;
  EXPECT_EQ(decode(ether(0x0800, ipv4(h, tcp(1, 2, 0)))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kBadIpTotalLength), 1u);
  EXPECT_EQ(out.l3, L3::kIpv4);  // the addresses were fine
  EXPECT_EQ(out.src, v4addr(kIpA));
  EXPECT_FALSE(out.has_l4);
}

TEST_F(Ipv4Test, LyingTotalLengthIsClampedAndCounted) {
  Ip4 h;
  h.proto = 17;
  h.total_length = 1000;
  const Bytes frame = ether(0x0800, ipv4(h, udp(1, 2, bytes_of("abcd"), 12)));
  ASSERT_EQ(decode(frame), DecodeStatus::kOk);
  EXPECT_EQ(count(anomaly::kIpTotalLengthExceedsCapture), 1u);
  EXPECT_EQ(out.ip_len, 32u);
  EXPECT_EQ(out.payload_len, 4u);
  EXPECT_EQ(payload_string(), "abcd");
}

TEST_F(Ipv4Test, SnaplenCutIsNotAnAnomaly) {
  const Bytes frame = ether(0x0800, ipv4(6, tcp(1, 2, 0x18, pattern(1000))));
  // 14 + 20 + 20 + 28 bytes captured of 1074.
  ASSERT_EQ(decode_cut(frame, 82, true), DecodeStatus::kOk);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
  EXPECT_EQ(out.ip_len, 1040u);
  EXPECT_EQ(out.payload_len, 1000u);
  EXPECT_EQ(out.payload.size(), 28u);
  EXPECT_TRUE(out.has_l4);
  // The same bytes with caplen == wirelen: the header lies.
  ASSERT_EQ(decode_cut(frame, 82, false), DecodeStatus::kOk);
  EXPECT_EQ(count(anomaly::kIpTotalLengthExceedsCapture), 1u);
  EXPECT_EQ(out.ip_len, 68u);
  EXPECT_EQ(out.payload_len, 28u);
}

TEST_F(Ipv4Test, TotalLengthBeyondEvenTheWireLengthLies) {
  Ip4 h;
  h.proto = 17;
  h.total_length = 5000;
  const Bytes frame = ether(0x0800, ipv4(h, udp(1, 2, zeros(100))));
  // wirelen says 10 more bytes than captured; the header wants ~4900 more.
  ASSERT_EQ(decode(frame, 1, static_cast<uint32_t>(frame.size() + 10)), DecodeStatus::kOk);
  EXPECT_EQ(count(anomaly::kIpTotalLengthExceedsCapture), 1u);
  EXPECT_EQ(out.ip_len, 128u);
}

TEST_F(Ipv4Test, ZeroTotalLengthFromSegmentationOffload) {
  Ip4 h;
  h.total_length = 0;
  const Bytes frame = ether(0x0800, ipv4(h, tcp(1, 2, 0x18, pattern(3000))));
  ASSERT_EQ(decode(frame), DecodeStatus::kOk);
  EXPECT_EQ(count(anomaly::kIpv4ZeroTotalLength), 1u);
  EXPECT_EQ(out.ip_len, 3040u);
  EXPECT_EQ(out.payload_len, 3000u);
  // With snaplen: the wire length tells the real size.
  ASSERT_EQ(decode_cut(frame, 200, true), DecodeStatus::kOk);
  EXPECT_EQ(out.ip_len, 3040u);
  EXPECT_EQ(out.payload_len, 3000u);
  EXPECT_EQ(out.payload.size(), 200u - 54u);
}

TEST_F(Ipv4Test, IpInIpReplacesOuter) {
  const Bytes inner = ipv4(17, udp(53, 53, bytes_of("in")), ip4(172, 16, 0, 1), ip4(172, 16, 0, 2));
  ASSERT_EQ(decode(ether(0x0800, ipv4(4, inner))), DecodeStatus::kOk);
  EXPECT_EQ(out.src, v4addr(ip4(172, 16, 0, 1)));
  EXPECT_EQ(out.tunnel_depth, 1);
  EXPECT_EQ(payload_string(), "in");
  // 6in4
  ASSERT_EQ(decode(ether(0x0800, ipv4(41, ipv6(17, udp(1, 2, {}))))), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv6);
  EXPECT_EQ(out.tunnel_depth, 1);
}

TEST_F(Ipv4Test, BrokenInnerPacketKeepsOuter) {
  ASSERT_EQ(decode(ether(0x0800, ipv4(4, zeros(10)))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedIpv4), 1u);
  EXPECT_EQ(out.l3, L3::kIpv4);
  EXPECT_EQ(out.src, v4addr(kIpA));
  EXPECT_EQ(out.ip_proto, 4);
  EXPECT_EQ(out.tunnel_depth, 0);
}

}  // namespace
}  // namespace trawl::test

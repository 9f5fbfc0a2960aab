// PPPoE session frames and the PPP framing shared with PPTP.
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;
namespace anomaly = decode::anomaly;

class PppoeTest : public DecodeFixture {};

TEST_F(PppoeTest, Ipv4) {
  ASSERT_EQ(decode(ether(0x8864, pppoe_session(0x0021, ipv4(6, tcp(1, 443, 0x02))))), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv4);
  EXPECT_EQ(out.dport, 443);
  EXPECT_EQ(out.tunnel_depth, 0);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(PppoeTest, Ipv6InsideVlan) {
  const Bytes frame = ether(0x8100, vlan(10, 0x8864, pppoe_session(0x0057, ipv6(17, udp(546, 547, bytes_of("d"))))));
  ASSERT_EQ(decode(frame), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv6);
  EXPECT_EQ(out.vlan_count, 1);
  EXPECT_EQ(out.sport, 546);
}

TEST_F(PppoeTest, LcpAndDiscoveryAreNotIp) {
  ASSERT_EQ(decode(pad_to(ether(0x8864, pppoe_session(0xc021, Bytes{1, 1, 0, 4})), 60)), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kNone);
  ASSERT_EQ(decode(pad_to(ether(0x8863, Bytes{0x11, 0x09, 0, 0, 0, 0}), 60)), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kNone);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(PppoeTest, LengthFieldKeepsPaddingOut) {
  // The IP header says 28 bytes; the PPPoE length says the same; frame padded.
  const Bytes frame = pad_to(ether(0x8864, pppoe_session(0x0021, ipv4(17, udp(1, 2, {})))), 80);
  ASSERT_EQ(decode(frame), DecodeStatus::kOk);
  EXPECT_EQ(out.ip_len, 28u);
  EXPECT_EQ(out.payload_len, 0u);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(PppoeTest, LyingLengthIsCounted) {
  Bytes body = pppoe_session(0x0021, ipv4(17, udp(1, 2, {})));
  body[4] = 0x05;  // length 0x05xx: far more than present
  ASSERT_EQ(decode(ether(0x8864, body)), DecodeStatus::kOk);
  EXPECT_EQ(count(anomaly::kPppoeLengthExceedsCapture), 1u);
  EXPECT_EQ(out.l3, L3::kIpv4);
}

TEST_F(PppoeTest, BadHeader) {
  Bytes body = pppoe_session(0x0021, ipv4(17, udp(1, 2, {})));
  body[0] = 0x12;
  EXPECT_EQ(decode(ether(0x8864, body)), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kBadPppoeHeader), 1u);
  EXPECT_EQ(decode(ether(0x8864, Bytes{0x11, 0, 0, 1})), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedPppoe), 1u);
}

TEST_F(PppoeTest, CompressedProtocolField) {
  // PFC: protocol 0x21 in one byte.
  Bytes ppp = Bytes{0x21} + ipv4(17, udp(1, 2, {}));
  const Bytes body = Bytes{0x11, 0x00, 0x00, 0x01} + be16(static_cast<uint32_t>(ppp.size())) + ppp;
  ASSERT_EQ(decode(ether(0x8864, body)), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv4);
}

}  // namespace
}  // namespace trawl::test

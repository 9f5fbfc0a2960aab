// IPv6: extension header chains, No Next Header, limits, jumbograms.
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;
namespace anomaly = decode::anomaly;

class Ipv6Test : public DecodeFixture {};

TEST_F(Ipv6Test, BasicFields) {
  Ip6Hdr h;
  h.next = 6;
  h.hop_limit = 255;
  ASSERT_EQ(decode(ether(0x86dd, ipv6(h, tcp(1, 2, 0x02, bytes_of("x"))))), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv6);
  EXPECT_EQ(out.src, v6addr(kIp6A));
  EXPECT_EQ(out.dst, v6addr(kIp6B));
  EXPECT_TRUE(out.src.is_v6());
  EXPECT_EQ(out.ttl, 255);
  EXPECT_EQ(out.ip_proto, 6);
  EXPECT_EQ(out.ip_len, 40u + 21u);
  EXPECT_EQ(out.payload_len, 1u);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(Ipv6Test, ExtensionHeaderChain) {
  // hop-by-hop -> destination options -> routing -> AH -> mobility? No:
  // mobility carries no upper layer; it is tested on its own below.
  const Bytes chain = ipv6_ext(60, 1) + ipv6_ext(43, 2) + ipv6_ext(51, 1) + ipv6_ah(60) + ipv6_ext(17, 1);
  const Bytes pkt = ipv6(0, chain + udp(500, 4500, bytes_of("ike")));
  ASSERT_EQ(decode(ether(0x86dd, pkt)), DecodeStatus::kOk);
  EXPECT_EQ(out.ip_proto, 17);
  EXPECT_EQ(out.sport, 500);
  EXPECT_EQ(out.dport, 4500);
  EXPECT_EQ(out.payload_len, 3u);
  EXPECT_EQ(payload_string(), "ike");
  EXPECT_EQ(out.ip_len, 40u + chain.size() + 11u);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(Ipv6Test, MobilityAndNoNextHeader) {
  ASSERT_EQ(decode(ether(0x86dd, ipv6(135, ipv6_ext(59, 2)))), DecodeStatus::kOk);
  EXPECT_EQ(out.ip_proto, 59);
  EXPECT_FALSE(out.has_l4);
  ASSERT_EQ(decode(ether(0x86dd, ipv6(59, {}))), DecodeStatus::kOk);
  EXPECT_EQ(out.ip_proto, 59);
  EXPECT_EQ(out.payload_len, 0u);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(Ipv6Test, EspStopsTheWalk) {
  ASSERT_EQ(decode(ether(0x86dd, ipv6(50, pattern(40)))), DecodeStatus::kOk);
  EXPECT_EQ(out.ip_proto, 50);
  EXPECT_FALSE(out.has_l4);
  EXPECT_EQ(out.payload_len, 40u);
}

TEST_F(Ipv6Test, TooManyExtensionHeaders) {
  Bytes chain;
  for (int i = 0; i < 20; ++i) chain = chain + ipv6_ext(60, 1);
  chain = chain + ipv6_ext(17, 1);
  EXPECT_EQ(decode(ether(0x86dd, ipv6(60, chain + udp(1, 2, {})))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTooManyIpv6ExtHeaders), 1u);
  EXPECT_EQ(out.l3, L3::kIpv6);
  EXPECT_FALSE(out.has_l4);
}

TEST_F(Ipv6Test, ExtensionHeaderBeyondPayload) {
  Bytes ext = ipv6_ext(17, 1);
  ext[1] = 200;  // claims 1608 bytes
  EXPECT_EQ(decode(ether(0x86dd, ipv6(0, ext + udp(1, 2, {})))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kIpv6ExtHeaderExceedsPayload), 1u);
}

TEST_F(Ipv6Test, TruncatedExtensionHeaderUnderSnaplen) {
  const Bytes frame = ether(0x86dd, ipv6(0, ipv6_ext(60, 4) + ipv6_ext(6, 1) + tcp(1, 2, 0x02)));
  EXPECT_EQ(decode_cut(frame, 14 + 40 + 20, true), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kHeaderCutBySnaplen), 1u);
  EXPECT_EQ(count(anomaly::kTruncatedIpv6ExtHeader), 0u);
  EXPECT_EQ(decode_cut(frame, 14 + 40 + 20, false), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kIpTotalLengthExceedsCapture), 1u);
  EXPECT_EQ(count(anomaly::kIpv6ExtHeaderExceedsPayload), 1u);  // clamped length no longer holds it
}

TEST_F(Ipv6Test, PayloadLengthLiesOrIsCut) {
  Ip6Hdr h;
  h.next = 17;
  h.payload_length = 900;
  ASSERT_EQ(decode(ether(0x86dd, ipv6(h, udp(1, 2, bytes_of("abc"), 11)))), DecodeStatus::kOk);
  EXPECT_EQ(count(anomaly::kIpTotalLengthExceedsCapture), 1u);
  EXPECT_EQ(out.ip_len, 40u + 11u);
  EXPECT_EQ(out.payload_len, 3u);

  const Bytes frame = ether(0x86dd, ipv6(17, udp(1, 2, pattern(500))));
  ASSERT_EQ(decode_cut(frame, 100, true), DecodeStatus::kOk);
  EXPECT_EQ(count(anomaly::kIpTotalLengthExceedsCapture), 1u);  // unchanged
  EXPECT_EQ(out.ip_len, 548u);
  EXPECT_EQ(out.payload_len, 500u);
  EXPECT_EQ(out.payload.size(), 100u - 14u - 48u);
}

TEST_F(Ipv6Test, Jumbogram) {
  // Payload length 0 with a hop-by-hop header (the jumbo option would be in it).
  Ip6Hdr h;
  h.next = 0;
  h.payload_length = 0;
  const Bytes hbh = Bytes{17, 0, 0xc2, 4} + be32(70000);
  ASSERT_EQ(decode(ether(0x86dd, ipv6(h, hbh + udp(1, 2, bytes_of("big"), 0)))), DecodeStatus::kOk);
  EXPECT_EQ(count(anomaly::kIpv6Jumbogram), 1u);
  EXPECT_EQ(out.sport, 1);
  EXPECT_EQ(out.payload_len, 3u);
}

TEST_F(Ipv6Test, BadVersion) {
  Bytes pkt = ipv6(17, udp(1, 2, {}));
  pkt[0] = 0x40;
  EXPECT_EQ(decode(ether(0x86dd, pkt)), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kBadIpVersion), 1u);
  EXPECT_EQ(decode(ether(0x86dd, zeros(39))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedIpv6), 1u);
}

}  // namespace
}  // namespace trawl::test

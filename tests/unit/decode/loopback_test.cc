// BSD loopback (NULL, LOOP) and raw IP link types.
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;
namespace anomaly = decode::anomaly;

class LoopbackTest : public DecodeFixture {};

TEST_F(LoopbackTest, NullEitherByteOrder) {
  const Bytes v4 = ipv4(6, tcp(1, 2, 0x02));
  ASSERT_EQ(decode(le32(2) + v4, 0), DecodeStatus::kOk);  // little-endian host
  EXPECT_EQ(out.l3, L3::kIpv4);
  ASSERT_EQ(decode(be32(2) + v4, 0), DecodeStatus::kOk);  // big-endian host
  EXPECT_EQ(out.l3, L3::kIpv4);
  const Bytes v6 = ipv6(17, udp(1, 2, {}));
  for (uint32_t family : {24u, 28u, 30u}) {
    ASSERT_EQ(decode(le32(family) + v6, 0), DecodeStatus::kOk) << family;
    EXPECT_EQ(out.l3, L3::kIpv6);
    ASSERT_EQ(decode(be32(family) + v6, 0), DecodeStatus::kOk) << family;
    EXPECT_EQ(out.l3, L3::kIpv6);
  }
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(LoopbackTest, Loop) {
  ASSERT_EQ(decode(be32(2) + ipv4(17, udp(1, 2, {})), 108), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv4);
  ASSERT_EQ(decode(be32(24) + ipv6(17, udp(1, 2, {})), 108), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv6);
}

TEST_F(LoopbackTest, UnknownFamilyAndTruncation) {
  ASSERT_EQ(decode(le32(7) + zeros(20), 0), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kNone);
  EXPECT_EQ(count(anomaly::kUnknownLoopbackFamily), 1u);
  EXPECT_EQ(decode(Bytes{2, 0, 0}, 0), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTruncatedLoopback), 1u);
}

class RawIpTest : public DecodeFixture {};

TEST_F(RawIpTest, VersionNibbleDecides) {
  for (uint16_t lt : std::initializer_list<uint16_t>{101, 12, 14}) {
    ASSERT_EQ(decode(ipv4(17, udp(1, 2, {})), lt), DecodeStatus::kOk) << lt;
    EXPECT_EQ(out.l3, L3::kIpv4);
    EXPECT_FALSE(out.has_mac);
    ASSERT_EQ(decode(ipv6(17, udp(1, 2, {})), lt), DecodeStatus::kOk) << lt;
    EXPECT_EQ(out.l3, L3::kIpv6);
  }
  EXPECT_EQ(decode(Bytes{0x50} + zeros(30), 101), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kBadIpVersion), 1u);
  EXPECT_EQ(decode({}, 101), DecodeStatus::kMalformed);
}

TEST_F(RawIpTest, FixedVersionLinktypes) {
  ASSERT_EQ(decode(ipv4(17, udp(1, 2, {})), 228), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv4);
  ASSERT_EQ(decode(ipv6(17, udp(1, 2, {})), 229), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv6);
  EXPECT_EQ(decode(ipv6(17, udp(1, 2, {})), 228), DecodeStatus::kMalformed);
  EXPECT_EQ(decode(ipv4(17, udp(1, 2, zeros(20))), 229), DecodeStatus::kMalformed);  // 48 bytes: a full IPv6 header's worth
  EXPECT_EQ(count(anomaly::kBadIpVersion), 2u);
}

}  // namespace
}  // namespace trawl::test

// Checksums are not verified unless asked (offload makes them wrong in many
// captures); when asked, a wrong one sets bad_checksum and is counted.
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
namespace anomaly = decode::anomaly;

class ChecksumTest : public DecodeFixture {
 protected:
  void verify() {
    decode::DecoderLimits limits;
    limits.verify_checksums = true;
    reset(limits);
  }
};

Bytes corrupt(Bytes frame, size_t at) {
  frame[at] ^= 0x5a;
  return frame;
}

TEST_F(ChecksumTest, NotVerifiedByDefault) {
  ASSERT_EQ(decode(corrupt(eth_ipv4_tcp(), 14 + 10)), DecodeStatus::kOk);  // IPv4 header checksum
  EXPECT_FALSE(out.bad_checksum);
  ASSERT_EQ(decode(corrupt(eth_ipv4_tcp(), 14 + 20 + 16)), DecodeStatus::kOk);  // TCP checksum
  EXPECT_FALSE(out.bad_checksum);
  EXPECT_EQ(total_anomalies(), 0u);
}

TEST_F(ChecksumTest, GoodChecksumsPass) {
  verify();
  const Bytes frames[] = {
      eth_ipv4_tcp(),
      ether(0x0800, ipv4(17, udp(1, 2, bytes_of("odd")))),
      ether(0x0800, ipv4(1, icmp(8, 0, 1, 2, pattern(33)))),
      ether(0x86dd, ipv6(6, tcp(1, 2, 0x02, pattern(9)))),
      ether(0x86dd, ipv6(17, udp(1, 2, pattern(10)))),
      ether(0x86dd, ipv6(58, icmp(128, 0, 1, 2, pattern(7)))),
  };
  for (const Bytes& f : frames) {
    ASSERT_EQ(decode(f), DecodeStatus::kOk);
    EXPECT_FALSE(out.bad_checksum);
  }
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(ChecksumTest, BadChecksumsAreFlagged) {
  verify();
  ASSERT_EQ(decode(corrupt(eth_ipv4_tcp(), 14 + 11)), DecodeStatus::kOk);
  EXPECT_TRUE(out.bad_checksum);
  EXPECT_EQ(count(anomaly::kBadIpv4Checksum), 1u);
  ASSERT_EQ(decode(corrupt(eth_ipv4_tcp(), 14 + 20 + 20 + 1)), DecodeStatus::kOk);  // payload byte
  EXPECT_TRUE(out.bad_checksum);
  EXPECT_EQ(count(anomaly::kBadTcpChecksum), 1u);
  ASSERT_EQ(decode(corrupt(ether(0x86dd, ipv6(17, udp(1, 2, pattern(10)))), 14 + 40 + 9)), DecodeStatus::kOk);
  EXPECT_TRUE(out.bad_checksum);
  EXPECT_EQ(count(anomaly::kBadUdpChecksum), 1u);
  ASSERT_EQ(decode(corrupt(ether(0x0800, ipv4(1, icmp(8, 0, 1, 2, pattern(33)))), 14 + 20 + 9)), DecodeStatus::kOk);
  EXPECT_TRUE(out.bad_checksum);
  EXPECT_EQ(count(anomaly::kBadIcmpChecksum), 1u);
}

TEST_F(ChecksumTest, ZeroUdpChecksumMeansNone) {
  verify();
  Bytes frame = ether(0x0800, ipv4(17, udp(1, 2, pattern(10))));
  frame[14 + 20 + 6] = 0;
  frame[14 + 20 + 7] = 0;
  ASSERT_EQ(decode(frame), DecodeStatus::kOk);
  EXPECT_FALSE(out.bad_checksum);
}

TEST_F(ChecksumTest, SnaplenCutSegmentsAreNotJudged) {
  verify();
  ASSERT_EQ(decode_cut(eth_ipv4_tcp(pattern(100)), 60, true), DecodeStatus::kOk);
  EXPECT_FALSE(out.bad_checksum);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(ChecksumTest, ReassembledDatagramIsVerified) {
  verify();
  Ip4 whole;
  whole.proto = 17;
  const Bytes full = ipv4(whole, udp(1, 2, pattern(100)));
  const Bytes seg(full.begin() + 20, full.end());
  Ip4 a;
  a.proto = 17;
  a.mf = true;
  Ip4 b = a;
  b.mf = false;
  b.frag_offset = 64;
  EXPECT_EQ(decode(ether(0x0800, ipv4(a, Bytes(seg.begin(), seg.begin() + 64)))), DecodeStatus::kConsumed);
  ASSERT_EQ(decode(ether(0x0800, ipv4(b, Bytes(seg.begin() + 64, seg.end())))), DecodeStatus::kOk);
  EXPECT_TRUE(out.reassembled);
  EXPECT_FALSE(out.bad_checksum);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

}  // namespace
}  // namespace trawl::test

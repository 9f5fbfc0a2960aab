// TCP header checks and options.
#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
namespace anomaly = decode::anomaly;
namespace tcp_flag = decode::tcp_flag;

class TcpTest : public DecodeFixture {
 protected:
  DecodeStatus decode_syn(const Bytes& options) {
    Tcp t;
    t.flags = tcp_flag::kSyn;
    t.options = options;
    return decode(ether(0x0800, ipv4(6, tcp(t))));
  }
};

TEST_F(TcpTest, SynOptions) {
  // MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (Linux order).
  const Bytes opts = Bytes{2, 4, 0x05, 0xb4, 4, 2, 8, 10} + zeros(8) + Bytes{1, 3, 3, 7};
  ASSERT_EQ(decode_syn(opts), DecodeStatus::kOk);
  EXPECT_EQ(out.mss, 1460);
  EXPECT_TRUE(out.sack_permitted);
  EXPECT_EQ(out.wscale, 7);
  EXPECT_EQ(out.tcp_flags, tcp_flag::kSyn);
  EXPECT_EQ(out.payload_len, 0u);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(TcpTest, NoOptions) {
  ASSERT_EQ(decode_syn({}), DecodeStatus::kOk);
  EXPECT_EQ(out.mss, 0);
  EXPECT_EQ(out.wscale, -1);
  EXPECT_FALSE(out.sack_permitted);
}

TEST_F(TcpTest, EndOfOptionListStopsParsing) {
  ASSERT_EQ(decode_syn(Bytes{2, 4, 0x02, 0x18, 0, 3, 3, 9}), DecodeStatus::kOk);
  EXPECT_EQ(out.mss, 0x218);
  EXPECT_EQ(out.wscale, -1);  // after EOL: padding, not an option
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(TcpTest, MalformedOptionsStillUseTheHeader) {
  const Bytes bad_sets[] = {
      Bytes{2, 4, 0x05, 0xb4, 3, 0, 0, 0},   // length 0
      Bytes{2, 4, 0x05, 0xb4, 8, 40, 0, 0},  // runs past the options area
      Bytes{2, 3, 0x05, 0x01},               // MSS of the wrong length
      Bytes{1, 1, 1, 2},                     // kind without length byte
  };
  uint64_t expected = 0;
  for (const Bytes& opts : bad_sets) {
    ASSERT_EQ(decode_syn(opts), DecodeStatus::kOk);
    EXPECT_TRUE(out.has_l4);
    EXPECT_EQ(out.tcp_flags, tcp_flag::kSyn);
    EXPECT_EQ(count(anomaly::kBadTcpOption), ++expected);
  }
  // What came before the damage is kept.
  ASSERT_EQ(decode_syn(bad_sets[0]), DecodeStatus::kOk);
  EXPECT_EQ(out.mss, 1460);
}

TEST_F(TcpTest, OversizedWindowScaleIsClamped) {
  ASSERT_EQ(decode_syn(Bytes{3, 3, 20, 0}), DecodeStatus::kOk);
  EXPECT_EQ(out.wscale, 14);
  EXPECT_EQ(count(anomaly::kTcpWscaleTooLarge), 1u);
}

TEST_F(TcpTest, BadDataOffset) {
  Tcp t;
  t.data_offset = 4;
  EXPECT_EQ(decode(ether(0x0800, ipv4(6, tcp(t, pattern(10))))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kBadTcpHeaderLength), 1u);
  EXPECT_FALSE(out.has_l4);
  EXPECT_EQ(out.sport, 40000);  // what was read before the damage
}

TEST_F(TcpTest, HeaderLongerThanIpPayload) {
  Tcp t;
  t.data_offset = 15;  // 60 bytes; the segment has 20 + 10
  EXPECT_EQ(decode(ether(0x0800, ipv4(6, tcp(t, pattern(10))))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTcpHeaderExceedsIpPayload), 1u);
  EXPECT_FALSE(out.has_l4);
  EXPECT_EQ(out.payload_len, 0u);
  // IP payload shorter than any TCP header.
  EXPECT_EQ(decode(pad_to(ether(0x0800, ipv4(6, zeros(12))), 80)), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kTcpHeaderExceedsIpPayload), 2u);
  EXPECT_EQ(out.sport, 0);
}

TEST_F(TcpTest, PayloadUnderSnaplen) {
  const Bytes frame = ether(0x0800, ipv4(6, tcp(1, 2, 0x18, pattern(100))));
  ASSERT_EQ(decode_cut(frame, 60, true), DecodeStatus::kOk);
  EXPECT_EQ(out.payload_len, 100u);
  EXPECT_EQ(out.payload.size(), 6u);
  EXPECT_EQ(out.payload[0], pattern(100)[0]);
  // Header cut by snaplen: ports are there, the rest is not.
  EXPECT_EQ(decode_cut(frame, 40, true), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kHeaderCutBySnaplen), 1u);
  EXPECT_EQ(out.sport, 1);
  EXPECT_EQ(out.dport, 2);
  EXPECT_FALSE(out.has_l4);
}

TEST_F(TcpTest, AllFlagsAndIpv6) {
  ASSERT_EQ(decode(ether(0x86dd, ipv6(6, tcp(1, 2, 0xff)))), DecodeStatus::kOk);
  EXPECT_EQ(out.tcp_flags, 0xff);
  EXPECT_TRUE(out.has_l4);
}

}  // namespace
}  // namespace trawl::test

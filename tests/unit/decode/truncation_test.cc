// Every encapsulation, cut at every byte: never a crash; under snaplen the
// status is kOk exactly when every header is complete, and header fields do
// not change; with caplen == wirelen (a lying header) complete headers still
// give kOk.
#include <string>
#include <vector>

#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;

struct Sample {
  std::string name;
  Bytes frame;
  uint16_t linktype;
  size_t headers_end;  // bytes needed for every header down to the transport
};

std::vector<Sample> samples() {
  Tcp syn;
  syn.flags = 0x02;
  syn.options = Bytes{2, 4, 0x05, 0xb4, 4, 2, 8, 10} + zeros(8) + Bytes{1, 3, 3, 7};
  Gre gck;
  gck.checksum = 0;
  gck.key = 9;
  gck.seq = 1;
  Gre gerspan;
  gerspan.proto = 0x88be;
  gerspan.seq = 1;
  const Bytes tcp_in = ipv4(6, tcp(1111, 22, 0x02, bytes_of("inner")), ip4(172, 16, 0, 1), ip4(172, 16, 0, 2));
  Ip4 with_options;
  with_options.proto = 17;
  with_options.options = Bytes{1, 1, 1, 0};
  const Bytes ext_chain = ipv6_ext(60, 1) + ipv6_ext(43, 2) + ipv6_ext(51, 1) + ipv6_ah(17);
  return {
      {"eth_ipv4_tcp", eth_ipv4_tcp(bytes_of("payload!")), 1, 54},
      {"eth_ipv4_tcp_options", ether(0x0800, ipv4(6, tcp(syn, bytes_of("x")))), 1, 74},
      {"eth_ipv4_options_udp",
       ether(0x0800, ipv4(with_options, udp(1, 2, bytes_of("u")))), 1, 46},
      {"eth_padded_ack", pad_to(ether(0x0800, ipv4(6, tcp(1, 2, 0x10))), 60), 1, 54},
      {"eth_ipv6_udp", ether(0x86dd, ipv6(17, udp(1, 2, bytes_of("v6")))), 1, 62},
      {"eth_ipv6_ext_chain", ether(0x86dd, ipv6(0, ext_chain + udp(1, 2, bytes_of("e")))), 1, 14 + 40 + 56 + 8},
      {"eth_vlan_udp", ether(0x8100, vlan(10, 0x0800, ipv4(17, udp(1, 2, bytes_of("v"))))), 1, 46},
      {"eth_qinq_udp", ether(0x88a8, vlan(10, 0x8100, vlan(20, 0x0800, ipv4(17, udp(1, 2, bytes_of("q")))))), 1, 50},
      {"eth_mpls2_tcp", ether(0x8847, mpls(1, false, mpls(2, true, ipv4(6, tcp(1, 2, 0x12))))), 1, 62},
      {"eth_mpls_pw", ether(0x8847, mpls(1, true, zeros(4) + ether(0x0800, ipv4(17, udp(1, 2, bytes_of("pw")))))), 1,
       64},
      {"eth_pppoe_tcp", ether(0x8864, pppoe_session(0x0021, ipv4(6, tcp(1, 2, 0x02)))), 1, 62},
      {"eth_pppoe_ipv6", ether(0x8864, pppoe_session(0x0057, ipv6(17, udp(1, 2, {})))), 1, 70},
      {"eth_arp", pad_to(ether(0x0806, arp(1, kMacA, kIpA, Mac{}, kIpB)), 60), 1, 42},
      {"eth_snap_udp", ether_8023(snap(0x0800, ipv4(17, udp(1, 2, bytes_of("s"))))), 1, 50},
      {"eth_icmp", ether(0x0800, ipv4(1, icmp(8, 0, 1, 1, pattern(16)))), 1, 42},
      {"eth_icmpv6", ether(0x86dd, ipv6(58, icmp(128, 0, 1, 1, pattern(16)))), 1, 62},
      {"eth_gre_ipv4", ether(0x0800, ipv4(47, gre(0x0800, tcp_in))), 1, 78},
      {"eth_gre_ck_seq", ether(0x0800, ipv4(47, gre(gck, tcp_in))), 1, 90},
      {"eth_gre_teb", ether(0x0800, ipv4(47, gre(0x6558, ether(0x0800, tcp_in)))), 1, 92},
      {"eth_gre_erspan2", ether(0x0800, ipv4(47, gre(gerspan, Bytes{0x10, 1, 0, 5} + zeros(4) + ether(0x0800, tcp_in)))),
       1, 104},
      {"eth_pptp", ether(0x0800, ipv4(47, gre_pptp(ppp_frame(0x0021, tcp_in), 1, 2))), 1, 94},
      {"eth_vxlan", ether(0x0800, ipv4(17, udp(5, 4789, vxlan(7, ether(0x0800, tcp_in))))), 1, 104},
      {"eth_ipip", ether(0x0800, ipv4(4, tcp_in)), 1, 74},
      {"eth_6in4", ether(0x0800, ipv4(41, ipv6(17, udp(1, 2, bytes_of("6"))))), 1, 82},
      {"sll_tcp", sll(0x0800, ipv4(6, tcp(1, 2, 0x02))), 113, 56},
      {"sll2_ipv6", sll2(0x86dd, ipv6(17, udp(1, 2, bytes_of("x")))), 276, 68},
      {"null_tcp", le32(2) + ipv4(6, tcp(1, 2, 0x02)), 0, 44},
      {"loop_ipv6", be32(24) + ipv6(17, udp(1, 2, {})), 108, 52},
      {"raw_ipv4", ipv4(17, udp(1, 2, bytes_of("r"))), 101, 28},
      {"raw_ipv6", ipv6(6, tcp(1, 2, 0x02)), 229, 60},
      {"lldp", ether(0x88cc, zeros(30)), 1, 14},
  };
}

class TruncationTest : public DecodeFixture {};

TEST_F(TruncationTest, FullSamplesDecodeCleanly) {
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.name);
    ASSERT_EQ(decode(s.frame, s.linktype), DecodeStatus::kOk);
    EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
    // Exactly headers_end bytes still decode completely.
    ASSERT_EQ(decode_cut(s.frame, s.headers_end, true, s.linktype), DecodeStatus::kOk);
    EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
  }
}

TEST_F(TruncationTest, EveryByteOffsetUnderSnaplen) {
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.name);
    ASSERT_EQ(decode(s.frame, s.linktype), DecodeStatus::kOk);
    const decode::DecodedPacket full = out;
    for (size_t k = 0; k < s.frame.size(); ++k) {
      SCOPED_TRACE(k);
      const DecodeStatus st = decode_cut(s.frame, k, true, s.linktype);
      ASSERT_EQ(st, k >= s.headers_end ? DecodeStatus::kOk : DecodeStatus::kMalformed);
      ASSERT_LE(out.payload.size(), out.payload_len);
      if (st == DecodeStatus::kOk) {
        EXPECT_EQ(out.l3, full.l3);
        EXPECT_EQ(out.src, full.src);
        EXPECT_EQ(out.dst, full.dst);
        EXPECT_EQ(out.ip_proto, full.ip_proto);
        EXPECT_EQ(out.ip_len, full.ip_len);
        EXPECT_EQ(out.has_l4, full.has_l4);
        EXPECT_EQ(out.sport, full.sport);
        EXPECT_EQ(out.dport, full.dport);
        EXPECT_EQ(out.mss, full.mss);
        EXPECT_EQ(out.payload_len, full.payload_len);
        EXPECT_EQ(out.tunnel_depth, full.tunnel_depth);
        EXPECT_EQ(out.vlan_count, full.vlan_count);
      }
    }
    // Only header cuts were reported, under the snaplen name.
    for (const auto& [name, n] : anomalies_.by_name()) {
      EXPECT_EQ(name, decode::anomaly::kHeaderCutBySnaplen.name()) << n;
    }
    anomalies_ = {};
  }
}

TEST_F(TruncationTest, EveryByteOffsetWithLyingHeaders) {
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.name);
    for (size_t k = 0; k < s.frame.size(); ++k) {
      SCOPED_TRACE(k);
      const DecodeStatus st = decode_cut(s.frame, k, false, s.linktype);
      ASSERT_TRUE(st == DecodeStatus::kOk || st == DecodeStatus::kMalformed);
      if (k >= s.headers_end) {
        ASSERT_EQ(st, DecodeStatus::kOk);
      }
      if (st == DecodeStatus::kMalformed) {
        ASSERT_GT(total_anomalies(), 0u);
      }
      ASSERT_LE(out.payload.size(), out.payload_len);
    }
  }
}

}  // namespace
}  // namespace trawl::test

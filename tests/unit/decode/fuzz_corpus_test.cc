// The seed corpus of tests/fuzz/decoder_fuzz.cc, built from the same builders
// as the unit tests. This test checks that every seed reaches the layer it is
// meant to exercise; with TRAWL_WRITE_DECODER_CORPUS=<dir> in the environment
// it also (re)writes the seed files there:
//   TRAWL_WRITE_DECODER_CORPUS=tests/fuzz/corpus/decoder_fuzz unit_decode --gtest_filter='DecoderFuzzCorpus.*'
// Seed layout (see decoder_fuzz.cc): a selector byte (link type index, flags),
// then one frame, or a sequence of 2-byte-length-prefixed frames.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;

// Index of each link type in decoder_fuzz.cc's kLinktypes.
uint8_t selector(uint16_t linktype) {
  switch (linktype) {
    case 1:
      return 0;
    case 113:
      return 1;
    case 276:
      return 2;
    case 101:
      return 3;
    case 228:
      return 4;
    case 229:
      return 5;
    case 0:
      return 6;
    case 108:
      return 7;
    case 12:
      return 8;
    default:
      return 9;  // 14
  }
}

struct Seed {
  std::string name;
  uint16_t linktype;
  std::vector<Bytes> frames;  // one: a single frame; more: a sequence
  L3 l3;                      // what the (last) frame decodes to
  uint8_t flags = 0;          // 0x80 snaplen cut, 0x40 verify checksums
};

Bytes seq_frame(const Bytes& f) { return be16(static_cast<uint32_t>(f.size())) + f; }

Bytes v4_frag(const Bytes& seg, uint16_t off, uint16_t len, bool more, uint8_t proto = 17) {
  Ip4 h;
  h.proto = proto;
  h.id = 99;
  h.mf = more;
  h.frag_offset = off;
  return ether(0x0800, ipv4(h, Bytes(seg.begin() + off, seg.begin() + off + len)));
}

Bytes v6_frag(const Bytes& seg, uint16_t off, uint16_t len, bool more) {
  Ip6Hdr h;
  h.next = 44;
  return ether(0x86dd, ipv6(h, ipv6_frag(17, off, more, 0x55) + Bytes(seg.begin() + off, seg.begin() + off + len)));
}

std::vector<Seed> seeds() {
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
  Bytes erspan3 = zeros(12);
  erspan3[0] = 0x20;
  const Bytes tcp_in = ipv4(6, tcp(1111, 22, 0x02, bytes_of("in")), ip4(172, 16, 0, 1), ip4(172, 16, 0, 2));
  const Bytes udp_whole = ipv4(17, udp(1, 2, pattern(100)));
  const Bytes udp_seg(udp_whole.begin() + 20, udp_whole.end());
  const Bytes long_tcp = eth_ipv4_tcp(pattern(100));
  const Bytes udp6_seg = udp(1, 2, pattern(100));

  std::vector<Seed> s = {
      {"eth_ipv4_tcp_syn", 1, {ether(0x0800, ipv4(6, tcp(syn)))}, L3::kIpv4},
      {"eth_ipv4_tcp_data", 1, {eth_ipv4_tcp(bytes_of("GET / HTTP/1.1\r\n\r\n"))}, L3::kIpv4},
      {"eth_ipv4_padded_ack", 1, {pad_to(ether(0x0800, ipv4(6, tcp(1, 2, 0x10))), 60)}, L3::kIpv4},
      {"eth_ipv6_udp", 1, {ether(0x86dd, ipv6(17, udp(53, 53, bytes_of("dns"))))}, L3::kIpv6},
      {"eth_ipv6_ext_chain", 1,
       {ether(0x86dd, ipv6(0, ipv6_ext(60, 1) + ipv6_ext(43, 2) + ipv6_ext(51, 1) + ipv6_ah(135) +
                                  ipv6_ext(59, 1)))},
       L3::kIpv6},
      {"eth_vlan_ipv4", 1, {ether(0x8100, vlan(10, 0x0800, ipv4(17, udp(1, 2, {}))))}, L3::kIpv4},
      {"eth_qinq_ipv6", 1, {ether(0x88a8, vlan(10, 0x8100, vlan(20, 0x86dd, ipv6(6, tcp(1, 2, 0x02)))))}, L3::kIpv6},
      {"eth_mpls2_ipv4", 1, {ether(0x8847, mpls(1, false, mpls(2, true, ipv4(6, tcp(1, 2, 0x12)))))}, L3::kIpv4},
      {"eth_mpls_pw_eth", 1, {ether(0x8847, mpls(1, true, zeros(4) + ether(0x0800, ipv4(17, udp(1, 2, {})))))},
       L3::kIpv4},
      {"eth_pppoe_ipv4", 1, {ether(0x8864, pppoe_session(0x0021, ipv4(6, tcp(1, 2, 0x02))))}, L3::kIpv4},
      {"eth_pppoe_ipv6", 1, {ether(0x8864, pppoe_session(0x0057, ipv6(17, udp(1, 2, {}))))}, L3::kIpv6},
      {"eth_arp", 1, {pad_to(ether(0x0806, arp(1, kMacA, kIpA, Mac{}, kIpB)), 60)}, L3::kArp},
      {"eth_8023_snap_ipv4", 1, {ether_8023(snap(0x0800, ipv4(17, udp(1, 2, {}))))}, L3::kIpv4},
      {"eth_icmp_echo", 1, {ether(0x0800, ipv4(1, icmp(8, 0, 1, 1, pattern(16))))}, L3::kIpv4},
      {"eth_icmp_error", 1, {ether(0x0800, ipv4(1, icmp(3, 3, 0, 0, ipv4(17, udp(1, 2, {})))))}, L3::kIpv4},
      {"eth_icmpv6_echo", 1, {ether(0x86dd, ipv6(58, icmp(128, 0, 1, 1, pattern(8))))}, L3::kIpv6},
      {"eth_gre_ipv4", 1, {ether(0x0800, ipv4(47, gre(0x0800, tcp_in)))}, L3::kIpv4},
      {"eth_gre_flags", 1, {ether(0x0800, ipv4(47, gre(gck, tcp_in)))}, L3::kIpv4},
      {"eth_gre_teb", 1, {ether(0x0800, ipv4(47, gre(0x6558, ether(0x0800, tcp_in))))}, L3::kIpv4},
      {"eth_gre_erspan2", 1,
       {ether(0x0800, ipv4(47, gre(gerspan, Bytes{0x10, 1, 0, 5} + zeros(4) + ether(0x0800, tcp_in))))}, L3::kIpv4},
      {"eth_gre_erspan3", 1, {ether(0x0800, ipv4(47, gre(0x22eb, erspan3 + ether(0x0800, tcp_in))))}, L3::kIpv4},
      {"eth_pptp", 1, {ether(0x0800, ipv4(47, gre_pptp(ppp_frame(0x0021, tcp_in), 1, 2)))}, L3::kIpv4},
      {"eth_vxlan", 1, {ether(0x0800, ipv4(17, udp(5, 4789, vxlan(7, ether(0x0800, tcp_in)))))}, L3::kIpv4},
      {"eth_ipip", 1, {ether(0x0800, ipv4(4, tcp_in))}, L3::kIpv4},
      {"eth_6in4", 1, {ether(0x0800, ipv4(41, ipv6(17, udp(1, 2, {}))))}, L3::kIpv6},
      {"sll_ipv4", 113, {sll(0x0800, ipv4(6, tcp(1, 2, 0x02)))}, L3::kIpv4},
      {"sll2_ipv6", 276, {sll2(0x86dd, ipv6(17, udp(1, 2, {})))}, L3::kIpv6},
      {"null_ipv4", 0, {le32(2) + ipv4(6, tcp(1, 2, 0x02))}, L3::kIpv4},
      {"loop_ipv6", 108, {be32(24) + ipv6(17, udp(1, 2, {}))}, L3::kIpv6},
      {"raw_ipv4", 101, {ipv4(17, udp(1, 2, bytes_of("r")))}, L3::kIpv4},
      {"raw_ipv6_229", 229, {ipv6(6, tcp(1, 2, 0x02))}, L3::kIpv6},
      {"eth_snaplen_cut", 1, {Bytes(long_tcp.begin(), long_tcp.begin() + 60)},
       L3::kIpv4, 0x80},
      {"eth_verify_checksums", 1, {eth_ipv4_tcp()}, L3::kIpv4, 0x40},
      {"frag_ipv4_out_of_order", 1,
       {v4_frag(udp_seg, 64, 44, false), v4_frag(udp_seg, 32, 32, true), v4_frag(udp_seg, 0, 32, true)},
       L3::kIpv4},
      {"frag_ipv4_overlap", 1,
       {v4_frag(udp_seg, 0, 64, true), v4_frag(udp_seg, 32, 48, true), v4_frag(udp_seg, 80, 28, false)},
       L3::kIpv4},
      {"frag_ipv6", 1, {v6_frag(udp6_seg, 56, 52, false), v6_frag(udp6_seg, 0, 56, true)}, L3::kIpv6},
  };
  return s;
}

Bytes seed_bytes(const Seed& s) {
  Bytes b{static_cast<uint8_t>(selector(s.linktype) | s.flags)};
  if (s.frames.size() == 1) return b + s.frames[0];
  for (const Bytes& f : s.frames) b = b + seq_frame(f);
  return b;
}

class DecoderFuzzCorpus : public DecodeFixture {};

TEST_F(DecoderFuzzCorpus, SeedsReachTheirLayer) {
  const char* dir = std::getenv("TRAWL_WRITE_DECODER_CORPUS");
  for (const Seed& s : seeds()) {
    SCOPED_TRACE(s.name);
    decode::DecoderLimits limits;
    limits.verify_checksums = (s.flags & 0x40) != 0;
    reset(limits);
    DecodeStatus st = DecodeStatus::kMalformed;
    for (const Bytes& f : s.frames) {
      st = decode(f, s.linktype, (s.flags & 0x80) != 0 ? static_cast<uint32_t>(f.size() + 64) : 0);
    }
    EXPECT_EQ(st, DecodeStatus::kOk);
    EXPECT_EQ(out.l3, s.l3);
    if (s.frames.size() > 1) {
      EXPECT_TRUE(out.reassembled);
    }
    if (dir != nullptr) {
      const std::string path = std::string(dir) + "/" + s.name;
      FILE* f = std::fopen(path.c_str(), "wb");
      ASSERT_NE(f, nullptr) << path;
      const Bytes b = seed_bytes(s);
      ASSERT_EQ(std::fwrite(b.data(), 1, b.size(), f), b.size());
      std::fclose(f);
    }
  }
}

}  // namespace
}  // namespace trawl::test

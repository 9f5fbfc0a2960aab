// IPv4 and IPv6 fragment reassembly: order, overlaps, duplicates, limits,
// timeouts and what the completed packet reports.
#include <algorithm>
#include <random>

#include "decode/packet_builder.h"

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;
namespace anomaly = decode::anomaly;

constexpr int64_t kSec = 1000000000;

struct Frag {
  uint16_t offset;  // bytes
  uint16_t len;
  bool more;
};

// Fragments of one IPv4 datagram whose payload is `datagram` (a transport
// segment), as Ethernet frames.
Bytes v4_fragment(const Bytes& datagram, Frag f, uint16_t id = 77, uint8_t proto = 17, uint32_t src = kIpA) {
  Ip4 h;
  h.proto = proto;
  h.id = id;
  h.mf = f.more;
  h.frag_offset = f.offset;
  h.src = src;
  const auto begin = datagram.begin() + f.offset;
  return ether(0x0800, ipv4(h, Bytes(begin, begin + f.len)));
}

// A UDP datagram with a correct checksum over the full payload, to be cut.
Bytes udp_datagram(size_t payload_len, uint32_t src = kIpA) {
  Ip4 h;
  h.proto = 17;
  h.src = src;
  const Bytes whole = ipv4(h, udp(1000, 2000, pattern(payload_len)));
  return Bytes(whole.begin() + 20, whole.end());
}

class FragmentsTest : public DecodeFixture {
 protected:
  void expect_udp_datagram(size_t payload_len, uint16_t fragments) {
    EXPECT_EQ(out.l3, L3::kIpv4);
    EXPECT_TRUE(out.reassembled);
    EXPECT_EQ(out.fragments, fragments);
    EXPECT_EQ(out.ip_proto, 17);
    EXPECT_TRUE(out.has_l4);
    EXPECT_EQ(out.sport, 1000);
    EXPECT_EQ(out.dport, 2000);
    EXPECT_EQ(out.ip_len, 20u + 8u + payload_len);
    EXPECT_EQ(out.payload_len, payload_len);
    ASSERT_EQ(out.payload.size(), payload_len);
    const Bytes expected = pattern(payload_len);
    EXPECT_TRUE(std::equal(out.payload.begin(), out.payload.end(), expected.begin()));
  }
};

TEST_F(FragmentsTest, InOrder) {
  const Bytes d = udp_datagram(3000);  // 3008 bytes
  EXPECT_EQ(decode(v4_fragment(d, {0, 1480, true}), 1, 0, 1 * kSec), DecodeStatus::kConsumed);
  EXPECT_EQ(out.l3, L3::kIpv4);  // what the fragment showed
  EXPECT_FALSE(out.has_l4);
  EXPECT_EQ(decoder_->pending_fragment_datagrams(), 1u);
  EXPECT_EQ(decode(v4_fragment(d, {1480, 1480, true}), 1, 0, 2 * kSec), DecodeStatus::kConsumed);
  const Bytes last = v4_fragment(d, {2960, 48, false});
  ASSERT_EQ(decode(last, 1, 0, 3 * kSec), DecodeStatus::kOk);
  expect_udp_datagram(3000, 3);
  EXPECT_EQ(out.ts.ns, 3 * kSec);  // the last fragment's
  EXPECT_EQ(out.wirelen, last.size());
  EXPECT_EQ(out.fragment_ip_bytes, 1500u + 1500u + 68u);
  EXPECT_EQ(decoder_->pending_fragment_datagrams(), 0u);
  EXPECT_EQ(decoder_->pending_fragment_bytes(), 0u);
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(FragmentsTest, IndexIsTheCallersOfTheLastFragment) {
  const Bytes d = udp_datagram(100);
  out.index = 5;
  EXPECT_EQ(decode(v4_fragment(d, {0, 64, true})), DecodeStatus::kConsumed);
  out.index = 6;
  ASSERT_EQ(decode(v4_fragment(d, {64, 44, false})), DecodeStatus::kOk);
  EXPECT_EQ(out.index, 6u);
  expect_udp_datagram(100, 2);
}

TEST_F(FragmentsTest, AnyOrder) {
  const Bytes d = udp_datagram(1000);  // 1008 bytes: 8 fragments of 128 then 112
  std::vector<Frag> frags;
  for (uint16_t off = 0; off < 1008; off += 128) {
    const uint16_t len = static_cast<uint16_t>(std::min<int>(128, 1008 - off));
    frags.push_back({off, len, off + len < 1008});
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::shuffle(frags.begin(), frags.end(), rng);
    for (size_t i = 0; i < frags.size(); ++i) {
      const DecodeStatus s = decode(v4_fragment(d, frags[i], static_cast<uint16_t>(round)));
      if (i + 1 < frags.size()) {
        ASSERT_EQ(s, DecodeStatus::kConsumed) << round << " " << i;
      } else {
        ASSERT_EQ(s, DecodeStatus::kOk) << round;
        expect_udp_datagram(1000, static_cast<uint16_t>(frags.size()));
      }
    }
  }
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(FragmentsTest, DuplicatesAreCountedAndAccounted) {
  const Bytes d = udp_datagram(200);
  EXPECT_EQ(decode(v4_fragment(d, {0, 104, true})), DecodeStatus::kConsumed);
  EXPECT_EQ(decode(v4_fragment(d, {0, 104, true})), DecodeStatus::kConsumed);
  ASSERT_EQ(decode(v4_fragment(d, {104, 104, false})), DecodeStatus::kOk);
  expect_udp_datagram(200, 3);
  EXPECT_EQ(out.fragment_ip_bytes, 124u * 3);
  EXPECT_EQ(count(anomaly::kFragmentDuplicate), 1u);
  EXPECT_EQ(count(anomaly::kFragmentOverlap), 0u);
  EXPECT_EQ(count(anomaly::kFragmentOverlapConflict), 0u);
}

TEST_F(FragmentsTest, OverlapFirstWins) {
  const Bytes d = udp_datagram(200);  // 208 bytes
  Bytes evil = d;
  for (size_t i = 64; i < 208; ++i) evil[i] ^= 0xff;
  EXPECT_EQ(decode(v4_fragment(d, {0, 96, true})), DecodeStatus::kConsumed);
  // Overlaps 64..96 with different bytes and brings 96..128.
  EXPECT_EQ(decode(v4_fragment(evil, {64, 64, true})), DecodeStatus::kConsumed);
  EXPECT_EQ(count(anomaly::kFragmentOverlap), 1u);
  EXPECT_EQ(count(anomaly::kFragmentOverlapConflict), 1u);
  EXPECT_EQ(decode(v4_fragment(d, {128, 80, false})), DecodeStatus::kOk);
  // 0..96 from the first fragment, 96..128 from the second (evil) one.
  Bytes expected = d;
  for (size_t i = 96; i < 128; ++i) expected[i] ^= 0xff;
  ASSERT_EQ(out.payload.size() + 8, expected.size());
  EXPECT_TRUE(std::equal(out.payload.begin(), out.payload.end(), expected.begin() + 8));
  EXPECT_TRUE(out.reassembled);
}

TEST_F(FragmentsTest, FullyCoveredOverlapWithSameBytes) {
  const Bytes d = udp_datagram(200);
  EXPECT_EQ(decode(v4_fragment(d, {0, 128, true})), DecodeStatus::kConsumed);
  EXPECT_EQ(decode(v4_fragment(d, {64, 64, true})), DecodeStatus::kConsumed);  // inside the first
  EXPECT_EQ(count(anomaly::kFragmentDuplicate), 1u);
  EXPECT_EQ(count(anomaly::kFragmentOverlapConflict), 0u);
  ASSERT_EQ(decode(v4_fragment(d, {128, 80, false})), DecodeStatus::kOk);
  expect_udp_datagram(200, 3);
}

TEST_F(FragmentsTest, BadFragments) {
  const Bytes d = udp_datagram(200);
  // Not the last, not a multiple of 8.
  EXPECT_EQ(decode(v4_fragment(d, {0, 100, true})), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kFragmentBadLength), 1u);
  // Reassembled datagram would exceed 65535 bytes (ping of death).
  Ip4 h;
  h.proto = 1;
  h.frag_offset = 65528;
  EXPECT_EQ(decode(ether(0x0800, ipv4(h, zeros(100)))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kFragmentTooLarge), 1u);
  EXPECT_EQ(decoder_->pending_fragment_datagrams(), 0u);
  // Two different ends.
  EXPECT_EQ(decode(v4_fragment(d, {104, 104, false})), DecodeStatus::kConsumed);
  EXPECT_EQ(decode(v4_fragment(d, {104, 96, false})), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kFragmentInconsistentEnd), 1u);
  // Past the known end.
  EXPECT_EQ(decode(v4_fragment(d + zeros(8), {208, 8, true})), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kFragmentBeyondEnd), 1u);
  // Still completes.
  ASSERT_EQ(decode(v4_fragment(d, {0, 104, true})), DecodeStatus::kOk);
  expect_udp_datagram(200, 2);
}

TEST_F(FragmentsTest, DataPastALateEndIsIgnored) {
  const Bytes d = udp_datagram(200);
  Bytes longer = d + pattern(16, 99);
  EXPECT_EQ(decode(v4_fragment(longer, {104, 120, true})), DecodeStatus::kConsumed);
  EXPECT_EQ(decode(v4_fragment(d, {0, 104, true})), DecodeStatus::kConsumed);
  // The real end comes at 208.
  ASSERT_EQ(decode(v4_fragment(d, {200, 8, false})), DecodeStatus::kOk);
  EXPECT_EQ(count(anomaly::kFragmentBeyondEnd), 1u);
  expect_udp_datagram(200, 3);
}

TEST_F(FragmentsTest, Timeout) {
  const Bytes d = udp_datagram(200);
  EXPECT_EQ(decode(v4_fragment(d, {0, 104, true}), 1, 0, 10 * kSec), DecodeStatus::kConsumed);
  // Any packet advances packet time; 31 s later the datagram is gone.
  ASSERT_EQ(decode(eth_ipv4_tcp(), 1, 0, 41 * kSec), DecodeStatus::kOk);
  EXPECT_EQ(count(anomaly::kFragmentTimeout), 1u);
  EXPECT_EQ(decoder_->pending_fragment_datagrams(), 0u);
  // The late last fragment starts a new datagram that never completes.
  EXPECT_EQ(decode(v4_fragment(d, {104, 104, false}), 1, 0, 42 * kSec), DecodeStatus::kConsumed);
  EXPECT_EQ(decoder_->pending_fragment_datagrams(), 1u);
  decoder_->finish();
  EXPECT_EQ(count(anomaly::kFragmentIncomplete), 1u);
  EXPECT_EQ(decoder_->pending_fragment_datagrams(), 0u);
}

TEST_F(FragmentsTest, WithinTimeoutCompletes) {
  const Bytes d = udp_datagram(200);
  EXPECT_EQ(decode(v4_fragment(d, {0, 104, true}), 1, 0, 10 * kSec), DecodeStatus::kConsumed);
  ASSERT_EQ(decode(v4_fragment(d, {104, 104, false}), 1, 0, 40 * kSec), DecodeStatus::kOk);
  expect_udp_datagram(200, 2);
  EXPECT_EQ(count(anomaly::kFragmentTimeout), 0u);
}

TEST_F(FragmentsTest, DatagramLimitEvictsOldest) {
  decode::DecoderLimits limits;
  limits.max_fragment_datagrams = 4;
  reset(limits);
  const Bytes d = udp_datagram(200);
  for (uint16_t id = 1; id <= 6; ++id) {
    EXPECT_EQ(decode(v4_fragment(d, {0, 104, true}, id)), DecodeStatus::kConsumed);
  }
  EXPECT_EQ(decoder_->pending_fragment_datagrams(), 4u);
  EXPECT_EQ(count(anomaly::kFragmentLimit), 2u);
  // ids 1 and 2 were evicted; 3..6 complete.
  for (uint16_t id = 3; id <= 6; ++id) {
    ASSERT_EQ(decode(v4_fragment(d, {104, 104, false}, id)), DecodeStatus::kOk) << id;
  }
  EXPECT_EQ(decode(v4_fragment(d, {104, 104, false}, 1)), DecodeStatus::kConsumed);
  EXPECT_EQ(decoder_->pending_fragment_datagrams(), 1u);
}

TEST_F(FragmentsTest, ByteLimitEvictsOldest) {
  decode::DecoderLimits limits;
  limits.max_fragment_bytes = 40000;
  reset(limits);
  const Bytes d = udp_datagram(20000);
  // Each datagram holds ~16 KB after its second fragment.
  for (uint16_t id = 1; id <= 4; ++id) {
    EXPECT_EQ(decode(v4_fragment(d, {0, 8000, true}, id)), DecodeStatus::kConsumed);
    EXPECT_EQ(decode(v4_fragment(d, {8000, 8000, true}, id)), DecodeStatus::kConsumed);
    EXPECT_LE(decoder_->pending_fragment_bytes(), 40000u);
  }
  EXPECT_GE(count(anomaly::kFragmentLimit), 1u);
  EXPECT_LT(decoder_->pending_fragment_datagrams(), 4u);
  // A datagram that cannot fit at all is dropped.
  limits.max_fragment_bytes = 2000;
  reset(limits);
  EXPECT_EQ(decode(v4_fragment(d, {0, 8000, true}, 9)), DecodeStatus::kMalformed);
  EXPECT_EQ(decoder_->pending_fragment_datagrams(), 0u);
  limits.max_fragment_datagrams = 0;
  reset(limits);
  EXPECT_EQ(decode(v4_fragment(d, {0, 8000, true}, 9)), DecodeStatus::kMalformed);
}

TEST_F(FragmentsTest, KeyedBySourceProtocolIdAndVlan) {
  const Bytes d = udp_datagram(200);
  const Bytes d2 = udp_datagram(200, ip4(10, 9, 9, 9));
  EXPECT_EQ(decode(v4_fragment(d, {0, 104, true}, 1)), DecodeStatus::kConsumed);
  EXPECT_EQ(decode(v4_fragment(d2, {104, 104, false}, 1, 17, ip4(10, 9, 9, 9))), DecodeStatus::kConsumed);
  EXPECT_EQ(decode(v4_fragment(d, {104, 104, false}, 1, 6)), DecodeStatus::kConsumed);  // other protocol
  EXPECT_EQ(decode(v4_fragment(d, {104, 104, false}, 2)), DecodeStatus::kConsumed);     // other id
  // Same datagram seen on another VLAN.
  Ip4 h;
  h.proto = 17;
  h.id = 1;
  h.frag_offset = 104;
  const Bytes tagged = ether(0x8100, vlan(5, 0x0800, ipv4(h, Bytes(d.begin() + 104, d.end()))));
  EXPECT_EQ(decode(tagged), DecodeStatus::kConsumed);
  EXPECT_EQ(decoder_->pending_fragment_datagrams(), 5u);
  ASSERT_EQ(decode(v4_fragment(d, {104, 104, false}, 1)), DecodeStatus::kOk);
  expect_udp_datagram(200, 2);
}

TEST_F(FragmentsTest, TcpInFragments) {
  Ip4 whole;
  whole.proto = 6;
  Tcp t;
  t.flags = 0x02;
  t.options = Bytes{2, 4, 0x05, 0xb4};
  const Bytes full = ipv4(whole, tcp(t, pattern(60)));
  const Bytes seg(full.begin() + 20, full.end());  // 84 bytes
  // The first fragment holds only 16 bytes of the TCP header.
  EXPECT_EQ(decode(v4_fragment(seg, {0, 16, true}, 3, 6)), DecodeStatus::kConsumed);
  ASSERT_EQ(decode(v4_fragment(seg, {16, 68, false}, 3, 6)), DecodeStatus::kOk);
  EXPECT_EQ(out.mss, 1460);
  EXPECT_EQ(out.tcp_flags, 0x02);
  EXPECT_EQ(out.payload_len, 60u);
  EXPECT_EQ(out.ip_len, 104u);
}

TEST_F(FragmentsTest, SnaplenCutFragments) {
  const Bytes d = udp_datagram(2000);
  const Bytes first = v4_fragment(d, {0, 1480, true});
  // The first fragment, cut: decoded on its own, not stored.
  ASSERT_EQ(decode_cut(first, 100, true), DecodeStatus::kOk);
  EXPECT_EQ(count(anomaly::kFragmentCutBySnaplen), 1u);
  EXPECT_FALSE(out.reassembled);
  EXPECT_EQ(out.sport, 1000);
  EXPECT_EQ(out.payload_len, 1480u - 8u);
  EXPECT_EQ(decoder_->pending_fragment_datagrams(), 0u);
  // A later one, cut: nothing to show.
  EXPECT_EQ(decode_cut(v4_fragment(d, {1480, 528, false}), 100, true), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kFragmentCutBySnaplen), 2u);
  EXPECT_EQ(decoder_->pending_fragment_datagrams(), 0u);
}

TEST_F(FragmentsTest, EthernetPaddingOnLastFragment) {
  const Bytes d = udp_datagram(100);  // last fragment has 4 bytes
  EXPECT_EQ(decode(v4_fragment(d, {0, 104, true})), DecodeStatus::kConsumed);
  ASSERT_EQ(decode(pad_to(v4_fragment(d, {104, 4, false}), 60)), DecodeStatus::kOk);
  expect_udp_datagram(100, 2);
}

TEST_F(FragmentsTest, FragmentedGreTunnel) {
  const Bytes inner = ipv4(17, udp(53, 53, pattern(300)), ip4(172, 16, 0, 1), ip4(172, 16, 0, 2));
  const Bytes outer_payload = gre(0x0800, inner);  // 4 + 328 bytes
  EXPECT_EQ(decode(v4_fragment(outer_payload, {0, 200, true}, 9, 47)), DecodeStatus::kConsumed);
  ASSERT_EQ(decode(v4_fragment(outer_payload, {200, 132, false}, 9, 47)), DecodeStatus::kOk);
  EXPECT_EQ(out.src, v4addr(ip4(172, 16, 0, 1)));
  EXPECT_EQ(out.tunnel_depth, 1);
  EXPECT_EQ(out.payload_len, 300u);
  EXPECT_TRUE(out.reassembled);  // of the outer packet
  EXPECT_EQ(out.fragments, 2);
}

// ------------------------------------------------------------------- IPv6

Bytes v6_fragment(const Bytes& fragmentable, Frag f, uint32_t id = 0xabcdef, const Bytes& unfragmentable = {},
                  uint8_t first_next = 44) {
  const auto begin = fragmentable.begin() + f.offset;
  Ip6Hdr h;
  h.next = unfragmentable.empty() ? 44 : first_next;
  h.transport_checksum = false;
  return ether(0x86dd, ipv6(h, unfragmentable + ipv6_frag(17, f.offset, f.more, id) + Bytes(begin, begin + f.len)));
}

TEST_F(FragmentsTest, Ipv6) {
  const Bytes seg = udp(1000, 2000, pattern(1500));  // 1508 bytes
  EXPECT_EQ(decode(v6_fragment(seg, {800, 708, false})), DecodeStatus::kConsumed);
  EXPECT_EQ(out.l3, L3::kIpv6);
  ASSERT_EQ(decode(v6_fragment(seg, {0, 800, true})), DecodeStatus::kOk);
  EXPECT_TRUE(out.reassembled);
  EXPECT_EQ(out.fragments, 2);
  EXPECT_EQ(out.ip_proto, 17);
  EXPECT_EQ(out.sport, 1000);
  EXPECT_EQ(out.payload_len, 1500u);
  EXPECT_EQ(out.ip_len, 40u + 1508u);
  EXPECT_EQ(out.fragment_ip_bytes, (40u + 8 + 708) + (40u + 8 + 800));
  const Bytes expected = pattern(1500);
  ASSERT_EQ(out.payload.size(), 1500u);
  EXPECT_TRUE(std::equal(out.payload.begin(), out.payload.end(), expected.begin()));
  EXPECT_EQ(total_anomalies(), 0u) << anomaly_names();
}

TEST_F(FragmentsTest, Ipv6WithExtensionHeadersAroundTheFragmentHeader) {
  // Hop-by-hop before (unfragmentable), destination options after (fragmentable).
  const Bytes fragmentable = ipv6_ext(17, 1) + udp(1000, 2000, pattern(1000));  // 8 + 1008
  const Bytes hbh = ipv6_ext(44, 1);
  auto frag = [&](Frag f) {
    const auto begin = fragmentable.begin() + f.offset;
    Ip6Hdr h;
    h.next = 0;
    return ether(0x86dd, ipv6(h, hbh + ipv6_frag(60, f.offset, f.more, 5) + Bytes(begin, begin + f.len)));
  };
  EXPECT_EQ(decode(frag({0, 512, true})), DecodeStatus::kConsumed);
  ASSERT_EQ(decode(frag({512, 504, false})), DecodeStatus::kOk);
  EXPECT_EQ(out.ip_proto, 17);
  EXPECT_EQ(out.sport, 1000);
  EXPECT_EQ(out.payload_len, 1000u);
  EXPECT_EQ(out.ip_len, 40u + 8u + 1016u);
}

TEST_F(FragmentsTest, Ipv6AtomicFragmentIsNotReassembled) {
  Ip6Hdr h;
  h.next = 44;
  h.transport_checksum = false;
  ASSERT_EQ(decode(ether(0x86dd, ipv6(h, ipv6_frag(17, 0, false, 1) + udp(5, 6, bytes_of("atom"))))),
            DecodeStatus::kOk);
  EXPECT_FALSE(out.reassembled);
  EXPECT_EQ(out.sport, 5);
  EXPECT_EQ(payload_string(), "atom");
  EXPECT_EQ(decoder_->pending_fragment_datagrams(), 0u);
}

TEST_F(FragmentsTest, Ipv6KeyIgnoresNextHeaderAndDiffersFromIpv4) {
  const Bytes seg = udp(1000, 2000, pattern(100));  // 108
  EXPECT_EQ(decode(v6_fragment(seg, {0, 56, true}, 77)), DecodeStatus::kConsumed);
  // An IPv4 fragment with the same id does not join it.
  EXPECT_EQ(decode(v4_fragment(seg, {56, 52, false}, 77)), DecodeStatus::kConsumed);
  ASSERT_EQ(decode(v6_fragment(seg, {56, 52, false}, 77)), DecodeStatus::kOk);
  EXPECT_EQ(out.l3, L3::kIpv6);
  EXPECT_EQ(out.payload_len, 100u);
}

TEST_F(FragmentsTest, Ipv6TooLargeAndBadLength) {
  const Bytes seg = pattern(200);
  EXPECT_EQ(decode(v6_fragment(seg, {0, 100, true})), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kFragmentBadLength), 1u);
  Ip6Hdr h;
  h.next = 44;
  EXPECT_EQ(decode(ether(0x86dd, ipv6(h, ipv6_frag(17, 65528, false, 1) + zeros(16)))), DecodeStatus::kMalformed);
  EXPECT_EQ(count(anomaly::kFragmentTooLarge), 1u);
}

}  // namespace
}  // namespace trawl::test

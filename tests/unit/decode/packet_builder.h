// Frame builders for decoder tests: each layer wraps the bytes of the layer it
// carries and fills lengths (and IPv4/TCP/UDP/ICMP checksums) itself, so a test
// reads as the encapsulation it builds: ether(0x0800, ipv4(..., tcp(...))).
// Field values that a test wants to be wrong can be overridden.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/raw_packet.h"
#include "core/anomalies.h"
#include "decode/decode_anomalies.h"
#include "decode/decoder.h"

namespace trawl::test {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;
using Ip6 = std::array<uint8_t, 16>;

inline Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
inline Bytes be16(uint32_t v) { return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}; }
inline Bytes be32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
          static_cast<uint8_t>(v)};
}
inline Bytes le32(uint32_t v) {
  return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 24)};
}
inline Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }
inline Bytes zeros(size_t n) { return Bytes(n, 0); }
inline Bytes pattern(size_t n, uint8_t seed = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
  return b;
}

constexpr uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
}
inline Ip6 ip6(std::initializer_list<uint16_t> groups) {  // leading groups; the rest zero
  Ip6 a{};
  size_t i = 0;
  for (uint16_t g : groups) {
    a[i++] = static_cast<uint8_t>(g >> 8);
    a[i++] = static_cast<uint8_t>(g);
  }
  return a;
}
inline Ip6 ip6_last(std::initializer_list<uint16_t> head, uint16_t last) {
  Ip6 a = ip6(head);
  a[14] = static_cast<uint8_t>(last >> 8);
  a[15] = static_cast<uint8_t>(last);
  return a;
}

inline const Mac kMacA{0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
inline const Mac kMacB{0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
constexpr uint32_t kIpA = ip4(10, 0, 0, 1);
constexpr uint32_t kIpB = ip4(192, 168, 1, 2);
inline const Ip6 kIp6A = ip6_last({0x2001, 0x0db8}, 1);
inline const Ip6 kIp6B = ip6_last({0x2001, 0x0db8, 0, 0, 0, 0, 0}, 2);

// ----------------------------------------------------------------- checksums
inline uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += (uint32_t{p[i]} << 8) | p[i + 1];
  if (n % 2 != 0) acc += uint32_t{p[n - 1]} << 8;
  return acc;
}
inline uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(~acc);
}
// Fills the checksum at csum_at of a TCP/UDP/ICMPv6 segment given the pseudo-header
// addresses (4 or 16 bytes each); pseudo=false for ICMPv4.
inline void fill_transport_checksum(Bytes& seg, size_t csum_at, const uint8_t* src, const uint8_t* dst,
                                    size_t addr_len, uint8_t proto, bool pseudo = true) {
  if (seg.size() < csum_at + 2) return;
  seg[csum_at] = 0;
  seg[csum_at + 1] = 0;
  uint32_t acc = 0;
  if (pseudo) {
    acc = sum16(src, addr_len, acc);
    acc = sum16(dst, addr_len, acc);
    acc += proto;
    acc += static_cast<uint32_t>(seg.size() >> 16) + static_cast<uint32_t>(seg.size() & 0xffff);
  }
  acc = sum16(seg.data(), seg.size(), acc);
  uint16_t c = fold(acc);
  if (proto == 17 && c == 0) c = 0xffff;
  seg[csum_at] = static_cast<uint8_t>(c >> 8);
  seg[csum_at + 1] = static_cast<uint8_t>(c);
}
inline size_t checksum_offset(uint8_t proto) {
  switch (proto) {
    case 6:
      return 16;
    case 17:
      return 6;
    case 1:
    case 58:
      return 2;
    default:
      return 0;
  }
}

// ----------------------------------------------------------------- link layers
inline Bytes ether(uint16_t type, const Bytes& payload, const Mac& dst = kMacB, const Mac& src = kMacA) {
  Bytes b(dst.begin(), dst.end());
  b.insert(b.end(), src.begin(), src.end());
  return b + be16(type) + payload;
}
// 802.3 frame: a length instead of an ethertype.
inline Bytes ether_8023(const Bytes& llc_payload, const Mac& dst = kMacB, const Mac& src = kMacA) {
  Bytes b(dst.begin(), dst.end());
  b.insert(b.end(), src.begin(), src.end());
  return b + be16(static_cast<uint32_t>(llc_payload.size())) + llc_payload;
}
inline Bytes snap(uint16_t type, const Bytes& payload) { return Bytes{0xaa, 0xaa, 0x03, 0, 0, 0} + be16(type) + payload; }
inline Bytes pad_to(Bytes frame, size_t n) {
  if (frame.size() < n) frame.resize(n, 0);
  return frame;
}
// A VLAN tag body: TCI then the inner ethertype.
inline Bytes vlan(uint16_t vid, uint16_t inner_type, const Bytes& inner, uint8_t pcp = 0) {
  return be16((uint32_t{pcp} << 13) | (vid & 0x0fffu)) + be16(inner_type) + inner;
}
inline Bytes mpls(uint32_t label, bool bottom, const Bytes& inner, uint8_t ttl = 64) {
  return be32((label << 12) | (bottom ? 0x100u : 0u) | ttl) + inner;
}
inline Bytes pppoe_session(uint16_t ppp_proto, const Bytes& inner, uint16_t session = 0x1234) {
  return Bytes{0x11, 0x00} + be16(session) + be16(static_cast<uint32_t>(inner.size() + 2)) + be16(ppp_proto) + inner;
}
inline Bytes sll(uint16_t proto, const Bytes& inner, uint16_t hatype = 1, const Mac& addr = kMacA,
                 uint16_t pkttype = 0) {
  return be16(pkttype) + be16(hatype) + be16(6) + Bytes(addr.begin(), addr.end()) + zeros(2) + be16(proto) + inner;
}
inline Bytes sll2(uint16_t proto, const Bytes& inner, uint16_t hatype = 1, const Mac& addr = kMacA,
                  uint8_t pkttype = 4) {
  return be16(proto) + zeros(2) + be32(3) + be16(hatype) + Bytes{pkttype, 6} + Bytes(addr.begin(), addr.end()) +
         zeros(2) + inner;
}

// ----------------------------------------------------------------- IPv4 / IPv6
struct Ip4 {
  uint32_t src = kIpA;
  uint32_t dst = kIpB;
  uint8_t proto = 6;
  uint8_t ttl = 64;
  uint16_t id = 0x1234;
  bool df = false;
  bool mf = false;
  uint16_t frag_offset = 0;  // bytes, multiple of 8
  Bytes options;             // padded to 4 by the caller
  std::optional<uint16_t> total_length;  // override
  std::optional<uint8_t> ihl;            // override (words)
  uint8_t version = 4;
  bool transport_checksum = true;  // fill TCP/UDP/ICMP checksum (unfragmented only)
};
inline Bytes ipv4(const Ip4& h, const Bytes& payload) {
  const size_t hl = 20 + h.options.size();
  Bytes b;
  b.push_back(static_cast<uint8_t>((size_t{h.version} << 4) | (h.ihl ? size_t{*h.ihl} : hl / 4)));
  b.push_back(0);
  b = b + be16(h.total_length ? *h.total_length : static_cast<uint32_t>(hl + payload.size()));
  b = b + be16(h.id);
  b = b + be16((h.df ? 0x4000u : 0u) | (h.mf ? 0x2000u : 0u) | (h.frag_offset / 8u));
  b.push_back(h.ttl);
  b.push_back(h.proto);
  b = b + be16(0) + be32(h.src) + be32(h.dst) + h.options;
  const uint16_t c = fold(sum16(b.data(), b.size()));
  b[10] = static_cast<uint8_t>(c >> 8);
  b[11] = static_cast<uint8_t>(c);
  Bytes seg = payload;
  const size_t at = checksum_offset(h.proto);
  if (h.transport_checksum && at != 0 && !h.mf && h.frag_offset == 0) {
    fill_transport_checksum(seg, at, b.data() + 12, b.data() + 16, 4, h.proto, h.proto != 1);
  }
  return b + seg;
}
inline Bytes ipv4(uint8_t proto, const Bytes& payload, uint32_t src = kIpA, uint32_t dst = kIpB) {
  Ip4 h;
  h.proto = proto;
  h.src = src;
  h.dst = dst;
  return ipv4(h, payload);
}

struct Ip6Hdr {
  Ip6 src = kIp6A;
  Ip6 dst = kIp6B;
  uint8_t next = 6;
  uint8_t hop_limit = 64;
  std::optional<uint16_t> payload_length;  // override
  bool transport_checksum = true;  // when next is directly TCP/UDP/ICMPv6
};
inline Bytes ipv6(const Ip6Hdr& h, const Bytes& payload) {
  Bytes b = be32(0x60000000u) +
            be16(h.payload_length ? *h.payload_length : static_cast<uint32_t>(payload.size()));
  b.push_back(h.next);
  b.push_back(h.hop_limit);
  b.insert(b.end(), h.src.begin(), h.src.end());
  b.insert(b.end(), h.dst.begin(), h.dst.end());
  Bytes seg = payload;
  const size_t at = checksum_offset(h.next);
  if (h.transport_checksum && at != 0 && h.next != 1) {
    fill_transport_checksum(seg, at, h.src.data(), h.dst.data(), 16, h.next);
  }
  return b + seg;
}
inline Bytes ipv6(uint8_t next, const Bytes& payload) {
  Ip6Hdr h;
  h.next = next;
  return ipv6(h, payload);
}
// A generic extension header (hop-by-hop, routing, destination options,
// mobility): 8-octet units, padded with zero (Pad1/PadN-free but legal PadN
// would also do for the decoder, which does not read the options).
inline Bytes ipv6_ext(uint8_t next, size_t units_of_8 = 1) {
  Bytes b(units_of_8 * 8, 0);
  b[0] = next;
  b[1] = static_cast<uint8_t>(units_of_8 - 1);
  if (b.size() >= 4) {  // a PadN option covering the rest
    b[2] = 1;
    b[3] = static_cast<uint8_t>(b.size() - 4);
  }
  return b;
}
inline Bytes ipv6_ah(uint8_t next, size_t icv_words = 3) {  // length in 4-octet units minus 2
  Bytes b(12 + icv_words * 4, 0);
  b[0] = next;
  b[1] = static_cast<uint8_t>((b.size() / 4) - 2);
  return b;
}
inline Bytes ipv6_frag(uint8_t next, uint16_t offset_bytes, bool more, uint32_t id) {
  return Bytes{next, 0} + be16(static_cast<uint32_t>(offset_bytes) | (more ? 1u : 0u)) + be32(id);
}

// ----------------------------------------------------------------- transport
struct Tcp {
  uint16_t sport = 40000;
  uint16_t dport = 80;
  uint32_t seq = 1000;
  uint32_t ack = 0;
  uint8_t flags = 0x18;  // PSH ACK
  uint16_t window = 65535;
  Bytes options;  // padded to 4 by the caller
  std::optional<uint8_t> data_offset;  // override (words)
};
inline Bytes tcp(const Tcp& h, const Bytes& payload = {}) {
  const size_t hl = 20 + h.options.size();
  Bytes b = be16(h.sport) + be16(h.dport) + be32(h.seq) + be32(h.ack);
  b.push_back(static_cast<uint8_t>((h.data_offset ? *h.data_offset : hl / 4) << 4));
  b.push_back(h.flags);
  b = b + be16(h.window) + be16(0) + be16(0) + h.options;
  return b + payload;
}
inline Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags, const Bytes& payload = {}) {
  Tcp h;
  h.sport = sport;
  h.dport = dport;
  h.flags = flags;
  return tcp(h, payload);
}
inline Bytes udp(uint16_t sport, uint16_t dport, const Bytes& payload, std::optional<uint16_t> length = {}) {
  return be16(sport) + be16(dport) + be16(length ? *length : static_cast<uint32_t>(payload.size() + 8)) + be16(0) +
         payload;
}
inline Bytes icmp(uint8_t type, uint8_t code, uint16_t id, uint16_t seq, const Bytes& payload = {}) {
  return Bytes{type, code, 0, 0} + be16(id) + be16(seq) + payload;
}
inline Bytes arp(uint16_t op, const Mac& smac, uint32_t sip, const Mac& tmac, uint32_t tip) {
  return be16(1) + be16(0x0800) + Bytes{6, 4} + be16(op) + Bytes(smac.begin(), smac.end()) + be32(sip) +
         Bytes(tmac.begin(), tmac.end()) + be32(tip);
}

// ----------------------------------------------------------------- tunnels
struct Gre {
  uint16_t proto = 0x0800;
  std::optional<uint16_t> checksum;
  std::optional<uint32_t> key;
  std::optional<uint32_t> seq;
};
inline Bytes gre(const Gre& g, const Bytes& inner) {
  uint16_t flags = 0;
  if (g.checksum) flags |= 0x8000;
  if (g.key) flags |= 0x2000;
  if (g.seq) flags |= 0x1000;
  Bytes b = be16(flags) + be16(g.proto);
  if (g.checksum) b = b + be16(*g.checksum) + be16(0);
  if (g.key) b = b + be32(*g.key);
  if (g.seq) b = b + be32(*g.seq);
  return b + inner;
}
inline Bytes gre(uint16_t proto, const Bytes& inner) {
  Gre g;
  g.proto = proto;
  return gre(g, inner);
}
// PPTP enhanced GRE (version 1) carrying a PPP frame.
inline Bytes gre_pptp(const Bytes& ppp, std::optional<uint32_t> seq, std::optional<uint32_t> ack,
                      uint16_t call_id = 7) {
  uint16_t flags = 0x2000 | 0x0001;  // K, version 1
  if (seq) flags |= 0x1000;
  if (ack) flags |= 0x0080;
  Bytes b = be16(flags) + be16(0x880b) + be16(static_cast<uint32_t>(ppp.size())) + be16(call_id);
  if (seq) b = b + be32(*seq);
  if (ack) b = b + be32(*ack);
  return b + ppp;
}
inline Bytes ppp_frame(uint16_t proto, const Bytes& inner, bool addr_ctrl = true) {
  Bytes b = addr_ctrl ? Bytes{0xff, 0x03} : Bytes{};
  return b + be16(proto) + inner;
}
inline Bytes vxlan(uint32_t vni, const Bytes& inner_frame) {
  return Bytes{0x08, 0, 0, 0} + be32(vni << 8) + inner_frame;
}

// A typical packet: Ethernet / IPv4 / TCP with a payload.
inline Bytes eth_ipv4_tcp(const Bytes& payload = bytes_of("hello"), uint16_t sport = 40000, uint16_t dport = 80) {
  return ether(0x0800, ipv4(6, tcp(sport, dport, 0x18, payload)));
}

// ----------------------------------------------------------------- harness
// Owns a Decoder and the frames it decoded (payload views point into them).
class DecodeFixture : public ::testing::Test {
 protected:
  void SetUp() override { reset(); }
  void reset(decode::DecoderLimits limits = {}) {
    limits_ = limits;
    decoder_ = std::make_unique<decode::Decoder>(anomalies_, limits_);
  }

  // caplen is the frame's size; wirelen 0 means equal to it.
  decode::DecodeStatus decode(const Bytes& frame, uint16_t linktype = 1, uint32_t wirelen = 0, int64_t ts_ns = 0) {
    frames_.push_back(frame);
    if (frames_.size() > 64) frames_.pop_front();
    capture::RawPacket p;
    p.ts = core::Timestamp{ts_ns};
    p.caplen = static_cast<uint32_t>(frames_.back().size());
    p.wirelen = wirelen != 0 ? wirelen : p.caplen;
    p.linktype = linktype;
    p.data = frames_.back().data();
    return decoder_->decode(p, out);
  }
  // Decodes the first caplen bytes of frame; snaplen=true claims the wire had all of it.
  decode::DecodeStatus decode_cut(const Bytes& frame, size_t caplen, bool snaplen, uint16_t linktype = 1) {
    Bytes cut(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(caplen));
    return decode(cut, linktype, snaplen ? static_cast<uint32_t>(frame.size()) : 0);
  }

  uint64_t count(const core::AnomalyId& id) const { return anomalies_.count(id); }
  uint64_t total_anomalies() const { return anomalies_.total(); }
  std::string anomaly_names() const {
    std::string s;
    for (const auto& [name, n] : anomalies_.by_name()) s += name + "=" + std::to_string(n) + " ";
    return s;
  }
  std::string payload_string() const { return std::string(out.payload.begin(), out.payload.end()); }

  core::Anomalies anomalies_;
  decode::DecoderLimits limits_;
  std::unique_ptr<decode::Decoder> decoder_;
  decode::DecodedPacket out;
  std::deque<Bytes> frames_;
};

inline core::IpAddress v4addr(uint32_t a) { return core::IpAddress::v4(a); }
inline core::IpAddress v6addr(const Ip6& a) { return core::IpAddress::v6(a.data()); }

}  // namespace trawl::test

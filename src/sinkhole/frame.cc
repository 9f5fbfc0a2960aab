#include "sinkhole/frame.h"

#include <algorithm>

#include "decode/checksum.h"

namespace trawl::sinkhole {
namespace {

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

bool same_family(const FrameAddrs& a) { return a.src.is_v4() == a.dst.is_v4(); }

// Ethernet + IP headers for a transport segment of `l4_len` bytes; returns
// the frame sized for the whole packet, with the transport part zeroed.
Frame ip_frame(const FrameAddrs& a, uint8_t proto, size_t l4_len) {
  const bool v4 = a.src.is_v4();
  const size_t ip_hdr = v4 ? kIpv4Header : kIpv6Header;
  Frame f(kEthernetHeader + ip_hdr + l4_len, 0);
  uint8_t* p = f.data();
  std::copy(a.dst_mac.begin(), a.dst_mac.end(), p);
  std::copy(a.src_mac.begin(), a.src_mac.end(), p + 6);
  put16(p + 12, v4 ? 0x0800 : 0x86dd);
  uint8_t* ip = p + kEthernetHeader;
  if (v4) {
    ip[0] = 0x45;
    put16(ip + 2, static_cast<uint16_t>(ip_hdr + l4_len));
    put16(ip + 6, 0x4000);  // DF: we size segments by MSS, never fragment
    ip[8] = a.ttl;
    ip[9] = proto;
    std::copy(a.src.wire_data(), a.src.wire_data() + 4, ip + 12);
    std::copy(a.dst.wire_data(), a.dst.wire_data() + 4, ip + 16);
    put16(ip + 10, static_cast<uint16_t>(~decode::detail::checksum_fold(decode::detail::checksum_add(0, ip, ip_hdr))));
  } else {
    ip[0] = 0x60;
    put16(ip + 4, static_cast<uint16_t>(l4_len));
    ip[6] = proto;
    ip[7] = a.ttl;
    std::copy(a.src.wire_data(), a.src.wire_data() + 16, ip + 8);
    std::copy(a.dst.wire_data(), a.dst.wire_data() + 16, ip + 24);
  }
  return f;
}

uint8_t* l4_start(Frame& f, const FrameAddrs& a) {
  return f.data() + kEthernetHeader + (a.src.is_v4() ? kIpv4Header : kIpv6Header);
}

}  // namespace

FrameAddrs reply_addrs(const decode::DecodedPacket& guest) {
  FrameAddrs a;
  a.src_mac = guest.dst_mac;
  a.dst_mac = guest.src_mac;
  a.src = guest.dst;
  a.dst = guest.src;
  return a;
}

uint16_t transport_checksum(const core::IpAddress& src, const core::IpAddress& dst, uint8_t proto,
                            core::ByteView segment) {
  uint64_t acc = decode::detail::checksum_add(0, src.wire_data(), src.wire_size());
  acc = decode::detail::checksum_add(acc, dst.wire_data(), dst.wire_size());
  acc += proto;
  acc += segment.size();
  acc = decode::detail::checksum_add(acc, segment.data(), segment.size());
  return static_cast<uint16_t>(~decode::detail::checksum_fold(acc));
}

Frame build_tcp_frame(const FrameAddrs& a, const TcpFields& t, core::ByteView payload) {
  const size_t opt_len = t.mss != 0 ? 4 : 0;
  const size_t hdr = kTcpHeader + opt_len;
  if (!same_family(a) || payload.size() > kMaxTransportBytes - hdr) return {};
  Frame f = ip_frame(a, decode::ip_proto::kTcp, hdr + payload.size());
  uint8_t* tcp = l4_start(f, a);
  put16(tcp, t.sport);
  put16(tcp + 2, t.dport);
  put32(tcp + 4, t.seq);
  put32(tcp + 8, t.ack);
  tcp[12] = static_cast<uint8_t>((hdr / 4) << 4);
  tcp[13] = t.flags;
  put16(tcp + 14, t.window);
  if (opt_len != 0) {
    tcp[20] = 2;  // MSS, length 4
    tcp[21] = 4;
    put16(tcp + 22, t.mss);
  }
  std::copy(payload.begin(), payload.end(), tcp + hdr);
  put16(tcp + 16, transport_checksum(a.src, a.dst, decode::ip_proto::kTcp, {tcp, hdr + payload.size()}));
  return f;
}

Frame build_udp_frame(const FrameAddrs& a, uint16_t sport, uint16_t dport, core::ByteView payload) {
  if (!same_family(a) || payload.size() > kMaxTransportBytes - 8) return {};
  const size_t len = 8 + payload.size();
  Frame f = ip_frame(a, decode::ip_proto::kUdp, len);
  uint8_t* udp = l4_start(f, a);
  put16(udp, sport);
  put16(udp + 2, dport);
  put16(udp + 4, static_cast<uint16_t>(len));
  std::copy(payload.begin(), payload.end(), udp + 8);
  uint16_t sum = transport_checksum(a.src, a.dst, decode::ip_proto::kUdp, {udp, len});
  put16(udp + 6, sum == 0 ? 0xffff : sum);  // zero means "no checksum" in UDP
  return f;
}

Frame build_icmp_frame(const FrameAddrs& a, uint8_t type, uint8_t code, core::ByteView body) {
  if (!same_family(a) || body.size() > kMaxTransportBytes - 4) return {};
  const bool v4 = a.src.is_v4();
  const size_t len = 4 + body.size();
  Frame f = ip_frame(a, v4 ? decode::ip_proto::kIcmp : decode::ip_proto::kIcmpv6, len);
  uint8_t* icmp = l4_start(f, a);
  icmp[0] = type;
  icmp[1] = code;
  std::copy(body.begin(), body.end(), icmp + 4);
  // ICMPv6 covers the pseudo-header; ICMP for IPv4 only the message.
  uint16_t sum = v4 ? static_cast<uint16_t>(~decode::detail::checksum_fold(decode::detail::checksum_add(0, icmp, len)))
                    : transport_checksum(a.src, a.dst, decode::ip_proto::kIcmpv6, {icmp, len});
  put16(icmp + 2, sum);
  return f;
}

}  // namespace trawl::sinkhole

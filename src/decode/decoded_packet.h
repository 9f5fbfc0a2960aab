// DecodedPacket: what the decoder learned from one frame, as fixed-size fields
// plus views into the frame (no allocation). For tunnels (GRE, VXLAN, IP in
// IP, MPLS Ethernet pseudowires) the fields describe the innermost packet,
// which is what gets analysed: its MACs, network and transport fields. VLAN
// ids are collected across tunnels, outermost first. When a tunnel carries no
// IP packet (PPTP acknowledgements, encrypted PPP, non-IP frames) the network
// and transport fields stay the outer packet's and tunnel_depth does not count
// that tunnel.
#pragma once

#include <array>
#include <cstdint>

#include "core/byte_view.h"
#include "core/ip_address.h"
#include "core/timestamp.h"

namespace trawl::decode {

enum class L3 : uint8_t { kNone, kIpv4, kIpv6, kArp };

namespace ip_proto {
constexpr uint8_t kIcmp = 1;
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr uint8_t kGre = 47;
constexpr uint8_t kIcmpv6 = 58;
}  // namespace ip_proto

namespace tcp_flag {
constexpr uint8_t kFin = 0x01;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kRst = 0x04;
constexpr uint8_t kPsh = 0x08;
constexpr uint8_t kAck = 0x10;
constexpr uint8_t kUrg = 0x20;
constexpr uint8_t kEce = 0x40;
constexpr uint8_t kCwr = 0x80;
}  // namespace tcp_flag

struct ArpInfo {
  uint16_t op = 0;  // 1 request, 2 reply
  std::array<uint8_t, 6> sender_mac{};
  std::array<uint8_t, 6> target_mac{};
  core::IpAddress sender_ip;
  core::IpAddress target_ip;
};

struct DecodedPacket {
  core::Timestamp ts;
  uint64_t index = 0;  // position in the merged input stream (0-based)
  uint32_t wirelen = 0;
  uint16_t linktype = 0;

  // Link layer
  std::array<uint8_t, 6> src_mac{};
  std::array<uint8_t, 6> dst_mac{};
  bool has_mac = false;             // Linux SLL/SLL2 carry only src_mac (dst_mac stays zero)
  uint8_t vlan_count = 0;           // 802.1Q tags seen (outermost first)
  std::array<uint16_t, 2> vlan{};   // VLAN ids
  uint8_t tunnel_depth = 0;         // GRE / VXLAN / IP-in-IP encapsulations removed

  L3 l3 = L3::kNone;
  ArpInfo arp;  // when l3 == kArp

  // Network layer (IPv4 / IPv6)
  core::IpAddress src;
  core::IpAddress dst;
  uint8_t ip_proto = 0;    // upper-layer protocol after IPv6 extension headers
  uint8_t ttl = 0;         // TTL / hop limit
  uint32_t ip_len = 0;     // IP total length from the header (IPv6: 40 + payload length)
  bool reassembled = false;  // this packet is a reassembled IP datagram
  uint16_t fragments = 0;    // fragments that made it (when reassembled)
  uint32_t fragment_ip_bytes = 0;  // sum of the fragments' IP lengths (when reassembled)

  // Transport layer
  bool has_l4 = false;     // the transport header was fully present
  uint16_t sport = 0;      // TCP/UDP ports; ICMP: type in sport, code in dport
  uint16_t dport = 0;
  uint8_t tcp_flags = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint16_t window = 0;
  uint16_t mss = 0;         // TCP option, 0 if absent
  int8_t wscale = -1;       // TCP option, -1 if absent
  bool sack_permitted = false;
  uint16_t icmp_id = 0;     // echo identifier
  bool bad_checksum = false;  // only set where a checksum was verified

  // Payload after the transport header. payload_len comes from the IP header
  // (never from the captured length, so Ethernet padding is not data);
  // payload.size() is what was captured of it (less when cut by snaplen).
  uint32_t payload_len = 0;
  core::ByteView payload;
};

}  // namespace trawl::decode

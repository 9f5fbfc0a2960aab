// Frame builder for the sinkhole: complete Ethernet + IPv4/IPv6 + TCP/UDP/ICMP
// frames with correct lengths and checksums, ready for pcap_inject.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/byte_view.h"
#include "core/ip_address.h"
#include "decode/decoded_packet.h"

namespace trawl::sinkhole {

using Frame = std::vector<uint8_t>;
using MacAddress = std::array<uint8_t, 6>;

// Who a frame goes from and to. src and dst must be the same family.
struct FrameAddrs {
  MacAddress src_mac{};
  MacAddress dst_mac{};
  core::IpAddress src;
  core::IpAddress dst;
  uint8_t ttl = 64;  // IPv4 TTL / IPv6 hop limit
};

// The reply direction of a guest packet: MACs and addresses swapped.
FrameAddrs reply_addrs(const decode::DecodedPacket& guest);

struct TcpFields {
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;    // decode::tcp_flag bits
  uint16_t window = 0;
  uint16_t mss = 0;     // non-zero: add an MSS option (SYN segments only, by convention)
};

constexpr size_t kEthernetHeader = 14;
constexpr size_t kIpv4Header = 20;
constexpr size_t kIpv6Header = 40;
constexpr size_t kTcpHeader = 20;
// Largest transport payload a builder accepts; more returns an empty frame
// (IPv4's 16-bit total length and IPv6's payload length must hold it).
constexpr size_t kMaxTransportBytes = 65535 - kIpv4Header;

// Each returns an empty frame when the addresses mix families or the payload is
// too large; never throws on sizes.
Frame build_tcp_frame(const FrameAddrs& a, const TcpFields& t, core::ByteView payload = {});
Frame build_udp_frame(const FrameAddrs& a, uint16_t sport, uint16_t dport, core::ByteView payload);
// ICMP (IPv4) or ICMPv6 (IPv6) by the address family: type, code, then `body`
// (for echo: identifier, sequence number and data, as received).
Frame build_icmp_frame(const FrameAddrs& a, uint8_t type, uint8_t code, core::ByteView body);

// RFC 1071 checksum over the pseudo-header (addresses, protocol, length) and
// the segment, as it goes into the header's checksum field.
uint16_t transport_checksum(const core::IpAddress& src, const core::IpAddress& dst, uint8_t proto,
                            core::ByteView segment);

}  // namespace trawl::sinkhole

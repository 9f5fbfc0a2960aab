// Internal interface between the per-layer decoders: the per-packet context
// and one entry point per layer. Every function takes a view bounded by what
// its parent layer declared (so trailing padding is never seen) and returns
// the packet's DecodeStatus.
#pragma once

#include <cstdint>
#include <new>

#include "core/byte_view.h"
#include "decode/decode_anomalies.h"
#include "decode/decoded_packet.h"
#include "decode/decoder.h"

namespace trawl::decode::detail {

class IpFragments;

struct Ctx {
  DecodedPacket& out;
  core::Anomalies& anomalies;
  const DecoderLimits& limits;
  IpFragments& fragments;
  const uint8_t* frame_end;  // one past the last captured byte of the frame
  uint32_t wire_extra;       // wirelen - caplen when snaplen cut the frame, else 0
  uint8_t encap = 0;         // tags and tunnels entered so far
  uint8_t pending_tunnels = 0;  // tunnels entered since the network layer was last filled

  // True when v runs to the end of a frame that snaplen cut short: bytes
  // missing from v are then the capture's doing, not the packet's.
  bool cut_at(core::ByteView v) const { return wire_extra != 0 && v.data() + v.size() == frame_end; }

  // A header did not fit in v.
  DecodeStatus truncated(const core::AnomalyId& id, core::ByteView v) {
    anomalies.add(cut_at(v) ? anomaly::kHeaderCutBySnaplen : id);
    return DecodeStatus::kMalformed;
  }
  DecodeStatus malformed(const core::AnomalyId& id) {
    anomalies.add(id);
    return DecodeStatus::kMalformed;
  }
  // Enters one more tag or tunnel; false (counted) beyond the configured depth.
  bool enter() {
    if (encap >= limits.max_encapsulation) {
      anomalies.add(anomaly::kTooManyEncapsulations);
      return false;
    }
    ++encap;
    return true;
  }
  bool enter_tunnel() {
    if (!enter()) return false;
    ++pending_tunnels;
    return true;
  }
  // Called by a network layer (IPv4, IPv6, ARP) once its header is valid and it
  // is about to overwrite the packet's network fields: they now describe a
  // packet inside every tunnel entered so far, and whatever an outer packet's
  // transport layer set (VXLAN's UDP ports) no longer applies.
  void begin_network_layer() {
    if (pending_tunnels == 0) return;
    out.tunnel_depth = static_cast<uint8_t>(out.tunnel_depth + pending_tunnels);
    pending_tunnels = 0;
    out.src = {};
    out.dst = {};
    out.ip_proto = 0;
    out.ttl = 0;
    out.ip_len = 0;
    clear_transport(out);
  }
  static void clear_transport(DecodedPacket& o) {
    o.has_l4 = false;
    o.sport = 0;
    o.dport = 0;
    o.tcp_flags = 0;
    o.seq = 0;
    o.ack = 0;
    o.window = 0;
    o.mss = 0;
    o.wscale = -1;
    o.sack_permitted = false;
    o.icmp_id = 0;
    o.bad_checksum = false;
    o.payload_len = 0;
    o.payload = {};
  }
};

// Build an address in place. IpAddress::v4/v6 are out of line; assigning
// their returned temporary reads back bytes just written piecewise, which
// stalls store forwarding (about a tenth of a typical packet's time).
inline void set_v4(core::IpAddress& dst, const uint8_t* p) { ::new (&dst) core::IpAddress(core::IpAddress::v4(p)); }
inline void set_v6(core::IpAddress& dst, const uint8_t* p) { ::new (&dst) core::IpAddress(core::IpAddress::v6(p)); }

// Link layers (one per file).
DecodeStatus decode_ethernet(Ctx& c, core::ByteView data);
DecodeStatus decode_llc(Ctx& c, core::ByteView data);  // 802.3 length frames
DecodeStatus decode_linux_sll(Ctx& c, core::ByteView data);
DecodeStatus decode_linux_sll2(Ctx& c, core::ByteView data);
DecodeStatus decode_null(Ctx& c, core::ByteView data);  // BSD loopback, host byte order
DecodeStatus decode_loop(Ctx& c, core::ByteView data);  // OpenBSD loopback, network order
DecodeStatus decode_raw_ip(Ctx& c, core::ByteView data);  // version nibble decides

// Tags and link-level encapsulations.
DecodeStatus decode_vlan(Ctx& c, core::ByteView data);
DecodeStatus decode_mpls(Ctx& c, core::ByteView data);
DecodeStatus decode_pppoe_session(Ctx& c, core::ByteView data);
DecodeStatus decode_ppp(Ctx& c, core::ByteView data);  // PPP frame (PPPoE, PPTP)

// Dispatch (dispatch.cc).
DecodeStatus decode_ethertype(Ctx& c, uint16_t ethertype, core::ByteView data);
// data: the captured part of the IP payload; declared: its length per the IP header.
DecodeStatus decode_ip_payload(Ctx& c, uint8_t proto, core::ByteView data, uint32_t declared);

// Network layers.
DecodeStatus decode_ipv4(Ctx& c, core::ByteView data);
DecodeStatus decode_ipv6(Ctx& c, core::ByteView data);
DecodeStatus decode_arp(Ctx& c, core::ByteView data);

// Transport layers and tunnels carried by IP.
DecodeStatus decode_tcp(Ctx& c, core::ByteView data, uint32_t declared);
DecodeStatus decode_udp(Ctx& c, core::ByteView data, uint32_t declared);
DecodeStatus decode_icmp(Ctx& c, core::ByteView data, uint32_t declared);
DecodeStatus decode_icmpv6(Ctx& c, core::ByteView data, uint32_t declared);
DecodeStatus decode_gre(Ctx& c, core::ByteView data, uint32_t declared);
// data: the payload of a UDP datagram to a VXLAN port, big enough (per the
// IP header) to hold a VXLAN header and an Ethernet header. Without the I flag
// it stays plain UDP payload.
DecodeStatus decode_vxlan(Ctx& c, core::ByteView data);

}  // namespace trawl::decode::detail

// The two dispatch tables of the decoder: ethertype to layer, IP protocol to
// layer. A new layer adds its case here and its own file.
#include "decode/layers.h"

namespace trawl::decode::detail {

namespace ethertype {
constexpr uint16_t kIpv4 = 0x0800;
constexpr uint16_t kArp = 0x0806;
constexpr uint16_t kVlan = 0x8100;
constexpr uint16_t kQinQ = 0x88a8;
constexpr uint16_t kQinQOld = 0x9100;
constexpr uint16_t kIpv6 = 0x86dd;
constexpr uint16_t kMplsUnicast = 0x8847;
constexpr uint16_t kMplsMulticast = 0x8848;
constexpr uint16_t kPppoeSession = 0x8864;
}  // namespace ethertype

DecodeStatus decode_ethertype(Ctx& c, uint16_t type, core::ByteView data) {
  switch (type) {
    case ethertype::kIpv4:
      return decode_ipv4(c, data);
    case ethertype::kIpv6:
      return decode_ipv6(c, data);
    case ethertype::kArp:
      return decode_arp(c, data);
    case ethertype::kVlan:
    case ethertype::kQinQ:
    case ethertype::kQinQOld:
      return decode_vlan(c, data);
    case ethertype::kMplsUnicast:
    case ethertype::kMplsMulticast:
      return decode_mpls(c, data);
    case ethertype::kPppoeSession:
      return decode_pppoe_session(c, data);
    default:
      // Not IP (LLDP, PPPoE discovery, 802.1X, ...): nothing more to decode.
      return DecodeStatus::kOk;
  }
}

namespace {
// IP in IP (4) and IPv6 in IP (41, 6in4/6to4 tunnels): the inner packet
// replaces the outer, as for GRE.
DecodeStatus decode_ip_in_ip(Ctx& c, uint8_t proto, core::ByteView data) {
  if (!c.enter_tunnel()) return DecodeStatus::kMalformed;
  return proto == 4 ? decode_ipv4(c, data) : decode_ipv6(c, data);
}
}  // namespace

DecodeStatus decode_ip_payload(Ctx& c, uint8_t proto, core::ByteView data, uint32_t declared) {
  switch (proto) {
    case ip_proto::kTcp:
      return decode_tcp(c, data, declared);
    case ip_proto::kUdp:
      return decode_udp(c, data, declared);
    case ip_proto::kIcmp:
      return decode_icmp(c, data, declared);
    case ip_proto::kIcmpv6:
      return decode_icmpv6(c, data, declared);
    case ip_proto::kGre:
      return decode_gre(c, data, declared);
    case 4:
    case 41:
      c.out.payload = data;
      c.out.payload_len = declared;
      return decode_ip_in_ip(c, proto, data);
    default:
      // Other protocols (ESP, OSPF, SCTP, ...): the IP payload is the payload.
      c.out.payload = data;
      c.out.payload_len = declared;
      return DecodeStatus::kOk;
  }
}

}  // namespace trawl::decode::detail

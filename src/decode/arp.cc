// ARP for Ethernet and IPv4 (the only kind that names IP hosts on a LAN).
#include <cstring>

#include "decode/layers.h"

namespace trawl::decode::detail {

DecodeStatus decode_arp(Ctx& c, core::ByteView data) {
  if (data.size() < 8) return c.truncated(anomaly::kTruncatedArp, data);
  const uint8_t* p = data.data();
  const uint16_t htype = core::load_be16(p);
  const uint16_t ptype = core::load_be16(p + 2);
  if (htype != 1 || ptype != 0x0800 || p[4] != 6 || p[5] != 4) {
    c.anomalies.add(anomaly::kUnsupportedArp);
    return DecodeStatus::kOk;
  }
  if (data.size() < 28) return c.truncated(anomaly::kTruncatedArp, data);
  c.begin_network_layer();
  DecodedPacket& o = c.out;
  o.l3 = L3::kArp;
  o.arp.op = core::load_be16(p + 6);
  std::memcpy(o.arp.sender_mac.data(), p + 8, 6);
  set_v4(o.arp.sender_ip, p + 14);
  std::memcpy(o.arp.target_mac.data(), p + 18, 6);
  set_v4(o.arp.target_ip, p + 24);
  return DecodeStatus::kOk;
}

}  // namespace trawl::decode::detail

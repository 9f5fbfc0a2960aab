// IEEE 802.1Q VLAN tags and 802.1ad / pre-standard (0x9100) QinQ tags.
#include "decode/layers.h"

namespace trawl::decode::detail {

DecodeStatus decode_vlan(Ctx& c, core::ByteView data) {
  if (data.size() < 4) return c.truncated(anomaly::kTruncatedVlan, data);
  if (!c.enter()) return DecodeStatus::kMalformed;
  DecodedPacket& o = c.out;
  const uint16_t vid = core::load_be16(data.data()) & 0x0fff;
  // Outermost first; tags beyond two (rare) are decoded through, not kept.
  if (o.vlan_count < o.vlan.size()) {
    o.vlan[o.vlan_count++] = vid;
  } else {
    c.anomalies.add(anomaly::kVlanTagsBeyondTwo);
  }
  return decode_ethertype(c, core::load_be16(data.data() + 2), data.subspan(4));
}

}  // namespace trawl::decode::detail

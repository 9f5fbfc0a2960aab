// Ethernet II and IEEE 802.3 (length) frames with LLC / SNAP.
#include <algorithm>
#include <cstring>

#include "decode/layers.h"

namespace trawl::decode::detail {

DecodeStatus decode_ethernet(Ctx& c, core::ByteView data) {
  if (data.size() < 14) return c.truncated(anomaly::kTruncatedEthernet, data);
  const uint8_t* p = data.data();
  DecodedPacket& o = c.out;
  std::memcpy(o.dst_mac.data(), p, 6);
  std::memcpy(o.src_mac.data(), p + 6, 6);
  o.has_mac = true;
  const uint16_t type = core::load_be16(p + 12);
  if (type >= 0x0600) return decode_ethertype(c, type, data.subspan(14));
  if (type <= 1500) return decode_llc(c, data.subspan(14, std::min<size_t>(type, data.size() - 14)));
  // 1501..1535 is neither a length nor an ethertype.
  c.anomalies.add(anomaly::kInvalidEthertype);
  return DecodeStatus::kOk;
}

// 802.2 LLC. Only SNAP with a zero OUI (RFC 1042) carries an ethertype we can
// follow; everything else (STP, NetBIOS, IPX, ...) is not IP.
DecodeStatus decode_llc(Ctx& c, core::ByteView data) {
  if (data.size() < 3) return c.truncated(anomaly::kTruncatedLlc, data);
  const uint8_t* p = data.data();
  if (p[0] != 0xaa || p[1] != 0xaa || p[2] != 0x03) return DecodeStatus::kOk;
  if (data.size() < 8) return c.truncated(anomaly::kTruncatedLlc, data);
  if (p[3] != 0 || p[4] != 0 || p[5] != 0) return DecodeStatus::kOk;
  return decode_ethertype(c, core::load_be16(p + 6), data.subspan(8));
}

}  // namespace trawl::decode::detail

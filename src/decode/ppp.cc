// PPP frames as carried by PPPoE and PPTP's enhanced GRE: optional address and
// control bytes (FF 03), a one- or two-byte protocol field (RFC 1661 protocol
// field compression), then the network packet.
#include "decode/layers.h"

namespace trawl::decode::detail {

DecodeStatus decode_ppp(Ctx& c, core::ByteView data) {
  size_t off = 0;
  if (!data.empty() && data[0] == 0xff) {  // address byte: never a protocol
    if (data.size() < 2) return c.truncated(anomaly::kTruncatedPpp, data);
    if (data[1] == 0x03) off = 2;
  }
  if (data.size() <= off) return c.truncated(anomaly::kTruncatedPpp, data);
  uint16_t proto;
  if ((data[off] & 1) != 0) {  // compressed: a single odd byte
    proto = data[off];
    off += 1;
  } else {
    if (data.size() - off < 2) return c.truncated(anomaly::kTruncatedPpp, data);
    proto = core::load_be16(data.data() + off);
    off += 2;
  }
  switch (proto) {
    case 0x0021:
      return decode_ipv4(c, data.subspan(off));
    case 0x0057:
      return decode_ipv6(c, data.subspan(off));
    case 0x0281:  // MPLS unicast
    case 0x0283:  // MPLS multicast
      return decode_mpls(c, data.subspan(off));
    default:
      return DecodeStatus::kOk;  // LCP, IPCP, CCP, compressed data, ...
  }
}

}  // namespace trawl::decode::detail

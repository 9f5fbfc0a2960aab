// MPLS label stacks (unicast 0x8847, multicast 0x8848): labels are popped to the
// bottom of the stack; the payload is guessed from its first nibble as routers
// do: 4 IPv4, 6 IPv6, 0 a pseudowire control word followed by Ethernet.
#include "decode/layers.h"

namespace trawl::decode::detail {

DecodeStatus decode_mpls(Ctx& c, core::ByteView data) {
  if (!c.enter()) return DecodeStatus::kMalformed;
  size_t off = 0;
  for (;;) {
    if (data.size() - off < 4) return c.truncated(anomaly::kTruncatedMpls, data);
    const uint32_t entry = core::load_be32(data.data() + off);
    off += 4;
    if ((entry & 0x100) != 0) break;  // bottom of stack
  }
  const core::ByteView inner = data.subspan(off);
  if (inner.empty()) return c.cut_at(inner) ? c.truncated(anomaly::kTruncatedMpls, inner) : DecodeStatus::kOk;
  switch (inner[0] >> 4) {
    case 4:
      return decode_ipv4(c, inner);
    case 6:
      return decode_ipv6(c, inner);
    case 0:
      // RFC 4385 control word, then an Ethernet pseudowire (RFC 4448).
      if (inner.size() < 4) return c.truncated(anomaly::kTruncatedMpls, inner);
      if (!c.enter_tunnel()) return DecodeStatus::kMalformed;
      return decode_ethernet(c, inner.subspan(4));
    default:
      return DecodeStatus::kOk;  // not IP (or a pseudowire without control word)
  }
}

}  // namespace trawl::decode::detail

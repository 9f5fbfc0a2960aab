// VXLAN (RFC 7348): an 8-byte header with the I flag, then an Ethernet frame.
// The inner packet replaces the outer one.
#include "decode/layers.h"

namespace trawl::decode::detail {

DecodeStatus decode_vxlan(Ctx& c, core::ByteView data) {
  if (data.size() < 8) return c.truncated(anomaly::kTruncatedVxlan, data);
  if ((data[0] & 0x08) == 0) return DecodeStatus::kOk;  // no VNI: not VXLAN after all
  if (!c.enter_tunnel()) return DecodeStatus::kMalformed;
  return decode_ethernet(c, data.subspan(8));
}

}  // namespace trawl::decode::detail

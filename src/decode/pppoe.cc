// PPPoE session stage (0x8864). Discovery (0x8863) carries no IP and never
// gets here.
#include "decode/layers.h"

namespace trawl::decode::detail {

DecodeStatus decode_pppoe_session(Ctx& c, core::ByteView data) {
  if (data.size() < 6) return c.truncated(anomaly::kTruncatedPppoe, data);
  const uint8_t* p = data.data();
  // Version 1, type 1, code 0 (session data).
  if (p[0] != 0x11 || p[1] != 0x00) return c.malformed(anomaly::kBadPppoeHeader);
  if (!c.enter()) return DecodeStatus::kMalformed;
  // The length field bounds the PPP frame, which keeps Ethernet padding out.
  const size_t length = core::load_be16(p + 4);
  core::ByteView ppp = data.subspan(6);
  if (length <= ppp.size()) {
    ppp = ppp.first(length);
  } else if (!c.cut_at(data)) {
    c.anomalies.add(anomaly::kPppoeLengthExceedsCapture);
  }
  return decode_ppp(c, ppp);
}

}  // namespace trawl::decode::detail

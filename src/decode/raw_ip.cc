// Raw IP link types (101, and 12/14 on some BSDs): the version nibble decides.
#include "decode/layers.h"

namespace trawl::decode::detail {

DecodeStatus decode_raw_ip(Ctx& c, core::ByteView data) {
  if (data.empty()) return c.truncated(anomaly::kTruncatedIpv4, data);
  switch (data[0] >> 4) {
    case 4:
      return decode_ipv4(c, data);
    case 6:
      return decode_ipv6(c, data);
    default:
      return c.malformed(anomaly::kBadIpVersion);
  }
}

}  // namespace trawl::decode::detail

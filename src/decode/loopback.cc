// BSD loopback encapsulations: NULL (0) carries the address family in the
// capturing host's byte order, LOOP (108) in network order. The family values
// for IPv6 differ between BSDs (24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS).
#include "decode/layers.h"

namespace trawl::decode::detail {

namespace {
DecodeStatus dispatch_family(Ctx& c, uint32_t family, core::ByteView data) {
  switch (family) {
    case 2:
      return decode_ipv4(c, data);
    case 24:
    case 28:
    case 30:
      return decode_ipv6(c, data);
    default:
      c.anomalies.add(anomaly::kUnknownLoopbackFamily);
      return DecodeStatus::kOk;
  }
}

// Families are small numbers, so the byte order that gives a small value is
// the right one; this accepts captures from hosts of either endianness.
uint32_t either_order(const uint8_t* p) {
  const uint32_t le = core::load_le32(p);
  return le <= 0xffff ? le : core::load_be32(p);
}
}  // namespace

DecodeStatus decode_null(Ctx& c, core::ByteView data) {
  if (data.size() < 4) return c.truncated(anomaly::kTruncatedLoopback, data);
  return dispatch_family(c, either_order(data.data()), data.subspan(4));
}

DecodeStatus decode_loop(Ctx& c, core::ByteView data) {
  if (data.size() < 4) return c.truncated(anomaly::kTruncatedLoopback, data);
  // Network order by definition, but some writers use host order: accept both.
  const uint32_t be = core::load_be32(data.data());
  return dispatch_family(c, be <= 0xffff ? be : core::load_le32(data.data()), data.subspan(4));
}

}  // namespace trawl::decode::detail

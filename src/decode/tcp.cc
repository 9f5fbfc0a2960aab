// TCP: fixed header, data offset checks and the options the flow layer needs
// (MSS, window scale, SACK permitted).
#include <algorithm>

#include "decode/checksum.h"
#include "decode/layers.h"

namespace trawl::decode::detail {

namespace {

// Parses the options area; false when it is malformed (what was read before
// the damage is kept).
bool parse_options(Ctx& c, const uint8_t* p, size_t n) {
  DecodedPacket& o = c.out;
  size_t i = 0;
  while (i < n) {
    const uint8_t kind = p[i];
    if (kind == 0) return true;  // end of options
    if (kind == 1) {             // no-op
      ++i;
      continue;
    }
    if (n - i < 2) return false;
    const uint8_t len = p[i + 1];
    if (len < 2 || len > n - i) return false;
    switch (kind) {
      case 2:  // MSS
        if (len != 4) return false;
        o.mss = core::load_be16(p + i + 2);
        break;
      case 3:  // window scale
        if (len != 3) return false;
        if (p[i + 2] > 14) {
          c.anomalies.add(anomaly::kTcpWscaleTooLarge);  // RFC 7323: use 14
          o.wscale = 14;
        } else {
          o.wscale = static_cast<int8_t>(p[i + 2]);
        }
        break;
      case 4:  // SACK permitted
        if (len != 2) return false;
        o.sack_permitted = true;
        break;
      default:
        break;
    }
    i += len;
  }
  return true;
}

}  // namespace

DecodeStatus decode_tcp(Ctx& c, core::ByteView data, uint32_t declared) {
  DecodedPacket& o = c.out;
  if (data.size() >= 4) {
    o.sport = core::load_be16(data.data());
    o.dport = core::load_be16(data.data() + 2);
  }
  if (declared < 20) return c.malformed(anomaly::kTcpHeaderExceedsIpPayload);
  if (data.size() < 20) return c.truncated(anomaly::kTruncatedTcp, data);
  const uint8_t* p = data.data();
  o.seq = core::load_be32(p + 4);
  o.ack = core::load_be32(p + 8);
  o.tcp_flags = p[13];
  o.window = core::load_be16(p + 14);
  const uint32_t hl = (uint32_t{p[12]} >> 4) * 4;
  if (hl < 20) return c.malformed(anomaly::kBadTcpHeaderLength);
  if (hl > declared) return c.malformed(anomaly::kTcpHeaderExceedsIpPayload);
  if (hl > data.size()) return c.truncated(anomaly::kTruncatedTcp, data);
  if (hl > 20 && !parse_options(c, p + 20, hl - 20)) c.anomalies.add(anomaly::kBadTcpOption);

  o.has_l4 = true;
  o.payload_len = declared - hl;
  o.payload = data.subspan(hl, std::min<size_t>(o.payload_len, data.size() - hl));
  if (c.limits.verify_checksums && data.size() == declared &&
      !transport_checksum_ok(o, ip_proto::kTcp, data)) {
    o.bad_checksum = true;
    c.anomalies.add(anomaly::kBadTcpChecksum);
  }
  return DecodeStatus::kOk;
}

}  // namespace trawl::decode::detail

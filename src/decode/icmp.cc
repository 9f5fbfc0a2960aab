// ICMP and ICMPv6: type in sport, code in dport, the echo identifier. The
// packet quoted by an error message stays payload: it is not this packet.
#include <algorithm>

#include "decode/checksum.h"
#include "decode/layers.h"

namespace trawl::decode::detail {

namespace {

bool is_echo(bool v6, uint8_t type) {
  if (v6) return type == 128 || type == 129;  // echo request / reply
  return type == 0 || type == 8             // echo reply / request
         || type == 13 || type == 14        // timestamp
         || type == 15 || type == 16;       // information
}

DecodeStatus decode(Ctx& c, core::ByteView data, uint32_t declared, bool v6) {
  DecodedPacket& o = c.out;
  const core::AnomalyId& truncated = v6 ? anomaly::kTruncatedIcmpv6 : anomaly::kTruncatedIcmp;
  if (data.size() >= 2) {
    o.sport = data[0];
    o.dport = data[1];
  }
  if (declared < 8) return c.malformed(truncated);
  if (data.size() < 8) return c.truncated(truncated, data);
  if (is_echo(v6, data[0])) o.icmp_id = core::load_be16(data.data() + 4);
  o.has_l4 = true;
  o.payload_len = declared - 8;
  o.payload = data.subspan(8, std::min<size_t>(o.payload_len, data.size() - 8));
  if (c.limits.verify_checksums && data.size() == declared) {
    const bool ok = v6 ? transport_checksum_ok(o, ip_proto::kIcmpv6, data) : checksum_ok(data);
    if (!ok) {
      o.bad_checksum = true;
      c.anomalies.add(anomaly::kBadIcmpChecksum);
    }
  }
  return DecodeStatus::kOk;
}

}  // namespace

DecodeStatus decode_icmp(Ctx& c, core::ByteView data, uint32_t declared) { return decode(c, data, declared, false); }

DecodeStatus decode_icmpv6(Ctx& c, core::ByteView data, uint32_t declared) { return decode(c, data, declared, true); }

}  // namespace trawl::decode::detail

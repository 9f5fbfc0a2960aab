// UDP: ports and payload (the IP length is trusted over UDP's own), and the
// UDP-carried tunnels (VXLAN).
#include <algorithm>

#include "decode/checksum.h"
#include "decode/layers.h"

namespace trawl::decode::detail {

namespace {
bool is_vxlan_port(uint16_t port) {
  return port == 4789    // IANA VXLAN
         || port == 8472;  // Linux kernel's default VXLAN port
}
}  // namespace

DecodeStatus decode_udp(Ctx& c, core::ByteView data, uint32_t declared) {
  DecodedPacket& o = c.out;
  if (data.size() >= 4) {
    o.sport = core::load_be16(data.data());
    o.dport = core::load_be16(data.data() + 2);
  }
  if (declared < 8) return c.malformed(anomaly::kUdpHeaderExceedsIpPayload);
  if (data.size() < 8) return c.truncated(anomaly::kTruncatedUdp, data);
  const uint16_t length = core::load_be16(data.data() + 4);
  if (length != declared) c.anomalies.add(anomaly::kUdpLengthMismatch);

  o.has_l4 = true;
  o.payload_len = declared - 8;
  o.payload = data.subspan(8, std::min<size_t>(o.payload_len, data.size() - 8));
  if (c.limits.verify_checksums && data.size() == declared && core::load_be16(data.data() + 6) != 0 &&
      !transport_checksum_ok(o, ip_proto::kUdp, data)) {
    o.bad_checksum = true;
    c.anomalies.add(anomaly::kBadUdpChecksum);
  }
  if (is_vxlan_port(o.dport) && o.payload_len >= 8 + 14) return decode_vxlan(c, o.payload);
  return DecodeStatus::kOk;
}

}  // namespace trawl::decode::detail

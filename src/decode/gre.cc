// GRE: version 0 (RFC 1701/2784/2890: optional checksum, key, sequence,
// source routes) carrying IP, Ethernet (0x6558), ERSPAN or any ethertype; and
// version 1, PPTP's enhanced GRE (RFC 2637) carrying PPP. The inner packet
// replaces the outer; when there is none (PPTP acknowledgements, compressed
// PPP) the packet stays the outer one with the GRE payload as payload.
#include <algorithm>

#include "decode/layers.h"

namespace trawl::decode::detail {

namespace {

constexpr uint16_t kFlagChecksum = 0x8000;
constexpr uint16_t kFlagRouting = 0x4000;
constexpr uint16_t kFlagKey = 0x2000;
constexpr uint16_t kFlagSeq = 0x1000;
constexpr uint16_t kFlagAck = 0x0080;  // version 1 only

constexpr uint16_t kProtoTransparentEthernet = 0x6558;
constexpr uint16_t kProtoErspan2 = 0x88be;  // type I without sequence number
constexpr uint16_t kProtoErspan3 = 0x22eb;
constexpr uint16_t kProtoPpp = 0x880b;

DecodeStatus erspan(Ctx& c, uint16_t proto, bool has_seq, core::ByteView data) {
  size_t hl = 0;
  if (proto == kProtoErspan2) {
    hl = has_seq ? 8 : 0;  // type I has no ERSPAN header
  } else {
    if (data.size() < 12) return c.truncated(anomaly::kTruncatedErspan, data);
    hl = (data[11] & 1) != 0 ? 20 : 12;  // O flag: optional platform subheader
  }
  if (data.size() < hl) return c.truncated(anomaly::kTruncatedErspan, data);
  return decode_ethernet(c, data.subspan(hl));
}

DecodeStatus version0(Ctx& c, uint16_t flags, uint16_t proto, core::ByteView data) {
  size_t off = 4;
  if ((flags & (kFlagChecksum | kFlagRouting)) != 0) off += 4;  // checksum + offset
  if ((flags & kFlagKey) != 0) off += 4;
  if ((flags & kFlagSeq) != 0) off += 4;
  if (off > data.size()) return c.truncated(anomaly::kTruncatedGre, data);
  if ((flags & kFlagRouting) != 0) {
    // RFC 1701 source route entries, up to a NULL entry.
    for (;;) {
      if (data.size() - off < 4) return c.truncated(anomaly::kTruncatedGre, data);
      const uint16_t family = core::load_be16(data.data() + off);
      const uint8_t length = data[off + 3];
      off += 4;
      if (family == 0 && length == 0) break;
      if (data.size() - off < length) return c.truncated(anomaly::kTruncatedGre, data);
      off += length;
    }
  }
  const core::ByteView inner = data.subspan(off);
  c.out.payload = inner;
  c.out.payload_len = static_cast<uint32_t>(c.out.payload_len - std::min<size_t>(off, c.out.payload_len));
  if (!c.enter_tunnel()) return DecodeStatus::kMalformed;
  switch (proto) {
    case kProtoTransparentEthernet:
      return decode_ethernet(c, inner);
    case kProtoErspan2:
    case kProtoErspan3:
      return erspan(c, proto, (flags & kFlagSeq) != 0, inner);
    case kProtoPpp:
      return decode_ppp(c, inner);
    default:
      return decode_ethertype(c, proto, inner);
  }
}

DecodeStatus version1(Ctx& c, uint16_t flags, uint16_t proto, core::ByteView data) {
  // Enhanced GRE: key present (payload length + call id), no checksum or
  // routing, PPP inside.
  if (proto != kProtoPpp || (flags & kFlagKey) == 0 || (flags & (kFlagChecksum | kFlagRouting)) != 0) {
    return c.malformed(anomaly::kBadGreHeader);
  }
  size_t off = 8;
  if ((flags & kFlagSeq) != 0) off += 4;
  if ((flags & kFlagAck) != 0) off += 4;
  if (off > data.size()) return c.truncated(anomaly::kTruncatedGre, data);
  const size_t length = core::load_be16(data.data() + 4);
  core::ByteView inner = data.subspan(off);
  if (length < inner.size()) inner = inner.first(length);
  c.out.payload = inner;
  c.out.payload_len = static_cast<uint32_t>(length);
  if ((flags & kFlagSeq) == 0 || length == 0) return DecodeStatus::kOk;  // acknowledgement only
  if (!c.enter_tunnel()) return DecodeStatus::kMalformed;
  return decode_ppp(c, inner);
}

}  // namespace

DecodeStatus decode_gre(Ctx& c, core::ByteView data, uint32_t declared) {
  DecodedPacket& o = c.out;
  o.payload = data;
  o.payload_len = declared;
  if (data.size() < 4) return c.truncated(anomaly::kTruncatedGre, data);
  const uint16_t flags = core::load_be16(data.data());
  const uint16_t proto = core::load_be16(data.data() + 2);
  switch (flags & 7) {
    case 0:
      return version0(c, flags, proto, data);
    case 1:
      return version1(c, flags, proto, data);
    default:
      return c.malformed(anomaly::kBadGreVersion);
  }
}

}  // namespace trawl::decode::detail

// IPv6: fixed header, a bounded walk over extension headers, fragments handed
// to the reassembler, then the upper-layer protocol.
#include <algorithm>

#include "decode/ip_fragments.h"
#include "decode/layers.h"

namespace trawl::decode::detail {

namespace {

constexpr int kMaxExtHeaders = 16;

enum : uint8_t {
  kHopByHop = 0,
  kRouting = 43,
  kFragment = 44,
  kEsp = 50,
  kAuth = 51,
  kNoNext = 59,
  kDestOpts = 60,
  kMobility = 135,
  kHip = 139,
  kShim6 = 140,
};

// Walks the header chain starting with next in data (the captured part of
// the payload; declared is its length per the IP header). unfrag is how many
// bytes of the datagram precede data (40 + extension headers so far).
DecodeStatus walk(Ctx& c, const uint8_t* ip, uint8_t next, core::ByteView data, uint32_t declared, uint32_t unfrag) {
  DecodedPacket& o = c.out;
  size_t off = 0;
  bool reassembled = false;
  for (int headers = 0;; ++headers) {
    switch (next) {
      case kHopByHop:
      case kRouting:
      case kDestOpts:
      case kAuth:
      case kMobility:
      case kHip:
      case kShim6: {
        if (headers >= kMaxExtHeaders) return c.malformed(anomaly::kTooManyIpv6ExtHeaders);
        if (declared - off < 2) return c.malformed(anomaly::kIpv6ExtHeaderExceedsPayload);
        if (data.size() - off < 2) return c.truncated(anomaly::kTruncatedIpv6ExtHeader, data);
        const uint8_t* p = data.data() + off;
        const size_t len = next == kAuth ? (size_t{p[1]} + 2) * 4 : (size_t{p[1]} + 1) * 8;
        if (declared - off < len) return c.malformed(anomaly::kIpv6ExtHeaderExceedsPayload);
        if (data.size() - off < len) return c.truncated(anomaly::kTruncatedIpv6ExtHeader, data);
        next = p[0];
        off += len;
        break;
      }
      case kFragment: {
        if (headers >= kMaxExtHeaders) return c.malformed(anomaly::kTooManyIpv6ExtHeaders);
        if (declared - off < 8) return c.malformed(anomaly::kIpv6ExtHeaderExceedsPayload);
        if (data.size() - off < 8) return c.truncated(anomaly::kTruncatedIpv6ExtHeader, data);
        const uint8_t* p = data.data() + off;
        const uint16_t fo = core::load_be16(p + 2);
        const uint32_t offset = fo & 0xfff8u;
        const bool more = (fo & 1) != 0;
        const uint32_t frag_hdr_at = unfrag + static_cast<uint32_t>(off);
        next = p[0];
        off += 8;
        if (offset == 0 && !more) break;  // atomic fragment (RFC 6946): not really one
        if (reassembled) return c.malformed(anomaly::kIpv6NestedFragment);
        const uint32_t frag_len = declared - static_cast<uint32_t>(off);
        const core::ByteView frag_data = data.subspan(off);
        if (frag_data.size() < frag_len) {
          // Snaplen cut it: not reassemblable. The first fragment still shows
          // the upper-layer header, so decoding goes on with what it holds.
          c.anomalies.add(anomaly::kFragmentCutBySnaplen);
          if (offset != 0) return DecodeStatus::kMalformed;
          break;
        }
        FragmentInfo f;
        f.v6 = true;
        f.src = ip + 8;
        f.dst = ip + 24;
        f.proto = next;
        f.ttl = ip[7];
        f.id = core::load_be32(p + 4);
        f.offset = offset;
        f.more = more;
        f.data = frag_data;
        f.hdr_len = frag_hdr_at;
        f.ip_len = o.ip_len;
        Reassembled r;
        switch (c.fragments.add(f, o, r)) {
          case FragmentResult::kStored:
            o.ip_proto = next;
            return DecodeStatus::kConsumed;
          case FragmentResult::kRejected:
            return DecodeStatus::kMalformed;
          case FragmentResult::kComplete:
            break;
        }
        const auto size = static_cast<uint32_t>(r.data.size());
        o.reassembled = true;
        o.fragments = r.fragments;
        o.fragment_ip_bytes = r.ip_bytes;
        o.ip_len = r.hdr_len + size;
        o.ttl = r.ttl;
        next = r.proto;
        data = r.data;
        declared = size;
        unfrag = r.hdr_len;
        off = 0;
        reassembled = true;
        break;
      }
      case kNoNext:
        o.ip_proto = kNoNext;
        o.payload = data.subspan(off);
        o.payload_len = declared - static_cast<uint32_t>(off);
        return DecodeStatus::kOk;
      default:  // upper layer (ESP included: nothing readable behind it)
        o.ip_proto = next;
        return decode_ip_payload(c, next, data.subspan(off), declared - static_cast<uint32_t>(off));
    }
  }
}

}  // namespace

DecodeStatus decode_ipv6(Ctx& c, core::ByteView data) {
  if (data.size() < 40) return c.truncated(anomaly::kTruncatedIpv6, data);
  const uint8_t* h = data.data();
  if ((h[0] >> 4) != 6) return c.malformed(anomaly::kBadIpVersion);

  c.begin_network_layer();
  DecodedPacket& o = c.out;
  o.l3 = L3::kIpv6;
  set_v6(o.src, h + 8);
  set_v6(o.dst, h + 24);
  o.ttl = h[7];
  const uint8_t next = h[6];
  o.ip_proto = next;

  const size_t avail = data.size() - 40;
  uint32_t declared = core::load_be16(h + 4);
  if (declared == 0 && next == kHopByHop && avail > 0) {
    // Jumbogram (RFC 2675): the real length is in a hop-by-hop option; a
    // capture cannot hold one anyway, so take what the frame holds.
    c.anomalies.add(anomaly::kIpv6Jumbogram);
    declared = static_cast<uint32_t>(avail) + (c.cut_at(data) ? c.wire_extra : 0);
  } else if (declared > avail) {
    if (!c.cut_at(data) || declared - avail > c.wire_extra) {
      c.anomalies.add(anomaly::kIpTotalLengthExceedsCapture);
      declared = static_cast<uint32_t>(avail);
    }
  }
  o.ip_len = 40 + declared;
  const core::ByteView payload = data.subspan(40, std::min<size_t>(declared, avail));
  return walk(c, h, next, payload, declared, 40);
}

}  // namespace trawl::decode::detail

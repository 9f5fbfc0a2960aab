// IPv4: header checks, total length against what was captured, options
// skipped, fragments handed to the reassembler.
#include <algorithm>

#include "decode/checksum.h"
#include "decode/ip_fragments.h"
#include "decode/layers.h"

namespace trawl::decode::detail {

namespace {

DecodeStatus fragment(Ctx& c, const uint8_t* h, uint32_t hl, uint32_t total, uint16_t frag, core::ByteView payload,
                      uint32_t declared) {
  DecodedPacket& o = c.out;
  const uint32_t offset = uint32_t{frag & 0x1fffu} * 8;
  if (payload.size() < declared) {
    // Snaplen cut the fragment: it cannot be reassembled. The first one still
    // shows the transport header, so it is decoded on its own.
    c.anomalies.add(anomaly::kFragmentCutBySnaplen);
    if (offset == 0) return decode_ip_payload(c, o.ip_proto, payload, declared);
    return DecodeStatus::kMalformed;
  }
  FragmentInfo f;
  f.v6 = false;
  f.src = h + 12;
  f.dst = h + 16;
  f.proto = h[9];
  f.ttl = h[8];
  f.id = core::load_be16(h + 4);
  f.offset = offset;
  f.more = (frag & 0x2000) != 0;
  f.data = payload;
  f.hdr_len = hl;
  f.ip_len = total;
  Reassembled r;
  switch (c.fragments.add(f, o, r)) {
    case FragmentResult::kStored:
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
  o.ip_proto = r.proto;
  return decode_ip_payload(c, r.proto, r.data, size);
}

}  // namespace

DecodeStatus decode_ipv4(Ctx& c, core::ByteView data) {
  if (data.size() < 20) return c.truncated(anomaly::kTruncatedIpv4, data);
  const uint8_t* h = data.data();
  if ((h[0] >> 4) != 4) return c.malformed(anomaly::kBadIpVersion);
  const uint32_t hl = uint32_t{h[0] & 0x0fu} * 4;
  if (hl < 20) return c.malformed(anomaly::kBadIpHeaderLength);
  if (hl > data.size()) return c.truncated(anomaly::kTruncatedIpv4, data);

  c.begin_network_layer();
  DecodedPacket& o = c.out;
  o.l3 = L3::kIpv4;
  set_v4(o.src, h + 12);
  set_v4(o.dst, h + 16);
  o.ttl = h[8];
  o.ip_proto = h[9];

  const size_t avail = data.size();
  uint32_t total = core::load_be16(h + 2);
  if (total < hl) {
    if (total != 0) {
      o.ip_len = total;
      return c.malformed(anomaly::kBadIpTotalLength);
    }
    // TCP segmentation offload: the host captured the segment before the NIC
    // split it and filled in the lengths. Take what the frame holds.
    c.anomalies.add(anomaly::kIpv4ZeroTotalLength);
    total = static_cast<uint32_t>(avail) + (c.cut_at(data) ? c.wire_extra : 0);
  } else if (total > avail) {
    // Cut by snaplen is normal (the header is right, the capture is short);
    // more than even the wire length allows is the header lying.
    if (!c.cut_at(data) || total - avail > c.wire_extra) {
      c.anomalies.add(anomaly::kIpTotalLengthExceedsCapture);
      total = static_cast<uint32_t>(avail);
    }
  }
  o.ip_len = total;

  if (c.limits.verify_checksums && !checksum_ok(data.first(hl))) {
    o.bad_checksum = true;
    c.anomalies.add(anomaly::kBadIpv4Checksum);
  }

  // Bytes beyond the total length (Ethernet padding, FCS) are not payload.
  const core::ByteView payload = data.subspan(hl, std::min<size_t>(total, avail) - hl);
  const uint32_t declared = total - hl;
  const uint16_t frag = core::load_be16(h + 6);
  if ((frag & 0x3fff) != 0) return fragment(c, h, hl, total, frag, payload, declared);
  return decode_ip_payload(c, o.ip_proto, payload, declared);
}

}  // namespace trawl::decode::detail

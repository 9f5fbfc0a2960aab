// Decoder: resets the packet, picks the link-layer decoder for the capture's
// link type and owns the fragment reassembly state.
#include "decode/decoder.h"

#include "decode/ip_fragments.h"
#include "decode/layers.h"

namespace trawl::decode {

struct Decoder::Impl {
  Impl(core::Anomalies& a, const DecoderLimits& l) : anomalies(a), limits(l), fragments(anomalies, limits) {}
  core::Anomalies& anomalies;
  DecoderLimits limits;
  detail::IpFragments fragments;  // after limits: it keeps a reference to them
  DecodedPacket fresh;            // a default packet to reset from
};

Decoder::Decoder(core::Anomalies& anomalies, DecoderLimits limits)
    : impl_(std::make_unique<Impl>(anomalies, limits)) {}

Decoder::~Decoder() = default;

DecodeStatus Decoder::decode(const capture::RawPacket& pkt, DecodedPacket& out) {
  // The caller may set index before or after decoding; keep it either way.
  // Copied from a member, not assigned from DecodedPacket{}: g++ turns the
  // latter into `rep stos`, whose start-up cost is a good part of a packet.
  const uint64_t index = out.index;
  out = impl_->fresh;
  out.index = index;
  out.ts = pkt.ts;
  out.wirelen = pkt.wirelen;
  out.linktype = pkt.linktype;

  Impl& m = *impl_;
  m.fragments.begin_packet(pkt.ts);
  const core::ByteView data = pkt.bytes();
  detail::Ctx c{out,
                m.anomalies,
                m.limits,
                m.fragments,
                data.data() + data.size(),
                pkt.wirelen > pkt.caplen ? pkt.wirelen - pkt.caplen : 0};

  switch (pkt.linktype) {
    case 1:  // LINKTYPE_ETHERNET
      return detail::decode_ethernet(c, data);
    case 113:  // LINKTYPE_LINUX_SLL
      return detail::decode_linux_sll(c, data);
    case 276:  // LINKTYPE_LINUX_SLL2
      return detail::decode_linux_sll2(c, data);
    case 101:  // LINKTYPE_RAW
    case 12:   // DLT_RAW on OpenBSD
    case 14:   // DLT_RAW on BSD/OS
      return detail::decode_raw_ip(c, data);
    case 228:  // LINKTYPE_IPV4
      return detail::decode_ipv4(c, data);
    case 229:  // LINKTYPE_IPV6
      return detail::decode_ipv6(c, data);
    case 0:  // LINKTYPE_NULL
      return detail::decode_null(c, data);
    case 108:  // LINKTYPE_LOOP
      return detail::decode_loop(c, data);
    default:
      return c.malformed(anomaly::kUnknownLinktype);
  }
}

void Decoder::finish() { impl_->fragments.drop_all(); }

size_t Decoder::pending_fragment_datagrams() const { return impl_->fragments.pending(); }

uint64_t Decoder::pending_fragment_bytes() const { return impl_->fragments.pending_bytes(); }

}  // namespace trawl::decode

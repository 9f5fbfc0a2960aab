// Fuzz target for decode::Decoder. Input layout:
//   byte 0: bits 0-3 pick the link type from kLinktypes, bit 6 turns checksum
//           verification on, bit 7 claims snaplen cut the frames (wirelen >
//           caplen);
//   the rest is decoded once as a single frame, then again as a sequence of
//   frames, each prefixed by a 2-byte big-endian length (bit 15 of which
//   advances packet time by 10 s instead of 1 ms), through one decoder with
//   small fragment limits, so reassembly, eviction and timeouts are exercised.
// Every frame is copied into a buffer of exactly its size so that a read past
// it is caught by ASan; payload bytes are read so that bad views are too.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "capture/raw_packet.h"
#include "core/anomalies.h"
#include "decode/decoder.h"

namespace {

using trawl::decode::DecodedPacket;
using trawl::decode::DecoderLimits;
using trawl::decode::DecodeStatus;
using trawl::decode::L3;

constexpr uint16_t kLinktypes[] = {1, 113, 276, 101, 228, 229, 0, 108, 12, 14, 1, 1, 1, 1, 113, 101};
static_assert(sizeof kLinktypes / sizeof kLinktypes[0] == 16);

volatile uint64_t g_sink;

// Invariants that must hold for any input; a violation is a bug.
void check(const DecodedPacket& p, DecodeStatus s, const DecoderLimits& limits) {
  if (p.payload.size() > p.payload_len) __builtin_trap();
  if (p.vlan_count > p.vlan.size()) __builtin_trap();
  if (p.tunnel_depth > limits.max_encapsulation) __builtin_trap();
  if (s == DecodeStatus::kConsumed && p.l3 != L3::kIpv4 && p.l3 != L3::kIpv6) __builtin_trap();
  if (p.reassembled && p.fragments < 2) __builtin_trap();
  if (p.has_l4 && p.l3 != L3::kIpv4 && p.l3 != L3::kIpv6) __builtin_trap();
  uint64_t sum = 0;
  for (uint8_t b : p.payload) sum += b;
  g_sink = g_sink + sum + p.sport + p.dport + p.ip_len;
}

void decode_one(trawl::decode::Decoder& decoder, const DecoderLimits& limits, const uint8_t* data, size_t size,
                uint16_t linktype, bool cut, int64_t ts_ns) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[size == 0 ? 1 : size]);
  if (size != 0) std::memcpy(copy.get(), data, size);
  trawl::capture::RawPacket pkt;
  pkt.ts = trawl::core::Timestamp{ts_ns};
  pkt.caplen = static_cast<uint32_t>(size);
  pkt.wirelen = cut ? pkt.caplen + 64 : pkt.caplen;
  pkt.linktype = linktype;
  pkt.data = size == 0 ? nullptr : copy.get();
  DecodedPacket out;
  const DecodeStatus s = decoder.decode(pkt, out);
  check(out, s, limits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  const uint16_t linktype = kLinktypes[selector & 0x0f];
  const bool cut = (selector & 0x80) != 0;
  ++data;
  --size;

  trawl::core::Anomalies anomalies;
  DecoderLimits limits;
  limits.verify_checksums = (selector & 0x40) != 0;
  {
    trawl::decode::Decoder decoder(anomalies, limits);
    decode_one(decoder, limits, data, size, linktype, cut, 0);
  }

  limits.max_fragment_datagrams = 8;
  limits.max_fragment_bytes = 192 * 1024;
  limits.fragment_timeout_ns = 5LL * 1000000000;
  limits.max_encapsulation = 4;
  trawl::decode::Decoder decoder(anomalies, limits);
  int64_t ts = 0;
  size_t pos = 0;
  while (size - pos >= 2) {
    const uint16_t prefix = static_cast<uint16_t>((data[pos] << 8) | data[pos + 1]);
    pos += 2;
    const size_t len = prefix & 0x7fffu;
    const size_t take = len < size - pos ? len : size - pos;
    ts += (prefix & 0x8000u) != 0 ? 10LL * 1000000000 : 1000000;
    decode_one(decoder, limits, data + pos, take, linktype, cut, ts);
    pos += take;
  }
  decoder.finish();
  if (decoder.pending_fragment_datagrams() != 0 || decoder.pending_fragment_bytes() != 0) __builtin_trap();
  return 0;
}

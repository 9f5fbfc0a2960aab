// Decoder: link layer to transport layer for every supported encapsulation,
// with IPv4/IPv6 fragment reassembly. Stateful only for fragments; one per
// reading thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "capture/raw_packet.h"
#include "core/anomalies.h"
#include "decode/decoded_packet.h"

namespace trawl::decode {

struct DecoderLimits {
  uint32_t max_fragment_bytes = 64 * 1024 * 1024;  // all pending fragments together
  uint32_t max_fragment_datagrams = 8192;          // pending datagrams
  int64_t fragment_timeout_ns = 30LL * 1000000000;  // packet time
  uint8_t max_encapsulation = 8;                    // nested tunnels/tags
  // Verify IPv4 header, TCP, UDP and ICMP checksums (sets bad_checksum). Off by
  // default: captures taken on hosts with checksum offload carry wrong ones.
  bool verify_checksums = false;
};

enum class DecodeStatus : uint8_t {
  kOk,        // out is filled (l3 may be kNone for non-IP frames)
  kConsumed,  // a fragment was stored; nothing to analyse yet
  kMalformed, // counted as an anomaly; out holds what was decoded before the damage
};

class Decoder {
 public:
  explicit Decoder(core::Anomalies& anomalies, DecoderLimits limits = {});
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Decodes pkt into out. When a fragment completes a datagram, out describes
  // the reassembled datagram and its payload views the decoder's own buffer,
  // valid until the next call.
  DecodeStatus decode(const capture::RawPacket& pkt, DecodedPacket& out);

  // End of input: drops datagrams still waiting for fragments, counting each
  // as decode.fragment_incomplete.
  void finish();
  size_t pending_fragment_datagrams() const;
  uint64_t pending_fragment_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trawl::decode

// Internet checksum (RFC 1071) helpers for the optional checksum verification.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/byte_view.h"
#include "decode/decoded_packet.h"

namespace trawl::decode::detail {

inline uint64_t checksum_add(uint64_t acc, const uint8_t* p, size_t n) {
  while (n >= 2) {
    acc += core::load_be16(p);
    p += 2;
    n -= 2;
  }
  if (n != 0) acc += uint64_t{p[0]} << 8;
  return acc;
}

inline uint16_t checksum_fold(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

// True when data (a whole header or segment, checksum field included) sums to
// 0xffff, i.e. the checksum it carries is right.
inline bool checksum_ok(core::ByteView data) { return checksum_fold(checksum_add(0, data.data(), data.size())) == 0xffff; }

// Same, with the TCP/UDP/ICMPv6 pseudo-header of the packet's addresses.
inline bool transport_checksum_ok(const DecodedPacket& p, uint8_t proto, core::ByteView segment) {
  uint64_t acc = checksum_add(0, p.src.wire_data(), p.src.wire_size());
  acc = checksum_add(acc, p.dst.wire_data(), p.dst.wire_size());
  acc += proto;
  acc += segment.size();
  acc = checksum_add(acc, segment.data(), segment.size());
  return checksum_fold(acc) == 0xffff;
}

}  // namespace trawl::decode::detail

// RawPacket: one captured frame as the readers hand it out. A view: data is
// valid only until the reader's next call.
#pragma once

#include <cstdint>

#include "core/byte_view.h"
#include "core/timestamp.h"

namespace trawl::capture {

// Link types we decode (values are libpcap's LINKTYPE_*).
enum class LinkType : uint16_t {
  kNull = 0,        // BSD loopback, host byte order family
  kEthernet = 1,
  kRaw = 101,       // raw IPv4/IPv6
  kLoop = 108,      // OpenBSD loopback, network byte order family
  kLinuxSll = 113,
  kIpv4 = 228,
  kIpv6 = 229,
  kLinuxSll2 = 276,
};

class BufferBlock;

struct RawPacket {
  core::Timestamp ts;
  uint32_t caplen = 0;   // bytes present in data
  uint32_t wirelen = 0;  // original length on the wire
  uint16_t linktype = 1;
  uint16_t input = 0;    // index of the input file it came from
  const uint8_t* data = nullptr;
  // The reader's buffer that data points into, when it is one (a consumer may
  // take a BlockRef to keep the bytes past the reader's next call); nullptr
  // for packets built elsewhere.
  const BufferBlock* block = nullptr;

  core::ByteView bytes() const { return {data, caplen}; }
};

}  // namespace trawl::capture

// Shared by the smtp, ssh and rdp analyzer fuzz targets: plays a script of
// deliveries on one TCP connection through a Dispatcher, then finishes it.
// Each step starts with a control byte c; bit 0 is the direction (1: client):
//   c >> 6 == 0  data: a 2-byte big-endian length follows, then that many bytes
//   c >> 6 == 1  gap: the next byte n gives n * 7 + 1 missing bytes
//   c >> 6 == 2  end of this direction
//   c >> 6 == 3  data: ((c >> 1) & 31) + 1 bytes follow
// Each delivery is a copy of exactly its bytes, so reading past it is caught.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "analyzers/dispatcher.h"
#include "flow/conn_record.h"

namespace trawl::fuzz {

inline void play_script(analyzers::Dispatcher& d, const uint8_t* data, size_t size, flow::ConnRecord& rec) {
  int64_t t = 1000000000;
  size_t pos = 0;
  while (pos < size) {
    const uint8_t c = data[pos++];
    const bool orig = (c & 1) != 0;
    const core::Timestamp ts{t += 1000};
    switch (c >> 6) {
      case 0:
      case 3: {
        size_t len;
        if ((c >> 6) == 0) {
          if (size - pos < 2) {
            pos = size;
            break;
          }
          len = (size_t{data[pos]} << 8) | data[pos + 1];
          pos += 2;
        } else {
          len = ((c >> 1) & 31u) + 1;
        }
        if (len > size - pos) len = size - pos;
        // A copy, so that reading past the delivery is caught.
        std::unique_ptr<uint8_t[]> copy(new uint8_t[len == 0 ? 1 : len]);
        for (size_t i = 0; i < len; ++i) copy[i] = data[pos + i];
        d.stream_data(orig, {copy.get(), len}, ts);
        pos += len;
        break;
      }
      case 1:
        if (pos >= size) break;
        d.stream_gap(orig, uint64_t{data[pos++]} * 7 + 1, ts);
        break;
      case 2:
        d.stream_end(orig, ts);
        break;
    }
  }
  d.finish(core::Timestamp{t + 1000}, rec);
}

}  // namespace trawl::fuzz

// PcapReader: classic libpcap files (magic a1b2c3d4 microseconds, a1b23c4d
// nanoseconds, either byte order). Use open_capture() rather than this directly.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "capture/file_reader.h"
#include "capture/input_buffer.h"
#include "capture/packet_reader.h"

namespace trawl::capture {

class PcapReader final : public FileReader {
 public:
  // Parses the 24-byte file header at the read position of in. Returns nullptr
  // and sets err if it is not a classic pcap header.
  static std::unique_ptr<PcapReader> open(std::unique_ptr<InputBuffer> in, std::string name, uint16_t input_index,
                                          core::Anomalies& anomalies, std::string& err);
  // True if the four bytes are one of the classic pcap magics.
  static bool is_magic(const uint8_t* p);

  ReadResult next(RawPacket& out) override;

  uint16_t linktype() const { return linktype_; }
  uint32_t snaplen() const { return snaplen_; }
  bool nanosecond() const { return frac_to_ns_ == 1; }
  bool swapped() const { return swap_; }

 private:
  PcapReader(std::unique_ptr<InputBuffer> in, std::string name, uint16_t input_index, core::Anomalies& anomalies)
      : FileReader(std::move(in), std::move(name), input_index, anomalies) {}

  bool plausible(const uint8_t* h, bool have_prev, int64_t prev_ts) const;
  Resync resync(uint32_t bad_caplen);

  uint32_t snaplen_ = 0;
  uint32_t frac_to_ns_ = 1000;  // 1000 for microsecond files, 1 for nanosecond
  uint16_t linktype_ = 1;
};

}  // namespace trawl::capture

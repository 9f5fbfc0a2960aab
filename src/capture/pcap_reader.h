// PcapReader: classic libpcap files (magic a1b2c3d4 microseconds, a1b23c4d
// nanoseconds, either byte order). Use open_capture() rather than this directly.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "capture/input_buffer.h"
#include "capture/packet_reader.h"

namespace trawl::capture {

class PcapReader final : public PacketReader {
 public:
  // Parses the 24-byte file header at the read position of in. Returns nullptr
  // and sets err if it is not a classic pcap header.
  static std::unique_ptr<PcapReader> open(std::unique_ptr<InputBuffer> in, std::string name, uint16_t input_index,
                                          core::Anomalies& anomalies, std::string& err);
  // True if the four bytes are one of the classic pcap magics.
  static bool is_magic(const uint8_t* p);

  ReadResult next(RawPacket& out) override;
  const std::string& error() const override { return error_; }
  uint64_t bytes_done() const override { return in_->source().bytes_done(); }
  uint64_t bytes_total() const override { return in_->source().bytes_total(); }

  uint16_t linktype() const { return linktype_; }
  uint32_t snaplen() const { return snaplen_; }
  bool nanosecond() const { return frac_to_ns_ == 1; }
  bool swapped() const { return swap_; }

 private:
  enum class State : uint8_t { kReading, kEnded, kFailed };
  enum class Resync : uint8_t { kFound, kEnd, kGaveUp };

  PcapReader(std::unique_ptr<InputBuffer> in, std::string name, uint16_t input_index, core::Anomalies& anomalies)
      : in_(std::move(in)), name_(std::move(name)), anomalies_(anomalies), input_(input_index) {}

  uint32_t u32(const uint8_t* p) const {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return swap_ ? __builtin_bswap32(v) : v;
  }
  bool plausible(const uint8_t* h, bool have_prev, int64_t prev_ts) const;
  Resync resync(uint32_t bad_caplen);
  ReadResult at_end();
  ReadResult fail(std::string message);

  std::unique_ptr<InputBuffer> in_;
  std::string name_;
  std::string error_;
  core::Anomalies& anomalies_;
  int64_t last_ts_ = 0;
  uint32_t snaplen_ = 0;
  uint32_t frac_to_ns_ = 1000;  // 1000 for microsecond files, 1 for nanosecond
  uint16_t linktype_ = 1;
  uint16_t input_;
  bool swap_ = false;
  bool have_last_ts_ = false;
  State state_ = State::kReading;
};

}  // namespace trawl::capture

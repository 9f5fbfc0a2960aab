// PcapngReader: pcapng files (several sections, either byte order, any number
// of interfaces with their own link type and timestamp resolution). Use
// open_capture() rather than this directly.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "capture/input_buffer.h"
#include "capture/packet_reader.h"

namespace trawl::capture {

class PcapngReader final : public PacketReader {
 public:
  // Checks the section header block at the read position of in. Returns nullptr
  // and sets err if it is not a valid pcapng section header.
  static std::unique_ptr<PcapngReader> open(std::unique_ptr<InputBuffer> in, std::string name, uint16_t input_index,
                                            core::Anomalies& anomalies, std::string& err);
  // True if the four bytes are the section header block type (0a 0d 0d 0a).
  static bool is_magic(const uint8_t* p);

  ReadResult next(RawPacket& out) override;
  const std::string& error() const override { return error_; }
  uint64_t bytes_done() const override { return in_->source().bytes_done(); }
  uint64_t bytes_total() const override { return in_->source().bytes_total(); }

  // Converts a timestamp in units of if_tsresol (the option's raw byte) to
  // nanoseconds, exactly (floor), saturating at the int64 range.
  static int64_t units_to_ns(uint64_t units, uint8_t tsresol, int64_t offset_sec);

 private:
  enum class State : uint8_t { kReading, kEnded, kFailed };
  enum class Resync : uint8_t { kFound, kEnd, kGaveUp };

  struct Interface {
    uint32_t snaplen = 0;
    uint16_t linktype = 0;
    uint8_t tsresol = 6;
    uint64_t mul = 1000;  // ns per unit when the resolution is 10^-k, k <= 9; else 0
    int64_t offset_sec = 0;
  };

  PcapngReader(std::unique_ptr<InputBuffer> in, std::string name, uint16_t input_index, core::Anomalies& anomalies)
      : in_(std::move(in)), name_(std::move(name)), anomalies_(anomalies), input_(input_index) {}

  static uint32_t rd32(const uint8_t* p, bool swap) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
  }
  static uint16_t rd16(const uint8_t* p, bool swap) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return swap ? __builtin_bswap16(v) : v;
  }
  uint32_t u32(const uint8_t* p) const { return rd32(p, swap_); }
  uint16_t u16(const uint8_t* p) const { return rd16(p, swap_); }
  // Byte order of a section header's byte-order magic: 0 not valid, 1 native, 2 swapped.
  static int section_order(const uint8_t* shb);

  // Block handlers; return true when out holds a packet.
  bool on_packet_block(const uint8_t* b, uint32_t len, uint32_t type, RawPacket& out);
  bool on_simple_packet(const uint8_t* b, uint32_t len, RawPacket& out);
  void on_interface(const uint8_t* b, uint32_t len);
  bool deliver(uint32_t iface_id, int64_t ts, const uint8_t* data, uint32_t caplen, uint32_t wirelen, RawPacket& out);
  bool plausible_block(const uint8_t* h, uint32_t& len_out, bool& swap_out) const;
  Resync resync();
  ReadResult damaged(const core::AnomalyId& what);
  ReadResult at_end();
  ReadResult fail(std::string message);

  std::unique_ptr<InputBuffer> in_;
  std::string name_;
  std::string error_;
  core::Anomalies& anomalies_;
  std::vector<Interface> interfaces_;
  int64_t last_ts_ = 0;
  uint16_t input_;
  bool swap_ = false;
  bool have_last_ts_ = false;
  State state_ = State::kReading;
};

}  // namespace trawl::capture

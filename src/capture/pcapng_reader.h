// PcapngReader: pcapng files (several sections, either byte order, any number
// of interfaces with their own link type and timestamp resolution). Use
// open_capture() rather than this directly.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "capture/file_reader.h"
#include "capture/input_buffer.h"
#include "capture/packet_reader.h"

namespace trawl::capture {

class PcapngReader final : public FileReader {
 public:
  // Checks the section header block at the read position of in. Returns nullptr
  // and sets err if it is not a valid pcapng section header.
  static std::unique_ptr<PcapngReader> open(std::unique_ptr<InputBuffer> in, std::string name, uint16_t input_index,
                                            core::Anomalies& anomalies, std::string& err);
  // True if the four bytes are the section header block type (0a 0d 0d 0a).
  static bool is_magic(const uint8_t* p);

  ReadResult next(RawPacket& out) override;

  // Converts a timestamp in units of if_tsresol (the option's raw byte) to
  // nanoseconds, exactly (floor), saturating at the int64 range.
  static int64_t units_to_ns(uint64_t units, uint8_t tsresol, int64_t offset_sec);

 private:
  struct Interface {
    uint32_t snaplen = 0;
    uint16_t linktype = 0;
    uint8_t tsresol = 6;
    uint64_t mul = 1000;  // ns per unit when the resolution is 10^-k, k <= 9; else 0
    int64_t offset_sec = 0;
  };

  PcapngReader(std::unique_ptr<InputBuffer> in, std::string name, uint16_t input_index, core::Anomalies& anomalies)
      : FileReader(std::move(in), std::move(name), input_index, anomalies) {}

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

  std::vector<Interface> interfaces_;
};

}  // namespace trawl::capture

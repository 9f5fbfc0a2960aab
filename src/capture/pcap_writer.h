// PcapWriter: writes packets to a classic pcap file with nanosecond
// timestamps (magic a1b23c4d), so packet times survive a round trip exactly.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "capture/raw_packet.h"

namespace trawl::capture {

class PcapWriter {
 public:
  static constexpr uint32_t kSnaplen = 262144;

  PcapWriter() = default;
  ~PcapWriter();  // closes; call close() to see write errors
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Creates (truncates) path, "-" for stdout, and writes the file header.
  // Every packet written goes out under this one link type; a caller with
  // packets of several link types writes one file per link type.
  bool open(const std::string& path, uint16_t linktype, std::string& err);
  // Writes one record; data beyond kSnaplen bytes is cut (wirelen is kept).
  // false + error() on failure; later calls then fail too.
  bool write(const RawPacket& pkt);
  bool write(core::Timestamp ts, const uint8_t* data, uint32_t caplen, uint32_t wirelen);
  // Flushes and closes. false + error() if anything failed.
  bool close();

  bool is_open() const { return file_ != nullptr; }
  uint16_t linktype() const { return linktype_; }
  uint64_t packets() const { return packets_; }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }

 private:
  bool failed(const char* what);

  std::FILE* file_ = nullptr;
  std::unique_ptr<char[]> buffer_;
  std::string path_;
  std::string error_;
  uint64_t packets_ = 0;
  uint16_t linktype_ = 1;
  bool owns_file_ = false;
};

}  // namespace trawl::capture

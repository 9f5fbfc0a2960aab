// PacketReader: the interface every capture source implements (pcap, pcapng,
// compressed files, merged folders, live interfaces).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/raw_packet.h"
#include "core/anomalies.h"

namespace trawl::capture {

enum class ReadResult : uint8_t {
  kPacket,  // out holds a packet
  kEnd,     // clean end of input
  kError,   // unrecoverable for this source (message in error()); the caller moves on
};

class PacketReader {
 public:
  virtual ~PacketReader() = default;
  // Next packet. Recoverable damage (truncated record, corrupt block, impossible
  // length) is counted in the anomalies passed at construction and skipped.
  virtual ReadResult next(RawPacket& out) = 0;
  virtual const std::string& error() const = 0;
  // Bytes of the (compressed) file consumed so far and in total; for progress.
  virtual uint64_t bytes_done() const = 0;
  virtual uint64_t bytes_total() const = 0;
};

// A byte stream: plain file, gzip or zstd, recognised by content.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to n bytes; 0 at end. Sets error() and returns 0 on failure.
  virtual size_t read(uint8_t* dst, size_t n) = 0;
  virtual const std::string& error() const = 0;
  virtual uint64_t bytes_done() const = 0;   // of the underlying file
  virtual uint64_t bytes_total() const = 0;  // size of the underlying file (0 if unknown)

  // Why read() failed, when error() is set: damage in the stream itself (a
  // compressed stream cut short, or corrupt) rather than a failure to read the
  // file. Readers count damage as an anomaly; a cut stream ends the capture
  // cleanly, like a capture file cut inside a record.
  enum class Damage : uint8_t { kNone, kTruncated, kCorrupt };
  virtual Damage damage() const { return Damage::kNone; }
};

// Opens a file and detects plain / gzip / zstd by its first bytes.
// Returns nullptr and sets err ("cannot open X: reason") on failure.
std::unique_ptr<ByteSource> open_byte_source(const std::string& path, std::string& err);
// A source over memory (fuzzers, tests). The bytes must outlive the source.
std::unique_ptr<ByteSource> memory_byte_source(core::ByteView bytes);

// Opens a capture (pcap or pcapng, possibly compressed). Returns nullptr with
// err = "X: not a pcap or pcapng capture (starts with ...)" for other files.
std::unique_ptr<PacketReader> open_capture(const std::string& path, uint16_t input_index,
                                           core::Anomalies& anomalies, std::string& err);
// Same over an already-opened byte source (fuzzers, tests).
std::unique_ptr<PacketReader> open_capture(std::unique_ptr<ByteSource> source, std::string name,
                                           uint16_t input_index, core::Anomalies& anomalies, std::string& err);

// Expands arguments: files as given, folders recursively (sorted, hidden files
// skipped). Missing paths are reported in errors and skipped.
std::vector<std::string> expand_inputs(const std::vector<std::string>& args, std::vector<std::string>& errors);

// Reads many captures as one, merged by timestamp (files of one capture split
// by time become one stream). Files that are not captures are reported once
// through errors() and skipped; the others are still read.
class MergedReader : public PacketReader {
 public:
  // read_ahead: decompress compressed files on a helper thread, ahead of the
  // caller (for multi-threaded runs).
  MergedReader(std::vector<std::string> paths, core::Anomalies& anomalies, bool read_ahead = false);
  ~MergedReader() override;
  ReadResult next(RawPacket& out) override;
  const std::string& error() const override;
  uint64_t bytes_done() const override;
  uint64_t bytes_total() const override;
  // One line per input that could not be read: "path: reason".
  const std::vector<std::string>& errors() const;
  const std::vector<std::string>& paths() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trawl::capture

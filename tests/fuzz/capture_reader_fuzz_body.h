// Shared body of the capture-reader fuzz targets: opens the bytes through
// open_capture (any format, possibly compressed) and reads every packet and
// every byte of it so ASan sees any stray pointer. Each target includes it
// with its own seed corpus (pcap or pcapng).
#pragma once
#include <cstdint>
#include <cstdlib>
#include <string>

#include "capture/capture_file.h"
#include "capture/packet_reader.h"

namespace {
// Decompression can turn a few KB into a lot of packets; enough to reach any
// reader state without making one input take seconds.
constexpr size_t kMaxPackets = 200000;
constexpr uint64_t kMaxBytes = 64u << 20;
}  // namespace

inline int fuzz_capture_reader(const uint8_t* data, size_t size) {
  using namespace trawl;
  core::Anomalies anomalies;
  std::string err;
  // open_capture() with a small read buffer whose size varies with the input,
  // so records straddle the buffer end and make it grow at many offsets (and
  // each run does not allocate the default 4 MiB).
  size_t buffer = 64 + (size * 131) % 8192;
  auto reader = capture::open_capture_buffered(capture::memory_byte_source(core::ByteView(data, size)), "fuzz", 3,
                                               anomalies, err, buffer);
  if (!reader) {
    if (err.empty()) std::abort();  // a failed open always says why
    return 0;
  }
  capture::RawPacket p;
  uint64_t sum = 0, bytes = 0;
  size_t packets = 0;
  capture::ReadResult r = capture::ReadResult::kEnd;
  while (packets < kMaxPackets && bytes < kMaxBytes && (r = reader->next(p)) == capture::ReadResult::kPacket) {
    if (p.caplen > p.wirelen || p.caplen > 262144 || p.input != 3 || (p.caplen && !p.data)) std::abort();
    for (uint32_t i = 0; i < p.caplen; ++i) sum += p.data[i];
    sum += static_cast<uint64_t>(p.ts.ns) + p.linktype;
    bytes += p.caplen;
    ++packets;
  }
  if (r == capture::ReadResult::kError && reader->error().empty()) std::abort();
  if (reader->bytes_done() > reader->bytes_total()) std::abort();
  volatile uint64_t sink = sum;
  (void)sink;
  return 0;
}

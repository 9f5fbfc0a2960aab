// Opening one capture file with a chosen buffer size (MergedReader keeps the
// buffers of many open files small), and the "what is this file" hint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "capture/packet_reader.h"

namespace trawl::capture {

// open_capture() over a source, with the read buffer size given.
std::unique_ptr<PacketReader> open_capture_buffered(std::unique_ptr<ByteSource> source, std::string name,
                                                    uint16_t input_index, core::Anomalies& anomalies, std::string& err,
                                                    size_t buffer_size, bool read_ahead = false);
// open_capture() of a path, with the read buffer size given.
std::unique_ptr<PacketReader> open_capture_file(const std::string& path, uint16_t input_index,
                                                core::Anomalies& anomalies, std::string& err, size_t buffer_size,
                                                bool read_ahead = false);

// "starts with 50 4b 03 04 ..., looks like a zip archive": a hint for a file
// that is not a capture.
std::string describe_start(core::ByteView head);

}  // namespace trawl::capture

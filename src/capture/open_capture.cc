// open_capture: decompression and pcap/pcapng detection by content.
#include <cstdio>
#include <cstring>

#include "capture/byte_source.h"
#include "capture/capture_file.h"
#include "capture/read_ahead_source.h"
#include "capture/input_buffer.h"
#include "capture/pcap_reader.h"
#include "capture/pcapng_reader.h"

namespace trawl::capture {

namespace {

bool starts_with(core::ByteView head, std::initializer_list<uint8_t> magic) {
  if (head.size() < magic.size()) return false;
  return std::memcmp(head.data(), magic.begin(), magic.size()) == 0;
}

const char* what_it_looks_like(core::ByteView head) {
  if (starts_with(head, {'P', 'K', 3, 4})) return "a zip archive";
  if (starts_with(head, {'B', 'Z', 'h'})) return "bzip2 data, which trawl does not decompress";
  if (starts_with(head, {0xfd, '7', 'z', 'X', 'Z', 0})) return "xz data, which trawl does not decompress";
  if (starts_with(head, {0x04, 0x22, 0x4d, 0x18})) return "lz4 data, which trawl does not decompress";
  if (starts_with(head, {'7', 'z', 0xbc, 0xaf, 0x27, 0x1c})) return "a 7-zip archive";
  if (starts_with(head, {0x7f, 'E', 'L', 'F'})) return "an ELF executable";
  if (starts_with(head, {'%', 'P', 'D', 'F'})) return "a PDF document";
  if (starts_with(head, {0xa1, 0xb2, 0xcd, 0x34}) || starts_with(head, {0x34, 0xcd, 0xb2, 0xa1}))
    return "a modified (Kuznetzov) pcap, which trawl does not read; convert it with editcap -F pcap";
  if (starts_with(head, {'G', 'M', 'B', 'U'}) || starts_with(head, {'R', 'T', 'S', 'S'}))
    return "a Microsoft Network Monitor capture; convert it with editcap -F pcapng";
  if (starts_with(head, {'s', 'n', 'o', 'o', 'p', 0, 0, 0}))
    return "a snoop capture; convert it with editcap -F pcapng";
  bool text = !head.empty();
  for (uint8_t c : head) {
    if (!(c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7f))) text = false;
  }
  if (text) return "text";
  return nullptr;
}

}  // namespace

std::string describe_start(core::ByteView head) {
  std::string s = "starts with";
  char hex[4];
  for (size_t i = 0; i < head.size() && i < 8; ++i) {
    std::snprintf(hex, sizeof hex, " %02x", head[i]);
    s += hex;
  }
  if (const char* what = what_it_looks_like(head)) {
    s += ", looks like ";
    s += what;
  }
  return s;
}

std::unique_ptr<PacketReader> open_capture_buffered(std::unique_ptr<ByteSource> source, std::string name,
                                                    uint16_t input_index, core::Anomalies& anomalies, std::string& err,
                                                    size_t buffer_size, bool read_ahead) {
  Compression kind = Compression::kNone;
  auto src = decompress_by_magic(std::move(source), name, err, &kind);
  if (!src) return nullptr;
  // Only compressed inputs: for a plain file the kernel's copy is cheaper
  // than handing buffers between threads (measured, docs/adr/0001).
  if (read_ahead && kind != Compression::kNone) src = make_read_ahead(std::move(src));
  auto in = std::make_unique<InputBuffer>(std::move(src), buffer_size);
  const uint8_t* h = in->peek(4);
  if (!h) {
    if (in->failed()) {
      in->open_failed(anomalies, err);
    } else if (in->available() == 0) {
      err = name + (kind == Compression::kNone ? ": empty file" : ": empty after decompression") +
            ", not a pcap or pcapng capture";
    } else {
      err = name + ": not a pcap or pcapng capture (only " + std::to_string(in->available()) + " bytes)";
    }
    return nullptr;
  }
  if (PcapReader::is_magic(h)) return PcapReader::open(std::move(in), std::move(name), input_index, anomalies, err);
  if (PcapngReader::is_magic(h))
    return PcapngReader::open(std::move(in), std::move(name), input_index, anomalies, err);
  size_t n = 16;
  const uint8_t* head = in->peek(n);
  if (!head) {
    n = in->available();  // a short file: all of it is buffered
    head = in->peek(n);
  }
  std::string hint = describe_start(core::ByteView(head, n));
  if (kind == Compression::kGzip) hint = "after gzip decompression " + hint;
  if (kind == Compression::kZstd) hint = "after zstd decompression " + hint;
  err = name + ": not a pcap or pcapng capture (" + hint + ")";
  return nullptr;
}

std::unique_ptr<PacketReader> open_capture_file(const std::string& path, uint16_t input_index,
                                                core::Anomalies& anomalies, std::string& err, size_t buffer_size,
                                                bool read_ahead) {
  auto file = open_file_source(path, err);
  if (!file) return nullptr;
  return open_capture_buffered(std::move(file), path, input_index, anomalies, err, buffer_size, read_ahead);
}

std::unique_ptr<PacketReader> open_capture(const std::string& path, uint16_t input_index, core::Anomalies& anomalies,
                                           std::string& err) {
  return open_capture_file(path, input_index, anomalies, err, InputBuffer::kDefaultCapacity);
}

std::unique_ptr<PacketReader> open_capture(std::unique_ptr<ByteSource> source, std::string name, uint16_t input_index,
                                           core::Anomalies& anomalies, std::string& err) {
  return open_capture_buffered(std::move(source), std::move(name), input_index, anomalies, err,
                               InputBuffer::kDefaultCapacity);
}

}  // namespace trawl::capture

#include "capture/pcap_writer.h"

#include <cerrno>
#include <cstring>

namespace trawl::capture {

namespace {
constexpr size_t kWriteBuffer = 1024 * 1024;

void put32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }  // host order, as libpcap writes
void put16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
}  // namespace

PcapWriter::~PcapWriter() { close(); }

bool PcapWriter::open(const std::string& path, uint16_t linktype, std::string& err) {
  close();
  error_.clear();
  packets_ = 0;
  path_ = path;
  linktype_ = linktype;
  if (path == "-") {
    file_ = stdout;
    owns_file_ = false;
  } else {
    file_ = std::fopen(path.c_str(), "wb");
    owns_file_ = true;
    if (!file_) {
      err = "cannot create " + path + ": " + std::strerror(errno);
      error_ = err;
      return false;
    }
  }
  if (owns_file_) {
    // Large stdio buffer: one write(2) per MiB rather than per packet.
    buffer_ = std::make_unique_for_overwrite<char[]>(kWriteBuffer);
    std::setvbuf(file_, buffer_.get(), _IOFBF, kWriteBuffer);
  }
  uint8_t h[24];
  put32(h, 0xa1b23c4d);
  put16(h + 4, 2);
  put16(h + 6, 4);
  put32(h + 8, 0);   // thiszone
  put32(h + 12, 0);  // sigfigs
  put32(h + 16, kSnaplen);
  put32(h + 20, linktype);
  if (std::fwrite(h, 1, sizeof h, file_) != sizeof h) {
    failed("write error");
    err = error_;
    return false;
  }
  return true;
}

bool PcapWriter::write(const RawPacket& pkt) { return write(pkt.ts, pkt.data, pkt.caplen, pkt.wirelen); }

bool PcapWriter::write(core::Timestamp ts, const uint8_t* data, uint32_t caplen, uint32_t wirelen) {
  if (!file_ || !error_.empty()) return false;
  if (caplen > kSnaplen) caplen = kSnaplen;
  if (wirelen < caplen) wirelen = caplen;
  // Seconds are an unsigned 32-bit field: times before 1970 or after 2106
  // cannot be written and wrap, as in every pcap writer.
  int64_t sec = ts.ns / core::kNsPerSec;
  int64_t nsec = ts.ns % core::kNsPerSec;
  if (nsec < 0) {
    nsec += core::kNsPerSec;
    sec -= 1;
  }
  uint8_t h[16];
  put32(h, static_cast<uint32_t>(sec));
  put32(h + 4, static_cast<uint32_t>(nsec));
  put32(h + 8, caplen);
  put32(h + 12, wirelen);
  if (std::fwrite(h, 1, sizeof h, file_) != sizeof h || (caplen && std::fwrite(data, 1, caplen, file_) != caplen))
    return failed("write error");
  ++packets_;
  return true;
}

bool PcapWriter::failed(const char* what) {
  if (error_.empty()) error_ = path_ + ": " + what + ": " + std::strerror(errno);
  return false;
}

bool PcapWriter::close() {
  if (!file_) return error_.empty();
  if (std::fflush(file_) != 0) failed("write error");
  if (owns_file_ && std::fclose(file_) != 0) failed("close error");
  file_ = nullptr;
  buffer_.reset();
  return error_.empty();
}

}  // namespace trawl::capture

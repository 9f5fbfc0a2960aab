#include "capture/pcap_reader.h"

#include "capture/capture_anomalies.h"

namespace trawl::capture {

namespace {
constexpr uint32_t kMagicMicro = 0xa1b2c3d4;
constexpr uint32_t kMagicNano = 0xa1b23c4d;
constexpr int64_t kOneDayNs = 86400 * core::kNsPerSec;
}  // namespace

bool PcapReader::is_magic(const uint8_t* p) {
  uint32_t be = core::load_be32(p);
  uint32_t le = core::load_le32(p);
  return be == kMagicMicro || be == kMagicNano || le == kMagicMicro || le == kMagicNano;
}

std::unique_ptr<PcapReader> PcapReader::open(std::unique_ptr<InputBuffer> in, std::string name, uint16_t input_index,
                                             core::Anomalies& anomalies, std::string& err) {
  const uint8_t* h = in->peek(24);
  if (!h) {
    if (in->failed()) in->open_failed(anomalies, err);
    else err = name + ": truncated pcap file header (" + std::to_string(in->available()) + " of 24 bytes)";
    return nullptr;
  }
  if (!is_magic(h)) {
    err = name + ": not a pcap file";
    return nullptr;
  }
  std::unique_ptr<PcapReader> r(new PcapReader(std::move(in), std::move(name), input_index, anomalies));
  bool file_le = core::load_le32(h) == kMagicMicro || core::load_le32(h) == kMagicNano;
  r->swap_ = file_le != (std::endian::native == std::endian::little);
  r->frac_to_ns_ = (r->u32(h) == kMagicNano) ? 1 : 1000;
  r->snaplen_ = r->u32(h + 16);
  // The upper 16 bits of the link-type field carry FCS information.
  r->linktype_ = static_cast<uint16_t>(r->u32(h + 20) & 0xffff);
  r->in_->consume(24);
  return r;
}

ReadResult PcapReader::next(RawPacket& out) {
  if (state_ != State::kReading) [[unlikely]]
    return state_ == State::kEnded ? ReadResult::kEnd : ReadResult::kError;
  for (;;) {
    const uint8_t* h = in_->peek(16);
    if (!h) [[unlikely]]
      return at_end();
    uint32_t caplen = u32(h + 8);
    if (caplen > kMaxCaplen) [[unlikely]] {
      anomalies_.add(kAnomalyImpossibleLength);
      switch (resync(caplen)) {
        case Resync::kFound:
          continue;
        case Resync::kEnd:
          state_ = State::kEnded;
          return ReadResult::kEnd;
        case Resync::kGaveUp:
          return ReadResult::kError;
      }
    }
    const uint8_t* p = in_->peek(16 + size_t{caplen});
    if (!p) [[unlikely]]
      return at_end();
    uint32_t wirelen = u32(p + 12);
    int64_t ts = static_cast<int64_t>(u32(p)) * core::kNsPerSec + static_cast<int64_t>(u32(p + 4)) * frac_to_ns_;
    if (caplen > snaplen_ && snaplen_ != 0) [[unlikely]]
      anomalies_.add(kAnomalyCaplenExceedsSnaplen);
    emit(out, ts, p + 16, caplen, wirelen, linktype_);
    in_->consume(16 + size_t{caplen});
    return ReadResult::kPacket;
  }
}

bool PcapReader::plausible(const uint8_t* h, bool have_prev, int64_t prev_ts) const {
  uint32_t frac = u32(h + 4);
  uint32_t caplen = u32(h + 8);
  uint32_t wirelen = u32(h + 12);
  if (frac >= (frac_to_ns_ == 1 ? 1000000000u : 1000000u)) return false;
  if (caplen > wirelen || wirelen > kMaxCaplen) return false;
  if (snaplen_ != 0 && caplen > snaplen_) return false;
  if (have_prev) {
    int64_t ts = static_cast<int64_t>(u32(h)) * core::kNsPerSec + static_cast<int64_t>(frac) * frac_to_ns_;
    int64_t d = ts - prev_ts;
    if (d > kOneDayNs || d < -kOneDayNs) return false;
  }
  return true;
}

// Scans forward one byte at a time for a record header that is plausible and
// is followed by another plausible header (or by the end of the file).
PcapReader::Resync PcapReader::resync(uint32_t bad_caplen) {
  const uint64_t start = in_->offset();
  in_->consume(1);
  while (in_->offset() - start <= kResyncWindow) {
    const uint8_t* h = in_->peek(16);
    if (!h) {
      // Nothing plausible before the end: the rest was damage already counted.
      if (!in_->failed()) in_->consume(in_->available());
      return at_end() == ReadResult::kEnd ? Resync::kEnd : Resync::kGaveUp;
    }
    if (plausible(h, have_last_ts_, last_ts_)) {
      size_t len = 16 + size_t{u32(h + 8)};
      const uint8_t* both = in_->peek(len + 16);
      if (both) {
        int64_t ts = static_cast<int64_t>(u32(both)) * core::kNsPerSec +
                     static_cast<int64_t>(u32(both + 4)) * frac_to_ns_;
        if (plausible(both + len, true, ts)) {
          anomalies_.add(kAnomalyResync);
          return Resync::kFound;
        }
      } else if (!in_->failed() && in_->available() >= len) {
        anomalies_.add(kAnomalyResync);  // the last record of the file
        return Resync::kFound;
      }
    }
    in_->consume(1);
  }
  fail(name_ + ": impossible record length " + std::to_string(bad_caplen) + " at offset " + std::to_string(start) +
       " and no plausible record in the next " + std::to_string(kResyncWindow >> 20) + " MiB; rest of file skipped");
  return Resync::kGaveUp;
}

}  // namespace trawl::capture

// FileReader: what the pcap and pcapng readers share: the input buffer, the
// file's name and index, the error and end state, and byte-order helpers.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "capture/capture_anomalies.h"
#include "capture/input_buffer.h"
#include "capture/packet_reader.h"
#include "core/anomalies.h"

namespace trawl::capture {

class FileReader : public PacketReader {
 public:
  const std::string& error() const override { return error_; }
  uint64_t bytes_done() const override { return in_->source().bytes_done(); }
  uint64_t bytes_total() const override { return in_->source().bytes_total(); }

 protected:
  enum class State : uint8_t { kReading, kEnded, kFailed };
  enum class Resync : uint8_t { kFound, kEnd, kGaveUp };

  FileReader(std::unique_ptr<InputBuffer> in, std::string name, uint16_t input_index, core::Anomalies& anomalies)
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

  // The input ended: counts what was cut and says whether that is an error.
  ReadResult at_end() {
    ReadResult r = in_->finish(anomalies_, error_);
    state_ = r == ReadResult::kEnd ? State::kEnded : State::kFailed;
    return r;
  }
  // Fills out for one record: the checks every format makes (captured longer
  // than original, time going backwards) and the fields they share.
  void emit(RawPacket& out, int64_t ts, const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype) {
    if (caplen > wirelen) [[unlikely]] {
      anomalies_.add(kAnomalyCaplenExceedsWirelen);
      wirelen = caplen;
    }
    if (ts < last_ts_ && have_last_ts_) [[unlikely]]
      anomalies_.add(kAnomalyTimestampBackwards);
    last_ts_ = ts;
    have_last_ts_ = true;
    out.ts = core::Timestamp{ts};
    out.caplen = caplen;
    out.wirelen = wirelen;
    out.linktype = linktype;
    out.input = input_;
    out.data = data;
    out.block = in_->block();
  }
  ReadResult fail(std::string message) {
    error_ = std::move(message);
    state_ = State::kFailed;
    return ReadResult::kError;
  }

  std::unique_ptr<InputBuffer> in_;
  std::string name_;
  std::string error_;
  core::Anomalies& anomalies_;
  int64_t last_ts_ = 0;
  uint16_t input_;
  bool swap_ = false;
  bool have_last_ts_ = false;
  State state_ = State::kReading;
};

}  // namespace trawl::capture

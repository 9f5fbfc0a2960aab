#include "capture/pcapng_reader.h"

#include <algorithm>
#include <limits>

#include "capture/capture_anomalies.h"
#include "core/digits.h"

namespace trawl::capture {

namespace {

constexpr uint32_t kShb = 0x0A0D0D0A;
constexpr uint32_t kIdb = 1;
constexpr uint32_t kPb = 2;  // obsolete Packet Block
constexpr uint32_t kSpb = 3;
constexpr uint32_t kNrb = 4;
constexpr uint32_t kIsb = 5;
constexpr uint32_t kEpb = 6;
constexpr uint32_t kSystemdJournal = 9;
constexpr uint32_t kDsb = 0x0A;
constexpr uint32_t kCustom = 0x00000BAD;
constexpr uint32_t kCustomNoCopy = 0x40000BAD;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;

constexpr uint16_t kOptEnd = 0;
constexpr uint16_t kOptTsresol = 9;
constexpr uint16_t kOptTsoffset = 14;

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;


// Smallest valid total length of each block type we recognise; 0 if unknown.
uint32_t min_block_length(uint32_t type) {
  switch (type) {
    case kShb:
      return 28;
    case kIdb:
      return 20;
    case kPb:
    case kEpb:
      return 32;
    case kSpb:
      return 16;
    case kIsb:
      return 24;
    case kNrb:
    case kSystemdJournal:
    case kDsb:
    case kCustom:
    case kCustomNoCopy:
      return 12;
    default:
      return 0;
  }
}

}  // namespace

bool PcapngReader::is_magic(const uint8_t* p) { return core::load_be32(p) == kShb; }

int PcapngReader::section_order(const uint8_t* shb) {
  uint32_t v = rd32(shb + 8, false);
  if (v == kByteOrderMagic) return 1;
  if (__builtin_bswap32(v) == kByteOrderMagic) return 2;
  return 0;
}

int64_t PcapngReader::units_to_ns(uint64_t units, uint8_t tsresol, int64_t offset_sec) {
  i128 ns;
  if (tsresol & 0x80) {
    unsigned k = tsresol & 0x7fu;  // resolution 2^-k seconds
    ns = static_cast<i128>((static_cast<u128>(units) * 1000000000u) >> k);
  } else if (tsresol <= 9) {
    ns = static_cast<i128>(static_cast<u128>(units) * core::kPow10[9 - tsresol]);
  } else if (tsresol - 9u < 20u) {
    ns = static_cast<i128>(units / core::kPow10[tsresol - 9u]);
  } else {
    ns = 0;
  }
  ns += static_cast<i128>(offset_sec) * 1000000000;
  constexpr i128 kMax = std::numeric_limits<int64_t>::max();
  constexpr i128 kMin = std::numeric_limits<int64_t>::min();
  if (ns > kMax) return std::numeric_limits<int64_t>::max();
  if (ns < kMin) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(ns);
}

std::unique_ptr<PcapngReader> PcapngReader::open(std::unique_ptr<InputBuffer> in, std::string name,
                                                 uint16_t input_index, core::Anomalies& anomalies, std::string& err) {
  const uint8_t* h = in->peek(12);
  if (!h) {
    if (in->failed()) in->open_failed(anomalies, err);
    else err = name + ": truncated pcapng section header";
    return nullptr;
  }
  if (!is_magic(h)) {
    err = name + ": not a pcapng file";
    return nullptr;
  }
  int order = section_order(h);
  if (order == 0) {
    err = name + ": pcapng section header with an unknown byte-order magic";
    return nullptr;
  }
  bool swap = order == 2;
  uint32_t len = rd32(h + 4, swap);
  if (len < 28 || len % 4 != 0 || len > kMaxBlockLength) {
    err = name + ": corrupt pcapng section header (length " + std::to_string(len) + ")";
    return nullptr;
  }
  const uint8_t* b = in->peek(len);
  if (!b) {
    if (in->failed()) in->open_failed(anomalies, err);
    else err = name + ": truncated pcapng section header";
    return nullptr;
  }
  if (rd32(b + len - 4, swap) != len) {
    err = name + ": corrupt pcapng section header (trailing length differs)";
    return nullptr;
  }
  std::unique_ptr<PcapngReader> r(new PcapngReader(std::move(in), std::move(name), input_index, anomalies));
  r->swap_ = swap;
  return r;
}

ReadResult PcapngReader::next(RawPacket& out) {
  if (state_ != State::kReading) [[unlikely]]
    return state_ == State::kEnded ? ReadResult::kEnd : ReadResult::kError;
  for (;;) {
    const uint8_t* h = in_->peek(12);
    if (!h) [[unlikely]]
      return at_end();
    uint32_t type = u32(h);
    bool swap = swap_;
    if (type == kShb) [[unlikely]] {
      int order = section_order(h);
      if (order == 0) {
        if (ReadResult r = damaged(kAnomalyPcapngCorruptBlock); r != ReadResult::kPacket) return r;
        continue;
      }
      swap = order == 2;
    }
    uint32_t len = rd32(h + 4, swap);
    // Each known block type has its own minimum length; below it the block's
    // fields would be read from past its end.
    uint32_t min_len = std::max<uint32_t>(12, min_block_length(type));
    if (len > kMaxBlockLength || len < min_len || len % 4 != 0) [[unlikely]] {
      if (ReadResult r = damaged(len > kMaxBlockLength ? kAnomalyImpossibleLength : kAnomalyPcapngCorruptBlock);
          r != ReadResult::kPacket)
        return r;
      continue;
    }
    const uint8_t* b = in_->peek(len);
    if (!b) [[unlikely]]
      return at_end();
    if (rd32(b + len - 4, swap) != len) [[unlikely]] {
      if (ReadResult r = damaged(kAnomalyPcapngCorruptBlock); r != ReadResult::kPacket) return r;
      continue;
    }
    bool packet = false;
    switch (type) {
      case kEpb:
      case kPb:
        packet = on_packet_block(b, len, type, out);
        break;
      case kSpb:
        packet = on_simple_packet(b, len, out);
        break;
      case kIdb:
        on_interface(b, len);
        break;
      case kShb:
        if (len < 28) {
          anomalies_.add(kAnomalyPcapngCorruptBlock);
          break;
        }
        // A new section: its own byte order, interfaces numbered from 0 again.
        swap_ = swap;
        interfaces_.clear();
        break;
      default:
        break;  // name resolution, statistics, secrets, custom, unknown
    }
    in_->consume(len);
    if (packet) return ReadResult::kPacket;
  }
}

bool PcapngReader::on_packet_block(const uint8_t* b, uint32_t len, uint32_t type, RawPacket& out) {
  if (len < 32) {
    anomalies_.add(kAnomalyPcapngCorruptBlock);
    return false;
  }
  uint32_t iface = type == kEpb ? u32(b + 8) : u16(b + 8);
  uint32_t caplen = u32(b + 20);
  uint32_t wirelen = u32(b + 24);
  if (caplen > kMaxCaplen) {
    anomalies_.add(kAnomalyImpossibleLength);
    return false;
  }
  if (caplen > len - 32) {
    anomalies_.add(kAnomalyPcapngCorruptBlock);
    return false;
  }
  if (iface >= interfaces_.size()) {
    anomalies_.add(kAnomalyPcapngBadInterface);
    return false;
  }
  const Interface& ifc = interfaces_[iface];
  uint64_t units = (uint64_t{u32(b + 12)} << 32) | u32(b + 16);
  uint64_t prod;
  int64_t ts;
  if (ifc.mul != 0 && ifc.offset_sec == 0 && !__builtin_mul_overflow(units, ifc.mul, &prod) &&
      prod <= uint64_t{std::numeric_limits<int64_t>::max()}) [[likely]]
    ts = static_cast<int64_t>(prod);
  else
    ts = units_to_ns(units, ifc.tsresol, ifc.offset_sec);
  if (caplen > ifc.snaplen && ifc.snaplen != 0) [[unlikely]]
    anomalies_.add(kAnomalyCaplenExceedsSnaplen);
  return deliver(iface, ts, b + 28, caplen, wirelen, out);
}

// A Simple Packet Block has no interface id (always 0), no timestamp (the
// previous packet's time is used so merges keep it in place) and no caplen.
bool PcapngReader::on_simple_packet(const uint8_t* b, uint32_t len, RawPacket& out) {
  if (interfaces_.empty()) {
    anomalies_.add(kAnomalyPcapngBadInterface);
    return false;
  }
  uint32_t wirelen = u32(b + 8);
  uint32_t caplen = std::min(wirelen, len - 16);
  if (interfaces_[0].snaplen != 0) caplen = std::min(caplen, interfaces_[0].snaplen);
  if (caplen > kMaxCaplen) {
    anomalies_.add(kAnomalyImpossibleLength);
    return false;
  }
  return deliver(0, have_last_ts_ ? last_ts_ : 0, b + 12, caplen, wirelen, out);
}

bool PcapngReader::deliver(uint32_t iface_id, int64_t ts, const uint8_t* data, uint32_t caplen, uint32_t wirelen,
                           RawPacket& out) {
  emit(out, ts, data, caplen, wirelen, interfaces_[iface_id].linktype);
  return true;
}

void PcapngReader::on_interface(const uint8_t* b, uint32_t len) {
  if (len < 20) {
    anomalies_.add(kAnomalyPcapngCorruptBlock);
    return;
  }
  if (interfaces_.size() >= kMaxInterfaces) {
    anomalies_.add(kAnomalyPcapngTooManyInterfaces);
    return;
  }
  Interface ifc;
  ifc.linktype = u16(b + 8);
  ifc.snaplen = u32(b + 12);
  const uint8_t* o = b + 16;
  const uint8_t* end = b + len - 4;
  while (end - o >= 4) {
    uint16_t code = u16(o);
    uint16_t olen = u16(o + 2);
    size_t padded = (size_t{olen} + 3) & ~size_t{3};
    if (padded > static_cast<size_t>(end - o) - 4) {
      anomalies_.add(kAnomalyPcapngBadOption);
      break;
    }
    const uint8_t* v = o + 4;
    if (code == kOptEnd) break;
    if (code == kOptTsresol && olen >= 1) {
      ifc.tsresol = v[0];
    } else if (code == kOptTsoffset && olen >= 8) {
      uint64_t raw;
      std::memcpy(&raw, v, 8);
      if (swap_) raw = __builtin_bswap64(raw);
      ifc.offset_sec = static_cast<int64_t>(raw);
    }
    o = v + padded;
  }
  ifc.mul = (!(ifc.tsresol & 0x80) && ifc.tsresol <= 9) ? core::kPow10[9 - ifc.tsresol] : 0;
  interfaces_.push_back(ifc);
}

// Scans forward byte by byte (damage may shift alignment) for a block of a
// known type whose lengths agree at both ends and whose packet fields fit.
PcapngReader::Resync PcapngReader::resync() {
  const uint64_t start = in_->offset();
  in_->consume(1);
  while (in_->offset() - start <= kResyncWindow) {
    const uint8_t* h = in_->peek(12);
    if (!h) {
      // Nothing plausible before the end: the rest was damage already counted.
      if (!in_->failed()) in_->consume(in_->available());
      return at_end() == ReadResult::kEnd ? Resync::kEnd : Resync::kGaveUp;
    }
    bool swap = swap_;
    uint32_t type = rd32(h, swap);
    bool candidate = true;
    if (type == kShb) {
      int order = section_order(h);
      candidate = order != 0;
      swap = order == 2;
    }
    uint32_t min_len = min_block_length(type);
    uint32_t len = rd32(h + 4, swap);
    if (candidate && min_len != 0 && len >= min_len && len % 4 == 0 && len <= kMaxBlockLength) {
      const uint8_t* b = in_->peek(len);
      if (b && rd32(b + len - 4, swap) == len) {
        bool ok = true;
        if (type == kEpb || type == kPb) {
          uint32_t iface = type == kEpb ? rd32(b + 8, swap) : rd16(b + 8, swap);
          ok = iface < interfaces_.size() && rd32(b + 20, swap) <= len - 32;
        } else if (type == kSpb || type == kIsb) {
          ok = !interfaces_.empty();
        }
        if (ok) {
          anomalies_.add(kAnomalyResync);
          return Resync::kFound;
        }
      }
    }
    in_->consume(1);
  }
  fail(name_ + ": corrupt pcapng block at offset " + std::to_string(start) + " and no plausible block in the next " +
       std::to_string(kResyncWindow >> 20) + " MiB; rest of file skipped");
  return Resync::kGaveUp;
}

// Counts damage to the block framing and looks for the next block. Returns
// kPacket to mean "carry on reading", else what next() should return.
ReadResult PcapngReader::damaged(const core::AnomalyId& what) {
  anomalies_.add(what);
  switch (resync()) {
    case Resync::kFound:
      return ReadResult::kPacket;
    case Resync::kEnd:
      state_ = State::kEnded;
      return ReadResult::kEnd;
    case Resync::kGaveUp:
      break;
  }
  return ReadResult::kError;
}

}  // namespace trawl::capture

// Fuzz target for flow::TcpReassembler. Input layout:
//   byte 0: per-stream byte cap = 1 + (b & 0x3f) * 8, segment cap = 1 + (b >> 6) * 4;
//   byte 1: global budget = 1 + b * 4 bytes, shared by two streams;
//   bytes 2-5: the ISN (big-endian), so runs start anywhere near the 2^32 wrap;
//   then 4-byte records: int16 offset relative to the stream's next offset
//   (big-endian), length, flags: bit 0 FIN, bit 1 corrupt the bytes (they
//   then differ from earlier copies), bit 2 snaplen-cut (half captured),
//   bit 3 flush() after, bit 4 close() after, bit 5 stream B instead of A,
//   bits 6-7 multiply the length by 1, 4, 16 or 64.
// Stream bytes are a function of their offset, so delivered data is checked
// byte for byte (unless corrupt copies were sent). Invariants: delivered +
// gaps == next offset; nothing buffered above a cap; after close() the stream
// covers exactly what was sent (up to the FIN); memory returns to the budget.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/anomalies.h"
#include "flow/tcp_reassembler.h"

namespace {

using trawl::flow::ReassemblyBudget;
using trawl::flow::ReassemblyLimits;
using trawl::flow::TcpReassembler;

uint8_t pattern(int64_t offset) { return static_cast<uint8_t>(offset * 131 + (offset >> 8)); }

struct CheckingSink : trawl::flow::StreamSink {
  uint64_t pos = 0;
  bool corrupt_sent = false;
  bool ended = false;
  void on_data(trawl::core::ByteView d) override {
    if (ended || d.empty()) __builtin_trap();
    for (uint8_t b : d) {
      if (!corrupt_sent && b != pattern(static_cast<int64_t>(pos))) __builtin_trap();
      ++pos;
    }
  }
  void on_gap(uint64_t n) override {
    if (ended || n == 0) __builtin_trap();
    pos += n;
  }
  void on_end() override {
    if (ended) __builtin_trap();
    ended = true;
  }
};

struct Stream {
  CheckingSink sink;
  int64_t max_end = 0;
  bool fin_sent = false;
};

void check(const Stream& s, const TcpReassembler& r, const ReassemblyLimits& limits) {
  if (r.delivered_bytes() + r.missed_bytes() != r.next_offset()) __builtin_trap();
  if (s.sink.pos != r.next_offset()) __builtin_trap();
  if (r.buffered_bytes() > limits.max_buffered_bytes) __builtin_trap();
  if (r.buffered_segments() > limits.max_segments) __builtin_trap();
  if (s.sink.ended != r.ended()) __builtin_trap();
  if (r.ended() && r.buffered_bytes() != 0) __builtin_trap();
}

void check_closed(const Stream& s, const TcpReassembler& r) {
  if (!r.ended() || r.buffered_bytes() != 0) __builtin_trap();
  if (r.fin_seen()) {
    if (r.next_offset() != r.fin_offset()) __builtin_trap();
  } else if (static_cast<int64_t>(r.next_offset()) != std::max<int64_t>(s.max_end, 0)) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 6) return 0;
  ReassemblyLimits limits;
  limits.max_buffered_bytes = 1 + (data[0] & 0x3fu) * 8u;
  limits.max_segments = 1 + (data[0] >> 6) * 4u;
  ReassemblyBudget budget;
  budget.max_bytes = 1 + data[1] * 4u;
  const uint32_t isn = (uint32_t{data[2]} << 24) | (uint32_t{data[3]} << 16) | (uint32_t{data[4]} << 8) | data[5];
  trawl::core::Anomalies anomalies;
  std::vector<uint8_t> buf;
  {
    Stream streams[2];
    TcpReassembler a(streams[0].sink, budget, anomalies, limits);
    TcpReassembler b(streams[1].sink, budget, anomalies, limits);
    TcpReassembler* rs[2] = {&a, &b};
    a.set_isn(isn);
    b.set_isn(~isn);
    for (size_t pos = 6; pos + 4 <= size; pos += 4) {
      const auto delta = static_cast<int16_t>((data[pos] << 8) | data[pos + 1]);
      const uint8_t flags = data[pos + 3];
      const uint32_t len = uint32_t{data[pos + 2]} << (2 * (flags >> 6));
      const int idx = (flags >> 5) & 1;
      Stream& s = streams[idx];
      TcpReassembler& r = *rs[idx];
      const uint32_t base = idx == 0 ? isn + 1 : ~isn + 1;
      const int64_t offset = static_cast<int64_t>(r.next_offset()) + delta;
      const bool corrupt = (flags & 2) != 0;
      const bool fin = (flags & 1) != 0;
      buf.resize(len);
      for (uint32_t i = 0; i < len; ++i) {
        buf[i] = static_cast<uint8_t>(pattern(offset + i) ^ (corrupt ? 0x5a : 0));
      }
      const uint32_t captured = (flags & 4) != 0 ? len / 2 : len;
      if (!r.ended()) {
        if (corrupt && len > 0) s.sink.corrupt_sent = true;
        if (!s.fin_sent && len > 0) s.max_end = std::max(s.max_end, offset + len);
        if (fin) s.fin_sent = true;
      }
      r.segment(base + static_cast<uint32_t>(offset), {buf.data(), captured}, len, fin);
      if ((flags & 8) != 0) r.flush();
      if ((flags & 16) != 0) {
        r.close();
        check_closed(s, r);
      }
      check(s, r, limits);
      if (budget.used > budget.max_bytes) __builtin_trap();
      if (budget.used != a.buffered_bytes() + b.buffered_bytes()) __builtin_trap();
    }
    for (int i = 0; i < 2; ++i) {
      rs[i]->close();
      check_closed(streams[i], *rs[i]);
    }
  }
  if (budget.used != 0) __builtin_trap();
  return 0;
}

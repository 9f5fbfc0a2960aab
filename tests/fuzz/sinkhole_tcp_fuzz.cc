// Fuzz target for sinkhole::TcpEndpoint: sequences of guest segments, timer
// ticks and application calls against one endpoint. Input layout:
//   bytes 0-3: limits (max connections/half-open, out-of-order bytes and
//   segments, send queue, MSS, whether port 23 is refused);
//   then 6-byte records: op (bits 0-2) and slot (bits 3-4; slot 3 is IPv6),
//   then five argument bytes. Ops: 0 SYN, 1 segment near the expected
//   sequence numbers (so the fuzzer reaches every state), 2 send, 3 close,
//   4 abort, 5 advance time, 6 segment with arbitrary numbers (never SYN), 7 truncated
//   (snaplen-cut) segment.
// Guest bytes are a function of their sequence offset, so delivered data is
// checked byte for byte. Invariants: every frame decodes with good checksums;
// limits hold after every step; each connection is closed exactly once, no
// event after that; when time runs on, every connection goes away.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "capture/raw_packet.h"
#include "core/anomalies.h"
#include "decode/decoder.h"
#include "sinkhole/tcp_endpoint.h"

namespace {

using namespace trawl;
using sinkhole::TcpConnInfo;
namespace flag = decode::tcp_flag;

constexpr int kSlots = 4;
constexpr uint32_t kGuestIsn = 0xfffffe00u;  // guest data crosses the 2^32 wrap

uint8_t pattern(uint32_t offset) { return static_cast<uint8_t>(offset * 131 + (offset >> 8)); }

decode::DecoderLimits checking() {
  decode::DecoderLimits l;
  l.verify_checksums = true;
  return l;
}

struct Slot {
  uint32_t our_next = 0;  // sequence after our latest segment
  uint32_t our_ack = 0;   // the ack we sent last
  uint64_t id = 0;        // latest opened connection
};

struct Sink : sinkhole::TcpSink {
  core::Anomalies anomalies;
  decode::Decoder decoder{anomalies, checking()};
  Slot slots[kSlots];
  std::map<uint64_t, uint64_t> delivered;  // id -> bytes
  std::set<uint64_t> closed_ids;
  size_t max_frame = 0;

  static int slot_of(uint16_t guest_port) { return (guest_port - 40000) & (kSlots - 1); }
  void frame(core::ByteView b) override {
    if (b.size() > max_frame) __builtin_trap();
    capture::RawPacket raw;
    raw.caplen = raw.wirelen = static_cast<uint32_t>(b.size());
    raw.data = b.data();
    decode::DecodedPacket p;
    if (decoder.decode(raw, p) != decode::DecodeStatus::kOk || p.bad_checksum || !p.has_l4) __builtin_trap();
    Slot& s = slots[slot_of(p.dport)];
    s.our_next = p.seq + p.payload_len + ((p.tcp_flags & (flag::kSyn | flag::kFin)) ? 1u : 0u);
    if (p.tcp_flags & flag::kAck) s.our_ack = p.ack;
  }
  void check_live(uint64_t id) const {
    if (closed_ids.count(id) != 0) __builtin_trap();
  }
  void opened(const TcpConnInfo& c) override {
    check_live(c.id);
    slots[slot_of(c.guest_port)].id = c.id;
  }
  void data(const TcpConnInfo& c, core::ByteView b) override {
    check_live(c.id);
    uint64_t& pos = delivered[c.id];
    for (uint8_t byte : b) {
      if (byte != pattern(static_cast<uint32_t>(pos))) __builtin_trap();
      ++pos;
    }
    if (pos != c.bytes_from_guest) __builtin_trap();
  }
  void peer_closed(const TcpConnInfo& c) override { check_live(c.id); }
  void closed(const TcpConnInfo& c, sinkhole::CloseReason) override {
    check_live(c.id);
    closed_ids.insert(c.id);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  sinkhole::TcpConfig cfg;
  cfg.max_connections = 1 + (data[0] & 7u);
  cfg.max_half_open = 1 + ((data[0] >> 3) & 3u);
  cfg.max_ooo_bytes = 1 + data[1] * 16u;
  cfg.max_ooo_segments = 1 + (data[2] & 15u);
  cfg.our_mss = static_cast<uint16_t>(64 + (data[2] >> 4) * 100);
  cfg.max_send_queue = 1 + data[3] * 64u;
  if (data[0] & 0x80) cfg.rst_ports = {23};
  cfg.idle_timeout_ns = 20 * core::kNsPerSec;
  cfg.seed = data[1];
  Sink sink;
  sink.max_frame = 14 + 40 + 24 + cfg.our_mss;
  sinkhole::TcpEndpoint ep(cfg, sink);

  const std::vector<uint8_t> bytes = [] {
    std::vector<uint8_t> v(100000);
    for (uint32_t i = 0; i < v.size(); ++i) v[i] = pattern(i);
    return v;
  }();
  core::Timestamp now = core::Timestamp::from_sec_nsec(1700000000, 0);

  auto segment = [&](int slot, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window, uint16_t mss,
                     uint32_t len, uint32_t captured) {
    decode::DecodedPacket p;
    p.has_mac = true;
    p.l3 = slot == 3 ? decode::L3::kIpv6 : decode::L3::kIpv4;
    p.ip_proto = decode::ip_proto::kTcp;
    p.has_l4 = true;
    p.src = *core::IpAddress::parse(slot == 3 ? "2001:db8::10" : "198.51.100.10");
    p.dst = *core::IpAddress::parse(slot == 3 ? "2001:db8:1::7" : "203.0.113.7");
    p.sport = static_cast<uint16_t>(40000 + slot);
    p.dport = slot == 2 ? 23 : 80;
    p.tcp_flags = flags;
    p.seq = seq;
    p.ack = ack;
    p.window = window;
    p.mss = mss;
    // Payload bytes follow the guest's offset, so any copy of a byte is the same byte.
    const uint32_t off = (seq - kGuestIsn - 1) % 60000u;
    p.payload_len = len;
    p.payload = core::ByteView(bytes.data() + off, std::min(len, captured));
    // Offsets past 60000 would not match the pattern; keep the stream short.
    if (static_cast<uint32_t>(seq - kGuestIsn - 1) >= 60000u) p.payload = p.payload.first(0), p.payload_len = 0;
    ep.on_segment(p, now);
  };

  for (size_t i = 4; i + 6 <= size; i += 6) {
    const uint8_t* r = data + i;
    const int slot = (r[0] >> 3) & 3;
    Slot& s = sink.slots[slot];
    const int8_t d1 = static_cast<int8_t>(r[1]);
    const int8_t d4 = static_cast<int8_t>(r[4]);
    switch (r[0] & 7) {
      case 0: segment(slot, flag::kSyn, kGuestIsn, 0, static_cast<uint16_t>(r[2] << 8), r[1], 0, 0); break;
      case 1:
      case 7: {
        const uint32_t len = static_cast<uint32_t>(r[2]) * (1u + (r[5] & 3u) * 40u);
        const uint32_t seq = s.our_ack + static_cast<uint32_t>(d1 * 16);
        const uint8_t flags = static_cast<uint8_t>(r[3] | ((r[5] & 4) ? 0 : flag::kAck));
        const uint32_t cap = (r[0] & 7) == 7 ? len / 2 : len;
        // SYNs come only from op 0, with the guest ISN the byte pattern assumes.
        segment(slot, flags & static_cast<uint8_t>((r[5] & 8) ? ~flag::kSyn : ~(flag::kSyn | flag::kRst)), seq,
                s.our_next + static_cast<uint32_t>(d4), static_cast<uint16_t>(r[5] >> 4 << 12 | r[1]), 0, len,
                cap);
        break;
      }
      case 2: {
        const size_t n = static_cast<size_t>(r[1]) * (1u + r[2] % 50u);
        const size_t took = ep.send(s.id, core::ByteView(bytes.data(), n), now);
        if (took > n) __builtin_trap();
        break;
      }
      case 3: ep.close(s.id, now); break;
      case 4: ep.abort(s.id, now); break;
      case 5:
        now = now + static_cast<int64_t>(r[1]) * 50 * 1000000LL + static_cast<int64_t>(r[2]) * core::kNsPerSec;
        ep.on_timer(now);
        break;
      case 6:
        segment(slot, r[1] & static_cast<uint8_t>(~flag::kSyn), core::load_be32(r + 2) ^ kGuestIsn, s.our_next ^ r[2], 0xffff, 0, r[5] & 31u, r[5] & 31u);
        break;
    }
    if (ep.connection_count() > cfg.max_connections || ep.half_open_count() > cfg.max_half_open) __builtin_trap();
    for (const Slot& sl : sink.slots)
      if (ep.buffered_bytes(sl.id) > cfg.max_send_queue + cfg.max_ooo_bytes) __builtin_trap();
  }
  // Left alone, every connection ends (idle timeout, retransmission limit, linger).
  for (int i = 0; i < 20 && ep.connection_count() != 0; ++i) {
    now = now + 30 * core::kNsPerSec;
    ep.on_timer(now);
  }
  if (ep.connection_count() != 0) __builtin_trap();
  if (sink.closed_ids.size() != ep.counters().syns) __builtin_trap();
  return 0;
}

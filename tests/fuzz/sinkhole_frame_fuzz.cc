// Fuzz target for the sinkhole driver (sinkhole::Sinkhole): arbitrary guest
// frames, plus well-formed TCP conversations so the fuzzer reaches the
// services behind the handshake. Input: records of
//   op (1 byte), length (1 byte), that many bytes of data.
// Ops (op % 6): 0 the data as a raw Ethernet frame; 1 SYN from slot
// data[0] % 4 (slot 3 is IPv6) to port data[1..2]; 2 the data as in-order
// bytes on that slot's connection (ACKing everything we sent); 3 FIN on the
// slot; 4 a UDP datagram to port data[0..1] (53: DNS) with the rest as
// payload; 5 time advances by data[0] * 100 ms and the timers run.
// Invariants: every frame the driver injects decodes with good checksums;
// the tables stay within the configured limits after every step; finish()
// leaves nothing tracked. Uses a CaseWriter without a directory.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "capture/raw_packet.h"
#include "core/anomalies.h"
#include "decode/decoder.h"
#include "sinkhole/case_writer.h"
#include "sinkhole/sinkhole.h"

namespace {

using namespace trawl;
namespace flag = decode::tcp_flag;

constexpr int kSlots = 4;
const sinkhole::MacAddress kGuestMac{0x02, 0, 0, 0, 0, 0x01};
const sinkhole::MacAddress kOwnMac{0x02, 0, 0, 0, 0, 0x02};

struct Slot {
  uint16_t dport = 80;
  uint32_t guest_seq = 1000;  // next guest sequence number
  uint32_t ack = 0;           // what the guest acknowledges (our next)
  bool open = false;
};

decode::DecoderLimits checking() {
  decode::DecoderLimits l;
  l.verify_checksums = true;
  return l;
}

struct Run {
  core::Anomalies anomalies;
  decode::Decoder decoder{anomalies, checking()};
  Slot slots[kSlots];

  static int slot_of(uint16_t guest_port) { return (guest_port - 40000) & (kSlots - 1); }

  // Every injected frame must decode; it tells the slot where our stream is.
  void injected(core::ByteView b) {
    capture::RawPacket raw;
    raw.caplen = raw.wirelen = static_cast<uint32_t>(b.size());
    raw.linktype = 1;
    raw.data = b.data();
    decode::DecodedPacket p;
    if (decoder.decode(raw, p) != decode::DecodeStatus::kOk || p.bad_checksum) __builtin_trap();
    if (p.l3 == decode::L3::kArp || p.ip_proto != decode::ip_proto::kTcp) return;
    if (p.dport < 40000 || p.dport >= 40000 + kSlots) return;
    Slot& s = slots[slot_of(p.dport)];
    uint32_t end = p.seq + p.payload_len;
    if (p.tcp_flags & (flag::kSyn | flag::kFin)) ++end;
    if (p.tcp_flags & flag::kSyn) s.ack = end;
    else if (static_cast<int32_t>(end - s.ack) > 0 && p.seq == s.ack) s.ack = end;
  }
};

sinkhole::FrameAddrs addrs(int slot) {
  sinkhole::FrameAddrs a;
  a.src_mac = kGuestMac;
  a.dst_mac = kOwnMac;
  if (slot == 3) {
    a.src = *core::IpAddress::parse("2001:db8::2");
    a.dst = *core::IpAddress::parse("2001:db8:1::7");
  } else {
    a.src = core::IpAddress::v4(0x0a090002u);
    a.dst = core::IpAddress::v4(0xcb007100u | static_cast<uint32_t>(slot));
  }
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sinkhole::SinkholeConfig cfg;
  cfg.own_mac = kOwnMac;
  cfg.tcp.max_connections = 16;
  cfg.tcp.max_half_open = 8;
  cfg.tcp.max_send_queue = 64 * 1024;
  cfg.services.sniff_wait_ns = 50 * 1000000LL;
  cfg.limits.max_udp_events = 50;
  cfg.never_answer.push_back(*core::IpNetwork::parse("10.9.0.1/32"));
  sinkhole::CaseWriter writer({}, sinkhole::case_limits(cfg.limits));
  std::string err;
  writer.open(err);
  Run run;
  sinkhole::Sinkhole sh(cfg, nullptr, writer);
  sh.inject = [&](core::ByteView b) { run.injected(b); };
  core::Timestamp now = core::Timestamp::from_sec_nsec(1700000000, 0);

  size_t pos = 0;
  int steps = 0;
  while (pos + 2 <= size && steps++ < 2000) {
    const uint8_t op = data[pos] % 6;
    const size_t len = std::min<size_t>(data[pos + 1], size - pos - 2);
    const core::ByteView d(data + pos + 2, len);
    pos += 2 + len;
    now = now + 1000;
    const int slot = d.empty() ? 0 : d[0] % kSlots;
    Slot& s = run.slots[slot];
    const uint16_t gport = static_cast<uint16_t>(40000 + slot);
    sinkhole::TcpFields t;
    t.sport = gport;
    t.window = 65535;
    switch (op) {
      case 0:
        sh.on_frame(d, now);
        break;
      case 1:
        s = Slot{};
        s.dport = d.size() >= 3 ? static_cast<uint16_t>((d[1] << 8) | d[2]) : 80;
        t.dport = s.dport;
        t.seq = s.guest_seq++;
        t.flags = flag::kSyn;
        t.mss = 1460;
        sh.on_frame(sinkhole::build_tcp_frame(addrs(slot), t), now);
        s.open = true;
        break;
      case 2:
      case 3: {
        if (!s.open) break;
        const core::ByteView payload = d.empty() ? d : d.subspan(1);
        t.dport = s.dport;
        t.seq = s.guest_seq;
        t.ack = s.ack;
        t.flags = static_cast<uint8_t>(flag::kAck | (op == 3 ? flag::kFin : flag::kPsh));
        s.guest_seq += static_cast<uint32_t>(payload.size()) + (op == 3 ? 1 : 0);
        sh.on_frame(sinkhole::build_tcp_frame(addrs(slot), t, payload), now);
        // ACK what came back, as a client would.
        t.seq = s.guest_seq;
        t.ack = s.ack;
        t.flags = flag::kAck;
        sh.on_frame(sinkhole::build_tcp_frame(addrs(slot), t), now);
        break;
      }
      case 4: {
        const uint16_t dport = d.size() >= 2 ? static_cast<uint16_t>((d[0] << 8) | d[1]) : 53;
        const core::ByteView payload = d.size() >= 2 ? d.subspan(2) : d;
        sh.on_frame(sinkhole::build_udp_frame(addrs(slot), gport, dport, payload), now);
        break;
      }
      case 5:
        now = now + (d.empty() ? 0 : d[0]) * 100 * 1000000LL;
        sh.on_timer(now);
        break;
    }
    if (sh.connection_count() > cfg.tcp.max_connections) __builtin_trap();
    if (sh.tcp().half_open_count() > cfg.tcp.max_half_open) __builtin_trap();
    if (sh.session_count() > sh.connection_count()) __builtin_trap();
    if (sh.tracked_connections() > sh.connection_count()) __builtin_trap();
  }
  // Let every timer run out, then stop.
  for (int i = 0; i < 50 && sh.next_deadline().ns != INT64_MAX; ++i) {
    now = std::max(now, sh.next_deadline());
    sh.on_timer(now);
  }
  sh.finish(now);
  if (sh.tracked_connections() != 0 || sh.session_count() != 0) __builtin_trap();
  return 0;
}

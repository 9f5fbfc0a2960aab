#include "sinkhole/tcp_endpoint.h"

#include <algorithm>
#include <climits>
#include <utility>

#include "core/hash.h"

namespace trawl::sinkhole {
namespace {

using decode::tcp_flag::kAck;
using decode::tcp_flag::kFin;
using decode::tcp_flag::kPsh;
using decode::tcp_flag::kRst;
using decode::tcp_flag::kSyn;

// Sequence numbers compare modulo 2^32 (RFC 793 3.3).
int32_t seq_diff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }
bool seq_lt(uint32_t a, uint32_t b) { return seq_diff(a, b) < 0; }
bool seq_le(uint32_t a, uint32_t b) { return seq_diff(a, b) <= 0; }
bool seq_gt(uint32_t a, uint32_t b) { return seq_diff(a, b) > 0; }

// A guest announcing a tiny MSS must not make us emit a frame per byte.
constexpr uint16_t kMinMss = 64;
constexpr uint16_t kDefaultMssV4 = 536;   // RFC 879: no option
constexpr uint16_t kDefaultMssV6 = 1220;  // RFC 8200 minimum MTU minus headers

enum class Timer : uint8_t { kNone, kRetransmit, kPersist, kLinger };

}  // namespace

struct TcpEndpoint::Conn {
  TcpConnInfo info;
  Key key;
  FrameAddrs to_guest;
  TcpState state = TcpState::kSynReceived;
  // Send side. sendq holds the bytes from snd_una on: in flight, then unsent.
  uint32_t iss = 0;
  uint32_t snd_una = 0;
  uint32_t snd_nxt = 0;
  uint32_t snd_max = 0;  // highest sequence sent: a retransmission timeout pulls snd_nxt back, not this
  uint32_t snd_wnd = 0;
  uint16_t mss = kDefaultMssV4;
  std::string sendq;
  bool fin_queued = false;  // the application closed
  bool fin_sent = false;    // our FIN lies below snd_nxt (its sequence is snd_una + sendq.size())
  // Receive side. Offsets count in-order bytes from the guest (no wrap).
  uint32_t irs = 0;
  uint32_t rcv_nxt = 0;
  uint64_t rcv_off = 0;
  std::map<uint64_t, std::string> ooo;  // by offset
  size_t ooo_bytes = 0;
  bool fin_pending = false;  // guest FIN seen past a gap
  uint64_t fin_off = 0;
  bool fin_received = false;
  // Timers.
  Timer timer = Timer::kNone;
  core::Timestamp deadline;
  int64_t rto = 0;
  uint32_t retries = 0;
  uint64_t segments_out = 0;
};

struct TcpEndpoint::Event {
  enum class Kind : uint8_t { kFrame, kOpened, kData, kPeerClosed, kClosed };
  Kind kind = Kind::kFrame;
  TcpConnInfo info;
  std::vector<uint8_t> bytes;
  CloseReason reason = CloseReason::kNormal;
};

const char* to_string(TcpState s) {
  switch (s) {
    case TcpState::kSynReceived: return "SYN_RECEIVED";
    case TcpState::kEstablished: return "ESTABLISHED";
    case TcpState::kCloseWait: return "CLOSE_WAIT";
    case TcpState::kFinWait1: return "FIN_WAIT_1";
    case TcpState::kFinWait2: return "FIN_WAIT_2";
    case TcpState::kClosing: return "CLOSING";
    case TcpState::kLastAck: return "LAST_ACK";
    case TcpState::kTimeWait: return "TIME_WAIT";
  }
  return "?";
}

const char* to_string(CloseReason r) {
  switch (r) {
    case CloseReason::kNormal: return "normal";
    case CloseReason::kReset: return "reset";
    case CloseReason::kAborted: return "aborted";
    case CloseReason::kTimeout: return "timeout";
    case CloseReason::kIdle: return "idle";
    case CloseReason::kHandshakeTimeout: return "handshake_timeout";
    case CloseReason::kEvicted: return "evicted";
  }
  return "?";
}

size_t TcpEndpoint::KeyHash::operator()(const Key& k) const {
  uint8_t buf[36];
  std::copy(k.guest.bytes().begin(), k.guest.bytes().end(), buf);
  std::copy(k.server.bytes().begin(), k.server.bytes().end(), buf + 16);
  buf[32] = static_cast<uint8_t>(k.guest_port >> 8);
  buf[33] = static_cast<uint8_t>(k.guest_port);
  buf[34] = static_cast<uint8_t>(k.server_port >> 8);
  buf[35] = static_cast<uint8_t>(k.server_port);
  return static_cast<size_t>(core::hash_bytes(buf, sizeof buf));
}

TcpEndpoint::TcpEndpoint(TcpConfig cfg, TcpSink& sink)
    : cfg_(std::move(cfg)), sink_(sink), rng_(static_cast<std::mt19937::result_type>(cfg_.seed)) {
  // Zero would disable the limits' meaning; keep at least one of each.
  cfg_.max_connections = std::max<uint32_t>(cfg_.max_connections, 1);
  cfg_.max_half_open = std::clamp<uint32_t>(cfg_.max_half_open, 1, cfg_.max_connections);
  cfg_.our_mss = std::max(cfg_.our_mss, kMinMss);
  cfg_.rto_initial_ns = std::max<int64_t>(cfg_.rto_initial_ns, 1000000);
  cfg_.rto_max_ns = std::max(cfg_.rto_max_ns, cfg_.rto_initial_ns);
}

TcpEndpoint::~TcpEndpoint() = default;

uint32_t TcpEndpoint::next_isn() { return cfg_.isn_source ? cfg_.isn_source() : static_cast<uint32_t>(rng_()); }

TcpEndpoint::Conn* TcpEndpoint::find(uint64_t id) {
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : it->second.get();
}
const TcpEndpoint::Conn* TcpEndpoint::find(uint64_t id) const {
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : it->second.get();
}

size_t TcpEndpoint::connection_count() const { return conns_.size(); }
size_t TcpEndpoint::half_open_count() const { return half_open_.size(); }

const TcpConnInfo* TcpEndpoint::info(uint64_t conn) const {
  const Conn* c = find(conn);
  return c ? &c->info : nullptr;
}

bool TcpEndpoint::state(uint64_t conn, TcpState& out) const {
  const Conn* c = find(conn);
  if (!c) return false;
  out = c->state;
  return true;
}

size_t TcpEndpoint::buffered_bytes(uint64_t conn) const {
  const Conn* c = find(conn);
  return c ? c->sendq.size() + c->ooo_bytes : 0;
}

// ------------------------------------------------------------------ output

void TcpEndpoint::flush() {
  if (flushing_) return;  // an application call from inside a callback: the outer loop delivers
  flushing_ = true;
  for (size_t i = 0; i < events_.size(); ++i) {
    Event e = std::move(events_[i]);
    switch (e.kind) {
      case Event::Kind::kFrame: sink_.frame(e.bytes); break;
      case Event::Kind::kOpened: sink_.opened(e.info); break;
      case Event::Kind::kData: sink_.data(e.info, e.bytes); break;
      case Event::Kind::kPeerClosed: sink_.peer_closed(e.info); break;
      case Event::Kind::kClosed: sink_.closed(e.info, e.reason); break;
    }
  }
  events_.clear();
  flushing_ = false;
}

void TcpEndpoint::send_segment(Conn& c, uint32_t seq, uint8_t flags, core::ByteView payload, uint16_t mss_opt) {
  TcpFields t;
  t.sport = c.key.server_port;
  t.dport = c.key.guest_port;
  t.seq = seq;
  t.ack = (flags & kAck) ? c.rcv_nxt : 0;
  t.flags = flags;
  t.window = cfg_.recv_window;
  t.mss = mss_opt;
  Event e;
  e.kind = Event::Kind::kFrame;
  e.bytes = build_tcp_frame(c.to_guest, t, payload);
  events_.push_back(std::move(e));
  ++c.segments_out;
}

void TcpEndpoint::send_ack(Conn& c) { send_segment(c, c.snd_nxt, kAck, {}); }

void TcpEndpoint::send_reset_for(const decode::DecodedPacket& pkt) {
  if (pkt.tcp_flags & kRst) return;  // never answer a RST
  FrameAddrs a = reply_addrs(pkt);
  a.ttl = cfg_.ttl;
  TcpFields t;
  t.sport = pkt.dport;
  t.dport = pkt.sport;
  if (pkt.tcp_flags & kAck) {
    t.seq = pkt.ack;
    t.flags = kRst;
  } else {
    // RFC 793: acknowledge everything the segment occupied.
    t.ack = pkt.seq + pkt.payload_len + ((pkt.tcp_flags & kSyn) ? 1u : 0u) + ((pkt.tcp_flags & kFin) ? 1u : 0u);
    t.flags = kRst | kAck;
  }
  Event e;
  e.kind = Event::Kind::kFrame;
  e.bytes = build_tcp_frame(a, t, {});
  events_.push_back(std::move(e));
  ++counters_.resets_sent;
}

void TcpEndpoint::arm_rto(Conn& c, core::Timestamp now) {
  c.timer = Timer::kRetransmit;
  c.deadline = now + c.rto;
}

// Sends what the guest's window allows, then our FIN when the application
// closed and everything queued went out.
void TcpEndpoint::output(Conn& c, core::Timestamp now) {
  switch (c.state) {
    case TcpState::kEstablished:
    case TcpState::kCloseWait:
    case TcpState::kFinWait1:
    case TcpState::kClosing:
    case TcpState::kLastAck: break;
    default: return;
  }
  size_t sent = std::min<size_t>(c.snd_nxt - c.snd_una, c.sendq.size());
  while (sent < c.sendq.size()) {
    const size_t wnd_left = c.snd_wnd > sent ? c.snd_wnd - sent : 0;
    if (wnd_left == 0) break;
    const size_t n = std::min({size_t{c.mss}, c.sendq.size() - sent, wnd_left});
    const uint8_t flags = kAck | (sent + n == c.sendq.size() ? kPsh : 0);
    send_segment(c, c.snd_una + static_cast<uint32_t>(sent), flags,
                 core::ByteView(reinterpret_cast<const uint8_t*>(c.sendq.data()) + sent, n));
    sent += n;
    c.snd_nxt = c.snd_una + static_cast<uint32_t>(sent);
    if (seq_gt(c.snd_nxt, c.snd_max)) c.snd_max = c.snd_nxt;
  }
  if (c.fin_queued && !c.fin_sent && sent == c.sendq.size()) {
    send_segment(c, c.snd_nxt, kFin | kAck, {});
    c.fin_sent = true;
    ++c.snd_nxt;
    if (seq_gt(c.snd_nxt, c.snd_max)) c.snd_max = c.snd_nxt;
    if (c.state == TcpState::kEstablished) c.state = TcpState::kFinWait1;
    else if (c.state == TcpState::kCloseWait) c.state = TcpState::kLastAck;
  }
  if (c.snd_nxt != c.snd_una) {
    if (c.timer != Timer::kRetransmit) arm_rto(c, now);
  } else if (sent < c.sendq.size() && c.snd_wnd == 0 && c.timer != Timer::kPersist) {
    // Zero window and nothing in flight: probe until the guest opens it.
    c.timer = Timer::kPersist;
    c.deadline = now + c.rto;
  }
}

// ------------------------------------------------------------------ removal

void TcpEndpoint::remove(uint64_t id, bool notify, CloseReason r) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (notify) {
    Event e;
    e.kind = Event::Kind::kClosed;
    e.info = c.info;
    e.reason = r;
    events_.push_back(std::move(e));
  }
  auto k = by_key_.find(c.key);
  if (k != by_key_.end() && k->second == id) by_key_.erase(k);
  half_open_.erase(id);
  time_wait_.erase(id);
  conns_.erase(it);
}

bool TcpEndpoint::make_room(core::Timestamp now) {
  (void)now;
  if (half_open_.size() >= cfg_.max_half_open) {
    ++counters_.evicted_half_open;
    remove(*half_open_.begin(), true, CloseReason::kEvicted);
  }
  if (conns_.size() < cfg_.max_connections) return true;
  if (!time_wait_.empty()) {
    ++counters_.evicted_time_wait;
    remove(*time_wait_.begin(), false, CloseReason::kNormal);  // already reported closed
    return true;
  }
  if (!half_open_.empty()) {
    ++counters_.evicted_half_open;
    remove(*half_open_.begin(), true, CloseReason::kEvicted);
    return true;
  }
  return false;
}

// ------------------------------------------------------------------ input

void TcpEndpoint::on_segment(const decode::DecodedPacket& pkt, core::Timestamp now) {
  if (pkt.ip_proto != decode::ip_proto::kTcp || !pkt.has_l4 ||
      (pkt.l3 != decode::L3::kIpv4 && pkt.l3 != decode::L3::kIpv6) || pkt.src.is_v4() != pkt.dst.is_v4()) {
    ++counters_.not_tcp;
    return;
  }
  const Key key{pkt.src, pkt.dst, pkt.sport, pkt.dport};
  auto it = by_key_.find(key);
  if (it == by_key_.end()) {
    handle_new(pkt, key, now);
  } else {
    Conn& c = *conns_.at(it->second);
    c.info.last_seen = now;
    if (c.state == TcpState::kSynReceived) handle_syn_received(c, pkt, now);
    else handle_synchronized(c, pkt, now);
  }
  flush();
}

void TcpEndpoint::handle_new(const decode::DecodedPacket& pkt, const Key& key, core::Timestamp now) {
  const uint8_t f = pkt.tcp_flags;
  if ((f & (kSyn | kAck | kRst)) != kSyn) {
    ++counters_.stray;
    send_reset_for(pkt);
    return;
  }
  if (cfg_.rst_ports.count(pkt.dport) != 0) {
    ++counters_.refused;
    send_reset_for(pkt);
    return;
  }
  if (!make_room(now)) {
    ++counters_.table_full;
    return;  // the guest retries its SYN; answering would need the state we lack
  }
  auto owned = std::make_unique<Conn>();
  Conn& c = *owned;
  c.info.id = next_id_++;
  c.info.guest_ip = pkt.src;
  c.info.server_ip = pkt.dst;
  c.info.guest_port = pkt.sport;
  c.info.server_port = pkt.dport;
  c.info.first_seen = now;
  c.info.last_seen = now;
  c.key = key;
  c.to_guest = reply_addrs(pkt);
  c.to_guest.ttl = cfg_.ttl;
  c.iss = next_isn();
  c.snd_una = c.iss;
  c.snd_nxt = c.iss + 1;
  c.snd_max = c.snd_nxt;
  c.snd_wnd = pkt.window;
  const bool v4 = pkt.src.is_v4();
  const uint16_t ours = v4 ? cfg_.our_mss : static_cast<uint16_t>(std::max<int>(cfg_.our_mss - 20, kMinMss));
  const uint16_t theirs = pkt.mss != 0 ? pkt.mss : (v4 ? kDefaultMssV4 : kDefaultMssV6);
  c.mss = std::max(kMinMss, std::min(ours, theirs));
  c.irs = pkt.seq;
  c.rcv_nxt = pkt.seq + 1;  // data on the SYN is not accepted; the guest sends it again
  c.rto = cfg_.rto_initial_ns;
  const uint64_t id = c.info.id;
  conns_.emplace(id, std::move(owned));
  by_key_[key] = id;
  half_open_.insert(id);
  ++counters_.syns;
  send_segment(c, c.iss, kSyn | kAck, {}, ours);
  arm_rto(c, now);
}

void TcpEndpoint::handle_syn_received(Conn& c, const decode::DecodedPacket& pkt, core::Timestamp now) {
  const uint8_t f = pkt.tcp_flags;
  if (f & kRst) {
    if (pkt.seq == c.rcv_nxt) {
      ++counters_.resets_received;
      remove(c.info.id, true, CloseReason::kReset);
    }
    return;
  }
  if (f & kSyn) {
    if ((f & kAck) == 0 && pkt.seq == c.irs) {
      // A repeated SYN gets the very same SYN-ACK.
      ++counters_.syn_retransmits;
      const uint16_t ours = c.key.server.is_v4()
                                ? cfg_.our_mss
                                : static_cast<uint16_t>(std::max<int>(cfg_.our_mss - 20, kMinMss));
      send_segment(c, c.iss, kSyn | kAck, {}, ours);
      return;
    }
    if ((f & kAck) == 0) {
      // A new attempt from the same port replaces the stale half-open one.
      const Key key = c.key;
      remove(c.info.id, true, CloseReason::kEvicted);
      handle_new(pkt, key, now);
      return;
    }
    send_reset_for(pkt);
    return;
  }
  if ((f & kAck) == 0) return;
  if (pkt.ack != c.iss + 1) {
    send_reset_for(pkt);
    return;
  }
  c.state = TcpState::kEstablished;
  half_open_.erase(c.info.id);
  c.snd_una = pkt.ack;
  c.snd_wnd = pkt.window;
  c.timer = Timer::kNone;
  c.retries = 0;
  c.rto = cfg_.rto_initial_ns;
  Event e;
  e.kind = Event::Kind::kOpened;
  e.info = c.info;
  events_.push_back(std::move(e));
  handle_synchronized(c, pkt, now);
}

void TcpEndpoint::handle_synchronized(Conn& c, const decode::DecodedPacket& pkt, core::Timestamp now) {
  const uint8_t f = pkt.tcp_flags;
  const size_t captured = std::min<size_t>(pkt.payload.size(), pkt.payload_len);
  // A segment cut by the snap length: use (and acknowledge) only what we have,
  // and let the guest send the rest and the FIN again.
  const bool truncated = captured < pkt.payload_len;
  const core::ByteView payload = pkt.payload.first(captured);
  const bool fin = (f & kFin) != 0 && !truncated;
  const uint32_t seg_len = static_cast<uint32_t>(payload.size()) + (fin ? 1u : 0u);
  const uint32_t wnd = cfg_.recv_window;

  if (f & kRst) {
    // RFC 5961: only an exact match resets; one elsewhere in the window gets a challenge ACK.
    if (pkt.seq == c.rcv_nxt) {
      ++counters_.resets_received;
      remove(c.info.id, c.state != TcpState::kTimeWait, CloseReason::kReset);
    } else if (c.state != TcpState::kTimeWait && seq_diff(pkt.seq, c.rcv_nxt) > 0 &&
               seq_diff(pkt.seq, c.rcv_nxt) < static_cast<int32_t>(wnd)) {
      send_ack(c);
    }
    return;
  }
  if (f & kSyn) {
    if (c.state == TcpState::kTimeWait && (f & kAck) == 0 && seq_gt(pkt.seq, c.rcv_nxt)) {
      // The guest reuses the port: the lingering entry gives way.
      const Key key = c.key;
      remove(c.info.id, false, CloseReason::kNormal);
      handle_new(pkt, key, now);
      return;
    }
    send_ack(c);  // RFC 5961 challenge ACK
    return;
  }
  bool acceptable = false;
  if (seg_len == 0) {
    acceptable = pkt.seq == c.rcv_nxt || (seq_le(c.rcv_nxt, pkt.seq) && seq_lt(pkt.seq, c.rcv_nxt + wnd));
  } else {
    acceptable = seq_lt(pkt.seq, c.rcv_nxt + wnd) && seq_gt(pkt.seq + seg_len, c.rcv_nxt);
  }
  if (!acceptable) {
    // Old duplicates (a retransmitted FIN in TIME_WAIT included) get our ACK.
    if (seg_len != 0 || seq_lt(pkt.seq, c.rcv_nxt)) send_ack(c);
    if (c.state == TcpState::kTimeWait && (f & kFin)) c.deadline = now + cfg_.linger_ns;
    return;
  }
  if ((f & kAck) == 0) return;

  const uint64_t id = c.info.id;
  if (!process_ack(c, pkt, now)) return;
  if (!find(id)) return;
  const uint64_t before = c.segments_out;
  bool need_ack = false;
  switch (c.state) {
    case TcpState::kEstablished:
    case TcpState::kFinWait1:
    case TcpState::kFinWait2: need_ack = process_data(c, pkt.seq, payload, fin); break;
    default: need_ack = seg_len != 0; break;  // data after the guest's FIN is ignored
  }
  if (c.state == TcpState::kTimeWait) {
    if (c.segments_out == before) send_ack(c);
    return;
  }
  output(c, now);
  if (need_ack && c.segments_out == before) send_ack(c);
}

bool TcpEndpoint::process_ack(Conn& c, const decode::DecodedPacket& pkt, core::Timestamp now) {
  if (seq_gt(pkt.ack, c.snd_max)) {
    send_ack(c);  // acknowledges what we never sent: RFC 793 drops the segment
    return false;
  }
  if (seq_lt(pkt.ack, c.snd_una)) return true;  // old
  const uint32_t acked = pkt.ack - c.snd_una;
  c.snd_wnd = pkt.window;
  if (c.timer == Timer::kPersist) {
    c.retries = 0;  // the guest answers our probes
    if (c.snd_wnd > 0) c.timer = Timer::kNone;
  }
  if (acked == 0) return true;
  const size_t data_acked = std::min<size_t>(acked, c.sendq.size());
  // Only a FIN we sent makes snd_max reach past the data.
  const bool fin_acked = acked > c.sendq.size();
  c.sendq.erase(0, data_acked);
  c.info.bytes_to_guest += data_acked;
  c.snd_una = pkt.ack;
  if (seq_gt(c.snd_una, c.snd_nxt)) {
    // The guest had what a timeout made us take back.
    c.snd_nxt = c.snd_una;
    if (fin_acked) c.fin_sent = true;
  }
  c.retries = 0;
  c.rto = cfg_.rto_initial_ns;
  if (c.snd_nxt == c.snd_una) c.timer = Timer::kNone;
  else arm_rto(c, now);
  if (!fin_acked) return true;
  switch (c.state) {
    case TcpState::kFinWait1: c.state = TcpState::kFinWait2; break;
    case TcpState::kClosing: {
      c.state = TcpState::kTimeWait;
      c.timer = Timer::kLinger;
      c.deadline = now + cfg_.linger_ns;
      time_wait_.insert(c.info.id);
      Event e;
      e.kind = Event::Kind::kClosed;
      e.info = c.info;
      events_.push_back(std::move(e));
      break;
    }
    case TcpState::kLastAck: remove(c.info.id, true, CloseReason::kNormal); break;
    default: break;
  }
  return true;
}

// Delivers in-order bytes, buffers out-of-order ones; returns whether an ACK is due.
bool TcpEndpoint::process_data(Conn& c, uint32_t seq, core::ByteView data, bool fin) {
  if (data.empty() && !fin) return false;
  const int64_t start = static_cast<int64_t>(c.rcv_off) + seq_diff(seq, c.rcv_nxt);
  const int64_t end = start + static_cast<int64_t>(data.size());
  const int64_t win_end = static_cast<int64_t>(c.rcv_off) + cfg_.recv_window;
  const int64_t lo = std::max(start, static_cast<int64_t>(c.rcv_off));
  int64_t hi = std::min(end, win_end);
  if (c.fin_pending) hi = std::min(hi, static_cast<int64_t>(c.fin_off));  // nothing exists past the FIN
  auto deliver = [&](core::ByteView bytes) {
    Event e;
    e.kind = Event::Kind::kData;
    e.info = c.info;
    e.info.bytes_from_guest += bytes.size();
    e.bytes.assign(bytes.begin(), bytes.end());
    events_.push_back(std::move(e));
    c.rcv_off += bytes.size();
    c.rcv_nxt += static_cast<uint32_t>(bytes.size());
    c.info.bytes_from_guest += bytes.size();
  };
  if (hi > lo) {
    const auto piece = data.subspan(static_cast<size_t>(lo - start), static_cast<size_t>(hi - lo));
    if (lo == static_cast<int64_t>(c.rcv_off)) {
      deliver(piece);
      // Drain the out-of-order segments the new bytes reached.
      while (!c.ooo.empty() && c.ooo.begin()->first <= c.rcv_off) {
        auto node = c.ooo.extract(c.ooo.begin());
        c.ooo_bytes -= node.mapped().size();
        const uint64_t seg_end = node.key() + node.mapped().size();
        if (seg_end > c.rcv_off) {
          const size_t skip = static_cast<size_t>(c.rcv_off - node.key());
          const auto* p = reinterpret_cast<const uint8_t*>(node.mapped().data());
          deliver(core::ByteView(p + skip, node.mapped().size() - skip));
        }
      }
    } else {
      const auto key = static_cast<uint64_t>(lo);
      auto it = c.ooo.find(key);
      const size_t have = it == c.ooo.end() ? 0 : it->second.size();
      if (piece.size() > have) {
        const size_t extra = piece.size() - have;
        if (c.ooo_bytes + extra > cfg_.max_ooo_bytes || (have == 0 && c.ooo.size() >= cfg_.max_ooo_segments)) {
          ++counters_.ooo_dropped;
        } else {
          c.ooo[key].assign(reinterpret_cast<const char*>(piece.data()), piece.size());
          c.ooo_bytes += extra;
        }
      }
    }
  }
  if (fin && end <= win_end && !c.fin_pending) {
    c.fin_pending = true;
    c.fin_off = static_cast<uint64_t>(std::max<int64_t>(end, 0));
  }
  if (c.fin_pending && !c.fin_received && c.fin_off == c.rcv_off) {
    c.fin_received = true;
    ++c.rcv_nxt;
    // Bytes buffered beyond the FIN are the guest's error; forget them.
    c.ooo.clear();
    c.ooo_bytes = 0;
    Event e;
    e.kind = Event::Kind::kPeerClosed;
    e.info = c.info;
    events_.push_back(std::move(e));
    if (c.state == TcpState::kEstablished) {
      c.state = TcpState::kCloseWait;
    } else if (c.state == TcpState::kFinWait1) {
      c.state = TcpState::kClosing;
    } else if (c.state == TcpState::kFinWait2) {
      c.state = TcpState::kTimeWait;
      c.timer = Timer::kLinger;
      c.deadline = c.info.last_seen + cfg_.linger_ns;
      time_wait_.insert(c.info.id);
      Event closed;
      closed.kind = Event::Kind::kClosed;
      closed.info = c.info;
      events_.push_back(std::move(closed));
    }
  }
  return true;
}

// ------------------------------------------------------------------ timers

core::Timestamp TcpEndpoint::next_deadline() const {
  core::Timestamp best{INT64_MAX};
  for (const auto& [id, c] : conns_) {
    if (c->timer != Timer::kNone) best = std::min(best, c->deadline);
    if (c->state != TcpState::kTimeWait) best = std::min(best, c->info.last_seen + cfg_.idle_timeout_ns);
  }
  return best;
}

void TcpEndpoint::on_timer(core::Timestamp now) {
  std::vector<uint64_t> due;
  for (const auto& [id, c] : conns_) {
    const bool timer_due = c->timer != Timer::kNone && c->deadline <= now;
    const bool idle = c->state != TcpState::kTimeWait && now - c->info.last_seen >= cfg_.idle_timeout_ns;
    if (timer_due || idle) due.push_back(id);
  }
  std::sort(due.begin(), due.end());  // creation order: deterministic output
  for (uint64_t id : due) {
    Conn* cp = find(id);
    if (!cp) continue;
    Conn& c = *cp;
    const auto abort_with = [&](CloseReason r) {
      send_segment(c, c.snd_nxt, kRst | kAck, {});
      ++counters_.resets_sent;
      remove(id, true, r);
    };
    if (c.state != TcpState::kTimeWait && now - c.info.last_seen >= cfg_.idle_timeout_ns) {
      if (c.state == TcpState::kSynReceived) remove(id, true, CloseReason::kHandshakeTimeout);
      else abort_with(CloseReason::kIdle);
      continue;
    }
    switch (c.timer) {
      case Timer::kNone: break;
      case Timer::kLinger: remove(id, false, CloseReason::kNormal); break;
      case Timer::kRetransmit:
        if (c.state == TcpState::kSynReceived) {
          if (c.retries >= cfg_.max_synack_retransmits) {
            remove(id, true, CloseReason::kHandshakeTimeout);
            break;
          }
          const uint16_t ours = c.key.server.is_v4()
                                    ? cfg_.our_mss
                                    : static_cast<uint16_t>(std::max<int>(cfg_.our_mss - 20, kMinMss));
          send_segment(c, c.iss, kSyn | kAck, {}, ours);
        } else {
          if (c.retries >= cfg_.max_retransmits) {
            abort_with(CloseReason::kTimeout);
            break;
          }
          // Go back to the oldest unacknowledged byte and send one segment;
          // the rest follows as the guest acknowledges (output()).
          c.snd_nxt = c.snd_una;
          c.fin_sent = false;
          if (c.snd_wnd == 0 && !c.sendq.empty()) {
            // The window closed under data in flight: probe instead, so a
            // live guest that keeps it closed is not given up on.
            send_segment(c, c.snd_una - 1, kAck, {});
            ++counters_.zero_window_probes;
            ++c.retries;
            c.rto = std::min(c.rto * 2, cfg_.rto_max_ns);
            c.timer = Timer::kPersist;
            c.deadline = now + c.rto;
            break;
          }
          if (!c.sendq.empty()) {
            const size_t n = std::min<size_t>(c.mss, c.sendq.size());
            send_segment(c, c.snd_una, kAck | (n == c.sendq.size() ? kPsh : 0),
                         core::ByteView(reinterpret_cast<const uint8_t*>(c.sendq.data()), n));
            c.snd_nxt = c.snd_una + static_cast<uint32_t>(n);
          } else if (c.fin_queued) {
            send_segment(c, c.snd_una, kFin | kAck, {});
            c.fin_sent = true;
            c.snd_nxt = c.snd_una + 1;
          }
        }
        ++counters_.retransmits;
        ++c.retries;
        c.rto = std::min(c.rto * 2, cfg_.rto_max_ns);
        c.deadline = now + c.rto;
        break;
      case Timer::kPersist:
        if (c.retries >= cfg_.max_retransmits) {
          abort_with(CloseReason::kTimeout);
          break;
        }
        // An already-acknowledged sequence number makes the guest answer
        // with its current window without us committing new data.
        send_segment(c, c.snd_nxt - 1, kAck, {});
        ++counters_.zero_window_probes;
        ++c.retries;
        c.rto = std::min(c.rto * 2, cfg_.rto_max_ns);
        c.deadline = now + c.rto;
        break;
    }
  }
  flush();
}

// ------------------------------------------------------------------ application

size_t TcpEndpoint::send(uint64_t conn, core::ByteView bytes, core::Timestamp now) {
  Conn* c = find(conn);
  if (!c || c->fin_queued || (c->state != TcpState::kEstablished && c->state != TcpState::kCloseWait)) return 0;
  const size_t room = cfg_.max_send_queue > c->sendq.size() ? cfg_.max_send_queue - c->sendq.size() : 0;
  const size_t n = std::min(room, bytes.size());
  counters_.send_truncated += bytes.size() - n;
  c->sendq.append(reinterpret_cast<const char*>(bytes.data()), n);
  output(*c, now);
  flush();
  return n;
}

void TcpEndpoint::close(uint64_t conn, core::Timestamp now) {
  Conn* c = find(conn);
  if (!c || c->fin_queued || (c->state != TcpState::kEstablished && c->state != TcpState::kCloseWait)) return;
  c->fin_queued = true;
  output(*c, now);
  flush();
}

void TcpEndpoint::abort(uint64_t conn, core::Timestamp now) {
  (void)now;
  Conn* c = find(conn);
  if (!c || c->state == TcpState::kTimeWait) return;
  send_segment(*c, c->snd_nxt, kRst | kAck, {});
  ++counters_.resets_sent;
  remove(conn, true, CloseReason::kAborted);
  flush();
}

}  // namespace trawl::sinkhole

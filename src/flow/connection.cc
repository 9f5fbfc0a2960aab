// Per-connection logic, written from a reading of Zeek's sources (TCP
// session adapter, TCP_Endpoint, UDP/ICMP analyzers, Conn.cc and
// base/protocols/conn/main.zeek). Comments name the Zeek function whose
// behaviour a block reproduces, so differences can be checked against it.
#include "flow/connection.h"

#include <algorithm>
#include <limits>

#include "core/community_id.h"
#include "core/hash.h"
#include "flow/conn_uid.h"
#include "flow/flow_table.h"
#include "flow/server_ports.h"

namespace trawl::flow {

namespace tf = decode::tcp_flag;

namespace {

// History bits (Zeek's HIST_* codes); the responder's bits are shifted left
// by 16 so both roles fit in one word, as Zeek's Connection::hist_seen.
constexpr uint32_t kHistSyn = 0x1;
constexpr uint32_t kHistFin = 0x2;
constexpr uint32_t kHistRst = 0x4;
constexpr uint32_t kHistFinRst = 0x8;
constexpr uint32_t kHistData = 0x10;
constexpr uint32_t kHistAck = 0x20;
constexpr uint32_t kHistMultiFlag = 0x40;

// Zeek ignores SYN/RST sequence numbers that jump further than this.
constexpr int32_t kTooLargeSeqDelta = 1048576;

int32_t seq_delta(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_handshake(TcpState s) {
  return s == TcpState::kInactive || s == TcpState::kSynSent || s == TcpState::kSynAckSent;
}

// Zeek's TCP_Reassembler::is_clean: gaps are only reported while both sides
// are established (or closing after having been established).
bool is_clean(const Endpoint& e) {
  return e.state == TcpState::kEstablished ||
         (e.state == TcpState::kClosed && e.prev_state == TcpState::kEstablished);
}

// Any total order works for the canonical key; comparing two native words is
// cheaper than a byte-wise comparison.
bool less_side(const core::IpAddress& a, uint16_t pa, const core::IpAddress& b, uint16_t pb) {
  uint64_t x[2];
  uint64_t y[2];
  std::memcpy(x, a.bytes().data(), 16);
  std::memcpy(y, b.bytes().data(), 16);
  if (x[0] != y[0]) return x[0] < y[0];
  if (x[1] != y[1]) return x[1] < y[1];
  return pa < pb;
}

// Zeek leaves a new connection's roles as the first packet has them, except
// when that packet's source port is a "likely server port" and the
// destination port is not (IPBasedAnalyzer::NewConn + WantConnection).
// Newer Zeek does not flip towards a broadcast/multicast destination
// (zeek/zeek#3235), which would make the group address the originator.
bool dst_is_group(const core::IpAddress& a) {
  const auto& b = a.bytes();
  if (a.is_v4()) return b[12] >= 224;  // multicast 224/4, 240/4 and 255.255.255.255
  return b[0] == 0xff;
}

int64_t add_ns(int64_t t, int64_t d) {
  if (d <= 0) return t;
  return t > kNever - d ? kNever : t + d;
}

}  // namespace

PacketKey make_packet_key(const decode::DecodedPacket& pkt) {
  PacketKey pk;
  pk.transport = transport_of(pkt.ip_proto);
  uint16_t sport = 0;
  uint16_t dport = 0;
  bool one_way = false;
  switch (pk.transport) {
    case Transport::kTcp:
    case Transport::kUdp:
      sport = pkt.sport;
      dport = pkt.dport;
      break;
    case Transport::kIcmp: {
      // Zeek's ICMP conn_id: orig_p = type, resp_p = counterpart type (or the
      // code for one-way messages), so a request and its reply share a key.
      auto type = static_cast<uint8_t>(pkt.sport);
      auto code = static_cast<uint8_t>(pkt.dport);
      IcmpCounterpart cp = icmp_counterpart(pkt.ip_proto == decode::ip_proto::kIcmpv6, type, code);
      sport = type;
      dport = cp.port;
      one_way = cp.one_way;
      break;
    }
    case Transport::kOther: break;
  }
  bool src_first = one_way || !less_side(pkt.dst, dport, pkt.src, sport);
  const core::IpAddress& a0 = src_first ? pkt.src : pkt.dst;
  const core::IpAddress& a1 = src_first ? pkt.dst : pkt.src;
  std::memcpy(pk.key.addr[0], a0.bytes().data(), 16);
  std::memcpy(pk.key.addr[1], a1.bytes().data(), 16);
  pk.key.port[0] = src_first ? sport : dport;
  pk.key.port[1] = src_first ? dport : sport;
  pk.key.proto = pkt.ip_proto;
  pk.key.v6 = pkt.src.is_v6() ? 1 : 0;
  pk.key.pad = 0;
  pk.src_side = src_first ? 0 : 1;
  return pk;
}

core::IpAddress key_address(const FlowKey& key, uint8_t side) {
  return key.v6 ? core::IpAddress::v6(key.addr[side]) : core::IpAddress::v4(key.addr[side] + 12);
}

// ---------------------------------------------------------------------------
// Setup and role decisions

void Connection::init(const PacketKey& pk, const decode::DecodedPacket& pkt, core::Timestamp t,
                      const FlowConfig& cfg) {
  std::string keep = std::move(history_);  // reuse the slab entry's buffer
  keep.clear();
  *this = Connection{};
  history_ = std::move(keep);

  key_ = pk.key;
  transport_ = pk.transport;
  orig_side_ = pk.src_side;
  first_src_side_ = pk.src_side;
  first_type_ = static_cast<uint8_t>(pkt.sport);
  first_code_ = static_cast<uint8_t>(pkt.dport);
  first_sport_ = pkt.sport;
  first_dport_ = pkt.dport;
  start_ = last_ = seen_last_ = t;
  first_index_ = pkt.index;
  if (pkt.vlan_count >= 1) {
    has_vlan_ = true;
    vlan_ = pkt.vlan[0];
  }
  if (pkt.vlan_count >= 2) {
    has_inner_vlan_ = true;
    inner_vlan_ = pkt.vlan[1];
  }

  bool flip = false;
  switch (transport_) {
    case Transport::kTcp: {
      // TCPAnalyzer::WantConnection: only a first packet without SYN, or a
      // SYN-ACK, may flip. If both ports look like servers, flip only a
      // non-SYN packet going to the higher port; a lone SYN-ACK from a
      // server port to a non-server port is flipped (history "^h").
      uint8_t f = pkt.tcp_flags;
      if (!(f & tf::kSyn) || (f & tf::kAck)) {
        if (is_likely_server_port(pkt.ip_proto, pkt.sport)) {
          if (is_likely_server_port(pkt.ip_proto, pkt.dport)) {
            flip = !(f & tf::kSyn) && pkt.sport < pkt.dport;
          } else {
            flip = true;
          }
        }
      }
      if (flip && dst_is_group(pkt.dst)) flip = false;
      break;
    }
    case Transport::kUdp:
      // UDPAnalyzer::WantConnection.
      flip = is_likely_server_port(pkt.ip_proto, pkt.sport) && !is_likely_server_port(pkt.ip_proto, pkt.dport) &&
             !dst_is_group(pkt.dst);
      break;
    case Transport::kIcmp:
      // Zeek never flips ICMP; optional heuristic (see FlowConfig).
      flip = cfg.flip_icmp_replies && icmp_is_reply(pkt.ip_proto == decode::ip_proto::kIcmpv6, first_type_);
      break;
    case Transport::kOther: break;
  }
  if (flip) flip_roles();
}

void Connection::flip_roles() {
  // Connection::FlipRoles: swap the roles and note it; letters already in
  // the history keep their case, and which history bits are set is not
  // swapped either.
  orig_side_ ^= 1;
  add_history('^');
}

bool Connection::check_history(uint8_t side, uint32_t mask, char code) {
  // Connection::CheckHistory: returns true if the letter was already there.
  if (side != orig_side_) {
    mask <<= 16;
    code = lower(code);
  }
  if ((hist_seen_ & mask) == 0) {
    hist_seen_ |= mask;
    add_history(code);
    return false;
  }
  return true;
}

void Connection::scaled_history(uint8_t side, ScaledCounter& c, char code) {
  // Connection::ScaledHistoryEntry with base 10.
  if (++c.count == c.threshold) {
    add_history(side == orig_side_ ? code : lower(code));
    uint32_t next = c.threshold * 10;
    if (next <= c.threshold) {
      c.count = 0;
    } else {
      c.threshold = next;
    }
  }
}

void Connection::count_packet(Endpoint& ep, const decode::DecodedPacket& pkt) {
  // ConnSize_Analyzer: IP total length; a reassembled datagram is one packet
  // with the datagram's length.
  ++ep.pkts;
  ep.ip_bytes += pkt.ip_len;
  if (transport_ == Transport::kTcp) {
    if (!ep.seen) ep.first_flags = pkt.tcp_flags;
    ep.flags = static_cast<uint8_t>(ep.flags | pkt.tcp_flags);
  }
  ep.seen = true;
}

// ---------------------------------------------------------------------------
// Packets

void Connection::packet(const decode::DecodedPacket& pkt, uint8_t side, core::Timestamp t, const FlowConfig& cfg) {
  if (t > seen_last_) seen_last_ = t;
  Endpoint& ep = ep_[side];
  switch (transport_) {
    case Transport::kTcp:
      if (pkt.bad_checksum) {
        // TCPAnalyzer::ValidateChecksum: 'C' and nothing else; the packet
        // is neither counted nor analysed.
        scaled_history(side, ep.chk, 'C');
        return;
      }
      tcp_packet(pkt, side, t, cfg);
      count_packet(ep, pkt);
      return;
    case Transport::kUdp:
      if (pkt.bad_checksum) {
        scaled_history(side, ep.chk, 'C');  // UDPSessionAdapter::HandleBadChecksum
        return;
      }
      last_ = t;
      ep.app_bytes = std::max<int64_t>(ep.app_bytes, 0) + pkt.payload_len;
      check_history(side, kHistData, 'D');
      count_packet(ep, pkt);
      return;
    case Transport::kIcmp:
      // ICMPAnalyzer::DeliverPacket drops a bad checksum without a history
      // letter. Bytes are the ICMP payload after the 8-byte header (the
      // decoder's payload_len).
      if (pkt.bad_checksum) return;
      last_ = t;
      ep.app_bytes = std::max<int64_t>(ep.app_bytes, 0) + pkt.payload_len;
      count_packet(ep, pkt);
      return;
    case Transport::kOther:
      last_ = t;
      ep.app_bytes = std::max<int64_t>(ep.app_bytes, 0) + pkt.payload_len;
      count_packet(ep, pkt);
      return;
  }
}

// ---------------------------------------------------------------------------
// TCP (TCPSessionAdapter::Process and its helpers)

namespace {

// get_relative_seq: sequence number relative to the endpoint's initial one,
// in a 64-bit space that follows wraparounds.
// Always inlined: called twice per TCP packet, and the call cost as much as
// the work.
[[gnu::always_inline]] inline uint64_t relative_seq(const Endpoint& e, uint32_t cur, uint32_t last, uint32_t wraps,
                                                    bool* underflow) {
  int32_t delta = seq_delta(cur, last);
  if (delta < 0) {
    if (wraps && cur > last) --wraps;
  } else if (delta > 0) {
    if (cur < last) ++wraps;
  }
  if (wraps == 0) {
    delta = seq_delta(cur, static_cast<uint32_t>(e.start_seq));
    if (underflow && delta < 0) *underflow = true;
    return static_cast<uint64_t>(static_cast<int64_t>(delta));
  }
  return ((static_cast<uint64_t>(wraps) << 32) + cur) - static_cast<uint64_t>(e.start_seq);
}

void update_last(Endpoint& e, uint32_t seq) {
  if (seq < e.last_seq) ++e.seq_wraps;
  e.last_seq = seq;
}

void update_ack(Endpoint& e, uint32_t ack) {
  int32_t delta = seq_delta(ack, e.ack_seq);
  if (ack == 0 && delta > kTooLargeSeqDelta) return;  // a broken ack, not a wrap to 0
  if (delta > 0) {
    if (ack < e.ack_seq) ++e.ack_wraps;
    e.ack_seq = ack;
  }
}

// init_endpoint: sequence bookkeeping for the sender's first packet, and
// re-initialisation on SYNs that restart it.
void init_endpoint(Endpoint& e, uint8_t flags, uint32_t seq, uint32_t one_past) {
  bool syn = flags & tf::kSyn;
  switch (e.state) {
    case TcpState::kInactive:
      if (syn) {
        e.ack_seq = seq;
        e.start_seq = seq;
        e.last_seq = one_past;
      } else {
        // Mid-stream: pretend a SYN came just before, so relative numbers
        // and sizes stay consistent.
        e.ack_seq = seq - 1;
        e.start_seq = static_cast<uint32_t>(seq - 1);
        e.last_seq = seq;
      }
      break;
    case TcpState::kSynSent:
    case TcpState::kSynAckSent:
      if (syn && seq != static_cast<uint32_t>(e.start_seq)) {
        e.start_seq = seq;
        e.ack_seq = seq;
        e.last_seq = one_past;
      }
      break;
    case TcpState::kEstablished:
    case TcpState::kPartial:
      if (syn) {
        e.start_seq = seq;
        e.ack_seq = seq;
        e.last_seq = one_past;
      }
      break;
    case TcpState::kReset:
      if (syn && e.prev_state == TcpState::kInactive) {
        e.start_seq = seq;
        e.ack_seq = seq;
        e.last_seq = one_past;
      }
      break;
    case TcpState::kClosed: break;
  }
}

}  // namespace

void Connection::tcp_packet(const decode::DecodedPacket& pkt, uint8_t side, core::Timestamp t,
                            const FlowConfig& cfg) {
  Endpoint& ep = ep_[side];
  Endpoint& peer = ep_[side ^ 1];
  const bool is_orig = side == orig_side_;  // as before any flip below, like Zeek's local
  const uint8_t f = pkt.tcp_flags;
  const bool syn = f & tf::kSyn;
  const bool fin = f & tf::kFin;
  const bool rst = f & tf::kRst;
  const bool ack = f & tf::kAck;
  const auto len = static_cast<int32_t>(std::min<uint32_t>(pkt.payload_len, 0x7fffffff));
  const uint32_t seq = pkt.seq;

  // get_segment_len: SYN and FIN take one sequence number each; a RST's
  // payload is not part of the stream.
  int32_t seg_len = len + (syn ? 1 : 0) + (fin ? 1 : 0);
  if (rst) seg_len -= len;
  const uint32_t one_past = seq + static_cast<uint32_t>(seg_len);

  init_endpoint(ep, f, seq, one_past);
  uint64_t rel_seq = relative_seq(ep, seq, ep.last_seq, ep.seq_wraps, nullptr);

  tcp_update_history(side, f, rel_seq, len);

  // update_window: a zero window is interesting unless it comes with or after
  // a RST, or after the peer has closed.
  if (pkt.window == 0 && !rst && peer.state != TcpState::kClosed && ep.state != TcpState::kReset) {
    scaled_history(side, ep.win0, 'W');
  }

  // Once both sides have closed, trailing packets no longer extend the
  // connection's last time (and so its duration).
  if (!ep_[0].did_close || !ep_[1].did_close) last_ = t;

  if (fin) ++ep.fin_cnt;

  if (ack) {
    if (peer.state == TcpState::kInactive) {
      // init_peer: number the silent peer's stream from what we acknowledge.
      peer.start_seq = static_cast<uint32_t>(pkt.ack - 1);
      peer.ack_seq = pkt.ack - 1;
      peer.last_seq = pkt.ack - 1;
    } else {
      bool ack_underflow = false;
      relative_seq(peer, pkt.ack, peer.ack_seq, peer.ack_wraps, &ack_underflow);
      if (!ack_underflow && !rst) update_ack(peer, pkt.ack);  // RST acks are not trusted
    }
  }

  tcp_update_last_seq(side, one_past, f, len);

  bool do_close = tcp_state_machine(side, is_orig, seq, len, f, t, cfg);

  if (do_close) tcp_connection_closed(side, cfg);
}

void Connection::content_gap(uint8_t side, uint64_t bytes) {
  if (bytes == 0 || !is_clean(ep_[0]) || !is_clean(ep_[1])) return;
  missed_bytes_ += bytes;
  scaled_history(side, ep_[side].gap, 'G');
}

void Connection::tcp_update_history(uint8_t side, uint8_t flags, uint64_t rel_seq, int32_t len) {
  // update_history: S/H/F/R are repeated when the sequence number differs
  // from the last one of that kind; D and A are recorded once per side.
  Endpoint& ep = ep_[side];
  const bool syn = flags & tf::kSyn;
  const bool fin = flags & tf::kFin;
  const bool rst = flags & tf::kRst;
  int bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
  if (bits > 1) {
    if (fin && rst) {
      check_history(side, kHistFinRst, 'I');
    } else {
      check_history(side, kHistMultiFlag, 'Q');
    }
    return;
  }
  if (bits == 1) {
    if (syn) {
      char code = (flags & tf::kAck) ? 'H' : 'S';
      if (check_history(side, kHistSyn, code) && rel_seq != ep.hist_last_syn) {
        add_history(side == orig_side_ ? code : lower(code));
      }
      ep.hist_last_syn = rel_seq;
    }
    if (fin) {
      // A FIN's sequence number counts from the end of its data.
      uint64_t fin_seq = rel_seq + static_cast<uint64_t>(len);
      if (check_history(side, kHistFin, 'F') && fin_seq != ep.hist_last_fin) {
        add_history(side == orig_side_ ? 'F' : 'f');
      }
      ep.hist_last_fin = fin_seq;
    }
    if (rst) {
      if (check_history(side, kHistRst, 'R') && rel_seq != ep.hist_last_rst) {
        add_history(side == orig_side_ ? 'R' : 'r');
      }
      ep.hist_last_rst = rel_seq;
    }
    return;
  }
  if (len > 0) {
    check_history(side, kHistData, 'D');
  } else if (flags & tf::kAck) {
    check_history(side, kHistAck, 'A');
  }
}

int32_t Connection::tcp_update_last_seq(uint8_t side, uint32_t last_seq, uint8_t flags, int32_t len) {
  // update_last_seq: advances the highest sequence number; payload at or
  // below it is a retransmission ('T').
  Endpoint& ep = ep_[side];
  int32_t delta = seq_delta(last_seq, ep.last_seq);
  if ((flags & (tf::kSyn | tf::kRst)) && (delta > kTooLargeSeqDelta || delta < -kTooLargeSeqDelta)) {
    // SYN/RST with an outlandish sequence number: ignored.
  } else if ((flags & tf::kFin) && ep.last_seq == static_cast<uint32_t>(ep.start_seq) + 1) {
    update_last(ep, last_seq);  // only SYN and FIN seen: trust the FIN (> 2 GB streams)
  } else if (ep.state == TcpState::kReset) {
    // Nothing after a RST is trusted.
  } else if (delta > 0) {
    update_last(ep, last_seq);
  } else if (len > 0) {
    scaled_history(side, ep.rxmt, 'T');
  }
  return delta;
}

void Connection::tcp_set_state(uint8_t side, TcpState s) {
  // TCP_Endpoint::SetState: the inactivity timeout switches from
  // udp_inactivity_timeout to tcp_inactivity_timeout when the handshake ends.
  Endpoint& e = ep_[side];
  if (s == e.state) return;
  if (!is_handshake(s) && is_handshake(e.state) && is_handshake(ep_[side ^ 1].state)) tcp_long_timeout_ = true;
  e.prev_state = e.state;
  e.state = s;
}

bool Connection::tcp_state_machine(uint8_t side, bool is_orig, uint32_t seq, int32_t len, uint8_t flags,
                                   core::Timestamp t, const FlowConfig& cfg) {
  // TCPSessionAdapter::UpdateStateMachine and its Update*State helpers
  // (weird-only branches left out). Returns whether the sender closed.
  Endpoint& ep = ep_[side];
  const uint8_t peer_side = side ^ 1;
  Endpoint& peer = ep_[peer_side];
  const bool syn = flags & tf::kSyn;
  const bool fin = flags & tf::kFin;
  const bool rst = flags & tf::kRst;
  const bool ack = flags & tf::kAck;
  bool do_close = false;

  switch (ep.state) {
    case TcpState::kInactive:
      if (syn) {
        if (is_orig) {
          tcp_set_state(side, ack ? TcpState::kSynAckSent : TcpState::kSynSent);
          // AttemptTimer: ends the connection tcp_attempt_delay later if the
          // responder is still silent then.
          if (cfg.tcp_attempt_delay_ns > 0 && !attempt_armed_) {
            attempt_armed_ = true;
            attempt_deadline_ = add_ns(t.ns, cfg.tcp_attempt_delay_ns);
          }
        } else {
          if (!ack && peer.state == TcpState::kSynAckSent && seq == static_cast<uint32_t>(ep.start_seq)) {
            // The SYN-ACK was seen before its SYN (e.g. two capture
            // interfaces): flip and establish.
            flip_roles();
            tcp_set_state(peer_side, TcpState::kEstablished);
          }
          if (peer.state == TcpState::kSynSent) tcp_set_state(peer_side, TcpState::kEstablished);
          tcp_set_state(side, TcpState::kEstablished);
        }
      }
      if (fin) {
        tcp_set_state(side, TcpState::kClosed);
        do_close = true;
      }
      if (rst) {
        tcp_set_state(side, TcpState::kReset);
        do_close = true;
      }
      if (ep.state == TcpState::kInactive) {
        const Endpoint& orig = ep_[orig_side_];
        if (!is_orig && len == 0 && orig.state == TcpState::kSynSent) {
          // A bare ACK of the SYN before the SYN-ACK: not a partial connection.
        } else if (ack && peer.state == TcpState::kEstablished) {
          tcp_set_state(side, TcpState::kEstablished);  // SYN-ACK seen, SYN missed
        } else {
          tcp_set_state(side, TcpState::kPartial);
        }
      }
      break;

    case TcpState::kSynSent:
    case TcpState::kSynAckSent:
      if (fin) {
        tcp_set_state(side, TcpState::kClosed);
        do_close = true;
      }
      if (rst) {
        tcp_set_state(side, TcpState::kReset);
        do_close = true;
      }
      break;

    case TcpState::kEstablished:
    case TcpState::kPartial:
      if (syn && ep.state == TcpState::kPartial && peer.state == TcpState::kInactive && !ack) {
        tcp_set_state(side, TcpState::kSynSent);
      }
      if (fin && !rst) {
        tcp_set_state(side, TcpState::kClosed);
        // FIN then RST from the peer was a normal close after all.
        if (peer.state == TcpState::kReset && peer.prev_state == TcpState::kClosed) {
          tcp_set_state(peer_side, TcpState::kClosed);
        }
        do_close = true;
      }
      if (rst) {
        tcp_set_state(side, TcpState::kReset);
        do_close = true;
      }
      break;

    case TcpState::kClosed:
      // A RST after our own FIN, unless the peer has closed too.
      if (rst && peer.state != TcpState::kClosed) {
        tcp_set_state(side, TcpState::kReset);
        if (!ep.did_close) do_close = true;
        // ResetTimer (tcp_reset_delay).
        int64_t d = add_ns(t.ns, cfg.tcp_reset_delay_ns);
        if (closing_ == 0) {
          closing_ = 2;
          close_deadline_ = d;
        } else {
          close_deadline_ = std::min(close_deadline_, d);
        }
      }
      break;

    case TcpState::kReset: break;
  }
  return do_close;
}

void Connection::tcp_connection_closed(uint8_t side, const FlowConfig& cfg) {
  // TCPSessionAdapter::ConnectionClosed (no reassembly, so no deferral):
  // once the close is complete, all timers are replaced by one that removes
  // the connection tcp_close_delay after its last time.
  Endpoint& ep = ep_[side];
  const Endpoint& peer = ep_[side ^ 1];
  if (ep.did_close) return;
  ep.did_close = true;
  bool complete = ep.state == TcpState::kReset || peer.did_close || peer.state == TcpState::kInactive;
  if (complete) {
    closing_ = 1;
    close_deadline_ = add_ns(last_.ns, cfg.tcp_close_delay_ns);
  }
}

bool Connection::is_tcp_reuse(const decode::DecodedPacket& pkt) const {
  const uint8_t f = pkt.tcp_flags;
  if (!(f & tf::kSyn)) return false;
  const Endpoint& orig = ep_[orig_side_];
  const Endpoint& resp = ep_[orig_side_ ^ 1];
  const Endpoint* conn_orig = &orig;
  if (f & tf::kAck) {
    if (orig.state != TcpState::kInactive) return false;  // a SYN-ACK only restarts half connections
    conn_orig = &resp;
  }
  bool closed = orig.did_close || resp.did_close;
  if (!closed) {
    if (pkt.seq == static_cast<uint32_t>(conn_orig->start_seq)) return false;  // retransmission
    if (!(f & tf::kAck) && conn_orig->state == TcpState::kSynAckSent && resp.state == TcpState::kInactive &&
        pkt.seq == static_cast<uint32_t>(resp.start_seq)) {
      return false;  // the SYN of a SYN-ACK seen first; the state machine flips
    }
  }
  return true;
}

uint64_t Connection::tcp_size_side(uint8_t side) const {
  // TCP_Endpoint::Size: the sequence space the endpoint used (highest sent
  // or acknowledged), minus SYN and FIN.
  const Endpoint& e = ep_[side];
  const Endpoint& peer = ep_[side ^ 1];
  uint64_t ack64 = (static_cast<uint64_t>(e.ack_wraps) << 32) + e.ack_seq;
  uint64_t start = static_cast<uint64_t>(e.start_seq);
  bool no_data_acked = ack64 == start || ack64 == start + 1;
  if (e.prev_state == TcpState::kSynSent && e.state == TcpState::kReset && peer.state == TcpState::kInactive &&
      !no_data_acked) {
    return 0;  // a half-open connection that was aborted
  }
  uint64_t last64 = (static_cast<uint64_t>(e.seq_wraps) << 32) + e.last_seq;
  uint64_t size = std::max(last64, ack64) - start;
  if (size != 0) --size;
  if (e.fin_cnt > 0 && size != 0) --size;
  return size;
}

// ---------------------------------------------------------------------------
// Timers and the record

TimerClass Connection::timer(const FlowConfig& cfg, int64_t& deadline) const {
  auto idle = [&](int64_t timeout) { return timeout > 0 ? add_ns(last_.ns, timeout) : kNever; };
  switch (transport_) {
    case Transport::kTcp: {
      if (closing_ != 0) {
        deadline = close_deadline_;
        return closing_ == 1 ? TimerClass::kTcpClose : TimerClass::kTcpReset;
      }
      const Endpoint& orig = ep_[orig_side_];
      const Endpoint& resp = ep_[orig_side_ ^ 1];
      if (attempt_armed_ && (orig.state == TcpState::kSynSent || orig.state == TcpState::kSynAckSent) &&
          resp.state == TcpState::kInactive) {
        deadline = attempt_deadline_;
        return TimerClass::kTcpAttempt;
      }
      if (orig.state == TcpState::kInactive && resp.state == TcpState::kInactive) {
        deadline = idle(cfg.tcp_unseen_ns);
        return TimerClass::kTcpUnseen;
      }
      if (tcp_long_timeout_) {
        deadline = idle(cfg.tcp_inactivity_ns);
        return TimerClass::kTcpEstablished;
      }
      deadline = idle(cfg.udp_inactivity_ns);  // Zeek's choice until the handshake ends
      return TimerClass::kTcpHandshake;
    }
    case Transport::kUdp: deadline = idle(cfg.udp_inactivity_ns); return TimerClass::kUdp;
    case Transport::kIcmp: deadline = idle(cfg.icmp_inactivity_ns); return TimerClass::kIcmp;
    case Transport::kOther: deadline = idle(cfg.other_inactivity_ns); return TimerClass::kOther;
  }
  deadline = kNever;
  return TimerClass::kOther;
}

bool Connection::tcp_history_rstos0() const {
  // main.zeek's /^\^?S[^HAFGIQ]*R.*/ (patterns compared with == match the
  // whole string).
  size_t i = 0;
  if (i < history_.size() && history_[i] == '^') ++i;
  if (i >= history_.size() || history_[i] != 'S') return false;
  for (++i; i < history_.size(); ++i) {
    char c = history_[i];
    if (c == 'R') return true;
    if (c == 'H' || c == 'A' || c == 'F' || c == 'G' || c == 'I' || c == 'Q') return false;
  }
  return false;
}

ConnState Connection::conn_state() const {
  // base/protocols/conn/main.zeek, function conn_state.
  const Endpoint& o = ep_[orig_side_];
  const Endpoint& r = ep_[orig_side_ ^ 1];
  switch (transport_) {
    case Transport::kTcp: {
      using S = TcpState;
      bool o_inactive = o.state == S::kInactive || o.state == S::kPartial;
      bool r_inactive = r.state == S::kInactive || r.state == S::kPartial;
      if (r.state == S::kReset) {
        if (o.state == S::kSynSent || o.state == S::kSynAckSent ||
            (o.state == S::kReset && tcp_size(true) == 0 && tcp_size(false) == 0)) {
          return ConnState::kREJ;
        }
        return o_inactive ? ConnState::kRSTRH : ConnState::kRSTR;
      }
      if (o.state == S::kReset) {
        if (r_inactive) return tcp_history_rstos0() ? ConnState::kRSTOS0 : ConnState::kOTH;
        return ConnState::kRSTO;
      }
      if (r.state == S::kClosed && o.state == S::kClosed) return ConnState::kSF;
      if (o.state == S::kClosed) return r_inactive ? ConnState::kSH : ConnState::kS2;
      if (r.state == S::kClosed) return o_inactive ? ConnState::kSHR : ConnState::kS3;
      if (o.state == S::kSynSent && r.state == S::kInactive) return ConnState::kS0;
      if (o.state == S::kEstablished && r.state == S::kEstablished) return ConnState::kS1;
      return ConnState::kOTH;
    }
    case Transport::kUdp: {
      bool o_active = o.app_bytes >= 0;
      bool r_active = r.app_bytes >= 0;
      if (o_active) return r_active ? ConnState::kSF : ConnState::kS0;
      return r_active ? ConnState::kSHR : ConnState::kOTH;
    }
    default: return ConnState::kOTH;
  }
}

void Connection::to_record(ConnRecord& rec, std::string* known_uid) const {
  const uint8_t o = orig_side_;
  const uint8_t r = orig_side_ ^ 1;
  rec.ts = start_;
  rec.last_ts = seen_last_;
  rec.first_index = first_index_;
  if (known_uid != nullptr && !known_uid->empty()) {
    rec.uid = std::move(*known_uid);
  } else {
    rec.uid = make_conn_uid(first_index_, key_, start_);
  }
  rec.orig_h = key_address(key_, o);
  rec.resp_h = key_address(key_, r);
  rec.orig_p = key_.port[o];
  rec.resp_p = key_.port[r];
  rec.proto = key_.proto;
  rec.duration_ns = last_ - start_;
  rec.has_duration = rec.duration_ns > 0;
  if (transport_ == Transport::kTcp) {
    rec.orig_bytes = tcp_size_side(o);
    rec.resp_bytes = tcp_size_side(r);
  } else {
    rec.orig_bytes = static_cast<uint64_t>(std::max<int64_t>(ep_[o].app_bytes, 0));
    rec.resp_bytes = static_cast<uint64_t>(std::max<int64_t>(ep_[r].app_bytes, 0));
  }
  rec.conn_state = conn_state();
  rec.missed_bytes = missed_bytes_;
  rec.history = history_;
  rec.orig_pkts = ep_[o].pkts;
  rec.orig_ip_bytes = ep_[o].ip_bytes;
  rec.resp_pkts = ep_[r].pkts;
  rec.resp_ip_bytes = ep_[r].ip_bytes;

  // Community ID from the first packet as it was sent.
  core::IpAddress src = key_address(key_, first_src_side_);
  core::IpAddress dst = key_address(key_, first_src_side_ ^ 1);
  uint16_t sport = key_.port[first_src_side_];
  uint16_t dport = key_.port[first_src_side_ ^ 1];
  if (transport_ == Transport::kIcmp) {
    sport = first_type_;
    dport = first_code_;
  } else if (transport_ == Transport::kOther) {
    sport = first_sport_;  // SCTP ports when the decoder provides them
    dport = first_dport_;
  }
  rec.community_id = core::community_id_v1(src, dst, key_.proto, sport, dport);

  rec.vlan = vlan_;
  rec.inner_vlan = inner_vlan_;
  rec.has_vlan = has_vlan_;
  rec.has_inner_vlan = has_inner_vlan_;
  rec.orig_first_flags = ep_[o].first_flags;
  rec.orig_flags = ep_[o].flags;
  rec.resp_flags = ep_[r].flags;
}

}  // namespace trawl::flow

// Connection: the state FlowTable keeps for one connection (Zeek semantics:
// roles, TCP endpoint state machines, history letters, byte and packet
// counts, timers) and how it becomes a ConnRecord. Pure logic, no table.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "core/hash.h"
#include "core/ip_address.h"
#include "core/timestamp.h"
#include "decode/decoded_packet.h"
#include "flow/conn_record.h"

namespace trawl::flow {

struct FlowConfig;

enum class Transport : uint8_t { kTcp, kUdp, kIcmp, kOther };
// Inline: the flow table asks twice per packet.
inline Transport transport_of(uint8_t ip_proto) {
  switch (ip_proto) {
    case decode::ip_proto::kTcp: return Transport::kTcp;
    case decode::ip_proto::kUdp: return Transport::kUdp;
    case decode::ip_proto::kIcmp:
    case decode::ip_proto::kIcmpv6: return Transport::kIcmp;
    default: return Transport::kOther;
  }
}

// The connection key: two (address, port) sides in a fixed canonical order
// (any total order will do; see less_side in connection.cc) so both
// directions find the same connection. ICMP ports are type and counterpart type (Zeek's
// conn_id); one-way ICMP messages keep the packet's order, as Zeek does.
// Other protocols have ports 0. VLAN ids are not part of the key: Zeek's
// default connection key is the 5-tuple (VLAN-aware keys need its optional
// vlan conn-key plugin).
struct FlowKey {
  uint8_t addr[2][16];
  uint16_t port[2];
  uint8_t proto;
  uint8_t v6;
  uint16_t pad;  // always 0, so the key can be hashed and compared as bytes

  friend bool operator==(const FlowKey& a, const FlowKey& b) {
    // Five 8-byte words compared without a library call (hot path).
    uint64_t x[5];
    uint64_t y[5];
    std::memcpy(x, &a, sizeof x);
    std::memcpy(y, &b, sizeof y);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
  }
};
static_assert(sizeof(FlowKey) == 40, "FlowKey must have no padding");

struct PacketKey {
  FlowKey key;
  uint8_t src_side = 0;  // which key side sent this packet
  Transport transport = Transport::kOther;
};

// Requires pkt.l3 == kIpv4 or kIpv6 (and for TCP/UDP/ICMP, has_l4).
PacketKey make_packet_key(const decode::DecodedPacket& pkt);
// Seeded so that crafted keys cannot be made to collide in a table's index
// (each table picks a random seed; layout never shows in the output).
struct KeySeed {
  uint64_t s[5] = {0, 0, 0, 0, 0};
};
// Inline (once per packet): independent multiplies of the five (seeded) key
// words, then one finalising mix, so the dependency chains stay short.
inline uint64_t hash_key(const FlowKey& key, const KeySeed& seed = {}) {
  uint64_t w[5];
  std::memcpy(w, &key, sizeof w);
  uint64_t h = ((w[0] + seed.s[0]) * 0x9e3779b97f4a7c15ull) ^ ((w[1] + seed.s[1]) * 0xc2b2ae3d27d4eb4full) ^
               ((w[2] + seed.s[2]) * 0x165667b19e3779f9ull) ^ ((w[3] + seed.s[3]) * 0xff51afd7ed558ccdull) ^
               ((w[4] + seed.s[4]) * 0xc4ceb9fe1a85ec53ull);
  return core::mix64(h);
}
core::IpAddress key_address(const FlowKey& key, uint8_t side);

// Zeek's TCP_Endpoint states.
enum class TcpState : uint8_t { kInactive, kSynSent, kSynAckSent, kPartial, kEstablished, kClosed, kReset };

// Zeek's ScaledHistoryEntry: the letter is added at the 1st, 10th, 100th ...
// occurrence.
struct ScaledCounter {
  uint32_t count = 0;
  uint32_t threshold = 1;
};

// One side of a connection. Indexed by key side, not by role, so a role flip
// only changes which side is the originator.
struct Endpoint {
  // TCP (Zeek's TCP_Endpoint fields that conn.log depends on)
  TcpState state = TcpState::kInactive;
  TcpState prev_state = TcpState::kInactive;
  bool did_close = false;
  bool seen = false;
  uint8_t first_flags = 0;
  uint8_t flags = 0;
  uint32_t fin_cnt = 0;
  int64_t start_seq = 0;
  uint32_t last_seq = 0;
  uint32_t ack_seq = 0;
  uint32_t seq_wraps = 0;
  uint32_t ack_wraps = 0;

  uint64_t pkts = 0;
  uint64_t ip_bytes = 0;
  int64_t app_bytes = -1;  // UDP/ICMP/other payload bytes; -1 until a valid packet

  uint64_t hist_last_syn = 0;
  uint64_t hist_last_fin = 0;
  uint64_t hist_last_rst = 0;
  ScaledCounter chk;
  ScaledCounter rxmt;
  ScaledCounter win0;
  ScaledCounter gap;
};

// Which timer currently decides when the connection ends. Each class has one
// fixed delay, so FlowTable keeps one list per class sorted by deadline.
enum class TimerClass : uint8_t {
  kTcpAttempt,      // unanswered SYN: tcp_attempt_delay after it
  kTcpClose,        // closed (FIN both ways, or a RST): tcp_close_delay
  kTcpReset,        // RST after our own FIN: tcp_reset_delay
  kTcpUnseen,       // TCP with no valid packet yet (bad checksums only)
  kTcpHandshake,    // handshake not done: Zeek uses udp_inactivity_timeout
  kTcpEstablished,  // tcp_inactivity_timeout
  kUdp,
  kIcmp,
  kOther,
  kCount,
};

constexpr int64_t kNever = INT64_MAX;

class Connection {
 public:
  // Starts the connection from its first packet (decides the roles).
  void init(const PacketKey& pk, const decode::DecodedPacket& pkt, core::Timestamp t, const FlowConfig& cfg);
  // Zeek's TCPSessionAdapter::IsReuse: true if this TCP packet starts a new
  // connection on the same 5-tuple (a new SYN after close, or one with a
  // different initial sequence number).
  bool is_tcp_reuse(const decode::DecodedPacket& pkt) const;
  // Accounts one packet sent by key side `side`, at (clamped) time t.
  void packet(const decode::DecodedPacket& pkt, uint8_t side, core::Timestamp t, const FlowConfig& cfg);
  // The timer that applies now and its absolute deadline (ns, kNever if none).
  TimerClass timer(const FlowConfig& cfg, int64_t& deadline) const;
  // known_uid: this connection's uid if it was already made (it is moved
  // into rec); otherwise to_record makes it.
  void to_record(ConnRecord& rec, std::string* known_uid = nullptr) const;

  ConnState conn_state() const;
  const FlowKey& key() const { return key_; }
  uint64_t first_index() const { return first_index_; }
  core::Timestamp last_time() const { return last_; }
  const std::string& history() const { return history_; }
  // Zeek's TCP_Endpoint::Size for the originator / responder.
  uint64_t tcp_size(bool orig) const { return tcp_size_side(orig ? orig_side_ : orig_side_ ^ 1); }
  uint8_t orig_side() const { return orig_side_; }
  core::Timestamp start_time() const { return start_; }
  // The sender's initial sequence number as far as the connection knows it
  // (its SYN, or one before its first packet, or what its peer acknowledged).
  std::optional<uint32_t> tcp_isn(uint8_t side) const {
    const Endpoint& e = ep_[side];
    if (e.state == TcpState::kInactive && e.start_seq == 0 && e.last_seq == 0) return std::nullopt;
    return static_cast<uint32_t>(e.start_seq);
  }
  // The TCP reassembler reported `bytes` of key side `side` as missing:
  // counted in missed_bytes (with a 'G' history letter) while both sides are
  // established, as Zeek's TCP_Reassembler does.
  void content_gap(uint8_t side, uint64_t bytes);

 private:
  void add_history(char c) { history_.push_back(c); }
  bool check_history(uint8_t side, uint32_t mask, char code);
  void scaled_history(uint8_t side, ScaledCounter& c, char code);
  void flip_roles();
  void count_packet(Endpoint& ep, const decode::DecodedPacket& pkt);

  void tcp_packet(const decode::DecodedPacket& pkt, uint8_t side, core::Timestamp t, const FlowConfig& cfg);
  void tcp_update_history(uint8_t side, uint8_t flags, uint64_t rel_seq, int32_t len);
  int32_t tcp_update_last_seq(uint8_t side, uint32_t last_seq, uint8_t flags, int32_t len);
  bool tcp_state_machine(uint8_t side, bool is_orig, uint32_t seq, int32_t len, uint8_t flags, core::Timestamp t,
                         const FlowConfig& cfg);
  void tcp_set_state(uint8_t side, TcpState s);
  void tcp_connection_closed(uint8_t side, const FlowConfig& cfg);
  uint64_t tcp_size_side(uint8_t side) const;
  bool tcp_history_rstos0() const;

  // Hot, per-packet state first (the table keeps its list links just before
  // this object, so key, links and timers share the first cache lines).
  FlowKey key_{};
  Transport transport_ = Transport::kOther;
  uint8_t orig_side_ = 0;
  uint8_t closing_ = 0;            // TCP: 0 none, 1 close timer, 2 reset timer
  bool attempt_armed_ = false;
  bool tcp_long_timeout_ = false;  // handshake done: tcp_inactivity_timeout applies
  uint32_t hist_seen_ = 0;
  core::Timestamp last_;
  // Time of the last packet of any kind; last_ (which ends duration) stops
  // at the close as Zeek's does, this one does not (pcap extracts need it).
  core::Timestamp seen_last_;
  int64_t attempt_deadline_ = kNever;
  int64_t close_deadline_ = kNever;
  Endpoint ep_[2];
  std::string history_;
  uint64_t missed_bytes_ = 0;

  // Set once from the first packet.
  core::Timestamp start_;
  uint64_t first_index_ = 0;
  uint8_t first_src_side_ = 0;
  uint8_t first_type_ = 0;  // ICMP type/code of the first packet (community id)
  uint8_t first_code_ = 0;
  uint16_t first_sport_ = 0;  // first packet's ports (SCTP community id)
  uint16_t first_dport_ = 0;
  uint16_t vlan_ = 0;
  uint16_t inner_vlan_ = 0;
  bool has_vlan_ = false;
  bool has_inner_vlan_ = false;
};

}  // namespace trawl::flow

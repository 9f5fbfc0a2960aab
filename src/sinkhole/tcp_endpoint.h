// TcpEndpoint: the sinkhole's user-space TCP. Answers every guest SYN with a
// forged SYN-ACK and runs the connection (reassembly, ACKs, MSS segmentation,
// retransmission, FIN/RST, linger) as a pure state machine: the driver feeds
// decoded guest segments and timer ticks, and gets frames to inject and
// application events back. No sockets, no clock reads. See docs/sinkhole-tcp.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/byte_view.h"
#include "core/ip_address.h"
#include "core/timestamp.h"
#include "decode/decoded_packet.h"
#include "sinkhole/frame.h"

namespace trawl::sinkhole {

struct TcpConfig {
  // Ports whose SYNs get RST|ACK (connection refused) instead of a SYN-ACK.
  std::set<uint16_t> rst_ports;
  uint32_t max_connections = 4096;  // every state, TIME_WAIT included
  uint32_t max_half_open = 1024;    // SYN-ACK sent, handshake not completed
  uint16_t our_mss = 1460;          // announced; segments use min(this, guest's)
  uint16_t recv_window = 65535;     // announced (no window scaling offered)
  uint32_t max_ooo_bytes = 64 * 1024;   // out-of-order bytes held per connection
  uint32_t max_ooo_segments = 64;
  uint32_t max_send_queue = 256 * 1024;  // unacknowledged + unsent bytes per connection
  int64_t rto_initial_ns = 300 * 1000000LL;
  int64_t rto_max_ns = 10 * core::kNsPerSec;
  uint32_t max_retransmits = 6;      // data/FIN; then RST and drop
  uint32_t max_synack_retransmits = 3;  // then the half-open entry is dropped silently
  int64_t linger_ns = 2 * core::kNsPerSec;      // TIME_WAIT-like
  int64_t idle_timeout_ns = 300 * core::kNsPerSec;  // no guest segment for this long: RST and drop
  uint8_t ttl = 64;
  uint64_t seed = 1;  // ISN generator seed (deterministic runs)
  // Overrides the seeded generator (tests use it to put the ISN near 2^32).
  std::function<uint32_t()> isn_source;
};

enum class TcpState : uint8_t {
  kSynReceived,
  kEstablished,
  kCloseWait,   // guest sent FIN; the application may still send
  kFinWait1,    // our FIN sent (or queued behind data), not acknowledged
  kFinWait2,    // our FIN acknowledged; waiting for the guest's
  kClosing,     // both FINs sent, ours not acknowledged
  kLastAck,     // guest FIN received, our FIN sent, not acknowledged
  kTimeWait,    // both sides done; lingers to re-ACK a retransmitted FIN
};
const char* to_string(TcpState s);

enum class CloseReason : uint8_t {
  kNormal,       // both FINs exchanged and acknowledged
  kReset,        // the guest sent RST
  kAborted,      // the application called abort()
  kTimeout,      // retransmissions exhausted (data or FIN unacknowledged)
  kIdle,         // nothing from the guest for idle_timeout_ns
  kHandshakeTimeout,  // SYN-ACK never acknowledged
  kEvicted,      // dropped to make room (half-open or table limit)
};
const char* to_string(CloseReason r);

// What the driver logs about a connection.
struct TcpConnInfo {
  uint64_t id = 0;  // creation order, from 1
  core::IpAddress guest_ip;
  core::IpAddress server_ip;  // the address the guest connected to
  uint16_t guest_port = 0;
  uint16_t server_port = 0;
  core::Timestamp first_seen;
  core::Timestamp last_seen;  // last guest segment
  uint64_t bytes_from_guest = 0;  // delivered in order
  uint64_t bytes_to_guest = 0;    // acknowledged by the guest
};

// Receives the endpoint's output, in order. Called after the endpoint's state
// is updated, so the application may call send/close/abort from inside.
class TcpSink {
 public:
  virtual ~TcpSink() = default;
  virtual void frame(core::ByteView bytes) = 0;  // to inject
  // Handshake completed.
  virtual void opened(const TcpConnInfo& c) { (void)c; }
  // In-order bytes from the guest (valid only during the call).
  virtual void data(const TcpConnInfo& c, core::ByteView bytes) { (void)c, (void)bytes; }
  // The guest sent FIN (all its data has been delivered); we may still send.
  virtual void peer_closed(const TcpConnInfo& c) { (void)c; }
  // Exactly once per connection that was created (half-open ones included).
  // Afterwards send/close/abort ignore the id; a TIME_WAIT entry may still
  // answer state() and info() until its linger ends.
  virtual void closed(const TcpConnInfo& c, CloseReason r) { (void)c, (void)r; }
};

// Limits reached and other noteworthy events; the driver reports them.
struct TcpCounters {
  uint64_t syns = 0;               // SYNs that created a connection
  uint64_t syn_retransmits = 0;    // repeated SYNs answered with the same SYN-ACK
  uint64_t refused = 0;            // SYNs to rst_ports
  uint64_t resets_sent = 0;        // every RST we sent
  uint64_t resets_received = 0;
  uint64_t retransmits = 0;        // our segments sent again (SYN-ACK, data, FIN)
  uint64_t zero_window_probes = 0;
  uint64_t evicted_half_open = 0;
  uint64_t evicted_time_wait = 0;
  uint64_t table_full = 0;         // SYNs dropped: no room and nothing to evict
  uint64_t ooo_dropped = 0;        // out-of-order segments over the limits
  uint64_t send_truncated = 0;     // bytes the application offered beyond max_send_queue
  uint64_t not_tcp = 0;            // packets on_segment could not use
  uint64_t stray = 0;              // segments for no connection (answered by RST unless RST)
};

class TcpEndpoint {
 public:
  TcpEndpoint(TcpConfig cfg, TcpSink& sink);
  ~TcpEndpoint();
  TcpEndpoint(const TcpEndpoint&) = delete;
  TcpEndpoint& operator=(const TcpEndpoint&) = delete;

  // A guest TCP segment (IPv4/IPv6 over Ethernet as decoded). Anything else
  // counts as not_tcp. `now` is packet time.
  void on_segment(const decode::DecodedPacket& pkt, core::Timestamp now);
  // Retransmissions, persist probes, linger and idle expiry due by `now`.
  void on_timer(core::Timestamp now);
  // The earliest time on_timer has work; Timestamp{INT64_MAX} when none.
  core::Timestamp next_deadline() const;

  // Queues bytes for the guest; returns how many were accepted (the rest
  // exceeds max_send_queue, or the connection cannot send any more).
  size_t send(uint64_t conn, core::ByteView bytes, core::Timestamp now);
  // Sends FIN after the queued data.
  void close(uint64_t conn, core::Timestamp now);
  // Sends RST and forgets the connection.
  void abort(uint64_t conn, core::Timestamp now);

  size_t connection_count() const;  // all entries, TIME_WAIT included
  size_t half_open_count() const;
  const TcpConnInfo* info(uint64_t conn) const;
  // nullptr-safe state query for tests and the driver's logs.
  bool state(uint64_t conn, TcpState& out) const;
  // Bytes buffered for one connection (send queue + out-of-order).
  size_t buffered_bytes(uint64_t conn) const;
  const TcpCounters& counters() const { return counters_; }
  const TcpConfig& config() const { return cfg_; }

 private:
  struct Conn;
  struct Key {
    core::IpAddress guest;
    core::IpAddress server;
    uint16_t guest_port = 0;
    uint16_t server_port = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Event;

  void handle_new(const decode::DecodedPacket& pkt, const Key& key, core::Timestamp now);
  void handle_syn_received(Conn& c, const decode::DecodedPacket& pkt, core::Timestamp now);
  void handle_synchronized(Conn& c, const decode::DecodedPacket& pkt, core::Timestamp now);
  bool process_ack(Conn& c, const decode::DecodedPacket& pkt, core::Timestamp now);
  bool process_data(Conn& c, uint32_t seq, core::ByteView data, bool fin);
  void output(Conn& c, core::Timestamp now);
  void send_segment(Conn& c, uint32_t seq, uint8_t flags, core::ByteView payload, uint16_t mss_opt = 0);
  void send_ack(Conn& c);
  void send_reset_for(const decode::DecodedPacket& pkt);
  void arm_rto(Conn& c, core::Timestamp now);
  void remove(uint64_t id, bool notify, CloseReason r);
  bool make_room(core::Timestamp now);
  uint32_t next_isn();
  Conn* find(uint64_t id);
  const Conn* find(uint64_t id) const;
  void flush();

  TcpConfig cfg_;
  TcpSink& sink_;
  std::mt19937 rng_;
  uint64_t next_id_ = 1;
  std::unordered_map<Key, uint64_t, KeyHash> by_key_;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::set<uint64_t> half_open_;  // ids in creation order: the oldest is evicted first
  std::set<uint64_t> time_wait_;
  TcpCounters counters_;
  std::vector<Event> events_;
  bool flushing_ = false;
};

}  // namespace trawl::sinkhole

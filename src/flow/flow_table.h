// FlowTable: the bidirectional connection table of one worker shard. Decides
// originator and responder as Zeek does, keeps per-direction counters, TCP
// state and history, expires connections on packet time and hands finished
// connections to a sink.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "core/anomalies.h"
#include "decode/decoded_packet.h"
#include "flow/app_layer.h"
#include "flow/conn_record.h"
#include "flow/tcp_reassembler.h"

namespace trawl::flow {

struct FlowConfig {
  // Inactivity timeouts on packet time (Zeek's defaults).
  int64_t tcp_inactivity_ns = 300LL * 1000000000;   // tcp_inactivity_timeout 5 min
  int64_t udp_inactivity_ns = 60LL * 1000000000;    // udp_inactivity_timeout 1 min
  int64_t icmp_inactivity_ns = 60LL * 1000000000;   // icmp_inactivity_timeout 1 min
  int64_t other_inactivity_ns = 60LL * 1000000000;
  int64_t tcp_close_delay_ns = 5LL * 1000000000;    // tcp_close_delay
  int64_t tcp_reset_delay_ns = 5LL * 1000000000;    // tcp_reset_delay
  int64_t tcp_attempt_delay_ns = 5LL * 1000000000;  // unanswered SYN: S0 after 5 s
  // Live flows per table; a new flow beyond it first evicts (emits) the least
  // recently active one, counted as anomaly "flow.evicted".
  // Live connections in this table. A connection costs about 0.8 KB (table
  // entry plus its record at the end), so the default bounds a flood of
  // spoofed flows to roughly 160 MB, as Suricata's flow memcap does.
  uint64_t max_flows = 200000;
  // A TCP connection whose packets all failed their checksum never leaves
  // the INACTIVE state; Zeek's expire timer (tcp_SYN_timeout, then every
  // tcp_session_timer) drops it 5-11 s later. We use this one delay.
  int64_t tcp_unseen_ns = 5LL * 1000000000;
  // Zeek does not flip ICMP connections whose first packet is a reply (an
  // echo reply seen first makes the replier the originator; zeek/zeek#5830).
  // true: treat the first reply's receiver as the originator, with '^'.
  bool flip_icmp_replies = false;
  // Flow slots allocated up front; the table grows (doubling) to max_flows.
  uint64_t initial_flows = 16384;
  // Application layer (protocol analyzers) for TCP and UDP payload; null:
  // none (TCP is still reassembled, for missed_bytes). Not owned; one per table.
  AppLayerFactory* app = nullptr;
  // TCP reassembly: out-of-order bytes held per stream, and for the whole
  // table (all streams of one worker).
  ReassemblyLimits reassembly;
  uint64_t reassembly_budget_bytes = 256ull << 20;
};

// Receives each finished connection; it must not call back into the table.
using ConnSink = std::function<void(ConnRecord&&)>;

class FlowTable {
 public:
  FlowTable(FlowConfig config, core::Anomalies& anomalies, ConnSink sink);
  ~FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // Accounts one IPv4/IPv6 packet (l3 kIpv4/kIpv6). Other packets are ignored.
  // The packet's own time decides first whether its connection has already
  // timed out (then that one is emitted and a new one starts), as Zeek's
  // timers would have fired before the packet. Time never goes backwards
  // inside a table: a packet older than the newest time seen (packets or
  // expire()) is treated as arriving at that time (anomaly
  // "flow.timestamp_backwards").
  void process(const decode::DecodedPacket& pkt);
  // Emits every connection whose deadline is <= now (Zeek fires a timer when
  // network time reaches it). Call it in stream order with this table's
  // packets (e.g. through the same queue), with now the newest packet time
  // the caller has seen; records then do not depend on how often it is called
  // (only their emission order does, and eviction if max_flows is reached).
  void expire(core::Timestamp now);
  // Emits every remaining connection (end of input), in first-packet order.
  void flush();

  uint64_t live_flows() const;
  uint64_t evicted() const;  // connections emitted early because max_flows was reached

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Symmetric hash of the packet's flow (same value for both directions); used
// to shard packets across workers. Packets without ports hash on addresses.
uint64_t symmetric_flow_hash(const decode::DecodedPacket& pkt);

}  // namespace trawl::flow

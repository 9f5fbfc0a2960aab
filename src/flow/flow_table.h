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
#include "flow/conn_record.h"

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
  uint64_t max_flows = 1000000;                     // live flows per table
};

using ConnSink = std::function<void(ConnRecord&&)>;

class FlowTable {
 public:
  FlowTable(FlowConfig config, core::Anomalies& anomalies, ConnSink sink);
  ~FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // Accounts one IPv4/IPv6 packet (l3 kIpv4/kIpv6). Other packets are ignored.
  void process(const decode::DecodedPacket& pkt);
  // Emits every connection whose timeout has passed at packet time now.
  void expire(core::Timestamp now);
  // Emits every remaining connection (end of input).
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

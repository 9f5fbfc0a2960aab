// ConnRecord: one finished connection, the record conn.jsonl is written from
// and that detectors consume. Field meanings follow Zeek's conn.log.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/ip_address.h"
#include "core/timestamp.h"

namespace trawl::flow {

// Zeek's conn_state values.
enum class ConnState : uint8_t { kS0, kS1, kSF, kREJ, kS2, kS3, kRSTO, kRSTR, kRSTOS0, kRSTRH, kSH, kSHR, kOTH };
const char* conn_state_name(ConnState s);

struct ConnRecord {
  core::Timestamp ts;         // first packet
  core::Timestamp last_ts;    // last packet
  uint64_t first_index = 0;   // input packet index of the first packet (ordering)
  std::string uid;            // "C" + 17 base62 characters, deterministic
  core::IpAddress orig_h;
  core::IpAddress resp_h;
  uint16_t orig_p = 0;        // ICMP: type
  uint16_t resp_p = 0;        // ICMP: code or counterpart type, as Zeek
  uint8_t proto = 0;          // IP protocol number
  std::string service;        // filled by protocol analyzers; empty if unknown
  int64_t duration_ns = 0;
  // Zeek logs duration, orig_bytes and resp_bytes only when the duration is
  // positive (set_conn in base/protocols/conn/main.zeek); false means unset.
  bool has_duration = false;
  uint64_t orig_bytes = 0;    // payload bytes (TCP: from sequence numbers, as Zeek)
  uint64_t resp_bytes = 0;
  ConnState conn_state = ConnState::kOTH;
  uint64_t missed_bytes = 0;  // bytes the TCP reassembler reported as gaps (while established, as Zeek)
  std::string history;        // empty: unset ("-" in Zeek's logs)
  uint64_t orig_pkts = 0;
  uint64_t orig_ip_bytes = 0;
  uint64_t resp_pkts = 0;
  uint64_t resp_ip_bytes = 0;
  std::string community_id;
  uint16_t vlan = 0;          // outer 802.1Q id (0: none)
  uint16_t inner_vlan = 0;    // QinQ inner id (0: none)
  bool has_vlan = false;
  bool has_inner_vlan = false;
  // For detectors: flags of the originator's first packet and the union of
  // flags each side sent (TCP), so scans can be typed without packets.
  uint8_t orig_first_flags = 0;
  uint8_t orig_flags = 0;
  uint8_t resp_flags = 0;
};

const char* proto_name(uint8_t ip_proto);  // "tcp", "udp", "icmp", else "unknown_transport"

// The TCP flags a history string implies (Zeek's letters record only some of
// them: no URG, and RST+ACK reads as RST). Read-back of a conn line that does
// not carry the flags uses this.
struct HistoryFlags {
  uint8_t orig_first = 0;
  uint8_t orig = 0;
  uint8_t resp = 0;
};
HistoryFlags flags_from_history(std::string_view history);

// True when a TCP record's flags differ from what its history implies, so its
// conn line must carry them for a re-run of the detectors (trawl hunt) to
// type its probes the same way (an Xmas probe's history is just "F").
bool flags_beyond_history(const ConnRecord& r);

}  // namespace trawl::flow

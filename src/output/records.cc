#include "output/records.h"

#include "output/json_line.h"

namespace trawl::output {

std::string format_mac(const std::array<uint8_t, 6>& mac) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(17);
  for (size_t i = 0; i < 6; ++i) {
    if (i) s.push_back(':');
    s.push_back(kHex[mac[i] >> 4]);
    s.push_back(kHex[mac[i] & 15]);
  }
  return s;
}

namespace {
// The text of format_mac without a std::string.
std::string_view mac_text(const std::array<uint8_t, 6>& mac, char (&buf)[17]) {
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < 6; ++i) {
    buf[3 * i] = kHex[mac[i] >> 4];
    buf[3 * i + 1] = kHex[mac[i] & 15];
    if (i != 5) buf[3 * i + 2] = ':';
  }
  return {buf, sizeof buf};
}
}  // namespace

void append_conn_json(const flow::ConnRecord& r, std::string& out) {
  JsonLine j(out, JsonLine::Flush::kAtEnd);
  j.ts("ts", r.ts)
      .str("uid", r.uid)
      .ip("id.orig_h", r.orig_h)
      .u64("id.orig_p", r.orig_p)
      .ip("id.resp_h", r.resp_h)
      .u64("id.resp_p", r.resp_p)
      .str("proto", flow::proto_name(r.proto));
  if (!r.service.empty()) j.str("service", r.service);
  // As Zeek: duration and the payload byte counts only when the connection
  // lasted longer than zero (single-packet connections leave them out).
  if (r.has_duration) {
    j.micros("duration", r.duration_ns)
        .u64("orig_bytes", r.orig_bytes)
        .u64("resp_bytes", r.resp_bytes);
  }
  j.str("conn_state", flow::conn_state_name(r.conn_state))
      .u64("missed_bytes", r.missed_bytes)
      .str("history", r.history)
      .u64("orig_pkts", r.orig_pkts)
      .u64("orig_ip_bytes", r.orig_ip_bytes)
      .u64("resp_pkts", r.resp_pkts)
      .u64("resp_ip_bytes", r.resp_ip_bytes)
      .str("community_id", r.community_id);
  if (r.has_vlan) j.u64("vlan", r.vlan);
  if (r.has_inner_vlan) j.u64("inner_vlan", r.inner_vlan);
  // Not in Zeek: the TCP flags, only where the history cannot tell them, so
  // trawl hunt types scan probes as the run that wrote the line did.
  if (flow::flags_beyond_history(r)) {
    j.u64("orig_first_flags", r.orig_first_flags)
        .u64("orig_flags", r.orig_flags)
        .u64("resp_flags", r.resp_flags);
  }
  j.end();
}

void append_arp_json(const ArpRecord& r, std::string& out) {
  JsonLine j(out, JsonLine::Flush::kAtEnd);
  const char* op = r.op == 1 ? "request" : r.op == 2 ? "reply" : "other";
  char src[17], sender[17], target[17];
  j.ts("ts", r.ts)
      .str("op", op)
      .u64("opcode", r.op)
      .str("src_mac", mac_text(r.src_mac, src))
      .str("sender_mac", mac_text(r.sender_mac, sender))
      .ip("sender_ip", r.sender_ip)
      .str("target_mac", mac_text(r.target_mac, target))
      .ip("target_ip", r.target_ip);
  if (r.has_vlan) j.u64("vlan", r.vlan);
  j.end();
}

}  // namespace trawl::output

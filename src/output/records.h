// Record types owned by output, and the JSON form of every record type.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/ip_address.h"
#include "core/timestamp.h"
#include "flow/conn_record.h"

namespace trawl::output {

// arp.jsonl: one line per ARP request or reply.
struct ArpRecord {
  core::Timestamp ts;
  uint16_t op = 0;  // 1 request, 2 reply, other values kept as numbers
  std::array<uint8_t, 6> src_mac{};  // Ethernet source
  std::array<uint8_t, 6> sender_mac{};
  core::IpAddress sender_ip;
  std::array<uint8_t, 6> target_mac{};
  core::IpAddress target_ip;
  uint16_t vlan = 0;
  bool has_vlan = false;
};

std::string format_mac(const std::array<uint8_t, 6>& mac);

// Zeek conn.log JSON field names and types, plus community_id and vlan.
void append_conn_json(const flow::ConnRecord& r, std::string& out);
void append_arp_json(const ArpRecord& r, std::string& out);

}  // namespace trawl::output

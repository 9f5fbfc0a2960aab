// DnsLogRecord: one DNS transaction (a query and its response, or either
// alone) as one line of dns.jsonl, with Zeek's dns.log field names. Fields
// Zeek would leave unset are std::nullopt and are not written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/analyzer.h"
#include "core/ip_address.h"

namespace trawl::analyzers::dns {

// One resource record of the response's answer section.
struct DnsAnswer {
  std::string name;          // owner name, lower-cased as `query`
  uint16_t type = 0;
  uint16_t rclass = 0;
  uint32_t ttl = 0;          // seconds
  std::string text;          // as written in `answers` ("93.184.216.34", "TXT 3 abc", ...)
  std::optional<core::IpAddress> address;  // A and AAAA
};

class DnsLogRecord final : public Record {
 public:
  std::string_view log() const override { return "dns"; }
  void write_json(std::string& out) const override;

  // Fills uid, addresses, ports and proto from the connection.
  void set_conn(const ConnInfo& c);

  std::string uid;
  core::IpAddress orig_h;
  uint16_t orig_p = 0;
  core::IpAddress resp_h;
  uint16_t resp_p = 0;
  bool tcp = false;                    // proto "tcp" / "udp"
  uint16_t trans_id = 0;
  std::optional<int64_t> rtt_ns;       // response time - query time, when both were seen in that order
  std::optional<std::string> query;    // lower-cased; \xNN for bytes outside printable ASCII
  std::string query_original;          // the question name with its case as sent (not written)
  std::optional<uint16_t> qclass;       // qclass and qtype: only when the query was seen (as Zeek)
  std::optional<uint16_t> qtype;
  std::optional<uint16_t> rcode;       // the header's 4-bit rcode, as Zeek
  bool aa = false;
  bool tc = false;
  bool rd = false;
  bool ra = false;
  uint8_t z = 0;                       // the three reserved/AD/CD bits, as Zeek's Z
  std::vector<DnsAnswer> answers;      // answer section, in order (`answers`, `TTLs`)
  bool rejected = false;

  // Typed extras for detectors (not written).
  bool saw_query = false;
  bool saw_reply = false;
  core::Timestamp reply_ts;            // when saw_reply
  uint16_t total_answers = 0;          // header counts of the response
  uint16_t total_replies = 0;          // answers + authority + additional
};

}  // namespace trawl::analyzers::dns

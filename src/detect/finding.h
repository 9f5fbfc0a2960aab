// Finding: one thing a detector concluded ("10.0.0.5 SYN-scanned 1,000 ports
// of 10.0.0.9"), with the evidence to check it. One finding per actor, target
// group and episode, never one per packet. Written to findings.jsonl
// (docs/findings.md, docs/schema/findings.schema.json).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/timestamp.h"

namespace trawl::detect {

enum class Severity : uint8_t { kInfo, kLow, kMedium, kHigh, kCritical };
std::string_view severity_name(Severity s);  // "info" ... "critical"

struct Finding {
  std::string id;                 // stable, e.g. "scan.tcp_syn" (docs/findings.md)
  core::Timestamp ts;             // first evidence
  core::Timestamp last_ts;        // last evidence
  Severity severity = Severity::kLow;
  double confidence = 0.5;        // 0..1
  std::string src;                // the actor: an address, a user, a domain
  std::vector<std::string> dst;   // victims (a sample when dst_count is larger)
  uint64_t dst_count = 0;         // all distinct victims
  std::vector<uint16_t> ports;    // ports involved (a sample, ascending)
  std::string service;            // "ssh", "smb" ... if one
  std::vector<std::pair<std::string, uint64_t>> counts;  // named counts: {"attempts", 150}
  std::string summary;            // one sentence a responder can read aloud
  std::string attack;             // MITRE ATT&CK technique, e.g. "T1046"
  std::vector<std::string> evidence;  // record uids (capped)
  uint64_t evidence_total = 0;        // all evidence records
  std::string details;                // detector-specific JSON object (output::JsonLine); empty: {}
};

// One JSON object and a newline.
void append_finding_json(const Finding& f, std::string& out);

// The order findings are written and shown in: severity (highest first), then
// first time, id, actor. Deterministic for a given input.
bool finding_before(const Finding& a, const Finding& b);

}  // namespace trawl::detect

// Records back from their JSON lines: the inverse of append_conn_json,
// append_arp_json, every Record::write_json and append_finding_json, so
// `trawl hunt` can feed stored records to the detectors. For every line
// trawl writes, write_json(read(line)) == line byte for byte.
//
// Strings are read as trawl writes them: "\u00XX" with XX >= 0x80 is the raw
// byte XX (JsonLine escapes bytes that are not valid UTF-8 that way), not
// U+00XX. Numbers are read from their text, so timestamps keep every digit.
//
// Fields the JSON does not carry are rebuilt where the line allows it and
// left at their defaults otherwise (see docs/case.md "Hunting"): the TCP
// flags of a connection from its history (exact when the line carries
// orig_first_flags/orig_flags/resp_flags), the IP protocol number of an
// "unknown_transport" connection from its Community ID, a DNS answer's
// address and type from its text, an SMB record's action and codes from
// its names. Times keep the microseconds the line has.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/analyzer.h"
#include "detect/finding.h"
#include "flow/conn_record.h"
#include "output/records.h"

namespace trawl::store {

// Longest line accepted (a record is a few KiB; a hostile one is refused).
inline constexpr size_t kMaxJsonLine = 4u << 20;

// Each returns false with a one-line message when the line is not valid JSON
// or lacks a required field; `out` is then unspecified.
bool conn_from_json(std::string_view line, flow::ConnRecord& out, std::string& error);
bool arp_from_json(std::string_view line, output::ArpRecord& out, std::string& error);
// An analyzer record of log `log` ("dns", "http", "auth" ...); nullptr with a
// message for an unknown log or a bad line.
std::unique_ptr<analyzers::Record> record_from_json(std::string_view log, std::string_view line,
                                                    std::string& error);
bool finding_from_json(std::string_view line, detect::Finding& out, std::string& error);

// The logs record_from_json knows (besides "conn" and "arp").
const std::vector<std::string_view>& analyzer_logs();

// One stored record of any log, typed.
struct TypedRecord {
  enum class Kind : uint8_t { kConn, kArp, kAnalyzer };
  Kind kind = Kind::kConn;
  flow::ConnRecord conn;
  output::ArpRecord arp;
  std::unique_ptr<analyzers::Record> record;
};
bool typed_from_json(std::string_view log, std::string_view line, TypedRecord& out, std::string& error);

// The line again, as trawl analyze writes it (without the newline).
std::string typed_to_json(const TypedRecord& r);

}  // namespace trawl::store

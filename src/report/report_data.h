// The report's data: bounded summaries collected from records as they stream
// in, turned at the end into the one JSON object report.html renders. `trawl
// report CASE` feeds the stored JSON lines (add); `trawl analyze` feeds the
// typed records' fields (add_conn, add_dns ...), which are read as their line
// would be, so both give the same page.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.h"

namespace trawl::flow {
struct ConnRecord;
}

namespace trawl::report {

// Every table and map has a cap: a hostile capture (a /8 sweep, a DNS tunnel)
// costs bounded memory and a bounded page. What a cap cut is counted and shown.
struct ReportLimits {
  size_t max_hosts_tracked = 50000;   // per-host counters
  size_t max_hosts_shown = 500;       // top by bytes; then hosts findings name (actors first), up to twice this
  size_t max_conns_shown = 2000;      // largest connections
  size_t max_pairs_tracked = 50000;   // (client, server) pairs: top talkers, beacon times
  size_t max_times_per_pair = 512;    // first connection times kept per pair
  size_t max_times_total = 2000000;   // all pairs together
  size_t max_keys = 5000;             // distinct values counted (HTTP hosts, user agents, SNIs ...)
  size_t max_rows = 300;              // listed records (HTTP requests, logins, odd DNS names)
  size_t max_findings_shown = 20000;
  size_t max_string = 400;            // bytes of one shown string
};

// What the run was (from RunInfo, or what a case stores).
struct RunMeta {
  std::string version;
  std::string command_line;
  std::string started;                 // UTC text; empty if unknown
  std::vector<std::string> inputs;     // capture files
  std::string source;                  // "trawl analyze" or "trawl report CASE"
};

// The fields of one conn record the report uses (views, valid for the call).
// An address comes as text, or (typed record) as orig_ip/resp_ip with the text
// left empty: the builder then finds the host without making its text.
struct ConnFields {
  double ts = 0, duration = 0;
  std::string_view uid, orig_h, resp_h, proto, service, state;
  const core::IpAddress* orig_ip = nullptr;
  const core::IpAddress* resp_ip = nullptr;
  uint64_t orig_p = 0, resp_p = 0, orig_bytes = 0, resp_bytes = 0, orig_pkts = 0, resp_pkts = 0;
};

// A time in ns as a line's seconds read back: the double that reading
// core::format_epoch_micros's text gives.
double line_seconds(int64_t ns);

// The fields of a typed conn record as its conn.jsonl line gives them (the
// report sink's and the tests' one mapping). Views into `r`: valid while it is.
ConnFields conn_fields(const flow::ConnRecord& r);

// The fields of typed records (`trawl analyze`). Strings are the record's own
// bytes, as write_json gets them: the builder shows them exactly as it shows
// the escaped text of the line. Times are the seconds of the line's "ts".
// An absent optional field is an empty view.
struct DnsFields {
  double ts = 0;
  core::IpAddress client;
  std::string_view query, rcode_name, qtype_name;
};
struct HttpFields {
  double ts = 0;
  std::string_view uid;
  core::IpAddress client, server;
  std::string_view method, host, uri, user_agent;
  bool has_status = false;
  uint16_t status = 0;
};
struct AuthFields {
  double ts = 0;
  core::IpAddress client, server;
  uint16_t server_port = 0;
  std::string_view proto, method, user, outcome;
};

class ReportBuilder {
 public:
  explicit ReportBuilder(const ReportLimits& limits = {});
  ~ReportBuilder();
  ReportBuilder(const ReportBuilder&) = delete;
  ReportBuilder& operator=(const ReportBuilder&) = delete;

  // One line of `log` ("conn", "dns", "http", "auth", "ssl", "ssh", "arp" ...):
  // one JSON object, no newline. A line that is not a JSON object is counted
  // and skipped.
  void add(std::string_view log, std::string_view json);
  // A conn record already in fields (`trawl analyze` has the typed record:
  // no JSON to scan). add("conn", line) gives the same result.
  void add_conn(const ConnFields& c);
  // Typed records of the other logs: each gives what add(log, its line) gives.
  void add_dns(const DnsFields& f);
  void add_http(const HttpFields& f);
  void add_auth(const AuthFields& f);
  void add_ssl(double ts, std::string_view server_name, std::string_view ja3);
  void add_ssh(double ts, std::string_view client, std::string_view server);
  void add_arp(const core::IpAddress& sender_ip);
  // A record of any other log: its place on the timeline.
  void add_other(std::string_view log, double ts);

  // The page's data: one JSON object (UTF-8, not yet escaped for <script>).
  // `findings` are lines of findings.jsonl in their order.
  std::string data_json(const std::vector<std::string>& findings, const RunMeta& meta) const;

  uint64_t bad_lines() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// JSON made safe inside <script type="application/json">: '<', '>', '&' and
// U+2028/U+2029 become \u escapes (JSON outside strings has none of them, so
// this only touches string contents and JSON.parse gives the same value).
std::string escape_for_script(std::string_view json);

// The whole self-contained page around the data (report_html.cc).
std::string render_html(std::string_view data_json, std::string_view title);

// Writes `text` to `path` through a temporary file and a rename, so a reader
// never sees half a report. False with a message on failure.
bool write_file_atomic(const std::string& path, std::string_view text, std::string& error);

}  // namespace trawl::report

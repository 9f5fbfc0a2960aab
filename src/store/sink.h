// The case store: where `trawl analyze` sends every record besides the JSONL
// files (case.db in SQLite, ClickHouse, the HTML report), and where `trawl
// hunt` and `trawl query` read them back. Records travel as their JSON line
// (the exact text of conn.jsonl, dns.jsonl ...) with the typed record beside
// it for the columns a sink indexes. See docs/case.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/analyzer.h"
#include "core/timestamp.h"
#include "detect/finding.h"
#include "flow/conn_record.h"
#include "output/records.h"

namespace trawl::app {
struct RunStats;
}

namespace trawl::store {

// One capture file that went into a case (for --append and `trawl extract`).
struct InputInfo {
  std::string path;      // as given (absolute when the case was written)
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::string identity;  // size + SHA-256 of the first and last 64 KiB: same file, same identity
};

// Fills path (absolute), size, mtime and identity; false with a message when
// the file cannot be read (store/inputs.cc).
bool describe_input(const std::string& path, InputInfo& out, std::string& error);

// What a run was: written once per run into the case's metadata.
struct RunInfo {
  std::string trawl_version;
  std::string command_line;   // the arguments, as run
  core::Timestamp started;    // wall clock
  std::vector<InputInfo> inputs;
  const app::RunStats* stats = nullptr;  // may be null (hunt)
};

// Receives one run's records in the engine's deterministic order. `json` is
// one complete JSON object without the trailing newline, valid only during the
// call. Calls come from one thread.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void on_conn(const flow::ConnRecord& r, std::string_view json) = 0;
  virtual void on_record(const analyzers::Record& r, std::string_view json) = 0;
  virtual void on_arp(const output::ArpRecord& r, std::string_view json) = 0;
  // No record follows (the findings and finish() do): a sink may start its
  // closing work now, in the background, while the detectors finish (case.db
  // builds its indexes here). Optional; finish() does it otherwise.
  virtual void records_done() {}
  // After the last record: the run's findings (sorted) and what the run was.
  // Returns false with a message when something could not be written; what
  // was written before stays.
  virtual bool finish(const std::vector<detect::Finding>& findings, const RunInfo& run, std::string& error) = 0;
};

// Reads stored records back, in replay order: the order the engine produced
// them for one run; across runs (two machines, --append) by time, keeping each
// run's own order for equal times. `log` is "conn", "arp", "dns", "http" ...
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  using RecordFn = std::function<void(std::string_view log, std::string_view json)>;
  // Returns false with a message on a read error (records before it were delivered).
  virtual bool for_each(const RecordFn& fn, std::string& error) = 0;
  // The capture files the case was made from (every run).
  virtual bool inputs(std::vector<InputInfo>& out, std::string& error) = 0;
  // Findings as stored (JSON lines of findings.jsonl), in order.
  virtual bool findings(std::vector<std::string>& out, std::string& error) = 0;
};

struct SqliteOptions {
  bool append = false;  // add to an existing case.db; inputs already in it are skipped by the caller
};
// case.db (store/sqlite_*.cc). nullptr with a message when it cannot be opened/created.
std::unique_ptr<RecordSink> make_sqlite_sink(const std::string& db_path, const SqliteOptions& opt, std::string& error);
std::unique_ptr<RecordSource> open_sqlite_source(const std::string& db_path, std::string& error);

// clickhouse://HOST:PORT/DB (store/clickhouse_*.cc).
std::unique_ptr<RecordSink> make_clickhouse_sink(const std::string& url, std::string& error);
std::unique_ptr<RecordSource> open_clickhouse_source(const std::string& url, std::string& error);

// report.html (report module): collects bounded summaries while records stream in.
std::unique_ptr<RecordSink> make_report_sink(const std::string& html_path, std::string& error);

// `--from` of hunt/query/extract/report: clickhouse://..., a case folder (its
// case.db) or a case.db file (store/source.cc).
std::unique_ptr<RecordSource> open_source(const std::string& from, std::string& error);

}  // namespace trawl::store

// Command line: subcommand dispatch and the options they share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/engine.h"
#include "core/ip_address.h"

namespace trawl::app {

enum class Format : uint8_t { kTable, kTsv, kCsv, kJson };

struct Args {
  std::string command;
  std::vector<std::string> inputs;
  std::string out_dir;          // -o
  std::string write_path;       // -w (filter)
  std::string bpf;              // -f (filter)
  std::string host;             // --host (filter)
  std::string uid;              // --uid (filter)
  std::optional<Format> format; // --json / --csv / --tsv
  unsigned top = 10;            // --top
  bool quiet = false;           // -q: no summary
  std::vector<core::IpNetwork> home_net;
  // Detectors (analyze): --set KEY=VALUE thresholds, --detectors NAMES,
  // --no-detect, --list-thresholds.
  std::vector<std::string> detect_set;
  std::vector<std::string> detectors;
  bool no_detect = false;
  bool list_thresholds = false;
  // Threat intelligence and enrichment (analyze, check).
  std::vector<std::string> intel;  // --intel FILE|DIR (repeatable)
  std::string geoip_dir;           // --geoip-dir
  std::string otx_key;             // --otx-key (else $TRAWL_OTX_KEY); never printed
  std::string otx_url;             // --otx-url (default https://otx.alienvault.com)
  std::string otx_cache;           // --otx-cache DIR
  bool offline = false;            // --offline: OTX from the cache only
  // Live (check --live -i IFACE [--duration 10m]).
  bool live = false;
  std::string iface;
  double duration_s = 0;           // 0: until Ctrl-C
  // The case (analyze): case.db, report.html, other sinks.
  bool append = false;             // --append: add to the case folder's case.db
  bool no_case_db = false;         // --no-case-db
  bool no_report = false;          // --no-report
  std::vector<std::string> sinks;  // --sink clickhouse://HOST:8123/DB (repeatable)
  std::string command_line;        // argv joined, for the case's run metadata
  EngineOptions engine;
};

// Parses argv; on error prints one line to stderr and returns nullopt.
std::optional<Args> parse_args(int argc, char** argv, int& exit_code);
int run_cli(int argc, char** argv);

// Subcommands; each returns the process exit status.
int cmd_analyze(const Args& args);
int cmd_flows(const Args& args);
int cmd_talkers(const Args& args);
int cmd_hosts(const Args& args);
int cmd_filter(const Args& args);
int cmd_check(const Args& args);   // cmd_check.cc
int cmd_intel(const Args& args);   // cmd_intel.cc: load feeds, print what loaded

// Commands with options of their own: `argv` is everything after the command
// name. Each prints its own usage for -h.
int cmd_sinkhole(const std::vector<std::string>& argv);  // cmd_sinkhole.cc
int cmd_query(const std::vector<std::string>& argv);     // cmd_query.cc
int cmd_hunt(const std::vector<std::string>& argv);      // cmd_hunt.cc
int cmd_extract(const std::vector<std::string>& argv);   // cmd_extract.cc
int cmd_report(const std::vector<std::string>& argv);    // cmd_report.cc

// "90", "90s", "10m", "2h", "1d" in seconds; nullopt if malformed or over a year.
std::optional<double> parse_duration(std::string_view s);

// Prints input errors (one line each) and returns the exit status for a run.
int report_input_errors(const RunStats& stats);

constexpr const char* kVersion = "0.1.0";

}  // namespace trawl::app

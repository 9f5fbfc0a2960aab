// Engine: the one data path every subcommand uses. Reads captures (merged by
// time), decodes on the reading thread, shards packets over flow tables by a
// symmetric flow hash, and hands finished connections back in an order that
// does not depend on the number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "analyzers/analyzer.h"
#include "core/anomalies.h"
#include "decode/decoded_packet.h"
#include "decode/decoder.h"
#include "flow/conn_record.h"
#include "flow/flow_table.h"
#include "output/records.h"

namespace trawl::app {

struct EngineOptions {
  unsigned threads = 1;        // flow-table shards; 1 runs everything on the calling thread
  flow::FlowConfig flow;
  decode::DecoderLimits decode;
  bool progress = false;       // draw a progress bar on stderr
  int64_t tick_ns = 1000000000;  // how often (packet time) finished connections are flushed
  // A packet this far ahead of the packet clock, followed by one that is not,
  // has a damaged timestamp: counted (capture.timestamp_outlier) and skipped.
  int64_t outlier_ns = 86400LL * 1000000000;
  // Protocol analyzers on TCP/UDP payload (dns, http, ssl, ...).
  bool analyzers = true;
  analyzers::AnalyzerConfig analyzer;
};

struct RunStats {
  uint64_t packets = 0;         // frames read
  uint64_t wire_bytes = 0;      // sum of original lengths
  uint64_t captured_bytes = 0;  // sum of captured lengths
  uint64_t ip_packets = 0;
  uint64_t arp_packets = 0;
  uint64_t other_packets = 0;   // neither IP nor ARP
  uint64_t malformed_packets = 0;
  uint64_t fragments_held = 0;  // fragments consumed into reassembly
  uint64_t outliers = 0;        // packets skipped for a damaged (far-future) timestamp
  uint64_t connections = 0;
  uint64_t evicted_flows = 0;
  std::map<std::string, uint64_t> records;  // analyzer records written, by log
  uint64_t findings = 0;                    // detector findings (set by analyze)
  core::Timestamp first_ts{0};
  core::Timestamp last_ts{0};
  std::map<uint16_t, uint64_t> linktypes;
  core::Anomalies anomalies;
  std::vector<std::string> inputs;        // files read (after folder expansion)
  std::vector<std::string> input_errors;  // one line per input that failed
  double wall_seconds = 0;
  uint64_t input_bytes = 0;               // size of the input files
};

class Engine {
 public:
  explicit Engine(EngineOptions options) : options_(options) {}

  // Called on the calling thread, in deterministic order.
  std::function<void(const flow::ConnRecord&)> on_conn;
  // Every analyzer record (dns, http, auth ...), on the calling thread, in
  // deterministic order (per flush group: by ts, connection, emission order).
  std::function<void(const analyzers::Record&)> on_record;
  // Every ARP message, on the calling thread, in packet order; each flush
  // group's ARP records come before its analyzer and connection records.
  std::function<void(const output::ArpRecord&)> on_arp;

  // Runs over the inputs (files or folders). Returns false if any input
  // could not be read (stats.input_errors says which); the others are done.
  bool run(const std::vector<std::string>& inputs, RunStats& stats);

 private:
  EngineOptions options_;
};

}  // namespace trawl::app

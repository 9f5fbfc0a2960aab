// trawl analyze: records to a case folder plus a terminal summary.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "app/aggregates.h"
#include "app/cli.h"
#include "app/stats_json.h"
#include "detect/detector.h"
#include "intel/feeds.h"
#include "intel/indicator_store.h"
#include "output/file_sink.h"
#include "output/records.h"

namespace trawl::app {

namespace {

std::string utc_time(core::Timestamp t) {
  std::time_t s = static_cast<std::time_t>(t.sec());
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

// The findings, most severe first; the first 40 (all are in findings.jsonl).
void print_findings(const std::vector<detect::Finding>& findings) {
  if (findings.empty()) {
    std::printf("findings: none\n");
    return;
  }
  std::map<detect::Severity, uint64_t, std::greater<>> by_sev;
  for (const auto& f : findings) ++by_sev[f.severity];
  std::printf("findings: %zu (", findings.size());
  const char* sep = "";
  for (const auto& [sev, n] : by_sev) {
    std::printf("%s%llu %s", sep, static_cast<unsigned long long>(n), std::string(detect::severity_name(sev)).c_str());
    sep = ", ";
  }
  std::printf(")\n");
  constexpr size_t kShown = 40;
  for (size_t i = 0; i < findings.size() && i < kShown; ++i) {
    const auto& f = findings[i];
    std::string sev(detect::severity_name(f.severity));
    std::printf("  %-8s %-24s %s  %s\n", sev.c_str(), f.id.c_str(), utc_time(f.ts).c_str(), f.summary.c_str());
  }
  if (findings.size() > kShown) std::printf("  ... %zu more in findings.jsonl\n", findings.size() - kShown);
}

void print_summary(const Args& args, const RunStats& st, const Talkers& talkers, const Services& services,
                   uint64_t arp_lines, const std::map<uint8_t, uint64_t>& by_proto) {
  std::printf("trawl analyze: %zu input%s, %llu packets, %s", st.inputs.size(), st.inputs.size() == 1 ? "" : "s",
              static_cast<unsigned long long>(st.packets), human_bytes(st.wire_bytes).c_str());
  if (st.packets > 0) {
    std::printf(", %s to %s UTC", utc_time(st.first_ts).c_str(), utc_time(st.last_ts).c_str());
  }
  std::printf("\n  read in %.2f s (%.2f M packets/s)\n", st.wall_seconds,
              st.wall_seconds > 0 ? static_cast<double>(st.packets) / st.wall_seconds / 1e6 : 0.0);
  std::printf("connections: %llu", static_cast<unsigned long long>(st.connections));
  const char* sep = " (";
  for (const auto& [proto, n] : by_proto) {
    std::printf("%s%s %llu", sep, flow::proto_name(proto), static_cast<unsigned long long>(n));
    sep = ", ";
  }
  std::printf("%s; ARP messages: %llu\n", st.connections ? ")" : "", static_cast<unsigned long long>(arp_lines));
  auto tt = talkers.top(std::min<unsigned>(args.top, 10));
  if (!tt.empty()) {
    std::printf("top talkers (IP bytes, both directions):\n");
    for (const auto& t : tt) {
      std::printf("  %-39s <-> %-39s %10s %8llu pkts %6llu conns\n", t.a.to_string().c_str(),
                  t.b.to_string().c_str(), human_bytes(t.bytes()).c_str(),
                  static_cast<unsigned long long>(t.packets), static_cast<unsigned long long>(t.connections));
    }
  }
  auto ss = services.top(std::min<unsigned>(args.top, 10));
  if (!ss.empty()) {
    std::printf("top services (by connections):\n");
    for (const auto& s : ss) {
      std::printf("  %-20s %8llu conns %10s\n", s.name.c_str(), static_cast<unsigned long long>(s.connections),
                  human_bytes(s.bytes).c_str());
    }
  }
  auto anomalies = st.anomalies.by_name();
  if (anomalies.empty()) {
    std::printf("anomalies: none\n");
  } else {
    std::printf("anomalies (odd or damaged input, counted and skipped or worked around):\n");
    for (const auto& [name, n] : anomalies) {
      std::printf("  %-40s %llu\n", name.c_str(), static_cast<unsigned long long>(n));
    }
  }
  if (st.malformed_packets || st.other_packets) {
    std::printf("packets not analysed: %llu malformed, %llu neither IP nor ARP\n",
                static_cast<unsigned long long>(st.malformed_packets),
                static_cast<unsigned long long>(st.other_packets));
  }
  if (st.outliers) {
    std::printf("packets skipped for a damaged timestamp (far ahead of the rest): %llu\n",
                static_cast<unsigned long long>(st.outliers));
  }
  if (st.evicted_flows) {
    std::printf("connections ended early because --max-flows was reached: %llu\n",
                static_cast<unsigned long long>(st.evicted_flows));
  }
  std::printf("records in %s: conn.jsonl, arp.jsonl", args.out_dir.c_str());
  for (const auto& [log, n] : st.records) {
    std::printf(", %s.jsonl (%llu)", log.c_str(), static_cast<unsigned long long>(n));
  }
  std::printf(", stats.json\n");
}

}  // namespace

int cmd_analyze(const Args& in) {
  Args args = in;
  // Detectors and their thresholds, checked before any work is done.
  detect::Config detect_config;
  for (const auto& n : args.home_net) detect_config.internal.add(n);
  for (const auto& kv : args.detect_set) {
    std::string err;
    if (!detect_config.parse_override(kv, err)) {
      std::fprintf(stderr, "trawl analyze: %s\n", err.c_str());
      return 2;
    }
  }
  // Threat intelligence for the intel_match detector: loaded and finalized
  // before the detectors are made; a bad entry is reported and skipped.
  intel::IndicatorStore intel_store;
  if (!args.intel.empty() && !args.no_detect && !args.list_thresholds) {
    intel::LoadReport report;
    for (const auto& path : args.intel) {
      std::error_code exists_ec;
      if (!std::filesystem::exists(path, exists_ec)) {
        std::fprintf(stderr, "trawl analyze: --intel %s: no such file or folder\n", path.c_str());
        return 2;
      }
    }
    for (const auto& path : args.intel) intel::load_intel(path, intel_store, report);
    intel_store.finalize();
    constexpr size_t kShownErrors = 10;
    for (size_t i = 0; i < report.errors.size() && i < kShownErrors; ++i) {
      const auto& e = report.errors[i];
      if (e.line) {
        std::fprintf(stderr, "trawl analyze: intel: %s:%llu: %s\n", e.file.c_str(),
                     static_cast<unsigned long long>(e.line), e.message.c_str());
      } else {
        std::fprintf(stderr, "trawl analyze: intel: %s: %s\n", e.file.c_str(), e.message.c_str());
      }
    }
    if (report.errors_total > kShownErrors) {
      std::fprintf(stderr, "trawl analyze: intel: %llu errors in all (the first %zu shown)\n",
                   static_cast<unsigned long long>(report.errors_total), kShownErrors);
    }
    if (!args.quiet) {
      std::fprintf(stderr, "trawl analyze: intel: %zu indicator%s from %llu file%s\n", intel_store.size(),
                   intel_store.size() == 1 ? "" : "s", static_cast<unsigned long long>(report.files),
                   report.files == 1 ? "" : "s");
    }
    detect_config.intel = &intel_store;
  }
  std::unique_ptr<detect::DetectorSet> detectors;
  if (!args.no_detect || args.list_thresholds) {
    detectors = std::make_unique<detect::DetectorSet>(detect_config, args.detectors);
    if (!detectors->unknown_names().empty()) {
      std::fprintf(stderr, "trawl analyze: --detectors: no detector named '%s'\n",
                   detectors->unknown_names().front().c_str());
      return 2;
    }
    auto unknown = detect_config.unknown_overrides();
    if (!unknown.empty()) {
      std::fprintf(stderr, "trawl analyze: --set %s: no such threshold (see trawl analyze --list-thresholds)\n",
                   unknown.front().c_str());
      return 2;
    }
  }
  if (args.list_thresholds) {
    for (const auto& [key, e] : detect_config.entries()) {
      std::printf("%-40s %-10g %s\n", key.c_str(), e.default_value, e.doc.c_str());
    }
    return 0;
  }
  if (args.out_dir.empty()) args.out_dir = "trawl-out";
  std::error_code ec;
  std::filesystem::create_directories(args.out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "trawl analyze: cannot create case folder %s: %s\n", args.out_dir.c_str(),
                 ec.message().c_str());
    return 2;
  }
  output::FileSink conn_file, arp_file;
  for (auto* f : {&conn_file, &arp_file}) {
    const char* name = f == &conn_file ? "conn.jsonl" : "arp.jsonl";
    if (!f->open((std::filesystem::path(args.out_dir) / name).string())) {
      std::fprintf(stderr, "trawl analyze: %s\n", f->error().c_str());
      return 2;
    }
  }

  // One file per analyzer log, opened at its first record (as Zeek, a log
  // with no records has no file; stats.json counts records per log).
  struct LogFile {
    output::FileSink sink;
    std::string buf;
    bool failed = false;
  };
  std::map<std::string, LogFile, std::less<>> logs;
  int log_status = 0;

  std::string conn_buf, arp_buf;
  Talkers talkers;
  Services services;
  std::map<uint8_t, uint64_t> by_proto;
  uint64_t arp_lines = 0;

  Engine engine(args.engine);
  engine.on_conn = [&](const flow::ConnRecord& r) {
    if (detectors) detectors->on_conn(r);
    output::append_conn_json(r, conn_buf);
    conn_file.write_buffered(conn_buf);
    if (!args.quiet) {  // only the summary needs these
      talkers.add(r);
      services.add(r);
      ++by_proto[r.proto];
    }
  };
  engine.on_record = [&](const analyzers::Record& r) {
    if (detectors) detectors->on_record(r);
    auto it = logs.find(r.log());
    if (it == logs.end()) {
      it = logs.try_emplace(std::string(r.log())).first;
      std::string path = (std::filesystem::path(args.out_dir) / (it->first + ".jsonl")).string();
      if (!it->second.sink.open(path)) {
        std::fprintf(stderr, "trawl analyze: %s\n", it->second.sink.error().c_str());
        it->second.failed = true;
        log_status = 3;
      }
    }
    LogFile& f = it->second;
    if (f.failed) return;
    r.write_json(f.buf);
    f.sink.write_buffered(f.buf);
  };
  engine.on_arp = [&](const output::ArpRecord& a) {
    if (detectors) detectors->on_arp(a);
    output::append_arp_json(a, arp_buf);
    arp_file.write_buffered(arp_buf);
    ++arp_lines;
  };

  RunStats stats;
  engine.run(args.inputs, stats);
  conn_file.drain(conn_buf);
  arp_file.drain(arp_buf);
  int status = report_input_errors(stats);
  if (log_status != 0) status = log_status;
  for (auto& [name, f] : logs) {
    if (f.failed) continue;
    f.sink.drain(f.buf);
    if (!f.sink.close()) {
      std::fprintf(stderr, "trawl analyze: %s\n", f.sink.error().c_str());
      status = 3;
    }
  }
  for (auto* f : {&conn_file, &arp_file}) {
    if (!f->close()) {
      std::fprintf(stderr, "trawl analyze: %s\n", f->error().c_str());
      status = 3;
    }
  }
  // Findings: written even when some input failed (what was read still counts).
  std::vector<detect::Finding> findings;
  if (detectors) {
    findings = detectors->finish();
    output::FileSink fsink;
    std::string fbuf;
    if (!fsink.open((std::filesystem::path(args.out_dir) / "findings.jsonl").string())) {
      std::fprintf(stderr, "trawl analyze: %s\n", fsink.error().c_str());
      status = 3;
    } else {
      for (const auto& f : findings) {
        detect::append_finding_json(f, fbuf);
        fsink.write_buffered(fbuf);
      }
      fsink.drain(fbuf);
      if (!fsink.close()) {
        std::fprintf(stderr, "trawl analyze: %s\n", fsink.error().c_str());
        status = 3;
      }
    }
    stats.findings = findings.size();
  }
  std::string stats_error;
  if (!write_stats_json((std::filesystem::path(args.out_dir) / "stats.json").string(), stats, stats_error)) {
    std::fprintf(stderr, "trawl analyze: %s\n", stats_error.c_str());
    status = 3;
  }
  if (!args.quiet) {
    print_summary(args, stats, talkers, services, arp_lines, by_proto);
    if (detectors) print_findings(findings);
  }
  return status;
}

}  // namespace trawl::app

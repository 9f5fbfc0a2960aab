// trawl analyze: records to a case folder plus a terminal summary.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "app/aggregates.h"
#include "app/cli.h"
#include "app/detect_setup.h"
#include "app/stats_json.h"
#include "detect/detector.h"
#include "output/file_sink.h"
#include "output/records.h"
#include "capture/packet_reader.h"
#include "store/sink.h"

namespace trawl::app {

namespace {

void print_summary(const Args& args, const RunStats& st, const Talkers& talkers, const Services& services,
                   uint64_t arp_lines, const std::map<uint8_t, uint64_t>& by_proto) {
  std::printf("trawl analyze: %zu input%s, %llu packets, %s", st.inputs.size(), st.inputs.size() == 1 ? "" : "s",
              static_cast<unsigned long long>(st.packets), human_bytes(st.wire_bytes).c_str());
  if (st.packets > 0) {
    std::printf(", %s to %s UTC", core::format_utc_seconds(st.first_ts).c_str(),
                core::format_utc_seconds(st.last_ts).c_str());
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
  std::printf(", stats.json");
  if (!args.no_case_db) std::printf(", case.db");
  if (!args.no_report) std::printf(", report.html");
  std::printf("\n");
}

}  // namespace

int cmd_analyze(const Args& in) {
  Args args = in;
  // Detectors and their thresholds, checked before any work is done (the
  // same set-up as `trawl hunt`). The intel feeds load only when detectors run.
  DetectSetup setup;
  if (!args.no_detect || args.list_thresholds) {
    DetectOptions opt;
    opt.set = args.detect_set;
    opt.detectors = args.detectors;
    opt.home_net = args.home_net;
    if (!args.list_thresholds) opt.intel = args.intel;
    opt.quiet = args.quiet;
    if (int rc = make_detectors("analyze", opt, setup); rc != 0) return rc;
  }
  detect::Config& detect_config = setup.config;
  std::unique_ptr<detect::DetectorSet>& detectors = setup.detectors;
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
  // The case: case.db (unless --no-case-db), report.html (unless
  // --no-report) and every --sink get the same records as the JSONL files.
  std::filesystem::path case_dir(args.out_dir);
  std::vector<std::unique_ptr<store::RecordSink>> sinks;
  store::RunInfo run_info;
  run_info.trawl_version = kVersion;
  run_info.command_line = args.command_line;
  run_info.started = core::Timestamp{static_cast<int64_t>(std::time(nullptr)) * core::kNsPerSec};
  {
    std::vector<std::string> expand_errors;
    std::vector<std::string> files = capture::expand_inputs(args.inputs, expand_errors);
    std::vector<store::InputInfo> known;
    std::string db_path = (case_dir / "case.db").string();
    if (args.append && !args.no_case_db && std::filesystem::exists(db_path)) {
      std::string err;
      auto existing = store::open_sqlite_source(db_path, err);
      if (!existing || !existing->inputs(known, err)) {
        std::fprintf(stderr, "trawl analyze: --append: %s\n", err.c_str());
        return 2;
      }
    }
    std::vector<std::string> fresh;
    for (const auto& f : files) {
      store::InputInfo info;
      std::string err;
      if (!store::describe_input(f, info, err)) {
        fresh.push_back(f);  // the engine reports the read error
        continue;
      }
      bool seen = false;
      for (const auto& k : known) seen = seen || k.identity == info.identity;
      if (seen) {
        std::fprintf(stderr, "trawl analyze: --append: %s is already in the case; skipped\n", f.c_str());
        continue;
      }
      run_info.inputs.push_back(info);
      fresh.push_back(f);
    }
    if (args.append) {
      if (fresh.empty() && expand_errors.empty()) {
        std::fprintf(stderr, "trawl analyze: --append: every capture is already in the case\n");
        return 0;
      }
      // Folders were expanded here; the engine reads the files that are new
      // (an unreadable argument is kept so the engine reports it).
      args.inputs = fresh;
      for (const auto& in_arg : in.inputs) {
        std::error_code ex_ec;
        if (!std::filesystem::exists(in_arg, ex_ec)) args.inputs.push_back(in_arg);
      }
    }
    if (!args.no_case_db) {
      std::string err;
      store::SqliteOptions opt;
      opt.append = args.append;
      auto sink = store::make_sqlite_sink(db_path, opt, err);
      if (!sink) {
        std::fprintf(stderr, "trawl analyze: case.db: %s\n", err.c_str());
        return 2;
      }
      sinks.push_back(std::move(sink));
    }
    for (const auto& url : args.sinks) {
      std::string err;
      // Batches ClickHouse would not take go to the case folder's spool.
      std::string u = url;
      if (u.find("spool=") == std::string::npos) {
        u += std::string(u.find('?') == std::string::npos ? "?" : "&") + "spool=" +
             (case_dir / "clickhouse-spool").string();
      }
      auto sink = store::make_clickhouse_sink(u, err);
      if (!sink) {
        std::fprintf(stderr, "trawl analyze: --sink %s: %s\n", url.c_str(), err.c_str());
        return 2;
      }
      sinks.push_back(std::move(sink));
    }
    if (!args.no_report) {
      std::string err;
      auto sink = store::make_report_sink((case_dir / "report.html").string(), err);
      if (!sink) {
        std::fprintf(stderr, "trawl analyze: report.html: %s\n", err.c_str());
        return 2;
      }
      sinks.push_back(std::move(sink));
    }
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
  // Each buffer is drained at kChunk; room for one more line from the start
  // saves growing it by doubling on every run (about 7 M instructions on a
  // 200 MB capture).
  constexpr size_t kLogBuffer = output::FileSink::kChunk + 65536;
  conn_buf.reserve(kLogBuffer);
  Talkers talkers;
  Services services;
  std::map<uint8_t, uint64_t> by_proto;
  uint64_t arp_lines = 0;

  Engine engine(args.engine);
  engine.on_conn = [&](const flow::ConnRecord& r) {
    if (detectors) detectors->on_conn(r);
    size_t at = conn_buf.size();
    output::append_conn_json(r, conn_buf);
    if (!sinks.empty()) {
      std::string_view line(conn_buf.data() + at, conn_buf.size() - at - 1);  // without the newline
      for (auto& s : sinks) s->on_conn(r, line);
    }
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
      it->second.buf.reserve(kLogBuffer);
      std::string path = (std::filesystem::path(args.out_dir) / (it->first + ".jsonl")).string();
      if (!it->second.sink.open(path)) {
        std::fprintf(stderr, "trawl analyze: %s\n", it->second.sink.error().c_str());
        it->second.failed = true;
        log_status = 3;
      }
    }
    LogFile& f = it->second;
    size_t at = f.buf.size();
    r.write_json(f.buf);
    if (!sinks.empty()) {
      std::string_view line(f.buf.data() + at, f.buf.size() - at - 1);
      for (auto& s : sinks) s->on_record(r, line);
    }
    if (f.failed) {
      f.buf.clear();
      return;
    }
    f.sink.write_buffered(f.buf);
  };
  engine.on_arp = [&](const output::ArpRecord& a) {
    if (detectors) detectors->on_arp(a);
    size_t at = arp_buf.size();
    output::append_arp_json(a, arp_buf);
    if (!sinks.empty()) {
      std::string_view line(arp_buf.data() + at, arp_buf.size() - at - 1);
      for (auto& s : sinks) s->on_arp(a, line);
    }
    arp_file.write_buffered(arp_buf);
    ++arp_lines;
  };

  RunStats stats;
  engine.run(args.inputs, stats);
  for (auto& s : sinks) s->records_done();
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
  // The sinks last: case.db, ClickHouse and report.html hold the findings and
  // the run's metadata too.
  run_info.stats = &stats;
  for (auto& s : sinks) {
    std::string err;
    if (!s->finish(findings, run_info, err)) {
      std::fprintf(stderr, "trawl analyze: %s\n", err.c_str());
      status = 3;
    }
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

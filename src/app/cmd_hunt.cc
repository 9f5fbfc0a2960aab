// trawl hunt: the detectors again, over a case's stored records (other
// thresholds, other detectors, new intel), without the captures.
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include "app/cli.h"
#include "app/detect_setup.h"
#include "output/file_sink.h"
#include "store/record_json.h"
#include "store/sink.h"

namespace trawl::app {

namespace {

constexpr const char* kUsage =
    "usage: trawl hunt --from CASE|case.db|clickhouse://HOST:PORT/DB [options]\n"
    "Runs the detectors over the case's stored records, in the order the engine\n"
    "produced them, and writes findings.jsonl. With the thresholds of the run that\n"
    "made the case, the findings are the same as that run's.\n"
    "  --from CASE        a case folder (its case.db, else its .jsonl files), a case.db, or ClickHouse\n"
    "  -o DIR             write findings.jsonl here (default: CASE/hunt-YYYYMMDDTHHMMSSZ;\n"
    "                     ./hunt-... for ClickHouse)\n"
    "  --set KEY=VALUE    override a threshold (repeatable; trawl analyze --list-thresholds)\n"
    "  --detectors NAMES  run only these detectors (comma separated)\n"
    "  --home-net CIDRS   internal networks, comma separated\n"
    "  --intel FILE|DIR   threat-intelligence feeds (repeatable)\n"
    "  --json             print the findings as JSON lines instead of the table\n"
    "  -q                 print nothing but errors\n"
    "exit status: 0 success, 1 some records could not be read (the rest were used),\n"
    "2 usage error, 3 findings.jsonl could not be written\n";

std::string hunt_dir_name() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "hunt-%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

int cmd_hunt(const std::vector<std::string>& argv) {
  std::string from, out_dir;
  DetectOptions opt;
  bool json = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    auto value = [&](std::string& v) {
      if (i + 1 >= argv.size()) {
        std::fprintf(stderr, "trawl hunt: %s needs a value\n", a.c_str());
        return false;
      }
      v = argv[++i];
      return true;
    };
    std::string v;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--from") {
      if (!value(from)) return 2;
    } else if (a == "-o") {
      if (!value(out_dir)) return 2;
    } else if (a == "--set") {
      if (!value(v)) return 2;
      opt.set.push_back(v);
    } else if (a == "--detectors") {
      if (!value(v)) return 2;
      for (auto& n : split_commas(v)) opt.detectors.push_back(std::move(n));
    } else if (a == "--home-net") {
      if (!value(v)) return 2;
      for (const auto& item : split_commas(v)) {
        auto net = core::IpNetwork::parse(item);
        if (!net) {
          std::fprintf(stderr, "trawl hunt: --home-net: '%s' is not an address or CIDR prefix\n", item.c_str());
          return 2;
        }
        opt.home_net.push_back(*net);
      }
    } else if (a == "--intel") {
      if (!value(v)) return 2;
      opt.intel.push_back(v);
    } else if (a == "--json") {
      json = true;
    } else if (a == "-q" || a == "--quiet") {
      opt.quiet = true;
    } else {
      std::fprintf(stderr, "trawl hunt: unknown option '%s' (trawl hunt -h)\n", a.c_str());
      return 2;
    }
  }
  if (from.empty()) {
    std::fputs("trawl hunt: --from CASE is required (trawl hunt -h)\n", stderr);
    return 2;
  }
  DetectSetup setup;
  if (int rc = make_detectors("hunt", opt, setup); rc != 0) return rc;

  std::string err;
  auto source = store::open_source(from, err);
  if (!source) {
    std::fprintf(stderr, "trawl hunt: %s\n", err.c_str());
    return 2;
  }
  if (out_dir.empty()) {
    std::filesystem::path base;
    std::error_code ec;
    if (from.rfind("clickhouse://", 0) == 0) {
      base = ".";
    } else if (std::filesystem::is_directory(from, ec)) {
      base = from;
    } else {
      base = std::filesystem::path(from).parent_path();
      if (base.empty()) base = ".";
    }
    out_dir = (base / hunt_dir_name()).string();
  }

  // Replay: each record typed again, in the source's order. A line that
  // does not read is reported and skipped; the rest still counts.
  std::map<std::string, uint64_t, std::less<>> counts;
  uint64_t bad = 0;
  constexpr uint64_t kShownErrors = 10;
  store::TypedRecord rec;
  auto on_record = [&](std::string_view log, std::string_view line) {
    std::string perr;
    if (!store::typed_from_json(log, line, rec, perr)) {
      if (++bad <= kShownErrors) {
        std::fprintf(stderr, "trawl hunt: a %.*s record does not read: %s\n", static_cast<int>(log.size()),
                     log.data(), perr.c_str());
      }
      return;
    }
    auto it = counts.find(log);
    if (it == counts.end()) it = counts.emplace(std::string(log), 0).first;
    ++it->second;
    switch (rec.kind) {
      case store::TypedRecord::Kind::kConn: setup.detectors->on_conn(rec.conn); break;
      case store::TypedRecord::Kind::kArp: setup.detectors->on_arp(rec.arp); break;
      case store::TypedRecord::Kind::kAnalyzer: setup.detectors->on_record(*rec.record); break;
    }
  };
  int status = 0;
  if (!source->for_each(on_record, err)) {
    std::fprintf(stderr, "trawl hunt: reading %s: %s (the records before it were used)\n", from.c_str(), err.c_str());
    status = 1;
  }
  if (bad > kShownErrors) {
    std::fprintf(stderr, "trawl hunt: %llu records did not read in all (the first %llu shown)\n",
                 static_cast<unsigned long long>(bad), static_cast<unsigned long long>(kShownErrors));
  }
  if (bad) status = 1;
  std::vector<detect::Finding> findings = setup.detectors->finish();

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  std::string path = (std::filesystem::path(out_dir) / "findings.jsonl").string();
  std::vector<std::string> lines;
  {
    output::FileSink sink;
    std::string buf;
    if (ec || !sink.open(path)) {
      std::fprintf(stderr, "trawl hunt: %s\n", ec ? (out_dir + ": " + ec.message()).c_str() : sink.error().c_str());
      return 3;
    }
    for (const auto& f : findings) {
      size_t at = buf.size();
      detect::append_finding_json(f, buf);
      lines.emplace_back(buf, at, buf.size() - at - 1);
      sink.write_buffered(buf);
    }
    sink.drain(buf);
    if (!sink.close()) {
      std::fprintf(stderr, "trawl hunt: %s\n", sink.error().c_str());
      status = 3;
    }
  }
  if (opt.quiet) return status;

  if (json) {
    for (const auto& l : lines) std::printf("%s\n", l.c_str());
    return status;
  }
  uint64_t total = 0;
  for (const auto& [log, n] : counts) total += n;
  std::printf("trawl hunt: %llu records from %s (", static_cast<unsigned long long>(total), from.c_str());
  const char* sep = "";
  for (const auto& [log, n] : counts) {
    std::printf("%s%s %llu", sep, log.c_str(), static_cast<unsigned long long>(n));
    sep = ", ";
  }
  std::printf("), %zu detector%s\n", setup.detectors->size(), setup.detectors->size() == 1 ? "" : "s");
  print_findings(findings);
  // Against the findings stored with the case: what the new thresholds changed.
  std::vector<std::string> stored;
  std::string ferr;
  if (source->findings(stored, ferr)) {
    std::multiset<std::string> before(stored.begin(), stored.end());
    std::multiset<std::string> after(lines.begin(), lines.end());
    size_t same = 0;
    for (const auto& l : after) {
      if (before.count(l)) ++same;
    }
    if (same == after.size() && before.size() == after.size()) {
      std::printf("the same findings as stored in the case (%zu)\n", stored.size());
    } else {
      std::printf("against the case's %zu stored findings: %zu new or changed, %zu no longer found\n", stored.size(),
                  after.size() - same, before.size() >= same ? before.size() - same : 0);
    }
  }
  std::printf("findings in %s\n", path.c_str());
  return status;
}

}  // namespace trawl::app

// trawl check: "is this host compromised?" Every external destination of a
// capture (or of a live capture, with the process behind each connection),
// enriched with GeoIP/ASN, threat-intelligence feeds, OTX and detector
// findings, with a verdict and its reasons (docs/check.md).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "app/aggregates.h"
#include "app/cli.h"
#include "app/destinations.h"
#include "detect/detector.h"
#include "intel/feeds.h"
#include "intel/geoip.h"
#include "intel/indicator_store.h"
#include "intel/otx.h"
#include "live/live_capture.h"
#include "output/file_sink.h"

namespace trawl::app {

namespace {

constexpr const char* kMe = "trawl check";
// Each OTX query is an HTTP request: the most suspicious destinations are
// asked first, the rest say "not queried (limit)".
constexpr size_t kMaxOtxQueries = 2000;
constexpr size_t kShownIntelErrors = 10;

std::string otx_cache_dir(const Args& args) {
  if (!args.otx_cache.empty()) return args.otx_cache;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/trawl/otx";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/trawl/otx";
  return {};
}

// Feed names, pulse names and domains come from outside: never let them
// move the terminal's cursor or colour it.
std::string printable(std::string_view s, size_t max) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  if (out.size() <= max) return out;
  out.resize(max >= 3 ? max - 3 : 0);
  // Never cut a UTF-8 sequence in half.
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
  if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
  return out + (max >= 3 ? "..." : "");
}

struct Files {
  std::string dir;
  int status = 0;
  bool write(const std::string& name, const std::string& content) {
    output::FileSink f;
    if (!f.open((std::filesystem::path(dir) / name).string())) {
      std::fprintf(stderr, "%s: %s\n", kMe, f.error().c_str());
      status = 3;
      return false;
    }
    f.write(content);
    if (!f.close()) {
      std::fprintf(stderr, "%s: %s\n", kMe, f.error().c_str());
      status = 3;
      return false;
    }
    return true;
  }
};

void print_table(const std::vector<Destination>& dests, unsigned top) {
  std::printf("%-10s %5s  %-39s %-30s %-2s  %-28s %6s %9s %9s %5s  %s\n", "VERDICT", "SCORE", "DESTINATION", "DOMAINS",
              "CC", "ASN / ORG", "CONNS", "OUT", "IN", "HOSTS", "TOP REASON");
  size_t unknown_shown = 0, hidden = 0, hidden_names = 0;
  for (const auto& d : dests) {
    // Unknown names (DNSBL and telemetry lookups, typos) are many and say
    // little on their own: counted here, listed in the files.
    if (d.verdict == Verdict::kUnknown && d.is_name) {
      ++hidden_names;
      continue;
    }
    if (d.verdict == Verdict::kUnknown) {
      if (unknown_shown >= top) {
        ++hidden;
        continue;
      }
      ++unknown_shown;
    }
    std::string domains;
    for (const auto& n : d.domains.values) {
      if (!domains.empty()) domains += ' ';
      domains += n;
    }
    if (d.domains.total() > 1) domains = *d.domains.values.begin() + " +" + std::to_string(d.domains.total() - 1);
    if (d.is_name) domains = "(" + d.rcode + (d.resolved.values.empty() ? "" : ", not connected") + ")";
    std::string asn;
    if (d.geo.asn) asn = "AS" + std::to_string(d.geo.asn);
    if (!d.geo.as_org.empty()) asn += (asn.empty() ? "" : " ") + d.geo.as_org;
    std::string reason = d.reasons.empty() ? std::string() : d.reasons.front();
    if (reason.empty() && d.live && !d.processes.empty()) {
      reason = "process " + std::to_string(d.processes.front().process.pid) + " " + d.processes.front().process.exe;
    }
    std::printf(
        "%-10s %5llu  %-39s %-30s %-2s  %-28s %6llu %9s %9s %5llu  %s\n", std::string(verdict_name(d.verdict)).c_str(),
        static_cast<unsigned long long>(d.score), printable(d.key(), 39).c_str(), printable(domains, 30).c_str(),
        printable(d.geo.country_code, 2).c_str(), printable(asn, 28).c_str(), static_cast<unsigned long long>(d.conns),
        human_bytes(d.bytes_out).c_str(), human_bytes(d.bytes_in).c_str(),
        static_cast<unsigned long long>(d.hosts.total()), printable(reason, 100).c_str());
  }
  if (hidden) std::printf("... %zu more unknown addresses in destinations.csv\n", hidden);
  if (hidden_names) {
    std::printf("... %zu unknown name%s looked up but never connected to, in destinations.csv\n", hidden_names,
                hidden_names == 1 ? "" : "s");
  }
}

}  // namespace

int cmd_check(const Args& in) {
  Args args = in;
  if (args.live && args.iface.empty()) {
    std::fprintf(stderr, "%s: --live needs -i IFACE\n", kMe);
    return 2;
  }
  if (!args.live && !args.iface.empty()) {
    std::fprintf(stderr, "%s: -i IFACE needs --live\n", kMe);
    return 2;
  }
  if (args.live && !args.inputs.empty()) {
    std::fprintf(stderr, "%s: --live captures from the interface; give no capture files\n", kMe);
    return 2;
  }
  std::error_code ec;
  detect::Config detect_config;
  for (const auto& n : args.home_net) detect_config.internal.add(n);
  for (const auto& kv : args.detect_set) {
    std::string err;
    if (!detect_config.parse_override(kv, err)) {
      std::fprintf(stderr, "%s: %s\n", kMe, err.c_str());
      return 2;
    }
  }
  // Threat intelligence: every --intel path, then one finalize.
  intel::IndicatorStore store;
  intel::LoadReport load;
  for (const auto& path : args.intel) {
    if (!std::filesystem::exists(path, ec)) {
      std::fprintf(stderr, "%s: --intel %s: no such file or folder\n", kMe, path.c_str());
      return 2;
    }
  }
  for (const auto& p : args.intel) intel::load_intel(p, store, load);
  store.finalize();
  for (size_t i = 0; i < load.errors.size() && i < kShownIntelErrors; ++i) {
    const auto& e = load.errors[i];
    if (e.line) {
      std::fprintf(stderr, "%s: intel: %s:%llu: %s\n", kMe, e.file.c_str(), static_cast<unsigned long long>(e.line),
                   e.message.c_str());
    } else {
      std::fprintf(stderr, "%s: intel: %s: %s\n", kMe, e.file.c_str(), e.message.c_str());
    }
  }
  if (load.errors_total > kShownIntelErrors) {
    std::fprintf(stderr, "%s: intel: %llu more errors\n", kMe,
                 static_cast<unsigned long long>(load.errors_total - kShownIntelErrors));
  }

  // The intel_match detector reports which internal host touched which
  // listed indicator (findings.jsonl); the verdict counts the indicator once,
  // from the intel hits (judge() skips intel.* findings).
  if (store.size() > 0) detect_config.intel = &store;
  std::unique_ptr<detect::DetectorSet> detectors;
  if (!args.no_detect) {
    detectors = std::make_unique<detect::DetectorSet>(detect_config, args.detectors);
    if (!detectors->unknown_names().empty()) {
      std::fprintf(stderr, "%s: --detectors: no detector named '%s'\n", kMe,
                   detectors->unknown_names().front().c_str());
      return 2;
    }
    auto unknown = detect_config.unknown_overrides();
    if (!unknown.empty()) {
      std::fprintf(stderr, "%s: --set %s: no such threshold (see trawl analyze --list-thresholds)\n", kMe,
                   unknown.front().c_str());
      return 2;
    }
  }
  if (args.out_dir.empty()) args.out_dir = "trawl-check";
  std::filesystem::create_directories(args.out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "%s: cannot create case folder %s: %s\n", kMe, args.out_dir.c_str(), ec.message().c_str());
    return 2;
  }
  Files files{args.out_dir};

  // GeoIP: the given folder, else the first default one that opens.
  intel::GeoIp geoip;
  if (!args.geoip_dir.empty()) {
    std::string err;
    if (!geoip.open_dir(args.geoip_dir, err)) std::fprintf(stderr, "%s: --geoip-dir: %s\n", kMe, err.c_str());
  } else {
    for (const auto& dir : intel::GeoIp::default_dirs()) {
      std::string err;
      if (std::filesystem::is_directory(dir, ec) && geoip.open_dir(dir, err)) break;
    }
  }
  for (const auto& w : geoip.warnings()) std::fprintf(stderr, "%s: GeoIP: %s\n", kMe, w.c_str());

  // Live: capture to the case folder first, then analyse that file.
  std::unique_ptr<live::AttributionIndex> attribution;
  live::LiveResult live_result;
  if (args.live) {
    live::LiveOptions lo;
    lo.iface = args.iface;
    lo.duration_s = args.duration_s;
    lo.bpf = args.bpf;
    lo.pcap_path = (std::filesystem::path(args.out_dir) / "live.pcap").string();
    std::string err;
    std::fprintf(
        stderr, "%s: capturing on %s%s (Ctrl-C to stop)\n", kMe, args.iface.c_str(),
        args.duration_s > 0 ? (" for " + std::to_string(static_cast<long long>(args.duration_s)) + " s").c_str() : "");
    if (!live::run_live(lo, live_result, err)) {
      std::fprintf(stderr, "%s: %s\n", kMe, err.c_str());
      return 2;
    }
    if (!live_result.attribution_error.empty()) {
      std::fprintf(stderr, "%s: process attribution unavailable: %s\n", kMe, live_result.attribution_error.c_str());
    }
    std::string sockets;
    for (const auto& a : live_result.sockets) live::append_attribution_json(a, sockets);
    files.write("sockets.jsonl", sockets);
    attribution = std::make_unique<live::AttributionIndex>(std::move(live_result.sockets));
    args.inputs = {lo.pcap_path};
  }

  DestinationBuilder builder(detect_config.internal);
  builder.set_attribution(attribution.get());
  if (store.size() > 0) {
    builder.set_watch([&store](std::string_view value, bool is_url) {
      std::vector<intel::Match> m;
      if (is_url) {
        store.match_url(value, m);
      } else {
        store.match_domain(value, m);
      }
      return !m.empty();
    });
  }
  Engine engine(args.engine);
  engine.on_conn = [&](const flow::ConnRecord& r) {
    if (detectors) detectors->on_conn(r);
    builder.on_conn(r);
  };
  engine.on_record = [&](const analyzers::Record& r) {
    if (detectors) detectors->on_record(r);
    builder.on_record(r);
  };
  engine.on_arp = [&](const output::ArpRecord& a) {
    if (detectors) detectors->on_arp(a);
  };
  RunStats stats;
  engine.run(args.inputs, stats);
  int status = report_input_errors(stats);

  std::vector<detect::Finding> findings;
  if (detectors) findings = detectors->finish();
  {
    std::string buf;
    for (const auto& f : findings) detect::append_finding_json(f, buf);
    files.write("findings.jsonl", buf);
  }

  std::vector<Destination> dests = builder.finish();
  builder.attach_findings(findings, dests);

  // Enrichment.
  std::vector<intel::Match> matches;
  for (auto& d : dests) {
    if (geoip.available()) {
      if (!d.is_name) {
        d.geo = geoip.lookup(d.address);
      } else {
        for (const auto& a : d.resolved.values) {
          if (!builder.is_external(a)) continue;
          d.geo = geoip.lookup(a);
          if (!d.geo.empty()) break;
        }
      }
    }
    if (store.size() == 0) continue;
    if (!d.is_name) {
      matches.clear();
      store.match_ip(d.address, matches);
      add_intel_matches(d, d.address.to_string(), matches);
    } else {
      matches.clear();
      store.match_domain(d.name, matches);
      add_intel_matches(d, d.name, matches);
      for (const auto& a : d.resolved.values) {
        if (!builder.is_external(a)) continue;
        matches.clear();
        store.match_ip(a, matches);
        add_intel_matches(d, a.to_string(), matches);
      }
    }
    for (const auto& n : d.domains.values) {
      matches.clear();
      store.match_domain(n, matches);
      add_intel_matches(d, n, matches);
    }
    for (const auto& u : d.urls.values) {
      matches.clear();
      store.match_url(u, matches);
      add_intel_matches(d, u, matches);
    }
  }

  // OTX: external addresses and names only, most suspicious first.
  std::string otx_key = args.otx_key;
  if (otx_key.empty()) {
    if (const char* k = std::getenv("TRAWL_OTX_KEY"); k) otx_key = k;
  }
  for (auto& d : dests) judge(d);
  sort_destinations(dests);
  intel::OtxClient::Counters otx_counters;
  size_t otx_asked = 0;
  bool otx_limited = false;
  if (otx_key.empty() && !args.offline) {
    for (auto& d : dests) d.otx_status = "not queried (no key)";
  } else {
    std::vector<intel::OtxQuery> queries;
    std::map<std::pair<intel::OtxKind, std::string>, size_t> index;
    std::vector<std::vector<size_t>> owners;
    auto ask = [&](intel::OtxKind kind, const std::string& value, size_t dest) {
      auto [it, fresh] = index.try_emplace({kind, value}, queries.size());
      if (fresh) {
        if (queries.size() >= kMaxOtxQueries) {
          index.erase(it);
          otx_limited = true;
          return;
        }
        queries.push_back({kind, value});
        owners.emplace_back();
      }
      owners[it->second].push_back(dest);
    };
    for (size_t i = 0; i < dests.size(); ++i) {
      const Destination& d = dests[i];
      if (!d.is_name) {
        if (builder.is_external(d.address)) {
          ask(d.address.is_v4() ? intel::OtxKind::kIPv4 : intel::OtxKind::kIPv6, d.address.to_string(), i);
        }
      } else {
        ask(otx_kind_for_name(d.name), d.name, i);
      }
      for (const auto& n : d.domains.values) ask(otx_kind_for_name(n), n, i);
    }
    intel::OtxOptions oo;
    oo.key = otx_key;
    if (!args.otx_url.empty()) oo.base_url = args.otx_url;
    oo.cache_dir = otx_cache_dir(args);
    oo.offline = args.offline;
    intel::OtxClient client(oo);
    auto verdicts = client.lookup(queries);
    otx_counters = client.counters();
    otx_asked = queries.size();
    for (size_t q = 0; q < verdicts.size() && q < owners.size(); ++q) {
      for (size_t i : owners[q]) add_otx_verdict(dests[i], verdicts[q]);
    }
    for (auto& d : dests) {
      judge(d);
      if (d.otx.empty()) d.otx_status = otx_limited ? "not queried (limit)" : "not queried (reserved)";
      if (otx_key.empty() && d.otx_status.rfind("not sent", 0) == 0) d.otx_status = "not queried (no key)";
    }
    sort_destinations(dests);
  }

  // Files.
  std::string jsonl, csv = destinations_csv_header(), loc = locations_csv_header();
  std::string sus_jsonl, sus_csv = suspicious_csv_header();
  uint64_t by_verdict[3] = {0, 0, 0};
  uint64_t names = 0, unattributed = 0;
  for (const auto& d : dests) {
    ++by_verdict[static_cast<size_t>(d.verdict)];
    if (d.is_name) ++names;
    unattributed += d.unattributed;
    append_destination_json(d, jsonl);
    append_destination_csv(d, csv);
    append_location_csv(d, loc);
    if (d.verdict != Verdict::kUnknown) {
      append_destination_json(d, sus_jsonl);
      append_suspicious_csv(d, sus_csv);
    }
  }
  files.write("destinations.jsonl", jsonl);
  files.write("destinations.csv", csv);
  files.write("locations.csv", loc);
  files.write("suspicious.jsonl", sus_jsonl);
  files.write("suspicious.csv", sus_csv);
  if (files.status) status = files.status;

  if (!args.quiet) {
    print_table(dests, std::max(args.top, 20u));
    const auto& c = builder.counters();
    const size_t addresses = dests.size() - static_cast<size_t>(names);
    std::printf(
        "trawl check: %zu destinations (%zu address%s, %llu name%s never connected to) from %llu connections"
        " in %llu packets: %llu malicious, %llu suspicious, %llu unknown\n",
        dests.size(), addresses, addresses == 1 ? "" : "es", static_cast<unsigned long long>(names),
        names == 1 ? "" : "s", static_cast<unsigned long long>(c.conns), static_cast<unsigned long long>(stats.packets),
        static_cast<unsigned long long>(by_verdict[2]), static_cast<unsigned long long>(by_verdict[1]),
        static_cast<unsigned long long>(by_verdict[0]));
    if (c.destinations_dropped || c.names_dropped) {
      std::printf("  limits reached: %llu connections to further destinations and %llu names not kept\n",
                  static_cast<unsigned long long>(c.destinations_dropped),
                  static_cast<unsigned long long>(c.names_dropped));
    }
    if (geoip.available()) {
      std::printf("  GeoIP: %s\n", geoip.describe().c_str());
    } else {
      std::printf("  GeoIP: %s\n", intel::GeoIp::missing_hint().c_str());
    }
    if (args.intel.empty()) {
      std::printf("  intel: no feeds (--intel FILE|DIR)\n");
    } else {
      std::printf("  intel: %zu indicators from %llu files (%llu errors)\n", store.size(),
                  static_cast<unsigned long long>(load.files), static_cast<unsigned long long>(load.errors_total));
    }
    if (otx_key.empty() && !args.offline) {
      std::printf("  OTX: not queried (no key: --otx-key or TRAWL_OTX_KEY)\n");
    } else {
      std::printf(
          "  OTX: %zu indicators%s: %llu requests, %llu from cache, %llu retries, %llu errors, %llu not sent%s\n",
          otx_asked, args.offline ? " (offline: cache only)" : "",
          static_cast<unsigned long long>(otx_counters.requests),
          static_cast<unsigned long long>(otx_counters.cache_hits),
          static_cast<unsigned long long>(otx_counters.retries), static_cast<unsigned long long>(otx_counters.errors),
          static_cast<unsigned long long>(otx_counters.skipped), otx_limited ? ", limit reached" : "");
    }
    std::printf("  findings: %zu\n", findings.size());
    if (args.live) {
      std::printf(
          "  live: %llu packets (%llu dropped by the kernel), %zu sockets seen, unattributed: %llu connections\n",
          static_cast<unsigned long long>(live_result.packets),
          static_cast<unsigned long long>(live_result.kernel_dropped), attribution ? attribution->size() : 0,
          static_cast<unsigned long long>(unattributed));
    }
    std::printf(
        "  files in %s: destinations.jsonl, destinations.csv, locations.csv, suspicious.jsonl, suspicious.csv,"
        " findings.jsonl%s\n",
        args.out_dir.c_str(), args.live ? ", sockets.jsonl, live.pcap" : "");
  }
  return status;
}

}  // namespace trawl::app

#include "app/cli.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <thread>

namespace trawl::app {

namespace {

const char kUsage[] =
    "trawl: network forensics over packet captures\n"
    "\n"
    "usage: trawl COMMAND [options] CAPTURE|FOLDER...\n"
    "\n"
    "commands:\n"
    "  analyze   write records (conn, arp, dns, http ... .jsonl), findings.jsonl and stats.json; print a summary\n"
    "  flows     one line per connection: ts, src, sport, dst, dport, proto (TSV; --csv, --json)\n"
    "  talkers   host pairs by bytes, both directions summed (--top N)\n"
    "  hosts     every IP address with packets and bytes sent/received, connections, first/last seen\n"
    "  check     is this host compromised? every external destination with GeoIP/ASN and threat\n"
    "            intelligence, the suspicious ones first (--live -i IFACE: live, with processes)\n"
    "  intel     load threat-intelligence feeds (--intel or the arguments) and report what loaded\n"
    "  filter    copy matching packets to a new capture (-f BPF, --host IP, --uid UID; -w OUT.pcap)\n"
    "  query     answer questions from a case (--host, --domain, --finding, --between, or SQL)\n"
    "  hunt      run the detectors again over a case's stored records (--from CASE|clickhouse://...)\n"
    "  extract   write the packets behind a finding, connection or host from a case's captures\n"
    "  report    write report.html for a case\n"
    "  sinkhole  a fake internet for a sandbox: answer and record everything a guest sends (-i IFACE)\n"
    "  version   print the version\n"
    "\n"
    "options:\n"
    "  -o DIR             case folder for analyze (default: trawl-out)\n"
    "  -w FILE            output capture for filter\n"
    "  -f EXPR            BPF filter expression (libpcap syntax)\n"
    "  --host IP          filter: packets to or from IP (inner addresses for tunnels)\n"
    "  --uid UID          filter: the packets of one connection (uid from conn.jsonl)\n"
    "  --threads N        flow-table shards (default: number of cores); output is identical for any N\n"
    "  --top N            rows to print (talkers, analyze summary; default 10)\n"
    "  --home-net CIDRS   internal networks, comma separated (default: RFC 1918, ULA, loopback, link-local)\n"
    "  --tsv|--csv|--json output format for flows, talkers, hosts\n"
    "  --tcp-timeout S    TCP inactivity timeout in seconds of packet time (default 300)\n"
    "  --udp-timeout S    UDP inactivity timeout (default 60)\n"
    "  --icmp-timeout S   ICMP inactivity timeout (default 60)\n"
    "  --max-flows N      live connections (all shards together) before the least recently active\n"
    "                     is written early and counted as flow.evicted (default 200000, ~0.8 KB each)\n"
    "  --reveal-credentials  write passwords seen in clear text into auth.jsonl (default: never kept)\n"
    "  --no-analyzers     no protocol analyzers (conn.jsonl only; TCP is still reassembled)\n"
    "  --set KEY=VALUE    analyze: a detector threshold (repeatable; --list-thresholds shows them all)\n"
    "  --detectors NAMES  analyze: run only these detectors (comma separated; default all)\n"
    "  --no-detect        analyze: no detectors (no findings.jsonl)\n"
    "  --intel FILE|DIR   analyze, check: threat-intelligence feeds (repeatable; docs/intel.md)\n"
    "  --geoip-dir DIR    check: MaxMind City/Country/ASN .mmdb files (default /var/lib/GeoIP)\n"
    "  --otx-key KEY      check: AlienVault OTX API key (or TRAWL_OTX_KEY); never printed\n"
    "  --otx-cache DIR    check: OTX answer cache (default ~/.cache/trawl/otx)\n"
    "  --offline          check: never query OTX, use only its cache\n"
    "  --live -i IFACE    check: capture live and name the process behind each connection\n"
    "  --duration D       check --live: how long (90s, 10m, 2h; default until Ctrl-C)\n"
    "  --list-thresholds  analyze: print every detector threshold with its default and exit\n"
    "  --append           analyze: add to the case folder's case.db (captures already in it are skipped)\n"
    "  --no-case-db       analyze: do not write case.db\n"
    "  --no-report        analyze: do not write report.html\n"
    "  --sink URL         analyze: also send every record to clickhouse://HOST:8123/DB (repeatable)\n"
    "  -q, --quiet        analyze: no terminal summary\n"
    "  --no-progress      never draw the progress bar\n"
    "\n"
    "exit status: 0 success, 1 some input could not be read (the rest was processed), 2 usage error,\n"
    "             3 output could not be written\n";

bool parse_uint(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

std::optional<double> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double unit = 1;
  char last = s.back();
  if (last == 's' || last == 'm' || last == 'h' || last == 'd') {
    unit = last == 's' ? 1 : last == 'm' ? 60 : last == 'h' ? 3600 : 86400;
    s.remove_suffix(1);
  }
  uint64_t n = 0;
  if (!parse_uint(s, n) || n > 86400ULL * 366) return std::nullopt;
  double v = static_cast<double>(n) * unit;
  if (v > 86400.0 * 366) return std::nullopt;
  return v;
}


std::optional<Args> parse_args(int argc, char** argv, int& exit_code) {
  exit_code = 2;
  Args a;
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return std::nullopt;
  }
  a.command = argv[1];
  unsigned cores = std::thread::hardware_concurrency();
  a.engine.threads = cores == 0 ? 1 : cores;
  a.engine.progress = true;
  for (int i = 0; i < argc; ++i) {
    if (i) a.command_line += ' ';
    a.command_line += argv[i];
  }

  for (int i = 2; i < argc; ++i) {
    std::string_view opt = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "trawl: option %s needs a value (see trawl --help)\n", argv[i]);
        return false;
      }
      out = argv[++i];
      return true;
    };
    auto number = [&](uint64_t& out) {
      std::string v;
      if (!value(v)) return false;
      if (!parse_uint(v, out)) {
        std::fprintf(stderr, "trawl: option %s needs a whole number, not '%s'\n", argv[i - 1], v.c_str());
        return false;
      }
      return true;
    };
    uint64_t n = 0;
    if (opt == "-o") {
      if (!value(a.out_dir)) return std::nullopt;
    } else if (opt == "-w") {
      if (!value(a.write_path)) return std::nullopt;
    } else if (opt == "-f") {
      if (!value(a.bpf)) return std::nullopt;
    } else if (opt == "--host") {
      if (!value(a.host)) return std::nullopt;
    } else if (opt == "--uid") {
      if (!value(a.uid)) return std::nullopt;
    } else if (opt == "--threads") {
      if (!number(n)) return std::nullopt;
      if (n < 1 || n > 256) {
        std::fputs("trawl: --threads must be between 1 and 256\n", stderr);
        return std::nullopt;
      }
      a.engine.threads = static_cast<unsigned>(n);
    } else if (opt == "--top") {
      if (!number(n)) return std::nullopt;
      a.top = static_cast<unsigned>(std::min<uint64_t>(n, 1000000));
    } else if (opt == "--tcp-timeout" || opt == "--udp-timeout" || opt == "--icmp-timeout") {
      if (!number(n)) return std::nullopt;
      if (n < 1 || n > 86400 * 365) {
        std::fprintf(stderr, "trawl: %s must be between 1 and 31536000 seconds\n", argv[i - 1]);
        return std::nullopt;
      }
      int64_t ns = static_cast<int64_t>(n) * 1000000000;
      if (opt == "--tcp-timeout") a.engine.flow.tcp_inactivity_ns = ns;
      else if (opt == "--udp-timeout") a.engine.flow.udp_inactivity_ns = ns;
      else a.engine.flow.icmp_inactivity_ns = ns;
    } else if (opt == "--max-flows") {
      if (!number(n)) return std::nullopt;
      if (n < 1) {
        std::fputs("trawl: --max-flows must be at least 1\n", stderr);
        return std::nullopt;
      }
      a.engine.flow.max_flows = n;
    } else if (opt == "--home-net") {
      std::string v;
      if (!value(v)) return std::nullopt;
      std::string_view rest = v;
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        auto net = core::IpNetwork::parse(item);
        if (!net) {
          std::fprintf(stderr, "trawl: --home-net: '%.*s' is not an address or CIDR prefix\n",
                       static_cast<int>(item.size()), item.data());
          return std::nullopt;
        }
        a.home_net.push_back(*net);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    } else if (opt == "--json") {
      a.format = Format::kJson;
    } else if (opt == "--csv") {
      a.format = Format::kCsv;
    } else if (opt == "--tsv") {
      a.format = Format::kTsv;
    } else if (opt == "-q" || opt == "--quiet") {
      a.quiet = true;
    } else if (opt == "--no-progress") {
      a.engine.progress = false;
    } else if (opt == "--reveal-credentials") {
      a.engine.analyzer.reveal_credentials = true;
    } else if (opt == "--no-analyzers") {
      a.engine.analyzers = false;
    } else if (opt == "--set") {
      std::string kv;
      if (!value(kv)) return std::nullopt;
      a.detect_set.push_back(kv);
    } else if (opt == "--detectors") {
      std::string list;
      if (!value(list)) return std::nullopt;
      size_t start = 0;
      while (start <= list.size()) {
        size_t comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        if (comma > start) a.detectors.push_back(list.substr(start, comma - start));
        start = comma + 1;
      }
    } else if (opt == "--intel") {
      std::string v;
      if (!value(v)) return std::nullopt;
      a.intel.push_back(v);
    } else if (opt == "--geoip-dir") {
      if (!value(a.geoip_dir)) return std::nullopt;
    } else if (opt == "--otx-key") {
      if (!value(a.otx_key)) return std::nullopt;
    } else if (opt == "--otx-url") {
      if (!value(a.otx_url)) return std::nullopt;
    } else if (opt == "--otx-cache") {
      if (!value(a.otx_cache)) return std::nullopt;
    } else if (opt == "--offline") {
      a.offline = true;
    } else if (opt == "--live") {
      a.live = true;
    } else if (opt == "-i") {
      if (!value(a.iface)) return std::nullopt;
    } else if (opt == "--duration") {
      std::string v;
      if (!value(v)) return std::nullopt;
      auto d = parse_duration(v);
      if (!d) {
        std::fprintf(stderr, "trawl: --duration: '%s' is not a duration (90, 90s, 10m, 2h)\n", v.c_str());
        return std::nullopt;
      }
      a.duration_s = *d;
    } else if (opt == "--append") {
      a.append = true;
    } else if (opt == "--no-case-db") {
      a.no_case_db = true;
    } else if (opt == "--no-report") {
      a.no_report = true;
    } else if (opt == "--sink") {
      std::string v;
      if (!value(v)) return std::nullopt;
      a.sinks.push_back(v);
    } else if (opt == "--no-detect") {
      a.no_detect = true;
    } else if (opt == "--list-thresholds") {
      a.list_thresholds = true;
    } else if (opt == "-h" || opt == "--help") {
      std::fputs(kUsage, stdout);
      exit_code = 0;
      return std::nullopt;
    } else if (opt.size() > 1 && opt[0] == '-') {
      std::fprintf(stderr, "trawl: unknown option %s (see trawl --help)\n", argv[i]);
      return std::nullopt;
    } else {
      a.inputs.emplace_back(opt);
    }
  }
  return a;
}

int report_input_errors(const RunStats& stats) {
  for (const auto& e : stats.input_errors) std::fprintf(stderr, "trawl: %s\n", e.c_str());
  return stats.input_errors.empty() ? 0 : 1;
}

int run_cli(int argc, char** argv) {
  if (argc >= 2) {
    std::string_view c = argv[1];
    if (c == "-h" || c == "--help" || c == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (c == "version" || c == "--version") {
      std::printf("trawl %s\n", kVersion);
      return 0;
    }
  }
  if (argc >= 2) {
    std::string_view c = argv[1];
    if (c == "sinkhole" || c == "query" || c == "hunt" || c == "extract" || c == "report") {
      std::vector<std::string> rest(argv + 2, argv + argc);
      if (c == "sinkhole") return cmd_sinkhole(rest);
      if (c == "query") return cmd_query(rest);
      if (c == "hunt") return cmd_hunt(rest);
      if (c == "extract") return cmd_extract(rest);
      return cmd_report(rest);
    }
  }
  int code = 2;
  auto args = parse_args(argc, argv, code);
  if (!args) return code;
  const std::string& c = args->command;
  if (args->inputs.empty() && !(c == "analyze" && args->list_thresholds) && !(c == "check" && args->live) &&
      !(c == "intel" && !args->intel.empty())) {
    std::fprintf(stderr, "trawl %s: give at least one capture file or folder\n", c.c_str());
    return 2;
  }
  if (c == "analyze") return cmd_analyze(*args);
  if (c == "flows") return cmd_flows(*args);
  if (c == "talkers") return cmd_talkers(*args);
  if (c == "hosts") return cmd_hosts(*args);
  if (c == "filter") return cmd_filter(*args);
  if (c == "check") return cmd_check(*args);
  if (c == "intel") return cmd_intel(*args);
  std::fprintf(stderr, "trawl: unknown command '%s' (see trawl --help)\n", c.c_str());
  return 2;
}

}  // namespace trawl::app

// `trawl sinkhole -i IFACE -o CASE_DIR`: a fake internet for a sandboxed
// guest on a host-only interface. Joins the pure Sinkhole driver to libpcap
// (sinkhole/live_io.h), the clock and signals; refuses to start on a host that
// could forward or route the guest's packets (sinkhole/safety.h); at the end
// analyses its own pcap with `trawl analyze`'s code so the case holds the same
// records and findings an analysis of that pcap gives. See docs/sinkhole.md.
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/cli.h"
#include "core/ip_address.h"
#include "core/timestamp.h"
#include "sinkhole/case_writer.h"
#include "sinkhole/config.h"
#include "sinkhole/live_io.h"
#include "sinkhole/safety.h"
#include "sinkhole/sinkhole.h"
#include "sinkhole/tls_session.h"

namespace trawl::app {

namespace {

// One CA for every case by default, so a guest image (a snapshot the sandbox
// reverts to) trusts it once: $TRAWL_SINKHOLE_CA_DIR, else
// $XDG_DATA_HOME/trawl/sinkhole-ca, else ~/.local/share/trawl/sinkhole-ca;
// with no home at all, the case folder's ca/. `ca_dir` in the configuration
// overrides it.
std::string default_ca_dir(const std::filesystem::path& case_dir) {
  if (const char* d = std::getenv("TRAWL_SINKHOLE_CA_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x == '/') {
    return (std::filesystem::path(x) / "trawl" / "sinkhole-ca").string();
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && *h == '/') {
    return (std::filesystem::path(h) / ".local" / "share" / "trawl" / "sinkhole-ca").string();
  }
  return (case_dir / "ca").string();
}

constexpr const char* kUsage =
    "usage: trawl sinkhole -i IFACE -o CASE_DIR [options]\n"
    "\n"
    "Answers everything a sandboxed guest on the host-only interface IFACE sends\n"
    "(DNS, HTTP, TLS, SMTP, FTP, IRC, any TCP port, ping) and records it in CASE_DIR:\n"
    "sinkhole.pcap, the sinkhole_* logs, iocs.json, summary.txt, and the records and\n"
    "findings of `trawl analyze` on sinkhole.pcap. Stops on Ctrl-C / SIGTERM or after\n"
    "--duration. Needs root (or CAP_NET_RAW). See docs/sinkhole.md.\n"
    "\n"
    "  -i IFACE             the host-only interface the guest is on (required)\n"
    "  -o CASE_DIR          the case folder (required; created)\n"
    "  --config FILE        sinkhole configuration (TOML; see samples/sinkhole.toml)\n"
    "  --duration D         stop after D (90, 90s, 10m, 2h, 1d); default: until Ctrl-C\n"
    "  --dns-address IP     every DNS name resolves to IP (default: one address per\n"
    "                       name from the pool, so connections map back to names)\n"
    "  --allow-forwarding   start even though IP forwarding is on (unsafe)\n"
    "  --allow-route        start even though IFACE has a route out (unsafe)\n"
    "  -q                   no summary\n";

// Frames handled per pcap_dispatch, so timers are not starved by a flood.
constexpr int kDispatchBatch = 256;
// The longest poll() wait: signals, --duration and the pcap flush are checked
// at least this often even with nothing to do.
constexpr int64_t kMaxWaitNs = 200'000'000;

volatile sig_atomic_t g_stop = 0;
extern "C" void sinkhole_on_stop_signal(int) { g_stop = 1; }

// Restores SIGINT/SIGTERM handlers whichever way the run ends.
class SignalScope {
 public:
  SignalScope() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = sinkhole_on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SignalScope() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

int64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * core::kNsPerSec + ts.tv_nsec;
}

struct Options {
  std::string iface;
  std::string case_dir;
  std::string config;
  double duration_s = 0;
  std::optional<core::IpAddress> dns_address;
  bool allow_forwarding = false;
  bool allow_route = false;
  bool quiet = false;
  std::string command_line;
};

// 0: parsed; 1: help printed (exit 0); 2: error printed.
int parse(const std::vector<std::string>& argv, Options& o) {
  o.command_line = "trawl sinkhole";
  for (const auto& a : argv) o.command_line += " " + a;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argv.size()) {
        std::fprintf(stderr, "trawl sinkhole: %s needs a value\n", a.c_str());
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 1;
    } else if (a == "-i") {
      if (!value(o.iface)) return 2;
    } else if (a == "-o") {
      if (!value(o.case_dir)) return 2;
    } else if (a == "--config") {
      if (!value(o.config)) return 2;
    } else if (a == "--duration") {
      if (!value(v)) return 2;
      auto d = parse_duration(v);
      if (!d || *d <= 0) {
        std::fprintf(stderr, "trawl sinkhole: --duration '%s': expected a duration such as 90s, 10m or 2h\n",
                     v.c_str());
        return 2;
      }
      o.duration_s = *d;
    } else if (a == "--dns-address") {
      if (!value(v)) return 2;
      o.dns_address = core::IpAddress::parse(v);
      if (!o.dns_address) {
        std::fprintf(stderr, "trawl sinkhole: --dns-address '%s' is not an IP address\n", v.c_str());
        return 2;
      }
    } else if (a == "--allow-forwarding") {
      o.allow_forwarding = true;
    } else if (a == "--allow-route") {
      o.allow_route = true;
    } else if (a == "-q" || a == "--quiet") {
      o.quiet = true;
    } else {
      std::fprintf(stderr, "trawl sinkhole: unknown option '%s' (see trawl sinkhole -h)\n", a.c_str());
      return 2;
    }
  }
  if (o.iface.empty() || o.case_dir.empty()) {
    std::fprintf(stderr, "trawl sinkhole: -i IFACE and -o CASE_DIR are required (see trawl sinkhole -h)\n");
    return 2;
  }
  return 0;
}

// The interface's own addresses: the host's kernel answers those (ARP, its
// own services), so the sinkhole must leave them alone.
std::vector<core::IpNetwork> own_addresses(const std::string& iface) {
  std::vector<core::IpNetwork> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || !a->ifa_name || iface != a->ifa_name) continue;
    if (a->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      out.push_back({core::IpAddress::v4(reinterpret_cast<const uint8_t*>(&sin->sin_addr)), 32});
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
      out.push_back({core::IpAddress::v6(sin6->sin6_addr.s6_addr), 128});
    }
  }
  freeifaddrs(list);
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return s;
}

}  // namespace

int cmd_sinkhole(const std::vector<std::string>& argv) {
  Options o;
  if (int rc = parse(argv, o); rc != 0) return rc == 1 ? 0 : 2;

  // Safety first: nothing is opened on a host that could leak the guest's
  // packets to the real network.
  {
    sinkhole::SafetyInputs in;
    std::string err;
    if (!sinkhole::read_safety_inputs(o.iface, in, err)) {
      std::fprintf(stderr, "trawl sinkhole: -i %s\n", err.c_str());
      return 2;
    }
    auto problems = sinkhole::safety_problems(in, {o.allow_forwarding, o.allow_route});
    for (const auto& p : problems) std::fprintf(stderr, "trawl sinkhole: refusing to start: %s\n", p.c_str());
    if (!problems.empty()) return 2;
    for (const auto& w : sinkhole::safety_warnings(in)) std::fprintf(stderr, "trawl sinkhole: warning: %s\n", w.c_str());
    if (o.allow_forwarding || o.allow_route) {
      std::fprintf(stderr, "trawl sinkhole: warning: safety checks overridden (%s%s%s)\n",
                   o.allow_forwarding ? "--allow-forwarding" : "",
                   o.allow_forwarding && o.allow_route ? ", " : "", o.allow_route ? "--allow-route" : "");
    }
  }

  sinkhole::SinkholeConfig cfg;
  if (!o.config.empty()) {
    std::string err;
    if (!sinkhole::load_config(o.config, cfg, err)) {
      std::fprintf(stderr, "trawl sinkhole: --config %s\n", err.c_str());
      return 2;
    }
  }
  if (o.dns_address) {
    cfg.dns.mode = sinkhole::DnsResponderConfig::Mode::kFixed;
    if (o.dns_address->is_v4()) {
      cfg.dns.fixed_v4 = *o.dns_address;
    } else {
      cfg.dns.fixed_v6 = *o.dns_address;
    }
  }
  {
    std::string err;
    if (!sinkhole::interface_mac(o.iface, cfg.own_mac, err)) {
      std::fprintf(stderr, "trawl sinkhole: %s\n", err.c_str());
      return 2;
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(o.case_dir, ec);
  if (ec) {
    std::fprintf(stderr, "trawl sinkhole: cannot create case folder %s: %s\n", o.case_dir.c_str(),
                 ec.message().c_str());
    return 2;
  }
  const std::filesystem::path case_dir(o.case_dir);
  if (cfg.ca_dir.empty()) cfg.ca_dir = default_ca_dir(case_dir);
  for (const auto& n : own_addresses(o.iface)) cfg.never_answer.push_back(n);
  if (std::string bad = sinkhole::Sinkhole::check_config(cfg); !bad.empty()) {
    std::fprintf(stderr, "trawl sinkhole: configuration: %s\n", bad.c_str());
    return 2;
  }

  std::unique_ptr<sinkhole::TlsAuthority> ca;
  {
    std::string err;
    ca = sinkhole::TlsAuthority::open(cfg.ca_dir, err);
    if (!ca) {
      std::fprintf(stderr, "trawl sinkhole: warning: no TLS (%s); TLS connections get the catch-all\n",
                   err.c_str());
    } else {
      // The case keeps the certificate it was made with (not the key).
      std::error_code copy_ec;
      std::filesystem::copy_file(ca->ca_cert_path(), case_dir / "sinkhole-ca.crt",
                                 std::filesystem::copy_options::overwrite_existing, copy_ec);
      if (copy_ec) {
        std::fprintf(stderr, "trawl sinkhole: warning: cannot copy the CA certificate into the case: %s\n",
                     copy_ec.message().c_str());
      }
    }
  }

  const std::string pcap_path = (case_dir / "sinkhole.pcap").string();
  sinkhole::CaseWriter writer(case_dir.string(), sinkhole::case_limits(cfg.limits));
  {
    std::string err;
    if (!writer.open(err)) {
      std::fprintf(stderr, "trawl sinkhole: %s\n", err.c_str());
      return 2;
    }
  }
  sinkhole::LiveIo io;
  {
    sinkhole::LiveIoOptions lo;
    lo.iface = o.iface;
    lo.pcap_path = pcap_path;
    std::string err;
    if (!io.open(lo, err)) {
      std::fprintf(stderr, "trawl sinkhole: %s\n", err.c_str());
      return 2;
    }
  }

  sinkhole::Sinkhole hole(cfg, ca.get(), writer);
  // Injected frames get the wall clock, never earlier than the frame being
  // answered, so the pcap stays in time order.
  int64_t last_ts = 0;
  auto stamp = [&]() {
    last_ts = std::max(last_ts, clock_ns(CLOCK_REALTIME));
    return core::Timestamp{last_ts};
  };
  hole.inject = [&](core::ByteView frame) { io.inject(frame, stamp()); };
  uint64_t current_index = 0;
  hole.pcap_index = [&]() { return current_index; };
  const sinkhole::LiveIo::FrameFn on_frame = [&](core::ByteView frame, core::Timestamp ts) {
    current_index = io.pcap_frames() - 1;  // LiveIo wrote it just before this call
    last_ts = std::max(last_ts, ts.ns);
    hole.on_frame(frame, ts);
  };

  const core::Timestamp started{clock_ns(CLOCK_REALTIME)};
  if (!o.quiet) {
    std::fprintf(stderr, "trawl sinkhole: answering on %s; case %s; CA %s. Ctrl-C stops.\n", o.iface.c_str(),
                 o.case_dir.c_str(), ca ? ca->ca_cert_path().c_str() : "(none)");
  }

  int status = 0;
  {
    SignalScope signals;
    const int64_t start = clock_ns(CLOCK_MONOTONIC);
    const int64_t end = o.duration_s > 0 && std::isfinite(o.duration_s)
                            ? start + static_cast<int64_t>(std::min(o.duration_s, 4e8) * 1e9)
                            : INT64_MAX;
    while (!g_stop) {
      int64_t mono = clock_ns(CLOCK_MONOTONIC);
      if (mono >= end) break;
      int64_t now = clock_ns(CLOCK_REALTIME);
      int64_t due = hole.next_deadline().ns;
      if (due <= now) {
        hole.on_timer(core::Timestamp{stamp()});
        due = hole.next_deadline().ns;
      }
      int64_t wait = std::min({end - mono, kMaxWaitNs, due > now ? due - now : 0});
      int wait_ms = static_cast<int>(std::clamp<int64_t>((wait + 999'999) / 1'000'000, 0, 1000));
      if (io.selectable_fd() >= 0) {
        pollfd pfd{io.selectable_fd(), POLLIN, 0};
        int pr = ::poll(&pfd, 1, wait_ms);
        if (pr < 0 && errno != EINTR) {
          std::fprintf(stderr, "trawl sinkhole: poll on the capture failed: %s\n", std::strerror(errno));
          status = 3;
          break;
        }
      }
      std::string err;
      int n = io.dispatch(kDispatchBatch, on_frame, err);
      if (n < 0) {
        std::fprintf(stderr, "trawl sinkhole: %s\n", err.c_str());
        status = 3;
        break;
      }
      if (n == 0 && io.selectable_fd() < 0) {
        timespec nap{0, 5'000'000};
        nanosleep(&nap, nullptr);
      }
      io.maybe_flush(clock_ns(CLOCK_MONOTONIC));
    }
  }

  hole.finish(stamp());
  {
    std::string err;
    if (!io.close(err)) {
      std::fprintf(stderr, "trawl sinkhole: %s\n", err.c_str());
      status = 3;
    }
  }
  const auto& c = io.counters();
  if (c.inject_failed) {
    std::fprintf(stderr, "trawl sinkhole: %llu frame%s could not be sent (%s)\n",
                 static_cast<unsigned long long>(c.inject_failed), c.inject_failed == 1 ? "" : "s",
                 io.last_inject_error().c_str());
  }
  if (writer.write_errors()) {
    std::fprintf(stderr, "trawl sinkhole: %llu write error%s in the case folder\n",
                 static_cast<unsigned long long>(writer.write_errors()), writer.write_errors() == 1 ? "" : "s");
    status = 3;
  }

  // The same records and findings `trawl analyze sinkhole.pcap -o CASE_DIR`
  // gives, from the same code.
  Args a;
  a.command = "analyze";
  a.inputs = {pcap_path};
  a.out_dir = o.case_dir;
  a.quiet = true;
  a.command_line = o.command_line;
  a.engine.threads = 1;
  a.engine.progress = false;
  int analyze_rc = cmd_analyze(a);
  if (analyze_rc != 0) {
    std::fprintf(stderr, "trawl sinkhole: the analysis of %s failed (exit %d)\n", pcap_path.c_str(), analyze_rc);
    if (status == 0) status = analyze_rc;
  }

  if (!o.quiet) {
    std::string summary = read_text((case_dir / "summary.txt").string());
    std::fputs(summary.c_str(), stdout);
    if (!summary.empty() && summary.back() != '\n') std::fputc('\n', stdout);
    const double secs = static_cast<double>(clock_ns(CLOCK_REALTIME) - started.ns) / 1e9;
    std::printf("\nran %.1f s: %llu guest frames, %llu sent, %llu dropped by the kernel\n", secs,
                static_cast<unsigned long long>(c.frames_in), static_cast<unsigned long long>(c.injected),
                static_cast<unsigned long long>(c.kernel_dropped));
    std::printf("case folder:   %s\n", o.case_dir.c_str());
    std::printf("  capture:     %s\n", pcap_path.c_str());
    std::printf("  sinkhole:    sinkhole_*.jsonl, iocs.json, summary.txt, files/\n");
    std::printf("  analysis:    conn.jsonl and the protocol logs, findings.jsonl, case.db, report.html\n");
    if (ca) std::printf("CA to install in the guest: %s\n", ca->ca_cert_path().c_str());
  }
  return status;
}

}  // namespace trawl::app

// Brute-force password guessing against one server (docs/findings/bruteforce.md):
// bruteforce.<service> for many failed logins from one client to one server
// and service in an episode (from auth records), or, where the protocol hides
// the attempts (SSH the analyzer cannot infer, RDP, VNC), for many short
// sessions (from connection records); bruteforce.success for a login that
// follows such a run. Runs that look like password spraying (many users, few
// tries each) are left to the spray detector.
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "analyzers/common/auth_record.h"
#include "analyzers/ssh/ssh_record.h"
#include "detect/detector.h"
#include "detect/text.h"
#include "detect/evidence.h"
#include "output/json_line.h"

namespace trawl::detect {
namespace {

using namespace text;  // detect/text.h: summary formatting shared by the detectors

using analyzers::AuthOutcome;
using analyzers::AuthRecord;

constexpr size_t kUserSample = 10;
constexpr size_t kUserCap = 256;
constexpr size_t kSpanCap = 64;    // reported auth runs remembered per group
constexpr size_t kConnCap = 1024;  // connection uids tracked exactly per run

struct Thresholds {
  double min_failures;
  double min_unknown_attempts;
  double high_failures;
  int64_t gap_ns;
  int64_t success_window_ns;
  double slow_rate_per_min;
  double min_short_conns;
  int64_t conn_max_duration_ns;
  double conn_min_orig_bytes;
  double max_groups;
  double spray_min_users;
  double spray_max_attempts_per_user;
  double spray_min_failure_ratio;
};






// Attempts per minute over the episode (at least one second long).
double per_minute(uint64_t n, int64_t span_ns) {
  const double s = std::max(1.0, static_cast<double>(span_ns) / 1e9);
  return static_cast<double>(n) * 60.0 / s;
}


bool guessable_service(std::string_view p) {
  return p == "pop3" || p == "imap" || p == "smtp" || p == "ftp" || p == "http" || p == "ssh" || p == "rdp" ||
         p == "smb";
}

struct Success {
  core::Timestamp ts;
  std::string user;
  std::string uid;
  uint64_t failures_before = 0;
  uint16_t port = 0;
};

// One episode of login attempts from one client to one server and service.
struct AuthRun {
  Span span;
  uint64_t attempts = 0;
  uint64_t failures = 0;
  uint64_t successes = 0;
  uint64_t unknown = 0;
  DistinctSet<std::string> users{kUserCap};
  DistinctSet<std::string> failed_users{kUserCap};
  DistinctSet<uint16_t> ports{16};
  DistinctSet<std::string> conns{kConnCap};  // connections the attempts came in
  std::string last_uid;
  Evidence evidence{20};                     // one uid per connection
  std::optional<Success> success;            // first success after the run qualified
};

// What is kept of a reported run, for a success that comes later.
struct ReportedRun {
  Span span;
  uint64_t failures = 0;
  bool success_reported = false;
};

struct AuthGroup {
  bool open = false;
  AuthRun run;
  std::optional<ReportedRun> last;   // the last reported (or sprayed) run
  std::vector<Span> covered;         // spans of reported or sprayed runs (for the conn fallback)
};

// One episode of short sessions to a service whose attempts are hidden.
struct ConnRun {
  Span span;
  uint64_t short_sessions = 0;
  uint64_t successes = 0;  // sessions the SSH analyzer saw log in
  uint64_t orig_bytes = 0;
  DistinctSet<uint16_t> ports{16};
  Evidence evidence{20};
};

struct ConnGroup {
  bool open = false;
  ConnRun run;
  std::vector<ConnRun> qualified;  // closed runs over the threshold (checked in finish)
};

using Key = std::tuple<core::IpAddress, core::IpAddress, std::string>;  // client, server, service

class BruteforceDetector final : public Detector {
 public:
  explicit BruteforceDetector(Config& c) {
    t_.min_failures = c.get("bruteforce.min_failures", 10,
                            "failed logins from one client to one server and service in an episode");
    t_.min_unknown_attempts = c.get("bruteforce.min_unknown_attempts", 20,
                                    "RDP: login attempts with an unseen outcome (cookies) in an episode");
    t_.high_failures = c.get("bruteforce.high_failures", 100, "failed attempts that make a brute-force run high severity");
    t_.gap_ns = seconds_to_ns(c.get("bruteforce.episode_gap_s", 1800, "idle seconds that end a brute-force episode"));
    t_.success_window_ns = seconds_to_ns(c.get("bruteforce.success_window_s", 86400,
                                               "seconds after a brute-force run in which a login counts as its success"));
    t_.slow_rate_per_min = c.get("bruteforce.slow_rate_per_min", 1,
                                 "one user tried slower than this (per minute) looks like a stale password: low");
    t_.min_short_conns = c.get("bruteforce.min_short_conns", 20,
                               "SSH/RDP/VNC: short sessions without a seen login, one client to one server, per episode");
    t_.conn_max_duration_ns = seconds_to_ns(c.get("bruteforce.conn_max_duration_s", 30,
                                                  "longest session counted as a short (guessing) session"));
    t_.conn_min_orig_bytes = c.get("bruteforce.conn_min_orig_bytes", 20,
                                   "client payload bytes a short session must carry (it reached the service)");
    t_.max_groups = c.get("bruteforce.max_groups", 100000, "client/server/service groups tracked (memory cap)");
    t_.spray_min_users = c.get("spray.min_users", 10, "distinct users that failed from one source in an episode");
    t_.spray_max_attempts_per_user = c.get("spray.max_attempts_per_user", 3,
                                           "mean attempts per user and server, at most, for a spray");
    t_.spray_min_failure_ratio = c.get("spray.min_failure_ratio", 0.5, "failed share of the logins with a known outcome");
  }

  void on_record(const analyzers::Record& r) override {
    if (r.log() == "auth") {
      on_auth(static_cast<const AuthRecord&>(r));
    } else if (r.log() == "ssh") {
      const auto& s = static_cast<const analyzers::ssh::SshRecord&>(r);
      if (s.auth_success.value_or(false) && ssh_success_uids_.size() < kSuccessUidCap) ssh_success_uids_.insert(s.uid);
    }
  }

  void on_conn(const flow::ConnRecord& r) override {
    if (r.proto != 6) return;
    std::string svc = hidden_service(r);
    if (svc.empty()) return;
    bool success = false;
    if (auto it = ssh_success_uids_.find(r.uid); it != ssh_success_uids_.end()) {
      success = true;
      ssh_success_uids_.erase(it);
    }
    const bool short_session = r.duration_ns <= t_.conn_max_duration_ns &&
                               static_cast<double>(r.orig_bytes) >= t_.conn_min_orig_bytes && r.resp_bytes > 0;
    if (!short_session && !success) return;
    Key key{r.orig_h, r.resp_h, std::move(svc)};
    auto it = conn_groups_.find(key);
    if (it == conn_groups_.end()) {
      if (static_cast<double>(conn_groups_.size()) >= t_.max_groups) {
        ++dropped_;
        return;
      }
      it = conn_groups_.emplace(std::move(key), ConnGroup{}).first;
    }
    ConnGroup& g = it->second;
    if (g.open && r.ts - g.run.span.last > t_.gap_ns) close_conn(g);
    g.open = true;
    ConnRun& run = g.run;
    run.span.add(r.ts);
    run.ports.add(r.resp_p);
    if (success) {
      ++run.successes;
      return;
    }
    ++run.short_sessions;
    run.orig_bytes += r.orig_bytes;
    run.evidence.add(r.uid);
  }

  void finish(std::vector<Finding>& out) override {
    for (auto& [key, g] : auth_groups_) {
      if (g.open) close_auth(key, g);
    }
    for (auto& [key, g] : conn_groups_) {
      if (g.open) close_conn(g);
      const auto auth = auth_groups_.find(key);
      for (const ConnRun& run : g.qualified) {
        if (auth != auth_groups_.end() && overlaps(auth->second.covered, run.span)) continue;
        out.push_back(conn_finding(key, run));
      }
    }
    for (auto& f : pending_) out.push_back(std::move(f));
    pending_.clear();
  }

 private:
  static constexpr size_t kSuccessUidCap = 100000;

  static std::string hidden_service(const flow::ConnRecord& r) {
    const std::string& s = r.service;
    if (s.find("ssh") != std::string::npos) return "ssh";
    if (s.find("rdp") != std::string::npos) return "rdp";
    if (!s.empty()) return {};
    if (r.resp_p == 22) return "ssh";
    if (r.resp_p == 3389) return "rdp";
    if (r.resp_p >= 5900 && r.resp_p <= 5903) return "vnc";
    return {};
  }

  static bool overlaps(const std::vector<Span>& spans, const Span& s) {
    for (const Span& c : spans) {
      if (c.first <= s.last && s.first <= c.last) return true;
    }
    return false;
  }

  void on_auth(const AuthRecord& a) {
    if (!guessable_service(a.proto)) return;
    Key key{a.client, a.server, a.proto};
    auto it = auth_groups_.find(key);
    if (it == auth_groups_.end()) {
      if (static_cast<double>(auth_groups_.size()) >= t_.max_groups) {
        ++dropped_;
        return;
      }
      it = auth_groups_.emplace(std::move(key), AuthGroup{}).first;
    }
    AuthGroup& g = it->second;
    if (g.open && a.ts - g.run.span.last > t_.gap_ns) close_auth(it->first, g);
    if (!g.open) {
      g.run = AuthRun{};
      g.open = true;
    }
    AuthRun& run = g.run;
    run.span.add(a.ts);
    ++run.attempts;
    run.ports.add(a.server_port);
    if (!a.user.empty()) run.users.add(a.user);
    if (a.uid != run.last_uid && run.conns.add(a.uid)) run.evidence.add(a.uid);
    run.last_uid = a.uid;
    switch (a.outcome) {
      case AuthOutcome::kFailure:
        ++run.failures;
        if (!a.user.empty()) run.failed_users.add(a.user);
        break;
      case AuthOutcome::kUnknown:
        ++run.unknown;
        break;
      case AuthOutcome::kSuccess:
        ++run.successes;
        if (!run.success && qualifies(a.proto, run)) {
          run.success = Success{a.ts, a.user, a.uid, run.failures, a.server_port};
        } else if (!run.success && g.last && !g.last->success_reported && run.failures == 0 &&
                   a.ts - g.last->span.last <= t_.success_window_ns) {
          // The client comes back after a finished run and logs in.
          g.last->success_reported = true;
          Success s{a.ts, a.user, a.uid, g.last->failures, a.server_port};
          pending_.push_back(success_finding(it->first, g.last->span, s, g.last->failures, a.ts, nullptr));
        }
        break;
    }
  }

  // Enough failures; for RDP, whose analyzer sees only the cookie, enough
  // attempts whatever their (unseen) outcome.
  bool qualifies(std::string_view proto, const AuthRun& run) const {
    if (static_cast<double>(run.failures) >= t_.min_failures) return true;
    return proto == "rdp" && static_cast<double>(run.failures + run.unknown) >= t_.min_unknown_attempts;
  }

  // The spray detector's test, applied to this one server (it reports the run).
  bool looks_like_spray(std::string_view proto, const AuthRun& run) const {
    if (proto == "ssh") return false;  // no user names: never a spray
    const uint64_t users = run.users.count();
    if (static_cast<double>(run.failed_users.count()) < t_.spray_min_users) return false;
    if (static_cast<double>(run.attempts) > t_.spray_max_attempts_per_user * static_cast<double>(users)) return false;
    const uint64_t known = run.failures + run.successes;
    return known > 0 && static_cast<double>(run.failures) >= t_.spray_min_failure_ratio * static_cast<double>(known);
  }

  void close_auth(const Key& key, AuthGroup& g) {
    g.open = false;
    const AuthRun run = std::exchange(g.run, AuthRun{});  // frees the closed run's sets
    if (!qualifies(std::get<2>(key), run)) return;
    if (g.covered.size() < kSpanCap) g.covered.push_back(run.span);
    // A spray run is the spray detector's (with its success).
    const bool spray = looks_like_spray(std::get<2>(key), run);
    g.last = ReportedRun{run.span, run.failures, spray || run.success.has_value()};
    if (spray) return;
    pending_.push_back(run_finding(key, run));
    if (run.success) {
      pending_.push_back(
          success_finding(key, run.span, *run.success, run.success->failures_before, run.span.last, &run));
    }
  }

  void close_conn(ConnGroup& g) {
    g.open = false;
    if (static_cast<double>(g.run.short_sessions) >= t_.min_short_conns && g.qualified.size() < kSpanCap) {
      g.qualified.push_back(std::move(g.run));
    }
    g.run = ConnRun{};
  }

  static std::vector<std::string> dst_of(const Key& key) { return {std::get<1>(key).to_string()}; }

  Finding run_finding(const Key& key, const AuthRun& run) const {
    const auto& [client, server, proto] = key;
    const bool unknown_basis = static_cast<double>(run.failures) < t_.min_failures;
    const int64_t span_ns = run.span.last - run.span.first;
    const double rate = per_minute(run.attempts, span_ns);
    Finding f;
    f.id = "bruteforce." + proto;
    f.ts = run.span.first;
    f.last_ts = run.span.last;
    f.src = client.to_string();
    f.dst = dst_of(key);
    f.dst_count = 1;
    for (uint16_t p : run.ports.sample(16)) f.ports.push_back(p);
    f.service = proto;
    f.attack = "T1110.001";
    f.counts = {{"attempts", run.attempts},
                {"failures", run.failures},
                {"successes", run.successes},
                {"unknown", run.unknown},
                {"users", run.users.count()},
                {"connections", run.conns.count()}};
    f.evidence = run.evidence.uids();
    f.evidence_total = run.evidence.total();

    f.severity = Severity::kMedium;
    if (static_cast<double>(run.failures) >= t_.high_failures) f.severity = Severity::kHigh;
    const bool stale_password = run.users.count() <= 1 && rate < t_.slow_rate_per_min;
    if (stale_password) f.severity = Severity::kLow;
    f.confidence = proto == "ssh" ? 0.75 : 0.9;  // SSH outcomes are inferred from packet sizes
    if (unknown_basis) {
      f.confidence = 0.5;
      f.severity = Severity::kMedium;
    }
    if (stale_password) f.confidence = std::min(f.confidence, 0.4);

    const std::vector<std::string> users = run.users.sample(kUserSample);
    std::string who;
    if (run.users.count() == 1) {
      who = "user " + users.front();
    } else if (run.users.count() > 1) {
      who = std::to_string(run.users.count()) + " users";
    }
    const std::string where = std::get<1>(key).to_string();
    const std::string port = f.ports.size() == 1 ? ":" + std::to_string(f.ports.front()) : "";
    if (unknown_basis) {
      f.summary = f.src + " made " + std::to_string(run.attempts) + " " + upper(proto) + " login attempts" +
                  (who.empty() ? "" : " (" + who + ")") + " on " + where + port + " in " + human_span(span_ns) + " (" +
                  fixed1(rate) + "/min), outcomes not visible";
    } else {
      f.summary = f.src + " failed " + std::to_string(run.failures) + " of " + std::to_string(run.attempts) + " " +
                  upper(proto) + " logins" + (who.empty() ? "" : " (" + who + ")") + " on " + where + port + " in " +
                  human_span(span_ns) + " (" + fixed1(rate) + "/min)";
      if (run.success) {
        f.summary += ", then logged in";
      } else if (run.successes > 0) {
        f.summary += ", " + std::to_string(run.successes) + " succeeded";
      }
    }
    std::string d;
    output::JsonLine j(d);
    j.str("basis", unknown_basis ? "auth_unknown_outcome" : "auth_failures")
        .raw("users", json_strings(users))
        .boolean("users_saturated", run.users.saturated())
        .raw("rate_per_min", fixed1(rate))
        .boolean("stale_password_pattern", stale_password);
    j.end_object();
    f.details = std::move(d);
    return f;
  }

  Finding success_finding(const Key& key, const Span& run_span, const Success& s, uint64_t failures,
                          core::Timestamp last, const AuthRun* run) const {
    const auto& [client, server, proto] = key;
    Finding f;
    f.id = "bruteforce.success";
    f.ts = run_span.first;
    f.last_ts = std::max(last, s.ts);
    f.severity = Severity::kCritical;
    f.confidence = proto == "ssh" ? 0.6 : 0.9;
    f.src = client.to_string();
    f.dst = dst_of(key);
    f.dst_count = 1;
    f.ports = {s.port};
    f.service = proto;
    f.attack = "T1110.001";
    f.counts = {{"failures_before", failures}};
    if (run) f.counts.emplace_back("attempts", run->attempts);
    f.evidence.push_back(s.uid);
    if (run) {
      for (const auto& u : run->evidence.uids()) {
        if (f.evidence.size() >= 20) break;
        if (u != s.uid) f.evidence.push_back(u);
      }
      f.evidence_total = run->evidence.total();
    } else {
      f.evidence_total = 1;
    }
    const std::string as = s.user.empty() ? "" : " as " + s.user;
    f.summary = f.src + " logged in to " + upper(proto) + " on " + server.to_string() + as + " at " + utc_time(s.ts) +
                " after " + std::to_string(failures) + " failed attempts";
    if (proto == "ssh") f.summary += " (SSH outcome inferred from packet sizes)";
    std::string d;
    output::JsonLine j(d);
    j.str("user", s.user).str("success_ts", core::format_epoch_micros(s.ts)).str("success_uid", s.uid);
    j.str("run_first_ts", core::format_epoch_micros(run_span.first)).str("run_last_ts",
                                                                         core::format_epoch_micros(run_span.last));
    j.end_object();
    f.details = std::move(d);
    return f;
  }

  Finding conn_finding(const Key& key, const ConnRun& run) const {
    const auto& [client, server, svc] = key;
    const int64_t span_ns = run.span.last - run.span.first;
    const double rate = per_minute(run.short_sessions, span_ns);
    Finding f;
    f.id = "bruteforce." + svc;
    f.ts = run.span.first;
    f.last_ts = run.span.last;
    f.severity = static_cast<double>(run.short_sessions) >= t_.high_failures ? Severity::kHigh : Severity::kMedium;
    f.confidence = 0.6;
    f.src = client.to_string();
    f.dst = dst_of(key);
    f.dst_count = 1;
    for (uint16_t p : run.ports.sample(16)) f.ports.push_back(p);
    f.service = svc;
    f.attack = "T1110.001";
    f.counts = {{"short_sessions", run.short_sessions}, {"successes", run.successes}};
    f.evidence = run.evidence.uids();
    f.evidence_total = run.evidence.total();
    const std::string port = f.ports.size() == 1 ? ":" + std::to_string(f.ports.front()) : "";
    f.summary = f.src + " opened " + std::to_string(run.short_sessions) + " short " + upper(svc) + " sessions to " +
                server.to_string() + port + " in " + human_span(span_ns) + " (" + fixed1(rate) + "/min)" +
                (run.successes == 0 ? " with no login seen" : ", " + std::to_string(run.successes) + " logged in") +
                " (connection-level: the attempts themselves are not visible)";
    std::string d;
    output::JsonLine j(d);
    j.str("basis", "connections")
        .raw("rate_per_min", fixed1(rate))
        .u64("mean_orig_bytes", run.short_sessions ? run.orig_bytes / run.short_sessions : 0);
    j.end_object();
    f.details = std::move(d);
    return f;
  }

  Thresholds t_{};
  std::map<Key, AuthGroup> auth_groups_;
  std::map<Key, ConnGroup> conn_groups_;
  std::set<std::string> ssh_success_uids_;
  std::vector<Finding> pending_;
  uint64_t dropped_ = 0;
};

}  // namespace

void register_bruteforce(Registry& r) {
  r.add("bruteforce", [](Config& c) { return std::make_unique<BruteforceDetector>(c); });
}

}  // namespace trawl::detect

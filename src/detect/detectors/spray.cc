// Password spraying (docs/findings/bruteforce.md): bruteforce.spray when one
// source fails logins for many distinct users, with few tries for each, on one
// or several servers of the same service in an episode; bruteforce.success
// when one of those logins then succeeds.
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analyzers/common/auth_record.h"
#include "detect/detector.h"
#include "detect/text.h"
#include "detect/evidence.h"
#include "output/json_line.h"

namespace trawl::detect {
namespace {

using namespace text;  // detect/text.h: summary formatting shared by the detectors

using analyzers::AuthOutcome;
using analyzers::AuthRecord;

constexpr size_t kUserCap = 4096;
constexpr size_t kPairCap = 8192;
constexpr size_t kServerCap = 1024;
constexpr size_t kSample = 10;







// Services where logins carry a user name (SSH's inferred attempts do not).
bool sprayable_service(std::string_view p) {
  return p == "pop3" || p == "imap" || p == "smtp" || p == "ftp" || p == "http" || p == "rdp" || p == "smb";
}

struct SprayRun {
  Span span;
  uint64_t attempts = 0;
  uint64_t failures = 0;
  uint64_t successes = 0;
  DistinctSet<std::string> users{kUserCap};
  DistinctSet<std::string> failed_users{kUserCap};
  DistinctSet<std::pair<std::string, core::IpAddress>> pairs{kPairCap};  // user, server
  DistinctSet<core::IpAddress> servers{kServerCap};
  DistinctSet<uint16_t> ports{16};
  Evidence evidence{20};
  // The first success once enough users had failed.
  std::optional<std::pair<core::Timestamp, std::string>> success;
  std::string success_uid;
  core::IpAddress success_server;
  uint16_t success_port = 0;
  uint64_t failures_before_success = 0;
};

struct SourceState {
  bool open = false;
  SprayRun run;
};

class SprayDetector final : public Detector {
 public:
  explicit SprayDetector(Config& c) {
    min_users_ = c.get("spray.min_users", 10, "distinct users that failed from one source in an episode");
    max_per_user_ = c.get("spray.max_attempts_per_user", 3, "mean attempts per user and server, at most, for a spray");
    min_failure_ratio_ = c.get("spray.min_failure_ratio", 0.5, "failed share of the logins with a known outcome");
    high_users_ = c.get("spray.high_users", 50, "users failed that make a spray high severity");
    gap_ns_ = seconds_to_ns(c.get("spray.episode_gap_s", 3600, "idle seconds that end a spraying episode"));
    max_sources_ = c.get("spray.max_sources", 100000, "source/service pairs tracked (memory cap)");
  }

  void on_record(const analyzers::Record& r) override {
    if (r.log() != "auth") return;
    const auto& a = static_cast<const AuthRecord&>(r);
    if (!sprayable_service(a.proto) || a.user.empty()) return;
    Key key{a.client, a.proto};
    auto it = sources_.find(key);
    if (it == sources_.end()) {
      if (static_cast<double>(sources_.size()) >= max_sources_) return;
      it = sources_.emplace(std::move(key), SourceState{}).first;
    }
    SourceState& s = it->second;
    if (s.open && a.ts - s.run.span.last > gap_ns_) close(it->first, s);
    s.open = true;
    SprayRun& run = s.run;
    run.span.add(a.ts);
    ++run.attempts;
    run.users.add(a.user);
    run.pairs.add({a.user, a.server});
    run.servers.add(a.server);
    run.ports.add(a.server_port);
    run.evidence.add(a.uid);
    if (a.outcome == AuthOutcome::kFailure) {
      ++run.failures;
      run.failed_users.add(a.user);
    } else if (a.outcome == AuthOutcome::kSuccess) {
      ++run.successes;
      if (!run.success && static_cast<double>(run.failed_users.count()) >= min_users_) {
        run.success = {a.ts, a.user};
        run.success_uid = a.uid;
        run.success_server = a.server;
        run.success_port = a.server_port;
        run.failures_before_success = run.failures;
      }
    }
  }

  void finish(std::vector<Finding>& out) override {
    for (auto& [key, s] : sources_) {
      if (s.open) close(key, s);
    }
    for (auto& f : pending_) out.push_back(std::move(f));
    pending_.clear();
  }

 private:
  using Key = std::pair<core::IpAddress, std::string>;  // source, service

  void close(const Key& key, SourceState& s) {
    s.open = false;
    SprayRun run = std::move(s.run);
    s.run = SprayRun{};
    const double failed_users = static_cast<double>(run.failed_users.count());
    if (failed_users < min_users_) return;
    const double per_user = static_cast<double>(run.attempts) / static_cast<double>(std::max<uint64_t>(1, run.pairs.count()));
    if (per_user > max_per_user_) return;
    const uint64_t known = run.failures + run.successes;
    const double failure_ratio = known ? static_cast<double>(run.failures) / static_cast<double>(known) : 0;
    if (failure_ratio < min_failure_ratio_) return;

    const auto& [src, proto] = key;
    Finding f;
    f.id = "bruteforce.spray";
    f.ts = run.span.first;
    f.last_ts = run.span.last;
    f.severity = failed_users >= high_users_ ? Severity::kHigh : Severity::kMedium;
    f.confidence = failure_ratio >= 0.9 ? 0.8 : 0.65;
    f.src = src.to_string();
    for (const auto& ip : run.servers.sample(kSample)) f.dst.push_back(ip.to_string());
    f.dst_count = run.servers.count();
    for (uint16_t p : run.ports.sample(16)) f.ports.push_back(p);
    f.service = proto;
    f.attack = "T1110.003";
    f.counts = {{"attempts", run.attempts},
                {"failures", run.failures},
                {"successes", run.successes},
                {"users", run.users.count()},
                {"failed_users", run.failed_users.count()},
                {"servers", run.servers.count()}};
    f.evidence = run.evidence.uids();
    f.evidence_total = run.evidence.total();
    const int64_t span_ns = run.span.last - run.span.first;
    const std::string on = run.servers.count() == 1 ? f.dst.front()
                                                    : std::to_string(run.servers.count()) + " servers";
    f.summary = f.src + " sprayed " + upper(proto) + " logins over " + std::to_string(run.users.count()) +
                " users (" + fixed1(per_user) + " tries each, " + std::to_string(run.failures) + " failed) on " + on +
                " in " + human_span(span_ns);
    if (run.successes > 0) f.summary += ", " + std::to_string(run.successes) + " succeeded";
    const std::vector<std::string> users = run.users.sample(kSample);
    std::string d;
    output::JsonLine j(d);
    j.raw("users", json_strings(users))
        .boolean("users_saturated", run.users.saturated())
        .raw("attempts_per_user", fixed1(per_user))
        .raw("failure_ratio", fixed1(failure_ratio * 100));
    j.end_object();
    f.details = std::move(d);
    pending_.push_back(f);

    if (!run.success) return;
    Finding g;
    g.id = "bruteforce.success";
    g.ts = run.span.first;
    g.last_ts = run.success->first;
    g.severity = Severity::kCritical;
    g.confidence = 0.85;
    g.src = f.src;
    g.dst = {run.success_server.to_string()};
    g.dst_count = 1;
    g.ports = {run.success_port};
    g.service = proto;
    g.attack = "T1110.003";
    g.counts = {{"failures_before", run.failures_before_success}, {"attempts", run.attempts}};
    g.evidence = {run.success_uid};
    g.evidence_total = 1;
    g.summary = g.src + " logged in to " + upper(proto) + " on " + g.dst.front() + " as " + run.success->second +
                " at " + utc_time(run.success->first) + " after spraying " + std::to_string(run.failed_users.count()) +
                " users with " + std::to_string(run.failures_before_success) + " failed attempts";
    std::string gd;
    output::JsonLine gj(gd);
    gj.str("user", run.success->second)
        .str("success_ts", core::format_epoch_micros(run.success->first))
        .str("success_uid", run.success_uid)
        .str("run", "spray");
    gj.end_object();
    g.details = std::move(gd);
    pending_.push_back(std::move(g));
  }

  double min_users_ = 10;
  double max_per_user_ = 3;
  double min_failure_ratio_ = 0.5;
  double high_users_ = 50;
  int64_t gap_ns_ = 0;
  double max_sources_ = 100000;
  std::map<Key, SourceState> sources_;
  std::vector<Finding> pending_;
};

}  // namespace

void register_spray(Registry& r) {
  r.add("spray", [](Config& c) { return std::make_unique<SprayDetector>(c); });
}

}  // namespace trawl::detect

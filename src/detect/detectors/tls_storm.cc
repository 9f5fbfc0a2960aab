// TLS handshake storms (docs/findings/bruteforce.md): bruteforce.tls when one
// client opens many short TLS sessions to one server and port in an episode
// and almost none of them carries application data: handshake floods (CPU
// exhaustion, thc-ssl-dos style), client-certificate or PSK guessing, and
// TLS scanners that handshake over and over.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "analyzers/ssl/ssl_record.h"
#include "core/hash.h"
#include "detect/address_hash.h"
#include "detect/detector.h"
#include "detect/text.h"
#include "detect/evidence.h"
#include "output/json_line.h"

namespace trawl::detect {
namespace {

using namespace text;  // detect/text.h: summary formatting shared by the detectors




struct StormRun {
  Span span;
  uint64_t sessions = 0;        // TLS sessions (with an ssl record)
  uint64_t bare = 0;            // of them, handshake-only
  uint64_t not_established = 0; // of them, handshake never finished
  uint64_t orig_bytes = 0;      // of the bare ones
  Evidence evidence{20};
};

struct Group {
  bool open = false;
  StormRun run;
};

class TlsStormDetector final : public Detector {
 public:
  explicit TlsStormDetector(Config& c) {
    min_sessions_ = c.get("tls_storm.min_sessions", 100,
                          "handshake-only TLS sessions from one client to one server and port in an episode");
    min_rate_ = c.get("tls_storm.min_rate_per_min", 60, "handshake-only sessions per minute, at least");
    min_share_ = c.get("tls_storm.min_bare_share", 0.8, "share of the client's TLS sessions that are handshake-only");
    max_orig_bytes_ = c.get("tls_storm.max_orig_bytes", 640,
                            "client bytes of an established session still counted as handshake-only");
    max_duration_ns_ = seconds_to_ns(c.get("tls_storm.max_duration_s", 5, "longest session counted as handshake-only"));
    gap_ns_ = seconds_to_ns(c.get("tls_storm.episode_gap_s", 120, "idle seconds that end a storm episode"));
    high_sessions_ = c.get("tls_storm.high_sessions", 1000, "handshake-only sessions that make a storm high severity");
    max_groups_ = c.get("tls_storm.max_groups", 100000, "client/server/port groups tracked (memory cap)");
  }

  void on_record(const analyzers::Record& r) override {
    if (r.log() != "ssl") return;
    const auto& s = static_cast<const analyzers::ssl::SslRecord&>(r);
    if (tls_uids_.size() >= kUidCap) return;
    tls_uids_[s.uid] = s.established;
  }

  void on_conn(const flow::ConnRecord& r) override {
    auto u = tls_uids_.find(r.uid);
    if (u == tls_uids_.end()) return;
    const bool established = u->second;
    tls_uids_.erase(u);
    const bool bare = !established || (r.duration_ns <= max_duration_ns_ &&
                                       static_cast<double>(r.orig_bytes) <= max_orig_bytes_);
    Key key{r.orig_h, r.resp_h, r.resp_p};
    auto it = groups_.find(key);
    if (it == groups_.end()) {
      if (static_cast<double>(groups_.size()) >= max_groups_) return;
      it = groups_.emplace(key, Group{}).first;
    }
    Group& g = it->second;
    if (g.open && r.ts - g.run.span.last > gap_ns_) close(it->first, g);
    g.open = true;
    StormRun& run = g.run;
    run.span.add(r.ts);
    ++run.sessions;
    if (!bare) return;
    ++run.bare;
    if (!established) ++run.not_established;
    run.orig_bytes += r.orig_bytes;
    run.evidence.add(r.uid);
  }

  void finish(std::vector<Finding>& out) override {
    // The open groups in key order, as when groups_ was an ordered map.
    std::vector<std::pair<const Key, Group>*> open;
    for (auto& entry : groups_) {
      if (entry.second.open) open.push_back(&entry);
    }
    std::sort(open.begin(), open.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    for (auto* entry : open) close(entry->first, entry->second);
    for (auto& f : pending_) out.push_back(std::move(f));
    pending_.clear();
  }

 private:
  static constexpr size_t kUidCap = 200000;
  using Key = std::tuple<core::IpAddress, core::IpAddress, uint16_t>;
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return static_cast<size_t>(core::mix64(address_hash(std::get<0>(k)) ^
                                             (address_hash(std::get<1>(k)) * 0x9e3779b97f4a7c15ull) ^ std::get<2>(k)));
    }
  };

  void close(const Key& key, Group& g) {
    g.open = false;
    StormRun run = std::move(g.run);
    g.run = StormRun{};
    if (static_cast<double>(run.bare) < min_sessions_) return;
    if (static_cast<double>(run.bare) < min_share_ * static_cast<double>(run.sessions)) return;
    const int64_t span_ns = run.span.last - run.span.first;
    const double rate = static_cast<double>(run.bare) * 60.0 / std::max(1.0, static_cast<double>(span_ns) / 1e9);
    if (rate < min_rate_) return;
    const auto& [client, server, port] = key;
    Finding f;
    f.id = "bruteforce.tls";
    f.ts = run.span.first;
    f.last_ts = run.span.last;
    f.severity = static_cast<double>(run.bare) >= high_sessions_ ? Severity::kHigh : Severity::kMedium;
    f.confidence = 0.5;
    f.src = client.to_string();
    f.dst = {server.to_string()};
    f.dst_count = 1;
    f.ports = {port};
    f.service = "ssl";
    f.attack = "T1499.002";  // Service Exhaustion Flood (TLS handshakes)
    f.counts = {{"sessions", run.sessions}, {"handshake_only", run.bare}, {"not_established", run.not_established}};
    f.evidence = run.evidence.uids();
    f.evidence_total = run.evidence.total();
    f.summary = f.src + " opened " + std::to_string(run.bare) + " TLS sessions to " + f.dst.front() + ":" +
                std::to_string(port) + " with no application data in " + human_span(span_ns) + " (" + fixed1(rate) +
                "/min, " + std::to_string(run.not_established) + " never finished the handshake)";
    std::string d;
    output::JsonLine j(d);
    j.raw("rate_per_min", fixed1(rate)).u64("mean_orig_bytes", run.bare ? run.orig_bytes / run.bare : 0);
    j.end_object();
    f.details = std::move(d);
    pending_.push_back(std::move(f));
  }

  double min_sessions_ = 100;
  double min_rate_ = 60;
  double min_share_ = 0.8;
  double max_orig_bytes_ = 640;
  int64_t max_duration_ns_ = 0;
  int64_t gap_ns_ = 0;
  double high_sessions_ = 1000;
  double max_groups_ = 100000;
  // ssl records waiting for their connection (looked up by every
  // connection; never iterated, so a hash map keeps the output the same).
  std::unordered_map<std::string, bool> tls_uids_;
  std::unordered_map<Key, Group, KeyHash> groups_;  // looked up per TLS connection; finish() sorts
  std::vector<Finding> pending_;
};

}  // namespace

void register_tls_storm(Registry& r) {
  r.add("tls_storm", [](Config& c) { return std::make_unique<TlsStormDetector>(c); });
}

}  // namespace trawl::detect

// worm.smb_scan (docs/findings/scan.md): an internal host reaching for SMB
// (TCP 445/139) on many internal hosts, mostly without an answer: how
// Conficker, WannaCry and the Lpk.dll worms look for their next victims.
// Built from conn records. It also takes over the scan.tcp_syn finding of the
// same sweep (after()), so a responder sees one finding, the worm.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "detect/detector.h"
#include "detect/text.h"
#include "detect/scan_util.h"
#include "output/json_line.h"

namespace trawl::detect {
namespace {

using scan::Episode;
using scan::EpisodeStream;

struct Settings {
  double min_hosts = 20;
  double min_failed_ratio = 0.5;
  double critical_hosts = 256;
  double gap_s = 600;
  double max_actors = 100000;
  double max_episodes = 32;
  double takeover_share = 0.9;
  scan::Caps caps;
};

class Worm445Detector : public Detector {
 public:
  explicit Worm445Detector(Config& c) {
    s_.min_hosts = c.get("worm.min_hosts", 20, "distinct internal hosts one internal host contacts on 445/139: a sweep");
    s_.min_failed_ratio = c.get("worm.min_failed_ratio", 0.5,
                                "share of those hosts with no SMB session (unanswered/refused) for a worm-like sweep");
    s_.critical_hosts = c.get("worm.critical_hosts", 256, "hosts from which a worm-like SMB sweep is critical");
    s_.gap_s = c.get("worm.episode_gap_s", 600, "idle seconds that end one sweep episode");
    s_.max_actors = c.get("worm.max_actors", 100000, "sources tracked (memory bound)");
    s_.max_episodes = c.get("worm.max_episodes", 32, "episodes kept per source (memory bound)");
    s_.takeover_share = c.get("worm.takeover_share", 0.9,
                              "share of a scan.tcp_syn finding's probes the SMB sweep must hold to replace it");
    s_.caps.distinct =
        static_cast<size_t>(std::max(1.0, c.get("worm.max_distinct", 65536, "distinct targets counted exactly per episode")));
    s_.caps.open = 64;
    s_.caps.evidence = 20;
    internal_ = &c.internal;
  }

  void on_conn(const flow::ConnRecord& r) override {
    if (r.proto != 6 || (r.resp_p != 445 && r.resp_p != 139)) return;
    if (r.orig_h == r.resp_h || scan::is_group_or_unspecified(r.resp_h)) return;
    if (!internal_->is_internal(r.orig_h) || !internal_->is_internal(r.resp_h)) return;
    // Only connections this host opened: a SYN first, or a mid-stream pickup
    // with data (an established session).
    bool syn_first = (r.orig_first_flags & scan::kSyn) && !(r.orig_first_flags & scan::kAck);
    bool session = r.orig_bytes > 0 && r.resp_bytes > 0;
    if (!syn_first && !session) return;

    auto it = streams_.find(r.orig_h);
    if (it == streams_.end()) {
      if (static_cast<double>(streams_.size()) >= s_.max_actors) return;
      it = streams_
               .emplace(r.orig_h, EpisodeStream(s_.caps, static_cast<int64_t>(s_.gap_s * 1e9),
                                                 static_cast<size_t>(std::max(1.0, s_.max_episodes))))
               .first;
    }
    Episode& e = it->second.at(r.ts, [&](const Episode& x) { return keep(x); });
    e.add_probe(r.ts, r.last_ts, r.resp_h, true, r.uid);
    e.ports.add(r.resp_p);
    bool answered = r.history.find('h') != std::string::npos || session;
    if (session) {
      e.add_outcome("sessions");
      e.answered_hosts.add(r.resp_h);  // hosts where SMB worked
    } else if (answered) {
      e.add_outcome("answered_no_data");
      e.open_ports.add(r.resp_p);
    } else if (r.resp_pkts > 0) {
      e.add_outcome("refused");
    } else {
      e.add_outcome("unanswered");
    }
    if (r.resp_h.is_v4()) {
      uint32_t net = r.resp_h.v4_host_order() & 0xffffff00u;
      if (subnets_.size() < 4096 || subnets_.contains({r.orig_h, net})) ++subnets_[{r.orig_h, net}];
    }
  }

  void finish(std::vector<Finding>& out) override {
    for (auto& [src, stream] : streams_) {
      stream.close([&](const Episode& e) { return keep(e); });
      for (auto& e : stream.kept()) report(src, e, out);
    }
  }

  // One sweep, one finding: a scan.tcp_syn finding of the same source over
  // the same time whose probes are (nearly) all this sweep's is removed, and
  // its size noted on the worm finding.
  void after(std::vector<Finding>& all) override {
    std::vector<bool> drop(all.size(), false);
    for (auto& w : all) {
      if (w.id != "worm.smb_scan") continue;
      uint64_t worm_probes = count(w, "probes");
      for (size_t i = 0; i < all.size(); ++i) {
        const Finding& s = all[i];
        if (drop[i] || s.id != "scan.tcp_syn" || s.src != w.src) continue;
        if (s.last_ts < w.ts || s.ts > w.last_ts) continue;
        uint64_t scan_probes = count(s, "probes");
        if (static_cast<double>(worm_probes) < s_.takeover_share * static_cast<double>(scan_probes)) continue;
        w.counts.emplace_back("replaced_scan_probes", scan_probes);
        drop[i] = true;
        break;
      }
    }
    size_t kept = 0;
    for (size_t i = 0; i < all.size(); ++i) {
      if (drop[i]) continue;
      if (kept != i) all[kept] = std::move(all[i]);
      ++kept;
    }
    all.resize(kept);
  }

 private:
  static uint64_t count(const Finding& f, const std::string& name) {
    for (const auto& [k, v] : f.counts) {
      if (k == name) return v;
    }
    return 0;
  }

  bool keep(const Episode& e) const {
    uint64_t hosts = e.hosts.count();
    if (static_cast<double>(hosts) < s_.min_hosts) return false;
    uint64_t failed = hosts - std::min<uint64_t>(hosts, e.answered_hosts.count());
    return static_cast<double>(failed) >= s_.min_failed_ratio * static_cast<double>(hosts);
  }

  void report(const core::IpAddress& src, const Episode& e, std::vector<Finding>& out) const {
    uint64_t hosts = e.hosts.count();
    uint64_t sessions_hosts = e.answered_hosts.count();
    uint64_t failed_hosts = hosts - std::min(hosts, sessions_hosts);

    // The /24 networks swept, most hosts first (IPv4 only).
    std::vector<std::pair<uint64_t, uint32_t>> nets;
    for (auto it = subnets_.lower_bound({src, 0}); it != subnets_.end() && it->first.first == src; ++it) {
      nets.emplace_back(it->second, it->first.second);
    }
    std::sort(nets.begin(), nets.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    auto net_text = [](uint32_t n) { return core::IpAddress::v4(n).to_string() + "/24"; };

    Finding f;
    f.id = "worm.smb_scan";
    f.ts = e.span.first;
    f.last_ts = e.span.last;
    f.src = src.to_string();
    f.dst = text::address_strings(e.hosts.sample(20));
    f.dst_count = hosts;
    f.ports = e.ports.sample(2);
    f.service = "smb";
    f.attack = "T1210";
    f.evidence = e.evidence.uids();
    f.evidence_total = e.evidence.total();
    f.counts = {{"probes", e.probes}, {"hosts", hosts}, {"failed_hosts", failed_hosts}, {"session_hosts", sessions_hosts}};
    f.severity = static_cast<double>(hosts) >= s_.critical_hosts ? Severity::kCritical : Severity::kHigh;
    double failed_share = hosts ? static_cast<double>(failed_hosts) / static_cast<double>(hosts) : 0;
    f.confidence = failed_share >= 0.9 ? 0.9 : 0.75;

    std::string where;
    for (size_t i = 0; i < nets.size() && i < 3; ++i) where += (i ? ", " : " (") + net_text(nets[i].second);
    if (nets.size() > 3) where += " and " + std::to_string(nets.size() - 3) + " more networks";
    if (!where.empty()) where += ")";
    std::string port_text = f.ports.size() == 2 ? "TCP 139 and 445" : "TCP " + std::to_string(f.ports[0]);
    f.summary = f.src + " reached for SMB (" + port_text + ") on " + std::to_string(hosts) + " internal hosts" + where +
                " within " + scan::format_number(e.duration_s()) + " s, " + std::to_string(failed_hosts) +
                " without an SMB session: a worm-like sweep looking for its next victim (lateral movement).";

    f.details.clear();
    output::JsonLine j(f.details);
    j.u64("hosts", hosts);
    j.u64("probes", e.probes);
    j.u64("failed_hosts", failed_hosts);
    j.raw("failed_share", scan::format_fixed2(failed_share));
    j.raw("session_hosts", scan::json_addresses(e.answered_hosts.sample(32)));
    std::string outcomes = "{";
    for (size_t i = 0; i < e.outcomes.size(); ++i) {
      if (i) outcomes.push_back(',');
      output::append_json_string(outcomes, e.outcomes[i].first);
      outcomes += ":" + std::to_string(e.outcomes[i].second);
    }
    outcomes.push_back('}');
    j.raw("outcomes", outcomes);
    std::string subnets = "[";
    for (size_t i = 0; i < nets.size() && i < 8; ++i) {
      if (i) subnets.push_back(',');
      subnets += "{\"net\":";
      output::append_json_string(subnets, net_text(nets[i].second));
      subnets += ",\"probes\":" + std::to_string(nets[i].first) + "}";
    }
    subnets.push_back(']');
    j.raw("subnets", subnets);
    j.raw("duration_s", scan::format_fixed2(e.duration_s()));
    j.raw("rate_per_s", scan::format_fixed2(e.rate_per_s()));
    j.str("tactic", "TA0008 Lateral Movement");
    j.str("pattern", "Conficker / WannaCry / Lpk.dll-style SMB propagation sweep");
    j.end_object();
    out.push_back(std::move(f));
  }

  Settings s_;
  const Networks* internal_ = nullptr;
  std::map<core::IpAddress, EpisodeStream> streams_;
  std::map<std::pair<core::IpAddress, uint32_t>, uint64_t> subnets_;  // (source, /24) -> probes
};

}  // namespace

void register_worm445(Registry& r) {
  r.add("worm445", [](Config& c) { return std::make_unique<Worm445Detector>(c); });
}

}  // namespace trawl::detect

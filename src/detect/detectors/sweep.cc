// Host discovery sweeps (docs/findings/scan.md): sweep.arp (ARP who-has for
// many addresses from one sender) and sweep.icmp (ICMP echo requests from one
// source to many hosts). Built from ARP records and ICMP conn records.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
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
  double arp_min = 30;
  double icmp_min = 10;
  double large = 100;
  double gap_s = 600;
  double max_actors = 100000;
  double max_episodes = 32;
  scan::Caps caps;
};

class SweepDetector : public Detector {
 public:
  explicit SweepDetector(Config& c) {
    s_.arp_min = c.get("sweep.arp_min_targets", 30, "distinct addresses one sender asks ARP who-has for: an ARP sweep");
    s_.icmp_min = c.get("sweep.icmp_min_hosts", 10, "distinct hosts one source sends ICMP echo requests to: a ping sweep");
    s_.large = c.get("sweep.large_targets", 100, "distinct addresses from which a sweep is medium severity");
    s_.gap_s = c.get("sweep.episode_gap_s", 600, "idle seconds that end one sweep episode");
    s_.max_actors = c.get("sweep.max_actors", 100000, "sweeping sources tracked (memory bound)");
    s_.max_episodes = c.get("sweep.max_episodes", 32, "episodes kept per source (memory bound)");
    s_.caps.distinct =
        static_cast<size_t>(std::max(1.0, c.get("sweep.max_distinct", 65536, "distinct targets counted exactly per episode")));
    s_.caps.open = static_cast<size_t>(std::max(1.0, c.get("sweep.max_alive_listed", 64, "answering hosts listed per finding")));
    s_.caps.evidence = 20;
    internal_ = &c.internal;
  }

  void on_arp(const output::ArpRecord& r) override {
    if (r.op == 2) {
      // A reply: its sender is alive (used to list answered targets).
      if (alive_arp_.size() < s_.caps.distinct) alive_arp_.insert(r.sender_ip);
      return;
    }
    if (r.op != 1) return;
    if (r.sender_ip == r.target_ip) return;  // gratuitous ARP announces, it does not ask
    if (!r.target_ip.is_v4() || r.target_ip.v4_host_order() == 0) return;
    // ARP probes (RFC 5227) come from 0.0.0.0: name the sender by its MAC.
    std::string actor = r.sender_ip.v4_host_order() == 0 ? output::format_mac(r.sender_mac) : r.sender_ip.to_string();
    Episode* e = episode(arp_, actor, r.ts, s_.arp_min);
    if (!e) return;
    e->add_probe(r.ts, r.ts, r.target_ip, true, "");
  }

  void on_conn(const flow::ConnRecord& r) override {
    bool echo = (r.proto == 1 && r.orig_p == 8) || (r.proto == 58 && r.orig_p == 128);
    if (!echo || r.orig_h == r.resp_h || scan::is_group_or_unspecified(r.resp_h)) return;
    Episode* e = episode(icmp_, r.orig_h.to_string(), r.ts, s_.icmp_min);
    if (!e) return;
    e->add_probe(r.ts, r.last_ts, r.resp_h, internal_->is_internal(r.resp_h), r.uid);
    if (r.resp_pkts > 0) e->answered_hosts.add(r.resp_h);
    e->add_outcome("echo_requests", r.orig_pkts);
    if (r.resp_pkts > 0) e->add_outcome("echo_replies", r.resp_pkts);
  }

  void finish(std::vector<Finding>& out) override {
    for (auto& [actor, stream] : arp_) {
      stream.close([&](const Episode& e) { return keep(e, s_.arp_min); });
      for (auto& e : stream.kept()) report(true, actor, e, out);
    }
    for (auto& [actor, stream] : icmp_) {
      stream.close([&](const Episode& e) { return keep(e, s_.icmp_min); });
      for (auto& e : stream.kept()) report(false, actor, e, out);
    }
  }

 private:
  static bool keep(const Episode& e, double min) { return static_cast<double>(e.hosts.count()) >= min; }

  Episode* episode(std::map<std::string, EpisodeStream>& m, const std::string& actor, core::Timestamp ts, double min) {
    auto it = m.find(actor);
    if (it == m.end()) {
      if (static_cast<double>(m.size()) >= s_.max_actors) return nullptr;
      it = m.emplace(actor, EpisodeStream(s_.caps, static_cast<int64_t>(s_.gap_s * 1e9),
                                          static_cast<size_t>(std::max(1.0, s_.max_episodes))))
               .first;
    }
    return &it->second.at(ts, [&](const Episode& e) { return keep(e, min); });
  }

  void report(bool arp, const std::string& actor, const Episode& e, std::vector<Finding>& out) const {
    uint64_t hosts = e.hosts.count();
    // ARP replies are matched to targets at the end (replies arrive after
    // the requests, and a reply's sender is the asked address).
    std::vector<core::IpAddress> alive;
    if (arp) {
      e.hosts.for_each([&](const core::IpAddress& h) {
        if (alive.size() < s_.caps.open && alive_arp_.contains(h)) alive.push_back(h);
      });
    } else {
      alive = e.answered_hosts.sample(s_.caps.open);
    }
    uint64_t alive_total = 0;
    if (arp) {
      e.hosts.for_each([&](const core::IpAddress& h) { alive_total += alive_arp_.contains(h) ? 1u : 0u; });
    } else {
      alive_total = e.answered_hosts.count();
    }

    Finding f;
    f.id = arp ? "sweep.arp" : "sweep.icmp";
    f.ts = e.span.first;
    f.last_ts = e.span.last;
    f.src = actor;
    f.dst = text::address_strings(e.hosts.sample(20));
    f.dst_count = hosts;
    f.service = arp ? "arp" : "icmp";
    f.attack = "T1018";
    f.evidence = e.evidence.uids();
    f.evidence_total = e.evidence.total();
    f.counts = {{"requests", arp ? e.probes : e.outcome("echo_requests")}, {"addresses", hosts}, {"alive", alive_total}};

    bool large = static_cast<double>(hosts) >= s_.large;
    f.severity = large ? Severity::kMedium : Severity::kLow;
    auto src_ip = core::IpAddress::parse(actor);
    bool lateral = !arp && src_ip && internal_->is_internal(*src_ip) && e.internal_targets > 0;
    if (lateral) f.severity = scan::raise(f.severity, 1);
    // A router resolving its own clients asks for addresses that answer; a
    // sweep asks mostly for addresses nobody uses.
    bool mostly_alive = hosts > 0 && alive_total * 10 >= hosts * 8;
    f.confidence = mostly_alive ? 0.5 : 0.85;
    if (arp && mostly_alive) f.severity = Severity::kLow;

    std::string s = actor + (arp ? " asked ARP who-has for " : " pinged ") + std::to_string(hosts) +
                    (arp ? " addresses" : " hosts") + " in " + scan::format_number(e.duration_s()) + " s (" +
                    scan::plural(f.counts[0].second, "request", "requests") + ", " + std::to_string(alive_total) +
                    (alive_total == 1 ? " answered)." : " answered).");
    f.summary = s;

    f.details.clear();
    output::JsonLine j(f.details);
    j.u64("addresses_probed", hosts);
    j.u64("requests", f.counts[0].second);
    j.u64("alive", alive_total);
    j.raw("alive_hosts", scan::json_addresses(alive));
    j.raw("duration_s", scan::format_fixed2(e.duration_s()));
    j.raw("rate_per_s", scan::format_fixed2(e.rate_per_s()));
    if (!arp) j.u64("echo_replies", e.outcome("echo_replies"));
    j.boolean("saturated", e.hosts.saturated());
    j.end_object();
    out.push_back(std::move(f));
  }

  Settings s_;
  const Networks* internal_ = nullptr;
  std::map<std::string, EpisodeStream> arp_;
  std::map<std::string, EpisodeStream> icmp_;
  std::set<core::IpAddress> alive_arp_;
};

}  // namespace

void register_sweep(Registry& r) {
  r.add("sweep", [](Config& c) { return std::make_unique<SweepDetector>(c); });
}

}  // namespace trawl::detect

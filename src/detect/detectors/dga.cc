// dns.dga: hosts resolving names that look algorithmically generated (the
// lexical model in detect/dga_model.h), with their NXDOMAIN volume.
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <map>
#include <set>
#include <memory>
#include <unordered_map>
#include <vector>

#include "analyzers/dns/dns_log_record.h"
#include "detect/address_hash.h"
#include "detect/detector.h"
#include "detect/dga_model.h"
#include "detect/dns_util.h"
#include "detect/evidence.h"
#include "output/json_line.h"

namespace trawl::detect {
namespace {

class DgaDetector final : public Detector {
 public:
  explicit DgaDetector(Config& c)
      : min_names_(c.get("dga.min_names", 5, "distinct generated-looking registered domains a host must query")),
        min_nxdomain_(c.get("dga.min_nxdomain", 25,
                            "distinct NXDOMAIN registered domains that alone make a (low) finding")),
        high_nx_ratio_(c.get("dga.high_nx_ratio", 0.5,
                             "NXDOMAIN share of a host's answered domains that raises a finding to high")),
        score_delta_(c.get("dga.score_delta", 0, "added to the model's threshold (bits/char); >0 flags fewer")),
        max_hosts_(static_cast<size_t>(c.get("dga.max_hosts", 100000, "querying hosts tracked at most"))) {}

  void on_record(const analyzers::Record& rec) override {
    if (rec.log() != "dns") return;
    const auto& r = static_cast<const analyzers::dns::DnsLogRecord&>(rec);
    if (!r.query || dns::skip_name(*r.query) || !dns::hostname_chars(*r.query)) return;
    std::string_view reg = dns::registered_domain(*r.query);
    if (reg.empty()) return;
    auto it = hosts_.find(r.orig_h);
    if (it == hosts_.end()) {
      if (hosts_.size() >= max_hosts_) return;
      it = hosts_.try_emplace(r.orig_h).first;
    }
    Host& h = it->second;
    ++h.queries;
    h.span.add(r.ts);
    // Distinct domains are counted by a 64-bit hash of the name (no string
    // kept per query); only the generated-looking ones keep their names.
    const uint64_t key = std::hash<std::string_view>{}(reg);
    bool nx = r.rcode && *r.rcode == 3;
    if (r.rcode) h.answered.add(key);
    if (nx) {
      ++h.nx_responses;
      if (h.nx.add(key)) {
        // The ten smallest NXDOMAIN names, for the finding's sample.
        h.nx_sample.emplace(reg);
        if (h.nx_sample.size() > 10) h.nx_sample.erase(std::prev(h.nx_sample.end()));
      }
    }
    if (h.domains.add(key)) {
      LabelScore s = score_name(reg, score_delta_);
      if (s.generated) {
        std::string regs(reg);
        h.generated.add(regs);
        h.generated_keys.add(key);
        if (h.scores.size() < 64) h.scores[regs] = s.score;
      }
    }
    if (h.generated_keys.contains(key) || nx) h.evidence.add(r.uid);
  }

  void finish(std::vector<Finding>& out) override {
    // In address order, as when hosts_ was an ordered map.
    std::vector<const std::pair<const core::IpAddress, Host>*> sorted;
    sorted.reserve(hosts_.size());
    for (const auto& e : hosts_) sorted.push_back(&e);
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    for (const auto* entry : sorted) {
      const core::IpAddress& addr = entry->first;
      const Host& h = entry->second;
      const std::string host = addr.to_string();
      uint64_t gen = h.generated.count();
      uint64_t nxd = h.nx.count();
      bool by_names = static_cast<double>(gen) >= min_names_;
      bool by_nx = static_cast<double>(nxd) >= min_nxdomain_;
      if (!by_names && !by_nx) continue;
      double nx_ratio = h.answered.count() ? static_cast<double>(nxd) / static_cast<double>(h.answered.count()) : 0;
      Finding f;
      f.id = "dns.dga";
      f.ts = h.span.first;
      f.last_ts = h.span.last;
      f.src = host;
      f.attack = "T1568.002";
      f.service = "dns";
      if (by_names && nx_ratio >= high_nx_ratio_) {
        f.severity = Severity::kHigh;
        f.confidence = 0.85;
      } else if (by_names) {
        f.severity = Severity::kMedium;
        f.confidence = 0.6;
      } else {
        f.severity = Severity::kLow;
        f.confidence = 0.3;
      }
      f.dst = h.generated.sample(10);
      f.dst_count = gen;
      f.counts = {{"generated_domains", gen}, {"domains", h.domains.count()}, {"nxdomain_domains", nxd},
                  {"nxdomain_responses", h.nx_responses}, {"queries", h.queries}};
      char ratio[32];
      std::snprintf(ratio, sizeof ratio, "%.0f%%", nx_ratio * 100);
      f.summary = host + " queried " + std::to_string(gen) + " algorithmically generated-looking domains (of " +
                  std::to_string(h.domains.count()) + " distinct), " + std::to_string(nxd) +
                  " domains answered NXDOMAIN (" + ratio + "), e.g. " +
                  (f.dst.empty() ? std::string("-") : f.dst.front());
      f.evidence = h.evidence.uids();
      f.evidence_total = h.evidence.total();
      std::string scores = "{";
      bool first = true;
      for (const auto& [name, s] : h.scores) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f", s);
        if (!first) scores += ',';
        first = false;
        output::append_json_string(scores, name);
        scores += ':';
        scores += buf;
      }
      scores += '}';
      char nxr[32], thr[32];
      std::snprintf(nxr, sizeof nxr, "%.3f", nx_ratio);
      std::snprintf(thr, sizeof thr, "%.2f", dga_threshold() + score_delta_);
      std::string d;
      output::JsonLine j(d);
      j.raw("nxdomain_ratio", nxr).raw("model_threshold", thr).raw("scores", scores);
      j.raw("nxdomain_sample",
            dns::json_string_array(std::vector<std::string>(h.nx_sample.begin(), h.nx_sample.end())));
      j.end_object();
      f.details = d;
      out.push_back(std::move(f));
    }
  }

 private:
  struct Host {
    uint64_t queries = 0;
    uint64_t nx_responses = 0;
    DistinctHashes domains{4096};
    DistinctHashes answered{4096};
    DistinctSet<std::string> generated{1024};
    DistinctHashes generated_keys{1024};
    DistinctHashes nx{4096};
    std::set<std::string> nx_sample;  // the ten smallest names in nx
    std::map<std::string, double> scores;
    dns::UidSample evidence{20};
    Span span;
  };
  double min_names_;
  double min_nxdomain_;
  double high_nx_ratio_;
  double score_delta_;
  size_t max_hosts_;
  std::unordered_map<core::IpAddress, Host, AddressHash> hosts_;  // looked up per record; finish() sorts
};

}  // namespace

void register_dga(Registry& r) {
  r.add("dga", [](Config& c) { return std::make_unique<DgaDetector>(c); });
}

}  // namespace trawl::detect

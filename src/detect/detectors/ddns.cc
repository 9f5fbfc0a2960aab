// dns.dynamic_dns: hosts resolving names under dynamic-DNS providers (the
// list in detect/dns_util.cc), one finding per querying host.
#include <map>
#include <memory>

#include "analyzers/dns/dns_log_record.h"
#include "detect/detector.h"
#include "detect/dns_util.h"
#include "detect/evidence.h"
#include "output/json_line.h"

namespace trawl::detect {
namespace {

class DdnsDetector final : public Detector {
 public:
  explicit DdnsDetector(Config& c)
      : min_queries_(c.get("ddns.min_queries", 1, "queries for dynamic-DNS names a host must make")),
        medium_names_(c.get("ddns.medium_names", 1,
                            "distinct answered dynamic-DNS names that make the finding medium (else low)")),
        max_hosts_(static_cast<size_t>(c.get("ddns.max_hosts", 100000, "querying hosts tracked at most"))) {}

  void on_record(const analyzers::Record& rec) override {
    if (rec.log() != "dns") return;
    const auto& r = static_cast<const analyzers::dns::DnsLogRecord&>(rec);
    if (!r.query) return;
    std::string_view provider = dns::ddns_provider(*r.query);
    if (provider.empty()) return;
    std::string host = r.orig_h.to_string();
    auto it = hosts_.find(host);
    if (it == hosts_.end()) {
      if (hosts_.size() >= max_hosts_) return;
      it = hosts_.emplace(host, Host{}).first;
    }
    Host& h = it->second;
    ++h.queries;
    h.span.add(r.ts);
    h.names.add(*r.query);
    h.providers.add(std::string(provider));
    for (const auto& a : r.answers) {
      if (a.address) {
        h.answered.add(*r.query);
        h.addresses.add(a.address->to_string());
      }
    }
    h.evidence.add(r.uid);
  }

  void finish(std::vector<Finding>& out) override {
    for (const auto& [host, h] : hosts_) {
      if (static_cast<double>(h.queries) < min_queries_) continue;
      Finding f;
      f.id = "dns.dynamic_dns";
      f.ts = h.span.first;
      f.last_ts = h.span.last;
      f.src = host;
      f.service = "dns";
      f.attack = "T1568";
      bool medium = static_cast<double>(h.answered.count()) >= medium_names_;
      f.severity = medium ? Severity::kMedium : Severity::kLow;
      f.confidence = medium ? 0.5 : 0.3;
      f.dst = h.names.sample(10);
      f.dst_count = h.names.count();
      f.counts = {{"queries", h.queries}, {"names", h.names.count()}, {"answered_names", h.answered.count()},
                  {"addresses", h.addresses.count()}};
      std::vector<std::string> providers = h.providers.sample(10);
      f.summary = host + " made " + std::to_string(h.queries) + " queries for " + std::to_string(h.names.count()) +
                  " dynamic-DNS names under " + providers.front() + (providers.size() > 1 ? " and others" : "") +
                  ", e.g. " + f.dst.front() + ", " + std::to_string(h.answered.count()) + " of them resolved";
      f.evidence = h.evidence.uids();
      f.evidence_total = h.evidence.total();
      std::string d;
      output::JsonLine j(d);
      j.raw("providers", dns::json_string_array(providers))
          .raw("addresses", dns::json_string_array(h.addresses.sample(20)));
      j.end_object();
      f.details = d;
      out.push_back(std::move(f));
    }
  }

 private:
  struct Host {
    uint64_t queries = 0;
    DistinctSet<std::string> names{1024};
    DistinctSet<std::string> answered{1024};
    DistinctSet<std::string> providers{64};
    DistinctSet<std::string> addresses{256};
    dns::UidSample evidence{20};
    Span span;
  };
  double min_queries_;
  double medium_names_;
  size_t max_hosts_;
  std::map<std::string, Host> hosts_;
};

}  // namespace

void register_ddns(Registry& r) {
  r.add("ddns", [](Config& c) { return std::make_unique<DdnsDetector>(c); });
}

}  // namespace trawl::detect

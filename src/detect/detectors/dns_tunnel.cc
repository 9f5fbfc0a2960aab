// dns.tunnel: data carried in DNS names and answers. Per querying host and
// registered domain: distinct subdomains, their length and entropy, the
// record types a tunnel favours (TXT, NULL, CNAME, MX) and the bytes moved.
#include <cstdint>
#include <cstdio>
#include <algorithm>
#include <unordered_map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/dns/dns_log_record.h"
#include "core/hash.h"
#include "detect/address_hash.h"
#include "detect/detector.h"
#include "detect/dns_util.h"
#include "detect/evidence.h"
#include "output/json_line.h"

namespace trawl::detect {
namespace {

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

class DnsTunnelDetector final : public Detector {
 public:
  explicit DnsTunnelDetector(Config& c)
      : min_unique_(c.get("dns_tunnel.min_unique", 10, "distinct subdomains of one domain a host must query")),
        min_avg_len_(c.get("dns_tunnel.min_avg_len", 24, "mean subdomain length (characters) of a tunnel")),
        min_entropy_(c.get("dns_tunnel.min_entropy", 3.5,
                           "mean subdomain entropy (bits/char) that also qualifies shorter subdomains")),
        min_entropy_len_(c.get("dns_tunnel.min_entropy_len", 20, "mean subdomain length for the entropy rule")),
        min_data_types_(c.get("dns_tunnel.min_data_types", 10,
                              "TXT/NULL/CNAME/MX queries to one domain (and half its queries) for the type rule")),
        min_data_len_(c.get("dns_tunnel.min_data_len", 16, "mean subdomain length for the record-type rule")),
        min_binary_(c.get("dns_tunnel.min_binary", 3,
                          "distinct subdomains with raw (non host-name) bytes for the binary rule")),
        high_unique_(c.get("dns_tunnel.high_unique", 100, "distinct subdomains that make the finding high")),
        max_pairs_(static_cast<size_t>(c.get("dns_tunnel.max_pairs", 20000, "host x domain pairs tracked at most"))) {}

  void on_record(const analyzers::Record& rec) override {
    if (rec.log() != "dns") return;
    const auto& r = static_cast<const analyzers::dns::DnsLogRecord&>(rec);
    if (!r.query || dns::skip_name(*r.query) || dns::address_lookup(*r.query)) return;
    std::string_view reg = dns::registered_domain(*r.query);
    if (reg.empty()) return;
    std::string_view sub = dns::subdomain(*r.query, reg);
    // Looked up by address and a view of the domain (no text per record).
    auto it = pairs_.find(KeyView{r.orig_h, reg});
    if (it == pairs_.end()) {
      if (pairs_.size() >= max_pairs_) return;
      it = pairs_.emplace(Key{r.orig_h, std::string(reg)}, Pair{}).first;
    }
    Pair& p = it->second;
    ++p.queries;
    p.span.add(r.ts);
    p.query_bytes += r.query->size();
    for (const auto& a : r.answers) p.answer_bytes += a.text.size();
    if (r.qtype) {
      unsigned t = *r.qtype;
      if (t == 16 || t == 10 || t == 5 || t == 15) ++p.data_types;
      auto ti = std::lower_bound(p.types.begin(), p.types.end(), t,
                                 [](const std::pair<unsigned, uint64_t>& e, unsigned x) { return e.first < x; });
      if (ti != p.types.end() && ti->first == t) {
        ++ti->second;
      } else if (p.types.size() < 16) {
        p.types.emplace(ti, t, 1);
      }
    }
    // Distinct subdomains are held as 64-bit hashes (a tunnel's names are
    // long); the first few are kept as text for the finding.
    size_t held_before = p.subdomains.held();
    if (!sub.empty()) p.subdomains.add(fnv1a(sub));
    if (p.subdomains.held() > held_before) {
      if (p.sample.size() < 5) p.sample.push_back(sub.substr(0, 255));
      if (!dns::hostname_chars(sub)) ++p.binary_names;
      p.sub_len_sum += sub.size();
      p.entropy_sum += dns::entropy(sub);
      size_t start = 0;
      while (start <= sub.size()) {
        size_t dot = sub.find('.', start);
        size_t end = dot == std::string_view::npos ? sub.size() : dot;
        p.max_label = std::max(p.max_label, end - start);
        if (dot == std::string_view::npos) break;
        start = dot + 1;
      }
    }
    p.evidence.add(r.uid);
  }

  void finish(std::vector<Finding>& out) override {
    // Findings in the order of the text "host domain", as when that text was
    // the key of an ordered map; only the pairs that make a finding are put
    // into words and sorted.
    std::vector<std::pair<std::string, const Pair*>> sorted;
    for (const auto& [k, p] : pairs_) {
      if (signals_of(p).any()) sorted.emplace_back(k.addr.to_string() + " " + k.domain, &p);
    }
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [key, pp] : sorted) {
      const Pair& p = *pp;
      const Signals sig = signals_of(p);
      const uint64_t unique = sig.unique;
      const double avg_len = sig.avg_len;
      const double avg_ent = sig.avg_ent;
      const bool long_names = sig.long_names;
      const bool random_names = sig.random_names;
      const bool data_types = sig.data_types;
      const bool binary = sig.binary;
      size_t sp = key.find(' ');
      std::string host = key.substr(0, sp);
      std::string domain = key.substr(sp + 1);
      Finding f;
      f.id = "dns.tunnel";
      f.ts = p.span.first;
      f.last_ts = p.span.last;
      f.src = host;
      f.dst = {domain};
      f.dst_count = 1;
      f.service = "dns";
      f.attack = "T1071.004";
      int signals = int{long_names} + int{random_names} + int{data_types} + int{binary};
      if (static_cast<double>(unique) >= high_unique_ || signals >= 2) {
        f.severity = Severity::kHigh;
        f.confidence = signals >= 2 ? 0.9 : 0.75;
      } else {
        f.severity = Severity::kMedium;
        f.confidence = 0.6;
      }
      f.counts = {{"queries", p.queries},
                  {"unique_subdomains", unique},
                  {"data_type_queries", p.data_types},
                  {"binary_subdomains", p.binary_names},
                  {"query_bytes", p.query_bytes},
                  {"answer_bytes", p.answer_bytes}};
      char buf[160];
      std::snprintf(buf, sizeof buf, "%.1f", avg_len);
      std::string types;
      for (const auto& [t, n] : p.types) {
        if (!types.empty()) types += ", ";
        types += std::to_string(n) + " " + dns::qtype_name(t);
      }
      f.summary = host + " sent " + std::to_string(p.queries) + " queries with " + std::to_string(unique) +
                  " distinct subdomains of " + domain + " (mean " + buf + " characters; " + types + "), " +
                  std::to_string(p.query_bytes) + " bytes of names and " + std::to_string(p.answer_bytes) +
                  " bytes of answers";
      f.evidence = p.evidence.uids();
      f.evidence_total = p.evidence.total();
      std::string d;
      output::JsonLine j(d);
      j.str("domain", domain);
      std::snprintf(buf, sizeof buf, "%.2f", avg_len);
      j.raw("mean_subdomain_length", buf);
      std::snprintf(buf, sizeof buf, "%.2f", avg_ent);
      j.raw("mean_subdomain_entropy", buf);
      j.u64("max_label_length", p.max_label);
      std::string tj = "{";
      for (const auto& [t, n] : p.types) {
        if (tj.size() > 1) tj += ',';
        output::append_json_string(tj, dns::qtype_name(t));
        tj += ':' + std::to_string(n);
      }
      tj += '}';
      j.raw("qtypes", tj);
      j.raw("sample", dns::json_string_array(p.sample.to_vector()));
      std::vector<std::string> why;
      if (long_names) why.emplace_back("long_subdomains");
      if (random_names) why.emplace_back("high_entropy_subdomains");
      if (data_types) why.emplace_back("data_record_types");
      if (binary) why.emplace_back("binary_subdomains");
      j.raw("signals", dns::json_string_array(why));
      j.end_object();
      f.details = d;
      out.push_back(std::move(f));
    }
  }

 private:
  struct Pair {
    uint64_t queries = 0;
    uint64_t data_types = 0;
    uint64_t query_bytes = 0;
    uint64_t answer_bytes = 0;
    uint64_t sub_len_sum = 0;
    uint64_t binary_names = 0;  // distinct subdomains with bytes outside host-name characters
    double entropy_sum = 0;
    size_t max_label = 0;
    std::vector<std::pair<unsigned, uint64_t>> types;  // query type -> queries, ascending (at most 16 types)
    DistinctHashes subdomains{1024};
    PackedUids sample;  // first 5 distinct subdomains, in record order (packed: most pairs hold one)
    dns::UidSample evidence{20};
    Span span;
  };
  struct Signals {
    uint64_t unique = 0;
    double avg_len = 0;
    double avg_ent = 0;
    bool long_names = false;
    bool random_names = false;
    bool data_types = false;
    bool binary = false;
    bool any() const { return long_names || random_names || data_types || binary; }
  };
  Signals signals_of(const Pair& p) const {
    Signals s;
    s.unique = p.subdomains.count();
    // Means over the distinct subdomains held (the first 1024).
    size_t held = p.subdomains.held();
    s.avg_len = held ? static_cast<double>(p.sub_len_sum) / static_cast<double>(held) : 0;
    s.avg_ent = held ? p.entropy_sum / static_cast<double>(held) : 0;
    const double unique = static_cast<double>(s.unique);
    s.long_names = unique >= min_unique_ && s.avg_len >= min_avg_len_;
    s.random_names = unique >= min_unique_ && s.avg_len >= min_entropy_len_ && s.avg_ent >= min_entropy_;
    s.data_types = static_cast<double>(p.data_types) >= min_data_types_ && 2 * p.data_types >= p.queries &&
                   unique >= min_unique_ && s.avg_len >= min_data_len_;
    s.binary = static_cast<double>(p.binary_names) >= min_binary_ && unique >= min_unique_;
    return s;
  }

  // A pair: querying host and registered domain. KeyView finds one without
  // copying the domain.
  struct Key {
    core::IpAddress addr;
    std::string domain;
  };
  struct KeyView {
    const core::IpAddress& addr;
    std::string_view domain;
  };
  struct KeyHash {
    using is_transparent = void;
    static size_t of(const core::IpAddress& a, std::string_view d) {
      return static_cast<size_t>(core::mix64(address_hash(a) ^ std::hash<std::string_view>{}(d)));
    }
    size_t operator()(const Key& k) const { return of(k.addr, k.domain); }
    size_t operator()(const KeyView& k) const { return of(k.addr, k.domain); }
  };
  struct KeyEq {
    using is_transparent = void;
    static bool eq(const core::IpAddress& a, std::string_view ad, const core::IpAddress& b, std::string_view bd) {
      return a == b && ad == bd;
    }
    bool operator()(const Key& a, const Key& b) const { return eq(a.addr, a.domain, b.addr, b.domain); }
    bool operator()(const KeyView& a, const Key& b) const { return eq(a.addr, a.domain, b.addr, b.domain); }
    bool operator()(const Key& a, const KeyView& b) const { return eq(a.addr, a.domain, b.addr, b.domain); }
  };

  double min_unique_;
  double min_avg_len_;
  double min_entropy_;
  double min_entropy_len_;
  double min_data_types_;
  double min_data_len_;
  double min_binary_;
  double high_unique_;
  size_t max_pairs_;
  std::unordered_map<Key, Pair, KeyHash, KeyEq> pairs_;
};

}  // namespace

void register_dns_tunnel(Registry& r) {
  r.add("dns_tunnel", [](Config& c) { return std::make_unique<DnsTunnelDetector>(c); });
}

}  // namespace trawl::detect

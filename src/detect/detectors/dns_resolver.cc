// dns.infected_behind_resolver: when a suspicious domain (a dns.dga,
// dns.dynamic_dns or dns.tunnel finding) was queried only by an internal
// resolver, the internal hosts that connected to the domain's answer
// addresses shortly after the answer are the likely infected ones.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "analyzers/dns/dns_log_record.h"
#include "detect/address_hash.h"
#include "detect/detector.h"
#include "detect/dns_util.h"
#include "detect/evidence.h"
#include "output/json_line.h"

namespace trawl::detect {
namespace {

class DnsResolverDetector final : public Detector {
 public:
  explicit DnsResolverDetector(Config& c)
      : internal_(c.internal),
        window_ns_(static_cast<int64_t>(
            c.get("dns_resolver.window_s", 60, "seconds after an answer in which a connection counts") * 1e9)),
        min_clients_(c.get("dns_resolver.min_clients", 2,
                           "internal clients whose queries a host answers that make it a resolver")),
        min_domains_(c.get("dns_resolver.min_domains", 200,
                           "distinct registered domains a host queries that make it a resolver")),
        max_domains_(static_cast<size_t>(
            c.get("dns_resolver.max_domains", 100000, "registered domains whose answers are remembered"))),
        max_conns_per_ip_(static_cast<size_t>(
            c.get("dns_resolver.max_conns_per_ip", 256, "connections remembered per answer address"))) {}

  void on_record(const analyzers::Record& rec) override {
    if (rec.log() != "dns") return;
    const auto& r = static_cast<const analyzers::dns::DnsLogRecord&>(rec);
    if (!r.query) return;
    const core::IpAddress& querier = r.orig_h;
    if (internal_.is_internal(r.orig_h) && internal_.is_internal(r.resp_h)) {
      auto c = clients_.find(r.resp_h);
      if (c == clients_.end() && clients_.size() < max_domains_) c = clients_.try_emplace(r.resp_h, 1024).first;
      if (c != clients_.end()) c->second.add(querier);
    }
    std::string_view reg = dns::registered_domain(*r.query);
    if (reg.empty()) return;
    auto qd = queried_.find(querier);
    if (qd == queried_.end() && queried_.size() < max_domains_) qd = queried_.try_emplace(querier, 1024).first;
    if (qd != queried_.end()) qd->second.add(std::hash<std::string_view>{}(reg));
    bool any_address = false;
    for (const auto& a : r.answers) any_address = any_address || a.address.has_value();
    if (!any_address) return;
    core::Timestamp t = r.saw_reply ? r.reply_ts : r.ts;
    // Answers are kept under the queried name and its registered domain:
    // findings name either (dns.dynamic_dns names, dns.tunnel domains).
    std::string_view name = *r.query;
    while (!name.empty() && name.back() == '.') name.remove_suffix(1);
    // Both lists are found (or made) once per record, not once per answer:
    // the same tables as looking them up per answer, as the first answer
    // would make them and the later ones find them.
    std::vector<Answer>* by_name = answers_for(name);
    std::vector<Answer>* by_reg = name != reg ? answers_for(reg) : nullptr;
    // The reply's time and querier are pooled once, at its first kept answer.
    uint32_t reply = kNoReply;
    const bool pool_full = replies_.size() >= kMaxReplies;
    for (const auto& a : r.answers) {
      if (!a.address) continue;
      for (std::vector<Answer>* list : {by_name, by_reg}) {
        if (list == nullptr || list->size() >= 64 || pool_full) continue;
        if (reply == kNoReply) {
          reply = static_cast<uint32_t>(replies_.size());
          replies_.push_back({t, querier});
        }
        list->push_back({*a.address, reply});
      }
      if (answer_ips_.size() < max_domains_) answer_ips_.insert(*a.address);
    }
  }

  void on_conn(const flow::ConnRecord& c) override {
    if (!internal_.is_internal(c.orig_h) || !answer_ips_.contains(c.resp_h)) return;
    auto& v = conns_[c.resp_h];
    if (v.conns.size() < max_conns_per_ip_) {
      v.conns.push_back({c.ts, c.orig_h});
      v.uids.push_back(c.uid);
    }
  }

  void finish(std::vector<Finding>& out) override { (void)out; }

  void after(std::vector<Finding>& all) override {
    // Suspicious domain -> the finding that named it (first in output order).
    std::map<std::string, const Finding*> suspicious;
    for (const auto& f : all) {
      if (f.id != "dns.dga" && f.id != "dns.dynamic_dns" && f.id != "dns.tunnel") continue;
      auto src = core::IpAddress::parse(f.src);
      if (f.severity < Severity::kMedium || !src || !is_resolver(*src)) continue;
      for (const auto& name : f.dst) suspicious.emplace(name, &f);
    }
    std::vector<Finding> found;
    for (const auto& entry : suspicious) {
      const std::string& domain = entry.first;
      const Finding* origin = entry.second;
      auto it = answers_.find(domain);
      if (it == answers_.end()) continue;
      const core::IpAddress resolver = *core::IpAddress::parse(origin->src);
      // Only when the resolver is the only one asking for this domain.
      bool only_resolver = std::all_of(it->second.begin(), it->second.end(),
                                       [&](const Answer& a) { return replies_[a.reply].querier == resolver; });
      if (!only_resolver) continue;
      std::set<std::string> hosts, ips;
      Evidence ev(20);
      Span span;
      for (const Answer& answer : it->second) {
        const Reply& a = replies_[answer.reply];
        auto cit = conns_.find(answer.ip);
        if (cit == conns_.end()) continue;
        size_t i = 0;  // conns[i] is the connection of the uid at hand
        cit->second.uids.for_each([&](std::string_view uid) {
          const Conn& c = cit->second.conns[i++];
          if (c.ts < a.ts || c.ts - a.ts > window_ns_) return;
          if (c.orig == resolver) return;
          hosts.insert(c.orig.to_string());
          ips.insert(answer.ip.to_string());
          ev.add(uid);
          span.add(c.ts);
        });
      }
      if (hosts.empty()) continue;
      Finding f;
      f.id = "dns.infected_behind_resolver";
      f.ts = span.first;
      f.last_ts = span.last;
      std::vector<std::string> hv(hosts.begin(), hosts.end());
      if (hv.size() > 10) hv.resize(10);
      for (const auto& h : hv) f.src += (f.src.empty() ? "" : ",") + h;
      f.dst.assign(ips.begin(), ips.end());
      if (f.dst.size() > 10) f.dst.resize(10);
      f.dst_count = ips.size();
      f.severity = Severity::kHigh;
      f.confidence = hosts.size() == 1 ? 0.75 : 0.6;
      f.attack = origin->attack;
      f.counts = {{"hosts", hosts.size()}, {"connections", ev.total()}, {"answer_addresses", ips.size()}};
      f.summary = std::to_string(hosts.size()) + " internal host(s) (" + hv.front() + (hosts.size() > 1 ? " ..." : "") +
                  ") connected to " + std::to_string(ips.size()) + " address(es) of " + domain + " (" + origin->id +
                  ") within " + std::to_string(window_ns_ / core::kNsPerSec) + "s of resolver " + origin->src +
                  " resolving it";
      f.evidence = ev.uids();
      f.evidence_total = ev.total();
      std::string d;
      output::JsonLine j(d);
      j.str("resolver", origin->src).str("domain", domain).str("cause", origin->id);
      j.raw("answer_ips", dns::json_string_array(f.dst)).raw("conn_uids", dns::json_string_array(ev.uids()));
      j.end_object();
      f.details = d;
      found.push_back(std::move(f));
    }
    for (auto& f : found) all.push_back(std::move(f));
  }

 private:
  // An answer is its address and its reply (time and querier), the reply
  // kept once in replies_ for all its answers: 24 bytes an answer, not 56.
  struct Reply {
    core::Timestamp ts;
    core::IpAddress querier;
  };
  struct Answer {
    core::IpAddress ip;
    uint32_t reply;  // index in replies_
  };
  static constexpr uint32_t kNoReply = UINT32_MAX;
  // Replies pooled at most (the index is 32 bits; a pool this full would
  // hold more than 100 GB of answers, far past every other cap).
  static constexpr size_t kMaxReplies = UINT32_MAX - 1;
  struct Conn {
    core::Timestamp ts;
    core::IpAddress orig;
  };
  // Connections to one answer address, their uids packed beside them (a uid
  // in 19 bytes, not a 32-byte string and its heap block).
  struct Conns {
    std::vector<Conn> conns;
    PackedUids uids;  // uids[i] is conns[i]'s
  };

  // The answers kept under `key` (at most 64), or null when the table is full.
  std::vector<Answer>* answers_for(std::string_view key) {
    auto it = answers_.find(key);
    if (it == answers_.end()) {
      if (answers_.size() >= max_domains_) return nullptr;
      it = answers_.emplace(std::string(key), std::vector<Answer>{}).first;
    }
    return &it->second;  // stays valid: unordered_map nodes do not move
  }

  bool is_resolver(const core::IpAddress& host) const {
    auto c = clients_.find(host);
    if (c != clients_.end() && static_cast<double>(c->second.count()) >= min_clients_) return true;
    auto q = queried_.find(host);
    return q != queried_.end() && static_cast<double>(q->second.count()) >= min_domains_;
  }

  Networks internal_;
  int64_t window_ns_;
  double min_clients_;
  double min_domains_;
  size_t max_domains_;
  size_t max_conns_per_ip_;
  // Hash maps: these are touched for every DNS record and connection.
  using AddrHash = AddressHash;  // detect/address_hash.h
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<core::IpAddress, DistinctSet<core::IpAddress>, AddrHash> clients_;  // resolver -> clients
  std::unordered_map<core::IpAddress, DistinctHashes, AddrHash> queried_;  // querier -> registered domains (hashed)
  std::unordered_map<std::string, std::vector<Answer>, NameHash, std::equal_to<>> answers_;  // name -> answers
  std::deque<Reply> replies_;  // a deque: grows without copying or a doubled block
  std::unordered_set<core::IpAddress, AddrHash> answer_ips_;
  std::unordered_map<core::IpAddress, Conns, AddrHash> conns_;  // answer address -> later connections
};

}  // namespace

void register_dns_resolver(Registry& r) {
  r.add("dns_resolver", [](Config& c) { return std::make_unique<DnsResolverDetector>(c); });
}

}  // namespace trawl::detect

// C2 beaconing (docs/findings/beacon.md): `beacon` for a source that connects
// to one destination at regular intervals, scored as RITA v5 scores beacons
// (detect/beacon_score.h: interval skew and dispersion, size skew and
// dispersion, histogram of connections over the capture, duration). Two kinds
// of series: source -> destination address (every connection counts, also
// attempts that never got an answer), and source -> domain, the domain taken
// from the TLS SNI, the HTTP Host, or the DNS answer that gave the client the
// address. As RITA, an address pair whose connections belong to a domain
// series that is scored is left to that series, so one beacon gives one finding.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "analyzers/dns/dns_log_record.h"
#include "analyzers/http/http_record.h"
#include "analyzers/ssl/ssl_record.h"
#include "core/hash.h"
#include "core/timestamp.h"
#include "detect/address_hash.h"
#include "detect/beacon_score.h"
#include "detect/detector.h"
#include "detect/evidence.h"
#include "detect/text.h"
#include "output/json_line.h"

namespace trawl::detect {
namespace {

constexpr size_t kEvidenceCap = 10;
constexpr size_t kPortCap = 16;
constexpr size_t kDstSample = 10;
constexpr size_t kLinkCap = 4;       // domains remembered per address pair
constexpr size_t kDomainMaxLen = 253;

enum class DomainSource : uint8_t { kSni, kHttpHost, kDns };
const char* source_name(DomainSource s) {
  switch (s) {
    case DomainSource::kSni:
      return "tls_sni";
    case DomainSource::kHttpHost:
      return "http_host";
    case DomainSource::kDns:
      return "dns";
  }
  return "dns";
}

struct Settings {
  beacon::Params params;
  beacon::Buckets buckets;
  double min_unique = 4;
  double strobe_count = 86400;
  double min_period_s = 1;
  double max_relative_jitter = 0.25;
  int64_t window_s = 86400;
  double internal_penalty = 0.15;
  bool skip_inbound = true;
  bool defer_to_bruteforce = true;
  double safelist_min_sources = 0;
  size_t max_times_per_series = 8640;
  uint64_t max_stored_times = 4000000;
  size_t max_series = 50000;
  size_t max_uid_links = 200000;
  size_t max_dns_links = 50000;
};

// A kept connection: start time and originator IP bytes (one vector of
// these instead of two parallel vectors: one allocation per series).
struct Kept {
  int64_t ts_ns;
  uint32_t size;
};

// What a series keeps per connection, from its second connection on (or its
// first, when that uid is too long to hold inline).
struct SeriesMore {
  std::vector<Kept> kept;  // start times kept for scoring (the most recent, capped)
  std::vector<std::pair<uint16_t, uint64_t>> ports;  // destination port -> connections, ascending (capped)
  // The first kEvidenceCap non-empty uids; the evidence total is the series'
  // count (every connection is evidence), so an Evidence's counters are not kept.
  PackedUids evidence;
};

constexpr size_t kUidInline = 24;  // a conn uid is 18 bytes

// One connection series: a source and an address or a domain. Most series
// hold a single connection, so its fixed part is what counts: that one
// connection's start time, port and uid are held inline (the one-connection
// form), the containers (SeriesMore) made at a second connection; the
// service is interned; what only one kind needs is kept in that kind
// (PairSeries, DomainSeries).
struct Series {
  uint64_t count = 0;           // all connections; count - kept_size() were not kept
  uint64_t orig_bytes = 0;      // payload
  uint64_t resp_bytes = 0;
  uint64_t tls = 0;             // connections that were TLS
  core::Timestamp first{INT64_MAX};
  core::Timestamp last{INT64_MIN};
  const std::string* service = nullptr;  // first service seen (interned), null: none yet
  std::unique_ptr<SeriesMore> more;      // null: the one-connection form below
  // The one-connection form (count 1, more null): its size if its start time
  // (`first`) was kept, its port, its uid (empty: no evidence).
  uint32_t size0 = 0;
  uint16_t port0 = 0;
  bool has_kept0 = false;
  uint8_t uid0_len = 0;
  char uid0[kUidInline] = {};

  size_t kept_size() const { return more ? more->kept.size() : (has_kept0 ? 1 : 0); }
  // The kept times, ports and uids, whichever form holds them (for scoring).
  std::vector<Kept> kept_copy() const {
    if (more) return more->kept;
    if (has_kept0) return {Kept{first.ns, size0}};
    return {};
  }
  std::vector<std::pair<uint16_t, uint64_t>> ports_copy() const {
    if (more) return more->ports;
    if (count > 0) return {{port0, uint64_t{1}}};
    return {};
  }
  std::vector<std::string> evidence_uids() const {
    if (more) return more->evidence.to_vector();
    if (uid0_len > 0) return {std::string(uid0, uid0_len)};
    return {};
  }
  // Moves the one-connection form into containers (at the second
  // connection, before `first` changes).
  void expand() {
    more = std::make_unique<SeriesMore>();
    if (has_kept0) more->kept.push_back({first.ns, size0});
    more->ports.emplace_back(port0, 1);
    if (uid0_len > 0) more->evidence.push_back(std::string_view(uid0, uid0_len));
  }
};

// source -> address. Its destinations are the key's address alone.
struct PairSeries : Series {
  std::vector<std::string> links;  // distinct domains its connections went to
};

// source -> domain. Its one address and source are held inline while it
// has one connection (most domain series), the set and counts made at the
// second.
struct DomainSeries : Series {
  struct Spread {
    SmallDistinctSet<core::IpAddress> dsts{kDstSample * 4};
    uint64_t by_source[3] = {0, 0, 0};  // how the domain was learned
  };
  std::unique_ptr<Spread> spread;  // null: the one-connection form below
  core::IpAddress dst0;
  uint8_t source0 = 0;
  bool qualified = false;  // was scored (for suppression)

  // After add(): the connection's address and how its domain was learned.
  void note(const core::IpAddress& dst, size_t source) {
    if (count == 1 && !spread) {
      dst0 = dst;
      source0 = static_cast<uint8_t>(source);
      return;
    }
    if (!spread) {
      spread = std::make_unique<Spread>();
      spread->dsts.add(dst0);
      ++spread->by_source[source0];
    }
    spread->dsts.add(dst);
    ++spread->by_source[source];
  }
  // The destinations and sources, whichever form holds them.
  Spread spread_copy() const {
    if (spread) return *spread;
    Spread one;
    if (count > 0) {
      one.dsts.add(dst0);
      ++one.by_source[source0];
    }
    return one;
  }
};

using PairKey = std::pair<core::IpAddress, core::IpAddress>;
using DomainKey = std::pair<core::IpAddress, std::string>;

// Hashes for the per-record lookups (ordered maps of addresses and uids were
// a third of this detector's time in memcmp). Iteration order of the hash
// maps depends only on the records, so output stays deterministic.
struct KeyHash {
  size_t operator()(const PairKey& k) const {
    return static_cast<size_t>(core::mix64(address_hash(k.first) ^ (address_hash(k.second) * 0x9e3779b97f4a7c15ull)));
  }
  size_t operator()(const DomainKey& k) const {
    return static_cast<size_t>(core::mix64(address_hash(k.first) ^ std::hash<std::string>{}(k.second)));
  }
  size_t operator()(const std::string& k) const { return std::hash<std::string>{}(k); }
};
template <typename K, typename S>
using SeriesMap = std::unordered_map<K, S, KeyHash>;

bool never_included(const core::IpAddress& a) {
  const auto& b = a.bytes();
  if (a.is_v4()) {
    uint32_t v = a.v4_host_order();
    if (v == 0 || v == 0xffffffffu) return true;           // this host, limited broadcast
    if ((v >> 24) == 127) return true;                     // loopback
    if ((v >> 16) == 0xa9fe) return true;                  // link-local
    if ((v >> 28) == 0xe) return true;                     // multicast
    return false;
  }
  bool zero = true;
  for (size_t i = 0; i < 15; ++i) zero = zero && b[i] == 0;
  if (zero && (b[15] == 0 || b[15] == 1)) return true;     // unspecified, loopback
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // link-local
  if (b[0] == 0xff) return true;                           // multicast
  return false;
}

// Whole seconds, rounded down; no overflow at the ends of the range.
int64_t floor_sec(int64_t ns) {
  int64_t q = ns / core::kNsPerSec;
  if (ns % core::kNsPerSec < 0) --q;
  return q;
}

core::Timestamp from_sec(int64_t s) {
  constexpr int64_t kMax = INT64_MAX / core::kNsPerSec;
  if (s > kMax) return core::Timestamp{INT64_MAX};
  if (s < -kMax) return core::Timestamp{INT64_MIN};
  return core::Timestamp{s * core::kNsPerSec};
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

using text::human_bytes;  // detect/text.h

// Lower-cased host name, or empty when it is not a usable name (an address
// literal, too long, empty).
std::string normalize_domain(std::string_view s, bool strip_port) {
  if (strip_port) {
    if (!s.empty() && s.front() == '[') return "";  // IPv6 literal
    size_t colon = s.rfind(':');
    if (colon != std::string_view::npos) s = s.substr(0, colon);
  }
  while (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty() || s.size() > kDomainMaxLen) return "";
  std::string out(s.size(), '\0');
  // Only text of digits and dots (IPv4) or with a colon (IPv6) can parse as
  // an address: the rest (every real name) skips inet_pton.
  bool maybe_address = true;
  bool colon = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return "";
    out[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    colon = colon || c == ':';
    maybe_address = maybe_address && ((c >= '0' && c <= '9') || c == '.');
  }
  if ((maybe_address || colon) && core::IpAddress::parse(out)) return "";
  return out;
}

// A bounded map that forgets its oldest entries first. The age order is a
// doubly linked list threaded through the map's own entries, oldest first (a
// put moves its entry to the back): no ordered index to rebalance and no
// separate list node per entry, the same eviction order.
template <typename K, typename V>
class Lru {
 public:
  explicit Lru(size_t cap) : cap_(cap) {}
  Lru(const Lru&) = delete;
  Lru& operator=(const Lru&) = delete;
  // Moving keeps the links valid: they point into map_'s nodes, which move
  // with it.
  Lru(Lru&&) = default;
  Lru& operator=(Lru&&) = default;
  // Inserts or replaces (a replaced entry becomes the newest). The value is
  // forwarded: replacing a name by itself copies into the old string's room.
  template <typename U>
  void put(const K& k, U&& v) {
    auto it = map_.find(k);
    if (it != map_.end()) {
      unlink(&*it);
      link_newest(&*it);
      it->second.value = std::forward<U>(v);
      return;
    }
    if (cap_ == 0) return;
    if (map_.size() >= cap_) {
      Node* old = oldest_;
      unlink(old);
      map_.erase(old->first);
      ++evicted_;
    }
    it = map_.try_emplace(k, std::forward<U>(v)).first;
    link_newest(&*it);
  }
  bool contains(const K& k) const { return map_.contains(k); }
  const V* get(const K& k) const {
    auto it = map_.find(k);
    return it == map_.end() ? nullptr : &it->second.value;
  }
  std::optional<V> take(const K& k) {
    auto it = map_.find(k);
    if (it == map_.end()) return std::nullopt;
    V v = std::move(it->second.value);
    unlink(&*it);
    map_.erase(it);
    return v;
  }
  uint64_t evicted() const { return evicted_; }

 private:
  struct Entry;
  using Node = std::pair<const K, Entry>;  // map_'s nodes do not move
  struct Entry {
    template <typename U>
    explicit Entry(U&& v) : value(std::forward<U>(v)) {}
    V value;
    Node* older = nullptr;
    Node* newer = nullptr;
  };
  void link_newest(Node* n) {
    n->second.older = newest_;
    n->second.newer = nullptr;
    (newest_ != nullptr ? newest_->second.newer : oldest_) = n;
    newest_ = n;
  }
  void unlink(Node* n) {
    (n->second.older != nullptr ? n->second.older->second.newer : oldest_) = n->second.newer;
    (n->second.newer != nullptr ? n->second.newer->second.older : newest_) = n->second.older;
  }

  size_t cap_;
  uint64_t evicted_ = 0;
  std::unordered_map<K, Entry, KeyHash> map_;
  Node* oldest_ = nullptr;
  Node* newest_ = nullptr;
};

// Names shared, counted: the (client, answer address) -> name links repeat
// few names (a name is linked for each of its addresses and each client that
// asks; 50 000 links held 3 249 names on the benchmark capture). A name
// leaves the pool with its last SharedName, so the pool holds no more names
// than there are links.
class NamePool {
 public:
  using Node = std::pair<const std::string, uint64_t>;  // name, handles to it
  Node* acquire(const std::string& name) {
    Node* n = &*names_.try_emplace(name, 0).first;  // unordered_map nodes do not move
    ++n->second;
    return n;
  }
  void release(Node* n) {
    if (--n->second == 0) names_.erase(n->first);
  }

 private:
  std::unordered_map<std::string, uint64_t> names_;
};

// A counted handle to a pooled name (16 bytes instead of a 32-byte string
// and its heap block per link).
class SharedName {
 public:
  SharedName(NamePool& pool, const std::string& name) : pool_(&pool), node_(pool.acquire(name)) {}
  SharedName(const SharedName& o) : pool_(o.pool_), node_(o.node_) { ++node_->second; }
  SharedName(SharedName&& o) noexcept : pool_(o.pool_), node_(o.node_) { o.node_ = nullptr; }
  SharedName& operator=(SharedName o) noexcept {
    std::swap(pool_, o.pool_);
    std::swap(node_, o.node_);
    return *this;  // o releases the old name
  }
  ~SharedName() {
    if (node_ != nullptr) pool_->release(node_);
  }
  const std::string& str() const { return node_->first; }

 private:
  NamePool* pool_;
  NamePool::Node* node_;
};

struct UidLink {
  std::string domain;
  DomainSource source = DomainSource::kSni;
  bool tls = false;
};

class BeaconDetector final : public Detector {
 public:
  explicit BeaconDetector(Config& c) : internal_(c.internal) {
    auto& p = s_.params;
    s_.min_unique = c.get("beacon.min_unique_times", 4,
                          "distinct start seconds a series needs before it is scored (RITA unique_connection_threshold)");
    s_.strobe_count = c.get("beacon.strobe_connections", 86400,
                            "series with this many connections are strobes, not beacons (RITA: one per second for a day)");
    s_.max_relative_jitter = c.get(
        "beacon.max_relative_jitter", 0.25,
        "above this jitter/period (median absolute deviation over median interval) a beacon ranks at most low: "
        "RITA's absolute-seconds dispersion lets random client traffic score high on short captures (0: off)");
    s_.min_period_s = c.get("beacon.min_period_s", 1,
                            "median interval (s) under which a series is a burst, not a beacon");
    p.ts_weight = c.get("beacon.ts_weight", 0.25, "weight of the timestamp (interval) score");
    p.ds_weight = c.get("beacon.ds_weight", 0.25, "weight of the data-size score");
    p.dur_weight = c.get("beacon.dur_weight", 0.25, "weight of the duration score");
    p.hist_weight = c.get("beacon.hist_weight", 0.25, "weight of the histogram score");
    p.dur_min_hours = static_cast<int>(
        c.get("beacon.dur_min_bars", 6, "non-empty histogram bins needed before the duration score counts"));
    p.dur_ideal_hours = static_cast<int>(
        c.get("beacon.dur_ideal_bars", 12, "consecutive non-empty bins that give a full duration consistency score"));
    p.hist_mode_sensitivity =
        c.get("beacon.hist_mode_sensitivity", 0.05, "bar heights within this fraction of the tallest bar are one mode");
    p.hist_bimodal_outlier_removal = static_cast<int>(
        c.get("beacon.hist_bimodal_outlier_removal", 1, "bars forgiven as outliers in the bimodal fit"));
    p.hist_bimodal_min_hours = static_cast<int>(
        c.get("beacon.hist_bimodal_min_bars", 11, "non-empty bins needed before the bimodal fit counts"));
    p.hist_bins = static_cast<int>(std::clamp(
        c.get("beacon.hist_bins", 24, "histogram bins over the scored window (RITA: 24 hours)"), 1.0, 10000.0));
    s_.buckets.base = c.get("beacon.score_base", 50, "beacon score x100 from which a finding is made (RITA base)");
    s_.buckets.low = c.get("beacon.score_low", 75, "beacon score x100 where RITA's low bucket ends");
    s_.buckets.medium = c.get("beacon.score_medium", 90, "beacon score x100 where RITA's medium bucket ends");
    s_.buckets.high = c.get("beacon.score_high", 100, "beacon score x100 of the top of RITA's high bucket");
    double window = c.get("beacon.window_s", 86400, "only the last this many seconds of the capture are scored (0: all)");
    s_.window_s = window > 0 ? static_cast<int64_t>(std::min(window, 1e12)) : 0;
    s_.internal_penalty = c.get("beacon.internal_penalty", 0.15,
                                "subtracted from the threat score of internal->internal beacons (they rank lower)");
    s_.skip_inbound =
        c.get("beacon.skip_inbound", 1, "1: ignore external->internal series (RITA filter_external_to_internal)") != 0;
    s_.defer_to_bruteforce =
        c.get("beacon.defer_to_bruteforce", 1,
              "1: a beacon between the same hosts as a bruteforce.* finding is lowered to info (one run, one alarm)") != 0;
    s_.safelist_min_sources =
        c.get("beacon.safelist_min_sources", 0,
              "0: off; else skip destinations (address or domain) that at least this many sources connect to");
    s_.max_times_per_series = static_cast<size_t>(std::clamp(
        c.get("beacon.max_times_per_series", 8640, "start times kept per series (the most recent)"), 16.0, 1e7));
    s_.max_stored_times = static_cast<uint64_t>(
        std::clamp(c.get("beacon.max_stored_times", 4e6, "start times kept over all series"), 0.0, 1e10));
    s_.max_series = static_cast<size_t>(
        std::clamp(c.get("beacon.max_series", 50000, "series tracked of each kind (address, domain)"), 1.0, 1e8));
    uid_links_ = Lru<std::string, UidLink>(static_cast<size_t>(
        std::clamp(c.get("beacon.max_pending_uids", 200000, "TLS/HTTP names waiting for their connection"), 0.0, 1e8)));
    dns_links_ = Lru<PairKey, SharedName>(static_cast<size_t>(std::clamp(
        c.get("beacon.max_dns_links", 50000, "(client, answer address) -> name links remembered"), 0.0, 1e8)));
  }

  void on_record(const analyzers::Record& r) override {
    std::string_view log = r.log();
    if (log == "ssl") {
      const auto& s = static_cast<const analyzers::ssl::SslRecord&>(r);
      if (s.uid.empty()) return;
      std::string d = s.server_name ? normalized(*s.server_name, false) : "";
      // An SNI wins over an HTTP Host already seen on the connection.
      const UidLink* old = uid_links_.get(s.uid);
      if (old != nullptr && old->source == DomainSource::kSni) return;
      const bool no_name = d.empty();
      UidLink link{std::move(d), DomainSource::kSni, true};
      if (no_name && old != nullptr) link = {old->domain, old->source, true};
      uid_links_.put(s.uid, std::move(link));
    } else if (log == "http") {
      const auto& h = static_cast<const analyzers::http::HttpRecord&>(r);
      if (h.uid.empty() || !h.host || uid_links_.contains(h.uid)) return;
      std::string d = normalized(*h.host, true);
      if (!d.empty()) uid_links_.put(h.uid, UidLink{std::move(d), DomainSource::kHttpHost, false});
    } else if (log == "dns") {
      const auto& q = static_cast<const analyzers::dns::DnsLogRecord&>(r);
      if (!q.query) return;
      // Most answers carry no address (NXDOMAIN, CNAME only, PTR): then
      // there is nothing to link and the name need not be normalised.
      if (std::none_of(q.answers.begin(), q.answers.end(), [](const auto& a) { return a.address.has_value(); })) return;
      std::string d = normalized(*q.query, false);
      if (d.empty()) return;
      const SharedName name(names_, d);
      for (const auto& a : q.answers) {
        if (a.address) dns_links_.put({q.orig_h, *a.address}, name);
      }
    }
  }

  void on_conn(const flow::ConnRecord& r) override {
    int64_t sec = floor_sec(r.ts.ns);
    data_min_ = std::min(data_min_, sec);
    data_max_ = std::max(data_max_, sec);
    std::optional<UidLink> link = uid_links_.take(r.uid);
    if (never_included(r.orig_h) || never_included(r.resp_h)) return;
    if (s_.skip_inbound && !internal(r.orig_h) && internal(r.resp_h)) return;

    bool tls = (link && link->tls) || r.service.find("ssl") != std::string::npos;
    std::string domain;
    DomainSource source = DomainSource::kDns;
    if (link && !link->domain.empty()) {
      domain = std::move(link->domain);  // the link was taken out of uid_links_
      source = link->source;
    } else if (const SharedName* d = dns_links_.get({r.orig_h, r.resp_h})) {
      domain = d->str();
    }

    PairKey pk{r.orig_h, r.resp_h};
    PairSeries* pair = series_for(pairs_, pk, pairs_ignored_);
    if (pair != nullptr) {
      add(*pair, r, tls);
      if (!domain.empty() && pair->links.size() < kLinkCap &&
          std::find(pair->links.begin(), pair->links.end(), domain) == pair->links.end()) {
        pair->links.push_back(domain);
      }
    }
    if (!domain.empty()) {
      DomainSeries* dom = series_for(domains_, DomainKey{r.orig_h, std::move(domain)}, domains_ignored_);
      if (dom != nullptr) {
        add(*dom, r, tls);
        dom->note(r.resp_h, static_cast<size_t>(source));
      }
    }
  }

  void finish(std::vector<Finding>& out) override {
    if (data_max_ < data_min_) return;
    int64_t win_min = data_min_;
    if (s_.window_s > 0 && data_max_ - s_.window_s > win_min) win_min = data_max_ - s_.window_s;

    std::map<std::string, uint64_t> domain_sources;  // safelist: sources per destination
    std::map<core::IpAddress, uint64_t> addr_sources;
    if (s_.safelist_min_sources > 0) {
      for (const auto& [k, v] : domains_) ++domain_sources[k.second];
      for (const auto& [k, v] : pairs_) ++addr_sources[k.second];
    }

    for (auto& [k, v] : domains_) {
      if (s_.safelist_min_sources > 0 && static_cast<double>(domain_sources[k.second]) >= s_.safelist_min_sources) {
        continue;
      }
      // The same early test as evaluate's, before the sets are copied out.
      if (static_cast<double>(v.kept_size()) < s_.min_unique) continue;
      const DomainSeries::Spread spread = v.spread_copy();
      auto f = evaluate(v, spread.dsts, spread.by_source, k.first, k.second, win_min, v.qualified);
      if (f) out.push_back(std::move(*f));
    }
    for (auto& [k, v] : pairs_) {
      const core::IpAddress& src = k.first;
      bool covered = std::any_of(v.links.begin(), v.links.end(), [&](const std::string& d) {
        auto it = domains_.find(DomainKey{src, d});
        return it != domains_.end() && it->second.qualified;
      });
      if (covered) {
        continue;
      }
      if (s_.safelist_min_sources > 0 && static_cast<double>(addr_sources[k.second]) >= s_.safelist_min_sources) {
        continue;
      }
      // The same early test as evaluate's, before the one-address set is made.
      if (static_cast<double>(v.kept_size()) < s_.min_unique) continue;
      SmallDistinctSet<core::IpAddress> dsts(kDstSample * 4);
      dsts.add(k.second);
      const uint64_t no_source[3] = {0, 0, 0};
      bool qualified = false;  // only domain series are looked up for it
      auto f = evaluate(v, dsts, no_source, k.first, "", win_min, qualified);
      if (f) out.push_back(std::move(*f));
    }

    uint64_t capped = pairs_ignored_ + domains_ignored_ + pairs_evicted_ + domains_evicted_ + times_dropped_budget_ +
                      uid_links_.evicted() + dns_links_.evicted();
    if (capped > 0) out.push_back(capped_note());
  }

  // Password guessing at a fixed rate is periodic too; the bruteforce
  // detector names it better, so the beacon between the same hosts steps back.
  void after(std::vector<Finding>& all) override {
    if (!s_.defer_to_bruteforce) return;
    std::map<std::pair<std::string, std::string>, std::string> guessed;  // (src, dst) -> id
    for (const auto& f : all) {
      if (f.id.rfind("bruteforce.", 0) != 0) continue;
      for (const auto& d : f.dst) guessed.emplace(std::make_pair(f.src, d), f.id);
    }
    if (guessed.empty()) return;
    for (auto& f : all) {
      if (f.id != "beacon") continue;
      auto ips = reported_ips_.find({f.src, f.dst.empty() ? "" : f.dst[0]});
      if (ips == reported_ips_.end()) continue;
      for (const auto& ip : ips->second) {
        auto g = guessed.find({f.src, ip});
        if (g == guessed.end()) continue;
        f.severity = Severity::kInfo;
        if (!f.details.empty() && f.details.back() == '}') {
          f.details.pop_back();
          f.details += ",\"superseded_by\":";
          output::append_json_string(f.details, g->second);
          f.details += "}";
        }
        break;
      }
    }
  }

 private:
  bool internal(const core::IpAddress& a) const { return internal_.is_internal(a); }

  // normalize_domain() through a direct-mapped cache of kNormSlots names of
  // at most kNormMaxLen bytes (a new name overwrites its slot): the same
  // names come back in every DNS answer, SNI and Host header.
  static constexpr size_t kNormSlots = 1024;
  static constexpr size_t kNormMaxLen = 255;
  struct NormSlot {
    bool used = false;
    bool strip_port = false;
    std::string in;
    std::string out;
  };
  std::string normalized(std::string_view s, bool strip_port) {
    if (s.size() > kNormMaxLen) return normalize_domain(s, strip_port);
    if (norm_cache_.empty()) norm_cache_.resize(kNormSlots);
    NormSlot& slot = norm_cache_[(core::hash_bytes(s.data(), s.size()) + (strip_port ? 1u : 0u)) & (kNormSlots - 1)];
    if (!slot.used || slot.strip_port != strip_port || slot.in != s) {
      slot.used = true;
      slot.strip_port = strip_port;
      slot.in.assign(s);
      slot.out = normalize_domain(s, strip_port);
    }
    return slot.out;
  }

  template <typename K, typename S>
  S* series_for(SeriesMap<K, S>& m, const K& key, uint64_t& ignored) {
    auto it = m.find(key);
    if (it != m.end()) return &it->second;
    if (m.size() >= s_.max_series) {
      prune(m);
      if (m.size() >= s_.max_series) {
        ++ignored;
        return nullptr;
      }
    }
    return &m.try_emplace(key).first->second;  // built in place: a Series is a dozen containers
  }

  // Full table: forget the least active series (fewer connections than a
  // series needs to be scored), once per tenth of the table so the cost stays
  // amortised; if that frees too little, new series are ignored instead.
  template <typename K, typename S>
  void prune(SeriesMap<K, S>& m) {
    bool is_pairs = static_cast<void*>(&m) == static_cast<void*>(&pairs_);
    bool& exhausted = is_pairs ? pairs_prune_exhausted_ : domains_prune_exhausted_;
    if (exhausted) return;
    size_t before = m.size();
    for (auto it = m.begin(); it != m.end();) {
      if (static_cast<double>(it->second.count) < s_.min_unique) {
        stored_times_ -= it->second.kept_size();
        it = m.erase(it);
      } else {
        ++it;
      }
    }
    size_t freed = before - m.size();
    (is_pairs ? pairs_evicted_ : domains_evicted_) += freed;
    if (freed < std::max<size_t>(1, s_.max_series / 10)) exhausted = true;
  }

  void add(Series& v, const flow::ConnRecord& r, bool tls) {
    if (v.count == 1 && !v.more) v.expand();
    ++v.count;
    v.orig_bytes += r.orig_bytes;
    v.resp_bytes += r.resp_bytes;
    if (tls) ++v.tls;
    v.first = std::min(v.first, r.ts);
    v.last = std::max(v.last, r.ts);
    if (v.service == nullptr && !r.service.empty()) v.service = &*services_.insert(r.service).first;
    const uint64_t size = r.orig_ip_bytes != 0 ? r.orig_ip_bytes : r.orig_bytes;
    const auto size32 = static_cast<uint32_t>(std::min<uint64_t>(size, UINT32_MAX));
    if (v.count == 1 && r.uid.size() <= kUidInline) {
      // The one-connection form: what the containers would hold, inline.
      v.port0 = r.resp_p;
      v.uid0_len = static_cast<uint8_t>(r.uid.size());
      std::memcpy(v.uid0, r.uid.data(), r.uid.size());
      if (stored_times_ >= s_.max_stored_times) {
        ++times_dropped_budget_;
        return;
      }
      v.size0 = size32;  // its start time is v.first
      v.has_kept0 = true;
      ++stored_times_;
      return;
    }
    if (!v.more) v.more = std::make_unique<SeriesMore>();  // a first uid too long to hold inline
    SeriesMore& m = *v.more;
    auto pit = std::lower_bound(m.ports.begin(), m.ports.end(), r.resp_p,
                                [](const auto& e, uint16_t p) { return e.first < p; });
    if (pit != m.ports.end() && pit->first == r.resp_p) {
      ++pit->second;
    } else if (m.ports.size() < kPortCap) {
      m.ports.emplace(pit, r.resp_p, 1);
    }
    if (m.evidence.size() < kEvidenceCap && !r.uid.empty()) m.evidence.push_back(r.uid);

    if (m.kept.size() >= s_.max_times_per_series) {
      // Keep the most recent times: drop the oldest quarter at once.
      size_t drop = std::max<size_t>(1, m.kept.size() / 4);
      m.kept.erase(m.kept.begin(), m.kept.begin() + static_cast<std::ptrdiff_t>(drop));
      stored_times_ -= drop;
    }
    if (stored_times_ >= s_.max_stored_times) {
      ++times_dropped_budget_;
      return;
    }
    m.kept.push_back({r.ts.ns, size32});
    ++stored_times_;
  }

  // how the domain was learned; qualified is set once the series is scored.
  std::optional<Finding> evaluate(const Series& v, const SmallDistinctSet<core::IpAddress>& dsts,
                                  const uint64_t (&by_source)[3], const core::IpAddress& src, const std::string& domain,
                                  int64_t win_min, bool& qualified) {
    // Most series are a connection or two: fewer kept times than unique
    // seconds needed cannot pass the test below, so skip building the vectors.
    if (static_cast<double>(v.kept_size()) < s_.min_unique) return std::nullopt;
    const std::vector<Kept> kept = v.kept_copy();
    const std::vector<std::pair<uint16_t, uint64_t>> ports_n = v.ports_copy();
    // Times in whole seconds as RITA keeps them, restricted to the window.
    std::vector<int64_t> secs;
    std::vector<double> sizes;
    std::vector<int64_t> ns;
    secs.reserve(kept.size());
    for (const Kept& k : kept) {
      int64_t sec = floor_sec(k.ts_ns);
      if (sec < win_min) continue;
      secs.push_back(sec);
      ns.push_back(k.ts_ns);
      sizes.push_back(static_cast<double>(k.size));
    }
    std::vector<int64_t> uniq = secs;
    std::sort(uniq.begin(), uniq.end());
    uniq.erase(std::unique(uniq.begin(), uniq.end()), uniq.end());
    if (static_cast<double>(uniq.size()) < s_.min_unique) return std::nullopt;
    if (static_cast<double>(v.count) >= s_.strobe_count) {
      return std::nullopt;
    }
    qualified = true;
    // Period and jitter at full precision, for people.
    std::sort(ns.begin(), ns.end());
    std::vector<double> iv;
    for (size_t i = 0; i + 1 < ns.size(); ++i) {
      if (ns[i + 1] > ns[i]) iv.push_back(static_cast<double>(core::Timestamp{ns[i + 1]} - core::Timestamp{ns[i]}) / 1e9);
    }
    std::sort(iv.begin(), iv.end());
    double period = beacon::median_sorted(iv);
    std::vector<double> dev;
    for (double x : iv) dev.push_back(std::fabs(x - period));
    std::sort(dev.begin(), dev.end());
    double jitter = beacon::median_sorted(dev);
    // RITA's clock has whole seconds: a series whose connections are mostly
    // under a second apart is a burst it would see as a 1 s cadence.
    if (period < s_.min_period_s) return std::nullopt;
    auto res = beacon::score_series(secs, sizes, win_min, data_max_, s_.params);
    if (!res) return std::nullopt;
    double bucket = beacon::bucketed_score(res->score * 100.0, s_.buckets);
    if (bucket <= 0) return std::nullopt;

    bool int_int = internal(src) && std::all_of(dsts.values().begin(), dsts.values().end(),
                                                [&](const core::IpAddress& a) { return internal(a); });
    double threat = int_int ? std::max(0.0, bucket - s_.internal_penalty) : bucket;

    Finding f;
    f.id = "beacon";
    f.ts = v.first;
    f.last_ts = v.last;
    f.severity = beacon::severity_of_bucketed(threat);
    const double relative_jitter = period > 0 ? jitter / period : 0;
    if (s_.max_relative_jitter > 0 && relative_jitter > s_.max_relative_jitter && f.severity > Severity::kLow) {
      f.severity = Severity::kLow;
    }
    f.confidence = res->score;
    f.src = src.to_string();
    if (domain.empty()) {
      f.dst = {dsts.sample(1).empty() ? "" : dsts.sample(1)[0].to_string()};
    } else {
      f.dst = {domain};
    }
    f.dst_count = 1;
    uint16_t top_port = 0;
    uint64_t top_n = 0;
    for (const auto& [p, n] : ports_n) {
      f.ports.push_back(p);
      if (n > top_n) {
        top_n = n;
        top_port = p;
      }
    }
    if (v.service != nullptr) f.service = *v.service;
    bool no_data = v.orig_bytes == 0 && v.resp_bytes == 0;
    f.counts = {{"connections", v.count}, {"bytes", v.orig_bytes + v.resp_bytes}};
    f.attack = v.tls * 2 >= v.count && v.tls > 0 ? "T1573" : "T1071";
    f.evidence = v.evidence_uids();
    f.evidence_total = v.count;

    std::string target = f.dst[0];
    if (target.find(':') != std::string::npos && domain.empty()) target = "[" + target + "]";
    target += ":" + std::to_string(top_port);
    if (ports_n.size() > 1) target += " (+" + std::to_string(ports_n.size() - 1) + " ports)";
    if (!domain.empty() && dsts.count() > 1) target += " (" + std::to_string(dsts.count()) + " addresses)";
    f.summary = f.src + " \xe2\x86\x92 " + target + " every " + fmt("%.1f", period) + " s \xc2\xb1 " +
                fmt(jitter > 0 && jitter < 0.05 ? "%.2f" : "%.1f", jitter) + " s, " + std::to_string(v.count) + (no_data ? " attempts, no data" : " connections, ") +
                (no_data ? "" : human_bytes(v.orig_bytes + v.resp_bytes)) + " (beacon score " + fmt("%.2f", res->score) +
                (int_int ? ", internal" : "") + ")";

    std::string d;
    output::JsonLine j(d);
    j.str("kind", domain.empty() ? "address" : "domain");
    if (!domain.empty()) {
      j.str("domain", domain);
      std::string src_json = "{";
      bool first = true;
      for (size_t i = 0; i < 3; ++i) {
        if (by_source[i] == 0) continue;
        if (!first) src_json += ",";
        first = false;
        src_json += "\"" + std::string(source_name(static_cast<DomainSource>(i))) + "\":" + std::to_string(by_source[i]);
      }
      src_json += "}";
      j.raw("domain_from", src_json);
    }
    std::string ips = "[";
    for (const auto& a : dsts.sample(kDstSample)) {
      if (ips.size() > 1) ips += ",";
      append_json_string_(ips, a.to_string());
    }
    ips += "]";
    j.raw("dst_ips", ips).u64("dst_ip_count", dsts.count());
    std::string ports = "{";
    for (const auto& [p, n] : ports_n) {
      if (ports.size() > 1) ports += ",";
      ports += "\"" + std::to_string(p) + "\":" + std::to_string(n);
    }
    ports += "}";
    j.raw("dst_ports", ports).u64("dst_port", top_port);
    j.raw("period_s", fmt("%.3f", period)).raw("jitter_s", fmt("%.3f", jitter));
    j.raw("relative_jitter", fmt("%.3f", relative_jitter));
    j.u64("count", v.count).u64("scored", secs.size()).u64("unique_seconds", uniq.size());
    j.u64("orig_bytes", v.orig_bytes).u64("resp_bytes", v.resp_bytes).boolean("no_data", no_data);
    j.u64("tls", v.tls);
    j.raw("ts_score", fmt("%.3f", res->ts.score))
        .raw("ts_skew", fmt("%.3f", res->ts.skew))
        .raw("ts_median_s", fmt("%.3f", res->ts.median))
        .raw("ts_mad_s", fmt("%.3f", res->ts.mad));
    j.raw("ds_score", fmt("%.3f", res->ds.score))
        .raw("ds_skew", fmt("%.3f", res->ds.skew))
        .raw("ds_median", fmt("%.1f", res->ds.median))
        .raw("ds_mad", fmt("%.1f", res->ds.mad));
    j.raw("hist_score", fmt("%.3f", res->hist.score))
        .raw("hist_cv_score", fmt("%.3f", res->hist.cv_score))
        .raw("hist_bimodal_score", fmt("%.3f", res->hist.bimodal_score));
    std::string bars = "[";
    for (int64_t b : res->hist.bars) {
      if (bars.size() > 1) bars += ",";
      bars += std::to_string(b);
    }
    bars += "]";
    j.raw("hist_bars", bars);
    j.raw("dur_score", fmt("%.3f", res->dur.score))
        .raw("dur_coverage", fmt("%.3f", res->dur.coverage))
        .raw("dur_consistency", fmt("%.3f", res->dur.consistency));
    j.raw("score", fmt("%.3f", res->score)).raw("threat_score", fmt("%.3f", threat));
    j.boolean("internal_to_internal", int_int);
    j.str("first", core::format_epoch_micros(v.first)).str("last", core::format_epoch_micros(v.last));
    j.u64("times_not_kept", v.count - kept.size());
    j.end_object();
    f.details = std::move(d);
    auto& ips_out = reported_ips_[{f.src, f.dst[0]}];
    for (const auto& a : dsts.values()) ips_out.push_back(a.to_string());
    return f;
  }

  static void append_json_string_(std::string& out, const std::string& s) { output::append_json_string(out, s); }

  Finding capped_note() const {
    Finding f;
    f.id = "beacon.capped";
    f.severity = Severity::kInfo;
    f.confidence = 1;
    f.src = "trawl";
    f.ts = from_sec(data_min_);
    f.last_ts = from_sec(data_max_);
    f.counts = {{"address_series_ignored", pairs_ignored_},    {"domain_series_ignored", domains_ignored_},
                {"address_series_evicted", pairs_evicted_},    {"domain_series_evicted", domains_evicted_},
                {"times_not_kept", times_dropped_budget_},     {"uid_links_evicted", uid_links_.evicted()},
                {"dns_links_evicted", dns_links_.evicted()}};
    f.summary = "beacon detection hit its memory caps: " + std::to_string(pairs_ignored_ + domains_ignored_) +
                " series ignored, " + std::to_string(pairs_evicted_ + domains_evicted_) + " evicted, " +
                std::to_string(times_dropped_budget_) + " connection times not kept";
    std::string d;
    output::JsonLine j(d);
    j.u64("max_series", s_.max_series).u64("max_stored_times", s_.max_stored_times);
    j.end_object();
    f.details = std::move(d);
    return f;
  }

  Settings s_;
  Networks internal_;
  std::vector<NormSlot> norm_cache_;  // kNormSlots once used
  Lru<std::string, UidLink> uid_links_{0};
  NamePool names_;  // before dns_links_: it outlives the names the links hold
  Lru<PairKey, SharedName> dns_links_{0};
  std::unordered_set<std::string> services_;  // Series::service points here (nodes do not move)
  SeriesMap<PairKey, PairSeries> pairs_;
  SeriesMap<DomainKey, DomainSeries> domains_;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> reported_ips_;  // (src, dst) of findings
  int64_t data_min_ = INT64_MAX;
  int64_t data_max_ = INT64_MIN;
  uint64_t stored_times_ = 0;
  uint64_t pairs_ignored_ = 0, domains_ignored_ = 0;
  uint64_t pairs_evicted_ = 0, domains_evicted_ = 0;
  bool pairs_prune_exhausted_ = false, domains_prune_exhausted_ = false;
  uint64_t times_dropped_budget_ = 0;
};

}  // namespace

void register_beacon(Registry& r) {
  r.add("beacon", [](Config& c) { return std::make_unique<BeaconDetector>(c); });
}

}  // namespace trawl::detect

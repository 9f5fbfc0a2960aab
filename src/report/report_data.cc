// ReportBuilder: per-record work is one pass over a flat JSON line (no
// allocation for fields it does not keep) and a few hash probes; the JSON
// document is built only once, at the end.
#include "report/report_data.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <queue>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/utf8.h"

namespace trawl::report {
namespace {

using Json = nlohmann::json;

// ---- A scanner for the flat JSON objects trawl writes -------------------

enum class Kind { kString, kNumber, kOther };

struct Value {
  Kind kind = Kind::kOther;
  std::string_view raw;  // string: between the quotes, still escaped
};

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return i;
}

// Index just past the closing quote of the string starting at s[i] == '"',
// or npos.
size_t end_of_string(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Index just past a nested array/object starting at s[i]; depth-bounded.
size_t end_of_nested(std::string_view s, size_t i) {
  int depth = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      i = end_of_string(s, i);
      if (i == std::string_view::npos) return i;
      continue;
    }
    if (c == '[' || c == '{') {
      if (++depth > 64) return std::string_view::npos;
    } else if (c == ']' || c == '}') {
      if (--depth == 0) return i + 1;
    }
    ++i;
  }
  return std::string_view::npos;
}

// Calls fn(key, value) for each member of a top-level object; false when the
// line is not a well-formed object (members before the fault were delivered).
template <typename Fn>
bool scan_object(std::string_view s, Fn&& fn) {
  size_t i = skip_ws(s, 0);
  if (i >= s.size() || s[i] != '{') return false;
  i = skip_ws(s, i + 1);
  if (i < s.size() && s[i] == '}') return true;
  while (i < s.size()) {
    if (s[i] != '"') return false;
    size_t k_end = end_of_string(s, i);
    if (k_end == std::string_view::npos) return false;
    std::string_view key = s.substr(i + 1, k_end - i - 2);  // keys are plain literals
    i = skip_ws(s, k_end);
    if (i >= s.size() || s[i] != ':') return false;
    i = skip_ws(s, i + 1);
    if (i >= s.size()) return false;
    Value v;
    size_t v_end;
    if (s[i] == '"') {
      v_end = end_of_string(s, i);
      if (v_end == std::string_view::npos) return false;
      v.kind = Kind::kString;
      v.raw = s.substr(i + 1, v_end - i - 2);
    } else if (s[i] == '[' || s[i] == '{') {
      v_end = end_of_nested(s, i);
      if (v_end == std::string_view::npos) return false;
      v.raw = s.substr(i, v_end - i);
    } else {
      v_end = i;
      while (v_end < s.size() && s[v_end] != ',' && s[v_end] != '}' && s[v_end] != ' ') ++v_end;
      v.kind = (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) ? Kind::kNumber : Kind::kOther;
      v.raw = s.substr(i, v_end - i);
    }
    fn(key, v);
    i = skip_ws(s, v_end);
    if (i >= s.size()) return false;
    if (s[i] == '}') return true;
    if (s[i] != ',') return false;
    i = skip_ws(s, i + 1);
  }
  return false;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The text of an escaped JSON string, at most `cap` bytes (cut on a UTF-8
// boundary). "\u00XX" with XX >= 0x80 is shown as U+00XX: trawl writes a
// byte that is not UTF-8 that way, and the page must stay valid UTF-8.
std::string decode(std::string_view raw, size_t cap) {
  std::string out;
  out.reserve(std::min(raw.size(), cap));
  for (size_t i = 0; i < raw.size() && out.size() < cap; ++i) {
    char c = raw[i];
    if (c != '\\' || i + 1 >= raw.size()) {
      out.push_back(c);
      continue;
    }
    char e = raw[++i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        uint32_t cp = 0;
        bool ok = i + 4 < raw.size();
        for (size_t k = 1; ok && k <= 4; ++k) {
          int d = hex_digit(raw[i + k]);
          ok = d >= 0;
          cp = cp * 16 + static_cast<uint32_t>(d < 0 ? 0 : d);
        }
        if (!ok) {
          out += "\xEF\xBF\xBD";
          break;
        }
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < raw.size() && raw[i + 1] == '\\' && raw[i + 2] == 'u') {
          uint32_t lo = 0;
          bool ok2 = true;
          for (size_t k = 3; k <= 6; ++k) {
            int d = hex_digit(raw[i + k]);
            ok2 = ok2 && d >= 0;
            lo = lo * 16 + static_cast<uint32_t>(d < 0 ? 0 : d);
          }
          if (ok2 && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
        core::append_utf8(out, cp);
        break;
      }
      default: out.push_back(e); break;  // \" \\ \/
    }
  }
  if (out.size() > cap) out.resize(cap);
  // Cut inside a multi-byte character: drop its lead and continuation bytes.
  size_t n = out.size();
  size_t k = n;
  while (k > 0 && (static_cast<unsigned char>(out[k - 1]) & 0xC0) == 0x80 && n - k < 3) --k;
  if (k > 0) {
    auto lead = static_cast<unsigned char>(out[k - 1]);
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (want > 1 && n - (k - 1) < want) out.resize(k - 1);
  }
  return out;
}

double to_double(std::string_view raw) {
  double v = 0;
  auto r = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  if (r.ec != std::errc() || !std::isfinite(v)) return 0;
  return v;
}

uint64_t to_u64(std::string_view raw) {
  uint64_t v = 0;
  auto r = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  return r.ec == std::errc() ? v : 0;
}

// ---- Bounded counters -----------------------------------------------------

// Lookups by string_view: the hot path finds keys without building strings.
struct SvHash {
  using is_transparent = void;
  size_t operator()(std::string_view v) const { return std::hash<std::string_view>()(v); }
};
template <typename V>
using SvMap = std::unordered_map<std::string, V, SvHash, std::equal_to<>>;

// Counts per value; values past the cap go to `other`.
struct CappedCounter {
  SvMap<uint64_t> counts;
  uint64_t other = 0;

  // True when the key was new and kept.
  bool add(std::string_view key, size_t cap, uint64_t n = 1) {
    auto it = counts.find(key);
    if (it != counts.end()) {
      it->second += n;
    } else if (counts.size() < cap) {
      counts.emplace(std::string(key), n);
      return true;
    } else {
      other += n;
    }
    return false;
  }

  // Top `n` as [[value, count], ...], count descending then value.
  Json top(size_t n) const {
    std::vector<const std::pair<const std::string, uint64_t>*> v;
    v.reserve(counts.size());
    for (const auto& kv : counts) v.push_back(&kv);
    size_t k = std::min(n, v.size());
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end(), [](auto* a, auto* b) {
      return a->second != b->second ? a->second > b->second : a->first < b->first;
    });
    Json out = Json::array();
    for (size_t i = 0; i < k; ++i) out.push_back(Json::array({v[i]->first, v[i]->second}));
    return out;
  }
};

// A handful of named counts per host (services used, ports served, peers):
// the first `kSmall` distinct names keep exact counts, the rest are summed.
constexpr size_t kSmall = 10;
struct SmallCounter {
  std::vector<std::pair<std::string, uint64_t>> items;
  uint64_t other = 0;

  void add(std::string_view key, uint64_t n) {
    for (auto& [k, c] : items) {
      if (k == key) {
        c += n;
        return;
      }
    }
    if (items.size() < kSmall) {
      items.emplace_back(std::string(key), n);
    } else {
      other += n;
    }
  }

  Json to_json() const {
    auto v = items;
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    Json out = Json::array();
    for (auto& [k, c] : v) out.push_back(Json::array({k, c}));
    if (other) out.push_back(Json::array({"(others)", other}));
    return out;
  }
};

struct Host {
  uint64_t conns_out = 0, conns_in = 0;
  uint64_t bytes_out = 0, bytes_in = 0;  // payload bytes sent / received
  uint64_t failed_out = 0;               // S0, REJ, RSTR...: attempts that got nowhere
  double first = 0, last = 0;
  SmallCounter services_out;             // "tcp/443 ssl" it used
  SmallCounter services_in;              // "tcp/22 ssh" it served
  SmallCounter peers_out;                // servers it talked to (bytes)
  SmallCounter peers_in;                 // clients that talked to it (bytes)
  uint64_t dns_queries = 0, dns_nx = 0;
  uint64_t http_requests = 0;
  uint64_t logins_out = 0, logins_out_failed = 0, logins_in = 0, logins_in_failed = 0;
  uint64_t arp = 0;
};

struct Pair {
  uint64_t conns = 0;
  uint64_t bytes = 0;
  std::vector<double> times;  // first connection start times
};

struct ConnRow {
  double ts = 0, duration = 0;
  uint64_t bytes = 0, orig_bytes = 0, resp_bytes = 0;
  std::string uid, orig_h, resp_h, proto, service, state;
  uint64_t orig_p = 0, resp_p = 0;
};
struct ConnRowLess {  // the heap keeps the smallest on top
  bool operator()(const ConnRow& a, const ConnRow& b) const {
    return a.bytes != b.bytes ? a.bytes > b.bytes : a.uid > b.uid;
  }
};

struct Bucket {
  uint64_t conns = 0, bytes = 0, records = 0;
};

struct AuthGroup {
  uint64_t count = 0, failures = 0, successes = 0;
  double first = 0, last = 0;
  std::vector<std::string> users;  // first few distinct
};

bool conn_failed(std::string_view state) {
  return state == "S0" || state == "REJ" || state == "RSTOS0" || state == "RSTR" || state == "SH" ||
         state == "SHR" || state == "OTH";
}

// Why a DNS name looks odd, or empty: long names and labels, characters a
// host name does not have, many digits. Cheap heuristics to point the eye;
// the detectors (dga, dns_tunnel) do the real judging.
std::string dns_oddity(std::string_view name) {
  if (name.size() > 60) return "long name";
  size_t label = 0, digits = 0, max_label = 0;
  bool odd_char = false;
  for (char c : name) {
    if (c == '.') {
      label = 0;
      continue;
    }
    max_label = std::max(max_label, ++label);
    if (c >= '0' && c <= '9') ++digits;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    odd_char = odd_char || !ok;
  }
  if (odd_char) return "unusual characters";
  if (max_label > 30) return "long label";
  if (name.size() >= 12 && digits * 3 > name.size()) return "many digits";
  return {};
}

// A finding's string member, or "" when absent or not a string (a stored
// finding may be anything; json::value() would throw on a wrong type).
std::string text_of(const Json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string utc(double t) {
  if (t <= 0) return {};
  auto secs = static_cast<time_t>(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace

// ---- The builder ------------------------------------------------------------

struct ReportBuilder::State {
  ReportLimits lim;
  uint64_t bad = 0;
  std::map<std::string, uint64_t, std::less<>> per_log;  // records per log (few logs), but conn
  uint64_t conn_lines = 0;

  double first = 0, last = 0;
  uint64_t conns = 0, bytes = 0, pkts = 0;
  SvMap<Host> hosts;
  uint64_t hosts_untracked = 0;  // host mentions past the cap
  SvMap<Pair> pairs;
  uint64_t pairs_untracked = 0;
  size_t times_total = 0;
  bool pairs_closed = false;
  std::priority_queue<ConnRow, std::vector<ConnRow>, ConnRowLess> big;
  struct Service {
    uint64_t conns = 0, bytes = 0;
  };
  SvMap<Service> services;      // "tcp/443 ssl"
  uint64_t services_other = 0;
  std::string scratch_[8];      // decoded fields of the current record, and keys
  CappedCounter states;

  // Timeline: buckets of `width` seconds from `base`; the width doubles when
  // there are too many, so any span fits in a few thousand.
  double base = -1;
  int64_t width = 1;
  std::map<int64_t, Bucket> buckets;

  // DNS
  uint64_t dns = 0;
  CappedCounter rcodes, qtypes, queries, txt, odd;
  SvMap<std::string> odd_reason;
  // HTTP / TLS / SSH
  CappedCounter http_hosts, user_agents, methods, statuses, snis, ja3, ssh_clients, ssh_servers;
  Json http_rows = Json::array();
  // Logins
  std::map<std::tuple<std::string, std::string, std::string, std::string>, AuthGroup> auth;
  uint64_t auth_total = 0, auth_untracked = 0;
  Json auth_rows = Json::array();

  std::string str(std::string_view raw) const { return decode(raw, lim.max_string); }

  // A string field of the record being read: the raw text itself when it
  // needs no decoding (the common case), else decoded into scratch_[slot].
  std::string_view field(std::string_view raw, int slot) {
    if (raw.size() <= lim.max_string && raw.find('\\') == std::string_view::npos) return raw;
    auto& out = scratch_[slot];
    out = decode(raw, lim.max_string);
    return out;
  }

  Host* host(std::string_view ip) {
    if (ip.empty()) return nullptr;
    auto it = hosts.find(ip);
    if (it != hosts.end()) return &it->second;
    if (hosts.size() >= lim.max_hosts_tracked) {
      ++hosts_untracked;
      return nullptr;
    }
    return &hosts.emplace(std::string(ip), Host{}).first->second;
  }

  void touch(Host& h, double t) {
    if (h.first == 0 || t < h.first) h.first = t;
    if (t > h.last) h.last = t;
  }

  void bucket_add(double t, uint64_t c, uint64_t b, uint64_t r) {
    if (t <= 0) return;
    if (base < 0) base = std::floor(t);
    auto idx = static_cast<int64_t>(std::floor((t - base) / static_cast<double>(width)));
    auto& bk = buckets[idx];
    bk.conns += c;
    bk.bytes += b;
    bk.records += r;
    if (buckets.size() > 4096) {  // coarsen: merge pairs of buckets
      std::map<int64_t, Bucket> merged;
      for (auto& [k, v] : buckets) {
        int64_t nk = k >= 0 ? k / 2 : (k - 1) / 2;
        auto& m = merged[nk];
        m.conns += v.conns;
        m.bytes += v.bytes;
        m.records += v.records;
      }
      buckets.swap(merged);
      width *= 2;
    }
  }

  void pair_add(std::string_view a, std::string_view b, double t, uint64_t bytes_) {
    std::string& key = scratch_[7];
    key.assign(a);
    key += '>';
    key += b;
    auto it = pairs.find(std::string_view(key));
    if (it == pairs.end()) {
      if (pairs.size() >= lim.max_pairs_tracked) prune_pairs();
      if (pairs.size() >= lim.max_pairs_tracked) {
        ++pairs_untracked;
        return;
      }
      it = pairs.emplace(key, Pair{}).first;
    }
    Pair& p = it->second;
    ++p.conns;
    p.bytes += bytes_;
    if (p.times.size() < lim.max_times_per_pair && times_total < lim.max_times_total) {
      p.times.push_back(t);
      ++times_total;
    }
  }

  // Full: drop the pairs that can be neither a beacon nor a top talker yet
  // (two connections or fewer, little data), once; afterwards new pairs are
  // only counted.
  void prune_pairs() {
    if (pairs_closed) return;
    pairs_closed = true;
    for (auto it = pairs.begin(); it != pairs.end();) {
      if (it->second.conns <= 2 && it->second.bytes < (1u << 20)) {
        times_total -= it->second.times.size();
        pairs_untracked += it->second.conns;
        it = pairs.erase(it);
      } else {
        ++it;
      }
    }
    if (pairs.size() < lim.max_pairs_tracked * 3 / 4) pairs_closed = false;
  }

  void on_conn(std::string_view json) {
    ConnFields c;
    bool ok = scan_object(json, [&](std::string_view k, const Value& v) {
      // By length first: most keys are rejected by one compare.
      switch (k.size()) {
        case 2:
          if (k == "ts") c.ts = to_double(v.raw);
          break;
        case 3:
          if (k == "uid") c.uid = field(v.raw, 0);
          break;
        case 5:
          if (k == "proto") c.proto = field(v.raw, 3);
          break;
        case 7:
          if (k == "service") c.service = field(v.raw, 4);
          break;
        case 8:
          if (k == "duration") c.duration = to_double(v.raw);
          break;
        case 9:
          if (k == "id.orig_h") c.orig_h = field(v.raw, 1);
          else if (k == "id.resp_h") c.resp_h = field(v.raw, 2);
          else if (k == "id.orig_p") c.orig_p = to_u64(v.raw);
          else if (k == "id.resp_p") c.resp_p = to_u64(v.raw);
          else if (k == "orig_pkts") c.orig_pkts = to_u64(v.raw);
          else if (k == "resp_pkts") c.resp_pkts = to_u64(v.raw);
          break;
        case 10:
          if (k == "conn_state") c.state = field(v.raw, 5);
          else if (k == "orig_bytes") c.orig_bytes = to_u64(v.raw);
          else if (k == "resp_bytes") c.resp_bytes = to_u64(v.raw);
          break;
        default:
          break;
      }
    });
    if (!ok || c.orig_h.empty()) {
      ++bad;
      return;
    }
    on_conn(c);
  }

  void on_conn(const ConnFields& c) {
    double ts = c.ts, duration = c.duration;
    uint64_t orig_p = c.orig_p, resp_p = c.resp_p, orig_bytes = c.orig_bytes, resp_bytes = c.resp_bytes;
    std::string_view uid = c.uid, orig_h = c.orig_h, resp_h = c.resp_h, proto = c.proto, service = c.service,
                     state = c.state;
    uint64_t orig_pkts = c.orig_pkts, resp_pkts = c.resp_pkts;
    uint64_t total = orig_bytes + resp_bytes;
    ++conns;
    bytes += total;
    pkts += orig_pkts + resp_pkts;
    double end = ts + duration;
    if (ts > 0 && (first == 0 || ts < first)) first = ts;
    if (end > last) last = end;
    bucket_add(ts, 1, total, 0);

    std::string& svc = scratch_[6];
    svc.assign(proto);
    svc += '/';
    char num[8];
    auto nr = std::to_chars(num, num + sizeof num, resp_p);
    svc.append(num, nr.ptr);
    if (!service.empty()) {
      svc += ' ';
      svc += service;
    }
    if (Host* h = host(orig_h)) {
      ++h->conns_out;
      h->bytes_out += orig_bytes;
      h->bytes_in += resp_bytes;
      if (conn_failed(state)) ++h->failed_out;
      touch(*h, ts);
      h->services_out.add(svc, 1);
      h->peers_out.add(resp_h, total);
    }
    if (Host* h = host(resp_h)) {
      ++h->conns_in;
      h->bytes_in += orig_bytes;
      h->bytes_out += resp_bytes;
      touch(*h, ts);
      h->services_in.add(svc, 1);
      h->peers_in.add(orig_h, total);
    }
    auto si = services.find(std::string_view(svc));
    if (si == services.end() && services.size() < lim.max_keys) si = services.emplace(svc, Service{}).first;
    if (si != services.end()) {
      ++si->second.conns;
      si->second.bytes += total;
    } else {
      ++services_other;
    }
    states.add(state, 64);
    pair_add(orig_h, resp_h, ts, total);

    // The largest connections: strings are copied only for a row that enters.
    if (big.size() >= lim.max_conns_shown &&
        (total < big.top().bytes || (total == big.top().bytes && uid <= big.top().uid)))
      return;
    ConnRow r;
    r.ts = ts;
    r.duration = duration;
    r.bytes = total;
    r.orig_bytes = orig_bytes;
    r.resp_bytes = resp_bytes;
    r.uid = uid;
    r.orig_h = orig_h;
    r.resp_h = resp_h;
    r.orig_p = orig_p;
    r.resp_p = resp_p;
    r.proto = proto;
    r.service = service;
    r.state = state;
    if (big.size() >= lim.max_conns_shown) big.pop();
    big.push(std::move(r));
  }

  void on_dns(std::string_view json) {
    double ts = 0;
    std::string_view client, query, rcode, qtype;
    bool ok = scan_object(json, [&](std::string_view k, const Value& v) {
      if (k == "ts") ts = to_double(v.raw);
      else if (k == "id.orig_h") client = field(v.raw, 0);
      else if (k == "query") query = field(v.raw, 1);
      else if (k == "rcode_name") rcode = field(v.raw, 2);
      else if (k == "qtype_name") qtype = field(v.raw, 3);
    });
    if (!ok) {
      ++bad;
      return;
    }
    ++dns;
    bucket_add(ts, 0, 0, 1);
    bool nx = rcode == "NXDOMAIN";
    if (Host* h = host(client)) {
      ++h->dns_queries;
      if (nx) ++h->dns_nx;
      touch(*h, ts);
    }
    if (!rcode.empty()) rcodes.add(rcode, 64);
    if (!qtype.empty()) qtypes.add(qtype, 64);
    if (query.empty()) return;
    if (qtype == "TXT") txt.add(query, lim.max_keys);
    std::string why = dns_oddity(query);
    if (!why.empty() && odd.add(query, lim.max_keys)) odd_reason.emplace(std::string(query), why);
    queries.add(query, lim.max_keys);
  }

  void on_http(std::string_view json) {
    double ts = 0;
    std::string_view client, server, method, host_, uri, ua, status, uid;
    bool ok = scan_object(json, [&](std::string_view k, const Value& v) {
      if (k == "ts") ts = to_double(v.raw);
      else if (k == "uid") uid = field(v.raw, 0);
      else if (k == "id.orig_h") client = field(v.raw, 1);
      else if (k == "id.resp_h") server = field(v.raw, 2);
      else if (k == "method") method = field(v.raw, 3);
      else if (k == "host") host_ = field(v.raw, 4);
      else if (k == "uri") uri = field(v.raw, 5);
      else if (k == "user_agent") ua = field(v.raw, 6);
      else if (k == "status_code") status = v.raw.substr(0, 8);
    });
    if (!ok) {
      ++bad;
      return;
    }
    bucket_add(ts, 0, 0, 1);
    if (Host* h = host(client)) ++h->http_requests;
    if (http_rows.size() < lim.max_rows) {
      http_rows.push_back({{"ts", ts}, {"uid", uid}, {"client", client}, {"server", server}, {"method", method},
                           {"host", host_}, {"uri", uri}, {"ua", ua}, {"status", status}});
    }
    if (!host_.empty()) http_hosts.add(host_, lim.max_keys);
    if (!ua.empty()) user_agents.add(ua, lim.max_keys);
    if (!method.empty()) methods.add(method, 64);
    if (!status.empty()) statuses.add(status, 256);
  }

  void on_auth(std::string_view json) {
    double ts = 0;
    std::string client, server, proto, method, user, outcome, port;
    bool ok = scan_object(json, [&](std::string_view k, const Value& v) {
      if (k == "ts") ts = to_double(v.raw);
      else if (k == "id.orig_h") client = str(v.raw);
      else if (k == "id.resp_h") server = str(v.raw);
      else if (k == "id.resp_p") port = std::string(v.raw);
      else if (k == "proto") proto = str(v.raw);
      else if (k == "method") method = str(v.raw);
      else if (k == "user") user = str(v.raw);
      else if (k == "outcome") outcome = str(v.raw);
    });
    if (!ok) {
      ++bad;
      return;
    }
    ++auth_total;
    bucket_add(ts, 0, 0, 1);
    bool failed = outcome == "failure";
    if (Host* h = host(client)) {
      ++h->logins_out;
      if (failed) ++h->logins_out_failed;
    }
    if (Host* h = host(server)) {
      ++h->logins_in;
      if (failed) ++h->logins_in_failed;
    }
    if (auth_rows.size() < lim.max_rows) {
      auth_rows.push_back({{"ts", ts}, {"client", client}, {"server", server}, {"port", to_u64(port)},
                           {"proto", proto}, {"method", method}, {"user", user}, {"outcome", outcome}});
    }
    auto key = std::make_tuple(client, server, proto, outcome);
    auto it = auth.find(key);
    if (it == auth.end()) {
      if (auth.size() >= lim.max_keys) {
        ++auth_untracked;
        return;
      }
      it = auth.emplace(std::move(key), AuthGroup{}).first;
      it->second.first = ts;
    }
    AuthGroup& g = it->second;
    ++g.count;
    g.last = std::max(g.last, ts);
    if (!user.empty() && g.users.size() < 5 && std::find(g.users.begin(), g.users.end(), user) == g.users.end())
      g.users.push_back(user);
  }

  void on_ssl(std::string_view json) {
    double ts = 0;
    std::string_view sni, j3;
    bool ok = scan_object(json, [&](std::string_view k, const Value& v) {
      if (k == "ts") ts = to_double(v.raw);
      else if (k == "server_name") sni = field(v.raw, 0);
      else if (k == "ja3") j3 = field(v.raw, 1);
    });
    if (!ok) {
      ++bad;
      return;
    }
    bucket_add(ts, 0, 0, 1);
    if (!sni.empty()) snis.add(sni, lim.max_keys);
    if (!j3.empty()) ja3.add(j3, lim.max_keys);
  }

  void on_ssh(std::string_view json) {
    double ts = 0;
    std::string_view client, server;
    bool ok = scan_object(json, [&](std::string_view k, const Value& v) {
      if (k == "ts") ts = to_double(v.raw);
      else if (k == "client") client = field(v.raw, 0);
      else if (k == "server") server = field(v.raw, 1);
    });
    if (!ok) {
      ++bad;
      return;
    }
    bucket_add(ts, 0, 0, 1);
    if (!client.empty()) ssh_clients.add(client, lim.max_keys);
    if (!server.empty()) ssh_servers.add(server, lim.max_keys);
  }

  void on_arp(std::string_view json) {
    std::string sender;
    bool ok = scan_object(json, [&](std::string_view k, const Value& v) {
      if (k == "sender_ip") sender = str(v.raw);
    });
    if (!ok) {
      ++bad;
      return;
    }
    if (Host* h = host(sender)) ++h->arp;
  }

  // Any record: its time on the timeline (conn counts its own).
  void on_other(std::string_view json) {
    double ts = 0;
    if (!scan_object(json, [&](std::string_view k, const Value& v) {
          if (k == "ts") ts = to_double(v.raw);
        })) {
      ++bad;
      return;
    }
    bucket_add(ts, 0, 0, 1);
  }
};

ReportBuilder::ReportBuilder(const ReportLimits& limits) : s_(std::make_unique<State>()) { s_->lim = limits; }
ReportBuilder::~ReportBuilder() = default;

uint64_t ReportBuilder::bad_lines() const { return s_->bad; }

void ReportBuilder::add_conn(const ConnFields& c) {
  ++s_->conn_lines;
  if (c.orig_h.empty()) {
    ++s_->bad;
    return;
  }
  s_->on_conn(c);
}

void ReportBuilder::add(std::string_view log, std::string_view json) {
  State& s = *s_;
  if (log == "conn") {  // the bulk: no map probe
    ++s.conn_lines;
    s.on_conn(json);
    return;
  }
  auto it = s.per_log.find(log);
  if (it == s.per_log.end()) {
    if (s.per_log.size() >= 64) return;  // logs are a fixed few; a hostile name list is not
    it = s.per_log.emplace(std::string(log), 0).first;
  }
  ++it->second;
  if (log == "dns") {
    s.on_dns(json);
  } else if (log == "http") {
    s.on_http(json);
  } else if (log == "auth") {
    s.on_auth(json);
  } else if (log == "arp") {
    s.on_arp(json);
  } else if (log == "ssl") {
    s.on_ssl(json);
  } else if (log == "ssh") {
    s.on_ssh(json);
  } else {
    s.on_other(json);  // its place on the timeline
  }
}

std::string ReportBuilder::data_json(const std::vector<std::string>& finding_lines, const RunMeta& meta) const {
  const State& s = *s_;
  const ReportLimits& lim = s.lim;
  Json d = Json::object();

  // Findings first: they decide which hosts and pairs are shown.
  Json findings = Json::array();
  uint64_t findings_bad = 0;
  std::map<std::string, uint64_t> by_severity;
  std::vector<std::string> named, targets;  // hosts findings name: actors, then targets
  for (const auto& line : finding_lines) {
    Json f = Json::parse(line, nullptr, false);
    if (!f.is_object()) {
      ++findings_bad;
      continue;
    }
    std::string sev = text_of(f, "severity");
    ++by_severity[sev];
    if (f.contains("src") && f["src"].is_string()) named.push_back(f["src"].get<std::string>());
    if (f.contains("dst") && f["dst"].is_array())
      for (const auto& x : f["dst"])
        if (x.is_string()) targets.push_back(x.get<std::string>());
    if (findings.size() < lim.max_findings_shown) findings.push_back(std::move(f));
  }
  named.insert(named.end(), targets.begin(), targets.end());
  d["findings"] = std::move(findings);
  d["findings_total"] = finding_lines.size();
  d["findings_unreadable"] = findings_bad;
  d["findings_by_severity"] = by_severity;

  d["meta"] = {{"version", meta.version},  {"command_line", meta.command_line}, {"started", meta.started},
               {"inputs", meta.inputs},    {"source", meta.source}};

  Json ov = Json::object();
  ov["first"] = s.first;
  ov["last"] = s.last;
  ov["first_utc"] = utc(s.first);
  ov["last_utc"] = utc(s.last);
  ov["connections"] = s.conns;
  ov["bytes"] = s.bytes;
  ov["packets"] = s.pkts;
  ov["hosts"] = s.hosts.size();
  ov["hosts_capped"] = s.hosts_untracked > 0;
  {
    std::map<std::string, uint64_t> records(s.per_log.begin(), s.per_log.end());
    if (s.conn_lines) records["conn"] = s.conn_lines;
    ov["records"] = records;
  }
  ov["unreadable_lines"] = s.bad;
  d["overview"] = std::move(ov);

  // Timeline: at most ~400 columns for the chart.
  Json tl = Json::object();
  {
    int64_t width = s.width;
    std::map<int64_t, Bucket> b = s.buckets;
    while (!b.empty() && b.rbegin()->first - b.begin()->first >= 400) {
      std::map<int64_t, Bucket> m;
      for (auto& [k, v] : b) {
        auto& x = m[k >= 0 ? k / 2 : (k - 1) / 2];
        x.conns += v.conns;
        x.bytes += v.bytes;
        x.records += v.records;
      }
      b.swap(m);
      width *= 2;
    }
    Json rows = Json::array();
    for (auto& [k, v] : b)
      rows.push_back(Json::array({s.base + static_cast<double>(k * width), v.conns, v.bytes, v.records}));
    tl["width_s"] = width;
    tl["buckets"] = std::move(rows);  // [start, conns, bytes, other records]
  }
  d["timeline"] = std::move(tl);

  // Hosts: top by bytes, then every host a finding names.
  {
    std::vector<const std::pair<const std::string, Host>*> v;
    v.reserve(s.hosts.size());
    for (const auto& kv : s.hosts) v.push_back(&kv);
    auto by_bytes = [](const auto* a, const auto* b) {
      uint64_t x = a->second.bytes_out + a->second.bytes_in, y = b->second.bytes_out + b->second.bytes_in;
      if (x != y) return x > y;
      uint64_t cx = a->second.conns_out + a->second.conns_in, cy = b->second.conns_out + b->second.conns_in;
      return cx != cy ? cx > cy : a->first < b->first;
    };
    size_t top = std::min(lim.max_hosts_shown, v.size());
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(top), v.end(), by_bytes);
    std::vector<const std::pair<const std::string, Host>*> shown(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(top));
    std::unordered_map<std::string, bool> in;
    for (auto* p : shown) in[p->first] = true;
    for (const auto& n : named) {
      if (shown.size() >= 2 * lim.max_hosts_shown) break;
      if (in.count(n)) continue;
      auto it = s.hosts.find(n);
      if (it == s.hosts.end()) continue;
      in[n] = true;
      shown.push_back(&*it);
    }
    Json hosts = Json::array();
    for (auto* p : shown) {
      const Host& h = p->second;
      hosts.push_back({{"ip", p->first},
                       {"conns_out", h.conns_out},
                       {"conns_in", h.conns_in},
                       {"bytes_out", h.bytes_out},
                       {"bytes_in", h.bytes_in},
                       {"failed_out", h.failed_out},
                       {"first", h.first},
                       {"last", h.last},
                       {"services_out", h.services_out.to_json()},
                       {"services_in", h.services_in.to_json()},
                       {"peers_out", h.peers_out.to_json()},
                       {"peers_in", h.peers_in.to_json()},
                       {"dns_queries", h.dns_queries},
                       {"dns_nx", h.dns_nx},
                       {"http_requests", h.http_requests},
                       {"logins_out", h.logins_out},
                       {"logins_out_failed", h.logins_out_failed},
                       {"logins_in", h.logins_in},
                       {"logins_in_failed", h.logins_in_failed},
                       {"arp", h.arp}});
    }
    d["hosts"] = std::move(hosts);
    d["hosts_total"] = s.hosts.size();
    d["hosts_untracked"] = s.hosts_untracked;
  }

  // Top talkers (pairs by bytes) and services.
  {
    std::vector<const std::pair<const std::string, Pair>*> v;
    for (const auto& kv : s.pairs) v.push_back(&kv);
    size_t top = std::min<size_t>(100, v.size());
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(top), v.end(), [](auto* a, auto* b) {
      return a->second.bytes != b->second.bytes ? a->second.bytes > b->second.bytes : a->first < b->first;
    });
    Json talkers = Json::array();
    for (size_t i = 0; i < top; ++i) {
      const std::string& k = v[i]->first;
      size_t gt = k.find('>');
      talkers.push_back(Json::array({k.substr(0, gt), k.substr(gt + 1), v[i]->second.conns, v[i]->second.bytes}));
    }
    d["talkers"] = std::move(talkers);  // [client, server, connections, bytes]
    d["pairs_untracked"] = s.pairs_untracked;
    std::vector<const std::pair<const std::string, State::Service>*> sv;
    for (const auto& kv : s.services) sv.push_back(&kv);
    size_t stop = std::min<size_t>(200, sv.size());
    std::partial_sort(sv.begin(), sv.begin() + static_cast<std::ptrdiff_t>(stop), sv.end(), [](auto* a, auto* b) {
      return a->second.conns != b->second.conns ? a->second.conns > b->second.conns : a->first < b->first;
    });
    Json svc = Json::array();
    for (size_t i = 0; i < stop; ++i) svc.push_back(Json::array({sv[i]->first, sv[i]->second.conns, sv[i]->second.bytes}));
    d["services"] = std::move(svc);  // [proto/port service, connections, bytes]
    d["conn_states"] = s.states.top(32);
  }

  // Largest connections.
  {
    auto heap = s.big;
    std::vector<ConnRow> rows;
    while (!heap.empty()) {
      rows.push_back(heap.top());
      heap.pop();
    }
    std::reverse(rows.begin(), rows.end());
    Json conns = Json::array();
    for (const auto& r : rows)
      conns.push_back(Json::array({r.ts, r.uid, r.orig_h, r.orig_p, r.resp_h, r.resp_p, r.proto, r.service, r.state,
                                   r.duration, r.orig_bytes, r.resp_bytes}));
    d["conns"] = std::move(conns);
    d["conns_more"] = s.conns - rows.size();
  }

  // Beacons: for each beacon finding, the connection start times of its
  // pair(s), so the page can plot the intervals.
  {
    Json beacons = Json::array();
    const Json& fs = d["findings"];
    for (size_t i = 0; i < fs.size(); ++i) {
      const Json& f = fs[i];
      std::string id = text_of(f, "id");
      if (id.rfind("beacon", 0) != 0 || id == "beacon.capped") continue;
      std::string src = text_of(f, "src");
      std::vector<std::string> dsts;
      const Json* det = f.contains("details") && f["details"].is_object() ? &f["details"] : nullptr;
      if (det && det->contains("dst_ips") && (*det)["dst_ips"].is_array()) {
        for (const auto& x : (*det)["dst_ips"])
          if (x.is_string()) dsts.push_back(x.get<std::string>());
      }
      if (dsts.empty() && f.contains("dst") && f["dst"].is_array())
        for (const auto& x : f["dst"])
          if (x.is_string()) dsts.push_back(x.get<std::string>());
      std::vector<double> times;
      for (const auto& dst : dsts) {
        auto it = s.pairs.find(std::string_view(src + ">" + dst));
        if (it != s.pairs.end()) times.insert(times.end(), it->second.times.begin(), it->second.times.end());
      }
      std::sort(times.begin(), times.end());
      if (times.size() > lim.max_times_per_pair) times.resize(lim.max_times_per_pair);
      Json b = {{"finding", i}, {"src", src}, {"dst", dsts}, {"times", times}};
      if (det) {
        for (const char* k : {"period_s", "jitter_s", "score", "hist_bars", "count"})
          if (det->contains(k)) b[k] = (*det)[k];
      }
      beacons.push_back(std::move(b));
    }
    d["beacons"] = std::move(beacons);
  }

  // DNS.
  {
    Json dns = Json::object();
    dns["queries"] = s.dns;
    dns["rcodes"] = s.rcodes.top(32);
    dns["qtypes"] = s.qtypes.top(32);
    dns["top_names"] = s.queries.top(50);
    dns["txt"] = s.txt.top(lim.max_rows);
    Json odd = Json::array();
    for (const auto& kv : s.odd.top(lim.max_rows)) {
      auto r = s.odd_reason.find(kv[0].get_ref<const std::string&>());
      odd.push_back(Json::array({kv[0], kv[1], r == s.odd_reason.end() ? "" : r->second}));
    }
    dns["odd"] = std::move(odd);
    dns["names_uncounted"] = s.queries.other;
    // Clients by NXDOMAIN answers.
    std::vector<std::pair<std::string, const Host*>> nx;
    for (const auto& [ip, h] : s.hosts)
      if (h.dns_nx) nx.emplace_back(ip, &h);
    std::sort(nx.begin(), nx.end(), [](const auto& a, const auto& b) {
      return a.second->dns_nx != b.second->dns_nx ? a.second->dns_nx > b.second->dns_nx : a.first < b.first;
    });
    if (nx.size() > 100) nx.resize(100);
    Json nxj = Json::array();
    for (const auto& [ip, h] : nx) nxj.push_back(Json::array({ip, h->dns_queries, h->dns_nx}));
    dns["nx_clients"] = std::move(nxj);  // [client, queries, NXDOMAIN]
    d["dns"] = std::move(dns);
  }

  // Logins.
  {
    Json groups = Json::array();
    std::vector<const std::pair<const std::tuple<std::string, std::string, std::string, std::string>, AuthGroup>*> v;
    for (const auto& kv : s.auth) v.push_back(&kv);
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) {
      return a->second.count != b->second.count ? a->second.count > b->second.count : a->first < b->first;
    });
    if (v.size() > 1000) v.resize(1000);
    for (auto* p : v) {
      const auto& [c, sv, proto, outcome] = p->first;
      groups.push_back({{"client", c},          {"server", sv},          {"proto", proto},
                        {"outcome", outcome},   {"count", p->second.count}, {"first", p->second.first},
                        {"last", p->second.last}, {"users", p->second.users}});
    }
    d["auth"] = {{"total", s.auth_total}, {"groups", std::move(groups)}, {"rows", s.auth_rows},
                 {"untracked", s.auth_untracked}};
  }

  d["http"] = {{"hosts", s.http_hosts.top(50)}, {"user_agents", s.user_agents.top(50)},
               {"methods", s.methods.top(20)},  {"statuses", s.statuses.top(30)},
               {"rows", s.http_rows}};
  d["tls"] = {{"snis", s.snis.top(50)}, {"ja3", s.ja3.top(30)}};
  d["ssh"] = {{"clients", s.ssh_clients.top(30)}, {"servers", s.ssh_servers.top(30)}};
  d["limits"] = {{"hosts_shown", lim.max_hosts_shown}, {"conns_shown", lim.max_conns_shown},
                 {"rows", lim.max_rows}, {"findings_shown", lim.max_findings_shown}};

  // Invalid UTF-8 (from findings' own text) becomes U+FFFD rather than an error.
  return d.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string escape_for_script(std::string_view json) {
  std::string out;
  out.reserve(json.size() + json.size() / 16);
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
               (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace trawl::report

// Destination aggregation, verdicts and output records for `trawl check`.
#include "app/destinations.h"

#include <algorithm>
#include <cctype>

#include "analyzers/dns/dns_log_record.h"
#include "analyzers/http/http_record.h"
#include "analyzers/ssl/ssl_record.h"
#include "detect/text.h"
#include "output/json_line.h"

namespace trawl::app {

namespace {

constexpr size_t kMaxUrlLength = 2048;
constexpr size_t kMaxNameLength = 253;

// Multicast, broadcast, reserved, loopback and unspecified addresses are not
// destinations anyone "talks to" (loopback answers are DNSBL verdicts and
// sinkholes, whatever --home-net says).
bool is_unicast(const core::IpAddress& a) {
  const uint8_t* b = a.wire_data();
  if (a.is_v4()) return b[0] != 0 && b[0] != 127 && b[0] < 224;
  if (b[0] == 0xff) return false;
  // :: and ::1
  return !std::all_of(b, b + 15, [](uint8_t x) { return x == 0; }) || b[15] > 1;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A DNS name worth reporting as a destination: lower-case, trailing dot gone;
// empty for reverse lookups, local-only names and single labels (WPAD,
// NetBIOS-style names never leave the network).
std::string destination_name(std::string_view raw) {
  std::string n = lower_ascii(raw);
  while (!n.empty() && n.back() == '.') n.pop_back();
  if (n.empty() || n.size() > kMaxNameLength || n.find('.') == std::string::npos) return {};
  for (char c : n) {
    const auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '-' || c == '.' || c == '_')) return {};
  }
  for (std::string_view local : {".arpa", ".local", ".lan", ".internal", ".localdomain", ".localhost"}) {
    if (ends_with(n, local)) return {};
  }
  return n;
}

std::string_view rcode_name(uint16_t rcode) {
  switch (rcode) {
    case 0:
      return "NOERROR";
    case 1:
      return "FORMERR";
    case 2:
      return "SERVFAIL";
    case 3:
      return "NXDOMAIN";
    case 4:
      return "NOTIMP";
    case 5:
      return "REFUSED";
    default:
      return "RCODE_OTHER";
  }
}

uint64_t severity_weight(detect::Severity s) {
  switch (s) {
    case detect::Severity::kCritical:
      return 60;
    case detect::Severity::kHigh:
      return 40;
    case detect::Severity::kMedium:
      return 25;
    case detect::Severity::kLow:
      return 10;
    case detect::Severity::kInfo:
      return 0;
  }
  return 0;
}

std::string join(const std::vector<std::string>& v, std::string_view sep, size_t max = SIZE_MAX) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < max; ++i) {
    if (i) out += sep;
    out += v[i];
  }
  if (v.size() > max) out += std::string(sep) + "+" + std::to_string(v.size() - max) + " more";
  return out;
}

template <typename T>
std::vector<std::string> texts(const CappedSet<T>& s) {
  std::vector<std::string> out;
  out.reserve(s.values.size());
  for (const auto& v : s.values) {
    if constexpr (std::is_same_v<T, core::IpAddress>) {
      out.push_back(v.to_string());
    } else if constexpr (std::is_same_v<T, std::string>) {
      out.push_back(v);
    } else {
      out.push_back(std::to_string(v));
    }
  }
  return out;
}

std::string ports_json(const CappedSet<uint16_t>& p) {
  std::string out = "[";
  for (uint16_t v : p.values) {
    if (out.size() > 1) out.push_back(',');
    out += std::to_string(v);
  }
  out.push_back(']');
  return out;
}

std::string time_json(core::Timestamp t) { return core::format_epoch_micros(t); }

// "2026-01-02T03:04:05Z" for CSV readers.
std::string iso_time(core::Timestamp t) {
  std::string s = detect::text::utc_time(t);  // "2026-01-02 03:04:05 UTC"
  if (s.size() == 23 && ends_with(s, " UTC")) {
    s[10] = 'T';
    s.resize(19);
    s.push_back('Z');
  }
  return s;
}

std::string geo_json(const intel::GeoInfo& g) {
  std::string out;
  output::JsonLine j(out);
  j.str("country_code", g.country_code).str("country", g.country).str("city", g.city).u64("asn", g.asn);
  j.str("as_org", g.as_org);
  j.end_object();
  return out;
}

std::string intel_json(const std::vector<IntelHit>& hits) {
  std::string out = "[";
  for (const auto& h : hits) {
    if (out.size() > 1) out.push_back(',');
    output::JsonLine j(out);
    j.str("matched", h.matched).str("type", h.type).str("indicator", h.indicator);
    j.str("feed", h.source.feed).str("format", h.source.format).str("name", h.source.name);
    j.raw("tags", detect::text::json_strings(h.source.tags));
    j.str("first_seen", h.source.first_seen).str("last_seen", h.source.last_seen);
    j.str("reference", h.source.reference);
    j.end_object();
  }
  out.push_back(']');
  return out;
}

std::string otx_json(const Destination& d) {
  std::string out;
  output::JsonLine j(out);
  j.str("status", d.otx_status);
  std::string q = "[";
  for (const auto& v : d.otx) {
    if (q.size() > 1) q.push_back(',');
    output::JsonLine k(q);
    k.str("indicator", v.query.value).str("kind", intel::otx_kind_path(v.query.kind));
    k.str("status", intel::otx_status_name(v.status)).boolean("from_cache", v.from_cache);
    k.u64("pulse_count", v.pulse_count);
    std::string pulses = "[";
    for (const auto& p : v.pulses) {
      if (pulses.size() > 1) pulses.push_back(',');
      output::JsonLine pj(pulses);
      pj.str("id", p.id).str("name", p.name).raw("tags", detect::text::json_strings(p.tags));
      pj.str("created", p.created).str("modified", p.modified).str("adversary", p.adversary);
      pj.raw("malware_families", detect::text::json_strings(p.malware_families));
      pj.end_object();
    }
    pulses.push_back(']');
    k.raw("pulses", pulses);
    if (!v.error.empty()) k.str("error", v.error);
    k.end_object();
  }
  q.push_back(']');
  j.raw("queries", q);
  j.end_object();
  return out;
}

std::string findings_json(const std::vector<FindingRef>& fs) {
  std::string out = "[";
  for (const auto& f : fs) {
    if (out.size() > 1) out.push_back(',');
    output::JsonLine j(out);
    j.str("id", f.id).str("severity", f.severity).raw("ts", time_json(f.ts)).str("summary", f.summary);
    j.end_object();
  }
  out.push_back(']');
  return out;
}

std::string processes_json(const std::vector<ProcessRef>& ps) {
  std::string out = "[";
  for (const auto& p : ps) {
    if (out.size() > 1) out.push_back(',');
    output::JsonLine j(out);
    j.i64("pid", p.process.pid).str("exe", p.process.exe).str("cmdline", p.process.cmdline);
    j.u64("uid", p.process.uid).str("user", p.process.user).u64("conns", p.conns);
    j.end_object();
  }
  out.push_back(']');
  return out;
}

std::string process_text(const Destination& d) {
  std::vector<std::string> v;
  for (const auto& p : d.processes) {
    v.push_back(std::to_string(p.process.pid) + " " + (p.process.exe.empty() ? "?" : p.process.exe) + " (" +
                p.process.user + ")");
  }
  if (d.unattributed) v.push_back("unattributed: " + std::to_string(d.unattributed));
  return join(v, "; ");
}

std::string direction(const Destination& d) {
  if (d.is_name) return "none";
  if (d.conns_out && d.conns_in) return "both";
  if (d.conns_in) return "inbound";
  if (d.conns_out) return "outbound";
  return "none";
}

void csv_u64(std::string& out, uint64_t v) {
  out += std::to_string(v);
  out.push_back(',');
}

void csv_text(std::string& out, std::string_view v) {
  append_csv_field(out, v);
  out.push_back(',');
}

void csv_end(std::string& out) {
  if (!out.empty() && out.back() == ',') out.pop_back();
  out += "\r\n";
}

}  // namespace

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kMalicious:
      return "malicious";
    case Verdict::kSuspicious:
      return "suspicious";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string Destination::key() const { return is_name ? name : address.to_string(); }

std::string clean_host(std::string_view host) {
  std::string h = lower_ascii(host);
  if (!h.empty() && h.front() == '[') return {};  // IPv6 literal
  if (auto colon = h.rfind(':'); colon != std::string::npos) {
    if (h.find(':') != colon) return {};  // bare IPv6 literal
    h.resize(colon);
  }
  while (!h.empty() && h.back() == '.') h.pop_back();
  if (core::IpAddress::parse(h)) return {};
  return destination_name(h);
}

intel::OtxKind otx_kind_for_name(std::string_view name) {
  return std::count(name.begin(), name.end(), '.') <= 1 ? intel::OtxKind::kDomain : intel::OtxKind::kHostname;
}

DestinationBuilder::DestinationBuilder(const detect::Networks& internal, DestinationLimits limits)
    : internal_(internal), limits_(limits) {}

bool DestinationBuilder::is_external(const core::IpAddress& a) const { return !internal_.is_internal(a); }

Destination* DestinationBuilder::peer(const core::IpAddress& a) {
  auto it = dests_.find(a);
  if (it != dests_.end()) return &it->second;
  if (dests_.size() >= limits_.max_destinations) {
    ++counters_.destinations_dropped;
    return nullptr;
  }
  Destination& d = dests_[a];
  d.address = a;
  return &d;
}

void DestinationBuilder::add_name(Destination& d, const std::string& name, bool is_url) {
  CappedSet<std::string>& set = is_url ? d.urls : d.domains;
  const size_t cap = is_url ? limits_.max_urls : limits_.max_domains;
  if (set.values.size() < cap || set.values.contains(name)) {
    set.add(name, cap);
  } else if (watch_ && watch_(name, is_url)) {
    set.add(name, 2 * cap);
  } else {
    set.drop(name);
  }
}

void DestinationBuilder::add_domain(const core::IpAddress& a, std::string_view name) {
  if (name.empty() || !is_external(a) || !is_unicast(a)) return;
  if (Destination* d = peer(a)) add_name(*d, std::string(name), false);
}

void DestinationBuilder::on_conn(const flow::ConnRecord& r) {
  ++counters_.conns;
  const bool orig_int = internal_.is_internal(r.orig_h);
  const bool resp_int = internal_.is_internal(r.resp_h);
  if (orig_int && resp_int) {
    ++counters_.internal_only;
    return;
  }
  // The destination is the external end; with neither end internal (a
  // capture of someone else's traffic) the responder is, seen from the
  // originator.
  const bool outbound = !resp_int;
  if (!orig_int && !resp_int) ++counters_.external_only;
  const core::IpAddress& remote = outbound ? r.resp_h : r.orig_h;
  const core::IpAddress& local = outbound ? r.orig_h : r.resp_h;
  if (!is_unicast(remote)) {
    ++counters_.not_unicast;
    return;
  }
  Destination* d = peer(remote);
  if (!d) return;
  ++d->conns;
  if (outbound) {
    ++d->conns_out;
    d->bytes_out += r.orig_ip_bytes;
    d->pkts_out += r.orig_pkts;
    d->bytes_in += r.resp_ip_bytes;
    d->pkts_in += r.resp_pkts;
  } else {
    ++d->conns_in;
    d->bytes_out += r.resp_ip_bytes;
    d->pkts_out += r.resp_pkts;
    d->bytes_in += r.orig_ip_bytes;
    d->pkts_in += r.orig_pkts;
  }
  d->first = std::min(d->first, r.ts);
  d->last = std::max(d->last, std::max(r.ts, r.last_ts));
  if (r.proto == 6 || r.proto == 17 || r.proto == 132) d->ports.add(r.resp_p, limits_.max_ports);
  for (size_t b = 0; b < r.service.size();) {
    size_t e = r.service.find(',', b);
    if (e == std::string::npos) e = r.service.size();
    if (e > b) d->services.add(r.service.substr(b, e - b), limits_.max_ports);
    b = e + 1;
  }
  d->hosts.add(local, limits_.max_hosts);
  if (!r.uid.empty()) {
    if (uid_peer_.size() < limits_.max_uids) {
      uid_peer_.emplace(r.uid, remote);
    } else {
      ++counters_.uids_dropped;
    }
  }
  if (attribution_) {
    d->live = true;
    const live::Attribution* a = attribution_->find(r.proto, r.orig_h, r.orig_p, r.resp_h, r.resp_p, r.ts);
    if (!a || a->process.pid == 0) {
      ++d->unattributed;
      return;
    }
    auto it = std::find_if(d->processes.begin(), d->processes.end(),
                           [&](const ProcessRef& p) { return p.process.pid == a->process.pid; });
    if (it != d->processes.end()) {
      ++it->conns;
    } else if (d->processes.size() < limits_.max_processes) {
      d->processes.push_back({a->process, 1});
    }
  }
}

void DestinationBuilder::on_record(const analyzers::Record& rec) {
  const std::string_view log = rec.log();
  if (log == "dns") {
    const auto& r = static_cast<const analyzers::dns::DnsLogRecord&>(rec);
    // mDNS and LLMNR name local devices, not destinations.
    if (r.resp_p == 5353 || r.resp_p == 5355 || r.orig_p == 5353) return;
    if (!r.query || (r.qtype && *r.qtype == 12)) return;
    ++counters_.dns_records;
    std::string q = destination_name(*r.query);
    if (q.empty()) {
      ++counters_.names_ignored;
      return;
    }
    auto it = names_.find(q);
    if (it == names_.end()) {
      if (names_.size() >= limits_.max_names) {
        ++counters_.names_dropped;
        return;
      }
      it = names_.emplace(q, NameInfo{}).first;
    }
    NameInfo& n = it->second;
    if (r.saw_query) ++n.lookups;
    n.first = std::min(n.first, r.ts);
    n.last = std::max(n.last, r.saw_reply ? std::max(r.ts, r.reply_ts) : r.ts);
    if (internal_.is_internal(r.orig_h)) n.clients.add(r.orig_h, limits_.max_hosts);
    if (r.saw_reply && r.rcode) n.rcode = rcode_name(*r.rcode);
    for (const auto& a : r.answers) {
      if (a.type == 5) {  // CNAME: the chain's names are the same destination
        std::string c = destination_name(a.text);
        if (!c.empty() && c != q) n.cnames.add(c, limits_.max_domains);
      } else if (a.address) {
        n.addresses.add(*a.address, limits_.max_addresses);
      }
    }
    return;
  }
  if (log == "ssl") {
    const auto& r = static_cast<const analyzers::ssl::SslRecord&>(rec);
    if (r.server_name) add_domain(r.resp_h, clean_host(*r.server_name));
    return;
  }
  if (log == "http") {
    const auto& r = static_cast<const analyzers::http::HttpRecord&>(rec);
    if (!r.host || !is_external(r.resp_h) || !is_unicast(r.resp_h)) return;
    add_domain(r.resp_h, clean_host(*r.host));
    if (r.method && *r.method == "CONNECT") return;
    const std::string& target = !r.raw_uri.empty() ? r.raw_uri : (r.uri ? *r.uri : std::string());
    if (target.empty() || r.host->empty()) return;
    std::string url = "http://" + lower_ascii(*r.host);
    if (target.front() != '/') {
      url = target;  // absolute form (a proxy request)
    } else {
      url += target;
    }
    if (url.size() > kMaxUrlLength) url.resize(kMaxUrlLength);
    if (Destination* d = peer(r.resp_h)) add_name(*d, url, true);
  }
}

std::vector<Destination> DestinationBuilder::finish() {
  std::vector<std::string> keys;
  keys.reserve(names_.size());
  for (const auto& [k, v] : names_) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  std::vector<Destination> name_dests;
  for (const auto& k : keys) {
    const NameInfo& n = names_.at(k);
    bool connected = false;
    bool all_internal = !n.addresses.values.empty();
    for (const auto& a : n.addresses.values) {
      if (!is_external(a) || !is_unicast(a)) continue;
      all_internal = false;
      auto it = dests_.find(a);
      if (it == dests_.end()) continue;
      connected = true;
      add_name(it->second, k, false);
      for (const auto& c : n.cnames.values) add_name(it->second, c, false);
    }
    if (connected) continue;
    if (all_internal) {  // an internal host's name, or a DNSBL/sinkhole answer
      ++counters_.names_ignored;
      continue;
    }
    Destination d;
    d.is_name = true;
    d.name = k;
    d.resolved = n.addresses;
    d.domains = n.cnames;
    d.rcode = n.rcode.empty() ? "no answer" : n.rcode;
    d.lookups = n.lookups;
    d.first = n.first;
    d.last = n.last;
    d.hosts = n.clients;
    name_dests.push_back(std::move(d));
  }
  std::vector<Destination> out;
  out.reserve(dests_.size() + name_dests.size());
  for (auto& [a, d] : dests_) out.push_back(std::move(d));
  for (auto& d : name_dests) out.push_back(std::move(d));
  dests_.clear();
  names_.clear();
  return out;
}

void DestinationBuilder::attach_findings(const std::vector<detect::Finding>& findings,
                                         std::vector<Destination>& dests) const {
  std::unordered_map<std::string, size_t> by_key;
  for (size_t i = 0; i < dests.size(); ++i) {
    by_key.emplace(dests[i].key(), i);
    for (const auto& dom : dests[i].domains.values) by_key.emplace(dom, i);
  }
  for (const auto& f : findings) {
    std::map<size_t, bool> hit;  // destination -> named directly
    auto look = [&](const std::string& k, bool direct) {
      auto it = by_key.find(k);
      if (it == by_key.end()) return;
      auto [h, fresh] = hit.emplace(it->second, direct);
      if (!fresh) h->second = h->second || direct;
    };
    look(f.src, true);
    for (const auto& d : f.dst) look(d, true);
    for (const auto& uid : f.evidence) {
      auto it = uid_peer_.find(uid);
      if (it != uid_peer_.end()) look(it->second.to_string(), false);
    }
    for (const auto& [i, direct] : hit) {
      Destination& d = dests[i];
      if (d.findings.size() >= limits_.max_reasons) {
        ++d.reasons_dropped;
        continue;
      }
      d.findings.push_back({f.id, std::string(detect::severity_name(f.severity)), f.summary, f.ts, f.severity, direct});
    }
  }
}

void add_intel_matches(Destination& d, std::string_view matched, const std::vector<intel::Match>& matches) {
  for (const auto& m : matches) {
    if (!m.source) continue;
    IntelHit h{std::string(matched), std::string(intel::type_name(m.type)), m.indicator, *m.source};
    const bool dup = std::any_of(d.intel.begin(), d.intel.end(), [&](const IntelHit& x) {
      return x.matched == h.matched && x.indicator == h.indicator && x.source.feed == h.source.feed &&
             x.source.name == h.source.name;
    });
    if (!dup && d.intel.size() < 64) d.intel.push_back(std::move(h));
  }
}

void add_otx_verdict(Destination& d, const intel::OtxVerdict& v) {
  if (d.otx.size() < 64) d.otx.push_back(v);
}

void judge(Destination& d) {
  struct Reason {
    uint64_t weight;
    std::string text;
  };
  std::vector<Reason> reasons;
  uint64_t score = 0;
  bool listed = false;
  for (const auto& h : d.intel) {
    // A CIDR entry also covers neighbours of the real culprit (hosting
    // ranges, DROP lists): strong, but not proof on its own.
    const uint64_t w = h.type == "cidr" ? 60 : 100;
    if (w >= 100) listed = true;
    score += w;
    std::string t = "intel: " + h.source.feed + " lists " + h.type + " " + h.indicator;
    if (h.matched != h.indicator) t += " (matched " + h.matched + ")";
    if (!h.source.name.empty()) t += ", " + h.source.name;
    if (!h.source.tags.empty()) t += ", tags " + join(h.source.tags, " ", 8);
    if (!h.source.first_seen.empty()) t += ", first seen " + h.source.first_seen;
    if (!h.source.last_seen.empty()) t += ", last seen " + h.source.last_seen;
    reasons.push_back({w, std::move(t)});
  }
  uint64_t otx_best = 0, otx_max_pulses = 0;
  bool otx_ok = false, otx_offline = false, otx_error = false, otx_not_found = false;
  std::string otx_err;
  for (const auto& v : d.otx) {
    switch (v.status) {
      case intel::OtxVerdict::Status::kOk:
        otx_ok = true;
        break;
      case intel::OtxVerdict::Status::kOffline:
        otx_offline = true;
        break;
      case intel::OtxVerdict::Status::kError:
        otx_error = true;
        if (otx_err.empty()) otx_err = v.error;
        break;
      case intel::OtxVerdict::Status::kNotFound:
        otx_not_found = true;
        break;
      case intel::OtxVerdict::Status::kSkipped:
        break;
    }
    if (v.status != intel::OtxVerdict::Status::kOk || v.pulse_count == 0) continue;
    otx_max_pulses = std::max(otx_max_pulses, v.pulse_count);
    // OTX pulses also list popular benign infrastructure (resolvers, CDNs),
    // so OTX alone makes a destination suspicious, never malicious.
    const uint64_t w = v.pulse_count >= 3 ? 50 : 30;
    otx_best = std::max(otx_best, w);
    std::vector<std::string> names, tags;
    for (const auto& p : v.pulses) {
      if (names.size() < 3) names.push_back(p.name);
      for (const auto& t : p.tags) {
        if (tags.size() < 8 && std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
      }
    }
    std::string t =
        "OTX: " + v.query.value + " in " + std::to_string(v.pulse_count) + (v.pulse_count == 1 ? " pulse" : " pulses");
    if (!names.empty()) t += ": " + join(names, "; ");
    if (!tags.empty()) t += " (tags " + join(tags, " ") + ")";
    reasons.push_back({w, std::move(t)});
  }
  score += otx_best;
  if (!d.otx.empty()) {
    if (otx_ok) {
      d.otx_status = std::to_string(otx_max_pulses) + (otx_max_pulses == 1 ? " pulse" : " pulses");
    } else if (otx_error) {
      d.otx_status = "error: " + otx_err;
    } else if (otx_offline) {
      d.otx_status = "offline (not cached)";
    } else if (otx_not_found) {
      d.otx_status = "not found";
    } else {
      d.otx_status = "not sent (reserved address or name)";
    }
  }
  // Each detector id counts once, at its highest severity (ten hosts
  // beaconing to one CDN are one kind of evidence, not ten); intel.match
  // restates a feed hit already counted above; findings that reach this
  // destination only through their evidence connections are listed unscored.
  std::map<std::string, uint64_t> by_id;
  for (const auto& f : d.findings) {
    if (f.id.rfind("intel.", 0) == 0) continue;
    const uint64_t w = f.direct ? severity_weight(f.sev) : 0;
    if (f.direct) by_id[f.id] = std::max(by_id[f.id], w);
    std::string t =
        "finding " + f.id + " (" + f.severity + (f.direct ? "" : ", via its connections") + "): " + f.summary;
    reasons.push_back({w, std::move(t)});
  }
  for (const auto& [id, w] : by_id) score += w;
  std::stable_sort(reasons.begin(), reasons.end(),
                   [](const Reason& a, const Reason& b) { return a.weight > b.weight; });
  d.reasons.clear();
  for (auto& r : reasons) {
    if (d.reasons.size() >= 40) {
      ++d.reasons_dropped;
      continue;
    }
    d.reasons.push_back(std::move(r.text));
  }
  d.score = score;
  if (listed || score >= 100) {
    d.verdict = Verdict::kMalicious;
  } else if (score >= 25) {
    d.verdict = Verdict::kSuspicious;
  } else {
    d.verdict = Verdict::kUnknown;
  }
}

void sort_destinations(std::vector<Destination>& dests) {
  std::sort(dests.begin(), dests.end(), [](const Destination& a, const Destination& b) {
    if (a.verdict != b.verdict) return a.verdict > b.verdict;
    if (a.score != b.score) return a.score > b.score;
    if (a.bytes() != b.bytes()) return a.bytes() > b.bytes();
    if (a.is_name != b.is_name) return !a.is_name;
    if (a.is_name) return a.name < b.name;
    return a.address < b.address;
  });
}

void append_destination_json(const Destination& d, std::string& out) {
  output::JsonLine j(out);
  j.str("destination", d.key()).str("kind", d.is_name ? "name" : "address");
  if (!d.is_name) j.str("address", d.address.to_string());
  j.raw("domains", detect::text::json_strings(texts(d.domains))).u64("domains_total", d.domains.total());
  j.raw("urls", detect::text::json_strings(texts(d.urls))).u64("urls_total", d.urls.total());
  if (d.is_name) {
    j.raw("resolved", detect::text::json_strings(texts(d.resolved))).str("dns_rcode", d.rcode);
    j.u64("lookups", d.lookups);
  }
  j.str("direction", direction(d));
  j.u64("conns", d.conns).u64("conns_outbound", d.conns_out).u64("conns_inbound", d.conns_in);
  j.u64("bytes_out", d.bytes_out).u64("bytes_in", d.bytes_in).u64("pkts_out", d.pkts_out).u64("pkts_in", d.pkts_in);
  if (d.first.ns != INT64_MAX) j.raw("first_seen", time_json(d.first)).raw("last_seen", time_json(d.last));
  j.raw("ports", ports_json(d.ports)).raw("services", detect::text::json_strings(texts(d.services)));
  j.raw("internal_hosts", detect::text::json_strings(texts(d.hosts))).u64("internal_hosts_total", d.hosts.total());
  j.raw("geo", geo_json(d.geo));
  j.raw("intel", intel_json(d.intel));
  j.raw("otx", otx_json(d));
  j.raw("findings", findings_json(d.findings));
  if (d.live) j.raw("processes", processes_json(d.processes)).u64("unattributed", d.unattributed);
  j.str("verdict", verdict_name(d.verdict)).u64("score", d.score);
  j.raw("reasons", detect::text::json_strings(d.reasons)).u64("reasons_dropped", d.reasons_dropped);
  j.end();
}

void append_csv_field(std::string& out, std::string_view field) {
  // A cell starting with = + - @ is a formula to spreadsheet programs; a
  // hostile domain or URL must not run one, so such cells get a leading '.
  const bool formula = !field.empty() && (field[0] == '=' || field[0] == '+' || field[0] == '-' || field[0] == '@' ||
                                          field[0] == '\t' || field[0] == '\r');
  const bool quote = formula || field.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out += field;
    return;
  }
  out.push_back('"');
  if (formula) out.push_back('\'');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string destinations_csv_header() {
  return "destination,kind,domains,country_code,country,city,asn,as_org,conns,bytes_out,bytes_in,pkts_out,pkts_in,"
         "first_seen,last_seen,direction,ports,services,internal_hosts,urls,otx,processes,verdict,score,top_reason\r\n";
}

void append_destination_csv(const Destination& d, std::string& out) {
  csv_text(out, d.key());
  csv_text(out, d.is_name ? "name" : "address");
  csv_text(out, join(texts(d.domains), " "));
  csv_text(out, d.geo.country_code);
  csv_text(out, d.geo.country);
  csv_text(out, d.geo.city);
  if (d.geo.asn) {
    csv_u64(out, d.geo.asn);
  } else {
    out.push_back(',');
  }
  csv_text(out, d.geo.as_org);
  csv_u64(out, d.conns);
  csv_u64(out, d.bytes_out);
  csv_u64(out, d.bytes_in);
  csv_u64(out, d.pkts_out);
  csv_u64(out, d.pkts_in);
  csv_text(out, d.first.ns != INT64_MAX ? iso_time(d.first) : "");
  csv_text(out, d.first.ns != INT64_MAX ? iso_time(d.last) : "");
  csv_text(out, direction(d));
  csv_text(out, join(texts(d.ports), " "));
  csv_text(out, join(texts(d.services), " "));
  csv_text(out, join(texts(d.hosts), " "));
  csv_text(out, join(texts(d.urls), " "));
  csv_text(out, d.otx_status);
  csv_text(out, process_text(d));
  csv_text(out, verdict_name(d.verdict));
  csv_u64(out, d.score);
  csv_text(out, d.reasons.empty() ? std::string() : d.reasons.front());
  csv_end(out);
}

std::string locations_csv_header() { return "address,country_code,country,city,asn,org,conns,bytes\r\n"; }

void append_location_csv(const Destination& d, std::string& out) {
  if (d.is_name) return;
  csv_text(out, d.address.to_string());
  csv_text(out, d.geo.country_code);
  csv_text(out, d.geo.country);
  csv_text(out, d.geo.city);
  if (d.geo.asn) {
    csv_u64(out, d.geo.asn);
  } else {
    out.push_back(',');
  }
  csv_text(out, d.geo.as_org);
  csv_u64(out, d.conns);
  csv_u64(out, d.bytes());
  csv_end(out);
}

std::string suspicious_csv_header() {
  return "destination,kind,domains,country_code,asn,as_org,conns,bytes_out,bytes_in,internal_hosts,processes,verdict,"
         "score,reasons\r\n";
}

void append_suspicious_csv(const Destination& d, std::string& out) {
  csv_text(out, d.key());
  csv_text(out, d.is_name ? "name" : "address");
  csv_text(out, join(texts(d.domains), " "));
  csv_text(out, d.geo.country_code);
  if (d.geo.asn) {
    csv_u64(out, d.geo.asn);
  } else {
    out.push_back(',');
  }
  csv_text(out, d.geo.as_org);
  csv_u64(out, d.conns);
  csv_u64(out, d.bytes_out);
  csv_u64(out, d.bytes_in);
  csv_text(out, join(texts(d.hosts), " "));
  csv_text(out, process_text(d));
  csv_text(out, verdict_name(d.verdict));
  csv_u64(out, d.score);
  csv_text(out, join(d.reasons, " | "));
  csv_end(out);
}

}  // namespace trawl::app

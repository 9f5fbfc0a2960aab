// spread.patient_zero: after every detector has finished, groups the internal
// hosts that show the same infection behaviour (the same worm scan, sweep,
// brute force, beacon destination, DGA or odd URI ...) and names the first
// one and the order and times in which the others started. Works only on
// findings, so it sees whatever the other detectors concluded.
// docs/findings/mail_smb_http.md.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detect/detector.h"
#include "detect/evidence.h"
#include "output/json_line.h"

namespace trawl::detect {
namespace {

constexpr size_t kMaxListed = 20;  // hosts listed in dst and details

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// A top-level string field of a details object ("" if absent); enough for
// the objects detectors write with JsonLine.
std::string details_string(const std::string& json, std::string_view key) {
  const std::string pat = "\"" + std::string(key) + "\":\"";
  const size_t at = json.find(pat);
  if (at == std::string::npos) return "";
  std::string out;
  for (size_t i = at + pat.size(); i < json.size(); ++i) {
    const char c = json[i];
    if (c == '"') break;
    if (c == '\\' && i + 1 < json.size()) {
      ++i;
      out.push_back(json[i] == 'n' ? '\n' : json[i] == 't' ? '\t' : json[i]);
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string ports_key(const Finding& f) {
  std::string k;
  for (size_t i = 0; i < f.ports.size() && i < 4; ++i) k += (i ? "," : "") + std::to_string(f.ports[i]);
  return k;
}

// What "the same behaviour" means for each finding family; nullopt: the
// finding says nothing about an infection spreading.
std::optional<std::string> behaviour_key(const Finding& f) {
  const std::string& id = f.id;
  if (starts_with(id, "spread.") || id == "bruteforce.success") return std::nullopt;
  if (starts_with(id, "worm.") || starts_with(id, "sweep.")) return id + " port " + ports_key(f);
  if (starts_with(id, "scan.") || starts_with(id, "bruteforce.") || starts_with(id, "smb.") || id == "dns.dga" ||
      id == "mail.mass_mailing") {
    return id;
  }
  if (id == "beacon" || id == "dns.tunnel" || id == "dns.dynamic_dns") {
    if (f.dst.empty()) return std::nullopt;
    return id + " to " + f.dst.front();
  }
  if (id == "http.repeated_uri") {
    const std::string uri = details_string(f.details, "uri");
    if (uri.empty()) return std::nullopt;
    return id + " " + uri;
  }
  return std::nullopt;
}

bool smb_ports_only(const Finding& f) {
  if (f.ports.empty()) return false;
  for (uint16_t p : f.ports) {
    if (p != 139 && p != 445) return false;
  }
  return true;
}

std::string seconds_text(int64_t ns) {
  char buf[32];
  const double s = static_cast<double>(ns) / 1e9;
  std::snprintf(buf, sizeof buf, s < 10 ? "%.1f" : "%.0f", s);
  return buf;
}

struct HostStart {
  core::Timestamp first{INT64_MAX};
  core::Timestamp last{INT64_MIN};
  Severity severity = Severity::kInfo;
  const Finding* first_finding = nullptr;
  uint64_t findings = 0;
};

class PatientZeroDetector final : public Detector {
 public:
  explicit PatientZeroDetector(Config& c)
      : min_hosts_(c.get("patient_zero.min_hosts", 2,
                         "internal hosts that must show the same behaviour before spread.patient_zero names the first")),
        window_ns_(static_cast<int64_t>(
            c.get("patient_zero.window_s", 86400,
                  "a host that starts more than this many seconds after the previous one begins a new group") *
            1e9)),
        min_lead_ns_(static_cast<int64_t>(
            c.get("patient_zero.min_lead_s", 1,
                  "seconds the first host must lead the second by for the order to be trusted (else lower "
                  "confidence)") *
            1e9)),
        internal_(c.internal) {}

  void finish(std::vector<Finding>& out) override { (void)out; }

  bool after_last() const override { return true; }
  void after(std::vector<Finding>& all) override {
    // behaviour -> host -> when it started
    std::map<std::string, std::map<core::IpAddress, HostStart>> groups;
    std::map<std::string, std::vector<const Finding*>> by_src;
    // worm445 removes the SYN scans its worm finding explains in its own
    // after(), which may run after this one: skip them here as well.
    std::set<std::string> worms;
    for (const Finding& f : all) {
      if (f.id == "worm.smb_scan") worms.insert(f.src);
    }
    for (const Finding& f : all) {
      by_src[f.src].push_back(&f);
      if (starts_with(f.id, "scan.") && worms.contains(f.src) && smb_ports_only(f)) continue;
      const auto key = behaviour_key(f);
      if (!key) continue;
      const auto ip = core::IpAddress::parse(f.src);
      if (!ip || !internal_.is_internal(*ip)) continue;
      HostStart& h = groups[*key][*ip];
      ++h.findings;
      if (!h.first_finding || f.ts < h.first || (f.ts == h.first && f.id < h.first_finding->id)) {
        h.first_finding = &f;
      }
      h.first = std::min(h.first, f.ts);
      h.last = std::max(h.last, std::max(f.last_ts, f.ts));
      h.severity = std::max(h.severity, f.severity);
    }
    std::vector<Finding> found;
    for (const auto& [key, hosts] : groups) {
      if (static_cast<double>(hosts.size()) < min_hosts_) continue;
      std::vector<std::pair<core::IpAddress, const HostStart*>> order;
      for (const auto& [ip, h] : hosts) order.emplace_back(ip, &h);
      std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
        return a.second->first != b.second->first ? a.second->first < b.second->first : a.first < b.first;
      });
      size_t begin = 0;
      for (size_t i = 1; i <= order.size(); ++i) {
        if (i == order.size() || order[i].second->first - order[i - 1].second->first > window_ns_) {
          if (static_cast<double>(i - begin) >= min_hosts_) {
            found.push_back(make_finding(key, {order.begin() + static_cast<std::ptrdiff_t>(begin),
                                               order.begin() + static_cast<std::ptrdiff_t>(i)},
                                         by_src));
          }
          begin = i;
        }
      }
    }
    for (auto& f : found) all.push_back(std::move(f));
  }

 private:
  // The earliest finding of an earlier host that names `victim` among its
  // victims before `victim` started: how it was probably reached.
  static std::string reached_from(const std::vector<std::pair<core::IpAddress, const HostStart*>>& order, size_t i,
                                  const std::map<std::string, std::vector<const Finding*>>& by_src) {
    const std::string victim = order[i].first.to_string();
    for (size_t j = 0; j < i; ++j) {
      const std::string earlier = order[j].first.to_string();
      auto it = by_src.find(earlier);
      if (it == by_src.end()) continue;
      for (const Finding* f : it->second) {
        if (f->ts > order[i].second->first) continue;
        if (std::find(f->dst.begin(), f->dst.end(), victim) != f->dst.end()) return earlier;
      }
    }
    return "";
  }

  Finding make_finding(const std::string& key, const std::vector<std::pair<core::IpAddress, const HostStart*>>& order,
                       const std::map<std::string, std::vector<const Finding*>>& by_src) const {
    const HostStart& zero = *order.front().second;
    Finding f;
    f.id = "spread.patient_zero";
    f.ts = zero.first;
    f.src = order.front().first.to_string();
    f.dst_count = order.size() - 1;
    f.service = zero.first_finding->service;
    f.attack = zero.first_finding->attack;
    Severity sev = Severity::kMedium;
    core::Timestamp last = zero.last;
    Evidence ev(20);
    uint64_t linked = 0;
    std::string hosts_json = "[";
    f.summary = f.src + " was the first of " + std::to_string(order.size()) + " internal hosts to show " + key;
    for (size_t i = 0; i < order.size(); ++i) {
      const auto& [ip, h] = order[i];
      sev = std::max(sev, h->severity);
      last = std::max(last, h->last);
      for (const auto& u : h->first_finding->evidence) {
        if (ev.held() < 20) ev.add(u);
      }
      const int64_t delay = h->first - zero.first;
      const std::string from = i ? reached_from(order, i, by_src) : "";
      if (!from.empty()) ++linked;
      if (i > 0 && f.dst.size() < kMaxListed) {
        f.dst.push_back(ip.to_string());
        if (i <= 3) {
          f.summary += (i == 1 ? "; then " : ", ") + ip.to_string() + " after " + seconds_text(delay) + " s";
        }
      }
      if (i < kMaxListed) {
        if (i) hosts_json.push_back(',');
        std::string one;
        output::JsonLine j(one);
        j.str("host", ip.to_string());
        j.raw("first_ts", core::format_epoch_micros(h->first));
        j.raw("delay_s", core::format_duration_micros(delay));
        j.str("first_finding", h->first_finding->id);
        if (!from.empty()) j.str("reached_from", from);
        j.end_object();
        hosts_json += one;
      }
    }
    hosts_json.push_back(']');
    if (order.size() > 4) f.summary += " and " + std::to_string(order.size() - 4) + " more";
    f.last_ts = last;
    f.severity = std::min(sev, Severity::kHigh);
    const int64_t lead = order[1].second->first - zero.first;
    if (lead < min_lead_ns_) {
      f.confidence = 0.3;
      f.summary += " (the first two started within " + seconds_text(lead) + " s, so the order is uncertain)";
    } else {
      f.confidence = linked ? 0.8 : 0.5;
    }
    f.evidence = ev.uids();
    uint64_t total = 0;
    for (const auto& [ip, h] : order) total += h->findings;
    f.evidence_total = f.evidence.size();
    f.counts = {{"hosts", order.size()}, {"findings", total}, {"linked", linked}};
    f.details.clear();
    output::JsonLine j(f.details);
    j.str("behaviour", key);
    j.raw("hosts", hosts_json);
    j.end_object();
    return f;
  }

  double min_hosts_;
  int64_t window_ns_;
  int64_t min_lead_ns_;
  Networks internal_;
};

}  // namespace

void register_patient_zero(Registry& r) {
  r.add("patient_zero", [](Config& c) { return std::make_unique<PatientZeroDetector>(c); });
}

}  // namespace trawl::detect

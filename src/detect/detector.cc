#include "detect/detector.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace trawl::detect {

bool Networks::is_internal(const core::IpAddress& a) const {
  if (nets_.empty()) return a.is_private();
  return std::any_of(nets_.begin(), nets_.end(), [&](const core::IpNetwork& n) { return n.contains(a); });
}

double Config::get(std::string_view key, double default_value, std::string_view doc) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    Entry e;
    e.default_value = default_value;
    e.doc = std::string(doc);
    auto ov = overrides_.find(key);
    e.value = ov != overrides_.end() ? ov->second : default_value;
    it = entries_.emplace(std::string(key), std::move(e)).first;
  }
  return it->second.value;
}

bool Config::parse_override(std::string_view kv, std::string& error) {
  size_t eq = kv.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    error = "--set takes KEY=VALUE (e.g. scan.min_ports=50), got '" + std::string(kv) + "'";
    return false;
  }
  std::string_view key = kv.substr(0, eq);
  std::string_view val = kv.substr(eq + 1);
  double v = 0;
  auto r = std::from_chars(val.data(), val.data() + val.size(), v);
  if (r.ec != std::errc() || r.ptr != val.data() + val.size() || !std::isfinite(v)) {
    error = "--set " + std::string(key) + ": '" + std::string(val) + "' is not a number";
    return false;
  }
  overrides_[std::string(key)] = v;
  return true;
}

std::vector<std::string> Config::unknown_overrides() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : overrides_) {
    if (!entries_.contains(k)) out.push_back(k);
  }
  return out;
}

DetectorSet::DetectorSet(Config& config, const std::vector<std::string>& only) {
  Registry reg;
  register_all_detectors(reg);
  const std::set<std::string, std::less<>> wanted(only.begin(), only.end());
  std::set<std::string, std::less<>> missing = wanted;
  for (const auto& e : reg.entries()) {
    if (!wanted.empty() && !wanted.contains(e.name)) continue;
    detectors_.push_back(e.make(config));
    missing.erase(e.name);
  }
  unknown_.assign(missing.begin(), missing.end());
}

void DetectorSet::on_conn(const flow::ConnRecord& r) {
  for (auto& d : detectors_) d->on_conn(r);
}
void DetectorSet::on_record(const analyzers::Record& r) {
  for (auto& d : detectors_) d->on_record(r);
}
void DetectorSet::on_arp(const output::ArpRecord& r) {
  for (auto& d : detectors_) d->on_arp(r);
}

std::vector<Finding> DetectorSet::finish() {
  std::vector<Finding> out;
  for (auto& d : detectors_) d->finish(out);
  std::stable_sort(out.begin(), out.end(), finding_before);
  // Detectors that summarise others' findings (patient zero) go last.
  for (auto& d : detectors_) {
    if (!d->after_last()) d->after(out);
  }
  for (auto& d : detectors_) {
    if (d->after_last()) d->after(out);
  }
  std::stable_sort(out.begin(), out.end(), finding_before);
  return out;
}

}  // namespace trawl::detect

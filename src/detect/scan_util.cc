#include "detect/scan_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "output/json_line.h"

namespace trawl::detect::scan {

bool is_group_or_unspecified(const core::IpAddress& a) {
  const uint8_t* w = a.wire_data();
  if (a.is_v4()) {
    uint32_t h = a.v4_host_order();
    if (h == 0 || h == 0xffffffffu) return true;
    if ((w[0] & 0xf0) == 0xe0) return true;  // 224.0.0.0/4
    // x.x.x.255 is the broadcast address of a /24, the commonest LAN size.
    return w[3] == 255;
  }
  if (w[0] == 0xff) return true;  // ff00::/8
  return std::all_of(w, w + 16, [](uint8_t b) { return b == 0; });
}

bool PortSet::add(uint16_t p) {
  if (contains(p)) return false;
  ++count_;
  if (bits_.empty()) {
    small_.insert(std::lower_bound(small_.begin(), small_.end(), p), p);
    if (small_.size() > kSmall) {
      bits_.assign(65536 / 64, 0);
      for (uint16_t v : small_) bits_[v / 64] |= uint64_t{1} << (v % 64);
      std::vector<uint16_t>().swap(small_);
    }
  } else {
    bits_[p / 64] |= uint64_t{1} << (p % 64);
  }
  return true;
}

bool PortSet::contains(uint16_t p) const {
  if (bits_.empty()) return std::binary_search(small_.begin(), small_.end(), p);
  return (bits_[p / 64] >> (p % 64)) & 1u;
}

std::vector<uint16_t> PortSet::sample(size_t n) const {
  std::vector<uint16_t> out;
  if (bits_.empty()) {
    for (uint16_t v : small_) {
      if (out.size() >= n) break;
      out.push_back(v);
    }
    return out;
  }
  for (uint32_t v = 0; v < 65536 && out.size() < n; ++v) {
    if ((bits_[v / 64] >> (v % 64)) & 1u) out.push_back(static_cast<uint16_t>(v));
  }
  return out;
}

void Episode::add_outcome(std::string_view name, uint64_t n) {
  for (auto& [k, v] : outcomes) {
    if (k == name) {
      v += n;
      return;
    }
  }
  outcomes.emplace_back(std::string(name), n);
}

uint64_t Episode::outcome(std::string_view name) const {
  for (const auto& [k, v] : outcomes) {
    if (k == name) return v;
  }
  return 0;
}

bool Episode::add_probe(core::Timestamp ts, core::Timestamp last, const core::IpAddress& target,
                        bool target_internal, const std::string& uid) {
  span.add(ts);
  span.add(std::max(ts, last));
  ++probes;
  evidence.add(uid);
  bool added = hosts.add(target);
  if (added && target_internal) ++internal_targets;
  return added;
}

double Episode::duration_s() const {
  if (span.empty()) return 0;
  return static_cast<double>(span.last - span.first) / 1e9;
}

double Episode::rate_per_s() const {
  double d = duration_s();
  return d > 0 ? static_cast<double>(probes) / d : static_cast<double>(probes);
}

Severity raise(Severity s, int steps) {
  int v = static_cast<int>(s) + steps;
  v = std::clamp(v, 0, static_cast<int>(Severity::kCritical));
  return static_cast<Severity>(v);
}

std::string format_number(double v) {
  char buf[64];
  if (!std::isfinite(v)) return "0";
  if (std::fabs(v) < 1) {
    std::snprintf(buf, sizeof buf, "%.2f", v);
  } else if (std::fabs(v - std::round(v)) < 0.05 || std::fabs(v) >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f", v);
  }
  return buf;
}

std::string format_fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", std::isfinite(v) ? v : 0.0);
  return buf;
}

std::string join_ports(const std::vector<uint16_t>& ports, size_t max, uint64_t total) {
  std::string out;
  size_t n = 0;
  for (uint16_t p : ports) {
    if (n == max) break;
    if (n) out += ", ";
    out += std::to_string(p);
    ++n;
  }
  if (total > n) out += " and " + std::to_string(total - n) + " more";
  return out;
}

std::string json_ports(const std::vector<uint16_t>& ports) {
  std::string out = "[";
  for (size_t i = 0; i < ports.size(); ++i) {
    if (i) out.push_back(',');
    out += std::to_string(ports[i]);
  }
  out.push_back(']');
  return out;
}

std::string json_addresses(const std::vector<core::IpAddress>& a) {
  std::string out = "[";
  for (size_t i = 0; i < a.size(); ++i) {
    if (i) out.push_back(',');
    output::append_json_string(out, a[i].to_string());
  }
  out.push_back(']');
  return out;
}


std::string plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace trawl::detect::scan

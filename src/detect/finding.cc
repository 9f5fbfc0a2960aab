#include "detect/finding.h"

#include <cmath>
#include <cstdio>

#include "detect/text.h"
#include "output/json_line.h"

namespace trawl::detect {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kLow: return "low";
    case Severity::kMedium: return "medium";
    case Severity::kHigh: return "high";
    case Severity::kCritical: return "critical";
  }
  return "info";
}

void append_finding_json(const Finding& f, std::string& out) {
  output::JsonLine j(out);
  j.str("id", f.id);
  j.raw("ts", core::format_epoch_micros(f.ts));
  j.raw("last_ts", core::format_epoch_micros(f.last_ts));
  j.str("severity", severity_name(f.severity));
  char conf[16];
  double c = std::isfinite(f.confidence) ? std::fmin(1.0, std::fmax(0.0, f.confidence)) : 0.0;
  std::snprintf(conf, sizeof conf, "%.2f", c);
  j.raw("confidence", conf);
  j.str("src", f.src);
  j.raw("dst", text::json_strings(f.dst));
  j.u64("dst_count", f.dst_count);
  std::string ports = "[";
  for (size_t i = 0; i < f.ports.size(); ++i) {
    if (i) ports.push_back(',');
    ports += std::to_string(f.ports[i]);
  }
  ports.push_back(']');
  j.raw("ports", ports);
  if (!f.service.empty()) j.str("service", f.service);
  std::string counts;
  output::JsonLine cj(counts);
  for (const auto& [k, v] : f.counts) cj.u64(k, v);
  cj.end_object();
  j.raw("counts", counts);
  j.str("summary", f.summary);
  j.str("attack", f.attack);
  j.raw("evidence", text::json_strings(f.evidence));
  j.u64("evidence_total", f.evidence_total);
  j.raw("details", f.details.empty() ? std::string_view("{}") : std::string_view(f.details));
  j.end();
}

bool finding_before(const Finding& a, const Finding& b) {
  if (a.severity != b.severity) return a.severity > b.severity;
  if (a.ts != b.ts) return a.ts < b.ts;
  if (a.id != b.id) return a.id < b.id;
  if (a.src != b.src) return a.src < b.src;
  return a.dst < b.dst;
}

}  // namespace trawl::detect

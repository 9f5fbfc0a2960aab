#include "app/detect_setup.h"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>

#include "intel/feeds.h"

namespace trawl::app {

std::vector<std::string> split_commas(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    if (comma > start) out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

int make_detectors(const char* cmd, const DetectOptions& opt, DetectSetup& setup) {
  for (const auto& n : opt.home_net) setup.config.internal.add(n);
  for (const auto& kv : opt.set) {
    std::string err;
    if (!setup.config.parse_override(kv, err)) {
      std::fprintf(stderr, "trawl %s: %s\n", cmd, err.c_str());
      return 2;
    }
  }
  if (!opt.intel.empty()) {
    for (const auto& path : opt.intel) {
      std::error_code ec;
      if (!std::filesystem::exists(path, ec)) {
        std::fprintf(stderr, "trawl %s: --intel %s: no such file or folder\n", cmd, path.c_str());
        return 2;
      }
    }
    intel::LoadReport report;
    for (const auto& path : opt.intel) intel::load_intel(path, setup.intel_store, report);
    setup.intel_store.finalize();
    constexpr size_t kShownErrors = 10;
    for (size_t i = 0; i < report.errors.size() && i < kShownErrors; ++i) {
      const auto& e = report.errors[i];
      if (e.line) {
        std::fprintf(stderr, "trawl %s: intel: %s:%llu: %s\n", cmd, e.file.c_str(),
                     static_cast<unsigned long long>(e.line), e.message.c_str());
      } else {
        std::fprintf(stderr, "trawl %s: intel: %s: %s\n", cmd, e.file.c_str(), e.message.c_str());
      }
    }
    if (report.errors_total > kShownErrors) {
      std::fprintf(stderr, "trawl %s: intel: %llu errors in all (the first %zu shown)\n", cmd,
                   static_cast<unsigned long long>(report.errors_total), kShownErrors);
    }
    if (!opt.quiet) {
      std::fprintf(stderr, "trawl %s: intel: %zu indicator%s from %llu file%s\n", cmd, setup.intel_store.size(),
                   setup.intel_store.size() == 1 ? "" : "s", static_cast<unsigned long long>(report.files),
                   report.files == 1 ? "" : "s");
    }
    setup.config.intel = &setup.intel_store;
  }
  setup.detectors = std::make_unique<detect::DetectorSet>(setup.config, opt.detectors);
  if (!setup.detectors->unknown_names().empty()) {
    std::fprintf(stderr, "trawl %s: --detectors: no detector named '%s'\n", cmd,
                 setup.detectors->unknown_names().front().c_str());
    return 2;
  }
  auto unknown = setup.config.unknown_overrides();
  if (!unknown.empty()) {
    std::fprintf(stderr, "trawl %s: --set %s: no such threshold (see trawl analyze --list-thresholds)\n", cmd,
                 unknown.front().c_str());
    return 2;
  }
  return 0;
}

void print_findings(const std::vector<detect::Finding>& findings) {
  if (findings.empty()) {
    std::printf("findings: none\n");
    return;
  }
  std::map<detect::Severity, uint64_t, std::greater<>> by_sev;
  for (const auto& f : findings) ++by_sev[f.severity];
  std::printf("findings: %zu (", findings.size());
  const char* sep = "";
  for (const auto& [sev, n] : by_sev) {
    std::printf("%s%llu %s", sep, static_cast<unsigned long long>(n), std::string(detect::severity_name(sev)).c_str());
    sep = ", ";
  }
  std::printf(")\n");
  constexpr size_t kShown = 40;
  for (size_t i = 0; i < findings.size() && i < kShown; ++i) {
    const auto& f = findings[i];
    std::string sev(detect::severity_name(f.severity));
    std::printf("  %-8s %-24s %s  %s\n", sev.c_str(), f.id.c_str(), core::format_utc_seconds(f.ts).c_str(), f.summary.c_str());
  }
  if (findings.size() > kShown) std::printf("  ... %zu more in findings.jsonl\n", findings.size() - kShown);
}

}  // namespace trawl::app

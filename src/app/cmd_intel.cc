// trawl intel FEED...: loads threat-intelligence feeds the way analyze and
// check do, and says what loaded: per file, per format, per indicator type,
// how long it took, and the first errors. A way to check feeds before a run.
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "app/cli.h"
#include "intel/feeds.h"
#include "intel/indicator_store.h"

namespace trawl::app {

namespace {

constexpr size_t kShownErrors = 20;

struct Totals {
  uint64_t files = 0;
  uint64_t indicators = 0;
  uint64_t skipped = 0;
  uint64_t errors = 0;
};

// A file failed if it could not be read or gave errors and nothing else.
bool failed(const intel::FileSummary& f) { return f.format.empty() || (f.indicators == 0 && f.errors > 0); }

}  // namespace

int cmd_intel(const Args& args) {
  std::vector<std::string> paths = args.inputs;
  paths.insert(paths.end(), args.intel.begin(), args.intel.end());
  if (paths.empty()) {
    std::fputs("trawl intel: give at least one feed file or folder (or --intel PATH)\n", stderr);
    return 2;
  }
  intel::IndicatorStore store;
  intel::LoadReport report;
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& p : paths) intel::load_intel(p, store, report);
  store.finalize();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::map<std::string, Totals> by_format;
  bool any_failed = false;
  if (!args.quiet) {
    std::printf("%-40s  %-9s  %10s  %8s  %7s\n", "file", "format", "indicators", "skipped", "errors");
  }
  for (const auto& f : report.loaded) {
    bool bad = failed(f);
    any_failed = any_failed || bad;
    std::string format = f.format.empty() ? "-" : f.format;
    Totals& t = by_format[format];
    ++t.files;
    t.indicators += f.indicators;
    t.skipped += f.skipped;
    t.errors += f.errors;
    if (!args.quiet) {
      std::printf("%-40s  %-9s  %10llu  %8llu  %7llu%s\n", f.file.c_str(), format.c_str(),
                  static_cast<unsigned long long>(f.indicators), static_cast<unsigned long long>(f.skipped),
                  static_cast<unsigned long long>(f.errors), bad ? "  FAILED" : "");
    }
  }
  std::printf("\n%-9s  %6s  %10s  %8s  %7s\n", "format", "files", "indicators", "skipped", "errors");
  for (const auto& [format, t] : by_format) {
    std::printf("%-9s  %6llu  %10llu  %8llu  %7llu\n", format.c_str(), static_cast<unsigned long long>(t.files),
                static_cast<unsigned long long>(t.indicators), static_cast<unsigned long long>(t.skipped),
                static_cast<unsigned long long>(t.errors));
  }
  std::printf("\n%-9s  %10s\n", "type", "stored");
  for (auto t : {intel::IndicatorType::kIp, intel::IndicatorType::kCidr, intel::IndicatorType::kDomain,
                 intel::IndicatorType::kUrl, intel::IndicatorType::kHash}) {
    std::printf("%-9s  %10zu\n", std::string(intel::type_name(t)).c_str(), store.size(t));
  }
  std::printf("\n%zu indicators stored (one per indicator and source), %zu sources, %llu files read, in %.2f s\n",
              store.size(), store.source_count(), static_cast<unsigned long long>(report.files), secs);
  std::fflush(stdout);

  if (report.errors_total > 0) {
    std::fprintf(stderr, "trawl intel: %llu error%s\n", static_cast<unsigned long long>(report.errors_total),
                 report.errors_total == 1 ? "" : "s");
    size_t shown = 0;
    for (const auto& e : report.errors) {
      if (shown++ == kShownErrors) break;
      if (e.line > 0) {
        std::fprintf(stderr, "  %s:%llu: %s\n", e.file.c_str(), static_cast<unsigned long long>(e.line),
                     e.message.c_str());
      } else {
        std::fprintf(stderr, "  %s: %s\n", e.file.c_str(), e.message.c_str());
      }
    }
    if (report.errors_total > kShownErrors) {
      std::fprintf(stderr, "  ... and %llu more\n",
                   static_cast<unsigned long long>(report.errors_total - kShownErrors));
    }
  }
  if (store.size() == 0) {
    std::fputs("trawl intel: no usable indicators\n", stderr);
    return 2;
  }
  return any_failed ? 1 : 0;
}

}  // namespace trawl::app

// The detectors of a run, set up from the command line the same way for
// `trawl analyze` and `trawl hunt`: --set thresholds, --detectors, --home-net
// and --intel feeds, checked before any work is done.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/ip_address.h"
#include "detect/detector.h"
#include "intel/indicator_store.h"

namespace trawl::app {

struct DetectOptions {
  std::vector<std::string> set;        // --set KEY=VALUE
  std::vector<std::string> detectors;  // --detectors (empty: all)
  std::vector<core::IpNetwork> home_net;
  std::vector<std::string> intel;      // --intel FILE|DIR
  bool quiet = false;                  // no "N indicators" line
};

// Owns what the DetectorSet points to (the Config and the intel store).
struct DetectSetup {
  detect::Config config;
  intel::IndicatorStore intel_store;
  std::unique_ptr<detect::DetectorSet> detectors;
};

// Builds setup.detectors. Returns 0, or 2 after printing "trawl CMD: ..." for
// a bad --set, an unknown detector or threshold, or a missing --intel path.
int make_detectors(const char* cmd, const DetectOptions& opt, DetectSetup& setup);

// "a,b,c" -> {"a", "b", "c"} (empty items dropped).
std::vector<std::string> split_commas(const std::string& list);

// The findings table of the terminal summary: counts by severity, then the
// first 40, most severe first.
void print_findings(const std::vector<detect::Finding>& findings);

}  // namespace trawl::app

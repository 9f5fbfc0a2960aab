// Named anomalies ("weirds"): odd or hostile input is counted under a stable
// name and processing continues. Names are registered once, counted by index.
//
//   inline const trawl::core::AnomalyId kTruncated{"capture.truncated_packet"};
//   anomalies.add(kTruncated);
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace trawl::core {

class AnomalyId {
 public:
  // Registers the name (idempotent: the same name gives the same index).
  explicit AnomalyId(std::string_view name);
  uint32_t index() const { return index_; }
  const std::string& name() const;

 private:
  uint32_t index_;
};

// Looks a registered name up; nullptr if unknown.
const AnomalyId* find_anomaly(std::string_view name);

// Per-thread counters; merge() them at the end. Not thread-safe by design.
class Anomalies {
 public:
  void add(const AnomalyId& id, uint64_t n = 1) {
    if (id.index() >= counts_.size()) counts_.resize(id.index() + 1, 0);
    counts_[id.index()] += n;
  }
  uint64_t count(const AnomalyId& id) const {
    return id.index() < counts_.size() ? counts_[id.index()] : 0;
  }
  uint64_t total() const;
  void merge(const Anomalies& other);
  // Non-zero counters by name, sorted by name.
  std::map<std::string, uint64_t> by_name() const;

 private:
  std::vector<uint64_t> counts_;
};

}  // namespace trawl::core

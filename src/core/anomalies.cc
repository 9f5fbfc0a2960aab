#include "core/anomalies.h"

#include <deque>
#include <mutex>

namespace trawl::core {

namespace {
struct Registry {
  std::mutex mu;
  std::deque<std::string> names;  // deque: references stay valid as it grows
  std::map<std::string, uint32_t, std::less<>> index;
};
Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace

AnomalyId::AnomalyId(std::string_view name) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.index.find(name);
  if (it != r.index.end()) {
    index_ = it->second;
    return;
  }
  index_ = static_cast<uint32_t>(r.names.size());
  r.names.emplace_back(name);
  r.index.emplace(std::string(name), index_);
}

const std::string& AnomalyId::name() const {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  return r.names[index_];
}

const AnomalyId* find_anomaly(std::string_view name) {
  static std::deque<AnomalyId> handles;
  static std::mutex mu;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    if (r.index.find(name) == r.index.end()) return nullptr;
  }
  std::lock_guard lock(mu);
  return &handles.emplace_back(name);
}

uint64_t Anomalies::total() const {
  uint64_t t = 0;
  for (uint64_t c : counts_) t += c;
  return t;
}

void Anomalies::merge(const Anomalies& other) {
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
}

std::map<std::string, uint64_t> Anomalies::by_name() const {
  std::map<std::string, uint64_t> out;
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) out[r.names[i]] = counts_[i];
  }
  return out;
}

}  // namespace trawl::core

// Bounded collections detectors keep per actor: the evidence uids of a
// finding, and the distinct victims (addresses, users, ports) with a sample.
// Every one has a cap; past it only the count grows, so a hostile capture
// cannot make a detector's memory grow without bound.
#pragma once

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/timestamp.h"

namespace trawl::detect {

// The first `cap` evidence uids (in record order, which is deterministic),
// and how many there were in all.
class Evidence {
 public:
  explicit Evidence(size_t cap = 20) : cap_(cap) {}
  void add(const std::string& uid) {
    ++total_;
    if (uids_.size() < cap_ && !uid.empty()) uids_.push_back(uid);
  }
  void merge(const Evidence& o) {
    for (const auto& u : o.uids_) {
      if (uids_.size() >= cap_) break;
      uids_.push_back(u);
    }
    total_ += o.total_;
  }
  const std::vector<std::string>& uids() const { return uids_; }
  uint64_t total() const { return total_; }

 private:
  size_t cap_;
  std::vector<std::string> uids_;
  uint64_t total_ = 0;
};

// Distinct values, exact up to `cap`; past it, values already held still
// count as known and new ones only raise the saturated count.
template <typename T>
class DistinctSet {
 public:
  explicit DistinctSet(size_t cap = 65536) : cap_(cap) {}
  // True if the value was new.
  bool add(const T& v) {
    if (set_.contains(v)) return false;
    if (set_.size() < cap_) {
      set_.insert(v);
    } else {
      ++overflow_;
    }
    return true;
  }
  bool contains(const T& v) const { return set_.contains(v); }
  // Distinct values seen (a lower bound once saturated: repeats of values
  // past the cap count again).
  uint64_t count() const { return set_.size() + overflow_; }
  bool saturated() const { return overflow_ > 0; }
  const std::set<T>& values() const { return set_; }
  // The smallest n values (deterministic sample).
  std::vector<T> sample(size_t n) const {
    std::vector<T> out;
    for (const T& v : set_) {
      if (out.size() >= n) break;
      out.push_back(v);
    }
    return out;
  }

 private:
  size_t cap_;
  std::set<T> set_;
  uint64_t overflow_ = 0;
};

// DistinctSet<uint64_t> for hashes whose order nobody reads (distinct
// domains, subdomains): the same add/contains/count, exact up to `cap` and
// saturating past it, held in an open-addressing table (linear probing, at
// most half full) instead of a tree: no allocation per value and one or two
// probes per lookup. Memory: at most 2 * 8 * bit_ceil(cap) bytes.
class DistinctHashes {
 public:
  explicit DistinctHashes(size_t cap = 65536) : cap_(cap) {}
  // True if the value was new.
  bool add(uint64_t v) {
    if (contains(v)) return false;
    if (held_ >= cap_) {
      ++overflow_;
      return true;
    }
    if (v == 0) {
      has_zero_ = true;  // 0 marks an empty slot, so it is kept aside
    } else {
      if (2 * (held_ + 1) > slots_.size()) grow();
      slots_[find_slot(v)] = v;
    }
    ++held_;
    return true;
  }
  bool contains(uint64_t v) const {
    if (v == 0) return has_zero_;
    return !slots_.empty() && slots_[find_slot(v)] == v;
  }
  uint64_t count() const { return held_ + overflow_; }
  size_t held() const { return held_; }  // values held (at most cap)
  bool saturated() const { return overflow_ > 0; }

 private:
  // The slot holding v, or the empty slot where it would go.
  size_t find_slot(uint64_t v) const {
    const size_t mask = slots_.size() - 1;
    size_t i = static_cast<size_t>(mix(v)) & mask;
    while (slots_[i] != 0 && slots_[i] != v) i = (i + 1) & mask;
    return i;
  }
  static uint64_t mix(uint64_t x) {  // the values may be weak hashes: spread them
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
  }
  void grow() {
    std::vector<uint64_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, 0);
    for (uint64_t v : old) {
      if (v != 0) slots_[find_slot(v)] = v;
    }
  }

  size_t cap_;
  std::vector<uint64_t> slots_;  // 0: empty; size a power of two
  size_t held_ = 0;
  bool has_zero_ = false;
  uint64_t overflow_ = 0;
};

// Time span of what an actor did.
struct Span {
  core::Timestamp first{INT64_MAX};
  core::Timestamp last{INT64_MIN};
  void add(core::Timestamp t) {
    first = std::min(first, t);
    last = std::max(last, t);
  }
  bool empty() const { return first.ns == INT64_MAX; }
};

// Splits sorted event times into episodes: a new episode starts after an idle
// gap longer than `gap_ns`. Returns [begin, end) index pairs.
inline std::vector<std::pair<size_t, size_t>> episodes(const std::vector<core::Timestamp>& sorted_times,
                                                       int64_t gap_ns) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t begin = 0;
  for (size_t i = 1; i <= sorted_times.size(); ++i) {
    if (i == sorted_times.size() || sorted_times[i] - sorted_times[i - 1] > gap_ns) {
      if (i > begin) out.emplace_back(begin, i);
      begin = i;
    }
  }
  return out;
}

}  // namespace trawl::detect

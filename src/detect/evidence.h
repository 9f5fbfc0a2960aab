// Bounded collections detectors keep per actor: the evidence uids of a
// finding, and the distinct victims (addresses, users, ports) with a sample.
// Every one has a cap; past it only the count grows, so a hostile capture
// cannot make a detector's memory grow without bound.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/timestamp.h"

namespace trawl::detect {

// Uids packed into one byte buffer, each a varint length and its bytes: a
// conn uid (18 chars) takes 19 bytes instead of a 32-byte std::string plus
// its heap block (libstdc++'s inline buffer holds only 15 chars). For the
// bounded uid samples detectors keep per actor, most of their memory (and
// for other short text samples: dns_tunnel's first subdomains).
class PackedUids {
 public:
  void push_back(std::string_view u) {
    last_ = static_cast<uint32_t>(buf_.size());
    for (size_t n = u.size();; n >>= 7) {
      const auto low = static_cast<unsigned char>(n & 0x7f);
      if (n < 0x80) {
        buf_.push_back(static_cast<char>(low));
        break;
      }
      buf_.push_back(static_cast<char>(low | 0x80));
    }
    buf_.insert(buf_.end(), u.begin(), u.end());
    ++size_;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The uid pushed last (empty when none).
  std::string_view back() const {
    if (size_ == 0) return {};
    size_t i = last_;
    return read(i);
  }
  bool contains(std::string_view u) const {
    bool found = false;
    for_each([&](std::string_view x) { found = found || x == u; });
    return found;
  }
  template <typename F>
  void for_each(F&& f) const {
    size_t i = 0;
    while (i < buf_.size()) f(read(i));
  }
  std::vector<std::string> to_vector() const {
    std::vector<std::string> out;
    out.reserve(size_);
    for_each([&](std::string_view u) { out.emplace_back(u); });
    return out;
  }

 private:
  // The uid at i; moves i past it.
  std::string_view read(size_t& i) const {
    size_t n = 0;
    for (unsigned shift = 0; i < buf_.size() && shift < 64; shift += 7) {
      const auto b = static_cast<unsigned char>(buf_[i++]);
      n |= static_cast<size_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    n = std::min(n, buf_.size() - i);  // only push_back writes buf_: never clipped
    std::string_view u(buf_.data() + i, n);
    i += n;
    return u;
  }

  std::vector<char> buf_;
  uint32_t size_ = 0;
  uint32_t last_ = 0;  // offset of the last uid
};

// The first `cap` evidence uids (in record order, which is deterministic),
// and how many there were in all.
class Evidence {
 public:
  explicit Evidence(size_t cap = 20) : cap_(cap) {}
  void add(std::string_view uid) {
    ++total_;
    if (uids_.size() < cap_ && !uid.empty()) uids_.push_back(uid);
  }
  void merge(const Evidence& o) {
    o.uids_.for_each([&](std::string_view u) {
      if (uids_.size() < cap_) uids_.push_back(u);
    });
    total_ += o.total_;
  }
  std::vector<std::string> uids() const { return uids_.to_vector(); }
  size_t held() const { return uids_.size(); }  // uids kept (at most cap)
  uint64_t total() const { return total_; }

 private:
  size_t cap_;
  PackedUids uids_;
  uint64_t total_ = 0;
};

// DistinctSet for small caps (a few dozen values): the same add/contains/
// count/sample, held in a sorted vector instead of a tree (one allocation
// instead of a 32-byte node header per value). values() is ascending.
template <typename T>
class SmallDistinctSet {
 public:
  explicit SmallDistinctSet(size_t cap) : cap_(static_cast<uint32_t>(std::min<size_t>(cap, UINT32_MAX))) {}
  // True if the value was new.
  bool add(const T& v) {
    auto it = std::lower_bound(vals_.begin(), vals_.end(), v);
    if (it != vals_.end() && !(v < *it)) return false;
    if (vals_.size() < cap_) {
      vals_.insert(it, v);
    } else {
      ++overflow_;
    }
    return true;
  }
  bool contains(const T& v) const { return std::binary_search(vals_.begin(), vals_.end(), v); }
  uint64_t count() const { return vals_.size() + overflow_; }
  bool saturated() const { return overflow_ > 0; }
  const std::vector<T>& values() const { return vals_; }
  std::vector<T> sample(size_t n) const {
    return std::vector<T>(vals_.begin(), vals_.begin() + static_cast<std::ptrdiff_t>(std::min(n, vals_.size())));
  }

 private:
  std::vector<T> vals_;
  uint32_t cap_;
  uint64_t overflow_ = 0;
};

// Distinct values, exact up to `cap`; past it, values already held still
// count as known and new ones only raise the saturated count. Most sets a
// detector keeps per actor hold a value or two: up to kSmall values live in
// a sorted vector (one allocation, no 32-byte tree node header per value,
// binary search), past that in a tree (insertion stays O(log n) up to the
// cap). Either way values come out ascending.
template <typename T>
class DistinctSet {
 public:
  explicit DistinctSet(size_t cap = 65536) : cap_(cap) {}
  DistinctSet(const DistinctSet& o)
      : cap_(o.cap_), small_(o.small_), big_(o.big_ ? std::make_unique<std::set<T>>(*o.big_) : nullptr),
        overflow_(o.overflow_) {}
  DistinctSet& operator=(const DistinctSet& o) {
    if (this != &o) *this = DistinctSet(o);
    return *this;
  }
  DistinctSet(DistinctSet&&) noexcept = default;
  DistinctSet& operator=(DistinctSet&&) noexcept = default;
  ~DistinctSet() = default;

  // True if the value was new.
  bool add(const T& v) {
    if (big_) {
      if (big_->contains(v)) return false;
      if (big_->size() < cap_) {
        big_->insert(v);
      } else {
        ++overflow_;
      }
      return true;
    }
    auto it = std::lower_bound(small_.begin(), small_.end(), v);
    if (it != small_.end() && !(v < *it)) return false;
    if (small_.size() >= cap_) {
      ++overflow_;
    } else if (small_.size() < kSmall) {
      small_.insert(it, v);
    } else {
      big_ = std::make_unique<std::set<T>>(std::make_move_iterator(small_.begin()),
                                           std::make_move_iterator(small_.end()));
      std::vector<T>().swap(small_);
      big_->insert(v);
    }
    return true;
  }
  bool contains(const T& v) const {
    return big_ ? big_->contains(v) : std::binary_search(small_.begin(), small_.end(), v);
  }
  // Distinct values seen (a lower bound once saturated: repeats of values
  // past the cap count again).
  uint64_t count() const { return held() + overflow_; }
  size_t held() const { return big_ ? big_->size() : small_.size(); }
  bool empty() const { return held() == 0; }
  bool saturated() const { return overflow_ > 0; }
  // Every value held, ascending.
  template <typename F>
  void for_each(F&& f) const {
    if (big_) {
      for (const T& v : *big_) f(v);
    } else {
      for (const T& v : small_) f(v);
    }
  }
  // The smallest value held (the set must not be empty).
  const T& front() const { return big_ ? *big_->begin() : small_.front(); }
  // The smallest n values (deterministic sample).
  std::vector<T> sample(size_t n) const {
    if (!big_) {
      return std::vector<T>(small_.begin(), small_.begin() + static_cast<std::ptrdiff_t>(std::min(n, small_.size())));
    }
    std::vector<T> out;
    for (const T& v : *big_) {
      if (out.size() >= n) break;
      out.push_back(v);
    }
    return out;
  }

 private:
  static constexpr size_t kSmall = 16;
  size_t cap_;
  std::vector<T> small_;              // sorted; unused once big_ exists
  std::unique_ptr<std::set<T>> big_;  // past kSmall values
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
    // Most sets hold a value or two: start at 4 slots (32 bytes), not 16.
    slots_.assign(old.empty() ? 4 : old.size() * 2, 0);
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

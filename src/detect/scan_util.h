// Helpers shared by the scan, sweep and worm445 detectors: one probing
// episode of one actor (distinct targets, ports, answers, evidence, all
// capped), address classes, and the small text/JSON formatting they share.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.h"
#include "core/timestamp.h"
#include "detect/evidence.h"
#include "detect/finding.h"

namespace trawl::detect::scan {

// TCP flag bits as in the TCP header (ConnRecord::orig_first_flags ...).
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint8_t kUrg = 0x20;
// The six classic flags; ECE and CWR (ECN) are ignored when typing probes.
inline constexpr uint8_t kClassic = 0x3f;

// Multicast, broadcast or unspecified: never a scan target (SSDP, mDNS,
// IGMP, DHCP ... talk to these by design).
bool is_group_or_unspecified(const core::IpAddress& a);

// Distinct ports (or IP protocol numbers), exact: a sorted vector while few
// (2 bytes a port, not a 48-byte tree node), a 65536-bit map (8 KiB) past
// kSmall.
class PortSet {
 public:
  bool add(uint16_t p);
  bool contains(uint16_t p) const;
  uint64_t count() const { return count_; }
  // The smallest n values, ascending.
  std::vector<uint16_t> sample(size_t n) const;

 private:
  static constexpr size_t kSmall = 512;
  std::vector<uint16_t> small_;  // ascending
  std::vector<uint64_t> bits_;   // empty until small_ outgrows kSmall
  uint64_t count_ = 0;
};

// Caps of one episode's collections.
struct Caps {
  size_t distinct = 8192;  // exact distinct hosts up to this many
  size_t open = 64;        // open ports / answering hosts listed (and answering hosts kept)
  size_t evidence = 20;    // evidence uids kept
};

// One episode of probing by one actor: times, distinct targets and ports,
// which of them answered, and named outcome counters.
struct Episode {
  explicit Episode(const Caps& caps)
      : hosts(caps.distinct), answered_hosts(caps.distinct),
        evidence(caps.evidence) {}
  Span span;
  uint64_t probes = 0;
  uint64_t internal_targets = 0;  // distinct internal targets (counted when first seen)
  DistinctSet<core::IpAddress> hosts;
  PortSet ports;
  PortSet open_ports;
  DistinctSet<core::IpAddress> answered_hosts;
  Evidence evidence;
  // Outcome counters, by name, in first-use order (deterministic).
  std::vector<std::pair<std::string, uint64_t>> outcomes;

  // By view: callers pass literals, which would otherwise become a
  // std::string (often on the heap) per probe.
  void add_outcome(std::string_view name, uint64_t n = 1);
  uint64_t outcome(std::string_view name) const;
  // Records one probe; returns true if the target was new.
  bool add_probe(core::Timestamp ts, core::Timestamp last, const core::IpAddress& target, bool target_internal,
                 const std::string& uid);
  double duration_s() const;
  double rate_per_s() const;
};

// Streams probes of one actor into episodes split at idle gaps longer than
// gap_ns. Records arrive roughly in start-time order: a probe within the gap
// of the current episode (before or after it) joins it. A finished episode is
// kept only if `keep` says so; at most max_kept are kept, later ones counted.
class EpisodeStream {
 public:
  EpisodeStream(const Caps& caps, int64_t gap_ns, size_t max_kept) : caps_(caps), gap_ns_(gap_ns), max_kept_(max_kept) {}
  // The episode a probe at `ts` belongs to (closing the current one first if
  // the probe is past the idle gap); `keep` decides whether a closed episode
  // is worth keeping.
  template <typename Keep>
  Episode& at(core::Timestamp ts, Keep&& keep) {
    if (cur_ && !cur_->span.empty() && (ts - cur_->span.last > gap_ns_ || cur_->span.first - ts > gap_ns_)) {
      close(keep);
    }
    if (!cur_) cur_ = std::make_unique<Episode>(caps_);
    return *cur_;
  }
  template <typename Keep>
  void close(Keep&& keep) {
    if (!cur_) return;
    if (keep(*cur_)) {
      if (kept_.size() < max_kept_) {
        kept_.push_back(std::move(*cur_));
      } else {
        ++dropped_;
      }
    }
    cur_.reset();
  }
  std::vector<Episode>& kept() { return kept_; }
  uint64_t dropped() const { return dropped_; }

 private:
  Caps caps_;
  int64_t gap_ns_;
  size_t max_kept_;
  std::unique_ptr<Episode> cur_;
  std::vector<Episode> kept_;
  uint64_t dropped_ = 0;
};

// Raises a severity by `steps`, at most to critical.
Severity raise(Severity s, int steps);

// "0.25" under one, then "12" or "1.5" (one decimal at most), for summaries.
std::string format_number(double v);
// Fixed two decimals, for JSON.
std::string format_fixed2(double v);
// "a, b, c" of the first `max` values, "and N more" past it.
std::string join_ports(const std::vector<uint16_t>& ports, size_t max, uint64_t total);
std::string json_ports(const std::vector<uint16_t>& ports);
std::string json_addresses(const std::vector<core::IpAddress>& a);
// "1 host" / "2 hosts".
std::string plural(uint64_t n, const char* one, const char* many);

}  // namespace trawl::detect::scan

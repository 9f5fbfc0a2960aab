// IndicatorStore: threat-intelligence indicators (IPs, CIDR prefixes, domains,
// URLs, file hashes) from any number of feeds, each remembering where it came
// from, matched against what a capture shows (../shared/docs/ARCHITECTURE.md,
// intel/). Matching rules:
//   ip      exact address, and every CIDR prefix holding it, longest first
//   domain  the name itself and each parent ("a.b.evil.example" matches the
//           indicator "evil.example"); case-insensitive, trailing dot ignored
//   url     normalize_url() of both sides equal
//   hash    MD5/SHA-1/SHA-256 hex, case-insensitive
// Built once (add..., then finalize()), then read-only and safe to share
// between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.h"

namespace trawl::intel {

enum class IndicatorType : uint8_t { kIp, kCidr, kDomain, kUrl, kHash };
std::string_view type_name(IndicatorType t);  // "ip", "cidr", "domain", "url", "hash"

// Where indicators came from: one per feed entry that carries its own context
// (an OTX pulse, a MISP event, a STIX indicator, a Feodo row), or one per plain
// list file. Many indicators share one Source.
struct Source {
  std::string feed;        // the file it was read from (file name only), or "otx"
  std::string format;      // "list", "feodo", "urlhaus", "stix", "misp", "misp_csv", "otx_pulse"
  std::string name;        // pulse / event / indicator title, malware family; may be empty
  std::vector<std::string> tags;
  std::string first_seen;  // as the feed gives it (ISO 8601 where it can be); may be empty
  std::string last_seen;
  std::string reference;   // URL of the pulse, event or report; may be empty
};

struct Match {
  IndicatorType type = IndicatorType::kIp;
  std::string indicator;         // the indicator as stored (normalized): "198.51.100.0/24", "evil.example"
  const Source* source = nullptr;  // owned by the store
};

class IndicatorStore {
 public:
  IndicatorStore();
  ~IndicatorStore();
  IndicatorStore(IndicatorStore&&) noexcept;
  IndicatorStore& operator=(IndicatorStore&&) noexcept;

  // Registers a source; the id is passed to add().
  uint32_t add_source(Source s);
  // Adds one indicator. Returns false (and adds nothing) for text that is not
  // a valid indicator of that type. The same indicator from two sources is
  // kept twice (both are reported); the same from one source once.
  bool add(IndicatorType type, std::string_view value, uint32_t source_id);
  // Guesses the type of a plain-list entry ("198.51.100.7", "2001:db8::/32",
  // "evil.example", "http://...", 32/40/64 hex digits) and adds it.
  bool add_guess(std::string_view value, uint32_t source_id);
  // Call once after the last add (builds the lookup structures); add() after
  // finalize() is allowed but needs another finalize().
  void finalize();

  // Lookups append to out (never clear it).
  void match_ip(const core::IpAddress& a, std::vector<Match>& out) const;
  void match_domain(std::string_view name, std::vector<Match>& out) const;
  void match_url(std::string_view url, std::vector<Match>& out) const;
  void match_hash(std::string_view hex, std::vector<Match>& out) const;

  size_t size() const;          // indicators (counting one per source)
  size_t size(IndicatorType t) const;
  size_t source_count() const;
  const Source& source(uint32_t id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Lower-case, trailing dot removed, "*." prefix removed; empty if not a
// plausible host name (no dots is allowed: "localhost"-style names from feeds
// are rejected only if they contain characters a DNS name cannot).
std::string normalize_domain(std::string_view name);
// Scheme and host lower-cased, default port (80/443) dropped, fragment
// dropped, "http://" assumed when there is no scheme, an empty path becomes
// "/", percent-encoding of unreserved characters decoded. Empty if it has no
// host.
std::string normalize_url(std::string_view url);

}  // namespace trawl::intel

// AlienVault OTX DirectConnect API v1 client: the "general" section of an
// indicator, whose pulse_info says how many pulses list it, their names and
// tags. https://otx.alienvault.com/api/v1/indicators/{type}/{value}/general
// with the key in the X-OTX-API-KEY header.
//
// The key never appears in logs, errors, cache files or output. Private,
// loopback, link-local, multicast and documentation addresses (and names under
// .local, .internal, .lan, .home.arpa, .example, .test, .invalid, .localhost)
// are never sent. Answers are cached on disk with a time to live; --offline
// answers from the cache only and never touches the network.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trawl::intel {

enum class OtxKind : uint8_t { kIPv4, kIPv6, kDomain, kHostname, kUrl };
std::string_view otx_kind_path(OtxKind k);  // "IPv4", "IPv6", "domain", "hostname", "url"

struct OtxOptions {
  std::string key;                                    // --otx-key or TRAWL_OTX_KEY; empty: no queries
  std::string base_url = "https://otx.alienvault.com";  // tests point this at a loopback server
  std::string cache_dir;                              // empty: no cache
  int64_t cache_ttl_s = 7 * 86400;
  bool offline = false;      // cache only
  unsigned concurrency = 4;  // requests in flight
  double timeout_s = 15;     // per request
  unsigned max_retries = 4;  // on 429, 5xx and transport errors
  double backoff_s = 1.0;    // first wait; doubles each retry; Retry-After wins when given
  uint64_t max_response_bytes = 4u << 20;
};

struct OtxPulse {
  std::string id;
  std::string name;
  std::vector<std::string> tags;
  std::string created;
  std::string modified;
  std::string adversary;
  std::vector<std::string> malware_families;
};

struct OtxQuery {
  OtxKind kind = OtxKind::kIPv4;
  std::string value;
};

struct OtxVerdict {
  enum class Status : uint8_t {
    kOk,        // answered (pulse_count may be 0)
    kNotFound,  // 404 / unknown indicator
    kSkipped,   // never sent: private/documentation address, or no key
    kOffline,   // --offline and not in the cache
    kError,     // failed after retries (error says why, without the key)
  };
  OtxQuery query;
  Status status = Status::kSkipped;
  bool from_cache = false;
  uint64_t pulse_count = 0;
  std::vector<OtxPulse> pulses;  // at most 20 kept
  std::string error;
};

std::string_view otx_status_name(OtxVerdict::Status s);  // "ok", "not_found", "skipped", "offline", "error"

// True if this indicator may be sent to OTX (see the rules above).
bool otx_may_send(const OtxQuery& q);
// Parses the JSON body of a /general answer into v (pulse_count, pulses).
// Returns false with error set for JSON that is not that shape. Fuzzable.
bool parse_otx_general(std::string_view body, OtxVerdict& v);

class OtxClient {
 public:
  explicit OtxClient(OtxOptions options);
  // Looks every query up (cache first), at most options.concurrency at a
  // time; one verdict per query, in the same order. Never throws.
  std::vector<OtxVerdict> lookup(const std::vector<OtxQuery>& queries);
  struct Counters {
    uint64_t requests = 0, cache_hits = 0, retries = 0, errors = 0, skipped = 0;
  };
  const Counters& counters() const { return counters_; }

 private:
  OtxOptions options_;
  Counters counters_;
};

}  // namespace trawl::intel

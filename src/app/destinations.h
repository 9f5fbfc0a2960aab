// Destinations for `trawl check`: every external peer of a capture (and every
// name looked up but never connected to), aggregated from connection and
// analyzer records, enriched with GeoIP, threat intelligence, OTX, detector
// findings and processes, and given a verdict with its reasons
// (docs/check.md). Pure data in, data out: the command (cmd_check.cc) does the
// I/O and the lookups, so this part is testable on hand-made records.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "analyzers/analyzer.h"
#include "core/ip_address.h"
#include "core/timestamp.h"
#include "detect/detector.h"
#include "detect/finding.h"
#include "flow/conn_record.h"
#include "intel/geoip.h"
#include "intel/indicator_store.h"
#include "intel/otx.h"
#include "live/attribution.h"

namespace trawl::app {

// Every collection has a cap; past it only a counter grows (hostile captures
// with millions of peers or names must not exhaust memory).
struct DestinationLimits {
  size_t max_destinations = 200000;  // address destinations
  size_t max_names = 200000;         // DNS names remembered
  size_t max_uids = 1000000;         // connection uid -> destination (finding evidence)
  size_t max_domains = 50;           // per destination
  size_t max_urls = 50;
  size_t max_ports = 50;
  size_t max_hosts = 50;      // internal hosts per destination
  size_t max_addresses = 16;  // addresses per name
  size_t max_reasons = 40;
  size_t max_processes = 20;
};

enum class Verdict : uint8_t { kUnknown, kSuspicious, kMalicious };
std::string_view verdict_name(Verdict v);  // "unknown", "suspicious", "malicious"

// A bounded set: the first `cap` distinct values (kept in order), plus a count
// of the distinct values past the cap (exact for the first kMaxDropped of
// them, by 64-bit hash; an upper bound after that).
template <typename T>
struct CappedSet {
  static constexpr size_t kMaxDropped = 4096;
  std::set<T> values;
  uint64_t dropped = 0;
  std::unordered_set<uint64_t> dropped_hashes;
  bool add(const T& v, size_t cap) {
    if (values.contains(v)) return false;
    if (values.size() >= cap) {
      drop(v);
      return false;
    }
    values.insert(v);
    return true;
  }
  void drop(const T& v) {
    if (dropped_hashes.size() >= kMaxDropped) {
      ++dropped;
    } else if (dropped_hashes.insert(hash_of(v)).second) {
      ++dropped;
    }
  }
  uint64_t total() const { return values.size() + dropped; }

 private:
  static uint64_t hash_of(const T& v) {
    if constexpr (std::is_same_v<T, core::IpAddress>) {
      uint64_t h = 1469598103934665603ull;  // FNV-1a
      for (uint8_t b : v.bytes()) h = (h ^ b) * 1099511628211ull;
      return h ^ (v.is_v4() ? 4 : 6);
    } else {
      return std::hash<T>{}(v);
    }
  }
};

struct IntelHit {
  std::string matched;    // what was looked up: the address, domain or URL
  std::string type;       // indicator type: "ip", "cidr", "domain", "url"
  std::string indicator;  // as the feed stored it
  intel::Source source;   // copy (the store may go away before output)
};

struct FindingRef {
  std::string id;
  std::string severity;
  std::string summary;
  core::Timestamp ts;
  detect::Severity sev = detect::Severity::kInfo;
  // The finding names this destination as its actor or a victim; false: only
  // its evidence includes connections to it (a resolver on a DGA finding's
  // lookups), which is listed but not scored.
  bool direct = true;
};

struct ProcessRef {
  live::ProcessInfo process;
  uint64_t conns = 0;
};

struct Destination {
  // kind "address": an external peer; kind "name": a DNS name looked up but
  // never connected to (NXDOMAIN, blocked, or only resolved).
  bool is_name = false;
  core::IpAddress address;  // is_name: unset
  std::string name;         // is_name: the name

  uint64_t conns = 0, conns_out = 0, conns_in = 0;
  uint64_t bytes_out = 0, bytes_in = 0;  // IP bytes, from and to the internal side
  uint64_t pkts_out = 0, pkts_in = 0;
  core::Timestamp first{INT64_MAX}, last{INT64_MIN};
  CappedSet<uint16_t> ports;  // the destination's ports (responder port outbound, its own inbound too)
  CappedSet<std::string> services;
  CappedSet<core::IpAddress> hosts;  // internal hosts that talked to it
  CappedSet<std::string> domains;    // DNS answers, TLS SNI, HTTP Host
  CappedSet<std::string> urls;       // http://host/uri
  // Names: what they resolved to, the last response code, lookups.
  CappedSet<core::IpAddress> resolved;
  std::string rcode;  // "NOERROR", "NXDOMAIN", "SERVFAIL", ... or "no answer"
  uint64_t lookups = 0;

  intel::GeoInfo geo;
  std::vector<IntelHit> intel;
  std::string otx_status;              // one phrase for the table
  std::vector<intel::OtxVerdict> otx;  // per queried indicator
  std::vector<FindingRef> findings;
  std::vector<ProcessRef> processes;  // live only
  uint64_t unattributed = 0;          // live only: connections with no process
  bool live = false;

  Verdict verdict = Verdict::kUnknown;
  uint64_t score = 0;
  std::vector<std::string> reasons;  // most weighty first
  uint64_t reasons_dropped = 0;

  std::string key() const;  // address text or name
  uint64_t bytes() const { return bytes_out + bytes_in; }
};

struct DestinationCounters {
  uint64_t conns = 0;          // connection records seen
  uint64_t internal_only = 0;  // both ends internal
  uint64_t not_unicast = 0;    // multicast, broadcast, unspecified peers
  uint64_t external_only = 0;  // neither end internal (transit traffic)
  uint64_t destinations_dropped = 0;
  uint64_t names_dropped = 0;
  uint64_t uids_dropped = 0;
  uint64_t dns_records = 0;
  uint64_t names_ignored = 0;  // local, reverse and single-label names
};

// Streams records in (on the engine's thread), then finish() builds the
// destinations.
class DestinationBuilder {
 public:
  explicit DestinationBuilder(const detect::Networks& internal, DestinationLimits limits = {});

  void on_conn(const flow::ConnRecord& r);
  void on_record(const analyzers::Record& r);
  // Live: connections are tied to processes while they stream in.
  void set_attribution(const live::AttributionIndex* index) { attribution_ = index; }
  // Asked only when a destination's domains or URLs are full: true keeps the
  // value anyway (up to twice the cap), so a capture cannot hide a listed
  // domain or URL behind many harmless ones.
  void set_watch(std::function<bool(std::string_view value, bool is_url)> watch) { watch_ = std::move(watch); }

  // Names looked up but never connected to become destinations; domains
  // resolved to a connected address are attached to it. Call once.
  std::vector<Destination> finish();

  // Findings whose actor, victims or evidence name a destination (its
  // address, one of its domains, or a connection to it). Call after finish()
  // with the destinations it returned.
  void attach_findings(const std::vector<detect::Finding>& findings, std::vector<Destination>& dests) const;

  const DestinationCounters& counters() const { return counters_; }
  bool is_external(const core::IpAddress& a) const;

 private:
  struct NameInfo {
    CappedSet<core::IpAddress> addresses;
    CappedSet<std::string> cnames;
    std::string rcode;
    uint64_t lookups = 0;
    core::Timestamp first{INT64_MAX}, last{INT64_MIN};
    CappedSet<core::IpAddress> clients;
  };
  Destination* peer(const core::IpAddress& a);
  void add_domain(const core::IpAddress& a, std::string_view name);
  void add_name(Destination& d, const std::string& name, bool is_url);

  const detect::Networks& internal_;
  DestinationLimits limits_;
  std::map<core::IpAddress, Destination> dests_;
  std::unordered_map<std::string, NameInfo> names_;
  std::unordered_map<std::string, core::IpAddress> uid_peer_;
  const live::AttributionIndex* attribution_ = nullptr;
  std::function<bool(std::string_view, bool)> watch_;
  DestinationCounters counters_;
};

// Enrichment, applied per destination (the command does the lookups).
void add_intel_matches(Destination& d, std::string_view matched, const std::vector<intel::Match>& matches);
void add_otx_verdict(Destination& d, const intel::OtxVerdict& v);

// Host name of an HTTP Host header or SNI: lower-case, port and trailing dot
// removed; empty if it is an address literal or not a plausible name.
std::string clean_host(std::string_view host);
// OTX kind for a name: "domain" for a registrable-looking two-label name,
// "hostname" for longer ones.
intel::OtxKind otx_kind_for_name(std::string_view name);

// Score, verdict and reasons from intel, OTX and findings (docs/check.md).
void judge(Destination& d);
// Most suspicious first: verdict, score, bytes, then key (deterministic).
void sort_destinations(std::vector<Destination>& dests);

// Output records (docs/schema/destinations.schema.json, docs/check.md).
void append_destination_json(const Destination& d, std::string& out);
std::string destinations_csv_header();
void append_destination_csv(const Destination& d, std::string& out);
std::string locations_csv_header();
void append_location_csv(const Destination& d, std::string& out);  // address destinations only
std::string suspicious_csv_header();
void append_suspicious_csv(const Destination& d, std::string& out);
// RFC 4180 field: quoted when it holds a comma, quote, CR or LF.
void append_csv_field(std::string& out, std::string_view field);

}  // namespace trawl::app

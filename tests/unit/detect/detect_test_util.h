// Builders for synthetic record sequences on a controlled clock, for
// detector unit tests. Times are seconds from an arbitrary epoch (T0).
#pragma once

#include <string>
#include <vector>

#include "analyzers/common/auth_record.h"
#include "core/ip_address.h"
#include "detect/detector.h"
#include "flow/conn_record.h"
#include "output/records.h"

namespace trawl::detect::testing {

constexpr int64_t kT0 = 1700000000;  // 2023-11-14

inline core::Timestamp at(double seconds_after_t0) {
  return core::Timestamp{kT0 * core::kNsPerSec + static_cast<int64_t>(seconds_after_t0 * 1e9)};
}

inline core::IpAddress ip(const char* text) { return *core::IpAddress::parse(text); }

// A connection record; uid is "C" + a counter so evidence is predictable.
struct ConnBuilder {
  flow::ConnRecord r;
  ConnBuilder(double t, const char* orig, uint16_t orig_p, const char* resp, uint16_t resp_p, uint8_t proto = 6) {
    static uint64_t counter = 0;
    r.ts = at(t);
    r.last_ts = r.ts;
    r.first_index = ++counter;
    r.uid = "Ctest" + std::to_string(counter);
    r.orig_h = ip(orig);
    r.resp_h = ip(resp);
    r.orig_p = orig_p;
    r.resp_p = resp_p;
    r.proto = proto;
  }
  ConnBuilder& state(flow::ConnState s, const char* history) {
    r.conn_state = s;
    r.history = history;
    return *this;
  }
  ConnBuilder& bytes(uint64_t orig, uint64_t resp) {
    r.orig_bytes = orig;
    r.resp_bytes = resp;
    return *this;
  }
  ConnBuilder& pkts(uint64_t orig, uint64_t resp) {
    r.orig_pkts = orig;
    r.resp_pkts = resp;
    return *this;
  }
  ConnBuilder& flags(uint8_t first, uint8_t orig_all, uint8_t resp_all) {
    r.orig_first_flags = first;
    r.orig_flags = orig_all;
    r.resp_flags = resp_all;
    return *this;
  }
  ConnBuilder& duration(double s) {
    r.duration_ns = static_cast<int64_t>(s * 1e9);
    r.has_duration = true;
    r.last_ts = r.ts + r.duration_ns;
    return *this;
  }
  ConnBuilder& service(const char* s) {
    r.service = s;
    return *this;
  }
  operator const flow::ConnRecord&() const { return r; }
};

inline output::ArpRecord arp_request(double t, const char* sender, const char* target) {
  output::ArpRecord a;
  a.ts = at(t);
  a.op = 1;
  a.sender_ip = ip(sender);
  a.target_ip = ip(target);
  a.sender_mac = {0x02, 0, 0, 0, 0, 1};
  a.src_mac = a.sender_mac;
  return a;
}

inline analyzers::AuthRecord auth(double t, const char* client, const char* server, uint16_t port, const char* proto,
                                  const char* user, analyzers::AuthOutcome outcome) {
  static uint64_t counter = 0;
  analyzers::AuthRecord a;
  a.ts = at(t);
  a.uid = "Cauth" + std::to_string(++counter);
  a.first_index = counter;
  a.client = ip(client);
  a.client_port = static_cast<uint16_t>(40000 + counter % 20000);
  a.server = ip(server);
  a.server_port = port;
  a.proto = proto;
  a.user = user;
  a.outcome = outcome;
  return a;
}

// Runs the named detector over a prepared sequence.
struct Run {
  Config config;
  std::unique_ptr<DetectorSet> set;
  explicit Run(const std::string& detector, std::vector<std::string> overrides = {}) {
    for (const auto& kv : overrides) {
      std::string err;
      config.parse_override(kv, err);
    }
    set = std::make_unique<DetectorSet>(config, std::vector<std::string>{detector});
  }
  std::vector<Finding> finish() { return set->finish(); }
};

inline std::vector<const Finding*> with_id(const std::vector<Finding>& fs, const std::string& id) {
  std::vector<const Finding*> out;
  for (const auto& f : fs) {
    if (f.id == id) out.push_back(&f);
  }
  return out;
}

}  // namespace trawl::detect::testing

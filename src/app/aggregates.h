// Aggregates over connection records: host pairs (talkers), hosts, services.
// Fed from conn records only, so they work the same over stored records.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/hash.h"
#include "core/ip_address.h"
#include "flow/conn_record.h"

namespace trawl::app {

struct IpHash {
  size_t operator()(const core::IpAddress& a) const {
    return static_cast<size_t>(core::hash_bytes(a.bytes().data(), 16, a.is_v4() ? 4 : 6));
  }
};

struct TalkerRow {
  core::IpAddress a;  // the lower address of the pair
  core::IpAddress b;
  uint64_t bytes_a_to_b = 0;  // IP bytes
  uint64_t bytes_b_to_a = 0;
  uint64_t packets = 0;
  uint64_t connections = 0;
  uint64_t bytes() const { return bytes_a_to_b + bytes_b_to_a; }
};

class Talkers {
 public:
  void add(const flow::ConnRecord& r);
  // Sorted by bytes (desc), then addresses; at most n rows (0: all).
  std::vector<TalkerRow> top(size_t n) const;

 private:
  struct PairHash {
    size_t operator()(const std::pair<core::IpAddress, core::IpAddress>& p) const {
      return IpHash{}(p.first) * 31 + IpHash{}(p.second);
    }
  };
  std::unordered_map<std::pair<core::IpAddress, core::IpAddress>, TalkerRow, PairHash> pairs_;
};

struct HostRow {
  core::IpAddress ip;
  uint64_t pkts_sent = 0;
  uint64_t bytes_sent = 0;  // IP bytes
  uint64_t pkts_recv = 0;
  uint64_t bytes_recv = 0;
  uint64_t conns_orig = 0;  // connections this host originated
  uint64_t conns_resp = 0;  // connections this host answered/was targeted by
  core::Timestamp first;
  core::Timestamp last;
  bool internal = false;
};

class Hosts {
 public:
  explicit Hosts(std::vector<core::IpNetwork> home_net) : home_net_(std::move(home_net)) {}
  void add(const flow::ConnRecord& r);
  // Sorted by total bytes (desc), then address.
  std::vector<HostRow> rows() const;
  bool is_internal(const core::IpAddress& a) const;

 private:
  HostRow& row(const core::IpAddress& a);
  std::vector<core::IpNetwork> home_net_;
  std::unordered_map<core::IpAddress, HostRow, IpHash> hosts_;
};

struct ServiceRow {
  std::string name;  // analyzer service, or "tcp/443" style when unknown
  uint64_t connections = 0;
  uint64_t bytes = 0;
};

class Services {
 public:
  void add(const flow::ConnRecord& r);
  std::vector<ServiceRow> top(size_t n) const;

 private:
  std::unordered_map<std::string, ServiceRow> rows_;
};

std::string human_bytes(uint64_t n);

}  // namespace trawl::app

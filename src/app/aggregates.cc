#include "app/aggregates.h"

#include <algorithm>
#include <cstdio>

namespace trawl::app {

void Talkers::add(const flow::ConnRecord& r) {
  bool orig_first = r.orig_h <= r.resp_h;
  auto key = orig_first ? std::make_pair(r.orig_h, r.resp_h) : std::make_pair(r.resp_h, r.orig_h);
  TalkerRow& t = pairs_[key];
  t.a = key.first;
  t.b = key.second;
  if (orig_first) {
    t.bytes_a_to_b += r.orig_ip_bytes;
    t.bytes_b_to_a += r.resp_ip_bytes;
  } else {
    t.bytes_a_to_b += r.resp_ip_bytes;
    t.bytes_b_to_a += r.orig_ip_bytes;
  }
  t.packets += r.orig_pkts + r.resp_pkts;
  t.connections += 1;
}

std::vector<TalkerRow> Talkers::top(size_t n) const {
  std::vector<TalkerRow> rows;
  rows.reserve(pairs_.size());
  for (const auto& [k, v] : pairs_) rows.push_back(v);
  auto cmp = [](const TalkerRow& x, const TalkerRow& y) {
    if (x.bytes() != y.bytes()) return x.bytes() > y.bytes();
    if (x.a != y.a) return x.a < y.a;
    return x.b < y.b;
  };
  if (n != 0 && n < rows.size()) {
    std::partial_sort(rows.begin(), rows.begin() + static_cast<ptrdiff_t>(n), rows.end(), cmp);
    rows.resize(n);
  } else {
    std::sort(rows.begin(), rows.end(), cmp);
  }
  return rows;
}

bool Hosts::is_internal(const core::IpAddress& a) const {
  if (home_net_.empty()) return a.is_private();
  return std::any_of(home_net_.begin(), home_net_.end(), [&](const auto& n) { return n.contains(a); });
}

HostRow& Hosts::row(const core::IpAddress& a) {
  auto [it, fresh] = hosts_.try_emplace(a);
  if (fresh) {
    it->second.ip = a;
    it->second.internal = is_internal(a);
  }
  return it->second;
}

void Hosts::add(const flow::ConnRecord& r) {
  auto touch = [&](HostRow& h) {
    if (h.conns_orig + h.conns_resp == 0 || r.ts < h.first) h.first = r.ts;
    if (h.conns_orig + h.conns_resp == 0 || r.last_ts > h.last) h.last = r.last_ts;
  };
  HostRow& o = row(r.orig_h);
  touch(o);
  o.pkts_sent += r.orig_pkts;
  o.bytes_sent += r.orig_ip_bytes;
  o.pkts_recv += r.resp_pkts;
  o.bytes_recv += r.resp_ip_bytes;
  o.conns_orig += 1;
  HostRow& p = row(r.resp_h);
  touch(p);
  p.pkts_sent += r.resp_pkts;
  p.bytes_sent += r.resp_ip_bytes;
  p.pkts_recv += r.orig_pkts;
  p.bytes_recv += r.orig_ip_bytes;
  p.conns_resp += 1;
}

std::vector<HostRow> Hosts::rows() const {
  std::vector<HostRow> out;
  out.reserve(hosts_.size());
  for (const auto& [k, v] : hosts_) out.push_back(v);
  std::sort(out.begin(), out.end(), [](const HostRow& x, const HostRow& y) {
    uint64_t bx = x.bytes_sent + x.bytes_recv, by = y.bytes_sent + y.bytes_recv;
    if (bx != by) return bx > by;
    return x.ip < y.ip;
  });
  return out;
}

void Services::add(const flow::ConnRecord& r) {
  std::string name = r.service;
  if (name.empty()) {
    name = flow::proto_name(r.proto);
    if (r.proto == 6 || r.proto == 17) name += "/" + std::to_string(r.resp_p);
  }
  ServiceRow& s = rows_[name];
  s.name = name;
  s.connections += 1;
  s.bytes += r.orig_ip_bytes + r.resp_ip_bytes;
}

std::vector<ServiceRow> Services::top(size_t n) const {
  std::vector<ServiceRow> out;
  for (const auto& [k, v] : rows_) out.push_back(v);
  std::sort(out.begin(), out.end(), [](const ServiceRow& x, const ServiceRow& y) {
    if (x.connections != y.connections) return x.connections > y.connections;
    return x.name < y.name;
  });
  if (n != 0 && out.size() > n) out.resize(n);
  return out;
}

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(n);
  size_t u = 0;
  while (v >= 1000.0 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1000.0;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace trawl::app

#include "live/attribution.h"

#include <netinet/in.h>
#include <pwd.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <tuple>
#include <unordered_map>

#include "core/hash.h"
#include "live/proc_map.h"
#include "live/sock_diag.h"
#include "output/json_line.h"

namespace trawl::live {

namespace {

constexpr size_t kMaxRecords = 1'000'000;
// fd entries read per call: a full poll may sweep a large host over several
// polls; a new flow gets a quick look (new processes first).
constexpr size_t kPollFdBudget = 20'000;
constexpr size_t kFlowFdBudget = 4'000;
// Fallback when exact lookups are refused: at most one full dump per 5 ms.
constexpr int64_t kDumpFallbackGapNs = 5'000'000;
// A burst of new flows reads /proc at most once per 2 ms; the rest wait for
// the next poll.
constexpr int64_t kFlowResolveGapNs = 2'000'000;

constexpr char kPending[] = "pending";
constexpr char kResolved[] = "sock_diag+proc";
constexpr char kNoInode[] = "no inode (time-wait, or not accepted yet)";

struct KeyHash {
  size_t operator()(const SocketKey& k) const {
    uint8_t buf[38];
    buf[0] = k.proto;
    buf[1] = static_cast<uint8_t>(k.local.is_v4() ? 4 : 6);
    std::memcpy(buf + 2, k.local.bytes().data(), 16);
    std::memcpy(buf + 18, k.remote.bytes().data(), 16);
    std::memcpy(buf + 34, &k.local_port, 2);
    std::memcpy(buf + 36, &k.remote_port, 2);
    return static_cast<size_t>(core::hash_bytes(buf, sizeof buf));
  }
};
struct KeyEq {
  bool operator()(const SocketKey& a, const SocketKey& b) const {
    return a.proto == b.proto && a.local_port == b.local_port && a.remote_port == b.remote_port &&
           a.local == b.local && a.remote == b.remote;
  }
};

// 0.0.0.0 or :: (IPv4 is held as ::ffff:a.b.c.d, so only its wire bytes count).
bool is_unspecified(const core::IpAddress& a) {
  const uint8_t* p = a.wire_data();
  for (size_t i = 0; i < a.wire_size(); ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

std::string user_name(uint32_t uid) {
  std::vector<char> buf(16 * 1024);
  for (int attempt = 0; attempt < 4; ++attempt) {
    passwd pw{};
    passwd* result = nullptr;
    int rc = ::getpwuid_r(static_cast<uid_t>(uid), &pw, buf.data(), buf.size(), &result);
    if (rc == ERANGE) {
      buf.resize(buf.size() * 4);
      continue;
    }
    if (rc == 0 && result && result->pw_name) return result->pw_name;
    break;
  }
  return std::to_string(uid);
}

}  // namespace

struct Attributor::Impl {
  SockDiag diag;
  ProcMap procs;
  std::deque<Attribution> recs;
  uint64_t base_id = 0;  // id of recs.front()
  std::unordered_map<uint64_t, uint64_t> by_inode;             // inode -> id
  std::unordered_map<SocketKey, uint64_t, KeyHash, KeyEq> by_key;  // latest id per key
  std::vector<uint64_t> unresolved;  // inodes waiting for ProcMap
  std::unordered_map<uint32_t, std::string> users;
  int64_t last_dump_fallback_ns = INT64_MIN;
  int64_t last_flow_resolve_ns = INT64_MIN;
  std::vector<SockEntry> entries;
  std::vector<Resolution> resolutions;

  Attribution* rec(uint64_t id) {
    if (id < base_id || id - base_id >= recs.size()) return nullptr;
    return &recs[static_cast<size_t>(id - base_id)];
  }

  const std::string& user(uint32_t uid) {
    auto it = users.find(uid);
    if (it == users.end()) it = users.emplace(uid, user_name(uid)).first;
    return it->second;
  }

  void drop_oldest() {
    const Attribution& old = recs.front();
    auto ki = by_key.find(old.key);
    if (ki != by_key.end() && ki->second == base_id) by_key.erase(ki);
    auto ii = by_inode.find(old.inode);
    if (ii != by_inode.end() && ii->second == base_id) by_inode.erase(ii);
    recs.pop_front();
    ++base_id;
  }

  void add(const SockEntry& e, core::Timestamp now) {
    if (recs.size() >= kMaxRecords) drop_oldest();
    Attribution a;
    a.key = SocketKey{e.proto, e.local, e.local_port, e.remote, e.remote_port};
    a.inode = e.inode;
    a.process.uid = e.uid;
    a.process.user = user(e.uid);
    a.first_seen = now;
    a.last_seen = now;
    a.how = e.inode ? kPending : kNoInode;
    uint64_t id = base_id + recs.size();
    recs.push_back(std::move(a));
    by_key[recs.back().key] = id;
    if (e.inode) {
      by_inode[e.inode] = id;
      unresolved.push_back(e.inode);
    }
  }

  // One sighting of a kernel socket: extends the record of the same socket
  // or starts a new one (port reuse gives a new inode on the same tuple).
  void upsert(const SockEntry& e, core::Timestamp now) {
    SocketKey key{e.proto, e.local, e.local_port, e.remote, e.remote_port};
    if (e.inode) {
      auto ii = by_inode.find(e.inode);
      if (ii != by_inode.end()) {
        Attribution* r = rec(ii->second);
        if (r && KeyEq{}(r->key, key)) {
          r->last_seen = std::max(r->last_seen, now);
          return;
        }
        // The same socket under a new tuple (a UDP socket that connected):
        // a new record, the old one keeps its own times.
      }
    }
    auto ki = by_key.find(key);
    if (ki != by_key.end()) {
      Attribution* r = rec(ki->second);
      if (r && (e.inode == 0 || r->inode == e.inode)) {
        // Time-wait and not-yet-accepted sockets have no inode: the same
        // connection as the record that had one.
        r->last_seen = std::max(r->last_seen, now);
        return;
      }
      if (r && r->inode == 0 && r->process.pid == 0) {
        // Seen first without a file (accept() came later): now it has one.
        r->inode = e.inode;
        r->how = kPending;
        r->last_seen = std::max(r->last_seen, now);
        by_inode[e.inode] = ki->second;
        unresolved.push_back(e.inode);
        return;
      }
    }
    add(e, now);
  }

  void resolve(size_t budget) {
    if (unresolved.empty() && procs.pending() == 0) return;
    resolutions.clear();
    procs.resolve(unresolved, budget, resolutions);
    unresolved.clear();
    for (Resolution& r : resolutions) {
      auto ii = by_inode.find(r.inode);
      if (ii == by_inode.end()) continue;
      Attribution* a = rec(ii->second);
      if (!a) continue;
      if (r.found) {
        uint32_t uid = a->process.uid;
        std::string name = std::move(a->process.user);
        a->process = std::move(r.process);
        a->process.uid = uid;
        a->process.user = std::move(name);
        a->how = kResolved;
      } else {
        a->how = std::move(r.how);
      }
    }
  }
};

Attributor::Attributor() : impl_(std::make_unique<Impl>()) {}
Attributor::~Attributor() = default;

bool Attributor::poll(core::Timestamp now, std::string& error) {
  Impl& m = *impl_;
  if (!m.diag.open(error)) return false;
  m.entries.clear();
  for (uint8_t proto : {uint8_t{6}, uint8_t{17}}) {
    for (int family : {AF_INET, AF_INET6}) {
      std::string err;
      if (!m.diag.dump(proto, family, m.entries, err)) {
        // TCP is the minimum; a kernel without udp_diag still attributes TCP.
        if (proto == 6) {
          error = err;
          return false;
        }
      }
    }
  }
  for (const SockEntry& e : m.entries) m.upsert(e, now);
  m.resolve(kPollFdBudget);
  return true;
}

void Attributor::on_new_flow(uint8_t proto, const core::IpAddress& a, uint16_t a_port, const core::IpAddress& b,
                             uint16_t b_port, core::Timestamp now) {
  Impl& m = *impl_;
  if (proto != 6 && proto != 17) return;
  std::string err;
  if (!m.diag.open(err)) return;
  m.entries.clear();
  bool ok = m.diag.lookup(proto, a, a_port, b, b_port, m.entries, err) &&
            m.diag.lookup(proto, b, b_port, a, a_port, m.entries, err);
  if (!ok && now - core::Timestamp{m.last_dump_fallback_ns} >= kDumpFallbackGapNs) {
    m.last_dump_fallback_ns = now.ns;
    m.entries.clear();
    for (int family : {AF_INET, AF_INET6}) m.diag.dump(proto, family, m.entries, err);
  }
  for (const SockEntry& e : m.entries) m.upsert(e, now);
  if (!m.unresolved.empty() && now - core::Timestamp{m.last_flow_resolve_ns} >= kFlowResolveGapNs) {
    m.last_flow_resolve_ns = now.ns;
    m.resolve(kFlowFdBudget);
  }
}

std::vector<Attribution> Attributor::all() const {
  std::vector<Attribution> out(impl_->recs.begin(), impl_->recs.end());
  for (Attribution& a : out) {
    if (a.how == kPending) a.how = "unresolved (/proc not fully read before the end)";
  }
  return out;
}

// ---------------------------------------------------------------------------

namespace {

auto index_key(const Attribution& a) {
  return std::tie(a.key.proto, a.key.local_port, a.key.remote_port);
}

int64_t distance(const Attribution& a, core::Timestamp ts) {
  if (ts < a.first_seen) return a.first_seen - ts;
  if (ts > a.last_seen) return ts - a.last_seen;
  return 0;
}

}  // namespace

AttributionIndex::AttributionIndex(std::vector<Attribution> all) : all_(std::move(all)) {
  order_.resize(all_.size());
  for (uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
  std::sort(order_.begin(), order_.end(),
            [this](uint32_t x, uint32_t y) { return index_key(all_[x]) < index_key(all_[y]); });
}

const Attribution* AttributionIndex::find(uint8_t proto, const core::IpAddress& orig, uint16_t orig_port,
                                          const core::IpAddress& resp, uint16_t resp_port,
                                          core::Timestamp ts) const {
  const Attribution* best = nullptr;
  int64_t best_d = 0;
  int best_rank = 0;
  auto consider = [&](const Attribution& a, int rank) {
    int64_t d = distance(a, ts);
    if (!best || d < best_d || (d == best_d && rank < best_rank)) {
      best = &a;
      best_d = d;
      best_rank = rank;
    }
  };
  // Calls fn on every socket with these ports.
  auto each = [&](uint16_t local_port, uint16_t remote_port, auto&& fn) {
    using Tup = std::tuple<uint8_t, uint16_t, uint16_t>;
    struct Cmp {
      const std::vector<Attribution>& all;
      bool operator()(uint32_t x, const Tup& t) const { return index_key(all[x]) < t; }
      bool operator()(const Tup& t, uint32_t x) const { return t < index_key(all[x]); }
    };
    auto range = std::equal_range(order_.begin(), order_.end(), Tup{proto, local_port, remote_port}, Cmp{all_});
    for (auto it = range.first; it != range.second; ++it) fn(all_[*it]);
  };

  // The connection's own socket, on the originator's side (rank 0: a local
  // client) or the responder's (rank 1: a local server).
  each(orig_port, resp_port, [&](const Attribution& a) {
    if (a.key.local == orig && a.key.remote == resp) consider(a, 0);
  });
  each(resp_port, orig_port, [&](const Attribution& a) {
    if (a.key.local == resp && a.key.remote == orig) consider(a, 1);
  });
  if (best) return best;
  // Unconnected sockets: an unconnected UDP socket, or a TCP listener whose
  // accepted socket was never seen; an exact local address before a wildcard.
  auto wildcard = [&](const core::IpAddress& local, uint16_t port, int rank) {
    each(port, 0, [&](const Attribution& a) {
      if (!is_unspecified(a.key.remote)) return;
      if (a.key.local == local) {
        consider(a, rank);
      } else if (is_unspecified(a.key.local) && a.key.local.is_v4() == local.is_v4()) {
        consider(a, rank + 1);
      } else if (is_unspecified(a.key.local)) {
        consider(a, rank + 2);  // a dual-stack socket bound to ::
      }
    });
  };
  wildcard(orig, orig_port, 2);
  wildcard(resp, resp_port, 5);
  return best;
}

void append_attribution_json(const Attribution& a, std::string& out) {
  output::JsonLine j(out);
  j.raw("ts", core::format_epoch_micros(a.first_seen))
      .raw("last_seen", core::format_epoch_micros(a.last_seen))
      .str("proto", a.key.proto == 6 ? "tcp" : a.key.proto == 17 ? "udp" : std::to_string(a.key.proto))
      .str("local_addr", a.key.local.to_string())
      .u64("local_port", a.key.local_port)
      .str("remote_addr", a.key.remote.to_string())
      .u64("remote_port", a.key.remote_port)
      .u64("inode", a.inode)
      .i64("pid", a.process.pid)
      .str("exe", a.process.exe)
      .str("cmdline", a.process.cmdline)
      .u64("uid", a.process.uid)
      .str("user", a.process.user)
      .str("how", a.how);
  j.end();
}

}  // namespace trawl::live

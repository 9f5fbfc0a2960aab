// FlowTable: connections live in a slab of fixed entries (chunks of 4096,
// allocated as the table grows, reused through a free list), found through
// an open-addressing index (linear probing, 8-byte slots holding 32 bits of
// the hash and the entry number, backward-shift deletion so there are no
// tombstones). Each entry sits on one intrusive doubly linked list per timer
// class; every class has a single delay and packet time never goes
// backwards, so appending keeps each list sorted by deadline and expiry
// pops list heads: O(expired), not O(table).
#include "flow/flow_table.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "core/hash.h"
#include "flow/app_stream.h"
#include "flow/conn_uid.h"
#include "flow/connection.h"

namespace trawl::flow {

namespace {

const core::AnomalyId kEvicted{"flow.evicted"};
const core::AnomalyId kBackwards{"flow.timestamp_backwards"};
const core::AnomalyId kNoTransport{"flow.truncated_transport_header"};

constexpr uint32_t kNil = UINT32_MAX;
constexpr uint8_t kNoList = UINT8_MAX;
constexpr uint32_t kChunkBits = 12;
constexpr uint32_t kChunkSize = 1u << kChunkBits;
constexpr size_t kClasses = static_cast<size_t>(TimerClass::kCount);

struct Entry {
  int64_t deadline = kNever;
  uint32_t prev = kNil;
  uint32_t next = kNil;  // also the free-list link
  uint8_t list = kNoList;
  // UDP: the application layer was freed as disposable; do not make another.
  bool app_closed = false;
  Connection conn;
  std::unique_ptr<AppStream> app;  // from the first payload byte on (TCP/UDP)
};

struct Slot {
  uint32_t tag = 0;  // low 32 bits of the key hash (the home slot comes from them)
  uint32_t idx = 0;  // entry number + 1; 0 = empty
};

struct List {
  uint32_t head = kNil;
  uint32_t tail = kNil;
};

}  // namespace

struct FlowTable::Impl {
  FlowConfig cfg;
  core::Anomalies& anomalies;
  ConnSink sink;

  std::vector<std::unique_ptr<Entry[]>> chunks;
  uint32_t fresh = 0;  // entries [0, fresh) have been handed out at least once
  uint32_t free_head = kNil;
  uint64_t live = 0;
  uint64_t evicted = 0;
  uint64_t max_flows;

  std::vector<Slot> slots;
  uint32_t mask = 0;
  List lists[kClasses];
  int64_t now = INT64_MIN;
  KeySeed seed;
  ReassemblyBudget budget;
  StreamEnv env;  // what every AppStream of this table shares

  Impl(FlowConfig c, core::Anomalies& a, ConnSink s)
      : cfg(c), anomalies(a), sink(std::move(s)), max_flows(std::clamp<uint64_t>(c.max_flows, 1, kNil - 1)) {
    uint64_t want = std::max<uint64_t>(1, std::min(cfg.initial_flows, max_flows));
    size_t cap = 32;
    while (cap < want * 2) cap <<= 1;
    slots.assign(cap, Slot{});
    mask = static_cast<uint32_t>(cap - 1);
    while (static_cast<uint64_t>(chunks.size()) * kChunkSize < want) add_chunk();
    std::random_device rd;
    for (uint64_t& w : seed.s) w = (uint64_t{rd()} << 32) ^ rd();
    budget.max_bytes = cfg.reassembly_budget_bytes;
    env.budget = &budget;
    env.anomalies = &anomalies;
    env.limits = cfg.reassembly;
  }

  Entry& at(uint32_t i) { return chunks[i >> kChunkBits][i & (kChunkSize - 1)]; }

  void add_chunk() { chunks.push_back(std::make_unique<Entry[]>(kChunkSize)); }

  uint32_t alloc() {
    if (free_head != kNil) {
      uint32_t i = free_head;
      free_head = at(i).next;
      return i;
    }
    if (fresh == chunks.size() * kChunkSize) add_chunk();
    return fresh++;
  }

  // --- index -----------------------------------------------------------------

  size_t find(uint64_t hash, const FlowKey& key) {
    auto tag = static_cast<uint32_t>(hash);
    for (size_t pos = tag & mask;; pos = (pos + 1) & mask) {
      const Slot& s = slots[pos];
      if (s.idx == 0) return SIZE_MAX;
      if (s.tag == tag && at(s.idx - 1).conn.key() == key) return pos;
    }
  }

  size_t find_entry(uint32_t idx) {
    auto tag = static_cast<uint32_t>(hash_key(at(idx).conn.key(), seed));
    for (size_t pos = tag & mask;; pos = (pos + 1) & mask) {
      if (slots[pos].idx == idx + 1) return pos;
    }
  }

  void insert_slot(uint32_t tag, uint32_t idx) {
    size_t pos = tag & mask;
    while (slots[pos].idx != 0) pos = (pos + 1) & mask;
    slots[pos] = Slot{tag, idx + 1};
  }

  void erase_slot(size_t hole) {
    // Backward-shift deletion: pull later members of the probe run into the
    // hole when their home slot does not lie cyclically in (hole, j].
    size_t j = hole;
    for (;;) {
      j = (j + 1) & mask;
      if (slots[j].idx == 0) break;
      size_t home = slots[j].tag & mask;
      bool stays = (hole <= j) ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!stays) {
        slots[hole] = slots[j];
        hole = j;
      }
    }
    slots[hole] = Slot{};
  }

  void grow_index() {
    std::vector<Slot> old;
    old.swap(slots);
    slots.assign(old.size() * 2, Slot{});
    mask = static_cast<uint32_t>(slots.size() - 1);
    for (const Slot& s : old) {
      if (s.idx != 0) insert_slot(s.tag, s.idx - 1);
    }
  }

  // --- timer lists -------------------------------------------------------------

  void unlink(uint32_t i) {
    Entry& e = at(i);
    if (e.list == kNoList) return;
    List& l = lists[e.list];
    if (e.prev != kNil) {
      at(e.prev).next = e.next;
    } else {
      l.head = e.next;
    }
    if (e.next != kNil) {
      at(e.next).prev = e.prev;
    } else {
      l.tail = e.prev;
    }
    e.prev = e.next = kNil;
    e.list = kNoList;
  }

  void link_sorted(uint32_t i, uint8_t list_id, int64_t deadline) {
    Entry& e = at(i);
    List& l = lists[list_id];
    e.list = list_id;
    e.deadline = deadline;
    // Nearly always the tail; walk back only if a deadline moved earlier.
    uint32_t after = l.tail;
    while (after != kNil && at(after).deadline > deadline) after = at(after).prev;
    e.prev = after;
    e.next = after == kNil ? l.head : at(after).next;
    if (e.prev != kNil) {
      at(e.prev).next = i;
    } else {
      l.head = i;
    }
    if (e.next != kNil) {
      at(e.next).prev = i;
    } else {
      l.tail = i;
    }
  }

  void reschedule(uint32_t i) {
    Entry& e = at(i);
    int64_t deadline = kNever;
    auto cls = static_cast<uint8_t>(e.conn.timer(cfg, deadline));
    if (cls == e.list && deadline == e.deadline) return;
    if (cls == e.list && e.next == kNil && deadline >= e.deadline) {
      // Already last on its list and only later now: the list stays sorted
      // (link_sorted would put it back in the same place).
      e.deadline = deadline;
      return;
    }
    unlink(i);
    link_sorted(i, cls, deadline);
  }

  // --- emitting ----------------------------------------------------------------

  void emit_and_free(uint32_t i, size_t pos) {
    Entry& e = at(i);
    ConnRecord rec;
    std::string uid;
    if (e.app) {
      // Close the streams first: their last holes count as missed bytes.
      e.app->close(e.conn.last_time());
      drain_gaps(e);
      // finish() only fills rec.service (to_record leaves it alone) and may
      // still need the uid; the conn record then takes it over.
      e.app->finish(e.conn.last_time(), rec);
      uid = e.app->take_uid();
      e.app.reset();
    }
    e.app_closed = false;
    e.conn.to_record(rec, &uid);
    unlink(i);
    erase_slot(pos);
    e.deadline = kNever;
    e.next = free_head;
    free_head = i;
    --live;
    sink(std::move(rec));
  }

  // The list head that expires first (ties: lower class number).
  uint32_t earliest_head() {
    uint32_t best = kNil;
    int64_t best_deadline = kNever;
    for (const List& l : lists) {
      if (l.head != kNil && (best == kNil || at(l.head).deadline < best_deadline)) {
        best = l.head;
        best_deadline = at(l.head).deadline;
      }
    }
    return best;
  }

  void evict_one() {
    // The least recently active connection: the list heads hold each class's
    // oldest activity; take the one with the smallest last time.
    uint32_t best = kNil;
    int64_t best_last = 0;
    for (const List& l : lists) {
      if (l.head == kNil) continue;
      int64_t last = at(l.head).conn.last_time().ns;
      if (best == kNil || last < best_last) {
        best = l.head;
        best_last = last;
      }
    }
    if (best == kNil) return;
    ++evicted;
    anomalies.add(kEvicted);
    emit_and_free(best, find_entry(best));
  }

  void process(const decode::DecodedPacket& pkt) {
    if (pkt.l3 != decode::L3::kIpv4 && pkt.l3 != decode::L3::kIpv6) return;
    Transport tr = transport_of(pkt.ip_proto);
    if (tr != Transport::kOther && !pkt.has_l4) {
      anomalies.add(kNoTransport);  // Zeek cannot key it either
      return;
    }
    core::Timestamp t = pkt.ts;
    if (t.ns < now) {
      anomalies.add(kBackwards);
      t.ns = now;
    } else {
      now = t.ns;
    }

    PacketKey pk = make_packet_key(pkt);
    uint64_t hash = hash_key(pk.key, seed);
    size_t pos = find(hash, pk.key);
    uint32_t idx = kNil;
    if (pos != SIZE_MAX) {
      idx = slots[pos].idx - 1;
      Entry& e = at(idx);
      // Its timer would have fired before this packet; or a new SYN reuses
      // the 5-tuple: the old connection ends here.
      if (e.deadline <= t.ns || (tr == Transport::kTcp && e.conn.is_tcp_reuse(pkt))) {
        emit_and_free(idx, pos);
        idx = kNil;
      }
    }
    if (idx == kNil) {
      if (live >= max_flows) evict_one();
      if ((live + 1) * 2 > slots.size()) grow_index();
      idx = alloc();
      at(idx).conn.init(pk, pkt, t, cfg);
      insert_slot(static_cast<uint32_t>(hash), idx);
      ++live;
    }
    Entry& e = at(idx);
    e.conn.packet(pkt, pk.src_side, t, cfg);
    if ((tr == Transport::kTcp || tr == Transport::kUdp) && !pkt.bad_checksum) payload(e, pkt, pk.src_side, tr, t);
    reschedule(idx);
  }

  // --- payload: reassembly and the application layer --------------------------

  void payload(Entry& e, const decode::DecodedPacket& pkt, uint8_t side, Transport tr, core::Timestamp t) {
    if (!e.app) {
      if (pkt.payload_len == 0 || e.app_closed) return;
      std::unique_ptr<AppLayer> layer;
      if (cfg.app) {
        ConnInfo info;
        const Connection& c = e.conn;
        const uint8_t o = c.orig_side();
        info.uid = make_conn_uid(c.first_index(), c.key(), c.start_time());
        info.orig_h = key_address(c.key(), o);
        info.resp_h = key_address(c.key(), o ^ 1);
        info.orig_p = c.key().port[o];
        info.resp_p = c.key().port[o ^ 1];
        info.proto = c.key().proto;
        info.first_index = c.first_index();
        info.start = c.start_time();
        layer = cfg.app->create(std::move(info));  // keeps the uid; the conn record takes it back
      }
      if (!layer && tr == Transport::kUdp) return;  // UDP without analyzers needs nothing
      e.app = std::make_unique<AppStream>(std::move(layer), e.conn.orig_side(), env);
    }
    if (tr == Transport::kTcp) {
      // TCP keeps its AppStream when the layer is gone: reassembly still
      // counts missed bytes.
      e.app->tcp_packet(side, pkt, e.conn.tcp_isn(side), t);
      drain_gaps(e);
    } else {
      e.app->datagram(side, pkt.payload, t);
      if (!e.app->has_layer()) {
        // Nothing more to parse and nothing to finish: UDP keeps no state
        // for it (the conn record makes the uid again at the end).
        e.app.reset();
        e.app_closed = true;
      }
    }
  }

  void drain_gaps(Entry& e) {
    for (uint8_t s = 0; s < 2; ++s) {
      uint64_t g = e.app->take_gap(s);
      if (g != 0) e.conn.content_gap(s, g);
    }
  }

  void expire(core::Timestamp t) {
    if (t.ns > now) now = t.ns;
    for (;;) {
      uint32_t i = earliest_head();
      if (i == kNil || at(i).deadline > t.ns) break;
      emit_and_free(i, find_entry(i));
    }
  }

  void flush() {
    // End of input: everything left, in order of first packet, so the output
    // does not depend on table layout.
    std::vector<uint32_t> all;
    all.reserve(live);
    for (const List& l : lists) {
      for (uint32_t i = l.head; i != kNil; i = at(i).next) all.push_back(i);
    }
    std::sort(all.begin(), all.end(), [this](uint32_t a, uint32_t b) {
      const Connection& x = at(a).conn;
      const Connection& y = at(b).conn;
      if (x.first_index() != y.first_index()) return x.first_index() < y.first_index();
      return std::memcmp(&x.key(), &y.key(), sizeof(FlowKey)) < 0;
    });
    for (uint32_t i : all) emit_and_free(i, find_entry(i));
  }
};

FlowTable::FlowTable(FlowConfig config, core::Anomalies& anomalies, ConnSink sink)
    : impl_(std::make_unique<Impl>(config, anomalies, std::move(sink))) {}

FlowTable::~FlowTable() = default;

void FlowTable::process(const decode::DecodedPacket& pkt) { impl_->process(pkt); }
void FlowTable::expire(core::Timestamp now) { impl_->expire(now); }
void FlowTable::flush() { impl_->flush(); }
uint64_t FlowTable::live_flows() const { return impl_->live; }
uint64_t FlowTable::evicted() const { return impl_->evicted; }

namespace {
// Hash of one end of a flow (address and port). Ends are combined by addition,
// which is symmetric, so both directions of a flow give the same value.
inline uint64_t end_hash(const uint8_t* addr16, uint16_t port) {
  uint64_t w0;
  uint64_t w1;
  std::memcpy(&w0, addr16, 8);
  std::memcpy(&w1, addr16 + 8, 8);
  return core::mix64((w0 * 0x9e3779b97f4a7c15ull) ^ (w1 * 0xc2b2ae3d27d4eb4full) ^ (uint64_t{port} << 1));
}
}  // namespace

uint64_t symmetric_flow_hash(const decode::DecodedPacket& pkt) {
  uint16_t px = 0;
  uint16_t py = 0;
  uint64_t proto = 0;
  const uint8_t* x;
  const uint8_t* y;
  uint8_t m1[16] = {};
  uint8_t m2[16] = {};
  if (pkt.l3 == decode::L3::kIpv4 || pkt.l3 == decode::L3::kIpv6) {
    x = pkt.src.bytes().data();
    y = pkt.dst.bytes().data();
    Transport tr = transport_of(pkt.ip_proto);
    if ((tr == Transport::kTcp || tr == Transport::kUdp) && pkt.has_l4) {
      px = pkt.sport;
      py = pkt.dport;
    }
    // ICMP hashes on addresses and protocol so a request and its reply (and
    // errors about the pair) land on the same shard; other protocols on the
    // addresses only.
    if (tr != Transport::kOther) proto = pkt.ip_proto;
  } else if (pkt.l3 == decode::L3::kArp) {
    x = pkt.arp.sender_ip.bytes().data();
    y = pkt.arp.target_ip.bytes().data();
  } else {
    std::memcpy(m1, pkt.src_mac.data(), 6);
    std::memcpy(m2, pkt.dst_mac.data(), 6);
    x = m1;
    y = m2;
  }
  return core::mix64(end_hash(x, px) + end_hash(y, py) + proto);
}

}  // namespace trawl::flow

#include "app/engine.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "analyzers/dispatcher.h"
#include "app/progress.h"
#include "capture/buffer_block.h"
#include "capture/packet_reader.h"

namespace trawl::app {

namespace {

using flow::ConnRecord;
using LogPtr = std::unique_ptr<analyzers::Record>;

// Analyzer records of one flush group, in an order that does not depend on
// the shard: by record time, then connection (first packet index), then the
// connection's own emission order.
void sorted_logs(const std::vector<std::vector<LogPtr>*>& parts, std::vector<const analyzers::Record*>& order) {
  order.clear();
  for (const auto* part : parts) {
    for (const auto& r : *part) order.push_back(r.get());
  }
  std::sort(order.begin(), order.end(), [](const analyzers::Record* a, const analyzers::Record* b) {
    if (a->ts != b->ts) return a->ts < b->ts;
    if (a->first_index != b->first_index) return a->first_index < b->first_index;
    return a->seq < b->seq;
  });
}

// Orders one flush group: by first packet time, then by first packet index
// (unique per connection), so the order never depends on which shard ran it.
// Sorts pointers: records are large and moving them showed in profiles.
void sorted_view(const std::vector<const std::vector<ConnRecord>*>& parts, std::vector<const ConnRecord*>& order) {
  order.clear();
  for (const auto* part : parts) {
    for (const auto& r : *part) order.push_back(&r);
  }
  std::sort(order.begin(), order.end(), [](const ConnRecord* a, const ConnRecord* b) {
    if (a->ts != b->ts) return a->ts < b->ts;
    return a->first_index < b->first_index;
  });
}

// A bounded blocking queue between the reading thread and one worker.
template <typename T>
class Channel {
 public:
  explicit Channel(size_t capacity) : capacity_(capacity) {}
  void push(T item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_; });
    items_.push_back(std::move(item));
    not_empty_.notify_one();
  }
  T pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !items_.empty(); });
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }
  bool try_pop(T& out) {
    std::lock_guard lock(mu_);
    if (items_.empty()) return false;
    out = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<T> items_;
  size_t capacity_;
};

struct Batch {
  std::vector<decode::DecodedPacket> packets;
  // TCP/UDP payload stays in the reader's buffers: the batch holds a reference
  // to each buffer its packets point into, so the reader moves to fresh ones
  // rather than overwrite them. Payload that is not in a reader buffer (a
  // reassembled IP datagram, a held-back packet) is copied into bytes, and
  // packets[i].payload is re-pointed at copied_off[i] by the worker.
  std::vector<capture::BlockRef> blocks;
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> copied;      // indexes of packets whose payload is in bytes
  std::vector<uint32_t> copied_off;
  std::vector<output::ArpRecord> arp;  // shard 0 only: the group's ARP records, passed through
  bool tick = false;  // after the packets, expire at tick_ts and report
  core::Timestamp tick_ts;
  bool end = false;   // after the packets, flush everything and report
};

struct Report {
  std::vector<output::ArpRecord> arp;
  std::vector<ConnRecord> records;
  std::vector<LogPtr> logs;
  bool end = false;
};

flow::FlowConfig with_app(flow::FlowConfig cfg, flow::AppLayerFactory* app) {
  cfg.app = app;
  return cfg;
}

struct Worker {
  Worker(const EngineOptions& options)
      : factory(options.analyzer, anomalies, pending_logs),
        table(with_app(options.flow, options.analyzers ? &factory : nullptr), anomalies,
              [this](ConnRecord&& r) { pending.push_back(std::move(r)); }) {}
  core::Anomalies anomalies;
  std::vector<output::ArpRecord> pending_arp;
  std::vector<ConnRecord> pending;
  std::vector<LogPtr> pending_logs;
  analyzers::AnalyzerFactory factory;
  flow::FlowTable table;
  // 16 batches of 512 packets keep a shard busy; each pins reader blocks, so
  // a deeper queue only holds more memory when the writer is the slow side.
  Channel<std::unique_ptr<Batch>> in{16};
  Channel<Report> out{2};  // bounded: a shard waits when the writer is behind
  std::thread thread;

  void report(bool end) {
    out.push(Report{std::move(pending_arp), std::move(pending), std::move(pending_logs), end});
    pending_arp.clear();
    pending.clear();
    pending_logs.clear();
  }

  // The last flush emits every live connection at once: growing the vector
  // by doubling to that size was a peak of ~24 MB on the 2 GB capture.
  void reserve_for_flush() { pending.reserve(pending.size() + static_cast<size_t>(table.live_flows())); }

  void run() {
    for (;;) {
      std::unique_ptr<Batch> b = in.pop();
      for (size_t k = 0; k < b->copied.size(); ++k) {
        decode::DecodedPacket& p = b->packets[b->copied[k]];
        p.payload = core::ByteView(b->bytes.data() + b->copied_off[k], p.payload.size());
      }
      for (decode::DecodedPacket& p : b->packets) table.process(p);
      if (!b->arp.empty()) {
        pending_arp.insert(pending_arp.end(), b->arp.begin(), b->arp.end());
      }
      if (b->tick) {
        table.expire(b->tick_ts);
        report(false);
      }
      if (b->end) {
        reserve_for_flush();
        table.flush();
        report(true);
        return;
      }
    }
  }
};

constexpr size_t kBatchPackets = 512;

const core::AnomalyId kTimestampOutlier{"capture.timestamp_outlier"};
const core::AnomalyId kFlowBackwards{"flow.timestamp_backwards"};

}  // namespace

bool Engine::run(const std::vector<std::string>& inputs, RunStats& stats) {
  auto wall_start = std::chrono::steady_clock::now();
  std::vector<std::string> expand_errors;
  stats.inputs = capture::expand_inputs(inputs, expand_errors);
  stats.input_errors = expand_errors;

  // --threads N: N flow-table shards. N = 1 runs everything on the calling
  // thread; N >= 2 gives each shard a thread, and compressed inputs are
  // decompressed on a read-ahead thread (docs/adr/0001).
  const unsigned threads = std::max(1u, options_.threads);
  capture::MergedReader reader(stats.inputs, stats.anomalies, threads >= 2);
  decode::Decoder decoder(stats.anomalies, options_.decode);
  Progress progress(options_.progress);

  const unsigned shards = threads;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::unique_ptr<Batch>> open_batches;
  // --max-flows is a budget for the whole run: each shard gets its share, so
  // memory does not grow with the thread count.
  EngineOptions shard_options = options_;
  shard_options.flow.max_flows = std::max<uint64_t>(1, (options_.flow.max_flows + shards - 1) / shards);
  // The same for TCP reassembly memory (out-of-order data held by all streams).
  shard_options.flow.reassembly_budget_bytes = std::max<uint64_t>(1, options_.flow.reassembly_budget_bytes / shards);
  for (unsigned i = 0; i < shards; ++i) workers.push_back(std::make_unique<Worker>(shard_options));
  const bool threaded = shards > 1;
  if (threaded) {
    for (auto& w : workers) {
      w->thread = std::thread([wp = w.get()] {
        pthread_setname_np(pthread_self(), "trawl-flow");
        wp->run();
      });
      open_batches.push_back(std::make_unique<Batch>());
      open_batches.back()->packets.reserve(kBatchPackets);
    }
  }

  // Deterministic merge of per-shard reports: report k of every shard holds
  // what that shard finished between ticks k-1 and k. In threaded mode the
  // calling thread merges and runs on_conn while another thread reads.
  uint64_t connections = 0;
  std::vector<const ConnRecord*> order;
  std::vector<const analyzers::Record*> log_order;
  std::map<std::string_view, uint64_t> log_counts;
  // Analyzer records of a group first (a record is emitted no later than its
  // connection ends), then the group's connections.
  auto emit_parts = [&](const std::vector<output::ArpRecord>& arp, const std::vector<const std::vector<ConnRecord>*>& parts,
                        const std::vector<std::vector<LogPtr>*>& log_parts) {
    if (on_arp) {
      for (const output::ArpRecord& a : arp) on_arp(a);
    }
    sorted_logs(log_parts, log_order);
    for (const analyzers::Record* r : log_order) {
      ++log_counts[r->log()];
      if (on_record) on_record(*r);
    }
    sorted_view(parts, order);
    connections += order.size();
    if (on_conn) {
      for (const ConnRecord* r : order) on_conn(*r);
    }
  };
  auto emit_group = [&](Worker& w) {
    emit_parts(w.pending_arp, {&w.pending}, {&w.pending_logs});
    w.pending_arp.clear();
    w.pending.clear();
    w.pending_logs.clear();
  };
  auto merge_reports = [&] {
    std::vector<Report> tick_reports(shards);
    std::vector<const std::vector<ConnRecord>*> parts(shards);
    std::vector<std::vector<LogPtr>*> log_parts(shards);
    for (;;) {
      bool last = false;
      for (unsigned i = 0; i < shards; ++i) {
        tick_reports[i] = workers[i]->out.pop();
        last = tick_reports[i].end;
        parts[i] = &tick_reports[i].records;
        log_parts[i] = &tick_reports[i].logs;
      }
      emit_parts(tick_reports[0].arp, parts, log_parts);
      if (last) return;
    }
  };

  auto send = [&](unsigned shard) {
    workers[shard]->in.push(std::move(open_batches[shard]));
    open_batches[shard] = std::make_unique<Batch>();
    open_batches[shard]->packets.reserve(kBatchPackets);
  };
  auto tick = [&](core::Timestamp now) {
    if (threaded) {
      for (unsigned i = 0; i < shards; ++i) {
        open_batches[i]->tick = true;
        open_batches[i]->tick_ts = now;
        send(i);
      }
    } else {
      Worker& w = *workers[0];
      w.table.expire(now);
      emit_group(w);
    }
  };

  std::array<uint64_t, 512> linktype_counts{};
  auto read_all = [&] {
    capture::RawPacket raw;
    decode::DecodedPacket pkt;
    uint64_t index = 0;
    bool have_clock = false;
    core::Timestamp clock{0};
    core::Timestamp next_tick{0};
    const int64_t tick_ns = std::max<int64_t>(options_.tick_ns, 1);

    // A packet far ahead of the clock is held back until the next one says
    // whether time really jumped (a new file, a long gap) or the timestamp
    // is damaged; a damaged one would otherwise expire every connection.
    bool held = false;
    capture::RawPacket held_raw;
    std::vector<uint8_t> held_bytes;
    auto outlier = [&](const capture::RawPacket& r) {
      return have_clock && r.ts - clock > options_.outlier_ns;
    };

    auto handle = [&](const capture::RawPacket& rp) {
      // Packet-time clock: never goes backwards, drives expiry and flushes.
      if (!have_clock) {
        have_clock = true;
        clock = rp.ts;
        next_tick = rp.ts + tick_ns;
        stats.first_ts = rp.ts;
      } else if (rp.ts > clock) {
        clock = rp.ts;
      }
      if (rp.ts < stats.first_ts) stats.first_ts = rp.ts;
      if (rp.ts > stats.last_ts) stats.last_ts = rp.ts;
      if (clock >= next_tick) {
        tick(clock);
        next_tick = clock + tick_ns;
      }

      decode::DecodeStatus ds = decoder.decode(rp, pkt);
      pkt.index = index++;
      if (ds == decode::DecodeStatus::kConsumed) {
        ++stats.fragments_held;
        return;
      }
      if (ds == decode::DecodeStatus::kMalformed) ++stats.malformed_packets;
      switch (pkt.l3) {
        case decode::L3::kIpv4:
        case decode::L3::kIpv6:
          ++stats.ip_packets;
          break;
        case decode::L3::kArp:
          ++stats.arp_packets;
          break;
        case decode::L3::kNone:
          ++stats.other_packets;
          break;
      }
      if (pkt.l3 == decode::L3::kArp) {
        if (!on_arp) return;
        output::ArpRecord a;
        a.ts = pkt.ts;
        a.op = pkt.arp.op;
        a.src_mac = pkt.src_mac;
        a.sender_mac = pkt.arp.sender_mac;
        a.sender_ip = pkt.arp.sender_ip;
        a.target_mac = pkt.arp.target_mac;
        a.target_ip = pkt.arp.target_ip;
        a.has_vlan = pkt.vlan_count > 0;
        a.vlan = pkt.vlan[0];
        // Shard 0 carries the group's ARP records to the merge (threaded);
        // otherwise they wait for the group's flush like everything else.
        if (threaded) {
          open_batches[0]->arp.push_back(a);
        } else {
          workers[0]->pending_arp.push_back(a);
        }
        return;
      }
      if (pkt.l3 != decode::L3::kIpv4 && pkt.l3 != decode::L3::kIpv6) return;
      // Connections never run backwards: a packet older than the packet
      // clock counts as arriving now. Done here, against the one clock of
      // the whole input, so that it does not depend on which shard the
      // packet lands in (each table would otherwise clamp to its own time).
      if (pkt.ts < clock) [[unlikely]] {
        pkt.ts = clock;
        stats.anomalies.add(kFlowBackwards);
      }

      if (!threaded) {
        workers[0]->table.process(pkt);
        return;
      }
      // Payload views point into the reader's buffer, which the next read
      // may reuse: the batch holds the buffer (or a copy of the payload).
      unsigned shard = static_cast<unsigned>(flow::symmetric_flow_hash(pkt) % shards);
      Batch& batch = *open_batches[shard];
      if (!pkt.payload.empty() && (pkt.ip_proto == decode::ip_proto::kTcp || pkt.ip_proto == decode::ip_proto::kUdp)) {
        const capture::BufferBlock* block = rp.block;
        if (block != nullptr && block->contains(pkt.payload.data(), pkt.payload.size())) [[likely]] {
          if (batch.blocks.empty() || batch.blocks.back().get() != block) batch.blocks.emplace_back(block);
        } else {
          batch.copied.push_back(static_cast<uint32_t>(batch.packets.size()));
          batch.copied_off.push_back(static_cast<uint32_t>(batch.bytes.size()));
          batch.bytes.insert(batch.bytes.end(), pkt.payload.begin(), pkt.payload.end());
        }
      } else {
        pkt.payload = {};
      }
      batch.packets.push_back(pkt);
      if (open_batches[shard]->packets.size() >= kBatchPackets) send(shard);
    };

    for (;;) {
      capture::ReadResult rr = reader.next(raw);
      if (rr != capture::ReadResult::kPacket) break;
      ++stats.packets;
      stats.wire_bytes += raw.wirelen;
      stats.captured_bytes += raw.caplen;
      if (raw.linktype < linktype_counts.size()) {
        ++linktype_counts[raw.linktype];
      } else {
        ++stats.linktypes[raw.linktype];
      }
      if ((stats.packets & 0xffff) == 0) progress.update(reader.bytes_done(), reader.bytes_total(), stats.packets);

      if (held) [[unlikely]] {
        held = false;
        if (raw.ts - held_raw.ts > -options_.outlier_ns) {
          handle(held_raw);  // the next packet is near it: time did jump
        } else {
          stats.anomalies.add(kTimestampOutlier);
          ++stats.outliers;
        }
      }
      if (outlier(raw)) [[unlikely]] {
        held = true;
        held_bytes.assign(raw.data, raw.data + raw.caplen);
        held_raw = raw;
        held_raw.data = held_bytes.data();
        held_raw.block = nullptr;
        continue;
      }
      handle(raw);
    }
    if (held) {
      stats.anomalies.add(kTimestampOutlier);
      ++stats.outliers;
    }
    decoder.finish();  // datagrams still missing fragments are counted
    if (threaded) {
      for (unsigned i = 0; i < shards; ++i) {
        open_batches[i]->end = true;
        send(i);
      }
    }
  };

  if (threaded) {
    std::thread reading([&] {
      pthread_setname_np(pthread_self(), "trawl-read");
      read_all();
    });
    merge_reports();
    reading.join();
    for (auto& w : workers) w->thread.join();
  } else {
    read_all();
    workers[0]->reserve_for_flush();
    workers[0]->table.flush();
    emit_group(*workers[0]);
  }
  stats.connections = connections;
  for (const auto& [log, n] : log_counts) stats.records[std::string(log)] = n;
  progress.finish(reader.bytes_done(), reader.bytes_total(), stats.packets);

  for (auto& w : workers) {
    stats.anomalies.merge(w->anomalies);
    stats.evicted_flows += w->table.evicted();
  }
  for (size_t lt = 0; lt < linktype_counts.size(); ++lt) {
    if (linktype_counts[lt] != 0) stats.linktypes[static_cast<uint16_t>(lt)] += linktype_counts[lt];
  }
  for (const auto& e : reader.errors()) stats.input_errors.push_back(e);
  stats.input_bytes = reader.bytes_total();
  stats.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return stats.input_errors.empty();
}

}  // namespace trawl::app

#include "analyzers/dispatcher.h"

#include <algorithm>
#include <bit>

namespace trawl::analyzers {

namespace {

bool has_port(const Protocol& p, uint16_t port) {
  return std::find(p.ports.begin(), p.ports.end(), port) != p.ports.end();
}

core::ByteView view_of(const std::string& s, size_t off, size_t len) {
  return {reinterpret_cast<const uint8_t*>(s.data()) + off, len};
}

core::ByteView view_of(const std::string& s) { return view_of(s, 0, s.size()); }

}  // namespace

std::unique_ptr<flow::AppLayer> AnalyzerFactory::create(flow::ConnInfo info) {
  if (info.proto != 6 && info.proto != 17) return nullptr;
  return std::make_unique<Dispatcher>(std::move(info), config_, anomalies_, sink_, registry_);
}

Dispatcher::Dispatcher(flow::ConnInfo info, const AnalyzerConfig& config, core::Anomalies& anomalies,
                       std::vector<std::unique_ptr<Record>>& sink, const Registry& reg)
    : info_(std::move(info)), config_(config), anomalies_(anomalies), sink_(sink), registry_(reg) {
  const std::vector<Protocol>& all = registry_.protocols();
  const size_t n = std::min(all.size(), Registry::kMaxProtocols);  // add() enforces the bound
  for (size_t i = 0; i < n; ++i) {
    const Protocol& p = all[i];
    if (p.transport != info_.proto || !p.probe || !p.create) continue;
    candidates_ |= uint64_t{1} << i;
    if (has_port(p, info_.resp_p)) hinted_ |= uint64_t{1} << i;
  }
  if (candidates_ == 0) state_ = State::kDone;
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::emit(std::unique_ptr<Record> record) {
  record->first_index = info_.first_index;
  record->seq = seq_++;
  sink_.push_back(std::move(record));
}

void Dispatcher::give_up() { state_ = State::kDone; }

void Dispatcher::upgrade(std::string_view service) {
  // The last call before after_call() wins; an empty name cancels.
  upgrade_pending_ = !service.empty();
  upgrade_to_ = upgrade_pending_ ? registry_.find(service, info_.proto) : nullptr;
}

void Dispatcher::add_service(std::string_view name) {
  if (!service_.empty()) service_.push_back(',');
  service_.append(name);
}

void Dispatcher::after_call() {
  if (!upgrade_pending_) return;
  upgrade_pending_ = false;
  const Protocol* p = upgrade_to_;
  upgrade_to_ = nullptr;
  if (state_ != State::kActive) return;
  if (!p) {
    state_ = State::kDone;
    return;
  }
  // The old analyzer stays alive until finish() (it may hold a record that
  // the end of the connection completes); it gets no more bytes.
  retired_.push_back(std::move(analyzer_));
  analyzer_ = p->create(*this);
  add_service(p->name);
}

void Dispatcher::deliver(bool is_orig, core::ByteView data, core::Timestamp ts) {
  if (state_ != State::kActive || data.empty()) return;
  analyzer_->data(is_orig, data, ts);
  after_call();
}

void Dispatcher::start(const Protocol& p) {
  analyzer_ = p.create(*this);
  state_ = State::kActive;
  add_service(p.name);
  candidates_ = hinted_ = 0;
  // Replays the probe bytes in arrival order, then frees them.
  std::unique_ptr<ProbeBuffers> pb = std::move(probe_);
  if (!pb) return;
  for (const Chunk& c : pb->chunks) {
    if (state_ != State::kActive) break;
    deliver(c.is_orig, view_of(pb->buf[c.is_orig ? 0 : 1], c.offset, c.len), c.ts);
  }
}

void Dispatcher::stop_probing() {
  state_ = State::kDone;
  candidates_ = hinted_ = 0;
  probe_.reset();
}

bool Dispatcher::ask_candidates(ProbeInput in) {
  const std::vector<Protocol>& all = registry_.protocols();
  // Hinted ones first, then the rest; kMaybe keeps a candidate, kNo drops it.
  for (uint64_t set : {candidates_ & hinted_, candidates_ & ~hinted_}) {
    in.port_hint = (set & hinted_) != 0;
    for (; set != 0; set &= set - 1) {
      const auto i = static_cast<size_t>(std::countr_zero(set));
      const Protocol& p = all[i];
      Probe r = p.probe(in);
      if (r == Probe::kYes) {
        start(p);
        return true;
      }
      if (r == Probe::kNo) candidates_ &= ~(uint64_t{1} << i);
    }
  }
  return false;
}

// Asks every remaining candidate; starts the first kYes.
void Dispatcher::probe(bool orig_more, bool resp_more) {
  ProbeInput in;
  if (probe_) {
    in.orig = view_of(probe_->buf[0]);
    in.resp = view_of(probe_->buf[1]);
  }
  in.orig_p = info_.orig_p;
  in.resp_p = info_.resp_p;
  in.orig_done = !orig_more;
  in.resp_done = !resp_more;
  if (ask_candidates(in)) return;
  if (candidates_ == 0 || (!orig_more && !resp_more)) stop_probing();
}

void Dispatcher::stream_data(bool is_orig, core::ByteView data, core::Timestamp ts) {
  if (state_ == State::kActive) {
    deliver(is_orig, data, ts);
    return;
  }
  if (state_ != State::kProbing || data.empty()) return;
  if (!probe_) probe_ = std::make_unique<ProbeBuffers>();
  std::string& b = probe_->buf[is_orig ? 0 : 1];
  size_t take = std::min(data.size(), kProbeBytes - b.size());
  if (take != 0) {
    probe_->chunks.push_back(Chunk{is_orig, static_cast<uint32_t>(b.size()), static_cast<uint32_t>(take), ts});
    b.append(reinterpret_cast<const char*>(data.data()), take);
  }
  probe(!ended_[0] && probe_size(0) < kProbeBytes, !ended_[1] && probe_size(1) < kProbeBytes);
  if (state_ == State::kActive && take < data.size()) deliver(is_orig, data.subspan(take), ts);
}

void Dispatcher::stream_gap(bool is_orig, uint64_t bytes, core::Timestamp ts) {
  if (state_ == State::kActive) {
    analyzer_->gap(is_orig, bytes, ts);
    after_call();
    return;
  }
  if (state_ != State::kProbing || !probe_) return;
  // Probing starts over for this direction after the hole (mid-stream).
  std::vector<Chunk>& chunks = probe_->chunks;
  chunks.erase(std::remove_if(chunks.begin(), chunks.end(), [&](const Chunk& c) { return c.is_orig == is_orig; }),
               chunks.end());
  probe_->buf[is_orig ? 0 : 1].clear();
}

void Dispatcher::stream_end(bool is_orig, core::Timestamp ts) {
  ended_[is_orig ? 0 : 1] = true;
  if (state_ == State::kActive) {
    analyzer_->end_of_stream(is_orig, ts);
    after_call();
    return;
  }
  if (state_ == State::kProbing) {
    probe(!ended_[0] && probe_size(0) < kProbeBytes, !ended_[1] && probe_size(1) < kProbeBytes);
  }
}

void Dispatcher::datagram(bool is_orig, core::ByteView data, core::Timestamp ts) {
  if (state_ == State::kActive) {
    deliver(is_orig, data, ts);
    return;
  }
  if (state_ != State::kProbing) return;
  if (++datagrams_ > kProbeDatagrams) {
    stop_probing();
    return;
  }
  // UDP probes see the current datagram only (nothing is buffered).
  ProbeInput in;
  (is_orig ? in.orig : in.resp) = data;
  in.orig_p = info_.orig_p;
  in.resp_p = info_.resp_p;
  in.orig_done = in.resp_done = true;
  if (ask_candidates(in)) {
    deliver(is_orig, data, ts);
    return;
  }
  if (candidates_ == 0) stop_probing();
}

void Dispatcher::finish(core::Timestamp ts, flow::ConnRecord& rec) {
  if (!finished_) {
    finished_ = true;
    for (auto& a : retired_) a->finish(ts);
    if (analyzer_) analyzer_->finish(ts);
  }
  rec.service = service_;
}

}  // namespace trawl::analyzers

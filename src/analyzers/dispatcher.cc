#include "analyzers/dispatcher.h"

#include <algorithm>
#include <cstddef>

namespace trawl::analyzers {

namespace {

bool has_port(const Protocol& p, uint16_t port) {
  return std::find(p.ports.begin(), p.ports.end(), port) != p.ports.end();
}

core::ByteView view_of(const std::string& s, size_t off, size_t len) {
  return {reinterpret_cast<const uint8_t*>(s.data()) + off, len};
}

}  // namespace

std::unique_ptr<flow::AppLayer> AnalyzerFactory::create(const flow::ConnInfo& info) {
  if (info.proto != 6 && info.proto != 17) return nullptr;
  return std::make_unique<Dispatcher>(info, config_, anomalies_, sink_, registry_);
}

Dispatcher::Dispatcher(const flow::ConnInfo& info, const AnalyzerConfig& config, core::Anomalies& anomalies,
                       std::vector<std::unique_ptr<Record>>& sink, const Registry& reg)
    : info_(info), config_(config), anomalies_(anomalies), sink_(sink), registry_(reg) {
  // Hint-port protocols first (registry order), then every other one.
  candidates_.reserve(registry_.protocols().size());
  for (const Protocol& p : registry_.protocols()) {
    if (p.transport != info_.proto || !p.probe || !p.create) continue;
    candidates_.push_back(Candidate{&p, has_port(p, info_.resp_p)});
  }
  // Stable move of the hint-port ones to the front (std::stable_partition
  // would allocate a buffer; the list is a dozen entries, hints are rare).
  size_t front = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    if (!candidates_[i].port_hint) continue;
    std::rotate(candidates_.begin() + static_cast<std::ptrdiff_t>(front),
                candidates_.begin() + static_cast<std::ptrdiff_t>(i),
                candidates_.begin() + static_cast<std::ptrdiff_t>(i + 1));
    ++front;
  }
  if (candidates_.empty()) state_ = State::kDone;
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::emit(std::unique_ptr<Record> record) {
  record->first_index = info_.first_index;
  record->seq = seq_++;
  sink_.push_back(std::move(record));
}

void Dispatcher::give_up() { state_ = State::kDone; }

void Dispatcher::upgrade(std::string_view service) { pending_upgrade_.assign(service); }

void Dispatcher::add_service(std::string_view name) {
  if (!service_.empty()) service_.push_back(',');
  service_.append(name);
}

void Dispatcher::after_call() {
  if (pending_upgrade_.empty()) return;
  std::string name = std::move(pending_upgrade_);
  pending_upgrade_.clear();
  if (state_ != State::kActive) return;
  const Protocol* p = registry_.find(name, info_.proto);
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
  candidates_.clear();
  for (const Chunk& c : chunks_) {
    if (state_ != State::kActive) break;
    deliver(c.is_orig, view_of(buf_[c.is_orig ? 0 : 1], c.offset, c.len), c.ts);
  }
  chunks_.clear();
  chunks_.shrink_to_fit();
  std::string().swap(buf_[0]);
  std::string().swap(buf_[1]);
}

// Asks every remaining candidate; starts the first kYes.
void Dispatcher::probe(bool orig_more, bool resp_more) {
  ProbeInput in;
  in.orig = view_of(buf_[0], 0, buf_[0].size());
  in.resp = view_of(buf_[1], 0, buf_[1].size());
  in.orig_p = info_.orig_p;
  in.resp_p = info_.resp_p;
  in.orig_done = !orig_more;
  in.resp_done = !resp_more;
  // Candidates answering kMaybe are kept in place, in order (no new vector per probe).
  size_t kept = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    const Protocol* p = candidates_[i].protocol;
    in.port_hint = candidates_[i].port_hint;
    Probe r = p->probe(in);
    if (r == Probe::kYes) {
      start(*p);
      return;
    }
    if (r == Probe::kMaybe) candidates_[kept++] = candidates_[i];
  }
  candidates_.resize(kept);
  if (candidates_.empty() || (!orig_more && !resp_more)) {
    state_ = State::kDone;
    chunks_.clear();
    std::string().swap(buf_[0]);
    std::string().swap(buf_[1]);
  }
}

void Dispatcher::stream_data(bool is_orig, core::ByteView data, core::Timestamp ts) {
  if (state_ == State::kActive) {
    deliver(is_orig, data, ts);
    return;
  }
  if (state_ != State::kProbing || data.empty()) return;
  std::string& b = buf_[is_orig ? 0 : 1];
  size_t take = std::min(data.size(), kProbeBytes - b.size());
  if (take != 0) {
    chunks_.push_back(Chunk{is_orig, static_cast<uint32_t>(b.size()), static_cast<uint32_t>(take), ts});
    b.append(reinterpret_cast<const char*>(data.data()), take);
  }
  probe(!ended_[0] && buf_[0].size() < kProbeBytes, !ended_[1] && buf_[1].size() < kProbeBytes);
  if (state_ == State::kActive && take < data.size()) deliver(is_orig, data.subspan(take), ts);
}

void Dispatcher::stream_gap(bool is_orig, uint64_t bytes, core::Timestamp ts) {
  if (state_ == State::kActive) {
    analyzer_->gap(is_orig, bytes, ts);
    after_call();
    return;
  }
  if (state_ != State::kProbing) return;
  // Probing starts over for this direction after the hole (mid-stream).
  const size_t d = is_orig ? 0 : 1;
  std::vector<Chunk> kept;
  for (const Chunk& c : chunks_) {
    if (c.is_orig != is_orig) kept.push_back(c);
  }
  chunks_ = std::move(kept);
  buf_[d].clear();
}

void Dispatcher::stream_end(bool is_orig, core::Timestamp ts) {
  ended_[is_orig ? 0 : 1] = true;
  if (state_ == State::kActive) {
    analyzer_->end_of_stream(is_orig, ts);
    after_call();
    return;
  }
  if (state_ == State::kProbing) {
    probe(!ended_[0] && buf_[0].size() < kProbeBytes, !ended_[1] && buf_[1].size() < kProbeBytes);
  }
}

void Dispatcher::datagram(bool is_orig, core::ByteView data, core::Timestamp ts) {
  if (state_ == State::kActive) {
    deliver(is_orig, data, ts);
    return;
  }
  if (state_ != State::kProbing) return;
  if (++datagrams_ > kProbeDatagrams) {
    state_ = State::kDone;
    return;
  }
  // UDP probes see the current datagram only (nothing is buffered).
  ProbeInput in;
  (is_orig ? in.orig : in.resp) = data;
  in.orig_p = info_.orig_p;
  in.resp_p = info_.resp_p;
  in.orig_done = in.resp_done = true;
  size_t kept = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    const Protocol* p = candidates_[i].protocol;
    in.port_hint = candidates_[i].port_hint;
    Probe r = p->probe(in);
    if (r == Probe::kYes) {
      start(*p);
      deliver(is_orig, data, ts);
      return;
    }
    if (r == Probe::kMaybe) candidates_[kept++] = candidates_[i];
  }
  candidates_.resize(kept);
  if (candidates_.empty()) state_ = State::kDone;
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

#include "flow/tcp_reassembler.h"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace trawl::flow {

namespace {

core::ByteView view(const uint8_t* p, int64_t n) { return {p, static_cast<size_t>(n)}; }

}  // namespace

TcpReassembler::TcpReassembler(StreamSink& sink, ReassemblyBudget& budget, core::Anomalies& anomalies,
                               const ReassemblyLimits& limits)
    : sink_(sink), budget_(budget), anomalies_(anomalies), limits_(limits) {}

TcpReassembler::~TcpReassembler() { budget_.used -= buffered_; }

void TcpReassembler::set_isn(uint32_t isn) {
  if (started_) return;
  started_ = true;
  base_ = isn + 1;
}

int64_t TcpReassembler::offset_of(uint32_t seq) const {
  const uint32_t rel = seq - base_;
  const auto distance = static_cast<int32_t>(rel - static_cast<uint32_t>(next_));
  return next_ + distance;
}

void TcpReassembler::segment(uint32_t seq, core::ByteView payload, uint32_t payload_len_on_wire, bool fin) {
  if (ended_) return;
  if (!started_) {
    started_ = true;
    base_ = seq;
  }
  const int64_t captured = static_cast<int64_t>(std::min<uint64_t>(payload.size(), payload_len_on_wire));
  int64_t start = offset_of(seq);
  int64_t end = start + payload_len_on_wire;
  int64_t data_end = start + captured;
  const uint8_t* data = payload.data();
  if (fin && fin_ < 0) {
    fin_ = std::max(end, next_);
    trim_to_fin();
  }
  if (fin_ >= 0) {
    end = std::min(end, fin_);
    data_end = std::min(data_end, end);
  }
  bool cap_hit = false;
  for (;;) {
    if (end <= next_) break;  // nothing new (a retransmission of delivered data)
    if (start < next_) {
      if (data_end > next_) {
        data += next_ - start;
      } else {
        data_end = next_;
      }
      start = next_;
    }
    if (start == next_) {
      deliver_in_order(start, data_end, end, data);
      break;
    }
    if (insert_out_of_order(start, data_end, end, data)) break;
    // Does not fit: give up on the first hole and try again.
    cap_hit = true;
    int64_t target = start;
    if (!blocks_.empty()) target = std::min(target, blocks_.begin()->first);
    skip_to(target);
  }
  if (cap_hit) anomalies_.add(kTcpReassemblyCapReached);
  check_end();
}

bool TcpReassembler::insert_out_of_order(int64_t start, int64_t data_end, int64_t end, const uint8_t* data) {
  // Walks [start, end): calls hole(a, b) for each uncovered range and
  // cover(block, a, b) for each range a buffered block already holds.
  auto walk = [&](auto&& hole, auto&& cover) {
    auto it = blocks_.upper_bound(start);
    if (it != blocks_.begin()) {
      auto prev = std::prev(it);
      if (prev->second.end > start) it = prev;
    }
    int64_t pos = start;
    while (pos < end) {
      if (it == blocks_.end() || it->first >= end) {
        hole(pos, end);
        break;
      }
      if (it->first > pos) {
        hole(pos, it->first);
        pos = it->first;
      }
      const int64_t covered_end = std::min(it->second.end, end);
      cover(it, pos, covered_end);
      pos = covered_end;
      ++it;
    }
  };

  uint64_t need_bytes = 0;
  uint64_t need_blocks = 0;
  walk(
      [&](int64_t a, int64_t b) {
        if (a < data_end) {
          need_bytes += static_cast<uint64_t>(std::min(b, data_end) - a);
          ++need_blocks;
        }
        if (b > data_end) ++need_blocks;
      },
      [](auto, int64_t, int64_t) {});
  if (buffered_ + need_bytes > limits_.max_buffered_bytes || budget_.used + need_bytes > budget_.max_bytes ||
      blocks_.size() + need_blocks > limits_.max_segments) {
    return false;
  }

  bool inconsistent = false;
  walk(
      [&](int64_t a, int64_t b) {
        if (a < data_end) {
          const int64_t m = std::min(b, data_end);
          Block blk;
          blk.end = m;
          blk.data = std::make_unique_for_overwrite<uint8_t[]>(static_cast<size_t>(m - a));
          std::memcpy(blk.data.get(), data + (a - start), static_cast<size_t>(m - a));
          blocks_.emplace(a, std::move(blk));
          buffered_ += static_cast<uint64_t>(m - a);
          budget_.used += static_cast<uint64_t>(m - a);
          a = m;
        }
        if (b > a) {
          Block blk;
          blk.end = b;
          blocks_.emplace(a, std::move(blk));
        }
      },
      [&](auto it, int64_t a, int64_t b) {
        const int64_t m = std::min(b, data_end);
        if (it->second.data && a < m &&
            std::memcmp(it->second.data.get() + (a - it->first), data + (a - start), static_cast<size_t>(m - a)) != 0) {
          inconsistent = true;
        }
      });
  if (inconsistent) anomalies_.add(kTcpRetransmissionInconsistency);
  return true;
}

void TcpReassembler::deliver_in_order(int64_t start, int64_t data_end, int64_t end, const uint8_t* data) {
  bool inconsistent = false;
  while (next_ < end) {
    auto it = blocks_.begin();
    if (it != blocks_.end() && it->first <= next_) {
      // First data wins: the buffered block goes out, the new bytes are only compared.
      const int64_t m = std::min(it->second.end, data_end);
      if (it->second.data && next_ < m &&
          std::memcmp(it->second.data.get() + (next_ - it->first), data + (next_ - start),
                      static_cast<size_t>(m - next_)) != 0) {
        inconsistent = true;
      }
      deliver_block(it);
      continue;
    }
    const int64_t limit = it == blocks_.end() ? end : std::min(end, it->first);
    if (next_ < data_end) {
      const int64_t m = std::min(limit, data_end);
      sink_.on_data(view(data + (next_ - start), m - next_));
      delivered_ += static_cast<uint64_t>(m - next_);
      next_ = m;
    }
    if (next_ < limit) {
      gap(limit - next_);
      next_ = limit;
    }
  }
  if (inconsistent) anomalies_.add(kTcpRetransmissionInconsistency);
  deliver_front_blocks();
}

void TcpReassembler::deliver_block(std::map<int64_t, Block>::iterator it) {
  const int64_t start = std::max(it->first, next_);
  const int64_t len = it->second.end - start;
  if (len > 0) {
    if (it->second.data) {
      sink_.on_data(view(it->second.data.get() + (start - it->first), len));
      delivered_ += static_cast<uint64_t>(len);
    } else {
      gap(len);
    }
    next_ = it->second.end;
  }
  release(it);
}

void TcpReassembler::deliver_front_blocks() {
  while (!blocks_.empty() && blocks_.begin()->first <= next_) deliver_block(blocks_.begin());
}

void TcpReassembler::skip_to(int64_t offset) {
  if (offset > next_) {
    gap(offset - next_);
    next_ = offset;
  }
  deliver_front_blocks();
}

void TcpReassembler::release(std::map<int64_t, Block>::iterator it) {
  if (it->second.data) {
    const auto bytes = static_cast<uint64_t>(it->second.end - it->first);
    buffered_ -= bytes;
    budget_.used -= bytes;
  }
  blocks_.erase(it);
}

void TcpReassembler::trim_to_fin() {
  while (!blocks_.empty() && std::prev(blocks_.end())->first >= fin_) release(std::prev(blocks_.end()));
  if (blocks_.empty()) return;
  auto last = std::prev(blocks_.end());
  Block& blk = last->second;
  if (blk.end <= fin_) return;
  if (blk.data) {
    const int64_t keep = fin_ - last->first;
    auto smaller = std::make_unique_for_overwrite<uint8_t[]>(static_cast<size_t>(keep));
    std::memcpy(smaller.get(), blk.data.get(), static_cast<size_t>(keep));
    const auto dropped = static_cast<uint64_t>(blk.end - fin_);
    buffered_ -= dropped;
    budget_.used -= dropped;
    blk.data = std::move(smaller);
  }
  blk.end = fin_;
}

void TcpReassembler::acked(uint32_t ack) {
  if (ended_ || !started_ || blocks_.empty()) return;
  const int64_t limit = std::min(offset_of(ack), std::prev(blocks_.end())->second.end);
  while (!blocks_.empty() && next_ < limit && blocks_.begin()->first < limit) skip_to(blocks_.begin()->first);
  check_end();
}

void TcpReassembler::flush() {
  if (ended_) return;
  while (!blocks_.empty()) skip_to(blocks_.begin()->first);
  check_end();
}

void TcpReassembler::close() {
  if (ended_) return;
  flush();
  if (ended_) return;
  if (fin_ > next_) skip_to(fin_);
  end();
}

void TcpReassembler::check_end() {
  if (fin_ >= 0 && next_ >= fin_) end();
}

void TcpReassembler::end() {
  if (ended_) return;
  ended_ = true;
  while (!blocks_.empty()) release(blocks_.begin());
  sink_.on_end();
}

void TcpReassembler::gap(int64_t bytes) {
  if (bytes <= 0) return;
  missed_ += static_cast<uint64_t>(bytes);
  sink_.on_gap(static_cast<uint64_t>(bytes));
}

}  // namespace trawl::flow

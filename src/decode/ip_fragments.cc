#include "decode/ip_fragments.h"

#include <cstdint>

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/hash.h"
#include "decode/decode_anomalies.h"

namespace trawl::decode::detail {

namespace {
constexpr size_t kMaxSpareBuffers = 16;
}  // namespace

size_t IpFragments::KeyHash::operator()(const Key& k) const {
  static_assert(sizeof(Key) == 44, "Key must have no implicit padding: it is hashed as bytes");
  return static_cast<size_t>(core::hash_bytes(&k, sizeof k));
}

IpFragments::IpFragments(core::Anomalies& anomalies, const DecoderLimits& limits)
    : anomalies_(anomalies), limits_(limits) {
  // One completed datagram per IP layer of a packet at most.
  done_.resize(size_t{limits.max_encapsulation} + 2);
  spare_buffers_.reserve(kMaxSpareBuffers);
}

IpFragments::~IpFragments() = default;

uint32_t IpFragments::create(const Key& key) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Datagram& d = slots_[slot];
  d.key = key;
  d.first_ns = now_.ns;
  d.total = kUnknown;
  d.hdr_len = 0;
  d.ip_bytes = 0;
  d.count = 0;
  d.proto = 0;
  d.ttl = 0;
  d.have_first = false;
  d.blocks.fill(0);
  if (!spare_buffers_.empty()) {
    d.buf.swap(spare_buffers_.back());
    spare_buffers_.pop_back();
  }
  d.buf.clear();
  d.accounted = sizeof(Datagram) + d.buf.capacity();
  pending_bytes_ += d.accounted;
  d.prev = tail_;
  d.next = kNone;
  if (tail_ != kNone) {
    slots_[tail_].next = slot;
  } else {
    head_ = slot;
  }
  tail_ = slot;
  index_.emplace(key, slot);
  ++live_;
  return slot;
}

void IpFragments::remove(uint32_t slot) {
  Datagram& d = slots_[slot];
  if (d.prev != kNone) {
    slots_[d.prev].next = d.next;
  } else {
    head_ = d.next;
  }
  if (d.next != kNone) {
    slots_[d.next].prev = d.prev;
  } else {
    tail_ = d.prev;
  }
  index_.erase(d.key);
  pending_bytes_ -= d.accounted;
  d.accounted = 0;
  if (spare_buffers_.size() < kMaxSpareBuffers) {
    d.buf.clear();
    spare_buffers_.push_back(std::move(d.buf));
  }
  std::vector<uint8_t>().swap(d.buf);
  free_slots_.push_back(slot);
  --live_;
}

void IpFragments::expire() {
  // Unsigned arithmetic: packet times are input and may be far apart.
  const uint64_t timeout = static_cast<uint64_t>(std::max<int64_t>(limits_.fragment_timeout_ns, 0));
  while (head_ != kNone) {
    const int64_t first = slots_[head_].first_ns;
    if (now_.ns <= first || static_cast<uint64_t>(now_.ns) - static_cast<uint64_t>(first) <= timeout) break;
    anomalies_.add(anomaly::kFragmentTimeout);
    remove(head_);
  }
}

void IpFragments::drop_all() {
  while (head_ != kNone) {
    anomalies_.add(anomaly::kFragmentIncomplete);
    remove(head_);
  }
}

bool IpFragments::make_room(size_t extra, uint32_t keep) {
  while (pending_bytes_ + extra > limits_.max_fragment_bytes) {
    uint32_t victim = head_;
    if (victim == keep) victim = slots_[victim].next;
    if (victim == kNone) return false;
    anomalies_.add(anomaly::kFragmentLimit);
    remove(victim);
  }
  return true;
}

bool IpFragments::complete(const Datagram& d) const {
  if (d.total == kUnknown || !d.have_first) return false;
  const uint32_t blocks = (d.total + 7) / 8;
  const uint32_t full_words = blocks / 64;
  for (uint32_t w = 0; w < full_words; ++w) {
    if (d.blocks[w] != ~uint64_t{0}) return false;
  }
  const uint32_t rest = blocks % 64;
  if (rest != 0) {
    const uint64_t mask = (uint64_t{1} << rest) - 1;
    if ((d.blocks[full_words] & mask) != mask) return false;
  }
  return true;
}

FragmentResult IpFragments::add(const FragmentInfo& f, const DecodedPacket& pkt, Reassembled& done) {
  const uint32_t len = static_cast<uint32_t>(f.data.size());
  // Every fragment but the last carries a multiple of 8 bytes (RFC 791, 8200).
  if (f.more && (len == 0 || len % 8 != 0)) {
    anomalies_.add(anomaly::kFragmentBadLength);
    return FragmentResult::kRejected;
  }
  // A datagram may not outgrow the 16-bit length fields (ping of death).
  const uint32_t max_end = f.v6 ? kMaxPayload : kMaxPayload - std::min(f.hdr_len, kMaxPayload);
  if (f.offset > max_end || len > max_end - f.offset) {
    anomalies_.add(anomaly::kFragmentTooLarge);
    return FragmentResult::kRejected;
  }
  if (limits_.max_fragment_datagrams == 0) {
    anomalies_.add(anomaly::kFragmentLimit);
    return FragmentResult::kRejected;
  }

  Key key;
  const size_t addr_len = f.v6 ? 16 : 4;
  std::memcpy(key.src.data(), f.src, addr_len);
  std::memcpy(key.dst.data(), f.dst, addr_len);
  key.id = f.id;
  key.v6 = f.v6 ? 1 : 0;
  key.proto = f.v6 ? 0 : f.proto;  // IPv6 keys on (src, dst, id) only
  key.vlan_count = pkt.vlan_count;
  key.vlan0 = pkt.vlan_count > 0 ? pkt.vlan[0] : 0;
  key.vlan1 = pkt.vlan_count > 1 ? pkt.vlan[1] : 0;

  uint32_t slot;
  bool fresh = false;
  if (auto it = index_.find(key); it != index_.end()) {
    slot = it->second;
  } else {
    while (live_ >= limits_.max_fragment_datagrams) {
      anomalies_.add(anomaly::kFragmentLimit);
      remove(head_);
    }
    const size_t spare = spare_buffers_.empty() ? 0 : spare_buffers_.back().capacity();
    if (!make_room(sizeof(Datagram) + spare, kNone)) {
      anomalies_.add(anomaly::kFragmentLimit);
      return FragmentResult::kRejected;
    }
    slot = create(key);
    fresh = true;
  }
  Datagram& d = slots_[slot];
  const uint32_t end = f.offset + len;

  if (d.total != kUnknown && end > d.total) {
    anomalies_.add(anomaly::kFragmentBeyondEnd);
    if (fresh) remove(slot);
    return FragmentResult::kRejected;
  }
  if (!f.more) {
    if (d.total != kUnknown) {
      if (end != d.total) {
        anomalies_.add(anomaly::kFragmentInconsistentEnd);
        return FragmentResult::kRejected;
      }
    } else {
      // Bytes already stored past this end are ignored from now on.
      if (d.buf.size() > end) anomalies_.add(anomaly::kFragmentBeyondEnd);
      d.total = end;
    }
  }

  if (end > d.buf.size()) {
    if (end > d.buf.capacity()) {
      const size_t cap = d.buf.capacity();
      const size_t want = std::max<size_t>(end, std::min<size_t>(cap * 2, kMaxPayload));
      if (!make_room(want - cap, slot)) {
        anomalies_.add(anomaly::kFragmentLimit);
        remove(slot);
        return FragmentResult::kRejected;
      }
      d.buf.reserve(want);
      pending_bytes_ += d.buf.capacity() - cap;
      d.accounted += d.buf.capacity() - cap;
    }
    d.buf.resize(end);
  }

  // First wins, block by block (offsets are multiples of 8).
  bool overlap = false;
  bool conflict = false;
  bool brought_new = false;
  const uint8_t* src = f.data.data();
  uint8_t* dst = d.buf.data();
  const uint32_t first_block = f.offset / 8;
  const uint32_t last_block = (end + 7) / 8;  // exclusive
  for (uint32_t b = first_block; b < last_block; ++b) {
    const uint32_t at = b * 8;
    const uint32_t n = std::min<uint32_t>(8, end - at);
    uint64_t& word = d.blocks[b / 64];
    const uint64_t bit = uint64_t{1} << (b % 64);
    if ((word & bit) != 0) {
      overlap = true;
      if (std::memcmp(dst + at, src + (at - f.offset), n) != 0) conflict = true;
    } else {
      std::memcpy(dst + at, src + (at - f.offset), n);
      word |= bit;
      brought_new = true;
    }
  }
  if (overlap) {
    anomalies_.add(brought_new ? anomaly::kFragmentOverlap : anomaly::kFragmentDuplicate);
    if (conflict) anomalies_.add(anomaly::kFragmentOverlapConflict);
  }

  if (f.offset == 0 && !d.have_first) {
    d.have_first = true;
    d.hdr_len = f.hdr_len;
    d.proto = f.proto;
    d.ttl = f.ttl;
  }
  if (d.count < 0xffff) ++d.count;
  // Saturating: duplicates of one datagram (counted too) must not wrap it.
  d.ip_bytes = d.ip_bytes > UINT32_MAX - f.ip_len ? UINT32_MAX : d.ip_bytes + f.ip_len;

  if (!complete(d)) return FragmentResult::kStored;

  if (done_used_ == done_.size()) done_.emplace_back();
  std::vector<uint8_t>& out = done_[done_used_++];
  out.swap(d.buf);
  done.data = core::ByteView(out.data(), d.total);
  done.hdr_len = d.hdr_len;
  done.proto = d.proto;
  done.ttl = d.ttl;
  done.fragments = d.count;
  done.ip_bytes = d.ip_bytes;
  remove(slot);
  return FragmentResult::kComplete;
}

}  // namespace trawl::decode::detail

#include "capture/input_buffer.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "capture/capture_anomalies.h"

namespace trawl::capture {

InputBuffer::InputBuffer(std::unique_ptr<ByteSource> source, size_t capacity)
    : source_(std::move(source)),
      block_(BufferBlock::acquire(std::max<size_t>(capacity, 64))),
      capacity_(std::max<size_t>(capacity, 64)) {}

InputBuffer::~InputBuffer() { block_->unref(); }

const uint8_t* InputBuffer::fill(size_t n) {
  assert(n <= kMaxPeek);
  if (eof_ || n > kMaxPeek) return nullptr;
  if (capacity_ - pos_ < n) {
    // The request does not fit behind the read position: move the unread
    // bytes to the front, or to a fresh block because a consumer still holds
    // bytes of this one, or to a bigger block. Grow to twice the request so
    // that scanning forward over large records (resync) moves each byte a
    // bounded number of times.
    size_t have = end_ - pos_;
    if (n > capacity_ || (pos_ != 0 && !block_->exclusive())) {
      size_t cap = n > capacity_ ? std::min(std::max(n * 2, capacity_ * 2), kMaxPeek * 2) : capacity_;
      BufferBlock* fresh = BufferBlock::acquire(cap);
      if (have) std::memcpy(fresh->data(), block_->data() + pos_, have);
      block_->unref();
      block_ = fresh;
      capacity_ = cap;
    } else if (pos_ != 0) {
      if (have) std::memmove(block_->data(), block_->data() + pos_, have);
    }
    pos_ = 0;
    end_ = have;
  }
  // Read in chunks of kReadChunk rather than the whole rest of the block: the
  // packets are parsed while their bytes are still in the CPU cache. Bytes
  // behind end_ are nobody's yet, so this is safe in a shared block too.
  while (end_ - pos_ < n) {
    size_t want = std::min(capacity_ - end_, std::max(n - (end_ - pos_), kReadChunk));
    size_t got = source_->read(block_->data() + end_, want);
    if (got == 0) {
      eof_ = true;
      return nullptr;
    }
    end_ += got;
  }
  return block_->data() + pos_;
}

void InputBuffer::open_failed(core::Anomalies& anomalies, std::string& err) const {
  err = source_->error();
  if (source_->damage() == ByteSource::Damage::kTruncated) anomalies.add(kAnomalyTruncatedCompressed);
  if (source_->damage() == ByteSource::Damage::kCorrupt) anomalies.add(kAnomalyCorruptCompressed);
}

ReadResult InputBuffer::finish(core::Anomalies& anomalies, std::string& error) {
  if (failed()) {
    switch (source_->damage()) {
      case ByteSource::Damage::kTruncated:
        anomalies.add(kAnomalyTruncatedCompressed);
        break;
      case ByteSource::Damage::kCorrupt:
        anomalies.add(kAnomalyCorruptCompressed);
        error = source_->error();
        return ReadResult::kError;
      case ByteSource::Damage::kNone:
        error = source_->error();
        return ReadResult::kError;
    }
  }
  if (available() > 0) {
    anomalies.add(kAnomalyTruncatedPacket);
    consume(available());
  }
  return ReadResult::kEnd;
}

}  // namespace trawl::capture

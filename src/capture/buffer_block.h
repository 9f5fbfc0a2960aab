// BufferBlock: a reference-counted read buffer. The input buffer reads records
// into one; a consumer that needs a packet's bytes after the reader has moved
// on (a flow-table shard on another thread) takes a reference instead of
// copying them. The reader never overwrites a block someone else still holds:
// it moves to a fresh block from the pool instead.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace trawl::capture {

class BufferBlock {
 public:
  // A block of at least `capacity` bytes, reused from the pool when one of that
  // size is free; holds one reference.
  static BufferBlock* acquire(size_t capacity);

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t capacity() const { return capacity_; }
  bool contains(const uint8_t* p, size_t n) const {
    return p >= data_ && n <= capacity_ && static_cast<size_t>(p - data_) <= capacity_ - n;
  }
  // True when only the caller holds it (the reader may then overwrite it).
  bool exclusive() const { return refs_.load(std::memory_order_acquire) == 1; }

  void ref() const { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Drops a reference; the last one returns the block to the pool.
  void unref() const;

  BufferBlock(const BufferBlock&) = delete;
  BufferBlock& operator=(const BufferBlock&) = delete;

 private:
  explicit BufferBlock(size_t capacity);
  ~BufferBlock();
  friend class BlockPool;

  uint8_t* data_;
  size_t capacity_;
  mutable std::atomic<uint32_t> refs_{1};
};

// An owning handle: one reference, dropped on destruction.
class BlockRef {
 public:
  BlockRef() = default;
  explicit BlockRef(const BufferBlock* b) : b_(b) {
    if (b_) b_->ref();
  }
  BlockRef(const BlockRef&) = delete;
  BlockRef& operator=(const BlockRef&) = delete;
  BlockRef(BlockRef&& o) noexcept : b_(o.b_) { o.b_ = nullptr; }
  BlockRef& operator=(BlockRef&& o) noexcept {
    if (this != &o) {
      reset();
      b_ = o.b_;
      o.b_ = nullptr;
    }
    return *this;
  }
  ~BlockRef() { reset(); }
  void reset() {
    if (b_) b_->unref();
    b_ = nullptr;
  }
  const BufferBlock* get() const { return b_; }

 private:
  const BufferBlock* b_ = nullptr;
};

}  // namespace trawl::capture

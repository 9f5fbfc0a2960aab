#include "capture/buffer_block.h"

#include <mutex>
#include <new>
#include <vector>

namespace trawl::capture {

// Free blocks kept for reuse, so that a long run does not fault in fresh pages
// for every buffer it reads (a 2 GB capture passes through ~500 4 MiB blocks).
// Bounded: blocks beyond kMaxFree are given back.
class BlockPool {
 public:
  static constexpr size_t kMaxFree = 32;

  BufferBlock* take(size_t capacity) {
    {
      std::lock_guard lock(mu_);
      for (size_t i = free_.size(); i-- > 0;) {
        if (free_[i]->capacity_ == capacity) {
          BufferBlock* b = free_[i];
          free_[i] = free_.back();
          free_.pop_back();
          b->refs_.store(1, std::memory_order_relaxed);
          return b;
        }
      }
    }
    return new BufferBlock(capacity);
  }
  void give(BufferBlock* b) {
    {
      std::lock_guard lock(mu_);
      if (free_.size() < kMaxFree) {
        free_.push_back(b);
        return;
      }
    }
    delete b;
  }
 private:
  std::mutex mu_;
  std::vector<BufferBlock*> free_;
};

namespace {
// Never destroyed: a block may be released during static destruction.
BlockPool& pool() {
  static BlockPool* p = new BlockPool;
  return *p;
}
}  // namespace

BufferBlock::BufferBlock(size_t capacity) : data_(new uint8_t[capacity]), capacity_(capacity) {}
BufferBlock::~BufferBlock() { delete[] data_; }

BufferBlock* BufferBlock::acquire(size_t capacity) { return pool().take(capacity); }

void BufferBlock::unref() const {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    pool().give(const_cast<BufferBlock*>(this));
  }
}

}  // namespace trawl::capture

#include "capture/read_ahead_source.h"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

namespace trawl::capture {

namespace {

constexpr size_t kChunkBytes = 1u << 20;
constexpr size_t kChunks = 4;

class ReadAheadSource final : public ByteSource {
 public:
  explicit ReadAheadSource(std::unique_ptr<ByteSource> inner) : inner_(std::move(inner)) {
    for (auto& c : chunks_) c.data = std::make_unique_for_overwrite<uint8_t[]>(kChunkBytes);
    total_ = inner_->bytes_total();
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "trawl-io");
      produce();
    });
  }
  ~ReadAheadSource() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    space_.notify_all();
    thread_.join();
  }
  ReadAheadSource(const ReadAheadSource&) = delete;
  ReadAheadSource& operator=(const ReadAheadSource&) = delete;

  size_t read(uint8_t* dst, size_t n) override {
    size_t copied = 0;
    while (copied < n) {
      if (have_ == 0) {
        if (!next_chunk()) break;
      }
      Chunk& c = chunks_[head_];
      size_t k = std::min(n - copied, c.len - c.pos);
      std::memcpy(dst + copied, c.data.get() + c.pos, k);
      c.pos += k;
      copied += k;
      if (c.pos == c.len) release_chunk();
    }
    return copied;
  }
  const std::string& error() const override { return drained_ ? error_ : kNoError; }
  Damage damage() const override { return drained_ ? damage_ : Damage::kNone; }
  uint64_t bytes_done() const override { return done_.load(std::memory_order_relaxed); }
  uint64_t bytes_total() const override { return total_; }

 private:
  struct Chunk {
    std::unique_ptr<uint8_t[]> data;
    size_t len = 0;
    size_t pos = 0;
  };

  // Consumer: waits for the chunk at head_; false at the end of the stream.
  bool next_chunk() {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return count_ > 0 || finished_; });
    if (count_ == 0) {
      drained_ = true;
      return false;
    }
    have_ = 1;
    return true;
  }
  void release_chunk() {
    {
      std::lock_guard lock(mu_);
      chunks_[head_].pos = 0;
      head_ = (head_ + 1) % kChunks;
      --count_;
      have_ = 0;
    }
    space_.notify_one();
  }

  // Producer thread: fills free chunks until the inner source ends.
  void produce() {
    for (;;) {
      size_t slot;
      {
        std::unique_lock lock(mu_);
        space_.wait(lock, [&] { return count_ < kChunks || stop_; });
        if (stop_) break;
        slot = (head_ + count_) % kChunks;
      }
      Chunk& c = chunks_[slot];
      size_t len = 0;
      while (len < kChunkBytes) {
        size_t got = inner_->read(c.data.get() + len, kChunkBytes - len);
        if (got == 0) break;
        len += got;
      }
      done_.store(inner_->bytes_done(), std::memory_order_relaxed);
      std::lock_guard lock(mu_);
      if (len > 0) {
        c.len = len;
        c.pos = 0;
        ++count_;
      }
      if (len < kChunkBytes) {
        error_ = inner_->error();
        damage_ = inner_->damage();
        finished_ = true;
        ready_.notify_one();
        break;
      }
      ready_.notify_one();
    }
    std::lock_guard lock(mu_);
    finished_ = true;
    ready_.notify_one();
  }

  static inline const std::string kNoError;
  std::unique_ptr<ByteSource> inner_;
  std::array<Chunk, kChunks> chunks_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::condition_variable space_;
  size_t head_ = 0;   // consumer's chunk
  size_t count_ = 0;  // chunks filled and not yet released
  size_t have_ = 0;   // consumer holds chunks_[head_] (read without the lock)
  bool finished_ = false;
  bool stop_ = false;
  bool drained_ = false;  // the consumer saw the end: error/damage may be reported
  std::string error_;
  Damage damage_ = Damage::kNone;
  std::atomic<uint64_t> done_{0};
  uint64_t total_ = 0;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<ByteSource> make_read_ahead(std::unique_ptr<ByteSource> inner) {
  return std::make_unique<ReadAheadSource>(std::move(inner));
}

}  // namespace trawl::capture

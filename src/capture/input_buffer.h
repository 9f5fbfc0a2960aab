// InputBuffer: the readers' window on a ByteSource. Hands out pointers to whole
// records inside one large buffer (no copy); only a record that straddles the
// end of the buffer has its head moved to the front before the next read. The
// buffer is a BufferBlock: a consumer may keep a reference to it, and then the
// head moves to a fresh block instead, leaving the held bytes untouched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "capture/buffer_block.h"
#include "capture/packet_reader.h"
#include "core/anomalies.h"

namespace trawl::capture {

class InputBuffer {
 public:
  static constexpr size_t kDefaultCapacity = 4u * 1024 * 1024;
  // How much one read() asks for (see fill()).
  static constexpr size_t kReadChunk = 256u * 1024;
  // The largest contiguous span peek() will provide (a pcapng block at the cap).
  static constexpr size_t kMaxPeek = 16u * 1024 * 1024 + 64 * 1024;

  InputBuffer(std::unique_ptr<ByteSource> source, size_t capacity);
  ~InputBuffer();
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;

  // At least n contiguous bytes at the read position, or nullptr when the input
  // ends (or fails) first; available() then tells how many bytes were left.
  // n must not exceed kMaxPeek. The pointer is valid until the next peek.
  const uint8_t* peek(size_t n) {
    if (end_ - pos_ >= n) [[likely]]
      return block_->data() + pos_;
    return fill(n);
  }
  // Bytes buffered at the read position (all that is left once peek failed).
  size_t available() const { return end_ - pos_; }
  // Drops n bytes at the read position; n <= available().
  void consume(size_t n) {
    pos_ += n;
    offset_ += n;
  }

  // Position of the read pointer in the (decompressed) stream.
  uint64_t offset() const { return offset_; }
  // True once the source reported an error (message in source().error()).
  bool failed() const { return !source_->error().empty(); }
  const ByteSource& source() const { return *source_; }
  // The block that pointers from peek() point into (valid until the next peek;
  // take a BlockRef to keep its bytes longer).
  const BufferBlock* block() const { return block_; }

  // What a reader returns when peek() failed: kEnd after counting what was
  // cut (a partial record, a cut compressed stream), or kError with error set
  // (a corrupt compressed stream, a read error).
  ReadResult finish(core::Anomalies& anomalies, std::string& error);
  // For a capture that cannot be opened: sets err to the source's error and
  // counts the damage if the stream itself is damaged (a compressed stream
  // cut or corrupt before the capture's header was complete).
  void open_failed(core::Anomalies& anomalies, std::string& err) const;

 private:
  const uint8_t* fill(size_t n);

  std::unique_ptr<ByteSource> source_;
  BufferBlock* block_;  // one reference held
  size_t capacity_;
  size_t pos_ = 0;
  size_t end_ = 0;
  uint64_t offset_ = 0;
  bool eof_ = false;
};

}  // namespace trawl::capture

#include "capture/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace trawl::capture {

namespace {

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::string path, uint64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  size_t read(uint8_t* dst, size_t n) override {
    if (!error_.empty()) return 0;
    // Large reads straight into the caller's buffer; the kernel caps one
    // read() near 2 GiB, so larger requests are clamped.
    n = std::min<size_t>(n, size_t{1} << 30);
    for (;;) {
      ssize_t r = ::read(fd_, dst, n);
      if (r >= 0) {
        done_ += static_cast<uint64_t>(r);
        return static_cast<size_t>(r);
      }
      if (errno == EINTR) continue;
      error_ = path_ + ": read error: " + std::strerror(errno);
      return 0;
    }
  }
  const std::string& error() const override { return error_; }
  uint64_t bytes_done() const override { return done_; }
  uint64_t bytes_total() const override { return size_; }

 private:
  int fd_;
  std::string path_;
  std::string error_;
  uint64_t size_;
  uint64_t done_ = 0;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(core::ByteView bytes) : bytes_(bytes) {}
  size_t read(uint8_t* dst, size_t n) override {
    size_t k = std::min(n, bytes_.size() - pos_);
    if (k) std::memcpy(dst, bytes_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  const std::string& error() const override { return error_; }
  uint64_t bytes_done() const override { return pos_; }
  uint64_t bytes_total() const override { return bytes_.size(); }

 private:
  core::ByteView bytes_;
  size_t pos_ = 0;
  std::string error_;
};

// Gives back the few bytes read to recognise the format, then the rest.
class ReplaySource final : public ByteSource {
 public:
  ReplaySource(std::unique_ptr<ByteSource> inner, const uint8_t* head, size_t n) : inner_(std::move(inner)), n_(n) {
    std::memcpy(head_, head, n);
  }
  size_t read(uint8_t* dst, size_t n) override {
    if (pos_ < n_) {
      size_t k = std::min(n, n_ - pos_);
      std::memcpy(dst, head_ + pos_, k);
      pos_ += k;
      return k;
    }
    return inner_->read(dst, n);
  }
  const std::string& error() const override { return inner_->error(); }
  uint64_t bytes_done() const override { return inner_->bytes_done(); }
  uint64_t bytes_total() const override { return inner_->bytes_total(); }
  Damage damage() const override { return inner_->damage(); }

 private:
  std::unique_ptr<ByteSource> inner_;
  uint8_t head_[8];
  size_t n_;
  size_t pos_ = 0;
};

constexpr size_t kCompressedChunk = 256 * 1024;

// gzip (and concatenated gzip members, as `cat a.gz b.gz` makes) via zlib.
// Bytes after the last member that do not start another member are ignored,
// as gzip(1) does with trailing garbage such as zero padding.
class GzipSource final : public ByteSource {
 public:
  GzipSource(std::unique_ptr<ByteSource> inner, std::string name)
      : inner_(std::move(inner)), name_(std::move(name)), in_(std::make_unique_for_overwrite<uint8_t[]>(kCompressedChunk)) {
    std::memset(&zs_, 0, sizeof zs_);
    if (inflateInit2(&zs_, 15 + 32) != Z_OK) fail("cannot initialise gzip decoder");
    else ready_ = true;
  }
  ~GzipSource() override {
    if (ready_) inflateEnd(&zs_);
  }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  size_t read(uint8_t* dst, size_t n) override {
    if (!pending_error_.empty()) error_.swap(pending_error_);
    if (!error_.empty() || done_) return 0;
    // zlib counts in uInt; keep each call well inside it.
    n = std::min<size_t>(n, size_t{1} << 30);
    size_t produced = 0;
    while (produced < n) {
      if (member_ended_) {
        // Another member follows only if the next bytes are a gzip magic.
        if (!ensure_input(2)) {
          if (!error_.empty()) break;
          done_ = true;
          break;
        }
        if (zs_.next_in[0] != 0x1f || zs_.next_in[1] != 0x8b) {
          done_ = true;
          break;
        }
        inflateReset(&zs_);
        member_ended_ = false;
      }
      if (zs_.avail_in == 0 && !ensure_input(1)) {
        if (error_.empty())
          fail("truncated gzip data after " + std::to_string(out_total_ + produced) + " bytes", Damage::kTruncated);
        break;
      }
      zs_.next_out = dst + produced;
      zs_.avail_out = static_cast<uInt>(n - produced);
      int rc = inflate(&zs_, Z_NO_FLUSH);
      size_t got = (n - produced) - zs_.avail_out;
      produced += got;
      if (rc == Z_STREAM_END) {
        member_ended_ = true;
        continue;
      }
      if (rc == Z_OK) continue;
      if (rc == Z_BUF_ERROR && got == 0 && zs_.avail_in == 0) continue;  // needs more input
      fail("corrupt gzip data after " + std::to_string(out_total_ + produced) + " bytes" +
               (zs_.msg ? std::string(" (") + zs_.msg + ")" : std::string()),
           Damage::kCorrupt);
      break;
    }
    out_total_ += produced;
    // Data decoded before a failure is delivered first; the failure shows on
    // the next call (the contract is "0 and error() on failure").
    if (produced > 0) {
      if (!error_.empty()) pending_error_.swap(error_);
      return produced;
    }
    return 0;
  }
  const std::string& error() const override { return error_; }
  uint64_t bytes_done() const override { return inner_->bytes_done(); }
  uint64_t bytes_total() const override { return inner_->bytes_total(); }
  Damage damage() const override { return error_.empty() ? Damage::kNone : damage_; }

 private:
  void fail(const std::string& what, Damage kind = Damage::kNone) {
    error_ = name_ + ": " + what;
    damage_ = kind;
  }

  // Makes at least k compressed bytes available at next_in (k <= 2).
  bool ensure_input(size_t k) {
    while (zs_.avail_in < k) {
      if (in_eof_) return false;
      if (zs_.avail_in > 0) std::memmove(in_.get(), zs_.next_in, zs_.avail_in);
      size_t have = zs_.avail_in;
      size_t got = inner_->read(in_.get() + have, kCompressedChunk - have);
      zs_.next_in = in_.get();
      zs_.avail_in = static_cast<uInt>(have + got);
      if (got == 0) {
        in_eof_ = true;
        if (!inner_->error().empty()) error_ = inner_->error();
      }
    }
    return true;
  }

  std::unique_ptr<ByteSource> inner_;
  std::string name_;
  std::unique_ptr<uint8_t[]> in_;
  z_stream zs_;
  std::string error_;
  std::string pending_error_;
  uint64_t out_total_ = 0;
  Damage damage_ = Damage::kNone;
  bool ready_ = false;
  bool in_eof_ = false;
  bool member_ended_ = false;
  bool done_ = false;
};

// zstd via the streaming API; consecutive frames (zstd -c a b, pzstd) and
// skippable frames are handled by the library.
class ZstdSource final : public ByteSource {
 public:
  ZstdSource(std::unique_ptr<ByteSource> inner, std::string name)
      : inner_(std::move(inner)), name_(std::move(name)) {
    dctx_ = ZSTD_createDCtx();
    if (!dctx_) {
      fail("cannot initialise zstd decoder");
      return;
    }
    // The decoder allocates the frame's window; 2^27 (128 MiB) is zstd's own
    // default limit and bounds what a hostile frame header can ask for.
    ZSTD_DCtx_setParameter(dctx_, ZSTD_d_windowLogMax, 27);
  }
  ~ZstdSource() override { ZSTD_freeDCtx(dctx_); }
  ZstdSource(const ZstdSource&) = delete;
  ZstdSource& operator=(const ZstdSource&) = delete;

  size_t read(uint8_t* dst, size_t n) override {
    if (!pending_error_.empty()) error_.swap(pending_error_);
    if (!error_.empty() || done_) return 0;
    ZSTD_outBuffer out{dst, 0, 0};
    while (out.pos < n) {
      // At most one block of output per call: given room for a whole frame,
      // zstd decodes it in one pass and, on corrupt data, delivers none of it.
      out.size = std::min(n, out.pos + ZSTD_BLOCKSIZE_MAX);
      if (in_.pos == in_.size && !in_eof_) {
        size_t got = inner_->read(buf_.get(), kCompressedChunk);
        in_ = ZSTD_inBuffer{buf_.get(), got, 0};
        if (got == 0) {
          in_eof_ = true;
          if (!inner_->error().empty()) {
            error_ = inner_->error();
            break;
          }
        }
      }
      if (in_eof_ && in_.pos == in_.size && last_rc_ == 0) {
        done_ = true;  // the input ended on a frame boundary
        break;
      }
      size_t before = out.pos;
      size_t rc = ZSTD_decompressStream(dctx_, &out, &in_);
      if (ZSTD_isError(rc)) {
        fail("corrupt zstd data after " + std::to_string(out_total_ + out.pos) + " bytes (" + ZSTD_getErrorName(rc) +
                 ")",
             Damage::kCorrupt);
        break;
      }
      last_rc_ = rc;
      if (in_eof_ && in_.pos == in_.size && out.pos == before) {
        if (last_rc_ != 0)
          fail("truncated zstd data after " + std::to_string(out_total_ + out.pos) + " bytes", Damage::kTruncated);
        else done_ = true;
        break;
      }
    }
    out_total_ += out.pos;
    if (out.pos > 0) {
      if (!error_.empty()) pending_error_.swap(error_);
      return out.pos;
    }
    return 0;
  }
  const std::string& error() const override { return error_; }
  uint64_t bytes_done() const override { return inner_->bytes_done(); }
  uint64_t bytes_total() const override { return inner_->bytes_total(); }
  Damage damage() const override { return error_.empty() ? Damage::kNone : damage_; }

 private:
  void fail(const std::string& what, Damage kind = Damage::kNone) {
    error_ = name_ + ": " + what;
    damage_ = kind;
  }

  std::unique_ptr<ByteSource> inner_;
  std::string name_;
  std::unique_ptr<uint8_t[]> buf_ = std::make_unique_for_overwrite<uint8_t[]>(kCompressedChunk);
  ZSTD_inBuffer in_{nullptr, 0, 0};
  ZSTD_DCtx* dctx_ = nullptr;
  std::string error_;
  std::string pending_error_;
  uint64_t out_total_ = 0;
  Damage damage_ = Damage::kNone;
  size_t last_rc_ = 1;
  bool in_eof_ = false;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<ByteSource> open_file_source(const std::string& path, std::string& err) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    err = "cannot open " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    err = "cannot open " + path + ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  if (S_ISDIR(st.st_mode)) {
    err = "cannot open " + path + ": " + std::strerror(EISDIR);
    ::close(fd);
    return nullptr;
  }
  uint64_t size = 0;
  if (S_ISREG(st.st_mode)) {
    size = static_cast<uint64_t>(st.st_size);
    // Read once front to back; let the kernel read ahead and not keep pages.
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  return std::make_unique<FileSource>(fd, path, size);
}

std::unique_ptr<ByteSource> decompress_by_magic(std::unique_ptr<ByteSource> source, const std::string& name,
                                                std::string& err, Compression* found) {
  uint8_t head[4];
  size_t n = 0;
  while (n < sizeof head) {
    size_t got = source->read(head + n, sizeof head - n);
    if (got == 0) break;
    n += got;
  }
  if (n < sizeof head && !source->error().empty()) {
    err = source->error();
    return nullptr;
  }
  Compression kind = Compression::kNone;
  if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) kind = Compression::kGzip;
  else if (n >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd) kind = Compression::kZstd;
  if (found) *found = kind;
  auto replay = std::make_unique<ReplaySource>(std::move(source), head, n);
  switch (kind) {
    case Compression::kGzip:
      return std::make_unique<GzipSource>(std::move(replay), name);
    case Compression::kZstd:
      return std::make_unique<ZstdSource>(std::move(replay), name);
    case Compression::kNone:
      break;
  }
  return replay;
}

std::unique_ptr<ByteSource> open_byte_source(const std::string& path, std::string& err) {
  auto file = open_file_source(path, err);
  if (!file) return nullptr;
  return decompress_by_magic(std::move(file), path, err);
}

std::unique_ptr<ByteSource> memory_byte_source(core::ByteView bytes) { return std::make_unique<MemorySource>(bytes); }

}  // namespace trawl::capture

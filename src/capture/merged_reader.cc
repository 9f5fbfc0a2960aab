// MergedReader: many captures read as one stream ordered by packet time.
//
// Files are opened lazily: a first pass opens each file just long enough to
// read its first packet's time, then files are opened in that order only when
// the merge reaches their first packet. A folder of consecutive rotated files
// therefore has one file open at a time.
#include <algorithm>
#include <filesystem>
#include <limits>

#include "capture/capture_file.h"
#include "capture/input_buffer.h"
#include "capture/packet_reader.h"

namespace trawl::capture {

namespace {
constexpr size_t kPeekBuffer = 64 * 1024;
constexpr size_t kSoloBuffer = 4u * 1024 * 1024;  // the only open file
constexpr size_t kSharedBuffer = 1024 * 1024;     // a few files open together
constexpr size_t kCrowdBuffer = 256 * 1024;       // many files open together
constexpr size_t kCrowd = 64;
constexpr size_t kMaxInputs = size_t{std::numeric_limits<uint16_t>::max()} + 1;
}  // namespace

struct MergedReader::Impl {
  struct Pending {
    int64_t first_ts;
    uint32_t index;
  };
  struct Open {
    std::unique_ptr<PacketReader> reader;
    RawPacket pkt;
    uint32_t index;
  };
  // Heap order: the earliest packet on top, ties to the lower input index.
  static bool later(const Open& a, const Open& b) {
    if (a.pkt.ts.ns != b.pkt.ts.ns) return a.pkt.ts.ns > b.pkt.ts.ns;
    return a.index > b.index;
  }

  Impl(std::vector<std::string> p, core::Anomalies& a, bool ra) : anomalies(a), paths(std::move(p)), read_ahead(ra) {
    sizes.resize(paths.size(), 0);
    for (size_t i = 0; i < paths.size(); ++i) {
      std::error_code ec;
      auto size = std::filesystem::file_size(paths[i], ec);
      if (!ec) sizes[i] = size;
      total_bytes += sizes[i];
    }
  }

  void start() {
    started = true;
    size_t n = std::min(paths.size(), kMaxInputs);
    for (size_t i = n; i < paths.size(); ++i) {
      errors.push_back(paths[i] + ": skipped, more than " + std::to_string(kMaxInputs) + " inputs");
      done_bytes += sizes[i];
    }
    if (n == 1) {
      pending.push_back({std::numeric_limits<int64_t>::min(), 0});
      return;
    }
    for (size_t i = 0; i < n; ++i) {
      // Anomalies met before the first packet are counted when the file is
      // read for real; only a file that ends here keeps this pass's counts.
      core::Anomalies scratch;
      std::string err;
      auto r = open_capture_file(paths[i], static_cast<uint16_t>(i), scratch, err, kPeekBuffer);
      if (!r) {
        anomalies.merge(scratch);  // damage that stopped the open: counted once, here
        errors.push_back(err);
        done_bytes += sizes[i];
        continue;
      }
      RawPacket p;
      ReadResult res = r->next(p);
      if (res == ReadResult::kPacket) {
        pending.push_back({p.ts.ns, static_cast<uint32_t>(i)});
        continue;
      }
      anomalies.merge(scratch);
      if (res == ReadResult::kError) errors.push_back(r->error());
      done_bytes += sizes[i];
    }
    std::sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) {
      return a.first_ts != b.first_ts ? a.first_ts < b.first_ts : a.index < b.index;
    });
  }

  void open_next_pending() {
    const Pending& p = pending[next_pending++];
    size_t buffer = heap.empty() ? kSoloBuffer : heap.size() < kCrowd ? kSharedBuffer : kCrowdBuffer;
    std::string err;
    Open o;
    o.index = p.index;
    // Read-ahead threads only for a file read alone (the common case, and
    // split captures opened one after the other), never one per open file.
    o.reader = open_capture_file(paths[p.index], static_cast<uint16_t>(p.index), anomalies, err, buffer,
                                 read_ahead && heap.empty());
    if (!o.reader) {
      errors.push_back(err);
      done_bytes += sizes[p.index];
      return;
    }
    advance(std::move(o));
  }

  // Reads the next packet of o and puts it back in the heap, or closes it.
  void advance(Open o) {
    ReadResult res = o.reader->next(o.pkt);
    if (res == ReadResult::kPacket) {
      heap.push_back(std::move(o));
      std::push_heap(heap.begin(), heap.end(), later);
      return;
    }
    if (res == ReadResult::kError) errors.push_back(o.reader->error());
    done_bytes += sizes[o.index];
  }

  ReadResult next(RawPacket& out) {
    if (!started) start();
    // The packet handed out last time stays valid until now: only now may its
    // reader move on.
    if (have_current) {
      // Fast path: the only file left is the one we read from; no heap work.
      if (heap.empty() && next_pending >= pending.size()) {
        ReadResult res = current.reader->next(current.pkt);
        if (res == ReadResult::kPacket) {
          out = current.pkt;
          return res;
        }
        have_current = false;
        if (res == ReadResult::kError) errors.push_back(current.reader->error());
        done_bytes += sizes[current.index];
        current = Open{};
        return ReadResult::kEnd;
      }
      have_current = false;
      advance(std::move(current));
    }
    while (next_pending < pending.size() &&
           (heap.empty() || pending[next_pending].first_ts <= heap.front().pkt.ts.ns)) {
      open_next_pending();
    }
    if (heap.empty()) return ReadResult::kEnd;
    std::pop_heap(heap.begin(), heap.end(), later);
    current = std::move(heap.back());
    heap.pop_back();
    have_current = true;
    out = current.pkt;
    return ReadResult::kPacket;
  }

  uint64_t bytes_done() const {
    uint64_t n = done_bytes;
    for (const Open& o : heap) n += o.reader->bytes_done();
    if (have_current) n += current.reader->bytes_done();
    return n;
  }

  core::Anomalies& anomalies;
  std::vector<std::string> paths;
  bool read_ahead = false;
  std::vector<uint64_t> sizes;
  std::vector<std::string> errors;
  std::string error;  // per-file errors go to errors; the merge itself never fails
  std::vector<Pending> pending;
  size_t next_pending = 0;
  std::vector<Open> heap;
  Open current;
  bool have_current = false;
  bool started = false;
  uint64_t done_bytes = 0;
  uint64_t total_bytes = 0;
};

MergedReader::MergedReader(std::vector<std::string> paths, core::Anomalies& anomalies, bool read_ahead)
    : impl_(std::make_unique<Impl>(std::move(paths), anomalies, read_ahead)) {}
MergedReader::~MergedReader() = default;
ReadResult MergedReader::next(RawPacket& out) { return impl_->next(out); }
const std::string& MergedReader::error() const { return impl_->error; }
uint64_t MergedReader::bytes_done() const { return impl_->bytes_done(); }
uint64_t MergedReader::bytes_total() const { return impl_->total_bytes; }
const std::vector<std::string>& MergedReader::errors() const { return impl_->errors; }
const std::vector<std::string>& MergedReader::paths() const { return impl_->paths; }

}  // namespace trawl::capture

// load_intel(): files and folders of feeds into the store. Folders are walked
// in sorted order (so load order, source ids and errors never depend on the
// file system), gzip is undone by content, and a MISP feed folder goes to
// load_misp_feed_dir().
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "intel/feeds.h"

namespace trawl::intel {

namespace {

namespace fs = std::filesystem;

constexpr int kMaxDepth = 16;              // folder nesting (also stops symlink loops)
constexpr size_t kMaxFolderFiles = 100000;  // files taken from one --intel folder

bool read_all(const std::string& path, std::string& out, std::string& why) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    why = std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    why = S_ISDIR(st.st_mode) ? "is a folder" : "not a regular file";
    ::close(fd);
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxFeedBytes) {
    why = "larger than the limit of " + std::to_string(kMaxFeedBytes >> 20) + " MiB";
    ::close(fd);
    return false;
  }
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;  // the file shrank while we read it
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  ::close(fd);
  return true;
}

bool is_gzip(std::string_view b) {
  return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1f && static_cast<unsigned char>(b[1]) == 0x8b;
}

// Inflates gzip (several members too) up to kMaxFeedBytes.
bool gunzip(std::string_view in, std::string& out, std::string& why) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) {
    why = "zlib init failed";
    return false;
  }
  out.clear();
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
  size_t fed = z.avail_in;
  char chunk[1 << 16];
  bool ok = true;
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    int rc = inflate(&z, Z_NO_FLUSH);
    size_t produced = sizeof chunk - z.avail_out;
    if (out.size() + produced > kMaxFeedBytes) {
      why = "decompresses to more than the limit of " + std::to_string(kMaxFeedBytes >> 20) + " MiB";
      ok = false;
      break;
    }
    out.append(chunk, produced);
    if (z.avail_in == 0 && fed < in.size()) {
      size_t more = std::min<size_t>(in.size() - fed, UINT32_MAX);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + fed));
      z.avail_in = static_cast<uInt>(more);
      fed += more;
    }
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (concatenated .gz files).
      if (z.avail_in == 0 || !is_gzip(std::string_view(reinterpret_cast<const char*>(z.next_in), z.avail_in))) break;
      if (inflateReset(&z) != Z_OK) {
        why = "zlib reset failed";
        ok = false;
        break;
      }
      continue;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) {
      why = "truncated gzip data";
      ok = false;
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      why = std::string("corrupt gzip data") + (z.msg != nullptr ? std::string(": ") + z.msg : std::string());
      ok = false;
      break;
    }
  }
  inflateEnd(&z);
  return ok;
}

void unreadable(const std::string& path, const std::string& why, LoadReport& report) {
  report.error(path, 0, "cannot read: " + why);
  FileSummary s;
  s.file = path;
  s.errors = 1;
  report.loaded.push_back(std::move(s));
}

void load_file(const std::string& path, IndicatorStore& store, LoadReport& report) {
  std::string bytes;
  std::string why;
  if (!read_all(path, bytes, why)) {
    unreadable(path, why, report);
    return;
  }
  if (is_gzip(bytes)) {
    std::string plain;
    if (!gunzip(bytes, plain, why)) {
      unreadable(path, why, report);
      return;
    }
    bytes.swap(plain);
  }
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "PK\x03\x04", 4) == 0) {
    unreadable(path, "a zip archive (unzip it first)", report);
    return;
  }
  ++report.files;
  parse_feed(path, bytes, store, report);
}

void load_misp_dir(const std::string& dir, IndicatorStore& store, LoadReport& report) {
  FileSummary s;
  s.file = dir;
  s.format = "misp";
  uint64_t ind0 = report.indicators, skip0 = report.skipped, err0 = report.errors_total;
  load_misp_feed_dir(dir, store, report);
  s.indicators = report.indicators - ind0;
  s.skipped = report.skipped - skip0;
  s.errors = report.errors_total - err0;
  report.loaded.push_back(std::move(s));
}

// Hidden files, and the notes that feed folders often carry (README, *.md):
// left out of a folder walk (a file named on the command line is still read).
bool hidden(const fs::path& p) {
  std::string n = p.filename().string();
  return (!n.empty() && n[0] == '.') || n.starts_with("README") || n.ends_with(".md");
}

// Regular files under dir, sorted, hidden ones (and hidden folders) and notes left out;
// folders holding manifest.json are listed as themselves (MISP feeds).
void walk(const fs::path& dir, int depth, std::vector<std::pair<fs::path, bool>>& out, LoadReport& report) {
  if (depth > kMaxDepth) {
    report.error(dir.string(), 0, "folders nested deeper than " + std::to_string(kMaxDepth) + " levels: not read");
    return;
  }
  std::error_code ec;
  std::vector<fs::path> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!hidden(it->path())) entries.push_back(it->path());
    if (entries.size() > kMaxFolderFiles) break;
  }
  if (ec) {
    report.error(dir.string(), 0, "cannot read folder: " + ec.message());
    return;
  }
  std::sort(entries.begin(), entries.end());
  for (const auto& p : entries) {
    if (out.size() >= kMaxFolderFiles) {
      report.error(dir.string(), 0, "more than " + std::to_string(kMaxFolderFiles) + " files: the rest not read");
      return;
    }
    std::error_code sec;
    auto st = fs::status(p, sec);
    if (fs::is_directory(st)) {
      if (fs::exists(p / "manifest.json", sec)) {
        out.emplace_back(p, true);
      } else {
        walk(p, depth + 1, out, report);
      }
    } else {
      // Regular files, and also broken links and the like, so they are reported.
      out.emplace_back(p, false);
    }
  }
}

}  // namespace

void load_intel(const std::string& path, IndicatorStore& store, LoadReport& report) {
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    unreadable(path, ec ? ec.message() : std::string("no such file or folder"), report);
    return;
  }
  if (!fs::is_directory(st)) {
    load_file(path, store, report);
    return;
  }
  if (fs::exists(fs::path(path) / "manifest.json", ec)) {
    load_misp_dir(path, store, report);
    return;
  }
  std::vector<std::pair<fs::path, bool>> files;
  walk(fs::path(path), 0, files, report);
  for (const auto& [p, misp] : files) {
    if (misp) {
      load_misp_dir(p.string(), store, report);
    } else {
      load_file(p.string(), store, report);
    }
  }
}

}  // namespace trawl::intel

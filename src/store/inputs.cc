// describe_input: what a capture file is, so --append can tell a capture that
// is already in the case (even renamed or copied) from a new one.
#include <openssl/evp.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "store/sink.h"

namespace trawl::store {

namespace {

constexpr uint64_t kEdge = 64 * 1024;  // bytes hashed at each end

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
struct MdFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

bool hash_range(std::FILE* f, uint64_t from, uint64_t len, EVP_MD_CTX* ctx) {
  if (std::fseek(f, static_cast<long>(from), SEEK_SET) != 0) return false;
  std::unique_ptr<unsigned char[]> buf(new unsigned char[64 * 1024]);
  while (len > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(len, 64 * 1024));
    size_t got = std::fread(buf.get(), 1, want, f);
    if (got != want) return false;
    if (EVP_DigestUpdate(ctx, buf.get(), got) != 1) return false;
    len -= got;
  }
  return true;
}

}  // namespace

bool describe_input(const std::string& path, InputInfo& out, std::string& error) {
  out = InputInfo{};
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  out.path = ec ? path : abs.lexically_normal().string();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    return false;
  }
  out.size = static_cast<uint64_t>(st.st_size);
  out.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  std::unique_ptr<EVP_MD_CTX, MdFree> ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
  // Size plus both ends: cheap on terabytes, and captures that differ
  // anywhere in practice differ in length, start or end.
  if (ok && out.size <= 2 * kEdge) {
    ok = hash_range(f.get(), 0, out.size, ctx.get());
  } else if (ok) {
    ok = hash_range(f.get(), 0, kEdge, ctx.get()) && hash_range(f.get(), out.size - kEdge, kEdge, ctx.get());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  ok = ok && EVP_DigestFinal_ex(ctx.get(), md, &md_len) == 1;
  if (!ok) {
    error = path + ": cannot read the file to identify it";
    return false;
  }
  static const char kHex[] = "0123456789abcdef";
  out.identity = std::to_string(out.size) + ":";
  for (unsigned int i = 0; i < md_len; ++i) {
    out.identity.push_back(kHex[md[i] >> 4]);
    out.identity.push_back(kHex[md[i] & 15]);
  }
  return true;
}

}  // namespace trawl::store

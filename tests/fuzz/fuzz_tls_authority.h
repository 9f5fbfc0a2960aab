// The sinkhole CA the fuzz targets share: made once per process in a
// temporary directory (removed at exit), with a small context cache.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "sinkhole/tls_session.h"

namespace trawl::fuzz {

inline std::string& fuzz_ca_dir() {
  static std::string dir;
  return dir;
}

inline trawl::sinkhole::TlsAuthority& fuzz_tls_authority() {
  static std::unique_ptr<trawl::sinkhole::TlsAuthority> ca = [] {
    std::string t = (std::filesystem::temp_directory_path() / "trawl-tls-fuzz-XXXXXX").string();
    if (::mkdtemp(t.data()) == nullptr) __builtin_trap();
    fuzz_ca_dir() = t;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(fuzz_ca_dir(), ec);
    });
    std::string err;
    auto a = trawl::sinkhole::TlsAuthority::open(t + "/ca", err);
    if (!a) __builtin_trap();
    a->set_max_contexts(4);
    return a;
  }();
  return *ca;
}

}  // namespace trawl::fuzz

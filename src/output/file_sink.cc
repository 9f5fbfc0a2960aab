#include "output/file_sink.h"

#include <cerrno>
#include <cstring>

namespace trawl::output {

FileSink::~FileSink() { close(); }

bool FileSink::open(const std::string& path) {
  close();
  path_ = path;
  std::string tmp = path + ".tmp";
  file_ = std::fopen(tmp.c_str(), "wb");
  if (file_ == nullptr) {
    error_ = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

void FileSink::write(std::string_view data) {
  if (file_ == nullptr || data.empty()) return;
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size() && error_.empty()) {
    error_ = "write to " + path_ + " failed: " + std::strerror(errno);
  }
}

bool FileSink::close() {
  if (file_ == nullptr) return error_.empty();
  bool ok = std::fclose(file_) == 0 && error_.empty();
  file_ = nullptr;
  std::string tmp = path_ + ".tmp";
  if (!ok) {
    if (error_.empty()) error_ = "closing " + path_ + " failed: " + std::strerror(errno);
    return false;
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    error_ = "cannot rename " + tmp + " to " + path_ + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace trawl::output

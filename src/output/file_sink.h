// FileSink: a buffered output file for records. Writes go to NAME.tmp and are
// renamed into place by close(), so a crash never leaves a half-written file
// under the final name; flush() makes what is written so far durable on disk
// under the .tmp name.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace trawl::output {

class FileSink {
 public:
  FileSink() = default;
  ~FileSink();
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  // Opens path for writing; false with error() set on failure.
  bool open(const std::string& path);
  bool is_open() const { return file_ != nullptr; }
  void write(std::string_view data);
  // Appends buffered text and clears it once it is large.
  void write_buffered(std::string& buffer) {
    if (buffer.size() >= kChunk) drain(buffer);
  }
  void drain(std::string& buffer) {
    write(buffer);
    buffer.clear();
  }
  bool close();
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  uint64_t lines() const { return lines_; }
  void count_line() { ++lines_; }

  static constexpr size_t kChunk = 1 << 20;

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
  std::string error_;
  uint64_t lines_ = 0;
};

}  // namespace trawl::output

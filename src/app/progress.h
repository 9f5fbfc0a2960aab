// Progress: a one-line progress bar on stderr (bytes done of total, packets/s,
// time left), drawn only when stderr is a terminal. Wall clock is used here
// and nowhere in records.
#pragma once

#include <chrono>
#include <cstdint>

namespace trawl::app {

class Progress {
 public:
  explicit Progress(bool enabled);
  void update(uint64_t done, uint64_t total, uint64_t packets);
  void finish(uint64_t done, uint64_t total, uint64_t packets);

 private:
  void draw(uint64_t done, uint64_t total, uint64_t packets);
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace trawl::app

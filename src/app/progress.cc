#include "app/progress.h"

#include <unistd.h>

#include <cstdio>

namespace trawl::app {

Progress::Progress(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO) == 1) {
  start_ = last_ = std::chrono::steady_clock::now();
}

void Progress::update(uint64_t done, uint64_t total, uint64_t packets) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  draw(done, total, packets);
}

void Progress::draw(uint64_t done, uint64_t total, uint64_t packets) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
  if (frac > 1.0) frac = 1.0;
  constexpr int kWidth = 30;
  char bar[kWidth + 1];
  int filled = static_cast<int>(frac * kWidth);
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kWidth] = '\0';
  double pps = elapsed > 0 ? static_cast<double>(packets) / elapsed : 0.0;
  double left = frac > 0.001 ? elapsed * (1.0 - frac) / frac : 0.0;
  std::fprintf(stderr, "\r[%s] %5.1f%%  %.0f/%.0f MB  %.2f Mpkt/s  %3.0f s left ", bar, frac * 100.0,
               static_cast<double>(done) / 1e6, static_cast<double>(total) / 1e6, pps / 1e6, left);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish(uint64_t done, uint64_t total, uint64_t packets) {
  if (!enabled_ || !drawn_) return;
  draw(done, total, packets);
  std::fputs("\n", stderr);
}

}  // namespace trawl::app

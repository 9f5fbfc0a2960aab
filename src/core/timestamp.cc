#include "core/timestamp.h"

#include <charconv>
#include <ctime>

namespace trawl::core {

namespace {
std::string format_micros(int64_t ns) {
  // Round to the nearest microsecond, then print integer parts so the result
  // never depends on floating-point formatting.
  bool neg = ns < 0;
  uint64_t mag = neg ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  uint64_t us = (mag + 500) / 1000;
  char buf[48];
  char* p = buf;
  if (neg) *p++ = '-';
  p = std::to_chars(p, buf + 30, us / 1000000).ptr;
  *p++ = '.';
  uint64_t frac = us % 1000000;
  for (int i = 5; i >= 0; --i) {
    p[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  return std::string(buf, static_cast<size_t>(p + 6 - buf));
}
}  // namespace

std::string format_epoch_micros(Timestamp t) { return format_micros(t.ns); }

std::string format_utc_seconds(Timestamp t) {
  std::time_t s = static_cast<std::time_t>(t.sec());
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}
std::string format_duration_micros(int64_t ns) { return format_micros(ns); }

}  // namespace trawl::core

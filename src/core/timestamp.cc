#include "core/timestamp.h"

#include <cinttypes>
#include <cstdio>

namespace trawl::core {

namespace {
std::string format_micros(int64_t ns) {
  // Round to the nearest microsecond, then print integer parts so the result
  // never depends on floating-point formatting.
  bool neg = ns < 0;
  uint64_t mag = neg ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  uint64_t us = (mag + 500) / 1000;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%06" PRIu64, neg ? "-" : "", us / 1000000, us % 1000000);
  return buf;
}
}  // namespace

std::string format_epoch_micros(Timestamp t) { return format_micros(t.ns); }
std::string format_duration_micros(int64_t ns) { return format_micros(ns); }

}  // namespace trawl::core

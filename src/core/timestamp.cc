#include "core/timestamp.h"

#include <cstring>
#include <ctime>

#include "core/digits.h"

namespace trawl::core {

char* write_micros(char* p, int64_t ns) {
  // Round to the nearest microsecond, then print integer parts so the result
  // never depends on floating-point formatting.
  bool neg = ns < 0;
  uint64_t mag = neg ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  uint64_t us = (mag + 500) / 1000;
  if (neg) *p++ = '-';
  // Whole seconds (at most 10 digits: INT64_MAX ns is 9223372036 s). Epoch
  // times have 10 digits: the top one or two, then a fixed run of eight;
  // smaller values are counted, then written from the back two at a time.
  uint64_t sec = us / 1000000;
  auto frac = static_cast<uint32_t>(us - sec * 1000000);
  if (sec >= 100000000) {
    auto top = static_cast<uint32_t>(sec / 100000000);
    auto low = static_cast<uint32_t>(sec - uint64_t{top} * 100000000);
    if (top >= 10) {
      std::memcpy(p, kDigitPairs.v + 2 * top, 2);
      p += 2;
    } else {
      *p++ = static_cast<char>('0' + top);
    }
    uint32_t hi = low / 10000, lo = low % 10000;
    std::memcpy(p, kDigitPairs.v + 2 * (hi / 100), 2);
    std::memcpy(p + 2, kDigitPairs.v + 2 * (hi % 100), 2);
    std::memcpy(p + 4, kDigitPairs.v + 2 * (lo / 100), 2);
    std::memcpy(p + 6, kDigitPairs.v + 2 * (lo % 100), 2);
    p += 8;
  } else {
    auto v = static_cast<uint32_t>(sec);
    size_t digits = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 : 8;
    char* q = p + digits;
    p = q;
    while (v >= 100) {
      q -= 2;
      std::memcpy(q, kDigitPairs.v + 2 * (v % 100), 2);
      v /= 100;
    }
    if (v >= 10) {
      std::memcpy(q - 2, kDigitPairs.v + 2 * v, 2);
    } else {
      q[-1] = static_cast<char>('0' + v);
    }
  }
  *p++ = '.';
  std::memcpy(p, kDigitPairs.v + 2 * (frac / 10000), 2);
  std::memcpy(p + 2, kDigitPairs.v + 2 * (frac / 100 % 100), 2);
  std::memcpy(p + 4, kDigitPairs.v + 2 * (frac % 100), 2);
  return p + 6;
}

std::string format_epoch_micros(Timestamp t) {
  char buf[kMicrosTextMax];
  return std::string(buf, write_micros(buf, t.ns));
}

std::string format_utc_seconds(Timestamp t) {
  std::time_t s = static_cast<std::time_t>(t.sec());
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string format_duration_micros(int64_t ns) {
  char buf[kMicrosTextMax];
  return std::string(buf, write_micros(buf, ns));
}

}  // namespace trawl::core

// Timestamp: packet time in nanoseconds since the Unix epoch. All of Trawl's
// clocks are packet time; the wall clock is never used for records.
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>

namespace trawl::core {

struct Timestamp {
  int64_t ns = 0;

  static constexpr Timestamp from_sec_nsec(int64_t sec, int64_t nsec) { return {sec * 1000000000 + nsec}; }
  static constexpr Timestamp from_seconds(double s) { return {static_cast<int64_t>(s * 1e9)}; }
  constexpr double seconds() const { return static_cast<double>(ns) / 1e9; }
  constexpr int64_t sec() const { return ns >= 0 ? ns / 1000000000 : -((-ns + 999999999) / 1000000000); }

  friend constexpr auto operator<=>(Timestamp, Timestamp) = default;
  // Saturating: hostile captures carry timestamps at the ends of the range,
  // and deadlines computed from them must not wrap around.
  friend constexpr Timestamp operator+(Timestamp a, int64_t d) {
    int64_t r = 0;
    if (__builtin_add_overflow(a.ns, d, &r)) return {d > 0 ? INT64_MAX : INT64_MIN};
    return {r};
  }
  friend constexpr int64_t operator-(Timestamp a, Timestamp b) {
    int64_t r = 0;
    if (__builtin_sub_overflow(a.ns, b.ns, &r)) return a.ns > b.ns ? INT64_MAX : INT64_MIN;
    return r;
  }
};

constexpr int64_t kNsPerSec = 1000000000;

// "1320279566.452687": seconds with exactly six decimals, as Zeek's JSON logs.
std::string format_epoch_micros(Timestamp t);
// The same text for a time or a duration in ns, written at p without a
// std::string (the record writers call it for every line; the text is longer
// than the small-string buffer, so format_* allocate). p needs room for
// kMicrosTextMax bytes; returns the end of the text.
inline constexpr size_t kMicrosTextMax = 24;  // "-9223372036.854776" is 18
char* write_micros(char* p, int64_t ns);
// Duration in seconds with six decimals.
std::string format_duration_micros(int64_t ns);
// "2024-03-12 09:00:05": UTC, whole seconds, for terminal summaries.
std::string format_utc_seconds(Timestamp t);

}  // namespace trawl::core

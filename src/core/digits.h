// Tables for writing and scaling decimal numbers (timestamps, JSON numbers,
// pcapng time resolutions), shared so that each exists once.
#pragma once

#include <cstdint>

namespace trawl::core {

// "00" to "99": two digits per division when writing numbers.
struct DigitPairs {
  char v[200] = {};
  constexpr DigitPairs() {
    for (int i = 0; i < 100; ++i) {
      v[2 * i] = static_cast<char>('0' + i / 10);
      v[2 * i + 1] = static_cast<char>('0' + i % 10);
    }
  }
};
inline constexpr DigitPairs kDigitPairs;

// 10^0 .. 10^19 (the largest power of ten in a uint64_t).
inline constexpr uint64_t kPow10[20] = {1ull,
                                        10ull,
                                        100ull,
                                        1000ull,
                                        10000ull,
                                        100000ull,
                                        1000000ull,
                                        10000000ull,
                                        100000000ull,
                                        1000000000ull,
                                        10000000000ull,
                                        100000000000ull,
                                        1000000000000ull,
                                        10000000000000ull,
                                        100000000000000ull,
                                        1000000000000000ull,
                                        10000000000000000ull,
                                        100000000000000000ull,
                                        1000000000000000000ull,
                                        10000000000000000000ull};

}  // namespace trawl::core

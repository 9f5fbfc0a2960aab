#include "flow/conn_uid.h"

#include <array>
#include <cstring>

#include "core/hash.h"

namespace trawl::flow {

namespace {

constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// The two base-62 digits of every value below 62^2, most significant first.
constexpr std::array<char, 2 * 3844> make_pairs() {
  std::array<char, 2 * 3844> t{};
  for (size_t v = 0; v < 3844; ++v) {
    t[2 * v] = kDigits[v / 62];
    t[2 * v + 1] = kDigits[v % 62];
  }
  return t;
}
constexpr std::array<char, 2 * 3844> kPairs = make_pairs();

}  // namespace

std::string make_conn_uid(uint64_t first_index, const FlowKey& key, core::Timestamp first_ts) {
  uint8_t buf[sizeof(FlowKey) + 16];
  std::memcpy(buf, &key, sizeof key);
  std::memcpy(buf + sizeof key, &first_index, 8);
  std::memcpy(buf + sizeof key + 8, &first_ts.ns, 8);
  uint64_t hi = core::hash_bytes(buf, sizeof buf, 0x5452415746554944ull);  // "TRAWFUID"
  uint64_t lo = core::hash_bytes(buf, sizeof buf, core::mix64(hi) ^ 0x2545f4914f6cdd1dull);

  // The 128-bit value as four 32-bit limbs, most significant first. Its 17
  // lowest base-62 digits are written, five at a time: each round divides by
  // 62^5 (which fits in 32 bits) and splits the remainder into digits.
  uint32_t limb[4] = {static_cast<uint32_t>(hi >> 32), static_cast<uint32_t>(hi), static_cast<uint32_t>(lo >> 32),
                      static_cast<uint32_t>(lo)};
  constexpr uint64_t k62to5 = 62ull * 62 * 62 * 62 * 62;  // 916,132,832
  // Four rounds give 20 digits (d[19] the lowest); the uid keeps the lowest
  // 17. Each round's remainder r < 62^5 is split as r = (a * 3844 + b) *
  // 3844 + c with two digits per table lookup (kPairs), the top one alone.
  char d[20];
  for (int round = 0; round < 4; ++round) {
    uint64_t rem = 0;
    for (uint32_t& l : limb) {
      uint64_t cur = (rem << 32) | l;
      l = static_cast<uint32_t>(cur / k62to5);
      rem = cur % k62to5;
    }
    auto r = static_cast<uint32_t>(rem);
    char* out = d + 15 - 5 * round;  // this round's five digits, most significant first
    const uint32_t low = r % 3844;
    r /= 3844;
    const uint32_t mid = r % 3844;
    out[0] = kDigits[r / 3844];
    std::memcpy(out + 1, kPairs.data() + 2 * mid, 2);
    std::memcpy(out + 3, kPairs.data() + 2 * low, 2);
  }
  char uid[18];
  uid[0] = 'C';
  std::memcpy(uid + 1, d + 3, 17);
  return std::string(uid, sizeof uid);
}

}  // namespace trawl::flow

#include "flow/conn_uid.h"

#include <cstring>

#include "core/hash.h"

namespace trawl::flow {

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
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  constexpr uint64_t k62to5 = 62ull * 62 * 62 * 62 * 62;  // 916,132,832
  std::string uid(18, 'C');
  int pos = 17;
  while (pos >= 1) {
    uint64_t rem = 0;
    for (uint32_t& l : limb) {
      uint64_t cur = (rem << 32) | l;
      l = static_cast<uint32_t>(cur / k62to5);
      rem = cur % k62to5;
    }
    auto r = static_cast<uint32_t>(rem);
    for (int k = 0; k < 5 && pos >= 1; ++k, --pos) {
      uid[static_cast<size_t>(pos)] = kDigits[r % 62];
      r /= 62;
    }
  }
  return uid;
}

}  // namespace trawl::flow

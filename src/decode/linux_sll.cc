// Linux "cooked" captures (any interface): SLL (113) and SLL2 (276) headers.
// They hold only the sender's link address, kept as src_mac when it is one.
#include <cstring>

#include "decode/layers.h"

namespace trawl::decode::detail {

namespace {
constexpr uint16_t kArphrdEther = 1;
constexpr uint16_t kArphrdLoopback = 772;
constexpr uint16_t kArphrdNetlink = 824;
constexpr uint16_t kSllProto8022 = 0x0004;  // 802.2 LLC frame follows

void take_address(Ctx& c, uint16_t hatype, size_t halen, const uint8_t* addr) {
  if (halen == 6 && (hatype == kArphrdEther || hatype == kArphrdLoopback)) {
    std::memcpy(c.out.src_mac.data(), addr, 6);
    c.out.has_mac = true;
  }
}

DecodeStatus dispatch(Ctx& c, uint16_t hatype, uint16_t proto, core::ByteView data) {
  if (hatype == kArphrdNetlink) return DecodeStatus::kOk;
  if (proto == kSllProto8022) return decode_llc(c, data);
  if (proto < 0x0600) return DecodeStatus::kOk;  // Novell 802.3, AX.25, CAN, ...
  return decode_ethertype(c, proto, data);
}
}  // namespace

DecodeStatus decode_linux_sll(Ctx& c, core::ByteView data) {
  // packet type(2) ARPHRD type(2) address length(2) address(8) protocol(2)
  if (data.size() < 16) return c.truncated(anomaly::kTruncatedSll, data);
  const uint8_t* p = data.data();
  const uint16_t hatype = core::load_be16(p + 2);
  take_address(c, hatype, core::load_be16(p + 4), p + 6);
  return dispatch(c, hatype, core::load_be16(p + 14), data.subspan(16));
}

DecodeStatus decode_linux_sll2(Ctx& c, core::ByteView data) {
  // protocol(2) reserved(2) ifindex(4) ARPHRD type(2) packet type(1)
  // address length(1) address(8)
  if (data.size() < 20) return c.truncated(anomaly::kTruncatedSll2, data);
  const uint8_t* p = data.data();
  const uint16_t hatype = core::load_be16(p + 8);
  take_address(c, hatype, p[11], p + 12);
  return dispatch(c, hatype, core::load_be16(p), data.subspan(20));
}

}  // namespace trawl::decode::detail

#include "core/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace trawl::core {

IpAddress IpAddress::v4(const uint8_t* four_bytes) {
  IpAddress a;
  a.v4_ = true;
  a.b_[10] = 0xff;
  a.b_[11] = 0xff;
  std::memcpy(a.b_.data() + 12, four_bytes, 4);
  return a;
}

IpAddress IpAddress::v4(uint32_t host_order) {
  uint8_t b[4] = {static_cast<uint8_t>(host_order >> 24), static_cast<uint8_t>(host_order >> 16),
                  static_cast<uint8_t>(host_order >> 8), static_cast<uint8_t>(host_order)};
  return v4(b);
}

IpAddress IpAddress::v6(const uint8_t* sixteen_bytes) {
  IpAddress a;
  a.v4_ = false;
  std::memcpy(a.b_.data(), sixteen_bytes, 16);
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t raw[16];
  if (inet_pton(AF_INET, buf, raw) == 1) return v4(raw);
  if (inet_pton(AF_INET6, buf, raw) == 1) return v6(raw);
  return std::nullopt;
}

uint32_t IpAddress::v4_host_order() const {
  return (uint32_t{b_[12]} << 24) | (uint32_t{b_[13]} << 16) | (uint32_t{b_[14]} << 8) | uint32_t{b_[15]};
}

bool IpAddress::is_private() const {
  if (v4_) {
    uint32_t a = v4_host_order();
    return (a >> 24) == 10 || (a >> 20) == (172u << 4 | 1u) || (a >> 16) == (192u << 8 | 168u) ||
           (a >> 24) == 127 || (a >> 16) == (169u << 8 | 254u);
  }
  if ((b_[0] & 0xfe) == 0xfc) return true;                    // fc00::/7
  if (b_[0] == 0xfe && (b_[1] & 0xc0) == 0x80) return true;   // fe80::/10
  static const uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(b_.data(), kLoopback, 16) == 0;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (v4_) {
    // Formatted by hand: inet_ntop goes through sprintf, which shows in
    // profiles when every record prints two addresses.
    char* p = buf;
    for (int i = 12; i < 16; ++i) {
      unsigned v = b_[static_cast<size_t>(i)];
      if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
      if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
      *p++ = static_cast<char>('0' + v % 10);
      if (i != 15) *p++ = '.';
    }
    return std::string(buf, static_cast<size_t>(p - buf));
  } else {
    inet_ntop(AF_INET6, b_.data(), buf, sizeof buf);
  }
  return buf;
}

}  // namespace trawl::core

namespace trawl::core {

std::optional<IpNetwork> IpNetwork::parse(std::string_view text) {
  size_t slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  unsigned max = addr->is_v4() ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3) return std::nullopt;
    prefix = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return std::nullopt;
      prefix = prefix * 10 + static_cast<unsigned>(c - '0');
    }
    if (prefix > max) return std::nullopt;
  }
  return IpNetwork{*addr, static_cast<uint8_t>(prefix)};
}

bool IpNetwork::contains(const IpAddress& a) const {
  if (a.is_v4() != base.is_v4()) return false;
  unsigned bits = prefix + (base.is_v4() ? 96u : 0u);
  const auto& x = a.bytes();
  const auto& y = base.bytes();
  unsigned full = bits / 8;
  for (unsigned i = 0; i < full; ++i) {
    if (x[i] != y[i]) return false;
  }
  unsigned rest = bits % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (x[full] & mask) == (y[full] & mask);
}

}  // namespace trawl::core

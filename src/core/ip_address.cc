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

namespace {

// Decimal text of 0-255 in the first three bytes, its length in the fourth,
// so an IPv4 octet is one 4-byte copy.
struct Octets {
  char v[256][4] = {};
  constexpr Octets() {
    for (int i = 0; i < 256; ++i) {
      int n = 0;
      if (i >= 100) v[i][n++] = static_cast<char>('0' + i / 100);
      if (i >= 10) v[i][n++] = static_cast<char>('0' + i / 10 % 10);
      v[i][n++] = static_cast<char>('0' + i % 10);
      v[i][3] = static_cast<char>(n);
    }
  }
};
constexpr Octets kOctets;

// Dotted quad; writes up to 4 bytes past the returned end (callers have
// IpAddress::kTextMax bytes of room): each octet is one 4-byte copy from the table.
char* write_ipv4(char* p, const uint8_t* b) {
  for (size_t i = 0; i < 4; ++i) {
    const char* o = kOctets.v[b[i]];
    std::memcpy(p, o, 4);
    p += o[3];
    *p++ = '.';
  }
  return p - 1;  // without the last dot
}

// inet_ntop's IPv6 text, byte for byte (glibc's rules: the first longest run
// of two or more zero words becomes "::"; "::a.b.c.d" and "::ffff:a.b.c.d"
// for IPv4-compatible and -mapped addresses; hex words without leading
// zeros). inet_ntop costs about 5,000 instructions per address.
char* write_ipv6(char* p, const uint8_t* b) {
  static const char kHex[] = "0123456789abcdef";
  unsigned words[8];
  for (size_t i = 0; i < 8; ++i) words[i] = unsigned{b[2 * i]} << 8 | b[2 * i + 1];
  int best = -1, best_len = 0, cur = -1, cur_len = 0;
  for (int i = 0; i < 8; ++i) {
    if (words[i] == 0) {
      if (cur == -1) {
        cur = i;
        cur_len = 1;
      } else {
        ++cur_len;
      }
    } else if (cur != -1) {
      if (best == -1 || cur_len > best_len) {
        best = cur;
        best_len = cur_len;
      }
      cur = -1;
    }
  }
  if (cur != -1 && (best == -1 || cur_len > best_len)) {
    best = cur;
    best_len = cur_len;
  }
  if (best != -1 && best_len < 2) best = -1;
  for (int i = 0; i < 8; ++i) {
    if (best != -1 && i >= best && i < best + best_len) {
      if (i == best) *p++ = ':';
      continue;
    }
    if (i != 0) *p++ = ':';
    if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
      return write_ipv4(p, b + 12);
    }
    unsigned w = words[i];
    if (w >= 0x1000) *p++ = kHex[w >> 12];
    if (w >= 0x100) *p++ = kHex[(w >> 8) & 15];
    if (w >= 0x10) *p++ = kHex[(w >> 4) & 15];
    *p++ = kHex[w & 15];
  }
  if (best != -1 && best + best_len == 8) *p++ = ':';
  return p;
}

}  // namespace

char* IpAddress::write_text(char* out) const {
  return v4_ ? write_ipv4(out, b_.data() + 12) : write_ipv6(out, b_.data());
}

std::string IpAddress::to_string() const {
  char buf[kTextMax];
  return std::string(buf, static_cast<size_t>(write_text(buf) - buf));
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

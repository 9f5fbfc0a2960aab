// IpAddress: an IPv4 or IPv6 address held in 16 bytes (IPv4 in the last four),
// cheap to copy, compare and hash.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace trawl::core {

class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress v4(const uint8_t* four_bytes);
  static IpAddress v4(uint32_t host_order);
  static IpAddress v6(const uint8_t* sixteen_bytes);
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v4() const { return v4_; }
  bool is_v6() const { return !v4_; }
  const std::array<uint8_t, 16>& bytes() const { return b_; }
  // The address bytes as they appear on the wire: 4 for IPv4, 16 for IPv6.
  const uint8_t* wire_data() const { return v4_ ? b_.data() + 12 : b_.data(); }
  size_t wire_size() const { return v4_ ? 4 : 16; }
  uint32_t v4_host_order() const;

  // RFC 1918, RFC 4193 (ULA), loopback, link-local.
  bool is_private() const;

  std::string to_string() const;
  // The same text written at out (no terminator), which needs kTextMax bytes
  // (the longest IPv6 text is 45; the IPv4 writer stores up to 3 bytes past
  // its end). Returns the end. inet_ntop's text, byte for byte.
  static constexpr size_t kTextMax = 56;
  char* write_text(char* out) const;

  // Byte-wise order, then IPv6 before IPv4 (false < true), as a defaulted
  // comparison would give, but on two 64-bit words instead of a memcmp call
  // (the detectors compare addresses in their maps on every record).
  friend std::strong_ordering operator<=>(const IpAddress& a, const IpAddress& b) {
    uint64_t ah = a.word_be(0), bh = b.word_be(0);
    if (ah != bh) return ah <=> bh;
    uint64_t al = a.word_be(8), bl = b.word_be(8);
    if (al != bl) return al <=> bl;
    return a.v4_ <=> b.v4_;
  }
  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.word(0) == b.word(0) && a.word(8) == b.word(8) && a.v4_ == b.v4_;
  }

 private:
  uint64_t word(size_t at) const {
    uint64_t w;
    std::memcpy(&w, b_.data() + at, 8);
    return w;
  }
  uint64_t word_be(size_t at) const {
    uint64_t w = word(at);
    if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
    return w;
  }

  std::array<uint8_t, 16> b_{};
  bool v4_ = true;
};

}  // namespace trawl::core

namespace trawl::core {

// An address prefix such as 10.0.0.0/8 or 2001:db8::/32.
struct IpNetwork {
  IpAddress base;
  uint8_t prefix = 0;  // in bits of the address family (0-32 or 0-128)

  static std::optional<IpNetwork> parse(std::string_view text);
  bool contains(const IpAddress& a) const;
};

}  // namespace trawl::core

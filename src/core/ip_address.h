// IpAddress: an IPv4 or IPv6 address held in 16 bytes (IPv4 in the last four),
// cheap to copy, compare and hash.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
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

  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
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

// Names Zeek's ssl.log writes for TLS numbers: protocol versions, cipher
// suites (IANA names), named groups and alert descriptions. Unknown values
// render as "unknown-N" (decimal), as Zeek's tables do.
#pragma once

#include <cstdint>
#include <string>

namespace trawl::analyzers::ssl {

// TLS and SSL protocol versions as numbers on the wire.
inline constexpr uint16_t kSslV2 = 0x0002;
inline constexpr uint16_t kSslV3 = 0x0300;
inline constexpr uint16_t kTlsV10 = 0x0301;
inline constexpr uint16_t kTlsV11 = 0x0302;
inline constexpr uint16_t kTlsV12 = 0x0303;
inline constexpr uint16_t kTlsV13 = 0x0304;

// "SSLv2", "SSLv3", "TLSv10" ... "TLSv13", "TLSv13-draft23", "DTLSv12", "unknown-N".
std::string version_name(uint16_t v);
// True for TLS 1.3 and its drafts (0x7fNN) and anything newer than TLS 1.2;
// false for SSLv2, SSLv3 and TLS 1.0 to 1.2.
bool is_tls13_or_later(uint16_t v);

// IANA cipher suite name ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), "unknown-N" otherwise.
std::string cipher_name(uint16_t suite);
// The suite uses an ephemeral or anonymous elliptic-curve key exchange, so its
// ServerKeyExchange starts with ECParameters (RFC 8422 5.4).
bool cipher_is_ecdh(uint16_t suite);

// Named group (RFC 8446 4.2.7, RFC 8422 5.1.1): "secp256r1", "x25519" ...
std::string curve_name(uint16_t group);

// Alert description (RFC 8446 6): "handshake_failure", "unknown_ca" ...
std::string alert_name(uint8_t desc);

// GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa.
inline constexpr bool is_grease(uint16_t v) {
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

}  // namespace trawl::analyzers::ssl

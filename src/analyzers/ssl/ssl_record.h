// SslRecord: one TLS/SSL connection in ssl.jsonl, with Zeek's ssl.log field
// names (Zeek 6: cert_chain_fps, subject/issuer of the host certificate),
// plus fingerprints (ja3, ja3s, ja4, ja4s), the client's offered version and
// the server certificate's validity and DNS names. Detectors read the typed
// fields; numbers are kept as numbers and named only on output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/analyzer.h"

namespace trawl::analyzers::ssl {

class SslRecord final : public Record {
 public:
  std::string_view log() const override { return "ssl"; }
  void write_json(std::string& out) const override;

  void set_conn(const ConnInfo& c);

  std::string uid;
  core::IpAddress orig_h;
  uint16_t orig_p = 0;
  core::IpAddress resp_h;
  uint16_t resp_p = 0;

  std::optional<uint16_t> version;   // the server's choice (supported_versions wins): "TLSv12"
  std::optional<uint16_t> cipher;    // the server's choice: IANA name
  std::optional<uint16_t> curve;     // ECDHE ServerKeyExchange or TLS 1.3 key_share group
  std::optional<std::string> server_name;  // first SNI host name (raw bytes)
  bool resumed = false;
  std::optional<uint8_t> last_alert;       // description of the last plaintext alert
  std::optional<std::string> next_protocol;  // ALPN chosen by the server
  bool established = false;
  std::string ssl_history;                 // Zeek's letters, client upper-case
  bool has_certificates = false;           // either side sent a Certificate message
  std::vector<std::string> cert_chain_fps;         // SHA-256 of each server certificate
  std::vector<std::string> client_cert_chain_fps;  // SHA-256 of each client certificate
  std::optional<std::string> subject;      // of the server's host certificate (RFC 2253)
  std::optional<std::string> issuer;
  std::optional<std::string> client_subject;
  std::optional<std::string> client_issuer;
  std::optional<bool> sni_matches_cert;

  // Not in Zeek's base ssl.log.
  std::optional<uint16_t> client_version;  // legacy_version of the ClientHello (numeric, as ssl-log-ext)
  std::string ja3;
  std::string ja3s;
  std::string ja4;
  std::string ja4s;
  std::optional<int64_t> not_valid_before;  // host certificate validity, seconds since the epoch
  std::optional<int64_t> not_valid_after;
  std::vector<std::string> san_dns;         // host certificate DNS subject alternative names
};

}  // namespace trawl::analyzers::ssl

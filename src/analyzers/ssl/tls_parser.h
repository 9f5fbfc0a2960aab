// Pure TLS parser: the record layer of one direction (records reassembled
// across calls, bodies delivered in pieces or skipped by counting), the
// handshake layer (messages reassembled across records) and the plaintext
// handshake messages Trawl reads (ClientHello, also SSLv2-compatible,
// ServerHello, Certificate, ServerKeyExchange). No flows, no I/O, no state
// outside the objects, so the fuzzers and the sandbox responder can use it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/anomalies.h"
#include "core/byte_view.h"

namespace trawl::analyzers::ssl {

// Record layer: the stream is not TLS (bad content type or version). Fatal.
inline const core::AnomalyId kAnomBadRecordHeader{"ssl.bad_record_header"};
inline const core::AnomalyId kAnomRecordTooLong{"ssl.record_too_long"};
// Handshake layer: a message longer than TlsLimits::max_handshake_message is
// skipped (counted, not buffered).
inline const core::AnomalyId kAnomHandshakeTooLong{"ssl.handshake_too_long"};
// Message contents.
inline const core::AnomalyId kAnomBadClientHello{"ssl.malformed_client_hello"};
inline const core::AnomalyId kAnomBadServerHello{"ssl.malformed_server_hello"};
inline const core::AnomalyId kAnomBadCertificateMessage{"ssl.malformed_certificate_message"};
inline const core::AnomalyId kAnomBadExtension{"ssl.malformed_extension"};
inline const core::AnomalyId kAnomTooManyExtensions{"ssl.too_many_extensions"};
inline const core::AnomalyId kAnomServerNameTooLong{"ssl.server_name_too_long"};
inline const core::AnomalyId kAnomTooManyCertificates{"ssl.too_many_certificates"};

struct TlsLimits {
  size_t max_record_body = 16384 + 2048;  // RFC 5246 6.2.3: TLSCiphertext.length
  size_t max_handshake_message = 65536;   // one handshake message (a Certificate chain included)
  size_t max_certificate = 16384;         // DER bytes of one certificate we decode
  size_t max_certificates = 10;           // certificates kept per chain
  size_t max_extensions = 128;            // extensions kept per hello
  size_t max_server_name = 255;           // bytes of the SNI host name kept
  size_t max_alpn = 16;                   // ALPN protocol names kept per hello
  size_t max_alpn_name = 255;             // bytes of one ALPN name kept
};

enum class ParseResult { kOk, kPartial, kError };

// ---------------------------------------------------------------- records

inline constexpr uint8_t kContentChangeCipherSpec = 20;
inline constexpr uint8_t kContentAlert = 21;
inline constexpr uint8_t kContentHandshake = 22;
inline constexpr uint8_t kContentApplicationData = 23;
inline constexpr uint8_t kContentHeartbeat = 24;

struct RecordHeader {
  uint8_t content_type = 0;  // 20..24 (other values pass the header check but are the caller's problem)
  uint16_t version = 0;      // record-layer version; 0x0002 for an SSLv2 record
  uint32_t length = 0;       // body bytes
  bool ssl2 = false;         // an SSLv2 record (2-byte header); the body starts with the message type
};

// What the record reader does with a body.
enum class RecordAction : uint8_t { kDeliver, kSkip, kStop };

class RecordHandler {
 public:
  virtual ~RecordHandler() = default;
  // A record header was read. kDeliver: record_data gets the body in pieces,
  // then record_end. kSkip: the body is counted away (record_end still
  // comes). kStop: feed() returns at once.
  virtual RecordAction record_begin(const RecordHeader& h) = 0;
  virtual void record_data(core::ByteView piece) = 0;
  // false: stop (feed() returns).
  virtual bool record_end() = 0;
};

// The record layer of one direction.
class TlsRecordReader {
 public:
  enum class Status { kOk, kStopped, kError };

  // allow_ssl2: the first record may be an SSLv2 CLIENT-HELLO (client side).
  TlsRecordReader(const TlsLimits& limits, bool allow_ssl2) : limits_(limits), allow_ssl2_(allow_ssl2) {}

  // Consumes all of `data` (kOk), stops where the handler said so
  // (kStopped), or finds a header that is not TLS (kError: anomaly counted;
  // every later call returns kError).
  Status feed(core::ByteView data, RecordHandler& h, core::Anomalies& anomalies);

  // Records completed so far.
  uint64_t records() const { return records_; }

 private:
  Status parse_header(RecordHeader& out, core::Anomalies& anomalies);

  const TlsLimits& limits_;
  bool allow_ssl2_;
  bool failed_ = false;
  bool in_body_ = false;
  bool deliver_ = false;
  uint8_t hdr_[5] = {};
  size_t hdr_len_ = 0;
  uint32_t remaining_ = 0;
  uint64_t records_ = 0;
};

// ---------------------------------------------------------------- handshake layer

class HandshakeHandler {
 public:
  virtual ~HandshakeHandler() = default;
  // One complete handshake message (type and body, the 4-byte header
  // removed); the view lives for the call. false: stop.
  virtual bool handshake_message(uint8_t type, core::ByteView body) = 0;
  // A message too long to keep (skipped; type and announced length given).
  virtual void handshake_skipped(uint8_t type, uint32_t length) = 0;
};

// Joins handshake-record bodies of one direction into messages. Messages may
// span records and records may hold several messages. Zero copy when a
// message lies inside one piece; otherwise buffered up to the limit.
class HandshakeReader {
 public:
  explicit HandshakeReader(const TlsLimits& limits) : limits_(limits) {}
  // false: the handler asked to stop.
  bool feed(core::ByteView piece, HandshakeHandler& h, core::Anomalies& anomalies);
  // Bytes of an unfinished message held.
  size_t pending() const { return buf_.size(); }

 private:
  const TlsLimits& limits_;
  std::string buf_;          // an unfinished message: header and the body so far
  uint32_t skip_ = 0;        // body bytes of an oversize message still to drop
};

// ---------------------------------------------------------------- messages

inline constexpr uint8_t kHsHelloRequest = 0;
inline constexpr uint8_t kHsClientHello = 1;
inline constexpr uint8_t kHsServerHello = 2;
inline constexpr uint8_t kHsNewSessionTicket = 4;
inline constexpr uint8_t kHsCertificate = 11;
inline constexpr uint8_t kHsServerKeyExchange = 12;
inline constexpr uint8_t kHsServerHelloDone = 14;
inline constexpr uint8_t kHsClientKeyExchange = 16;
inline constexpr uint8_t kHsFinished = 20;

inline constexpr uint16_t kExtServerName = 0;
inline constexpr uint16_t kExtSupportedGroups = 10;
inline constexpr uint16_t kExtEcPointFormats = 11;
inline constexpr uint16_t kExtSignatureAlgorithms = 13;
inline constexpr uint16_t kExtAlpn = 16;
inline constexpr uint16_t kExtSessionTicket = 35;
inline constexpr uint16_t kExtPreSharedKey = 41;
inline constexpr uint16_t kExtSupportedVersions = 43;
inline constexpr uint16_t kExtKeyShare = 51;

struct ClientHello {
  bool ssl2 = false;             // an SSLv2-compatible CLIENT-HELLO (no extensions)
  uint16_t version = 0;          // legacy_version (client_version)
  std::array<uint8_t, 32> random{};
  std::string session_id;        // raw bytes (at most 32)
  std::vector<uint16_t> ciphers;  // in order, GREASE included (SSLv2: only the TLS-compatible 00xxxx specs)
  std::vector<uint8_t> compressions;
  bool has_extensions = false;   // the extensions block is present (even if empty)
  std::vector<uint16_t> extensions;  // types in order, GREASE included
  bool has_server_name = false;  // SNI extension present
  std::string server_name;       // the first host_name entry (raw bytes, capped)
  uint32_t server_names = 0;     // host_name entries in the SNI extension
  std::vector<std::string> alpn;  // offered protocols in order (raw bytes)
  std::vector<uint16_t> supported_versions;
  std::vector<uint16_t> groups;
  std::vector<uint8_t> point_formats;
  std::vector<uint16_t> signature_algorithms;
  bool session_ticket_data = false;  // SessionTicket extension with a non-empty ticket
  bool has_psk = false;              // pre_shared_key extension
};

struct ServerHello {
  uint16_t version = 0;          // legacy_version (server_version)
  std::array<uint8_t, 32> random{};
  std::string session_id;
  uint16_t cipher = 0;
  uint8_t compression = 0;
  bool has_extensions = false;
  std::vector<uint16_t> extensions;
  std::optional<uint16_t> selected_version;  // supported_versions extension
  bool has_alpn = false;
  std::string alpn;                          // the protocol chosen
  std::optional<uint16_t> key_share_group;
  bool has_psk = false;
  bool hello_retry_request = false;  // the random is RFC 8446's HelloRetryRequest value

  // The version the server chose (supported_versions wins).
  uint16_t negotiated_version() const { return selected_version ? *selected_version : version; }
};

// ClientHello body (after the 4-byte handshake header). kPartial: the fixed
// part parsed but the extensions were cut or malformed (what came before is kept).
ParseResult parse_client_hello(core::ByteView body, ClientHello& out, core::Anomalies& anomalies,
                               const TlsLimits& limits = {});
// SSLv2 CLIENT-HELLO: the record body after the 2-byte header (starts with
// the message type 1).
ParseResult parse_ssl2_client_hello(core::ByteView body, ClientHello& out, core::Anomalies& anomalies);
ParseResult parse_server_hello(core::ByteView body, ServerHello& out, core::Anomalies& anomalies,
                               const TlsLimits& limits = {});
// Certificate message of TLS 1.2 and earlier: the DER certificates in order
// (views into body), at most limits.max_certificates.
ParseResult parse_certificate_list(core::ByteView body, std::vector<core::ByteView>& certs,
                                   core::Anomalies& anomalies, const TlsLimits& limits = {});
// The named curve of an ECDHE ServerKeyExchange (ECParameters with
// curve_type named_curve); nullopt otherwise.
std::optional<uint16_t> server_key_exchange_curve(core::ByteView body);

}  // namespace trawl::analyzers::ssl

// SslAnalyzer: the TLS/SSL state machine of one connection (service "ssl").
// Follows the handshake of both directions, fills one SslRecord the way
// Zeek's ssl.log does (established when both sides have switched to
// encrypted records and one more encrypted record passes), emits it as soon
// as the connection is established and then gives up, so the flow table stops
// reassembling application data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "analyzers/analyzer.h"
#include "analyzers/registry.h"
#include "analyzers/ssl/ssl_record.h"
#include "analyzers/ssl/tls_parser.h"
#include "analyzers/ssl/x509_cert.h"

namespace trawl::analyzers::ssl {

inline const core::AnomalyId kAnomTooManyHandshakeMessages{"ssl.too_many_handshake_messages"};
inline const core::AnomalyId kAnomManyServerNames{"ssl.many_server_names"};
inline const core::AnomalyId kAnomPlaintextApplicationData{"ssl.plaintext_application_data"};
inline const core::AnomalyId kAnomCertificateTooLong{"ssl.certificate_too_long"};
inline const core::AnomalyId kAnomHistoryTooLong{"ssl.history_too_long"};

struct SslLimits {
  TlsLimits tls;
  uint32_t max_handshake_messages = 64;  // plaintext handshake messages per direction
  // Encrypted records of one direction before the connection counts as
  // established; past it the analyzer stops (one-sided or stalled handshakes).
  uint32_t max_encrypted_records = 64;
  size_t max_history = 100;  // Zeek's SSL::max_ssl_history_length
};

class SslAnalyzer final : public Analyzer {
 public:
  explicit SslAnalyzer(Context& ctx, const SslLimits& limits = {});
  ~SslAnalyzer() override;

  void data(bool is_orig, core::ByteView bytes, core::Timestamp ts) override;
  void gap(bool is_orig, uint64_t bytes, core::Timestamp ts) override;
  void finish(core::Timestamp ts) override;

 private:
  class Side;
  friend class Side;

  Side& side(bool is_orig) { return is_orig ? *orig_ : *resp_; }
  SslRecord& record();
  void history(bool is_client, char letter);
  void stop(bool emit_now);
  void emit();

  RecordAction record_begin(bool is_orig, const RecordHeader& h);
  void record_data(bool is_orig, core::ByteView piece);
  bool record_end(bool is_orig);
  bool handshake_message(bool is_orig, uint8_t type, core::ByteView body);
  void handshake_skipped(bool is_orig, uint8_t type);
  bool ciphertext(bool is_orig);
  void client_hello(const ClientHello& ch);
  void server_hello(const ServerHello& sh);
  void certificates(bool is_client, core::ByteView body);

  Context& ctx_;
  SslLimits limits_;
  std::unique_ptr<Side> orig_;
  std::unique_ptr<Side> resp_;
  std::unique_ptr<SslRecord> rec_;
  core::Timestamp now_;
  bool done_ = false;
  bool emitted_ = false;

  bool client_is_orig_ = true;
  bool saw_client_hello_ = false;
  bool saw_server_hello_ = false;
  std::string client_session_id_;
  bool client_ticket_empty_session_ = false;
  bool client_key_exchange_seen_ = false;
  bool client_psk_seen_ = false;
  bool host_cert_seen_ = false;
  bool client_cert_seen_ = false;
  bool host_cert_parsed_ = false;
  CertInfo host_cert_;  // the server's first certificate (for sni_matches_cert)
};

// The Protocol entry ("ssl", TCP) and its content probe.
Probe probe_ssl(const ProbeInput& in);
Protocol ssl_protocol();

}  // namespace trawl::analyzers::ssl

#include "analyzers/ssl/ssl_analyzer.h"

#include <algorithm>

#include "analyzers/ssl/tls_fingerprint.h"
#include "analyzers/ssl/tls_names.h"

namespace trawl::analyzers::ssl {

namespace {

using core::ByteView;

// Zeek's ssl_history letter of a handshake message type (lower case; the
// client's are upper-cased).
char handshake_letter(uint8_t type) {
  switch (type) {
    case 0: return 'h';    // hello_request
    case 1: return 'c';    // client_hello
    case 2: return 's';    // server_hello
    case 3: return 'v';    // hello_verify_request
    case 4: return 't';    // new_session_ticket
    case 5: return 'e';    // end_of_early_data
    case 6: return 'j';    // hello_retry_request (drafts)
    case 8: return 'o';    // encrypted_extensions
    case 11: return 'x';   // certificate
    case 12: return 'k';   // server_key_exchange
    case 13: return 'r';   // certificate_request
    case 14: return 'n';   // server_hello_done
    case 15: return 'y';   // certificate_verify
    case 16: return 'g';   // client_key_exchange
    case 20: return 'f';   // finished
    case 21: return 'w';   // certificate_url
    case 22: return 'u';   // certificate_status
    case 23: return 'a';   // supplemental_data
    case 24: return 'p';   // key_update
    case 254: return 'm';  // message_hash
    default: return 'z';
  }
}

bool usable_session_id(const std::string& sid) {
  if (sid.empty()) return false;
  return !(sid.size() == 32 && std::all_of(sid.begin(), sid.end(), [](char c) { return c == 0; }));
}

}  // namespace

// One direction: its record and handshake layers and its encryption state.
class SslAnalyzer::Side final : public RecordHandler, public HandshakeHandler {
 public:
  Side(SslAnalyzer& a, bool is_orig)
      : a_(a), is_orig_(is_orig), records(a.limits_.tls, is_orig), handshake(a.limits_.tls) {}

  RecordAction record_begin(const RecordHeader& h) override { return a_.record_begin(is_orig_, h); }
  void record_data(ByteView piece) override { a_.record_data(is_orig_, piece); }
  bool record_end() override { return a_.record_end(is_orig_); }
  bool handshake_message(uint8_t type, ByteView body) override { return a_.handshake_message(is_orig_, type, body); }
  void handshake_skipped(uint8_t type, uint32_t length) override {
    (void)length;
    a_.handshake_skipped(is_orig_, type);
  }

 private:
  SslAnalyzer& a_;
  bool is_orig_;

 public:
  TlsRecordReader records;
  HandshakeReader handshake;
  bool encrypted = false;    // Zeek's STATE_ENCRYPTED for this direction
  uint8_t delivering = 0;    // content type of the record whose body is coming (0: SSLv2)
  uint8_t alert[2] = {};
  size_t alert_len = 0;
  std::string ssl2;          // an SSLv2 CLIENT-HELLO record body
  bool stop = false;         // the handshake layer asked to stop
  uint32_t messages = 0;
  uint32_t ciphertext_records = 0;
};

SslAnalyzer::SslAnalyzer(Context& ctx, const SslLimits& limits)
    : ctx_(ctx),
      limits_(limits),
      orig_(std::make_unique<Side>(*this, true)),
      resp_(std::make_unique<Side>(*this, false)) {}

SslAnalyzer::~SslAnalyzer() = default;

SslRecord& SslAnalyzer::record() {
  if (!rec_) {
    rec_ = std::make_unique<SslRecord>();
    rec_->set_conn(ctx_.conn());
    rec_->ts = now_;
  }
  return *rec_;
}

void SslAnalyzer::history(bool is_client, char letter) {
  SslRecord& r = record();
  if (r.ssl_history.size() >= limits_.max_history) return;
  r.ssl_history.push_back(is_client ? static_cast<char>(letter - 'a' + 'A') : letter);
  if (r.ssl_history.size() == limits_.max_history) ctx_.anomalies().add(kAnomHistoryTooLong);
}

void SslAnalyzer::emit() {
  if (emitted_ || !rec_) return;
  emitted_ = true;
  if (rec_->server_name && host_cert_parsed_) {
    rec_->sni_matches_cert = hostname_matches_cert(*rec_->server_name, host_cert_);
  }
  ctx_.emit(std::move(rec_));
}

void SslAnalyzer::stop(bool emit_now) {
  if (!done_) {
    done_ = true;
    ctx_.give_up();
  }
  if (emit_now) emit();
}

void SslAnalyzer::data(bool is_orig, ByteView bytes, core::Timestamp ts) {
  if (done_) return;
  now_ = ts;
  Side& s = side(is_orig);
  if (s.records.feed(bytes, s, ctx_.anomalies()) == TlsRecordReader::Status::kError) stop(false);
}

void SslAnalyzer::gap(bool is_orig, uint64_t bytes, core::Timestamp ts) {
  (void)is_orig;
  (void)bytes;
  (void)ts;
  // Records cannot be found again after a hole; what was seen is logged at the end.
  stop(false);
}

void SslAnalyzer::finish(core::Timestamp ts) {
  (void)ts;
  emit();
}

// Zeek: a record is ciphertext once its direction is encrypted; the first
// ciphertext record after both directions are encrypted establishes the connection.
bool SslAnalyzer::ciphertext(bool is_orig) {
  Side& s = side(is_orig);
  if (orig_->encrypted && resp_->encrypted) {
    record().established = true;
    stop(true);
    return false;
  }
  if (++s.ciphertext_records > limits_.max_encrypted_records) {
    stop(false);
    return false;
  }
  return true;
}

RecordAction SslAnalyzer::record_begin(bool is_orig, const RecordHeader& h) {
  Side& s = side(is_orig);
  if (h.ssl2) {
    s.delivering = 0;
    s.ssl2.clear();
    return RecordAction::kDeliver;
  }
  if (!s.encrypted && h.content_type == kContentApplicationData) {
    // Zeek: application data before a version is known, or once TLS 1.3 (or
    // anything newer than 1.2) was negotiated, means this direction is encrypted.
    const bool known = rec_ && rec_->version.has_value();
    if (!known || is_tls13_or_later(*rec_->version)) {
      s.encrypted = true;
    } else {
      ctx_.anomalies().add(kAnomPlaintextApplicationData);
      return RecordAction::kSkip;
    }
  }
  if (s.encrypted) return ciphertext(is_orig) ? RecordAction::kSkip : RecordAction::kStop;
  const bool is_client = is_orig == client_is_orig_;
  switch (h.content_type) {
    case kContentChangeCipherSpec:
      history(is_client, 'i');
      if (is_client && client_ticket_empty_session_ && !client_key_exchange_seen_) record().resumed = true;
      s.encrypted = true;
      return RecordAction::kSkip;
    case kContentAlert:
      s.delivering = kContentAlert;
      s.alert_len = 0;
      return RecordAction::kDeliver;
    case kContentHandshake:
      s.delivering = kContentHandshake;
      return RecordAction::kDeliver;
    case kContentHeartbeat:
      history(is_client, 'b');
      return RecordAction::kSkip;
    default:
      return RecordAction::kSkip;
  }
}

void SslAnalyzer::record_data(bool is_orig, ByteView piece) {
  Side& s = side(is_orig);
  if (s.stop) return;
  switch (s.delivering) {
    case kContentHandshake:
      if (!s.handshake.feed(piece, s, ctx_.anomalies())) s.stop = true;
      break;
    case kContentAlert:
      for (size_t i = 0; i < piece.size() && s.alert_len < 2; ++i) s.alert[s.alert_len++] = piece[i];
      break;
    case 0:  // SSLv2 record: at most 32767 bytes (15-bit length)
      s.ssl2.append(reinterpret_cast<const char*>(piece.data()), piece.size());
      break;
    default:
      break;
  }
}

bool SslAnalyzer::record_end(bool is_orig) {
  Side& s = side(is_orig);
  if (s.stop || done_) return false;
  if (s.delivering == kContentAlert && s.alert_len == 2) {
    history(is_orig == client_is_orig_, 'l');
    record().last_alert = s.alert[1];
  } else if (s.delivering == 0 && !s.ssl2.empty()) {
    std::string body = std::move(s.ssl2);
    s.ssl2.clear();
    ClientHello ch;
    // Only the originator's first record may be SSLv2 (TlsRecordReader).
    // Zeek adds the client's 'C' by hand: SSLv2 has no handshake layer.
    history(true, 'c');
    if (parse_ssl2_client_hello({reinterpret_cast<const uint8_t*>(body.data()), body.size()}, ch,
                                ctx_.anomalies()) == ParseResult::kError) {
      stop(false);
      return false;
    }
    client_hello(ch);
  }
  return !done_;
}

void SslAnalyzer::handshake_skipped(bool is_orig, uint8_t type) {
  if (!done_) history(is_orig == client_is_orig_, handshake_letter(type));
}

bool SslAnalyzer::handshake_message(bool is_orig, uint8_t type, ByteView body) {
  Side& s = side(is_orig);
  if (done_) return false;
  if (++s.messages > limits_.max_handshake_messages) {
    ctx_.anomalies().add(kAnomTooManyHandshakeMessages);
    stop(false);
    return false;
  }
  core::Anomalies& an = ctx_.anomalies();
  if (type == kHsClientHello && !saw_client_hello_ && !is_orig) {
    // The responder sent the ClientHello: Zeek flips the roles and notes '^'.
    client_is_orig_ = false;
    record().ssl_history.push_back('^');
  }
  const bool is_client = is_orig == client_is_orig_;
  switch (type) {
    case kHsClientHello: {
      history(is_client, 'c');
      ClientHello ch;
      if (parse_client_hello(body, ch, an, limits_.tls) != ParseResult::kError) client_hello(ch);
      break;
    }
    case kHsServerHello: {
      ServerHello sh;
      if (parse_server_hello(body, sh, an, limits_.tls) == ParseResult::kError) {
        history(is_client, 's');
        break;
      }
      history(is_client, sh.hello_retry_request ? 'j' : 's');
      server_hello(sh);
      break;
    }
    case kHsCertificate:
      history(is_client, 'x');
      certificates(is_client, body);
      break;
    case kHsServerKeyExchange:
      history(is_client, 'k');
      if (rec_ && rec_->cipher && cipher_is_ecdh(*rec_->cipher)) {
        if (auto curve = server_key_exchange_curve(body)) record().curve = *curve;
      }
      break;
    case kHsClientKeyExchange:
      history(is_client, 'g');
      if (is_client) client_key_exchange_seen_ = true;
      break;
    default:
      history(is_client, handshake_letter(type));
      break;
  }
  return !done_;
}

void SslAnalyzer::client_hello(const ClientHello& ch) {
  SslRecord& r = record();
  if (!saw_client_hello_) {
    r.client_version = ch.version;
    client_fingerprints(ch, r.ja3, r.ja4);
  }
  saw_client_hello_ = true;
  if (ch.server_names > 0) {
    r.server_name = ch.server_name;
    if (ch.server_names > 1) ctx_.anomalies().add(kAnomManyServerNames);
  }
  if (usable_session_id(ch.session_id)) {
    client_session_id_ = ch.session_id;
    client_ticket_empty_session_ = false;
  } else if (ch.session_ticket_data) {
    client_ticket_empty_session_ = true;
  }
  if (ch.has_psk) client_psk_seen_ = true;
}

void SslAnalyzer::server_hello(const ServerHello& sh) {
  SslRecord& r = record();
  if (sh.selected_version) {
    r.version = *sh.selected_version;
  } else if (!r.version) {
    r.version = sh.version;
  }
  r.cipher = sh.cipher;
  const uint16_t v = *r.version;
  if (!client_session_id_.empty() && client_session_id_ == sh.session_id && (v >> 8) != 0x7F && v != kTlsV13) {
    r.resumed = true;
  }
  if (client_psk_seen_ && sh.has_psk) r.resumed = true;
  if (sh.has_alpn) r.next_protocol = sh.alpn;
  if (sh.key_share_group) r.curve = *sh.key_share_group;
  if (!sh.hello_retry_request || r.ja3s.empty()) {
    server_fingerprints(sh, r.ja3s, r.ja4s);
  }
  saw_server_hello_ = true;
}

void SslAnalyzer::certificates(bool is_client, ByteView body) {
  // TLS 1.3 certificates travel encrypted; a plaintext one there has another layout.
  if (rec_ && rec_->version && is_tls13_or_later(*rec_->version)) return;
  std::vector<ByteView> certs;
  core::Anomalies& an = ctx_.anomalies();
  parse_certificate_list(body, certs, an, limits_.tls);
  if (certs.empty()) return;
  SslRecord& r = record();
  r.has_certificates = true;
  std::vector<std::string>& fps = is_client ? r.client_cert_chain_fps : r.cert_chain_fps;
  bool& first_seen = is_client ? client_cert_seen_ : host_cert_seen_;
  for (ByteView der : certs) {
    if (fps.size() < limits_.tls.max_certificates) fps.push_back(sha256_hex(der));
    if (der.size() > limits_.tls.max_certificate) an.add(kAnomCertificateTooLong);
  }
  if (first_seen) return;  // the host certificate is the first one sent
  first_seen = true;
  const ByteView host = certs.front();
  if (host.size() > limits_.tls.max_certificate) return;
  CertInfo info;
  if (!parse_x509(host, info)) {
    an.add(kAnomBadX509);
    return;
  }
  if (is_client) {
    r.client_subject = info.subject;
    r.client_issuer = info.issuer;
    return;
  }
  r.subject = info.subject;
  r.issuer = info.issuer;
  if (info.has_validity) {
    r.not_valid_before = info.not_before;
    r.not_valid_after = info.not_after;
  }
  r.san_dns = info.san_dns;
  host_cert_ = std::move(info);
  host_cert_parsed_ = true;
}

// ---------------------------------------------------------------- probe

namespace {

// A TLS record header (handshake, SSL 3.0 .. TLS 1.3) carrying the start of a
// handshake message of `hs_type` whose body has at least `min_body` bytes.
Probe probe_hello(ByteView b, bool done, uint8_t hs_type, uint32_t min_body) {
  static constexpr size_t kNeed = 11;  // record header, handshake header, version
  const size_t n = b.size();
  if (n >= 1 && b[0] != kContentHandshake) return Probe::kNo;
  if (n >= 2 && b[1] != 3) return Probe::kNo;
  if (n >= 3 && b[2] > 4) return Probe::kNo;
  if (n >= 5) {
    const uint16_t rec_len = core::load_be16(b.data() + 3);
    if (rec_len < 4 || rec_len > 16384 + 2048) return Probe::kNo;
  }
  if (n >= 6 && b[5] != hs_type) return Probe::kNo;
  if (n >= 9) {
    const uint32_t hs_len = (uint32_t{b[6]} << 16) | (uint32_t{b[7]} << 8) | b[8];
    if (hs_len < min_body || hs_len > 65536) return Probe::kNo;
  }
  if (n >= 10 && b[9] != 3) return Probe::kNo;
  if (n >= 11 && b[10] > 4) return Probe::kNo;
  if (n >= kNeed) return Probe::kYes;
  return done ? Probe::kNo : Probe::kMaybe;
}

// An SSLv2-compatible CLIENT-HELLO (RFC 5246 E.2): every length must add up.
Probe probe_ssl2(ByteView b, bool done) {
  if (b.size() < 11) return done ? Probe::kNo : Probe::kMaybe;
  const uint32_t len = ((uint32_t{b[0]} & 0x7f) << 8) | b[1];
  const uint16_t version = core::load_be16(b.data() + 3);
  const uint16_t cs = core::load_be16(b.data() + 5);
  const uint16_t sid = core::load_be16(b.data() + 7);
  const uint16_t chal = core::load_be16(b.data() + 9);
  const bool ok = b[2] == 1 && (version == kSslV2 || (version >= kSslV3 && version <= kTlsV12)) && cs != 0 &&
                  cs % 3 == 0 && (sid == 0 || sid == 16) && chal >= 16 && chal <= 32 && len == 9u + cs + sid + chal;
  return ok ? Probe::kYes : Probe::kNo;
}

std::unique_ptr<Analyzer> create_ssl(Context& ctx) { return std::make_unique<SslAnalyzer>(ctx); }

}  // namespace

Probe probe_ssl(const ProbeInput& in) {
  constexpr uint32_t kMinClientHello = 2 + 32 + 1 + 2 + 2 + 1;  // version random sid ciphers(one) comp
  constexpr uint32_t kMinServerHello = 2 + 32 + 1 + 2 + 1;
  if (!in.orig.empty()) {
    if ((in.orig[0] & 0x80) != 0) return probe_ssl2(in.orig, in.orig_done);
    return probe_hello(in.orig, in.orig_done, kHsClientHello, kMinClientHello);
  }
  // No client bytes (lost, or not captured): a ServerHello from the
  // responder, or a ClientHello when the flow table got the roles wrong.
  if (!in.resp.empty()) {
    const Probe sh = probe_hello(in.resp, in.resp_done, kHsServerHello, kMinServerHello);
    const Probe ch = probe_hello(in.resp, in.resp_done, kHsClientHello, kMinClientHello);
    if (sh == Probe::kYes || ch == Probe::kYes) return Probe::kYes;
    if (sh == Probe::kMaybe || ch == Probe::kMaybe) return Probe::kMaybe;
    return Probe::kNo;
  }
  return (in.orig_done && in.resp_done) ? Probe::kNo : Probe::kMaybe;
}

Protocol ssl_protocol() {
  Protocol p;
  p.name = "ssl";
  p.transport = 6;
  p.ports = {443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 5061, 8443};
  p.probe = &probe_ssl;
  p.create = &create_ssl;
  return p;
}

}  // namespace trawl::analyzers::ssl

#include "sinkhole/tls_session.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "analyzers/ssl/tls_fingerprint.h"
#include "analyzers/ssl/tls_names.h"
#include "analyzers/ssl/tls_parser.h"
#include "output/json_line.h"

namespace trawl::sinkhole {
namespace {

namespace ssl = analyzers::ssl;
namespace fs = std::filesystem;

constexpr const char* kKeyFile = "trawl-sinkhole-ca.key";
constexpr const char* kCertFile = "trawl-sinkhole-ca.crt";
constexpr size_t kMaxPemFile = 256 * 1024;
constexpr long kDaySeconds = 24L * 3600L;

// The reason of the newest queued OpenSSL error ("tlsv1 alert unknown ca"),
// the queue emptied; `fallback` when there is none.
std::string openssl_error(std::string_view fallback) {
  unsigned long last = 0;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) last = e;
  if (last == 0) return std::string(fallback);
  const char* reason = ERR_reason_error_string(last);
  if (reason != nullptr) return reason;
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct CtxFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

PkeyPtr make_p256_key() {
  EVP_PKEY_CTX* kctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  if (kctx == nullptr) return nullptr;
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_keygen_init(kctx) <= 0 || EVP_PKEY_CTX_set_group_name(kctx, "P-256") <= 0 ||
      EVP_PKEY_generate(kctx, &key) <= 0) {
    key = nullptr;
  }
  EVP_PKEY_CTX_free(kctx);
  return PkeyPtr(key);
}

bool random_serial(X509* x) {
  BIGNUM* bn = BN_new();
  // 127 random bits: positive, unique enough, and under RFC 5280's 20 octets.
  const bool ok = bn != nullptr && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
                  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != nullptr;
  BN_free(bn);
  return ok;
}

bool add_ext(X509* x, X509V3_CTX* v3, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, v3, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(x, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool add_name(X509_NAME* n, const char* field, const std::string& value) {
  return X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                    static_cast<int>(value.size()), -1, 0) == 1;
}

std::string hex_lower(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kHex[p[i] >> 4]);
    s.push_back(kHex[p[i] & 15]);
  }
  return s;
}

std::string serial_hex(const X509* x) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
  if (bn == nullptr) return {};
  char* h = BN_bn2hex(bn);
  std::string s = h != nullptr ? h : "";
  OPENSSL_free(h);
  BN_free(bn);
  std::transform(s.begin(), s.end(), s.begin(),
                 [](char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c + 32) : c; });
  return s;
}

X509Ptr make_ca_cert(EVP_PKEY* key) {
  X509Ptr x(X509_new());
  if (!x || X509_set_version(x.get(), 2) != 1 || !random_serial(x.get())) return nullptr;
  unsigned char tag[4];
  if (RAND_bytes(tag, sizeof tag) != 1) return nullptr;
  // A per-install tag in the name: two sinkholes' CAs are told apart in the guest's store.
  X509_NAME* name = X509_get_subject_name(x.get());
  if (!add_name(name, "O", "Trawl sinkhole") || !add_name(name, "CN", "Trawl Sinkhole CA " + hex_lower(tag, 4)) ||
      X509_set_issuer_name(x.get(), name) != 1) {
    return nullptr;
  }
  if (X509_gmtime_adj(X509_getm_notBefore(x.get()), -kDaySeconds) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(x.get()), 10L * 365L * kDaySeconds) == nullptr ||
      X509_set_pubkey(x.get(), key) != 1) {
    return nullptr;
  }
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, x.get(), x.get(), nullptr, nullptr, 0);
  if (!add_ext(x.get(), &v3, NID_basic_constraints, "critical,CA:TRUE") ||
      !add_ext(x.get(), &v3, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_ext(x.get(), &v3, NID_subject_key_identifier, "hash")) {
    return nullptr;
  }
  if (X509_sign(x.get(), key, EVP_sha256()) <= 0) return nullptr;
  return x;
}

bool read_small_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  out.resize(kMaxPemFile + 1);
  f.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<size_t>(f.gcount()));
  if (out.size() > kMaxPemFile) {
    error = path + " is larger than " + std::to_string(kMaxPemFile) + " bytes: not a PEM file";
    return false;
  }
  return true;
}

// Writes `data` to path via a temporary file (mode `mode`) and a rename, so a
// crash leaves no half-written file under the final name.
bool write_file(const std::string& path, std::string_view data, mode_t mode, std::string& error) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    error = "cannot create " + tmp + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::string bio_string(BIO* b) {
  char* p = nullptr;
  const long n = BIO_get_mem_data(b, &p);
  return n > 0 && p != nullptr ? std::string(p, static_cast<size_t>(n)) : std::string();
}

// Never prompt for a pass phrase: an encrypted key is an error.
int no_password(char*, int, int, void*) { return 0; }

bool valid_dns_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t label = 0;
  for (const char c : s) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label != 0;
}

// ALPN: HTTP/1.1 only (h2 is not served). Without a match the handshake goes
// on without ALPN, as most servers do.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
  static constexpr std::string_view kHttp11 = "http/1.1";
  unsigned int i = 0;
  while (i < inlen) {
    const unsigned int n = in[i];
    if (n == 0 || i + 1 + n > inlen) break;
    if (std::string_view(reinterpret_cast<const char*>(in + i + 1), n) == kHttp11) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(n);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + n;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

// ---------------------------------------------------------------- TlsAuthority

std::unique_ptr<TlsAuthority> TlsAuthority::open(const std::string& dir, std::string& error) {
  std::unique_ptr<TlsAuthority> a(new TlsAuthority());
  a->dir_ = dir;
  const std::string key_path = (fs::path(dir) / kKeyFile).string();
  a->cert_path_ = (fs::path(dir) / kCertFile).string();
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) {
      error = "cannot create the CA directory " + dir + ": " + ec.message();
      return nullptr;
    }
    // The directory holds the CA's private key.
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  } else if (!fs::is_directory(dir, ec)) {
    error = dir + " is not a directory";
    return nullptr;
  }
  const bool have_key = fs::exists(key_path, ec);
  const bool have_cert = fs::exists(a->cert_path_, ec);
  ERR_clear_error();
  if (!have_key && !have_cert) {
    PkeyPtr key = make_p256_key();
    X509Ptr cert = key ? make_ca_cert(key.get()) : nullptr;
    if (!cert) {
      error = "cannot create the sinkhole CA: " + openssl_error("key or certificate generation failed");
      return nullptr;
    }
    BioPtr kb(BIO_new(BIO_s_mem()));
    BioPtr cb(BIO_new(BIO_s_mem()));
    if (!kb || !cb || PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
        PEM_write_bio_X509(cb.get(), cert.get()) != 1) {
      error = "cannot encode the sinkhole CA: " + openssl_error("PEM encoding failed");
      return nullptr;
    }
    if (!write_file(key_path, bio_string(kb.get()), 0600, error) ||
        !write_file(a->cert_path_, bio_string(cb.get()), 0644, error)) {
      return nullptr;
    }
    a->ca_key_ = key.release();
    a->ca_cert_ = cert.release();
    return a;
  }
  if (!have_key || !have_cert) {
    error = "the CA directory " + dir + " has " + (have_key ? kKeyFile : kCertFile) + " but no " +
            (have_key ? kCertFile : kKeyFile) + ": restore it, or remove both files to make a new CA";
    return nullptr;
  }
  std::string key_pem, cert_pem;
  if (!read_small_file(key_path, key_pem, error) || !read_small_file(a->cert_path_, cert_pem, error)) return nullptr;
  BioPtr kb(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  BioPtr cb(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  if (!kb || !cb) {
    error = "out of memory";
    return nullptr;
  }
  PkeyPtr key(PEM_read_bio_PrivateKey(kb.get(), nullptr, no_password, nullptr));
  if (!key) {
    error = "cannot load the CA key " + key_path + ": " + openssl_error("not a PEM private key");
    return nullptr;
  }
  X509Ptr cert(PEM_read_bio_X509(cb.get(), nullptr, no_password, nullptr));
  if (!cert) {
    error = "cannot load the CA certificate " + a->cert_path_ + ": " + openssl_error("not a PEM certificate");
    return nullptr;
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    error = "the CA key " + key_path + " does not match the certificate " + a->cert_path_;
    return nullptr;
  }
  if (X509_check_ca(cert.get()) < 1) {
    error = a->cert_path_ + " is not a CA certificate (basicConstraints CA:TRUE missing)";
    return nullptr;
  }
  a->ca_key_ = key.release();
  a->ca_cert_ = cert.release();
  return a;
}

TlsAuthority::~TlsAuthority() {
  for (auto& [name, e] : cache_) SSL_CTX_free(e.ctx);
  X509_free(ca_cert_);
  EVP_PKEY_free(ca_key_);
}

const std::string& TlsAuthority::ca_cert_path() const { return cert_path_; }

std::string TlsAuthority::ca_sha256() const {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(ca_cert_, EVP_sha256(), md, &n) != 1) return {};
  return hex_lower(md, n);
}

std::string TlsAuthority::certificate_key(std::string_view sni, const core::IpAddress& server_ip) {
  std::string name(sni.substr(0, 256));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  if (!name.empty() && name.back() == '.') name.pop_back();
  // Some clients put an address in the SNI (RFC 6066 forbids it): an IP SAN fits them.
  if (const auto ip = core::IpAddress::parse(name)) return "ip:" + ip->to_string();
  if (valid_dns_name(name)) return "dns:" + name;
  return "ip:" + server_ip.to_string();
}

void TlsAuthority::set_max_contexts(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  max_contexts_ = std::max<size_t>(n, 1);
  while (cache_.size() > max_contexts_) {
    auto it = cache_.find(lru_.back());
    SSL_CTX_free(it->second.ctx);
    cache_.erase(it);
    lru_.pop_back();
  }
}

size_t TlsAuthority::cached_contexts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_.size();
}

SSL_CTX* TlsAuthority::context_for(std::string_view sni, const core::IpAddress& server_ip, std::string& error) {
  const std::string key = certificate_key(sni, server_ip);
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = cache_.find(key); it != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second.ctx;
  }
  SSL_CTX* ctx = make_context(key, error);
  if (ctx == nullptr) return nullptr;
  lru_.push_front(key);
  cache_[key] = Entry{ctx, lru_.begin()};
  while (cache_.size() > max_contexts_) {
    auto old = cache_.find(lru_.back());
    SSL_CTX_free(old->second.ctx);  // sessions using it hold their own reference
    cache_.erase(old);
    lru_.pop_back();
  }
  return ctx;
}

SSL_CTX* TlsAuthority::make_context(const std::string& key, std::string& error) {
  ERR_clear_error();
  const bool is_ip = key.compare(0, 3, "ip:") == 0;
  const std::string name = key.substr(is_ip ? 3 : 4);
  PkeyPtr leaf_key = make_p256_key();
  X509Ptr x(X509_new());
  auto fail = [&](std::string_view what) -> SSL_CTX* {
    error = "cannot make a certificate for " + name + ": " + openssl_error(what);
    return nullptr;
  };
  if (!leaf_key || !x) return fail("key generation failed");
  if (X509_set_version(x.get(), 2) != 1 || !random_serial(x.get())) return fail("serial");
  X509_NAME* subject = X509_get_subject_name(x.get());
  // X.520 limits the CN to 64 characters; the SAN carries the name anyway.
  if (name.size() <= 64 && !add_name(subject, "CN", name)) return fail("subject");
  if (name.size() > 64 && !add_name(subject, "O", "Trawl sinkhole")) return fail("subject");
  if (X509_set_issuer_name(x.get(), X509_get_subject_name(ca_cert_)) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(x.get()), -kDaySeconds) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(x.get()), 365L * kDaySeconds) == nullptr ||
      X509_set_pubkey(x.get(), leaf_key.get()) != 1) {
    return fail("certificate fields");
  }
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, ca_cert_, x.get(), nullptr, nullptr, 0);
  // `name` is an IP literal or a checked DNS name: no ',' or ':' can reach the config syntax.
  if (!add_ext(x.get(), &v3, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(x.get(), &v3, NID_key_usage, "critical,digitalSignature") ||
      !add_ext(x.get(), &v3, NID_ext_key_usage, "serverAuth") ||
      !add_ext(x.get(), &v3, NID_subject_alt_name, (is_ip ? "IP:" : "DNS:") + name) ||
      !add_ext(x.get(), &v3, NID_subject_key_identifier, "hash") ||
      !add_ext(x.get(), &v3, NID_authority_key_identifier, "keyid:always")) {
    return fail("extensions");
  }
  if (X509_sign(x.get(), ca_key_, EVP_sha256()) <= 0) return fail("signing");

  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx || SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION) != 1 ||
      SSL_CTX_use_certificate(ctx.get(), x.get()) != 1 || SSL_CTX_use_PrivateKey(ctx.get(), leaf_key.get()) != 1) {
    return fail("SSL_CTX setup");
  }
  // No resumption: every connection shows a full handshake, and no ticket
  // keys or session cache to bound.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  SSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, nullptr);
  return ctx.release();
}

// ---------------------------------------------------------------- the session

namespace {

class TlsSession final : public ServiceSession, ssl::RecordHandler, ssl::HandshakeHandler {
 public:
  TlsSession(TlsAuthority& ca, const SessionInfo& info, InnerFactory inner, const TlsSessionLimits& limits)
      : ca_(ca), info_(info), factory_(std::move(inner)), limits_(limits) {}
  ~TlsSession() override { SSL_free(ssl_); }

  const char* name() const override { return "ssl"; }

  void on_data(core::ByteView data, core::Timestamp now, std::vector<uint8_t>& out) override {
    // OpenSSL's error queue is per thread: leave it empty for the next session.
    struct ClearErrors {
      ~ClearErrors() { ERR_clear_error(); }
    } clear;
    switch (state_) {
      case State::kHello:
        read_hello(data, now, out);
        break;
      case State::kHandshake:
      case State::kEstablished:
        if (!to_ssl(data)) {
          finish_failed("input too large");
          return;
        }
        drive(now, out);
        break;
      case State::kClosed:
        break;
    }
  }

  void on_peer_closed(core::Timestamp now, std::vector<uint8_t>& out) override {
    switch (state_) {
      case State::kHello:
        finish_failed("connection closed before the ClientHello was complete");
        break;
      case State::kHandshake:
        finish_failed("connection closed during the handshake");
        break;
      case State::kEstablished: {
        std::vector<uint8_t> plain;
        if (inner_) inner_->on_peer_closed(now, plain);
        send_plain(plain);
        shutdown();
        flush(out);
        break;
      }
      case State::kClosed:
        break;
    }
  }

  void on_closed(core::Timestamp now) override {
    if (state_ == State::kHello) finish_failed("connection closed before the ClientHello was complete");
    if (state_ == State::kHandshake) finish_failed("connection closed during the handshake");
    if (inner_ && !inner_closed_) {
      inner_closed_ = true;
      inner_->on_closed(now);
    }
    state_ = State::kClosed;
    close_ = true;
  }

  void on_timer(core::Timestamp now, std::vector<uint8_t>& out) override {
    if (state_ != State::kEstablished || !inner_) return;
    std::vector<uint8_t> plain;
    inner_->on_timer(now, plain);
    after_inner(plain, out);
  }

  core::Timestamp next_deadline() const override {
    return state_ == State::kEstablished && inner_ ? inner_->next_deadline() : core::Timestamp{INT64_MAX};
  }

  bool wants_close() const override { return close_; }

  void take_events(std::vector<ServiceEvent>& out) override {
    for (auto& e : events_) out.push_back(std::move(e));
    events_.clear();
    if (inner_) inner_->take_events(out);
  }

 private:
  enum class State { kHello, kHandshake, kEstablished, kClosed };

  // -- the ClientHello, read by the analyzers' parser before OpenSSL sees it

  ssl::RecordAction record_begin(const ssl::RecordHeader& h) override {
    if (h.content_type != ssl::kContentHandshake) {
      hello_error_ = "not a TLS handshake: first record has content type " + std::to_string(h.content_type);
      return ssl::RecordAction::kStop;
    }
    return ssl::RecordAction::kDeliver;
  }
  void record_data(core::ByteView piece) override {
    if (hello_done_ || !hello_error_.empty()) return;
    handshake_.feed(piece, *this, anomalies_);
  }
  bool record_end() override { return !hello_done_ && hello_error_.empty(); }
  bool handshake_message(uint8_t type, core::ByteView body) override {
    if (type != ssl::kHsClientHello) {
      hello_error_ = "not a TLS ClientHello: first handshake message has type " + std::to_string(type);
      return false;
    }
    if (ssl::parse_client_hello(body, hello_, anomalies_, tls_limits_) == ssl::ParseResult::kError) {
      hello_error_ = "malformed ClientHello";
      return false;
    }
    hello_done_ = true;
    return false;
  }
  void handshake_skipped(uint8_t, uint32_t length) override {
    hello_error_ = "ClientHello too long (" + std::to_string(length) + " bytes)";
  }

  void read_hello(core::ByteView data, core::Timestamp now, std::vector<uint8_t>& out) {
    const size_t room = limits_.max_hello_bytes - hello_buf_.size();
    const core::ByteView take = data.first(std::min(room, data.size()));
    hello_buf_.insert(hello_buf_.end(), take.begin(), take.end());
    const auto st = records_.feed(take, *this, anomalies_);
    if (st == ssl::TlsRecordReader::Status::kError && hello_error_.empty()) {
      hello_error_ = "not TLS: bad record header";
    }
    if (hello_done_) {
      note_hello();
      start_handshake(now, out);
      // Bytes beyond the buffer bound, if the hello fit but the rest did not.
      if (take.size() < data.size() && state_ != State::kClosed) on_data(data.subspan(take.size()), now, out);
      return;
    }
    if (!hello_error_.empty()) {
      finish_failed(hello_error_);
    } else if (hello_buf_.size() >= limits_.max_hello_bytes) {
      finish_failed("no complete ClientHello in the first " + std::to_string(limits_.max_hello_bytes) + " bytes");
    }
  }

  void note_hello() {
    server_name_ = hello_.server_name;
    uint16_t offered = hello_.version;
    for (const uint16_t v : hello_.supported_versions) {
      if (!ssl::is_grease(v) && v > offered && v <= 0x0304) offered = v;
    }
    client_version_ = ssl::version_name(offered);
    ja3_ = ssl::ja3(hello_);
    ja4_ = ssl::ja4(hello_);
  }

  void start_handshake(core::Timestamp now, std::vector<uint8_t>& out) {
    std::string err;
    SSL_CTX* ctx = ca_.context_for(server_name_, info_.server_ip, err);
    if (ctx == nullptr) {
      finish_failed(err);
      return;
    }
    cert_name_ = TlsAuthority::certificate_key(server_name_, info_.server_ip);
    cert_serial_ = serial_hex(SSL_CTX_get0_certificate(ctx));
    ssl_ = SSL_new(ctx);
    BIO* r = BIO_new(BIO_s_mem());
    BIO* w = BIO_new(BIO_s_mem());
    if (ssl_ == nullptr || r == nullptr || w == nullptr) {
      BIO_free(r);
      BIO_free(w);
      finish_failed("out of memory");
      return;
    }
    SSL_set_bio(ssl_, r, w);
    SSL_set_accept_state(ssl_);
    state_ = State::kHandshake;
    const bool ok = to_ssl(hello_buf_);
    std::vector<uint8_t>().swap(hello_buf_);
    if (!ok) {
      finish_failed("input too large");
      return;
    }
    drive(now, out);
  }

  bool to_ssl(core::ByteView data) {
    if (data.size() > static_cast<size_t>(INT32_MAX)) return false;
    if (data.empty()) return true;
    return BIO_write(SSL_get_rbio(ssl_), data.data(), static_cast<int>(data.size())) == static_cast<int>(data.size());
  }

  void flush(std::vector<uint8_t>& out) {
    if (ssl_ == nullptr) return;
    BIO* w = SSL_get_wbio(ssl_);
    uint8_t buf[16384];
    for (int i = 0; i < 100000 && BIO_ctrl_pending(w) > 0; ++i) {
      const int n = BIO_read(w, buf, sizeof buf);
      if (n <= 0) break;
      out.insert(out.end(), buf, buf + n);
    }
  }

  void drive(core::Timestamp now, std::vector<uint8_t>& out) {
    if (state_ == State::kHandshake) {
      ERR_clear_error();
      const int r = SSL_do_handshake(ssl_);
      if (r != 1) {
        const int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ) {
          flush(out);
          return;
        }
        const std::string why = openssl_error(e == SSL_ERROR_ZERO_RETURN ? "closed by the client" : "handshake failed");
        flush(out);  // our alert
        finish_failed(why);
        return;
      }
      established(now, out);
      if (state_ != State::kEstablished) return;
    }
    if (state_ != State::kEstablished) return;
    std::vector<uint8_t> plain;
    uint8_t buf[16384];
    // Each round consumes at least one record from the finite input.
    for (int rounds = 0; rounds < 100000 && state_ == State::kEstablished; ++rounds) {
      ERR_clear_error();
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n > 0) {
        plain.clear();
        inner_->on_data(core::ByteView(buf, static_cast<size_t>(n)), now, plain);
        send_plain(plain);
        if (inner_->wants_close()) shutdown();
        continue;
      }
      const int e = SSL_get_error(ssl_, n);
      if (e == SSL_ERROR_WANT_READ) break;
      if (e == SSL_ERROR_ZERO_RETURN) {  // close_notify
        plain.clear();
        inner_->on_peer_closed(now, plain);
        send_plain(plain);
        shutdown();
      } else {  // a fatal alert or a protocol error: no close_notify after it
        ERR_clear_error();
        state_ = State::kClosed;
        close_ = true;
      }
    }
    flush(out);
  }

  void established(core::Timestamp now, std::vector<uint8_t>& out) {
    established_ = true;
    version_ = ssl::version_name(static_cast<uint16_t>(SSL_version(ssl_)));
    if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl_)) {
      const char* n = SSL_CIPHER_standard_name(c);
      cipher_ = n != nullptr ? n : SSL_CIPHER_get_name(c);
    }
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl_, &alpn, &alpn_len);
    if (alpn != nullptr) alpn_.assign(reinterpret_cast<const char*>(alpn), alpn_len);
    emit_event();
    state_ = State::kEstablished;
    if (factory_) inner_ = factory_(info_);
    if (!inner_) {  // nothing to serve the plaintext
      shutdown();
      flush(out);
      return;
    }
    std::vector<uint8_t> plain;
    inner_->on_open(now, plain);
    send_plain(plain);
    if (inner_->wants_close()) shutdown();
  }

  void after_inner(const std::vector<uint8_t>& plain, std::vector<uint8_t>& out) {
    send_plain(plain);
    if (inner_->wants_close()) shutdown();
    flush(out);
  }

  void send_plain(const std::vector<uint8_t>& plain) {
    if (plain.empty() || state_ != State::kEstablished) return;
    for (size_t at = 0; at < plain.size();) {
      const int n = static_cast<int>(std::min<size_t>(plain.size() - at, 1 << 20));
      ERR_clear_error();
      const int w = SSL_write(ssl_, plain.data() + at, n);
      if (w <= 0) {
        ERR_clear_error();
        state_ = State::kClosed;
        close_ = true;
        return;
      }
      at += static_cast<size_t>(w);
    }
  }

  // Sends close_notify once; the driver closes after `out` is sent.
  void shutdown() {
    if (ssl_ != nullptr && state_ == State::kEstablished) {
      ERR_clear_error();
      SSL_shutdown(ssl_);
      ERR_clear_error();
    }
    state_ = State::kClosed;
    close_ = true;
  }

  void finish_failed(std::string reason) {
    if (!event_sent_) {
      failure_ = std::move(reason);
      emit_event();
    }
    state_ = State::kClosed;
    close_ = true;
  }

  void emit_event() {
    if (event_sent_) return;
    event_sent_ = true;
    ServiceEvent ev;
    ev.log = "sinkhole_tls";
    output::JsonLine j(ev.json);
    j.str("server_name", server_name_);
    j.str("client_version", client_version_);
    if (!hello_.alpn.empty()) {
      std::string arr = "[";
      for (size_t i = 0; i < hello_.alpn.size(); ++i) {
        if (i) arr.push_back(',');
        output::append_json_string(arr, hello_.alpn[i]);
      }
      arr.push_back(']');
      j.raw("client_alpn", arr);
    }
    j.str("ja3", ja3_);
    j.str("ja4", ja4_);
    j.boolean("established", established_);
    if (established_) {
      j.str("version", version_);
      j.str("cipher", cipher_);
      j.str("alpn", alpn_);
    } else {
      j.str("failure_reason", failure_);
    }
    if (!cert_serial_.empty()) {
      j.str("cert_name", cert_name_);
      j.str("cert_serial", cert_serial_);
    }
    j.end_object();
    if (!server_name_.empty()) {
      // The name as the certificate got it (lower case, no trailing dot); a
      // name no certificate could carry is listed as sent.
      const std::string key = TlsAuthority::certificate_key(server_name_, info_.server_ip);
      if (core::IpAddress::parse(server_name_)) {
        ev.iocs.push_back({Ioc::Kind::kIp, key.substr(3)});
      } else {
        ev.iocs.push_back({Ioc::Kind::kDomain, key.compare(0, 4, "dns:") == 0 ? key.substr(4) : server_name_});
      }
    }
    if (!ja3_.empty()) ev.iocs.push_back({Ioc::Kind::kJa3, ja3_});
    if (!ja4_.empty()) ev.iocs.push_back({Ioc::Kind::kJa4, ja4_});
    events_.push_back(std::move(ev));
  }

  TlsAuthority& ca_;
  SessionInfo info_;
  InnerFactory factory_;
  TlsSessionLimits limits_;
  State state_ = State::kHello;

  ssl::TlsLimits tls_limits_;
  core::Anomalies anomalies_;
  ssl::TlsRecordReader records_{tls_limits_, false};
  ssl::HandshakeReader handshake_{tls_limits_};
  std::vector<uint8_t> hello_buf_;
  ssl::ClientHello hello_;
  bool hello_done_ = false;
  std::string hello_error_;

  SSL* ssl_ = nullptr;
  std::unique_ptr<ServiceSession> inner_;
  bool inner_closed_ = false;
  bool close_ = false;

  std::vector<ServiceEvent> events_;
  bool event_sent_ = false;
  bool established_ = false;
  std::string server_name_, client_version_, ja3_, ja4_, version_, cipher_, alpn_, failure_, cert_name_, cert_serial_;
};

}  // namespace

std::unique_ptr<ServiceSession> make_tls_session(TlsAuthority& ca, const SessionInfo& info, InnerFactory inner,
                                                 const TlsSessionLimits& limits) {
  return std::make_unique<TlsSession>(ca, info, std::move(inner), limits);
}

std::unique_ptr<ServiceSession> make_tls_session(TlsAuthority& ca, const SessionInfo& info, InnerFactory inner) {
  return make_tls_session(ca, info, std::move(inner), TlsSessionLimits{});
}

bool looks_like_tls(core::ByteView first) {
  if (first.size() >= 1 && first[0] != ssl::kContentHandshake) return false;
  if (first.size() >= 2 && first[1] != 0x03) return false;
  if (first.size() >= 3 && first[2] > 0x04) return false;
  if (first.size() >= 5) {
    // A ClientHello record is never empty and never longer than a record may be.
    const uint16_t len = core::load_be16(first.data() + 3);
    if (len == 0 || len > 16384 + 2048) return false;
  }
  return true;
}

}  // namespace trawl::sinkhole

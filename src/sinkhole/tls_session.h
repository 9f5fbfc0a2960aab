// TLS for the sinkhole: a local certificate authority that mints a
// certificate for whatever name the guest asks for, and a ServiceSession that
// terminates TLS on memory BIOs (no sockets) and hands the plaintext to an
// inner session (HTTP in practice). The ClientHello is read with the
// analyzers' own parser before OpenSSL sees it, so the SNI, JA3 and JA4 are
// logged even when the handshake then fails.
//
// Keys: P-256 (ECDSA) for the CA and every leaf: fast to generate, accepted by
// every TLS 1.2/1.3 client of the last decade.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/byte_view.h"
#include "core/ip_address.h"
#include "sinkhole/service.h"

namespace trawl::sinkhole {

class TlsAuthority {
 public:
  static constexpr size_t kDefaultMaxContexts = 256;

  // Loads DIR/trawl-sinkhole-ca.key and DIR/trawl-sinkhole-ca.crt (PEM), creating them (and DIR,
  // mode 0700; the key 0600) on first use. nullptr with a clear message on error (unreadable,
  // corrupt, key/cert mismatch).
  static std::unique_ptr<TlsAuthority> open(const std::string& dir, std::string& error);
  ~TlsAuthority();
  TlsAuthority(const TlsAuthority&) = delete;
  TlsAuthority& operator=(const TlsAuthority&) = delete;

  const std::string& ca_cert_path() const;  // the file to install in the guest
  std::string ca_sha256() const;            // fingerprint for the summary (lower-case hex of the DER)
  // An SSL_CTX (server) whose certificate fits `sni` (or the IP when sni is empty), made on first
  // use and cached (bounded: LRU of at most max_contexts() names). Never null on success. The
  // pointer stays valid until the entry is evicted; SSL_new() takes its own reference, so a
  // session may outlive the cache entry. Thread-safe.
  SSL_CTX* context_for(std::string_view sni, const core::IpAddress& server_ip, std::string& error);

  // The LRU bound (at least 1); shrinking evicts at once.
  void set_max_contexts(size_t n);
  size_t max_contexts() const { return max_contexts_; }
  size_t cached_contexts() const;
  // The name a certificate is made for: the SNI lower-cased when it is a
  // valid DNS name (or an IP literal), else the server address. "dns:NAME" or "ip:ADDR".
  static std::string certificate_key(std::string_view sni, const core::IpAddress& server_ip);

 private:
  TlsAuthority() = default;
  SSL_CTX* make_context(const std::string& key, std::string& error);

  struct Entry {
    SSL_CTX* ctx = nullptr;
    std::list<std::string>::iterator lru;
  };
  std::string dir_;
  std::string cert_path_;
  EVP_PKEY* ca_key_ = nullptr;
  X509* ca_cert_ = nullptr;
  size_t max_contexts_ = kDefaultMaxContexts;
  mutable std::mutex mu_;
  std::list<std::string> lru_;  // most recent first
  std::unordered_map<std::string, Entry> cache_;
};

using InnerFactory = std::function<std::unique_ptr<ServiceSession>(const SessionInfo&)>;

// Bounds of one TLS session.
struct TlsSessionLimits {
  size_t max_hello_bytes = 32 * 1024;  // bytes buffered while waiting for a whole ClientHello
};

// A ServiceSession (service.h) that terminates TLS and hands the plaintext to the session `inner`
// makes (HTTP in practice). name() is "ssl". Its events: one "sinkhole_tls" event per connection
// (server_name, version offered/negotiated, cipher, alpn, ja3, ja4, established true/false, the
// failure reason, the certificate serial it served) + every event of the inner session, unchanged.
// IOCs: the SNI (domain), ja3, ja4.
std::unique_ptr<ServiceSession> make_tls_session(TlsAuthority& ca, const SessionInfo& info, InnerFactory inner);
std::unique_ptr<ServiceSession> make_tls_session(TlsAuthority& ca, const SessionInfo& info, InnerFactory inner,
                                                 const TlsSessionLimits& limits);

// True when `first` (the first bytes of a connection, maybe only 1-5 bytes) can still be / is a TLS
// handshake record (0x16 0x03 0x00..0x04); the router uses it to pick TLS on any port. An empty
// view can still be anything: true.
bool looks_like_tls(core::ByteView first);

}  // namespace trawl::sinkhole

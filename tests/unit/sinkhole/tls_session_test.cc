// Tests for the sinkhole's TLS: the local CA (created, reloaded, refused when
// corrupt), the per-name certificates (verified against the CA with the
// hostname or IP check), the LRU bound, handshakes with an in-memory OpenSSL
// client (the plaintext reaching an HTTP inner session and back), the
// sinkhole_tls event on success and on every kind of failure (JA3/JA4 as the
// analyzers compute them), and the real curl through a loopback server.
#include "sinkhole/tls_session.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "analyzers/ssl/tls_fingerprint.h"
#include "analyzers/ssl/tls_parser.h"
#include "output/json_line.h"
#include "sinkhole/fake_content.h"
#include "sinkhole/http_responder.h"
#include "sinkhole/run_command.h"

extern char** environ;

namespace trawl::sinkhole {
namespace {

using test_util::run_command;

namespace fs = std::filesystem;
using nlohmann::json;

constexpr core::Timestamp kNow = core::Timestamp::from_sec_nsec(1700000000, 0);

class TempDir {
 public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "trawl-tls-XXXXXX").string();
    if (::mkdtemp(t.data()) != nullptr) path_ = t;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string sub(const char* name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

// The inner session: the sinkhole's HTTP responder, its exchanges as
// "sinkhole_http" events (host and path only: enough to see them pass through).
class HttpInner : public ServiceSession {
 public:
  explicit HttpInner(const HttpResponder& r) : s_(r) {}
  const char* name() const override { return "http"; }
  void on_data(core::ByteView data, core::Timestamp now, std::vector<uint8_t>& out) override {
    s_.feed(data, now, out);
  }
  void on_peer_closed(core::Timestamp, std::vector<uint8_t>&) override { s_.end_of_stream(); }
  bool wants_close() const override { return s_.wants_close(); }
  void take_events(std::vector<ServiceEvent>& out) override {
    for (const auto& e : s_.take_exchanges()) {
      ServiceEvent ev;
      ev.log = "sinkhole_http";
      output::JsonLine j(ev.json);
      j.str("host", e.host).str("path", e.path).u64("status", e.status);
      j.end_object();
      out.push_back(std::move(ev));
    }
  }

 private:
  HttpSession s_;
};

InnerFactory http_factory(const HttpResponder& r) {
  return [&r](const SessionInfo&) { return std::make_unique<HttpInner>(r); };
}

SessionInfo info_for(const char* server_ip) {
  SessionInfo info;
  info.conn = 7;
  info.guest_ip = *core::IpAddress::parse("10.13.0.5");
  info.server_ip = *core::IpAddress::parse(server_ip);
  info.guest_port = 49152;
  info.server_port = 443;
  return info;
}

std::vector<uint8_t> drain(BIO* b) {
  std::vector<uint8_t> v;
  uint8_t buf[4096];
  for (int i = 0; i < 10000 && BIO_ctrl_pending(b) > 0; ++i) {
    const int n = BIO_read(b, buf, sizeof buf);
    if (n <= 0) break;
    v.insert(v.end(), buf, buf + n);
  }
  return v;
}

// An OpenSSL client on memory BIOs.
struct Client {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  std::vector<uint8_t> first_flight;  // the ClientHello as sent

  // ca_file empty: trusts nothing (the handshake fails on the certificate).
  Client(const std::string& ca_file, const char* sni, const char* check_host, const char* check_ip,
         int max_version = 0) {
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ca_file.empty()) SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (max_version != 0) {
      SSL_CTX_set_security_level(ctx, 0);
      SSL_CTX_set_min_proto_version(ctx, max_version);
      SSL_CTX_set_max_proto_version(ctx, max_version);
    }
    static const unsigned char kAlpn[] = "\x02h2\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn - 1);
    ssl = SSL_new(ctx);
    SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    SSL_set_connect_state(ssl);
    if (sni != nullptr) SSL_set_tlsext_host_name(ssl, sni);
    if (check_host != nullptr) SSL_set1_host(ssl, check_host);
    if (check_ip != nullptr) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), check_ip);
  }
  ~Client() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  std::vector<uint8_t> take() { return drain(SSL_get_wbio(ssl)); }
  void give(const std::vector<uint8_t>& v) {
    if (!v.empty()) BIO_write(SSL_get_rbio(ssl), v.data(), static_cast<int>(v.size()));
  }
};

// Runs the handshake between `c` and `s`, the client's bytes delivered in
// pieces of `chunk` (0: whole). True when the client finished it.
bool handshake(Client& c, ServiceSession& s, size_t chunk = 0) {
  for (int round = 0; round < 20; ++round) {
    ERR_clear_error();
    const int r = SSL_do_handshake(c.ssl);
    const int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(c.ssl, r);
    std::vector<uint8_t> to_server = c.take();
    if (c.first_flight.empty()) c.first_flight = to_server;
    std::vector<uint8_t> out;
    if (!to_server.empty()) {
      const size_t step = chunk == 0 ? to_server.size() : chunk;
      for (size_t at = 0; at < to_server.size(); at += step) {
        s.on_data(core::ByteView(to_server).subspan(at, std::min(step, to_server.size() - at)), kNow, out);
      }
    }
    c.give(out);
    if (r == 1 && out.empty()) return true;
    if (r != 1 && e != SSL_ERROR_WANT_READ) return false;
    if (to_server.empty() && out.empty() && r != 1) return false;
  }
  return false;
}

// Sends `request` over the established connection and returns what the client reads back.
std::string exchange(Client& c, ServiceSession& s, const std::string& request) {
  ERR_clear_error();
  SSL_write(c.ssl, request.data(), static_cast<int>(request.size()));
  std::vector<uint8_t> out;
  s.on_data(c.take(), kNow, out);
  c.give(out);
  std::string got;
  char buf[4096];
  for (int i = 0; i < 1000; ++i) {
    const int n = SSL_read(c.ssl, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ERR_clear_error();
  return got;
}

std::string ja3_of_flight(const std::vector<uint8_t>& flight, std::string* ja4 = nullptr) {
  // One record holding the whole ClientHello (true for OpenSSL's client).
  if (flight.size() < 9 || flight[0] != 0x16 || flight[5] != 1) return "<not a hello>";
  const size_t len = (size_t{flight[6]} << 16) | (size_t{flight[7]} << 8) | flight[8];
  analyzers::ssl::ClientHello ch;
  core::Anomalies an;
  if (analyzers::ssl::parse_client_hello(core::ByteView(flight).subspan(9, len), ch, an) !=
      analyzers::ssl::ParseResult::kOk) {
    return "<bad hello>";
  }
  if (ja4 != nullptr) *ja4 = analyzers::ssl::ja4(ch);
  return analyzers::ssl::ja3(ch);
}

std::vector<ServiceEvent> events_of(ServiceSession& s) {
  std::vector<ServiceEvent> ev;
  s.take_events(ev);
  return ev;
}

X509* load_cert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return x;
}

// X509_verify_cert of `leaf` against the CA file, with a host or IP check.
int verify_leaf(X509* leaf, const std::string& ca_file, const char* host, const char* ip) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_load_file(store, ca_file.c_str());
  X509_STORE_CTX* sc = X509_STORE_CTX_new();
  X509_STORE_CTX_init(sc, store, leaf, nullptr);
  X509_VERIFY_PARAM* p = X509_STORE_CTX_get0_param(sc);
  X509_VERIFY_PARAM_set_purpose(p, X509_PURPOSE_SSL_SERVER);
  if (host != nullptr) X509_VERIFY_PARAM_set1_host(p, host, 0);
  if (ip != nullptr) X509_VERIFY_PARAM_set1_ip_asc(p, ip);
  const int ok = X509_verify_cert(sc);
  const int err = X509_STORE_CTX_get_error(sc);
  X509_STORE_CTX_free(sc);
  X509_STORE_free(store);
  ERR_clear_error();
  return ok == 1 ? 0 : err;
}

std::string serial_of(X509* x) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
  char* h = BN_bn2hex(bn);
  std::string s = h;
  OPENSSL_free(h);
  BN_free(bn);
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

class TlsSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    std::string err;
    ca_ = TlsAuthority::open(dir_.sub("ca"), err);
    ASSERT_NE(ca_, nullptr) << err;
  }
  TempDir dir_;
  std::unique_ptr<TlsAuthority> ca_;
  HttpResponder http_;
};

TEST_F(TlsSessionTest, HandshakeWithSniServesHttp) {
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{100}}) {
    auto s = make_tls_session(*ca_, info_for("203.0.113.5"), http_factory(http_));
    EXPECT_STREQ(s->name(), "ssl");
    Client c(ca_->ca_cert_path(), "c2.example.test", "c2.example.test", nullptr);
    ASSERT_TRUE(handshake(c, *s, chunk)) << chunk;
    EXPECT_EQ(SSL_get_verify_result(c.ssl), X509_V_OK);
    EXPECT_EQ(SSL_version(c.ssl), TLS1_3_VERSION);

    // The leaf: verified against the CA with the hostname check, a leaf for serverAuth.
    X509* leaf = SSL_get1_peer_certificate(c.ssl);
    ASSERT_NE(leaf, nullptr);
    EXPECT_EQ(verify_leaf(leaf, ca_->ca_cert_path(), "c2.example.test", nullptr), 0);
    EXPECT_EQ(verify_leaf(leaf, ca_->ca_cert_path(), "other.example.test", nullptr), X509_V_ERR_HOSTNAME_MISMATCH);
    EXPECT_EQ(X509_check_ca(leaf), 0);
    EXPECT_NE(X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER, 0u);
    EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(leaf)), EVP_PKEY_EC);
    int days = 0, secs = 0;
    ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(leaf), X509_get0_notAfter(leaf));
    EXPECT_EQ(days, 366);
    const std::string serial = serial_of(leaf);
    X509_free(leaf);

    // The plaintext reaches the HTTP session and its answer the client.
    const std::string resp = exchange(c, *s, "GET /notes.txt HTTP/1.1\r\nHost: c2.example.test\r\n\r\n");
    const std::string body(fake_file(FakeKind::kTxt).body);
    ASSERT_GE(resp.size(), body.size());
    EXPECT_EQ(resp.substr(0, 17), "HTTP/1.1 200 OK\r\n");
    EXPECT_EQ(resp.substr(resp.size() - body.size()), body);
    EXPECT_FALSE(s->wants_close());

    std::string ja4;
    const std::string ja3 = ja3_of_flight(c.first_flight, &ja4);
    EXPECT_EQ(ja3.size(), 32u);
    const auto ev = events_of(*s);
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].log, "sinkhole_tls");
    const json j = json::parse(ev[0].json);
    EXPECT_EQ(j["server_name"], "c2.example.test");
    EXPECT_EQ(j["client_version"], "TLSv13");
    EXPECT_EQ(j["version"], "TLSv13");
    EXPECT_EQ(j["cipher"], "TLS_AES_256_GCM_SHA384");
    EXPECT_EQ(j["alpn"], "http/1.1");
    EXPECT_EQ(j["client_alpn"], json::parse(R"(["h2","http/1.1"])"));
    EXPECT_EQ(j["ja3"], ja3);
    EXPECT_EQ(j["ja4"], ja4);
    EXPECT_EQ(j["established"], true);
    EXPECT_FALSE(j.contains("failure_reason"));
    EXPECT_EQ(j["cert_name"], "dns:c2.example.test");
    EXPECT_EQ(j["cert_serial"], serial);
    ASSERT_EQ(ev[0].iocs.size(), 3u);
    EXPECT_EQ(ev[0].iocs[0].kind, Ioc::Kind::kDomain);
    EXPECT_EQ(ev[0].iocs[0].value, "c2.example.test");
    EXPECT_EQ(ev[0].iocs[1].kind, Ioc::Kind::kJa3);
    EXPECT_EQ(ev[0].iocs[1].value, ja3);
    EXPECT_EQ(ev[0].iocs[2].kind, Ioc::Kind::kJa4);
    EXPECT_EQ(ev[0].iocs[2].value, ja4);
    EXPECT_EQ(ev[1].log, "sinkhole_http");
    EXPECT_EQ(ev[1].json, R"({"host":"c2.example.test","path":"/notes.txt","status":200})");

    // close_notify from the client: ours comes back and the session closes.
    SSL_shutdown(c.ssl);
    std::vector<uint8_t> out;
    s->on_data(c.take(), kNow, out);
    EXPECT_TRUE(s->wants_close());
    c.give(out);
    EXPECT_EQ(SSL_shutdown(c.ssl), 1);
    s->on_closed(kNow);
    EXPECT_TRUE(events_of(*s).empty());
  }
  EXPECT_EQ(ca_->cached_contexts(), 1u);  // one certificate for the three connections
}

TEST_F(TlsSessionTest, IpOnlyConnection) {
  auto s = make_tls_session(*ca_, info_for("198.51.100.9"), http_factory(http_));
  Client c(ca_->ca_cert_path(), nullptr, nullptr, "198.51.100.9");
  ASSERT_TRUE(handshake(c, *s));
  EXPECT_EQ(SSL_get_verify_result(c.ssl), X509_V_OK);
  X509* leaf = SSL_get1_peer_certificate(c.ssl);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(verify_leaf(leaf, ca_->ca_cert_path(), nullptr, "198.51.100.9"), 0);
  EXPECT_EQ(verify_leaf(leaf, ca_->ca_cert_path(), nullptr, "198.51.100.10"), X509_V_ERR_IP_ADDRESS_MISMATCH);
  X509_free(leaf);
  const std::string resp = exchange(c, *s, "GET /generate_204 HTTP/1.1\r\nHost: 198.51.100.9\r\n\r\n");
  EXPECT_EQ(resp.substr(0, 25), "HTTP/1.1 204 No Content\r\n");
  const auto ev = events_of(*s);
  ASSERT_EQ(ev.size(), 2u);
  const json j = json::parse(ev[0].json);
  EXPECT_EQ(j["server_name"], "");
  EXPECT_EQ(j["established"], true);
  EXPECT_EQ(j["cert_name"], "ip:198.51.100.9");
  ASSERT_EQ(ev[0].iocs.size(), 2u);  // no domain
  EXPECT_EQ(ev[0].iocs[0].kind, Ioc::Kind::kJa3);
  EXPECT_EQ(ev[0].iocs[1].kind, Ioc::Kind::kJa4);
}

TEST_F(TlsSessionTest, InnerCloseSendsCloseNotify) {
  auto s = make_tls_session(*ca_, info_for("203.0.113.5"), http_factory(http_));
  Client c(ca_->ca_cert_path(), "c2.example.test", "c2.example.test", nullptr);
  ASSERT_TRUE(handshake(c, *s));
  const std::string resp = exchange(c, *s, "GET /x.txt HTTP/1.1\r\nHost: c2.example.test\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(resp.substr(0, 17), "HTTP/1.1 200 OK\r\n");
  EXPECT_TRUE(s->wants_close());
  EXPECT_EQ(SSL_get_shutdown(c.ssl) & SSL_RECEIVED_SHUTDOWN, SSL_RECEIVED_SHUTDOWN);
  // Later bytes are ignored.
  std::vector<uint8_t> out;
  const uint8_t more[] = {0x17, 0x03, 0x03, 0x00, 0x01, 0x00};
  s->on_data(more, kNow, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(events_of(*s).size(), 2u);
}

// A server-first inner session: its banner goes out at once, its timer work
// when the driver calls on_timer.
class BannerInner : public ServiceSession {
 public:
  const char* name() const override { return "banner"; }
  void on_open(core::Timestamp now, std::vector<uint8_t>& out) override {
    opened_at_ = now;
    append(out, "220 ready\r\n");
  }
  void on_data(core::ByteView data, core::Timestamp, std::vector<uint8_t>& out) override {
    append(out, "echo:");
    out.insert(out.end(), data.begin(), data.end());
  }
  void on_timer(core::Timestamp, std::vector<uint8_t>& out) override {
    append(out, "tick\r\n");
    ticked_ = true;
  }
  core::Timestamp next_deadline() const override {
    return ticked_ ? core::Timestamp{INT64_MAX} : core::Timestamp{opened_at_.ns + 1000000000};
  }
  void take_events(std::vector<ServiceEvent>&) override {}

 private:
  static void append(std::vector<uint8_t>& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }
  core::Timestamp opened_at_{};
  bool ticked_ = false;
};

TEST_F(TlsSessionTest, ServerFirstInnerAndTimers) {
  auto s = make_tls_session(*ca_, info_for("203.0.113.5"), [](const SessionInfo& i) {
    EXPECT_EQ(i.server_ip.to_string(), "203.0.113.5");
    EXPECT_EQ(i.server_port, 443);
    return std::make_unique<BannerInner>();
  });
  EXPECT_EQ(s->next_deadline().ns, INT64_MAX);  // no inner session before the handshake
  Client c(ca_->ca_cert_path(), "mail.example.test", "mail.example.test", nullptr);
  ASSERT_TRUE(handshake(c, *s));
  EXPECT_EQ(s->next_deadline().ns, kNow.ns + 1000000000);
  char buf[256];
  int n = SSL_read(c.ssl, buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "220 ready\r\n");
  std::vector<uint8_t> out;
  s->on_timer(core::Timestamp{kNow.ns + 1000000000}, out);
  c.give(out);
  n = SSL_read(c.ssl, buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "tick\r\n");
  EXPECT_EQ(s->next_deadline().ns, INT64_MAX);
  EXPECT_EQ(exchange(c, *s, "hi"), "echo:hi");
  // The guest's FIN: the session sends close_notify and wants to close.
  out.clear();
  s->on_peer_closed(kNow, out);
  c.give(out);
  EXPECT_TRUE(s->wants_close());
  ERR_clear_error();
  EXPECT_EQ(SSL_read(c.ssl, buf, sizeof buf), 0);
  EXPECT_EQ(SSL_get_error(c.ssl, 0), SSL_ERROR_ZERO_RETURN);
}

TEST_F(TlsSessionTest, Tls12) {
  auto s = make_tls_session(*ca_, info_for("203.0.113.5"), http_factory(http_));
  Client c(ca_->ca_cert_path(), "old.example.test", "old.example.test", nullptr, TLS1_2_VERSION);
  ASSERT_TRUE(handshake(c, *s));
  const std::string resp = exchange(c, *s, "GET /a.js HTTP/1.1\r\nHost: old.example.test\r\n\r\n");
  EXPECT_EQ(resp.substr(0, 17), "HTTP/1.1 200 OK\r\n");
  const auto ev = events_of(*s);
  ASSERT_EQ(ev.size(), 2u);
  const json j = json::parse(ev[0].json);
  EXPECT_EQ(j["client_version"], "TLSv12");
  EXPECT_EQ(j["version"], "TLSv12");
  EXPECT_EQ(j["cipher"], "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
  EXPECT_EQ(j["ja3"], ja3_of_flight(c.first_flight));
}

TEST_F(TlsSessionTest, ClientRejectsCertificate) {
  // The guest does not trust our CA: the SNI and JA3 are logged anyway.
  auto s = make_tls_session(*ca_, info_for("203.0.113.5"), http_factory(http_));
  Client c("", "c2.example.test", nullptr, nullptr);
  EXPECT_FALSE(handshake(c, *s));
  std::vector<uint8_t> out;
  s->on_data(c.take(), kNow, out);  // the client's alert
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(s->wants_close());
  std::string ja4;
  const std::string ja3 = ja3_of_flight(c.first_flight, &ja4);
  const auto ev = events_of(*s);
  ASSERT_EQ(ev.size(), 1u);
  const json j = json::parse(ev[0].json);
  EXPECT_EQ(j["server_name"], "c2.example.test");
  EXPECT_EQ(j["ja3"], ja3);
  EXPECT_EQ(j["ja4"], ja4);
  EXPECT_EQ(j["established"], false);
  EXPECT_EQ(j["failure_reason"], "tlsv1 alert unknown ca");
  EXPECT_FALSE(j.contains("version"));
  EXPECT_EQ(ev[0].iocs.size(), 3u);
}

TEST_F(TlsSessionTest, HelloThenGarbage) {
  auto s = make_tls_session(*ca_, info_for("203.0.113.5"), http_factory(http_));
  Client c(ca_->ca_cert_path(), "Beacon.Example.TEST", nullptr, nullptr);
  ERR_clear_error();
  SSL_do_handshake(c.ssl);
  const std::vector<uint8_t> hello = c.take();
  std::vector<uint8_t> out;
  s->on_data(hello, kNow, out);
  EXPECT_FALSE(out.empty());  // ServerHello and the rest of our flight
  EXPECT_FALSE(s->wants_close());
  out.clear();
  const std::string junk("\x17\x03\x03\x00\x05" "abcde", 10);
  s->on_data(core::ByteView(reinterpret_cast<const uint8_t*>(junk.data()), junk.size()), kNow, out);
  EXPECT_TRUE(s->wants_close());
  EXPECT_FALSE(out.empty());  // our alert (encrypted: TLS 1.3)
  const auto ev = events_of(*s);
  ASSERT_EQ(ev.size(), 1u);
  const json j = json::parse(ev[0].json);
  EXPECT_EQ(j["server_name"], "Beacon.Example.TEST");
  EXPECT_EQ(j["ja3"], ja3_of_flight(hello));
  EXPECT_EQ(j["established"], false);
  EXPECT_EQ(j["failure_reason"], "decryption failed or bad record mac");
  EXPECT_EQ(j["cert_name"], "dns:beacon.example.test");
  ASSERT_EQ(ev[0].iocs.size(), 3u);
  EXPECT_EQ(ev[0].iocs[0].value, "beacon.example.test");
}

TEST_F(TlsSessionTest, OldProtocolRefused) {
  auto s = make_tls_session(*ca_, info_for("203.0.113.5"), http_factory(http_));
  Client c(ca_->ca_cert_path(), "legacy.example.test", nullptr, nullptr, TLS1_VERSION);
  EXPECT_FALSE(handshake(c, *s));
  const auto ev = events_of(*s);
  ASSERT_EQ(ev.size(), 1u);
  const json j = json::parse(ev[0].json);
  EXPECT_EQ(j["server_name"], "legacy.example.test");
  EXPECT_EQ(j["client_version"], "TLSv10");
  EXPECT_EQ(j["established"], false);
  EXPECT_EQ(j["failure_reason"], "unsupported protocol");
  EXPECT_TRUE(s->wants_close());
}

TEST_F(TlsSessionTest, NotTls) {
  struct Case {
    std::string bytes;
    std::string reason;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\n\r\n", "not TLS: bad record header"},
      {std::string("\x15\x03\x03\x00\x02\x02\x28", 7), "not a TLS handshake: first record has content type 21"},
      {std::string("\x16\x03\x03\x00\x08\x02\x00\x00\x04\x03\x03\x00\x00", 13),
       "not a TLS ClientHello: first handshake message has type 2"},
      {std::string("\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00", 13), "malformed ClientHello"},
  };
  for (const Case& k : cases) {
    auto s = make_tls_session(*ca_, info_for("203.0.113.5"), http_factory(http_));
    std::vector<uint8_t> out;
    s->on_data(core::ByteView(reinterpret_cast<const uint8_t*>(k.bytes.data()), k.bytes.size()), kNow, out);
    EXPECT_TRUE(out.empty());
    EXPECT_TRUE(s->wants_close());
    const auto ev = events_of(*s);
    ASSERT_EQ(ev.size(), 1u);
    const json j = json::parse(ev[0].json);
    EXPECT_EQ(j["established"], false);
    EXPECT_EQ(j["failure_reason"], k.reason);
    EXPECT_EQ(j["server_name"], "");
    EXPECT_EQ(j["ja3"], "");
    EXPECT_TRUE(ev[0].iocs.empty());
    s->on_closed(kNow);
    EXPECT_TRUE(events_of(*s).empty());  // one event per connection
  }
  // Cut short, then closed.
  {
    auto s = make_tls_session(*ca_, info_for("203.0.113.5"), http_factory(http_));
    const uint8_t part[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
    std::vector<uint8_t> out;
    s->on_data(part, kNow, out);
    EXPECT_FALSE(s->wants_close());
    EXPECT_TRUE(events_of(*s).empty());
    s->on_closed(kNow);
    const auto ev = events_of(*s);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(json::parse(ev[0].json)["failure_reason"], "connection closed before the ClientHello was complete");
  }
  // Longer than the buffer bound.
  {
    TlsSessionLimits lim;
    lim.max_hello_bytes = 100;
    auto s = make_tls_session(*ca_, info_for("203.0.113.5"), http_factory(http_), lim);
    std::vector<uint8_t> big = {0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0xfc};
    big.resize(300, 0x41);
    std::vector<uint8_t> out;
    s->on_data(big, kNow, out);
    EXPECT_TRUE(s->wants_close());
    const auto ev = events_of(*s);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(json::parse(ev[0].json)["failure_reason"], "no complete ClientHello in the first 100 bytes");
  }
}

TEST(TlsLooksLike, Prefixes) {
  auto t = [](std::vector<uint8_t> v) { return looks_like_tls(v); };
  EXPECT_TRUE(t({}));
  EXPECT_TRUE(t({0x16}));
  EXPECT_TRUE(t({0x16, 0x03}));
  EXPECT_TRUE(t({0x16, 0x03, 0x00}));
  EXPECT_TRUE(t({0x16, 0x03, 0x04, 0x00}));
  EXPECT_TRUE(t({0x16, 0x03, 0x01, 0x02, 0x00, 0x01}));
  EXPECT_TRUE(t({0x16, 0x03, 0x03, 0x48, 0x00}));  // 18432: the longest record
  EXPECT_FALSE(t({'G'}));
  EXPECT_FALSE(t({'G', 'E', 'T', ' '}));
  EXPECT_FALSE(t({0x80, 0x2e, 0x01}));  // SSLv2 hello: not served
  EXPECT_FALSE(t({0x16, 0x02}));
  EXPECT_FALSE(t({0x16, 0x03, 0x05}));
  EXPECT_FALSE(t({0x16, 0x03, 0x03, 0x00, 0x00}));
  EXPECT_FALSE(t({0x16, 0x03, 0x03, 0x48, 0x01}));
}

TEST_F(TlsSessionTest, LruBound) {
  ca_->set_max_contexts(2);
  const auto ip = *core::IpAddress::parse("192.0.2.1");
  std::string err;
  auto serial = [&](std::string_view name) {
    SSL_CTX* ctx = ca_->context_for(name, ip, err);
    EXPECT_NE(ctx, nullptr) << err;
    return ctx != nullptr ? serial_of(SSL_CTX_get0_certificate(ctx)) : std::string();
  };
  const std::string a = serial("a.example.test");
  const std::string b = serial("b.example.test");
  EXPECT_NE(a, b);
  EXPECT_EQ(serial("A.Example.Test."), a);  // the same name: the cached certificate
  EXPECT_EQ(ca_->cached_contexts(), 2u);
  const std::string c = serial("c.example.test");  // evicts b, the least recently used
  EXPECT_EQ(ca_->cached_contexts(), 2u);
  EXPECT_EQ(serial("a.example.test"), a);
  EXPECT_NE(serial("b.example.test"), b);  // made again: a new serial
  EXPECT_EQ(ca_->cached_contexts(), 2u);
  ca_->set_max_contexts(1);
  EXPECT_EQ(ca_->cached_contexts(), 1u);
  EXPECT_EQ(ca_->max_contexts(), 1u);

  // Names no certificate can carry fall back to the server's address.
  EXPECT_EQ(TlsAuthority::certificate_key("evil.test,DNS:bank.example", ip), "ip:192.0.2.1");
  EXPECT_EQ(TlsAuthority::certificate_key(std::string("a\0b", 3), ip), "ip:192.0.2.1");
  EXPECT_EQ(TlsAuthority::certificate_key("", ip), "ip:192.0.2.1");
  EXPECT_EQ(TlsAuthority::certificate_key("a..b", ip), "ip:192.0.2.1");
  EXPECT_EQ(TlsAuthority::certificate_key(std::string(64, 'x') + ".test", ip), "ip:192.0.2.1");
  EXPECT_EQ(TlsAuthority::certificate_key("203.0.113.7", ip), "ip:203.0.113.7");
  EXPECT_EQ(TlsAuthority::certificate_key("2001:DB8::1", ip), "ip:2001:db8::1");
  EXPECT_EQ(TlsAuthority::certificate_key("Update_Srv-1.Example.TEST", ip), "dns:update_srv-1.example.test");
  // A name longer than a CN may be still gets a certificate (SAN only).
  const std::string long_name = std::string(60, 'l') + "." + std::string(60, 'm') + ".example.test";
  SSL_CTX* ctx = ca_->context_for(long_name, ip, err);
  ASSERT_NE(ctx, nullptr) << err;
  EXPECT_EQ(verify_leaf(SSL_CTX_get0_certificate(ctx), ca_->ca_cert_path(), long_name.c_str(), nullptr), 0);
}

TEST(TlsAuthorityFiles, CreateReopenAndErrors) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string dir = tmp.sub("nested/ca");
  std::string err;
  auto a = TlsAuthority::open(dir, err);
  ASSERT_NE(a, nullptr) << err;
  EXPECT_EQ(a->ca_cert_path(), dir + "/trawl-sinkhole-ca.crt");
  const std::string fp = a->ca_sha256();
  EXPECT_EQ(fp.size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir + "/trawl-sinkhole-ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // The CA certificate: CA:TRUE, self-signed, its fingerprint the one reported.
  X509* ca = load_cert(a->ca_cert_path());
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(X509_check_ca(ca), 1);
  EXPECT_EQ(X509_check_issued(ca, ca), X509_V_OK);
  unsigned char md[32];
  unsigned int n = 0;
  X509_digest(ca, EVP_sha256(), md, &n);
  std::string hex;
  for (unsigned i = 0; i < n; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", md[i]);
    hex += b;
  }
  EXPECT_EQ(hex, fp);
  X509_free(ca);

  // Opened again: the same CA; its leaves verify against the file written first.
  auto b = TlsAuthority::open(dir, err);
  ASSERT_NE(b, nullptr) << err;
  EXPECT_EQ(b->ca_sha256(), fp);
  SSL_CTX* ctx = b->context_for("x.example.test", *core::IpAddress::parse("192.0.2.1"), err);
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(verify_leaf(SSL_CTX_get0_certificate(ctx), a->ca_cert_path(), "x.example.test", nullptr), 0);

  // Another CA is another fingerprint.
  const std::string other = tmp.sub("other");
  auto o = TlsAuthority::open(other, err);
  ASSERT_NE(o, nullptr) << err;
  EXPECT_NE(o->ca_sha256(), fp);

  // A key of another CA: mismatch.
  fs::copy_file(other + "/trawl-sinkhole-ca.key", dir + "/trawl-sinkhole-ca.key", fs::copy_options::overwrite_existing);
  EXPECT_EQ(TlsAuthority::open(dir, err), nullptr);
  EXPECT_EQ(err, "the CA key " + dir + "/trawl-sinkhole-ca.key does not match the certificate " + dir +
                     "/trawl-sinkhole-ca.crt");

  // A corrupt key.
  { std::ofstream(dir + "/trawl-sinkhole-ca.key", std::ios::trunc) << "-----BEGIN PRIVATE KEY-----\nAAAA\n"; }
  EXPECT_EQ(TlsAuthority::open(dir, err), nullptr);
  EXPECT_EQ(err.rfind("cannot load the CA key " + dir + "/trawl-sinkhole-ca.key: ", 0), 0u) << err;

  // A corrupt certificate.
  fs::copy_file(other + "/trawl-sinkhole-ca.key", dir + "/trawl-sinkhole-ca.key", fs::copy_options::overwrite_existing);
  { std::ofstream(dir + "/trawl-sinkhole-ca.crt", std::ios::trunc) << "not a certificate\n"; }
  EXPECT_EQ(TlsAuthority::open(dir, err), nullptr);
  EXPECT_EQ(err.rfind("cannot load the CA certificate " + dir + "/trawl-sinkhole-ca.crt: ", 0), 0u) << err;

  // Half a CA.
  fs::remove(dir + "/trawl-sinkhole-ca.crt");
  EXPECT_EQ(TlsAuthority::open(dir, err), nullptr);
  EXPECT_EQ(err, "the CA directory " + dir +
                     " has trawl-sinkhole-ca.key but no trawl-sinkhole-ca.crt: restore it, or remove both files to "
                     "make a new CA");

  // Not a directory.
  { std::ofstream(tmp.sub("file")) << "x"; }
  EXPECT_EQ(TlsAuthority::open(tmp.sub("file"), err), nullptr);
  EXPECT_EQ(err, tmp.sub("file") + " is not a directory");
}

// --- the real curl through a loopback server ------------------------------

// Accepts TCP connections on 127.0.0.1, one at a time, each served by a TLS
// session with an HTTP inner session; bounded by a deadline.
class LoopbackTlsServer {
 public:
  LoopbackTlsServer(TlsAuthority& ca, const HttpResponder& r) : ca_(ca), responder_(r) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0) return;
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~LoopbackTlsServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  uint16_t port() const { return port_; }
  std::vector<ServiceEvent> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  void run() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      auto s = make_tls_session(ca_, info_for("127.0.0.1"), http_factory(responder_));
      std::vector<uint8_t> buf(16384), out;
      for (int rounds = 0; rounds < 1000 && !stop_; ++rounds) {
        pollfd cp{c, POLLIN, 0};
        if (::poll(&cp, 1, 2000) <= 0) break;
        const ssize_t n = ::recv(c, buf.data(), buf.size(), 0);
        out.clear();
        if (n <= 0) {
          s->on_peer_closed(kNow, out);
        } else {
          s->on_data(core::ByteView(buf.data(), static_cast<size_t>(n)), kNow, out);
        }
        if (!out.empty() && ::send(c, out.data(), out.size(), MSG_NOSIGNAL) < 0) break;
        if (n <= 0 || s->wants_close()) break;
      }
      s->on_closed(kNow);
      {
        std::lock_guard<std::mutex> lock(mu_);
        s->take_events(events_);
      }
      ::close(c);
    }
  }
  TlsAuthority& ca_;
  const HttpResponder& responder_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<ServiceEvent> events_;
};


TEST_F(TlsSessionTest, RealCurlAndOpensslClient) {
  if (::access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "curl not installed";
  LoopbackTlsServer server(*ca_, http_);
  ASSERT_NE(server.port(), 0);
  const std::string port = std::to_string(server.port());
  // curl verifies the chain and the name against the CA file (no -k).
  const std::string body = run_command({"curl", "-s", "--max-time", "5", "--noproxy", "*", "--cacert",
                                        ca_->ca_cert_path(), "--resolve", "c2.example.test:" + port + ":127.0.0.1",
                                        "https://c2.example.test:" + port + "/notes.txt"});
  EXPECT_EQ(body, fake_file(FakeKind::kTxt).body);
  // The same by IP (the certificate then carries 127.0.0.1).
  EXPECT_EQ(run_command({"curl", "-s", "--max-time", "5", "--noproxy", "*", "--cacert", ca_->ca_cert_path(), "-o",
                         "/dev/null", "-w", "%{http_code} %{ssl_verify_result}",
                         "https://127.0.0.1:" + port + "/generate_204"}),
            "204 0");
  bool have_openssl = ::access("/usr/bin/openssl", X_OK) == 0;
  std::string s_client;
  if (have_openssl) {
    s_client = run_command({"openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername",
                            "update.example.test", "-CAfile", ca_->ca_cert_path(), "-verify_return_error",
                            "-verify_hostname", "update.example.test", "-brief"});
  }
  const auto ev = [&] {
    // The server logs a connection once it ends; wait (bounded) for the last.
    for (int i = 0; i < 100; ++i) {
      auto e = server.events();
      size_t tls = 0;
      for (const auto& x : e) tls += x.log == "sinkhole_tls";
      if (tls == (have_openssl ? 3u : 2u)) return e;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return server.events();
  }();
  ASSERT_EQ(ev.size(), have_openssl ? 5u : 4u);
  const json t0 = json::parse(ev[0].json);
  EXPECT_EQ(ev[0].log, "sinkhole_tls");
  EXPECT_EQ(t0["server_name"], "c2.example.test");
  EXPECT_EQ(t0["established"], true);
  EXPECT_EQ(t0["version"], "TLSv13");
  EXPECT_EQ(t0["alpn"], "http/1.1");  // curl offers h2 too
  EXPECT_EQ(t0["client_alpn"], json::parse(R"(["h2","http/1.1"])"));
  EXPECT_EQ(ev[1].json, R"({"host":"c2.example.test","path":"/notes.txt","status":200})");
  const json t1 = json::parse(ev[2].json);
  EXPECT_EQ(t1["server_name"], "");
  EXPECT_EQ(t1["cert_name"], "ip:127.0.0.1");
  EXPECT_EQ(ev[3].json, R"({"host":"127.0.0.1","path":"/generate_204","status":204})");
  if (have_openssl) {
    const json t2 = json::parse(ev[4].json);
    EXPECT_EQ(t2["server_name"], "update.example.test");
    EXPECT_EQ(t2["established"], true);
    EXPECT_EQ(t2["cert_name"], "dns:update.example.test");
  }
}

}  // namespace
}  // namespace trawl::sinkhole

// The sinkhole's choice of service for each guest TCP connection: by the
// destination port for server-first protocols (SMTP, POP3, FTP: they must
// greet first), else by the first bytes the guest sends (TLS ClientHello,
// HTTP method, IRC or SMTP commands, DNS over TCP on 53), else, when the guest
// stays silent, the port's service or the catch-all with its banner. Also
// the table of FTP passive endpoints, so a data connection finds its control
// connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sinkhole/catchall_service.h"
#include "sinkhole/dns_responder.h"
#include "sinkhole/ftp_service.h"
#include "sinkhole/http_responder.h"
#include "sinkhole/irc_service.h"
#include "sinkhole/mail_services.h"
#include "sinkhole/service.h"

namespace trawl::sinkhole {

class TlsAuthority;

enum class ServiceKind : uint8_t { kHttp, kTls, kSmtp, kPop3, kFtp, kIrc, kDns, kCatchall };
// "http", "tls", "smtp", "pop3", "ftp", "irc", "dns", "catchall" (the configuration's words).
const char* to_string(ServiceKind k);
std::optional<ServiceKind> parse_service_kind(std::string_view word);
// SMTP, POP3 and FTP: the server speaks first, so the router cannot wait for the guest.
bool is_server_first(ServiceKind k);

// Ports not listed are sniffed, and fall back to the catch-all.
std::map<uint16_t, ServiceKind> default_service_ports();
// What runs inside TLS on these ports (implicit-TLS SMTP/POP3 ...); other TLS ports sniff
// the plaintext and default to HTTP.
std::map<uint16_t, ServiceKind> default_tls_inner_ports();

struct ServicesConfig {
  std::map<uint16_t, ServiceKind> ports = default_service_ports();
  std::map<uint16_t, ServiceKind> tls_inner = default_tls_inner_ports();
  // How long the router waits for a client's first bytes before it gives the
  // connection to the port's service or sends the catch-all banner.
  // Client-first protocols (HTTP, TLS, most C2) speak within one round trip
  // of the handshake; server-first clients (SMTP, FTP, SSH, POP3 ...) wait for
  // a greeting and give up only after 10 s or more. 2 s separates the two
  // with margin on a loaded guest and keeps banner clients waiting.
  int64_t sniff_wait_ns = 2 * int64_t{1000000000};
  // Bytes looked at before the choice is forced (the longest pattern is a
  // DNS header or an HTTP method, well below).
  size_t sniff_max_bytes = 64;
  SmtpConfig smtp;
  Pop3Config pop3;
  FtpConfig ftp;
  IrcConfig irc;
  CatchallConfig catchall;
};

// Empty when usable; else what is wrong (a passive port range with first >
// last or starting at 0, a limit of 0, a negative wait).
std::string check_config(const ServicesConfig& config);

// One per run, on the driver's thread. Sessions it opens refer to it, to its
// configuration and to the responders: it must outlive them.
class ServiceRouter {
 public:
  // `tls` may be null: TLS is then only logged (the ClientHello's bytes), not terminated.
  ServiceRouter(ServicesConfig config, const HttpResponder& http, DnsResponder& dns, TlsAuthority* tls);
  ServiceRouter(const ServiceRouter&) = delete;
  ServiceRouter& operator=(const ServiceRouter&) = delete;

  // The session for a new connection; never null.
  std::unique_ptr<ServiceSession> open(const SessionInfo& info);

  const ServicesConfig& config() const { return config_; }
  size_t pending_ftp_data() const { return ftp_broker_.pending(); }

 private:
  friend class SniffingSession;
  // `guest_spoke`: the guest sent bytes (or closed) before a greeting, so none
  // is sent. `bannered`: the generic banner already went out.
  std::unique_ptr<ServiceSession> start(ServiceKind kind, const SessionInfo& info, bool guest_spoke, bool in_tls,
                                        bool bannered = false);
  std::unique_ptr<ServiceSession> open_in_tls(const SessionInfo& info);

  ServicesConfig config_;
  const HttpResponder& http_;
  DnsResponder& dns_;
  TlsAuthority* tls_;
  FtpDataBroker ftp_broker_;
};

// DNS over TCP as a ServiceSession ("sinkhole_dns" events, proto "tcp").
std::unique_ptr<ServiceSession> make_dns_tcp_session(DnsResponder& responder, const SessionInfo& info);

}  // namespace trawl::sinkhole

// The sinkhole's mail services: an SMTP server that accepts and keeps every
// message, and a POP3 server with one fake message. Both accept any
// credentials and log them (the sinkhole is the analyst's own sandbox).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sinkhole/service.h"

namespace trawl::sinkhole {

struct SmtpConfig {
  std::string hostname = "mail.example.com";
  std::string banner = "ESMTP Postfix (Debian/GNU)";  // after "220 <hostname> "
  size_t max_message = 10 * 1024 * 1024;  // bigger messages get 552 and are kept cut at this size
  size_t max_line = 4096;                 // command lines (RFC 5321 asks for 512)
  size_t max_recipients = 100;            // per message, then 452
  size_t max_messages = 100;              // per connection, then 421 and close
  bool starttls = true;                   // offer STARTTLS when the sinkhole has its CA
};

struct Pop3Config {
  std::string hostname = "mail.example.com";
  std::string banner = "Dovecot ready.";  // after "+OK "
  size_t max_line = 4096;
};

class TlsAuthority;

// An SMTP connection. `banner` false: the guest spoke first (EHLO before any
// greeting, seen by the router), so no 220 is sent. `starttls`: the CA that
// terminates STARTTLS (RFC 3207), offered in EHLO when set and
// config.starttls; the messages sent inside TLS are logged like the others,
// with "tls":true. `in_tls`: the connection is implicit TLS (port 465) already.
std::unique_ptr<ServiceSession> make_smtp_session(const SmtpConfig& config, const SessionInfo& info,
                                                  bool banner = true, TlsAuthority* starttls = nullptr,
                                                  bool in_tls = false);
std::unique_ptr<ServiceSession> make_pop3_session(const Pop3Config& config, const SessionInfo& info);

// The one message every POP3 mailbox holds (CRLF line ends).
const std::string& pop3_fake_message();

}  // namespace trawl::sinkhole

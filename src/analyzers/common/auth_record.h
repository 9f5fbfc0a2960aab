// AuthRecord: one login attempt (auth.jsonl), emitted by every protocol that
// carries credentials (POP3, IMAP, SMTP, FTP, HTTP, SMB, SSH, RDP).
#pragma once

#include <string>
#include <string_view>

#include "analyzers/analyzer.h"

namespace trawl::analyzers {

enum class AuthOutcome : uint8_t { kUnknown, kSuccess, kFailure };
std::string_view auth_outcome_name(AuthOutcome o);  // "unknown", "success", "failure"

class AuthRecord final : public Record {
 public:
  std::string_view log() const override { return "auth"; }
  void write_json(std::string& out) const override;

  // Fills uid and the connection's addresses and ports from the context.
  void set_conn(const ConnInfo& c);

  std::string uid;
  core::IpAddress client;      // id.orig_h
  uint16_t client_port = 0;    // id.orig_p
  core::IpAddress server;      // id.resp_h
  uint16_t server_port = 0;    // id.resp_p
  std::string proto;           // "pop3", "imap", "smtp", "ftp", "http", "smb", "ssh", "rdp"
  std::string method;          // "USER/PASS", "APOP", "LOGIN", "AUTH PLAIN", "basic", "form", "ntlm" ...
  std::string user;            // as sent (escaped on output); empty if unknown
  std::string domain;          // NTLM domain, if any
  std::string password;        // only kept with AnalyzerConfig::reveal_credentials
  bool has_password = false;
  AuthOutcome outcome = AuthOutcome::kUnknown;
  std::string reply;           // the server reply that decided it ("535 5.7.8 ...", "-ERR ...")
};

}  // namespace trawl::analyzers

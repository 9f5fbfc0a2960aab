// SaslExchange: the credentials a SASL exchange (RFC 4422) carries, as POP3
// AUTH (RFC 5034) and IMAP AUTHENTICATE (RFC 3501, RFC 4959) carry it: the
// client's responses are base64 lines ("=" empty, "*" cancels). Used by the
// pop3 and imap analyzers (it lives here, not in common/, because common/ is
// shared; it could move there).
//
// Mechanisms understood: PLAIN (authzid NUL authcid NUL password), LOGIN
// (user, then password), CRAM-MD5 and DIGEST-MD5 (the user name), XOAUTH2 and
// OAUTHBEARER (user and bearer token). Any other mechanism is an attempt with
// an unknown user.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace trawl::analyzers::pop3 {

class SaslExchange {
 public:
  // `keep_password`: keep the password (or token) only when credentials are
  // to be revealed; otherwise it is never stored.
  SaslExchange(std::string_view mechanism, bool keep_password);

  // One client response as sent on the wire (base64, "=" or "*").
  void client_response(std::string_view line);

  const std::string& mechanism() const { return mech_; }  // upper case
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }
  bool has_password() const { return has_password_; }
  bool cancelled() const { return cancelled_; }
  // A response that is not base64 or does not have its mechanism's shape.
  bool malformed() const { return malformed_; }
  uint32_t responses() const { return responses_; }

  static constexpr size_t kMaxDecoded = 8192;  // per response
  static constexpr size_t kMaxUser = 512;      // longer names are cut

 private:
  void set_user(std::string_view u);
  void set_password(std::string_view p);

  std::string mech_;
  bool keep_password_;
  std::string user_;
  std::string password_;
  bool has_password_ = false;
  bool cancelled_ = false;
  bool malformed_ = false;
  uint32_t responses_ = 0;
};

}  // namespace trawl::analyzers::pop3

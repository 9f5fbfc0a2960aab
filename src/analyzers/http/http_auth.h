// Pure helpers for HTTP credentials: Authorization header schemes (Basic,
// NTLM, Negotiate), the user and domain of an NTLM AUTHENTICATE message, and
// the heuristic that tells a login form POST (field names, URL path).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/http/http_body.h"
#include "core/byte_view.h"

namespace trawl::analyzers::http {

enum class AuthScheme : uint8_t { kNone, kBasic, kNtlm, kNegotiate, kOther };

struct Authorization {
  AuthScheme scheme = AuthScheme::kNone;
  std::string_view scheme_name;  // as sent
  std::string_view token;        // the credentials after the scheme
};
// Splits an Authorization / Proxy-Authorization value.
Authorization parse_authorization(std::string_view value);

struct BasicCredentials {
  std::string user;
  std::string password;
  bool has_colon = false;  // "user:password"; false: the decoded token had no ':'
};
// Decodes a Basic token (base64 "user:password"); nullopt if it is not base64.
std::optional<BasicCredentials> decode_basic(std::string_view token);

// NTLMSSP message found in an NTLM token or inside a Negotiate (SPNEGO) token.
struct NtlmMessage {
  uint32_t type = 0;  // 1 NEGOTIATE, 2 CHALLENGE, 3 AUTHENTICATE
  std::string user;   // AUTHENTICATE only (UTF-8)
  std::string domain;
  std::string workstation;
};
// Looks for "NTLMSSP\0" in the decoded token and parses the message there.
// nullopt if there is none or it is malformed.
std::optional<NtlmMessage> parse_ntlm(core::ByteView blob);

// The login-form heuristic (see docs/records/http.md).
bool is_password_field(std::string_view name);
bool is_user_field(std::string_view name);
// The path (no query) of a request target looks like a login endpoint.
bool is_login_path(std::string_view target);
// The path of a request target: origin form, or absolute form with the
// scheme and authority removed; query and fragment removed.
std::string_view target_path(std::string_view target);

struct FormLogin {
  bool attempt = false;
  int user_field = -1;      // index into the fields, -1: none
  int password_field = -1;
};
// A form POST is a login attempt when it has a password-like field and
// either a user-like field or a login-like path.
FormLogin detect_form_login(std::string_view target, const std::vector<FormField>& fields);

}  // namespace trawl::analyzers::http

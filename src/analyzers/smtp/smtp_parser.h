// Pure SMTP parsing (RFC 5321, RFC 4954 AUTH, RFC 3030 BDAT): command and
// reply lines, the e-mail and IP address extraction Zeek's smtp.log applies,
// the credentials inside SASL responses, and the content probe. Bytes in,
// values out; no connection state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/registry.h"
#include "core/ip_address.h"

namespace trawl::analyzers::smtp {

struct SmtpCommand {
  std::string_view verb;  // as sent (compare case-insensitively)
  std::string_view arg;   // the rest, trimmed
};
SmtpCommand parse_command(std::string_view line);

// "250 text", "250-text" (more lines follow) or a bare "250".
struct SmtpReply {
  uint16_t code = 0;
  bool last = true;
  std::string_view text;
};
bool parse_reply(std::string_view line, SmtpReply& out);

// E-mail addresses in a MAIL FROM / RCPT TO argument, as Zeek's
// extract_email_addrs_vec finds them (local@domain between delimiters, angle
// brackets and separators removed), at most `max`, in order.
void extract_email_addrs(std::string_view s, std::vector<std::string>& out, size_t max);
std::string extract_first_email_addr(std::string_view s);

// The addresses of a To or Cc header: split at commas outside quotes and
// angle brackets, trimmed, empty ones dropped (Zeek: split_mime_email_addresses).
void split_mime_addresses(std::string_view s, std::vector<std::string>& out, size_t max);

// IPv4 and IPv6 addresses in a header value, in order. wrapped: only those in
// [], () or between blanks (Zeek's check_wrapping, used for Received).
void extract_ip_addresses(std::string_view s, bool wrapped, std::vector<core::IpAddress>& out, size_t max);

// BDAT argument "<size> [LAST]".
bool parse_bdat(std::string_view arg, uint64_t& size, bool& last);

// SASL mechanisms whose client responses name the user.
enum class SaslMech : uint8_t { kPlain, kLogin, kCramMd5, kXoauth2, kOauthBearer, kScram, kOther };
SaslMech sasl_mech(std::string_view name);

struct SaslCredentials {
  std::string user;
  std::string password;  // only filled when asked to keep it
  bool has_password = false;
  bool has_user = false;
};
// Reads the index-th client response (base64 already decoded) of mechanism
// `m` into `out`. Returns false if the response is not what the mechanism
// defines (the caller counts an anomaly).
bool sasl_response(SaslMech m, size_t index, std::string_view decoded, bool keep_password, SaslCredentials& out);

// The content probe (see registry.h): server banner "220" with the client's
// EHLO/HELO, a client starting mid-session with MAIL FROM/RCPT TO, or a banner
// naming SMTP on a hint port when the client has not spoken.
Probe probe_smtp(const ProbeInput& in);

}  // namespace trawl::analyzers::smtp

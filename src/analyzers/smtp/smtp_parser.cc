#include "analyzers/smtp/smtp_parser.h"

#include <algorithm>

#include "analyzers/common/text.h"
#include "core/byte_view.h"

namespace trawl::analyzers::smtp {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_local_delim(char c) { return c == '<' || c == ',' || c == ':' || is_blank(c); }
bool is_domain_delim(char c) { return c == '>' || c == ',' || c == ';' || is_blank(c); }

bool is_ip_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':';
}

void add_unique(std::vector<std::string>& out, std::string s) {
  if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
}

// A value after "key=" in a comma-separated SASL message ("n,,n=user,r=...").
std::string_view sasl_attr(std::string_view msg, std::string_view key) {
  size_t pos = 0;
  while (pos < msg.size()) {
    size_t end = msg.find_first_of(",\x01", pos);
    if (end == std::string_view::npos) end = msg.size();
    std::string_view part = msg.substr(pos, end - pos);
    if (part.size() > key.size() && part.starts_with(key) && part[key.size()] == '=') {
      return part.substr(key.size() + 1);
    }
    pos = end + 1;
  }
  return {};
}

// First line of a probe buffer, without its line end; false if not complete.
bool first_line(std::string_view s, std::string_view& line) {
  const size_t nl = s.find('\n');
  if (nl == std::string_view::npos) return false;
  line = s.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return true;
}

bool contains_ci(std::string_view s, std::string_view needle) {
  if (needle.size() > s.size()) return false;
  for (size_t i = 0; i + needle.size() <= s.size(); ++i) {
    if (iequals(s.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

}  // namespace

SmtpCommand parse_command(std::string_view line) {
  SmtpCommand c;
  size_t start = 0;
  while (start < line.size() && is_blank(line[start])) ++start;
  size_t sp = start;
  while (sp < line.size() && !is_blank(line[sp])) ++sp;
  c.verb = line.substr(start, sp - start);
  c.arg = trim(line.substr(sp));
  return c;
}

bool parse_reply(std::string_view line, SmtpReply& out) {
  if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) return false;
  out.code = static_cast<uint16_t>((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
  out.last = true;
  out.text = {};
  if (line.size() == 3) return true;
  if (line[3] == '-') {
    out.last = false;
  } else if (line[3] != ' ' && line[3] != '\t') {
    return false;
  }
  out.text = line.substr(4);
  return true;
}

void extract_email_addrs(std::string_view s, std::vector<std::string>& out, size_t max) {
  size_t consumed = 0;  // matches never overlap
  for (size_t at = s.find('@'); at != std::string_view::npos && out.size() < max; at = s.find('@', at + 1)) {
    if (at < consumed) continue;
    size_t l = at;
    while (l > consumed && !is_local_delim(s[l - 1]) && s[l - 1] != '@') --l;
    if (l == at || (l > 0 && !is_local_delim(s[l - 1]))) continue;  // no local part, or one running into '@'
    size_t r = at + 1;
    while (r < s.size() && !is_domain_delim(s[r])) ++r;
    if (r == at + 1) continue;
    std::string addr;
    for (char c : s.substr(l, r - l)) {
      if (c != '<' && c != '>' && c != ',' && c != ':' && c != ';' && !is_blank(c)) addr.push_back(c);
    }
    out.push_back(std::move(addr));
    consumed = r;
    at = r - 1;
  }
}

std::string extract_first_email_addr(std::string_view s) {
  std::vector<std::string> v;
  extract_email_addrs(s, v, 1);
  return v.empty() ? std::string() : std::move(v[0]);
}

void split_mime_addresses(std::string_view s, std::vector<std::string>& out, size_t max) {
  bool quoted = false;
  int angle = 0;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    const bool end = i == s.size();
    if (!end) {
      const char c = s[i];
      if (c == '"') {
        quoted = !quoted;
      } else if (c == '\\' && quoted && i + 1 < s.size()) {
        ++i;
        continue;
      } else if (!quoted && c == '<') {
        ++angle;
      } else if (!quoted && c == '>' && angle > 0) {
        --angle;
      }
      if (c != ',' || quoted || angle > 0) continue;
    }
    std::string_view part = trim(s.substr(start, i - start));
    start = i + 1;
    if (part.empty()) continue;
    if (out.size() >= max) return;
    add_unique(out, std::string(part));
  }
}

void extract_ip_addresses(std::string_view s, bool wrapped, std::vector<core::IpAddress>& out, size_t max) {
  size_t i = 0;
  while (i < s.size() && out.size() < max) {
    if (!is_ip_char(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && is_ip_char(s[j])) ++j;
    std::string_view tok = s.substr(i, j - i);
    size_t tok_start = i;
    i = j;
    // "[IPv6:2001:db8::1]" (RFC 5321 address literal) leaves the token "6:2001:db8::1".
    const bool literal6 = tok.starts_with("6:") && tok_start >= 3 && iequals(s.substr(tok_start - 3, 3), "IPv");
    if (literal6) {
      tok_start += 2;
      tok = tok.substr(2);
    }
    if (tok.size() < 2 || tok.size() > 45) continue;
    const auto ip = core::IpAddress::parse(tok);
    if (!ip) continue;
    if (wrapped) {
      const bool at_start = tok_start == 0;
      const bool at_end = j == s.size();
      const char before = literal6 ? (tok_start >= 6 ? s[tok_start - 6] : '\0') : at_start ? '\0' : s[tok_start - 1];
      const char after = at_end ? '\0' : s[j];
      const bool ok = (at_start && at_end) || (before == '[' && after == ']') || (before == '(' && after == ')') ||
                      (is_blank(before) && is_blank(after));
      if (!ok) continue;
    }
    out.push_back(*ip);
  }
}

bool parse_bdat(std::string_view arg, uint64_t& size, bool& last) {
  const SmtpCommand parts = parse_command(arg);
  if (parts.verb.empty() || parts.verb.size() > 19) return false;
  uint64_t n = 0;
  for (char c : parts.verb) {
    if (!is_digit(c)) return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!parts.arg.empty() && !iequals(parts.arg, "LAST")) return false;
  size = n;
  last = !parts.arg.empty();
  return true;
}

SaslMech sasl_mech(std::string_view name) {
  if (iequals(name, "PLAIN")) return SaslMech::kPlain;
  if (iequals(name, "LOGIN")) return SaslMech::kLogin;
  if (iequals(name, "CRAM-MD5")) return SaslMech::kCramMd5;
  if (iequals(name, "XOAUTH2")) return SaslMech::kXoauth2;
  if (iequals(name, "OAUTHBEARER")) return SaslMech::kOauthBearer;
  if (istarts_with(name, "SCRAM-")) return SaslMech::kScram;
  return SaslMech::kOther;
}

bool sasl_response(SaslMech m, size_t index, std::string_view d, bool keep_password, SaslCredentials& out) {
  switch (m) {
    case SaslMech::kPlain: {
      if (index != 0) return false;
      // authzid NUL authcid NUL passwd
      const size_t n1 = d.find('\0');
      const size_t n2 = n1 == std::string_view::npos ? n1 : d.find('\0', n1 + 1);
      if (n2 == std::string_view::npos) return false;
      std::string_view user = d.substr(n1 + 1, n2 - n1 - 1);
      if (user.empty()) user = d.substr(0, n1);  // only an authorisation identity
      out.user.assign(user);
      out.has_user = true;
      if (keep_password) {
        out.password.assign(d.substr(n2 + 1));
        out.has_password = true;
      }
      return true;
    }
    case SaslMech::kLogin:
      if (index == 0) {
        out.user.assign(d);
        out.has_user = true;
        return true;
      }
      if (index == 1) {
        if (keep_password) {
          out.password.assign(d);
          out.has_password = true;
        }
        return true;
      }
      return false;
    case SaslMech::kCramMd5: {
      if (index != 0) return false;
      // "user hex-digest"
      const size_t sp = d.rfind(' ');
      if (sp == std::string_view::npos || sp == 0) return false;
      out.user.assign(d.substr(0, sp));
      out.has_user = true;
      return true;
    }
    case SaslMech::kXoauth2: {
      if (index != 0) return false;
      // "user=" user ^A "auth=Bearer " token ^A ^A
      const std::string_view user = sasl_attr(d, "user");
      if (user.empty()) return false;
      out.user.assign(user);
      out.has_user = true;
      const std::string_view auth = sasl_attr(d, "auth");
      if (keep_password && !auth.empty()) {
        out.password.assign(istarts_with(auth, "Bearer ") ? auth.substr(7) : auth);
        out.has_password = true;
      }
      return true;
    }
    case SaslMech::kOauthBearer: {
      if (index != 0) return false;
      // GS2 header "n,a=user," then ^A "auth=Bearer " token ^A ^A
      const std::string_view user = sasl_attr(d, "a");
      if (!user.empty()) {
        out.user.assign(user);
        out.has_user = true;
      }
      const std::string_view auth = sasl_attr(d, "auth");
      if (keep_password && !auth.empty()) {
        out.password.assign(istarts_with(auth, "Bearer ") ? auth.substr(7) : auth);
        out.has_password = true;
      }
      return out.has_user || !auth.empty();
    }
    case SaslMech::kScram: {
      if (index != 0) return true;  // later messages carry proofs, not names
      // GS2 header "n,," then "n=user,r=nonce"
      const std::string_view user = sasl_attr(d, "n");
      if (user.empty()) return false;
      out.user.assign(user);
      out.has_user = true;
      return true;
    }
    case SaslMech::kOther:
      return true;
  }
  return true;
}

Probe probe_smtp(const ProbeInput& in) {
  const std::string_view o = core::as_chars(in.orig);
  const std::string_view r = core::as_chars(in.resp);

  enum class Client : uint8_t { kNone, kPartial, kHelo, kMidSession, kOther };
  Client client = Client::kNone;
  std::string_view line;
  const auto control = [](char ch) {
    const auto u = static_cast<unsigned char>(ch);
    return (u < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || u == 0x7f;
  };
  if (!o.empty()) {
    const std::string_view head = o.substr(0, std::min<size_t>(o.size(), 512));
    if (std::any_of(head.begin(), head.end(), control)) return Probe::kNo;  // binary: TLS, SMB ...
    if (!first_line(o, line)) {
      client = (o.size() < 512 && !in.orig_done) ? Client::kPartial : Client::kOther;
    } else {
      const SmtpCommand c = parse_command(line);
      if ((iequals(c.verb, "EHLO") || iequals(c.verb, "HELO")) && line.size() <= 512 && !is_blank(line[0])) {
        client = Client::kHelo;
      } else if ((iequals(c.verb, "MAIL") && istarts_with(c.arg, "FROM:")) ||
                 (iequals(c.verb, "RCPT") && istarts_with(c.arg, "TO:"))) {
        client = Client::kMidSession;
      } else {
        client = Client::kOther;
      }
    }
  }

  enum class Server : uint8_t { kNone, kPartial, kBanner, kReply, kOther };
  Server server = Server::kNone;
  std::string_view banner;
  if (!r.empty()) {
    SmtpReply rep;
    if (r.size() < 4) {
      server = std::all_of(r.begin(), r.end(), is_digit) && !in.resp_done ? Server::kPartial : Server::kOther;
    } else if (!parse_reply(r.substr(0, std::min(r.size(), r.find_first_of("\r\n"))), rep)) {
      server = Server::kOther;
    } else {
      server = rep.code == 220 ? Server::kBanner : Server::kReply;
      if (!first_line(r, banner)) banner = r;
    }
  }

  switch (client) {
    case Client::kOther:
      return Probe::kNo;
    case Client::kHelo:
      if (server == Server::kBanner || server == Server::kReply) return Probe::kYes;
      if (server == Server::kOther) return Probe::kNo;
      if (server == Server::kNone) {
        // Only the client side was captured (or the server is slow): its own
        // dialogue decides, or its end on an SMTP port.
        if (contains_ci(o, "\nMAIL FROM:") || in.resp_done || (in.orig_done && in.port_hint)) return Probe::kYes;
      }
      return Probe::kMaybe;
    case Client::kMidSession:
      if (server != Server::kOther || in.port_hint) return Probe::kYes;
      return Probe::kNo;
    case Client::kNone:
    case Client::kPartial:
      break;
  }
  switch (server) {
    case Server::kOther:
      return Probe::kNo;
    case Server::kBanner:
      // "220 " is also FTP's greeting: without the client's command, only a
      // banner that names mail on an SMTP port is enough.
      if (in.port_hint && (contains_ci(banner, "smtp") || contains_ci(banner, "mail"))) return Probe::kYes;
      if (in.orig_done && client == Client::kNone) return in.port_hint ? Probe::kYes : Probe::kNo;
      return Probe::kMaybe;
    case Server::kReply:
    case Server::kPartial:
    case Server::kNone:
      break;
  }
  if (in.orig_done && in.resp_done) return Probe::kNo;
  return Probe::kMaybe;
}

}  // namespace trawl::analyzers::smtp

#include "analyzers/http/http_auth.h"

#include <array>

#include "analyzers/common/text.h"
#include "core/utf8.h"

namespace trawl::analyzers::http {

namespace {

constexpr size_t kMaxNtlmName = 256;  // characters kept of a user/domain/host name
constexpr size_t kMaxToken = 64 * 1024;

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// UTF-16LE (unpaired surrogates become U+FFFD) or OEM bytes (kept as bytes).
std::string ntlm_string(core::ByteView b, bool unicode) {
  std::string out;
  if (!unicode) {
    out.assign(core::as_chars(b.first(std::min(b.size(), kMaxNtlmName))));
    return out;
  }
  size_t chars = 0;
  for (size_t i = 0; i + 1 < b.size() && chars < kMaxNtlmName; i += 2, ++chars) {
    uint32_t u = core::load_le16(b.data() + i);
    if (u >= 0xd800 && u < 0xdc00 && i + 3 < b.size()) {
      const uint32_t lo = core::load_le16(b.data() + i + 2);
      if (lo >= 0xdc00 && lo < 0xe000) {
        core::append_utf8(out, 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
        i += 2;
        continue;
      }
    }
    if (u >= 0xd800 && u < 0xe000) u = 0xfffd;
    core::append_utf8(out, u);
  }
  return out;
}

// An NTLM "security buffer" (length, max length, offset) at `at`.
bool ntlm_field(core::ByteView msg, size_t at, core::ByteView& out) {
  if (at + 8 > msg.size()) return false;
  const uint16_t len = core::load_le16(msg.data() + at);
  const uint32_t off = core::load_le32(msg.data() + at + 4);
  if (len == 0) {
    out = {};
    return true;
  }
  if (off > msg.size() || len > msg.size() - off) return false;
  out = msg.subspan(off, len);
  return true;
}

}  // namespace

Authorization parse_authorization(std::string_view value) {
  Authorization a;
  value = trim(value);
  size_t i = 0;
  while (i < value.size() && value[i] != ' ' && value[i] != '\t') ++i;
  a.scheme_name = value.substr(0, i);
  a.token = trim(value.substr(i));
  if (a.scheme_name.empty()) return a;
  if (iequals(a.scheme_name, "basic")) {
    a.scheme = AuthScheme::kBasic;
  } else if (iequals(a.scheme_name, "ntlm")) {
    a.scheme = AuthScheme::kNtlm;
  } else if (iequals(a.scheme_name, "negotiate")) {
    a.scheme = AuthScheme::kNegotiate;
  } else {
    a.scheme = AuthScheme::kOther;
  }
  return a;
}

std::optional<BasicCredentials> decode_basic(std::string_view token) {
  auto decoded = base64_decode(token, 4096);
  if (!decoded) return std::nullopt;
  BasicCredentials c;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    c.user = std::move(*decoded);
    return c;
  }
  c.has_colon = true;
  c.user = decoded->substr(0, colon);
  c.password = decoded->substr(colon + 1);
  return c;
}

std::optional<NtlmMessage> parse_ntlm(core::ByteView blob) {
  if (blob.size() > kMaxToken) return std::nullopt;
  static constexpr std::string_view kSignature{"NTLMSSP\0", 8};
  const size_t at = core::as_chars(blob).find(kSignature);
  if (at == std::string_view::npos) return std::nullopt;
  const core::ByteView msg = blob.subspan(at);
  if (msg.size() < 12) return std::nullopt;
  NtlmMessage m;
  m.type = core::load_le32(msg.data() + 8);
  if (m.type == 1 || m.type == 2) return m;
  if (m.type != 3) return std::nullopt;
  // AUTHENTICATE: LM(12) NT(20) Domain(28) User(36) Workstation(44)
  // SessionKey(52) NegotiateFlags(60). Old messages stop before the flags;
  // they are Unicode in practice.
  bool unicode = true;
  if (msg.size() >= 64) unicode = (core::load_le32(msg.data() + 60) & 0x1u) != 0;
  core::ByteView domain, user, host;
  if (!ntlm_field(msg, 28, domain) || !ntlm_field(msg, 36, user) || !ntlm_field(msg, 44, host)) {
    return std::nullopt;
  }
  m.domain = ntlm_string(domain, unicode);
  m.user = ntlm_string(user, unicode);
  m.workstation = ntlm_string(host, unicode);
  return m;
}

bool is_password_field(std::string_view name) {
  const std::string n = to_lower(name);
  return contains(n, "pass") || contains(n, "pwd") || n == "pw";
}

namespace {

// How strongly a field name says "user name" (0: not at all).
int user_score(std::string_view name) {
  static constexpr std::array<std::string_view, 14> kExact = {
      "user",  "username", "user_name", "login", "log",     "email",   "mail",
      "uname", "userid",   "user_id",   "j_username", "account", "usr", "login_id"};
  const std::string n = to_lower(name);
  if (is_password_field(n)) return 0;
  for (std::string_view e : kExact) {
    if (n == e) return 3;
  }
  if (contains(n, "user") || contains(n, "mail")) return 2;
  if (contains(n, "login") || contains(n, "uname") || contains(n, "account")) return 1;
  return 0;
}

// Sign-up and password-change forms also carry a user and a password.
bool is_registration_field(std::string_view name) {
  const std::string n = to_lower(name);
  return contains(n, "confirm") || contains(n, "repeat") || contains(n, "retype") || contains(n, "new_pass") ||
         contains(n, "newpass") || contains(n, "pass2") || contains(n, "password2");
}

}  // namespace

bool is_user_field(std::string_view name) { return user_score(name) > 0; }

std::string_view target_path(std::string_view target) {
  const size_t scheme = target.find("://");
  if (scheme != std::string_view::npos && scheme < 10 && target.front() != '/') {
    const size_t slash = target.find('/', scheme + 3);
    target = slash == std::string_view::npos ? std::string_view{"/"} : target.substr(slash);
  }
  return target.substr(0, target.find_first_of("?#"));
}

bool is_login_path(std::string_view target) {
  static constexpr std::array<std::string_view, 11> kWords = {
      "login", "logon", "log-in", "log_in", "signin", "sign-in", "sign_in", "auth", "session",
      "wp-login.php", "j_security_check"};
  const std::string p = to_lower(percent_decode(target_path(target)));
  for (std::string_view w : kWords) {
    if (contains(p, w)) return true;
  }
  return false;
}

FormLogin detect_form_login(std::string_view target, const std::vector<FormField>& fields) {
  FormLogin r;
  int best = 0;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string_view name = fields[i].name;
    if (is_registration_field(name)) return FormLogin{};
    if (is_password_field(name)) {
      if (r.password_field < 0) r.password_field = static_cast<int>(i);
      continue;
    }
    const int s = user_score(name);
    if (s > best) {
      best = s;
      r.user_field = static_cast<int>(i);
    }
  }
  r.attempt = r.password_field >= 0 && (r.user_field >= 0 || is_login_path(target));
  return r;
}

}  // namespace trawl::analyzers::http

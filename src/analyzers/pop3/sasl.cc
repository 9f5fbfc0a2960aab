#include "analyzers/pop3/sasl.h"

#include "analyzers/common/text.h"

namespace trawl::analyzers::pop3 {

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// The value of `key=` in a list of fields separated by `sep` (XOAUTH2,
// OAUTHBEARER); false if there is none.
bool find_field(std::string_view s, std::string_view key, char sep, std::string_view& value) {
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find(sep, pos);
    if (end == std::string_view::npos) end = s.size();
    std::string_view f = s.substr(pos, end - pos);
    if (f.size() >= key.size() && f.substr(0, key.size()) == key) {
      value = f.substr(key.size());
      return true;
    }
    pos = end + 1;
  }
  return false;
}

// DIGEST-MD5 (RFC 2831) response: username="..." (quoted, with \ escapes).
bool digest_username(std::string_view s, std::string& out) {
  size_t pos = 0;
  while ((pos = s.find("username", pos)) != std::string_view::npos) {
    const bool at_start = pos == 0 || s[pos - 1] == ',' || s[pos - 1] == ' ';
    size_t p = pos + 8;
    pos = p;
    if (!at_start) continue;
    while (p < s.size() && s[p] == ' ') ++p;
    if (p >= s.size() || s[p] != '=') continue;
    ++p;
    while (p < s.size() && s[p] == ' ') ++p;
    out.clear();
    if (p < s.size() && s[p] == '"') {
      for (++p; p < s.size() && s[p] != '"'; ++p) {
        if (s[p] == '\\' && p + 1 < s.size()) ++p;
        out.push_back(s[p]);
      }
    } else {
      while (p < s.size() && s[p] != ',') out.push_back(s[p++]);
    }
    return true;
  }
  return false;
}

}  // namespace

SaslExchange::SaslExchange(std::string_view mechanism, bool keep_password)
    : mech_(upper(mechanism)), keep_password_(keep_password) {}

void SaslExchange::set_user(std::string_view u) { user_.assign(u.substr(0, kMaxUser)); }

void SaslExchange::set_password(std::string_view p) {
  has_password_ = true;
  if (keep_password_) password_.assign(p);
}

void SaslExchange::client_response(std::string_view line) {
  ++responses_;
  line = trim(line);
  if (line == "*") {
    cancelled_ = true;
    return;
  }
  if (line == "=") line = {};
  auto decoded = base64_decode(line, kMaxDecoded);
  if (!decoded) {
    malformed_ = true;
    return;
  }
  const std::string_view d = *decoded;
  if (mech_ == "PLAIN") {
    if (!user_.empty() || has_password_) return;
    size_t a = d.find('\0');
    size_t b = a == std::string_view::npos ? a : d.find('\0', a + 1);
    if (b == std::string_view::npos) {
      if (!d.empty()) malformed_ = true;
      return;
    }
    std::string_view authzid = d.substr(0, a);
    std::string_view authcid = d.substr(a + 1, b - a - 1);
    set_user(authcid.empty() ? authzid : authcid);
    set_password(d.substr(b + 1));
  } else if (mech_ == "LOGIN") {
    // Some clients send an empty first response when the server's first
    // prompt is empty; the user is the first non-empty one.
    if (user_.empty() && !has_password_) {
      if (!d.empty()) set_user(d);
    } else if (!has_password_) {
      set_password(d);
    }
  } else if (mech_ == "CRAM-MD5") {
    size_t sp = d.rfind(' ');
    if (sp == std::string_view::npos) {
      if (!d.empty()) malformed_ = true;
      return;
    }
    set_user(d.substr(0, sp));
  } else if (mech_ == "DIGEST-MD5") {
    std::string u;
    if (user_.empty() && digest_username(d, u)) set_user(u);
  } else if (mech_ == "XOAUTH2") {
    std::string_view u;
    std::string_view auth;
    if (find_field(d, "user=", '\x01', u)) set_user(u);
    if (find_field(d, "auth=", '\x01', auth)) set_password(auth);
  } else if (mech_ == "OAUTHBEARER") {
    // gs2-header "n,a=user," then ^A-separated key=value pairs.
    size_t soh = d.find('\x01');
    std::string_view gs2 = d.substr(0, soh);
    std::string_view u;
    if (find_field(gs2, "a=", ',', u)) set_user(u);
    std::string_view auth;
    if (soh != std::string_view::npos && find_field(d.substr(soh + 1), "auth=", '\x01', auth)) {
      set_password(auth);
    }
  }
}

}  // namespace trawl::analyzers::pop3

// Tests for the HTTP credential helpers: Authorization schemes, Basic tokens,
// NTLMSSP messages (plain and inside SPNEGO), and the login-form heuristic.
#include "analyzers/http/http_auth.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analyzers/http/http_test_util.h"

namespace trawl::analyzers::http {
namespace {

using test_util::base64;
using test_util::ntlm_authenticate;
using test_util::ntlm_negotiate;

core::ByteView bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

std::vector<FormField> fields(std::initializer_list<const char*> names) {
  std::vector<FormField> out;
  for (const char* n : names) out.push_back(FormField{n, {}});
  return out;
}

TEST(HttpAuthorization, Schemes) {
  auto a = parse_authorization("Basic  dXNlcjpwYXNz ");
  EXPECT_EQ(a.scheme, AuthScheme::kBasic);
  EXPECT_EQ(a.token, "dXNlcjpwYXNz");
  EXPECT_EQ(parse_authorization("basic x").scheme, AuthScheme::kBasic);
  EXPECT_EQ(parse_authorization("NTLM TlRMTVNTUAAB").scheme, AuthScheme::kNtlm);
  EXPECT_EQ(parse_authorization("Negotiate YII=").scheme, AuthScheme::kNegotiate);
  EXPECT_EQ(parse_authorization("Bearer eyJ").scheme, AuthScheme::kOther);
  EXPECT_EQ(parse_authorization("").scheme, AuthScheme::kNone);
}

TEST(HttpAuthorization, BasicTokens) {
  auto c = decode_basic(base64("alice:pa:ss word"));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->has_colon);
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "pa:ss word");
  c = decode_basic(base64("nocolon"));
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->has_colon);
  EXPECT_EQ(c->user, "nocolon");
  c = decode_basic(base64(":"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "");
  EXPECT_FALSE(decode_basic("not*base64"));
}

TEST(HttpNtlm, Messages) {
  auto m = parse_ntlm(bytes(ntlm_negotiate()));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, 1u);

  const std::string auth = ntlm_authenticate("CORP", "alice", "WS01");
  m = parse_ntlm(bytes(auth));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, 3u);
  EXPECT_EQ(m->domain, "CORP");
  EXPECT_EQ(m->user, "alice");
  EXPECT_EQ(m->workstation, "WS01");

  // OEM names, and the message wrapped in a SPNEGO blob.
  const std::string oem = "\x60\x48\x06\x06+\x06\x01\x05\x05\x02\xa1\x3e" + ntlm_authenticate("DOM", "bob", "H", false);
  m = parse_ntlm(bytes(oem));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->user, "bob");
  EXPECT_EQ(m->domain, "DOM");

  // A non-BMP character in UTF-16 (a surrogate pair) and an unpaired one.
  std::string odd = ntlm_authenticate("D", "u", "h");
  const size_t user_off = static_cast<uint8_t>(odd[36 + 4]) | (static_cast<uint8_t>(odd[36 + 5]) << 8);
  odd[user_off] = '\x3d';
  odd[user_off + 1] = '\xd8';  // U+D83D alone
  m = parse_ntlm(bytes(odd));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->user, "\xef\xbf\xbd");
}

TEST(HttpNtlm, Malformed) {
  EXPECT_FALSE(parse_ntlm(bytes("no signature here")));
  EXPECT_FALSE(parse_ntlm(bytes(std::string("NTLMSSP\0\x03", 9))));
  std::string bad = ntlm_authenticate("CORP", "alice", "WS01");
  test_util::put_le32(bad, 36 + 4, 100000);  // user offset past the end
  EXPECT_FALSE(parse_ntlm(bytes(bad)));
  bad = ntlm_authenticate("CORP", "alice", "WS01");
  test_util::put_le16(bad, 28, 0xffff);  // domain length past the end
  EXPECT_FALSE(parse_ntlm(bytes(bad)));
  std::string other("NTLMSSP\0", 8);
  other += std::string("\x07\0\0\0", 4);
  EXPECT_FALSE(parse_ntlm(bytes(other)));
  // Truncated after the signature and type: fields missing.
  EXPECT_FALSE(parse_ntlm(bytes(ntlm_authenticate("a", "b", "c").substr(0, 30))));
}

TEST(HttpLoginForm, FieldNames) {
  EXPECT_TRUE(is_password_field("password"));
  EXPECT_TRUE(is_password_field("j_password"));
  EXPECT_TRUE(is_password_field("pwd"));
  EXPECT_TRUE(is_password_field("user[Passwd]"));
  EXPECT_FALSE(is_password_field("username"));
  EXPECT_TRUE(is_user_field("log"));
  EXPECT_TRUE(is_user_field("Email"));
  EXPECT_TRUE(is_user_field("session[login_name]"));
  EXPECT_FALSE(is_user_field("user_password"));
  EXPECT_FALSE(is_user_field("q"));
}

TEST(HttpLoginForm, Paths) {
  EXPECT_EQ(target_path("/a/b?x=1#f"), "/a/b");
  EXPECT_EQ(target_path("http://example.com/login?x"), "/login");
  EXPECT_EQ(target_path("http://example.com"), "/");
  EXPECT_TRUE(is_login_path("/wp-login.php"));
  EXPECT_TRUE(is_login_path("/j_security_check"));
  EXPECT_TRUE(is_login_path("/Account/LogOn?ReturnUrl=%2F"));
  EXPECT_TRUE(is_login_path("/users/sign_in"));
  EXPECT_TRUE(is_login_path("/%6Cogin"));
  EXPECT_FALSE(is_login_path("/search?q=login"));
  EXPECT_FALSE(is_login_path("/comment"));
}

TEST(HttpLoginForm, Detection) {
  auto wp = detect_form_login("/wp-login.php", fields({"log", "pwd", "wp-submit", "redirect_to", "testcookie"}));
  EXPECT_TRUE(wp.attempt);
  EXPECT_EQ(wp.user_field, 0);
  EXPECT_EQ(wp.password_field, 1);

  // Field names alone are enough; the best user-like name wins.
  auto named = detect_form_login("/do", fields({"login_submit", "email", "password"}));
  EXPECT_TRUE(named.attempt);
  EXPECT_EQ(named.user_field, 1);

  // A password on a login path with no user field (PIN pages, second step).
  auto pin = detect_form_login("/auth/step2", fields({"code", "passcode"}));
  EXPECT_TRUE(pin.attempt);
  EXPECT_EQ(pin.user_field, -1);

  EXPECT_FALSE(detect_form_login("/login", fields({"username", "remember"})).attempt);  // no password
  EXPECT_FALSE(detect_form_login("/comment", fields({"text", "passage"})).attempt);
  EXPECT_FALSE(detect_form_login("/register", fields({"username", "password", "password_confirm"})).attempt);
  EXPECT_FALSE(detect_form_login("/account", fields({"user", "old", "new_password"})).attempt);
}

}  // namespace
}  // namespace trawl::analyzers::http

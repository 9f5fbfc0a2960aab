// Tests for the pure SMTP helpers: command and reply lines, Zeek-style address
// extraction, Received/X-Originating-IP addresses, BDAT arguments, SASL
// responses and the content probe (including what it must leave to FTP).
#include "analyzers/smtp/smtp_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace trawl::analyzers::smtp {
namespace {

core::ByteView bv(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

TEST(SmtpParser, ReplyLines) {
  SmtpReply r;
  ASSERT_TRUE(parse_reply("250-xc90.websitewelcome.com Hello GP", r));
  EXPECT_EQ(r.code, 250);
  EXPECT_FALSE(r.last);
  EXPECT_EQ(r.text, "xc90.websitewelcome.com Hello GP");
  ASSERT_TRUE(parse_reply("235 Authentication succeeded", r));
  EXPECT_TRUE(r.last);
  ASSERT_TRUE(parse_reply("354", r));
  EXPECT_EQ(r.code, 354);
  EXPECT_TRUE(r.last);
  EXPECT_FALSE(parse_reply("25", r));
  EXPECT_FALSE(parse_reply("2500 x", r));
  EXPECT_FALSE(parse_reply("abc def", r));
  EXPECT_FALSE(parse_reply("", r));
}

TEST(SmtpParser, CommandLines) {
  SmtpCommand c = parse_command("MAIL FROM: <a@b.c> SIZE=100  ");
  EXPECT_EQ(c.verb, "MAIL");
  EXPECT_EQ(c.arg, "FROM: <a@b.c> SIZE=100");
  c = parse_command("QUIT");
  EXPECT_EQ(c.verb, "QUIT");
  EXPECT_EQ(c.arg, "");
  c = parse_command("");
  EXPECT_EQ(c.verb, "");
}

TEST(SmtpParser, EmailAddressesAsZeekExtractsThem) {
  EXPECT_EQ(extract_first_email_addr("FROM: <gurpartap@patriots.in>"), "gurpartap@patriots.in");
  EXPECT_EQ(extract_first_email_addr("FROM:<albert@example.com> BODY=8BITMIME"), "albert@example.com");
  EXPECT_EQ(extract_first_email_addr("FROM:<>"), "");
  EXPECT_EQ(extract_first_email_addr("FROM:bare@example.com"), "bare@example.com");
  std::vector<std::string> v;
  extract_email_addrs("TO:<a@x.org> NOTIFY=NEVER ORCPT=rfc822;a@x.org", v, 10);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], "a@x.org");
  EXPECT_EQ(v[1], "ORCPT=rfc822a@x.org");  // the caller strips Zeek's ORCPT prefix
  v.clear();
  // Unlike Zeek's regular expression, a separator both ends one address and starts the next.
  extract_email_addrs("a@b,c@d <e@f>", v, 10);
  EXPECT_EQ(v, (std::vector<std::string>{"a@b", "c@d", "e@f"}));
  v.clear();
  extract_email_addrs("@@@ x@ @y", v, 10);
  EXPECT_TRUE(v.empty());
  v.clear();
  std::string many;
  for (int i = 0; i < 100; ++i) many += "u" + std::to_string(i) + "@h ";
  extract_email_addrs(many, v, 7);
  EXPECT_EQ(v.size(), 7u);
}

TEST(SmtpParser, MimeAddressLists) {
  std::vector<std::string> v;
  split_mime_addresses("\"Doe, John\" <j@x.org>, plain@y.org ,, <z@z>, plain@y.org", v, 10);
  EXPECT_EQ(v, (std::vector<std::string>{"\"Doe, John\" <j@x.org>", "plain@y.org", "<z@z>"}));
  v.clear();
  split_mime_addresses("a@a, b@b, c@c", v, 2);
  EXPECT_EQ(v.size(), 2u);
}

TEST(SmtpParser, IpAddressesInHeaders) {
  std::vector<core::IpAddress> v;
  extract_ip_addresses("from GP ([122.162.143.157]) by xc90 (10.0.0.1) with esmtp; Mon, 5 Oct 2009 11:36:07",
                       true, v, 10);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].to_string(), "122.162.143.157");
  EXPECT_EQ(v[1].to_string(), "10.0.0.1");
  v.clear();
  // Not wrapped: only found without the wrapping check.
  extract_ip_addresses("host=1.2.3.4;", true, v, 10);
  EXPECT_TRUE(v.empty());
  extract_ip_addresses("host=1.2.3.4;", false, v, 10);
  ASSERT_EQ(v.size(), 1u);
  v.clear();
  extract_ip_addresses("from x ([IPv6:2001:db8::1])", true, v, 10);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].to_string(), "2001:db8::1");
  v.clear();
  extract_ip_addresses("1.2.3.999 12:30:45 deadbeef", false, v, 10);
  EXPECT_TRUE(v.empty());
}

TEST(SmtpParser, Bdat) {
  uint64_t n = 0;
  bool last = false;
  ASSERT_TRUE(parse_bdat("1234 LAST", n, last));
  EXPECT_EQ(n, 1234u);
  EXPECT_TRUE(last);
  ASSERT_TRUE(parse_bdat("0", n, last));
  EXPECT_FALSE(last);
  EXPECT_FALSE(parse_bdat("12x", n, last));
  EXPECT_FALSE(parse_bdat("12 FIRST", n, last));
  EXPECT_FALSE(parse_bdat("99999999999999999999", n, last));
  EXPECT_FALSE(parse_bdat("", n, last));
}

TEST(SmtpParser, SaslResponses) {
  SaslCredentials c;
  using namespace std::string_literals;
  ASSERT_TRUE(sasl_response(SaslMech::kPlain, 0, "\0alice\0secret"s, false, c));
  EXPECT_EQ(c.user, "alice");
  EXPECT_FALSE(c.has_password);
  EXPECT_TRUE(c.password.empty());
  c = {};
  ASSERT_TRUE(sasl_response(SaslMech::kPlain, 0, "admin\0alice\0secret"s, true, c));
  EXPECT_EQ(c.user, "alice");
  EXPECT_EQ(c.password, "secret");
  EXPECT_FALSE(sasl_response(SaslMech::kPlain, 0, "no-nul", true, c));
  c = {};
  ASSERT_TRUE(sasl_response(SaslMech::kLogin, 0, "bob", true, c));
  ASSERT_TRUE(sasl_response(SaslMech::kLogin, 1, "pw", true, c));
  EXPECT_EQ(c.user, "bob");
  EXPECT_EQ(c.password, "pw");
  EXPECT_FALSE(sasl_response(SaslMech::kLogin, 2, "extra", true, c));
  c = {};
  ASSERT_TRUE(sasl_response(SaslMech::kCramMd5, 0, "tim b913a602c7eda7a495b4e6e7334d3890", true, c));
  EXPECT_EQ(c.user, "tim");
  EXPECT_FALSE(c.has_password);
  c = {};
  ASSERT_TRUE(sasl_response(SaslMech::kXoauth2, 0, "user=someuser@example.com\x01" "auth=Bearer ya29.tok\x01\x01", true, c));
  EXPECT_EQ(c.user, "someuser@example.com");
  EXPECT_EQ(c.password, "ya29.tok");
  c = {};
  ASSERT_TRUE(sasl_response(SaslMech::kScram, 0, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", false, c));
  EXPECT_EQ(c.user, "user");
  EXPECT_EQ(sasl_mech("cram-md5"), SaslMech::kCramMd5);
  EXPECT_EQ(sasl_mech("SCRAM-SHA-256"), SaslMech::kScram);
  EXPECT_EQ(sasl_mech("NTLM"), SaslMech::kOther);
}

Probe probe(std::string_view orig, std::string_view resp, bool hint = true, bool orig_done = false,
            bool resp_done = false) {
  ProbeInput in;
  in.orig = bv(orig);
  in.resp = bv(resp);
  in.port_hint = hint;
  in.orig_done = orig_done;
  in.resp_done = resp_done;
  return probe_smtp(in);
}

TEST(SmtpProbe, BannerAndClientCommand) {
  EXPECT_EQ(probe("EHLO GP\r\n", "220-xc90 ESMTP Exim\r\n", false), Probe::kYes);
  EXPECT_EQ(probe("helo host\r\n", "220 ftp-or-mail\r\n", false), Probe::kYes);
  EXPECT_EQ(probe("EHLO GP", "220 x\r\n"), Probe::kMaybe);  // the command line is not complete yet
  EXPECT_EQ(probe("EHLO GP\r\n", ""), Probe::kMaybe);
  EXPECT_EQ(probe("EHLO GP\r\n", "", false, false, true), Probe::kYes);  // only the client side exists
  EXPECT_EQ(probe("EHLO GP\r\nMAIL FROM:<a@b>\r\n", "", false), Probe::kYes);
  EXPECT_EQ(probe("EHLO GP\r\n", "", true, true), Probe::kYes);
  EXPECT_EQ(probe("EHLO GP\r\n", "", false, true), Probe::kMaybe);
}

TEST(SmtpProbe, BannerAloneNeedsHintPortAndMailWords) {
  EXPECT_EQ(probe("", "220 mx.example.com ESMTP Postfix\r\n", true), Probe::kYes);
  EXPECT_EQ(probe("", "220 mx.example.com ESMTP Postfix\r\n", false), Probe::kMaybe);
  EXPECT_EQ(probe("", "220 ProFTPD Server ready\r\n", true), Probe::kMaybe);
  EXPECT_EQ(probe("", "220 ProFTPD Server ready\r\n", false, true), Probe::kNo);
}

TEST(SmtpProbe, LeavesFtpAndOthersAlone) {
  EXPECT_EQ(probe("USER anonymous\r\n", "220 ProFTPD Server ready\r\n"), Probe::kNo);
  EXPECT_EQ(probe("GET / HTTP/1.1\r\n", ""), Probe::kNo);
  EXPECT_EQ(probe("", "HTTP/1.1 200 OK\r\n"), Probe::kNo);
  EXPECT_EQ(probe("", "SSH-2.0-OpenSSH_8.9\r\n"), Probe::kNo);
  EXPECT_EQ(probe("\x16\x03\x01\x02\x00", ""), Probe::kNo);  // a TLS ClientHello
  EXPECT_EQ(probe(std::string(600, 'A'), ""), Probe::kNo);
}

TEST(SmtpProbe, MidSessionStart) {
  EXPECT_EQ(probe("MAIL FROM:<a@b>\r\n", "", false), Probe::kYes);
  EXPECT_EQ(probe("RCPT TO:<a@b>\r\n", "250 OK\r\n", false), Probe::kYes);
  EXPECT_EQ(probe("RCPT TO:<a@b>\r\n", "garbage\r\n", false), Probe::kNo);
}

}  // namespace
}  // namespace trawl::analyzers::smtp

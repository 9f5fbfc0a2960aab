// POP3: the pure parser (status lines, the multi-line scanner with
// dot-stuffing at every split point), SASL credential extraction, and the
// analyzer driven through a Dispatcher from Dovecot-style transcripts:
// USER/PASS, APOP and AUTH attempts good and bad, pipelining, RETR sizes,
// STLS, limits, gaps and garbage.
#include <gtest/gtest.h>

#include <string>

#include "analyzers/ftp/mail_session.h"
#include "analyzers/pop3/pop3_analyzer.h"
#include "analyzers/pop3/pop3_parser.h"
#include "analyzers/pop3/pop3_record.h"
#include "analyzers/pop3/sasl.h"

namespace trawl::analyzers::pop3 {
namespace {

using testing::MailSession;

core::ByteView bv(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

std::string b64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<uint8_t>(in[i])} << 16) |
                       (uint32_t{static_cast<uint8_t>(in[i + 1])} << 8) | static_cast<uint8_t>(in[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(kAlphabet[(v >> (6 * k)) & 63]);
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint32_t{static_cast<uint8_t>(in[i])} << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint32_t{static_cast<uint8_t>(in[i])} << 16) | (uint32_t{static_cast<uint8_t>(in[i + 1])} << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out += "=";
  }
  return out;
}

TEST(Pop3Parser, StatusLines) {
  EXPECT_EQ(parse_status("+OK Dovecot ready.").kind, Pop3LineKind::kOk);
  EXPECT_EQ(parse_status("+OK Dovecot ready.").text, "Dovecot ready.");
  EXPECT_EQ(parse_status("+OK").kind, Pop3LineKind::kOk);
  EXPECT_EQ(parse_status("-ERR [AUTH] Authentication failed.").kind, Pop3LineKind::kErr);
  EXPECT_EQ(parse_status("-ERR [AUTH] Authentication failed.").text, "[AUTH] Authentication failed.");
  EXPECT_EQ(parse_status("+ VXNlcm5hbWU6").kind, Pop3LineKind::kContinuation);
  EXPECT_EQ(parse_status("+ VXNlcm5hbWU6").text, "VXNlcm5hbWU6");
  EXPECT_EQ(parse_status("+").kind, Pop3LineKind::kContinuation);
  EXPECT_EQ(parse_status("+OKAY").kind, Pop3LineKind::kOther);
  EXPECT_EQ(parse_status("220 smtp").kind, Pop3LineKind::kOther);
  EXPECT_TRUE(is_multiline("RETR", "1"));
  EXPECT_TRUE(is_multiline("list", ""));
  EXPECT_FALSE(is_multiline("LIST", "1"));
  EXPECT_TRUE(is_multiline("AUTH", ""));
  EXPECT_FALSE(is_multiline("AUTH", "PLAIN"));
  EXPECT_FALSE(is_multiline("STAT", ""));
}

// A body with a stuffed line and a "." inside a line, split at every point.
TEST(Pop3Parser, MultilineScannerEverySplit) {
  const std::string content = "Subject: hi\r\n\r\n.hidden dot line\r\nend. of text\r\n";
  const std::string wire = "Subject: hi\r\n\r\n..hidden dot line\r\nend. of text\r\n.\r\n+OK next";
  const size_t end = wire.find("+OK next");
  for (size_t split = 0; split <= wire.size(); ++split) {
    MultilineScanner sc;
    size_t used = sc.feed(bv(std::string_view(wire).substr(0, split)));
    if (!sc.done()) used += sc.feed(bv(std::string_view(wire).substr(split)));
    ASSERT_TRUE(sc.done()) << split;
    EXPECT_EQ(used, end) << split;
    EXPECT_EQ(sc.body_bytes(), content.size()) << split;
    EXPECT_EQ(sc.lines(), 4u);
  }
  // Bare LF line ends, an empty body, ".\r" inside a line.
  MultilineScanner a;
  EXPECT_EQ(a.feed(bv("x\n.\nrest")), 4u);
  EXPECT_TRUE(a.done());
  EXPECT_EQ(a.body_bytes(), 2u);
  MultilineScanner b;
  EXPECT_EQ(b.feed(bv(".\r\n")), 3u);
  EXPECT_EQ(b.body_bytes(), 0u);
  MultilineScanner c;
  c.feed(bv(".\rx\r\n.\r\n"));
  EXPECT_TRUE(c.done());
  EXPECT_EQ(c.body_bytes(), 4u);  // "\rx\r\n": the stuffed dot is dropped
}

TEST(Sasl, Mechanisms) {
  SaslExchange plain("plain", true);
  plain.client_response(b64(std::string("\0alice\0secret", 13)));
  EXPECT_EQ(plain.mechanism(), "PLAIN");
  EXPECT_EQ(plain.user(), "alice");
  EXPECT_TRUE(plain.has_password());
  EXPECT_EQ(plain.password(), "secret");

  SaslExchange hidden("PLAIN", false);
  hidden.client_response(b64(std::string("admin\0alice\0secret", 18)));
  EXPECT_EQ(hidden.user(), "alice");
  EXPECT_TRUE(hidden.has_password());
  EXPECT_EQ(hidden.password(), "");  // not kept

  SaslExchange login("LOGIN", true);
  login.client_response(b64("bob"));
  login.client_response(b64("hunter2"));
  EXPECT_EQ(login.user(), "bob");
  EXPECT_EQ(login.password(), "hunter2");

  SaslExchange cram("CRAM-MD5", true);
  cram.client_response(b64("tim b913a602c7eda7a495b4e6e7334d3890"));
  EXPECT_EQ(cram.user(), "tim");
  EXPECT_FALSE(cram.has_password());

  SaslExchange x("XOAUTH2", false);
  x.client_response(b64("user=someuser@example.com\x01" "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01"));
  EXPECT_EQ(x.user(), "someuser@example.com");
  EXPECT_TRUE(x.has_password());

  SaslExchange ob("OAUTHBEARER", true);
  ob.client_response(b64("n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
                         "auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==\x01\x01"));
  EXPECT_EQ(ob.user(), "user@example.com");
  EXPECT_EQ(ob.password(), "Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==");

  SaslExchange dm("DIGEST-MD5", false);
  dm.client_response(b64("charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\""));
  EXPECT_EQ(dm.user(), "chris");

  SaslExchange cancel("LOGIN", false);
  cancel.client_response("*");
  EXPECT_TRUE(cancel.cancelled());

  SaslExchange bad("PLAIN", false);
  bad.client_response("not base64 !!");
  EXPECT_TRUE(bad.malformed());
  EXPECT_EQ(bad.user(), "");
}

constexpr std::string_view kGreeting = "+OK Dovecot (Debian) ready.\r\n";
constexpr std::string_view kCapa =
    "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n";

// The message of RETR 1: its size with CRLF line ends, and its wire form
// (one line needs dot-stuffing).
const std::string kMessage =
    "Return-Path: <bob@example.com>\r\nFrom: bob@example.com\r\nTo: alice@example.com\r\n"
    "Subject: dots\r\n\r\nHello Alice,\r\n.this line starts with a dot\r\n..and this one with two\r\n"
    "Bye.\r\n";
std::string stuffed(const std::string& m) {
  std::string out;
  size_t pos = 0;
  while (pos < m.size()) {
    size_t nl = m.find('\n', pos);
    std::string line = m.substr(pos, nl + 1 - pos);
    if (line[0] == '.') out.push_back('.');
    out += line;
    pos = nl + 1;
  }
  return out;
}

void dovecot_session(MailSession& s) {
  s.s(kGreeting)
      .c("CAPA\r\n")
      .s(kCapa)
      .c("USER alice\r\n")
      .s("+OK\r\n")
      .c("PASS wrong\r\n")
      .s("-ERR [AUTH] Authentication failed.\r\n")
      .c("USER alice\r\n")
      .s("+OK\r\n")
      .c("PASS wonderland\r\n")
      .s("+OK Logged in.\r\n")
      .c("STAT\r\n")
      .s("+OK 2 " + std::to_string(kMessage.size() + 300) + "\r\n")
      .c("LIST\r\n")
      .s("+OK 2 messages:\r\n1 " + std::to_string(kMessage.size()) + "\r\n2 300\r\n.\r\n")
      .c("RETR 1\r\n")
      .s("+OK " + std::to_string(kMessage.size()) + " octets\r\n" + stuffed(kMessage) + ".\r\n")
      .c("DELE 1\r\n")
      .s("+OK Marked to be deleted.\r\n")
      .c("QUIT\r\n")
      .s("+OK Logging out, messages deleted.\r\n");
  s.end();
}

TEST(Pop3Analyzer, DovecotSession) {
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{5}}) {
    SCOPED_TRACE(chunk);
    MailSession s(110, false, chunk);
    dovecot_session(s);
    EXPECT_EQ(s.service(), "pop3");
    auto r = s.records<Pop3Record>();
    ASSERT_EQ(r.size(), 10u);
    EXPECT_EQ(r[0]->command, "CAPA");
    EXPECT_EQ(r[0]->status, "+OK");
    EXPECT_EQ(*r[0]->response_body_len, kCapa.size() - 5 - 3);  // without "+OK" and "."
    EXPECT_EQ(r[2]->command, "PASS");
    EXPECT_EQ(r[2]->arg, "<hidden>");
    EXPECT_EQ(r[2]->status, "-ERR");
    EXPECT_EQ(r[2]->msg, "[AUTH] Authentication failed.");
    EXPECT_EQ(r[4]->status, "+OK");
    EXPECT_EQ(r[4]->user, "alice");
    EXPECT_EQ(r[6]->command, "LIST");
    EXPECT_EQ(r[7]->command, "RETR");
    EXPECT_EQ(r[7]->arg, "1");
    EXPECT_EQ(r[7]->msg, std::to_string(kMessage.size()) + " octets");
    // The un-stuffed body is exactly the size the server announced.
    ASSERT_TRUE(r[7]->response_body_len);
    EXPECT_EQ(*r[7]->response_body_len, kMessage.size());
    EXPECT_EQ(r[8]->command, "DELE");
    EXPECT_EQ(r[9]->command, "QUIT");
    auto auth = s.auth();
    ASSERT_EQ(auth.size(), 2u);
    EXPECT_EQ(auth[0]->proto, "pop3");
    EXPECT_EQ(auth[0]->method, "USER/PASS");
    EXPECT_EQ(auth[0]->user, "alice");
    EXPECT_EQ(auth[0]->outcome, AuthOutcome::kFailure);
    EXPECT_EQ(auth[0]->reply, "-ERR [AUTH] Authentication failed.");
    EXPECT_EQ(auth[1]->outcome, AuthOutcome::kSuccess);
    EXPECT_EQ(auth[1]->reply, "+OK Logged in.");
    EXPECT_FALSE(auth[1]->has_password);
    EXPECT_EQ(s.json("pop3").find("wonderland"), std::string::npos);
    EXPECT_EQ(s.anomalies_total(), 0u);
  }
}

TEST(Pop3Analyzer, RevealCredentials) {
  MailSession s(110, true);
  dovecot_session(s);
  auto auth = s.auth();
  ASSERT_EQ(auth.size(), 2u);
  EXPECT_EQ(auth[0]->password, "wrong");
  EXPECT_EQ(auth[1]->password, "wonderland");
  EXPECT_EQ(s.records<Pop3Record>()[4]->arg, "wonderland");
}

// A message whose body holds lines that look like POP3 responses and a
// command: none of it is parsed.
TEST(Pop3Analyzer, BodyIsNotParsed) {
  MailSession s(110);
  s.s(kGreeting).c("USER a\r\n").s("+OK\r\n").c("PASS b\r\n").s("+OK Logged in.\r\n").c("TOP 1 5\r\n");
  s.s("+OK\r\nSubject: x\r\n\r\n-ERR fake\r\n+OK fake\r\nPASS fake\r\n...\r\n");
  s.s(".\r\n").c("QUIT\r\n").s("+OK bye\r\n");
  s.end();
  auto r = s.records<Pop3Record>();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[2]->command, "TOP");
  EXPECT_EQ(*r[2]->response_body_len, std::string("Subject: x\r\n\r\n-ERR fake\r\n+OK fake\r\nPASS fake\r\n..\r\n").size());
  EXPECT_EQ(r[3]->command, "QUIT");
  EXPECT_EQ(r[3]->msg, "bye");
  EXPECT_EQ(s.auth().size(), 1u);
}

TEST(Pop3Analyzer, SaslLoginAndPlain) {
  MailSession s(110);
  s.s(kGreeting)
      .c("AUTH LOGIN\r\n")
      .s("+ VXNlcm5hbWU6\r\n")
      .c(b64("mallory") + "\r\n")
      .s("+ UGFzc3dvcmQ6\r\n")
      .c(b64("guess1") + "\r\n")
      .s("-ERR [AUTH] Authentication failed.\r\n")
      .c("AUTH PLAIN " + b64(std::string("\0alice\0wonderland", 17)) + "\r\n")
      .s("+OK Logged in.\r\n")
      .c("STAT\r\n")
      .s("+OK 0 0\r\n");
  s.end();
  auto r = s.records<Pop3Record>();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0]->command, "AUTH");
  EXPECT_EQ(r[0]->arg, "LOGIN");
  EXPECT_EQ(r[0]->user, "mallory");
  EXPECT_EQ(r[1]->arg, "PLAIN");  // the initial response is not logged
  EXPECT_EQ(r[2]->user, "alice");
  auto auth = s.auth();
  ASSERT_EQ(auth.size(), 2u);
  EXPECT_EQ(auth[0]->method, "AUTH LOGIN");
  EXPECT_EQ(auth[0]->user, "mallory");
  EXPECT_EQ(auth[0]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(auth[1]->method, "AUTH PLAIN");
  EXPECT_EQ(auth[1]->user, "alice");
  EXPECT_EQ(auth[1]->outcome, AuthOutcome::kSuccess);
  EXPECT_EQ(s.json("pop3").find(b64(std::string("\0alice\0wonderland", 17))), std::string::npos);
}

TEST(Pop3Analyzer, SaslPlainWithoutInitialResponseAndCancel) {
  MailSession s(110, true);
  s.s(kGreeting)
      .c("AUTH PLAIN\r\n")
      .s("+ \r\n")
      .c(b64(std::string("\0carol\0pw1", 10)) + "\r\n")
      .s("-ERR [AUTH] Authentication failed.\r\n")
      .c("AUTH LOGIN\r\n")
      .s("+ VXNlcm5hbWU6\r\n")
      .c("*\r\n")
      .s("-ERR Authentication aborted\r\n")
      .c("AUTH\r\n")
      .s("+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
  s.end();
  auto r = s.records<Pop3Record>();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(*r[2]->response_body_len, 14u);
  auto auth = s.auth();
  ASSERT_EQ(auth.size(), 1u);  // the cancelled exchange is no attempt
  EXPECT_EQ(auth[0]->user, "carol");
  EXPECT_EQ(auth[0]->password, "pw1");
}

TEST(Pop3Analyzer, Apop) {
  MailSession s(110);
  s.s("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n")
      .c("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n")
      .s("+OK mrose's maildrop has 2 messages (320 octets)\r\n");
  s.end();
  auto r = s.records<Pop3Record>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->arg, "mrose <hidden>");
  auto auth = s.auth();
  ASSERT_EQ(auth.size(), 1u);
  EXPECT_EQ(auth[0]->method, "APOP");
  EXPECT_EQ(auth[0]->user, "mrose");
  EXPECT_EQ(auth[0]->outcome, AuthOutcome::kSuccess);
}

// RFC 2449 pipelining: commands sent together, answers in one segment with
// a multi-line response in the middle.
TEST(Pop3Analyzer, Pipelining) {
  MailSession s(110);
  s.s(kGreeting).c("USER a\r\nPASS b\r\nLIST\r\nUIDL 1\r\nQUIT\r\n");
  s.s("+OK\r\n+OK Logged in.\r\n+OK 1 messages:\r\n1 300\r\n.\r\n+OK 1 00000001\r\n+OK Logging out.\r\n");
  s.end();
  auto r = s.records<Pop3Record>();
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[2]->command, "LIST");
  EXPECT_EQ(*r[2]->response_body_len, 7u);
  EXPECT_EQ(r[3]->command, "UIDL");
  EXPECT_EQ(r[3]->msg, "1 00000001");
  EXPECT_FALSE(r[3]->response_body_len);
  EXPECT_EQ(r[4]->msg, "Logging out.");
  ASSERT_EQ(s.auth().size(), 1u);
  EXPECT_EQ(s.auth()[0]->outcome, AuthOutcome::kSuccess);
}

TEST(Pop3Analyzer, StlsUpgrades) {
  MailSession s(110);
  s.s(kGreeting).c("STLS\r\n").s("+OK Begin TLS negotiation now.\r\n");
  s.c(std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11));
  s.end();
  auto r = s.records<Pop3Record>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->command, "STLS");
  EXPECT_EQ(s.anomaly(kAnomBadCommand), 0u);
  EXPECT_EQ(s.service(), registry().find("ssl", 6) ? "pop3,ssl" : "pop3");
}

TEST(Pop3Analyzer, GapInsideBodyKeepsFraming) {
  MailSession s(110);
  s.s(kGreeting).c("RETR 1\r\n").s("+OK 5000 octets\r\nSubject: x\r\n\r\n");
  s.gap(false, 4000).s("tail of the body\r\n.\r\n").c("QUIT\r\n").s("+OK bye\r\n");
  s.end();
  auto r = s.records<Pop3Record>();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(*r[0]->response_body_len, 14u + 4000u + 18u);
  EXPECT_EQ(r[1]->command, "QUIT");
  EXPECT_EQ(r[1]->status, "+OK");
}

TEST(Pop3Analyzer, EndInsideBody) {
  MailSession s(110);
  s.s(kGreeting).c("RETR 1\r\n").s("+OK 5000 octets\r\nSubject: x\r\n");
  s.end();
  auto r = s.records<Pop3Record>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(*r[0]->response_body_len, 12u);
}

// A client that goes on before the status of its AUTH: the next command (it
// has a space, base64 has none) ends the SASL exchange.
TEST(Pop3Analyzer, CommandEndsSaslExchange) {
  MailSession s(110);
  s.s(kGreeting).c("AUTH PLAIN\r\n").s("+ \r\n").c(b64(std::string("\0carol\0pw1", 10)) + "\r\n");
  s.c("LIST 1\r\n").s("-ERR [AUTH] Authentication failed.\r\n+OK 1 300\r\n");
  s.end();
  auto r = s.records<Pop3Record>();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]->command, "AUTH");
  EXPECT_EQ(r[0]->status, "-ERR");
  EXPECT_EQ(r[1]->command, "LIST");
  EXPECT_EQ(r[1]->status, "+OK");
  ASSERT_EQ(s.auth().size(), 1u);
  EXPECT_EQ(s.auth()[0]->user, "carol");
  EXPECT_EQ(s.auth()[0]->outcome, AuthOutcome::kFailure);
}

TEST(Pop3Analyzer, GarbageAndLimits) {
  {
    MailSession s(110);
    s.s(kGreeting).c("USER a\r\n");
    std::string junk;
    for (int i = 0; i < 30; ++i) junk += "\x01\x02 junk\r\n";
    s.s(junk);
    EXPECT_FALSE(s.wants_data());
    s.end();
    EXPECT_EQ(s.anomaly(kAnomNotPop3), 1u);
  }
  {
    MailSession s(110);
    s.s(kGreeting).c("USER " + std::string(20000, 'u') + "\r\n").s("-ERR no\r\n");
    s.end();
    EXPECT_EQ(s.anomaly(kAnomLineTooLong), 1u);
    auto r = s.records<Pop3Record>();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0]->arg.size(), Pop3Limits{}.max_line - 5);
  }
  {
    MailSession s(110);
    std::string many;
    for (int i = 0; i < 80; ++i) many += "NOOP\r\n";
    s.s(kGreeting).c(many);
    s.end();
    EXPECT_EQ(s.records<Pop3Record>().size(), 80u);
    EXPECT_EQ(s.anomaly(kAnomTooManyPending), 80 - Pop3Limits{}.max_pending);
  }
  {
    MailSession s(110);
    s.s(kGreeting).c("AUTH PLAIN !!notbase64!!\r\n").s("-ERR bad\r\n");
    s.end();
    EXPECT_EQ(s.anomaly(kAnomBadSasl), 1u);
    ASSERT_EQ(s.auth().size(), 1u);
    EXPECT_EQ(s.auth()[0]->user, "");
  }
}

TEST(Pop3Probe, Recognition) {
  {
    MailSession s(110);
    s.s(kGreeting);
    EXPECT_EQ(s.service(), "pop3");
  }
  {
    // Another port: the client's command decides.
    MailSession s(1110);
    s.s(kGreeting);
    EXPECT_EQ(s.service(), "");
    s.c("CAPA\r\n");
    EXPECT_EQ(s.service(), "pop3");
  }
  {
    // Redis answers +OK too, but its client speaks first in RESP.
    MailSession s(6379);
    s.c("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n").s("+OK\r\n");
    s.end();
    EXPECT_EQ(s.service().find("pop3"), std::string::npos);
  }
  {
    MailSession s(110);
    s.s("220 mx ESMTP\r\n");
    s.end();
    EXPECT_EQ(s.service().find("pop3"), std::string::npos);
  }
}

}  // namespace
}  // namespace trawl::analyzers::pop3

// IMAP: the pure parser (literal markers, command and response lines,
// argument strings) and the analyzer driven through a Dispatcher from
// Dovecot-style transcripts: LOGIN (atoms, quoted strings, synchronizing and
// non-synchronizing literals), AUTHENTICATE with and without SASL-IR,
// literals in responses that hold fake tagged lines, a refused literal,
// pipelined commands answered out of order, IDLE, STARTTLS, limits, gaps.
#include <gtest/gtest.h>

#include <string>

#include "analyzers/ftp/mail_session.h"
#include "analyzers/imap/imap_analyzer.h"
#include "analyzers/imap/imap_parser.h"
#include "analyzers/imap/imap_record.h"

namespace trawl::analyzers::imap {
namespace {

using testing::MailSession;

TEST(ImapParser, Literals) {
  LiteralSpec l;
  ASSERT_EQ(literal_at_end("a001 LOGIN {5}", l), LiteralParse::kOk);
  EXPECT_EQ(l.size, 5u);
  EXPECT_TRUE(l.sync);
  EXPECT_EQ(l.marker_len, 3u);
  ASSERT_EQ(literal_at_end("A3 APPEND INBOX (\\Seen) {310+}", l), LiteralParse::kOk);
  EXPECT_EQ(l.size, 310u);
  EXPECT_FALSE(l.sync);
  EXPECT_EQ(l.marker_len, 6u);
  ASSERT_EQ(literal_at_end("* 12 FETCH (BINARY[1] ~{1024}", l), LiteralParse::kOk);
  EXPECT_EQ(l.size, 1024u);
  EXPECT_EQ(l.marker_len, 7u);
  EXPECT_EQ(literal_at_end("a LOGIN alice secret", l), LiteralParse::kNone);
  EXPECT_EQ(literal_at_end("a SEARCH {}", l), LiteralParse::kBad);
  EXPECT_EQ(literal_at_end("a SEARCH {12a}", l), LiteralParse::kBad);
  EXPECT_EQ(literal_at_end("a X {1234567890123456789}", l), LiteralParse::kBad);
}

TEST(ImapParser, CommandAndResponseLines) {
  auto c = parse_command_line("a001 LOGIN alice secret");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->tag, "a001");
  EXPECT_EQ(c->command, "LOGIN");
  EXPECT_EQ(c->rest, "alice secret");
  c = parse_command_line("1 capability");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->command, "capability");
  EXPECT_EQ(c->rest, "");
  EXPECT_FALSE(parse_command_line("* OK hello"));
  EXPECT_FALSE(parse_command_line("+ go"));
  EXPECT_FALSE(parse_command_line("a001"));
  EXPECT_FALSE(parse_command_line("a001 123"));
  EXPECT_FALSE(parse_command_line("GET / HTTP/1.1"));

  auto r = parse_response_line("a001 NO [AUTHENTICATIONFAILED] Authentication failed.");
  EXPECT_EQ(r.kind, ImapResponseKind::kTagged);
  EXPECT_EQ(r.tag, "a001");
  EXPECT_EQ(r.status, "NO");
  EXPECT_EQ(r.text, "[AUTHENTICATIONFAILED] Authentication failed.");
  r = parse_response_line("* 3 EXISTS");
  EXPECT_EQ(r.kind, ImapResponseKind::kUntagged);
  EXPECT_EQ(r.status, "3");
  r = parse_response_line("+ idling");
  EXPECT_EQ(r.kind, ImapResponseKind::kContinuation);
  EXPECT_EQ(r.text, "idling");
  r = parse_response_line("+");
  EXPECT_EQ(r.kind, ImapResponseKind::kContinuation);
  EXPECT_EQ(parse_response_line("a1 MAYBE x").kind, ImapResponseKind::kOther);
  EXPECT_EQ(parse_response_line("+OK pop").kind, ImapResponseKind::kOther);
}

TEST(ImapParser, Arguments) {
  auto t = split_arguments("alice \"pa ss\\\"word\"", 4);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0], "alice");
  EXPECT_EQ(t[1], "pa ss\"word");
  t = split_arguments("INBOX (\\Seen \\Flagged) \"date\"", 4);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1], "(\\Seen \\Flagged)");
  EXPECT_EQ(split_arguments("a b c d e", 2).size(), 2u);
  std::string q;
  append_quoted(q, "a\"b\\c");
  EXPECT_EQ(q, "\"a\\\"b\\\\c\"");
}

constexpr std::string_view kGreeting =
    "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN AUTH=LOGIN] "
    "Dovecot (Debian) ready.\r\n";

// A Dovecot session: a bad and a good LOGIN, SELECT with untagged data and a
// FETCH whose literal holds lines that look like tagged responses.
void dovecot_session(MailSession& s, const std::string& body) {
  s.s(kGreeting)
      .c("a001 CAPABILITY\r\n")
      .s("* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN\r\n"
         "a001 OK Pre-login capabilities listed, post-login capabilities have more.\r\n")
      .c("a002 LOGIN alice wrong\r\n")
      .s("a002 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
      .c("a003 LOGIN \"alice\" \"wonder land\"\r\n")
      .s("a003 OK [CAPABILITY IMAP4rev1 SASL-IR] Logged in\r\n")
      .c("a004 SELECT INBOX\r\n")
      .s("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 2 EXISTS\r\n* 0 RECENT\r\n"
         "* OK [UIDVALIDITY 1700000000] UIDs valid\r\na004 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n")
      .c("a005 UID FETCH 1 (BODY.PEEK[])\r\n")
      .s("* 1 FETCH (UID 1 BODY[] {" + std::to_string(body.size()) + "}\r\n" + body + ")\r\n")
      .s("a005 OK Fetch completed (0.001 + 0.000 secs).\r\n")
      .c("a006 LOGOUT\r\n")
      .s("* BYE Logging out\r\na006 OK Logout completed (0.001 + 0.000 secs).\r\n");
  s.end();
}

const std::string kBody =
    "From: bob@example.com\r\nSubject: tricky\r\n\r\na005 OK this is not the response\r\n"
    "* 9 EXISTS\r\na006 NO neither is this {5}\r\n";

TEST(ImapAnalyzer, DovecotSession) {
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{3}}) {
    SCOPED_TRACE(chunk);
    MailSession s(143, false, chunk);
    dovecot_session(s, kBody);
    EXPECT_EQ(s.service(), "imap");
    auto r = s.records<ImapRecord>();
    ASSERT_EQ(r.size(), 6u);
    EXPECT_EQ(r[0]->tag, "a001");
    EXPECT_EQ(r[0]->command, "CAPABILITY");
    EXPECT_EQ(r[0]->status, "OK");
    EXPECT_EQ(r[1]->command, "LOGIN");
    EXPECT_EQ(r[1]->arg, "\"alice\" <hidden>");
    EXPECT_EQ(r[1]->status, "NO");
    EXPECT_EQ(r[1]->msg, "[AUTHENTICATIONFAILED] Authentication failed.");
    EXPECT_EQ(r[2]->status, "OK");
    EXPECT_EQ(r[3]->command, "SELECT");
    EXPECT_EQ(r[3]->arg, "INBOX");
    EXPECT_EQ(r[3]->user, "alice");
    EXPECT_EQ(r[4]->command, "UID FETCH");
    EXPECT_EQ(r[4]->arg, "1 (BODY.PEEK[])");
    EXPECT_EQ(r[4]->status, "OK");
    EXPECT_EQ(r[4]->msg, "Fetch completed (0.001 + 0.000 secs).");
    EXPECT_EQ(r[4]->response_literal_bytes, kBody.size());
    EXPECT_EQ(r[5]->command, "LOGOUT");
    EXPECT_EQ(r[5]->status, "OK");
    auto auth = s.auth();
    ASSERT_EQ(auth.size(), 2u);
    EXPECT_EQ(auth[0]->proto, "imap");
    EXPECT_EQ(auth[0]->method, "LOGIN");
    EXPECT_EQ(auth[0]->user, "alice");
    EXPECT_EQ(auth[0]->outcome, AuthOutcome::kFailure);
    EXPECT_EQ(auth[0]->reply, "NO [AUTHENTICATIONFAILED] Authentication failed.");
    EXPECT_EQ(auth[1]->outcome, AuthOutcome::kSuccess);
    EXPECT_FALSE(auth[1]->has_password);
    EXPECT_EQ(s.json("imap").find("wonder"), std::string::npos);
    EXPECT_EQ(s.anomalies_total(), 0u);
  }
}

TEST(ImapAnalyzer, RevealCredentials) {
  MailSession s(143, true);
  dovecot_session(s, kBody);
  auto auth = s.auth();
  ASSERT_EQ(auth.size(), 2u);
  EXPECT_EQ(auth[0]->password, "wrong");
  EXPECT_EQ(auth[1]->password, "wonder land");
  EXPECT_EQ(s.records<ImapRecord>()[2]->arg, "\"alice\" \"wonder land\"");
}

// LOGIN with a synchronizing literal for the user (the client waits for the
// server's "+") and a non-synchronizing one for the password.
TEST(ImapAnalyzer, LoginWithLiterals) {
  for (size_t chunk : {size_t{0}, size_t{1}}) {
    MailSession s(143, true, chunk);
    s.s(kGreeting)
        .c("A1 LOGIN {5}\r\n")
        .s("+ OK\r\n")
        .c("alice {12+}\r\nwonder\r\nland\r\n")
        .s("A1 OK Logged in\r\n");
    s.end();
    auto r = s.records<ImapRecord>();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0]->request_literal_bytes, 17u);
    auto auth = s.auth();
    ASSERT_EQ(auth.size(), 1u);
    EXPECT_EQ(auth[0]->user, "alice");
    EXPECT_EQ(auth[0]->password, "wonder\r\nland");
    EXPECT_EQ(auth[0]->outcome, AuthOutcome::kSuccess);
    EXPECT_EQ(s.anomalies_total(), 0u);
  }
}

TEST(ImapAnalyzer, AuthenticatePlainAndLogin) {
  MailSession s(143);
  s.s(kGreeting)
      // SASL-IR (RFC 4959), as curl and Thunderbird send it.
      .c("A001 AUTHENTICATE PLAIN AGFsaWNlAHdyb25n\r\n")  // \0alice\0wrong
      .s("A001 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
      // Without an initial response: the server's empty challenge first.
      .c("A002 AUTHENTICATE PLAIN\r\n")
      .s("+ \r\n")
      .c("AGFsaWNlAHdvbmRlcmxhbmQ=\r\n")  // \0alice\0wonderland
      .s("A002 OK [CAPABILITY IMAP4rev1] Logged in\r\n")
      .c("A003 AUTHENTICATE LOGIN\r\n")
      .s("+ VXNlcm5hbWU6\r\n")
      .c("Ym9i\r\n")  // bob
      .s("+ UGFzc3dvcmQ6\r\n")
      .c("c2VjcmV0\r\n")  // secret
      .s("A003 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
      .c("A004 AUTHENTICATE PLAIN\r\n")
      .s("+ \r\n")
      .c("*\r\n")
      .s("A004 BAD Authentication aborted by client.\r\n")
      .c("A005 NOOP\r\n")
      .s("A005 OK NOOP completed.\r\n");
  s.end();
  auto r = s.records<ImapRecord>();
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0]->arg, "PLAIN");
  EXPECT_EQ(r[0]->user, "alice");
  EXPECT_EQ(r[4]->command, "NOOP");
  EXPECT_EQ(r[4]->user, "alice");  // from the successful A002
  auto auth = s.auth();
  ASSERT_EQ(auth.size(), 3u);
  EXPECT_EQ(auth[0]->method, "AUTH PLAIN");
  EXPECT_EQ(auth[0]->user, "alice");
  EXPECT_EQ(auth[0]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(auth[1]->outcome, AuthOutcome::kSuccess);
  EXPECT_EQ(auth[2]->method, "AUTH LOGIN");
  EXPECT_EQ(auth[2]->user, "bob");
  EXPECT_EQ(auth[2]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(s.anomalies_total(), 0u);
}

// A synchronizing literal the server refuses: the client never sends it and
// goes on with its next command.
TEST(ImapAnalyzer, RefusedLiteral) {
  MailSession s(143);
  s.s(kGreeting)
      .c("a1 APPEND INBOX {99999999}\r\n")
      .s("a1 NO [LIMIT] Message too large\r\n")
      .c("a2 NOOP\r\n")
      .s("a2 OK done\r\n");
  s.end();
  auto r = s.records<ImapRecord>();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]->command, "APPEND");
  EXPECT_EQ(r[0]->status, "NO");
  EXPECT_EQ(r[1]->command, "NOOP");
  EXPECT_EQ(r[1]->status, "OK");
  EXPECT_EQ(s.anomalies_total(), 0u);
}

// APPEND with a message literal whose lines look like commands.
TEST(ImapAnalyzer, AppendLiteralIsSkipped) {
  const std::string msg = "Subject: x\r\n\r\na9 LOGIN fake fake\r\nb1 LOGOUT\r\n";
  MailSession s(143);
  s.s(kGreeting)
      .c("a1 APPEND Sent (\\Seen) {" + std::to_string(msg.size()) + "+}\r\n" + msg + "\r\n")
      .s("a1 OK [APPENDUID 1 7] Append completed.\r\n");
  s.end();
  auto r = s.records<ImapRecord>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->arg, "Sent (\\Seen) {" + std::to_string(msg.size()) + "}");
  EXPECT_EQ(r[0]->request_literal_bytes, msg.size());
  EXPECT_TRUE(s.auth().empty());
}

TEST(ImapAnalyzer, LargeLiteralShownBySize) {
  const std::string msg(5000, 'x');
  MailSession s(143);
  s.s(kGreeting).c("a1 APPEND INBOX {5000}\r\n").s("+ OK\r\n").c(msg + "\r\n").s("a1 OK done\r\n");
  s.end();
  auto r = s.records<ImapRecord>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->arg, "INBOX {5000}");
  EXPECT_EQ(r[0]->request_literal_bytes, 5000u);
}

// Pipelined commands answered out of order (RFC 3501 5.5).
TEST(ImapAnalyzer, OutOfOrderResponses) {
  MailSession s(143);
  s.s(kGreeting).c("a1 LOGIN u p\r\n").s("a1 OK ok\r\n");
  s.c("b1 STATUS INBOX (MESSAGES)\r\nb2 NOOP\r\nb3 LIST \"\" *\r\n");
  s.s("b2 OK noop\r\n* STATUS INBOX (MESSAGES 3)\r\nb1 OK status\r\n* LIST () \"/\" INBOX\r\nb3 OK list\r\n");
  s.c("c1 FOO\r\n").s("zz OK stray\r\n");
  s.end();
  auto r = s.records<ImapRecord>();
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[1]->tag, "b2");
  EXPECT_EQ(r[2]->tag, "b1");
  EXPECT_EQ(r[3]->tag, "b3");
  EXPECT_EQ(r[4]->tag, "c1");
  EXPECT_EQ(r[4]->status, "");
  EXPECT_EQ(s.anomaly(kAnomUnmatchedResponse), 1u);
}

TEST(ImapAnalyzer, IdleAndDone) {
  MailSession s(143);
  s.s(kGreeting).c("a1 IDLE\r\n").s("+ idling\r\n* 4 EXISTS\r\n").c("DONE\r\n").s("a1 OK Idle completed.\r\n");
  s.c("a2 LOGOUT\r\n").s("* BYE\r\na2 OK bye\r\n");
  s.end();
  auto r = s.records<ImapRecord>();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]->command, "IDLE");
  EXPECT_EQ(r[0]->status, "OK");
  EXPECT_EQ(s.anomalies_total(), 0u);
}

TEST(ImapAnalyzer, StarttlsUpgrades) {
  MailSession s(143);
  s.s(kGreeting).c("a1 STARTTLS\r\n").s("a1 OK Begin TLS negotiation now.\r\n");
  s.c(std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11));
  s.end();
  auto r = s.records<ImapRecord>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(s.anomaly(kAnomBadCommand), 0u);
  EXPECT_EQ(s.service(), registry().find("ssl", 6) ? "imap,ssl" : "imap");
}

TEST(ImapAnalyzer, GapInsideLiteralKeepsFraming) {
  MailSession s(143);
  s.s(kGreeting).c("a1 FETCH 1 BODY[]\r\n").s("* 1 FETCH (BODY[] {10000}\r\nabc");
  s.gap(false, 9000).s(std::string(997, 'z') + ")\r\na1 OK done\r\n");
  s.end();
  auto r = s.records<ImapRecord>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->status, "OK");
  EXPECT_EQ(r[0]->response_literal_bytes, 10000u);
}

// The tagged response to AUTHENTICATE is lost in a hole: the next command
// (it has spaces, base64 has none) ends the exchange.
TEST(ImapAnalyzer, MissedSaslResponseResynchronises) {
  MailSession s(143);
  s.s(kGreeting).c("A1 AUTHENTICATE PLAIN\r\n").s("+ \r\n").c("AGFsaWNlAHdvbmRlcmxhbmQ=\r\n");
  s.gap(false, 40).s("\r\n").c("A2 SELECT INBOX\r\n").s("A2 OK selected\r\n");
  s.end();
  auto r = s.records<ImapRecord>();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]->command, "SELECT");
  EXPECT_EQ(r[0]->status, "OK");
  EXPECT_EQ(r[1]->command, "AUTHENTICATE");
  EXPECT_EQ(r[1]->status, "");
  ASSERT_EQ(s.auth().size(), 1u);
  EXPECT_EQ(s.auth()[0]->user, "alice");
  EXPECT_EQ(s.auth()[0]->outcome, AuthOutcome::kUnknown);
}

TEST(ImapAnalyzer, LimitsAndGarbage) {
  {
    MailSession s(143);
    s.s(kGreeting);
    std::string junk;
    for (int i = 0; i < 30; ++i) junk += "\x01\x02 junk junk\r\n";
    s.c(junk);
    EXPECT_FALSE(s.wants_data());
    s.end();
    EXPECT_EQ(s.anomaly(kAnomNotImap), 1u);
  }
  {
    MailSession s(143);
    s.s(kGreeting).c("a1 APPEND INBOX {99999999999}\r\n");
    EXPECT_FALSE(s.wants_data());
    s.end();
    EXPECT_EQ(s.anomaly(kAnomLiteralTooLarge), 1u);
  }
  {
    MailSession s(143);
    std::string many;
    for (int i = 0; i < 200; ++i) many += "t" + std::to_string(i) + " NOOP\r\n";
    s.s(kGreeting).c(many).s("t199 OK last\r\n");
    s.end();
    auto r = s.records<ImapRecord>();
    EXPECT_EQ(r.size(), 200u);
    EXPECT_EQ(s.anomaly(kAnomTooManyPending), 200 - ImapLimits{}.max_pending);
    // Evicted ones come first, then t199 with its answer, then the rest unanswered.
    ASSERT_EQ(r[200 - ImapLimits{}.max_pending]->tag, "t199");
    EXPECT_EQ(r[200 - ImapLimits{}.max_pending]->status, "OK");
    EXPECT_EQ(r.back()->tag, "t198");
    EXPECT_EQ(r.back()->status, "");
  }
  {
    // A command whose literals add up past the argument limit.
    MailSession s(143);
    std::string cmd = "a1 SEARCH";
    for (int i = 0; i < 20; ++i) cmd += " TEXT {500+}\r\n" + std::string(500, 'q');
    s.s(kGreeting).c(cmd + "\r\n").s("a1 OK done\r\n");
    s.end();
    auto r = s.records<ImapRecord>();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0]->arg.size(), ImapLimits{}.max_args);
    EXPECT_EQ(s.anomaly(kAnomCommandTooLong), 1u);
    EXPECT_EQ(r[0]->request_literal_bytes, 10000u);
  }
}

TEST(ImapProbe, Recognition) {
  {
    MailSession s(143);
    s.s(kGreeting);
    EXPECT_EQ(s.service(), "imap");
  }
  {
    MailSession s(10143);
    s.s("* OK ready\r\n");
    EXPECT_EQ(s.service(), "");
    s.c("a1 CAPABILITY\r\n");
    EXPECT_EQ(s.service(), "imap");
  }
  {
    // Mid-session: a tagged command answered by untagged and tagged lines.
    MailSession s(10143);
    s.c("x7 NOOP\r\n").s("* 3 EXISTS\r\nx7 OK done\r\n");
    s.end();
    EXPECT_EQ(s.service(), "imap");
    ASSERT_EQ(s.records<ImapRecord>().size(), 1u);
  }
  {
    MailSession s(143);
    s.s("+OK POP3 ready\r\n");
    s.end();
    EXPECT_EQ(s.service().find("imap"), std::string::npos);
  }
}

}  // namespace
}  // namespace trawl::analyzers::imap

// Tests for the SMTP analyzer driven through a Dispatcher (and, for limits,
// directly with a small Context): pipelined transactions, multi-line replies,
// AUTH PLAIN/LOGIN/CRAM-MD5 attempts in auth records, headers and
// attachments through DATA with dot-stuffing and through BDAT, STARTTLS,
// gaps, sessions without a transaction, limits and garbage.
#include "analyzers/smtp/smtp_analyzer.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "analyzers/smtp/smtp_test_util.h"

namespace trawl::analyzers::smtp {
namespace {

using test_util::at;
using test_util::b64;
using test_util::binary_payload;
using test_util::dot_stuff;
using test_util::Harness;
using test_util::qp;
using test_util::smtp_conn;
using test_util::text_payload;

constexpr const char* kBanner = "220-mx.example.com ESMTP Exim 4.69\r\n220 No UCE.\r\n";
constexpr const char* kEhloReply =
    "250-mx.example.com Hello GP [122.162.143.157]\r\n250-SIZE 52428800\r\n250-PIPELINING\r\n"
    "250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-STARTTLS\r\n250-CHUNKING\r\n250 HELP\r\n";

void open_session(Harness& h) {
  h.s(kBanner);
  h.c("EHLO GP\r\n");
  h.s(kEhloReply);
}

// A message whose parts are built from known payloads.
struct Message {
  std::string bin = binary_payload(3000);
  std::string dotted = ".starts with a dot\r\n..two dots\r\n.\r\nmiddle\r\n. space";
  std::string text;

  Message() {
    text = "Received: from relay.example.net (relay [192.0.2.7]) by mx (10.1.1.1) with esmtp\r\n"
           "Received: from client ([198.51.100.23]) by relay.example.net\r\n"
           "From: \"Gurpartap Singh\" <gurpartap@patriots.in>\r\n"
           "To: <raj_deol2002in@yahoo.co.in>, \"Doe, J\" <j@d.org>\r\n"
           "Cc: felica4uu@hotmail.com,\r\n davis_mark1@outlook.com\r\n"
           "Reply-To: <r@patriots.in>\r\n"
           "Subject: =?iso-8859-1?Q?R=E9sum=E9?= attached\r\n"
           "Date: Mon, 5 Oct 2009 11:36:07 +0530\r\n"
           "Message-ID: <000301ca4581$ef9e57f0$cedb07d0$@in>\r\n"
           "In-Reply-To: <prev@patriots.in>\r\n"
           "X-Originating-IP: [203.0.113.9]\r\n"
           "X-Mailer: Microsoft Office Outlook 12.0\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed;\r\n\tboundary=\"----=_NextPart_000\"\r\n"
           "\r\n"
           "This is a multipart message in MIME format.\r\n"
           "\r\n"
           "------=_NextPart_000\r\n"
           "Content-Type: text/plain\r\n\r\n"
           "Hello\r\n.\r\n..\r\n"
           "------=_NextPart_000\r\n"
           "Content-Type: application/pdf; name=\"report.pdf\"\r\n"
           "Content-Transfer-Encoding: base64\r\n"
           "Content-Disposition: attachment; filename=\"report.pdf\"\r\n\r\n" +
           b64(bin) +
           "\r\n"
           "------=_NextPart_000\r\n"
           "Content-Type: text/plain; name=\"dots.txt\"\r\n"
           "Content-Disposition: attachment\r\n\r\n" +
           dotted +
           "\r\n"
           "------=_NextPart_000--\r\n";
  }
  // What the client sends after 354.
  std::string wire() const { return dot_stuff(text) + ".\r\n"; }
};

TEST(SmtpAnalyzer, PipelinedTransactionsGiveOneRecordEach) {
  Harness h;
  open_session(h);
  h.c("MAIL FROM: <a@x.org> SIZE=100\r\nRCPT TO:<b@y.org>\r\nRCPT TO:<c@z.org> NOTIFY=NEVER\r\nRCPT TO:<b@y.org>\r\nDATA\r\n");
  h.s("250 OK\r\n250 Accepted\r\n550 unknown user\r\n250 Accepted\r\n354 Enter message\r\n");
  h.c("Subject: one\r\n\r\nbody\r\n.\r\nMAIL FROM:<second@x.org>\r\nRCPT TO:<d@y.org>\r\nDATA\r\n");
  h.s("250 OK id=1\r\n250 OK\r\n250 Accepted\r\n354 go\r\n");
  h.c("Subject: two\r\n\r\nbody two\r\n.\r\n");
  h.s("250 OK id=2\r\n");
  h.c("QUIT\r\n");
  h.s("221 bye\r\n");
  h.finish();

  EXPECT_EQ(h.rec.service, "smtp");
  const auto r = h.smtp();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]->trans_depth, 1u);
  EXPECT_EQ(r[0]->helo, "GP");
  EXPECT_EQ(r[0]->mailfrom, "a@x.org");
  EXPECT_EQ(r[0]->rcptto, (std::vector<std::string>{"b@y.org", "c@z.org"}));
  EXPECT_EQ(r[0]->subject, "one");
  EXPECT_EQ(r[0]->last_reply, "250 OK id=1");
  EXPECT_EQ(r[1]->trans_depth, 2u);
  EXPECT_EQ(r[1]->helo, "GP");
  EXPECT_EQ(r[1]->mailfrom, "second@x.org");
  EXPECT_EQ(r[1]->rcptto, (std::vector<std::string>{"d@y.org"}));
  EXPECT_EQ(r[1]->subject, "two");
  EXPECT_EQ(r[1]->last_reply, "250 OK id=2");
  ASSERT_EQ(r[1]->path.size(), 2u);
  EXPECT_EQ(r[1]->path[0].to_string(), "74.53.140.153");
  EXPECT_EQ(r[1]->path[1].to_string(), "10.10.1.4");
  EXPECT_TRUE(h.auth().empty());
  EXPECT_EQ(h.anomalies.total(), 0u);
}

TEST(SmtpAnalyzer, MultiLineRepliesSplitAcrossPackets) {
  Harness h;
  h.s("220-mx ESMTP\r\n220-more");
  h.s(" banner\r\n220 end\r\n");
  h.c("EHLO client.example\r\n");
  const std::string reply = kEhloReply;
  for (size_t i = 0; i < reply.size(); i += 5) h.s(reply.substr(i, 5));
  h.c("MAIL FROM:<a@b.c>\r\n");
  h.s("250-first\r\n250-second\r\n250 third line wins\r\n");
  h.c("QUIT\r\n");
  h.finish();
  const auto r = h.smtp();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->helo, "client.example");
  EXPECT_EQ(r[0]->last_reply, "250 third line wins");
  EXPECT_TRUE(r[0]->rcptto.empty());
}

TEST(SmtpAnalyzer, HeadersAttachmentsAndDotStuffing) {
  Message m;
  Harness h;
  open_session(h);
  h.c("MAIL FROM: <gurpartap@patriots.in>\r\n");
  h.s("250 OK\r\n");
  h.c("RCPT TO: <raj_deol2002in@yahoo.co.in>\r\n");
  h.s("250 Accepted\r\n");
  h.c("DATA\r\n");
  h.s("354 Enter message, ending with \".\" on a line by itself\r\n");
  const std::string wire = m.wire();
  for (size_t i = 0; i < wire.size(); i += 1460) h.c(wire.substr(i, 1460));
  h.s("250 OK id=1Mugho-0003Dg-Un\r\n");
  h.c("QUIT\r\n");
  h.s("221 closing\r\n");
  h.finish();

  const auto r = h.smtp();
  ASSERT_EQ(r.size(), 1u);
  const SmtpRecord& s = *r[0];
  EXPECT_EQ(s.from, "\"Gurpartap Singh\" <gurpartap@patriots.in>");
  EXPECT_EQ(s.to, (std::vector<std::string>{"<raj_deol2002in@yahoo.co.in>", "\"Doe, J\" <j@d.org>"}));
  EXPECT_EQ(s.cc, (std::vector<std::string>{"felica4uu@hotmail.com", "davis_mark1@outlook.com"}));
  EXPECT_EQ(s.reply_to, "<r@patriots.in>");
  EXPECT_EQ(s.subject, "R\xc3\xa9sum\xc3\xa9 attached");
  EXPECT_EQ(s.date, "Mon, 5 Oct 2009 11:36:07 +0530");
  EXPECT_EQ(s.msg_id, "<000301ca4581$ef9e57f0$cedb07d0$@in>");
  EXPECT_EQ(s.in_reply_to, "<prev@patriots.in>");
  ASSERT_TRUE(s.has_x_originating_ip);
  EXPECT_EQ(s.x_originating_ip.to_string(), "203.0.113.9");
  EXPECT_EQ(s.user_agent, "Microsoft Office Outlook 12.0");
  EXPECT_FALSE(s.is_webmail);
  // Zeek's order: first_received is the last Received header, second the one before.
  EXPECT_EQ(s.first_received, "from client ([198.51.100.23]) by relay.example.net");
  EXPECT_EQ(s.second_received.substr(0, 24), "from relay.example.net (");
  // resp, orig, then each Received's second wrapped address (else the first).
  ASSERT_EQ(s.path.size(), 4u);
  EXPECT_EQ(s.path[2].to_string(), "10.1.1.1");
  EXPECT_EQ(s.path[3].to_string(), "198.51.100.23");
  ASSERT_EQ(s.attachments.size(), 2u);
  EXPECT_EQ(s.attachments[0].name, "report.pdf");
  EXPECT_EQ(s.attachments[0].mime_type, "application/pdf");
  EXPECT_EQ(s.attachments[0].size, m.bin.size());
  EXPECT_EQ(s.attachments[1].name, "dots.txt");
  EXPECT_EQ(s.attachments[1].size, m.dotted.size());  // dot-stuffing removed before counting
  EXPECT_EQ(s.last_reply, "250 OK id=1Mugho-0003Dg-Un");
  EXPECT_EQ(h.anomalies.total(), 0u);

  const std::string json = h.json();
  EXPECT_NE(json.find("\"attachments\":[{\"name\":\"report.pdf\",\"size\":3000,\"mime_type\":\"application/pdf\"}"),
            std::string::npos);
}

TEST(SmtpAnalyzer, DeliveryGranularityDoesNotChangeOutput) {
  Message m;
  const std::vector<std::pair<bool, std::string>> script = {
      {false, kBanner},
      {true, "EHLO GP\r\n"},
      {false, kEhloReply},
      {true, "AUTH LOGIN\r\n"},
      {false, "334 VXNlcm5hbWU6\r\n"},
      {true, b64("user@example.com") + "\r\n"},
      {false, "334 UGFzc3dvcmQ6\r\n"},
      {true, b64("hunter2") + "\r\n"},
      {false, "235 Authentication succeeded\r\n"},
      {true, "MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n"},
      {false, "250 OK\r\n250 OK\r\n354 go\r\n"},
      {true, m.wire()},
      {false, "250 queued\r\n"},
      {true, "QUIT\r\n"},
      {false, "221 bye\r\n"},
  };
  std::string reference;
  for (size_t step : {size_t{0}, size_t{1}, size_t{3}, size_t{17}}) {
    Harness h;
    for (const auto& [orig, bytes] : script) {
      if (step == 0) {
        h.send(orig, bytes);
      } else {
        for (size_t i = 0; i < bytes.size(); i += step) h.send(orig, std::string_view(bytes).substr(i, step));
      }
    }
    h.finish();
    std::string json = h.json();
    // Timestamps follow the delivery count; compare without them.
    std::string stripped;
    for (size_t pos = 0; pos < json.size();) {
      const size_t ts = json.find("\"ts\":", pos);
      if (ts == std::string::npos) {
        stripped += json.substr(pos);
        break;
      }
      stripped += json.substr(pos, ts - pos);
      pos = json.find(',', ts);
    }
    ASSERT_EQ(h.smtp().size(), 1u) << step;
    ASSERT_EQ(h.auth().size(), 1u) << step;
    if (step == 0) {
      reference = stripped;
    } else {
      EXPECT_EQ(stripped, reference) << "step " << step;
    }
  }
}

TEST(SmtpAnalyzer, AuthLoginSuccessWithoutPasswordByDefault) {
  Harness h;
  open_session(h);
  h.c("AUTH LOGIN\r\n");
  h.s("334 VXNlcm5hbWU6\r\n");
  h.c("Z3VycGFydGFwQHBhdHJpb3RzLmlu\r\n");
  h.s("334 UGFzc3dvcmQ6\r\n");
  h.c("cHVuamFiQDEyMw==\r\n");
  h.s("235 Authentication succeeded\r\n");
  h.c("QUIT\r\n");
  h.s("221 bye\r\n");
  h.finish();
  const auto a = h.auth();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]->proto, "smtp");
  EXPECT_EQ(a[0]->method, "AUTH LOGIN");
  EXPECT_EQ(a[0]->user, "gurpartap@patriots.in");
  EXPECT_FALSE(a[0]->has_password);
  EXPECT_TRUE(a[0]->password.empty());
  EXPECT_EQ(a[0]->outcome, AuthOutcome::kSuccess);
  EXPECT_EQ(a[0]->reply, "235 Authentication succeeded");
  EXPECT_EQ(a[0]->ts, at(4));  // the AUTH command
  EXPECT_EQ(h.json().find("punjab"), std::string::npos);
  // No transaction, but EHLO and AUTH: one session record, as Zeek writes it.
  const auto r = h.smtp();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->auth_mechanism, "LOGIN");
  EXPECT_EQ(r[0]->auth_user, "gurpartap@patriots.in");
  EXPECT_EQ(r[0]->auth_outcome, AuthOutcome::kSuccess);
  EXPECT_TRUE(r[0]->mailfrom.empty());
}

TEST(SmtpAnalyzer, AuthLoginWithRevealedPasswordAndInitialResponse) {
  Harness h(smtp_conn(), true);
  open_session(h);
  h.c("AUTH LOGIN " + b64("bob") + "\r\n");
  h.s("334 UGFzc3dvcmQ6\r\n");
  h.c(b64("s3cret") + "\r\n");
  h.s("535 Incorrect authentication data\r\n");
  h.finish();
  const auto a = h.auth();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]->user, "bob");
  EXPECT_TRUE(a[0]->has_password);
  EXPECT_EQ(a[0]->password, "s3cret");
  EXPECT_EQ(a[0]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(a[0]->reply, "535 Incorrect authentication data");
}

TEST(SmtpAnalyzer, AuthPlainInitialAndNextLineAndBruteForce) {
  using namespace std::string_literals;
  Harness h(smtp_conn(), true);
  open_session(h);
  h.c("AUTH PLAIN " + b64("\0alice\0wrong1"s) + "\r\n");
  h.s("535 5.7.8 Authentication failed\r\n");
  h.c("AUTH PLAIN\r\n");
  h.s("334 \r\n");
  h.c(b64("\0alice\0wrong2"s) + "\r\n");
  h.s("454 4.7.0 Temporary authentication failure\r\n");
  h.c("AUTH PLAIN " + b64("\0alice\0right"s) + "\r\n");
  h.s("235 2.7.0 Authentication successful\r\n");
  h.c("MAIL FROM:<alice@example.com>\r\n");
  h.s("250 OK\r\n");
  h.finish();
  const auto a = h.auth();
  ASSERT_EQ(a.size(), 3u);
  for (const auto* x : a) {
    EXPECT_EQ(x->method, "AUTH PLAIN");
    EXPECT_EQ(x->user, "alice");
  }
  EXPECT_EQ(a[0]->password, "wrong1");
  EXPECT_EQ(a[0]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(a[1]->password, "wrong2");
  EXPECT_EQ(a[1]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(a[1]->reply, "454 4.7.0 Temporary authentication failure");
  EXPECT_EQ(a[2]->outcome, AuthOutcome::kSuccess);
  const auto r = h.smtp();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->mailfrom, "alice@example.com");
  EXPECT_EQ(r[0]->auth_outcome, AuthOutcome::kSuccess);
}

TEST(SmtpAnalyzer, AuthCancelCramMd5AndUnsupportedMechanism) {
  Harness h;
  open_session(h);
  h.c("AUTH LOGIN\r\n");
  h.s("334 VXNlcm5hbWU6\r\n");
  h.c("*\r\n");
  h.s("501 Authentication cancelled\r\n");
  h.c("AUTH CRAM-MD5\r\n");
  h.s("334 PDQxOTI5NDIzNDEuMTI4Mjg0NzJAc291cmNlZm91ci5hbmRyZXcuY211LmVkdT4=\r\n");
  h.c(b64("tim b913a602c7eda7a495b4e6e7334d3890") + "\r\n");
  h.s("235 OK\r\n");
  h.c("AUTH GSSAPI\r\n");
  h.s("504 Unrecognized authentication type\r\n");
  h.c("NOOP\r\n");  // a command again, not a SASL response
  h.s("250 OK\r\n");
  h.finish();
  const auto a = h.auth();
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(a[0]->user, "");
  EXPECT_EQ(a[1]->method, "AUTH CRAM-MD5");
  EXPECT_EQ(a[1]->user, "tim");
  EXPECT_EQ(a[1]->outcome, AuthOutcome::kSuccess);
  EXPECT_FALSE(a[1]->has_password);
  EXPECT_EQ(a[2]->method, "AUTH GSSAPI");
  EXPECT_EQ(a[2]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(h.anomalies.total(), 0u);
}

TEST(SmtpAnalyzer, AuthWithoutAnswerIsUnknownAtTheEnd) {
  Harness h;
  open_session(h);
  h.c("AUTH LOGIN\r\n");
  h.s("334 VXNlcm5hbWU6\r\n");
  h.c(b64("eve") + "\r\n");
  h.finish();
  const auto a = h.auth();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]->user, "eve");
  EXPECT_EQ(a[0]->outcome, AuthOutcome::kUnknown);
  EXPECT_EQ(a[0]->reply, "");
}

TEST(SmtpAnalyzer, LongSaslResponsesAreNotCommandsTooLong) {
  // GSSAPI and NTLM tokens run to several kilobytes of base64.
  std::string raw = binary_payload(9000);
  for (char& ch : raw) {
    if (ch == '\0') ch = 'x';
  }
  const std::string token = b64(raw);
  std::string one_line;
  for (char ch : token) {
    if (ch != '\r' && ch != '\n') one_line.push_back(ch);
  }
  Harness h;
  open_session(h);
  h.c("AUTH GSSAPI\r\n");
  h.s("334 \r\n");
  for (size_t i = 0; i < one_line.size(); i += 1400) h.c(one_line.substr(i, 1400));
  h.c("\r\n");
  h.s("334 YGgGCSqGSIb3EgECAgIAb1kwV6ADAgEFoQMCAQ+iSzBJoAMCAQGiQgRA\r\n");
  h.c("\r\n");
  h.s("235 2.7.0 Authentication successful\r\n");
  h.c("AUTH PLAIN " + one_line + "\r\n");
  h.s("535 no\r\n");
  h.finish();
  const auto a = h.auth();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0]->method, "AUTH GSSAPI");
  EXPECT_EQ(a[0]->outcome, AuthOutcome::kSuccess);
  EXPECT_EQ(a[1]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(h.anomalies.count(kAnomCommandTooLong), 0u);
  EXPECT_EQ(h.anomalies.count(kAnomBadAuthResponse), 1u);  // no NUL bytes: not "authzid NUL user NUL password"
}

TEST(SmtpAnalyzer, BadSaslEncodingIsAnAnomaly) {
  Harness h;
  open_session(h);
  h.c("AUTH PLAIN !!!notbase64\r\n");
  h.s("501 bad encoding\r\n");
  h.finish();
  ASSERT_EQ(h.auth().size(), 1u);
  EXPECT_EQ(h.anomalies.count(kAnomBadAuthResponse), 1u);
}

TEST(SmtpAnalyzer, BdatChunks) {
  const std::string payload = text_payload(40);
  const std::string msg = "Subject: chunked\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"
                          "Content-Disposition: attachment; filename=\"notes.txt\"\r\n\r\n" +
                          qp(payload) + "\r\n--zz--\r\n";
  const size_t half = msg.size() / 2;
  Harness h;
  open_session(h);
  h.c("MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\n");
  h.s("250 OK\r\n250 OK\r\n");
  h.c("BDAT " + std::to_string(half) + "\r\n" + msg.substr(0, half));
  h.s("250 " + std::to_string(half) + " octets received\r\n");
  h.c("BDAT " + std::to_string(msg.size() - half) + " LAST\r\n" + msg.substr(half) + "QUIT\r\n");
  h.s("250 Message accepted\r\n221 bye\r\n");
  h.finish();
  const auto r = h.smtp();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->subject, "chunked");
  EXPECT_EQ(r[0]->last_reply, "250 Message accepted");
  ASSERT_EQ(r[0]->attachments.size(), 1u);
  EXPECT_EQ(r[0]->attachments[0].size, payload.size());
  EXPECT_EQ(h.anomalies.total(), 0u);
}

TEST(SmtpAnalyzer, GapInABdatChunkKeepsTheMessageOpen) {
  const std::string msg = "Subject: first chunk\r\nContent-Type: multipart/mixed; boundary=k\r\n\r\n--k\r\n"
                          "Content-Disposition: attachment; filename=a.txt\r\n\r\n" + std::string(3000, 'a') +
                          "\r\n--k\r\nSubject: not a header, still the body\r\n\r\n--k--\r\n";
  Harness h;
  open_session(h);
  h.c("MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\n");
  h.s("250 OK\r\n250 OK\r\n");
  h.c("BDAT 2000\r\n" + msg.substr(0, 1000));
  h.gap(true, 500);
  h.c(msg.substr(1500, 500));
  h.s("250 ok\r\n");
  h.c("BDAT " + std::to_string(msg.size() - 2000) + " LAST\r\n" + msg.substr(2000));
  h.s("250 done\r\n");
  h.finish();
  const auto r = h.smtp();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->subject, "first chunk");
  EXPECT_EQ(r[0]->last_reply, "250 done");
  ASSERT_EQ(r[0]->attachments.size(), 1u);
  EXPECT_FALSE(r[0]->attachments[0].complete);
}

TEST(SmtpAnalyzer, ConnectionEndingInsideDataKeepsWhatWasSeen) {
  Harness h;
  open_session(h);
  h.c("MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n");
  h.s("250 OK\r\n250 OK\r\n354 go\r\n");
  h.c("Subject: cut\r\nContent-Type: multipart/mixed; boundary=k\r\n\r\n--k\r\n"
      "Content-Disposition: attachment; filename=a.txt\r\n\r\n12345\r\n");
  h.finish();
  const auto r = h.smtp();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->subject, "cut");
  ASSERT_EQ(r[0]->attachments.size(), 1u);
  EXPECT_EQ(r[0]->attachments[0].size, 7u);  // the message ended: its last line break counts
  EXPECT_EQ(r[0]->last_reply, "354 go");
}

TEST(SmtpAnalyzer, StartTlsMarksTheRecordAndHandsOver) {
  Harness h;
  open_session(h);
  h.c("STARTTLS\r\n");
  h.s("220 TLS go ahead\r\n");
  h.c(std::string("\x16\x03\x01\x00\x05hello", 10));  // TLS, not SMTP
  h.finish();
  EXPECT_EQ(h.rec.service.rfind("smtp", 0), 0u);
  const auto r = h.smtp();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0]->tls);
  EXPECT_EQ(r[0]->last_reply, "220 TLS go ahead");
  EXPECT_EQ(h.anomalies.count(kAnomBadCommand), 0u);
}

TEST(SmtpAnalyzer, DataRefusedReturnsToCommands) {
  Harness h;
  open_session(h);
  h.c("MAIL FROM:<a@b.c>\r\n");
  h.s("250 OK\r\n");
  h.c("DATA\r\n");
  h.s("554 No valid recipients\r\n");
  h.c("RCPT TO:<late@b.c>\r\n");
  h.s("250 OK\r\n");
  h.c("QUIT\r\n");
  h.finish();
  const auto r = h.smtp();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->rcptto, (std::vector<std::string>{"late@b.c"}));
  EXPECT_EQ(h.anomalies.count(kAnomTransactionInvalid), 1u);  // DATA without RCPT
}

TEST(SmtpAnalyzer, GapInDataSkipsToTheEndMarker) {
  const std::string bin = binary_payload(6000);
  const std::string msg = "Subject: gap\r\nContent-Type: multipart/mixed; boundary=g\r\n\r\n--g\r\n"
                          "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\n" +
                          b64(bin) + "\r\n--g--\r\n.\r\n";
  Harness h;
  open_session(h);
  h.c("MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n");
  h.s("250 OK\r\n250 OK\r\n354 go\r\n");
  h.c(msg.substr(0, 1000));
  h.gap(true, 1460);
  h.c(msg.substr(2460));
  h.s("250 accepted\r\n");
  h.c("MAIL FROM:<next@b.c>\r\n");
  h.s("250 OK\r\n");
  h.finish();
  const auto r = h.smtp();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]->subject, "gap");
  EXPECT_EQ(r[0]->last_reply, "250 accepted");
  ASSERT_EQ(r[0]->attachments.size(), 1u);
  EXPECT_FALSE(r[0]->attachments[0].complete);
  EXPECT_LT(r[0]->attachments[0].size, bin.size());
  EXPECT_EQ(r[1]->mailfrom, "next@b.c");
  EXPECT_EQ(r[1]->trans_depth, 2u);
  EXPECT_EQ(h.anomalies.count(kAnomDataGap), 1u);
}

TEST(SmtpAnalyzer, GapThatSwallowsTheEndMarkerResyncsOnTheReply) {
  Harness h;
  open_session(h);
  h.c("MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n");
  h.s("250 OK\r\n250 OK\r\n354 go\r\n");
  h.c("Subject: lost end\r\n\r\nsome text");
  h.gap(true, 100);  // the rest of the message and ".\r\n"
  h.s("250 accepted\r\n");
  h.c("QUIT\r\n");
  h.s("221 bye\r\n");
  h.finish();
  const auto r = h.smtp();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->subject, "lost end");
  EXPECT_EQ(r[0]->last_reply, "250 accepted");
}

TEST(SmtpAnalyzer, SessionsWithoutClientActivityWriteNothing) {
  Harness h;
  h.s("220 mx ESMTP\r\n");
  h.c("QUIT\r\n");
  h.s("221 bye\r\n");
  h.finish();
  EXPECT_EQ(h.rec.service, "smtp");
  EXPECT_TRUE(h.smtp().empty());
}

TEST(SmtpAnalyzer, ClientSideOnlyCapture) {
  Harness h;
  h.c("EHLO lonely\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\nSubject: one-sided\r\n\r\nx\r\n.\r\n");
  h.c("MAIL FROM:<a2@b.c>\r\nRCPT TO:<d2@e.f>\r\nDATA\r\nSubject: again\r\n\r\ny\r\n.\r\nQUIT\r\n");
  h.d.stream_end(false, at(100));
  h.finish();
  const auto r = h.smtp();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]->subject, "one-sided");
  EXPECT_EQ(r[0]->trans_depth, 1u);
  EXPECT_FALSE(r[0]->has_last_reply);
  EXPECT_EQ(r[1]->subject, "again");
  EXPECT_EQ(r[1]->trans_depth, 2u);
}

TEST(SmtpAnalyzer, NotSmtpGivesUp) {
  Harness h;
  h.s("220 mx ESMTP\r\n");
  h.c("EHLO x\r\n");
  std::string junk;
  for (int i = 0; i < 40; ++i) junk += "%%% not a command\r\n";
  h.c(junk);
  EXPECT_FALSE(h.d.wants_data());
  EXPECT_EQ(h.anomalies.count(kAnomNotSmtp), 1u);
  h.finish();
}

TEST(SmtpAnalyzer, EndlessLinesGiveUp) {
  Harness h;
  h.s("220 mx ESMTP\r\n");
  h.c("EHLO x\r\n");
  h.s("250 mx\r\n");
  const std::string blob(64 * 1024, 'x');  // no line end ever
  for (int i = 0; i < 40 && h.d.wants_data(); ++i) h.c(blob);
  EXPECT_FALSE(h.d.wants_data());
  EXPECT_EQ(h.anomalies.count(kAnomNotSmtp), 1u);
  h.finish();
}

// --- limits, with the analyzer on a plain Context -----------------------------

struct TestContext final : Context {
  TestContext() { info = smtp_conn(); }
  const ConnInfo& conn() const override { return info; }
  const AnalyzerConfig& config() const override { return cfg; }
  core::Anomalies& anomalies() override { return anomalies_; }
  void emit(std::unique_ptr<Record> r) override { sink.push_back(std::move(r)); }
  void give_up() override { gave_up = true; }
  void upgrade(std::string_view s) override { upgraded.assign(s); }

  ConnInfo info;
  AnalyzerConfig cfg;
  core::Anomalies anomalies_;
  std::vector<std::unique_ptr<Record>> sink;
  bool gave_up = false;
  std::string upgraded;
};

void feed(SmtpAnalyzer& a, bool orig, std::string_view s) {
  a.data(orig, {reinterpret_cast<const uint8_t*>(s.data()), s.size()}, at(1));
}

TEST(SmtpAnalyzerLimits, RecipientsToAndCc) {
  TestContext ctx;
  SmtpLimits l;
  l.max_recipients = 5;
  l.max_to = 3;
  l.max_cc = 2;
  SmtpAnalyzer a(ctx, l);
  feed(a, true, "EHLO x\r\nMAIL FROM:<a@b>\r\n");
  for (int i = 0; i < 8; ++i) feed(a, true, "RCPT TO:<r" + std::to_string(i) + "@b>\r\n");
  feed(a, true, "DATA\r\nTo: a@a, b@b, c@c, d@d, e@e\r\nCc: a@a, b@b, c@c\r\n\r\nx\r\n.\r\n");
  a.finish(at(2));
  ASSERT_EQ(ctx.sink.size(), 1u);
  const auto& r = dynamic_cast<const SmtpRecord&>(*ctx.sink[0]);
  EXPECT_EQ(r.rcptto.size(), 5u);
  EXPECT_EQ(r.to.size(), 3u);
  EXPECT_EQ(r.cc.size(), 2u);
  EXPECT_EQ(ctx.anomalies_.count(kAnomTooManyRecipients), 1u);
  EXPECT_EQ(ctx.anomalies_.count(kAnomTooManyTo), 1u);
  EXPECT_EQ(ctx.anomalies_.count(kAnomTooManyCc), 1u);
}

TEST(SmtpAnalyzerLimits, RecordsPerConnectionThenGiveUp) {
  TestContext ctx;
  SmtpLimits l;
  l.max_records = 3;
  SmtpAnalyzer a(ctx, l);
  feed(a, false, "220 mx ESMTP\r\n");
  for (int i = 0; i < 10; ++i) {
    feed(a, true, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
    feed(a, false, "250 OK\r\n250 OK\r\n354 go\r\n");
    feed(a, true, "Subject: m\r\n\r\nbody\r\n.\r\n");
    feed(a, false, "250 OK\r\n");
  }
  a.finish(at(3));
  EXPECT_EQ(ctx.sink.size(), 3u);
  EXPECT_TRUE(ctx.gave_up);
  EXPECT_EQ(ctx.anomalies_.count(kAnomTooManyMessages), 1u);
}

TEST(SmtpAnalyzerLimits, PendingCommandsAndLongLines) {
  TestContext ctx;
  SmtpLimits l;
  l.max_pending = 10;
  l.max_command_line = 64;
  SmtpAnalyzer a(ctx, l);
  for (int i = 0; i < 30; ++i) feed(a, true, "NOOP\r\n");
  feed(a, true, "HELO " + std::string(500, 'h') + "\r\n");
  feed(a, false, "250 " + std::string(10000, 'r') + "\r\n");
  a.finish(at(4));
  EXPECT_EQ(ctx.anomalies_.count(kAnomTooManyPending), 21u);
  EXPECT_EQ(ctx.anomalies_.count(kAnomCommandTooLong), 1u);
  EXPECT_EQ(ctx.anomalies_.count(kAnomReplyTooLong), 1u);
  ASSERT_EQ(ctx.sink.size(), 1u);  // HELO: a session record
  const auto& r = dynamic_cast<const SmtpRecord&>(*ctx.sink[0]);
  EXPECT_LE(r.helo.size(), 64u);
  EXPECT_LE(r.last_reply.size(), l.max_reply_line);
}

TEST(SmtpAnalyzerLimits, StartTlsAsksForTheSslUpgrade) {
  TestContext ctx;
  SmtpAnalyzer a(ctx);
  feed(a, false, "220 mx ESMTP\r\n");
  feed(a, true, "EHLO x\r\nSTARTTLS\r\n");
  feed(a, false, "250 mx\r\n220 ready\r\n");
  EXPECT_EQ(ctx.upgraded, "ssl");
  a.finish(at(5));
  ASSERT_EQ(ctx.sink.size(), 1u);
  EXPECT_TRUE(dynamic_cast<const SmtpRecord&>(*ctx.sink[0]).tls);
}

TEST(SmtpAnalyzerLimits, StartTlsRefusedStaysSmtp) {
  TestContext ctx;
  SmtpAnalyzer a(ctx);
  feed(a, false, "220 mx ESMTP\r\n");
  feed(a, true, "EHLO x\r\nSTARTTLS\r\n");
  feed(a, false, "250 mx\r\n454 TLS not available\r\n");
  feed(a, true, "MAIL FROM:<a@b>\r\n");
  feed(a, false, "250 OK\r\n");
  EXPECT_TRUE(ctx.upgraded.empty());
  a.finish(at(5));
  ASSERT_EQ(ctx.sink.size(), 1u);
  const auto& r = dynamic_cast<const SmtpRecord&>(*ctx.sink[0]);
  EXPECT_FALSE(r.tls);
  EXPECT_EQ(r.mailfrom, "a@b");
}

}  // namespace
}  // namespace trawl::analyzers::smtp

// mail: mass mailing and phishing signs from synthetic smtp records.
#include <gtest/gtest.h>

#include "analyzers/smtp/smtp_record.h"
#include "detect_test_util.h"

namespace trawl::detect {
namespace {

using analyzers::AuthOutcome;
using analyzers::smtp::MimeAttachment;
using analyzers::smtp::SmtpRecord;
using testing::at;
using testing::ip;
using DetectRun = testing::Run;
using testing::with_id;

SmtpRecord mail(double t, const char* client, const char* server, int rcpts, const std::string& rcpt_prefix = "user") {
  static uint64_t counter = 0;
  SmtpRecord r;
  r.ts = at(t);
  r.uid = "Csmtp" + std::to_string(++counter);
  r.first_index = counter;
  r.orig_h = ip(client);
  r.orig_p = 40000;
  r.resp_h = ip(server);
  r.resp_p = 25;
  r.mailfrom = "sender@example.com";
  for (int i = 0; i < rcpts; ++i) r.rcptto.push_back(rcpt_prefix + std::to_string(i) + "@example.org");
  r.has_last_reply = true;
  r.last_reply = "250 OK";
  return r;
}

SmtpRecord authed(SmtpRecord r, const char* user) {
  r.auth_mechanism = "LOGIN";
  r.auth_user = user;
  r.has_auth_user = true;
  r.auth_outcome = AuthOutcome::kSuccess;
  return r;
}

uint64_t count(const Finding& f, const std::string& name) {
  for (const auto& [n, v] : f.counts) {
    if (n == name) return v;
  }
  return UINT64_MAX;
}

TEST(MassMailing, SixHundredRecipientsInOneMessageIsHigh) {
  DetectRun run("mail");
  run.set->on_record(mail(0, "10.0.0.1", "10.0.0.2", 600));
  const auto run_all = run.finish();
  auto fs = with_id(run_all, "mail.mass_mailing");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0]->src, "10.0.0.1");
  EXPECT_EQ(fs[0]->severity, Severity::kHigh);
  EXPECT_EQ(count(*fs[0], "recipients"), 600u);
  EXPECT_EQ(count(*fs[0], "messages"), 1u);
  EXPECT_EQ(fs[0]->dst, std::vector<std::string>{"10.0.0.2"});
  EXPECT_EQ(fs[0]->attack, "T1566");
  EXPECT_EQ(fs[0]->details.substr(0, 2), "{\"");  // one JSON object
}

TEST(MassMailing, RecipientBoundaryIsLowAtTwentyFive) {
  DetectRun below("mail");
  below.set->on_record(mail(0, "194.7.248.153", "172.16.114.207", 24));
  EXPECT_TRUE(below.finish().empty());
  DetectRun at25("mail");
  at25.set->on_record(mail(0, "194.7.248.153", "172.16.114.207", 25));
  auto fs = at25.finish();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].severity, Severity::kLow);
  DetectRun medium("mail");
  medium.set->on_record(mail(0, "194.7.248.153", "172.16.114.207", 100));
  EXPECT_EQ(medium.finish().at(0).severity, Severity::kMedium);
}

TEST(MassMailing, MessageCountBoundaryAndWindows) {
  DetectRun run99("mail");
  for (int i = 0; i < 99; ++i) run99.set->on_record(mail(i, "10.0.0.1", "10.0.0.2", 1));
  EXPECT_TRUE(run99.finish().empty());  // 99 messages to one recipient
  DetectRun run100("mail");
  for (int i = 0; i < 100; ++i) run100.set->on_record(mail(i, "10.0.0.1", "10.0.0.2", 1));
  auto fs = run100.finish();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].severity, Severity::kMedium);
  EXPECT_EQ(count(fs[0], "messages"), 100u);
  EXPECT_EQ(fs[0].evidence.size(), 20u);
  EXPECT_EQ(fs[0].evidence_total, 100u);

  // 60 + 60 messages two hours apart: no window holds 100.
  DetectRun split("mail");
  for (int i = 0; i < 60; ++i) split.set->on_record(mail(i, "10.0.0.1", "10.0.0.2", 1));
  for (int i = 0; i < 60; ++i) split.set->on_record(mail(7200 + i, "10.0.0.1", "10.0.0.2", 1));
  EXPECT_TRUE(split.finish().empty());
  DetectRun wide("mail", {"mail.window_s=86400"});
  for (int i = 0; i < 60; ++i) wide.set->on_record(mail(i, "10.0.0.1", "10.0.0.2", 1));
  for (int i = 0; i < 60; ++i) wide.set->on_record(mail(7200 + i, "10.0.0.1", "10.0.0.2", 1));
  EXPECT_EQ(wide.finish().size(), 1u);
}

TEST(MassMailing, AuthenticatedAccountIsTheActorAcrossHosts) {
  DetectRun run("mail");
  for (int i = 0; i < 30; ++i) {
    const std::string host = "203.0.113." + std::to_string(i + 1);
    run.set->on_record(authed(mail(i, host.c_str(), "10.0.0.25", 1, "v" + std::to_string(i) + "x"), "Alice@corp.example"));
  }
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].src, "alice@corp.example");
  EXPECT_EQ(count(fs[0], "recipients"), 30u);
  EXPECT_NE(fs[0].details.find("\"actor\":\"account\""), std::string::npos);
  EXPECT_NE(fs[0].summary.find("Account alice@corp.example"), std::string::npos);
}

TEST(MassMailing, InternalBotReachingManyMailServersIsHigh) {
  DetectRun run("mail");
  for (int i = 0; i < 10; ++i) {
    const std::string mx = "198.51.100." + std::to_string(i + 1);
    run.set->on_record(mail(i, "10.0.0.66", mx.c_str(), 3, "m" + std::to_string(i) + "r"));
  }
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].severity, Severity::kHigh);
  EXPECT_EQ(fs[0].dst_count, 10u);
  DetectRun nine("mail");
  for (int i = 0; i < 9; ++i) {
    const std::string mx = "198.51.100." + std::to_string(i + 1);
    nine.set->on_record(mail(i, "10.0.0.66", mx.c_str(), 3, "m" + std::to_string(i) + "r"));
  }
  EXPECT_EQ(nine.finish().at(0).severity, Severity::kLow);
}

TEST(Phishing, EachSignAndTheirSeverities) {
  DetectRun run("mail");
  // From header not the logged-in account.
  auto a = authed(mail(0, "10.0.0.7", "10.0.0.25", 1), "bob@corp.example");
  a.from = "\"CEO\" <ceo@corp.example>";
  a.has_from = true;
  run.set->on_record(a);
  // Executable attachment from another host.
  auto b = mail(1, "10.0.0.8", "10.0.0.25", 1);
  b.attachments.push_back(MimeAttachment{"invoice.pdf.exe", "application/octet-stream", 1000, true});
  b.attachments.push_back(MimeAttachment{"notes.txt", "text/plain", 10, true});
  run.set->on_record(b);
  // Refused as a virus.
  auto c = mail(2, "10.0.0.9", "10.0.0.25", 1);
  c.last_reply = "554 5.7.1 Message rejected: virus found (Win32.Trojan)";
  run.set->on_record(c);
  const auto run_all = run.finish();
  auto fs = with_id(run_all, "mail.phishing");
  ASSERT_EQ(fs.size(), 3u);
  for (const auto* f : fs) {
    if (f->src == "bob@corp.example") {
      EXPECT_EQ(f->severity, Severity::kLow);
      EXPECT_EQ(count(*f, "from_mismatch"), 1u);
      EXPECT_NE(f->summary.find("ceo@corp.example"), std::string::npos);
    } else if (f->src == "10.0.0.8") {
      EXPECT_EQ(f->severity, Severity::kMedium);
      EXPECT_EQ(f->attack, "T1566.001");
      EXPECT_EQ(count(*f, "risky_attachments"), 1u);
      EXPECT_NE(f->summary.find("invoice.pdf.exe"), std::string::npos);
    } else {
      EXPECT_EQ(f->src, "10.0.0.9");
      EXPECT_EQ(f->severity, Severity::kHigh);
      EXPECT_EQ(count(*f, "virus_rejections"), 1u);
    }
  }
}

TEST(Phishing, TwoSignsRaiseAndMacroTypeCounts) {
  DetectRun run("mail");
  auto a = authed(mail(0, "10.0.0.7", "10.0.0.25", 1), "bob@corp.example");
  a.from = "payroll@other.example";
  a.has_from = true;
  a.attachments.push_back(MimeAttachment{"", "application/vnd.ms-excel.sheet.macroEnabled.12", 5000, true});
  run.set->on_record(a);
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].severity, Severity::kHigh);
}

TEST(Phishing, OrdinaryMailGivesNothing) {
  DetectRun run("mail");
  // The shape of smtp_authlogin_attachment_zeek: From matches the login, a text attachment.
  auto a = authed(mail(0, "10.10.1.4", "74.53.140.153", 1), "gurpartap@patriots.in");
  a.from = "\"Gurpartap Singh\" <Gurpartap@patriots.in>";
  a.has_from = true;
  a.attachments.push_back(MimeAttachment{"NEWS.txt", "text/plain", 10807, true});
  run.set->on_record(a);
  // A login without a domain is not compared; a spam refusal is not a virus.
  auto b = authed(mail(1, "10.0.0.3", "10.0.0.25", 2), "jsmith");
  b.from = "John Smith <john.smith@corp.example>";
  b.has_from = true;
  b.last_reply = "550 5.7.1 rejected as spam";
  run.set->on_record(b);
  // "virus" in a 250 reply is not a refusal.
  auto c = mail(2, "10.0.0.4", "10.0.0.25", 1);
  c.last_reply = "250 OK scanned, no virus";
  run.set->on_record(c);
  // A session without a transaction.
  SmtpRecord d;
  d.ts = at(3);
  d.orig_h = ip("10.0.0.5");
  d.resp_h = ip("10.0.0.25");
  run.set->on_record(d);
  EXPECT_TRUE(run.finish().empty());
}

TEST(Mail, ActorsAndRecipientsStayBounded) {
  DetectRun run("mail");
  // 5000 senders of 30 recipients each: at most the actor cap gets findings.
  for (int i = 0; i < 5000; ++i) {
    const std::string host = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".1";
    run.set->on_record(mail(i * 0.1, host.c_str(), "10.255.0.1", 30));
  }
  // One sender with 5000 distinct recipients in one message.
  DetectRun big("mail");
  big.set->on_record(mail(0, "10.0.0.1", "10.0.0.2", 5000));
  const auto all = run.finish();
  const auto fs = with_id(all, "mail.mass_mailing");
  EXPECT_LE(fs.size(), 4096u);
  EXPECT_GE(fs.size(), 4000u);
  auto bs = big.finish();
  ASSERT_EQ(bs.size(), 1u);
  EXPECT_GE(count(bs[0], "recipients"), 5000u);
}

}  // namespace
}  // namespace trawl::detect

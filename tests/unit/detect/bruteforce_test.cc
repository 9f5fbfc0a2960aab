// bruteforce.<service>, bruteforce.success (bruteforce.cc) and bruteforce.tls
// (tls_storm.cc) on synthetic records.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "analyzers/ssh/ssh_record.h"
#include "analyzers/ssl/ssl_record.h"
#include "detect_test_util.h"

namespace trawl::detect {
namespace {

using analyzers::AuthOutcome;
using testing::at;
using testing::auth;
using testing::ConnBuilder;
using Detect = testing::Run;  // gtest's Test::Run hides the name in test bodies
using testing::with_id;

constexpr AuthOutcome kFail = AuthOutcome::kFailure;
constexpr AuthOutcome kOk = AuthOutcome::kSuccess;
constexpr AuthOutcome kUnk = AuthOutcome::kUnknown;

// This area's findings only (other detectors may run alongside).
std::vector<Finding> ours(std::vector<Finding> fs) {
  std::erase_if(fs, [](const Finding& f) { return f.id.rfind("bruteforce.", 0) != 0; });
  return fs;
}

uint64_t count_of(const Finding& f, const std::string& name) {
  for (const auto& [k, v] : f.counts) {
    if (k == name) return v;
  }
  return UINT64_MAX;
}

// n failed logins every `step` seconds from t0, one user.
void failures(Detect& run, double t0, int n, double step, const char* client, const char* server, uint16_t port,
              const char* proto, const char* user = "admin") {
  for (int i = 0; i < n; ++i) {
    run.set->on_record(auth(t0 + i * step, client, server, port, proto, user, kFail));
  }
}

TEST(Bruteforce, FtpFailuresAtTheThresholdMakeOneFinding) {
  Detect run("bruteforce");
  failures(run, 0, 10, 2, "10.0.0.5", "10.0.0.9", 21, "ftp", "bro");
  auto fs = ours(run.finish());
  auto ftp = with_id(fs, "bruteforce.ftp");
  ASSERT_EQ(ftp.size(), 1u);
  const Finding& f = *ftp[0];
  EXPECT_EQ(f.src, "10.0.0.5");
  EXPECT_EQ(f.dst, std::vector<std::string>{"10.0.0.9"});
  EXPECT_EQ(f.ports, std::vector<uint16_t>{21});
  EXPECT_EQ(f.service, "ftp");
  EXPECT_EQ(f.attack, "T1110.001");
  EXPECT_EQ(f.severity, Severity::kMedium);
  EXPECT_EQ(count_of(f, "failures"), 10u);
  EXPECT_EQ(count_of(f, "attempts"), 10u);
  EXPECT_EQ(count_of(f, "users"), 1u);
  EXPECT_EQ(f.ts, at(0));
  EXPECT_EQ(f.last_ts, at(18));
  EXPECT_EQ(f.evidence_total, 10u);
  EXPECT_NE(f.summary.find("failed 10 of 10 FTP logins (user bro) on 10.0.0.9:21"), std::string::npos) << f.summary;
  EXPECT_TRUE(with_id(fs, "bruteforce.success").empty());
}

TEST(Bruteforce, OneFailureBelowTheThresholdIsNothing) {
  Detect run("bruteforce");
  failures(run, 0, 9, 2, "10.0.0.5", "10.0.0.9", 21, "ftp");
  EXPECT_TRUE(ours(run.finish()).empty());
}

TEST(Bruteforce, ThresholdIsConfigurable) {
  Detect run("bruteforce", {"bruteforce.min_failures=3"});
  failures(run, 0, 3, 1, "10.0.0.5", "10.0.0.9", 110, "pop3");
  auto fs = ours(run.finish());
  EXPECT_EQ(with_id(fs, "bruteforce.pop3").size(), 1u);
  EXPECT_EQ(run.config.entries().at("bruteforce.min_failures").default_value, 10);
}

TEST(Bruteforce, GroupsAreClientServerAndService) {
  Detect run("bruteforce");
  // 5 failures each on two servers and on two services: no group reaches 10.
  failures(run, 0, 5, 1, "10.0.0.5", "10.0.0.9", 143, "imap");
  failures(run, 0, 5, 1, "10.0.0.5", "10.0.0.8", 143, "imap");
  failures(run, 0, 5, 1, "10.0.0.5", "10.0.0.9", 25, "smtp");
  failures(run, 0, 5, 1, "10.0.0.6", "10.0.0.9", 143, "imap");
  EXPECT_TRUE(ours(run.finish()).empty());
}

TEST(Bruteforce, AnIdleGapSplitsEpisodes) {
  Detect run("bruteforce");
  failures(run, 0, 10, 1, "10.0.0.5", "10.0.0.9", 143, "imap");
  failures(run, 5000, 10, 1, "10.0.0.5", "10.0.0.9", 143, "imap");
  auto fs = ours(run.finish());
  auto imap = with_id(fs, "bruteforce.imap");
  ASSERT_EQ(imap.size(), 2u);
  // Five failures before and after a gap: neither episode counts.
  Detect run2("bruteforce");
  failures(run2, 0, 5, 1, "10.0.0.5", "10.0.0.9", 143, "imap");
  failures(run2, 5000, 5, 1, "10.0.0.5", "10.0.0.9", 143, "imap");
  EXPECT_TRUE(ours(run2.finish()).empty());
}

TEST(Bruteforce, SuccessAfterTheRunIsCriticalAndNamesUserAndTime) {
  Detect run("bruteforce");
  failures(run, 0, 12, 1, "203.0.113.7", "10.0.0.9", 110, "pop3", "alice");
  run.set->on_record(auth(20, "203.0.113.7", "10.0.0.9", 110, "pop3", "alice", kOk));
  failures(run, 21, 3, 1, "203.0.113.7", "10.0.0.9", 110, "pop3", "bob");  // the tool goes on
  auto fs = ours(run.finish());
  auto ok = with_id(fs, "bruteforce.success");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0]->severity, Severity::kCritical);
  EXPECT_EQ(ok[0]->src, "203.0.113.7");
  EXPECT_EQ(ok[0]->ports, std::vector<uint16_t>{110});
  EXPECT_EQ(count_of(*ok[0], "failures_before"), 12u);
  ASSERT_EQ(with_id(fs, "bruteforce.pop3").size(), 1u);
  EXPECT_EQ(count_of(*with_id(fs, "bruteforce.pop3")[0], "failures"), 15u);
  EXPECT_NE(ok[0]->summary.find("as alice at 2023-11-14 22:13:40 UTC after 12 failed attempts"), std::string::npos)
      << ok[0]->summary;
  EXPECT_EQ(fs.front().id, "bruteforce.success");  // critical sorts first
}

TEST(Bruteforce, SuccessBeforeTheRunQualifiesIsNotASuccessFinding) {
  Detect run("bruteforce");
  failures(run, 0, 3, 1, "10.0.0.5", "10.0.0.9", 110, "pop3", "alice");
  run.set->on_record(auth(4, "10.0.0.5", "10.0.0.9", 110, "pop3", "alice", kOk));
  auto fs = ours(run.finish());
  EXPECT_TRUE(fs.empty());
}

TEST(Bruteforce, LateSuccessWithinTheWindowIsReported) {
  Detect run("bruteforce");
  failures(run, 0, 20, 1, "10.0.0.5", "10.0.0.9", 21, "ftp", "root");
  run.set->on_record(auth(7200, "10.0.0.5", "10.0.0.9", 21, "ftp", "root", kOk));
  auto fs = ours(run.finish());
  auto ok = with_id(fs, "bruteforce.success");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0]->last_ts, at(7200));
  // Outside the window: nothing.
  Detect run2("bruteforce", {"bruteforce.success_window_s=3600"});
  failures(run2, 0, 20, 1, "10.0.0.5", "10.0.0.9", 21, "ftp", "root");
  run2.set->on_record(auth(7200, "10.0.0.5", "10.0.0.9", 21, "ftp", "root", kOk));
  auto fs2 = ours(run2.finish());
  EXPECT_TRUE(with_id(fs2, "bruteforce.success").empty());
  EXPECT_EQ(with_id(fs2, "bruteforce.ftp").size(), 1u);
}

TEST(Bruteforce, SlowRetriesOfOneUserLookLikeAStalePasswordAndStayLow) {
  Detect run("bruteforce");
  // A mail client polling every 5 minutes with an old password.
  failures(run, 0, 12, 300, "10.0.0.5", "10.0.0.9", 993, "imap", "bob");
  auto fs = ours(run.finish());
  auto imap = with_id(fs, "bruteforce.imap");
  ASSERT_EQ(imap.size(), 1u);
  EXPECT_EQ(imap[0]->severity, Severity::kLow);
}

TEST(Bruteforce, ManyFailuresAreHigh) {
  Detect run("bruteforce");
  failures(run, 0, 100, 0.5, "10.0.0.5", "10.0.0.9", 80, "http");
  auto fs = ours(run.finish());
  ASSERT_EQ(with_id(fs, "bruteforce.http").size(), 1u);
  EXPECT_EQ(fs[0].severity, Severity::kHigh);
  EXPECT_EQ(fs[0].evidence.size(), 20u);
  EXPECT_EQ(fs[0].evidence_total, 100u);
}

TEST(Bruteforce, RdpCookiesCountAsAttemptsWithUnknownOutcome) {
  Detect run("bruteforce");
  for (int i = 0; i < 19; ++i) run.set->on_record(auth(i, "10.0.0.5", "10.0.0.9", 3389, "rdp", "administr", kUnk));
  EXPECT_TRUE(ours(run.finish()).empty());
  Detect run2("bruteforce");
  for (int i = 0; i < 20; ++i) run2.set->on_record(auth(i, "10.0.0.5", "10.0.0.9", 3389, "rdp", "administr", kUnk));
  auto fs = ours(run2.finish());
  auto rdp = with_id(fs, "bruteforce.rdp");
  ASSERT_EQ(rdp.size(), 1u);
  EXPECT_EQ(count_of(*rdp[0], "unknown"), 20u);
  EXPECT_NE(rdp[0]->summary.find("outcomes not visible"), std::string::npos);
  // Unknown outcomes of other services do not count.
  Detect run3("bruteforce");
  for (int i = 0; i < 30; ++i) run3.set->on_record(auth(i, "10.0.0.5", "10.0.0.9", 445, "smb", "u", kUnk));
  EXPECT_TRUE(ours(run3.finish()).empty());
}

TEST(Bruteforce, SprayLikeRunsAreLeftToTheSprayDetector) {
  Detect run("bruteforce");
  for (int i = 0; i < 12; ++i) {
    const std::string user = "user" + std::to_string(i);
    run.set->on_record(auth(i, "10.0.0.5", "10.0.0.9", 445, "smb", user.c_str(), kFail));
  }
  EXPECT_TRUE(with_id(run.finish(), "bruteforce.smb").empty());
}

TEST(Bruteforce, OtherProtocolsAreIgnored) {
  Detect run("bruteforce");
  failures(run, 0, 50, 1, "10.0.0.5", "10.0.0.9", 1433, "mssql");
  EXPECT_TRUE(ours(run.finish()).empty());
}

// A short SSH session the analyzer could not infer anything from.
flow::ConnRecord ssh_session(double t, const char* c, const char* s, double duration = 2) {
  ConnBuilder b(t, c, 50000, s, 22);
  b.state(flow::ConnState::kSF, "ShAdDaFf").bytes(2060, 1367).pkts(15, 12).duration(duration).service("ssh");
  return b.r;
}

TEST(Bruteforce, ShortSshSessionsWithoutAttemptsAreCaughtFromConnections) {
  Detect run("bruteforce");
  for (int i = 0; i < 19; ++i) run.set->on_conn(ssh_session(i * 11, "240.0.3.2", "240.125.0.2"));
  EXPECT_TRUE(ours(run.finish()).empty());
  Detect run2("bruteforce");
  for (int i = 0; i < 20; ++i) run2.set->on_conn(ssh_session(i * 11, "240.0.3.2", "240.125.0.2"));
  auto fs = ours(run2.finish());
  auto ssh = with_id(fs, "bruteforce.ssh");
  ASSERT_EQ(ssh.size(), 1u);
  EXPECT_EQ(ssh[0]->src, "240.0.3.2");
  EXPECT_EQ(count_of(*ssh[0], "short_sessions"), 20u);
  EXPECT_NE(ssh[0]->details.find("\"basis\":\"connections\""), std::string::npos);
}

TEST(Bruteforce, LongOrEmptyOrSuccessfulSshSessionsAreNotGuessing) {
  Detect run("bruteforce");
  for (int i = 0; i < 30; ++i) {
    // Long interactive sessions.
    run.set->on_conn(ssh_session(i * 100, "10.0.0.5", "10.0.0.9", 60));
    // Port-scan style connections that never carried data.
    ConnBuilder b(i * 100 + 1, "10.0.0.6", 40000, "10.0.0.9", 22);
    b.state(flow::ConnState::kREJ, "Sr");
    run.set->on_conn(b);
    // Short sessions the SSH analyzer saw log in (automation).
    flow::ConnRecord c = ssh_session(i * 100 + 2, "10.0.0.7", "10.0.0.9");
    analyzers::ssh::SshRecord s;
    s.ts = c.ts;
    s.uid = c.uid;
    s.auth_success = true;
    s.auth_attempts = 1;
    run.set->on_record(s);
    run.set->on_conn(c);
  }
  EXPECT_TRUE(ours(run.finish()).empty());
}

TEST(Bruteforce, ConnectionFallbackYieldsToTheAuthFinding) {
  Detect run("bruteforce");
  for (int i = 0; i < 30; ++i) {
    flow::ConnRecord c = ssh_session(i * 5, "10.0.0.5", "10.0.0.9");
    for (int k = 0; k < 3; ++k) {
      auto a = auth(i * 5 + k, "10.0.0.5", "10.0.0.9", 22, "ssh", "", kFail);
      a.uid = c.uid;
      run.set->on_record(a);
    }
    run.set->on_conn(c);
  }
  auto fs = ours(run.finish());
  auto ssh = with_id(fs, "bruteforce.ssh");
  ASSERT_EQ(ssh.size(), 1u);
  EXPECT_EQ(count_of(*ssh[0], "failures"), 90u);
  EXPECT_DOUBLE_EQ(ssh[0]->confidence, 0.75);
}

TEST(Bruteforce, VncAndRdpByPortWhenNoAnalyzerNamedThem) {
  Detect run("bruteforce");
  for (int i = 0; i < 25; ++i) {
    ConnBuilder b(i * 3, "192.168.0.11", static_cast<uint16_t>(40000 + i), "10.0.0.149", 5900);
    b.state(flow::ConnState::kSF, "ShAdDfFRR").bytes(29, 80).duration(1.5);
    run.set->on_conn(b);
  }
  auto fs = ours(run.finish());
  ASSERT_EQ(with_id(fs, "bruteforce.vnc").size(), 1u);
}

TEST(Bruteforce, GroupCapBoundsStateUnderHostileVolume) {
  Detect run("bruteforce", {"bruteforce.max_groups=100", "bruteforce.min_failures=1"});
  for (int i = 0; i < 5000; ++i) {
    const std::string client = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    run.set->on_record(auth(i, client.c_str(), "10.0.0.9", 21, "ftp", "x", kFail));
  }
  auto fs = ours(run.finish());
  EXPECT_EQ(fs.size(), 100u);
}

TEST(Bruteforce, OddRecordsDoNotCrash) {
  Detect run("bruteforce");
  auto a = auth(0, "10.0.0.5", "10.0.0.9", 0, "ftp", "", kFail);
  a.ts = core::Timestamp{INT64_MIN};
  run.set->on_record(a);
  a.ts = core::Timestamp{INT64_MAX};
  run.set->on_record(a);
  for (int i = 0; i < 20; ++i) {
    a.ts = core::Timestamp{i % 2 ? INT64_MAX : INT64_MIN};
    run.set->on_record(a);
  }
  ConnBuilder b(0, "10.0.0.5", 1, "10.0.0.9", 22);
  b.r.duration_ns = -5;
  run.set->on_conn(b);
  auto fs = ours(run.finish());
  for (const auto& f : fs) EXPECT_FALSE(f.summary.empty());
}

// ---- bruteforce.tls -------------------------------------------------------------

void tls_session(Detect& run, double t, const char* c, const char* s, bool established, uint64_t orig_bytes,
                 double duration = 0.2) {
  ConnBuilder b(t, c, 50000, s, 443);
  b.state(flow::ConnState::kSF, "ShADadFf").bytes(orig_bytes, 3000).duration(duration).service("ssl");
  analyzers::ssl::SslRecord r;
  r.ts = b.r.ts;
  r.uid = b.r.uid;
  r.established = established;
  run.set->on_record(r);
  run.set->on_conn(b);
}

TEST(TlsStorm, ManyHandshakeOnlySessionsAreAStorm) {
  Detect run("tls_storm");
  for (int i = 0; i < 100; ++i) tls_session(run, i * 0.5, "10.0.0.5", "10.0.0.9", i % 2 == 0, 600);
  auto fs = ours(run.finish());
  auto tls = with_id(fs, "bruteforce.tls");
  ASSERT_EQ(tls.size(), 1u);
  EXPECT_EQ(tls[0]->src, "10.0.0.5");
  EXPECT_EQ(tls[0]->ports, std::vector<uint16_t>{443});
  EXPECT_EQ(count_of(*tls[0], "handshake_only"), 100u);
  EXPECT_EQ(count_of(*tls[0], "not_established"), 50u);
}

TEST(TlsStorm, BelowCountRateOrWithDataIsNothing) {
  Detect few("tls_storm");
  for (int i = 0; i < 99; ++i) tls_session(few, i * 0.5, "10.0.0.5", "10.0.0.9", true, 600);
  EXPECT_TRUE(ours(few.finish()).empty());
  Detect slow("tls_storm");  // one a minute: a health check
  for (int i = 0; i < 200; ++i) tls_session(slow, i * 60, "10.0.0.5", "10.0.0.9", true, 600);
  EXPECT_TRUE(ours(slow.finish()).empty());
  Detect edge("tls_storm");  // at the byte cap still handshake-only, one byte more is data
  for (int i = 0; i < 100; ++i) tls_session(edge, i * 0.5, "10.0.0.5", "10.0.0.9", true, 640);
  EXPECT_EQ(with_id(edge.finish(), "bruteforce.tls").size(), 1u);
  Detect over("tls_storm");
  for (int i = 0; i < 100; ++i) tls_session(over, i * 0.5, "10.0.0.5", "10.0.0.9", true, 641);
  EXPECT_TRUE(ours(over.finish()).empty());
  Detect beacon("tls_storm");  // an HTTPS beacon every 2 s: 30 a minute
  for (int i = 0; i < 300; ++i) tls_session(beacon, i * 2, "10.0.0.5", "10.0.0.9", false, 300);
  EXPECT_TRUE(ours(beacon.finish()).empty());
  Detect data("tls_storm");  // an API client without keep-alive: requests in every session
  for (int i = 0; i < 300; ++i) tls_session(data, i * 0.5, "10.0.0.5", "10.0.0.9", true, 4000);
  EXPECT_TRUE(ours(data.finish()).empty());
}

}  // namespace
}  // namespace trawl::detect

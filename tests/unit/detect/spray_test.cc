// bruteforce.spray and its bruteforce.success (spray.cc) on synthetic records,
// and how it shares runs with the bruteforce detector.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "detect_test_util.h"

namespace trawl::detect {
namespace {

using analyzers::AuthOutcome;
using testing::at;
using testing::auth;
using Detect = testing::Run;  // gtest's Test::Run hides the name in test bodies
using testing::with_id;

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

std::string user(int i) { return "user" + std::to_string(100 + i); }

// `users` users, `tries` failed attempts each, spread over `servers` servers.
void spray(Detect& run, double t0, int users, int tries, int servers, const char* proto = "smb", uint16_t port = 445,
           const char* src = "10.0.0.66") {
  double t = t0;
  for (int u = 0; u < users; ++u) {
    const std::string server = "10.0.1." + std::to_string(u % servers + 1);
    for (int k = 0; k < tries; ++k) {
      run.set->on_record(auth(t, src, server.c_str(), port, proto, user(u).c_str(), AuthOutcome::kFailure));
      t += 1;
    }
  }
}

TEST(Spray, TenUsersOneTryEachAcrossServersIsASpray) {
  Detect run("spray");
  spray(run, 0, 10, 1, 3);
  auto fs = ours(run.finish());
  auto sp = with_id(fs, "bruteforce.spray");
  ASSERT_EQ(sp.size(), 1u);
  const Finding& f = *sp[0];
  EXPECT_EQ(f.src, "10.0.0.66");
  EXPECT_EQ(f.attack, "T1110.003");
  EXPECT_EQ(f.service, "smb");
  EXPECT_EQ(f.dst_count, 3u);
  EXPECT_EQ(f.dst, (std::vector<std::string>{"10.0.1.1", "10.0.1.2", "10.0.1.3"}));
  EXPECT_EQ(count_of(f, "users"), 10u);
  EXPECT_EQ(count_of(f, "failures"), 10u);
  EXPECT_EQ(f.severity, Severity::kMedium);
  EXPECT_EQ(f.ts, at(0));
  EXPECT_EQ(f.last_ts, at(9));
  EXPECT_NE(f.summary.find("sprayed SMB logins over 10 users (1.0 tries each, 10 failed) on 3 servers"),
            std::string::npos)
      << f.summary;
}

TEST(Spray, NineUsersIsNot) {
  Detect run("spray");
  spray(run, 0, 9, 1, 1);
  EXPECT_TRUE(ours(run.finish()).empty());
}

TEST(Spray, ManyTriesPerUserIsBruteForceNotSpray) {
  Detect run("spray");
  spray(run, 0, 10, 4, 1);  // 4 > spray.max_attempts_per_user (3)
  EXPECT_TRUE(ours(run.finish()).empty());
  Detect run3("spray");
  spray(run3, 0, 10, 3, 1);  // at the limit
  EXPECT_EQ(with_id(run3.finish(), "bruteforce.spray").size(), 1u);
}

TEST(Spray, TriesAreCountedPerServer) {
  // The same 10 users once on each of 5 servers: one try per user and server.
  Detect run("spray");
  for (int s = 0; s < 5; ++s) {
    const std::string server = "10.0.1." + std::to_string(s + 1);
    for (int u = 0; u < 10; ++u) {
      run.set->on_record(auth(s * 10 + u, "10.0.0.66", server.c_str(), 143, "imap", user(u).c_str(),
                              AuthOutcome::kFailure));
    }
  }
  auto fs = ours(run.finish());
  auto sp = with_id(fs, "bruteforce.spray");
  ASSERT_EQ(sp.size(), 1u);
  EXPECT_EQ(sp[0]->dst_count, 5u);
}

TEST(Spray, MostlySuccessfulLoginsAreAGatewayNotASpray) {
  // A webmail server logging its users in to IMAP: many users, few failures.
  Detect run("spray");
  for (int u = 0; u < 40; ++u) {
    const AuthOutcome o = u % 4 == 0 ? AuthOutcome::kFailure : AuthOutcome::kSuccess;
    run.set->on_record(auth(u, "10.0.0.20", "10.0.0.25", 143, "imap", user(u).c_str(), o));
  }
  EXPECT_TRUE(ours(run.finish()).empty());
}

TEST(Spray, SuccessAfterTheSprayIsCritical) {
  Detect run("spray");
  spray(run, 0, 15, 1, 1, "http", 80);
  run.set->on_record(auth(100, "10.0.0.66", "10.0.1.1", 80, "http", "svc-backup", AuthOutcome::kSuccess));
  auto fs = ours(run.finish());
  auto ok = with_id(fs, "bruteforce.success");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0]->severity, Severity::kCritical);
  EXPECT_EQ(count_of(*ok[0], "failures_before"), 15u);
  EXPECT_NE(ok[0]->summary.find("as svc-backup at 2023-11-14 22:15:00 UTC after spraying 15 users"),
            std::string::npos)
      << ok[0]->summary;
  EXPECT_EQ(with_id(fs, "bruteforce.spray").size(), 1u);
}

TEST(Spray, EpisodesAndServicesAreSeparate) {
  Detect run("spray");
  spray(run, 0, 5, 1, 1, "smb", 445);
  spray(run, 10, 5, 1, 1, "imap", 143);
  spray(run, 100000, 5, 1, 1, "smb", 445);
  EXPECT_TRUE(ours(run.finish()).empty());
}

TEST(Spray, HighSeverityWithManyUsersAndCapsHold) {
  Detect run("spray");
  spray(run, 0, 6000, 1, 7);
  auto fs = ours(run.finish());
  auto sp = with_id(fs, "bruteforce.spray");
  ASSERT_EQ(sp.size(), 1u);
  EXPECT_EQ(sp[0]->severity, Severity::kHigh);
  EXPECT_GE(count_of(*sp[0], "users"), 6000u);
  EXPECT_LE(sp[0]->evidence.size(), 20u);
  EXPECT_EQ(sp[0]->evidence_total, 6000u);
  EXPECT_LE(sp[0]->dst.size(), 10u);
}

TEST(Spray, EmptyUsersAndSshAreIgnored) {
  Detect run("spray");
  for (int i = 0; i < 50; ++i) {
    run.set->on_record(auth(i, "10.0.0.66", "10.0.0.9", 22, "ssh", "", AuthOutcome::kFailure));
    run.set->on_record(auth(i, "10.0.0.66", "10.0.0.9", 21, "ftp", "", AuthOutcome::kFailure));
  }
  EXPECT_TRUE(ours(run.finish()).empty());
}

// Both detectors together: a spray on one server is reported once, as a spray.
TEST(Spray, BruteforceLeavesSprayRunsToSpray) {
  Config config;
  DetectorSet set(config, {"bruteforce", "spray"});
  for (int u = 0; u < 12; ++u) {
    set.on_record(auth(u, "10.0.0.66", "10.0.0.9", 21, "ftp", user(u).c_str(), AuthOutcome::kFailure));
  }
  set.on_record(auth(20, "10.0.0.66", "10.0.0.9", 21, "ftp", "user105", AuthOutcome::kSuccess));
  auto fs = ours(set.finish());
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(with_id(fs, "bruteforce.spray").size(), 1u);
  EXPECT_EQ(with_id(fs, "bruteforce.success").size(), 1u);
  EXPECT_TRUE(with_id(fs, "bruteforce.ftp").empty());
  // Both read the same spray thresholds with the same defaults.
  EXPECT_EQ(config.entries().at("spray.min_users").default_value, 10);
  EXPECT_EQ(config.entries().at("spray.max_attempts_per_user").default_value, 3);
}

}  // namespace
}  // namespace trawl::detect

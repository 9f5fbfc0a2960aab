// worm.smb_scan: internal SMB sweeps, told apart from file-server clients and
// from plain SYN scans.
#include <gtest/gtest.h>

#include "detect_test_util.h"

namespace trawl::detect {
namespace {

using flow::ConnState;
using testing::ConnBuilder;
using Harness = testing::Run;
using testing::with_id;

constexpr uint8_t kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kFin = 0x01;

flow::ConnRecord smb_syn(double t, const char* src, const std::string& dst, uint16_t port) {
  return ConnBuilder(t, src, 1050, dst.c_str(), port).state(ConnState::kS0, "S").pkts(1, 0).flags(kSyn, kSyn, 0);
}
flow::ConnRecord smb_session(double t, const char* src, const std::string& dst) {
  return ConnBuilder(t, src, 50000, dst.c_str(), 445)
      .state(ConnState::kSF, "ShADadFf")
      .bytes(4000, 12000)
      .pkts(20, 20)
      .flags(kSyn, kSyn | kAck | kPsh | kFin, kSyn | kAck | kPsh | kFin)
      .duration(3);
}

uint64_t count(const Finding& f, const std::string& name) {
  for (const auto& [k, v] : f.counts) {
    if (k == name) return v;
  }
  return UINT64_MAX;
}

std::string host(int i) { return "10.0.1." + std::to_string(i); }

TEST(Worm445, SweepOf445And139IsAWorm) {
  Harness run("worm445");
  for (int i = 0; i < 30; ++i) {
    run.set->on_conn(smb_syn(i, "10.0.0.5", host(i), 445));
    run.set->on_conn(smb_syn(i + 0.1, "10.0.0.5", host(i), 139));
  }
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 1u);
  const Finding& f = fs[0];
  EXPECT_EQ(f.id, "worm.smb_scan");
  EXPECT_EQ(f.src, "10.0.0.5");
  EXPECT_EQ(f.dst_count, 30u);
  EXPECT_EQ(f.ports, (std::vector<uint16_t>{139, 445}));
  EXPECT_EQ(count(f, "failed_hosts"), 30u);
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.attack, "T1210");
  EXPECT_NE(f.summary.find("on 30 internal hosts (10.0.1.0/24)"), std::string::npos) << f.summary;
  EXPECT_NE(f.details.find("Lateral Movement"), std::string::npos);
}

TEST(Worm445, HostThresholdBoundary) {
  for (int n : {19, 20}) {
    Harness run("worm445");
    for (int i = 0; i < n; ++i) run.set->on_conn(smb_syn(i, "10.0.0.5", host(i), 445));
    EXPECT_EQ(run.finish().size(), n == 20 ? 1u : 0u) << n;
  }
}

TEST(Worm445, FileServerClientsAreNotWorms) {
  Harness run("worm445");
  // An admin touching a few shares, and a client of 25 file servers that all work.
  for (int i = 0; i < 5; ++i) run.set->on_conn(smb_session(i, "10.0.0.6", host(i)));
  for (int i = 0; i < 25; ++i) run.set->on_conn(smb_session(i, "10.0.0.7", host(100 + i)));
  // 25 hosts, 15 with working sessions: below the failed share.
  for (int i = 0; i < 15; ++i) run.set->on_conn(smb_session(i, "10.0.0.8", host(i)));
  for (int i = 15; i < 25; ++i) run.set->on_conn(smb_syn(i, "10.0.0.8", host(i), 445));
  EXPECT_TRUE(run.finish().empty());
}

TEST(Worm445, OnlyInternalToInternal) {
  Harness run("worm445");
  for (int i = 0; i < 40; ++i) {
    run.set->on_conn(smb_syn(i, "10.0.0.5", "198.51.100." + std::to_string(i), 445));  // to the internet
    run.set->on_conn(smb_syn(i, "203.0.113.9", host(i), 445));                           // from the internet
  }
  EXPECT_TRUE(run.finish().empty());
}

TEST(Worm445, CriticalAtScale) {
  Harness run("worm445");
  for (int i = 0; i < 300; ++i) {
    run.set->on_conn(smb_syn(i * 0.01, "10.0.0.5", "10.0." + std::to_string(2 + i / 250) + "." + std::to_string(i % 250), 445));
  }
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].severity, Severity::kCritical);
  EXPECT_NE(fs[0].details.find("\"subnets\":[{\"net\":\"10.0.2.0/24\",\"probes\":250}"), std::string::npos)
      << fs[0].details;
}

TEST(Worm445, ReplacesTheSynScanOfTheSameSweep) {
  Config config;
  DetectorSet set(config, {"scan", "worm445"});
  for (int i = 0; i < 30; ++i) {
    set.on_conn(smb_syn(i, "10.0.0.5", host(i), 445));
    set.on_conn(smb_syn(i + 0.1, "10.0.0.5", host(i), 139));
  }
  set.on_conn(smb_syn(5, "10.0.0.5", "203.0.113.1", 80));  // one stray probe elsewhere
  // Another host SYN-scans many ports including 445: stays a scan.
  for (uint16_t p = 1; p <= 100; ++p) set.on_conn(smb_syn(p, "10.0.0.9", "10.0.1.1", p == 50 ? 445 : p));
  auto fs = set.finish();
  auto worms = with_id(fs, "worm.smb_scan");
  ASSERT_EQ(worms.size(), 1u);
  EXPECT_EQ(count(*worms[0], "replaced_scan_probes"), 61u);
  auto scans = with_id(fs, "scan.tcp_syn");
  ASSERT_EQ(scans.size(), 1u);
  EXPECT_EQ(scans[0]->src, "10.0.0.9");
}

}  // namespace
}  // namespace trawl::detect

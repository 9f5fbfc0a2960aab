// sweep.arp and sweep.icmp host discovery, on synthetic ARP and ICMP records.
#include <gtest/gtest.h>

#include "detect_test_util.h"

namespace trawl::detect {
namespace {

using flow::ConnState;
using testing::arp_request;
using testing::ConnBuilder;
using Harness = testing::Run;
using testing::with_id;

output::ArpRecord arp_reply(double t, const char* sender, const char* target) {
  output::ArpRecord a = arp_request(t, sender, target);
  a.op = 2;
  return a;
}

flow::ConnRecord echo(double t, const char* src, const char* dst, bool answered) {
  return ConnBuilder(t, src, 8, dst, 0, 1).state(ConnState::kOTH, "").pkts(1, answered ? 1 : 0);
}

uint64_t count(const Finding& f, const std::string& name) {
  for (const auto& [k, v] : f.counts) {
    if (k == name) return v;
  }
  return UINT64_MAX;
}

std::string host(const char* prefix, int i) { return std::string(prefix) + std::to_string(i); }

TEST(Sweep, ArpSweepWithItsAnsweringHosts) {
  Harness run("sweep");
  for (int i = 1; i <= 254; ++i) run.set->on_arp(arp_request(i * 0.01, "192.168.1.247", host("192.168.1.", i).c_str()));
  for (int i : {1, 20, 30}) run.set->on_arp(arp_reply(3, host("192.168.1.", i).c_str(), "192.168.1.247"));
  run.set->on_arp(arp_request(4, "192.168.1.50", "192.168.1.50"));  // gratuitous: ignored
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 1u);
  const Finding& f = fs[0];
  EXPECT_EQ(f.id, "sweep.arp");
  EXPECT_EQ(f.src, "192.168.1.247");
  EXPECT_EQ(f.dst_count, 253u);  // not its own address
  EXPECT_EQ(count(f, "alive"), 3u);
  EXPECT_EQ(f.attack, "T1018");
  EXPECT_EQ(f.severity, Severity::kMedium);
  EXPECT_NE(f.details.find("\"alive_hosts\":[\"192.168.1.1\",\"192.168.1.20\",\"192.168.1.30\"]"), std::string::npos)
      << f.details;
  EXPECT_NE(f.summary.find("asked ARP who-has for 253 addresses"), std::string::npos) << f.summary;
}

TEST(Sweep, ArpThresholdBoundary) {
  for (int n : {29, 30}) {
    Harness run("sweep");
    for (int i = 1; i <= n; ++i) {
      run.set->on_arp(arp_request(i, "10.0.0.5", host("10.0.0.", 100 + i).c_str()));
      run.set->on_arp(arp_request(i + 0.5, "10.0.0.5", host("10.0.0.", 100 + i).c_str()));  // repeats do not count
    }
    EXPECT_EQ(with_id(run.finish(), "sweep.arp").size(), n == 30 ? 1u : 0u) << n;
  }
}

TEST(Sweep, GatewayResolvingLiveClientsIsLowConfidence) {
  Harness run("sweep");
  for (int i = 1; i <= 40; ++i) {
    run.set->on_arp(arp_request(i, "10.0.0.1", host("10.0.0.", 100 + i).c_str()));
    run.set->on_arp(arp_reply(i + 0.001, host("10.0.0.", 100 + i).c_str(), "10.0.0.1"));
  }
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].severity, Severity::kLow);
  EXPECT_DOUBLE_EQ(fs[0].confidence, 0.5);
}

TEST(Sweep, IcmpPingSweep) {
  Harness run("sweep");
  for (int i = 1; i <= 12; ++i) run.set->on_conn(echo(i * 0.1, "192.168.1.109", host("192.168.1.", i).c_str(), i <= 5));
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 1u);
  const Finding& f = fs[0];
  EXPECT_EQ(f.id, "sweep.icmp");
  EXPECT_EQ(f.src, "192.168.1.109");
  EXPECT_EQ(f.dst_count, 12u);
  EXPECT_EQ(count(f, "alive"), 5u);
  EXPECT_EQ(f.severity, Severity::kMedium);  // internal to internal
  EXPECT_EQ(f.evidence_total, 12u);
  EXPECT_NE(f.summary.find("pinged 12 hosts"), std::string::npos) << f.summary;
}

TEST(Sweep, IcmpThresholdAndNonEcho) {
  Harness run("sweep");
  for (int i = 1; i <= 9; ++i) run.set->on_conn(echo(i, "10.0.0.5", host("10.0.1.", i).c_str(), true));
  // Unreachables sent to many hosts (a router's answers) are not echo requests.
  for (int i = 1; i <= 30; ++i) {
    run.set->on_conn(ConnBuilder(i, "10.0.0.1", 3, host("10.0.2.", i).c_str(), 3, 1).state(ConnState::kOTH, "").pkts(1, 0));
  }
  EXPECT_TRUE(run.finish().empty());
  Harness lower("sweep", {"sweep.icmp_min_hosts=9"});
  for (int i = 1; i <= 9; ++i) lower.set->on_conn(echo(i, "10.0.0.5", host("10.0.1.", i).c_str(), true));
  EXPECT_EQ(lower.finish().size(), 1u);
}

TEST(Sweep, HostileVolumeIsBounded) {
  Harness run("sweep", {"sweep.max_distinct=50", "sweep.max_alive_listed=5"});
  for (int i = 0; i < 5000; ++i) {
    std::string dst = "10." + std::to_string(i / 250) + ".0." + std::to_string(i % 250 + 1);
    run.set->on_conn(echo(i * 0.001, "10.0.0.5", dst.c_str(), true));
  }
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_LE(fs[0].evidence.size(), 20u);
  EXPECT_LE(fs[0].dst.size(), 20u);
  EXPECT_GE(fs[0].dst_count, 50u);
  EXPECT_NE(fs[0].details.find("\"saturated\":true"), std::string::npos);
}

}  // namespace
}  // namespace trawl::detect

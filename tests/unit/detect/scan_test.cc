// scan.* port scans typed by their probes, on synthetic conn records.
#include <gtest/gtest.h>

#include "detect_test_util.h"

namespace trawl::detect {
namespace {

using flow::ConnState;
using testing::ConnBuilder;
using Harness = testing::Run;
using testing::with_id;

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20;

// A SYN probe to a closed port: RST-ACK back.
flow::ConnRecord refused(double t, const char* src, const char* dst, uint16_t port) {
  return ConnBuilder(t, src, 40000, dst, port).state(ConnState::kREJ, "Sr").pkts(1, 1).flags(kSyn, kSyn, kRst | kAck);
}
// A SYN probe nobody answered.
flow::ConnRecord silent(double t, const char* src, const char* dst, uint16_t port) {
  return ConnBuilder(t, src, 40000, dst, port).state(ConnState::kS0, "S").pkts(1, 0).flags(kSyn, kSyn, 0);
}
// Half-open: SYN, SYN-ACK, RST from the scanner.
flow::ConnRecord half_open(double t, const char* src, const char* dst, uint16_t port) {
  return ConnBuilder(t, src, 40000, dst, port)
      .state(ConnState::kRSTO, "ShR")
      .pkts(2, 1)
      .flags(kSyn, kSyn | kRst, kSyn | kAck)
      .duration(0.001);
}
// A connect probe: full handshake, then an immediate RST.
flow::ConnRecord connected(double t, const char* src, const char* dst, uint16_t port) {
  return ConnBuilder(t, src, 40000, dst, port)
      .state(ConnState::kRSTO, "ShAR")
      .pkts(3, 1)
      .flags(kSyn, kSyn | kAck | kRst, kSyn | kAck)
      .duration(0.002);
}
// A one-packet stealth probe with the given flags, answered by RST.
flow::ConnRecord stealth(double t, const char* src, const char* dst, uint16_t port, uint8_t flags) {
  return ConnBuilder(t, src, 40000, dst, port).state(ConnState::kRSTR, "r").pkts(1, 1).flags(flags, flags, kRst | kAck);
}
flow::ConnRecord udp_probe(double t, const char* src, const char* dst, uint16_t port, bool answered) {
  ConnBuilder b(t, src, 53000, dst, port, 17);
  b.state(answered ? ConnState::kSF : ConnState::kS0, answered ? "Dd" : "D").pkts(1, answered ? 1 : 0);
  if (answered) b.bytes(20, 40).duration(0.01);
  return b;
}

// Findings as JSON without the evidence uids (the test builders number
// connections globally, so two runs differ only there).
std::string json(std::vector<Finding> fs) {
  std::string out;
  for (auto& f : fs) {
    f.evidence.clear();
    append_finding_json(f, out);
  }
  return out;
}

uint64_t count(const Finding& f, const std::string& name) {
  for (const auto& [k, v] : f.counts) {
    if (k == name) return v;
  }
  return UINT64_MAX;
}

TEST(Scan, SynScanOfOneHostIsVerticalWithItsOpenPorts) {
  Harness run("scan");
  for (uint16_t p = 1; p <= 28; ++p) run.set->on_conn(refused(p * 0.01, "10.0.0.5", "10.0.0.9", p));
  run.set->on_conn(half_open(0.5, "10.0.0.5", "10.0.0.9", 445));
  run.set->on_conn(half_open(0.6, "10.0.0.5", "10.0.0.9", 139));
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 1u);
  const Finding& f = fs[0];
  EXPECT_EQ(f.id, "scan.tcp_syn");
  EXPECT_EQ(f.src, "10.0.0.5");
  EXPECT_EQ(f.dst, std::vector<std::string>{"10.0.0.9"});
  EXPECT_EQ(f.dst_count, 1u);
  EXPECT_EQ(count(f, "ports"), 30u);
  EXPECT_EQ(count(f, "open"), 2u);
  EXPECT_EQ(f.attack, "T1046");
  EXPECT_EQ(f.severity, Severity::kMedium);  // small, but internal to internal
  EXPECT_DOUBLE_EQ(f.confidence, 0.9);
  EXPECT_NE(f.summary.find("SYN-scanned 30 ports of 10.0.0.9"), std::string::npos) << f.summary;
  EXPECT_NE(f.summary.find("2 open: 139, 445"), std::string::npos) << f.summary;
  EXPECT_NE(f.details.find("\"shape\":\"vertical\""), std::string::npos);
  EXPECT_NE(f.details.find("\"open_ports\":[139,445]"), std::string::npos) << f.details;
  EXPECT_EQ(f.evidence_total, 30u);
}

TEST(Scan, ConnectScanIsReportedOnceAndNotAsSynScan) {
  Harness run("scan");
  for (uint16_t p = 1; p <= 27; ++p) run.set->on_conn(refused(p * 0.01, "10.0.0.5", "10.0.0.9", p));
  for (uint16_t p : {22, 80, 443}) run.set->on_conn(connected(1, "10.0.0.5", "10.0.0.9", p));
  // A late SYN-ACK whose ACK was lost looks half-open; it must not split the scan.
  run.set->on_conn(half_open(1.5, "10.0.0.5", "10.0.0.9", 8080));
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].id, "scan.tcp_connect");
  EXPECT_TRUE(with_id(fs, "scan.tcp_syn").empty());
  EXPECT_EQ(count(fs[0], "open"), 4u);
}

TEST(Scan, PortThresholdBoundary) {
  {
    Harness run("scan");
    for (uint16_t p = 1; p <= 19; ++p) run.set->on_conn(refused(p, "10.0.0.5", "10.0.0.9", p));
    EXPECT_TRUE(run.finish().empty());
  }
  {
    Harness run("scan");
    for (uint16_t p = 1; p <= 20; ++p) run.set->on_conn(refused(p, "10.0.0.5", "10.0.0.9", p));
    EXPECT_EQ(with_id(run.finish(), "scan.tcp_syn").size(), 1u);
  }
  {
    Harness run("scan", {"scan.min_ports=25"});
    for (uint16_t p = 1; p <= 20; ++p) run.set->on_conn(refused(p, "10.0.0.5", "10.0.0.9", p));
    EXPECT_TRUE(run.finish().empty());
    EXPECT_EQ(run.config.entries().at("scan.min_ports").default_value, 20);
  }
}

TEST(Scan, StealthProbesAreTypedByTheirFlags) {
  Harness run("scan");
  struct Case {
    const char* src;
    uint8_t flags;
  } cases[] = {{"10.0.0.1", kFin}, {"10.0.0.2", 0}, {"10.0.0.3", kFin | kPsh | kUrg}, {"10.0.0.4", kAck}};
  for (const auto& c : cases) {
    for (uint16_t p = 1; p <= 25; ++p) run.set->on_conn(stealth(p * 0.01, c.src, "10.0.0.9", p, c.flags));
  }
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 4u);
  auto one = [&](const char* id, const char* src) {
    auto v = with_id(fs, id);
    ASSERT_EQ(v.size(), 1u) << id;
    EXPECT_EQ(v[0]->src, src);
    EXPECT_EQ(count(*v[0], "ports"), 25u);
  };
  one("scan.tcp_fin", "10.0.0.1");
  one("scan.tcp_null", "10.0.0.2");
  one("scan.tcp_xmas", "10.0.0.3");
  one("scan.tcp_ack", "10.0.0.4");
  EXPECT_NE(with_id(fs, "scan.tcp_ack")[0]->details.find("window"), std::string::npos);
  EXPECT_DOUBLE_EQ(with_id(fs, "scan.tcp_xmas")[0]->confidence, 0.95);
}

TEST(Scan, StrayAcksOfLiveConnectionsAreNotAnAckScan) {
  Harness run("scan");
  // Keepalive ACKs after the flow expired: answered by ACK, not RST.
  for (uint16_t p = 1; p <= 30; ++p) {
    run.set->on_conn(ConnBuilder(p, "10.0.0.5", 40000, "10.0.0.9", p).state(ConnState::kOTH, "Aa").pkts(1, 1).flags(
        kAck, kAck, kAck));
  }
  EXPECT_TRUE(run.finish().empty());
}

TEST(Scan, ResponderOnlyRecordsAreNotNullProbes) {
  Harness run("scan");
  // Seen only from the server side (originator sent nothing): first flags 0.
  for (uint16_t p = 1; p <= 30; ++p) {
    run.set->on_conn(ConnBuilder(p, "10.0.0.5", 40000, "10.0.0.9", p).state(ConnState::kOTH, "^h").pkts(0, 1).flags(
        0, 0, kSyn | kAck));
  }
  EXPECT_TRUE(run.finish().empty());
}

TEST(Scan, HorizontalAndBlockShapes) {
  Harness run("scan");
  char host[32];
  for (int h = 1; h <= 25; ++h) {
    std::snprintf(host, sizeof host, "10.1.0.%d", h);
    run.set->on_conn(silent(h, "10.0.0.5", host, 22));
  }
  for (int h = 1; h <= 25; ++h) {
    std::snprintf(host, sizeof host, "10.2.0.%d", h);
    for (uint16_t p = 1; p <= 25; ++p) run.set->on_conn(stealth(h + p * 0.001, "10.0.0.6", host, p, kFin));
  }
  auto fs = run.finish();
  auto h = with_id(fs, "scan.tcp_syn");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0]->dst_count, 25u);
  EXPECT_EQ(h[0]->dst.size(), 20u);  // a sample
  EXPECT_NE(h[0]->details.find("\"shape\":\"horizontal\""), std::string::npos);
  EXPECT_NE(h[0]->summary.find("SYN-scanned port 22 on 25 hosts"), std::string::npos) << h[0]->summary;
  auto b = with_id(fs, "scan.tcp_fin");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_NE(b[0]->details.find("\"shape\":\"block\""), std::string::npos);
  EXPECT_EQ(count(*b[0], "probes"), 625u);
}

TEST(Scan, IdleGapSplitsEpisodes) {
  auto feed = [](Harness& run) {
    for (uint16_t p = 1; p <= 25; ++p) run.set->on_conn(refused(p, "10.0.0.5", "10.0.0.9", p));
    for (uint16_t p = 1; p <= 25; ++p) run.set->on_conn(refused(725 + p, "10.0.0.5", "10.0.0.9", p));
  };
  Harness split("scan");
  feed(split);
  auto fs = split.finish();
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(count(fs[0], "probes"), 25u);
  Harness joined("scan", {"scan.episode_gap_s=1000"});
  feed(joined);
  auto one = joined.finish();
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(count(one[0], "probes"), 50u);
}

TEST(Scan, UdpScanCountsIcmpUnreachableReplies) {
  Harness run("scan");
  for (uint16_t p = 1; p <= 30; ++p) run.set->on_conn(udp_probe(p * 0.01, "10.0.0.5", "10.0.0.9", p, p == 7));
  // The target's port-unreachable replies: one ICMP record, target -> scanner.
  run.set->on_conn(
      ConnBuilder(0.02, "10.0.0.9", 3, "10.0.0.5", 3, 1).state(ConnState::kOTH, "").pkts(28, 0).duration(0.3));
  auto fs = run.finish();
  auto u = with_id(fs, "scan.udp");
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0]->src, "10.0.0.5");
  EXPECT_EQ(count(*u[0], "open"), 1u);
  EXPECT_NE(u[0]->details.find("\"icmp_unreachable\":28"), std::string::npos) << u[0]->details;
  EXPECT_NE(u[0]->summary.find("28 ICMP unreachable"), std::string::npos);
}

TEST(Scan, AnsweredUdpServiceTrafficIsNotAScan) {
  Harness run("scan");
  char host[32];
  for (int h = 1; h <= 40; ++h) {
    std::snprintf(host, sizeof host, "198.51.100.%d", h);
    run.set->on_conn(udp_probe(h, "10.0.0.53", host, 53, h % 4 != 0));  // a resolver, 75% answered
  }
  // NetBIOS name service chatter (137 -> 137) and multicast are not probes.
  for (int h = 1; h <= 40; ++h) {
    std::snprintf(host, sizeof host, "10.0.3.%d", h);
    run.set->on_conn(ConnBuilder(h, "10.0.0.7", 137, host, 137, 17).state(ConnState::kS0, "D").pkts(1, 0));
    run.set->on_conn(ConnBuilder(h, "10.0.0.7", 5353, "224.0.0.251", static_cast<uint16_t>(h), 17)
                         .state(ConnState::kS0, "D")
                         .pkts(1, 0));
  }
  EXPECT_TRUE(run.finish().empty());
}

TEST(Scan, IpProtocolScan) {
  Harness run("scan");
  int n = 0;
  for (uint8_t proto = 0; proto < 20; ++proto) {
    if (proto == 1 || proto == 6 || proto == 17) continue;
    run.set->on_conn(ConnBuilder(proto * 0.001, "10.0.0.5", 0, "10.0.0.9", 0, proto).state(ConnState::kOTH, "").pkts(1, 0));
    ++n;
  }
  auto fs = run.finish();
  auto f = with_id(fs, "scan.ip_proto");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(count(*f[0], "protocols"), static_cast<uint64_t>(n));
  EXPECT_NE(f[0]->summary.find("probed 17 IP protocol numbers of 10.0.0.9"), std::string::npos) << f[0]->summary;
}

TEST(Scan, BrowsingIsNotAScan) {
  Harness run("scan");
  char host[32];
  for (int h = 1; h <= 60; ++h) {
    std::snprintf(host, sizeof host, "203.0.113.%d", h);
    // Real requests with data.
    run.set->on_conn(ConnBuilder(h, "10.0.0.5", static_cast<uint16_t>(50000 + h), host, 443)
                         .state(ConnState::kSF, "ShADadFf")
                         .bytes(500, 9000)
                         .pkts(8, 9)
                         .flags(kSyn, kSyn | kAck | kPsh | kFin, kSyn | kAck | kPsh | kFin)
                         .duration(2));
    // A browser's pre-connect: opened, idle, closed seconds later, no data.
    run.set->on_conn(ConnBuilder(h + 0.5, "10.0.0.5", static_cast<uint16_t>(60000 + h), host, 80)
                         .state(ConnState::kSF, "ShAFf")
                         .pkts(4, 2)
                         .flags(kSyn, kSyn | kAck | kFin, kSyn | kAck | kFin)
                         .duration(5.3));
  }
  EXPECT_TRUE(run.finish().empty());
}

TEST(Scan, SeverityFollowsScaleAndDirection) {
  Harness run("scan");
  for (uint16_t p = 1; p <= 30; ++p) run.set->on_conn(silent(p, "198.51.100.7", "10.0.0.9", p));       // ext -> int, small
  for (uint16_t p = 1; p <= 200; ++p) run.set->on_conn(silent(p, "10.0.0.5", "203.0.113.9", p));       // int -> ext, large
  for (uint16_t p = 1; p <= 200; ++p) run.set->on_conn(refused(p, "10.0.0.6", "10.0.0.9", p));        // int -> int, large
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 3u);
  for (const auto& f : fs) {
    if (f.src == "198.51.100.7") EXPECT_EQ(f.severity, Severity::kLow);
    if (f.src == "10.0.0.5") EXPECT_EQ(f.severity, Severity::kMedium);
    if (f.src == "10.0.0.6") EXPECT_EQ(f.severity, Severity::kHigh);
  }
}

TEST(Scan, HostileVolumeStaysBoundedAndDeterministic) {
  auto feed = [](Harness& run) {
    for (uint32_t i = 0; i < 20000; ++i) {
      std::string dst = "10.9." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
      run.set->on_conn(silent(i * 0.0001, "10.0.0.5", dst.c_str(), static_cast<uint16_t>(i % 3000 + 1)));
    }
  };
  Harness a("scan", {"scan.max_distinct=100"});
  feed(a);
  auto fa = a.finish();
  ASSERT_EQ(fa.size(), 1u);
  EXPECT_LE(fa[0].evidence.size(), 20u);
  EXPECT_EQ(fa[0].evidence_total, 20000u);
  EXPECT_LE(fa[0].dst.size(), 20u);
  EXPECT_GE(fa[0].dst_count, 100u);
  EXPECT_EQ(count(fa[0], "ports"), 3000u);  // ports are counted exactly, whatever the cap
  EXPECT_NE(fa[0].details.find("\"saturated\":true"), std::string::npos);
  Harness b("scan", {"scan.max_distinct=100"});
  feed(b);
  EXPECT_EQ(json(fa), json(b.finish()));
}

TEST(Scan, OddRecordsDoNotCrash) {
  Harness run("scan");
  run.set->on_conn(ConnBuilder(0, "10.0.0.5", 1, "10.0.0.5", 1).state(ConnState::kS0, "S").flags(kSyn, kSyn, 0));
  run.set->on_conn(ConnBuilder(0, "::", 0, "ff02::1", 0, 58));
  run.set->on_conn(ConnBuilder(0, "10.0.0.5", 0, "255.255.255.255", 0, 200));
  flow::ConnRecord empty;
  run.set->on_conn(empty);
  EXPECT_TRUE(run.finish().empty());
}

}  // namespace
}  // namespace trawl::detect

namespace trawl::detect {
namespace {

// A busy client whose failed outbound connections (to many hosts, on the
// usual ports) are outnumbered by its working ones is not scanning; the same
// failures without the working connections are a horizontal SYN scan.
flow::ConnRecord conversation(double t, const char* src, const char* dst, uint16_t port) {
  return testing::ConnBuilder(t, src, 41000, dst, port)
      .state(flow::ConnState::kSF, "ShADadFf")
      .pkts(6, 5)
      .bytes(400, 5000)
      .flags(0x02, 0x1b, 0x1b)
      .duration(0.5);
}

TEST(ScanBusyClient, FailedConnectionsOutnumberedByConversationsAreNoScan) {
  auto run = [](int conversations) {
    testing::Run h("scan");
    for (int i = 0; i < 30; ++i) {
      std::string dst = "198.51.100." + std::to_string(i + 1);
      h.set->on_conn(silent(i * 2.0, "10.0.0.7", dst.c_str(), i % 2 ? 443 : 80));
    }
    for (int i = 0; i < conversations; ++i) {
      std::string dst = "203.0.113." + std::to_string(i % 200 + 1);
      h.set->on_conn(conversation(i * 1.5, "10.0.0.7", dst.c_str(), 443));
    }
    return h.finish();
  };
  EXPECT_TRUE(testing::with_id(run(40), "scan.tcp_syn").empty());
  EXPECT_TRUE(testing::with_id(run(30), "scan.tcp_syn").empty());  // at the ratio (1.0): still a client
  ASSERT_EQ(testing::with_id(run(10), "scan.tcp_syn").size(), 1u);
  ASSERT_EQ(testing::with_id(run(0), "scan.tcp_syn").size(), 1u);
}

TEST(ScanBusyClient, AVerticalScanFromABusyHostIsStillAScan) {
  testing::Run h("scan");
  for (int i = 0; i < 50; ++i) h.set->on_conn(refused(i * 0.01, "10.0.0.7", "10.0.0.9", static_cast<uint16_t>(1000 + i)));
  for (int i = 0; i < 200; ++i) h.set->on_conn(conversation(i * 0.2, "10.0.0.7", "203.0.113.5", 443));
  EXPECT_EQ(testing::with_id(h.finish(), "scan.tcp_syn").size(), 1u);
}

}  // namespace
}  // namespace trawl::detect

namespace trawl::detect {
namespace {

// Traceroute's UDP probes (one port per hop from 33434) are not a UDP scan.
TEST(ScanTraceroute, UdpProbesToTheTracerouteRangeAreNotAScan) {
  testing::Run h("scan");
  for (int i = 0; i < 60; ++i) {
    h.set->on_conn(udp_probe(i * 0.05, "10.0.0.7", "198.51.100.20", static_cast<uint16_t>(33434 + i), false));
  }
  EXPECT_TRUE(testing::with_id(h.finish(), "scan.udp").empty());
  testing::Run h2("scan");
  for (int i = 0; i < 60; ++i) {
    h2.set->on_conn(udp_probe(i * 0.05, "10.0.0.7", "198.51.100.20", static_cast<uint16_t>(2000 + i), false));
  }
  EXPECT_EQ(testing::with_id(h2.finish(), "scan.udp").size(), 1u);
}

}  // namespace
}  // namespace trawl::detect

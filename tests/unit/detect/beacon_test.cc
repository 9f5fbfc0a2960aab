// The beacon detector over synthetic connection, TLS, HTTP and DNS records.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "analyzers/dns/dns_log_record.h"
#include "analyzers/http/http_record.h"
#include "analyzers/ssl/ssl_record.h"
#include "detect_test_util.h"

namespace trawl::detect {
namespace {

using testing::at;
using testing::ConnBuilder;
using testing::ip;
using DetRun = testing::Run;
using testing::with_id;

struct Lcg {
  uint64_t s;
  double next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) / 9007199254740992.0;
  }
};

// A SYN that got no answer (S0), as a beacon to a dead C2 server leaves.
flow::ConnRecord attempt(double t, const char* src, const char* dst, uint16_t port) {
  ConnBuilder b(t, src, static_cast<uint16_t>(40000 + static_cast<int>(t) % 20000), dst, port);
  b.state(flow::ConnState::kS0, "S").pkts(1, 0).flags(0x02, 0x02, 0);
  b.r.orig_ip_bytes = 60;
  return b.r;
}

flow::ConnRecord session(double t, const char* src, const char* dst, uint16_t port, uint64_t ob, uint64_t rb) {
  ConnBuilder b(t, src, static_cast<uint16_t>(40000 + static_cast<int>(t) % 20000), dst, port);
  b.state(flow::ConnState::kSF, "ShADadFf").bytes(ob, rb).pkts(6, 5).duration(0.3);
  b.r.orig_ip_bytes = ob + 6 * 52;
  b.r.resp_ip_bytes = rb + 5 * 52;
  return b.r;
}

std::string detail(const Finding& f, const std::string& key) {
  auto p = f.details.find("\"" + key + "\":");
  if (p == std::string::npos) return "";
  p += key.size() + 3;
  auto e = f.details.find_first_of(",}", p);
  if (f.details[p] == '[' || f.details[p] == '{') e = f.details.find_first_of("]}", p) + 1;
  return f.details.substr(p, e - p);
}

TEST(Beacon, ExampleS0EveryTwentyFourSecondsIsHigh) {
  DetRun run("beacon");
  Lcg r{3};
  for (int i = 0; i < 150; ++i) {
    run.set->on_conn(attempt(24.0 * i + (r.next() - 0.5) * 0.6, "172.25.112.96", "61.160.213.189", 7000));
  }
  auto fs = run.finish();
  auto b = with_id(fs, "beacon");
  ASSERT_EQ(b.size(), 1u);
  const Finding& f = *b[0];
  EXPECT_EQ(f.src, "172.25.112.96");
  EXPECT_EQ(f.dst, std::vector<std::string>{"61.160.213.189"});
  EXPECT_EQ(f.ports, std::vector<uint16_t>{7000});
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.attack, "T1071");
  EXPECT_EQ(f.evidence_total, 150u);
  EXPECT_EQ(f.ts, fs[0].ts);
  EXPECT_NE(f.summary.find("172.25.112.96 \xe2\x86\x92 61.160.213.189:7000 every 24.0 s \xc2\xb1 0."), std::string::npos)
      << f.summary;
  EXPECT_NE(f.summary.find("150 attempts, no data"), std::string::npos) << f.summary;
  EXPECT_EQ(detail(f, "dst_port"), "7000");
  EXPECT_EQ(detail(f, "count"), "150");
  EXPECT_EQ(detail(f, "no_data"), "true");
  EXPECT_GE(std::stod(detail(f, "score")), 0.9);
  EXPECT_GE(std::stod(detail(f, "ts_score")), 0.9);
  EXPECT_EQ(detail(f, "ds_score"), "1.000");
  EXPECT_EQ(detail(f, "dur_score"), "1.000");
  EXPECT_NEAR(std::stod(detail(f, "period_s")), 24.0, 0.3);
  EXPECT_LT(std::stod(detail(f, "jitter_s")), 0.4);
  EXPECT_FALSE(detail(f, "first").empty());
  EXPECT_TRUE(with_id(fs, "beacon.capped").empty());
}

TEST(Beacon, PoissonIntervalsWithVaryingSizesStayLow) {
  DetRun run("beacon");
  Lcg r{11};
  double t = 0;
  for (int i = 0; i < 150; ++i) {
    t += -24.0 * std::log(1.0 - r.next());
    run.set->on_conn(session(t, "172.25.112.96", "61.160.213.189", 443, static_cast<uint64_t>(r.next() * 9000),
                             static_cast<uint64_t>(r.next() * 90000)));
  }
  auto fs = run.finish();
  for (const auto* f : with_id(fs, "beacon")) {
    EXPECT_LE(f->severity, Severity::kLow) << f->summary;
    EXPECT_LT(std::stod(detail(*f, "ts_score")), 0.7);
  }
}

TEST(Beacon, UniqueTimesThresholdAndStrobes) {
  {
    DetRun run("beacon");
    for (int i = 0; i < 3; ++i) run.set->on_conn(attempt(60.0 * i, "10.0.0.5", "198.51.100.7", 80));
    run.set->on_conn(attempt(200, "10.0.0.9", "198.51.100.8", 80));  // widens the capture span
    EXPECT_TRUE(with_id(run.finish(), "beacon").empty());
  }
  {
    // Four connections are enough by default, not with the threshold at 5.
    for (double min_unique : {4.0, 5.0}) {
      DetRun run("beacon", {"beacon.min_unique_times=" + std::to_string(min_unique)});
      for (int i = 0; i < 4; ++i) run.set->on_conn(attempt(60.0 * i, "10.0.0.5", "198.51.100.7", 80));
      EXPECT_EQ(with_id(run.finish(), "beacon").size(), min_unique == 4.0 ? 1u : 0u);
    }
  }
  {
    // Many connections within the same seconds count once.
    DetRun run("beacon");
    for (int i = 0; i < 30; ++i) run.set->on_conn(attempt(60.0 * (i % 3) + 0.01 * i, "10.0.0.5", "198.51.100.7", 80));
    EXPECT_TRUE(with_id(run.finish(), "beacon").empty());
  }
  {
    DetRun run("beacon", {"beacon.strobe_connections=100"});
    for (int i = 0; i < 150; ++i) run.set->on_conn(attempt(5.0 * i, "10.0.0.5", "198.51.100.7", 80));
    EXPECT_TRUE(with_id(run.finish(), "beacon").empty());
  }
}

TEST(Beacon, SubSecondBurstsAreNotBeacons) {
  for (double min_period : {1.0, 0.1}) {
    DetRun run("beacon", {"beacon.min_period_s=" + std::to_string(min_period)});
    for (int i = 0; i < 100; ++i) run.set->on_conn(attempt(0.3 * i, "10.0.0.5", "198.51.100.53", 53));
    EXPECT_EQ(with_id(run.finish(), "beacon").size(), min_period == 1.0 ? 0u : 1u);
  }
}

TEST(Beacon, TlsSniGivesOneDomainFindingNotAlsoAnAddressOne) {
  DetRun run("beacon");
  for (int i = 0; i < 100; ++i) {
    auto c = session(2.0 * i, "147.32.80.37", i % 2 ? "141.193.213.21" : "141.193.213.20", 443, 517, 3900);
    c.service = "ssl";
    analyzers::ssl::SslRecord s;
    s.ts = c.ts;
    s.uid = c.uid;
    s.orig_h = c.orig_h;
    s.resp_h = c.resp_h;
    s.server_name = "Testing.COM";
    run.set->on_record(s);
    run.set->on_conn(c);
  }
  auto all = run.finish();
  auto fs = with_id(all, "beacon");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0]->src, "147.32.80.37");
  EXPECT_EQ(fs[0]->dst, std::vector<std::string>{"testing.com"});
  EXPECT_EQ(fs[0]->attack, "T1573");
  EXPECT_EQ(detail(*fs[0], "kind"), "\"domain\"");
  EXPECT_EQ(detail(*fs[0], "domain_from"), "{\"tls_sni\":100}");
  EXPECT_EQ(detail(*fs[0], "dst_ip_count"), "2");
  EXPECT_NE(fs[0]->summary.find("testing.com:443 (2 addresses) every 2.0 s"), std::string::npos) << fs[0]->summary;
  EXPECT_GE(fs[0]->severity, Severity::kMedium);
}

TEST(Beacon, HttpHostAndDnsAnswerNameTheDomain) {
  DetRun run("beacon");
  // DNS: the client resolved update.example.net to 203.0.113.9 once.
  analyzers::dns::DnsLogRecord q;
  q.ts = at(-1);
  q.orig_h = ip("10.1.1.1");
  q.resp_h = ip("10.1.1.53");
  q.query = "update.example.net";
  analyzers::dns::DnsAnswer a;
  a.address = ip("203.0.113.9");
  q.answers.push_back(a);
  run.set->on_record(q);
  for (int i = 0; i < 60; ++i) {
    run.set->on_conn(session(30.0 * i, "10.1.1.1", "203.0.113.9", 8443, 200, 400));
    auto c = session(30.0 * i + 5, "10.1.1.2", "198.51.100.20", 80, 300, 1200);
    analyzers::http::HttpRecord h;
    h.ts = c.ts;
    h.uid = c.uid;
    h.host = "cdn.Example.org:80";
    run.set->on_record(h);
    run.set->on_conn(c);
  }
  auto all = run.finish();
  auto fs = with_id(all, "beacon");
  ASSERT_EQ(fs.size(), 2u);
  for (const auto* f : fs) {
    if (f->src == "10.1.1.1") {
      EXPECT_EQ(f->dst, std::vector<std::string>{"update.example.net"});
      EXPECT_EQ(detail(*f, "domain_from"), "{\"dns\":60}");
    } else {
      EXPECT_EQ(f->dst, std::vector<std::string>{"cdn.example.org"});
      EXPECT_EQ(detail(*f, "domain_from"), "{\"http_host\":60}");
      EXPECT_EQ(f->attack, "T1071");
    }
  }
}

// A series holds its first connection inline and moves it into its
// containers at the second: every field comes out as if it had been in the
// containers from the start, also when the second connection is the earlier
// one, when a uid is empty, and when the first uid is too long to hold
// inline (those series use the containers from the first connection).
TEST(Beacon, FirstConnectionHeldInlineMovesIntoTheSeriesExactly) {
  for (size_t first_uid_len : {5u, 18u, 24u, 25u, 40u}) {
    DetRun run("beacon");
    std::vector<flow::ConnRecord> conns;
    for (int i = 0; i < 30; ++i) {
      conns.push_back(session(20.0 * i + 100, "10.9.9.9", "198.51.100.7", i % 3 == 1 ? 8443 : 443, 100, 200));
    }
    conns[0].uid = "C" + std::string(first_uid_len - 1, 'x');
    conns[2].uid.clear();  // counted, no evidence
    std::swap(conns[0], conns[1]);  // the later connection arrives first
    std::vector<std::string> want_uids;
    for (const auto& c : conns) {
      if (!c.uid.empty() && want_uids.size() < 10) want_uids.push_back(c.uid);
      run.set->on_conn(c);
    }
    const auto all = run.finish();
    auto fs = with_id(all, "beacon");
    ASSERT_EQ(fs.size(), 1u) << first_uid_len;
    const Finding& f = *fs[0];
    EXPECT_EQ(f.evidence, want_uids) << first_uid_len;
    EXPECT_EQ(f.evidence_total, 30u);
    EXPECT_EQ(f.ts, at(100));
    EXPECT_EQ(f.last_ts, at(20.0 * 29 + 100));
    EXPECT_EQ(f.ports, (std::vector<uint16_t>{443, 8443}));
    EXPECT_EQ(detail(f, "dst_ports"), "{\"443\":20,\"8443\":10}");
    EXPECT_EQ(detail(f, "count"), "30");
    EXPECT_EQ(detail(f, "scored"), "30");
    EXPECT_EQ(detail(f, "times_not_kept"), "0");
    EXPECT_EQ(detail(f, "orig_bytes"), "3000");
    EXPECT_EQ(detail(f, "period_s"), "20.000");
  }
}

// One DNS name linked for several addresses and clients is held once;
// a later answer for the same client and address relinks it to its name, and
// the links still name the domain series.
TEST(Beacon, SharedDnsNamesLinkEachClientAndAddress) {
  DetRun run("beacon");
  auto answer = [&](double t, const char* client, const char* name, std::vector<const char*> addrs) {
    analyzers::dns::DnsLogRecord q;
    q.ts = at(t);
    q.orig_h = ip(client);
    q.resp_h = ip("10.1.1.53");
    q.query = name;
    for (const char* a : addrs) {
      analyzers::dns::DnsAnswer x;
      x.address = ip(a);
      q.answers.push_back(x);
    }
    run.set->on_record(q);
  };
  answer(-3, "10.1.1.1", "old.example.net", {"203.0.113.9"});
  answer(-2, "10.1.1.1", "Cdn.Example.NET.", {"203.0.113.9", "203.0.113.10"});
  answer(-1, "10.1.1.2", "cdn.example.net", {"203.0.113.9", "203.0.113.10"});
  for (int i = 0; i < 40; ++i) {
    run.set->on_conn(session(30.0 * i, "10.1.1.1", i % 2 ? "203.0.113.10" : "203.0.113.9", 443, 200, 400));
    run.set->on_conn(session(30.0 * i + 7, "10.1.1.2", "203.0.113.10", 443, 200, 400));
  }
  const auto all = run.finish();
  auto fs = with_id(all, "beacon");
  ASSERT_EQ(fs.size(), 2u);
  for (const auto* f : fs) {
    EXPECT_EQ(f->dst, std::vector<std::string>{"cdn.example.net"}) << f->src;
    EXPECT_EQ(detail(*f, "domain_from"), "{\"dns\":40}");
    EXPECT_EQ(detail(*f, "dst_ip_count"), f->src == "10.1.1.1" ? "2" : "1");
  }
}

TEST(Beacon, InternalToInternalRanksLowerInboundAndMulticastAreIgnored) {
  DetRun run("beacon");
  for (int i = 0; i < 150; ++i) {
    run.set->on_conn(attempt(24.0 * i, "10.0.0.5", "198.51.100.7", 4444));
    run.set->on_conn(attempt(24.0 * i + 1, "10.0.0.6", "10.0.0.7", 4444));
    run.set->on_conn(attempt(24.0 * i + 2, "198.51.100.8", "10.0.0.8", 22));   // inbound
    run.set->on_conn(attempt(24.0 * i + 3, "10.0.0.9", "239.255.255.250", 1900));  // multicast
  }
  auto all = run.finish();
  auto fs = with_id(all, "beacon");
  ASSERT_EQ(fs.size(), 2u);
  const Finding* ext = fs[0]->src == "10.0.0.5" ? fs[0] : fs[1];
  const Finding* in = fs[0]->src == "10.0.0.5" ? fs[1] : fs[0];
  EXPECT_EQ(in->src, "10.0.0.6");
  EXPECT_LE(in->severity, ext->severity);
  EXPECT_NEAR(std::stod(detail(*ext, "threat_score")) - std::stod(detail(*in, "threat_score")), 0.15, 1e-9);
  EXPECT_EQ(detail(*in, "internal_to_internal"), "true");
  EXPECT_EQ(detail(*ext, "internal_to_internal"), "false");
}

TEST(Beacon, LargerInternalPenaltyLowersTheSeverity) {
  DetRun run("beacon", {"beacon.internal_penalty=0.3"});
  for (int i = 0; i < 150; ++i) run.set->on_conn(attempt(24.0 * i + 1, "10.0.0.6", "10.0.0.7", 4444));
  auto all = run.finish();
  auto fs = with_id(all, "beacon");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0]->severity, Severity::kMedium);
  EXPECT_NE(fs[0]->summary.find(", internal)"), std::string::npos);
}

TEST(Beacon, InboundCountsWhenAskedAndPenaltyIsConfigurable) {
  DetRun run("beacon", {"beacon.skip_inbound=0", "beacon.internal_penalty=0"});
  for (int i = 0; i < 150; ++i) {
    run.set->on_conn(attempt(24.0 * i + 2, "198.51.100.8", "10.0.0.8", 22));
    run.set->on_conn(attempt(24.0 * i + 1, "10.0.0.6", "10.0.0.7", 4444));
  }
  auto all = run.finish();
  auto fs = with_id(all, "beacon");
  ASSERT_EQ(fs.size(), 2u);
  for (const auto* f : fs) EXPECT_EQ(f->severity, Severity::kHigh);
}

TEST(Beacon, SafelistThresholdSkipsDestinationsManySourcesBeaconTo) {
  for (double thr : {0.0, 3.0}) {
    DetRun run("beacon", {"beacon.safelist_min_sources=" + std::to_string(thr)});
    for (int i = 0; i < 100; ++i) {
      for (const char* s : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) {
        run.set->on_conn(attempt(60.0 * i, s, "198.51.100.123", 123));
      }
      run.set->on_conn(attempt(60.0 * i + 7, "10.0.0.1", "198.51.100.66", 443));
    }
    auto all = run.finish();
  auto fs = with_id(all, "beacon");
    EXPECT_EQ(fs.size(), thr == 0 ? 4u : 1u);
  }
}

TEST(Beacon, CapsBoundStateAndAreReported) {
  DetRun run("beacon", {"beacon.max_series=10", "beacon.max_times_per_series=100"});
  // 50 pairs with two connections each fill the table; the beacon comes later.
  for (int k = 0; k < 50; ++k) {
    std::string dst = "198.51.100." + std::to_string(k + 1);
    run.set->on_conn(attempt(k, "10.0.0.1", dst.c_str(), 80));
    run.set->on_conn(attempt(k + 0.5, "10.0.0.1", dst.c_str(), 80));
  }
  for (int i = 0; i < 150; ++i) run.set->on_conn(attempt(100 + 24.0 * i, "10.0.0.2", "203.0.113.50", 7000));
  auto fs = run.finish();
  auto b = with_id(fs, "beacon");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(detail(*b[0], "count"), "150");
  EXPECT_LE(std::stoul(detail(*b[0], "scored")), 100u);
  EXPECT_GE(std::stoul(detail(*b[0], "times_not_kept")), 50u);
  auto c = with_id(fs, "beacon.capped");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]->severity, Severity::kInfo);
}

TEST(Beacon, StepsBackForABruteforceFindingBetweenTheSameHosts) {
  Registry reg;
  register_all_detectors(reg);
  for (bool defer : {true, false}) {
    Config config;
    std::string err;
    ASSERT_TRUE(config.parse_override(defer ? "beacon.defer_to_bruteforce=1" : "beacon.defer_to_bruteforce=0", err));
    std::unique_ptr<Detector> d;
    for (const auto& e : reg.entries()) {
      if (e.name == "beacon") d = e.make(config);
    }
    ASSERT_TRUE(d);
    for (int i = 0; i < 60; ++i) {
      d->on_conn(session(10.0 * i, "192.168.56.1", "192.168.56.101", 21, 150, 300));
      d->on_conn(session(10.0 * i + 3, "192.168.56.1", "198.51.100.4", 443, 150, 300));
    }
    std::vector<Finding> all;
    d->finish(all);
    ASSERT_EQ(all.size(), 2u);
    Finding bf;
    bf.id = "bruteforce.ftp";
    bf.src = "192.168.56.1";
    bf.dst = {"192.168.56.101"};
    all.push_back(bf);
    d->after(all);
    for (const auto& f : all) {
      if (f.id != "beacon") continue;
      bool same_hosts = f.dst[0] == "192.168.56.101";
      EXPECT_EQ(f.severity == Severity::kInfo, defer && same_hosts) << f.summary;
      EXPECT_EQ(f.details.find("\"superseded_by\":\"bruteforce.ftp\"") != std::string::npos, defer && same_hosts);
    }
  }
}

TEST(Beacon, HostileTimesAndEmptyInputDoNotCrash) {
  {
    DetRun run("beacon");
    EXPECT_TRUE(run.finish().empty());
  }
  DetRun run("beacon");
  for (int i = 0; i < 20; ++i) {
    auto c = attempt(i, "10.0.0.1", "198.51.100.1", 80);
    c.ts = core::Timestamp{i % 2 ? INT64_MAX - i : INT64_MIN + i};
    run.set->on_conn(c);
    auto d = attempt(0, "10.0.0.1", "198.51.100.2", 80);  // all in one instant
    d.uid.clear();
    run.set->on_conn(d);
  }
  analyzers::http::HttpRecord h;
  h.uid = "Cx";
  h.host = "[::1]:80";
  run.set->on_record(h);
  analyzers::ssl::SslRecord s;
  s.uid = "Cy";
  s.server_name = std::string(5000, 'a');
  run.set->on_record(s);
  auto fs = run.finish();
  for (const auto& f : fs) EXPECT_LE(f.severity, Severity::kLow);
}

TEST(Beacon, SameInputSameOutput) {
  auto once = [] {
    DetRun run("beacon");
    Lcg r{5};
    for (int i = 0; i < 80; ++i) {
      run.set->on_conn(attempt(30.0 * i + r.next(), "10.0.0.5", "198.51.100.7", 7000));
      run.set->on_conn(attempt(45.0 * i + r.next(), "10.0.0.6", "198.51.100.9", 8080));
    }
    std::string out;
    for (const auto& f : run.finish()) append_finding_json(f, out);
    return out;
  };
  std::string a = once();
  // uids differ between runs (the builder's counter); compare without them.
  auto strip = [](std::string s) {
    size_t p;
    while ((p = s.find("\"Ctest")) != std::string::npos) s.erase(p, s.find('"', p + 1) - p + 1);
    return s;
  };
  EXPECT_EQ(strip(a), strip(once()));
  EXPECT_NE(a.find("\"id\":\"beacon\""), std::string::npos);
}

}  // namespace
}  // namespace trawl::detect

namespace trawl::detect {
namespace {

// A steady stream with a jitter near half its period (random client traffic
// on a short capture) ranks at most low; the same count at 10 % jitter ranks
// higher.
TEST(BeaconRelativeJitter, LargeRelativeJitterRanksAtMostLow) {
  auto run = [](double jitter_fraction, std::vector<std::string> overrides = {}) {
    testing::Run h("beacon", overrides);
    double t = 0;
    uint32_t lcg = 12345;
    for (int i = 0; i < 60; ++i) {
      lcg = lcg * 1103515245u + 12345u;
      double u = static_cast<double>((lcg >> 8) & 0xffff) / 65535.0;  // uniform 0..1, deterministic
      t += 10.0 * (1.0 + (2 * u - 1) * jitter_fraction);
      h.set->on_conn(testing::ConnBuilder(t, "10.0.0.5", 40000, "198.51.100.9", 443)
                         .state(flow::ConnState::kSF, "ShADadFf")
                         .bytes(300, 900)
                         .pkts(5, 5)
                         .duration(0.2));
    }
    const std::vector<Finding> all = h.finish();
    auto fs = testing::with_id(all, "beacon");
    return fs.empty() ? Severity::kInfo : fs[0]->severity;
  };
  EXPECT_GT(run(0.1), Severity::kLow);
  EXPECT_LE(run(0.9), Severity::kLow);
  // RITA's score alone would rank that stream above low.
  EXPECT_GT(run(0.9, {"beacon.max_relative_jitter=0"}), Severity::kLow);
}

}  // namespace
}  // namespace trawl::detect

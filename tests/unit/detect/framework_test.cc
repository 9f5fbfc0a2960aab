// The detector framework: finding JSON, thresholds, bounded collections.
#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <set>
#include <vector>

#include "detect/dns_util.h"
#include "detect/evidence.h"
#include "detect/finding.h"
#include "detect_test_util.h"

namespace trawl::detect {
namespace {

using testing::at;

TEST(Finding, JsonHasEveryFieldInOrder) {
  Finding f;
  f.id = "scan.tcp_syn";
  f.ts = at(1.5);
  f.last_ts = at(10);
  f.severity = Severity::kHigh;
  f.confidence = 0.9;
  f.src = "10.0.0.5";
  f.dst = {"10.0.0.9"};
  f.dst_count = 1;
  f.ports = {22, 80};
  f.counts = {{"ports", 2}};
  f.summary = "10.0.0.5 SYN-scanned 2 ports of 10.0.0.9";
  f.attack = "T1046";
  f.evidence = {"C1", "C2"};
  f.evidence_total = 2;
  std::string out;
  append_finding_json(f, out);
  EXPECT_EQ(out,
            "{\"id\":\"scan.tcp_syn\",\"ts\":1700000001.500000,\"last_ts\":1700000010.000000,\"severity\":\"high\","
            "\"confidence\":0.90,\"src\":\"10.0.0.5\",\"dst\":[\"10.0.0.9\"],\"dst_count\":1,\"ports\":[22,80],"
            "\"counts\":{\"ports\":2},\"summary\":\"10.0.0.5 SYN-scanned 2 ports of 10.0.0.9\",\"attack\":\"T1046\","
            "\"evidence\":[\"C1\",\"C2\"],\"evidence_total\":2,\"details\":{}}\n");
}

TEST(Finding, ConfidenceIsClampedAndOrderIsBySeverityThenTime) {
  Finding a, b, c;
  a.severity = Severity::kLow;
  a.ts = at(1);
  b.severity = Severity::kCritical;
  b.ts = at(5);
  c.severity = Severity::kCritical;
  c.ts = at(2);
  std::vector<Finding> v{a, b, c};
  std::sort(v.begin(), v.end(), finding_before);
  EXPECT_EQ(v[0].ts, at(2));
  EXPECT_EQ(v[1].ts, at(5));
  EXPECT_EQ(v[2].severity, Severity::kLow);
  a.confidence = 7;
  std::string out;
  append_finding_json(a, out);
  EXPECT_NE(out.find("\"confidence\":1.00"), std::string::npos);
}

TEST(Config, DefaultsOverridesAndUnknownKeys) {
  Config c;
  std::string err;
  ASSERT_TRUE(c.parse_override("scan.min_ports=50", err));
  ASSERT_TRUE(c.parse_override("nobody.asks=1", err));
  EXPECT_FALSE(c.parse_override("scan.min_ports", err));
  EXPECT_FALSE(c.parse_override("scan.min_ports=fifty", err));
  EXPECT_EQ(c.get("scan.min_ports", 20, "ports"), 50);
  EXPECT_EQ(c.get("scan.min_hosts", 10, "hosts"), 10);
  EXPECT_EQ(c.entries().at("scan.min_ports").default_value, 20);
  EXPECT_EQ(c.unknown_overrides(), std::vector<std::string>{"nobody.asks"});
}

TEST(Networks, DefaultIsPrivateRangesOtherwiseTheGivenOnes) {
  Networks n;
  EXPECT_TRUE(n.is_internal(testing::ip("10.1.2.3")));
  EXPECT_FALSE(n.is_internal(testing::ip("198.51.100.7")));
  n.add(*core::IpNetwork::parse("198.51.100.0/24"));
  EXPECT_TRUE(n.is_internal(testing::ip("198.51.100.7")));
  EXPECT_FALSE(n.is_internal(testing::ip("10.1.2.3")));
}

TEST(Bounded, EvidenceAndDistinctSetsStopGrowingAtTheirCaps) {
  Evidence e(3);
  for (int i = 0; i < 10; ++i) e.add("C" + std::to_string(i));
  EXPECT_EQ(e.uids(), (std::vector<std::string>{"C0", "C1", "C2"}));
  EXPECT_EQ(e.total(), 10u);
  DistinctSet<int> d(4);
  for (int i = 0; i < 10; ++i) d.add(i % 7);
  EXPECT_EQ(d.held(), 4u);
  EXPECT_TRUE(d.saturated());
  EXPECT_GE(d.count(), 7u);
  EXPECT_EQ(d.sample(2), (std::vector<int>{0, 1}));
}

// Evidence packs its uids into one buffer (varint length + bytes): uids of
// any length, empty ones skipped, merge keeping record order and the cap.
TEST(Bounded, PackedEvidenceKeepsEveryUidExactly) {
  const std::string long_uid(300, 'x');  // a two-byte length
  Evidence e(4);
  e.add("CabcdefghijklmnopQ");
  e.add("");
  e.add(long_uid);
  e.add(std::string("C\0z", 3));
  EXPECT_EQ(e.uids(), (std::vector<std::string>{"CabcdefghijklmnopQ", long_uid, std::string("C\0z", 3)}));
  EXPECT_EQ(e.held(), 3u);
  EXPECT_EQ(e.total(), 4u);
  Evidence o(5);
  o.add("C1");
  o.add("C2");
  e.merge(o);
  EXPECT_EQ(e.uids(), (std::vector<std::string>{"CabcdefghijklmnopQ", long_uid, std::string("C\0z", 3), "C1"}));
  EXPECT_EQ(e.total(), 6u);

  dns::UidSample u(3);
  for (const char* x : {"Ca", "Ca", "Cb", "Ca", "Cc", "Cd"}) u.add(x);
  EXPECT_EQ(u.uids(), (std::vector<std::string>{"Ca", "Cb", "Cc"}));
  EXPECT_EQ(u.held(), 3u);
  EXPECT_EQ(u.total(), 6u);
}

// DistinctSet holds its first values in a sorted vector and moves them to a
// tree past a few: across that switch it answers as a plain capped std::set.
TEST(Bounded, DistinctSetAnswersAsACappedTree) {
  std::mt19937 rng(11);
  for (size_t cap : {0u, 1u, 5u, 16u, 17u, 40u, 1000u}) {
    DistinctSet<int> d(cap);
    std::set<int> ref;
    uint64_t overflow = 0;
    for (int i = 0; i < 3000; ++i) {
      const int v = static_cast<int>(rng() % (i < 200 ? 24u : 300u));
      bool added = !ref.contains(v);
      if (added) {
        if (ref.size() < cap) {
          ref.insert(v);
        } else {
          ++overflow;
        }
      }
      ASSERT_EQ(d.add(v), added) << cap << " " << i;
      ASSERT_EQ(d.contains(v), ref.contains(v));
      ASSERT_EQ(d.count(), ref.size() + overflow);
      ASSERT_EQ(d.held(), ref.size());
      ASSERT_EQ(d.saturated(), overflow > 0);
    }
    std::vector<int> all;
    d.for_each([&](int v) { all.push_back(v); });
    EXPECT_EQ(all, std::vector<int>(ref.begin(), ref.end()));
    if (!ref.empty()) EXPECT_EQ(d.front(), *ref.begin());
    EXPECT_EQ(d.sample(3), std::vector<int>(ref.begin(), std::next(ref.begin(), std::min<std::ptrdiff_t>(3, static_cast<std::ptrdiff_t>(ref.size())))));
    DistinctSet<int> copy = d;  // deep copy, also of the tree
    EXPECT_EQ(copy.count(), d.count());
    EXPECT_EQ(copy.sample(1000), d.sample(1000));
  }
}

TEST(Bounded, SmallDistinctSetIsASortedDistinctSet) {
  SmallDistinctSet<int> d(4);
  for (int v : {5, 3, 5, 9, 1, 7, 3, 8}) d.add(v);
  EXPECT_EQ(d.values(), (std::vector<int>{1, 3, 5, 9}));
  EXPECT_TRUE(d.saturated());
  EXPECT_EQ(d.count(), 6u);  // 4 held, 7 and 8 past the cap
  EXPECT_TRUE(d.contains(9));
  EXPECT_FALSE(d.contains(7));
  EXPECT_FALSE(d.add(3));
  EXPECT_EQ(d.sample(2), (std::vector<int>{1, 3}));
  EXPECT_EQ(d.sample(10).size(), 4u);
}

TEST(Episodes, SplitAtIdleGaps) {
  std::vector<core::Timestamp> t{at(0), at(1), at(2), at(100), at(101), at(500)};
  auto eps = episodes(t, 60LL * core::kNsPerSec);
  ASSERT_EQ(eps.size(), 3u);
  EXPECT_EQ(eps[0], (std::pair<size_t, size_t>{0, 3}));
  EXPECT_EQ(eps[1], (std::pair<size_t, size_t>{3, 5}));
  EXPECT_EQ(eps[2], (std::pair<size_t, size_t>{5, 6}));
}

}  // namespace
}  // namespace trawl::detect

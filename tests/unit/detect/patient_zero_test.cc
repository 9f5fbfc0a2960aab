// patient_zero: spread.patient_zero from synthetic finding lists.
#include <gtest/gtest.h>

#include "detect_test_util.h"

namespace trawl::detect {

void register_patient_zero(Registry& r);

namespace {

using testing::at;
using testing::with_id;

struct PatientZero {
  Config config;
  std::unique_ptr<Detector> d;
  explicit PatientZero(std::vector<std::string> overrides = {}) {
    for (const auto& kv : overrides) {
      std::string err;
      config.parse_override(kv, err);
    }
    Registry r;
    register_patient_zero(r);
    d = r.entries().at(0).make(config);
  }
  std::vector<Finding> run(std::vector<Finding> all) {
    std::vector<Finding> mine;
    d->finish(mine);
    EXPECT_TRUE(mine.empty());
    const size_t given = all.size();
    d->after(all);
    return std::vector<Finding>(all.begin() + static_cast<std::ptrdiff_t>(given), all.end());
  }
};

Finding finding(const char* id, const char* src, double t, std::vector<std::string> dst = {},
                std::vector<uint16_t> ports = {}) {
  Finding f;
  f.id = id;
  f.src = src;
  f.ts = at(t);
  f.last_ts = at(t + 60);
  f.severity = Severity::kHigh;
  f.dst = std::move(dst);
  f.dst_count = f.dst.size();
  f.ports = std::move(ports);
  f.attack = "T1210";
  f.evidence = {std::string("E") + src};
  f.evidence_total = 1;
  return f;
}

TEST(PatientZero, WormSpreadNamesTheFirstHostAndTheOrder) {
  PatientZero pz;
  auto fs = pz.run({
      finding("worm.smb_scan", "10.0.0.7", 90, {"10.0.0.200"}, {445}),
      finding("worm.smb_scan", "10.0.0.5", 0, {"10.0.0.6", "10.0.0.7"}, {445}),
      finding("worm.smb_scan", "10.0.0.6", 30, {"10.0.0.9"}, {445}),
      finding("scan.tcp_syn", "10.0.0.9", 10),  // another behaviour, one host
      // The SYN scans worm445 explains by its worm finding are not a second group.
      finding("scan.tcp_syn", "10.0.0.5", 0, {}, {445}),
      finding("scan.tcp_syn", "10.0.0.6", 30, {}, {445}),
  });
  ASSERT_EQ(fs.size(), 1u);
  const Finding& f = fs[0];
  EXPECT_EQ(f.src, "10.0.0.5");
  EXPECT_EQ(f.dst, (std::vector<std::string>{"10.0.0.6", "10.0.0.7"}));
  EXPECT_EQ(f.dst_count, 2u);
  EXPECT_EQ(f.ts, at(0));
  EXPECT_EQ(f.last_ts, at(150));
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.attack, "T1210");
  EXPECT_DOUBLE_EQ(f.confidence, 0.8);  // 10.0.0.5 scanned both before they started
  EXPECT_NE(f.summary.find("10.0.0.6 after 30 s"), std::string::npos) << f.summary;
  EXPECT_NE(f.summary.find("10.0.0.7 after 90 s"), std::string::npos) << f.summary;
  EXPECT_NE(f.details.find("\"reached_from\":\"10.0.0.5\""), std::string::npos);
  EXPECT_EQ(f.details.substr(0, 2), "{\"");  // one JSON object
  EXPECT_NE(f.details.find("\"delay_s\":30.000000"), std::string::npos);
  EXPECT_EQ(f.evidence, (std::vector<std::string>{"E10.0.0.5", "E10.0.0.6", "E10.0.0.7"}));
}

TEST(PatientZero, NothingForOneHostExternalHostsOrUnrelatedIds) {
  PatientZero pz;
  EXPECT_TRUE(pz.run({finding("worm.smb_scan", "10.0.0.5", 0, {}, {445})}).empty());
  PatientZero ext;
  EXPECT_TRUE(ext.run({finding("scan.tcp_syn", "198.51.100.1", 0), finding("scan.tcp_syn", "198.51.100.2", 5)}).empty());
  PatientZero unrelated;
  EXPECT_TRUE(unrelated
                  .run({finding("http.bare_ip_host", "10.0.0.5", 0), finding("http.bare_ip_host", "10.0.0.6", 5),
                        finding("spread.patient_zero", "10.0.0.5", 0), finding("spread.patient_zero", "10.0.0.6", 1),
                        finding("mail.phishing", "alice@corp", 0), finding("mail.phishing", "bob@corp", 1)})
                  .empty());
  // Sweeps of different ports are different behaviours.
  PatientZero ports;
  EXPECT_TRUE(ports.run({finding("sweep.tcp", "10.0.0.5", 0, {}, {445}), finding("sweep.tcp", "10.0.0.6", 5, {}, {3389})})
                  .empty());
}

TEST(PatientZero, BeaconsGroupByDestinationAndUrisByUri) {
  PatientZero pz;
  auto uri = [](const char* src, double t, const char* u) {
    Finding f = finding("http.repeated_uri", src, t);
    f.details = std::string("{\"uri\":\"") + u + "\",\"hosts_sample\":[]}";
    return f;
  };
  auto fs = pz.run({
      finding("beacon", "10.0.0.5", 100, {"203.0.113.50"}),
      finding("beacon", "10.0.0.6", 50, {"203.0.113.50"}),
      finding("beacon", "10.0.0.7", 10, {"203.0.113.99"}),  // another C2
      uri("10.0.0.8", 0, "/search?q=1"),
      uri("10.0.0.9", 20, "/search?q=1"),
      uri("10.0.0.10", 5, "/other"),
  });
  ASSERT_EQ(fs.size(), 2u);
  std::sort(fs.begin(), fs.end(), [](const Finding& a, const Finding& b) { return a.src < b.src; });
  EXPECT_EQ(fs[0].src, "10.0.0.6");
  EXPECT_EQ(fs[0].dst, std::vector<std::string>{"10.0.0.5"});
  EXPECT_NE(fs[0].details.find("beacon to 203.0.113.50"), std::string::npos);
  EXPECT_DOUBLE_EQ(fs[0].confidence, 0.5);  // nothing links them
  EXPECT_EQ(fs[1].src, "10.0.0.8");
  EXPECT_EQ(fs[1].dst, std::vector<std::string>{"10.0.0.9"});
}

TEST(PatientZero, WindowSplitsGroupsAndCloseStartsLowerConfidence) {
  PatientZero pz;
  EXPECT_TRUE(pz.run({finding("dns.dga", "10.0.0.5", 0), finding("dns.dga", "10.0.0.6", 200000)}).empty());
  PatientZero wide({"patient_zero.window_s=300000"});
  EXPECT_EQ(wide.run({finding("dns.dga", "10.0.0.5", 0), finding("dns.dga", "10.0.0.6", 200000)}).size(), 1u);
  PatientZero tie;
  auto fs = tie.run({finding("bruteforce.ssh", "10.0.0.6", 0.5), finding("bruteforce.ssh", "10.0.0.5", 0.5)});
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].src, "10.0.0.5");  // a tie goes to the lower address: deterministic
  EXPECT_DOUBLE_EQ(fs[0].confidence, 0.3);
  PatientZero three({"patient_zero.min_hosts=3"});
  EXPECT_TRUE(three.run({finding("dns.dga", "10.0.0.5", 0), finding("dns.dga", "10.0.0.6", 20)}).empty());
}

TEST(PatientZero, ManyHostsListABoundedSample) {
  PatientZero pz;
  std::vector<Finding> all;
  std::vector<std::string> names;
  for (int i = 0; i < 500; ++i) names.push_back("10.0." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1));
  for (int i = 0; i < 500; ++i) all.push_back(finding("mail.mass_mailing", names[static_cast<size_t>(i)].c_str(), i));
  auto fs = pz.run(all);
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].src, "10.0.0.1");
  EXPECT_EQ(fs[0].dst.size(), 20u);
  EXPECT_EQ(fs[0].dst_count, 499u);
  EXPECT_NE(fs[0].summary.find("and 496 more"), std::string::npos) << fs[0].summary;
}

}  // namespace
}  // namespace trawl::detect

// dns.dga: the lexical model's evaluation on the labelled set in
// tests/data/dga (precision/recall floors), and the detector's behaviour on
// synthetic DNS records.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "analyzers/dns/dns_log_record.h"
#include "detect/dga_model.h"
#include "detect/dns_util.h"
#include "detect_test_util.h"

namespace trawl::detect {
namespace {

using testing::at;
using testing::ip;

std::vector<std::string> read_names(const std::filesystem::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

const std::filesystem::path kData = std::filesystem::path(TRAWL_TEST_DATA) / "dga";

TEST(DgaModel, PrecisionAndRecallFloorsOnTheLabelledSet) {
  std::map<std::string, std::pair<size_t, size_t>> family;  // hits, total
  size_t tp = 0, dga_total = 0;
  std::set<std::string> families;
  for (const auto& e : std::filesystem::directory_iterator(kData)) {
    std::string fn = e.path().filename().string();
    if (!fn.starts_with("dga_") || !fn.ends_with(".txt")) continue;
    std::string name = fn.substr(4, fn.size() - 8);
    for (const auto& n : read_names(e.path())) {
      bool hit = score_name(n).generated;
      family[name].first += hit;
      ++family[name].second;
      tp += hit;
      ++dga_total;
    }
  }
  auto benign = read_names(kData / "benign_eval.txt");
  size_t fp = 0;
  for (const auto& n : benign) fp += score_name(n).generated;
  ASSERT_GE(family.size(), 5u);
  ASSERT_GE(dga_total, 1000u);
  ASSERT_GE(benign.size(), 1000u);
  for (const auto& [name, hv] : family) {
    std::printf("recall %-13s %zu/%zu = %.3f\n", name.c_str(), hv.first, hv.second,
                static_cast<double>(hv.first) / static_cast<double>(hv.second));
  }
  double recall = static_cast<double>(tp) / static_cast<double>(dga_total);
  double precision = static_cast<double>(tp) / static_cast<double>(tp + fp);
  double fpr = static_cast<double>(fp) / static_cast<double>(benign.size());
  std::printf("overall recall %.3f precision %.3f false-positive rate %.4f (%zu of %zu benign)\n", recall, precision,
              fpr, fp, benign.size());
  EXPECT_GE(recall, 0.72);
  EXPECT_GE(precision, 0.97);
  EXPECT_LE(fpr, 0.012);
  // Families of random letters from a PRNG: the model is built for these.
  for (const char* f : {"cryptolocker", "murofet", "necurs", "qakbot", "ramnit"}) {
    ASSERT_TRUE(family.contains(f)) << f;
    EXPECT_GE(static_cast<double>(family[f].first) / static_cast<double>(family[f].second), 0.85) << f;
  }
  EXPECT_GE(static_cast<double>(family["pykspa"].first) / static_cast<double>(family["pykspa"].second), 0.70);
  // Conficker's 4-9 letter labels are often below the minimum length.
  EXPECT_GE(static_cast<double>(family["conficker"].first) / static_cast<double>(family["conficker"].second), 0.40);
}

TEST(DgaModel, ScoresReadableNamesLowAndRandomLettersHigh) {
  for (const char* n : {"wikipedia.org", "stackoverflow.com", "debian.org", "microsoft.com", "e1234.dscb.akamaiedge.net",
                        "d1a2b3c4d5e6f7.cloudfront.net", "example.co.uk", "xn--bcher-kva.de"}) {
    EXPECT_FALSE(score_name(n).generated) << n << " " << score_name(n).score;
  }
  for (const char* n : {"xkqjwhdzpfbt.com", "qwrtpzxkvbnmlk.net", "jvgnbaeafqwgctkgefhcgmqe.info"}) {
    EXPECT_TRUE(score_name(n).generated) << n << " " << score_name(n).score;
  }
  EXPECT_FALSE(score_name("").candidate);
  EXPECT_FALSE(score_name("abc.com").candidate);  // below the minimum length
}

TEST(DnsUtil, RegisteredDomain) {
  EXPECT_EQ(dns::registered_domain("a.b.example.com"), "example.com");
  EXPECT_EQ(dns::registered_domain("www.example.co.uk"), "example.co.uk");
  EXPECT_EQ(dns::registered_domain("example.com."), "example.com");
  EXPECT_EQ(dns::registered_domain("com"), "");
  EXPECT_EQ(dns::registered_domain("co.uk"), "");
  EXPECT_EQ(dns::registered_domain(""), "");
  EXPECT_EQ(dns::registered_domain("d111.cloudfront.net"), "cloudfront.net");  // ICANN section only
  EXPECT_EQ(dns::registrable_label("x.y.example.com.au"), "example");
  EXPECT_EQ(dns::subdomain("x.y.example.com", "example.com"), "x.y");
  EXPECT_TRUE(dns::skip_name("4.3.2.1.in-addr.arpa"));
  EXPECT_TRUE(dns::skip_name("printer.local"));
  EXPECT_TRUE(dns::skip_name("wpad"));
  EXPECT_FALSE(dns::skip_name("www.example.com"));
  EXPECT_TRUE(dns::hostname_chars("_dmarc.example-1.com"));
  EXPECT_TRUE(dns::address_lookup("4.3.2.1.zen.spamhaus.org"));
  EXPECT_FALSE(dns::address_lookup("4.3.2.example.com"));
  EXPECT_FALSE(dns::address_lookup("4.3.2.1"));
  EXPECT_FALSE(dns::hostname_chars("a\\xe4b.example.com"));
}

// A DNS transaction from `client` for `name` with response code `rcode`.
analyzers::dns::DnsLogRecord dns_query(double t, const char* client, const std::string& name, uint16_t rcode = 0) {
  static uint64_t counter = 0;
  analyzers::dns::DnsLogRecord r;
  r.ts = at(t);
  r.uid = "Cdns" + std::to_string(++counter);
  r.first_index = counter;
  r.orig_h = ip(client);
  r.orig_p = 40000;
  r.resp_h = ip("10.0.0.53");
  r.resp_p = 53;
  r.query = name;
  r.qtype = 1;
  r.qclass = 1;
  r.rcode = rcode;
  r.saw_query = r.saw_reply = true;
  r.reply_ts = r.ts;
  return r;
}

std::vector<std::string> dga_names(size_t n) {
  auto all = read_names(kData / "dga_ramnit.txt");
  std::vector<std::string> out;
  for (const auto& a : all) {
    if (score_name(a).generated) out.push_back(a);
    if (out.size() == n) break;
  }
  return out;
}

TEST(DgaDetector, FlagsAHostAtTheNameThresholdWithNxdomainRaisingSeverity) {
  auto names = dga_names(5);
  ASSERT_EQ(names.size(), 5u);
  {
    testing::Run run("dga");
    for (size_t i = 0; i < 4; ++i) run.set->on_record(dns_query(static_cast<double>(i), "10.0.0.7", names[i], 3));
    for (int i = 0; i < 20; ++i) run.set->on_record(dns_query(10 + i, "10.0.0.7", "www.wikipedia.org"));
    EXPECT_TRUE(testing::with_id(run.finish(), "dns.dga").empty());  // 4 < dga.min_names (5)
  }
  testing::Run run("dga");
  for (size_t i = 0; i < 5; ++i) run.set->on_record(dns_query(static_cast<double>(i), "10.0.0.7", names[i], 3));
  run.set->on_record(dns_query(6, "10.0.0.7", "www.debian.org"));
  run.set->on_record(dns_query(7, "10.0.0.8", "www.debian.org"));
  auto fs = run.finish();
  auto dga = testing::with_id(fs, "dns.dga");
  ASSERT_EQ(dga.size(), 1u);
  EXPECT_EQ(dga[0]->src, "10.0.0.7");
  EXPECT_EQ(dga[0]->dst_count, 5u);
  EXPECT_EQ(dga[0]->severity, Severity::kHigh);  // 5 of 6 answered domains NXDOMAIN
  EXPECT_EQ(dga[0]->attack, "T1568.002");
  EXPECT_EQ(dga[0]->evidence_total, 5u);
  EXPECT_NE(dga[0]->details.find("\"nxdomain_ratio\":0.833"), std::string::npos) << dga[0]->details;
}

TEST(DgaDetector, ResolvedGeneratedNamesAreMediumAndThresholdsAreConfigurable) {
  auto names = dga_names(6);
  testing::Run run("dga", {"dga.min_names=6"});
  for (size_t i = 0; i < 5; ++i) run.set->on_record(dns_query(static_cast<double>(i), "10.0.0.7", names[i]));
  EXPECT_TRUE(testing::with_id(run.finish(), "dns.dga").empty());
  testing::Run run2("dga");
  for (size_t i = 0; i < 6; ++i) run2.set->on_record(dns_query(static_cast<double>(i), "10.0.0.7", names[i]));
  auto all = run2.finish();
  auto fs = testing::with_id(all, "dns.dga");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0]->severity, Severity::kMedium);
}

TEST(DgaDetector, NxdomainVolumeAloneIsLowAndCdnNamesAreIgnored) {
  testing::Run run("dga");
  for (int i = 0; i < 25; ++i) {
    run.set->on_record(dns_query(i, "10.0.0.9", "host" + std::to_string(i) + "-printer.example" + std::to_string(i) +
                                                    ".com", 3));
  }
  // CDN hashes and Akamai edge names are many but not generated-looking.
  for (int i = 0; i < 200; ++i) {
    run.set->on_record(dns_query(100 + i, "10.0.0.10", "e" + std::to_string(1000 + i) + ".dscb.akamaiedge.net"));
    run.set->on_record(dns_query(100 + i, "10.0.0.10", "d" + std::to_string(7000000 + i * 7919) + "abcdef.cloudfront.net"));
  }
  auto all = run.finish();
  auto fs = testing::with_id(all, "dns.dga");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0]->src, "10.0.0.9");
  EXPECT_EQ(fs[0]->severity, Severity::kLow);
}

TEST(DgaDetector, StateStaysBoundedUnderHostileVolume) {
  testing::Run run("dga", {"dga.max_hosts=10"});
  auto names = dga_names(5);
  for (int h = 0; h < 50; ++h) {
    std::string host = "10.1.0." + std::to_string(h);
    for (const auto& n : names) run.set->on_record(dns_query(h, host.c_str(), n, 3));
  }
  // One host with 20,000 distinct names: the per-host sets saturate.
  for (int i = 0; i < 20000; ++i) {
    run.set->on_record(dns_query(1000, "10.1.0.1", "q" + std::to_string(i) + "zxkvbq" + std::to_string(i) + ".com", 3));
  }
  auto fs = run.finish();
  auto dga = testing::with_id(fs, "dns.dga");
  EXPECT_EQ(dga.size(), 10u);  // hosts beyond the cap are not tracked
  for (const Finding* f : dga) {
    EXPECT_LE(f->dst.size(), 10u);
    EXPECT_LE(f->evidence.size(), 20u);
  }
}

}  // namespace
}  // namespace trawl::detect

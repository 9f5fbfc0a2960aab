// dns.dynamic_dns: queries for names under dynamic-DNS providers.
#include <gtest/gtest.h>

#include "analyzers/dns/dns_log_record.h"
#include "detect/dns_util.h"
#include "detect_test_util.h"

namespace trawl::detect {
namespace {

using testing::at;
using testing::ip;

analyzers::dns::DnsLogRecord dns_query(double t, const char* client, const std::string& name,
                                       const char* answer = nullptr) {
  static uint64_t counter = 0;
  analyzers::dns::DnsLogRecord r;
  r.ts = at(t);
  r.uid = "Cdns" + std::to_string(++counter);
  r.orig_h = ip(client);
  r.resp_h = ip("10.0.0.53");
  r.resp_p = 53;
  r.query = name;
  r.qtype = 1;
  r.rcode = 0;
  if (answer) {
    analyzers::dns::DnsAnswer a;
    a.name = name;
    a.type = 1;
    a.text = answer;
    a.address = ip(answer);
    r.answers.push_back(a);
  }
  return r;
}

TEST(DdnsProviders, MatchCustomerHostsOnly) {
  EXPECT_EQ(dns::ddns_provider("evil.duckdns.org"), "duckdns.org");
  EXPECT_EQ(dns::ddns_provider("a.b.3322.org"), "3322.org");
  EXPECT_EQ(dns::ddns_provider("x.no-ip.biz."), "no-ip.biz");
  EXPECT_EQ(dns::ddns_provider("duckdns.org"), "");
  EXPECT_EQ(dns::ddns_provider("www.duckdns.org"), "");
  EXPECT_EQ(dns::ddns_provider("notduckdns.org"), "");
  EXPECT_EQ(dns::ddns_provider("www.example.com"), "");
  EXPECT_GE(dns::ddns_providers().size(), 50u);
}

TEST(DdnsDetector, OneFindingPerHostMediumWhenResolved) {
  testing::Run run("ddns");
  run.set->on_record(dns_query(1, "10.0.0.7", "c2.duckdns.org", "198.51.100.7"));
  run.set->on_record(dns_query(2, "10.0.0.7", "c2.duckdns.org", "198.51.100.7"));
  run.set->on_record(dns_query(3, "10.0.0.7", "backup.hopto.org"));
  run.set->on_record(dns_query(4, "10.0.0.8", "gone.ddns.net"));
  run.set->on_record(dns_query(5, "10.0.0.9", "www.example.com", "203.0.113.1"));
  auto fs = run.finish();
  auto d = testing::with_id(fs, "dns.dynamic_dns");
  ASSERT_EQ(d.size(), 2u);
  const Finding* a = d[0]->src == "10.0.0.7" ? d[0] : d[1];
  const Finding* b = d[0]->src == "10.0.0.7" ? d[1] : d[0];
  EXPECT_EQ(a->src, "10.0.0.7");
  EXPECT_EQ(a->severity, Severity::kMedium);
  EXPECT_EQ(a->dst, (std::vector<std::string>{"backup.hopto.org", "c2.duckdns.org"}));
  EXPECT_EQ(a->evidence_total, 3u);
  EXPECT_EQ(a->attack, "T1568");
  EXPECT_NE(a->details.find("198.51.100.7"), std::string::npos);
  EXPECT_EQ(b->src, "10.0.0.8");
  EXPECT_EQ(b->severity, Severity::kLow);  // never resolved
}

TEST(DdnsDetector, ThresholdsAndCaps) {
  testing::Run run("ddns", {"ddns.min_queries=3", "ddns.max_hosts=2"});
  run.set->on_record(dns_query(1, "10.0.0.7", "a.duckdns.org"));
  run.set->on_record(dns_query(2, "10.0.0.7", "a.duckdns.org"));
  for (int h = 0; h < 10; ++h) {
    std::string host = "10.0.1." + std::to_string(h);
    for (int i = 0; i < 3000; ++i) run.set->on_record(dns_query(i, host.c_str(), "n" + std::to_string(i) + ".ddns.net"));
  }
  auto all = run.finish();
  auto fs = testing::with_id(all, "dns.dynamic_dns");
  ASSERT_EQ(fs.size(), 1u);  // 10.0.0.7 below 3 queries; only one more host tracked
  EXPECT_EQ(fs[0]->src, "10.0.1.0");
  EXPECT_EQ(fs[0]->dst.size(), 10u);
  EXPECT_GE(fs[0]->dst_count, 1024u);
  EXPECT_EQ(fs[0]->evidence.size(), 20u);
}

}  // namespace
}  // namespace trawl::detect

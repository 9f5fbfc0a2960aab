// dns.tunnel: many long, random subdomains of one domain, or a volume of
// TXT/NULL/CNAME/MX queries, from one host.
#include <gtest/gtest.h>

#include <cstdio>

#include "analyzers/dns/dns_log_record.h"
#include "detect_test_util.h"

namespace trawl::detect {
namespace {

using testing::at;
using testing::ip;

analyzers::dns::DnsLogRecord dns_query(double t, const char* client, const std::string& name, uint16_t qtype = 16,
                                       const std::string& txt = "") {
  static uint64_t counter = 0;
  analyzers::dns::DnsLogRecord r;
  r.ts = at(t);
  r.uid = "Cdns" + std::to_string(++counter);
  r.orig_h = ip(client);
  r.resp_h = ip("10.0.0.53");
  r.resp_p = 53;
  r.query = name;
  r.qtype = qtype;
  r.rcode = 0;
  if (!txt.empty()) {
    analyzers::dns::DnsAnswer a;
    a.name = name;
    a.type = qtype;
    a.text = txt;
    r.answers.push_back(a);
  }
  return r;
}

// A hex label of `len` characters derived from i (deterministic "payload").
std::string hex_label(int i, size_t len) {
  std::string s;
  uint64_t x = static_cast<uint64_t>(i) * uint64_t{0x9E3779B97F4A7C15} + 12345;
  while (s.size() < len) {
    x ^= x >> 29;
    x *= uint64_t{0xBF58476D1CE4E5B9};
    s.push_back("0123456789abcdef"[x & 15]);
  }
  return s;
}

TEST(DnsTunnel, LongRandomSubdomainsAtTheUniqueThreshold) {
  {
    testing::Run run("dns_tunnel");
    for (int i = 0; i < 9; ++i) run.set->on_record(dns_query(i, "192.168.1.17", hex_label(i, 40) + ".t.example.com", 1));
    EXPECT_TRUE(testing::with_id(run.finish(), "dns.tunnel").empty());  // 9 < dns_tunnel.min_unique (10)
  }
  testing::Run run("dns_tunnel");
  for (int i = 0; i < 10; ++i) {
    run.set->on_record(dns_query(i, "192.168.1.17", hex_label(i, 40) + ".t.example.com", 16, "TXT 20 " + hex_label(i, 20)));
  }
  auto all = run.finish();
  auto fs = testing::with_id(all, "dns.tunnel");
  ASSERT_EQ(fs.size(), 1u);
  const Finding& f = *fs[0];
  EXPECT_EQ(f.id, "dns.tunnel");
  EXPECT_EQ(f.src, "192.168.1.17");
  EXPECT_EQ(f.dst, std::vector<std::string>{"example.com"});
  EXPECT_EQ(f.attack, "T1071.004");
  EXPECT_EQ(f.severity, Severity::kHigh);  // long and high-entropy
  EXPECT_EQ(f.evidence_total, 10u);
  EXPECT_NE(f.summary.find("10 distinct subdomains of example.com"), std::string::npos) << f.summary;
  EXPECT_NE(f.details.find("\"TXT\":10"), std::string::npos) << f.details;
}

TEST(DnsTunnel, DataRecordTypesQualifyWithFewerSubdomains) {
  testing::Run run("dns_tunnel");
  // 10 distinct 16-character subdomains, 60 NULL queries (iodine-like polling).
  for (int i = 0; i < 60; ++i) run.set->on_record(dns_query(i, "192.168.1.17", hex_label(i % 10, 14) + ".t.example.org", 10));
  auto all = run.finish();
  auto fs = testing::with_id(all, "dns.tunnel");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0]->severity, Severity::kMedium);
  EXPECT_NE(fs[0]->details.find("data_record_types"), std::string::npos);
}

TEST(DnsTunnel, RawBytesInLabelsAreASignal) {
  testing::Run run("dns_tunnel", {"dns_tunnel.min_data_types=1000"});
  // Short subdomains, A queries: only the raw bytes (written \xNN) qualify.
  for (int i = 0; i < 10; ++i) {
    std::string sub = "z" + std::to_string(i) + (i < 3 ? "\\xe4\\xfc" : "ab");
    run.set->on_record(dns_query(i, "192.168.1.17", sub + ".t1.example.net", 1));
  }
  auto all = run.finish();
  auto fs = testing::with_id(all, "dns.tunnel");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_NE(fs[0]->details.find("\"signals\":[\"binary_subdomains\"]"), std::string::npos) << fs[0]->details;
  testing::Run two("dns_tunnel", {"dns_tunnel.min_data_types=1000"});
  for (int i = 0; i < 10; ++i) {
    std::string sub = "z" + std::to_string(i) + (i < 2 ? "\\xe4\\xfc" : "ab");
    two.set->on_record(dns_query(i, "192.168.1.17", sub + ".t1.example.net", 1));
  }
  EXPECT_TRUE(testing::with_id(two.finish(), "dns.tunnel").empty());  // 2 < dns_tunnel.min_binary (3)
}

TEST(DnsTunnel, CdnAndOrdinaryBrowsingGiveNothing) {
  testing::Run run("dns_tunnel");
  for (int i = 0; i < 300; ++i) {
    run.set->on_record(dns_query(i, "10.0.0.5", "e" + std::to_string(1000 + i) + ".dscb.akamaiedge.net", 1));
    run.set->on_record(dns_query(i, "10.0.0.5", "d" + hex_label(i, 13) + ".cloudfront.net", 1));
    run.set->on_record(dns_query(i, "10.0.0.5", "www.example" + std::to_string(i) + ".com", 1));
  }
  // Reverse lookups and IP-to-ASN / DNSBL lookups are skipped.
  for (int i = 0; i < 300; ++i) {
    run.set->on_record(dns_query(i, "10.0.0.5", std::to_string(i % 250) + ".1.168.192.in-addr.arpa", 12));
    run.set->on_record(dns_query(i, "10.0.0.5", std::to_string(i % 250) + ".80.32.147.origin.asn.cymru.com", 16));
  }
  // Short subdomains with data record types: MX/TXT lookups of mail hosts.
  for (int i = 0; i < 30; ++i) run.set->on_record(dns_query(i, "10.0.0.6", "mx" + std::to_string(i) + ".example.net", 15));
  auto all = run.finish();
  auto fs = testing::with_id(all, "dns.tunnel");
  EXPECT_TRUE(fs.empty()) << (fs.empty() ? "" : fs[0]->summary);
}

TEST(DnsTunnel, StateStaysBounded) {
  testing::Run run("dns_tunnel", {"dns_tunnel.max_pairs=3"});
  for (int d = 0; d < 20; ++d) {
    for (int i = 0; i < 10000 / (d + 1); ++i) {
      run.set->on_record(dns_query(i, "10.0.0.5", hex_label(i, 30) + ".x" + std::to_string(d) + ".com"));
    }
  }
  auto all = run.finish();
  auto fs = testing::with_id(all, "dns.tunnel");
  ASSERT_EQ(fs.size(), 3u);  // pairs beyond dns_tunnel.max_pairs are not tracked
  for (const Finding* f : fs) EXPECT_LE(f->evidence.size(), 20u);
  EXPECT_EQ(fs[0]->counts[1].first, "unique_subdomains");
}

}  // namespace
}  // namespace trawl::detect

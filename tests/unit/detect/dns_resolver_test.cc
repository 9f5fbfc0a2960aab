// dns.infected_behind_resolver: a suspicious domain resolved only by an
// internal resolver, and the internal host that then connected to its answer.
#include <gtest/gtest.h>

#include "analyzers/dns/dns_log_record.h"
#include "detect_test_util.h"

namespace trawl::detect {
namespace {

using testing::at;
using testing::ConnBuilder;
using testing::ip;

analyzers::dns::DnsLogRecord dns_query(double t, const char* client, const char* server, const std::string& name,
                                       const char* answer = nullptr) {
  static uint64_t counter = 0;
  analyzers::dns::DnsLogRecord r;
  r.ts = at(t);
  r.uid = "Cdns" + std::to_string(++counter);
  r.orig_h = ip(client);
  r.resp_h = ip(server);
  r.resp_p = 53;
  r.query = name;
  r.qtype = 1;
  r.rcode = 0;
  r.saw_query = r.saw_reply = true;
  r.reply_ts = r.ts;
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

struct Runner {
  Config config;
  std::unique_ptr<DetectorSet> set;
  explicit Runner(std::vector<std::string> overrides = {}) {
    for (const auto& kv : overrides) {
      std::string err;
      config.parse_override(kv, err);
    }
    set = std::make_unique<DetectorSet>(config, std::vector<std::string>{"ddns", "dns_resolver"});
  }
};

// The resolver 10.0.0.53 answers two clients, then forwards their queries
// upstream; the DDNS name is asked for only by the resolver.
void feed_resolver_scene(Runner& r, double conn_delay) {
  r.set->on_record(dns_query(0, "10.0.0.7", "10.0.0.53", "www.example.com", "203.0.113.1"));
  r.set->on_record(dns_query(1, "10.0.0.8", "10.0.0.53", "www.example.org", "203.0.113.2"));
  r.set->on_record(dns_query(10, "10.0.0.53", "8.8.8.8", "c2.duckdns.org", "198.51.100.7"));
  r.set->on_conn(ConnBuilder(10 + conn_delay, "10.0.0.8", 50000, "198.51.100.7", 443).state(flow::ConnState::kSF, "ShADadFf"));
  r.set->on_conn(ConnBuilder(10 + conn_delay, "10.0.0.53", 50001, "198.51.100.7", 443));  // the resolver itself
  r.set->on_conn(ConnBuilder(5, "10.0.0.9", 50002, "198.51.100.7", 443));  // before the answer
}

TEST(DnsResolver, NamesTheHostThatConnectedToTheAnswer) {
  Runner r;
  feed_resolver_scene(r, 3);
  auto fs = r.set->finish();
  auto inf = testing::with_id(fs, "dns.infected_behind_resolver");
  ASSERT_EQ(inf.size(), 1u);
  EXPECT_EQ(inf[0]->src, "10.0.0.8");
  EXPECT_EQ(inf[0]->dst, std::vector<std::string>{"198.51.100.7"});
  EXPECT_EQ(inf[0]->severity, Severity::kHigh);
  EXPECT_EQ(inf[0]->evidence_total, 1u);
  EXPECT_NE(inf[0]->details.find("\"resolver\":\"10.0.0.53\""), std::string::npos);
  EXPECT_NE(inf[0]->details.find("\"domain\":\"c2.duckdns.org\""), std::string::npos) << inf[0]->details;
}

TEST(DnsResolver, WindowIsConfigurable) {
  Runner late;
  feed_resolver_scene(late, 61);  // after the default 60 s window
  EXPECT_TRUE(testing::with_id(late.set->finish(), "dns.infected_behind_resolver").empty());
  Runner wide({"dns_resolver.window_s=120"});
  feed_resolver_scene(wide, 61);
  EXPECT_EQ(testing::with_id(wide.set->finish(), "dns.infected_behind_resolver").size(), 1u);
}

TEST(DnsResolver, NothingWhenTheQuerierIsNotAResolverOrClientsAskedToo) {
  Runner r;
  // 10.0.0.7 asks for the DDNS name itself: the ordinary finding names it.
  r.set->on_record(dns_query(10, "10.0.0.7", "8.8.8.8", "c2.duckdns.org", "198.51.100.7"));
  r.set->on_conn(ConnBuilder(12, "10.0.0.8", 50000, "198.51.100.7", 443));
  auto fs = r.set->finish();
  EXPECT_TRUE(testing::with_id(fs, "dns.infected_behind_resolver").empty());
  EXPECT_EQ(testing::with_id(fs, "dns.dynamic_dns").size(), 1u);
}

}  // namespace
}  // namespace trawl::detect

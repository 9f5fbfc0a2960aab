#include "app/aggregates.h"

#include <gtest/gtest.h>

namespace trawl::app {

namespace {
flow::ConnRecord conn(const char* o, const char* r, uint64_t ob, uint64_t rb, int64_t ts) {
  flow::ConnRecord c;
  c.orig_h = *core::IpAddress::parse(o);
  c.resp_h = *core::IpAddress::parse(r);
  c.orig_ip_bytes = ob;
  c.resp_ip_bytes = rb;
  c.orig_pkts = 2;
  c.resp_pkts = 1;
  c.proto = 6;
  c.resp_p = 443;
  c.ts = core::Timestamp{ts};
  c.last_ts = core::Timestamp{ts + 10};
  return c;
}
}  // namespace

TEST(Talkers, SumsBothDirectionsPerPair) {
  Talkers t;
  t.add(conn("10.0.0.2", "192.0.2.1", 100, 1000, 1));
  t.add(conn("192.0.2.1", "10.0.0.2", 50, 5, 2));  // same pair, other originator
  t.add(conn("10.0.0.3", "192.0.2.1", 10, 10, 3));
  auto rows = t.top(0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].a.to_string(), "10.0.0.2");
  EXPECT_EQ(rows[0].b.to_string(), "192.0.2.1");
  EXPECT_EQ(rows[0].bytes_a_to_b, 105u);
  EXPECT_EQ(rows[0].bytes_b_to_a, 1050u);
  EXPECT_EQ(rows[0].connections, 2u);
  EXPECT_EQ(rows[0].packets, 6u);
  EXPECT_EQ(t.top(1).size(), 1u);
}

TEST(Hosts, CountsSentReceivedAndLocation) {
  Hosts h({*core::IpNetwork::parse("192.0.2.0/24")});
  h.add(conn("10.0.0.2", "192.0.2.1", 100, 1000, 50));
  h.add(conn("10.0.0.2", "198.51.100.1", 10, 20, 5));
  auto rows = h.rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].ip.to_string(), "10.0.0.2");
  EXPECT_EQ(rows[0].bytes_sent, 110u);
  EXPECT_EQ(rows[0].bytes_recv, 1020u);
  EXPECT_EQ(rows[0].conns_orig, 2u);
  EXPECT_EQ(rows[0].first.ns, 5);
  EXPECT_EQ(rows[0].last.ns, 60);
  EXPECT_FALSE(rows[0].internal);  // --home-net given: only 192.0.2.0/24 is internal
  EXPECT_EQ(rows[1].ip.to_string(), "192.0.2.1");
  EXPECT_TRUE(rows[1].internal);
  EXPECT_EQ(rows[1].pkts_sent, 1u);
  EXPECT_EQ(rows[1].pkts_recv, 2u);
  Hosts defaults({});
  EXPECT_TRUE(defaults.is_internal(*core::IpAddress::parse("10.9.9.9")));
  EXPECT_FALSE(defaults.is_internal(*core::IpAddress::parse("192.0.2.1")));
}

TEST(Services, NamesUnknownByPort) {
  Services s;
  s.add(conn("10.0.0.2", "192.0.2.1", 1, 1, 1));
  auto c = conn("10.0.0.2", "192.0.2.1", 1, 1, 1);
  c.service = "ssl";
  s.add(c);
  s.add(c);
  auto rows = s.top(0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "ssl");
  EXPECT_EQ(rows[1].name, "tcp/443");
}

TEST(HumanBytes, Units) {
  EXPECT_EQ(human_bytes(999), "999 B");
  EXPECT_EQ(human_bytes(1500), "1.5 KB");
  EXPECT_EQ(human_bytes(2000000000), "2.0 GB");
}

}  // namespace trawl::app

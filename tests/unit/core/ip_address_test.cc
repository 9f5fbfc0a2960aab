#include "core/ip_address.h"

#include <gtest/gtest.h>

namespace trawl::core {

TEST(IpAddress, ParsesAndPrintsBothFamilies) {
  auto a = IpAddress::parse("192.0.2.7");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->to_string(), "192.0.2.7");
  EXPECT_EQ(a->v4_host_order(), 0xc0000207u);
  EXPECT_EQ(a->wire_size(), 4u);
  auto b = IpAddress::parse("2001:db8::1");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->is_v6());
  EXPECT_EQ(b->to_string(), "2001:db8::1");
  EXPECT_FALSE(IpAddress::parse("300.1.1.1"));
  EXPECT_FALSE(IpAddress::parse(""));
  EXPECT_FALSE(IpAddress::parse(std::string(200, '1')));
}

TEST(IpAddress, V4AndMappedV6AreDifferent) {
  auto v4 = IpAddress::parse("192.0.2.1");
  auto mapped = IpAddress::parse("::ffff:192.0.2.1");
  ASSERT_TRUE(v4 && mapped);
  EXPECT_NE(*v4, *mapped);
}

TEST(IpAddress, PrivateRanges) {
  for (const char* s : {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "127.0.0.1", "169.254.1.1",
                        "fd00::1", "fe80::1", "::1"}) {
    EXPECT_TRUE(IpAddress::parse(s)->is_private()) << s;
  }
  for (const char* s : {"172.32.0.1", "172.15.255.255", "192.0.2.1", "8.8.8.8", "2001:db8::1", "11.0.0.1"}) {
    EXPECT_FALSE(IpAddress::parse(s)->is_private()) << s;
  }
}

TEST(IpNetwork, ContainsByPrefix) {
  auto n = IpNetwork::parse("10.0.0.0/8");
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->contains(*IpAddress::parse("10.255.0.1")));
  EXPECT_FALSE(n->contains(*IpAddress::parse("11.0.0.1")));
  EXPECT_FALSE(n->contains(*IpAddress::parse("::ffff:10.0.0.1")));
  auto odd = IpNetwork::parse("192.0.2.128/25");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(*IpAddress::parse("192.0.2.200")));
  EXPECT_FALSE(odd->contains(*IpAddress::parse("192.0.2.100")));
  auto v6 = IpNetwork::parse("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*IpAddress::parse("2001:db8:ffff::1")));
  EXPECT_FALSE(v6->contains(*IpAddress::parse("2001:db9::1")));
  auto host = IpNetwork::parse("192.0.2.9");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->prefix, 32);
  EXPECT_FALSE(IpNetwork::parse("10.0.0.0/33"));
  EXPECT_FALSE(IpNetwork::parse("10.0.0.0/"));
  EXPECT_FALSE(IpNetwork::parse("10.0.0.0/x"));
  EXPECT_TRUE(IpNetwork::parse("::/0")->contains(*IpAddress::parse("2001:db8::1")));
}

}  // namespace trawl::core

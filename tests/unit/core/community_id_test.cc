// Community ID v1 against the spec's own baseline vectors
// (corelight/community-id-spec, baseline/baseline_deflt.json and
// baseline_seed1.json). For ICMP the baseline lists the mapped port pair;
// here the function gets the packet's type and code, as the flow table
// passes them, and must apply the mapping itself.
#include "core/community_id.h"

#include <gtest/gtest.h>

namespace trawl::core {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

struct Vector {
  uint8_t proto;
  const char* src;
  const char* dst;
  uint16_t sport;  // ICMP: type
  uint16_t dport;  // ICMP: code
  const char* seed0;
  const char* seed1;
};

// ICMP rows give the packet's type and code: two-way types have code 0 in
// these captures, and the one-way rows' dport is the code.
const Vector kVectors[] = {
    // ICMPv6 neighbor solicitation / advertisement, both directions and both pairings
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
     "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
     "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 0, "1:zavyT/cezQr1fmImYCwYnMXbgck=",
     "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="},
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 0, "1:zavyT/cezQr1fmImYCwYnMXbgck=",
     "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="},
    // ICMPv6 one-way: time exceeded (3/0) and destination unreachable (1/4)
    {58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=",
     "1:lVEtCZpYu84Xqaa++3lXFyuu2n4="},
    {58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4,
     "1:hLZd0XGWojozrvxqE0dWB1iM6R0=", "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8="},
    // ICMPv6 echo request and reply
    {58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 0, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
     "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="},
    {58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 0, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
     "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="},
    // ICMPv6 router solicitation / advertisement to multicast groups
    {58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 0, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=",
     "1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8="},
    {58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 0, "1:pkvHqCL88/tg1k4cPigmZXUtL00=",
     "1:K/ee5UCqAMAQXDorP5nSa2CGLjc="},
    // ICMP echo request and reply, time exceeded
    {1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    {1, "192.168.0.1", "192.168.0.89", 0, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    {1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM=", "1:XjUibYHaafLQ3pxQeiMI8g25q20="},
    // TCP over IPv6
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    // SCTP (ports hashed; equal ports, ordered by address)
    {132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
     "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
     "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    // TCP and UDP over IPv4
    {6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
     "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
     "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    // RSVP (46): no ports in the hash
    {46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=", "1:rYir8gphR31noO9iDRQmF/BteEI="},
    {46, "10.1.12.2", "10.1.12.1", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=", "1:rYir8gphR31noO9iDRQmF/BteEI="},
};

TEST(CommunityId, SpecBaselineSeed0) {
  for (const Vector& v : kVectors) {
    EXPECT_EQ(community_id_v1(ip(v.src), ip(v.dst), v.proto, v.sport, v.dport), v.seed0)
        << int(v.proto) << " " << v.src << " " << v.dst << " " << v.sport << " " << v.dport;
  }
}

TEST(CommunityId, SpecBaselineSeed1) {
  for (const Vector& v : kVectors) {
    EXPECT_EQ(community_id_v1(ip(v.src), ip(v.dst), v.proto, v.sport, v.dport, 1), v.seed1)
        << int(v.proto) << " " << v.src << " " << v.dst << " " << v.sport << " " << v.dport;
  }
}

TEST(CommunityId, PortsIgnoredForProtocolsWithoutThem) {
  EXPECT_EQ(community_id_v1(ip("10.1.12.1"), ip("10.1.12.2"), 46, 1234, 5678), "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=");
}

TEST(CommunityId, IcmpCodeOfTwoWayTypeIsIgnored) {
  // Echo request with an odd code still pairs with the reply.
  EXPECT_EQ(community_id_v1(ip("192.168.0.89"), ip("192.168.0.1"), 1, 8, 5), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
}

TEST(CommunityId, Format) {
  std::string id = community_id_v1(ip("1.2.3.4"), ip("5.6.7.8"), 6, 1, 2);
  ASSERT_EQ(id.size(), 30u);  // "1:" + 28 base64 characters of a SHA-1
  EXPECT_EQ(id.substr(0, 2), "1:");
  EXPECT_EQ(id.back(), '=');
}

}  // namespace
}  // namespace trawl::core

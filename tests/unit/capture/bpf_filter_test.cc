// BpfFilter: libpcap filters on RawPackets, per link type.
#include <gtest/gtest.h>

#include "capture/bpf_filter.h"
#include "capture_test_util.h"

namespace trawl::capture {
namespace {

using test::Bytes;

// IPv4/UDP from 10.0.0.1 to 10.0.0.2, ports 1234 -> dport, no link header.
Bytes ipv4_udp(uint16_t dport) {
  Bytes ip = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
              0x04, 0xd2, static_cast<uint8_t>(dport >> 8), static_cast<uint8_t>(dport), 0, 8, 0, 0};
  return ip;
}

Bytes ethernet(const Bytes& ip) {
  Bytes f(14 + ip.size());
  const uint8_t header[14] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00};
  std::copy(header, header + 14, f.begin());
  std::copy(ip.begin(), ip.end(), f.begin() + 14);
  return f;
}

RawPacket raw(const Bytes& b, uint16_t linktype) {
  RawPacket p;
  p.data = b.data();
  p.caplen = static_cast<uint32_t>(b.size());
  p.wirelen = p.caplen;
  p.linktype = linktype;
  return p;
}

TEST(BpfFilter, MatchesPerLinktype) {
  BpfFilter f;
  std::string err;
  ASSERT_TRUE(f.compile("udp dst port 53", 1, 262144, err)) << err;
  Bytes dns_eth = ethernet(ipv4_udp(53));
  Bytes other_eth = ethernet(ipv4_udp(80));
  Bytes dns_raw = ipv4_udp(53);
  EXPECT_TRUE(f.matches(raw(dns_eth, 1)));
  EXPECT_FALSE(f.matches(raw(other_eth, 1)));
  // The same expression on raw IP (LINKTYPE_RAW) compiles its own program.
  EXPECT_TRUE(f.matches(raw(dns_raw, 101)));
  EXPECT_FALSE(f.matches(raw(ipv4_udp(80), 101)));
  EXPECT_TRUE(f.matches(raw(dns_eth, 1)));
  EXPECT_TRUE(f.errors().empty());
}

TEST(BpfFilter, BadExpressionGivesLibpcapsMessage) {
  BpfFilter f;
  std::string err;
  EXPECT_FALSE(f.compile("tcp port", 1, 262144, err));
  EXPECT_NE(err.find("syntax error"), std::string::npos) << err;
}

TEST(BpfFilter, ExpressionThatCannotApplyToALinktypeNeverMatches) {
  BpfFilter f;
  std::string err;
  ASSERT_TRUE(f.compile("ether host 00:01:02:03:04:05", 1, 262144, err)) << err;
  Bytes eth = ethernet(ipv4_udp(53));
  EXPECT_TRUE(f.matches(raw(eth, 1)));
  Bytes ip = ipv4_udp(53);
  EXPECT_FALSE(f.matches(raw(ip, 101)));
  EXPECT_FALSE(f.matches(raw(ip, 101)));
  ASSERT_EQ(f.errors().size(), 1u);
  EXPECT_EQ(f.errors()[0].rfind("filter 'ether host 00:01:02:03:04:05' cannot apply to link type 101: ", 0), 0u)
      << f.errors()[0];
}

TEST(BpfFilter, TruncatedPacketsAreSafe) {
  BpfFilter f;
  std::string err;
  ASSERT_TRUE(f.compile("udp dst port 53", 1, 262144, err)) << err;
  Bytes eth = ethernet(ipv4_udp(53));
  RawPacket p = raw(eth, 1);
  p.caplen = 20;  // cut inside the IP header
  p.wirelen = static_cast<uint32_t>(eth.size());
  EXPECT_FALSE(f.matches(p));
}

}  // namespace
}  // namespace trawl::capture

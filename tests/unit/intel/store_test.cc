// IndicatorStore: each matching rule of indicator_store.h, with exact
// indicators and sources expected.
#include "intel/indicator_store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace trawl::intel {
namespace {

core::IpAddress ip(const char* s) { return *core::IpAddress::parse(s); }

Source src(const char* feed) {
  Source s;
  s.feed = feed;
  s.format = "list";
  return s;
}

// "type indicator feed" per match, in order.
std::vector<std::string> describe(const std::vector<Match>& m) {
  std::vector<std::string> out;
  for (const auto& x : m) out.push_back(std::string(type_name(x.type)) + " " + x.indicator + " " + x.source->feed);
  return out;
}

std::vector<std::string> ip_matches(const IndicatorStore& s, const char* a) {
  std::vector<Match> m;
  s.match_ip(ip(a), m);
  return describe(m);
}

std::vector<std::string> domain_matches(const IndicatorStore& s, std::string_view name) {
  std::vector<Match> m;
  s.match_domain(name, m);
  return describe(m);
}

using V = std::vector<std::string>;

TEST(IndicatorStore, TypeNames) {
  EXPECT_EQ(type_name(IndicatorType::kIp), "ip");
  EXPECT_EQ(type_name(IndicatorType::kCidr), "cidr");
  EXPECT_EQ(type_name(IndicatorType::kDomain), "domain");
  EXPECT_EQ(type_name(IndicatorType::kUrl), "url");
  EXPECT_EQ(type_name(IndicatorType::kHash), "hash");
}

TEST(IndicatorStore, ExactIp) {
  IndicatorStore s;
  uint32_t a = s.add_source(src("a.txt"));
  EXPECT_TRUE(s.add(IndicatorType::kIp, "198.51.100.7", a));
  EXPECT_TRUE(s.add(IndicatorType::kIp, " 2001:DB8::1 ", a));
  s.finalize();
  EXPECT_EQ(ip_matches(s, "198.51.100.7"), V{"ip 198.51.100.7 a.txt"});
  EXPECT_EQ(ip_matches(s, "2001:db8::1"), V{"ip 2001:db8::1 a.txt"});
  EXPECT_EQ(ip_matches(s, "198.51.100.8"), V{});
  EXPECT_EQ(ip_matches(s, "::ffff:198.51.100.7"), V{});  // a v6 address is not the v4 one
  EXPECT_EQ(s.size(IndicatorType::kIp), 2u);
}

TEST(IndicatorStore, CidrLongestPrefixFirstV4) {
  IndicatorStore s;
  uint32_t a = s.add_source(src("a.txt"));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "198.51.0.0/16", a));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "198.51.100.0/24", a));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "198.51.100.128/25", a));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "203.0.113.7/24", a));  // host bits: stored as the network
  ASSERT_TRUE(s.add(IndicatorType::kIp, "198.51.100.200", a));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "192.0.2.9/32", a));  // full length: an exact address
  s.finalize();
  EXPECT_EQ(ip_matches(s, "198.51.100.200"),
            (V{"ip 198.51.100.200 a.txt", "cidr 198.51.100.128/25 a.txt", "cidr 198.51.100.0/24 a.txt",
               "cidr 198.51.0.0/16 a.txt"}));
  EXPECT_EQ(ip_matches(s, "198.51.100.5"), (V{"cidr 198.51.100.0/24 a.txt", "cidr 198.51.0.0/16 a.txt"}));
  EXPECT_EQ(ip_matches(s, "198.51.7.1"), V{"cidr 198.51.0.0/16 a.txt"});
  EXPECT_EQ(ip_matches(s, "198.51.255.255"), V{"cidr 198.51.0.0/16 a.txt"});
  EXPECT_EQ(ip_matches(s, "198.52.0.0"), V{});
  EXPECT_EQ(ip_matches(s, "198.50.255.255"), V{});
  EXPECT_EQ(ip_matches(s, "203.0.113.250"), V{"cidr 203.0.113.0/24 a.txt"});
  EXPECT_EQ(ip_matches(s, "192.0.2.9"), V{"ip 192.0.2.9 a.txt"});
  EXPECT_EQ(s.size(IndicatorType::kCidr), 4u);
  EXPECT_EQ(s.size(IndicatorType::kIp), 2u);
}

TEST(IndicatorStore, CidrAcrossBucketsAndSiblings) {
  IndicatorStore s;
  uint32_t a = s.add_source(src("a.txt"));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "10.0.0.0/8", a));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "10.1.0.0/16", a));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "10.3.0.0/16", a));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "11.0.0.0/30", a));
  s.finalize();
  // 10.2.x sits between two sibling /16s: only the /8 holds it.
  EXPECT_EQ(ip_matches(s, "10.2.3.4"), V{"cidr 10.0.0.0/8 a.txt"});
  EXPECT_EQ(ip_matches(s, "10.3.9.9"), (V{"cidr 10.3.0.0/16 a.txt", "cidr 10.0.0.0/8 a.txt"}));
  EXPECT_EQ(ip_matches(s, "10.255.255.255"), V{"cidr 10.0.0.0/8 a.txt"});
  EXPECT_EQ(ip_matches(s, "11.0.0.3"), V{"cidr 11.0.0.0/30 a.txt"});
  EXPECT_EQ(ip_matches(s, "11.0.0.4"), V{});
  EXPECT_EQ(ip_matches(s, "9.255.255.255"), V{});
}

TEST(IndicatorStore, CidrLongestPrefixFirstV6) {
  IndicatorStore s;
  uint32_t a = s.add_source(src("a.txt"));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "2001:db8::/32", a));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "2001:db8:1::/48", a));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "2001:db8:1:2::/64", a));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "2001:db8:1:2:3::/80", a));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "198.51.100.0/24", a));
  s.finalize();
  EXPECT_EQ(ip_matches(s, "2001:db8:1:2:3::9"),
            (V{"cidr 2001:db8:1:2:3::/80 a.txt", "cidr 2001:db8:1:2::/64 a.txt", "cidr 2001:db8:1::/48 a.txt",
               "cidr 2001:db8::/32 a.txt"}));
  EXPECT_EQ(ip_matches(s, "2001:db8:1:3::1"), (V{"cidr 2001:db8:1::/48 a.txt", "cidr 2001:db8::/32 a.txt"}));
  EXPECT_EQ(ip_matches(s, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), V{"cidr 2001:db8::/32 a.txt"});
  EXPECT_EQ(ip_matches(s, "2001:db9::"), V{});
  // The v4 prefix never matches a v6 address with the same low bits.
  EXPECT_EQ(ip_matches(s, "::ffff:198.51.100.1"), V{});
  EXPECT_EQ(ip_matches(s, "198.51.100.1"), V{"cidr 198.51.100.0/24 a.txt"});
}

TEST(IndicatorStore, CidrAddedAfterFinalizeNeedsAnotherFinalize) {
  IndicatorStore s;
  uint32_t a = s.add_source(src("a.txt"));
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "198.51.100.0/24", a));
  s.finalize();
  ASSERT_TRUE(s.add(IndicatorType::kCidr, "203.0.113.0/24", a));
  s.finalize();
  EXPECT_EQ(ip_matches(s, "203.0.113.1"), V{"cidr 203.0.113.0/24 a.txt"});
  EXPECT_EQ(ip_matches(s, "198.51.100.1"), V{"cidr 198.51.100.0/24 a.txt"});
}

TEST(IndicatorStore, DomainParentsCaseAndTrailingDot) {
  IndicatorStore s;
  uint32_t a = s.add_source(src("a.txt"));
  ASSERT_TRUE(s.add(IndicatorType::kDomain, "Evil.Example.", a));
  ASSERT_TRUE(s.add(IndicatorType::kDomain, "*.cdn.bad.test", a));
  ASSERT_TRUE(s.add(IndicatorType::kDomain, "x.evil.example", a));
  s.finalize();
  EXPECT_EQ(domain_matches(s, "evil.example"), V{"domain evil.example a.txt"});
  EXPECT_EQ(domain_matches(s, "EVIL.EXAMPLE."), V{"domain evil.example a.txt"});
  EXPECT_EQ(domain_matches(s, "a.b.evil.example"), V{"domain evil.example a.txt"});
  EXPECT_EQ(domain_matches(s, "y.X.Evil.Example"), (V{"domain x.evil.example a.txt", "domain evil.example a.txt"}));
  EXPECT_EQ(domain_matches(s, "cdn.bad.test"), V{"domain cdn.bad.test a.txt"});
  EXPECT_EQ(domain_matches(s, "img.cdn.bad.test"), V{"domain cdn.bad.test a.txt"});
  EXPECT_EQ(domain_matches(s, "bad.test"), V{});
  EXPECT_EQ(domain_matches(s, "notevil.example"), V{});  // a parent is a whole label, not a suffix
  EXPECT_EQ(domain_matches(s, "example"), V{});
  EXPECT_EQ(domain_matches(s, "evil..example"), V{});
}

TEST(IndicatorStore, DomainNormalization) {
  EXPECT_EQ(normalize_domain("WWW.Example.COM."), "www.example.com");
  EXPECT_EQ(normalize_domain("*.example.com"), "example.com");
  EXPECT_EQ(normalize_domain("localhost"), "localhost");
  EXPECT_EQ(normalize_domain("_dmarc.example.com"), "_dmarc.example.com");
  EXPECT_EQ(normalize_domain("bad host.example"), "");
  EXPECT_EQ(normalize_domain("a..b"), "");
  EXPECT_EQ(normalize_domain(".a.b"), "");
  EXPECT_EQ(normalize_domain(""), "");
  EXPECT_EQ(normalize_domain("."), "");
  EXPECT_EQ(normalize_domain("198.51.100.7"), "");
  EXPECT_EQ(normalize_domain("ex\xc3\xa4mple.com"), "");
  EXPECT_EQ(normalize_domain(std::string(64, 'a') + ".com"), "");
  EXPECT_EQ(normalize_domain(std::string(63, 'a') + ".com"), std::string(63, 'a') + ".com");
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  long_name += "com";  // 259 characters
  EXPECT_EQ(normalize_domain(long_name), "");
}

TEST(IndicatorStore, UrlNormalization) {
  EXPECT_EQ(normalize_url("HTTP://Evil.Example:80/a/B?x=1#frag"), "http://evil.example/a/B?x=1");
  EXPECT_EQ(normalize_url("https://evil.example:443"), "https://evil.example/");
  EXPECT_EQ(normalize_url("https://evil.example:8443/p"), "https://evil.example:8443/p");
  EXPECT_EQ(normalize_url("http://evil.example:443/p"), "http://evil.example:443/p");
  EXPECT_EQ(normalize_url("evil.example/x.exe"), "http://evil.example/x.exe");
  EXPECT_EQ(normalize_url("evil.example"), "http://evil.example/");
  EXPECT_EQ(normalize_url("http://evil.example?q"), "http://evil.example/?q");
  EXPECT_EQ(normalize_url("http://evil.example./%7Euser/%41%2f%2F%20"), "http://evil.example/~user/A%2F%2F%20");
  EXPECT_EQ(normalize_url("http://[2001:DB8::1]:80/x"), "http://[2001:db8::1]/x");
  EXPECT_EQ(normalize_url("http://198.51.100.7:8080/bins/mozi.m"), "http://198.51.100.7:8080/bins/mozi.m");
  EXPECT_EQ(normalize_url("ftp://Files.Example/a"), "ftp://files.example/a");
  EXPECT_EQ(normalize_url("http://evil.example/100%"), "http://evil.example/100%25");
  EXPECT_EQ(normalize_url("http://evil.example/%%61"), "http://evil.example/%25a");
  EXPECT_EQ(normalize_url("http://evil.example/%25a"), "http://evil.example/%25a");
  EXPECT_EQ(normalize_url(" http://evil.example/a \n#frag"), "http://evil.example/a");
  EXPECT_EQ(normalize_url("//evil.example/a"), "http://evil.example/a");
  EXPECT_EQ(normalize_url("http://user:pw@Evil.Example:8080"), "http://user:pw@evil.example:8080/");
  EXPECT_EQ(normalize_url("2001:db8:bad::/48"), "");  // needs [brackets] in a URL
  EXPECT_EQ(normalize_url("http:///path"), "");
  EXPECT_EQ(normalize_url(""), "");
  EXPECT_EQ(normalize_url("http://evil.example:99999/"), "");
  EXPECT_EQ(normalize_url("http://evil.example:8x/"), "");
  EXPECT_EQ(normalize_url("http://[2001:db8::1/"), "");
}

TEST(IndicatorStore, UrlMatch) {
  IndicatorStore s;
  uint32_t a = s.add_source(src("a.txt"));
  ASSERT_TRUE(s.add(IndicatorType::kUrl, "http://evil.example/gate.php?id=%41", a));
  s.finalize();
  std::vector<Match> m;
  s.match_url("HTTP://EVIL.example:80/gate.php?id=A#x", m);
  EXPECT_EQ(describe(m), V{"url http://evil.example/gate.php?id=A a.txt"});
  m.clear();
  s.match_url("http://evil.example/gate.php?id=B", m);
  s.match_url("http://evil.example/Gate.php?id=A", m);  // paths are case-sensitive
  EXPECT_TRUE(m.empty());
}

TEST(IndicatorStore, Hashes) {
  IndicatorStore s;
  uint32_t a = s.add_source(src("a.txt"));
  const std::string md5 = "D41D8CD98F00B204E9800998ECF8427E";
  const std::string sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
  const std::string sha256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
  ASSERT_TRUE(s.add(IndicatorType::kHash, md5, a));
  ASSERT_TRUE(s.add(IndicatorType::kHash, sha1, a));
  ASSERT_TRUE(s.add(IndicatorType::kHash, sha256, a));
  s.finalize();
  std::vector<Match> m;
  s.match_hash("d41d8cd98f00b204e9800998ecf8427e", m);
  s.match_hash("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", m);
  s.match_hash("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", m);
  s.match_hash("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b856", m);
  EXPECT_EQ(describe(m), (V{"hash d41d8cd98f00b204e9800998ecf8427e a.txt", "hash " + sha1 + " a.txt",
                            "hash e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 a.txt"}));
  EXPECT_EQ(s.size(IndicatorType::kHash), 3u);
}

TEST(IndicatorStore, SameIndicatorTwoSourcesTwoMatchesOneSourceOnce) {
  IndicatorStore s;
  uint32_t a = s.add_source(src("a.txt"));
  uint32_t b = s.add_source(src("b.txt"));
  uint32_t c = s.add_source(src("c.txt"));
  EXPECT_TRUE(s.add(IndicatorType::kIp, "198.51.100.7", a));
  EXPECT_TRUE(s.add(IndicatorType::kIp, "198.51.100.7", b));
  EXPECT_TRUE(s.add(IndicatorType::kIp, "198.51.100.7", a));  // duplicate: valid, kept once
  EXPECT_TRUE(s.add(IndicatorType::kIp, "198.51.100.7", c));
  EXPECT_TRUE(s.add(IndicatorType::kCidr, "198.51.100.0/24", b));
  EXPECT_TRUE(s.add(IndicatorType::kCidr, "198.51.100.9/24", b));  // the same network
  EXPECT_TRUE(s.add(IndicatorType::kDomain, "evil.example", a));
  EXPECT_TRUE(s.add(IndicatorType::kDomain, "EVIL.example.", b));
  EXPECT_TRUE(s.add(IndicatorType::kDomain, "evil.example", b));
  s.finalize();
  EXPECT_EQ(ip_matches(s, "198.51.100.7"),
            (V{"ip 198.51.100.7 a.txt", "ip 198.51.100.7 b.txt", "ip 198.51.100.7 c.txt", "cidr 198.51.100.0/24 b.txt"}));
  EXPECT_EQ(domain_matches(s, "www.evil.example"), (V{"domain evil.example a.txt", "domain evil.example b.txt"}));
  EXPECT_EQ(s.size(), 6u);
  EXPECT_EQ(s.size(IndicatorType::kIp), 3u);
  EXPECT_EQ(s.size(IndicatorType::kCidr), 1u);
  EXPECT_EQ(s.size(IndicatorType::kDomain), 2u);
  EXPECT_EQ(s.source_count(), 3u);
  EXPECT_EQ(s.source(b).feed, "b.txt");
}

TEST(IndicatorStore, InvalidValuesRejected) {
  IndicatorStore s;
  uint32_t a = s.add_source(src("a.txt"));
  EXPECT_FALSE(s.add(IndicatorType::kIp, "198.51.100.256", a));
  EXPECT_FALSE(s.add(IndicatorType::kIp, "evil.example", a));
  EXPECT_FALSE(s.add(IndicatorType::kIp, "", a));
  EXPECT_FALSE(s.add(IndicatorType::kCidr, "198.51.100.0/33", a));
  EXPECT_FALSE(s.add(IndicatorType::kCidr, "198.51.100.0/", a));
  EXPECT_FALSE(s.add(IndicatorType::kCidr, "0.0.0.0/0", a));
  EXPECT_FALSE(s.add(IndicatorType::kCidr, "198.51.100.7", a));  // no prefix
  EXPECT_FALSE(s.add(IndicatorType::kCidr, "2001:db8::/129", a));
  EXPECT_FALSE(s.add(IndicatorType::kDomain, "evil example", a));
  EXPECT_FALSE(s.add(IndicatorType::kDomain, "evil.example/x", a));
  EXPECT_FALSE(s.add(IndicatorType::kUrl, "http://", a));
  EXPECT_FALSE(s.add(IndicatorType::kHash, "d41d8cd98f00b204e9800998ecf8427", a));   // 31 digits
  EXPECT_FALSE(s.add(IndicatorType::kHash, "g41d8cd98f00b204e9800998ecf8427e", a));  // not hex
  EXPECT_FALSE(s.add(IndicatorType::kIp, "198.51.100.7", 99));                       // no such source
  EXPECT_FALSE(s.add_guess("not a thing", a));
  EXPECT_FALSE(s.add_guess("", a));
  EXPECT_FALSE(s.add_guess("indicator", a));  // a guessed domain needs a dot
  EXPECT_EQ(s.size(), 0u);
  EXPECT_TRUE(s.add(IndicatorType::kDomain, "intranet-host", a));  // but add() takes it
}

TEST(IndicatorStore, AddGuess) {
  IndicatorStore s;
  uint32_t a = s.add_source(src("a.txt"));
  EXPECT_TRUE(s.add_guess("198.51.100.7", a));
  EXPECT_TRUE(s.add_guess("2001:db8::7", a));
  EXPECT_TRUE(s.add_guess("203.0.113.0/24", a));
  EXPECT_TRUE(s.add_guess("2001:db8:5::/48", a));
  EXPECT_TRUE(s.add_guess("evil.example", a));
  EXPECT_TRUE(s.add_guess("1password.example", a));
  EXPECT_TRUE(s.add_guess("https://evil.example/x", a));
  EXPECT_TRUE(s.add_guess("bad.example/dl/payload.bin", a));
  EXPECT_TRUE(s.add_guess("198.51.100.9:8080", a));
  EXPECT_TRUE(s.add_guess("d41d8cd98f00b204e9800998ecf8427e", a));
  EXPECT_TRUE(s.add_guess("da39a3ee5e6b4b0d3255bfef95601890afd80709", a));
  EXPECT_TRUE(s.add_guess("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", a));
  s.finalize();
  EXPECT_EQ(s.size(IndicatorType::kIp), 2u);
  EXPECT_EQ(s.size(IndicatorType::kCidr), 2u);
  EXPECT_EQ(s.size(IndicatorType::kDomain), 2u);
  EXPECT_EQ(s.size(IndicatorType::kUrl), 3u);
  EXPECT_EQ(s.size(IndicatorType::kHash), 3u);
  std::vector<Match> m;
  s.match_url("http://bad.example/dl/payload.bin", m);
  s.match_url("http://198.51.100.9:8080/", m);
  EXPECT_EQ(describe(m), (V{"url http://bad.example/dl/payload.bin a.txt", "url http://198.51.100.9:8080/ a.txt"}));
}

TEST(IndicatorStore, ManyIndicatorsAndMovedStore) {
  IndicatorStore s;
  uint32_t a = s.add_source(src("a.txt"));
  // Enough keys to grow every table several times.
  for (uint32_t i = 0; i < 50000; ++i) {
    ASSERT_TRUE(s.add(IndicatorType::kIp, core::IpAddress::v4(0xc6336400u + i).to_string(), a));
    ASSERT_TRUE(s.add(IndicatorType::kDomain, "h" + std::to_string(i) + ".evil.example", a));
    if (i % 2 == 0) ASSERT_TRUE(s.add(IndicatorType::kCidr, core::IpAddress::v4(0x0a000000u + (i << 8)).to_string() + "/24", a));
  }
  s.finalize();
  IndicatorStore moved = std::move(s);
  EXPECT_EQ(moved.size(), 125000u);
  EXPECT_EQ(ip_matches(moved, "198.51.100.0"), V{"ip 198.51.100.0 a.txt"});
  EXPECT_EQ(ip_matches(moved, core::IpAddress::v4(0xc6336400u + 49999).to_string().c_str()),
            V{"ip " + core::IpAddress::v4(0xc6336400u + 49999).to_string() + " a.txt"});
  EXPECT_EQ(ip_matches(moved, "10.0.4.1"), V{"cidr 10.0.4.0/24 a.txt"});
  EXPECT_EQ(ip_matches(moved, "10.0.5.1"), V{});
  EXPECT_EQ(domain_matches(moved, "x.h49999.evil.example"), V{"domain h49999.evil.example a.txt"});
  EXPECT_EQ(domain_matches(moved, "h50000.evil.example"), V{});
}

}  // namespace
}  // namespace trawl::intel

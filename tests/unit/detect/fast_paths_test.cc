// The detectors' fast paths give exactly what the plain computations give:
// DistinctHashes counts as DistinctSet<uint64_t> does, the registered-domain
// and DGA score caches answer as an uncached computation (also after slot
// collisions and for names too long to cache), entropy sums as before.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "detect/address_hash.h"
#include "detect/dga_model.h"
#include "detect/dns_util.h"
#include "detect/evidence.h"
#include "detect/scan_util.h"

namespace trawl::detect {
namespace {

TEST(DistinctHashes, CountsAsDistinctSetDoes) {
  std::mt19937_64 rng(7);
  DistinctSet<uint64_t> plain(300);
  DistinctHashes fast(300);
  for (int i = 0; i < 5000; ++i) {
    // Small values repeat often; 0 is a value like any other.
    uint64_t v = (i % 3 == 0) ? rng() % 64 : rng() % 1000;
    ASSERT_EQ(fast.add(v), plain.add(v)) << i;
    ASSERT_EQ(fast.contains(v), plain.contains(v));
    ASSERT_EQ(fast.count(), plain.count());
    ASSERT_EQ(fast.held(), plain.held());
    ASSERT_EQ(fast.saturated(), plain.saturated());
  }
  EXPECT_TRUE(fast.saturated());
  EXPECT_EQ(fast.held(), 300u);
}

// PortSet: a sorted vector up to 512 ports, a bitmap past it; both answer
// as a std::set of the ports.
TEST(PortSet, CountsAndSamplesAsASetAcrossTheSwitch) {
  std::mt19937 rng(3);
  scan::PortSet ports;
  std::set<uint16_t> ref;
  for (int i = 0; i < 4000; ++i) {
    const auto p = static_cast<uint16_t>(i < 1500 ? rng() % 700 : rng());
    ASSERT_EQ(ports.add(p), ref.insert(p).second) << i;
    ASSERT_TRUE(ports.contains(p));
    ASSERT_EQ(ports.count(), ref.size());
    if (i % 97 == 0 || i == 3999) {
      std::vector<uint16_t> want(ref.begin(), std::next(ref.begin(), static_cast<std::ptrdiff_t>(std::min<size_t>(20, ref.size()))));
      ASSERT_EQ(ports.sample(20), want) << i;
      ASSERT_FALSE(ports.contains(static_cast<uint16_t>(65535)) && !ref.contains(65535));
    }
  }
  EXPECT_GT(ref.size(), 512u);  // the bitmap was used
  EXPECT_EQ(ports.sample(100000).size(), ref.size());
}

TEST(DistinctHashes, ZeroAndGrowth) {
  DistinctHashes s(100000);
  EXPECT_FALSE(s.contains(0));
  EXPECT_TRUE(s.add(0));
  EXPECT_FALSE(s.add(0));
  EXPECT_TRUE(s.contains(0));
  for (uint64_t v = 1; v <= 20000; ++v) ASSERT_TRUE(s.add(v << 32));  // weak hashes: low bits all zero
  for (uint64_t v = 1; v <= 20000; ++v) ASSERT_TRUE(s.contains(v << 32));
  EXPECT_FALSE(s.contains(20001ull << 32));
  EXPECT_EQ(s.count(), 20001u);
  EXPECT_FALSE(s.saturated());
}

// The registered domain as the cache-free code computes it: the same
// function on a name it has not seen (a fresh suffix per call is not
// possible, so compare against answers computed on a second pass after the
// cache has been churned by thousands of other names).
TEST(DnsUtilCache, RegisteredDomainStableUnderChurn) {
  std::vector<std::string> names;
  for (int i = 0; i < 6000; ++i) {
    names.push_back("h" + std::to_string(i) + ".d" + std::to_string(i % 1500) + (i % 2 ? ".co.uk" : ".com"));
  }
  names.push_back("com");
  names.push_back("co.uk");
  names.push_back("a.b.example.com.");
  names.push_back(std::string(300, 'x') + ".example.org");  // too long to cache
  std::vector<std::string> first;
  for (const auto& n : names) first.emplace_back(dns::registered_domain(n));
  for (size_t i = names.size(); i-- > 0;) {
    ASSERT_EQ(dns::registered_domain(names[i]), first[i]) << names[i];
  }
  EXPECT_EQ(first[0], "d0.com");
  EXPECT_EQ(first[1], "d1.co.uk");
  EXPECT_EQ(first[6000], "");
  EXPECT_EQ(first[6001], "");
  EXPECT_EQ(first[6002], "example.com");
  EXPECT_EQ(first[6003], "example.org");
  // The view points into the argument, also on a cache hit.
  std::string a = "www.example.net";
  std::string_view r1 = dns::registered_domain(a);
  std::string_view r2 = dns::registered_domain(a);
  EXPECT_EQ(r1, "example.net");
  EXPECT_EQ(r2.data(), a.data() + 4);
}

TEST(DnsUtilCache, EntropyMatchesTheSumOverAllBytes) {
  auto plain = [](std::string_view s) {
    std::array<uint32_t, 256> counts{};
    for (char c : s) ++counts[static_cast<unsigned char>(c)];
    double h = 0;
    const double n = static_cast<double>(s.size());
    for (uint32_t k : counts) {
      if (k == 0) continue;
      double p = k / n;
      h -= p * std::log2(p);
    }
    return h;
  };
  std::mt19937 rng(3);
  for (int i = 0; i < 500; ++i) {
    std::string s(static_cast<size_t>(1 + rng() % 80), '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    ASSERT_EQ(dns::entropy(s), plain(s));  // bit for bit
  }
  EXPECT_EQ(dns::entropy(""), 0.0);
  EXPECT_EQ(dns::entropy("aaaa"), 0.0);
  EXPECT_EQ(dns::entropy("ab"), 1.0);
}

TEST(DgaScoreCache, SameScoreAsTheLabelScore) {
  std::vector<std::string> names;
  for (int i = 0; i < 9000; ++i) {
    std::string label;
    for (int k = i; k > 0 || label.size() < 6; k /= 26) label.push_back(static_cast<char>('a' + k % 26));
    names.push_back("www." + label + (i % 3 ? ".com" : ".co.uk"));
  }
  names.push_back("x." + std::string(100, 'q') + ".com");  // too long to cache
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& n : names) {
      LabelScore want = score_label(dns::registrable_label(n));
      LabelScore got = score_name(n, 0.5);
      ASSERT_EQ(got.score, want.score) << n;
      ASSERT_EQ(got.bits, want.bits);
      ASSERT_EQ(got.consonant_run, want.consonant_run);
      ASSERT_EQ(got.digit_ratio, want.digit_ratio);
      ASSERT_EQ(got.candidate, want.candidate);
      ASSERT_EQ(got.generated, want.candidate && want.score >= dga_threshold() + 0.5);
    }
  }
}

TEST(AddressHash, FamilyAndBytesCount) {
  auto v4 = core::IpAddress::parse("10.0.0.1");
  auto v6 = core::IpAddress::parse("::a00:1");
  auto other = core::IpAddress::parse("10.0.0.2");
  ASSERT_TRUE(v4 && v6 && other);
  EXPECT_EQ(address_hash(*v4), address_hash(*core::IpAddress::parse("10.0.0.1")));
  EXPECT_NE(address_hash(*v4), address_hash(*other));
  EXPECT_NE(address_hash(*v4), address_hash(*v6));
}

}  // namespace
}  // namespace trawl::detect

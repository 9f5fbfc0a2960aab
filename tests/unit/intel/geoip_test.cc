// GeoIp against MaxMind's published test databases (../shared/geoip). The
// expected answers come from the databases' source data (.source.json) and
// were checked with mmdblookup; OracleAgreesWithMmdblookup repeats that check.
#include "intel/geoip.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace trawl::intel {
namespace {

namespace fs = std::filesystem;

const fs::path kShared = TRAWL_SHARED_GEOIP;

core::IpAddress ip(const char* s) { return *core::IpAddress::parse(s); }

class GeoIpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kShared / "GeoLite2-City-Test.mmdb")) GTEST_SKIP() << "no test databases in " << kShared;
    dir_ = fs::path(::testing::TempDir()) / ("trawl_geoip_" + std::to_string(::getpid()) + "_" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  // A folder holding only the named test databases (as symlinks).
  std::string folder(const std::vector<std::string>& names) {
    for (const auto& n : names) fs::create_symlink(fs::absolute(kShared / n), dir_ / n);
    return dir_.string();
  }
  void write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
  }
  fs::path dir_;
};

TEST_F(GeoIpTest, CityAndAsnV4AndV6) {
  GeoIp g;
  std::string err;
  ASSERT_TRUE(g.open_dir(folder({"GeoLite2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb"}), err)) << err;
  EXPECT_TRUE(g.available());
  EXPECT_TRUE(g.warnings().empty());

  GeoInfo a = g.lookup(ip("81.2.69.160"));
  EXPECT_EQ(a.country_code, "GB");
  EXPECT_EQ(a.country, "United Kingdom");
  EXPECT_EQ(a.city, "London");
  EXPECT_EQ(a.asn, 0u);  // not in the ASN test database
  EXPECT_EQ(a.as_org, "");

  GeoInfo b = g.lookup(ip("89.160.20.112"));
  EXPECT_EQ(b.country_code, "SE");
  EXPECT_EQ(b.city, "Link\xc3\xb6ping");  // UTF-8 kept as is

  GeoInfo c = g.lookup(ip("2001:480::1"));
  EXPECT_EQ(c.country_code, "US");
  EXPECT_EQ(c.country, "United States");
  EXPECT_EQ(c.city, "San Diego");

  GeoInfo d = g.lookup(ip("2001:218::1"));  // a country without a city
  EXPECT_EQ(d.country_code, "JP");
  EXPECT_EQ(d.country, "Japan");
  EXPECT_EQ(d.city, "");

  GeoInfo e = g.lookup(ip("1.128.0.1"));  // ASN only
  EXPECT_EQ(e.asn, 1221u);
  EXPECT_EQ(e.as_org, "Telstra Pty Ltd");
  EXPECT_EQ(e.country_code, "");

  GeoInfo f = g.lookup(ip("2001:1700::1"));
  EXPECT_EQ(f.asn, 6730u);
  EXPECT_EQ(f.as_org, "Sunrise Communications AG");

  GeoInfo h = g.lookup(ip("12.81.96.1"));  // a number without an organisation
  EXPECT_EQ(h.asn, 7018u);
  EXPECT_EQ(h.as_org, "");
}

TEST_F(GeoIpTest, AddressesNotInTheDatabasesAreEmpty) {
  GeoIp g;
  std::string err;
  ASSERT_TRUE(g.open_dir(folder({"GeoLite2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb"}), err)) << err;
  for (const char* a : {"10.0.0.1", "127.0.0.1", "192.168.1.1", "198.51.100.7", "203.0.113.9", "2001:db8::1", "::1",
                        "fe80::1", "0.0.0.0", "255.255.255.255"}) {
    EXPECT_TRUE(g.lookup(ip(a)).empty()) << a;
  }
}

TEST_F(GeoIpTest, TypeComesFromMetadataAndCityBeatsCountry) {
  // The file names lie; the metadata says what each database is.
  fs::create_symlink(fs::absolute(kShared / "GeoLite2-Country-Test.mmdb"), dir_ / "a-asn.mmdb");
  fs::create_symlink(fs::absolute(kShared / "GeoLite2-City-Test.mmdb"), dir_ / "b-country.mmdb");
  GeoIp g;
  std::string err;
  ASSERT_TRUE(g.open_dir(dir_.string(), err)) << err;
  EXPECT_EQ(g.lookup(ip("2.125.160.216")).city, "Boxford");
  EXPECT_EQ(g.lookup(ip("1.128.0.1")).asn, 0u);  // no ASN database here
  std::string d = g.describe();
  EXPECT_NE(d.find("GeoLite2-City "), std::string::npos) << d;
  EXPECT_NE(d.find("b-country.mmdb"), std::string::npos) << d;
  EXPECT_EQ(d.find("GeoLite2-Country"), std::string::npos) << d;
}

TEST_F(GeoIpTest, CountryOnlyHasNoCity) {
  GeoIp g;
  std::string err;
  ASSERT_TRUE(g.open_dir(folder({"GeoLite2-Country-Test.mmdb"}), err)) << err;
  GeoInfo a = g.lookup(ip("81.2.69.160"));
  EXPECT_EQ(a.country_code, "GB");
  EXPECT_EQ(a.country, "United Kingdom");
  EXPECT_EQ(a.city, "");
  EXPECT_TRUE(g.lookup(ip("175.16.199.1")).empty());  // in the City test database only
}

TEST_F(GeoIpTest, GeoIp2PreferredOverGeoLite2) {
  // The shared folder holds both City test databases: GeoIP2 wins, so an
  // address only GeoLite2's test data has stays empty.
  GeoIp g;
  std::string err;
  ASSERT_TRUE(g.open_dir(kShared.string(), err)) << err;
  EXPECT_TRUE(g.warnings().empty());
  EXPECT_EQ(g.lookup(ip("214.78.0.1")).country_code, "");
  EXPECT_EQ(g.lookup(ip("81.2.69.160")).city, "London");
  EXPECT_EQ(g.lookup(ip("1.128.0.1")).asn, 1221u);
  std::string d = g.describe();
  EXPECT_EQ(d.rfind("GeoIP2-City 20", 0), 0u) << d;
  EXPECT_NE(d.find(", GeoLite2-ASN 20"), std::string::npos) << d;

  GeoIp lite;
  ASSERT_TRUE(lite.open_dir(folder({"GeoLite2-City-Test.mmdb"}), err)) << err;
  EXPECT_EQ(lite.lookup(ip("214.78.0.1")).city, "San Diego");
}

TEST_F(GeoIpTest, DamagedFileIsAWarningAndTheOthersLoad) {
  folder({"GeoLite2-ASN-Test.mmdb"});
  write("garbage.mmdb", "this is not a MaxMind database\n");
  std::ifstream in(kShared / "GeoLite2-City-Test.mmdb", std::ios::binary);
  std::string head(2000, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  write("truncated.mmdb", head);  // the tree without its metadata
  write("notes.txt", "not a database and not *.mmdb, so not even tried");
  GeoIp g;
  std::string err;
  ASSERT_TRUE(g.open_dir(dir_.string(), err)) << err;
  ASSERT_EQ(g.warnings().size(), 2u);
  EXPECT_NE(g.warnings()[0].find("garbage.mmdb: not a usable MaxMind database"), std::string::npos)
      << g.warnings()[0];
  EXPECT_NE(g.warnings()[1].find("truncated.mmdb: not a usable MaxMind database"), std::string::npos)
      << g.warnings()[1];
  EXPECT_EQ(g.lookup(ip("1.128.0.1")).as_org, "Telstra Pty Ltd");
  EXPECT_EQ(g.lookup(ip("81.2.69.160")).country_code, "");
}

TEST_F(GeoIpTest, OnlyDamagedFilesIsAnError) {
  write("garbage.mmdb", std::string(4096, '\xab'));
  GeoIp g;
  std::string err;
  EXPECT_FALSE(g.open_dir(dir_.string(), err));
  EXPECT_FALSE(g.available());
  EXPECT_EQ(err, "no usable GeoIP database in " + dir_.string() + " (1 .mmdb file skipped)");
  EXPECT_EQ(g.warnings().size(), 1u);
  EXPECT_TRUE(g.lookup(ip("81.2.69.160")).empty());
  EXPECT_EQ(g.describe(), "no GeoIP database");
}

TEST_F(GeoIpTest, MissingAndEmptyFolders) {
  GeoIp g;
  std::string err;
  std::string missing = (dir_ / "nowhere").string();
  EXPECT_FALSE(g.open_dir(missing, err));
  EXPECT_EQ(err.rfind("cannot read GeoIP folder " + missing + ": ", 0), 0u) << err;
  EXPECT_FALSE(g.available());

  err.clear();
  EXPECT_FALSE(g.open_dir(dir_.string(), err));
  EXPECT_EQ(err, "no GeoIP database (*.mmdb) in " + dir_.string());
}

TEST_F(GeoIpTest, ReopenReplacesAndAFileIsAccepted) {
  GeoIp g;
  std::string err;
  ASSERT_TRUE(g.open_dir((kShared / "GeoLite2-ASN-Test.mmdb").string(), err)) << err;
  EXPECT_EQ(g.lookup(ip("1.128.0.1")).asn, 1221u);
  ASSERT_TRUE(g.open_dir((kShared / "GeoLite2-Country-Test.mmdb").string(), err)) << err;
  EXPECT_EQ(g.lookup(ip("1.128.0.1")).asn, 0u);
  EXPECT_EQ(g.lookup(ip("81.2.69.160")).country_code, "GB");
  GeoIp moved = std::move(g);
  EXPECT_EQ(moved.lookup(ip("81.2.69.160")).country, "United Kingdom");
}

TEST_F(GeoIpTest, ConcurrentLookups) {
  GeoIp g;
  std::string err;
  ASSERT_TRUE(g.open_dir(folder({"GeoLite2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb"}), err)) << err;
  std::array<int, 4> bad{};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < bad.size(); ++t) {
    threads.emplace_back([&g, &bad, t] {
      for (int i = 0; i < 2000; ++i) {
        GeoInfo a = g.lookup(ip(i % 2 ? "2001:1700::1" : "175.16.199.1"));
        bool ok = i % 2 ? (a.asn == 6730 && a.country_code.empty()) : (a.city == "Changchun" && a.asn == 0);
        if (!ok) ++bad[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad, (std::array<int, 4>{}));
}

TEST(GeoIpStatic, HintAndDefaultDirs) {
  std::string hint = GeoIp::missing_hint();
  EXPECT_NE(hint.find("geoipupdate"), std::string::npos);
  EXPECT_NE(hint.find("--geoip-dir"), std::string::npos);
  EXPECT_NE(hint.find("GeoLite2-City"), std::string::npos);
  EXPECT_EQ(hint.find('\n'), std::string::npos);  // one line

  const char* old = std::getenv("TRAWL_GEOIP_DIR");
  std::string saved = old ? old : "";
  ::setenv("TRAWL_GEOIP_DIR", "some/where", 1);
  EXPECT_EQ(GeoIp::default_dirs(), (std::vector<std::string>{"some/where", "/var/lib/GeoIP", "/usr/share/GeoIP"}));
  ::unsetenv("TRAWL_GEOIP_DIR");
  EXPECT_EQ(GeoIp::default_dirs(), (std::vector<std::string>{"/var/lib/GeoIP", "/usr/share/GeoIP"}));
  if (old) ::setenv("TRAWL_GEOIP_DIR", saved.c_str(), 1);
}

// mmdblookup (Debian's mmdb-bin) as the oracle: a field it prints must be the
// one we return, and a missing entry must be empty here too.
std::string mmdblookup(const fs::path& db, const std::string& addr, const std::string& path) {
  std::string cmd = "mmdblookup --file '" + db.string() + "' --ip " + addr + " " + path + " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  if (!p) return "?";
  std::string out;
  char buf[512];
  while (out.size() < 65536 && std::fgets(buf, sizeof buf, p.get())) out += buf;
  // `  "London" <utf8_string>` or `  1221 <uint32>`
  auto lt = out.rfind(" <");
  if (lt == std::string::npos) return "";
  auto begin = out.find_first_not_of(" \n");
  std::string v = out.substr(begin, lt - begin);
  if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

TEST_F(GeoIpTest, OracleAgreesWithMmdblookup) {
  if (std::system("command -v mmdblookup >/dev/null 2>&1") != 0) GTEST_SKIP() << "mmdblookup not installed";
  GeoIp g;
  std::string err;
  ASSERT_TRUE(g.open_dir(folder({"GeoLite2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb"}), err)) << err;
  const fs::path city = kShared / "GeoLite2-City-Test.mmdb";
  const fs::path asn = kShared / "GeoLite2-ASN-Test.mmdb";
  int compared = 0;
  for (const char* a : {"2.125.160.218", "81.2.69.142", "81.2.69.170", "89.160.20.130", "175.16.199.77",
                        "202.196.224.5", "216.160.83.60", "67.43.156.200", "2001:230::1", "2a02:d5c0::9",
                        "2a02:ffc0::1", "1.0.0.1", "15.1.2.3", "38.73.130.9", "2001:2000::1", "2001:5400::1",
                        "10.1.2.3", "198.51.100.1"}) {
    GeoInfo gi = g.lookup(ip(a));
    EXPECT_EQ(gi.country_code, mmdblookup(city, a, "country iso_code")) << a;
    EXPECT_EQ(gi.country, mmdblookup(city, a, "country names en")) << a;
    EXPECT_EQ(gi.city, mmdblookup(city, a, "city names en")) << a;
    std::string n = mmdblookup(asn, a, "autonomous_system_number");
    EXPECT_EQ(gi.asn, n.empty() ? 0u : std::stoul(n)) << a;
    EXPECT_EQ(gi.as_org, mmdblookup(asn, a, "autonomous_system_organization")) << a;
    if (!gi.empty()) ++compared;
  }
  EXPECT_EQ(compared, 16);
}

}  // namespace
}  // namespace trawl::intel

// GeoIP and ASN lookups through libmaxminddb over MaxMind's City, Country and
// ASN databases (GeoLite2 or GeoIP2). Which file is which is read from each
// database's metadata (database_type), not from its name.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/ip_address.h"

namespace trawl::intel {

struct GeoInfo {
  std::string country_code;  // ISO 3166-1 alpha-2 ("GB")
  std::string country;       // English name ("United Kingdom")
  std::string city;          // English name; empty if the database has none
  uint32_t asn = 0;          // 0: unknown
  std::string as_org;        // autonomous_system_organization
  bool empty() const { return country_code.empty() && country.empty() && city.empty() && asn == 0 && as_org.empty(); }
};

class GeoIp {
 public:
  GeoIp();
  ~GeoIp();
  GeoIp(GeoIp&&) noexcept;
  GeoIp& operator=(GeoIp&&) noexcept;

  // Opens every *.mmdb in dir and keeps one City (or else Country) database
  // and one ASN database. Returns false with a message if dir cannot be read
  // or holds no usable database; a damaged file is skipped with a message in
  // warnings() and the others still load.
  bool open_dir(const std::string& dir, std::string& error);
  // The directories tried when no --geoip-dir is given: $TRAWL_GEOIP_DIR,
  // /var/lib/GeoIP, /usr/share/GeoIP (Debian's geoipupdate writes the first).
  static std::vector<std::string> default_dirs();
  bool available() const;  // at least one database open
  // Thread-safe. Private, loopback and documentation addresses give an empty GeoInfo
  // unless the database has them (the test databases do not).
  GeoInfo lookup(const core::IpAddress& a) const;
  // "GeoLite2-City 2019-... (path), GeoLite2-ASN ..." for the summary.
  std::string describe() const;
  const std::vector<std::string>& warnings() const;
  // One line telling how to get the databases (geoipupdate, MaxMind account).
  static std::string missing_hint();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trawl::intel

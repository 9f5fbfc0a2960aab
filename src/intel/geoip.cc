#include "intel/geoip.h"

#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <filesystem>
#include <system_error>

namespace trawl::intel {

namespace {

enum class DbKind : uint8_t { kCity, kCountry, kAsn };

// A folder is read once at start-up; this bounds the work a folder full of
// unrelated files can cause.
constexpr size_t kMaxFiles = 256;

struct MmdbCloser {
  void operator()(MMDB_s* m) const {
    MMDB_close(m);
    delete m;
  }
};
using MmdbPtr = std::unique_ptr<MMDB_s, MmdbCloser>;

struct Db {
  MmdbPtr mmdb;
  DbKind kind = DbKind::kCity;
  std::string type;  // metadata.database_type
  std::string path;
  uint64_t build_epoch = 0;
};

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// database_type names the product: "GeoLite2-City", "GeoIP2-Country",
// "GeoLite2-ASN", "GeoIP2-ISP" (which carries the ASN fields too),
// "GeoIP2-Enterprise" (a superset of City), "DBIP-City-Lite" ...
bool kind_of(std::string_view type, DbKind& kind) {
  if (contains(type, "City") || contains(type, "Enterprise")) {
    kind = DbKind::kCity;
  } else if (contains(type, "Country")) {
    kind = DbKind::kCountry;
  } else if (contains(type, "ASN") || contains(type, "ISP")) {
    kind = DbKind::kAsn;
  } else {
    return false;
  }
  return true;
}

// Which of two databases of the same role to keep: a City database over a
// Country one, MaxMind's commercial GeoIP2 over the free GeoLite2, then the
// newer build, then the first file name.
int rank(const Db& d) {
  int r = d.kind == DbKind::kCity ? 0 : 2;
  if (d.type.rfind("GeoIP2", 0) != 0) r += 1;
  return r;
}

bool better(const Db& a, const Db& b) {
  if (rank(a) != rank(b)) return rank(a) < rank(b);
  if (a.build_epoch != b.build_epoch) return a.build_epoch > b.build_epoch;
  return a.path < b.path;
}

std::string utf8_at(MMDB_entry_s& entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return {};
  if (data.type != MMDB_DATA_TYPE_UTF8_STRING) return {};
  // Strings in the data section are not NUL-terminated.
  return std::string(data.utf8_string, data.data_size);
}

uint32_t uint_at(MMDB_entry_s& entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return 0;
  switch (data.type) {
    case MMDB_DATA_TYPE_UINT16: return data.uint16;
    case MMDB_DATA_TYPE_UINT32: return data.uint32;
    case MMDB_DATA_TYPE_INT32: return data.int32 > 0 ? static_cast<uint32_t>(data.int32) : 0;
    case MMDB_DATA_TYPE_UINT64: return data.uint64 <= UINT32_MAX ? static_cast<uint32_t>(data.uint64) : 0;
    default: return 0;
  }
}

// Finds the record for a; false when the address is not in the database (or
// is IPv6 and the database IPv4-only).
bool find(const MMDB_s& db, const core::IpAddress& a, MMDB_entry_s& entry) {
  int err = 0;
  MMDB_lookup_result_s res;
  if (a.is_v4()) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    std::memcpy(&sa.sin_addr, a.wire_data(), 4);
    res = MMDB_lookup_sockaddr(&db, reinterpret_cast<const sockaddr*>(&sa), &err);
  } else {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    std::memcpy(&sa.sin6_addr, a.wire_data(), 16);
    res = MMDB_lookup_sockaddr(&db, reinterpret_cast<const sockaddr*>(&sa), &err);
  }
  if (err != MMDB_SUCCESS || !res.found_entry) return false;
  entry = res.entry;
  return true;
}

std::string date_of(uint64_t epoch) {
  std::time_t t = static_cast<std::time_t>(std::min<uint64_t>(epoch, INT32_MAX));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace

struct GeoIp::Impl {
  std::vector<Db> dbs;  // at most one location (City or Country) and one ASN database
  const Db* location = nullptr;
  const Db* asn = nullptr;
  std::vector<std::string> warnings;
};

GeoIp::GeoIp() : impl_(std::make_unique<Impl>()) {}
GeoIp::~GeoIp() = default;
GeoIp::GeoIp(GeoIp&&) noexcept = default;
GeoIp& GeoIp::operator=(GeoIp&&) noexcept = default;

bool GeoIp::open_dir(const std::string& dir, std::string& error) {
  impl_ = std::make_unique<Impl>();
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  if (fs::is_regular_file(dir, ec)) {
    files.push_back(dir);  // a single database given instead of its folder
  } else {
    fs::directory_iterator it(dir, ec);
    if (ec) {
      error = "cannot read GeoIP folder " + dir + ": " + ec.message();
      return false;
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      const fs::path& p = it->path();
      std::string name = p.filename().string();
      if (name.empty() || name[0] == '.' || p.extension() != ".mmdb") continue;
      std::error_code fec;
      if (!it->is_regular_file(fec)) continue;
      if (files.size() >= kMaxFiles) {
        impl_->warnings.push_back(dir + ": more than " + std::to_string(kMaxFiles) + " .mmdb files; the rest ignored");
        break;
      }
      files.push_back(p.string());
    }
    std::sort(files.begin(), files.end());
  }

  std::vector<Db> candidates;
  for (const auto& path : files) {
    MmdbPtr m(new MMDB_s{});
    int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, m.get());
    if (rc != MMDB_SUCCESS) {
      // MMDB_open leaves nothing to close when it fails.
      delete m.release();
      impl_->warnings.push_back(path + ": not a usable MaxMind database (" + MMDB_strerror(rc) + "); skipped");
      continue;
    }
    Db d;
    d.type = m->metadata.database_type ? m->metadata.database_type : "";
    d.build_epoch = m->metadata.build_epoch;
    d.path = path;
    if (!kind_of(d.type, d.kind)) {
      impl_->warnings.push_back(path + ": database type '" + d.type +
                                "' is not a City, Country or ASN database; skipped");
      continue;
    }
    d.mmdb = std::move(m);
    candidates.push_back(std::move(d));
  }

  // Keep the best location database and the best ASN database; the others
  // are closed.
  int best_loc = -1;
  int best_asn = -1;
  for (size_t i = 0; i < candidates.size(); ++i) {
    int& best = candidates[i].kind == DbKind::kAsn ? best_asn : best_loc;
    if (best < 0 || better(candidates[i], candidates[static_cast<size_t>(best)])) best = static_cast<int>(i);
  }
  impl_->dbs.reserve(2);
  if (best_loc >= 0) impl_->dbs.push_back(std::move(candidates[static_cast<size_t>(best_loc)]));
  if (best_asn >= 0) impl_->dbs.push_back(std::move(candidates[static_cast<size_t>(best_asn)]));
  for (const auto& d : impl_->dbs) {
    (d.kind == DbKind::kAsn ? impl_->asn : impl_->location) = &d;
  }
  if (impl_->dbs.empty()) {
    error = files.empty() ? "no GeoIP database (*.mmdb) in " + dir
                          : "no usable GeoIP database in " + dir + " (" + std::to_string(files.size()) +
                                " .mmdb file" + (files.size() == 1 ? "" : "s") + " skipped)";
    return false;
  }
  return true;
}

std::vector<std::string> GeoIp::default_dirs() {
  std::vector<std::string> out;
  const char* env = std::getenv("TRAWL_GEOIP_DIR");
  if (env && *env) out.emplace_back(env);
  out.emplace_back("/var/lib/GeoIP");
  out.emplace_back("/usr/share/GeoIP");
  return out;
}

bool GeoIp::available() const { return !impl_->dbs.empty(); }

GeoInfo GeoIp::lookup(const core::IpAddress& a) const {
  static const char* const kIso[] = {"country", "iso_code", nullptr};
  static const char* const kCountry[] = {"country", "names", "en", nullptr};
  static const char* const kCity[] = {"city", "names", "en", nullptr};
  static const char* const kAsn[] = {"autonomous_system_number", nullptr};
  static const char* const kOrg[] = {"autonomous_system_organization", nullptr};
  GeoInfo g;
  MMDB_entry_s entry;
  if (impl_->location && find(*impl_->location->mmdb, a, entry)) {
    g.country_code = utf8_at(entry, kIso);
    g.country = utf8_at(entry, kCountry);
    if (impl_->location->kind == DbKind::kCity) g.city = utf8_at(entry, kCity);
  }
  if (impl_->asn && find(*impl_->asn->mmdb, a, entry)) {
    g.asn = uint_at(entry, kAsn);
    g.as_org = utf8_at(entry, kOrg);
  }
  return g;
}

std::string GeoIp::describe() const {
  std::string out;
  for (const auto& d : impl_->dbs) {
    if (!out.empty()) out += ", ";
    out += d.type + " " + date_of(d.build_epoch) + " (" + d.path + ")";
  }
  return out.empty() ? "no GeoIP database" : out;
}

const std::vector<std::string>& GeoIp::warnings() const { return impl_->warnings; }

std::string GeoIp::missing_hint() {
  return "no GeoIP database: country, city and ASN columns stay empty. Get GeoLite2-City and GeoLite2-ASN "
         "(free MaxMind account, https://dev.maxmind.com/geoip/geolite2-free-geolocation-data) with Debian's "
         "geoipupdate (writes /var/lib/GeoIP) and pass --geoip-dir DIR or set TRAWL_GEOIP_DIR";
}

}  // namespace trawl::intel

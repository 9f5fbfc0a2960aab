// case.db's table layout and the SQLite helpers the writer, reader and
// `trawl query` share.
#include "store/sqlite_schema.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>

namespace trawl::store::sqlite {

namespace {

// The columns responders ask by (see docs/case.md): domain is the DNS query,
// the HTTP Host (no port), the TLS SNI or the SMTP MAIL FROM domain, lower
// case; user is whoever logged in or was named.
const std::vector<TableSpec>& specs() {
  static const std::vector<TableSpec> kSpecs = {
      {"conn",
       {{"proto", "TEXT"},
        {"service", "TEXT"},
        {"duration", "REAL"},
        {"orig_bytes", "INTEGER"},
        {"resp_bytes", "INTEGER"},
        {"conn_state", "TEXT"}}},
      {"dns", {{"domain", "TEXT"}, {"qtype", "INTEGER"}, {"rcode", "INTEGER"}}},
      {"http", {{"domain", "TEXT"}, {"method", "TEXT"}, {"uri", "TEXT"}, {"status_code", "INTEGER"}, {"user", "TEXT"}}},
      {"ssl", {{"domain", "TEXT"}, {"established", "INTEGER"}}},
      {"smtp", {{"domain", "TEXT"}, {"user", "TEXT"}}},
      {"auth", {{"service", "TEXT"}, {"user", "TEXT"}, {"outcome", "TEXT"}}},
      {"ftp", {{"user", "TEXT"}, {"command", "TEXT"}}},
      {"pop3", {{"user", "TEXT"}, {"command", "TEXT"}}},
      {"imap", {{"user", "TEXT"}, {"command", "TEXT"}}},
      {"smb", {{"user", "TEXT"}, {"command", "TEXT"}}},
      {"ssh", {}},
      {"rdp", {}},
      // ARP: orig_h/resp_h are the sender and target IP addresses.
      {"arp", {{"op", "INTEGER"}, {"sender_mac", "TEXT"}, {"target_mac", "TEXT"}}},
  };
  return kSpecs;
}

constexpr std::string_view kReserved[] = {"meta", "runs", "inputs", "findings", "finding_evidence", "record_tables"};

bool plain_identifier(std::string_view s) {
  if (s.empty() || s.size() > 48 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

const TableSpec* known_table(std::string_view log) {
  for (const auto& s : specs()) {
    if (s.log == log) return &s;
  }
  return nullptr;
}

bool is_reserved_table(std::string_view name) {
  if (name.substr(0, 7) == "sqlite_" || name.substr(0, 4) == "log_") return true;
  for (auto r : kReserved) {
    if (r == name) return true;
  }
  return false;
}

std::string table_for_log(std::string_view log) {
  if (plain_identifier(log) && !is_reserved_table(log)) return std::string(log);
  // Log names are literals in trawl's code; this only keeps an odd one from
  // colliding with the case's own tables or breaking SQL.
  std::string t = "log_";
  for (char c : log.substr(0, 48)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    t.push_back(ok ? c : '_');
  }
  return t;
}

bool Db::open(const std::string& path, int flags, std::string& error) {
  close();
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    error = path + ": " + (db_ ? sqlite3_errmsg(db_) : "cannot open");
    close();
    return false;
  }
  sqlite3_extended_result_codes(db_, 1);
  // A concurrent `trawl analyze --append` holds the write lock briefly at its
  // commit; wait for it rather than fail.
  sqlite3_busy_timeout(db_, 5000);
  return true;
}

void Db::close() {
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

bool Db::exec(const std::string& sql, std::string& error) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    error = msg ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    return false;
  }
  return true;
}

bool Stmt::prepare(sqlite3* db, std::string_view sql, std::string& error) {
  sqlite3_finalize(s_);
  s_ = nullptr;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &s_, nullptr) != SQLITE_OK) {
    error = sqlite3_errmsg(db);
    return false;
  }
  return true;
}

bool check_schema(Db& db, const std::string& path, std::string& error) {
  Stmt s;
  std::string ignored;
  if (!s.prepare(db.get(), "SELECT value FROM meta WHERE key = 'schema_version'", ignored) || s.step() != SQLITE_ROW) {
    error = path + ": not a trawl case.db (no schema version)";
    return false;
  }
  std::string_view v = s.text(0);
  int version = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), version);
  if (r.ec != std::errc() || version != kSchemaVersion) {
    error = path + ": case.db schema version " + std::string(v) + ", this trawl reads version " +
            std::to_string(kSchemaVersion) + " (re-run trawl analyze with this version to rebuild it)";
    return false;
  }
  return true;
}

bool record_tables(Db& db, std::vector<std::pair<std::string, std::string>>& out, std::string& error) {
  out.clear();
  Stmt s;
  if (!s.prepare(db.get(), "SELECT log, name FROM record_tables ORDER BY log", error)) return false;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.emplace_back(std::string(s.text(0)), std::string(s.text(1)));
  if (rc != SQLITE_DONE) {
    error = db.message();
    return false;
  }
  return true;
}

std::string quote_ident(std::string_view name) {
  std::string q = "\"";
  for (char c : name) {
    if (c == '"') q.push_back('"');
    q.push_back(c);
  }
  q.push_back('"');
  return q;
}

namespace {

// Length of the leading run of ASCII bytes, 8 at a time (most text is all
// ASCII: it is then copied in one go instead of byte by byte).
size_t ascii_prefix(std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ull) break;
  }
  while (i < s.size() && static_cast<uint8_t>(s[i]) < 0x80) ++i;
  return i;
}

}  // namespace

void to_utf8_text(std::string_view in, std::string& out) {
  size_t i = ascii_prefix(in);
  out.assign(in.data(), i);
  while (i < in.size()) {
    auto c = static_cast<uint8_t>(in[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    size_t n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    bool ok = n > 0 && i + n <= in.size();
    uint32_t cp = ok ? (c & (0xffu >> (n + 1))) : 0;
    for (size_t k = 1; ok && k < n; ++k) {
      auto b = static_cast<uint8_t>(in[i + k]);
      ok = (b & 0xc0) == 0x80;
      cp = (cp << 6) | (b & 0x3fu);
    }
    if (ok) {
      uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
      ok = cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
    }
    if (ok) {
      out.append(in.substr(i, n));
      i += n;
    } else {
      out.push_back(static_cast<char>(0xc0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
      ++i;
    }
  }
}

namespace {

bool digits(std::string_view s, size_t at, size_t n, int& v) {
  if (at + n > s.size()) return false;
  v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

bool parse_time(std::string_view t, double& out) {
  if (t.empty() || t.size() > 64) return false;
  // Epoch seconds: digits with an optional fraction.
  bool numeric = true;
  for (char c : t) numeric = numeric && ((c >= '0' && c <= '9') || c == '.');
  if (numeric) {
    auto r = std::from_chars(t.data(), t.data() + t.size(), out);
    return r.ec == std::errc() && r.ptr == t.data() + t.size() && std::isfinite(out);
  }
  int y, mo, d, h = 0, mi = 0, s = 0;
  if (!digits(t, 0, 4, y) || t.size() < 10 || t[4] != '-' || !digits(t, 5, 2, mo) || t[7] != '-' ||
      !digits(t, 8, 2, d)) {
    return false;
  }
  size_t i = 10;
  double frac = 0;
  if (i < t.size() && (t[i] == 'T' || t[i] == ' ')) {
    if (!digits(t, i + 1, 2, h) || i + 3 >= t.size() || t[i + 3] != ':' || !digits(t, i + 4, 2, mi)) return false;
    i += 6;
    if (i < t.size() && t[i] == ':') {
      if (!digits(t, i + 1, 2, s)) return false;
      i += 3;
      if (i < t.size() && t[i] == '.') {
        size_t j = i + 1;
        double scale = 0.1;
        while (j < t.size() && t[j] >= '0' && t[j] <= '9') {
          frac += (t[j] - '0') * scale;
          scale /= 10;
          ++j;
        }
        if (j == i + 1) return false;
        i = j;
      }
    }
  }
  int offset_s = 0;
  if (i < t.size()) {
    if (t[i] == 'Z' && i + 1 == t.size()) {
      ++i;
    } else if ((t[i] == '+' || t[i] == '-') && t.size() == i + 6 && t[i + 3] == ':') {
      int oh, om;
      if (!digits(t, i + 1, 2, oh) || !digits(t, i + 4, 2, om)) return false;
      offset_s = (oh * 3600 + om * 60) * (t[i] == '-' ? -1 : 1);
      i = t.size();
    } else {
      return false;
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  time_t e = timegm(&tm);
  out = static_cast<double>(e) - offset_s + frac;
  return true;
}

}  // namespace trawl::store::sqlite

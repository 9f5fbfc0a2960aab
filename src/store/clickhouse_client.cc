#include "store/clickhouse_client.h"

#include <curl/curl.h>

#include <charconv>
#include <cstdio>
#include <mutex>

#include "core/percent.h"

namespace trawl::store::clickhouse {
namespace {

bool parse_number(std::string_view s, uint64_t max, uint64_t& out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && out <= max;
}

// Responses are pages of bounded row counts; a larger body is an error, not
// an allocation without end.
constexpr size_t kMaxResponse = 512u << 20;

struct Response {
  std::string* out;
  bool too_big = false;
};

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Response*>(user);
  size_t len = size * n;
  if (r->out->size() + len > kMaxResponse) {
    r->too_big = true;
    return 0;
  }
  r->out->append(data, len);
  return len;
}

std::string percent_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' || u == '_' ||
        u == '.' || u == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

}  // namespace

std::string Url::http_base() const {
  bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/";
}

std::string Url::display() const {
  bool v6 = host.find(':') != std::string::npos;
  return "clickhouse://" + (user.empty() ? "" : user + "@") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port) + "/" + db;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool parse_url(std::string_view text, Url& out, std::string& error) {
  out = Url{};
  constexpr std::string_view scheme = "clickhouse://";
  if (text.substr(0, scheme.size()) != scheme) {
    error = "expected clickhouse://HOST[:PORT]/DB";
    return false;
  }
  std::string_view rest = text.substr(scheme.size());
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) {
    error = "no database: expected clickhouse://HOST[:PORT]/DB";
    return false;
  }
  std::string_view authority = rest.substr(0, slash);
  std::string_view db = rest.substr(slash + 1);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = cred.find(':');
    if (!core::percent_decode_strict(cred.substr(0, colon), out.user)) {
      error = "bad %-escape in the user name";
      return false;
    }
    if (colon != std::string_view::npos && !core::percent_decode_strict(cred.substr(colon + 1), out.password)) {
      error = "bad %-escape in the password";
      return false;
    }
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unclosed [ in the host";
      return false;
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "unexpected text after ]";
        return false;
      }
      port_text = after.substr(1);
    }
  } else {
    auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) {
    error = "no host";
    return false;
  }
  for (char c : out.host) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
          c == ':' || c == '_')) {
      error = "bad character in the host";
      return false;
    }
  }
  if (!port_text.empty() || authority.back() == ':') {
    uint64_t p = 0;
    if (!parse_number(port_text, 65535, p) || p == 0) {
      error = "bad port '" + std::string(port_text) + "'";
      return false;
    }
    out.port = static_cast<uint16_t>(p);
  }
  // Database names go into statements unquoted: only plain identifiers.
  bool db_ok = !db.empty() && db.size() <= 64;
  for (char c : db) {
    db_ok = db_ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!db_ok) {
    error = "bad database name '" + std::string(db) + "' (letters, digits and _)";
    return false;
  }
  out.db = std::string(db);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    std::string_view key = kv.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : kv.substr(eq + 1);
    uint64_t n = 0;
    if (key == "spool") {
      if (value.empty()) {
        error = "empty spool=";
        return false;
      }
      if (!core::percent_decode_strict(value, out.spool_dir)) {
        error = "bad %-escape in spool=";
        return false;
      }
      continue;
    }
    bool ok = false;
    if (key == "batch") {
      // At most one ClickHouse insert block (max_insert_block_size), so a
      // batch is stored whole or not at all.
      ok = parse_number(value, 1000000, n) && n > 0;
      out.batch_rows = n;
    } else if (key == "flush_ms") {
      ok = parse_number(value, 3600000, n);
      out.flush_ms = static_cast<int64_t>(n);
    } else if (key == "retries") {
      ok = parse_number(value, 20, n);
      out.retries = static_cast<int>(n);
    } else if (key == "backoff_ms") {
      ok = parse_number(value, 60000, n);
      out.backoff_ms = static_cast<int64_t>(n);
    } else if (key == "page") {
      ok = parse_number(value, 1000000, n) && n > 0;
      out.page_rows = n;
    } else {
      error = "unknown option '" + std::string(key) + "' (batch, flush_ms, retries, backoff_ms, page, spool)";
      return false;
    }
    if (!ok) {
      error = "bad value for " + std::string(key) + ": '" + std::string(value) + "'";
      return false;
    }
  }
  return true;
}

void append_tsv_escaped(std::string_view field, std::string& out) {
  for (char c : field) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\0': out += "\\0"; break;
      default: out += c;
    }
  }
}

std::string tsv_unescape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    if (c != '\\' || i + 1 == field.size()) {
      out += c;
      continue;
    }
    char e = field[++i];
    switch (e) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case '0': out += '\0'; break;
      default: out += e;  // \\ \' and anything else: the character itself
    }
  }
  return out;
}

std::string date_of(core::Timestamp ts) {
  // Days from 1970-01-01, clamped to the range every ClickHouse version
  // documents for Date (1970-01-01 .. 2105-12-31).
  int64_t days = ts.ns < 0 ? 0 : ts.ns / core::kNsPerSec / 86400;
  if (days > 49672) days = 49672;
  // Civil date from a day count (proleptic Gregorian, era arithmetic).
  int64_t z = days + 719468;
  int64_t era = z / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", static_cast<int>(y), static_cast<int>(m), static_cast<int>(d));
  return buf;
}

std::string_view json_string_field(std::string_view json, std::string_view key) {
  // trawl's writers put no space after ':' and the keys this is asked for
  // are unique top-level keys with plain values (uids, addresses).
  std::string pattern = "\"" + std::string(key) + "\":\"";
  auto at = json.find(pattern);
  if (at == std::string_view::npos) return {};
  size_t start = at + pattern.size();
  auto end = json.find('"', start);
  if (end == std::string_view::npos || end - start > 256) return {};
  std::string_view v = json.substr(start, end - start);
  if (v.find('\\') != std::string_view::npos) return {};
  return v;
}

Client::Client(const Url& url) : url_(url) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  headers_ = curl_slist_append(nullptr, "Expect:");
}

Client::~Client() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
  if (headers_) curl_slist_free_all(static_cast<curl_slist*>(headers_));
}

bool Client::post(const std::string& url, const std::string& body, std::string& out, std::string& error,
                  bool* retryable) {
  out.clear();
  if (retryable) *retryable = true;
  auto* c = static_cast<CURL*>(curl_);
  if (!c) {
    error = "libcurl could not be initialised";
    return false;
  }
  Response resp{&out};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  // A stalled server: no progress for 60 s is an error, a long transfer is not.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // never through an http_proxy from the environment
  // Without this, curl asks "Expect: 100-continue" on large bodies and waits
  // a second for an answer 18.16 does not send: a second per batch.
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers_));
  if (!url_.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, url_.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, url_.password.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    error = resp.too_big ? std::string("response larger than 512 MiB") : std::string(curl_easy_strerror(rc));
    if (resp.too_big && retryable) *retryable = false;
    return false;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    std::string text = out.substr(0, 400);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    error = "HTTP " + std::to_string(status) + ": " + text;
    // 18.16 answers most exceptions with 500; a refused statement keeps
    // failing, and the retries are bounded, so 5xx counts as retryable.
    if (retryable) *retryable = status >= 500;
    return false;
  }
  return true;
}

bool Client::query(const std::string& sql, std::string& out, std::string& error, bool* retryable) {
  return post(url_.http_base(), sql, out, error, retryable);
}

bool Client::insert(const std::string& table, const std::string& rows, std::string& error, bool* retryable) {
  std::string sql = "INSERT INTO " + url_.db + "." + table + " FORMAT TabSeparated";
  std::string out;
  // Through a Distributed table, an answer means the shards have the rows
  // (not a local queue that a crash could lose); ignored by MergeTree tables.
  return post(url_.http_base() + "?insert_distributed_sync=1&query=" + percent_encode(sql), rows, out, error,
              retryable);
}

std::string create_database_sql(const Url& url) { return "CREATE DATABASE IF NOT EXISTS " + url.db; }

// Types that 18.16 and current ClickHouse both have: no DateTime64,
// LowCardinality or JSON; time is ts_ns (nanoseconds). Ordered by day, then
// run and seq: time ranges prune by date, and reading a run back in its
// engine order (seq windows) uses the primary key instead of a full scan.
std::string create_log_table_sql(const Url& url, std::string_view table) {
  return "CREATE TABLE IF NOT EXISTS " + url.db + "." + std::string(table) +
         " (date Date, ts_ns Int64, run_id String, seq UInt64, uid String, orig_h String, resp_h String,"
         " json String) ENGINE = MergeTree() PARTITION BY toYYYYMM(date) ORDER BY (date, run_id, seq)";
}

std::string create_fixed_table_sql(const Url& url, std::string_view table) {
  std::string head = "CREATE TABLE IF NOT EXISTS " + url.db + "." + std::string(table);
  if (table == "runs") {
    return head +
           " (date Date, started_ns Int64, run_id String, trawl_version String, command_line String,"
           " records UInt64, findings UInt64, spooled UInt64) ENGINE = MergeTree() PARTITION BY toYYYYMM(date)"
           " ORDER BY (started_ns, run_id)";
  }
  if (table == "inputs") {
    return head +
           " (date Date, run_id String, seq UInt64, path String, size UInt64, mtime_ns Int64, identity String)"
           " ENGINE = MergeTree() PARTITION BY toYYYYMM(date) ORDER BY (run_id, seq)";
  }
  return head +
         " (date Date, ts_ns Int64, run_id String, seq UInt64, id String, src String, json String)"
         " ENGINE = MergeTree() PARTITION BY toYYYYMM(date) ORDER BY (date, run_id, seq)";
}

}  // namespace trawl::store::clickhouse

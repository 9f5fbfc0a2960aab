// trawl query: answers a responder's common questions from a case's case.db
// without SQL (--host, --domain, --finding, --uid, --between), and runs
// read-only SQL for the rest. docs/case.md has examples.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "app/cli.h"
#include "core/ip_address.h"
#include "output/json_line.h"
#include "store/sqlite_schema.h"

namespace trawl::app {

namespace {

using store::sqlite::Db;
using store::sqlite::Stmt;

const char kQueryUsage[] =
    "usage: trawl query CASE [--host IP | --domain D | --finding N|TYPE | --uid UID] [--between T1 T2]\n"
    "                  [--log LOG[,LOG...]] [--json | --csv] [--limit N] [SQL]\n"
    "\n"
    "CASE is a case folder (its case.db) or a case.db file. Without a question it summarises the case.\n"
    "  --host IP        the host's connections, DNS, HTTP and other records, and its findings\n"
    "  --domain D       who resolved or contacted D or its subdomains (dns, http host, ssl sni, smtp\n"
    "                   mail from), the connections to the addresses it resolved to, related findings\n"
    "  --finding N|TYPE finding number N (its line in findings.jsonl) or every finding of TYPE\n"
    "                   (scan.tcp_syn, or scan for every scan.*), with the records of its evidence\n"
    "  --uid UID        every record of one connection and the findings citing it\n"
    "  --between T1 T2  only records (and findings) in [T1, T2]: ISO-8601 (2024-03-12T10:00:00Z)\n"
    "                   or epoch seconds; alone, every record in the interval\n"
    "  --log LOGS       only these logs (conn,dns,http,...; findings for the findings)\n"
    "  --json           JSON lines: {\"log\":...,\"record\":<the stored line>} (SQL: one object per row)\n"
    "  --csv            CSV with a header\n"
    "  --limit N        rows per table (default 100 on the terminal, all with --json/--csv; 0: all)\n"
    "  SQL              one read-only statement (SELECT ...) over the tables in docs/case.md\n"
    "exit status: 0 answered, 1 SQL error, 2 usage error or no case\n";

enum class OutFormat { kTable, kJson, kCsv };

struct Options {
  std::string case_path;
  std::string sql;
  std::string host, domain, finding, uid;
  bool has_between = false;
  double t1 = 0, t2 = 0;
  std::vector<std::string> logs;  // empty: all
  OutFormat format = OutFormat::kTable;
  int64_t limit = -1;  // -1: the format's default
};

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "trawl query: %s\n(trawl query -h for help)\n", msg.c_str());
  return 2;
}

// For the terminal: control bytes shown as \xNN (records hold whatever the
// network sent), long cells cut.
std::string terminal_text(std::string_view s, size_t max_chars = 80) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<uint8_t>(s[i]);
    bool cont = (c & 0xc0) == 0x80;
    if (!cont && chars >= max_chars) {
      out += "...";
      break;
    }
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
      chars += 4;
      continue;
    }
    out.push_back(static_cast<char>(c));
    if (!cont) ++chars;
  }
  return out;
}

size_t display_width(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<uint8_t>(c) & 0xc0) != 0x80;
  return n;
}

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// One table of an answer.
struct Section {
  std::string title;  // log name, or "findings"
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> json;    // the stored line of each row
  std::vector<int64_t> finding_id;  // findings only
  bool more = false;                // the limit cut it
};

void print_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(headers.size());
  std::vector<std::vector<std::string>> shown;
  shown.reserve(rows.size());
  for (size_t c = 0; c < headers.size(); ++c) w[c] = display_width(headers[c]);
  for (const auto& r : rows) {
    std::vector<std::string> s;
    for (size_t c = 0; c < r.size(); ++c) {
      s.push_back(terminal_text(r[c]));
      w[c] = std::max(w[c], display_width(s.back()));
    }
    shown.push_back(std::move(s));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = " ";
    for (size_t c = 0; c < cells.size(); ++c) {
      out += ' ';
      out += cells[c];
      if (c + 1 < cells.size()) out.append(w[c] - display_width(cells[c]) + 1, ' ');
    }
    std::printf("%s\n", out.c_str());
  };
  line(headers);
  for (const auto& r : shown) line(r);
}

void print_sections(const std::vector<Section>& sections, OutFormat format, bool& csv_header_done) {
  for (const auto& s : sections) {
    if (format == OutFormat::kJson) {
      for (size_t i = 0; i < s.rows.size(); ++i) {
        std::string out = "{\"log\":";
        output::append_json_string(out, s.title);
        if (s.title == "findings") out += ",\"finding\":" + std::to_string(s.finding_id[i]);
        out += ",\"record\":";
        out += s.json[i];
        out += "}";
        std::printf("%s\n", out.c_str());
      }
    } else if (format == OutFormat::kCsv) {
      if (!csv_header_done) {
        std::printf("log,id,ts,uid,orig_h,orig_p,resp_h,resp_p,info\n");
        csv_header_done = true;
      }
      for (const auto& r : s.rows) {
        std::string out = csv_field(s.title);
        // Records: id is seq; findings: the finding number, ts, src as orig_h.
        for (const auto& c : r) out += "," + csv_field(c);
        std::printf("%s\n", out.c_str());
      }
    } else {
      std::printf("%s (%zu%s)\n", s.title.c_str(), s.rows.size(), s.more ? "+" : "");
      if (!s.rows.empty()) {
        // The terminal leaves out the id column of records (seq).
        if (s.title == "findings") {
          print_table(s.headers, s.rows);
        } else {
          std::vector<std::string> h(s.headers.begin() + 1, s.headers.end());
          std::vector<std::vector<std::string>> rows;
          for (const auto& r : s.rows) rows.emplace_back(r.begin() + 1, r.end());
          print_table(h, rows);
        }
      }
      if (s.more) std::printf("  ... more (--limit N to see more, --limit 0 for all)\n");
      std::printf("\n");
    }
  }
}

// Short per-log summary of a row, from its typed columns.
std::string info_expr(std::string_view log) {
  if (log == "conn") {
    return "proto || coalesce('/' || service, '') || ' ' || conn_state || "
           "coalesce(' ' || orig_bytes || '/' || resp_bytes || ' bytes', '')";
  }
  if (log == "dns") {
    return "coalesce(domain, '-') || coalesce(' qtype ' || qtype, '') || coalesce(' rcode ' || rcode, '') || "
           "coalesce(' -> ' || (SELECT group_concat(value, ' ') FROM json_each(json, '$.answers')), '')";
  }
  if (log == "http") {
    return "coalesce(method, '-') || ' ' || coalesce(domain, '-') || coalesce(uri, '') || "
           "coalesce(' ' || status_code, '')";
  }
  if (log == "ssl") return "coalesce(domain, '-') || CASE established WHEN 1 THEN ' established' ELSE '' END";
  if (log == "smtp") {
    return "coalesce(json_extract(json, '$.mailfrom'), '-') || coalesce(' user ' || user, '')";
  }
  if (log == "auth") return "service || ' ' || coalesce(user, '-') || ' ' || outcome";
  if (log == "ftp" || log == "pop3" || log == "imap" || log == "smb") {
    return "coalesce(user, '-') || ' ' || coalesce(command, '')";
  }
  if (log == "arp") {
    return "CASE op WHEN 1 THEN 'request' WHEN 2 THEN 'reply' ELSE 'op ' || op END || ' from ' || "
           "coalesce(sender_mac, '-')";
  }
  if (log == "ssh") {
    return "coalesce(json_extract(json, '$.client'), '-') || coalesce(' auth_success ' || "
           "json_extract(json, '$.auth_success'), '')";
  }
  if (log == "rdp") return "coalesce(json_extract(json, '$.cookie'), '')";
  return "''";
}

bool has_column(std::string_view log, std::string_view col) {
  const auto* spec = store::sqlite::known_table(log);
  if (!spec) return false;
  for (const auto& c : spec->extra) {
    if (col == c.name) return true;
  }
  return false;
}

class Query {
 public:
  Query(Db& db, const Options& o) : db_(db), o_(o) {}

  bool load_tables(std::string& error) { return store::sqlite::record_tables(db_, tables_, error); }

  // The domain and its subdomains, against a column.
  static std::string domain_match(const std::string& col) {
    return "(" + col + " = :domain OR substr(" + col + ", -length(:domain) - 1) = '.' || :domain)";
  }

  bool wanted(std::string_view log) const {
    if (o_.logs.empty()) return true;
    for (const auto& l : o_.logs) {
      if (l == log) return true;
    }
    return false;
  }

  bool table_exists(std::string_view log, std::string& name) const {
    for (const auto& [l, n] : tables_) {
      if (l == log) {
        name = n;
        return true;
      }
    }
    return false;
  }

  // Finding numbers the question is about (--finding), as SQL.
  std::string finding_set() const {
    if (!o_.finding.empty() && o_.finding.find_first_not_of("0123456789") == std::string::npos) {
      return "SELECT id FROM findings WHERE id = :finding_id";
    }
    return "SELECT id FROM findings WHERE type = :finding OR substr(type, 1, length(:finding) + 1) = :finding || '.'";
  }

  // uids of the domain's records (http, ssl, smtp; dns too for evidence:
  // a DNS connection goes to the resolver, not to the domain).
  std::string domain_uids(bool with_dns) const {
    std::string u;
    for (const auto& [log, name] : tables_) {
      if (!has_column(log, "domain") || (log == "dns" && !with_dns)) continue;
      if (!u.empty()) u += " UNION ";
      u += "SELECT uid FROM " + store::sqlite::quote_ident(name) + " WHERE " + domain_match("domain");
    }
    return u;
  }

  bool run(std::vector<Section>& out, std::string& error) {
    if (!load_tables(error)) return false;
    for (const auto& [log, name] : tables_) {
      if (!wanted(log)) continue;
      std::string where;
      bool in_domain = false;
      if (!o_.host.empty()) {
        where = "(orig_h = :host OR resp_h = :host)";
      } else if (!o_.uid.empty()) {
        where = "uid = :uid";
      } else if (!o_.finding.empty()) {
        where = "uid IN (SELECT uid FROM finding_evidence WHERE finding IN (" + finding_set() + "))";
      } else if (!o_.domain.empty()) {
        if (has_column(log, "domain")) {
          where = domain_match("domain");
          in_domain = true;
        } else if (log == "conn") {
          // Connections to what the domain resolved to, and the connections
          // that carried its HTTP/TLS/SMTP records.
          std::string answers;
          std::string dns;
          if (table_exists("dns", dns)) {
            answers = "resp_h IN (SELECT a.value FROM " + store::sqlite::quote_ident(dns) +
                      " AS d, json_each(d.json, '$.answers') AS a WHERE " + domain_match("d.domain") + ")";
          }
          std::string uids = domain_uids(false);
          if (answers.empty() && uids.empty()) continue;
          where = "(" + (answers.empty() ? std::string("0") : answers) + " OR uid IN (" +
                  (uids.empty() ? std::string("SELECT NULL") : uids) + "))";
          in_domain = true;
        }
        if (!in_domain) continue;
      }
      if (o_.has_between) where += std::string(where.empty() ? "" : " AND ") + "ts BETWEEN :t1 AND :t2";
      Section s;
      s.title = log;
      s.headers = {"id", "ts", "uid", "orig_h", "orig_p", "resp_h", "resp_p", "info"};
      std::string ts_col = o_.format == OutFormat::kTable ? "strftime('%Y-%m-%d %H:%M:%f', ts, 'unixepoch')"
                                                       : "printf('%.6f', ts)";
      std::string sql = "SELECT seq, " + ts_col + ", uid, orig_h, orig_p, resp_h, resp_p, " + info_expr(log) +
                        ", json FROM " + store::sqlite::quote_ident(name) + (where.empty() ? "" : " WHERE " + where) +
                        " ORDER BY ts, seq";
      if (!fill(s, sql, 8, error)) return false;
      if (!s.rows.empty() || has_question()) out.push_back(std::move(s));
    }
    if (wanted("findings")) {
      std::string where;
      if (!o_.host.empty()) {
        where = "(src = :host OR EXISTS (SELECT 1 FROM json_each(findings.json, '$.dst') WHERE value = :host))";
      } else if (!o_.uid.empty()) {
        where = "id IN (SELECT finding FROM finding_evidence WHERE uid = :uid)";
      } else if (!o_.finding.empty()) {
        where = "id IN (" + finding_set() + ")";
      } else if (!o_.domain.empty()) {
        where = "(" + domain_match("src") +
                " OR EXISTS (SELECT 1 FROM json_each(findings.json, '$.dst') WHERE " + domain_match("value") + ")";
        std::string uids = domain_uids(true);
        if (!uids.empty()) where += " OR id IN (SELECT finding FROM finding_evidence WHERE uid IN (" + uids + "))";
        where += ")";
      }
      if (o_.has_between) where += std::string(where.empty() ? "" : " AND ") + "ts <= :t2 AND last_ts >= :t1";
      Section s;
      s.title = "findings";
      std::string ts_col = o_.format == OutFormat::kTable ? "strftime('%Y-%m-%d %H:%M:%S', ts, 'unixepoch')"
                                                       : "printf('%.6f', ts)";
      if (o_.format == OutFormat::kTable) {
        s.headers = {"#", "severity", "type", "first", "src", "summary"};
        std::string sql = "SELECT id, severity, type, " + ts_col + ", src, summary, json FROM findings" +
                          (where.empty() ? "" : " WHERE " + where) + " ORDER BY id";
        if (!fill(s, sql, 6, error)) return false;
      } else {
        // The CSV's shared columns: id, ts, uid (none), orig_h (the actor), ..., info.
        s.headers = {"id", "ts", "uid", "orig_h", "orig_p", "resp_h", "resp_p", "info"};
        std::string sql = "SELECT id, " + ts_col +
                          ", '', src, '', '', '', severity || ' ' || type || ': ' || summary, json FROM findings" +
                          (where.empty() ? "" : " WHERE " + where) + " ORDER BY id";
        if (!fill(s, sql, 8, error)) return false;
      }
      for (const auto& r : s.rows) s.finding_id.push_back(std::stoll(r[0]));
      out.push_back(std::move(s));
    }
    return true;
  }

 private:
  bool has_question() const {
    return !o_.host.empty() || !o_.uid.empty() || !o_.finding.empty() || !o_.domain.empty();
  }

  void bind(Stmt& s) const {
    auto text = [&](const char* name, const std::string& v) {
      int i = sqlite3_bind_parameter_index(s.get(), name);
      if (i > 0) sqlite3_bind_text(s.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    };
    text(":host", o_.host);
    text(":uid", o_.uid);
    text(":finding", o_.finding);
    text(":domain", o_.domain);
    if (int i = sqlite3_bind_parameter_index(s.get(), ":finding_id"); i > 0) {
      sqlite3_bind_int64(s.get(), i, std::strtoll(o_.finding.c_str(), nullptr, 10));
    }
    if (int i = sqlite3_bind_parameter_index(s.get(), ":t1"); i > 0) sqlite3_bind_double(s.get(), i, o_.t1);
    if (int i = sqlite3_bind_parameter_index(s.get(), ":t2"); i > 0) sqlite3_bind_double(s.get(), i, o_.t2);
  }

  // Runs `sql` whose first `ncols` columns are the row's cells and the next
  // one the stored JSON line.
  bool fill(Section& s, const std::string& sql, int ncols, std::string& error) {
    Stmt st;
    int64_t limit = o_.limit >= 0 ? o_.limit : (o_.format == OutFormat::kTable ? 100 : 0);
    if (!st.prepare(db_.get(), sql + (limit > 0 ? " LIMIT " + std::to_string(limit + 1) : ""), error)) return false;
    bind(st);
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      if (limit > 0 && static_cast<int64_t>(s.rows.size()) == limit) {
        s.more = true;
        break;
      }
      std::vector<std::string> row;
      for (int c = 0; c < ncols; ++c) row.emplace_back(st.text(c));
      s.rows.push_back(std::move(row));
      s.json.emplace_back(st.text(ncols));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      error = db_.message();
      return false;
    }
    return true;
  }

  Db& db_;
  const Options& o_;
  std::vector<std::pair<std::string, std::string>> tables_;
};

// Refuses anything but reading (query_only already stops writes; ATTACH could
// still create files).
int authorizer(void*, int action, const char*, const char*, const char*, const char*) {
  switch (action) {
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
      return SQLITE_DENY;
    default:
      return SQLITE_OK;
  }
}

void json_value(sqlite3_stmt* s, int c, std::string& out) {
  switch (sqlite3_column_type(s, c)) {
    case SQLITE_NULL: out += "null"; break;
    case SQLITE_INTEGER: out += std::to_string(sqlite3_column_int64(s, c)); break;
    case SQLITE_FLOAT: {
      double d = sqlite3_column_double(s, c);
      if (!std::isfinite(d)) {
        out += "null";
      } else {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", d);
        out += buf;
      }
      break;
    }
    case SQLITE_BLOB: {
      static const char kHex[] = "0123456789abcdef";
      const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s, c));
      int n = sqlite3_column_bytes(s, c);
      out.push_back('"');
      for (int i = 0; i < n; ++i) {
        out.push_back(kHex[p[i] >> 4]);
        out.push_back(kHex[p[i] & 15]);
      }
      out.push_back('"');
      break;
    }
    default: {
      const auto* t = sqlite3_column_text(s, c);
      output::append_json_string(
          out, std::string_view(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s, c))));
    }
  }
}

int run_sql(Db& db, const Options& o) {
  const char* tail = nullptr;
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db.get(), o.sql.c_str(), static_cast<int>(o.sql.size()), &raw, &tail) != SQLITE_OK) {
    std::fprintf(stderr, "trawl query: SQL error: %s\n", db.message().c_str());
    return 1;
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> st(raw, sqlite3_finalize);
  std::string_view rest(tail ? tail : "");
  if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    std::fprintf(stderr, "trawl query: SQL error: one statement at a time\n");
    return 1;
  }
  if (!st) {
    std::fprintf(stderr, "trawl query: SQL error: no statement\n");
    return 1;
  }
  if (!sqlite3_stmt_readonly(st.get())) {
    std::fprintf(stderr, "trawl query: SQL error: the case is read-only here: only queries (SELECT ...) run\n");
    return 1;
  }
  int ncols = sqlite3_column_count(st.get());
  std::vector<std::string> headers;
  for (int c = 0; c < ncols; ++c) headers.emplace_back(sqlite3_column_name(st.get(), c));
  int64_t limit = o.limit >= 0 ? o.limit : (o.format == OutFormat::kTable ? 100 : 0);
  std::vector<std::vector<std::string>> rows;
  bool more = false;
  if (o.format == OutFormat::kCsv) {
    std::string h;
    for (int c = 0; c < ncols; ++c) h += (c ? "," : "") + csv_field(headers[static_cast<size_t>(c)]);
    std::printf("%s\n", h.c_str());
  }
  int rc;
  int64_t n = 0;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    if (limit > 0 && n == limit) {
      more = true;
      break;
    }
    ++n;
    if (o.format == OutFormat::kJson) {
      std::string out = "{";
      for (int c = 0; c < ncols; ++c) {
        if (c) out.push_back(',');
        output::append_json_string(out, headers[static_cast<size_t>(c)]);
        out.push_back(':');
        json_value(st.get(), c, out);
      }
      out.push_back('}');
      std::printf("%s\n", out.c_str());
      continue;
    }
    std::vector<std::string> row;
    for (int c = 0; c < ncols; ++c) {
      const auto* t = sqlite3_column_text(st.get(), c);
      row.emplace_back(t ? std::string(reinterpret_cast<const char*>(t),
                                        static_cast<size_t>(sqlite3_column_bytes(st.get(), c)))
                         : (o.format == OutFormat::kTable ? "NULL" : ""));
    }
    if (o.format == OutFormat::kCsv) {
      std::string out;
      for (int c = 0; c < ncols; ++c) out += (c ? "," : "") + csv_field(row[static_cast<size_t>(c)]);
      std::printf("%s\n", out.c_str());
    } else {
      rows.push_back(std::move(row));
    }
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    std::fflush(stdout);
    std::fprintf(stderr, "trawl query: SQL error: %s\n", db.message().c_str());
    return 1;
  }
  if (o.format == OutFormat::kTable) {
    print_table(headers, rows);
    std::printf("(%lld row%s%s)\n", static_cast<long long>(n), n == 1 ? "" : "s",
                more ? "; more: --limit N to see more, --limit 0 for all" : "");
  }
  return 0;
}

// No question: what the case holds.
int summary(Db& db, const std::string& path) {
  std::printf("case %s (schema version %d)\n", path.c_str(), store::sqlite::kSchemaVersion);
  Stmt runs;
  std::string error;
  if (!runs.prepare(db.get(),
                    "SELECT run_id, started, trawl_version, packets, "
                    "strftime('%Y-%m-%d %H:%M:%S', first_ts, 'unixepoch'), "
                    "strftime('%Y-%m-%d %H:%M:%S', last_ts, 'unixepoch'), records, findings, "
                    "(SELECT count(*) FROM inputs WHERE inputs.run_id = runs.run_id) FROM runs ORDER BY run_id",
                    error)) {
    std::fprintf(stderr, "trawl query: %s\n", error.c_str());
    return 1;
  }
  std::vector<std::vector<std::string>> rows;
  while (runs.step() == SQLITE_ROW) {
    std::vector<std::string> r;
    for (int c = 0; c < 9; ++c) r.emplace_back(runs.is_null(c) ? "-" : std::string(runs.text(c)));
    rows.push_back(std::move(r));
  }
  std::printf("runs:\n");
  print_table({"run", "started", "version", "packets", "first (UTC)", "last (UTC)", "records", "findings", "inputs"},
              rows);
  std::vector<std::pair<std::string, std::string>> tables;
  if (!store::sqlite::record_tables(db, tables, error)) {
    std::fprintf(stderr, "trawl query: %s\n", error.c_str());
    return 1;
  }
  rows.clear();
  for (const auto& [log, name] : tables) {
    Stmt c;
    if (c.prepare(db.get(), "SELECT count(*) FROM " + store::sqlite::quote_ident(name), error) &&
        c.step() == SQLITE_ROW) {
      rows.push_back({log, std::to_string(c.i64(0))});
    }
  }
  Stmt f;
  if (f.prepare(db.get(), "SELECT count(*) FROM findings", error) && f.step() == SQLITE_ROW) {
    rows.push_back({"findings", std::to_string(f.i64(0))});
  }
  std::printf("\ntables:\n");
  print_table({"table", "rows"}, rows);
  std::printf("\nask: --host IP, --domain D, --finding N|TYPE, --uid UID, --between T1 T2, or SQL (trawl query -h)\n");
  return 0;
}

}  // namespace

int cmd_query(const std::vector<std::string>& argv) {
  Options o;
  std::vector<std::string> positional;
  bool json = false, csv = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argv.size()) return false;
      out = argv[++i];
      return true;
    };
    if (a == "-h" || a == "--help") {
      std::printf("%s", kQueryUsage);
      return 0;
    } else if (a == "--host") {
      std::string v;
      if (!value(v)) return usage_error("--host needs an IP address");
      auto ip = core::IpAddress::parse(v);
      if (!ip) return usage_error("--host " + v + ": not an IP address");
      o.host = ip->to_string();
    } else if (a == "--domain") {
      if (!value(o.domain) || o.domain.empty()) return usage_error("--domain needs a name");
      for (auto& c : o.domain) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      while (!o.domain.empty() && o.domain.back() == '.') o.domain.pop_back();
      if (o.domain.empty()) return usage_error("--domain needs a name");
    } else if (a == "--finding") {
      if (!value(o.finding) || o.finding.empty()) return usage_error("--finding needs a number or a type");
    } else if (a == "--uid") {
      if (!value(o.uid) || o.uid.empty()) return usage_error("--uid needs a uid");
    } else if (a == "--between") {
      if (i + 2 >= argv.size()) return usage_error("--between needs two times");
      const std::string& t1 = argv[++i];
      const std::string& t2 = argv[++i];
      if (!store::sqlite::parse_time(t1, o.t1)) return usage_error("--between: cannot read the time '" + t1 + "'");
      if (!store::sqlite::parse_time(t2, o.t2)) return usage_error("--between: cannot read the time '" + t2 + "'");
      if (o.t1 > o.t2) return usage_error("--between: the first time is after the second");
      o.has_between = true;
    } else if (a == "--log") {
      std::string v;
      if (!value(v)) return usage_error("--log needs log names");
      size_t start = 0;
      while (start <= v.size()) {
        size_t comma = v.find(',', start);
        std::string name = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!name.empty()) o.logs.push_back(name);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      if (o.logs.empty()) return usage_error("--log needs log names");
    } else if (a == "--json") {
      json = true;
    } else if (a == "--csv") {
      csv = true;
    } else if (a == "--limit") {
      std::string v;
      if (!value(v) || v.empty() || v.size() > 12 || v.find_first_not_of("0123456789") != std::string::npos) {
        return usage_error("--limit needs a number");
      }
      o.limit = std::stoll(v);
    } else if (a.size() > 1 && a[0] == '-' && a[1] == '-') {
      return usage_error("unknown option " + a);
    } else {
      positional.push_back(a);
    }
  }
  if (json && csv) return usage_error("--json or --csv, not both");
  o.format = json ? OutFormat::kJson : csv ? OutFormat::kCsv : OutFormat::kTable;
  if (positional.empty()) return usage_error("which case? trawl query CASE ...");
  if (positional.size() > 2) return usage_error("one SQL statement, in quotes");
  o.case_path = positional[0];
  if (positional.size() == 2) o.sql = positional[1];
  int questions = !o.host.empty() + !o.domain.empty() + !o.finding.empty() + !o.uid.empty();
  if (questions > 1) return usage_error("one of --host, --domain, --finding, --uid at a time");
  if (!o.sql.empty() && (questions > 0 || o.has_between || !o.logs.empty())) {
    return usage_error("SQL or the question options, not both");
  }

  std::error_code ec;
  std::string db_path = o.case_path;
  if (std::filesystem::is_directory(db_path, ec)) db_path = (std::filesystem::path(db_path) / "case.db").string();
  if (!std::filesystem::is_regular_file(db_path, ec)) {
    std::fprintf(stderr, "trawl query: %s: no case.db there (trawl analyze writes it)\n", db_path.c_str());
    return 2;
  }
  Db db;
  std::string error;
  if (!db.open(db_path, SQLITE_OPEN_READONLY, error)) {
    std::fprintf(stderr, "trawl query: %s\n", error.c_str());
    return 2;
  }
  if (!db.exec("PRAGMA query_only = 1", error)) {
    std::fprintf(stderr, "trawl query: %s: %s\n", db_path.c_str(), error.c_str());
    return 2;
  }
  if (!store::sqlite::check_schema(db, db_path, error)) {
    std::fprintf(stderr, "trawl query: %s\n", error.c_str());
    return 2;
  }
  sqlite3_set_authorizer(db.get(), authorizer, nullptr);
  if (!o.sql.empty()) return run_sql(db, o);
  if (questions == 0 && !o.has_between && o.logs.empty()) return summary(db, db_path);
  Query q(db, o);
  std::vector<Section> sections;
  if (!q.run(sections, error)) {
    std::fprintf(stderr, "trawl query: %s: %s\n", db_path.c_str(), error.c_str());
    return 1;
  }
  bool csv_header = false;
  print_sections(sections, o.format, csv_header);
  return 0;
}

}  // namespace trawl::app

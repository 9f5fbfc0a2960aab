// case.db's layout, shared by the writer (sqlite_sink.cc), the reader
// (sqlite_source.cc) and `trawl query`: table and column names, the schema
// version, and small RAII wrappers over the SQLite C API. docs/case.md
// describes the tables for people.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trawl::store::sqlite {

// Bumped on any change a reader of an older case.db would misread; readers
// and --append refuse other versions with a message.
constexpr int kSchemaVersion = 1;

// Columns every record table starts with, in this order (seq is the rowid:
// the run's arrival order, unique in the whole case).
constexpr const char* kCommonColumns[] = {"seq", "run_id", "ts", "uid", "orig_h", "orig_p", "resp_h", "resp_p", "json"};

// A typed column beyond the common ones.
struct Column {
  const char* name;
  const char* type;  // "TEXT", "INTEGER", "REAL"
};
constexpr size_t kMaxExtra = 6;

// The typed columns of each log trawl knows; other logs get the common ones.
struct TableSpec {
  std::string_view log;
  std::vector<Column> extra;
};
const TableSpec* known_table(std::string_view log);

// Tables that are not record tables (a log with one of these names, or a
// name that is not a plain identifier, is stored under "log_<name>").
bool is_reserved_table(std::string_view name);
std::string table_for_log(std::string_view log);

// Owns a connection.
class Db {
 public:
  Db() = default;
  ~Db() { close(); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  // flags: SQLITE_OPEN_READONLY or SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE.
  bool open(const std::string& path, int flags, std::string& error);
  void close();
  sqlite3* get() const { return db_; }
  // Runs statements without results; false with sqlite's message.
  bool exec(const std::string& sql, std::string& error);
  std::string message() const { return db_ ? sqlite3_errmsg(db_) : "no database"; }

 private:
  sqlite3* db_ = nullptr;
};

// Owns a prepared statement.
class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept {
    if (this != &o) {
      sqlite3_finalize(s_);
      s_ = o.s_;
      o.s_ = nullptr;
    }
    return *this;
  }
  bool prepare(sqlite3* db, std::string_view sql, std::string& error);
  sqlite3_stmt* get() const { return s_; }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }
  void reset() { sqlite3_reset(s_); }
  std::string_view text(int col) const {
    const auto* p = sqlite3_column_text(s_, col);
    return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, col)))
             : std::string_view();
  }
  int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  double real(int col) const { return sqlite3_column_double(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// Checks meta.schema_version; false with a message for a file that is not a
// case.db or has another version.
bool check_schema(Db& db, const std::string& path, std::string& error);

// The record tables of a case: (log name, table name), in name order.
bool record_tables(Db& db, std::vector<std::pair<std::string, std::string>>& out, std::string& error);

// SQL identifier quoting ("name").
std::string quote_ident(std::string_view name);

// Text as it reads in the JSON line: valid UTF-8 kept, any other byte as the
// code point U+00XX (what append_json_string's \u00XX decodes to).
void to_utf8_text(std::string_view in, std::string& out);

// "2024-03-12T10:00:00Z", "2024-03-12 10:00:00.5", "2024-03-12" (UTC unless
// an offset is given) or epoch seconds ("1710237600.25"); false if neither.
bool parse_time(std::string_view text, double& epoch_seconds);

}  // namespace trawl::store::sqlite

// ClickHouse over its HTTP interface: the URL trawl takes, the TabSeparated
// encoding of rows, a small libcurl client, and the sink with the options the
// unit tests need (store/clickhouse*.cc). docs: README "Past one machine".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/sink.h"

namespace trawl::store::clickhouse {

// clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DB[?batch=N&flush_ms=N&retries=N&backoff_ms=N&page=N&spool=DIR]
struct Url {
  std::string host;          // without brackets for IPv6
  uint16_t port = 8123;
  std::string db;
  std::string user, password;
  size_t batch_rows = 20000;     // rows per INSERT
  int64_t flush_ms = 2000;       // a batch older than this is sent even when not full
  int retries = 4;               // attempts after the first one
  int64_t backoff_ms = 250;      // first wait between attempts; doubles each time
  size_t page_rows = 5000;       // seq values (so rows at most) per run and query when reading back
  std::string spool_dir = "clickhouse-spool";
  std::string http_base() const;  // "http://HOST:PORT/"
  std::string display() const;    // the URL without the password
};
// false with a message on anything it does not understand.
bool parse_url(std::string_view text, Url& out, std::string& error);

// A table name trawl writes: [a-z0-9_]{1,64}. Log names outside that are refused.
bool valid_name(std::string_view name);

// TabSeparated field escaping as ClickHouse reads and writes it.
void append_tsv_escaped(std::string_view field, std::string& out);
std::string tsv_unescape(std::string_view field);
// "YYYY-MM-DD" for the Date column, clamped to 1970-01-01 .. 2105-12-31.
std::string date_of(core::Timestamp ts);
// The value of a top-level string field "key":"..." of one of trawl's JSON
// lines (empty when absent or longer than 256 bytes); enough for the indexed
// columns, the full line is stored beside them.
std::string_view json_string_field(std::string_view json, std::string_view key);

// One HTTP exchange; a handle is not shared between threads.
class Client {
 public:
  explicit Client(const Url& url);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  // A statement in the body; `out` gets the response. false with a message
  // (transport error, or the server's exception text and HTTP status).
  // `retryable` tells a transport error or 5xx from a refused statement.
  bool query(const std::string& sql, std::string& out, std::string& error, bool* retryable = nullptr);
  // INSERT INTO `table` FORMAT TabSeparated with `rows` as the body.
  bool insert(const std::string& table, const std::string& rows, std::string& error, bool* retryable = nullptr);

 private:
  bool post(const std::string& url, const std::string& body, std::string& out, std::string& error, bool* retryable);
  Url url_;
  void* curl_ = nullptr;
  void* headers_ = nullptr;
};

// The statements that create the tables (database-qualified).
std::string create_database_sql(const Url& url);
std::string create_log_table_sql(const Url& url, std::string_view table);  // "log_conn" ...
std::string create_fixed_table_sql(const Url& url, std::string_view table);  // runs, inputs, findings

struct SinkOptions {
  bool check_server = true;  // create the database and fixed tables at once (fail early)
  std::string run_id;        // empty: made from the time, host and pid
};
std::unique_ptr<RecordSink> make_sink(const Url& url, const SinkOptions& opt, std::string& error);

}  // namespace trawl::store::clickhouse

// case.db writer: every record of a run into one table per log, with the typed
// columns responders ask by, then the run's findings and metadata.
//
// Speed: the analyze thread only copies each record's JSON line and a few
// typed fields into a row of a batch; a writer thread turns addresses into
// text and inserts full batches, table by table, kChunkRows rows per
// statement, inside one transaction. Batches cycle through a fixed pool, so
// memory is bounded and the analyze thread waits only when SQLite falls
// behind. The ts index grows with the inserts; the others are built once,
// after the last record.
//
// Safety: a new case is written to case.db.tmp without a journal and renamed
// over case.db at finish, so a crashed run leaves the old case.db untouched
// and is simply re-run. --append writes into case.db itself, in WAL mode and
// one transaction: a crash rolls the run back and the case stays as it was.
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <array>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <typeinfo>

#include "analyzers/common/auth_record.h"
#include "analyzers/dns/dns_log_record.h"
#include "analyzers/ftp/ftp_record.h"
#include "analyzers/http/http_record.h"
#include "analyzers/imap/imap_record.h"
#include "analyzers/pop3/pop3_record.h"
#include "analyzers/smb/smb_record.h"
#include "analyzers/rdp/rdp_record.h"
#include "analyzers/smtp/smtp_record.h"
#include "analyzers/ssh/ssh_record.h"
#include "analyzers/ssl/ssl_record.h"
#include "app/engine.h"
#include "store/sink.h"
#include "store/sqlite_schema.h"

namespace trawl::store {

namespace {

using sqlite::Db;
using sqlite::Stmt;

struct Value {
  enum class Kind : uint8_t { kNull, kInt, kReal, kText, kStatic, kMac };
  Kind kind = Kind::kNull;
  int64_t i = 0;
  double d = 0;
  std::string s;               // kText; kept between uses: its capacity is reused
  std::string_view fixed;      // kStatic: a name from trawl's tables, never freed
  std::array<uint8_t, 6> mac{};  // kMac: formatted by the writer
  void null() { kind = Kind::kNull; }
  void integer(int64_t v) {
    kind = Kind::kInt;
    i = v;
  }
  void real(double v) {
    kind = Kind::kReal;
    d = v;
  }
  void text(std::string_view v) {
    kind = Kind::kText;
    sqlite::to_utf8_text(v, s);
  }
  // Trusted ASCII with static storage (proto, state and outcome names): no copy.
  void name(std::string_view v) {
    kind = Kind::kStatic;
    fixed = v;
  }
  void mac_address(const std::array<uint8_t, 6>& m) {
    kind = Kind::kMac;
    mac = m;
  }
};

// One record, copied on the analyze thread (only what the record will not
// keep: text is copied, addresses and MACs are turned into text by the writer).
struct Row {
  uint32_t table = 0;
  int64_t seq = 0;
  int64_t ts_ns = 0;
  bool has_uid = false;
  bool has_addr = false;
  bool has_ports = false;
  uint16_t orig_p = 0;
  uint16_t resp_p = 0;
  core::IpAddress orig_h;
  core::IpAddress resp_h;
  std::string uid;
  std::string json;
  Value extra[sqlite::kMaxExtra];
};

constexpr size_t kBatchRows = 2048;
constexpr size_t kBatches = 4;  // in flight at most: bounds memory to a few MB

struct Batch {
  std::vector<Row> rows = std::vector<Row>(kBatchRows);
  size_t n = 0;
  std::vector<std::pair<uint32_t, std::string>> new_tables;  // registered while this batch filled
};

// ASCII lower case, in place.
void lower(std::string& s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

// Host header without its port ("Example.com:8080" -> "example.com").
std::string_view host_without_port(std::string_view h) {
  if (!h.empty() && h.front() == '[') {
    size_t end = h.find(']');
    return end == std::string_view::npos ? h : h.substr(0, end + 1);
  }
  size_t colon = h.rfind(':');
  if (colon != std::string_view::npos && h.find(':') == colon) return h.substr(0, colon);
  return h;
}

// "<Bob@Example.com>" -> "example.com"; empty when there is no domain.
std::string_view mail_domain(std::string_view from) {
  size_t at = from.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string_view d = from.substr(at + 1);
  while (!d.empty() && (d.back() == '>' || d.back() == ' ' || d.back() == '\t')) d.remove_suffix(1);
  return d;
}

std::string iso_utc(int64_t epoch_s) {
  std::time_t s = static_cast<std::time_t>(epoch_s);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// SQLite only flushes to the OS with synchronous=OFF; the new case.db must be
// on disk before it replaces the old one.
bool fsync_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

class SqliteSink final : public RecordSink {
 public:
  ~SqliteSink() override {
    stop_writer();
    if (db_.get() && !finished_) {
      std::string ignored;
      db_.exec("ROLLBACK", ignored);
    }
    tables_.clear();
    db_.close();
    if (!finished_ && !tmp_path_.empty()) remove_db_files(tmp_path_);
  }

  bool init(const std::string& path, const SqliteOptions& opt, std::string& error) {
    path_ = path;
    std::error_code ec;
    append_ = opt.append && std::filesystem::exists(path, ec);
    if (append_) {
      // NOMUTEX: one thread at a time uses the connection (the writer, then
      // the caller after joining it); SQLite's own mutex cost about 15 % of
      // every bind and step.
      if (!db_.open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, error)) return false;
      if (!sqlite::check_schema(db_, path, error)) return false;
      // WAL: readers (trawl query) keep seeing the case as it was while the
      // run is added; NORMAL syncs the WAL at commit, so even a power loss
      // leaves the existing case intact.
      if (!db_.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536", error) ||
          !db_.exec("BEGIN IMMEDIATE", error)) {
        error = path + ": " + error;
        return false;
      }
      if (!load_existing(error)) return false;
    } else {
      tmp_path_ = path + ".tmp";
      remove_db_files(tmp_path_);
      if (!db_.open(tmp_path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, error)) return false;
      // No journal and no syncs: the file is discarded if the run dies (the
      // old case.db stays until the rename at finish), and re-running the
      // analysis rebuilds it.
      if (!db_.exec("PRAGMA page_size=16384; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                    "PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-65536",
                    error) ||
          !create_base_tables(error) || !db_.exec("BEGIN", error)) {
        error = tmp_path_ + ": " + error;
        return false;
      }
      run_id_ = 1;
      next_seq_ = 1;
    }
    first_seq_ = next_seq_;
    for (size_t i = 0; i < kBatches; ++i) free_.push_back(std::make_unique<Batch>());
    cur_ = take_free();
    writer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "trawl-casedb");  // for top and perf
      writer_loop();
    });
    return true;
  }

  void on_conn(const flow::ConnRecord& r, std::string_view json) override {
    Row& w = next_row(kConnTable, "conn");
    w.ts_ns = r.ts.ns;
    set_conn(w, r.uid, r.orig_h, r.orig_p, r.resp_h, r.resp_p);
    w.extra[0].name(flow::proto_name(r.proto));
    if (r.service.empty()) {
      w.extra[1].null();
    } else {
      w.extra[1].text(r.service);
    }
    // As in conn.jsonl: duration and bytes only when the duration is set.
    if (r.has_duration) {
      w.extra[2].real(static_cast<double>(r.duration_ns) / 1e9);
      w.extra[3].integer(static_cast<int64_t>(r.orig_bytes));
      w.extra[4].integer(static_cast<int64_t>(r.resp_bytes));
    } else {
      w.extra[2].null();
      w.extra[3].null();
      w.extra[4].null();
    }
    w.extra[5].name(flow::conn_state_name(r.conn_state));
    w.json.assign(json);
  }

  void on_arp(const output::ArpRecord& r, std::string_view json) override {
    Row& w = next_row(kArpTable, "arp");
    w.ts_ns = r.ts.ns;
    w.has_uid = false;
    w.has_addr = true;
    w.has_ports = false;
    w.orig_h = r.sender_ip;
    w.resp_h = r.target_ip;
    w.extra[0].integer(r.op);
    w.extra[1].mac_address(r.sender_mac);
    w.extra[2].mac_address(r.target_mac);
    w.json.assign(json);
  }

  void on_record(const analyzers::Record& r, std::string_view json) override {
    std::string_view log = r.log();
    Row& w = next_row(table_index(log), log);
    w.ts_ns = r.ts.ns;
    w.json.assign(json);
    w.has_uid = w.has_addr = w.has_ports = false;
    // The typed record, checked by its exact type (a log name alone could be
    // reused by another record class).
    const auto& type = typeid(r);
    if (type == typeid(analyzers::dns::DnsLogRecord)) {
      const auto& d = static_cast<const analyzers::dns::DnsLogRecord&>(r);
      set_conn(w, d.uid, d.orig_h, d.orig_p, d.resp_h, d.resp_p);
      optional_text(w.extra[0], d.query.has_value(), d.query ? *d.query : std::string_view(), true);
      optional_int(w.extra[1], d.qtype);
      optional_int(w.extra[2], d.rcode);
    } else if (type == typeid(analyzers::http::HttpRecord)) {
      const auto& h = static_cast<const analyzers::http::HttpRecord&>(r);
      set_conn(w, h.uid, h.orig_h, h.orig_p, h.resp_h, h.resp_p);
      optional_text(w.extra[0], h.host.has_value(), h.host ? host_without_port(*h.host) : std::string_view(), true);
      optional_text(w.extra[1], h.method.has_value(), h.method ? *h.method : std::string_view(), false);
      optional_text(w.extra[2], h.uri.has_value(), h.uri ? *h.uri : std::string_view(), false);
      optional_int(w.extra[3], h.status_code);
      optional_text(w.extra[4], h.username.has_value(), h.username ? *h.username : std::string_view(), false);
    } else if (type == typeid(analyzers::ssl::SslRecord)) {
      const auto& s = static_cast<const analyzers::ssl::SslRecord&>(r);
      set_conn(w, s.uid, s.orig_h, s.orig_p, s.resp_h, s.resp_p);
      optional_text(w.extra[0], s.server_name.has_value(), s.server_name ? *s.server_name : std::string_view(), true);
      w.extra[1].integer(s.established ? 1 : 0);
    } else if (type == typeid(analyzers::smtp::SmtpRecord)) {
      const auto& s = static_cast<const analyzers::smtp::SmtpRecord&>(r);
      set_conn(w, s.uid, s.orig_h, s.orig_p, s.resp_h, s.resp_p);
      std::string_view dom = mail_domain(s.mailfrom);
      optional_text(w.extra[0], !dom.empty(), dom, true);
      optional_text(w.extra[1], s.has_auth_user, s.auth_user, false);
    } else if (type == typeid(analyzers::AuthRecord)) {
      const auto& a = static_cast<const analyzers::AuthRecord&>(r);
      set_conn(w, a.uid, a.client, a.client_port, a.server, a.server_port);
      w.extra[0].text(a.proto);
      optional_text(w.extra[1], !a.user.empty(), a.user, false);
      w.extra[2].name(analyzers::auth_outcome_name(a.outcome));
    } else if (type == typeid(analyzers::ftp::FtpRecord)) {
      const auto& f = static_cast<const analyzers::ftp::FtpRecord&>(r);
      set_conn(w, f.uid, f.orig_h, f.orig_p, f.resp_h, f.resp_p);
      w.extra[0].text(f.user);
      w.extra[1].text(f.command);
    } else if (type == typeid(analyzers::pop3::Pop3Record)) {
      const auto& p = static_cast<const analyzers::pop3::Pop3Record&>(r);
      set_conn(w, p.uid, p.orig_h, p.orig_p, p.resp_h, p.resp_p);
      optional_text(w.extra[0], !p.user.empty(), p.user, false);
      w.extra[1].text(p.command);
    } else if (type == typeid(analyzers::imap::ImapRecord)) {
      const auto& m = static_cast<const analyzers::imap::ImapRecord&>(r);
      set_conn(w, m.uid, m.orig_h, m.orig_p, m.resp_h, m.resp_p);
      optional_text(w.extra[0], !m.user.empty(), m.user, false);
      w.extra[1].text(m.command);
    } else if (type == typeid(analyzers::smb::SmbRecord)) {
      const auto& s = static_cast<const analyzers::smb::SmbRecord&>(r);
      set_conn(w, s.uid, s.orig_h, s.orig_p, s.resp_h, s.resp_p);
      optional_text(w.extra[0], s.has_user, s.username, false);
      w.extra[1].text(s.command_name);
    } else if (type == typeid(analyzers::ssh::SshRecord)) {
      const auto& s = static_cast<const analyzers::ssh::SshRecord&>(r);
      set_conn(w, s.uid, s.orig_h, s.orig_p, s.resp_h, s.resp_p);
    } else if (type == typeid(analyzers::rdp::RdpRecord)) {
      const auto& s = static_cast<const analyzers::rdp::RdpRecord&>(r);
      set_conn(w, s.uid, s.orig_h, s.orig_p, s.resp_h, s.resp_p);
    } else {
      // Another record type: ts and the JSON line only (its table may be one
      // with typed columns, if it shares a log name: those stay NULL).
      for (auto& v : w.extra) v.null();
    }
  }

  // The writer builds the indexes once it has written the last batch, while
  // the caller's detectors finish.
  void records_done() override {
    if (records_done_) return;
    records_done_ = true;
    {
      std::lock_guard lock(mu_);
      if (cur_ && cur_->n > 0) full_.push_back(std::move(cur_));
      index_requested_ = true;
    }
    cv_full_.notify_one();
  }

  bool finish(const std::vector<detect::Finding>& findings, const RunInfo& run, std::string& error) override {
    if (finished_) return true;
    if (cur_ && cur_->n > 0) {
      std::lock_guard lock(mu_);
      full_.push_back(std::move(cur_));
    }
    stop_writer();
    if (!writer_error_.empty()) {
      error = "case.db: " + writer_error_;
      return false;
    }
    bool ok = finish_run(findings, run, error);
    if (!ok) {
      error = "case.db: " + error;
      return false;
    }
    finished_ = true;
    return true;
  }

 private:
  static constexpr uint32_t kConnTable = 0;
  static constexpr uint32_t kArpTable = 1;

  static void remove_db_files(const std::string& p) {
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) std::remove((p + suffix).c_str());
  }

  static void optional_text(Value& v, bool has, std::string_view s, bool is_domain) {
    if (!has) {
      v.null();
      return;
    }
    v.text(s);
    if (is_domain) lower(v.s);
  }
  template <typename T>
  static void optional_int(Value& v, const std::optional<T>& x) {
    if (x) {
      v.integer(static_cast<int64_t>(*x));
    } else {
      v.null();
    }
  }

  static void set_conn(Row& w, const std::string& uid, const core::IpAddress& oh, uint16_t op,
                       const core::IpAddress& rh, uint16_t rp) {
    w.has_uid = !uid.empty();
    w.uid.assign(uid);
    w.has_addr = true;
    w.has_ports = true;
    w.orig_h = oh;
    w.resp_h = rh;
    w.orig_p = op;
    w.resp_p = rp;
  }

  // Log name -> table index, on the analyze thread; conn and arp are fixed.
  uint32_t table_index(std::string_view log) {
    for (size_t i = 0; i < logs_.size(); ++i) {
      if (logs_[i] == log) return static_cast<uint32_t>(i);
    }
    logs_.emplace_back(log);
    return static_cast<uint32_t>(logs_.size() - 1);
  }

  Row& next_row(uint32_t table, std::string_view log) {
    if (cur_->n == kBatchRows) submit();
    if (announced_.size() <= table) announced_.resize(table + 1, false);
    if (!announced_[table]) {
      announced_[table] = true;
      cur_->new_tables.emplace_back(table, std::string(log));
    }
    Row& w = cur_->rows[cur_->n++];
    w.table = table;
    w.seq = next_seq_++;
    return w;
  }

  // Hands the current batch to the writer and takes an empty one (waiting
  // while every batch is in flight: the bound on memory).
  void submit() {
    {
      std::lock_guard lock(mu_);
      full_.push_back(std::move(cur_));
    }
    cv_full_.notify_one();
    cur_ = take_free();
  }

  std::unique_ptr<Batch> take_free() {
    std::unique_lock lock(mu_);
    cv_free_.wait(lock, [this] { return !free_.empty(); });
    auto b = std::move(free_.back());
    free_.pop_back();
    b->n = 0;
    b->new_tables.clear();
    return b;
  }

  void stop_writer() {
    if (!writer_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    cv_full_.notify_one();
    writer_.join();
  }

  void writer_loop() {
    for (;;) {
      std::unique_ptr<Batch> b;
      {
        std::unique_lock lock(mu_);
        cv_full_.wait(lock, [this] { return !full_.empty() || closing_ || (index_requested_ && !indexes_built_); });
        if (full_.empty()) {
          if (index_requested_ && !indexes_built_) {
            indexes_built_ = true;
            lock.unlock();
            std::string error;
            if (writer_error_.empty() && !build_indexes(error)) writer_error_ = "indexes: " + error;
            continue;
          }
          return;
        }
        b = std::move(full_.front());
        full_.pop_front();
      }
      if (writer_error_.empty()) write_batch(*b);
      {
        std::lock_guard lock(mu_);
        free_.push_back(std::move(b));
      }
      cv_free_.notify_one();
    }
  }

  struct TableW {
    std::string log, name;
    Stmt insert;       // one row
    Stmt insert_many;  // kChunkRows rows
    size_t extra = 0;
    bool ready = false;
    std::vector<uint32_t> rows;  // this batch's rows of the table, in order
  };

  // Rows per multi-row INSERT: one statement run instead of kChunkRows saves
  // the per-statement start, halt and reset (about a fifth of an insert's
  // instructions; measured on bench200: see docs/case.md).
  static constexpr size_t kChunkRows = 16;
  // Parameters per row: the columns minus run_id, which is a literal.
  static constexpr int kCommonParams = 8;

  bool ensure_table(uint32_t idx, const std::string& log, std::string& error) {
    if (tables_.size() <= idx) tables_.resize(idx + 1);
    TableW& t = tables_[idx];
    if (t.ready) return true;
    t.log = log;
    t.name = sqlite::table_for_log(log);
    const sqlite::TableSpec* spec = sqlite::known_table(log);
    t.extra = spec ? spec->extra.size() : 0;
    std::string q = sqlite::quote_ident(t.name);
    std::string sql = "CREATE TABLE IF NOT EXISTS " + q +
                      " (seq INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, ts REAL NOT NULL, uid TEXT, orig_h TEXT,"
                      " orig_p INTEGER, resp_h TEXT, resp_p INTEGER, json TEXT NOT NULL";
    // run_id is the same in every row of the run: a literal, not a bind.
    std::string values = "(?," + std::to_string(run_id_) + ",?,?,?,?,?,?,?";
    for (size_t i = 0; i < t.extra; ++i) {
      sql += std::string(", ") + spec->extra[i].name + " " + spec->extra[i].type;
      values += ",?";
    }
    sql += ")";
    values += ")";
    // OR FAIL: no constraint can fail on rows we make, and unlike the default
    // (ABORT) it needs no statement journal for a multi-row statement; a
    // failure ends the run and the transaction is rolled back anyway.
    std::string ins = "INSERT OR FAIL INTO " + q + " VALUES " + values;
    std::string ins_many = ins;
    for (size_t i = 1; i < kChunkRows; ++i) ins_many += "," + values;
    Stmt reg;
    // The ts index is kept up to date row by row: records arrive nearly in
    // time order, so each entry lands at the end of the index, which costs
    // less than a later scan and sort of the table (measured). Entries of the
    // other indexes land all over: those are built once, at the end.
    sql += "; CREATE INDEX IF NOT EXISTS " + sqlite::quote_ident(t.name + "_ts") + " ON " + q + " (ts)";
    if (!db_.exec(sql, error) ||
        !reg.prepare(db_.get(), "INSERT OR IGNORE INTO record_tables (log, name) VALUES (?, ?)", error)) {
      return false;
    }
    sqlite3_bind_text(reg.get(), 1, t.log.data(), static_cast<int>(t.log.size()), SQLITE_STATIC);
    sqlite3_bind_text(reg.get(), 2, t.name.data(), static_cast<int>(t.name.size()), SQLITE_STATIC);
    if (reg.step() != SQLITE_DONE) {
      error = db_.message();
      return false;
    }
    if (!t.insert.prepare(db_.get(), ins, error) || !t.insert_many.prepare(db_.get(), ins_many, error)) return false;
    t.ready = true;
    return true;
  }

  // Binds row w's values from parameter `first` on; address text goes to
  // `addr` (2 * kTextMax bytes), which must live until the statement ran.
  static void bind_row(sqlite3_stmt* s, int first, Row& w, size_t extra, char* addr) {
    sqlite3_bind_int64(s, first, w.seq);
    sqlite3_bind_double(s, first + 1, static_cast<double>(w.ts_ns) / 1e9);
    if (w.has_uid) {
      sqlite3_bind_text(s, first + 2, w.uid.data(), static_cast<int>(w.uid.size()), SQLITE_STATIC);
    } else {
      sqlite3_bind_null(s, first + 2);
    }
    if (w.has_addr) {
      char* oh = addr;
      char* rh = addr + core::IpAddress::kTextMax;
      sqlite3_bind_text(s, first + 3, oh, static_cast<int>(w.orig_h.write_text(oh) - oh), SQLITE_STATIC);
      sqlite3_bind_text(s, first + 5, rh, static_cast<int>(w.resp_h.write_text(rh) - rh), SQLITE_STATIC);
    } else {
      sqlite3_bind_null(s, first + 3);
      sqlite3_bind_null(s, first + 5);
    }
    if (w.has_ports) {
      sqlite3_bind_int(s, first + 4, w.orig_p);
      sqlite3_bind_int(s, first + 6, w.resp_p);
    } else {
      sqlite3_bind_null(s, first + 4);
      sqlite3_bind_null(s, first + 6);
    }
    sqlite3_bind_text(s, first + 7, w.json.data(), static_cast<int>(w.json.size()), SQLITE_STATIC);
    for (size_t e = 0; e < extra; ++e) {
      Value& v = w.extra[e];
      int col = first + kCommonParams + static_cast<int>(e);
      switch (v.kind) {
        case Value::Kind::kNull: sqlite3_bind_null(s, col); break;
        case Value::Kind::kInt: sqlite3_bind_int64(s, col, v.i); break;
        case Value::Kind::kReal: sqlite3_bind_double(s, col, v.d); break;
        case Value::Kind::kMac:
          v.s = output::format_mac(v.mac);
          [[fallthrough]];
        case Value::Kind::kText:
          sqlite3_bind_text(s, col, v.s.data(), static_cast<int>(v.s.size()), SQLITE_STATIC);
          break;
        case Value::Kind::kStatic:
          sqlite3_bind_text(s, col, v.fixed.data(), static_cast<int>(v.fixed.size()), SQLITE_STATIC);
          break;
      }
    }
  }

  // Runs a bound insert; false (with writer_error_ set) when it failed.
  bool run_insert(sqlite3_stmt* s, const TableW& t) {
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
      writer_error_ = "writing " + t.log + ": " + db_.message();
      return false;
    }
    return true;
  }

  void write_batch(Batch& b) {
    std::string error;
    for (auto& [idx, log] : b.new_tables) {
      if (!ensure_table(idx, log, error)) {
        writer_error_ = "table " + log + ": " + error;
        return;
      }
    }
    // Rows go in table by table: each table's rows keep their (rising) seq
    // order, which is all the rowid B-tree sees; chunks of kChunkRows share
    // one statement run, the rest go one by one.
    for (auto& t : tables_) t.rows.clear();
    for (size_t k = 0; k < b.n; ++k) {
      const Row& w = b.rows[k];
      tables_[w.table].rows.push_back(static_cast<uint32_t>(k));
      if (w.ts_ns < min_ts_ || rows_written_ == 0) min_ts_ = w.ts_ns;
      if (w.ts_ns > max_ts_ || rows_written_ == 0) max_ts_ = w.ts_ns;
      ++rows_written_;
    }
    for (auto& t : tables_) {
      const int per_row = kCommonParams + static_cast<int>(t.extra);
      size_t k = 0;
      for (; k + kChunkRows <= t.rows.size(); k += kChunkRows) {
        sqlite3_stmt* s = t.insert_many.get();
        for (size_t r = 0; r < kChunkRows; ++r) {
          bind_row(s, 1 + static_cast<int>(r) * per_row, b.rows[t.rows[k + r]], t.extra, addr_text_[r]);
        }
        if (!run_insert(s, t)) return;
      }
      for (; k < t.rows.size(); ++k) {
        sqlite3_stmt* s = t.insert.get();
        bind_row(s, 1, b.rows[t.rows[k]], t.extra, addr_text_[0]);
        if (!run_insert(s, t)) return;
      }
    }
  }

  bool create_base_tables(std::string& error) {
    return db_.exec(
               "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
               "INSERT INTO meta VALUES ('schema_version', '" + std::to_string(sqlite::kSchemaVersion) + "');"
               "INSERT INTO meta VALUES ('application', 'trawl');"
               "CREATE TABLE record_tables (log TEXT PRIMARY KEY, name TEXT NOT NULL);"
               "CREATE TABLE runs (run_id INTEGER PRIMARY KEY, trawl_version TEXT, command_line TEXT,"
               " started TEXT, packets INTEGER, wire_bytes INTEGER, first_ts REAL, last_ts REAL,"
               " connections INTEGER, records INTEGER, findings INTEGER, first_seq INTEGER, last_seq INTEGER,"
               " wall_seconds REAL, input_errors TEXT);"
               "CREATE TABLE inputs (run_id INTEGER NOT NULL, path TEXT, size INTEGER, mtime_ns INTEGER,"
               " identity TEXT);"
               "CREATE TABLE findings (id INTEGER PRIMARY KEY, type TEXT NOT NULL, ts REAL, last_ts REAL,"
               " severity TEXT, confidence REAL, src TEXT, service TEXT, summary TEXT, attack TEXT,"
               " evidence_total INTEGER, json TEXT NOT NULL, run_id INTEGER NOT NULL);"
               "CREATE TABLE finding_evidence (finding INTEGER NOT NULL, uid TEXT NOT NULL);",
               error);
  }

  // Built after the findings are in (a new case) rather than kept up to date
  // row by row: finding_evidence's uids come in no order, and inserting them
  // one by one into the uid index cost more than the rows themselves
  // (measured). In --append they exist and the inserts kept them up to date.
  bool create_fixed_indexes(std::string& error) {
    return db_.exec(
        "CREATE INDEX IF NOT EXISTS findings_type ON findings (type);"
        "CREATE INDEX IF NOT EXISTS findings_src ON findings (src);"
        "CREATE INDEX IF NOT EXISTS findings_ts ON findings (ts);"
        "CREATE INDEX IF NOT EXISTS finding_evidence_finding ON finding_evidence (finding);"
        "CREATE INDEX IF NOT EXISTS finding_evidence_uid ON finding_evidence (uid);"
        "CREATE INDEX IF NOT EXISTS inputs_identity ON inputs (identity);",
        error);
  }

  // --append: the next run id and seq, the inputs and findings already in.
  bool load_existing(std::string& error) {
    Stmt s;
    if (!s.prepare(db_.get(), "SELECT coalesce(max(run_id), 0) FROM runs", error) || s.step() != SQLITE_ROW) {
      error = path_ + ": " + (error.empty() ? db_.message() : error);
      return false;
    }
    run_id_ = s.i64(0) + 1;
    std::vector<std::pair<std::string, std::string>> tables;
    if (!sqlite::record_tables(db_, tables, error)) return false;
    int64_t max_seq = 0;
    for (const auto& [log, name] : tables) {
      Stmt m;
      if (!m.prepare(db_.get(), "SELECT coalesce(max(seq), 0) FROM " + sqlite::quote_ident(name), error) ||
          m.step() != SQLITE_ROW) {
        return false;
      }
      max_seq = std::max(max_seq, m.i64(0));
    }
    Stmt r;
    if (r.prepare(db_.get(), "SELECT coalesce(max(last_seq), 0) FROM runs", error) && r.step() == SQLITE_ROW) {
      max_seq = std::max(max_seq, r.i64(0));
    }
    next_seq_ = max_seq + 1;
    return true;
  }

  // Indexes for the questions responders ask, built once over the loaded
  // rows (cheaper than maintaining them row by row: measured; ts is the
  // exception, see ensure_table). In --append they exist already and the
  // inserts kept them up to date.
  bool build_indexes(std::string& error) {
    for (const auto& t : tables_) {
      if (!t.ready) continue;
      std::string q = sqlite::quote_ident(t.name);
      std::vector<std::string> cols = {"uid", "orig_h", "resp_h"};  // ts: made with the table
      if (const auto* spec = sqlite::known_table(t.log)) {
        for (const auto& c : spec->extra) {
          std::string_view n = c.name;
          if (n == "domain" || n == "user") cols.emplace_back(n);
        }
      }
      for (const auto& c : cols) {
        if (!db_.exec("CREATE INDEX IF NOT EXISTS " + sqlite::quote_ident(t.name + "_" + c) + " ON " + q + " (" +
                          c + ")",
                      error)) {
          return false;
        }
      }
    }
    return true;
  }

  bool finish_run(const std::vector<detect::Finding>& findings, const RunInfo& run, std::string& error) {
    // Inputs already in the case (the caller skips them; a run made only of
    // them adds nothing at all).
    std::vector<const InputInfo*> fresh;
    if (append_) {
      Stmt known;
      if (!known.prepare(db_.get(), "SELECT 1 FROM inputs WHERE identity = ?", error)) return false;
      for (const auto& in : run.inputs) {
        sqlite3_bind_text(known.get(), 1, in.identity.data(), static_cast<int>(in.identity.size()), SQLITE_STATIC);
        bool seen = known.step() == SQLITE_ROW;
        known.reset();
        if (!seen) fresh.push_back(&in);
      }
      if (!run.inputs.empty() && fresh.empty()) {
        if (!db_.exec("ROLLBACK", error)) return false;
        close_appended();
        finished_ = true;
        return true;
      }
    } else {
      for (const auto& in : run.inputs) fresh.push_back(&in);
    }
    Stmt ins_input;
    if (!ins_input.prepare(db_.get(), "INSERT INTO inputs VALUES (?, ?, ?, ?, ?)", error)) return false;
    for (const InputInfo* in : fresh) {
      sqlite3_stmt* s = ins_input.get();
      sqlite3_bind_int64(s, 1, run_id_);
      sqlite3_bind_text(s, 2, in->path.data(), static_cast<int>(in->path.size()), SQLITE_STATIC);
      sqlite3_bind_int64(s, 3, static_cast<int64_t>(in->size));
      sqlite3_bind_int64(s, 4, in->mtime_ns);
      sqlite3_bind_text(s, 5, in->identity.data(), static_cast<int>(in->identity.size()), SQLITE_STATIC);
      if (ins_input.step() != SQLITE_DONE) {
        error = db_.message();
        return false;
      }
      ins_input.reset();
    }
    int64_t added = 0;
    if (!write_findings(findings, added, error)) return false;
    if (!write_run(run, added, error)) return false;
    if (!create_fixed_indexes(error)) return false;
    if (!indexes_built_ && !build_indexes(error)) return false;
    if (!db_.exec("COMMIT", error)) return false;
    if (append_) {
      close_appended();
      return true;
    }
    tables_.clear();
    db_.close();
    if (!fsync_file(tmp_path_)) {
      error = tmp_path_ + ": cannot sync to disk";
      return false;
    }
    // A stale WAL of an older case.db would be replayed into the new file.
    for (const char* suffix : {"-journal", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
    std::error_code ec;
    std::filesystem::rename(tmp_path_, path_, ec);
    if (ec) {
      error = "cannot rename " + tmp_path_ + " to " + path_ + ": " + ec.message();
      return false;
    }
    return true;
  }

  // Back to one self-contained file, for handing the case to a colleague
  // (left in WAL mode if a reader holds it open; still a valid case).
  void close_appended() {
    std::string ignored;
    tables_.clear();  // statements first: an open one keeps the file (and its lock) open
    db_.exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE", ignored);
    db_.close();
  }

  bool write_findings(const std::vector<detect::Finding>& findings, int64_t& added, std::string& error) {
    std::set<std::string> existing;  // --append: findings identical to stored ones are not added again
    int64_t next_id = 1;
    Stmt s;
    if (!s.prepare(db_.get(), "SELECT coalesce(max(id), 0) FROM findings", error) || s.step() != SQLITE_ROW) {
      return false;
    }
    next_id = s.i64(0) + 1;
    if (append_) {
      Stmt all;
      if (!all.prepare(db_.get(), "SELECT json FROM findings", error)) return false;
      while (all.step() == SQLITE_ROW) existing.emplace(all.text(0));
    }
    Stmt ins, ev;
    if (!ins.prepare(db_.get(), "INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", error) ||
        !ev.prepare(db_.get(), "INSERT INTO finding_evidence VALUES (?, ?)", error)) {
      return false;
    }
    std::string json;
    std::string text[6];
    for (const auto& f : findings) {
      json.clear();
      detect::append_finding_json(f, json);
      if (!json.empty() && json.back() == '\n') json.pop_back();
      if (existing.count(json)) continue;
      sqlite3_stmt* st = ins.get();
      int64_t id = next_id++;
      sqlite::to_utf8_text(f.id, text[0]);
      sqlite::to_utf8_text(detect::severity_name(f.severity), text[1]);
      sqlite::to_utf8_text(f.src, text[2]);
      sqlite::to_utf8_text(f.service, text[3]);
      sqlite::to_utf8_text(f.summary, text[4]);
      sqlite::to_utf8_text(f.attack, text[5]);
      sqlite3_bind_int64(st, 1, id);
      sqlite3_bind_text(st, 2, text[0].data(), static_cast<int>(text[0].size()), SQLITE_STATIC);
      sqlite3_bind_double(st, 3, static_cast<double>(f.ts.ns) / 1e9);
      sqlite3_bind_double(st, 4, static_cast<double>(f.last_ts.ns) / 1e9);
      sqlite3_bind_text(st, 5, text[1].data(), static_cast<int>(text[1].size()), SQLITE_STATIC);
      sqlite3_bind_double(st, 6, f.confidence);
      sqlite3_bind_text(st, 7, text[2].data(), static_cast<int>(text[2].size()), SQLITE_STATIC);
      if (f.service.empty()) {
        sqlite3_bind_null(st, 8);
      } else {
        sqlite3_bind_text(st, 8, text[3].data(), static_cast<int>(text[3].size()), SQLITE_STATIC);
      }
      sqlite3_bind_text(st, 9, text[4].data(), static_cast<int>(text[4].size()), SQLITE_STATIC);
      sqlite3_bind_text(st, 10, text[5].data(), static_cast<int>(text[5].size()), SQLITE_STATIC);
      sqlite3_bind_int64(st, 11, static_cast<int64_t>(f.evidence_total));
      sqlite3_bind_text(st, 12, json.data(), static_cast<int>(json.size()), SQLITE_STATIC);
      sqlite3_bind_int64(st, 13, run_id_);
      if (ins.step() != SQLITE_DONE) {
        error = db_.message();
        return false;
      }
      ins.reset();
      std::set<std::string> uids(f.evidence.begin(), f.evidence.end());
      for (const auto& uid : uids) {
        sqlite3_bind_int64(ev.get(), 1, id);
        sqlite3_bind_text(ev.get(), 2, uid.data(), static_cast<int>(uid.size()), SQLITE_STATIC);
        if (ev.step() != SQLITE_DONE) {
          error = db_.message();
          return false;
        }
        ev.reset();
      }
      existing.insert(json);
      ++added;
    }
    return true;
  }

  bool write_run(const RunInfo& run, int64_t findings_added, std::string& error) {
    Stmt s;
    if (!s.prepare(db_.get(), "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", error)) return false;
    sqlite3_stmt* st = s.get();
    std::string started = iso_utc(run.started.sec());
    std::string errors;
    sqlite3_bind_int64(st, 1, run_id_);
    sqlite3_bind_text(st, 2, run.trawl_version.data(), static_cast<int>(run.trawl_version.size()), SQLITE_STATIC);
    std::string cmd;
    sqlite::to_utf8_text(run.command_line, cmd);
    sqlite3_bind_text(st, 3, cmd.data(), static_cast<int>(cmd.size()), SQLITE_STATIC);
    sqlite3_bind_text(st, 4, started.data(), static_cast<int>(started.size()), SQLITE_STATIC);
    int64_t first_ns = min_ts_, last_ns = max_ts_;
    if (run.stats) {
      const auto& st_ = *run.stats;
      sqlite3_bind_int64(st, 5, static_cast<int64_t>(st_.packets));
      sqlite3_bind_int64(st, 6, static_cast<int64_t>(st_.wire_bytes));
      if (st_.packets > 0) {
        first_ns = st_.first_ts.ns;
        last_ns = st_.last_ts.ns;
      }
      sqlite3_bind_int64(st, 9, static_cast<int64_t>(st_.connections));
      sqlite3_bind_double(st, 14, st_.wall_seconds);
      for (const auto& e : st_.input_errors) {
        if (!errors.empty()) errors.push_back('\n');
        errors += e;
      }
    } else {
      for (int c : {5, 6, 9, 14}) sqlite3_bind_null(st, c);
    }
    if (rows_written_ > 0 || (run.stats && run.stats->packets > 0)) {
      sqlite3_bind_double(st, 7, static_cast<double>(first_ns) / 1e9);
      sqlite3_bind_double(st, 8, static_cast<double>(last_ns) / 1e9);
    } else {
      sqlite3_bind_null(st, 7);
      sqlite3_bind_null(st, 8);
    }
    sqlite3_bind_int64(st, 10, static_cast<int64_t>(rows_written_));
    sqlite3_bind_int64(st, 11, findings_added);
    sqlite3_bind_int64(st, 12, first_seq_);
    sqlite3_bind_int64(st, 13, next_seq_ - 1);
    std::string errors_text;
    sqlite::to_utf8_text(errors, errors_text);
    if (errors.empty()) {
      sqlite3_bind_null(st, 15);
    } else {
      sqlite3_bind_text(st, 15, errors_text.data(), static_cast<int>(errors_text.size()), SQLITE_STATIC);
    }
    if (s.step() != SQLITE_DONE) {
      error = db_.message();
      return false;
    }
    return true;
  }

  std::string path_, tmp_path_;
  bool append_ = false;
  bool finished_ = false;
  Db db_;
  int64_t run_id_ = 1;
  int64_t next_seq_ = 1;  // analyze thread
  int64_t first_seq_ = 1;

  // Analyze thread.
  std::vector<std::string> logs_{"conn", "arp"};
  std::vector<bool> announced_;
  std::unique_ptr<Batch> cur_;

  // Shared, under mu_.
  bool records_done_ = false;     // analyze thread
  bool index_requested_ = false;  // under mu_
  bool indexes_built_ = false;    // set by the writer under mu_; read after the join
  std::mutex mu_;
  std::condition_variable cv_full_, cv_free_;
  std::deque<std::unique_ptr<Batch>> full_;
  std::vector<std::unique_ptr<Batch>> free_;
  bool closing_ = false;
  std::thread writer_;

  // Writer thread (read by finish after the join).
  std::vector<TableW> tables_;
  char addr_text_[kChunkRows][2 * core::IpAddress::kTextMax];  // orig_h and resp_h text of a chunk's rows
  std::string writer_error_;
  uint64_t rows_written_ = 0;
  int64_t min_ts_ = 0, max_ts_ = 0;
};

}  // namespace

std::unique_ptr<RecordSink> make_sqlite_sink(const std::string& db_path, const SqliteOptions& opt,
                                             std::string& error) {
  auto sink = std::make_unique<SqliteSink>();
  if (!sink->init(db_path, opt, error)) return nullptr;
  return sink;
}

}  // namespace trawl::store

// `--sink clickhouse://...` and `--from clickhouse://...`: records go to one
// MergeTree table per log in batches from a sender thread, with retries and
// a spool folder for what could not be sent; reading back merges the runs.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "store/clickhouse_client.h"

namespace trawl::store {
namespace clickhouse {
namespace {

using Clock = std::chrono::steady_clock;

// Bounds: a batch is sent at this size even when it has fewer rows than
// batch_rows, and analyze waits when this many batches are queued (memory
// stays bounded when ClickHouse is slower than the engine).
constexpr size_t kMaxBatchBytes = 16u << 20;
constexpr size_t kMaxQueued = 4;
constexpr int64_t kMaxBackoffMs = 5000;

std::string make_run_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string h;
  for (const char* p = host; *p && h.size() < 40; ++p) {
    char c = *p;
    h += ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.') ? c : '_';
  }
  if (h.empty()) h = "host";
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm);
  std::random_device rd;
  char tail[16];
  std::snprintf(tail, sizeof tail, "%04x", rd() & 0xffffu);
  // Starts with the time so that run ids sort in the order runs started.
  return std::string(when) + "-" + h + "-" + std::to_string(getpid()) + "-" + tail;
}

std::string sql_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

bool parse_i64(std::string_view s, int64_t& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}
bool parse_u64(std::string_view s, uint64_t& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Splits one TabSeparated line into exactly n fields.
bool split_tsv(std::string_view line, size_t n, std::vector<std::string_view>& fields) {
  fields.clear();
  size_t start = 0;
  while (fields.size() + 1 < n) {
    auto tab = line.find('\t', start);
    if (tab == std::string_view::npos) return false;
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
  fields.push_back(line.substr(start));
  return fields.back().find('\t') == std::string_view::npos;
}

class Sink : public RecordSink {
 public:
  Sink(const Url& url, std::string run_id, bool tables_ready)
      : url_(url), run_id_(std::move(run_id)), last_flush_(Clock::now()), sender_client_(url) {
    if (tables_ready) created_ = {"runs", "inputs", "findings"};
    thread_ = std::thread([this] { sender(); });
  }

  ~Sink() override {
    if (!finished_) {
      // Not finished (analyze failed early): what was collected is still
      // sent or spooled, never dropped.
      flush_all();
      stop();
      if (spooled_rows_ + lost_rows_ > 0) {
        std::fprintf(stderr, "trawl: %s\n", loss_message().c_str());
      }
    }
  }

  void on_conn(const flow::ConnRecord& r, std::string_view json) override {
    add_row("log_conn", r.ts, r.uid, r.orig_h.to_string(), r.resp_h.to_string(), json);
  }

  void on_record(const analyzers::Record& r, std::string_view json) override {
    std::string table = "log_" + std::string(r.log());
    if (!valid_name(table)) {
      ++skipped_rows_;
      return;
    }
    add_row(table, r.ts, json_string_field(json, "uid"), json_string_field(json, "id.orig_h"),
            json_string_field(json, "id.resp_h"), json);
  }

  void on_arp(const output::ArpRecord& r, std::string_view json) override {
    add_row("log_arp", r.ts, {}, r.sender_ip.to_string(), r.target_ip.to_string(), json);
  }

  bool finish(const std::vector<detect::Finding>& findings, const RunInfo& run, std::string& error) override {
    flush_all();
    std::string fbody, line;
    uint64_t n = 0;
    for (const auto& f : findings) {
      line.clear();
      detect::append_finding_json(f, line);
      if (!line.empty() && line.back() == '\n') line.pop_back();
      begin_row(fbody, f.ts, n++);
      field(fbody, f.id);
      field(fbody, f.src);
      last_field(fbody, line);
    }
    if (n > 0) enqueue({"findings", std::move(fbody), n, 0, n - 1});
    std::string ibody;
    n = 0;
    for (const auto& in : run.inputs) {
      ibody += date_of(run.started);
      ibody += '\t';
      field(ibody, run_id_);
      ibody += std::to_string(n++) + '\t';
      field(ibody, in.path);
      ibody += std::to_string(in.size) + '\t' + std::to_string(in.mtime_ns) + '\t';
      last_field(ibody, in.identity);
    }
    if (n > 0) enqueue({"inputs", std::move(ibody), n, 0, n - 1});
    wait_idle();
    // The run row last: a run with a row in `runs` was complete, and it says
    // how many of its records were spooled instead.
    std::string rbody = date_of(run.started) + '\t' + std::to_string(run.started.ns) + '\t';
    field(rbody, run_id_);
    field(rbody, run.trawl_version);
    field(rbody, run.command_line);
    uint64_t spooled = 0;
    {
      std::lock_guard lock(mu_);
      spooled = spooled_rows_ + lost_rows_;
    }
    rbody += std::to_string(seq_) + '\t' + std::to_string(findings.size()) + '\t' + std::to_string(spooled) + '\n';
    enqueue({"runs", std::move(rbody), 1, 0, 0});
    stop();
    finished_ = true;
    if (spooled_rows_ + lost_rows_ + skipped_rows_ > 0) {
      error = loss_message();
      return false;
    }
    return true;
  }

 private:
  struct Batch {
    std::string table;
    std::string body;
    uint64_t rows = 0;
    // The batch's rows are this run's rows of `table` with seq in
    // [first_seq, last_seq] (runs: the run's one row), so whether a batch
    // landed can be asked (an answer lost after the server committed it).
    uint64_t first_seq = 0, last_seq = 0;
  };
  struct Pending {
    std::string body;
    uint64_t rows = 0;
    uint64_t first_seq = 0, last_seq = 0;
  };

  void begin_row(std::string& out, core::Timestamp ts, uint64_t seq) {
    // Records of one run mostly share a day: format the date once per day.
    int64_t day = ts.ns / (86400 * core::kNsPerSec);
    if (day != cached_day_ || cached_date_.empty()) {
      cached_day_ = day;
      cached_date_ = date_of(ts);
    }
    out += cached_date_;
    out += '\t';
    out += std::to_string(ts.ns);
    out += '\t';
    field(out, run_id_);
    out += std::to_string(seq);
    out += '\t';
  }
  static void field(std::string& out, std::string_view v) {
    append_tsv_escaped(v, out);
    out += '\t';
  }
  static void last_field(std::string& out, std::string_view v) {
    append_tsv_escaped(v, out);
    out += '\n';
  }

  void add_row(const std::string& table, core::Timestamp ts, std::string_view uid, std::string_view orig_h,
               std::string_view resp_h, std::string_view json) {
    auto it = pending_.find(table);
    if (it == pending_.end()) it = pending_.try_emplace(table).first;
    Pending& p = it->second;
    // seq counts across every log: the engine's order within the run.
    if (p.rows == 0) p.first_seq = seq_;
    p.last_seq = seq_;
    begin_row(p.body, ts, seq_++);
    field(p.body, uid);
    field(p.body, orig_h);
    field(p.body, resp_h);
    last_field(p.body, json);
    ++p.rows;
    if (p.rows >= url_.batch_rows || p.body.size() >= kMaxBatchBytes) {
      enqueue({table, std::move(p.body), p.rows, p.first_seq, p.last_seq});
      p = Pending{};
    }
    // The clock is read every 1024 rows: a quiet log still leaves within
    // about flush_ms of a busy one.
    if ((seq_ & 1023) == 0 && Clock::now() - last_flush_ >= std::chrono::milliseconds(url_.flush_ms)) flush_all();
  }

  void flush_all() {
    for (auto& [table, p] : pending_) {
      if (p.rows == 0) continue;
      enqueue({table, std::move(p.body), p.rows, p.first_seq, p.last_seq});
      p = Pending{};
    }
    last_flush_ = Clock::now();
  }

  void enqueue(Batch b) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < kMaxQueued; });
    queue_.push_back(std::move(b));
    cv_.notify_all();
  }

  void wait_idle() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

  void sender() {
    for (;;) {
      Batch b;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stop_ and nothing left
        b = std::move(queue_.front());
        queue_.pop_front();
        busy_ = true;
        cv_.notify_all();
      }
      send(b);
      std::lock_guard lock(mu_);
      busy_ = false;
      cv_.notify_all();
    }
  }

  bool try_once(const Batch& b, std::string& error, bool& retryable) {
    if (!created_.count(b.table)) {
      std::string out;
      std::string sql = b.table.rfind("log_", 0) == 0 ? create_log_table_sql(url_, b.table)
                                                      : create_fixed_table_sql(url_, b.table);
      if (!sender_client_.query(sql, out, error, &retryable)) return false;
      created_.insert(b.table);
    }
    return sender_client_.insert(b.table, b.body, error, &retryable);
  }

  void send(const Batch& b) {
    std::string error;
    // After a batch went to the spool, the server is taken as down: later
    // batches get one attempt each instead of the full backoff (a run with a
    // dead server ends in seconds, still losing nothing).
    int attempts = 1 + (down_ ? 0 : url_.retries);
    int64_t wait_ms = url_.backoff_ms;
    for (int i = 0; i < attempts; ++i) {
      bool retryable = true;
      if (try_once(b, error, retryable)) {
        down_ = false;
        return;
      }
      if (!retryable || i + 1 == attempts) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      wait_ms = std::min(wait_ms * 2, kMaxBackoffMs);
      // The server may have stored the batch and then failed to answer:
      // sending it again would store it twice.
      std::string out, check_error;
      if (sender_client_.query(landed_sql(b), out, check_error)) {
        if (out == std::to_string(b.rows) + "\n") {
          down_ = false;
          return;
        }
      }
    }
    down_ = true;
    spool(b, error);
  }

  void spool(const Batch& b, const std::string& error) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path dir(url_.spool_dir);
    fs::create_directories(dir, ec);
    std::string name = b.table + "-" + run_id_ + "-" + std::to_string(spool_n_++) + ".tsv";
    bool ok = !ec;
    if (ok) {
      std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
      f.write(b.body.data(), static_cast<std::streamsize>(b.body.size()));
      f.close();
      ok = static_cast<bool>(f);
    }
    if (ok) {
      // How to re-send: the folder's resend.sh, one block per file.
      fs::path script = dir / "resend.sh";
      bool fresh = !fs::exists(script, ec);
      std::ofstream s(script, std::ios::app);
      std::string base = url_.http_base();
      if (fresh) {
        s << "#!/bin/sh\n# trawl: ClickHouse batches that could not be sent. When the server is back, run\n"
          << "# `sh resend.sh` in this folder (add `-u USER:PASSWORD` to curl if the server needs it).\nset -e\n";
      }
      std::string create = b.table.rfind("log_", 0) == 0 ? create_log_table_sql(url_, b.table)
                                                         : create_fixed_table_sql(url_, b.table);
      if (script_tables_.empty()) {
        s << "curl -sS --fail '" << base << "' --data-binary '" << create_database_sql(url_) << "'\n";
      }
      if (script_tables_.insert(b.table).second) {
        s << "curl -sS --fail '" << base << "' --data-binary '" << create << "'\n";
      }
      // Idempotent: a file whose rows are already there (sent by an
      // earlier run of the script, or stored just before an answer was
      // lost) is not sent again.
      s << "n=$(curl -sS --fail '" << base << "' --data-binary \"" << landed_sql(b) << "\")\n"
        << "case \"$n\" in\n  0) curl -sS --fail '" << base << "?insert_distributed_sync=1&query=INSERT%20INTO%20"
        << url_.db << "." << b.table << "%20FORMAT%20TabSeparated' --data-binary @" << name << " ;;\n  " << b.rows
        << ") ;;\n  *) echo \"" << name << ": $n of " << b.rows << " rows are in " << url_.db << "." << b.table
        << " already; check by hand\" >&2; exit 1 ;;\nesac\nrm -f " << name << "\n";
      s.close();
      if (fresh) fs::permissions(script, fs::perms::owner_exec, fs::perm_options::add, ec);
      ok = static_cast<bool>(s);
    }
    std::lock_guard lock(mu_);
    last_error_ = error;
    if (ok) {
      spooled_rows_ += b.rows;
      ++spooled_batches_;
      if (spool_files_.size() < 3) spool_files_.push_back((dir / name).string());
    } else {
      lost_rows_ += b.rows;
    }
  }

  std::string landed_sql(const Batch& b) const {
    std::string sql = "SELECT count() FROM " + url_.db + "." + b.table + " WHERE run_id = " + sql_quote(run_id_);
    if (b.table != "runs") sql += " AND seq >= " + std::to_string(b.first_seq) + " AND seq <= " + std::to_string(b.last_seq);
    return sql;
  }

  std::string loss_message() const {
    std::string m = url_.display() + ": ";
    if (spooled_rows_ > 0) {
      m += std::to_string(spooled_rows_) + " records in " + std::to_string(spooled_batches_) +
           " batches could not be sent (" + last_error_ + ") and were written to " + url_.spool_dir + "/ (";
      for (size_t i = 0; i < spool_files_.size(); ++i) m += (i ? ", " : "") + spool_files_[i];
      if (spooled_batches_ > spool_files_.size()) m += ", ...";
      m += "); re-send them with: cd " + url_.spool_dir + " && sh resend.sh";
    }
    if (lost_rows_ > 0) {
      m += (spooled_rows_ ? "; " : "") + std::to_string(lost_rows_) + " records could not be sent (" + last_error_ +
           ") nor written to " + url_.spool_dir + "/: lost";
    }
    if (skipped_rows_ > 0) {
      m += (spooled_rows_ + lost_rows_ ? "; " : "") + std::to_string(skipped_rows_) +
           " records of logs whose name is not a table name were not sent";
    }
    return m;
  }

  Url url_;
  std::string run_id_;
  // Analyze's thread.
  std::map<std::string, Pending, std::less<>> pending_;
  uint64_t seq_ = 0;
  uint64_t skipped_rows_ = 0;
  int64_t cached_day_ = 0;
  std::string cached_date_;
  Clock::time_point last_flush_;
  bool finished_ = false;
  // Shared, under mu_.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  bool stop_ = false;
  bool busy_ = false;
  uint64_t spooled_rows_ = 0, spooled_batches_ = 0, lost_rows_ = 0;
  std::string last_error_;
  std::vector<std::string> spool_files_;
  // The sender thread's.
  Client sender_client_;
  std::set<std::string> created_;
  bool down_ = false;
  uint64_t spool_n_ = 0;
  std::set<std::string> script_tables_;  // tables resend.sh creates already
  std::thread thread_;
};

// One run read back in windows of seq: seq numbers a run's records across all
// its logs, so a window of W seq values holds at most W rows whatever the
// logs, and one query (a UNION ALL over the log tables) fetches it.
struct RunStream {
  std::string run_id;
  uint64_t next_seq = 0;  // first seq not fetched yet
  uint64_t max_seq = 0;
  struct Row {
    uint64_t seq;
    int64_t ts_ns;
    size_t table;
    std::string json;
  };
  std::deque<Row> rows;
};

// Rows buffered over all runs at most (about): many runs get smaller windows.
constexpr size_t kMaxBufferedRows = 1000000;

class Source : public RecordSource {
 public:
  explicit Source(const Url& url) : url_(url), client_(url) {}

  bool check(std::string& error) {
    std::string out;
    if (!client_.query("SELECT count() FROM system.databases WHERE name = " + sql_quote(url_.db), out, error)) {
      error = url_.display() + ": " + error;
      return false;
    }
    if (out != "1\n") {
      error = url_.display() + ": no database " + url_.db;
      return false;
    }
    return true;
  }

  bool for_each(const RecordFn& fn, std::string& error) override {
    std::string out;
    if (!query("SELECT name FROM system.tables WHERE database = " + sql_quote(url_.db) +
                   " AND name LIKE 'log\\\\_%' ORDER BY name FORMAT TabSeparated",
               out, error)) {
      return false;
    }
    tables_.clear();
    for (auto& line : lines(out)) {
      std::string t = tsv_unescape(line);
      if (valid_name(t)) tables_.push_back(t);
    }
    std::map<std::string, uint64_t> max_seq;  // run id -> its largest seq
    std::vector<std::string_view> f;
    for (const auto& t : tables_) {
      if (!query("SELECT run_id, max(seq) FROM " + url_.db + "." + t + " GROUP BY run_id FORMAT TabSeparated", out,
                 error)) {
        return false;
      }
      for (auto& line : lines(out)) {
        uint64_t m = 0;
        if (!split_tsv(line, 2, f) || !parse_u64(f[1], m)) {
          error = url_.display() + ": unexpected row in " + t;
          return false;
        }
        auto [it, fresh] = max_seq.try_emplace(tsv_unescape(f[0]), m);
        if (!fresh) it->second = std::max(it->second, m);
      }
    }
    std::vector<RunStream> runs;
    for (const auto& [id, m] : max_seq) runs.push_back(RunStream{id, 0, m, {}});
    if (runs.empty()) return true;
    window_ = std::min(url_.page_rows, std::max<size_t>(16, kMaxBufferedRows / runs.size()));
    // Within a run: the engine's order (seq). Across runs: the earliest next
    // record first, the run id (they sort by start time) breaking ties.
    for (;;) {
      size_t best = runs.size();
      for (size_t i = 0; i < runs.size(); ++i) {
        if (runs[i].rows.empty() && !fill(runs[i], error)) return false;
        if (runs[i].rows.empty()) continue;
        if (best == runs.size() || runs[i].rows.front().ts_ns < runs[best].rows.front().ts_ns) best = i;
      }
      if (best == runs.size()) return true;
      const auto& row = runs[best].rows.front();
      fn(std::string_view(tables_[row.table]).substr(4), row.json);
      runs[best].rows.pop_front();
    }
  }

  bool inputs(std::vector<InputInfo>& out_inputs, std::string& error) override {
    std::string out;
    if (!query("SELECT path, size, mtime_ns, identity FROM " + url_.db +
                   ".inputs ORDER BY run_id, seq FORMAT TabSeparated",
               out, error)) {
      return false;
    }
    std::vector<std::string_view> f;
    for (auto& line : lines(out)) {
      InputInfo in;
      if (!split_tsv(line, 4, f) || !parse_u64(f[1], in.size) || !parse_i64(f[2], in.mtime_ns)) {
        error = url_.display() + ": unexpected row in inputs";
        return false;
      }
      in.path = tsv_unescape(f[0]);
      in.identity = tsv_unescape(f[3]);
      out_inputs.push_back(std::move(in));
    }
    return true;
  }

  bool findings(std::vector<std::string>& out_findings, std::string& error) override {
    std::string out;
    if (!query("SELECT json FROM " + url_.db + ".findings ORDER BY run_id, seq FORMAT TabSeparated", out, error)) {
      return false;
    }
    for (auto& line : lines(out)) out_findings.push_back(tsv_unescape(line));
    return true;
  }

 private:
  static std::vector<std::string_view> lines(std::string_view text) {
    std::vector<std::string_view> v;
    while (!text.empty()) {
      auto nl = text.find('\n');
      v.push_back(text.substr(0, nl));
      text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    }
    return v;
  }

  bool query(const std::string& sql, std::string& out, std::string& error) {
    if (client_.query(sql, out, error)) return true;
    error = url_.display() + ": " + error;
    return false;
  }

  // Fetches the run's next non-empty window (gaps: seq of records that were
  // not stored, e.g. still in a spool folder).
  bool fill(RunStream& rs, std::string& error) {
    std::vector<std::string_view> f;
    while (rs.rows.empty() && rs.next_seq <= rs.max_seq) {
      uint64_t lo = rs.next_seq;
      uint64_t hi = lo + window_;
      std::string sql;
      for (size_t i = 0; i < tables_.size(); ++i) {
        if (i) sql += " UNION ALL ";
        sql += "SELECT toUInt32(" + std::to_string(i) + "), seq, ts_ns, json FROM " + url_.db + "." + tables_[i] +
               " WHERE run_id = " + sql_quote(rs.run_id) + " AND seq >= " + std::to_string(lo) +
               " AND seq < " + std::to_string(hi);
      }
      sql += " FORMAT TabSeparated";
      std::string out;
      if (!query(sql, out, error)) return false;
      for (auto& line : lines(out)) {
        RunStream::Row row{};
        uint64_t t = 0;
        if (!split_tsv(line, 4, f) || !parse_u64(f[0], t) || t >= tables_.size() || !parse_u64(f[1], row.seq) ||
            !parse_i64(f[2], row.ts_ns)) {
          error = url_.display() + ": unexpected row reading run " + rs.run_id;
          return false;
        }
        row.table = static_cast<size_t>(t);
        row.json = tsv_unescape(f[3]);
        rs.rows.push_back(std::move(row));
      }
      std::sort(rs.rows.begin(), rs.rows.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
      rs.next_seq = hi;
    }
    return true;
  }

  Url url_;
  Client client_;
  std::vector<std::string> tables_;
  size_t window_ = 5000;
};

}  // namespace

std::unique_ptr<RecordSink> make_sink(const Url& url, const SinkOptions& opt, std::string& error) {
  if (opt.check_server) {
    Client client(url);
    std::string out;
    std::vector<std::string> sql = {create_database_sql(url)};
    for (const char* t : {"runs", "inputs", "findings"}) sql.push_back(create_fixed_table_sql(url, t));
    for (const auto& s : sql) {
      if (!client.query(s, out, error)) {
        error = url.display() + ": " + error;
        return nullptr;
      }
    }
  }
  return std::make_unique<Sink>(url, opt.run_id.empty() ? make_run_id() : opt.run_id, opt.check_server);
}

}  // namespace clickhouse

std::unique_ptr<RecordSink> make_clickhouse_sink(const std::string& url_text, std::string& error) {
  clickhouse::Url url;
  if (!clickhouse::parse_url(url_text, url, error)) return nullptr;
  return clickhouse::make_sink(url, {}, error);
}

std::unique_ptr<RecordSource> open_clickhouse_source(const std::string& url_text, std::string& error) {
  clickhouse::Url url;
  if (!clickhouse::parse_url(url_text, url, error)) return nullptr;
  auto src = std::make_unique<clickhouse::Source>(url);
  if (!src->check(error)) return nullptr;
  return src;
}

}  // namespace trawl::store

// case.db reader: records back in replay order (sink.h), the inputs and the
// findings.
//
// Order: within a run, by seq (the order the engine produced the records,
// which `trawl hunt` needs to give the same findings). Across runs the
// runs' streams are merged by time: each stream's key is the latest record
// time it has delivered so far (its clock), so the merge keeps every run's own
// order and interleaves runs as their clocks advance; equal times go to the
// older run first.
#include <algorithm>
#include <limits>

#include "store/sink.h"
#include "store/sqlite_schema.h"

namespace trawl::store {

namespace {

using sqlite::Db;
using sqlite::Stmt;

// One table's rows of one run, in seq order.
struct Cursor {
  const std::string* log = nullptr;
  Stmt stmt;
  bool has = false;
  int64_t seq = 0;
  double ts = 0;
};

// One run: its tables merged by seq.
struct RunStream {
  int64_t run_id = 0;
  std::vector<Cursor> cursors;
  Cursor* head = nullptr;
  double clock = -std::numeric_limits<double>::infinity();

  // Key of the next record: the run's clock once it has passed it.
  double key() const { return std::max(clock, head->ts); }
};

class SqliteSource final : public RecordSource {
 public:
  bool open(const std::string& path, std::string& error) {
    path_ = path;
    if (!db_.open(path, SQLITE_OPEN_READONLY, error)) return false;
    if (!sqlite::check_schema(db_, path, error)) return false;
    return true;
  }

  bool for_each(const RecordFn& fn, std::string& error) override {
    std::vector<std::pair<std::string, std::string>> tables;
    if (!sqlite::record_tables(db_, tables, error)) return fail(error);
    std::vector<RunStream> runs;
    {
      Stmt s;
      if (!s.prepare(db_.get(), "SELECT run_id, first_seq, last_seq FROM runs ORDER BY run_id", error)) {
        return fail(error);
      }
      while (s.step() == SQLITE_ROW) {
        RunStream r;
        r.run_id = s.i64(0);
        int64_t first = s.i64(1), last = s.i64(2);
        if (last < first) continue;  // a run with no records
        r.cursors.resize(tables.size());
        for (size_t i = 0; i < tables.size(); ++i) {
          Cursor& c = r.cursors[i];
          c.log = &tables[i].first;
          if (!c.stmt.prepare(db_.get(),
                              "SELECT seq, ts, json FROM " + sqlite::quote_ident(tables[i].second) +
                                  " WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
                              error)) {
            return fail(error);
          }
          sqlite3_bind_int64(c.stmt.get(), 1, first);
          sqlite3_bind_int64(c.stmt.get(), 2, last);
        }
        runs.push_back(std::move(r));
      }
    }
    for (auto& r : runs) {
      for (auto& c : r.cursors) {
        if (!advance(c, error)) return false;
      }
      pick_head(r);
    }
    for (;;) {
      RunStream* next = nullptr;
      for (auto& r : runs) {
        if (r.head && (!next || r.key() < next->key())) next = &r;
      }
      if (!next) return true;
      Cursor& c = *next->head;
      next->clock = std::max(next->clock, c.ts);
      fn(*c.log, c.stmt.text(2));
      if (!advance(c, error)) return false;
      pick_head(*next);
    }
  }

  bool inputs(std::vector<InputInfo>& out, std::string& error) override {
    out.clear();
    Stmt s;
    if (!s.prepare(db_.get(), "SELECT path, size, mtime_ns, identity FROM inputs ORDER BY run_id, rowid", error)) {
      return fail(error);
    }
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      InputInfo in;
      in.path = s.text(0);
      in.size = static_cast<uint64_t>(s.i64(1));
      in.mtime_ns = s.i64(2);
      in.identity = s.text(3);
      out.push_back(std::move(in));
    }
    if (rc != SQLITE_DONE) return fail(error = db_.message());
    return true;
  }

  bool findings(std::vector<std::string>& out, std::string& error) override {
    out.clear();
    Stmt s;
    if (!s.prepare(db_.get(), "SELECT json FROM findings ORDER BY id", error)) return fail(error);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.emplace_back(s.text(0));
    if (rc != SQLITE_DONE) return fail(error = db_.message());
    return true;
  }

 private:
  bool fail(std::string& error) {
    error = path_ + ": " + error;
    return false;
  }

  bool advance(Cursor& c, std::string& error) {
    int rc = c.stmt.step();
    if (rc == SQLITE_ROW) {
      c.has = true;
      c.seq = c.stmt.i64(0);
      c.ts = c.stmt.real(1);
      return true;
    }
    c.has = false;
    if (rc != SQLITE_DONE) {
      error = db_.message();
      return fail(error);
    }
    return true;
  }

  static void pick_head(RunStream& r) {
    r.head = nullptr;
    for (auto& c : r.cursors) {
      if (c.has && (!r.head || c.seq < r.head->seq)) r.head = &c;
    }
  }

  std::string path_;
  Db db_;
};

}  // namespace

std::unique_ptr<RecordSource> open_sqlite_source(const std::string& db_path, std::string& error) {
  auto s = std::make_unique<SqliteSource>();
  if (!s->open(db_path, error)) return nullptr;
  return s;
}

}  // namespace trawl::store

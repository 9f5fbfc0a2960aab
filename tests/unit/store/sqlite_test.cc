// case.db: what the sink writes comes back from the source exactly, --append
// adds only what is new, the schema version is checked, and `trawl query`
// answers from it and never writes.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "analyzers/dns/dns_log_record.h"
#include "analyzers/http/http_record.h"
#include "app/cli.h"
#include "output/records.h"
#include "store/sink.h"
#include "store/sqlite_schema.h"

namespace trawl::store {
namespace {

namespace fs = std::filesystem;
using Line = std::pair<std::string, std::string>;  // log, json

core::IpAddress ip(const char* s) { return *core::IpAddress::parse(s); }

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/trawl-sqlite-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (fs::path(path_) / name).string(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A record type case.db has no typed columns for.
class OddRecord final : public analyzers::Record {
 public:
  std::string_view log() const override { return "weird"; }
  void write_json(std::string& out) const override {
    out += "{\"ts\":" + core::format_epoch_micros(ts) + ",\"name\":\"odd\"}\n";
  }
};

// Another class writing to a log case.db has typed columns for.
class ImpostorDns final : public analyzers::Record {
 public:
  std::string_view log() const override { return "dns"; }
  void write_json(std::string& out) const override { out += "{\"ts\":" + core::format_epoch_micros(ts) + "}\n"; }
};

// Feeds records to a sink and remembers what a source must give back.
class Feeder {
 public:
  explicit Feeder(RecordSink& s) : s_(s) {}
  void conn(const char* uid, const char* o, const char* r, uint16_t rp, double ts, std::string service = "") {
    flow::ConnRecord c;
    c.uid = uid;
    c.orig_h = ip(o);
    c.resp_h = ip(r);
    c.orig_p = 40000;
    c.resp_p = rp;
    c.proto = 6;
    c.ts = core::Timestamp::from_seconds(ts);
    c.last_ts = c.ts + 1000000;
    c.duration_ns = 1000000;
    c.has_duration = true;
    c.orig_bytes = 10;
    c.resp_bytes = 20;
    c.conn_state = flow::ConnState::kSF;
    c.service = std::move(service);
    std::string j;
    output::append_conn_json(c, j);
    j.pop_back();
    s_.on_conn(c, j);
    lines.emplace_back("conn", j);
  }
  void dns(const char* uid, const char* o, const char* query, const char* answer, double ts) {
    analyzers::dns::DnsLogRecord d;
    d.uid = uid;
    d.orig_h = ip(o);
    d.resp_h = ip("192.0.2.53");
    d.orig_p = 5353;
    d.resp_p = 53;
    d.query = query;
    d.qtype = 1;
    d.qclass = 1;
    d.rcode = 0;
    analyzers::dns::DnsAnswer a;
    a.name = query;
    a.type = 1;
    a.rclass = 1;
    a.ttl = 60;
    a.text = answer;
    a.address = ip(answer);
    d.answers.push_back(a);
    d.ts = core::Timestamp::from_seconds(ts);
    record(d);
  }
  void http(const char* uid, const char* o, const char* r, const char* host, double ts) {
    analyzers::http::HttpRecord h;
    h.uid = uid;
    h.orig_h = ip(o);
    h.resp_h = ip(r);
    h.orig_p = 40000;
    h.resp_p = 80;
    h.trans_depth = 1;
    h.method = "GET";
    h.host = host;
    h.uri = "/x\x1b[31m";  // hostile bytes stay as the JSON says
    h.status_code = 200;
    h.ts = core::Timestamp::from_seconds(ts);
    record(h);
  }
  void arp(double ts) {
    output::ArpRecord a;
    a.ts = core::Timestamp::from_seconds(ts);
    a.op = 1;
    a.sender_ip = ip("10.0.0.1");
    a.target_ip = ip("10.0.0.2");
    std::string j;
    output::append_arp_json(a, j);
    j.pop_back();
    s_.on_arp(a, j);
    lines.emplace_back("arp", j);
  }
  void odd(double ts) {
    OddRecord r;
    r.ts = core::Timestamp::from_seconds(ts);
    record(r);
  }
  void record(const analyzers::Record& r) {
    std::string j;
    r.write_json(j);
    j.pop_back();
    s_.on_record(r, j);
    lines.emplace_back(std::string(r.log()), j);
  }
  std::vector<Line> lines;

 private:
  RecordSink& s_;
};

detect::Finding finding(const char* id, const char* src, double ts, std::vector<std::string> evidence) {
  detect::Finding f;
  f.id = id;
  f.src = src;
  f.dst = {"198.51.100.7"};
  f.dst_count = 1;
  f.ts = core::Timestamp::from_seconds(ts);
  f.last_ts = core::Timestamp::from_seconds(ts + 5);
  f.severity = detect::Severity::kHigh;
  f.summary = std::string(src) + " did " + id;
  f.attack = "T1046";
  f.evidence = std::move(evidence);
  f.evidence_total = f.evidence.size();
  return f;
}

std::string finding_line(const detect::Finding& f) {
  std::string j;
  detect::append_finding_json(f, j);
  j.pop_back();
  return j;
}

RunInfo run_with_input(const char* identity) {
  RunInfo run;
  run.trawl_version = "test";
  run.command_line = "trawl analyze x.pcap";
  run.started = core::Timestamp::from_seconds(1700000000);
  InputInfo in;
  in.path = std::string("/cases/") + identity + ".pcap";
  in.size = 100;
  in.mtime_ns = 5;
  in.identity = identity;
  run.inputs.push_back(in);
  return run;
}

std::vector<Line> read_all(const std::string& db) {
  std::string err;
  auto src = open_sqlite_source(db, err);
  EXPECT_TRUE(src) << err;
  std::vector<Line> out;
  if (!src) return out;
  EXPECT_TRUE(src->for_each([&](std::string_view log, std::string_view json) { out.emplace_back(log, json); }, err))
      << err;
  return out;
}

// One value from SQL, as text ("NULL" for null).
std::string sql1(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  std::string out = "ERROR";
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    const auto* t = sqlite3_column_text(s, 0);
    out = t ? reinterpret_cast<const char*>(t) : "NULL";
  }
  sqlite3_finalize(s);
  sqlite3_close(h);
  return out;
}

// A first run: records of every kind, two findings.
std::vector<Line> write_first_run(const std::string& db, std::vector<std::string>* findings_out = nullptr,
                                  bool records_done = false) {
  std::string err;
  auto sink = make_sqlite_sink(db, SqliteOptions{}, err);
  EXPECT_TRUE(sink) << err;
  Feeder f(*sink);
  f.arp(100.0);
  f.dns("Cdns1", "10.0.0.5", "www.example.com", "203.0.113.10", 101.0);
  f.http("Chttp1", "10.0.0.5", "203.0.113.10", "WWW.Example.COM:8080", 102.5);
  f.odd(102.7);
  f.conn("Cdns1", "10.0.0.5", "192.0.2.53", 53, 101.0, "dns");
  f.conn("Chttp1", "10.0.0.5", "203.0.113.10", 8080, 102.0, "http");  // earlier ts, later arrival
  f.conn("Cother", "10.0.0.9", "198.51.100.7", 443, 103.0);
  std::vector<detect::Finding> fs = {finding("scan.tcp_syn", "10.0.0.9", 103.0, {"Cother"}),
                                     finding("beacon", "10.0.0.5", 101.0, {"Chttp1", "Cdns1", "Chttp1"})};
  RunInfo run = run_with_input("id-one");
  if (records_done) sink->records_done();  // as analyze does before its detectors finish
  EXPECT_TRUE(sink->finish(fs, run, err)) << err;
  if (findings_out) {
    for (const auto& x : fs) findings_out->push_back(finding_line(x));
  }
  return f.lines;
}

TEST(SqliteCase, RoundTripGivesEveryRecordBackInArrivalOrder) {
  TempDir dir;
  std::string db = dir.file("case.db");
  std::vector<std::string> findings;
  auto lines = write_first_run(db, &findings);
  EXPECT_FALSE(fs::exists(db + ".tmp"));
  EXPECT_EQ(read_all(db), lines);

  std::string err;
  auto src = open_sqlite_source(db, err);
  ASSERT_TRUE(src) << err;
  std::vector<std::string> got;
  ASSERT_TRUE(src->findings(got, err)) << err;
  EXPECT_EQ(got, findings);
  std::vector<InputInfo> inputs;
  ASSERT_TRUE(src->inputs(inputs, err)) << err;
  ASSERT_EQ(inputs.size(), 1u);
  EXPECT_EQ(inputs[0].path, "/cases/id-one.pcap");
  EXPECT_EQ(inputs[0].size, 100u);
  EXPECT_EQ(inputs[0].mtime_ns, 5);
  EXPECT_EQ(inputs[0].identity, "id-one");
}

TEST(SqliteCase, TypedColumnsComeFromTheTypedRecords) {
  TempDir dir;
  std::string db = dir.file("case.db");
  write_first_run(db);
  EXPECT_EQ(sql1(db, "SELECT domain FROM http"), "www.example.com");  // lower case, no port
  EXPECT_EQ(sql1(db, "SELECT status_code FROM http"), "200");
  EXPECT_EQ(sql1(db, "SELECT domain || ' ' || qtype || ' ' || rcode FROM dns"), "www.example.com 1 0");
  EXPECT_EQ(sql1(db, "SELECT orig_h || ' ' || resp_h || ' ' || resp_p || ' ' || service || ' ' || conn_state "
                     "FROM conn WHERE uid = 'Chttp1'"),
            "10.0.0.5 203.0.113.10 8080 http SF");
  EXPECT_EQ(sql1(db, "SELECT service FROM conn WHERE uid = 'Cother'"), "NULL");
  EXPECT_EQ(sql1(db, "SELECT printf('%.3f', ts) FROM conn WHERE uid = 'Chttp1'"), "102.000");
  EXPECT_EQ(sql1(db, "SELECT orig_h || ' ' || resp_h || ' ' || op FROM arp"), "10.0.0.1 10.0.0.2 1");
  EXPECT_EQ(sql1(db, "SELECT count(*) FROM weird WHERE uid IS NULL"), "1");
  // The json column is the line; typed columns agree with it.
  EXPECT_EQ(sql1(db, "SELECT json_extract(json, '$.uri') = uri FROM http"), "1");
  EXPECT_EQ(sql1(db, "SELECT group_concat(id || ':' || type || ':' || src, ' ') FROM findings"),
            "1:scan.tcp_syn:10.0.0.9 2:beacon:10.0.0.5");
  EXPECT_EQ(sql1(db, "SELECT group_concat(uid, ',') FROM (SELECT uid FROM finding_evidence WHERE finding = 2 "
                     "ORDER BY uid)"),
            "Cdns1,Chttp1");
  EXPECT_EQ(sql1(db, "SELECT value FROM meta WHERE key = 'schema_version'"), "1");
  EXPECT_EQ(sql1(db, "SELECT run_id || ' ' || records || ' ' || findings || ' ' || first_seq || ' ' || last_seq "
                     "FROM runs"),
            "1 7 2 1 7");
  EXPECT_EQ(sql1(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'conn_orig_h'"), "1");
  EXPECT_EQ(sql1(db, "PRAGMA journal_mode"), "delete");
}

TEST(SqliteCase, AppendOfTheSameCaptureAddsNothing) {
  TempDir dir;
  std::string db = dir.file("case.db");
  auto lines = write_first_run(db);
  std::string err;
  SqliteOptions append;
  append.append = true;
  auto sink = make_sqlite_sink(db, append, err);
  ASSERT_TRUE(sink) << err;
  Feeder f(*sink);
  f.conn("Cother", "10.0.0.9", "198.51.100.7", 443, 103.0);
  ASSERT_TRUE(sink->finish({finding("scan.tcp_syn", "10.0.0.9", 103.0, {"Cother"})}, run_with_input("id-one"), err))
      << err;
  sink.reset();
  EXPECT_EQ(read_all(db), lines);
  EXPECT_EQ(sql1(db, "SELECT count(*) FROM runs"), "1");
  EXPECT_EQ(sql1(db, "SELECT count(*) FROM findings"), "2");
  EXPECT_EQ(sql1(db, "SELECT count(*) FROM inputs"), "1");
  EXPECT_EQ(sql1(db, "PRAGMA journal_mode"), "delete");
}

TEST(SqliteCase, AppendOfANewCaptureAddsARunMergedByTime) {
  TempDir dir;
  std::string db = dir.file("case.db");
  std::vector<std::string> findings;
  auto first = write_first_run(db, &findings);
  std::string err;
  SqliteOptions append;
  append.append = true;
  auto sink = make_sqlite_sink(db, append, err);
  ASSERT_TRUE(sink) << err;
  Feeder f(*sink);
  f.conn("Cnew1", "10.0.0.7", "198.51.100.8", 22, 101.5);
  f.conn("Cnew2", "10.0.0.7", "198.51.100.8", 22, 100.5);  // behind its run's clock: stays after Cnew1
  f.conn("Cnew3", "10.0.0.7", "198.51.100.8", 22, 200.0);
  auto same = finding("scan.tcp_syn", "10.0.0.9", 103.0, {"Cother"});  // identical to run 1's: not added twice
  auto fresh = finding("bruteforce.ssh", "10.0.0.7", 101.5, {"Cnew1"});
  ASSERT_TRUE(sink->finish({same, fresh}, run_with_input("id-two"), err)) << err;
  sink.reset();
  // Run 1's clock: arp 100, dns 101, http 102.5, weird 102.7, conns after.
  // Run 2: 101.5, then 100.5 (clock still 101.5), then 200.
  const auto& a = first;
  std::vector<Line> want;
  want.push_back(a[0]);                                // arp 100
  want.push_back(a[1]);                                // dns 101
  want.push_back(f.lines[0]);                          // Cnew1 101.5
  want.push_back(f.lines[1]);                          // Cnew2 (key 101.5, before run 1's 102.5)
  for (size_t i = 2; i < a.size(); ++i) want.push_back(a[i]);  // http 102.5 ... conns (clock 102.7)
  want.push_back(f.lines[2]);                          // Cnew3 200
  EXPECT_EQ(read_all(db), want);
  EXPECT_EQ(sql1(db, "SELECT group_concat(run_id || ':' || first_seq || '-' || last_seq, ' ') FROM runs"),
            "1:1-7 2:8-10");
  EXPECT_EQ(sql1(db, "SELECT group_concat(id || ':' || type || ':' || run_id, ' ') FROM findings"),
            "1:scan.tcp_syn:1 2:beacon:1 3:bruteforce.ssh:2");
  auto src = open_sqlite_source(db, err);
  ASSERT_TRUE(src);
  std::vector<InputInfo> inputs;
  ASSERT_TRUE(src->inputs(inputs, err));
  ASSERT_EQ(inputs.size(), 2u);
  EXPECT_EQ(inputs[1].identity, "id-two");
  std::vector<std::string> got;
  ASSERT_TRUE(src->findings(got, err));
  findings.push_back(finding_line(fresh));
  EXPECT_EQ(got, findings);
  EXPECT_EQ(sql1(db, "PRAGMA journal_mode"), "delete");
}

// analyze calls records_done() before its detectors finish so that the
// writer builds the indexes meanwhile: the case must be the same file either way.
TEST(SqliteCase, IndexesBuiltEarlyGiveTheSameCase) {
  TempDir dir;
  std::string late = dir.file("late.db");
  std::string early = dir.file("early.db");
  std::vector<std::string> f_late, f_early;
  auto lines = write_first_run(late, &f_late);
  EXPECT_EQ(write_first_run(early, &f_early, true), lines);
  EXPECT_EQ(read_all(early), lines);
  const char* schema = "SELECT group_concat(type || ' ' || name || ' ' || tbl_name, '; ') FROM "
                       "(SELECT * FROM sqlite_master ORDER BY type, name)";
  EXPECT_EQ(sql1(early, schema), sql1(late, schema));
  EXPECT_EQ(sql1(early, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"), "31");
  EXPECT_EQ(sql1(early, "PRAGMA integrity_check"), "ok");
  // Indexes answer in the early case (INDEXED BY fails when one is missing).
  EXPECT_EQ(sql1(early, "SELECT uid FROM conn INDEXED BY conn_resp_h WHERE resp_h = '198.51.100.7'"), "Cother");
  EXPECT_EQ(sql1(early, "SELECT uid FROM http INDEXED BY http_domain WHERE domain = 'www.example.com'"), "Chttp1");
  // --append with records_done(): the new rows are in the existing indexes.
  std::string err;
  SqliteOptions append;
  append.append = true;
  auto sink = make_sqlite_sink(early, append, err);
  ASSERT_TRUE(sink) << err;
  Feeder f(*sink);
  f.conn("Cnew1", "10.0.0.7", "198.51.100.8", 22, 101.5);
  sink->records_done();
  ASSERT_TRUE(sink->finish({}, run_with_input("id-two"), err)) << err;
  sink.reset();
  EXPECT_EQ(sql1(early, "SELECT uid FROM conn INDEXED BY conn_orig_h WHERE orig_h = '10.0.0.7'"), "Cnew1");
  EXPECT_EQ(sql1(early, "SELECT count(*) FROM conn INDEXED BY conn_uid WHERE uid = 'Cnew1'"), "1");
  EXPECT_EQ(sql1(early, "PRAGMA integrity_check"), "ok");
}

TEST(SqliteCase, AnotherSchemaVersionIsRefused) {
  TempDir dir;
  std::string db = dir.file("case.db");
  write_first_run(db);
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(h);
  std::string err;
  EXPECT_FALSE(open_sqlite_source(db, err));
  EXPECT_EQ(err, db + ": case.db schema version 99, this trawl reads version 1 (re-run trawl analyze with this "
                      "version to rebuild it)");
  SqliteOptions append;
  append.append = true;
  err.clear();
  EXPECT_FALSE(make_sqlite_sink(db, append, err));
  EXPECT_NE(err.find("schema version 99"), std::string::npos) << err;
  // Not a case at all.
  std::ofstream(dir.file("other.db")) << "hello";
  EXPECT_FALSE(open_sqlite_source(dir.file("other.db"), err));
}

TEST(SqliteCase, ARunThatDiesLeavesTheOldCaseAlone) {
  TempDir dir;
  std::string db = dir.file("case.db");
  auto lines = write_first_run(db);
  {
    std::string err;
    auto sink = make_sqlite_sink(db, SqliteOptions{}, err);
    ASSERT_TRUE(sink) << err;
    Feeder f(*sink);
    for (int i = 0; i < 5000; ++i) f.conn("Cx", "10.0.0.1", "10.0.0.2", 80, 1.0 + i);
    // destroyed without finish: as if analyze failed
  }
  EXPECT_FALSE(fs::exists(db + ".tmp"));
  EXPECT_EQ(read_all(db), lines);
  {
    std::string err;
    SqliteOptions append;
    append.append = true;
    auto sink = make_sqlite_sink(db, append, err);
    ASSERT_TRUE(sink) << err;
    Feeder f(*sink);
    for (int i = 0; i < 5000; ++i) f.conn("Cy", "10.0.0.1", "10.0.0.2", 80, 1.0 + i);
  }
  EXPECT_EQ(read_all(db), lines);
  EXPECT_EQ(sql1(db, "SELECT count(*) FROM runs"), "1");
}

TEST(SqliteCase, ARecordOfAnotherClassGetsNoTypedColumns) {
  TempDir dir;
  std::string db = dir.file("case.db");
  std::string err;
  auto sink = make_sqlite_sink(db, SqliteOptions{}, err);
  ASSERT_TRUE(sink) << err;
  Feeder f(*sink);
  f.dns("Cdns1", "10.0.0.5", "www.example.com", "203.0.113.10", 101.0);
  ImpostorDns odd;
  odd.ts = core::Timestamp::from_seconds(102.0);
  f.record(odd);
  ASSERT_TRUE(sink->finish({}, run_with_input("x"), err)) << err;
  EXPECT_EQ(read_all(db), f.lines);
  EXPECT_EQ(sql1(db, "SELECT coalesce(domain, 'NULL') || ' ' || coalesce(qtype, 'NULL') || ' ' || "
                     "coalesce(uid, 'NULL') FROM dns WHERE seq = 2"),
            "NULL NULL NULL");
}

TEST(SqliteCase, ManyRecordsCrossBatches) {
  TempDir dir;
  std::string db = dir.file("case.db");
  std::string err;
  auto sink = make_sqlite_sink(db, SqliteOptions{}, err);
  ASSERT_TRUE(sink) << err;
  Feeder f(*sink);
  for (int i = 0; i < 20000; ++i) {
    if (i % 3 == 0) {
      f.dns(("D" + std::to_string(i)).c_str(), "10.0.0.5", "a.example", "203.0.113.1", i);
    } else {
      f.conn(("C" + std::to_string(i)).c_str(), "10.0.0.5", "203.0.113.1", 80, i);
    }
  }
  ASSERT_TRUE(sink->finish({}, run_with_input("big"), err)) << err;
  EXPECT_EQ(read_all(db), f.lines);
}

// The writer inserts each table's rows 16 to a statement (the rest one by
// one), table by table within a batch: every column of every row must still be
// what each record said, with rows of several tables interleaved, counts that
// are not multiples of the chunk, NULLs, IPv6, and times out of order.
TEST(SqliteCase, MultiRowInsertsKeepEveryColumn) {
  TempDir dir;
  std::string db = dir.file("case.db");
  std::string err;
  auto sink = make_sqlite_sink(db, SqliteOptions{}, err);
  ASSERT_TRUE(sink) << err;
  Feeder f(*sink);
  std::string want_conn, want_dns;
  for (int i = 0; i < 70; ++i) {
    std::string uid = "U" + std::to_string(i);
    std::string orig = i % 5 == 0 ? "2001:db8::" + std::to_string(100 + i) : "10.0.0." + std::to_string(i);
    double ts = i % 7 == 0 ? 900.0 + i : 1000.0 + i * 0.25;
    char when[32];
    std::snprintf(when, sizeof when, "%.6f", ts);
    std::string seq = std::to_string(i + 1);
    if (i % 4 == 3) {
      std::string query = "Host" + std::to_string(i) + ".Example";
      f.dns(uid.c_str(), orig.c_str(), query.c_str(), "203.0.113.10", ts);
      want_dns += seq + "," + when + "," + uid + "," + orig + ",5353,192.0.2.53,53,host" + std::to_string(i) +
                  ".example,1,0;";
    } else {
      uint16_t port = static_cast<uint16_t>(1000 + i);
      f.conn(uid.c_str(), orig.c_str(), "198.51.100.7", port, ts, i % 3 == 0 ? "" : "http");
      want_conn += seq + "," + when + "," + uid + "," + orig + ",40000,198.51.100.7," + std::to_string(port) + "," +
                   (i % 3 == 0 ? "N" : "http") + ",tcp,SF,0.001,10,20;";
    }
  }
  ASSERT_TRUE(sink->finish({}, run_with_input("chunks"), err)) << err;
  sink.reset();
  EXPECT_EQ(read_all(db), f.lines);
  EXPECT_EQ(sql1(db, "SELECT group_concat(seq || ',' || printf('%.6f', ts) || ',' || uid || ',' || orig_h || ',' || "
                     "orig_p || ',' || resp_h || ',' || resp_p || ',' || coalesce(service, 'N') || ',' || proto || "
                     "',' || conn_state || ',' || duration || ',' || orig_bytes || ',' || resp_bytes || ';', '') "
                     "FROM (SELECT * FROM conn WHERE run_id = 1 ORDER BY seq)"),
            want_conn);
  EXPECT_EQ(sql1(db, "SELECT group_concat(seq || ',' || printf('%.6f', ts) || ',' || uid || ',' || orig_h || ',' || "
                     "orig_p || ',' || resp_h || ',' || resp_p || ',' || domain || ',' || qtype || ',' || rcode || ';',"
                     " '') FROM (SELECT * FROM dns WHERE run_id = 1 ORDER BY seq)"),
            want_dns);
  EXPECT_EQ(sql1(db, "SELECT count(*) FROM conn"), "53");
  EXPECT_EQ(sql1(db, "SELECT count(*) FROM dns"), "17");
  // The ts index (kept up to date by the inserts) has every row, in time order.
  EXPECT_EQ(sql1(db, "SELECT group_concat(seq, ',') FROM (SELECT seq FROM conn INDEXED BY conn_ts "
                     "WHERE ts < 950 ORDER BY ts)"),
            "1,15,22,29,43,50");
  EXPECT_EQ(sql1(db, "SELECT count(*) FROM dns INDEXED BY dns_ts WHERE ts > 0"), "17");
  EXPECT_EQ(sql1(db, "PRAGMA integrity_check"), "ok");
}

TEST(SqliteCase, ArpMacsAndNamesAreWrittenByTheWriter) {
  TempDir dir;
  std::string db = dir.file("case.db");
  std::string err;
  auto sink = make_sqlite_sink(db, SqliteOptions{}, err);
  ASSERT_TRUE(sink) << err;
  output::ArpRecord a;
  a.ts = core::Timestamp::from_seconds(5);
  a.op = 2;
  a.sender_mac = {0x00, 0x1b, 0x2c, 0xad, 0xbe, 0xef};
  a.target_mac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  a.sender_ip = ip("10.0.0.1");
  a.target_ip = ip("fe80::1");
  std::string j;
  output::append_arp_json(a, j);
  j.pop_back();
  sink->on_arp(a, j);
  ASSERT_TRUE(sink->finish({}, run_with_input("arp"), err)) << err;
  sink.reset();
  EXPECT_EQ(sql1(db, "SELECT op || ' ' || sender_mac || ' ' || target_mac || ' ' || orig_h || ' ' || resp_h || ' ' || "
                     "coalesce(uid, 'N') || ' ' || coalesce(orig_p, 'N') FROM arp"),
            "2 00:1b:2c:ad:be:ef ff:ff:ff:ff:ff:ff 10.0.0.1 fe80::1 N N");
}

TEST(SqliteText, AsciiIsCopiedAndOtherBytesBecomeCodePoints) {
  std::string out = "left over";
  for (size_t n = 0; n <= 40; ++n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(0x20 + (i * 7) % 0x5f));
    sqlite::to_utf8_text(s, out);
    EXPECT_EQ(out, s) << n;
  }
  // One odd byte at every position of a 24-byte string (before, inside and
  // after the 8-byte words the ASCII scan reads).
  for (size_t pos = 0; pos < 24; ++pos) {
    std::string s(24, 'a');
    s[pos] = '\xff';
    sqlite::to_utf8_text(s, out);
    EXPECT_EQ(out, std::string(pos, 'a') + "\xc3\xbf" + std::string(23 - pos, 'a')) << pos;
    std::string e = std::string(pos, 'a') + "\xc3\xa9" + std::string(23 - pos, 'a');  // valid: kept
    sqlite::to_utf8_text(e, out);
    EXPECT_EQ(out, e) << pos;
  }
  sqlite::to_utf8_text("abcdefgh\xe2\x82\xac\x80z", out);
  EXPECT_EQ(out, "abcdefgh\xe2\x82\xac\xc2\x80z");
  sqlite::to_utf8_text("abc\xe2\x82", out);  // cut short
  EXPECT_EQ(out, "abc\xc3\xa2\xc2\x82");
  sqlite::to_utf8_text("", out);
  EXPECT_EQ(out, "");
}

// Runs `trawl query` and returns (exit status, stdout).
std::pair<int, std::string> query(std::vector<std::string> args) {
  testing::internal::CaptureStdout();
  int rc = app::cmd_query(args);
  std::fflush(stdout);
  return {rc, testing::internal::GetCapturedStdout()};
}

TEST(SqliteQuery, AnswersQuestionsWithTheStoredLines) {
  TempDir dir;
  std::vector<std::string> findings;
  auto lines = write_first_run(dir.file("case.db"), &findings);
  auto rec = [&](size_t i) { return "{\"log\":\"" + lines[i].first + "\",\"record\":" + lines[i].second + "}\n"; };
  auto fnd = [&](int n) {
    return "{\"log\":\"findings\",\"finding\":" + std::to_string(n) + ",\"record\":" +
           findings[static_cast<size_t>(n - 1)] + "}\n";
  };
  // Records by time within each log (logs in name order), then findings.
  auto [rc, out] = query({dir.path(), "--host", "10.0.0.5", "--json"});
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, rec(4) + rec(5) + rec(1) + rec(2) + fnd(2));
  std::tie(rc, out) = query({dir.path(), "--domain", "Example.com", "--json"});
  EXPECT_EQ(rc, 0);
  // conn: to the address it resolved to (and the HTTP connection's uid).
  EXPECT_EQ(out, rec(5) + rec(1) + rec(2) + fnd(2));
  std::tie(rc, out) = query({dir.path(), "--finding", "1", "--json"});
  EXPECT_EQ(out, rec(6) + fnd(1));
  std::tie(rc, out) = query({dir.path(), "--finding", "scan", "--json"});
  EXPECT_EQ(out, rec(6) + fnd(1));
  std::tie(rc, out) = query({dir.path(), "--uid", "Chttp1", "--json"});
  EXPECT_EQ(out, rec(5) + rec(2) + fnd(2));
  std::tie(rc, out) = query({dir.path(), "--between", "1970-01-01T00:01:41Z", "101.9", "--log", "conn,dns", "--json"});
  EXPECT_EQ(out, rec(4) + rec(1));
  std::tie(rc, out) = query({dir.path(), "SELECT uid, resp_p FROM conn ORDER BY seq", "--csv"});
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "uid,resp_p\nCdns1,53\nChttp1,8080\nCother,443\n");
  std::tie(rc, out) = query({dir.path(), "SELECT uid, orig_bytes, NULL AS x FROM conn WHERE uid = 'Cother'", "--json"});
  EXPECT_EQ(out, "{\"uid\":\"Cother\",\"orig_bytes\":10,\"x\":null}\n");
  // The terminal never gets raw control bytes from the network.
  std::tie(rc, out) = query({dir.path(), "--log", "http", "--between", "0", "200"});
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  EXPECT_NE(out.find("GET www.example.com/x\\x1b[31m 200"), std::string::npos) << out;
}

TEST(SqliteQuery, SqlIsReadOnlyAndErrorsAreExitOne) {
  TempDir dir;
  std::string db = dir.file("case.db");
  write_first_run(db);
  std::vector<std::string> writes = {"DELETE FROM conn",
                                     "INSERT INTO meta VALUES ('a', 'b')",
                                     "DROP TABLE conn",
                                     "UPDATE conn SET uid = 'x'",
                                     "CREATE TABLE t (a)",
                                     "ATTACH '" + dir.file("other.db") + "' AS o",
                                     "SELECT 1; DELETE FROM conn",
                                     "SELECT nope FROM conn"};
  for (const auto& sql : writes) EXPECT_EQ(query({db, sql}).first, 1) << sql;
  // Allowed, and harmless: the file itself is opened read-only.
  EXPECT_EQ(query({db, "PRAGMA query_only = 0"}).first, 0);
  EXPECT_EQ(sql1(db, "SELECT count(*) FROM conn"), "3");
  EXPECT_EQ(sql1(db, "SELECT count(*) FROM meta"), "2");
  EXPECT_FALSE(fs::exists(dir.file("other.db")));
  EXPECT_EQ(query({db, "--host", "not-an-ip"}).first, 2);
  EXPECT_EQ(query({db, "--between", "2024-13-01", "5"}).first, 2);
  EXPECT_EQ(query({db, "--host", "10.0.0.5", "--uid", "x"}).first, 2);
  EXPECT_EQ(query({dir.file("missing")}).first, 2);
  EXPECT_EQ(query({db, "--frobnicate"}).first, 2);
}

TEST(SqliteInputs, IdentityFollowsTheContentNotThePath) {
  TempDir dir;
  std::string big(3 << 20, 'a');
  big[100] = 'b';
  std::ofstream(dir.file("a.pcap"), std::ios::binary) << big;
  std::ofstream(dir.file("copy.pcap"), std::ios::binary) << big;
  big[big.size() - 5] = 'c';
  std::ofstream(dir.file("other.pcap"), std::ios::binary) << big;
  InputInfo a, copy, other;
  std::string err;
  ASSERT_TRUE(describe_input(dir.file("a.pcap"), a, err)) << err;
  ASSERT_TRUE(describe_input(dir.file("copy.pcap"), copy, err)) << err;
  ASSERT_TRUE(describe_input(dir.file("other.pcap"), other, err)) << err;
  EXPECT_EQ(a.identity, copy.identity);
  EXPECT_NE(a.identity, other.identity);
  EXPECT_EQ(a.size, 3u << 20);
  EXPECT_EQ(a.path, dir.file("a.pcap"));
  EXPECT_EQ(a.identity.substr(0, 8), "3145728:");
  EXPECT_EQ(a.identity.size(), 8u + 64u);
  EXPECT_FALSE(describe_input(dir.file("missing.pcap"), a, err));
  EXPECT_NE(err.find("missing.pcap"), std::string::npos);
}

TEST(SqliteTime, ReadsIsoAndEpoch) {
  double t = 0;
  ASSERT_TRUE(sqlite::parse_time("2024-03-12T10:00:00Z", t));
  EXPECT_EQ(t, 1710237600.0);
  ASSERT_TRUE(sqlite::parse_time("2024-03-12 10:00:00.25", t));
  EXPECT_EQ(t, 1710237600.25);
  ASSERT_TRUE(sqlite::parse_time("2024-03-12T12:00:00+02:00", t));
  EXPECT_EQ(t, 1710237600.0);
  ASSERT_TRUE(sqlite::parse_time("2024-03-12", t));
  EXPECT_EQ(t, 1710201600.0);
  ASSERT_TRUE(sqlite::parse_time("1710237600.5", t));
  EXPECT_EQ(t, 1710237600.5);
  EXPECT_FALSE(sqlite::parse_time("yesterday", t));
  EXPECT_FALSE(sqlite::parse_time("2024-03-12T25:00:00Z", t));
  EXPECT_FALSE(sqlite::parse_time("", t));
}

}  // namespace
}  // namespace trawl::store

// ClickHouse sink and source (store/clickhouse*.cc): URL parsing, the
// TabSeparated encoding, the spool when the server refuses connections (exact
// file contents), and a round trip through a private clickhouse-server on
// loopback (skipped when Debian's clickhouse-server is not installed).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "store/clickhouse_client.h"
#include "store/sink.h"

namespace trawl::store::clickhouse {
namespace {

namespace fs = std::filesystem;

core::Timestamp at(int64_t sec, int64_t usec = 0) { return core::Timestamp{sec * core::kNsPerSec + usec * 1000}; }

struct FakeRecord : analyzers::Record {
  std::string name;
  std::string_view log() const override { return name; }
  void write_json(std::string&) const override {}
};

flow::ConnRecord conn(core::Timestamp ts, const char* uid, const char* orig, const char* resp) {
  flow::ConnRecord r;
  r.ts = ts;
  r.uid = uid;
  r.orig_h = *core::IpAddress::parse(orig);
  r.resp_h = *core::IpAddress::parse(resp);
  return r;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A loopback port nothing listens on: bound (so no one else takes it) but
// not listening, so connections are refused.
struct RefusedPort {
  int fd = -1;
  uint16_t port = 0;
  RefusedPort() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~RefusedPort() { close(fd); }
};

fs::path temp_dir(const char* tag) {
  fs::path d = fs::temp_directory_path() / (std::string("trawl-ch-") + tag + "-" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(ClickHouseUrl, Parses) {
  Url u;
  std::string err;
  ASSERT_TRUE(parse_url("clickhouse://127.0.0.1:8124/trawl_test", u, err)) << err;
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 8124);
  EXPECT_EQ(u.db, "trawl_test");
  EXPECT_EQ(u.batch_rows, 20000u);
  EXPECT_EQ(u.retries, 4);
  EXPECT_EQ(u.spool_dir, "clickhouse-spool");
  EXPECT_EQ(u.http_base(), "http://127.0.0.1:8124/");

  ASSERT_TRUE(parse_url("clickhouse://ch-1.example/db", u, err)) << err;
  EXPECT_EQ(u.host, "ch-1.example");
  EXPECT_EQ(u.port, 8123);

  ASSERT_TRUE(parse_url("clickhouse://ana:s3cret@[2001:db8::5]:9123/Case_7?batch=500&flush_ms=100&retries=2"
                        "&backoff_ms=10&page=50&spool=out/spool",
                        u, err))
      << err;
  EXPECT_EQ(u.user, "ana");
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_EQ(u.host, "2001:db8::5");
  EXPECT_EQ(u.port, 9123);
  EXPECT_EQ(u.db, "Case_7");
  EXPECT_EQ(u.batch_rows, 500u);
  EXPECT_EQ(u.flush_ms, 100);
  EXPECT_EQ(u.retries, 2);
  EXPECT_EQ(u.backoff_ms, 10);
  EXPECT_EQ(u.page_rows, 50u);
  EXPECT_EQ(u.spool_dir, "out/spool");
  EXPECT_EQ(u.http_base(), "http://[2001:db8::5]:9123/");
  EXPECT_EQ(u.display(), "clickhouse://ana@[2001:db8::5]:9123/Case_7");  // no password in messages
}

// User, password and spool= are percent-decoded, so a password with '/' or
// '@' and a spool path with '&' or '%' can be given.
TEST(ClickHouseUrl, PercentEscapes) {
  Url u;
  std::string err;
  ASSERT_TRUE(parse_url("clickhouse://an%40a:p%2Fw%3A%25d@h/db?spool=sp%20ool%26x%2541&batch=5", u, err)) << err;
  EXPECT_EQ(u.user, "an@a");
  EXPECT_EQ(u.password, "p/w:%d");
  EXPECT_EQ(u.spool_dir, "sp ool&x%41");
  EXPECT_EQ(u.batch_rows, 5u);
  EXPECT_EQ(u.display(), "clickhouse://an@a@h:8123/db");
  for (const char* bad : {"clickhouse://u:p%2@h/db", "clickhouse://u:p%zz@h/db", "clickhouse://u%@h/db",
                          "clickhouse://h/db?spool=a%4", "clickhouse://h/db?spool=%",
                          "clickhouse://u:pw%00x@h/db"}) {
    EXPECT_FALSE(parse_url(bad, u, err)) << bad;
    EXPECT_NE(err.find("bad %-escape"), std::string::npos) << bad << ": " << err;
  }
}

TEST(ClickHouseUrl, Refuses) {
  Url u;
  std::string err;
  EXPECT_FALSE(parse_url("http://127.0.0.1:8123/db", u, err));
  EXPECT_EQ(err, "expected clickhouse://HOST[:PORT]/DB");
  EXPECT_FALSE(parse_url("clickhouse://127.0.0.1:8123", u, err));
  EXPECT_EQ(err, "no database: expected clickhouse://HOST[:PORT]/DB");
  EXPECT_FALSE(parse_url("clickhouse://127.0.0.1:99999/db", u, err));
  EXPECT_EQ(err, "bad port '99999'");
  EXPECT_FALSE(parse_url("clickhouse://127.0.0.1:/db", u, err));
  EXPECT_EQ(err, "bad port ''");
  EXPECT_FALSE(parse_url("clickhouse://:8123/db", u, err));
  EXPECT_EQ(err, "no host");
  EXPECT_FALSE(parse_url("clickhouse://h/db;DROP", u, err));
  EXPECT_EQ(err, "bad database name 'db;DROP' (letters, digits and _)");
  EXPECT_FALSE(parse_url("clickhouse://h/", u, err));
  EXPECT_EQ(err, "bad database name '' (letters, digits and _)");
  EXPECT_FALSE(parse_url("clickhouse://h/db?batch=0", u, err));
  EXPECT_EQ(err, "bad value for batch: '0'");
  EXPECT_FALSE(parse_url("clickhouse://h/db?colour=red", u, err));
  EXPECT_EQ(err, "unknown option 'colour' (batch, flush_ms, retries, backoff_ms, page, spool)");
  EXPECT_FALSE(parse_url("clickhouse://[2001:db8::1/db", u, err));
  EXPECT_EQ(err, "unclosed [ in the host");
  EXPECT_FALSE(parse_url("clickhouse://a'b/db", u, err));
  EXPECT_EQ(err, "bad character in the host");
}

TEST(ClickHouseTsv, EscapesAndUnescapes) {
  std::string out;
  append_tsv_escaped(std::string_view("a\\b\tc\nd\re\bf\fg\0h'", 16), out);
  EXPECT_EQ(out, "a\\\\b\\tc\\nd\\re\\bf\\fg\\0h'");
  EXPECT_EQ(tsv_unescape(out), std::string("a\\b\tc\nd\re\bf\fg\0h'", 16));
  // ClickHouse writes a quote as \' ; a lone trailing backslash stays.
  EXPECT_EQ(tsv_unescape("it\\'s\\"), "it's\\");
  // A JSON line with escapes of its own keeps them through a round trip.
  std::string json = R"({"q":"a\"b\\c\u0001"})";
  out.clear();
  append_tsv_escaped(json, out);
  EXPECT_EQ(out, R"({"q":"a\\"b\\\\c\\u0001"})");
  EXPECT_EQ(tsv_unescape(out), json);
}

TEST(ClickHouseTsv, DatesAndFields) {
  EXPECT_EQ(date_of(at(0)), "1970-01-01");
  EXPECT_EQ(date_of(at(1320279566, 452687)), "2011-11-03");
  EXPECT_EQ(date_of(at(951782400)), "2000-02-29");
  EXPECT_EQ(date_of(at(-5)), "1970-01-01");                      // before Date's range
  EXPECT_EQ(date_of(core::Timestamp{INT64_MAX}), "2105-12-31");  // after it
  std::string_view j = R"({"ts":1.0,"uid":"CabC","id.orig_h":"192.0.2.1","id.orig_p":5,"id.resp_h":"2001:db8::1"})";
  EXPECT_EQ(json_string_field(j, "uid"), "CabC");
  EXPECT_EQ(json_string_field(j, "id.orig_h"), "192.0.2.1");
  EXPECT_EQ(json_string_field(j, "id.resp_h"), "2001:db8::1");
  EXPECT_EQ(json_string_field(j, "id.orig_p"), "");  // not a string
  EXPECT_EQ(json_string_field(j, "host"), "");
  EXPECT_EQ(json_string_field(R"({"uid":"C\"x"})", "uid"), "");  // escaped: not taken
  EXPECT_EQ(json_string_field(R"({"uid":"Cunterminated)", "uid"), "");
}

TEST(ClickHouseSql, TablesUseTypesOf1816) {
  Url u;
  u.db = "case1";
  EXPECT_EQ(create_log_table_sql(u, "log_dns"),
            "CREATE TABLE IF NOT EXISTS case1.log_dns (date Date, ts_ns Int64, run_id String, seq UInt64, uid String,"
            " orig_h String, resp_h String, json String) ENGINE = MergeTree() PARTITION BY toYYYYMM(date)"
            " ORDER BY (date, run_id, seq)");
  EXPECT_EQ(valid_name("log_dce_rpc"), true);
  EXPECT_EQ(valid_name("log_x;drop"), false);
  EXPECT_EQ(valid_name(""), false);
}

TEST(ClickHouseSink, RefusedAtStartIsAnError) {
  RefusedPort rp;
  std::string err;
  auto sink = make_clickhouse_sink("clickhouse://127.0.0.1:" + std::to_string(rp.port) + "/db", err);
  EXPECT_EQ(sink, nullptr);
  EXPECT_EQ(err.rfind("clickhouse://127.0.0.1:" + std::to_string(rp.port) + "/db: ", 0), 0u) << err;
  EXPECT_NE(err.find("onnect"), std::string::npos) << err;  // curl's "Couldn't connect to server"
}

TEST(ClickHouseSink, SpoolsWhatCannotBeSent) {
  RefusedPort rp;
  fs::path dir = temp_dir("spool");
  Url u;
  std::string err;
  ASSERT_TRUE(parse_url("clickhouse://127.0.0.1:" + std::to_string(rp.port) +
                            "/trawl_t?batch=2&retries=2&backoff_ms=1&spool=" + (dir / "sp").string(),
                        u, err))
      << err;
  SinkOptions opt;
  opt.check_server = false;  // refused from the start; the batches find out
  opt.run_id = "run1";
  auto sink = make_sink(u, opt, err);
  ASSERT_NE(sink, nullptr) << err;

  const std::string j1 = R"({"ts":1320279566.000000,"uid":"C1","note":"a\\b"})";
  const std::string j2 = "{\"ts\":1320279567.5,\"uid\":\"C2\",\"raw\":\"1\t2\"}";  // a raw tab
  const std::string jd = R"({"ts":1320279567.000000,"uid":"C1","id.orig_h":"192.0.2.1","id.resp_h":"198.51.100.53","query":"example.com"})";
  const std::string j3 = R"({"ts":1320279568.000000,"uid":"C3"})";
  sink->on_conn(conn(at(1320279566), "C1", "192.0.2.1", "198.51.100.2"), j1);
  sink->on_conn(conn(at(1320279567, 500000), "C2", "2001:db8::1", "2001:db8::2"), j2);
  FakeRecord dns;
  dns.name = "dns";
  dns.ts = at(1320279567);
  sink->on_record(dns, jd);
  sink->on_conn(conn(at(1320279568), "C3", "192.0.2.1", "203.0.113.9"), j3);

  detect::Finding f;
  f.id = "scan.tcp_syn";
  f.ts = at(1320279566);
  f.last_ts = at(1320279568);
  f.src = "192.0.2.1";
  f.summary = "a scan";
  std::vector<detect::Finding> findings{f};
  RunInfo run;
  run.trawl_version = "9.9";
  run.command_line = "trawl analyze caps";
  run.started = at(1700000000);
  run.inputs.push_back(InputInfo{"caps/a.pcap", 123, 456, "id-a"});
  err.clear();
  EXPECT_FALSE(sink->finish(findings, run, err));
  // 4 records + 1 finding + 1 input + the run row, in 6 batches.
  EXPECT_NE(err.find("clickhouse://127.0.0.1:" + std::to_string(rp.port) +
                     "/trawl_t: 7 records in 6 batches could not be sent ("),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("re-send them with: cd " + (dir / "sp").string() + " && sh resend.sh"), std::string::npos) << err;

  fs::path sp = dir / "sp";
  EXPECT_EQ(slurp(sp / "log_conn-run1-0.tsv"),
            "2011-11-03\t1320279566000000000\trun1\t0\tC1\t192.0.2.1\t198.51.100.2\t"
            R"({"ts":1320279566.000000,"uid":"C1","note":"a\\\\b"})"
            "\n"
            "2011-11-03\t1320279567500000000\trun1\t1\tC2\t2001:db8::1\t2001:db8::2\t"
            R"({"ts":1320279567.5,"uid":"C2","raw":"1\t2"})"
            "\n");
  EXPECT_EQ(slurp(sp / "log_conn-run1-1.tsv"),
            "2011-11-03\t1320279568000000000\trun1\t3\tC3\t192.0.2.1\t203.0.113.9\t" + j3 + "\n");
  EXPECT_EQ(slurp(sp / "log_dns-run1-2.tsv"),
            "2011-11-03\t1320279567000000000\trun1\t2\tC1\t192.0.2.1\t198.51.100.53\t" + jd + "\n");
  std::string fjson;
  detect::append_finding_json(f, fjson);
  fjson.pop_back();
  std::string fesc;
  append_tsv_escaped(fjson, fesc);
  EXPECT_EQ(slurp(sp / "findings-run1-3.tsv"),
            "2011-11-03\t1320279566000000000\trun1\t0\tscan.tcp_syn\t192.0.2.1\t" + fesc + "\n");
  EXPECT_EQ(slurp(sp / "inputs-run1-4.tsv"), "2023-11-14\trun1\t0\tcaps/a.pcap\t123\t456\tid-a\n");
  // records 4, findings 1, and 6 rows spooled before the run row itself.
  EXPECT_EQ(slurp(sp / "runs-run1-5.tsv"), "2023-11-14\t1700000000000000000\trun1\t9.9\ttrawl analyze caps\t4\t1\t6\n");
  std::string script = slurp(sp / "resend.sh");
  std::string base = "http://127.0.0.1:" + std::to_string(rp.port) + "/";
  // Each file: sent only when none of its rows are there (re-running the
  // script, or a batch stored just before the answer was lost, adds nothing).
  EXPECT_NE(script.find("n=$(curl -sS --fail '" + base +
                        "' --data-binary \"SELECT count() FROM trawl_t.log_conn WHERE run_id = 'run1' AND seq >= 0 "
                        "AND seq <= 1\")\ncase \"$n\" in\n  0) curl -sS --fail '" + base +
                        "?insert_distributed_sync=1&query=INSERT%20INTO%20trawl_t.log_conn%20FORMAT%20TabSeparated' "
                        "--data-binary @log_conn-run1-0.tsv ;;\n  2) ;;\n  *) echo \"log_conn-run1-0.tsv: $n of 2 rows "
                        "are in trawl_t.log_conn already; check by hand\" >&2; exit 1 ;;\nesac\nrm -f log_conn-run1-0.tsv\n"),
            std::string::npos)
      << script;
  EXPECT_NE(script.find("--data-binary \"SELECT count() FROM trawl_t.runs WHERE run_id = 'run1'\")\n"),
            std::string::npos);
  EXPECT_NE(script.find("curl -sS --fail '" + base + "' --data-binary '" + create_log_table_sql(u, "log_dns") + "'\n"),
            std::string::npos);
  // resend.sh creates the database and each table once, then sends each file.
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = script.find(needle); at != std::string::npos; at = script.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("CREATE DATABASE IF NOT EXISTS trawl_t'"), 1u);
  EXPECT_EQ(count("CREATE TABLE IF NOT EXISTS trawl_t.log_conn "), 1u);
  EXPECT_EQ(count("CREATE TABLE IF NOT EXISTS trawl_t.runs "), 1u);
  EXPECT_EQ(count("--data-binary @"), 6u);
  EXPECT_EQ(script.rfind("#!/bin/sh\n", 0), 0u);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(sp)) files += e.path().extension() == ".tsv";
  EXPECT_EQ(files, 6u);
  fs::remove_all(dir);
}

// A private clickhouse-server for the round trip (the same setup as
// tests/tools/clickhouse_server.py).
class ClickHouseServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
    bool found = false;
    for (size_t s = 0; s <= path.size();) {
      size_t e = path.find(':', s);
      if (e == std::string::npos) e = path.size();
      found = found || access((path.substr(s, e - s) + "/clickhouse-server").c_str(), X_OK) == 0;
      s = e + 1;
    }
    if (!found) return;
    dir_ = temp_dir("server");
    RefusedPort a, b, c;  // three distinct free ports, released just before the start
    port_ = a.port;
    std::ofstream cfg(dir_ / "config.xml");
    cfg << "<?xml version=\"1.0\"?><yandex><logger><level>warning</level><log>" << (dir_ / "server.log").string()
        << "</log><errorlog>" << (dir_ / "error.log").string() << "</errorlog></logger>"
        << "<http_port>" << a.port << "</http_port><tcp_port>" << b.port << "</tcp_port>"
        << "<interserver_http_port>" << c.port << "</interserver_http_port><listen_host>127.0.0.1</listen_host>"
        << "<mark_cache_size>268435456</mark_cache_size><path>" << (dir_ / "data").string() << "/</path><tmp_path>"
        << (dir_ / "tmp").string() << "/</tmp_path><user_files_path>" << (dir_ / "uf").string()
        << "/</user_files_path><format_schema_path>" << (dir_ / "fs").string()
        << "/</format_schema_path><users_config>users.xml</users_config><default_profile>default</default_profile>"
        << "<default_database>default</default_database><timezone>UTC</timezone></yandex>\n";
    cfg.close();
    std::ofstream users(dir_ / "users.xml");
    users << "<?xml version=\"1.0\"?><yandex><profiles><default></default></profiles><users><default><password>"
             "</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota>"
             "</default></users><quotas><default></default></quotas></yandex>\n";
    users.close();
    std::string arg = "--config-file=" + (dir_ / "config.xml").string();
    std::string log = (dir_ / "stdout.log").string();
    close(a.fd);
    close(b.fd);
    close(c.fd);
    a.fd = b.fd = c.fd = -1;
    pid_ = fork();
    if (pid_ == 0) {
      if (chdir(dir_.c_str()) != 0) _exit(127);
      FILE* out = std::freopen(log.c_str(), "w", stdout);
      if (out) dup2(fileno(stdout), 2);
      execlp("clickhouse-server", "clickhouse-server", arg.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    Url u;
    std::string err;
    parse_url("clickhouse://127.0.0.1:" + std::to_string(port_) + "/default", u, err);
    Client client(u);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string out;
      if (client.query("SELECT 1", out, err) && out == "1\n") {
        ready_ = true;
        return;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void SetUp() override {
    if (!ready_) GTEST_SKIP() << "no clickhouse-server (Debian's clickhouse-server package) to test against";
  }
  static std::string url(const std::string& db, const std::string& opts = "") {
    return "clickhouse://127.0.0.1:" + std::to_string(port_) + "/" + db + opts;
  }
  static inline fs::path dir_;
  static inline pid_t pid_ = -1;
  static inline uint16_t port_ = 0;
  static inline bool ready_ = false;
};

TEST_F(ClickHouseServer, TwoRunsReadBackInReplayOrder) {
  Url u;
  std::string err;
  // Windows of 2 seq values: run a is read in two queries, b in two.
  ASSERT_TRUE(parse_url(url("rt", "?page=2&batch=2"), u, err)) << err;
  auto feed = [&](const std::string& run_id, const std::vector<std::tuple<std::string, int64_t, std::string>>& recs,
                  const std::string& finding_src, const std::string& input) {
    SinkOptions opt;
    opt.run_id = run_id;
    auto sink = make_sink(u, opt, err);
    ASSERT_NE(sink, nullptr) << err;
    for (const auto& [log, sec, json] : recs) {
      if (log == "conn") {
        sink->on_conn(conn(at(sec), "C1", "192.0.2.1", "198.51.100.2"), json);
      } else {
        FakeRecord r;
        r.name = log;
        r.ts = at(sec);
        sink->on_record(r, json);
      }
    }
    detect::Finding f;
    f.id = "beacon";
    f.src = finding_src;
    f.ts = at(10);
    RunInfo run;
    run.started = at(1700000000);
    run.inputs.push_back(InputInfo{input, 1, 2, "id-" + input});
    std::string ferr;
    EXPECT_TRUE(sink->finish({f}, run, ferr)) << ferr;
  };
  // Within a run the engine's order stands even where time goes back (dns
  // at 5 after conn at 10); across runs the earlier next record goes first.
  feed("a", {{"conn", 10, R"({"n":"a1","s":"x\ty\\z"})"}, {"dns", 5, R"({"n":"a2"})"}, {"conn", 30, R"({"n":"a3"})"},
             {"conn", 31, R"({"n":"a4"})"}},
       "192.0.2.1", "one.pcap");
  feed("b", {{"conn", 20, R"({"n":"b1"})"}, {"http", 20, R"({"n":"b2"})"}, {"conn", 40, R"({"n":"b3"})"}},
       "192.0.2.2", "two.pcap");

  auto src = open_clickhouse_source(url("rt", "?page=2"), err);
  ASSERT_NE(src, nullptr) << err;
  std::vector<std::string> got;
  ASSERT_TRUE(src->for_each([&](std::string_view log, std::string_view json) {
    got.push_back(std::string(log) + " " + std::string(json));
  }, err)) << err;
  std::vector<std::string> want = {
      R"(conn {"n":"a1","s":"x\ty\\z"})", R"(dns {"n":"a2"})", R"(conn {"n":"b1"})", R"(http {"n":"b2"})",
      R"(conn {"n":"a3"})", R"(conn {"n":"a4"})", R"(conn {"n":"b3"})"};
  EXPECT_EQ(got, want);

  std::vector<std::string> findings;
  ASSERT_TRUE(src->findings(findings, err)) << err;
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_NE(findings[0].find("\"192.0.2.1\""), std::string::npos) << findings[0];
  EXPECT_NE(findings[1].find("\"192.0.2.2\""), std::string::npos) << findings[1];
  std::vector<InputInfo> inputs;
  ASSERT_TRUE(src->inputs(inputs, err)) << err;
  ASSERT_EQ(inputs.size(), 2u);
  EXPECT_EQ(inputs[0].path, "one.pcap");
  EXPECT_EQ(inputs[0].identity, "id-one.pcap");
  EXPECT_EQ(inputs[0].size, 1u);
  EXPECT_EQ(inputs[0].mtime_ns, 2);
  EXPECT_EQ(inputs[1].path, "two.pcap");

  Client client(u);
  std::string out;
  ASSERT_TRUE(client.query("SELECT run_id, records, findings, spooled FROM rt.runs ORDER BY run_id FORMAT TabSeparated",
                           out, err))
      << err;
  EXPECT_EQ(out, "a\t4\t1\t0\nb\t3\t1\t0\n");
}

TEST_F(ClickHouseServer, MissingDatabaseIsAnError) {
  std::string err;
  EXPECT_EQ(open_clickhouse_source(url("no_such_db"), err), nullptr);
  EXPECT_EQ(err, url("no_such_db") + ": no database no_such_db");
}

}  // namespace
}  // namespace trawl::store::clickhouse

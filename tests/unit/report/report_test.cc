// report.html's data builder and page: exact summaries from record lines,
// caps that hold, hostile strings that stay text, a page with no way out.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "analyzers/common/auth_record.h"
#include "analyzers/dns/dns_log_record.h"
#include "analyzers/ftp/ftp_record.h"
#include "analyzers/http/http_record.h"
#include "analyzers/ssh/ssh_record.h"
#include "analyzers/ssl/ssl_record.h"
#include "output/records.h"
#include "report/assets.h"
#include "report/report_data.h"
#include "store/sink.h"

namespace trawl::report {
namespace {

using Json = nlohmann::json;

std::string conn(double ts, const std::string& a, int ap, const std::string& b, int bp, uint64_t ob, uint64_t rb,
                 const std::string& state = "SF", const std::string& service = "", const std::string& uid = "CAAAAAAAAAAAAAAAAA") {
  Json j = {{"ts", ts},        {"uid", uid},       {"id.orig_h", a},       {"id.orig_p", ap},
            {"id.resp_h", b},  {"id.resp_p", bp},  {"proto", "tcp"},       {"conn_state", state},
            {"duration", 1.5}, {"orig_bytes", ob}, {"resp_bytes", rb},     {"orig_pkts", 3},
            {"resp_pkts", 2}};
  if (!service.empty()) j["service"] = service;
  return j.dump();
}

Json data_of(const ReportBuilder& b, const std::vector<std::string>& findings = {}) {
  RunMeta meta;
  meta.version = "t";
  return Json::parse(b.data_json(findings, meta));
}

TEST(ReportData, ConnSummaries) {
  ReportBuilder b;
  b.add("conn", conn(1000.0, "10.0.0.1", 40000, "192.0.2.10", 443, 100, 900, "SF", "ssl", "C1"));
  b.add("conn", conn(1010.0, "10.0.0.1", 40001, "192.0.2.10", 443, 50, 50, "SF", "ssl", "C2"));
  b.add("conn", conn(1020.0, "10.0.0.2", 40002, "198.51.100.7", 22, 0, 0, "S0", "", "C3"));
  Json d = data_of(b);
  EXPECT_EQ(d["overview"]["connections"], 3);
  EXPECT_EQ(d["overview"]["bytes"], 1100);
  EXPECT_EQ(d["overview"]["packets"], 15);
  EXPECT_EQ(d["overview"]["hosts"], 4);
  EXPECT_DOUBLE_EQ(d["overview"]["first"].get<double>(), 1000.0);
  EXPECT_DOUBLE_EQ(d["overview"]["last"].get<double>(), 1021.5);
  EXPECT_EQ(d["overview"]["first_utc"], "1970-01-01 00:16:40");
  EXPECT_EQ(d["overview"]["records"]["conn"], 3);

  // Hosts by bytes: the two ends of the big pair first.
  ASSERT_EQ(d["hosts"].size(), 4u);
  const Json& h = d["hosts"][0];
  EXPECT_EQ(h["ip"], "10.0.0.1");
  EXPECT_EQ(h["conns_out"], 2);
  EXPECT_EQ(h["bytes_out"], 150);
  EXPECT_EQ(h["bytes_in"], 950);
  EXPECT_EQ(h["services_out"], Json::parse(R"([["tcp/443 ssl",2]])"));
  EXPECT_EQ(h["peers_out"], Json::parse(R"([["192.0.2.10",1100]])"));
  EXPECT_EQ(d["hosts"][1]["ip"], "192.0.2.10");
  EXPECT_EQ(d["hosts"][1]["services_in"], Json::parse(R"([["tcp/443 ssl",2]])"));
  const Json& h2 = d["hosts"][2]["ip"] == "10.0.0.2" ? d["hosts"][2] : d["hosts"][3];
  EXPECT_EQ(h2["failed_out"], 1);

  EXPECT_EQ(d["talkers"][0], Json::parse(R"(["10.0.0.1","192.0.2.10",2,1100])"));
  EXPECT_EQ(d["services"][0], Json::parse(R"(["tcp/443 ssl",2,1100])"));
  EXPECT_EQ(d["services"][1], Json::parse(R"(["tcp/22",1,0])"));
  // Largest connection first, with its fields in column order.
  ASSERT_EQ(d["conns"].size(), 3u);
  EXPECT_EQ(d["conns"][0][1], "C1");
  EXPECT_EQ(d["conns"][0][4], "192.0.2.10");
  EXPECT_EQ(d["conns"][0][11], 900);
  EXPECT_EQ(d["conns_more"], 0);
  // One-second buckets from the first connection.
  EXPECT_EQ(d["timeline"]["width_s"], 1);
  EXPECT_EQ(d["timeline"]["buckets"][0], Json::parse("[1000.0,1,1000,0]"));
}

TEST(ReportData, CapsHold) {
  ReportLimits lim;
  lim.max_hosts_tracked = 5;
  lim.max_hosts_shown = 2;
  lim.max_conns_shown = 3;
  lim.max_pairs_tracked = 4;
  lim.max_times_per_pair = 2;
  ReportBuilder b(lim);
  for (int i = 0; i < 20; ++i)
    b.add("conn", conn(100.0 + i, "10.0.0.1", 1000 + i, "203.0.113." + std::to_string(i), 80,
                       static_cast<uint64_t>(i), 0, "SF", "", "C" + std::to_string(i)));
  for (int i = 0; i < 5; ++i) b.add("conn", conn(200.0 + i, "10.0.0.1", 2000, "203.0.113.0", 80, 0, 0));
  Json d = data_of(b);
  EXPECT_EQ(d["hosts_total"], 5);
  EXPECT_EQ(d["hosts"].size(), 2u);
  EXPECT_GT(d["hosts_untracked"].get<int>(), 0);
  ASSERT_EQ(d["conns"].size(), 3u);
  EXPECT_EQ(d["conns"][0][1], "C19");  // the largest three: 19, 18, 17 bytes
  EXPECT_EQ(d["conns"][2][1], "C17");
  EXPECT_EQ(d["conns_more"], 22);
  EXPECT_LE(d["talkers"].size(), 4u);
  EXPECT_GT(d["pairs_untracked"].get<int>(), 0);
}

TEST(ReportData, TimelineStaysSmallOverLongSpans) {
  ReportBuilder b;
  // A year of connections, one a day... and one every second for an hour.
  for (int i = 0; i < 365; ++i) b.add("conn", conn(1.6e9 + i * 86400.0, "10.0.0.1", 1, "10.0.0.2", 2, 1, 1));
  for (int i = 0; i < 3600; ++i) b.add("conn", conn(1.6e9 + i, "10.0.0.1", 1, "10.0.0.2", 2, 1, 1));
  Json d = data_of(b);
  const Json& bk = d["timeline"]["buckets"];
  EXPECT_LE(bk.size(), 401u);
  uint64_t total = 0;
  for (const auto& r : bk) total += r[1].get<uint64_t>();
  EXPECT_EQ(total, 365u + 3600u);
}

TEST(ReportData, BadLinesAreCountedAndSkipped) {
  ReportBuilder b;
  b.add("conn", "");
  b.add("conn", "[1,2]");
  b.add("conn", R"({"ts":1,"id.orig_h":"10.0.0.1")");           // cut short
  b.add("conn", R"({"ts":1,"id.orig_h":"10.0.0.1","x":[[[[)");  // unclosed nesting
  b.add("dns", R"({"query":"a.example","rcode_name":"NOERROR"} trailing)");
  b.add("conn", conn(5.0, "10.0.0.1", 1, "10.0.0.2", 2, 3, 4));
  EXPECT_EQ(b.bad_lines(), 4u);  // the dns line parsed up to its closing brace
  Json d = data_of(b, {"not json", R"({"id":"x.y","severity":"low"})"});
  EXPECT_EQ(d["overview"]["connections"], 1);
  EXPECT_EQ(d["findings_total"], 2);
  EXPECT_EQ(d["findings_unreadable"], 1);
  EXPECT_EQ(d["findings"].size(), 1u);
}

// Hostile lines (a tampered case.db): every prefix and deterministic byte
// mutations of real lines; nothing crashes (the sanitizer build checks
// memory) and the page data stays valid JSON.
TEST(ReportData, SurvivesGarbage) {
  std::vector<std::pair<std::string, std::string>> seeds = {
      {"conn", conn(1.0, "10.0.0.1", 1, "10.0.0.2", 2, 3, 4, "SF", "http")},
      {"dns", R"({"ts":2,"id.orig_h":"10.0.0.1","query":"a\u00e9\ud83d\ude00.example","rcode_name":"NXDOMAIN","qtype_name":"TXT","answers":["x",{"y":[1]}]})"},
      {"http", R"({"ts":3,"id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2","uri":"\/\"<x>","user_agent":"a\\b","status_code":200})"},
      {"auth", R"({"ts":4,"id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2","proto":"ftp","user":"\u0000","outcome":"failure"})"},
      {"ssl", R"({"ts":5,"server_name":"\ud800","ja3":"x"})"},
  };
  ReportLimits lim;
  lim.max_string = 16;
  ReportBuilder b(lim);
  uint32_t rng = 12345;
  size_t fed = 0;
  for (const auto& [log, line] : seeds) {
    for (size_t n = 0; n <= line.size(); ++n, ++fed) b.add(log, std::string_view(line).substr(0, n));
    for (int k = 0; k < 300; ++k, ++fed) {
      std::string m = line;
      for (int flips = 0; flips < 3; ++flips) {
        rng = rng * 1103515245u + 12345u;
        m[(rng >> 8) % m.size()] = static_cast<char>(rng >> 24);
      }
      b.add(log, m);
    }
  }
  EXPECT_GT(b.bad_lines(), 0u);
  EXPECT_LT(b.bad_lines(), fed);
  std::string d = b.data_json({"{", "[]", "{\"id\":\"beacon\",\"src\":1,\"dst\":[2],\"details\":{\"dst_ips\":3}}"}, RunMeta{});
  Json j = Json::parse(d);
  EXPECT_EQ(j["findings_total"], 3);
  EXPECT_EQ(j["findings_unreadable"], 2);
  EXPECT_TRUE(Json::accept(escape_for_script(d)));
}

TEST(ReportData, StringsAreDecodedAndBounded) {
  ReportLimits lim;
  lim.max_string = 12;
  ReportBuilder b(lim);
  b.add("http", R"({"ts":7,"id.orig_h":"10.0.0.1","id.resp_h":"192.0.2.1","method":"GET",)"
                R"("host":"caf\u00e9 \ud83d\ude00","uri":"\/a\"b\\c","user_agent":"abcdefghij\u00e9\u00e9"})");
  Json d = data_of(b);
  const Json& row = d["http"]["rows"][0];
  EXPECT_EQ(row["host"], "caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(row["uri"], "/a\"b\\c");
  // Cut at 12 bytes without splitting the second é.
  EXPECT_EQ(row["ua"], "abcdefghij\xc3\xa9");
}

TEST(ReportData, DnsOddities) {
  ReportBuilder b;
  auto q = [&](const std::string& client, const std::string& name, const std::string& rcode, const std::string& type) {
    b.add("dns", Json({{"ts", 1.0}, {"id.orig_h", client}, {"query", name}, {"rcode_name", rcode},
                       {"qtype_name", type}}).dump());
  };
  for (int i = 0; i < 4; ++i) q("10.0.0.5", "x" + std::to_string(i) + ".example", "NXDOMAIN", "A");
  q("10.0.0.5", "www.example.com", "NOERROR", "A");
  q("10.0.0.6", "www.example.com", "NOERROR", "A");
  std::string long_name(70, 'a');
  q("10.0.0.6", long_name + ".example", "NOERROR", "TXT");
  q("10.0.0.6", "a<b>.example", "NOERROR", "A");
  Json d = data_of(b)["dns"];
  EXPECT_EQ(d["queries"], 8);
  EXPECT_EQ(d["nx_clients"], Json::parse(R"([["10.0.0.5",5,4]])"));
  EXPECT_EQ(d["txt"], Json::array({Json::array({long_name + ".example", 1})}));
  ASSERT_EQ(d["odd"].size(), 2u);
  EXPECT_EQ(d["odd"][0][0], "a<b>.example");
  EXPECT_EQ(d["odd"][0][2], "unusual characters");
  EXPECT_EQ(d["odd"][1][2], "long name");
  EXPECT_EQ(d["top_names"][0], Json::parse(R"(["www.example.com",2])"));
  EXPECT_EQ(d["rcodes"], Json::parse(R"([["NOERROR",4],["NXDOMAIN",4]])"));
}

TEST(ReportData, LoginAttemptsGrouped) {
  ReportBuilder b;
  for (int i = 0; i < 6; ++i) {
    b.add("auth", Json({{"ts", 10.0 + i}, {"id.orig_h", "203.0.113.9"}, {"id.resp_h", "10.0.0.3"}, {"id.resp_p", 21},
                        {"proto", "ftp"}, {"method", "USER/PASS"}, {"user", i < 3 ? "root" : "u" + std::to_string(i)},
                        {"outcome", i == 5 ? "success" : "failure"}}).dump());
  }
  Json d = data_of(b);
  const Json& a = d["auth"];
  EXPECT_EQ(a["total"], 6);
  ASSERT_EQ(a["groups"].size(), 2u);
  EXPECT_EQ(a["groups"][0]["outcome"], "failure");
  EXPECT_EQ(a["groups"][0]["count"], 5);
  EXPECT_EQ(a["groups"][0]["users"], Json::parse(R"(["root","u3","u4"])"));
  EXPECT_DOUBLE_EQ(a["groups"][0]["first"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(a["groups"][0]["last"].get<double>(), 14.0);
  EXPECT_EQ(a["groups"][1]["count"], 1);
  EXPECT_EQ(a["rows"].size(), 6u);
  EXPECT_EQ(a["rows"][0]["port"], 21);
  Json host;
  for (const auto& h : d["hosts"])
    if (h["ip"] == "10.0.0.3") host = h;
  EXPECT_EQ(host["logins_in"], 6);
  EXPECT_EQ(host["logins_in_failed"], 5);
}

TEST(ReportData, BeaconTimesFollowTheFinding) {
  ReportBuilder b;
  for (int i = 0; i < 10; ++i) b.add("conn", conn(500.0 + 60.0 * i, "10.0.0.7", 3000 + i, "192.0.2.66", 443, 10, 10));
  for (int i = 0; i < 3; ++i) b.add("conn", conn(700.0 + i, "10.0.0.8", 3000 + i, "192.0.2.66", 443, 10, 10));
  std::string f1 = R"({"id":"beacon.periodic","severity":"high","src":"10.0.0.7","dst":["c2.example"],)"
                   R"("details":{"dst_ips":["192.0.2.66"],"period_s":60.000,"jitter_s":0.000,"hist_bars":[0,9,0]}})";
  std::string f2 = R"({"id":"scan.tcp_syn","severity":"medium","src":"10.0.0.8","dst":["192.0.2.66"]})";
  Json d = data_of(b, {f1, f2});
  ASSERT_EQ(d["beacons"].size(), 1u);
  const Json& bc = d["beacons"][0];
  EXPECT_EQ(bc["finding"], 0);
  ASSERT_EQ(bc["times"].size(), 10u);
  EXPECT_DOUBLE_EQ(bc["times"][9].get<double>(), 1040.0);
  EXPECT_DOUBLE_EQ(bc["period_s"].get<double>(), 60.0);
  EXPECT_EQ(bc["hist_bars"], Json::parse("[0,9,0]"));
  EXPECT_EQ(d["findings_by_severity"], Json::parse(R"({"high":1,"medium":1})"));
}

TEST(ReportData, HostsNamedInFindingsAreShown) {
  ReportLimits lim;
  lim.max_hosts_shown = 1;
  ReportBuilder b(lim);
  b.add("conn", conn(1, "10.0.0.1", 1, "10.0.0.2", 2, 1000000, 0));
  b.add("conn", conn(2, "10.0.0.3", 1, "10.0.0.4", 2, 1, 0));
  Json d = data_of(b, {R"({"id":"x","severity":"low","src":"10.0.0.4","dst":[]})"});
  ASSERT_EQ(d["hosts"].size(), 2u);
  EXPECT_EQ(d["hosts"][0]["ip"], "10.0.0.1");
  EXPECT_EQ(d["hosts"][1]["ip"], "10.0.0.4");
}

TEST(ReportHtml, ScriptEscaping) {
  EXPECT_EQ(escape_for_script(R"({"a":"</script><b>&"})"), R"({"a":"\u003c/script\u003e\u003cb\u003e\u0026"})");
  EXPECT_EQ(escape_for_script("\"\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xa7\""), "\"\\u2028\\u2029\xe2\x80\xa7\"");
  // Still the same JSON value.
  std::string hostile = "</script><script>alert(1)</script>\xe2\x80\xa8";
  Json j = {{"s", hostile}};
  EXPECT_EQ(Json::parse(escape_for_script(j.dump()))["s"], hostile);
}

TEST(ReportHtml, PageIsSelfContainedAndDataStaysText) {
  ReportBuilder b;
  std::string xss = "/<script>window.__xss=1</script><img src=x onerror=alert(1)>";
  b.add("http", Json({{"ts", 1.0}, {"id.orig_h", "10.0.0.1"}, {"id.resp_h", "192.0.2.1"}, {"method", "GET"},
                      {"host", "h</script>"}, {"uri", xss}, {"user_agent", xss}}).dump());
  std::string html = render_html(b.data_json({}, RunMeta{}), "cap<x>.pcap");
  EXPECT_NE(html.find("<title>cap&lt;x&gt;.pcap</title>"), std::string::npos);
  EXPECT_NE(html.find("content=\"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\""),
            std::string::npos);
  EXPECT_EQ(html.find("<script>window.__xss"), std::string::npos);
  EXPECT_EQ(html.find("<img src=x"), std::string::npos);
  // Exactly the page's own three script tags' worth of "</script>": data + code.
  size_t closes = 0;
  for (size_t at = html.find("</script>"); at != std::string::npos; at = html.find("</script>", at + 1)) ++closes;
  EXPECT_EQ(closes, 2u);
  // Nothing that loads: no src/href to anything but data: and in-page anchors.
  for (const char* bad : {"src=\"http", "href=\"http", "url(", "@import", "fetch(", "XMLHttpRequest", "WebSocket"})
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  // The data block gives back the hostile strings unchanged.
  size_t a = html.find("id=\"trawl-data\">");
  ASSERT_NE(a, std::string::npos);
  a += 16;
  size_t e = html.find("</script>", a);
  Json d = Json::parse(html.substr(a, e - a));
  EXPECT_EQ(d["http"]["rows"][0]["uri"], xss);
  EXPECT_EQ(d["http"]["rows"][0]["host"], "h</script>");
}

TEST(ReportHtml, ScriptHasNoMarkupInjection) {
  std::string js;
  append_asset(Asset::kJs, js);
  ASSERT_GT(js.size(), 1000u);
  // The renderer builds nodes from text only.
  for (const char* bad : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"})
    EXPECT_EQ(js.find(bad), std::string::npos) << bad;
}

TEST(ReportSink, WritesTheFileAtFinish) {
  auto dir = std::filesystem::temp_directory_path() / ("trawl-report-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "report.html").string();
  std::string err;
  auto sink = store::make_report_sink(path, err);
  ASSERT_TRUE(sink) << err;
  detect::Finding f;
  f.id = "scan.tcp_syn";
  f.severity = detect::Severity::kHigh;
  f.src = "10.0.0.9";
  f.dst = {"10.0.0.1"};
  f.summary = "scan";
  store::RunInfo run;
  run.trawl_version = "9.9";
  ASSERT_TRUE(sink->finish({f, f}, run, err)) << err;
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string html = ss.str();
  size_t a = html.find("id=\"trawl-data\">") + 16;
  Json d = Json::parse(html.substr(a, html.find("</script>", a) - a));
  EXPECT_EQ(d["findings_total"], 2);
  EXPECT_EQ(d["findings"][0]["id"], "scan.tcp_syn");
  EXPECT_EQ(d["meta"]["version"], "9.9");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_FALSE(store::make_report_sink((dir / "no-such-dir" / "r.html").string(), err));
  std::filesystem::remove_all(dir);
}

// The page data of a report.html file.
Json data_of_page(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string html = ss.str();
  size_t a = html.find("id=\"trawl-data\">") + 16;
  return Json::parse(html.substr(a, html.find("</script>", a) - a));
}

// A conn record's line, as conn.jsonl has it (no newline).
std::string line_of(const flow::ConnRecord& r) {
  std::string line;
  output::append_conn_json(r, line);
  line.pop_back();
  return line;
}

// One input fed both ways: typed records to a report sink (as `trawl analyze`
// feeds them) and their lines to `lines` (as `trawl report CASE` does), so a
// test compares the two pages' data.
class BothWays {
 public:
  explicit BothWays(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
    sink_ = store::make_report_sink(path(), error_);
  }
  ~BothWays() { std::filesystem::remove_all(dir_); }
  BothWays(const BothWays&) = delete;
  BothWays& operator=(const BothWays&) = delete;

  bool ok() const { return sink_ != nullptr; }
  const std::string& error() const { return error_; }
  std::string path() const { return (dir_ / "report.html").string(); }

  void conn(const flow::ConnRecord& r) {
    std::string line = line_of(r);
    sink_->on_conn(r, line);
    lines.add("conn", line);
  }
  void record(const analyzers::Record& r) {
    std::string line;
    r.write_json(line);
    line.pop_back();
    sink_->on_record(r, line);
    lines.add(r.log(), line);
  }
  void arp(const output::ArpRecord& r) {
    std::string line;
    output::append_arp_json(r, line);
    line.pop_back();
    sink_->on_arp(r, line);
    lines.add("arp", line);
  }
  // The sink's page data, once it has finished.
  Json sink_data() {
    store::RunInfo run;
    std::string err;
    EXPECT_TRUE(sink_->finish({}, run, err)) << err;
    return data_of_page(path());
  }

  ReportBuilder lines;

 private:
  std::filesystem::path dir_;
  std::string error_;
  std::unique_ptr<store::RecordSink> sink_;
};

// `trawl analyze` feeds the typed conn record, `trawl report` its JSON line:
// the page data must be the same.
TEST(ReportSink, TypedConnEqualsItsJsonLine) {
  BothWays both("trawl-report-typed");
  ASSERT_TRUE(both.ok()) << both.error();
  for (int i = 0; i < 3; ++i) {
    flow::ConnRecord r;
    r.ts = core::Timestamp{1700000000123456789 + i * 1000000007LL};
    r.uid = "CTyped00000000000" + std::to_string(i);
    r.orig_h = *core::IpAddress::parse(i == 2 ? "2001:db8::1" : "10.0.0.1");
    r.resp_h = *core::IpAddress::parse("192.0.2.5");
    r.orig_p = static_cast<uint16_t>(40000 + i);
    r.resp_p = 443;
    r.proto = 6;
    r.service = i == 0 ? "ssl" : "";
    r.has_duration = i != 1;
    r.duration_ns = 2500000499;
    r.orig_bytes = 100u * static_cast<uint64_t>(i + 1);
    r.resp_bytes = 7;
    r.conn_state = i == 1 ? flow::ConnState::kS0 : flow::ConnState::kSF;
    r.orig_pkts = 4;
    r.resp_pkts = 3;
    both.conn(r);
  }
  Json from_sink = both.sink_data();
  Json from_json = data_of(both.lines);
  for (const char* k : {"overview", "hosts", "conns", "talkers", "services", "timeline", "conn_states"})
    EXPECT_EQ(from_sink[k], from_json[k]) << k;
  EXPECT_EQ(from_json["overview"]["connections"], 3);
  EXPECT_EQ(from_json["conns"][0][1], "CTyped000000000002");
}

// conn_fields: the fields the line has, times as the line's text reads back.
TEST(ReportData, ConnFieldsAreTheLinesFields) {
  flow::ConnRecord r;
  r.ts = core::Timestamp{1700000000123456500};  // rounds up to ...457
  r.uid = "CFields";
  r.orig_h = *core::IpAddress::parse("10.0.0.1");
  r.resp_h = *core::IpAddress::parse("2001:db8::2");
  r.orig_p = 1234;
  r.resp_p = 53;
  r.proto = 17;
  r.service = "dns";
  r.duration_ns = 1999999;  // 0.002000
  r.orig_bytes = 10;
  r.resp_bytes = 20;
  r.conn_state = flow::ConnState::kSHR;
  r.orig_pkts = 1;
  r.resp_pkts = 2;
  ConnFields c = conn_fields(r);
  EXPECT_EQ(c.ts, 1700000000.123457);
  EXPECT_EQ(c.duration, 0.0);  // unset duration: no duration and no bytes, as the line
  EXPECT_EQ(c.orig_bytes, 0u);
  EXPECT_EQ(c.resp_bytes, 0u);
  r.has_duration = true;
  c = conn_fields(r);
  EXPECT_EQ(c.duration, 0.002);
  EXPECT_EQ(c.orig_bytes, 10u);
  EXPECT_EQ(c.resp_bytes, 20u);
  EXPECT_EQ(c.uid, "CFields");
  EXPECT_EQ(c.orig_ip, &r.orig_h);
  EXPECT_EQ(c.resp_ip, &r.resp_h);
  EXPECT_TRUE(c.orig_h.empty() && c.resp_h.empty());
  EXPECT_EQ(c.proto, "udp");
  EXPECT_EQ(c.service, "dns");
  EXPECT_EQ(c.state, "SHR");
  EXPECT_EQ(c.orig_p, 1234u);
  EXPECT_EQ(c.resp_p, 53u);
  EXPECT_EQ(c.orig_pkts, 1u);
  EXPECT_EQ(c.resp_pkts, 2u);
  // Past 2^53 us (INT64_MAX, INT64_MIN) the text itself is read.
  for (int64_t ns : {int64_t{0}, int64_t{-1500}, int64_t{499}, int64_t{1700000000123456500}, INT64_MAX, INT64_MIN})
    EXPECT_EQ(line_seconds(ns), std::stod(core::format_epoch_micros(core::Timestamp{ns}))) << ns;
}

// The page's JSON is written partly by hand (hosts, connections): it must be
// exactly what nlohmann writes for the same values.
void expect_canonical(const std::string& data) {
  EXPECT_EQ(Json::parse(data).dump(-1, ' ', false, Json::error_handler_t::replace), data);
}

core::Timestamp ts_ns(int64_t ns) { return core::Timestamp{ns}; }

// `trawl analyze` gives the sink typed records of every log; `trawl report`
// gives the builder their lines. Strings that need escaping, bytes that are
// not UTF-8, strings past the shown length, absent optional fields and
// timestamps that round: the page data must be the same.
TEST(ReportSink, TypedRecordsEqualTheirJsonLines) {
  BothWays both("trawl-report-typed-all");
  ASSERT_TRUE(both.ok()) << both.error();
  auto feed = [&](const analyzers::Record& r) { both.record(r); };
  auto ip = [](const std::string& t) { return *core::IpAddress::parse(t); };
  std::string long_name(395, 'a');
  long_name += "\xc3\xa9\xc3\xa9\xc3\xa9.example";  // the cut at 400 bytes falls inside an é
  const std::vector<std::string> odd = {"plain.example", "caf\xc3\xa9.example", "bad\xff\xfe.example",
                                        "q\"uo\\te\x01\x7f", long_name, ""};
  for (size_t i = 0; i < odd.size(); ++i) {
    auto n = static_cast<int64_t>(i);
    analyzers::dns::DnsLogRecord d;
    d.ts = ts_ns(1700000000000000000 + n * 1234567891);
    d.uid = "CDns" + std::to_string(i);
    d.orig_h = ip(i % 2 ? "10.0.0.5" : "2001:db8::5");
    d.resp_h = ip("10.0.0.53");
    if (i != 5) d.query = odd[i];
    if (i != 4) d.qtype = static_cast<uint16_t>(i == 1 ? 16 : 1);
    if (i != 3) d.rcode = static_cast<uint16_t>(i % 2 ? 3 : 0);
    feed(d);

    analyzers::http::HttpRecord h;
    h.ts = ts_ns(1700000001000000499 + n);
    h.uid = "CHttp" + std::to_string(i);
    h.orig_h = ip("10.0.0.6");
    h.resp_h = ip(i % 2 ? "192.0.2.80" : "2001:db8::80");
    if (i != 2) h.method = i == 3 ? odd[3] : "GET";
    if (i != 1) h.host = odd[i];
    h.uri = "/" + odd[(i + 1) % odd.size()];
    if (i != 4) h.user_agent = odd[(i + 2) % odd.size()];
    if (i != 0) h.status_code = static_cast<uint16_t>(200 + i);
    feed(h);

    analyzers::AuthRecord a;
    a.ts = ts_ns(1700000002000000500 + n);
    a.client = ip("203.0.113.9");
    a.server = ip("10.0.0.3");
    a.server_port = 21;
    a.proto = "ftp";
    a.method = i % 2 ? "USER/PASS" : "";
    a.user = odd[i];
    a.outcome = i % 3 ? analyzers::AuthOutcome::kFailure : analyzers::AuthOutcome::kSuccess;
    feed(a);

    analyzers::ssl::SslRecord t;
    t.ts = ts_ns(1700000003000000000 + n);
    if (i != 5) t.server_name = odd[i];
    t.ja3 = i % 2 ? "" : "e7d705a3286e19ea42f587b344ee6865";
    feed(t);

    analyzers::ssh::SshRecord sh;
    sh.ts = ts_ns(1700000004000000000 + n);
    if (i != 1) sh.client = "SSH-2.0-" + odd[i];
    if (i != 2) sh.server = "SSH-2.0-OpenSSH_9.6";
    feed(sh);

    analyzers::ftp::FtpRecord f;
    f.ts = ts_ns(1700000005000000000 + n);
    f.uid = "CFtp" + std::to_string(i);
    f.command = "USER";
    feed(f);

    output::ArpRecord arp;
    arp.ts = ts_ns(1700000006000000000 + n);
    arp.op = 1;
    arp.sender_ip = ip(i % 2 ? "10.0.0.5" : "10.0.0.77");
    both.arp(arp);
  }
  Json from_sink = both.sink_data();
  Json from_json = data_of(both.lines);
  EXPECT_EQ(both.lines.bad_lines(), 0u);
  from_sink.erase("meta");
  from_json.erase("meta");
  EXPECT_EQ(from_sink, from_json);
  EXPECT_EQ(from_json["overview"]["records"],
            Json::parse(R"({"arp":6,"auth":6,"dns":6,"ftp":6,"http":6,"ssh":6,"ssl":6})"));
  EXPECT_EQ(from_json["dns"]["queries"], 6);
  EXPECT_EQ(from_json["http"]["rows"].size(), 6u);
  EXPECT_EQ(from_json["auth"]["rows"].size(), 6u);
}

// Typed conns find hosts and pairs by address: at the caps (untracked hosts,
// pruned pairs, a full table of largest connections) the page must equal the
// one the lines give.
TEST(ReportData, TypedConnsEqualLinesAtTheCaps) {
  ReportLimits lim;
  lim.max_hosts_tracked = 6;
  lim.max_hosts_shown = 3;
  lim.max_conns_shown = 4;
  lim.max_pairs_tracked = 5;
  lim.max_times_per_pair = 3;
  ReportBuilder typed(lim), lines(lim);
  for (int i = 0; i < 60; ++i) {
    flow::ConnRecord r;
    r.ts = core::Timestamp{(1000 + i) * int64_t{1000000000}};
    r.uid = "C" + std::to_string(i % 7 == 3 ? 3 : i);  // equal uids too
    r.orig_h = *core::IpAddress::parse("10.0.0." + std::to_string(i % 4));
    r.resp_h = *core::IpAddress::parse(i % 5 ? "192.0.2." + std::to_string(i % 9)
                                             : "2001:db8::" + std::to_string(i % 3));
    r.orig_p = static_cast<uint16_t>(40000 + i);
    r.resp_p = static_cast<uint16_t>(i % 3 ? 443 : 53);
    r.proto = i % 3 ? 6 : 17;
    r.service = i % 3 ? "ssl" : "dns";
    r.has_duration = i % 4 != 0;
    r.duration_ns = 2000000000;
    r.orig_bytes = static_cast<uint64_t>((i * 37) % 11);
    r.resp_bytes = static_cast<uint64_t>((i * 53) % 13);
    r.conn_state = i % 6 ? flow::ConnState::kSF : flow::ConnState::kS0;
    r.orig_pkts = 2;
    r.resp_pkts = 1;
    lines.add("conn", line_of(r));
    typed.add_conn(conn_fields(r));  // as the report sink feeds it
  }
  RunMeta meta;
  std::vector<std::string> findings = {
      R"({"id":"beacon.periodic","severity":"high","src":"10.0.0.1","dst":["192.0.2.1"]})"};
  std::string a = typed.data_json(findings, meta), b = lines.data_json(findings, meta);
  EXPECT_EQ(a, b);
  Json d = Json::parse(a);
  EXPECT_GT(d["hosts_untracked"].get<int>(), 0);
  EXPECT_GT(d["pairs_untracked"].get<int>(), 0);
  EXPECT_EQ(d["conns"].size(), 4u);
  EXPECT_EQ(d["conns_more"], 56);
  expect_canonical(a);
}

// Hosts and connections are written without nlohmann: escapes, bytes that are
// not UTF-8 (replaced as nlohmann replaces them), numbers of every size.
TEST(ReportData, HandWrittenPartsAreCanonicalJson) {
  ReportBuilder b;
  const std::vector<std::string> odd = {"a\"b\\c", "\x01\x1f\x7f\b\f\n\r\t", "caf\xc3\xa9 \xf0\x9f\x98\x80",
                                        "bad\xff", "cut\xe2\x82", "\xed\xa0\x80surrogate", "over\xc0\xafl"};
  core::IpAddress o = *core::IpAddress::parse("10.1.2.3"), r6 = *core::IpAddress::parse("2001:db8::1");
  for (size_t i = 0; i < odd.size(); ++i) {
    ConnFields c;
    c.ts = i == 0 ? 0.1 : i == 1 ? 1e17 : 1700000000.123457 + static_cast<double>(i);
    c.duration = i == 2 ? 1e-7 : 0.25 * static_cast<double>(i);
    c.uid = odd[i];
    c.orig_ip = &o;
    c.resp_ip = &r6;
    c.proto = "tcp";
    c.service = odd[(i + 1) % odd.size()];
    c.state = odd[(i + 2) % odd.size()];
    c.resp_p = 443;
    c.orig_bytes = i == 3 ? UINT64_MAX / 4 : i;
    c.resp_bytes = 7;
    b.add_conn(c);
  }
  // Text hosts too (a stored line's odd address text).
  b.add("conn", R"({"ts":5,"id.orig_h":"x\u00ff\"<y>","id.resp_h":"\ud83d\ude00","proto":"udp","orig_bytes":1})");
  std::string d = b.data_json({}, RunMeta{});
  expect_canonical(d);
  Json j = Json::parse(d);
  EXPECT_EQ(j["conns"].size(), odd.size() + 1);
  EXPECT_EQ(j["conns"][0][1], "bad\xef\xbf\xbd");  // the largest: orig_bytes UINT64_MAX / 4
  EXPECT_EQ(j["hosts"].size(), 4u);
}

// Findings are shown as nlohmann writes them once parsed, without parsing
// them into a document (Canon): every number form, escape, nesting and the
// lines it leaves to nlohmann (duplicate keys, overflow, BOM, garbage).
TEST(ReportData, FindingsShownAsNlohmannWritesThem) {
  std::vector<std::string> lines = {
      R"({"severity":"high","id":"scan.x","src":"10.0.0.1","dst":["10.0.0.2",3,["10.0.0.9"]],"z":{"b":1,"a":[]}})",
      R"( {"n":[0,-0,1.50,1e3,1E-2,-12,2.5e+2,0.1,100000000000000000000.0,1.7976931348623157e308,5e-324]} )",
      R"({"u":18446744073709551615,"i":-9223372036854775808,"big":18446744073709551616,"neg":-9223372036854775809})",
      R"({"s":"\/a\u00e9\ud83d\ude00\u0000\u001f\"\\\b\f\n\r\t\u2028<\/script>","t":"caf)" "\xc3\xa9" R"( \u007f"})",
      R"({"dup":1,"dup":2,"severity":"low"})",
      R"({"e":{},"f":[],"g":[{}],"h":true,"i":false,"j":null,"id":"beacon.periodic","src":"10.0.0.1"})",
      "\xef\xbb\xbf{\"bom\":1}",
      R"({"a":1} x)",
      R"({"a":01})",
      R"({"a":"\ud800"})",
      R"({"a":"raw)" "\x01" R"("})",
      R"({"a":"bad)" "\xff" R"("})",
      R"({"a":1e400})",
      R"([1,2])",
      R"({"severity":7,"src":["x"],"dst":"y"})",
  };
  ReportBuilder b;
  std::string d = b.data_json(lines, RunMeta{});
  Json expected = Json::array();
  size_t bad = 0;
  std::map<std::string, uint64_t> sev;
  for (const auto& l : lines) {
    Json f = Json::parse(l, nullptr, false);
    if (!f.is_object()) {
      ++bad;
      continue;
    }
    ++sev[f.contains("severity") && f["severity"].is_string() ? f["severity"].get<std::string>() : ""];
    expected.push_back(std::move(f));
  }
  std::string want = "\"findings\":" + expected.dump(-1, ' ', false, Json::error_handler_t::replace) + ",";
  EXPECT_NE(d.find(want), std::string::npos) << d.substr(0, 3000);
  Json j = Json::parse(d);
  EXPECT_EQ(j["findings_unreadable"], bad);
  EXPECT_EQ(j["findings_by_severity"], Json(sev));
  EXPECT_EQ(j["beacons"].size(), 1u);
  EXPECT_EQ(j["beacons"][0]["finding"], 5);
  expect_canonical(d);
}

// Typed conns keep their pairs by address (text only for the pairs shown);
// beacons are read from the shown finding's text, not a parsed document. The
// page must equal the one the lines give, and a line after typed conns (the
// pairs then go by text) must change nothing either.
TEST(ReportData, TypedPairsAndBeaconsEqualLines) {
  auto build = [](ReportBuilder& b, int mode) {  // 0: typed, 1: lines, 2: typed then one line
    for (int i = 0; i < 40; ++i) {
      std::string a = "10.0.0." + std::to_string(i % 3), z = i % 4 ? "192.0.2." + std::to_string(i % 5) : "2001:db8::1";
      double ts = 100.0 + 7.0 * i;
      uint64_t ob = i % 2 ? 100 : 0;  // many pairs tie on bytes: talkers by text
      if (mode == 1 || (mode == 2 && i == 39)) {
        b.add("conn", conn(ts, a, 1000 + i, z, 443, ob, 0, "SF", "", "C" + std::to_string(i)));
        continue;
      }
      core::IpAddress oa = *core::IpAddress::parse(a), ra = *core::IpAddress::parse(z);
      ConnFields c;
      c.ts = ts;
      c.duration = 1.5;
      std::string uid = "C" + std::to_string(i);
      c.uid = uid;
      c.orig_ip = &oa;
      c.resp_ip = &ra;
      c.proto = "tcp";
      c.state = "SF";
      c.orig_p = static_cast<uint64_t>(1000 + i);
      c.resp_p = 443;
      c.orig_bytes = ob;
      c.orig_pkts = 3;
      c.resp_pkts = 2;
      b.add_conn(c);
    }
    b.add("http", R"({"ts":5.5,"uid":"Cq\"<x>","id.orig_h":"10.0.0.1","id.resp_h":"192.0.2.1","method":"GET",)"
                  R"("host":"caf\u00e9","uri":"/a\u0001b","user_agent":"ua","status_code":200})");
  };
  std::vector<std::string> findings = {
      R"({"id":"beacon.periodic","severity":"high","src":"10.0.0.1","dst":["c2.example"],)"
      R"("details":{"dst_ips":["192.0.2.1",7,["x"],{"a":1},"2001:db8::1","2001:DB8::1"],"period_s":60.5,)"
      R"("jitter_s":"texté","score":{"b":[1,2.50,"c"],"a":null},"hist_bars":[0,9,0],"count":3,"other":1}})",
      R"({"id":"beacon.periodic","severity":"low","src":"10.0.0.2","dst":["192.0.2.2",5],"details":[1]})",
      R"({"id":"beacon.periodic","severity":"low","src":"10.0.0.0","dst":["192.0.2.0"],"details":{"dst_ips":[]}})",
      R"({"id":"beacon.capped","severity":"low","src":"10.0.0.1"})",
      R"({"id":"beacon.x","src":1,"dst":[2],"details":{"dst_ips":3}})"};
  ReportBuilder typed, lines, mixed;
  build(typed, 0);
  build(lines, 1);
  build(mixed, 2);
  RunMeta meta;
  std::string a = typed.data_json(findings, meta), b = lines.data_json(findings, meta),
              m = mixed.data_json(findings, meta);
  EXPECT_EQ(a, b);
  EXPECT_EQ(m, b);
  expect_canonical(a);
  Json d = Json::parse(a);
  ASSERT_EQ(d["beacons"].size(), 4u);
  const Json& b0 = d["beacons"][0];
  EXPECT_EQ(b0["dst"], Json::parse(R"(["192.0.2.1","2001:db8::1","2001:DB8::1"])"));
  // i % 3 == 1: to 192.0.2.1 at i = 1, 31 (i % 5 == 1, i % 4 != 0), to 2001:db8::1 at i = 4, 16, 28.
  EXPECT_EQ(b0["times"], Json::parse("[107.0,128.0,212.0,296.0,317.0]"));
  EXPECT_EQ(b0["jitter_s"], "text\u00e9");
  EXPECT_EQ(b0["score"], Json::parse(R"({"a":null,"b":[1,2.5,"c"]})"));
  EXPECT_EQ(b0["count"], 3);
  EXPECT_FALSE(b0.contains("other"));
  const Json& b1 = d["beacons"][1];
  EXPECT_EQ(b1["dst"], Json::parse(R"(["192.0.2.2"])"));  // "details" is no object: the finding's dst
  EXPECT_EQ(b1["times"].size(), 2u);                      // i = 2, 17 (32: i % 4 == 0)
  EXPECT_FALSE(b1.contains("period_s"));
  EXPECT_EQ(d["beacons"][2]["dst"], Json::parse(R"(["192.0.2.0"])"));
  EXPECT_EQ(d["beacons"][3]["src"], "");
  EXPECT_EQ(d["beacons"][3]["dst"], Json::array());
  EXPECT_EQ(d["http"]["rows"][0]["uid"], "Cq\"<x>");
  EXPECT_EQ(d["http"]["rows"][0]["host"], "caf\u00e9");
  EXPECT_EQ(d["http"]["rows"][0]["status"], "200");
}

// Typed records key hosts and peers by address and make their texts only at
// the end; a line names a host by text. The same records, some typed and
// some as lines, must give exactly the page all lines give: an address and
// its own text are one host (IPv4-mapped and IPv4-compatible IPv6 too),
// other texts (upper case, leading zeros) are hosts of their own, at the
// hosts' cap too (untracked peers are still named).
TEST(ReportData, TypedAndTextHostsAreOneHost) {
  const std::vector<std::string> addrs = {"10.0.0.9",   "10.0.0.10", "2001:db8::a", "::ffff:10.0.0.9",
                                          "::10.0.0.9", "192.0.2.1", "10.0.0.2"};
  const std::vector<std::string> texts = {"2001:DB8::A", "010.0.0.9", "10.0.0.9 "};  // no address's own text
  for (size_t cap : {size_t{50}, size_t{6}}) {
    ReportLimits lim;
    lim.max_hosts_tracked = cap;
    lim.max_hosts_shown = 4;
    ReportBuilder mixed(lim), lines(lim);
    for (size_t i = 0; i < 48; ++i) {
      bool text_orig = i % 5 == 4;
      std::string a = text_orig ? texts[i % texts.size()] : addrs[i % addrs.size()];
      std::string z = addrs[(i * 3 + 1) % addrs.size()];
      uint64_t ob = i % 3;  // ties on bytes: hosts and peers by text
      std::string uid = "C" + std::to_string(i), state = i % 4 ? "SF" : "S0";
      double ts = 100.0 + static_cast<double>(i);
      std::string line = conn(ts, a, static_cast<int>(1000 + i), z, 80, ob, 0, state, "", uid);
      lines.add("conn", line);
      if (text_orig || i % 3 == 0) {  // lines among the typed conns, naming the same addresses
        mixed.add("conn", line);
        continue;
      }
      core::IpAddress oa = *core::IpAddress::parse(a), ra = *core::IpAddress::parse(z);
      ConnFields c;
      c.ts = ts;
      c.duration = 1.5;
      c.uid = uid;
      c.orig_ip = &oa;
      c.resp_ip = &ra;
      c.proto = "tcp";
      c.state = state;
      c.orig_p = 1000 + i;
      c.resp_p = 80;
      c.orig_bytes = ob;
      c.orig_pkts = 3;
      c.resp_pkts = 2;
      mixed.add_conn(c);
    }
    for (size_t i = 0; i < addrs.size(); ++i) {  // dns, http, logins and arp: typed in `mixed`
      const std::string& client = addrs[i];
      const std::string& server = addrs[addrs.size() - 1 - i];
      double ts = 200.0 + static_cast<double>(i);
      std::string rcode = i % 2 ? "NXDOMAIN" : "NOERROR";
      lines.add("dns", Json({{"ts", ts}, {"id.orig_h", client}, {"query", "q.example"}, {"rcode_name", rcode},
                             {"qtype_name", "A"}}).dump());
      lines.add("http", Json({{"ts", ts}, {"uid", "CH"}, {"id.orig_h", client}, {"id.resp_h", server},
                              {"method", "GET"}, {"host", "h"}, {"uri", "/"}, {"status_code", 200}}).dump());
      lines.add("auth", Json({{"ts", ts}, {"id.orig_h", client}, {"id.resp_h", server}, {"id.resp_p", 22},
                              {"proto", "ssh"}, {"method", ""}, {"user", "root"}, {"outcome", "failure"}}).dump());
      lines.add("arp", Json({{"ts", ts}, {"sender_ip", client}}).dump());
      core::IpAddress c = *core::IpAddress::parse(client), sv = *core::IpAddress::parse(server);
      DnsFields df;
      df.ts = ts;
      df.client = c;
      df.query = "q.example";
      df.rcode_name = rcode;
      df.qtype_name = "A";
      mixed.add_dns(df);
      HttpFields hf;
      hf.ts = ts;
      hf.uid = "CH";
      hf.client = c;
      hf.server = sv;
      hf.method = "GET";
      hf.host = "h";
      hf.uri = "/";
      hf.has_status = true;
      hf.status = 200;
      mixed.add_http(hf);
      AuthFields af;
      af.ts = ts;
      af.client = c;
      af.server = sv;
      af.server_port = 22;
      af.proto = "ssh";
      af.user = "root";
      af.outcome = "failure";
      mixed.add_auth(af);
      mixed.add_arp(c);
    }
    std::vector<std::string> findings = {
        R"({"id":"x","severity":"low","src":"::ffff:10.0.0.9","dst":["2001:DB8::A","10.0.0.2"]})"};
    std::string m = mixed.data_json(findings, RunMeta{}), l = lines.data_json(findings, RunMeta{});
    EXPECT_EQ(m, l) << "cap " << cap;
    expect_canonical(m);
    Json d = Json::parse(m);
    EXPECT_EQ(d["hosts_total"], std::min(cap, addrs.size() + texts.size())) << cap;
    if (cap == 6) EXPECT_GT(d["hosts_untracked"].get<int>(), 0);
  }
}

// With every host tied on bytes and connections, hosts, peers and NXDOMAIN
// clients go by their text ("10.0.0.10" before "10.0.0.9"), made at the end.
TEST(ReportData, TypedHostTiesBreakByText) {
  ReportBuilder b;
  core::IpAddress server = *core::IpAddress::parse("192.0.2.1");
  for (const char* client : {"10.0.0.9", "10.0.0.10", "10.0.0.2", "2001:db8::1"}) {
    core::IpAddress ip = *core::IpAddress::parse(client);
    ConnFields c;
    c.ts = 10;
    c.uid = "C";
    c.orig_ip = &ip;
    c.resp_ip = &server;
    c.proto = "udp";
    c.resp_p = 53;
    c.orig_bytes = 5;
    b.add_conn(c);
    DnsFields f;
    f.ts = 11;
    f.client = ip;
    f.query = "x.example";
    f.rcode_name = "NXDOMAIN";
    b.add_dns(f);
  }
  Json d = data_of(b);
  std::vector<std::string> ips;
  for (const auto& h : d["hosts"]) ips.push_back(h["ip"]);
  EXPECT_EQ(ips, (std::vector<std::string>{"192.0.2.1", "10.0.0.10", "10.0.0.2", "10.0.0.9", "2001:db8::1"}));
  EXPECT_EQ(d["hosts"][0]["peers_in"],
            Json::parse(R"([["10.0.0.10",5],["10.0.0.2",5],["10.0.0.9",5],["2001:db8::1",5]])"));
  EXPECT_EQ(d["hosts"][1]["peers_out"], Json::parse(R"([["192.0.2.1",5]])"));
  EXPECT_EQ(d["dns"]["nx_clients"],
            Json::parse(R"([["10.0.0.10",1,1],["10.0.0.2",1,1],["10.0.0.9",1,1],["2001:db8::1",1,1]])"));
  EXPECT_EQ(d["conns"].size(), 4u);
  EXPECT_EQ(d["conns"][0][4], "192.0.2.1");  // the rows keep addresses too
}

// A line's strings are decoded leniently (the strict reading is nlohmann's,
// for findings): a bad \u or a lone surrogate is U+FFFD, an unknown escape
// its character; the cut keeps whole characters.
TEST(ReportData, LineStringsDecodeLeniently) {
  ReportLimits lim;
  lim.max_string = 9;
  ReportBuilder b(lim);
  b.add("http", R"({"ts":1,"id.orig_h":"10.0.0.1","method":"a\u12x4b","host":"\ud800\u0041\udc00",)"
                R"("uri":"\q\/\u00e9","user_agent":"12345678\u00e9"})");
  Json d = data_of(b);
  const Json& row = d["http"]["rows"][0];
  EXPECT_EQ(row["method"], "a\xef\xbf\xbd" "12x4b");
  EXPECT_EQ(row["host"], "\xef\xbf\xbd" "A" "\xef\xbf\xbd");
  EXPECT_EQ(row["uri"], "q/\xc3\xa9");
  EXPECT_EQ(row["ua"], "12345678");  // the é would end past 9 bytes
}

// The scans that skip 16 plain bytes a step (SSE2): a byte to escape or to
// show otherwise at every place of strings of every length around the step.
// Typed strings (shown as they are when plain) must give what their lines
// give; findings what nlohmann gives; the <script> escape what a byte at a
// time gives.
TEST(ReportData, BlockScansFindEveryByte) {
  BothWays both("trawl-report-scans");
  ASSERT_TRUE(both.ok()) << both.error();
  std::vector<std::string> findings;
  const std::string specials[] = {"\"", "\\", "\x01", "\x7f", "\xc3\xa9", "\xff", "<", "&", "\xe2\x80\xa8"};
  int n = 0;
  for (size_t len = 1; len <= 40; ++len) {
    for (size_t at = 0; at < len; at += (len > 20 ? 4 : 2)) {
      const std::string& sp = specials[static_cast<size_t>(n) % std::size(specials)];
      std::string v = std::string(at, 'a') + sp + std::string(len - at - 1, 'b');
      analyzers::http::HttpRecord h;  // every row is shown (fewer than 300)
      h.ts = core::Timestamp{int64_t{1700000000} * 1000000000 + n};
      h.uid = "C" + v;
      h.orig_h = *core::IpAddress::parse("10.0.0.1");
      h.resp_h = *core::IpAddress::parse("10.0.0.2");
      h.method = "GET";
      h.host = v;
      h.uri = "/" + v;
      h.user_agent = v + "z";
      both.record(h);
      Json f = {{"id", "x"}, {"severity", "low"}, {"v", v}};
      findings.push_back(f.dump(-1, ' ', false, Json::error_handler_t::replace));
      ++n;
    }
  }
  Json from_sink = both.sink_data();
  Json from_json = data_of(both.lines);
  from_sink.erase("meta");
  from_json.erase("meta");
  EXPECT_EQ(from_sink, from_json);
  EXPECT_EQ(from_json["http"]["rows"].size(), static_cast<size_t>(n));
  EXPECT_EQ(from_json["http"]["rows"][1]["host"], std::string("\\b"));
  EXPECT_EQ(from_json["http"]["rows"][2]["uri"], std::string("/\x01" "bb"));

  std::string d = ReportBuilder().data_json(findings, RunMeta{});
  Json expected = Json::array();
  for (const auto& l : findings) expected.push_back(Json::parse(l));
  EXPECT_NE(d.find("\"findings\":" + expected.dump(-1, ' ', false, Json::error_handler_t::replace) + ","),
            std::string::npos);

  auto slow = [](std::string_view in) {  // a byte at a time
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
      char c = in[i];
      if (c == '<') {
        out += "\\u003c";
      } else if (c == '>') {
        out += "\\u003e";
      } else if (c == '&') {
        out += "\\u0026";
      } else if (c == '\xE2' && i + 2 < in.size() && in[i + 1] == '\x80' && (in[i + 2] == '\xA8' || in[i + 2] == '\xA9')) {
        out += in[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
        i += 2;
      } else {
        out.push_back(c);
      }
    }
    return out;
  };
  for (size_t len = 0; len <= 40; ++len) {
    for (size_t at = 0; at < len; ++at) {
      for (const char* sp : {"<", ">", "&", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80", "\xe2", "\xe2\x82\xac"}) {
        std::string in = std::string(at, 'x') + sp + std::string(len - at, 'y');
        EXPECT_EQ(escape_for_script(in), slow(in)) << len << " " << at << " " << sp;
      }
    }
  }
  EXPECT_EQ(escape_for_script("0123456789abcdef<0123456789abcdef\xe2\x80\xa9"),
            "0123456789abcdef\\u003c0123456789abcdef\\u2029");
}

// Counters remember the last key (a compare instead of a hash): repeated,
// alternating and capped keys count exactly as before.
TEST(ReportData, RepeatedKeysCountExactly) {
  ReportLimits lim;
  lim.max_keys = 2;
  ReportBuilder b(lim);
  const char* svcs[] = {"a", "a", "b", "c", "c", "a", "b"};
  const char* states[] = {"SF", "SF", "S0", "SF", "REJ", "REJ", "OTH"};
  for (int i = 0; i < 7; ++i)
    b.add("conn", conn(1.0 + i, "10.0.0.1", 1, "10.0.0.2", 80, 1, 0, states[i], svcs[i], "C" + std::to_string(i)));
  for (const char* q : {"x.example", "x.example", "y.example", "z.example", "z.example", "x.example"})
    b.add("dns", Json({{"ts", 1.0}, {"id.orig_h", "10.0.0.1"}, {"query", q}, {"rcode_name", "NOERROR"}}).dump());
  Json d = data_of(b);
  EXPECT_EQ(d["services"], Json::parse(R"([["tcp/80 a",3,3],["tcp/80 b",2,2]])"));  // "c": past the cap
  EXPECT_EQ(d["conn_states"], Json::parse(R"([["SF",3],["REJ",2],["OTH",1],["S0",1]])"));
  EXPECT_EQ(d["dns"]["top_names"], Json::parse(R"([["x.example",3],["y.example",1]])"));
  EXPECT_EQ(d["dns"]["names_uncounted"], 2);
  EXPECT_EQ(d["hosts"][0]["failed_out"], 4);  // S0, REJ, REJ, OTH
}

}  // namespace
}  // namespace trawl::report

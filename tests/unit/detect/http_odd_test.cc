// http_odd: repeated odd URIs, executable downloads and bare-IP Host
// headers from synthetic http records.
#include <gtest/gtest.h>

#include "analyzers/http/http_record.h"
#include "detect_test_util.h"

namespace trawl::detect {
namespace {

using analyzers::http::HttpRecord;
using testing::at;
using testing::ip;
using DetectRun = testing::Run;
using testing::with_id;

HttpRecord get(double t, const char* client, const char* server, const std::string& host, const std::string& uri,
               uint16_t port = 80) {
  static uint64_t counter = 0;
  HttpRecord r;
  r.ts = at(t);
  r.uid = "Chttp" + std::to_string(++counter);
  r.first_index = counter;
  r.orig_h = ip(client);
  r.orig_p = 40000;
  r.resp_h = ip(server);
  r.resp_p = port;
  r.trans_depth = 1;
  r.method = "GET";
  if (!host.empty()) r.host = host;
  r.uri = uri;
  r.status_code = 200;
  r.response_body_len = 100;
  r.resp_mime_type = "text/html";
  return r;
}

std::string addr(int i) { return "198.51." + std::to_string(100 + i / 250) + "." + std::to_string(1 + i % 250); }

TEST(RepeatedUri, ConfickerLikeFetchFromManyIpsIsHighAndBoundaryHolds) {
  DetectRun nine("http_odd");
  for (int i = 0; i < 9; ++i) nine.set->on_record(get(i, "10.0.0.5", addr(i).c_str(), addr(i), "/search?q=1"));
  EXPECT_TRUE(with_id(nine.finish(), "http.repeated_uri").empty());
  DetectRun ten("http_odd");
  for (int i = 0; i < 10; ++i) ten.set->on_record(get(i, "10.0.0.5", addr(i).c_str(), addr(i), "/search?q=1"));
  const auto ten_all = ten.finish();
  auto fs = with_id(ten_all, "http.repeated_uri");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0]->src, "10.0.0.5");
  EXPECT_EQ(fs[0]->dst_count, 10u);
  EXPECT_EQ(fs[0]->severity, Severity::kHigh);  // all by bare IP
  EXPECT_NE(fs[0]->details.find("\"uri\":\"/search?q=1\""), std::string::npos);
  EXPECT_NE(fs[0]->summary.find("/search?q=1"), std::string::npos);
  EXPECT_EQ(fs[0]->details.substr(0, 2), "{\"");  // one JSON object
}

TEST(RepeatedUri, NamedHostsAreMediumAndCdnsAndCommonUrisAreIgnored) {
  DetectRun run("http_odd");
  for (int i = 0; i < 12; ++i) {
    run.set->on_record(get(i, "10.0.0.5", addr(i).c_str(), "site" + std::to_string(i % 6) + ".example", "/gate.php"));
  }
  // One site served from 20 addresses (a CDN): one Host.
  for (int i = 0; i < 20; ++i) run.set->on_record(get(i, "10.0.0.6", addr(i).c_str(), "cdn.example", "/lib.js"));
  // Everyone's favicon and root page.
  for (int i = 0; i < 20; ++i) {
    run.set->on_record(get(i, "10.0.0.7", addr(i).c_str(), "s" + std::to_string(i) + ".example", "/favicon.ico"));
    run.set->on_record(get(i, "10.0.0.7", addr(i).c_str(), "s" + std::to_string(i) + ".example", "/"));
  }
  const auto run_all = run.finish();
  auto fs = with_id(run_all, "http.repeated_uri");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0]->src, "10.0.0.5");
  EXPECT_EQ(fs[0]->severity, Severity::kMedium);
  DetectRun strict("http_odd", {"http_odd.repeated_uri_min_hosts=7"});
  for (int i = 0; i < 12; ++i) {
    strict.set->on_record(get(i, "10.0.0.5", addr(i).c_str(), "site" + std::to_string(i % 6) + ".example", "/gate.php"));
  }
  EXPECT_TRUE(with_id(strict.finish(), "http.repeated_uri").empty());
}

TEST(RepeatedUri, FloodOfDistinctUrisStaysBoundedAndStillFindsTheWorm) {
  DetectRun run("http_odd");
  for (int i = 0; i < 70000; ++i) {
    run.set->on_record(get(i * 0.001, "10.0.0.9", "203.0.113.1", "www.example", "/page/" + std::to_string(i)));
  }
  for (int i = 0; i < 10; ++i) run.set->on_record(get(100 + i, "10.0.0.9", addr(i).c_str(), addr(i), "/x.cgi"));
  const auto run_all = run.finish();
  auto fs = with_id(run_all, "http.repeated_uri");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_NE(fs[0]->details.find("/x.cgi"), std::string::npos);
}

TEST(ExeDownload, ByTypeOrExtensionWithSeverityByContext) {
  DetectRun run("http_odd");
  auto a = get(0, "10.0.0.5", "93.184.216.34", "download.example.com", "/setup/Installer.EXE");
  a.resp_mime_type = "application/octet-stream";
  a.response_body_len = 500000;
  run.set->on_record(a);
  const auto run_all = run.finish();
  auto fs = with_id(run_all, "http.exe_download");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0]->severity, Severity::kLow);
  EXPECT_EQ(fs[0]->attack, "T1105");

  DetectRun odd("http_odd");
  auto b = get(0, "10.0.0.5", "203.0.113.9", "203.0.113.9:8081", "/images/logo.gif");
  b.resp_mime_type = "application/x-dosexec";
  b.response_body_len = 70000;
  odd.set->on_record(b);
  const auto odd_all = odd.finish();
  auto os = with_id(odd_all, "http.exe_download");
  ASSERT_EQ(os.size(), 1u);
  EXPECT_EQ(os[0]->severity, Severity::kMedium);
  uint64_t disguised = 0;
  for (const auto& [n, v] : os[0]->counts) disguised = n == "disguised" ? v : disguised;
  EXPECT_EQ(disguised, 1u);
}

TEST(ExeDownload, ErrorsEmptyBodiesAndPagesAreNotDownloads) {
  DetectRun run("http_odd");
  auto a = get(0, "10.0.0.5", "93.184.216.34", "x.example", "/a.exe");
  a.status_code = 404;
  run.set->on_record(a);
  auto b = get(1, "10.0.0.5", "93.184.216.34", "x.example", "/b.exe");
  b.response_body_len = 0;
  run.set->on_record(b);
  auto c = get(2, "10.0.0.5", "93.184.216.34", "x.example", "/c.exe");  // text/html: an error page
  run.set->on_record(c);
  auto d = get(3, "10.0.0.5", "93.184.216.34", "x.example", "/script.js");
  d.resp_mime_type = "application/javascript";
  run.set->on_record(d);
  EXPECT_TRUE(run.finish().empty());
}

TEST(BareIpHost, SeverityByWhereAndHow) {
  DetectRun run("http_odd");
  run.set->on_record(get(0, "10.0.0.5", "10.0.0.1", "10.0.0.1", "/admin"));        // LAN device
  auto post = get(1, "10.12.29.101", "82.118.225.196", "82.118.225.196:7080", "/OK21pqJAtyyGBEo00sk", 7080);
  post.method = "POST";
  run.set->on_record(post);
  run.set->on_record(get(2, "10.0.0.6", "198.51.100.7", "198.51.100.7", "/index.php"));   // external, port 80, GET
  run.set->on_record(get(3, "10.0.0.8", "2001:db8::1", "[2001:db8::1]:80", "/v6"));
  run.set->on_record(get(4, "10.0.0.9", "93.184.216.34", "www.example.com", "/named"));  // a name
  run.set->on_record(get(5, "10.0.0.9", "93.184.216.34", "", "/nohost"));
  const auto run_all = run.finish();
  auto fs = with_id(run_all, "http.bare_ip_host");
  ASSERT_EQ(fs.size(), 4u);
  for (const auto* f : fs) {
    if (f->src == "10.0.0.5") {
      EXPECT_EQ(f->severity, Severity::kInfo);
    } else if (f->src == "10.12.29.101") {
      EXPECT_EQ(f->severity, Severity::kMedium);
      EXPECT_EQ(f->dst, std::vector<std::string>{"82.118.225.196"});
      EXPECT_EQ(f->ports, std::vector<uint16_t>{7080});
    } else {
      EXPECT_TRUE(f->src == "10.0.0.6" || f->src == "10.0.0.8") << f->src;
      EXPECT_EQ(f->severity, Severity::kLow);
    }
    EXPECT_NE(f->src, "10.0.0.9");
  }
}

TEST(BareIpHost, OneFindingPerClientWithBoundedSamples) {
  DetectRun run("http_odd");
  for (int i = 0; i < 3000; ++i) run.set->on_record(get(i, "10.0.0.5", addr(i).c_str(), addr(i), "/p"));
  const auto run_all = run.finish();
  auto fs = with_id(run_all, "http.bare_ip_host");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0]->dst.size(), 20u);
  EXPECT_EQ(fs[0]->dst_count, 3000u);
  EXPECT_EQ(fs[0]->evidence_total, 3000u);
}

}  // namespace
}  // namespace trawl::detect

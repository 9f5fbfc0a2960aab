// Text feeds (plain list, Feodo Tracker CSV, URLhaus CSV, MISP CSV), format
// sniffing and load_intel() on files, gzip and folders. Fixtures are in
// tests/data/intel/text (see its README).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "intel/feeds.h"

namespace trawl::intel {
namespace {

const std::string kDir = std::string(TRAWL_TEST_DATA) + "/intel/text/";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "file:line: message" per error.
std::vector<std::string> errors(const LoadReport& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.file + ":" + std::to_string(e.line) + ": " + e.message);
  return out;
}

const Source* ip_source(const IndicatorStore& s, const char* ip) {
  std::vector<Match> m;
  s.match_ip(*core::IpAddress::parse(ip), m);
  return m.empty() ? nullptr : m.front().source;
}

size_t ip_hits(const IndicatorStore& s, const char* ip) {
  std::vector<Match> m;
  s.match_ip(*core::IpAddress::parse(ip), m);
  return m.size();
}

size_t domain_hits(const IndicatorStore& s, const char* d) {
  std::vector<Match> m;
  s.match_domain(d, m);
  return m.size();
}

size_t url_hits(const IndicatorStore& s, const char* u) {
  std::vector<Match> m;
  s.match_url(u, m);
  return m.size();
}

size_t hash_hits(const IndicatorStore& s, const char* h) {
  std::vector<Match> m;
  s.match_hash(h, m);
  return m.size();
}

using V = std::vector<std::string>;

TEST(ListFeed, GoodFixture) {
  IndicatorStore s;
  LoadReport r;
  parse_feed("list.txt", slurp(kDir + "list.txt"), s, r);
  s.finalize();
  EXPECT_EQ(r.indicators, 14u);
  EXPECT_EQ(r.skipped, 1u);  // "127.0.0.1 localhost"
  EXPECT_EQ(errors(r), (V{"list.txt:20: not an IP, CIDR, domain, URL or hash: 'not'",
                          "list.txt:21: not an IP, CIDR, domain, URL or hash: '198.51.100.300'"}));
  ASSERT_EQ(r.loaded.size(), 1u);
  EXPECT_EQ(r.loaded[0].format, "list");
  EXPECT_EQ(r.loaded[0].indicators, 14u);
  EXPECT_EQ(r.loaded[0].errors, 2u);
  EXPECT_EQ(s.size(IndicatorType::kIp), 3u);
  EXPECT_EQ(s.size(IndicatorType::kCidr), 2u);
  EXPECT_EQ(s.size(IndicatorType::kDomain), 3u);
  EXPECT_EQ(s.size(IndicatorType::kUrl), 3u);
  EXPECT_EQ(s.size(IndicatorType::kHash), 3u);
  EXPECT_EQ(ip_hits(s, "198.51.100.7"), 1u);
  EXPECT_EQ(ip_hits(s, "203.0.113.99"), 1u);
  EXPECT_EQ(ip_hits(s, "2001:db8:bad:1::1"), 1u);
  EXPECT_EQ(ip_hits(s, "192.0.2.55"), 1u);  // "192.0.2.55,seen scanning"
  EXPECT_EQ(domain_hits(s, "bad-domain.example"), 1u);
  EXPECT_EQ(domain_hits(s, "ads.tracker.example"), 1u);  // hosts-file line
  EXPECT_EQ(domain_hits(s, "localhost"), 0u);
  EXPECT_EQ(url_hits(s, "http://malware.example/gate.php?id=1"), 1u);
  EXPECT_EQ(url_hits(s, "http://defanged.example/x"), 1u);  // hxxp://defanged[.]example/x
  EXPECT_EQ(hash_hits(s, "da39a3ee5e6b4b0d3255bfef95601890afd80709"), 1u);
  const Source* src = ip_source(s, "198.51.100.7");
  ASSERT_NE(src, nullptr);
  EXPECT_EQ(src->feed, "list.txt");
  EXPECT_EQ(src->format, "list");
}

TEST(ListFeed, EmptyCommentsOnlyAndCrlf) {
  IndicatorStore s;
  LoadReport r;
  parse_feed("empty.txt", "", s, r);
  parse_feed("comments.txt", "# nothing here\n\n; still nothing\n", s, r);
  parse_feed("list_crlf.txt", slurp(kDir + "list_crlf.txt"), s, r);
  s.finalize();
  EXPECT_EQ(r.errors_total, 0u);
  EXPECT_EQ(r.indicators, 2u);
  ASSERT_EQ(r.loaded.size(), 3u);
  EXPECT_EQ(r.loaded[0].format, "list");
  EXPECT_EQ(r.loaded[0].indicators, 0u);
  EXPECT_EQ(r.loaded[2].indicators, 2u);
  EXPECT_EQ(ip_hits(s, "198.51.100.9"), 1u);
  EXPECT_EQ(domain_hits(s, "windows.example"), 1u);
}

TEST(ListFeed, HostileLines) {
  IndicatorStore s;
  LoadReport r;
  std::string bytes = "198.51.100.1\n" + std::string(70000, 'a') + "\n" + std::string("\0\x01\xff", 3) +
                      "\nevil.example\n";
  parse_list("hostile.txt", bytes, s, r);
  EXPECT_EQ(r.indicators, 2u);
  EXPECT_EQ(errors(r), (V{"hostile.txt:2: line longer than 64 KiB",
                          "hostile.txt:3: not an IP, CIDR, domain, URL or hash: '" + std::string(3, '?') + "'"}));
}

TEST(ListFeed, ErrorsAreCappedButCounted) {
  IndicatorStore s;
  LoadReport r;
  std::string bytes;
  for (int i = 0; i < 1500; ++i) bytes += "bad!\n";
  parse_list("bad.txt", bytes, s, r);
  EXPECT_EQ(r.errors_total, 1500u);
  EXPECT_EQ(r.errors.size(), LoadReport::kMaxErrors);
}

TEST(FeodoFeed, GoodFixture) {
  IndicatorStore s;
  LoadReport r;
  parse_feed("feodo_ipblocklist.csv", slurp(kDir + "feodo_ipblocklist.csv"), s, r);
  s.finalize();
  ASSERT_EQ(r.loaded.size(), 1u);
  EXPECT_EQ(r.loaded[0].format, "feodo");
  EXPECT_EQ(r.indicators, 3u);
  EXPECT_EQ(errors(r), V{"feodo_ipblocklist.csv:12: dst_ip is not an IP address: 'not-an-ip'"});
  const Source* src = ip_source(s, "198.51.100.10");
  ASSERT_NE(src, nullptr);
  EXPECT_EQ(src->format, "feodo");
  EXPECT_EQ(src->feed, "feodo_ipblocklist.csv");
  EXPECT_EQ(src->name, "Dridex");
  EXPECT_EQ(src->tags, (V{"feodo", "Dridex", "c2_online", "port:443"}));
  EXPECT_EQ(src->first_seen, "2026-01-17 07:30:05");
  EXPECT_EQ(src->last_seen, "2026-11-19");
  EXPECT_EQ(src->reference, "https://feodotracker.abuse.ch/browse/host/198.51.100.10/");
  const Source* qak = ip_source(s, "192.0.2.77");
  ASSERT_NE(qak, nullptr);
  EXPECT_EQ(qak->name, "QakBot");
  EXPECT_EQ(ip_hits(s, "203.0.113.45"), 1u);
}

TEST(FeodoFeed, EmptyAndMalformed) {
  IndicatorStore s;
  LoadReport r;
  parse_feodo_csv("e.csv", "# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)\n", s, r);
  EXPECT_EQ(r.indicators, 0u);
  EXPECT_EQ(r.errors_total, 0u);
  parse_feodo_csv("m.csv",
                  "\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n"
                  "\"2026-01-01 00:00:00\"\n"
                  "\"2026-01-01 00:00:00\",\"198.51.100.11\",\"443\",\"online\",\"2026-01-02\",\"Emotet\n"
                  "\"2026-01-01 00:00:00\",\"198.51.100.12\",\"443\",\"online\",\"2026-01-02\",\"Emotet\"\n",
                  s, r);
  // The unclosed quote of line 3 ends at the first quote of line 4: reported
  // on line 3, and reading resumes on line 4.
  EXPECT_EQ(errors(r), (V{"m.csv:2: row without a dst_ip field (1 fields)", "m.csv:3: text after a closing quote"}));
  EXPECT_EQ(r.indicators, 1u);
  s.finalize();
  EXPECT_EQ(ip_hits(s, "198.51.100.12"), 1u);
  LoadReport u;
  parse_feodo_csv("u.csv", "\"2026-01-01 00:00:00\",\"198.51.100.14\",\"443\",\"online\",\"2026-01-02\",\"Emotet\n", s, u);
  EXPECT_EQ(errors(u), V{"u.csv:1: unterminated quoted field"});
}

TEST(FeodoFeed, OlderCommentedHeader) {
  IndicatorStore s;
  LoadReport r;
  parse_feed("old.csv",
             "# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)\n"
             "# Firstseen,DstIP,DstPort,LastOnline,Malware\n"
             "2019-05-01 10:00:00,198.51.100.13,8080,2019-06-01,Heodo\n",
             s, r);
  s.finalize();
  EXPECT_EQ(r.errors_total, 0u);
  const Source* src = ip_source(s, "198.51.100.13");
  ASSERT_NE(src, nullptr);
  EXPECT_EQ(src->name, "Heodo");
  EXPECT_EQ(src->last_seen, "2019-06-01");
  EXPECT_EQ(src->first_seen, "2019-05-01 10:00:00");
}

TEST(UrlhausFeed, GoodFixture) {
  IndicatorStore s;
  LoadReport r;
  parse_feed("urlhaus_csv_recent.csv", slurp(kDir + "urlhaus_csv_recent.csv"), s, r);
  s.finalize();
  ASSERT_EQ(r.loaded.size(), 1u);
  EXPECT_EQ(r.loaded[0].format, "urlhaus");
  EXPECT_EQ(r.indicators, 4u);
  EXPECT_EQ(errors(r), V{"urlhaus_csv_recent.csv:13: text after a closing quote"});
  std::vector<Match> m;
  s.match_url("http://198.51.100.20:49152/bins/mozi.m", m);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].source->format, "urlhaus");
  EXPECT_EQ(m[0].source->name, "malware_download");
  EXPECT_EQ(m[0].source->tags, (V{"32-bit", "elf", "mips", "Mozi"}));
  EXPECT_EQ(m[0].source->first_seen, "2026-11-20 09:58:12");
  EXPECT_EQ(m[0].source->last_seen, "2026-11-20 09:58:12");
  EXPECT_EQ(m[0].source->reference, "https://urlhaus.abuse.ch/url/3100001/");
  m.clear();
  s.match_url("http://quoted.example/a\"b", m);  // doubled quote inside the field
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0].source->tags.empty());  // "None"
  EXPECT_EQ(url_hits(s, "http://[2001:db8::5]/shell.sh"), 1u);
  EXPECT_EQ(url_hits(s, "https://dropper.example/invoice.zip"), 1u);
}

TEST(UrlhausFeed, OlderLayoutWithoutLastOnline) {
  IndicatorStore s;
  LoadReport r;
  parse_urlhaus_csv("old.csv",
                    "\"1\",\"2019-01-01 00:00:00\",\"http://old.example/x\",\"offline\",\"malware_download\","
                    "\"exe\",\"https://urlhaus.abuse.ch/url/1/\",\"someone\"\n",
                    s, r);
  s.finalize();
  std::vector<Match> m;
  s.match_url("http://old.example/x", m);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].source->name, "malware_download");
  EXPECT_EQ(m[0].source->tags, V{"exe"});
  EXPECT_EQ(m[0].source->reference, "https://urlhaus.abuse.ch/url/1/");
}

TEST(UrlhausFeed, EmptyAndMalformed) {
  IndicatorStore s;
  LoadReport r;
  parse_urlhaus_csv("e.csv", "", s, r);
  EXPECT_EQ(r.errors_total, 0u);
  parse_urlhaus_csv("m.csv",
                    "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n"
                    "\"1\",\"2026-01-01\",\"\",\"online\"\n"
                    "\"2\",\"2026-01-01\",\"http:///nohost\",\"online\",\"\",\"x\",\"\",\"\",\"r\"\n"
                    "\"3\",\"2026-01-01\",\"http://ok.example/\",\"online\",\"\",\"x\",\"\",\"\",\"r\"\n",
                    s, r);
  EXPECT_EQ(errors(r), (V{"m.csv:2: row without a url field (4 fields)", "m.csv:3: not a URL: 'http:///nohost'"}));
  EXPECT_EQ(r.indicators, 1u);
}

TEST(MispCsvFeed, GoodFixture) {
  IndicatorStore s;
  LoadReport r;
  parse_feed("misp_export.csv", slurp(kDir + "misp_export.csv"), s, r);
  s.finalize();
  ASSERT_EQ(r.loaded.size(), 1u);
  EXPECT_EQ(r.loaded[0].format, "misp_csv");
  EXPECT_EQ(r.indicators, 8u);
  EXPECT_EQ(r.skipped, 3u);  // a link and an ip-src with to_ids 0, a mutex
  EXPECT_EQ(errors(r), V{"misp_export.csv:12: not a valid ip-dst value: '999.1.1.1'"});
  const Source* src = ip_source(s, "198.51.100.30");
  ASSERT_NE(src, nullptr);
  EXPECT_EQ(src->format, "misp_csv");
  EXPECT_EQ(src->name, "MISP event 1042");
  EXPECT_EQ(src->tags, V{"Network activity"});
  EXPECT_EQ(src->first_seen, "2026-11-01");
  EXPECT_EQ(src->reference, "misp:event/1042");
  std::vector<Match> m;
  s.match_domain("www.c2.misp.example", m);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].source->tags, (V{"Network activity", "tlp:white", "malware:x"}));
  EXPECT_EQ(ip_hits(s, "203.0.113.60"), 1u);  // ip-dst|port
  EXPECT_EQ(ip_hits(s, "192.0.2.80"), 0u);    // to_ids 0
  EXPECT_EQ(url_hits(s, "http://payload.misp.example/a.exe"), 1u);
  EXPECT_EQ(hash_hits(s, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), 1u);
  EXPECT_EQ(hash_hits(s, "d41d8cd98f00b204e9800998ecf8427e"), 1u);
  const Source* pair = ip_source(s, "198.51.100.31");  // domain|ip: both halves
  ASSERT_NE(pair, nullptr);
  EXPECT_EQ(pair->first_seen, "2025-11-01T12:26:40Z");
  EXPECT_EQ(domain_hits(s, "pair.misp.example"), 1u);
  EXPECT_EQ(domain_hits(s, "host.quoted.example"), 1u);
}

TEST(MispCsvFeed, EmptyAndMalformed) {
  IndicatorStore s;
  LoadReport r;
  parse_misp_csv("e.csv", "", s, r);
  parse_misp_csv("h.csv", "uuid,event_id,category\n1,2,3\n", s, r);
  parse_misp_csv("m.csv", "uuid,event_id,category,type,value\nx,1,c,ip-dst\nx,1,c,ip-dst,198.51.100.40\n", s, r);
  EXPECT_EQ(errors(r), (V{"e.csv:0: empty MISP CSV (no header)", "h.csv:1: MISP CSV header without type and value columns",
                          "m.csv:2: row without type or value (4 fields)"}));
  EXPECT_EQ(r.indicators, 1u);
}

TEST(Sniffing, PicksFormatByContent) {
  IndicatorStore s;
  LoadReport r;
  // A Feodo file renamed .txt is still Feodo; header-less rows too.
  parse_feed("a.txt", "\"2026-01-01 00:00:00\",\"198.51.100.50\",\"443\",\"online\",\"2026-01-02\",\"Dridex\"\n", s, r);
  parse_feed("b.txt",
             "\"9\",\"2026-01-01 00:00:00\",\"http://b.example/\",\"online\",\"\",\"malware_download\",\"\","
             "\"https://urlhaus.abuse.ch/url/9/\",\"r\"\n",
             s, r);
  parse_feed("c.txt", "\"a\",\"b\",\"c\",\"d\"\n\"1\",\"2\",\"3\",\"4\"\n", s, r);
  parse_feed("d.json", "  {\"not\": \"intel\"}", s, r);
  ASSERT_EQ(r.loaded.size(), 4u);
  EXPECT_EQ(r.loaded[0].format, "feodo");
  EXPECT_EQ(r.loaded[1].format, "urlhaus");
  EXPECT_EQ(r.loaded[2].format, "csv");
  EXPECT_EQ(r.loaded[3].format, "json");
  EXPECT_EQ(errors(r),
            (V{"c.txt:0: CSV in an unknown layout (expected Feodo Tracker, URLhaus or MISP CSV); nothing loaded",
               "d.json:0: not a STIX bundle, MISP event or OTX pulse export"}));
  EXPECT_EQ(r.indicators, 2u);
}

TEST(Csv, QuotedFieldSpanningLinesKeepsLineNumbers) {
  IndicatorStore s;
  LoadReport r;
  parse_misp_csv("q.csv",
                 "uuid,event_id,category,type,value,comment,to_ids\n"
                 "u1,7,Network activity,ip-dst,198.51.100.60,\"two\nline comment with \"\"quotes\"\"\",1\r\n"
                 "u2,7,Network activity,ip-dst,bogus,,1\r\n",
                 s, r);
  EXPECT_EQ(r.indicators, 1u);
  EXPECT_EQ(errors(r), V{"q.csv:4: not a valid ip-dst value: 'bogus'"});
}

TEST(LoadIntel, GzipFileAndFolderWalk) {
  IndicatorStore s;
  LoadReport r;
  load_intel(kDir + "folder", s, r);
  s.finalize();
  V files;
  for (const auto& f : r.loaded) files.push_back(std::filesystem::path(f.file).lexically_relative(kDir).string());
  // Sorted, recursive, hidden files skipped, gzip read by content.
  EXPECT_EQ(files, (V{"folder/a_list.txt", "folder/sub/b_list.txt.gz", "folder/sub/c_list.txt"}));
  EXPECT_EQ(r.files, 3u);
  EXPECT_EQ(r.indicators, 4u);
  EXPECT_EQ(r.errors_total, 0u);
  EXPECT_EQ(ip_hits(s, "198.51.100.102"), 1u);
  EXPECT_EQ(domain_hits(s, "gz.example"), 1u);
  EXPECT_EQ(domain_hits(s, "nested.example"), 1u);
  EXPECT_EQ(ip_hits(s, "198.51.100.199"), 0u);  // .hidden_list.txt
  const Source* src = ip_source(s, "198.51.100.102");
  ASSERT_NE(src, nullptr);
  EXPECT_EQ(src->feed, "b_list.txt.gz");
}

TEST(LoadIntel, UnreadableFilesReportedOthersLoad) {
  IndicatorStore s;
  LoadReport r;
  load_intel(kDir + "truncated.txt.gz", s, r);
  load_intel(kDir + "no_such_file.txt", s, r);
  load_intel(kDir + "list_crlf.txt", s, r);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].line, 0u);
  EXPECT_EQ(r.errors[0].message, "cannot read: truncated gzip data");
  EXPECT_EQ(r.errors[1].message, "cannot read: No such file or directory");
  ASSERT_EQ(r.loaded.size(), 3u);
  EXPECT_EQ(r.loaded[0].format, "");
  EXPECT_EQ(r.loaded[2].format, "list");
  EXPECT_EQ(r.indicators, 2u);
  EXPECT_EQ(r.files, 1u);
}

TEST(LoadIntel, MispFeedFolderHandedOver) {
  auto dir = std::filesystem::temp_directory_path() / ("trawl-intel-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "feed");
  {
    std::ofstream(dir / "feed" / "manifest.json") << "{}";
    std::ofstream(dir / "list.txt") << "198.51.100.70\n";
  }
  IndicatorStore s;
  LoadReport r;
  load_intel(dir.string(), s, r);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(r.loaded.size(), 2u);
  EXPECT_EQ(r.loaded[0].format, "misp");
  EXPECT_EQ(r.loaded[0].file, (dir / "feed").string());
  EXPECT_EQ(r.loaded[1].format, "list");
  EXPECT_EQ(r.indicators, 1u);
  EXPECT_EQ(r.errors_total, 0u);
}

}  // namespace
}  // namespace trawl::intel

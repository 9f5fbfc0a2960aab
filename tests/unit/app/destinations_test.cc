// trawl check's destination table on hand-made records: aggregation per
// external peer, names from DNS/TLS/HTTP, caps, findings, verdicts, output.
#include "app/destinations.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "analyzers/dns/dns_log_record.h"
#include "analyzers/http/http_record.h"
#include "analyzers/ssl/ssl_record.h"

namespace trawl::app {
namespace {

core::IpAddress ip(const char* s) { return *core::IpAddress::parse(s); }

flow::ConnRecord conn(const char* uid, const char* o, uint16_t op, const char* r, uint16_t rp, uint64_t ob, uint64_t rb,
                      int64_t sec, const char* service = "") {
  flow::ConnRecord c;
  c.uid = uid;
  c.orig_h = ip(o);
  c.resp_h = ip(r);
  c.orig_p = op;
  c.resp_p = rp;
  c.proto = 6;
  c.orig_ip_bytes = ob;
  c.resp_ip_bytes = rb;
  c.orig_pkts = 3;
  c.resp_pkts = 2;
  c.ts = core::Timestamp::from_sec_nsec(sec, 0);
  c.last_ts = core::Timestamp::from_sec_nsec(sec + 2, 0);
  c.service = service;
  return c;
}

analyzers::dns::DnsLogRecord dns(const char* q, uint16_t rcode, std::vector<analyzers::dns::DnsAnswer> answers,
                                 int64_t sec) {
  analyzers::dns::DnsLogRecord r;
  r.orig_h = ip("10.0.0.5");
  r.orig_p = 40000;
  r.resp_h = ip("10.0.0.1");
  r.resp_p = 53;
  r.query = q;
  r.qtype = 1;
  r.rcode = rcode;
  r.saw_query = true;
  r.saw_reply = true;
  r.ts = core::Timestamp::from_sec_nsec(sec, 0);
  r.reply_ts = r.ts;
  r.answers = std::move(answers);
  return r;
}

analyzers::dns::DnsAnswer a_rr(const char* owner, const char* addr) {
  analyzers::dns::DnsAnswer a;
  a.name = owner;
  a.type = 1;
  a.text = addr;
  a.address = ip(addr);
  return a;
}

analyzers::dns::DnsAnswer cname_rr(const char* owner, const char* target) {
  analyzers::dns::DnsAnswer a;
  a.name = owner;
  a.type = 5;
  a.text = target;
  return a;
}

const Destination* find(const std::vector<Destination>& v, const std::string& key) {
  for (const auto& d : v) {
    if (d.key() == key) return &d;
  }
  return nullptr;
}

std::vector<std::string> strings(const CappedSet<std::string>& s) { return {s.values.begin(), s.values.end()}; }

TEST(Destinations, AggregatesPerExternalPeerBothDirections) {
  detect::Networks nets;
  DestinationBuilder b(nets);
  b.on_conn(conn("C1", "10.0.0.5", 50000, "198.51.100.7", 443, 500, 3000, 100, "ssl"));
  b.on_conn(conn("C2", "10.0.0.6", 50001, "198.51.100.7", 8080, 100, 200, 90, "http"));
  b.on_conn(conn("C3", "203.0.113.9", 40000, "10.0.0.5", 22, 700, 900, 200, "ssh"));
  b.on_conn(conn("C4", "10.0.0.5", 1, "10.0.0.6", 445, 1, 1, 200));          // internal only
  b.on_conn(conn("C5", "10.0.0.5", 1, "239.255.255.250", 1900, 1, 1, 200));  // multicast
  auto d = b.finish();
  ASSERT_EQ(d.size(), 2u);
  const Destination* a = find(d, "198.51.100.7");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->conns, 2u);
  EXPECT_EQ(a->conns_out, 2u);
  EXPECT_EQ(a->bytes_out, 600u);
  EXPECT_EQ(a->bytes_in, 3200u);
  EXPECT_EQ(a->pkts_out, 6u);
  EXPECT_EQ(a->pkts_in, 4u);
  EXPECT_EQ(a->first.ns, 90 * core::kNsPerSec);
  EXPECT_EQ(a->last.ns, 102 * core::kNsPerSec);
  EXPECT_EQ(std::vector<uint16_t>(a->ports.values.begin(), a->ports.values.end()), (std::vector<uint16_t>{443, 8080}));
  EXPECT_EQ(strings(a->services), (std::vector<std::string>{"http", "ssl"}));
  EXPECT_EQ(a->hosts.values.size(), 2u);
  const Destination* in = find(d, "203.0.113.9");
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(in->conns_in, 1u);
  EXPECT_EQ(in->bytes_out, 900u);  // what our host sent to it
  EXPECT_EQ(in->bytes_in, 700u);
  EXPECT_EQ(b.counters().internal_only, 1u);
  EXPECT_EQ(b.counters().not_unicast, 1u);
}

TEST(Destinations, HomeNetDecidesWhatIsExternal) {
  detect::Networks nets;
  nets.add(*core::IpNetwork::parse("198.51.100.0/24"));
  DestinationBuilder b(nets);
  b.on_conn(conn("C1", "198.51.100.5", 50000, "10.0.0.9", 443, 10, 20, 1));
  auto d = b.finish();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].key(), "10.0.0.9");  // 10/8 is external once --home-net replaces the defaults
  EXPECT_EQ(d[0].conns_out, 1u);
}

TEST(Destinations, NamesFromDnsTlsAndHttp) {
  detect::Networks nets;
  DestinationBuilder b(nets);
  // www.shop.example -> CNAME cdn.shop.example -> 198.51.100.7 (connected)
  b.on_record(dns("WWW.Shop.Example.", 0,
                  {cname_rr("www.shop.example", "cdn.shop.example"), a_rr("cdn.shop.example", "198.51.100.7")}, 10));
  b.on_record(dns("c2-lookup.example", 3, {}, 11));  // NXDOMAIN
  b.on_record(dns("c2-lookup.example", 3, {}, 12));
  b.on_record(dns("parked.example", 0, {a_rr("parked.example", "203.0.113.50")}, 13));          // never connected
  b.on_record(dns("printer.corp.example", 0, {a_rr("printer.corp.example", "10.0.0.9")}, 14));  // internal
  b.on_record(dns("nas.local", 0, {a_rr("nas.local", "10.0.0.8")}, 14));
  b.on_record(dns("wpad", 3, {}, 14));
  analyzers::ssl::SslRecord s;
  s.orig_h = ip("10.0.0.5");
  s.resp_h = ip("198.51.100.7");
  s.server_name = "Api.Shop.Example";
  b.on_record(s);
  analyzers::http::HttpRecord h;
  h.orig_h = ip("10.0.0.5");
  h.resp_h = ip("203.0.113.80");
  h.method = "GET";
  h.host = "Dl.Bad.Example:8080";
  h.raw_uri = "/payload.bin?x=1";
  b.on_record(h);
  b.on_conn(conn("C1", "10.0.0.5", 50000, "198.51.100.7", 443, 500, 3000, 10, "ssl"));
  b.on_conn(conn("C2", "10.0.0.5", 50001, "203.0.113.80", 8080, 300, 9000, 10, "http"));
  auto d = b.finish();
  ASSERT_EQ(d.size(), 4u);
  const Destination* a = find(d, "198.51.100.7");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(strings(a->domains),
            (std::vector<std::string>{"api.shop.example", "cdn.shop.example", "www.shop.example"}));
  const Destination* w = find(d, "203.0.113.80");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(strings(w->domains), (std::vector<std::string>{"dl.bad.example"}));
  EXPECT_EQ(strings(w->urls), (std::vector<std::string>{"http://dl.bad.example:8080/payload.bin?x=1"}));
  const Destination* nx = find(d, "c2-lookup.example");
  ASSERT_NE(nx, nullptr);
  EXPECT_TRUE(nx->is_name);
  EXPECT_EQ(nx->rcode, "NXDOMAIN");
  EXPECT_EQ(nx->lookups, 2u);
  EXPECT_EQ(nx->conns, 0u);
  EXPECT_EQ(nx->hosts.values.size(), 1u);
  const Destination* parked = find(d, "parked.example");
  ASSERT_NE(parked, nullptr);
  EXPECT_EQ(parked->rcode, "NOERROR");
  ASSERT_EQ(parked->resolved.values.size(), 1u);
  EXPECT_EQ(parked->resolved.values.begin()->to_string(), "203.0.113.50");
  EXPECT_EQ(find(d, "printer.corp.example"), nullptr);
  EXPECT_EQ(find(d, "nas.local"), nullptr);
  EXPECT_EQ(find(d, "wpad"), nullptr);
}

TEST(Destinations, LoopbackIsNeverADestination) {
  detect::Networks nets;
  nets.add(*core::IpNetwork::parse("10.0.0.0/24"));  // 127/8 is not "internal" now
  DestinationBuilder b(nets);
  b.on_record(dns("2.0.0.127.zen.dnsbl.example", 0, {a_rr("2.0.0.127.zen.dnsbl.example", "127.0.0.2")}, 1));
  b.on_conn(conn("C1", "10.0.0.5", 5000, "127.0.0.1", 80, 1, 1, 1));
  b.on_conn(conn("C2", "10.0.0.5", 5000, "::1", 80, 1, 1, 1));
  b.on_conn(conn("C3", "10.0.0.5", 5000, "::2", 80, 1, 1, 1));  // a (reserved) unicast address
  auto d = b.finish();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].key(), "::2");
  EXPECT_EQ(b.counters().not_unicast, 2u);
  EXPECT_EQ(b.counters().names_ignored, 1u);
}

TEST(Destinations, CleanHost) {
  EXPECT_EQ(clean_host("Example.COM:443"), "example.com");
  EXPECT_EQ(clean_host("evil.example."), "evil.example");
  EXPECT_EQ(clean_host("198.51.100.7:80"), "");
  EXPECT_EQ(clean_host("[2001:db8::1]:80"), "");
  EXPECT_EQ(clean_host("bad name.example"), "");
  EXPECT_EQ(otx_kind_for_name("evil.com"), intel::OtxKind::kDomain);
  EXPECT_EQ(otx_kind_for_name("c2.evil.com"), intel::OtxKind::kHostname);
}

TEST(Destinations, CapsCountWhatTheyDrop) {
  detect::Networks nets;
  DestinationLimits lim;
  lim.max_destinations = 2;
  lim.max_ports = 3;
  lim.max_names = 1;
  DestinationBuilder b(nets, lim);
  for (uint16_t p = 1; p <= 5; ++p) b.on_conn(conn("C", "10.0.0.5", 1000, "198.51.100.1", p, 1, 1, 1));
  b.on_conn(conn("C", "10.0.0.5", 1000, "198.51.100.1", 5, 1, 1, 1));  // a dropped port again: counted once
  b.on_conn(conn("C", "10.0.0.5", 1000, "198.51.100.2", 80, 1, 1, 1));
  b.on_conn(conn("C", "10.0.0.5", 1000, "198.51.100.3", 80, 1, 1, 1));
  b.on_record(dns("one.example", 3, {}, 1));
  b.on_record(dns("two.example", 3, {}, 1));
  auto d = b.finish();
  EXPECT_EQ(d.size(), 3u);  // two addresses, one name
  EXPECT_EQ(b.counters().destinations_dropped, 1u);
  EXPECT_EQ(b.counters().names_dropped, 1u);
  const Destination* a = find(d, "198.51.100.1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->ports.values.size(), 3u);
  EXPECT_EQ(a->ports.total(), 5u);
}

TEST(Destinations, WatchedNamesSurviveFullSets) {
  detect::Networks nets;
  DestinationLimits lim;
  lim.max_domains = 2;
  lim.max_urls = 1;
  DestinationBuilder b(nets, lim);
  std::vector<std::string> asked;
  b.set_watch([&](std::string_view v, bool is_url) {
    asked.push_back(std::string(is_url ? "url " : "domain ") + std::string(v));
    return v == "evil.example" || v == "http://evil.example/x";
  });
  for (const char* host : {"a.example", "b.example", "c.example", "evil.example", "d.example"}) {
    analyzers::http::HttpRecord h;
    h.orig_h = ip("10.0.0.5");
    h.resp_h = ip("198.51.100.7");
    h.method = "GET";
    h.host = host;
    h.raw_uri = "/x";
    b.on_record(h);
  }
  b.on_conn(conn("C1", "10.0.0.5", 50000, "198.51.100.7", 80, 1, 1, 1));
  auto d = b.finish();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(strings(d[0].domains), (std::vector<std::string>{"a.example", "b.example", "evil.example"}));
  EXPECT_EQ(d[0].domains.total(), 5u);
  EXPECT_EQ(strings(d[0].urls), (std::vector<std::string>{"http://a.example/x", "http://evil.example/x"}));
  EXPECT_EQ(d[0].urls.total(), 5u);
  EXPECT_EQ(asked.size(), 7u);  // only values past a full set: 3 domains, 4 URLs
}

TEST(Destinations, FindingsAttachByAddressDomainAndEvidence) {
  detect::Networks nets;
  DestinationBuilder b(nets);
  b.on_record(dns("beacon.example", 0, {a_rr("beacon.example", "198.51.100.7")}, 1));
  b.on_conn(conn("CAAA", "10.0.0.5", 1, "198.51.100.7", 443, 1, 1, 1));
  b.on_conn(conn("CBBB", "10.0.0.5", 1, "203.0.113.4", 443, 1, 1, 1));
  b.on_conn(conn("CCCC", "10.0.0.5", 1, "203.0.113.5", 443, 1, 1, 1));
  auto d = b.finish();
  detect::Finding f1;
  f1.id = "beacon.periodic";
  f1.severity = detect::Severity::kHigh;
  f1.src = "10.0.0.5";
  f1.dst = {"beacon.example"};
  f1.summary = "10.0.0.5 beacons to beacon.example";
  detect::Finding f2;
  f2.id = "scan.tcp_syn";
  f2.severity = detect::Severity::kMedium;
  f2.src = "10.0.0.5";
  f2.evidence = {"CBBB"};
  f2.summary = "scan";
  b.attach_findings({f1, f2}, d);
  EXPECT_EQ(find(d, "198.51.100.7")->findings.size(), 1u);
  EXPECT_EQ(find(d, "198.51.100.7")->findings[0].id, "beacon.periodic");
  ASSERT_EQ(find(d, "203.0.113.4")->findings.size(), 1u);
  EXPECT_EQ(find(d, "203.0.113.4")->findings[0].id, "scan.tcp_syn");
  EXPECT_FALSE(find(d, "203.0.113.4")->findings[0].direct);
  EXPECT_TRUE(find(d, "198.51.100.7")->findings[0].direct);
  EXPECT_TRUE(find(d, "203.0.113.5")->findings.empty());
  Destination x = *find(d, "198.51.100.7");
  // intel.match restates a feed hit: listed, never scored twice; a second
  // finding of the same detector counts once, at its highest severity.
  x.findings.push_back(
      {"intel.match", "high", "10.0.0.5 connected to listed 198.51.100.7", {}, detect::Severity::kHigh});
  x.findings.push_back({"beacon.periodic", "low", "10.0.0.6 beacons too", {}, detect::Severity::kLow});
  judge(x);
  EXPECT_EQ(x.verdict, Verdict::kSuspicious);
  EXPECT_EQ(x.score, 40u);
  ASSERT_EQ(x.reasons.size(), 2u);
  EXPECT_EQ(x.reasons[0], "finding beacon.periodic (high): 10.0.0.5 beacons to beacon.example");
  EXPECT_EQ(x.reasons[1], "finding beacon.periodic (low): 10.0.0.6 beacons too");
  // Reached only through its evidence (a resolver, a gateway): listed, unscored.
  Destination y = *find(d, "203.0.113.4");
  judge(y);
  EXPECT_EQ(y.verdict, Verdict::kUnknown);
  EXPECT_EQ(y.score, 0u);
  ASSERT_EQ(y.reasons.size(), 1u);
  EXPECT_EQ(y.reasons[0], "finding scan.tcp_syn (medium, via its connections): scan");
}

TEST(Destinations, VerdictsFromIntelAndOtx) {
  intel::Source src;
  src.feed = "c2.txt";
  src.format = "list";
  src.name = "Emotet C2";
  src.tags = {"emotet", "c2"};
  src.first_seen = "2024-01-02";
  intel::Match m{intel::IndicatorType::kIp, "198.51.100.7", &src};
  Destination d;
  d.address = ip("198.51.100.7");
  add_intel_matches(d, "198.51.100.7", {m, m});  // the same hit twice counts once
  judge(d);
  EXPECT_EQ(d.verdict, Verdict::kMalicious);
  EXPECT_EQ(d.score, 100u);
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_EQ(d.reasons[0], "intel: c2.txt lists ip 198.51.100.7, Emotet C2, tags emotet c2, first seen 2024-01-02");

  Destination c;
  c.address = ip("203.0.113.9");
  intel::Match cm{intel::IndicatorType::kCidr, "203.0.113.0/24", &src};
  add_intel_matches(c, "203.0.113.9", {cm});
  judge(c);
  EXPECT_EQ(c.verdict, Verdict::kSuspicious);  // a range, not the address itself
  EXPECT_EQ(c.score, 60u);
  EXPECT_EQ(c.reasons[0].rfind("intel: c2.txt lists cidr 203.0.113.0/24 (matched 203.0.113.9)", 0), 0u);

  Destination o;
  o.address = ip("81.2.69.142");
  intel::OtxVerdict v;
  v.query = {intel::OtxKind::kIPv4, "81.2.69.142"};
  v.status = intel::OtxVerdict::Status::kOk;
  v.pulse_count = 2;
  intel::OtxPulse p1;
  p1.name = "Cobalt Strike servers";
  p1.tags = {"cobaltstrike"};
  intel::OtxPulse p2;
  p2.name = "Scanner list";
  p2.tags = {"scanner", "cobaltstrike"};
  v.pulses = {p1, p2};
  add_otx_verdict(o, v);
  judge(o);
  EXPECT_EQ(o.verdict, Verdict::kSuspicious);
  EXPECT_EQ(o.score, 30u);
  EXPECT_EQ(o.otx_status, "2 pulses");
  EXPECT_EQ(o.reasons[0],
            "OTX: 81.2.69.142 in 2 pulses: Cobalt Strike servers; Scanner list (tags cobaltstrike scanner)");

  Destination z;
  z.address = ip("81.2.69.143");
  intel::OtxVerdict zero;
  zero.query = {intel::OtxKind::kIPv4, "81.2.69.143"};
  zero.status = intel::OtxVerdict::Status::kOk;
  add_otx_verdict(z, zero);
  judge(z);
  EXPECT_EQ(z.verdict, Verdict::kUnknown);
  EXPECT_EQ(z.otx_status, "0 pulses");
  EXPECT_TRUE(z.reasons.empty());

  std::vector<Destination> all{z, o, d, c};
  all[0].bytes_out = 1000000;  // bytes never outrank suspicion
  sort_destinations(all);
  EXPECT_EQ(all[0].key(), "198.51.100.7");
  EXPECT_EQ(all[1].key(), "203.0.113.9");
  EXPECT_EQ(all[2].key(), "81.2.69.142");
  EXPECT_EQ(all[3].key(), "81.2.69.143");
}

TEST(Destinations, CsvQuoting) {
  std::string s;
  append_csv_field(s, "plain");
  s += '|';
  append_csv_field(s, "a,b");
  s += '|';
  append_csv_field(s, "say \"hi\"");
  s += '|';
  append_csv_field(s, "two\nlines");
  s += '|';
  append_csv_field(s, "=cmd|' /C calc'!A0");
  EXPECT_EQ(s, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\"'=cmd|' /C calc'!A0\"");
}

TEST(Destinations, JsonAndCsvRecords) {
  detect::Networks nets;
  DestinationBuilder b(nets);
  analyzers::http::HttpRecord h;
  h.orig_h = ip("10.0.0.5");
  h.resp_h = ip("81.2.69.142");
  h.method = "GET";
  h.host = "evil.example";
  h.raw_uri = "/a,\"b\"";
  b.on_record(h);
  b.on_conn(conn("C1", "10.0.0.5", 50000, "81.2.69.142", 80, 500, 3000, 1000, "http"));
  auto d = b.finish();
  ASSERT_EQ(d.size(), 1u);
  d[0].geo.country_code = "GB";
  d[0].geo.country = "United Kingdom";
  d[0].geo.city = "London";
  d[0].otx_status = "not queried (no key)";
  judge(d[0]);
  std::string line;
  append_destination_json(d[0], line);
  ASSERT_EQ(line.back(), '\n');
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["destination"], "81.2.69.142");
  EXPECT_EQ(j["kind"], "address");
  EXPECT_EQ(j["domains"], nlohmann::json::array({"evil.example"}));
  EXPECT_EQ(j["urls"], nlohmann::json::array({"http://evil.example/a,\"b\""}));
  EXPECT_EQ(j["bytes_out"], 500);
  EXPECT_EQ(j["bytes_in"], 3000);
  EXPECT_EQ(j["direction"], "outbound");
  EXPECT_EQ(j["geo"]["city"], "London");
  EXPECT_EQ(j["otx"]["status"], "not queried (no key)");
  EXPECT_EQ(j["verdict"], "unknown");
  EXPECT_FALSE(j.contains("processes"));
  std::string csv;
  append_location_csv(d[0], csv);
  EXPECT_EQ(csv, "81.2.69.142,GB,United Kingdom,London,,,1,3500\r\n");
  csv.clear();
  append_destination_csv(d[0], csv);
  EXPECT_EQ(csv,
            "81.2.69.142,address,evil.example,GB,United Kingdom,London,,,1,500,3000,3,2,1970-01-01T00:16:40Z,"
            "1970-01-01T00:16:42Z,outbound,80,http,10.0.0.5,\"http://evil.example/a,\"\"b\"\"\",not queried (no key),,"
            "unknown,0,\r\n");
}

}  // namespace
}  // namespace trawl::app

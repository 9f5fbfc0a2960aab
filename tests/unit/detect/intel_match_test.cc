// intel.match: records against an indicator store built here.
#include <gtest/gtest.h>

#include "analyzers/dns/dns_log_record.h"
#include "analyzers/http/http_record.h"
#include "analyzers/smtp/smtp_record.h"
#include "analyzers/ssl/ssl_record.h"
#include "detect_test_util.h"
#include "intel/indicator_store.h"

namespace trawl::detect {
namespace {

using intel::IndicatorType;
using testing::at;
using testing::ConnBuilder;
using testing::ip;

// A store with one source per role; sources are looked up by feed name.
struct Intel {
  intel::IndicatorStore store;
  uint32_t c2 = 0;        // a list whose tag says C2
  uint32_t plain = 0;     // a list without context
  uint32_t urlhaus = 0;   // URLhaus: live malware URLs
  Intel() {
    c2 = store.add_source({"c2.txt", "list", "Emotet C2", {"c2", "emotet"}, "2023-11-01", "", "https://ti.example/1"});
    plain = store.add_source({"watch.txt", "list", "", {}, "", "", ""});
    urlhaus = store.add_source({"urlhaus.csv", "urlhaus", "", {"exe"}, "", "", ""});
  }
};

struct IntelRun {
  Config config;
  std::unique_ptr<DetectorSet> set;
  explicit IntelRun(const intel::IndicatorStore* store, std::vector<std::string> overrides = {}) {
    for (const auto& kv : overrides) {
      std::string err;
      EXPECT_TRUE(config.parse_override(kv, err)) << err;
    }
    config.intel = store;
    set = std::make_unique<DetectorSet>(config, std::vector<std::string>{"intel_match"});
  }
  std::vector<Finding> finish() { return set->finish(); }
};

const Finding* find(const std::vector<Finding>& fs, const std::string& src, const std::string& indicator,
                    const std::string& feed) {
  for (const auto& f : fs) {
    if (f.id == "intel.match" && f.src == src && f.details.find("\"indicator\":\"" + indicator + "\"") != std::string::npos &&
        f.details.find("\"feed\":\"" + feed + "\"") != std::string::npos) {
      return &f;
    }
  }
  return nullptr;
}

uint64_t count(const Finding& f, const std::string& name) {
  for (const auto& [k, v] : f.counts) {
    if (k == name) return v;
  }
  return UINT64_MAX;
}

analyzers::dns::DnsLogRecord dns(double t, const char* client, const char* query, const std::string& uid) {
  analyzers::dns::DnsLogRecord r;
  r.ts = at(t);
  r.uid = uid;
  r.orig_h = ip(client);
  r.resp_h = ip("10.0.0.53");
  r.resp_p = 53;
  r.query = query;
  r.qtype = 1;
  return r;
}

void answer(analyzers::dns::DnsLogRecord& r, uint16_t type, const std::string& text) {
  analyzers::dns::DnsAnswer a;
  a.name = *r.query;
  a.type = type;
  a.text = text;
  if (type == 1 || type == 28) a.address = ip(text.c_str());
  r.answers.push_back(a);
}

analyzers::http::HttpRecord http(double t, const char* client, const char* server, uint16_t port, const char* method,
                                 const char* host, const char* uri, const std::string& uid) {
  analyzers::http::HttpRecord r;
  r.ts = at(t);
  r.uid = uid;
  r.orig_h = ip(client);
  r.resp_h = ip(server);
  r.resp_p = port;
  r.method = method;
  if (host) r.host = host;
  r.uri = uri;
  r.raw_uri = uri;
  return r;
}

TEST(IntelMatch, ConnectionsToAndFromListedAddresses) {
  Intel in;
  in.store.add(IndicatorType::kIp, "198.51.100.7", in.c2);
  in.store.add(IndicatorType::kCidr, "203.0.113.0/24", in.plain);
  in.store.add(IndicatorType::kIp, "10.0.0.99", in.plain);
  in.store.finalize();
  IntelRun run(&in.store);
  run.set->on_conn(ConnBuilder(10, "10.0.0.5", 50000, "198.51.100.7", 443).bytes(300, 5000).duration(2));
  run.set->on_conn(ConnBuilder(70, "10.0.0.5", 50001, "198.51.100.7", 8443).bytes(200, 100));
  run.set->on_conn(ConnBuilder(80, "10.0.0.5", 50002, "192.0.2.1", 443));     // not listed
  run.set->on_conn(ConnBuilder(90, "203.0.113.9", 40000, "10.0.0.7", 22));    // reaches in
  run.set->on_conn(ConnBuilder(95, "10.0.0.99", 40000, "192.0.2.1", 80));     // listed, but ours and originating
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 2u);

  const Finding* a = find(fs, "10.0.0.5", "198.51.100.7", "c2.txt");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->severity, Severity::kHigh);  // C2 tag, exact address
  EXPECT_DOUBLE_EQ(a->confidence, 0.9);
  EXPECT_EQ(a->ts, at(10));
  EXPECT_EQ(a->last_ts, at(70));
  EXPECT_EQ(a->dst, (std::vector<std::string>{"198.51.100.7"}));
  EXPECT_EQ(a->dst_count, 1u);
  EXPECT_EQ(a->ports, (std::vector<uint16_t>{443, 8443}));
  EXPECT_EQ(a->service, "");
  EXPECT_EQ(count(*a, "records"), 2u);
  EXPECT_EQ(count(*a, "conn"), 2u);
  EXPECT_EQ(count(*a, "orig_bytes"), 500u);
  EXPECT_EQ(count(*a, "resp_bytes"), 5100u);
  EXPECT_EQ(a->attack, "T1071");
  EXPECT_EQ(a->evidence.size(), 2u);
  EXPECT_EQ(a->evidence_total, 2u);
  EXPECT_EQ(a->summary.rfind("10.0.0.5 talked to 198.51.100.7, listed as ip 198.51.100.7 by c2.txt (Emotet C2): 2 records (2 conn) from ", 0), 0u)
      << a->summary;
  EXPECT_EQ(a->details,
            "{\"indicator\":\"198.51.100.7\",\"type\":\"ip\",\"feed\":\"c2.txt\",\"format\":\"list\",\"name\":\"Emotet C2\","
            "\"tags\":[\"c2\",\"emotet\"],\"reference\":\"https://ti.example/1\",\"first_seen\":\"2023-11-01\","
            "\"last_seen\":\"\",\"c2\":true,\"matched_as\":[\"conn.resp_h\"]}");

  const Finding* b = find(fs, "10.0.0.7", "203.0.113.0/24", "watch.txt");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->severity, Severity::kLow);  // a range from a list without context
  EXPECT_DOUBLE_EQ(b->confidence, 0.5);
  EXPECT_EQ(b->dst, (std::vector<std::string>{"203.0.113.9"}));
  EXPECT_EQ(b->ports, (std::vector<uint16_t>{22}));
  EXPECT_NE(b->summary.find("10.0.0.7 was contacted by 203.0.113.9, listed as cidr 203.0.113.0/24 by watch.txt: 1 record"),
            std::string::npos)
      << b->summary;
  EXPECT_NE(b->details.find("\"matched_as\":[\"conn.orig_h\"]"), std::string::npos);
}

TEST(IntelMatch, DnsQueriesCnamesAndAnswers) {
  Intel in;
  in.store.add(IndicatorType::kDomain, "evil.example", in.plain);
  in.store.add(IndicatorType::kIp, "198.51.100.7", in.c2);
  in.store.finalize();
  IntelRun run(&in.store);
  auto q = dns(5, "10.0.0.5", "www.evil.example", "Cd1");
  answer(q, 5, "cdn.evil.example");
  answer(q, 1, "198.51.100.7");
  run.set->on_record(q);
  auto q2 = dns(6, "10.0.0.5", "good.example", "Cd2");
  answer(q2, 1, "192.0.2.80");
  run.set->on_record(q2);
  run.set->on_record(dns(7, "10.0.0.6", "notevil.example", "Cd3"));  // not a subdomain
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 2u);

  const Finding* d = find(fs, "10.0.0.5", "evil.example", "watch.txt");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::kMedium);
  EXPECT_DOUBLE_EQ(d->confidence, 0.8);
  EXPECT_EQ(d->dst, (std::vector<std::string>{"cdn.evil.example", "www.evil.example"}));
  EXPECT_EQ(count(*d, "records"), 1u);  // the query and its CNAME are one record
  EXPECT_EQ(count(*d, "dns"), 1u);
  EXPECT_EQ(count(*d, "conn"), UINT64_MAX);
  EXPECT_EQ(d->service, "dns");
  EXPECT_EQ(d->attack, "T1071.004");
  EXPECT_TRUE(d->ports.empty());  // 53 is the resolver's port, not the name's
  EXPECT_EQ(d->evidence, (std::vector<std::string>{"Cd1"}));
  EXPECT_EQ(d->summary.rfind("10.0.0.5 looked up cdn.evil.example (and 1 more), listed as domain evil.example by watch.txt: 1 record (1 dns)", 0), 0u)
      << d->summary;
  EXPECT_NE(d->details.find("\"matched_as\":[\"dns.query\",\"dns.cname\"]"), std::string::npos) << d->details;

  const Finding* i = find(fs, "10.0.0.5", "198.51.100.7", "c2.txt");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->severity, Severity::kHigh);
  EXPECT_EQ(i->summary.rfind("10.0.0.5 got the DNS answer 198.51.100.7,", 0), 0u) << i->summary;
  EXPECT_EQ(i->service, "dns");
  EXPECT_NE(i->details.find("\"matched_as\":[\"dns.answer\"]"), std::string::npos);
}

TEST(IntelMatch, HttpHostsUrlsAndConnect) {
  Intel in;
  in.store.add(IndicatorType::kUrl, "http://dl.example:8080/gate.php?id=1", in.urlhaus);
  in.store.add(IndicatorType::kDomain, "dl.example", in.plain);
  in.store.add(IndicatorType::kIp, "198.51.100.7", in.plain);
  in.store.add(IndicatorType::kUrl, "http://198.51.100.20/x.exe", in.plain);
  in.store.add(IndicatorType::kDomain, "tunnel.example", in.plain);
  in.store.finalize();
  IntelRun run(&in.store);
  run.set->on_record(http(1, "10.0.0.5", "192.0.2.8", 8080, "GET", "DL.example:8080", "/gate.php?id=1", "Ch1"));
  run.set->on_record(http(2, "10.0.0.5", "192.0.2.8", 8080, "GET", "dl.example:8080", "/gate.php?id=2", "Ch2"));
  run.set->on_record(http(2.5, "10.0.0.5", "192.0.2.8", 8080, "GET", "dl.example:8080", "/", "Ch2"));  // pipelined
  run.set->on_record(http(3, "10.0.0.6", "198.51.100.7", 80, "POST", "198.51.100.7", "/submit", "Ch3"));
  run.set->on_record(http(4, "10.0.0.6", "198.51.100.20", 80, "GET", nullptr, "/x.exe", "Ch4"));  // HTTP/1.0, no Host
  run.set->on_record(http(5, "10.0.0.7", "10.0.0.1", 3128, "CONNECT", "tunnel.example:443", "tunnel.example:443", "Ch5"));
  run.set->on_record(http(6, "10.0.0.7", "10.0.0.1", 3128, "GET", nullptr, "http://dl.example:8080/gate.php?id=1", "Ch6"));
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 7u);

  const Finding* u = find(fs, "10.0.0.5", "http://dl.example:8080/gate.php?id=1", "urlhaus.csv");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->severity, Severity::kHigh);  // URLhaus URL
  EXPECT_EQ(u->dst, (std::vector<std::string>{"http://DL.example:8080/gate.php?id=1"}));
  EXPECT_EQ(u->evidence, (std::vector<std::string>{"Ch1"}));
  EXPECT_EQ(u->service, "http");
  EXPECT_EQ(u->attack, "T1071.001");
  EXPECT_EQ(u->ports, (std::vector<uint16_t>{8080}));

  const Finding* d = find(fs, "10.0.0.5", "dl.example", "watch.txt");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::kMedium);
  EXPECT_EQ(count(*d, "http"), 3u);
  EXPECT_EQ(d->evidence, (std::vector<std::string>{"Ch1", "Ch2"}));  // each uid once
  EXPECT_EQ(d->evidence_total, 3u);
  EXPECT_EQ(d->dst, (std::vector<std::string>{"DL.example", "dl.example"}));
  EXPECT_NE(d->details.find("\"matched_as\":[\"http.host\"]"), std::string::npos);

  const Finding* h = find(fs, "10.0.0.6", "198.51.100.7", "watch.txt");
  ASSERT_NE(h, nullptr);
  EXPECT_NE(h->details.find("\"matched_as\":[\"http.host\"]"), std::string::npos);

  const Finding* x = find(fs, "10.0.0.6", "http://198.51.100.20/x.exe", "watch.txt");
  ASSERT_NE(x, nullptr);  // URL built from the server address
  EXPECT_EQ(x->dst, (std::vector<std::string>{"http://198.51.100.20/x.exe"}));
  EXPECT_EQ(x->severity, Severity::kMedium);

  const Finding* t = find(fs, "10.0.0.7", "tunnel.example", "watch.txt");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dst, (std::vector<std::string>{"tunnel.example"}));
  // Through a proxy: absolute-form URL and its host.
  ASSERT_NE(find(fs, "10.0.0.7", "http://dl.example:8080/gate.php?id=1", "urlhaus.csv"), nullptr);
  ASSERT_NE(find(fs, "10.0.0.7", "dl.example", "watch.txt"), nullptr);
}

TEST(IntelMatch, TlsServerNamesAndCertificates) {
  Intel in;
  std::string fp(64, 'a');
  in.store.add(IndicatorType::kDomain, "bad.example", in.plain);
  in.store.add(IndicatorType::kHash, std::string(64, 'A'), in.c2);
  in.store.finalize();
  IntelRun run(&in.store);
  analyzers::ssl::SslRecord r;
  r.ts = at(1);
  r.uid = "Cs1";
  r.orig_h = ip("10.0.0.5");
  r.resp_h = ip("192.0.2.44");
  r.resp_p = 443;
  r.server_name = "api.bad.example";
  r.cert_chain_fps = {std::string(64, 'b'), fp};
  run.set->on_record(r);
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 2u);
  const Finding* s = find(fs, "10.0.0.5", "bad.example", "watch.txt");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->service, "ssl");
  EXPECT_EQ(s->attack, "T1071.001");
  EXPECT_NE(s->details.find("\"matched_as\":[\"ssl.server_name\"]"), std::string::npos);
  const Finding* c = find(fs, "10.0.0.5", fp, "c2.txt");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->severity, Severity::kHigh);
  EXPECT_EQ(c->dst, (std::vector<std::string>{fp}));
  EXPECT_NE(c->details.find("\"type\":\"hash\""), std::string::npos);
}

TEST(IntelMatch, SmtpSenderAndRecipientDomains) {
  Intel in;
  in.store.add(IndicatorType::kDomain, "phish.example", in.plain);
  in.store.add(IndicatorType::kDomain, "exfil.example", in.plain);
  in.store.finalize();
  IntelRun run(&in.store);
  analyzers::smtp::SmtpRecord in_mail;  // arriving at our server
  in_mail.ts = at(1);
  in_mail.uid = "Cm1";
  in_mail.orig_h = ip("192.0.2.10");
  in_mail.resp_h = ip("10.0.0.25");
  in_mail.resp_p = 25;
  in_mail.mailfrom = "boss@mail.phish.example";
  in_mail.rcptto = {"alice@corp.example"};
  run.set->on_record(in_mail);
  analyzers::smtp::SmtpRecord out_mail;  // leaving from a workstation
  out_mail.ts = at(2);
  out_mail.uid = "Cm2";
  out_mail.orig_h = ip("10.0.0.5");
  out_mail.resp_h = ip("192.0.2.11");
  out_mail.resp_p = 587;
  out_mail.mailfrom = "bob@corp.example";
  out_mail.rcptto = {"carol@corp.example", "drop@EXFIL.example"};
  run.set->on_record(out_mail);
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 2u);
  const Finding* p = find(fs, "10.0.0.25", "phish.example", "watch.txt");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->dst, (std::vector<std::string>{"mail.phish.example"}));
  EXPECT_EQ(p->service, "smtp");
  EXPECT_EQ(p->attack, "T1071.003");
  EXPECT_NE(p->details.find("\"matched_as\":[\"smtp.mailfrom\"]"), std::string::npos);
  const Finding* e = find(fs, "10.0.0.5", "exfil.example", "watch.txt");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->ports, (std::vector<uint16_t>{587}));
  EXPECT_NE(e->details.find("\"matched_as\":[\"smtp.rcptto\"]"), std::string::npos);
}

TEST(IntelMatch, OneFindingPerIndicatorSourceAndHost) {
  Intel in;
  in.store.add(IndicatorType::kIp, "198.51.100.7", in.c2);
  in.store.add(IndicatorType::kIp, "198.51.100.7", in.plain);
  in.store.add(IndicatorType::kCidr, "198.51.100.0/24", in.plain);
  in.store.finalize();
  IntelRun run(&in.store);
  for (int i = 0; i < 30; ++i) run.set->on_conn(ConnBuilder(i, "10.0.0.5", 50000, "198.51.100.7", 443));
  run.set->on_conn(ConnBuilder(40, "10.0.0.6", 50000, "198.51.100.8", 443));
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 4u);
  const Finding* a = find(fs, "10.0.0.5", "198.51.100.7", "c2.txt");
  const Finding* b = find(fs, "10.0.0.5", "198.51.100.7", "watch.txt");
  const Finding* c = find(fs, "10.0.0.5", "198.51.100.0/24", "watch.txt");
  const Finding* d = find(fs, "10.0.0.6", "198.51.100.0/24", "watch.txt");
  ASSERT_TRUE(a && b && c && d);
  EXPECT_EQ(a->severity, Severity::kHigh);
  EXPECT_EQ(b->severity, Severity::kMedium);
  EXPECT_EQ(c->severity, Severity::kLow);
  EXPECT_EQ(a->evidence.size(), 20u);  // capped
  EXPECT_EQ(a->evidence_total, 30u);
  EXPECT_EQ(count(*c, "records"), 30u);
  EXPECT_EQ(d->dst, (std::vector<std::string>{"198.51.100.8"}));
}

TEST(IntelMatch, C2SourcesByFormatTagOrName) {
  intel::IndicatorStore store;
  auto feodo = store.add_source({"feodo.csv", "feodo", "", {}, "", "", ""});
  auto named = store.add_source({"otx", "otx_pulse", "Command and Control servers", {}, "", "", ""});
  auto cnc = store.add_source({"b.txt", "list", "", {"CnC"}, "", "", ""});
  auto ec2 = store.add_source({"a.txt", "list", "cloud hosts", {"aws-ec2", "c2c"}, "", "", ""});
  store.add(IndicatorType::kIp, "198.51.100.1", feodo);
  store.add(IndicatorType::kIp, "198.51.100.2", named);
  store.add(IndicatorType::kIp, "198.51.100.3", cnc);
  store.add(IndicatorType::kIp, "198.51.100.4", ec2);
  store.finalize();
  IntelRun run(&store);
  for (int i = 1; i <= 4; ++i) {
    std::string dst = "198.51.100." + std::to_string(i);
    run.set->on_conn(ConnBuilder(i, "10.0.0.5", 50000, dst.c_str(), 443));
  }
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 4u);
  EXPECT_EQ(find(fs, "10.0.0.5", "198.51.100.1", "feodo.csv")->severity, Severity::kHigh);
  EXPECT_EQ(find(fs, "10.0.0.5", "198.51.100.2", "otx")->severity, Severity::kHigh);
  EXPECT_EQ(find(fs, "10.0.0.5", "198.51.100.3", "b.txt")->severity, Severity::kHigh);
  const Finding* e = find(fs, "10.0.0.5", "198.51.100.4", "a.txt");
  EXPECT_EQ(e->severity, Severity::kMedium);  // "ec2" and "c2c" are not C2
  EXPECT_NE(e->details.find("\"c2\":false"), std::string::npos);
}

TEST(IntelMatch, BoundedAndSilentWithoutIntel) {
  Intel in;
  in.store.add(IndicatorType::kIp, "198.51.100.7", in.c2);
  in.store.finalize();
  {
    IntelRun run(&in.store, {"intel.max_matches=2"});
    for (int h = 1; h <= 5; ++h) {
      std::string src = "10.0.1." + std::to_string(h);
      run.set->on_conn(ConnBuilder(h, src.c_str(), 50000, "198.51.100.7", 443));
    }
    auto fs = run.finish();
    ASSERT_EQ(fs.size(), 2u);
    EXPECT_NE(fs[0].details.find("\"untracked_matches\":3"), std::string::npos) << fs[0].details;
  }
  {
    IntelRun run(nullptr);
    run.set->on_conn(ConnBuilder(1, "10.0.0.5", 50000, "198.51.100.7", 443));
    EXPECT_TRUE(run.finish().empty());
  }
  {
    intel::IndicatorStore empty;
    empty.finalize();
    IntelRun run(&empty);
    run.set->on_conn(ConnBuilder(1, "10.0.0.5", 50000, "198.51.100.7", 443));
    run.set->on_record(dns(2, "10.0.0.5", "www.evil.example", "Cd9"));
    EXPECT_TRUE(run.finish().empty());
  }
}

TEST(IntelMatch, HostileRecordsAreCapped) {
  Intel in;
  in.store.add(IndicatorType::kDomain, "evil.example", in.plain);
  in.store.finalize();
  IntelRun run(&in.store);
  auto q = dns(1, "10.0.0.5", "x.example", "Cd1");
  for (int i = 0; i < 1000; ++i) answer(q, 5, "n" + std::to_string(i) + ".evil.example");
  run.set->on_record(q);
  auto fs = run.finish();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].dst_count, 64u);  // answers read per record
  EXPECT_EQ(fs[0].dst.size(), 10u);
  EXPECT_EQ(count(fs[0], "records"), 1u);
}

}  // namespace
}  // namespace trawl::detect

// Tests for the sinkhole's DNS responder: answers parsed back with the
// project's DNS parser and checked field by field, hostile queries, TCP
// framing, and the real `dig` against a loopback UDP server in the test.
#include "sinkhole/dns_responder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "analyzers/dns/dns_message.h"
#include "analyzers/dns/dns_msg_builder.h"
#include "sinkhole/run_command.h"

extern char** environ;

namespace trawl::sinkhole {
namespace {

using test_util::run_command;

namespace dns = analyzers::dns;
using dns::test_util::Msg;
using core::IpAddress;

Msg query(std::string_view name, unsigned qtype, unsigned id = 0x1234, unsigned flags = 0x0100,
          unsigned qclass = 1) {
  Msg m;
  m.header(id, flags, 1, 0, 0, 0);
  m.name(name).u16(qtype).u16(qclass);
  return m;
}

Msg with_opt(Msg m, unsigned payload, unsigned version = 0) {
  m.b[11] = 1;  // arcount
  m.u8(0).u16(dns::kTypeOpt).u16(payload).u8(0).u8(version).u16(0).u16(0);
  return m;
}

struct Answer {
  std::vector<uint8_t> bytes;
  dns::DnsMessage msg;
  DnsExchange ex;
};

Answer ask(DnsResponder& r, const Msg& q) {
  Answer a;
  EXPECT_TRUE(r.answer_udp(q.view(), a.bytes, &a.ex));
  core::Anomalies an;
  EXPECT_EQ(dns::parse_dns_message(a.bytes, a.msg, an), dns::ParseResult::kOk);
  EXPECT_EQ(an.total(), 0u);
  return a;
}

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

TEST(DnsResponder, AnswersAWithHeaderBitsQuestionAndCompression) {
  DnsResponder r;
  const Answer a = ask(r, query("Malware-C2.Example", dns::kTypeA, 0xbeef));
  EXPECT_EQ(a.msg.id, 0xbeef);
  EXPECT_TRUE(a.msg.flags.qr);
  EXPECT_TRUE(a.msg.flags.aa);
  EXPECT_TRUE(a.msg.flags.rd);
  EXPECT_TRUE(a.msg.flags.ra);
  EXPECT_FALSE(a.msg.flags.tc);
  EXPECT_EQ(a.msg.rcode, 0);
  ASSERT_EQ(a.msg.questions.size(), 1u);
  EXPECT_EQ(a.msg.questions[0].original, "Malware-C2.Example");  // case kept (0x20)
  EXPECT_EQ(a.msg.questions[0].qtype, dns::kTypeA);
  ASSERT_EQ(a.msg.answers.size(), 1u);
  EXPECT_EQ(a.msg.answers[0].name, "malware-c2.example");
  EXPECT_EQ(a.msg.answers[0].type, dns::kTypeA);
  EXPECT_EQ(a.msg.answers[0].ttl, 300u);
  EXPECT_EQ(a.msg.answers[0].rdata, "198.18.0.1");
  // Header 12 + question 20 + 4, then the owner is a pointer to offset 12.
  const size_t owner = 12 + 20 + 4;
  EXPECT_EQ(a.bytes[owner], 0xc0);
  EXPECT_EQ(a.bytes[owner + 1], 0x0c);
  EXPECT_EQ(a.bytes.size(), owner + 2 + 10 + 4);
  EXPECT_EQ(a.ex.query, "malware-c2.example");
  EXPECT_EQ(a.ex.answers, std::vector<std::string>{"198.18.0.1"});

  // RD not set in the query: not set in the answer.
  const Answer b = ask(r, query("x.example", dns::kTypeA, 7, 0x0000));
  EXPECT_FALSE(b.msg.flags.rd);
  EXPECT_TRUE(b.msg.flags.ra);
}

TEST(DnsResponder, PoolGivesOneAddressPerNameAndMapsBack) {
  DnsResponder r;
  EXPECT_EQ(ask(r, query("a.example", dns::kTypeA)).msg.answers[0].rdata, "198.18.0.1");
  EXPECT_EQ(ask(r, query("b.example", dns::kTypeA)).msg.answers[0].rdata, "198.18.0.2");
  EXPECT_EQ(ask(r, query("A.EXAMPLE", dns::kTypeA)).msg.answers[0].rdata, "198.18.0.1");
  EXPECT_EQ(ask(r, query("b.example", dns::kTypeAaaa)).msg.answers[0].rdata, "2001:2::2");
  EXPECT_EQ(r.name_for(ip("198.18.0.1")).value_or(""), "a.example");
  EXPECT_EQ(r.name_for(ip("198.18.0.2")).value_or(""), "b.example");
  EXPECT_EQ(r.name_for(ip("2001:2::2")).value_or(""), "b.example");
  EXPECT_FALSE(r.name_for(ip("198.18.0.3")).has_value());
  EXPECT_FALSE(r.name_for(ip("198.18.0.0")).has_value());
  EXPECT_FALSE(r.name_for(ip("192.0.2.1")).has_value());
  EXPECT_EQ(r.names_remembered(), 2u);
}

TEST(DnsResponder, PoolFromConfiguredCidrAndTableLimit) {
  DnsResponderConfig c;
  c.pool_v4 = *core::IpNetwork::parse("203.0.113.0/24");
  c.pool_v6 = *core::IpNetwork::parse("2001:db8:5::/64");
  c.max_names = 2;
  DnsResponder r(c);
  EXPECT_EQ(ask(r, query("one.example", dns::kTypeA)).msg.answers[0].rdata, "203.0.113.1");
  EXPECT_EQ(ask(r, query("two.example", dns::kTypeAaaa)).msg.answers[0].rdata, "2001:db8:5::2");
  // Table full: still an address in the pool, the same one every time, not remembered.
  const std::string third = ask(r, query("three.example", dns::kTypeA)).msg.answers[0].rdata;
  EXPECT_EQ(ask(r, query("three.example", dns::kTypeA)).msg.answers[0].rdata, third);
  EXPECT_TRUE(c.pool_v4.contains(ip(third.c_str())));
  EXPECT_NE(third, "203.0.113.0");
  EXPECT_NE(third, "203.0.113.255");
  EXPECT_EQ(r.names_remembered(), 2u);
  EXPECT_EQ(r.anomalies().count(kAnomDnsNameTableFull), 2u);
}

TEST(DnsResponder, FixedMode) {
  DnsResponderConfig c;
  c.mode = DnsResponderConfig::Mode::kFixed;
  c.fixed_v4 = ip("192.0.2.10");
  c.fixed_v6 = ip("2001:db8::10");
  c.ttl = 60;
  DnsResponder r(c);
  const Answer a = ask(r, query("one.example", dns::kTypeA));
  EXPECT_EQ(a.msg.answers[0].rdata, "192.0.2.10");
  EXPECT_EQ(a.msg.answers[0].ttl, 60u);
  EXPECT_EQ(ask(r, query("two.example", dns::kTypeA)).msg.answers[0].rdata, "192.0.2.10");
  EXPECT_EQ(ask(r, query("two.example", dns::kTypeAaaa)).msg.answers[0].rdata, "2001:db8::10");
  EXPECT_EQ(r.name_for(ip("192.0.2.10")).value_or(""), "two.example");  // the last one
}

TEST(DnsResponder, EveryRecordType) {
  DnsResponder r;
  const Answer mx = ask(r, query("corp.example", dns::kTypeMx));
  ASSERT_EQ(mx.msg.answers.size(), 1u);
  EXPECT_EQ(mx.msg.answers[0].rdata, "mail.corp.example");
  EXPECT_EQ(mx.msg.answers[0].preference, 10);
  ASSERT_EQ(mx.msg.additional.size(), 1u);
  EXPECT_EQ(mx.msg.additional[0].name, "mail.corp.example");
  EXPECT_EQ(mx.msg.additional[0].rdata, "198.18.0.1");
  EXPECT_EQ(r.name_for(ip("198.18.0.1")).value_or(""), "mail.corp.example");

  const Answer ns = ask(r, query("corp.example", dns::kTypeNs));
  ASSERT_EQ(ns.msg.answers.size(), 1u);
  EXPECT_EQ(ns.msg.answers[0].rdata, "ns1.corp.example");
  ASSERT_EQ(ns.msg.additional.size(), 1u);
  EXPECT_EQ(ns.msg.additional[0].rdata, "198.18.0.2");

  const Answer soa = ask(r, query("corp.example", dns::kTypeSoa));
  ASSERT_EQ(soa.msg.answers.size(), 1u);
  EXPECT_EQ(soa.msg.answers[0].type, dns::kTypeSoa);
  EXPECT_EQ(soa.msg.answers[0].rdata, "ns1.corp.example");

  const Answer txt = ask(r, query("corp.example", dns::kTypeTxt));
  ASSERT_EQ(txt.msg.answers.size(), 1u);
  EXPECT_EQ(txt.msg.answers[0].txt, std::vector<std::string>{"v=spf1 -all"});

  const Answer cname = ask(r, query("corp.example", dns::kTypeCname));
  ASSERT_EQ(cname.msg.answers.size(), 1u);
  EXPECT_EQ(cname.msg.answers[0].rdata, "www.corp.example");
  EXPECT_EQ(ask(r, query("www.corp.example", dns::kTypeCname)).msg.answers[0].rdata, "corp.example");

  const Answer any = ask(r, query("corp.example", 255));
  ASSERT_EQ(any.msg.answers.size(), 2u);
  EXPECT_EQ(any.msg.answers[0].rdata, "198.18.0.3");
  EXPECT_EQ(any.msg.answers[1].rdata, "2001:2::3");

  // PTR: a pool address maps back to its name; others get a made-up host name.
  const Answer ptr = ask(r, query("3.0.18.198.in-addr.arpa", dns::kTypePtr));
  ASSERT_EQ(ptr.msg.answers.size(), 1u);
  EXPECT_EQ(ptr.msg.answers[0].rdata, "corp.example");
  EXPECT_EQ(ask(r, query("7.2.0.192.in-addr.arpa", dns::kTypePtr)).msg.answers[0].rdata,
            "host-192-0-2-7.localdomain");
  EXPECT_EQ(ask(r, query(reverse_name(ip("2001:2::3")), dns::kTypePtr)).msg.answers[0].rdata, "corp.example");

  // A type with no data: NOERROR, empty answer, SOA in authority.
  const Answer srv = ask(r, query("corp.example", dns::kTypeSrv));
  EXPECT_EQ(srv.msg.rcode, 0);
  EXPECT_TRUE(srv.msg.answers.empty());
  ASSERT_EQ(srv.msg.authority.size(), 1u);
  EXPECT_EQ(srv.msg.authority[0].type, dns::kTypeSoa);
}

TEST(DnsResponder, LongNamesNeverGrowPast255Bytes) {
  DnsResponder r;
  // 4 labels of 61 bytes: 249 wire bytes; "mail." would make 254, "hostmaster." 260.
  const std::string l(61, 'q');
  const std::string name = l + "." + l + "." + l + "." + l;
  const Answer mx = ask(r, query(name, dns::kTypeMx));
  ASSERT_EQ(mx.msg.answers.size(), 1u);
  EXPECT_EQ(mx.msg.answers[0].rdata, "mail." + name);
  const Answer srv = ask(r, query(name, dns::kTypeSrv));  // SOA in authority: rname falls back to the name
  ASSERT_EQ(srv.msg.authority.size(), 1u);
  EXPECT_EQ(srv.msg.authority[0].rdata, "ns1." + name);
  // 251 wire bytes: no room for "mail." either; the records name the name itself.
  const std::string longer = name + ".zz";
  const Answer mx2 = ask(r, query(longer, dns::kTypeMx));
  ASSERT_EQ(mx2.msg.answers.size(), 1u);
  EXPECT_EQ(mx2.msg.answers[0].rdata, longer);
  EXPECT_TRUE(ask(r, query(longer, dns::kTypeCname)).msg.answers.empty());
}

TEST(DnsResponder, OverridesAndBuiltins) {
  DnsResponderConfig c;
  c.overrides.push_back({"update.example", false, ip("192.0.2.50"), std::nullopt});
  c.overrides.push_back({"*.blocked.example", true, std::nullopt, std::nullopt});
  DnsResponder r(c);
  EXPECT_EQ(ask(r, query("update.example", dns::kTypeA)).msg.answers[0].rdata, "192.0.2.50");
  const Answer v6 = ask(r, query("update.example", dns::kTypeAaaa));
  EXPECT_EQ(v6.msg.rcode, 0);
  EXPECT_TRUE(v6.msg.answers.empty());
  EXPECT_EQ(r.name_for(ip("192.0.2.50")).value_or(""), "update.example");

  const Answer nx = ask(r, query("x.y.blocked.example", dns::kTypeA));
  EXPECT_EQ(nx.msg.rcode, 3);
  EXPECT_TRUE(nx.msg.answers.empty());
  ASSERT_EQ(nx.msg.authority.size(), 1u);
  EXPECT_EQ(nx.msg.authority[0].type, dns::kTypeSoa);
  // The wildcard does not cover the name itself.
  EXPECT_EQ(ask(r, query("blocked.example", dns::kTypeA)).msg.rcode, 0);

  // Windows' NCSI DNS probe gets the real answer (configurable off).
  const Answer ncsi = ask(r, query("dns.msftncsi.com", dns::kTypeA));
  ASSERT_EQ(ncsi.msg.answers.size(), 1u);
  EXPECT_FALSE(c.pool_v4.contains(ncsi.msg.answers[0].address));
  c.builtin_overrides = false;
  DnsResponder plain(c);
  EXPECT_EQ(ask(plain, query("dns.msftncsi.com", dns::kTypeA)).msg.answers[0].rdata, "198.18.0.1");
}

TEST(DnsResponder, NxdomainForFirstQueries) {
  DnsResponderConfig c;
  c.nxdomain_first = 2;
  DnsResponder r(c);
  EXPECT_EQ(ask(r, query("check.example", dns::kTypeA)).msg.rcode, 3);
  EXPECT_EQ(ask(r, query("other.example", dns::kTypeA)).msg.rcode, 3);
  EXPECT_EQ(ask(r, query("check.example", dns::kTypeAaaa)).msg.rcode, 3);
  const Answer third = ask(r, query("check.example", dns::kTypeA));
  EXPECT_EQ(third.msg.rcode, 0);
  EXPECT_EQ(third.msg.answers[0].rdata, "198.18.0.1");
  EXPECT_EQ(ask(r, query("other.example", dns::kTypeA)).msg.rcode, 3);
  EXPECT_EQ(ask(r, query("other.example", dns::kTypeA)).msg.answers[0].rdata, "198.18.0.2");
}

TEST(DnsResponder, Edns) {
  DnsResponder r;
  const Answer a = ask(r, with_opt(query("e.example", dns::kTypeA), 4096));
  EXPECT_TRUE(a.msg.opt.present);
  EXPECT_EQ(a.msg.opt.udp_payload_size, 1232);
  EXPECT_EQ(a.msg.rcode, 0);
  EXPECT_EQ(a.msg.answers.size(), 1u);
  EXPECT_EQ(a.msg.arcount, 1);

  const Answer bad = ask(r, with_opt(query("e.example", dns::kTypeA), 4096, 1));
  EXPECT_EQ(bad.msg.rcode, 16);  // BADVERS, 12 bits with the OPT's upper part
  EXPECT_TRUE(bad.msg.opt.present);
}

TEST(DnsResponder, TruncatesUdpAt512AndNotTcp) {
  DnsResponderConfig c;
  c.txt = std::string(600, 'x');
  DnsResponder r(c);
  const Answer udp = ask(r, query("big.example", dns::kTypeTxt));
  EXPECT_TRUE(udp.msg.flags.tc);
  EXPECT_TRUE(udp.msg.answers.empty());
  EXPECT_EQ(udp.msg.questions.size(), 1u);
  EXPECT_LE(udp.bytes.size(), 512u);
  EXPECT_TRUE(udp.ex.truncated);

  // EDNS 4096 raises the bound to 1232: 600 bytes fit.
  const Answer edns = ask(r, with_opt(query("big.example", dns::kTypeTxt), 4096));
  EXPECT_FALSE(edns.msg.flags.tc);
  ASSERT_EQ(edns.msg.answers.size(), 1u);
  EXPECT_EQ(edns.msg.answers[0].txt,
            (std::vector<std::string>{std::string(255, 'x'), std::string(255, 'x'), std::string(90, 'x')}));

  std::vector<uint8_t> out;
  ASSERT_TRUE(r.answer_tcp(query("big.example", dns::kTypeTxt).view(), out));
  dns::DnsMessage m;
  core::Anomalies an;
  ASSERT_EQ(dns::parse_dns_message(out, m, an), dns::ParseResult::kOk);
  EXPECT_FALSE(m.flags.tc);
  EXPECT_EQ(m.answers.size(), 1u);
}

TEST(DnsResponder, MalformedQueries) {
  DnsResponder r;
  std::vector<uint8_t> out;
  // Shorter than a header: dropped.
  const std::vector<uint8_t> tiny = {1, 2, 3};
  EXPECT_FALSE(r.answer_udp(tiny, out));
  EXPECT_TRUE(out.empty());
  // A response: dropped (no loops between responders).
  EXPECT_FALSE(r.answer_udp(query("a.example", dns::kTypeA, 1, 0x8180).view(), out));
  EXPECT_EQ(r.anomalies().count(kAnomDnsDroppedQuery), 2u);

  auto formerr = [&](const Msg& m) {
    out.clear();
    DnsExchange ex;
    EXPECT_TRUE(r.answer_udp(m.view(), out, &ex));
    ASSERT_EQ(out.size(), 12u);
    EXPECT_EQ(core::load_be16(out.data()), core::load_be16(m.b.data()));
    EXPECT_EQ(out[2] & 0x80, 0x80);
    EXPECT_EQ(out[3] & 0x0f, 1);  // FORMERR
    EXPECT_TRUE(ex.malformed);
  };
  Msg none;
  none.header(0x4242, 0x0100, 0, 0, 0, 0);
  formerr(none);
  Msg two = query("a.example", dns::kTypeA);
  two.b[5] = 2;
  two.name("b.example").u16(1).u16(1);
  formerr(two);
  Msg cut = query("a.example", dns::kTypeA);
  cut.b.resize(cut.b.size() - 3);
  formerr(cut);
  Msg loop;
  loop.header(9, 0x0100, 1, 0, 0, 0);
  loop.ptr(12).u16(1).u16(1);
  formerr(loop);
  Msg badlabel;
  badlabel.header(9, 0x0100, 1, 0, 0, 0);
  badlabel.u8(0x80).u8(0).u16(1).u16(1);
  formerr(badlabel);
  EXPECT_EQ(r.anomalies().count(kAnomDnsMalformedQuery), 5u);

  // Not a standard query: NOTIMP with the question. Class CHAOS: REFUSED.
  const Answer notimp = ask(r, query("a.example", dns::kTypeA, 5, 0x1100));  // opcode 2
  EXPECT_EQ(notimp.msg.rcode, 4);
  EXPECT_EQ(notimp.msg.flags.opcode, 2);
  EXPECT_TRUE(notimp.msg.answers.empty());
  const Answer chaos = ask(r, query("version.bind", dns::kTypeTxt, 5, 0x0100, 3));
  EXPECT_EQ(chaos.msg.rcode, 5);
  EXPECT_TRUE(chaos.msg.answers.empty());
}

TEST(DnsResponder, ConfigCheck) {
  DnsResponderConfig c;
  EXPECT_EQ(check_config(c), "");
  c.pool_v4 = *core::IpNetwork::parse("2001:db8::/64");
  EXPECT_EQ(check_config(c), "the IPv4 pool 2001:db8:: is not IPv4");
  c = {};
  c.pool_v4 = *core::IpNetwork::parse("192.0.2.0/31");
  EXPECT_EQ(check_config(c), "the address pools need room for more than one name (at most /30 and /126)");
  c.mode = DnsResponderConfig::Mode::kFixed;
  EXPECT_EQ(check_config(c), "");
  c.overrides.push_back({"a..example", false, ip("192.0.2.1"), std::nullopt});
  EXPECT_EQ(check_config(c), "bad DNS override name 'a..example'");
  c.overrides[0] = {"*.example", false, std::nullopt, std::nullopt};
  EXPECT_EQ(check_config(c), "DNS override '*.example' has neither an address nor NXDOMAIN");
  c.overrides[0] = {"x.example", false, ip("2001:db8::1"), std::nullopt};
  EXPECT_EQ(check_config(c), "DNS override 'x.example': 2001:db8::1 is not IPv4");
}

TEST(DnsResponder, ReverseNames) {
  EXPECT_EQ(reverse_name(ip("192.0.2.7")), "7.2.0.192.in-addr.arpa");
  EXPECT_EQ(reverse_name(ip("2001:db8::1")),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  EXPECT_EQ(parse_reverse_name("7.2.0.192.in-addr.arpa"), ip("192.0.2.7"));
  EXPECT_EQ(parse_reverse_name(reverse_name(ip("2001:db8::1"))), ip("2001:db8::1"));
  EXPECT_FALSE(parse_reverse_name("2.0.192.in-addr.arpa").has_value());
  EXPECT_FALSE(parse_reverse_name("256.2.0.192.in-addr.arpa").has_value());
  EXPECT_FALSE(parse_reverse_name("1.2.3.4.5.in-addr.arpa").has_value());
  EXPECT_FALSE(parse_reverse_name("g.0.ip6.arpa").has_value());
}

TEST(DnsTcpSession, SplitAndPipelinedQueries) {
  DnsResponder r;
  DnsTcpSession s(r);
  std::vector<uint8_t> stream = dns::test_util::tcp_framed(query("one.example", dns::kTypeA, 1));
  const auto second = dns::test_util::tcp_framed(query("two.example", dns::kTypeA, 2));
  stream.insert(stream.end(), second.begin(), second.end());
  std::vector<uint8_t> out;
  std::vector<DnsExchange> ex;
  // One byte at a time, then check both framed answers.
  for (uint8_t b : stream) ASSERT_TRUE(s.feed(core::ByteView(&b, 1), out, &ex));
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].answers, std::vector<std::string>{"198.18.0.1"});
  EXPECT_EQ(ex[1].answers, std::vector<std::string>{"198.18.0.2"});
  const size_t n1 = dns::dns_tcp_message_length(out);
  ASSERT_GT(n1, 2u);
  dns::DnsMessage m;
  core::Anomalies an;
  ASSERT_EQ(dns::parse_dns_message(core::ByteView(out).subspan(2, n1 - 2), m, an), dns::ParseResult::kOk);
  EXPECT_EQ(m.id, 1);
  const size_t n2 = dns::dns_tcp_message_length(core::ByteView(out).subspan(n1));
  ASSERT_EQ(n1 + n2, out.size());
  ASSERT_EQ(dns::parse_dns_message(core::ByteView(out).subspan(n1 + 2, n2 - 2), m, an), dns::ParseResult::kOk);
  EXPECT_EQ(m.id, 2);
  EXPECT_EQ(m.answers[0].rdata, "198.18.0.2");
}

TEST(DnsTcpSession, QueryLimitClosesAndGarbageIsBounded) {
  DnsResponderConfig c;
  c.max_tcp_queries = 2;
  DnsResponder r(c);
  DnsTcpSession s(r);
  std::vector<uint8_t> stream;
  for (unsigned i = 0; i < 3; ++i) {
    const auto f = dns::test_util::tcp_framed(query("q.example", dns::kTypeA, i));
    stream.insert(stream.end(), f.begin(), f.end());
  }
  std::vector<uint8_t> out;
  std::vector<DnsExchange> ex;
  EXPECT_FALSE(s.feed(stream, out, &ex));
  EXPECT_EQ(ex.size(), 2u);
  EXPECT_TRUE(s.closed());
  EXPECT_EQ(r.anomalies().count(kAnomDnsTcpTooManyQueries), 1u);

  // 200 KB of 0xff: length prefixes of 65535 bytes of garbage, each FORMERR'd
  // (a header is there) and the buffer never holds more than one message.
  DnsResponder fresh;
  DnsTcpSession g(fresh);
  const std::vector<uint8_t> junk(200000, 0xff);
  out.clear();
  ex.clear();
  EXPECT_TRUE(g.feed(junk, out, &ex));
  EXPECT_EQ(ex.size(), 0u);  // QR is set in 0xff...: dropped, not answered
  EXPECT_TRUE(out.empty());
}

// --- the real dig against a loopback server -------------------------------

// Serves UDP and TCP queries on 127.0.0.1 (one ephemeral port for both)
// from a thread until stopped; bounded by a deadline as well.
class LoopbackDnsServer {
 public:
  explicit LoopbackDnsServer(DnsResponder& r) : responder_(r) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    tcp_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (tcp_ >= 0 && (::bind(tcp_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(tcp_, 4) != 0)) {
      ::close(tcp_);
      tcp_ = -1;
    }
    thread_ = std::thread([this] { run(); });
  }
  ~LoopbackDnsServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    if (tcp_ >= 0) ::close(tcp_);
  }
  uint16_t port() const { return port_; }
  bool has_tcp() const { return tcp_ >= 0; }
  int tcp_connections() const { return tcp_connections_; }

 private:
  void run() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::vector<uint8_t> buf(4096), out;
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {tcp_, POLLIN, 0}};
      if (::poll(p, tcp_ >= 0 ? 2 : 1, 50) <= 0) continue;
      if (tcp_ >= 0 && (p[1].revents & POLLIN)) serve_tcp();
      if (!(p[0].revents & POLLIN)) continue;
      sockaddr_in from{};
      socklen_t flen = sizeof from;
      const ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &flen);
      if (n <= 0) continue;
      if (responder_.answer_udp(core::ByteView(buf.data(), static_cast<size_t>(n)), out)) {
        ::sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
      }
    }
  }
  void serve_tcp() {
    const int c = ::accept(tcp_, nullptr, nullptr);
    if (c < 0) return;
    ++tcp_connections_;
    DnsTcpSession session(responder_);
    std::vector<uint8_t> buf(4096), out;
    for (int rounds = 0; rounds < 100 && !stop_; ++rounds) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) break;
      const ssize_t n = ::recv(c, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      out.clear();
      const bool open = session.feed(core::ByteView(buf.data(), static_cast<size_t>(n)), out);
      if (!out.empty() && ::send(c, out.data(), out.size(), MSG_NOSIGNAL) < 0) break;
      if (!open) break;
    }
    ::close(c);
  }
  DnsResponder& responder_;
  int fd_ = -1;
  int tcp_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> tcp_connections_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};


// dig aligns columns with tabs and spaces: compare with runs of blanks as one space.
std::string squeeze(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool blank = c == ' ' || c == '\t';
    if (blank && !out.empty() && out.back() == ' ') continue;
    out += blank ? ' ' : c;
  }
  return out;
}

TEST(DnsResponderDig, RealDigParsesEveryType) {
  if (::access("/usr/bin/dig", X_OK) != 0) GTEST_SKIP() << "dig not installed";
  DnsResponder r;
  LoopbackDnsServer server(r);
  ASSERT_NE(server.port(), 0);
  auto dig = [&](const char* name, const char* type) {
    return squeeze(run_command({"dig", "@127.0.0.1", "-p", std::to_string(server.port()), "+time=2",
                                "+tries=1", "+noall", "+answer", "+comments", name, type}));
  };
  const std::string a = dig("random-name-q8x.example", "A");
  EXPECT_NE(a.find("status: NOERROR"), std::string::npos) << a;
  EXPECT_NE(a.find("flags: qr aa rd ra;"), std::string::npos) << a;
  EXPECT_NE(a.find("random-name-q8x.example. 300 IN A 198.18.0.1"), std::string::npos) << a;
  const std::string aaaa = dig("random-name-q8x.example", "AAAA");
  EXPECT_NE(aaaa.find("random-name-q8x.example. 300 IN AAAA 2001:2::1"), std::string::npos) << aaaa;
  const std::string mx = dig("mx-test.example", "MX");
  EXPECT_NE(mx.find("mx-test.example. 300 IN MX 10 mail.mx-test.example."), std::string::npos) << mx;
  const std::string txt = dig("txt-test.example", "TXT");
  EXPECT_NE(txt.find("txt-test.example. 300 IN TXT \"v=spf1 -all\""), std::string::npos) << txt;
  const std::string ns = dig("ns-test.example", "NS");
  EXPECT_NE(ns.find("ns-test.example. 300 IN NS ns1.ns-test.example."), std::string::npos) << ns;
  const std::string cname = dig("cn-test.example", "CNAME");
  EXPECT_NE(cname.find("cn-test.example. 300 IN CNAME www.cn-test.example."), std::string::npos) << cname;
  const std::string soa = dig("soa-test.example", "SOA");
  EXPECT_NE(soa.find("IN SOA ns1.soa-test.example. hostmaster.soa-test.example. 2024010101 3600 600 86400 300"),
            std::string::npos)
      << soa;
  const std::string ptr = squeeze(run_command({"dig", "@127.0.0.1", "-p", std::to_string(server.port()),
                                               "+time=2", "+tries=1", "+noall", "+answer", "-x", "198.18.0.1"}));
  EXPECT_NE(ptr.find("1.0.18.198.in-addr.arpa. 300 IN PTR random-name-q8x.example."), std::string::npos) << ptr;
}

TEST(DnsResponderDig, TruncatedOverUdpThenTcp) {
  if (::access("/usr/bin/dig", X_OK) != 0) GTEST_SKIP() << "dig not installed";
  DnsResponderConfig c;
  c.txt = std::string(300, 'a') + std::string(300, 'b');
  DnsResponder r(c);
  LoopbackDnsServer server(r);
  ASSERT_NE(server.port(), 0);
  if (!server.has_tcp()) GTEST_SKIP() << "TCP port taken";
  // No EDNS: the 512-byte bound cuts the answer, dig sees TC and asks over TCP.
  const std::string out = squeeze(run_command({"dig", "@127.0.0.1", "-p", std::to_string(server.port()), "+time=2",
                                               "+tries=1", "+noedns", "+noall", "+answer", "big.example", "TXT"}));
  EXPECT_NE(out.find("big.example. 300 IN TXT \"" + std::string(255, 'a') + "\" \"" + std::string(45, 'a') +
                     std::string(210, 'b') + "\" \"" + std::string(90, 'b') + "\""),
            std::string::npos)
      << out;
  EXPECT_EQ(server.tcp_connections(), 1);
  EXPECT_EQ(r.anomalies().count(kAnomDnsTruncated), 1u);
  // +tcp straight away.
  const std::string tcp = squeeze(run_command({"dig", "@127.0.0.1", "-p", std::to_string(server.port()), "+time=2",
                                               "+tries=1", "+tcp", "+noall", "+answer", "t2.example", "A"}));
  EXPECT_NE(tcp.find("t2.example. 300 IN A 198.18.0.1"), std::string::npos) << tcp;
  EXPECT_EQ(server.tcp_connections(), 2);
}

}  // namespace
}  // namespace trawl::sinkhole

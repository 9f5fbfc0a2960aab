// Tests for the DNS analyzer: transactions over UDP and TCP driven through a
// Dispatcher (probe, matching, dns.jsonl lines), TCP framing across
// deliveries and gaps, and every limit with its anomaly.
#include "analyzers/dns/dns_analyzer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/dispatcher.h"
#include "analyzers/dns/dns_msg_builder.h"
#include "analyzers/dns/dns_names.h"
#include "flow/conn_record.h"

namespace trawl::analyzers::dns {
namespace {

using test_util::Msg;
using test_util::tcp_framed;

constexpr uint16_t kQueryFlags = 0x0100;     // RD
constexpr uint16_t kResponseFlags = 0x8180;  // QR RD RA
constexpr unsigned kIn = 1;

core::Timestamp at(int64_t ms) { return core::Timestamp::from_sec_nsec(1700000000, 0) + ms * 1000000; }

ConnInfo conn(uint8_t proto, uint16_t resp_p = 53, uint16_t orig_p = 40000) {
  ConnInfo c;
  c.uid = "CDnsTest000000001";
  c.orig_h = *core::IpAddress::parse("10.0.0.1");
  c.resp_h = *core::IpAddress::parse("10.0.0.53");
  c.orig_p = orig_p;
  c.resp_p = resp_p;
  c.proto = proto;
  return c;
}

Msg query(unsigned id, std::string_view name, unsigned qtype = kTypeA, unsigned flags = kQueryFlags) {
  Msg m;
  m.header(id, flags, 1, 0, 0, 0).name(name).u16(qtype).u16(kIn);
  return m;
}

// A response with a CNAME and an A record.
Msg answer(unsigned id, std::string_view name, unsigned flags = kResponseFlags) {
  Msg m;
  m.header(id, flags, 1, 2, 0, 0).name(name).u16(kTypeA).u16(kIn);
  m.ptr(12);
  size_t l = m.rr(kTypeCname, 300);
  m.labels("web").ptr(12);
  m.end_rdata(l);
  m.ptr(12);
  l = m.rr(kTypeA, 60);
  m.u8(192).u8(0).u8(2).u8(1);
  m.end_rdata(l);
  return m;
}

// A response carrying only the question (and an rcode).
Msg bare_response(unsigned id, std::string_view name, unsigned rcode, unsigned qtype = kTypeA) {
  Msg m;
  m.header(id, kResponseFlags | rcode, 1, 0, 0, 0).name(name).u16(qtype).u16(kIn);
  return m;
}

// A Dispatcher over the real registry, with its records and anomalies.
struct Harness {
  explicit Harness(const ConnInfo& info) : d(info, config, anomalies, sink, registry()) {}

  void udp(bool is_orig, const Msg& m, core::Timestamp ts) { d.datagram(is_orig, m.view(), ts); }
  void tcp(bool is_orig, const std::vector<uint8_t>& bytes, core::Timestamp ts) {
    d.stream_data(is_orig, {bytes.data(), bytes.size()}, ts);
  }
  void finish(core::Timestamp ts) { d.finish(ts, rec); }

  const DnsLogRecord& record(size_t i) const {
    const auto* r = dynamic_cast<const DnsLogRecord*>(sink.at(i).get());
    EXPECT_NE(r, nullptr);
    return *r;
  }
  std::string json(size_t i) const {
    std::string out;
    sink.at(i)->write_json(out);
    return out;
  }

  AnalyzerConfig config;
  core::Anomalies anomalies;
  std::vector<std::unique_ptr<Record>> sink;
  Dispatcher d;
  flow::ConnRecord rec;
};

// A Context without a Dispatcher, for limits other than the defaults.
class FakeContext final : public Context {
 public:
  explicit FakeContext(const ConnInfo& info) : info_(info) {}
  const ConnInfo& conn() const override { return info_; }
  const AnalyzerConfig& config() const override { return config_; }
  core::Anomalies& anomalies() override { return anomalies_; }
  void emit(std::unique_ptr<Record> r) override { records.push_back(std::move(r)); }
  void give_up() override { gave_up = true; }
  void upgrade(std::string_view) override {}

  const DnsLogRecord& record(size_t i) const { return dynamic_cast<const DnsLogRecord&>(*records.at(i)); }

  std::vector<std::unique_ptr<Record>> records;
  bool gave_up = false;
  core::Anomalies anomalies_;

 private:
  ConnInfo info_;
  AnalyzerConfig config_;
};

TEST(DnsAnalyzer, UdpTransactionIsOneZeekLine) {
  Harness h(conn(17));
  h.udp(true, query(0x1234, "www.Example.com"), at(100));
  EXPECT_EQ(h.d.service(), "dns");
  EXPECT_TRUE(h.sink.empty());  // waits for the response
  h.udp(false, answer(0x1234, "www.example.com"), at(112) + 500000);
  ASSERT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.json(0),
            "{\"ts\":1700000000.100000,\"uid\":\"CDnsTest000000001\",\"id.orig_h\":\"10.0.0.1\","
            "\"id.orig_p\":40000,\"id.resp_h\":\"10.0.0.53\",\"id.resp_p\":53,\"proto\":\"udp\","
            "\"trans_id\":4660,\"rtt\":0.012500,\"query\":\"www.example.com\",\"qclass\":1,"
            "\"qclass_name\":\"C_INTERNET\",\"qtype\":1,\"qtype_name\":\"A\",\"rcode\":0,"
            "\"rcode_name\":\"NOERROR\",\"AA\":false,\"TC\":false,\"RD\":true,\"RA\":true,\"Z\":0,"
            "\"answers\":[\"web.www.example.com\",\"192.0.2.1\"],\"TTLs\":[300.0,60.0],\"rejected\":false}\n");
  const DnsLogRecord& r = h.record(0);
  EXPECT_EQ(r.query_original, "www.Example.com");
  ASSERT_EQ(r.answers.size(), 2u);
  EXPECT_FALSE(r.answers[0].address.has_value());
  ASSERT_TRUE(r.answers[1].address.has_value());
  EXPECT_EQ(*r.answers[1].address, *core::IpAddress::parse("192.0.2.1"));
  EXPECT_EQ(r.answers[1].type, kTypeA);
  EXPECT_EQ(r.answers[1].name, "www.example.com");
  EXPECT_TRUE(r.saw_query && r.saw_reply);
  EXPECT_EQ(r.reply_ts, at(112) + 500000);
  h.finish(at(200));
  EXPECT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.rec.service, "dns");
  EXPECT_EQ(h.anomalies.total(), 0u);
}

TEST(DnsAnalyzer, UnansweredQueryWrittenAtFinishWithoutResponseFields) {
  Harness h(conn(17));
  h.udp(true, query(7, "lonely.example", kTypeTxt), at(0));
  h.finish(at(5000));
  ASSERT_EQ(h.sink.size(), 1u);
  const std::string j = h.json(0);
  EXPECT_NE(j.find("\"query\":\"lonely.example\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"qtype_name\":\"TXT\""), std::string::npos) << j;
  for (const char* absent : {"\"rtt\"", "\"rcode\"", "\"rcode_name\"", "\"answers\"", "\"TTLs\""}) {
    EXPECT_EQ(j.find(absent), std::string::npos) << absent << " in " << j;
  }
  EXPECT_EQ(h.anomalies.count(kAnomUnmatchedReply), 0u);
}

TEST(DnsAnalyzer, ResponseOnlyKeepsItsQuestionAndCountsAnAnomaly) {
  // Flows the flow table flipped (response first) still have resp_p 53.
  Harness h(conn(17));
  h.udp(false, bare_response(9, "gone.example", 3), at(10));
  EXPECT_TRUE(h.sink.empty());  // a late query could still pair with it
  h.finish(at(20));
  ASSERT_EQ(h.sink.size(), 1u);
  const DnsLogRecord& r = h.record(0);
  EXPECT_EQ(r.ts, at(10));
  EXPECT_FALSE(r.rtt_ns.has_value());
  EXPECT_EQ(r.query, "gone.example");  // from the response's question
  EXPECT_FALSE(r.qtype.has_value());   // as Zeek: qtype and qclass tell that the query was seen
  EXPECT_FALSE(r.qclass.has_value());
  EXPECT_EQ(r.rcode, 3);
  EXPECT_TRUE(r.rd);         // from the response, there is no query
  EXPECT_TRUE(r.rejected);   // a question answered with no records at all (Zeek's dns_rejected)
  EXPECT_FALSE(r.saw_query);
  EXPECT_NE(h.json(0).find("\"rcode_name\":\"NXDOMAIN\""), std::string::npos);
  EXPECT_EQ(h.anomalies.count(kAnomUnmatchedReply), 1u);
}

TEST(DnsAnalyzer, ResponseBeforeQueryPairsWhenTheQueryArrives) {
  Harness h(conn(17));
  h.udp(false, answer(5, "early.example"), at(10));
  h.udp(true, query(5, "early.example"), at(11));
  ASSERT_EQ(h.sink.size(), 1u);
  const DnsLogRecord& r = h.record(0);
  EXPECT_EQ(r.ts, at(10));  // Zeek: the transaction starts with its first message
  EXPECT_FALSE(r.rtt_ns.has_value());
  EXPECT_EQ(r.qtype, kTypeA);  // the query filled in its part
  EXPECT_EQ(r.rcode, 0);
  EXPECT_TRUE(r.saw_query && r.saw_reply);
  EXPECT_EQ(r.answers.size(), 2u);
  EXPECT_EQ(h.anomalies.count(kAnomUnmatchedReply), 0u);
}

TEST(DnsAnalyzer, MatchesByIdAndQuestion) {
  Harness h(conn(17));
  h.udp(true, query(1, "a.example"), at(0));
  h.udp(true, query(1, "b.example"), at(1));
  h.udp(false, bare_response(1, "B.example", 3), at(2));  // case does not matter (0x20)
  ASSERT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.record(0).query, "b.example");
  EXPECT_EQ(h.record(0).rcode, 3);
  // Same id, different qtype: not this transaction.
  h.udp(false, bare_response(1, "a.example", 0, kTypeAaaa), at(3));
  EXPECT_EQ(h.sink.size(), 1u);
  h.udp(false, answer(1, "a.example"), at(4));
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.record(1).query, "a.example");
  EXPECT_EQ(h.record(1).rtt_ns, 4 * 1000000);
  h.finish(at(5));
  ASSERT_EQ(h.sink.size(), 3u);
  EXPECT_EQ(h.record(2).query, "a.example");
  EXPECT_FALSE(h.record(2).qtype.has_value());
  EXPECT_FALSE(h.record(2).saw_query);
  EXPECT_EQ(h.anomalies.count(kAnomUnmatchedReply), 1u);
}

TEST(DnsAnalyzer, RetransmittedQueryMatchesOldestFirst) {
  Harness h(conn(17));
  h.udp(true, query(2, "retry.example"), at(0));
  h.udp(true, query(2, "retry.example"), at(1000));
  h.udp(false, answer(2, "retry.example"), at(1010));
  ASSERT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.record(0).ts, at(0));
  EXPECT_EQ(h.record(0).rtt_ns, 1010 * 1000000);
  h.finish(at(2000));
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.record(1).ts, at(1000));
  EXPECT_FALSE(h.record(1).rcode.has_value());
}

TEST(DnsAnalyzer, ResponseWithoutQuestionAsZeek) {
  Harness h(conn(17));
  Msg m;  // no question, one answer: Zeek names the transaction after the answer
  m.header(3, kResponseFlags, 0, 1, 0, 0).name("host.example");
  const size_t l = m.rr(kTypeAaaa, 120);
  for (int i = 0; i < 15; ++i) m.u8(0);
  m.u8(1);
  m.end_rdata(l);
  h.udp(false, m, at(0));
  Msg err;  // an error without the question: rejected
  err.header(4, kResponseFlags | 5, 0, 0, 0, 0);
  h.udp(false, err, at(1));
  h.finish(at(2));
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.record(0).query, "host.example");
  EXPECT_FALSE(h.record(0).qtype.has_value());
  EXPECT_FALSE(h.record(0).rejected);
  ASSERT_EQ(h.record(0).answers.size(), 1u);
  EXPECT_EQ(h.record(0).answers[0].text, "::1");
  EXPECT_EQ(h.record(0).answers[0].address, *core::IpAddress::parse("::1"));
  EXPECT_FALSE(h.record(1).query.has_value());
  EXPECT_EQ(h.record(1).rcode, 5);
  EXPECT_TRUE(h.record(1).rejected);
  EXPECT_EQ(h.json(1).find("\"query\""), std::string::npos);
  EXPECT_NE(h.json(1).find("\"rcode_name\":\"REFUSED\""), std::string::npos);
}

TEST(DnsAnalyzer, HeaderBitsFollowZeek) {
  Harness h(conn(17));
  // Query with the AD bit (Zeek's Z counts the Z, AD and CD bits: 2).
  h.udp(true, query(11, "bits.example", kTypeA, kQueryFlags | 0x0020), at(0));
  // Authoritative, truncated response.
  h.udp(false, answer(11, "bits.example", kResponseFlags | 0x0400 | 0x0200), at(1));
  ASSERT_EQ(h.sink.size(), 1u);
  const DnsLogRecord& r = h.record(0);
  EXPECT_TRUE(r.aa);
  EXPECT_TRUE(r.tc);
  EXPECT_TRUE(r.rd);
  EXPECT_TRUE(r.ra);
  EXPECT_EQ(r.z, 2);
}

TEST(DnsAnalyzer, ExtendedRcodeIsLoggedAsTheHeaderRcode) {
  Harness h(conn(17));
  h.udp(true, query(12, "edns.example"), at(0));
  Msg m;  // BADVERS: header rcode 0, OPT extended rcode 1
  m.header(12, kResponseFlags, 1, 0, 0, 1).name("edns.example").u16(kTypeA).u16(kIn);
  m.u8(0).u16(kTypeOpt).u16(1232).u32(0x01000000).u16(0);
  h.udp(false, m, at(1));
  ASSERT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.record(0).rcode, 0);
  EXPECT_FALSE(h.record(0).rejected);  // arcount 1
}

TEST(DnsAnalyzer, OddBytesAndQuotesAreEscaped) {
  Harness h(conn(17));
  Msg q;
  q.header(13, kQueryFlags, 1, 0, 0, 0).labels("a\x01\"b").name("Example").u16(kTypeTxt).u16(kIn);
  h.udp(true, q, at(0));
  Msg r;
  r.header(13, kResponseFlags, 1, 1, 0, 0).labels("a\x01\"b").name("example").u16(kTypeTxt).u16(kIn);
  r.ptr(12);
  const size_t l = r.rr(kTypeTxt);
  r.label("x\xff\"");
  r.end_rdata(l);
  h.udp(false, r, at(1));
  ASSERT_EQ(h.sink.size(), 1u);
  const std::string j = h.json(0);
  EXPECT_NE(j.find("\"query\":\"a\\\\x01\\\"b.example\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"answers\":[\"TXT 3 x\\\\xff\\\"\"]"), std::string::npos) << j;
}

TEST(DnsAnalyzer, NonStandardOpcodesAreNotTransactions) {
  Harness h(conn(17));
  h.udp(true, query(14, "zone.example", kTypeSoa, 0x2000), at(0));   // NOTIFY (4)
  h.udp(false, bare_response(14, "zone.example", 0, kTypeSoa), at(1));  // a plain response
  h.finish(at(2));
  ASSERT_EQ(h.sink.size(), 1u);
  EXPECT_FALSE(h.record(0).saw_query);
}

TEST(DnsAnalyzer, MdnsAnnouncementWithoutQuestion) {
  Harness h(conn(17, 5353, 5353));
  Msg m;
  m.header(0, 0x8400, 0, 1, 0, 0).name("printer.local");
  const size_t l = m.rr(kTypeA, 120, 0x8001);
  m.u8(192).u8(168).u8(1).u8(9);
  m.end_rdata(l);
  h.udp(true, m, at(0));
  EXPECT_EQ(h.d.service(), "dns");
  h.finish(at(1));
  ASSERT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.record(0).query, "printer.local");
  EXPECT_EQ(h.record(0).answers.at(0).text, "192.168.1.9");
  EXPECT_TRUE(h.record(0).aa);
  EXPECT_EQ(h.anomalies.count(kAnomUnmatchedReply), 0u);  // announcements are normal mDNS
}

TEST(DnsAnalyzer, TruncatedResponseKeepsWhatCameBefore) {
  Harness h(conn(17));
  h.udp(true, query(15, "cut.example"), at(0));
  Msg full = answer(15, "cut.example");
  Msg cut;
  cut.b.assign(full.b.begin(), full.b.end() - 3);  // the A record's rdata is cut
  h.udp(false, cut, at(1));
  ASSERT_EQ(h.sink.size(), 1u);
  ASSERT_EQ(h.record(0).answers.size(), 1u);
  EXPECT_EQ(h.record(0).answers[0].text, "web.cut.example");
  EXPECT_EQ(h.anomalies.count(kAnomTruncated), 1u);
}

// --- TCP ----------------------------------------------------------------------

std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(DnsAnalyzer, TcpSeveralMessagesPerDeliveryAndPerConnection) {
  Harness h(conn(6));
  h.tcp(true, cat({tcp_framed(query(1, "one.example")), tcp_framed(query(2, "two.example", kTypeMx))}), at(0));
  EXPECT_EQ(h.d.service(), "dns");
  h.tcp(false, cat({tcp_framed(bare_response(2, "two.example", 0, kTypeMx)), tcp_framed(answer(1, "one.example"))}),
        at(5));
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.record(0).query, "two.example");
  EXPECT_EQ(h.record(1).query, "one.example");
  EXPECT_NE(h.json(1).find("\"proto\":\"tcp\""), std::string::npos);
  EXPECT_EQ(h.record(1).answers.size(), 2u);
  h.finish(at(6));
  EXPECT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.anomalies.total(), 0u);
}

TEST(DnsAnalyzer, TcpMessagesSplitAtEveryByte) {
  const std::vector<uint8_t> q = cat({tcp_framed(query(1, "split.example")), tcp_framed(query(2, "more.example"))});
  const std::vector<uint8_t> r = cat({tcp_framed(answer(1, "split.example")), tcp_framed(answer(2, "more.example"))});
  // Reference: everything in one delivery per direction.
  Harness whole(conn(6));
  whole.tcp(true, q, at(0));
  whole.tcp(false, r, at(1));
  ASSERT_EQ(whole.sink.size(), 2u);
  for (size_t cut = 1; cut < r.size(); ++cut) {
    Harness h(conn(6));
    h.tcp(true, std::vector<uint8_t>(q.begin(), q.begin() + static_cast<long>(std::min(cut, q.size()))), at(0));
    if (cut < q.size()) h.tcp(true, std::vector<uint8_t>(q.begin() + static_cast<long>(cut), q.end()), at(0));
    h.tcp(false, std::vector<uint8_t>(r.begin(), r.begin() + static_cast<long>(cut)), at(1));
    h.tcp(false, std::vector<uint8_t>(r.begin() + static_cast<long>(cut), r.end()), at(1));
    ASSERT_EQ(h.sink.size(), 2u) << "cut " << cut;
    for (size_t i = 0; i < 2; ++i) EXPECT_EQ(h.json(i), whole.json(i)) << "cut " << cut;
  }
  // One byte per delivery.
  Harness h(conn(6));
  for (uint8_t b : q) h.tcp(true, {b}, at(0));
  for (uint8_t b : r) h.tcp(false, {b}, at(1));
  ASSERT_EQ(h.sink.size(), 2u);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(h.json(i), whole.json(i));
}

// A response whose answer section is `n` TXT records of 200 bytes.
Msg big_txt_response(unsigned id, std::string_view name, int n) {
  Msg m;
  m.header(id, kResponseFlags, 1, static_cast<unsigned>(n), 0, 0).name(name).u16(kTypeTxt).u16(kIn);
  for (int i = 0; i < n; ++i) {
    m.ptr(12);
    const size_t l = m.rr(kTypeTxt);
    m.label(std::string(200, static_cast<char>('a' + i % 26)));
    m.end_rdata(l);
  }
  return m;
}

TEST(DnsAnalyzer, TcpMessageOverTheCapIsParsedFromItsStart) {
  Harness h(conn(6));
  const Msg big = big_txt_response(1, "big.example", 100);  // ~21 KB
  ASSERT_GT(big.size(), DnsAnalyzerLimits{}.max_tcp_message);
  h.tcp(true, cat({tcp_framed(query(1, "big.example", kTypeTxt)), tcp_framed(query(2, "next.example"))}), at(0));
  const std::vector<uint8_t> stream = cat({tcp_framed(big), tcp_framed(answer(2, "next.example"))});
  // In 1000-byte deliveries, as reassembly would hand them over.
  for (size_t off = 0; off < stream.size(); off += 1000) {
    const size_t end = std::min(stream.size(), off + 1000);
    h.tcp(false, std::vector<uint8_t>(stream.begin() + static_cast<long>(off), stream.begin() + static_cast<long>(end)),
          at(1));
  }
  ASSERT_EQ(h.sink.size(), 2u);
  const DnsLogRecord& r = h.record(0);
  EXPECT_EQ(r.query, "big.example");
  EXPECT_EQ(r.rcode, 0);
  EXPECT_GT(r.answers.size(), 10u);
  EXPECT_LT(r.answers.size(), 100u);
  EXPECT_EQ(r.total_answers, 100);
  EXPECT_EQ(h.record(1).query, "next.example");  // framing kept after the skipped bytes
  EXPECT_EQ(h.anomalies.count(kAnomTcpMessageTooLarge), 1u);
  EXPECT_EQ(h.anomalies.count(kAnomTruncated), 1u);
}

TEST(DnsAnalyzer, TcpGapInsideAMessageKeepsTheFraming) {
  Harness h(conn(6));
  h.tcp(true, cat({tcp_framed(query(1, "gap.example")), tcp_framed(query(2, "after.example"))}), at(0));
  const std::vector<uint8_t> first = tcp_framed(answer(1, "gap.example"));
  // The first 20 bytes arrive, 10 are lost, then the rest and the next message.
  h.tcp(false, std::vector<uint8_t>(first.begin(), first.begin() + 20), at(1));
  h.d.stream_gap(false, 10, at(1));
  h.tcp(false, cat({std::vector<uint8_t>(first.begin() + 30, first.end()), tcp_framed(answer(2, "after.example"))}),
        at(2));
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.record(0).query, "gap.example");  // header and question were before the hole
  EXPECT_EQ(h.record(0).rcode, 0);
  EXPECT_EQ(h.record(1).query, "after.example");
  EXPECT_EQ(h.record(1).answers.size(), 2u);
  EXPECT_EQ(h.anomalies.count(kAnomTcpGap), 1u);
}

TEST(DnsAnalyzer, TcpGapAcrossMessagesResynchronises) {
  Harness h(conn(6));
  h.tcp(true, cat({tcp_framed(query(1, "lost.example")), tcp_framed(query(2, "found.example"))}), at(0));
  const std::vector<uint8_t> first = tcp_framed(answer(1, "lost.example"));
  h.tcp(false, std::vector<uint8_t>(first.begin(), first.begin() + 20), at(1));
  h.d.stream_gap(false, first.size() + 7, at(1));  // the rest, and 7 bytes of whatever followed
  h.tcp(false, {0x12, 0x34, 0x56}, at(2));           // the tail of that: not a message start
  h.tcp(false, tcp_framed(answer(2, "found.example")), at(3));
  h.finish(at(4));
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.record(0).query, "lost.example");  // its prefix, parsed at the gap
  EXPECT_EQ(h.record(0).rcode, 0);
  EXPECT_EQ(h.record(1).query, "found.example");
  EXPECT_TRUE(h.record(1).saw_query && h.record(1).saw_reply);
}

TEST(DnsAnalyzer, TcpMessageCutByTheEndOfTheStream) {
  Harness h(conn(6));
  h.tcp(true, tcp_framed(query(1, "eos.example")), at(0));
  const std::vector<uint8_t> r = tcp_framed(answer(1, "eos.example"));
  h.tcp(false, std::vector<uint8_t>(r.begin(), r.end() - 4), at(1));
  h.d.stream_end(false, at(2));
  ASSERT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.record(0).rcode, 0);
  EXPECT_EQ(h.record(0).answers.size(), 1u);
}

// --- limits -------------------------------------------------------------------

TEST(DnsAnalyzer, PendingLimitWritesTheOldestOut) {
  Harness h(conn(17));
  for (unsigned i = 0; i < 70; ++i) h.udp(true, query(i, "flood.example"), at(i));
  EXPECT_EQ(h.sink.size(), 6u);
  EXPECT_EQ(h.anomalies.count(kAnomTooManyPending), 6u);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(h.record(i).trans_id, i);
  h.udp(false, answer(69, "flood.example"), at(100));
  ASSERT_EQ(h.sink.size(), 7u);
  EXPECT_EQ(h.record(6).trans_id, 69);
  EXPECT_TRUE(h.record(6).saw_reply);
  h.finish(at(200));
  ASSERT_EQ(h.sink.size(), 70u);
  for (size_t i = 7; i < 70; ++i) EXPECT_EQ(h.record(i).trans_id, i - 1);
}

TEST(DnsAnalyzer, PendingTimeout) {
  Harness h(conn(17));
  h.udp(true, query(1, "slow.example"), at(0));
  h.udp(true, query(2, "later.example"), at(59000));
  EXPECT_TRUE(h.sink.empty());
  h.udp(true, query(3, "much.later.example"), at(61000));
  ASSERT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.record(0).trans_id, 1);
  // A response after the timeout is a response on its own.
  h.udp(false, answer(1, "slow.example"), at(61001));
  h.finish(at(70000));
  ASSERT_EQ(h.sink.size(), 4u);
  EXPECT_EQ(h.anomalies.count(kAnomUnmatchedReply), 1u);
}

TEST(DnsAnalyzer, MessageLimitGivesUp) {
  FakeContext ctx(conn(17));
  DnsAnalyzerLimits limits;
  limits.max_messages = 10;
  DnsAnalyzer a(ctx, limits);
  for (unsigned i = 0; i < 12; ++i) {
    const Msg m = (i % 2 == 0) ? query(i / 2, "many.example") : answer(i / 2, "many.example");
    a.data(i % 2 == 0, m.view(), at(i));
  }
  EXPECT_TRUE(ctx.gave_up);
  EXPECT_EQ(ctx.anomalies_.count(kAnomTooManyMessages), 1u);
  EXPECT_EQ(ctx.records.size(), 5u);
  a.finish(at(20));
  EXPECT_EQ(ctx.records.size(), 5u);
}

TEST(DnsAnalyzer, TcpLimitsReachedInTheMiddleOfADelivery) {
  // The analyzer gives up while it is still walking one delivery.
  FakeContext ctx(conn(6));
  DnsAnalyzerLimits limits;
  limits.max_messages = 3;
  DnsAnalyzer a(ctx, limits);
  std::vector<uint8_t> q;
  for (unsigned i = 0; i < 6; ++i) {
    const std::vector<uint8_t> f = tcp_framed(query(i, "limit.example"));
    q.insert(q.end(), f.begin(), f.end());
  }
  // ... and a message split after the limit.
  const std::vector<uint8_t> tail = tcp_framed(query(9, "tail.example"));
  q.insert(q.end(), tail.begin(), tail.begin() + 5);
  a.data(true, {q.data(), q.size()}, at(0));
  EXPECT_TRUE(ctx.gave_up);
  a.data(true, {tail.data() + 5, tail.size() - 5}, at(1));
  a.finish(at(2));
  EXPECT_EQ(ctx.records.size(), 3u);
  EXPECT_EQ(ctx.anomalies_.count(kAnomTooManyMessages), 1u);

  FakeContext junk_ctx(conn(6));
  DnsAnalyzerLimits junk_limits;
  junk_limits.max_bad_in_row = 2;
  DnsAnalyzer junk(junk_ctx, junk_limits);
  const std::vector<uint8_t> j = {0, 3, 1, 2, 3, 0, 1, 9, 0, 20, 1, 2};  // two tiny messages, then one cut
  junk.data(true, {j.data(), j.size()}, at(0));
  EXPECT_TRUE(junk_ctx.gave_up);
  EXPECT_EQ(junk_ctx.anomalies_.count(kAnomNotDns), 1u);
  junk.finish(at(1));
  EXPECT_TRUE(junk_ctx.records.empty());
}

TEST(DnsAnalyzer, SmallTcpCap) {
  FakeContext ctx(conn(6));
  DnsAnalyzerLimits limits;
  limits.max_tcp_message = 40;
  DnsAnalyzer a(ctx, limits);
  const std::vector<uint8_t> q = tcp_framed(query(1, "capped.example"));
  a.data(true, {q.data(), q.size()}, at(0));
  // One delivery (zero-copy path) and the same split (buffered path) must agree.
  const std::vector<uint8_t> r = cat({tcp_framed(answer(1, "capped.example")), tcp_framed(answer(1, "capped.example"))});
  a.data(false, {r.data(), 10}, at(1));
  a.data(false, {r.data() + 10, r.size() - 10}, at(1));
  a.finish(at(2));
  ASSERT_EQ(ctx.records.size(), 2u);
  EXPECT_EQ(ctx.record(0).rcode, 0);
  EXPECT_TRUE(ctx.record(0).answers.empty());  // only the first 40 bytes were kept
  EXPECT_EQ(ctx.record(1).rcode, 0);
  EXPECT_TRUE(ctx.record(1).answers.empty());
  EXPECT_EQ(ctx.anomalies_.count(kAnomTcpMessageTooLarge), 2u);
}

TEST(DnsAnalyzer, NotDnsAfterTheStartGivesUp) {
  Harness h(conn(17));
  h.udp(true, query(1, "ok.example"), at(0));
  Msg junk;
  junk.header(1, 0, 0x4000, 0, 0, 0);  // 16384 questions
  for (int i = 0; i < 15; ++i) h.udp(true, junk, at(1));
  EXPECT_TRUE(h.d.wants_data());
  Msg tiny;
  tiny.u8(1);
  h.udp(true, tiny, at(2));
  EXPECT_FALSE(h.d.wants_data());
  EXPECT_EQ(h.anomalies.count(kAnomTooManyQuestions), 15u);
  EXPECT_EQ(h.anomalies.count(kAnomNotDns), 1u);
  h.finish(at(3));
  EXPECT_EQ(h.sink.size(), 1u);  // the query before it
}

// --- probes -------------------------------------------------------------------

ProbeInput udp_input(const Msg& m, uint16_t resp_p, bool hint) {
  ProbeInput in;
  in.orig = m.view();
  in.orig_p = 40000;
  in.resp_p = resp_p;
  in.port_hint = hint;
  in.orig_done = in.resp_done = true;
  return in;
}

TEST(DnsProbe, Udp) {
  EXPECT_EQ(probe_udp(udp_input(query(1, "www.example.com"), 53, true)), Probe::kYes);
  EXPECT_EQ(probe_udp(udp_input(query(1, "www.example.com"), 8053, false)), Probe::kYes);
  EXPECT_EQ(probe_udp(udp_input(answer(1, "www.example.com"), 8053, false)), Probe::kYes);
  // NetBIOS name service looks like DNS but is not.
  EXPECT_EQ(probe_udp(udp_input(query(1, "EKEBFCEBDCECEBCACACACACACACACAAA", 32), 137, false)), Probe::kNo);
  // Off the DNS ports: unprintable names, odd classes, several questions,
  // trailing bytes and opcodes other than QUERY are not taken.
  Msg odd;
  odd.header(1, kQueryFlags, 1, 0, 0, 0).name("a b").u16(kTypeA).u16(kIn);
  EXPECT_EQ(probe_udp(udp_input(odd, 8053, false)), Probe::kNo);
  EXPECT_EQ(probe_udp(udp_input(odd, 53, true)), Probe::kYes);
  Msg cls;
  cls.header(1, kQueryFlags, 1, 0, 0, 0).name("x.example").u16(kTypeA).u16(77);
  EXPECT_EQ(probe_udp(udp_input(cls, 8053, false)), Probe::kNo);
  Msg trailing = query(1, "x.example");
  trailing.u8(0);
  EXPECT_EQ(probe_udp(udp_input(trailing, 8053, false)), Probe::kNo);
  EXPECT_EQ(probe_udp(udp_input(query(1, "x.example", kTypeSoa, 0x2000), 8053, false)), Probe::kNo);
  // Counts that cannot fit in the datagram.
  Msg counts;
  counts.header(1, kResponseFlags, 1, 50, 0, 0).name("x.example").u16(kTypeA).u16(kIn);
  EXPECT_EQ(probe_udp(udp_input(counts, 53, true)), Probe::kMaybe);
  // Opcode 3 does not exist; noise on port 53 leaves the next datagram to decide.
  EXPECT_EQ(probe_udp(udp_input(query(1, "x.example", kTypeA, 0x1800), 53, true)), Probe::kMaybe);
  // masscan's version.bind (a forward pointer ends the name): on the DNS port only.
  Msg vb;
  vb.header(0x0ab1, 0x0120, 1, 0, 0, 0).labels("version.bind").ptr(27).u16(kTypeTxt).u16(3);
  EXPECT_EQ(probe_udp(udp_input(vb, 53, true)), Probe::kYes);
  EXPECT_EQ(probe_udp(udp_input(vb, 8053, false)), Probe::kNo);
  Msg none;
  none.header(1, kQueryFlags, 0, 0, 0, 0);
  EXPECT_EQ(probe_udp(udp_input(none, 53, true)), Probe::kMaybe);
  // Random bytes.
  uint32_t x = 99;
  int taken = 0;
  for (int i = 0; i < 2000; ++i) {
    Msg g;
    const int n = 12 + i % 100;
    for (int k = 0; k < n; ++k) {
      x = x * 1103515245u + 12345u;
      g.u8((x >> 16) & 0xff);
    }
    if (probe_udp(udp_input(g, 8053, false)) == Probe::kYes) ++taken;
  }
  EXPECT_EQ(taken, 0);
}

TEST(DnsProbe, Tcp) {
  const std::vector<uint8_t> q = tcp_framed(query(1, "www.example.com"));
  ProbeInput in;
  in.orig_p = 40000;
  in.resp_p = 53;
  in.port_hint = true;
  in.orig = {q.data(), 1};
  EXPECT_EQ(probe_tcp(in), Probe::kMaybe);
  in.orig = {q.data(), 10};
  EXPECT_EQ(probe_tcp(in), Probe::kMaybe);
  in.orig = {q.data(), q.size()};
  EXPECT_EQ(probe_tcp(in), Probe::kYes);
  in.resp_p = 8053;
  in.port_hint = false;
  in.orig = {q.data(), 20};  // first question not complete yet
  EXPECT_EQ(probe_tcp(in), Probe::kMaybe);
  in.orig_done = true;
  EXPECT_EQ(probe_tcp(in), Probe::kNo);
  in.orig_done = false;
  in.orig = {q.data(), q.size()};
  EXPECT_EQ(probe_tcp(in), Probe::kYes);
  // HTTP is not DNS.
  const std::string_view http = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
  in.orig = {reinterpret_cast<const uint8_t*>(http.data()), http.size()};
  EXPECT_EQ(probe_tcp(in), Probe::kNo);
  in.resp_p = 53;
  in.port_hint = true;
  EXPECT_EQ(probe_tcp(in), Probe::kNo);
  // Only the server's side (capture started mid-connection).
  const std::vector<uint8_t> r = tcp_framed(answer(1, "www.example.com"));
  in.orig = {};
  in.resp = {r.data(), r.size()};
  EXPECT_EQ(probe_tcp(in), Probe::kYes);
}

TEST(DnsProbe, DispatcherLeavesNonDnsAlone) {
  Harness h(conn(17, 8053));
  Msg g;
  for (int i = 0; i < 40; ++i) g.u8(static_cast<unsigned>(i * 37));
  h.udp(true, g, at(0));
  EXPECT_NE(h.d.service(), "dns");
  Harness ok(conn(17, 8053));
  ok.udp(true, query(1, "odd-port.example"), at(0));
  EXPECT_EQ(ok.d.service(), "dns");
}

TEST(DnsNames, ZeekSpellings) {
  EXPECT_EQ(qtype_name(1), "A");
  EXPECT_EQ(qtype_name(10), "NULL");
  EXPECT_EQ(qtype_name(65), "HTTPS");
  EXPECT_EQ(qtype_name(255), "*");
  EXPECT_EQ(qtype_name(252), "AXFR");
  EXPECT_EQ(qtype_name(54), "query-54");
  EXPECT_EQ(qtype_name(65535), "query-65535");
  EXPECT_EQ(qclass_name(1), "C_INTERNET");
  EXPECT_EQ(qclass_name(0x8001), "qclass-32769");
  EXPECT_EQ(rcode_name(3), "NXDOMAIN");
  EXPECT_EQ(rcode_name(8), "NXRRSet");
  EXPECT_EQ(rcode_name(12), "unassigned-12");
  EXPECT_EQ(rcode_name(3842), "BADSIG");
  EXPECT_EQ(rcode_name(100), "rcode-100");
}

}  // namespace
}  // namespace trawl::analyzers::dns

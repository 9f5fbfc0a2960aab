// Tests for the pure DNS message parser: crafted good, hostile, truncated and
// garbage messages, plus query names and rcodes of a real capture against tshark.
#include "analyzers/dns/dns_message.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyzers/dns/dns_msg_builder.h"

#ifndef TRAWL_SHARED_PCAPS
#define TRAWL_SHARED_PCAPS "../shared/pcaps"
#endif

namespace trawl::analyzers::dns {
namespace {

using test_util::Msg;

// A private-use type no parser renders.
constexpr unsigned kUnknownType = 65280;

ParseResult parse(const Msg& m, DnsMessage& out, core::Anomalies& an, const DnsLimits& limits = {}) {
  return parse_dns_message(m.view(), out, an, limits);
}

// A response that uses compression and every rendered record type.
// Offsets: header 0..11, question name at 12 ("www.example.com"), example.com at 16.
Msg full_response() {
  Msg m;
  m.header(0xbeef, 0x8180, 1, 10, 1, 2);
  m.name("www.Example.COM").u16(kTypeA).u16(1);
  size_t l = 0;
  m.ptr(12);
  l = m.rr(kTypeCname);
  m.labels("web").ptr(16);  // web.example.com
  m.end_rdata(l);
  m.ptr(12);
  l = m.rr(kTypeA, 60);
  m.u8(192).u8(0).u8(2).u8(1);
  m.end_rdata(l);
  m.ptr(12);
  l = m.rr(kTypeAaaa);
  m.u16(0x2001).u16(0x0db8).u16(0).u16(0).u16(0).u16(0).u16(0).u16(1);
  m.end_rdata(l);
  m.ptr(16);
  l = m.rr(kTypeNs);
  m.labels("ns1").ptr(16);
  m.end_rdata(l);
  m.labels("1.2.0.192.in-addr.arpa").u8(0);
  l = m.rr(kTypePtr);
  m.ptr(12);
  m.end_rdata(l);
  m.ptr(16);
  l = m.rr(kTypeMx);
  m.u16(10).labels("Mail").ptr(16);
  m.end_rdata(l);
  m.ptr(16);
  l = m.rr(kTypeTxt);
  m.label("v=spf1 -all").label("a\x01");
  m.end_rdata(l);
  m.labels("_sip._udp").ptr(16);
  l = m.rr(kTypeSrv);
  m.u16(1).u16(2).u16(5060).labels("sip").ptr(16);
  m.end_rdata(l);
  m.ptr(16);
  l = m.rr(kUnknownType);
  m.u8(1).u8(2).u8(3);
  m.end_rdata(l);
  m.ptr(16);
  l = m.rr(kTypeSoa);  // SOA whose mname and rname point into earlier rdata
  m.labels("ns1").ptr(16).labels("hostmaster").ptr(16).u32(1).u32(2).u32(3).u32(4).u32(5);
  m.end_rdata(l);
  // authority
  m.ptr(16);
  l = m.rr(kTypeSoa);
  m.labels("ns2").ptr(16).labels("hostmaster").ptr(16).u32(2024).u32(7200).u32(3600).u32(1209600).u32(300);
  m.end_rdata(l);
  // additional: an A and an OPT
  m.labels("ns1").ptr(16);
  l = m.rr(kTypeA);
  m.u8(192).u8(0).u8(2).u8(53);
  m.end_rdata(l);
  m.u8(0).u16(kTypeOpt).u16(1232).u32(0x00008000).u16(0);
  return m;
}

TEST(DnsMessage, GoodQuery) {
  Msg m;
  m.header(0x1234, 0x0100, 1, 0, 0, 0).name("WWW.Example.COM").u16(kTypeA).u16(1);
  DnsMessage out;
  core::Anomalies an;
  ASSERT_EQ(parse(m, out, an), ParseResult::kOk);
  EXPECT_EQ(out.id, 0x1234);
  EXPECT_FALSE(out.flags.qr);
  EXPECT_TRUE(out.flags.rd);
  EXPECT_FALSE(out.flags.tc);
  EXPECT_EQ(out.flags.opcode, 0);
  ASSERT_EQ(out.questions.size(), 1u);
  EXPECT_EQ(out.questions[0].name, "www.example.com");
  EXPECT_EQ(out.questions[0].qtype, kTypeA);
  EXPECT_EQ(out.questions[0].qclass, 1);
  EXPECT_EQ(an.total(), 0u);
}

TEST(DnsMessage, ResponseWithCompressionAndEveryType) {
  const Msg m = full_response();
  DnsMessage out;
  core::Anomalies an;
  ASSERT_EQ(parse(m, out, an), ParseResult::kOk) << testing::PrintToString(an.by_name());
  EXPECT_EQ(an.total(), 0u) << testing::PrintToString(an.by_name());
  EXPECT_TRUE(out.flags.qr);
  EXPECT_TRUE(out.flags.rd);
  EXPECT_TRUE(out.flags.ra);
  EXPECT_FALSE(out.flags.aa);
  EXPECT_EQ(out.rcode, 0);
  ASSERT_EQ(out.questions.size(), 1u);
  EXPECT_EQ(out.questions[0].name, "www.example.com");
  EXPECT_EQ(out.questions[0].original, "www.Example.COM");
  ASSERT_EQ(out.answers.size(), 10u);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"www.example.com", "web.example.com"},
      {"www.example.com", "192.0.2.1"},
      {"www.example.com", "2001:db8::1"},
      {"example.com", "ns1.example.com"},
      {"1.2.0.192.in-addr.arpa", "www.example.com"},
      {"example.com", "mail.example.com"},
      {"example.com", "TXT 11 v=spf1 -all TXT 2 a\\x01"},
      {"_sip._udp.example.com", "sip.example.com"},
      {"example.com", "<unknown type=65280>"},
      {"example.com", "ns1.example.com"},
  };
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(out.answers[i].name, want[i].first) << i;
    EXPECT_EQ(out.answers[i].rdata, want[i].second) << i;
    EXPECT_EQ(out.answers[i].rclass, 1) << i;
  }
  EXPECT_EQ(out.answers[1].ttl, 60u);
  ASSERT_TRUE(out.answers[1].has_address);
  EXPECT_EQ(out.answers[1].address, *core::IpAddress::parse("192.0.2.1"));
  ASSERT_TRUE(out.answers[2].has_address);
  EXPECT_EQ(out.answers[2].address, *core::IpAddress::parse("2001:db8::1"));
  EXPECT_FALSE(out.answers[0].has_address);
  EXPECT_EQ(out.answers[5].preference, 10);
  ASSERT_EQ(out.answers[6].txt.size(), 2u);
  EXPECT_EQ(out.answers[6].txt[0], "v=spf1 -all");
  EXPECT_EQ(out.answers[7].preference, 1);
  EXPECT_EQ(out.answers[7].weight, 2);
  EXPECT_EQ(out.answers[7].port, 5060);
  ASSERT_EQ(out.authority.size(), 1u);
  EXPECT_EQ(out.authority[0].rdata, "ns2.example.com");
  ASSERT_EQ(out.additional.size(), 1u);
  EXPECT_EQ(out.additional[0].rdata, "192.0.2.53");
  EXPECT_TRUE(out.opt.present);
  EXPECT_EQ(out.opt.udp_payload_size, 1232);
  EXPECT_TRUE(out.opt.do_bit);
}

TEST(DnsMessage, TruncatedAtEveryOffset) {
  const Msg full = full_response();
  DnsMessage whole;
  core::Anomalies an_whole;
  ASSERT_EQ(parse(full, whole, an_whole), ParseResult::kOk);
  for (size_t n = 0; n < full.size(); ++n) {
    // An exact-size heap copy so ASan sees any read past the end.
    const std::vector<uint8_t> cut(full.b.begin(), full.b.begin() + static_cast<std::ptrdiff_t>(n));
    DnsMessage out;
    core::Anomalies an;
    const ParseResult r = parse_dns_message({cut.data(), cut.size()}, out, an);
    EXPECT_EQ(r, n < 12 ? ParseResult::kError : ParseResult::kPartial) << n;
    EXPECT_EQ(an.count(kAnomTruncated), 1u) << n;
    EXPECT_EQ(an.total(), 1u) << n << testing::PrintToString(an.by_name());
    // What was kept is a prefix of the whole answer list.
    ASSERT_LE(out.answers.size(), whole.answers.size());
    for (size_t i = 0; i < out.answers.size(); ++i) EXPECT_EQ(out.answers[i].rdata, whole.answers[i].rdata) << n;
  }
}

TEST(DnsMessage, PointerToItselfIsALoop) {
  Msg m;
  m.header(1, 0, 1, 0, 0, 0).ptr(12).u16(1).u16(1);
  DnsMessage out;
  core::Anomalies an;
  EXPECT_EQ(parse(m, out, an), ParseResult::kError);
  EXPECT_EQ(an.count(kAnomCompressionLoop), 1u);
}

TEST(DnsMessage, TwoPointerLoop) {
  // Question "a" + pointer back to 12; the answer's owner points to 14, which
  // points back to 12, whose label leads into the pointer again.
  Msg m;
  m.header(1, 0x8000, 1, 1, 0, 0).label("a").ptr(12).u16(1).u16(1);
  DnsMessage out;
  core::Anomalies an;
  EXPECT_EQ(parse(m, out, an), ParseResult::kError);
  EXPECT_EQ(an.count(kAnomCompressionLoop), 1u);
  EXPECT_TRUE(out.questions.empty());
}

TEST(DnsMessage, ForwardPointerIsFollowed) {
  // The question points past itself to a name after the message's sections
  // (trailing bytes); tshark resolves it the same way.
  Msg m;
  m.header(1, 0, 1, 0, 0, 0).ptr(18).u16(kTypeMx).u16(1).name("Example.com");
  DnsMessage out;
  core::Anomalies an;
  EXPECT_EQ(parse(m, out, an), ParseResult::kOk);
  EXPECT_EQ(an.count(kAnomForwardPointer), 1u);
  ASSERT_EQ(out.questions.size(), 1u);
  EXPECT_EQ(out.questions[0].name, "example.com");
  EXPECT_EQ(out.questions[0].original, "Example.com");
  EXPECT_EQ(out.questions[0].qtype, kTypeMx);

  // masscan's version.bind: the name ends in a pointer to the root label
  // that is the first byte of its own type field.
  Msg v;
  v.header(0x0ab1, 0x0120, 1, 0, 0, 0).labels("version.bind").ptr(27).u16(kTypeTxt).u16(3);
  EXPECT_EQ(parse(v, out, an), ParseResult::kOk);
  ASSERT_EQ(out.questions.size(), 1u);
  EXPECT_EQ(out.questions[0].name, "version.bind");
  EXPECT_EQ(out.questions[0].qtype, kTypeTxt);
  EXPECT_EQ(out.questions[0].qclass, 3);

  // A forward pointer to past the end.
  Msg end;
  end.header(1, 0, 1, 0, 0, 0).ptr(200).u16(1).u16(1);
  core::Anomalies an2;
  EXPECT_EQ(parse(end, out, an2), ParseResult::kError);
  EXPECT_EQ(an2.count(kAnomTruncated), 1u);
}

TEST(DnsMessage, ForwardAndBackwardPointerCycle) {
  // 12 -> 16 (forward), 16 -> 12 (backward), ... until the jump cap.
  Msg m;
  m.header(1, 0, 1, 0, 0, 0).ptr(16).u16(1).ptr(12);
  DnsMessage out;
  core::Anomalies an;
  EXPECT_EQ(parse(m, out, an), ParseResult::kError);
  EXPECT_EQ(an.count(kAnomCompressionLoop), 1u);
  EXPECT_TRUE(out.questions.empty());
}

TEST(DnsMessage, JumpLimit) {
  // An unknown-type record whose rdata holds a root label and then 40
  // pointers, each to the one before; the next record's owner starts the chain.
  Msg c;
  c.header(1, 0x8000, 0, 2, 0, 0).u8(0);
  const size_t l = c.rr(kUnknownType);
  size_t last = c.size();
  c.u8(0);
  for (int i = 0; i < 40; ++i) {
    const size_t here = c.size();
    c.ptr(static_cast<unsigned>(last));
    last = here;
  }
  c.end_rdata(l);
  c.ptr(static_cast<unsigned>(last));
  const size_t al = c.rr(kTypeA);
  c.u32(0x01020304);
  c.end_rdata(al);

  DnsLimits limits;
  limits.max_name_jumps = 8;
  DnsMessage out;
  core::Anomalies an;
  EXPECT_EQ(parse(c, out, an, limits), ParseResult::kError);
  EXPECT_EQ(an.count(kAnomCompressionLoop), 1u);

  limits.max_name_jumps = 64;
  core::Anomalies an2;
  EXPECT_EQ(parse(c, out, an2, limits), ParseResult::kOk);
  ASSERT_EQ(out.answers.size(), 2u);
  EXPECT_EQ(out.answers[1].name, "");
  EXPECT_EQ(out.answers[1].rdata, "1.2.3.4");
}

TEST(DnsMessage, NameLengthLimit) {
  const std::string l63(63, 'a');
  const std::string l61(61, 'b');
  {
    // 3*64 + 62 + 1 = 255 wire bytes: the longest legal name (253 characters).
    Msg m;
    m.header(1, 0, 1, 0, 0, 0).labels(l63 + "." + l63 + "." + l63 + "." + l61).u8(0).u16(1).u16(1);
    DnsMessage out;
    core::Anomalies an;
    ASSERT_EQ(parse(m, out, an), ParseResult::kOk);
    EXPECT_EQ(out.questions[0].name.size(), 253u);
  }
  {
    // 256 wire bytes.
    Msg m;
    m.header(1, 0, 1, 0, 0, 0).labels(l63 + "." + l63 + "." + l63 + "." + l61 + "c").u8(0).u16(1).u16(1);
    DnsMessage out;
    core::Anomalies an;
    EXPECT_EQ(parse(m, out, an), ParseResult::kError);
    EXPECT_EQ(an.count(kAnomNameTooLong), 1u);
  }
  {
    // 256 characters of text, through compression.
    Msg m;
    m.header(1, 0x8000, 1, 1, 0, 0).labels(l63 + "." + l63 + "." + l63).u8(0).u16(1).u16(1);
    m.labels(l63).ptr(12).u16(1).u16(1).u32(0).u16(4).u32(0);
    DnsMessage out;
    core::Anomalies an;
    EXPECT_EQ(parse(m, out, an), ParseResult::kError);
    EXPECT_EQ(an.count(kAnomNameTooLong), 1u);
    EXPECT_EQ(out.questions.size(), 1u);
  }
}

TEST(DnsMessage, BadLabelType) {
  Msg m;
  m.header(1, 0, 1, 0, 0, 0).u8(0x41).u8('x').u8(0).u16(1).u16(1);
  DnsMessage out;
  core::Anomalies an;
  EXPECT_EQ(parse(m, out, an), ParseResult::kError);
  EXPECT_EQ(an.count(kAnomBadLabelType), 1u);
}

TEST(DnsMessage, NameInRdataOverflowsRdlength) {
  Msg m;
  m.header(1, 0x8000, 0, 2, 0, 0).u8(0);
  size_t l = m.rr(kTypeCname);
  m.labels("abc");
  m.end_rdata(l);  // rdlength 4, the name's root label lies outside
  m.u8(0);
  // The record after it still parses: rdlength lets the parser skip.
  m.u8(0);
  l = m.rr(kTypeA);
  m.u32(0x0a000001);
  m.end_rdata(l);
  DnsMessage out;
  core::Anomalies an;
  EXPECT_EQ(parse(m, out, an), ParseResult::kError);
  EXPECT_EQ(an.count(kAnomRdataOverflow), 1u);
}

TEST(DnsMessage, ZeroRecords) {
  Msg m;
  m.header(7, 0x8183, 0, 0, 0, 0);
  DnsMessage out;
  core::Anomalies an;
  EXPECT_EQ(parse(m, out, an), ParseResult::kOk);
  EXPECT_EQ(out.rcode, 3);
  EXPECT_TRUE(out.questions.empty());
  EXPECT_TRUE(out.answers.empty());
  EXPECT_EQ(an.total(), 0u);
}

TEST(DnsMessage, TcAndOtherFlags) {
  Msg m;
  m.header(7, 0xffff & 0xfff0u, 0, 0, 0, 0);  // every flag bit, opcode 15
  DnsMessage out;
  core::Anomalies an;
  EXPECT_EQ(parse(m, out, an), ParseResult::kOk);
  EXPECT_TRUE(out.flags.qr && out.flags.aa && out.flags.tc && out.flags.rd && out.flags.ra && out.flags.z &&
              out.flags.ad && out.flags.cd);
  EXPECT_EQ(out.flags.opcode, 15);
  Msg t;
  t.header(7, 0x8200, 0, 0, 0, 0);
  parse(t, out, an);
  EXPECT_TRUE(out.flags.tc);
  EXPECT_FALSE(out.flags.rd);
}

TEST(DnsMessage, EdnsExtendedRcode) {
  Msg m;
  m.header(9, 0x8001, 0, 0, 0, 1);                               // header rcode 1
  m.u8(0).u16(kTypeOpt).u16(4096).u32(0x01000000).u16(4).u32(0);  // ext rcode 1, DO off, one option
  DnsMessage out;
  core::Anomalies an;
  ASSERT_EQ(parse(m, out, an), ParseResult::kOk);
  EXPECT_TRUE(out.opt.present);
  EXPECT_EQ(out.opt.udp_payload_size, 4096);
  EXPECT_FALSE(out.opt.do_bit);
  EXPECT_EQ(out.rcode, (1 << 4) | 1);  // 17
  EXPECT_TRUE(out.additional.empty());
}

TEST(DnsMessage, TooManyRecords) {
  Msg m;
  m.header(1, 0x8000, 0, 5, 0, 0);
  for (int i = 0; i < 5; ++i) {
    m.u8(0);
    const size_t l = m.rr(kTypeA);
    m.u32(static_cast<uint32_t>(i));
    m.end_rdata(l);
  }
  DnsLimits limits;
  limits.max_records_per_section = 2;
  DnsMessage out;
  core::Anomalies an;
  EXPECT_EQ(parse(m, out, an, limits), ParseResult::kPartial);
  EXPECT_EQ(out.answers.size(), 2u);
  EXPECT_EQ(an.count(kAnomTooManyRecords), 1u);
}

TEST(DnsMessage, TxtLimit) {
  Msg m;
  m.header(1, 0x8000, 0, 1, 0, 0).u8(0);
  const size_t l = m.rr(kTypeTxt);
  m.label(std::string(200, 'x')).label(std::string(200, 'y'));
  m.end_rdata(l);
  DnsLimits limits;
  limits.max_txt_bytes = 300;
  DnsMessage out;
  core::Anomalies an;
  EXPECT_EQ(parse(m, out, an, limits), ParseResult::kPartial);
  ASSERT_EQ(out.answers.size(), 1u);
  EXPECT_EQ(out.answers[0].txt.size(), 1u);
  EXPECT_EQ(an.count(kAnomTxtTooLong), 1u);
}

TEST(DnsMessage, OddBytesEscapedLikeZeek) {
  Msg m;
  m.header(1, 0, 1, 0, 0, 0).label(std::string("A\x01") + "\xff" + "b").label("COM").u8(0).u16(1).u16(1);
  DnsMessage out;
  core::Anomalies an;
  ASSERT_EQ(parse(m, out, an), ParseResult::kOk);
  EXPECT_EQ(out.questions[0].name, "a\\x01\\xffb.com");
}

TEST(DnsMessage, QuestionNameLoweredAndOriginal) {
  // The question keeps the name twice (lowered and as sent) in one pass; a
  // record name (through a pointer) only lowered.
  Msg m;
  m.header(1, 0x8000, 1, 1, 0, 0).label(std::string("WwW\x7f")).label("Ex ample").label("COM").u8(0).u16(1).u16(1);
  m.ptr(12).u16(1).u16(1).u32(0).u16(4).u32(0x01020304);
  DnsMessage out;
  core::Anomalies an;
  ASSERT_EQ(parse(m, out, an), ParseResult::kOk);
  EXPECT_EQ(out.questions[0].name, "www\\x7f.ex ample.com");
  EXPECT_EQ(out.questions[0].original, "WwW\\x7f.Ex ample.COM");
  ASSERT_EQ(out.answers.size(), 1u);
  EXPECT_EQ(out.answers[0].name, "www\\x7f.ex ample.com");
}

TEST(DnsMessage, LongestNameAllEscaped) {
  // 255 wire bytes of bytes that are all escaped: the most text a name can
  // have (4 characters per byte), in both forms.
  const std::string l63(63, '\xff');
  const std::string l61(61, '\x01');
  Msg m;
  m.header(1, 0, 1, 0, 0, 0).label(l63).label(l63).label(l63).label(l61).u8(0).u16(1).u16(1);
  DnsMessage out;
  core::Anomalies an;
  ASSERT_EQ(parse(m, out, an), ParseResult::kOk);
  std::string want;
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 63; ++k) want += "\\xff";
    want += '.';
  }
  for (int k = 0; k < 61; ++k) want += "\\x01";
  EXPECT_EQ(want.size(), 4u * 250 + 3);
  EXPECT_EQ(out.questions[0].name, want);
  EXPECT_EQ(out.questions[0].original, want);
}

TEST(DnsMessage, RdataLengthMismatch) {
  Msg m;
  m.header(1, 0x8000, 0, 1, 0, 0).u8(0);
  const size_t l = m.rr(kTypeA);
  m.u8(1).u8(2).u8(3);
  m.end_rdata(l);
  DnsMessage out;
  core::Anomalies an;
  EXPECT_EQ(parse(m, out, an), ParseResult::kError);
  EXPECT_EQ(an.count(kAnomRdataLengthMismatch), 1u);
  ASSERT_EQ(out.answers.size(), 1u);
  EXPECT_EQ(out.answers[0].rdata, "");
}

TEST(DnsMessage, Garbage) {
  uint32_t x = 12345;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> buf(static_cast<size_t>(iter % 300));
    for (auto& b : buf) {
      x = x * 1103515245u + 12345u;
      b = static_cast<uint8_t>(x >> 16);
    }
    DnsMessage out;
    core::Anomalies an;
    const ParseResult r = parse_dns_message({buf.data(), buf.size()}, out, an);
    if (buf.size() < 12) {
      EXPECT_EQ(r, ParseResult::kError);
    }
    EXPECT_LE(out.answers.size(), 256u);
  }
  Msg m;
  m.header(1, 0, 0xffff, 0xffff, 0xffff, 0xffff);
  DnsMessage out;
  core::Anomalies an;
  EXPECT_EQ(parse(m, out, an), ParseResult::kPartial);
  EXPECT_EQ(an.count(kAnomTruncated), 1u);
}

TEST(DnsMessage, DnssecAndSpfRenderedAsZeek) {
  Msg m;
  m.header(7, 0x8180, 1, 7, 0, 0);
  m.name("example.com").u16(kTypeDnskey).u16(1);
  m.ptr(12);
  size_t l = m.rr(kTypeRrsig);
  m.u16(kTypeA).u8(13).u8(2).u32(300).u32(2).u32(1).u16(4711).ptr(12).u8(0xaa).u8(0xbb);
  m.end_rdata(l);
  m.ptr(12);
  l = m.rr(kTypeRrsig);  // signed by the root
  m.u16(kTypeNs).u8(8).u8(0).u32(300).u32(2).u32(1).u16(1).u8(0).u8(0xcc);
  m.end_rdata(l);
  m.ptr(12);
  l = m.rr(kTypeDnskey);
  m.u16(257).u8(3).u8(13).u8(1).u8(2);
  m.end_rdata(l);
  m.ptr(12);
  l = m.rr(kTypeDs);
  m.u16(4711).u8(8).u8(2).u8(0xde).u8(0xad);
  m.end_rdata(l);
  m.ptr(12);
  l = m.rr(kTypeNsec);
  m.labels("a").ptr(12).u8(0).u8(1).u8(0x40);
  m.end_rdata(l);
  m.ptr(12);
  l = m.rr(kTypeSpf);
  m.label("v=spf1 ~all");
  m.end_rdata(l);
  m.ptr(12);
  l = m.rr(kTypeDs);  // too short for its fixed fields
  m.u8(1);
  m.end_rdata(l);

  DnsMessage out;
  core::Anomalies an;
  EXPECT_EQ(parse(m, out, an), ParseResult::kError);  // the short DS
  EXPECT_EQ(an.count(kAnomRdataLengthMismatch), 1u);
  ASSERT_EQ(out.answers.size(), 7u);
  EXPECT_EQ(out.answers[0].rdata, "RRSIG 1 example.com");
  EXPECT_EQ(out.answers[1].rdata, "RRSIG 2 <Root>");
  EXPECT_EQ(out.answers[2].rdata, "DNSKEY 13");
  EXPECT_EQ(out.answers[3].rdata, "DS 8 2");
  EXPECT_EQ(out.answers[4].rdata, "NSEC example.com a.example.com");
  EXPECT_EQ(out.answers[5].rdata, "SPF 11 v=spf1 ~all");
  EXPECT_EQ(out.answers[6].rdata, "");
}

TEST(DnsMessage, ReusedMessageIsReset) {
  DnsMessage out;
  core::Anomalies an;
  ASSERT_EQ(parse(full_response(), out, an), ParseResult::kOk);
  ASSERT_FALSE(out.answers.empty());
  Msg q;
  q.header(9, 0x0100, 1, 0, 0, 0).name("Second.example").u16(kTypeTxt).u16(1);
  ASSERT_EQ(parse(q, out, an), ParseResult::kOk);
  EXPECT_EQ(out.id, 9);
  EXPECT_FALSE(out.flags.qr);
  EXPECT_FALSE(out.opt.present);
  EXPECT_EQ(out.rcode, 0);
  EXPECT_TRUE(out.answers.empty());
  EXPECT_TRUE(out.authority.empty());
  EXPECT_TRUE(out.additional.empty());
  ASSERT_EQ(out.questions.size(), 1u);
  EXPECT_EQ(out.questions[0].name, "second.example");
  EXPECT_EQ(out.questions[0].original, "Second.example");
}

TEST(DnsMessage, TcpFraming) {
  const std::vector<uint8_t> s = {0x00, 0x03, 1, 2, 3, 0x00};
  EXPECT_EQ(dns_tcp_message_length({s.data(), 0}), 0u);
  EXPECT_EQ(dns_tcp_message_length({s.data(), 1}), 0u);
  EXPECT_EQ(dns_tcp_message_length({s.data(), 4}), 0u);
  EXPECT_EQ(dns_tcp_message_length({s.data(), 5}), 5u);
  EXPECT_EQ(dns_tcp_message_length({s.data(), 6}), 5u);
  const std::vector<uint8_t> empty = {0, 0};
  EXPECT_EQ(dns_tcp_message_length({empty.data(), empty.size()}), 2u);
}

// UDP port-53 payloads of a classic pcap with Ethernet/IPv4 frames.
std::vector<std::vector<uint8_t>> dns_payloads(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  const std::vector<uint8_t> d((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::vector<uint8_t>> out;
  if (d.size() < 24 || core::load_le32(d.data()) != 0xa1b2c3d4u || core::load_le32(d.data() + 20) != 1) return out;
  size_t pos = 24;
  while (d.size() - pos >= 16) {
    const size_t caplen = core::load_le32(d.data() + pos + 8);
    pos += 16;
    if (caplen > d.size() - pos) break;
    const uint8_t* p = d.data() + pos;
    pos += caplen;
    if (caplen < 14 + 20 + 8 || core::load_be16(p + 12) != 0x0800) continue;
    const uint8_t* ip = p + 14;
    const size_t ihl = size_t{ip[0] & 0x0fu} * 4;
    if (ip[9] != 17 || caplen < 14 + ihl + 8) continue;
    const uint8_t* udp = ip + ihl;
    if (core::load_be16(udp) != 53 && core::load_be16(udp + 2) != 53) continue;
    const size_t udp_len = core::load_be16(udp + 4);
    const size_t avail = caplen - 14 - ihl;
    if (udp_len < 8 || udp_len > avail) continue;
    out.emplace_back(udp + 8, udp + udp_len);
  }
  return out;
}

TEST(DnsMessage, MatchesTsharkOnRealCapture) {
  // tshark -r wikipedia_browse_zeek.pcap -Y dns -T fields -e dns.qry.name -e dns.flags.rcode
  // (rcode is empty for queries; written here as -1)
  const std::vector<std::pair<std::string, int>> want = {
      {"upload.wikimedia.org", -1}, {"upload.wikimedia.org", 0},
      {"upload.wikimedia.org.ncsa.uiuc.edu", -1}, {"upload.wikimedia.org.ncsa.uiuc.edu", 3},
      {"upload.wikimedia.org", -1}, {"upload.wikimedia.org", 0},
      {"upload.wikimedia.org", -1}, {"upload.wikimedia.org", 0},
      {"upload.wikimedia.org.ncsa.uiuc.edu", -1}, {"upload.wikimedia.org.ncsa.uiuc.edu", 3},
      {"upload.wikimedia.org", -1}, {"upload.wikimedia.org", 0},
      {"upload.wikimedia.org", -1}, {"upload.wikimedia.org", 0},
      {"upload.wikimedia.org.ncsa.uiuc.edu", -1}, {"upload.wikimedia.org.ncsa.uiuc.edu", 3},
      {"upload.wikimedia.org", -1}, {"upload.wikimedia.org", 0},
      {"upload.wikimedia.org", -1}, {"upload.wikimedia.org", 0},
      {"upload.wikimedia.org.ncsa.uiuc.edu", -1}, {"upload.wikimedia.org.ncsa.uiuc.edu", 3},
      {"upload.wikimedia.org", -1}, {"upload.wikimedia.org", 0},
      {"meta.wikimedia.org", -1}, {"meta.wikimedia.org", 0},
      {"meta.wikimedia.org", -1}, {"meta.wikimedia.org", 0},
  };
  // tshark -r wikipedia_browse_zeek.pcap -Y dns -T fields -e dns.qry.type -e dns.count.answers
  const std::vector<std::pair<int, int>> want_type_answers = {
      {28, 0}, {28, 0}, {28, 0}, {28, 0}, {1, 0}, {1, 2}, {28, 0}, {28, 0}, {28, 0}, {28, 0},
      {1, 0},  {1, 2},  {28, 0}, {28, 0}, {28, 0}, {28, 0}, {1, 0}, {1, 2}, {28, 0}, {28, 0},
      {28, 0}, {28, 0}, {1, 0},  {1, 2},  {28, 0}, {28, 2}, {1, 0}, {1, 3},
  };
  const auto payloads = dns_payloads(std::string(TRAWL_SHARED_PCAPS) + "/benign/wikipedia_browse_zeek.pcap");
  if (payloads.empty()) GTEST_SKIP() << "shared capture not available";
  std::vector<std::pair<std::string, int>> got;
  std::vector<std::pair<int, int>> got_type_answers;
  for (const auto& p : payloads) {
    DnsMessage out;
    core::Anomalies an;
    EXPECT_EQ(parse_dns_message({p.data(), p.size()}, out, an), ParseResult::kOk);
    EXPECT_EQ(an.total(), 0u);
    ASSERT_EQ(out.questions.size(), 1u);
    got.emplace_back(out.questions[0].name, out.flags.qr ? int{out.rcode} : -1);
    got_type_answers.emplace_back(out.questions[0].qtype, static_cast<int>(out.answers.size()));
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(got_type_answers, want_type_answers);
}

}  // namespace
}  // namespace trawl::analyzers::dns

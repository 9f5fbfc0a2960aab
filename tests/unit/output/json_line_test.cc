#include "output/json_line.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <climits>
#include <cstdio>
#include <random>
#include <vector>

#include "output/records.h"

namespace trawl::output {

TEST(JsonLine, EscapesHostileStrings) {
  std::string out;
  append_json_string(out, std::string_view("a\"b\\c\n\x01\x7f", 8));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\\u007f\"");
  out.clear();
  append_json_string(out, "caf\xc3\xa9");  // valid UTF-8 kept
  EXPECT_EQ(out, "\"caf\xc3\xa9\"");
  out.clear();
  append_json_string(out, "\xff\xc3");  // invalid bytes escaped one by one
  EXPECT_EQ(out, "\"\\u00ff\\u00c3\"");
  out.clear();
  append_json_string(out, "\xed\xa0\x80");  // UTF-16 surrogate encoded in UTF-8 is invalid
  EXPECT_EQ(out, "\"\\u00ed\\u00a0\\u0080\"");
}

namespace {

// The byte-at-a-time escaper JsonLine used before its eight-byte scan: the
// fast path must give exactly this text.
std::string reference_escape(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if (c == '"') { out += "\\\""; ++i; continue; }
    if (c == '\\') { out += "\\\\"; ++i; continue; }
    if (c == '\n') { out += "\\n"; ++i; continue; }
    if (c == '\r') { out += "\\r"; ++i; continue; }
    if (c == '\t') { out += "\\t"; ++i; continue; }
    size_t n = 0;
    if (c >= 0x80) {
      uint32_t min = 0;
      if ((c & 0xe0) == 0xc0) { n = 2; min = 0x80; }
      else if ((c & 0xf0) == 0xe0) { n = 3; min = 0x800; }
      else if ((c & 0xf8) == 0xf0) { n = 4; min = 0x10000; }
      if (n != 0 && i + n <= s.size()) {
        uint32_t cp = c & (0xffu >> (n + 1));
        for (size_t k = 1; k < n && n != 0; ++k) {
          auto b = static_cast<uint8_t>(s[i + k]);
          if ((b & 0xc0) != 0x80) n = 0;
          else cp = (cp << 6) | (b & 0x3fu);
        }
        if (n != 0 && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) n = 0;
      } else {
        n = 0;
      }
    }
    if (n > 0) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\u%04x", c);
    out += hex;
    ++i;
  }
  out.push_back('"');
  return out;
}

std::string escaped(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

}  // namespace

TEST(JsonLine, EscapesEveryByteValueAtEveryBlockOffset) {
  // Each byte value at each of the sixteen offsets of a 24-byte string, so the
  // eight-byte scan meets it in a whole block, at a block's edge and in the tail.
  for (int c = 0; c < 256; ++c) {
    for (size_t at = 0; at < 16; ++at) {
      std::string s(24, 'a');
      s[at] = static_cast<char>(c);
      ASSERT_EQ(escaped(s), reference_escape(s)) << "byte " << c << " at " << at;
    }
  }
}

TEST(JsonLine, EscapesEveryPairOfAdjacentBytes) {
  // Two neighbours in one block: the borrow or carry of the first must not
  // hide or invent the second (0xff then 0xfe, 0x1f then 0x20, ...).
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      std::string s = "abc";
      s.push_back(static_cast<char>(a));
      s.push_back(static_cast<char>(b));
      s += "defghijk";
      ASSERT_EQ(escaped(s), reference_escape(s)) << a << " " << b;
    }
  }
}

TEST(JsonLine, EscapesControlBytesExactly) {
  EXPECT_EQ(escaped(std::string_view("abcdefgh\x00ijklmnop\x1f", 18)),
            "\"abcdefgh\\u0000ijklmnop\\u001f\"");
  EXPECT_EQ(escaped("0123456\b\f\x7f" "0123456789"), "\"0123456\\u0008\\u000c\\u007f0123456789\"");
  EXPECT_EQ(escaped("tab\there \"quoted\" back\\slash\r\n"),
            "\"tab\\there \\\"quoted\\\" back\\\\slash\\r\\n\"");
  EXPECT_EQ(escaped(""), "\"\"");
}

TEST(JsonLine, KeepsValidUtf8AndEscapesInvalidBytesInLongStrings) {
  // A 4-byte sequence across the first block boundary, then a truncated one.
  EXPECT_EQ(escaped("abcdef\xf0\x9f\x98\x80ghijklmn\xe2\x82"), "\"abcdef\xf0\x9f\x98\x80ghijklmn\\u00e2\\u0082\"");
  // Overlong encoding of '/' and a lone continuation byte, in a block.
  EXPECT_EQ(escaped("abcdefgh\xc0\xaf\x80stuvwxyz"), "\"abcdefgh\\u00c0\\u00af\\u0080stuvwxyz\"");
  // Code point above U+10FFFF.
  EXPECT_EQ(escaped("\xf4\x90\x80\x80" "12345678"), "\"\\u00f4\\u0090\\u0080\\u008012345678\"");
}

TEST(JsonLine, MatchesTheByteAtATimeEscaperOnRandomStrings) {
  std::mt19937 rng(7);
  // Mostly plain text with sprinkles of everything else, lengths around the
  // 512-byte chunk of append_json_string and the 1 KiB line buffer.
  const char* alphabet[] = {"a", "Z", " ", "\"", "\\", "\n", "\x01", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
                            "\xf0\x9f\x98\x80", "\xff", "\xc3", "\xed\xa0\x80"};
  for (int round = 0; round < 400; ++round) {
    std::string s;
    size_t len = rng() % 3000;
    while (s.size() < len) {
      auto r = rng() % 100;
      s += r < 80 ? alphabet[rng() % 3] : alphabet[rng() % std::size(alphabet)];
    }
    std::string want = reference_escape(s);
    ASSERT_EQ(escaped(s), want);
    for (auto mode : {JsonLine::Flush::kEachField, JsonLine::Flush::kAtEnd}) {
      std::string out = "x";
      {
        JsonLine j(out, mode);
        j.str("k", s).u64("n", 1).str("k2", s);
        j.end();
      }
      ASSERT_EQ(out, "x{\"k\":" + want + ",\"n\":1,\"k2\":" + want + "}\n");
    }
  }
}

TEST(JsonLine, WritesIntegers) {
  auto u = [](uint64_t v) {
    char buf[kU64TextMax];
    return std::string(buf, write_u64(buf, v));
  };
  auto i = [](int64_t v) {
    char buf[kU64TextMax + 1];
    return std::string(buf, write_i64(buf, v));
  };
  EXPECT_EQ(u(0), "0");
  EXPECT_EQ(u(9), "9");
  EXPECT_EQ(u(10), "10");
  EXPECT_EQ(u(99), "99");
  EXPECT_EQ(u(100), "100");
  EXPECT_EQ(u(65535), "65535");
  EXPECT_EQ(u(18446744073709551615ull), "18446744073709551615");
  EXPECT_EQ(u(10000000000000000000ull), "10000000000000000000");
  EXPECT_EQ(u(9999999999999999999ull), "9999999999999999999");
  uint64_t p = 1;
  for (int k = 0; k < 20; ++k, p *= 10) {
    EXPECT_EQ(u(p), std::to_string(p));
    EXPECT_EQ(u(p - 1), std::to_string(p - 1));
    if (k < 19) {
      EXPECT_EQ(u(p * 10 - 1), std::to_string(p * 10 - 1));
    }
  }
  EXPECT_EQ(i(0), "0");
  EXPECT_EQ(i(-1), "-1");
  EXPECT_EQ(i(-10), "-10");
  EXPECT_EQ(i(INT64_MIN), "-9223372036854775808");
  EXPECT_EQ(i(INT64_MAX), "9223372036854775807");
}

TEST(JsonLine, WritesAddressesAsToString) {
  auto text = [](const char* a) {
    char buf[kIpJsonMax];
    auto ip = *core::IpAddress::parse(a);
    return std::string(buf, write_ip_json(buf, ip));
  };
  EXPECT_EQ(text("0.0.0.0"), "\"0.0.0.0\"");
  EXPECT_EQ(text("255.255.255.255"), "\"255.255.255.255\"");
  EXPECT_EQ(text("1.10.100.9"), "\"1.10.100.9\"");
  EXPECT_EQ(text("192.168.0.99"), "\"192.168.0.99\"");
  EXPECT_EQ(text("2001:db8::1"), "\"2001:db8::1\"");
  EXPECT_EQ(text("::"), "\"::\"");
  EXPECT_EQ(text("::ffff:192.0.2.1"), "\"::ffff:192.0.2.1\"");
  EXPECT_EQ(text("fe80::1:2:3:4:5"), "\"fe80::1:2:3:4:5\"");
  EXPECT_EQ(text("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "\"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\"");
  for (unsigned v = 0; v < 256; ++v) {
    uint8_t b[4] = {static_cast<uint8_t>(v), 7, static_cast<uint8_t>(255 - v), static_cast<uint8_t>(v / 3)};
    auto a = core::IpAddress::v4(b);
    char buf[kIpJsonMax];
    ASSERT_EQ(std::string(buf, write_ip_json(buf, a)), "\"" + a.to_string() + "\"");
  }
}

TEST(JsonLine, WritesIpv6AsInetNtop) {
  // Every pattern of four word values over the eight words (zero runs of each
  // length and place, IPv4-compatible and -mapped forms), against inet_ntop.
  const unsigned values[4] = {0, 1, 0xffff, 0x0a0b};
  for (unsigned pattern = 0; pattern < 65536; ++pattern) {
    uint8_t b[16];
    for (size_t w = 0; w < 8; ++w) {
      unsigned v = values[(pattern >> (2 * w)) & 3];
      b[2 * w] = static_cast<uint8_t>(v >> 8);
      b[2 * w + 1] = static_cast<uint8_t>(v);
    }
    char want[INET6_ADDRSTRLEN];
    ASSERT_TRUE(inet_ntop(AF_INET6, b, want, sizeof want));
    char buf[kIpJsonMax];
    std::string got(buf, write_ip_json(buf, core::IpAddress::v6(b)));
    ASSERT_EQ(got, "\"" + std::string(want) + "\"") << pattern;
  }
  std::mt19937 rng(11);
  for (int round = 0; round < 20000; ++round) {
    uint8_t b[16];
    for (auto& x : b) x = static_cast<uint8_t>(rng() % 4 == 0 ? rng() : 0);
    char want[INET6_ADDRSTRLEN];
    ASSERT_TRUE(inet_ntop(AF_INET6, b, want, sizeof want));
    char buf[kIpJsonMax];
    ASSERT_EQ(std::string(buf, write_ip_json(buf, core::IpAddress::v6(b))), "\"" + std::string(want) + "\"");
  }
  auto text = [](const char* a) {
    char buf[kIpJsonMax];
    return std::string(buf, write_ip_json(buf, *core::IpAddress::parse(a)));
  };
  EXPECT_EQ(text("::1"), "\"::1\"");
  EXPECT_EQ(text("::1.2.3.4"), "\"::1.2.3.4\"");
  EXPECT_EQ(text("::ffff:0.0.0.0"), "\"::ffff:0.0.0.0\"");
  EXPECT_EQ(text("1:0:0:2:0:0:0:3"), "\"1:0:0:2::3\"");
  EXPECT_EQ(text("1:0:0:2:0:0:3:4"), "\"1::2:0:0:3:4\"");  // first of equal runs
  EXPECT_EQ(text("1:0:2:3:4:5:6:7"), "\"1:0:2:3:4:5:6:7\"");  // one zero word stays
  EXPECT_EQ(text("2001:db8::"), "\"2001:db8::\"");
  EXPECT_EQ(text("abcd:ef01:2345:6789:abcd:ef01:2345:6789"), "\"abcd:ef01:2345:6789:abcd:ef01:2345:6789\"");
}

TEST(JsonLine, FieldKindsAndArrays) {
  std::string out;
  JsonLine j(out, JsonLine::Flush::kAtEnd);
  std::vector<std::string> list = {"a\"b", "", "c"};
  j.ts("ts", core::Timestamp{-1500})
      .micros("d", INT64_MAX)
      .ip("h", *core::IpAddress::parse("10.0.0.1"))
      .boolean("t", true)
      .boolean("f", false)
      .str_list("l", list)
      .str_list("e", std::span<const std::string>())
      .begin_array("m")
      .add_raw("1.0")
      .add_str("x")
      .end_array()
      .i64("i", -7);
  EXPECT_EQ(out, "");  // kAtEnd: nothing before end()
  j.end();
  EXPECT_EQ(out,
            "{\"ts\":-0.000002,\"d\":9223372036.854776,\"h\":\"10.0.0.1\",\"t\":true,\"f\":false,"
            "\"l\":[\"a\\\"b\",\"\",\"c\"],\"e\":[],\"m\":[1.0,\"x\"],\"i\":-7}\n");
}

TEST(JsonLine, EachFieldModeAppendsAtOnce) {
  // Callers may append to the string between fields (the sinkhole does).
  std::string out;
  JsonLine j(out);
  EXPECT_EQ(out, "{");
  j.u64("a", 1);
  EXPECT_EQ(out, "{\"a\":1");
  out += ",\"raw\":2";
  j.str("b", "x").end_object();
  EXPECT_EQ(out, "{\"a\":1,\"raw\":2,\"b\":\"x\"}");
}

TEST(JsonLine, LongKeysAndValuesCrossTheBuffer) {
  const std::string key(300, 'k');
  const std::string raw = "[" + std::string(3000, '1') + "]";
  std::string want = "{\"" + key + "\":1";
  for (int n = 0; n < 60; ++n) want += ",\"field" + std::to_string(n) + "\":\"" + std::string(static_cast<size_t>(n), 'v') + "\"";
  want += ",\"raw\":" + raw + ",\"" + key + "\":\"\"}\n";
  for (auto mode : {JsonLine::Flush::kEachField, JsonLine::Flush::kAtEnd}) {
    std::string out;
    JsonLine j(out, mode);
    j.u64(key, 1);
    for (int n = 0; n < 60; ++n) j.str("field" + std::to_string(n), std::string(static_cast<size_t>(n), 'v'));
    j.raw("raw", raw).str(key, "");
    j.end();
    EXPECT_EQ(out, want);
  }
}

TEST(JsonLine, FlushesAtDestructionWithoutEnd) {
  std::string out;
  {
    JsonLine j(out, JsonLine::Flush::kAtEnd);
    j.u64("a", 1);
  }
  EXPECT_EQ(out, "{\"a\":1");
}

TEST(JsonLine, BuildsObjects) {
  std::string out;
  JsonLine(out).str("a", "x").u64("n", 18446744073709551615ull).i64("m", -5).boolean("b", true).raw("r", "[1]").end();
  EXPECT_EQ(out, "{\"a\":\"x\",\"n\":18446744073709551615,\"m\":-5,\"b\":true,\"r\":[1]}\n");
}

TEST(Records, ConnJsonHasZeekFields) {
  flow::ConnRecord r;
  r.ts = core::Timestamp::from_sec_nsec(1700000000, 123456789);
  r.uid = "CAbCdEfGhIjKlMnOpQ";
  r.orig_h = *core::IpAddress::parse("192.0.2.1");
  r.resp_h = *core::IpAddress::parse("198.51.100.2");
  r.orig_p = 40000;
  r.resp_p = 80;
  r.proto = 6;
  r.duration_ns = 2500000;
  r.has_duration = true;
  r.conn_state = flow::ConnState::kSF;
  r.history = "ShADadFf";
  // Flags as that history tells them (S; S A D F; H a d f): the line leaves
  // them out (docs/conn.md).
  r.orig_first_flags = 0x02;
  r.orig_flags = 0x1b;
  r.resp_flags = 0x1b;
  r.community_id = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";
  r.has_vlan = true;
  r.vlan = 100;
  std::string out;
  append_conn_json(r, out);
  r.has_duration = false;
  std::string single;
  append_conn_json(r, single);
  EXPECT_EQ(single.find("duration"), std::string::npos);
  EXPECT_EQ(single.find("orig_bytes"), std::string::npos);
  EXPECT_EQ(out,
            "{\"ts\":1700000000.123457,\"uid\":\"CAbCdEfGhIjKlMnOpQ\",\"id.orig_h\":\"192.0.2.1\",\"id.orig_p\":40000,"
            "\"id.resp_h\":\"198.51.100.2\",\"id.resp_p\":80,\"proto\":\"tcp\",\"duration\":0.002500,"
            "\"orig_bytes\":0,\"resp_bytes\":0,\"conn_state\":\"SF\",\"missed_bytes\":0,\"history\":\"ShADadFf\","
            "\"orig_pkts\":0,\"orig_ip_bytes\":0,\"resp_pkts\":0,\"resp_ip_bytes\":0,"
            "\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\",\"vlan\":100}\n");
}

TEST(Records, ArpJson) {
  ArpRecord a;
  a.ts = core::Timestamp::from_sec_nsec(5, 0);
  a.op = 1;
  a.sender_mac = {0, 0x11, 0x22, 0x33, 0x44, 0xff};
  a.sender_ip = *core::IpAddress::parse("192.168.1.1");
  a.target_ip = *core::IpAddress::parse("192.168.1.2");
  std::string out;
  append_arp_json(a, out);
  EXPECT_EQ(out,
            "{\"ts\":5.000000,\"op\":\"request\",\"opcode\":1,\"src_mac\":\"00:00:00:00:00:00\","
            "\"sender_mac\":\"00:11:22:33:44:ff\",\"sender_ip\":\"192.168.1.1\",\"target_mac\":\"00:00:00:00:00:00\","
            "\"target_ip\":\"192.168.1.2\"}\n");
}

}  // namespace trawl::output

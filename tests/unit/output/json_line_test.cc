#include "output/json_line.h"

#include <gtest/gtest.h>

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

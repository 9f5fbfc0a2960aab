// The JSONL record source (cases without case.db), open_source's dispatch,
// and replaying stored records into the detectors (what `trawl hunt` does):
// the same findings as feeding the typed records directly.
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "analyzers/dns/dns_log_record.h"
#include "detect/detector.h"
#include "store/jsonl_source.h"
#include "store/record_json.h"
#include "store/sink.h"

namespace trawl::store {
namespace {

namespace fs = std::filesystem;

class HuntTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("trawl_hunt_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  fs::path dir_;
};

core::IpAddress ip(const std::string& s) { return *core::IpAddress::parse(s); }

// A SYN scan of `ports` ports of one host, every probe unanswered, plus one
// finished conversation.
std::vector<flow::ConnRecord> syn_scan(int ports) {
  std::vector<flow::ConnRecord> out;
  for (int i = 0; i < ports; ++i) {
    flow::ConnRecord c;
    c.ts = core::Timestamp{1700000000000000000 + int64_t{i} * 10'000'000};
    c.last_ts = c.ts;
    c.uid = "Cscan" + std::to_string(i);
    c.orig_h = ip("10.0.0.5");
    c.orig_p = 40000;
    c.resp_h = ip("10.0.0.9");
    c.resp_p = static_cast<uint16_t>(1 + i);
    c.proto = 6;
    c.conn_state = flow::ConnState::kS0;
    c.history = "S";
    c.orig_pkts = 1;
    c.orig_ip_bytes = 44;
    c.community_id = "1:x";
    c.orig_first_flags = 0x02;
    c.orig_flags = 0x02;
    out.push_back(c);
  }
  return out;
}

std::vector<std::string> run_direct(const std::vector<flow::ConnRecord>& conns, detect::Config& cfg) {
  detect::DetectorSet set(cfg);
  for (const auto& c : conns) set.on_conn(c);
  std::vector<std::string> out;
  for (const auto& f : set.finish()) {
    out.emplace_back();
    detect::append_finding_json(f, out.back());
  }
  return out;
}

std::vector<std::string> run_replay(RecordSource& src, detect::Config& cfg) {
  detect::DetectorSet set(cfg);
  TypedRecord t;
  std::string err;
  EXPECT_TRUE(src.for_each(
      [&](std::string_view log, std::string_view line) {
        std::string perr;
        ASSERT_TRUE(typed_from_json(log, line, t, perr)) << perr;
        if (t.kind == TypedRecord::Kind::kConn) set.on_conn(t.conn);
        if (t.kind == TypedRecord::Kind::kArp) set.on_arp(t.arp);
        if (t.kind == TypedRecord::Kind::kAnalyzer) set.on_record(*t.record);
      },
      err))
      << err;
  std::vector<std::string> out;
  for (const auto& f : set.finish()) {
    out.emplace_back();
    detect::append_finding_json(f, out.back());
  }
  return out;
}

TEST_F(HuntTest, ReplayGivesTheSameFindingsAndThresholdsApply) {
  auto conns = syn_scan(30);
  std::string text;
  for (const auto& c : conns) output::append_conn_json(c, text);
  write("conn.jsonl", text);
  std::string err;
  auto src = open_source(dir_.string(), err);
  ASSERT_NE(src, nullptr) << err;

  detect::Config direct_cfg, replay_cfg;
  auto direct = run_direct(conns, direct_cfg);
  auto replay = run_replay(*src, replay_cfg);
  ASSERT_EQ(direct.size(), 1u);
  EXPECT_NE(direct[0].find("\"id\":\"scan.tcp_syn\""), std::string::npos) << direct[0];
  EXPECT_EQ(replay, direct);

  // Over the threshold of 30 ports: no scan any more (as --set scan.min_ports=31).
  detect::Config high;
  high.set("scan.min_ports", 31);
  EXPECT_TRUE(run_replay(*src, high).empty());
}

TEST_F(HuntTest, MergesLogsInEmissionOrder) {
  // conn: one connection 1.0 to 5.0 (ends at 5), one at 2.0 (no duration).
  write("conn.jsonl",
        "{\"ts\":1.000000,\"uid\":\"Ca\",\"duration\":4.000000}\n"
        "{\"ts\":2.000000,\"uid\":\"Cb\"}\n");
  write("dns.jsonl", "{\"ts\":1.500000,\"uid\":\"Ca\"}\n{\"ts\":5.000000,\"uid\":\"Cc\"}\n\n");
  write("arp.jsonl", "{\"ts\":5.000000,\"op\":\"request\"}\n");
  std::string err;
  auto src = open_jsonl_source(dir_.string(), err);
  ASSERT_NE(src, nullptr) << err;
  std::vector<std::string> got;
  ASSERT_TRUE(src->for_each(
      [&](std::string_view log, std::string_view line) {
        got.push_back(std::string(log) + " " + std::string(line.substr(6, 8)));
      },
      err))
      << err;
  // Connection Cb is in the file after Ca: a log's own order is kept.
  std::vector<std::string> want = {"dns 1.500000", "arp 5.000000", "dns 5.000000", "conn 1.000000", "conn 2.000000"};
  EXPECT_EQ(got, want);
}

TEST_F(HuntTest, InputsAndFindingsOfAJsonlCase) {
  write("conn.jsonl", "");
  write("stats.json",
        "{\"inputs\":[\"/cases/a \\\"b\\\".pcap\",\"rel/c.pcapng\"],\"packets\":3,\"records\":{\"dns\":1}}\n");
  write("findings.jsonl", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
  std::string err;
  auto src = open_source(dir_.string(), err);
  ASSERT_NE(src, nullptr) << err;
  std::vector<InputInfo> inputs;
  ASSERT_TRUE(src->inputs(inputs, err)) << err;
  ASSERT_EQ(inputs.size(), 2u);
  EXPECT_EQ(inputs[0].path, "/cases/a \"b\".pcap");
  EXPECT_EQ(inputs[1].path, "rel/c.pcapng");
  std::vector<std::string> findings;
  ASSERT_TRUE(src->findings(findings, err)) << err;
  EXPECT_EQ(findings, (std::vector<std::string>{"{\"id\":\"a\"}", "{\"id\":\"b\"}"}));
}

TEST_F(HuntTest, OpenSourceRefusesWhatIsNotACase) {
  std::string err;
  EXPECT_EQ(open_source((dir_ / "missing").string(), err), nullptr);
  EXPECT_NE(err.find("no such case"), std::string::npos) << err;
  err.clear();
  EXPECT_EQ(open_source(dir_.string(), err), nullptr);  // a folder without records
  EXPECT_NE(err.find("not a case folder"), std::string::npos) << err;
}

TEST_F(HuntTest, OverlongLineIsReportedNotRead) {
  std::string big(kMaxJsonLine + 10, 'x');
  write("conn.jsonl", "{\"ts\":1.000000}\n" + big + "\n{\"ts\":2.000000}\n");
  std::string err;
  auto src = open_jsonl_source(dir_.string(), err);
  ASSERT_NE(src, nullptr);
  int n = 0;
  EXPECT_FALSE(src->for_each([&](std::string_view, std::string_view) { ++n; }, err));
  EXPECT_EQ(n, 1);
  EXPECT_NE(err.find("conn.jsonl:2: line longer"), std::string::npos) << err;
}

TEST(ReplayKey, ConnectionsCountFromTheirEnd) {
  ReplayKey k;
  ASSERT_TRUE(replay_key("conn", "{\"ts\":10.5,\"duration\":2.25}", k));
  EXPECT_EQ(k.ns, 12'750'000'000);
  EXPECT_EQ(k.rank, 2);
  ASSERT_TRUE(replay_key("arp", "{\"ts\":-1.000001}", k));
  EXPECT_EQ(k.ns, -1'000'001'000);
  EXPECT_EQ(k.rank, 0);
  EXPECT_FALSE(replay_key("dns", "{\"uid\":\"C\"}", k));
}

}  // namespace
}  // namespace trawl::store

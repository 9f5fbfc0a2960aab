#include "app/engine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "capture/pcap_writer.h"

namespace trawl::app {

namespace {

// An Ethernet/IPv4/UDP frame from 10.0.0.1 to 10.0.0.2 (or back, when reply).
std::vector<uint8_t> udp_frame(uint16_t sport, uint16_t dport, bool reply = false) {
  uint8_t a = reply ? 2 : 1;
  uint8_t b = reply ? 1 : 2;
  std::vector<uint8_t> f = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00,
                            0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, a, 10, 0, 0, b,
                            static_cast<uint8_t>(sport >> 8), static_cast<uint8_t>(sport),
                            static_cast<uint8_t>(dport >> 8), static_cast<uint8_t>(dport), 0, 12, 0, 0,
                            'a', 'b', 'c', 'd'};
  return f;
}

class TempCapture {
 public:
  TempCapture() {
    path_ = (std::filesystem::temp_directory_path() / ("trawl_engine_test_" + std::to_string(getpid()) + ".pcap"))
                .string();
    std::string err;
    EXPECT_TRUE(writer_.open(path_, 1, err)) << err;
  }
  ~TempCapture() { std::filesystem::remove(path_); }
  void add(double seconds, const std::vector<uint8_t>& frame) {
    auto ts = core::Timestamp{static_cast<int64_t>(seconds * 1e9)};
    writer_.write(ts, frame.data(), static_cast<uint32_t>(frame.size()), static_cast<uint32_t>(frame.size()));
  }
  const std::string& close() {
    EXPECT_TRUE(writer_.close()) << writer_.error();
    return path_;
  }

 private:
  std::string path_;
  capture::PcapWriter writer_;
};

std::vector<flow::ConnRecord> run(const std::string& path, unsigned threads, RunStats& stats) {
  EngineOptions o;
  o.threads = threads;
  Engine e(o);
  std::vector<flow::ConnRecord> out;
  e.on_conn = [&](const flow::ConnRecord& r) { out.push_back(r); };
  EXPECT_TRUE(e.run({path}, stats));
  return out;
}

}  // namespace

TEST(Engine, DamagedFutureTimestampIsSkippedNotObeyed) {
  TempCapture cap;
  cap.add(1000000000.0, udp_frame(40000, 5000));
  cap.add(1000000000.5, udp_frame(5000, 40000, true));
  cap.add(4000000000.0, udp_frame(40001, 6000));  // one damaged timestamp, year 2096
  cap.add(1000000001.0, udp_frame(40000, 5000));
  const std::string& path = cap.close();
  RunStats stats;
  auto recs = run(path, 1, stats);
  ASSERT_EQ(recs.size(), 1u);  // the flow is not split, the outlier makes no flow
  EXPECT_EQ(recs[0].orig_pkts, 2u);
  EXPECT_EQ(recs[0].resp_pkts, 1u);
  EXPECT_EQ(stats.outliers, 1u);
  EXPECT_EQ(stats.last_ts.sec(), 1000000001);
  EXPECT_EQ(stats.anomalies.by_name().at("capture.timestamp_outlier"), 1u);
}

TEST(Engine, ConfirmedTimeJumpIsObeyed) {
  TempCapture cap;
  cap.add(1000000000.0, udp_frame(40000, 5000));
  cap.add(1000900000.0, udp_frame(40000, 5000));  // ten days later: a new file of the same capture
  cap.add(1000900001.0, udp_frame(40000, 5000));
  const std::string& path = cap.close();
  RunStats stats;
  auto recs = run(path, 1, stats);
  ASSERT_EQ(recs.size(), 2u);  // the UDP timeout split it in two
  EXPECT_EQ(recs[0].orig_pkts, 1u);
  EXPECT_EQ(recs[1].orig_pkts, 2u);
  EXPECT_EQ(stats.outliers, 0u);
}

TEST(Engine, SameRecordsInSameOrderForAnyThreadCount) {
  TempCapture cap;
  for (int i = 0; i < 3000; ++i) {
    cap.add(1000000000.0 + i * 0.01, udp_frame(static_cast<uint16_t>(10000 + i % 257), static_cast<uint16_t>(53)));
  }
  const std::string& path = cap.close();
  RunStats s1, s2, s3;
  auto a = run(path, 1, s1);
  auto b = run(path, 2, s2);
  auto c = run(path, 3, s3);
  ASSERT_EQ(a.size(), 257u);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), c.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].uid, b[i].uid);
    EXPECT_EQ(a[i].uid, c[i].uid);
    EXPECT_EQ(a[i].orig_pkts, c[i].orig_pkts);
  }
  EXPECT_EQ(s1.connections, s3.connections);
  EXPECT_EQ(s1.packets, 3000u);
}

TEST(Engine, UnreadableInputIsReportedAndOthersRead) {
  TempCapture cap;
  cap.add(1000000000.0, udp_frame(40000, 5000));
  const std::string& path = cap.close();
  EngineOptions o;
  Engine e(o);
  uint64_t n = 0;
  e.on_conn = [&](const flow::ConnRecord&) { ++n; };
  RunStats stats;
  EXPECT_FALSE(e.run({path, "/nonexistent/trawl.pcap"}, stats));
  EXPECT_EQ(n, 1u);
  ASSERT_EQ(stats.input_errors.size(), 1u);
  EXPECT_NE(stats.input_errors[0].find("/nonexistent/trawl.pcap"), std::string::npos);
}

}  // namespace trawl::app

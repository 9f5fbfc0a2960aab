// expand_inputs and MergedReader: folders become sorted file lists, and many
// files are read as one stream in time order, opened only when needed.
#include <gtest/gtest.h>

#include <filesystem>

#include "capture/capture_anomalies.h"
#include "capture_test_util.h"

namespace trawl::capture {
namespace {

using test::Bytes;
using test::frame;
using test::PcapBuilder;
using test::PcapngBuilder;
using test::read_all;
using test::TempDir;

// A pcap whose packets are at the given seconds; each frame's first byte is
// the second, so the merged order can be checked from the data.
Bytes pcap_at(std::initializer_list<uint32_t> seconds) {
  PcapBuilder b;
  for (uint32_t s : seconds) b.record(s, 0, frame(60, static_cast<uint8_t>(s)));
  return b.bytes();
}

std::vector<uint32_t> seconds_of(const std::vector<test::Packet>& ps) {
  std::vector<uint32_t> out;
  for (const auto& p : ps) out.push_back(static_cast<uint32_t>(p.ts / 1000000000));
  return out;
}

std::vector<uint16_t> inputs_of(const std::vector<test::Packet>& ps) {
  std::vector<uint16_t> out;
  for (const auto& p : ps) out.push_back(p.input);
  return out;
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST(ExpandInputs, FoldersRecursivelySortedHiddenSkippedMissingReported) {
  TempDir dir;
  std::string d = dir.path();
  dir.write("caps/b.pcap", {1});
  dir.write("caps/a.pcap", {1});
  dir.write("caps/sub/c.pcap", {1});
  dir.write("caps/A_upper.pcap", {1});
  dir.write("caps/.hidden.pcap", {1});
  dir.write("caps/.git/objects/x", {1});
  dir.write("caps/sub/.DS_Store", {1});
  std::string single = dir.write("single.pcapng", {1});
  std::filesystem::create_directories(d + "/caps/empty");
  std::vector<std::string> errors;
  auto files = expand_inputs({single, d + "/caps", d + "/nope.pcap"}, errors);
  std::vector<std::string> want = {single, d + "/caps/A_upper.pcap", d + "/caps/a.pcap", d + "/caps/b.pcap",
                                   d + "/caps/sub/c.pcap"};
  EXPECT_EQ(files, want);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], d + "/nope.pcap: no such file or directory");
}

TEST(ExpandInputs, HiddenFileGivenExplicitlyIsKept) {
  TempDir dir;
  std::string p = dir.write(".keep.pcap", {1});
  std::vector<std::string> errors;
  EXPECT_EQ(expand_inputs({p}, errors), std::vector<std::string>{p});
  EXPECT_TRUE(errors.empty());
}

TEST(MergedReader, InterleavesFilesByTime) {
  TempDir dir;
  std::string a = dir.write("a.pcap", pcap_at({1, 3, 5, 7}));
  std::string b = dir.write("b.pcap", pcap_at({2, 4, 6, 8}));
  core::Anomalies an;
  MergedReader m({a, b}, an);
  auto all = read_all(m);
  EXPECT_EQ(all.last, ReadResult::kEnd);
  EXPECT_EQ(seconds_of(all.packets), (std::vector<uint32_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(inputs_of(all.packets), (std::vector<uint16_t>{0, 1, 0, 1, 0, 1, 0, 1}));
  for (const auto& p : all.packets) EXPECT_EQ(p.data, frame(60, static_cast<uint8_t>(p.ts / 1000000000)));
  EXPECT_TRUE(m.errors().empty());
  EXPECT_EQ(m.bytes_done(), m.bytes_total());
  EXPECT_EQ(m.paths(), (std::vector<std::string>{a, b}));
}

TEST(MergedReader, FilesOfOneCaptureSplitByTimeInAnyOrder) {
  TempDir dir;
  std::string late = dir.write("late.pcap", pcap_at({20, 21, 22}));
  std::string early = dir.write("early.pcapng", PcapngBuilder().shb().idb(1, 0, 0).epb(0, 10, frame(60, 10))
                                                    .epb(0, 11, frame(60, 11)).bytes());
  std::string mid = dir.write("mid.pcap.gz", test::gzip_compress(pcap_at({15, 16})));
  core::Anomalies an;
  MergedReader m({late, early, mid}, an);
  auto all = read_all(m);
  EXPECT_EQ(seconds_of(all.packets), (std::vector<uint32_t>{10, 11, 15, 16, 20, 21, 22}));
  EXPECT_EQ(inputs_of(all.packets), (std::vector<uint16_t>{1, 1, 2, 2, 0, 0, 0}));
}

TEST(MergedReader, TiesGoToTheEarlierInput) {
  TempDir dir;
  std::string a = dir.write("a.pcap", pcap_at({5, 5, 6}));
  std::string b = dir.write("b.pcap", pcap_at({5, 6}));
  core::Anomalies an;
  MergedReader m({b, a}, an);
  auto all = read_all(m);
  EXPECT_EQ(seconds_of(all.packets), (std::vector<uint32_t>{5, 5, 5, 6, 6}));
  EXPECT_EQ(inputs_of(all.packets), (std::vector<uint16_t>{0, 1, 1, 0, 1}));
}

TEST(MergedReader, BadFilesAreReportedOnceAndTheRestIsRead) {
  TempDir dir;
  std::string good1 = dir.write("1.pcap", pcap_at({1, 4, 7}));
  std::string text = dir.write("2.txt", {'h', 'i', '\n', 'x', 'y', 'z', '\n', '\n'});
  std::string missing = dir.path() + "/3.pcap";
  // Truncated inside its last record: counted, the rest of it is read.
  Bytes cut = pcap_at({2, 5, 8});
  cut.resize(cut.size() - 30);
  std::string truncated = dir.write("4.pcap", cut);
  // A gzip stream cut in the middle: its first packets, then an anomaly.
  Bytes big;
  {
    PcapBuilder b;
    for (uint32_t s = 3; s < 3000; s += 3) b.record(s, 0, frame(300, static_cast<uint8_t>(s)));
    Bytes gz = test::gzip_compress(b.bytes());
    big = test::slice(gz, 0, gz.size() / 2);
  }
  std::string cut_gz = dir.write("5.pcap.gz", big);
  std::string empty = dir.write("6.pcap", PcapBuilder().bytes());  // header only: no packets, no error
  // Corrupt zstd after a few packets: an error after them.
  Bytes zst;
  {
    PcapBuilder b;
    for (uint32_t s = 1; s < 3000; s += 3) b.record(s, 1, frame(300 + s % 200, static_cast<uint8_t>(s)));
    zst = test::zstd_compress(b.bytes(), 1);
    for (size_t i = zst.size() * 9 / 10; i < zst.size(); i += 50) zst[i] ^= 0x33;
  }
  std::string corrupt_zst = dir.write("7.pcap.zst", zst);
  core::Anomalies an;
  MergedReader m({good1, text, missing, truncated, cut_gz, empty, corrupt_zst}, an);
  auto all = read_all(m);
  EXPECT_EQ(all.last, ReadResult::kEnd);
  ASSERT_EQ(m.errors().size(), 3u);
  EXPECT_EQ(m.errors()[0], text + ": not a pcap or pcapng capture (starts with 68 69 0a 78 79 7a 0a 0a, looks like text)");
  EXPECT_EQ(m.errors()[1], "cannot open " + missing + ": No such file or directory");
  EXPECT_EQ(m.errors()[2].rfind(corrupt_zst + ": corrupt zstd data after ", 0), 0u) << m.errors()[2];
  EXPECT_EQ(an.count(kAnomalyTruncatedCompressed), 1u);
  EXPECT_EQ(an.count(kAnomalyCorruptCompressed), 1u);
  EXPECT_GE(an.count(kAnomalyTruncatedPacket), 1u);  // 4.pcap, and 5.pcap.gz if cut inside a record
  std::vector<uint32_t> from_good, from_truncated;
  size_t from_gz = 0, from_zst = 0;
  int64_t prev = 0;
  for (const auto& p : all.packets) {
    EXPECT_GE(p.ts, prev);
    prev = p.ts;
    if (p.input == 0) from_good.push_back(static_cast<uint32_t>(p.ts / 1000000000));
    if (p.input == 3) from_truncated.push_back(static_cast<uint32_t>(p.ts / 1000000000));
    if (p.input == 4) ++from_gz;
    if (p.input == 6) ++from_zst;
  }
  EXPECT_EQ(from_good, (std::vector<uint32_t>{1, 4, 7}));
  EXPECT_EQ(from_truncated, (std::vector<uint32_t>{2, 5}));
  EXPECT_GT(from_gz, 100u);
  EXPECT_LT(from_gz, 999u);
  EXPECT_GT(from_zst, 10u);
  EXPECT_LT(from_zst, 999u);
  EXPECT_EQ(m.bytes_done(), m.bytes_total());
}

TEST(MergedReader, OpensFilesOnlyWhenTheMergeReachesThem) {
  TempDir dir;
  std::vector<std::string> paths;
  for (uint32_t i = 0; i < 60; ++i)
    paths.push_back(dir.write("part" + std::to_string(100 + i) + ".pcap", pcap_at({i * 10, i * 10 + 1, i * 10 + 2})));
  core::Anomalies an;
  MergedReader m(paths, an);
  size_t before = open_fds();
  size_t most = 0;
  RawPacket p;
  size_t n = 0;
  while (m.next(p) == ReadResult::kPacket) {
    most = std::max(most, open_fds());
    ++n;
  }
  EXPECT_EQ(n, 180u);
  // One file open at a time (plus the directory handle counting fds).
  EXPECT_LE(most, before + 2);
}

TEST(MergedReader, NoInputsAndSingleInput) {
  core::Anomalies an;
  MergedReader none({}, an);
  RawPacket p;
  EXPECT_EQ(none.next(p), ReadResult::kEnd);
  TempDir dir;
  std::string a = dir.write("a.pcap", pcap_at({9, 8, 10}));
  MergedReader one({a}, an);
  auto all = read_all(one);
  EXPECT_EQ(seconds_of(all.packets), (std::vector<uint32_t>{9, 8, 10}));  // file order kept within a file
  EXPECT_EQ(an.count(kAnomalyTimestampBackwards), 1u);
}

TEST(MergedReader, AnomaliesBeforeTheFirstPacketAreCountedOnce) {
  TempDir dir;
  PcapBuilder b;
  b.raw_record(1, 0, 60, 10, frame(60, 1));  // caplen > wirelen in the first packet
  b.record(2, 0, frame(60, 2));
  std::string a = dir.write("a.pcap", b.bytes());
  std::string c = dir.write("c.pcap", pcap_at({3}));
  core::Anomalies an;
  MergedReader m({a, c}, an);
  EXPECT_EQ(read_all(m).packets.size(), 3u);
  EXPECT_EQ(an.count(kAnomalyCaplenExceedsWirelen), 1u);
}

}  // namespace
}  // namespace trawl::capture

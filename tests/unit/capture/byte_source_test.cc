// Byte sources: plain files, gzip (several members) and zstd (several frames),
// recognised by content; damage in the compressed stream is a reader error
// after every whole packet before it.
#include <gtest/gtest.h>

#include "capture/capture_anomalies.h"
#include "capture_test_util.h"

namespace trawl::capture {
namespace {

using test::Bytes;
using test::frame;
using test::open_bytes;
using test::PcapBuilder;
using test::read_all;
using test::TempDir;

Bytes sample_pcap(size_t packets, size_t size = 200) {
  PcapBuilder b;
  for (uint32_t i = 0; i < packets; ++i) b.record(1000 + i, i, frame(size + i % 50, static_cast<uint8_t>(i)));
  return b.bytes();
}

std::vector<Bytes> split3(const Bytes& b) {
  size_t a = b.size() / 3, c = 2 * b.size() / 3 + 5;
  return {test::slice(b, 0, a), test::slice(b, a, c), test::slice(b, c, b.size())};
}

void expect_same_packets(const Bytes& plain, const Bytes& packed) {
  core::Anomalies a1, a2;
  std::string err;
  auto r1 = open_bytes(plain, a1, err);
  ASSERT_TRUE(r1) << err;
  auto r2 = open_bytes(packed, a2, err);
  ASSERT_TRUE(r2) << err;
  auto x = read_all(*r1);
  auto y = read_all(*r2);
  EXPECT_EQ(y.last, ReadResult::kEnd) << r2->error();
  ASSERT_EQ(x.packets.size(), y.packets.size());
  for (size_t i = 0; i < x.packets.size(); ++i) {
    EXPECT_EQ(x.packets[i].ts, y.packets[i].ts);
    EXPECT_EQ(x.packets[i].data, y.packets[i].data);
  }
  EXPECT_EQ(a2.total(), 0u);
  EXPECT_EQ(r2->bytes_done(), packed.size());
  EXPECT_EQ(r2->bytes_total(), packed.size());
}

TEST(Gzip, SingleMember) {
  Bytes plain = sample_pcap(500);
  expect_same_packets(plain, test::gzip_compress(plain));
}

TEST(Gzip, ConcatenatedMembers) {
  Bytes plain = sample_pcap(500);
  auto parts = split3(plain);
  expect_same_packets(plain, test::concat({test::gzip_compress(parts[0]), test::gzip_compress(parts[1], 1),
                                           test::gzip_compress(parts[2], 9)}));
}

TEST(Gzip, ZeroPaddingAfterTheLastMemberIsIgnored) {
  Bytes plain = sample_pcap(50);
  Bytes packed = test::gzip_compress(plain);
  packed.insert(packed.end(), 512, 0);
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(packed, a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kEnd);
  EXPECT_EQ(all.packets.size(), 50u);
}

TEST(Gzip, LargeStreamAcrossManyBuffers) {
  Bytes plain = sample_pcap(12000, 1000);  // about 12 MB: three read buffers
  expect_same_packets(plain, test::gzip_compress(plain, 1));
}

TEST(Gzip, TruncatedStreamDeliversWholePacketsThenEndsWithAnAnomaly) {
  Bytes plain = sample_pcap(500);
  Bytes packed = test::gzip_compress(plain);
  packed.resize(packed.size() / 2);
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(packed, a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kEnd);
  EXPECT_TRUE(r->error().empty()) << r->error();
  EXPECT_GT(all.packets.size(), 10u);
  EXPECT_LT(all.packets.size(), 500u);
  EXPECT_EQ(a.count(kAnomalyTruncatedCompressed), 1u);
  // The cut falls inside a record (almost surely): that is counted too.
  EXPECT_LE(a.count(kAnomalyTruncatedPacket), 1u);
}

TEST(Gzip, CutInsideTheHeaderOrTrailer) {
  Bytes plain = sample_pcap(20);
  Bytes packed = test::gzip_compress(plain);
  core::Anomalies a;
  std::string err;
  EXPECT_FALSE(open_bytes(test::slice(packed, 0, 6), a, err));
  EXPECT_EQ(err, "mem: truncated gzip data after 0 bytes");
  EXPECT_EQ(a.count(kAnomalyTruncatedCompressed), 1u);  // counted though the open fails
  a = core::Anomalies();
  // Cut in the CRC/size trailer: every packet is there, the cut is counted.
  auto r = open_bytes(test::slice(packed, 0, packed.size() - 3), a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kEnd);
  EXPECT_EQ(all.packets.size(), 20u);
  EXPECT_EQ(a.count(kAnomalyTruncatedCompressed), 1u);
  EXPECT_EQ(a.count(kAnomalyTruncatedPacket), 0u);
}

TEST(Gzip, CorruptStreamFails) {
  Bytes plain = sample_pcap(2000);
  Bytes packed = test::gzip_compress(plain);
  for (size_t i = packed.size() / 2; i < packed.size() / 2 + 64; ++i) packed[i] ^= 0x5a;
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(packed, a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kError);
  EXPECT_EQ(r->error().rfind("mem: corrupt gzip data after ", 0), 0u) << r->error();
  EXPECT_EQ(a.count(kAnomalyCorruptCompressed), 1u);
}

TEST(Zstd, SeveralFrames) {
  Bytes plain = sample_pcap(500);
  auto parts = split3(plain);
  Bytes packed = test::concat({test::zstd_compress(parts[0]), test::zstd_compress(parts[1], 1),
                               test::zstd_compress(parts[2], 19)});
  expect_same_packets(plain, packed);
}

TEST(Zstd, LargeStreamAcrossManyBuffers) {
  Bytes plain = sample_pcap(12000, 1000);
  expect_same_packets(plain, test::zstd_compress(plain, 1));
}

TEST(Zstd, TruncatedStreamEndsWithAnAnomaly) {
  Bytes plain = sample_pcap(3000);  // several zstd blocks: some decode before the cut
  Bytes packed = test::zstd_compress(plain, 1);
  packed.resize(packed.size() - 7);
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(packed, a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kEnd);
  EXPECT_GT(all.packets.size(), 100u);
  EXPECT_LT(all.packets.size(), 3000u);
  EXPECT_EQ(a.count(kAnomalyTruncatedCompressed), 1u);
}

TEST(Zstd, CorruptStreamFails) {
  Bytes plain = sample_pcap(2000);
  Bytes packed = test::zstd_compress(plain, 1);
  for (size_t i = 20; i < packed.size(); i += 97) packed[i] ^= 0xa5;
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(packed, a, err);
  if (!r) {
    EXPECT_NE(err.find("corrupt zstd data"), std::string::npos) << err;
    return;
  }
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kError);
  EXPECT_EQ(r->error().rfind("mem: corrupt zstd data after ", 0), 0u) << r->error();
  EXPECT_EQ(a.count(kAnomalyCorruptCompressed), 1u);
}

TEST(OpenByteSource, DetectsByContentNotName) {
  TempDir dir;
  Bytes plain = sample_pcap(20);
  std::string gz_named_pcap = dir.write("really_gzip.pcap", test::gzip_compress(plain));
  std::string plain_named_gz = dir.write("really_plain.pcap.gz", plain);
  std::string zst = dir.write("z.bin", test::zstd_compress(plain));
  for (const std::string& path : {gz_named_pcap, plain_named_gz, zst}) {
    std::string err;
    auto src = open_byte_source(path, err);
    ASSERT_TRUE(src) << err;
    Bytes out(plain.size() + 100);
    size_t n = 0;
    while (size_t got = src->read(out.data() + n, out.size() - n)) n += got;
    EXPECT_TRUE(src->error().empty()) << src->error();
    out.resize(n);
    EXPECT_EQ(out, plain) << path;
    EXPECT_EQ(src->bytes_done(), src->bytes_total()) << path;
    core::Anomalies a;
    auto r = open_capture(path, 0, a, err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(read_all(*r).packets.size(), 20u);
  }
}

TEST(OpenByteSource, ErrorsNameThePath) {
  TempDir dir;
  std::string err;
  EXPECT_FALSE(open_byte_source(dir.path() + "/missing.pcap", err));
  EXPECT_EQ(err, "cannot open " + dir.path() + "/missing.pcap: No such file or directory");
  EXPECT_FALSE(open_byte_source(dir.path(), err));
  EXPECT_EQ(err, "cannot open " + dir.path() + ": Is a directory");
  core::Anomalies a;
  EXPECT_FALSE(open_capture(dir.path() + "/missing.pcap", 0, a, err));
  EXPECT_EQ(err, "cannot open " + dir.path() + "/missing.pcap: No such file or directory");
}

TEST(MemoryByteSource, ReadsInPieces) {
  Bytes b = frame(100, 1);
  auto src = memory_byte_source(core::ByteView(b.data(), b.size()));
  uint8_t buf[64];
  EXPECT_EQ(src->read(buf, 64), 64u);
  EXPECT_EQ(src->bytes_done(), 64u);
  EXPECT_EQ(src->read(buf, 64), 36u);
  EXPECT_EQ(src->read(buf, 64), 0u);
  EXPECT_TRUE(src->error().empty());
  EXPECT_EQ(src->bytes_total(), 100u);
}

}  // namespace
}  // namespace trawl::capture

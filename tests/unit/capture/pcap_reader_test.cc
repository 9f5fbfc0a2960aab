// Classic pcap: both magics and byte orders, and every kind of damage the
// reader counts instead of failing on.
#include <gtest/gtest.h>

#include "capture/capture_anomalies.h"
#include "capture/pcap_reader.h"
#include "capture_test_util.h"

namespace trawl::capture {
namespace {

using test::Bytes;
using test::frame;
using test::open_bytes;
using test::PcapBuilder;
using test::PcapOptions;
using test::read_all;

struct Variant {
  bool big_endian;
  bool nanosecond;
};

class PcapVariants : public ::testing::TestWithParam<Variant> {};

TEST_P(PcapVariants, ReadsTimestampsLengthsAndData) {
  Variant v = GetParam();
  PcapOptions o;
  o.big_endian = v.big_endian;
  o.nanosecond = v.nanosecond;
  o.linktype = 113;
  PcapBuilder b(o);
  uint32_t frac = v.nanosecond ? 123456789 : 123456;
  b.record(1700000000, frac, frame(60, 1));
  b.record(1700000001, 0, frame(100, 2), 1500);  // cut by snaplen: normal
  b.record(1700000002, frac, {});                // empty record
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err, 7);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kEnd);
  ASSERT_EQ(all.packets.size(), 3u);
  int64_t frac_ns = v.nanosecond ? 123456789 : 123456000;
  EXPECT_EQ(all.packets[0].ts, 1700000000LL * 1000000000 + frac_ns);
  EXPECT_EQ(all.packets[0].caplen, 60u);
  EXPECT_EQ(all.packets[0].wirelen, 60u);
  EXPECT_EQ(all.packets[0].data, frame(60, 1));
  EXPECT_EQ(all.packets[0].linktype, 113);
  EXPECT_EQ(all.packets[0].input, 7);
  EXPECT_EQ(all.packets[1].ts, 1700000001LL * 1000000000);
  EXPECT_EQ(all.packets[1].caplen, 100u);
  EXPECT_EQ(all.packets[1].wirelen, 1500u);
  EXPECT_EQ(all.packets[1].data, frame(100, 2));
  EXPECT_EQ(all.packets[2].caplen, 0u);
  EXPECT_EQ(a.total(), 0u);
  EXPECT_EQ(r->bytes_done(), b.bytes().size());
  EXPECT_EQ(r->bytes_total(), b.bytes().size());
  // After the end, next() keeps saying so.
  RawPacket p;
  EXPECT_EQ(r->next(p), ReadResult::kEnd);
}

INSTANTIATE_TEST_SUITE_P(Magics, PcapVariants,
                         ::testing::Values(Variant{false, false}, Variant{true, false}, Variant{false, true},
                                           Variant{true, true}));

TEST(PcapReader, LinktypeIgnoresFcsBits) {
  PcapOptions o;
  o.linktype = 0x14000000u | 1u;  // FCS length 4 present, Ethernet
  PcapBuilder b(o);
  b.record(1, 0, frame(64, 3));
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  ASSERT_EQ(all.packets.size(), 1u);
  EXPECT_EQ(all.packets[0].linktype, 1);
}

TEST(PcapReader, TruncatedLastPacketIsCountedAndEndsCleanly) {
  PcapBuilder b;
  b.record(10, 0, frame(80, 1)).record(11, 0, frame(80, 2));
  Bytes full = b.bytes();
  for (size_t cut : {size_t{24 + 96 + 5}, size_t{24 + 96 + 16 + 40}}) {  // inside the header, inside the data
    Bytes bytes = test::slice(full, 0, cut);
    core::Anomalies a;
    std::string err;
    auto r = open_bytes(bytes, a, err);
    ASSERT_TRUE(r) << err;
    auto all = read_all(*r);
    EXPECT_EQ(all.last, ReadResult::kEnd);
    ASSERT_EQ(all.packets.size(), 1u);
    EXPECT_EQ(all.packets[0].data, frame(80, 1));
    EXPECT_EQ(a.count(kAnomalyTruncatedPacket), 1u);
    EXPECT_TRUE(r->error().empty());
  }
}

TEST(PcapReader, CaplenAboveWirelenAndSnaplenAreCountedAndDelivered) {
  PcapOptions o;
  o.snaplen = 64;
  PcapBuilder b(o);
  b.raw_record(1, 0, 50, 40, frame(50, 1));    // caplen > wirelen
  b.raw_record(2, 0, 100, 200, frame(100, 2)); // caplen > snaplen
  b.raw_record(3, 0, 64, 1514, frame(64, 3));  // cut by snaplen: normal
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  ASSERT_EQ(all.packets.size(), 3u);
  EXPECT_EQ(all.packets[0].caplen, 50u);
  EXPECT_EQ(all.packets[0].wirelen, 50u);  // raised so caplen <= wirelen holds downstream
  EXPECT_EQ(all.packets[1].caplen, 100u);
  EXPECT_EQ(all.packets[2].wirelen, 1514u);
  EXPECT_EQ(a.count(kAnomalyCaplenExceedsWirelen), 1u);
  EXPECT_EQ(a.count(kAnomalyCaplenExceedsSnaplen), 1u);
  EXPECT_EQ(a.total(), 2u);
}

TEST(PcapReader, TimestampBackwardsIsCountedNotFatal) {
  PcapBuilder b;
  b.record(100, 0, frame(60, 1)).record(99, 999999, frame(60, 2)).record(101, 0, frame(60, 3));
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.packets.size(), 3u);
  EXPECT_EQ(a.count(kAnomalyTimestampBackwards), 1u);
}

TEST(PcapReader, ImpossibleLengthResynchronisesOnTheNextRecord) {
  PcapBuilder b;
  b.record(1000, 1, frame(60, 1));
  b.raw_record(1000, 2, 0x7fffffff, 0x7fffffff, frame(37, 9));  // garbage header and bytes
  b.record(1000, 3, frame(70, 3)).record(1000, 4, frame(80, 4));
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kEnd);
  ASSERT_EQ(all.packets.size(), 3u);
  EXPECT_EQ(all.packets[1].data, frame(70, 3));
  EXPECT_EQ(all.packets[2].data, frame(80, 4));
  EXPECT_EQ(a.count(kAnomalyImpossibleLength), 1u);
  EXPECT_EQ(a.count(kAnomalyResync), 1u);
}

TEST(PcapReader, ImpossibleLengthBeforeTheLastRecordResynchronises) {
  PcapBuilder b;
  b.record(1000, 1, frame(60, 1));
  b.raw_record(1000, 2, 300000, 300000, {});
  b.record(1000, 3, frame(70, 3));  // the last record: no header follows it
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  ASSERT_EQ(all.packets.size(), 2u);
  EXPECT_EQ(all.packets[1].data, frame(70, 3));
}

TEST(PcapReader, ImpossibleLengthWithGarbageToTheEndStopsCleanly) {
  PcapBuilder b;
  b.record(1000, 1, frame(60, 1));
  b.raw_record(1000, 2, 300000, 300000, Bytes(5000, 0xff));
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kEnd);
  EXPECT_EQ(all.packets.size(), 1u);
  EXPECT_EQ(a.count(kAnomalyImpossibleLength), 1u);
  EXPECT_EQ(a.count(kAnomalyResync), 0u);
}

TEST(PcapReader, NoPlausibleRecordWithinTheWindowIsAnError) {
  PcapBuilder b;
  b.record(1000, 1, frame(60, 1));
  b.raw_record(1000, 2, 300000, 300000, Bytes(kResyncWindow + 100000, 0xff));
  b.record(1000, 3, frame(60, 3)).record(1000, 4, frame(60, 4));
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kError);
  EXPECT_EQ(all.packets.size(), 1u);
  EXPECT_NE(r->error().find("mem: impossible record length 300000"), std::string::npos) << r->error();
  RawPacket p;
  EXPECT_EQ(r->next(p), ReadResult::kError);
}

TEST(PcapReader, TruncatedFileHeaderIsAnOpenError) {
  Bytes b = test::slice(PcapBuilder().bytes(), 0, 20);
  core::Anomalies a;
  std::string err;
  EXPECT_FALSE(open_bytes(b, a, err));
  EXPECT_EQ(err, "mem: truncated pcap file header (20 of 24 bytes)");
}

TEST(PcapReader, LargeFileCrossesBufferBoundaries) {
  // Records of varied sizes well past one 4 MiB buffer, so records straddle
  // the buffer end at many different offsets.
  PcapBuilder b;
  size_t n = 0;
  for (uint32_t i = 0; b.bytes().size() < 10u * 1024 * 1024; ++i, ++n)
    b.record(i, 0, frame(40 + (i * 977) % 9000, static_cast<uint8_t>(i)));
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err);
  ASSERT_TRUE(r) << err;
  RawPacket p;
  size_t got = 0;
  bool all_match = true;
  while (r->next(p) == ReadResult::kPacket) {
    uint32_t i = static_cast<uint32_t>(got);
    all_match = all_match && p.caplen == 40 + (i * 977) % 9000 && p.bytes().size() == p.caplen &&
                std::equal(p.data, p.data + p.caplen, frame(p.caplen, static_cast<uint8_t>(i)).begin());
    ++got;
  }
  EXPECT_EQ(got, n);
  EXPECT_TRUE(all_match);
  EXPECT_EQ(a.total(), 0u);
}

}  // namespace
}  // namespace trawl::capture

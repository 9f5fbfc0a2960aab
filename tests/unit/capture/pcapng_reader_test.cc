// pcapng: sections in both byte orders, interfaces with their own link type
// and timestamp resolution, every packet block kind, and damaged blocks.
#include <gtest/gtest.h>

#include <limits>

#include "capture/capture_anomalies.h"
#include "capture/pcapng_reader.h"
#include "capture_test_util.h"

namespace trawl::capture {
namespace {

using test::Bytes;
using test::frame;
using test::open_bytes;
using test::PcapngBuilder;
using test::read_all;

constexpr int64_t kSec = 1000000000;

TEST(PcapngReader, TwoSectionsTwoInterfacesEachWithOwnLinktypeAndResolution) {
  PcapngBuilder b;
  // Section 1, little-endian: Ethernet in microseconds (default), raw IP in ns.
  b.shb(false).idb(1, 65535).idb(101, 0, 9);
  b.epb(0, 1700000000ull * 1000000 + 250000, frame(60, 1));
  b.epb(1, 1700000000ull * kSec + 500000001, frame(40, 2), 1500);
  b.block(4, Bytes(8, 0));       // name resolution block: skipped
  b.block(5, Bytes(20, 0));      // interface statistics: skipped
  b.block(0xBAD, Bytes(12, 1));  // custom block: skipped
  b.block(0x1234, Bytes(4, 2));  // unknown block: skipped
  // Section 2, big-endian: interface numbering restarts. Linux SLL at 2^-20 s
  // with an offset of 1000 s, then Ethernet at 10^-3 s.
  b.shb(true).idb(113, 0, 0x80 | 20, 1000).idb(1, 0, 3);
  b.epb(0, (uint64_t{1700000001} << 20) + (1u << 19), frame(70, 3));  // .5 s
  b.epb(1, 1700000002123ull, frame(80, 4));
  b.pb(1, 1700000003000ull, frame(90, 5));
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err, 3);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kEnd);
  ASSERT_EQ(all.packets.size(), 5u);
  const auto& p = all.packets;
  EXPECT_EQ(p[0].ts, 1700000000 * kSec + 250000000);
  EXPECT_EQ(p[0].linktype, 1);
  EXPECT_EQ(p[0].data, frame(60, 1));
  EXPECT_EQ(p[0].input, 3);
  EXPECT_EQ(p[1].ts, 1700000000 * kSec + 500000001);
  EXPECT_EQ(p[1].linktype, 101);
  EXPECT_EQ(p[1].caplen, 40u);
  EXPECT_EQ(p[1].wirelen, 1500u);
  EXPECT_EQ(p[2].ts, (1700000001 + 1000) * kSec + 500000000);
  EXPECT_EQ(p[2].linktype, 113);
  EXPECT_EQ(p[2].data, frame(70, 3));
  EXPECT_EQ(p[3].ts, 1700000002 * kSec + 123000000);
  EXPECT_EQ(p[3].linktype, 1);
  EXPECT_EQ(p[3].data, frame(80, 4));
  EXPECT_EQ(p[4].ts, 1700000003 * kSec);
  EXPECT_EQ(p[4].data, frame(90, 5));
  // p[2] carries the 1000 s offset, so p[3] is earlier: counted, not fatal.
  EXPECT_EQ(a.total(), 1u);
  EXPECT_EQ(a.count(kAnomalyTimestampBackwards), 1u);
}

TEST(PcapngReader, SimplePacketBlocksUseInterfaceZero) {
  PcapngBuilder b;
  b.shb().idb(1, 64);
  b.epb(0, 5000000, frame(60, 1));
  b.spb(60, frame(60, 2));       // whole frame
  b.spb(1514, frame(64, 3));     // cut by snaplen 64
  b.spb(30, frame(30, 4));       // short frame
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  ASSERT_EQ(all.packets.size(), 4u);
  EXPECT_EQ(all.packets[1].caplen, 60u);
  EXPECT_EQ(all.packets[1].data, frame(60, 2));
  EXPECT_EQ(all.packets[1].ts, 5 * kSec);  // no timestamp: the previous packet's
  EXPECT_EQ(all.packets[2].caplen, 64u);
  EXPECT_EQ(all.packets[2].wirelen, 1514u);
  EXPECT_EQ(all.packets[3].caplen, 30u);
  EXPECT_EQ(all.packets[3].data, frame(30, 4));
  EXPECT_EQ(a.total(), 0u);
}

TEST(PcapngReader, UnknownInterfaceIsCountedAndSkipped) {
  PcapngBuilder b;
  b.shb().epb(0, 1, frame(60, 1));  // before any interface
  b.idb(1).epb(1, 2, frame(60, 2)).epb(0, 3, frame(60, 3));
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  ASSERT_EQ(all.packets.size(), 1u);
  EXPECT_EQ(all.packets[0].data, frame(60, 3));
  EXPECT_EQ(a.count(kAnomalyPcapngBadInterface), 2u);
}

TEST(PcapngReader, CorruptBlockResynchronisesToTheNextBlock) {
  PcapngBuilder good;
  good.shb().idb(1);
  good.epb(0, 1, frame(60, 1));
  size_t damaged_at = good.size();
  good.epb(0, 2, frame(61, 2));
  good.epb(0, 3, frame(62, 3));
  Bytes bytes = good.bytes();
  // Break the second packet's leading length: not a multiple of 4.
  bytes[damaged_at + 4] ^= 0x01;
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(bytes, a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kEnd);
  ASSERT_EQ(all.packets.size(), 2u);
  EXPECT_EQ(all.packets[1].data, frame(62, 3));
  EXPECT_EQ(a.count(kAnomalyPcapngCorruptBlock), 1u);
  EXPECT_EQ(a.count(kAnomalyResync), 1u);
}

TEST(PcapngReader, MismatchedTrailingLengthAndInsertedBytesResynchronise) {
  PcapngBuilder b;
  b.shb().idb(1).epb(0, 1, frame(60, 1));
  Bytes bytes = b.bytes();
  bytes.back() ^= 0x10;  // trailing length of that packet block now differs
  bytes.insert(bytes.end(), {0xde, 0xad, 0xbe});  // three stray bytes: off 4-byte alignment
  // Packet blocks of the same section (the builder's own section header cut off).
  PcapngBuilder tail_blocks;
  tail_blocks.shb().epb(0, 2, frame(60, 2)).epb(0, 3, frame(60, 3));
  Bytes blocks = test::slice(tail_blocks.bytes(), 28, tail_blocks.size());
  bytes.insert(bytes.end(), blocks.begin(), blocks.end());
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(bytes, a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  ASSERT_EQ(all.packets.size(), 2u);
  EXPECT_EQ(all.packets[0].data, frame(60, 2));
  EXPECT_EQ(all.packets[1].data, frame(60, 3));
  EXPECT_EQ(a.count(kAnomalyPcapngCorruptBlock), 1u);
  EXPECT_EQ(a.count(kAnomalyResync), 1u);
}

TEST(PcapngReader, ImpossibleBlockLengthWithNothingAfterItEndsCleanly) {
  PcapngBuilder b;
  b.shb().idb(1).epb(0, 1, frame(60, 1));
  test::ByteWriter w;
  w.u32(6);
  w.u32(0x7ffffff0);  // 2 GiB block
  w.bytes(Bytes(100, 0));
  b.raw(w.data());
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kEnd);
  EXPECT_EQ(all.packets.size(), 1u);
  EXPECT_EQ(a.count(kAnomalyImpossibleLength), 1u);
}

TEST(PcapngReader, NoPlausibleBlockWithinTheWindowIsAnError) {
  PcapngBuilder b;
  b.shb().idb(1).epb(0, 1, frame(60, 1));
  Bytes bytes = b.bytes();
  bytes.insert(bytes.end(), {0x06, 0, 0, 0, 0x03, 0, 0, 0});  // length 3
  bytes.insert(bytes.end(), kResyncWindow + 4096, 0xee);
  PcapngBuilder after;
  after.shb().idb(1).epb(0, 2, frame(60, 2));
  bytes.insert(bytes.end(), after.bytes().begin(), after.bytes().end());
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(bytes, a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kError);
  EXPECT_EQ(all.packets.size(), 1u);
  EXPECT_NE(r->error().find("mem: corrupt pcapng block at offset"), std::string::npos) << r->error();
}

TEST(PcapngReader, PacketBlockContentsAreChecked) {
  PcapngBuilder b;
  b.shb().idb(1, 100);
  b.epb_raw(0, 1, 200, 200, frame(60, 1));      // caplen beyond the block: corrupt
  b.epb_raw(0, 2, 300000, 300000, frame(60, 2)); // caplen beyond any snaplen
  b.epb_raw(0, 3, 60, 50, frame(60, 3));        // caplen > wirelen: delivered
  b.epb_raw(0, 4, 120, 1500, frame(120, 4));    // caplen > interface snaplen: delivered
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  ASSERT_EQ(all.packets.size(), 2u);
  EXPECT_EQ(all.packets[0].wirelen, 60u);
  EXPECT_EQ(all.packets[1].caplen, 120u);
  EXPECT_EQ(a.count(kAnomalyPcapngCorruptBlock), 1u);
  EXPECT_EQ(a.count(kAnomalyImpossibleLength), 1u);
  EXPECT_EQ(a.count(kAnomalyCaplenExceedsWirelen), 1u);
  EXPECT_EQ(a.count(kAnomalyCaplenExceedsSnaplen), 1u);
  EXPECT_EQ(a.count(kAnomalyResync), 0u);
}

TEST(PcapngReader, TruncatedLastBlockIsCounted) {
  PcapngBuilder b;
  b.shb().idb(1).epb(0, 1, frame(60, 1)).epb(0, 2, frame(60, 2));
  Bytes bytes = test::slice(b.bytes(), 0, b.size() - 10);
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(bytes, a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  EXPECT_EQ(all.last, ReadResult::kEnd);
  EXPECT_EQ(all.packets.size(), 1u);
  EXPECT_EQ(a.count(kAnomalyTruncatedPacket), 1u);
}

TEST(PcapngReader, BadSectionHeaderIsAnOpenError) {
  PcapngBuilder b;
  b.shb().idb(1);
  Bytes bytes = b.bytes();
  bytes[8] = 0x00;  // byte-order magic
  core::Anomalies a;
  std::string err;
  EXPECT_FALSE(open_bytes(bytes, a, err));
  EXPECT_EQ(err, "mem: pcapng section header with an unknown byte-order magic");
  bytes = test::slice(b.bytes(), 0, 20);
  EXPECT_FALSE(open_bytes(bytes, a, err));
  EXPECT_EQ(err, "mem: truncated pcapng section header");
}

TEST(PcapngReader, MalformedInterfaceOptionIsCounted) {
  PcapngBuilder b;
  b.shb();
  test::ByteWriter idb;
  idb.u16(1);
  idb.u16(0);
  idb.u32(0);
  idb.u16(9);
  idb.u16(200);  // option longer than the block
  idb.u32(0);
  b.block(1, idb.data()).epb(0, 1500000, frame(60, 1));
  core::Anomalies a;
  std::string err;
  auto r = open_bytes(b.bytes(), a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  ASSERT_EQ(all.packets.size(), 1u);
  EXPECT_EQ(all.packets[0].ts, 1500000000);  // default microseconds kept
  EXPECT_EQ(a.count(kAnomalyPcapngBadOption), 1u);
}

TEST(PcapngTimestamps, ConvertExactly) {
  EXPECT_EQ(PcapngReader::units_to_ns(1700000000123456ull, 6, 0), 1700000000123456000);
  EXPECT_EQ(PcapngReader::units_to_ns(1700000000123456789ull, 9, 0), 1700000000123456789);
  EXPECT_EQ(PcapngReader::units_to_ns(17000000001234567891ull, 10, 0), 1700000000123456789);
  EXPECT_EQ(PcapngReader::units_to_ns(1700000000ull, 0, 0), 1700000000 * kSec);
  EXPECT_EQ(PcapngReader::units_to_ns(1700000000ull, 0, -100), 1699999900 * kSec);
  // 2^-k: 1/1024 s = 976562.5 ns, floored.
  EXPECT_EQ(PcapngReader::units_to_ns(1, 0x80 | 10, 0), 976562);
  EXPECT_EQ(PcapngReader::units_to_ns(3ull << 32, 0x80 | 32, 0), 3 * kSec);
  EXPECT_EQ(PcapngReader::units_to_ns((uint64_t{1700000000} << 30) + (1u << 29), 0x80 | 30, 0),
            1700000000 * kSec + 500000000);
  EXPECT_EQ(PcapngReader::units_to_ns(~0ull, 0x80 | 127, 0), 0);
  // Hostile values saturate instead of overflowing.
  EXPECT_EQ(PcapngReader::units_to_ns(~0ull, 0, 0), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(PcapngReader::units_to_ns(0, 6, std::numeric_limits<int64_t>::min()), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(PcapngReader::units_to_ns(~0ull, 127, 0), 0);
  EXPECT_EQ(PcapngReader::units_to_ns(~0ull, 28, 0), 1);
  EXPECT_EQ(PcapngReader::units_to_ns(~0ull, 29, 0), 0);
  EXPECT_EQ(PcapngReader::units_to_ns(~0ull, 19, 0), 1844674407);
}

}  // namespace
}  // namespace trawl::capture

// PcapWriter: what it writes reads back identically, nanoseconds included.
#include <gtest/gtest.h>

#include "capture/pcap_reader.h"
#include "capture/pcap_writer.h"
#include "capture_test_util.h"

namespace trawl::capture {
namespace {

using test::frame;
using test::read_all;
using test::TempDir;

TEST(PcapWriter, RoundTripKeepsEveryField) {
  TempDir dir;
  std::string path = dir.path() + "/out.pcap";
  std::vector<test::Packet> want;
  for (uint32_t i = 0; i < 1000; ++i) {
    test::Packet p;
    p.ts = 1700000000LL * 1000000000 + int64_t{i} * 123456789 + 1;
    p.data = frame(40 + (i * 131) % 1500, static_cast<uint8_t>(i));
    p.caplen = static_cast<uint32_t>(p.data.size());
    p.wirelen = p.caplen + (i % 3) * 100;
    p.linktype = 101;
    want.push_back(p);
  }
  PcapWriter w;
  std::string err;
  ASSERT_TRUE(w.open(path, 101, err)) << err;
  EXPECT_EQ(w.linktype(), 101);
  for (const auto& p : want) {
    RawPacket raw;
    raw.ts = core::Timestamp{p.ts};
    raw.caplen = p.caplen;
    raw.wirelen = p.wirelen;
    raw.linktype = p.linktype;
    raw.data = p.data.data();
    ASSERT_TRUE(w.write(raw));
  }
  EXPECT_EQ(w.packets(), 1000u);
  ASSERT_TRUE(w.close()) << w.error();

  core::Anomalies a;
  auto r = open_capture(path, 0, a, err);
  ASSERT_TRUE(r) << err;
  auto* pcap = dynamic_cast<PcapReader*>(r.get());
  ASSERT_NE(pcap, nullptr);
  EXPECT_TRUE(pcap->nanosecond());
  EXPECT_EQ(pcap->snaplen(), 262144u);
  auto all = read_all(*r);
  ASSERT_EQ(all.packets.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(all.packets[i].ts, want[i].ts);
    EXPECT_EQ(all.packets[i].caplen, want[i].caplen);
    EXPECT_EQ(all.packets[i].wirelen, want[i].wirelen);
    EXPECT_EQ(all.packets[i].linktype, 101);
    EXPECT_EQ(all.packets[i].data, want[i].data);
  }
  EXPECT_EQ(a.total(), 0u);
}

TEST(PcapWriter, TimesBefore1970KeepTheirNanoseconds) {
  TempDir dir;
  std::string path = dir.path() + "/neg.pcap";
  PcapWriter w;
  std::string err;
  ASSERT_TRUE(w.open(path, 1, err)) << err;
  auto f = frame(60, 1);
  ASSERT_TRUE(w.write(core::Timestamp{-1}, f.data(), 60, 60));
  ASSERT_TRUE(w.close());
  core::Anomalies a;
  auto r = open_capture(path, 0, a, err);
  ASSERT_TRUE(r) << err;
  auto all = read_all(*r);
  ASSERT_EQ(all.packets.size(), 1u);
  // Seconds are unsigned 32-bit in pcap: -1 ns is written as 0xffffffff.999999999.
  EXPECT_EQ(all.packets[0].ts, 4294967295LL * 1000000000 + 999999999);
}

TEST(PcapWriter, WriteFailuresAreReported) {
  std::string err;
  PcapWriter bad;
  EXPECT_FALSE(bad.open("/nonexistent-dir/x.pcap", 1, err));
  EXPECT_EQ(err, "cannot create /nonexistent-dir/x.pcap: No such file or directory");

  PcapWriter full;
  ASSERT_TRUE(full.open("/dev/full", 1, err)) << err;  // buffered: the failure shows on flush
  auto f = frame(1500, 1);
  bool ok = true;
  for (int i = 0; i < 2000 && ok; ++i) ok = full.write(core::Timestamp{i}, f.data(), 1500, 1500);
  ok = ok && full.close();
  EXPECT_FALSE(ok);
  EXPECT_EQ(full.error().rfind("/dev/full: write error: No space left on device", 0), 0u) << full.error();
}

}  // namespace
}  // namespace trawl::capture

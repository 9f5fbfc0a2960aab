// open_capture on files that are not captures: one clear line naming the file
// and what it looks like.
#include <gtest/gtest.h>

#include "capture_test_util.h"

namespace trawl::capture {
namespace {

using test::Bytes;
using test::TempDir;

std::string open_error(const Bytes& content, const std::string& name = "x") {
  TempDir dir;
  std::string path = dir.write(name, content);
  core::Anomalies a;
  std::string err;
  auto r = open_capture(path, 0, a, err);
  EXPECT_FALSE(r);
  return err.substr(dir.path().size() + 1);
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

TEST(OpenCapture, NotACaptureSaysWhatItLooksLike) {
  EXPECT_EQ(open_error(text("hello world, this is text\n"), "notes.pcap"),
            "notes.pcap: not a pcap or pcapng capture (starts with 68 65 6c 6c 6f 20 77 6f, looks like text)");
  EXPECT_EQ(open_error({'P', 'K', 3, 4, 20, 0, 0, 0, 0, 0}),
            "x: not a pcap or pcapng capture (starts with 50 4b 03 04 14 00 00 00, looks like a zip archive)");
  EXPECT_EQ(open_error({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}),
            "x: not a pcap or pcapng capture (starts with 00 01 02 03 04 05 06 07)");
  EXPECT_EQ(open_error({1, 2}), "x: not a pcap or pcapng capture (only 2 bytes)");
  EXPECT_EQ(open_error({}), "x: empty file, not a pcap or pcapng capture");
  EXPECT_EQ(open_error(test::gzip_compress(text("GET / HTTP/1.1\r\n"))),
            "x: not a pcap or pcapng capture (after gzip decompression starts with 47 45 54 20 2f 20 48 54, looks "
            "like text)");
  EXPECT_EQ(open_error(test::zstd_compress({})), "x: empty after decompression, not a pcap or pcapng capture");
  EXPECT_EQ(open_error({0x34, 0xcd, 0xb2, 0xa1, 2, 0, 4, 0}),
            "x: not a pcap or pcapng capture (starts with 34 cd b2 a1 02 00 04 00, looks like a modified (Kuznetzov) "
            "pcap, which trawl does not read; convert it with editcap -F pcap)");
}

TEST(OpenCapture, MemorySourceNamesTheInput) {
  Bytes junk(100, 0x41);
  core::Anomalies a;
  std::string err;
  EXPECT_FALSE(test::open_bytes(junk, a, err));
  EXPECT_EQ(err, "mem: not a pcap or pcapng capture (starts with 41 41 41 41 41 41 41 41, looks like text)");
}

}  // namespace
}  // namespace trawl::capture

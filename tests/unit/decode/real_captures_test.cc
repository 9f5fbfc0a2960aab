// Real captures from ../shared/pcaps (see its MANIFEST.tsv) through the
// decoder: counts per network layer cross-checked with tshark, and no
// anomalies where the traffic is ordinary. A minimal classic-pcap walk keeps
// this test independent of the capture module.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "decode/packet_builder.h"

#ifndef TRAWL_SHARED_PCAPS
#define TRAWL_SHARED_PCAPS "../shared/pcaps"
#endif

namespace trawl::test {
namespace {

using decode::DecodeStatus;
using decode::L3;

struct Tally {
  size_t packets = 0;
  std::map<DecodeStatus, size_t> status;
  std::map<L3, size_t> l3;
  size_t l4 = 0;
  std::map<std::string, uint64_t> anomalies;
};

// False when the file is missing or not a classic pcap.
bool decode_capture(const std::string& name, Tally& t) {
  const std::string path = std::string(TRAWL_SHARED_PCAPS) + "/" + name;
  FILE* fp = std::fopen(path.c_str(), "rb");
  if (fp == nullptr) return false;
  Bytes f;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, fp)) > 0) f.insert(f.end(), buf, buf + n);
  std::fclose(fp);
  if (f.size() < 24) return false;
  const uint32_t magic = core::load_le32(f.data());
  const bool le = magic == 0xa1b2c3d4 || magic == 0xa1b23c4d;
  const bool be = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
  if (!le && !be) return false;
  const bool nanos = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
  auto rd = [&](size_t o) { return le ? core::load_le32(&f[o]) : core::load_be32(&f[o]); };
  core::Anomalies anomalies;
  decode::Decoder decoder(anomalies);
  decode::DecodedPacket out;
  for (size_t off = 24; off + 16 <= f.size();) {
    capture::RawPacket p;
    p.caplen = rd(off + 8);
    p.wirelen = rd(off + 12);
    p.ts = core::Timestamp::from_sec_nsec(rd(off), int64_t{rd(off + 4)} * (nanos ? 1 : 1000));
    p.linktype = static_cast<uint16_t>(rd(20));
    p.data = f.data() + off + 16;
    if (p.caplen > f.size() - off - 16) break;
    off += 16 + p.caplen;
    const DecodeStatus s = decoder.decode(p, out);
    ++t.packets;
    ++t.status[s];
    ++t.l3[out.l3];
    if (out.has_l4) ++t.l4;
  }
  decoder.finish();
  t.anomalies = anomalies.by_name();
  return true;
}

TEST(RealCaptures, ManyProtocols) {
  Tally t;
  if (!decode_capture("benign/many_protocols_pcpp.pcap", t)) GTEST_SKIP() << "shared capture not available";
  // tshark: 4709 frames; 4699 "ip || ipv6" (16 IPv6), all TCP/UDP/ICMP; 4 ARP; 6 CDP.
  EXPECT_EQ(t.packets, 4709u);
  EXPECT_EQ(t.status[DecodeStatus::kOk], 4709u);
  EXPECT_EQ(t.l3[L3::kIpv4], 4683u);
  EXPECT_EQ(t.l3[L3::kIpv6], 16u);
  EXPECT_EQ(t.l3[L3::kArp], 4u);
  EXPECT_EQ(t.l3[L3::kNone], 6u);
  EXPECT_EQ(t.l4, 4699u);
  EXPECT_TRUE(t.anomalies.empty());
}

TEST(RealCaptures, ArpScan) {
  Tally t;
  if (!decode_capture("scan/arp_scan_slips.pcap", t)) GTEST_SKIP() << "shared capture not available";
  EXPECT_EQ(t.packets, 534u);
  EXPECT_EQ(t.l3[L3::kArp], 519u);
  EXPECT_TRUE(t.anomalies.empty());
}

TEST(RealCaptures, NmapIpProtocolScanHasEmptyTunnelProbes) {
  Tally t;
  if (!decode_capture("scan/nmap_ipproto_scan_evilfingers.pcap", t)) GTEST_SKIP() << "shared capture not available";
  // nmap -sO sends payload-less probes for IP-in-IP, IPv6-in-IP, GRE and
  // ICMPv6: four malformed packets, each counted, the rest decodes.
  EXPECT_EQ(t.packets, 513u);
  EXPECT_EQ(t.status[DecodeStatus::kMalformed], 4u);
  EXPECT_EQ(t.anomalies["decode.truncated_ipv4"], 1u);
  EXPECT_EQ(t.anomalies["decode.truncated_ipv6"], 1u);
  EXPECT_EQ(t.anomalies["decode.truncated_gre"], 1u);
  EXPECT_EQ(t.anomalies["decode.truncated_icmpv6"], 1u);
}

TEST(RealCaptures, ScansAndBeaconsDecodeCleanly) {
  const char* files[] = {
      "scan/nmap_syn_scan_evilfingers.pcap",     "scan/nmap_udp_scan_evilfingers.pcap",
      "scan/masscan_tcp_0-1000_esnet.pcap",      "c2_beacon/beacon_https_every2s_slips.pcap",
      "bruteforce/ftp_bruteforce_zeek.pcap",     "dns/sods_dmachard.pcap",
  };
  for (const char* name : files) {
    SCOPED_TRACE(name);
    Tally t;
    if (!decode_capture(name, t)) GTEST_SKIP() << "shared capture not available";
    EXPECT_EQ(t.status[DecodeStatus::kOk], t.packets);
    EXPECT_EQ(t.l4 + t.l3[L3::kArp], t.packets);
    EXPECT_TRUE(t.anomalies.empty());
  }
}

}  // namespace
}  // namespace trawl::test

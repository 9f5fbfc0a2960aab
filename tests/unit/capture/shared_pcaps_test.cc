// Real captures from ../shared/pcaps (see its MANIFEST.tsv): every file reads
// to the same packet count as Wireshark's.
#include <gtest/gtest.h>

#include <filesystem>

#include "capture/pcapng_reader.h"
#include "capture_test_util.h"

namespace trawl::capture {
namespace {

using test::read_all;

const std::string kPcaps = TRAWL_SHARED_PCAPS;

// Expected counts computed once with
//   tshark -r FILE -T fields -e frame.number | wc -l
// (TShark 4.0, Debian 12).
struct Expected {
  const char* file;
  size_t packets;
};
constexpr Expected kExpected[] = {
    {"benign/many_protocols_pcpp.pcap", 4709},
    {"benign/wikipedia_browse_zeek.pcap", 136},
    {"benign/workshop_2011_browse_zeek.pcap", 121},
    {"bruteforce/ftp_bruteforce_zeek.pcap", 606},
    {"bruteforce/kerberos_password_spray_kerbrute.pcapng", 33},
    {"bruteforce/ssh_guess_zeek.pcap", 431},
    {"bruteforce/ssh_hydra_1task_traceshare.pcap", 2486},  // pcapng despite the name
    {"bruteforce/ssh_ncrack_paranoid_traceshare.pcap", 2891},
    {"bruteforce/vnc_scanner_zeek.pcap", 20},
    {"c2_beacon/beacon_https_every2s_slips.pcap", 7931},
    {"c2_beacon/beacon_https_jitter2-3s_slips.pcap", 1084},
    {"c2_beacon/caldera_ragdoll_http_c2.pcap", 212},
    {"c2_beacon/tls_malicious_c2_clienthello_suricata.pcap", 9},
    {"c2_beacon/trickbot_c2_ndpi.pcap", 74},
    {"dns/dns2tcp_dmachard.pcap", 26},
    {"dns/dns_txt_tunnel_suricata.pcap", 164},
    {"dns/dnscat2_dmachard.pcap", 24},
    {"dns/dnsexfiltrator_dmachard.pcap", 28},
    {"dns/iodine_dmachard.pcap", 24},
    {"dns/sods_dmachard.pcap", 986},
    {"scan/arp_scan_slips.pcap", 534},
    {"scan/icmp_ping_sweep_slips.pcap", 37},
    {"scan/masscan_tcp_0-1000_esnet.pcap", 1005},
    {"scan/masscan_udp_0-1000_esnet.pcap", 1001},
    {"scan/nmap_ack_scan_evilfingers.pcap", 2000},
    {"scan/nmap_connect_scan_evilfingers.pcap", 9924},
    {"scan/nmap_fin_scan_evilfingers.pcap", 2000},
    {"scan/nmap_ipproto_scan_evilfingers.pcap", 513},
    {"scan/nmap_null_scan_evilfingers.pcap", 2000},
    {"scan/nmap_syn_scan_evilfingers.pcap", 2020},
    {"scan/nmap_udp_scan_evilfingers.pcap", 2028},
    {"scan/nmap_window_scan_evilfingers.pcap", 2000},
    {"scan/nmap_xmas_scan_evilfingers.pcap", 2000},
    {"smb_worm/blaster_worm_ppa.pcap", 18},
    {"smb_worm/ms17-010_eternalblue_scan_id2t.pcap", 23},
    {"smb_worm/smb_445_worm_sweep_chappell.pcapng", 209},
    {"smtp/smtp_30rcpt_darpa_ndpi.pcap", 95},
    {"smtp/smtp_600rcpt_zeek.pcap.gz", 2508},  // gzip
    {"smtp/smtp_authlogin_attachment_zeek.pcap", 125},
};

bool have_pcaps() { return std::filesystem::exists(kPcaps + "/MANIFEST.tsv"); }

TEST(SharedPcaps, PacketCountsMatchTshark) {
  if (!have_pcaps()) GTEST_SKIP() << "no " << kPcaps;
  for (const Expected& e : kExpected) {
    core::Anomalies a;
    std::string err;
    auto r = open_capture(kPcaps + "/" + e.file, 0, a, err);
    ASSERT_TRUE(r) << err;
    auto all = read_all(*r);
    EXPECT_EQ(all.last, ReadResult::kEnd) << e.file << ": " << r->error();
    EXPECT_EQ(all.packets.size(), e.packets) << e.file;
    for (const auto& p : all.packets) ASSERT_EQ(p.linktype, 1) << e.file;
    EXPECT_EQ(r->bytes_done(), r->bytes_total()) << e.file;
  }
}

// First and last packet times and lengths as
//   tshark -r FILE -T fields -e frame.time_epoch -e frame.cap_len -e frame.len
// prints them.
TEST(SharedPcaps, TimestampsMatchTshark) {
  if (!have_pcaps()) GTEST_SKIP() << "no " << kPcaps;
  struct Case {
    const char* file;
    int64_t first_ns, last_ns;
    uint32_t first_len, last_len;
  };
  const Case cases[] = {
      {"bruteforce/kerberos_password_spray_kerbrute.pcapng", 1595445392800983000, 1595445395110381000, 1514, 71},
      {"bruteforce/ssh_hydra_1task_traceshare.pcap", 682888000, 1198828748000, 74, 66},
      {"smtp/smtp_600rcpt_zeek.pcap.gz", 1785968796471478000, 1785968796739158000, 54, 54},
      {"smb_worm/smb_445_worm_sweep_chappell.pcapng", 1482092761893927000, 1482093103139911000, 77, 70},
  };
  for (const Case& c : cases) {
    core::Anomalies a;
    std::string err;
    auto r = open_capture(kPcaps + "/" + c.file, 0, a, err);
    ASSERT_TRUE(r) << err;
    auto all = read_all(*r);
    ASSERT_FALSE(all.packets.empty()) << c.file;
    EXPECT_EQ(all.packets.front().ts, c.first_ns) << c.file;
    EXPECT_EQ(all.packets.back().ts, c.last_ns) << c.file;
    EXPECT_EQ(all.packets.front().caplen, c.first_len) << c.file;
    EXPECT_EQ(all.packets.back().caplen, c.last_len) << c.file;
  }
}

TEST(SharedPcaps, MisnamedPcapngIsReadAsPcapng) {
  if (!have_pcaps()) GTEST_SKIP() << "no " << kPcaps;
  core::Anomalies a;
  std::string err;
  auto r = open_capture(kPcaps + "/bruteforce/ssh_hydra_1task_traceshare.pcap", 0, a, err);
  ASSERT_TRUE(r) << err;
  EXPECT_NE(dynamic_cast<PcapngReader*>(r.get()), nullptr);
}

TEST(SharedPcaps, WholeFolderMerges) {
  if (!have_pcaps()) GTEST_SKIP() << "no " << kPcaps;
  std::vector<std::string> errors;
  auto files = expand_inputs({kPcaps}, errors);
  EXPECT_TRUE(errors.empty());
  core::Anomalies a;
  MergedReader m(files, a);
  RawPacket p;
  size_t n = 0;
  int64_t prev = INT64_MIN;
  bool ordered = true;
  while (m.next(p) == ReadResult::kPacket) {
    ++n;
    // Files are merged in time order; only a file's own disorder shows.
    ordered = ordered && (p.ts.ns >= prev || a.count(core::AnomalyId("capture.timestamp_backwards")) > 0);
    prev = p.ts.ns;
  }
  size_t want = 0;
  for (const Expected& e : kExpected) want += e.packets;
  EXPECT_EQ(n, want);
  EXPECT_TRUE(ordered);
  // MANIFEST.tsv and README.md are not captures.
  EXPECT_EQ(m.errors().size(), 2u);
}

}  // namespace
}  // namespace trawl::capture

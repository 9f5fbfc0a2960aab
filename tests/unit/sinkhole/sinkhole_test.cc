// The sinkhole driver fed hand-built guest frames; every frame it injects is
// decoded back and checked, and the case files it writes are read back.
#include "sinkhole/sinkhole.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "capture/raw_packet.h"
#include "core/anomalies.h"
#include "decode/decoder.h"
#include "flow/conn_uid.h"
#include "flow/connection.h"
#include "sinkhole/case_writer.h"

namespace trawl::sinkhole {
namespace {

using namespace decode::tcp_flag;
namespace fs = std::filesystem;

const MacAddress kGuestMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const MacAddress kOwnMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
constexpr int64_t kMs = 1000000;
const core::Timestamp kT0 = core::Timestamp::from_sec_nsec(1700000000, 0);

core::IpAddress ip(const char* s) { return *core::IpAddress::parse(s); }
core::ByteView view(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
std::string text(core::ByteView v) { return std::string(core::as_chars(v)); }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<nlohmann::json> read_jsonl(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

// A DNS query for `name` (type `qtype`, class IN), id 0x1234, RD set.
std::vector<uint8_t> dns_query(const std::string& name, uint16_t qtype) {
  std::vector<uint8_t> q{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q.push_back(static_cast<uint8_t>(dot - start));
    for (size_t i = start; i < dot; ++i) q.push_back(static_cast<uint8_t>(name[i]));
    start = dot + 1;
  }
  q.push_back(0);
  q.push_back(static_cast<uint8_t>(qtype >> 8));
  q.push_back(static_cast<uint8_t>(qtype & 0xff));
  q.push_back(0);
  q.push_back(1);
  return q;
}

// A case directory under the system's temp folder, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("trawl_sinkhole_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// One Sinkhole with a capturing inject; frames it sent are decoded back.
struct Harness {
  SinkholeConfig cfg;
  std::unique_ptr<CaseWriter> writer;
  std::unique_ptr<Sinkhole> sh;
  std::deque<Frame> sent;       // every frame injected
  std::vector<Frame> pcap;      // guest frames and injected frames, in order
  core::Anomalies anomalies;
  decode::Decoder decoder{anomalies, [] {
                            decode::DecoderLimits l;
                            l.verify_checksums = true;
                            return l;
                          }()};
  core::Timestamp now = kT0;

  explicit Harness(const std::string& dir = {}, std::function<void(SinkholeConfig&)> tweak = {}) {
    cfg.own_mac = kOwnMac;
    cfg.never_answer.push_back(*core::IpNetwork::parse("10.9.0.1/32"));
    cfg.tcp.isn_source = [] { return 7000u; };
    if (tweak) tweak(cfg);
    EXPECT_EQ(Sinkhole::check_config(cfg), "");
    writer = std::make_unique<CaseWriter>(dir, case_limits(cfg.limits));
    std::string err;
    EXPECT_TRUE(writer->open(err)) << err;
    sh = std::make_unique<Sinkhole>(cfg, nullptr, *writer);
    sh->inject = [this](core::ByteView f) {
      sent.emplace_back(f.begin(), f.end());
      pcap.emplace_back(f.begin(), f.end());
    };
  }

  void feed(const Frame& f) {
    pcap.push_back(f);
    sh->on_frame(f, now);
  }

  decode::DecodedPacket decode(const Frame& f) {
    capture::RawPacket raw;
    raw.ts = now;
    raw.caplen = raw.wirelen = static_cast<uint32_t>(f.size());
    raw.linktype = 1;
    raw.data = f.data();
    decode::DecodedPacket p;
    EXPECT_EQ(decoder.decode(raw, p), decode::DecodeStatus::kOk);
    EXPECT_FALSE(p.bad_checksum);
    return p;
  }

  // Frames sent since `from`, decoded.
  std::vector<decode::DecodedPacket> since(size_t from) {
    std::vector<decode::DecodedPacket> out;
    for (size_t i = from; i < sent.size(); ++i) out.push_back(decode(sent[i]));
    return out;
  }
};

FrameAddrs guest_to(const char* src, const char* dst) {
  FrameAddrs a;
  a.src_mac = kGuestMac;
  a.dst_mac = kOwnMac;
  a.src = ip(src);
  a.dst = ip(dst);
  return a;
}

Frame tcp(const FrameAddrs& a, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
          const std::string& payload = {}, uint16_t mss = 0) {
  TcpFields t;
  t.sport = sport;
  t.dport = dport;
  t.seq = seq;
  t.ack = ack;
  t.flags = flags;
  t.window = 65535;
  t.mss = mss;
  return build_tcp_frame(a, t, view(payload));
}

// A guest TCP client over the harness: handshake, data, FIN, ACKing what it gets.
struct Client {
  Harness& h;
  FrameAddrs a;
  uint16_t sport, dport;
  uint32_t seq = 5000;
  uint32_t ack = 0;
  std::string received;
  bool got_fin = false;

  Client(Harness& hh, const char* src, const char* dst, uint16_t sp, uint16_t dp)
      : h(hh), a(guest_to(src, dst)), sport(sp), dport(dp) {}

  void connect() {
    const size_t from = h.sent.size();
    h.feed(tcp(a, sport, dport, seq, 0, kSyn, {}, 1460));
    auto out = h.since(from);
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].tcp_flags, kSyn | kAck);
    ack = out[0].seq + 1;
    ++seq;
    h.feed(tcp(a, sport, dport, seq, ack, kAck));
  }
  // Sends `data` (and FIN when asked), then ACKs everything that comes back
  // until nothing more arrives (bounded rounds).
  void send(const std::string& data, bool fin = false) {
    size_t from = h.sent.size();
    h.now = h.now + kMs;
    h.feed(tcp(a, sport, dport, seq, ack, static_cast<uint8_t>(kAck | kPsh | (fin ? kFin : 0)), data));
    seq += static_cast<uint32_t>(data.size()) + (fin ? 1 : 0);
    for (int round = 0; round < 100 && from < h.sent.size(); ++round) {
      auto out = h.since(from);
      from = h.sent.size();
      bool need_ack = false;
      for (const auto& p : out) {
        if (p.ip_proto != decode::ip_proto::kTcp || p.dport != sport) continue;
        if (p.seq == ack && p.payload.size() > 0) {
          received += text(p.payload);
          ack += static_cast<uint32_t>(p.payload.size());
          need_ack = true;
        }
        if ((p.tcp_flags & kFin) && !got_fin && p.seq + p.payload.size() == ack) {
          got_fin = true;
          ++ack;
          need_ack = true;
        }
      }
      if (need_ack) {
        h.now = h.now + kMs;
        h.feed(tcp(a, sport, dport, seq, ack, kAck));
      }
    }
  }
};

TEST(Sinkhole, SynGetsSynAckFromTheOriginalDestination) {
  Harness h;
  const FrameAddrs a = guest_to("10.9.0.2", "203.0.113.7");
  h.feed(tcp(a, 40000, 8081, 100, 0, kSyn, {}, 1400));
  auto out = h.since(0);
  ASSERT_EQ(out.size(), 1u);
  const auto& p = out[0];
  EXPECT_EQ(p.src, ip("203.0.113.7"));
  EXPECT_EQ(p.dst, ip("10.9.0.2"));
  EXPECT_EQ(p.sport, 8081);
  EXPECT_EQ(p.dport, 40000);
  EXPECT_EQ(p.tcp_flags, kSyn | kAck);
  EXPECT_EQ(p.seq, 7000u);
  EXPECT_EQ(p.ack, 101u);
  EXPECT_EQ(p.mss, 1460);
  EXPECT_EQ(p.src_mac, kOwnMac);
  EXPECT_EQ(p.dst_mac, kGuestMac);
  // The same SYN again: the same SYN-ACK, still one connection.
  h.feed(tcp(a, 40000, 8081, 100, 0, kSyn, {}, 1400));
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.sent[0], h.sent[1]);
  EXPECT_EQ(h.sh->connection_count(), 1u);
  EXPECT_EQ(h.sh->stats().tcp_segments, 2u);
  EXPECT_EQ(h.sh->stats().frames_injected, 2u);
}

TEST(Sinkhole, NeverAnswerAndOwnFramesAreLeftAlone) {
  Harness h;
  // To the sinkhole's own address: the kernel's business.
  h.feed(tcp(guest_to("10.9.0.2", "10.9.0.1"), 40000, 22, 100, 0, kSyn));
  // A frame from our own MAC (an injected frame seen again by the capture).
  FrameAddrs own = guest_to("203.0.113.7", "10.9.0.2");
  own.src_mac = kOwnMac;
  own.dst_mac = kGuestMac;
  h.feed(tcp(own, 80, 40000, 1, 101, kSyn | kAck));
  EXPECT_TRUE(h.sent.empty());
  EXPECT_EQ(h.sh->stats().never_answered, 1u);
  EXPECT_EQ(h.sh->stats().own_frames, 1u);
  EXPECT_EQ(h.sh->stats().frames, 2u);
  EXPECT_EQ(h.sh->connection_count(), 0u);
}

TEST(Sinkhole, HttpGetOverUserSpaceTcp) {
  TempDir dir;
  Harness h(dir.path.string());
  Client c(h, "10.9.0.2", "203.0.113.7", 40001, 80);
  c.connect();
  const std::string request = "GET /a/b.exe?c=1 HTTP/1.1\r\nHost: 203.0.113.7\r\nUser-Agent: test-agent/1.0\r\n\r\n";
  c.send(request);
  ASSERT_GT(c.received.size(), 100u);
  EXPECT_EQ(c.received.substr(0, 15), "HTTP/1.1 200 OK");
  const size_t body = c.received.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_EQ(c.received.substr(body + 4, 2), "MZ");  // the fake .exe
  c.send("", true);
  // Our FIN follows the guest's; the final ACK moves the connection to linger.
  h.now = h.now + 10 * core::kNsPerSec;
  h.sh->on_timer(h.now);
  EXPECT_EQ(h.sh->stats().tcp_connections, 1u);
  EXPECT_EQ(h.sh->stats().connections_by_service.at("http"), 1u);
  EXPECT_EQ(h.sh->session_count(), 0u);
  h.sh->finish(h.now);

  auto conns = read_jsonl(dir.path / "sinkhole_conn.jsonl");
  ASSERT_EQ(conns.size(), 1u);
  const auto& r = conns[0];
  EXPECT_EQ(r["id.orig_h"], "10.9.0.2");
  EXPECT_EQ(r["id.orig_p"], 40001);
  EXPECT_EQ(r["id.resp_h"], "203.0.113.7");
  EXPECT_EQ(r["id.resp_p"], 80);
  EXPECT_EQ(r["service"], "http");
  EXPECT_EQ(r["proto"], "tcp");
  EXPECT_EQ(r["orig_bytes"], request.size());
  EXPECT_EQ(r["resp_bytes"], c.received.size());
  EXPECT_EQ(r["close_reason"], "normal");
  EXPECT_FALSE(r.contains("domain"));
  // The uid `trawl analyze` gives the pcap: index 0 (the SYN), canonical key, SYN time.
  const auto syn = h.decode(h.pcap[0]);
  EXPECT_EQ(r["uid"], flow::make_conn_uid(0, flow::make_packet_key(syn).key, kT0));

  // Some event of the HTTP service names the URL and carries the uid.
  bool url_logged = false;
  for (const auto& e : fs::directory_iterator(dir.path)) {
    const std::string name = e.path().filename().string();
    if (name == "sinkhole_conn.jsonl" || e.path().extension() != ".jsonl") continue;
    for (const auto& ev : read_jsonl(e.path())) {
      EXPECT_EQ(ev["uid"], r["uid"]) << name;
      EXPECT_EQ(ev["id.resp_h"], "203.0.113.7") << name;
      if (ev.dump().find("/a/b.exe?c=1") != std::string::npos) url_logged = true;
    }
  }
  EXPECT_TRUE(url_logged);
  // The address was contacted without a DNS answer of ours: an IOC.
  const auto iocs = nlohmann::json::parse(read_file(dir.path / "iocs.json"));
  ASSERT_EQ(iocs["ip"].size(), 1u);
  EXPECT_EQ(iocs["ip"][0]["value"], "203.0.113.7");
  EXPECT_EQ(iocs["ip"][0]["count"], 1);
  EXPECT_EQ(iocs["domain"].size(), 0u);
  const std::string summary = read_file(dir.path / "summary.txt");
  EXPECT_NE(summary.find("  1  203.0.113.7\n"), std::string::npos) << summary;
  EXPECT_NE(summary.find("tcp service http: 1\n"), std::string::npos) << summary;
}

TEST(Sinkhole, FinishClosesWhatIsStillOpen) {
  TempDir dir;
  Harness h(dir.path.string());
  Client c(h, "10.9.0.2", "203.0.113.7", 40003, 80);
  c.connect();
  c.send("GET /half");  // a request that never ends
  h.feed(tcp(guest_to("10.9.0.2", "203.0.113.8"), 40004, 443, 1, 0, kSyn));  // half-open
  ASSERT_EQ(h.sh->session_count(), 1u);
  ASSERT_EQ(h.sh->tracked_connections(), 2u);
  const size_t before = h.sent.size();
  h.sh->finish(h.now);
  EXPECT_EQ(h.sh->session_count(), 0u);
  EXPECT_EQ(h.sh->tracked_connections(), 0u);
  auto out = h.since(before);
  ASSERT_EQ(out.size(), 1u);  // the open connection is reset
  EXPECT_EQ(out[0].tcp_flags, kRst | kAck);
  EXPECT_EQ(out[0].dport, 40003);
  // Later frames are ignored.
  h.feed(tcp(guest_to("10.9.0.2", "203.0.113.9"), 40005, 80, 1, 0, kSyn));
  EXPECT_EQ(h.sent.size(), before + 1);
  auto conns = read_jsonl(dir.path / "sinkhole_conn.jsonl");
  ASSERT_EQ(conns.size(), 2u);
  EXPECT_EQ(conns[0]["id.orig_p"], 40003);
  EXPECT_EQ(conns[0]["close_reason"], "shutdown");
  EXPECT_EQ(conns[0]["orig_bytes"], 9);
  EXPECT_EQ(conns[1]["id.orig_p"], 40004);
  EXPECT_EQ(conns[1]["close_reason"], "shutdown");
  EXPECT_FALSE(conns[1].contains("service"));
  EXPECT_TRUE(fs::exists(dir.path / "iocs.json"));
  EXPECT_TRUE(fs::exists(dir.path / "summary.txt"));
}

TEST(Sinkhole, DnsAnswerThenConnectionCarriesTheDomain) {
  TempDir dir;
  Harness h(dir.path.string());
  const auto q = dns_query("evil.example.com", 1);
  h.feed(build_udp_frame(guest_to("10.9.0.2", "192.0.2.53"), 51000, 53, q));
  auto out = h.since(0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ip_proto, decode::ip_proto::kUdp);
  EXPECT_EQ(out[0].src, ip("192.0.2.53"));
  EXPECT_EQ(out[0].sport, 53);
  EXPECT_EQ(out[0].dport, 51000);
  // The answer: same id, QR set, one answer whose A data (the message's
  // last four bytes: no EDNS was asked for) is the pool's first address.
  const core::ByteView ans = out[0].payload;
  ASSERT_GE(ans.size(), q.size() + 16);
  EXPECT_EQ(core::load_be16(ans.data()), 0x1234);
  EXPECT_EQ(ans[2] & 0x80, 0x80);
  EXPECT_EQ(core::load_be16(ans.data() + 6), 1);  // ANCOUNT
  EXPECT_EQ(core::IpAddress::v4(ans.data() + ans.size() - 4), ip("198.18.0.1"));
  EXPECT_EQ(h.sh->stats().dns_queries, 1u);
  // The pool's first address went to the name.
  const auto pooled = h.sh->dns().name_for(ip("198.18.0.1"));
  ASSERT_TRUE(pooled.has_value());
  EXPECT_EQ(*pooled, "evil.example.com");

  Client c(h, "10.9.0.2", "198.18.0.1", 40002, 8080);
  c.connect();
  c.send("GET /x.png HTTP/1.1\r\nHost: evil.example.com:8080\r\n\r\n", true);
  h.sh->finish(h.now);

  const auto dns = read_jsonl(dir.path / "sinkhole_dns.jsonl");
  ASSERT_EQ(dns.size(), 1u);
  EXPECT_EQ(dns[0]["query"], "evil.example.com");
  EXPECT_EQ(dns[0]["qtype"], 1);
  EXPECT_EQ(dns[0]["rcode"], 0);
  EXPECT_EQ(dns[0]["answers"], nlohmann::json::array({"198.18.0.1"}));
  EXPECT_EQ(dns[0]["id.resp_h"], "192.0.2.53");
  EXPECT_EQ(dns[0]["trans_id"], 0x1234);
  auto conns = read_jsonl(dir.path / "sinkhole_conn.jsonl");
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0]["domain"], "evil.example.com");
  EXPECT_EQ(conns[0]["id.resp_h"], "198.18.0.1");
  // The pool address is ours, not an IOC; the domain is.
  const auto iocs = nlohmann::json::parse(read_file(dir.path / "iocs.json"));
  EXPECT_EQ(iocs["ip"].size(), 0u);
  ASSERT_GE(iocs["domain"].size(), 1u);
  EXPECT_EQ(iocs["domain"][0]["value"], "evil.example.com");
}

TEST(Sinkhole, IcmpEchoGetsReplies) {
  Harness h;
  const std::string body = std::string("\x00\x07\x00\x03", 4) + "abcdefgh";  // id 7, seq 3, data
  h.feed(build_icmp_frame(guest_to("10.9.0.2", "198.51.100.9"), 8, 0, view(body)));
  h.feed(build_icmp_frame(guest_to("2001:db8::2", "2001:db8:1::9"), 128, 0, view(body)));
  auto out = h.since(0);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].ip_proto, decode::ip_proto::kIcmp);
  EXPECT_EQ(out[0].sport, 0);  // echo reply
  EXPECT_EQ(out[0].src, ip("198.51.100.9"));
  EXPECT_EQ(out[0].dst, ip("10.9.0.2"));
  EXPECT_EQ(out[0].icmp_id, 7);
  EXPECT_EQ(text(out[0].payload), "abcdefgh");
  EXPECT_EQ(out[1].ip_proto, decode::ip_proto::kIcmpv6);
  EXPECT_EQ(out[1].sport, 129);
  EXPECT_EQ(out[1].src, ip("2001:db8:1::9"));
  EXPECT_EQ(out[1].icmp_id, 7);
  EXPECT_EQ(text(out[1].payload), "abcdefgh");
  // Destination unreachable from the guest: not answered.
  h.feed(build_icmp_frame(guest_to("10.9.0.2", "198.51.100.9"), 3, 3, view(body)));
  EXPECT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.sh->stats().icmp_echoes, 2u);
  EXPECT_EQ(h.sh->stats().icmp_other, 1u);
}

TEST(Sinkhole, OtherUdpIsLoggedNotAnswered) {
  TempDir dir;
  Harness h(dir.path.string(), [](SinkholeConfig& c) { c.limits.udp_logged_bytes = 4; });
  h.feed(build_udp_frame(guest_to("10.9.0.2", "203.0.113.50"), 40000, 4444, view(std::string("hi\x01\xffzz", 6))));
  EXPECT_TRUE(h.sent.empty());
  h.sh->finish(h.now);
  auto ev = read_jsonl(dir.path / "sinkhole_udp.jsonl");
  ASSERT_EQ(ev.size(), 1u);
  const auto syn = h.decode(h.pcap[0]);
  const nlohmann::json want = {{"ts", 1700000000.0},
                               {"uid", flow::make_conn_uid(0, flow::make_packet_key(syn).key, kT0)},
                               {"id.orig_h", "10.9.0.2"},
                               {"id.orig_p", 40000},
                               {"id.resp_h", "203.0.113.50"},
                               {"id.resp_p", 4444},
                               {"len", 6},
                               {"first_bytes_hex", "686901ff"},
                               {"first_bytes_text", "hi.."}};
  EXPECT_EQ(ev[0], want);
  EXPECT_EQ(h.sh->stats().udp_other, 1u);
  EXPECT_EQ(h.sh->stats().events_by_log.at("sinkhole_udp"), 1u);
}

Frame arp_request(const char* sender, const char* target) {
  Frame f(42, 0);
  std::fill(f.begin(), f.begin() + 6, 0xff);
  std::copy(kGuestMac.begin(), kGuestMac.end(), f.begin() + 6);
  f[12] = 0x08;
  f[13] = 0x06;
  const uint8_t hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1};
  std::copy(hdr, hdr + 8, f.begin() + 14);
  std::copy(kGuestMac.begin(), kGuestMac.end(), f.begin() + 22);
  const auto s = ip(sender), t = ip(target);
  std::copy(s.wire_data(), s.wire_data() + 4, f.begin() + 28);
  std::copy(t.wire_data(), t.wire_data() + 4, f.begin() + 38);
  return f;
}

TEST(Sinkhole, ArpRequestsForOtherAddressesAreClaimed) {
  Harness h;
  h.feed(arp_request("10.9.0.2", "10.9.0.254"));  // the gateway the guest was given
  ASSERT_EQ(h.sent.size(), 1u);
  Frame want(60, 0);
  std::copy(kGuestMac.begin(), kGuestMac.end(), want.begin());
  std::copy(kOwnMac.begin(), kOwnMac.end(), want.begin() + 6);
  const uint8_t rest[] = {0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 2, 0x02, 0, 0, 0, 0, 0x02, 10, 9, 0, 254,
                          0x02, 0,    0, 0, 0, 1, 10, 9, 0, 2};
  std::copy(std::begin(rest), std::end(rest), want.begin() + 12);
  EXPECT_EQ(h.sent[0], want);
  h.feed(arp_request("10.9.0.2", "10.9.0.1"));  // the sinkhole's own address: the kernel answers
  h.feed(arp_request("0.0.0.0", "10.9.0.2"));   // a probe (address conflict detection)
  h.feed(arp_request("10.9.0.2", "10.9.0.2"));  // an announcement
  EXPECT_EQ(h.sent.size(), 1u);
  EXPECT_EQ(h.sh->stats().arp_replies, 1u);
  EXPECT_EQ(h.sh->stats().arp_ignored, 3u);
}

TEST(Sinkhole, NeighbourSolicitationIsAnswered) {
  Harness h;
  auto ns = [](const char* src) {
    FrameAddrs a = guest_to(src, "ff02::1:ff00:99");
    a.dst_mac = {0x33, 0x33, 0xff, 0, 0, 0x99};
    a.ttl = 255;
    std::vector<uint8_t> body(4 + 16, 0);
    const auto t = ip("2001:db8::99");
    std::copy(t.wire_data(), t.wire_data() + 16, body.begin() + 4);
    return build_icmp_frame(a, 135, 0, body);
  };
  h.feed(ns("2001:db8::2"));
  h.feed(ns("::"));  // duplicate address detection: must stay unanswered
  auto out = h.since(0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].sport, 136);
  EXPECT_EQ(out[0].ttl, 255);
  EXPECT_EQ(out[0].src, ip("2001:db8::99"));
  EXPECT_EQ(out[0].dst, ip("2001:db8::2"));
  EXPECT_EQ(out[0].dst_mac, kGuestMac);
  // Payload after the 8-byte header (flags in it): target, then the option with our MAC.
  ASSERT_EQ(out[0].payload.size(), 24u);
  EXPECT_EQ(core::IpAddress::v6(out[0].payload.data()), ip("2001:db8::99"));
  EXPECT_EQ(out[0].payload[16], 2);
  EXPECT_EQ(MacAddress(*reinterpret_cast<const MacAddress*>(out[0].payload.data() + 18)), kOwnMac);
  EXPECT_EQ(h.sh->stats().ndp_replies, 1u);
}

TEST(Sinkhole, SynFloodStaysBounded) {
  Harness h({}, [](SinkholeConfig& c) {
    c.tcp.max_connections = 2048;
    c.tcp.max_half_open = 512;
  });
  std::mt19937 rng(42);
  constexpr uint32_t kSyns = 100000;
  size_t injected = 0;
  h.sh->inject = [&](core::ByteView) { ++injected; };
  for (uint32_t i = 0; i < kSyns; ++i) {
    FrameAddrs a = guest_to("10.9.0.2", "203.0.113.1");
    a.src = core::IpAddress::v4(0x0a000000u | (rng() & 0xffffff));
    a.dst = core::IpAddress::v4(0xcb007100u | (rng() & 0xff));
    h.now = h.now + 1000;
    h.sh->on_frame(tcp(a, static_cast<uint16_t>(1024 + rng() % 60000), 80, rng(), 0, kSyn), h.now);
    ASSERT_LE(h.sh->connection_count(), 2048u);
  }
  EXPECT_EQ(h.sh->tcp().half_open_count(), 512u);
  EXPECT_EQ(h.sh->connection_count(), 512u);
  EXPECT_EQ(h.sh->session_count(), 0u);
  EXPECT_EQ(h.sh->tracked_connections(), 512u);
  EXPECT_EQ(h.sh->stats().tcp_segments, kSyns);
  EXPECT_EQ(h.sh->tcp().counters().syns, kSyns);
  EXPECT_EQ(h.sh->stats().syn_flood_evictions, kSyns - 512);
  EXPECT_EQ(injected, kSyns);  // every SYN got its SYN-ACK
  // Each evicted half-open connection is one record (counted by the null writer).
  EXPECT_EQ(h.writer->records_by_log().at("sinkhole_conn"), kSyns - 512);
  h.sh->finish(h.now);
  EXPECT_EQ(h.writer->records_by_log().at("sinkhole_conn"), kSyns);
  EXPECT_EQ(h.sh->tracked_connections(), 0u);
}

TEST(Sinkhole, GarbageFramesAreCounted) {
  Harness h;
  h.feed(Frame{1, 2, 3});
  Frame trunc = tcp(guest_to("10.9.0.2", "203.0.113.7"), 1, 2, 3, 4, kSyn);
  trunc.resize(30);
  h.feed(trunc);
  EXPECT_TRUE(h.sent.empty());
  EXPECT_EQ(h.sh->stats().undecodable, 2u);
}

// CaseWriter alone, for a scripted session: iocs.json byte for byte.
TEST(CaseWriter, ScriptedSessionFilesAreExact) {
  TempDir dir;
  CaseLimits limits;
  limits.max_artifact_bytes = 10;
  CaseWriter w(dir.path.string(), limits);
  std::string err;
  ASSERT_TRUE(w.open(err)) << err;
  const core::Timestamp t1 = kT0, t2 = kT0 + 2500 * 1000;
  ConnIds id;
  id.orig_h = ip("10.9.0.2");
  id.orig_p = 40000;
  id.resp_h = ip("198.18.0.1");
  id.resp_p = 80;
  DnsExchange ex;
  ex.id = 9;
  ex.query = "b.example";
  ex.qtype = 1;
  ex.qclass = 1;
  ex.answers = {"198.18.0.1"};
  ex.ttl = 300;
  w.dns(t1, "Cdns", id, ex);
  ex.query = "1.0.18.198.in-addr.arpa";  // reverse lookups are not domains of interest
  w.dns(t1, "Cdns2", id, ex);
  ServiceEvent e;
  e.log = "sinkhole_http";
  e.json = R"({"method":"POST"})";
  e.iocs = {{Ioc::Kind::kUrl, "http://b.example/up"}, {Ioc::Kind::kUserAgent, "ua/1"},
            {Ioc::Kind::kDomain, "b.example"}};
  e.artifact_kind = "http_body";
  e.artifact = {'a', 'b', 'c'};
  w.event(t2, "Cabc", id, e);
  e.artifact = std::vector<uint8_t>(20, 'x');  // over the byte limit: hashed, not stored
  e.log = "../evil";                           // not a safe file name
  w.event(t2, "Cabc", id, e);
  w.ioc({Ioc::Kind::kIp, "203.0.113.7"}, t2);
  CaseWriter::RunSummary sum;
  sum.start = t1;
  sum.end = t2;
  sum.ca_cert = "case/ca/trawl-sinkhole-ca.crt";
  sum.counters = {{"frames", 5}};
  w.finish(sum);

  const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  const std::string x20sha = [&] {
    for (const auto& [v, entry] : w.iocs().at(Ioc::Kind::kSha256))
      if (v != abc) return v;
    return std::string();
  }();
  ASSERT_EQ(x20sha.size(), 64u);
  const std::string want_iocs =
      "{\n"
      "  \"domain\": [\n"
      "    {\"value\":\"b.example\",\"count\":3,\"first_seen\":1700000000.000000,\"last_seen\":1700000000.002500}\n"
      "  ],\n"
      "  \"ip\": [\n"
      "    {\"value\":\"203.0.113.7\",\"count\":1,\"first_seen\":1700000000.002500,\"last_seen\":1700000000.002500}\n"
      "  ],\n"
      "  \"url\": [\n"
      "    {\"value\":\"http://b.example/up\",\"count\":2,\"first_seen\":1700000000.002500,\"last_seen\":1700000000.002500}\n"
      "  ],\n"
      "  \"user_agent\": [\n"
      "    {\"value\":\"ua/1\",\"count\":2,\"first_seen\":1700000000.002500,\"last_seen\":1700000000.002500}\n"
      "  ],\n"
      "  \"email\": [],\n"
      "  \"sha256\": [\n" +
      [&] {
        std::string a = "    {\"value\":\"" + abc +
                        "\",\"count\":1,\"first_seen\":1700000000.002500,\"last_seen\":1700000000.002500}";
        std::string b = "    {\"value\":\"" + x20sha +
                        "\",\"count\":1,\"first_seen\":1700000000.002500,\"last_seen\":1700000000.002500}";
        return abc < x20sha ? a + ",\n" + b + "\n" : b + ",\n" + a + "\n";
      }() +
      "  ],\n"
      "  \"ja3\": [],\n"
      "  \"ja4\": [],\n"
      "  \"dropped\": 0\n"
      "}\n";
  EXPECT_EQ(read_file(dir.path / "iocs.json"), want_iocs);
  EXPECT_EQ(read_file(dir.path / "files" / abc), "abc");
  EXPECT_FALSE(fs::exists(dir.path / "files" / x20sha));
  EXPECT_EQ(w.artifacts_stored(), 1u);
  EXPECT_EQ(w.artifacts_not_stored(), 1u);

  EXPECT_EQ(read_file(dir.path / "sinkhole_http.jsonl"),
            "{\"ts\":1700000000.002500,\"uid\":\"Cabc\",\"id.orig_h\":\"10.9.0.2\",\"id.orig_p\":40000,"
            "\"id.resp_h\":\"198.18.0.1\",\"id.resp_p\":80,\"artifact_kind\":\"http_body\",\"artifact_sha256\":\"" +
                abc + "\",\"artifact_bytes\":3,\"method\":\"POST\"}\n");
  const auto other = read_jsonl(dir.path / "sinkhole_other.jsonl");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0]["artifact_sha256"], x20sha);
  EXPECT_FALSE(fs::exists(dir.path / ".." / "evil.jsonl"));
  EXPECT_EQ(read_file(dir.path / "sinkhole_dns.jsonl"),
            "{\"ts\":1700000000.000000,\"uid\":\"Cdns\",\"id.orig_h\":\"10.9.0.2\",\"id.orig_p\":40000,"
            "\"id.resp_h\":\"198.18.0.1\",\"id.resp_p\":80,\"proto\":\"udp\",\"trans_id\":9,\"query\":\"b.example\","
            "\"qclass\":1,\"qtype\":1,\"rcode\":0,\"answers\":[\"198.18.0.1\"],\"ttl\":300,\"truncated\":false,"
            "\"malformed\":false}\n"
            "{\"ts\":1700000000.000000,\"uid\":\"Cdns2\",\"id.orig_h\":\"10.9.0.2\",\"id.orig_p\":40000,"
            "\"id.resp_h\":\"198.18.0.1\",\"id.resp_p\":80,\"proto\":\"udp\",\"trans_id\":9,"
            "\"query\":\"1.0.18.198.in-addr.arpa\",\"qclass\":1,\"qtype\":1,\"rcode\":0,\"answers\":[\"198.18.0.1\"],"
            "\"ttl\":300,\"truncated\":false,\"malformed\":false}\n");
  const std::string summary = read_file(dir.path / "summary.txt");
  EXPECT_NE(summary.find("Run: 1700000000.000000 to 1700000000.002500 (0.002500 s)\n"), std::string::npos) << summary;
  EXPECT_NE(summary.find("  frames: 5\n"), std::string::npos);
  EXPECT_NE(summary.find("Domains (1)\n  3  b.example\n"), std::string::npos) << summary;
  EXPECT_NE(summary.find("1 files hashed but not stored"), std::string::npos);
  EXPECT_NE(summary.find("case/ca/trawl-sinkhole-ca.crt"), std::string::npos);
}

TEST(CaseWriter, IocTablesAreBounded) {
  CaseLimits limits;
  limits.max_iocs_per_kind = 3;
  limits.max_records_per_log = 2;
  CaseWriter w({}, limits);
  for (int i = 0; i < 10; ++i) w.ioc({Ioc::Kind::kDomain, "d" + std::to_string(i)}, kT0);
  EXPECT_EQ(w.iocs().at(Ioc::Kind::kDomain).size(), 3u);
  EXPECT_EQ(w.iocs_dropped(), 7u);
  SinkholeConn c;
  for (int i = 0; i < 5; ++i) w.conn(c);
  EXPECT_EQ(w.records_by_log().at("sinkhole_conn"), 2u);
  EXPECT_EQ(w.records_dropped(), 3u);
}

}  // namespace
}  // namespace trawl::sinkhole

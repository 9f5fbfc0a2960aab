// TcpEndpoint driven by hand-built guest segments; every frame it emits is
// decoded back (checksums verified) and checked field by field.
#include "sinkhole/tcp_endpoint.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cstdlib>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "capture/raw_packet.h"
#include "core/anomalies.h"
#include "decode/decoder.h"

namespace trawl::sinkhole {
namespace {

using namespace decode::tcp_flag;

const MacAddress kGuestMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const MacAddress kOurMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
constexpr uint32_t kIsn = 1000;
constexpr uint32_t kGuestIsn = 5000;
constexpr int64_t kMs = 1000000;

core::IpAddress ip(const char* s) { return *core::IpAddress::parse(s); }
core::ByteView view(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// A frame we emitted, decoded.
struct Seg {
  core::IpAddress src, dst;
  MacAddress src_mac{}, dst_mac{};
  uint16_t sport = 0, dport = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0, mss = 0;
  std::string payload;
};

struct Recorder : TcpSink {
  std::deque<Frame> frames;
  std::vector<std::string> events;
  std::map<uint64_t, std::string> received;
  std::function<void(const TcpConnInfo&, core::ByteView)> on_data;
  void frame(core::ByteView b) override { frames.emplace_back(b.begin(), b.end()); }
  void opened(const TcpConnInfo& c) override { events.push_back("opened " + std::to_string(c.id)); }
  void data(const TcpConnInfo& c, core::ByteView b) override {
    received[c.id].append(core::as_chars(b));
    events.push_back("data " + std::to_string(c.id) + " " + std::string(core::as_chars(b)));
    if (on_data) on_data(c, b);
  }
  void peer_closed(const TcpConnInfo& c) override { events.push_back("peer_closed " + std::to_string(c.id)); }
  void closed(const TcpConnInfo& c, CloseReason r) override {
    events.push_back("closed " + std::to_string(c.id) + " " + to_string(r));
  }
};

class Harness : public ::testing::Test {
 protected:
  static TcpConfig fixed_isn(TcpConfig cfg = {}) {
    if (!cfg.isn_source) cfg.isn_source = [] { return kIsn; };
    return cfg;
  }
  void make(TcpConfig cfg = {}) { ep_ = std::make_unique<TcpEndpoint>(fixed_isn(std::move(cfg)), rec_); }
  TcpEndpoint& ep() {
    if (!ep_) make();
    return *ep_;
  }

  // One guest segment to server_:port_ from guest_:gport_.
  void guest(uint8_t flags, uint32_t seq, uint32_t ack, const std::string& payload = "", uint16_t window = 65535,
             uint16_t mss = 0) {
    FrameAddrs a;
    a.src_mac = kGuestMac;
    a.dst_mac = kOurMac;
    a.src = guest_;
    a.dst = server_;
    const Frame f = build_tcp_frame(a, TcpFields{gport_, port_, seq, ack, flags, window, mss}, view(payload));
    ASSERT_FALSE(f.empty());
    decode::DecodedPacket p;
    ASSERT_EQ(decode(f, p), decode::DecodeStatus::kOk);
    ep().on_segment(p, now_);
  }
  decode::DecodeStatus decode(const Frame& f, decode::DecodedPacket& p) {
    capture::RawPacket raw;
    raw.caplen = raw.wirelen = static_cast<uint32_t>(f.size());
    raw.data = f.data();
    return decoder_.decode(raw, p);
  }
  // The next frame we emitted, decoded and checksum-verified.
  Seg take() {
    Seg s;
    EXPECT_FALSE(rec_.frames.empty());
    if (rec_.frames.empty()) return s;
    const Frame f = std::move(rec_.frames.front());
    rec_.frames.pop_front();
    decode::DecodedPacket p;
    EXPECT_EQ(decode(f, p), decode::DecodeStatus::kOk);
    EXPECT_FALSE(p.bad_checksum);
    EXPECT_EQ(anomalies_.total(), 0u);
    s.src = p.src;
    s.dst = p.dst;
    s.src_mac = p.src_mac;
    s.dst_mac = p.dst_mac;
    s.sport = p.sport;
    s.dport = p.dport;
    s.seq = p.seq;
    s.ack = p.ack;
    s.flags = p.tcp_flags;
    s.window = p.window;
    s.mss = p.mss;
    s.payload.assign(core::as_chars(p.payload));
    return s;
  }
  size_t pending() const { return rec_.frames.size(); }
  void expect_ack(uint32_t ack) {
    const Seg s = take();
    EXPECT_EQ(s.flags, kAck);
    EXPECT_EQ(s.ack, ack);
    EXPECT_TRUE(s.payload.empty());
  }
  // Handshake; returns the connection id.
  uint64_t open(uint16_t guest_mss = 1460) {
    guest(kSyn, kGuestIsn, 0, "", 65535, guest_mss);
    const Seg synack = take();
    EXPECT_EQ(synack.flags, kSyn | kAck);
    guest(kAck, kGuestIsn + 1, synack.seq + 1);
    EXPECT_EQ(pending(), 0u);
    return next_id_++;
  }
  TcpState state_of(uint64_t id) {
    TcpState s{};
    EXPECT_TRUE(ep().state(id, s));
    return s;
  }
  void advance(int64_t ns) {
    now_ = now_ + ns;
    ep().on_timer(now_);
  }

  core::Anomalies anomalies_;
  decode::Decoder decoder_{anomalies_, [] {
                             decode::DecoderLimits l;
                             l.verify_checksums = true;
                             return l;
                           }()};
  Recorder rec_;
  std::unique_ptr<TcpEndpoint> ep_;
  core::Timestamp now_ = core::Timestamp::from_sec_nsec(1700000000, 0);
  core::IpAddress guest_ = ip("198.51.100.10");
  core::IpAddress server_ = ip("203.0.113.7");
  uint16_t gport_ = 50000;
  uint16_t port_ = 80;
  uint64_t next_id_ = 1;
};

TEST_F(Harness, HandshakeForgesSynAck) {
  guest(kSyn, kGuestIsn, 0, "", 64240, 1400);
  ASSERT_EQ(pending(), 1u);
  const Seg s = take();
  EXPECT_EQ(s.src, server_);
  EXPECT_EQ(s.dst, guest_);
  EXPECT_EQ(s.src_mac, kOurMac);
  EXPECT_EQ(s.dst_mac, kGuestMac);
  EXPECT_EQ(s.sport, 80);
  EXPECT_EQ(s.dport, 50000);
  EXPECT_EQ(s.flags, kSyn | kAck);
  EXPECT_EQ(s.seq, kIsn);
  EXPECT_EQ(s.ack, kGuestIsn + 1);
  EXPECT_EQ(s.mss, 1460);
  EXPECT_EQ(s.window, 65535);
  EXPECT_EQ(ep().half_open_count(), 1u);
  EXPECT_TRUE(rec_.events.empty());
  guest(kAck, kGuestIsn + 1, kIsn + 1, "", 64240);
  EXPECT_EQ(pending(), 0u);
  EXPECT_EQ(rec_.events, std::vector<std::string>{"opened 1"});
  EXPECT_EQ(state_of(1), TcpState::kEstablished);
  EXPECT_EQ(ep().half_open_count(), 0u);
  const TcpConnInfo* info = ep().info(1);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->guest_ip, guest_);
  EXPECT_EQ(info->server_ip, server_);
  EXPECT_EQ(info->guest_port, 50000);
  EXPECT_EQ(info->server_port, 80);
  EXPECT_EQ(info->first_seen, now_);
}

TEST_F(Harness, RepeatedSynGetsTheSameSynAck) {
  guest(kSyn, kGuestIsn, 0, "", 65535, 1460);
  const Frame first = rec_.frames.front();
  guest(kSyn, kGuestIsn, 0, "", 65535, 1460);
  ASSERT_EQ(pending(), 2u);
  EXPECT_EQ(rec_.frames[1], first);
  EXPECT_EQ(ep().connection_count(), 1u);
  EXPECT_EQ(ep().counters().syn_retransmits, 1u);
}

TEST(TcpEndpointIsn, SeededGeneratorIsDeterministicAndVaries) {
  auto isns = [](uint64_t seed) {
    struct Sink : TcpSink {
      std::vector<uint32_t> seqs;
      void frame(core::ByteView b) override { seqs.push_back(core::load_be32(b.data() + 14 + 20 + 4)); }
    } sink;
    TcpConfig cfg;
    cfg.seed = seed;
    TcpEndpoint ep(cfg, sink);
    decode::DecodedPacket p;
    p.l3 = decode::L3::kIpv4;
    p.ip_proto = decode::ip_proto::kTcp;
    p.has_l4 = true;
    p.src = *core::IpAddress::parse("198.51.100.10");
    p.dst = *core::IpAddress::parse("203.0.113.7");
    p.dport = 80;
    p.tcp_flags = kSyn;
    for (uint16_t port = 1; port <= 3; ++port) {
      p.sport = port;
      ep.on_segment(p, core::Timestamp{});
    }
    return sink.seqs;
  };
  const auto a = isns(7);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a, isns(7));
  EXPECT_NE(a, isns(8));
  EXPECT_NE(a[0], a[1]);
}

TEST_F(Harness, InOrderDataIsDeliveredAndAcked) {
  const uint64_t id = open();
  guest(kAck | kPsh, kGuestIsn + 1, kIsn + 1, "GET / HTTP/1.1\r\n");
  expect_ack(kGuestIsn + 1 + 16);
  guest(kAck | kPsh, kGuestIsn + 17, kIsn + 1, "\r\n");
  expect_ack(kGuestIsn + 19);
  EXPECT_EQ(rec_.received[id], "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(ep().info(id)->bytes_from_guest, 18u);
}

TEST_F(Harness, OutOfOrderIsBufferedThenDelivered) {
  const uint64_t id = open();
  const uint32_t s = kGuestIsn + 1;
  guest(kAck, s + 5, kIsn + 1, "56789");
  expect_ack(s);  // duplicate ACK: the gap is still open
  EXPECT_EQ(rec_.received.count(id), 0u);
  EXPECT_EQ(ep().buffered_bytes(id), 5u);
  guest(kAck, s, kIsn + 1, "01234");
  expect_ack(s + 10);
  EXPECT_EQ(pending(), 0u);
  EXPECT_EQ(rec_.received[id], "0123456789");
  EXPECT_EQ(ep().buffered_bytes(id), 0u);
}

TEST_F(Harness, OverlappingSegmentsDeliverEachByteOnce) {
  const uint64_t id = open();
  const uint32_t s = kGuestIsn + 1;
  guest(kAck, s, kIsn + 1, "012345");
  expect_ack(s + 6);
  guest(kAck, s + 3, kIsn + 1, "3456789");  // overlaps the delivered head
  expect_ack(s + 10);
  guest(kAck, s + 14, kIsn + 1, "EFGH");  // out of order, then overlapping out of order
  expect_ack(s + 10);
  guest(kAck, s + 12, kIsn + 1, "CDEF");
  expect_ack(s + 10);
  guest(kAck, s + 10, kIsn + 1, "AB");
  expect_ack(s + 18);
  EXPECT_EQ(rec_.received[id], "0123456789ABCDEFGH");
}

TEST_F(Harness, RetransmittedGuestDataIsReAcked) {
  const uint64_t id = open();
  guest(kAck, kGuestIsn + 1, kIsn + 1, "hello");
  expect_ack(kGuestIsn + 6);
  guest(kAck, kGuestIsn + 1, kIsn + 1, "hello");
  expect_ack(kGuestIsn + 6);
  EXPECT_EQ(rec_.received[id], "hello");
  EXPECT_EQ(rec_.events.size(), 2u);  // opened + one data
}

TEST_F(Harness, ResponsesSplitByTheGuestsMss) {
  const uint64_t id = open(536);
  const std::string body(2000, 'x');
  EXPECT_EQ(ep().send(id, view(body), now_), 2000u);
  ASSERT_EQ(pending(), 4u);
  uint32_t seq = kIsn + 1;
  for (size_t len : {536u, 536u, 536u, 392u}) {
    const Seg s = take();
    EXPECT_EQ(s.seq, seq);
    EXPECT_EQ(s.payload.size(), len);
    EXPECT_EQ(s.flags, len == 392 ? (kAck | kPsh) : kAck);
    EXPECT_EQ(s.ack, kGuestIsn + 1);
    seq += static_cast<uint32_t>(len);
  }
  guest(kAck, kGuestIsn + 1, seq);
  EXPECT_EQ(pending(), 0u);
  EXPECT_EQ(ep().info(id)->bytes_to_guest, 2000u);
  EXPECT_EQ(ep().buffered_bytes(id), 0u);
}

TEST_F(Harness, OurMssCapsTheGuests) {
  TcpConfig cfg;
  cfg.our_mss = 1000;
  make(cfg);
  const uint64_t id = open(1460);
  EXPECT_EQ(ep().send(id, view(std::string(1500, 'y')), now_), 1500u);
  EXPECT_EQ(take().payload.size(), 1000u);
  EXPECT_EQ(take().payload.size(), 500u);
}

TEST_F(Harness, GuestWindowLimitsWhatIsInFlight) {
  const uint64_t id = open();
  guest(kAck, kGuestIsn + 1, kIsn + 1, "", 1000);
  ep().send(id, view(std::string(3000, 'z')), now_);
  EXPECT_EQ(take().payload.size(), 1000u);
  EXPECT_EQ(pending(), 0u);
  guest(kAck, kGuestIsn + 1, kIsn + 1001, "", 1500);
  EXPECT_EQ(take().payload.size(), 1460u);
  EXPECT_EQ(take().payload.size(), 40u);
  EXPECT_EQ(pending(), 0u);
}

TEST_F(Harness, ZeroWindowIsProbedUntilItOpens) {
  const uint64_t id = open();
  guest(kAck, kGuestIsn + 1, kIsn + 1, "", 0);
  EXPECT_EQ(ep().send(id, view(std::string("held")), now_), 4u);
  EXPECT_EQ(pending(), 0u);
  advance(299 * kMs);
  EXPECT_EQ(pending(), 0u);
  advance(1 * kMs);
  Seg probe = take();
  EXPECT_EQ(probe.flags, kAck);
  EXPECT_EQ(probe.seq, kIsn);  // already acknowledged: elicits the window
  EXPECT_TRUE(probe.payload.empty());
  EXPECT_EQ(ep().counters().zero_window_probes, 1u);
  guest(kAck, kGuestIsn + 1, kIsn + 1, "", 0);  // still closed
  EXPECT_EQ(pending(), 0u);
  advance(600 * kMs);  // backed off
  EXPECT_EQ(take().seq, kIsn);
  guest(kAck, kGuestIsn + 1, kIsn + 1, "", 100);
  const Seg data = take();
  EXPECT_EQ(data.payload, "held");
  EXPECT_EQ(data.seq, kIsn + 1);
  EXPECT_EQ(state_of(id), TcpState::kEstablished);
}

TEST_F(Harness, LostAckRetransmitsWithBackoffThenGivesUp) {
  const uint64_t id = open();
  ep().send(id, view(std::string("payload")), now_);
  EXPECT_EQ(take().payload, "payload");
  const int64_t expected_gaps[] = {300, 600, 1200, 2400, 4800, 9600};
  for (int64_t gap : expected_gaps) {
    EXPECT_EQ(ep().next_deadline() - now_, gap * kMs);
    advance(gap * kMs - 1);
    EXPECT_EQ(pending(), 0u);
    advance(1);
    const Seg s = take();
    EXPECT_EQ(s.seq, kIsn + 1);
    EXPECT_EQ(s.payload, "payload");
  }
  EXPECT_EQ(ep().counters().retransmits, 6u);
  EXPECT_EQ(ep().next_deadline() - now_, 10000 * kMs);  // capped at rto_max
  advance(10000 * kMs);
  const Seg rst = take();
  EXPECT_EQ(rst.flags, kRst | kAck);
  EXPECT_EQ(rst.seq, kIsn + 8);
  EXPECT_EQ(ep().connection_count(), 0u);
  EXPECT_EQ(rec_.events.back(), "closed 1 timeout");
}

TEST_F(Harness, RetransmissionGoesBackAndResendsTheRestOnAck) {
  const uint64_t id = open(536);
  ep().send(id, view(std::string(1000, 'q')), now_);
  EXPECT_EQ(take().payload.size(), 536u);
  EXPECT_EQ(take().payload.size(), 464u);
  advance(300 * kMs);
  const Seg again = take();  // only the first segment
  EXPECT_EQ(again.seq, kIsn + 1);
  EXPECT_EQ(again.payload.size(), 536u);
  EXPECT_EQ(pending(), 0u);
  guest(kAck, kGuestIsn + 1, kIsn + 537);
  const Seg rest = take();
  EXPECT_EQ(rest.seq, kIsn + 537);
  EXPECT_EQ(rest.payload.size(), 464u);
  guest(kAck, kGuestIsn + 1, kIsn + 1001);
  EXPECT_EQ(ep().next_deadline(), now_ + ep().config().idle_timeout_ns);  // no timer left
}

TEST_F(Harness, AckForEverythingAfterATimeoutIsAccepted) {
  const uint64_t id = open(536);
  ep().send(id, view(std::string(1000, 'r')), now_);
  ep().close(id, now_);
  ASSERT_EQ(pending(), 3u);  // 536 + 464 + FIN
  rec_.frames.clear();
  advance(300 * kMs);
  EXPECT_EQ(take().payload.size(), 536u);  // only the first segment again
  // The guest had it all; only its ACK was lost.
  guest(kAck, kGuestIsn + 1, kIsn + 1002);
  EXPECT_EQ(pending(), 0u);
  EXPECT_EQ(state_of(id), TcpState::kFinWait2);
  EXPECT_EQ(ep().info(id)->bytes_to_guest, 1000u);
  EXPECT_EQ(ep().buffered_bytes(id), 0u);
}

TEST_F(Harness, AckOfUnsentDataDropsTheSegment) {
  const uint64_t id = open();
  guest(kAck, kGuestIsn + 1, kIsn + 50, "ignored");
  expect_ack(kGuestIsn + 1);
  EXPECT_EQ(rec_.received.count(id), 0u);
}

TEST_F(Harness, WindowClosingUnderDataInFlightIsProbedNotGivenUp) {
  const uint64_t id = open();
  ep().send(id, view(std::string("abcdef")), now_);
  take();
  guest(kAck, kGuestIsn + 1, kIsn + 1, "", 0);  // the data is dropped by the guest, window 0
  for (int i = 0; i < 10; ++i) {  // more rounds than max_retransmits: answered probes reset the count
    advance(ep().next_deadline() - now_);
    const Seg probe = take();
    EXPECT_EQ(probe.seq, kIsn);
    EXPECT_TRUE(probe.payload.empty());
    guest(kAck, kGuestIsn + 1, kIsn + 1, "", 0);
  }
  EXPECT_EQ(state_of(id), TcpState::kEstablished);
  guest(kAck, kGuestIsn + 1, kIsn + 1, "", 500);
  EXPECT_EQ(take().payload, "abcdef");
}

TEST_F(Harness, GuestClosesFirstAndWeStillSend) {
  const uint64_t id = open();
  guest(kAck | kFin, kGuestIsn + 1, kIsn + 1, "bye");
  expect_ack(kGuestIsn + 5);
  EXPECT_EQ(state_of(id), TcpState::kCloseWait);
  EXPECT_EQ(rec_.events.back(), "peer_closed 1");
  EXPECT_EQ(ep().send(id, view(std::string("late")), now_), 4u);  // half-close
  const Seg d = take();
  EXPECT_EQ(d.payload, "late");
  EXPECT_EQ(d.ack, kGuestIsn + 5);
  ep().close(id, now_);
  const Seg fin = take();
  EXPECT_EQ(fin.flags, kFin | kAck);
  EXPECT_EQ(fin.seq, kIsn + 5);
  EXPECT_EQ(state_of(id), TcpState::kLastAck);
  guest(kAck, kGuestIsn + 5, kIsn + 6);
  EXPECT_EQ(ep().connection_count(), 0u);
  EXPECT_EQ(rec_.events.back(), "closed 1 normal");
  EXPECT_EQ(pending(), 0u);
}

TEST_F(Harness, WeCloseFirstThenLinger) {
  const uint64_t id = open();
  ep().send(id, view(std::string("data")), now_);
  ep().close(id, now_);
  EXPECT_EQ(take().payload, "data");
  const Seg fin = take();
  EXPECT_EQ(fin.flags, kFin | kAck);
  EXPECT_EQ(fin.seq, kIsn + 5);
  EXPECT_EQ(state_of(id), TcpState::kFinWait1);
  EXPECT_EQ(ep().send(id, view(std::string("no")), now_), 0u);
  guest(kAck, kGuestIsn + 1, kIsn + 6);
  EXPECT_EQ(state_of(id), TcpState::kFinWait2);
  guest(kAck, kGuestIsn + 1, kIsn + 6, "more");  // the guest may still send
  expect_ack(kGuestIsn + 5);
  guest(kAck | kFin, kGuestIsn + 5, kIsn + 6);
  expect_ack(kGuestIsn + 6);
  EXPECT_EQ(state_of(id), TcpState::kTimeWait);
  EXPECT_EQ(rec_.events.back(), "closed 1 normal");
  advance(1000 * kMs);
  guest(kAck | kFin, kGuestIsn + 5, kIsn + 6);  // our ACK was lost
  expect_ack(kGuestIsn + 6);
  advance(1999 * kMs);  // linger restarted by the retransmitted FIN
  EXPECT_EQ(ep().connection_count(), 1u);
  advance(1 * kMs);
  EXPECT_EQ(ep().connection_count(), 0u);
  EXPECT_EQ(rec_.received[id], "more");
  EXPECT_EQ(pending(), 0u);
}

TEST_F(Harness, SimultaneousClose) {
  const uint64_t id = open();
  ep().close(id, now_);
  EXPECT_EQ(take().flags, kFin | kAck);
  guest(kAck | kFin, kGuestIsn + 1, kIsn + 1);  // crosses our FIN
  expect_ack(kGuestIsn + 2);
  EXPECT_EQ(state_of(id), TcpState::kClosing);
  guest(kAck, kGuestIsn + 2, kIsn + 2);
  EXPECT_EQ(state_of(id), TcpState::kTimeWait);
  EXPECT_EQ(rec_.events.back(), "closed 1 normal");
}

TEST_F(Harness, FinLostIsRetransmitted) {
  const uint64_t id = open();
  ep().close(id, now_);
  EXPECT_EQ(take().seq, kIsn + 1);
  advance(300 * kMs);
  const Seg fin = take();
  EXPECT_EQ(fin.flags, kFin | kAck);
  EXPECT_EQ(fin.seq, kIsn + 1);
  guest(kAck, kGuestIsn + 1, kIsn + 2);
  EXPECT_EQ(state_of(id), TcpState::kFinWait2);
}

TEST_F(Harness, OutOfOrderFinWaitsForTheGap) {
  const uint64_t id = open();
  guest(kAck | kFin, kGuestIsn + 4, kIsn + 1, "def");
  expect_ack(kGuestIsn + 1);
  EXPECT_EQ(state_of(id), TcpState::kEstablished);
  guest(kAck, kGuestIsn + 1, kIsn + 1, "abc");
  expect_ack(kGuestIsn + 8);
  EXPECT_EQ(state_of(id), TcpState::kCloseWait);
  EXPECT_EQ(rec_.received[id], "abcdef");
}

// Drives a connection into `target` and returns its id.
class ResetTest : public Harness, public ::testing::WithParamInterface<TcpState> {
 protected:
  uint64_t reach(TcpState target, uint32_t& guest_seq) {
    guest_seq = kGuestIsn + 1;
    if (target == TcpState::kSynReceived) {
      guest(kSyn, kGuestIsn, 0);
      take();
      return 1;
    }
    const uint64_t id = open();
    switch (target) {
      case TcpState::kCloseWait:
      case TcpState::kLastAck:
        guest(kAck | kFin, guest_seq++, kIsn + 1);
        take();
        if (target == TcpState::kLastAck) {
          ep().close(id, now_);
          take();
        }
        break;
      case TcpState::kFinWait1:
      case TcpState::kFinWait2:
      case TcpState::kTimeWait:
        ep().close(id, now_);
        take();
        if (target != TcpState::kFinWait1) guest(kAck, guest_seq, kIsn + 2);
        if (target == TcpState::kTimeWait) {
          guest(kAck | kFin, guest_seq++, kIsn + 2);
          take();
        }
        break;
      default: break;
    }
    return id;
  }
};

TEST_P(ResetTest, GuestResetEndsTheConnection) {
  uint32_t seq = 0;
  const uint64_t id = reach(GetParam(), seq);
  EXPECT_EQ(state_of(id), GetParam());
  // A RST inside the window but not at rcv_nxt only earns a challenge ACK.
  if (GetParam() != TcpState::kSynReceived && GetParam() != TcpState::kTimeWait) {
    guest(kRst, seq + 100, 0);
    expect_ack(seq);
    EXPECT_EQ(ep().connection_count(), 1u);
  }
  const size_t events_before = rec_.events.size();
  guest(kRst, seq, 0);
  EXPECT_EQ(pending(), 0u);
  EXPECT_EQ(ep().connection_count(), 0u);
  if (GetParam() == TcpState::kTimeWait) {
    EXPECT_EQ(rec_.events.size(), events_before);  // already reported closed
  } else {
    EXPECT_EQ(rec_.events.back(), "closed 1 reset");
  }
  EXPECT_EQ(ep().counters().resets_received, 1u);
}

INSTANTIATE_TEST_SUITE_P(AllStates, ResetTest,
                         ::testing::Values(TcpState::kSynReceived, TcpState::kEstablished, TcpState::kCloseWait,
                                           TcpState::kFinWait1, TcpState::kFinWait2, TcpState::kLastAck,
                                           TcpState::kTimeWait),
                         [](const auto& p) { return std::string(to_string(p.param)); });

TEST_F(Harness, RstPolicyPortsAreRefused) {
  TcpConfig cfg;
  cfg.rst_ports = {23, 3389};
  make(cfg);
  port_ = 23;
  guest(kSyn, kGuestIsn, 0, "", 65535, 1460);
  const Seg r = take();
  EXPECT_EQ(r.flags, kRst | kAck);
  EXPECT_EQ(r.seq, 0u);
  EXPECT_EQ(r.ack, kGuestIsn + 1);
  EXPECT_EQ(r.sport, 23);
  EXPECT_EQ(ep().connection_count(), 0u);
  EXPECT_EQ(ep().counters().refused, 1u);
  port_ = 24;
  guest(kSyn, kGuestIsn, 0);
  EXPECT_EQ(take().flags, kSyn | kAck);
}

TEST_F(Harness, StraySegmentsGetResetButRstIsIgnored) {
  guest(kAck, 777, 888, "x");
  const Seg r = take();
  EXPECT_EQ(r.flags, kRst);
  EXPECT_EQ(r.seq, 888u);
  guest(kRst, 777, 0);
  guest(kRst | kAck, 777, 888);
  EXPECT_EQ(pending(), 0u);
  EXPECT_EQ(ep().counters().stray, 3u);
  EXPECT_EQ(ep().counters().resets_sent, 1u);
  EXPECT_EQ(ep().connection_count(), 0u);
}

TEST_F(Harness, WrongAckInHandshakeGetsReset) {
  guest(kSyn, kGuestIsn, 0);
  take();
  guest(kAck, kGuestIsn + 1, kIsn + 77);
  const Seg r = take();
  EXPECT_EQ(r.flags, kRst);
  EXPECT_EQ(r.seq, kIsn + 77);
  EXPECT_EQ(ep().half_open_count(), 1u);
  EXPECT_TRUE(rec_.events.empty());
}

TEST_F(Harness, Ipv6) {
  guest_ = ip("2001:db8::10");
  server_ = ip("2001:db8:1::7");
  const uint64_t id = [&] {
    guest(kSyn, kGuestIsn, 0, "", 65535, 1440);
    const Seg s = take();
    EXPECT_EQ(s.src, server_);
    EXPECT_EQ(s.dst, guest_);
    EXPECT_EQ(s.mss, 1440);  // our_mss less the larger IPv6 header
    guest(kAck, kGuestIsn + 1, kIsn + 1);
    return uint64_t{1};
  }();
  guest(kAck | kPsh, kGuestIsn + 1, kIsn + 1, "ping6");
  expect_ack(kGuestIsn + 6);
  ep().send(id, view(std::string(2000, 'v')), now_);
  EXPECT_EQ(take().payload.size(), 1440u);
  EXPECT_EQ(take().payload.size(), 560u);
  EXPECT_EQ(rec_.received[id], "ping6");
}

TEST_F(Harness, SynFloodStaysBounded) {
  TcpConfig cfg;
  cfg.max_connections = 2000;
  cfg.max_half_open = 500;
  make(cfg);
  size_t max_seen = 0;
  for (uint32_t i = 0; i < 100000; ++i) {
    gport_ = static_cast<uint16_t>(1024 + i % 60000);
    guest_ = core::IpAddress::v4((198u << 24) | (51u << 16) | (100u << 8) | (i / 60000 + 1));
    guest(kSyn, i, 0);
    max_seen = std::max(max_seen, ep().connection_count());
    rec_.frames.clear();
  }
  EXPECT_EQ(max_seen, 500u);
  EXPECT_EQ(ep().half_open_count(), 500u);
  EXPECT_EQ(ep().counters().syns, 100000u);
  EXPECT_EQ(ep().counters().evicted_half_open, 99500u);
  // A newcomer still completes its handshake during the flood.
  guest_ = ip("198.51.100.200");
  gport_ = 4444;
  guest(kSyn, kGuestIsn, 0);
  const Seg s = take();
  guest(kAck, kGuestIsn + 1, s.seq + 1);
  EXPECT_EQ(rec_.events.back(), "opened 100001");
  EXPECT_EQ(ep().connection_count(), 500u);
  EXPECT_EQ(ep().half_open_count(), 499u);
}

TEST_F(Harness, TableFullEvictsTimeWaitThenRefuses) {
  TcpConfig cfg;
  cfg.max_connections = 2;
  cfg.max_half_open = 2;
  make(cfg);
  const uint64_t a = open();
  gport_ = 50001;
  open();
  EXPECT_EQ(ep().connection_count(), 2u);
  gport_ = 50002;
  guest(kSyn, kGuestIsn, 0);
  EXPECT_EQ(pending(), 0u);  // both established: nothing to evict
  EXPECT_EQ(ep().counters().table_full, 1u);
  // Connection a goes to TIME_WAIT; it gives way to the next SYN.
  gport_ = 50000;
  ep().close(a, now_);
  take();
  guest(kAck | kFin, kGuestIsn + 1, kIsn + 2);
  take();
  EXPECT_EQ(state_of(a), TcpState::kTimeWait);
  gport_ = 50002;
  guest(kSyn, kGuestIsn, 0);
  EXPECT_EQ(take().flags, kSyn | kAck);
  EXPECT_EQ(ep().counters().evicted_time_wait, 1u);
  EXPECT_EQ(ep().connection_count(), 2u);
}

TEST_F(Harness, SequenceWrapAround) {
  TcpConfig cfg;
  cfg.isn_source = [] { return 0xfffffff0u; };
  make(cfg);
  const uint32_t gisn = 0xfffffffau;
  guest(kSyn, gisn, 0, "", 65535, 1460);
  const Seg sa = take();
  EXPECT_EQ(sa.seq, 0xfffffff0u);
  EXPECT_EQ(sa.ack, 0xfffffffbu);
  guest(kAck, gisn + 1, 0xfffffff1u);
  guest(kAck, gisn + 1 + 10, 0xfffffff1u, "KLMNOPQRST");  // past 2^32, out of order
  expect_ack(0xfffffffbu);
  guest(kAck, gisn + 1, 0xfffffff1u, "ABCDEFGHIJ");
  expect_ack(0x0000000fu);
  EXPECT_EQ(rec_.received[1], "ABCDEFGHIJKLMNOPQRST");
  ep().send(1, view(std::string(40, 'w')), now_);
  const Seg d = take();
  EXPECT_EQ(d.seq, 0xfffffff1u);
  guest(kAck, 0x0000000fu, 0xfffffff1u + 40);  // acknowledges across the wrap
  EXPECT_EQ(ep().info(1)->bytes_to_guest, 40u);
  EXPECT_EQ(ep().buffered_bytes(1), 0u);
  ep().close(1, now_);
  EXPECT_EQ(take().seq, 0x00000019u);
}

TEST_F(Harness, WindowEdges) {
  TcpConfig cfg;
  cfg.recv_window = 1000;
  make(cfg);
  const uint64_t id = open();
  const uint32_t s = kGuestIsn + 1;
  guest(kAck, s, kIsn + 1, std::string(1500, 'a'));  // only the window's worth is taken
  expect_ack(s + 1000);
  EXPECT_EQ(rec_.received[id].size(), 1000u);
  guest(kAck, s + 1000 + 1000, kIsn + 1, "x");  // starts exactly at the window's end
  expect_ack(s + 1000);
  EXPECT_EQ(ep().buffered_bytes(id), 0u);
  guest(kAck, s + 1000 + 999, kIsn + 1, "yz");  // last byte of the window fits
  expect_ack(s + 1000);
  EXPECT_EQ(ep().buffered_bytes(id), 1u);
}

TEST_F(Harness, OutOfOrderLimits) {
  TcpConfig cfg;
  cfg.max_ooo_segments = 2;
  cfg.max_ooo_bytes = 10;
  make(cfg);
  const uint64_t id = open();
  const uint32_t s = kGuestIsn + 1;
  guest(kAck, s + 10, kIsn + 1, "aaaa");
  guest(kAck, s + 20, kIsn + 1, "bbbb");
  guest(kAck, s + 30, kIsn + 1, "c");  // third segment: over the count
  guest(kAck, s + 20, kIsn + 1, "bbbbbbb");  // grows past 10 bytes
  EXPECT_EQ(ep().buffered_bytes(id), 8u);
  EXPECT_EQ(ep().counters().ooo_dropped, 2u);
  rec_.frames.clear();
  guest(kAck, s, kIsn + 1, "0123456789");
  expect_ack(s + 14);
}

TEST_F(Harness, SendQueueIsBounded) {
  TcpConfig cfg;
  cfg.max_send_queue = 1000;
  make(cfg);
  const uint64_t id = open();
  guest(kAck, kGuestIsn + 1, kIsn + 1, "", 0);
  EXPECT_EQ(ep().send(id, view(std::string(1500, 's')), now_), 1000u);
  EXPECT_EQ(ep().send(id, view(std::string(1, 's')), now_), 0u);
  EXPECT_EQ(ep().counters().send_truncated, 501u);
  EXPECT_EQ(ep().buffered_bytes(id), 1000u);
}

TEST_F(Harness, HalfOpenTimesOutAfterSynAckRetries) {
  guest(kSyn, kGuestIsn, 0);
  take();
  for (int64_t gap : {300, 600, 1200}) {
    advance(gap * kMs);
    EXPECT_EQ(take().flags, kSyn | kAck);
  }
  advance(2400 * kMs);
  EXPECT_EQ(pending(), 0u);
  EXPECT_EQ(ep().connection_count(), 0u);
  EXPECT_EQ(rec_.events, std::vector<std::string>{"closed 1 handshake_timeout"});
}

TEST_F(Harness, IdleConnectionsAreReset) {
  const uint64_t id = open();
  advance(ep().config().idle_timeout_ns - 1);
  EXPECT_EQ(ep().connection_count(), 1u);
  advance(1);
  const Seg r = take();
  EXPECT_EQ(r.flags, kRst | kAck);
  EXPECT_EQ(ep().connection_count(), 0u);
  EXPECT_EQ(rec_.events.back(), "closed " + std::to_string(id) + " idle");
}

TEST_F(Harness, ApplicationMayAnswerFromInsideTheDataCallback) {
  rec_.on_data = [&](const TcpConnInfo& c, core::ByteView b) {
    ep().send(c.id, b, now_);
    ep().close(c.id, now_);
  };
  const uint64_t id = open();
  guest(kAck | kPsh, kGuestIsn + 1, kIsn + 1, "echo");
  expect_ack(kGuestIsn + 5);
  EXPECT_EQ(take().payload, "echo");
  EXPECT_EQ(take().flags, kFin | kAck);
  EXPECT_EQ(state_of(id), TcpState::kFinWait1);
}

TEST_F(Harness, AbortSendsReset) {
  const uint64_t id = open();
  ep().abort(id, now_);
  const Seg r = take();
  EXPECT_EQ(r.flags, kRst | kAck);
  EXPECT_EQ(r.seq, kIsn + 1);
  EXPECT_EQ(rec_.events.back(), "closed 1 aborted");
  EXPECT_EQ(ep().connection_count(), 0u);
}

TEST_F(Harness, PortReuseAfterTimeWait) {
  const uint64_t id = open();
  ep().close(id, now_);
  take();
  guest(kAck | kFin, kGuestIsn + 1, kIsn + 2);
  take();
  EXPECT_EQ(state_of(id), TcpState::kTimeWait);
  guest(kSyn, kGuestIsn + 100000, 0);
  EXPECT_EQ(take().flags, kSyn | kAck);
  EXPECT_EQ(ep().connection_count(), 1u);
  TcpState st{};
  EXPECT_FALSE(ep().state(id, st));
  EXPECT_TRUE(ep().state(id + 1, st));
}

TEST_F(Harness, NonTcpIsCounted) {
  decode::DecodedPacket p;
  p.l3 = decode::L3::kIpv4;
  p.ip_proto = decode::ip_proto::kUdp;
  p.has_l4 = true;
  ep().on_segment(p, now_);
  EXPECT_EQ(ep().counters().not_tcp, 1u);
  EXPECT_EQ(pending(), 0u);
}

// ------------------------------------------------------------ real Linux TCP
// A guest namespace (198.51.100.10/24, default route to 198.51.100.1, whose
// MAC is pinned) is linked by a veth pair to a second namespace that has no
// address and no route; the test reads and writes raw frames there (AF_PACKET)
// and runs the endpoint, while curl in the guest namespace fetches from an
// address that exists nowhere. Needs root and iproute2; skipped otherwise.
class LinuxStack : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0 || std::system("ip netns list > /dev/null 2>&1") != 0 ||
        std::system("command -v curl > /dev/null 2>&1") != 0)
      GTEST_SKIP() << "needs root, iproute2 and curl";
    const std::string id = std::to_string(getpid());
    guest_ns_ = "trawl-h7g-" + id;
    sink_ns_ = "trawl-h7s-" + id;
    const std::string vg = "h7g" + id, vs = "h7s" + id;
    sink_if_ = vs;
    // Containers without CAP_SYS_ADMIN cannot make namespaces: skip there.
    if (std::system(("ip netns add " + guest_ns_ + " > /dev/null 2>&1").c_str()) != 0)
      GTEST_SKIP() << "cannot create network namespaces here";
    created_ = true;
    const std::string script =
        "set -e; ip netns add " + sink_ns_ + "; ip link add " + vg +
        " type veth peer name " + vs + "; ip link set " + vg + " netns " + guest_ns_ + "; ip link set " + vs +
        " netns " + sink_ns_ + "; ip netns exec " + sink_ns_ + " sysctl -qw net.ipv6.conf." + vs +
        ".disable_ipv6=1; ip -n " + sink_ns_ + " link set " + vs + " address 02:00:00:00:00:02; ip -n " +
        sink_ns_ + " link set " + vs + " up; ip -n " + guest_ns_ + " link set lo up; ip -n " + guest_ns_ +
        " addr add 198.51.100.10/24 dev " + vg + "; ip -n " + guest_ns_ + " link set " + vg + " up; ip -n " +
        guest_ns_ + " route add default via 198.51.100.1; ip -n " + guest_ns_ + " neigh replace 198.51.100.1 lladdr 02:00:00:00:00:02 dev " +
        vg + " nud permanent; ip -n " + guest_ns_ + " addr add 2001:db8::10/64 dev " + vg + " nodad; ip -n " +
        guest_ns_ + " -6 route add default via 2001:db8::1 dev " + vg + "; ip -n " + guest_ns_ +
        " neigh replace 2001:db8::1 lladdr 02:00:00:00:00:02 dev " + vg + " nud permanent";
    ASSERT_EQ(std::system(("sh -c '" + script + "' > /dev/null 2>&1").c_str()), 0) << script;
    ASSERT_TRUE(open_socket());
  }
  void TearDown() override {
    if (child_ > 0) {
      kill(child_, SIGKILL);
      waitpid(child_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    if (sock_ >= 0) ::close(sock_);
    if (created_) {
      // Deleting the namespaces deletes the veth pair with them.
      EXPECT_EQ(std::system(("ip netns del " + guest_ns_ + " 2>/dev/null; ip netns del " + sink_ns_ +
                             " 2>/dev/null; true").c_str()),
                0);
    }
  }
  bool open_socket() {
    const int self = ::open("/proc/self/ns/net", O_RDONLY);
    const int target = ::open(("/var/run/netns/" + sink_ns_).c_str(), O_RDONLY);
    bool ok = self >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0;
    if (ok) {
      sock_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
      sockaddr_ll sll{};
      sll.sll_family = AF_PACKET;
      sll.sll_protocol = htons(ETH_P_ALL);
      sll.sll_ifindex = static_cast<int>(if_nametoindex(sink_if_.c_str()));
      ok = sock_ >= 0 && sll.sll_ifindex != 0 && bind(sock_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) == 0;
#ifdef PACKET_IGNORE_OUTGOING
      const int one = 1;
      if (ok) setsockopt(sock_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
#endif
      if (setns(self, CLONE_NEWNET) != 0) ok = false;
    }
    if (self >= 0) ::close(self);
    if (target >= 0) ::close(target);
    return ok;
  }
  // Starts `ip netns exec GUEST args...` with stdout on a pipe.
  void spawn_in_guest(std::vector<std::string> args) {
    args.insert(args.begin(), {"ip", "netns", "exec", guest_ns_});
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawnp(&child_, "ip", &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    out_fd_ = fds[0];
    fcntl(out_fd_, F_SETFL, O_NONBLOCK);
  }
  static core::Timestamp mono() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return core::Timestamp::from_sec_nsec(ts.tv_sec, ts.tv_nsec);
  }
  // Runs the endpoint until the child exits (at most `limit_s`); returns its stdout.
  std::string run(TcpEndpoint& ep, int limit_s, int& status) {
    std::string out;
    std::vector<uint8_t> buf(70000);
    core::Anomalies anomalies;
    decode::Decoder decoder(anomalies);
    const core::Timestamp end = mono() + limit_s * core::kNsPerSec;
    status = -1;
    while (mono() < end) {
      pollfd pfd{sock_, POLLIN, 0};
      poll(&pfd, 1, 10);
      for (int i = 0; i < 1000; ++i) {  // bounded drain per round
        const ssize_t n = recv(sock_, buf.data(), buf.size(), 0);
        if (n <= 0) break;
        capture::RawPacket raw;
        raw.caplen = raw.wirelen = static_cast<uint32_t>(n);
        raw.data = buf.data();
        decode::DecodedPacket p;
        if (decoder.decode(raw, p) == decode::DecodeStatus::kOk && p.ip_proto == decode::ip_proto::kTcp &&
            p.src_mac == kGuestMac2)
          ep.on_segment(p, mono());
      }
      ep.on_timer(mono());
      char tmp[4096];
      ssize_t r;
      while ((r = read(out_fd_, tmp, sizeof tmp)) > 0) out.append(tmp, static_cast<size_t>(r));
      int st = 0;
      if (child_ > 0 && waitpid(child_, &st, WNOHANG) == child_) {
        child_ = -1;
        status = st;
        while ((r = read(out_fd_, tmp, sizeof tmp)) > 0) out.append(tmp, static_cast<size_t>(r));
        break;
      }
    }
    return out;
  }
  // Frames that left the sinkhole side: ours, plus whatever its kernel sent.
  uint64_t sink_tx_packets() {
    const std::string cmd =
        "ip netns exec " + sink_ns_ + " cat /sys/class/net/" + sink_if_ + "/statistics/tx_packets";
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) return 0;
    unsigned long long n = 0;
    if (fscanf(f, "%llu", &n) != 1) n = 0;
    pclose(f);
    return n;
  }
  // The guest's MAC is random; learn it from the veth in its namespace.
  bool learn_guest_mac() {
    const std::string cmd = "ip -n " + guest_ns_ + " -o link show h7g" + std::to_string(getpid());
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) return false;
    char line[512] = {};
    const bool got = fgets(line, sizeof line, f) != nullptr;
    pclose(f);
    const char* p = got ? strstr(line, "link/ether ") : nullptr;
    unsigned m[6];
    if (!p || sscanf(p + 11, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) return false;
    for (int i = 0; i < 6; ++i) kGuestMac2[static_cast<size_t>(i)] = static_cast<uint8_t>(m[i]);
    return true;
  }

  struct Server : TcpSink {
    int sock = -1;
    TcpEndpoint* ep = nullptr;
    std::string request;
    std::string body;
    bool answered = false;
    std::vector<std::string> closes;
    uint64_t frames_out = 0;
    void frame(core::ByteView b) override {
      ++frames_out;
      EXPECT_EQ(::send(sock, b.data(), b.size(), 0), static_cast<ssize_t>(b.size()));
    }
    void data(const TcpConnInfo& c, core::ByteView b) override {
      request.append(core::as_chars(b));
      const size_t head_end = request.find("\r\n\r\n");
      if (head_end == std::string::npos || answered) return;
      const size_t cl = request.find("Content-Length: ");
      const size_t need = cl == std::string::npos || cl > head_end ? 0 : std::stoul(request.substr(cl + 16));
      if (request.size() < head_end + 4 + need) return;
      answered = true;
      const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                               "\r\nConnection: close\r\n\r\n";
      ep->send(c.id, view(head), c.last_seen);
      ep->send(c.id, view(body), c.last_seen);
      ep->close(c.id, c.last_seen);
    }
    void closed(const TcpConnInfo& c, CloseReason r) override {
      closes.push_back(c.server_ip.to_string() + ":" + std::to_string(c.server_port) + " " + to_string(r));
    }
  };

  std::string guest_ns_, sink_ns_, sink_if_;
  bool created_ = false;
  int sock_ = -1;
  int out_fd_ = -1;
  pid_t child_ = -1;
  MacAddress kGuestMac2{};
};

TEST_F(LinuxStack, CurlFetchesFromAnAddressThatExistsNowhere) {
  ASSERT_TRUE(learn_guest_mac());
  Server app;
  app.sock = sock_;
  app.body.resize(200000);
  for (size_t i = 0; i < app.body.size(); ++i) app.body[i] = static_cast<char>('a' + i % 26);
  TcpConfig cfg;
  cfg.linger_ns = 100 * kMs;
  TcpEndpoint ep(cfg, app);
  app.ep = &ep;
  spawn_in_guest({"curl", "-s", "-m", "8", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                  "http://203.0.113.7:8080/a/b.exe?c=1"});
  int status = -1;
  const std::string out = run(ep, 10, status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(out, "200 200000");
  EXPECT_EQ(app.request.rfind("GET /a/b.exe?c=1 HTTP/1.1\r\nHost: 203.0.113.7:8080\r\n", 0), 0u) << app.request;
  EXPECT_GE(app.frames_out, 200000u / 1460);
  ASSERT_EQ(app.closes.size(), 1u);
  EXPECT_EQ(app.closes[0], "203.0.113.7:8080 normal");
  EXPECT_EQ(ep.counters().resets_sent, 0u);
  EXPECT_EQ(ep.counters().syns, 1u);
  // The sinkhole side's kernel sent nothing of its own (no RST, no ICMP).
  EXPECT_EQ(sink_tx_packets(), app.frames_out);
}

TEST_F(LinuxStack, CurlOverIpv6) {
  ASSERT_TRUE(learn_guest_mac());
  Server app;
  app.sock = sock_;
  app.body = std::string(50000, '6');
  TcpConfig cfg;
  cfg.linger_ns = 100 * kMs;
  TcpEndpoint ep(cfg, app);
  app.ep = &ep;
  spawn_in_guest({"curl", "-s", "-m", "8", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                  "http://[2001:db8:1::7]/v6"});
  int status = -1;
  const std::string out = run(ep, 10, status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(out, "200 50000");
  ASSERT_EQ(app.closes.size(), 1u);
  EXPECT_EQ(app.closes[0], "2001:db8:1::7:80 normal");
}

TEST_F(LinuxStack, CurlUploadsABody) {
  ASSERT_TRUE(learn_guest_mac());
  Server app;
  app.sock = sock_;
  app.body = "stored";
  TcpConfig cfg;
  cfg.linger_ns = 100 * kMs;
  TcpEndpoint ep(cfg, app);
  app.ep = &ep;
  // 300,000 bytes: several receive windows, so the guest waits on our ACKs.
  spawn_in_guest({"sh", "-c",
                  "head -c 300000 /dev/zero | tr '\\0' x | curl -s -m 8 --data-binary @- "
                  "-w ' %{http_code}' http://203.0.113.50/up"});
  int status = -1;
  const std::string out = run(ep, 10, status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(out, "stored 200");
  const size_t head_end = app.request.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_EQ(app.request.rfind("POST /up HTTP/1.1\r\n", 0), 0u);
  EXPECT_EQ(app.request.substr(head_end + 4), std::string(300000, 'x'));
  ASSERT_EQ(app.closes.size(), 1u);
  EXPECT_EQ(app.closes[0], "203.0.113.50:80 normal");
}

TEST_F(LinuxStack, RefusedPortLooksClosedToCurl) {
  ASSERT_TRUE(learn_guest_mac());
  Server app;
  app.sock = sock_;
  TcpConfig cfg;
  cfg.rst_ports = {23};
  TcpEndpoint ep(cfg, app);
  app.ep = &ep;
  spawn_in_guest({"curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", "http://192.0.2.99:23/"});
  int status = -1;
  const core::Timestamp start = mono();
  const std::string out = run(ep, 7, status);
  EXPECT_LT(mono() - start, 2 * core::kNsPerSec);  // refused at once, not an ARP or connect timeout
  // curl's exit code 7: "Failed to connect" (connection refused), not 28 (timeout).
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7) << status;
  EXPECT_EQ(out, "000");
  EXPECT_EQ(ep.counters().refused, 1u);
  EXPECT_EQ(ep.connection_count(), 0u);
}

}  // namespace
}  // namespace trawl::sinkhole

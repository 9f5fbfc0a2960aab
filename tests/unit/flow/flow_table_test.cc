// FlowTable behaviour around the connection logic: timers and splits, port
// reuse, eviction, UDP/ICMP/other transports, hashing, uids, community ids.
#include "flow/flow_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <ctime>
#include <set>
#include <string>
#include <vector>

#include "core/hash.h"
#include "flow/app_layer.h"
#include "flow/conn_uid.h"
#include "flow/flow_test_util.h"

namespace trawl::flow {
namespace {

using namespace trawl::flow::testing;

// ---------------------------------------------------------------------------
// Timers

// An unanswered SYN ends tcp_attempt_delay (5 s) after it (AttemptTimer);
// retransmissions of the same SYN neither add letters nor move the timer.
// A SYN after that starts a new connection.
TEST(FlowTimers, AttemptDelayEndsUnansweredSyn) {
  Harness h;
  h.send(tcp_packet("10.0.0.1", 50000, "10.0.0.2", 80, "S", 1000, 0, 0, 10.0));
  h.send(tcp_packet("10.0.0.1", 50000, "10.0.0.2", 80, "S", 1000, 0, 0, 11.0));
  h.send(tcp_packet("10.0.0.1", 50000, "10.0.0.2", 80, "S", 1000, 0, 0, 13.0));
  h.table.expire(at(14.999));
  EXPECT_TRUE(h.records.empty());
  h.send(tcp_packet("10.0.0.1", 50000, "10.0.0.2", 80, "S", 1000, 0, 0, 17.0));
  ASSERT_EQ(h.records.size(), 1u);  // the packet's own time ended the first attempt
  EXPECT_EQ(h.records[0].history, "S");
  EXPECT_EQ(h.records[0].conn_state, ConnState::kS0);
  EXPECT_EQ(h.records[0].orig_pkts, 3u);
  EXPECT_EQ(h.records[0].duration_ns, at(13.0) - at(10.0));
  h.flush();
  ASSERT_EQ(h.records.size(), 2u);
  EXPECT_EQ(h.records[1].ts, at(17.0));
  EXPECT_NE(h.records[0].uid, h.records[1].uid);
}

TEST(FlowTimers, CloseDelayAfterBothFins) {
  Harness h;
  TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80);
  c.client("S");
  c.server("SA");
  c.client("A");
  c.client("FA");
  c.server("FA");
  double last = c.now();
  c.client("A");
  h.table.expire(at(last + 4.999));
  EXPECT_TRUE(h.records.empty());
  h.table.expire(at(last + 5.0));
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].conn_state, ConnState::kSF);
  EXPECT_EQ(h.table.live_flows(), 0u);
}

TEST(FlowTimers, ResetClosesAfterCloseDelay) {
  Harness h;
  TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80);
  c.client("S");
  c.server("SA");
  c.client("A");
  c.server("RA");
  double rst = c.now();
  c.client("A");  // after the RST: still part of the connection
  h.table.expire(at(rst + 4.999));
  EXPECT_TRUE(h.records.empty());
  h.table.expire(at(rst + 5.0));
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].history, "ShAr");
  EXPECT_EQ(h.records[0].orig_pkts, 3u);
}

// Established TCP idles out after tcp_inactivity_timeout; the next packet
// starts a new (mid-stream) connection.
TEST(FlowTimers, TcpInactivitySplit) {
  Harness h;
  TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80);
  c.client("S");
  c.server("SA");
  c.client("A");
  c.client("PA", 10);
  double last = c.now();
  c.set_time(last + 299.0);
  c.client("PA", 10);  // 299 s later: same connection
  c.set_time(c.now() + 300.0);
  c.client("PA", 10);  // 300 s of silence: timed out
  h.flush();
  ASSERT_EQ(h.records.size(), 2u);
  EXPECT_EQ(h.records[0].history, "ShAD");
  EXPECT_EQ(h.records[0].conn_state, ConnState::kS1);
  EXPECT_EQ(h.records[1].history, "D");
  EXPECT_EQ(h.records[1].conn_state, ConnState::kOTH);
}

TEST(FlowTimers, UdpInactivitySplit) {
  Harness h;
  h.send(udp_packet("10.0.0.1", 40000, "10.0.0.2", 9999, 10, 0.0));
  h.send(udp_packet("10.0.0.2", 9999, "10.0.0.1", 40000, 20, 30.0));
  h.send(udp_packet("10.0.0.1", 40000, "10.0.0.2", 9999, 10, 89.9));
  h.send(udp_packet("10.0.0.1", 40000, "10.0.0.2", 9999, 10, 149.9));  // exactly 60 s later
  h.flush();
  ASSERT_EQ(h.records.size(), 2u);
  EXPECT_EQ(h.records[0].orig_pkts, 2u);
  EXPECT_EQ(h.records[0].resp_pkts, 1u);
  EXPECT_EQ(h.records[0].conn_state, ConnState::kSF);
  EXPECT_EQ(h.records[0].history, "Dd");
  EXPECT_EQ(h.records[1].orig_pkts, 1u);
  EXPECT_EQ(h.records[1].conn_state, ConnState::kS0);
}

TEST(FlowTimers, ExpireEmitsInDeadlineOrder) {
  Harness h;
  h.send(udp_packet("10.0.0.1", 1001, "10.0.0.2", 9999, 1, 0.0));  // udp: 60 s
  h.send(tcp_packet("10.0.0.1", 2002, "10.0.0.2", 80, "S", 1, 0, 0, 1.0));  // attempt: 5 s
  h.send(icmp_packet("10.0.0.1", "10.0.0.2", 8, 0, 8, 2.0));  // icmp: 60 s
  h.table.expire(at(100.0));
  ASSERT_EQ(h.records.size(), 3u);
  EXPECT_EQ(h.records[0].proto, 6);
  EXPECT_EQ(h.records[1].proto, 17);
  EXPECT_EQ(h.records[2].proto, 1);
}

TEST(FlowTimers, LastOnItsListMovesLaterInPlace) {
  // A packet for the connection already last on its timer list only moves
  // its deadline (no relink); for any other it relinks. Expiry must follow
  // the deadlines either way.
  Harness h;
  h.send(udp_packet("10.0.0.1", 1001, "10.0.0.2", 9999, 1, 0.0));  // A: 60
  h.send(udp_packet("10.0.0.1", 1002, "10.0.0.2", 9999, 1, 1.0));  // B: 61
  h.send(udp_packet("10.0.0.1", 1001, "10.0.0.2", 9999, 1, 2.0));  // A relinked after B: 62
  h.send(udp_packet("10.0.0.1", 1001, "10.0.0.2", 9999, 1, 3.0));  // A last: in place, 63
  h.send(udp_packet("10.0.0.1", 1003, "10.0.0.2", 9999, 1, 3.5));  // C: 63.5
  h.send(udp_packet("10.0.0.1", 1002, "10.0.0.2", 9999, 1, 4.0));  // B relinked: 64
  h.send(udp_packet("10.0.0.1", 1002, "10.0.0.2", 9999, 1, 5.0));  // B last: in place, 65
  h.table.expire(at(62.9));
  EXPECT_TRUE(h.records.empty());
  h.table.expire(at(63.0));
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].orig_p, 1001);
  EXPECT_EQ(h.records[0].orig_pkts, 3u);
  h.table.expire(at(64.9));
  ASSERT_EQ(h.records.size(), 2u);
  EXPECT_EQ(h.records[1].orig_p, 1003);
  h.table.expire(at(65.0));
  ASSERT_EQ(h.records.size(), 3u);
  EXPECT_EQ(h.records[2].orig_p, 1002);
  EXPECT_EQ(h.records[2].orig_pkts, 3u);
}

TEST(FlowTimers, TimestampsGoingBackwardsAreClamped) {
  Harness h;
  h.send(udp_packet("10.0.0.1", 40000, "10.0.0.2", 9999, 10, 10.0));
  h.send(udp_packet("10.0.0.2", 9999, "10.0.0.1", 40000, 10, 9.0));
  h.flush();
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.anomaly("flow.timestamp_backwards"), 1u);
  EXPECT_EQ(h.records[0].last_ts, at(10.0));
  EXPECT_EQ(h.records[0].resp_pkts, 1u);
}

// A RST after our own FIN (UpdateClosedState) ends the connection
// tcp_reset_delay later; the FIN already closed that side, so no close timer.
TEST(FlowTimers, RstAfterOwnFinUsesResetDelay) {
  FlowConfig cfg;
  cfg.tcp_reset_delay_ns = 2LL * 1000000000;
  Harness h(cfg);
  TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80);
  c.client("S");
  c.server("SA");
  c.client("A");
  c.client("FA");
  c.client("R");
  double rst = c.now();
  h.table.expire(at(rst + 1.999));
  EXPECT_TRUE(h.records.empty());
  h.table.expire(at(rst + 2.0));
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].conn_state, ConnState::kRSTO);
  EXPECT_EQ(h.records[0].history, "ShAFR");
}

// The records do not depend on how often expire() runs, as long as it runs
// in stream order: a packet's own time already ends a timed-out connection.
TEST(FlowTimers, ExpireFrequencyDoesNotChangeRecords) {
  auto run = [](bool expire_each_packet) {
    Harness h;
    uint32_t state = 12345;
    double t = 0;
    for (int i = 0; i < 3000; ++i) {
      state = state * 1103515245u + 12345u;
      t += static_cast<double>((state >> 16) % 2000) / 100.0;  // 0-20 s apart
      auto port = static_cast<uint16_t>(1000 + (state >> 8) % 7);
      decode::DecodedPacket p;
      switch ((state >> 4) % 4) {
        case 0: p = udp_packet("10.0.0.1", port, "10.0.0.2", 53, 10, t); break;
        case 1: p = udp_packet("10.0.0.2", 53, "10.0.0.1", port, 10, t); break;
        case 2: p = tcp_packet("10.0.0.1", port, "10.0.0.2", 80, "S", 100, 0, 0, t); break;
        default: p = tcp_packet("10.0.0.2", 80, "10.0.0.1", port, "SA", 500, 101, 0, t); break;
      }
      if (expire_each_packet) h.table.expire(p.ts);
      h.send(p);
    }
    h.flush();
    std::vector<std::string> out;
    for (const auto& r : h.records) {
      out.push_back(r.uid + " " + r.history + " " + conn_state_name(r.conn_state) + " " +
                    std::to_string(r.orig_pkts) + "/" + std::to_string(r.resp_pkts) + " " +
                    std::to_string(r.duration_ns));
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  auto a = run(true);
  auto b = run(false);
  EXPECT_GT(a.size(), 100u);
  EXPECT_EQ(a, b);
}

// ---------------------------------------------------------------------------
// Port reuse (TCPSessionAdapter::IsReuse)

TEST(FlowReuse, NewSynAfterCloseStartsNewConnection) {
  Harness h;
  TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80);
  c.client("S");
  c.server("SA");
  c.client("A");
  c.client("FA");
  c.server("FA");
  c.client("A");
  // Same 5-tuple, new ISN, 1 s later (inside the 5 s close delay).
  h.send(tcp_packet("10.0.0.1", 50000, "10.0.0.2", 80, "S", 777777, 0, 0, c.now() + 1.0));
  ASSERT_EQ(h.records.size(), 1u);  // the old connection ended right there
  EXPECT_EQ(h.records[0].conn_state, ConnState::kSF);
  h.flush();
  ASSERT_EQ(h.records.size(), 2u);
  EXPECT_EQ(h.records[1].history, "S");
  EXPECT_EQ(h.records[1].conn_state, ConnState::kS0);
}

TEST(FlowReuse, SynWithNewIsnOnOpenAttempt) {
  // Zeek treats a SYN with a different initial sequence number as a new
  // connection even when the old one has not closed.
  Harness h;
  h.send(tcp_packet("10.0.0.1", 50000, "10.0.0.2", 80, "S", 1000, 0, 0, 1.0));
  h.send(tcp_packet("10.0.0.1", 50000, "10.0.0.2", 80, "S", 1000, 0, 0, 2.0));  // retransmission
  h.send(tcp_packet("10.0.0.1", 50000, "10.0.0.2", 80, "S", 9000, 0, 0, 3.0));  // new attempt
  h.flush();
  ASSERT_EQ(h.records.size(), 2u);
  EXPECT_EQ(h.records[0].orig_pkts, 2u);
  EXPECT_EQ(h.records[1].orig_pkts, 1u);
}

// ---------------------------------------------------------------------------
// Bounded memory

TEST(FlowEviction, LeastRecentlyActiveIsEvictedAtMaxFlows) {
  FlowConfig cfg;
  cfg.max_flows = 3;
  Harness h(cfg);
  h.send(udp_packet("10.0.0.1", 1001, "10.0.0.2", 53, 10, 1.0));
  h.send(udp_packet("10.0.0.1", 1002, "10.0.0.2", 53, 10, 2.0));
  h.send(udp_packet("10.0.0.1", 1003, "10.0.0.2", 53, 10, 3.0));
  h.send(udp_packet("10.0.0.1", 1001, "10.0.0.2", 53, 10, 4.0));  // 1001 active again
  EXPECT_TRUE(h.records.empty());
  h.send(udp_packet("10.0.0.1", 1004, "10.0.0.2", 53, 10, 5.0));
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].orig_p, 1002);
  EXPECT_EQ(h.table.evicted(), 1u);
  EXPECT_EQ(h.anomaly("flow.evicted"), 1u);
  EXPECT_EQ(h.table.live_flows(), 3u);
  h.flush();
  EXPECT_EQ(h.records.size(), 4u);
}

TEST(FlowEviction, ManyFlowsStayBounded) {
  FlowConfig cfg;
  cfg.max_flows = 1000;
  cfg.initial_flows = 16;
  Harness h(cfg);
  for (uint32_t i = 0; i < 5000; ++i) {
    auto p = udp_packet("10.0.0.1", static_cast<uint16_t>(1000 + i), "10.0.0.2", 53, 10, 1.0 + i * 0.001);
    h.send(p);
  }
  EXPECT_EQ(h.table.live_flows(), 1000u);
  EXPECT_EQ(h.table.evicted(), 4000u);
  h.flush();
  EXPECT_EQ(h.records.size(), 5000u);
  std::set<uint16_t> ports;
  for (const auto& r : h.records) ports.insert(r.orig_p);
  EXPECT_EQ(ports.size(), 5000u);
}

// ---------------------------------------------------------------------------
// UDP

TEST(FlowUdp, ReplyFromPort53FirstIsFlipped) {
  Harness h;
  h.send(udp_packet("8.8.8.8", 53, "10.0.0.1", 40000, 100, 1.0));
  h.flush();
  ASSERT_EQ(h.records.size(), 1u);
  const ConnRecord& r = h.records[0];
  EXPECT_EQ(r.orig_h, ip("10.0.0.1"));
  EXPECT_EQ(r.orig_p, 40000);
  EXPECT_EQ(r.resp_h, ip("8.8.8.8"));
  EXPECT_EQ(r.resp_p, 53);
  EXPECT_EQ(r.history, "^d");
  EXPECT_EQ(r.conn_state, ConnState::kSHR);
  EXPECT_EQ(r.resp_bytes, 100u);
  EXPECT_EQ(r.orig_pkts, 0u);
  EXPECT_EQ(r.resp_pkts, 1u);
  EXPECT_EQ(r.resp_ip_bytes, 128u);
}

TEST(FlowUdp, QueryAndAnswer) {
  Harness h;
  h.send(udp_packet("192.168.1.52", 54585, "8.8.8.8", 53, 30, 1.0));
  h.send(udp_packet("8.8.8.8", 53, "192.168.1.52", 54585, 90, 1.02));
  h.flush();
  ASSERT_EQ(h.records.size(), 1u);
  const ConnRecord& r = h.records[0];
  EXPECT_EQ(r.history, "Dd");
  EXPECT_EQ(r.conn_state, ConnState::kSF);
  EXPECT_EQ(r.orig_bytes, 30u);
  EXPECT_EQ(r.resp_bytes, 90u);
  EXPECT_TRUE(r.has_duration);
  EXPECT_EQ(r.community_id, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");  // the spec's vector for this flow
}

TEST(FlowUdp, NoFlipTowardsBroadcast) {
  Harness h;
  h.send(udp_packet("10.0.0.5", 53, "255.255.255.255", 40000, 10, 1.0));
  h.flush();
  EXPECT_EQ(h.records.at(0).history, "D");
  EXPECT_EQ(h.records.at(0).orig_h, ip("10.0.0.5"));
  EXPECT_EQ(h.records.at(0).conn_state, ConnState::kS0);
}

TEST(FlowUdp, BadChecksumOnlyAddsC) {
  Harness h;
  auto p = udp_packet("10.0.0.1", 40000, "10.0.0.2", 9999, 10, 1.0);
  p.bad_checksum = true;
  h.send(p);
  h.send(udp_packet("10.0.0.2", 9999, "10.0.0.1", 40000, 10, 1.5));
  h.flush();
  EXPECT_EQ(h.records.at(0).history, "Cd");
  EXPECT_EQ(h.records.at(0).orig_pkts, 0u);
  EXPECT_EQ(h.records.at(0).conn_state, ConnState::kSHR);
}

// ---------------------------------------------------------------------------
// ICMP: Zeek keys on type and counterpart type, not on the echo identifier.

TEST(FlowIcmp, PingsAndRepliesAreOneConnection) {
  Harness h;
  h.send(icmp_packet("192.168.0.89", "192.168.0.1", 8, 0, 56, 1.0, 1));
  h.send(icmp_packet("192.168.0.1", "192.168.0.89", 0, 0, 56, 1.001, 1));
  h.send(icmp_packet("192.168.0.89", "192.168.0.1", 8, 0, 56, 2.0, 2));  // another ping id
  h.flush();
  ASSERT_EQ(h.records.size(), 1u);
  const ConnRecord& r = h.records[0];
  EXPECT_EQ(r.proto, 1);
  EXPECT_EQ(r.orig_h, ip("192.168.0.89"));
  EXPECT_EQ(r.orig_p, 8);
  EXPECT_EQ(r.resp_p, 0);
  EXPECT_EQ(r.orig_pkts, 2u);
  EXPECT_EQ(r.resp_pkts, 1u);
  EXPECT_EQ(r.orig_bytes, 112u);  // ICMP payload after the 8-byte header
  EXPECT_EQ(r.resp_bytes, 56u);
  EXPECT_EQ(r.orig_ip_bytes, 2u * 84);
  EXPECT_EQ(r.conn_state, ConnState::kOTH);
  EXPECT_EQ(r.history, "");
  EXPECT_EQ(r.community_id, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
}

TEST(FlowIcmp, OneWayMessagesUseTheCode) {
  Harness h;
  h.send(icmp_packet("10.0.0.9", "10.0.0.1", 3, 1, 28, 1.0));
  h.send(icmp_packet("10.0.0.9", "10.0.0.1", 3, 3, 28, 1.1));
  h.send(icmp_packet("10.0.0.9", "10.0.0.1", 3, 1, 28, 1.2));
  h.flush();
  ASSERT_EQ(h.records.size(), 2u);
  EXPECT_EQ(h.records[0].orig_p, 3);
  EXPECT_EQ(h.records[0].resp_p, 1);
  EXPECT_EQ(h.records[0].orig_pkts, 2u);
  EXPECT_EQ(h.records[1].resp_p, 3);
}

TEST(FlowIcmp, Icmpv6EchoPairs) {
  Harness h;
  h.send(icmp_packet("3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 0, 32, 1.0));
  h.send(icmp_packet("3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 0, 32, 1.1));
  h.flush();
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].proto, 58);
  EXPECT_EQ(h.records[0].orig_p, 128);
  EXPECT_EQ(h.records[0].resp_p, 129);
  EXPECT_EQ(h.records[0].resp_pkts, 1u);
  EXPECT_EQ(h.records[0].community_id, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=");
}

// Zeek does not flip ICMP: a reply seen first makes the replier the
// originator (orig_p 0, resp_p 8; zeek/zeek#5830).
TEST(FlowIcmp, EchoReplyFirstKeepsZeekRoles) {
  Harness h;
  h.send(icmp_packet("10.0.0.2", "10.0.0.1", 0, 0, 56, 1.0));
  h.send(icmp_packet("10.0.0.1", "10.0.0.2", 8, 0, 56, 2.0));
  h.flush();
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].orig_h, ip("10.0.0.2"));
  EXPECT_EQ(h.records[0].orig_p, 0);
  EXPECT_EQ(h.records[0].resp_p, 8);
  EXPECT_EQ(h.records[0].history, "");
}

TEST(FlowIcmp, EchoReplyFirstFlipsWhenConfigured) {
  FlowConfig cfg;
  cfg.flip_icmp_replies = true;
  Harness h(cfg);
  h.send(icmp_packet("10.0.0.2", "10.0.0.1", 0, 0, 56, 1.0));
  h.send(icmp_packet("10.0.0.1", "10.0.0.2", 8, 0, 56, 2.0));
  h.flush();
  ASSERT_EQ(h.records.size(), 1u);
  const ConnRecord& r = h.records[0];
  EXPECT_EQ(r.orig_h, ip("10.0.0.1"));
  EXPECT_EQ(r.orig_p, 8);
  EXPECT_EQ(r.resp_p, 0);
  EXPECT_EQ(r.history, "^");
  EXPECT_EQ(r.orig_pkts, 1u);
  EXPECT_EQ(r.resp_pkts, 1u);
}

TEST(FlowIcmp, BadChecksumIsDroppedSilently) {
  Harness h;
  auto p = icmp_packet("10.0.0.1", "10.0.0.2", 8, 0, 56, 1.0);
  p.bad_checksum = true;
  h.send(p);
  h.flush();
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].history, "");
  EXPECT_EQ(h.records[0].orig_pkts, 0u);
}

// ---------------------------------------------------------------------------
// Other IP protocols: one connection per address pair and protocol.

TEST(FlowOther, GreBothDirections) {
  Harness h;
  auto a = ip_packet(ip("10.1.12.1"), ip("10.1.12.2"), 47, 1.0);
  a.ip_len = 100;
  a.payload_len = 76;
  auto b = ip_packet(ip("10.1.12.2"), ip("10.1.12.1"), 47, 1.5);
  b.ip_len = 60;
  b.payload_len = 36;
  h.send(a);
  h.send(b);
  h.send(ip_packet(ip("10.1.12.1"), ip("10.1.12.2"), 46, 2.0));  // RSVP: another connection
  h.flush();
  ASSERT_EQ(h.records.size(), 2u);
  const ConnRecord& r = h.records[0];
  EXPECT_EQ(r.proto, 47);
  EXPECT_STREQ(proto_name(r.proto), "unknown_transport");
  EXPECT_EQ(r.orig_p, 0);
  EXPECT_EQ(r.resp_p, 0);
  EXPECT_EQ(r.orig_pkts, 1u);
  EXPECT_EQ(r.resp_pkts, 1u);
  EXPECT_EQ(r.orig_ip_bytes, 100u);
  EXPECT_EQ(r.conn_state, ConnState::kOTH);
  EXPECT_EQ(h.records[1].community_id, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=");
}

TEST(FlowOther, NonIpAndTruncatedTransportIgnored) {
  Harness h;
  decode::DecodedPacket arp;
  arp.l3 = decode::L3::kArp;
  h.send(arp);
  auto t = tcp_packet("10.0.0.1", 1, "10.0.0.2", 2, "S", 1, 0, 0, 1.0);
  t.has_l4 = false;
  h.send(t);
  h.flush();
  EXPECT_TRUE(h.records.empty());
  EXPECT_EQ(h.anomaly("flow.truncated_transport_header"), 1u);
}

// ---------------------------------------------------------------------------
// Record details

TEST(FlowRecord, VlanOfFirstPacket) {
  Harness h;
  auto p = udp_packet("10.0.0.1", 40000, "10.0.0.2", 9999, 10, 1.0);
  p.vlan_count = 2;
  p.vlan = {100, 200};
  h.send(p);
  auto q = udp_packet("10.0.0.2", 9999, "10.0.0.1", 40000, 10, 1.1);
  q.vlan_count = 1;
  q.vlan = {300, 0};
  h.send(q);  // VLAN is not part of the key: same connection
  h.flush();
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_TRUE(h.records[0].has_vlan);
  EXPECT_EQ(h.records[0].vlan, 100);
  EXPECT_TRUE(h.records[0].has_inner_vlan);
  EXPECT_EQ(h.records[0].inner_vlan, 200);
}

TEST(FlowRecord, Ipv6TcpCommunityId) {
  Harness h;
  h.send(tcp_packet("2001:470:e5bf:dead:4957:2174:e82c:4887", 63943, "2607:f8b0:400c:c03::1a", 25, "S", 1, 0, 0, 1.0));
  h.flush();
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].community_id, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=");
  EXPECT_EQ(h.records[0].orig_h, ip("2001:470:e5bf:dead:4957:2174:e82c:4887"));
  EXPECT_EQ(h.records[0].orig_ip_bytes, 60u);
}

TEST(FlowRecord, ReassembledDatagramCountsOnce) {
  Harness h;
  auto p = udp_packet("10.0.0.1", 40000, "10.0.0.2", 9999, 3972, 1.0);
  p.reassembled = true;
  p.fragments = 3;
  p.ip_len = 4000;
  h.send(p);
  h.flush();
  EXPECT_EQ(h.records.at(0).orig_pkts, 1u);
  EXPECT_EQ(h.records.at(0).orig_ip_bytes, 4000u);
  EXPECT_EQ(h.records.at(0).orig_bytes, 3972u);
}

std::vector<ConnRecord> run_sample(uint64_t first_index) {
  Harness h;
  h.next_index = first_index;
  TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80);
  c.client("S");
  c.server("SA");
  h.send(udp_packet("10.0.0.1", 40000, "10.0.0.2", 53, 10, 1.0));
  h.flush();
  return h.records;
}

TEST(FlowRecord, UidIsDeterministic) {
  auto a = run_sample(0);
  auto b = run_sample(0);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].uid, b[i].uid);
    EXPECT_EQ(a[i].community_id, b[i].community_id);
    ASSERT_EQ(a[i].uid.size(), 18u);
    EXPECT_EQ(a[i].uid[0], 'C');
    for (char ch : a[i].uid.substr(1)) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch))) << a[i].uid;
  }
  EXPECT_NE(a[0].uid, a[1].uid);
  auto c = run_sample(1000);  // same packets, other input positions
  EXPECT_NE(a[0].uid, c[0].uid);
}

// make_conn_uid as first written (one base-62 digit at a time), to pin the
// table-driven version to it.
std::string reference_uid(uint64_t first_index, const FlowKey& key, core::Timestamp first_ts) {
  uint8_t buf[sizeof(FlowKey) + 16];
  std::memcpy(buf, &key, sizeof key);
  std::memcpy(buf + sizeof key, &first_index, 8);
  std::memcpy(buf + sizeof key + 8, &first_ts.ns, 8);
  uint64_t hi = core::hash_bytes(buf, sizeof buf, 0x5452415746554944ull);
  uint64_t lo = core::hash_bytes(buf, sizeof buf, core::mix64(hi) ^ 0x2545f4914f6cdd1dull);
  uint32_t limb[4] = {static_cast<uint32_t>(hi >> 32), static_cast<uint32_t>(hi), static_cast<uint32_t>(lo >> 32),
                      static_cast<uint32_t>(lo)};
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string uid(18, 'C');
  for (size_t pos = 17; pos >= 1; --pos) {
    uint64_t rem = 0;
    for (uint32_t& l : limb) {
      uint64_t cur = (rem << 32) | l;
      l = static_cast<uint32_t>(cur / 62);
      rem = cur % 62;
    }
    uid[pos] = kDigits[rem];
  }
  return uid;
}

TEST(FlowRecord, UidMatchesDigitByDigitReference) {
  std::srand(7);
  for (int i = 0; i < 2000; ++i) {
    auto p = tcp_packet("10.0.0.1", static_cast<uint16_t>(std::rand()), "192.168.1.2",
                        static_cast<uint16_t>(std::rand()), "S", 1, 0, 0, std::rand() / 1000.0);
    const FlowKey key = make_packet_key(p).key;
    const auto index = static_cast<uint64_t>(std::rand()) << (i % 40);
    ASSERT_EQ(make_conn_uid(index, key, p.ts), reference_uid(index, key, p.ts)) << i;
  }
}

TEST(FlowRecord, SymmetricHash) {
  auto fwd = tcp_packet("10.0.0.1", 50000, "10.0.0.2", 80, "S", 1, 0, 0, 1.0);
  auto rev = tcp_packet("10.0.0.2", 80, "10.0.0.1", 50000, "SA", 1, 2, 0, 1.0);
  auto other = tcp_packet("10.0.0.1", 50001, "10.0.0.2", 80, "S", 1, 0, 0, 1.0);
  EXPECT_EQ(symmetric_flow_hash(fwd), symmetric_flow_hash(rev));
  EXPECT_NE(symmetric_flow_hash(fwd), symmetric_flow_hash(other));

  auto u1 = udp_packet("2001:db8::1", 5353, "2001:db8::2", 5353, 1, 1.0);
  auto u2 = udp_packet("2001:db8::2", 5353, "2001:db8::1", 5353, 1, 1.0);
  EXPECT_EQ(symmetric_flow_hash(u1), symmetric_flow_hash(u2));

  // ICMP: request, reply and a later error between the pair share a shard.
  auto req = icmp_packet("10.0.0.1", "10.0.0.2", 8, 0, 1, 1.0, 7);
  auto rep = icmp_packet("10.0.0.2", "10.0.0.1", 0, 0, 1, 1.0, 7);
  auto unreach = icmp_packet("10.0.0.2", "10.0.0.1", 3, 3, 1, 1.0);
  EXPECT_EQ(symmetric_flow_hash(req), symmetric_flow_hash(rep));
  EXPECT_EQ(symmetric_flow_hash(req), symmetric_flow_hash(unreach));

  auto g1 = ip_packet(ip("10.1.12.1"), ip("10.1.12.2"), 47, 1.0);
  auto g2 = ip_packet(ip("10.1.12.2"), ip("10.1.12.1"), 47, 1.0);
  EXPECT_EQ(symmetric_flow_hash(g1), symmetric_flow_hash(g2));
}

// ---------------------------------------------------------------------------
// Throughput (printed, not asserted): many concurrent TCP connections, each
// packet one hash probe plus state and counter updates.

// Sends `rounds` packets per connection; `burst` consecutive packets of a
// connection arrive back to back (1: strict round-robin over all of them).
double bench_ns_per_packet(uint32_t flows, uint32_t rounds, uint32_t burst) {
  core::Anomalies anomalies;
  uint64_t emitted = 0;
  FlowConfig cfg;
  cfg.initial_flows = flows;
  FlowTable table(cfg, anomalies, [&](ConnRecord&&) { ++emitted; });
  decode::DecodedPacket p = tcp_packet("10.0.0.1", 1, "10.1.0.1", 443, "A", 0, 0, 0, 1.0);
  const uint8_t syn = decode::tcp_flag::kSyn;
  const uint8_t synack = decode::tcp_flag::kSyn | decode::tcp_flag::kAck;
  const uint8_t pa = decode::tcp_flag::kPsh | decode::tcp_flag::kAck;
  const core::IpAddress server = core::IpAddress::v4(0x0a010001u);
  uint64_t packets = 0;
  // Thread CPU time rather than wall time: the number should not depend on
  // what else the machine is doing.
  timespec t0{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  for (uint32_t r0 = 0; r0 < rounds; r0 += burst) {
    for (uint32_t f = 0; f < flows; ++f) {
     for (uint32_t r = r0; r < r0 + burst && r < rounds; ++r) {
      bool from_client = (r & 1) == 0;
      core::IpAddress client = core::IpAddress::v4(0x0a000000u | (f >> 8));
      auto cport = static_cast<uint16_t>(1024 + (f & 0xff));
      p.src = from_client ? client : server;
      p.dst = from_client ? server : client;
      p.sport = from_client ? cport : 443;
      p.dport = from_client ? 443 : cport;
      p.tcp_flags = r == 0 ? syn : r == 1 ? synack : pa;
      uint32_t len = r < 3 ? 0 : 512;
      p.payload_len = len;
      p.payload = zero_payload(len);
      p.ip_len = 40 + len;
      p.seq = (from_client ? 1000u : 900000u) + (r / 2) * 512u + (r >= 2 ? 1u : 0u);
      p.ack = (from_client ? 900000u : 1000u) + (r / 2) * 512u + 1u;
      p.ts = core::Timestamp{1000000000LL + static_cast<int64_t>(packets) * 250};
      p.index = packets++;
      table.process(p);
     }
    }
  }
  timespec t1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
  EXPECT_EQ(table.live_flows(), flows);
  table.flush();
  EXPECT_EQ(emitted, flows);
  double ns = static_cast<double>(t1.tv_sec - t0.tv_sec) * 1e9 + static_cast<double>(t1.tv_nsec - t0.tv_nsec);
  return ns / static_cast<double>(packets);
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kInstrumented = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kInstrumented = true;
#else
constexpr bool kInstrumented = false;
#endif
#else
constexpr bool kInstrumented = false;
#endif

TEST(FlowBench, NsPerPacket) {
  // Round-robin over all connections (burst 1) is the worst case for caches:
  // every packet touches a different connection. Real traffic comes in
  // bursts. TRAWL_FLOW_BENCH_FULL=1 adds a million concurrent connections.
  bool quick = kInstrumented;
#ifndef NDEBUG
  quick = true;
#endif
  std::vector<uint32_t> sizes = {1000u, 100000u};
  if (std::getenv("TRAWL_FLOW_BENCH_FULL") != nullptr) sizes.push_back(1000000u);
  uint32_t total = quick ? 100000u : 4000000u;
  for (uint32_t flows : sizes) {
    if (quick && flows > 1000u) continue;
    for (uint32_t burst : {1u, 8u}) {
      uint32_t rounds = std::max(8u, total / flows);
      double ns = bench_ns_per_packet(flows, rounds, burst);
      std::printf("[ bench    ] %u TCP connections, %u packets, bursts of %u: %.1f ns/packet%s\n", flows, rounds * flows,
                  burst, ns, quick ? " (instrumented build)" : "");
    }
  }
}

// ---------------------------------------------------------------------------
// Application layer lifetime: a layer that is disposable (nothing more to
// parse, nothing to finish) is freed early; the records do not change.

struct FakeLayerStats {
  int created = 0;
  int destroyed = 0;
  int finished = 0;
  int calls = 0;
  std::string uid;  // the uid the layer was created with
};

class FakeLayer final : public AppLayer {
 public:
  FakeLayer(FakeLayerStats& st, std::string uid, int calls_until_done, bool disposable)
      : st_(st), uid_(std::move(uid)), left_(calls_until_done), disposable_(disposable) {}
  ~FakeLayer() override { ++st_.destroyed; }
  void stream_data(bool, core::ByteView, core::Timestamp) override { call(); }
  void stream_gap(bool, uint64_t, core::Timestamp) override { call(); }
  void stream_end(bool, core::Timestamp) override {}
  void datagram(bool, core::ByteView, core::Timestamp) override { call(); }
  void finish(core::Timestamp, ConnRecord& rec) override {
    ++st_.finished;
    rec.service = "fake";
  }
  bool wants_data() const override { return left_ > 0; }
  bool disposable() const override { return disposable_ && left_ <= 0; }
  std::string take_uid() override { return std::move(uid_); }

 private:
  void call() {
    ++st_.calls;
    --left_;
  }
  FakeLayerStats& st_;
  std::string uid_;
  int left_;
  bool disposable_;
};

class FakeFactory final : public AppLayerFactory {
 public:
  FakeFactory(FakeLayerStats& st, int calls_until_done, bool disposable)
      : st_(st), calls_(calls_until_done), disposable_(disposable) {}
  std::unique_ptr<AppLayer> create(ConnInfo info) override {
    ++st_.created;
    st_.uid = info.uid;
    return std::make_unique<FakeLayer>(st_, std::move(info.uid), calls_, disposable_);
  }

 private:
  FakeLayerStats& st_;
  int calls_;
  bool disposable_;
};

TEST(FlowAppLayer, DisposableUdpLayerIsFreedAndNotRecreated) {
  FakeLayerStats st;
  FakeFactory f(st, 1, true);
  FlowConfig cfg;
  cfg.app = &f;
  Harness h(cfg);
  h.send(udp_packet("10.0.0.1", 40000, "10.0.0.2", 9999, 20, 1.0));
  EXPECT_EQ(st.created, 1);
  EXPECT_EQ(st.destroyed, 1);  // freed right after the datagram that finished it
  h.send(udp_packet("10.0.0.2", 9999, "10.0.0.1", 40000, 30, 1.5));
  h.send(udp_packet("10.0.0.1", 40000, "10.0.0.2", 9999, 20, 2.0));
  h.flush();
  EXPECT_EQ(st.created, 1);  // no second layer for the same connection
  EXPECT_EQ(st.calls, 1);
  EXPECT_EQ(st.finished, 0);
  ASSERT_EQ(h.records.size(), 1u);
  const ConnRecord& r = h.records[0];
  EXPECT_EQ(r.service, "");
  EXPECT_EQ(r.uid, st.uid);  // made again, the same
  EXPECT_EQ(r.orig_pkts, 2u);
  EXPECT_EQ(r.resp_pkts, 1u);
}

TEST(FlowAppLayer, LiveLayerIsFinishedAndItsUidReused) {
  FakeLayerStats st;
  FakeFactory f(st, 1, false);  // done after one call, but not disposable
  FlowConfig cfg;
  cfg.app = &f;
  Harness h(cfg);
  h.send(udp_packet("10.0.0.1", 40000, "10.0.0.2", 9999, 20, 1.0));
  h.send(udp_packet("10.0.0.2", 9999, "10.0.0.1", 40000, 30, 1.5));
  EXPECT_EQ(st.destroyed, 0);
  h.flush();
  EXPECT_EQ(st.created, 1);
  EXPECT_EQ(st.destroyed, 1);
  EXPECT_EQ(st.finished, 1);
  EXPECT_EQ(st.calls, 1);
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].service, "fake");
  EXPECT_EQ(h.records[0].uid, st.uid);
  EXPECT_FALSE(st.uid.empty());
}

TEST(FlowAppLayer, TcpKeepsCountingGapsAfterTheLayerIsFreed) {
  FakeLayerStats st;
  FakeFactory f(st, 1, true);
  FlowConfig cfg;
  cfg.app = &f;
  Harness h(cfg);
  TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80);
  c.client("S");
  c.server("SA");
  c.client("A");
  c.client("PA", 100);
  EXPECT_EQ(st.destroyed, 1);  // gone after its one delivery
  c.skip(true, 500);
  c.client("PA", 100);
  c.server("A");
  h.flush();
  EXPECT_EQ(st.created, 1);
  EXPECT_EQ(st.calls, 1);
  EXPECT_EQ(st.finished, 0);
  const ConnRecord& r = h.records.at(0);
  EXPECT_EQ(r.missed_bytes, 500u);
  EXPECT_EQ(r.history, "ShADaG");
  EXPECT_EQ(r.service, "");
  EXPECT_EQ(r.uid, st.uid);
}

}  // namespace
}  // namespace trawl::flow

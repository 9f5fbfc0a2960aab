// TCP connections against Zeek's conn.log semantics. Each expected value was
// derived by walking the packets through Zeek's code; the comment on each
// test names the Zeek logic that produces it (TCPSessionAdapter::Update*State
// for endpoint states, conn_state() in base/protocols/conn/main.zeek for the
// state name, update_history() for the letters).
#include <gtest/gtest.h>

#include <algorithm>

#include "flow/flow_test_util.h"

namespace trawl::flow {
namespace {

using namespace trawl::flow::testing;
namespace tf = decode::tcp_flag;

class TcpStates : public ::testing::Test {
 protected:
  // A client on a high port talking to a web server: the first packet never
  // triggers the role flip.
  Harness h;
  TcpConversation c{h, "10.0.0.1", 50000, "10.0.0.2", 80};

  const ConnRecord& only() {
    h.flush();
    EXPECT_EQ(h.records.size(), 1u);
    return h.records.at(0);
  }
  void handshake() {
    c.client("S");
    c.server("SA");
    c.client("A");
  }
};

// SYN only. orig SYN_SENT, resp INACTIVE -> "S0".
TEST_F(TcpStates, S0) {
  c.client("S");
  const ConnRecord& r = only();
  EXPECT_EQ(r.conn_state, ConnState::kS0);
  EXPECT_EQ(r.history, "S");
  EXPECT_EQ(r.orig_h, ip("10.0.0.1"));
  EXPECT_EQ(r.orig_p, 50000);
  EXPECT_EQ(r.resp_h, ip("10.0.0.2"));
  EXPECT_EQ(r.resp_p, 80);
  EXPECT_EQ(r.proto, 6);
  EXPECT_EQ(r.orig_pkts, 1u);
  EXPECT_EQ(r.orig_ip_bytes, 40u);
  EXPECT_EQ(r.resp_pkts, 0u);
  EXPECT_EQ(r.orig_bytes, 0u);  // Size(): SYN octet not counted
  EXPECT_FALSE(r.has_duration);  // one packet: Zeek leaves duration/bytes unset
  EXPECT_EQ(r.orig_first_flags, tf::kSyn);
}

// Handshake and data both ways, no close: both ESTABLISHED -> "S1".
// Letters: S (orig SYN), h (resp SYN+ACK), A (pure ACK), D/d (data), a.
TEST_F(TcpStates, S1) {
  handshake();
  c.client("PA", 100);
  c.server("A");
  c.server("PA", 200);
  c.client("A");
  const ConnRecord& r = only();
  EXPECT_EQ(r.conn_state, ConnState::kS1);
  EXPECT_EQ(r.history, "ShADad");
  EXPECT_EQ(r.orig_bytes, 100u);
  EXPECT_EQ(r.resp_bytes, 200u);
  EXPECT_EQ(r.orig_pkts, 4u);
  EXPECT_EQ(r.resp_pkts, 3u);
  EXPECT_EQ(r.orig_ip_bytes, 4u * 40 + 100);
  EXPECT_EQ(r.resp_ip_bytes, 3u * 40 + 200);
}

// Full life: both CLOSED -> "SF", the classic "ShADadFf". The last ACK
// comes after both FINs, so it adds no letter ('A' already seen) and does
// not extend the duration (SetLastTime stops once both sides closed).
TEST_F(TcpStates, SF) {
  handshake();
  c.client("PA", 100);
  c.server("A");
  c.server("PA", 200);
  c.client("A");
  c.client("FA");
  c.server("FA");
  double server_fin = c.now();
  c.client("A");
  double last_ack = c.now();
  const ConnRecord& r = only();
  EXPECT_EQ(r.conn_state, ConnState::kSF);
  EXPECT_EQ(r.history, "ShADadFf");
  EXPECT_EQ(r.orig_bytes, 100u);  // FIN octet not counted
  EXPECT_EQ(r.resp_bytes, 200u);
  EXPECT_TRUE(r.has_duration);
  EXPECT_EQ(r.duration_ns, (at(server_fin) - at(100.01)));
  // duration ends at the close as Zeek's does; last_ts is the last packet
  // (the final ACK), which pcap extracts by uid need.
  EXPECT_EQ(r.last_ts, at(last_ack));
  EXPECT_EQ(r.orig_pkts, 6u);
  EXPECT_EQ(r.resp_pkts, 4u);
  EXPECT_EQ(r.orig_flags, tf::kSyn | tf::kAck | tf::kPsh | tf::kFin);
  EXPECT_EQ(r.resp_flags, tf::kSyn | tf::kAck | tf::kPsh | tf::kFin);
  EXPECT_EQ(r.missed_bytes, 0u);
}

// SYN answered by RST: resp RESET, orig SYN_SENT -> "REJ".
TEST_F(TcpStates, REJ) {
  c.client("S");
  c.server("RA");
  const ConnRecord& r = only();
  EXPECT_EQ(r.conn_state, ConnState::kREJ);
  EXPECT_EQ(r.history, "Sr");
  EXPECT_EQ(r.orig_bytes, 0u);
  EXPECT_EQ(r.resp_bytes, 0u);
}

// Originator FIN, responder never closes: orig CLOSED, resp ESTABLISHED -> "S2".
TEST_F(TcpStates, S2) {
  handshake();
  c.client("PA", 100);
  c.server("A");
  c.client("FA");
  c.server("A");
  const ConnRecord& r = only();
  EXPECT_EQ(r.conn_state, ConnState::kS2);
  EXPECT_EQ(r.history, "ShADaF");
}

// Responder FIN only: resp CLOSED, orig ESTABLISHED -> "S3".
TEST_F(TcpStates, S3) {
  handshake();
  c.client("PA", 100);
  c.server("A");
  c.server("FA");
  c.client("A");
  const ConnRecord& r = only();
  EXPECT_EQ(r.conn_state, ConnState::kS3);
  EXPECT_EQ(r.history, "ShADaf");
}

// Originator aborts an established connection: orig RESET -> "RSTO".
TEST_F(TcpStates, RSTO) {
  handshake();
  c.client("PA", 100);
  c.client("RA");
  const ConnRecord& r = only();
  EXPECT_EQ(r.conn_state, ConnState::kRSTO);
  EXPECT_EQ(r.history, "ShADR");
  EXPECT_EQ(r.orig_bytes, 100u);  // a RST takes no sequence space
}

// Responder aborts: resp RESET, orig ESTABLISHED -> "RSTR".
TEST_F(TcpStates, RSTR) {
  handshake();
  c.client("PA", 100);
  c.server("RA");
  const ConnRecord& r = only();
  EXPECT_EQ(r.conn_state, ConnState::kRSTR);
  EXPECT_EQ(r.history, "ShADr");
}

// SYN then RST from the originator, responder silent: orig RESET, resp
// INACTIVE and the history matches /^\^?S[^HAFGIQ]*R.*/ -> "RSTOS0".
TEST_F(TcpStates, RSTOS0) {
  c.client("S");
  c.client("R");
  const ConnRecord& r = only();
  EXPECT_EQ(r.conn_state, ConnState::kRSTOS0);
  EXPECT_EQ(r.history, "SR");
  EXPECT_EQ(r.orig_bytes, 0u);
}

// Orig RESET with a silent responder but no SYN first -> "OTH", not RSTOS0.
TEST_F(TcpStates, RstWithoutSynIsOTH) {
  c.client("A");
  c.client("R");
  const ConnRecord& r = only();
  EXPECT_EQ(r.conn_state, ConnState::kOTH);
  EXPECT_EQ(r.history, "AR");
}

// A SYN-ACK from port 80 starts the connection: WantConnection flips it
// ('^', the server becomes the responder, ESTABLISHED); the server then
// resets: resp RESET with orig INACTIVE -> "RSTRH".
TEST_F(TcpStates, RSTRH) {
  c.server("SA");
  c.server("R");
  const ConnRecord& r = only();
  EXPECT_EQ(r.conn_state, ConnState::kRSTRH);
  EXPECT_EQ(r.history, "^hr");
  EXPECT_EQ(r.orig_h, ip("10.0.0.1"));
  EXPECT_EQ(r.resp_p, 80);
}

// SYN then FIN from the originator, no answer: orig CLOSED, resp INACTIVE -> "SH".
TEST_F(TcpStates, SH) {
  c.client("S");
  c.client("F");
  const ConnRecord& r = only();
  EXPECT_EQ(r.conn_state, ConnState::kSH);
  EXPECT_EQ(r.history, "SF");
}

// Flipped SYN-ACK then FIN from the responder, orig silent -> "SHR".
TEST_F(TcpStates, SHR) {
  c.server("SA");
  c.server("FA");
  const ConnRecord& r = only();
  EXPECT_EQ(r.conn_state, ConnState::kSHR);
  EXPECT_EQ(r.history, "^hf");
}

// Picked up mid-stream: both PARTIAL -> "OTH". Sizes still come from
// sequence numbers, counting from the first sequence number seen.
TEST_F(TcpStates, OTH) {
  c.client("PA", 100);
  c.server("PA", 200);
  c.client("A");
  const ConnRecord& r = only();
  EXPECT_EQ(r.conn_state, ConnState::kOTH);
  EXPECT_EQ(r.history, "DdA");
  EXPECT_EQ(r.orig_bytes, 100u);
  EXPECT_EQ(r.resp_bytes, 200u);
}

// ---------------------------------------------------------------------------
// Role flips

// Lone SYN-ACK from a likely server port to a non-server port: flipped at
// creation ("^h"); the client's ACK then establishes it (UpdateInactiveState:
// ACK while the peer is ESTABLISHED) -> both ESTABLISHED, "S1".
TEST_F(TcpStates, SynAckFirstFromServerPortFlips) {
  c.server("SA");
  c.client("A");
  c.client("PA", 10);
  const ConnRecord& r = only();
  EXPECT_EQ(r.history, "^hAD");
  EXPECT_EQ(r.conn_state, ConnState::kS1);
  EXPECT_EQ(r.orig_h, ip("10.0.0.1"));
  EXPECT_EQ(r.orig_p, 50000);
  EXPECT_EQ(r.resp_h, ip("10.0.0.2"));
  EXPECT_EQ(r.resp_p, 80);
  EXPECT_EQ(r.orig_pkts, 2u);
  EXPECT_EQ(r.resp_pkts, 1u);
  EXPECT_EQ(r.orig_first_flags, tf::kAck);
}

// SYN-ACK between two non-server ports: not flipped (stealth scans), so the
// SYN-ACK sender is the originator, SYN_ACK_SENT with a silent responder ->
// "OTH"; the attempt timer ends it tcp_attempt_delay later.
TEST(TcpFlip, SynAckBetweenHighPortsIsNotFlipped) {
  Harness h;
  h.send(tcp_packet("10.0.0.2", 40000, "10.0.0.1", 50000, "SA", 5000, 1000, 0, 10.0));
  h.table.expire(at(14.9));
  EXPECT_TRUE(h.records.empty());
  h.table.expire(at(15.0));
  ASSERT_EQ(h.records.size(), 1u);
  const ConnRecord& r = h.records[0];
  EXPECT_EQ(r.history, "H");
  EXPECT_EQ(r.conn_state, ConnState::kOTH);
  EXPECT_EQ(r.orig_h, ip("10.0.0.2"));
  EXPECT_EQ(r.orig_p, 40000);
}

// SYN-ACK between two likely server ports: a SYN-ACK never flips then.
// A non-SYN packet between two server ports flips only towards the higher
// port (80 -> 443 flips, so 443 becomes the originator side's peer).
TEST(TcpFlip, BothServerPorts) {
  Harness h;
  h.send(tcp_packet("10.0.0.2", 80, "10.0.0.1", 443, "SA", 5000, 1000, 0, 10.0));
  h.send(tcp_packet("10.0.0.3", 80, "10.0.0.4", 443, "A", 5000, 1000, 0, 10.0));
  h.flush();
  ASSERT_EQ(h.records.size(), 2u);
  EXPECT_EQ(h.records[0].history, "H");
  EXPECT_EQ(h.records[0].orig_p, 80);
  EXPECT_EQ(h.records[1].history, "^a");
  EXPECT_EQ(h.records[1].orig_p, 443);
  EXPECT_EQ(h.records[1].orig_h, ip("10.0.0.4"));
}

// SYN-ACK seen before its SYN (two capture interfaces): the SYN carries the
// sequence number the SYN-ACK acknowledged, so it is not a reuse;
// UpdateInactiveState flips the roles after recording the SYN as the
// responder's ('s'), and establishes both sides.
TEST(TcpFlip, SynAfterSynAckReversal) {
  Harness h;
  h.send(tcp_packet("10.0.0.2", 40000, "10.0.0.1", 50000, "SA", 5000, 1000, 0, 10.000));
  h.send(tcp_packet("10.0.0.1", 50000, "10.0.0.2", 40000, "S", 999, 0, 0, 10.001));
  h.send(tcp_packet("10.0.0.1", 50000, "10.0.0.2", 40000, "A", 1000, 5001, 0, 10.002));
  h.flush();
  ASSERT_EQ(h.records.size(), 1u);
  const ConnRecord& r = h.records[0];
  EXPECT_EQ(r.history, "Hs^A");
  EXPECT_EQ(r.conn_state, ConnState::kS1);
  EXPECT_EQ(r.orig_h, ip("10.0.0.1"));
  EXPECT_EQ(r.orig_p, 50000);
  EXPECT_EQ(r.orig_pkts, 2u);
  EXPECT_EQ(r.resp_pkts, 1u);
}

// ---------------------------------------------------------------------------
// Bytes from sequence numbers

TEST(TcpBytes, WrapAroundTheSequenceSpace) {
  Harness h;
  TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80, 0xFFFFFF00u, 0xFFFFFFF0u);
  c.client("S");
  c.server("SA");
  c.client("A");
  c.client("PA", 128);
  c.client("PA", 256);  // crosses 2^32
  c.client("PA", 128);
  c.server("A");
  c.server("PA", 64);  // the server's stream wraps too
  c.client("FA");
  c.server("FA");
  c.client("A");
  h.flush();
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].orig_bytes, 512u);
  EXPECT_EQ(h.records[0].resp_bytes, 64u);
  EXPECT_EQ(h.records[0].conn_state, ConnState::kSF);
}

TEST(TcpBytes, AckedButUnseenDataCounts) {
  // Size() takes the larger of last sequence sent and last acknowledged.
  Harness h;
  TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80);
  c.client("S");
  c.server("SA");
  c.client("A");
  c.skip(true, 300);  // client data the capture never saw
  c.server("A");      // ...but the server acknowledges it
  h.flush();
  EXPECT_EQ(h.records.at(0).orig_bytes, 300u);
}

// ---------------------------------------------------------------------------
// History letters

// Retransmissions: 't' at the 1st, 10th and 100th (ScaledHistoryEntry).
TEST(TcpHistory, RetransmissionScaling) {
  Harness h;
  TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80);
  c.client("S");
  c.server("SA");
  c.client("A");
  uint32_t seq = c.next_seq(false);
  c.server("PA", 100);
  for (int i = 0; i < 100; ++i) c.raw(false, "PA", seq, 100);
  c.raw(true, "PA", c.next_seq(true), 0);  // bare ACK, no retransmission
  h.flush();
  const std::string& hist = h.records.at(0).history;
  EXPECT_EQ(hist, "ShAdttt");
  EXPECT_EQ(std::count(hist.begin(), hist.end(), 't'), 3);
}

TEST(TcpHistory, RetransmissionThresholds) {
  for (int n : {1, 9, 10, 99, 100}) {
    Harness h;
    TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80);
    c.client("S");
    c.server("SA");
    c.client("A");
    uint32_t seq = c.next_seq(true);
    c.client("PA", 10);
    for (int i = 0; i < n; ++i) c.raw(true, "PA", seq, 10);
    h.flush();
    const std::string& hist = h.records.at(0).history;
    long expected = n >= 100 ? 3 : n >= 10 ? 2 : 1;
    EXPECT_EQ(std::count(hist.begin(), hist.end(), 'T'), expected) << n << " " << hist;
  }
}

TEST(TcpHistory, ZeroWindowScaled) {
  Harness h;
  TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80);
  c.client("S");
  c.server("SA");
  c.client("A");
  for (int i = 0; i < 10; ++i) c.raw(false, "A", c.next_seq(false), 0, 0);
  h.flush();
  EXPECT_EQ(h.records.at(0).history, "ShAaww");
}

TEST(TcpHistory, InconsistentAndMultiFlag) {
  Harness h;
  // SYN+FIN first: 'Q' (multi-flag); FIN+RST later: 'I'.
  h.send(tcp_packet("10.0.0.1", 50000, "10.0.0.2", 80, "SF", 1000, 0, 0, 1.0));
  h.send(tcp_packet("10.0.0.3", 50000, "10.0.0.2", 80, "S", 1000, 0, 0, 1.0));
  h.send(tcp_packet("10.0.0.3", 50000, "10.0.0.2", 80, "FR", 1001, 0, 0, 1.1));
  h.flush();
  ASSERT_EQ(h.records.size(), 2u);
  EXPECT_EQ(h.records[0].history, "Q");
  EXPECT_EQ(h.records[0].conn_state, ConnState::kSH);
  EXPECT_EQ(h.records[1].history, "SI");
}

// Bad checksums: only 'C' (scaled) and the packet is not counted; the
// endpoint never leaves INACTIVE.
TEST(TcpHistory, BadChecksum) {
  Harness h;
  for (int i = 0; i < 10; ++i) {
    auto p = tcp_packet("10.0.0.1", 50000, "10.0.0.2", 80, "A", 1000, 5000, 0, 1.0 + i * 0.1);
    p.bad_checksum = true;
    h.send(p);
  }
  h.flush();
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].history, "CC");
  EXPECT_EQ(h.records[0].orig_pkts, 0u);
  EXPECT_EQ(h.records[0].conn_state, ConnState::kOTH);
  EXPECT_FALSE(h.records[0].has_duration);
}

// Zeek checks for port reuse before it validates the checksum, and an
// endpoint that never sent a valid packet has initial sequence number 0, so
// every corrupted SYN starts a connection of its own.
TEST(TcpHistory, BadChecksumSynsAreSeparateConnections) {
  Harness h;
  for (int i = 0; i < 3; ++i) {
    auto p = tcp_packet("10.0.0.1", 50000, "10.0.0.2", 80, "S", 1000, 0, 0, 1.0 + i * 0.1);
    p.bad_checksum = true;
    h.send(p);
  }
  h.flush();
  ASSERT_EQ(h.records.size(), 3u);
  for (const auto& r : h.records) EXPECT_EQ(r.history, "C");
}

TEST(TcpHistory, RepeatedFinWithNewSequenceNumber) {
  // 'F' repeats when the FIN's sequence number differs from the last FIN's.
  Harness h;
  TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80);
  c.client("S");
  c.server("SA");
  c.client("A");
  uint32_t fin_seq = c.next_seq(true);
  c.client("FA");
  c.raw(true, "FA", fin_seq);  // same FIN again: no letter
  h.flush();
  EXPECT_EQ(h.records.at(0).history, "ShAF");
}

// ---------------------------------------------------------------------------
// missed_bytes: gaps reported by the TCP reassembler (flow/app_stream.cc).
// The hole is reported when the peer acknowledges past it (Zeek's
// acked-but-unseen data), so 'G' follows the server's 'a'.

TEST(TcpGaps, GapAfterHandshakeCounts) {
  Harness h;
  TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80);
  c.client("S");
  c.server("SA");
  c.client("A");
  c.client("PA", 100);
  c.skip(true, 500);
  c.client("PA", 100);
  c.server("A");
  h.flush();
  const ConnRecord& r = h.records.at(0);
  EXPECT_EQ(r.missed_bytes, 500u);
  EXPECT_EQ(r.history, "ShADaG");
  EXPECT_EQ(r.orig_bytes, 700u);
}

TEST(TcpGaps, MidStreamConnectionsReportNoGaps) {
  // Zeek: report_gaps_for_partial = F.
  Harness h;
  TcpConversation c(h, "10.0.0.1", 50000, "10.0.0.2", 80);
  c.client("PA", 100);
  c.server("A");
  c.skip(true, 500);
  c.client("PA", 100);
  h.flush();
  EXPECT_EQ(h.records.at(0).missed_bytes, 0u);
  EXPECT_EQ(h.records.at(0).history, "Da");
}

}  // namespace
}  // namespace trawl::flow

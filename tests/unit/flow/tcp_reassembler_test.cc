// TcpReassembler: ordering, overlaps (first wins), gaps, caps, FIN, 2^32 wrap.
#include "flow/tcp_reassembler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace trawl::flow {
namespace {

// Records the stream as text, gaps as "[gap N]".
struct Recorder : StreamSink {
  std::string out;
  uint64_t data_bytes = 0;
  uint64_t gap_bytes = 0;
  int data_calls = 0;
  int ends = 0;
  std::vector<const uint8_t*> views;
  void on_data(core::ByteView d) override {
    out.append(core::as_chars(d));
    data_bytes += d.size();
    ++data_calls;
    views.push_back(d.data());
  }
  void on_gap(uint64_t n) override {
    out += "[gap " + std::to_string(n) + "]";
    gap_bytes += n;
  }
  void on_end() override { ++ends; }
};

core::ByteView bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

struct Fixture {
  Recorder rec;
  ReassemblyBudget budget;
  core::Anomalies anomalies;
  TcpReassembler r;
  explicit Fixture(ReassemblyLimits limits = {}) : r(rec, budget, anomalies, limits) {}
  void seg(uint32_t seq, const std::string& s, bool fin = false) {
    r.segment(seq, bytes(s), static_cast<uint32_t>(s.size()), fin);
  }
};

TEST(TcpReassembler, InOrderIsDeliveredWithoutCopy) {
  Fixture f;
  f.r.set_isn(1000);
  const std::string a = "hello ";
  const std::string b = "world";
  f.seg(1001, a);
  f.seg(1007, b);
  EXPECT_EQ(f.rec.out, "hello world");
  ASSERT_EQ(f.rec.views.size(), 2u);
  EXPECT_EQ(f.rec.views[0], reinterpret_cast<const uint8_t*>(a.data()));
  EXPECT_EQ(f.rec.views[1], reinterpret_cast<const uint8_t*>(b.data()));
  EXPECT_EQ(f.r.delivered_bytes(), 11u);
  EXPECT_EQ(f.r.missed_bytes(), 0u);
  EXPECT_EQ(f.r.buffered_bytes(), 0u);
}

TEST(TcpReassembler, OutOfOrderThenFill) {
  Fixture f;
  f.r.set_isn(0);
  f.seg(7, "world");
  f.seg(12, "!");
  EXPECT_EQ(f.rec.out, "");
  EXPECT_EQ(f.r.buffered_bytes(), 6u);
  EXPECT_EQ(f.budget.used, 6u);
  f.seg(1, "hello ");
  EXPECT_EQ(f.rec.out, "hello world!");
  EXPECT_EQ(f.r.buffered_bytes(), 0u);
  EXPECT_EQ(f.budget.used, 0u);
  EXPECT_EQ(f.r.missed_bytes(), 0u);
}

TEST(TcpReassembler, OverlapFirstDataWins) {
  Fixture f;
  f.r.set_isn(0);
  f.seg(5, "EFGH");   // buffered first
  f.seg(3, "cdXYgh"); // overlaps 5..8 with different bytes
  f.seg(1, "ab");
  EXPECT_EQ(f.rec.out, "abcdEFGH");
  EXPECT_EQ(f.anomalies.count(kTcpRetransmissionInconsistency), 1u);
}

TEST(TcpReassembler, OverlapWithSameBytesIsNoAnomaly) {
  Fixture f;
  f.r.set_isn(0);
  f.seg(5, "efgh");
  f.seg(3, "cdefghij");
  f.seg(1, "ab");
  EXPECT_EQ(f.rec.out, "abcdefghij");
  EXPECT_EQ(f.anomalies.count(kTcpRetransmissionInconsistency), 0u);
}

TEST(TcpReassembler, InOrderSegmentOverBufferedDataKeepsBufferedBytes) {
  Fixture f;
  f.r.set_isn(0);
  f.seg(3, "CD");
  f.seg(1, "abxyef");  // in order, but 3..4 was buffered first
  EXPECT_EQ(f.rec.out, "abCDef");
  EXPECT_EQ(f.anomalies.count(kTcpRetransmissionInconsistency), 1u);
}

TEST(TcpReassembler, RetransmissionOfDeliveredDataIsNotDeliveredTwice) {
  Fixture f;
  f.r.set_isn(0);
  f.seg(1, "abcd");
  f.seg(1, "abcd");
  f.seg(3, "cdef");
  f.seg(4, "X");  // keep-alive style: old byte
  EXPECT_EQ(f.rec.out, "abcdef");
  EXPECT_EQ(f.r.delivered_bytes(), 6u);
}

TEST(TcpReassembler, FlushReportsGaps) {
  Fixture f;
  f.r.set_isn(0);
  f.seg(1, "ab");
  f.seg(6, "fg");
  f.seg(11, "k");
  f.r.flush();
  EXPECT_EQ(f.rec.out, "ab[gap 3]fg[gap 3]k");
  EXPECT_EQ(f.r.missed_bytes(), 6u);
  EXPECT_EQ(f.r.buffered_bytes(), 0u);
  EXPECT_FALSE(f.r.ended());
  f.seg(12, "l");
  EXPECT_EQ(f.rec.out, "ab[gap 3]fg[gap 3]kl");
}

TEST(TcpReassembler, SnaplenCutSegmentMakesGapOfMissingTail) {
  Fixture f;
  f.r.set_isn(0);
  const std::string cut = "abc";
  f.r.segment(1, bytes(cut), 10, false);  // 7 bytes not captured
  f.seg(11, "k");
  EXPECT_EQ(f.rec.out, "abc[gap 7]k");
  EXPECT_EQ(f.r.missed_bytes(), 7u);
  EXPECT_EQ(f.r.delivered_bytes(), 4u);
}

TEST(TcpReassembler, SnaplenCutOutOfOrderSegmentBecomesGapInPlace) {
  Fixture f;
  f.r.set_isn(0);
  f.r.segment(3, bytes("cd"), 5, false);  // 3..7, of which 5..7 missing
  f.seg(8, "h");
  EXPECT_EQ(f.r.buffered_bytes(), 3u);
  f.seg(1, "ab");
  EXPECT_EQ(f.rec.out, "abcd[gap 3]h");
  EXPECT_EQ(f.r.missed_bytes(), 3u);
}

TEST(TcpReassembler, WrapsAround2To32) {
  Fixture f;
  f.r.set_isn(0xfffffff0u);
  std::string expect;
  uint32_t seq = 0xfffffff1u;
  for (int i = 0; i < 10; ++i) {
    const std::string s(7, static_cast<char>('a' + i));
    expect += s;
    f.seg(seq, s);
    seq += 7;  // wraps
  }
  EXPECT_EQ(f.rec.out, expect);
  EXPECT_EQ(f.r.next_offset(), 70u);
  // Out of order across the wrap.
  f.seg(seq + 3, "YZ");
  f.seg(seq, "vwx");
  EXPECT_EQ(f.rec.out, expect + "vwxYZ");
}

TEST(TcpReassembler, StreamLongerThan4GiBKeepsCounting) {
  Fixture f;
  f.r.set_isn(0);
  // Claimed-on-wire lengths with nothing captured: all gap, no memory.
  uint32_t seq = 1;
  const uint32_t chunk = 1u << 30;
  for (int i = 0; i < 6; ++i) {
    f.r.segment(seq, {}, chunk, false);
    seq += chunk;
  }
  f.seg(seq, "z");
  EXPECT_EQ(f.r.next_offset(), 6ull * chunk + 1);
  EXPECT_EQ(f.r.delivered_bytes(), 1u);
  EXPECT_EQ(f.r.missed_bytes(), 6ull * chunk);
}

TEST(TcpReassembler, PerStreamCapSkipsForward) {
  ReassemblyLimits limits;
  limits.max_buffered_bytes = 8;
  Fixture f(limits);
  f.r.set_isn(0);
  f.seg(11, "klmno");  // 5 buffered
  EXPECT_EQ(f.r.buffered_bytes(), 5u);
  f.seg(21, "uvwxy");  // would be 10 > 8: gives up on the hole 1..10
  EXPECT_LE(f.r.buffered_bytes(), 8u);
  EXPECT_EQ(f.rec.out, "[gap 10]klmno");
  EXPECT_EQ(f.r.buffered_bytes(), 5u);
  EXPECT_EQ(f.anomalies.count(kTcpReassemblyCapReached), 1u);
  f.seg(16, "pqrst");
  EXPECT_EQ(f.rec.out, "[gap 10]klmnopqrstuvwxy");
  EXPECT_EQ(f.r.missed_bytes(), 10u);
}

TEST(TcpReassembler, SegmentCapSkipsForward) {
  ReassemblyLimits limits;
  limits.max_segments = 2;
  Fixture f(limits);
  f.r.set_isn(0);
  f.seg(3, "c");
  f.seg(5, "e");
  f.seg(7, "g");
  EXPECT_LE(f.r.buffered_segments(), 2u);
  EXPECT_EQ(f.rec.out, "[gap 2]c");
  f.r.close();
  EXPECT_EQ(f.rec.out, "[gap 2]c[gap 1]e[gap 1]g");
}

TEST(TcpReassembler, OversizeSegmentIsDeliveredAfterGap) {
  ReassemblyLimits limits;
  limits.max_buffered_bytes = 4;
  Fixture f(limits);
  f.r.set_isn(0);
  f.seg(5, "0123456789");
  EXPECT_EQ(f.rec.out, "[gap 4]0123456789");
  EXPECT_EQ(f.r.buffered_bytes(), 0u);
}

TEST(TcpReassembler, GlobalBudgetIsSharedAndNeverExceeded) {
  Recorder rec_a;
  Recorder rec_b;
  ReassemblyBudget budget;
  budget.max_bytes = 10;
  core::Anomalies anomalies;
  {
    TcpReassembler a(rec_a, budget, anomalies);
    TcpReassembler b(rec_b, budget, anomalies);
    a.set_isn(0);
    b.set_isn(0);
    a.segment(11, bytes("AAAAAAAA"), 8, false);
    EXPECT_EQ(budget.used, 8u);
    b.segment(11, bytes("BBBB"), 4, false);  // 12 > 10: b skips its hole
    EXPECT_LE(budget.used, budget.max_bytes);
    EXPECT_EQ(rec_b.out, "[gap 10]BBBB");
    EXPECT_EQ(b.missed_bytes(), 10u);
    b.segment(21, bytes("bb"), 2, false);  // fits exactly
    EXPECT_EQ(budget.used, 10u);
    b.segment(30, bytes("cc"), 2, false);  // b gives up its hole before "bb"
    EXPECT_EQ(rec_b.out, "[gap 10]BBBB[gap 6]bb");
    EXPECT_EQ(budget.used, 10u);
    a.segment(30, bytes("x"), 1, false);  // 11 > 10: a gives up its hole
    EXPECT_LE(budget.used, budget.max_bytes);
    EXPECT_EQ(rec_a.out, "[gap 10]AAAAAAAA");
    EXPECT_EQ(anomalies.count(kTcpReassemblyCapReached), 3u);
  }
  EXPECT_EQ(budget.used, 0u);  // destructors give the memory back
}

TEST(TcpReassembler, FinEndsTheStream) {
  Fixture f;
  f.r.set_isn(0);
  f.seg(1, "abc");
  f.seg(4, "de", true);
  EXPECT_TRUE(f.r.ended());
  EXPECT_EQ(f.rec.ends, 1);
  EXPECT_EQ(f.r.fin_offset(), 5u);
  f.seg(6, "zz");
  EXPECT_EQ(f.rec.out, "abcde");
}

TEST(TcpReassembler, FinBeforeHoleWaitsForRetransmissionThenCloseGaps) {
  Fixture f;
  f.r.set_isn(0);
  f.seg(1, "ab");
  f.seg(5, "ef", true);  // 3..4 lost
  EXPECT_FALSE(f.r.ended());
  f.seg(3, "cd");  // retransmission after the FIN
  EXPECT_TRUE(f.r.ended());
  EXPECT_EQ(f.rec.out, "abcdef");

  Fixture g;
  g.r.set_isn(0);
  g.seg(1, "ab");
  g.seg(5, "efgh");  // bytes past the FIN are dropped
  g.r.segment(7, {}, 0, true);
  g.r.close();
  EXPECT_EQ(g.rec.out, "ab[gap 2]ef");
  EXPECT_EQ(g.rec.ends, 1);
  EXPECT_EQ(g.budget.used, 0u);
}

TEST(TcpReassembler, CloseGapsUpToFinAndIgnoresLaterData) {
  Fixture f;
  f.r.set_isn(0);
  f.r.segment(11, {}, 0, true);
  f.r.close();
  EXPECT_EQ(f.rec.out, "[gap 10]");
  EXPECT_EQ(f.rec.ends, 1);
  f.seg(1, "a");
  EXPECT_EQ(f.rec.out, "[gap 10]");
}

TEST(TcpReassembler, MidStreamStartUsesFirstSegment) {
  Fixture f;
  f.seg(123456789u, "middle ");
  f.seg(123456796u, "of it");
  f.seg(123456700u, "old");  // before the first segment seen: dropped
  EXPECT_EQ(f.rec.out, "middle of it");
  EXPECT_EQ(f.r.missed_bytes(), 0u);
}

}  // namespace
}  // namespace trawl::flow

namespace trawl::flow {
namespace {

TEST(TcpReassemblerAck, AckPastAHoleBeforeBufferedDataMakesTheGapNow) {
  Fixture f;
  f.r.set_isn(0);
  f.seg(1, "aaaa");
  f.seg(9, "cccc");  // bytes 5..8 missing
  EXPECT_EQ(f.rec.out, "aaaa");
  f.r.acked(13);  // the receiver acknowledged everything: 5..8 will not come
  EXPECT_EQ(f.rec.out, "aaaa[gap 4]cccc");
  EXPECT_EQ(f.r.missed_bytes(), 4u);
  EXPECT_EQ(f.r.buffered_bytes(), 0u);
}

TEST(TcpReassemblerAck, AckAheadOfCapturedDataSkipsNothing) {
  // The ACK was captured before the data it acknowledges (span-port
  // reordering): nothing is buffered beyond, so nothing is skipped.
  Fixture f;
  f.r.set_isn(0);
  f.seg(1, "aaaa");
  f.r.acked(9);
  f.seg(5, "bbbb");
  EXPECT_EQ(f.rec.out, "aaaabbbb");
  EXPECT_EQ(f.r.missed_bytes(), 0u);
}

TEST(TcpReassemblerAck, AckNeverSkipsBeyondBufferedData) {
  Fixture f;
  f.r.set_isn(0);
  f.seg(1, "aa");
  f.seg(5, "cc");      // hole 3..4
  f.r.acked(100);      // far beyond: only the hole before "cc" is given up
  EXPECT_EQ(f.rec.out, "aa[gap 2]cc");
  f.seg(7, "dd");      // data after the buffered block still arrives in order
  EXPECT_EQ(f.rec.out, "aa[gap 2]ccdd");
  EXPECT_EQ(f.r.missed_bytes(), 2u);
}

}  // namespace
}  // namespace trawl::flow

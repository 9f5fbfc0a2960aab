// The Dispatcher: protocol choice by content with ports as hints, replay of
// the probe bytes in arrival order, upgrades, give_up, UDP probing. Uses its
// own Registry of toy protocols so it does not depend on the real analyzers.
#include "analyzers/dispatcher.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace trawl::analyzers {
namespace {

core::ByteView bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// Every call an analyzer gets, as text: "<proto>:<o|r>:<data>" and "<proto>:gap" ...
std::vector<std::string>* g_calls = nullptr;

class EchoRecord final : public Record {
 public:
  std::string_view log() const override { return "echo"; }
  void write_json(std::string& out) const override { out += "{}\n"; }
};

template <char kTag>
class Toy final : public Analyzer {
 public:
  explicit Toy(Context& ctx) : ctx_(ctx) {}
  void data(bool is_orig, core::ByteView b, core::Timestamp ts) override {
    std::string s(core::as_chars(b));
    g_calls->push_back(std::string(1, kTag) + ":" + (is_orig ? "o" : "r") + ":" + s);
    if (s.find("UPGRADE") != std::string::npos) ctx_.upgrade("b");
    if (s.find("QUIT") != std::string::npos) ctx_.give_up();
    auto r = std::make_unique<EchoRecord>();
    r->ts = ts;
    ctx_.emit(std::move(r));
  }
  void gap(bool, uint64_t n, core::Timestamp) override {
    g_calls->push_back(std::string(1, kTag) + ":gap:" + std::to_string(n));
  }
  void finish(core::Timestamp) override { g_calls->push_back(std::string(1, kTag) + ":finish"); }

 private:
  Context& ctx_;
};

// "a": the client says "A-" first; "b": the server says "B-" first but only
// with its hint port or once the client answered "b-"; "u": UDP "U".
Probe probe_a(const ProbeInput& in) {
  if (in.orig.size() < 2) return in.orig_done ? Probe::kNo : Probe::kMaybe;
  return core::as_chars(in.orig).substr(0, 2) == "A-" ? Probe::kYes : Probe::kNo;
}
Probe probe_b(const ProbeInput& in) {
  if (in.resp.size() < 2) return in.resp_done ? Probe::kNo : Probe::kMaybe;
  if (core::as_chars(in.resp).substr(0, 2) != "B-") return Probe::kNo;
  if (in.port_hint) return Probe::kYes;
  if (in.orig.size() < 2) return in.orig_done ? Probe::kNo : Probe::kMaybe;
  return core::as_chars(in.orig).substr(0, 2) == "b-" ? Probe::kYes : Probe::kNo;
}
Probe probe_u(const ProbeInput& in) {
  return (!in.orig.empty() && in.orig[0] == 'U') ? Probe::kYes : Probe::kNo;
}

Registry toy_registry() {
  Registry r;
  r.add(Protocol{"a", 6, {1000}, probe_a, [](Context& c) -> std::unique_ptr<Analyzer> {
                   return std::make_unique<Toy<'a'>>(c);
                 }});
  r.add(Protocol{"b", 6, {2000}, probe_b, [](Context& c) -> std::unique_ptr<Analyzer> {
                   return std::make_unique<Toy<'b'>>(c);
                 }});
  r.add(Protocol{"u", 17, {53}, probe_u, [](Context& c) -> std::unique_ptr<Analyzer> {
                   return std::make_unique<Toy<'u'>>(c);
                 }});
  return r;
}

struct Fixture : ::testing::Test {
  Fixture() : reg(toy_registry()) { g_calls = &calls; }
  ~Fixture() override { g_calls = nullptr; }
  std::unique_ptr<Dispatcher> make(uint16_t resp_p, uint8_t proto = 6) {
    flow::ConnInfo info;
    info.uid = "Ctest";
    info.orig_p = 40000;
    info.resp_p = resp_p;
    info.proto = proto;
    info.first_index = 7;
    return std::make_unique<Dispatcher>(info, AnalyzerConfig{}, anomalies, sink, reg);
  }
  std::string service(Dispatcher& d) {
    flow::ConnRecord rec;
    d.finish(core::Timestamp{0}, rec);
    return rec.service;
  }
  Registry reg;
  core::Anomalies anomalies;
  std::vector<std::unique_ptr<Record>> sink;
  std::vector<std::string> calls;
};

using DispatcherTest = Fixture;

TEST_F(DispatcherTest, ContentWinsOnAnyPort) {
  auto d = make(5555);
  d->stream_data(true, bytes("A-hello"), core::Timestamp{1});
  d->stream_data(false, bytes("reply"), core::Timestamp{2});
  EXPECT_EQ(service(*d), "a");
  EXPECT_EQ(calls, (std::vector<std::string>{"a:o:A-hello", "a:r:reply", "a:finish"}));
  ASSERT_EQ(sink.size(), 2u);
  EXPECT_EQ(sink[0]->first_index, 7u);
  EXPECT_EQ(sink[0]->seq, 0u);
  EXPECT_EQ(sink[1]->seq, 1u);
}

TEST_F(DispatcherTest, ProbeBytesAreReplayedInArrivalOrder) {
  // Server-first protocol off its hint port: the banner alone is not enough;
  // once the client answers, both are replayed in the order they came.
  auto d = make(5555);
  d->stream_data(false, bytes("B-ban"), core::Timestamp{1});
  d->stream_data(false, bytes("ner"), core::Timestamp{2});
  EXPECT_TRUE(calls.empty());
  d->stream_data(true, bytes("b-cmd"), core::Timestamp{3});
  d->stream_data(false, bytes("ok"), core::Timestamp{4});
  EXPECT_EQ(service(*d), "b");
  EXPECT_EQ(calls, (std::vector<std::string>{"b:r:B-ban", "b:r:ner", "b:o:b-cmd", "b:r:ok", "b:finish"}));
}

TEST_F(DispatcherTest, HintPortDecidesEarlier) {
  auto d = make(2000);
  d->stream_data(false, bytes("B-banner"), core::Timestamp{1});
  EXPECT_EQ(calls, (std::vector<std::string>{"b:r:B-banner"}));
  EXPECT_EQ(service(*d), "b");
}

TEST_F(DispatcherTest, UnknownBytesGiveNoService) {
  auto d = make(1000);  // a's hint port, but not a's bytes
  d->stream_data(true, bytes("GET / HTTP/1.1\r\n"), core::Timestamp{1});
  d->stream_data(false, bytes("HTTP/1.1 200 OK\r\n"), core::Timestamp{2});
  EXPECT_FALSE(d->wants_data());
  EXPECT_EQ(service(*d), "");
  EXPECT_TRUE(calls.empty());
}

TEST_F(DispatcherTest, ProbeBufferIsBounded) {
  // A candidate that keeps saying "maybe" cannot make the dispatcher hold
  // more than kProbeBytes per direction: when both are full it gives up.
  auto d = make(5555);
  std::string chunk(512, 'B');  // server bytes that never become "B-"
  chunk[0] = 'B';
  chunk[1] = '-';
  for (int i = 0; i < 16 && d->wants_data(); ++i) d->stream_data(false, bytes(chunk), core::Timestamp{i});
  std::string client(512, 'x');
  for (int i = 0; i < 16 && d->wants_data(); ++i) d->stream_data(true, bytes(client), core::Timestamp{i});
  EXPECT_FALSE(d->wants_data());
  EXPECT_EQ(service(*d), "");
}

TEST_F(DispatcherTest, LargeFirstChunkIsDeliveredWhole) {
  auto d = make(5555);
  std::string big = "A-" + std::string(Dispatcher::kProbeBytes + 100, 'z');
  d->stream_data(true, bytes(big), core::Timestamp{1});
  ASSERT_EQ(calls.size(), 2u);  // the probed head, then the rest of the same chunk
  EXPECT_EQ(calls[0].size() + calls[1].size() - 8, big.size());
}

TEST_F(DispatcherTest, UpgradeSwitchesAnalyzerAndAddsService) {
  auto d = make(1000);
  d->stream_data(true, bytes("A-STARTTLS UPGRADE"), core::Timestamp{1});
  d->stream_data(false, bytes("tls bytes"), core::Timestamp{2});
  EXPECT_EQ(service(*d), "a,b");
  EXPECT_EQ(calls,
            (std::vector<std::string>{"a:o:A-STARTTLS UPGRADE", "b:r:tls bytes", "a:finish", "b:finish"}));
}

TEST_F(DispatcherTest, GiveUpStopsDeliveryButKeepsServiceAndFinish) {
  auto d = make(1000);
  d->stream_data(true, bytes("A-QUIT"), core::Timestamp{1});
  EXPECT_FALSE(d->wants_data());
  d->stream_data(true, bytes("more"), core::Timestamp{2});
  EXPECT_EQ(service(*d), "a");
  EXPECT_EQ(calls, (std::vector<std::string>{"a:o:A-QUIT", "a:finish"}));
}

TEST_F(DispatcherTest, GapWhileProbingRestartsThatDirection) {
  auto d = make(5555);
  d->stream_data(true, bytes("A"), core::Timestamp{1});  // not enough to decide
  d->stream_gap(true, 100, core::Timestamp{2});
  d->stream_data(true, bytes("A-after gap"), core::Timestamp{3});
  EXPECT_EQ(calls, (std::vector<std::string>{"a:o:A-after gap"}));
}

TEST_F(DispatcherTest, GapAfterStartGoesToAnalyzer) {
  auto d = make(5555);
  d->stream_data(true, bytes("A-x"), core::Timestamp{1});
  d->stream_gap(false, 42, core::Timestamp{2});
  EXPECT_EQ(calls, (std::vector<std::string>{"a:o:A-x", "a:gap:42"}));
}

TEST_F(DispatcherTest, UdpProbesEachDatagramUpToALimit) {
  auto d = make(53, 17);
  d->datagram(true, bytes("Uquery"), core::Timestamp{1});
  d->datagram(false, bytes("answer"), core::Timestamp{2});
  EXPECT_EQ(service(*d), "u");
  EXPECT_EQ(calls, (std::vector<std::string>{"u:o:Uquery", "u:r:answer", "u:finish"}));

  calls.clear();
  auto e = make(9999, 17);
  for (int i = 0; i < 10; ++i) e->datagram(true, bytes("noise"), core::Timestamp{i});
  EXPECT_FALSE(e->wants_data());
  EXPECT_EQ(service(*e), "");
}

TEST_F(DispatcherTest, OtherTransportsGetNoCandidates) {
  auto d = make(1000, 17);  // "a" is TCP only
  d->datagram(true, bytes("A-x"), core::Timestamp{1});
  EXPECT_EQ(service(*d), "");
  EXPECT_TRUE(calls.empty());
}

TEST_F(DispatcherTest, DoneWithoutAnalyzerIsDisposable) {
  auto d = make(1000);
  EXPECT_FALSE(d->disposable());  // still probing
  d->stream_data(true, bytes("GET / HTTP/1.1\r\n"), core::Timestamp{1});
  d->stream_data(false, bytes("HTTP/1.1 200 OK\r\n"), core::Timestamp{2});
  EXPECT_FALSE(d->wants_data());
  EXPECT_TRUE(d->disposable());
  EXPECT_EQ(service(*d), "");
  EXPECT_EQ(d->take_uid(), "Ctest");
}

TEST_F(DispatcherTest, GiveUpIsNotDisposable) {
  // The analyzer still gets finish(): the dispatcher must be kept.
  auto d = make(5555);
  d->stream_data(true, bytes("A-QUIT"), core::Timestamp{1});
  EXPECT_FALSE(d->wants_data());
  EXPECT_FALSE(d->disposable());
  EXPECT_EQ(service(*d), "a");
}

TEST_F(DispatcherTest, UdpDoneAfterProbeLimitIsDisposable) {
  auto d = make(53, 17);
  for (int i = 0; i <= Dispatcher::kProbeDatagrams; ++i) d->datagram(true, bytes("x"), core::Timestamp{i});
  EXPECT_FALSE(d->wants_data());
  EXPECT_TRUE(d->disposable());
}

TEST_F(DispatcherTest, UpgradeToUnknownProtocolStopsDelivery) {
  // "UPGRADE" asks for "b"; a registry without "b" ends delivery, and the
  // analyzer is still finished (not disposable).
  Registry small;
  small.add(Protocol{"a", 6, {1000}, probe_a, [](Context& c) -> std::unique_ptr<Analyzer> {
                       return std::make_unique<Toy<'a'>>(c);
                     }});
  flow::ConnInfo info;
  info.uid = "Cup";
  info.resp_p = 1000;
  info.proto = 6;
  Dispatcher d(info, AnalyzerConfig{}, anomalies, sink, small);
  d.stream_data(true, bytes("A-UPGRADE"), core::Timestamp{1});
  d.stream_data(true, bytes("more"), core::Timestamp{2});
  EXPECT_FALSE(d.wants_data());
  EXPECT_FALSE(d.disposable());
  EXPECT_EQ(service(d), "a");
  EXPECT_EQ(calls, (std::vector<std::string>{"a:o:A-UPGRADE", "a:finish"}));
}

}  // namespace
}  // namespace trawl::analyzers

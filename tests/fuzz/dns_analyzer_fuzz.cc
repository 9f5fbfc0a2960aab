// Fuzz target for the DNS analyzer's state machine (analyzers::dns::DnsAnalyzer
// behind a Dispatcher, so the probes run too). Input layout:
//   byte 0: bit 0 TCP (else UDP); bits 1-2 responder port 53, 5353, 8053
//           (no hint: the strict probe) or 137 (NetBIOS, refused);
//   then records: one control byte, a 2-byte big-endian length, that many
//   bytes (fewer at the end of the input). Control: bit 0 from the
//   originator; bits 1-2: 0 data (TCP: stream bytes; UDP: one datagram),
//   1 the same bytes split into 1-byte deliveries (TCP) or again as a
//   datagram (UDP), 2 a gap of `length` bytes (TCP), 3 the end of that
//   direction (TCP); bits 3-7: seconds added to the packet clock.
// The same events also go to a second analyzer with tiny limits (pending 3,
// TCP message 64 bytes, 40 messages, 2 s pending timeout) through a bare
// Context. Every record is rendered; invariants: the JSON line is one object,
// rcode fits 4 bits, Z 3 bits, TTLs match answers, rtt never negative.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/dispatcher.h"
#include "analyzers/dns/dns_analyzer.h"
#include "core/anomalies.h"
#include "flow/conn_record.h"

namespace {

using trawl::analyzers::AnalyzerConfig;
using trawl::analyzers::Context;
using trawl::analyzers::Dispatcher;
using trawl::analyzers::Record;
using trawl::analyzers::dns::DnsAnalyzer;
using trawl::analyzers::dns::DnsAnalyzerLimits;
using trawl::analyzers::dns::DnsLogRecord;
using trawl::core::ByteView;
using trawl::core::Timestamp;
using trawl::flow::ConnInfo;

class BareContext final : public Context {
 public:
  BareContext(const ConnInfo& info, std::vector<std::unique_ptr<Record>>& sink) : info_(info), sink_(sink) {}
  const ConnInfo& conn() const override { return info_; }
  const AnalyzerConfig& config() const override { return config_; }
  trawl::core::Anomalies& anomalies() override { return anomalies_; }
  void emit(std::unique_ptr<Record> r) override { sink_.push_back(std::move(r)); }
  void give_up() override { gave_up = true; }
  void upgrade(std::string_view) override {}
  bool gave_up = false;

 private:
  ConnInfo info_;
  AnalyzerConfig config_;
  trawl::core::Anomalies anomalies_;
  std::vector<std::unique_ptr<Record>>& sink_;
};

void check(const std::vector<std::unique_ptr<Record>>& records) {
  std::string out;
  for (const auto& rec : records) {
    const auto* r = dynamic_cast<const DnsLogRecord*>(rec.get());
    if (r == nullptr) continue;  // another protocol claimed the bytes
    out.clear();
    r->write_json(out);
    if (out.size() < 3 || out.front() != '{' || out.substr(out.size() - 2) != "}\n") __builtin_trap();
    if (out.find('\n') != out.size() - 1) __builtin_trap();
    if (r->rcode && *r->rcode > 15) __builtin_trap();
    if (r->z > 7) __builtin_trap();
    if (r->rtt_ns && *r->rtt_ns < 0) __builtin_trap();
    if (r->qtype.has_value() != r->qclass.has_value()) __builtin_trap();
    if (!r->answers.empty() && !r->rcode) __builtin_trap();
    for (const auto& a : r->answers) {
      if (a.text.empty()) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static constexpr uint16_t kPorts[4] = {53, 5353, 8053, 137};
  ConnInfo info;
  info.uid = "CFuzz000000000001";
  info.orig_h = trawl::core::IpAddress::v4(0x0a000001u);
  info.resp_h = trawl::core::IpAddress::v4(0x0a000035u);
  info.orig_p = 40000;
  info.resp_p = kPorts[(data[0] >> 1) & 3];
  info.proto = (data[0] & 1) ? 6 : 17;
  const bool tcp = info.proto == 6;

  AnalyzerConfig config;
  trawl::core::Anomalies anomalies;
  std::vector<std::unique_ptr<Record>> sink;
  Dispatcher d(info, config, anomalies, sink, trawl::analyzers::registry());

  std::vector<std::unique_ptr<Record>> small_sink;
  BareContext ctx(info, small_sink);
  DnsAnalyzerLimits limits;
  limits.max_pending = 3;
  limits.max_tcp_message = 64;
  limits.max_messages = 40;
  limits.pending_timeout_ns = 2 * trawl::core::kNsPerSec;
  DnsAnalyzer small(ctx, limits);

  Timestamp ts = Timestamp::from_sec_nsec(1700000000, 0);
  size_t pos = 1;
  while (pos + 3 <= size) {
    const uint8_t ctl = data[pos];
    size_t len = (size_t{data[pos + 1]} << 8) | data[pos + 2];
    pos += 3;
    if (len > size - pos) len = size - pos;
    const ByteView bytes{data + pos, len};
    pos += len;
    const bool is_orig = (ctl & 1) != 0;
    ts = ts + int64_t{ctl >> 3} * trawl::core::kNsPerSec;
    switch ((ctl >> 1) & 3) {
      case 0:
        if (tcp) {
          d.stream_data(is_orig, bytes, ts);
        } else {
          d.datagram(is_orig, bytes, ts);
        }
        if (!ctx.gave_up) small.data(is_orig, bytes, ts);
        break;
      case 1:
        if (tcp) {
          for (size_t i = 0; i < bytes.size(); ++i) {
            d.stream_data(is_orig, bytes.subspan(i, 1), ts);
            if (!ctx.gave_up) small.data(is_orig, bytes.subspan(i, 1), ts);
          }
        } else {
          d.datagram(is_orig, bytes, ts);
          d.datagram(is_orig, bytes, ts);
          if (!ctx.gave_up) small.data(is_orig, bytes, ts);
        }
        break;
      case 2:
        if (tcp) {
          d.stream_gap(is_orig, len, ts);
          if (!ctx.gave_up) small.gap(is_orig, len, ts);
        }
        break;
      default:
        if (tcp) {
          d.stream_end(is_orig, ts);
          if (!ctx.gave_up) small.end_of_stream(is_orig, ts);
        }
        break;
    }
  }
  trawl::flow::ConnRecord rec;
  d.finish(ts, rec);
  small.finish(ts);
  check(sink);
  check(small_sink);
  if (small_sink.size() > 40) __builtin_trap();  // at most one record per message
  return 0;
}

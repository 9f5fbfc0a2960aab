// Shared body of the ftp, pop3 and imap analyzer fuzz targets: the input is a
// transcript of one TCP connection, fed either through a Dispatcher (probe,
// then the analyzer; port = the protocol's hint port) or straight into the
// protocol's analyzer (so bytes the probe would refuse still reach it).
//
// Input layout:
//   byte 0   bit 0 reveal credentials; bit 1 analyzer directly (no probe);
//            bit 2 small limits (direct mode); bits 4-7 client segment size
//            in bytes (0: each turn whole)
//   byte 1   bits 4-7 server segment size (0: whole)
//   then turns, each starting with a marker byte:
//            0xF0 client data follows, 0xF1 server data follows,
//            0xF2 N  a gap of N*37 bytes in the client direction,
//            0xF3 N  the same for the server direction,
//            0xF4 X  the byte X as data (escape for bytes >= 0xF0),
//            0xF5    the client's stream ends, 0xF6 the server's.
//   Data runs until the next marker. Seeds are readable transcripts.
// Every record is rendered to JSON, so a bad view or uninitialised byte shows
// under ASan/UBSan/MSan; the JSON must be one line ending in "}\n".
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/analyzer.h"
#include "analyzers/dispatcher.h"
#include "analyzers/registry.h"
#include "core/anomalies.h"
#include "core/ip_address.h"
#include "flow/conn_record.h"

namespace trawl::fuzz {

// A Context for driving one analyzer without a Dispatcher.
class DirectContext final : public analyzers::Context {
 public:
  DirectContext(const flow::ConnInfo& info, const analyzers::AnalyzerConfig& config) : info_(info), config_(config) {}
  const flow::ConnInfo& conn() const override { return info_; }
  const analyzers::AnalyzerConfig& config() const override { return config_; }
  core::Anomalies& anomalies() override { return anomalies_; }
  void emit(std::unique_ptr<analyzers::Record> record) override {
    if (record->ts.ns == 0) __builtin_trap();  // every record has its time
    records.push_back(std::move(record));
  }
  void give_up() override { gave_up = true; }
  void upgrade(std::string_view service) override { upgraded.assign(service); }

  std::vector<std::unique_ptr<analyzers::Record>> records;
  bool gave_up = false;
  std::string upgraded;

 private:
  flow::ConnInfo info_;
  analyzers::AnalyzerConfig config_;
  core::Anomalies anomalies_;
};

inline void check_records(const std::vector<std::unique_ptr<analyzers::Record>>& records) {
  std::string out;
  for (const auto& r : records) {
    out.clear();
    r->write_json(out);
    if (out.size() < 3 || out.front() != '{' || out.compare(out.size() - 2, 2, "}\n") != 0) __builtin_trap();
    if (out.find('\n') != out.size() - 1) __builtin_trap();
  }
}

// `make(ctx, small)`: the protocol's analyzer for direct mode.
template <typename Make>
void run_mail_session(const uint8_t* data, size_t size, uint16_t port, Make make) {
  if (size < 2) return;
  flow::ConnInfo info;
  info.uid = "CfuzzMail000000001";
  info.orig_h = *core::IpAddress::parse("198.51.100.7");
  info.resp_h = *core::IpAddress::parse("203.0.113.9");
  info.orig_p = 40001;
  info.resp_p = port;
  info.proto = 6;
  info.start = core::Timestamp{1700000000LL * 1000000000LL};
  analyzers::AnalyzerConfig config;
  config.reveal_credentials = (data[0] & 1) != 0;
  const bool direct = (data[0] & 2) != 0;
  const bool small = (data[0] & 4) != 0;
  const size_t seg[2] = {static_cast<size_t>(data[0] >> 4), static_cast<size_t>(data[1] >> 4)};

  core::Anomalies anomalies;
  std::vector<std::unique_ptr<analyzers::Record>> sink;
  std::unique_ptr<analyzers::Dispatcher> disp;
  std::unique_ptr<DirectContext> ctx;
  std::unique_ptr<analyzers::Analyzer> an;
  if (direct) {
    ctx = std::make_unique<DirectContext>(info, config);
    an = make(*ctx, small);
  } else {
    disp = std::make_unique<analyzers::Dispatcher>(info, config, anomalies, sink, analyzers::registry());
  }
  core::Timestamp ts = info.start;
  bool ended[2] = {false, false};
  auto deliver = [&](bool is_orig, const std::string& bytes) {
    if (bytes.empty() || ended[is_orig ? 0 : 1]) return;
    ts = ts + 1000;
    // Each piece lives in its own buffer, so reading past it is caught.
    const size_t step = seg[is_orig ? 0 : 1] == 0 ? bytes.size() : seg[is_orig ? 0 : 1];
    for (size_t off = 0; off < bytes.size(); off += step) {
      const size_t n = std::min(step, bytes.size() - off);
      std::unique_ptr<uint8_t[]> piece(new uint8_t[n]);
      std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(off),
                bytes.begin() + static_cast<std::ptrdiff_t>(off + n), piece.get());
      if (direct) {
        if (!ctx->gave_up && ctx->upgraded.empty()) an->data(is_orig, {piece.get(), n}, ts);
      } else {
        disp->stream_data(is_orig, {piece.get(), n}, ts);
      }
    }
  };
  auto gap = [&](bool is_orig, uint64_t n) {
    if (ended[is_orig ? 0 : 1]) return;
    if (direct) {
      if (!ctx->gave_up && ctx->upgraded.empty()) an->gap(is_orig, n, ts);
    } else {
      disp->stream_gap(is_orig, n, ts);
    }
  };
  auto end = [&](bool is_orig) {
    if (ended[is_orig ? 0 : 1]) return;
    ended[is_orig ? 0 : 1] = true;
    if (direct) {
      an->end_of_stream(is_orig, ts);
    } else {
      disp->stream_end(is_orig, ts);
    }
  };

  bool is_orig = true;
  std::string turn;
  for (size_t i = 2; i < size; ++i) {
    const uint8_t b = data[i];
    if (b < 0xF0) {
      turn.push_back(static_cast<char>(b));
      continue;
    }
    if (b == 0xF4) {
      if (i + 1 < size) turn.push_back(static_cast<char>(data[++i]));
      continue;
    }
    deliver(is_orig, turn);
    turn.clear();
    switch (b) {
      case 0xF0:
        is_orig = true;
        break;
      case 0xF1:
        is_orig = false;
        break;
      case 0xF2:
      case 0xF3:
        if (i + 1 < size) gap(b == 0xF2, uint64_t{data[++i]} * 37);
        break;
      case 0xF5:
        end(true);
        break;
      case 0xF6:
        end(false);
        break;
      default:
        break;
    }
  }
  deliver(is_orig, turn);
  end(true);
  end(false);
  if (direct) {
    an->finish(ts);
    check_records(ctx->records);
  } else {
    flow::ConnRecord rec;
    disp->finish(ts, rec);
    check_records(sink);
  }
}

}  // namespace trawl::fuzz

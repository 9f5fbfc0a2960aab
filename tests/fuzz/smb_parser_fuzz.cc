// Fuzz target for the SMB analyzer and its parsers. The input is a script of
// records: one op byte (bit 0: 1 = client to server, 0 = server to client;
// bit 1: a gap of the record's length instead of data; bit 2: use the small
// limits), a 16-bit big-endian length, then that many bytes. The records are
// fed as TCP stream data to an SmbAnalyzer (default limits, and a second one
// with tiny limits, so every cap is reached), then finish() runs. The whole
// input also goes straight to the pure parsers: SMB1, SMB2, SPNEGO/NTLMSSP,
// DCE/RPC PDUs and a DcePipe. Every record emitted is rendered to JSON.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/smb/dcerpc.h"
#include "analyzers/smb/ntlm.h"
#include "analyzers/smb/smb_analyzer.h"
#include "analyzers/smb/smb_parser.h"
#include "core/anomalies.h"

namespace {

using namespace trawl;
using namespace trawl::analyzers::smb;

volatile uint64_t g_sink;

struct FuzzCtx : analyzers::Context {
  analyzers::ConnInfo info;
  analyzers::AnalyzerConfig cfg;
  core::Anomalies an;
  bool gave_up = false;
  std::string json;
  size_t records = 0;
  const analyzers::ConnInfo& conn() const override { return info; }
  const analyzers::AnalyzerConfig& config() const override { return cfg; }
  core::Anomalies& anomalies() override { return an; }
  void emit(std::unique_ptr<analyzers::Record> r) override {
    json.clear();
    r->write_json(json);
    if (json.empty() || json.back() != '\n') __builtin_trap();
    g_sink = g_sink + json.size();
    ++records;
  }
  void give_up() override { gave_up = true; }
  void upgrade(std::string_view) override {}
};

struct Events : DceSink {
  void on_bind(const DceBindEvent& e) override { g_sink = g_sink + e.contexts.size() + e.results.size(); }
  void on_call(const DceCallEvent& e) override { g_sink = g_sink + e.stub_len + e.opnum; }
};

void run_analyzer(const uint8_t* data, size_t size, bool small, bool reveal) {
  FuzzCtx ctx;
  ctx.info.uid = "CFuzz";
  ctx.info.proto = 6;
  ctx.info.resp_p = 445;
  ctx.cfg.reveal_credentials = reveal;
  SmbAnalyzerLimits lim;
  if (small) {
    lim.max_message = 300;
    lim.head_bytes = 100;
    lim.max_messages = 40;
    lim.max_records = 20;
    lim.max_pending = 3;
    lim.max_trees = 2;
    lim.max_files = 3;
    lim.max_pipes = 1;
    lim.max_sessions = 1;
    lim.max_bad_messages = 2;
    lim.resync_window = 200;
    lim.parser.max_andx = 2;
    lim.parser.max_compound = 2;
    lim.parser.max_dialects = 3;
    lim.parser.max_string = 8;
  }
  SmbAnalyzer a(ctx, lim);
  core::Timestamp ts = core::Timestamp::from_sec_nsec(1700000000, 0);
  size_t pos = 0;
  while (pos + 3 <= size) {
    const uint8_t op = data[pos];
    const size_t len = std::min<size_t>((size_t{data[pos + 1]} << 8) | data[pos + 2], size - pos - 3);
    pos += 3;
    const bool is_orig = (op & 1) != 0;
    // The analyzer only sees a view valid for the call: copy so ASan catches
    // any pointer kept past it.
    std::unique_ptr<uint8_t[]> copy(new uint8_t[len + 1]);
    std::memcpy(copy.get(), data + pos, len);
    if (!ctx.gave_up) {
      if (op & 2) {
        a.gap(is_orig, len + 1, ts);
      } else {
        a.data(is_orig, {copy.get(), len}, ts);
      }
    }
    pos += len;
    ts = ts + 1000;
  }
  a.finish(ts);
  if (small && ctx.records > lim.max_records) __builtin_trap();
}

void run_parsers(const uint8_t* data, size_t size) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[size + 1]);
  std::memcpy(copy.get(), data, size);
  const core::ByteView v{copy.get(), size};
  core::Anomalies an;
  std::vector<SmbCommand> cmds;
  for (bool truncated : {false, true}) {
    cmds.clear();
    if (size >= 4 && data[0] == 0xff) parse_smb1(v, truncated, cmds, an);
    if (size >= 4 && data[0] == 0xfe) parse_smb2(v, truncated, cmds, an);
    for (const SmbCommand& c : cmds) {
      if (c.data.size() > size || c.security_blob.size() > size) __builtin_trap();
      uint64_t sum = c.path.size() + c.name.size() + c.account.size() + c.service.size() + c.dialects.size();
      for (uint8_t b : c.data) sum += b;
      for (uint8_t b : c.security_blob) sum += b;
      g_sink = g_sink + sum;
      const SecurityToken t = find_security_token(c.security_blob, an);
      NtlmMessage m;
      if (!t.ntlm.empty() && parse_ntlm(t.ntlm, m, an)) g_sink = g_sink + m.user.size() + m.nt_response.size();
    }
  }
  const SecurityToken t = find_security_token(v, an);
  NtlmMessage m;
  if (!t.ntlm.empty()) parse_ntlm(t.ntlm, m, an);
  parse_ntlm(v, m, an);
  std::array<uint8_t, 8> chal{};
  g_sink = g_sink + ntlm_crack_format(m, chal).size();
  DcePdu p;
  bool bad = false;
  const size_t n = dce_frag_length(v, bad);
  if (n != 0 && n <= size) parse_dce_pdu(v.first(n), p, an);
  DcePipe pipe;
  Events ev;
  const size_t half = size / 2;
  pipe.feed(true, v.first(half), core::Timestamp{}, ev, an);
  pipe.feed(false, v.subspan(half), core::Timestamp{}, ev, an);
  pipe.flush(ev);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run_analyzer(data, size, false, false);
  run_analyzer(data, size, true, true);
  run_parsers(data, size);
  return 0;
}

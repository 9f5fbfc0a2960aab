// Fuzz target for the SSH analyzer through a Dispatcher (probe, version
// lines, cleartext packets split anywhere, KEXINIT, host keys, NEWKEYS, the
// size inference, gaps) and for the pure parsing functions.
//
// The input is a script of deliveries on one TCP connection, as in
// smtp_analyzer_fuzz. Each step starts with a control byte c; bit 0 is the
// direction (1: client):
//   c >> 6 == 0  data: a 2-byte big-endian length follows, then that many bytes
//   c >> 6 == 1  gap: the next byte n gives n * 7 + 1 missing bytes
//   c >> 6 == 2  end of this direction
//   c >> 6 == 3  data: ((c >> 1) & 31) + 1 bytes follow
// The script runs twice: to port 22 (hint) and to port 40022 (content only).
// Invariants: at most one ssh record; one auth record per counted attempt,
// all failures but a final success; every record renders. The whole input is
// also framed as cleartext packets and each payload given to parse_kexinit
// and server_host_key, and its bytes drive AuthInference as lengths.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "analyzers/common/auth_record.h"
#include "analyzers/dispatcher.h"
#include "dispatcher_script_fuzz.h"
#include "analyzers/ssh/ssh_parser.h"
#include "analyzers/ssh/ssh_record.h"
#include "core/anomalies.h"
#include "flow/conn_record.h"

namespace {

using trawl::analyzers::AnalyzerConfig;
using trawl::analyzers::AuthOutcome;
using trawl::analyzers::AuthRecord;
using trawl::analyzers::Dispatcher;
using trawl::analyzers::Record;
namespace ssh = trawl::analyzers::ssh;

volatile uint64_t g_sink;

void run_session(const uint8_t* data, size_t size, uint16_t port) {
  trawl::flow::ConnInfo info;
  info.uid = "CFuzzSsh000000001";
  info.orig_h = *trawl::core::IpAddress::parse("10.0.0.1");
  info.resp_h = *trawl::core::IpAddress::parse("10.0.0.2");
  info.orig_p = 40000;
  info.resp_p = port;
  info.proto = 6;
  trawl::core::Anomalies anomalies;
  std::vector<std::unique_ptr<Record>> sink;
  Dispatcher d(info, AnalyzerConfig{}, anomalies, sink, trawl::analyzers::registry());
  trawl::flow::ConnRecord rec;
  trawl::fuzz::play_script(d, data, size, rec);
  std::string out;
  const ssh::SshRecord* record = nullptr;
  uint32_t failures = 0;
  uint32_t successes = 0;
  for (const auto& r : sink) {
    r->write_json(out);
    if (const auto* s = dynamic_cast<const ssh::SshRecord*>(r.get())) {
      if (record != nullptr) __builtin_trap();
      record = s;
    } else if (const auto* a = dynamic_cast<const AuthRecord*>(r.get())) {
      if (successes != 0) __builtin_trap();  // nothing after a success
      (a->outcome == AuthOutcome::kSuccess ? successes : failures)++;
      if (a->outcome == AuthOutcome::kUnknown || !a->user.empty()) __builtin_trap();
    }
  }
  if (record != nullptr) {
    if (record->auth_attempts != failures + successes) __builtin_trap();
    if (record->auth_success.has_value() != (record->auth_attempts != 0)) __builtin_trap();
    if (record->auth_success == true && successes != 1) __builtin_trap();
  } else if (failures + successes != 0) {
    __builtin_trap();
  }
  g_sink = g_sink + out.size() + rec.service.size();
}

void run_parsers(const uint8_t* data, size_t size) {
  trawl::core::Anomalies anomalies;
  trawl::core::ByteView in{data, size};
  while (!in.empty()) {
    ssh::Frame f;
    const ssh::FrameResult r = ssh::frame_packet(in, 4096, f);
    if (r != ssh::FrameResult::kOk) break;
    if (f.total > in.size() || f.payload.empty()) __builtin_trap();
    ssh::KexInit k;
    if (ssh::parse_kexinit(f.payload, k, anomalies)) {
      g_sink = g_sink + ssh::hassh_client(k).size() + ssh::find_alg(k.kex, k.host_key).size();
    }
    trawl::core::ByteView key;
    for (auto fam : {ssh::KexFamily::kDh, ssh::KexFamily::kDhGex, ssh::KexFamily::kGss, ssh::KexFamily::kRsa}) {
      if (ssh::server_host_key(fam, f.payload, key, anomalies)) g_sink = g_sink + ssh::md5_fingerprint(key).size();
    }
    in = in.subspan(f.total);
  }
  ssh::AuthInference inference;
  for (size_t i = 0; i + 1 < size; i += 2) {
    inference.segment((data[i] & 1) != 0, data[i + 1]);
  }
  g_sink = g_sink + (inference.decided() ? 1 : 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run_session(data, size, 22);
  run_session(data, size, 40022);
  run_parsers(data, size);
  return 0;
}

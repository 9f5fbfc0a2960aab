// Fuzz target for the sinkhole's TLS session. The input is fed to one session
// (the CA made once in a temporary directory) in pieces whose size the first
// byte picks, then the guest closes. Whatever it sends: exactly one
// sinkhole_tls event, valid JSON, established only if a handshake could have
// happened, and the session wants to close at the end.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "output/json_line.h"
#include "fuzz_tls_authority.h"
#include "sinkhole/tls_session.h"

namespace {

using trawl::core::ByteView;
using trawl::core::Timestamp;
using trawl::sinkhole::ServiceEvent;
using trawl::sinkhole::ServiceSession;
using trawl::sinkhole::SessionInfo;
using trawl::sinkhole::TlsAuthority;

// Echoes the plaintext and logs each piece's length.
class EchoInner : public ServiceSession {
 public:
  const char* name() const override { return "echo"; }
  void on_data(ByteView data, Timestamp, std::vector<uint8_t>& out) override {
    out.insert(out.end(), data.begin(), data.end());
    ServiceEvent ev;
    ev.log = "echo";
    trawl::output::JsonLine(ev.json).u64("n", data.size()).end_object();
    events_.push_back(std::move(ev));
  }
  void take_events(std::vector<ServiceEvent>& out) override {
    for (auto& e : events_) out.push_back(std::move(e));
    events_.clear();
  }

 private:
  std::vector<ServiceEvent> events_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  SessionInfo info;
  info.server_ip = *trawl::core::IpAddress::parse("198.51.100.9");
  info.server_port = 443;
  trawl::sinkhole::TlsSessionLimits lim;
  lim.max_hello_bytes = 4096;
  auto s = trawl::sinkhole::make_tls_session(trawl::fuzz::fuzz_tls_authority(), info,
                                             [](const SessionInfo&) { return std::make_unique<EchoInner>(); }, lim);
  const ByteView in{data + 1, size - 1};
  const size_t piece = 1 + data[0];
  std::vector<uint8_t> out;
  std::vector<ServiceEvent> events;
  for (size_t at = 0; at < in.size() && !s->wants_close(); at += piece) {
    s->on_data(in.subspan(at, std::min(piece, in.size() - at)), Timestamp{}, out);
    s->take_events(events);
  }
  (void)trawl::sinkhole::looks_like_tls(in);
  s->on_peer_closed(Timestamp{}, out);
  s->on_closed(Timestamp{});
  s->take_events(events);
  if (!s->wants_close()) __builtin_trap();
  // Our flight and alerts only: a few KiB, whatever the input.
  if (out.size() > 64 * 1024) __builtin_trap();
  size_t tls = 0;
  for (const auto& e : events) {
    const auto j = nlohmann::json::parse(e.json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) __builtin_trap();
    if (e.log != "sinkhole_tls") continue;
    ++tls;
    // Without a valid ClientHello there is no handshake to complete.
    if (j.value("established", false) && j.value("ja3", std::string()).size() != 32) __builtin_trap();
    if (!j.value("established", false) && j.value("failure_reason", std::string()).empty()) __builtin_trap();
  }
  if (tls != 1) __builtin_trap();
  return 0;
}

// Fuzz target for the RDP analyzer through a Dispatcher (probe, TPKT split
// anywhere, X.224 Connection Request/Confirm, MCS Connect Initial/Response,
// the hand-over to TLS, gaps) and for the pure MCS parsers.
//
// The input is a script of deliveries on one TCP connection, as in
// smtp_analyzer_fuzz. Each step starts with a control byte c; bit 0 is the
// direction (1: client):
//   c >> 6 == 0  data: a 2-byte big-endian length follows, then that many bytes
//   c >> 6 == 1  gap: the next byte n gives n * 7 + 1 missing bytes
//   c >> 6 == 2  end of this direction
//   c >> 6 == 3  data: ((c >> 1) & 31) + 1 bytes follow
// The script runs twice: to port 3389 (hint) and to port 33890 (content
// only). Invariants: at most one rdp record, and only with a cookie, a
// keyboard layout or a result; at most one rdp auth record, whose user is the
// record's cookie; channel and certificate counts within the limits. The
// whole input is also given to parse_connect_initial/response and the
// connection request/confirm parsers.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "analyzers/common/auth_record.h"
#include "analyzers/dispatcher.h"
#include "dispatcher_script_fuzz.h"
#include "analyzers/rdp/rdp_parser.h"
#include "analyzers/rdp/rdp_record.h"
#include "core/anomalies.h"
#include "flow/conn_record.h"

namespace {

using trawl::analyzers::AnalyzerConfig;
using trawl::analyzers::AuthRecord;
using trawl::analyzers::Dispatcher;
using trawl::analyzers::Record;
namespace rdp = trawl::analyzers::rdp;

volatile uint64_t g_sink;

void run_session(const uint8_t* data, size_t size, uint16_t port) {
  trawl::flow::ConnInfo info;
  info.uid = "CFuzzRdp000000001";
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
  const rdp::RdpRecord* record = nullptr;
  const AuthRecord* auth = nullptr;
  for (const auto& r : sink) {
    r->write_json(out);
    if (const auto* x = dynamic_cast<const rdp::RdpRecord*>(r.get())) {
      if (record != nullptr) __builtin_trap();
      record = x;
      if (!x->cookie && !x->keyboard_layout && !x->result) __builtin_trap();
      if (x->client_channels && x->client_channels->size() > rdp::Limits{}.max_channels) __builtin_trap();
      if (x->cert_count > rdp::Limits{}.max_certs) __builtin_trap();
    } else if (const auto* a = dynamic_cast<const AuthRecord*>(r.get())) {
      if (auth != nullptr || a->proto != "rdp") __builtin_trap();
      auth = a;
    }
  }
  if (auth != nullptr && (record == nullptr || record->cookie != auth->user)) __builtin_trap();
  g_sink = g_sink + out.size() + rec.service.size();
}

void run_parsers(const uint8_t* data, size_t size) {
  trawl::core::Anomalies anomalies;
  const trawl::core::ByteView in{data, size};
  rdp::ClientData c;
  if (rdp::parse_connect_initial(in, c, anomalies) && c.core) g_sink = g_sink + c.core->client_name.size();
  rdp::ServerData s;
  if (rdp::parse_connect_response(in, s, anomalies)) g_sink = g_sink + s.cert_count;
  rdp::ConnectionRequest cr;
  rdp::parse_connection_request(in, cr, anomalies);
  rdp::ConnectionConfirm cc;
  rdp::parse_connection_confirm(in, cc, anomalies);
  rdp::Tpdu t;
  if (rdp::parse_tpdu(in, t, anomalies) && t.rest.size() > size) __builtin_trap();
  g_sink = g_sink + rdp::utf16le_to_utf8(in).size() + (cr.cookie ? cr.cookie->size() : 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run_session(data, size, 3389);
  run_session(data, size, 33890);
  run_parsers(data, size);
  return 0;
}

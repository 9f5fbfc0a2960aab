// Fuzz target for the sinkhole's services and the router's sniffing. The
// first byte picks the destination port (a server-first service, a sniffed
// port, DNS, FTP with a data connection), the second the piece size (its top
// bit: the guest stays silent for 3 s first); the rest is what the guest
// sends, with the timers fired between pieces. Every event must be one valid
// JSON object, every artifact within its limit, and a session that asked to
// close must stay silent.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_tls_authority.h"
#include "sinkhole/service_router.h"

namespace {

using namespace trawl::sinkhole;
using trawl::core::ByteView;
using trawl::core::Timestamp;

constexpr uint16_t kPorts[] = {25, 110, 21, 6667, 4444, 80, 53, 443, 8080};

void check(ServiceSession& s, const ServicesConfig& c) {
  std::vector<ServiceEvent> ev;
  s.take_events(ev);
  for (const auto& e : ev) {
    const auto j = nlohmann::json::parse(e.json, nullptr, false);
    if (j.is_discarded() || !j.is_object() || e.log.empty()) {
      std::fprintf(stderr, "bad event %s: %s\n", e.log.c_str(), e.json.c_str());
      std::abort();
    }
    const size_t limit = e.artifact_kind == "smtp_message" ? c.smtp.max_message
                         : e.artifact_kind == "ftp_upload" ? c.ftp.max_upload
                                                           : 1024 * 1024;
    if (e.artifact.size() > limit) std::abort();
  }
}

// The port a 227/229 reply names, 0 if none.
uint16_t passive_port(const std::string& out) {
  unsigned a, b, c, d, p1, p2, p;
  const size_t i = out.find("227 Entering Passive Mode (");
  if (i != std::string::npos && std::sscanf(out.c_str() + i, "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u)", &a, &b,
                                            &c, &d, &p1, &p2) == 6) {
    return static_cast<uint16_t>(p1 * 256 + p2);
  }
  const size_t k = out.find("(|||");
  if (k != std::string::npos && std::sscanf(out.c_str() + k, "(|||%u|)", &p) == 1) return static_cast<uint16_t>(p);
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  ServicesConfig cfg;
  cfg.smtp.max_message = 256;
  cfg.smtp.max_line = 128;
  cfg.smtp.max_recipients = 4;
  cfg.smtp.max_messages = 3;
  cfg.pop3.max_line = 128;
  cfg.irc.max_line = 128;
  cfg.ftp.max_line = 128;
  cfg.ftp.max_upload = 128;
  cfg.ftp.max_pending_data = 2;
  cfg.catchall.max_logged = 64;
  cfg.sniff_max_bytes = 32;
  HttpResponderConfig hc;
  hc.max_body = 256;
  hc.max_body_kept = 64;
  const HttpResponder http(hc);
  DnsResponder dns;
  // With the CA: TLS on 443 and SMTP STARTTLS are terminated (up to the
  // ClientHello: random bytes cannot finish a handshake).
  ServiceRouter router(cfg, http, dns, &trawl::fuzz::fuzz_tls_authority());

  SessionInfo info;
  info.conn = 1;
  info.guest_ip = *trawl::core::IpAddress::parse("10.0.0.5");
  info.server_ip = *trawl::core::IpAddress::parse("203.0.113.7");
  info.server_port = kPorts[data[0] % (sizeof kPorts / sizeof kPorts[0])];
  const size_t chunk = 1 + (data[1] & 63);
  const bool silent_start = (data[1] & 0x80) != 0;  // the guest waits 3 s first (banners, the port's service)
  ByteView rest(data + 2, size - 2);

  std::unique_ptr<ServiceSession> s = router.open(info);
  std::unique_ptr<ServiceSession> ftp_data;
  Timestamp now = Timestamp::from_sec_nsec(1700000000, 0);
  std::vector<uint8_t> out;
  s->on_open(now, out);
  if (silent_start) {
    now = now + 3 * trawl::core::kNsPerSec;
    if (s->next_deadline() <= now) s->on_timer(now, out);
  }
  bool closed = false;
  for (size_t i = 0; i < rest.size(); i += chunk) {
    const ByteView piece = rest.subspan(i, std::min(chunk, rest.size() - i));
    out.clear();
    if (closed) {
      s->on_data(piece, now, out);
      // Sessions built on the line reader stay silent once closed.
      if (!out.empty() && std::string(s->name()) != "http" && std::string(s->name()) != "dns") std::abort();
    } else {
      s->on_data(piece, now, out);
    }
    closed = closed || s->wants_close();
    if (const uint16_t p = passive_port(std::string(out.begin(), out.end())); p != 0 && !ftp_data) {
      SessionInfo d = info;
      d.conn = 2;
      d.server_port = p;
      ftp_data = router.open(d);
      std::vector<uint8_t> dout;
      ftp_data->on_open(now, dout);
    }
    if (ftp_data) {
      std::vector<uint8_t> dout;
      ftp_data->on_data(piece, now, dout);
      if (ftp_data->next_deadline() <= now) ftp_data->on_timer(now, dout);
      check(*ftp_data, cfg);
    }
    // Time moves by a third of a second per piece: sniffing and banners fire.
    now = now + 333 * 1000 * 1000;
    if (s->next_deadline() <= now) s->on_timer(now, out);
    check(*s, cfg);
  }
  out.clear();
  s->on_peer_closed(now, out);
  s->on_closed(now);
  check(*s, cfg);
  if (ftp_data) {
    ftp_data->on_peer_closed(now, out);
    ftp_data->on_closed(now);
    check(*ftp_data, cfg);
  }
  return 0;
}

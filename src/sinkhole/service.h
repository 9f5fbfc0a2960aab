// The sinkhole's application services, as the driver sees them. One
// ServiceSession per guest TCP connection: the driver (sinkhole/sinkhole.h)
// hands it the in-order bytes from TcpEndpoint and sends back what it
// appends to `out`; the session reports what the guest did as events, which
// the driver writes as records and collects into iocs.json. Sessions are pure:
// no sockets, no clock reads, no files (artifacts travel in events and the
// driver stores them). Every buffer is bounded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/byte_view.h"
#include "core/ip_address.h"
#include "core/timestamp.h"

namespace trawl::sinkhole {

// Something iocs.json lists.
struct Ioc {
  enum class Kind : uint8_t { kDomain, kIp, kUrl, kUserAgent, kEmail, kSha256, kJa3, kJa4 };
  Kind kind = Kind::kDomain;
  std::string value;
};
const char* to_string(Ioc::Kind k);  // "domain", "ip", "url", "user_agent", "email", "sha256", "ja3", "ja4"

// One thing the guest did, as one record of one sinkhole log.
struct ServiceEvent {
  std::string log;   // the file stem: "sinkhole_http", "sinkhole_tls", "sinkhole_smtp", "irc", "catchall" ...
  std::string json;  // a complete JSON object (output::JsonLine), no newline; the driver adds ts/uid/ids
  std::vector<Ioc> iocs;
  // A file the guest sent (an SMTP message, an FTP upload, an HTTP POST body):
  // the driver saves it as files/<sha256> and lists the hash. Bounded by the
  // service's own limits.
  std::string artifact_kind;  // "smtp_message", "ftp_upload", "http_body"; empty: none
  std::vector<uint8_t> artifact;
};

// What a session knows about its connection.
struct SessionInfo {
  uint64_t conn = 0;             // TcpConnInfo::id
  core::IpAddress guest_ip;
  core::IpAddress server_ip;     // the original destination the guest chose
  uint16_t guest_port = 0;
  uint16_t server_port = 0;
  std::string domain;            // the name the DNS responder gave server_ip, if any
};

class ServiceSession {
 public:
  virtual ~ServiceSession() = default;
  // The name for conn records' service column: "http", "ssl", "smtp", "ftp",
  // "ftp-data", "pop3", "irc", "dns", "catchall" ...
  virtual const char* name() const = 0;
  // The handshake completed. A server-first service appends its banner here
  // (or from on_timer after a wait).
  virtual void on_open(core::Timestamp now, std::vector<uint8_t>& out) { (void)now, (void)out; }
  // In-order bytes from the guest.
  virtual void on_data(core::ByteView data, core::Timestamp now, std::vector<uint8_t>& out) = 0;
  // The guest sent FIN.
  virtual void on_peer_closed(core::Timestamp now, std::vector<uint8_t>& out) { (void)now, (void)out; }
  // The connection is gone (any reason): emit what is still pending.
  virtual void on_closed(core::Timestamp now) { (void)now; }
  // Timed work (a banner after a wait, an idle QUIT ...).
  virtual void on_timer(core::Timestamp now, std::vector<uint8_t>& out) { (void)now, (void)out; }
  // The earliest time on_timer has work; Timestamp{INT64_MAX} for none.
  virtual core::Timestamp next_deadline() const { return core::Timestamp{INT64_MAX}; }
  // Close our side once `out` is sent.
  virtual bool wants_close() const { return false; }
  // Events since the last call.
  virtual void take_events(std::vector<ServiceEvent>& out) = 0;
};

}  // namespace trawl::sinkhole

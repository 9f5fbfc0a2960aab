// The sinkhole's HTTP server: client bytes of one connection in (any split,
// pipelined requests), response bytes out, and every request kept whole for
// the logs. Answers by configured override, then the operating systems'
// connectivity checks (as the real servers answer them), then the fake file
// for the path's extension. Pure: no sockets; time comes from the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyzers/http/http_parser.h"
#include "core/anomalies.h"
#include "core/byte_view.h"
#include "core/timestamp.h"

namespace trawl::sinkhole {

inline const core::AnomalyId kAnomHttpBadRequest{"sinkhole.http_bad_request"};
inline const core::AnomalyId kAnomHttpHeaderTooLarge{"sinkhole.http_header_too_large"};
inline const core::AnomalyId kAnomHttpBodyTooLarge{"sinkhole.http_body_too_large"};
inline const core::AnomalyId kAnomHttpTooManyRequests{"sinkhole.http_too_many_requests"};

// A configured answer. `host` is lower-case without port: empty matches any
// host, "*.example.com" any name below example.com. `path` (query excluded)
// is exact, or a prefix when it ends in '*'; empty matches any path. The first
// match in configuration order wins.
struct HttpOverride {
  std::string host;
  std::string path;
  uint16_t status = 200;
  std::string content_type;  // empty: by the path's extension
  std::string body;          // literal body...
  std::string body_file;     // ...or read from this file by load_override_files()
  bool use_fake = false;     // no body given: serve the fake file for the extension
  std::string location;      // Location header (redirects)
};

struct HttpResponderConfig {
  std::vector<HttpOverride> overrides;
  bool connectivity_checks = true;
  std::string server = "Apache/2.4.57 (Debian)";
  analyzers::http::HttpLimits limits;  // request line, header count and size
  size_t max_header_bytes = 32 * 1024;  // one request's whole header block
  uint64_t max_body = 16 * 1024 * 1024;  // larger request bodies get 413 and a close
  size_t max_body_kept = 1024 * 1024;    // bytes of each request body kept for the log
  size_t max_requests = 100;             // per connection, then Connection: close
};

// Reads every override's body_file into its body. False, with a message
// naming the file, when one cannot be read or is larger than `max_bytes`.
bool load_override_files(HttpResponderConfig& config, std::string& error, size_t max_bytes = 16 * 1024 * 1024);

// One request and what it was answered, for http records and iocs.json.
struct HttpExchange {
  std::string method;
  std::string target;  // as sent
  std::string version;  // "1.1"
  std::string host;     // lower-case, no port, no trailing dot
  std::string path;     // target without query, absolute form reduced to its path
  std::string user_agent;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, as sent
  std::string body;        // the first max_body_kept bytes
  uint64_t body_length = 0;
  bool body_truncated = false;
  bool complete = false;  // the whole request arrived
  uint16_t status = 0;    // 0: not answered
  std::string content_type;
  uint64_t response_length = 0;  // body bytes of the response (as if GET for HEAD)
  std::string served;  // "fake:exe", "check:ncsi", "override:2", "error:400", "connect"
};

// The answer to one request, chosen by HttpResponder::choose.
struct HttpAnswer {
  uint16_t status = 200;
  std::string content_type;
  std::string_view body;  // points into the responder's configuration or the fake files
  std::string location;
  std::string served;
};

// Shared by all connections; not changed by them.
class HttpResponder {
 public:
  explicit HttpResponder(HttpResponderConfig config = {});
  const HttpResponderConfig& config() const { return config_; }
  HttpAnswer choose(std::string_view host, std::string_view path) const;

 private:
  HttpResponderConfig config_;
};

// One connection. Not thread-safe; sessions of one responder may live on
// different threads (the responder is only read).
class HttpSession {
 public:
  explicit HttpSession(const HttpResponder& responder);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Parses client bytes; appends every response they complete to `out`.
  // `now` is the packet time (the Date header). Bytes after the session
  // closed are ignored. Returns the bytes it parsed: fewer than data.size()
  // when a CONNECT tunnel (or an error that closes the session) starts inside
  // data; the rest is the tunnel's.
  size_t feed(core::ByteView data, core::Timestamp now, std::vector<uint8_t>& out);
  // The client closed its side: a request still open is logged as incomplete.
  void end_of_stream();
  // Everything answered so far ends the connection (Connection: close, an
  // error, the request limit): close once `out` is sent.
  bool wants_close() const { return closed_; }
  // A CONNECT was answered 200: later bytes are not HTTP (the driver may
  // hand them to another service).
  bool tunnel() const { return tunnel_; }
  // Requests finished since the last call (answered, or cut off). Call it
  // after every feed(): finished requests (bodies up to max_body_kept each)
  // are held until taken.
  std::vector<HttpExchange> take_exchanges();
  const core::Anomalies& anomalies() const { return anomalies_; }

 private:
  class Handler;
  friend class Handler;

  void respond(HttpExchange& ex, bool head, bool keep_alive, std::vector<uint8_t>& out);
  void error(uint16_t status, const core::AnomalyId& why);

  const HttpResponder& responder_;
  core::Anomalies anomalies_;
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<analyzers::http::MessageParser> parser_;
  std::vector<HttpExchange> done_;
  bool closed_ = false;
  bool tunnel_ = false;
};

// "HTTP/1.1 <status> <reason>" reason phrases for the statuses we send.
std::string_view http_reason(uint16_t status);

}  // namespace trawl::sinkhole

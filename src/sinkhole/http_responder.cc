#include "sinkhole/http_responder.h"

#include <algorithm>
#include <ctime>
#include <fstream>

#include "sinkhole/fake_content.h"

namespace trawl::sinkhole {

namespace {

namespace http = analyzers::http;

// The answers the vendors' own probe servers give (docs/sinkhole-services.md).
struct Check {
  std::string_view host;  // empty: any host
  std::string_view path;  // empty: any path
  uint16_t status;
  std::string_view content_type;
  std::string_view body;
  std::string_view name;
};
constexpr Check kChecks[] = {
    {"", "/connecttest.txt", 200, "text/plain", "Microsoft Connect Test", "ncsi"},
    {"", "/ncsi.txt", 200, "text/plain", "Microsoft NCSI", "ncsi"},
    {"", "/generate_204", 204, "", "", "generate_204"},
    {"", "/gen_204", 204, "", "", "generate_204"},
    {"connectivity-check.ubuntu.com", "", 204, "", "", "ubuntu"},
    {"nmcheck.gnome.org", "/check_network_status.txt", 200, "text/plain", "NetworkManager is online\n", "gnome"},
    {"detectportal.firefox.com", "/success.txt", 200, "text/plain", "success\n", "firefox"},
    {"", "/hotspot-detect.html", 200, "text/html",
     "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>\n", "apple"},
    {"", "/library/test/success.html", 200, "text/html",
     "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>\n", "apple"},
};

// Anomalies after which the request stream cannot be trusted: answer 400 and close.
const core::AnomalyId* const kFatal[] = {
    &http::kAnomLineTooLong,      &http::kAnomBadRequestLine,    &http::kAnomBadHeader,
    &http::kAnomTooManyHeaders,   &http::kAnomHeaderTooLong,     &http::kAnomBadContentLength,
    &http::kAnomConflictingContentLength, &http::kAnomLengthAndChunked, &http::kAnomBadTransferEncoding,
    &http::kAnomBadChunkSize,     &http::kAnomChunkMissingCrlf,  &http::kAnomResyncFailed,
};

uint64_t fatal_count(const core::Anomalies& a) {
  uint64_t n = 0;
  for (const core::AnomalyId* id : kFatal) n += a.count(*id);
  return n;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Does a comma-separated header value hold `token` (case-insensitive)?
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::string normalise_host(std::string_view h) {
  // "[v6]:port", "name:port", "name." -> "v6", "name".
  if (!h.empty() && h.front() == '[') {
    const size_t close = h.find(']');
    h = h.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
  } else if (const size_t colon = h.find(':'); colon != std::string_view::npos) {
    if (h.find(':', colon + 1) == std::string_view::npos) h = h.substr(0, colon);  // a bare v6 keeps its colons
  }
  while (!h.empty() && h.back() == '.') h.remove_suffix(1);
  std::string out(h);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool host_matches(std::string_view pattern, std::string_view host) {
  if (pattern.empty()) return true;
  if (pattern.size() > 2 && pattern.starts_with("*.")) {
    const std::string_view suffix = pattern.substr(1);
    return host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix;
  }
  return pattern == host;
}

bool path_matches(std::string_view pattern, std::string_view path) {
  if (pattern.empty()) return true;
  if (pattern.back() == '*') return path.starts_with(pattern.substr(0, pattern.size() - 1));
  return pattern == path;
}

std::string http_date(core::Timestamp now) {
  const time_t t = static_cast<time_t>(now.sec());
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return "Thu, 01 Jan 1970 00:00:00 GMT";
  char buf[64];
  const size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

void append(std::vector<uint8_t>& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

}  // namespace

std::string_view http_reason(uint16_t status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

bool load_override_files(HttpResponderConfig& config, std::string& error, size_t max_bytes) {
  for (HttpOverride& o : config.overrides) {
    if (o.body_file.empty()) continue;
    std::ifstream in(o.body_file, std::ios::binary);
    if (!in) {
      error = "cannot read HTTP override file " + o.body_file;
      return false;
    }
    std::string data;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      data.append(buf, static_cast<size_t>(in.gcount()));
      if (data.size() > max_bytes) {
        error = "HTTP override file " + o.body_file + " is larger than " + std::to_string(max_bytes) + " bytes";
        return false;
      }
    }
    o.body = std::move(data);
    o.body_file.clear();
    o.use_fake = false;
  }
  return true;
}

HttpResponder::HttpResponder(HttpResponderConfig config) : config_(std::move(config)) {
  for (HttpOverride& o : config_.overrides) o.host = normalise_host(o.host);
}

HttpAnswer HttpResponder::choose(std::string_view host, std::string_view path) const {
  HttpAnswer a;
  const FakeFile& fake = fake_file_for_extension(path_extension(path));
  for (size_t i = 0; i < config_.overrides.size(); ++i) {
    const HttpOverride& o = config_.overrides[i];
    if (!host_matches(o.host, host) || !path_matches(o.path, path)) continue;
    a.status = o.status;
    if (o.use_fake) {
      a.body = fake.body;
      a.content_type = o.content_type.empty() ? std::string(fake.content_type) : o.content_type;
    } else {
      a.body = o.body;
      a.content_type = o.content_type.empty() ? std::string(fake.content_type) : o.content_type;
    }
    a.location = o.location;
    a.served = "override:" + std::to_string(i);
    return a;
  }
  if (config_.connectivity_checks) {
    for (const Check& c : kChecks) {
      if ((c.host.empty() || c.host == host) && (c.path.empty() || c.path == path)) {
        a.status = c.status;
        a.content_type = c.content_type;
        a.body = c.body;
        a.served = "check:" + std::string(c.name);
        return a;
      }
    }
  }
  a.body = fake.body;
  a.content_type = fake.content_type;
  a.served = "fake:" + std::string(fake.name);
  return a;
}

class HttpSession::Handler : public http::MessageParser::Handler {
 public:
  explicit Handler(HttpSession& s) : s_(s) {}

  void on_request_line(const http::RequestLine& line) override {
    if (check_fatal()) return;
    cur_ = {};
    cur_.method = std::string(line.method);
    cur_.target = std::string(line.target);
    cur_.version = std::to_string(line.major) + "." + std::to_string(line.minor);
    http11_ = line.major == 1 && line.minor >= 1;
    close_ = false;
    keep_alive_ = false;
    expect_continue_ = false;
    header_bytes_ = line.method.size() + line.target.size() + 10;
    open_ = true;
    // Absolute form (proxy requests): the host and path are in the target.
    std::string_view t = line.target;
    if (const size_t scheme = t.find("://"); scheme != std::string_view::npos && scheme < 8) {
      const size_t slash = t.find('/', scheme + 3);
      absolute_host_ = normalise_host(t.substr(scheme + 3, slash == std::string_view::npos ? std::string_view::npos
                                                                                            : slash - scheme - 3));
      t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
    } else {
      absolute_host_.clear();
    }
    cur_.path = std::string(t.substr(0, t.find_first_of("?#")));
  }

  void on_header(std::string_view name, std::string_view value) override {
    if (s_.closed_ || !open_) return;
    header_bytes_ += name.size() + value.size() + 4;
    if (header_bytes_ > s_.responder_.config().max_header_bytes) {
      if (!header_overflow_) s_.anomalies_.add(kAnomHttpHeaderTooLarge);
      header_overflow_ = true;
      return;
    }
    cur_.headers.emplace_back(name, value);
    if (iequals(name, "host")) {
      cur_.host = normalise_host(value);
    } else if (iequals(name, "user-agent")) {
      cur_.user_agent = std::string(value);
    } else if (iequals(name, "connection")) {
      close_ = close_ || has_token(value, "close");
      keep_alive_ = keep_alive_ || has_token(value, "keep-alive");
    } else if (iequals(name, "expect")) {
      expect_continue_ = has_token(value, "100-continue");
    } else if (iequals(name, "content-length")) {
      declared_length_ = value;
    }
  }

  http::Framing on_headers_done(http::Framing framing) override {
    if (check_fatal() || !open_) return http::Framing::kTunnel;
    if (!absolute_host_.empty()) cur_.host = absolute_host_;
    const HttpResponderConfig& cfg = s_.responder_.config();
    if (header_overflow_) {
      header_overflow_ = false;
      finish_error(431, kAnomHttpHeaderTooLarge);
      return http::Framing::kTunnel;  // stop parsing: the session is closed
    }
    if (framing == http::Framing::kLength) {
      uint64_t n = 0;
      for (char c : declared_length_) {
        if (c < '0' || c > '9' || n > cfg.max_body) break;
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      if (n > cfg.max_body) {
        finish_error(413, kAnomHttpBodyTooLarge);
        return http::Framing::kTunnel;
      }
    }
    if (cur_.method == "CONNECT") {
      cur_.complete = true;
      cur_.status = 200;
      cur_.served = "connect";
      append(*out_, "HTTP/1.1 200 Connection established\r\n\r\n");
      s_.tunnel_ = true;
      s_.closed_ = true;
      s_.done_.push_back(std::move(cur_));
      cur_ = {};
      open_ = false;
      return http::Framing::kTunnel;
    }
    if (expect_continue_ && http11_ && framing != http::Framing::kNone) {
      append(*out_, "HTTP/1.1 100 Continue\r\n\r\n");
    }
    return framing;
  }

  void on_body(core::ByteView data) override {
    if (s_.closed_ || !open_) return;
    const HttpResponderConfig& cfg = s_.responder_.config();
    cur_.body_length += data.size();
    const size_t room = cfg.max_body_kept > cur_.body.size() ? cfg.max_body_kept - cur_.body.size() : 0;
    const size_t keep = std::min(room, data.size());
    cur_.body.append(reinterpret_cast<const char*>(data.data()), keep);
    if (keep < data.size()) cur_.body_truncated = true;
    if (cur_.body_length > cfg.max_body) finish_error(413, kAnomHttpBodyTooLarge);
  }

  void on_message_done(bool complete) override {
    if (check_fatal() || !open_) return;
    open_ = false;
    cur_.complete = complete;
    if (!complete) {
      s_.done_.push_back(std::move(cur_));
      cur_ = {};
      return;
    }
    ++requests_;
    bool keep = http11_ ? !close_ : keep_alive_;
    if (requests_ >= s_.responder_.config().max_requests) {
      if (keep) s_.anomalies_.add(kAnomHttpTooManyRequests);
      keep = false;
    }
    s_.respond(cur_, cur_.method == "HEAD", keep, *out_);
    s_.done_.push_back(std::move(cur_));
    cur_ = {};
    if (!keep) s_.closed_ = true;
  }

  // The parser counted damage since the last look: answer 400 and close.
  bool check_fatal() {
    if (s_.closed_) return true;
    const uint64_t n = fatal_count(s_.anomalies_);
    if (n == fatal_seen_) return false;
    fatal_seen_ = n;
    finish_error(400, kAnomHttpBadRequest);
    return true;
  }

  void finish_error(uint16_t status, const core::AnomalyId& why) {
    s_.anomalies_.add(why);
    cur_.status = status;
    cur_.served = "error:" + std::to_string(status);
    const std::string_view reason = http_reason(status);
    const std::string body = std::to_string(status) + " " + std::string(reason) + "\n";
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                       "\r\nDate: " + http_date(now_) + "\r\nServer: " + s_.responder_.config().server +
                       "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\nConnection: close\r\n\r\n";
    append(*out_, head);
    if (cur_.method != "HEAD") append(*out_, body);
    cur_.content_type = "text/plain";
    cur_.response_length = body.size();
    s_.done_.push_back(std::move(cur_));
    cur_ = {};
    open_ = false;
    s_.closed_ = true;
  }

  void cut_off() {
    if (!open_) return;
    open_ = false;
    cur_.complete = false;
    s_.done_.push_back(std::move(cur_));
    cur_ = {};
  }

  std::vector<uint8_t>* out_ = nullptr;
  core::Timestamp now_;

 private:
  HttpSession& s_;
  HttpExchange cur_;
  bool open_ = false;
  bool http11_ = true;
  bool close_ = false;
  bool keep_alive_ = false;
  bool expect_continue_ = false;
  bool header_overflow_ = false;
  size_t header_bytes_ = 0;
  std::string declared_length_;
  std::string absolute_host_;
  size_t requests_ = 0;
  uint64_t fatal_seen_ = 0;
};

HttpSession::HttpSession(const HttpResponder& responder)
    : responder_(responder),
      handler_(std::make_unique<Handler>(*this)),
      parser_(std::make_unique<http::MessageParser>(true, *handler_, anomalies_, responder.config().limits)) {}

HttpSession::~HttpSession() = default;

size_t HttpSession::feed(core::ByteView data, core::Timestamp now, std::vector<uint8_t>& out) {
  if (closed_) return 0;
  handler_->out_ = &out;
  handler_->now_ = now;
  const size_t used = parser_->feed(data);
  // Damage at the end of the data (a bad line with nothing after it).
  handler_->check_fatal();
  handler_->out_ = nullptr;
  return used;
}

void HttpSession::end_of_stream() {
  if (closed_) return;
  std::vector<uint8_t> ignored;
  handler_->out_ = &ignored;
  parser_->end_of_stream();
  handler_->cut_off();
  handler_->out_ = nullptr;
  closed_ = true;
}

std::vector<HttpExchange> HttpSession::take_exchanges() { return std::exchange(done_, {}); }

void HttpSession::respond(HttpExchange& ex, bool head, bool keep_alive, std::vector<uint8_t>& out) {
  const HttpAnswer a = responder_.choose(ex.host, ex.path);
  const bool no_body = a.status == 204 || a.status == 304 || a.status < 200;
  std::string head_text = "HTTP/1.1 " + std::to_string(a.status) + " " + std::string(http_reason(a.status)) +
                          "\r\nDate: " + http_date(handler_->now_) + "\r\nServer: " + responder_.config().server +
                          "\r\n";
  if (!no_body && !a.content_type.empty()) head_text += "Content-Type: " + a.content_type + "\r\n";
  if (!a.location.empty()) head_text += "Location: " + a.location + "\r\n";
  if (!no_body) head_text += "Content-Length: " + std::to_string(a.body.size()) + "\r\n";
  head_text += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  append(out, head_text);
  if (!head && !no_body) append(out, a.body);
  ex.status = a.status;
  ex.content_type = no_body ? std::string() : a.content_type;
  ex.response_length = no_body ? 0 : a.body.size();
  ex.served = a.served;
}

}  // namespace trawl::sinkhole

#include "analyzers/http/http_parser.h"

#include <algorithm>
#include <array>

#include "analyzers/common/text.h"
#include "core/percent.h"

namespace trawl::analyzers::http {

namespace {

constexpr size_t kMaxMethodLen = 32;
constexpr uint64_t kMaxChunkSize = uint64_t{1} << 40;
constexpr size_t kMaxLengthDigits = 18;  // < 2^63
constexpr size_t kMaxJunk = 8;           // bytes skipped before a start line

bool is_ws(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

using core::hex_value;

// "HTTP/d.d" at the start of s.
bool parse_version(std::string_view s, uint8_t& major, uint8_t& minor) {
  if (s.size() < 8 || s.substr(0, 5) != "HTTP/" || !is_digit(s[5]) || s[6] != '.' || !is_digit(s[7])) {
    return false;
  }
  major = static_cast<uint8_t>(s[5] - '0');
  minor = static_cast<uint8_t>(s[7] - '0');
  return true;
}

// A Content-Length value: digits, or a list of equal digit strings ("5, 5").
std::optional<uint64_t> parse_length(std::string_view v) {
  std::optional<uint64_t> result;
  while (true) {
    const size_t comma = v.find(',');
    std::string_view item = trim(v.substr(0, comma));
    if (item.empty() || item.size() > kMaxLengthDigits) return std::nullopt;
    uint64_t n = 0;
    for (char c : item) {
      if (!is_digit(c)) return std::nullopt;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (result && *result != n) return std::nullopt;
    result = n;
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return result;
}

}  // namespace

bool is_token_char(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_known_method(std::string_view m) {
  static constexpr std::array<std::string_view, 26> kMethods = {
      "GET",    "POST",      "HEAD",  "PUT",    "DELETE",    "OPTIONS",     "CONNECT", "TRACE",  "PATCH",
      "PROPFIND", "PROPPATCH", "MKCOL", "COPY",  "MOVE",      "LOCK",        "UNLOCK",  "POLL",   "REPORT",
      "SUBSCRIBE", "UNSUBSCRIBE", "NOTIFY", "BMOVE", "SEARCH", "MKCALENDAR", "ACL",     "LINK"};
  return std::find(kMethods.begin(), kMethods.end(), m) != kMethods.end();
}

std::optional<RequestLine> parse_request_line(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && is_token_char(static_cast<unsigned char>(line[i]))) ++i;
  if (i == 0 || i > kMaxMethodLen || i >= line.size() || !is_ws(line[i])) return std::nullopt;
  RequestLine out;
  out.method = line.substr(0, i);
  std::string_view rest = line.substr(i);
  while (!rest.empty() && is_ws(rest.back())) rest.remove_suffix(1);
  if (rest.size() < 10) return std::nullopt;  // " x HTTP/d.d"
  if (!parse_version(rest.substr(rest.size() - 8), out.major, out.minor)) return std::nullopt;
  rest.remove_suffix(8);
  if (!is_ws(rest.back())) return std::nullopt;
  out.target = trim(rest);
  if (out.target.empty()) return std::nullopt;
  return out;
}

std::optional<StatusLine> parse_status_line(std::string_view line) {
  StatusLine out;
  if (!parse_version(line, out.major, out.minor)) return std::nullopt;
  std::string_view rest = line.substr(8);
  if (rest.empty() || !is_ws(rest.front())) return std::nullopt;
  rest = trim(rest);
  if (rest.size() < 3 || !is_digit(rest[0]) || !is_digit(rest[1]) || !is_digit(rest[2]) || rest[0] == '0') {
    return std::nullopt;
  }
  out.code = static_cast<uint16_t>((rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0'));
  out.reason = trim(rest.substr(3));
  return out;
}

MessageParser::MessageParser(bool requests, Handler& handler, core::Anomalies& anomalies, const HttpLimits& limits)
    : requests_(requests), handler_(handler), anomalies_(anomalies), limits_(limits), lines_(limits.max_line) {}

bool MessageParser::in_message() const {
  switch (state_) {
    case State::kHeaders:
    case State::kBody:
    case State::kChunkSize:
    case State::kChunkData:
    case State::kChunkCrlf:
    case State::kTrailers:
    case State::kUntilClose:
      return true;
    default:
      return false;
  }
}

bool MessageParser::line_mode() const {
  switch (state_) {
    case State::kStartLine:
    case State::kHeaders:
    case State::kChunkSize:
    case State::kChunkCrlf:
    case State::kTrailers:
    case State::kResync:
      return true;
    default:
      return false;
  }
}

size_t MessageParser::feed(core::ByteView data) {
  const size_t size = data.size();
  while (!data.empty()) {
    if (state_ == State::kTunnel || state_ == State::kDead) return size - data.size();
    if (!line_mode()) {
      body(data);
      continue;
    }
    const bool resyncing = state_ == State::kResync;
    const size_t used = lines_.feed(data, [this](std::string_view line, bool truncated) {
      return on_line(line, truncated);
    });
    data = data.subspan(used);
    if (resyncing && state_ == State::kResync) {
      resync_bytes_ += used;
      if (resync_bytes_ > limits_.max_resync_bytes) {
        anomalies_.add(kAnomResyncFailed);
        state_ = State::kDead;
        return size - data.size();
      }
    }
    // A start line that never ends is not HTTP.
    if (state_ == State::kStartLine && lines_.pending() >= limits_.max_line) {
      anomalies_.add(kAnomLineTooLong);
      resync(nullptr);
    }
  }
  return size;
}

bool MessageParser::on_line(std::string_view line, bool truncated) {
  // LineReader only cuts lines it had to buffer; a long line inside one
  // delivery arrives whole.
  if (line.size() > limits_.max_line) {
    line = line.substr(0, limits_.max_line);
    truncated = true;
  }
  switch (state_) {
    case State::kStartLine:
    case State::kResync:
      start_line(line, truncated);
      break;
    case State::kHeaders:
      header_line(line, truncated);
      break;
    case State::kChunkSize:
      if (truncated || !chunk_size_line(line)) {
        anomalies_.add(kAnomBadChunkSize);
        message_done(false);
        resync(nullptr);
      }
      break;
    case State::kChunkCrlf:
      if (line.empty()) {
        state_ = State::kChunkSize;
      } else {
        // Data after the chunk: the size was wrong, or the CRLF is missing
        // and this is already the next size line.
        anomalies_.add(kAnomChunkMissingCrlf);
        if (truncated || !chunk_size_line(line)) {
          message_done(false);
          resync(nullptr);
        }
      }
      break;
    case State::kTrailers:
      trailer_line(line);
      break;
    default:
      break;
  }
  return line_mode();
}

void MessageParser::start_line(std::string_view line, bool truncated) {
  if (line.empty() && !truncated) return;  // stray CRLF between messages
  // A capture that starts mid-connection often begins with the one byte of
  // a TCP keep-alive probe (NUL) right before a start line.
  size_t junk = 0;
  while (junk < kMaxJunk && junk < line.size() &&
         (line[junk] == '\0' || line[junk] == ' ' || line[junk] == '\t' || line[junk] == '\r')) {
    ++junk;
  }
  if (junk == line.size()) return;
  if (junk) line.remove_prefix(junk);
  if (!truncated) {
    bool ok = false;
    if (requests_) {
      if (auto rl = parse_request_line(line)) {
        ok = true;
        status_code_ = 0;
        state_ = State::kHeaders;
        handler_.on_request_line(*rl);
      }
    } else if (auto sl = parse_status_line(line)) {
      ok = true;
      status_code_ = sl->code;
      state_ = State::kHeaders;
      handler_.on_status_line(*sl);
    }
    if (ok) {
      if (junk) anomalies_.add(kAnomJunkBeforeMessage);
      fields_ = 0;
      too_many_reported_ = false;
      have_field_ = false;
      content_length_.reset();
      bad_length_ = false;
      chunked_ = false;
      transfer_encoding_ = false;
      resync_bytes_ = 0;
      return;
    }
  }
  if (state_ == State::kStartLine) {
    if (truncated) {
      anomalies_.add(kAnomLineTooLong);
    } else {
      anomalies_.add(requests_ ? kAnomBadRequestLine : kAnomBadStatusLine);
    }
    resync(nullptr);
  }
}

void MessageParser::header_line(std::string_view line, bool truncated) {
  if (line.empty() && !truncated) {
    flush_field();
    headers_done();
    return;
  }
  if (truncated) anomalies_.add(kAnomLineTooLong);
  if (is_ws(line.front())) {  // obsolete line folding
    if (!have_field_) {
      anomalies_.add(kAnomBadHeader);
      return;
    }
    std::string_view more = trim(line);
    if (more.empty()) return;
    if (field_value_.size() + 1 + more.size() > limits_.max_header_value) {
      if (!value_capped_) anomalies_.add(kAnomHeaderTooLong);
      value_capped_ = true;
      return;
    }
    if (!field_value_.empty()) field_value_.push_back(' ');
    field_value_.append(more);
    return;
  }
  flush_field();
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    anomalies_.add(kAnomBadHeader);
    return;
  }
  std::string_view name = line.substr(0, colon);
  // Whitespace before the colon is a request-smuggling vector (RFC 9112
  // 5.1): such a request field is ignored. Servers that send it (some do)
  // mean the name without it.
  if (!requests_) {
    while (!name.empty() && is_ws(name.back())) name.remove_suffix(1);
  }
  if (name.empty()) {
    anomalies_.add(kAnomBadHeader);
    return;
  }
  for (char c : name) {
    if (!is_token_char(static_cast<unsigned char>(c))) {
      anomalies_.add(kAnomBadHeader);
      return;
    }
  }
  std::string_view value = trim(line.substr(colon + 1));
  value_capped_ = false;
  if (value.size() > limits_.max_header_value) {
    anomalies_.add(kAnomHeaderTooLong);
    value = value.substr(0, limits_.max_header_value);
    value_capped_ = true;
  }
  ++fields_;
  if (fields_ > limits_.max_headers && !too_many_reported_) {
    anomalies_.add(kAnomTooManyHeaders);
    too_many_reported_ = true;
  }
  field_name_.assign(name);
  field_value_.assign(value);
  have_field_ = true;
}

void MessageParser::flush_field() {
  if (!have_field_) return;
  have_field_ = false;
  // Framing fields count even past the field limit, so that an extra field
  // cannot hide a Content-Length from us.
  framing_field(field_name_, field_value_);
  if (fields_ <= limits_.max_headers) handler_.on_header(field_name_, field_value_);
}

void MessageParser::framing_field(std::string_view name, std::string_view value) {
  if (iequals(name, "content-length")) {
    auto n = parse_length(value);
    if (!n) {
      anomalies_.add(kAnomBadContentLength);
      bad_length_ = true;
    } else if (content_length_ && *content_length_ != *n) {
      anomalies_.add(kAnomConflictingContentLength);
    } else {
      content_length_ = n;
    }
  } else if (iequals(name, "transfer-encoding")) {
    transfer_encoding_ = true;
    const size_t comma = value.rfind(',');
    std::string_view last = trim(comma == std::string_view::npos ? value : value.substr(comma + 1));
    chunked_ = iequals(last, "chunked");
  }
}

void MessageParser::headers_done() {
  Framing f;
  const bool no_body_status =
      !requests_ && ((status_code_ >= 100 && status_code_ < 200) || status_code_ == 204 || status_code_ == 304);
  if (no_body_status) {
    f = Framing::kNone;
  } else if (chunked_) {
    if (content_length_ || bad_length_) anomalies_.add(kAnomLengthAndChunked);
    f = Framing::kChunked;
  } else if (transfer_encoding_) {
    // A coding other than chunked last: only the end of the connection
    // delimits a response; a request like that is invalid (RFC 9112 6.3).
    anomalies_.add(kAnomBadTransferEncoding);
    f = requests_ ? Framing::kNone : Framing::kUntilClose;
  } else if (content_length_) {
    f = *content_length_ == 0 ? Framing::kNone : Framing::kLength;
  } else {
    f = requests_ ? Framing::kNone : Framing::kUntilClose;
  }
  f = handler_.on_headers_done(f);
  switch (f) {
    case Framing::kNone:
      message_done(true);
      break;
    case Framing::kLength:
      remaining_ = content_length_.value_or(0);
      state_ = State::kBody;
      if (remaining_ == 0) message_done(true);
      break;
    case Framing::kChunked:
      state_ = State::kChunkSize;
      break;
    case Framing::kUntilClose:
      state_ = State::kUntilClose;
      break;
    case Framing::kTunnel:
      message_done(true);
      state_ = State::kTunnel;
      break;
  }
}

bool MessageParser::chunk_size_line(std::string_view line) {
  std::string_view s = trim(line);
  size_t i = 0;
  uint64_t size = 0;
  for (; i < s.size(); ++i) {
    const int d = hex_value(s[i]);
    if (d < 0) break;
    size = size * 16 + static_cast<uint64_t>(d);
    if (size > kMaxChunkSize) return false;
  }
  if (i == 0) return false;
  std::string_view ext = trim(s.substr(i));
  if (!ext.empty() && ext.front() != ';') return false;
  if (size == 0) {
    state_ = State::kTrailers;
  } else {
    remaining_ = size;
    state_ = State::kChunkData;
  }
  return true;
}

void MessageParser::trailer_line(std::string_view line) {
  if (line.empty()) {
    message_done(true);
    return;
  }
  if (is_ws(line.front())) return;  // folded trailer
  if (line.find(':') == std::string_view::npos) anomalies_.add(kAnomBadHeader);
  ++fields_;
  if (fields_ > limits_.max_headers && !too_many_reported_) {
    anomalies_.add(kAnomTooManyHeaders);
    too_many_reported_ = true;
  }
}

void MessageParser::message_done(bool complete) {
  state_ = State::kStartLine;
  handler_.on_message_done(complete);
}

void MessageParser::resync(const core::AnomalyId* why) {
  if (why) anomalies_.add(*why);
  state_ = State::kResync;
  resync_bytes_ = 0;
}

void MessageParser::body(core::ByteView& data) {
  switch (state_) {
    case State::kBody:
    case State::kChunkData: {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size()));
      handler_.on_body(data.first(n));
      data = data.subspan(n);
      remaining_ -= n;
      if (remaining_ == 0) {
        if (state_ == State::kBody) {
          message_done(true);
        } else {
          state_ = State::kChunkCrlf;
        }
      }
      break;
    }
    case State::kUntilClose:
      handler_.on_body(data);
      data = {};
      break;
    default:
      data = {};
      break;
  }
}

void MessageParser::gap(uint64_t bytes) {
  lines_.reset();
  switch (state_) {
    case State::kBody:
    case State::kChunkData:
      if (bytes <= remaining_) {
        handler_.on_body_gap(bytes);
        remaining_ -= bytes;
        if (remaining_ == 0) {
          if (state_ == State::kBody) {
            message_done(true);
          } else {
            state_ = State::kChunkCrlf;
          }
        }
        return;
      }
      // The hole runs past the body: this message is done (a chunked one
      // without its end), the next one starts somewhere in the hole.
      handler_.on_body_gap(remaining_);
      message_done(state_ == State::kBody);
      resync(&kAnomContentGap);
      return;
    case State::kUntilClose:
      handler_.on_body_gap(bytes);
      return;
    case State::kStartLine:
      resync(&kAnomContentGap);
      return;
    case State::kHeaders:
    case State::kChunkSize:
    case State::kChunkCrlf:
    case State::kTrailers:
      have_field_ = false;
      message_done(false);
      resync(&kAnomContentGap);
      return;
    case State::kResync:
    case State::kTunnel:
    case State::kDead:
      return;
  }
}

void MessageParser::end_of_stream() {
  switch (state_) {
    case State::kUntilClose:
      message_done(true);
      break;
    case State::kBody:
    case State::kChunkSize:
    case State::kChunkData:
    case State::kChunkCrlf:
      anomalies_.add(kAnomBodyTruncated);
      message_done(false);
      break;
    case State::kHeaders:
    case State::kTrailers:
      have_field_ = false;
      message_done(false);
      break;
    default:
      break;
  }
}

}  // namespace trawl::analyzers::http

// Pure HTTP/1.x message parsing (RFC 9112): request and status lines, header
// fields (with obsolete line folding) and message framing (Content-Length,
// chunked with extensions and trailers, until close), for one direction of a
// connection across any split of its bytes. No flows and no records: the
// analyzer, the fuzzers and the sandbox responder drive it. Hostile input
// becomes named anomalies and a resynchronisation at the next start line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "analyzers/common/line_reader.h"
#include "core/anomalies.h"
#include "core/byte_view.h"

namespace trawl::analyzers::http {

inline const core::AnomalyId kAnomLineTooLong{"http.line_too_long"};
inline const core::AnomalyId kAnomBadRequestLine{"http.bad_request_line"};
inline const core::AnomalyId kAnomBadStatusLine{"http.bad_status_line"};
inline const core::AnomalyId kAnomJunkBeforeMessage{"http.junk_before_message"};
inline const core::AnomalyId kAnomBadHeader{"http.bad_header"};
inline const core::AnomalyId kAnomTooManyHeaders{"http.too_many_headers"};
inline const core::AnomalyId kAnomHeaderTooLong{"http.header_too_long"};
inline const core::AnomalyId kAnomBadContentLength{"http.bad_content_length"};
inline const core::AnomalyId kAnomConflictingContentLength{"http.conflicting_content_length"};
inline const core::AnomalyId kAnomLengthAndChunked{"http.content_length_and_chunked"};
inline const core::AnomalyId kAnomBadTransferEncoding{"http.bad_transfer_encoding"};
inline const core::AnomalyId kAnomBadChunkSize{"http.bad_chunk_size"};
inline const core::AnomalyId kAnomChunkMissingCrlf{"http.chunk_missing_crlf"};
inline const core::AnomalyId kAnomBodyTruncated{"http.body_truncated"};
inline const core::AnomalyId kAnomContentGap{"http.content_gap"};
inline const core::AnomalyId kAnomResyncFailed{"http.resync_failed"};

struct HttpLimits {
  size_t max_line = 8192;          // start, header and chunk-size lines
  size_t max_headers = 100;        // fields per header block (trailers count too)
  size_t max_header_value = 8192;  // one field value after unfolding
  // Bytes scanned for a start line after damage (a gap, a bad line) before
  // the direction is given up.
  size_t max_resync_bytes = 256 * 1024;
};

struct RequestLine {
  std::string_view method;
  std::string_view target;  // as sent (not decoded)
  uint8_t major = 0;
  uint8_t minor = 0;
};

struct StatusLine {
  uint8_t major = 0;
  uint8_t minor = 0;
  uint16_t code = 0;
  std::string_view reason;  // may be empty
};

// "METHOD SP target SP HTTP/d.d" (CR already removed). The method is an
// RFC 9110 token; the target is everything between the whitespace after the
// method and the whitespace before the version (so a target with spaces is
// kept whole, as servers and Zeek accept it). nullopt otherwise.
std::optional<RequestLine> parse_request_line(std::string_view line);
// "HTTP/d.d SP ddd [SP reason]". nullopt otherwise.
std::optional<StatusLine> parse_status_line(std::string_view line);
// The methods Zeek's http.log knows plus PATCH and the WebDAV ones.
bool is_known_method(std::string_view method);
// RFC 9110 token character (method and field names).
bool is_token_char(unsigned char c);

// How a message body is delimited.
enum class Framing : uint8_t {
  kNone,        // no body
  kLength,      // Content-Length bytes
  kChunked,     // chunked transfer coding
  kUntilClose,  // the rest of the direction (responses without a length)
  kTunnel,      // not HTTP any more after the header (CONNECT 2xx, 101): stop
};

// Parses one direction (requests or responses) as a sequence of messages.
class MessageParser {
 public:
  // Callbacks, in stream order. Views are valid only during the call.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_request_line(const RequestLine& line) { (void)line; }
    virtual void on_status_line(const StatusLine& line) { (void)line; }
    // One header field of the current message (trailers are not reported);
    // the value has folding joined with one space and is trimmed.
    virtual void on_header(std::string_view name, std::string_view value) {
      (void)name;
      (void)value;
    }
    // End of the header block. `framing` is what the message says (1xx, 204
    // and 304 responses are already kNone); the handler may override it
    // (kNone for a response to HEAD, kTunnel after CONNECT 2xx or 101).
    virtual Framing on_headers_done(Framing framing) { return framing; }
    virtual void on_body(core::ByteView data) { (void)data; }
    // `bytes` of the body are missing from the capture (counted, not seen).
    virtual void on_body_gap(uint64_t bytes) { (void)bytes; }
    // The current message ended: complete, or interrupted by a gap, a
    // framing error or the end of the stream.
    virtual void on_message_done(bool complete) { (void)complete; }
  };

  MessageParser(bool requests, Handler& handler, core::Anomalies& anomalies, const HttpLimits& limits = {});

  // Returns the bytes it consumed: all of data, unless parsing stopped inside
  // it (a tunnel started, or resynchronisation failed); the rest is then not
  // HTTP (after CONNECT: the tunnel's first bytes).
  size_t feed(core::ByteView data);
  void gap(uint64_t bytes);
  void end_of_stream();

  // Nothing more will be parsed: a tunnel started, or resynchronisation failed.
  bool stopped() const { return state_ == State::kTunnel || state_ == State::kDead; }
  bool dead() const { return state_ == State::kDead; }
  // Between the start line and the end of a message.
  bool in_message() const;

 private:
  enum class State : uint8_t {
    kStartLine,
    kHeaders,
    kBody,        // remaining_ bytes of a Content-Length body
    kChunkSize,
    kChunkData,   // remaining_ bytes of the current chunk
    kChunkCrlf,   // the line break after a chunk
    kTrailers,
    kUntilClose,
    kResync,      // after damage: looking for a start line
    kTunnel,
    kDead,
  };

  // Returns false when the line switched the parser out of line mode.
  bool on_line(std::string_view line, bool truncated);
  void start_line(std::string_view line, bool truncated);
  void header_line(std::string_view line, bool truncated);
  void trailer_line(std::string_view line);
  bool chunk_size_line(std::string_view line);
  void flush_field();
  void framing_field(std::string_view name, std::string_view value);
  void headers_done();
  void message_done(bool complete);
  void resync(const core::AnomalyId* why);
  void body(core::ByteView& data);
  bool line_mode() const;

  bool requests_;
  Handler& handler_;
  core::Anomalies& anomalies_;
  HttpLimits limits_;
  LineReader lines_;
  State state_ = State::kStartLine;

  // The current message.
  uint16_t status_code_ = 0;
  size_t fields_ = 0;
  bool too_many_reported_ = false;
  std::string field_name_;   // the field being unfolded
  std::string field_value_;
  bool have_field_ = false;
  bool value_capped_ = false;
  std::optional<uint64_t> content_length_;
  bool bad_length_ = false;
  bool chunked_ = false;
  bool transfer_encoding_ = false;
  uint64_t remaining_ = 0;
  size_t resync_bytes_ = 0;
};

}  // namespace trawl::analyzers::http

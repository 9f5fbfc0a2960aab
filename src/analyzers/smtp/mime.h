// Streaming MIME walker for one mail message (RFC 5322 headers, RFC 2045/2046
// entities and multipart boundaries, RFC 2047 encoded words, RFC 2231
// parameters). It is fed the message bytes in any pieces (SMTP DATA after
// dot-unstuffing, BDAT chunks, a POP3 RETR or an IMAP literal), hands the
// top-level headers to a callback and lists the attachments with their decoded
// sizes, counted without keeping the bodies. Pure: no I/O, no global state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/anomalies.h"

namespace trawl::analyzers::smtp {

inline const core::AnomalyId kAnomMimeHeaderTooLong{"mime.header_too_long"};
inline const core::AnomalyId kAnomMimeTooManyHeaders{"mime.too_many_headers"};
inline const core::AnomalyId kAnomMimeBadHeader{"mime.bad_header_line"};
inline const core::AnomalyId kAnomMimeTooDeep{"mime.nesting_too_deep"};
inline const core::AnomalyId kAnomMimeTooManyParts{"mime.too_many_parts"};
inline const core::AnomalyId kAnomMimeBadBase64{"mime.bad_base64"};
inline const core::AnomalyId kAnomMimeBadQuotedPrintable{"mime.bad_quoted_printable"};
inline const core::AnomalyId kAnomMimeUnterminated{"mime.unterminated_multipart"};
inline const core::AnomalyId kAnomMimeMissingBoundary{"mime.multipart_without_boundary"};

struct MimeLimits {
  size_t max_header_bytes = 65536;  // one header after unfolding (longer: truncated)
  size_t max_headers = 10000;       // headers per entity (more: ignored; none is stored)
  size_t max_depth = 8;            // nested multiparts (deeper: treated as opaque content)
  size_t max_parts = 100;          // entities per message, the message itself included
  size_t max_name_bytes = 1024;    // attachment file name after decoding
};

struct MimeAttachment {
  std::string name;       // file name (RFC 2231 / 2047 decoded to UTF-8); may be empty
  std::string mime_type;  // lower-case "type/subtype" of the part
  uint64_t size = 0;      // decoded bytes (base64 and quoted-printable decoded by counting)
  bool complete = true;   // false: the message ended inside this part
};

enum class TransferEncoding : uint8_t { kIdentity, kBase64, kQuotedPrintable };

// Decoded size of a body fed as line pieces, without storing it.
class BodySizeCounter {
 public:
  void reset(TransferEncoding enc);
  // Bytes of the current line (never a line terminator).
  void bytes(std::string_view s);
  // The current line ended with a terminator of `len` bytes (1 LF, 2 CRLF).
  void eol(uint8_t len);
  // The body is over. A boundary owns the line break before it, so only an
  // end of message counts the last line's terminator (add_last_eol).
  uint64_t finish(bool add_last_eol);
  bool saw_invalid() const { return invalid_; }

 private:
  void start_line();
  TransferEncoding enc_ = TransferEncoding::kIdentity;
  uint64_t size_ = 0;
  uint64_t b64_chars_ = 0;
  uint8_t pending_eol_ = 0;
  bool in_line_ = false;
  bool invalid_ = false;
  uint8_t qp_eq_ = 0;         // 0 none, 1 after '=', 2 after '=' and one hex digit
  uint32_t qp_ws_ = 0;        // spaces and tabs not yet known to be inside the line
  uint32_t qp_eq_ws_ = 0;     // spaces and tabs after a '=' (a soft break may follow)
};

class MimeParser {
 public:
  // Called for each header of the top-level entity: the name as sent, the
  // value unfolded (CRLF removed) and trimmed. Views live for the call only.
  using HeaderHandler = std::function<void(std::string_view name, std::string_view value)>;

  explicit MimeParser(core::Anomalies& anomalies, MimeLimits limits = {});

  void set_header_handler(HeaderHandler h) { on_header_ = std::move(h); }
  // Starts a new message; forgets the previous one's results.
  void begin();
  void feed(std::string_view bytes);
  // The message is complete (or nothing more of it will come).
  void end();
  // The rest of the message will not be seen whole (a gap): stops parsing
  // and marks what is open as incomplete; end() still finishes the message.
  void abandon();

  bool active() const { return state_ != State::kIdle && state_ != State::kDone; }
  bool top_headers_done() const { return top_headers_done_; }
  size_t entities() const { return entities_; }
  const std::vector<MimeAttachment>& attachments() const { return attachments_; }

 private:
  enum class State : uint8_t { kIdle, kHeaders, kBody, kAbandoned, kDone };
  enum class LineMode : uint8_t { kStart, kCollect, kStream };
  // The entity whose headers or body are being read.
  struct Entity {
    std::string type;      // lower-case type/subtype
    std::string boundary;  // multipart only
    std::string name;      // file name: Content-Disposition filename, else Content-Type name
    bool attachment = false;  // Content-Disposition: attachment
    bool has_name = false;
    TransferEncoding enc = TransferEncoding::kIdentity;
    size_t headers = 0;
  };

  void piece(std::string_view s, bool eol, uint8_t eol_len);
  void header_line(std::string_view line, bool truncated);
  void commit_header();
  void end_of_headers();
  void body_line_piece(std::string_view s);
  void body_eol(uint8_t eol_len);
  bool check_boundary(std::string_view line);
  void start_entity();
  void finish_leaf(bool add_last_eol, bool complete);

  core::Anomalies& anomalies_;
  MimeLimits limits_;
  HeaderHandler on_header_;

  State state_ = State::kIdle;
  LineMode mode_ = LineMode::kStart;
  std::string line_;          // the head of the current physical line when it must be collected
  bool line_overflow_ = false;
  bool pending_cr_ = false;   // a CR ended the last piece; is it a CRLF?
  std::string hname_;         // header being unfolded
  std::string hvalue_;
  bool hvalue_truncated_ = false;
  bool have_header_ = false;
  bool skipping_header_ = false;  // a header over the count limit, with its continuation lines
  bool top_level_ = true;     // the entity being read is the message itself
  bool top_headers_done_ = false;
  bool too_many_parts_ = false;
  Entity entity_;
  std::vector<std::string> boundaries_;  // open multiparts, outermost first
  bool counting_ = false;     // the current leaf is an attachment being measured
  BodySizeCounter counter_;
  size_t entities_ = 0;
  std::vector<MimeAttachment> attachments_;
};

// RFC 2047 encoded words ("=?utf-8?B?...?=", "=?iso-8859-1?Q?...?=") decoded
// to UTF-8 for the charsets UTF-8, US-ASCII and ISO-8859-1 (Windows-1252 is
// read as ISO-8859-1); words in other charsets or malformed stay as sent.
// Whitespace between two adjacent encoded words is dropped. Output is capped
// at max_out bytes.
std::string decode_encoded_words(std::string_view in, size_t max_out = 8192);

// Parses a structured header value "token; a=b; c=\"d\"; e*=utf-8''f%20g":
// the lower-cased leading token and the value of parameter `param` (lower-case
// name; RFC 2231 extended and continued forms are joined and decoded), at
// most max_out bytes. Returns false if the parameter is absent.
std::string header_token(std::string_view value);
bool header_param(std::string_view value, std::string_view param, std::string& out, size_t max_out = 1024);

}  // namespace trawl::analyzers::smtp

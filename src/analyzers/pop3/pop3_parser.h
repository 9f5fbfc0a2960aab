// Pure POP3 parsing (RFC 1939, RFC 2449, RFC 5034): command lines, status
// lines, which commands answer with a multi-line response, and the scanner
// that finds the end of one (the "." line) and counts its bytes without
// copying them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/byte_view.h"

namespace trawl::analyzers::pop3 {

struct Pop3Command {
  std::string_view verb;  // as sent (compare case-insensitively)
  std::string_view arg;   // after the first space; may be empty
};

inline constexpr size_t kMaxVerbLen = 8;  // RFC verbs are 3-4 letters; extensions stay short

// nullopt if the line is not a plausible command (empty verb, a non-letter in
// it, or longer than kMaxVerbLen).
std::optional<Pop3Command> parse_command(std::string_view line);

enum class Pop3LineKind : uint8_t {
  kOk,            // "+OK ..."
  kErr,           // "-ERR ..."
  kContinuation,  // "+ ..." or "+" (SASL challenge, RFC 5034)
  kOther,
};

struct Pop3Status {
  Pop3LineKind kind = Pop3LineKind::kOther;
  std::string_view text;  // after the status word and one space
};

// Classifies a server line (status words are matched case-insensitively).
Pop3Status parse_status(std::string_view line);

// True if a positive answer to `verb` with `arg` is a multi-line response:
// RETR, TOP, CAPA, LIST and UIDL without argument, AUTH without mechanism.
bool is_multiline(std::string_view verb, std::string_view arg);

// Finds the end of a multi-line response: the line holding only "." (CRLF or
// LF). Lines starting with "." are dot-stuffed: that dot is not counted.
class MultilineScanner {
 public:
  // Consumes bytes up to and including the terminating line; returns how many
  // were consumed (all of `data` unless the terminator was found in it).
  size_t feed(core::ByteView data);
  bool done() const { return done_; }
  // Body bytes after un-stuffing, line ends included, terminator excluded
  // (what "+OK <n> octets" announces for RETR).
  uint64_t body_bytes() const { return body_; }
  uint32_t lines() const { return lines_; }
  // `bytes` of the body were lost: counted, and the scanner no longer knows
  // whether it is at the start of a line.
  void gap(uint64_t bytes);
  void reset();

 private:
  enum class State : uint8_t { kLineStart, kInLine, kDot, kDotCr };
  State state_ = State::kLineStart;
  bool done_ = false;
  uint64_t body_ = 0;
  uint32_t lines_ = 0;
};

}  // namespace trawl::analyzers::pop3

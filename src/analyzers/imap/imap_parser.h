// Pure IMAP4 parsing (RFC 3501, RFC 9051, RFC 7888 LITERAL+, RFC 3516
// BINARY): command lines, response lines, the literal a line announces at its
// end, and the strings (atom, quoted, literal) of command arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trawl::analyzers::imap {

// "{N}" (synchronizing: the client waits for a "+" before sending it),
// "{N+}" (non-synchronizing) or "~{N}" (binary) at the end of a line.
struct LiteralSpec {
  uint64_t size = 0;
  bool sync = false;
  size_t marker_len = 0;  // bytes of the marker at the end of the line
};

inline constexpr size_t kMaxLiteralDigits = 18;

enum class LiteralParse : uint8_t { kNone, kOk, kBad };
// kBad: the line ends with a brace group that is not a valid literal size
// (empty, not digits, more than kMaxLiteralDigits).
LiteralParse literal_at_end(std::string_view line, LiteralSpec& out);

struct ImapCommandLine {
  std::string_view tag;
  std::string_view command;  // as sent (compare case-insensitively)
  std::string_view rest;     // after the command and one space; may be empty
};

inline constexpr size_t kMaxTagLen = 64;
inline constexpr size_t kMaxCommandLen = 32;

// "tag SP command [SP arguments]". nullopt if the tag or command is not
// plausible (tag: printable, no space and none of (){%*"\+; command: a
// letter followed by letters, digits, '-' or '_').
std::optional<ImapCommandLine> parse_command_line(std::string_view line);
// The command rule above (also for the word after "UID").
bool is_command_word(std::string_view word);

enum class ImapResponseKind : uint8_t {
  kTagged,        // "tag OK|NO|BAD text"
  kUntagged,      // "* ..."
  kContinuation,  // "+ ..." or "+"
  kOther,
};

struct ImapResponseLine {
  ImapResponseKind kind = ImapResponseKind::kOther;
  std::string_view tag;     // kTagged
  std::string_view status;  // kTagged: OK/NO/BAD; kUntagged: the first word (OK, PREAUTH, BYE, CAPABILITY, a number ...)
  std::string_view text;    // after the status word and one space; kContinuation: after "+ "
};

ImapResponseLine parse_response_line(std::string_view line);

// The strings of a command's arguments: atoms, quoted strings (unescaped) and
// parenthesised lists as one token; at most `max` tokens.
std::vector<std::string> split_arguments(std::string_view args, size_t max);

// Appends `s` as an IMAP quoted string ("..." with \ before " and \).
void append_quoted(std::string& out, std::string_view s);

}  // namespace trawl::analyzers::imap

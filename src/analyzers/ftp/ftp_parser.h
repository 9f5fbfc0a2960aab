// Pure FTP control-channel parsing (RFC 959, RFC 2428): command lines, reply
// lines and multi-line replies, the data-channel addresses of PORT/EPRT and of
// the 227/229 passive replies, and the file sizes of 213/150 replies.
// Bytes in, values out: no flows, no state beyond one reply being assembled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ip_address.h"

namespace trawl::analyzers::ftp {

// One client command line: the verb (as sent; compare case-insensitively)
// and its argument (everything after the first space, may be empty).
struct FtpCommand {
  std::string_view verb;
  std::string_view arg;
};

// Longest verb accepted (RFC 959 verbs are 3 or 4 letters; extensions such
// as "XCWD", "CLNT", "OPTS", "HOST", "MLSD" stay short too).
inline constexpr size_t kMaxVerbLen = 8;

// Splits a command line (CRLF already removed). Telnet IAC sequences before
// the verb (ABOR is sent after "IAC IP IAC DM") are skipped. nullopt if the
// line is not a plausible command: empty, or the verb has a non-letter or is
// longer than kMaxVerbLen.
std::optional<FtpCommand> parse_command(std::string_view line);

// One reply line "ddd text", "ddd-text" or "ddd".
struct FtpReplyLine {
  uint16_t code = 0;
  bool more = false;  // "ddd-": a multi-line reply starts (or goes on)
  std::string_view text;
};

// nullopt if the line does not start with three digits (first digit 1-5)
// followed by a space, a '-' or the end of the line.
std::optional<FtpReplyLine> parse_reply_line(std::string_view line);

// Assembles replies from lines, as RFC 959 4.2 defines multi-line replies: a
// first line "ddd-" runs until a line starting with the same "ddd" followed
// by a space (or nothing); lines in between are text of any shape.
class ReplyAssembler {
 public:
  enum class Step : uint8_t {
    kDone,      // a whole reply: code() and text() (the last line's text)
    kMore,      // inside a multi-line reply
    kNotReply,  // a line outside a reply that is not a reply line
  };
  // `line` is only viewed; text() stays valid until the next call.
  Step feed(std::string_view line);
  uint16_t code() const { return code_; }
  std::string_view text() const { return text_; }
  bool in_multiline() const { return in_multiline_; }
  // Lines of the current (or last) reply.
  uint32_t lines() const { return lines_; }
  // Forgets a half-read multi-line reply (after a gap).
  void reset() {
    in_multiline_ = false;
    lines_ = 0;
  }

 private:
  uint16_t code_ = 0;
  std::string_view text_;
  bool in_multiline_ = false;
  uint32_t lines_ = 0;
};

// Where a data connection is expected: `host` accepts on `port`.
struct HostPort {
  core::IpAddress host;
  uint16_t port = 0;
};

// "h1,h2,h3,h4,p1,p2" (PORT argument; spaces around numbers tolerated).
std::optional<HostPort> parse_port_arg(std::string_view arg);
// "<d>proto<d>addr<d>port<d>" (EPRT argument, RFC 2428; proto 1 IPv4, 2 IPv6).
std::optional<HostPort> parse_eprt_arg(std::string_view arg);
// 227 reply text: the six numbers after '(' (or from the first digit when the
// server sends none: "227 Entering Passive Mode 10,0,0,1,4,1").
std::optional<HostPort> parse_pasv_reply(std::string_view text);
// 229 reply text: "(|||port|)" (any delimiter); only the port is given, the
// host is the server of the control connection. nullopt if malformed.
std::optional<uint16_t> parse_epsv_reply(std::string_view text);

// File size from a 213 reply to SIZE ("213 1234"): the leading number.
std::optional<uint64_t> parse_size_reply(std::string_view text);
// File size from a 150 reply to RETR: "... (1234 bytes)." (as Zeek: the first
// number after '(' when the rest of the text mentions " bytes").
std::optional<uint64_t> parse_150_size(std::string_view text);

// The path a file command names, as Zeek's build_path_compressed: `arg` if it
// is absolute, else `cwd` + "/" + `arg`, then "x/.." pairs, "." components
// (except a leading one) and repeated slashes folded; no trailing slash.
std::string build_path_compressed(std::string_view cwd, std::string_view arg);
// Zeek's build_url_ftp: "ftp://" + host ("[v6]" for IPv6) + the path, with a
// leading "/" added when the path has none.
std::string build_ftp_url(const core::IpAddress& server, std::string_view path);

}  // namespace trawl::analyzers::ftp

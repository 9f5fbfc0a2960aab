#include "analyzers/imap/imap_parser.h"

#include "analyzers/common/text.h"

namespace trawl::analyzers::imap {

namespace {

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool tag_char(char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
    case '+':
      return false;
    default:
      return true;
  }
}

}  // namespace

LiteralParse literal_at_end(std::string_view line, LiteralSpec& out) {
  if (line.empty() || line.back() != '}') return LiteralParse::kNone;
  size_t open = line.rfind('{');
  if (open == std::string_view::npos) return LiteralParse::kNone;
  std::string_view inner = line.substr(open + 1, line.size() - open - 2);
  bool sync = true;
  if (!inner.empty() && inner.back() == '+') {
    sync = false;
    inner.remove_suffix(1);
  }
  if (inner.empty() || inner.size() > kMaxLiteralDigits) return LiteralParse::kBad;
  uint64_t n = 0;
  for (char c : inner) {
    if (!is_digit(c)) return LiteralParse::kBad;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  out.size = n;
  out.sync = sync;
  out.marker_len = line.size() - open;
  if (open > 0 && line[open - 1] == '~') ++out.marker_len;
  return LiteralParse::kOk;
}

bool is_command_word(std::string_view word) {
  if (word.empty() || word.size() > kMaxCommandLen || !is_alpha(word[0])) return false;
  for (char c : word) {
    if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_') return false;
  }
  return true;
}

std::optional<ImapCommandLine> parse_command_line(std::string_view line) {
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos || sp == 0 || sp > kMaxTagLen) return std::nullopt;
  std::string_view tag = line.substr(0, sp);
  for (char c : tag) {
    if (!tag_char(c)) return std::nullopt;
  }
  std::string_view after = line.substr(sp + 1);
  size_t sp2 = after.find(' ');
  std::string_view command = after.substr(0, sp2);
  if (!is_command_word(command)) return std::nullopt;
  ImapCommandLine out;
  out.tag = tag;
  out.command = command;
  if (sp2 != std::string_view::npos) out.rest = after.substr(sp2 + 1);
  return out;
}

ImapResponseLine parse_response_line(std::string_view line) {
  ImapResponseLine r;
  if (line.empty()) return r;
  if (line[0] == '+' && (line.size() == 1 || line[1] == ' ')) {
    r.kind = ImapResponseKind::kContinuation;
    r.text = line.size() > 2 ? line.substr(2) : std::string_view{};
    return r;
  }
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos || sp == 0) return r;
  std::string_view first = line.substr(0, sp);
  std::string_view after = line.substr(sp + 1);
  size_t sp2 = after.find(' ');
  std::string_view word = after.substr(0, sp2);
  std::string_view text = sp2 == std::string_view::npos ? std::string_view{} : after.substr(sp2 + 1);
  if (first == "*") {
    r.kind = ImapResponseKind::kUntagged;
    r.status = word;
    r.text = text;
    return r;
  }
  if (first.size() > kMaxTagLen) return r;
  for (char c : first) {
    if (!tag_char(c)) return r;
  }
  if (!iequals(word, "OK") && !iequals(word, "NO") && !iequals(word, "BAD")) return r;
  r.kind = ImapResponseKind::kTagged;
  r.tag = first;
  r.status = word;
  r.text = text;
  return r;
}

std::vector<std::string> split_arguments(std::string_view args, size_t max) {
  std::vector<std::string> out;
  size_t i = 0;
  while (out.size() < max) {
    while (i < args.size() && args[i] == ' ') ++i;
    if (i >= args.size()) break;
    std::string tok;
    if (args[i] == '"') {
      for (++i; i < args.size() && args[i] != '"'; ++i) {
        if (args[i] == '\\' && i + 1 < args.size()) ++i;
        tok.push_back(args[i]);
      }
      if (i < args.size()) ++i;  // closing quote
    } else if (args[i] == '(') {
      int depth = 0;
      size_t start = i;
      for (; i < args.size(); ++i) {
        if (args[i] == '(') ++depth;
        if (args[i] == ')' && --depth == 0) {
          ++i;
          break;
        }
      }
      tok.assign(args.substr(start, i - start));
    } else {
      size_t start = i;
      while (i < args.size() && args[i] != ' ') ++i;
      tok.assign(args.substr(start, i - start));
    }
    out.push_back(std::move(tok));
  }
  return out;
}

void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace trawl::analyzers::imap

#include "analyzers/pop3/pop3_parser.h"

#include <cstring>

#include "analyzers/common/text.h"

namespace trawl::analyzers::pop3 {

std::optional<Pop3Command> parse_command(std::string_view line) {
  size_t sp = line.find(' ');
  std::string_view verb = line.substr(0, sp);
  if (verb.empty() || verb.size() > kMaxVerbLen) return std::nullopt;
  for (char c : verb) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return std::nullopt;
  }
  Pop3Command cmd;
  cmd.verb = verb;
  if (sp != std::string_view::npos) cmd.arg = line.substr(sp + 1);
  return cmd;
}

Pop3Status parse_status(std::string_view line) {
  Pop3Status s;
  auto word = [&](std::string_view w) {
    if (!istarts_with(line, w)) return false;
    if (line.size() == w.size()) return true;
    return line[w.size()] == ' ' || line[w.size()] == '\t';
  };
  if (word("+OK")) {
    s.kind = Pop3LineKind::kOk;
    s.text = line.size() > 3 ? line.substr(4) : std::string_view{};
  } else if (word("-ERR")) {
    s.kind = Pop3LineKind::kErr;
    s.text = line.size() > 4 ? line.substr(5) : std::string_view{};
  } else if (!line.empty() && line[0] == '+' && (line.size() == 1 || line[1] == ' ')) {
    s.kind = Pop3LineKind::kContinuation;
    s.text = line.size() > 1 ? line.substr(2) : std::string_view{};
  }
  return s;
}

bool is_multiline(std::string_view verb, std::string_view arg) {
  const bool no_arg = trim(arg).empty();
  if (iequals(verb, "RETR") || iequals(verb, "TOP") || iequals(verb, "CAPA")) return true;
  if (iequals(verb, "LIST") || iequals(verb, "UIDL") || iequals(verb, "AUTH")) return no_arg;
  return false;
}

size_t MultilineScanner::feed(core::ByteView data) {
  const uint8_t* p = data.data();
  const uint8_t* const end = p + data.size();
  while (p < end && !done_) {
    switch (state_) {
      case State::kInLine: {
        const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
        if (nl == nullptr) {
          body_ += static_cast<uint64_t>(end - p);
          p = end;
        } else {
          const uint8_t* after = static_cast<const uint8_t*>(nl) + 1;
          body_ += static_cast<uint64_t>(after - p);
          p = after;
          ++lines_;
          state_ = State::kLineStart;
        }
        break;
      }
      case State::kLineStart:
        if (*p == '.') {
          state_ = State::kDot;
          ++p;
        } else {
          state_ = State::kInLine;
        }
        break;
      case State::kDot:
        if (*p == '\n') {
          done_ = true;
          ++p;
        } else if (*p == '\r') {
          state_ = State::kDotCr;
          ++p;
        } else {
          state_ = State::kInLine;  // a stuffed dot: not part of the content
        }
        break;
      case State::kDotCr:
        if (*p == '\n') {
          done_ = true;
          ++p;
        } else {
          // ".\r" then something else: the dot was stuffed, the CR is content.
          body_ += 1;
          state_ = State::kInLine;
        }
        break;
    }
  }
  return static_cast<size_t>(p - data.data());
}

void MultilineScanner::gap(uint64_t bytes) {
  if (done_) return;
  body_ += bytes;
  state_ = State::kInLine;
}

void MultilineScanner::reset() {
  state_ = State::kLineStart;
  done_ = false;
  body_ = 0;
  lines_ = 0;
}

}  // namespace trawl::analyzers::pop3

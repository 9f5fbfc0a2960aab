#include "analyzers/ftp/ftp_parser.h"

#include <array>
#include <string>
#include <vector>

namespace trawl::analyzers::ftp {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Reads an unsigned decimal at `pos` (at most 20 digits, saturating at
// `max`); advances pos. nullopt if there is no digit.
std::optional<uint64_t> read_number(std::string_view s, size_t& pos, uint64_t max) {
  size_t start = pos;
  uint64_t v = 0;
  while (pos < s.size() && is_digit(s[pos])) {
    if (pos - start >= 20) return std::nullopt;
    uint64_t d = static_cast<uint64_t>(s[pos] - '0');
    v = (v > (max - d) / 10) ? max : v * 10 + d;
    ++pos;
  }
  if (pos == start) return std::nullopt;
  return v;
}

void skip_spaces(std::string_view s, size_t& pos) {
  while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
}

// Six comma-separated numbers 0-255 starting at `pos`.
std::optional<HostPort> parse_six(std::string_view s, size_t pos) {
  std::array<uint8_t, 6> n{};
  for (size_t i = 0; i < 6; ++i) {
    skip_spaces(s, pos);
    auto v = read_number(s, pos, 1000);
    if (!v || *v > 255) return std::nullopt;
    n[i] = static_cast<uint8_t>(*v);
    skip_spaces(s, pos);
    if (i < 5) {
      if (pos >= s.size() || s[pos] != ',') return std::nullopt;
      ++pos;
    }
  }
  HostPort hp;
  hp.host = core::IpAddress::v4(n.data());
  hp.port = static_cast<uint16_t>((n[4] << 8) | n[5]);
  return hp;
}

}  // namespace

std::optional<FtpCommand> parse_command(std::string_view line) {
  // Telnet commands (IAC x, and IAC SB ... is not used on FTP control).
  while (line.size() >= 2 && static_cast<unsigned char>(line[0]) == 0xff) line.remove_prefix(2);
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  size_t sp = line.find(' ');
  std::string_view verb = line.substr(0, sp);
  if (verb.empty() || verb.size() > kMaxVerbLen) return std::nullopt;
  for (char c : verb) {
    if (!is_alpha(c)) return std::nullopt;
  }
  FtpCommand cmd;
  cmd.verb = verb;
  if (sp != std::string_view::npos) cmd.arg = line.substr(sp + 1);
  return cmd;
}

std::optional<FtpReplyLine> parse_reply_line(std::string_view line) {
  if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) return std::nullopt;
  if (line[0] < '1' || line[0] > '5') return std::nullopt;
  FtpReplyLine r;
  r.code = static_cast<uint16_t>((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
  if (line.size() == 3) return r;
  if (line[3] == '-') {
    r.more = true;
  } else if (line[3] != ' ') {
    return std::nullopt;
  }
  r.text = line.substr(4);
  return r;
}

ReplyAssembler::Step ReplyAssembler::feed(std::string_view line) {
  auto r = parse_reply_line(line);
  if (in_multiline_) {
    ++lines_;
    if (r && !r->more && r->code == code_) {
      in_multiline_ = false;
      text_ = r->text;
      return Step::kDone;
    }
    return Step::kMore;
  }
  if (!r) return Step::kNotReply;
  code_ = r->code;
  text_ = r->text;
  lines_ = 1;
  if (r->more) {
    in_multiline_ = true;
    return Step::kMore;
  }
  return Step::kDone;
}

std::optional<HostPort> parse_port_arg(std::string_view arg) {
  size_t pos = 0;
  skip_spaces(arg, pos);
  auto hp = parse_six(arg, pos);
  return hp;
}

std::optional<HostPort> parse_eprt_arg(std::string_view arg) {
  while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  if (arg.size() < 7) return std::nullopt;
  const char d = arg[0];
  if (d < 33 || d > 126 || is_digit(d)) return std::nullopt;
  // Split into the three fields between delimiters.
  std::array<std::string_view, 3> f;
  size_t pos = 1;
  for (size_t i = 0; i < 3; ++i) {
    size_t end = arg.find(d, pos);
    if (end == std::string_view::npos) return std::nullopt;
    f[i] = arg.substr(pos, end - pos);
    pos = end + 1;
  }
  if (f[0] != "1" && f[0] != "2") return std::nullopt;
  auto addr = core::IpAddress::parse(f[1]);
  if (!addr || addr->is_v4() != (f[0] == "1")) return std::nullopt;
  size_t p = 0;
  auto port = read_number(f[2], p, 100000);
  if (!port || p != f[2].size() || *port == 0 || *port > 65535) return std::nullopt;
  return HostPort{*addr, static_cast<uint16_t>(*port)};
}

std::optional<HostPort> parse_pasv_reply(std::string_view text) {
  size_t pos = text.find('(');
  if (pos == std::string_view::npos) {
    pos = 0;
    while (pos < text.size() && !is_digit(text[pos])) ++pos;
  } else {
    ++pos;
  }
  return parse_six(text, pos);
}

std::optional<uint16_t> parse_epsv_reply(std::string_view text) {
  size_t pos = text.find('(');
  if (pos == std::string_view::npos || pos + 5 > text.size()) return std::nullopt;
  ++pos;
  const char d = text[pos];
  if (d < 33 || d > 126 || is_digit(d)) return std::nullopt;
  if (text[pos + 1] != d || text[pos + 2] != d) return std::nullopt;
  pos += 3;
  auto port = read_number(text, pos, 100000);
  if (!port || *port == 0 || *port > 65535) return std::nullopt;
  if (pos >= text.size() || text[pos] != d) return std::nullopt;
  return static_cast<uint16_t>(*port);
}

std::optional<uint64_t> parse_size_reply(std::string_view text) {
  size_t pos = 0;
  skip_spaces(text, pos);
  return read_number(text, pos, UINT64_MAX);
}

std::optional<uint64_t> parse_150_size(std::string_view text) {
  size_t open = text.find('(');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(open + 1);
  if (rest.find(" bytes") == std::string_view::npos) return std::nullopt;
  size_t pos = 0;
  while (pos < rest.size() && !is_digit(rest[pos])) ++pos;
  return read_number(rest, pos, UINT64_MAX);
}

std::string build_path_compressed(std::string_view cwd, std::string_view arg) {
  std::string joined;
  if ((!arg.empty() && arg.front() == '/') || cwd.empty()) {
    joined.assign(arg);
  } else {
    joined.reserve(cwd.size() + 1 + arg.size());
    joined.append(cwd).push_back('/');
    joined.append(arg);
  }
  const bool absolute = !joined.empty() && joined.front() == '/';
  std::vector<std::string_view> out;
  std::string_view rest = joined;
  bool first = true;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view comp = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (comp.empty()) continue;
    const bool was_first = first;
    first = false;
    if (comp == ".") {
      if (was_first && !absolute) out.push_back(comp);
    } else if (comp == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      } else if (!absolute) {
        out.push_back(comp);
      }
    } else {
      out.push_back(comp);
    }
  }
  std::string path = absolute ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) {
    if (i != 0) path.push_back('/');
    path.append(out[i]);
  }
  return path;
}

std::string build_ftp_url(const core::IpAddress& server, std::string_view path) {
  std::string url = "ftp://";
  if (server.is_v6()) {
    url += '[' + server.to_string() + ']';
  } else {
    url += server.to_string();
  }
  if (path.empty() || path.front() != '/') url.push_back('/');
  url.append(path);
  return url;
}

}  // namespace trawl::analyzers::ftp

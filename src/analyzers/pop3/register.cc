// POP3 registration: hint port 110 (995 is TLS); recognised by the server's
// "+OK"/"-ERR" status lines and the client's POP3 commands.
#include <array>
#include <memory>
#include <string_view>

#include "analyzers/common/text.h"
#include "analyzers/pop3/pop3_analyzer.h"
#include "analyzers/pop3/pop3_parser.h"
#include "analyzers/registry.h"

namespace trawl::analyzers::pop3 {

namespace {

std::string_view first_line(std::string_view s, bool& complete) {
  size_t nl = s.find('\n');
  complete = nl != std::string_view::npos;
  std::string_view line = s.substr(0, nl);
  if (complete && !line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool pop3_verb(std::string_view v) {
  static constexpr std::array<std::string_view, 15> kVerbs = {"USER", "PASS", "APOP", "CAPA", "STLS",
                                                              "AUTH", "STAT", "LIST", "RETR", "UIDL",
                                                              "TOP",  "DELE", "QUIT", "NOOP", "RSET"};
  for (std::string_view k : kVerbs) {
    if (iequals(v, k)) return true;
  }
  return false;
}

// Whether `line` (maybe incomplete) is or may become "+OK" / "-ERR".
enum class Status : uint8_t { kNo, kPrefix, kYes };
Status status_line(std::string_view line, bool complete) {
  for (std::string_view w : {std::string_view("+OK"), std::string_view("-ERR")}) {
    if (line.size() < w.size()) {
      if (!complete && iequals(line, w.substr(0, line.size()))) return Status::kPrefix;
      continue;
    }
    if (parse_status(line).kind == (w[0] == '+' ? Pop3LineKind::kOk : Pop3LineKind::kErr)) return Status::kYes;
  }
  return Status::kNo;
}

Probe probe(const ProbeInput& in) {
  const std::string_view resp = core::as_chars(in.resp);
  const std::string_view orig = core::as_chars(in.orig);
  bool server_status = false;
  bool banner_says_pop = false;
  if (!resp.empty()) {
    bool complete = false;
    std::string_view line = first_line(resp, complete);
    switch (status_line(line, complete)) {
      case Status::kNo:
        return Probe::kNo;
      case Status::kPrefix:
        return in.resp_done ? Probe::kNo : Probe::kMaybe;
      case Status::kYes:
        break;
    }
    server_status = true;
    for (size_t i = 0; i + 3 <= line.size(); ++i) {
      if (iequals(line.substr(i, 3), "POP")) banner_says_pop = true;
    }
  }
  bool client_pop3 = false;
  if (!orig.empty()) {
    bool complete = false;
    std::string_view line = first_line(orig, complete);
    if (complete || line.size() > kMaxVerbLen) {
      auto cmd = parse_command(line);
      if (!cmd || !pop3_verb(cmd->verb)) return Probe::kNo;
      client_pop3 = true;
    }
  }
  if (server_status && (client_pop3 || in.port_hint || banner_says_pop)) return Probe::kYes;
  if (client_pop3 && in.port_hint && in.resp_done) return Probe::kYes;
  if (in.orig_done && in.resp_done) return Probe::kNo;
  return Probe::kMaybe;
}

std::unique_ptr<Analyzer> create(Context& ctx) { return std::make_unique<Pop3Analyzer>(ctx); }

}  // namespace

void register_protocols(Registry& r) { r.add(Protocol{"pop3", 6, {110}, &probe, &create}); }

}  // namespace trawl::analyzers::pop3

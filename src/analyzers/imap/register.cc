// IMAP registration: hint port 143 (993 is TLS); recognised by the server's
// "* OK" / "* PREAUTH" greeting and the client's tagged IMAP commands.
#include <array>
#include <memory>
#include <string_view>

#include "analyzers/common/text.h"
#include "analyzers/imap/imap_analyzer.h"
#include "analyzers/imap/imap_parser.h"
#include "analyzers/registry.h"

namespace trawl::analyzers::imap {

namespace {

std::string_view first_line(std::string_view s, bool& complete) {
  size_t nl = s.find('\n');
  complete = nl != std::string_view::npos;
  std::string_view line = s.substr(0, nl);
  if (complete && !line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool imap_command(std::string_view c) {
  static constexpr std::array<std::string_view, 33> kCommands = {
      "CAPABILITY", "LOGIN",  "AUTHENTICATE", "STARTTLS", "SELECT", "EXAMINE", "LIST",     "LSUB",    "STATUS",
      "NOOP",       "LOGOUT", "ID",           "ENABLE",   "APPEND", "IDLE",    "NAMESPACE", "SEARCH",  "FETCH",
      "STORE",      "COPY",   "MOVE",         "EXPUNGE",  "CLOSE",  "CHECK",   "CREATE",   "DELETE",  "RENAME",
      "SUBSCRIBE",  "UNSUBSCRIBE", "UID",       "GETQUOTAROOT", "UNSELECT", "COMPRESS"};
  for (std::string_view k : kCommands) {
    if (iequals(c, k)) return true;
  }
  return false;
}

Probe probe(const ProbeInput& in) {
  const std::string_view resp = core::as_chars(in.resp);
  const std::string_view orig = core::as_chars(in.orig);
  bool greeting = false;
  bool greeting_says_imap = false;
  bool responses = false;
  if (!resp.empty()) {
    bool complete = false;
    std::string_view line = first_line(resp, complete);
    if (!complete && line.size() <= kMaxTagLen) return in.resp_done ? Probe::kNo : Probe::kMaybe;
    const ImapResponseLine r = parse_response_line(line);
    if (r.kind == ImapResponseKind::kUntagged) {
      responses = true;
      greeting = iequals(r.status, "OK") || iequals(r.status, "PREAUTH") || iequals(r.status, "BYE");
      for (size_t i = 0; i + 4 <= line.size(); ++i) {
        if (iequals(line.substr(i, 4), "IMAP")) greeting_says_imap = true;
      }
    } else if (r.kind == ImapResponseKind::kTagged) {
      responses = true;
    } else {
      return Probe::kNo;
    }
  }
  bool client_imap = false;
  if (!orig.empty()) {
    bool complete = false;
    std::string_view line = first_line(orig, complete);
    if (complete || line.size() > kMaxTagLen + kMaxCommandLen + 1) {
      auto cmd = parse_command_line(line);
      if (!cmd || !imap_command(cmd->command)) return Probe::kNo;
      client_imap = true;
    }
  }
  if (greeting && (client_imap || in.port_hint || greeting_says_imap)) return Probe::kYes;
  if (client_imap && responses) return Probe::kYes;
  if (in.orig_done && in.resp_done) return Probe::kNo;
  return Probe::kMaybe;
}

std::unique_ptr<Analyzer> create(Context& ctx) { return std::make_unique<ImapAnalyzer>(ctx); }

}  // namespace

void register_protocols(Registry& r) { r.add(Protocol{"imap", 6, {143}, &probe, &create}); }

}  // namespace trawl::analyzers::imap

// FTP registration: hint port 21; recognised by the server's reply codes and
// the client's first command (a lone "220" banner is also SMTP's).
#include <array>
#include <memory>
#include <string_view>

#include "analyzers/common/text.h"
#include "analyzers/ftp/ftp_analyzer.h"
#include "analyzers/ftp/ftp_parser.h"
#include "analyzers/registry.h"

namespace trawl::analyzers::ftp {

namespace {

// The first line of `s` without its line end; `complete` when it has one.
std::string_view first_line(std::string_view s, bool& complete) {
  size_t nl = s.find('\n');
  complete = nl != std::string_view::npos;
  std::string_view line = s.substr(0, nl);
  if (complete && !line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool contains_word(std::string_view s, std::string_view w) {
  for (size_t i = 0; i + w.size() <= s.size(); ++i) {
    if (iequals(s.substr(i, w.size()), w)) return true;
  }
  return false;
}

// Verbs only FTP clients send first (SMTP shares HELP, NOOP, QUIT, RSET, and
// AUTH comes after EHLO there).
bool ftp_verb(std::string_view v) {
  static constexpr std::array<std::string_view, 36> kVerbs = {
      "USER", "PASS", "ACCT", "AUTH", "FEAT", "SYST", "OPTS", "PWD",  "XPWD", "CWD",  "XCWD", "CDUP",
      "TYPE", "PASV", "EPSV", "PORT", "EPRT", "LIST", "NLST", "MLSD", "MLST", "RETR", "STOR", "STOU",
      "APPE", "SIZE", "MDTM", "REST", "CLNT", "HOST", "PBSZ", "PROT", "SITE", "LANG", "DELE", "MKD"};
  for (std::string_view k : kVerbs) {
    if (iequals(v, k)) return true;
  }
  return false;
}

Probe probe(const ProbeInput& in) {
  const std::string_view resp = core::as_chars(in.resp);
  const std::string_view orig = core::as_chars(in.orig);
  bool banner = false;
  bool banner_says_ftp = false;
  bool replies = false;
  if (!resp.empty()) {
    bool complete = false;
    std::string_view line = first_line(resp, complete);
    for (size_t i = 0; i < line.size() && i < 3; ++i) {
      if (line[i] < '0' || line[i] > '9') return Probe::kNo;
    }
    if (!complete && line.size() < 4) return in.resp_done ? Probe::kNo : Probe::kMaybe;
    auto r = parse_reply_line(line);
    if (!r) return Probe::kNo;
    replies = true;
    if (r->code == 220 || r->code == 120 || r->code == 421) {
      banner = true;
      banner_says_ftp = contains_word(line, "FTP");
      if (!banner_says_ftp && (contains_word(line, "SMTP") || contains_word(line, " mail"))) banner = false;
    }
  }
  bool client_ftp = false;
  if (!orig.empty()) {
    bool complete = false;
    std::string_view line = first_line(orig, complete);
    if (complete || line.size() > kMaxVerbLen) {
      auto cmd = parse_command(line);
      if (!cmd) return Probe::kNo;
      if (!ftp_verb(cmd->verb)) {
        // "EHLO", "HELO", "MAIL": not FTP; other verbs: not decisive.
        if (iequals(cmd->verb, "EHLO") || iequals(cmd->verb, "HELO") || iequals(cmd->verb, "MAIL")) {
          return Probe::kNo;
        }
      } else {
        client_ftp = true;
      }
    }
  }
  if (banner && (client_ftp || in.port_hint || banner_says_ftp)) return Probe::kYes;
  // Mid-session: an FTP command answered by reply codes.
  if (client_ftp && replies && !banner) return Probe::kYes;
  if (client_ftp && in.port_hint && resp.empty() && in.resp_done) return Probe::kYes;
  if (in.orig_done && in.resp_done) return Probe::kNo;
  return Probe::kMaybe;
}

std::unique_ptr<Analyzer> create(Context& ctx) { return std::make_unique<FtpAnalyzer>(ctx); }

}  // namespace

void register_protocols(Registry& r) { r.add(Protocol{"ftp", 6, {21}, &probe, &create}); }

}  // namespace trawl::analyzers::ftp

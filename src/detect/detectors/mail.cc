// Mail abuse from smtp.jsonl records: mail.mass_mailing (one host or
// authenticated account sending many messages, or to many recipients, within
// a window) and mail.phishing (a From header that is not the authenticated
// account, executable or macro attachments, servers refusing a message as a
// virus). The actor is the authenticated account when the session logged in,
// else the sending host. docs/findings/mail_smb_http.md.
#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyzers/smtp/smtp_record.h"
#include "detect/detector.h"
#include "detect/text.h"
#include "detect/evidence.h"
#include "output/json_line.h"

namespace trawl::detect {
namespace {

using text::address_strings;  // detect/text.h
using text::folded_hash;
using text::json_strings;
using text::lower;

using analyzers::smtp::SmtpRecord;

constexpr size_t kMaxActors = 4096;      // actors tracked (new ones past it are ignored)
constexpr size_t kMaxRcptPerWindow = 1024;  // distinct recipient hashes per actor window
constexpr size_t kSample = 10;



// The address of a From header: inside the first <...>, else the trimmed value.
std::string header_address(std::string_view from) {
  const size_t lt = from.find('<');
  if (lt != std::string_view::npos) {
    const size_t gt = from.find('>', lt);
    if (gt != std::string_view::npos) return lower(from.substr(lt + 1, gt - lt - 1));
  }
  while (!from.empty() && (from.front() == ' ' || from.front() == '\t')) from.remove_prefix(1);
  while (!from.empty() && (from.back() == ' ' || from.back() == '\t')) from.remove_suffix(1);
  return lower(from);
}

// Executable, script and macro-enabled document extensions mail filters block.
constexpr std::array<std::string_view, 33> kRiskyExtensions{
    "exe", "scr", "pif", "com", "bat", "cmd", "vbs", "vbe", "js",   "jse",  "wsf",
    "wsh", "hta", "lnk", "msi", "ps1", "jar", "cpl", "reg", "dll",  "iso",  "img",
    "docm", "xlsm", "pptm", "dotm", "xltm", "xlam", "ppam", "sldm", "potm", "ppsm", "chm"};
constexpr std::array<std::string_view, 9> kRiskyTypes{
    "application/x-msdownload",      "application/x-dosexec",
    "application/x-msdos-program",   "application/x-executable",
    "application/vnd.microsoft.portable-executable", "application/hta",
    "application/x-ms-shortcut",     "application/vnd.ms-excel.sheet.macroenabled.12",
    "application/vnd.ms-word.document.macroenabled.12"};

bool risky_attachment(const analyzers::smtp::MimeAttachment& a) {
  const std::string name = lower(a.name);
  const size_t dot = name.rfind('.');
  if (dot != std::string::npos) {
    std::string ext = name.substr(dot + 1);
    while (!ext.empty() && (ext.back() == ' ' || ext.back() == '.')) ext.pop_back();
    if (std::find(kRiskyExtensions.begin(), kRiskyExtensions.end(), ext) != kRiskyExtensions.end()) return true;
  }
  const std::string type = lower(a.mime_type);
  return std::find(kRiskyTypes.begin(), kRiskyTypes.end(), type) != kRiskyTypes.end();
}

// A 4xx/5xx reply that names a virus or malware.
bool virus_reply(std::string_view reply) {
  if (reply.empty() || (reply[0] != '4' && reply[0] != '5')) return false;
  const std::string l = lower(reply);
  for (std::string_view w : {"virus", "malware", "infected", "trojan", "malicious", "worm"}) {
    if (l.find(w) != std::string::npos) return true;
  }
  return false;
}

// "1 message", "2 messages".
std::string count_of(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}


struct Window {
  core::Timestamp start;
  uint64_t messages = 0;
  DistinctSet<uint64_t> rcpts{kMaxRcptPerWindow};
  DistinctSet<core::IpAddress> servers{1024};
  Evidence evidence{20};
  core::Timestamp last;
};

struct MassState {
  Window cur;
  // Over windows that crossed a threshold.
  uint64_t hot_windows = 0;
  Span span;
  uint64_t messages = 0;
  uint64_t recipients = 0;  // sum of distinct recipients per hot window
  uint64_t max_messages = 0;
  uint64_t max_recipients = 0;
  uint64_t max_servers = 0;
  Evidence evidence{20};
  DistinctSet<core::IpAddress> servers{64};
  DistinctSet<std::string> sample_rcpts{kSample};
  DistinctSet<std::string> mailfrom{kSample};
  DistinctSet<std::string> subjects{kSample};
};

struct PhishState {
  Span span;
  uint64_t from_mismatch = 0;
  uint64_t risky_attachments = 0;
  uint64_t virus_rejections = 0;
  DistinctSet<std::string> mismatched_from{kSample};
  DistinctSet<std::string> attachment_names{kSample};
  DistinctSet<std::string> replies{kSample};
  DistinctSet<core::IpAddress> servers{64};
  DistinctSet<uint16_t> ports{16};
  Evidence evidence{20};
};

struct Actor {
  bool is_user = false;
  DistinctSet<core::IpAddress> hosts{16};
  DistinctSet<uint16_t> ports{16};
  MassState mass;
  std::unique_ptr<PhishState> phish;  // only for actors showing a sign
};

class MailDetector final : public Detector {
 public:
  explicit MailDetector(Config& c)
      : window_ns_(static_cast<int64_t>(
            c.get("mail.window_s", 3600, "window (seconds) over which mail.mass_mailing counts messages and recipients") *
            1e9)),
        min_messages_(c.get("mail.min_messages", 100, "messages in one window that make mail.mass_mailing (medium)")),
        min_recipients_(c.get("mail.min_recipients", 25,
                              "distinct envelope recipients in one window that make mail.mass_mailing (low)")),
        medium_recipients_(
            c.get("mail.medium_recipients", 100, "distinct recipients in one window that raise mass mailing to medium")),
        high_recipients_(
            c.get("mail.high_recipients", 500, "distinct recipients in one window that raise mass mailing to high")),
        high_messages_(c.get("mail.high_messages", 500, "messages in one window that raise mass mailing to high")),
        min_servers_(c.get("mail.min_servers", 10,
                           "distinct mail servers one internal sender reached in one window that raise mass mailing "
                           "to high (a bot delivering straight to MX hosts)")),
        internal_(c.internal) {}

  void on_record(const analyzers::Record& r) override {
    if (r.log() != "smtp") return;
    const auto& s = static_cast<const SmtpRecord&>(r);
    const bool authed = s.auth_outcome == analyzers::AuthOutcome::kSuccess && s.has_auth_user && !s.auth_user.empty();
    const std::string key = authed ? "user:" + lower(s.auth_user) : "host:" + s.orig_h.to_string();
    auto it = actors_.find(key);
    if (it == actors_.end()) {
      if (actors_.size() >= kMaxActors) return;
      it = actors_.emplace(key, Actor{}).first;
      it->second.is_user = authed;
    }
    Actor& a = it->second;
    a.hosts.add(s.orig_h);
    a.ports.add(s.resp_p);
    const bool transaction = !s.rcptto.empty() || !s.mailfrom.empty();
    if (transaction) mass(a, s);
    phishing(a, s, authed);
  }

  void finish(std::vector<Finding>& out) override {
    for (auto& [key, a] : actors_) {
      close_window(a);
      const std::string src = key.substr(key.find(':') + 1);
      if (a.mass.hot_windows > 0) out.push_back(mass_finding(src, a));
      if (a.phish) out.push_back(phish_finding(src, a));
    }
  }

 private:
  void mass(Actor& a, const SmtpRecord& s) {
    Window& w = a.mass.cur;
    if (w.messages > 0 && s.ts - w.start > window_ns_) close_window(a);
    if (w.messages == 0) w.start = s.ts;
    ++w.messages;
    w.last = std::max(w.last, s.ts);
    for (const auto& rc : s.rcptto) {
      w.rcpts.add(folded_hash(rc));
      a.mass.sample_rcpts.add(lower(rc));
    }
    w.servers.add(s.resp_h);
    w.evidence.add(s.uid);
    if (!s.mailfrom.empty()) a.mass.mailfrom.add(lower(s.mailfrom));
    if (s.has_subject) a.mass.subjects.add(s.subject.substr(0, 200));
  }

  void close_window(Actor& a) {
    Window& w = a.mass.cur;
    if (w.messages == 0) return;
    const auto rc = w.rcpts.count();
    if (static_cast<double>(w.messages) >= min_messages_ || static_cast<double>(rc) >= min_recipients_) {
      MassState& m = a.mass;
      ++m.hot_windows;
      m.span.add(w.start);
      m.span.add(w.last);
      m.messages += w.messages;
      m.recipients += rc;
      m.max_messages = std::max(m.max_messages, w.messages);
      m.max_recipients = std::max(m.max_recipients, rc);
      m.max_servers = std::max(m.max_servers, w.servers.count());
      m.evidence.merge(w.evidence);
      w.servers.for_each([&](const core::IpAddress& sv) { m.servers.add(sv); });
    }
    w = Window{};
  }

  void phishing(Actor& a, const SmtpRecord& s, bool authed) {
    bool mismatch = false;
    std::string from_addr;
    if (authed && s.has_from && s.auth_user.find('@') != std::string::npos) {
      from_addr = header_address(s.from);
      mismatch = !from_addr.empty() && from_addr != lower(s.auth_user);
    }
    std::vector<std::string> risky;
    for (const auto& att : s.attachments) {
      if (risky_attachment(att)) risky.push_back(att.name.empty() ? "(" + att.mime_type + ")" : att.name);
    }
    const bool virus = s.has_last_reply && virus_reply(s.last_reply);
    if (!mismatch && risky.empty() && !virus) return;
    if (!a.phish) a.phish = std::make_unique<PhishState>();
    PhishState& p = *a.phish;
    p.span.add(s.ts);
    p.evidence.add(s.uid);
    p.servers.add(s.resp_h);
    p.ports.add(s.resp_p);
    if (mismatch) {
      ++p.from_mismatch;
      p.mismatched_from.add(from_addr.substr(0, 200));
    }
    p.risky_attachments += risky.size();
    for (const auto& n : risky) p.attachment_names.add(n.substr(0, 200));
    if (virus) {
      ++p.virus_rejections;
      p.replies.add(s.last_reply.substr(0, 200));
    }
  }

  Finding mass_finding(const std::string& src, const Actor& a) const {
    const MassState& m = a.mass;
    Finding f;
    f.id = "mail.mass_mailing";
    f.ts = m.span.first;
    f.last_ts = m.span.last;
    f.src = src;
    for (const auto& sv : m.servers.sample(kSample)) f.dst.push_back(sv.to_string());
    f.dst_count = m.servers.count();
    f.ports = a.ports.sample(16);
    f.service = "smtp";
    // ATT&CK has no technique for sending spam; mass mail from a host or
    // account of ours is how phishing and mail worms are delivered.
    f.attack = "T1566";
    f.evidence = m.evidence.uids();
    f.evidence_total = m.evidence.total();
    const bool internal_host = !a.is_user && !a.hosts.empty() && internal_.is_internal(a.hosts.front());
    const auto mr = static_cast<double>(m.max_recipients);
    const auto mm = static_cast<double>(m.max_messages);
    if (mr >= high_recipients_ || mm >= high_messages_ ||
        (internal_host && static_cast<double>(m.max_servers) >= min_servers_)) {
      f.severity = Severity::kHigh;
      f.confidence = 0.8;
    } else if (mr >= medium_recipients_ || mm >= min_messages_) {
      f.severity = Severity::kMedium;
      f.confidence = 0.7;
    } else {
      f.severity = Severity::kLow;
      f.confidence = 0.5;
    }
    f.counts = {{"messages", m.messages},
                {"recipients", m.recipients},
                {"max_window_messages", m.max_messages},
                {"max_window_recipients", m.max_recipients},
                {"windows", m.hot_windows}};
    f.summary = (a.is_user ? "Account " : "") + src + " sent " + count_of(m.messages, "message", "messages") +
                " to " + count_of(m.recipients, "recipient", "recipients") + " through " +
                count_of(m.servers.count(), "mail server", "mail servers") + " (at most " +
                count_of(m.max_messages, "message", "messages") + " and " + std::to_string(m.max_recipients) +
" recipients in one " + std::to_string(window_ns_ / core::kNsPerSec) + " s window)";
    f.details.clear();
    output::JsonLine j(f.details);
    j.str("actor", a.is_user ? "account" : "host");
    std::vector<std::string> hosts;
    for (const auto& h : a.hosts.sample(kSample)) hosts.push_back(h.to_string());
    j.raw("hosts", json_strings(hosts));
    j.raw("mailfrom", json_strings(m.mailfrom.sample(kSample)));
    j.raw("recipients_sample", json_strings(m.sample_rcpts.sample(kSample)));
    j.raw("subjects", json_strings(m.subjects.sample(kSample)));
    j.u64("max_window_servers", m.max_servers);
    j.end_object();
    return f;
  }

  Finding phish_finding(const std::string& src, const Actor& a) const {
    const PhishState& p = *a.phish;
    Finding f;
    f.id = "mail.phishing";
    f.ts = p.span.first;
    f.last_ts = p.span.last;
    f.src = src;
    for (const auto& sv : p.servers.sample(kSample)) f.dst.push_back(sv.to_string());
    f.dst_count = p.servers.count();
    f.ports = p.ports.sample(16);
    f.service = "smtp";
    f.attack = p.risky_attachments ? "T1566.001" : "T1566";
    f.evidence = p.evidence.uids();
    f.evidence_total = p.evidence.total();
    const int kinds = (p.from_mismatch ? 1 : 0) + (p.risky_attachments ? 1 : 0) + (p.virus_rejections ? 1 : 0);
    int level = p.virus_rejections ? 3 : (p.risky_attachments ? 2 : 1);  // high / medium / low
    if (kinds >= 2) level = std::min(level + 1, 3);
    f.severity = level == 3 ? Severity::kHigh : (level == 2 ? Severity::kMedium : Severity::kLow);
    f.confidence = level == 3 ? 0.8 : (level == 2 ? 0.6 : 0.4);
    std::vector<std::string> signs;
    if (p.virus_rejections) {
      f.counts.emplace_back("virus_rejections", p.virus_rejections);
      signs.push_back(count_of(p.virus_rejections, "message", "messages") + " refused by the server as a virus");
    }
    if (p.risky_attachments) {
      f.counts.emplace_back("risky_attachments", p.risky_attachments);
      const auto names = p.attachment_names.sample(1);
      signs.push_back(count_of(p.risky_attachments, "executable or macro attachment", "executable or macro attachments") +
                      (names.empty() ? "" : " (" + names.front() + ")"));
    }
    if (p.from_mismatch) {
      f.counts.emplace_back("from_mismatch", p.from_mismatch);
      const auto froms = p.mismatched_from.sample(1);
      signs.push_back(count_of(p.from_mismatch, "message", "messages") + " with a From header (" +
                      (froms.empty() ? std::string() : froms.front()) + ") that is not the logged-in account");
    }
    f.summary = (a.is_user ? "Account " : "") + src + " sent mail with phishing signs: ";
    for (size_t i = 0; i < signs.size(); ++i) f.summary += (i ? "; " : "") + signs[i];
    f.details.clear();
    output::JsonLine j(f.details);
    j.str("actor", a.is_user ? "account" : "host");
    std::vector<std::string> hosts;
    for (const auto& h : a.hosts.sample(kSample)) hosts.push_back(h.to_string());
    j.raw("hosts", json_strings(hosts));
    j.raw("attachments", json_strings(p.attachment_names.sample(kSample)));
    j.raw("from_headers", json_strings(p.mismatched_from.sample(kSample)));
    j.raw("virus_replies", json_strings(p.replies.sample(kSample)));
    j.end_object();
    return f;
  }

  int64_t window_ns_;
  double min_messages_;
  double min_recipients_;
  double medium_recipients_;
  double high_recipients_;
  double high_messages_;
  double min_servers_;
  Networks internal_;
  std::map<std::string, Actor> actors_;
};

}  // namespace

void register_mail(Registry& r) {
  r.add("mail", [](Config& c) { return std::make_unique<MailDetector>(c); });
}

}  // namespace trawl::detect

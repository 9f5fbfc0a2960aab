#include "sinkhole/service_router.h"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "output/json_line.h"
#include "sinkhole/http_service.h"
#include "sinkhole/service_util.h"
#include "sinkhole/tls_session.h"

namespace trawl::sinkhole {

namespace {

enum class Match : uint8_t { kNo, kMaybe, kYes };

// `word` (upper-case) followed by a space or line end, case-insensitively.
Match command_word(std::string_view buf, std::string_view word) {
  const size_t n = std::min(buf.size(), word.size());
  for (size_t i = 0; i < n; ++i) {
    char c = buf[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != word[i]) return Match::kNo;
  }
  if (buf.size() <= word.size()) return Match::kMaybe;
  const char d = buf[word.size()];
  return d == ' ' || d == '\r' || d == '\n' ? Match::kYes : Match::kNo;
}

constexpr std::array<std::string_view, 18> kHttpMethods = {
    "GET",  "POST", "HEAD",  "PUT",     "DELETE", "OPTIONS", "PATCH", "TRACE",  "CONNECT",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT"};

// A known method and a space; or any upper-case token followed by " /" or
// " http" (made-up methods, which the HTTP session also answers).
Match http_request(std::string_view buf) {
  Match best = Match::kNo;
  for (std::string_view m : kHttpMethods) {
    const size_t n = std::min(buf.size(), m.size() + 1);
    if (std::string(m) + " " == buf.substr(0, m.size() + 1)) return Match::kYes;
    if (buf.substr(0, n) == (std::string(m) + " ").substr(0, n)) best = Match::kMaybe;
  }
  size_t i = 0;
  while (i < buf.size() && i < 20 && buf[i] >= 'A' && buf[i] <= 'Z') ++i;
  if (i == buf.size() && i < 20) return Match::kMaybe;
  if (i >= 3 && i < buf.size() && buf[i] == ' ') {
    const std::string_view rest = buf.substr(i + 1);
    if (rest.empty()) return Match::kMaybe;
    if (rest.front() == '/') return Match::kYes;
    const std::string_view scheme = "http";
    const size_t n = std::min(rest.size(), scheme.size());
    if (ascii_lower(rest.substr(0, n)) == scheme.substr(0, n)) return n == scheme.size() ? Match::kYes : Match::kMaybe;
  }
  return best;
}

// A DNS query behind its TCP length: length >= 12, QR clear, opcode QUERY/IQUERY/STATUS/NOTIFY/UPDATE.
Match dns_query(core::ByteView buf) {
  if (buf.size() < 2) return Match::kMaybe;
  if (core::load_be16(buf.data()) < 12) return Match::kNo;
  if (buf.size() < 5) return Match::kMaybe;
  const uint8_t flags = buf[4];
  if (flags & 0x80) return Match::kNo;
  return ((flags >> 3) & 0x0f) <= 5 ? Match::kYes : Match::kNo;
}

class DnsTcpService final : public ServiceSession {
 public:
  DnsTcpService(DnsResponder& responder, const SessionInfo& info) : session_(responder) { (void)info; }
  const char* name() const override { return "dns"; }
  void on_data(core::ByteView data, core::Timestamp, std::vector<uint8_t>& out) override {
    std::vector<DnsExchange> exchanges;
    if (!session_.feed(data, out, &exchanges)) close_ = true;
    for (const auto& x : exchanges) {
      ServiceEvent e;
      e.log = "sinkhole_dns";
      std::vector<std::string> ttls(x.answers.size(), std::to_string(x.ttl));
      std::string ttl_json = "[";
      for (size_t i = 0; i < ttls.size(); ++i) ttl_json += (i ? "," : "") + ttls[i];
      ttl_json += "]";
      output::JsonLine(e.json).str("proto", "tcp").u64("trans_id", x.id).str("query", x.query).u64("qclass", x.qclass)
          .u64("qtype", x.qtype).u64("rcode", x.rcode).raw("answers", json_string_array(x.answers))
          .raw("TTLs", ttl_json).boolean("TC", x.truncated).boolean("malformed", x.malformed).end_object();
      if (!x.query.empty() && !x.malformed) e.iocs.push_back({Ioc::Kind::kDomain, x.query});
      events_.push_back(std::move(e));
    }
  }
  bool wants_close() const override { return close_; }
  void take_events(std::vector<ServiceEvent>& out) override {
    for (auto& e : events_) out.push_back(std::move(e));
    events_.clear();
  }

 private:
  DnsTcpSession session_;
  std::vector<ServiceEvent> events_;
  bool close_ = false;
};

}  // namespace

// Holds the first bytes until they name the protocol (or the wait ends),
// then hands everything to the chosen session and forwards to it.
class SniffingSession final : public ServiceSession {
 public:
  SniffingSession(ServiceRouter& router, const SessionInfo& info, std::optional<ServiceKind> port_kind, bool in_tls)
      : router_(router), info_(info), port_kind_(port_kind), in_tls_(in_tls) {}

  const char* name() const override { return inner_ ? inner_->name() : "catchall"; }

  void on_open(core::Timestamp now, std::vector<uint8_t>& out) override {
    if (inner_) return inner_->on_open(now, out);
    deadline_ = now + router_.config_.sniff_wait_ns;
  }
  void on_data(core::ByteView data, core::Timestamp now, std::vector<uint8_t>& out) override {
    if (inner_) return inner_->on_data(data, now, out);
    buf_.insert(buf_.end(), data.begin(), data.end());
    decide(false, false, now, out);
  }
  void on_peer_closed(core::Timestamp now, std::vector<uint8_t>& out) override {
    if (!inner_) decide(true, false, now, out);
    inner_->on_peer_closed(now, out);
  }
  void on_closed(core::Timestamp now) override {
    if (!inner_) {
      std::vector<uint8_t> unsent;  // nothing can be sent any more
      decide(true, false, now, unsent);
    }
    inner_->on_closed(now);
  }
  void on_timer(core::Timestamp now, std::vector<uint8_t>& out) override {
    if (inner_) return inner_->on_timer(now, out);
    if (now >= deadline_) decide(true, true, now, out);
  }
  core::Timestamp next_deadline() const override { return inner_ ? inner_->next_deadline() : deadline_; }
  bool wants_close() const override { return inner_ && inner_->wants_close(); }
  void take_events(std::vector<ServiceEvent>& out) override {
    if (inner_) inner_->take_events(out);
  }

 private:
  // `silent`: the wait ended with nothing from the guest (only then may a banner go out).
  void decide(bool final, bool silent, core::Timestamp now, std::vector<uint8_t>& out) {
    const bool forced = final || buf_.size() >= router_.config_.sniff_max_bytes;
    std::optional<ServiceKind> kind = classify(forced);
    if (!kind) return;
    const bool quiet = silent && buf_.empty();
    if (quiet && *kind == ServiceKind::kCatchall && !bannered_ && !router_.config_.catchall.banner.empty()) {
      // The generic banner, then listen again: an SMTP or FTP client on an
      // unknown port answers it with EHLO or USER and gets the real service.
      append_text(out, router_.config_.catchall.banner);
      bannered_ = true;
      deadline_ = core::Timestamp{INT64_MAX};
      return;
    }
    inner_ = router_.start(*kind, info_, !quiet || bannered_, in_tls_, bannered_);
    inner_->on_open(now, out);
    if (!buf_.empty()) {
      std::vector<uint8_t> bytes = std::move(buf_);
      buf_.clear();
      inner_->on_data(bytes, now, out);
    }
  }

  // The service for the bytes so far; nullopt while more bytes could still change it.
  std::optional<ServiceKind> classify(bool forced) const {
    const std::string_view text = core::as_chars(buf_);
    const ServiceKind fallback = port_kind_.value_or(ServiceKind::kCatchall);
    if (buf_.empty()) return forced ? std::optional<ServiceKind>(fallback) : std::nullopt;
    bool maybe = false;
    auto consider = [&](Match m) {
      maybe = maybe || m == Match::kMaybe;
      return m == Match::kYes;
    };
    if (!in_tls_ && looks_like_tls(buf_)) {
      if (buf_.size() >= 3) return ServiceKind::kTls;
      maybe = true;
    }
    if (consider(command_word(text, "EHLO")) || consider(command_word(text, "HELO"))) return ServiceKind::kSmtp;
    if (bannered_) {  // after a 220, these are FTP's first commands
      for (std::string_view w : {"USER", "AUTH", "SYST", "FEAT", "OPTS"}) {
        if (consider(command_word(text, w))) return ServiceKind::kFtp;
      }
    }
    for (std::string_view w : {"NICK", "USER", "PASS", "CAP"}) {
      if (consider(command_word(text, w))) return ServiceKind::kIrc;
    }
    if (consider(http_request(text))) return ServiceKind::kHttp;
    if (port_kind_ == ServiceKind::kDns && consider(dns_query(buf_))) return ServiceKind::kDns;
    if (maybe && !forced) return std::nullopt;
    return fallback;
  }

  ServiceRouter& router_;
  SessionInfo info_;
  std::optional<ServiceKind> port_kind_;
  bool in_tls_;
  core::Timestamp deadline_{INT64_MAX};
  bool bannered_ = false;  // the generic banner went out; still choosing
  std::vector<uint8_t> buf_;
  std::unique_ptr<ServiceSession> inner_;
};

const char* to_string(ServiceKind k) {
  switch (k) {
    case ServiceKind::kHttp: return "http";
    case ServiceKind::kTls: return "tls";
    case ServiceKind::kSmtp: return "smtp";
    case ServiceKind::kPop3: return "pop3";
    case ServiceKind::kFtp: return "ftp";
    case ServiceKind::kIrc: return "irc";
    case ServiceKind::kDns: return "dns";
    case ServiceKind::kCatchall: return "catchall";
  }
  return "catchall";
}

std::optional<ServiceKind> parse_service_kind(std::string_view word) {
  for (ServiceKind k : {ServiceKind::kHttp, ServiceKind::kTls, ServiceKind::kSmtp, ServiceKind::kPop3, ServiceKind::kFtp,
                        ServiceKind::kIrc, ServiceKind::kDns, ServiceKind::kCatchall}) {
    if (word == to_string(k)) return k;
  }
  return std::nullopt;
}

bool is_server_first(ServiceKind k) {
  return k == ServiceKind::kSmtp || k == ServiceKind::kPop3 || k == ServiceKind::kFtp;
}

std::map<uint16_t, ServiceKind> default_service_ports() {
  std::map<uint16_t, ServiceKind> m;
  for (uint16_t p : std::initializer_list<uint16_t>{80, 81, 8000, 8008, 8080, 8888}) m[p] = ServiceKind::kHttp;
  // Implicit TLS: 465 SMTP, 993 IMAP, 995 POP3, 6697 IRC (inner services: default_tls_inner_ports).
  for (uint16_t p : std::initializer_list<uint16_t>{443, 465, 993, 995, 6697, 8443}) m[p] = ServiceKind::kTls;
  for (uint16_t p : std::initializer_list<uint16_t>{25, 587, 2525}) m[p] = ServiceKind::kSmtp;
  m[110] = ServiceKind::kPop3;
  m[21] = ServiceKind::kFtp;
  for (uint16_t p : std::initializer_list<uint16_t>{6665, 6666, 6667, 6668, 6669, 7000}) m[p] = ServiceKind::kIrc;
  m[53] = ServiceKind::kDns;
  return m;
}

std::map<uint16_t, ServiceKind> default_tls_inner_ports() {
  return {{465, ServiceKind::kSmtp}, {995, ServiceKind::kPop3}, {993, ServiceKind::kCatchall}, {6697, ServiceKind::kIrc}};
}

std::string check_config(const ServicesConfig& c) {
  if (c.sniff_wait_ns < 0) return "services: the sniffing wait must not be negative";
  if (c.sniff_max_bytes == 0) return "services: sniff_max_bytes must be at least 1";
  if (c.ftp.passive_port_first == 0 || c.ftp.passive_port_first > c.ftp.passive_port_last) {
    return "ftp: the passive port range must be 1-65535 with first <= last";
  }
  if (c.ftp.max_pending_data == 0 || c.ftp.max_line == 0) return "ftp: limits must be at least 1";
  if (c.smtp.max_message == 0 || c.smtp.max_line == 0 || c.smtp.max_recipients == 0 || c.smtp.max_messages == 0) {
    return "smtp: limits must be at least 1";
  }
  if (c.pop3.max_line == 0 || c.irc.max_line == 0) return "pop3/irc: max_line must be at least 1";
  if (c.catchall.max_logged == 0) return "catchall: max_logged must be at least 1";
  if (c.ports.count(0) || c.tls_inner.count(0)) return "services: port 0 cannot be mapped";
  return {};
}

ServiceRouter::ServiceRouter(ServicesConfig config, const HttpResponder& http, DnsResponder& dns, TlsAuthority* tls)
    : config_(std::move(config)), http_(http), dns_(dns), tls_(tls), ftp_broker_(config_.ftp) {}

std::unique_ptr<ServiceSession> ServiceRouter::open(const SessionInfo& info) {
  if (auto ch = ftp_broker_.claim(info)) return make_ftp_data_session(config_.ftp, info, std::move(ch));
  const auto it = config_.ports.find(info.server_port);
  if (it != config_.ports.end() && is_server_first(it->second)) return start(it->second, info, false, false);
  std::optional<ServiceKind> port_kind;
  if (it != config_.ports.end()) port_kind = it->second;
  return std::make_unique<SniffingSession>(*this, info, port_kind, false);
}

std::unique_ptr<ServiceSession> ServiceRouter::open_in_tls(const SessionInfo& info) {
  const auto it = config_.tls_inner.find(info.server_port);
  if (it != config_.tls_inner.end() && it->second != ServiceKind::kTls) {
    if (is_server_first(it->second)) return start(it->second, info, false, true);
    return std::make_unique<SniffingSession>(*this, info, it->second, true);
  }
  return std::make_unique<SniffingSession>(*this, info, ServiceKind::kHttp, true);
}

std::unique_ptr<ServiceSession> ServiceRouter::start(ServiceKind kind, const SessionInfo& info, bool guest_spoke,
                                                     bool in_tls, bool bannered) {
  switch (kind) {
    case ServiceKind::kHttp:
      if (in_tls) return make_http_session(http_, info, true);
      // After CONNECT: sniffed again, as a new connection to no known port.
      return make_http_session(http_, info, false, [this](const SessionInfo& i) {
        return std::make_unique<SniffingSession>(*this, i, std::nullopt, false);
      });
    case ServiceKind::kTls:
      if (tls_ && !in_tls) {
        return make_tls_session(*tls_, info, [this](const SessionInfo& i) { return open_in_tls(i); });
      }
      return make_catchall_session(config_.catchall, info, 0, false, "ssl");
    case ServiceKind::kSmtp: return make_smtp_session(config_.smtp, info, !guest_spoke, in_tls ? nullptr : tls_, in_tls);
    case ServiceKind::kPop3: return make_pop3_session(config_.pop3, info);
    case ServiceKind::kFtp: return make_ftp_session(config_.ftp, info, ftp_broker_, !bannered);
    case ServiceKind::kIrc: return make_irc_session(config_.irc, info);
    case ServiceKind::kDns: return make_dns_tcp_session(dns_, info);
    case ServiceKind::kCatchall: break;
  }
  // Sniffing already waited: the banner goes out at once if the guest is silent.
  return make_catchall_session(config_.catchall, info, 0, !guest_spoke, "catchall", bannered);
}

std::unique_ptr<ServiceSession> make_dns_tcp_session(DnsResponder& responder, const SessionInfo& info) {
  return std::make_unique<DnsTcpService>(responder, info);
}

}  // namespace trawl::sinkhole

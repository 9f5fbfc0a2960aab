#include "sinkhole/mail_services.h"

#include <algorithm>
#include <cstdio>

#include "output/json_line.h"
#include "sinkhole/service_util.h"
#include "sinkhole/tls_session.h"

namespace trawl::sinkhole {

namespace {

constexpr size_t kMaxLogged = 1000;  // header values in records (RFC 5322's line length)

std::string clip(std::string_view s) { return std::string(s.substr(0, kMaxLogged)); }

// Subject/From/To of a message's header block (folded lines joined).
struct MessageHeaders {
  std::string subject, from, to;
};

MessageHeaders read_headers(const std::vector<uint8_t>& msg) {
  MessageHeaders h;
  std::string_view text(reinterpret_cast<const char*>(msg.data()), msg.size());
  std::string* last = nullptr;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header block
    if ((line.front() == ' ' || line.front() == '\t') && last) {
      if (last->size() < kMaxLogged) *last = clip(*last + " " + std::string(trim_spaces(line)));
      continue;
    }
    last = nullptr;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = ascii_lower(trim_spaces(line.substr(0, colon)));
    std::string* field = name == "subject" ? &h.subject : name == "from" ? &h.from : name == "to" ? &h.to : nullptr;
    if (field && field->empty()) {
      *field = clip(trim_spaces(line.substr(colon + 1)));
      last = field;
    }
  }
  return h;
}

class SmtpSession final : public LineSession {
 public:
  // starttls: the CA that terminates STARTTLS (nullptr: not offered);
  // in_tls: this session already runs inside TLS (implicit, or after STARTTLS).
  SmtpSession(const SmtpConfig& config, const SessionInfo& info, bool banner, TlsAuthority* starttls, bool in_tls)
      : LineSession(info, config.max_line), config_(config), banner_(banner), ca_(starttls), in_tls_(in_tls) {}
  const char* name() const override { return "smtp"; }

  void on_open(core::Timestamp, std::vector<uint8_t>& out) override {
    if (banner_) reply(out, "220 " + config_.hostname + " " + config_.banner);
  }

  // After STARTTLS every byte belongs to the TLS session, which runs a fresh
  // SMTP session on the plaintext (RFC 3207: the client starts over with EHLO).
  void on_data(core::ByteView data, core::Timestamp now, std::vector<uint8_t>& out) override {
    if (tls_) return tls_->on_data(data, now, out);
    LineSession::on_data(data, now, out);
    if (tls_) log_starttls(data.subspan(data.size() - unread_));
  }
  void on_peer_closed(core::Timestamp now, std::vector<uint8_t>& out) override {
    if (tls_) tls_->on_peer_closed(now, out);
  }
  void on_timer(core::Timestamp now, std::vector<uint8_t>& out) override {
    if (tls_) tls_->on_timer(now, out);
  }
  core::Timestamp next_deadline() const override {
    return tls_ ? tls_->next_deadline() : core::Timestamp{INT64_MAX};
  }
  bool wants_close() const override { return tls_ ? tls_->wants_close() : close_; }
  void take_events(std::vector<ServiceEvent>& out) override {
    LineSession::take_events(out);
    if (tls_) tls_->take_events(out);
  }

  void on_closed(core::Timestamp now) override {
    // A message cut off by the end of the connection is still kept.
    if (raw_ && message_bytes_ > 0) emit_message(false);
    raw_ = false;
    if (tls_) tls_->on_closed(now);
  }

 protected:
  void on_line_too_long(std::vector<uint8_t>& out) override { reply(out, "500 5.5.0 Error: line too long"); }

  void on_line(std::string_view line, core::Timestamp, std::vector<uint8_t>& out) override {
    if (auth_ != Auth::kNone) return auth_step(line, out);
    auto [verb, arg] = split_command(line);
    if (verb == "HELO" || verb == "EHLO") {
      helo_ = clip(arg);
      reset();
      if (verb == "HELO") return reply(out, "250 " + config_.hostname);
      // Postfix's order; STARTTLS only where it can be done.
      reply(out, "250-" + config_.hostname + "\r\n250-PIPELINING\r\n250-SIZE " + std::to_string(config_.max_message) +
                     (offers_starttls() ? "\r\n250-STARTTLS" : "") +
                     "\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SMTPUTF8");
    } else if (verb == "MAIL") {
      reset();
      mailfrom_ = clip(mail_path_address(arg));
      in_transaction_ = true;
      reply(out, "250 2.1.0 Ok");
    } else if (verb == "RCPT") {
      if (!in_transaction_) return reply(out, "503 5.5.1 Error: need MAIL command");
      if (rcptto_.size() >= config_.max_recipients) return reply(out, "452 4.5.3 Error: too many recipients");
      rcptto_.push_back(clip(mail_path_address(arg)));
      reply(out, "250 2.1.5 Ok");
    } else if (verb == "DATA") {
      if (rcptto_.empty()) return reply(out, "554 5.5.1 Error: no valid recipients");
      reply(out, "354 End data with <CR><LF>.<CR><LF>");
      raw_ = true;
      bol_ = true;
      dot_ = dot_cr_ = false;
      message_.clear();
      message_bytes_ = 0;
    } else if (verb == "RSET") {
      reset();
      reply(out, "250 2.0.0 Ok");
    } else if (verb == "NOOP") {
      reply(out, "250 2.0.0 Ok");
    } else if (verb == "VRFY") {
      reply(out, "252 2.0.0 " + clip(arg));
    } else if (verb == "HELP") {
      reply(out, "214 2.0.0 See RFC 5321");
    } else if (verb == "STARTTLS") {
      start_tls(arg, out);
    } else if (verb == "AUTH") {
      start_auth(arg, out);
    } else if (verb == "QUIT") {
      reply(out, "221 2.0.0 Bye");
      close_ = true;
    } else {
      reply(out, "502 5.5.2 Error: command not recognized");
    }
  }

  // The DATA phase: stores bytes (dot-unstuffed) until <CRLF>.<CRLF>.
  size_t on_raw(core::ByteView data, core::Timestamp, std::vector<uint8_t>& out) override {
    for (size_t i = 0; i < data.size(); ++i) {
      const uint8_t c = data[i];
      if (dot_) {
        if (c == '\n') {
          finish_message(out);
          return i + 1;
        }
        if (c == '\r' && !dot_cr_) {
          dot_cr_ = true;
          continue;
        }
        // The dot was stuffing (or a lone "\r" followed it): drop the dot.
        if (dot_cr_) store('\r');
        dot_ = dot_cr_ = false;
        bol_ = false;
      } else if (bol_ && c == '.') {
        dot_ = true;
        continue;
      }
      store(c);
      bol_ = c == '\n';
    }
    return data.size();
  }

 private:
  enum class Auth : uint8_t { kNone, kPlain, kLoginUser, kLoginPass };

  static void reply(std::vector<uint8_t>& out, std::string_view text) {
    append_text(out, text);
    append_text(out, "\r\n");
  }
  void reset() {
    in_transaction_ = false;
    mailfrom_.clear();
    rcptto_.clear();
  }

  bool offers_starttls() const { return ca_ && !in_tls_; }

  // RFC 3207: "220", then TLS from the client's next byte. Plaintext the
  // client pipelined behind the command is not read as SMTP (STARTTLS ends a
  // pipelined group, RFC 2920 section 3.1; reading it was the command
  // injection of CVE-2011-0411), so on_data stops reading lines here and
  // logs those bytes instead.
  void start_tls(std::string_view arg, std::vector<uint8_t>& out) {
    if (in_tls_) return reply(out, "554 5.5.1 Error: TLS already active");
    if (!ca_) return reply(out, "454 4.7.0 TLS not available due to local problem");
    if (!arg.empty()) return reply(out, "501 5.5.4 Syntax: STARTTLS");
    reply(out, "220 2.0.0 Ready to start TLS");
    // The config is the router's and outlives every session.
    tls_ = make_tls_session(*ca_, info_, [&cfg = config_](const SessionInfo& i) -> std::unique_ptr<ServiceSession> {
      return std::make_unique<SmtpSession>(cfg, i, false, nullptr, true);
    });
    stop_lines_ = true;
  }

  // The upgrade, and what the client sent behind STARTTLS before the 220
  // (dropped, but evidence: the first kMaxPipelinedLogged bytes as hex and text).
  void log_starttls(core::ByteView pipelined) {
    static constexpr size_t kMaxPipelinedLogged = 256;
    const core::ByteView head = pipelined.subspan(0, std::min(pipelined.size(), kMaxPipelinedLogged));
    std::string j;
    output::JsonLine line(j);
    line.str("event", "starttls").str("helo", helo_).u64("pipelined_bytes", pipelined.size());
    if (!head.empty()) line.str("pipelined_hex", hex_bytes(head)).str("pipelined_text", printable_text(head));
    line.end_object();
    emit("sinkhole_smtp", std::move(j));
  }
  void store(uint8_t c) {
    ++message_bytes_;
    if (message_.size() < config_.max_message) message_.push_back(c);
  }

  void start_auth(std::string_view arg, std::vector<uint8_t>& out) {
    auto [mech, initial] = split_command(arg);
    mechanism_ = mech;
    if (mech == "PLAIN") {
      if (initial.empty() || initial == "=") {
        auth_ = Auth::kPlain;
        return reply(out, "334 ");
      }
      return plain(initial, out);
    }
    if (mech == "LOGIN") {
      if (initial.empty()) {
        auth_ = Auth::kLoginUser;
        return reply(out, "334 VXNlcm5hbWU6");  // "Username:"
      }
      if (!base64_decode(initial, user_)) return reply(out, "501 5.5.2 Cannot decode response");
      user_ = clip(user_);
      auth_ = Auth::kLoginPass;
      return reply(out, "334 UGFzc3dvcmQ6");  // "Password:"
    }
    reply(out, "504 5.5.4 Unrecognized authentication type");
  }

  void auth_step(std::string_view line, std::vector<uint8_t>& out) {
    const Auth step = auth_;
    auth_ = Auth::kNone;
    if (trim_spaces(line) == "*") return reply(out, "501 5.7.0 Authentication aborted");
    if (step == Auth::kPlain) return plain(trim_spaces(line), out);
    std::string decoded;
    if (!base64_decode(trim_spaces(line), decoded)) return reply(out, "501 5.5.2 Cannot decode response");
    if (step == Auth::kLoginUser) {
      user_ = clip(decoded);
      auth_ = Auth::kLoginPass;
      return reply(out, "334 UGFzc3dvcmQ6");
    }
    authenticated(clip(decoded), out);
  }

  // "authzid NUL user NUL password".
  void plain(std::string_view b64, std::vector<uint8_t>& out) {
    std::string decoded;
    if (!base64_decode(b64, decoded)) return reply(out, "501 5.5.2 Cannot decode response");
    const size_t a = decoded.find('\0');
    const size_t b = a == std::string::npos ? std::string::npos : decoded.find('\0', a + 1);
    if (b == std::string::npos) return reply(out, "501 5.5.2 Invalid authentication data");
    user_ = clip(decoded.substr(a + 1, b - a - 1));
    authenticated(clip(decoded.substr(b + 1)), out);
  }

  void authenticated(const std::string& password, std::vector<uint8_t>& out) {
    auth_user_ = user_;
    std::string j;
    output::JsonLine(j).str("event", "auth").str("helo", helo_).str("mechanism", mechanism_)
        .str("user", user_).str("password", password).end_object();
    emit("sinkhole_smtp", std::move(j));
    reply(out, "235 2.7.0 Authentication successful");
  }

  void finish_message(std::vector<uint8_t>& out) {
    raw_ = false;
    dot_ = dot_cr_ = false;
    const bool too_big = message_bytes_ > config_.max_message;
    emit_message(true);
    if (too_big) {
      reply(out, "552 5.3.4 Error: message file too big");
    } else {
      char id[32];
      std::snprintf(id, sizeof id, "%llX%04zX", static_cast<unsigned long long>(info_.conn), messages_);
      reply(out, std::string("250 2.0.0 Ok: queued as ") + id);
    }
    reset();
    if (messages_ >= config_.max_messages) {
      reply(out, "421 4.7.0 " + config_.hostname + " Error: too many messages");
      close_ = true;
    }
  }

  void emit_message(bool complete) {
    ++messages_;
    const MessageHeaders h = read_headers(message_);
    std::string j;
    output::JsonLine line(j);
    line.str("event", "message").u64("trans_depth", messages_).str("helo", helo_).str("mailfrom", mailfrom_)
        .raw("rcptto", json_string_array(rcptto_)).str("from", h.from).str("to", h.to).str("subject", h.subject)
        .u64("msg_bytes", message_bytes_).boolean("truncated", message_bytes_ > message_.size())
        .boolean("complete", complete);
    if (!auth_user_.empty()) line.str("auth_user", auth_user_);
    if (in_tls_) line.boolean("tls", true);
    line.end_object();
    ServiceEvent e;
    e.log = "sinkhole_smtp";
    e.json = std::move(j);
    if (!mailfrom_.empty()) e.iocs.push_back({Ioc::Kind::kEmail, mailfrom_});
    for (const auto& r : rcptto_) {
      if (!r.empty()) e.iocs.push_back({Ioc::Kind::kEmail, r});
    }
    e.artifact_kind = "smtp_message";
    e.artifact = std::move(message_);
    message_.clear();
    message_bytes_ = 0;
    events_.push_back(std::move(e));
  }

  const SmtpConfig& config_;
  bool banner_;
  TlsAuthority* ca_;
  bool in_tls_;
  std::unique_ptr<ServiceSession> tls_;  // after STARTTLS
  Auth auth_ = Auth::kNone;
  std::string mechanism_, user_, auth_user_;
  std::string helo_, mailfrom_;
  std::vector<std::string> rcptto_;
  bool in_transaction_ = false;
  std::vector<uint8_t> message_;
  uint64_t message_bytes_ = 0;
  size_t messages_ = 0;
  bool bol_ = true, dot_ = false, dot_cr_ = false;
};

class Pop3Session final : public LineSession {
 public:
  Pop3Session(const Pop3Config& config, const SessionInfo& info) : LineSession(info, config.max_line), config_(config) {}
  const char* name() const override { return "pop3"; }

  void on_open(core::Timestamp now, std::vector<uint8_t>& out) override {
    // The timestamp lets clients use APOP (RFC 1939 section 7).
    reply(out, "+OK " + config_.banner + " <" + std::to_string(info_.conn) + "." + std::to_string(now.sec()) + "@" +
                   config_.hostname + ">");
  }

 protected:
  void on_line_too_long(std::vector<uint8_t>& out) override { reply(out, "-ERR Line too long."); }

  void on_line(std::string_view line, core::Timestamp, std::vector<uint8_t>& out) override {
    auto [verb, arg] = split_command(line);
    const std::string& msg = pop3_fake_message();
    const std::string size = std::to_string(msg.size());
    if (verb == "CAPA") {
      reply(out, "+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.");
    } else if (verb == "USER") {
      user_ = std::string(arg.substr(0, 256));
      reply(out, "+OK");
    } else if (verb == "PASS") {
      login("PASS", "password", arg);
      reply(out, "+OK Logged in.");
    } else if (verb == "APOP") {
      const size_t sp = arg.find(' ');
      user_ = std::string(arg.substr(0, std::min<size_t>(sp, 256)));
      login("APOP", "digest", sp == std::string_view::npos ? std::string_view{} : trim_spaces(arg.substr(sp + 1)));
      reply(out, "+OK Logged in.");
    } else if (verb == "STAT") {
      reply(out, "+OK 1 " + size);
    } else if (verb == "LIST" || verb == "UIDL") {
      const std::string item = verb == "LIST" ? size : "fa1e0001";
      if (arg.empty()) return reply(out, "+OK 1 messages\r\n1 " + item + "\r\n.");
      if (arg != "1") return reply(out, "-ERR There's no message " + std::string(arg.substr(0, 32)) + ".");
      reply(out, "+OK 1 " + item);
    } else if (verb == "RETR" || verb == "TOP") {
      log_command(verb, arg);
      if (arg.substr(0, arg.find(' ')) != "1") return reply(out, "-ERR There's no message.");
      append_text(out, "+OK " + size + " octets\r\n");
      if (verb == "RETR") {
        append_text(out, msg);
      } else {
        // The header block and the first n body lines (RFC 1939 TOP msg n).
        const size_t sp = arg.find(' ');
        const std::string_view count = sp == std::string_view::npos ? std::string_view{} : trim_spaces(arg.substr(sp + 1));
        size_t lines = 0;
        for (char c : count.substr(0, 6)) {
          if (c < '0' || c > '9') break;
          lines = lines * 10 + static_cast<size_t>(c - '0');
        }
        size_t end = msg.find("\r\n\r\n") + 4;
        for (; lines > 0 && end < msg.size(); --lines) {
          const size_t eol = msg.find("\r\n", end);
          end = eol == std::string::npos ? msg.size() : eol + 2;
        }
        append_text(out, std::string_view(msg).substr(0, end));
      }
      reply(out, ".");
    } else if (verb == "DELE") {
      log_command(verb, arg);
      reply(out, "+OK Marked to be deleted.");
    } else if (verb == "NOOP" || verb == "RSET") {
      reply(out, "+OK");
    } else if (verb == "QUIT") {
      reply(out, "+OK Logging out.");
      close_ = true;
    } else {
      reply(out, "-ERR Unknown command.");
    }
  }

 private:
  static void reply(std::vector<uint8_t>& out, std::string_view text) {
    append_text(out, text);
    append_text(out, "\r\n");
  }
  void login(std::string_view command, std::string_view field, std::string_view secret) {
    std::string j;
    output::JsonLine(j).str("command", command).str("user", user_).str(field, secret.substr(0, 256)).end_object();
    emit("sinkhole_pop3", std::move(j));
  }
  void log_command(std::string_view command, std::string_view arg) {
    std::string j;
    output::JsonLine(j).str("command", command).str("arg", arg.substr(0, 256)).str("user", user_).end_object();
    emit("sinkhole_pop3", std::move(j));
  }

  const Pop3Config& config_;
  std::string user_;
};

}  // namespace

const std::string& pop3_fake_message() {
  static const std::string kMessage =
      "Return-Path: <noreply@example.com>\r\n"
      "From: Administrator <noreply@example.com>\r\n"
      "To: user@example.com\r\n"
      "Subject: Welcome\r\n"
      "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
      "Message-ID: <welcome-1@example.com>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=us-ascii\r\n"
      "\r\n"
      "Your mailbox is ready.\r\n";
  return kMessage;
}

std::unique_ptr<ServiceSession> make_smtp_session(const SmtpConfig& config, const SessionInfo& info, bool banner,
                                                  TlsAuthority* starttls, bool in_tls) {
  return std::make_unique<SmtpSession>(config, info, banner, config.starttls ? starttls : nullptr, in_tls);
}

std::unique_ptr<ServiceSession> make_pop3_session(const Pop3Config& config, const SessionInfo& info) {
  return std::make_unique<Pop3Session>(config, info);
}

}  // namespace trawl::sinkhole

#include "analyzers/smtp/smtp_analyzer.h"

#include <algorithm>

#include "analyzers/common/text.h"

namespace trawl::analyzers::smtp {

namespace {

constexpr size_t kMaxHelo = 1024;
constexpr size_t kMaxMechName = 32;
constexpr size_t kMaxSaslResponse = 16384;  // decoded; the line may be 4/3 of it (GSSAPI tickets are long)
constexpr size_t kMaxSaslLine = 22000;

core::ByteView bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

bool valid_verb(std::string_view v) {
  if (v.empty() || v.size() > 20) return false;
  const auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (!alpha(v[0])) return false;
  return std::all_of(v.begin(), v.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9') || c == '-' || c == '_'; });
}

std::string upper(std::string_view s, size_t max) {
  std::string out(s.substr(0, max));
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// Zeek's policy/protocols/smtp/software.zeek webmail_user_agents.
bool webmail_agent(std::string_view ua) {
  return ua.starts_with("iPlanet Messenger") || ua.starts_with("Sun Java(tm) System Messenger Express") ||
         ua.find("(IMP)") != std::string_view::npos || ua.starts_with("SquirrelMail") ||
         ua.starts_with("NeoMail") || ua.find("ZimbraWebClient") != std::string_view::npos;
}

}  // namespace

SmtpAnalyzer::SmtpAnalyzer(Context& ctx, SmtpLimits limits)
    : ctx_(ctx),
      limits_(limits),
      client_lines_(std::max(limits.max_command_line, kMaxSaslLine)),
      server_lines_(limits.max_reply_line),
      mime_(ctx.anomalies(), limits.mime) {
  mime_.set_header_handler([this](std::string_view name, std::string_view value) { on_header(name, value); });
}

void SmtpAnalyzer::data(bool is_orig, core::ByteView bytes, core::Timestamp ts) {
  if (stopped_) return;
  if (is_orig) {
    client_data(core::as_chars(bytes), ts);
  } else {
    server_data(core::as_chars(bytes), ts);
  }
}

// --- client ------------------------------------------------------------------

void SmtpAnalyzer::client_data(std::string_view s, core::Timestamp ts) {
  while (!s.empty() && !stopped_) {
    switch (cstate_) {
      case Client::kSkipLine: {
        const size_t nl = s.find('\n');
        if (nl == std::string_view::npos) {
          skipped_[0] += s.size();
          while (skipped_[0] >= limits_.max_command_line && !stopped_) {
            skipped_[0] -= limits_.max_command_line;
            bad_line();
          }
          return;
        }
        s.remove_prefix(nl + 1);
        skipped_[0] = 0;
        cstate_ = Client::kCommand;
        break;
      }
      case Client::kCommand: {
        const size_t n = client_lines_.feed(
            bytes_of(s), [&](std::string_view line, bool truncated) { return on_command(line, truncated, ts); });
        s.remove_prefix(n);
        // (The reader keeps up to kMaxSaslLine: AUTH lines and SASL responses may be that long.)
        if (cstate_ == Client::kCommand && client_lines_.pending() >= kMaxSaslLine) {
          // A line that never ends (binary data?): skip it, and count it as not SMTP.
          ctx_.anomalies().add(kAnomCommandTooLong);
          client_lines_.reset();
          cstate_ = Client::kSkipLine;
          bad_line();
        }
        break;
      }
      case Client::kDataPending:
        // The client sends its message before (or without) waiting for 354.
        cstate_ = Client::kData;
        [[fallthrough]];
      case Client::kData:
        s.remove_prefix(data_bytes(s, ts));
        break;
      case Client::kBdat: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(bdat_remaining_, s.size()));
        feed_mime(s.substr(0, n));
        bdat_remaining_ -= n;
        s.remove_prefix(n);
        if (bdat_remaining_ == 0) {
          cstate_ = Client::kCommand;
          if (bdat_last_) finish_message(Cmd::kBdatLast, ts);
        }
        break;
      }
    }
  }
}

bool SmtpAnalyzer::on_command(std::string_view line, bool truncated, core::Timestamp ts) {
  if (stopped_) return false;
  if (auth_.active && auth_.awaiting_response) {
    if (truncated || line.size() > kMaxSaslLine) {
      ctx_.anomalies().add(kAnomCommandTooLong);
      line = line.substr(0, kMaxSaslLine);
    }
    auth_response(line);
    return true;
  }
  const size_t max_line = istarts_with(line, "AUTH ") ? kMaxSaslLine : limits_.max_command_line;
  if (truncated || line.size() > max_line) {
    ctx_.anomalies().add(kAnomCommandTooLong);
    line = line.substr(0, max_line);
  }
  const SmtpCommand c = parse_command(line);
  if (!valid_verb(c.verb)) {
    // Still a line the server answers (500 ...).
    ctx_.anomalies().add(kAnomBadCommand);
    push(Cmd::kOther);
    bad_line();
    return !stopped_;
  }
  bad_lines_ = 0;
  const std::string_view v = c.verb;
  if (iequals(v, "EHLO") || iequals(v, "HELO")) {
    push(Cmd::kHelo);
    helo_.assign(c.arg.substr(0, kMaxHelo));
    has_helo_ = true;
    session_activity_ = true;
    ensure_record(ts);
    cur_->helo = helo_;
    cur_->has_helo = true;
  } else if (iequals(v, "MAIL") && istarts_with(c.arg, "FROM:")) {
    push(Cmd::kMail);
    ensure_record(ts);
    if (activity_) {
      // A new transaction without the previous one's end (RSET, a refused
      // DATA): the previous one is written as it is, as Zeek does.
      emit_current();
      if (stopped_) return false;
      ensure_record(ts);
    }
    std::string from = extract_first_email_addr(c.arg);
    if (!from.empty()) cur_->mailfrom = std::move(from);
    activity_ = true;
    mail_seen_ = true;
    rcpt_seen_ = false;
    message_open_ = false;  // a new transaction: its message starts afresh
  } else if (iequals(v, "RCPT") && istarts_with(c.arg, "TO:")) {
    push(Cmd::kRcpt);
    ensure_record(ts);
    std::vector<std::string> addrs;
    extract_email_addrs(c.arg, addrs, 16);
    for (std::string& a : addrs) {
      if (a.starts_with("ORCPT=rfc822")) a.erase(0, 12);  // Zeek strips the DSN original-recipient prefix
      if (a.empty() || rcpt_index_.count(a) != 0) continue;
      if (cur_->rcptto.size() >= limits_.max_recipients) {
        if (!rcpt_limit_hit_) ctx_.anomalies().add(kAnomTooManyRecipients);
        rcpt_limit_hit_ = true;
        break;
      }
      rcpt_index_.insert(a);
      cur_->rcptto.push_back(std::move(a));
    }
    activity_ = true;
    if (!mail_seen_) ctx_.anomalies().add(kAnomTransactionInvalid);
    rcpt_seen_ = true;
  } else if (iequals(v, "DATA")) {
    push(Cmd::kData);
    ensure_record(ts);
    if (!rcpt_seen_) ctx_.anomalies().add(kAnomTransactionInvalid);
    activity_ = true;
    if (!message_open_) {
      mime_.begin();
      message_open_ = true;
    }
    cstate_ = Client::kDataPending;
    dot_ = Dot::kLineStart;
    data_line_len_ = 0;
    data_line_flagged_ = false;
    data_gap_ = false;
    return false;  // the rest of this call's bytes are message content
  } else if (iequals(v, "BDAT")) {
    uint64_t size = 0;
    bool last = false;
    if (!parse_bdat(c.arg, size, last)) {
      ctx_.anomalies().add(kAnomBadBdat);
      push(Cmd::kOther);
      return true;
    }
    push(last ? Cmd::kBdatLast : Cmd::kBdat);
    ensure_record(ts);
    if (!rcpt_seen_) ctx_.anomalies().add(kAnomTransactionInvalid);
    activity_ = true;
    if (!message_open_) {
      mime_.begin();
      message_open_ = true;
    }
    bdat_remaining_ = size;
    bdat_last_ = last;
    if (size == 0) {
      if (last) finish_message(Cmd::kBdatLast, ts);
      return true;
    }
    cstate_ = Client::kBdat;
    return false;
  } else if (iequals(v, "AUTH")) {
    push(Cmd::kAuth);
    ensure_record(ts);
    session_activity_ = true;
    if (auth_.active) finish_auth(AuthOutcome::kUnknown, {});  // a new AUTH before the old one's answer
    const SmtpCommand m = parse_command(c.arg);
    auth_ = AuthAttempt{};
    auth_.active = true;
    auth_.mech_name = upper(m.verb, kMaxMechName);
    auth_.mech = sasl_mech(m.verb);
    auth_.ts = ts;
    if (!m.arg.empty()) {
      if (m.arg == "=") {
        ++auth_.responses;  // an empty initial response (RFC 4954)
      } else {
        auth_response(m.arg);
      }
    }
  } else if (iequals(v, "STARTTLS")) {
    push(Cmd::kStartTls);
  } else {
    push(Cmd::kOther);
  }
  return true;
}

size_t SmtpAnalyzer::data_bytes(std::string_view s, core::Timestamp ts) {
  size_t i = 0;
  while (i < s.size()) {
    switch (dot_) {
      case Dot::kLineStart:
        data_line_len_ = 0;
        if (s[i] == '.') {
          dot_ = Dot::kDot;
          ++i;
          continue;
        }
        dot_ = Dot::kMid;
        continue;
      case Dot::kDot:
        if (s[i] == '\r') {
          dot_ = Dot::kDotCr;
          ++i;
          continue;
        }
        if (s[i] == '\n') {
          finish_message(Cmd::kDataEnd, ts);
          return i + 1;
        }
        dot_ = Dot::kMid;  // a stuffed dot (RFC 5321 4.5.2): dropped
        continue;
      case Dot::kDotCr:
        if (s[i] == '\n') {
          finish_message(Cmd::kDataEnd, ts);
          return i + 1;
        }
        feed_mime("\r");
        dot_ = Dot::kMid;
        continue;
      case Dot::kMid: {
        const size_t nl = s.find('\n', i);
        const size_t end = nl == std::string_view::npos ? s.size() : nl + 1;
        feed_mime(s.substr(i, end - i));
        data_line_len_ += end - i;
        if (data_line_len_ > limits_.max_data_line && !data_line_flagged_) {
          ctx_.anomalies().add(kAnomDataLineTooLong);
          data_line_flagged_ = true;
        }
        i = end;
        if (nl != std::string_view::npos) dot_ = Dot::kLineStart;
        continue;
      }
    }
  }
  return i;
}

void SmtpAnalyzer::feed_mime(std::string_view s) {
  if (!s.empty()) mime_.feed(s);
}

void SmtpAnalyzer::on_header(std::string_view name, std::string_view value) {
  if (!cur_) return;
  SmtpRecord& r = *cur_;
  const auto keep = [&](std::string& field, bool& has) {
    field.assign(value.substr(0, limits_.max_field));
    has = true;
  };
  if (iequals(name, "Message-ID")) {
    keep(r.msg_id, r.has_msg_id);
  } else if (iequals(name, "Received")) {
    // Zeek's order: first_received ends as the last Received header.
    if (r.has_first_received) {
      r.second_received = std::move(r.first_received);
      r.has_second_received = true;
    }
    keep(r.first_received, r.has_first_received);
    std::vector<core::IpAddress> ips;
    extract_ip_addresses(value, true, ips, 2);
    if (!ips.empty()) {
      const core::IpAddress ip = ips.size() > 1 ? ips[1] : ips[0];
      if (r.path.empty() || r.path.back() != ip) {
        if (r.path.size() >= limits_.max_path) {
          ctx_.anomalies().add(kAnomPathTooLong);
        } else {
          r.path.push_back(ip);
        }
      }
    }
  } else if (iequals(name, "In-Reply-To")) {
    keep(r.in_reply_to, r.has_in_reply_to);
  } else if (iequals(name, "Subject")) {
    r.subject = decode_encoded_words(value, limits_.max_field);
    r.has_subject = true;
  } else if (iequals(name, "From")) {
    keep(r.from, r.has_from);
  } else if (iequals(name, "Reply-To")) {
    keep(r.reply_to, r.has_reply_to);
  } else if (iequals(name, "Date")) {
    keep(r.date, r.has_date);
  } else if (iequals(name, "To") || iequals(name, "Cc")) {
    const bool to = iequals(name, "To");
    std::vector<std::string>& list = to ? r.to : r.cc;
    const size_t max = to ? limits_.max_to : limits_.max_cc;
    (to ? r.has_to : r.has_cc) = true;
    split_mime_addresses(value, list, max + 1);
    if (list.size() > max) {
      list.resize(max);
      ctx_.anomalies().add(to ? kAnomTooManyTo : kAnomTooManyCc);
    }
  } else if (iequals(name, "X-Originating-IP")) {
    std::vector<core::IpAddress> ips;
    extract_ip_addresses(value, false, ips, 1);
    if (!ips.empty()) {
      r.x_originating_ip = ips[0];
      r.has_x_originating_ip = true;
    }
  } else if (iequals(name, "X-Mailer") || iequals(name, "User-Agent") || iequals(name, "X-User-Agent")) {
    keep(r.user_agent, r.has_user_agent);
  }
}

void SmtpAnalyzer::finish_message(Cmd kind, core::Timestamp ts) {
  cstate_ = Client::kCommand;
  dot_ = Dot::kLineStart;
  ensure_record(ts);
  mime_.end();
  message_open_ = false;
  cur_->attachments = mime_.attachments();
  ++messages_;
  mail_seen_ = false;
  rcpt_seen_ = false;
  data_gap_ = false;
  std::unique_ptr<SmtpRecord> done = std::move(cur_);
  activity_ = false;
  if (kind == Cmd::kBdatLast && !queue_.empty() && queue_.back().cmd == Cmd::kBdatLast && !queue_.back().record) {
    queue_.back().record = std::move(done);  // its command is already waiting for the reply
  } else if (kind == Cmd::kBdatLast) {
    emit_record(std::move(done));
  } else {
    push(Cmd::kDataEnd, std::move(done));
  }
}

// --- AUTH ----------------------------------------------------------------------

void SmtpAnalyzer::auth_response(std::string_view line) {
  auth_.awaiting_response = false;
  const std::string_view t = trim(line);
  if (t == "*") {
    auth_.cancelled = true;
    return;
  }
  const size_t index = auth_.responses++;
  auto decoded = base64_decode(t, kMaxSaslResponse);
  if (!decoded) {
    ctx_.anomalies().add(kAnomBadAuthResponse);
    return;
  }
  if (!sasl_response(auth_.mech, index, *decoded, ctx_.config().reveal_credentials, auth_.creds)) {
    ctx_.anomalies().add(kAnomBadAuthResponse);
  }
}

void SmtpAnalyzer::finish_auth(AuthOutcome outcome, std::string_view reply) {
  if (!auth_.active) return;
  auth_.active = false;
  last_auth_mech_ = auth_.mech_name;
  last_auth_user_ = auth_.creds.user;
  has_last_auth_user_ = auth_.creds.has_user;
  last_auth_outcome_ = outcome;
  if (auth_attempts_ >= limits_.max_auth_attempts) {
    if (auth_attempts_ == limits_.max_auth_attempts) ctx_.anomalies().add(kAnomTooManyAuth);
    auth_attempts_ = limits_.max_auth_attempts + 1;
    return;
  }
  ++auth_attempts_;
  auto rec = std::make_unique<AuthRecord>();
  rec->ts = auth_.ts;
  rec->set_conn(ctx_.conn());
  rec->proto = "smtp";
  rec->method = "AUTH " + auth_.mech_name;
  rec->user = auth_.creds.user;
  if (auth_.creds.has_password && ctx_.config().reveal_credentials) {
    rec->password = auth_.creds.password;
    rec->has_password = true;
  }
  rec->outcome = outcome;
  rec->reply.assign(reply);
  ctx_.emit(std::move(rec));
  auth_.creds = SaslCredentials{};
}

// --- server --------------------------------------------------------------------

void SmtpAnalyzer::server_data(std::string_view s, core::Timestamp ts) {
  if (skip_server_line_) {
    const size_t nl = s.find('\n');
    if (nl == std::string_view::npos) {
      skipped_[1] += s.size();
      while (skipped_[1] >= limits_.max_reply_line && !stopped_) {
        skipped_[1] -= limits_.max_reply_line;
        bad_line();
      }
      return;
    }
    s.remove_prefix(nl + 1);
    skipped_[1] = 0;
    skip_server_line_ = false;
  }
  server_lines_.feed(bytes_of(s), [&](std::string_view line, bool truncated) {
    on_reply_line(line, truncated, ts);
    return !stopped_;
  });
  if (!stopped_ && server_lines_.pending() >= limits_.max_reply_line) {
    ctx_.anomalies().add(kAnomReplyTooLong);
    server_lines_.reset();
    skip_server_line_ = true;
    bad_line();
  }
}

void SmtpAnalyzer::on_reply_line(std::string_view line, bool truncated, core::Timestamp ts) {
  if (truncated || line.size() > limits_.max_reply_line) {
    ctx_.anomalies().add(kAnomReplyTooLong);
    line = line.substr(0, limits_.max_reply_line);
  }
  SmtpReply r;
  if (!parse_reply(line, r)) {
    ctx_.anomalies().add(kAnomBadReply);
    bad_line();
    return;
  }
  bad_lines_ = 0;
  if (!r.last) return;  // a multi-line reply is decided by its last line (Zeek's last_reply)
  on_reply(r, line, ts);
}

void SmtpAnalyzer::on_reply(const SmtpReply& r, std::string_view line, core::Timestamp ts) {
  std::string text(line);
  if (text.size() == 3) text.push_back(' ');
  if (text.size() > 3) text[3] = ' ';

  // After a hole in the message content the end marker may have been lost:
  // a reply from the server means the message is over.
  if (cstate_ == Client::kData && data_gap_) finish_message(Cmd::kDataEnd, ts);

  const bool auth_front = !queue_.empty() && queue_.front().cmd == Cmd::kAuth;
  if (auth_front && auth_.active && r.code == 334) {
    auth_.awaiting_response = true;  // a challenge: the exchange goes on
    ensure_record(ts);
    cur_->last_reply = std::move(text);
    cur_->has_last_reply = true;
    return;
  }

  const bool first = !saw_reply_;
  saw_reply_ = true;
  if (first && (r.code == 220 || r.code == 421 || r.code == 554) &&
      (queue_.empty() || queue_.front().cmd != Cmd::kStartTls)) {
    ensure_record(ts);  // the greeting answers no command
    cur_->last_reply = std::move(text);
    cur_->has_last_reply = true;
    return;
  }

  if (queue_.empty()) {
    ctx_.anomalies().add(kAnomUnmatchedReply);
    ensure_record(ts);
    cur_->last_reply = std::move(text);
    cur_->has_last_reply = true;
    return;
  }
  Pending p = std::move(queue_.front());
  queue_.pop_front();
  switch (p.cmd) {
    case Cmd::kDataEnd:
    case Cmd::kBdatLast:
      if (p.record) {
        p.record->last_reply = std::move(text);
        p.record->has_last_reply = true;
        emit_record(std::move(p.record));
        if (!stopped_) ensure_record(ts);  // Zeek starts the next transaction's record here
        return;
      }
      break;
    case Cmd::kData:
      if (r.code == 354) {
        if (cstate_ == Client::kDataPending) cstate_ = Client::kData;
      } else if (cstate_ == Client::kDataPending) {
        cstate_ = Client::kCommand;  // DATA refused: no content follows
        message_open_ = false;
      }
      break;
    case Cmd::kAuth: {
      const uint16_t cls = r.code / 100;
      const AuthOutcome o = cls == 2 ? AuthOutcome::kSuccess
                            : (cls == 4 || cls == 5) ? AuthOutcome::kFailure
                                                     : AuthOutcome::kUnknown;
      finish_auth(o, text);
      break;
    }
    case Cmd::kStartTls:
      if (r.code == 220) {
        ensure_record(ts);
        cur_->tls = true;
        cur_->last_reply = std::move(text);
        cur_->has_last_reply = true;
        activity_ = true;
        ctx_.upgrade("ssl");
        stopped_ = true;  // the rest of the connection is TLS
        return;
      }
      break;
    default:
      break;
  }
  ensure_record(ts);
  cur_->last_reply = std::move(text);
  cur_->has_last_reply = true;
}

// --- gaps and the end ----------------------------------------------------------

void SmtpAnalyzer::gap(bool is_orig, uint64_t bytes, core::Timestamp ts) {
  if (stopped_) return;
  ctx_.anomalies().add(kAnomGap);
  if (!is_orig) {
    // Replies are lost: what waits for them will not get them.
    server_lines_.reset();
    skip_server_line_ = true;
    while (!queue_.empty()) {
      Pending p = std::move(queue_.front());
      queue_.pop_front();
      if (p.cmd == Cmd::kAuth) finish_auth(AuthOutcome::kUnknown, {});
      if (p.record) emit_record(std::move(p.record));
      if (stopped_) return;
    }
    auth_.awaiting_response = false;
    return;
  }
  switch (cstate_) {
    case Client::kCommand:
    case Client::kSkipLine:
      client_lines_.reset();
      cstate_ = Client::kSkipLine;
      return;
    case Client::kDataPending:
    case Client::kData:
      // Skip to the next end marker; the message is kept but incomplete.
      ctx_.anomalies().add(kAnomDataGap);
      mime_.abandon();
      data_gap_ = true;
      cstate_ = Client::kData;
      dot_ = Dot::kLineStart;
      return;
    case Client::kBdat:
      ctx_.anomalies().add(kAnomDataGap);
      mime_.abandon();
      if (bytes < bdat_remaining_) {
        bdat_remaining_ -= bytes;
        return;
      }
      bdat_remaining_ = 0;
      cstate_ = Client::kSkipLine;
      if (bdat_last_) finish_message(Cmd::kBdatLast, ts);
      return;
  }
}

void SmtpAnalyzer::finish(core::Timestamp ts) {
  (void)ts;  // records keep the time they were started at
  if (finished_) return;
  finished_ = true;
  if (limit_stopped_) return;
  if (auth_.active) finish_auth(AuthOutcome::kUnknown, {});
  // Transactions whose end was seen but not its reply, in order.
  for (Pending& p : queue_) {
    if (p.record && !limit_stopped_) emit_record(std::move(p.record));
  }
  queue_.clear();
  if (limit_stopped_) return;
  if (cur_ && message_open_) {
    // The connection ended inside a message (DATA without its end, BDAT without LAST).
    mime_.end();
    message_open_ = false;
    cur_->attachments = mime_.attachments();
  }
  if (cur_ && (activity_ || (emitted_ == 0 && session_activity_))) emit_current();
}

// --- records -------------------------------------------------------------------

void SmtpAnalyzer::push(Cmd cmd, std::unique_ptr<SmtpRecord> record) {
  if (queue_.size() >= limits_.max_pending) {
    ctx_.anomalies().add(kAnomTooManyPending);
    Pending old = std::move(queue_.front());
    queue_.pop_front();
    if (old.record) emit_record(std::move(old.record));
  }
  queue_.push_back(Pending{cmd, std::move(record)});
}

void SmtpAnalyzer::ensure_record(core::Timestamp ts) {
  if (cur_) return;
  cur_ = std::make_unique<SmtpRecord>();
  const ConnInfo& c = ctx_.conn();
  cur_->ts = ts;
  cur_->uid = c.uid;
  cur_->orig_h = c.orig_h;
  cur_->orig_p = c.orig_p;
  cur_->resp_h = c.resp_h;
  cur_->resp_p = c.resp_p;
  cur_->trans_depth = messages_ + 1;
  if (has_helo_) {
    cur_->helo = helo_;
    cur_->has_helo = true;
  }
  cur_->path = {c.resp_h, c.orig_h};
  activity_ = false;
  rcpt_index_.clear();
  rcpt_limit_hit_ = false;
}

void SmtpAnalyzer::emit_current() {
  if (!cur_) return;
  emit_record(std::move(cur_));
  activity_ = false;
}

void SmtpAnalyzer::emit_record(std::unique_ptr<SmtpRecord> rec) {
  if (limit_stopped_) return;
  if (!last_auth_mech_.empty()) {
    rec->auth_mechanism = last_auth_mech_;
    rec->auth_user = last_auth_user_;
    rec->has_auth_user = has_last_auth_user_;
    rec->auth_outcome = last_auth_outcome_;
  }
  if (rec->has_user_agent) rec->is_webmail = webmail_agent(rec->user_agent);
  ctx_.emit(std::move(rec));
  if (++emitted_ >= limits_.max_records) {
    ctx_.anomalies().add(kAnomTooManyMessages);
    limit_stopped_ = true;
    stop();
  }
}

void SmtpAnalyzer::bad_line() {
  if (++bad_lines_ > limits_.max_bad_lines) {
    ctx_.anomalies().add(kAnomNotSmtp);
    stop();
  }
}

void SmtpAnalyzer::stop() {
  if (stopped_) return;
  stopped_ = true;
  ctx_.give_up();
}

std::unique_ptr<Analyzer> create_smtp_analyzer(Context& ctx) { return std::make_unique<SmtpAnalyzer>(ctx); }

}  // namespace trawl::analyzers::smtp

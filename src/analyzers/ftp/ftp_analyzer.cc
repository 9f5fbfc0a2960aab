#include "analyzers/ftp/ftp_analyzer.h"

#include <utility>

#include "analyzers/common/auth_record.h"
#include "analyzers/common/text.h"

namespace trawl::analyzers::ftp {

namespace {

// Zeek's FTP::guest_ids: their "password" is by convention an e-mail address,
// and Zeek logs it in clear.
bool is_guest(std::string_view user) {
  return iequals(user, "anonymous") || iequals(user, "ftp") || iequals(user, "ftpuser") ||
         iequals(user, "guest");
}

// Zeek's FTP::file_cmds: their argument is logged as an ftp:// URL.
bool is_file_command(std::string_view verb) {
  return verb == "APPE" || verb == "RETR" || verb == "STOR" || verb == "STOU";
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string reply_line(uint16_t code, std::string_view text) {
  std::string r = std::to_string(code);
  if (!text.empty()) {
    r.push_back(' ');
    r.append(text);
  }
  return r;
}

}  // namespace

FtpAnalyzer::FtpAnalyzer(Context& ctx, const FtpLimits& limits)
    : ctx_(ctx), limits_(limits), lines_{LineReader(limits.max_line), LineReader(limits.max_line)} {}

bool FtpAnalyzer::reveal_password() const { return ctx_.config().reveal_credentials || guest_; }

void FtpAnalyzer::data(bool is_orig, core::ByteView bytes, core::Timestamp ts) {
  if (stopped_) return;
  const size_t d = is_orig ? 0 : 1;
  lines_[d].feed(bytes, [&](std::string_view line, bool truncated) {
    if (stopped_) return false;
    // LineReader passes a line inside one segment whole: cut it here too, so
    // the result does not depend on segmentation.
    if (line.size() > limits_.max_line) {
      line = line.substr(0, limits_.max_line);
      truncated = true;
    }
    if (drop_partial_[d]) {
      drop_partial_[d] = false;
      return true;
    }
    return is_orig ? on_command(line, truncated, ts) : on_reply_line(line, truncated, ts);
  });
}

void FtpAnalyzer::gap(bool is_orig, uint64_t bytes, core::Timestamp ts) {
  (void)bytes;
  (void)ts;
  if (stopped_) return;
  const size_t d = is_orig ? 0 : 1;
  lines_[d].reset();
  drop_partial_[d] = true;
  if (!is_orig) {
    // Replies were lost: the commands waiting for them will not get theirs.
    replies_.reset();
    while (!pending_.empty()) emit_unanswered();
  }
}

void FtpAnalyzer::emit_unanswered() {
  std::unique_ptr<FtpRecord> rec = std::move(pending_.front().rec);
  pending_.pop_front();
  if (rec->command == "PASS") emit_auth(*rec, false);
  ctx_.emit(std::move(rec));
}

void FtpAnalyzer::bad_line(const core::AnomalyId& id, uint32_t& counter) {
  ctx_.anomalies().add(id);
  if (++counter > limits_.max_bad_lines) {
    ctx_.anomalies().add(kAnomNotFtp);
    stopped_ = true;
    ctx_.give_up();
  }
}

std::string FtpAnalyzer::render_arg(const std::string& verb, std::string_view arg) const {
  if (verb == "PASS") return reveal_password() ? std::string(arg) : std::string("<hidden>");
  if (is_file_command(verb)) return build_ftp_url(ctx_.conn().resp_h, build_path_compressed(cwd_, arg));
  return std::string(arg);
}

bool FtpAnalyzer::on_command(std::string_view line, bool truncated, core::Timestamp ts) {
  if (truncated) ctx_.anomalies().add(kAnomLineTooLong);
  if (line.empty()) return true;
  auto cmd = parse_command(line);
  if (!cmd) {
    bad_line(kAnomBadCommand, bad_client_lines_);
    return !stopped_;
  }
  bad_client_lines_ = 0;
  if (++commands_ > limits_.max_commands) {
    ctx_.anomalies().add(kAnomTooManyCommands);
    stopped_ = true;
    ctx_.give_up();
    return false;
  }
  const ConnInfo& c = ctx_.conn();
  auto rec = std::make_unique<FtpRecord>();
  rec->ts = ts;
  rec->uid = c.uid;
  rec->orig_h = c.orig_h;
  rec->orig_p = c.orig_p;
  rec->resp_h = c.resp_h;
  rec->resp_p = c.resp_p;
  rec->command = upper(cmd->verb);
  const std::string& verb = rec->command;

  // As Zeek: the session's user and password are set when the command is
  // sent, whatever the reply.
  if (verb == "USER") {
    user_.assign(cmd->arg);
    guest_ = is_guest(cmd->arg);
    password_.reset();
  } else if (verb == "PASS") {
    password_ = reveal_password() ? std::string(cmd->arg) : std::string("<hidden>");
  } else if (verb == "REIN") {
    user_ = "<unknown>";
    guest_ = false;
    password_.reset();
  } else if (verb == "PORT" || verb == "EPRT") {
    auto hp = verb == "PORT" ? parse_port_arg(cmd->arg) : parse_eprt_arg(cmd->arg);
    if (hp) {
      rec->data_channel = DataChannel{false, c.resp_h, hp->host, hp->port};
    } else {
      ctx_.anomalies().add(kAnomBadDataChannel);
    }
  }
  rec->user = user_;
  rec->password = password_;
  rec->arg = render_arg(verb, cmd->arg);
  rec->raw_arg = verb == "PASS" && !reveal_password() ? std::string() : std::string(cmd->arg);

  if (pending_.size() >= limits_.max_pending) {
    ctx_.anomalies().add(kAnomTooManyPending);
    emit_unanswered();
  }
  pending_.push_back(Pending{std::move(rec)});
  return true;
}

bool FtpAnalyzer::on_reply_line(std::string_view line, bool truncated, core::Timestamp ts) {
  if (truncated) ctx_.anomalies().add(kAnomLineTooLong);
  if (line.empty() && !replies_.in_multiline()) return true;
  switch (replies_.feed(line)) {
    case ReplyAssembler::Step::kMore:
      return true;
    case ReplyAssembler::Step::kNotReply:
      bad_line(kAnomBadReply, bad_server_lines_);
      return !stopped_;
    case ReplyAssembler::Step::kDone:
      break;
  }
  bad_server_lines_ = 0;
  on_reply(replies_.code(), replies_.text(), ts);
  return !stopped_;
}

void FtpAnalyzer::on_reply(uint16_t code, std::string_view text, core::Timestamp ts) {
  (void)ts;
  if (!greeted_) {
    // The greeting: 120 (ready soon) then 220, or 421 (refused). A capture
    // that starts mid-session has none; then the first reply answers a command.
    if (code == 120) return;
    greeted_ = true;
    if (code == 220 || code == 421) return;
  }
  if (pending_.empty()) {
    // 421 (closing, e.g. an idle timeout) may come at any time.
    if (code != 421) ctx_.anomalies().add(kAnomUnexpectedReply);
    return;
  }
  Pending& front = pending_.front();
  if (code < 200) {
    // Preliminary reply; the final one follows. 150 to RETR may name the size.
    if (code == 150 && front.rec->command == "RETR") {
      if (auto n = parse_150_size(text)) front.rec->file_size = *n;
    }
    return;
  }
  Pending p = std::move(front);
  pending_.pop_front();
  complete(p, code, text);
}

void FtpAnalyzer::complete(Pending& p, uint16_t code, std::string_view text) {
  FtpRecord& rec = *p.rec;
  const std::string& verb = rec.command;
  rec.reply_code = code;
  rec.reply_msg.assign(text);
  const ConnInfo& c = ctx_.conn();
  if (code == 213 && verb == "SIZE") {
    if (auto n = parse_size_reply(text)) rec.file_size = *n;
  } else if (code == 227) {
    if (auto hp = parse_pasv_reply(text)) {
      rec.data_channel = DataChannel{true, c.orig_h, hp->host, hp->port};
    } else {
      ctx_.anomalies().add(kAnomBadDataChannel);
    }
  } else if (code == 229) {
    if (auto port = parse_epsv_reply(text)) {
      rec.data_channel = DataChannel{true, c.orig_h, c.resp_h, *port};
    } else {
      ctx_.anomalies().add(kAnomBadDataChannel);
    }
  } else if (code == 250 && verb == "CWD") {
    std::string next = build_path_compressed(cwd_, rec.raw_arg);
    if (next.size() <= limits_.max_cwd) cwd_ = std::move(next);
  } else if ((code == 200 || code == 250) && (verb == "CDUP" || verb == "XCUP")) {
    std::string next = build_path_compressed(cwd_, "..");
    if (next.size() <= limits_.max_cwd) cwd_ = std::move(next);
  }

  if (verb == "PASS" || (verb == "USER" && code != 331 && code != 332)) emit_auth(rec, true);
  const bool tls = verb == "AUTH" && code == 234;
  ctx_.emit(std::move(p.rec));
  if (tls) {
    // The rest of the connection is TLS (RFC 4217).
    stopped_ = true;
    ctx_.upgrade("ssl");
  }
}

void FtpAnalyzer::emit_auth(const FtpRecord& rec, bool has_reply) {
  auto a = std::make_unique<AuthRecord>();
  a->ts = rec.ts;
  a->set_conn(ctx_.conn());
  a->proto = "ftp";
  a->method = "USER/PASS";
  if (rec.user != "<unknown>") a->user = rec.user;
  if (rec.command == "PASS" && ctx_.config().reveal_credentials) {
    a->password = rec.raw_arg;
    a->has_password = true;
  }
  if (has_reply) {
    const unsigned cls = rec.reply_code / 100u;
    a->outcome = cls == 2 ? AuthOutcome::kSuccess : (cls == 4 || cls == 5) ? AuthOutcome::kFailure
                                                                              : AuthOutcome::kUnknown;
    a->reply = reply_line(rec.reply_code, rec.reply_msg);
  }
  ctx_.emit(std::move(a));
}

void FtpAnalyzer::finish(core::Timestamp ts) {
  (void)ts;
  while (!pending_.empty()) emit_unanswered();
}

}  // namespace trawl::analyzers::ftp

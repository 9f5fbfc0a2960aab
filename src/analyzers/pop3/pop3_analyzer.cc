#include "analyzers/pop3/pop3_analyzer.h"

#include <utility>

#include "analyzers/common/auth_record.h"
#include "analyzers/common/text.h"

namespace trawl::analyzers::pop3 {

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// "first rest..." -> first, rest (leading spaces of rest removed).
std::string_view first_word(std::string_view s, std::string_view& rest) {
  s = trim(s);
  size_t sp = s.find(' ');
  if (sp == std::string_view::npos) {
    rest = {};
    return s;
  }
  rest = trim(s.substr(sp + 1));
  return s.substr(0, sp);
}

}  // namespace

Pop3Analyzer::Pop3Analyzer(Context& ctx, const Pop3Limits& limits)
    : ctx_(ctx), limits_(limits), lines_{LineReader(limits.max_line), LineReader(limits.max_line)} {}

void Pop3Analyzer::data(bool is_orig, core::ByteView bytes, core::Timestamp ts) {
  const size_t d = is_orig ? 0 : 1;
  core::ByteView rest = bytes;
  while (!rest.empty() && !stopped_) {
    if (!is_orig && in_body_) {
      rest = rest.subspan(body_.feed(rest));
      if (body_.done()) finish_body();
      continue;
    }
    size_t n = lines_[d].feed(rest, [&](std::string_view line, bool truncated) {
      if (stopped_) return false;
      // LineReader passes a line inside one segment whole: cut it here too.
      if (line.size() > limits_.max_line) {
        line = line.substr(0, limits_.max_line);
        truncated = true;
      }
      if (drop_partial_[d]) {
        drop_partial_[d] = false;
        return true;
      }
      return is_orig ? on_client_line(line, truncated, ts) : on_server_line(line, truncated);
    });
    rest = rest.subspan(n);
  }
}

void Pop3Analyzer::gap(bool is_orig, uint64_t bytes, core::Timestamp ts) {
  (void)ts;
  if (stopped_) return;
  if (!is_orig && in_body_) {
    body_.gap(bytes);  // the "." line is still ahead; keep looking for it
    return;
  }
  const size_t d = is_orig ? 0 : 1;
  lines_[d].reset();
  drop_partial_[d] = true;
  if (!is_orig) {
    while (!pending_.empty()) emit_unanswered();
  }
}

void Pop3Analyzer::bad_line(const core::AnomalyId& id, uint32_t& counter) {
  ctx_.anomalies().add(id);
  if (++counter > limits_.max_bad_lines) {
    ctx_.anomalies().add(kAnomNotPop3);
    stopped_ = true;
    ctx_.give_up();
  }
}

bool Pop3Analyzer::on_client_line(std::string_view line, bool truncated, core::Timestamp ts) {
  if (truncated) ctx_.anomalies().add(kAnomLineTooLong);
  if (sasl_active() && line.find(' ') != std::string_view::npos && parse_command(line)) {
    // Base64 has no spaces: this is a command, so the exchange's status line
    // was missed (a hole in the capture).
    pending_.back().sasl_open = false;
  }
  if (sasl_active()) {
    SaslExchange& s = *pending_.back().sasl;
    const bool was_malformed = s.malformed();
    s.client_response(line);
    if (s.malformed() && !was_malformed) ctx_.anomalies().add(kAnomBadSasl);
    return true;
  }
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
  const bool reveal = ctx_.config().reveal_credentials;
  Pending p;
  p.rec = std::make_unique<Pop3Record>();
  Pop3Record& rec = *p.rec;
  rec.ts = ts;
  rec.uid = c.uid;
  rec.orig_h = c.orig_h;
  rec.orig_p = c.orig_p;
  rec.resp_h = c.resp_h;
  rec.resp_p = c.resp_p;
  rec.command = upper(cmd->verb);
  p.multiline = is_multiline(rec.command, cmd->arg);
  const std::string& verb = rec.command;
  rec.arg.assign(cmd->arg);
  if (verb == "USER") {
    last_user_.assign(cmd->arg);
    user_.assign(cmd->arg);
    p.login_user.assign(cmd->arg);
  } else if (verb == "PASS") {
    p.login_user = last_user_;
    if (reveal) {
      p.password.assign(cmd->arg);
    } else {
      rec.arg = "<hidden>";
    }
  } else if (verb == "APOP") {
    std::string_view digest;
    std::string_view name = first_word(cmd->arg, digest);
    p.login_user.assign(name);
    user_.assign(name);
    if (!reveal) rec.arg = std::string(name) + " <hidden>";
  } else if (verb == "AUTH") {
    std::string_view initial;
    std::string_view mech = first_word(cmd->arg, initial);
    if (!mech.empty()) {
      p.sasl = std::make_unique<SaslExchange>(mech, reveal);
      p.sasl_open = true;
      if (!initial.empty()) {
        p.sasl->client_response(initial);
        if (p.sasl->malformed()) ctx_.anomalies().add(kAnomBadSasl);
      }
      // The initial response is a credential: the log shows the mechanism.
      if (!reveal) rec.arg.assign(mech);
    }
  }
  rec.user = user_;
  if (pending_.size() >= limits_.max_pending) {
    ctx_.anomalies().add(kAnomTooManyPending);
    emit_unanswered();
  }
  pending_.push_back(std::move(p));
  return true;
}

bool Pop3Analyzer::on_server_line(std::string_view line, bool truncated) {
  if (truncated) ctx_.anomalies().add(kAnomLineTooLong);
  const Pop3Status st = parse_status(line);
  if (st.kind == Pop3LineKind::kContinuation) {
    // A SASL challenge; the client answers it on the next line.
    if (!sasl_active()) ctx_.anomalies().add(kAnomUnexpectedReply);
    bad_server_lines_ = 0;
    return true;
  }
  if (st.kind == Pop3LineKind::kOther) {
    if (!line.empty()) bad_line(kAnomBadReply, bad_server_lines_);
    return !stopped_;
  }
  bad_server_lines_ = 0;
  const bool ok = st.kind == Pop3LineKind::kOk;
  if (pending_.empty()) {
    if (!greeted_) {
      greeted_ = true;  // the greeting (RFC 1939 4), with its APOP timestamp if any
    } else {
      ctx_.anomalies().add(kAnomUnexpectedReply);
    }
    return true;
  }
  greeted_ = true;
  Pending p = std::move(pending_.front());
  pending_.pop_front();
  p.rec->status = ok ? "+OK" : "-ERR";
  p.rec->msg.assign(st.text);
  if (ok && p.multiline) {
    body_owner_ = std::move(p);
    body_.reset();
    in_body_ = true;
    return false;  // the caller feeds the rest to the body scanner
  }
  complete(p, true, ok);
  return !stopped_;
}

void Pop3Analyzer::finish_body() {
  in_body_ = false;
  body_owner_.rec->response_body_len = body_.body_bytes();
  complete(body_owner_, true, true);
  body_owner_ = Pending{};
}

void Pop3Analyzer::emit_auth(const Pending& p, std::string_view method, std::string_view user, bool answered,
                             bool ok) {
  auto a = std::make_unique<AuthRecord>();
  a->ts = p.rec->ts;
  a->set_conn(ctx_.conn());
  a->proto = "pop3";
  a->method.assign(method);
  a->user.assign(user);
  if (ctx_.config().reveal_credentials) {
    if (p.sasl && p.sasl->has_password()) {
      a->password = p.sasl->password();
      a->has_password = true;
    } else if (p.rec->command == "PASS") {
      a->password = p.password;
      a->has_password = true;
    }
  }
  if (answered) {
    a->outcome = ok ? AuthOutcome::kSuccess : AuthOutcome::kFailure;
    a->reply = p.rec->status;
    if (!p.rec->msg.empty()) a->reply += ' ' + p.rec->msg;
  }
  ctx_.emit(std::move(a));
}

void Pop3Analyzer::complete(Pending& p, bool answered, bool ok) {
  Pop3Record& rec = *p.rec;
  const std::string& verb = rec.command;
  if (verb == "USER") {
    // A rejected name is a failed attempt; an accepted one waits for PASS.
    if (answered && !ok) emit_auth(p, "USER/PASS", p.login_user, true, false);
  } else if (verb == "PASS") {
    emit_auth(p, "USER/PASS", p.login_user, answered, ok);
  } else if (verb == "APOP") {
    emit_auth(p, "APOP", p.login_user, answered, ok);
  } else if (p.sasl) {
    // A cancelled exchange ("*") or one with no response at all is no attempt.
    if (!p.sasl->cancelled() && (p.sasl->responses() != 0 || answered)) {
      emit_auth(p, "AUTH " + p.sasl->mechanism(), p.sasl->user(), answered, ok);
    }
    if (!p.sasl->user().empty()) {
      rec.user = p.sasl->user();
      if (answered && ok) user_ = p.sasl->user();
    }
  }
  const bool tls = verb == "STLS" && answered && ok;
  ctx_.emit(std::move(p.rec));
  if (tls) {
    stopped_ = true;
    ctx_.upgrade("ssl");
  }
}

void Pop3Analyzer::emit_unanswered() {
  Pending p = std::move(pending_.front());
  pending_.pop_front();
  complete(p, false, false);
}

void Pop3Analyzer::finish(core::Timestamp ts) {
  (void)ts;
  if (in_body_) {
    // The connection ended inside a multi-line response.
    in_body_ = false;
    body_owner_.rec->response_body_len = body_.body_bytes();
    complete(body_owner_, true, true);
  }
  while (!pending_.empty()) emit_unanswered();
}

}  // namespace trawl::analyzers::pop3

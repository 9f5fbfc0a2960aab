#include "analyzers/imap/imap_analyzer.h"

#include <algorithm>
#include <utility>

#include "analyzers/common/auth_record.h"
#include "analyzers/common/text.h"

namespace trawl::analyzers::imap {

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace

ImapAnalyzer::ImapAnalyzer(Context& ctx, const ImapLimits& limits)
    : ctx_(ctx), limits_(limits), side_{Side(limits.max_line), Side(limits.max_line)} {}

void ImapAnalyzer::stop() {
  stopped_ = true;
  ctx_.give_up();
}

void ImapAnalyzer::bad_line(const core::AnomalyId& id, uint32_t& counter) {
  ctx_.anomalies().add(id);
  if (++counter > limits_.max_bad_lines) {
    ctx_.anomalies().add(kAnomNotImap);
    stop();
  }
}

void ImapAnalyzer::data(bool is_orig, core::ByteView bytes, core::Timestamp ts) {
  const size_t d = is_orig ? 0 : 1;
  Side& s = side_[d];
  core::ByteView rest = bytes;
  while (!rest.empty() && !stopped_) {
    if (s.in_literal) {
      if (is_orig && wait_sync_) {
        wait_sync_ = false;
        if (!client_in_command_) {
          // The server refused the command before the literal was sent, so
          // these bytes are the next command.
          s.in_literal = false;
          s.continuing = false;
          capture_ = false;
          literal_buf_.clear();
          continue;
        }
      }
      const size_t n = static_cast<size_t>(std::min<uint64_t>(s.literal_left, rest.size()));
      if (is_orig) {
        client_literal_bytes(rest.first(n));
      } else if (!pending_.empty()) {
        pending_.front().rec->response_literal_bytes += n;
      }
      rest = rest.subspan(n);
      s.literal_left -= n;
      if (s.literal_left == 0) {
        s.in_literal = false;
        if (is_orig) {
          end_client_literal();
        } else {
          s.continuing = true;
        }
      }
      continue;
    }
    size_t n = s.lines.feed(rest, [&](std::string_view line, bool truncated) {
      if (stopped_) return false;
      // LineReader passes a line inside one segment whole: cut it here too.
      if (line.size() > limits_.max_line) {
        line = line.substr(0, limits_.max_line);
        truncated = true;
      }
      if (s.drop_partial) {
        s.drop_partial = false;
        return true;
      }
      return is_orig ? on_client_line(line, truncated, ts) : on_server_line(line, truncated);
    });
    rest = rest.subspan(n);
  }
}

void ImapAnalyzer::gap(bool is_orig, uint64_t bytes, core::Timestamp ts) {
  (void)ts;
  if (stopped_) return;
  const size_t d = is_orig ? 0 : 1;
  Side& s = side_[d];
  if (s.in_literal && !(is_orig && wait_sync_) && bytes <= s.literal_left) {
    // The hole is inside a literal: framing is intact.
    s.literal_left -= bytes;
    if (is_orig && client_in_command_) {
      pending_.back().rec->request_literal_bytes += bytes;
      capture_ = false;
    } else if (!is_orig && !pending_.empty()) {
      pending_.front().rec->response_literal_bytes += bytes;
    }
    if (s.literal_left == 0) {
      s.in_literal = false;
      if (is_orig) {
        end_client_literal();
      } else {
        s.continuing = true;
      }
    }
    return;
  }
  s.lines.reset();
  s.drop_partial = true;
  s.in_literal = false;
  s.continuing = false;
  if (is_orig) {
    wait_sync_ = false;
    capture_ = false;
    literal_buf_.clear();
    if (client_in_command_) finish_client_command();
  }
}

bool ImapAnalyzer::start_literal(bool is_orig, std::string_view line) {
  LiteralSpec spec;
  switch (literal_at_end(line, spec)) {
    case LiteralParse::kNone:
      return false;
    case LiteralParse::kBad:
      ctx_.anomalies().add(kAnomBadLiteral);
      return false;
    case LiteralParse::kOk:
      break;
  }
  if (spec.size > limits_.max_literal) {
    ctx_.anomalies().add(kAnomLiteralTooLarge);
    stop();
    return true;
  }
  Side& s = side_[is_orig ? 0 : 1];
  if (is_orig) {
    bool message = false;
    if (client_in_command_) {
      std::string& args = pending_.back().args;
      // Drop the marker: the literal's text (or its size) takes its place.
      if (args.ends_with(line.substr(line.size() - spec.marker_len))) args.resize(args.size() - spec.marker_len);
      message = pending_.back().rec->command == "APPEND";
    }
    wait_sync_ = spec.sync;
    // Small literals (mailbox names, user names, passwords) become argument
    // text; a message (APPEND) is only counted.
    capture_ = spec.size <= limits_.max_captured_literal && !message;
    literal_buf_.clear();
    literal_size_ = spec.size;
  }
  if (spec.size == 0) {
    if (is_orig) {
      wait_sync_ = false;
      end_client_literal();
    } else {
      s.continuing = true;
    }
    return false;  // the line reader goes on with the continuation line
  }
  s.in_literal = true;
  s.literal_left = spec.size;
  return true;
}

void ImapAnalyzer::client_literal_bytes(core::ByteView bytes) {
  if (!client_in_command_) return;
  pending_.back().rec->request_literal_bytes += bytes.size();
  if (capture_) literal_buf_.append(core::as_chars(bytes));
}

void ImapAnalyzer::end_client_literal() {
  side_[0].continuing = true;
  if (client_in_command_) {
    Pending& p = pending_.back();
    if (capture_) {
      std::string q;
      append_quoted(q, literal_buf_);
      append_args(p, q);
    } else {
      append_args(p, "{" + std::to_string(literal_size_) + "}");
    }
  }
  capture_ = false;
  literal_buf_.clear();
}

void ImapAnalyzer::append_args(Pending& p, std::string_view text) {
  if (p.args.size() + text.size() > limits_.max_args) {
    if (p.args.size() < limits_.max_args) ctx_.anomalies().add(kAnomCommandTooLong);
    p.args.append(text.substr(0, limits_.max_args - std::min(limits_.max_args, p.args.size())));
    return;
  }
  p.args.append(text);
}

bool ImapAnalyzer::on_client_line(std::string_view line, bool truncated, core::Timestamp ts) {
  if (truncated) ctx_.anomalies().add(kAnomLineTooLong);
  Side& s = side_[0];
  if (s.continuing) {
    // The rest of a command after one of its literals.
    s.continuing = false;
    if (client_in_command_) append_args(pending_.back(), line);
    if (start_literal(true, line)) return false;
    if (side_[0].continuing) return true;  // an empty literal: more follows
    if (client_in_command_) finish_client_command();
    return !stopped_;
  }
  if (!sasl_tag_.empty() && line.find(' ') != std::string_view::npos && parse_command_line(line)) {
    // Base64 has no spaces: this is a command, so the exchange's tagged
    // response was missed (a hole in the capture).
    sasl_tag_.clear();
  }
  if (!sasl_tag_.empty()) {
    // A SASL response to the server's challenge.
    for (Pending& p : pending_) {
      if (p.rec->tag == sasl_tag_ && p.sasl) {
        const bool was_malformed = p.sasl->malformed();
        p.sasl->client_response(line);
        if (p.sasl->malformed() && !was_malformed) ctx_.anomalies().add(kAnomBadSasl);
        break;
      }
    }
    return true;
  }
  if (line.empty()) return true;
  if (!idle_tag_.empty() && iequals(trim(line), "DONE")) return true;
  auto cmd = parse_command_line(line);
  if (!cmd) {
    bad_line(kAnomBadCommand, bad_client_lines_);
    return !stopped_;
  }
  bad_client_lines_ = 0;
  if (++commands_ > limits_.max_commands) {
    ctx_.anomalies().add(kAnomTooManyCommands);
    stop();
    return false;
  }
  const ConnInfo& c = ctx_.conn();
  Pending p;
  p.rec = std::make_unique<ImapRecord>();
  ImapRecord& rec = *p.rec;
  rec.ts = ts;
  rec.uid = c.uid;
  rec.orig_h = c.orig_h;
  rec.orig_p = c.orig_p;
  rec.resp_h = c.resp_h;
  rec.resp_p = c.resp_p;
  rec.user = user_;
  rec.tag.assign(cmd->tag);
  rec.command = upper(cmd->command);
  std::string_view rest = cmd->rest;
  if (rec.command == "UID") {
    // "UID FETCH ...": the UID form of another command.
    size_t sp = rest.find(' ');
    std::string_view sub = rest.substr(0, sp);
    if (is_command_word(sub)) {
      rec.command += ' ';
      rec.command += upper(sub);
      rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
    }
  }
  if (pending_.size() >= limits_.max_pending) {
    ctx_.anomalies().add(kAnomTooManyPending);
    emit_pending(0, false, false);
  }
  pending_.push_back(std::move(p));
  client_in_command_ = true;
  append_args(pending_.back(), rest);
  if (start_literal(true, line)) return false;
  if (side_[0].continuing) return true;
  finish_client_command();
  return !stopped_;
}

void ImapAnalyzer::render(Pending& p) {
  if (p.rendered) return;
  p.rendered = true;
  ImapRecord& rec = *p.rec;
  const bool reveal = ctx_.config().reveal_credentials;
  if (rec.command == "LOGIN") {
    auto tok = split_arguments(p.args, 2);
    if (!tok.empty()) p.login_user = tok[0];
    if (reveal) {
      rec.arg = std::move(p.args);
    } else if (!tok.empty()) {
      append_quoted(rec.arg, tok[0]);
      rec.arg += " <hidden>";
    }
  } else if (rec.command == "AUTHENTICATE") {
    auto tok = split_arguments(p.args, 2);
    if (!tok.empty()) {
      p.sasl = std::make_unique<pop3::SaslExchange>(tok[0], reveal);
      if (tok.size() > 1) {
        p.sasl->client_response(tok[1]);
        if (p.sasl->malformed()) ctx_.anomalies().add(kAnomBadSasl);
      }
      rec.arg = reveal ? std::move(p.args) : tok[0];
    }
  } else {
    rec.arg = std::move(p.args);
  }
  std::string().swap(p.args);
}

void ImapAnalyzer::finish_client_command() {
  client_in_command_ = false;
  Pending& p = pending_.back();
  render(p);
  if (p.rec->command == "AUTHENTICATE" && p.sasl) sasl_tag_ = p.rec->tag;
  if (p.rec->command == "IDLE") idle_tag_ = p.rec->tag;
}

bool ImapAnalyzer::on_server_line(std::string_view line, bool truncated) {
  if (truncated) ctx_.anomalies().add(kAnomLineTooLong);
  Side& s = side_[1];
  if (s.continuing) {
    // The rest of an untagged response after one of its literals.
    s.continuing = false;
    return !start_literal(false, line) && !stopped_;
  }
  const ImapResponseLine r = parse_response_line(line);
  switch (r.kind) {
    case ImapResponseKind::kUntagged:
      bad_server_lines_ = 0;
      return !start_literal(false, line) && !stopped_;
    case ImapResponseKind::kContinuation:
      // A SASL challenge, the go-ahead for a literal, or "+ idling".
      bad_server_lines_ = 0;
      return true;
    case ImapResponseKind::kTagged:
      break;
    case ImapResponseKind::kOther:
      if (!line.empty()) bad_line(kAnomBadResponse, bad_server_lines_);
      return !stopped_;
  }
  bad_server_lines_ = 0;
  for (size_t i = 0; i < pending_.size(); ++i) {
    if (pending_[i].rec->tag == r.tag) {
      complete(i, r.status, r.text);
      return !stopped_;
    }
  }
  ctx_.anomalies().add(kAnomUnmatchedResponse);
  return true;
}

void ImapAnalyzer::complete(size_t index, std::string_view status, std::string_view text) {
  Pending& p = pending_[index];
  p.rec->status = upper(status);
  p.rec->msg.assign(text);
  emit_pending(index, true, p.rec->status == "OK");
}

void ImapAnalyzer::emit_pending(size_t index, bool answered, bool ok) {
  Pending& p = pending_[index];
  const bool in_progress = client_in_command_ && index + 1 == pending_.size();
  if (in_progress) {
    // Answered before the client finished it (a refused synchronizing
    // literal, or the end of the connection).
    client_in_command_ = false;
    side_[0].continuing = false;
  }
  render(p);
  ImapRecord& rec = *p.rec;
  if (rec.tag == sasl_tag_) sasl_tag_.clear();
  if (rec.tag == idle_tag_) idle_tag_.clear();

  std::string method;
  std::string user;
  bool attempt = false;
  if (rec.command == "LOGIN" && !p.login_user.empty()) {
    method = "LOGIN";
    user = p.login_user;
    attempt = true;
  } else if (rec.command == "AUTHENTICATE" && p.sasl && !p.sasl->cancelled() &&
             (p.sasl->responses() != 0 || answered)) {
    method = "AUTH " + p.sasl->mechanism();
    user = p.sasl->user();
    attempt = true;
    if (!user.empty()) rec.user = user;
  }
  if (attempt) {
    auto a = std::make_unique<AuthRecord>();
    a->ts = rec.ts;
    a->set_conn(ctx_.conn());
    a->proto = "imap";
    a->method = method;
    a->user = user;
    if (ctx_.config().reveal_credentials) {
      if (p.sasl && p.sasl->has_password()) {
        a->password = p.sasl->password();
        a->has_password = true;
      } else if (!p.sasl) {
        auto tok = split_arguments(rec.arg, 2);
        if (tok.size() == 2) {
          a->password = tok[1];
          a->has_password = true;
        }
      }
    }
    if (answered) {
      a->outcome = ok ? AuthOutcome::kSuccess : AuthOutcome::kFailure;
      a->reply = rec.status;
      if (!rec.msg.empty()) a->reply += ' ' + rec.msg;
    }
    if (answered && ok) user_ = user;
    ctx_.emit(std::move(a));
  }
  const bool tls = rec.command == "STARTTLS" && answered && ok;
  ctx_.emit(std::move(p.rec));
  pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(index));
  if (tls) {
    stopped_ = true;
    ctx_.upgrade("ssl");
  }
}

void ImapAnalyzer::finish(core::Timestamp ts) {
  (void)ts;
  while (!pending_.empty()) emit_pending(0, false, false);
}

}  // namespace trawl::analyzers::imap

#include "analyzers/http/http_analyzer.h"

#include <algorithm>
#include <array>

#include "analyzers/common/auth_record.h"
#include "analyzers/common/text.h"

namespace trawl::analyzers::http {

namespace {

constexpr size_t kMaxReply = 256;  // bytes of the status line kept as an auth reply
constexpr size_t kMaxUser = 256;   // bytes of a Basic user name kept

bool is_proxy_header(std::string_view name) {
  static constexpr std::array<std::string_view, 7> kNames = {
      "forwarded", "x-forwarded-for", "x-forwarded-from", "client-ip", "via", "xroxy-connection", "proxy-connection"};
  for (std::string_view n : kNames) {
    if (iequals(name, n)) return true;
  }
  return false;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// A redirect after a login form that leads back to a login or error page.
bool failure_location(std::string_view location) {
  static constexpr std::array<std::string_view, 5> kWords = {"error", "fail", "invalid", "denied", "retry"};
  const std::string l = to_lower(location);
  for (std::string_view w : kWords) {
    if (l.find(w) != std::string::npos) return true;
  }
  return is_login_path(location);
}

// ---- probe -------------------------------------------------------------------

constexpr std::string_view kStatusPrefix = "HTTP/1.";

// Bytes a capture that starts mid-connection may show before the first
// message (the NUL of a TCP keep-alive probe, the end of a previous line).
std::string_view skip_junk(std::string_view s) {
  size_t i = 0;
  while (i < 8 && i < s.size() && (s[i] == '\0' || s[i] == '\r' || s[i] == '\n' || s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

Probe probe_request(std::string_view s, bool done, bool port_hint) {
  s = skip_junk(s);
  if (s.empty()) return done ? Probe::kNo : Probe::kMaybe;
  size_t i = 0;
  while (i < s.size() && i <= 32 && is_token_char(static_cast<unsigned char>(s[i]))) ++i;
  if (i == s.size()) {
    // Still inside the method: it must be able to become a known one.
    if (done || i > 32) return Probe::kNo;
    if (port_hint) return Probe::kMaybe;
    static constexpr std::array<std::string_view, 9> kCommon = {"GET",   "POST",  "HEAD",    "PUT",  "DELETE",
                                                                "OPTIONS", "CONNECT", "PATCH", "PROPFIND"};
    for (std::string_view m : kCommon) {
      if (m.substr(0, s.size()) == s) return Probe::kMaybe;
    }
    return Probe::kNo;
  }
  if (i == 0 || s[i] != ' ') return Probe::kNo;
  const std::string_view method = s.substr(0, i);
  if (!is_known_method(method)) {
    // Any upper-case token on a hint port; only known methods elsewhere.
    if (!port_hint) return Probe::kNo;
    for (char c : method) {
      if (!((c >= 'A' && c <= 'Z') || c == '-' || c == '_')) return Probe::kNo;
    }
  }
  const size_t nl = s.find('\n');
  if (nl == std::string_view::npos) {
    if (!done) return Probe::kMaybe;
    // The probe buffer is full before the end of the line (a long URI):
    // accept a known method with an origin-form or absolute target.
    const std::string_view target = s.substr(i + 1);
    const bool plausible = is_known_method(method) && (target.starts_with("/") || target.starts_with("http://") ||
                                                        target.starts_with("https://"));
    return plausible && target.find('\r') == std::string_view::npos ? Probe::kYes : Probe::kNo;
  }
  std::string_view line = s.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto rl = parse_request_line(line);
  return rl && rl->major == 1 ? Probe::kYes : Probe::kNo;
}

Probe probe_status(std::string_view s, bool done) {
  s = skip_junk(s);
  if (s.empty()) return done ? Probe::kNo : Probe::kMaybe;
  const size_t n = std::min(s.size(), kStatusPrefix.size());
  if (s.substr(0, n) != kStatusPrefix.substr(0, n)) return Probe::kNo;
  if (s.size() < 12) return done ? Probe::kNo : Probe::kMaybe;  // "HTTP/1.1 200"
  const auto digit = [&](size_t k) { return s[k] >= '0' && s[k] <= '9'; };
  return digit(7) && s[8] == ' ' && digit(9) && digit(10) && digit(11) ? Probe::kYes : Probe::kNo;
}

}  // namespace

Probe probe_http(const ProbeInput& in) {
  const Probe req = probe_request(core::as_chars(in.orig), in.orig_done, in.port_hint);
  const Probe resp = probe_status(core::as_chars(in.resp), in.resp_done);
  if (req == Probe::kYes || resp == Probe::kYes) return Probe::kYes;
  // The server said something that is not a status line: not HTTP.
  if (!in.resp.empty() && resp == Probe::kNo) return Probe::kNo;
  if (req == Probe::kNo) {
    // The client side is not a request; on a hint port a status line from
    // the server may still show HTTP seen from the middle.
    return in.resp.empty() && !in.resp_done && in.port_hint ? Probe::kMaybe : Probe::kNo;
  }
  return Probe::kMaybe;
}

// ---- transactions --------------------------------------------------------------

struct HttpAnalyzer::Txn {
  std::unique_ptr<HttpRecord> rec = std::make_unique<HttpRecord>();
  bool request_done = false;
  bool final_seen = false;  // a final (not 1xx) status line arrived
  bool response_done = false;
  bool head = false;
  bool connect = false;
  bool post = false;
  std::string req_content_type;
  std::string resp_content_type;

  // Authorization header: one attempt per request.
  bool auth_attempt = false;
  bool proxy_auth = false;
  std::string auth_method;  // "basic", "ntlm", "negotiate"
  std::string auth_user;
  std::string auth_domain;
  std::string auth_password;
  bool auth_has_password = false;

  // Login form.
  bool form_login = false;
  std::string form_user;
  std::string form_password;
  bool form_has_password = false;
  bool password_input = false;  // the reply page has a password input
  bool set_cookie = false;
  std::string status_line;
};

HttpAnalyzer::HttpAnalyzer(Context& ctx, const HttpAnalyzerLimits& limits)
    : ctx_(ctx),
      limits_(limits),
      req_side_(*this, true),
      resp_side_(*this, false),
      requests_(true, req_side_, ctx.anomalies(), limits_.parser),
      responses_(false, resp_side_, ctx.anomalies(), limits_.parser),
      req_body_(limits_.max_decoded),
      resp_body_(limits_.max_decoded) {}

HttpAnalyzer::~HttpAnalyzer() = default;

void HttpAnalyzer::stop() {
  stopped_ = true;
  ctx_.give_up();
}

void HttpAnalyzer::data(bool is_orig, core::ByteView bytes, core::Timestamp ts) {
  if (stopped_) return;
  now_ = ts;
  (is_orig ? requests_ : responses_).feed(bytes);
  if (!stopped_ && (requests_.dead() || responses_.dead())) stop();
}

void HttpAnalyzer::gap(bool is_orig, uint64_t bytes, core::Timestamp ts) {
  if (stopped_) return;
  now_ = ts;
  (is_orig ? requests_ : responses_).gap(bytes);
}

void HttpAnalyzer::end_of_stream(bool is_orig, core::Timestamp ts) {
  if (stopped_) return;
  now_ = ts;
  (is_orig ? requests_ : responses_).end_of_stream();
}

HttpAnalyzer::Txn& HttpAnalyzer::push_txn() {
  if (pending_.size() >= limits_.max_pending) {
    // Responses are not coming (one-sided capture, or a flood): write the
    // oldest out as it is.
    ctx_.anomalies().add(kAnomTooManyPending);
    Txn* oldest = pending_.front().get();
    if (oldest == req_txn_) req_txn_ = nullptr;
    if (oldest == resp_txn_) resp_txn_ = nullptr;
    emit(*oldest);
    pending_.pop_front();
  }
  pending_.push_back(std::make_unique<Txn>());
  Txn& t = *pending_.back();
  t.rec->ts = now_;
  t.rec->set_conn(ctx_.conn());
  t.rec->trans_depth = ++depth_;
  return t;
}

void HttpAnalyzer::on_request_line(const RequestLine& line) {
  if (stopped_) return;
  if (line.major != 1) {
    // HTTP/2 prior knowledge ("PRI * HTTP/2.0") or something else binary.
    ctx_.anomalies().add(kAnomUnsupportedVersion);
    stop();
    return;
  }
  if (!is_known_method(line.method)) ctx_.anomalies().add(kAnomUnknownMethod);
  Txn& t = push_txn();
  t.rec->method.emplace(line.method);
  t.rec->raw_uri.assign(line.target);
  t.rec->uri = percent_decode(line.target);
  t.head = line.method == "HEAD";
  t.connect = line.method == "CONNECT";
  t.post = line.method == "POST";
  req_txn_ = &t;
  req_coding_ = ContentCoding::kIdentity;
  req_body_.start(ContentCoding::kIdentity);
  host_seen_ = false;
  auth_seen_ = false;
  capturing_ = false;
}

void HttpAnalyzer::on_status_line(const StatusLine& line) {
  if (stopped_) return;
  Txn* t = nullptr;
  for (auto& p : pending_) {
    if (!p->final_seen) {
      t = p.get();
      break;
    }
  }
  if (!t) {
    ctx_.anomalies().add(kAnomResponseWithoutRequest);
    t = &push_txn();
    t->request_done = true;
  }
  HttpRecord& r = *t->rec;
  r.version = std::string{static_cast<char>('0' + line.major), '.', static_cast<char>('0' + line.minor)};
  r.status_code = line.code;
  if (line.reason.empty()) {
    r.status_msg.reset();
  } else {
    r.status_msg.emplace(line.reason);
  }
  if (line.code >= 100 && line.code < 200) {
    r.info_code = line.code;
    r.info_msg = r.status_msg;
  }
  // 101 Switching Protocols ends HTTP on this connection: it is final here.
  if (line.code >= 200 || line.code == 101) t->final_seen = true;
  t->status_line = "HTTP/";
  t->status_line.push_back(static_cast<char>('0' + line.major));
  t->status_line.push_back('.');
  t->status_line.push_back(static_cast<char>('0' + line.minor));
  t->status_line.push_back(' ');
  t->status_line.append(std::to_string(line.code));
  if (!line.reason.empty()) {
    t->status_line.push_back(' ');
    t->status_line.append(line.reason.substr(0, kMaxReply));
  }
  resp_txn_ = t;
  resp_code_ = line.code;
  resp_coding_ = ContentCoding::kIdentity;
  resp_body_.start(ContentCoding::kIdentity);
  scanning_ = false;
  tunnel_ = false;
}

void HttpAnalyzer::authorization(Txn& t, std::string_view value, bool proxy) {
  const Authorization a = parse_authorization(value);
  HttpRecord& r = *t.rec;
  switch (a.scheme) {
    case AuthScheme::kBasic: {
      auto c = decode_basic(a.token);
      t.auth_attempt = true;
      t.auth_method = "basic";
      t.proxy_auth = proxy;
      if (!c) {
        ctx_.anomalies().add(kAnomBadBasicAuth);
        return;
      }
      if (!c->has_colon) ctx_.anomalies().add(kAnomBadBasicAuth);
      if (c->user.size() > kMaxUser) c->user.resize(kMaxUser);
      t.auth_user = c->user;
      r.username = c->user;
      if (ctx_.config().reveal_credentials && c->has_colon) {
        t.auth_password = c->password;
        t.auth_has_password = true;
        r.password = c->password;
      }
      return;
    }
    case AuthScheme::kNtlm:
    case AuthScheme::kNegotiate: {
      const bool ntlm = a.scheme == AuthScheme::kNtlm;
      auto blob = base64_decode(a.token);
      if (!blob) {
        ctx_.anomalies().add(kAnomBadNtlm);
        return;
      }
      const core::ByteView b{reinterpret_cast<const uint8_t*>(blob->data()), blob->size()};
      auto m = parse_ntlm(b);
      if (m) {
        // NEGOTIATE (1) carries no credentials; AUTHENTICATE (3) does.
        if (m->type != 3) return;
        t.auth_user = m->user;
        t.auth_domain = m->domain;
      } else if (ntlm) {
        ctx_.anomalies().add(kAnomBadNtlm);
        return;
      }
      // Negotiate without NTLM inside: a Kerberos ticket (no user visible).
      t.auth_attempt = true;
      t.auth_method = ntlm ? "ntlm" : "negotiate";
      t.proxy_auth = proxy;
      return;
    }
    default:
      return;
  }
}

void HttpAnalyzer::on_request_header(std::string_view name, std::string_view value) {
  if (stopped_ || !req_txn_) return;
  Txn& t = *req_txn_;
  HttpRecord& r = *t.rec;
  if (iequals(name, "host")) {
    if (host_seen_) {
      ctx_.anomalies().add(kAnomDuplicateHost);
    } else {
      r.host.emplace(value);
      host_seen_ = true;
    }
  } else if (iequals(name, "referer")) {
    if (!r.referrer) r.referrer.emplace(value);
  } else if (iequals(name, "user-agent")) {
    if (!r.user_agent) r.user_agent.emplace(value);
  } else if (iequals(name, "origin")) {
    if (!r.origin) r.origin.emplace(value);
  } else if (iequals(name, "content-type")) {
    t.req_content_type.assign(value);
  } else if (iequals(name, "content-encoding")) {
    req_coding_ = content_coding(value);
  } else if (iequals(name, "authorization") || iequals(name, "proxy-authorization")) {
    if (!auth_seen_) {
      auth_seen_ = true;
      authorization(t, value, iequals(name, "proxy-authorization"));
    }
  } else if (is_proxy_header(name)) {
    if (r.proxied.size() < limits_.max_proxied) {
      std::string entry = upper(name);
      entry.append(" -> ");
      entry.append(value);
      if (std::find(r.proxied.begin(), r.proxied.end(), entry) == r.proxied.end()) r.proxied.push_back(std::move(entry));
    }
  }
}

void HttpAnalyzer::on_response_header(std::string_view name, std::string_view value) {
  if (stopped_ || !resp_txn_) return;
  Txn& t = *resp_txn_;
  // Headers of a 1xx reply describe nothing of the final one.
  if (resp_code_ < 200 && resp_code_ != 101) return;
  if (iequals(name, "content-type")) {
    t.resp_content_type.assign(value);
  } else if (iequals(name, "content-encoding")) {
    resp_coding_ = content_coding(value);
  } else if (iequals(name, "location")) {
    if (!t.rec->resp_location) t.rec->resp_location.emplace(value);
  } else if (iequals(name, "set-cookie")) {
    t.set_cookie = true;
  }
}

Framing HttpAnalyzer::on_request_headers_done(Framing f) {
  if (stopped_ || !req_txn_) return f;
  req_body_.start(req_coding_);
  capturing_ = req_txn_->post && form_kind(req_txn_->req_content_type) != FormKind::kNone;
  form_buf_.clear();
  return f;
}

Framing HttpAnalyzer::on_response_headers_done(Framing f) {
  if (stopped_ || !resp_txn_) return f;
  Txn& t = *resp_txn_;
  if (resp_code_ == 101) {
    tunnel_ = true;
    return Framing::kTunnel;
  }
  if (resp_code_ < 200) return Framing::kNone;
  if (t.head) f = Framing::kNone;
  if (t.connect && resp_code_ < 300) {
    tunnel_ = true;
    return Framing::kTunnel;
  }
  resp_body_.start(resp_coding_);
  // Only the reply to a login form is looked at (or to a form POST whose
  // body has not ended yet, when it is not known).
  scanning_ = t.post && (t.form_login || (!t.request_done && form_kind(t.req_content_type) != FormKind::kNone));
  if (scanning_) scanner_.reset();
  return f;
}

void HttpAnalyzer::on_body(bool is_orig, core::ByteView data) {
  if (stopped_) return;
  if (is_orig) {
    if (req_txn_) req_body_.feed(data, capturing_ ? &req_side_ : nullptr, ctx_.anomalies());
  } else if (resp_txn_) {
    resp_body_.feed(data, scanning_ ? &resp_side_ : nullptr, ctx_.anomalies());
  }
}

void HttpAnalyzer::on_body_gap(bool is_orig, uint64_t bytes) {
  if (stopped_) return;
  if (is_orig) {
    if (req_txn_) req_body_.gap(bytes);
    capturing_ = false;  // names after the hole are lost; those before it are kept
  } else if (resp_txn_) {
    resp_body_.gap(bytes);
  }
}

void HttpAnalyzer::on_decoded(bool is_orig, core::ByteView data) {
  if (is_orig) {
    if (!capturing_) return;
    const size_t room = limits_.max_form_bytes - form_buf_.size();
    if (data.size() > room) {
      ctx_.anomalies().add(kAnomFormTruncated);
      data = data.first(room);
      capturing_ = false;  // the field names of the first bytes are parsed at the end
    }
    form_buf_.append(core::as_chars(data));
  } else {
    scanner_.feed(data);
  }
}

void HttpAnalyzer::finish_request_body(Txn& t) {
  HttpRecord& r = *t.rec;
  r.request_body_len = req_body_.length();
  if (r.request_body_len > 0 && !t.req_content_type.empty()) {
    std::string mt = media_type(t.req_content_type);
    if (!mt.empty()) r.orig_mime_type = std::move(mt);
  }
  if (form_buf_.empty()) return;
  const std::string_view body = form_buf_;
  const FormKind kind = form_kind(t.req_content_type);
  std::vector<FormField> fields;
  if (!parse_form(kind, t.req_content_type, body, fields, limits_.form)) {
    ctx_.anomalies().add(kAnomTooManyFormFields);
  }
  for (const FormField& f : fields) {
    if (std::find(r.post_fields.begin(), r.post_fields.end(), f.name) == r.post_fields.end()) {
      r.post_fields.push_back(f.name);
    }
  }
  const FormLogin login = detect_form_login(r.raw_uri, fields);
  if (login.attempt) {
    t.form_login = true;
    if (login.user_field >= 0) t.form_user = form_value(kind, fields[static_cast<size_t>(login.user_field)]);
    if (ctx_.config().reveal_credentials) {
      t.form_password = form_value(kind, fields[static_cast<size_t>(login.password_field)]);
      t.form_has_password = true;
    }
  }
  // The body is not kept past this point.
  if (form_buf_.capacity() > 4096) {
    std::string().swap(form_buf_);
  } else {
    form_buf_.clear();
  }
}

void HttpAnalyzer::on_request_done(bool complete) {
  (void)complete;
  if (stopped_ || !req_txn_) return;
  Txn& t = *req_txn_;
  finish_request_body(t);
  t.request_done = true;
  req_txn_ = nullptr;
  capturing_ = false;
  flush();
}

void HttpAnalyzer::on_response_done(bool complete) {
  (void)complete;
  if (stopped_ || !resp_txn_) return;
  Txn& t = *resp_txn_;
  resp_txn_ = nullptr;
  if (!t.final_seen) return;  // a 1xx reply: the final one is still to come
  HttpRecord& r = *t.rec;
  r.response_body_len = resp_body_.length();
  if (r.response_body_len > 0 && !t.resp_content_type.empty()) {
    std::string mt = media_type(t.resp_content_type);
    if (!mt.empty()) r.resp_mime_type = std::move(mt);
  }
  t.password_input = scanning_ && scanner_.found();
  scanning_ = false;
  t.response_done = true;
  const bool connect = t.connect;
  flush();
  if (tunnel_) {
    tunnel_ = false;
    if (connect) {
      // CONNECT 2xx: TLS (most often) from here on, in both directions.
      stopped_ = true;
      ctx_.upgrade("ssl");
    } else {
      stop();  // 101: WebSocket, h2c ... not analysed
    }
  }
}

void HttpAnalyzer::flush() {
  while (!pending_.empty()) {
    Txn& t = *pending_.front();
    if (!t.request_done || !t.response_done) break;
    emit(t);
    pending_.pop_front();
  }
}

void HttpAnalyzer::emit(Txn& t) {
  if (!t.rec) return;
  const core::Timestamp ts = t.rec->ts;
  const std::optional<uint16_t> code = t.final_seen ? t.rec->status_code : std::nullopt;
  const std::string location = t.rec->resp_location.value_or("");
  ctx_.emit(std::move(t.rec));

  auto auth = [&](std::string method, std::string user) {
    auto a = std::make_unique<AuthRecord>();
    a->ts = ts;
    a->set_conn(ctx_.conn());
    a->proto = "http";
    a->method = std::move(method);
    a->user = std::move(user);
    if (code) a->reply = t.status_line;
    return a;
  };
  if (t.auth_attempt) {
    auto a = auth(t.auth_method, t.auth_user);
    a->domain = t.auth_domain;
    if (t.auth_has_password) {
      a->password = t.auth_password;
      a->has_password = true;
    }
    if (code) {
      const uint16_t c = *code;
      if (c == 401 || c == 403 || (t.proxy_auth && c == 407)) {
        a->outcome = AuthOutcome::kFailure;
      } else if (t.auth_method == "basic" ? (c >= 200 && c < 400) : (c >= 200 && c < 300)) {
        a->outcome = AuthOutcome::kSuccess;
      }
    }
    ctx_.emit(std::move(a));
  }
  if (t.form_login) {
    auto a = auth("form", t.form_user);
    if (t.form_has_password) {
      a->password = t.form_password;
      a->has_password = true;
    }
    if (code) {
      const uint16_t c = *code;
      if (c == 401 || c == 403) {
        a->outcome = AuthOutcome::kFailure;
      } else if (c >= 300 && c < 400 && c != 304) {
        a->outcome = failure_location(location) ? AuthOutcome::kFailure : AuthOutcome::kSuccess;
      } else if (c == 200 && t.password_input) {
        a->outcome = AuthOutcome::kFailure;  // the login form again
      }
    }
    ctx_.emit(std::move(a));
  }
}

void HttpAnalyzer::finish(core::Timestamp ts) {
  now_ = ts;
  // Messages cut by the end of the connection keep what was counted.
  if (req_txn_) {
    finish_request_body(*req_txn_);
    req_txn_->request_done = true;
    req_txn_ = nullptr;
  }
  if (resp_txn_ && resp_txn_->final_seen) {
    HttpRecord& r = *resp_txn_->rec;
    r.response_body_len = resp_body_.length();
    if (r.response_body_len > 0 && !resp_txn_->resp_content_type.empty()) {
      std::string mt = media_type(resp_txn_->resp_content_type);
      if (!mt.empty()) r.resp_mime_type = std::move(mt);
    }
    resp_txn_->password_input = scanning_ && scanner_.found();
  }
  resp_txn_ = nullptr;
  for (auto& t : pending_) emit(*t);
  pending_.clear();
}

}  // namespace trawl::analyzers::http

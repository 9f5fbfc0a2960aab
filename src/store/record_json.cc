#include "store/record_json.h"

#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>

#include "analyzers/common/auth_record.h"
#include "analyzers/dns/dns_log_record.h"
#include "analyzers/ftp/ftp_record.h"
#include "analyzers/http/http_record.h"
#include "analyzers/imap/imap_record.h"
#include "analyzers/pop3/pop3_record.h"
#include "analyzers/rdp/rdp_record.h"
#include "analyzers/smb/dcerpc.h"
#include "analyzers/smb/smb_names.h"
#include "analyzers/smb/smb_parser.h"
#include "analyzers/smb/smb_record.h"
#include "analyzers/smtp/smtp_record.h"
#include "analyzers/ssh/ssh_record.h"
#include "analyzers/ssl/ssl_record.h"
#include "analyzers/ssl/tls_names.h"
#include "core/community_id.h"
#include "core/utf8.h"
#include "output/json_line.h"

namespace trawl::store {

namespace {

// A small JSON reader of our own rather than nlohmann::json: nlohmann decodes
// "\u00e9" to U+00E9, but JsonLine writes a lone invalid byte 0xE9 that way,
// and the round trip must give the byte back. Numbers stay text.
struct JVal {
  enum class T : uint8_t { kNull, kBool, kNum, kStr, kArr, kObj };
  T t = T::kNull;
  bool b = false;
  std::string s;  // string bytes, or a number's text
  std::vector<JVal> a;
  // Object members as two lists (a pair holding the incomplete JVal is not allowed).
  std::vector<std::string> keys;
  std::vector<JVal> vals;
};

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}
  bool parse(JVal& out, std::string& error) {
    ws();
    if (!value(out, 0)) {
      error = err_.empty() ? "malformed JSON" : err_;
      error += " at byte " + std::to_string(pos_);
      return false;
    }
    ws();
    if (pos_ != in_.size()) {
      error = "trailing characters after the JSON object at byte " + std::to_string(pos_);
      return false;
    }
    return true;
  }

 private:
  static constexpr int kMaxDepth = 8;
  static constexpr size_t kMaxItems = 1u << 16;

  void ws() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\r' || in_[pos_] == '\n')) {
      ++pos_;
    }
  }
  bool fail(const char* m) {
    if (err_.empty()) err_ = m;
    return false;
  }
  bool lit(std::string_view w) {
    if (in_.substr(pos_, w.size()) != w) return fail("malformed literal");
    pos_ += w.size();
    return true;
  }
  bool value(JVal& v, int depth) {
    if (depth > kMaxDepth) return fail("JSON nested too deeply");
    if (pos_ >= in_.size()) return fail("unexpected end of line");
    char c = in_[pos_];
    switch (c) {
      case '{': return object(v, depth);
      case '[': return array(v, depth);
      case '"': v.t = JVal::T::kStr; return string(v.s);
      case 't': v.t = JVal::T::kBool; v.b = true; return lit("true");
      case 'f': v.t = JVal::T::kBool; v.b = false; return lit("false");
      case 'n': v.t = JVal::T::kNull; return lit("null");
      default: break;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return number(v);
    return fail("unexpected character");
  }
  bool number(JVal& v) {
    size_t start = pos_;
    if (in_[pos_] == '-') ++pos_;
    size_t digits = pos_;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
    if (pos_ == digits) return fail("malformed number");
    if (pos_ < in_.size() && in_[pos_] == '.') {
      ++pos_;
      size_t f = pos_;
      while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
      if (pos_ == f) return fail("malformed number");
    }
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
      size_t e = pos_;
      while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
      if (pos_ == e) return fail("malformed number");
    }
    v.t = JVal::T::kNum;
    v.s.assign(in_.substr(start, pos_ - start));
    return true;
  }
  static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool hex4(uint32_t& cp) {
    if (pos_ + 4 > in_.size()) return fail("truncated \\u escape");
    cp = 0;
    for (size_t k = 0; k < 4; ++k) {
      int h = hexval(in_[pos_ + k]);
      if (h < 0) return fail("malformed \\u escape");
      cp = (cp << 4) | static_cast<uint32_t>(h);
    }
    pos_ += 4;
    return true;
  }
  bool string(std::string& out) {
    ++pos_;  // the opening quote
    out.clear();
    while (pos_ < in_.size()) {
      char c = in_[pos_++];
      if (c == '"') return true;
      if (static_cast<uint8_t>(c) < 0x20) return fail("control character in a string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= in_.size()) break;
      char e = in_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp < 0x100) {
            // JsonLine's byte escape: the byte itself (see the file comment).
            out.push_back(static_cast<char>(cp));
          } else if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t lo = 0;
            if (in_.substr(pos_, 2) != "\\u") return fail("lone surrogate");
            pos_ += 2;
            if (!hex4(lo)) return false;
            if (lo < 0xdc00 || lo > 0xdfff) return fail("lone surrogate");
            core::append_utf8(out, 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00));
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return fail("lone surrogate");
          } else {
            core::append_utf8(out, cp);
          }
          break;
        }
        default: return fail("unknown escape in a string");
      }
    }
    return fail("unterminated string");
  }
  bool array(JVal& v, int depth) {
    ++pos_;
    v.t = JVal::T::kArr;
    ws();
    if (pos_ < in_.size() && in_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      if (v.a.size() >= kMaxItems) return fail("array too long");
      v.a.emplace_back();
      ws();
      if (!value(v.a.back(), depth + 1)) return false;
      ws();
      if (pos_ >= in_.size()) return fail("unterminated array");
      if (in_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (in_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }
  bool object(JVal& v, int depth) {
    ++pos_;
    v.t = JVal::T::kObj;
    ws();
    if (pos_ < in_.size() && in_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      if (v.keys.size() >= kMaxItems) return fail("object too long");
      ws();
      if (pos_ >= in_.size() || in_[pos_] != '"') return fail("expected a key");
      v.keys.emplace_back();
      v.vals.emplace_back();
      if (!string(v.keys.back())) return false;
      ws();
      if (pos_ >= in_.size() || in_[pos_] != ':') return fail("expected ':'");
      ++pos_;
      ws();
      if (!value(v.vals.back(), depth + 1)) return false;
      ws();
      if (pos_ >= in_.size()) return fail("unterminated object");
      if (in_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (in_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string err_;
};

// Typed access to one parsed object; the first error is kept, later reads
// return defaults so a reader can run to its end and check ok() once.
class Obj {
 public:
  explicit Obj(const JVal& v) : v_(v) {}
  bool ok() const { return err_.empty(); }
  const std::string& error() const { return err_; }
  void fail(std::string m) {
    if (err_.empty()) err_ = std::move(m);
  }

  const JVal* find(std::string_view key) const {
    for (size_t i = 0; i < v_.keys.size(); ++i) {
      if (v_.keys[i] == key) return v_.vals[i].t == JVal::T::kNull ? nullptr : &v_.vals[i];
    }
    return nullptr;
  }
  bool has(std::string_view key) const { return find(key) != nullptr; }

  std::string str(std::string_view key) {
    auto o = opt_str(key);
    if (!o) {
      fail("missing field " + std::string(key));
      return {};
    }
    return std::move(*o);
  }
  std::optional<std::string> opt_str(std::string_view key) {
    const JVal* v = find(key);
    if (!v) return std::nullopt;
    if (v->t != JVal::T::kStr) {
      fail("field " + std::string(key) + " is not a string");
      return std::nullopt;
    }
    return v->s;
  }
  std::string str_or_empty(std::string_view key) { return opt_str(key).value_or(std::string()); }

  template <typename U>
  U num(std::string_view key) {
    auto o = opt_num<U>(key);
    if (!o) {
      fail("missing field " + std::string(key));
      return U{};
    }
    return *o;
  }
  template <typename U>
  std::optional<U> opt_num(std::string_view key) {
    const JVal* v = find(key);
    if (!v) return std::nullopt;
    U out{};
    if (v->t != JVal::T::kNum || !integer(v->s, out)) {
      fail("field " + std::string(key) + " is not an integer in range");
      return std::nullopt;
    }
    return out;
  }
  template <typename U>
  static bool integer(std::string_view s, U& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  }

  bool boolean(std::string_view key) {
    auto o = opt_bool(key);
    if (!o) {
      fail("missing field " + std::string(key));
      return false;
    }
    return *o;
  }
  std::optional<bool> opt_bool(std::string_view key) {
    const JVal* v = find(key);
    if (!v) return std::nullopt;
    if (v->t != JVal::T::kBool) {
      fail("field " + std::string(key) + " is not true or false");
      return std::nullopt;
    }
    return v->b;
  }

  // Seconds with a fraction ("1700000000.123456") in nanoseconds.
  std::optional<int64_t> opt_seconds(std::string_view key) {
    const JVal* v = find(key);
    if (!v) return std::nullopt;
    int64_t ns = 0;
    if (v->t != JVal::T::kNum || !seconds_ns(v->s, ns)) {
      fail("field " + std::string(key) + " is not a time in seconds");
      return std::nullopt;
    }
    return ns;
  }
  int64_t seconds(std::string_view key) {
    auto o = opt_seconds(key);
    if (!o) fail("missing field " + std::string(key));
    return o.value_or(0);
  }
  core::Timestamp ts(std::string_view key = "ts") { return core::Timestamp{seconds(key)}; }

  core::IpAddress ip(std::string_view key) {
    auto o = opt_ip(key);
    if (!o) fail("missing or malformed address " + std::string(key));
    return o.value_or(core::IpAddress{});
  }
  std::optional<core::IpAddress> opt_ip(std::string_view key) {
    const JVal* v = find(key);
    if (!v) return std::nullopt;
    std::optional<core::IpAddress> a;
    if (v->t == JVal::T::kStr) a = core::IpAddress::parse(v->s);
    if (!a) fail("field " + std::string(key) + " is not an IP address");
    return a;
  }

  std::optional<std::vector<std::string>> opt_strings(std::string_view key) {
    const JVal* v = find(key);
    if (!v) return std::nullopt;
    std::vector<std::string> out;
    if (v->t != JVal::T::kArr) {
      fail("field " + std::string(key) + " is not an array");
      return std::nullopt;
    }
    for (const auto& e : v->a) {
      if (e.t != JVal::T::kStr) {
        fail("field " + std::string(key) + " holds a non-string");
        return std::nullopt;
      }
      out.push_back(e.s);
    }
    return out;
  }
  std::vector<std::string> strings(std::string_view key) { return opt_strings(key).value_or(std::vector<std::string>{}); }

  static bool seconds_ns(std::string_view s, int64_t& ns) {
    bool neg = !s.empty() && s[0] == '-';
    if (neg) s.remove_prefix(1);
    size_t dot = s.find('.');
    std::string_view whole = s.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
    if (whole.empty() || frac.size() > 9 || s.find_first_of("eE") != std::string_view::npos) {
      // Not the form trawl writes: through a double (may lose nanoseconds).
      double d = 0;
      std::string tmp(neg ? "-" : "");
      tmp += s;
      auto [p, ec] = std::from_chars(tmp.data(), tmp.data() + tmp.size(), d);
      if (ec != std::errc() || p != tmp.data() + tmp.size() || !std::isfinite(d) || std::fabs(d) > 9.2e9) {
        return false;
      }
      ns = static_cast<int64_t>(std::llround(d * 1e9));
      return true;
    }
    uint64_t w = 0;
    if (!integer(whole, w) || w > 9'000'000'000ULL) return false;
    uint64_t f = 0;
    if (!frac.empty() && !integer(frac, f)) return false;
    for (size_t k = frac.size(); k < 9; ++k) f *= 10;
    int64_t v = static_cast<int64_t>(w) * 1'000'000'000 + static_cast<int64_t>(f);
    // "-0.000000" is how a time just before the epoch rounds: -1 ns writes
    // it again, 0 would lose the sign.
    ns = neg ? (v == 0 ? -1 : -v) : v;
    return true;
  }

  const JVal& raw() const { return v_; }

 private:
  const JVal& v_;
  std::string err_;
};

// Compact JSON text of a value, as JsonLine writes it (for a finding's details).
void write_value(const JVal& v, std::string& out) {
  switch (v.t) {
    case JVal::T::kNull: out += "null"; break;
    case JVal::T::kBool: out += v.b ? "true" : "false"; break;
    case JVal::T::kNum: out += v.s; break;
    case JVal::T::kStr: output::append_json_string(out, v.s); break;
    case JVal::T::kArr:
      out.push_back('[');
      for (size_t i = 0; i < v.a.size(); ++i) {
        if (i) out.push_back(',');
        write_value(v.a[i], out);
      }
      out.push_back(']');
      break;
    case JVal::T::kObj:
      out.push_back('{');
      for (size_t i = 0; i < v.keys.size(); ++i) {
        if (i) out.push_back(',');
        output::append_json_string(out, v.keys[i]);
        out.push_back(':');
        write_value(v.vals[i], out);
      }
      out.push_back('}');
      break;
  }
}

bool parse_object(std::string_view line, JVal& v, std::string& error) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.size() > kMaxJsonLine) {
    error = "line longer than " + std::to_string(kMaxJsonLine) + " bytes";
    return false;
  }
  Parser p(line);
  if (!p.parse(v, error)) return false;
  if (v.t != JVal::T::kObj) {
    error = "not a JSON object";
    return false;
  }
  return true;
}

template <typename F>
bool read_with(std::string_view line, std::string& error, F&& fill) {
  JVal v;
  if (!parse_object(line, v, error)) return false;
  Obj o(v);
  fill(o);
  if (!o.ok()) {
    error = o.error();
    return false;
  }
  return true;
}

// Reads the five fields every per-connection log starts with.
template <typename R>
void read_id(Obj& o, R& r) {
  r.ts = o.ts();
  r.uid = o.str("uid");
  r.orig_h = o.ip("id.orig_h");
  r.orig_p = o.num<uint16_t>("id.orig_p");
  r.resp_h = o.ip("id.resp_h");
  r.resp_p = o.num<uint16_t>("id.resp_p");
}

// Name -> number for names printed by a function of a small numeric range.
template <typename N, typename F>
std::map<std::string, N, std::less<>> reverse_table(uint32_t limit, F&& name) {
  std::map<std::string, N, std::less<>> m;
  for (uint32_t v = 0; v < limit; ++v) m.emplace(std::string(name(static_cast<N>(v))), static_cast<N>(v));
  return m;
}

template <typename N>
std::optional<N> lookup_name(const std::map<std::string, N, std::less<>>& m, std::string_view name) {
  auto it = m.find(name);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

// ---- conn and arp ----

uint8_t proto_number(std::string_view name, const core::IpAddress& orig) {
  if (name == "tcp") return 6;
  if (name == "udp") return 17;
  if (name == "icmp") return orig.is_v6() ? 58 : 1;
  return 0;
}

// ---- per log ----

std::unique_ptr<analyzers::Record> read_auth(Obj& o) {
  auto r = std::make_unique<analyzers::AuthRecord>();
  r->ts = o.ts();
  r->uid = o.str("uid");
  r->client = o.ip("id.orig_h");
  r->client_port = o.num<uint16_t>("id.orig_p");
  r->server = o.ip("id.resp_h");
  r->server_port = o.num<uint16_t>("id.resp_p");
  r->proto = o.str("proto");
  r->method = o.str_or_empty("method");
  r->user = o.str("user");
  r->domain = o.str_or_empty("domain");
  if (auto p = o.opt_str("password")) {
    r->password = std::move(*p);
    r->has_password = true;
  }
  std::string outcome = o.str("outcome");
  r->outcome = outcome == "success"   ? analyzers::AuthOutcome::kSuccess
               : outcome == "failure" ? analyzers::AuthOutcome::kFailure
                                      : analyzers::AuthOutcome::kUnknown;
  r->reply = o.str_or_empty("reply");
  return r;
}

std::unique_ptr<analyzers::Record> read_dns(Obj& o) {
  namespace d = analyzers::dns;
  auto r = std::make_unique<d::DnsLogRecord>();
  read_id(o, *r);
  r->tcp = o.str("proto") == "tcp";
  r->trans_id = o.num<uint16_t>("trans_id");
  r->rtt_ns = o.opt_seconds("rtt");
  r->query = o.opt_str("query");
  r->qclass = o.opt_num<uint16_t>("qclass");
  r->qtype = o.opt_num<uint16_t>("qtype");
  r->rcode = o.opt_num<uint16_t>("rcode");
  r->aa = o.boolean("AA");
  r->tc = o.boolean("TC");
  r->rd = o.boolean("RD");
  r->ra = o.boolean("RA");
  r->z = o.num<uint8_t>("Z");
  r->rejected = o.boolean("rejected");
  auto answers = o.opt_strings("answers");
  const JVal* ttls = o.find("TTLs");
  if (answers) {
    if (!ttls || ttls->t != JVal::T::kArr || ttls->a.size() != answers->size()) {
      o.fail("answers and TTLs differ in length");
      return nullptr;
    }
    for (size_t i = 0; i < answers->size(); ++i) {
      d::DnsAnswer a;
      a.text = std::move((*answers)[i]);
      // TTLs are written as "N.0".
      const JVal& t = ttls->a[i];
      std::string_view ts = t.s;
      if (ts.size() > 2 && ts.substr(ts.size() - 2) == ".0") ts.remove_suffix(2);
      if (t.t != JVal::T::kNum || !Obj::integer(ts, a.ttl)) {
        o.fail("malformed TTL");
        return nullptr;
      }
      // Not in the line: the owner name (taken as the query), the type and
      // the address, rebuilt from the text (A/AAAA answers are the address;
      // a name in answer to an address query is a CNAME).
      a.name = r->query.value_or(std::string());
      a.rclass = r->qclass.value_or(1);
      a.address = core::IpAddress::parse(a.text);
      if (a.address) {
        a.type = a.address->is_v4() ? 1 : 28;
      } else if (r->qtype && (*r->qtype == 1 || *r->qtype == 28 || *r->qtype == 5) &&
                 a.text.find(' ') == std::string::npos && a.text.find('<') == std::string::npos) {
        a.type = 5;
      } else if (r->qtype) {
        a.type = *r->qtype;
      }
      r->answers.push_back(std::move(a));
    }
  } else if (ttls) {
    o.fail("TTLs without answers");
  }
  // The typed extras: a query was seen when Zeek's qtype is set, a reply
  // when rcode is; the reply came rtt after the query.
  r->saw_query = r->qtype.has_value();
  r->saw_reply = r->rcode.has_value();
  if (r->saw_reply) r->reply_ts = r->rtt_ns ? r->ts + *r->rtt_ns : r->ts;
  r->total_answers = static_cast<uint16_t>(std::min<size_t>(r->answers.size(), 0xffff));
  r->total_replies = r->total_answers;
  if (r->query) r->query_original = *r->query;
  return r;
}

std::unique_ptr<analyzers::Record> read_ftp(Obj& o) {
  auto r = std::make_unique<analyzers::ftp::FtpRecord>();
  read_id(o, *r);
  r->user = o.str("user");
  r->password = o.opt_str("password");
  r->command = o.str("command");
  r->arg = o.str_or_empty("arg");
  r->raw_arg = r->arg;
  r->file_size = o.opt_num<uint64_t>("file_size");
  r->reply_code = o.opt_num<uint16_t>("reply_code").value_or(0);
  r->reply_msg = o.str_or_empty("reply_msg");
  if (o.has("data_channel.passive")) {
    analyzers::ftp::DataChannel dc;
    dc.passive = o.boolean("data_channel.passive");
    dc.orig_h = o.ip("data_channel.orig_h");
    dc.resp_h = o.ip("data_channel.resp_h");
    dc.resp_p = o.num<uint16_t>("data_channel.resp_p");
    r->data_channel = dc;
  }
  return r;
}

std::optional<std::string> first_of(Obj& o, std::string_view key) {
  auto v = o.opt_strings(key);
  if (!v) return std::nullopt;
  if (v->size() != 1) {
    o.fail("field " + std::string(key) + " should hold one string");
    return std::nullopt;
  }
  return std::move(v->front());
}

std::unique_ptr<analyzers::Record> read_http(Obj& o) {
  auto r = std::make_unique<analyzers::http::HttpRecord>();
  read_id(o, *r);
  r->trans_depth = o.num<uint32_t>("trans_depth");
  r->method = o.opt_str("method");
  r->host = o.opt_str("host");
  r->uri = o.opt_str("uri");
  r->referrer = o.opt_str("referrer");
  r->version = o.opt_str("version");
  r->user_agent = o.opt_str("user_agent");
  r->origin = o.opt_str("origin");
  r->request_body_len = o.num<uint64_t>("request_body_len");
  r->response_body_len = o.num<uint64_t>("response_body_len");
  r->status_code = o.opt_num<uint16_t>("status_code");
  r->status_msg = o.opt_str("status_msg");
  r->info_code = o.opt_num<uint16_t>("info_code");
  r->info_msg = o.opt_str("info_msg");
  r->username = o.opt_str("username");
  r->password = o.opt_str("password");
  r->proxied = o.strings("proxied");
  r->orig_mime_type = first_of(o, "orig_mime_types");
  r->resp_mime_type = first_of(o, "resp_mime_types");
  r->post_fields = o.strings("post_fields");
  r->resp_location = o.opt_str("resp_location");
  // raw_uri (the target as sent) is not stored; detectors fall back to uri.
  return r;
}

std::unique_ptr<analyzers::Record> read_imap(Obj& o) {
  auto r = std::make_unique<analyzers::imap::ImapRecord>();
  read_id(o, *r);
  r->user = o.str_or_empty("user");
  r->tag = o.str("tag");
  r->command = o.str("command");
  r->arg = o.str_or_empty("arg");
  r->status = o.str_or_empty("status");
  if (!r->status.empty()) r->msg = o.str("msg");
  r->request_literal_bytes = o.opt_num<uint64_t>("request_literal_bytes").value_or(0);
  r->response_literal_bytes = o.opt_num<uint64_t>("response_literal_bytes").value_or(0);
  return r;
}

std::unique_ptr<analyzers::Record> read_pop3(Obj& o) {
  auto r = std::make_unique<analyzers::pop3::Pop3Record>();
  read_id(o, *r);
  r->user = o.str_or_empty("user");
  r->command = o.str("command");
  r->arg = o.str_or_empty("arg");
  r->status = o.str_or_empty("status");
  if (!r->status.empty()) r->msg = o.str("msg");
  r->response_body_len = o.opt_num<uint64_t>("response_body_len");
  return r;
}

std::unique_ptr<analyzers::Record> read_rdp(Obj& o) {
  auto r = std::make_unique<analyzers::rdp::RdpRecord>();
  read_id(o, *r);
  r->cookie = o.opt_str("cookie");
  r->result = o.opt_str("result");
  r->security_protocol = o.opt_str("security_protocol");
  r->requested_protocols = o.opt_strings("requested_protocols");
  r->client_channels = o.opt_strings("client_channels");
  r->keyboard_layout = o.opt_str("keyboard_layout");
  r->client_build = o.opt_str("client_build");
  r->client_name = o.opt_str("client_name");
  r->client_dig_product_id = o.opt_str("client_dig_product_id");
  r->desktop_width = o.opt_num<uint32_t>("desktop_width");
  r->desktop_height = o.opt_num<uint32_t>("desktop_height");
  r->requested_color_depth = o.opt_str("requested_color_depth");
  r->cert_type = o.opt_str("cert_type");
  r->cert_count = o.num<uint32_t>("cert_count");
  r->cert_permanent = o.opt_bool("cert_permanent");
  r->encryption_level = o.opt_str("encryption_level");
  r->encryption_method = o.opt_str("encryption_method");
  return r;
}

std::unique_ptr<analyzers::Record> read_ssh(Obj& o) {
  auto r = std::make_unique<analyzers::ssh::SshRecord>();
  read_id(o, *r);
  r->version = o.opt_num<uint32_t>("version");
  r->auth_success = o.opt_bool("auth_success");
  r->auth_attempts = o.num<uint32_t>("auth_attempts");
  r->client = o.opt_str("client");
  r->server = o.opt_str("server");
  r->cipher_alg = o.opt_str("cipher_alg");
  r->mac_alg = o.opt_str("mac_alg");
  r->compression_alg = o.opt_str("compression_alg");
  r->kex_alg = o.opt_str("kex_alg");
  r->host_key_alg = o.opt_str("host_key_alg");
  r->host_key = o.opt_str("host_key");
  r->hassh = o.opt_str("hassh");
  r->hassh_server = o.opt_str("hasshServer");
  return r;
}

// "unknown-N" is how the TLS tables print a number they have no name for.
template <typename N>
std::optional<N> tls_number(Obj& o, std::string_view key, const std::map<std::string, N, std::less<>>& table) {
  auto name = o.opt_str(key);
  if (!name) return std::nullopt;
  if (auto v = lookup_name(table, *name)) return v;
  std::string_view s = *name;
  N n{};
  if (s.rfind("unknown-", 0) == 0 && Obj::integer(s.substr(8), n)) return n;
  o.fail("field " + std::string(key) + ": unknown name " + *name);
  return std::nullopt;
}

std::unique_ptr<analyzers::Record> read_ssl(Obj& o) {
  namespace s = analyzers::ssl;
  static const auto versions = reverse_table<uint16_t>(0x10000, [](uint16_t v) { return s::version_name(v); });
  static const auto ciphers = reverse_table<uint16_t>(0x10000, [](uint16_t v) { return s::cipher_name(v); });
  static const auto curves = reverse_table<uint16_t>(0x10000, [](uint16_t v) { return s::curve_name(v); });
  static const auto alerts = reverse_table<uint8_t>(0x100, [](uint8_t v) { return s::alert_name(v); });
  auto r = std::make_unique<s::SslRecord>();
  read_id(o, *r);
  r->version = tls_number(o, "version", versions);
  r->cipher = tls_number(o, "cipher", ciphers);
  r->curve = tls_number(o, "curve", curves);
  r->server_name = o.opt_str("server_name");
  r->resumed = o.boolean("resumed");
  r->last_alert = tls_number(o, "last_alert", alerts);
  r->next_protocol = o.opt_str("next_protocol");
  r->established = o.boolean("established");
  r->ssl_history = o.str("ssl_history");
  if (auto fps = o.opt_strings("cert_chain_fps")) {
    r->has_certificates = true;
    r->cert_chain_fps = std::move(*fps);
    r->client_cert_chain_fps = o.strings("client_cert_chain_fps");
  }
  r->subject = o.opt_str("subject");
  r->issuer = o.opt_str("issuer");
  r->client_subject = o.opt_str("client_subject");
  r->client_issuer = o.opt_str("client_issuer");
  r->sni_matches_cert = o.opt_bool("sni_matches_cert");
  r->client_version = o.opt_num<uint16_t>("client_version");
  r->ja3 = o.str_or_empty("ja3");
  r->ja3s = o.str_or_empty("ja3s");
  r->ja4 = o.str_or_empty("ja4");
  r->ja4s = o.str_or_empty("ja4s");
  r->not_valid_before = o.opt_num<int64_t>("not_valid_before");
  r->not_valid_after = o.opt_num<int64_t>("not_valid_after");
  r->san_dns = o.strings("san_dns");
  return r;
}

std::optional<uint32_t> hex_number(std::string_view s) {
  if (s.size() < 3 || s[0] != '0' || s[1] != 'x') return std::nullopt;
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), v, 16);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// As the SMB analyzer's action_of: what a command is about.
analyzers::smb::SmbAction smb_action(analyzers::smb::SmbVersion v, uint16_t cmd) {
  namespace smb = analyzers::smb;
  using A = smb::SmbAction;
  if (v == smb::SmbVersion::kSmb2) {
    switch (cmd) {
      case smb::smb2::kNegotiate: return A::kNegotiate;
      case smb::smb2::kSessionSetup: return A::kSessionSetup;
      case smb::smb2::kLogoff: return A::kLogoff;
      case smb::smb2::kTreeConnect: return A::kTreeConnect;
      case smb::smb2::kTreeDisconnect: return A::kTreeDisconnect;
      case smb::smb2::kCreate: return A::kCreate;
      case smb::smb2::kClose: return A::kClose;
      case smb::smb2::kRead: return A::kRead;
      case smb::smb2::kWrite: return A::kWrite;
      case smb::smb2::kIoctl: return A::kIoctl;
      default: return A::kOther;
    }
  }
  switch (static_cast<uint8_t>(cmd)) {
    case smb::smb1::kNegotiate: return A::kNegotiate;
    case smb::smb1::kSessionSetupAndx: return A::kSessionSetup;
    case smb::smb1::kLogoffAndx: return A::kLogoff;
    case smb::smb1::kTreeConnectAndx:
    case 0x70: return A::kTreeConnect;
    case smb::smb1::kTreeDisconnect: return A::kTreeDisconnect;
    case smb::smb1::kNtCreateAndx:
    case smb::smb1::kOpenAndx: return A::kCreate;
    case smb::smb1::kClose: return A::kClose;
    case smb::smb1::kReadAndx: return A::kRead;
    case smb::smb1::kWriteAndx: return A::kWrite;
    case smb::smb1::kTransaction: return A::kTransaction;
    case smb::smb1::kTransaction2: return A::kTransaction2;
    case smb::smb1::kNtTransact: return A::kNtTransact;
    default: return A::kOther;
  }
}

std::unique_ptr<analyzers::Record> read_smb(Obj& o) {
  namespace smb = analyzers::smb;
  using A = smb::SmbAction;
  static const auto smb1_names =
      reverse_table<uint16_t>(0x100, [](uint16_t v) { return smb::smb1_command_name(static_cast<uint8_t>(v)); });
  static const auto smb2_names = reverse_table<uint16_t>(0x100, [](uint16_t v) { return smb::smb2_command_name(v); });
  static const auto trans = reverse_table<uint16_t>(0x100, [](uint16_t v) { return smb::trans_subcommand_name(v); });
  static const auto trans2 = reverse_table<uint16_t>(0x100, [](uint16_t v) { return smb::trans2_subcommand_name(v); });
  static const auto nt_trans =
      reverse_table<uint16_t>(0x100, [](uint16_t v) { return smb::nt_transact_subcommand_name(v); });
  static const auto dce_results = reverse_table<uint16_t>(0x100, [](uint16_t v) { return smb::dce_result_name(v); });

  auto r = std::make_unique<smb::SmbRecord>();
  read_id(o, *r);
  std::string version = o.str("version");
  if (version == "SMB2") {
    r->version = smb::SmbVersion::kSmb2;
  } else if (version == "SMB1") {
    r->version = smb::SmbVersion::kSmb1;
  } else {
    o.fail("unknown SMB version " + version);
    return nullptr;
  }
  r->command_name = o.str("command");
  if (r->command_name == "DCE_RPC_BIND" || r->command_name == "DCE_RPC_ALTER_CONTEXT") {
    r->action = A::kDceRpcBind;
  } else if (r->command_name == "DCE_RPC_REQUEST") {
    r->action = A::kDceRpcRequest;
  } else {
    const auto& names = r->version == smb::SmbVersion::kSmb2 ? smb2_names : smb1_names;
    if (auto c = lookup_name(names, r->command_name)) {
      r->command = *c;
    } else if (auto h = hex_number(r->command_name); h && *h <= 0xffff) {
      r->command = static_cast<uint16_t>(*h);
    }
    r->action = smb_action(r->version, r->command);
  }
  if (auto sub = o.opt_str("sub_command")) {
    r->has_sub_command = true;
    std::optional<uint32_t> code;
    if (r->action == A::kTransaction) code = lookup_name(trans, *sub);
    if (r->action == A::kTransaction2) code = lookup_name(trans2, *sub);
    if (r->action == A::kNtTransact) code = lookup_name(nt_trans, *sub);
    if (r->action == A::kIoctl) {
      // FSCTL codes are 32 bits; the named ones are of these device types
      // (CTL_CODE: device type in the high 16 bits).
      static const auto fsctls = [] {
        std::map<std::string, uint32_t, std::less<>> m;
        for (uint32_t dev : {0x06u, 0x09u, 0x11u, 0x14u}) {
          for (uint32_t low = 0; low < 0x10000; ++low) {
            std::string_view n = smb::fsctl_name((dev << 16) | low);
            if (!n.empty()) m.emplace(std::string(n), (dev << 16) | low);
          }
        }
        return m;
      }();
      code = lookup_name(fsctls, *sub);
    }
    if (!code) code = hex_number(*sub);
    r->sub_command = code.value_or(0);
  }
  if (auto code = o.opt_str("status_code")) {
    auto v = hex_number(*code);
    if (!v) o.fail("malformed status_code");
    r->answered = true;
    r->status = v.value_or(0);
    r->dos_error = o.opt_bool("dos_error").value_or(false);
  }
  if (auto rtt = o.opt_seconds("rtt")) r->rtt_ns = *rtt;
  if (auto mid = o.opt_num<uint64_t>("message_id")) {
    r->has_message_id = true;
    r->message_id = *mid;
  }
  r->unmatched_response = o.opt_bool("unmatched_response").value_or(false);
  if (auto ph = o.opt_num<uint16_t>("pid_high")) {
    r->has_pid_high = true;
    r->pid_high = *ph;
  }
  r->dialects = o.strings("dialects");
  if (r->version == smb::SmbVersion::kSmb2) {
    for (const auto& d : r->dialects) {
      for (uint32_t c = 0; c < 0x400; ++c) {
        if (smb::smb2_dialect_name(static_cast<uint16_t>(c)) == d) {
          r->dialect_codes.push_back(static_cast<uint16_t>(c));
          break;
        }
      }
    }
  }
  r->dialect = o.str_or_empty("dialect");
  r->auth_mech = o.str_or_empty("auth_mech");
  if (auto u = o.opt_str("username")) {
    r->has_user = true;
    r->username = std::move(*u);
  }
  r->domainname = o.str_or_empty("domainname");
  r->hostname = o.str_or_empty("hostname");
  r->guest = o.opt_bool("guest").value_or(false);
  r->tree = o.str_or_empty("tree");
  r->tree_service = o.str_or_empty("tree_service");
  std::string share = o.str_or_empty("share_type");
  r->share_type = share == "DISK" ? smb::smb2::kShareDisk
                  : share == "PIPE" ? smb::smb2::kSharePipe
                  : share == "PRINT" ? smb::smb2::kSharePrint
                                     : uint8_t{0};
  r->name = o.str_or_empty("name");
  if (auto p = o.opt_bool("is_pipe")) {
    r->has_is_pipe = true;
    r->is_pipe = *p;
  }
  if (auto f = o.opt_num<uint16_t>("fid")) {
    r->has_fid = true;
    r->fid = *f;
  }
  if (auto d = o.opt_num<uint64_t>("data_len")) {
    r->has_data_len = true;
    r->data_len = *d;
  }
  r->named_pipe = o.str_or_empty("named_pipe");
  r->endpoint = o.str_or_empty("endpoint");
  r->operation = o.str_or_empty("operation");
  r->uuid = o.str_or_empty("uuid");
  if (!r->uuid.empty()) {
    std::string v = o.str("uuid_version");
    size_t dot = v.find('.');
    if (dot == std::string::npos || !Obj::integer(std::string_view(v).substr(0, dot), r->uuid_ver_major) ||
        !Obj::integer(std::string_view(v).substr(dot + 1), r->uuid_ver_minor)) {
      o.fail("malformed uuid_version");
    }
  }
  if (auto br = o.opt_str("bind_result")) {
    r->has_bind_result = true;
    r->answered = true;
    if (*br == "nak") {
      r->bind_nak = true;
    } else if (auto c = lookup_name(dce_results, *br)) {
      r->bind_result = *c;
    } else if (!Obj::integer(*br, r->bind_result)) {
      o.fail("unknown bind_result " + *br);
    }
    r->bind_reason = o.opt_num<uint16_t>("bind_reason").value_or(0);
  }
  if (auto op = o.opt_num<uint16_t>("opnum")) {
    r->has_opnum = true;
    r->opnum = *op;
  }
  if (r->action == A::kDceRpcRequest) r->stub_len = o.num<uint64_t>("stub_len");
  if (auto pt = o.opt_bool("path_traversal")) {
    r->path_traversal_checked = true;
    r->path_traversal = *pt;
  }
  if (auto f = o.opt_str("fault")) {
    auto v = hex_number(*f);
    if (!v) o.fail("malformed fault");
    r->fault = true;
    r->fault_status = v.value_or(0);
  }
  if (r->action == A::kDceRpcRequest && (r->fault || r->rtt_ns >= 0)) r->answered = true;
  return r;
}

std::unique_ptr<analyzers::Record> read_smtp(Obj& o) {
  namespace smtp = analyzers::smtp;
  auto r = std::make_unique<smtp::SmtpRecord>();
  read_id(o, *r);
  r->trans_depth = o.num<uint64_t>("trans_depth");
  auto opt = [&o](std::string_view key, std::string& v, bool& has) {
    if (auto s = o.opt_str(key)) {
      v = std::move(*s);
      has = true;
    }
  };
  opt("helo", r->helo, r->has_helo);
  r->mailfrom = o.str_or_empty("mailfrom");
  r->rcptto = o.strings("rcptto");
  opt("date", r->date, r->has_date);
  opt("from", r->from, r->has_from);
  if (auto to = o.opt_strings("to")) {
    r->to = std::move(*to);
    r->has_to = true;
  }
  if (auto cc = o.opt_strings("cc")) {
    r->cc = std::move(*cc);
    r->has_cc = true;
  }
  opt("reply_to", r->reply_to, r->has_reply_to);
  opt("msg_id", r->msg_id, r->has_msg_id);
  opt("in_reply_to", r->in_reply_to, r->has_in_reply_to);
  opt("subject", r->subject, r->has_subject);
  if (auto ip = o.opt_ip("x_originating_ip")) {
    r->x_originating_ip = *ip;
    r->has_x_originating_ip = true;
  }
  opt("first_received", r->first_received, r->has_first_received);
  opt("second_received", r->second_received, r->has_second_received);
  opt("last_reply", r->last_reply, r->has_last_reply);
  for (const auto& p : o.strings("path")) {
    auto ip = core::IpAddress::parse(p);
    if (!ip) {
      o.fail("path holds a non-address");
      break;
    }
    r->path.push_back(*ip);
  }
  opt("user_agent", r->user_agent, r->has_user_agent);
  r->tls = o.boolean("tls");
  r->is_webmail = o.boolean("is_webmail");
  r->auth_mechanism = o.str_or_empty("auth_mechanism");
  if (!r->auth_mechanism.empty()) {
    if (auto u = o.opt_str("auth_user")) {
      r->auth_user = std::move(*u);
      r->has_auth_user = true;
    }
    std::string outcome = o.str("auth_outcome");
    r->auth_outcome = outcome == "success"   ? analyzers::AuthOutcome::kSuccess
                      : outcome == "failure" ? analyzers::AuthOutcome::kFailure
                                             : analyzers::AuthOutcome::kUnknown;
  }
  if (const JVal* atts = o.find("attachments")) {
    if (atts->t != JVal::T::kArr) {
      o.fail("attachments is not an array");
      return nullptr;
    }
    for (const JVal& a : atts->a) {
      if (a.t != JVal::T::kObj) {
        o.fail("attachments holds a non-object");
        return nullptr;
      }
      Obj ao(a);
      smtp::MimeAttachment m;
      m.name = ao.str("name");
      m.size = ao.num<uint64_t>("size");
      m.mime_type = ao.str("mime_type");
      m.complete = ao.opt_bool("complete").value_or(true);
      if (!ao.ok()) {
        o.fail("attachment: " + ao.error());
        return nullptr;
      }
      r->attachments.push_back(std::move(m));
    }
  }
  return r;
}

using Reader = std::unique_ptr<analyzers::Record> (*)(Obj&);
struct LogReader {
  std::string_view log;
  Reader read;
};
constexpr std::array<LogReader, 11> kReaders{{
    {"auth", read_auth},
    {"dns", read_dns},
    {"ftp", read_ftp},
    {"http", read_http},
    {"imap", read_imap},
    {"pop3", read_pop3},
    {"rdp", read_rdp},
    {"smb", read_smb},
    {"smtp", read_smtp},
    {"ssh", read_ssh},
    {"ssl", read_ssl},
}};

}  // namespace

const std::vector<std::string_view>& analyzer_logs() {
  static const std::vector<std::string_view> logs = [] {
    std::vector<std::string_view> v;
    for (const auto& r : kReaders) v.push_back(r.log);
    return v;
  }();
  return logs;
}

bool conn_from_json(std::string_view line, flow::ConnRecord& r, std::string& error) {
  r = flow::ConnRecord{};
  return read_with(line, error, [&r](Obj& o) {
    r.ts = o.ts();
    r.uid = o.str("uid");
    r.orig_h = o.ip("id.orig_h");
    r.orig_p = o.num<uint16_t>("id.orig_p");
    r.resp_h = o.ip("id.resp_h");
    r.resp_p = o.num<uint16_t>("id.resp_p");
    r.proto = proto_number(o.str("proto"), r.orig_h);
    r.service = o.str_or_empty("service");
    if (auto d = o.opt_seconds("duration")) {
      r.has_duration = true;
      r.duration_ns = *d;
      r.orig_bytes = o.num<uint64_t>("orig_bytes");
      r.resp_bytes = o.num<uint64_t>("resp_bytes");
    }
    r.last_ts = r.ts + r.duration_ns;
    std::string state = o.str("conn_state");
    bool known = false;
    for (uint8_t s = 0; s <= static_cast<uint8_t>(flow::ConnState::kOTH) && !known; ++s) {
      if (state == flow::conn_state_name(static_cast<flow::ConnState>(s))) {
        r.conn_state = static_cast<flow::ConnState>(s);
        known = true;
      }
    }
    if (!known) o.fail("unknown conn_state " + state);
    r.missed_bytes = o.num<uint64_t>("missed_bytes");
    r.history = o.str("history");
    r.orig_pkts = o.num<uint64_t>("orig_pkts");
    r.orig_ip_bytes = o.num<uint64_t>("orig_ip_bytes");
    r.resp_pkts = o.num<uint64_t>("resp_pkts");
    r.resp_ip_bytes = o.num<uint64_t>("resp_ip_bytes");
    r.community_id = o.str("community_id");
    if (auto v = o.opt_num<uint16_t>("vlan")) {
      r.has_vlan = true;
      r.vlan = *v;
    }
    if (auto v = o.opt_num<uint16_t>("inner_vlan")) {
      r.has_inner_vlan = true;
      r.inner_vlan = *v;
    }
    if (r.proto == 0 && !r.community_id.empty()) {
      // "unknown_transport" does not name the protocol, but the Community ID
      // hashes its number: find the one that gives the same ID.
      for (uint32_t p = 0; p < 256; ++p) {
        if (p == 1 || p == 6 || p == 17 || p == 58) continue;
        auto proto = static_cast<uint8_t>(p);
        if (core::community_id_v1(r.orig_h, r.resp_h, proto, r.orig_p, r.resp_p) == r.community_id) {
          r.proto = proto;
          break;
        }
      }
    }
    // The flags themselves when the line carries them, else from the history.
    auto first = o.opt_num<uint8_t>("orig_first_flags");
    if (first) {
      r.orig_first_flags = *first;
      r.orig_flags = o.opt_num<uint8_t>("orig_flags").value_or(0);
      r.resp_flags = o.opt_num<uint8_t>("resp_flags").value_or(0);
    } else if (r.proto == 6) {
      flow::HistoryFlags h = flow::flags_from_history(r.history);
      r.orig_first_flags = h.orig_first;
      r.orig_flags = h.orig;
      r.resp_flags = h.resp;
    }
  });
}

bool arp_from_json(std::string_view line, output::ArpRecord& r, std::string& error) {
  r = output::ArpRecord{};
  return read_with(line, error, [&r](Obj& o) {
    auto mac = [&o](std::string_view key, std::array<uint8_t, 6>& out) {
      std::string s = o.str(key);
      if (!o.ok()) return;
      if (s.size() != 17) {
        o.fail("malformed MAC " + std::string(key));
        return;
      }
      for (size_t i = 0; i < 6; ++i) {
        uint8_t b = 0;
        auto [p, ec] = std::from_chars(s.data() + 3 * i, s.data() + 3 * i + 2, b, 16);
        if (ec != std::errc() || p != s.data() + 3 * i + 2 || (i < 5 && s[3 * i + 2] != ':')) {
          o.fail("malformed MAC " + std::string(key));
          return;
        }
        out[i] = b;
      }
    };
    r.ts = o.ts();
    r.op = o.num<uint16_t>("opcode");
    mac("src_mac", r.src_mac);
    mac("sender_mac", r.sender_mac);
    r.sender_ip = o.ip("sender_ip");
    mac("target_mac", r.target_mac);
    r.target_ip = o.ip("target_ip");
    if (auto v = o.opt_num<uint16_t>("vlan")) {
      r.has_vlan = true;
      r.vlan = *v;
    }
  });
}

std::unique_ptr<analyzers::Record> record_from_json(std::string_view log, std::string_view line,
                                                    std::string& error) {
  Reader read = nullptr;
  for (const auto& r : kReaders) {
    if (r.log == log) read = r.read;
  }
  if (!read) {
    error = "unknown log '" + std::string(log) + "'";
    return nullptr;
  }
  JVal v;
  if (!parse_object(line, v, error)) return nullptr;
  Obj o(v);
  auto rec = read(o);
  if (!o.ok() || !rec) {
    error = o.ok() ? "malformed record" : o.error();
    return nullptr;
  }
  return rec;
}

bool finding_from_json(std::string_view line, detect::Finding& f, std::string& error) {
  f = detect::Finding{};
  return read_with(line, error, [&f](Obj& o) {
    f.id = o.str("id");
    f.ts = o.ts("ts");
    f.last_ts = o.ts("last_ts");
    std::string sev = o.str("severity");
    bool known = false;
    for (uint8_t s = 0; s <= static_cast<uint8_t>(detect::Severity::kCritical); ++s) {
      if (sev == detect::severity_name(static_cast<detect::Severity>(s))) {
        f.severity = static_cast<detect::Severity>(s);
        known = true;
      }
    }
    if (!known) o.fail("unknown severity " + sev);
    if (const JVal* c = o.find("confidence"); c && c->t == JVal::T::kNum) {
      std::from_chars(c->s.data(), c->s.data() + c->s.size(), f.confidence);
    }
    f.src = o.str("src");
    f.dst = o.strings("dst");
    f.dst_count = o.num<uint64_t>("dst_count");
    if (const JVal* p = o.find("ports"); p && p->t == JVal::T::kArr) {
      for (const JVal& e : p->a) {
        uint16_t port = 0;
        if (e.t != JVal::T::kNum || !Obj::integer(e.s, port)) {
          o.fail("ports holds a non-port");
          break;
        }
        f.ports.push_back(port);
      }
    }
    f.service = o.str_or_empty("service");
    if (const JVal* c = o.find("counts"); c && c->t == JVal::T::kObj) {
      for (size_t i = 0; i < c->keys.size(); ++i) {
        const std::string& k = c->keys[i];
        const JVal& v = c->vals[i];
        uint64_t n = 0;
        if (v.t == JVal::T::kNum && Obj::integer(v.s, n)) f.counts.emplace_back(k, n);
      }
    }
    f.summary = o.str("summary");
    f.attack = o.str_or_empty("attack");
    f.evidence = o.strings("evidence");
    f.evidence_total = o.opt_num<uint64_t>("evidence_total").value_or(f.evidence.size());
    if (const JVal* d = o.find("details"); d && d->t == JVal::T::kObj && !d->keys.empty()) write_value(*d, f.details);
  });
}

bool typed_from_json(std::string_view log, std::string_view line, TypedRecord& out, std::string& error) {
  if (log == "conn") {
    out.kind = TypedRecord::Kind::kConn;
    return conn_from_json(line, out.conn, error);
  }
  if (log == "arp") {
    out.kind = TypedRecord::Kind::kArp;
    return arp_from_json(line, out.arp, error);
  }
  out.kind = TypedRecord::Kind::kAnalyzer;
  out.record = record_from_json(log, line, error);
  return out.record != nullptr;
}

std::string typed_to_json(const TypedRecord& r) {
  std::string s;
  switch (r.kind) {
    case TypedRecord::Kind::kConn: output::append_conn_json(r.conn, s); break;
    case TypedRecord::Kind::kArp: output::append_arp_json(r.arp, s); break;
    case TypedRecord::Kind::kAnalyzer:
      if (r.record) r.record->write_json(s);
      break;
  }
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace trawl::store

// intel.match: records touching a threat-intelligence indicator (--intel):
// connection addresses, DNS names and answers, HTTP hosts and URLs, TLS server
// names and certificate hashes, SMTP sender and recipient domains. One
// finding per (indicator, source, internal host). docs/findings/intel.md.
#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "analyzers/dns/dns_log_record.h"
#include "analyzers/http/http_record.h"
#include "analyzers/smtp/smtp_record.h"
#include "analyzers/ssl/ssl_record.h"
#include "detect/detector.h"
#include "detect/evidence.h"
#include "detect/text.h"
#include "intel/indicator_store.h"
#include "output/json_line.h"

namespace trawl::detect {
namespace {

using intel::IndicatorType;

// How a record touched the indicator (a bit each; the names go to details).
enum Via : uint16_t {
  kConnResp = 1 << 0,   // the connection's responder address
  kConnOrig = 1 << 1,   // an external originator (someone reached in)
  kDnsQuery = 1 << 2,   // the query name
  kDnsAnswer = 1 << 3,  // an A/AAAA answer
  kDnsCname = 1 << 4,   // a CNAME target
  kHttpHost = 1 << 5,   // the Host header (name or literal address)
  kHttpUrl = 1 << 6,    // http://host/uri
  kSslSni = 1 << 7,     // the ClientHello's server name
  kSslCert = 1 << 8,    // SHA-256 of a server certificate
  kSmtpFrom = 1 << 9,   // MAIL FROM domain
  kSmtpRcpt = 1 << 10,  // RCPT TO domain
};
constexpr std::array<std::pair<uint16_t, const char*>, 11> kViaNames{{
    {kConnResp, "conn.resp_h"},
    {kConnOrig, "conn.orig_h"},
    {kDnsQuery, "dns.query"},
    {kDnsAnswer, "dns.answer"},
    {kDnsCname, "dns.cname"},
    {kHttpHost, "http.host"},
    {kHttpUrl, "http.url"},
    {kSslSni, "ssl.server_name"},
    {kSslCert, "ssl.cert_sha256"},
    {kSmtpFrom, "smtp.mailfrom"},
    {kSmtpRcpt, "smtp.rcptto"},
}};

enum Log : uint8_t { kConn, kDns, kHttp, kSsl, kSmtp, kLogs };
constexpr std::array<const char*, kLogs> kLogNames{"conn", "dns", "http", "ssl", "smtp"};

// Per-record caps: a hostile record with thousands of answers or recipients
// costs at most this many lookups.
constexpr size_t kMaxAnswers = 64;
constexpr size_t kMaxRecipients = 100;
constexpr size_t kMaxCerts = 10;
constexpr size_t kMaxValueBytes = 256;
constexpr size_t kMaxUids = 20;

// A source says "command and control" in its format (Feodo Tracker lists
// botnet C2 servers only), its tags or its name. Words, not substrings, so
// "ec2" or "abc2def" do not count.
bool is_c2_source(const intel::Source& s) {
  if (s.format == "feodo") return true;
  auto scan = [](std::string_view text, bool& command, bool& control) {
    std::string word;
    bool hit = false;
    for (size_t i = 0; i <= text.size(); ++i) {
      char c = i < text.size() ? text[i] : ' ';
      bool part = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '&';
      if (part) {
        if (word.size() < 32) word.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
        continue;
      }
      if (word == "c2" || word == "c&c" || word == "cnc" || word == "botnet" || word == "botnetcc") hit = true;
      if (word == "command") command = true;
      if (word == "control") control = true;
      word.clear();
    }
    return hit;
  };
  bool command = false;
  bool control = false;
  if (scan(s.name, command, control)) return true;
  for (const auto& t : s.tags) {
    if (scan(t, command, control)) return true;
  }
  return command && control;
}

// The Host header without its port; an IPv6 literal without brackets.
std::string_view host_part(std::string_view h) {
  if (!h.empty() && h.front() == '[') {
    size_t end = h.find(']');
    return end == std::string_view::npos ? h.substr(1) : h.substr(1, end - 1);
  }
  size_t colon = h.find(':');
  if (colon != std::string_view::npos && h.find(':', colon + 1) == std::string_view::npos) return h.substr(0, colon);
  return h;
}

std::string_view mail_domain(std::string_view addr) {
  size_t at = addr.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string_view d = addr.substr(at + 1);
  while (!d.empty() && (d.back() == '>' || d.back() == ' ')) d.remove_suffix(1);
  return d;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// The length of "http://" or "https://" at the start of target, else 0.
size_t absolute_form(std::string_view target) {
  if (starts_with_ci(target, "http://")) return 7;
  if (starts_with_ci(target, "https://")) return 8;
  return 0;
}

class IntelMatchDetector final : public Detector {
 public:
  explicit IntelMatchDetector(Config& c)
      : store_(c.intel),
        internal_(c.internal),
        max_matches_(static_cast<size_t>(
            c.get("intel.max_matches", 10000, "(indicator, source, internal host) triples tracked at most"))) {
    if (store_ && store_->size() == 0) store_ = nullptr;
  }

  void on_conn(const flow::ConnRecord& r) override {
    if (!store_) return;
    begin_record();
    buf_.clear();
    store_->match_ip(r.resp_h, buf_);
    if (!buf_.empty()) {
      Ctx ctx{r.orig_h, r.uid, r.ts, r.last_ts, r.resp_p, kConn, r.service};
      ctx.orig_bytes = r.orig_bytes;
      ctx.resp_bytes = r.resp_bytes;
      hit_all(ctx, kConnResp, r.resp_h.to_string());
    }
    // An external address reaching in (a scanner or a C2 answering back on
    // a listening port) is matched too; internal originators are ours.
    if (!internal_.is_internal(r.orig_h)) {
      buf_.clear();
      store_->match_ip(r.orig_h, buf_);
      if (!buf_.empty()) {
        Ctx ctx{r.resp_h, r.uid, r.ts, r.last_ts, r.resp_p, kConn, r.service};
        ctx.orig_bytes = r.orig_bytes;
        ctx.resp_bytes = r.resp_bytes;
        hit_all(ctx, kConnOrig, r.orig_h.to_string());
      }
    }
  }

  void on_record(const analyzers::Record& rec) override {
    if (!store_) return;
    std::string_view log = rec.log();
    if (log == "dns") {
      on_dns(static_cast<const analyzers::dns::DnsLogRecord&>(rec));
    } else if (log == "http") {
      on_http(static_cast<const analyzers::http::HttpRecord&>(rec));
    } else if (log == "ssl") {
      on_ssl(static_cast<const analyzers::ssl::SslRecord&>(rec));
    } else if (log == "smtp") {
      on_smtp(static_cast<const analyzers::smtp::SmtpRecord&>(rec));
    }
  }

  void finish(std::vector<Finding>& out) override {
    for (const auto& h : hits_) out.push_back(make_finding(*h));
  }

 private:
  // The record being matched.
  struct Ctx {
    core::IpAddress host;  // the internal side
    const std::string& uid;
    core::Timestamp ts;
    core::Timestamp last_ts;
    uint16_t port;  // 0: none worth reporting (a resolver's 53)
    Log log;
    std::string_view service;  // the record's protocol
    uint64_t orig_bytes = 0;
    uint64_t resp_bytes = 0;
  };

  struct Hit {
    IndicatorType type = IndicatorType::kIp;
    std::string indicator;
    const intel::Source* source = nullptr;
    core::IpAddress host;
    Span span;
    uint64_t records = 0;
    std::array<uint64_t, kLogs> per_log{};
    uint16_t via = 0;
    DistinctSet<std::string> values{64};
    DistinctSet<uint16_t> ports{64};
    DistinctSet<std::string> services{8};
    std::vector<std::string> uids;  // distinct, first kMaxUids
    uint64_t evidence_total = 0;
    uint64_t orig_bytes = 0;
    uint64_t resp_bytes = 0;
    uint64_t last_record = 0;
  };
  using Key = std::tuple<std::string, const intel::Source*, core::IpAddress>;

  // The side of a record that is ours: the client unless only the server is
  // internal (mail or a lookup arriving at our server).
  core::IpAddress our_side(const core::IpAddress& orig, const core::IpAddress& resp) const {
    if (internal_.is_internal(orig) || !internal_.is_internal(resp)) return orig;
    return resp;
  }

  void begin_record() { ++record_; }

  void hit_all(const Ctx& ctx, Via via, std::string_view value) {
    for (auto& m : buf_) hit(ctx, via, value, m);
  }

  void hit(const Ctx& ctx, Via via, std::string_view value, intel::Match& m) {
    Key key{m.indicator, m.source, ctx.host};
    auto it = index_.find(key);
    if (it == index_.end()) {
      if (hits_.size() >= max_matches_) {
        ++untracked_;
        return;
      }
      auto h = std::make_unique<Hit>();
      h->type = m.type;
      h->indicator = std::move(m.indicator);
      h->source = m.source;
      h->host = ctx.host;
      it = index_.emplace(std::move(key), hits_.size()).first;
      hits_.push_back(std::move(h));
    }
    Hit& h = *hits_[it->second];
    h.via = static_cast<uint16_t>(h.via | via);
    h.values.add(std::string(value.substr(0, kMaxValueBytes)));
    if (ctx.port) h.ports.add(ctx.port);
    // A record touching the same indicator twice (a query and its CNAME)
    // counts once.
    if (h.last_record == record_) return;
    h.last_record = record_;
    ++h.records;
    ++h.per_log[ctx.log];
    h.span.add(ctx.ts);
    h.span.add(ctx.last_ts);
    h.services.add(std::string(ctx.service));
    // Pipelined HTTP requests and DNS transactions share their connection's
    // uid: the sample lists each once, the total counts records.
    ++h.evidence_total;
    if (h.uids.size() < kMaxUids && !ctx.uid.empty() &&
        std::find(h.uids.begin(), h.uids.end(), ctx.uid) == h.uids.end()) {
      h.uids.push_back(ctx.uid);
    }
    h.orig_bytes += ctx.orig_bytes;
    h.resp_bytes += ctx.resp_bytes;
  }

  void match_domain(const Ctx& ctx, Via via, std::string_view name) {
    if (name.empty()) return;
    buf_.clear();
    store_->match_domain(name, buf_);
    hit_all(ctx, via, name);
  }

  void match_ip(const Ctx& ctx, Via via, const core::IpAddress& a) {
    buf_.clear();
    store_->match_ip(a, buf_);
    if (!buf_.empty()) hit_all(ctx, via, a.to_string());
  }

  void on_dns(const analyzers::dns::DnsLogRecord& r) {
    begin_record();
    Ctx ctx{our_side(r.orig_h, r.resp_h), r.uid, r.ts, r.ts, 0, kDns, "dns"};
    if (r.query) match_domain(ctx, kDnsQuery, *r.query);
    size_t n = 0;
    for (const auto& a : r.answers) {
      if (++n > kMaxAnswers) break;
      if (a.address) {
        match_ip(ctx, kDnsAnswer, *a.address);
      } else if (a.type == 5) {
        match_domain(ctx, kDnsCname, a.text);
      }
    }
  }

  void on_http(const analyzers::http::HttpRecord& r) {
    begin_record();
    Ctx ctx{our_side(r.orig_h, r.resp_h), r.uid, r.ts, r.ts, r.resp_p, kHttp, "http"};
    std::string_view target = !r.raw_uri.empty() ? std::string_view(r.raw_uri)
                              : r.uri             ? std::string_view(*r.uri)
                                                  : std::string_view();
    bool connect = r.method && *r.method == "CONNECT";
    size_t scheme = absolute_form(target);
    // CONNECT host:port names the tunnel's destination and an absolute-form
    // target (to a proxy) its server; Host usually repeats them.
    std::string_view authority = r.host ? std::string_view(*r.host) : std::string_view();
    if (connect) {
      authority = target;
    } else if (scheme) {
      authority = target.substr(scheme, target.find_first_of("/?#", scheme) - scheme);
    }
    std::string_view host = host_part(authority);
    if (!host.empty()) {
      if (auto a = core::IpAddress::parse(host)) {
        match_ip(ctx, kHttpHost, *a);
      } else {
        match_domain(ctx, kHttpHost, host);
      }
    }
    if (connect || target.empty()) return;
    // The URL as the client asked for it: absolute-form (to a proxy) as is,
    // origin-form under the Host header or else the server's address.
    url_.clear();
    if (scheme) {
      url_.append(target);
    } else {
      url_ += "http://";
      if (!authority.empty()) {
        url_.append(authority);
      } else if (r.resp_h.is_v6()) {
        url_ += '[';
        url_ += r.resp_h.to_string();
        url_ += ']';
      } else {
        url_ += r.resp_h.to_string();
      }
      if (target.front() != '/') url_ += '/';
      url_.append(target);
    }
    buf_.clear();
    store_->match_url(url_, buf_);
    hit_all(ctx, kHttpUrl, url_);
  }

  void on_ssl(const analyzers::ssl::SslRecord& r) {
    begin_record();
    Ctx ctx{our_side(r.orig_h, r.resp_h), r.uid, r.ts, r.ts, r.resp_p, kSsl, "ssl"};
    if (r.server_name) match_domain(ctx, kSslSni, *r.server_name);
    size_t n = 0;
    for (const auto& fp : r.cert_chain_fps) {
      if (++n > kMaxCerts) break;
      buf_.clear();
      store_->match_hash(fp, buf_);
      hit_all(ctx, kSslCert, fp);
    }
  }

  void on_smtp(const analyzers::smtp::SmtpRecord& r) {
    begin_record();
    Ctx ctx{our_side(r.orig_h, r.resp_h), r.uid, r.ts, r.ts, r.resp_p, kSmtp, "smtp"};
    match_domain(ctx, kSmtpFrom, mail_domain(r.mailfrom));
    size_t n = 0;
    for (const auto& rcpt : r.rcptto) {
      if (++n > kMaxRecipients) break;
      match_domain(ctx, kSmtpRcpt, mail_domain(rcpt));
    }
  }

  // Rule (docs/findings/intel.md): exact indicators (ip, domain, url, hash)
  // are high from a command-and-control source and for URLhaus URLs (live
  // malware downloads), medium otherwise; a CIDR range is one step lower.
  static Severity severity_of(const Hit& h, bool c2) {
    bool strong = c2 || (h.type == IndicatorType::kUrl && h.source->format == "urlhaus");
    if (h.type == IndicatorType::kCidr) return strong ? Severity::kMedium : Severity::kLow;
    return strong ? Severity::kHigh : Severity::kMedium;
  }

  static double confidence_of(IndicatorType t) {
    switch (t) {
      case IndicatorType::kIp:
      case IndicatorType::kUrl:
      case IndicatorType::kHash: return 0.9;
      case IndicatorType::kDomain: return 0.8;
      case IndicatorType::kCidr: return 0.5;
    }
    return 0.5;
  }

  // Web protocols when HTTP or TLS carried it, mail, DNS when only looked
  // up, else the generic application-layer C2 technique.
  static const char* attack_of(const Hit& h) {
    if (h.per_log[kHttp] || h.per_log[kSsl]) return "T1071.001";
    if (h.per_log[kSmtp]) return "T1071.003";
    if (h.per_log[kDns] && !h.per_log[kConn]) return "T1071.004";
    return "T1071";
  }

  Finding make_finding(const Hit& h) const {
    const intel::Source& s = *h.source;
    bool c2 = is_c2_source(s);
    Finding f;
    f.id = "intel.match";
    f.ts = h.span.first;
    f.last_ts = h.span.last;
    f.severity = severity_of(h, c2);
    f.confidence = confidence_of(h.type);
    f.src = h.host.to_string();
    f.dst = h.values.sample(10);
    f.dst_count = h.values.count();
    f.ports = h.ports.sample(16);
    // A service only when every matching record had the same one.
    if (h.services.count() == 1 && !h.services.front().empty()) f.service = h.services.front();
    f.counts.emplace_back("records", h.records);
    for (size_t i = 0; i < kLogs; ++i) {
      if (h.per_log[i]) f.counts.emplace_back(kLogNames[i], h.per_log[i]);
    }
    if (h.per_log[kConn]) {
      f.counts.emplace_back("orig_bytes", h.orig_bytes);
      f.counts.emplace_back("resp_bytes", h.resp_bytes);
    }
    f.attack = attack_of(h);
    f.evidence = h.uids;
    f.evidence_total = h.evidence_total;

    std::vector<std::string> via;
    for (const auto& [bit, name] : kViaNames) {
      if (h.via & bit) via.emplace_back(name);
    }
    std::string verb = (h.via & ~(kDnsQuery | kDnsCname)) == 0 ? " looked up "
                       : h.via == kDnsAnswer                      ? " got the DNS answer "
                       : h.via == kConnOrig                       ? " was contacted by "
                                                                  : " talked to ";
    std::string what = std::string(intel::type_name(h.type)) + " " + h.indicator;
    f.summary = f.src + verb + f.dst.front();
    if (f.dst_count > 1) f.summary += " (and " + std::to_string(f.dst_count - 1) + " more)";
    f.summary += ", listed as " + what + " by " + (s.feed.empty() ? std::string("a feed") : s.feed);
    if (!s.name.empty()) f.summary += " (" + s.name + ")";
    f.summary += ": " + std::to_string(h.records) + " record" + (h.records == 1 ? "" : "s") + " (";
    bool first = true;
    for (const auto& [name, n] : f.counts) {
      if (name == "records" || name == "orig_bytes" || name == "resp_bytes") continue;
      if (!first) f.summary += ", ";
      first = false;
      f.summary += std::to_string(n) + " " + name;
    }
    int64_t span = f.last_ts - f.ts;
    if (span < core::kNsPerSec) {
      f.summary += ") at " + text::utc_time(f.ts);
    } else {
      f.summary += ") from " + text::utc_time(f.ts) + " over " + text::human_span(span);
    }

    std::string d;
    output::JsonLine j(d);
    j.str("indicator", h.indicator)
        .str("type", intel::type_name(h.type))
        .str("feed", s.feed)
        .str("format", s.format)
        .str("name", s.name)
        .raw("tags", text::json_strings(s.tags))
        .str("reference", s.reference)
        .str("first_seen", s.first_seen)
        .str("last_seen", s.last_seen)
        .boolean("c2", c2)
        .raw("matched_as", text::json_strings(via));
    if (h.values.saturated()) j.boolean("values_capped", true);
    if (untracked_) j.u64("untracked_matches", untracked_);
    j.end_object();
    f.details = d;
    return f;
  }

  const intel::IndicatorStore* store_;
  Networks internal_;
  size_t max_matches_;
  std::vector<intel::Match> buf_;  // reused: a record without a match allocates nothing
  std::string url_;
  uint64_t record_ = 0;
  uint64_t untracked_ = 0;
  std::map<Key, size_t> index_;
  std::vector<std::unique_ptr<Hit>> hits_;  // creation order: deterministic output
};

}  // namespace

void register_intel_match(Registry& r) {
  r.add("intel_match", [](Config& c) { return std::make_unique<IntelMatchDetector>(c); });
}

}  // namespace trawl::detect

// HTTP oddities from http.jsonl records: http.repeated_uri (one client
// fetching the same unusual URI from many different servers, as Conficker's
// /search?q=N), http.exe_download (executables by Content-Type or file
// extension) and http.bare_ip_host (a Host header that is an IP address).
// docs/findings/mail_smb_http.md.
#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyzers/http/http_record.h"
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

using analyzers::http::HttpRecord;

constexpr size_t kMaxUriStates = 65536;  // (client, URI) pairs; singles are pruned past it
constexpr size_t kMaxUriBytes = 512;      // URIs are compared on their first 512 bytes
constexpr size_t kMaxClients = 16384;     // per finding family
constexpr size_t kSample = 10;



// The host part of a Host header without port ("[::1]:80" -> "::1").
std::string_view host_part(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t end = host.find(']');
    return end == std::string_view::npos ? host.substr(1) : host.substr(1, end - 1);
  }
  const size_t colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) {
    return host.substr(0, colon);
  }
  return host;
}

std::optional<core::IpAddress> host_ip(const std::optional<std::string>& host) {
  if (!host || host->empty()) return std::nullopt;
  std::string_view h = host_part(*host);
  while (!h.empty() && (h.back() == '.' || h.back() == ' ')) h.remove_suffix(1);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  if (h.empty()) return std::nullopt;
  return core::IpAddress::parse(h);
}

// Lower-case extension of the URI's last path segment ("" if none).
std::string uri_extension(std::string_view uri) {
  const size_t q = uri.find_first_of("?#");
  if (q != std::string_view::npos) uri = uri.substr(0, q);
  const size_t slash = uri.rfind('/');
  if (slash != std::string_view::npos) uri = uri.substr(slash + 1);
  const size_t dot = uri.rfind('.');
  if (dot == std::string_view::npos || dot + 1 >= uri.size() || uri.size() - dot > 6) return "";
  return lower(uri.substr(dot + 1));
}

// URIs every browser, crawler or OS fetches from any site: never "odd".
bool common_uri(std::string_view uri) {
  static constexpr std::array<std::string_view, 18> kCommon{
      "/", "/favicon.ico", "/robots.txt", "/index.html", "/index.htm", "/sitemap.xml", "/ads.txt",
      "/apple-touch-icon.png", "/apple-touch-icon-precomposed.png", "/generate_204", "/gen_204",
      "/connecttest.txt", "/ncsi.txt", "/success.txt", "/hotspot-detect.html", "/canonical.html",
      "/wpad.dat", "/crossdomain.xml"};
  if (uri.empty()) return true;
  if (uri.rfind("/.well-known/", 0) == 0) return true;
  const std::string l = lower(uri);
  return std::find(kCommon.begin(), kCommon.end(), l) != kCommon.end();
}

constexpr std::array<std::string_view, 12> kExeExtensions{"exe", "dll", "scr", "msi", "ps1", "hta",
                                                          "bat", "cmd", "vbs", "jar", "cpl", "pif"};
constexpr std::array<std::string_view, 9> kExeTypes{
    "application/x-msdownload",   "application/x-dosexec",       "application/x-msdos-program",
    "application/x-executable",   "application/x-ms-installer",  "application/x-msi",
    "application/hta",            "application/vnd.microsoft.portable-executable",
    "application/x-sharedlib"};
// Extensions and types a file claims when it hides what it is.
constexpr std::array<std::string_view, 12> kHarmlessExtensions{"jpg", "jpeg", "gif", "png", "bmp", "ico",
                                                               "txt", "css", "html", "htm", "pdf", "doc"};

bool is_exe_type(std::string_view t) {
  return std::find(kExeTypes.begin(), kExeTypes.end(), lower(t)) != kExeTypes.end();
}
bool is_exe_ext(std::string_view e) { return std::find(kExeExtensions.begin(), kExeExtensions.end(), e) != kExeExtensions.end(); }
bool is_harmless_ext(std::string_view e) {
  return std::find(kHarmlessExtensions.begin(), kHarmlessExtensions.end(), e) != kHarmlessExtensions.end();
}
bool is_harmless_type(std::string_view t) {
  const std::string l = lower(t);
  return l.rfind("image/", 0) == 0 || l.rfind("text/", 0) == 0;
}
bool standard_web_port(uint16_t p) { return p == 80 || p == 443 || p == 8080; }

void add_evidence(Evidence& ev, std::string& last, const std::string& uid) {
  if (uid == last) return;
  last = uid;
  ev.add(uid);
}



struct UriState {
  Span span;
  DistinctSet<core::IpAddress> ips{1024};
  DistinctSet<uint64_t> hosts{1024};          // Host values (the server address when absent)
  DistinctSet<core::IpAddress> bare_ips{1024};  // servers asked with an IP literal Host
  DistinctSet<uint16_t> ports{16};
  DistinctSet<std::string> host_names{kSample};
  uint64_t requests = 0;
  Evidence evidence{20};
  std::string last_uid;  // keep-alive requests of one connection count once
};

struct ExeState {
  Span span;
  DistinctSet<core::IpAddress> servers{1024};
  DistinctSet<uint16_t> ports{16};
  DistinctSet<std::string> urls{kSample};
  DistinctSet<std::string> types{kSample};
  uint64_t downloads = 0;
  uint64_t bytes = 0;
  uint64_t disguised = 0;  // an executable type under a harmless extension, or the reverse
  uint64_t by_ip = 0;      // from a bare-IP Host
  uint64_t odd_port = 0;
  Evidence evidence{20};
  std::string last_uid;  // keep-alive requests of one connection count once
};

struct BareState {
  Span span;
  DistinctSet<core::IpAddress> servers{1024};
  DistinctSet<core::IpAddress> external{1024};
  DistinctSet<uint16_t> ports{16};
  DistinctSet<std::string> uris{kSample};
  uint64_t requests = 0;
  uint64_t posts = 0;
  uint64_t external_odd = 0;  // to an external server on a non-web port, or POSTs to one
  Evidence evidence{20};
  std::string last_uid;  // keep-alive requests of one connection count once
};

class HttpOddDetector final : public Detector {
 public:
  explicit HttpOddDetector(Config& c)
      : min_ips_(c.get("http_odd.repeated_uri_min_ips", 10,
                       "distinct server addresses one client must fetch the same unusual URI from (http.repeated_uri)")),
        min_hosts_(c.get("http_odd.repeated_uri_min_hosts", 5,
                         "distinct Host values among them (a CDN serving one site from many addresses has one)")),
        exe_min_bytes_(c.get("http_odd.exe_min_bytes", 1,
                             "response body bytes for a reply to count as an executable download")),
        bare_min_requests_(
            c.get("http_odd.bare_ip_min_requests", 1, "requests with an IP-address Host before http.bare_ip_host")),
        internal_(c.internal) {}

  void on_record(const analyzers::Record& r) override {
    if (r.log() != "http") return;
    const auto& h = static_cast<const HttpRecord&>(r);
    if (!h.method) return;  // a reply without a request
    const auto ip = host_ip(h.host);
    repeated_uri(h, ip.has_value());
    exe_download(h, ip.has_value());
    if (ip) bare_ip(h);
  }

  void finish(std::vector<Finding>& out) override {
    for (const auto& [key, st] : uris_) {
      if (static_cast<double>(st.ips.count()) >= min_ips_ && static_cast<double>(st.hosts.count()) >= min_hosts_) {
        out.push_back(uri_finding(key.first, key.second, st));
      }
    }
    for (const auto& [client, st] : exes_) out.push_back(exe_finding(client, st));
    for (const auto& [client, st] : bares_) {
      if (static_cast<double>(st.requests) >= bare_min_requests_) out.push_back(bare_finding(client, st));
    }
  }

 private:
  void repeated_uri(const HttpRecord& h, bool bare) {
    if (!h.uri || common_uri(*h.uri)) return;
    std::pair<core::IpAddress, std::string> key{h.orig_h, h.uri->substr(0, kMaxUriBytes)};
    auto it = uris_.find(key);
    if (it == uris_.end()) {
      if (uris_.size() >= kMaxUriStates) prune_uris();
      if (uris_.size() >= kMaxUriStates) return;
      it = uris_.emplace(std::move(key), UriState{}).first;
    }
    UriState& st = it->second;
    st.span.add(h.ts);
    ++st.requests;
    st.ips.add(h.resp_h);
    st.ports.add(h.resp_p);
    const std::string host = h.host && !h.host->empty() ? lower(host_part(*h.host)) : h.resp_h.to_string();
    st.hosts.add(folded_hash(host));
    st.host_names.add(host.substr(0, 200));
    if (bare) st.bare_ips.add(h.resp_h);
    add_evidence(st.evidence, st.last_uid, h.uid);
  }

  // Keeps memory bounded under a flood of distinct URIs: pairs seen from
  // one server only cannot be part of a finding yet and are dropped.
  void prune_uris() {
    for (auto it = uris_.begin(); it != uris_.end();) {
      it = it->second.ips.count() <= 1 ? uris_.erase(it) : std::next(it);
    }
  }

  void exe_download(const HttpRecord& h, bool bare) {
    if (!h.status_code || *h.status_code < 200 || *h.status_code > 299) return;
    if (static_cast<double>(h.response_body_len) < exe_min_bytes_) return;
    const std::string ext = h.uri ? uri_extension(*h.uri) : "";
    const std::string type = h.resp_mime_type ? lower(*h.resp_mime_type) : "";
    const bool exe_type = !type.empty() && is_exe_type(type);
    const bool exe_ext = is_exe_ext(ext);
    if (!exe_type && !(exe_ext && !is_harmless_type(type))) return;
    auto it = exes_.find(h.orig_h);
    if (it == exes_.end()) {
      if (exes_.size() >= kMaxClients) return;
      it = exes_.emplace(h.orig_h, ExeState{}).first;
    }
    ExeState& st = it->second;
    st.span.add(h.ts);
    ++st.downloads;
    st.bytes += h.response_body_len;
    st.servers.add(h.resp_h);
    st.ports.add(h.resp_p);
    std::string url = (h.host ? *h.host : h.resp_h.to_string()) + (h.uri ? *h.uri : "");
    st.urls.add(url.substr(0, 300));
    if (!type.empty()) st.types.add(type);
    if ((exe_type && is_harmless_ext(ext)) || (exe_ext && is_harmless_type(type))) ++st.disguised;
    if (bare) ++st.by_ip;
    if (!standard_web_port(h.resp_p)) ++st.odd_port;
    add_evidence(st.evidence, st.last_uid, h.uid);
  }

  void bare_ip(const HttpRecord& h) {
    auto it = bares_.find(h.orig_h);
    if (it == bares_.end()) {
      if (bares_.size() >= kMaxClients) return;
      it = bares_.emplace(h.orig_h, BareState{}).first;
    }
    BareState& st = it->second;
    st.span.add(h.ts);
    ++st.requests;
    st.servers.add(h.resp_h);
    st.ports.add(h.resp_p);
    if (h.uri) st.uris.add(h.method.value_or("") + " " + h.uri->substr(0, 200));
    const bool post = h.method && *h.method == "POST";
    if (post) ++st.posts;
    if (!internal_.is_internal(h.resp_h)) {
      st.external.add(h.resp_h);
      if (post || !standard_web_port(h.resp_p)) ++st.external_odd;
    }
    add_evidence(st.evidence, st.last_uid, h.uid);
  }

  Finding uri_finding(const core::IpAddress& client, const std::string& uri, const UriState& st) const {
    Finding f;
    f.id = "http.repeated_uri";
    f.ts = st.span.first;
    f.last_ts = st.span.last;
    f.src = client.to_string();
    f.dst = address_strings(st.ips.sample(20));
    f.dst_count = st.ips.count();
    f.ports = st.ports.sample(16);
    f.service = "http";
    f.attack = "T1046";
    f.evidence = st.evidence.uids();
    f.evidence_total = st.evidence.total();
    const bool worm_like = static_cast<double>(st.bare_ips.count()) >= min_ips_;
    f.severity = worm_like ? Severity::kHigh : Severity::kMedium;
    f.confidence = worm_like ? 0.7 : 0.6;
    f.counts = {{"requests", st.requests}, {"servers", st.ips.count()}, {"hosts", st.hosts.count()},
                {"bare_ip_servers", st.bare_ips.count()}};
    f.summary = f.src + " requested " + uri.substr(0, 120) + " from " + std::to_string(st.ips.count()) +
                " different servers (" + std::to_string(st.hosts.count()) + " Host names, " +
                std::to_string(st.bare_ips.count()) + " asked by IP address) in " + std::to_string(st.requests) +
                " requests";
    f.details.clear();
    output::JsonLine j(f.details);
    j.str("uri", uri);
    j.raw("hosts_sample", json_strings(st.host_names.sample(kSample)));
    j.end_object();
    return f;
  }

  Finding exe_finding(const core::IpAddress& client, const ExeState& st) const {
    Finding f;
    f.id = "http.exe_download";
    f.ts = st.span.first;
    f.last_ts = st.span.last;
    f.src = client.to_string();
    f.dst = address_strings(st.servers.sample(20));
    f.dst_count = st.servers.count();
    f.ports = st.ports.sample(16);
    f.service = "http";
    f.attack = "T1105";
    f.evidence = st.evidence.uids();
    f.evidence_total = st.evidence.total();
    const bool odd = st.disguised || st.by_ip || st.odd_port;
    f.severity = odd ? Severity::kMedium : Severity::kLow;
    f.confidence = odd ? 0.6 : 0.4;
    f.counts = {{"downloads", st.downloads}, {"bytes", st.bytes}, {"disguised", st.disguised},
                {"by_ip", st.by_ip}, {"odd_port", st.odd_port}};
    const auto urls = st.urls.sample(1);
    f.summary = f.src + " downloaded " + std::to_string(st.downloads) +
                (st.downloads == 1 ? " executable" : " executables") + " (" + std::to_string(st.bytes) +
                " bytes) over HTTP from " + std::to_string(st.servers.count()) +
                (st.servers.count() == 1 ? " server" : " servers") + (urls.empty() ? "" : ", e.g. " + urls.front());
    if (st.disguised) f.summary += "; " + std::to_string(st.disguised) + " disguised by extension or type";
    if (st.by_ip) f.summary += "; " + std::to_string(st.by_ip) + " from a bare IP address";
    f.details.clear();
    output::JsonLine j(f.details);
    j.raw("urls", json_strings(st.urls.sample(kSample)));
    j.raw("mime_types", json_strings(st.types.sample(kSample)));
    j.end_object();
    return f;
  }

  Finding bare_finding(const core::IpAddress& client, const BareState& st) const {
    Finding f;
    f.id = "http.bare_ip_host";
    f.ts = st.span.first;
    f.last_ts = st.span.last;
    f.src = client.to_string();
    f.dst = address_strings(st.servers.sample(20));
    f.dst_count = st.servers.count();
    f.ports = st.ports.sample(16);
    f.service = "http";
    f.attack = "T1071.001";
    f.evidence = st.evidence.uids();
    f.evidence_total = st.evidence.total();
    if (st.external_odd) {
      f.severity = Severity::kMedium;
      f.confidence = 0.5;
    } else if (st.external.count()) {
      f.severity = Severity::kLow;
      f.confidence = 0.4;
    } else {
      f.severity = Severity::kInfo;
      f.confidence = 0.3;
    }
    f.counts = {{"requests", st.requests}, {"posts", st.posts}, {"external_servers", st.external.count()}};
    f.summary = f.src + " sent " + std::to_string(st.requests) + " HTTP " +
                (st.requests == 1 ? "request" : "requests") + " with an IP address as Host to " +
                std::to_string(st.servers.count()) + (st.servers.count() == 1 ? " server" : " servers") + " (" +
                std::to_string(st.external.count()) + " external, " + std::to_string(st.posts) + " POSTs)";
    f.details.clear();
    output::JsonLine j(f.details);
    j.raw("requests_sample", json_strings(st.uris.sample(kSample)));
    j.end_object();
    return f;
  }

  double min_ips_;
  double min_hosts_;
  double exe_min_bytes_;
  double bare_min_requests_;
  Networks internal_;
  std::map<std::pair<core::IpAddress, std::string>, UriState> uris_;
  std::map<core::IpAddress, ExeState> exes_;
  std::map<core::IpAddress, BareState> bares_;
};

}  // namespace

void register_http_odd(Registry& r) {
  r.add("http_odd", [](Config& c) { return std::make_unique<HttpOddDetector>(c); });
}

}  // namespace trawl::detect

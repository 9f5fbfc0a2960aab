// AlienVault OTX client: /general lookups over libcurl's multi interface with
// a disk cache, bounded retries and strict key hygiene (see otx.h).
#include "intel/otx.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/ip_address.h"

namespace trawl::intel {

namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxPulsesKept = 20;
constexpr size_t kMaxTagsKept = 32;
constexpr size_t kMaxFamiliesKept = 16;
constexpr size_t kMaxStringBytes = 512;
// nlohmann's parser is iterative, but a hostile answer nested thousands deep
// is never an OTX answer: refuse it before building a tree.
constexpr int kMaxJsonDepth = 64;
constexpr double kMaxRetryAfterS = 60;
constexpr double kMaxBackoffS = 60;
constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxNameBytes = 253;
constexpr uint64_t kMaxCacheFileBytes = 8u << 20;
constexpr int kCacheFormat = 1;

std::string clip(std::string s) {
  if (s.size() > kMaxStringBytes) s.resize(kMaxStringBytes);
  return s;
}

// A JSON string field, or "" when absent or of another type.
std::string str_field(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return clip(it->get<std::string>());
}

bool nesting_too_deep(std::string_view body) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

OtxPulse pulse_from_json(const Json& p) {
  OtxPulse out;
  out.id = str_field(p, "id");
  out.name = str_field(p, "name");
  out.created = str_field(p, "created");
  out.modified = str_field(p, "modified");
  out.adversary = str_field(p, "adversary");
  if (auto t = p.find("tags"); t != p.end() && t->is_array()) {
    for (const auto& tag : *t) {
      if (out.tags.size() >= kMaxTagsKept) break;
      if (tag.is_string()) out.tags.push_back(clip(tag.get<std::string>()));
    }
  }
  // Older answers list families as strings, newer ones as objects.
  if (auto f = p.find("malware_families"); f != p.end() && f->is_array()) {
    for (const auto& fam : *f) {
      if (out.malware_families.size() >= kMaxFamiliesKept) break;
      std::string name;
      if (fam.is_string()) {
        name = clip(fam.get<std::string>());
      } else if (fam.is_object()) {
        name = str_field(fam, "display_name");
        if (name.empty()) name = str_field(fam, "id");
      }
      if (!name.empty()) out.malware_families.push_back(std::move(name));
    }
  }
  return out;
}

Json pulse_to_json(const OtxPulse& p) {
  return Json{{"id", p.id},
              {"name", p.name},
              {"tags", p.tags},
              {"created", p.created},
              {"modified", p.modified},
              {"adversary", p.adversary},
              {"malware_families", p.malware_families}};
}

// ---- what may be sent ----

const std::vector<core::IpNetwork>& blocked_networks() {
  static const std::vector<core::IpNetwork> nets = [] {
    std::vector<core::IpNetwork> v;
    for (const char* s : {
             "0.0.0.0/8",        // this network
             "10.0.0.0/8",       // private
             "100.64.0.0/10",    // shared (carrier-grade NAT)
             "127.0.0.0/8",      // loopback
             "169.254.0.0/16",   // link-local
             "172.16.0.0/12",    // private
             "192.0.0.0/24",     // IETF protocol assignments
             "192.0.2.0/24",     // documentation
             "192.168.0.0/16",   // private
             "198.18.0.0/15",    // benchmarking
             "198.51.100.0/24",  // documentation
             "203.0.113.0/24",   // documentation
             "224.0.0.0/4",      // multicast
             "240.0.0.0/4",      // reserved and broadcast
             "::/128",           // unspecified
             "::1/128",          // loopback
             "100::/64",         // discard
             "2001:db8::/32",    // documentation
             "3fff::/20",        // documentation (RFC 9637)
             "fc00::/7",         // unique local
             "fe80::/10",        // link-local
             "fec0::/10",        // site-local (deprecated)
             "ff00::/8",         // multicast
         }) {
      if (auto n = core::IpNetwork::parse(s)) v.push_back(*n);
    }
    return v;
  }();
  return nets;
}

bool address_may_send(const core::IpAddress& a) {
  if (a.is_v6()) {
    // An IPv4-mapped address is judged by the IPv4 address it carries.
    static const auto mapped = core::IpNetwork::parse("::ffff:0:0/96");
    if (mapped && mapped->contains(a)) return address_may_send(core::IpAddress::v4(a.bytes().data() + 12));
  }
  for (const auto& n : blocked_networks()) {
    if (n.contains(a)) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool ends_with_label(std::string_view name, std::string_view suffix) {
  if (name == suffix) return true;
  return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix &&
         name[name.size() - suffix.size() - 1] == '.';
}

bool name_may_send(std::string_view raw) {
  std::string name = lower(raw);
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  // A name that is an address literal is judged as that address.
  if (auto ip = core::IpAddress::parse(name)) return address_may_send(*ip);
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  // Single-label names (wpad, a NetBIOS name) only mean something inside a
  // network; .arpa names spell out (often private) addresses.
  if (name.find('.') == std::string::npos) return false;
  if (name.find("..") != std::string::npos || name.front() == '.') return false;
  for (std::string_view tld :
       {"local", "internal", "lan", "home.arpa", "example", "test", "invalid", "localhost", "arpa"}) {
    if (ends_with_label(name, tld)) return false;
  }
  return true;
}

// The host of a URL, or nullopt when there is none or it carries credentials.
std::optional<std::string> url_host(std::string_view url) {
  size_t start = 0;
  if (size_t scheme = url.find("://"); scheme != std::string_view::npos) start = scheme + 3;
  std::string_view rest = url.substr(start);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  // user:password@host would hand credentials to a third party.
  if (authority.find('@') != std::string_view::npos) return std::nullopt;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return std::string(authority.substr(1, close - 1));
  }
  std::string_view host = authority.substr(0, authority.find(':'));
  if (host.empty()) return std::nullopt;
  return std::string(host);
}

// ---- cache ----

std::string sha256_hex(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr) != 1) len = 0;
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

std::string cache_path(const std::string& dir, const OtxQuery& q) {
  std::string id(otx_kind_path(q.kind));
  id += '\n';
  id += q.value;
  return dir + "/" + sha256_hex(id) + ".json";
}

int64_t now_unix() { return static_cast<int64_t>(std::time(nullptr)); }

// Reads a cached verdict; any problem (absent, corrupt, expired, for another
// indicator) is a miss.
std::optional<OtxVerdict> cache_read(const OtxOptions& o, const OtxQuery& q) {
  if (o.cache_dir.empty()) return std::nullopt;
  std::string path = cache_path(o.cache_dir, q);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return std::nullopt;
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxCacheFileBytes) break;
  }
  std::fclose(f);
  if (text.size() > kMaxCacheFileBytes || nesting_too_deep(text)) return std::nullopt;
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto num = [&](const char* key) -> std::optional<int64_t> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  auto format = num("format");
  auto fetched = num("fetched_at");
  if (!format || *format != kCacheFormat || !fetched) return std::nullopt;
  if (str_field(j, "kind") != otx_kind_path(q.kind)) return std::nullopt;
  auto value = j.find("value");
  if (value == j.end() || !value->is_string() || value->get<std::string>() != q.value) return std::nullopt;
  int64_t now = now_unix();
  // A time far in the future is a corrupt (or planted) file, not a fresh one.
  if (*fetched > now + 86400) return std::nullopt;
  if (o.cache_ttl_s <= 0 || now - *fetched >= o.cache_ttl_s) return std::nullopt;
  OtxVerdict v;
  v.query = q;
  v.from_cache = true;
  std::string status = str_field(j, "status");
  if (status == "not_found") {
    v.status = OtxVerdict::Status::kNotFound;
    return v;
  }
  if (status != "ok") return std::nullopt;
  v.status = OtxVerdict::Status::kOk;
  auto count = j.find("pulse_count");
  if (count == j.end() || !count->is_number_unsigned()) return std::nullopt;
  v.pulse_count = count->get<uint64_t>();
  if (auto p = j.find("pulses"); p != j.end() && p->is_array()) {
    for (const auto& e : *p) {
      if (v.pulses.size() >= kMaxPulsesKept) break;
      if (e.is_object()) v.pulses.push_back(pulse_from_json(e));
    }
  }
  return v;
}

// Writes the verdict (never the key, never the raw answer) to a temporary
// file and renames it into place, so readers never see half a file.
void cache_write(const OtxOptions& o, const OtxVerdict& v) {
  if (o.cache_dir.empty()) return;
  if (v.status != OtxVerdict::Status::kOk && v.status != OtxVerdict::Status::kNotFound) return;
  std::error_code ec;
  std::filesystem::create_directories(o.cache_dir, ec);
  Json j{{"format", kCacheFormat},
         {"fetched_at", now_unix()},
         {"kind", otx_kind_path(v.query.kind)},
         {"value", v.query.value},
         {"status", otx_status_name(v.status)}};
  if (v.status == OtxVerdict::Status::kOk) {
    j["pulse_count"] = v.pulse_count;
    Json pulses = Json::array();
    for (const auto& p : v.pulses) pulses.push_back(pulse_to_json(p));
    j["pulses"] = std::move(pulses);
  }
  // Invalid UTF-8 from the server is replaced rather than thrown on.
  std::string text = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  text += '\n';
  std::string path = cache_path(o.cache_dir, v.query);
  static std::atomic<unsigned> seq{0};
  std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(seq++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const char* p = text.data();
  size_t left = text.size();
  bool ok = true;
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      ok = false;
      break;
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  if (::close(fd) != 0) ok = false;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
}

// ---- network ----

std::string url_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                c == '.' || c == '_' || c == '~';
    if (keep) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One indicator being fetched; retried in place.
struct Job {
  OtxQuery query;  // normalised value as sent
  std::string url;
  unsigned attempt = 0;  // requests made so far
  Clock::time_point not_before{};
  CURL* easy = nullptr;
  std::string body;
  uint64_t cap = 0;
  bool overflow = false;
  std::optional<double> retry_after;
  char errbuf[CURL_ERROR_SIZE] = {};
  OtxVerdict verdict;
  bool done = false;
};

size_t on_body(char* data, size_t size, size_t nmemb, void* user) {
  auto* job = static_cast<Job*>(user);
  size_t n = size * nmemb;
  if (job->body.size() + n > job->cap) {
    job->overflow = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  job->body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t nmemb, void* user) {
  auto* job = static_cast<Job*>(user);
  size_t n = size * nmemb;
  std::string_view line(data, n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size() && lower(line.substr(0, kName.size())) == kName) {
    std::string_view v = line.substr(kName.size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    double secs = 0;
    bool any = false;
    // Delta-seconds only; an HTTP date falls back to our own backoff.
    while (!v.empty() && v.front() >= '0' && v.front() <= '9' && secs < 1e6) {
      secs = secs * 10 + (v.front() - '0');
      v.remove_prefix(1);
      any = true;
    }
    if (any) job->retry_after = secs;
  }
  return n;
}

enum class Outcome { kDone, kRetry };

}  // namespace

std::string_view otx_kind_path(OtxKind k) {
  switch (k) {
    case OtxKind::kIPv4: return "IPv4";
    case OtxKind::kIPv6: return "IPv6";
    case OtxKind::kDomain: return "domain";
    case OtxKind::kHostname: return "hostname";
    case OtxKind::kUrl: return "url";
  }
  return "IPv4";
}

std::string_view otx_status_name(OtxVerdict::Status s) {
  switch (s) {
    case OtxVerdict::Status::kOk: return "ok";
    case OtxVerdict::Status::kNotFound: return "not_found";
    case OtxVerdict::Status::kSkipped: return "skipped";
    case OtxVerdict::Status::kOffline: return "offline";
    case OtxVerdict::Status::kError: return "error";
  }
  return "error";
}

bool otx_may_send(const OtxQuery& q) {
  switch (q.kind) {
    case OtxKind::kIPv4:
    case OtxKind::kIPv6: {
      auto ip = core::IpAddress::parse(q.value);
      if (!ip || ip->is_v4() != (q.kind == OtxKind::kIPv4)) return false;
      return address_may_send(*ip);
    }
    case OtxKind::kDomain:
    case OtxKind::kHostname:
      return name_may_send(q.value);
    case OtxKind::kUrl: {
      if (q.value.empty() || q.value.size() > kMaxUrlBytes) return false;
      for (char c : q.value) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
      }
      auto host = url_host(q.value);
      if (!host) return false;
      if (auto ip = core::IpAddress::parse(*host)) return address_may_send(*ip);
      return name_may_send(*host);
    }
  }
  return false;
}

bool parse_otx_general(std::string_view body, OtxVerdict& v) {
  v.pulse_count = 0;
  v.pulses.clear();
  if (nesting_too_deep(body)) {
    v.error = "OTX answer nested too deeply";
    return false;
  }
  Json j = Json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) {
    v.error = "OTX answer is not JSON";
    return false;
  }
  if (!j.is_object()) {
    v.error = "OTX answer is not a JSON object";
    return false;
  }
  auto info = j.find("pulse_info");
  if (info == j.end() || !info->is_object()) {
    v.error = "OTX answer has no pulse_info object";
    return false;
  }
  uint64_t listed = 0;
  if (auto pulses = info->find("pulses"); pulses != info->end() && pulses->is_array()) {
    for (const auto& p : *pulses) {
      if (!p.is_object()) continue;
      ++listed;
      if (v.pulses.size() < kMaxPulsesKept) v.pulses.push_back(pulse_from_json(p));
    }
  }
  uint64_t count = 0;
  if (auto c = info->find("count"); c != info->end()) {
    if (c->is_number_unsigned()) {
      count = c->get<uint64_t>();
    } else if (c->is_number_float()) {
      double d = c->get<double>();
      if (d >= 0 && d < 1e15) count = static_cast<uint64_t>(d);
    }
  }
  // OTX lists at most a page of pulses; count says how many there are in all.
  v.pulse_count = std::max(count, listed);
  return true;
}

OtxClient::OtxClient(OtxOptions options) : options_(std::move(options)) {}

std::vector<OtxVerdict> OtxClient::lookup(const std::vector<OtxQuery>& queries) {
  std::vector<OtxVerdict> out(queries.size());
  // Identical indicators are fetched once: jobs by (kind, value).
  std::map<std::pair<OtxKind, std::string>, size_t> job_of;
  std::vector<std::unique_ptr<Job>> jobs;
  std::vector<std::pair<size_t, size_t>> waiting_for;  // (query index, job)

  const std::string& key = options_.key;
  bool key_usable = !key.empty();
  for (char c : key) {
    // A header value cannot hold control characters (and must not smuggle
    // another header in).
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) key_usable = false;
  }

  for (size_t i = 0; i < queries.size(); ++i) {
    OtxVerdict& v = out[i];
    v.query = queries[i];
    if (!otx_may_send(queries[i])) {
      v.status = OtxVerdict::Status::kSkipped;
      v.error = "not sent to OTX (private, reserved or documentation indicator)";
      ++counters_.skipped;
      continue;
    }
    if (auto hit = cache_read(options_, queries[i])) {
      v = std::move(*hit);
      ++counters_.cache_hits;
      continue;
    }
    if (options_.offline) {
      v.status = OtxVerdict::Status::kOffline;
      v.error = "offline and not in the OTX cache";
      continue;
    }
    if (key.empty()) {
      v.status = OtxVerdict::Status::kSkipped;
      v.error = "no OTX API key";
      ++counters_.skipped;
      continue;
    }
    if (!key_usable) {
      v.status = OtxVerdict::Status::kError;
      v.error = "the OTX API key contains control characters";
      ++counters_.errors;
      continue;
    }
    auto k = std::make_pair(queries[i].kind, queries[i].value);
    auto [it, fresh] = job_of.emplace(k, jobs.size());
    if (fresh) {
      auto job = std::make_unique<Job>();
      job->query = queries[i];
      std::string base = options_.base_url;
      while (!base.empty() && base.back() == '/') base.pop_back();
      job->url = base + "/api/v1/indicators/" + std::string(otx_kind_path(queries[i].kind)) + "/" +
                 url_encode(queries[i].value) + "/general";
      job->cap = options_.max_response_bytes;
      jobs.push_back(std::move(job));
    }
    waiting_for.emplace_back(i, it->second);
  }
  if (jobs.empty()) return out;

  curl_init_once();
  CURLM* multi = curl_multi_init();
  std::string key_header = "X-OTX-API-KEY: " + key;
  curl_slist* headers = curl_slist_append(nullptr, key_header.c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  // Scrub our copy; curl keeps its own for the requests.
  std::fill(key_header.begin(), key_header.end(), '\0');

  const unsigned concurrency = std::max(1u, options_.concurrency);
  const double timeout_s = options_.timeout_s > 0 ? options_.timeout_s : 15.0;
  const auto timeout_ms = static_cast<long>(std::ceil(std::min(timeout_s, 86400.0) * 1000));
  const std::string cap_text = std::to_string(options_.max_response_bytes);
  const auto max_file = static_cast<curl_off_t>(
      std::min(options_.max_response_bytes, static_cast<uint64_t>(std::numeric_limits<int64_t>::max())));

  std::vector<Job*> queue;  // not yet finished, not in flight
  for (auto& j : jobs) queue.push_back(j.get());
  unsigned in_flight = 0;
  bool key_rejected = false;
  const std::string kKeyRejected = "OTX rejected the API key (HTTP 403)";

  auto finish = [&](Job& job, OtxVerdict::Status st, std::string error) {
    job.verdict.query = job.query;
    job.verdict.status = st;
    job.verdict.error = std::move(error);
    job.done = true;
    if (st == OtxVerdict::Status::kError) ++counters_.errors;
  };

  auto start = [&](Job& job) -> bool {
    CURL* e = curl_easy_init();
    if (e == nullptr) return false;
    job.body.clear();
    job.overflow = false;
    job.retry_after.reset();
    job.errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, job.url.c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "trawl-otx/1");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    // Never verbose: curl's trace would print the key header.
    curl_easy_setopt(e, CURLOPT_VERBOSE, 0L);
    // A redirect could carry the key header to another host.
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, max_file);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &job);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &job);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, job.errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &job);
    if (curl_multi_add_handle(multi, e) != CURLM_OK) {
      curl_easy_cleanup(e);
      return false;
    }
    job.easy = e;
    ++job.attempt;
    ++counters_.requests;
    ++in_flight;
    return true;
  };

  auto backoff = [&](const Job& job) {
    double wait;
    if (job.retry_after) {
      wait = std::min(*job.retry_after, kMaxRetryAfterS);
    } else {
      wait = std::max(0.0, options_.backoff_s) * std::pow(2.0, static_cast<double>(job.attempt - 1));
      wait = std::min(wait, kMaxBackoffS);
    }
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait));
  };

  // Decides what a finished transfer means: a verdict, or another try.
  auto settle = [&](Job& job, CURLcode rc) -> Outcome {
    long http = 0;
    curl_easy_getinfo(job.easy, CURLINFO_RESPONSE_CODE, &http);
    std::string why;
    if (rc != CURLE_OK) {
      if (job.overflow || rc == CURLE_FILESIZE_EXCEEDED) {
        finish(job, OtxVerdict::Status::kError, "OTX answer larger than " + cap_text + " bytes");
        return Outcome::kDone;
      }
      why = std::string("OTX request failed: ") + (job.errbuf[0] != '\0' ? job.errbuf : curl_easy_strerror(rc));
    } else if (http == 200) {
      OtxVerdict v;
      if (parse_otx_general(job.body, v)) {
        job.verdict = std::move(v);
        finish(job, OtxVerdict::Status::kOk, "");
      } else {
        finish(job, OtxVerdict::Status::kError, v.error);
      }
      return Outcome::kDone;
    } else if (http == 404) {
      finish(job, OtxVerdict::Status::kNotFound, "");
      return Outcome::kDone;
    } else if (http == 400) {
      finish(job, OtxVerdict::Status::kError, "OTX refused the indicator as invalid (HTTP 400)");
      return Outcome::kDone;
    } else if (http == 401 || http == 403) {
      if (!key_rejected) std::fprintf(stderr, "trawl: %s; no further OTX queries\n", kKeyRejected.c_str());
      key_rejected = true;
      finish(job, OtxVerdict::Status::kError, kKeyRejected);
      return Outcome::kDone;
    } else if (http == 429) {
      why = "OTX rate limit (HTTP 429)";
    } else if (http >= 500 && http <= 599) {
      why = "OTX server error (HTTP " + std::to_string(http) + ")";
    } else {
      finish(job, OtxVerdict::Status::kError, "unexpected HTTP status " + std::to_string(http) + " from OTX");
      return Outcome::kDone;
    }
    if (job.attempt <= options_.max_retries && !key_rejected) {
      ++counters_.retries;
      job.not_before = Clock::now() + backoff(job);
      return Outcome::kRetry;
    }
    finish(job, OtxVerdict::Status::kError,
           why + " after " + std::to_string(job.attempt) + (job.attempt == 1 ? " attempt" : " attempts"));
    return Outcome::kDone;
  };

  // Every job ends after at most max_retries + 1 requests, each bounded by the
  // timeout, so the loop ends; the iteration cap is a second guard.
  for (uint64_t rounds = 0; rounds < (uint64_t{1} << 40); ++rounds) {
    auto now = Clock::now();
    if (key_rejected) {
      for (Job* j : queue) finish(*j, OtxVerdict::Status::kError, kKeyRejected);
      queue.clear();
    }
    for (auto it = queue.begin(); it != queue.end() && in_flight < concurrency;) {
      Job* j = *it;
      if (j->not_before > now) {
        ++it;
        continue;
      }
      if (!start(*j)) {
        finish(*j, OtxVerdict::Status::kError, "could not start an OTX request");
      }
      it = queue.erase(it);
    }
    if (in_flight == 0 && queue.empty()) break;

    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* e = msg->easy_handle;
      CURLcode rc = msg->data.result;
      Job* job = nullptr;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, &job);
      --in_flight;
      Outcome o = job != nullptr ? settle(*job, rc) : Outcome::kDone;
      curl_multi_remove_handle(multi, e);
      curl_easy_cleanup(e);
      if (job != nullptr) {
        job->easy = nullptr;
        if (o == Outcome::kRetry) queue.push_back(job);
      }
    }

    if (in_flight == 0 && queue.empty()) break;
    // Sleep until curl has work or the next retry is due (at most 200 ms).
    auto wake = Clock::now() + std::chrono::milliseconds(200);
    for (Job* j : queue) {
      if (in_flight < concurrency) wake = std::min(wake, j->not_before);
    }
    auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now()).count();
    wait_ms = std::max<int64_t>(wait_ms, 0);
    if (in_flight > 0) {
      curl_multi_poll(multi, nullptr, 0, static_cast<int>(wait_ms), nullptr);
    } else if (wait_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    }
  }

  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);

  for (auto& j : jobs) cache_write(options_, j->verdict);
  for (auto [i, ji] : waiting_for) out[i] = jobs[ji]->verdict;
  for (auto [i, ji] : waiting_for) out[i].query = queries[i];
  return out;
}

}  // namespace trawl::intel

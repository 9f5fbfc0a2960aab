// Text feeds: plain indicator lists, abuse.ch Feodo Tracker and URLhaus CSV,
// MISP CSV exports, and parse_feed(), which picks the format from the bytes.
#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <string>
#include <unordered_map>

#include "intel/feeds.h"

namespace trawl::intel {

void LoadReport::error(std::string file, uint64_t line, std::string message) {
  ++errors_total;
  if (errors.size() < kMaxErrors) errors.push_back(LoadError{std::move(file), line, std::move(message)});
}

namespace {

constexpr size_t kMaxCsvFields = 256;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// First position of any of the given characters (std::string_view's
// find_first_of runs memchr over the set per character: slow on big lists).
template <size_t N>
size_t find_any(std::string_view s, const char (&set)[N]) {
  for (size_t i = 0; i < s.size(); ++i) {
    for (size_t j = 0; j + 1 < N; ++j) {
      if (s[i] == set[j]) return i;
    }
  }
  return std::string_view::npos;
}

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower_ascii(c);
  return out;
}

bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() && lower_ascii(hay[i + j]) == lower_ascii(needle[j])) ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

// A value quoted in an error message: printable ASCII only, at most 80 bytes.
std::string shown(std::string_view v) {
  std::string out = "'";
  for (size_t i = 0; i < v.size() && i < 80; ++i) {
    auto c = static_cast<unsigned char>(v[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (v.size() > 80) out += "...";
  out.push_back('\'');
  return out;
}

// Undoes the usual defanging ("hxxp://evil[.]example", "198.51.100[.]7") so
// shared reports load as indicators. Copies only when something changes.
std::string_view refang(std::string_view v, std::string& buf) {
  bool bracket = find_any(v, "[({") != std::string_view::npos;
  bool hxxp = v.size() >= 4 && (lower_ascii(v[0]) == 'h' && lower_ascii(v[1]) == 'x' && lower_ascii(v[2]) == 'x' &&
                                lower_ascii(v[3]) == 'p');
  if (!bracket && !hxxp) return v;
  buf.clear();
  size_t i = 0;
  if (hxxp) {
    buf += "http";
    i = 4;
  }
  while (i < v.size()) {
    if (i + 2 < v.size() && (v[i] == '[' || v[i] == '(' || v[i] == '{') &&
        (v[i + 1] == '.' || v[i + 1] == ':' || v[i + 1] == '@') &&
        (v[i + 2] == ']' || v[i + 2] == ')' || v[i + 2] == '}')) {
      buf.push_back(v[i + 1]);
      i += 3;
    } else if (i + 4 < v.size() && v.compare(i, 5, "[dot]") == 0) {
      buf.push_back('.');
      i += 5;
    } else {
      buf.push_back(v[i]);
      ++i;
    }
  }
  return buf;
}

// "20170516" -> "2017-05-16"; "1494892800" (epoch seconds) -> "2017-05-16T00:00:00Z";
// anything else as given.
std::string iso_date(std::string_view d) {
  d = trim(d);
  bool digits = !d.empty() && std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits && d.size() == 8) {
    std::string s(d.substr(0, 4));
    s += '-';
    s += d.substr(4, 2);
    s += '-';
    s += d.substr(6, 2);
    return s;
  }
  if (digits && d.size() >= 9 && d.size() <= 10) {
    auto t = static_cast<time_t>(std::stoll(std::string(d)));
    struct tm tm {};
    if (gmtime_r(&t, &tm) != nullptr) {
      char buf[32];
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
      return buf;
    }
  }
  return std::string(d);
}

// Reads CSV records: quoted fields (doubled quotes inside), CRLF or LF, quoted
// fields that span lines, lines starting with '#' outside a record are
// comments. A malformed record is reported and reading resumes on the next
// line, so one bad row never hides the rest.
class CsvReader {
 public:
  enum class Kind : uint8_t { kEnd, kRecord, kComment, kError };

  explicit CsvReader(std::string_view bytes) : b_(bytes) {
    if (b_.size() >= 3 && std::memcmp(b_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;  // UTF-8 BOM
  }

  // fields: reused between calls (their capacity too). text: the comment, or
  // the error message.
  Kind next(std::vector<std::string>& fields, size_t& count, std::string& text) {
    count = 0;
    for (;;) {
      if (pos_ >= b_.size()) return Kind::kEnd;
      line_ = next_line_;
      size_t eol = b_.find('\n', pos_);
      std::string_view raw = b_.substr(pos_, eol == std::string_view::npos ? std::string_view::npos : eol - pos_);
      std::string_view t = trim(raw);
      if (t.empty()) {
        skip_line(eol);
        continue;
      }
      if (t[0] == '#') {
        text.assign(t.substr(0, std::min(t.size(), kMaxFeedLine)));
        skip_line(eol);
        return Kind::kComment;
      }
      return record(fields, count, text);
    }
  }
  uint64_t line() const { return line_; }
  bool quoted() const { return quoted_; }  // the last record had a quoted field

 private:
  void skip_line(size_t eol) {
    pos_ = eol == std::string_view::npos ? b_.size() : eol + 1;
    ++next_line_;
  }
  Kind fail(size_t start, std::string& text, const char* why) {
    text = why;
    // Resume on the line after the one the record started on.
    size_t eol = b_.find('\n', start);
    pos_ = eol == std::string_view::npos ? b_.size() : eol + 1;
    next_line_ = line_ + 1;
    return Kind::kError;
  }
  Kind record(std::vector<std::string>& fields, size_t& count, std::string& text) {
    size_t start = pos_;
    size_t p = pos_;
    uint64_t lines = 0;
    quoted_ = false;
    for (;;) {
      if (count == kMaxCsvFields) return fail(start, text, "more than 256 fields");
      if (fields.size() <= count) fields.emplace_back();
      std::string& f = fields[count++];
      f.clear();
      while (p < b_.size() && (b_[p] == ' ' || b_[p] == '\t')) ++p;
      if (p < b_.size() && b_[p] == '"') {
        quoted_ = true;
        ++p;
        for (;;) {
          size_t q = b_.find('"', p);
          if (q == std::string_view::npos || q - start > kMaxFeedLine) {
            return fail(start, text, q == std::string_view::npos ? "unterminated quoted field"
                                                                 : "record longer than 64 KiB");
          }
          std::string_view chunk = b_.substr(p, q - p);
          lines += static_cast<uint64_t>(std::count(chunk.begin(), chunk.end(), '\n'));
          f.append(chunk);
          if (q + 1 < b_.size() && b_[q + 1] == '"') {
            f.push_back('"');
            p = q + 2;
            continue;
          }
          p = q + 1;
          break;
        }
        while (p < b_.size() && (b_[p] == ' ' || b_[p] == '\t' || b_[p] == '\r')) ++p;
        if (p < b_.size() && b_[p] != ',' && b_[p] != '\n') return fail(start, text, "text after a closing quote");
      } else {
        size_t e = p;
        while (e < b_.size() && b_[e] != ',' && b_[e] != '\n') ++e;
        if (e - start > kMaxFeedLine) return fail(start, text, "record longer than 64 KiB");
        f.assign(trim(b_.substr(p, e - p)));
        p = e;
      }
      if (p - start > kMaxFeedLine) return fail(start, text, "record longer than 64 KiB");
      if (p < b_.size() && b_[p] == ',') {
        ++p;
        continue;
      }
      // End of record: newline or end of input.
      pos_ = p < b_.size() ? p + 1 : b_.size();
      next_line_ = line_ + lines + 1;
      return Kind::kRecord;
    }
  }

  std::string_view b_;
  size_t pos_ = 0;
  uint64_t line_ = 1;       // line of the record just returned
  uint64_t next_line_ = 1;  // line at pos_
  bool quoted_ = false;
};

// Column positions by header name; npos when absent.
struct Columns {
  std::unordered_map<std::string, size_t> at;
  size_t get(std::initializer_list<const char*> names) const {
    for (const char* n : names) {
      auto it = at.find(n);
      if (it != at.end()) return it->second;
    }
    return std::string::npos;
  }
};

Columns header_columns(const std::vector<std::string>& fields, size_t count) {
  Columns c;
  for (size_t i = 0; i < count; ++i) {
    std::string k = lower(trim(fields[i]));
    if (!k.empty() && k[0] == '#') k = std::string(trim(std::string_view(k).substr(1)));
    c.at.emplace(k, i);
  }
  return c;
}

// A header written as a comment ("# id,dateadded,url,..."): its columns.
Columns comment_header(std::string_view comment) {
  std::string_view t = trim(comment.substr(1));
  std::vector<std::string> fields;
  size_t count = 0;
  std::string text;
  CsvReader r(t);
  if (r.next(fields, count, text) != CsvReader::Kind::kRecord) count = 0;
  return header_columns(fields, count);
}

std::string_view field(const std::vector<std::string>& fields, size_t count, size_t col) {
  return col < count ? std::string_view(fields[col]) : std::string_view();
}

// Sources shared by rows with the same context (one per MISP event and
// category, say), so a big feed does not hold one Source per row unless its
// rows really differ.
class SourceCache {
 public:
  explicit SourceCache(IndicatorStore& store) : store_(store) {}
  uint32_t get(Source s) {
    key_.clear();
    for (const std::string* p : {&s.feed, &s.format, &s.name, &s.first_seen, &s.last_seen, &s.reference}) {
      key_ += *p;
      key_.push_back('\x1f');
    }
    for (const auto& t : s.tags) {
      key_ += t;
      key_.push_back('\x1e');
    }
    auto it = ids_.find(key_);
    if (it != ids_.end()) return it->second;
    uint32_t id = store_.add_source(std::move(s));
    ids_.emplace(key_, id);
    return id;
  }

 private:
  IndicatorStore& store_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::string key_;
};

void add_unique(std::vector<std::string>& tags, std::string_view t) {
  t = trim(t);
  if (t.empty() || t == "None" || t == "none") return;
  if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.emplace_back(t);
}

std::string name_only(std::string_view name) {
  size_t slash = name.find_last_of('/');
  return std::string(slash == std::string_view::npos ? name : name.substr(slash + 1));
}

// Hosts-file sink addresses: "0.0.0.0 evil.example" lists evil.example.
bool is_sink_address(std::string_view t) {
  return t == "0.0.0.0" || t == "127.0.0.1" || t == "::" || t == "::1" || t == "0";
}

bool is_local_name(std::string_view t) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "localhost", "localhost.localdomain", "local", "broadcasthost", "ip6-localhost", "ip6-loopback",
      "ip6-localnet", "0.0.0.0"};
  return std::find(kNames.begin(), kNames.end(), t) != kNames.end();
}

}  // namespace

void parse_list(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report) {
  std::string file(name);
  Source s;
  s.feed = name_only(name);
  s.format = "list";
  uint32_t src = store.add_source(std::move(s));
  std::string buf;
  uint64_t line_no = 0;
  size_t pos = 0;
  if (bytes.size() >= 3 && std::memcmp(bytes.data(), "\xEF\xBB\xBF", 3) == 0) pos = 3;
  while (pos < bytes.size()) {
    ++line_no;
    size_t eol = bytes.find('\n', pos);
    if (eol == std::string_view::npos) eol = bytes.size();
    std::string_view line = trim(bytes.substr(pos, eol - pos));
    pos = eol + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';' || line.starts_with("//")) continue;
    if (line.size() > kMaxFeedLine) {
      report.error(file, line_no, "line longer than 64 KiB");
      continue;
    }
    size_t sp = find_any(line, " \t");
    std::string_view first = line.substr(0, sp);
    if (sp != std::string_view::npos && is_sink_address(first)) {
      // Hosts file: every name after the sink address, up to a comment.
      std::string_view rest = line.substr(sp);
      while (!(rest = trim(rest)).empty()) {
        size_t e = find_any(rest, " \t");
        std::string_view host = rest.substr(0, e);
        rest = e == std::string_view::npos ? std::string_view() : rest.substr(e);
        if (host[0] == '#') break;
        if (is_local_name(host)) {
          ++report.skipped;
        } else if (store.add(IndicatorType::kDomain, refang(host, buf), src)) {
          ++report.indicators;
        } else {
          report.error(file, line_no, "not a host name: " + shown(host));
        }
      }
      continue;
    }
    // "indicator,comment", "indicator ; comment", "indicator # comment".
    std::string_view value = first;
    size_t comma = value.find(',');
    if (comma != std::string_view::npos) value = value.substr(0, comma);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (value.empty()) {
      report.error(file, line_no, "no indicator before the comment: " + shown(line));
      continue;
    }
    if (store.add_guess(refang(value, buf), src)) {
      ++report.indicators;
    } else {
      report.error(file, line_no, "not an IP, CIDR, domain, URL or hash: " + shown(value));
    }
  }
}

void parse_feodo_csv(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report) {
  std::string file(name);
  SourceCache sources(store);
  CsvReader r(bytes);
  std::vector<std::string> f;
  size_t n = 0;
  std::string text;
  // Current layout; the header (quoted row, or the older "# Firstseen,DstIP,..."
  // comment) overrides it when present.
  size_t c_first = 0, c_ip = 1, c_port = 2, c_status = 3, c_last = 4, c_malware = 5;
  auto use_header = [&](const Columns& c) {
    c_ip = c.get({"dst_ip", "dstip", "ip_address", "ip"});
    c_first = c.get({"first_seen_utc", "firstseen", "first_seen"});
    c_port = c.get({"dst_port", "dstport", "port"});
    c_status = c.get({"c2_status", "status"});
    c_last = c.get({"last_online", "lastonline"});
    c_malware = c.get({"malware"});
  };
  for (;;) {
    auto kind = r.next(f, n, text);
    if (kind == CsvReader::Kind::kEnd) break;
    if (kind == CsvReader::Kind::kError) {
      report.error(file, r.line(), text);
      continue;
    }
    if (kind == CsvReader::Kind::kComment) {
      if (icontains(text, "dstip") || icontains(text, "dst_ip")) use_header(comment_header(text));
      continue;
    }
    if (n > 0 && (icontains(f[0], "first_seen") || icontains(f[0], "firstseen") ||
                  (c_ip < n && icontains(f[c_ip], "dst_ip")))) {
      use_header(header_columns(f, n));
      continue;
    }
    std::string_view ip = field(f, n, c_ip);
    if (c_ip == std::string::npos || ip.empty()) {
      report.error(file, r.line(), "row without a dst_ip field (" + std::to_string(n) + " fields)");
      continue;
    }
    Source s;
    s.feed = name_only(name);
    s.format = "feodo";
    s.name = std::string(field(f, n, c_malware));
    s.tags.emplace_back("feodo");
    add_unique(s.tags, s.name);
    if (!field(f, n, c_status).empty()) add_unique(s.tags, "c2_" + lower(field(f, n, c_status)));
    if (!field(f, n, c_port).empty()) add_unique(s.tags, "port:" + std::string(field(f, n, c_port)));
    s.first_seen = std::string(field(f, n, c_first));
    s.last_seen = std::string(field(f, n, c_last));
    s.reference = "https://feodotracker.abuse.ch/browse/host/" + std::string(trim(ip)) + "/";
    uint32_t src = sources.get(std::move(s));
    if (store.add(IndicatorType::kIp, ip, src)) {
      ++report.indicators;
    } else {
      report.error(file, r.line(), "dst_ip is not an IP address: " + shown(ip));
    }
  }
}

void parse_urlhaus_csv(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report) {
  std::string file(name);
  SourceCache sources(store);
  CsvReader r(bytes);
  std::vector<std::string> f;
  size_t n = 0;
  std::string text;
  bool have_header = false;
  size_t c_added = 1, c_url = 2, c_last = 4, c_threat = 5, c_tags = 6, c_link = 7;
  auto use_header = [&](const Columns& c) {
    c_url = c.get({"url"});
    c_added = c.get({"dateadded"});
    c_last = c.get({"last_online"});
    c_threat = c.get({"threat"});
    c_tags = c.get({"tags"});
    c_link = c.get({"urlhaus_link"});
    have_header = true;
  };
  for (;;) {
    auto kind = r.next(f, n, text);
    if (kind == CsvReader::Kind::kEnd) break;
    if (kind == CsvReader::Kind::kError) {
      report.error(file, r.line(), text);
      continue;
    }
    if (kind == CsvReader::Kind::kComment) {
      if (icontains(text, "dateadded") && icontains(text, "url")) use_header(comment_header(text));
      continue;
    }
    if (n > 2 && lower(trim(f[0])) == "id" && icontains(f[1], "dateadded")) {
      use_header(header_columns(f, n));
      continue;
    }
    if (!have_header && n == 8) {
      // The older layout, without last_online.
      c_last = std::string::npos;
      c_threat = 4;
      c_tags = 5;
      c_link = 6;
    }
    std::string_view url = field(f, n, c_url);
    if (c_url == std::string::npos || url.empty()) {
      report.error(file, r.line(), "row without a url field (" + std::to_string(n) + " fields)");
      continue;
    }
    Source s;
    s.feed = name_only(name);
    s.format = "urlhaus";
    s.name = std::string(field(f, n, c_threat));
    std::string_view tags = field(f, n, c_tags);
    while (!tags.empty()) {
      size_t comma = tags.find(',');
      add_unique(s.tags, tags.substr(0, comma));
      tags = comma == std::string_view::npos ? std::string_view() : tags.substr(comma + 1);
    }
    s.first_seen = std::string(field(f, n, c_added));
    s.last_seen = std::string(field(f, n, c_last));
    s.reference = std::string(field(f, n, c_link));
    uint32_t src = sources.get(std::move(s));
    if (store.add(IndicatorType::kUrl, url, src)) {
      ++report.indicators;
    } else {
      report.error(file, r.line(), "not a URL: " + shown(url));
    }
  }
}

namespace {

// MISP attribute types that are network or file indicators, and which part
// of a composite "a|b" value holds the indicator.
struct MispType {
  std::string_view type;
  IndicatorType kind;
  int part;  // 0: whole value, 1: before '|', 2: after '|'
};
constexpr std::array<MispType, 16> kMispTypes = {{
    {"ip-dst", IndicatorType::kIp, 0},
    {"ip-src", IndicatorType::kIp, 0},
    {"ip-dst|port", IndicatorType::kIp, 1},
    {"ip-src|port", IndicatorType::kIp, 1},
    {"domain", IndicatorType::kDomain, 0},
    {"hostname", IndicatorType::kDomain, 0},
    {"hostname|port", IndicatorType::kDomain, 1},
    {"domain|ip", IndicatorType::kDomain, 1},  // the address part is added below
    {"url", IndicatorType::kUrl, 0},
    {"md5", IndicatorType::kHash, 0},
    {"sha1", IndicatorType::kHash, 0},
    {"sha256", IndicatorType::kHash, 0},
    {"filename|md5", IndicatorType::kHash, 2},
    {"filename|sha1", IndicatorType::kHash, 2},
    {"filename|sha256", IndicatorType::kHash, 2},
    {"ip-dst|ip-src", IndicatorType::kIp, 1},  // never emitted by MISP; kept harmless
}};

std::string_view misp_part(std::string_view v, int part) {
  if (part == 0) return v;
  size_t bar = v.find('|');
  if (bar == std::string_view::npos) return part == 1 ? v : std::string_view();
  return part == 1 ? v.substr(0, bar) : v.substr(bar + 1);
}

bool to_ids_false(std::string_view v) {
  v = trim(v);
  return v == "0" || v == "false" || v == "False" || v == "FALSE";
}

}  // namespace

void parse_misp_csv(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report) {
  std::string file(name);
  SourceCache sources(store);
  CsvReader r(bytes);
  std::vector<std::string> f;
  size_t n = 0;
  std::string text;
  std::string buf;
  bool have_header = false;
  size_t c_event = 0, c_category = 0, c_type = 0, c_value = 0, c_ids = 0, c_date = 0, c_info = 0, c_etag = 0,
         c_atag = 0;
  for (;;) {
    auto kind = r.next(f, n, text);
    if (kind == CsvReader::Kind::kEnd) break;
    if (kind == CsvReader::Kind::kError) {
      report.error(file, r.line(), text);
      continue;
    }
    if (kind == CsvReader::Kind::kComment) continue;
    if (!have_header) {
      Columns c = header_columns(f, n);
      c_type = c.get({"type"});
      c_value = c.get({"value"});
      if (c_type == std::string::npos || c_value == std::string::npos) {
        report.error(file, r.line(), "MISP CSV header without type and value columns");
        return;
      }
      c_event = c.get({"event_id"});
      c_category = c.get({"category"});
      c_ids = c.get({"to_ids"});
      c_date = c.get({"date"});
      c_info = c.get({"event_info"});
      c_etag = c.get({"event_tag"});
      c_atag = c.get({"attribute_tag"});
      have_header = true;
      continue;
    }
    std::string_view type = trim(field(f, n, c_type));
    std::string_view value = trim(field(f, n, c_value));
    if (type.empty() || value.empty()) {
      report.error(file, r.line(), "row without type or value (" + std::to_string(n) + " fields)");
      continue;
    }
    const MispType* mt = nullptr;
    for (const auto& t : kMispTypes) {
      if (t.type == type) mt = &t;
    }
    // Attributes not flagged for detection (to_ids 0) are context, not indicators.
    if (mt == nullptr || to_ids_false(field(f, n, c_ids))) {
      ++report.skipped;
      continue;
    }
    Source s;
    s.feed = name_only(name);
    s.format = "misp_csv";
    std::string_view event = trim(field(f, n, c_event));
    std::string_view info = trim(field(f, n, c_info));
    s.name = !info.empty() ? std::string(info) : event.empty() ? std::string() : "MISP event " + std::string(event);
    add_unique(s.tags, field(f, n, c_category));
    for (size_t col : {c_etag, c_atag}) {
      std::string_view tags = field(f, n, col);
      while (!tags.empty()) {
        size_t comma = tags.find(',');
        add_unique(s.tags, tags.substr(0, comma));
        tags = comma == std::string_view::npos ? std::string_view() : tags.substr(comma + 1);
      }
    }
    s.first_seen = iso_date(field(f, n, c_date));
    if (!event.empty()) s.reference = "misp:event/" + std::string(event);
    uint32_t src = sources.get(std::move(s));
    std::string_view v = refang(trim(misp_part(value, mt->part)), buf);
    bool ok = store.add(mt->kind, v, src);
    if (ok && type == "domain|ip") ok = store.add(IndicatorType::kIp, refang(trim(misp_part(value, 2)), buf), src);
    if (ok) {
      ++report.indicators;
    } else {
      report.error(file, r.line(), "not a valid " + std::string(type) + " value: " + shown(value));
    }
  }
  if (!have_header) report.error(file, 0, "empty MISP CSV (no header)");
}

namespace {

enum class Sniffed : uint8_t { kList, kFeodo, kUrlhaus, kMispCsv, kJson, kUnknownCsv };

Sniffed sniff(std::string_view bytes) {
  size_t i = 0;
  if (bytes.size() >= 3 && std::memcmp(bytes.data(), "\xEF\xBB\xBF", 3) == 0) i = 3;
  while (i < bytes.size() && is_space(bytes[i])) ++i;
  if (i < bytes.size() && (bytes[i] == '{' || bytes[i] == '[')) return Sniffed::kJson;
  CsvReader r(bytes.substr(0, std::min<size_t>(bytes.size(), 64 * 1024)));
  std::vector<std::string> f;
  size_t n = 0;
  std::string text;
  bool feodo_comment = false, urlhaus_comment = false;
  for (int records = 0; records < 200; ++records) {
    auto kind = r.next(f, n, text);
    if (kind == CsvReader::Kind::kEnd) break;
    if (kind == CsvReader::Kind::kComment) {
      if (icontains(text, "feodo tracker") || icontains(text, "dstip")) feodo_comment = true;
      if (icontains(text, "urlhaus") || (icontains(text, "dateadded") && icontains(text, "url_status"))) {
        urlhaus_comment = true;
      }
      continue;
    }
    if (feodo_comment) return Sniffed::kFeodo;
    if (urlhaus_comment) return Sniffed::kUrlhaus;
    if (kind == CsvReader::Kind::kError) return Sniffed::kList;
    Columns c = header_columns(f, n);
    if (c.get({"dst_ip"}) != std::string::npos && c.get({"first_seen_utc"}) != std::string::npos) {
      return Sniffed::kFeodo;
    }
    if (c.get({"dateadded"}) != std::string::npos && c.get({"url"}) != std::string::npos) return Sniffed::kUrlhaus;
    if (c.get({"type"}) != std::string::npos && c.get({"value"}) != std::string::npos &&
        (c.get({"uuid"}) != std::string::npos || c.get({"event_id"}) != std::string::npos)) {
      return Sniffed::kMispCsv;
    }
    // Header-less rows in the abuse.ch layouts.
    if (n == 6 && core::IpAddress::parse(trim(f[1])) && trim(f[0]).size() >= 10) return Sniffed::kFeodo;
    if ((n == 8 || n == 9) && f[2].find("://") != std::string::npos) return Sniffed::kUrlhaus;
    // A quoted row of many fields in a layout we do not know: parsed as a
    // list it would give one error per line.
    if (n >= 4 && r.quoted()) return Sniffed::kUnknownCsv;
    break;
  }
  return Sniffed::kList;
}

}  // namespace

void parse_feed(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report) {
  FileSummary sum;
  sum.file = std::string(name);
  uint64_t ind0 = report.indicators, skip0 = report.skipped, err0 = report.errors_total;
  size_t src0 = store.source_count();
  switch (sniff(bytes)) {
    case Sniffed::kJson:
      sum.format = "json";
      if (!parse_json_feed(name, bytes, store, report)) {
        report.error(std::string(name), 0, "not a STIX bundle, MISP event or OTX pulse export");
      } else if (store.source_count() > src0) {
        sum.format = store.source(static_cast<uint32_t>(store.source_count() - 1)).format;
      }
      break;
    case Sniffed::kFeodo:
      sum.format = "feodo";
      parse_feodo_csv(name, bytes, store, report);
      break;
    case Sniffed::kUrlhaus:
      sum.format = "urlhaus";
      parse_urlhaus_csv(name, bytes, store, report);
      break;
    case Sniffed::kMispCsv:
      sum.format = "misp_csv";
      parse_misp_csv(name, bytes, store, report);
      break;
    case Sniffed::kUnknownCsv:
      sum.format = "csv";
      report.error(std::string(name), 0,
                   "CSV in an unknown layout (expected Feodo Tracker, URLhaus or MISP CSV); nothing loaded");
      break;
    case Sniffed::kList:
      sum.format = "list";
      parse_list(name, bytes, store, report);
      break;
  }
  sum.indicators = report.indicators - ind0;
  sum.skipped = report.skipped - skip0;
  sum.errors = report.errors_total - err0;
  report.loaded.push_back(std::move(sum));
}

}  // namespace trawl::intel

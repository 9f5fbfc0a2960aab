// JSON threat-intelligence feeds (feeds.h): STIX 2.1 bundles, MISP events
// and MISP feed folders, AlienVault OTX pulse exports. Every input is hostile:
// size and nesting are capped before parsing, nlohmann::json runs with
// exceptions off, and a wrong shape is an error for that entry only.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ip_address.h"
#include "intel/feeds.h"
#include "intel/indicator_store.h"

namespace trawl::intel {
namespace {

using Json = nlohmann::json;

// A DOM of a large bundle takes several times its size in memory; beyond this
// a feed is refused rather than risking the process.
constexpr size_t kMaxJsonBytes = size_t{512} << 20;
// nlohmann's parser is iterative, but copies, dumps and (older versions')
// destruction recurse: real feeds nest less than 10 deep.
constexpr int kMaxJsonDepth = 100;
constexpr size_t kMaxPatternBytes = size_t{1} << 20;
constexpr int kMaxPatternDepth = 32;
constexpr size_t kMaxFieldChars = 512;  // names, dates, tags copied into a Source
constexpr size_t kMaxTags = 64;
constexpr size_t kMaxQuoted = 80;  // characters of hostile text echoed in a message

// Text from the input, safe to print in one message line.
std::string quote(std::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMaxQuoted; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  if (s.size() > kMaxQuoted) out += "...";
  out.push_back('\'');
  return out;
}

std::string clip(std::string_view s) { return std::string(s.substr(0, kMaxFieldChars)); }

// The string member `key` of an object, or "" (absent, or not a string).
std::string_view str_field(const Json& obj, const char* key) {
  if (!obj.is_object()) return {};
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

const Json* member(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const Json* array_member(const Json& obj, const char* key) {
  const Json* m = member(obj, key);
  return m != nullptr && m->is_array() ? m : nullptr;
}

// MISP writes booleans as true/false, 0/1 or "0"/"1" depending on version and
// export path; OTX writes is_active as 0/1.
bool is_false_flag(const Json* v) {
  if (v == nullptr) return false;
  if (v->is_boolean()) return !v->get<bool>();
  if (v->is_number_integer()) return v->get<int64_t>() == 0;
  if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    return s == "0" || s == "false" || s == "False";
  }
  return false;
}

bool is_true_flag(const Json* v) {
  if (v == nullptr) return false;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_number_integer()) return v->get<int64_t>() != 0;
  if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    return s == "1" || s == "true" || s == "True";
  }
  return false;
}

void add_tag(std::vector<std::string>& tags, std::string_view t) {
  if (t.empty() || tags.size() >= kMaxTags) return;
  std::string s = clip(t);
  if (std::find(tags.begin(), tags.end(), s) == tags.end()) tags.push_back(std::move(s));
}

// Tags from an array of strings, or (sub_key given) of objects {sub_key: "..."}.
void add_tags(std::vector<std::string>& tags, const Json* arr, const char* sub_key) {
  if (arr == nullptr || !arr->is_array()) return;
  for (const Json& t : *arr) {
    if (sub_key == nullptr) {
      if (t.is_string()) add_tag(tags, t.get_ref<const std::string&>());
    } else {
      add_tag(tags, str_field(t, sub_key));
    }
  }
}

bool nesting_ok(std::string_view s) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

// Finds where and why a document failed to parse, without exceptions: a SAX
// consumer that accepts everything and records the first error.
struct ErrorLocator {
  size_t position = 0;
  std::string message;
  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(Json::number_integer_t) { return true; }
  bool number_unsigned(Json::number_unsigned_t) { return true; }
  bool number_float(Json::number_float_t, const std::string&) { return true; }
  bool string(std::string&) { return true; }
  bool binary(Json::binary_t&) { return true; }
  bool start_object(size_t) { return true; }
  bool key(std::string&) { return true; }
  bool end_object() { return true; }
  bool start_array(size_t) { return true; }
  bool end_array() { return true; }
  bool parse_error(size_t pos, const std::string&, const nlohmann::detail::exception& ex) {
    position = pos;
    message = ex.what();
    // "[json.exception.parse_error.101] parse error at line 3, column 5: ..." -> the part after the code
    const size_t close = message.find("] ");
    if (close != std::string::npos) message.erase(0, close + 2);
    return false;
  }
};

// Parses bytes into doc; reports why not (with the line) and returns false.
bool parse_document(std::string_view file, std::string_view bytes, Json& doc, LoadReport& report) {
  if (bytes.size() > kMaxJsonBytes) {
    report.error(std::string(file), 0,
                 "JSON feed of " + std::to_string(bytes.size()) + " bytes is over the limit of " +
                     std::to_string(kMaxJsonBytes) + " bytes");
    return false;
  }
  if (!nesting_ok(bytes)) {
    report.error(std::string(file), 0, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    return false;
  }
  doc = Json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (!doc.is_discarded()) return true;
  ErrorLocator loc;
  Json::sax_parse(bytes.begin(), bytes.end(), &loc);
  const size_t end = std::min(loc.position, bytes.size());
  const uint64_t line = 1 + static_cast<uint64_t>(std::count(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(end), '\n'));
  report.error(std::string(file), line, "invalid JSON: " + (loc.message.empty() ? std::string("syntax error") : loc.message));
  doc = Json();
  return false;
}

// Source.feed is the file name only (indicator_store.h); errors keep the
// path as given.
std::string file_name(std::string_view path) {
  size_t slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// Where indicators go: the store, plus the counters and the names used in
// Sources and errors.
struct Sink {
  std::string feed;  // Source.feed
  std::string file;  // LoadError.file
  IndicatorStore& store;
  LoadReport& report;

  void error(uint64_t line, std::string message) { report.error(file, line, std::move(message)); }
};

struct Mapped {
  IndicatorType type;
  std::string value;
};

// An IP attribute may carry a prefix ("198.51.100.0/24"): a CIDR indicator.
IndicatorType ip_or_cidr(std::string_view v) {
  return v.find('/') != std::string_view::npos ? IndicatorType::kCidr : IndicatorType::kIp;
}

// Adds the mapped values under one new Source; an invalid value is an error
// naming `what` (the entry).
void add_all(Sink& sink, Source src, const std::vector<Mapped>& values, const std::string& what) {
  if (values.empty()) return;
  const uint32_t id = sink.store.add_source(std::move(src));
  for (const Mapped& m : values) {
    if (sink.store.add(m.type, m.value, id)) {
      ++sink.report.indicators;
    } else {
      sink.error(0, what + ": invalid " + std::string(type_name(m.type)) + " " + quote(m.value));
    }
  }
}

// ---------------------------------------------------------------------------
// STIX patterning (STIX 2.1 part 9): just enough of the grammar to find every
// comparison and reject malformed text.

struct Comparison {
  std::string object;  // "ipv4-addr"
  std::string path;    // "value", "hashes.SHA-256", "dst_ref.value" (quotes removed)
  std::string op;      // "=", "!=", "IN", "ISSUBSET", ... ("EXISTS" with no value)
  bool negated = false;
  std::vector<std::string> values;  // string literals only; other literals are left out
};

class PatternParser {
 public:
  explicit PatternParser(std::string_view text) : s_(text) {}

  // False with error() set when the pattern is not well formed.
  bool parse(std::vector<Comparison>& out) {
    out_ = &out;
    if (!observation_sequence(0)) return false;
    skip_space();
    if (pos_ != s_.size()) return fail("unexpected text");
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  bool fail(std::string_view what) {
    if (error_.empty()) error_ = std::string(what) + " at offset " + std::to_string(pos_);
    return false;
  }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])) != 0) ++pos_;
  }
  bool eat(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  static bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  }
  // The next word (letters, digits, '_', '-'), without consuming it.
  std::string_view peek_word() {
    skip_space();
    size_t e = pos_;
    while (e < s_.size() && word_char(s_[e])) ++e;
    return s_.substr(pos_, e - pos_);
  }
  bool eat_keyword(std::string_view kw) {
    const std::string_view w = peek_word();
    if (w.size() != kw.size()) return false;
    for (size_t i = 0; i < w.size(); ++i) {
      if (std::toupper(static_cast<unsigned char>(w[i])) != kw[i]) return false;
    }
    pos_ += w.size();
    return true;
  }
  // A '...' literal starting at pos_ (the quote); backslash escapes \' and \\.
  bool quoted(std::string& out) {
    if (pos_ >= s_.size() || s_[pos_] != '\'') return fail("expected a quoted string");
    ++pos_;
    out.clear();
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '\'') return true;
      if (c == '\\') {
        if (pos_ >= s_.size()) break;
        const char e = s_[pos_++];
        if (e != '\'' && e != '\\') return fail("bad escape in string");
        out.push_back(e);
      } else {
        out.push_back(c);
      }
    }
    return fail("unterminated string");
  }

  bool observation_sequence(int depth) {
    if (depth > kMaxPatternDepth) return fail("nested too deeply");
    do {
      if (!observation(depth)) return false;
    } while (eat_keyword("AND") || eat_keyword("OR") || eat_keyword("FOLLOWEDBY"));
    return true;
  }

  bool observation(int depth) {
    if (eat('[')) {
      if (!comparison_expression(depth + 1)) return false;
      if (!eat(']')) return fail("expected ']'");
    } else if (eat('(')) {
      if (!observation_sequence(depth + 1)) return false;
      if (!eat(')')) return fail("expected ')'");
    } else {
      return fail("expected '[' or '('");
    }
    return qualifiers();
  }

  bool qualifiers() {
    for (int n = 0; n < 8; ++n) {
      if (eat_keyword("WITHIN")) {
        if (!number() || !eat_keyword("SECONDS")) return fail("bad WITHIN qualifier");
      } else if (eat_keyword("REPEATS")) {
        if (!number() || !eat_keyword("TIMES")) return fail("bad REPEATS qualifier");
      } else if (eat_keyword("START")) {
        std::string ignored;
        if (!literal(ignored) || !eat_keyword("STOP") || !literal(ignored)) return fail("bad START/STOP qualifier");
      } else {
        return true;
      }
    }
    return true;
  }

  bool number() {
    skip_space();
    const size_t start = pos_;
    if (pos_ < s_.size() && (s_[pos_] == '-' || s_[pos_] == '+')) ++pos_;
    while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) != 0 || s_[pos_] == '.')) ++pos_;
    return pos_ > start && std::isdigit(static_cast<unsigned char>(s_[pos_ - 1])) != 0;
  }

  // One literal; out is set (and true returned with is_string) for plain strings.
  bool literal(std::string& out, bool* is_string = nullptr) {
    skip_space();
    if (is_string != nullptr) *is_string = false;
    if (pos_ >= s_.size()) return fail("expected a value");
    const char c = s_[pos_];
    if (c == '\'') {
      if (is_string != nullptr) *is_string = true;
      return quoted(out);
    }
    // t'2020-01-01T00:00:00Z', h'ff00', b'AAEC'
    if ((c == 't' || c == 'h' || c == 'b') && pos_ + 1 < s_.size() && s_[pos_ + 1] == '\'') {
      ++pos_;
      return quoted(out);
    }
    if (eat_keyword("TRUE") || eat_keyword("FALSE")) return true;
    if (number()) return true;
    return fail("expected a value");
  }

  bool comparison_expression(int depth) {
    if (depth > kMaxPatternDepth) return fail("nested too deeply");
    do {
      if (eat('(')) {
        if (!comparison_expression(depth + 1)) return false;
        if (!eat(')')) return fail("expected ')'");
      } else if (!comparison()) {
        return false;
      }
    } while (eat_keyword("AND") || eat_keyword("OR"));
    return true;
  }

  bool object_path(Comparison& c) {
    skip_space();
    const std::string_view type = peek_word();
    if (type.empty()) return fail("expected an object path");
    pos_ += type.size();
    if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':' in object path");
    ++pos_;
    c.object.reserve(type.size());
    for (char ch : type) c.object.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    bool first = true;
    while (true) {
      if (pos_ < s_.size() && s_[pos_] == '[') {  // list index: [0] or [*]
        const size_t close = s_.find(']', pos_);
        if (close == std::string_view::npos || close == pos_ + 1) return fail("bad list index in object path");
        for (size_t i = pos_ + 1; i < close; ++i) {
          if (std::isdigit(static_cast<unsigned char>(s_[i])) == 0 && !(s_[i] == '*' && close == pos_ + 2)) {
            return fail("bad list index in object path");
          }
        }
        c.path.append(s_.substr(pos_, close + 1 - pos_));
        pos_ = close + 1;
        continue;
      }
      if (!first) {
        if (pos_ >= s_.size() || s_[pos_] != '.') break;
        ++pos_;
        c.path.push_back('.');
      }
      first = false;
      if (pos_ < s_.size() && s_[pos_] == '\'') {
        std::string part;
        if (!quoted(part)) return false;
        c.path += part;
      } else {
        size_t e = pos_;
        while (e < s_.size() && word_char(s_[e])) ++e;
        if (e == pos_) return fail("expected a property name");
        c.path.append(s_.substr(pos_, e - pos_));
        pos_ = e;
      }
    }
    return true;
  }

  bool comparison() {
    Comparison c;
    if (eat_keyword("EXISTS")) {
      if (!object_path(c)) return false;
      c.op = "EXISTS";
      out_->push_back(std::move(c));
      return true;
    }
    if (!object_path(c)) return false;
    c.negated = eat_keyword("NOT");
    skip_space();
    static constexpr std::string_view kSymbolOps[] = {"!=", "<=", ">=", "=", "<", ">"};
    for (std::string_view op : kSymbolOps) {
      if (s_.substr(pos_, op.size()) == op) {
        c.op = std::string(op);
        pos_ += op.size();
        break;
      }
    }
    if (c.op.empty()) {
      static constexpr std::string_view kWordOps[] = {"IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"};
      for (std::string_view op : kWordOps) {
        if (eat_keyword(op)) {
          c.op = std::string(op);
          break;
        }
      }
    }
    if (c.op.empty()) return fail("expected a comparison operator");
    if (c.op == "IN") {
      if (!eat('(')) return fail("expected '(' after IN");
      do {
        std::string v;
        bool is_string = false;
        if (!literal(v, &is_string)) return false;
        if (is_string) c.values.push_back(std::move(v));
      } while (eat(','));
      if (!eat(')')) return fail("expected ')' after IN list");
    } else {
      std::string v;
      bool is_string = false;
      if (!literal(v, &is_string)) return false;
      if (is_string) c.values.push_back(std::move(v));
    }
    out_->push_back(std::move(c));
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::vector<Comparison>* out_ = nullptr;
  std::string error_;
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// The indicators one comparison stands for, if any. Only positive equality
// (and ISSUBSET of an address range, and IN lists) says "this value is bad";
// !=, LIKE, MATCHES, NOT and other objects map to nothing.
void map_comparison(const Comparison& c, std::vector<Mapped>& out) {
  if (c.negated || c.values.empty()) return;
  const bool eq = c.op == "=" || c.op == "IN";
  std::optional<IndicatorType> type;
  if ((c.object == "ipv4-addr" || c.object == "ipv6-addr") && c.path == "value") {
    if (c.op == "ISSUBSET") {
      type = IndicatorType::kCidr;
    } else if (eq) {
      type = IndicatorType::kIp;  // refined per value: a value may be a CIDR block
    }
  } else if (!eq) {
    return;
  } else if (c.object == "domain-name" && c.path == "value") {
    type = IndicatorType::kDomain;
  } else if (c.object == "url" && c.path == "value") {
    type = IndicatorType::kUrl;
  } else if (c.object == "file" && c.path.starts_with("hashes.")) {
    const std::string_view algo = std::string_view(c.path).substr(7);
    for (std::string_view known : {"MD5", "SHA-1", "SHA1", "SHA-256", "SHA256"}) {
      if (iequals(algo, known)) type = IndicatorType::kHash;
    }
  } else if (c.object == "network-traffic" && (c.path == "dst_ref.value" || c.path == "src_ref.value")) {
    // The referenced object is an address or (less often) a domain-name.
    for (const std::string& v : c.values) {
      if (core::IpAddress::parse(v) || core::IpNetwork::parse(v)) {
        out.push_back({ip_or_cidr(v), v});
      } else {
        out.push_back({IndicatorType::kDomain, v});
      }
    }
    return;
  }
  if (!type) return;
  for (const std::string& v : c.values) {
    out.push_back({*type == IndicatorType::kIp ? ip_or_cidr(v) : *type, v});
  }
}

void handle_stix_bundle(const Json& doc, Sink& sink) {
  const Json* objects = array_member(doc, "objects");
  if (objects == nullptr) {
    // A bundle with no objects is legal (an empty feed); anything else is not.
    if (member(doc, "objects") != nullptr) sink.error(0, "STIX bundle: \"objects\" is not a list");
    return;
  }
  size_t index = 0;
  for (const Json& obj : *objects) {
    const std::string where_index = "objects[" + std::to_string(index++) + "]";
    if (!obj.is_object()) {
      sink.error(0, where_index + " is not an object");
      continue;
    }
    if (str_field(obj, "type") != "indicator") continue;  // identities, malware, relationships: context only
    const std::string_view id = str_field(obj, "id");
    const std::string what = "indicator " + (id.empty() ? where_index : quote(id) + " (" + where_index + ")");
    if (is_true_flag(member(obj, "revoked"))) {
      ++sink.report.skipped;
      continue;
    }
    const Json* ptype = member(obj, "pattern_type");  // absent in STIX 2.0, where patterns are always STIX
    if (ptype != nullptr && !(ptype->is_string() && ptype->get_ref<const std::string&>() == "stix")) {
      ++sink.report.skipped;  // snort, yara, sigma, suricata ...
      continue;
    }
    const Json* pattern = member(obj, "pattern");
    if (pattern == nullptr || !pattern->is_string()) {
      sink.error(0, what + ": no pattern");
      continue;
    }
    const std::string& text = pattern->get_ref<const std::string&>();
    if (text.size() > kMaxPatternBytes) {
      sink.error(0, what + ": pattern of " + std::to_string(text.size()) + " bytes is too long");
      continue;
    }
    std::vector<Comparison> comparisons;
    PatternParser parser(text);
    if (!parser.parse(comparisons)) {
      sink.error(0, what + ": malformed pattern (" + parser.error() + ")");
      continue;
    }
    // Approximation: every positive equality becomes an indicator of its own,
    // whether joined by OR or by AND. For AND this over-matches (one half is
    // enough), which for "is this value known bad" is the useful direction.
    std::vector<Mapped> values;
    for (const Comparison& c : comparisons) map_comparison(c, values);
    if (values.empty()) {
      ++sink.report.skipped;
      continue;
    }
    Source src;
    src.feed = sink.feed;
    src.format = "stix";
    src.name = clip(str_field(obj, "name"));
    add_tags(src.tags, member(obj, "labels"), nullptr);
    add_tags(src.tags, member(obj, "indicator_types"), nullptr);
    src.first_seen = clip(str_field(obj, "valid_from"));
    if (src.first_seen.empty()) src.first_seen = clip(str_field(obj, "created"));
    src.last_seen = clip(str_field(obj, "modified"));
    if (const Json* refs = array_member(obj, "external_references")) {
      for (const Json& r : *refs) {
        const std::string_view url = str_field(r, "url");
        if (!url.empty()) {
          src.reference = clip(url);
          break;
        }
      }
    }
    if (src.reference.empty() && !id.empty()) src.reference = "stix " + clip(id);
    add_all(sink, std::move(src), values, what);
  }
}

// ---------------------------------------------------------------------------
// MISP

// Event metadata from a feed's manifest.json, used where the event file
// leaves a field out.
struct MispMeta {
  std::string uuid;
  std::string info;
  std::string date;
  std::vector<std::string> tags;
};

MispMeta misp_meta(const Json& ev) {
  MispMeta m;
  m.uuid = clip(str_field(ev, "uuid"));
  m.info = clip(str_field(ev, "info"));
  m.date = clip(str_field(ev, "date"));
  add_tags(m.tags, member(ev, "Tag"), "name");
  return m;
}

std::string_view after_last_bar(std::string_view v) {
  const size_t bar = v.rfind('|');
  return bar == std::string_view::npos ? v : v.substr(bar + 1);
}
std::string_view before_bar(std::string_view v) { return v.substr(0, v.find('|')); }

// MISP attribute type -> indicators. False: a type we do not use.
bool map_misp_attribute(std::string_view type, std::string_view value, std::vector<Mapped>& out) {
  if (type == "ip-dst" || type == "ip-src") {
    out.push_back({ip_or_cidr(value), std::string(value)});
  } else if (type == "ip-dst|port" || type == "ip-src|port") {
    // "198.51.100.7|443"; the address part of an IPv6 value holds no '|'
    const size_t bar = value.rfind('|');
    const std::string_view ip = bar == std::string_view::npos ? value : value.substr(0, bar);
    out.push_back({ip_or_cidr(ip), std::string(ip)});
  } else if (type == "domain" || type == "hostname") {
    out.push_back({IndicatorType::kDomain, std::string(value)});
  } else if (type == "hostname|port") {
    out.push_back({IndicatorType::kDomain, std::string(before_bar(value))});
  } else if (type == "domain|ip") {
    out.push_back({IndicatorType::kDomain, std::string(before_bar(value))});
    const std::string_view ip = after_last_bar(value);
    out.push_back({ip_or_cidr(ip), std::string(ip)});
  } else if (type == "url") {
    out.push_back({IndicatorType::kUrl, std::string(value)});
  } else if (type == "md5" || type == "sha1" || type == "sha256") {
    out.push_back({IndicatorType::kHash, std::string(value)});
  } else if (type == "filename|md5" || type == "filename|sha1" || type == "filename|sha256") {
    out.push_back({IndicatorType::kHash, std::string(after_last_bar(value))});
  } else {
    // "uri" is a path without a host (nothing to match a URL against),
    // "link" points at a report rather than at the threat; the rest
    // (email, mutex, regkey, ...) is not seen on the wire.
    return false;
  }
  return true;
}

void handle_misp_event(const Json& ev, const MispMeta* fallback, Sink& sink, std::string_view where) {
  if (!ev.is_object()) {
    sink.error(0, std::string(where) + ": \"Event\" is not an object");
    return;
  }
  MispMeta meta = misp_meta(ev);
  if (fallback != nullptr) {
    if (meta.uuid.empty()) meta.uuid = fallback->uuid;
    if (meta.info.empty()) meta.info = fallback->info;
    if (meta.date.empty()) meta.date = fallback->date;
    if (meta.tags.empty()) meta.tags = fallback->tags;
  }
  const std::string what = "misp event " + (meta.uuid.empty() ? std::string(where) : quote(meta.uuid));
  Source base;
  base.feed = sink.feed;
  base.format = "misp";
  base.name = meta.info;
  base.tags = meta.tags;
  base.first_seen = meta.date;
  if (!meta.uuid.empty()) base.reference = "misp event " + meta.uuid;

  // Attributes sharing the event's context go under one Source; one with
  // tags of its own gets a Source with the event's tags plus its own.
  std::vector<Mapped> plain;
  auto attribute = [&](const Json& a, const std::string& at) {
    if (!a.is_object()) {
      sink.error(0, what + ": " + at + " is not an object");
      return;
    }
    const std::string_view type = str_field(a, "type");
    const std::string_view value = str_field(a, "value");
    if (type.empty() || value.empty()) {
      sink.error(0, what + ": " + at + " has no type or value");
      return;
    }
    // to_ids = false is how MISP marks context that must not raise alerts
    // (a victim's address, a legitimate service the malware also uses): such
    // attributes are skipped, as MISP's own IDS exports do. Deleted ones too.
    if (is_false_flag(member(a, "to_ids")) || is_true_flag(member(a, "deleted"))) {
      ++sink.report.skipped;
      return;
    }
    std::vector<Mapped> mapped;
    if (!map_misp_attribute(type, value, mapped)) {
      ++sink.report.skipped;
      return;
    }
    const Json* own_tags = array_member(a, "Tag");
    if (own_tags == nullptr || own_tags->empty()) {
      plain.insert(plain.end(), mapped.begin(), mapped.end());
      return;
    }
    Source src = base;
    add_tags(src.tags, own_tags, "name");
    add_all(sink, std::move(src), mapped, what + " " + at);
  };

  if (const Json* attrs = member(ev, "Attribute")) {
    if (!attrs->is_array()) {
      sink.error(0, what + ": \"Attribute\" is not a list");
    } else {
      size_t i = 0;
      for (const Json& a : *attrs) attribute(a, "Attribute[" + std::to_string(i++) + "]");
    }
  }
  if (const Json* objects = member(ev, "Object")) {
    if (!objects->is_array()) {
      sink.error(0, what + ": \"Object\" is not a list");
    } else {
      size_t oi = 0;
      for (const Json& o : *objects) {
        const std::string at = "Object[" + std::to_string(oi++) + "]";
        const Json* attrs = member(o, "Attribute");
        if (attrs == nullptr) continue;  // an object with no attributes holds nothing to match
        if (!attrs->is_array()) {
          sink.error(0, what + ": " + at + ".Attribute is not a list");
          continue;
        }
        size_t i = 0;
        for (const Json& a : *attrs) attribute(a, at + ".Attribute[" + std::to_string(i++) + "]");
      }
    }
  }
  add_all(sink, std::move(base), plain, what);
}

// {"Event": {...}}, {"response": [{"Event": ...}, ...]} (the REST API's
// search answer), or a list of {"Event": ...}. False if none of these.
bool is_misp(const Json& doc) {
  if (doc.is_object()) {
    if (doc.contains("Event")) return true;
    const Json* resp = array_member(doc, "response");
    return resp != nullptr && !resp->empty() && resp->front().is_object() && resp->front().contains("Event");
  }
  return doc.is_array() && !doc.empty() && doc.front().is_object() && doc.front().contains("Event");
}

void handle_misp_doc(const Json& doc, const MispMeta* fallback, Sink& sink) {
  if (doc.is_object() && doc.contains("Event")) {
    handle_misp_event(doc["Event"], fallback, sink, "Event");
    return;
  }
  const Json* list = doc.is_array() ? &doc : array_member(doc, "response");
  if (list == nullptr) {
    sink.error(0, "not a MISP event (no \"Event\" object)");
    return;
  }
  size_t i = 0;
  for (const Json& item : *list) {
    const std::string where = (doc.is_array() ? "[" : "response[") + std::to_string(i++) + "]";
    const Json* ev = member(item, "Event");
    if (ev == nullptr) {
      sink.error(0, where + " has no \"Event\"");
      continue;
    }
    handle_misp_event(*ev, fallback, sink, where);
  }
}

// ---------------------------------------------------------------------------
// OTX pulses

std::optional<IndicatorType> otx_type(std::string_view t, std::string_view value) {
  if (t == "IPv4" || t == "IPv6") return ip_or_cidr(value);
  if (t == "CIDR") return IndicatorType::kCidr;
  if (t == "domain" || t == "hostname") return IndicatorType::kDomain;
  if (t == "URL") return IndicatorType::kUrl;
  if (t == "FileHash-MD5" || t == "FileHash-SHA1" || t == "FileHash-SHA256") return IndicatorType::kHash;
  return std::nullopt;  // URI, email, Mutex, CVE, FilePath, YARA, FileHash-PEHASH/IMPHASH ...
}

bool is_pulse(const Json& j) { return j.is_object() && array_member(j, "indicators") != nullptr && j.contains("name"); }

bool is_otx(const Json& doc) {
  if (is_pulse(doc)) return true;
  const Json* list = doc.is_array() ? &doc : array_member(doc, "results");
  if (list == nullptr) return false;
  // {"results": []} is what /pulses/subscribed answers with nothing new; a bare [] is nothing
  if (list->empty()) return !doc.is_array();
  // One recognisable pulse is enough: the broken ones are then reported.
  return std::any_of(list->begin(), list->end(), is_pulse);
}

void handle_pulse(const Json& p, Sink& sink, const std::string& where) {
  if (!p.is_object()) {
    sink.error(0, where + " is not an object");
    return;
  }
  const std::string_view pname = str_field(p, "name");
  const std::string what = "pulse " + (pname.empty() ? where : quote(pname));
  const Json* inds = array_member(p, "indicators");
  if (inds == nullptr) {
    sink.error(0, what + ": no \"indicators\" list");
    return;
  }
  Source src;
  src.feed = sink.feed;
  src.format = "otx_pulse";
  src.name = clip(pname);
  add_tags(src.tags, member(p, "tags"), nullptr);
  src.first_seen = clip(str_field(p, "created"));
  src.last_seen = clip(str_field(p, "modified"));
  const std::string_view id = str_field(p, "id");
  // Pulse ids are 24 hex digits; anything else is not pasted into a URL.
  if (!id.empty() && id.size() <= 64 &&
      std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; })) {
    src.reference = "https://otx.alienvault.com/pulse/" + std::string(id);
  }
  std::vector<Mapped> values;
  size_t i = 0;
  for (const Json& ind : *inds) {
    const std::string at = "indicators[" + std::to_string(i++) + "]";
    const std::string_view type = str_field(ind, "type");
    const std::string_view value = str_field(ind, "indicator");
    if (type.empty() || value.empty()) {
      sink.error(0, what + ": " + at + " has no type or indicator");
      continue;
    }
    // OTX keeps expired indicators in exports with is_active 0.
    if (is_false_flag(member(ind, "is_active"))) {
      ++sink.report.skipped;
      continue;
    }
    const std::optional<IndicatorType> t = otx_type(type, value);
    if (!t) {
      ++sink.report.skipped;
      continue;
    }
    values.push_back({*t, std::string(value)});
  }
  add_all(sink, std::move(src), values, what);
}

void handle_otx_doc(const Json& doc, Sink& sink) {
  if (doc.is_object() && doc.contains("indicators")) {
    handle_pulse(doc, sink, "pulse");
    return;
  }
  const Json* list = doc.is_array() ? &doc : array_member(doc, "results");
  if (list == nullptr) {
    sink.error(0, "not an OTX pulse export (no \"indicators\" or \"results\")");
    return;
  }
  size_t i = 0;
  for (const Json& p : *list) handle_pulse(p, sink, (doc.is_array() ? "[" : "results[") + std::to_string(i++) + "]");
}

bool is_stix(const Json& doc) { return doc.is_object() && str_field(doc, "type") == "bundle"; }

bool read_file(const std::filesystem::path& path, std::string& out, std::string& why) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    why = ec.message();
    return false;
  }
  if (size > kMaxJsonBytes) {
    why = "file of " + std::to_string(size) + " bytes is over the limit of " + std::to_string(kMaxJsonBytes) + " bytes";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot open";
    return false;
  }
  out.resize(static_cast<size_t>(size));
  in.read(out.data(), static_cast<std::streamsize>(size));
  if (static_cast<uintmax_t>(in.gcount()) != size) {
    why = "read error";
    return false;
  }
  return true;
}

// MISP event ids in a manifest become file names: nothing but a UUID shape
// (hex digits and dashes) may reach the file system.
bool plausible_uuid(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == '-';
  });
}

}  // namespace

bool parse_json_feed(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report) {
  // Text that does not even start like JSON belongs to another format.
  std::string_view text = bytes;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // the parser skips a UTF-8 BOM itself
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || (text[first] != '{' && text[first] != '[')) return false;
  Json doc;
  // Text that starts like JSON but does not parse is reported here, with
  // the position, rather than as "unknown format" by the caller.
  if (!parse_document(name, bytes, doc, report)) return true;
  Sink sink{file_name(name), std::string(name), store, report};
  if (is_stix(doc)) {
    handle_stix_bundle(doc, sink);
  } else if (is_misp(doc)) {
    handle_misp_doc(doc, nullptr, sink);
  } else if (is_otx(doc)) {
    handle_otx_doc(doc, sink);
  } else {
    return false;
  }
  return true;
}

void parse_stix(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report) {
  Json doc;
  if (!parse_document(name, bytes, doc, report)) return;
  Sink sink{file_name(name), std::string(name), store, report};
  if (!is_stix(doc)) {
    sink.error(0, "not a STIX bundle (no \"type\": \"bundle\")");
    return;
  }
  handle_stix_bundle(doc, sink);
}

void parse_misp_event(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report) {
  Json doc;
  if (!parse_document(name, bytes, doc, report)) return;
  Sink sink{file_name(name), std::string(name), store, report};
  handle_misp_doc(doc, nullptr, sink);
}

void parse_otx_pulses(std::string_view name, std::string_view bytes, IndicatorStore& store, LoadReport& report) {
  Json doc;
  if (!parse_document(name, bytes, doc, report)) return;
  Sink sink{file_name(name), std::string(name), store, report};
  handle_otx_doc(doc, sink);
}

void load_misp_feed_dir(const std::string& dir, IndicatorStore& store, LoadReport& report) {
  const std::filesystem::path root(dir);
  const std::filesystem::path manifest_path = root / "manifest.json";
  std::string bytes;
  std::string why;
  if (!read_file(manifest_path, bytes, why)) {
    report.error(manifest_path.string(), 0, "cannot read MISP feed manifest: " + why);
    return;
  }
  ++report.files;
  Json manifest;
  if (!parse_document(manifest_path.string(), bytes, manifest, report)) return;
  if (!manifest.is_object()) {
    report.error(manifest_path.string(), 0, "MISP feed manifest is not an object of event uuid -> event");
    return;
  }
  // Sources name the feed (the folder), not the event file: its name is just a uuid.
  std::string feed = (root.has_filename() ? root : root.parent_path()).filename().string();
  if (feed.empty()) feed = "manifest.json";
  // nlohmann's object is ordered by key: events load in uuid order.
  for (const auto& [uuid, entry] : manifest.items()) {
    if (!plausible_uuid(uuid)) {
      report.error(manifest_path.string(), 0, "event id " + quote(uuid) + " is not a uuid");
      continue;
    }
    MispMeta meta = misp_meta(entry);
    meta.uuid = uuid;
    const std::filesystem::path event_path = root / (uuid + ".json");
    std::string event_bytes;
    if (!read_file(event_path, event_bytes, why)) {
      report.error(event_path.string(), 0, "event listed in manifest.json cannot be read: " + why);
      continue;
    }
    ++report.files;
    Json doc;
    if (!parse_document(event_path.string(), event_bytes, doc, report)) continue;
    Sink sink{feed, event_path.string(), store, report};
    handle_misp_doc(doc, &meta, sink);
  }
}

}  // namespace trawl::intel

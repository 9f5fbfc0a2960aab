// ReportBuilder: per-record work is the fields of a typed record, or one pass
// over a flat JSON line (no allocation for fields it does not keep), and a few
// hash probes; the JSON document is built only once, at the end.
#include "report/report_data.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/hash.h"
#include "core/timestamp.h"
#include "core/utf8.h"
#include "flow/conn_record.h"
#include "output/json_line.h"

namespace trawl::report {
namespace {

using Json = nlohmann::json;

// ---- A scanner for the flat JSON objects trawl writes -------------------

enum class Kind { kString, kNumber, kOther };

struct Value {
  Kind kind = Kind::kOther;
  std::string_view raw;  // string: between the quotes, still escaped
};

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return i;
}

// Index just past the closing quote of the string starting at s[i] == '"',
// or npos.
size_t end_of_string(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Index just past a nested array/object starting at s[i]; depth-bounded.
size_t end_of_nested(std::string_view s, size_t i) {
  int depth = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      i = end_of_string(s, i);
      if (i == std::string_view::npos) return i;
      continue;
    }
    if (c == '[' || c == '{') {
      if (++depth > 64) return std::string_view::npos;
    } else if (c == ']' || c == '}') {
      if (--depth == 0) return i + 1;
    }
    ++i;
  }
  return std::string_view::npos;
}

// Calls fn(key, value) for each member of a top-level object; false when the
// line is not a well-formed object (members before the fault were delivered).
template <typename Fn>
bool scan_object(std::string_view s, Fn&& fn) {
  size_t i = skip_ws(s, 0);
  if (i >= s.size() || s[i] != '{') return false;
  i = skip_ws(s, i + 1);
  if (i < s.size() && s[i] == '}') return true;
  while (i < s.size()) {
    if (s[i] != '"') return false;
    size_t k_end = end_of_string(s, i);
    if (k_end == std::string_view::npos) return false;
    std::string_view key = s.substr(i + 1, k_end - i - 2);  // keys are plain literals
    i = skip_ws(s, k_end);
    if (i >= s.size() || s[i] != ':') return false;
    i = skip_ws(s, i + 1);
    if (i >= s.size()) return false;
    Value v;
    size_t v_end;
    if (s[i] == '"') {
      v_end = end_of_string(s, i);
      if (v_end == std::string_view::npos) return false;
      v.kind = Kind::kString;
      v.raw = s.substr(i + 1, v_end - i - 2);
    } else if (s[i] == '[' || s[i] == '{') {
      v_end = end_of_nested(s, i);
      if (v_end == std::string_view::npos) return false;
      v.raw = s.substr(i, v_end - i);
    } else {
      v_end = i;
      while (v_end < s.size() && s[v_end] != ',' && s[v_end] != '}' && s[v_end] != ' ') ++v_end;
      v.kind = (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) ? Kind::kNumber : Kind::kOther;
      v.raw = s.substr(i, v_end - i);
    }
    fn(key, v);
    i = skip_ws(s, v_end);
    if (i >= s.size()) return false;
    if (s[i] == '}') return true;
    if (s[i] != ',') return false;
    i = skip_ws(s, i + 1);
  }
  return false;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Bytes written as they are inside a JSON string by every writer (printable
// ASCII but '"' and '\\'): runs of them are copied in one append.
bool plain_byte(char ch) {
  auto c = static_cast<unsigned char>(ch);
  return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

// How many of the n bytes at p are plain, from the first: 16 a step with
// SSE2 (the typed records' strings and the lines' are mostly plain text; a
// byte at a time was most of what showing a typed string cost).
size_t plain_run(const char* p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    // Signed: bytes of 0x80 and up are below 0x20 too.
    __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)),
                               _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    if (auto mask = static_cast<unsigned>(_mm_movemask_epi8(bad))) return i + static_cast<size_t>(__builtin_ctz(mask));
  }
#endif
  while (i < n && plain_byte(p[i])) ++i;
  return i;
}

// Four hex digits at s[i]: the code unit, or -1.
int32_t hex4(std::string_view s, size_t i) {
  if (i + 4 > s.size()) return -1;
  int32_t v = 0;
  for (size_t k = 0; k < 4; ++k) {
    int d = hex_digit(s[i + k]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// The one JSON string decoder: the text between a string's quotes, escapes
// still in it, appended to `out` decoded, until `out` holds at least `cap`
// bytes (the caller cuts it). Two readings:
// - strict: as nlohmann's lexer reads it (findings re-written as nlohmann
//   would): raw control bytes, malformed UTF-8, unknown escapes, bad \u and
//   lone surrogates make it fail (false).
// - lenient (record lines, which trawl wrote, or anything): bytes are kept
//   as they are, a bad \u or lone surrogate is U+FFFD, an unknown escape is
//   its character, a trailing backslash itself. Never fails.
bool unescape(std::string_view raw, bool strict, size_t cap, std::string& out) {
  size_t i = 0;
  while (i < raw.size() && out.size() < cap) {
    size_t run = i, stop = i + std::min(raw.size() - i, cap - out.size());
    run += plain_run(raw.data() + run, stop - run);
    out.append(raw.data() + i, run - i);
    i = run;
    if (i >= raw.size() || out.size() >= cap) break;
    auto c = static_cast<unsigned char>(raw[i]);
    if (c != '\\') {
      if (!strict || c == 0x7f) {
        out.push_back(static_cast<char>(c));
        ++i;
        continue;
      }
      if (c < 0x80) return false;  // a raw control byte (or a quote: not inside a string's text)
      size_t n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
      if (n == 0 || i + n > raw.size()) return false;
      uint32_t cp = c & (0xffu >> (n + 1));
      for (size_t k = 1; k < n; ++k) {
        auto b = static_cast<unsigned char>(raw[i + k]);
        if ((b & 0xc0) != 0x80) return false;
        cp = (cp << 6) | (b & 0x3fu);
      }
      static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
      if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
      out.append(raw.data() + i, n);
      i += n;
      continue;
    }
    if (i + 1 >= raw.size()) {
      if (strict) return false;
      out.push_back('\\');
      break;
    }
    char e = raw[i + 1];
    i += 2;
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case '"':
      case '\\':
      case '/': out.push_back(e); break;
      case 'u': {
        int32_t hi = hex4(raw, i);
        if (hi < 0) {
          if (strict) return false;
          out += "\xEF\xBF\xBD";  // the digits that follow are shown as text
          break;
        }
        i += 4;
        auto cp = static_cast<uint32_t>(hi);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          int32_t lo = i + 1 < raw.size() && raw[i] == '\\' && raw[i + 1] == 'u' ? hex4(raw, i + 2) : -1;
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(lo) - 0xDC00);
            i += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) {
          if (strict) return false;
          cp = 0xFFFD;
        }
        core::append_utf8(out, cp);
        break;
      }
      default:
        if (strict) return false;
        out.push_back(e);
        break;
    }
  }
  return true;
}

// The text of an escaped JSON string, at most `cap` bytes (cut on a UTF-8
// boundary). "\u00XX" with XX >= 0x80 is shown as U+00XX: trawl writes a
// byte that is not UTF-8 that way, and the page must stay valid UTF-8.
std::string decode(std::string_view raw, size_t cap) {
  std::string out;
  out.reserve(std::min(raw.size(), cap));
  unescape(raw, false, cap, out);
  if (out.size() > cap) out.resize(cap);
  // Cut inside a multi-byte character: drop its lead and continuation bytes.
  size_t n = out.size();
  size_t k = n;
  while (k > 0 && (static_cast<unsigned char>(out[k - 1]) & 0xC0) == 0x80 && n - k < 3) --k;
  if (k > 0) {
    auto lead = static_cast<unsigned char>(out[k - 1]);
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (want > 1 && n - (k - 1) < want) out.resize(k - 1);
  }
  return out;
}

// The string elements of a JSON array's text (others are skipped), decoded.
// For text nlohmann wrote (the shown findings): no whitespace, valid UTF-8.
void strings_of(std::string_view arr, std::vector<std::string>& out) {
  size_t i = 1;  // past '['
  while (i < arr.size()) {
    char c = arr[i];
    size_t end;
    if (c == '"') {
      end = end_of_string(arr, i);
      if (end == std::string_view::npos) return;
      out.push_back(decode(arr.substr(i + 1, end - i - 2), std::string::npos));
    } else if (c == '[' || c == '{') {
      end = end_of_nested(arr, i);
      if (end == std::string_view::npos) return;
    } else {
      end = i;
      while (end < arr.size() && arr[end] != ',' && arr[end] != ']') ++end;
    }
    i = end;
    if (i >= arr.size() || arr[i] != ',') return;
    ++i;
  }
}

double to_double(std::string_view raw) {
  double v = 0;
  auto r = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  if (r.ec != std::errc() || !std::isfinite(v)) return 0;
  return v;
}

uint64_t to_u64(std::string_view raw) {
  uint64_t v = 0;
  auto r = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  return r.ec == std::errc() ? v : 0;
}

// Bytes output::append_json_string writes as they are (printable ASCII but
// '"' and '\\'): a string of only these is its own JSON text.
bool all_plain(std::string_view s) { return plain_run(s.data(), s.size()) == s.size(); }

// Two mixes (an IPv4 address lives in the low word) instead of hash_bytes'
// three: hosts are looked up once or twice per record.
struct IpHash {
  size_t operator()(const core::IpAddress& a) const {
    uint64_t w[2];
    std::memcpy(w, a.bytes().data(), 16);
    return static_cast<size_t>(core::mix64(w[0] ^ core::mix64(w[1] ^ (a.is_v4() ? 0x9e3779b97f4a7c15ull : 0))));
  }
};
// Two mixes per pair (an IPv4 address lives in its low word; the high words
// are folded into the second mix) instead of one hash_bytes per address.
struct IpPairHash {
  size_t operator()(const std::pair<core::IpAddress, core::IpAddress>& p) const {
    uint64_t a[2], b[2];
    std::memcpy(a, p.first.bytes().data(), 16);
    std::memcpy(b, p.second.bytes().data(), 16);
    uint64_t lo = core::mix64(a[1] ^ (b[1] * 0x9e3779b97f4a7c15ull));
    uint64_t hi = a[0] ^ (b[0] * 0xff51afd7ed558ccdull) ^ (p.first.is_v4() ? 1u : 0u) ^ (p.second.is_v4() ? 2u : 0u);
    return static_cast<size_t>(core::mix64(lo ^ hi));
  }
};

// Writes JSON text exactly as Json::dump(-1, ' ', false, replace) writes the
// same values, for the page's largest parts (hosts, connections): written
// straight from the state, they skip a document of maps (an allocation per
// member) and its serialisation, most of the page's cost.
class JsonOut {
 public:
  explicit JsonOut(std::string& out) : o_(out) {}
  void raw(char c) { o_.push_back(c); }
  void raw(std::string_view s) { o_ += s; }
  void key(std::string_view k) {  // `"k":` after a comma when not first
    if (!first_) o_.push_back(',');
    first_ = false;
    str(k);
    o_.push_back(':');
  }
  // A key that is a plain literal (no escaping): one append.
  void key_literal(std::string_view k) {
    char buf[40];
    size_t n = 0;
    if (k.size() + 4 > sizeof buf) {
      key(k);
      return;
    }
    if (!first_) buf[n++] = ',';
    first_ = false;
    buf[n++] = '"';
    std::memcpy(buf + n, k.data(), k.size());
    n += k.size();
    buf[n++] = '"';
    buf[n++] = ':';
    o_.append(buf, n);
  }
  void begin(char c) {
    o_.push_back(c);
    first_ = true;
  }
  void end(char c) {
    o_.push_back(c);
    first_ = false;
  }
  void item() {  // before an array element
    if (!first_) o_.push_back(',');
    first_ = false;
  }
  void u64(uint64_t v) {
    char buf[24];
    o_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  }
  // nlohmann's own float formatting (Grisu2, "%g"-like, ".0" on integers).
  void dbl(double v) {
    if (!std::isfinite(v)) {
      o_ += "null";
      return;
    }
    char buf[64];
    o_.append(buf, nlohmann::detail::to_chars(buf, buf + sizeof buf, v));
  }
  // As nlohmann escapes (ensure_ascii off): '"', '\\', \b \f \n \r \t, other
  // controls as \u00xx, the rest as it is. Text that is not valid UTF-8 is
  // left to nlohmann itself (its replacement rules).
  void str(std::string_view s) {
    size_t start = o_.size();
    o_.push_back('"');
    size_t i = 0;
    bool checked = false;  // the rest of the text from the first non-ASCII byte is valid UTF-8
    while (i < s.size()) {
      size_t run = i;
      while (run < s.size() && kClass[static_cast<unsigned char>(s[run])] == 0) ++run;
      o_.append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) break;
      auto c = static_cast<unsigned char>(s[i++]);
      if (c >= 0x80) {
        if (!checked && !valid_utf8(s.substr(i - 1))) {
          o_.resize(start);
          o_ += Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
          return;
        }
        checked = true;
        o_.push_back(static_cast<char>(c));
        continue;
      }
      switch (c) {
        case '"': o_ += "\\\""; break;
        case '\\': o_ += "\\\\"; break;
        case '\b': o_ += "\\b"; break;
        case '\f': o_ += "\\f"; break;
        case '\n': o_ += "\\n"; break;
        case '\r': o_ += "\\r"; break;
        case '\t': o_ += "\\t"; break;
        default: {
          static const char kHex[] = "0123456789abcdef";
          o_ += "\\u00";
          o_.push_back(kHex[c >> 4]);
          o_.push_back(kHex[c & 15]);
        }
      }
    }
    o_.push_back('"');
  }

 private:
  // 0: written as it is; 1: escaped; 2: part of a multi-byte character.
  static constexpr auto kClass = [] {
    std::array<uint8_t, 256> t{};
    for (int c = 0; c < 256; ++c)
      t[static_cast<size_t>(c)] = static_cast<uint8_t>(c < 0x20 || c == '"' || c == '\\' ? 1 : c >= 0x80 ? 2 : 0);
    return t;
  }();
  // Well-formed UTF-8 (no overlong forms, surrogates or code points past
  // U+10FFFF): what nlohmann's decoder accepts.
  static bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c < 0x80) {
        ++i;
        continue;
      }
      size_t n;
      uint32_t cp, min;
      if ((c & 0xe0) == 0xc0) {
        n = 2, cp = c & 0x1fu, min = 0x80;
      } else if ((c & 0xf0) == 0xe0) {
        n = 3, cp = c & 0x0fu, min = 0x800;
      } else if ((c & 0xf8) == 0xf0) {
        n = 4, cp = c & 0x07u, min = 0x10000;
      } else {
        return false;
      }
      if (i + n > s.size()) return false;
      for (size_t k = 1; k < n; ++k) {
        auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xc0) != 0x80) return false;
        cp = (cp << 6) | (b & 0x3fu);
      }
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
      i += n;
    }
    return true;
  }

  std::string& o_;
  bool first_ = true;
};

// The text Json::parse(line) then dump(-1, ' ', false, replace) gives for one
// finding, made in one pass without the document (parsing and re-writing the
// findings was most of what is left of the page's cost): members sorted by
// key, strings decoded and escaped again, numbers re-written as nlohmann
// writes them. Follows nlohmann's grammar strictly and gives up (false) on
// anything it does not reproduce exactly: malformed text, duplicate keys,
// numbers out of range, deep nesting. The caller then asks nlohmann.
class Canon {
 public:
  // The finding's members the page reads (decoded; set when of the type read).
  struct Top {
    std::string id, severity, src;
    bool has_src = false;
    std::vector<std::string> dst;
  };

  static bool finding(std::string_view in, std::string& out, Top& top) {
    Canon c(in);
    c.ws();
    if (c.i_ >= in.size() || in[c.i_] != '{') return false;
    if (!c.object(out, 0, &top)) return false;
    c.ws();
    return c.i_ == in.size();
  }

 private:
  explicit Canon(std::string_view in) : in_(in) {}

  static constexpr int kMaxDepth = 32;

  void ws() {
    while (i_ < in_.size() && (in_[i_] == ' ' || in_[i_] == '\t' || in_[i_] == '\n' || in_[i_] == '\r')) ++i_;
  }

  bool value(std::string& out, int depth, std::vector<std::string>* strings) {
    if (i_ >= in_.size() || depth > kMaxDepth) return false;
    char c = in_[i_];
    if (c == '{') return object(out, depth, nullptr);
    if (c == '[') return array(out, depth, strings);
    if (c == '"') return string_out(out);
    if (c == '-' || (c >= '0' && c <= '9')) return number(out);
    for (std::string_view lit : {"true", "false", "null"}) {
      if (in_.substr(i_, lit.size()) == lit) {
        i_ += lit.size();
        out += lit;
        return true;
      }
    }
    return false;
  }

  // `top`: the finding itself (depth 0), whose members the page reads.
  bool object(std::string& out, int depth, Top* top) {
    ++i_;  // '{'
    std::vector<std::pair<std::string, std::string>> members;
    ws();
    if (i_ < in_.size() && in_[i_] == '}') {
      ++i_;
      out += "{}";
      return true;
    }
    while (true) {
      ws();
      if (i_ >= in_.size() || in_[i_] != '"') return false;
      std::pair<std::string, std::string> m;
      if (!string(m.first)) return false;
      ws();
      if (i_ >= in_.size() || in_[i_] != ':') return false;
      ++i_;
      ws();
      bool is_string = i_ < in_.size() && in_[i_] == '"';
      bool is_array = i_ < in_.size() && in_[i_] == '[';
      std::vector<std::string> dst;
      bool want_dst = top && is_array && m.first == "dst";
      if (top && is_string && (m.first == "id" || m.first == "severity" || m.first == "src")) {
        std::string s;
        if (!string(s)) return false;
        JsonOut(m.second).str(s);
        (m.first == "id" ? top->id : m.first == "severity" ? top->severity : top->src) = s;
        if (m.first == "src") top->has_src = true;
      } else if (!value(m.second, depth + 1, want_dst ? &dst : nullptr)) {
        return false;
      }
      if (want_dst) top->dst = std::move(dst);
      members.push_back(std::move(m));
      ws();
      if (i_ >= in_.size()) return false;
      if (in_[i_] == '}') break;
      if (in_[i_] != ',') return false;
      ++i_;
    }
    ++i_;
    // Sorted by key through pointers: the members' strings are not moved.
    std::vector<const std::pair<std::string, std::string>*> order(members.size());
    for (size_t k = 0; k < members.size(); ++k) order[k] = &members[k];
    std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    for (size_t k = 1; k < order.size(); ++k)
      if (order[k]->first == order[k - 1]->first) return false;  // nlohmann keeps the last: not reproduced
    JsonOut w(out);
    w.begin('{');
    for (const auto* m : order) {
      w.key(m->first);
      w.raw(m->second);
    }
    w.end('}');
    return true;
  }

  // `strings`: collects the array's string elements (a finding's "dst").
  bool array(std::string& out, int depth, std::vector<std::string>* strings) {
    ++i_;  // '['
    ws();
    out.push_back('[');
    if (i_ < in_.size() && in_[i_] == ']') {
      ++i_;
      out.push_back(']');
      return true;
    }
    bool first = true;
    while (true) {
      ws();
      if (!first) out.push_back(',');
      first = false;
      if (strings && i_ < in_.size() && in_[i_] == '"') {
        std::string s;
        if (!string(s)) return false;
        JsonOut(out).str(s);
        strings->push_back(std::move(s));
      } else if (!value(out, depth + 1, nullptr)) {
        return false;
      }
      ws();
      if (i_ >= in_.size()) return false;
      if (in_[i_] == ']') break;
      if (in_[i_] != ',') return false;
      ++i_;
    }
    ++i_;
    out.push_back(']');
    return true;
  }

  // A string value written to `out`: plain bytes only (the common case) are
  // their own canonical text; anything else is decoded and written again.
  bool string_out(std::string& out) {
    size_t j = i_ + 1;
    j += plain_run(in_.data() + j, in_.size() - j);
    if (j < in_.size() && in_[j] == '"') {
      out.append(in_.data() + i_, j + 1 - i_);
      i_ = j + 1;
      return true;
    }
    std::string s;
    if (!string(s)) return false;
    JsonOut(out).str(s);
    return true;
  }

  // The decoded bytes of the string at in_[i_] == '"', as nlohmann's lexer
  // reads them (unescape, strict).
  bool string(std::string& s) {
    size_t end = end_of_string(in_, i_);
    if (end == std::string_view::npos || !unescape(in_.substr(i_ + 1, end - i_ - 2), true, std::string::npos, s))
      return false;
    i_ = end;
    return true;
  }

  // JSON's number grammar; integers as nlohmann keeps them (uint64, int64),
  // anything with a fraction or exponent as a double.
  bool number(std::string& out) {
    size_t start = i_;
    auto digit = [&](size_t k) { return k < in_.size() && in_[k] >= '0' && in_[k] <= '9'; };
    bool neg = in_[i_] == '-';
    if (neg) ++i_;
    if (!digit(i_)) return false;
    if (in_[i_] == '0') {
      ++i_;
    } else {
      while (digit(i_)) ++i_;
    }
    bool is_float = false;
    if (i_ < in_.size() && in_[i_] == '.') {
      is_float = true;
      ++i_;
      if (!digit(i_)) return false;
      while (digit(i_)) ++i_;
    }
    if (i_ < in_.size() && (in_[i_] == 'e' || in_[i_] == 'E')) {
      is_float = true;
      ++i_;
      if (i_ < in_.size() && (in_[i_] == '+' || in_[i_] == '-')) ++i_;
      if (!digit(i_)) return false;
      while (digit(i_)) ++i_;
    }
    const char* b = in_.data() + start;
    const char* e = in_.data() + i_;
    JsonOut w(out);
    if (is_float) {
      double v = 0;
      auto r = std::from_chars(b, e, v);
      if (r.ec != std::errc() || r.ptr != e || !std::isfinite(v)) return false;
      w.dbl(v);
    } else if (neg) {
      int64_t v = 0;
      auto r = std::from_chars(b, e, v);
      if (r.ec != std::errc() || r.ptr != e) return false;
      char buf[24];
      out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
    } else {
      uint64_t v = 0;
      auto r = std::from_chars(b, e, v);
      if (r.ec != std::errc() || r.ptr != e) return false;
      w.u64(v);
    }
    return true;
  }

  std::string_view in_;
  size_t i_ = 0;
};

// ---- Bounded counters -----------------------------------------------------

// Lookups by string_view: the hot path finds keys without building strings.
struct SvHash {
  using is_transparent = void;
  size_t operator()(std::string_view v) const { return std::hash<std::string_view>()(v); }
};
template <typename V>
using SvMap = std::unordered_map<std::string, V, SvHash, std::equal_to<>>;

// Counts per value; values past the cap go to `other`.
struct CappedCounter {
  SvMap<uint64_t> counts;
  uint64_t other = 0;
  // The last key counted and its count (map nodes never move): most keys
  // repeat the one before (conn states, DNS codes and types), which then
  // costs a compare instead of a hash and a probe.
  std::string last_key;
  uint64_t* last_count = nullptr;

  CappedCounter() = default;
  CappedCounter(const CappedCounter&) = delete;  // last_count points into counts
  CappedCounter& operator=(const CappedCounter&) = delete;

  // True when the key was new and kept.
  bool add(std::string_view key, size_t cap, uint64_t n = 1) {
    if (last_count && key == last_key) {
      *last_count += n;
      return false;
    }
    auto it = counts.find(key);
    bool kept = false;
    if (it != counts.end()) {
      it->second += n;
    } else if (counts.size() < cap) {
      it = counts.emplace(std::string(key), n).first;
      kept = true;
    } else {
      other += n;
      return false;
    }
    last_key.assign(key);
    last_count = &it->second;
    return kept;
  }

  // Top `n` as [[value, count], ...], count descending then value.
  Json top(size_t n) const {
    std::vector<const std::pair<const std::string, uint64_t>*> v;
    v.reserve(counts.size());
    for (const auto& kv : counts) v.push_back(&kv);
    size_t k = std::min(n, v.size());
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end(), [](auto* a, auto* b) {
      return a->second != b->second ? a->second > b->second : a->first < b->first;
    });
    Json out = Json::array();
    for (size_t i = 0; i < k; ++i) out.push_back(Json::array({v[i]->first, v[i]->second}));
    return out;
  }
};

// A handful of named counts per host (services used, ports served, peers):
// the first `kSmall` distinct names keep exact counts, the rest are summed.
constexpr size_t kSmall = 10;
struct SmallCounter {
  std::vector<std::pair<std::string, uint64_t>> items;
  uint64_t other = 0;

  void add(std::string_view key, uint64_t n) {
    for (auto& [k, c] : items) {
      // Size and last byte first: the names here (addresses, "tcp/443 ssl")
      // mostly differ there, so most items cost no memcmp call.
      if (k.size() == key.size() && (key.empty() || k.back() == key.back()) && k == key) {
        c += n;
        return;
      }
    }
    if (items.size() < kSmall) {
      items.emplace_back(std::string(key), n);
    } else {
      other += n;
    }
  }

  // At most kSmall names: they are sorted on the stack.
  using Count = std::pair<std::string_view, uint64_t>;
  using Counts = std::array<Count, kSmall>;

  void write(JsonOut& w) const {
    Counts v;
    size_t n = 0;
    for (const auto& [k, c] : items) {
      if (n == v.size()) break;  // add() keeps kSmall
      v[n++] = {k, c};
    }
    write_counts(w, v, n, other);
  }

  // [[name, count], ...] by count (descending) then name, then ["(others)", n].
  static void write_counts(JsonOut& w, Counts& v, size_t n, uint64_t other) {
    std::sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), [](const Count& a, const Count& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    w.begin('[');
    for (size_t k = 0; k < n; ++k) {
      w.item();
      w.begin('[');
      w.item();
      w.str(v[k].first);
      w.item();
      w.u64(v[k].second);
      w.end(']');
    }
    if (other) {
      w.item();
      w.raw("[\"(others)\",");
      w.u64(other);
      w.raw(']');
    }
    w.end(']');
  }
};

// A host or peer as a record names it: an address, or (a line's text that is
// no address's own text, see address_named) that text. Views, valid for the call.
struct PeerRef {
  const core::IpAddress* ip = nullptr;  // null: `text`
  std::string_view text;
};

// The address whose own text (to_string) `text` is, if any: the text a line
// has for an address then names the host the typed record's address names.
std::optional<core::IpAddress> address_named(std::string_view text) {
  if (text.empty() || text.size() >= core::IpAddress::kTextMax) return std::nullopt;
  auto ip = core::IpAddress::parse(text);
  if (!ip) return std::nullopt;
  char buf[core::IpAddress::kTextMax];
  if (std::string_view(buf, static_cast<size_t>(ip->write_text(buf) - buf)) != text) return std::nullopt;
  return ip;
}

// A name kept for the page: an address (its text made when written) or a text.
struct Name {
  core::IpAddress ip;
  bool is_ip = false;
  std::string text;

  void set(const PeerRef& p) {
    is_ip = p.ip != nullptr;
    if (is_ip) {
      ip = *p.ip;
    } else {
      text.assign(p.text);
    }
  }
  // `buf` holds IpAddress::kTextMax bytes.
  std::string_view view(char* buf) const {
    return is_ip ? std::string_view(buf, static_cast<size_t>(ip.write_text(buf) - buf)) : std::string_view(text);
  }
};

// A host's peers as SmallCounter counts names, but keyed by address: adding
// one makes no text (the texts are made for the hosts shown, at the end).
struct PeerCounter {
  struct Item {
    uint64_t n = 0;
    core::IpAddress ip;
    std::unique_ptr<std::string> text;  // a peer named by text (rare): else `ip`
  };
  std::vector<Item> items;
  uint64_t other = 0;

  void add(const PeerRef& p, uint64_t n) {
    for (auto& it : items) {
      if (p.ip ? !it.text && it.ip == *p.ip : it.text && *it.text == p.text) {
        it.n += n;
        return;
      }
    }
    if (items.size() < kSmall) {
      Item& it = items.emplace_back();
      it.n = n;
      if (p.ip) {
        it.ip = *p.ip;
      } else {
        it.text = std::make_unique<std::string>(p.text);
      }
    } else {
      other += n;
    }
  }

  // The names made here, on the stack: only the hosts shown are written.
  void write(JsonOut& w) const {
    SmallCounter::Counts v;
    char text[kSmall][core::IpAddress::kTextMax];
    size_t n = 0;
    for (const auto& it : items) {
      if (n == v.size()) break;  // add() keeps kSmall
      std::string_view name =
          it.text ? std::string_view(*it.text)
                  : std::string_view(text[n], static_cast<size_t>(it.ip.write_text(text[n]) - text[n]));
      v[n++] = {name, it.n};
    }
    SmallCounter::write_counts(w, v, n, other);
  }
};

struct Host {
  uint64_t conns_out = 0, conns_in = 0;
  uint64_t bytes_out = 0, bytes_in = 0;  // payload bytes sent / received
  uint64_t failed_out = 0;               // S0, REJ, RSTR...: attempts that got nowhere
  double first = 0, last = 0;
  SmallCounter services_out;             // "tcp/443 ssl" it used
  SmallCounter services_in;              // "tcp/22 ssh" it served
  PeerCounter peers_out;                 // servers it talked to (bytes)
  PeerCounter peers_in;                  // clients that talked to it (bytes)
  uint64_t dns_queries = 0, dns_nx = 0;
  uint64_t http_requests = 0;
  uint64_t logins_out = 0, logins_out_failed = 0, logins_in = 0, logins_in_failed = 0;
  uint64_t arp = 0;
};

struct Pair {
  uint64_t conns = 0;
  uint64_t bytes = 0;
  std::vector<double> times;  // first connection start times
};

struct ConnRow {
  double ts = 0, duration = 0;
  uint64_t bytes = 0, orig_bytes = 0, resp_bytes = 0;
  std::string uid, proto, service, state;
  Name orig_h, resp_h;
  uint64_t orig_p = 0, resp_p = 0;
};
struct ConnRowLess {  // the heap keeps the smallest on top
  bool operator()(const ConnRow& a, const ConnRow& b) const {
    return a.bytes != b.bytes ? a.bytes > b.bytes : a.uid > b.uid;
  }
};

struct Bucket {
  uint64_t conns = 0, bytes = 0, records = 0;
};

// A tracked host: by address (typed records; a line's text that is the
// address's own), or by a line's other text.
struct HostEntry {
  Host h;
  core::IpAddress ip;
  bool is_ip = false;
  mutable std::string text;  // an address's: made when first needed (the hosts shown, sort ties)

  const std::string& name() const {
    if (text.empty()) text = ip.to_string();  // an address's text is never empty
    return text;
  }
  PeerRef ref() const { return is_ip ? PeerRef{&ip, {}} : PeerRef{nullptr, text}; }
};

struct AuthGroup {
  uint64_t count = 0, failures = 0, successes = 0;
  double first = 0, last = 0;
  std::vector<std::string> users;  // first few distinct
};

// S0, REJ, RSTOS0, RSTR, SH, SHR, OTH: by length first, one compare each.
bool conn_failed(std::string_view state) {
  switch (state.size()) {
    case 2: return state == "S0" || state == "SH";
    case 3: return state == "REJ" || state == "SHR" || state == "OTH";
    case 4: return state == "RSTR";
    case 6: return state == "RSTOS0";
    default: return false;
  }
}

// Why a DNS name looks odd, or empty: long names and labels, characters a
// host name does not have, many digits. Cheap heuristics to point the eye;
// the detectors (dga, dns_tunnel) do the real judging.
std::string dns_oddity(std::string_view name) {
  if (name.size() > 60) return "long name";
  size_t label = 0, digits = 0, max_label = 0;
  bool odd_char = false;
  for (char c : name) {
    if (c == '.') {
      label = 0;
      continue;
    }
    max_label = std::max(max_label, ++label);
    if (c >= '0' && c <= '9') ++digits;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    odd_char = odd_char || !ok;
  }
  if (odd_char) return "unusual characters";
  if (max_label > 30) return "long label";
  if (name.size() >= 12 && digits * 3 > name.size()) return "many digits";
  return {};
}

// A finding's string member, or "" when absent or not a string (a stored
// finding may be anything; json::value() would throw on a wrong type).
std::string text_of(const Json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string utc(double t) {
  if (t <= 0) return {};
  auto secs = static_cast<time_t>(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace

// ---- The builder ------------------------------------------------------------

struct ReportBuilder::State {
  ReportLimits lim;
  uint64_t bad = 0;
  std::map<std::string, uint64_t, std::less<>> per_log;  // records per log (few logs), but conn
  uint64_t* last_log_count = nullptr;                    // the entry of the last log seen
  std::string_view last_log;                             // its name (the map's key)
  uint64_t conn_lines = 0;

  double first = 0, last = 0;
  uint64_t conns = 0, bytes = 0, pkts = 0;
  // Hosts by address: a typed record finds its hosts with no text made or
  // hashed (the texts are made at the end, for the hosts shown), and so does
  // a line whose text is the address's own. Hosts a line names by other text
  // (not seen in practice) are text_hosts. text_index: the texts lines named
  // tracked hosts by, of both kinds (the lines' one probe per address). Map
  // nodes and deque elements never move; hosts are never erased.
  std::unordered_map<core::IpAddress, HostEntry, IpHash> ip_hosts;
  std::deque<HostEntry> text_hosts;
  SvMap<HostEntry*> text_index;
  uint64_t hosts_untracked = 0;  // host mentions past the cap
  core::IpAddress orig_parsed_, resp_parsed_;  // untracked hosts' addresses a line names
  // (client, server) pairs. Typed conns key them by addresses (ip_pairs): a
  // new pair costs no text, which is made at the end only for the pairs
  // shown. Lines key them by "client>server" text (pairs). Both are one
  // table: the cap counts both, and the first pair of a line moves the
  // typed pairs into `pairs` (their text keys), after which every pair goes
  // by text, so a mix of both (not seen in practice) counts as text alone.
  SvMap<Pair> pairs;
  std::unordered_map<std::pair<core::IpAddress, core::IpAddress>, Pair, IpPairHash> ip_pairs;
  bool pairs_by_text = false;
  uint64_t pairs_untracked = 0;
  size_t times_total = 0;
  bool pairs_closed = false;
  // The largest connections: a heap of indexes into `rows` (smallest on top),
  // run exactly as std::priority_queue<ConnRow, ..., ConnRowLess> would run on
  // the rows themselves, but moving 4-byte indexes; a row that leaves gives
  // its slot (and its strings' buffers) to the one that enters.
  std::vector<ConnRow> rows;
  std::vector<uint32_t> big;
  struct Service {
    uint64_t conns = 0, bytes = 0;
  };
  SvMap<Service> services;      // "tcp/443 ssl"
  std::string last_svc;         // the last service counted, and its entry
  Service* last_service = nullptr;
  uint64_t services_other = 0;
  std::string scratch_[8];      // decoded fields of the current record, and keys
  std::string escaped_;         // a typed string as its line has it
  std::string orig_text_, resp_text_;  // texts of typed addresses when pairs go by text
  CappedCounter states;

  // Timeline: buckets of `width` seconds from `base`; the width doubles when
  // there are too many, so any span fits in a few thousand.
  double base = -1;
  int64_t width = 1;
  std::map<int64_t, Bucket> buckets;
  // The last bucket used: records come in time order, mostly to the same one.
  int64_t last_idx = 0;
  Bucket* last_bucket = nullptr;

  // DNS
  uint64_t dns = 0;
  CappedCounter rcodes, qtypes, queries, txt, odd;
  SvMap<std::string> odd_reason;
  // HTTP / TLS / SSH
  CappedCounter http_hosts, user_agents, methods, statuses, snis, ja3, ssh_clients, ssh_servers;
  // The first HTTP requests, written at the end straight as JSON text.
  struct HttpRow {
    double ts = 0;
    std::string uid, client, server, method, host, uri, ua, status;
  };
  std::vector<HttpRow> http_rows;
  // Logins
  std::map<std::tuple<std::string, std::string, std::string, std::string>, AuthGroup> auth;
  uint64_t auth_total = 0, auth_untracked = 0;
  Json auth_rows = Json::array();

  std::string str(std::string_view raw) const { return decode(raw, lim.max_string); }

  // A string field of the record being read: the raw text itself when it
  // needs no decoding (the common case), else decoded into scratch_[slot].
  std::string_view field(std::string_view raw, int slot) {
    if (raw.size() <= lim.max_string && raw.find('\\') == std::string_view::npos) return raw;
    auto& out = scratch_[slot];
    out = decode(raw, lim.max_string);
    return out;
  }

  // A typed record's string as field() gives it from the record's line:
  // escaped as the line writes it, then decoded (into scratch_[slot]; for
  // the text field() would return as it is, decode gives the same bytes).
  // Plain text within the cap is its own escape: one pass and no copy.
  std::string_view shown(std::string_view s, int slot) {
    if (s.size() <= lim.max_string && all_plain(s)) return s;
    escaped_.clear();
    output::append_json_string(escaped_, s);
    auto& out = scratch_[slot];
    out = decode(std::string_view(escaped_).substr(1, escaped_.size() - 2), lim.max_string);
    return out;
  }

  // Counts a record of `log` (not conn); false when the log is not counted
  // (a hostile list of log names): the record is then skipped.
  bool count_log(std::string_view log) {
    if (last_log_count && log == last_log) {
      ++*last_log_count;
      return true;
    }
    auto it = per_log.find(log);
    if (it == per_log.end()) {
      if (per_log.size() >= 64) return false;  // logs are a fixed few; a hostile name list is not
      it = per_log.emplace(std::string(log), 0).first;
    }
    ++it->second;
    last_log = it->first;
    last_log_count = &it->second;
    return true;
  }

  size_t hosts_size() const { return ip_hosts.size() + text_hosts.size(); }
  std::vector<const HostEntry*> all_hosts() const {
    std::vector<const HostEntry*> v;
    v.reserve(hosts_size());
    for (const auto& kv : ip_hosts) v.push_back(&kv.second);
    for (const auto& e : text_hosts) v.push_back(&e);
    return v;
  }

  // The tracked host of an address, tracking it while there is room.
  HostEntry* host_entry(const core::IpAddress& ip) {
    auto it = ip_hosts.find(ip);
    if (it != ip_hosts.end()) return &it->second;
    if (hosts_size() >= lim.max_hosts_tracked) {
      ++hosts_untracked;
      return nullptr;
    }
    HostEntry& e = ip_hosts.try_emplace(ip).first->second;
    e.ip = ip;
    e.is_ip = true;
    return &e;
  }
  // The same for a line's text (empty: no host).
  HostEntry* host_entry(std::string_view text) {
    if (text.empty()) return nullptr;
    auto it = text_index.find(text);
    if (it != text_index.end()) return it->second;
    HostEntry* e = nullptr;
    if (auto ip = address_named(text)) {
      e = host_entry(*ip);
    } else if (hosts_size() >= lim.max_hosts_tracked) {
      ++hosts_untracked;
    } else {
      e = &text_hosts.emplace_back();
      e->text = text;
    }
    if (e) text_index.emplace(std::string(text), e);
    return e;
  }
  template <typename Key>
  Host* host(const Key& k) {
    HostEntry* e = host_entry(k);
    return e ? &e->h : nullptr;
  }
  // The tracked host a finding's text names, or null.
  const HostEntry* host_named(std::string_view text) const {
    auto it = text_index.find(text);
    if (it != text_index.end()) return it->second;
    auto ip = address_named(text);
    if (!ip) return nullptr;
    auto jt = ip_hosts.find(*ip);
    return jt == ip_hosts.end() ? nullptr : &jt->second;
  }
  // The peer one end of a conn names: its host's name, else (untracked) its
  // address, or its text (as an address when it is the address's own).
  static PeerRef peer(const HostEntry* e, const core::IpAddress* ip, std::string_view text,
                      core::IpAddress& parsed) {
    if (e) return e->ref();
    if (ip) return {ip, {}};
    if (auto a = address_named(text)) {
      parsed = *a;
      return {&parsed, {}};
    }
    return {nullptr, text};
  }

  void touch(Host& h, double t) {
    if (h.first == 0 || t < h.first) h.first = t;
    if (t > h.last) h.last = t;
  }

  void bucket_add(double t, uint64_t c, uint64_t b, uint64_t r) {
    if (t <= 0) return;
    if (base < 0) base = std::floor(t);
    auto idx = static_cast<int64_t>(std::floor((t - base) / static_cast<double>(width)));
    Bucket* bk = last_bucket && idx == last_idx ? last_bucket : &buckets[idx];
    last_idx = idx;
    last_bucket = bk;
    bk->conns += c;
    bk->bytes += b;
    bk->records += r;
    if (buckets.size() > 4096) {  // coarsen: merge pairs of buckets
      std::map<int64_t, Bucket> merged;
      for (auto& [k, v] : buckets) {
        int64_t nk = k >= 0 ? k / 2 : (k - 1) / 2;
        auto& m = merged[nk];
        m.conns += v.conns;
        m.bytes += v.bytes;
        m.records += v.records;
      }
      buckets.swap(merged);
      width *= 2;
      last_bucket = nullptr;
    }
  }

  void pair_count(Pair& p, double t, uint64_t bytes_) {
    ++p.conns;
    p.bytes += bytes_;
    if (p.times.size() < lim.max_times_per_pair && times_total < lim.max_times_total) {
      p.times.push_back(t);
      ++times_total;
    }
  }

  size_t pairs_size() const { return pairs.size() + ip_pairs.size(); }

  // The tracked pair whose text is "a>b", or null. A typed pair is found by
  // the addresses the texts name, if they name them exactly as to_string
  // writes them (other texts name no typed pair).
  const Pair* pair_named(const std::string& a, const std::string& b) const {
    auto it = pairs.find(std::string_view(a + ">" + b));
    if (it != pairs.end()) return &it->second;
    if (ip_pairs.empty()) return nullptr;
    auto x = core::IpAddress::parse(a), y = core::IpAddress::parse(b);
    if (!x || !y) return nullptr;
    auto jt = ip_pairs.find(std::make_pair(*x, *y));
    if (jt == ip_pairs.end() || x->to_string() != a || y->to_string() != b) return nullptr;
    return &jt->second;
  }

  // Room for one more pair (pruning once when full); false: not tracked.
  bool pair_room() {
    if (pairs_size() >= lim.max_pairs_tracked) prune_pairs();
    if (pairs_size() >= lim.max_pairs_tracked) {
      ++pairs_untracked;
      return false;
    }
    return true;
  }

  // From here on pairs are keyed by text: the typed pairs move to `pairs`.
  void pairs_to_text() {
    pairs_by_text = true;
    for (auto& [k, p] : ip_pairs) pairs.emplace(k.first.to_string() + '>' + k.second.to_string(), std::move(p));
    ip_pairs.clear();
  }

  void pair_add(std::string_view a, std::string_view b, double t, uint64_t bytes_) {
    if (!pairs_by_text) pairs_to_text();
    std::string& key = scratch_[7];
    key.assign(a);
    key += '>';
    key += b;
    auto it = pairs.find(std::string_view(key));
    if (it == pairs.end()) {
      if (!pair_room()) return;
      it = pairs.emplace(key, Pair{}).first;
    }
    pair_count(it->second, t, bytes_);
  }

  void pair_add(const core::IpAddress& a, const core::IpAddress& b, double t, uint64_t bytes_) {
    if (pairs_by_text) {
      pair_add(orig_text_ = a.to_string(), resp_text_ = b.to_string(), t, bytes_);
      return;
    }
    auto key = std::make_pair(a, b);
    auto it = ip_pairs.find(key);
    if (it == ip_pairs.end()) {
      if (!pair_room()) return;
      it = ip_pairs.emplace(key, Pair{}).first;
    }
    pair_count(it->second, t, bytes_);
  }

  // Full: drop the pairs that can be neither a beacon nor a top talker yet
  // (two connections or fewer, little data), once; afterwards new pairs are
  // only counted.
  void prune_pairs() {
    if (pairs_closed) return;
    pairs_closed = true;
    prune(pairs);
    prune(ip_pairs);
    if (pairs_size() < lim.max_pairs_tracked * 3 / 4) pairs_closed = false;
  }
  template <typename Map>
  void prune(Map& m) {
    for (auto it = m.begin(); it != m.end();) {
      if (it->second.conns <= 2 && it->second.bytes < (1u << 20)) {
        times_total -= it->second.times.size();
        pairs_untracked += it->second.conns;
        it = m.erase(it);
      } else {
        ++it;
      }
    }
  }

  void on_conn(std::string_view json) {
    ConnFields c;
    bool ok = scan_object(json, [&](std::string_view k, const Value& v) {
      // By length first: most keys are rejected by one compare.
      switch (k.size()) {
        case 2:
          if (k == "ts") c.ts = to_double(v.raw);
          break;
        case 3:
          if (k == "uid") c.uid = field(v.raw, 0);
          break;
        case 5:
          if (k == "proto") c.proto = field(v.raw, 3);
          break;
        case 7:
          if (k == "service") c.service = field(v.raw, 4);
          break;
        case 8:
          if (k == "duration") c.duration = to_double(v.raw);
          break;
        case 9:
          if (k == "id.orig_h") c.orig_h = field(v.raw, 1);
          else if (k == "id.resp_h") c.resp_h = field(v.raw, 2);
          else if (k == "id.orig_p") c.orig_p = to_u64(v.raw);
          else if (k == "id.resp_p") c.resp_p = to_u64(v.raw);
          else if (k == "orig_pkts") c.orig_pkts = to_u64(v.raw);
          else if (k == "resp_pkts") c.resp_pkts = to_u64(v.raw);
          break;
        case 10:
          if (k == "conn_state") c.state = field(v.raw, 5);
          else if (k == "orig_bytes") c.orig_bytes = to_u64(v.raw);
          else if (k == "resp_bytes") c.resp_bytes = to_u64(v.raw);
          break;
        default:
          break;
      }
    });
    if (!ok || c.orig_h.empty()) {
      ++bad;
      return;
    }
    on_conn(c);
  }

  void on_conn(const ConnFields& c) {
    double ts = c.ts, duration = c.duration;
    uint64_t orig_p = c.orig_p, resp_p = c.resp_p, orig_bytes = c.orig_bytes, resp_bytes = c.resp_bytes;
    std::string_view uid = c.uid, proto = c.proto, service = c.service, state = c.state;
    uint64_t orig_pkts = c.orig_pkts, resp_pkts = c.resp_pkts;
    uint64_t total = orig_bytes + resp_bytes;
    ++conns;
    bytes += total;
    pkts += orig_pkts + resp_pkts;
    double end = ts + duration;
    if (ts > 0 && (first == 0 || ts < first)) first = ts;
    if (end > last) last = end;
    bucket_add(ts, 1, total, 0);

    std::string& svc = scratch_[6];
    svc.assign(proto);
    svc += '/';
    char num[8];
    auto nr = std::to_chars(num, num + sizeof num, resp_p);
    svc.append(num, nr.ptr);
    if (!service.empty()) {
      svc += ' ';
      svc += service;
    }
    // The originator's host is looked up before the responder's (the order
    // decides who is tracked at the cap). Addresses stay addresses: no text.
    HostEntry* on = c.orig_ip ? host_entry(*c.orig_ip) : host_entry(c.orig_h);
    PeerRef orig = peer(on, c.orig_ip, c.orig_h, orig_parsed_);
    if (on) {
      Host* h = &on->h;
      ++h->conns_out;
      h->bytes_out += orig_bytes;
      h->bytes_in += resp_bytes;
      if (conn_failed(state)) ++h->failed_out;
      touch(*h, ts);
      h->services_out.add(svc, 1);
    }
    HostEntry* rn = c.resp_ip ? host_entry(*c.resp_ip) : host_entry(c.resp_h);
    PeerRef resp = peer(rn, c.resp_ip, c.resp_h, resp_parsed_);
    if (on) on->h.peers_out.add(resp, total);
    if (rn) {
      Host* h = &rn->h;
      ++h->conns_in;
      h->bytes_in += orig_bytes;
      h->bytes_out += resp_bytes;
      touch(*h, ts);
      h->services_in.add(svc, 1);
      h->peers_in.add(orig, total);
    }
    // The last service found first (as CappedCounter::add; a service not
    // kept is never the last one).
    Service* si = last_service && svc == last_svc ? last_service : nullptr;
    if (!si) {
      auto it = services.find(std::string_view(svc));
      if (it == services.end() && services.size() < lim.max_keys) it = services.emplace(svc, Service{}).first;
      if (it != services.end()) {
        si = &it->second;
        last_svc = svc;
        last_service = si;
      }
    }
    if (si) {
      ++si->conns;
      si->bytes += total;
    } else {
      ++services_other;
    }
    states.add(state, 64);
    if (c.orig_ip && c.resp_ip) {
      pair_add(*c.orig_ip, *c.resp_ip, ts, total);
    } else {
      std::string_view a = c.orig_ip ? std::string_view(orig_text_ = c.orig_ip->to_string()) : c.orig_h;
      std::string_view b = c.resp_ip ? std::string_view(resp_text_ = c.resp_ip->to_string()) : c.resp_h;
      pair_add(a, b, ts, total);
    }

    // The largest connections: strings are copied only for a row that enters.
    if (lim.max_conns_shown == 0) return;
    ConnRowLess less;
    auto heap_less = [&](uint32_t x, uint32_t y) { return less(rows[x], rows[y]); };
    if (big.size() >= lim.max_conns_shown) {
      const ConnRow& top = rows[big.front()];
      if (total < top.bytes || (total == top.bytes && uid <= top.uid)) return;
    }
    uint32_t slot;
    if (big.size() >= lim.max_conns_shown) {
      std::pop_heap(big.begin(), big.end(), heap_less);
      slot = big.back();
      big.pop_back();
    } else {
      slot = static_cast<uint32_t>(rows.size());
      rows.emplace_back();
    }
    ConnRow& r = rows[slot];
    r.ts = ts;
    r.duration = duration;
    r.bytes = total;
    r.orig_bytes = orig_bytes;
    r.resp_bytes = resp_bytes;
    r.uid = uid;
    r.orig_h.set(orig);
    r.resp_h.set(resp);
    r.orig_p = orig_p;
    r.resp_p = resp_p;
    r.proto = proto;
    r.service = service;
    r.state = state;
    big.push_back(slot);
    std::push_heap(big.begin(), big.end(), heap_less);
  }

  void on_dns(std::string_view json) {
    double ts = 0;
    std::string_view client, query, rcode, qtype;
    bool ok = scan_object(json, [&](std::string_view k, const Value& v) {
      if (k == "ts") ts = to_double(v.raw);
      else if (k == "id.orig_h") client = field(v.raw, 0);
      else if (k == "query") query = field(v.raw, 1);
      else if (k == "rcode_name") rcode = field(v.raw, 2);
      else if (k == "qtype_name") qtype = field(v.raw, 3);
    });
    if (!ok) {
      ++bad;
      return;
    }
    on_dns(ts, host(client), query, rcode, qtype);
  }

  void on_dns(double ts, Host* h, std::string_view query, std::string_view rcode, std::string_view qtype) {
    ++dns;
    bucket_add(ts, 0, 0, 1);
    bool nx = rcode == "NXDOMAIN";
    if (h) {
      ++h->dns_queries;
      if (nx) ++h->dns_nx;
      touch(*h, ts);
    }
    if (!rcode.empty()) rcodes.add(rcode, 64);
    if (!qtype.empty()) qtypes.add(qtype, 64);
    if (query.empty()) return;
    if (qtype == "TXT") txt.add(query, lim.max_keys);
    std::string why = dns_oddity(query);
    if (!why.empty() && odd.add(query, lim.max_keys)) odd_reason.emplace(std::string(query), why);
    queries.add(query, lim.max_keys);
  }

  void on_http(std::string_view json) {
    double ts = 0;
    std::string_view client, server, method, host_, uri, ua, status, uid;
    bool ok = scan_object(json, [&](std::string_view k, const Value& v) {
      if (k == "ts") ts = to_double(v.raw);
      else if (k == "uid") uid = field(v.raw, 0);
      else if (k == "id.orig_h") client = field(v.raw, 1);
      else if (k == "id.resp_h") server = field(v.raw, 2);
      else if (k == "method") method = field(v.raw, 3);
      else if (k == "host") host_ = field(v.raw, 4);
      else if (k == "uri") uri = field(v.raw, 5);
      else if (k == "user_agent") ua = field(v.raw, 6);
      else if (k == "status_code") status = v.raw.substr(0, 8);
    });
    if (!ok) {
      ++bad;
      return;
    }
    bucket_add(ts, 0, 0, 1);
    if (Host* h = host(client)) ++h->http_requests;
    if (http_rows.size() < lim.max_rows) http_row(ts, uid, client, server, method, host_, uri, ua, status);
    http_counts(host_, ua, method, status);
  }

  void http_row(double ts, std::string_view uid, std::string_view client, std::string_view server,
                std::string_view method, std::string_view host_, std::string_view uri, std::string_view ua,
                std::string_view status) {
    http_rows.push_back({ts, std::string(uid), std::string(client), std::string(server), std::string(method),
                         std::string(host_), std::string(uri), std::string(ua), std::string(status)});
  }

  void http_counts(std::string_view host_, std::string_view ua, std::string_view method, std::string_view status) {
    if (!host_.empty()) http_hosts.add(host_, lim.max_keys);
    if (!ua.empty()) user_agents.add(ua, lim.max_keys);
    if (!method.empty()) methods.add(method, 64);
    if (!status.empty()) statuses.add(status, 256);
  }

  void on_auth(std::string_view json) {
    double ts = 0;
    std::string client, server, proto, method, user, outcome, port;
    bool ok = scan_object(json, [&](std::string_view k, const Value& v) {
      if (k == "ts") ts = to_double(v.raw);
      else if (k == "id.orig_h") client = str(v.raw);
      else if (k == "id.resp_h") server = str(v.raw);
      else if (k == "id.resp_p") port = std::string(v.raw);
      else if (k == "proto") proto = str(v.raw);
      else if (k == "method") method = str(v.raw);
      else if (k == "user") user = str(v.raw);
      else if (k == "outcome") outcome = str(v.raw);
    });
    if (!ok) {
      ++bad;
      return;
    }
    Host* ch = host(client);  // the client's host first: at the cap the order decides
    Host* sh = host(server);
    on_auth(ts, ch, sh, std::move(client), std::move(server), to_u64(port), std::move(proto), std::move(method),
            std::move(user), std::move(outcome));
  }

  // `ch`, `sh`: the hosts of `client` and `server`, or null.
  void on_auth(double ts, Host* ch, Host* sh, std::string client, std::string server, uint64_t port,
               std::string proto, std::string method, std::string user, std::string outcome) {
    ++auth_total;
    bucket_add(ts, 0, 0, 1);
    bool failed = outcome == "failure";
    if (Host* h = ch) {
      ++h->logins_out;
      if (failed) ++h->logins_out_failed;
    }
    if (Host* h = sh) {
      ++h->logins_in;
      if (failed) ++h->logins_in_failed;
    }
    if (auth_rows.size() < lim.max_rows) {
      auth_rows.push_back({{"ts", ts}, {"client", client}, {"server", server}, {"port", port},
                           {"proto", proto}, {"method", method}, {"user", user}, {"outcome", outcome}});
    }
    auto key = std::make_tuple(client, server, proto, outcome);
    auto it = auth.find(key);
    if (it == auth.end()) {
      if (auth.size() >= lim.max_keys) {
        ++auth_untracked;
        return;
      }
      it = auth.emplace(std::move(key), AuthGroup{}).first;
      it->second.first = ts;
    }
    AuthGroup& g = it->second;
    ++g.count;
    g.last = std::max(g.last, ts);
    if (!user.empty() && g.users.size() < 5 && std::find(g.users.begin(), g.users.end(), user) == g.users.end())
      g.users.push_back(user);
  }

  void on_ssl(std::string_view json) {
    double ts = 0;
    std::string_view sni, j3;
    bool ok = scan_object(json, [&](std::string_view k, const Value& v) {
      if (k == "ts") ts = to_double(v.raw);
      else if (k == "server_name") sni = field(v.raw, 0);
      else if (k == "ja3") j3 = field(v.raw, 1);
    });
    if (!ok) {
      ++bad;
      return;
    }
    on_ssl(ts, sni, j3);
  }

  void on_ssl(double ts, std::string_view sni, std::string_view j3) {
    bucket_add(ts, 0, 0, 1);
    if (!sni.empty()) snis.add(sni, lim.max_keys);
    if (!j3.empty()) ja3.add(j3, lim.max_keys);
  }

  void on_ssh(std::string_view json) {
    double ts = 0;
    std::string_view client, server;
    bool ok = scan_object(json, [&](std::string_view k, const Value& v) {
      if (k == "ts") ts = to_double(v.raw);
      else if (k == "client") client = field(v.raw, 0);
      else if (k == "server") server = field(v.raw, 1);
    });
    if (!ok) {
      ++bad;
      return;
    }
    on_ssh(ts, client, server);
  }

  void on_ssh(double ts, std::string_view client, std::string_view server) {
    bucket_add(ts, 0, 0, 1);
    if (!client.empty()) ssh_clients.add(client, lim.max_keys);
    if (!server.empty()) ssh_servers.add(server, lim.max_keys);
  }

  void on_arp(std::string_view json) {
    std::string sender;
    bool ok = scan_object(json, [&](std::string_view k, const Value& v) {
      if (k == "sender_ip") sender = str(v.raw);
    });
    if (!ok) {
      ++bad;
      return;
    }
    if (Host* h = host(sender)) ++h->arp;
  }

  // Any record: its time on the timeline (conn counts its own).
  void on_other(std::string_view json) {
    double ts = 0;
    if (!scan_object(json, [&](std::string_view k, const Value& v) {
          if (k == "ts") ts = to_double(v.raw);
        })) {
      ++bad;
      return;
    }
    bucket_add(ts, 0, 0, 1);
  }
};

// us / 1e6 is the double that reading the text gives (both exact, one
// correctly rounded division) while us < 2^53; past that (hostile times) the
// text itself is read.
double line_seconds(int64_t ns) {
  bool neg = ns < 0;
  uint64_t mag = neg ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  uint64_t us = (mag + 500) / 1000;
  if (us < (uint64_t{1} << 53)) {
    double v = static_cast<double>(us) / 1e6;
    return neg ? -v : v;
  }
  std::string text = core::format_epoch_micros(core::Timestamp{ns});
  double v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

ConnFields conn_fields(const flow::ConnRecord& r) {
  ConnFields c;
  c.ts = line_seconds(r.ts.ns);
  // As conn.jsonl: duration and bytes only when the duration is set.
  if (r.has_duration) {
    c.duration = line_seconds(r.duration_ns);
    c.orig_bytes = r.orig_bytes;
    c.resp_bytes = r.resp_bytes;
  }
  c.uid = r.uid;
  c.orig_ip = &r.orig_h;
  c.resp_ip = &r.resp_h;
  c.proto = flow::proto_name(r.proto);
  c.service = r.service;
  c.state = flow::conn_state_name(r.conn_state);
  c.orig_p = r.orig_p;
  c.resp_p = r.resp_p;
  c.orig_pkts = r.orig_pkts;
  c.resp_pkts = r.resp_pkts;
  return c;
}

ReportBuilder::ReportBuilder(const ReportLimits& limits) : s_(std::make_unique<State>()) { s_->lim = limits; }
ReportBuilder::~ReportBuilder() = default;

uint64_t ReportBuilder::bad_lines() const { return s_->bad; }

void ReportBuilder::add_conn(const ConnFields& c) {
  ++s_->conn_lines;
  if (c.orig_h.empty() && !c.orig_ip) {
    ++s_->bad;
    return;
  }
  s_->on_conn(c);
}

void ReportBuilder::add_dns(const DnsFields& f) {
  State& s = *s_;
  if (!s.count_log("dns")) return;
  s.on_dns(f.ts, s.host(f.client), s.shown(f.query, 1), s.shown(f.rcode_name, 2), s.shown(f.qtype_name, 3));
}

void ReportBuilder::add_http(const HttpFields& f) {
  State& s = *s_;
  if (!s.count_log("http")) return;
  s.bucket_add(f.ts, 0, 0, 1);
  if (Host* h = s.host(f.client)) ++h->http_requests;
  std::string_view host = s.shown(f.host, 4), ua = s.shown(f.user_agent, 6), method = s.shown(f.method, 3);
  char num[8];
  std::string_view status;
  if (f.has_status) {
    auto end = std::to_chars(num, num + sizeof num, f.status).ptr;
    status = std::string_view(num, static_cast<size_t>(end - num));
  }
  if (s.http_rows.size() < s.lim.max_rows) {
    std::string client = f.client.to_string(), server = f.server.to_string();
    s.http_row(f.ts, s.shown(f.uid, 0), client, server, method, host, s.shown(f.uri, 5), ua, status);
  }
  s.http_counts(host, ua, method, status);
}

void ReportBuilder::add_auth(const AuthFields& f) {
  State& s = *s_;
  if (!s.count_log("auth")) return;
  Host* ch = s.host(f.client);  // the client's host first, as for the line
  Host* sh = s.host(f.server);
  s.on_auth(f.ts, ch, sh, f.client.to_string(), f.server.to_string(), f.server_port,
            std::string(s.shown(f.proto, 0)), std::string(s.shown(f.method, 1)), std::string(s.shown(f.user, 2)),
            std::string(s.shown(f.outcome, 3)));
}

void ReportBuilder::add_ssl(double ts, std::string_view server_name, std::string_view ja3) {
  State& s = *s_;
  if (!s.count_log("ssl")) return;
  s.on_ssl(ts, s.shown(server_name, 0), s.shown(ja3, 1));
}

void ReportBuilder::add_ssh(double ts, std::string_view client, std::string_view server) {
  State& s = *s_;
  if (!s.count_log("ssh")) return;
  s.on_ssh(ts, s.shown(client, 0), s.shown(server, 1));
}

void ReportBuilder::add_arp(const core::IpAddress& sender_ip) {
  State& s = *s_;
  if (!s.count_log("arp")) return;
  if (Host* h = s.host(sender_ip)) ++h->arp;
}

void ReportBuilder::add_other(std::string_view log, double ts) {
  State& s = *s_;
  if (log == "conn" || log == "dns" || log == "http" || log == "auth" || log == "arp" || log == "ssl" ||
      log == "ssh")
    return;  // those have their own calls; a record of theirs without its fields is not guessed at
  if (!s.count_log(log)) return;
  s.bucket_add(ts, 0, 0, 1);
}

void ReportBuilder::add(std::string_view log, std::string_view json) {
  State& s = *s_;
  if (log == "conn") {  // the bulk: no map probe
    ++s.conn_lines;
    s.on_conn(json);
    return;
  }
  if (!s.count_log(log)) return;
  if (log == "dns") {
    s.on_dns(json);
  } else if (log == "http") {
    s.on_http(json);
  } else if (log == "auth") {
    s.on_auth(json);
  } else if (log == "arp") {
    s.on_arp(json);
  } else if (log == "ssl") {
    s.on_ssl(json);
  } else if (log == "ssh") {
    s.on_ssh(json);
  } else {
    s.on_other(json);  // its place on the timeline
  }
}

std::string ReportBuilder::data_json(const std::vector<std::string>& finding_lines, const RunMeta& meta) const {
  const State& s = *s_;
  const ReportLimits& lim = s.lim;
  Json d = Json::object();
  std::map<std::string, std::string> big_members;  // members written as JSON text (JsonOut)

  // Findings first: they decide which hosts and pairs are shown. Each is
  // shown as nlohmann writes it once parsed (Canon; nlohmann itself when
  // Canon gives up); beacon findings are also parsed, for their details.
  uint64_t findings_bad = 0;
  std::map<std::string, uint64_t> by_severity;
  std::vector<std::string> named, targets;  // hosts findings name: actors, then targets
  std::string& findings_text = big_members["findings"];
  findings_text.push_back('[');
  size_t findings_shown = 0;
  struct BeaconFinding {
    size_t index;                  // among those shown
    std::string text;              // the finding as shown
    std::string src;               // its "src" if a string
    std::vector<std::string> dst;  // the strings of its "dst" array
  };
  std::vector<BeaconFinding> beacon_findings;
  for (const auto& line : finding_lines) {
    Canon::Top top;
    std::string text;
    Json f;
    if (!Canon::finding(line, text, top)) {
      f = Json::parse(line, nullptr, false);
      if (!f.is_object()) {
        ++findings_bad;
        continue;
      }
      text = f.dump(-1, ' ', false, Json::error_handler_t::replace);
      top.id = text_of(f, "id");
      top.severity = text_of(f, "severity");
      top.has_src = f.contains("src") && f["src"].is_string();
      if (top.has_src) top.src = f["src"].get<std::string>();
      if (f.contains("dst") && f["dst"].is_array())
        for (const auto& x : f["dst"])
          if (x.is_string()) top.dst.push_back(x.get<std::string>());
    }
    ++by_severity[top.severity];
    if (top.has_src) named.push_back(top.src);
    targets.insert(targets.end(), top.dst.begin(), top.dst.end());
    if (findings_shown < lim.max_findings_shown) {
      if (findings_shown) findings_text.push_back(',');
      findings_text += text;
      if (top.id.rfind("beacon", 0) == 0 && top.id != "beacon.capped")
        beacon_findings.push_back({findings_shown, text, top.src, top.dst});
      ++findings_shown;
    }
  }
  findings_text.push_back(']');
  named.insert(named.end(), targets.begin(), targets.end());
  d["findings_total"] = finding_lines.size();
  d["findings_unreadable"] = findings_bad;
  d["findings_by_severity"] = by_severity;

  d["meta"] = {{"version", meta.version},  {"command_line", meta.command_line}, {"started", meta.started},
               {"inputs", meta.inputs},    {"source", meta.source}};

  Json ov = Json::object();
  ov["first"] = s.first;
  ov["last"] = s.last;
  ov["first_utc"] = utc(s.first);
  ov["last_utc"] = utc(s.last);
  ov["connections"] = s.conns;
  ov["bytes"] = s.bytes;
  ov["packets"] = s.pkts;
  ov["hosts"] = s.hosts_size();
  ov["hosts_capped"] = s.hosts_untracked > 0;
  {
    std::map<std::string, uint64_t> records(s.per_log.begin(), s.per_log.end());
    if (s.conn_lines) records["conn"] = s.conn_lines;
    ov["records"] = records;
  }
  ov["unreadable_lines"] = s.bad;
  d["overview"] = std::move(ov);

  // Timeline: at most ~400 columns for the chart.
  Json tl = Json::object();
  {
    int64_t width = s.width;
    std::map<int64_t, Bucket> b = s.buckets;
    while (!b.empty() && b.rbegin()->first - b.begin()->first >= 400) {
      std::map<int64_t, Bucket> m;
      for (auto& [k, v] : b) {
        auto& x = m[k >= 0 ? k / 2 : (k - 1) / 2];
        x.conns += v.conns;
        x.bytes += v.bytes;
        x.records += v.records;
      }
      b.swap(m);
      width *= 2;
    }
    Json rows = Json::array();
    for (auto& [k, v] : b)
      rows.push_back(Json::array({s.base + static_cast<double>(k * width), v.conns, v.bytes, v.records}));
    tl["width_s"] = width;
    tl["buckets"] = std::move(rows);  // [start, conns, bytes, other records]
  }
  d["timeline"] = std::move(tl);

  // Hosts: top by bytes, then every host a finding names.
  {
    std::vector<const HostEntry*> v = s.all_hosts();
    // Ties by the host's text, made only for the hosts a tie compares.
    auto by_bytes = [](const HostEntry* a, const HostEntry* b) {
      uint64_t x = a->h.bytes_out + a->h.bytes_in, y = b->h.bytes_out + b->h.bytes_in;
      if (x != y) return x > y;
      uint64_t cx = a->h.conns_out + a->h.conns_in, cy = b->h.conns_out + b->h.conns_in;
      return cx != cy ? cx > cy : a->name() < b->name();
    };
    size_t top = std::min(lim.max_hosts_shown, v.size());
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(top), v.end(), by_bytes);
    std::vector<const HostEntry*> shown(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(top));
    std::unordered_set<const HostEntry*> in(shown.begin(), shown.end());  // a host has one text
    for (const auto& n : named) {
      if (shown.size() >= 2 * lim.max_hosts_shown) break;
      const HostEntry* e = s.host_named(n);
      if (e && in.insert(e).second) shown.push_back(e);
    }
    // Members in the order Json's (sorted) objects give them.
    std::string& text = big_members["hosts"];
    JsonOut w(text);
    w.begin('[');
    for (const HostEntry* p : shown) {
      const Host& h = p->h;
      w.item();
      w.begin('{');
      w.key_literal("arp"), w.u64(h.arp);
      w.key_literal("bytes_in"), w.u64(h.bytes_in);
      w.key_literal("bytes_out"), w.u64(h.bytes_out);
      w.key_literal("conns_in"), w.u64(h.conns_in);
      w.key_literal("conns_out"), w.u64(h.conns_out);
      w.key_literal("dns_nx"), w.u64(h.dns_nx);
      w.key_literal("dns_queries"), w.u64(h.dns_queries);
      w.key_literal("failed_out"), w.u64(h.failed_out);
      w.key_literal("first"), w.dbl(h.first);
      w.key_literal("http_requests"), w.u64(h.http_requests);
      w.key_literal("ip"), w.str(p->name());
      w.key_literal("last"), w.dbl(h.last);
      w.key_literal("logins_in"), w.u64(h.logins_in);
      w.key_literal("logins_in_failed"), w.u64(h.logins_in_failed);
      w.key_literal("logins_out"), w.u64(h.logins_out);
      w.key_literal("logins_out_failed"), w.u64(h.logins_out_failed);
      w.key_literal("peers_in"), h.peers_in.write(w);
      w.key_literal("peers_out"), h.peers_out.write(w);
      w.key_literal("services_in"), h.services_in.write(w);
      w.key_literal("services_out"), h.services_out.write(w);
      w.end('}');
    }
    w.end(']');
    d["hosts_total"] = s.hosts_size();
    d["hosts_untracked"] = s.hosts_untracked;
  }

  // Top talkers (pairs by bytes) and services.
  {
    // Pairs by bytes, then by "client>server" text: the text of a typed
    // pair is made only when bytes tie, once.
    struct Talker {
      const Pair* p;
      const std::pair<core::IpAddress, core::IpAddress>* ips;  // typed pair, or null
      mutable std::string key;                                  // "client>server" (typed: when needed)
      const std::string& text() const {
        if (key.empty() && ips) key = ips->first.to_string() + '>' + ips->second.to_string();
        return key;
      }
    };
    std::vector<Talker> v;
    v.reserve(s.pairs_size());
    for (const auto& kv : s.pairs) v.push_back({&kv.second, nullptr, kv.first});
    for (const auto& kv : s.ip_pairs) v.push_back({&kv.second, &kv.first, {}});
    size_t top = std::min<size_t>(100, v.size());
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(top), v.end(),
                      [](const Talker& a, const Talker& b) {
                        return a.p->bytes != b.p->bytes ? a.p->bytes > b.p->bytes : a.text() < b.text();
                      });
    Json talkers = Json::array();
    for (size_t i = 0; i < top; ++i) {
      const std::string& k = v[i].text();
      size_t gt = k.find('>');
      talkers.push_back(Json::array({k.substr(0, gt), k.substr(gt + 1), v[i].p->conns, v[i].p->bytes}));
    }
    d["talkers"] = std::move(talkers);  // [client, server, connections, bytes]
    d["pairs_untracked"] = s.pairs_untracked;
    std::vector<const std::pair<const std::string, State::Service>*> sv;
    for (const auto& kv : s.services) sv.push_back(&kv);
    size_t stop = std::min<size_t>(200, sv.size());
    std::partial_sort(sv.begin(), sv.begin() + static_cast<std::ptrdiff_t>(stop), sv.end(), [](auto* a, auto* b) {
      return a->second.conns != b->second.conns ? a->second.conns > b->second.conns : a->first < b->first;
    });
    Json svc = Json::array();
    for (size_t i = 0; i < stop; ++i) svc.push_back(Json::array({sv[i]->first, sv[i]->second.conns, sv[i]->second.bytes}));
    d["services"] = std::move(svc);  // [proto/port service, connections, bytes]
    d["conn_states"] = s.states.top(32);
  }

  // Largest connections.
  {
    // Popped smallest first, as the heap gives them, then largest first.
    auto heap = s.big;
    ConnRowLess less;
    auto heap_less = [&](uint32_t x, uint32_t y) { return less(s.rows[x], s.rows[y]); };
    std::vector<const ConnRow*> rows;
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), heap_less);
      rows.push_back(&s.rows[heap.back()]);
      heap.pop_back();
    }
    std::reverse(rows.begin(), rows.end());
    // [ts, uid, orig_h, orig_p, resp_h, resp_p, proto, service, state, duration, orig_bytes, resp_bytes]
    std::string& text = big_members["conns"];
    JsonOut w(text);
    char ip_text[core::IpAddress::kTextMax];
    w.begin('[');
    for (const ConnRow* rp : rows) {
      const ConnRow& r = *rp;
      w.item();
      w.begin('[');
      w.item(), w.dbl(r.ts);
      w.item(), w.str(r.uid);
      w.item(), w.str(r.orig_h.view(ip_text));
      w.item(), w.u64(r.orig_p);
      w.item(), w.str(r.resp_h.view(ip_text));
      w.item(), w.u64(r.resp_p);
      w.item(), w.str(r.proto);
      w.item(), w.str(r.service);
      w.item(), w.str(r.state);
      w.item(), w.dbl(r.duration);
      w.item(), w.u64(r.orig_bytes);
      w.item(), w.u64(r.resp_bytes);
      w.end(']');
    }
    w.end(']');
    d["conns_more"] = s.conns - rows.size();
  }

  // Beacons: for each beacon finding, the connection start times of its
  // pair(s), so the page can plot the intervals. Read from the finding's
  // shown text, which is nlohmann's own dump: its values are copied as they
  // are (a dump of the parsed value gives the same text) instead of parsing
  // every beacon finding into a document.
  {
    std::string& text = big_members["beacons"];
    JsonOut w(text);
    w.begin('[');
    for (const auto& bf : beacon_findings) {
      std::string_view det;  // "details" when an object
      scan_object(bf.text, [&](std::string_view k, const Value& v) {
        if (k == "details" && v.kind == Kind::kOther && !v.raw.empty() && v.raw[0] == '{') det = v.raw;
      });
      std::vector<std::string> dsts;
      // The members copied from "details" (the page's plot labels), by key.
      std::string_view kept[5];
      static constexpr std::string_view kKept[5] = {"count", "hist_bars", "jitter_s", "period_s", "score"};
      if (!det.empty()) {
        scan_object(det, [&](std::string_view k, const Value& v) {
          if (k == "dst_ips" && v.kind == Kind::kOther && !v.raw.empty() && v.raw[0] == '[') {
            strings_of(v.raw, dsts);
            return;
          }
          for (size_t n = 0; n < 5; ++n) {
            if (k != kKept[n]) continue;
            // A string's raw view is inside its quotes: widen it to them.
            kept[n] = v.kind == Kind::kString ? std::string_view(v.raw.data() - 1, v.raw.size() + 2) : v.raw;
          }
        });
      }
      if (dsts.empty()) dsts = bf.dst;
      std::vector<double> times;
      for (const auto& dst : dsts) {
        if (const Pair* p = s.pair_named(bf.src, dst)) times.insert(times.end(), p->times.begin(), p->times.end());
      }
      std::sort(times.begin(), times.end());
      if (times.size() > lim.max_times_per_pair) times.resize(lim.max_times_per_pair);
      // Members in Json's (sorted) key order.
      w.item();
      w.begin('{');
      if (!kept[0].empty()) w.key_literal("count"), w.raw(kept[0]);
      w.key_literal("dst");
      w.begin('[');
      for (const auto& x : dsts) w.item(), w.str(x);
      w.end(']');
      w.key_literal("finding"), w.u64(bf.index);
      for (size_t n = 1; n < 5; ++n)
        if (!kept[n].empty()) w.key_literal(kKept[n]), w.raw(kept[n]);
      w.key_literal("src"), w.str(bf.src);
      w.key_literal("times");
      w.begin('[');
      for (double t : times) w.item(), w.dbl(t);
      w.end(']');
      w.end('}');
    }
    w.end(']');
  }

  // DNS.
  {
    Json dns = Json::object();
    dns["queries"] = s.dns;
    dns["rcodes"] = s.rcodes.top(32);
    dns["qtypes"] = s.qtypes.top(32);
    dns["top_names"] = s.queries.top(50);
    dns["txt"] = s.txt.top(lim.max_rows);
    Json odd = Json::array();
    for (const auto& kv : s.odd.top(lim.max_rows)) {
      auto r = s.odd_reason.find(kv[0].get_ref<const std::string&>());
      odd.push_back(Json::array({kv[0], kv[1], r == s.odd_reason.end() ? "" : r->second}));
    }
    dns["odd"] = std::move(odd);
    dns["names_uncounted"] = s.queries.other;
    // Clients by NXDOMAIN answers.
    std::vector<const HostEntry*> nx = s.all_hosts();
    std::erase_if(nx, [](const HostEntry* e) { return e->h.dns_nx == 0; });
    std::sort(nx.begin(), nx.end(), [](const HostEntry* a, const HostEntry* b) {
      return a->h.dns_nx != b->h.dns_nx ? a->h.dns_nx > b->h.dns_nx : a->name() < b->name();
    });
    if (nx.size() > 100) nx.resize(100);
    Json nxj = Json::array();
    for (const HostEntry* e : nx) nxj.push_back(Json::array({e->name(), e->h.dns_queries, e->h.dns_nx}));
    dns["nx_clients"] = std::move(nxj);  // [client, queries, NXDOMAIN]
    d["dns"] = std::move(dns);
  }

  // Logins.
  {
    Json groups = Json::array();
    std::vector<const std::pair<const std::tuple<std::string, std::string, std::string, std::string>, AuthGroup>*> v;
    for (const auto& kv : s.auth) v.push_back(&kv);
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) {
      return a->second.count != b->second.count ? a->second.count > b->second.count : a->first < b->first;
    });
    if (v.size() > 1000) v.resize(1000);
    for (auto* p : v) {
      const auto& [c, sv, proto, outcome] = p->first;
      groups.push_back({{"client", c},          {"server", sv},          {"proto", proto},
                        {"outcome", outcome},   {"count", p->second.count}, {"first", p->second.first},
                        {"last", p->second.last}, {"users", p->second.users}});
    }
    d["auth"] = {{"total", s.auth_total}, {"groups", std::move(groups)}, {"rows", s.auth_rows},
                 {"untracked", s.auth_untracked}};
  }

  // HTTP: members in Json's key order; the rows (the bulk) written by JsonOut
  // as Json would write the objects {"ts": ..., "uid": ..., ...}.
  {
    std::string& text = big_members["http"];
    JsonOut w(text);
    auto dump = [](const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); };
    w.begin('{');
    w.key_literal("hosts"), w.raw(dump(s.http_hosts.top(50)));
    w.key_literal("methods"), w.raw(dump(s.methods.top(20)));
    w.key_literal("rows");
    w.begin('[');
    for (const auto& r : s.http_rows) {
      w.item();
      w.begin('{');
      w.key_literal("client"), w.str(r.client);
      w.key_literal("host"), w.str(r.host);
      w.key_literal("method"), w.str(r.method);
      w.key_literal("server"), w.str(r.server);
      w.key_literal("status"), w.str(r.status);
      w.key_literal("ts"), w.dbl(r.ts);
      w.key_literal("ua"), w.str(r.ua);
      w.key_literal("uid"), w.str(r.uid);
      w.key_literal("uri"), w.str(r.uri);
      w.end('}');
    }
    w.end(']');
    w.key_literal("statuses"), w.raw(dump(s.statuses.top(30)));
    w.key_literal("user_agents"), w.raw(dump(s.user_agents.top(50)));
    w.end('}');
  }
  d["tls"] = {{"snis", s.snis.top(50)}, {"ja3", s.ja3.top(30)}};
  d["ssh"] = {{"clients", s.ssh_clients.top(30)}, {"servers", s.ssh_servers.top(30)}};
  d["limits"] = {{"hosts_shown", lim.max_hosts_shown}, {"conns_shown", lim.max_conns_shown},
                 {"rows", lim.max_rows}, {"findings_shown", lim.max_findings_shown}};

  // The document: d's members and the ones written as text, in Json's key
  // order. Invalid UTF-8 (from findings' own text) becomes U+FFFD rather
  // than an error.
  std::string out;
  size_t size = 2;
  for (const auto& [k, v] : big_members) size += k.size() + v.size() + 4;
  out.reserve(size + 256 * 1024);
  JsonOut w(out);
  w.begin('{');
  auto big = big_members.begin();
  for (auto it = d.begin(); it != d.end() || big != big_members.end();) {
    if (big != big_members.end() && (it == d.end() || big->first < it.key())) {
      w.key(big->first);
      w.raw(big->second);
      ++big;
    } else {
      w.key(it.key());
      w.raw(it.value().dump(-1, ' ', false, Json::error_handler_t::replace));
      ++it;
    }
  }
  w.end('}');
  return out;
}

namespace {

// How many of the n bytes at p need no escape inside <script> (none of '<',
// '>', '&' or 0xE2, the lead byte of U+2028/U+2029), from the first: 16 a
// step with SSE2 (the page's data is a megabyte on the benchmark slice).
size_t script_safe_run(const char* p, size_t n) {
  static constexpr auto kSpecial = [] {
    std::array<bool, 256> t{};
    t['<'] = t['>'] = t['&'] = t[0xE2] = true;
    return t;
  }();
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>'), amp = _mm_set1_epi8('&');
  const __m128i e2 = _mm_set1_epi8(static_cast<char>(0xE2));
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, lt), _mm_cmpeq_epi8(v, gt)),
                               _mm_or_si128(_mm_cmpeq_epi8(v, amp), _mm_cmpeq_epi8(v, e2)));
    if (auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit))) return i + static_cast<size_t>(__builtin_ctz(mask));
  }
#endif
  while (i < n && !kSpecial[static_cast<unsigned char>(p[i])]) ++i;
  return i;
}

}  // namespace

std::string escape_for_script(std::string_view json) {
  std::string out;
  out.reserve(json.size() + json.size() / 16);
  // Runs without a byte that may need escaping are copied in one append.
  for (size_t i = 0; i < json.size(); ++i) {
    size_t run = i + script_safe_run(json.data() + i, json.size() - i);
    if (run > i) {
      out.append(json.data() + i, run - i);
      i = run;
      if (i == json.size()) break;
    }
    char c = json[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
               (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace trawl::report

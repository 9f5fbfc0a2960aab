#include "analyzers/smtp/mime.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "analyzers/common/text.h"
#include "core/percent.h"

namespace trawl::analyzers::smtp {

namespace {

// A boundary is at most 70 characters (RFC 2046); with "--", "--" and some
// transport padding a delimiter line is far below this.
constexpr size_t kMaxBoundaryLine = 256;
constexpr size_t kMaxBoundary = 200;
constexpr size_t kMaxParamSegments = 64;

bool is_ws(char c) { return c == ' ' || c == '\t'; }

using core::hex_value;
bool is_hex(char c) { return hex_value(c) >= 0; }

// Base64 body characters: 1 alphabet, 0 ignored (padding, blanks, CR), 2 invalid.
constexpr std::array<uint8_t, 256> kB64Class = [] {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = 2;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] = 1;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] = 1;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = 1;
  t['+'] = t['/'] = 1;
  t['='] = t[' '] = t['\t'] = t['\r'] = 0;
  return t;
}();

// SWAR helpers over 8 bytes: each returns 0x80 in the bytes that match.
constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHigh = 0x8080808080808080ULL;
constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;

uint64_t zero_bytes(uint64_t v) { return ~(((v & kLow7) + kLow7) | v | kLow7); }
uint64_t eq_bytes(uint64_t w, uint8_t c) { return zero_bytes(w ^ (kOnes * c)); }
// lo <= byte <= hi, for words whose bytes are all below 0x80 (no carries).
uint64_t range_bytes(uint64_t w, uint8_t lo, uint8_t hi) {
  return (w + kOnes * (0x80u - lo)) & ~(w + kOnes * (0x7fu - hi)) & kHigh;
}

// Base64 alphabet characters in s; `bad` is set by a character that is
// neither in the alphabet nor ignorable. This sees every byte of every base64
// attachment, so it works on 8 bytes at a time.
uint64_t count_b64(std::string_view s, bool& bad) {
  uint64_t n = 0;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if ((w & kHigh) != 0) {
      bad = true;  // a byte >= 0x80: count the rest of the word one by one
      for (size_t k = i; k < i + 8; ++k) n += kB64Class[static_cast<unsigned char>(s[k])] & 1u;
      continue;
    }
    const uint64_t alpha = range_bytes(w, 'A', 'Z') | range_bytes(w, 'a', 'z') | range_bytes(w, '0', '9') |
                           eq_bytes(w, '+') | eq_bytes(w, '/');
    const uint64_t ignored = eq_bytes(w, '=') | eq_bytes(w, ' ') | eq_bytes(w, '\t') | eq_bytes(w, '\r');
    n += (((alpha & kHigh) >> 7) * kOnes) >> 56;  // bytes matched (no popcount instruction needed)
    if ((~(alpha | ignored) & kHigh) != 0) bad = true;
  }
  for (; i < s.size(); ++i) {
    const uint8_t k = kB64Class[static_cast<unsigned char>(s[i])];
    n += k & 1u;
    if (k & 2u) bad = true;
  }
  return n;
}

bool only_ws(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return is_ws(c) || c == '\r' || c == '\n'; });
}

void append_capped(std::string& out, std::string_view s, size_t max_out) {
  if (out.size() >= max_out) return;
  out.append(s.substr(0, max_out - out.size()));
}

void append_latin1(std::string& out, std::string_view s, size_t max_out) {
  for (char ch : s) {
    if (out.size() + 2 > max_out) return;
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xc0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
}

enum class Charset : uint8_t { kUtf8, kLatin1, kUnknown };

Charset charset_of(std::string_view name) {
  // RFC 2231 allows "charset*language" in encoded words.
  const size_t star = name.find('*');
  if (star != std::string_view::npos) name = name.substr(0, star);
  if (iequals(name, "utf-8") || iequals(name, "utf8") || iequals(name, "us-ascii") || iequals(name, "ascii")) {
    return Charset::kUtf8;
  }
  if (iequals(name, "iso-8859-1") || iequals(name, "iso8859-1") || iequals(name, "latin1") ||
      iequals(name, "latin-1") || iequals(name, "windows-1252") || iequals(name, "cp1252")) {
    return Charset::kLatin1;
  }
  return Charset::kUnknown;
}

void append_charset(std::string& out, std::string_view s, Charset cs, size_t max_out) {
  if (cs == Charset::kLatin1) {
    append_latin1(out, s, max_out);
  } else {
    append_capped(out, s, max_out);
  }
}

// One encoded word starting at in[start] ("=?"); on success `end` is just past "?=".
bool decode_word(std::string_view in, size_t start, std::string& out, size_t& end, size_t max_out) {
  const size_t q1 = in.find('?', start + 2);
  if (q1 == std::string_view::npos || q1 == start + 2 || q1 - start > 64) return false;
  const std::string_view charset = in.substr(start + 2, q1 - start - 2);
  if (q1 + 2 >= in.size() || in[q1 + 2] != '?') return false;
  const char enc = in[q1 + 1];
  const size_t text_start = q1 + 3;
  const size_t close = in.find("?=", text_start);
  if (close == std::string_view::npos || close - text_start > 4096) return false;
  const std::string_view text = in.substr(text_start, close - text_start);
  if (std::any_of(text.begin(), text.end(), [](char c) { return is_ws(c); })) return false;
  const Charset cs = charset_of(charset);
  if (cs == Charset::kUnknown) return false;
  std::string raw;
  if (enc == 'B' || enc == 'b') {
    auto d = base64_decode(text, 4096);
    if (!d) return false;
    raw = std::move(*d);
  } else if (enc == 'Q' || enc == 'q') {
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '_') {
        raw.push_back(' ');
      } else if (c == '=' && i + 2 < text.size() && is_hex(text[i + 1]) && is_hex(text[i + 2])) {
        raw.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
        i += 2;
      } else {
        raw.push_back(c);
      }
    }
  } else {
    return false;
  }
  append_charset(out, raw, cs, max_out);
  end = close + 2;
  return true;
}

// RFC 2231 "charset'language'percent%20encoded" (with_charset) or the
// percent-encoded text of a continuation segment.
using core::percent_decode;

struct ParamSegment {
  unsigned index;
  bool extended;
  std::string value;
};

// Calls f(name, value) for each "name=value" parameter after the first ';'
// (quoted strings unquoted; f gets a view valid for the call).
template <typename F>
void for_each_param(std::string_view v, F&& f) {
  size_t pos = v.find(';');
  if (pos == std::string_view::npos) return;
  std::string unquoted;
  while (pos < v.size()) {
    while (pos < v.size() && (v[pos] == ';' || is_ws(v[pos]))) ++pos;
    const size_t name_start = pos;
    while (pos < v.size() && v[pos] != '=' && v[pos] != ';') ++pos;
    const std::string_view name = trim(v.substr(name_start, pos - name_start));
    if (pos >= v.size() || v[pos] == ';') continue;  // a parameter without value
    ++pos;                                          // '='
    while (pos < v.size() && is_ws(v[pos])) ++pos;
    std::string_view value;
    if (pos < v.size() && v[pos] == '"') {
      ++pos;
      unquoted.clear();
      while (pos < v.size() && v[pos] != '"') {
        if (v[pos] == '\\' && pos + 1 < v.size()) ++pos;
        unquoted.push_back(v[pos]);
        ++pos;
      }
      if (pos < v.size()) ++pos;  // closing quote
      while (pos < v.size() && v[pos] != ';') ++pos;
      value = unquoted;
    } else {
      const size_t value_start = pos;
      while (pos < v.size() && v[pos] != ';') ++pos;
      value = trim(v.substr(value_start, pos - value_start));
    }
    if (!name.empty()) f(name, value);
  }
}

}  // namespace

// --- BodySizeCounter -------------------------------------------------------

void BodySizeCounter::reset(TransferEncoding enc) {
  *this = BodySizeCounter{};
  enc_ = enc;
}

void BodySizeCounter::start_line() {
  if (!in_line_) {
    size_ += pending_eol_;
    pending_eol_ = 0;
    in_line_ = true;
  }
}

void BodySizeCounter::bytes(std::string_view s) {
  if (s.empty()) return;
  switch (enc_) {
    case TransferEncoding::kIdentity:
      start_line();
      size_ += s.size();
      return;
    case TransferEncoding::kBase64: {
      bool bad = false;
      b64_chars_ += count_b64(s, bad);
      if (bad) invalid_ = true;
      return;
    }
    case TransferEncoding::kQuotedPrintable:
      break;
  }
  start_line();
  for (char c : s) {
    const bool ws = is_ws(c);
    if (qp_eq_ == 1) {
      if (ws) {
        ++qp_eq_ws_;
        continue;
      }
      if (qp_eq_ws_ == 0 && is_hex(c)) {
        qp_eq_ = 2;
        continue;
      }
      // A '=' that starts no escape: kept as it is.
      invalid_ = true;
      size_ += 1 + qp_eq_ws_;
      qp_eq_ = 0;
      qp_eq_ws_ = 0;
    } else if (qp_eq_ == 2) {
      if (is_hex(c)) {
        ++size_;
        qp_eq_ = 0;
        continue;
      }
      invalid_ = true;
      size_ += 2;
      qp_eq_ = 0;
    }
    if (c == '=') {
      size_ += qp_ws_;
      qp_ws_ = 0;
      qp_eq_ = 1;
    } else if (ws) {
      ++qp_ws_;  // dropped if the line ends here (RFC 2045 6.7 rule 3)
    } else {
      size_ += qp_ws_ + 1;
      qp_ws_ = 0;
    }
  }
}

void BodySizeCounter::eol(uint8_t len) {
  switch (enc_) {
    case TransferEncoding::kBase64:
      return;
    case TransferEncoding::kIdentity:
      start_line();
      in_line_ = false;
      pending_eol_ = len;
      return;
    case TransferEncoding::kQuotedPrintable:
      break;
  }
  start_line();
  if (qp_eq_ == 1) {
    pending_eol_ = 0;  // soft line break
  } else {
    if (qp_eq_ == 2) {
      invalid_ = true;
      size_ += 2;
    }
    pending_eol_ = len;
  }
  qp_eq_ = 0;
  qp_ws_ = 0;
  qp_eq_ws_ = 0;
  in_line_ = false;
}

uint64_t BodySizeCounter::finish(bool add_last_eol) {
  if (enc_ == TransferEncoding::kBase64) {
    const uint64_t n = b64_chars_;
    const uint64_t rem = n % 4;
    return n / 4 * 3 + (rem == 2 ? 1 : rem == 3 ? 2 : 0);
  }
  if (enc_ == TransferEncoding::kQuotedPrintable && qp_eq_ == 2) {
    invalid_ = true;
    size_ += 2;
    qp_eq_ = 0;
  }
  uint64_t total = size_;
  if (add_last_eol) total += pending_eol_;
  return total;
}

// --- MimeParser ------------------------------------------------------------

MimeParser::MimeParser(core::Anomalies& anomalies, MimeLimits limits) : anomalies_(anomalies), limits_(limits) {}

void MimeParser::begin() {
  state_ = State::kHeaders;
  mode_ = LineMode::kStart;
  line_.clear();
  line_overflow_ = false;
  pending_cr_ = false;
  hname_.clear();
  hvalue_.clear();
  hvalue_truncated_ = false;
  have_header_ = false;
  skipping_header_ = false;
  top_level_ = true;
  top_headers_done_ = false;
  too_many_parts_ = false;
  entity_ = Entity{};
  boundaries_.clear();
  counting_ = false;
  entities_ = 1;
  attachments_.clear();
}

void MimeParser::feed(std::string_view s) {
  if (state_ == State::kIdle || state_ == State::kAbandoned || state_ == State::kDone) return;
  size_t pos = 0;
  if (pending_cr_) {
    pending_cr_ = false;
    if (!s.empty() && s[0] == '\n') {
      piece({}, true, 2);
      pos = 1;
    } else if (!s.empty()) {
      piece("\r", false, 0);
    }
  }
  while (pos < s.size()) {
    const size_t nl = s.find('\n', pos);
    if (nl == std::string_view::npos) {
      std::string_view rest = s.substr(pos);
      if (rest.back() == '\r') {
        pending_cr_ = true;
        rest.remove_suffix(1);
      }
      if (!rest.empty()) piece(rest, false, 0);
      return;
    }
    std::string_view line = s.substr(pos, nl - pos);
    uint8_t eol_len = 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
      eol_len = 2;
    }
    piece(line, true, eol_len);
    pos = nl + 1;
  }
}

void MimeParser::piece(std::string_view s, bool eol, uint8_t eol_len) {
  if (state_ == State::kHeaders) {
    if (line_.empty() && !line_overflow_ && eol) {
      header_line(s, false);
      return;
    }
    if (!line_overflow_) {
      if (line_.size() + s.size() > limits_.max_header_bytes) {
        line_.append(s.substr(0, limits_.max_header_bytes - line_.size()));
        line_overflow_ = true;
      } else {
        line_.append(s);
      }
    }
    if (eol) {
      // header_line may start the body with this very line: work on a copy.
      std::string line = std::move(line_);
      line_.clear();
      const bool truncated = line_overflow_;
      line_overflow_ = false;
      header_line(line, truncated);
      if (line_.empty() && line.capacity() > line_.capacity()) line_.swap(line);  // keep the buffer
      line_.clear();
    }
    return;
  }
  if (state_ != State::kBody) return;

  if (mode_ == LineMode::kStart) mode_ = boundaries_.empty() ? LineMode::kStream : LineMode::kCollect;
  if (mode_ == LineMode::kCollect) {
    // A line that may be a boundary delimiter: "--" and not too long.
    const size_t total = line_.size() + s.size();
    bool maybe = total <= kMaxBoundaryLine;
    if (maybe) {
      const char c0 = !line_.empty() ? line_[0] : (!s.empty() ? s[0] : '-');
      const char c1 = line_.size() >= 2 ? line_[1]
                      : line_.size() == 1 ? (!s.empty() ? s[0] : '-')
                                          : (s.size() >= 2 ? s[1] : '-');
      maybe = c0 == '-' && c1 == '-';
    }
    if (maybe) {
      if (!eol) {
        line_.append(s);
        return;
      }
      mode_ = LineMode::kStart;
      if (line_.empty()) {
        if (!check_boundary(s)) {
          body_line_piece(s);
          body_eol(eol_len);
        }
        return;
      }
      line_.append(s);
      const std::string line = std::move(line_);
      line_.clear();
      if (!check_boundary(line)) {
        body_line_piece(line);
        body_eol(eol_len);
      }
      return;
    }
    if (!line_.empty()) {
      body_line_piece(line_);
      line_.clear();
    }
    mode_ = LineMode::kStream;
  }
  body_line_piece(s);
  if (eol) {
    body_eol(eol_len);
    mode_ = LineMode::kStart;
  }
}

void MimeParser::header_line(std::string_view line, bool truncated) {
  if (line.size() > limits_.max_header_bytes) {
    line = line.substr(0, limits_.max_header_bytes);
    truncated = true;
  }
  if (line.empty()) {
    commit_header();
    end_of_headers();
    return;
  }
  if (is_ws(line[0])) {
    if (skipping_header_) return;
    if (!have_header_) {
      if (entity_.headers == 0 && !top_level_) return;  // stray whitespace line before a part's headers
      anomalies_.add(kAnomMimeBadHeader);
      return;
    }
    if (truncated || hvalue_.size() + line.size() > limits_.max_header_bytes) {
      if (!hvalue_truncated_) anomalies_.add(kAnomMimeHeaderTooLong);
      hvalue_truncated_ = true;
      append_capped(hvalue_, line, limits_.max_header_bytes);
    } else {
      hvalue_.append(line);
    }
    return;
  }
  commit_header();
  skipping_header_ = false;
  const size_t colon = line.find(':');
  bool valid = colon != std::string_view::npos && colon != 0;
  std::string_view name;
  if (valid) {
    name = line.substr(0, colon);
    while (!name.empty() && is_ws(name.back())) name.remove_suffix(1);
    valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return c > 32 && c < 127; });
  }
  if (!valid) {
    if (entity_.headers == 0) {
      // No header block: the entity starts with its body (RFC 5322 allows a
      // message without headers only with the empty line, but mailers vary).
      end_of_headers();
      if (state_ == State::kBody) {
        piece(line, true, 2);
      }
      return;
    }
    anomalies_.add(kAnomMimeBadHeader);
    return;
  }
  if (entity_.headers >= limits_.max_headers) {
    if (entity_.headers == limits_.max_headers) anomalies_.add(kAnomMimeTooManyHeaders);
    entity_.headers = limits_.max_headers + 1;
    skipping_header_ = true;
    return;
  }
  ++entity_.headers;
  hname_.assign(name);
  hvalue_.clear();
  hvalue_truncated_ = truncated;
  if (truncated) anomalies_.add(kAnomMimeHeaderTooLong);
  append_capped(hvalue_, trim(line.substr(colon + 1)), limits_.max_header_bytes);
  have_header_ = true;
}

void MimeParser::commit_header() {
  if (!have_header_) return;
  have_header_ = false;
  std::string_view value = trim(hvalue_);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
  if (top_level_ && on_header_) on_header_(hname_, value);
  if (iequals(hname_, "content-type")) {
    std::string t = header_token(value);
    if (!t.empty()) entity_.type = std::move(t);
    std::string b;
    if (header_param(value, "boundary", b, kMaxBoundary)) entity_.boundary = std::move(b);
    if (!entity_.has_name) {
      std::string n;
      if (header_param(value, "name", n, limits_.max_name_bytes)) {
        entity_.name = decode_encoded_words(n, limits_.max_name_bytes);
        entity_.has_name = true;
      }
    }
  } else if (iequals(hname_, "content-disposition")) {
    if (header_token(value) == "attachment") entity_.attachment = true;
    std::string n;
    if (header_param(value, "filename", n, limits_.max_name_bytes)) {
      entity_.name = decode_encoded_words(n, limits_.max_name_bytes);  // wins over Content-Type name
      entity_.has_name = true;
    }
  } else if (iequals(hname_, "content-transfer-encoding")) {
    const std::string t = header_token(value);
    entity_.enc = t == "base64"             ? TransferEncoding::kBase64
                  : t == "quoted-printable" ? TransferEncoding::kQuotedPrintable
                                            : TransferEncoding::kIdentity;
  }
}

void MimeParser::end_of_headers() {
  if (top_level_) top_headers_done_ = true;
  state_ = State::kBody;
  mode_ = LineMode::kStart;
  counting_ = false;
  if (entity_.type.starts_with("multipart/")) {
    if (entity_.boundary.empty()) {
      anomalies_.add(kAnomMimeMissingBoundary);
    } else if (boundaries_.size() >= limits_.max_depth) {
      anomalies_.add(kAnomMimeTooDeep);
    } else if (!too_many_parts_) {
      boundaries_.push_back(entity_.boundary);
    }
    return;  // preamble, or opaque content
  }
  if ((entity_.attachment || entity_.has_name) && !too_many_parts_) {
    counting_ = true;
    counter_.reset(entity_.enc);
  }
}

void MimeParser::body_line_piece(std::string_view s) {
  if (counting_) counter_.bytes(s);
}

void MimeParser::body_eol(uint8_t eol_len) {
  if (counting_) counter_.eol(eol_len);
}

bool MimeParser::check_boundary(std::string_view line) {
  if (line.size() < 3 || line[0] != '-' || line[1] != '-') return false;
  const std::string_view rest = line.substr(2);
  for (size_t i = boundaries_.size(); i-- > 0;) {
    const std::string& b = boundaries_[i];
    if (!rest.starts_with(b)) continue;
    std::string_view tail = rest.substr(b.size());
    const bool closing = tail.starts_with("--");
    if (closing) tail.remove_prefix(2);
    if (!only_ws(tail)) continue;
    if (i + 1 < boundaries_.size()) {
      anomalies_.add(kAnomMimeUnterminated);  // inner multiparts never closed
      boundaries_.resize(i + 1);
    }
    finish_leaf(false, true);
    if (closing) {
      boundaries_.pop_back();
      state_ = State::kBody;  // epilogue of this multipart: ignored
      mode_ = LineMode::kStart;
    } else {
      start_entity();
    }
    return true;
  }
  return false;
}

void MimeParser::start_entity() {
  entity_ = Entity{};
  top_level_ = false;
  have_header_ = false;
  skipping_header_ = false;
  state_ = State::kHeaders;
  mode_ = LineMode::kStart;
  ++entities_;
  if (entities_ > limits_.max_parts && !too_many_parts_) {
    too_many_parts_ = true;
    anomalies_.add(kAnomMimeTooManyParts);
  }
}

void MimeParser::finish_leaf(bool add_last_eol, bool complete) {
  if (!counting_) return;
  counting_ = false;
  MimeAttachment a;
  a.name = entity_.name;
  a.mime_type = entity_.type.empty() ? "text/plain" : entity_.type;
  a.size = counter_.finish(add_last_eol);
  a.complete = complete;
  if (counter_.saw_invalid()) {
    anomalies_.add(entity_.enc == TransferEncoding::kBase64 ? kAnomMimeBadBase64 : kAnomMimeBadQuotedPrintable);
  }
  attachments_.push_back(std::move(a));
}

void MimeParser::abandon() {
  if (state_ == State::kHeaders || state_ == State::kBody) {
    finish_leaf(false, false);
    state_ = State::kAbandoned;
  }
}

void MimeParser::end() {
  if (state_ == State::kHeaders) {
    if (!line_.empty()) {
      const std::string line = std::move(line_);
      line_.clear();
      header_line(line, line_overflow_);
    }
    line_overflow_ = false;
    commit_header();
    if (state_ == State::kHeaders && top_level_) top_headers_done_ = true;
  }
  if (state_ == State::kBody) {
    if (!line_.empty()) {
      // The message ended inside a line that might have been a delimiter.
      const std::string line = std::move(line_);
      line_.clear();
      if (!check_boundary(line)) body_line_piece(line);
    }
    if (!boundaries_.empty()) anomalies_.add(kAnomMimeUnterminated);
    finish_leaf(true, true);
  }
  line_.clear();
  state_ = State::kDone;
}

// --- header value helpers ----------------------------------------------------

std::string decode_encoded_words(std::string_view in, size_t max_out) {
  std::string out;
  size_t i = 0;
  bool prev_encoded = false;
  while (i < in.size() && out.size() < max_out) {
    const size_t start = in.find("=?", i);
    if (start == std::string_view::npos) {
      append_capped(out, in.substr(i), max_out);
      break;
    }
    const std::string_view between = in.substr(i, start - i);
    std::string decoded;
    size_t end = 0;
    if (decode_word(in, start, decoded, end, max_out)) {
      if (!(prev_encoded && only_ws(between))) append_capped(out, between, max_out);
      append_capped(out, decoded, max_out);
      i = end;
      prev_encoded = true;
    } else {
      append_capped(out, in.substr(i, start + 2 - i), max_out);
      i = start + 2;
      prev_encoded = false;
    }
  }
  return out;
}

std::string header_token(std::string_view value) {
  value = trim(value);
  size_t end = 0;
  while (end < value.size() && value[end] != ';' && !is_ws(value[end]) && value[end] != '(') ++end;
  return to_lower(value.substr(0, end));
}

bool header_param(std::string_view value, std::string_view param, std::string& out, size_t max_out) {
  std::string plain;
  bool has_plain = false;
  std::string extended;
  bool has_extended = false;
  std::vector<ParamSegment> segments;
  for_each_param(value, [&](std::string_view name, std::string_view v) {
    if (!istarts_with(name, param)) return;
    const std::string_view suffix = name.substr(param.size());
    if (suffix.empty()) {
      if (!has_plain) plain.assign(v.substr(0, max_out));
      has_plain = true;
    } else if (suffix == "*") {
      if (!has_extended) extended.assign(v.substr(0, 4 * max_out));
      has_extended = true;
    } else if (suffix[0] == '*' && segments.size() < kMaxParamSegments) {
      std::string_view digits = suffix.substr(1);
      bool ext = false;
      if (!digits.empty() && digits.back() == '*') {
        ext = true;
        digits.remove_suffix(1);
      }
      if (digits.empty() || digits.size() > 3 ||
          !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return;
      }
      unsigned idx = 0;
      for (char c : digits) idx = idx * 10 + static_cast<unsigned>(c - '0');
      segments.push_back({idx, ext, std::string(v.substr(0, 4 * max_out))});
    }
  });
  out.clear();
  if (has_extended) {
    // charset'language'percent-encoded
    const size_t q1 = extended.find('\'');
    const size_t q2 = q1 == std::string::npos ? std::string::npos : extended.find('\'', q1 + 1);
    if (q2 != std::string::npos) {
      const Charset cs = charset_of(std::string_view(extended).substr(0, q1));
      const std::string raw = percent_decode(std::string_view(extended).substr(q2 + 1));
      append_charset(out, raw, cs == Charset::kUnknown ? Charset::kUtf8 : cs, max_out);
    } else {
      append_capped(out, percent_decode(extended), max_out);
    }
    return true;
  }
  if (!segments.empty()) {
    std::stable_sort(segments.begin(), segments.end(),
                     [](const ParamSegment& a, const ParamSegment& b) { return a.index < b.index; });
    Charset cs = Charset::kUtf8;
    std::string raw;
    for (size_t i = 0; i < segments.size(); ++i) {
      std::string_view v = segments[i].value;
      if (segments[i].extended) {
        if (i == 0) {
          const size_t q1 = v.find('\'');
          const size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
          if (q2 != std::string_view::npos) {
            const Charset c = charset_of(v.substr(0, q1));
            if (c != Charset::kUnknown) cs = c;
            v = v.substr(q2 + 1);
          }
        }
        raw += percent_decode(v);
      } else {
        raw += v;
      }
      if (raw.size() > 4 * max_out) break;
    }
    append_charset(out, raw, cs, max_out);
    return true;
  }
  if (has_plain) {
    out = std::move(plain);
    return true;
  }
  return false;
}

}  // namespace trawl::analyzers::smtp

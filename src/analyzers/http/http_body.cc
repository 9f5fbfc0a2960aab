#include "analyzers/http/http_body.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

#include "analyzers/common/text.h"

namespace trawl::analyzers::http {

namespace {

constexpr size_t kScratch = 16 * 1024;
constexpr size_t kMaxBoundary = 100;  // RFC 2046 allows 70
constexpr size_t kCarry = 24;         // longest `type = "password"` we look for

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

using core::hex_value;

}  // namespace

ContentCoding content_coding(std::string_view value) {
  value = trim(value);
  if (value.empty() || iequals(value, "identity")) return ContentCoding::kIdentity;
  if (iequals(value, "gzip") || iequals(value, "x-gzip")) return ContentCoding::kGzip;
  if (iequals(value, "deflate")) return ContentCoding::kDeflate;
  return ContentCoding::kOther;
}

std::string media_type(std::string_view content_type) {
  return to_lower(trim(content_type.substr(0, content_type.find(';'))));
}

std::string_view content_type_param(std::string_view content_type, std::string_view name) {
  size_t semi = content_type.find(';');
  while (semi != std::string_view::npos) {
    std::string_view rest = content_type.substr(semi + 1);
    const size_t next = rest.find(';');
    std::string_view param = trim(rest.substr(0, next));
    const size_t eq = param.find('=');
    if (eq != std::string_view::npos && iequals(trim(param.substr(0, eq)), name)) {
      std::string_view v = trim(param.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"') {
        v.remove_prefix(1);
        const size_t q = v.find('"');
        if (q != std::string_view::npos) v = v.substr(0, q);
      }
      return v;
    }
    semi = next == std::string_view::npos ? next : semi + 1 + next;
  }
  return {};
}

struct BodyDecoder::Zlib {
  z_stream z{};
  bool init = false;
  bool member_ended = false;  // a gzip member ended; what follows is another one or padding
  bool fresh_member = false;  // nothing decoded yet from the member after one that ended
  uint8_t head[2] = {0, 0};   // the first byte of a deflate body, until the second arrives
  size_t head_len = 0;
  std::unique_ptr<uint8_t[]> out;
};

BodyDecoder::BodyDecoder(uint64_t max_decoded) : max_decoded_(max_decoded) {}

BodyDecoder::~BodyDecoder() {
  if (zlib_ && zlib_->init) inflateEnd(&zlib_->z);
}

void BodyDecoder::start(ContentCoding coding) {
  coding_ = coding;
  length_ = 0;
  decoding_ = coding == ContentCoding::kGzip || coding == ContentCoding::kDeflate;
  header_checked_ = false;
  if (zlib_) {
    zlib_->member_ended = false;
    zlib_->fresh_member = false;
    zlib_->head_len = 0;
  }
}

void BodyDecoder::gap(uint64_t bytes) {
  if (coding_ == ContentCoding::kGzip || coding_ == ContentCoding::kDeflate) {
    decoding_ = false;
  } else {
    length_ += bytes;
  }
}

void BodyDecoder::feed(core::ByteView data, Sink* sink, core::Anomalies& anomalies) {
  if (data.empty()) return;
  if (coding_ != ContentCoding::kGzip && coding_ != ContentCoding::kDeflate) {
    length_ += data.size();
    if (sink) sink->decoded(data);
    return;
  }
  if (!decoding_) return;
  if (!zlib_) zlib_ = std::make_unique<Zlib>();
  Zlib& zl = *zlib_;
  if (!header_checked_) {
    // gzip: gzip or zlib wrapper (auto-detected). deflate: RFC 9110 says a
    // zlib stream, but many servers send raw deflate; the first two bytes tell.
    int window = 15 + 32;
    if (coding_ == ContentCoding::kDeflate) {
      if (zl.head_len == 0 && data.size() == 1) {
        zl.head[0] = data[0];
        zl.head_len = 1;
        return;
      }
      const uint8_t b0 = zl.head_len ? zl.head[0] : data[0];
      const uint8_t b1 = zl.head_len ? data[0] : data[1];
      const bool zlib_header = (b0 & 0x0f) == 8 && (b0 >> 4) <= 7 && ((b0 << 8) | b1) % 31 == 0;
      window = zlib_header ? 15 : -15;
    }
    const int r = zl.init ? inflateReset2(&zl.z, window) : inflateInit2(&zl.z, window);
    if (r != Z_OK) {
      anomalies.add(kAnomBadCompressedBody);
      decoding_ = false;
      return;
    }
    zl.init = true;
    header_checked_ = true;
    if (!zl.out) zl.out = std::make_unique<uint8_t[]>(kScratch);
    if (zl.head_len) {
      const uint8_t first[1] = {zl.head[0]};
      zl.head_len = 0;
      if (!inflate_some({first, 1}, sink, anomalies)) return;
    }
  }
  inflate_some(data, sink, anomalies);
}

bool BodyDecoder::inflate_some(core::ByteView data, Sink* sink, core::Anomalies& anomalies) {
  Zlib& zl = *zlib_;
  z_stream& z = zl.z;
  while (!data.empty() && decoding_) {
    const size_t piece = std::min<size_t>(data.size(), size_t{1} << 30);
    z.next_in = const_cast<Bytef*>(data.data());
    z.avail_in = static_cast<uInt>(piece);
    while (decoding_) {
      if (zl.member_ended) {
        if (z.avail_in == 0) break;
        inflateReset(&z);
        zl.member_ended = false;
        zl.fresh_member = true;
      }
      z.next_out = zl.out.get();
      z.avail_out = static_cast<uInt>(kScratch);
      const int r = inflate(&z, Z_NO_FLUSH);
      size_t produced = kScratch - z.avail_out;
      if (produced) {
        zl.fresh_member = false;
        bool capped = false;
        if (length_ + produced > max_decoded_) {
          produced = static_cast<size_t>(max_decoded_ - length_);
          capped = true;
        }
        length_ += produced;
        if (sink && produced) sink->decoded({zl.out.get(), produced});
        if (capped) {
          anomalies.add(kAnomDecompressedTooLarge);
          decoding_ = false;
          break;
        }
      }
      if (r == Z_STREAM_END) {
        if (coding_ == ContentCoding::kGzip) {
          zl.member_ended = true;  // concatenated members are allowed
          continue;
        }
        decoding_ = false;  // bytes after a deflate stream are ignored
        break;
      }
      if (r == Z_BUF_ERROR || (r == Z_OK && z.avail_in == 0 && z.avail_out != 0)) break;  // wants more input
      if (r != Z_OK) {
        // Garbage right after a complete gzip member is padding some servers add.
        if (!zl.fresh_member) anomalies.add(kAnomBadCompressedBody);
        decoding_ = false;
        break;
      }
    }
    data = data.subspan(piece);
  }
  return decoding_;
}

FormKind form_kind(std::string_view content_type) {
  const std::string mt = media_type(content_type);
  if (mt == "application/x-www-form-urlencoded") return FormKind::kUrlEncoded;
  if (mt == "multipart/form-data") return FormKind::kMultipart;
  return FormKind::kNone;
}

namespace {

bool parse_urlencoded(std::string_view body, std::vector<FormField>& out, const FormLimits& limits) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
  while (!body.empty()) {
    const size_t amp = body.find('&');
    std::string_view item = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (item.empty()) continue;
    if (out.size() >= limits.max_fields) return false;
    const size_t eq = item.find('=');
    FormField f;
    f.name = percent_decode(item.substr(0, std::min(eq, limits.max_name * 3)), true);
    if (f.name.size() > limits.max_name) f.name.resize(limits.max_name);
    if (eq != std::string_view::npos) f.raw_value = item.substr(eq + 1);
    out.push_back(std::move(f));
  }
  return true;
}

bool parse_multipart(std::string_view boundary, std::string_view body, std::vector<FormField>& out,
                     const FormLimits& limits) {
  if (boundary.empty() || boundary.size() > kMaxBoundary) return true;
  std::string delim = "--";
  delim.append(boundary);
  size_t pos = body.find(delim);
  while (pos != std::string_view::npos) {
    pos += delim.size();
    if (body.substr(pos, 2) == "--") break;  // the closing delimiter
    const size_t eol = body.find('\n', pos);
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
    // Part headers up to an empty line.
    std::string_view name;
    bool have_name = false;
    while (true) {
      const size_t end = body.find('\n', pos);
      if (end == std::string_view::npos) return true;  // cut inside the part headers
      std::string_view line = body.substr(pos, end - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      pos = end + 1;
      if (line.empty()) break;
      const size_t colon = line.find(':');
      if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), "content-disposition")) {
        std::string_view v = line.substr(colon + 1);
        name = content_type_param(v, "name");
        have_name = !name.empty();
      }
    }
    const size_t next = body.find(delim, pos);
    if (have_name) {
      if (out.size() >= limits.max_fields) return false;
      FormField f;
      f.name.assign(name.substr(0, limits.max_name));
      std::string_view value = body.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
      // The line break before the next delimiter belongs to the delimiter.
      if (next != std::string_view::npos) {
        if (!value.empty() && value.back() == '\n') value.remove_suffix(1);
        if (!value.empty() && value.back() == '\r') value.remove_suffix(1);
      }
      f.raw_value = value;
      out.push_back(std::move(f));
    }
    pos = next;
  }
  return true;
}

}  // namespace

bool parse_form(FormKind kind, std::string_view content_type, std::string_view body, std::vector<FormField>& out,
                const FormLimits& limits) {
  switch (kind) {
    case FormKind::kUrlEncoded:
      return parse_urlencoded(body, out, limits);
    case FormKind::kMultipart:
      return parse_multipart(content_type_param(content_type, "boundary"), body, out, limits);
    case FormKind::kNone:
      break;
  }
  return true;
}

std::string form_value(FormKind kind, const FormField& field, size_t max_len) {
  std::string v = kind == FormKind::kUrlEncoded
                      ? percent_decode(field.raw_value.substr(0, std::min(field.raw_value.size(), max_len * 3)), true)
                      : std::string(field.raw_value.substr(0, max_len));
  if (v.size() > max_len) v.resize(max_len);
  return v;
}

bool PasswordInputScanner::search(std::string_view s) const {
  for (size_t i = 0; i + 8 <= s.size(); ++i) {
    if (lower(s[i]) != 'p' || !iequals(s.substr(i, 8), "password")) continue;
    size_t j = i;
    if (j > 0 && (s[j - 1] == '"' || s[j - 1] == '\'')) --j;
    while (j > 0 && s[j - 1] == ' ') --j;
    if (j == 0 || s[j - 1] != '=') continue;
    --j;
    while (j > 0 && s[j - 1] == ' ') --j;
    if (j >= 4 && iequals(s.substr(j - 4, 4), "type")) return true;
  }
  return false;
}

void PasswordInputScanner::feed(core::ByteView data) {
  if (found_ || scanned_ >= max_scan_ || data.empty()) return;
  const size_t n = std::min(data.size(), max_scan_ - scanned_);
  scanned_ += n;
  std::string_view piece = core::as_chars(data).substr(0, n);
  if (!carry_.empty()) {
    // A match across the boundary: the carried tail plus the piece's head.
    char joint[2 * kCarry];
    const size_t head = std::min(n, kCarry);
    std::copy(carry_.begin(), carry_.end(), joint);
    std::copy(piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(head), joint + carry_.size());
    if (search({joint, carry_.size() + head})) {
      found_ = true;
      return;
    }
  }
  if (search(piece)) {
    found_ = true;
    return;
  }
  if (n >= kCarry) {
    carry_.assign(piece.substr(n - kCarry));
  } else {
    carry_.append(piece);
    if (carry_.size() > kCarry) carry_.erase(0, carry_.size() - kCarry);
  }
}

}  // namespace trawl::analyzers::http

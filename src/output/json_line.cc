#include "output/json_line.h"

#include <bit>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/digits.h"

namespace trawl::output {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto c = static_cast<uint8_t>(s[i]);
  size_t n;
  uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) { n = 2; min = 0x80; }
  else if ((c & 0xf0) == 0xe0) { n = 3; min = 0x800; }
  else if ((c & 0xf8) == 0xf0) { n = 4; min = 0x10000; }
  else return 0;
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0xffu >> (n + 1));
  for (size_t k = 1; k < n; ++k) {
    auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3fu);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

// Bytes that go out as they are: printable ASCII other than '"' and '\\'.
struct PlainTable {
  bool v[256] = {};
  constexpr PlainTable() {
    for (int c = 0x20; c < 0x7f; ++c) v[c] = c != '"' && c != '\\';
  }
};
constexpr PlainTable kPlain;

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

// Non-zero when one of the eight bytes of w is not plain (below 0x20, '"',
// '\\', 0x7f or above). Eight bytes per test instead of one table look-up per
// byte: most values are plain ASCII. A byte below 0x20 borrows in w - 0x20..,
// 0x7f and up carry into their top bit in w + 0x01.. (0xff, which wraps, is
// caught by the subtraction); '"' and '\\' are zero bytes after the xor. The
// borrows and carries only mark bytes of higher significance than a truly
// special byte, so zero is exact and, on a little-endian machine, so is the
// lowest marked byte.
inline uint64_t special_bytes(uint64_t w) {
  uint64_t out_of_range = (w - kOnes * 0x20) | (w + kOnes);
  uint64_t q = w ^ (kOnes * '"');
  uint64_t b = w ^ (kOnes * '\\');
  uint64_t quote = (q - kOnes) & ~q;
  uint64_t backslash = (b - kOnes) & ~b;
  return (out_of_range | quote | backslash) & kHighs;
}

// The up to seven bytes left at the end of a string, padded with plain
// bytes to a whole block (built in memory order, so it works on any byte
// order; fixed-size copies instead of a memcpy call).
inline uint64_t tail_block(const char* s, size_t n) {
  char t[8];
  const uint64_t pad = kOnes * 'a';
  std::memcpy(t, &pad, 8);
  char* d = t;
  if (n & 4) {
    std::memcpy(d, s, 4);
    d += 4;
    s += 4;
  }
  if (n & 2) {
    std::memcpy(d, s, 2);
    d += 2;
    s += 2;
  }
  if (n & 1) *d = *s;
  uint64_t w;
  std::memcpy(&w, t, 8);
  return w;
}

// Escapes s from i on, writing at out and advancing it, while at least
// kStepRoom bytes remain before end; returns the new i (s.size() when done).
// One step writes at most 21 bytes: a block's plain prefix (up to 15) and a
// 6-byte \u00XX escape, or a 16-byte block store.
constexpr size_t kStepRoom = 22;
[[gnu::always_inline]] inline size_t escape_some(std::string_view s, size_t i, char*& out, const char* end) {
  static const char kHex[] = "0123456789abcdef";
  const char* d = s.data();
  const size_t n = s.size();
  char* p = out;
  const char* last = end - kStepRoom;  // p <= last: room for any one step
  while (i < n && p <= last) {
    // Blocks are stored whole; only their plain prefix is kept. k: offset of
    // the first byte that is not plain, once found.
    bool found = false;
    size_t k = 0;
#if defined(__SSE2__)
    // Sixteen bytes per test where SSE2 is there (every x86-64): a signed
    // compare with 0x20 catches both the control bytes and those >= 0x80.
    const __m128i space = _mm_set1_epi8(0x20);
    const __m128i del = _mm_set1_epi8(0x7f);
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    while (n - i >= 16 && p <= last) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
      __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
      auto mask = static_cast<unsigned>(_mm_movemask_epi8(bad));
      if (mask != 0) {
        k = static_cast<size_t>(std::countr_zero(mask));
        found = true;
        break;
      }
      p += 16;
      i += 16;
    }
#endif
    uint64_t w;
    uint64_t special = 0;
    if (!found) {
      while (n - i >= 8 && p <= last) {
        std::memcpy(&w, d + i, 8);
        std::memcpy(p, &w, 8);
        special = special_bytes(w);
        if (special != 0) break;
        p += 8;
        i += 8;
      }
    }
    if (!found && special == 0) {
      if (i == n || p > last) break;
      // The tail: padded with plain bytes, so a marked byte is a real one.
      size_t take = n - i;
      w = tail_block(d + i, take);
      std::memcpy(p, &w, 8);
      special = special_bytes(w);
      if (special == 0) {
        p += take;
        i = n;
        break;
      }
    }
    if (!found) {
      // Other byte orders handle the block below a byte at a time (k = 0).
      if constexpr (std::endian::native == std::endian::little) {
        k = static_cast<size_t>(std::countr_zero(special) / 8);
      }
    }
    p += k;
    i += k;
    auto c = static_cast<uint8_t>(d[i]);
    if (kPlain.v[c]) {
      *p++ = static_cast<char>(c);
      ++i;
      continue;
    }
    switch (c) {
      case '"': std::memcpy(p, "\\\"", 2); p += 2; ++i; continue;
      case '\\': std::memcpy(p, "\\\\", 2); p += 2; ++i; continue;
      case '\n': std::memcpy(p, "\\n", 2); p += 2; ++i; continue;
      case '\r': std::memcpy(p, "\\r", 2); p += 2; ++i; continue;
      case '\t': std::memcpy(p, "\\t", 2); p += 2; ++i; continue;
      default: break;
    }
    size_t len = c >= 0x80 ? utf8_sequence(s, i) : 0;
    if (len > 0) {
      std::memcpy(p, d + i, len);
      p += len;
      i += len;
      continue;
    }
    // Control character or a byte that is not valid UTF-8: escape the byte
    // value (Zeek writes such bytes as \xNN inside the string; JSON needs \u).
    std::memcpy(p, "\\u00", 4);
    p[4] = kHex[c >> 4];
    p[5] = kHex[c & 15];
    p += 6;
    ++i;
  }
  out = p;
  return i;
}



}  // namespace

char* write_u64(char* p, uint64_t v) {
  if (v < 10) {
    *p = static_cast<char>('0' + v);
    return p + 1;
  }
  // Digit count from the bit width (1233/4096 ~ log10(2)), corrected by one
  // comparison; then two digits per step from the back.
  auto t = static_cast<size_t>((static_cast<unsigned>(std::bit_width(v)) * 1233u) >> 12);
  size_t digits = t + (v >= core::kPow10[t] ? 1 : 0);
  char* end = p + digits;
  char* q = end;
  while (v >= 100) {
    auto r = static_cast<size_t>(v % 100);
    v /= 100;
    q -= 2;
    std::memcpy(q, core::kDigitPairs.v + 2 * r, 2);
  }
  if (v >= 10) {
    std::memcpy(q - 2, core::kDigitPairs.v + 2 * v, 2);
  } else {
    q[-1] = static_cast<char>('0' + v);
  }
  return end;
}

char* write_i64(char* p, int64_t v) {
  if (v >= 0) return write_u64(p, static_cast<uint64_t>(v));
  *p++ = '-';
  return write_u64(p, static_cast<uint64_t>(-(v + 1)) + 1);
}

char* write_ip_json(char* p, const core::IpAddress& a) {
  *p++ = '"';
  p = a.write_text(p);
  *p++ = '"';
  return p;
}

void append_json_string(std::string& out, std::string_view s) {
  // Escaped into a stack buffer, appended once per buffer (once for most values).
  char buf[512];
  char* p = buf;
  *p++ = '"';
  size_t i = 0;
  for (;;) {
    i = escape_some(s, i, p, buf + sizeof buf - 1);  // one byte kept for the quote
    if (i == s.size()) break;
    out.append(buf, static_cast<size_t>(p - buf));
    p = buf;
  }
  *p++ = '"';
  out.append(buf, static_cast<size_t>(p - buf));
}

void JsonLine::flush_() {
  out_.append(buf_, static_cast<size_t>(p_ - buf_));
  p_ = buf_;
}

void JsonLine::string_body_(std::string_view s) {
  char* p = p_;
  size_t i = 0;
  for (;;) {
    i = escape_some(s, i, p, buf_ + kBuf - 1);  // one byte kept for the quote
    if (i == s.size()) break;
    p_ = p;
    flush_();
    p = p_;
  }
  *p++ = '"';
  p_ = p;
}

char* JsonLine::long_key_(std::string_view key, size_t value_room) {
  (void)value_room;  // the emptied buffer holds any value_room callers pass
  flush_();
  if (!first_) out_.push_back(',');
  first_ = false;
  out_.push_back('"');
  out_ += key;
  out_ += "\":";
  return p_;
}

JsonLine& JsonLine::str_list(std::string_view key, std::span<const std::string> values) {
  begin_array(key);
  for (const std::string& v : values) add_str(v);
  return end_array();
}

}  // namespace trawl::output

#include "analyzers/ssl/tls_fingerprint.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

#include "analyzers/ssl/tls_names.h"

namespace trawl::analyzers::ssl {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Digests are fetched once and each thread keeps one context: a one-shot
// EVP_Digest would look the algorithm up (under a lock) on every call.
struct Algorithms {
  EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  ~Algorithms() {
    EVP_MD_free(md5);
    EVP_MD_free(sha256);
  }
};
struct DigestCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~DigestCtx() { EVP_MD_CTX_free(ctx); }
};

std::string digest_hex(const EVP_MD* md, const void* data, size_t n) {
  thread_local DigestCtx local;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (md == nullptr || local.ctx == nullptr || EVP_DigestInit_ex(local.ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(local.ctx, data, n) != 1 || EVP_DigestFinal_ex(local.ctx, out, &len) != 1) {
    return {};
  }
  std::string hex(size_t{len} * 2, '\0');
  for (unsigned int i = 0; i < len; ++i) {
    hex[2 * i] = kHex[out[i] >> 4];
    hex[2 * i + 1] = kHex[out[i] & 0x0f];
  }
  return hex;
}

const Algorithms& algorithms() {
  static const Algorithms a;
  return a;
}

template <typename T>
void append_decimal_list(std::string& out, const std::vector<T>& values, bool drop_grease) {
  bool first = true;
  for (T v : values) {
    if (drop_grease && is_grease(v)) continue;
    char buf[24];
    char* p = buf;
    if (!first) *p++ = '-';
    first = false;
    p = std::to_chars(p, buf + sizeof buf, v).ptr;
    out.append(buf, p);
  }
}

void append_hex4(std::string& out, uint16_t v) {
  const char four[4] = {kHex[(v >> 12) & 0xf], kHex[(v >> 8) & 0xf], kHex[(v >> 4) & 0xf], kHex[v & 0xf]};
  out.append(four, 4);
}

std::string hex4_list(const std::vector<uint16_t>& values) {
  std::string out;
  out.reserve(values.size() * 5);
  for (uint16_t v : values) {
    if (!out.empty()) out.push_back(',');
    append_hex4(out, v);
  }
  return out;
}

std::string two_digits(size_t n) {
  n = std::min<size_t>(n, 99);
  return {static_cast<char>('0' + n / 10), static_cast<char>('0' + n % 10)};
}

std::string truncated_sha256(const std::string& s) {
  if (s.empty()) return "000000000000";
  return sha256_hex({reinterpret_cast<const uint8_t*>(s.data()), s.size()}).substr(0, 12);
}

std::string ja4_version(uint16_t v) {
  switch (v) {
    case 0x0304:
      return "13";
    case 0x0303:
      return "12";
    case 0x0302:
      return "11";
    case 0x0301:
      return "10";
    case 0x0300:
      return "s3";
    case 0x0002:
      return "s2";
    case 0xfeff:
      return "d1";
    case 0xfefd:
      return "d2";
    case 0xfefc:
      return "d3";
    default:
      return "00";
  }
}

bool is_alnum(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

std::vector<uint16_t> without_grease(const std::vector<uint16_t>& v) {
  std::vector<uint16_t> out;
  out.reserve(v.size());
  for (uint16_t x : v) {
    if (!is_grease(x)) out.push_back(x);
  }
  return out;
}

struct Ja4Parts {
  std::string a, b, c;
};

Ja4Parts ja4_parts(const ClientHello& ch, char transport) {
  uint16_t version = ch.version;
  const std::vector<uint16_t> versions = without_grease(ch.supported_versions);
  if (!versions.empty()) version = *std::max_element(versions.begin(), versions.end());
  std::vector<uint16_t> ciphers = without_grease(ch.ciphers);
  const std::vector<uint16_t> exts = without_grease(ch.extensions);
  Ja4Parts p;
  p.a.push_back(transport);
  p.a += ja4_version(version);
  p.a.push_back(ch.has_server_name ? 'd' : 'i');
  p.a += two_digits(ciphers.size());
  p.a += two_digits(exts.size());
  p.a += ja4_alpn_chars(ch.alpn.empty() ? std::string_view() : std::string_view(ch.alpn.front()));
  std::sort(ciphers.begin(), ciphers.end());
  p.b = hex4_list(ciphers);
  std::vector<uint16_t> sorted;
  for (uint16_t e : exts) {
    if (e != kExtServerName && e != kExtAlpn) sorted.push_back(e);
  }
  std::sort(sorted.begin(), sorted.end());
  p.c = hex4_list(sorted);
  const std::vector<uint16_t> sigs = without_grease(ch.signature_algorithms);
  if (!p.c.empty() && !sigs.empty()) p.c += "_" + hex4_list(sigs);
  return p;
}

// A bounded map from the serialised inputs of two fingerprints to them. When
// full it starts over, so hostile ever-changing hellos cost one insert each
// and memory stays at about kMaxEntries * (kMaxKey + the two strings).
class FingerprintMemo {
 public:
  static constexpr size_t kMaxEntries = 1024;
  static constexpr size_t kMaxKey = 1024;  // longer keys (odd, huge hellos) are computed, not kept

  // The key buffer: the caller clears it and writes the inputs with put_*.
  std::string key;

  void put_u8(uint8_t v) { key.push_back(static_cast<char>(v)); }
  void put_u16(uint16_t v) { append(&v, sizeof v); }
  void put_bytes(std::string_view s) {
    put_u32(static_cast<uint32_t>(s.size()));
    key.append(s);
  }
  template <typename T>
  void put_list(const std::vector<T>& v) {
    put_u32(static_cast<uint32_t>(v.size()));
    append(v.data(), v.size() * sizeof(T));
  }

  // Sets a and b from the memo entry of `key`, or from make(a, b) (then kept).
  template <typename Make>
  void get(std::string& a, std::string& b, Make&& make) {
    if (key.size() > kMaxKey) {
      make(a, b);
      return;
    }
    auto it = map_.find(key);
    if (it != map_.end()) {
      a = it->second.first;
      b = it->second.second;
      return;
    }
    make(a, b);
    if (map_.size() >= kMaxEntries) map_.clear();
    map_.emplace(key, std::make_pair(a, b));
  }

 private:
  void put_u32(uint32_t v) { append(&v, sizeof v); }
  void append(const void* p, size_t n) { key.append(static_cast<const char*>(p), n); }

  std::unordered_map<std::string, std::pair<std::string, std::string>> map_;
};

}  // namespace

void client_fingerprints(const ClientHello& ch, std::string& ja3_out, std::string& ja4_out) {
  thread_local FingerprintMemo memo;
  // Every ClientHello field ja3() and ja4() read, each list with its length.
  memo.key.clear();
  memo.put_u8(ch.ssl2 ? 1 : 0);
  memo.put_u16(ch.version);
  memo.put_u8(ch.has_server_name ? 1 : 0);
  memo.put_u8(ch.alpn.empty() ? 0 : 1);
  memo.put_bytes(ch.alpn.empty() ? std::string_view() : std::string_view(ch.alpn.front()));
  memo.put_list(ch.supported_versions);
  memo.put_list(ch.ciphers);
  memo.put_list(ch.extensions);
  memo.put_list(ch.groups);
  memo.put_list(ch.point_formats);
  memo.put_list(ch.signature_algorithms);
  memo.get(ja3_out, ja4_out, [&ch](std::string& a, std::string& b) {
    a = ja3(ch);
    b = ja4(ch);
  });
}

void server_fingerprints(const ServerHello& sh, std::string& ja3s_out, std::string& ja4s_out) {
  thread_local FingerprintMemo memo;
  // Every ServerHello field ja3s() and ja4s() read.
  memo.key.clear();
  memo.put_u16(sh.version);
  memo.put_u8(sh.selected_version ? 1 : 0);
  memo.put_u16(sh.selected_version.value_or(0));
  memo.put_u16(sh.cipher);
  memo.put_u8(sh.has_alpn ? 1 : 0);
  memo.put_bytes(sh.alpn);
  memo.put_list(sh.extensions);
  memo.get(ja3s_out, ja4s_out, [&sh](std::string& a, std::string& b) {
    a = ja3s(sh);
    b = ja4s(sh);
  });
}

std::string md5_hex(std::string_view data) { return digest_hex(algorithms().md5, data.data(), data.size()); }

std::string sha256_hex(core::ByteView data) { return digest_hex(algorithms().sha256, data.data(), data.size()); }

std::string ja3_string(const ClientHello& ch) {
  if (ch.ssl2) return {};
  std::string s = std::to_string(ch.version);
  s.push_back(',');
  append_decimal_list(s, ch.ciphers, true);
  s.push_back(',');
  append_decimal_list(s, ch.extensions, true);
  s.push_back(',');
  append_decimal_list(s, ch.groups, true);
  s.push_back(',');
  append_decimal_list(s, ch.point_formats, false);
  return s;
}

std::string ja3(const ClientHello& ch) {
  if (ch.ssl2) return {};
  return md5_hex(ja3_string(ch));
}

std::string ja3s_string(const ServerHello& sh) {
  std::string s = std::to_string(sh.version);
  s.push_back(',');
  s += std::to_string(sh.cipher);
  s.push_back(',');
  append_decimal_list(s, sh.extensions, true);
  return s;
}

std::string ja3s(const ServerHello& sh) { return md5_hex(ja3s_string(sh)); }

std::string ja4_alpn_chars(std::string_view alpn) {
  if (alpn.empty()) return "00";
  const auto first = static_cast<uint8_t>(alpn.front());
  const auto last = static_cast<uint8_t>(alpn.back());
  if (is_alnum(first) && is_alnum(last)) return {static_cast<char>(first), static_cast<char>(last)};
  return {kHex[first >> 4], kHex[last & 0x0f]};
}

std::string ja4(const ClientHello& ch, char transport) {
  if (ch.ssl2) return {};
  const Ja4Parts p = ja4_parts(ch, transport);
  return p.a + "_" + truncated_sha256(p.b) + "_" + truncated_sha256(p.c);
}

std::string ja4_raw(const ClientHello& ch, char transport) {
  if (ch.ssl2) return {};
  const Ja4Parts p = ja4_parts(ch, transport);
  return p.a + "_" + p.b + "_" + p.c;
}

std::string ja4s(const ServerHello& sh, char transport) {
  const std::vector<uint16_t> exts = without_grease(sh.extensions);
  std::string s(1, transport);
  s += ja4_version(sh.negotiated_version());
  s += two_digits(exts.size());
  s += sh.has_alpn ? ja4_alpn_chars(sh.alpn) : std::string("00");
  s.push_back('_');
  append_hex4(s, sh.cipher);
  s.push_back('_');
  s += truncated_sha256(hex4_list(exts));
  return s;
}

}  // namespace trawl::analyzers::ssl

// IndicatorStore: open-addressing tables over flat arrays for the exact kinds
// (IPs, domains, URLs, hashes) and a sorted, nested prefix list for CIDRs.
//
// Why this layout: loading 1 M indicators must take well under a second here,
// and lookups run once per connection/name/URL on the analyze hot path. Keys
// live in one character arena (strings) or one vector (addresses), the table
// holds 8-byte slots (hash tag + key index), so adding a key costs one append
// and one probe and a miss costs one hash and usually one cache line. CIDRs
// are laminar (two prefixes are nested or disjoint), so sorted by start (outer
// first) with a parent link each, the deepest prefix holding an address is an
// ancestor of the last prefix starting at or before it: one bucketed binary
// search plus a short walk up (depth <= 33 / 129), no per-bit trie chasing.
#include "intel/indicator_store.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <limits>

#include "core/hash.h"
#include "core/percent.h"

namespace trawl::intel {

std::string_view type_name(IndicatorType t) {
  switch (t) {
    case IndicatorType::kIp: return "ip";
    case IndicatorType::kCidr: return "cidr";
    case IndicatorType::kDomain: return "domain";
    case IndicatorType::kUrl: return "url";
    case IndicatorType::kHash: return "hash";
  }
  return "?";
}

namespace {

constexpr size_t kMaxDomain = 253;  // RFC 1035 name length without the final dot
constexpr size_t kMaxUrl = 16384;   // longer "URLs" in feeds are garbage, not indicators

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// First position of any of the given characters. std::string_view's
// find_first_of calls memchr over the set for every character, which showed
// as a quarter of the load time of a 1 M-line list.
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
char upper_ascii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

using core::hex_value;

// Writes the normalized name into out (capacity kMaxDomain); returns its
// length, 0 if the name is not plausible. Shared by add() and the lookups so
// both sides fold the same way without allocating.
size_t normalize_domain_to(std::string_view in, char* out) {
  in = trim(in);
  if (in.size() >= 2 && in[0] == '*' && in[1] == '.') in.remove_prefix(2);
  if (!in.empty() && in.back() == '.') in.remove_suffix(1);
  if (in.empty() || in.size() > kMaxDomain) return 0;
  size_t label = 0;
  bool only_digits_dots = true;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = lower_ascii(in[i]);
    if (c == '.') {
      if (label == 0) return 0;  // empty label: "a..b", ".a"
      label = 0;
    } else {
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      if (!ok || ++label > 63) return 0;
      if (c < '0' || c > '9') only_digits_dots = false;
    }
    out[i] = c;
  }
  if (label == 0) return 0;
  // "198.51.100.7" is an address, not a host name.
  if (only_digits_dots) return 0;
  return in.size();
}

// Hex digest of MD5, SHA-1 or SHA-256, lower-cased into out (capacity 64).
size_t normalize_hash_to(std::string_view in, char* out) {
  in = trim(in);
  if (in.size() != 32 && in.size() != 40 && in.size() != 64) return 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (hex_value(in[i]) < 0) return 0;
    out[i] = lower_ascii(in[i]);
  }
  return in.size();
}

bool unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// normalize_url() into a caller's buffer (cleared first), so lookups can reuse
// one buffer instead of allocating per probe. False if there is no host.
bool normalize_url_into(std::string_view url, std::string& out) {
  out.clear();
  url = trim(url);
  if (url.empty() || url.size() > kMaxUrl) return false;
  std::string_view scheme = "http";
  std::string_view rest = url;
  size_t sep = url.find("://");
  size_t delim = find_any(url, "/?#");
  if (sep != std::string_view::npos && sep > 0 && (delim == std::string_view::npos || sep < delim)) {
    scheme = url.substr(0, sep);
    char c0 = lower_ascii(scheme[0]);
    if (c0 < 'a' || c0 > 'z') return false;
    for (char c : scheme) {
      char l = lower_ascii(c);
      if (!((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '+' || l == '-' || l == '.')) return false;
    }
    rest = url.substr(sep + 3);
  } else if (url.size() >= 2 && url[0] == '/' && url[1] == '/') {
    rest = url.substr(2);
  }
  size_t aend = find_any(rest, "/?#");
  std::string_view authority = rest.substr(0, aend);
  std::string_view tail = aend == std::string_view::npos ? std::string_view() : rest.substr(aend);
  size_t at = authority.rfind('@');
  std::string_view userinfo = at == std::string_view::npos ? std::string_view() : authority.substr(0, at + 1);
  std::string_view hostport = at == std::string_view::npos ? authority : authority.substr(at + 1);
  std::string_view host = hostport;
  std::string_view port;
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return false;
    host = hostport.substr(0, close + 1);
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return false;
      port = after.substr(1);
    }
  } else {
    size_t colon = hostport.rfind(':');
    // A bare IPv6 address ("2001:db8::/48") is not a URL authority.
    if (colon != std::string_view::npos && hostport.find(':') != colon) return false;
    if (colon != std::string_view::npos) {
      host = hostport.substr(0, colon);
      port = hostport.substr(colon + 1);
    }
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.back() == '.') return false;  // no host, or "a.." (an empty label)
  for (char c : host) {
    if (is_space(c) || static_cast<unsigned char>(c) < 0x20) return false;
  }
  unsigned port_num = 0;
  if (!port.empty()) {
    if (port.size() > 5) return false;
    for (char c : port) {
      if (c < '0' || c > '9') return false;
      port_num = port_num * 10 + static_cast<unsigned>(c - '0');
    }
    if (port_num > 65535) return false;
  }
  out.reserve(url.size() + 8);
  for (char c : scheme) out.push_back(lower_ascii(c));
  out += "://";
  out += userinfo;
  for (char c : host) out.push_back(lower_ascii(c));
  bool default_port = (port_num == 80 && out.compare(0, 7, "http://") == 0) ||
                      (port_num == 443 && out.compare(0, 8, "https://") == 0);
  if (!port.empty() && !default_port) {
    out.push_back(':');
    out += std::to_string(port_num);
  }
  size_t frag = tail.find('#');
  if (frag != std::string_view::npos) tail = tail.substr(0, frag);
  while (!tail.empty() && is_space(tail.back())) tail.remove_suffix(1);
  if (tail.empty() || tail[0] != '/') out.push_back('/');
  for (size_t i = 0; i < tail.size(); ++i) {
    char c = tail[i];
    if (c == '%' && i + 2 < tail.size() && hex_value(tail[i + 1]) >= 0 && hex_value(tail[i + 2]) >= 0) {
      auto v = static_cast<char>(hex_value(tail[i + 1]) * 16 + hex_value(tail[i + 2]));
      if (unreserved(v)) {
        out.push_back(v);
      } else {
        // Other escapes stay encoded; upper-case hex so %2f and %2F compare equal.
        out.push_back('%');
        out.push_back(upper_ascii(tail[i + 1]));
        out.push_back(upper_ascii(tail[i + 2]));
      }
      i += 2;
    } else if (c == '%') {
      // A stray '%' is written as "%25", so that decoding "%%61" to "%a" can
      // never form a new escape: normalizing twice gives the same text.
      out += "%25";
    } else {
      out.push_back(c);
    }
  }
  return true;
}

uint32_t tag_of(uint64_t h) { return static_cast<uint32_t>(h); }

uint32_t hash_str(std::string_view s) { return tag_of(core::hash_bytes(s.data(), s.size())); }

uint32_t hash_ip(const core::IpAddress& a) {
  // IPv4 (most lookups): one mixing round over the 32 bits.
  if (a.is_v4()) return tag_of(core::mix64(a.v4_host_order() ^ 0x51ed270b27d4eb2full));
  return tag_of(core::hash_bytes(a.bytes().data(), 16));
}

// Open addressing with linear probing; a slot is (tag << 32 | index + 1), 0 is
// empty. The tag is the low 32 bits of the key's hash and also picks the home
// slot, so growing needs no access to the keys. Load factor stays <= 1/2, so
// every probe loop ends at an empty slot. In front of the slots sits a
// two-bit filter of 8 bits per slot (1/16 of the slots' memory): most misses
// end there, in a table small enough to stay in cache, instead of in a random
// slot of a table of tens of megabytes.
class Slots {
 public:
  template <class Eq>
  uint32_t find(uint32_t tag, Eq&& eq) const {  // index + 1, or 0
    if (slots_.empty() || !maybe(tag)) return 0;
    size_t mask = slots_.size() - 1;
    for (size_t i = tag & mask;; i = (i + 1) & mask) {
      uint64_t s = slots_[i];
      if (s == 0) return 0;
      if (static_cast<uint32_t>(s >> 32) == tag && eq(static_cast<uint32_t>(s) - 1)) return static_cast<uint32_t>(s);
    }
  }
  void insert(uint32_t tag, uint32_t index) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    place(slot_value(tag, index));
    mark(tag);
    ++count_;
  }

 private:
  static uint64_t slot_value(uint32_t tag, uint32_t index) { return (uint64_t{tag} << 32) | (uint64_t{index} + 1); }
  // Two filter bits from the tag by two multiplicative hashes (top bits).
  uint32_t bit_a(uint32_t tag) const { return (tag * 0x9e3779b1u) >> shift_; }
  uint32_t bit_b(uint32_t tag) const { return (tag * 0x85ebca77u + 0x165667b1u) >> shift_; }
  bool maybe(uint32_t tag) const {
    uint32_t a = bit_a(tag), b = bit_b(tag);
    return ((filter_[a >> 6] >> (a & 63)) & (filter_[b >> 6] >> (b & 63)) & 1u) != 0;
  }
  void mark(uint32_t tag) {
    uint32_t a = bit_a(tag), b = bit_b(tag);
    filter_[a >> 6] |= uint64_t{1} << (a & 63);
    filter_[b >> 6] |= uint64_t{1} << (b & 63);
  }
  void place(uint64_t v) {
    size_t mask = slots_.size() - 1;
    size_t i = static_cast<uint32_t>(v >> 32) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = v;
  }
  void grow() {
    std::vector<uint64_t> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
    // 8 filter bits per slot, at most 2^32 bits (the bit index is 32-bit).
    unsigned log2_bits = 3;
    while ((size_t{1} << (log2_bits - 3)) < slots_.size() && log2_bits < 32) ++log2_bits;
    shift_ = 32 - log2_bits;
    filter_.assign(std::max<size_t>(1, (size_t{1} << log2_bits) / 64), 0);
    for (uint64_t v : old) {
      if (v != 0) {
        place(v);
        mark(static_cast<uint32_t>(v >> 32));
      }
    }
  }
  std::vector<uint64_t> slots_;
  std::vector<uint64_t> filter_;
  unsigned shift_ = 32;
  size_t count_ = 0;
};

// The sources of one key: the first inline, more in a shared chain.
struct SourceList {
  uint32_t first = 0;
  uint32_t more = 0;  // 1-based index into Links, 0: none
};

struct Link {
  uint32_t source = 0;
  uint32_t next = 0;  // 1-based, 0: end
};

// Appends src to the list unless it is there already; true if appended.
bool add_source_to(SourceList& l, uint32_t src, std::vector<Link>& links) {
  if (l.first == src) return false;
  uint32_t last = 0;  // 1-based link whose next is the end; 0: the list's own field
  for (uint32_t i = l.more; i != 0; i = links[i - 1].next) {
    if (links[i - 1].source == src) return false;
    last = i;
  }
  // Index, not pointer: push_back may move the links.
  links.push_back(Link{src, 0});
  auto added = static_cast<uint32_t>(links.size());
  if (last == 0) {
    l.more = added;
  } else {
    links[last - 1].next = added;
  }
  return true;
}

struct StrKey {
  uint32_t off = 0;
  uint32_t len = 0;
  SourceList sources;
};

class StringIndex {
 public:
  // Returns 1 if (key, src) is new, 0 if known, -1 if the store is full.
  int add(std::string_view key, uint32_t src, std::vector<Link>& links) {
    uint32_t tag = hash_str(key);
    uint32_t found = slots_.find(tag, [&](uint32_t i) { return view(keys_[i]) == key; });
    if (found != 0) return add_source_to(keys_[found - 1].sources, src, links) ? 1 : 0;
    if (arena_.size() + key.size() > std::numeric_limits<uint32_t>::max() ||
        keys_.size() >= std::numeric_limits<uint32_t>::max() - 1) {
      return -1;
    }
    StrKey k;
    k.off = static_cast<uint32_t>(arena_.size());
    k.len = static_cast<uint32_t>(key.size());
    k.sources.first = src;
    arena_.append(key);
    keys_.push_back(k);
    slots_.insert(tag, static_cast<uint32_t>(keys_.size() - 1));
    return 1;
  }
  const StrKey* find(std::string_view key) const {
    uint32_t found = slots_.find(hash_str(key), [&](uint32_t i) { return view(keys_[i]) == key; });
    return found == 0 ? nullptr : &keys_[found - 1];
  }
  std::string_view view(const StrKey& k) const { return std::string_view(arena_).substr(k.off, k.len); }

 private:
  std::string arena_;
  std::vector<StrKey> keys_;
  Slots slots_;
};

// Exact addresses and prefixes share this index; a prefix key is its masked
// base address plus its length (exact addresses: the full length).
struct NetKey {
  core::IpAddress base;
  uint8_t prefix = 0;
  SourceList sources;
};

class NetIndex {
 public:
  int add(const core::IpAddress& base, uint8_t prefix, uint32_t src, std::vector<Link>& links) {
    uint32_t tag = hash_ip(base) ^ (uint32_t{prefix} * 0x9e3779b1u);
    uint32_t found = slots_.find(tag, [&](uint32_t i) { return keys_[i].prefix == prefix && keys_[i].base == base; });
    if (found != 0) return add_source_to(keys_[found - 1].sources, src, links) ? 1 : 0;
    if (keys_.size() >= std::numeric_limits<uint32_t>::max() - 1) return -1;
    keys_.push_back(NetKey{base, prefix, SourceList{src, 0}});
    slots_.insert(tag, static_cast<uint32_t>(keys_.size() - 1));
    return 1;
  }
  const NetKey* find(const core::IpAddress& a, uint8_t prefix) const {
    uint32_t tag = hash_ip(a) ^ (uint32_t{prefix} * 0x9e3779b1u);
    uint32_t found = slots_.find(tag, [&](uint32_t i) { return keys_[i].prefix == prefix && keys_[i].base == a; });
    return found == 0 ? nullptr : &keys_[found - 1];
  }
  const std::vector<NetKey>& keys() const { return keys_; }

 private:
  std::vector<NetKey> keys_;
  Slots slots_;
};

struct U128 {
  uint64_t hi = 0;
  uint64_t lo = 0;
  friend auto operator<=>(const U128&, const U128&) = default;
  friend bool operator==(const U128&, const U128&) = default;
};

U128 to_u128(const core::IpAddress& a) {
  U128 v;
  for (size_t i = 0; i < 8; ++i) v.hi = v.hi << 8 | a.bytes()[i];
  for (size_t i = 8; i < 16; ++i) v.lo = v.lo << 8 | a.bytes()[i];
  return v;
}

uint32_t bucket_of(uint32_t v) { return v >> 16; }
uint32_t bucket_of(const U128& v) { return static_cast<uint32_t>(v.hi >> 48); }

// Prefixes of one family, sorted by start then outer first, each linked to
// the closest prefix that holds it.
template <class U>
struct PrefixList {
  struct Node {
    U lo{};
    U hi{};
    int32_t parent = -1;
    uint32_t key = 0;  // index into NetIndex::keys()
  };
  std::vector<Node> nodes;
  std::vector<uint32_t> bucket_start;  // 65537 entries when nodes is not empty

  void build() {
    std::sort(nodes.begin(), nodes.end(), [](const Node& a, const Node& b) {
      if (a.lo != b.lo) return a.lo < b.lo;
      return b.hi < a.hi;
    });
    std::vector<int32_t> stack;
    for (size_t i = 0; i < nodes.size(); ++i) {
      while (!stack.empty() && nodes[static_cast<size_t>(stack.back())].hi < nodes[i].lo) stack.pop_back();
      nodes[i].parent = stack.empty() ? -1 : stack.back();
      stack.push_back(static_cast<int32_t>(i));
    }
    bucket_start.assign(nodes.empty() ? 0 : 65537, 0);
    if (nodes.empty()) return;
    size_t n = 0;
    for (uint32_t b = 0; b <= 65536; ++b) {
      while (n < nodes.size() && bucket_of(nodes[n].lo) < b) ++n;
      bucket_start[b] = static_cast<uint32_t>(n);
    }
  }

  // Index of the deepest prefix holding x, or -1.
  int32_t deepest(const U& x) const {
    if (nodes.empty()) return -1;
    uint32_t b = bucket_of(x);
    auto first = nodes.begin() + bucket_start[b];
    auto last = nodes.begin() + bucket_start[b + 1];
    auto it = std::upper_bound(first, last, x, [](const U& v, const Node& n) { return v < n.lo; });
    auto pos = static_cast<int32_t>(it - nodes.begin());
    int32_t cur = pos - 1;
    while (cur >= 0 && nodes[static_cast<size_t>(cur)].hi < x) cur = nodes[static_cast<size_t>(cur)].parent;
    return cur;
  }
};

// Range [lo, hi] of a prefix as integers.
void range_of(const core::IpAddress& base, uint8_t prefix, uint32_t& lo, uint32_t& hi) {
  lo = base.v4_host_order();
  uint32_t host_mask = prefix >= 32 ? 0u : (0xffffffffu >> prefix);
  hi = lo | host_mask;
}

void range_of(const core::IpAddress& base, uint8_t prefix, U128& lo, U128& hi) {
  lo = to_u128(base);
  hi = lo;
  if (prefix < 64) {
    hi.hi |= prefix == 0 ? ~0ull : (~0ull >> prefix);
    hi.lo = ~0ull;
  } else if (prefix < 128) {
    hi.lo |= ~0ull >> (prefix - 64);
  }
}

// The base with host bits cleared (prefix in the address family's bits).
core::IpAddress mask_to(const core::IpAddress& a, unsigned prefix) {
  std::array<uint8_t, 16> b = a.bytes();
  unsigned bits = prefix + (a.is_v4() ? 96u : 0u);
  for (unsigned i = 0; i < 16; ++i) {
    unsigned keep = bits > i * 8 ? std::min(8u, bits - i * 8) : 0u;
    b[i] = static_cast<uint8_t>(b[i] & static_cast<uint8_t>(0xff00u >> keep));
  }
  return a.is_v4() ? core::IpAddress::v4(b.data() + 12) : core::IpAddress::v6(b.data());
}

std::string net_string(const NetKey& k) {
  std::string s = k.base.to_string();
  unsigned full = k.base.is_v4() ? 32u : 128u;
  if (k.prefix != full) {
    s.push_back('/');
    s += std::to_string(k.prefix);
  }
  return s;
}

}  // namespace

struct IndicatorStore::Impl {
  std::deque<Source> sources;  // deque: Match::source pointers stay valid as sources are added
  std::vector<Link> links;
  NetIndex ips;    // exact addresses (prefix = full length)
  NetIndex cidrs;  // prefixes shorter than the full length
  StringIndex domains;
  StringIndex urls;
  StringIndex hashes;
  std::array<size_t, 5> counts{};
  PrefixList<uint32_t> v4;
  PrefixList<U128> v6;
  bool built = false;
  size_t cidrs_built = 0;  // cidrs.keys().size() when v4/v6 were last built

  bool counted(IndicatorType t, int r) {
    if (r > 0) ++counts[static_cast<size_t>(t)];
    return r >= 0;
  }

  bool add_net(std::string_view value, bool allow_prefix, uint32_t src) {
    size_t slash = value.find('/');
    if (slash == std::string_view::npos) {
      auto a = core::IpAddress::parse(value);
      if (!a) return false;
      return counted(IndicatorType::kIp, ips.add(*a, a->is_v4() ? 32 : 128, src, links));
    }
    if (!allow_prefix) return false;
    auto n = core::IpNetwork::parse(value);
    if (!n) return false;
    unsigned full = n->base.is_v4() ? 32u : 128u;
    // A /0 is "everything", never a useful indicator; a full-length prefix is
    // the address itself and matches as one.
    if (n->prefix == 0) return false;
    if (n->prefix == full) return counted(IndicatorType::kIp, ips.add(n->base, n->prefix, src, links));
    return counted(IndicatorType::kCidr, cidrs.add(mask_to(n->base, n->prefix), n->prefix, src, links));
  }

  void emit(IndicatorType t, std::string text, const SourceList& l, std::vector<Match>& out) const {
    out.push_back(Match{t, text, &sources[l.first]});
    for (uint32_t i = l.more; i != 0; i = links[i - 1].next) {
      out.push_back(Match{t, text, &sources[links[i - 1].source]});
    }
  }
};

IndicatorStore::IndicatorStore() : impl_(std::make_unique<Impl>()) {}
IndicatorStore::~IndicatorStore() = default;
IndicatorStore::IndicatorStore(IndicatorStore&&) noexcept = default;
IndicatorStore& IndicatorStore::operator=(IndicatorStore&&) noexcept = default;

uint32_t IndicatorStore::add_source(Source s) {
  impl_->sources.push_back(std::move(s));
  return static_cast<uint32_t>(impl_->sources.size() - 1);
}

bool IndicatorStore::add(IndicatorType type, std::string_view value, uint32_t source_id) {
  Impl& m = *impl_;
  value = trim(value);
  // Empty (maybe a null view): IpAddress::parse would memcpy from null.
  if (source_id >= m.sources.size() || value.empty()) return false;
  switch (type) {
    case IndicatorType::kIp: return m.add_net(value, true, source_id);
    case IndicatorType::kCidr:
      if (value.find('/') == std::string_view::npos) return false;
      return m.add_net(value, true, source_id);
    case IndicatorType::kDomain: {
      char buf[kMaxDomain];
      size_t n = normalize_domain_to(value, buf);
      if (n == 0) return false;
      return m.counted(type, m.domains.add(std::string_view(buf, n), source_id, m.links));
    }
    case IndicatorType::kUrl: {
      std::string norm;
      if (!normalize_url_into(value, norm)) return false;
      return m.counted(type, m.urls.add(norm, source_id, m.links));
    }
    case IndicatorType::kHash: {
      char buf[64];
      size_t n = normalize_hash_to(value, buf);
      if (n == 0) return false;
      return m.counted(type, m.hashes.add(std::string_view(buf, n), source_id, m.links));
    }
  }
  return false;
}

bool IndicatorStore::add_guess(std::string_view value, uint32_t source_id) {
  value = trim(value);
  if (value.empty()) return false;
  if (value.find("://") != std::string_view::npos) return add(IndicatorType::kUrl, value, source_id);
  char first = value.front();
  bool maybe_ip = value.find(':') != std::string_view::npos ||
                  ((first >= '0' && first <= '9') && std::all_of(value.begin(), value.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.' || c == '/'; }));
  if (maybe_ip && impl_->add_net(value, true, source_id)) return true;
  if (value.size() == 32 || value.size() == 40 || value.size() == 64) {
    if (add(IndicatorType::kHash, value, source_id)) return true;
  }
  // "evil.example/path", "198.51.100.7:8080": URLs without a scheme.
  if (find_any(value, "/?:") != std::string_view::npos) return add(IndicatorType::kUrl, value, source_id);
  // A guessed domain needs a dot: a lone word in a list is a header or a
  // typo far more often than a host name (add(kDomain, ...) takes it).
  if (value.find('.') == std::string_view::npos) return false;
  return add(IndicatorType::kDomain, value, source_id);
}

void IndicatorStore::finalize() {
  Impl& m = *impl_;
  const auto& keys = m.cidrs.keys();
  if (m.built && m.cidrs_built == keys.size()) return;
  m.v4.nodes.clear();
  m.v6.nodes.clear();
  for (size_t i = 0; i < keys.size(); ++i) {
    const NetKey& k = keys[i];
    if (k.base.is_v4()) {
      PrefixList<uint32_t>::Node n;
      range_of(k.base, k.prefix, n.lo, n.hi);
      n.key = static_cast<uint32_t>(i);
      m.v4.nodes.push_back(n);
    } else {
      PrefixList<U128>::Node n;
      range_of(k.base, k.prefix, n.lo, n.hi);
      n.key = static_cast<uint32_t>(i);
      m.v6.nodes.push_back(n);
    }
  }
  m.v4.build();
  m.v6.build();
  m.cidrs_built = keys.size();
  m.built = true;
}

void IndicatorStore::match_ip(const core::IpAddress& a, std::vector<Match>& out) const {
  const Impl& m = *impl_;
  if (const NetKey* k = m.ips.find(a, a.is_v4() ? 32 : 128)) m.emit(IndicatorType::kIp, net_string(*k), k->sources, out);
  const auto& keys = m.cidrs.keys();
  if (a.is_v4()) {
    int32_t cur = m.v4.deepest(a.v4_host_order());
    while (cur >= 0) {
      const auto& n = m.v4.nodes[static_cast<size_t>(cur)];
      m.emit(IndicatorType::kCidr, net_string(keys[n.key]), keys[n.key].sources, out);
      cur = n.parent;
    }
  } else {
    int32_t cur = m.v6.deepest(to_u128(a));
    while (cur >= 0) {
      const auto& n = m.v6.nodes[static_cast<size_t>(cur)];
      m.emit(IndicatorType::kCidr, net_string(keys[n.key]), keys[n.key].sources, out);
      cur = n.parent;
    }
  }
}

void IndicatorStore::match_domain(std::string_view name, std::vector<Match>& out) const {
  const Impl& m = *impl_;
  char buf[kMaxDomain];
  size_t n = normalize_domain_to(name, buf);
  if (n == 0) return;
  std::string_view s(buf, n);
  // The name itself, then each parent: most specific first.
  for (size_t start = 0; start < n;) {
    std::string_view probe = s.substr(start);
    if (const StrKey* k = m.domains.find(probe)) m.emit(IndicatorType::kDomain, std::string(probe), k->sources, out);
    size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
}

void IndicatorStore::match_url(std::string_view url, std::vector<Match>& out) const {
  const Impl& m = *impl_;
  // One buffer per thread: its capacity is reused, so a miss does not allocate.
  thread_local std::string norm;
  if (!normalize_url_into(url, norm)) return;
  if (const StrKey* k = m.urls.find(norm)) m.emit(IndicatorType::kUrl, norm, k->sources, out);
}

void IndicatorStore::match_hash(std::string_view hex, std::vector<Match>& out) const {
  const Impl& m = *impl_;
  char buf[64];
  size_t n = normalize_hash_to(hex, buf);
  if (n == 0) return;
  std::string_view s(buf, n);
  if (const StrKey* k = m.hashes.find(s)) m.emit(IndicatorType::kHash, std::string(s), k->sources, out);
}

size_t IndicatorStore::size() const {
  size_t n = 0;
  for (size_t c : impl_->counts) n += c;
  return n;
}

size_t IndicatorStore::size(IndicatorType t) const { return impl_->counts[static_cast<size_t>(t)]; }

size_t IndicatorStore::source_count() const { return impl_->sources.size(); }

const Source& IndicatorStore::source(uint32_t id) const {
  static const Source kNone;
  return id < impl_->sources.size() ? impl_->sources[id] : kNone;
}

std::string normalize_domain(std::string_view name) {
  char buf[kMaxDomain];
  size_t n = normalize_domain_to(name, buf);
  return std::string(buf, n);
}

std::string normalize_url(std::string_view url) {
  std::string out;
  if (!normalize_url_into(url, out)) out.clear();
  return out;
}

}  // namespace trawl::intel

#include "detect/dns_util.h"

#include "core/hash.h"
#include "detect/text.h"
#include "output/json_line.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <fstream>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace trawl::detect::dns {
namespace {

constexpr const char* kPslPath = "/usr/share/publicsuffix/public_suffix_list.dat";

// Hash sets with lookup by string_view (every DNS record asks several times).
struct SvHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// One map for the three kinds of rule, so each suffix of a name costs one
// lookup.
enum PslKind : uint8_t { kRule = 1, kWildcard = 2, kException = 4 };
using PslMap = std::unordered_map<std::string, uint8_t, SvHash, std::equal_to<>>;
struct Psl {
  bool loaded = false;
  PslMap kinds;  // "*.ck" stored as "ck" with kWildcard, "!www.ck" as "www.ck" with kException
  size_t max_dots = 0;  // of any key in kinds: a suffix with more dots needs no lookup
};

const Psl& psl() {
  static const Psl p = [] {
    Psl out;
    // The whole file at once, split by hand: getline and find_first_of cost
    // more than the rest of the load on a 10,000-line list.
    std::ifstream in(kPslPath, std::ios::binary);
    if (!in) return out;
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    if (size <= 0) return out;
    in.seekg(0, std::ios::beg);
    std::string file(static_cast<size_t>(size), '\0');
    in.read(file.data(), size);
    file.resize(static_cast<size_t>(in.gcount()));
    out.kinds.reserve(8192);
    std::string key;
    for (size_t pos = 0; pos < file.size();) {
      size_t nl = file.find('\n', pos);
      if (nl == std::string::npos) nl = file.size();
      std::string_view line(file.data() + pos, nl - pos);
      pos = nl + 1;
      if (line.starts_with("// ===END ICANN DOMAINS===")) break;
      if (line.starts_with("//")) continue;
      // One pass: the rule ends at the first blank; note non-ASCII bytes,
      // capitals and dots on the way.
      size_t end = 0;
      bool ascii = true, upper = false;
      size_t dots = 0;
      for (; end < line.size(); ++end) {
        const char c = line[end];
        if (c == ' ' || c == '\t' || c == '\r') break;
        ascii = ascii && static_cast<unsigned char>(c) < 0x80;
        upper = upper || (c >= 'A' && c <= 'Z');
        dots += c == '.';
      }
      line = line.substr(0, end);
      // Only ASCII rules: record names are ASCII (IDNs arrive as xn--).
      if (line.empty() || !ascii) continue;
      uint8_t kind = kRule;
      if (line.starts_with("!")) {
        kind = kException;
        line.remove_prefix(1);
      } else if (line.starts_with("*.")) {
        kind = kWildcard;
        line.remove_prefix(2);
        --dots;
      }
      key.assign(line);
      if (upper) {
        std::transform(key.begin(), key.end(), key.begin(),
                       [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
      }
      out.kinds[key] |= kind;
      out.max_dots = std::max(out.max_dots, dots);
      out.loaded = out.loaded || kind == kRule;
    }
    return out;
  }();
  return p;
}

// Second-level labels that ccTLDs commonly use as public suffixes, for when
// the list file is missing.
constexpr std::array<std::string_view, 16> kCcSecondLevels = {
    "ac", "co", "com", "edu", "go", "gob", "gov", "gv", "ltd", "mil", "ne", "net", "or", "org", "plc", "sch"};

// Start offsets of the labels of a name, left to right, without allocating
// (a DNS name has at most 127 labels; longer input keeps its last 128).
struct LabelStarts {
  std::array<size_t, 128> at{};
  size_t n = 0;
  size_t size() const { return n; }
  size_t operator[](size_t i) const { return at[i]; }
};
LabelStarts label_starts(std::string_view name) {
  LabelStarts out;
  out.at[out.n++] = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '.' && i + 1 < name.size()) {
      if (out.n == out.at.size()) {  // drop the leftmost label
        std::copy(out.at.begin() + 1, out.at.end(), out.at.begin());
        --out.n;
      }
      out.at[out.n++] = i + 1;
    }
  }
  return out;
}

// How many trailing labels form the public suffix.
size_t suffix_labels(std::string_view name, const LabelStarts& starts) {
  const size_t n = starts.size();
  const Psl& p = psl();
  if (!p.loaded) {
    if (n >= 2) {
      std::string_view tld = name.substr(starts[n - 1]);
      std::string_view sld = name.substr(starts[n - 2], starts[n - 1] - starts[n - 2] - 1);
      if (tld.size() == 2 && std::find(kCcSecondLevels.begin(), kCcSecondLevels.end(), sld) != kCcSecondLevels.end()) {
        return 2;
      }
    }
    return 1;
  }
  std::array<uint8_t, 128> kind{};
  for (size_t i = 0; i < n; ++i) {
    // The suffix from label i has n - 1 - i dots (the name has no trailing
    // dot); one with more dots than any key cannot match.
    if (n - 1 - i > p.max_dots) continue;
    auto it = p.kinds.find(name.substr(starts[i]));
    kind[i] = it == p.kinds.end() ? 0 : it->second;
  }
  size_t best = 1;
  for (size_t i = 0; i < n; ++i) {
    size_t labels = n - i;
    if (kind[i] & kException) return labels - 1;
    if (kind[i] & kRule) best = std::max(best, labels);
    if (i + 1 < n && (kind[i + 1] & kWildcard)) best = std::max(best, labels);
  }
  return best;
}

std::string_view trim_dot(std::string_view name) {
  while (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

constexpr std::array<std::string_view, 71> kDdnsProviders = {
    // No-IP (noip.com) free and paid host domains
    "no-ip.com", "no-ip.org", "no-ip.biz", "no-ip.info", "no-ip.net", "no-ip.ca", "no-ip.co.uk", "noip.me",
    "noip.us", "ddns.net", "hopto.org", "zapto.org", "sytes.net", "servebeer.com", "serveblog.net",
    "servecounterstrike.com", "serveftp.com", "servegame.com", "servehalflife.com", "servehttp.com",
    "serveirc.com", "serveminecraft.net", "servemp3.com", "servepics.com", "servequake.com", "myftp.org",
    "myftp.biz", "myvnc.com", "redirectme.net", "bounceme.net", "webhop.me", "viewdns.net", "ddnsking.com",
    "3utilities.com", "gotdns.ch", "onthewifi.com", "freedynamicdns.net", "freedynamicdns.org",
    // Dyn (DynDNS) legacy host domains
    "dyndns.org", "dyndns.info", "dyndns.biz", "dyndns.tv", "dyndns.ws", "homeip.net", "dynalias.com",
    "dynalias.org", "dynalias.net", "selfip.com", "selfip.net", "selfip.org", "is-a-geek.com", "is-a-geek.net",
    "is-a-geek.org", "dnsalias.com", "dnsalias.net", "dnsalias.org",
    // Others
    "3322.org", "8866.org", "2288.org", "duckdns.org", "changeip.com", "dynu.com", "dynu.net", "mooo.com",
    "afraid.org", "chickenkiller.com", "dynv6.net", "dedyn.io", "freeddns.org", "kozow.com", "spdns.de",
};

}  // namespace

bool public_suffix_list_loaded() { return psl().loaded; }

std::string_view registered_domain(std::string_view name) {
  name = trim_dot(name);
  if (name.empty()) return {};
  // The same names come back all the time (each DNS detector asks for every
  // record, and a host repeats its lookups): remember answers in a
  // direct-mapped cache of kSlots names (a new name overwrites the one in its
  // slot, so the cache holds at most kSlots names of at most kMaxCached
  // bytes). The answer is stored as an offset, so the view is into `name`.
  constexpr size_t kSlots = 4096;
  constexpr size_t kMaxCached = 127;
  constexpr uint32_t kNone = UINT32_MAX;
  struct Slot {
    std::string name;
    uint32_t offset = kNone;
  };
  thread_local std::vector<Slot> cache(kSlots);
  // The DNS detectors ask one after the other for the same record's name:
  // try the slot of the last answer before hashing.
  thread_local Slot* last = nullptr;
  auto answer = [&](const Slot& s) { return s.offset == kNone ? std::string_view{} : name.substr(s.offset); };
  if (last != nullptr && last->name == name) return answer(*last);
  Slot* slot = nullptr;
  if (name.size() <= kMaxCached) {
    slot = &cache[core::hash_bytes(name.data(), name.size()) & (kSlots - 1)];
    if (slot->name == name) {
      last = slot;
      return answer(*slot);
    }
  }
  auto starts = label_starts(name);
  size_t suffix = suffix_labels(name, starts);
  const bool none = suffix >= starts.size();
  const size_t offset = none ? 0 : starts[starts.size() - suffix - 1];
  if (slot != nullptr) {  // offset < name.size() <= kMaxCached
    slot->name.assign(name);
    slot->offset = none ? kNone : static_cast<uint32_t>(offset);
    last = slot;
  }
  return none ? std::string_view{} : name.substr(offset);
}

std::string_view registrable_label(std::string_view name) {
  std::string_view rd = registered_domain(name);
  return rd.substr(0, rd.find('.'));
}

std::string_view subdomain(std::string_view name, std::string_view registered) {
  name = trim_dot(name);
  if (registered.empty() || name.size() <= registered.size() + 1) return {};
  return name.substr(0, name.size() - registered.size() - 1);
}

bool skip_name(std::string_view name) {
  name = trim_dot(name);
  if (name.find('.') == std::string_view::npos) return true;
  return name.ends_with(".arpa") || name.ends_with(".local") || name.ends_with(".localdomain") ||
         name.ends_with(".lan") || name.ends_with(".internal") || name.ends_with(".home") ||
         name.ends_with(".corp") || name.ends_with(".localhost");
}

bool address_lookup(std::string_view name) {
  size_t pos = 0;
  for (int label = 0; label < 4; ++label) {
    size_t dot = name.find('.', pos);
    if (dot == std::string_view::npos || dot == pos || dot - pos > 3) return false;
    for (size_t i = pos; i < dot; ++i) {
      if (name[i] < '0' || name[i] > '9') return false;
    }
    pos = dot + 1;
  }
  return true;
}

bool hostname_chars(std::string_view name) {
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
  });
}

double entropy(std::string_view s) {
  if (s.empty()) return 0;
  // Counts per byte plus a bitmap of the bytes present, so the sum visits
  // only those (a name has a few dozen distinct bytes, not 256), still in
  // ascending byte order: the floating-point sum is the same as over all 256.
  std::array<uint32_t, 256> counts{};
  std::array<uint64_t, 4> seen{};
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    ++counts[b];
    seen[b >> 6] |= uint64_t{1} << (b & 63);
  }
  double h = 0;
  const double n = static_cast<double>(s.size());
  for (size_t w = 0; w < seen.size(); ++w) {
    for (uint64_t bits = seen[w]; bits != 0; bits &= bits - 1) {
      const uint32_t k = counts[w * 64 + static_cast<size_t>(std::countr_zero(bits))];
      double p = k / n;
      h -= p * std::log2(p);
    }
  }
  return h;
}

const std::vector<std::string_view>& ddns_providers() {
  static const std::vector<std::string_view> v(kDdnsProviders.begin(), kDdnsProviders.end());
  return v;
}

std::string_view ddns_provider(std::string_view name) {
  name = trim_dot(name);
  // Each proper suffix of the name, looked up in a set of the providers (no
  // provider domain ends with another, so at most one matches).
  static const std::unordered_set<std::string_view> providers(kDdnsProviders.begin(), kDdnsProviders.end());
  for (size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1)) {
    if (dot == 0) continue;
    auto it = providers.find(name.substr(dot + 1));
    if (it == providers.end()) continue;
    std::string_view host = name.substr(0, dot);
    // The provider's own web site and mail are not customer hosts.
    if (host == "www" || host == "mail" || host == "ns1" || host == "ns2" || host == "api") return {};
    return *it;
  }
  return {};
}

std::string json_string_array(const std::vector<std::string>& v) { return text::json_strings(v); }

std::string qtype_name(unsigned qtype) {
  switch (qtype) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 10: return "NULL";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    case 33: return "SRV";
    case 255: return "ANY";
    default: return "TYPE" + std::to_string(qtype);
  }
}

}  // namespace trawl::detect::dns

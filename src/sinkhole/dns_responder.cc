#include "sinkhole/dns_responder.h"

#include <algorithm>
#include <array>

#include "analyzers/dns/dns_message.h"

namespace trawl::sinkhole {

namespace {

namespace dns = analyzers::dns;
using core::ByteView;
using core::IpAddress;

constexpr size_t kHeaderLen = 12;
constexpr uint16_t kQnamePointer = 0xc000 | kHeaderLen;  // the question's name, always at 12
constexpr uint16_t kClassIn = 1;
constexpr uint16_t kClassAny = 255;
constexpr uint16_t kTypeAny = 255;
constexpr uint16_t kRcodeNoError = 0;
constexpr uint16_t kRcodeFormErr = 1;
constexpr uint16_t kRcodeNxDomain = 3;
constexpr uint16_t kRcodeNotImp = 4;
constexpr uint16_t kRcodeRefused = 5;
constexpr uint16_t kRcodeBadVers = 16;  // extended (OPT carries the upper bits)
constexpr uint32_t kSoaSerial = 2024010101;
constexpr size_t kMaxTcpMessage = 65535;

// Windows NCSI compares dns.msftncsi.com with these (its DNS probe).
constexpr std::string_view kNcsiName = "dns.msftncsi.com";
constexpr std::string_view kNcsiV4 = "131.107.255.255";
constexpr std::string_view kNcsiV6 = "fd3e:4f5a:5b81::1";

void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(std::vector<uint8_t>& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}

// "a.b.c" to wire labels, ending either in the root label or, when
// `suffix_pointer` is set, in a pointer to an already written name.
bool encode_labels(std::string_view name, std::vector<uint8_t>& out, std::optional<uint16_t> suffix_pointer) {
  size_t wire = 1;
  while (!name.empty()) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    wire += label.size() + 1;
    if (wire > 255) return false;
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  if (suffix_pointer) {
    put16(out, *suffix_pointer);
  } else {
    out.push_back(0);
  }
  return true;
}

std::vector<uint8_t> qname_ref() {
  return {static_cast<uint8_t>(kQnamePointer >> 8), static_cast<uint8_t>(kQnamePointer)};
}

// `prefix` + "." + the question name, compressed.
std::vector<uint8_t> prefixed_ref(std::string_view prefix) {
  std::vector<uint8_t> out;
  encode_labels(prefix, out, kQnamePointer);
  return out;
}

struct Rr {
  std::vector<uint8_t> owner;
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::vector<uint8_t> rdata;
};

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

// Pool slot `slot` (0-based) of `net`: the network address is skipped, and
// so is the IPv4 broadcast address by the capacity below.
IpAddress pool_address(const core::IpNetwork& net, uint64_t slot) {
  if (net.base.is_v4()) {
    const uint64_t offset = net.prefix >= 31 ? slot : slot + 1;
    return IpAddress::v4(static_cast<uint32_t>(net.base.v4_host_order() + offset));
  }
  std::array<uint8_t, 16> b = net.base.bytes();
  uint64_t carry = net.prefix >= 127 ? slot : slot + 1;
  for (size_t i = 16; i-- > 0 && carry;) {
    const uint64_t sum = b[i] + (carry & 0xff);
    b[i] = static_cast<uint8_t>(sum);
    carry = (carry >> 8) + (sum >> 8);
  }
  return IpAddress::v6(b.data());
}

uint64_t pool_capacity(const core::IpNetwork& net) {
  if (net.base.is_v4()) {
    if (net.prefix >= 31) return uint64_t{1} << (32 - std::min<uint8_t>(net.prefix, 32));
    return (uint64_t{1} << (32 - net.prefix)) - 2;
  }
  const unsigned host_bits = 128u - std::min<uint8_t>(net.prefix, 128);
  if (host_bits >= 32) return uint64_t{1} << 32;
  if (host_bits <= 1) return uint64_t{1} << host_bits;
  return (uint64_t{1} << host_bits) - 1;
}

// The slot `a` occupies in `net`, if any.
std::optional<uint64_t> pool_slot(const core::IpNetwork& net, const IpAddress& a) {
  if (a.is_v4() != net.base.is_v4() || !net.contains(a)) return std::nullopt;
  const auto& x = a.bytes();
  const auto& y = net.base.bytes();
  for (size_t i = 0; i < 8; ++i) {
    if (x[i] != y[i]) return std::nullopt;  // further than 2^64 away: never a slot
  }
  uint64_t diff = 0;
  for (size_t i = 8; i < 16; ++i) diff = (diff << 8) | x[i];
  uint64_t base = 0;
  for (size_t i = 8; i < 16; ++i) base = (base << 8) | y[i];
  diff -= base;
  const bool skip_first = a.is_v4() ? net.prefix < 31 : net.prefix < 127;
  if (skip_first) {
    if (diff == 0) return std::nullopt;
    --diff;
  }
  if (diff >= pool_capacity(net)) return std::nullopt;
  return diff;
}

std::string dashed_host(const IpAddress& a) {
  std::string out = "host-";
  if (a.is_v4()) {
    const uint32_t v = a.v4_host_order();
    for (int shift = 24; shift >= 0; shift -= 8) {
      out += std::to_string((v >> shift) & 0xff);
      if (shift) out += '-';
    }
    return out;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (uint8_t b : a.bytes()) {
    out += kHex[b >> 4];
    out += kHex[b & 0x0f];
  }
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

const DnsOverride* find_rule(const std::vector<DnsOverride>& rules, const std::string& name) {
  for (const DnsOverride& r : rules) {
    if (r.name.size() > 2 && r.name.starts_with("*.")) {
      const std::string_view suffix = std::string_view(r.name).substr(1);  // ".example.com"
      if (ends_with(name, suffix) && name.size() > suffix.size()) return &r;
    } else if (r.name == name) {
      return &r;
    }
  }
  return nullptr;
}

}  // namespace

std::string reverse_name(const IpAddress& address) {
  std::string out;
  if (address.is_v4()) {
    const uint8_t* p = address.wire_data();
    for (int i = 3; i >= 0; --i) {
      out += std::to_string(p[i]);
      out += '.';
    }
    return out + "in-addr.arpa";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  const auto& b = address.bytes();
  for (size_t i = 16; i-- > 0;) {
    out += kHex[b[i] & 0x0f];
    out += '.';
    out += kHex[b[i] >> 4];
    out += '.';
  }
  return out + "ip6.arpa";
}

std::optional<IpAddress> parse_reverse_name(std::string_view name) {
  constexpr std::string_view kV4 = ".in-addr.arpa";
  constexpr std::string_view kV6 = ".ip6.arpa";
  if (ends_with(name, kV4)) {
    name.remove_suffix(kV4.size());
    std::array<uint8_t, 4> b{};
    for (size_t i = 0; i < 4; ++i) {
      const size_t dot = name.find('.');
      const std::string_view part = name.substr(0, dot);
      if (part.empty() || part.size() > 3 || (i < 3) == (dot == std::string_view::npos)) return std::nullopt;
      unsigned v = 0;
      for (char c : part) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned>(c - '0');
      }
      if (v > 255) return std::nullopt;
      b[3 - i] = static_cast<uint8_t>(v);
      name.remove_prefix(dot == std::string_view::npos ? name.size() : dot + 1);
    }
    return IpAddress::v4(b.data());
  }
  if (ends_with(name, kV6)) {
    name.remove_suffix(kV6.size());
    if (name.size() != 63) return std::nullopt;  // 32 nibbles and 31 dots
    std::array<uint8_t, 16> b{};
    for (size_t i = 0; i < 32; ++i) {
      const char c = name[2 * i];
      if (i < 31 && name[2 * i + 1] != '.') return std::nullopt;
      uint8_t v = 0;
      if (c >= '0' && c <= '9') {
        v = static_cast<uint8_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v = static_cast<uint8_t>(c - 'a' + 10);
      } else {
        return std::nullopt;
      }
      const size_t byte = 15 - i / 2;
      b[byte] = static_cast<uint8_t>(b[byte] | ((i % 2) ? (v << 4) : v));
    }
    return IpAddress::v6(b.data());
  }
  return std::nullopt;
}

std::string check_config(const DnsResponderConfig& c) {
  if (!c.pool_v4.base.is_v4()) return "the IPv4 pool " + c.pool_v4.base.to_string() + " is not IPv4";
  if (!c.pool_v6.base.is_v6()) return "the IPv6 pool " + c.pool_v6.base.to_string() + " is not IPv6";
  if (!c.fixed_v4.is_v4()) return "the fixed IPv4 answer " + c.fixed_v4.to_string() + " is not IPv4";
  if (!c.fixed_v6.is_v6()) return "the fixed IPv6 answer " + c.fixed_v6.to_string() + " is not IPv6";
  if (c.mode == DnsResponderConfig::Mode::kPool && (c.pool_v4.prefix > 30 || c.pool_v6.prefix > 126)) {
    return "the address pools need room for more than one name (at most /30 and /126)";
  }
  for (const DnsOverride& o : c.overrides) {
    const std::string_view name = o.name.starts_with("*.") ? std::string_view(o.name).substr(2) : o.name;
    std::vector<uint8_t> wire;
    if (name.empty() || !encode_labels(name, wire, std::nullopt)) return "bad DNS override name '" + o.name + "'";
    if (!o.nxdomain && !o.v4 && !o.v6) return "DNS override '" + o.name + "' has neither an address nor NXDOMAIN";
    if (o.v4 && !o.v4->is_v4()) return "DNS override '" + o.name + "': " + o.v4->to_string() + " is not IPv4";
    if (o.v6 && !o.v6->is_v6()) return "DNS override '" + o.name + "': " + o.v6->to_string() + " is not IPv6";
  }
  return {};
}

DnsResponder::DnsResponder(DnsResponderConfig config) : config_(std::move(config)) {
  if (config_.builtin_overrides) {
    rules_.push_back({std::string(kNcsiName), false, IpAddress::parse(kNcsiV4), IpAddress::parse(kNcsiV6)});
  }
  rules_.insert(rules_.end(), config_.overrides.begin(), config_.overrides.end());
}

DnsResponder::NameState* DnsResponder::state_for(const std::string& name) {
  if (auto it = names_.find(name); it != names_.end()) return &it->second;
  const uint64_t slots = std::min(pool_capacity(config_.pool_v4), pool_capacity(config_.pool_v6));
  if (names_.size() >= config_.max_names || by_index_.size() >= slots) {
    anomalies_.add(kAnomDnsNameTableFull);
    return nullptr;
  }
  NameState st;
  if (config_.mode == DnsResponderConfig::Mode::kPool) {
    st.index = static_cast<uint32_t>(by_index_.size());
    by_index_.push_back(name);
  }
  return &names_.emplace(name, st).first->second;
}

IpAddress DnsResponder::address_for(const std::string& name, bool v6) {
  if (config_.mode == DnsResponderConfig::Mode::kFixed) {
    const IpAddress a = v6 ? config_.fixed_v6 : config_.fixed_v4;
    remember(a, name);
    return a;
  }
  const core::IpNetwork& net = v6 ? config_.pool_v6 : config_.pool_v4;
  if (const NameState* st = state_for(name)) return pool_address(net, st->index);
  // Not remembered: still the same address for the same name.
  return pool_address(net, fnv1a(name) % pool_capacity(net));
}

void DnsResponder::remember(const IpAddress& address, const std::string& name) {
  // Bounded: only fixed and override addresses come here.
  last_name_[address] = name;
}

std::optional<std::string> DnsResponder::name_for(const IpAddress& address) const {
  if (auto it = last_name_.find(address); it != last_name_.end()) return it->second;
  if (config_.mode != DnsResponderConfig::Mode::kPool) return std::nullopt;
  const auto slot = pool_slot(address.is_v4() ? config_.pool_v4 : config_.pool_v6, address);
  if (!slot || *slot >= by_index_.size()) return std::nullopt;
  return by_index_[*slot];
}

bool DnsResponder::answer_udp(ByteView query, std::vector<uint8_t>& out, DnsExchange* exchange) {
  return answer(query, 512, out, exchange);
}

bool DnsResponder::answer_tcp(ByteView query, std::vector<uint8_t>& out, DnsExchange* exchange) {
  return answer(query, kMaxTcpMessage, out, exchange);
}

bool DnsResponder::answer(ByteView query, size_t limit, std::vector<uint8_t>& out, DnsExchange* exchange) {
  out.clear();
  DnsExchange local;
  DnsExchange& ex = exchange ? *exchange : local;
  ex = {};
  // Too short to carry an id, or a response (answering responses could
  // start a loop between two responders): nothing to answer.
  if (query.size() < kHeaderLen || (query[2] & 0x80) != 0) {
    anomalies_.add(kAnomDnsDroppedQuery);
    return false;
  }
  const bool udp = limit < kMaxTcpMessage;
  const uint16_t id = core::load_be16(query.data());
  const uint8_t opcode = static_cast<uint8_t>((query[2] >> 3) & 0x0f);
  const bool rd = (query[2] & 0x01) != 0;
  ex.id = id;

  dns::DnsMessage msg;
  core::Anomalies parse_anomalies;
  const dns::ParseResult pr = dns::parse_dns_message(query, msg, parse_anomalies);

  // The question exactly as sent (case kept for 0x20 randomisation). A
  // query's only name starts at 12, so a pointer in it is malformed.
  size_t qend = kHeaderLen;
  bool wire_ok = msg.questions.size() == 1 && pr != dns::ParseResult::kError;
  while (wire_ok) {
    if (qend >= query.size() || (query[qend] & 0xc0) != 0) {
      wire_ok = false;
      break;
    }
    const uint8_t len = query[qend];
    qend += size_t{len} + 1;
    if (len == 0) break;
  }
  if (wire_ok && qend + 4 > query.size()) wire_ok = false;

  auto header = [&](uint16_t rcode, bool tc, uint16_t qd) {
    out.clear();
    put16(out, id);
    const uint16_t flags = static_cast<uint16_t>(0x8000 | (uint16_t{opcode} << 11) | 0x0400 | (tc ? 0x0200 : 0) |
                                                 (rd ? 0x0100 : 0) | 0x0080 | (rcode & 0x0f));
    put16(out, flags);
    put16(out, qd);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
  };

  if (!wire_ok) {
    // A header we can answer: say FORMERR so the client stops waiting.
    anomalies_.add(kAnomDnsMalformedQuery);
    header(kRcodeFormErr, false, 0);
    ex.rcode = kRcodeFormErr;
    ex.malformed = true;
    return true;
  }
  const dns::DnsQuestion& q = msg.questions[0];
  const ByteView question = query.subspan(kHeaderLen, qend + 4 - kHeaderLen);
  ex.query = q.name;
  ex.qtype = q.qtype;
  ex.qclass = q.qclass;
  ex.ttl = config_.ttl;

  uint16_t rcode = kRcodeNoError;
  std::vector<Rr> an, ns, ar;
  const std::vector<uint8_t> owner = qname_ref();
  const uint32_t ttl = config_.ttl;

  // "<label>.N" must stay within 255 wire bytes; when it would not, the
  // record names N itself.
  const size_t qname_wire = qend - kHeaderLen;
  auto fits = [&](std::string_view label) { return label.size() + 1 + qname_wire <= 255; };
  auto ref = [&](std::string_view label) { return fits(label) ? prefixed_ref(label) : qname_ref(); };
  auto child = [&](std::string_view label) {
    if (!fits(label)) return q.name;
    return q.name.empty() ? std::string(label) : std::string(label) + "." + q.name;
  };
  auto soa_authority = [&]() {
    Rr rr{owner, dns::kTypeSoa, std::min(ttl, uint32_t{300}), {}};
    rr.rdata = ref("ns1");
    const auto mbox = ref("hostmaster");
    rr.rdata.insert(rr.rdata.end(), mbox.begin(), mbox.end());
    put32(rr.rdata, kSoaSerial);
    put32(rr.rdata, 3600);
    put32(rr.rdata, 600);
    put32(rr.rdata, 86400);
    put32(rr.rdata, std::min(ttl, uint32_t{300}));
    ns.push_back(std::move(rr));
  };
  auto address_rr = [&](std::vector<uint8_t> rr_owner, const IpAddress& a, std::vector<Rr>& section,
                        bool log) {
    Rr rr{std::move(rr_owner), a.is_v4() ? uint16_t{dns::kTypeA} : uint16_t{dns::kTypeAaaa}, ttl, {}};
    rr.rdata.assign(a.wire_data(), a.wire_data() + a.wire_size());
    section.push_back(std::move(rr));
    if (log) ex.answers.push_back(a.to_string());
  };


  const DnsOverride* rule = find_rule(rules_, q.name);
  auto family = [&](bool v6) -> std::optional<IpAddress> {
    if (rule) {
      const auto& a = v6 ? rule->v6 : rule->v4;
      if (a) remember(*a, q.name);
      return a;
    }
    return address_for(q.name, v6);
  };

  if (opcode != 0) {
    rcode = kRcodeNotImp;
  } else if (q.qclass != kClassIn && q.qclass != kClassAny) {
    rcode = kRcodeRefused;
  } else if (rule && rule->nxdomain) {
    rcode = kRcodeNxDomain;
    soa_authority();
  } else {
    bool nx = false;
    if (config_.nxdomain_first > 0 && !rule) {
      if (NameState* st = state_for(q.name)) {
        nx = st->queries < config_.nxdomain_first;
        if (st->queries < UINT32_MAX) ++st->queries;
      }
    }
    if (nx) {
      rcode = kRcodeNxDomain;
      soa_authority();
    } else {
      switch (q.qtype) {
        case dns::kTypeA:
        case dns::kTypeAaaa:
          if (auto a = family(q.qtype == dns::kTypeAaaa)) address_rr(owner, *a, an, true);
          break;
        case kTypeAny:
          if (auto a = family(false)) address_rr(owner, *a, an, true);
          if (auto a = family(true)) address_rr(owner, *a, an, true);
          break;
        case dns::kTypeCname: {
          // www.<name>, or <name> without its "www." (so asking again
          // does not grow the name).
          Rr rr{owner, dns::kTypeCname, ttl, {}};
          if (q.name.starts_with("www.")) {
            const size_t first = query[kHeaderLen];
            put16(rr.rdata, static_cast<uint16_t>(0xc000 | (kHeaderLen + 1 + first)));
            ex.answers.push_back(q.name.substr(4));
          } else if (fits("www")) {
            rr.rdata = prefixed_ref("www");
            ex.answers.push_back(child("www"));
          } else {
            break;  // no longer name to point at: no data
          }
          an.push_back(std::move(rr));
          break;
        }
        case dns::kTypeMx: {
          Rr rr{owner, dns::kTypeMx, ttl, {}};
          put16(rr.rdata, 10);
          const auto target = ref("mail");
          rr.rdata.insert(rr.rdata.end(), target.begin(), target.end());
          an.push_back(std::move(rr));
          ex.answers.push_back(child("mail"));
          address_rr(target, address_for(child("mail"), false), ar, false);
          break;
        }
        case dns::kTypeNs: {
          const auto target = ref("ns1");
          an.push_back({owner, dns::kTypeNs, ttl, target});
          ex.answers.push_back(child("ns1"));
          address_rr(target, address_for(child("ns1"), false), ar, false);
          break;
        }
        case dns::kTypeSoa:
          soa_authority();
          an.push_back(std::move(ns.back()));
          ns.clear();
          an.back().ttl = ttl;
          ex.answers.push_back(child("ns1"));
          break;
        case dns::kTypeTxt: {
          Rr rr{owner, dns::kTypeTxt, ttl, {}};
          std::string_view rest = config_.txt;
          do {
            const std::string_view part = rest.substr(0, 255);
            rr.rdata.push_back(static_cast<uint8_t>(part.size()));
            rr.rdata.insert(rr.rdata.end(), part.begin(), part.end());
            rest.remove_prefix(part.size());
          } while (!rest.empty() && rr.rdata.size() < 65000);
          an.push_back(std::move(rr));
          ex.answers.push_back("TXT " + config_.txt);
          break;
        }
        case dns::kTypePtr: {
          std::string target = q.name;
          if (const auto a = parse_reverse_name(q.name)) {
            const auto known = name_for(*a);
            target = known ? *known : dashed_host(*a) + "." + config_.ptr_domain;
          }
          Rr rr{owner, dns::kTypePtr, ttl, {}};
          if (encode_labels(target, rr.rdata, std::nullopt)) {
            an.push_back(std::move(rr));
            ex.answers.push_back(target);
          }
          break;
        }
        default:
          break;  // no data of this type: NOERROR, SOA below
      }
      if (an.empty()) soa_authority();
    }
  }

  // EDNS: answer with our own OPT; an unknown version gets BADVERS.
  bool opt = msg.opt.present;
  if (opt && msg.opt.version != 0) rcode = kRcodeBadVers;
  if (opt && udp) limit = std::max<size_t>(512, std::min<size_t>(msg.opt.udp_payload_size, config_.max_udp_edns));
  ex.rcode = rcode;

  auto write = [&](bool with_records, bool tc) {
    header(rcode, tc, 1);
    out.insert(out.end(), question.begin(), question.end());
    uint16_t counts[3] = {0, 0, 0};
    if (with_records) {
      const std::vector<Rr>* sections[3] = {&an, &ns, &ar};
      for (size_t s = 0; s < 3; ++s) {
        for (const Rr& rr : *sections[s]) {
          if (rr.rdata.size() > 65535) continue;
          out.insert(out.end(), rr.owner.begin(), rr.owner.end());
          put16(out, rr.type);
          put16(out, kClassIn);
          put32(out, rr.ttl);
          put16(out, static_cast<uint16_t>(rr.rdata.size()));
          out.insert(out.end(), rr.rdata.begin(), rr.rdata.end());
          ++counts[s];
        }
      }
    }
    if (opt) {
      out.push_back(0);  // root owner
      put16(out, dns::kTypeOpt);
      put16(out, config_.max_udp_edns);
      out.push_back(static_cast<uint8_t>(rcode >> 4));  // extended rcode
      out.push_back(0);                                 // version
      put16(out, 0);                                    // flags
      put16(out, 0);                                    // no options
    }
    out[6] = static_cast<uint8_t>(counts[0] >> 8);
    out[7] = static_cast<uint8_t>(counts[0]);
    out[8] = static_cast<uint8_t>(counts[1] >> 8);
    out[9] = static_cast<uint8_t>(counts[1]);
    const uint16_t arcount = static_cast<uint16_t>(counts[2] + (opt ? 1 : 0));
    out[10] = static_cast<uint8_t>(arcount >> 8);
    out[11] = static_cast<uint8_t>(arcount);
  };
  write(true, false);
  if (out.size() > limit) {
    anomalies_.add(kAnomDnsTruncated);
    write(false, true);
    ex.truncated = true;
    ex.answers.clear();
  }
  return true;
}

bool DnsTcpSession::feed(ByteView data, std::vector<uint8_t>& out, std::vector<DnsExchange>* exchanges) {
  constexpr size_t kMaxBuffer = kMaxTcpMessage + 2;
  std::vector<uint8_t> answer;
  while (!closed_ && !data.empty()) {
    const size_t take = std::min(data.size(), kMaxBuffer - buffer_.size());
    buffer_.insert(buffer_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
    data = data.subspan(take);
    size_t used = 0;
    for (;;) {
      const ByteView rest = ByteView(buffer_).subspan(used);
      const size_t n = dns::dns_tcp_message_length(rest);
      if (n == 0) break;
      used += n;
      if (++queries_ > responder_.config().max_tcp_queries) {
        responder_.anomalies_.add(kAnomDnsTcpTooManyQueries);
        closed_ = true;
        break;
      }
      DnsExchange ex;
      if (responder_.answer_tcp(rest.subspan(2, n - 2), answer, &ex)) {
        put16(out, static_cast<uint16_t>(answer.size()));
        out.insert(out.end(), answer.begin(), answer.end());
        if (exchanges) exchanges->push_back(std::move(ex));
      }
    }
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(used));
  }
  return !closed_;
}

}  // namespace trawl::sinkhole

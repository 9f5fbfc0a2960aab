#include "analyzers/dns/dns_names.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace trawl::analyzers::dns {

namespace {

struct Code {
  uint16_t value;
  std::string_view name;
};

// IANA "Resource Record (RR) TYPEs" mnemonics; sorted by value.
constexpr std::array kTypes{
    Code{1, "A"},           Code{2, "NS"},          Code{3, "MD"},          Code{4, "MF"},
    Code{5, "CNAME"},       Code{6, "SOA"},         Code{7, "MB"},          Code{8, "MG"},
    Code{9, "MR"},          Code{10, "NULL"},       Code{11, "WKS"},        Code{12, "PTR"},
    Code{13, "HINFO"},      Code{14, "MINFO"},      Code{15, "MX"},         Code{16, "TXT"},
    Code{17, "RP"},         Code{18, "AFSDB"},      Code{19, "X25"},        Code{20, "ISDN"},
    Code{21, "RT"},         Code{22, "NSAP"},       Code{23, "NSAP-PTR"},   Code{24, "SIG"},
    Code{25, "KEY"},        Code{26, "PX"},         Code{27, "GPOS"},       Code{28, "AAAA"},
    Code{29, "LOC"},        Code{30, "NXT"},        Code{31, "EID"},        Code{32, "NIMLOC"},
    Code{33, "SRV"},        Code{34, "ATMA"},       Code{35, "NAPTR"},      Code{36, "KX"},
    Code{37, "CERT"},       Code{38, "A6"},         Code{39, "DNAME"},      Code{40, "SINK"},
    Code{41, "OPT"},        Code{42, "APL"},        Code{43, "DS"},         Code{44, "SSHFP"},
    Code{45, "IPSECKEY"},   Code{46, "RRSIG"},      Code{47, "NSEC"},       Code{48, "DNSKEY"},
    Code{49, "DHCID"},      Code{50, "NSEC3"},      Code{51, "NSEC3PARAM"}, Code{52, "TLSA"},
    Code{53, "SMIMEA"},     Code{55, "HIP"},        Code{56, "NINFO"},      Code{57, "RKEY"},
    Code{58, "TALINK"},     Code{59, "CDS"},        Code{60, "CDNSKEY"},    Code{61, "OPENPGPKEY"},
    Code{62, "CSYNC"},      Code{63, "ZONEMD"},     Code{64, "SVCB"},       Code{65, "HTTPS"},
    Code{99, "SPF"},        Code{100, "UINFO"},     Code{101, "UID"},       Code{102, "GID"},
    Code{103, "UNSPEC"},    Code{104, "NID"},       Code{105, "L32"},       Code{106, "L64"},
    Code{107, "LP"},        Code{108, "EUI48"},     Code{109, "EUI64"},     Code{249, "TKEY"},
    Code{250, "TSIG"},      Code{251, "IXFR"},      Code{252, "AXFR"},      Code{253, "MAILB"},
    Code{254, "MAILA"},     Code{255, "*"},         Code{256, "URI"},       Code{257, "CAA"},
    Code{32768, "TA"},      Code{32769, "DLV"},     Code{65281, "WINS"},    Code{65282, "WINS-R"},
    Code{65422, "XPF"},     Code{65521, "INTEGRITY"},
};

constexpr std::array kClasses{
    Code{1, "C_INTERNET"}, Code{2, "C_CSNET"}, Code{3, "C_CHAOS"},
    Code{4, "C_HESIOD"},   Code{254, "C_NONE"}, Code{255, "C_ANY"},
};

// RFC 1035/2136/6895 rcodes, 16 and up from EDNS and TSIG; Zeek writes
// 8 as "NXRRSet".
constexpr std::array kRcodes{
    Code{0, "NOERROR"},        Code{1, "FORMERR"},        Code{2, "SERVFAIL"},       Code{3, "NXDOMAIN"},
    Code{4, "NOTIMP"},         Code{5, "REFUSED"},        Code{6, "YXDOMAIN"},       Code{7, "YXRRSET"},
    Code{8, "NXRRSet"},        Code{9, "NOTAUTH"},        Code{10, "NOTZONE"},       Code{11, "unassigned-11"},
    Code{12, "unassigned-12"}, Code{13, "unassigned-13"}, Code{14, "unassigned-14"}, Code{15, "unassigned-15"},
    Code{16, "BADVERS"},       Code{17, "BADKEY"},        Code{18, "BADTIME"},       Code{19, "BADMODE"},
    Code{20, "BADNAME"},       Code{21, "BADALG"},        Code{22, "BADTRUNC"},      Code{23, "BADCOOKIE"},
    Code{3842, "BADSIG"},
};

template <size_t N>
std::string lookup(const std::array<Code, N>& table, uint16_t value, std::string_view fallback_prefix) {
  auto it = std::lower_bound(table.begin(), table.end(), value,
                             [](const Code& c, uint16_t v) { return c.value < v; });
  if (it != table.end() && it->value == value) return std::string(it->name);
  std::string out(fallback_prefix);
  out += std::to_string(value);
  return out;
}

template <size_t N>
constexpr bool sorted(const std::array<Code, N>& t) {
  for (size_t i = 1; i < N; ++i) {
    if (t[i - 1].value >= t[i].value) return false;
  }
  return true;
}
static_assert(sorted(kTypes) && sorted(kClasses) && sorted(kRcodes));

}  // namespace

std::string qtype_name(uint16_t qtype) { return lookup(kTypes, qtype, "query-"); }
std::string qclass_name(uint16_t qclass) { return lookup(kClasses, qclass, "qclass-"); }
std::string rcode_name(uint16_t rcode) { return lookup(kRcodes, rcode, "rcode-"); }

}  // namespace trawl::analyzers::dns

#include "analyzers/rdp/rdp_names.h"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace trawl::analyzers::rdp {

namespace {

struct Entry {
  uint32_t value;
  std::string_view name;
};

template <size_t N>
std::string lookup(const Entry (&table)[N], uint32_t v, std::string_view fallback) {
  for (const Entry& e : table) {
    if (e.value == v) return std::string(e.name);
  }
  return std::string(fallback) + "-" + std::to_string(v);
}

// MS-RDPBCGR 2.2.1.2.1 (selectedProtocol) and 2.2.1.1.1 (requestedProtocols).
constexpr Entry kProtocols[] = {
    {0x00, "RDP"}, {0x01, "SSL"}, {0x02, "HYBRID"}, {0x04, "RDSTLS"}, {0x08, "HYBRID_EX"}, {0x10, "RDSAAD"},
};

// MS-RDPBCGR 2.2.1.2.2 failureCode.
constexpr Entry kFailures[] = {
    {1, "SSL_REQUIRED_BY_SERVER"},   {2, "SSL_NOT_ALLOWED_BY_SERVER"},
    {3, "SSL_CERT_NOT_ON_SERVER"},   {4, "INCONSISTENT_FLAGS"},
    {5, "HYBRID_REQUIRED_BY_SERVER"}, {6, "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER"},
};

// T.124 ConferenceCreateResponse result.
constexpr Entry kResults[] = {
    {0, "Success"}, {1, "User rejected"}, {2, "Resources not available"},
    {3, "Rejected for symmetry breaking"}, {4, "Locked conference"},
};

// mstsc build numbers of the Windows releases that shipped each RDP version.
constexpr Entry kBuilds[] = {
    {419, "RDP 4.0"},  {2195, "RDP 5.0"}, {2221, "RDP 5.0"}, {2600, "RDP 5.1"},       {3790, "RDP 5.2"},
    {6000, "RDP 6.0"}, {6001, "RDP 6.1"}, {6002, "RDP 6.2"}, {7600, "RDP 7.0"},       {7601, "RDP 7.1"},
    {9200, "RDP 8.0"}, {9600, "RDP 8.1"}, {25189, "RDP 8.0 (Mac)"}, {25282, "RDP 8.0 (Mac)"},
};

// Windows keyboard layouts (the low word is the language id, LCID) most seen
// on the wire; others are written as Zeek does for unknown ones.
constexpr Entry kLayouts[] = {
    {0x0401, "Arabic - Saudi Arabia"},
    {0x0402, "Bulgarian"},
    {0x0403, "Catalan"},
    {0x0404, "Chinese - Taiwan"},
    {0x0405, "Czech"},
    {0x0406, "Danish"},
    {0x0407, "German - Germany"},
    {0x0408, "Greek"},
    {0x0409, "English - United States"},
    {0x040a, "Spanish - Spain (Traditional Sort)"},
    {0x040b, "Finnish"},
    {0x040c, "French - France"},
    {0x040d, "Hebrew"},
    {0x040e, "Hungarian"},
    {0x040f, "Icelandic"},
    {0x0410, "Italian - Italy"},
    {0x0411, "Japanese"},
    {0x0412, "Korean"},
    {0x0413, "Dutch - Netherlands"},
    {0x0414, "Norwegian (Bokmal)"},
    {0x0415, "Polish"},
    {0x0416, "Portuguese - Brazil"},
    {0x0418, "Romanian"},
    {0x0419, "Russian"},
    {0x041a, "Croatian"},
    {0x041b, "Slovak"},
    {0x041d, "Swedish"},
    {0x041e, "Thai"},
    {0x041f, "Turkish"},
    {0x0421, "Indonesian"},
    {0x0422, "Ukrainian"},
    {0x0423, "Belarusian"},
    {0x0424, "Slovenian"},
    {0x0425, "Estonian"},
    {0x0426, "Latvian"},
    {0x0427, "Lithuanian"},
    {0x0429, "Farsi"},
    {0x042a, "Vietnamese"},
    {0x042d, "Basque"},
    {0x0439, "Hindi"},
    {0x043e, "Malay - Malaysia"},
    {0x0804, "Chinese - People's Republic of China"},
    {0x0807, "German - Switzerland"},
    {0x0809, "English - United Kingdom"},
    {0x080a, "Spanish - Mexico"},
    {0x080c, "French - Belgium"},
    {0x0810, "Italian - Switzerland"},
    {0x0813, "Dutch - Belgium"},
    {0x0814, "Norwegian (Nynorsk)"},
    {0x0816, "Portuguese - Portugal"},
    {0x081a, "Serbian (Latin)"},
    {0x0c07, "German - Austria"},
    {0x0c09, "English - Australia"},
    {0x0c0a, "Spanish - Spain (Modern Sort)"},
    {0x0c0c, "French - Canada"},
    {0x0c1a, "Serbian (Cyrillic)"},
    {0x1009, "English - Canada"},
    {0x100c, "French - Switzerland"},
    {0x1409, "English - New Zealand"},
    {0x1809, "English - Ireland"},
    {0x1c09, "English - South Africa"},
    {0x2c0a, "Spanish - Argentina"},
    {0x4009, "English - India"},
    {0x10409, "English - United States (Dvorak)"},
    {0x20409, "English - United States (International)"},
};

constexpr Entry kHighColorDepths[] = {
    {0x04, "4bit"}, {0x08, "8bit"}, {0x0f, "15bit"}, {0x10, "16bit"}, {0x18, "24bit"},
};

// MS-RDPBCGR 2.2.1.4.3: ENCRYPTION_METHOD_* (FIPS is 0x10).
constexpr Entry kMethods[] = {
    {0x00, "None"}, {0x01, "40bit"}, {0x02, "128bit"}, {0x08, "56bit"}, {0x10, "FIPS"},
};

constexpr Entry kLevels[] = {
    {0, "None"}, {1, "Low"}, {2, "Client compatible"}, {3, "High"}, {4, "FIPS"},
};

constexpr Entry kCertTypes[] = {{1, "RSA"}, {2, "X.509"}};

}  // namespace

std::string security_protocol_name(uint32_t p) { return lookup(kProtocols, p, "security_protocol"); }

std::vector<std::string> requested_protocol_names(uint32_t flags) {
  std::vector<std::string> out;
  if (flags == 0) {
    out.emplace_back("RDP");
    return out;
  }
  for (uint32_t bit = 1; bit != 0; bit <<= 1) {
    if ((flags & bit) != 0) out.push_back(lookup(kProtocols, bit, "security_protocol"));
  }
  return out;
}

std::string failure_code_name(uint32_t code) { return lookup(kFailures, code, "failure_code"); }
std::string result_name(uint32_t result) { return lookup(kResults, result, "result"); }
std::string client_build_name(uint32_t build) { return lookup(kBuilds, build, "client_build"); }

std::string keyboard_layout_name(uint32_t layout) {
  for (const Entry& e : kLayouts) {
    if (e.value == layout) return std::string(e.name);
  }
  // Zeek: a layout variant of a known language is named after the language.
  for (const Entry& e : kLayouts) {
    if (e.value == (layout & 0xffffu)) {
      return std::string(e.name) + " (Best Guess for " + std::to_string(layout) + ")";
    }
  }
  return "keyboard-" + std::to_string(layout);
}

std::string high_color_depth_name(uint16_t depth) { return lookup(kHighColorDepths, depth, "high_color_depth"); }
std::string encryption_method_name(uint32_t method) { return lookup(kMethods, method, "encryption_method"); }
std::string encryption_level_name(uint32_t level) { return lookup(kLevels, level, "encryption_level"); }
std::string cert_type_name(uint32_t type) { return lookup(kCertTypes, type, "cert_type"); }

}  // namespace trawl::analyzers::rdp

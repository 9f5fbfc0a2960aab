// Fuzz target for the text feed parsers (intel/feeds_text.cc) and the
// IndicatorStore they fill. The input goes through parse_feed (format sniffed,
// JSON handed to the JSON parsers) and through each text parser directly; the
// store is then finalized and probed with pieces of the input. Checks: no
// crash, counts add up, every match has a source, and normalize_url /
// normalize_domain are idempotent.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "intel/feeds.h"
#include "intel/indicator_store.h"

namespace {

using namespace trawl::intel;

void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "intel_text_feed_fuzz: %s failed for '%.*s'\n", what, static_cast<int>(std::min<size_t>(input.size(), 200)),
               input.data());
  __builtin_trap();
}
#define CHECK(cond, input) \
  do {                     \
    if (!(cond)) fail(#cond, input); \
  } while (0)

void check_matches(const std::vector<Match>& m, std::string_view input) {
  for (const auto& x : m) CHECK(x.source != nullptr && !x.indicator.empty(), input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  IndicatorStore store;
  LoadReport report;
  parse_feed("fuzz.txt", bytes, store, report);
  parse_list("fuzz.list", bytes, store, report);
  parse_feodo_csv("fuzz.feodo", bytes, store, report);
  parse_urlhaus_csv("fuzz.urlhaus", bytes, store, report);
  parse_misp_csv("fuzz.misp", bytes, store, report);
  store.finalize();
  CHECK(report.errors.size() <= LoadReport::kMaxErrors && report.errors.size() <= report.errors_total, bytes);
  size_t per_type = 0;
  for (auto t : {IndicatorType::kIp, IndicatorType::kCidr, IndicatorType::kDomain, IndicatorType::kUrl,
                 IndicatorType::kHash}) {
    per_type += store.size(t);
  }
  CHECK(per_type == store.size(), bytes);

  // Probe with every line of the input (bounded), as each kind of value.
  std::vector<Match> m;
  size_t pos = 0;
  for (int lines = 0; pos < bytes.size() && lines < 256; ++lines) {
    size_t eol = bytes.find('\n', pos);
    std::string_view line = bytes.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? bytes.size() : eol + 1;
    m.clear();
    store.match_domain(line, m);
    store.match_url(line, m);
    store.match_hash(line, m);
    if (!line.empty()) {
      if (auto a = trawl::core::IpAddress::parse(line)) store.match_ip(*a, m);
    }
    check_matches(m, line);
    std::string u = normalize_url(line);
    if (!u.empty()) CHECK(normalize_url(u) == u, line);
    std::string d = normalize_domain(line);
    if (!d.empty()) CHECK(normalize_domain(d) == d, line);
  }
  // Raw bytes as addresses, so the prefix search sees arbitrary values.
  for (size_t i = 0; i + 16 <= size && i < 512; i += 16) {
    m.clear();
    store.match_ip(trawl::core::IpAddress::v6(data + i), m);
    store.match_ip(trawl::core::IpAddress::v4(data + i), m);
    check_matches(m, bytes);
  }
  return 0;
}

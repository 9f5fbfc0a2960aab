// Fuzz target for the JSON feed parsers (feeds_json.cc). The input goes
// through parse_json_feed and each format's parser directly (they must not
// crash on the other formats either), then, wrapped as the pattern of a STIX
// indicator, through the STIX pattern parser. The store is finalized and
// queried so that anything kept is read back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.h"
#include "intel/feeds.h"
#include "intel/indicator_store.h"

namespace {

using trawl::intel::IndicatorStore;
using trawl::intel::LoadReport;
using trawl::intel::Match;

volatile uint64_t g_sink;

uint64_t touch(const std::string& s) {
  uint64_t sum = s.size();
  for (char c : s) sum += static_cast<unsigned char>(c);
  return sum;
}

void check(IndicatorStore& store, const LoadReport& report) {
  if (report.errors.size() > LoadReport::kMaxErrors || report.errors.size() > report.errors_total) __builtin_trap();
  // indicators counts every accepted add; the store keeps one per source.
  if (store.size() > report.indicators) __builtin_trap();
  store.finalize();
  uint64_t sum = report.skipped;
  for (const auto& e : report.errors) sum += touch(e.file) + touch(e.message) + e.line;
  for (size_t i = 0; i < store.source_count(); ++i) {
    const auto& s = store.source(static_cast<uint32_t>(i));
    sum += touch(s.feed) + touch(s.format) + touch(s.name) + touch(s.first_seen) + touch(s.last_seen) +
           touch(s.reference);
    for (const std::string& t : s.tags) sum += touch(t);
  }
  std::vector<Match> out;
  for (const char* a : {"198.51.100.7", "203.0.113.9", "2001:db8::1"}) {
    store.match_ip(*trawl::core::IpAddress::parse(a), out);
  }
  store.match_domain("a.evil.example", out);
  store.match_url("http://evil.example/gate.php", out);
  store.match_hash("00112233445566778899aabbccddeeff", out);
  for (const Match& m : out) {
    if (m.source == nullptr) __builtin_trap();
    sum += touch(m.indicator) + touch(m.source->name);
  }
  g_sink = g_sink + sum;
}

using Parser = void (*)(std::string_view, std::string_view, IndicatorStore&, LoadReport&);

void run(Parser p, std::string_view bytes) {
  IndicatorStore store;
  LoadReport report;
  p("fuzz.json", bytes, store, report);
  check(store, report);
}

// The bytes as a JSON string literal: every byte outside printable ASCII, and
// the quote and backslash, as \u00XX.
std::string json_string(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(ch);
    } else {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  {
    IndicatorStore store;
    LoadReport report;
    const bool claimed = trawl::intel::parse_json_feed("fuzz.json", bytes, store, report);
    if (!claimed && (report.errors_total != 0 || report.indicators != 0)) __builtin_trap();
    check(store, report);
  }
  run(trawl::intel::parse_stix, bytes);
  run(trawl::intel::parse_misp_event, bytes);
  run(trawl::intel::parse_otx_pulses, bytes);
  if (size <= 4096) {
    const std::string bundle = R"({"type":"bundle","objects":[{"type":"indicator","id":"indicator--f","pattern":)" +
                               json_string(bytes) + "}]}";
    run(trawl::intel::parse_stix, bundle);
  }
  return 0;
}

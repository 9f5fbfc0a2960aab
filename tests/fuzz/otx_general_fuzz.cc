// Fuzz target for intel::parse_otx_general: an OTX /general answer from a
// hostile or broken server. Every string kept is read so that a bad copy is
// caught, and the limits on what is kept are checked.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "intel/otx.h"

namespace {

volatile uint64_t g_sink;

uint64_t touch(const std::string& s) {
  uint64_t sum = s.size();
  for (char c : s) sum += static_cast<unsigned char>(c);
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  trawl::intel::OtxVerdict v;
  bool ok = trawl::intel::parse_otx_general(body, v);
  uint64_t sum = ok ? v.pulse_count : touch(v.error);
  if (v.pulses.size() > 20 || (ok && v.pulse_count < v.pulses.size())) std::abort();
  for (const auto& p : v.pulses) {
    sum += touch(p.id) + touch(p.name) + touch(p.created) + touch(p.modified) + touch(p.adversary);
    for (const auto& t : p.tags) sum += touch(t);
    for (const auto& f : p.malware_families) sum += touch(f);
    if (p.name.size() > 512 || p.tags.size() > 32 || p.malware_families.size() > 16) std::abort();
  }
  g_sink = sum;
  return 0;
}

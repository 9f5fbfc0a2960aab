// Fuzz target for reading records back from JSON (store/record_json.h): the
// first byte picks the log (conn, arp, each analyzer log, a finding), the
// rest is the line. A line that reads must write out again, and reading that
// output must give the same text (the round trip is stable); a line that
// does not read must come with a message. Never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/record_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trawl::store;
  if (size == 0) return 0;
  const auto& logs = analyzer_logs();
  const size_t choices = logs.size() + 3;
  const size_t pick = data[0] % choices;
  std::string_view line(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string err;
  if (pick == choices - 1) {
    trawl::detect::Finding f;
    if (!finding_from_json(line, f, err) && err.empty()) std::abort();
    return 0;
  }
  std::string_view log = pick < logs.size() ? logs[pick] : (pick == logs.size() ? "conn" : "arp");
  TypedRecord t;
  if (!typed_from_json(log, line, t, err)) {
    if (err.empty()) std::abort();
    return 0;
  }
  std::string once = typed_to_json(t);
  TypedRecord t2;
  std::string err2;
  if (!typed_from_json(log, once, t2, err2)) std::abort();
  if (typed_to_json(t2) != once) std::abort();
  return 0;
}

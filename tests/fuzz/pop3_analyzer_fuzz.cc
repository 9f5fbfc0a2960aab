// Fuzz target for the pop3 analyzer: one TCP connection's transcript (both
// directions, gaps, stream ends) through a Dispatcher on port 110, or
// straight into Pop3Analyzer with default or small limits. Layout and checks:
// mail_session_fuzz.h.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "analyzers/pop3/pop3_analyzer.h"
#include "mail_session_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  trawl::fuzz::run_mail_session(data, size, 110, [](trawl::analyzers::Context& ctx, bool small) {
    trawl::analyzers::pop3::Pop3Limits l;
    if (small) {
      l.max_line = 40;
      l.max_pending = 3;
      l.max_commands = 50;
      l.max_bad_lines = 2;
    }
    return std::unique_ptr<trawl::analyzers::Analyzer>(std::make_unique<trawl::analyzers::pop3::Pop3Analyzer>(ctx, l));
  });
  return 0;
}

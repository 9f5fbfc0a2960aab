// Fuzz target for the imap analyzer: one TCP connection's transcript (both
// directions, gaps, stream ends) through a Dispatcher on port 143, or
// straight into ImapAnalyzer with default or small limits. Layout and checks:
// mail_session_fuzz.h.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "analyzers/imap/imap_analyzer.h"
#include "mail_session_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  trawl::fuzz::run_mail_session(data, size, 143, [](trawl::analyzers::Context& ctx, bool small) {
    trawl::analyzers::imap::ImapLimits l;
    if (small) {
      l.max_line = 40;
      l.max_args = 32;
      l.max_captured_literal = 8;
      l.max_literal = 5000;
      l.max_pending = 3;
      l.max_commands = 50;
      l.max_bad_lines = 2;
    }
    return std::unique_ptr<trawl::analyzers::Analyzer>(std::make_unique<trawl::analyzers::imap::ImapAnalyzer>(ctx, l));
  });
  return 0;
}

// Fuzz target for the ftp analyzer: one TCP connection's transcript (both
// directions, gaps, stream ends) through a Dispatcher on port 21, or
// straight into FtpAnalyzer with default or small limits. Layout and checks:
// mail_session_fuzz.h.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "analyzers/ftp/ftp_analyzer.h"
#include "mail_session_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  trawl::fuzz::run_mail_session(data, size, 21, [](trawl::analyzers::Context& ctx, bool small) {
    trawl::analyzers::ftp::FtpLimits l;
    if (small) {
      l.max_line = 40;
      l.max_pending = 3;
      l.max_commands = 50;
      l.max_bad_lines = 2;
      l.max_cwd = 24;
    }
    return std::unique_ptr<trawl::analyzers::Analyzer>(std::make_unique<trawl::analyzers::ftp::FtpAnalyzer>(ctx, l));
  });
  return 0;
}

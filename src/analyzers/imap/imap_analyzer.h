// ImapAnalyzer: one IMAP4 session. Tagged commands are matched to their
// tagged responses (any order, bounded) and logged in imap.jsonl; untagged
// responses are skipped; literals ({N}, {N+}, ~{N}) are skipped by counting on
// both sides (small client literals are kept as argument text); LOGIN and
// AUTHENTICATE attempts go to auth.jsonl; STARTTLS answered OK hands the
// connection to the "ssl" analyzer.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "analyzers/analyzer.h"
#include "analyzers/common/line_reader.h"
#include "analyzers/imap/imap_parser.h"
#include "analyzers/imap/imap_record.h"
#include "analyzers/pop3/sasl.h"
#include "core/anomalies.h"

namespace trawl::analyzers::imap {

inline const core::AnomalyId kAnomLineTooLong{"imap.line_too_long"};
inline const core::AnomalyId kAnomCommandTooLong{"imap.command_too_long"};
inline const core::AnomalyId kAnomBadCommand{"imap.bad_command"};
inline const core::AnomalyId kAnomBadResponse{"imap.bad_response"};
inline const core::AnomalyId kAnomUnmatchedResponse{"imap.unmatched_response"};
inline const core::AnomalyId kAnomTooManyPending{"imap.too_many_pending"};
inline const core::AnomalyId kAnomTooManyCommands{"imap.too_many_commands"};
inline const core::AnomalyId kAnomBadLiteral{"imap.bad_literal"};
inline const core::AnomalyId kAnomLiteralTooLarge{"imap.literal_too_large"};
inline const core::AnomalyId kAnomBadSasl{"imap.bad_sasl"};
inline const core::AnomalyId kAnomNotImap{"imap.not_imap"};

struct ImapLimits {
  size_t max_line = 16384;              // one line (longer: truncated, anomaly)
  size_t max_args = 4096;               // argument text kept per command (longer: cut, anomaly)
  size_t max_captured_literal = 1024;   // client literals up to this size are kept as argument text
  uint64_t max_literal = 1ull << 32;    // larger literals: give up (anomaly)
  size_t max_pending = 128;             // commands waiting for their tagged response
  uint64_t max_commands = 100000;       // per connection (more: give up)
  uint32_t max_bad_lines = 16;          // consecutive lines that are not IMAP (more: give up)
};

class ImapAnalyzer final : public Analyzer {
 public:
  explicit ImapAnalyzer(Context& ctx, const ImapLimits& limits = {});

  void data(bool is_orig, core::ByteView bytes, core::Timestamp ts) override;
  void gap(bool is_orig, uint64_t bytes, core::Timestamp ts) override;
  void finish(core::Timestamp ts) override;

 private:
  struct Pending {
    std::unique_ptr<ImapRecord> rec;
    std::string args;  // argument text being assembled (small literals as quoted strings)
    bool rendered = false;
    std::string login_user;
    std::unique_ptr<pop3::SaslExchange> sasl;  // AUTHENTICATE
  };
  // One direction's framing state.
  struct Side {
    explicit Side(size_t max_line) : lines(max_line) {}
    LineReader lines;
    bool drop_partial = false;  // the next line starts inside a gap: drop it
    bool in_literal = false;
    uint64_t literal_left = 0;
    bool continuing = false;    // a literal ended: the next line continues the same message
  };

  bool on_client_line(std::string_view line, bool truncated, core::Timestamp ts);
  bool on_server_line(std::string_view line, bool truncated);
  // The line ends with a literal marker: enter literal mode (true) or not.
  bool start_literal(bool is_orig, std::string_view line);
  void client_literal_bytes(core::ByteView bytes);
  void end_client_literal();
  void finish_client_command();
  void render(Pending& p);
  void append_args(Pending& p, std::string_view text);
  void complete(size_t index, std::string_view status, std::string_view text);
  void emit_pending(size_t index, bool answered, bool ok);
  void bad_line(const core::AnomalyId& id, uint32_t& counter);
  void stop();

  Context& ctx_;
  ImapLimits limits_;
  Side side_[2];  // [0] client, [1] server
  bool wait_sync_ = false;  // the client's literal is sent after the server's "+"
  bool capture_ = false;    // keep the client literal's bytes
  std::string literal_buf_;
  uint64_t literal_size_ = 0;
  std::deque<Pending> pending_;
  bool client_in_command_ = false;  // pending_.back() is still being sent (literals)
  std::string sasl_tag_;            // AUTHENTICATE waiting for its tagged response
  std::string idle_tag_;            // IDLE waiting for DONE and its tagged response
  bool stopped_ = false;
  uint64_t commands_ = 0;
  uint32_t bad_client_lines_ = 0;
  uint32_t bad_server_lines_ = 0;
  std::string user_;
};

}  // namespace trawl::analyzers::imap

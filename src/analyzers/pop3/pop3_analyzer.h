// Pop3Analyzer: one POP3 session. Commands are queued (RFC 2449 PIPELINING)
// and each is logged with its status line in pop3.jsonl; multi-line responses
// are skipped by counting; USER/PASS, APOP and AUTH (SASL) attempts go to
// auth.jsonl; STLS answered +OK hands the connection to the "ssl" analyzer.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "analyzers/analyzer.h"
#include "analyzers/common/line_reader.h"
#include "analyzers/pop3/pop3_parser.h"
#include "analyzers/pop3/pop3_record.h"
#include "analyzers/pop3/sasl.h"
#include "core/anomalies.h"

namespace trawl::analyzers::pop3 {

inline const core::AnomalyId kAnomLineTooLong{"pop3.line_too_long"};
inline const core::AnomalyId kAnomBadCommand{"pop3.bad_command"};
inline const core::AnomalyId kAnomBadReply{"pop3.bad_reply"};
inline const core::AnomalyId kAnomUnexpectedReply{"pop3.unexpected_reply"};
inline const core::AnomalyId kAnomTooManyPending{"pop3.too_many_pending"};
inline const core::AnomalyId kAnomTooManyCommands{"pop3.too_many_commands"};
inline const core::AnomalyId kAnomBadSasl{"pop3.bad_sasl"};
inline const core::AnomalyId kAnomNotPop3{"pop3.not_pop3"};

struct Pop3Limits {
  size_t max_line = 8192;          // command, status or SASL line (longer: truncated, anomaly)
  size_t max_pending = 64;         // pipelined commands waiting for a response
  uint64_t max_commands = 100000;  // per connection (more: give up)
  uint32_t max_bad_lines = 16;     // consecutive lines that are not POP3 (more: give up)
};

class Pop3Analyzer final : public Analyzer {
 public:
  explicit Pop3Analyzer(Context& ctx, const Pop3Limits& limits = {});

  void data(bool is_orig, core::ByteView bytes, core::Timestamp ts) override;
  void gap(bool is_orig, uint64_t bytes, core::Timestamp ts) override;
  void finish(core::Timestamp ts) override;

 private:
  struct Pending {
    std::unique_ptr<Pop3Record> rec;
    bool multiline = false;              // a +OK answer is multi-line
    std::string login_user;              // USER / APOP: the name; PASS: the USER before it
    std::string password;                // PASS, kept only when revealed
    std::unique_ptr<SaslExchange> sasl;  // AUTH <mechanism>
    bool sasl_open = false;              // client lines are SASL responses until the status
  };

  bool on_client_line(std::string_view line, bool truncated, core::Timestamp ts);
  bool on_server_line(std::string_view line, bool truncated);
  void complete(Pending& p, bool answered, bool ok);
  void finish_body();
  void emit_unanswered();
  void emit_auth(const Pending& p, std::string_view method, std::string_view user, bool answered, bool ok);
  void bad_line(const core::AnomalyId& id, uint32_t& counter);
  bool sasl_active() const { return !pending_.empty() && pending_.back().sasl_open; }

  Context& ctx_;
  Pop3Limits limits_;
  LineReader lines_[2];                    // [0] client, [1] server
  bool drop_partial_[2] = {false, false};  // the next line starts inside a gap: drop it
  std::deque<Pending> pending_;
  MultilineScanner body_;
  bool in_body_ = false;
  Pending body_owner_;  // the command whose multi-line response is being read
  bool greeted_ = false;
  bool stopped_ = false;
  uint64_t commands_ = 0;
  uint32_t bad_client_lines_ = 0;
  uint32_t bad_server_lines_ = 0;
  std::string user_;       // the session's user (USER, APOP or a successful AUTH)
  std::string last_user_;  // the last USER argument (for PASS)
};

}  // namespace trawl::analyzers::pop3

// SmtpAnalyzer: the per-connection SMTP state machine. Client commands and
// server replies are matched through a queue (RFC 2920 pipelining); DATA and
// BDAT content goes through the MIME walker; AUTH exchanges become auth.jsonl
// records; each mail transaction becomes one smtp.jsonl record, as Zeek's
// smtp.log; STARTTLS hands the connection to the ssl analyzer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "analyzers/analyzer.h"
#include "analyzers/common/auth_record.h"
#include "analyzers/common/line_reader.h"
#include "analyzers/smtp/mime.h"
#include "analyzers/smtp/smtp_parser.h"
#include "analyzers/smtp/smtp_record.h"

namespace trawl::analyzers::smtp {

inline const core::AnomalyId kAnomCommandTooLong{"smtp.command_too_long"};
inline const core::AnomalyId kAnomReplyTooLong{"smtp.reply_too_long"};
inline const core::AnomalyId kAnomDataLineTooLong{"smtp.data_line_too_long"};
inline const core::AnomalyId kAnomTooManyRecipients{"smtp.too_many_recipients"};
inline const core::AnomalyId kAnomTooManyTo{"smtp.too_many_to_addresses"};
inline const core::AnomalyId kAnomTooManyCc{"smtp.too_many_cc_addresses"};
inline const core::AnomalyId kAnomPathTooLong{"smtp.path_too_long"};
inline const core::AnomalyId kAnomTooManyMessages{"smtp.too_many_messages"};
inline const core::AnomalyId kAnomTooManyAuth{"smtp.too_many_auth_attempts"};
inline const core::AnomalyId kAnomTooManyPending{"smtp.too_many_pending_commands"};
inline const core::AnomalyId kAnomUnmatchedReply{"smtp.unmatched_reply"};
inline const core::AnomalyId kAnomBadReply{"smtp.bad_reply_line"};
inline const core::AnomalyId kAnomBadCommand{"smtp.bad_command"};
inline const core::AnomalyId kAnomNotSmtp{"smtp.not_smtp"};
inline const core::AnomalyId kAnomBadAuthResponse{"smtp.bad_auth_response"};
inline const core::AnomalyId kAnomBadBdat{"smtp.bad_bdat"};
inline const core::AnomalyId kAnomGap{"smtp.content_gap"};
inline const core::AnomalyId kAnomDataGap{"smtp.data_gap"};
inline const core::AnomalyId kAnomTransactionInvalid{"smtp.mail_transaction_invalid"};

struct SmtpLimits {
  size_t max_command_line = 4096;  // longer command lines are truncated
  size_t max_reply_line = 4096;
  size_t max_data_line = 8192;     // only counted: content lines are streamed, never kept
  size_t max_recipients = 10000;   // unique RCPT TO addresses per transaction
  size_t max_to = 1000;            // unique To / Cc addresses per message (Zeek's defaults)
  size_t max_cc = 1000;
  size_t max_path = 1000;
  size_t max_records = 1000;       // smtp records per connection; then give up
  size_t max_auth_attempts = 10000;
  size_t max_pending = 1000;       // commands waiting for their reply
  size_t max_bad_lines = 25;       // consecutive lines that are not SMTP; then give up
  size_t max_field = 8192;         // a header value kept in a record
  MimeLimits mime;
};

class SmtpAnalyzer final : public Analyzer {
 public:
  explicit SmtpAnalyzer(Context& ctx, SmtpLimits limits = {});

  void data(bool is_orig, core::ByteView bytes, core::Timestamp ts) override;
  void gap(bool is_orig, uint64_t bytes, core::Timestamp ts) override;
  void finish(core::Timestamp ts) override;

 private:
  enum class Cmd : uint8_t { kHelo, kMail, kRcpt, kData, kDataEnd, kBdat, kBdatLast, kAuth, kStartTls, kOther };
  struct Pending {
    Cmd cmd;
    std::unique_ptr<SmtpRecord> record;  // kDataEnd, kBdatLast: the finished transaction
  };
  enum class Client : uint8_t { kCommand, kSkipLine, kDataPending, kData, kBdat };
  enum class Dot : uint8_t { kLineStart, kDot, kDotCr, kMid };
  struct AuthAttempt {
    bool active = false;
    bool awaiting_response = false;  // a 334 challenge came; the next client line answers it
    bool cancelled = false;
    SaslMech mech = SaslMech::kOther;
    std::string mech_name;
    size_t responses = 0;
    SaslCredentials creds;
    core::Timestamp ts;
  };

  void client_data(std::string_view s, core::Timestamp ts);
  void server_data(std::string_view s, core::Timestamp ts);
  bool on_command(std::string_view line, bool truncated, core::Timestamp ts);
  void on_reply_line(std::string_view line, bool truncated, core::Timestamp ts);
  void on_reply(const SmtpReply& r, std::string_view line, core::Timestamp ts);
  size_t data_bytes(std::string_view s, core::Timestamp ts);
  void feed_mime(std::string_view s);
  void on_header(std::string_view name, std::string_view value);
  void finish_message(Cmd kind, core::Timestamp ts);
  void auth_response(std::string_view line);
  void finish_auth(AuthOutcome outcome, std::string_view reply);
  void push(Cmd cmd, std::unique_ptr<SmtpRecord> record = nullptr);
  void ensure_record(core::Timestamp ts);
  void emit_current();
  void emit_record(std::unique_ptr<SmtpRecord> rec);
  void bad_line();
  void stop();

  Context& ctx_;
  SmtpLimits limits_;
  LineReader client_lines_;
  LineReader server_lines_;
  bool skip_server_line_ = false;
  uint64_t skipped_[2] = {0, 0};  // bytes of a skipped line so far: client, server
  MimeParser mime_;

  Client cstate_ = Client::kCommand;
  Dot dot_ = Dot::kLineStart;
  size_t data_line_len_ = 0;
  bool data_line_flagged_ = false;
  bool data_gap_ = false;
  uint64_t bdat_remaining_ = 0;
  bool bdat_last_ = false;
  std::deque<Pending> queue_;
  bool saw_reply_ = false;
  size_t bad_lines_ = 0;

  // Session state (copied into every record).
  std::string helo_;
  bool has_helo_ = false;
  bool session_activity_ = false;  // HELO/EHLO/AUTH seen
  AuthAttempt auth_;
  size_t auth_attempts_ = 0;
  std::string last_auth_mech_;
  std::string last_auth_user_;
  bool has_last_auth_user_ = false;
  AuthOutcome last_auth_outcome_ = AuthOutcome::kUnknown;

  // The transaction being built.
  std::unique_ptr<SmtpRecord> cur_;
  bool activity_ = false;  // Zeek's has_client_activity: MAIL, RCPT, DATA, STARTTLS
  bool mail_seen_ = false;
  bool rcpt_seen_ = false;
  bool rcpt_limit_hit_ = false;
  bool message_open_ = false;  // DATA/BDAT content of this transaction has begun and not ended
  std::unordered_set<std::string> rcpt_index_;
  uint64_t messages_ = 0;  // message contents completed
  size_t emitted_ = 0;

  bool stopped_ = false;        // no more bytes are parsed (gave up or upgraded)
  bool limit_stopped_ = false;  // no more records either
  bool finished_ = false;
};

std::unique_ptr<Analyzer> create_smtp_analyzer(Context& ctx);

}  // namespace trawl::analyzers::smtp

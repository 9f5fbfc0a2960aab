// FtpAnalyzer: the control connection of one FTP session. Commands are queued
// (pipelining) and each is logged with its final reply in ftp.jsonl; USER/PASS
// attempts go to auth.jsonl; PORT/EPRT/PASV/EPSV name the data channel; AUTH
// TLS answered 234 hands the connection to the "ssl" analyzer.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "analyzers/analyzer.h"
#include "analyzers/common/line_reader.h"
#include "analyzers/ftp/ftp_parser.h"
#include "analyzers/ftp/ftp_record.h"
#include "core/anomalies.h"

namespace trawl::analyzers::ftp {

inline const core::AnomalyId kAnomLineTooLong{"ftp.line_too_long"};
inline const core::AnomalyId kAnomBadCommand{"ftp.bad_command"};
inline const core::AnomalyId kAnomBadReply{"ftp.bad_reply"};
inline const core::AnomalyId kAnomUnexpectedReply{"ftp.unexpected_reply"};
inline const core::AnomalyId kAnomTooManyPending{"ftp.too_many_pending"};
inline const core::AnomalyId kAnomTooManyCommands{"ftp.too_many_commands"};
inline const core::AnomalyId kAnomBadDataChannel{"ftp.bad_data_channel"};
inline const core::AnomalyId kAnomNotFtp{"ftp.not_ftp"};

struct FtpLimits {
  size_t max_line = 4096;           // command or reply line (longer: truncated, anomaly)
  size_t max_pending = 64;          // commands waiting for a reply (more: oldest logged unanswered)
  uint64_t max_commands = 100000;   // per connection (more: give up)
  uint32_t max_bad_lines = 16;      // consecutive lines that are not FTP (more: give up)
  size_t max_cwd = 1024;            // tracked working directory
};

class FtpAnalyzer final : public Analyzer {
 public:
  explicit FtpAnalyzer(Context& ctx, const FtpLimits& limits = {});

  void data(bool is_orig, core::ByteView bytes, core::Timestamp ts) override;
  void gap(bool is_orig, uint64_t bytes, core::Timestamp ts) override;
  void finish(core::Timestamp ts) override;

 private:
  struct Pending {
    std::unique_ptr<FtpRecord> rec;
  };

  bool on_command(std::string_view line, bool truncated, core::Timestamp ts);
  bool on_reply_line(std::string_view line, bool truncated, core::Timestamp ts);
  void on_reply(uint16_t code, std::string_view text, core::Timestamp ts);
  void complete(Pending& p, uint16_t code, std::string_view text);
  void emit_auth(const FtpRecord& rec, bool has_reply);
  void emit_unanswered();  // the oldest pending command, without a reply
  void bad_line(const core::AnomalyId& id, uint32_t& counter);
  std::string render_arg(const std::string& verb, std::string_view arg) const;
  bool reveal_password() const;

  Context& ctx_;
  FtpLimits limits_;
  LineReader lines_[2];      // [0] client, [1] server
  bool drop_partial_[2] = {false, false};  // the next line starts inside a gap: drop it
  ReplyAssembler replies_;
  std::deque<Pending> pending_;
  bool greeted_ = false;     // the server greeting (220) has been seen or skipped
  bool stopped_ = false;     // gave up or upgraded: ignore further bytes
  uint64_t commands_ = 0;
  uint32_t bad_client_lines_ = 0;
  uint32_t bad_server_lines_ = 0;

  std::string user_ = "<unknown>";
  bool guest_ = false;
  std::optional<std::string> password_;  // kept only when revealed; "<hidden>" otherwise
  std::string cwd_ = ".";
};

}  // namespace trawl::analyzers::ftp

// SmtpRecord: one line of smtp.jsonl, one mail transaction (MAIL FROM to the
// reply to the end of its data) with Zeek's smtp.log field names, plus the
// session's AUTH result and the message's attachments.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyzers/analyzer.h"
#include "analyzers/common/auth_record.h"
#include "analyzers/smtp/mime.h"
#include "core/ip_address.h"

namespace trawl::analyzers::smtp {

class SmtpRecord final : public Record {
 public:
  std::string_view log() const override { return "smtp"; }
  void write_json(std::string& out) const override;

  std::string uid;
  core::IpAddress orig_h;
  uint16_t orig_p = 0;
  core::IpAddress resp_h;
  uint16_t resp_p = 0;

  uint64_t trans_depth = 1;
  // Optional strings are written only when has_* (Zeek leaves them unset).
  std::string helo;
  bool has_helo = false;
  std::string mailfrom;
  std::vector<std::string> rcptto;  // unique, in order of appearance
  std::string date;
  bool has_date = false;
  std::string from;
  bool has_from = false;
  std::vector<std::string> to;
  bool has_to = false;
  std::vector<std::string> cc;
  bool has_cc = false;
  std::string reply_to;
  bool has_reply_to = false;
  std::string msg_id;
  bool has_msg_id = false;
  std::string in_reply_to;
  bool has_in_reply_to = false;
  std::string subject;  // RFC 2047 encoded words decoded
  bool has_subject = false;
  core::IpAddress x_originating_ip;
  bool has_x_originating_ip = false;
  std::string first_received;
  bool has_first_received = false;
  std::string second_received;
  bool has_second_received = false;
  std::string last_reply;
  bool has_last_reply = false;
  std::vector<core::IpAddress> path;  // resp_h, orig_h, then Received hops
  std::string user_agent;
  bool has_user_agent = false;
  bool tls = false;
  bool is_webmail = false;

  // Ours: the session's last AUTH attempt before the record was written.
  std::string auth_mechanism;  // empty: no AUTH
  std::string auth_user;
  bool has_auth_user = false;
  AuthOutcome auth_outcome = AuthOutcome::kUnknown;
  std::vector<MimeAttachment> attachments;
};

}  // namespace trawl::analyzers::smtp

#include "analyzers/smtp/smtp_record.h"

#include "output/json_line.h"

namespace trawl::analyzers::smtp {

void SmtpRecord::write_json(std::string& out) const {
  output::JsonLine j(out, output::JsonLine::Flush::kAtEnd);
  j.ts("ts", ts)
      .str("uid", uid)
      .ip("id.orig_h", orig_h)
      .u64("id.orig_p", orig_p)
      .ip("id.resp_h", resp_h)
      .u64("id.resp_p", resp_p)
      .u64("trans_depth", trans_depth);
  if (has_helo) j.str("helo", helo);
  if (!mailfrom.empty()) j.str("mailfrom", mailfrom);
  if (!rcptto.empty()) j.str_list("rcptto", rcptto);
  if (has_date) j.str("date", date);
  if (has_from) j.str("from", from);
  if (has_to && !to.empty()) j.str_list("to", to);
  if (has_cc && !cc.empty()) j.str_list("cc", cc);
  if (has_reply_to) j.str("reply_to", reply_to);
  if (has_msg_id) j.str("msg_id", msg_id);
  if (has_in_reply_to) j.str("in_reply_to", in_reply_to);
  if (has_subject) j.str("subject", subject);
  if (has_x_originating_ip) j.ip("x_originating_ip", x_originating_ip);
  if (has_first_received) j.str("first_received", first_received);
  if (has_second_received) j.str("second_received", second_received);
  if (has_last_reply) j.str("last_reply", last_reply);
  if (!path.empty()) {
    j.begin_array("path");
    for (const core::IpAddress& hop : path) {
      char text[output::kIpJsonMax];
      j.add_raw(std::string_view(text, static_cast<size_t>(output::write_ip_json(text, hop) - text)));
    }
    j.end_array();
  }
  if (has_user_agent) j.str("user_agent", user_agent);
  j.boolean("tls", tls);
  j.boolean("is_webmail", is_webmail);
  if (!auth_mechanism.empty()) {
    j.str("auth_mechanism", auth_mechanism);
    if (has_auth_user) j.str("auth_user", auth_user);
    j.str("auth_outcome", auth_outcome_name(auth_outcome));
  }
  if (!attachments.empty()) {
    std::string a = "[";
    for (size_t i = 0; i < attachments.size(); ++i) {
      if (i != 0) a.push_back(',');
      output::JsonLine o(a);
      o.str("name", attachments[i].name).u64("size", attachments[i].size).str("mime_type", attachments[i].mime_type);
      if (!attachments[i].complete) o.boolean("complete", false);
      o.end_object();
    }
    a.push_back(']');
    j.raw("attachments", a);
  }
  j.end();
}

}  // namespace trawl::analyzers::smtp

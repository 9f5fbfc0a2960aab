#include "analyzers/common/auth_record.h"

#include "output/json_line.h"

namespace trawl::analyzers {

std::string_view auth_outcome_name(AuthOutcome o) {
  switch (o) {
    case AuthOutcome::kSuccess:
      return "success";
    case AuthOutcome::kFailure:
      return "failure";
    case AuthOutcome::kUnknown:
      break;
  }
  return "unknown";
}

void AuthRecord::set_conn(const ConnInfo& c) {
  uid = c.uid;
  client = c.orig_h;
  client_port = c.orig_p;
  server = c.resp_h;
  server_port = c.resp_p;
}

void AuthRecord::write_json(std::string& out) const {
  output::JsonLine j(out);
  j.raw("ts", core::format_epoch_micros(ts))
      .str("uid", uid)
      .str("id.orig_h", client.to_string())
      .u64("id.orig_p", client_port)
      .str("id.resp_h", server.to_string())
      .u64("id.resp_p", server_port)
      .str("proto", proto);
  if (!method.empty()) j.str("method", method);
  j.str("user", user);
  if (!domain.empty()) j.str("domain", domain);
  if (has_password) j.str("password", password);
  j.str("outcome", auth_outcome_name(outcome));
  if (!reply.empty()) j.str("reply", reply);
  j.end();
}

}  // namespace trawl::analyzers

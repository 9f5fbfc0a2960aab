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
  output::JsonLine j(out, output::JsonLine::Flush::kAtEnd);
  j.ts("ts", ts)
      .str("uid", uid)
      .ip("id.orig_h", client)
      .u64("id.orig_p", client_port)
      .ip("id.resp_h", server)
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

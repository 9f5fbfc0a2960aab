#include "analyzers/pop3/pop3_record.h"

#include "output/json_line.h"

namespace trawl::analyzers::pop3 {

void Pop3Record::write_json(std::string& out) const {
  output::JsonLine j(out, output::JsonLine::Flush::kAtEnd);
  j.ts("ts", ts)
      .str("uid", uid)
      .ip("id.orig_h", orig_h)
      .u64("id.orig_p", orig_p)
      .ip("id.resp_h", resp_h)
      .u64("id.resp_p", resp_p);
  if (!user.empty()) j.str("user", user);
  j.str("command", command);
  if (!arg.empty()) j.str("arg", arg);
  if (!status.empty()) {
    j.str("status", status);
    j.str("msg", msg);
  }
  if (response_body_len) j.u64("response_body_len", *response_body_len);
  j.end();
}

}  // namespace trawl::analyzers::pop3

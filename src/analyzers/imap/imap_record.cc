#include "analyzers/imap/imap_record.h"

#include "output/json_line.h"

namespace trawl::analyzers::imap {

void ImapRecord::write_json(std::string& out) const {
  output::JsonLine j(out, output::JsonLine::Flush::kAtEnd);
  j.ts("ts", ts)
      .str("uid", uid)
      .ip("id.orig_h", orig_h)
      .u64("id.orig_p", orig_p)
      .ip("id.resp_h", resp_h)
      .u64("id.resp_p", resp_p);
  if (!user.empty()) j.str("user", user);
  j.str("tag", tag);
  j.str("command", command);
  if (!arg.empty()) j.str("arg", arg);
  if (!status.empty()) {
    j.str("status", status);
    j.str("msg", msg);
  }
  if (request_literal_bytes != 0) j.u64("request_literal_bytes", request_literal_bytes);
  if (response_literal_bytes != 0) j.u64("response_literal_bytes", response_literal_bytes);
  j.end();
}

}  // namespace trawl::analyzers::imap

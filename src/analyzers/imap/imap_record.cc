#include "analyzers/imap/imap_record.h"

#include "output/json_line.h"

namespace trawl::analyzers::imap {

void ImapRecord::write_json(std::string& out) const {
  output::JsonLine j(out);
  j.raw("ts", core::format_epoch_micros(ts))
      .str("uid", uid)
      .str("id.orig_h", orig_h.to_string())
      .u64("id.orig_p", orig_p)
      .str("id.resp_h", resp_h.to_string())
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

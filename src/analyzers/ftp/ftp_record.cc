#include "analyzers/ftp/ftp_record.h"

#include "output/json_line.h"

namespace trawl::analyzers::ftp {

void FtpRecord::write_json(std::string& out) const {
  output::JsonLine j(out, output::JsonLine::Flush::kAtEnd);
  j.ts("ts", ts)
      .str("uid", uid)
      .ip("id.orig_h", orig_h)
      .u64("id.orig_p", orig_p)
      .ip("id.resp_h", resp_h)
      .u64("id.resp_p", resp_p)
      .str("user", user);
  if (password) j.str("password", *password);
  j.str("command", command);
  if (!arg.empty()) j.str("arg", arg);
  if (file_size) j.u64("file_size", *file_size);
  if (reply_code != 0) {
    j.u64("reply_code", reply_code);
    j.str("reply_msg", reply_msg);
  }
  if (data_channel) {
    j.boolean("data_channel.passive", data_channel->passive)
        .ip("data_channel.orig_h", data_channel->orig_h)
        .ip("data_channel.resp_h", data_channel->resp_h)
        .u64("data_channel.resp_p", data_channel->resp_p);
  }
  j.end();
}

}  // namespace trawl::analyzers::ftp

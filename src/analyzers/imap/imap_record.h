// ImapRecord: one line of imap.jsonl, a tagged client command with its tagged
// response. Zeek has no imap.log; the fields follow its ftp.log style
// (docs/records/imap.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "analyzers/analyzer.h"
#include "core/ip_address.h"

namespace trawl::analyzers::imap {

class ImapRecord final : public Record {
 public:
  std::string_view log() const override { return "imap"; }
  void write_json(std::string& out) const override;

  std::string uid;
  core::IpAddress orig_h;
  uint16_t orig_p = 0;
  core::IpAddress resp_h;
  uint16_t resp_p = 0;

  std::string user;     // the session's user when the command was sent (omitted if unknown)
  std::string tag;
  std::string command;  // upper case; "UID FETCH" etc. for UID commands
  std::string arg;      // credentials hidden (see imap.md); omitted when empty
  std::string status;   // "OK", "NO" or "BAD"; omitted when no tagged response was seen
  std::string msg;      // the tagged response's text
  uint64_t request_literal_bytes = 0;   // literal bytes the client sent with the command
  uint64_t response_literal_bytes = 0;  // literal bytes of untagged responses while it was the oldest pending
};

}  // namespace trawl::analyzers::imap

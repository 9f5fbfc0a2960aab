// Pop3Record: one line of pop3.jsonl, a client command with its response.
// Zeek has no pop3.log; the fields follow its ftp.log style (docs/records/pop3.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "analyzers/analyzer.h"
#include "core/ip_address.h"

namespace trawl::analyzers::pop3 {

class Pop3Record final : public Record {
 public:
  std::string_view log() const override { return "pop3"; }
  void write_json(std::string& out) const override;

  std::string uid;
  core::IpAddress orig_h;
  uint16_t orig_p = 0;
  core::IpAddress resp_h;
  uint16_t resp_p = 0;

  std::string user;     // the session's user when the command was sent (omitted if unknown)
  std::string command;  // upper case
  std::string arg;      // credentials hidden (see pop3.md); omitted when empty
  std::string status;   // "+OK" or "-ERR"; omitted when no response was seen
  std::string msg;      // the status line's text
  std::optional<uint64_t> response_body_len;  // multi-line responses: body bytes, un-stuffed
};

}  // namespace trawl::analyzers::pop3

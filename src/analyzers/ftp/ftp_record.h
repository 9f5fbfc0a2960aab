// FtpRecord: one line of ftp.jsonl, a client command with its final reply
// (Zeek's ftp.log fields; see docs/records/ftp.md for where we differ).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "analyzers/analyzer.h"
#include "core/ip_address.h"

namespace trawl::analyzers::ftp {

// Zeek's FTP::ExpectedDataChannel: who will open the data connection to whom.
struct DataChannel {
  bool passive = false;
  core::IpAddress orig_h;  // the host that will initiate the data connection
  core::IpAddress resp_h;  // the host that will accept it
  uint16_t resp_p = 0;     // on this port
};

class FtpRecord final : public Record {
 public:
  std::string_view log() const override { return "ftp"; }
  void write_json(std::string& out) const override;

  std::string uid;
  core::IpAddress orig_h;
  uint16_t orig_p = 0;
  core::IpAddress resp_h;
  uint16_t resp_p = 0;

  std::string user = "<unknown>";  // Zeek's default before any USER
  std::optional<std::string> password;  // "<hidden>" unless revealed (see ftp.md)
  std::string command;                  // upper case
  std::string arg;                      // as rendered in the log; omitted when empty
  std::string raw_arg;                  // as sent (not logged; hidden for PASS unless revealed)
  std::optional<uint64_t> file_size;
  uint16_t reply_code = 0;  // 0: no final reply seen
  std::string reply_msg;
  std::optional<DataChannel> data_channel;
};

}  // namespace trawl::analyzers::ftp

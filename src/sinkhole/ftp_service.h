// The sinkhole's FTP server: any login succeeds (user and password logged),
// a fake directory listing, downloads served from the fake files by
// extension, uploads kept as artifacts. Passive mode only: PASV/EPSV name
// the address the guest connected to and a port the router picks; the next
// connection from that guest to that address and port becomes the "ftp-data"
// session of that control connection (active mode would need us to connect
// out of the sandbox, which the sinkhole never does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/ip_address.h"
#include "sinkhole/service.h"

namespace trawl::sinkhole {

struct FtpConfig {
  std::string banner = "(vsFTPd 3.0.3)";  // after "220 "
  uint16_t passive_port_first = 50000;    // PASV/EPSV ports, handed out in turn
  uint16_t passive_port_last = 50999;
  size_t max_pending_data = 64;  // passive endpoints waiting for their connection (whole run); oldest dropped
  int64_t data_wait_ns = 30 * int64_t{1000000000};  // a transfer waits this long for its data connection, then 425
  size_t max_upload = 10 * 1024 * 1024;  // bytes of an upload kept (the rest counted)
  size_t max_line = 4096;
};

// What a control connection asked its data connection to do; shared by the
// two sessions (the driver runs both on one thread).
struct FtpDataChannel {
  enum class Op : uint8_t { kNone, kSend, kReceive };
  Op op = Op::kNone;
  std::string payload;       // kSend: the listing or the file
  std::string command, arg;  // for the upload record
  std::string user;
  uint64_t control_conn = 0;
  bool connected = false;  // the data connection arrived
  bool done = false;       // the transfer finished (the control session answers 226)
  bool closed = false;     // the data connection is gone
};

// The router's table of passive endpoints waiting for their connection.
class FtpDataBroker {
 public:
  explicit FtpDataBroker(const FtpConfig& config);
  // Picks a port for a new passive endpoint of guest -> server and remembers
  // it (replacing the oldest when max_pending_data are waiting).
  uint16_t listen(const core::IpAddress& guest, const core::IpAddress& server, std::shared_ptr<FtpDataChannel> ch);
  // The channel waiting for this connection (taken out of the table); null if none.
  std::shared_ptr<FtpDataChannel> claim(const SessionInfo& info);
  size_t pending() const;

 private:
  struct Entry {
    core::IpAddress guest, server;
    uint16_t port = 0;
    std::weak_ptr<FtpDataChannel> channel;
  };
  void prune();
  const FtpConfig& config_;
  std::vector<Entry> entries_;  // oldest first
  uint32_t next_ = 0;
};

// `banner` false: the guest already had a 220 (the router's generic banner on
// an unknown port) and answered it with an FTP command.
std::unique_ptr<ServiceSession> make_ftp_session(const FtpConfig& config, const SessionInfo& info,
                                                 FtpDataBroker& broker, bool banner = true);
std::unique_ptr<ServiceSession> make_ftp_data_session(const FtpConfig& config, const SessionInfo& info,
                                                      std::shared_ptr<FtpDataChannel> channel);

// The fake directory listing (LIST), in the format of vsftpd.
std::string ftp_fake_listing();

}  // namespace trawl::sinkhole

// Process attribution on a live Linux host: which process owns the socket of
// a connection. Sockets come from the kernel's socket diagnostics (NETLINK_
// SOCK_DIAG, inet_diag for TCP and UDP over IPv4 and IPv6: addresses, ports,
// uid and inode); inodes are mapped to processes through /proc/<pid>/fd
// (socket:[inode] links), with /proc/<pid>/exe, cmdline and the uid's user
// name. Needs root (or CAP_NET_ADMIN + CAP_SYS_PTRACE) to see every process;
// a socket whose owner cannot be read is kept with process.pid == 0 and
// `how` saying why.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/ip_address.h"
#include "core/timestamp.h"

namespace trawl::live {

struct ProcessInfo {
  int32_t pid = 0;  // 0: unknown
  std::string exe;      // readlink /proc/<pid>/exe ("" if unreadable)
  std::string cmdline;  // NULs as spaces, at most 4 KiB
  uint32_t uid = 0;
  std::string user;     // from the password database; the number if none
};

struct SocketKey {
  uint8_t proto = 6;  // 6 TCP, 17 UDP
  core::IpAddress local;
  uint16_t local_port = 0;
  core::IpAddress remote;  // all zero for an unconnected UDP socket
  uint16_t remote_port = 0;
};

struct Attribution {
  SocketKey key;
  uint64_t inode = 0;
  ProcessInfo process;
  core::Timestamp first_seen{0};  // wall clock, like packet time
  core::Timestamp last_seen{0};
  std::string how;  // "sock_diag+proc", "unowned (inode gone)", "no permission" ...
};

// One JSON line per attribution (sockets.jsonl).
void append_attribution_json(const Attribution& a, std::string& out);

class Attributor {
 public:
  Attributor();
  ~Attributor();
  // Snapshots every TCP/UDP socket and resolves new inodes to processes.
  // Cheap enough to call every 50 ms. Returns false with error when the
  // netlink socket cannot be used (the caller reports it once and continues
  // without attribution).
  bool poll(core::Timestamp now, std::string& error);
  // Called at the first packet of a flow: looks that socket up at once (a
  // targeted sock_diag query by ports), so short-lived connections are
  // attributed before they close.
  void on_new_flow(uint8_t proto, const core::IpAddress& a, uint16_t a_port, const core::IpAddress& b,
                   uint16_t b_port, core::Timestamp now);
  // Every socket seen so far (bounded: the oldest are dropped past 1,000,000).
  std::vector<Attribution> all() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Finds the socket of a connection in either orientation (a local socket's
// local end may be the connection's originator or responder); for several
// sockets on the same tuple (port reuse) the one seen closest to ts.
class AttributionIndex {
 public:
  explicit AttributionIndex(std::vector<Attribution> all);
  const Attribution* find(uint8_t proto, const core::IpAddress& orig, uint16_t orig_port,
                          const core::IpAddress& resp, uint16_t resp_port, core::Timestamp ts) const;
  size_t size() const { return all_.size(); }

 private:
  std::vector<Attribution> all_;
  std::vector<uint32_t> order_;  // implementation-defined lookup order
};

}  // namespace trawl::live

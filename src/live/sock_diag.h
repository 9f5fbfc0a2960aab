// SockDiag: the kernel's socket table over NETLINK_SOCK_DIAG (inet_diag), the
// interface ss(8) uses. Internal to live/: Attributor is the public face.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ip_address.h"

namespace trawl::live {

struct SockEntry {
  uint8_t proto = 6;  // 6 TCP, 17 UDP
  uint8_t state = 0;  // kernel TCP state (UDP: 1 connected, 7 unconnected)
  core::IpAddress local;   // IPv4-mapped IPv6 addresses are given as IPv4
  uint16_t local_port = 0;
  core::IpAddress remote;
  uint16_t remote_port = 0;
  uint32_t uid = 0;
  uint64_t inode = 0;  // 0: no file (time-wait, request or not yet accepted)
};

class SockDiag {
 public:
  // A reply larger than this is refused (the kernel's dump messages are
  // at most 32 KiB).
  static constexpr size_t kReceiveBuffer = 64 * 1024;
  // Entries one dump may return; a host with more is cut (and says so).
  static constexpr size_t kMaxDumpEntries = 2'000'000;

  SockDiag() = default;
  ~SockDiag();
  SockDiag(const SockDiag&) = delete;
  SockDiag& operator=(const SockDiag&) = delete;

  bool open(std::string& err);
  bool is_open() const { return fd_ >= 0; }

  // Every socket of proto (6/17) and family (AF_INET/AF_INET6), all states,
  // appended to out.
  bool dump(uint8_t proto, int family, std::vector<SockEntry>& out, std::string& err);

  // Exact lookup of one socket (no dump): the kernel's own hash lookup by
  // addresses and ports, as for an arriving packet. TCP looks up `src` as
  // the local end; UDP as the remote end (that is how the kernel's tcp and
  // udp diag modules read the request), so callers try both orientations.
  // Returns true when the query was answered (found or not); false with err
  // when the kernel refused it (e.g. EOPNOTSUPP: fall back to dumps).
  bool lookup(uint8_t proto, const core::IpAddress& src, uint16_t sport, const core::IpAddress& dst,
              uint16_t dport, std::vector<SockEntry>& out, std::string& err);

  uint64_t queries() const { return queries_; }
  // The last dump reached kMaxDumpEntries and was cut.
  bool last_dump_cut() const { return cut_; }

 private:
  bool send_request(uint8_t proto, int family, bool dump, const core::IpAddress* src, uint16_t sport,
                    const core::IpAddress* dst, uint16_t dport, std::string& err);
  // Reads replies for seq_ until NLMSG_DONE (dump) or the first answer
  // (lookup). kernel_errno is set from an NLMSG_ERROR reply.
  bool receive(bool dump, std::vector<SockEntry>& out, int& kernel_errno, std::string& err);

  int fd_ = -1;
  uint32_t seq_ = 0;
  uint64_t queries_ = 0;
  bool cut_ = false;
  std::vector<uint8_t> buf_;
};

}  // namespace trawl::live

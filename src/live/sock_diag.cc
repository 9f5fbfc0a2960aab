#include "live/sock_diag.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace trawl::live {

namespace {

// Receive calls one query may take: a dump of kMaxDumpEntries needs far fewer.
constexpr uint64_t kMaxReceives = 1'000'000;

void put_addr(uint32_t (&field)[4], const core::IpAddress& a) {
  std::memset(field, 0, sizeof field);
  std::memcpy(field, a.wire_data(), a.wire_size());
}

core::IpAddress get_addr(uint8_t family, const uint32_t (&field)[4]) {
  uint8_t b[16];
  std::memcpy(b, field, sizeof b);
  if (family == AF_INET) return core::IpAddress::v4(b);
  // Dual-stack sockets carry IPv4 peers as ::ffff:a.b.c.d; packets show the
  // IPv4 address, so keys are normalised to it.
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, sizeof kMapped) == 0) return core::IpAddress::v4(b + 12);
  return core::IpAddress::v6(b);
}

uint16_t from_be16(uint16_t v) { return ntohs(v); }

}  // namespace

SockDiag::~SockDiag() {
  if (fd_ >= 0) ::close(fd_);
}

bool SockDiag::open(std::string& err) {
  if (fd_ >= 0) return true;
  fd_ = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd_ < 0) {
    err = std::string("cannot open NETLINK_SOCK_DIAG socket: ") + std::strerror(errno);
    return false;
  }
  // A kernel that never answers must not stall the capture loop.
  timeval tv{};
  tv.tv_sec = 2;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int rcvbuf = 1 << 20;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  buf_.assign(kReceiveBuffer, 0);
  return true;
}

bool SockDiag::send_request(uint8_t proto, int family, bool dump, const core::IpAddress* src, uint16_t sport,
                            const core::IpAddress* dst, uint16_t dport, std::string& err) {
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 req;
  } msg{};
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0));
  msg.nlh.nlmsg_seq = ++seq_;
  msg.req.sdiag_family = static_cast<uint8_t>(family);
  msg.req.sdiag_protocol = proto;
  msg.req.idiag_states = ~0U;  // every state, listeners and time-wait included
  msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  if (src) put_addr(msg.req.id.idiag_src, *src);
  if (dst) put_addr(msg.req.id.idiag_dst, *dst);
  msg.req.id.idiag_sport = htons(sport);
  msg.req.id.idiag_dport = htons(dport);

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ++queries_;
  for (int attempt = 0; attempt < 3; ++attempt) {
    ssize_t n = ::sendto(fd_, &msg, sizeof msg, 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
    if (n == static_cast<ssize_t>(sizeof msg)) return true;
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  err = std::string("sock_diag request failed: ") + std::strerror(errno);
  return false;
}

bool SockDiag::receive(bool dump, std::vector<SockEntry>& out, int& kernel_errno, std::string& err) {
  kernel_errno = 0;
  size_t taken = 0;
  cut_ = false;
  for (uint64_t receives = 0; receives < kMaxReceives; ++receives) {
    sockaddr_nl from{};
    iovec iov{buf_.data(), buf_.size()};
    msghdr mh{};
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n = ::recvmsg(fd_, &mh, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = std::string("sock_diag receive failed: ") + std::strerror(errno);
      return false;
    }
    if (mh.msg_flags & MSG_TRUNC) {
      err = "sock_diag reply larger than the receive buffer";
      return false;
    }
    if (from.nl_pid != 0) continue;  // only the kernel answers
    size_t len = static_cast<size_t>(n);
    size_t off = 0;
    while (len - off >= sizeof(nlmsghdr)) {
      nlmsghdr h;
      std::memcpy(&h, buf_.data() + off, sizeof h);
      if (h.nlmsg_len < sizeof h || h.nlmsg_len > len - off) {
        err = "malformed sock_diag reply";
        return false;
      }
      const uint8_t* body = buf_.data() + off + NLMSG_HDRLEN;
      size_t body_len = h.nlmsg_len - NLMSG_HDRLEN;
      off += NLMSG_ALIGN(h.nlmsg_len);
      if (off > len) off = len;
      if (h.nlmsg_seq != seq_) continue;  // a late answer to an earlier query
      if (h.nlmsg_type == NLMSG_DONE) return true;
      if (h.nlmsg_type == NLMSG_ERROR) {
        nlmsgerr e{};
        if (body_len >= sizeof e) std::memcpy(&e, body, sizeof e);
        kernel_errno = -e.error;
        if (kernel_errno == 0) {
          if (!dump) return true;
          continue;  // an acknowledgement
        }
        return true;
      }
      if (h.nlmsg_type != SOCK_DIAG_BY_FAMILY || body_len < sizeof(inet_diag_msg)) continue;
      inet_diag_msg m;
      std::memcpy(&m, body, sizeof m);
      if (taken >= kMaxDumpEntries) {
        cut_ = true;
      } else {
        SockEntry e;
        e.state = m.idiag_state;
        e.local = get_addr(m.idiag_family, m.id.idiag_src);
        e.local_port = from_be16(m.id.idiag_sport);
        e.remote = get_addr(m.idiag_family, m.id.idiag_dst);
        e.remote_port = from_be16(m.id.idiag_dport);
        e.uid = m.idiag_uid;
        e.inode = m.idiag_inode;
        out.push_back(e);
        ++taken;
      }
      if (!dump) return true;
    }
  }
  err = "sock_diag dump did not end";
  return false;
}

bool SockDiag::dump(uint8_t proto, int family, std::vector<SockEntry>& out, std::string& err) {
  if (fd_ < 0 && !open(err)) return false;
  size_t before = out.size();
  if (!send_request(proto, family, true, nullptr, 0, nullptr, 0, err)) return false;
  int kernel_errno = 0;
  if (!receive(true, out, kernel_errno, err)) return false;
  if (kernel_errno != 0) {
    err = std::string("sock_diag dump refused: ") + std::strerror(kernel_errno);
    return false;
  }
  for (size_t i = before; i < out.size(); ++i) out[i].proto = proto;
  return true;
}

bool SockDiag::lookup(uint8_t proto, const core::IpAddress& src, uint16_t sport, const core::IpAddress& dst,
                      uint16_t dport, std::vector<SockEntry>& out, std::string& err) {
  if (fd_ < 0 && !open(err)) return false;
  if (src.is_v4() != dst.is_v4()) return true;  // no socket has mixed families
  int family = src.is_v4() ? AF_INET : AF_INET6;
  size_t before = out.size();
  if (!send_request(proto, family, false, &src, sport, &dst, dport, err)) return false;
  int kernel_errno = 0;
  if (!receive(false, out, kernel_errno, err)) return false;
  if (kernel_errno == ENOENT) return true;
  if (kernel_errno != 0) {
    err = std::string("sock_diag lookup refused: ") + std::strerror(kernel_errno);
    return false;
  }
  for (size_t i = before; i < out.size(); ++i) out[i].proto = proto;
  return true;
}

}  // namespace trawl::live

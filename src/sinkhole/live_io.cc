#include "sinkhole/live_io.h"

#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace trawl::sinkhole {

namespace {

int64_t mono_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * core::kNsPerSec + ts.tv_nsec;
}

}  // namespace

bool interface_mac(const std::string& iface, MacAddress& out, std::string& error) {
  if (iface.empty() || iface.size() >= IFNAMSIZ) {
    error = "'" + iface + "' is not an interface name";
    return false;
  }
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    error = std::string("cannot open a socket to read the interface's MAC: ") + std::strerror(errno);
    return false;
  }
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, iface.data(), iface.size());
  int rc = ::ioctl(s, SIOCGIFHWADDR, &ifr);
  int saved = errno;
  ::close(s);
  if (rc != 0) {
    error = "cannot read the MAC address of '" + iface + "': " + std::strerror(saved);
    return false;
  }
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    error = "'" + iface + "' is not an Ethernet interface (the sinkhole answers Ethernet frames)";
    return false;
  }
  std::memcpy(out.data(), ifr.ifr_hwaddr.sa_data, out.size());
  return true;
}

LiveIo::~LiveIo() {
  std::string ignored;
  close(ignored);
}

bool LiveIo::open(const LiveIoOptions& options, std::string& error) {
  flush_interval_ns_ = options.flush_interval_ns > 0 ? options.flush_interval_ns : core::kNsPerSec;
  if (!interface_mac(options.iface, mac_, error)) return false;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_ = pcap_create(options.iface.c_str(), errbuf);
  if (!pcap_) {
    error = "cannot capture on '" + options.iface + "': " + errbuf;
    return false;
  }
  pcap_set_snaplen(pcap_, std::clamp(options.snaplen, 64, 262144));
  pcap_set_promisc(pcap_, 0);
  pcap_set_immediate_mode(pcap_, 1);
  pcap_set_buffer_size(pcap_, std::max(options.buffer_bytes, 1 << 16));
  pcap_set_tstamp_precision(pcap_, PCAP_TSTAMP_PRECISION_NANO);
  int rc = pcap_activate(pcap_);
  if (rc < 0) {
    std::string detail = pcap_geterr(pcap_);
    error = "cannot capture on '" + options.iface + "': " + pcap_statustostr(rc);
    if (!detail.empty()) error += " (" + detail + ")";
    if (rc == PCAP_ERROR_PERM_DENIED) error += "; run as root or with CAP_NET_RAW";
    return false;
  }
  if (pcap_datalink(pcap_) != DLT_EN10MB) {
    error = "'" + options.iface + "' is not an Ethernet interface (link type " +
            std::to_string(pcap_datalink(pcap_)) + ")";
    return false;
  }
  // Inbound only: our injected frames leave through this handle and must
  // never come back as guest traffic (the own-MAC check backs this up).
  if (pcap_setdirection(pcap_, PCAP_D_IN) != 0) {
    error = "cannot restrict the capture on '" + options.iface + "' to inbound frames: " + pcap_geterr(pcap_);
    return false;
  }
  if (pcap_setnonblock(pcap_, 1, errbuf) != 0) {
    error = std::string("cannot make the capture non-blocking: ") + errbuf;
    return false;
  }
  nano_ = pcap_get_tstamp_precision(pcap_) == PCAP_TSTAMP_PRECISION_NANO;
  fd_ = pcap_get_selectable_fd(pcap_);
  if (fd_ >= 0) {
    // Room for a burst of answers (1,000 SYN-ACKs); FORCE passes wmem_max as
    // root, the plain option is the fallback. Best effort either way.
    int sndbuf = 4 << 20;
    if (::setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) != 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    }
  }

  dead_ = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, std::clamp(options.snaplen, 64, 262144),
                                               PCAP_TSTAMP_PRECISION_NANO);
  if (!dead_) {
    error = "cannot set up the pcap writer";
    return false;
  }
  dumper_ = pcap_dump_open(dead_, options.pcap_path.c_str());
  if (!dumper_) {
    error = "cannot write " + options.pcap_path + ": " + pcap_geterr(dead_);
    return false;
  }
  last_flush_ns_ = mono_now_ns();
  return true;
}

void LiveIo::dump(core::Timestamp ts, const uint8_t* data, uint32_t caplen, uint32_t wirelen) {
  if (!dumper_) return;
  pcap_pkthdr h{};
  h.ts.tv_sec = static_cast<time_t>(ts.sec());
  h.ts.tv_usec = static_cast<suseconds_t>(ts.ns - ts.sec() * core::kNsPerSec);  // nanoseconds in this file
  h.caplen = caplen;
  h.len = wirelen;
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, data);
  ++pcap_frames_;
}

void LiveIo::on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
  auto* self = reinterpret_cast<LiveIo*>(user);
  if (h->caplen < kEthernetHeader) {
    ++self->counters_.short_dropped;
    return;
  }
  // Source MAC at offset 6: ours means a frame we sent that came back.
  if (std::memcmp(bytes + 6, self->mac_.data(), self->mac_.size()) == 0) {
    ++self->counters_.own_dropped;
    return;
  }
  int64_t frac = self->nano_ ? h->ts.tv_usec : static_cast<int64_t>(h->ts.tv_usec) * 1000;
  core::Timestamp ts = core::Timestamp::from_sec_nsec(static_cast<int64_t>(h->ts.tv_sec), frac);
  self->dump(ts, bytes, h->caplen, h->len);
  ++self->counters_.frames_in;
  (*self->fn_)(core::ByteView(bytes, h->caplen), ts);
}

int LiveIo::dispatch(int max, const FrameFn& fn, std::string& error) {
  if (!pcap_) {
    error = "the capture is not open";
    return -1;
  }
  fn_ = &fn;
  int n = pcap_dispatch(pcap_, max, &LiveIo::on_packet, reinterpret_cast<u_char*>(this));
  fn_ = nullptr;
  if (n == PCAP_ERROR) {
    error = std::string("capture failed: ") + pcap_geterr(pcap_);
    return -1;
  }
  return std::max(n, 0);
}

bool LiveIo::inject(core::ByteView frame, core::Timestamp ts) {
  if (!pcap_ || frame.size() < kEthernetHeader) {
    ++counters_.inject_failed;
    return false;
  }
  int n = pcap_inject(pcap_, frame.data(), frame.size());
  // The socket is non-blocking (for reading): a full send buffer under a
  // burst waits a little for room, a bounded number of times.
  for (int tries = 0; n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) && tries < 3 &&
                      fd_ >= 0;
       ++tries) {
    pollfd pfd{fd_, POLLOUT, 0};
    ::poll(&pfd, 1, 10);
    n = pcap_inject(pcap_, frame.data(), frame.size());
  }
  if (n < 0 || static_cast<size_t>(n) != frame.size()) {
    // A full socket buffer under a flood: the guest retransmits, as on a
    // lossy link. Counted; the message kept for the summary.
    ++counters_.inject_failed;
    inject_error_ = pcap_geterr(pcap_);
    return false;
  }
  ++counters_.injected;
  uint32_t len = static_cast<uint32_t>(frame.size());
  dump(ts, frame.data(), len, len);
  return true;
}

void LiveIo::maybe_flush(int64_t mono_ns) {
  if (!dumper_ || mono_ns - last_flush_ns_ < flush_interval_ns_) return;
  if (pcap_dump_flush(dumper_) != 0) dump_failed_ = true;
  last_flush_ns_ = mono_ns;
}

bool LiveIo::close(std::string& error) {
  bool ok = true;
  if (pcap_) {
    pcap_stat st{};
    if (pcap_stats(pcap_, &st) == 0) counters_.kernel_dropped = st.ps_drop;
    pcap_close(pcap_);
    pcap_ = nullptr;
    fd_ = -1;
  }
  if (dumper_) {
    if (pcap_dump_flush(dumper_) != 0) dump_failed_ = true;
    if (std::ferror(pcap_dump_file(dumper_))) dump_failed_ = true;
    pcap_dump_close(dumper_);
    dumper_ = nullptr;
  }
  if (dead_) {
    pcap_close(dead_);
    dead_ = nullptr;
  }
  if (dump_failed_) {
    error = "writing the case pcap failed (disk full?)";
    ok = false;
    dump_failed_ = false;
  }
  return ok;
}

}  // namespace trawl::sinkhole

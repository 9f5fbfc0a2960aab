#include "live/live_capture.h"

#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <tuple>
#include <unordered_set>

#include "capture/pcap_writer.h"
#include "core/anomalies.h"
#include "core/hash.h"
#include "decode/decoder.h"

namespace trawl::live {

namespace {

// Distinct 5-tuples remembered for "first packet of a flow"; past this the
// set starts over (a flow seen again only costs one more kernel lookup).
constexpr size_t kMaxSeenFlows = 1 << 18;
// Packets handled per pcap_dispatch, so polls and deadlines are not starved.
constexpr int kDispatchBatch = 512;
constexpr int64_t kMaxWaitNs = 100'000'000;

volatile sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }

int64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * core::kNsPerSec + ts.tv_nsec;
}

// libpcap reports DLT_* values; files and our decoder use LINKTYPE_* values,
// which differ only for raw IP on some platforms.
uint16_t linktype_of(int dlt) {
  switch (dlt) {
#ifdef DLT_RAW
    case DLT_RAW:
      return static_cast<uint16_t>(capture::LinkType::kRaw);
#endif
    default:
      return dlt >= 0 && dlt <= 0xffff ? static_cast<uint16_t>(dlt) : 0;
  }
}

// Restores SIGINT/SIGTERM handlers whatever way run_live returns.
class SignalScope {
 public:
  SignalScope() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SignalScope() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};

struct Loop {
  capture::PcapWriter writer;
  core::Anomalies anomalies;
  decode::Decoder decoder{anomalies};
  decode::DecodedPacket decoded;
  Attributor* attributor = nullptr;  // null when attribution is unavailable
  std::unordered_set<uint64_t> seen;
  uint16_t linktype = 1;
  bool nano = false;
  uint64_t packets = 0;
  bool write_failed = false;

  void on_packet(const pcap_pkthdr* h, const u_char* bytes) {
    ++packets;
    int64_t frac = nano ? h->ts.tv_usec : static_cast<int64_t>(h->ts.tv_usec) * 1000;
    capture::RawPacket pkt;
    pkt.ts = core::Timestamp::from_sec_nsec(static_cast<int64_t>(h->ts.tv_sec), frac);
    pkt.caplen = h->caplen;
    pkt.wirelen = h->len;
    pkt.linktype = linktype;
    pkt.data = bytes;
    if (!writer.write(pkt)) {
      write_failed = true;  // a full disk: stop rather than capture into nothing
      return;
    }
    if (!attributor) return;
    if (decoder.decode(pkt, decoded) != decode::DecodeStatus::kOk) return;
    if (!decoded.has_l4 || (decoded.ip_proto != 6 && decoded.ip_proto != 17)) return;
    // Both directions of a flow share one entry.
    const core::IpAddress* a = &decoded.src;
    const core::IpAddress* b = &decoded.dst;
    uint16_t ap = decoded.sport, bp = decoded.dport;
    if (std::tie(*b, bp) < std::tie(*a, ap)) {
      std::swap(a, b);
      std::swap(ap, bp);
    }
    uint8_t key[37];
    key[0] = decoded.ip_proto;
    std::memcpy(key + 1, a->bytes().data(), 16);
    std::memcpy(key + 17, b->bytes().data(), 16);
    std::memcpy(key + 33, &ap, 2);
    std::memcpy(key + 35, &bp, 2);
    uint64_t h64 = core::hash_bytes(key, sizeof key);
    // A bare SYN always looks again: the tuple may be reused by a new socket.
    bool syn = decoded.ip_proto == 6 && (decoded.tcp_flags & (decode::tcp_flag::kSyn | decode::tcp_flag::kAck)) ==
                                            decode::tcp_flag::kSyn;
    if (seen.size() >= kMaxSeenFlows) seen.clear();
    if (!seen.insert(h64).second && !syn) return;
    attributor->on_new_flow(decoded.ip_proto, decoded.src, decoded.sport, decoded.dst, decoded.dport, pkt.ts);
  }
};

extern "C" void pcap_callback(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
  reinterpret_cast<Loop*>(user)->on_packet(h, bytes);
}

}  // namespace

bool run_live(const LiveOptions& options, LiveResult& result, std::string& error) {
  result = LiveResult{};
  char errbuf[PCAP_ERRBUF_SIZE] = {0};
  std::unique_ptr<pcap_t, PcapCloser> pc(pcap_create(options.iface.c_str(), errbuf));
  if (!pc) {
    error = "cannot open interface '" + options.iface + "': " + errbuf;
    return false;
  }
  pcap_t* p = pc.get();
  pcap_set_snaplen(p, std::clamp(options.snaplen, 64, static_cast<int>(capture::PcapWriter::kSnaplen)));
  pcap_set_promisc(p, 0);
  pcap_set_immediate_mode(p, 1);
  pcap_set_buffer_size(p, 8 << 20);
  pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
  int rc = pcap_activate(p);
  if (rc < 0) {
    std::string detail = pcap_geterr(p);
    error = "cannot capture on '" + options.iface + "': " + pcap_statustostr(rc);
    if (!detail.empty()) error += " (" + detail + ")";
    if (rc == PCAP_ERROR_PERM_DENIED) error += "; live capture needs root or CAP_NET_RAW";
    return false;
  }
  if (!options.bpf.empty()) {
    bpf_program prog{};
    if (pcap_compile(p, &prog, options.bpf.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      error = "bad capture filter '" + options.bpf + "': " + pcap_geterr(p);
      return false;
    }
    int set = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (set != 0) {
      error = "cannot set capture filter '" + options.bpf + "': " + pcap_geterr(p);
      return false;
    }
  }
  if (pcap_setnonblock(p, 1, errbuf) != 0) {
    error = std::string("cannot make the capture non-blocking: ") + errbuf;
    return false;
  }

  Loop loop;
  loop.linktype = linktype_of(pcap_datalink(p));
  loop.nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
  if (!loop.writer.open(options.pcap_path, loop.linktype, error)) return false;

  Attributor attributor;
  std::string attr_err;
  if (attributor.poll(core::Timestamp{clock_ns(CLOCK_REALTIME)}, attr_err)) {
    loop.attributor = &attributor;
  } else {
    result.attribution_error = attr_err;
  }

  SignalScope signals;
  const int fd = pcap_get_selectable_fd(p);
  const int64_t interval_ns =
      options.poll_interval_s > 0 ? static_cast<int64_t>(options.poll_interval_s * 1e9) : 50'000'000;
  const int64_t start = clock_ns(CLOCK_MONOTONIC);
  const bool timed = options.duration_s > 0 && std::isfinite(options.duration_s);
  const int64_t deadline =
      timed ? start + static_cast<int64_t>(std::min(options.duration_s, 1e9) * 1e9) : INT64_MAX;
  int64_t next_poll = start + interval_ns;
  bool failed = false;

  while (!g_stop) {
    int64_t mono = clock_ns(CLOCK_MONOTONIC);
    if (mono >= deadline) break;
    if (options.max_packets && loop.packets >= options.max_packets) break;
    if (loop.write_failed) break;
    if (loop.attributor && mono >= next_poll) {
      if (!attributor.poll(core::Timestamp{clock_ns(CLOCK_REALTIME)}, attr_err)) {
        result.attribution_error = attr_err;
        loop.attributor = nullptr;
      }
      next_poll = clock_ns(CLOCK_MONOTONIC) + interval_ns;
    }
    int64_t wait = std::min({deadline - mono, kMaxWaitNs, loop.attributor ? next_poll - mono : kMaxWaitNs});
    int wait_ms = static_cast<int>(std::max<int64_t>(0, (wait + 999'999) / 1'000'000));
    if (fd >= 0) {
      pollfd pfd{fd, POLLIN, 0};
      int pr = ::poll(&pfd, 1, wait_ms);
      if (pr < 0 && errno != EINTR) {
        error = std::string("poll on the capture failed: ") + std::strerror(errno);
        failed = true;
        break;
      }
      if (pr <= 0) continue;
    }
    int batch = kDispatchBatch;
    if (options.max_packets) {
      batch = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(batch), options.max_packets - loop.packets));
    }
    int n = pcap_dispatch(p, batch, pcap_callback, reinterpret_cast<u_char*>(&loop));
    if (n == PCAP_ERROR) {
      error = "capture on '" + options.iface + "' failed: " + pcap_geterr(p);
      failed = true;
      break;
    }
    if (n == 0 && fd < 0) {
      timespec nap{0, 5'000'000};
      nanosleep(&nap, nullptr);
    }
  }

  // One last snapshot: sockets that appeared since the previous poll.
  if (loop.attributor && !attributor.poll(core::Timestamp{clock_ns(CLOCK_REALTIME)}, attr_err)) {
    result.attribution_error = attr_err;
  }
  pcap_stat st{};
  if (pcap_stats(p, &st) == 0) result.kernel_dropped = st.ps_drop;
  result.packets = loop.packets;
  result.sockets = attributor.all();
  if (!loop.writer.close()) {
    error = "cannot write " + options.pcap_path + ": " + loop.writer.error();
    return false;
  }
  return !failed;
}

}  // namespace trawl::live

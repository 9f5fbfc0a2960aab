// The sinkhole's libpcap side: frames in from the host-only interface
// (immediate mode, inbound only, our own MAC dropped), frames out with
// pcap_inject, and both written in order to the case pcap (flushed at least
// once a second, so a crash loses little). The Sinkhole driver itself never
// touches a socket; app/cmd_sinkhole.cc joins the two.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <functional>
#include <string>

#include "core/byte_view.h"
#include "core/timestamp.h"
#include "sinkhole/frame.h"

namespace trawl::sinkhole {

struct LiveIoOptions {
  std::string iface;
  std::string pcap_path;     // the case pcap (created, truncated)
  int snaplen = 65535;
  // The kernel ring. Immediate mode gives TPACKET_V2, one snaplen-sized slot
  // per frame: 64 MiB holds ~1,000 frames, a burst of 1,000 SYNs.
  int buffer_bytes = 64 << 20;
  int64_t flush_interval_ns = 1'000'000'000;
};

class LiveIo {
 public:
  using FrameFn = std::function<void(core::ByteView frame, core::Timestamp ts)>;

  LiveIo() = default;
  ~LiveIo();
  LiveIo(const LiveIo&) = delete;
  LiveIo& operator=(const LiveIo&) = delete;

  // Opens the interface and the pcap; false with a message naming what failed
  // (no such interface, no permission, not Ethernet, cannot write the file).
  bool open(const LiveIoOptions& options, std::string& error);
  // The fd to poll() for frames (-1 if libpcap has none: then poll briefly).
  int selectable_fd() const { return fd_; }
  const MacAddress& own_mac() const { return mac_; }

  // Hands up to `max` waiting guest frames to fn, each after it is in the
  // pcap. Frames from own_mac are dropped (counted). Returns the frames
  // handled, or -1 with error.
  int dispatch(int max, const FrameFn& fn, std::string& error);
  // Sends one frame and, once sent, appends it to the pcap with `ts` (a frame
  // that could not be sent is counted, not written: the pcap shows what the
  // guest could see).
  bool inject(core::ByteView frame, core::Timestamp ts);
  // Flushes the pcap when the last flush is older than the interval.
  void maybe_flush(int64_t mono_ns);
  // Closes the capture and the pcap; false with error if writing failed.
  bool close(std::string& error);

  struct Counters {
    uint64_t frames_in = 0;       // guest frames handed on
    uint64_t own_dropped = 0;     // frames with our source MAC (never guest traffic)
    uint64_t short_dropped = 0;   // shorter than an Ethernet header
    uint64_t injected = 0;
    uint64_t inject_failed = 0;
    uint64_t kernel_dropped = 0;  // pcap_stats at close
  };
  const Counters& counters() const { return counters_; }
  // Frames in the pcap so far (the index the next one gets).
  uint64_t pcap_frames() const { return pcap_frames_; }
  const std::string& last_inject_error() const { return inject_error_; }

 private:
  static void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes);
  void dump(core::Timestamp ts, const uint8_t* data, uint32_t caplen, uint32_t wirelen);

  pcap_t* pcap_ = nullptr;
  pcap_t* dead_ = nullptr;  // the dumper's handle (nanosecond pcap)
  pcap_dumper_t* dumper_ = nullptr;
  int fd_ = -1;
  MacAddress mac_{};
  bool nano_ = false;
  int64_t flush_interval_ns_ = 1'000'000'000;
  int64_t last_flush_ns_ = 0;
  uint64_t pcap_frames_ = 0;
  bool dump_failed_ = false;
  std::string inject_error_;
  const FrameFn* fn_ = nullptr;
  Counters counters_;
};

// The interface's Ethernet address (SIOCGIFHWADDR); false with error.
bool interface_mac(const std::string& iface, MacAddress& out, std::string& error);

}  // namespace trawl::sinkhole

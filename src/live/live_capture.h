// Live capture for `trawl check --live`: libpcap on an interface (immediate
// mode) written to a pcap file in the case folder while an Attributor ties
// each new flow to its process. The capture is then analysed like any file,
// so live and offline checks give the same records, and the pcap stays as
// evidence.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "live/attribution.h"

namespace trawl::live {

struct LiveOptions {
  std::string iface;
  double duration_s = 0;        // 0: until SIGINT/SIGTERM
  std::string bpf;              // optional capture filter
  std::string pcap_path;        // where the packets go
  double poll_interval_s = 0.05;  // full socket snapshot period
  uint64_t max_packets = 0;     // 0: no limit
  int snaplen = 65535;
};

struct LiveResult {
  uint64_t packets = 0;
  uint64_t kernel_dropped = 0;  // pcap_stats ps_drop
  std::vector<Attribution> sockets;
  std::string attribution_error;  // set if attribution was unavailable (the capture still ran)
};

// Returns false with error if the interface cannot be opened or the pcap
// cannot be written; stops cleanly on SIGINT/SIGTERM (restoring the previous
// handlers) or at duration.
bool run_live(const LiveOptions& options, LiveResult& result, std::string& error);

}  // namespace trawl::live

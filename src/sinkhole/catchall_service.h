// The sinkhole's catch-all for ports with no known service: logs what the
// guest sent (the first bytes as hex and text, byte counts) and, when the
// guest says nothing for a while, sends a banner so that clients of
// server-first protocols go on to show what they want. It never echoes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "sinkhole/service.h"

namespace trawl::sinkhole {

struct CatchallConfig {
  std::string banner = "220 Service ready\r\n";  // empty: never send one
  size_t max_logged = 4096;  // first bytes kept per connection
};

// Sends the banner `wait_ns` after on_open unless the guest spoke or closed
// first (0: at once; the router's sniffing already waited). `service` lets
// the router reuse it for TLS it cannot terminate ("ssl": records go to
// sinkhole_tls, no banner). `banner_sent`: the router already sent it.
std::unique_ptr<ServiceSession> make_catchall_session(const CatchallConfig& config, const SessionInfo& info,
                                                      int64_t wait_ns, bool banner = true,
                                                      const char* service = "catchall", bool banner_sent = false);

}  // namespace trawl::sinkhole

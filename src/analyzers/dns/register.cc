// Registers DNS over UDP (DNS, mDNS, LLMNR ports as hints) and over TCP.
#include <memory>

#include "analyzers/dns/dns_analyzer.h"
#include "analyzers/registry.h"

namespace trawl::analyzers::dns {

namespace {

std::unique_ptr<Analyzer> create(Context& ctx) { return std::make_unique<DnsAnalyzer>(ctx); }

}  // namespace

void register_protocols(Registry& r) {
  r.add(Protocol{"dns", 17, {53, 5353, 5355}, &probe_udp, &create});
  r.add(Protocol{"dns", 6, {53}, &probe_tcp, &create});
}

}  // namespace trawl::analyzers::dns

// Registers the TLS/SSL analyzer (service "ssl", as Zeek names it).
#include "analyzers/registry.h"
#include "analyzers/ssl/ssl_analyzer.h"

namespace trawl::analyzers::ssl {

void register_protocols(Registry& r) { r.add(ssl_protocol()); }

}  // namespace trawl::analyzers::ssl

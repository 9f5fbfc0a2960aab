// Registers RDP: TCP, hint port 3389, recognised by a TPKT-framed X.224
// Connection Request from the client.
#include "analyzers/rdp/rdp_analyzer.h"
#include "analyzers/registry.h"

namespace trawl::analyzers::rdp {

void register_protocols(Registry& r) { r.add(Protocol{"rdp", 6, {3389}, &RdpAnalyzer::probe, &create}); }

}  // namespace trawl::analyzers::rdp

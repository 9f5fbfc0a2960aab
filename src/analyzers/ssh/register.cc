// Registers SSH: TCP, hint ports 22, 2222 and 902 (VMware), recognised on any
// port by a version line from either side.
#include "analyzers/registry.h"
#include "analyzers/ssh/ssh_analyzer.h"

namespace trawl::analyzers::ssh {

void register_protocols(Registry& r) {
  r.add(Protocol{"ssh", 6, {22, 2222, 902}, &SshAnalyzer::probe, &create});
}

}  // namespace trawl::analyzers::ssh

// Registers SMB (service "smb"): TCP 445 direct hosting and 139 NetBIOS
// session service, recognised by content (see probe_smb).
#include "analyzers/registry.h"
#include "analyzers/smb/smb_analyzer.h"

namespace trawl::analyzers::smb {

void register_protocols(Registry& r) {
  r.add(Protocol{"smb", 6, {445, 139}, &probe_smb, &create_smb_analyzer});
}

}  // namespace trawl::analyzers::smb

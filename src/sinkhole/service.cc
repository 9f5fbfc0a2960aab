#include "sinkhole/service.h"

namespace trawl::sinkhole {

const char* to_string(Ioc::Kind k) {
  switch (k) {
    case Ioc::Kind::kDomain: return "domain";
    case Ioc::Kind::kIp: return "ip";
    case Ioc::Kind::kUrl: return "url";
    case Ioc::Kind::kUserAgent: return "user_agent";
    case Ioc::Kind::kEmail: return "email";
    case Ioc::Kind::kSha256: return "sha256";
    case Ioc::Kind::kJa3: return "ja3";
    case Ioc::Kind::kJa4: return "ja4";
  }
  return "unknown";
}

}  // namespace trawl::sinkhole

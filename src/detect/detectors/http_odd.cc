// stub
#include "detect/detector.h"
namespace trawl::detect {
void register_http_odd(Registry& r) { (void)r; }
}  // namespace trawl::detect

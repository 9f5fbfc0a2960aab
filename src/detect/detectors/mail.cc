// stub
#include "detect/detector.h"
namespace trawl::detect {
void register_mail(Registry& r) { (void)r; }
}  // namespace trawl::detect

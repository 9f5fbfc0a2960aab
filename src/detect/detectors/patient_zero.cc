// stub
#include "detect/detector.h"
namespace trawl::detect {
void register_patient_zero(Registry& r) { (void)r; }
}  // namespace trawl::detect

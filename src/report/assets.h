// The files report.html is made of (src/report/assets/), embedded at build
// time by src/report/assets.cmake.
#pragma once

#include <string>
#include <string_view>

namespace trawl::report {

enum class Asset { kTemplate, kCss, kJs };

// Appends the asset's bytes, exactly as in src/report/assets/.
void append_asset(Asset asset, std::string& out);

}  // namespace trawl::report

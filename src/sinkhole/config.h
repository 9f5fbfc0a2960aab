// The sinkhole's configuration file (TOML, through Debian's toml++). Every
// key is optional: a missing key keeps the default of the component it
// configures; an unknown key or a value of the wrong type or range is an
// error naming file:line. The keys are documented in docs/sinkhole-config.md
// and samples/sinkhole.toml.
#pragma once

#include <string>
#include <string_view>

#include "sinkhole/sinkhole.h"

namespace trawl::sinkhole {

// Reads `path` into `out` (which holds the defaults, or what the caller set
// before). False with `error` ("FILE:LINE:COL: ...") on the first problem;
// `out` may then be partly changed.
bool load_config(const std::string& path, SinkholeConfig& out, std::string& error);
// The same from text; `name` stands for the file in messages.
bool parse_config(std::string_view text, std::string_view name, SinkholeConfig& out, std::string& error);

}  // namespace trawl::sinkhole

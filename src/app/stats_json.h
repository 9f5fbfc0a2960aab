// stats.json: what a run read, what it skipped and why, and how fast.
#pragma once

#include <string>

#include "app/engine.h"

namespace trawl::app {

const char* linktype_name(uint16_t linktype);
bool write_stats_json(const std::string& path, const RunStats& stats, std::string& error);

}  // namespace trawl::app

// Deterministic connection uids: "C" + 17 base62 characters derived from
// what identifies the connection in the input, never from threads or clocks.
#pragma once

#include <cstdint>
#include <string>

#include "core/timestamp.h"
#include "flow/connection.h"

namespace trawl::flow {

// Hashes (first packet's input index, canonical 5-tuple key, first packet
// time) to 128 bits and writes 17 base62 digits of it (about 101 bits).
std::string make_conn_uid(uint64_t first_index, const FlowKey& key, core::Timestamp first_ts);

}  // namespace trawl::flow

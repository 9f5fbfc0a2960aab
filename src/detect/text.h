// Text the detectors put in findings: times, spans, numbers and JSON string
// arrays, written the same way by every detector.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.h"
#include "core/timestamp.h"

namespace trawl::detect::text {

// A threshold in seconds as nanoseconds: 0 for a non-positive value, capped
// far below overflow.
int64_t seconds_to_ns(double s);
std::string upper(std::string_view s);
std::string lower(std::string_view s);
// A 64-bit FNV-1a hash of s with ASCII letters folded to lower case, for
// counting distinct names, URIs and addresses without keeping them.
uint64_t folded_hash(std::string_view s);
std::string fixed1(double v);  // "%.1f"
// "2014-01-14 17:37:24 UTC" (packet time); epoch seconds if out of range.
std::string utc_time(core::Timestamp t);
// "37 s", "20 min", "3.5 h".
std::string human_span(int64_t ns);
// "512 B", "1.4 MB".
std::string human_bytes(uint64_t n);
// Addresses as text, in the given order.
std::vector<std::string> address_strings(const std::vector<core::IpAddress>& a);
// ["a","b"] with JSON escaping.
std::string json_strings(const std::vector<std::string>& v);

}  // namespace trawl::detect::text

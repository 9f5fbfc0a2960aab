// Small text helpers shared by the analyzers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trawl::analyzers {

// RFC 4648 base64 (whitespace ignored). nullopt on any other invalid input.
// Output is capped at max_out bytes (longer input: nullopt).
std::optional<std::string> base64_decode(std::string_view in, size_t max_out = 65536);

// ASCII case-insensitive helpers.
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
std::string to_lower(std::string_view s);
std::string_view trim(std::string_view s);  // spaces and tabs at both ends

}  // namespace trawl::analyzers

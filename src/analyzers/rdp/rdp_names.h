// Names rdp.jsonl gives to RDP's numeric fields, as Zeek's rdp/consts.zeek
// words them (unknown values become "<field>-<n>" as there).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace trawl::analyzers::rdp {

std::string security_protocol_name(uint32_t p);  // RDP_NEG_RSP selectedProtocol
std::vector<std::string> requested_protocol_names(uint32_t flags);  // RDP_NEG_REQ flags
std::string failure_code_name(uint32_t code);     // RDP_NEG_FAILURE
std::string result_name(uint32_t result);         // T.124 ConferenceCreateResponse result
std::string client_build_name(uint32_t build);
std::string keyboard_layout_name(uint32_t layout);
std::string high_color_depth_name(uint16_t depth);
std::string encryption_method_name(uint32_t method);
std::string encryption_level_name(uint32_t level);
std::string cert_type_name(uint32_t type);

}  // namespace trawl::analyzers::rdp

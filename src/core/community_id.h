// Community ID v1 (https://github.com/corelight/community-id-spec): a flow hash
// shared by Zeek, Suricata and Arkime so analysts can pivot between tools.
#pragma once

#include <cstdint>
#include <string>

#include "core/ip_address.h"

namespace trawl::core {

// proto is the IP protocol number. For ICMP/ICMPv6, sport/dport are type and
// code as carried in the packet; the function applies the spec's mapping.
std::string community_id_v1(const IpAddress& src, const IpAddress& dst, uint8_t proto, uint16_t sport,
                            uint16_t dport, uint16_t seed = 0);

}  // namespace trawl::core

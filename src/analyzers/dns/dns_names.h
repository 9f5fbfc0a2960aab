// Names dns.jsonl writes for numeric DNS codes: query types, classes and
// response codes, spelled as Zeek's dns.log spells them (base/protocols/dns
// consts), with Zeek's fallbacks for unlisted values ("query-N", "qclass-N",
// "rcode-N").
#pragma once

#include <cstdint>
#include <string>

namespace trawl::analyzers::dns {

std::string qtype_name(uint16_t qtype);    // "A", "AAAA", "TXT", "*" (255), "query-1234"
std::string qclass_name(uint16_t qclass);  // "C_INTERNET", "C_CHAOS", "qclass-32769"
std::string rcode_name(uint16_t rcode);    // "NOERROR", "NXDOMAIN", "unassigned-11", "rcode-4000"

}  // namespace trawl::analyzers::dns

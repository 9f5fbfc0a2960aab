// Zeek's role heuristics for the first packet of a connection: the
// likely_server_ports set and the ICMP request/reply counterparts.
#pragma once

#include <cstdint>

namespace trawl::flow {

// True if port is in Zeek's default likely_server_ports for the transport
// (proto 6 or 17; false for anything else). See server_ports.cc for the list.
bool is_likely_server_port(uint8_t proto, uint16_t port);

struct IcmpCounterpart {
  uint16_t port;  // the counterpart type, or the code for one-way messages
  bool one_way;
};

// Zeek's ICMP4_counterpart / ICMP6_counterpart: what Zeek puts in resp_p
// (id.resp_p) for an ICMP message of this type and code.
IcmpCounterpart icmp_counterpart(bool icmpv6, uint8_t type, uint8_t code);

// True for ICMP reply messages (echo reply and the other answers that have a
// request counterpart); used only by the optional reply-first flip.
bool icmp_is_reply(bool icmpv6, uint8_t type);

}  // namespace trawl::flow

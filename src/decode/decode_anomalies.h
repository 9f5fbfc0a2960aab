// Named anomalies the decoder counts ("decode.*"). Public so callers and tests
// can look counts up by id instead of by string.
#pragma once

#include "core/anomalies.h"

namespace trawl::decode::anomaly {

// Link layer and dispatch
inline const core::AnomalyId kUnknownLinktype{"decode.unknown_linktype"};
// A header was incomplete because the capture's snaplen cut the frame
// (caplen < wirelen): the capture's doing, not the packet's.
inline const core::AnomalyId kHeaderCutBySnaplen{"decode.header_cut_by_snaplen"};
inline const core::AnomalyId kTooManyEncapsulations{"decode.too_many_encapsulations"};
inline const core::AnomalyId kTruncatedEthernet{"decode.truncated_ethernet"};
inline const core::AnomalyId kInvalidEthertype{"decode.invalid_ethertype"};
inline const core::AnomalyId kTruncatedLlc{"decode.truncated_llc"};
inline const core::AnomalyId kTruncatedVlan{"decode.truncated_vlan"};
inline const core::AnomalyId kVlanTagsBeyondTwo{"decode.vlan_tags_beyond_two"};
inline const core::AnomalyId kTruncatedMpls{"decode.truncated_mpls"};
inline const core::AnomalyId kTruncatedPppoe{"decode.truncated_pppoe"};
inline const core::AnomalyId kBadPppoeHeader{"decode.bad_pppoe_header"};
inline const core::AnomalyId kPppoeLengthExceedsCapture{"decode.pppoe_length_exceeds_capture"};
inline const core::AnomalyId kTruncatedPpp{"decode.truncated_ppp"};
inline const core::AnomalyId kTruncatedSll{"decode.truncated_sll"};
inline const core::AnomalyId kTruncatedSll2{"decode.truncated_sll2"};
inline const core::AnomalyId kTruncatedLoopback{"decode.truncated_loopback"};
inline const core::AnomalyId kUnknownLoopbackFamily{"decode.unknown_loopback_family"};

// IPv4 / IPv6
inline const core::AnomalyId kTruncatedIpv4{"decode.truncated_ipv4"};
inline const core::AnomalyId kBadIpVersion{"decode.bad_ip_version"};
inline const core::AnomalyId kBadIpHeaderLength{"decode.bad_ip_header_length"};
inline const core::AnomalyId kBadIpTotalLength{"decode.bad_ip_total_length"};
// Total length 0 with data behind it: TCP segmentation offload on the
// capturing host; the captured (or wire) length is used instead.
inline const core::AnomalyId kIpv4ZeroTotalLength{"decode.ipv4_zero_total_length"};
// The IP header claims more bytes than the frame holds and snaplen does not
// explain it; the length is clamped to what is there.
inline const core::AnomalyId kIpTotalLengthExceedsCapture{"decode.ip_total_length_exceeds_capture"};
inline const core::AnomalyId kBadIpv4Checksum{"decode.bad_ipv4_checksum"};
inline const core::AnomalyId kTruncatedIpv6{"decode.truncated_ipv6"};
inline const core::AnomalyId kTruncatedIpv6ExtHeader{"decode.truncated_ipv6_ext_header"};
inline const core::AnomalyId kTooManyIpv6ExtHeaders{"decode.too_many_ipv6_ext_headers"};
inline const core::AnomalyId kIpv6ExtHeaderExceedsPayload{"decode.ipv6_ext_header_exceeds_payload"};
inline const core::AnomalyId kIpv6Jumbogram{"decode.ipv6_jumbogram"};
inline const core::AnomalyId kIpv6NestedFragment{"decode.ipv6_nested_fragment"};

// Fragment reassembly
inline const core::AnomalyId kFragmentOverlap{"decode.fragment_overlap"};
// Overlapping bytes that differ from the ones kept (an evasion attempt).
inline const core::AnomalyId kFragmentOverlapConflict{"decode.fragment_overlap_conflict"};
inline const core::AnomalyId kFragmentDuplicate{"decode.fragment_duplicate"};
inline const core::AnomalyId kFragmentLimit{"decode.fragment_limit"};
inline const core::AnomalyId kFragmentTimeout{"decode.fragment_timeout"};
inline const core::AnomalyId kFragmentTooLarge{"decode.fragment_too_large"};
inline const core::AnomalyId kFragmentBadLength{"decode.fragment_bad_length"};
inline const core::AnomalyId kFragmentInconsistentEnd{"decode.fragment_inconsistent_end"};
inline const core::AnomalyId kFragmentBeyondEnd{"decode.fragment_beyond_end"};
inline const core::AnomalyId kFragmentCutBySnaplen{"decode.fragment_cut_by_snaplen"};
inline const core::AnomalyId kFragmentIncomplete{"decode.fragment_incomplete"};

// Transport
inline const core::AnomalyId kTruncatedTcp{"decode.truncated_tcp"};
inline const core::AnomalyId kBadTcpHeaderLength{"decode.bad_tcp_header_length"};
inline const core::AnomalyId kTcpHeaderExceedsIpPayload{"decode.tcp_header_exceeds_ip_payload"};
inline const core::AnomalyId kBadTcpOption{"decode.bad_tcp_option"};
inline const core::AnomalyId kTcpWscaleTooLarge{"decode.tcp_wscale_too_large"};
inline const core::AnomalyId kBadTcpChecksum{"decode.bad_tcp_checksum"};
inline const core::AnomalyId kTruncatedUdp{"decode.truncated_udp"};
inline const core::AnomalyId kUdpHeaderExceedsIpPayload{"decode.udp_header_exceeds_ip_payload"};
inline const core::AnomalyId kUdpLengthMismatch{"decode.udp_length_mismatch"};
inline const core::AnomalyId kBadUdpChecksum{"decode.bad_udp_checksum"};
inline const core::AnomalyId kTruncatedIcmp{"decode.truncated_icmp"};
inline const core::AnomalyId kTruncatedIcmpv6{"decode.truncated_icmpv6"};
inline const core::AnomalyId kBadIcmpChecksum{"decode.bad_icmp_checksum"};
inline const core::AnomalyId kTruncatedArp{"decode.truncated_arp"};
inline const core::AnomalyId kUnsupportedArp{"decode.unsupported_arp"};

// Tunnels
inline const core::AnomalyId kTruncatedGre{"decode.truncated_gre"};
inline const core::AnomalyId kBadGreVersion{"decode.bad_gre_version"};
inline const core::AnomalyId kBadGreHeader{"decode.bad_gre_header"};
inline const core::AnomalyId kTruncatedErspan{"decode.truncated_erspan"};
inline const core::AnomalyId kTruncatedVxlan{"decode.truncated_vxlan"};

}  // namespace trawl::decode::anomaly

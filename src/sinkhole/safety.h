// Start-up safety checks for `trawl sinkhole`: the host must not forward the
// guest's packets and the interface must have no route out, or the fake
// internet would leak into the real one. Pure checks over the /proc file
// contents (unit-tested) plus a thin reader.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trawl::sinkhole {

// The /proc files the checks read, as text; nullopt: the file does not exist
// (IPv6 disabled, no such interface ...), which counts as "off" / "no routes".
struct SafetyInputs {
  std::string iface;
  std::optional<std::string> ipv4_iface_forwarding;  // /proc/sys/net/ipv4/conf/IFACE/forwarding
  std::optional<std::string> ipv4_ip_forward;        // /proc/sys/net/ipv4/ip_forward
  std::optional<std::string> ipv6_iface_forwarding;  // /proc/sys/net/ipv6/conf/IFACE/forwarding
  std::optional<std::string> ipv6_all_forwarding;    // /proc/sys/net/ipv6/conf/all/forwarding
  std::optional<std::string> ipv4_routes;            // /proc/net/route
  std::optional<std::string> ipv6_routes;            // /proc/net/ipv6_route
  std::optional<std::string> ipv6_iface_disabled;    // /proc/sys/net/ipv6/conf/IFACE/disable_ipv6
};

struct SafetyOverrides {
  bool allow_forwarding = false;
  bool allow_route = false;
};

// The key sysctl(8) takes for /proc/sys/PATH: "net.ipv4.conf.eth0.forwarding",
// or the path itself when a part has a dot (a VLAN interface such as
// eth0.100), which the dotted form would split.
std::string sysctl_key(std::string_view proc_sys_path);

// A sysctl flag file's value: true when its first token is a non-zero number.
bool sysctl_flag_on(std::string_view contents);

// Routes out of `iface` in /proc/net/route: the default route (0.0.0.0/0,
// with or without a gateway) or any route with a gateway via iface. Each as
// "default via 192.0.2.1" / "198.51.100.0/24 via 192.0.2.1". Malformed lines
// are skipped.
std::vector<std::string> ipv4_routes_out(std::string_view proc_net_route, std::string_view iface);
// The same for /proc/net/ipv6_route ("default via 2001:db8::1", "::/0 dev").
// Reject routes (unreachable/prohibit) are not routes out.
std::vector<std::string> ipv6_routes_out(std::string_view proc_net_ipv6_route, std::string_view iface);

// One line per reason to refuse, naming the setting and how to change it;
// empty: safe to start. Overridden checks are skipped.
std::vector<std::string> safety_problems(const SafetyInputs& in, const SafetyOverrides& overrides);

// True when /proc/net/ipv6_route holds a usable IPv6 default route (up, not
// unreachable/prohibit/blackhole) on any interface.
bool has_ipv6_default_route(std::string_view proc_net_ipv6_route);

// Reasons the guest would be served badly though nothing leaks, one line each
// with the fix. Today one: IPv6 on on the interface while the host has no
// IPv6 default route. Linux then answers every guest packet to another
// address with an ICMPv6 "no route" error (IPv4 with forwarding off drops
// them silently), and the guest's IPv6 connections fail before the
// sinkhole's answer arrives. With IPv6 off on the interface the sinkhole
// answers the neighbour solicitations itself.
std::vector<std::string> safety_warnings(const SafetyInputs& in);

// Reads the files under proc_root ("/proc" normally; tests pass a folder).
// Returns false with error if iface is not a plain interface name.
bool read_safety_inputs(const std::string& iface, SafetyInputs& out, std::string& error,
                        const std::string& proc_root = "/proc");

}  // namespace trawl::sinkhole

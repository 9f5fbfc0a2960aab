#include "sinkhole/safety.h"

#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "core/ip_address.h"

namespace trawl::sinkhole {

namespace {

// Route flags from <linux/route.h>, same values in both route files.
constexpr uint32_t kRtfUp = 0x1;
constexpr uint32_t kRtfGateway = 0x2;
constexpr uint32_t kRtfReject = 0x200;

// /proc files are small; anything larger is not what we expect to read.
constexpr std::streamsize kMaxProcFile = 4 << 20;

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    fn(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

bool parse_hex32(std::string_view s, uint32_t& out) {
  if (s.empty() || s.size() > 8) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_hex128(std::string_view s, std::array<uint8_t, 16>& out) {
  if (s.size() != 32) return false;
  for (size_t i = 0; i < 16; ++i) {
    uint32_t b = 0;
    if (!parse_hex32(s.substr(2 * i, 2), b)) return false;
    out[i] = static_cast<uint8_t>(b);
  }
  return true;
}

// /proc/net/route prints each address as the host-order integer of the
// network-order bytes, so copying the integer back gives the bytes on any host.
std::string ipv4_text(uint32_t printed) {
  uint8_t b[4];
  std::memcpy(b, &printed, 4);
  return core::IpAddress::v4(b).to_string();
}

bool all_zero(const std::array<uint8_t, 16>& a) {
  for (uint8_t b : a)
    if (b) return false;
  return true;
}

}  // namespace

std::string sysctl_key(std::string_view proc_sys_path) {
  if (proc_sys_path.find('.') != std::string_view::npos) return std::string(proc_sys_path);
  std::string key(proc_sys_path);
  for (char& c : key) {
    if (c == '/') c = '.';
  }
  return key;
}

bool sysctl_flag_on(std::string_view contents) {
  auto tokens = split_ws(contents.substr(0, contents.find('\n')));
  if (tokens.empty()) return false;
  for (char c : tokens[0])
    if (c != '0') return true;  // "1", "2", or anything not plainly zero counts as on
  return false;
}

std::vector<std::string> ipv4_routes_out(std::string_view proc_net_route, std::string_view iface) {
  std::vector<std::string> out;
  for_each_line(proc_net_route, [&](std::string_view line) {
    auto f = split_ws(line);
    // Iface Destination Gateway Flags RefCnt Use Metric Mask ...
    if (f.size() < 8 || f[0] != iface) return;
    uint32_t dest = 0, gw = 0, flags = 0, mask = 0;
    if (!parse_hex32(f[1], dest) || !parse_hex32(f[2], gw) || !parse_hex32(f[3], flags) ||
        !parse_hex32(f[7], mask))
      return;  // the header line and anything malformed
    if (!(flags & kRtfUp) || (flags & kRtfReject)) return;
    const bool gateway = (flags & kRtfGateway) || gw != 0;
    const bool is_default = dest == 0 && mask == 0;
    if (!gateway && !is_default) return;
    std::string text = is_default ? std::string("default")
                                  : ipv4_text(dest) + "/" + std::to_string(std::popcount(mask));
    text += gateway ? " via " + ipv4_text(gw) : std::string(" dev ") + std::string(iface);
    out.push_back(std::move(text));
  });
  return out;
}

std::vector<std::string> ipv6_routes_out(std::string_view proc_net_ipv6_route, std::string_view iface) {
  std::vector<std::string> out;
  for_each_line(proc_net_ipv6_route, [&](std::string_view line) {
    auto f = split_ws(line);
    // dest plen src splen nexthop metric refcnt use flags dev
    if (f.size() < 10 || f[9] != iface) return;
    std::array<uint8_t, 16> dest{}, hop{};
    uint32_t plen = 0, flags = 0;
    if (!parse_hex128(f[0], dest) || !parse_hex32(f[1], plen) || !parse_hex128(f[4], hop) ||
        !parse_hex32(f[8], flags) || plen > 128)
      return;
    if (!(flags & kRtfUp) || (flags & kRtfReject)) return;
    const bool gateway = (flags & kRtfGateway) || !all_zero(hop);
    const bool is_default = plen == 0;
    if (!gateway && !is_default) return;
    std::string text = is_default ? std::string("default")
                                  : core::IpAddress::v6(dest.data()).to_string() + "/" + std::to_string(plen);
    text += gateway ? " via " + core::IpAddress::v6(hop.data()).to_string() : std::string(" dev ") + std::string(iface);
    out.push_back(std::move(text));
  });
  return out;
}

bool has_ipv6_default_route(std::string_view proc_net_ipv6_route) {
  bool found = false;
  for_each_line(proc_net_ipv6_route, [&](std::string_view line) {
    auto f = split_ws(line);
    uint32_t plen = 0, flags = 0;
    if (f.size() < 10 || !parse_hex32(f[1], plen) || !parse_hex32(f[8], flags)) return;
    // The kernel's own "no route" entry is a reject route with prefix 0.
    if (plen == 0 && (flags & kRtfUp) && !(flags & kRtfReject)) found = true;
  });
  return found;
}

std::vector<std::string> safety_warnings(const SafetyInputs& in) {
  std::vector<std::string> out;
  const bool v6_on = in.ipv6_iface_disabled && !sysctl_flag_on(*in.ipv6_iface_disabled);
  if (v6_on && !(in.ipv6_routes && has_ipv6_default_route(*in.ipv6_routes))) {
    out.push_back("IPv6 is on on " + in.iface + " and this host has no IPv6 default route: its kernel answers "
                  "the guest's IPv6 packets to other addresses with ICMPv6 \"no route\" errors, so the guest's "
                  "IPv6 connections fail. Turn IPv6 off on the interface (`sysctl -w " +
                  sysctl_key("net/ipv6/conf/" + in.iface + "/disable_ipv6") +
                  "=1`): the sinkhole answers neighbour solicitations and all IPv6 itself");
  }
  return out;
}

std::vector<std::string> safety_problems(const SafetyInputs& in, const SafetyOverrides& overrides) {
  std::vector<std::string> problems;
  const std::string& ifc = in.iface;
  if (!overrides.allow_forwarding) {
    auto flag = [&](const std::optional<std::string>& v, const std::string& path, const std::string& sysctl) {
      if (v && sysctl_flag_on(*v)) {
        problems.push_back(path + " is 1: this host would forward the guest's packets to the real network. "
                           "Turn it off with `sysctl -w " + sysctl + "=0` (or pass --allow-forwarding)");
      }
    };
    flag(in.ipv4_ip_forward, "/proc/sys/net/ipv4/ip_forward", "net.ipv4.ip_forward");
    flag(in.ipv4_iface_forwarding, "/proc/sys/net/ipv4/conf/" + ifc + "/forwarding",
         sysctl_key("net/ipv4/conf/" + ifc + "/forwarding"));
    flag(in.ipv6_all_forwarding, "/proc/sys/net/ipv6/conf/all/forwarding", "net.ipv6.conf.all.forwarding");
    flag(in.ipv6_iface_forwarding, "/proc/sys/net/ipv6/conf/" + ifc + "/forwarding",
         sysctl_key("net/ipv6/conf/" + ifc + "/forwarding"));
  }
  if (!overrides.allow_route) {
    auto routes = [&](const std::optional<std::string>& table, bool v6) {
      if (!table) return;
      for (const std::string& r : v6 ? ipv6_routes_out(*table, ifc) : ipv4_routes_out(*table, ifc)) {
        problems.push_back(std::string("interface ") + ifc + " has a route out (" + (v6 ? "IPv6 " : "IPv4 ") + r +
                           "): the sinkhole's interface must be host-only. Remove it with `ip " +
                           (v6 ? "-6 " : "") + "route del " + r.substr(0, r.find(' ')) + " dev " + ifc +
                           "` (or pass --allow-route)");
      }
    };
    routes(in.ipv4_routes, false);
    routes(in.ipv6_routes, true);
  }
  return problems;
}

bool read_safety_inputs(const std::string& iface, SafetyInputs& out, std::string& error,
                        const std::string& proc_root) {
  // The name goes into paths: refuse anything that could leave the folder.
  if (iface.empty() || iface.size() > 15 || iface == "." || iface == ".." ||
      iface.find_first_of("/ \t\n\r") != std::string::npos || iface.find('\0') != std::string::npos) {
    error = "'" + iface + "' is not an interface name";
    return false;
  }
  auto read = [](const std::string& path) -> std::optional<std::string> {
    std::ifstream f(path, std::ios::binary);
    if (!f) return std::nullopt;
    // Small reads: a sysctl file refuses one read larger than the kernel's
    // largest allocation, so a single big read() would return nothing.
    std::string text;
    char chunk[16384];
    while (f && static_cast<std::streamsize>(text.size()) < kMaxProcFile) {
      f.read(chunk, sizeof chunk);
      text.append(chunk, static_cast<size_t>(f.gcount()));
    }
    return text;
  };
  out = SafetyInputs{};
  out.iface = iface;
  out.ipv4_iface_forwarding = read(proc_root + "/sys/net/ipv4/conf/" + iface + "/forwarding");
  out.ipv4_ip_forward = read(proc_root + "/sys/net/ipv4/ip_forward");
  out.ipv6_iface_forwarding = read(proc_root + "/sys/net/ipv6/conf/" + iface + "/forwarding");
  out.ipv6_all_forwarding = read(proc_root + "/sys/net/ipv6/conf/all/forwarding");
  out.ipv4_routes = read(proc_root + "/net/route");
  out.ipv6_routes = read(proc_root + "/net/ipv6_route");
  out.ipv6_iface_disabled = read(proc_root + "/sys/net/ipv6/conf/" + iface + "/disable_ipv6");
  return true;
}

}  // namespace trawl::sinkhole

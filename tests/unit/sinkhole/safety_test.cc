#include "sinkhole/safety.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace trawl::sinkhole {
namespace {

// Shaped like the kernel's own output (tabs, trailing blanks, header line).
constexpr const char* kRouteHeader =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT   \n";

TEST(SysctlFlag, Values) {
  EXPECT_TRUE(sysctl_flag_on("1\n"));
  EXPECT_TRUE(sysctl_flag_on("2"));
  EXPECT_FALSE(sysctl_flag_on("0\n"));
  EXPECT_FALSE(sysctl_flag_on(""));
  EXPECT_FALSE(sysctl_flag_on("\n1\n"));  // only the first line counts
  EXPECT_FALSE(sysctl_flag_on("  0  \n"));
}

TEST(Ipv4Routes, DefaultViaGatewayOnIface) {
  std::string t = std::string(kRouteHeader) +
                  "veth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0   \n"
                  "veth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0   \n";
  EXPECT_EQ(ipv4_routes_out(t, "veth0"), (std::vector<std::string>{"default via 10.0.0.1"}));
  EXPECT_TRUE(ipv4_routes_out(t, "veth1").empty());
  EXPECT_TRUE(ipv4_routes_out(t, "veth").empty());  // names match exactly, not by prefix
}

TEST(Ipv4Routes, GatewayRouteAndOnLinkDefault) {
  std::string t = std::string(kRouteHeader) +
                  // 198.51.100.0/24 via 192.0.2.1
                  "sb0\t006433C6\t010200C0\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
                  // default dev sb0 (no gateway): still everything goes out
                  "sb0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n"
                  // 192.0.2.0/24 dev sb0: the host-only network itself
                  "sb0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
  EXPECT_EQ(ipv4_routes_out(t, "sb0"),
            (std::vector<std::string>{"198.51.100.0/24 via 192.0.2.1", "default dev sb0"}));
}

TEST(Ipv4Routes, DownRejectAndMalformedIgnored) {
  std::string t = std::string(kRouteHeader) +
                  "sb0\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"  // not up
                  "sb0\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0\n"  // reject
                  "sb0\tZZZZZZZZ\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
                  "sb0\t00000000\t010200C0\t0003\n"  // truncated
                  "sb0\t000000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"  // 9 digits
                  "\n\n";
  EXPECT_TRUE(ipv4_routes_out(t, "sb0").empty());
  EXPECT_TRUE(ipv4_routes_out("", "sb0").empty());
  EXPECT_TRUE(ipv4_routes_out(std::string(5000, '\t'), "sb0").empty());
}

TEST(Ipv6Routes, KernelTable) {
  // A real table's shape: link-local, local /128, multicast, the lo reject
  // default, plus a default via a router on eth0.
  std::string t =
      "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 "
      "00000000000000000000000000000000 00000100 00000002 00000000 00000001     sb0\n"
      "20010db8000000000000000000000000 40 00000000000000000000000000000000 00 "
      "00000000000000000000000000000000 00000100 00000001 00000000 00000001     sb0\n"
      "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
      "20010db8000000000000000000000001 00000400 00000003 00000000 00000003     eth0\n"
      "20010db8000000000000000000000002 80 00000000000000000000000000000000 00 "
      "00000000000000000000000000000000 00000000 00000004 00000000 80200001     sb0\n"
      "ff000000000000000000000000000000 08 00000000000000000000000000000000 00 "
      "00000000000000000000000000000000 00000100 00000003 00000000 00000001     sb0\n"
      "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
      "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";
  EXPECT_TRUE(ipv6_routes_out(t, "sb0").empty());
  EXPECT_TRUE(ipv6_routes_out(t, "lo").empty());  // the unreachable default is a reject route
  EXPECT_EQ(ipv6_routes_out(t, "eth0"), (std::vector<std::string>{"default via 2001:db8::1"}));
}

TEST(Ipv6Routes, GatewayRouteAndGarbage) {
  std::string t =
      "20010db8000100000000000000000000 30 00000000000000000000000000000000 00 "
      "fe800000000000000000000000000001 00000400 00000003 00000000 00000003 sb0\n"
      "20010db8000100000000000000000000 ff 00000000000000000000000000000000 00 "
      "fe800000000000000000000000000001 00000400 00000003 00000000 00000003 sb0\n"  // plen > 128
      "20010db80001 30 0 00 fe80 0 0 0 3 sb0\n"
      "garbage\n";
  EXPECT_EQ(ipv6_routes_out(t, "sb0"), (std::vector<std::string>{"2001:db8:1::/48 via fe80::1"}));
}

SafetyInputs safe_inputs() {
  SafetyInputs in;
  in.iface = "sb0";
  in.ipv4_iface_forwarding = "0\n";
  in.ipv4_ip_forward = "0\n";
  in.ipv6_iface_forwarding = "0\n";
  in.ipv6_all_forwarding = "0\n";
  in.ipv4_routes = std::string(kRouteHeader) + "sb0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
                   "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
  in.ipv6_routes = "";
  return in;
}

TEST(SafetyProblems, SafeHostHasNone) {
  EXPECT_TRUE(safety_problems(safe_inputs(), {}).empty());
  SafetyInputs missing;  // no IPv6, nothing readable: nothing to refuse on
  missing.iface = "sb0";
  EXPECT_TRUE(safety_problems(missing, {}).empty());
}

TEST(SafetyProblems, EachForwardingFlagNamed) {
  SafetyInputs in = safe_inputs();
  in.ipv4_ip_forward = "1\n";
  in.ipv6_iface_forwarding = "1\n";
  auto p = safety_problems(in, {});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NE(p[0].find("/proc/sys/net/ipv4/ip_forward is 1"), std::string::npos) << p[0];
  EXPECT_NE(p[0].find("sysctl -w net.ipv4.ip_forward=0"), std::string::npos) << p[0];
  EXPECT_NE(p[0].find("--allow-forwarding"), std::string::npos) << p[0];
  EXPECT_NE(p[1].find("/proc/sys/net/ipv6/conf/sb0/forwarding is 1"), std::string::npos) << p[1];
  EXPECT_NE(p[1].find("sysctl -w net.ipv6.conf.sb0.forwarding=0"), std::string::npos) << p[1];

  in = safe_inputs();
  in.ipv4_iface_forwarding = "1";
  in.ipv6_all_forwarding = "1";
  p = safety_problems(in, {});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NE(p[0].find("net.ipv4.conf.sb0.forwarding"), std::string::npos) << p[0];
  EXPECT_NE(p[1].find("net.ipv6.conf.all.forwarding"), std::string::npos) << p[1];

  EXPECT_TRUE(safety_problems(in, {.allow_forwarding = true, .allow_route = false}).empty());
}

TEST(SafetyProblems, RouteOutNamedWithFix) {
  SafetyInputs in = safe_inputs();
  *in.ipv4_routes += "sb0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
  in.ipv6_routes =
      "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
      "20010db8000000000000000000000001 00000400 00000003 00000000 00000003 sb0\n";
  auto p = safety_problems(in, {});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0],
            "interface sb0 has a route out (IPv4 default via 192.0.2.1): the sinkhole's interface must be "
            "host-only. Remove it with `ip route del default dev sb0` (or pass --allow-route)");
  EXPECT_EQ(p[1],
            "interface sb0 has a route out (IPv6 default via 2001:db8::1): the sinkhole's interface must be "
            "host-only. Remove it with `ip -6 route del default dev sb0` (or pass --allow-route)");
  EXPECT_TRUE(safety_problems(in, {.allow_forwarding = false, .allow_route = true}).empty());
  in.ipv4_ip_forward = "1";
  EXPECT_EQ(safety_problems(in, {.allow_forwarding = false, .allow_route = true}).size(), 1u);
}

TEST(SysctlKey, DotsOrTheSlashFormForDottedNames) {
  EXPECT_EQ(sysctl_key("net/ipv4/conf/eth0/forwarding"), "net.ipv4.conf.eth0.forwarding");
  EXPECT_EQ(sysctl_key("net/ipv6/conf/eth0.100/disable_ipv6"), "net/ipv6/conf/eth0.100/disable_ipv6");
  SafetyInputs in = safe_inputs();
  in.iface = "eth0.100";
  in.ipv4_iface_forwarding = "1\n";
  auto p = safety_problems(in, {});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("`sysctl -w net/ipv4/conf/eth0.100/forwarding=0`"), std::string::npos) << p[0];
}

// IPv6 on on the interface and no IPv6 default route: Linux answers the
// guest's packets with ICMPv6 "no route" errors. A warning, with the fix.
TEST(SafetyWarnings, Ipv6OnWithoutDefaultRoute) {
  const std::string kernel_null =
      "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
      "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";
  const std::string via_eth0 =
      "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
      "20010db8000000000000000000000001 00000400 00000003 00000000 00000003     eth0\n";
  EXPECT_FALSE(has_ipv6_default_route(kernel_null));
  EXPECT_TRUE(has_ipv6_default_route(kernel_null + via_eth0));
  EXPECT_FALSE(has_ipv6_default_route("garbage\n00 00\n"));

  SafetyInputs in = safe_inputs();
  in.ipv6_iface_disabled = "0\n";
  in.ipv6_routes = kernel_null;
  auto w = safety_warnings(in);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("IPv6 is on on sb0 and this host has no IPv6 default route"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("sysctl -w net.ipv6.conf.sb0.disable_ipv6=1"), std::string::npos) << w[0];
  EXPECT_TRUE(safety_problems(in, {}).empty());  // not a leak: the start goes on
  in.ipv6_routes = kernel_null + via_eth0;  // dropped silently (forwarding is off)
  EXPECT_TRUE(safety_warnings(in).empty());
  in.ipv6_routes = kernel_null;
  in.ipv6_iface_disabled = "1\n";  // the kernel stays out
  EXPECT_TRUE(safety_warnings(in).empty());
  in.ipv6_iface_disabled.reset();  // no IPv6 in this kernel
  EXPECT_TRUE(safety_warnings(in).empty());
}

TEST(ReadSafetyInputs, ReadsTheFilesUnderRoot) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("trawl_safety_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "sys/net/ipv4/conf/sb0");
  fs::create_directories(root / "net");
  std::ofstream(root / "sys/net/ipv4/conf/sb0/forwarding") << "1\n";
  std::ofstream(root / "sys/net/ipv4/ip_forward") << "0\n";
  std::ofstream(root / "net/route") << kRouteHeader;

  SafetyInputs in;
  std::string err;
  ASSERT_TRUE(read_safety_inputs("sb0", in, err, root.string())) << err;
  EXPECT_EQ(in.iface, "sb0");
  EXPECT_EQ(in.ipv4_iface_forwarding, std::optional<std::string>("1\n"));
  EXPECT_EQ(in.ipv4_ip_forward, std::optional<std::string>("0\n"));
  EXPECT_FALSE(in.ipv6_iface_forwarding.has_value());  // IPv6 off: missing, not an error
  EXPECT_FALSE(in.ipv6_all_forwarding.has_value());
  EXPECT_EQ(in.ipv4_routes, std::optional<std::string>(kRouteHeader));
  EXPECT_FALSE(in.ipv6_routes.has_value());
  auto p = safety_problems(in, {});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("/proc/sys/net/ipv4/conf/sb0/forwarding is 1"), std::string::npos);
  fs::remove_all(root);
}

// The real files: a sysctl file refuses one read larger than the kernel's
// largest allocation, so the reader must read in small pieces.
TEST(ReadSafetyInputs, ReadsTheRealSysctlFiles) {
  SafetyInputs in;
  std::string err;
  ASSERT_TRUE(read_safety_inputs("lo", in, err)) << err;
  ASSERT_TRUE(in.ipv4_ip_forward.has_value());
  EXPECT_TRUE(*in.ipv4_ip_forward == "0\n" || *in.ipv4_ip_forward == "1\n") << *in.ipv4_ip_forward;
  ASSERT_TRUE(in.ipv4_iface_forwarding.has_value());
  EXPECT_TRUE(*in.ipv4_iface_forwarding == "0\n" || *in.ipv4_iface_forwarding == "1\n");
  ASSERT_TRUE(in.ipv4_routes.has_value());
  EXPECT_EQ(in.ipv4_routes->rfind("Iface\tDestination\tGateway", 0), 0u);
}

TEST(ReadSafetyInputs, RefusesNamesThatAreNotInterfaces) {
  SafetyInputs in;
  std::string err;
  for (const char* bad : {"", ".", "..", "../../etc", "a/b", "eth 0", "abcdefghijklmnop"}) {
    err.clear();
    EXPECT_FALSE(read_safety_inputs(bad, in, err, "no-such-proc-root")) << bad;
    EXPECT_NE(err.find("is not an interface name"), std::string::npos) << bad;
  }
  EXPECT_TRUE(read_safety_inputs("eth0.100", in, err, "no-such-proc-root"));
}

}  // namespace
}  // namespace trawl::sinkhole

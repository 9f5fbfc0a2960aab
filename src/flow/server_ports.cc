#include "flow/server_ports.h"

#include <algorithm>
#include <iterator>

namespace trawl::flow {

namespace {

// Zeek builds likely_server_ports from its base scripts: each protocol's
// main.zeek does `redef likely_server_ports += { ports }` with the ports it
// registers its analyzer for. This is that union for Zeek 7/8 base scripts
// (scripts/base/protocols/*), kept per transport because Zeek's lookup is per
// transport (53/udp and 53/tcp are separate entries):
//   dce-rpc 135/tcp; dhcp 67/udp; dnp3 20000/tcp+udp; dns 53/tcp+udp,
//   137/udp, 5353/udp, 5355/udp; finger 79/tcp; ftp 21, 2811/tcp;
//   http 80, 81, 631, 1080, 3128, 8000, 8080, 8888/tcp; imap 143/tcp;
//   irc 6666-6669/tcp; krb 88/tcp+udp; ldap 389, 3268/tcp, 389/udp;
//   modbus 502/tcp; mqtt 1883/tcp; mysql 1434, 3306/tcp; ntp 123/udp;
//   pop3 110/tcp; postgresql 5432/tcp; quic 443/udp; radius 1812/udp;
//   rdp 3389/tcp; redis 6379/tcp; sip 5060/udp; smb 139, 445/tcp;
//   smtp 25, 587/tcp; snmp 161, 162/udp; socks 1080/tcp; ssh 22/tcp;
//   ssl 443, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223/tcp,
//   dtls 443/udp; syslog 514/udp; tunnels: ayiya 5072/udp, teredo 3544/udp,
//   gtpv1 2123, 2152/udp, vxlan 4789/udp, geneve 6081/udp;
//   xmpp 5222, 5269/tcp.
// Ports that appear in folklore lists but that no Zeek base analyzer
// registers (e.g. 23, 111, 1723, 5900, 8443) are deliberately absent, since
// Zeek would not flip on them either.
constexpr uint16_t kTcp[] = {
    21,   22,   25,   53,   79,   80,   81,   88,   110,  135,  139,  143,  389,  443,  445,  502,
    563,  585,  587,  614,  631,  636,  989,  990,  992,  993,  995,  1080, 1434, 1883, 2811, 3128,
    3268, 3306, 3389, 5222, 5223, 5269, 5432, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
};

constexpr uint16_t kUdp[] = {
    53, 67, 88, 123, 137, 161, 162, 389, 443, 514, 1812, 2123, 2152, 3544, 4789, 5060, 5072, 5353, 5355, 6081, 20000,
};

template <size_t N>
constexpr bool strictly_sorted(const uint16_t (&a)[N]) {
  for (size_t i = 1; i < N; ++i) {
    if (a[i - 1] >= a[i]) return false;
  }
  return true;
}
static_assert(strictly_sorted(kTcp) && strictly_sorted(kUdp));

}  // namespace

bool is_likely_server_port(uint8_t proto, uint16_t port) {
  if (proto == 6) {
    return std::binary_search(std::begin(kTcp), std::end(kTcp), port);
  }
  if (proto == 17) return std::binary_search(std::begin(kUdp), std::end(kUdp), port);
  return false;
}

IcmpCounterpart icmp_counterpart(bool icmpv6, uint8_t type, uint8_t code) {
  if (!icmpv6) {
    switch (type) {
      case 8: return {0, false};    // echo request / reply
      case 0: return {8, false};
      case 13: return {14, false};  // timestamp request / reply
      case 14: return {13, false};
      case 15: return {16, false};  // information request / reply
      case 16: return {15, false};
      case 10: return {9, false};   // router solicitation / advertisement
      case 9: return {10, false};
      case 17: return {18, false};  // address mask request / reply
      case 18: return {17, false};
      default: return {code, true};
    }
  }
  switch (type) {
    case 128: return {129, false};  // echo request / reply
    case 129: return {128, false};
    case 133: return {134, false};  // router solicitation / advertisement
    case 134: return {133, false};
    case 135: return {136, false};  // neighbor solicitation / advertisement
    case 136: return {135, false};
    case 130: return {131, false};  // MLD listener query / report
    case 131: return {130, false};
    case 139: return {140, false};  // node information query / response
    case 140: return {139, false};
    case 144: return {145, false};  // home agent address discovery
    case 145: return {144, false};
    default: return {code, true};
  }
}

bool icmp_is_reply(bool icmpv6, uint8_t type) {
  // Advertisements (9, 134, 136) and MLD reports (131) are left out on purpose: they are routinely
  // sent unsolicited to multicast groups, and flipping those would make the
  // group address the originator.
  if (!icmpv6) return type == 0 || type == 14 || type == 16 || type == 18;
  return type == 129 || type == 140 || type == 145;
}

}  // namespace trawl::flow

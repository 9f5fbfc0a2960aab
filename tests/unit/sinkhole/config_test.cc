// The sinkhole's TOML configuration: every section read into the components'
// structs, defaults kept for missing keys, and errors naming file:line:column.
#include "sinkhole/config.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace trawl::sinkhole {
namespace {

std::string net(const core::IpNetwork& n) { return n.base.to_string() + "/" + std::to_string(n.prefix); }

bool parse(const std::string& text, SinkholeConfig& c, std::string& err) {
  return parse_config(text, "cfg/sinkhole.toml", c, err);
}

TEST(SinkholeConfig, EmptyFileKeepsEveryDefault) {
  SinkholeConfig c;
  std::string err;
  ASSERT_TRUE(parse("", c, err)) << err;
  const SinkholeConfig d;
  EXPECT_EQ(c.tcp.max_connections, d.tcp.max_connections);
  EXPECT_EQ(net(c.dns.pool_v4), "198.18.0.0/15");
  EXPECT_EQ(c.http.server, d.http.server);
  EXPECT_EQ(c.services.ports, d.services.ports);
  EXPECT_TRUE(c.answer_icmp_echo);
  EXPECT_TRUE(c.never_answer.empty());
}

TEST(SinkholeConfig, EverySectionIsRead) {
  const std::string text = R"(
[sinkhole]
answer_icmp_echo = false
answer_arp = false
never_answer = ["10.9.0.1", "fd00::/64"]
ca_dir = "ca"

[limits]
max_artifact_bytes = 1000
udp_logged_bytes = 16

[tcp]
rst_ports = [135, 445]
max_connections = 100
max_half_open = 50
mss = 1200
rto_initial_ms = 250
idle_timeout_s = 60
seed = 7

[dns]
mode = "fixed"
fixed_v4 = "198.18.9.9"
ttl = 60
nxdomain_first = 2

[[dns.override]]
name = "*.example.com"
v4 = "192.0.2.10"

[[dns.override]]
name = "blocked.example"
nxdomain = true

[http]
server = "nginx"
max_requests = 5

[[http.override]]
host = "c2.example"
path = "/gate*"
status = 404
body = "no"

[services]
sniff_wait_ms = 500

[services.ports]
8443 = "tls"
25 = "sniff"

[services.smtp]
hostname = "mx.example.org"

[services.irc]
motd = ["a", "b"]
)";
  SinkholeConfig c;
  std::string err;
  ASSERT_TRUE(parse(text, c, err)) << err;
  EXPECT_FALSE(c.answer_icmp_echo);
  EXPECT_FALSE(c.answer_arp);
  EXPECT_TRUE(c.answer_ndp);
  ASSERT_EQ(c.never_answer.size(), 2u);
  EXPECT_EQ(net(c.never_answer[0]), "10.9.0.1/32");
  EXPECT_EQ(net(c.never_answer[1]), "fd00::/64");
  EXPECT_EQ(c.ca_dir, "cfg/ca");  // relative to the file
  EXPECT_EQ(c.limits.max_artifact_bytes, 1000u);
  EXPECT_EQ(c.limits.udp_logged_bytes, 16u);
  EXPECT_EQ(c.tcp.rst_ports, (std::set<uint16_t>{135, 445}));
  EXPECT_EQ(c.tcp.max_connections, 100u);
  EXPECT_EQ(c.tcp.max_half_open, 50u);
  EXPECT_EQ(c.tcp.our_mss, 1200);
  EXPECT_EQ(c.tcp.rto_initial_ns, 250 * 1000000LL);
  EXPECT_EQ(c.tcp.idle_timeout_ns, 60 * core::kNsPerSec);
  EXPECT_EQ(c.tcp.seed, 7u);
  EXPECT_EQ(c.dns.mode, DnsResponderConfig::Mode::kFixed);
  EXPECT_EQ(c.dns.fixed_v4.to_string(), "198.18.9.9");
  EXPECT_EQ(c.dns.ttl, 60u);
  EXPECT_EQ(c.dns.nxdomain_first, 2u);
  ASSERT_EQ(c.dns.overrides.size(), 2u);
  EXPECT_EQ(c.dns.overrides[0].name, "*.example.com");
  EXPECT_EQ(c.dns.overrides[0].v4->to_string(), "192.0.2.10");
  EXPECT_FALSE(c.dns.overrides[0].v6.has_value());
  EXPECT_TRUE(c.dns.overrides[1].nxdomain);
  EXPECT_EQ(c.http.server, "nginx");
  EXPECT_EQ(c.http.max_requests, 5u);
  ASSERT_EQ(c.http.overrides.size(), 1u);
  EXPECT_EQ(c.http.overrides[0].host, "c2.example");
  EXPECT_EQ(c.http.overrides[0].path, "/gate*");
  EXPECT_EQ(c.http.overrides[0].status, 404);
  EXPECT_EQ(c.http.overrides[0].body, "no");
  EXPECT_EQ(c.services.sniff_wait_ns, 500 * 1000000LL);
  EXPECT_EQ(c.services.ports.at(8443), ServiceKind::kTls);
  EXPECT_EQ(c.services.ports.count(25), 0u);
  EXPECT_EQ(c.services.smtp.hostname, "mx.example.org");
  EXPECT_EQ(c.services.irc.motd, (std::vector<std::string>{"a", "b"}));
  // Untouched keys keep the defaults.
  EXPECT_EQ(c.tcp.max_retransmits, TcpConfig{}.max_retransmits);
  EXPECT_EQ(c.services.ftp.passive_port_first, FtpConfig{}.passive_port_first);
}

struct Bad {
  const char* text;
  const char* error;
};

TEST(SinkholeConfig, ErrorsNameFileLineAndColumn) {
  const Bad cases[] = {
      {"[tcp]\nmss = 1400\nmax_conections = 5\n", "cfg/sinkhole.toml:3:1: unknown key 'tcp.max_conections'"},
      {"[tcp]\nmss = \"big\"\n", "cfg/sinkhole.toml:2:7: 'mss' must be an integer"},
      {"[tcp]\nmss = 10\n", "cfg/sinkhole.toml:2:7: 'mss' must be between 64 and 65495"},
      {"[tcp]\nttl = -1\n", "cfg/sinkhole.toml:2:7: 'ttl' must be between 1 and 255"},
      {"[sinkhole]\nanswer_arp = 1\n", "cfg/sinkhole.toml:2:14: 'answer_arp' must be true or false"},
      {"[sinkhole]\nnever_answer = [\"10.0.0.300\"]\n",
       "cfg/sinkhole.toml:2:17: 'never_answer': '10.0.0.300' is not an address or network (a.b.c.d/n)"},
      {"[dns]\nfixed_v4 = \"2001:db8::1\"\n", "cfg/sinkhole.toml:2:12: 'fixed_v4' must be an IPv4 address"},
      {"[dns]\nmode = \"random\"\n", "cfg/sinkhole.toml:2:8: 'mode' must be \"pool\" or \"fixed\""},
      {"[[dns.override]]\nv4 = \"192.0.2.1\"\n", "cfg/sinkhole.toml:1:1: a dns.override needs a 'name'"},
      {"[services.ports]\n80 = \"gopher\"\n",
       "cfg/sinkhole.toml:2:6: 'services.ports.80': unknown service 'gopher' (http, tls, smtp, pop3, ftp, irc, dns, "
       "catchall or sniff)"},
      {"[services.ports]\n99999 = \"http\"\n",
       "cfg/sinkhole.toml:2:9: 'services.ports.99999': the key must be a port number (1-65535)"},
      {"[nonsense]\n", "cfg/sinkhole.toml:1:2: unknown key 'nonsense'"},
      {"tcp = 5\n", "cfg/sinkhole.toml:1:7: 'tcp' must be a table"},
      {"[tcp]\nmax_connections = 10\nmax_half_open = 20\n",
       "cfg/sinkhole.toml: tcp.max_half_open must not exceed tcp.max_connections"},
  };
  for (const Bad& b : cases) {
    SinkholeConfig c;
    std::string err;
    EXPECT_FALSE(parse(b.text, c, err)) << b.text;
    EXPECT_EQ(err, b.error) << b.text;
  }
}

TEST(SinkholeConfig, SyntaxErrorsComeFromTheParserWithTheirPlace) {
  SinkholeConfig c;
  std::string err;
  EXPECT_FALSE(parse("[tcp\nmss = 1\n", c, err));
  EXPECT_EQ(err.rfind("cfg/sinkhole.toml:1:", 0), 0u) << err;
}

TEST(SinkholeConfig, TheShippedSampleLoadsAndIsTheDefault) {
  SinkholeConfig c;
  std::string err;
  ASSERT_TRUE(load_config(std::string(TRAWL_TEST_DATA) + "/../../samples/sinkhole.toml", c, err)) << err;
  const SinkholeConfig d;
  EXPECT_EQ(c.tcp.max_connections, d.tcp.max_connections);
  EXPECT_EQ(c.tcp.max_half_open, d.tcp.max_half_open);
  EXPECT_EQ(c.tcp.our_mss, d.tcp.our_mss);
  EXPECT_EQ(c.tcp.rto_initial_ns, d.tcp.rto_initial_ns);
  EXPECT_EQ(c.tcp.idle_timeout_ns, d.tcp.idle_timeout_ns);
  EXPECT_EQ(c.tcp.rst_ports, d.tcp.rst_ports);
  EXPECT_EQ(net(c.dns.pool_v4), net(d.dns.pool_v4));
  EXPECT_EQ(net(c.dns.pool_v6), net(d.dns.pool_v6));
  EXPECT_EQ(c.dns.fixed_v4, d.dns.fixed_v4);
  EXPECT_EQ(c.dns.ttl, d.dns.ttl);
  EXPECT_EQ(c.http.server, d.http.server);
  EXPECT_EQ(c.http.max_body, d.http.max_body);
  EXPECT_EQ(c.services.ports, d.services.ports);
  EXPECT_EQ(c.services.tls_inner, d.services.tls_inner);
  EXPECT_EQ(c.services.sniff_wait_ns, d.services.sniff_wait_ns);
  EXPECT_EQ(c.services.smtp.hostname, d.services.smtp.hostname);
  EXPECT_EQ(c.services.ftp.passive_port_last, d.services.ftp.passive_port_last);
  EXPECT_EQ(c.services.irc.motd, d.services.irc.motd);
  EXPECT_EQ(c.services.catchall.banner, d.services.catchall.banner);
  EXPECT_EQ(c.limits.max_artifact_bytes, d.limits.max_artifact_bytes);
  EXPECT_EQ(c.answer_icmp_echo, d.answer_icmp_echo);
}

TEST(SinkholeConfig, BodyFilesAreReadRelativeToTheConfiguration) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("trawl_sinkhole_config_" + std::to_string(::getpid()));
  fs::create_directories(dir / "answers");
  std::ofstream(dir / "answers" / "gate.txt") << "RUN=1";
  std::ofstream(dir / "good.toml") << "[[http.override]]\nhost = \"c2.example\"\nbody_file = \"answers/gate.txt\"\n";
  std::ofstream(dir / "bad.toml") << "[[http.override]]\nbody_file = \"answers/missing.txt\"\n";
  SinkholeConfig c;
  std::string err;
  EXPECT_TRUE(load_config((dir / "good.toml").string(), c, err)) << err;
  ASSERT_EQ(c.http.overrides.size(), 1u);
  EXPECT_EQ(c.http.overrides[0].body, "RUN=1");
  SinkholeConfig c2;
  EXPECT_FALSE(load_config((dir / "bad.toml").string(), c2, err));
  EXPECT_NE(err.find("answers/missing.txt"), std::string::npos) << err;
  fs::remove_all(dir);
}

TEST(SinkholeConfig, MissingFileIsAClearError) {
  SinkholeConfig c;
  std::string err;
  EXPECT_FALSE(load_config("no/such/sinkhole.toml", c, err));
  EXPECT_EQ(err, "no/such/sinkhole.toml: cannot read the configuration file");
}

}  // namespace
}  // namespace trawl::sinkhole

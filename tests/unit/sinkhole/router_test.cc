// Tests for the sinkhole's service router: the choice for each port, first
// bytes and silence; FTP passive data connections linked to their control
// connection (LIST, RETR, STOR, limits); and real clients (swaks, curl pop3://
// and ftp://, nc) against a small loopback server in this file that runs the
// router's sessions over real TCP sockets.
#include "sinkhole/service_router.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sinkhole/fake_content.h"
#include "sinkhole/tls_session.h"
#include "sinkhole/run_command.h"

extern char** environ;

namespace trawl::sinkhole {
namespace {

using test_util::run_command;

constexpr core::Timestamp kT0 = core::Timestamp::from_sec_nsec(1700000000, 0);
constexpr int64_t kWait = 2 * core::kNsPerSec;

SessionInfo info_for(uint16_t port, uint64_t conn = 1, const char* guest = "10.0.0.5") {
  SessionInfo info;
  info.conn = conn;
  info.guest_ip = *core::IpAddress::parse(guest);
  info.server_ip = *core::IpAddress::parse("203.0.113.7");
  info.guest_port = 49152;
  info.server_port = port;
  return info;
}

std::string str(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }
core::ByteView bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

struct Driver {
  std::unique_ptr<ServiceSession> s;
  core::Timestamp now = kT0;
  std::string open() {
    std::vector<uint8_t> out;
    s->on_open(now, out);
    return str(out);
  }
  std::string send(std::string_view b, size_t chunk = 1) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i < b.size(); i += chunk) s->on_data(bytes(b.substr(i, chunk)), now, out);
    return str(out);
  }
  std::string timer(core::Timestamp t) {
    now = t;
    std::vector<uint8_t> out;
    s->on_timer(t, out);
    return str(out);
  }
  std::string peer_closed() {
    std::vector<uint8_t> out;
    s->on_peer_closed(now, out);
    return str(out);
  }
  std::vector<ServiceEvent> events() {
    std::vector<ServiceEvent> e;
    s->take_events(e);
    return e;
  }
};

struct Fixture {
  HttpResponder http;
  DnsResponder dns;
  ServiceRouter router;
  explicit Fixture(ServicesConfig c = {}) : router(std::move(c), http, dns, nullptr) {}
  Driver open(uint16_t port, uint64_t conn = 1, const char* guest = "10.0.0.5") {
    Driver d{router.open(info_for(port, conn, guest))};
    return d;
  }
};

// --- the choice ------------------------------------------------------------

TEST(ServiceRouter, ServerFirstPortsGreetAtOnce) {
  Fixture f;
  for (auto [port, name, banner] : std::vector<std::tuple<uint16_t, std::string, std::string>>{
           {25, "smtp", "220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n"},
           {587, "smtp", "220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n"},
           {21, "ftp", "220 (vsFTPd 3.0.3)\r\n"},
           {110, "pop3", "+OK Dovecot ready. <1.1700000000@mail.example.com>\r\n"}}) {
    Driver d = f.open(port);
    EXPECT_EQ(d.s->name(), name) << port;
    EXPECT_EQ(d.open(), banner) << port;
  }
}

TEST(ServiceRouter, FirstBytesChooseOnAnyPort) {
  Fixture f;
  const std::string get = "GET /x.txt HTTP/1.1\r\nHost: a.example\r\n\r\n";
  for (uint16_t port : {uint16_t{80}, uint16_t{4444}, uint16_t{6667}}) {
    Driver d = f.open(port);
    EXPECT_EQ(d.open(), "");
    EXPECT_STREQ(d.s->name(), "catchall");  // not chosen yet
    const std::string out = d.send(get);
    EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << port << ": " << out;
    EXPECT_STREQ(d.s->name(), "http") << port;
  }
  {  // A made-up method with a path is HTTP too.
    Driver d = f.open(31337);
    d.open();
    EXPECT_TRUE(d.send("BEACON /id HTTP/1.1\r\nHost: b\r\n\r\n").starts_with("HTTP/1.1 200 OK"));
    EXPECT_STREQ(d.s->name(), "http");
  }
  {  // EHLO first: SMTP without the banner.
    Driver d = f.open(4444);
    d.open();
    EXPECT_EQ(d.send("ehlo x\r\n"), "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n"
                                    "250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n");
    EXPECT_STREQ(d.s->name(), "smtp");
  }
  for (const char* first : {"NICK bot\r\n", "USER a 0 * :b\r\n", "CAP LS\r\n", "PASS x\r\n"}) {
    Driver d = f.open(5555);
    d.open();
    d.send(first);
    EXPECT_STREQ(d.s->name(), "irc") << first;
  }
  {  // Binary: the catch-all at once, no banner after the wait.
    Driver d = f.open(4444);
    d.open();
    EXPECT_EQ(d.send(std::string("\x00\x01\x02xyz", 6)), "");
    EXPECT_STREQ(d.s->name(), "catchall");
    EXPECT_EQ(d.timer(kT0 + 10 * kWait), "");
  }
  {  // A ClientHello's first bytes with no CA: TLS logged, not terminated.
    Driver d = f.open(4444);
    d.open();
    EXPECT_EQ(d.send(std::string("\x16\x03\x01\x00\x05hello", 10)), "");
    EXPECT_STREQ(d.s->name(), "ssl");
    d.s->on_closed(d.now);
    auto ev = d.events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].log, "sinkhole_tls");
    EXPECT_NE(ev[0].json.find(R"("first_bytes_hex":"160301000568656c6c6f")"), std::string::npos) << ev[0].json;
  }
}

TEST(ServiceRouter, ConnectTunnelIsSniffedAgain) {
  Fixture f;
  Driver d = f.open(8080);
  d.open();
  EXPECT_EQ(d.send("CONNECT c2.example:8443 HTTP/1.1\r\nHost: c2.example:8443\r\n\r\n"),
            "HTTP/1.1 200 Connection established\r\n\r\n");
  EXPECT_FALSE(d.s->wants_close());
  EXPECT_TRUE(d.send("GET /in.txt HTTP/1.1\r\nHost: inner.example\r\n\r\n").starts_with("HTTP/1.1 200 OK\r\n"));
  auto ev = d.events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_NE(ev[0].json.find(R"("method":"CONNECT")"), std::string::npos) << ev[0].json;
  EXPECT_NE(ev[1].json.find(R"("url":"http://inner.example:8080/in.txt")"), std::string::npos) << ev[1].json;
  // A client that does not wait for the 200: the request behind CONNECT, in
  // the same segment, is the tunnel's first request.
  Driver g = f.open(8080);
  g.open();
  const std::string both = g.send(
      "CONNECT c2.example:8443 HTTP/1.1\r\nHost: c2.example:8443\r\n\r\nGET /same.txt HTTP/1.1\r\nHost: inner.example\r\n\r\n",
      4096);
  EXPECT_TRUE(both.starts_with("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK\r\n")) << both;
  auto gev = g.events();
  ASSERT_EQ(gev.size(), 2u);
  EXPECT_NE(gev[1].json.find(R"("url":"http://inner.example:8080/same.txt")"), std::string::npos) << gev[1].json;
  // Silence inside the tunnel: the catch-all's banner after the wait.
  Driver e = f.open(3128);
  e.open();
  e.send("CONNECT mx.example:25 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(e.timer(kT0 + kWait), "220 Service ready\r\n");
}

TEST(ServiceRouter, UndecidedPrefixWaitsThenFallsBack) {
  Fixture f;
  Driver d = f.open(4444);
  d.open();
  EXPECT_EQ(d.send("HEL"), "");  // HELO, or HTTP's made-up method: too early to tell
  EXPECT_STREQ(d.s->name(), "catchall");
  EXPECT_EQ(d.s->next_deadline(), kT0 + kWait);
  EXPECT_EQ(d.timer(kT0 + kWait), "");  // forced: the catch-all, which heard the guest: no banner
  d.s->on_closed(d.now);
  auto ev = d.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].json, R"({"service":"catchall","bytes_received":3,"first_bytes_len":3,"first_bytes_hex":"48454c",)"
                        R"("first_bytes_text":"HEL","banner_sent":false,"peer_closed":false})");
  // A full buffer also forces the choice.
  ServicesConfig c;
  c.sniff_max_bytes = 8;
  Fixture g(c);
  Driver e = g.open(4444);
  e.open();
  e.send("ABCDEFGHIJKLMNOP");
  EXPECT_STREQ(e.s->name(), "catchall");
  EXPECT_EQ(e.s->next_deadline(), core::Timestamp{INT64_MAX});
}

TEST(ServiceRouter, SilenceGivesThePortsServiceOrTheBanner) {
  Fixture f;
  {
    Driver d = f.open(4444);
    EXPECT_EQ(d.open(), "");
    EXPECT_EQ(d.timer(kT0 + (kWait - 1)), "");
    EXPECT_EQ(d.timer(kT0 + kWait), "220 Service ready\r\n");
    EXPECT_STREQ(d.s->name(), "catchall");
    EXPECT_EQ(d.send("hi\r\n"), "");
  }
  {
    Driver d = f.open(8080);
    d.open();
    EXPECT_EQ(d.timer(kT0 + kWait), "");
    EXPECT_STREQ(d.s->name(), "http");
    EXPECT_TRUE(d.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n").starts_with("HTTP/1.1 200 OK"));
  }
  {
    Driver d = f.open(6667);
    d.open();
    EXPECT_EQ(d.timer(kT0 + kWait), "");
    EXPECT_STREQ(d.s->name(), "irc");
  }
  {  // Closed without a word: logged by the catch-all.
    Driver d = f.open(9999);
    d.open();
    EXPECT_EQ(d.peer_closed(), "");
    d.s->on_closed(d.now);
    auto ev = d.events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].json, R"({"service":"catchall","bytes_received":0,"first_bytes_len":0,"first_bytes_hex":"",)"
                          R"("first_bytes_text":"","banner_sent":false,"peer_closed":true})");
  }
}

TEST(ServiceRouter, AnswersToTheGenericBannerPickSmtpOrFtp) {
  Fixture f;
  {
    Driver d = f.open(2526);
    d.open();
    EXPECT_EQ(d.timer(kT0 + kWait), "220 Service ready\r\n");
    EXPECT_EQ(d.s->next_deadline(), core::Timestamp{INT64_MAX});
    EXPECT_EQ(d.send("HELO me\r\n"), "250 mail.example.com\r\n");  // no second 220
    EXPECT_STREQ(d.s->name(), "smtp");
  }
  {
    Driver d = f.open(2121);
    d.open();
    EXPECT_EQ(d.timer(kT0 + kWait), "220 Service ready\r\n");
    EXPECT_EQ(d.send("USER anonymous\r\n"), "331 Please specify the password.\r\n");
    EXPECT_STREQ(d.s->name(), "ftp");
  }
  {
    Driver d = f.open(2222);
    d.open();
    EXPECT_EQ(d.timer(kT0 + kWait), "220 Service ready\r\n");
    EXPECT_EQ(d.send("SSH-2.0-OpenSSH_9.2\r\n"), "");
    EXPECT_STREQ(d.s->name(), "catchall");
    d.s->on_closed(d.now);
    auto ev = d.events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_NE(ev[0].json.find(R"("first_bytes_text":"SSH-2.0-OpenSSH_9.2..","banner_sent":true,)"), std::string::npos)
        << ev[0].json;
  }
}

std::string dns_query_tcp() {
  const std::string q("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07" "example\x03" "com\x00\x00\x01\x00\x01", 29);
  return std::string("\x00\x1d", 2) + q;
}

TEST(ServiceRouter, DnsOverTcpOnPort53) {
  Fixture f;
  Driver d = f.open(53);
  d.open();
  const std::string out = d.send(dns_query_tcp());
  EXPECT_STREQ(d.s->name(), "dns");
  DnsResponder fresh;
  std::vector<uint8_t> expected;
  ASSERT_TRUE(fresh.answer_tcp(bytes(dns_query_tcp()).subspan(2), expected));
  ASSERT_EQ(out.size(), expected.size() + 2);
  EXPECT_EQ(out.substr(2), str(expected));
  auto ev = d.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].log, "sinkhole_dns");
  EXPECT_TRUE(ev[0].json.starts_with(R"({"proto":"tcp","trans_id":4660,"query":"example.com","qclass":1,"qtype":1,)"
                                     R"("rcode":0,"answers":["198.18.0.)"))
      << ev[0].json;
  ASSERT_EQ(ev[0].iocs.size(), 1u);
  EXPECT_EQ(ev[0].iocs[0].value, "example.com");
  // The same bytes elsewhere are not DNS.
  Driver e = f.open(5353);
  e.open();
  e.send(dns_query_tcp());
  EXPECT_STREQ(e.s->name(), "catchall");
}

TEST(ServiceRouter, ConfigWordsAndChecks) {
  for (ServiceKind k : {ServiceKind::kHttp, ServiceKind::kTls, ServiceKind::kSmtp, ServiceKind::kPop3,
                        ServiceKind::kFtp, ServiceKind::kIrc, ServiceKind::kDns, ServiceKind::kCatchall}) {
    EXPECT_EQ(parse_service_kind(to_string(k)), k);
  }
  EXPECT_EQ(parse_service_kind("gopher"), std::nullopt);
  ServicesConfig c;
  EXPECT_EQ(check_config(c), "");
  c.ftp.passive_port_first = 60000;
  c.ftp.passive_port_last = 50000;
  EXPECT_EQ(check_config(c), "ftp: the passive port range must be 1-65535 with first <= last");
  c = {};
  c.smtp.max_message = 0;
  EXPECT_EQ(check_config(c), "smtp: limits must be at least 1");
  EXPECT_EQ(default_service_ports().at(443), ServiceKind::kTls);
  EXPECT_EQ(default_service_ports().at(2525), ServiceKind::kSmtp);
}

// --- FTP data connections ----------------------------------------------------

uint16_t pasv_port(const std::string& reply) {
  unsigned h1, h2, h3, h4, p1, p2;
  if (std::sscanf(reply.c_str(), "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u)", &h1, &h2, &h3, &h4, &p1, &p2) != 6) {
    return 0;
  }
  return static_cast<uint16_t>(p1 * 256 + p2);
}

TEST(FtpDataChannels, ListRetrStorLinkedToTheControlConnection) {
  Fixture f;
  Driver ctl = f.open(21, 10);
  ctl.open();
  ctl.send("USER u\r\nPASS p\r\n");
  // LIST: data connection first, then the command.
  const std::string pasv = ctl.send("PASV\r\n");
  EXPECT_EQ(pasv, "227 Entering Passive Mode (203,0,113,7,195,80).\r\n");
  const uint16_t port = pasv_port(pasv);
  ASSERT_EQ(port, 50000);
  EXPECT_EQ(f.router.pending_ftp_data(), 1u);
  Driver data = f.open(port, 11);
  EXPECT_STREQ(data.s->name(), "ftp-data");
  EXPECT_EQ(f.router.pending_ftp_data(), 0u);
  EXPECT_EQ(data.open(), "");
  EXPECT_EQ(ctl.send("LIST\r\n"), "150 Here comes the directory listing.\r\n");
  EXPECT_EQ(data.s->next_deadline(), core::Timestamp{0});  // work to do now
  EXPECT_EQ(data.timer(kT0), ftp_fake_listing());
  EXPECT_TRUE(data.s->wants_close());
  EXPECT_EQ(ctl.s->next_deadline(), core::Timestamp{0});
  EXPECT_EQ(ctl.timer(kT0), "226 Transfer complete.\r\n");
  EXPECT_EQ(ctl.s->next_deadline(), core::Timestamp{INT64_MAX});
  data.s->on_closed(kT0);

  // RETR: the command first (EPSV), then the data connection.
  const std::string epsv = ctl.send("EPSV\r\n");
  EXPECT_EQ(epsv, "229 Entering Extended Passive Mode (|||50001|)\r\n");
  const auto& exe = fake_file_for_extension("exe");
  EXPECT_EQ(ctl.send("RETR /pub/setup.exe\r\n"),
            "150 Opening BINARY mode data connection for /pub/setup.exe (" + std::to_string(exe.body.size()) +
                " bytes).\r\n");
  EXPECT_EQ(ctl.timer(kT0 + 1), "");  // still waiting
  Driver data2 = f.open(50001, 12);
  EXPECT_EQ(data2.open(), std::string(exe.body));
  EXPECT_TRUE(data2.s->wants_close());
  EXPECT_EQ(ctl.timer(kT0 + 2), "226 Transfer complete.\r\n");
  auto ctl_events = ctl.events();
  ASSERT_EQ(ctl_events.size(), 6u);
  EXPECT_EQ(ctl_events[5].json, R"({"user":"u","command":"RETR","arg":"/pub/setup.exe","reply_code":150,)"
                                R"("reply_msg":"Opening BINARY mode data connection for /pub/setup.exe ()" +
                                    std::to_string(exe.body.size()) +
                                    R"( bytes).","mime_type":"application/x-msdownload","file_size":)" +
                                    std::to_string(exe.body.size()) + "}");

  // STOR: the upload becomes an artifact of the data connection, linked by control_conn.
  ctl.send("PASV\r\n");
  Driver data3 = f.open(50002, 13);
  data3.open();
  EXPECT_EQ(ctl.send("STOR up.bin\r\n"), "150 Ok to send data.\r\n");
  EXPECT_EQ(data3.send("uploaded bytes\x01"), "");
  EXPECT_EQ(ctl.timer(kT0 + 3), "");
  EXPECT_EQ(data3.peer_closed(), "");
  EXPECT_TRUE(data3.s->wants_close());
  data3.s->on_closed(kT0);
  auto ev = data3.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].log, "sinkhole_ftp");
  EXPECT_EQ(ev[0].json, R"({"user":"u","command":"STOR","arg":"up.bin","file_size":15,"truncated":false,)"
                        R"("complete":true,"data_channel.passive":true,"control_conn":10})");
  EXPECT_EQ(ev[0].artifact_kind, "ftp_upload");
  EXPECT_EQ(str(ev[0].artifact), "uploaded bytes\x01");
  EXPECT_EQ(ctl.timer(kT0 + 4), "226 Transfer complete.\r\n");
}

TEST(FtpDataChannels, OnlyThatGuestAndAddressAndBounded) {
  ServicesConfig c;
  c.ftp.max_pending_data = 2;
  c.ftp.max_upload = 4;
  Fixture f(c);
  Driver a = f.open(21, 1), b = f.open(21, 2), d = f.open(21, 3);
  a.open(), b.open(), d.open();
  EXPECT_EQ(pasv_port(a.send("PASV\r\n")), 50000);
  EXPECT_EQ(pasv_port(b.send("PASV\r\n")), 50001);
  // Another guest cannot take it.
  Driver other = f.open(50001, 9, "10.0.0.6");
  EXPECT_STRNE(other.s->name(), "ftp-data");
  EXPECT_EQ(f.router.pending_ftp_data(), 2u);
  EXPECT_EQ(pasv_port(d.send("PASV\r\n")), 50002);  // drops a's, the oldest
  EXPECT_EQ(f.router.pending_ftp_data(), 2u);
  EXPECT_STRNE(f.open(50000).s->name(), "ftp-data");
  Driver up = f.open(50002, 4);
  EXPECT_STREQ(up.s->name(), "ftp-data");
  up.open();
  d.send("STOR big\r\n");
  up.send("0123456789");
  up.peer_closed();
  auto ev = up.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(str(ev[0].artifact), "0123");
  EXPECT_NE(ev[0].json.find(R"("file_size":10,"truncated":true)"), std::string::npos);
  // A control connection that closes takes its waiting endpoint with it.
  b.s.reset();
  EXPECT_EQ(f.router.pending_ftp_data(), 0u);
}

// --- real clients over loopback ----------------------------------------------

int listen_loopback(uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

core::Timestamp wall_now() {
  return core::Timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count()};
}

// Runs the router's sessions over real sockets, as the sinkhole's driver
// does over its own TCP: one thread, poll(), timers from next_deadline().
class LoopbackSinkhole {
 public:
  LoopbackSinkhole(ServiceRouter& router, std::vector<int> listeners) : router_(router), listeners_(std::move(listeners)) {
    thread_ = std::thread([this] { run(); });
  }
  ~LoopbackSinkhole() { stop(); }
  // Stops the thread; the events are complete after this.
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : listeners_) ::close(fd);
    listeners_.clear();
  }
  std::vector<std::pair<std::string, ServiceEvent>> events;  // (service, event); read after stop()

 private:
  struct Conn {
    int fd;
    std::unique_ptr<ServiceSession> s;
    bool peer_closed = false;
  };
  void finish(Conn& c, std::vector<uint8_t>& out) {
    if (!out.empty()) ::send(c.fd, out.data(), out.size(), MSG_NOSIGNAL);
    out.clear();
    std::vector<ServiceEvent> ev;
    c.s->take_events(ev);
    for (auto& e : ev) events.emplace_back(c.s->name(), std::move(e));
  }
  void close_conn(Conn& c) {
    ::close(c.fd);
    c.fd = -1;
    c.s->on_closed(wall_now());
    std::vector<uint8_t> none;
    finish(c, none);
  }
  void run() {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(25);
    std::vector<Conn> conns;
    uint64_t next_id = 1;
    std::vector<uint8_t> buf(65536), out;
    while (!stop_ && std::chrono::steady_clock::now() < end) {
      std::vector<pollfd> fds;
      for (int l : listeners_) fds.push_back({l, POLLIN, 0});
      for (auto& c : conns) fds.push_back({c.fd, POLLIN, 0});
      ::poll(fds.data(), fds.size(), 10);
      const core::Timestamp now = wall_now();
      for (size_t i = 0; i < listeners_.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        sockaddr_in peer{}, local{};
        socklen_t pl = sizeof peer, ll = sizeof local;
        const int fd = ::accept(listeners_[i], reinterpret_cast<sockaddr*>(&peer), &pl);
        if (fd < 0) continue;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll);
        SessionInfo info;
        info.conn = next_id++;
        info.guest_ip = core::IpAddress::v4(ntohl(peer.sin_addr.s_addr));
        info.server_ip = core::IpAddress::v4(ntohl(local.sin_addr.s_addr));
        info.guest_port = ntohs(peer.sin_port);
        info.server_port = ntohs(local.sin_port);
        Conn c{fd, router_.open(info)};
        c.s->on_open(now, out);
        finish(c, out);
        conns.push_back(std::move(c));
      }
      for (size_t i = 0; i < conns.size(); ++i) {
        Conn& c = conns[i];
        const size_t k = listeners_.size() + i;
        if (k < fds.size() && (fds[k].revents & (POLLIN | POLLHUP | POLLERR))) {
          const ssize_t n = ::recv(c.fd, buf.data(), buf.size(), 0);
          if (n > 0) {
            c.s->on_data(core::ByteView(buf.data(), static_cast<size_t>(n)), now, out);
          } else {
            c.peer_closed = true;
            c.s->on_peer_closed(now, out);
          }
          finish(c, out);
        }
      }
      // Timers of every session: one session's work can wake another (FTP).
      for (auto& c : conns) {
        if (c.s->next_deadline() <= now) {
          c.s->on_timer(now, out);
          finish(c, out);
        }
      }
      for (auto& c : conns) {
        if (c.s->wants_close() || c.peer_closed) close_conn(c);
      }
      std::erase_if(conns, [](const Conn& c) { return c.fd < 0; });
    }
    for (auto& c : conns) close_conn(c);
  }

  ServiceRouter& router_;
  std::vector<int> listeners_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};


struct RealClients : ::testing::Test {
  uint16_t smtp = 0, pop3 = 0, ftp = 0, pasv = 0, other = 0;
  std::vector<int> fds;
  void SetUp() override {
    for (uint16_t* p : {&smtp, &pop3, &ftp, &pasv, &other}) {
      const int fd = listen_loopback(*p);
      ASSERT_GE(fd, 0);
      fds.push_back(fd);
    }
  }
  ServicesConfig config() const {
    ServicesConfig c;
    c.ports[smtp] = ServiceKind::kSmtp;
    c.ports[pop3] = ServiceKind::kPop3;
    c.ports[ftp] = ServiceKind::kFtp;
    c.ports.erase(other);
    c.ftp.passive_port_first = c.ftp.passive_port_last = pasv;  // the port this test listens on
    c.sniff_wait_ns = 300 * 1000 * 1000;
    return c;
  }
};

std::vector<ServiceEvent> of_log(const std::vector<std::pair<std::string, ServiceEvent>>& all, std::string_view log) {
  std::vector<ServiceEvent> r;
  for (const auto& [service, e] : all) {
    if (e.log == log) r.push_back(e);
  }
  return r;
}

TEST_F(RealClients, SwaksPop3FtpAndNc) {
  for (const char* tool : {"/usr/bin/swaks", "/usr/bin/curl", "/usr/bin/nc"}) {
    if (::access(tool, X_OK) != 0) GTEST_SKIP() << tool << " not installed";
  }
  HttpResponder http;
  DnsResponder dns;
  ServiceRouter router(config(), http, dns, nullptr);
  LoopbackSinkhole sink(router, fds);
  const std::string host = "127.0.0.1:";

  const std::string swaks = run_command({"swaks", "--server", host + std::to_string(smtp), "--from", "alice@example.com",
                                         "--to", "bob@example.org", "--header", "Subject: swaks test", "--body",
                                         "hello from swaks", "--timeout", "5"},
                                        8000);
  EXPECT_NE(swaks.find("<-  250 2.0.0 Ok: queued as"), std::string::npos) << swaks;
  // An unknown port: the generic banner after the wait, then SMTP because swaks says EHLO.
  const std::string swaks2 = run_command({"swaks", "--server", host + std::to_string(other), "--from", "c@example.com",
                                          "--to", "d@example.org", "--timeout", "5"},
                                         8000);
  EXPECT_NE(swaks2.find("<-  220 Service ready"), std::string::npos) << swaks2;
  EXPECT_NE(swaks2.find("<-  250 2.0.0 Ok: queued as"), std::string::npos) << swaks2;

  const std::string pop = run_command({"curl", "-s", "--max-time", "5", "-u", "bob:pw",
                                       "pop3://127.0.0.1:" + std::to_string(pop3) + "/1"},
                                      8000);
  EXPECT_EQ(pop, pop3_fake_message());

  const std::string ftp_url = "ftp://127.0.0.1:" + std::to_string(ftp) + "/";
  // PASV (not EPSV): the 227 reply must carry 127.0.0.1, the address the guest used.
  // (curl turns the listing's CRLF into LF: LIST is an ASCII transfer.)
  std::string listing = ftp_fake_listing();
  std::erase(listing, '\r');
  EXPECT_EQ(run_command({"curl", "-s", "--max-time", "5", "--disable-epsv", ftp_url}, 8000), listing);
  const std::string exe = run_command({"curl", "-s", "--max-time", "5", ftp_url + "pub/setup.exe"}, 8000);
  EXPECT_EQ(exe, fake_file_for_extension("exe").body);
  const auto dir = std::filesystem::temp_directory_path() / ("trawl_router_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "upload.bin", std::ios::binary) << "upload payload\n";
  }
  run_command({"curl", "-s", "--max-time", "5", "-T", (dir / "upload.bin").string(), ftp_url + "in/upload.bin"}, 8000);
  std::filesystem::remove_all(dir);

  // nc: silent (the banner comes after the wait), then speaking first (no banner).
  const std::string nc_port = std::to_string(other);
  EXPECT_EQ(run_command({"sh", "-c", "sleep 1 | nc -q 0 127.0.0.1 " + nc_port}, 5000), "220 Service ready\r\n");
  EXPECT_EQ(run_command({"sh", "-c", "printf 'hello\\001' | nc -q 1 127.0.0.1 " + nc_port}, 5000), "");
  sink.stop();

  const auto smtp_ev = of_log(sink.events, "sinkhole_smtp");
  ASSERT_EQ(smtp_ev.size(), 2u);
  EXPECT_NE(smtp_ev[1].json.find(R"("mailfrom":"c@example.com","rcptto":["d@example.org"])"), std::string::npos)
      << smtp_ev[1].json;
  EXPECT_NE(smtp_ev[0].json.find(R"("mailfrom":"alice@example.com","rcptto":["bob@example.org"])"), std::string::npos)
      << smtp_ev[0].json;
  EXPECT_NE(smtp_ev[0].json.find(R"("subject":"swaks test")"), std::string::npos);
  EXPECT_NE(std::string(smtp_ev[0].artifact.begin(), smtp_ev[0].artifact.end()).find("hello from swaks"),
            std::string::npos);

  const auto pop_ev = of_log(sink.events, "sinkhole_pop3");
  ASSERT_GE(pop_ev.size(), 2u);
  EXPECT_TRUE(pop_ev[0].json.find(R"("user":"bob")") != std::string::npos) << pop_ev[0].json;

  const auto ftp_ev = of_log(sink.events, "sinkhole_ftp");
  bool pasv_logged = false, upload = false;
  for (const auto& e : ftp_ev) {
    if (e.json.find(R"("command":"PASV")") != std::string::npos &&
        e.json.find(R"("data_channel.resp_h":"127.0.0.1","data_channel.resp_p":)" + std::to_string(pasv)) !=
            std::string::npos) {
      pasv_logged = true;
    }
    if (e.artifact_kind == "ftp_upload") {
      upload = true;
      EXPECT_EQ(std::string(e.artifact.begin(), e.artifact.end()), "upload payload\n");
      EXPECT_NE(e.json.find(R"("command":"STOR","arg":"upload.bin","file_size":15)"), std::string::npos) << e.json;
    }
  }
  EXPECT_TRUE(pasv_logged);
  EXPECT_TRUE(upload);

  const auto catchall = of_log(sink.events, "sinkhole_catchall");
  ASSERT_EQ(catchall.size(), 2u);
  EXPECT_NE(catchall[0].json.find(R"("bytes_received":0,)"), std::string::npos) << catchall[0].json;
  EXPECT_NE(catchall[0].json.find(R"("banner_sent":true)"), std::string::npos);
  EXPECT_NE(catchall[1].json.find(R"("first_bytes_hex":"68656c6c6f01","first_bytes_text":"hello.","banner_sent":false)"),
            std::string::npos)
      << catchall[1].json;
}

// TLS on a sniffed port through the local CA (tls_session.h): the router hands
// the plaintext to HTTP, whose records carry https:// URLs.
TEST(RealClientsTls, CurlHttpsThroughTheRouter) {
  if (::access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "curl not installed";
  const auto dir = std::filesystem::temp_directory_path() / ("trawl_router_tls_" + std::to_string(::getpid()));
  std::string error;
  auto ca = TlsAuthority::open((dir / "ca").string(), error);
  ASSERT_TRUE(ca) << error;
  uint16_t port = 0, pop3s = 0;
  const int fd = listen_loopback(port);
  const int fd2 = listen_loopback(pop3s);
  ASSERT_GE(fd, 0);
  ASSERT_GE(fd2, 0);
  ServicesConfig c;
  c.ports.erase(port);  // sniffed: TLS is found by its ClientHello
  c.ports[pop3s] = ServiceKind::kTls;  // implicit TLS with a server-first service inside
  c.tls_inner[pop3s] = ServiceKind::kPop3;
  HttpResponder http;
  DnsResponder dns;
  ServiceRouter router(c, http, dns, ca.get());
  LoopbackSinkhole sink(router, {fd, fd2});
  const std::string p = std::to_string(port);
  const std::string body = run_command({"curl", "-s", "-k", "--max-time", "5", "--resolve", "cdn.example.com:" + p +
                                        ":127.0.0.1", "https://cdn.example.com:" + p + "/x/setup.exe"},
                                       8000);
  const std::string mail = run_command(
      {"curl", "-s", "-k", "--max-time", "5", "-u", "a:b", "pop3s://127.0.0.1:" + std::to_string(pop3s) + "/1"}, 8000);
  sink.stop();
  EXPECT_EQ(mail, pop3_fake_message());
  EXPECT_EQ(of_log(sink.events, "sinkhole_pop3").size(), 2u);  // the login and the RETR
  std::filesystem::remove_all(dir);
  EXPECT_EQ(body, fake_file_for_extension("exe").body);
  const auto http_ev = of_log(sink.events, "sinkhole_http");
  ASSERT_EQ(http_ev.size(), 1u);
  EXPECT_NE(http_ev[0].json.find(R"("url":"https://cdn.example.com:)" + p + R"(/x/setup.exe")"), std::string::npos)
      << http_ev[0].json;
  const auto tls_ev = of_log(sink.events, "sinkhole_tls");
  ASSERT_EQ(tls_ev.size(), 2u);
  EXPECT_NE(tls_ev[0].json.find("cdn.example.com"), std::string::npos) << tls_ev[0].json;
  ASSERT_FALSE(sink.events.empty());
  EXPECT_EQ(sink.events[0].first, "ssl");
}

// STARTTLS with a real client: swaks --tls upgrades the SMTP connection
// through the sinkhole's CA, and the message sent inside TLS is logged and
// kept like any other, marked "tls":true.
TEST(RealClientsTls, SwaksStartTls) {
  if (::access("/usr/bin/swaks", X_OK) != 0) GTEST_SKIP() << "swaks not installed";
  const auto dir = std::filesystem::temp_directory_path() / ("trawl_router_starttls_" + std::to_string(::getpid()));
  std::string error;
  auto ca = TlsAuthority::open((dir / "ca").string(), error);
  ASSERT_TRUE(ca) << error;
  uint16_t port = 0;
  const int fd = listen_loopback(port);
  ASSERT_GE(fd, 0);
  ServicesConfig c;
  c.ports[port] = ServiceKind::kSmtp;
  HttpResponder http;
  DnsResponder dns;
  ServiceRouter router(c, http, dns, ca.get());
  LoopbackSinkhole sink(router, {fd});
  const std::string out =
      run_command({"swaks", "--server", "127.0.0.1:" + std::to_string(port), "--tls", "--from", "bot@example.com",
                   "--to", "drop@example.org", "--header", "Subject: inside tls", "--body", "sent over starttls",
                   "--timeout", "5"},
                  8000);
  sink.stop();
  std::filesystem::remove_all(dir);
  EXPECT_NE(out.find("<-  250-STARTTLS"), std::string::npos) << out;
  EXPECT_NE(out.find("<-  220 2.0.0 Ready to start TLS"), std::string::npos) << out;
  EXPECT_NE(out.find("=== TLS started"), std::string::npos) << out;
  EXPECT_NE(out.find("<~  250 2.0.0 Ok: queued as"), std::string::npos) << out;  // "<~": read inside TLS
  EXPECT_NE(out.find("<~  250-AUTH PLAIN LOGIN"), std::string::npos) << out;   // the EHLO inside TLS ...
  EXPECT_EQ(out.find("<~  250-STARTTLS"), std::string::npos) << out;           // ... offers no second STARTTLS
  const auto smtp_ev = of_log(sink.events, "sinkhole_smtp");
  ASSERT_EQ(smtp_ev.size(), 2u);
  EXPECT_NE(smtp_ev[0].json.find(R"("event":"starttls","helo":)"), std::string::npos) << smtp_ev[0].json;
  EXPECT_NE(smtp_ev[0].json.find(R"("pipelined_bytes":0})"), std::string::npos) << smtp_ev[0].json;
  EXPECT_NE(smtp_ev[1].json.find(R"("mailfrom":"bot@example.com","rcptto":["drop@example.org"])"), std::string::npos)
      << smtp_ev[1].json;
  EXPECT_NE(smtp_ev[1].json.find(R"("subject":"inside tls")"), std::string::npos) << smtp_ev[1].json;
  EXPECT_NE(smtp_ev[1].json.find(R"("tls":true)"), std::string::npos) << smtp_ev[1].json;
  EXPECT_NE(std::string(smtp_ev[1].artifact.begin(), smtp_ev[1].artifact.end()).find("sent over starttls"),
            std::string::npos);
  const auto tls_ev = of_log(sink.events, "sinkhole_tls");
  ASSERT_EQ(tls_ev.size(), 1u);
  EXPECT_NE(tls_ev[0].json.find(R"("established":true)"), std::string::npos) << tls_ev[0].json;
}

}  // namespace
}  // namespace trawl::sinkhole

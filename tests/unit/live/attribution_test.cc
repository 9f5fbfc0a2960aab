// Process attribution (live/attribution.h, live/live_capture.h): real sockets
// of this process and of children found through sock_diag and /proc, a fake
// /proc for the inode -> process map, hand-built attributions for the index,
// and the JSON line. Tests that need the kernel's socket table skip unless run
// as root with NETLINK_SOCK_DIAG available.
#include "live/attribution.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "core/anomalies.h"
#include "decode/decoder.h"
#include "live/live_capture.h"
#include "live/proc_map.h"

namespace trawl::live {
namespace {

namespace fs = std::filesystem;

core::Timestamp wall_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return core::Timestamp::from_sec_nsec(ts.tv_sec, ts.tv_nsec);
}

core::IpAddress ip(const char* text) { return *core::IpAddress::parse(text); }

uint64_t inode_of(int fd) {
  struct stat st {};
  EXPECT_EQ(fstat(fd, &st), 0);
  return static_cast<uint64_t>(st.st_ino);
}

std::string self_exe() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// /proc/self/cmdline with NULs as spaces.
std::string self_cmdline() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::replace(s.begin(), s.end(), '\0', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string user_of(uid_t uid) {
  passwd* pw = getpwuid(uid);
  return pw ? pw->pw_name : std::to_string(uid);
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// A child process stopped and reaped by its PID when the test ends.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return pid_; }
  void release() { pid_ = -1; }  // reaped by the test itself

 private:
  pid_t pid_;
};

uint16_t local_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int tcp_listener() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(0);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(listen(fd, 16), 0);
  return fd;
}

int tcp_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(port);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

// Accepts one connection within 5 s (-1 if none came).
int accept_within(int listener, int timeout_ms = 5000) {
  pollfd p{listener, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1) return -1;
  return accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
}

const Attribution* find_key(const std::vector<Attribution>& all, uint8_t proto, const char* local, uint16_t lport,
                            const char* remote, uint16_t rport) {
  for (const Attribution& a : all) {
    if (a.key.proto == proto && a.key.local == ip(local) && a.key.local_port == lport && a.key.remote == ip(remote) &&
        a.key.remote_port == rport) {
      return &a;
    }
  }
  return nullptr;
}

#define REQUIRE_SOCK_DIAG(attributor)                                           \
  do {                                                                          \
    if (geteuid() != 0) GTEST_SKIP() << "needs root to read every /proc/<pid>/fd"; \
    std::string poll_err_;                                                      \
    if (!(attributor).poll(wall_now(), poll_err_)) GTEST_SKIP() << poll_err_;   \
  } while (0)

TEST(Attributor, OwnTcpSocketsByFullPoll) {
  Attributor at;
  REQUIRE_SOCK_DIAG(at);
  Fd listener(tcp_listener());
  uint16_t lport = local_port(listener.get());
  Fd client(tcp_connect(lport));
  Fd server(accept_within(listener.get()));
  ASSERT_GE(server.get(), 0);
  uint16_t cport = local_port(client.get());

  core::Timestamp before = wall_now();
  std::string err;
  ASSERT_TRUE(at.poll(before, err)) << err;
  auto all = at.all();

  const Attribution* l = find_key(all, 6, "127.0.0.1", lport, "0.0.0.0", 0);
  const Attribution* c = find_key(all, 6, "127.0.0.1", cport, "127.0.0.1", lport);
  const Attribution* s = find_key(all, 6, "127.0.0.1", lport, "127.0.0.1", cport);
  ASSERT_NE(l, nullptr);
  ASSERT_NE(c, nullptr);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(l->inode, inode_of(listener.get()));
  EXPECT_EQ(c->inode, inode_of(client.get()));
  EXPECT_EQ(s->inode, inode_of(server.get()));
  for (const Attribution* a : {l, c, s}) {
    EXPECT_EQ(a->process.pid, getpid());
    EXPECT_EQ(a->process.exe, self_exe());
    EXPECT_EQ(a->process.uid, geteuid());
    EXPECT_EQ(a->process.user, user_of(geteuid()));
    EXPECT_EQ(a->how, "sock_diag+proc");
    EXPECT_EQ(a->first_seen, before);
    EXPECT_EQ(a->last_seen, before);
  }
  EXPECT_EQ(c->process.cmdline, self_cmdline());

  // A second poll extends the same records instead of adding new ones.
  core::Timestamp later = before + 1'000'000'000;
  ASSERT_TRUE(at.poll(later, err)) << err;
  all = at.all();
  c = find_key(all, 6, "127.0.0.1", cport, "127.0.0.1", lport);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->first_seen, before);
  EXPECT_EQ(c->last_seen, later);
  EXPECT_EQ(std::count_if(all.begin(), all.end(),
                          [&](const Attribution& a) { return a.inode == inode_of(client.get()); }),
            1);
}

TEST(Attributor, UdpSockets) {
  Attributor at;
  REQUIRE_SOCK_DIAG(at);
  Fd unconnected(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback(0);
  ASSERT_EQ(bind(unconnected.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  uint16_t uport = local_port(unconnected.get());
  Fd connected(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in peer = loopback(uport);
  ASSERT_EQ(connect(connected.get(), reinterpret_cast<sockaddr*>(&peer), sizeof peer), 0);
  uint16_t cport = local_port(connected.get());

  std::string err;
  ASSERT_TRUE(at.poll(wall_now(), err)) << err;
  auto all = at.all();
  const Attribution* u = find_key(all, 17, "127.0.0.1", uport, "0.0.0.0", 0);
  const Attribution* c = find_key(all, 17, "127.0.0.1", cport, "127.0.0.1", uport);
  ASSERT_NE(u, nullptr);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(u->inode, inode_of(unconnected.get()));
  EXPECT_EQ(c->inode, inode_of(connected.get()));
  EXPECT_EQ(u->process.pid, getpid());
  EXPECT_EQ(c->process.pid, getpid());
  EXPECT_EQ(c->process.exe, self_exe());

  // The index maps a datagram flow to the unconnected socket by its port.
  AttributionIndex index(all);
  const Attribution* hit = index.find(17, ip("127.0.0.1"), cport, ip("127.0.0.1"), uport, wall_now());
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->inode, c->inode);  // the connected socket is an exact match
  hit = index.find(17, ip("127.0.0.1"), 9, ip("127.0.0.1"), uport, wall_now());
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->inode, u->inode);  // any other sender: the bound socket

  // The first-packet lookup finds both ends of the datagram flow on its own.
  Attributor fresh;
  fresh.on_new_flow(17, ip("127.0.0.1"), cport, ip("127.0.0.1"), uport, wall_now());
  auto found = fresh.all();
  const Attribution* fu = find_key(found, 17, "127.0.0.1", uport, "0.0.0.0", 0);
  const Attribution* fc = find_key(found, 17, "127.0.0.1", cport, "127.0.0.1", uport);
  ASSERT_NE(fu, nullptr);
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(fu->inode, u->inode);
  EXPECT_EQ(fc->inode, c->inode);
  EXPECT_EQ(fu->process.pid, getpid());
  EXPECT_EQ(fc->process.pid, getpid());
}

TEST(Attributor, TargetedLookupAtFirstPacket) {
  Attributor at;
  REQUIRE_SOCK_DIAG(at);
  Fd listener(tcp_listener());
  uint16_t lport = local_port(listener.get());
  Fd client(tcp_connect(lport));
  Fd server(accept_within(listener.get()));
  ASSERT_GE(server.get(), 0);
  uint16_t cport = local_port(client.get());

  // No poll in between: the flow's own lookup finds both ends.
  core::Timestamp t = wall_now() + 5'000'000'000;
  at.on_new_flow(6, ip("127.0.0.1"), cport, ip("127.0.0.1"), lport, t);
  auto all = at.all();
  const Attribution* c = find_key(all, 6, "127.0.0.1", cport, "127.0.0.1", lport);
  const Attribution* s = find_key(all, 6, "127.0.0.1", lport, "127.0.0.1", cport);
  ASSERT_NE(c, nullptr);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(c->first_seen, t);
  EXPECT_EQ(c->inode, inode_of(client.get()));
  EXPECT_EQ(s->inode, inode_of(server.get()));
  EXPECT_EQ(c->process.pid, getpid());
  EXPECT_EQ(s->process.pid, getpid());
  EXPECT_EQ(c->how, "sock_diag+proc");

  // A flow of no local socket adds nothing.
  size_t n = all.size();
  at.on_new_flow(6, ip("198.51.100.7"), 40000, ip("203.0.113.9"), 443, t);
  EXPECT_EQ(at.all().size(), n);
}

TEST(Attributor, Ipv6AndDualStackSockets) {
  Attributor at;
  REQUIRE_SOCK_DIAG(at);
  // A dual-stack listener on :: and an IPv4 client: the accepted socket is
  // AF_INET6 with ::ffff:127.0.0.1 ends, reported as IPv4 like the packets.
  Fd listener(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int off = 0;
  setsockopt(listener.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  sockaddr_in6 any{};
  any.sin6_family = AF_INET6;
  any.sin6_addr = in6addr_any;
  if (bind(listener.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) GTEST_SKIP() << "no IPv6";
  ASSERT_EQ(listen(listener.get(), 4), 0);
  sockaddr_in6 bound{};
  socklen_t len = sizeof bound;
  getsockname(listener.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  uint16_t lport = ntohs(bound.sin6_port);
  Fd client4(tcp_connect(lport));
  Fd server4(accept_within(listener.get()));
  ASSERT_GE(server4.get(), 0);
  uint16_t c4 = local_port(client4.get());
  // And a plain IPv6 connection over ::1.
  Fd client6(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 lo6{};
  lo6.sin6_family = AF_INET6;
  lo6.sin6_addr = in6addr_loopback;
  lo6.sin6_port = htons(lport);
  ASSERT_EQ(connect(client6.get(), reinterpret_cast<sockaddr*>(&lo6), sizeof lo6), 0);
  Fd server6(accept_within(listener.get()));
  ASSERT_GE(server6.get(), 0);
  len = sizeof bound;
  getsockname(client6.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  uint16_t c6 = ntohs(bound.sin6_port);

  at.on_new_flow(6, ip("::1"), c6, ip("::1"), lport, wall_now());
  auto all = at.all();
  const Attribution* a6 = find_key(all, 6, "::1", c6, "::1", lport);
  ASSERT_NE(a6, nullptr);
  EXPECT_EQ(a6->inode, inode_of(client6.get()));
  EXPECT_EQ(a6->process.pid, getpid());

  std::string err;
  ASSERT_TRUE(at.poll(wall_now(), err)) << err;
  all = at.all();
  const Attribution* l = find_key(all, 6, "::", lport, "::", 0);
  const Attribution* s4 = find_key(all, 6, "127.0.0.1", lport, "127.0.0.1", c4);
  const Attribution* s6 = find_key(all, 6, "::1", lport, "::1", c6);
  ASSERT_NE(l, nullptr);
  ASSERT_NE(s4, nullptr);
  ASSERT_NE(s6, nullptr);
  EXPECT_EQ(l->inode, inode_of(listener.get()));
  EXPECT_EQ(s4->inode, inode_of(server4.get()));
  EXPECT_EQ(s6->inode, inode_of(server6.get()));
  EXPECT_EQ(s4->process.pid, getpid());
}

TEST(Attributor, ChildProcessNamedWithItsPidAndExe) {
  Attributor at;
  REQUIRE_SOCK_DIAG(at);
  if (access("/usr/bin/sleep", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/sleep";
  Fd listener(tcp_listener());
  uint16_t lport = local_port(listener.get());
  sockaddr_in target = loopback(lport);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The connected socket survives exec (no CLOEXEC): sleep owns it.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) _exit(2);
    execl("/usr/bin/sleep", "sleep", "7", static_cast<char*>(nullptr));
    _exit(3);
  }
  Child child(pid);
  Fd server(accept_within(listener.get()));
  ASSERT_GE(server.get(), 0);
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  ASSERT_EQ(getpeername(server.get(), reinterpret_cast<sockaddr*>(&peer), &len), 0);
  uint16_t cport = ntohs(peer.sin_port);
  // Wait (bounded) until the child has exec'd, so its exe is sleep's.
  std::string exe_link = "/proc/" + std::to_string(pid) + "/exe";
  std::string sleep_exe = fs::canonical("/usr/bin/sleep").string();
  for (int i = 0; i < 200 && fs::read_symlink(exe_link).string() != sleep_exe; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  std::string err;
  ASSERT_TRUE(at.poll(wall_now(), err)) << err;
  auto all = at.all();
  const Attribution* c = find_key(all, 6, "127.0.0.1", cport, "127.0.0.1", lport);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->process.pid, pid);
  EXPECT_EQ(c->process.exe, sleep_exe);
  EXPECT_EQ(c->process.cmdline, "sleep 7");
  EXPECT_EQ(c->how, "sock_diag+proc");
  const Attribution* s = find_key(all, 6, "127.0.0.1", lport, "127.0.0.1", cport);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->process.pid, getpid());
}

TEST(Attributor, TimeWaitSocketHasNoOwner) {
  Attributor at;
  REQUIRE_SOCK_DIAG(at);
  Fd listener(tcp_listener());
  uint16_t lport = local_port(listener.get());
  int client = tcp_connect(lport);
  Fd server(accept_within(listener.get()));
  ASSERT_GE(server.get(), 0);
  uint16_t cport = local_port(client);
  // The client closes first, so its end stays in TIME_WAIT without a file.
  close(client);
  char b;
  pollfd p{server.get(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 2000), 1);
  ASSERT_EQ(read(server.get(), &b, 1), 0);
  server.reset();
  std::string err;
  ASSERT_TRUE(at.poll(wall_now(), err)) << err;
  auto all = at.all();
  const Attribution* c = find_key(all, 6, "127.0.0.1", cport, "127.0.0.1", lport);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->inode, 0u);
  EXPECT_EQ(c->process.pid, 0);
  EXPECT_EQ(c->process.exe, "");
  EXPECT_EQ(c->how, "no inode (time-wait, or not accepted yet)");
}

// The capture loop attributes a connection of a process that is gone long
// before the loop ends, through the lookup at the flow's first packet (the
// periodic poll is set far beyond the capture's duration).
TEST(RunLive, ShortLivedClientAttributedAtFirstPacket) {
  if (geteuid() != 0) GTEST_SKIP() << "live capture needs root";
  {
    Attributor probe;
    std::string e;
    if (!probe.poll(wall_now(), e)) GTEST_SKIP() << e;
  }
  Fd listener(tcp_listener());
  uint16_t lport = local_port(listener.get());
  fs::path dir = fs::temp_directory_path() / ("trawl_live_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  struct RemoveDir {
    fs::path p;
    ~RemoveDir() { fs::remove_all(p); }
  } remove_dir{dir};
  LiveOptions opt;
  opt.iface = "lo";
  opt.duration_s = 2.0;
  opt.poll_interval_s = 60;
  opt.bpf = "tcp port " + std::to_string(lport);
  opt.pcap_path = (dir / "live.pcap").string();
  LiveResult result;
  std::string err;
  std::atomic<bool> ok{false};
  std::thread capture([&] { ok = run_live(opt, result, err); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  sockaddr_in target = loopback(lport);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) _exit(2);
    char buf[8] = "ping";
    if (write(fd, buf, 4) != 4) _exit(3);
    if (read(fd, buf, sizeof buf) <= 0) _exit(4);
    timespec nap{0, 100'000'000};
    nanosleep(&nap, nullptr);
    _exit(0);
  }
  uint16_t cport = 0;
  int status = -1;
  {
    Child child(pid);
    Fd server(accept_within(listener.get()));
    if (server.get() >= 0) {
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      getpeername(server.get(), reinterpret_cast<sockaddr*>(&peer), &len);
      cport = ntohs(peer.sin_port);
      char buf[8];
      pollfd p{server.get(), POLLIN, 0};
      if (poll(&p, 1, 2000) == 1 && read(server.get(), buf, sizeof buf) == 4) {
        EXPECT_EQ(write(server.get(), "pong", 4), 4);
      }
    }
    waitpid(pid, &status, 0);
    child.release();
  }
  capture.join();
  ASSERT_TRUE(ok) << err;
  ASSERT_NE(cport, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(result.attribution_error, "");

  const Attribution* c = find_key(result.sockets, 6, "127.0.0.1", cport, "127.0.0.1", lport);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->process.pid, pid);
  EXPECT_EQ(c->process.exe, self_exe());
  EXPECT_EQ(c->how, "sock_diag+proc");

  // The pcap holds every packet the loop counted (handshake, two data
  // segments, the closes), all of them this connection's (the BPF filter).
  EXPECT_GE(result.packets, 7u);
  std::ifstream in(opt.pcap_path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GE(bytes.size(), 24u);
  uint32_t linktype = 0;
  std::memcpy(&linktype, bytes.data() + 20, 4);
  core::Anomalies anomalies;
  decode::Decoder decoder(anomalies);
  size_t off = 24, records = 0, client_syns = 0, ours = 0;
  while (off + 16 <= bytes.size()) {
    uint32_t caplen = 0;
    std::memcpy(&caplen, bytes.data() + off + 8, 4);
    if (off + 16 + caplen > bytes.size()) break;
    capture::RawPacket pkt;
    pkt.caplen = caplen;
    pkt.wirelen = caplen;
    pkt.linktype = static_cast<uint16_t>(linktype);
    pkt.data = bytes.data() + off + 16;
    decode::DecodedPacket d;
    if (decoder.decode(pkt, d) == decode::DecodeStatus::kOk && d.ip_proto == 6 &&
        ((d.sport == cport && d.dport == lport) || (d.sport == lport && d.dport == cport))) {
      ++ours;
      if (d.sport == cport && d.tcp_flags == decode::tcp_flag::kSyn) ++client_syns;
    }
    off += 16 + caplen;
    ++records;
  }
  EXPECT_EQ(off, bytes.size());
  EXPECT_EQ(records, result.packets);
  EXPECT_EQ(ours, result.packets);
  EXPECT_EQ(client_syns, 1u);
}

TEST(RunLive, BadInterfaceIsAnError) {
  LiveOptions opt;
  opt.iface = "no-such-if0";
  opt.duration_s = 0.2;
  opt.pcap_path = (fs::temp_directory_path() / "trawl_live_never.pcap").string();
  LiveResult result;
  std::string err;
  EXPECT_FALSE(run_live(opt, result, err));
  EXPECT_NE(err.find("no-such-if0"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(opt.pcap_path));
}

// --- inode -> process over a fake /proc ------------------------------------

class FakeProc {
 public:
  FakeProc() : root_(fs::temp_directory_path() / ("trawl_fake_proc_" + std::to_string(getpid()))) {
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~FakeProc() { fs::remove_all(root_); }
  void add(int pid, const std::vector<std::string>& links, const std::string& exe, const std::string& cmdline) {
    fs::path p = root_ / std::to_string(pid);
    fs::create_directories(p / "fd");
    int n = 0;
    for (const std::string& l : links) fs::create_symlink(l, p / "fd" / std::to_string(n++));
    fs::create_symlink(exe, p / "exe");
    std::ofstream(p / "cmdline", std::ios::binary) << cmdline;
  }
  void remove(int pid) { fs::remove_all(root_ / std::to_string(pid)); }
  std::string root() const { return root_.string(); }

 private:
  fs::path root_;
};

TEST(ProcMap, ResolvesOwnersAndGivesUp) {
  FakeProc proc;
  proc.add(100, {"socket:[555]", "/dev/null", "pipe:[9]"}, "/usr/bin/fake", std::string("fake\0--flag\0x\0", 14));
  proc.add(200, {"socket:[556]"}, "/usr/sbin/other", std::string("other\0", 6));
  fs::create_directories(fs::path(proc.root()) / "self");  // not a pid
  ProcMap map(proc.root());
  std::vector<Resolution> out;
  map.resolve({555, 777}, 1000, out);
  ASSERT_EQ(out.size(), 2u);
  std::sort(out.begin(), out.end(), [](const Resolution& a, const Resolution& b) { return a.inode < b.inode; });
  EXPECT_EQ(out[0].inode, 555u);
  EXPECT_TRUE(out[0].found);
  EXPECT_EQ(out[0].process.pid, 100);
  EXPECT_EQ(out[0].process.exe, "/usr/bin/fake");
  EXPECT_EQ(out[0].process.cmdline, "fake --flag x");
  EXPECT_EQ(out[1].inode, 777u);
  EXPECT_FALSE(out[1].found);
  EXPECT_EQ(out[1].how, "unowned (no process in this PID namespace holds it)");
  EXPECT_EQ(map.pending(), 0u);
  EXPECT_EQ(map.fd_dirs_read(), 2u);

  // Known inodes resolve from the cache; a new process is read once.
  out.clear();
  proc.add(300, {"socket:[888]"}, "/usr/bin/curl", std::string("curl\0http://192.0.2.1/\0", 24));
  map.resolve({556, 888}, 1000, out);
  ASSERT_EQ(out.size(), 2u);
  for (const Resolution& r : out) {
    EXPECT_TRUE(r.found);
    EXPECT_EQ(r.process.pid, r.inode == 556 ? 200 : 300);
  }
  EXPECT_EQ(map.fd_dirs_read(), 3u);

  // A socket the newest process opened after it was read: found by
  // re-reading the recently discovered processes first (one fd dir).
  out.clear();
  fs::create_symlink("socket:[889]", fs::path(proc.root()) / "300" / "fd" / "7");
  map.resolve({889}, 1000, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].found);
  EXPECT_EQ(out[0].process.pid, 300);
  EXPECT_EQ(out[0].process.cmdline, "curl http://192.0.2.1/");
  EXPECT_EQ(map.fd_dirs_read(), 4u);

  // A process that exited before it was read: given up, saying so.
  out.clear();
  proc.remove(300);
  map.resolve({999}, 1000, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].found);
  EXPECT_EQ(out[0].how, "unowned (closed, or its process exited before /proc was read)");
}

TEST(ProcMap, BudgetSpreadsWorkOverCalls) {
  FakeProc proc;
  for (int pid = 10; pid < 20; ++pid) proc.add(pid, {"socket:[" + std::to_string(1000 + pid) + "]"}, "/bin/x", "x");
  ProcMap map(proc.root());
  std::vector<Resolution> out;
  // Newest first: pid 19 and 18 fit the budget (2 entries each: dir + link).
  map.resolve({1010}, 3, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(map.pending(), 1u);
  EXPECT_EQ(map.fd_dirs_read(), 2u);
  for (int i = 0; i < 10 && out.empty(); ++i) map.resolve({}, 3, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].found);
  EXPECT_EQ(out[0].process.pid, 10);
  EXPECT_EQ(map.fd_dirs_read(), 10u);
}

// --- the index over hand-built attributions --------------------------------

Attribution make(uint8_t proto, const char* local, uint16_t lport, const char* remote, uint16_t rport, int32_t pid,
                 int64_t first_s, int64_t last_s) {
  Attribution a;
  a.key = SocketKey{proto, ip(local), lport, ip(remote), rport};
  a.process.pid = pid;
  a.inode = static_cast<uint64_t>(pid) * 10;
  a.first_seen = core::Timestamp::from_sec_nsec(first_s, 0);
  a.last_seen = core::Timestamp::from_sec_nsec(last_s, 0);
  return a;
}

core::Timestamp at_s(int64_t s) { return core::Timestamp::from_sec_nsec(s, 0); }

TEST(AttributionIndex, OrientationPortReuseAndWildcards) {
  std::vector<Attribution> all = {
      make(6, "192.0.2.10", 40000, "198.51.100.5", 443, 100, 10, 20),   // outbound client
      make(6, "192.0.2.10", 40000, "198.51.100.5", 443, 101, 100, 110), // same tuple reused later
      make(6, "192.0.2.10", 22, "0.0.0.0", 0, 11, 0, 1000),             // sshd listener
      make(6, "192.0.2.10", 22, "203.0.113.9", 50001, 12, 5, 6),        // an accepted session
      make(6, "127.0.0.1", 5000, "127.0.0.1", 8080, 7, 0, 10),          // loopback client
      make(6, "127.0.0.1", 8080, "127.0.0.1", 5000, 8, 0, 10),          // loopback server
      make(17, "0.0.0.0", 5353, "0.0.0.0", 0, 9, 0, 1000),              // unconnected UDP
      make(17, "::", 5353, "::", 0, 19, 0, 1000),                       // its IPv6 twin
  };
  AttributionIndex index(all);
  EXPECT_EQ(index.size(), 8u);
  auto pid = [&](uint8_t proto, const char* o, uint16_t op, const char* r, uint16_t rp, int64_t ts) {
    const Attribution* a = index.find(proto, ip(o), op, ip(r), rp, at_s(ts));
    return a ? a->process.pid : -1;
  };
  // Either orientation of the connection finds the local socket.
  EXPECT_EQ(pid(6, "192.0.2.10", 40000, "198.51.100.5", 443, 15), 100);
  EXPECT_EQ(pid(6, "198.51.100.5", 443, "192.0.2.10", 40000, 15), 100);
  // Port reuse: the socket seen closest to the connection's time.
  EXPECT_EQ(pid(6, "192.0.2.10", 40000, "198.51.100.5", 443, 105), 101);
  EXPECT_EQ(pid(6, "192.0.2.10", 40000, "198.51.100.5", 443, 50), 100);
  EXPECT_EQ(pid(6, "192.0.2.10", 40000, "198.51.100.5", 443, 90), 101);
  // Both ends local: the originator's socket.
  EXPECT_EQ(pid(6, "127.0.0.1", 5000, "127.0.0.1", 8080, 5), 7);
  EXPECT_EQ(pid(6, "127.0.0.1", 8080, "127.0.0.1", 5000, 5), 8);
  // The accepted socket beats the listener; an unseen session gets the listener.
  EXPECT_EQ(pid(6, "203.0.113.9", 50001, "192.0.2.10", 22, 5), 12);
  EXPECT_EQ(pid(6, "203.0.113.9", 50002, "192.0.2.10", 22, 5), 11);
  // UDP to a wildcard-bound socket, per family; other ports find nothing.
  EXPECT_EQ(pid(17, "192.0.2.10", 5353, "224.0.0.251", 5353, 5), 9);
  EXPECT_EQ(pid(17, "2001:db8::1", 5353, "2001:db8::2", 5353, 5), 19);
  EXPECT_EQ(pid(17, "192.0.2.10", 5354, "198.51.100.1", 53, 5), -1);
  EXPECT_EQ(pid(6, "192.0.2.10", 5353, "198.51.100.1", 53, 5), -1);
  EXPECT_EQ(pid(6, "192.0.2.11", 40000, "198.51.100.5", 443, 15), -1);
  AttributionIndex empty({});
  EXPECT_EQ(empty.find(6, ip("192.0.2.10"), 1, ip("192.0.2.11"), 2, at_s(0)), nullptr);
}

TEST(AttributionJson, OneLine) {
  Attribution a;
  a.key = SocketKey{6, ip("192.0.2.10"), 40000, ip("2001:db8::5"), 443};
  a.inode = 123456;
  a.process.pid = 4242;
  a.process.exe = "/usr/bin/curl";
  a.process.cmdline = "curl -s \"http://x/\"";
  a.process.uid = 1000;
  a.process.user = "alice";
  a.first_seen = core::Timestamp::from_sec_nsec(1700000000, 123456789);
  a.last_seen = core::Timestamp::from_sec_nsec(1700000001, 5000);
  a.how = "sock_diag+proc";
  std::string out;
  append_attribution_json(a, out);
  EXPECT_EQ(out,
            "{\"ts\":1700000000.123457,\"last_seen\":1700000001.000005,\"proto\":\"tcp\","
            "\"local_addr\":\"192.0.2.10\",\"local_port\":40000,\"remote_addr\":\"2001:db8::5\","
            "\"remote_port\":443,\"inode\":123456,\"pid\":4242,\"exe\":\"/usr/bin/curl\","
            "\"cmdline\":\"curl -s \\\"http://x/\\\"\",\"uid\":1000,\"user\":\"alice\",\"how\":\"sock_diag+proc\"}\n");
  out.clear();
  Attribution u;
  u.key.proto = 17;
  u.how = "unowned (no process in this PID namespace holds it)";
  append_attribution_json(u, out);
  EXPECT_EQ(out,
            "{\"ts\":0.000000,\"last_seen\":0.000000,\"proto\":\"udp\",\"local_addr\":\"0.0.0.0\",\"local_port\":0,"
            "\"remote_addr\":\"0.0.0.0\",\"remote_port\":0,\"inode\":0,\"pid\":0,\"exe\":\"\",\"cmdline\":\"\","
            "\"uid\":0,\"user\":\"\",\"how\":\"unowned (no process in this PID namespace holds it)\"}\n");
}

}  // namespace
}  // namespace trawl::live

// Tests for the sinkhole's HTTP responder and its fake files: responses parsed
// back with the project's HTTP parser, split and pipelined requests, limits,
// connectivity checks, overrides; file(1) and structure checks of every fake
// file; and the real curl against a loopback server in the test.
#include "sinkhole/http_responder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <array>
#include <string>
#include <thread>
#include <vector>

#include "sinkhole/fake_content.h"
#include "sinkhole/run_command.h"

extern char** environ;

namespace trawl::sinkhole {
namespace {

using test_util::run_command;

namespace http = analyzers::http;

constexpr core::Timestamp kNow = core::Timestamp::from_sec_nsec(1700000000, 0);

struct Response {
  uint16_t status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "<none>";
  }
};

// Parses a stream of responses with the project's parser. `head` marks which
// responses answer HEAD (no body although Content-Length is set).
std::vector<Response> parse_responses(const std::vector<uint8_t>& bytes, std::vector<bool> head = {}) {
  struct H : http::MessageParser::Handler {
    std::vector<Response> out;
    std::vector<bool> head;
    void on_status_line(const http::StatusLine& l) override {
      out.emplace_back();
      out.back().status = l.code;
      out.back().reason = std::string(l.reason);
    }
    void on_header(std::string_view n, std::string_view v) override { out.back().headers.emplace_back(n, v); }
    http::Framing on_headers_done(http::Framing f) override {
      const size_t i = out.size() - 1;
      return i < head.size() && head[i] ? http::Framing::kNone : f;
    }
    void on_body(core::ByteView d) override { out.back().body.append(core::as_chars(d)); }
  } h;
  h.head = std::move(head);
  core::Anomalies an;
  http::MessageParser p(false, h, an);
  p.feed(bytes);
  EXPECT_EQ(an.total(), 0u);
  return h.out;
}

core::ByteView bv(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

struct Served {
  std::vector<uint8_t> out;
  std::vector<HttpExchange> ex;
  bool closed = false;
};

Served serve(const HttpResponder& r, std::string_view request, size_t chunk = 0) {
  HttpSession s(r);
  Served run;
  if (chunk == 0) {
    s.feed(bv(request), kNow, run.out);
  } else {
    for (size_t i = 0; i < request.size(); i += chunk) s.feed(bv(request.substr(i, chunk)), kNow, run.out);
  }
  run.ex = s.take_exchanges();
  run.closed = s.wants_close();
  return run;
}

TEST(HttpResponder, GetExeByExtension) {
  HttpResponder r;
  const Served run = serve(r, "GET /a/b.exe?c=1 HTTP/1.1\r\nHost: Dropper.Example:8080\r\nUser-Agent: evil/1.0\r\n"
                           "Accept: */*\r\n\r\n");
  const auto resp = parse_responses(run.out);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].status, 200);
  EXPECT_EQ(resp[0].reason, "OK");
  EXPECT_EQ(resp[0].header("Content-Type"), "application/x-msdownload");
  EXPECT_EQ(resp[0].header("Content-Length"), std::to_string(fake_file(FakeKind::kExe).body.size()));
  EXPECT_EQ(resp[0].header("Connection"), "keep-alive");
  EXPECT_EQ(resp[0].header("Date"), "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_EQ(resp[0].header("Server"), "Apache/2.4.57 (Debian)");
  EXPECT_EQ(resp[0].body, fake_file(FakeKind::kExe).body);
  EXPECT_FALSE(run.closed);
  ASSERT_EQ(run.ex.size(), 1u);
  const HttpExchange& e = run.ex[0];
  EXPECT_EQ(e.method, "GET");
  EXPECT_EQ(e.target, "/a/b.exe?c=1");
  EXPECT_EQ(e.version, "1.1");
  EXPECT_EQ(e.host, "dropper.example");
  EXPECT_EQ(e.path, "/a/b.exe");
  EXPECT_EQ(e.user_agent, "evil/1.0");
  ASSERT_EQ(e.headers.size(), 3u);
  EXPECT_EQ(e.headers[2], (std::pair<std::string, std::string>{"Accept", "*/*"}));
  EXPECT_TRUE(e.complete);
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.served, "fake:exe");
  EXPECT_EQ(e.response_length, fake_file(FakeKind::kExe).body.size());
}

TEST(HttpResponder, ContentTypeByExtension) {
  HttpResponder r;
  const std::map<std::string, std::string> want = {
      {"/x.html", "text/html; charset=utf-8"}, {"/x.dll", "application/x-msdownload"}, {"/x.png", "image/png"},
      {"/x.JPEG", "image/jpeg"},  {"/x.gif", "image/gif"}, {"/favicon.ico", "image/x-icon"},
      {"/x.pdf", "application/pdf"}, {"/x.txt", "text/plain; charset=utf-8"}, {"/x.js", "application/javascript"},
      {"/x.json", "application/json"}, {"/x.zip", "application/zip"}, {"/x.css", "text/css"},
      {"/x.xml", "application/xml"}, {"/", "text/html; charset=utf-8"}, {"/x.unknownext", "text/html; charset=utf-8"},
  };
  for (const auto& [path, type] : want) {
    const auto resp = parse_responses(serve(r, "GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n").out);
    ASSERT_EQ(resp.size(), 1u) << path;
    EXPECT_EQ(resp[0].header("Content-Type"), type) << path;
    EXPECT_EQ(resp[0].header("Content-Length"), std::to_string(resp[0].body.size())) << path;
  }
  EXPECT_EQ(path_extension("http://h.example/dir.d/file.tar.GZ?x=a.b#f.c"), "gz");
  EXPECT_EQ(path_extension("/dir.d/file"), "");
}

TEST(HttpResponder, SplitAndPipelinedRequests) {
  HttpResponder r;
  const std::string req =
      "GET /one.js HTTP/1.1\r\nHost: a.example\r\n\r\n"
      "POST /gate.php HTTP/1.1\r\nHost: a.example\r\nContent-Length: 11\r\n\r\nid=42&x=abc"
      "PUT /up HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n3\r\n123\r\n0\r\n\r\n"
      "HEAD /two.png HTTP/1.1\r\nHost: a.example\r\n\r\n";
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{7}}) {
    const Served run = serve(r, req, chunk);
    const auto resp = parse_responses(run.out, {false, false, false, true});
    ASSERT_EQ(resp.size(), 4u) << chunk;
    EXPECT_EQ(resp[0].header("Content-Type"), "application/javascript");
    EXPECT_EQ(resp[1].header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(resp[3].header("Content-Type"), "image/png");
    EXPECT_EQ(resp[3].header("Content-Length"), std::to_string(fake_file(FakeKind::kPng).body.size()));
    EXPECT_EQ(resp[3].body, "");
    ASSERT_EQ(run.ex.size(), 4u);
    EXPECT_EQ(run.ex[1].method, "POST");
    EXPECT_EQ(run.ex[1].body, "id=42&x=abc");
    EXPECT_EQ(run.ex[1].body_length, 11u);
    EXPECT_EQ(run.ex[2].method, "PUT");
    EXPECT_EQ(run.ex[2].body, "wxyz123");
    EXPECT_EQ(run.ex[3].method, "HEAD");
    EXPECT_EQ(run.ex[3].response_length, fake_file(FakeKind::kPng).body.size());
  }
}

TEST(HttpResponder, EveryMethodAnswered) {
  HttpResponder r;
  for (const char* m : {"GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "PROPFIND", "BEACON"}) {
    const Served run = serve(r, std::string(m) + " /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    const auto resp = parse_responses(run.out);
    ASSERT_EQ(resp.size(), 1u) << m;
    EXPECT_EQ(resp[0].status, 200) << m;
    ASSERT_EQ(run.ex.size(), 1u);
    EXPECT_EQ(run.ex[0].method, m);
  }
}

TEST(HttpResponder, MethodsAreCaseSensitive) {
  HttpResponder r;
  // "HEAd" is not HEAD (RFC 9110 methods are case-sensitive): it gets a body.
  const Served run = serve(r, "HEAd /x.txt HTTP/1.1\r\nHost: h\r\n\r\n");
  const auto resp = parse_responses(run.out);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].body, fake_file(FakeKind::kTxt).body);
}

TEST(HttpResponder, ConnectionHandling) {
  HttpResponder r;
  Served run = serve(r, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\n\r\n");
  auto resp = parse_responses(run.out);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].header("Connection"), "close");
  EXPECT_TRUE(run.closed);
  EXPECT_EQ(run.ex.size(), 1u);

  run = serve(r, "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(parse_responses(run.out)[0].header("Connection"), "close");
  EXPECT_TRUE(run.closed);
  run = serve(r, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  EXPECT_EQ(parse_responses(run.out)[0].header("Connection"), "keep-alive");
  EXPECT_FALSE(run.closed);

  // Expect: 100-continue gets the interim response before the final one.
  run = serve(r, "POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc");
  resp = parse_responses(run.out);
  ASSERT_EQ(resp.size(), 2u);
  EXPECT_EQ(resp[0].status, 100);
  EXPECT_EQ(resp[1].status, 200);
  EXPECT_EQ(run.ex[0].body, "abc");

  // CONNECT: answered, then the session is a tunnel.
  HttpSession s(r);
  std::vector<uint8_t> out;
  s.feed(bv("CONNECT c2.example:443 HTTP/1.1\r\nHost: c2.example:443\r\n\r\n"), kNow, out);
  EXPECT_EQ(std::string(out.begin(), out.end()), "HTTP/1.1 200 Connection established\r\n\r\n");
  EXPECT_TRUE(s.tunnel());
  EXPECT_TRUE(s.wants_close());
  ASSERT_EQ(s.take_exchanges().size(), 1u);

  // The client closes mid-body: logged as incomplete, nothing answered.
  HttpSession cut(r);
  out.clear();
  cut.feed(bv("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\npartial"), kNow, out);
  cut.end_of_stream();
  EXPECT_TRUE(out.empty());
  const auto ex = cut.take_exchanges();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_FALSE(ex[0].complete);
  EXPECT_EQ(ex[0].body, "partial");
  EXPECT_EQ(ex[0].status, 0);
}

TEST(HttpResponder, ConnectivityChecksAsTheRealServers) {
  HttpResponder r;
  struct Case {
    const char* host;
    const char* path;
    uint16_t status;
    const char* body;
    const char* type;
  };
  const Case cases[] = {
      {"www.msftconnecttest.com", "/connecttest.txt", 200, "Microsoft Connect Test", "text/plain"},
      {"www.msftncsi.com", "/ncsi.txt", 200, "Microsoft NCSI", "text/plain"},
      {"connectivitycheck.gstatic.com", "/generate_204", 204, "", "<none>"},
      {"clients3.google.com", "/generate_204", 204, "", "<none>"},
      {"connectivity-check.ubuntu.com.", "/", 204, "", "<none>"},
      {"nmcheck.gnome.org", "/check_network_status.txt", 200, "NetworkManager is online\n", "text/plain"},
      {"detectportal.firefox.com", "/success.txt?ipv4", 200, "success\n", "text/plain"},
      {"captive.apple.com", "/hotspot-detect.html", 200,
       "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>\n", "text/html"},
  };
  for (const Case& c : cases) {
    const Served run = serve(r, std::string("GET ") + c.path + " HTTP/1.1\r\nHost: " + c.host + "\r\n\r\n");
    const auto resp = parse_responses(run.out);
    ASSERT_EQ(resp.size(), 1u) << c.host;
    EXPECT_EQ(resp[0].status, c.status) << c.host;
    EXPECT_EQ(resp[0].body, c.body) << c.host;
    EXPECT_EQ(resp[0].header("Content-Type"), c.type) << c.host;
    if (c.status == 204) EXPECT_EQ(resp[0].header("Content-Length"), "<none>");
    EXPECT_TRUE(run.ex[0].served.starts_with("check:")) << c.host;
  }
  // Firefox's file on another host is just a text file.
  EXPECT_EQ(serve(r, "GET /success.txt HTTP/1.1\r\nHost: x.example\r\n\r\n").ex[0].served, "fake:txt");

  HttpResponderConfig off;
  off.connectivity_checks = false;
  HttpResponder plain(off);
  EXPECT_EQ(serve(plain, "GET /generate_204 HTTP/1.1\r\nHost: h\r\n\r\n").ex[0].status, 200);
}

TEST(HttpResponder, Overrides) {
  const auto dir = std::filesystem::temp_directory_path() / ("trawl_h8_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "payload.bin";
  std::ofstream(file, std::ios::binary) << std::string("PAYLOAD\x00\x01", 9);

  HttpResponderConfig c;
  c.overrides.push_back({"c2.example", "/gate.php", 404, "text/plain", "nope", "", false, ""});
  c.overrides.push_back({"*.cdn.example", "/files/*", 200, "application/octet-stream", "", file.string(), false, ""});
  c.overrides.push_back({"", "/redirect", 302, "", "", "", true, "http://198.51.100.9/next.html"});
  c.overrides.push_back({"Upper.Example:80", "", 200, "text/x-custom", "literal", "", false, ""});
  std::string err;
  ASSERT_TRUE(load_override_files(c, err)) << err;
  HttpResponder r(c);

  auto one = [&](const std::string& req) {
    const auto resp = parse_responses(serve(r, req).out);
    EXPECT_EQ(resp.size(), 1u);
    return resp.empty() ? Response{} : resp[0];
  };
  Response a = one("POST /gate.php HTTP/1.1\r\nHost: c2.example\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.reason, "Not Found");
  EXPECT_EQ(a.body, "nope");
  EXPECT_EQ(a.header("Content-Type"), "text/plain");
  // Another path on that host: the fake file.
  EXPECT_EQ(one("GET /gate.js HTTP/1.1\r\nHost: c2.example\r\n\r\n").header("Content-Type"), "application/javascript");

  a = one("GET /files/x/y.dat HTTP/1.1\r\nHost: eu.cdn.example\r\n\r\n");
  EXPECT_EQ(a.body, std::string("PAYLOAD\x00\x01", 9));
  EXPECT_EQ(a.header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(one("GET /files/x HTTP/1.1\r\nHost: cdn.example\r\n\r\n").status, 200);
  EXPECT_NE(one("GET /files/x HTTP/1.1\r\nHost: cdn.example\r\n\r\n").body, std::string("PAYLOAD\x00\x01", 9));

  a = one("GET /redirect HTTP/1.1\r\nHost: any.example\r\n\r\n");
  EXPECT_EQ(a.status, 302);
  EXPECT_EQ(a.header("Location"), "http://198.51.100.9/next.html");
  EXPECT_EQ(a.body, fake_file(FakeKind::kHtml).body);

  a = one("GET /anything.exe HTTP/1.1\r\nHost: upper.example\r\n\r\n");
  EXPECT_EQ(a.body, "literal");
  EXPECT_EQ(a.header("Content-Type"), "text/x-custom");

  HttpResponderConfig missing;
  missing.overrides.push_back({"", "/x", 200, "", "", (dir / "does-not-exist").string(), false, ""});
  EXPECT_FALSE(load_override_files(missing, err));
  EXPECT_NE(err.find("does-not-exist"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(HttpResponder, Limits) {
  HttpResponderConfig c;
  c.max_header_bytes = 200;
  c.max_body = 100;
  c.max_body_kept = 10;
  c.max_requests = 2;
  HttpResponder r(c);

  Served run = serve(r, "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: " + std::string(300, 'a') + "\r\n\r\n");
  auto resp = parse_responses(run.out);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].status, 431);
  EXPECT_EQ(resp[0].header("Connection"), "close");
  EXPECT_TRUE(run.closed);

  run = serve(r, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n");
  EXPECT_EQ(parse_responses(run.out)[0].status, 413);
  EXPECT_TRUE(run.closed);
  run = serve(r, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + std::string(100, 'b') +
                     "\r\n1\r\nc\r\n0\r\n\r\n");
  EXPECT_EQ(parse_responses(run.out)[0].status, 413);

  run = serve(r, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 50\r\n\r\n" + std::string(50, 'd'));
  ASSERT_EQ(run.ex.size(), 1u);
  EXPECT_EQ(run.ex[0].body, std::string(10, 'd'));
  EXPECT_EQ(run.ex[0].body_length, 50u);
  EXPECT_TRUE(run.ex[0].body_truncated);

  run = serve(r,
              "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
              "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n");
  resp = parse_responses(run.out);
  ASSERT_EQ(resp.size(), 2u);
  EXPECT_EQ(resp[0].header("Connection"), "keep-alive");
  EXPECT_EQ(resp[1].header("Connection"), "close");
  EXPECT_TRUE(run.closed);
}

TEST(HttpResponder, GarbageGets400AndClose) {
  HttpResponder r;
  for (const std::string& junk :
       {std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n", 13), std::string("HELLO THERE\r\n\r\n"),
        std::string(9000, 'A'), std::string("GET / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n")}) {
    const Served run = serve(r, junk);
    const auto resp = parse_responses(run.out);
    ASSERT_EQ(resp.size(), 1u) << junk.substr(0, 20);
    EXPECT_EQ(resp[0].status, 400);
    EXPECT_EQ(resp[0].header("Connection"), "close");
    EXPECT_TRUE(run.closed);
  }
  // A bad HEAD request: 400 without a body (HEAD never gets one).
  const Served head = serve(r, "HEAD /x.png HTTP/1.1\r\nHost\xdf h\r\n\r\n");
  const auto head_resp = parse_responses(head.out, {true});
  ASSERT_EQ(head_resp.size(), 1u);
  EXPECT_EQ(head_resp[0].status, 400);
  EXPECT_EQ(head_resp[0].header("Content-Length"), "16");
  EXPECT_EQ(std::string(head.out.end() - 4, head.out.end()), "\r\n\r\n");
  // A good request, then junk: the good one is answered first.
  const Served run = serve(r, "GET /a.txt HTTP/1.1\r\nHost: h\r\n\r\nNOT HTTP AT ALL\r\n");
  const auto resp = parse_responses(run.out);
  ASSERT_EQ(resp.size(), 2u);
  EXPECT_EQ(resp[0].status, 200);
  EXPECT_EQ(resp[1].status, 400);
}

TEST(HttpResponder, AbsoluteFormTarget) {
  HttpResponder r;
  const Served run = serve(r, "GET http://Proxy-Target.EXAMPLE:8080/img/x.png?z HTTP/1.1\r\nHost: other\r\n\r\n");
  ASSERT_EQ(run.ex.size(), 1u);
  EXPECT_EQ(run.ex[0].host, "proxy-target.example");
  EXPECT_EQ(run.ex[0].path, "/img/x.png");
  EXPECT_EQ(parse_responses(run.out)[0].header("Content-Type"), "image/png");
  EXPECT_EQ(serve(r, "GET / HTTP/1.1\r\nHost: [2001:DB8::1]:8080\r\n\r\n").ex[0].host, "2001:db8::1");
  EXPECT_EQ(serve(r, "GET / HTTP/1.1\r\nHost: 2001:db8::1\r\n\r\n").ex[0].host, "2001:db8::1");
  EXPECT_EQ(serve(r, "GET / HTTP/1.1\r\nHost: 198.51.100.7:81\r\n\r\n").ex[0].host, "198.51.100.7");
}

// --- fake files: structure and file(1) --------------------------------------

uint32_t be32(std::string_view s, size_t at) {
  return core::load_be32(reinterpret_cast<const uint8_t*>(s.data() + at));
}
uint32_t le32(std::string_view s, size_t at) {
  return core::load_le32(reinterpret_cast<const uint8_t*>(s.data() + at));
}

TEST(FakeContent, PngChunksAndPixels) {
  const std::string_view png = fake_file(FakeKind::kPng).body;
  ASSERT_EQ(png.substr(0, 8), std::string_view("\x89PNG\r\n\x1a\n", 8));
  size_t at = 8;
  std::vector<std::string> types;
  std::string idat;
  while (at + 12 <= png.size()) {
    const uint32_t len = be32(png, at);
    ASSERT_LE(at + 12 + len, png.size());
    const std::string_view typed = png.substr(at + 4, 4 + len);
    const uint32_t crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(typed.data()), static_cast<uInt>(typed.size())));
    EXPECT_EQ(be32(png, at + 8 + len), crc) << typed.substr(0, 4);
    types.emplace_back(typed.substr(0, 4));
    if (types.back() == "IDAT") idat = std::string(typed.substr(4));
    at += 12 + len;
  }
  EXPECT_EQ(at, png.size());
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  std::array<Bytef, 16> raw{};
  uLongf raw_len = raw.size();
  const auto* z = reinterpret_cast<const Bytef*>(idat.data());
  ASSERT_EQ(uncompress(raw.data(), &raw_len, z, static_cast<uLong>(idat.size())), Z_OK);
  EXPECT_EQ(raw_len, 4u);  // filter byte + one RGB pixel
}

TEST(FakeContent, PeImagesOnlyReturn) {
  for (FakeKind k : {FakeKind::kExe, FakeKind::kDll}) {
    const std::string_view pe = fake_file(k).body;
    ASSERT_EQ(pe.substr(0, 2), "MZ");
    const uint32_t nt = le32(pe, 0x3c);
    ASSERT_EQ(pe.substr(nt, 4), std::string_view("PE\0\0", 4));
    const uint16_t characteristics = core::load_le16(reinterpret_cast<const uint8_t*>(pe.data() + nt + 22));
    EXPECT_EQ((characteristics & 0x2000) != 0, k == FakeKind::kDll);
    const size_t opt = nt + 24;
    EXPECT_EQ(core::load_le16(reinterpret_cast<const uint8_t*>(pe.data() + opt)), 0x10b);
    const uint32_t entry = le32(pe, opt + 16);
    EXPECT_EQ(entry, 0x1000u);
    // Every data directory (imports, TLS, ...) is empty.
    for (size_t d = 0; d < 16 * 8; d += 4) EXPECT_EQ(le32(pe, opt + 96 + d), 0u);
    // The section maps RVA 0x1000 to file offset 0x200: the code there.
    const std::string_view code = pe.substr(0x200, 8);
    if (k == FakeKind::kExe) {
      EXPECT_EQ(code.substr(0, 3), "\x31\xc0\xc3");
    } else {
      EXPECT_EQ(code, std::string_view("\xb8\x01\x00\x00\x00\xc2\x0c\x00", 8));
    }
  }
}


TEST(FakeContent, FileCommandNamesEveryType) {
  if (::access("/usr/bin/file", X_OK) != 0) GTEST_SKIP() << "file(1) not installed";
  const auto dir = std::filesystem::temp_directory_path() / ("trawl_h8_fc_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // file(1) has no rule for CSS: it is checked as text only.
  const std::map<FakeKind, std::string> want = {
      {FakeKind::kHtml, "HTML document"},
      {FakeKind::kExe, "PE32 executable (GUI) Intel 80386, for MS Windows"},
      {FakeKind::kDll, "PE32 executable (DLL) (GUI) Intel 80386, for MS Windows"},
      {FakeKind::kPng, "PNG image data, 1 x 1, 8-bit/color RGB, non-interlaced"},
      {FakeKind::kJpg, "JPEG image data, JFIF standard 1.01"},
      {FakeKind::kGif, "GIF image data, version 89a, 1 x 1"},
      {FakeKind::kIco, "MS Windows icon resource - 1 icon, 16x16, 32 bits/pixel"},
      {FakeKind::kPdf, "PDF document, version 1.4, 1 pages"},
      {FakeKind::kTxt, "ASCII text"},
      {FakeKind::kJs, "JavaScript source"},
      {FakeKind::kJson, "JSON text data"},
      {FakeKind::kZip, "Zip archive data"},
      {FakeKind::kCss, "ASCII text"},
      {FakeKind::kXml, "XML 1.0 document"},
  };
  for (const auto& [kind, text] : want) {
    const FakeFile& f = fake_file(kind);
    const auto path = dir / ("f." + std::string(f.name));
    std::ofstream(path, std::ios::binary) << f.body;
    const std::string out = run_command({"file", "-b", path.string()});
    EXPECT_NE(out.find(text), std::string::npos) << f.name << ": " << out;
  }
  // The archive's CRC and directory, checked by Python's zipfile.
  if (::access("/usr/bin/python3", X_OK) == 0) {
    const std::string out = run_command({"/usr/bin/python3", "-c",
                                         "import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);"
                                         "print(z.testzip(), z.namelist(), z.read('readme.txt')[:4])",
                                         (dir / "f.zip").string()});
    EXPECT_EQ(out, "None ['readme.txt'] b'This'\n");
  }
  std::filesystem::remove_all(dir);
}

// --- the real curl against a loopback server ------------------------------

// Accepts TCP connections on 127.0.0.1 (ephemeral port), one at a time,
// each served by an HttpSession; bounded by a deadline.
class LoopbackHttpServer {
 public:
  explicit LoopbackHttpServer(const HttpResponder& r) : responder_(r) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0) return;
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~LoopbackHttpServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  uint16_t port() const { return port_; }
  std::vector<HttpExchange> exchanges() {
    std::lock_guard<std::mutex> lock(mu_);
    return exchanges_;
  }

 private:
  void run() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      HttpSession s(responder_);
      auto take = [&] {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& e : s.take_exchanges()) exchanges_.push_back(std::move(e));
      };
      std::vector<uint8_t> buf(16384), out;
      for (int rounds = 0; rounds < 1000 && !stop_; ++rounds) {
        pollfd cp{c, POLLIN, 0};
        if (::poll(&cp, 1, 2000) <= 0) break;
        const ssize_t n = ::recv(c, buf.data(), buf.size(), 0);
        if (n <= 0) {
          s.end_of_stream();
          break;
        }
        out.clear();
        s.feed(core::ByteView(buf.data(), static_cast<size_t>(n)), kNow, out);
        // Recorded before the answer goes out: once curl has its response,
        // the test sees the exchange (no race with the connection's close).
        take();
        if (!out.empty() && ::send(c, out.data(), out.size(), MSG_NOSIGNAL) < 0) break;
        if (s.wants_close()) break;
      }
      take();
      ::close(c);
    }
  }
  const HttpResponder& responder_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<HttpExchange> exchanges_;
};


TEST(HttpResponderCurl, RealCurl) {
  if (::access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "curl not installed";
  HttpResponder r;
  LoopbackHttpServer server(r);
  ASSERT_NE(server.port(), 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  auto curl = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"curl", "-s", "--max-time", "5", "--noproxy", "*"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_command(args);
  };
  // Status, type and size as curl saw them; the body itself through stdout.
  EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code} %{content_type} %{size_download}", base + "/a/b.exe?c=1"}),
            "200 application/x-msdownload " + std::to_string(fake_file(FakeKind::kExe).body.size()));
  EXPECT_EQ(curl({"-H", "Host: www.msftconnecttest.com", base + "/connecttest.txt"}), "Microsoft Connect Test");
  EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", base + "/generate_204"}), "204");
  EXPECT_EQ(curl({"-I", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", base + "/x.pdf"}), "200 0");
  EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", "-A", "sample/2.0", "-d", "k=v&beacon=1",
                  base + "/gate.php"}),
            "200");
  // Two requests on one connection (keep-alive).
  EXPECT_EQ(curl({"-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code}%{num_connects} ", base + "/1.js",
                  base + "/2.css"}),
            "2001 2000 ");
  const auto ex = server.exchanges();
  ASSERT_EQ(ex.size(), 7u);
  EXPECT_EQ(ex[0].target, "/a/b.exe?c=1");
  EXPECT_EQ(ex[1].host, "www.msftconnecttest.com");
  EXPECT_EQ(ex[3].method, "HEAD");
  EXPECT_EQ(ex[4].method, "POST");
  EXPECT_EQ(ex[4].user_agent, "sample/2.0");
  EXPECT_EQ(ex[4].body, "k=v&beacon=1");
  EXPECT_EQ(ex[6].path, "/2.css");
}

}  // namespace
}  // namespace trawl::sinkhole

// Tests for the HTTP analyzer driven through a Dispatcher over the real
// registry: probe, request/response pairing (pipelining, keep-alive, 1xx,
// HEAD, CONNECT), body lengths (chunked across tiny deliveries, gzip), form
// field names, login attempts in auth.jsonl, limits and malformed input.
#include "analyzers/http/http_analyzer.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/common/auth_record.h"
#include "analyzers/dispatcher.h"
#include "analyzers/http/http_test_util.h"
#include "flow/conn_record.h"

namespace trawl::analyzers::http {
namespace {

using test_util::base64;

core::ByteView bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
core::Timestamp at(int64_t ms) { return core::Timestamp::from_sec_nsec(1700000000, 0) + ms * 1000000; }

ConnInfo conn(uint16_t resp_p = 80) {
  ConnInfo c;
  c.uid = "CHttpTest00000001";
  c.orig_h = *core::IpAddress::parse("10.0.0.1");
  c.resp_h = *core::IpAddress::parse("192.0.2.80");
  c.orig_p = 50000;
  c.resp_p = resp_p;
  c.proto = 6;
  return c;
}

struct Harness {
  explicit Harness(uint16_t port = 80, bool reveal = false)
      : config(make_config(reveal)), d(conn(port), config, anomalies, sink, registry()) {}
  static AnalyzerConfig make_config(bool reveal) {
    AnalyzerConfig c;
    c.reveal_credentials = reveal;
    return c;
  }

  void orig(std::string_view s, int64_t ms = 0) { d.stream_data(true, bytes(s), at(ms)); }
  void resp(std::string_view s, int64_t ms = 0) { d.stream_data(false, bytes(s), at(ms)); }
  void orig_trickle(std::string_view s, size_t piece = 1) {
    for (size_t i = 0; i < s.size(); i += piece) orig(s.substr(i, piece));
  }
  void resp_trickle(std::string_view s, size_t piece = 1) {
    for (size_t i = 0; i < s.size(); i += piece) resp(s.substr(i, piece));
  }
  void finish(int64_t ms = 100000) { d.finish(at(ms), rec); }

  std::vector<const HttpRecord*> http() const {
    std::vector<const HttpRecord*> out;
    for (const auto& r : sink) {
      if (auto* h = dynamic_cast<const HttpRecord*>(r.get())) out.push_back(h);
    }
    return out;
  }
  std::vector<const AuthRecord*> auth() const {
    std::vector<const AuthRecord*> out;
    for (const auto& r : sink) {
      if (auto* a = dynamic_cast<const AuthRecord*>(r.get())) out.push_back(a);
    }
    return out;
  }
  std::string json(size_t i) const {
    std::string s;
    sink.at(i)->write_json(s);
    return s;
  }

  AnalyzerConfig config;
  core::Anomalies anomalies;
  std::vector<std::unique_ptr<Record>> sink;
  Dispatcher d;
  flow::ConnRecord rec;
};

std::string gzip(std::string_view plain) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, static_cast<uLong>(plain.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string ok(std::string_view body, std::string_view extra = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra) + "\r\n" +
         std::string(body);
}

// ---- probe -----------------------------------------------------------------------

ProbeInput probe_in(std::string_view orig, std::string_view resp, bool hint = false, bool done = false) {
  ProbeInput in;
  in.orig = bytes(orig);
  in.resp = bytes(resp);
  in.port_hint = hint;
  in.orig_done = in.resp_done = done;
  return in;
}

TEST(HttpProbe, RequestsAndStatusLines) {
  EXPECT_EQ(probe_http(probe_in("GET / HTTP/1.1\r\nHost: x\r\n", "")), Probe::kYes);
  EXPECT_EQ(probe_http(probe_in("PROPFIND /dav HTTP/1.1\r\n", "")), Probe::kYes);
  EXPECT_EQ(probe_http(probe_in("GET /index.ht", "")), Probe::kMaybe);  // line not complete yet
  EXPECT_EQ(probe_http(probe_in("PO", "")), Probe::kMaybe);
  EXPECT_EQ(probe_http(probe_in("", "")), Probe::kMaybe);
  EXPECT_EQ(probe_http(probe_in("GET / HTTP/2.0\r\n", "")), Probe::kNo);
  EXPECT_EQ(probe_http(probe_in("GET /\r\n", "")), Probe::kNo);  // HTTP/0.9
  EXPECT_EQ(probe_http(probe_in("USER anonymous\r\n", "")), Probe::kNo);
  EXPECT_EQ(probe_http(probe_in("\x16\x03\x01\x00\xa5", "")), Probe::kNo);
  EXPECT_EQ(probe_http(probe_in("EHLO x\r\n", "220 mail ESMTP\r\n")), Probe::kNo);
  EXPECT_EQ(probe_http(probe_in("GE", "220 mail ESMTP\r\n")), Probe::kNo);  // server spoke first
  // Unknown methods only on a hint port.
  EXPECT_EQ(probe_http(probe_in("FROB /x HTTP/1.1\r\n", "")), Probe::kNo);
  EXPECT_EQ(probe_http(probe_in("FROB /x HTTP/1.1\r\n", "", true)), Probe::kYes);
  EXPECT_EQ(probe_http(probe_in("XYZZY", "", false)), Probe::kNo);
  EXPECT_EQ(probe_http(probe_in("XYZZY", "", true)), Probe::kMaybe);
  // The first line did not fit the probe buffer.
  EXPECT_EQ(probe_http(probe_in("GET /" + std::string(3000, 'a'), "", false, true)), Probe::kYes);
  EXPECT_EQ(probe_http(probe_in("GET x" + std::string(3000, 'a'), "", false, true)), Probe::kNo);
  // Server side only (capture started mid-connection).
  EXPECT_EQ(probe_http(probe_in("", "HTTP/1.1 200 OK\r\n")), Probe::kYes);
  EXPECT_EQ(probe_http(probe_in("garbage from a body", "HTTP/1.0 404 Not Found\r\n")), Probe::kYes);
  EXPECT_EQ(probe_http(probe_in("", "HTTP/1.")), Probe::kMaybe);
  EXPECT_EQ(probe_http(probe_in("", "HTTP/1.1 OK\r\n")), Probe::kNo);
  EXPECT_EQ(probe_http(probe_in("", "SSH-2.0-OpenSSH\r\n")), Probe::kNo);
  // The NUL of a TCP keep-alive probe before the first message.
  EXPECT_EQ(probe_http(probe_in(std::string_view("\0GET / HTTP/1.1\r\n", 17), "")), Probe::kYes);
  EXPECT_EQ(probe_http(probe_in("", std::string_view("\0HTTP/1.1 200 OK\r\n", 18))), Probe::kYes);
  EXPECT_EQ(probe_http(probe_in("garbage from a body", "", true)), Probe::kMaybe);
  EXPECT_EQ(probe_http(probe_in("garbage from a body", "", false)), Probe::kNo);
}

TEST(HttpAnalyzer, RecognisedOnAnyPortByContent) {
  Harness h(4444);
  h.orig("GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
  h.resp(ok("hi"));
  h.finish();
  EXPECT_EQ(h.d.service(), "http");
  ASSERT_EQ(h.http().size(), 1u);
}

// ---- pairing -----------------------------------------------------------------------

TEST(HttpAnalyzer, OneExchangeAllFields) {
  Harness h;
  h.orig("GET /a%20b/c.html?q=1 HTTP/1.1\r\nHost: www.example.com:8080\r\nUser-Agent: curl/8.0\r\n"
         "Referer: http://ref.example/\r\nOrigin: http://o.example\r\nX-Forwarded-For: 203.0.113.9\r\n"
         "Via: 1.1 proxy\r\n\r\n",
         10);
  h.resp("HTTP/1.1 301 Moved Permanently\r\nLocation: /new\r\nContent-Type: text/html; charset=UTF-8\r\n"
         "Content-Length: 5\r\n\r\nmoved",
         20);
  ASSERT_EQ(h.http().size(), 1u);  // written at the end of the response
  h.finish();
  const HttpRecord& r = *h.http()[0];
  EXPECT_EQ(r.ts, at(10));
  EXPECT_EQ(r.trans_depth, 1u);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.host, "www.example.com:8080");
  EXPECT_EQ(r.uri, "/a b/c.html?q=1");
  EXPECT_EQ(r.raw_uri, "/a%20b/c.html?q=1");
  EXPECT_EQ(r.referrer, "http://ref.example/");
  EXPECT_EQ(r.user_agent, "curl/8.0");
  EXPECT_EQ(r.origin, "http://o.example");
  EXPECT_EQ(r.version, "1.1");
  EXPECT_EQ(r.status_code, 301);
  EXPECT_EQ(r.status_msg, "Moved Permanently");
  EXPECT_EQ(r.response_body_len, 5u);
  EXPECT_EQ(r.resp_mime_type, "text/html");
  EXPECT_FALSE(r.orig_mime_type);
  EXPECT_EQ(r.resp_location, "/new");
  EXPECT_EQ(r.proxied, (std::vector<std::string>{"X-FORWARDED-FOR -> 203.0.113.9", "VIA -> 1.1 proxy"}));
  EXPECT_EQ(h.json(0),
            "{\"ts\":1700000000.010000,\"uid\":\"CHttpTest00000001\",\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":50000,"
            "\"id.resp_h\":\"192.0.2.80\",\"id.resp_p\":80,\"trans_depth\":1,\"method\":\"GET\","
            "\"host\":\"www.example.com:8080\",\"uri\":\"/a b/c.html?q=1\",\"referrer\":\"http://ref.example/\","
            "\"version\":\"1.1\",\"user_agent\":\"curl/8.0\",\"origin\":\"http://o.example\",\"request_body_len\":0,"
            "\"response_body_len\":5,\"status_code\":301,\"status_msg\":\"Moved Permanently\",\"tags\":[],"
            "\"proxied\":[\"X-FORWARDED-FOR -> 203.0.113.9\",\"VIA -> 1.1 proxy\"],\"resp_mime_types\":[\"text/html\"],"
            "\"resp_location\":\"/new\"}\n");
  EXPECT_EQ(h.anomalies.total(), 0u);
  EXPECT_TRUE(h.auth().empty());
}

TEST(HttpAnalyzer, KeepAliveAndPipelining) {
  Harness h;
  // Three pipelined requests in one segment, one with a body.
  h.orig("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
         "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
         "HEAD /3 HTTP/1.1\r\nHost: h\r\n\r\n",
         1);
  h.resp(ok("one"), 2);
  h.resp("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ntwo!\r\n0\r\n\r\n", 3);
  h.resp("HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n", 4);  // HEAD: no body follows
  h.orig("GET /4 HTTP/1.1\r\nHost: h\r\n\r\n", 5);
  h.resp(ok("four"), 6);
  h.finish();
  auto r = h.http();
  ASSERT_EQ(r.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r[i]->trans_depth, i + 1);
    EXPECT_EQ(r[i]->uri, "/" + std::to_string(i + 1));
  }
  EXPECT_EQ(r[0]->response_body_len, 3u);
  EXPECT_EQ(r[1]->method, "POST");
  EXPECT_EQ(r[1]->request_body_len, 7u);
  EXPECT_EQ(r[1]->orig_mime_type, "application/json");
  EXPECT_TRUE(r[1]->post_fields.empty());
  EXPECT_EQ(r[1]->status_code, 201);
  EXPECT_EQ(r[1]->response_body_len, 4u);
  EXPECT_EQ(r[2]->method, "HEAD");
  EXPECT_EQ(r[2]->response_body_len, 0u);
  EXPECT_EQ(r[3]->response_body_len, 4u);
  for (const auto* x : r) EXPECT_EQ(x->ts, at(x->trans_depth == 4 ? 5 : 1));
  EXPECT_EQ(h.anomalies.total(), 0u);
}

TEST(HttpAnalyzer, ChunkedAcrossTinyDeliveries) {
  const std::string req = "GET /big HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string body;
  std::string chunked;
  for (int i = 0; i < 20; ++i) {
    const std::string c(static_cast<size_t>(i * 7 + 1), static_cast<char>('a' + i));
    body += c;
    char size[16];
    std::snprintf(size, sizeof size, "%X", static_cast<unsigned>(c.size()));
    chunked += std::string(size) + (i % 3 == 0 ? ";ext=1" : "") + "\r\n" + c + "\r\n";
  }
  const std::string resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked +
                           "0\r\nX-Checksum: 1\r\n\r\n" + ok("next");
  for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{64}}) {
    Harness h;
    h.orig_trickle(req + "GET /next HTTP/1.1\r\n\r\n", piece);
    h.resp_trickle(resp, piece);
    h.finish();
    auto r = h.http();
    ASSERT_EQ(r.size(), 2u) << piece;
    EXPECT_EQ(r[0]->response_body_len, body.size()) << piece;
    EXPECT_EQ(r[1]->response_body_len, 4u);
    EXPECT_EQ(h.anomalies.total(), 0u);
  }
}

TEST(HttpAnalyzer, GzipBodyCountsTheDecodedLength) {
  std::string html;
  for (int i = 0; i < 2000; ++i) html += "<li>item " + std::to_string(i) + "</li>\n";
  const std::string z = gzip(html);
  Harness h;
  h.orig("GET / HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n");
  h.resp_trickle(ok(z, "Content-Encoding: gzip\r\nContent-Type: text/html\r\n"), 100);
  h.finish();
  ASSERT_EQ(h.http().size(), 1u);
  EXPECT_EQ(h.http()[0]->response_body_len, html.size());
  EXPECT_EQ(h.anomalies.total(), 0u);
}

TEST(HttpAnalyzer, DecompressionCapIsAnAnomaly) {
  const std::string z = gzip(std::string(40u << 20, 'A'));  // 40 MiB of 'A'
  Harness h;
  h.orig("GET /bomb HTTP/1.1\r\n\r\n");
  h.resp(ok(z, "Content-Encoding: gzip\r\n"));
  h.finish();
  ASSERT_EQ(h.http().size(), 1u);
  EXPECT_EQ(h.http()[0]->response_body_len, uint64_t{16} << 20);
  EXPECT_EQ(h.anomalies.count(kAnomDecompressedTooLarge), 1u);
}

TEST(HttpAnalyzer, ContinueDoesNotEndTheExchange) {
  Harness h;
  h.orig("POST /upload HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n", 1);
  h.resp("HTTP/1.1 100 Continue\r\nX-Info: 1\r\n\r\n", 2);
  EXPECT_TRUE(h.http().empty());
  h.orig("0123456789", 3);
  h.resp("HTTP/1.1 102 Processing\r\n\r\n", 4);
  h.resp(ok("done"), 5);
  h.finish();
  auto r = h.http();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->info_code, 102);
  EXPECT_EQ(r[0]->info_msg, "Processing");
  EXPECT_EQ(r[0]->status_code, 200);
  EXPECT_EQ(r[0]->request_body_len, 10u);
  EXPECT_EQ(r[0]->response_body_len, 4u);
}

TEST(HttpAnalyzer, EarlyResponseWaitsForTheRequestBody) {
  Harness h;
  h.orig("PUT /f HTTP/1.1\r\nContent-Length: 20\r\n\r\n0123456789", 1);
  h.resp("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n", 2);
  EXPECT_TRUE(h.http().empty());
  h.orig("0123456789", 3);
  ASSERT_EQ(h.http().size(), 1u);
  EXPECT_EQ(h.http()[0]->request_body_len, 20u);
  EXPECT_EQ(h.http()[0]->status_code, 413);
}

TEST(HttpAnalyzer, UnansweredRequestsAreWrittenAtTheEnd) {
  Harness h;
  h.orig("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
  h.resp(ok("a"));
  h.resp("HTTP/1.1 200 OK\r\n\r\npartial body until close");  // no length, no FIN seen
  EXPECT_EQ(h.http().size(), 1u);
  h.finish();
  auto r = h.http();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]->uri, "/b");
  EXPECT_EQ(r[1]->response_body_len, 24u);
  EXPECT_EQ(r[1]->status_code, 200);

  Harness n;
  n.orig("GET /never HTTP/1.1\r\n\r\n");
  n.finish();
  ASSERT_EQ(n.http().size(), 1u);
  EXPECT_FALSE(n.http()[0]->status_code);
  EXPECT_FALSE(n.http()[0]->version);
}

TEST(HttpAnalyzer, ResponseUntilCloseEndsWithTheStream) {
  Harness h;
  h.orig("GET / HTTP/1.0\r\n\r\n");
  h.resp("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nabc");
  h.resp("def");
  h.d.stream_end(false, at(9));
  ASSERT_EQ(h.http().size(), 1u);
  EXPECT_EQ(h.http()[0]->response_body_len, 6u);
  EXPECT_EQ(h.http()[0]->version, "1.0");
}

TEST(HttpAnalyzer, ServerSideOnly) {
  Harness h;
  h.resp(ok("x") + "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  h.finish();
  auto r = h.http();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_FALSE(r[0]->method);
  EXPECT_EQ(r[0]->status_code, 200);
  EXPECT_EQ(r[1]->status_code, 404);
  EXPECT_EQ(r[1]->trans_depth, 2u);
  EXPECT_EQ(h.anomalies.count(kAnomResponseWithoutRequest), 2u);
}

TEST(HttpAnalyzer, TooManyPendingRequests) {
  Harness h;
  std::string many;
  for (int i = 0; i < 200; ++i) many += "GET /" + std::to_string(i) + " HTTP/1.1\r\n\r\n";
  h.orig(many);
  EXPECT_EQ(h.http().size(), 72u);  // the oldest beyond 128 are written out early
  EXPECT_EQ(h.anomalies.count(kAnomTooManyPending), 72u);
  h.resp(ok("for the 73rd"));
  h.finish();
  auto r = h.http();
  ASSERT_EQ(r.size(), 200u);
  EXPECT_EQ(r[72]->uri, "/72");
  EXPECT_EQ(r[72]->status_code, 200);
}

TEST(HttpAnalyzer, ConnectUpgradesToSsl) {
  Harness h(3128);
  h.orig("CONNECT www.example.com:443 HTTP/1.1\r\nHost: www.example.com:443\r\n\r\n");
  h.resp("HTTP/1.1 200 Connection established\r\n\r\n");
  ASSERT_EQ(h.http().size(), 1u);
  EXPECT_EQ(h.http()[0]->method, "CONNECT");
  EXPECT_EQ(h.http()[0]->uri, "www.example.com:443");
  // The rest goes to the ssl analyzer if one is registered, else nowhere.
  const bool have_ssl = registry().find("ssl", 6) != nullptr;
  h.orig("\x16\x03\x01\x00\x05hello");
  h.finish();
  EXPECT_EQ(h.d.service(), have_ssl ? "http,ssl" : "http");
  EXPECT_EQ(h.http().size(), 1u);

  // A refused CONNECT stays HTTP.
  Harness no(3128);
  no.orig("CONNECT x:443 HTTP/1.1\r\n\r\n");
  no.resp("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 3\r\n\r\nno!");
  no.orig("CONNECT x:443 HTTP/1.1\r\nProxy-Authorization: Basic " + base64("u:p") + "\r\n\r\n");
  no.resp("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
  no.finish();
  EXPECT_EQ(no.d.service(), "http");
  ASSERT_EQ(no.http().size(), 2u);
  ASSERT_EQ(no.auth().size(), 1u);
  EXPECT_EQ(no.auth()[0]->outcome, AuthOutcome::kFailure);
}

TEST(HttpAnalyzer, SwitchingProtocolsStops) {
  Harness h;
  h.orig("GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  h.resp("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
  EXPECT_FALSE(h.d.wants_data());
  h.finish();
  ASSERT_EQ(h.http().size(), 1u);
  EXPECT_EQ(h.http()[0]->status_code, 101);
  EXPECT_EQ(h.http()[0]->info_code, 101);
}

TEST(HttpAnalyzer, OtherVersionsGiveUp) {
  // Not claimed by the probe at all.
  Harness pri;
  pri.orig("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  pri.finish();
  EXPECT_NE(pri.d.service(), "http");
  EXPECT_TRUE(pri.http().empty());
  // Later in a connection: the analyzer stops.
  Harness h;
  h.orig("GET / HTTP/1.1\r\n\r\n");
  h.resp(ok(""));
  h.orig("GET / HTTP/2.0\r\n\r\n");
  EXPECT_FALSE(h.d.wants_data());
  EXPECT_EQ(h.anomalies.count(kAnomUnsupportedVersion), 1u);
  h.finish();
  EXPECT_EQ(h.http().size(), 1u);
}

// ---- forms and logins ----------------------------------------------------------------

TEST(HttpAnalyzer, PostFieldNamesNeverValues) {
  Harness h;
  const std::string body = "q=secret+query&lang=en&q=again&csrf_token=abc";
  h.orig("POST /search HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body);
  h.resp(ok("results"));
  h.finish();
  ASSERT_EQ(h.http().size(), 1u);
  EXPECT_EQ(h.http()[0]->post_fields, (std::vector<std::string>{"q", "lang", "csrf_token"}));
  EXPECT_EQ(h.http()[0]->orig_mime_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(h.json(0).find("secret"), std::string::npos);
  EXPECT_TRUE(h.auth().empty());
}

TEST(HttpAnalyzer, FormFieldsOfABigMultipartUploadComeFromItsStart) {
  Harness h;
  const std::string ct = "multipart/form-data; boundary=XyZ";
  std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nmy file\r\n"
                     "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n";
  body += std::string(200000, 'B');
  body += "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\nx\r\n--XyZ--\r\n";
  h.orig("POST /upload HTTP/1.1\r\nContent-Type: " + ct + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n");
  h.orig_trickle(body, 1400);
  h.resp(ok(""));
  h.finish();
  ASSERT_EQ(h.http().size(), 1u);
  EXPECT_EQ(h.http()[0]->request_body_len, body.size());
  EXPECT_EQ(h.http()[0]->post_fields, (std::vector<std::string>{"title", "file"}));
  EXPECT_EQ(h.anomalies.count(kAnomFormTruncated), 1u);
}

std::string form_post(std::string_view path, std::string_view body) {
  return "POST " + std::string(path) +
         " HTTP/1.1\r\nHost: site\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

TEST(HttpAnalyzer, FormLoginOutcomes) {
  struct Case {
    std::string response;
    AuthOutcome want;
  };
  const std::string login_page = "<html><form><input name=log><input type=\"password\" name=pwd></form></html>";
  const std::vector<Case> cases = {
      {"HTTP/1.1 302 Found\r\nLocation: https://site/wp-admin/\r\nSet-Cookie: s=1\r\nContent-Length: 0\r\n\r\n",
       AuthOutcome::kSuccess},
      {"HTTP/1.1 303 See Other\r\nLocation: /home\r\nContent-Length: 0\r\n\r\n", AuthOutcome::kSuccess},
      {"HTTP/1.1 302 Found\r\nLocation: /wp-login.php?error=1\r\nContent-Length: 0\r\n\r\n", AuthOutcome::kFailure},
      {ok(login_page, "Content-Type: text/html\r\n"), AuthOutcome::kFailure},
      {"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(gzip(login_page).size()) +
           "\r\n\r\n" + gzip(login_page),
       AuthOutcome::kFailure},
      {ok("{\"ok\":true}", "Content-Type: application/json\r\n"), AuthOutcome::kUnknown},
      {"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", AuthOutcome::kFailure},
      {"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", AuthOutcome::kFailure},
      {"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", AuthOutcome::kUnknown},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    Harness h;
    h.orig(form_post("/wp-login.php", "log=admin&pwd=letmein&wp-submit=Log+In&testcookie=1"), 7);
    h.resp_trickle(cases[i].response, 9);
    h.finish();
    auto a = h.auth();
    ASSERT_EQ(a.size(), 1u) << i;
    EXPECT_EQ(a[0]->proto, "http");
    EXPECT_EQ(a[0]->method, "form");
    EXPECT_EQ(a[0]->user, "admin");
    EXPECT_FALSE(a[0]->has_password);
    EXPECT_EQ(a[0]->outcome, cases[i].want) << i << ": " << cases[i].response.substr(0, 40);
    EXPECT_EQ(a[0]->ts, at(7));
    EXPECT_EQ(a[0]->reply, cases[i].response.substr(0, cases[i].response.find('\r')));
    EXPECT_EQ(h.http()[0]->post_fields, (std::vector<std::string>{"log", "pwd", "wp-submit", "testcookie"}));
  }
}

TEST(HttpAnalyzer, FormLoginPasswordOnlyWhenRevealed) {
  Harness h(80, true);
  h.orig(form_post("/session", "session%5Bemail%5D=a%40b.c&session%5Bpassword%5D=p%40ss+w"));
  h.resp("HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\n\r\n");
  h.finish();
  auto a = h.auth();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]->user, "a@b.c");
  EXPECT_TRUE(a[0]->has_password);
  EXPECT_EQ(a[0]->password, "p@ss w");
  EXPECT_EQ(a[0]->outcome, AuthOutcome::kSuccess);
  // The http record never carries form values.
  EXPECT_EQ(h.json(0).find("p@ss"), std::string::npos);
}

TEST(HttpAnalyzer, NotALoginForm) {
  Harness h;
  h.orig(form_post("/comment", "name=bob&text=hello"));
  h.resp(ok("thanks"));
  h.orig(form_post("/register", "username=bob&password=x&password_confirm=x"));
  h.resp(ok("welcome"));
  h.finish();
  EXPECT_EQ(h.http().size(), 2u);
  EXPECT_TRUE(h.auth().empty());
}

TEST(HttpAnalyzer, BasicAuthGoodAndBad) {
  Harness h;
  h.orig("GET /admin HTTP/1.1\r\nHost: h\r\nAuthorization: Basic " + base64("admin:wrong") + "\r\n\r\n", 1);
  h.resp("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n", 2);
  h.orig("GET /admin HTTP/1.1\r\nHost: h\r\nAuthorization: Basic " + base64("admin:right") + "\r\n\r\n", 3);
  h.resp(ok("welcome"), 4);
  h.orig("GET /admin HTTP/1.1\r\nHost: h\r\nAuthorization: Basic " + base64("admin:x") + "\r\n\r\n", 5);
  h.resp("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", 6);
  h.orig("GET /admin HTTP/1.1\r\nHost: h\r\nAuthorization: Basic " + base64("admin:y") + "\r\n\r\n", 7);
  h.finish();
  auto a = h.auth();
  ASSERT_EQ(a.size(), 4u);
  const AuthOutcome want[] = {AuthOutcome::kFailure, AuthOutcome::kSuccess, AuthOutcome::kUnknown,
                              AuthOutcome::kUnknown};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(a[i]->method, "basic");
    EXPECT_EQ(a[i]->user, "admin");
    EXPECT_FALSE(a[i]->has_password);
    EXPECT_EQ(a[i]->outcome, want[i]) << i;
    EXPECT_EQ(a[i]->ts, at(static_cast<int64_t>(2 * i + 1)));
  }
  EXPECT_EQ(a[0]->reply, "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(a[3]->reply, "");
  auto r = h.http();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0]->username, "admin");
  EXPECT_FALSE(r[0]->password);
  // The auth record follows its http record.
  EXPECT_NE(dynamic_cast<const HttpRecord*>(h.sink[0].get()), nullptr);
  EXPECT_NE(dynamic_cast<const AuthRecord*>(h.sink[1].get()), nullptr);
}

TEST(HttpAnalyzer, BasicAuthRevealed) {
  Harness h(80, true);
  h.orig("GET / HTTP/1.1\r\nAuthorization: basic " + base64("user:p:w") + "\r\n\r\n");
  h.resp(ok(""));
  h.finish();
  ASSERT_EQ(h.auth().size(), 1u);
  EXPECT_EQ(h.auth()[0]->password, "p:w");
  EXPECT_EQ(h.http()[0]->password, "p:w");
  EXPECT_NE(h.json(0).find("\"username\":\"user\",\"password\":\"p:w\""), std::string::npos);
}

TEST(HttpAnalyzer, BadBasicAuth) {
  Harness h;
  h.orig("GET / HTTP/1.1\r\nAuthorization: Basic !!!notbase64\r\n\r\n"
         "GET / HTTP/1.1\r\nAuthorization: Basic " + base64("justauser") + "\r\n\r\n");
  h.resp(ok("") + ok(""));
  h.finish();
  EXPECT_EQ(h.anomalies.count(kAnomBadBasicAuth), 2u);
  ASSERT_EQ(h.auth().size(), 2u);
  EXPECT_EQ(h.auth()[0]->user, "");
  EXPECT_EQ(h.auth()[1]->user, "justauser");
}

TEST(HttpAnalyzer, NtlmHandshake) {
  Harness h;
  h.orig("GET /ews HTTP/1.1\r\nAuthorization: NTLM " + base64(test_util::ntlm_negotiate()) + "\r\n\r\n");
  h.resp("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM TlRMTVNTUAACAAAA\r\nContent-Length: 0\r\n\r\n");
  h.orig("GET /ews HTTP/1.1\r\nAuthorization: NTLM " +
         base64(test_util::ntlm_authenticate("CORP", "alice", "WS01")) + "\r\n\r\n");
  h.resp(ok("mail"));
  h.orig("GET /ews HTTP/1.1\r\nAuthorization: Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnag\r\n\r\n");
  h.resp("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
  h.orig("GET /ews HTTP/1.1\r\nAuthorization: NTLM %%%\r\n\r\n");
  h.resp(ok(""));
  h.finish();
  auto a = h.auth();
  ASSERT_EQ(a.size(), 2u);  // the NEGOTIATE message is no attempt
  EXPECT_EQ(a[0]->method, "ntlm");
  EXPECT_EQ(a[0]->user, "alice");
  EXPECT_EQ(a[0]->domain, "CORP");
  EXPECT_EQ(a[0]->outcome, AuthOutcome::kSuccess);
  EXPECT_EQ(a[1]->method, "negotiate");
  EXPECT_EQ(a[1]->user, "");
  EXPECT_EQ(a[1]->outcome, AuthOutcome::kFailure);
  EXPECT_EQ(h.anomalies.count(kAnomBadNtlm), 1u);
  EXPECT_EQ(h.http().size(), 4u);
}

// ---- malformed input -------------------------------------------------------------------

TEST(HttpAnalyzer, GarbageThenRequestResynchronises) {
  Harness h;
  h.orig("GET /1 HTTP/1.1\r\n\r\n");
  h.d.stream_gap(true, 300, at(1));
  h.orig("ng in the middle of something\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
  h.resp(ok("1") + ok("2"));
  h.finish();
  auto r = h.http();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]->uri, "/2");
  EXPECT_EQ(r[1]->host, "h");
  EXPECT_EQ(h.anomalies.count(kAnomContentGap), 1u);
}

TEST(HttpAnalyzer, EndlessGarbageGivesUp) {
  Harness h;
  h.orig("GET / HTTP/1.1\r\n\r\n");
  h.resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnot a size\r\n");
  std::string junk;
  for (int i = 0; i < 1000; ++i) junk += "junk line " + std::to_string(i) + "\n";
  for (int i = 0; i < 40 && h.d.wants_data(); ++i) h.resp(junk);
  EXPECT_FALSE(h.d.wants_data());
  EXPECT_EQ(h.anomalies.count(kAnomResyncFailed), 1u);
  h.finish();
  EXPECT_EQ(h.http().size(), 1u);
}

TEST(HttpAnalyzer, UnknownMethodAndDuplicateHost) {
  Harness h;
  h.orig("FROBNICATE /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  h.resp(ok(""));
  h.finish();
  ASSERT_EQ(h.http().size(), 1u);
  EXPECT_EQ(h.http()[0]->method, "FROBNICATE");
  EXPECT_EQ(h.http()[0]->host, "a");
  EXPECT_EQ(h.anomalies.count(kAnomUnknownMethod), 1u);
  EXPECT_EQ(h.anomalies.count(kAnomDuplicateHost), 1u);
}

TEST(HttpAnalyzer, OddBytesAreEscapedInJson) {
  Harness h;
  h.orig(std::string("GET /%00%ff\xc3\xa9 HTTP/1.1\r\nUser-Agent: a\"b\\c\x01\r\n\r\n"));
  h.resp(ok(""));
  h.finish();
  const std::string j = h.json(0);
  EXPECT_NE(j.find("\"uri\":\"/\\u0000\\u00ff\xc3\xa9\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"user_agent\":\"a\\\"b\\\\c\\u0001\""), std::string::npos) << j;
}

}  // namespace
}  // namespace trawl::analyzers::http

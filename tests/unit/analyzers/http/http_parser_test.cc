// Tests for the pure HTTP/1.x message parser: start lines, header fields,
// every framing (length, chunked with extensions and trailers, until close,
// no body), any split of the bytes, limits, gaps and garbage with resync.
#include "analyzers/http/http_parser.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trawl::analyzers::http {
namespace {

core::ByteView bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// Records every callback as one line of text.
struct Recorder final : MessageParser::Handler {
  std::vector<std::string> events;
  std::string body;
  uint64_t body_gap = 0;
  bool head = false;       // answer responses as to a HEAD request
  bool tunnel = false;     // turn the next message into a tunnel

  void on_request_line(const RequestLine& l) override {
    events.push_back("req " + std::string(l.method) + " " + std::string(l.target) + " " +
                     std::to_string(l.major) + "." + std::to_string(l.minor));
  }
  void on_status_line(const StatusLine& l) override {
    events.push_back("status " + std::to_string(l.code) + " " + std::string(l.reason));
  }
  void on_header(std::string_view n, std::string_view v) override {
    events.push_back("hdr " + std::string(n) + "=" + std::string(v));
  }
  Framing on_headers_done(Framing f) override {
    events.push_back("headers_done " + std::to_string(static_cast<int>(f)));
    if (tunnel) return Framing::kTunnel;
    return head ? Framing::kNone : f;
  }
  void on_body(core::ByteView d) override { body.append(core::as_chars(d)); }
  void on_body_gap(uint64_t n) override { body_gap += n; }
  void on_message_done(bool complete) override {
    events.push_back(std::string("done ") + (complete ? "ok" : "cut") + " body=" + std::to_string(body.size()));
    body.clear();
  }
  size_t count(std::string_view prefix) const {
    size_t n = 0;
    for (const auto& e : events) n += e.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }
};

struct ParserHarness {
  explicit ParserHarness(bool requests, HttpLimits limits = {}) : p(requests, rec, anomalies, limits) {}
  void feed(std::string_view s) { p.feed(bytes(s)); }
  // Feeds one byte per call.
  void trickle(std::string_view s) {
    for (char c : s) p.feed(bytes(std::string_view(&c, 1)));
  }
  Recorder rec;
  core::Anomalies anomalies;
  MessageParser p;
};

const int kNone = static_cast<int>(Framing::kNone);
const int kLength = static_cast<int>(Framing::kLength);
const int kChunked = static_cast<int>(Framing::kChunked);
const int kUntilClose = static_cast<int>(Framing::kUntilClose);

TEST(HttpStartLine, RequestLines) {
  auto r = parse_request_line("GET /index.html?a=1 HTTP/1.1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->target, "/index.html?a=1");
  EXPECT_EQ(r->major, 1);
  EXPECT_EQ(r->minor, 1);
  // A target with a space is kept whole; extra whitespace is tolerated.
  r = parse_request_line("POST  /a b\tHTTP/1.0  ");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->target, "/a b");
  EXPECT_EQ(r->minor, 0);
  r = parse_request_line("CONNECT example.com:443 HTTP/1.1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->target, "example.com:443");

  EXPECT_FALSE(parse_request_line(""));
  EXPECT_FALSE(parse_request_line("GET / HTTP/1"));         // no minor version
  EXPECT_FALSE(parse_request_line("GET /"));                // HTTP/0.9
  EXPECT_FALSE(parse_request_line("GET HTTP/1.1"));         // no target
  EXPECT_FALSE(parse_request_line(" GET / HTTP/1.1"));      // leading space
  EXPECT_FALSE(parse_request_line("G(T / HTTP/1.1"));       // not a token
  EXPECT_FALSE(parse_request_line("GET /HTTP/1.1"));        // version glued to the target
  EXPECT_FALSE(parse_request_line("GET / http/1.1"));       // case matters
  EXPECT_FALSE(parse_request_line(std::string(40, 'A') + " / HTTP/1.1"));  // method too long
}

TEST(HttpStartLine, StatusLines) {
  auto s = parse_status_line("HTTP/1.1 200 OK");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->code, 200);
  EXPECT_EQ(s->reason, "OK");
  s = parse_status_line("HTTP/1.0 404 Not Found ");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->code, 404);
  EXPECT_EQ(s->reason, "Not Found");
  EXPECT_EQ(s->minor, 0);
  s = parse_status_line("HTTP/1.1 204");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->reason, "");

  EXPECT_FALSE(parse_status_line("HTTP/1.1"));
  EXPECT_FALSE(parse_status_line("HTTP/1.1 2x0 OK"));
  EXPECT_FALSE(parse_status_line("HTTP/1.1 099 low"));
  EXPECT_FALSE(parse_status_line("HTTP/1.1200 OK"));
  EXPECT_FALSE(parse_status_line("ICY 200 OK"));
  EXPECT_FALSE(parse_status_line("RTSP/1.0 200 OK"));
}

TEST(HttpStartLine, Methods) {
  EXPECT_TRUE(is_known_method("GET"));
  EXPECT_TRUE(is_known_method("PROPFIND"));
  EXPECT_TRUE(is_known_method("PATCH"));
  EXPECT_FALSE(is_known_method("get"));
  EXPECT_FALSE(is_known_method("FOO"));
}

const std::string kPost =
    "POST /form HTTP/1.1\r\nHost: a.example\r\nContent-Length: 11\r\n\r\nhello world";

TEST(HttpMessageParser, ContentLengthBodyInOnePiece) {
  ParserHarness h(true);
  h.feed(kPost + "GET /next HTTP/1.1\r\nHost: a.example\r\n\r\n");
  const std::vector<std::string> want = {
      "req POST /form 1.1",   "hdr Host=a.example", "hdr Content-Length=11", "headers_done " + std::to_string(kLength),
      "done ok body=11",      "req GET /next 1.1",  "hdr Host=a.example",    "headers_done " + std::to_string(kNone),
      "done ok body=0"};
  EXPECT_EQ(h.rec.events, want);
  EXPECT_EQ(h.anomalies.total(), 0u);
}

TEST(HttpMessageParser, EverySplitGivesTheSameEvents) {
  const std::string stream = kPost + "GET /next HTTP/1.1\r\nHost: a.example\r\n\r\n";
  ParserHarness whole(true);
  whole.feed(stream);
  for (size_t cut = 1; cut < stream.size(); ++cut) {
    ParserHarness h(true);
    h.feed(std::string_view(stream).substr(0, cut));
    h.feed(std::string_view(stream).substr(cut));
    ASSERT_EQ(h.rec.events, whole.rec.events) << "cut at " << cut;
  }
  ParserHarness t(true);
  t.trickle(stream);
  EXPECT_EQ(t.rec.events, whole.rec.events);
}

TEST(HttpMessageParser, ChunkedWithExtensionsAndTrailersByteByByte) {
  const std::string resp =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n"
      "1A \r\nabcdefghijklmnopqrstuvwxyz\r\n"
      "0\r\nExpires: never\r\nX-Trailer: 1\r\n\r\n"
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n";
  ParserHarness h(false);
  h.trickle(resp);
  const std::vector<std::string> want = {"status 200 OK",
                                         "hdr Transfer-Encoding=chunked",
                                         "headers_done " + std::to_string(kChunked),
                                         "done ok body=31",
                                         "status 304 Not Modified",
                                         "hdr Content-Length=99",
                                         "headers_done " + std::to_string(kNone),
                                         "done ok body=0"};
  EXPECT_EQ(h.rec.events, want);
  EXPECT_EQ(h.anomalies.total(), 0u);
}

TEST(HttpMessageParser, ChunkedBodyContent) {
  struct Capture final : MessageParser::Handler {
    std::string body;
    void on_body(core::ByteView d) override { body.append(core::as_chars(d)); }
  } cap;
  core::Anomalies an;
  MessageParser p(false, cap, an);
  p.feed(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  EXPECT_EQ(cap.body, "abcde");
}

TEST(HttpMessageParser, ResponsesWithoutLengthRunUntilClose) {
  ParserHarness h(false);
  h.feed("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nsome ");
  h.feed("more bytes");
  EXPECT_EQ(h.rec.count("done"), 0u);
  EXPECT_TRUE(h.p.in_message());
  h.p.end_of_stream();
  EXPECT_EQ(h.rec.events.back(), "done ok body=15");
}

TEST(HttpMessageParser, NoBodyStatusesAndHandlerOverride) {
  ParserHarness h(false);
  h.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody");
  EXPECT_EQ(h.rec.count("done ok body=0"), 2u);
  EXPECT_EQ(h.rec.events.back(), "done ok body=4");

  // A response to HEAD: Content-Length describes a body that is not sent.
  ParserHarness head(false);
  head.rec.head = true;
  head.feed("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n");
  EXPECT_EQ(head.rec.count("status"), 2u);
  EXPECT_EQ(head.rec.count("done ok body=0"), 2u);
}

TEST(HttpMessageParser, TunnelStopsParsing) {
  ParserHarness h(false);
  h.rec.tunnel = true;
  h.feed("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x02\x00 binary");
  EXPECT_TRUE(h.p.stopped());
  EXPECT_FALSE(h.p.dead());
  EXPECT_EQ(h.rec.count("done ok"), 1u);
  EXPECT_EQ(h.anomalies.total(), 0u);
}

TEST(HttpMessageParser, FoldedHeaders) {
  ParserHarness h(true);
  h.feed("GET / HTTP/1.1\r\nX-Long: first\r\n  second\r\n\tthird \r\nHost: h\r\n\r\n");
  EXPECT_EQ(h.rec.events[1], "hdr X-Long=first second third");
  EXPECT_EQ(h.rec.events[2], "hdr Host=h");
  EXPECT_EQ(h.anomalies.total(), 0u);
}

TEST(HttpMessageParser, BadHeaderLinesAreCountedAndSkipped) {
  ParserHarness h(true);
  h.feed("GET / HTTP/1.1\r\n folded-first\r\nNoColonHere\r\nBad Name: x\r\n: empty\r\nGood: yes\r\n\r\n");
  EXPECT_EQ(h.anomalies.count(kAnomBadHeader), 4u);
  EXPECT_EQ(h.rec.count("hdr"), 1u);
  EXPECT_EQ(h.rec.count("done ok"), 1u);

  // In a response, whitespace before the colon is tolerated.
  ParserHarness r(false);
  r.feed("HTTP/1.1 200 OK\r\nAccess-Control-Allow-Credentials : true\r\nContent-Length : 2\r\n\r\nok");
  EXPECT_EQ(r.anomalies.total(), 0u);
  EXPECT_EQ(r.rec.events[1], "hdr Access-Control-Allow-Credentials=true");
  EXPECT_EQ(r.rec.events.back(), "done ok body=2");
}

TEST(HttpMessageParser, HeaderLimits) {
  HttpLimits limits;
  limits.max_headers = 5;
  limits.max_line = 64;
  limits.max_header_value = 32;
  ParserHarness h(true, limits);
  std::string req = "POST / HTTP/1.1\r\n";
  for (int i = 0; i < 8; ++i) req += "X-" + std::to_string(i) + ": v\r\n";
  // Past the field limit, Content-Length still frames the body.
  req += "Content-Length: 3\r\nX-Big: " + std::string(100, 'b') + "\r\n\r\nabc";
  h.feed(req);
  EXPECT_EQ(h.anomalies.count(kAnomTooManyHeaders), 1u);
  EXPECT_EQ(h.anomalies.count(kAnomLineTooLong), 1u);
  EXPECT_EQ(h.rec.count("hdr"), 5u);
  EXPECT_EQ(h.rec.events.back(), "done ok body=3");

  ParserHarness fold(true, limits);
  fold.feed("GET / HTTP/1.1\r\nX: " + std::string(20, 'a') + "\r\n " + std::string(20, 'b') + "\r\n\r\n");
  EXPECT_EQ(fold.anomalies.count(kAnomHeaderTooLong), 1u);
  EXPECT_EQ(fold.rec.events[1], "hdr X=" + std::string(20, 'a'));
}

TEST(HttpMessageParser, ContentLengthOddities) {
  ParserHarness same(true);
  same.feed("POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nokGET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(same.anomalies.total(), 0u);
  EXPECT_EQ(same.rec.count("req"), 2u);

  ParserHarness conflict(true);
  conflict.feed("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nokGET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(conflict.anomalies.count(kAnomConflictingContentLength), 1u);
  EXPECT_EQ(conflict.rec.count("req"), 2u);  // the first value frames the body

  ParserHarness bad(true);
  bad.feed("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(bad.anomalies.count(kAnomBadContentLength), 1u);
  EXPECT_EQ(bad.rec.count("req"), 2u);

  ParserHarness huge(false);
  huge.feed("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nrest");
  EXPECT_EQ(huge.anomalies.count(kAnomBadContentLength), 1u);
  EXPECT_EQ(huge.rec.events[2], "headers_done " + std::to_string(kUntilClose));

  // Both Content-Length and chunked: chunked wins (RFC 9112 6.3), flagged.
  ParserHarness both(true);
  both.feed("POST / HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"
            "GET /x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(both.anomalies.count(kAnomLengthAndChunked), 1u);
  EXPECT_EQ(both.rec.count("req"), 2u);

  ParserHarness te(true);
  te.feed("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(te.anomalies.count(kAnomBadTransferEncoding), 1u);
  EXPECT_EQ(te.rec.count("req"), 2u);
}

TEST(HttpMessageParser, BadChunkSizesResynchronise) {
  ParserHarness h(false);
  h.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\njunk\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(h.anomalies.count(kAnomBadChunkSize), 1u);
  EXPECT_EQ(h.rec.count("done cut"), 1u);
  EXPECT_EQ(h.rec.count("status"), 2u);
  EXPECT_EQ(h.rec.events.back(), "done ok body=0");

  ParserHarness big(false);
  big.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n");
  EXPECT_EQ(big.anomalies.count(kAnomBadChunkSize), 1u);

  // A chunk longer than its size line said.
  ParserHarness crlf(false);
  crlf.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n");
  EXPECT_EQ(crlf.anomalies.count(kAnomChunkMissingCrlf), 1u);
}

TEST(HttpMessageParser, GarbageBeforeAStartLineResynchronises) {
  ParserHarness h(true);
  h.feed("\r\n\r\nthis is not http\r\nnor this\r\nGET /after HTTP/1.1\r\n\r\n");
  EXPECT_EQ(h.anomalies.count(kAnomBadRequestLine), 1u);  // once per episode
  EXPECT_EQ(h.rec.events.front(), "req GET /after 1.1");
  EXPECT_FALSE(h.p.dead());

  ParserHarness s(false);
  s.feed("<html>no status line</html>\r\n");
  EXPECT_EQ(s.anomalies.count(kAnomBadStatusLine), 1u);
}

TEST(HttpMessageParser, KeepAliveByteBeforeTheFirstRequest) {
  // A capture that starts mid-connection: the NUL of a TCP keep-alive probe.
  ParserHarness h(true);
  h.feed(std::string("\0GET /x HTTP/1.1\r\n\r\n", 20));
  EXPECT_EQ(h.rec.events.front(), "req GET /x 1.1");
  EXPECT_EQ(h.anomalies.count(kAnomJunkBeforeMessage), 1u);
  EXPECT_EQ(h.anomalies.count(kAnomBadRequestLine), 0u);
  ParserHarness s(false);
  s.feed(std::string("\0\0 HTTP/1.1 200 OK\r\n\r\n", 22));
  EXPECT_EQ(s.rec.events.front(), "status 200 OK");
  // More than a few bytes is garbage.
  ParserHarness g(true);
  g.feed(std::string(10, '\0') + "GET /x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(g.anomalies.count(kAnomBadRequestLine), 1u);
}

TEST(HttpMessageParser, ResyncGivesUpAfterItsBudget) {
  HttpLimits limits;
  limits.max_resync_bytes = 1000;
  ParserHarness h(true, limits);
  for (int i = 0; i < 40; ++i) h.feed("binary garbage line without http\n");
  EXPECT_TRUE(h.p.dead());
  EXPECT_EQ(h.anomalies.count(kAnomResyncFailed), 1u);
  h.feed("GET / HTTP/1.1\r\n\r\n");  // nothing more is parsed
  EXPECT_EQ(h.rec.count("req"), 0u);
}

TEST(HttpMessageParser, EndlessStartLine) {
  HttpLimits limits;
  limits.max_line = 100;
  limits.max_resync_bytes = 1000;
  ParserHarness h(true, limits);
  const std::string blob(300, 'A');
  for (int i = 0; i < 10; ++i) h.feed(blob);
  EXPECT_EQ(h.anomalies.count(kAnomLineTooLong), 1u);
  EXPECT_TRUE(h.p.dead());
}

TEST(HttpMessageParser, GapInsideABodyIsCounted) {
  ParserHarness h(false);
  h.feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
  h.p.gap(80);
  h.feed("0123456789HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(h.rec.body_gap, 80u);
  EXPECT_EQ(h.rec.events[3], "done ok body=20");
  EXPECT_EQ(h.rec.count("status"), 2u);
  EXPECT_EQ(h.anomalies.total(), 0u);

  ParserHarness chunk(false);
  chunk.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc");
  chunk.p.gap(10);
  chunk.feed("def\r\n0\r\n\r\n");
  EXPECT_EQ(chunk.rec.body_gap, 10u);
  EXPECT_EQ(chunk.rec.events.back(), "done ok body=6");

  ParserHarness until(false);
  until.feed("HTTP/1.0 200 OK\r\n\r\nab");
  until.p.gap(1000);
  until.feed("cd");
  until.p.end_of_stream();
  EXPECT_EQ(until.rec.body_gap, 1000u);
  EXPECT_EQ(until.rec.events.back(), "done ok body=4");
}

TEST(HttpMessageParser, GapOutsideABodyResynchronises) {
  ParserHarness h(true);
  h.feed("GET /one HTTP/1.1\r\nHost: a\r\n");
  h.p.gap(500);
  h.feed("ost: b\r\n\r\nGET /two HTTP/1.1\r\n\r\n");
  EXPECT_EQ(h.anomalies.count(kAnomContentGap), 1u);
  EXPECT_EQ(h.rec.count("done cut"), 1u);
  EXPECT_EQ(h.rec.count("req GET /two"), 1u);

  // A hole that runs past the end of a body.
  ParserHarness past(false);
  past.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
  past.p.gap(50);
  past.feed("garbage\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(past.rec.body_gap, 5u);
  EXPECT_EQ(past.rec.count("done ok"), 2u);
  EXPECT_EQ(past.anomalies.count(kAnomContentGap), 1u);
}

TEST(HttpMessageParser, EndOfStreamInsideAMessage) {
  ParserHarness h(false);
  h.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123");
  h.p.end_of_stream();
  EXPECT_EQ(h.anomalies.count(kAnomBodyTruncated), 1u);
  EXPECT_EQ(h.rec.events.back(), "done cut body=4");

  ParserHarness hdr(true);
  hdr.feed("GET / HTTP/1.1\r\nHost: x");
  hdr.p.end_of_stream();
  EXPECT_EQ(hdr.rec.events.back(), "done cut body=0");
}

}  // namespace
}  // namespace trawl::analyzers::http

// Fuzz target for the HTTP analyzer. The input is "client bytes", optionally
// followed by four NUL bytes and "server bytes". It is
//   1. parsed by the pure MessageParser as requests and as responses, cut in
//      pieces whose sizes come from the input, with small limits;
//   2. run through a Dispatcher (real registry, port 80) with both
//      directions interleaved, a gap when the input asks for one, and every
//      record rendered as JSON;
//   3. handed to the body helpers (gzip/deflate counting with a small cap,
//      form parsing, password-input scanning, Basic and NTLM decoding).
// Every view is read, so a bad view or an uninitialised byte is caught.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/dispatcher.h"
#include "analyzers/http/http_analyzer.h"
#include "analyzers/http/http_auth.h"
#include "analyzers/http/http_body.h"
#include "analyzers/http/http_parser.h"
#include "analyzers/registry.h"
#include "core/anomalies.h"
#include "flow/conn_record.h"

namespace {

namespace http = trawl::analyzers::http;
using trawl::core::ByteView;

volatile uint64_t g_sink;

uint64_t touch(std::string_view s) {
  uint64_t sum = s.size();
  for (char c : s) sum += static_cast<unsigned char>(c);
  return sum;
}

// Deterministic piece sizes from the input.
struct Cuts {
  uint32_t state;
  explicit Cuts(ByteView in) : state(static_cast<uint32_t>(in.size()) * 2654435761u + 1) {
    for (size_t i = 0; i < in.size() && i < 16; ++i) state = state * 31 + in[i];
  }
  size_t next(size_t max) {
    state = state * 1103515245u + 12345u;
    const uint32_t r = (state >> 8) % 4;
    const size_t n = r == 0 ? 1 : r == 1 ? 7 : r == 2 ? 64 : 1500;
    return n < max ? n : max;
  }
};

struct Checker final : http::MessageParser::Handler {
  uint64_t body = 0;
  uint64_t sum = 0;
  bool in_message = false;
  void on_request_line(const http::RequestLine& l) override {
    if (in_message) __builtin_trap();
    in_message = true;
    sum += touch(l.method) + touch(l.target) + l.major + l.minor;
  }
  void on_status_line(const http::StatusLine& l) override {
    if (in_message) __builtin_trap();
    in_message = true;
    if (l.code < 100 || l.code > 999) __builtin_trap();
    sum += touch(l.reason) + l.code;
  }
  void on_header(std::string_view n, std::string_view v) override {
    if (!in_message) __builtin_trap();
    sum += touch(n) + touch(v);
  }
  void on_body(ByteView d) override {
    if (!in_message) __builtin_trap();
    body += d.size();
    sum += touch({reinterpret_cast<const char*>(d.data()), d.size()});
  }
  void on_message_done(bool complete) override {
    sum += complete ? 1 : 2;
    in_message = false;
  }
};

void pure_parsers(ByteView in) {
  for (bool requests : {true, false}) {
    http::HttpLimits limits;
    limits.max_line = 256;
    limits.max_headers = 8;
    limits.max_header_value = 128;
    limits.max_resync_bytes = 4096;
    trawl::core::Anomalies anomalies;
    Checker c;
    http::MessageParser p(requests, c, anomalies, limits);
    Cuts cuts(in);
    size_t at = 0;
    while (at < in.size()) {
      const size_t n = cuts.next(in.size() - at);
      // A copy of exactly the piece, so reading past it is caught.
      std::unique_ptr<uint8_t[]> piece(new uint8_t[n]);
      std::memcpy(piece.get(), in.data() + at, n);
      p.feed({piece.get(), n});
      at += n;
    }
    p.end_of_stream();
    if (c.body > in.size()) __builtin_trap();
    g_sink = g_sink + c.sum;
  }
}

void through_dispatcher(ByteView orig, ByteView resp, bool reveal, bool with_gap) {
  trawl::flow::ConnInfo info;
  info.uid = "CFuzzHttp00000001";
  info.orig_h = *trawl::core::IpAddress::parse("10.0.0.1");
  info.resp_h = *trawl::core::IpAddress::parse("10.0.0.2");
  info.orig_p = 40000;
  info.resp_p = 80;
  info.proto = 6;
  trawl::analyzers::AnalyzerConfig config;
  config.reveal_credentials = reveal;
  trawl::core::Anomalies anomalies;
  std::vector<std::unique_ptr<trawl::analyzers::Record>> sink;
  {
    trawl::analyzers::Dispatcher d(info, config, anomalies, sink, trawl::analyzers::registry());
    Cuts cuts(orig);
    size_t o = 0, r = 0;
    bool gapped = false;
    int64_t ms = 0;
    while (o < orig.size() || r < resp.size()) {
      const trawl::core::Timestamp ts = trawl::core::Timestamp::from_sec_nsec(1700000000, 0) + ms++ * 1000000;
      const bool take_orig = r >= resp.size() || (o < orig.size() && (cuts.state & 0x100) != 0);
      ByteView& src = take_orig ? orig : resp;
      size_t& pos = take_orig ? o : r;
      const size_t n = cuts.next(src.size() - pos);
      if (with_gap && !gapped && pos > src.size() / 2) {
        d.stream_gap(take_orig, n, ts);
        gapped = true;
      } else {
        std::unique_ptr<uint8_t[]> piece(new uint8_t[n]);
        std::memcpy(piece.get(), src.data() + pos, n);
        d.stream_data(take_orig, {piece.get(), n}, ts);
      }
      pos += n;
    }
    d.stream_end(true, trawl::core::Timestamp::from_sec_nsec(1700000100, 0));
    d.stream_end(false, trawl::core::Timestamp::from_sec_nsec(1700000100, 0));
    trawl::flow::ConnRecord rec;
    d.finish(trawl::core::Timestamp::from_sec_nsec(1700000100, 0), rec);
  }
  std::string out;
  for (const auto& rec : sink) {
    out.clear();
    rec->write_json(out);
    if (out.size() < 3 || out.back() != '\n' || out.find('\n') != out.size() - 1) __builtin_trap();
    if (!reveal && out.find("\"password\":") != std::string::npos) __builtin_trap();
    g_sink = g_sink + touch(out);
  }
}

struct SinkTouch final : http::BodyDecoder::Sink {
  uint64_t n = 0;
  void decoded(ByteView d) override {
    for (uint8_t b : d) n += b;
    n += d.size();
  }
};

void body_helpers(ByteView in) {
  const std::string_view s{reinterpret_cast<const char*>(in.data()), in.size()};
  trawl::core::Anomalies anomalies;
  for (auto coding : {http::ContentCoding::kGzip, http::ContentCoding::kDeflate}) {
    http::BodyDecoder d(1 << 20);
    SinkTouch t;
    d.start(coding);
    Cuts cuts(in);
    for (size_t at = 0; at < in.size();) {
      const size_t n = cuts.next(in.size() - at);
      d.feed(in.subspan(at, n), &t, anomalies);
      at += n;
    }
    if (d.length() > (1 << 20)) __builtin_trap();
    g_sink = g_sink + t.n + d.length();
  }
  std::vector<http::FormField> fields;
  http::parse_form(http::FormKind::kUrlEncoded, "", s, fields);
  http::parse_form(http::FormKind::kMultipart, "multipart/form-data; boundary=b", s, fields);
  for (const auto& f : fields) {
    g_sink = g_sink + touch(f.name) + touch(f.raw_value) + touch(http::form_value(http::FormKind::kUrlEncoded, f));
  }
  g_sink = g_sink + static_cast<uint64_t>(http::detect_form_login(s, fields).attempt);
  http::PasswordInputScanner scanner;
  scanner.feed(in);
  g_sink = g_sink + scanner.found() + touch(http::percent_decode(s, true)) + touch(http::target_path(s));
  if (auto c = http::decode_basic(s)) g_sink = g_sink + touch(c->user) + touch(c->password);
  if (auto m = http::parse_ntlm(in)) g_sink = g_sink + touch(m->user) + touch(m->domain) + touch(m->workstation);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView in{data, size};
  const std::string_view s{reinterpret_cast<const char*>(data), size};
  static constexpr std::string_view kSplit{"\0\0\0\0", 4};
  const size_t split = s.find(kSplit);
  const ByteView orig = split == std::string_view::npos ? in : in.first(split);
  const ByteView resp = split == std::string_view::npos ? ByteView{} : in.subspan(split + kSplit.size());

  pure_parsers(orig);
  pure_parsers(resp);
  through_dispatcher(orig, resp, (size & 1) != 0, (size & 2) != 0);
  if (split == std::string_view::npos) through_dispatcher({}, in, false, false);  // server side only
  body_helpers(in);
  return 0;
}

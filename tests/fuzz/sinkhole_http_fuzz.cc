// Fuzz target for the sinkhole's HTTP responder. The input is fed to one
// session (small limits, an override) in pieces whose size the first byte
// picks. Whatever the client sends, the output must be a valid stream of HTTP
// responses (parsed back with the project's parser, no anomalies), one final
// response per answered request, in order, with the same status.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "analyzers/http/http_parser.h"
#include "core/anomalies.h"
#include "sinkhole/http_responder.h"

namespace {

namespace http = trawl::analyzers::http;
using trawl::core::ByteView;
using trawl::sinkhole::HttpExchange;
using trawl::sinkhole::HttpResponder;
using trawl::sinkhole::HttpResponderConfig;
using trawl::sinkhole::HttpSession;

struct Responses : http::MessageParser::Handler {
  const std::vector<HttpExchange>* answered = nullptr;
  std::vector<uint16_t> statuses;
  void on_status_line(const http::StatusLine& l) override {
    if (l.code >= 200) statuses.push_back(l.code);
  }
  http::Framing on_headers_done(http::Framing f) override {
    if (f == http::Framing::kNone || statuses.empty()) return f;
    const size_t i = statuses.size() - 1;
    if (i < answered->size() && (*answered)[i].method == "HEAD") return http::Framing::kNone;
    return f;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  HttpResponderConfig cfg;
  cfg.max_header_bytes = 512;
  cfg.max_body = 256;
  cfg.max_body_kept = 64;
  cfg.max_requests = 8;
  cfg.limits.max_line = 256;
  cfg.limits.max_headers = 16;
  cfg.overrides.push_back({"*.example", "/o*", 404, "text/plain", "gone", "", false, ""});
  cfg.overrides.push_back({"", "/r", 302, "", "", "", true, "http://192.0.2.1/"});
  const HttpResponder r(cfg);
  HttpSession s(r);
  const ByteView in{data + 1, size - 1};
  const size_t piece = 1 + data[0];
  std::vector<uint8_t> out;
  for (size_t at = 0; at < in.size(); at += piece) {
    s.feed(in.subspan(at, std::min(piece, in.size() - at)), trawl::core::Timestamp{}, out);
  }
  std::vector<HttpExchange> answered;
  for (auto& e : s.take_exchanges()) {
    if (e.body.size() > cfg.max_body_kept) __builtin_trap();
    if (e.status != 0) answered.push_back(std::move(e));
  }
  s.end_of_stream();
  for (const auto& e : s.take_exchanges()) {
    if (e.status != 0) __builtin_trap();  // nothing is answered at the end of the stream
  }

  Responses h;
  h.answered = &answered;
  trawl::core::Anomalies an;
  http::MessageParser p(false, h, an);
  p.feed(out);
  p.end_of_stream();
  if (an.total() != 0) __builtin_trap();
  if (h.statuses.size() != answered.size()) __builtin_trap();
  for (size_t i = 0; i < answered.size(); ++i) {
    if (h.statuses[i] != answered[i].status) __builtin_trap();
  }
  return 0;
}

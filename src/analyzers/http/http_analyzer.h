// HttpAnalyzer: the per-connection HTTP/1.x state machine. Two MessageParsers
// (requests, responses), a bounded queue of requests matched to responses in
// order (pipelining, keep-alive, 1xx), body lengths counted through
// gzip/deflate, form field names of POST bodies, and login attempts (Basic,
// NTLM/Negotiate, login forms) for auth.jsonl. One HttpRecord per
// request/response pair, emitted when both are complete (or at the end).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "analyzers/analyzer.h"
#include "analyzers/http/http_auth.h"
#include "analyzers/http/http_body.h"
#include "analyzers/http/http_parser.h"
#include "analyzers/http/http_record.h"
#include "analyzers/registry.h"

namespace trawl::analyzers::http {

inline const core::AnomalyId kAnomUnknownMethod{"http.unknown_method"};
inline const core::AnomalyId kAnomUnsupportedVersion{"http.unsupported_version"};
inline const core::AnomalyId kAnomTooManyPending{"http.too_many_pending"};
inline const core::AnomalyId kAnomResponseWithoutRequest{"http.response_without_request"};
inline const core::AnomalyId kAnomDuplicateHost{"http.duplicate_host"};
inline const core::AnomalyId kAnomBadBasicAuth{"http.bad_basic_auth"};
inline const core::AnomalyId kAnomBadNtlm{"http.bad_ntlm"};
inline const core::AnomalyId kAnomFormTruncated{"http.form_truncated"};
inline const core::AnomalyId kAnomTooManyFormFields{"http.too_many_form_fields"};

struct HttpAnalyzerLimits {
  HttpLimits parser;
  size_t max_pending = 128;              // requests waiting for their response
  size_t max_form_bytes = 64 * 1024;     // of a form POST body, for the field names
  uint64_t max_decoded = uint64_t{16} << 20;  // inflated bytes counted per body
  size_t max_proxied = 16;               // proxy header entries kept per request
  FormLimits form;
};

// Content probe (see registry.h): a request line from the client, or a
// status line from the server when the client side was not seen.
Probe probe_http(const ProbeInput& in);

class HttpAnalyzer final : public Analyzer {
 public:
  explicit HttpAnalyzer(Context& ctx, const HttpAnalyzerLimits& limits = {});
  ~HttpAnalyzer() override;

  void data(bool is_orig, core::ByteView bytes, core::Timestamp ts) override;
  void gap(bool is_orig, uint64_t bytes, core::Timestamp ts) override;
  void end_of_stream(bool is_orig, core::Timestamp ts) override;
  void finish(core::Timestamp ts) override;

 private:
  struct Txn;
  // One direction: the parser's handler and the body decoder's sink.
  class Side final : public MessageParser::Handler, public BodyDecoder::Sink {
   public:
    Side(HttpAnalyzer& a, bool is_orig) : a_(a), is_orig_(is_orig) {}
    void on_request_line(const RequestLine& line) override { a_.on_request_line(line); }
    void on_status_line(const StatusLine& line) override { a_.on_status_line(line); }
    void on_header(std::string_view name, std::string_view value) override {
      if (is_orig_) {
        a_.on_request_header(name, value);
      } else {
        a_.on_response_header(name, value);
      }
    }
    Framing on_headers_done(Framing f) override {
      return is_orig_ ? a_.on_request_headers_done(f) : a_.on_response_headers_done(f);
    }
    void on_body(core::ByteView data) override { a_.on_body(is_orig_, data); }
    void on_body_gap(uint64_t bytes) override { a_.on_body_gap(is_orig_, bytes); }
    void on_message_done(bool complete) override {
      if (is_orig_) {
        a_.on_request_done(complete);
      } else {
        a_.on_response_done(complete);
      }
    }
    void decoded(core::ByteView data) override { a_.on_decoded(is_orig_, data); }

   private:
    HttpAnalyzer& a_;
    bool is_orig_;
  };

  void on_request_line(const RequestLine& line);
  void on_status_line(const StatusLine& line);
  void on_request_header(std::string_view name, std::string_view value);
  void on_response_header(std::string_view name, std::string_view value);
  Framing on_request_headers_done(Framing f);
  Framing on_response_headers_done(Framing f);
  void on_body(bool is_orig, core::ByteView data);
  void on_body_gap(bool is_orig, uint64_t bytes);
  void on_decoded(bool is_orig, core::ByteView data);
  void on_request_done(bool complete);
  void on_response_done(bool complete);

  void authorization(Txn& t, std::string_view value, bool proxy);
  void finish_request_body(Txn& t);
  Txn& push_txn();
  void flush();
  void emit(Txn& t);
  void stop();

  Context& ctx_;
  HttpAnalyzerLimits limits_;
  Side req_side_;
  Side resp_side_;
  MessageParser requests_;
  MessageParser responses_;
  core::Timestamp now_;
  bool stopped_ = false;

  std::deque<std::unique_ptr<Txn>> pending_;
  uint32_t depth_ = 0;
  Txn* req_txn_ = nullptr;   // the request being parsed
  Txn* resp_txn_ = nullptr;  // the transaction whose response is being parsed

  // The request being parsed.
  BodyDecoder req_body_;
  ContentCoding req_coding_ = ContentCoding::kIdentity;
  bool host_seen_ = false;
  bool auth_seen_ = false;
  bool capturing_ = false;  // keeping the first bytes of a form body
  std::string form_buf_;

  // The response being parsed.
  BodyDecoder resp_body_;
  ContentCoding resp_coding_ = ContentCoding::kIdentity;
  uint16_t resp_code_ = 0;
  bool tunnel_ = false;
  bool scanning_ = false;  // looking for a password input in the reply page
  PasswordInputScanner scanner_;
};

}  // namespace trawl::analyzers::http

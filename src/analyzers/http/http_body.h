// Pure helpers for HTTP bodies and field values: counting a body's decoded
// length through gzip/deflate (zlib, capped), form field names of
// urlencoded and multipart/form-data bodies, a scanner for a password input
// in an HTML page, and URI/percent decoding. No flows, no records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/anomalies.h"
#include "core/byte_view.h"
#include "core/percent.h"

namespace trawl::analyzers::http {

inline const core::AnomalyId kAnomBadCompressedBody{"http.bad_compressed_body"};
inline const core::AnomalyId kAnomDecompressedTooLarge{"http.decompressed_too_large"};

enum class ContentCoding : uint8_t { kIdentity, kGzip, kDeflate, kOther };

// The coding of a Content-Encoding value ("gzip", "x-gzip", "deflate";
// a list of several codings is kOther: it is counted as sent).
ContentCoding content_coding(std::string_view value);

// The media type of a Content-Type value, lower-cased, without parameters
// ("text/html; charset=UTF-8" -> "text/html"); empty if there is none.
std::string media_type(std::string_view content_type);
// One parameter of a Content-Type value (case-insensitive name, quotes removed).
std::string_view content_type_param(std::string_view content_type, std::string_view name);

// Counts the decoded length of one body at a time. Compressed bodies are
// inflated into a scratch buffer only to be counted (and shown to a sink);
// nothing is kept. Decoding stops at the cap or at corrupt data (anomaly);
// the count then stays where it was.
class BodyDecoder {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void decoded(core::ByteView data) = 0;
  };

  explicit BodyDecoder(uint64_t max_decoded = uint64_t{16} << 20);
  ~BodyDecoder();
  BodyDecoder(const BodyDecoder&) = delete;
  BodyDecoder& operator=(const BodyDecoder&) = delete;

  // Starts a new body (the length goes back to 0).
  void start(ContentCoding coding);
  // Feeds body bytes; decoded bytes go to `sink` if it is not null.
  void feed(core::ByteView data, Sink* sink, core::Anomalies& anomalies);
  // Missing body bytes: counted as they are for an identity body; a
  // compressed body cannot be decoded past a hole, so decoding stops.
  void gap(uint64_t bytes);
  uint64_t length() const { return length_; }

 private:
  struct Zlib;
  bool inflate_some(core::ByteView data, Sink* sink, core::Anomalies& anomalies);

  uint64_t max_decoded_;
  ContentCoding coding_ = ContentCoding::kIdentity;
  bool decoding_ = false;  // a compressed body still being inflated
  bool header_checked_ = false;
  uint64_t length_ = 0;
  std::unique_ptr<Zlib> zlib_;
};

// Form bodies (application/x-www-form-urlencoded, multipart/form-data).
enum class FormKind : uint8_t { kNone, kUrlEncoded, kMultipart };
FormKind form_kind(std::string_view content_type);

struct FormField {
  std::string name;           // decoded
  std::string_view raw_value;  // a view into the body: still encoded for kUrlEncoded
};

struct FormLimits {
  size_t max_fields = 64;
  size_t max_name = 256;
};

// Parses the fields of a form body (possibly cut short: a last incomplete
// field is dropped for multipart, kept for urlencoded). Returns false if
// there were more fields than max_fields (the first ones are in `out`).
bool parse_form(FormKind kind, std::string_view content_type, std::string_view body, std::vector<FormField>& out,
                const FormLimits& limits = {});
// The value of a field, decoded (urlencoded: '+' and %XX), at most max_len bytes.
std::string form_value(FormKind kind, const FormField& field, size_t max_len = 256);

// Percent-decoding as Zeek writes http.log's uri: each %XX becomes its byte;
// a '%' not followed by two hex digits is kept as is. With plus_as_space,
// '+' becomes ' ' (form encoding).
using core::percent_decode;

// Looks for an HTML password input (type=password, quoted or not, any
// case) in a page fed in pieces; at most max_scan bytes are looked at.
class PasswordInputScanner {
 public:
  explicit PasswordInputScanner(size_t max_scan = 256 * 1024) : max_scan_(max_scan) {}
  void reset() {
    found_ = false;
    scanned_ = 0;
    carry_.clear();
  }
  void feed(core::ByteView data);
  bool found() const { return found_; }

 private:
  bool search(std::string_view s) const;

  size_t max_scan_;
  size_t scanned_ = 0;
  bool found_ = false;
  std::string carry_;  // the last bytes of the previous piece
};

}  // namespace trawl::analyzers::http

// HttpRecord: one request/response pair of http.jsonl, with Zeek's http.log
// field names (plus post_fields and resp_location). Typed fields for the
// detectors (URIs across hosts, user agents, beaconing by Host).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/analyzer.h"
#include "core/ip_address.h"

namespace trawl::analyzers::http {

class HttpRecord final : public Record {
 public:
  std::string_view log() const override { return "http"; }
  void write_json(std::string& out) const override;

  void set_conn(const ConnInfo& c);

  std::string uid;
  core::IpAddress orig_h;
  uint16_t orig_p = 0;
  core::IpAddress resp_h;
  uint16_t resp_p = 0;

  uint32_t trans_depth = 0;                 // 1 for the first request of the connection
  std::optional<std::string> method;        // unset: a response without a request
  std::optional<std::string> host;          // Host header, as sent (port included)
  std::optional<std::string> uri;           // request target, %XX-decoded as Zeek logs it
  std::string raw_uri;                      // request target as sent (not written)
  std::optional<std::string> referrer;
  std::optional<std::string> version;       // of the reply ("1.1"), as Zeek
  std::optional<std::string> user_agent;
  std::optional<std::string> origin;
  uint64_t request_body_len = 0;            // decoded (gzip/deflate inflated) length
  uint64_t response_body_len = 0;
  std::optional<uint16_t> status_code;
  std::optional<std::string> status_msg;
  std::optional<uint16_t> info_code;        // the last 1xx reply
  std::optional<std::string> info_msg;
  std::optional<std::string> username;      // Basic authentication
  std::optional<std::string> password;      // only with reveal_credentials
  std::vector<std::string> proxied;         // "HEADER-NAME -> value" of proxy headers
  std::optional<std::string> orig_mime_type;  // request Content-Type, no parameters
  std::optional<std::string> resp_mime_type;
  std::vector<std::string> post_fields;     // form field names of a POST body (never values)
  std::optional<std::string> resp_location; // Location header of the reply
};

}  // namespace trawl::analyzers::http

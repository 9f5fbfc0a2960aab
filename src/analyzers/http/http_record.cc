#include "analyzers/http/http_record.h"

#include "output/json_line.h"

namespace trawl::analyzers::http {

namespace {

void append_array(std::string& out, const std::string* items, size_t n) {
  out.push_back('[');
  for (size_t i = 0; i < n; ++i) {
    if (i) out.push_back(',');
    output::append_json_string(out, items[i]);
  }
  out.push_back(']');
}

std::string array(const std::vector<std::string>& v) {
  std::string s;
  append_array(s, v.data(), v.size());
  return s;
}

std::string array(const std::string& one) {
  std::string s;
  append_array(s, &one, 1);
  return s;
}

}  // namespace

void HttpRecord::set_conn(const ConnInfo& c) {
  uid = c.uid;
  orig_h = c.orig_h;
  orig_p = c.orig_p;
  resp_h = c.resp_h;
  resp_p = c.resp_p;
}

void HttpRecord::write_json(std::string& out) const {
  output::JsonLine j(out);
  j.raw("ts", core::format_epoch_micros(ts))
      .str("uid", uid)
      .str("id.orig_h", orig_h.to_string())
      .u64("id.orig_p", orig_p)
      .str("id.resp_h", resp_h.to_string())
      .u64("id.resp_p", resp_p)
      .u64("trans_depth", trans_depth);
  if (method) j.str("method", *method);
  if (host) j.str("host", *host);
  if (uri) j.str("uri", *uri);
  if (referrer) j.str("referrer", *referrer);
  if (version) j.str("version", *version);
  if (user_agent) j.str("user_agent", *user_agent);
  if (origin) j.str("origin", *origin);
  j.u64("request_body_len", request_body_len).u64("response_body_len", response_body_len);
  if (status_code) j.u64("status_code", *status_code);
  if (status_msg) j.str("status_msg", *status_msg);
  if (info_code) j.u64("info_code", *info_code);
  if (info_msg) j.str("info_msg", *info_msg);
  j.raw("tags", "[]");
  if (username) j.str("username", *username);
  if (password) j.str("password", *password);
  if (!proxied.empty()) j.raw("proxied", array(proxied));
  if (orig_mime_type) j.raw("orig_mime_types", array(*orig_mime_type));
  if (resp_mime_type) j.raw("resp_mime_types", array(*resp_mime_type));
  if (!post_fields.empty()) j.raw("post_fields", array(post_fields));
  if (resp_location) j.str("resp_location", *resp_location);
  j.end();
}

}  // namespace trawl::analyzers::http

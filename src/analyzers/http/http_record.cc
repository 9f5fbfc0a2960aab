#include "analyzers/http/http_record.h"

#include "output/json_line.h"

namespace trawl::analyzers::http {

void HttpRecord::set_conn(const ConnInfo& c) {
  uid = c.uid;
  orig_h = c.orig_h;
  orig_p = c.orig_p;
  resp_h = c.resp_h;
  resp_p = c.resp_p;
}

void HttpRecord::write_json(std::string& out) const {
  output::JsonLine j(out, output::JsonLine::Flush::kAtEnd);
  j.ts("ts", ts)
      .str("uid", uid)
      .ip("id.orig_h", orig_h)
      .u64("id.orig_p", orig_p)
      .ip("id.resp_h", resp_h)
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
  if (!proxied.empty()) j.str_list("proxied", proxied);
  if (orig_mime_type) j.str_list("orig_mime_types", std::span(&*orig_mime_type, 1));
  if (resp_mime_type) j.str_list("resp_mime_types", std::span(&*resp_mime_type, 1));
  if (!post_fields.empty()) j.str_list("post_fields", post_fields);
  if (resp_location) j.str("resp_location", *resp_location);
  j.end();
}

}  // namespace trawl::analyzers::http

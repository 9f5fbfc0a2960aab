#include "analyzers/rdp/rdp_record.h"

#include "output/json_line.h"

namespace trawl::analyzers::rdp {

void RdpRecord::write_json(std::string& out) const {
  output::JsonLine j(out, output::JsonLine::Flush::kAtEnd);
  j.ts("ts", ts)
      .str("uid", uid)
      .ip("id.orig_h", orig_h)
      .u64("id.orig_p", orig_p)
      .ip("id.resp_h", resp_h)
      .u64("id.resp_p", resp_p);
  auto opt = [&j](std::string_view key, const std::optional<std::string>& v) {
    if (v) j.str(key, *v);
  };
  opt("cookie", cookie);
  opt("result", result);
  opt("security_protocol", security_protocol);
  if (requested_protocols) j.str_list("requested_protocols", *requested_protocols);
  if (client_channels) j.str_list("client_channels", *client_channels);
  opt("keyboard_layout", keyboard_layout);
  opt("client_build", client_build);
  opt("client_name", client_name);
  opt("client_dig_product_id", client_dig_product_id);
  if (desktop_width) j.u64("desktop_width", *desktop_width);
  if (desktop_height) j.u64("desktop_height", *desktop_height);
  opt("requested_color_depth", requested_color_depth);
  opt("cert_type", cert_type);
  j.u64("cert_count", cert_count);
  if (cert_permanent) j.boolean("cert_permanent", *cert_permanent);
  opt("encryption_level", encryption_level);
  opt("encryption_method", encryption_method);
  j.end();
}

}  // namespace trawl::analyzers::rdp

#include "analyzers/rdp/rdp_record.h"

#include "output/json_line.h"

namespace trawl::analyzers::rdp {

namespace {

std::string json_array(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i != 0) out.push_back(',');
    output::append_json_string(out, v[i]);
  }
  out.push_back(']');
  return out;
}

}  // namespace

void RdpRecord::write_json(std::string& out) const {
  output::JsonLine j(out);
  j.raw("ts", core::format_epoch_micros(ts))
      .str("uid", uid)
      .str("id.orig_h", orig_h.to_string())
      .u64("id.orig_p", orig_p)
      .str("id.resp_h", resp_h.to_string())
      .u64("id.resp_p", resp_p);
  auto opt = [&j](std::string_view key, const std::optional<std::string>& v) {
    if (v) j.str(key, *v);
  };
  opt("cookie", cookie);
  opt("result", result);
  opt("security_protocol", security_protocol);
  if (requested_protocols) j.raw("requested_protocols", json_array(*requested_protocols));
  if (client_channels) j.raw("client_channels", json_array(*client_channels));
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

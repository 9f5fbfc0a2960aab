#include "analyzers/ssl/ssl_record.h"

#include "analyzers/ssl/tls_names.h"
#include "output/json_line.h"

namespace trawl::analyzers::ssl {

void SslRecord::set_conn(const ConnInfo& c) {
  uid = c.uid;
  orig_h = c.orig_h;
  orig_p = c.orig_p;
  resp_h = c.resp_h;
  resp_p = c.resp_p;
}

void SslRecord::write_json(std::string& out) const {
  output::JsonLine j(out, output::JsonLine::Flush::kAtEnd);
  j.ts("ts", ts)
      .str("uid", uid)
      .ip("id.orig_h", orig_h)
      .u64("id.orig_p", orig_p)
      .ip("id.resp_h", resp_h)
      .u64("id.resp_p", resp_p);
  if (version) j.str("version", version_name(*version));
  if (cipher) j.str("cipher", cipher_name(*cipher));
  if (curve) j.str("curve", curve_name(*curve));
  if (server_name) j.str("server_name", *server_name);
  j.boolean("resumed", resumed);
  if (last_alert) j.str("last_alert", alert_name(*last_alert));
  if (next_protocol) j.str("next_protocol", *next_protocol);
  j.boolean("established", established).str("ssl_history", ssl_history);
  if (has_certificates) {
    j.str_list("cert_chain_fps", cert_chain_fps);
    j.str_list("client_cert_chain_fps", client_cert_chain_fps);
  }
  if (subject) j.str("subject", *subject);
  if (issuer) j.str("issuer", *issuer);
  if (client_subject) j.str("client_subject", *client_subject);
  if (client_issuer) j.str("client_issuer", *client_issuer);
  if (sni_matches_cert) j.boolean("sni_matches_cert", *sni_matches_cert);
  if (client_version) j.u64("client_version", *client_version);
  if (!ja3.empty()) j.str("ja3", ja3);
  if (!ja3s.empty()) j.str("ja3s", ja3s);
  if (!ja4.empty()) j.str("ja4", ja4);
  if (!ja4s.empty()) j.str("ja4s", ja4s);
  if (not_valid_before) j.i64("not_valid_before", *not_valid_before);
  if (not_valid_after) j.i64("not_valid_after", *not_valid_after);
  if (!san_dns.empty()) j.str_list("san_dns", san_dns);
  j.end();
}

}  // namespace trawl::analyzers::ssl

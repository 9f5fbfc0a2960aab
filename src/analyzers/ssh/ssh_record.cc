#include "analyzers/ssh/ssh_record.h"

#include "output/json_line.h"

namespace trawl::analyzers::ssh {

void SshRecord::write_json(std::string& out) const {
  output::JsonLine j(out, output::JsonLine::Flush::kAtEnd);
  j.ts("ts", ts)
      .str("uid", uid)
      .ip("id.orig_h", orig_h)
      .u64("id.orig_p", orig_p)
      .ip("id.resp_h", resp_h)
      .u64("id.resp_p", resp_p);
  if (version) j.u64("version", *version);
  if (auth_success) j.boolean("auth_success", *auth_success);
  j.u64("auth_attempts", auth_attempts);
  auto opt = [&j](std::string_view key, const std::optional<std::string>& v) {
    if (v) j.str(key, *v);
  };
  opt("client", client);
  opt("server", server);
  opt("cipher_alg", cipher_alg);
  opt("mac_alg", mac_alg);
  opt("compression_alg", compression_alg);
  opt("kex_alg", kex_alg);
  opt("host_key_alg", host_key_alg);
  opt("host_key", host_key);
  opt("hassh", hassh);
  opt("hasshServer", hassh_server);
  j.end();
}

}  // namespace trawl::analyzers::ssh

// SshRecord: one line of ssh.jsonl, Zeek's ssh.log fields (plus HASSH).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "analyzers/analyzer.h"

namespace trawl::analyzers::ssh {

class SshRecord final : public Record {
 public:
  std::string_view log() const override { return "ssh"; }
  void write_json(std::string& out) const override;

  std::string uid;
  core::IpAddress orig_h;
  uint16_t orig_p = 0;
  core::IpAddress resp_h;
  uint16_t resp_p = 0;
  std::optional<uint32_t> version;   // 2, 1 or 0 (incompatible); unset if undetermined
  std::optional<bool> auth_success;  // unset: unknown
  uint32_t auth_attempts = 0;
  std::optional<std::string> client;  // version lines, without CR LF
  std::optional<std::string> server;
  std::optional<std::string> cipher_alg;
  std::optional<std::string> mac_alg;
  std::optional<std::string> compression_alg;
  std::optional<std::string> kex_alg;
  std::optional<std::string> host_key_alg;
  std::optional<std::string> host_key;  // md5 fingerprint aa:bb:...
  std::optional<std::string> hassh;         // client KEXINIT
  std::optional<std::string> hassh_server;  // server KEXINIT
};

}  // namespace trawl::analyzers::ssh

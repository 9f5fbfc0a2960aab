// SshAnalyzer: one SSH connection. Reads both version lines and the
// cleartext key exchange (KEXINITs, the server host key, NEWKEYS), then
// infers the authentication outcome from encrypted segment sizes as Zeek
// does, writes one ssh.jsonl record and one auth.jsonl record per inferred
// attempt, and gives up once the outcome is known or the window is spent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "analyzers/analyzer.h"
#include "analyzers/common/line_reader.h"
#include "analyzers/registry.h"
#include "analyzers/ssh/ssh_parser.h"

namespace trawl::analyzers::ssh {

struct SshLimits {
  size_t max_version_line = 1024;        // bytes, without the line end
  uint32_t max_banner_lines = 32;        // lines before the version line, per direction
  size_t max_packet = 65536;             // cleartext binary packet (4 + packet_length)
  uint32_t max_cleartext_packets = 64;   // per direction before NEWKEYS
  uint32_t max_encrypted_segments = 256; // both directions, while the outcome is unknown
};

class SshAnalyzer final : public Analyzer {
 public:
  explicit SshAnalyzer(Context& ctx, const SshLimits& limits = {});

  void data(bool is_orig, core::ByteView bytes, core::Timestamp ts) override;
  void gap(bool is_orig, uint64_t bytes, core::Timestamp ts) override;
  void finish(core::Timestamp ts) override;

  // Content probe for the registry: a version line from either side.
  static Probe probe(const ProbeInput& in);

 private:
  enum class State : uint8_t { kVersion, kKex, kEncrypted, kIgnored };
  struct Direction {
    State state = State::kVersion;
    LineReader lines;
    uint32_t banner_lines = 0;
    uint32_t packets = 0;
    std::string buf;  // a cleartext packet split across data() calls
    bool kexinit_seen = false;
    KexInit kexinit;
    explicit Direction(size_t max_line) : lines(max_line) {}
  };

  bool on_line(bool is_orig, std::string_view line, bool truncated, core::Timestamp ts);
  // Consumes cleartext packets from bytes[pos...]; returns the new position.
  size_t on_packets(bool is_orig, core::ByteView bytes, size_t pos);
  void on_packet(bool is_orig, core::ByteView payload);
  void on_encrypted(bool is_orig, size_t len, core::Timestamp ts);
  void negotiate();
  void emit_attempt(bool success, core::Timestamp ts);
  void stop();
  bool inference_possible() const;

  Context& ctx_;
  SshLimits limits_;
  Direction dirs_[2];  // 0: originator (client), 1: responder (server)
  bool stopped_ = false;
  bool seen_version_ = false;
  core::Timestamp first_ts_;
  std::optional<std::string> client_;
  std::optional<std::string> server_;
  int version_ = -1;
  KexFamily family_ = KexFamily::kUnknown;
  bool negotiated_ = false;
  bool kex_failed_ = false;  // no common key exchange algorithm
  std::optional<std::string> cipher_alg_, mac_alg_, compression_alg_, kex_alg_, host_key_alg_;
  std::optional<std::string> host_key_;
  AuthInference inference_;
  uint32_t encrypted_segments_ = 0;
  uint32_t auth_attempts_ = 0;
  std::optional<bool> auth_success_;
};

std::unique_ptr<Analyzer> create(Context& ctx);

}  // namespace trawl::analyzers::ssh

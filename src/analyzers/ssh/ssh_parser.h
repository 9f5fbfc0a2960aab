// Pure SSH parsing (RFC 4253): version lines, the cleartext binary packet
// framing of the key exchange, KEXINIT name-lists, the server host key in the
// KEX reply, Zeek's algorithm negotiation and SSH version rules, HASSH and
// the host-key fingerprint. Bytes in, values out; no flows, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/anomalies.h"
#include "core/byte_view.h"

namespace trawl::analyzers::ssh {

inline const core::AnomalyId kAnomVersionTooLong{"ssh.version_too_long"};
inline const core::AnomalyId kAnomTooManyBannerLines{"ssh.too_many_banner_lines"};
inline const core::AnomalyId kAnomMalformedVersion{"ssh.malformed_version"};
inline const core::AnomalyId kAnomPacketTooLong{"ssh.packet_too_long"};
inline const core::AnomalyId kAnomMalformedPacket{"ssh.malformed_packet"};
inline const core::AnomalyId kAnomMalformedKexinit{"ssh.malformed_kexinit"};
inline const core::AnomalyId kAnomMalformedKexReply{"ssh.malformed_kex_reply"};
inline const core::AnomalyId kAnomUnknownKex{"ssh.unknown_kex_algorithm"};
inline const core::AnomalyId kAnomTooManyCleartextPackets{"ssh.too_many_cleartext_packets"};
inline const core::AnomalyId kAnomInferenceWindowExhausted{"ssh.inference_window_exhausted"};

// SSH message numbers used here (RFC 4253, 4419, 4432, 4462, 5656).
enum MsgType : uint8_t {
  kMsgDisconnect = 1,
  kMsgKexinit = 20,
  kMsgNewkeys = 21,
  kMsgKexRsaPubkey = 30,     // RFC 4432; also KEXDH_INIT / GEX_REQUEST_OLD
  kMsgKexdhReply = 31,       // DH, ECDH, curve25519, hybrid PQ; GEX_GROUP under GEX
  kMsgKexDhGexReply = 33,
  kMsgKexGssHostkey = 42,
};

// "SSH-<protoversion>-<softwareversion>[ SP comments]": true if `line`
// starts with "SSH-", a protocol version of digits and dots, and a '-'.
bool is_version_line(std::string_view line);

// Protocol version of one side, from its version line, as Zeek reads it
// (character 4, and characters 6-7 for "1.99").
enum class ProtoVersion : uint8_t { kUnknown, kSsh1, kSsh199, kSsh2 };
ProtoVersion proto_version(std::string_view line);

// The connection's SSH version from both version lines with the rules of
// Zeek's ssh/main.zeek set_version: 2, 1, 0 (incompatible, SSH1 vs SSH2), or
// -1 (undetermined: a line is missing or has no '1'/'2' at position 4).
int negotiated_version(std::string_view client, std::string_view server);

// One cleartext binary packet: uint32 packet_length, byte padding_length,
// payload, padding (no MAC before the first NEWKEYS).
enum class FrameResult : uint8_t { kOk, kNeedMore, kTooLong, kMalformed };
struct Frame {
  size_t total = 0;         // bytes the packet occupies (4 + packet_length)
  core::ByteView payload;   // starts with the message number; never empty when kOk
};
// Frames the packet at the start of `in`. kNeedMore: fewer than 4 + packet_length
// bytes (frame.total then tells how many are needed once the length is known,
// 0 before that). kTooLong: packet_length + 4 > max_packet. kMalformed:
// padding leaves no payload.
FrameResult frame_packet(core::ByteView in, size_t max_packet, Frame& frame);

// SSH_MSG_KEXINIT's algorithm name-lists (comma-separated, as sent).
struct KexInit {
  std::string kex;
  std::string host_key;
  std::string enc_c2s;
  std::string enc_s2c;
  std::string mac_c2s;
  std::string mac_s2c;
  std::string comp_c2s;
  std::string comp_s2c;
  std::string lang_c2s;
  std::string lang_s2c;
  bool first_kex_follows = false;
};

// Parses a KEXINIT payload (message number included). false (and an anomaly)
// when a name-list runs past the payload or the fixed tail is missing.
bool parse_kexinit(core::ByteView payload, KexInit& out, core::Anomalies& anomalies);

// Key exchange families, by how the server's host key travels.
enum class KexFamily : uint8_t {
  kUnknown,  // not recognised: message 31's first string is taken
  kDh,       // diffie-hellman-group*: KEXDH_REPLY (31)
  kDhGex,    // diffie-hellman-group-exchange-*: KEX_DH_GEX_REPLY (33)
  kEcdh,     // ecdh-sha2-*, curve25519-*, curve448-*, hybrid PQ: KEX_ECDH_REPLY (31)
  kGss,      // gss-*: KEXGSS_HOSTKEY (42)
  kRsa,      // rsa1024-sha1, rsa2048-sha256: KEXRSA_PUBKEY (30)
};
KexFamily kex_family(std::string_view kex_alg);

// If the server message `payload` (message number included) carries the
// host key under `family`, sets `key` to its K_S blob and returns true.
// A message of the right number whose first string runs past the payload
// counts kAnomMalformedKexReply.
bool server_host_key(KexFamily family, core::ByteView payload, core::ByteView& key,
                     core::Anomalies& anomalies);

inline constexpr std::string_view kNegotiationFailed = "Algorithm negotiation failed";

// Zeek's negotiation: the first client algorithm the server also lists, else
// kNegotiationFailed.
std::string find_alg(std::string_view client_list, std::string_view server_list);
// Both directions: the common answer, or "To server: X, to client: Y".
std::string find_bidirectional_alg(std::string_view client_c2s, std::string_view client_s2c,
                                   std::string_view server_c2s, std::string_view server_s2c);

// MD5 fingerprint "aa:bb:...:ff" of a host key blob (Zeek's host_key).
std::string md5_fingerprint(core::ByteView key);
// Lower-case hex MD5.
std::string md5_hex(std::string_view data);
// HASSH (client) and HASSHServer: md5 of "kex;enc;mac;compression" with the
// client-to-server lists for the client, the server-to-client lists for the server.
std::string hassh_client(const KexInit& client);
std::string hassh_server(const KexInit& server);

// Zeek's SSH analyzer infers the authentication outcome from the sizes of
// encrypted segments after NEWKEYS (src/analyzer/protocol/ssh/SSH.cc,
// ProcessEncrypted): the server's first encrypted segment after client data
// is SERVICE_ACCEPT; a later one 16 bytes smaller is USERAUTH_SUCCESS; the
// first other size is taken as USERAUTH_FAILURE (the reply to the "none"
// probe; not counted), and each further segment of that size is one failed
// attempt. One over 256 bytes larger than SERVICE_ACCEPT is skipped once
// (a pre-auth banner).
class AuthInference {
 public:
  enum class Event : uint8_t { kNone, kFailure, kSuccess };
  // One encrypted segment of `len` bytes in one direction.
  Event segment(bool is_orig, size_t len);
  bool decided() const { return decided_; }

 private:
  bool decided_ = false;
  bool saw_client_data_ = false;
  bool skipped_banner_ = false;
  int64_t service_accept_size_ = 0;
  int64_t failure_size_ = 0;
};

}  // namespace trawl::analyzers::ssh

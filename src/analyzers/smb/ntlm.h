// NTLMSSP messages (MS-NLMP) and the SPNEGO / GSS-API wrapping (RFC 4178,
// RFC 2743) that carries them in SMB SESSION_SETUP security blobs (and in
// HTTP "Negotiate"). Pure and bounded: fields that point outside the message
// are anomalies and stay empty; no recursion; strings are capped.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/anomalies.h"
#include "core/byte_view.h"

namespace trawl::analyzers::smb {

inline const core::AnomalyId kAnomNtlmMalformed{"smb.ntlm_malformed"};
inline const core::AnomalyId kAnomNtlmFieldOutOfBounds{"smb.ntlm_field_out_of_bounds"};
inline const core::AnomalyId kAnomSpnegoMalformed{"smb.spnego_malformed"};

enum class NtlmType : uint8_t { kNone = 0, kNegotiate = 1, kChallenge = 2, kAuthenticate = 3 };

constexpr uint32_t kNtlmFlagUnicode = 0x00000001;
constexpr uint32_t kNtlmFlagAnonymous = 0x00000800;

struct NtlmMessage {
  NtlmType type = NtlmType::kNone;
  uint32_t flags = 0;
  // CHALLENGE: the server challenge, target name and the AV pairs' names.
  std::array<uint8_t, 8> server_challenge{};
  std::string target_name;
  std::string nb_computer;
  std::string nb_domain;
  std::string dns_computer;
  std::string dns_domain;
  std::string dns_tree;
  // AUTHENTICATE (NEGOTIATE may carry domain and workstation too).
  std::string domain;
  std::string user;
  std::string workstation;
  // The challenge responses: views into the parsed token (valid only as long
  // as it is); callers must not keep them unless credentials are revealed.
  core::ByteView lm_response;
  core::ByteView nt_response;
};

// Parses one NTLMSSP message (starting with "NTLMSSP\0"). false when it is
// not one or its fixed header is cut short; `out` then holds what was read.
bool parse_ntlm(core::ByteView token, NtlmMessage& out, core::Anomalies& anomalies);

// "ntlm-anonymous", "ntlm-no-response", "ntlmv1", "ntlmv2" or "lm" for an
// AUTHENTICATE message, from the user name and the challenge-response lengths
// (MS-NLMP 3.2.5.1.2: anonymous = empty user, empty NT response, LM response
// empty or one zero byte; a named user with no responses is "no-response",
// e.g. smbclient trying the local user with an empty password).
std::string_view ntlm_auth_method(const NtlmMessage& m);

// The hashcat/John "NetNTLMv1/v2" form of an AUTHENTICATE message's response,
// for AnalyzerConfig::reveal_credentials only. Empty if there is no usable
// response.
std::string ntlm_crack_format(const NtlmMessage& auth, const std::array<uint8_t, 8>& server_challenge);

enum class GssMech : uint8_t { kNone, kNtlm, kKerberos, kOther };
std::string_view gss_mech_name(GssMech m);  // "", "ntlm", "kerberos", "other"

struct SecurityToken {
  GssMech mech = GssMech::kNone;
  core::ByteView ntlm;  // the NTLMSSP message, when mech == kNtlm and one is present
};

// Looks into an SMB security blob: a raw NTLMSSP message, a GSS-API
// InitialContextToken holding SPNEGO NegTokenInit (mechTypes, mechToken) or
// Kerberos, or a bare NegTokenResp (responseToken). Only the few DER nodes
// on that path are read.
SecurityToken find_security_token(core::ByteView blob, core::Anomalies& anomalies);

}  // namespace trawl::analyzers::smb

// Pure SMB parsers: NBSS framing (RFC 1002 session service, also the 4-byte
// "direct TCP" header on 445), SMB1 messages (header and AndX chain) and
// SMB2/3 messages (header and compound chain), down to the fields smb.jsonl
// and auth.jsonl need. Bytes in, SmbCommand values out; views point into the
// message and live as long as it does. Hostile input: bounded loops, every
// offset checked, anomalies instead of failures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/anomalies.h"
#include "core/byte_view.h"

namespace trawl::analyzers::smb {

inline const core::AnomalyId kAnomBadHeader{"smb.bad_header"};
inline const core::AnomalyId kAnomTruncated{"smb.truncated_command"};
inline const core::AnomalyId kAnomBadOffset{"smb.bad_offset"};  // a buffer inside the fixed header
inline const core::AnomalyId kAnomAndxLoop{"smb.andx_chain_invalid"};
inline const core::AnomalyId kAnomTooManyAndx{"smb.too_many_andx"};
inline const core::AnomalyId kAnomBadCompound{"smb.compound_invalid"};
inline const core::AnomalyId kAnomTooManyCompound{"smb.too_many_compounded"};
inline const core::AnomalyId kAnomTooManyDialects{"smb.too_many_dialects"};

// ---- NBSS ------------------------------------------------------------------

constexpr uint8_t kNbssMessage = 0x00;
constexpr uint8_t kNbssRequest = 0x81;
constexpr uint8_t kNbssPositive = 0x82;
constexpr uint8_t kNbssNegative = 0x83;
constexpr uint8_t kNbssRetarget = 0x84;
constexpr uint8_t kNbssKeepAlive = 0x85;

struct NbssHeader {
  uint8_t type = 0;
  uint32_t length = 0;  // bytes after the 4-byte header
};

// Reads a 4-byte NBSS header. Session messages use 24 length bits (direct TCP
// allows them; on 139 the top 7 are zero anyway); the other types 17.
// false for an unknown type or a header that breaks its rules.
bool parse_nbss_header(core::ByteView four, NbssHeader& out);

// ---- SMB messages -------------------------------------------------------------

enum class SmbVersion : uint8_t { kSmb1 = 1, kSmb2 = 2 };

// SMB1 FIDs are 16 bits (in `persistent`); SMB2 FileIds two 64-bit halves.
struct FileId {
  uint64_t persistent = 0;
  uint64_t volatile_id = 0;
  friend bool operator==(const FileId&, const FileId&) = default;
};

constexpr uint8_t kSmb1Flags2Unicode = 0x80;      // high byte of Flags2 (0x8000)
constexpr uint16_t kSmb1Flags2NtStatus = 0x4000;
constexpr uint16_t kSmb1Flags2ExtSec = 0x0800;
constexpr uint32_t kSmb1CapExtendedSecurity = 0x80000000;

// SMB1 command codes used by the analyzer.
namespace smb1 {
constexpr uint8_t kClose = 0x04;
constexpr uint8_t kTransaction = 0x25;
constexpr uint8_t kTransactionSecondary = 0x26;
constexpr uint8_t kEcho = 0x2b;
constexpr uint8_t kOpenAndx = 0x2d;
constexpr uint8_t kReadAndx = 0x2e;
constexpr uint8_t kWriteAndx = 0x2f;
constexpr uint8_t kTransaction2 = 0x32;
constexpr uint8_t kTransaction2Secondary = 0x33;
constexpr uint8_t kTreeDisconnect = 0x71;
constexpr uint8_t kNegotiate = 0x72;
constexpr uint8_t kSessionSetupAndx = 0x73;
constexpr uint8_t kLogoffAndx = 0x74;
constexpr uint8_t kTreeConnectAndx = 0x75;
constexpr uint8_t kNtTransact = 0xa0;
constexpr uint8_t kNtTransactSecondary = 0xa1;
constexpr uint8_t kNtCreateAndx = 0xa2;
}  // namespace smb1

// SMB2 command codes.
namespace smb2 {
constexpr uint16_t kNegotiate = 0;
constexpr uint16_t kSessionSetup = 1;
constexpr uint16_t kLogoff = 2;
constexpr uint16_t kTreeConnect = 3;
constexpr uint16_t kTreeDisconnect = 4;
constexpr uint16_t kCreate = 5;
constexpr uint16_t kClose = 6;
constexpr uint16_t kFlush = 7;
constexpr uint16_t kRead = 8;
constexpr uint16_t kWrite = 9;
constexpr uint16_t kLock = 10;
constexpr uint16_t kIoctl = 11;
constexpr uint16_t kCancel = 12;
constexpr uint16_t kEcho = 13;
constexpr uint16_t kQueryDirectory = 14;
constexpr uint16_t kChangeNotify = 15;
constexpr uint16_t kQueryInfo = 16;
constexpr uint16_t kSetInfo = 17;
constexpr uint16_t kOplockBreak = 18;
constexpr uint32_t kFlagResponse = 0x1;
constexpr uint32_t kFlagAsync = 0x2;
constexpr uint32_t kFlagRelated = 0x4;
constexpr uint32_t kFsctlPipeTransceive = 0x0011c017;
constexpr uint8_t kShareDisk = 1;
constexpr uint8_t kSharePipe = 2;
constexpr uint8_t kSharePrint = 3;
}  // namespace smb2

constexpr uint32_t kStatusSuccess = 0;
constexpr uint32_t kStatusPending = 0x00000103;
constexpr uint32_t kStatusMoreProcessing = 0xc0000016;
constexpr uint32_t kStatusBufferOverflow = 0x80000005;

struct SmbLimits {
  size_t max_andx = 8;          // commands in one SMB1 message
  size_t max_compound = 32;     // SMB2 messages in one compound
  size_t max_dialects = 64;
  size_t max_string = 1024;     // characters kept of a path, name or account
};

// One command: an SMB1 AndX chain element or one SMB2 message of a compound.
// Which fields are set depends on command and direction.
struct SmbCommand {
  SmbVersion version = SmbVersion::kSmb1;
  uint16_t command = 0;
  bool response = false;
  uint32_t status = 0;      // NT status (SMB1 DOS errors: class | code << 16, dos_error set)
  bool dos_error = false;
  uint64_t message_id = 0;  // SMB1 MID, SMB2 MessageId
  uint32_t pid = 0;         // SMB1 PIDHigh << 16 | PIDLow; SMB2 sync ProcessId
  uint16_t pid_high = 0;    // SMB1 header "PID High"
  uint64_t session_id = 0;  // SMB1 UID, SMB2 SessionId
  uint32_t tree_id = 0;     // SMB1 TID, SMB2 TreeId (0 in async SMB2 messages)
  uint32_t flags = 0;       // SMB1 Flags2, SMB2 Flags
  bool async = false;       // SMB2 async header
  bool truncated = false;   // the message was cut before this command's end
  bool error_body = false;  // an error response: no command-specific fields

  bool has_file = false;
  FileId file;

  // NEGOTIATE
  std::vector<std::string> dialects;     // SMB1 request: the dialect strings
  std::vector<uint16_t> dialect_codes;   // SMB2 request
  uint16_t dialect = 0;                  // response: SMB1 index (0xffff: none), SMB2 revision
  uint8_t security_mode = 0;
  uint32_t capabilities = 0;
  // NEGOTIATE response (SMB1 without extended security): the challenge
  core::ByteView challenge;
  // SESSION_SETUP
  core::ByteView security_blob;
  bool plain_session_setup = false;      // SMB1 without extended security
  core::ByteView oem_password;           // SMB1 plain: case-insensitive (LM) password or response
  core::ByteView unicode_password;       // SMB1 plain: case-sensitive (NT) password or response
  std::string account;
  std::string primary_domain;
  std::string native_os;
  uint16_t session_flags = 0;            // SMB1 Action, SMB2 SessionFlags (bit 0: guest)
  // TREE_CONNECT
  std::string path;
  std::string service;                   // SMB1 service ("IPC", "A:", "?????")
  uint8_t share_type = 0;                // SMB2 response: 1 disk, 2 pipe, 3 print
  // CREATE / NT_CREATE_ANDX / OPEN_ANDX
  std::string name;
  uint16_t file_type = 0;                // SMB1 response ResourceType: 1, 2 pipes
  // TRANSACTION / TRANSACTION2 / NT_TRANSACT / IOCTL
  bool has_subcommand = false;
  uint32_t subcommand = 0;               // setup[0], NT function, or SMB2 CtlCode
  std::string trans_name;                // SMB1 TRANSACTION name ("\PIPE\")
  uint32_t total_data = 0;               // trans: TotalDataCount
  uint32_t total_params = 0;
  uint32_t data_displacement = 0;
  uint32_t param_count = 0;
  uint32_t param_displacement = 0;
  // READ / WRITE / TRANSACTION data / IOCTL input (request) or output (response)
  core::ByteView data;                   // what the message holds of it
  uint64_t data_len = 0;                 // as declared
};

// Parses one SMB1 message (starting at "\xffSMB"): appends one SmbCommand per
// AndX chain element. `truncated`: the message was cut (its NBSS length was
// larger than what is given). false if the header is not SMB1.
bool parse_smb1(core::ByteView msg, bool truncated, std::vector<SmbCommand>& out, core::Anomalies& anomalies,
                const SmbLimits& limits = {});

// Parses one SMB2 message or compound (starting at "\xfeSMB"): appends one
// SmbCommand per compounded message. false if the first header is not SMB2.
bool parse_smb2(core::ByteView msg, bool truncated, std::vector<SmbCommand>& out, core::Anomalies& anomalies,
                const SmbLimits& limits = {});

}  // namespace trawl::analyzers::smb

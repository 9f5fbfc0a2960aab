// SmbRecord: one line of smb.jsonl, one SMB request/response pair (or a
// DCE/RPC bind or call carried over a named pipe). Typed fields for the
// detectors (MS08-067, CVE-2009-3103, MS06-025, MS07-029, MS17-010 probes);
// JSON with Zeek's field names where Zeek's smb_cmd / smb_mapping /
// dce_rpc / ntlm logs have them. docs/records/smb.md describes every field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/analyzer.h"
#include "analyzers/smb/smb_parser.h"

namespace trawl::analyzers::smb {

// What a record is about, the same for SMB1 and SMB2.
enum class SmbAction : uint8_t {
  kNegotiate,
  kSessionSetup,
  kLogoff,
  kTreeConnect,
  kTreeDisconnect,
  kCreate,        // SMB2 CREATE, SMB1 NT_CREATE_ANDX / OPEN_ANDX
  kClose,
  kRead,
  kWrite,
  kTransaction,   // SMB1 TRANSACTION (named pipes, mailslots, RAP)
  kTransaction2,  // SMB1 TRANSACTION2
  kNtTransact,    // SMB1 NT_TRANSACT
  kIoctl,         // SMB2 IOCTL
  kDceRpcBind,    // BIND or ALTER_CONTEXT over a pipe
  kDceRpcRequest,
  kOther,
};

class SmbRecord final : public Record {
 public:
  std::string_view log() const override { return "smb"; }
  void write_json(std::string& out) const override;
  void set_conn(const ConnInfo& c);

  std::string uid;
  core::IpAddress orig_h;
  uint16_t orig_p = 0;
  core::IpAddress resp_h;
  uint16_t resp_p = 0;

  SmbVersion version = SmbVersion::kSmb1;
  SmbAction action = SmbAction::kOther;
  uint16_t command = 0;          // SMB1/SMB2 command code (DCE/RPC records: of the carrying message)
  std::string command_name;      // "NEGOTIATE", "TREE_CONNECT_ANDX", "DCE_RPC_BIND" ...
  bool has_sub_command = false;
  uint32_t sub_command = 0;      // trans setup[0], NT_TRANSACT function, SMB2 IOCTL CtlCode
  bool answered = false;         // a response (final, not interim) was seen
  uint32_t status = 0;           // NT status of the response (when answered)
  bool dos_error = false;        // SMB1 DOS error class/code rather than an NT status
  int64_t rtt_ns = -1;           // response time minus request time; -1 unknown
  bool has_message_id = false;
  uint64_t message_id = 0;       // SMB1 MID, SMB2 MessageId
  bool unmatched_response = false;  // a response whose request was not seen

  // NEGOTIATE
  bool has_pid_high = false;
  uint16_t pid_high = 0;             // SMB1 header Process ID High of the request
  std::vector<std::string> dialects;  // offered: SMB1 strings; SMB2 names ("SMB 3.1.1")
  std::vector<uint16_t> dialect_codes;  // SMB2 offered revisions
  std::string dialect;               // selected ("NT LM 0.12", "SMB 2.1", "SMB 2.???")

  // SESSION_SETUP (from NTLMSSP AUTHENTICATE or SMB1 plain session setup)
  std::string auth_mech;   // "ntlm", "kerberos", "other", "plain" (SMB1 without extended security)
  bool has_user = false;    // an AUTHENTICATE or plain session setup named one (maybe "")
  std::string username;
  std::string domainname;
  std::string hostname;    // NTLM workstation
  bool guest = false;      // the server logged the client in as guest

  // Tree of the command (TREE_CONNECT: the path asked for)
  std::string tree;        // "\\\\10.0.0.1\\IPC$"
  std::string tree_service;  // SMB1 service string ("IPC", "A:")
  uint8_t share_type = 0;    // 1 disk, 2 pipe, 3 print (SMB2 response, or derived from the SMB1 service)

  // File or pipe
  std::string name;        // CREATE / NT_CREATE_ANDX name, or the name of the FID used
  bool has_is_pipe = false;
  bool is_pipe = false;
  bool has_fid = false;
  uint16_t fid = 0;        // SMB1 FID (MS17-010 probes use FID 0)
  bool has_data_len = false;
  uint64_t data_len = 0;   // READ / WRITE / pipe transaction bytes

  // DCE/RPC (kDceRpcBind, kDceRpcRequest)
  std::string named_pipe;  // as opened ("\\BROWSER", "srvsvc")
  std::string uuid;        // interface, canonical lower case
  uint16_t uuid_ver_major = 0;
  uint16_t uuid_ver_minor = 0;
  std::string endpoint;    // interface name ("srvsvc"), when known
  bool has_bind_result = false;
  uint16_t bind_result = 0;  // 0 acceptance, 1 user rejection, 2 provider rejection
  uint16_t bind_reason = 0;
  bool bind_nak = false;
  bool has_opnum = false;
  uint16_t opnum = 0;
  std::string operation;   // operation name ("NetprPathCompare"), when known
  uint64_t stub_len = 0;
  bool path_traversal_checked = false;  // srvsvc opnum 31/32
  bool path_traversal = false;
  bool fault = false;
  uint32_t fault_status = 0;
};

std::string_view smb_version_name(SmbVersion v);  // "SMB1", "SMB2"
std::string_view share_type_name(uint8_t t);       // "DISK", "PIPE", "PRINT", ""

// A pipe name as detectors compare it: lower case, without leading
// backslashes and without a "pipe\" prefix ("\\PIPE\\srvsvc" -> "srvsvc").
std::string normalized_pipe_name(std::string_view name);

}  // namespace trawl::analyzers::smb

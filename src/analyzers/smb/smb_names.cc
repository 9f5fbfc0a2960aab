#include "analyzers/smb/smb_names.h"

#include <algorithm>
#include <array>
#include <utility>

namespace trawl::analyzers::smb {

namespace {

template <typename Key, size_t N>
std::string_view lookup(const std::pair<Key, std::string_view> (&table)[N], Key k) {
  for (const auto& [code, name] : table) {
    if (code == k) return name;
  }
  return {};
}

constexpr std::pair<uint8_t, std::string_view> kSmb1Commands[] = {
    {0x00, "CREATE_DIRECTORY"},  {0x01, "DELETE_DIRECTORY"},
    {0x02, "OPEN"},              {0x03, "CREATE"},
    {0x04, "CLOSE"},             {0x05, "FLUSH"},
    {0x06, "DELETE"},            {0x07, "RENAME"},
    {0x08, "QUERY_INFORMATION"}, {0x09, "SET_INFORMATION"},
    {0x0a, "READ"},              {0x0b, "WRITE"},
    {0x0c, "LOCK_BYTE_RANGE"},   {0x0d, "UNLOCK_BYTE_RANGE"},
    {0x0e, "CREATE_TEMPORARY"},  {0x0f, "CREATE_NEW"},
    {0x10, "CHECK_DIRECTORY"},   {0x11, "PROCESS_EXIT"},
    {0x12, "SEEK"},              {0x13, "LOCK_AND_READ"},
    {0x14, "WRITE_AND_UNLOCK"},  {0x1a, "READ_RAW"},
    {0x1d, "WRITE_RAW"},         {0x22, "SET_INFORMATION2"},
    {0x23, "QUERY_INFORMATION2"}, {0x24, "LOCKING_ANDX"},
    {0x25, "TRANSACTION"},       {0x26, "TRANSACTION_SECONDARY"},
    {0x27, "IOCTL"},             {0x2b, "ECHO"},
    {0x2c, "WRITE_AND_CLOSE"},   {0x2d, "OPEN_ANDX"},
    {0x2e, "READ_ANDX"},         {0x2f, "WRITE_ANDX"},
    {0x31, "CLOSE_AND_TREE_DISC"}, {0x32, "TRANSACTION2"},
    {0x33, "TRANSACTION2_SECONDARY"}, {0x34, "FIND_CLOSE2"},
    {0x70, "TREE_CONNECT"},      {0x71, "TREE_DISCONNECT"},
    {0x72, "NEGOTIATE"},         {0x73, "SESSION_SETUP_ANDX"},
    {0x74, "LOGOFF_ANDX"},       {0x75, "TREE_CONNECT_ANDX"},
    {0x80, "QUERY_INFORMATION_DISK"}, {0x81, "SEARCH"},
    {0x82, "FIND"},              {0x84, "FIND_CLOSE"},
    {0xa0, "NT_TRANSACT"},       {0xa1, "NT_TRANSACT_SECONDARY"},
    {0xa2, "NT_CREATE_ANDX"},    {0xa4, "NT_CANCEL"},
};

constexpr std::array<std::string_view, 19> kSmb2Commands{
    "NEGOTIATE_PROTOCOL", "SESSION_SETUP", "LOGOFF",          "TREE_CONNECT", "TREE_DISCONNECT",
    "CREATE",             "CLOSE",         "FLUSH",           "READ",         "WRITE",
    "LOCK",               "IOCTL",         "CANCEL",          "ECHO",         "QUERY_DIRECTORY",
    "CHANGE_NOTIFY",      "QUERY_INFO",    "SET_INFO",        "OPLOCK_BREAK",
};

constexpr std::pair<uint32_t, std::string_view> kStatuses[] = {
    {0x00000000, "SUCCESS"},
    {0x00000103, "PENDING"},
    {0x00000105, "MORE_ENTRIES"},
    {0x0000010b, "NOTIFY_CLEANUP"},
    {0x0000010c, "NOTIFY_ENUM_DIR"},
    {0x80000005, "BUFFER_OVERFLOW"},
    {0x80000006, "NO_MORE_FILES"},
    {0x8000001a, "NO_MORE_ENTRIES"},
    {0xc0000001, "UNSUCCESSFUL"},
    {0xc0000002, "NOT_IMPLEMENTED"},
    {0xc0000003, "INVALID_INFO_CLASS"},
    {0xc0000004, "INFO_LENGTH_MISMATCH"},
    {0xc0000008, "INVALID_HANDLE"},
    {0xc000000d, "INVALID_PARAMETER"},
    {0xc000000e, "NO_SUCH_DEVICE"},
    {0xc000000f, "NO_SUCH_FILE"},
    {0xc0000010, "INVALID_DEVICE_REQUEST"},
    {0xc0000011, "END_OF_FILE"},
    {0xc0000016, "MORE_PROCESSING_REQUIRED"},
    {0xc0000022, "ACCESS_DENIED"},
    {0xc0000023, "BUFFER_TOO_SMALL"},
    {0xc0000033, "OBJECT_NAME_INVALID"},
    {0xc0000034, "OBJECT_NAME_NOT_FOUND"},
    {0xc0000035, "OBJECT_NAME_COLLISION"},
    {0xc0000039, "OBJECT_PATH_INVALID"},
    {0xc000003a, "OBJECT_PATH_NOT_FOUND"},
    {0xc000003b, "OBJECT_PATH_SYNTAX_BAD"},
    {0xc0000043, "SHARING_VIOLATION"},
    {0xc0000054, "FILE_LOCK_CONFLICT"},
    {0xc0000055, "LOCK_NOT_GRANTED"},
    {0xc0000056, "DELETE_PENDING"},
    {0xc000005e, "NO_LOGON_SERVERS"},
    {0xc0000064, "NO_SUCH_USER"},
    {0xc000006a, "WRONG_PASSWORD"},
    {0xc000006d, "LOGON_FAILURE"},
    {0xc000006e, "ACCOUNT_RESTRICTION"},
    {0xc000006f, "INVALID_LOGON_HOURS"},
    {0xc0000070, "INVALID_WORKSTATION"},
    {0xc0000071, "PASSWORD_EXPIRED"},
    {0xc0000072, "ACCOUNT_DISABLED"},
    {0xc000009a, "INSUFFICIENT_RESOURCES"},
    {0xc00000ac, "PIPE_NOT_AVAILABLE"},
    {0xc00000ad, "INVALID_PIPE_STATE"},
    {0xc00000ae, "PIPE_BUSY"},
    {0xc00000b0, "PIPE_DISCONNECTED"},
    {0xc00000b1, "PIPE_CLOSING"},
    {0xc00000b5, "IO_TIMEOUT"},
    {0xc00000ba, "FILE_IS_A_DIRECTORY"},
    {0xc00000bb, "NOT_SUPPORTED"},
    {0xc00000be, "BAD_NETWORK_PATH"},
    {0xc00000c3, "INVALID_NETWORK_RESPONSE"},
    {0xc00000c9, "NETWORK_NAME_DELETED"},
    {0xc00000cc, "BAD_NETWORK_NAME"},
    {0xc00000d0, "REQUEST_NOT_ACCEPTED"},
    {0xc00000df, "NO_SUCH_DOMAIN"},
    {0xc00000e5, "INTERNAL_ERROR"},
    {0xc0000101, "DIRECTORY_NOT_EMPTY"},
    {0xc0000103, "NOT_A_DIRECTORY"},
    {0xc0000120, "CANCELLED"},
    {0xc0000128, "FILE_CLOSED"},
    {0xc0000148, "INVALID_LEVEL"},
    {0xc000014b, "PIPE_BROKEN"},
    {0xc000015b, "LOGON_TYPE_NOT_GRANTED"},
    {0xc0000184, "INVALID_DEVICE_STATE"},
    {0xc0000193, "ACCOUNT_EXPIRED"},
    {0xc0000199, "NOLOGON_WORKSTATION_TRUST_ACCOUNT"},
    {0xc0000203, "USER_SESSION_DELETED"},
    {0xc0000205, "INSUFF_SERVER_RESOURCES"},
    {0xc000020c, "CONNECTION_DISCONNECTED"},
    {0xc0000224, "PASSWORD_MUST_CHANGE"},
    {0xc0000225, "NOT_FOUND"},
    {0xc0000234, "ACCOUNT_LOCKED_OUT"},
    {0xc0000257, "PATH_NOT_COVERED"},
    {0xc000035c, "NETWORK_SESSION_EXPIRED"},
    {0xc0000388, "DOWNGRADE_DETECTED"},
    {0xc000a100, "HASH_NOT_SUPPORTED"},
    {0xc000a2a1, "OFFLOAD_READ_FLT_NOT_SUPPORTED"},
};

constexpr std::pair<uint16_t, std::string_view> kTransSub[] = {
    {0x0001, "SET_NMPIPE_STATE"},
    {0x0011, "RAW_READ_NMPIPE"},
    {0x0021, "QUERY_NMPIPE_STATE"},
    {0x0022, "QUERY_NMPIPE_INFO"},
    {0x0023, "PEEK_NMPIPE"},
    {0x0026, "TRANSACT_NMPIPE"},
    {0x0031, "RAW_WRITE_NMPIPE"},
    {0x0036, "READ_NMPIPE"},
    {0x0037, "WRITE_NMPIPE"},
    {0x0053, "WAIT_NMPIPE"},
    {0x0054, "CALL_NMPIPE"},
};

constexpr std::pair<uint16_t, std::string_view> kTrans2Sub[] = {
    {0x00, "OPEN2"},
    {0x01, "FIND_FIRST2"},
    {0x02, "FIND_NEXT2"},
    {0x03, "QUERY_FS_INFORMATION"},
    {0x04, "SET_FS_INFORMATION"},
    {0x05, "QUERY_PATH_INFORMATION"},
    {0x06, "SET_PATH_INFORMATION"},
    {0x07, "QUERY_FILE_INFORMATION"},
    {0x08, "SET_FILE_INFORMATION"},
    {0x09, "FSCTL"},
    {0x0a, "IOCTL2"},
    {0x0b, "FIND_NOTIFY_FIRST"},
    {0x0c, "FIND_NOTIFY_NEXT"},
    {0x0d, "CREATE_DIRECTORY"},
    {0x0e, "SESSION_SETUP"},
    {0x10, "GET_DFS_REFERRAL"},
    {0x11, "REPORT_DFS_INCONSISTENCY"},
};

constexpr std::pair<uint16_t, std::string_view> kNtTransSub[] = {
    {0x01, "NT_TRANSACT_CREATE"},
    {0x02, "NT_TRANSACT_IOCTL"},
    {0x03, "NT_TRANSACT_SET_SECURITY_DESC"},
    {0x04, "NT_TRANSACT_NOTIFY_CHANGE"},
    {0x05, "NT_TRANSACT_RENAME"},
    {0x06, "NT_TRANSACT_QUERY_SECURITY_DESC"},
    {0x07, "NT_TRANSACT_GET_USER_QUOTA"},
    {0x08, "NT_TRANSACT_SET_USER_QUOTA"},
};

constexpr std::pair<uint32_t, std::string_view> kFsctl[] = {
    {0x0011c017, "FSCTL_PIPE_TRANSCEIVE"},
    {0x00110018, "FSCTL_PIPE_WAIT"},
    {0x0011400c, "FSCTL_PIPE_PEEK"},
    {0x00060194, "FSCTL_DFS_GET_REFERRALS"},
    {0x000601b0, "FSCTL_DFS_GET_REFERRALS_EX"},
    {0x00140204, "FSCTL_VALIDATE_NEGOTIATE_INFO"},
    {0x001401fc, "FSCTL_QUERY_NETWORK_INTERFACE_INFO"},
    {0x00144064, "FSCTL_SRV_ENUMERATE_SNAPSHOTS"},
    {0x00140078, "FSCTL_SRV_REQUEST_RESUME_KEY"},
    {0x001440f2, "FSCTL_SRV_COPYCHUNK"},
    {0x001480f2, "FSCTL_SRV_COPYCHUNK_WRITE"},
    {0x0014011c, "FSCTL_SRV_READ_HASH"},
    {0x000900a4, "FSCTL_SET_REPARSE_POINT"},
    {0x0009009c, "FSCTL_GET_OBJECT_ID"},
};

}  // namespace

std::string_view smb1_command_name(uint8_t command) { return lookup(kSmb1Commands, command); }

std::string_view smb2_command_name(uint16_t command) {
  return command < kSmb2Commands.size() ? kSmb2Commands[command] : std::string_view{};
}

std::string_view nt_status_name(uint32_t status) { return lookup(kStatuses, status); }

std::string hex32(uint32_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "0x00000000";
  for (int i = 9; i >= 2; --i) {
    s[static_cast<size_t>(i)] = kHex[v & 15];
    v >>= 4;
  }
  return s;
}

std::string hex16(uint16_t v) {
  std::string s = hex32(v);
  return "0x" + s.substr(6);
}

std::string_view trans_subcommand_name(uint16_t sub) { return lookup(kTransSub, sub); }
std::string_view trans2_subcommand_name(uint16_t sub) { return lookup(kTrans2Sub, sub); }
std::string_view nt_transact_subcommand_name(uint16_t sub) { return lookup(kNtTransSub, sub); }
std::string_view fsctl_name(uint32_t code) { return lookup(kFsctl, code); }

std::string smb2_dialect_name(uint16_t dialect) {
  switch (dialect) {
    case 0x0202:
      return "SMB 2.0.2";
    case 0x0210:
      return "SMB 2.1";
    case 0x0222:
      return "SMB 2.2.2";
    case 0x0224:
      return "SMB 2.2.4";
    case 0x0300:
      return "SMB 3.0";
    case 0x0302:
      return "SMB 3.0.2";
    case 0x0310:
      return "SMB 3.1.0";
    case 0x0311:
      return "SMB 3.1.1";
    case 0x02ff:
      return "SMB 2.???";
    default:
      break;
  }
  return hex16(dialect);
}

}  // namespace trawl::analyzers::smb

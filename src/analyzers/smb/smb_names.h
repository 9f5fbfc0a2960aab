// Names for SMB1/SMB2 command codes, NT status codes, SMB2 dialects,
// transaction subcommands and FSCTL codes, as Zeek's SMB scripts spell them
// (command and status names without the STATUS_ prefix). Empty when unknown.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace trawl::analyzers::smb {

std::string_view smb1_command_name(uint8_t command);
std::string_view smb2_command_name(uint16_t command);
// NT status "SUCCESS", "LOGON_FAILURE", ... for the common codes.
std::string_view nt_status_name(uint32_t status);
// "0xc000006d".
std::string hex32(uint32_t v);
std::string hex16(uint16_t v);
// SMB1 TRANSACTION setup[0] on a named pipe: "TRANSACT_NMPIPE", "PEEK_NMPIPE" ...
std::string_view trans_subcommand_name(uint16_t sub);
std::string_view trans2_subcommand_name(uint16_t sub);
std::string_view nt_transact_subcommand_name(uint16_t sub);
// SMB2 IOCTL control codes: "FSCTL_PIPE_TRANSCEIVE", ...
std::string_view fsctl_name(uint32_t code);
// SMB2 dialect revision: "SMB 2.0.2", "SMB 3.1.1", "SMB 2.???"; unknown: "0x%04x".
std::string smb2_dialect_name(uint16_t dialect);

// Outcome classes of a SESSION_SETUP status (NT status severity bits).
inline bool nt_status_is_error(uint32_t status) { return (status >> 30) == 3; }

}  // namespace trawl::analyzers::smb

#include "analyzers/smb/smb_record.h"

#include "analyzers/smb/dcerpc.h"
#include "analyzers/smb/smb_names.h"
#include "output/json_line.h"

namespace trawl::analyzers::smb {

std::string_view smb_version_name(SmbVersion v) { return v == SmbVersion::kSmb2 ? "SMB2" : "SMB1"; }

std::string_view share_type_name(uint8_t t) {
  switch (t) {
    case smb2::kShareDisk: return "DISK";
    case smb2::kSharePipe: return "PIPE";
    case smb2::kSharePrint: return "PRINT";
    default: break;
  }
  return "";
}

std::string normalized_pipe_name(std::string_view name) {
  while (!name.empty() && (name.front() == '\\' || name.front() == '/')) name.remove_prefix(1);
  std::string s;
  s.reserve(name.size());
  for (char c : name) s.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  if (s.rfind("pipe\\", 0) == 0 || s.rfind("pipe/", 0) == 0) s.erase(0, 5);
  return s;
}

void SmbRecord::set_conn(const ConnInfo& c) {
  uid = c.uid;
  orig_h = c.orig_h;
  orig_p = c.orig_p;
  resp_h = c.resp_h;
  resp_p = c.resp_p;
}

void SmbRecord::write_json(std::string& out) const {
  output::JsonLine j(out, output::JsonLine::Flush::kAtEnd);
  j.ts("ts", ts)
      .str("uid", uid)
      .ip("id.orig_h", orig_h)
      .u64("id.orig_p", orig_p)
      .ip("id.resp_h", resp_h)
      .u64("id.resp_p", resp_p)
      .str("version", smb_version_name(version))
      .str("command", command_name);
  if (has_sub_command) {
    std::string_view n;
    if (action == SmbAction::kTransaction) n = trans_subcommand_name(static_cast<uint16_t>(sub_command));
    if (action == SmbAction::kTransaction2) n = trans2_subcommand_name(static_cast<uint16_t>(sub_command));
    if (action == SmbAction::kNtTransact) n = nt_transact_subcommand_name(static_cast<uint16_t>(sub_command));
    if (action == SmbAction::kIoctl) n = fsctl_name(sub_command);
    if (!n.empty()) {
      j.str("sub_command", n);
    } else {
      j.str("sub_command", action == SmbAction::kIoctl ? hex32(sub_command) : hex16(static_cast<uint16_t>(sub_command)));
    }
  }
  if (answered && action != SmbAction::kDceRpcBind && action != SmbAction::kDceRpcRequest) {
    const std::string code = hex32(status);
    const std::string_view n = dos_error ? std::string_view{} : nt_status_name(status);
    j.str("status", n.empty() ? std::string_view(code) : n);
    j.str("status_code", code);
    if (dos_error) j.boolean("dos_error", true);
  }
  if (rtt_ns >= 0) j.micros("rtt", rtt_ns);
  if (has_message_id) j.u64("message_id", message_id);
  if (unmatched_response) j.boolean("unmatched_response", true);
  if (has_pid_high) j.u64("pid_high", pid_high);
  if (!dialects.empty()) j.str_list("dialects", dialects);
  if (!dialect.empty()) j.str("dialect", dialect);
  if (!auth_mech.empty()) j.str("auth_mech", auth_mech);
  if (has_user) j.str("username", username);
  if (!domainname.empty()) j.str("domainname", domainname);
  if (!hostname.empty()) j.str("hostname", hostname);
  if (guest) j.boolean("guest", true);
  if (!tree.empty()) j.str("tree", tree);
  if (!tree_service.empty()) j.str("tree_service", tree_service);
  if (!share_type_name(share_type).empty()) j.str("share_type", share_type_name(share_type));
  if (!name.empty()) j.str("name", name);
  if (has_is_pipe) j.boolean("is_pipe", is_pipe);
  if (has_fid) j.u64("fid", fid);
  if (has_data_len) j.u64("data_len", data_len);
  if (!named_pipe.empty()) j.str("named_pipe", named_pipe);
  if (!endpoint.empty()) j.str("endpoint", endpoint);
  if (!operation.empty()) j.str("operation", operation);
  if (!uuid.empty()) {
    j.str("uuid", uuid);
    j.str("uuid_version", std::to_string(uuid_ver_major) + "." + std::to_string(uuid_ver_minor));
  }
  if (has_bind_result) {
    const std::string_view r = bind_nak ? std::string_view("nak") : dce_result_name(bind_result);
    j.str("bind_result", r.empty() ? std::string_view(std::to_string(bind_result)) : r);
    if (bind_result != 0 || bind_nak) j.u64("bind_reason", bind_reason);
  }
  if (has_opnum) j.u64("opnum", opnum);
  if (action == SmbAction::kDceRpcRequest) j.u64("stub_len", stub_len);
  if (path_traversal_checked) j.boolean("path_traversal", path_traversal);
  if (fault) j.str("fault", hex32(fault_status));
  j.end();
}

}  // namespace trawl::analyzers::smb

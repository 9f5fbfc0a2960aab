#include "analyzers/smb/smb_analyzer.h"

#include <algorithm>
#include <utility>

#include "analyzers/smb/smb_names.h"
#include "analyzers/smb/utf16.h"

namespace trawl::analyzers::smb {

namespace {

using core::ByteView;

constexpr uint64_t kSmb1KeyBit = uint64_t{1} << 63;
constexpr uint64_t kAllOnes = ~uint64_t{0};
constexpr uint64_t kOplockBreakId = ~uint64_t{0};

bool is_smb_magic(ByteView v, size_t at) {
  return v.size() >= at + 4 && (v[at] == 0xff || v[at] == 0xfe || v[at] == 0xfd || v[at] == 0xfc) &&
         v[at + 1] == 'S' && v[at + 2] == 'M' && v[at + 3] == 'B';
}

SmbAction action_of(SmbVersion v, uint16_t cmd) {
  if (v == SmbVersion::kSmb2) {
    switch (cmd) {
      case smb2::kNegotiate: return SmbAction::kNegotiate;
      case smb2::kSessionSetup: return SmbAction::kSessionSetup;
      case smb2::kLogoff: return SmbAction::kLogoff;
      case smb2::kTreeConnect: return SmbAction::kTreeConnect;
      case smb2::kTreeDisconnect: return SmbAction::kTreeDisconnect;
      case smb2::kCreate: return SmbAction::kCreate;
      case smb2::kClose: return SmbAction::kClose;
      case smb2::kRead: return SmbAction::kRead;
      case smb2::kWrite: return SmbAction::kWrite;
      case smb2::kIoctl: return SmbAction::kIoctl;
      default: return SmbAction::kOther;
    }
  }
  switch (static_cast<uint8_t>(cmd)) {
    case smb1::kNegotiate: return SmbAction::kNegotiate;
    case smb1::kSessionSetupAndx: return SmbAction::kSessionSetup;
    case smb1::kLogoffAndx: return SmbAction::kLogoff;
    case smb1::kTreeConnectAndx:
    case 0x70:  // TREE_CONNECT (core protocol)
      return SmbAction::kTreeConnect;
    case smb1::kTreeDisconnect: return SmbAction::kTreeDisconnect;
    case smb1::kNtCreateAndx:
    case smb1::kOpenAndx:
      return SmbAction::kCreate;
    case smb1::kClose: return SmbAction::kClose;
    case smb1::kReadAndx: return SmbAction::kRead;
    case smb1::kWriteAndx: return SmbAction::kWrite;
    case smb1::kTransaction: return SmbAction::kTransaction;
    case smb1::kTransaction2: return SmbAction::kTransaction2;
    case smb1::kNtTransact: return SmbAction::kNtTransact;
    default: return SmbAction::kOther;
  }
}

// Commands that only move or describe file data: never logged (READ, WRITE
// and CLOSE are logged on pipes; see start()).
bool is_chatter(SmbVersion v, uint16_t cmd) {
  if (v == SmbVersion::kSmb2) {
    switch (cmd) {
      case smb2::kFlush:
      case smb2::kLock:
      case smb2::kCancel:
      case smb2::kEcho:
      case smb2::kQueryDirectory:
      case smb2::kChangeNotify:
      case smb2::kQueryInfo:
      case smb2::kSetInfo:
      case smb2::kOplockBreak:
        return true;
      default:
        return false;
    }
  }
  switch (static_cast<uint8_t>(cmd)) {
    case 0x05:  // FLUSH
    case 0x0a:  // READ
    case 0x0b:  // WRITE
    case 0x12:  // SEEK
    case 0x13:  // LOCK_AND_READ
    case 0x14:  // WRITE_AND_UNLOCK
    case 0x1a:  // READ_RAW
    case 0x1d:  // WRITE_RAW
    case 0x22:  // SET_INFORMATION2
    case 0x23:  // QUERY_INFORMATION2
    case 0x24:  // LOCKING_ANDX
    case 0x2b:  // ECHO
    case 0x2c:  // WRITE_AND_CLOSE
    case 0x34:  // FIND_CLOSE2
    case 0xa4:  // NT_CANCEL
      return true;
    default:
      return false;
  }
}

uint8_t share_type_of_service(std::string_view service) {
  if (service == "IPC") return smb2::kSharePipe;
  if (service == "A:") return smb2::kShareDisk;
  if (service == "LPT1:") return smb2::kSharePrint;
  return 0;
}

bool ends_with_ipc(std::string_view path) {
  if (path.size() < 4) return false;
  std::string_view tail = path.substr(path.size() - 4);
  return (tail[0] == 'I' || tail[0] == 'i') && (tail[1] == 'P' || tail[1] == 'p') &&
         (tail[2] == 'C' || tail[2] == 'c') && tail[3] == '$';
}

std::string status_reply(uint32_t status, bool dos_error) {
  const std::string_view n = dos_error ? std::string_view{} : nt_status_name(status);
  return n.empty() ? hex32(status) : std::string(n);
}

}  // namespace

// ---- probe -------------------------------------------------------------------

namespace {

// 1: SMB, 0: cannot tell yet, -1: not SMB.
int probe_side(ByteView v, bool done) {
  // NBSS keep-alives may come first.
  size_t at = 0;
  for (int i = 0; i < 4 && v.size() >= at + 4 && v[at] == kNbssKeepAlive; ++i) at += 4;
  v = v.subspan(at);
  if (v.empty()) return done ? -1 : 0;
  if (v[0] == kNbssMessage) {
    if (v.size() < 8) return done ? -1 : 0;
    const uint32_t len = (uint32_t{v[1]} << 16) | core::load_be16(v.data() + 2);
    return is_smb_magic(v, 4) && len >= 4 ? 1 : -1;
  }
  if (v[0] == kNbssRequest) {
    // Called and calling names, first-level encoded: 0x20, 32 letters 'A'..'P'.
    NbssHeader h;
    if (v.size() < 4) return done ? -1 : 0;
    if (!parse_nbss_header(v.first(4), h) || h.length < 68 || h.length > 512) return -1;
    const size_t check = std::min<size_t>(v.size() - 4, 33);
    if (check >= 1 && v[4] != 0x20) return -1;
    for (size_t i = 1; i < check; ++i) {
      if (v[4 + i] < 'A' || v[4 + i] > 'P') return -1;
    }
    if (check < 33) return done ? -1 : 0;
    return 1;
  }
  if (v[0] == kNbssPositive || v[0] == kNbssNegative) {
    NbssHeader h;
    if (v.size() < 4) return done ? -1 : 0;
    if (!parse_nbss_header(v.first(4), h) || h.length > 5) return -1;
    if (v.size() < 4 + h.length + 8) return done ? -1 : 0;
    return probe_side(v.subspan(4 + h.length), done);
  }
  return -1;
}

}  // namespace

Probe probe_smb(const ProbeInput& in) {
  const int o = probe_side(in.orig, in.orig_done);
  const int r = probe_side(in.resp, in.resp_done);
  if (o == 1 || r == 1) return Probe::kYes;
  if (o == -1 && (r == -1 || in.resp.empty())) return Probe::kNo;
  if (r == -1 && in.orig.empty()) return Probe::kNo;
  return Probe::kMaybe;
}

// ---- analyzer ------------------------------------------------------------------

SmbAnalyzer::SmbAnalyzer(Context& ctx, const SmbAnalyzerLimits& limits) : ctx_(ctx), limits_(limits) {}

SmbAnalyzer::~SmbAnalyzer() = default;

uint64_t SmbAnalyzer::pending_key(const SmbCommand& c) {
  if (c.version == SmbVersion::kSmb2) return c.message_id & ~kSmb1KeyBit;
  return kSmb1KeyBit | (uint64_t{c.pid} << 16) | (c.message_id & 0xffff);
}

SmbAnalyzer::FileKey SmbAnalyzer::file_key(const SmbCommand& c) {
  return FileKey{static_cast<uint8_t>(c.version), c.file.persistent, c.file.volatile_id};
}

void SmbAnalyzer::data(bool is_orig, ByteView bytes, core::Timestamp ts) {
  if (done_) return;
  feed(is_orig, bytes, ts);
}

void SmbAnalyzer::gap(bool is_orig, uint64_t bytes, core::Timestamp ts) {
  (void)ts;
  if (done_) return;
  Dir& d = dir_[is_orig ? 0 : 1];
  if (d.skip >= bytes && !d.have_header) {
    d.skip -= bytes;  // the hole lies inside data we were dropping anyway
    return;
  }
  d.buf.clear();
  d.have_header = false;
  d.skip = 0;
  d.resync = true;
  d.resync_scanned = 0;
  for (auto& [key, f] : files_) {
    if (f.dce) f.dce->lose(is_orig);
  }
}

bool SmbAnalyzer::resync(Dir& d, ByteView& in) {
  // A message start: a session message header whose body begins with an SMB
  // protocol id. A start split over two data() calls is missed (the next
  // one is found).
  for (size_t p = 0; p + 8 <= in.size(); ++p) {
    if (in[p] == kNbssMessage && is_smb_magic(in, p + 4)) {
      in = in.subspan(p);
      d.resync = false;
      return true;
    }
  }
  d.resync_scanned += in.size();
  in = {};
  if (d.resync_scanned > limits_.resync_window) {
    ctx_.anomalies().add(kAnomResyncFailed);
    done_ = true;
    ctx_.give_up();
  }
  return false;
}

bool SmbAnalyzer::is_bulk(bool is_orig, ByteView head) const {
  (void)is_orig;
  if (head.size() < 40 || head[1] != 'S' || head[2] != 'M' || head[3] != 'B') return false;
  auto file_is_data = [&](const FileKey& k) {
    auto it = files_.find(k);
    return it == files_.end() || !it->second.is_pipe;
  };
  auto pending_file_is_data = [&](uint64_t key) {
    auto it = pending_.find(key);
    if (it == pending_.end() || it->second.cmds.empty()) return true;
    const PendingCmd& p = it->second.cmds.front();
    return !p.has_file || file_is_data(p.file);
  };
  if (head[0] == 0xfe) {
    if (head.size() < 64 + 32 || core::load_le32(head.data() + 20) != 0) return false;
    const bool resp = (core::load_le32(head.data() + 16) & smb2::kFlagResponse) != 0;
    const uint16_t cmd = core::load_le16(head.data() + 12);
    if (is_chatter(SmbVersion::kSmb2, cmd)) return true;  // directory listings, file info: the header will do
    if (!resp && cmd == smb2::kWrite) {
      return file_is_data(FileKey{2, core::load_le64(head.data() + 80), core::load_le64(head.data() + 88)});
    }
    if (resp && cmd == smb2::kRead) return pending_file_is_data(core::load_le64(head.data() + 24) & ~kSmb1KeyBit);
    return false;
  }
  if (head[0] == 0xff) {
    const uint8_t cmd = head[4];
    const bool resp = (head[9] & 0x80) != 0;
    // Only the words of these are used (LOCKING_ANDX may chain a command that matters).
    if ((is_chatter(SmbVersion::kSmb1, cmd) && cmd != 0x24) || cmd == smb1::kTransaction2 ||
        cmd == smb1::kTransaction2Secondary || cmd == smb1::kNtTransact || cmd == smb1::kNtTransactSecondary) {
      return true;
    }
    if (!resp && cmd == smb1::kWriteAndx) {
      if (head[33] != 0xff) return false;  // more commands follow in the chain
      return file_is_data(FileKey{1, core::load_le16(head.data() + 37), 0});
    }
    if (resp && cmd == smb1::kReadAndx) {
      const uint32_t pid = (uint32_t{core::load_le16(head.data() + 12)} << 16) | core::load_le16(head.data() + 26);
      return pending_file_is_data(kSmb1KeyBit | (uint64_t{pid} << 16) | core::load_le16(head.data() + 30));
    }
  }
  return false;
}

void SmbAnalyzer::feed(bool is_orig, ByteView in, core::Timestamp ts) {
  Dir& d = dir_[is_orig ? 0 : 1];
  while (!in.empty() && !done_) {
    if (d.skip != 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(d.skip, in.size()));
      d.skip -= n;
      in = in.subspan(n);
      continue;
    }
    if (d.resync) {
      if (!resync(d, in)) return;
      continue;
    }
    if (!d.have_header) {
      ByteView hdr;
      if (d.buf.empty() && in.size() >= 4) {
        hdr = in.first(4);
        in = in.subspan(4);
      } else {
        const size_t take = std::min(in.size(), 4 - d.buf.size());
        d.buf.append(core::as_chars(in.first(take)));
        in = in.subspan(take);
        if (d.buf.size() < 4) return;
        hdr = {reinterpret_cast<const uint8_t*>(d.buf.data()), 4};
      }
      NbssHeader h;
      const bool ok = parse_nbss_header(hdr, h);
      d.buf.clear();
      if (!ok) {
        ctx_.anomalies().add(kAnomBadNbss);
        d.resync = true;
        d.resync_scanned = 0;
        continue;
      }
      if (h.type != kNbssMessage) {
        d.skip = h.length;  // session request / response, keep-alive: nothing to log
        continue;
      }
      if (h.length == 0) continue;
      d.have_header = true;
      d.decided = false;
      d.msg_len = h.length;
      d.keep = std::min<size_t>(h.length, limits_.max_message);
      continue;
    }
    size_t target = d.decided ? d.keep : std::min(d.keep, limits_.head_bytes);
    if (d.buf.empty() && in.size() >= target) {
      if (!d.decided) {
        d.decided = true;
        if (d.keep > target && is_bulk(is_orig, in.first(target))) d.keep = target;
        target = d.keep;
      }
      if (in.size() >= target) {
        if (d.keep < d.msg_len && d.keep != std::min(d.keep, limits_.head_bytes)) {
          ctx_.anomalies().add(kAnomOversize);
        }
        d.have_header = false;
        d.skip = d.msg_len - d.keep;
        message(is_orig, in.first(d.keep), d.keep < d.msg_len, ts);
        in = in.subspan(target);
        continue;
      }
    }
    const size_t take = std::min(in.size(), target - d.buf.size());
    d.buf.append(core::as_chars(in.first(take)));
    in = in.subspan(take);
    if (d.buf.size() < target) return;
    if (!d.decided) {
      d.decided = true;
      if (d.keep > target && is_bulk(is_orig, {reinterpret_cast<const uint8_t*>(d.buf.data()), d.buf.size()})) {
        d.keep = target;
      }
      if (d.buf.size() < d.keep) continue;
    }
    if (d.keep < d.msg_len && d.keep > limits_.head_bytes) ctx_.anomalies().add(kAnomOversize);
    std::string msg;
    msg.swap(d.buf);
    d.have_header = false;
    d.skip = d.msg_len - d.keep;
    message(is_orig, {reinterpret_cast<const uint8_t*>(msg.data()), msg.size()}, d.keep < d.msg_len, ts);
    if (d.buf.empty()) {
      msg.clear();
      d.buf.swap(msg);  // keep the capacity
    }
  }
}

void SmbAnalyzer::message(bool is_orig, ByteView msg, bool truncated, core::Timestamp ts) {
  (void)is_orig;
  if (++messages_ > limits_.max_messages) {
    ctx_.anomalies().add(kAnomTooManyMessages);
    done_ = true;
    ctx_.give_up();
    return;
  }
  cmds_.clear();
  bool ok = false;
  if (msg.size() >= 4 && msg[1] == 'S' && msg[2] == 'M' && msg[3] == 'B') {
    if (msg[0] == 0xfd || msg[0] == 0xfc) {
      // SMB3 encryption or compression: nothing more can be read.
      done_ = true;
      ctx_.give_up();
      return;
    }
    if (msg[0] == 0xff) ok = parse_smb1(msg, truncated, cmds_, ctx_.anomalies(), limits_.parser);
    if (msg[0] == 0xfe) ok = parse_smb2(msg, truncated, cmds_, ctx_.anomalies(), limits_.parser);
  }
  if (!ok) {
    ctx_.anomalies().add(kAnomBadMessage);
    if (++bad_messages_ > limits_.max_bad_messages) {
      done_ = true;
      ctx_.give_up();
    }
    return;
  }
  if (cmds_.empty()) return;
  if (cmds_.front().response) {
    responses(ts);
  } else {
    requests(ts);
  }
}

std::unique_ptr<SmbRecord> SmbAnalyzer::new_record(const SmbCommand& c, SmbAction action, core::Timestamp ts) {
  auto r = std::make_unique<SmbRecord>();
  r->set_conn(ctx_.conn());
  r->ts = ts;
  r->version = c.version;
  r->action = action;
  r->command = c.command;
  const std::string_view n = c.version == SmbVersion::kSmb2 ? smb2_command_name(c.command)
                                                            : smb1_command_name(static_cast<uint8_t>(c.command));
  r->command_name = n.empty() ? hex16(c.command) : std::string(n);
  r->has_message_id = true;
  r->message_id = c.message_id;
  if (const TreeState* t = tree(c.tree_id)) r->tree = t->path;
  // Later commands of a logged-in session carry its user, as in Zeek's smb_cmd.log.
  if (auto it = sessions_.find(c.session_id); it != sessions_.end() && !it->second.user.empty()) {
    r->has_user = true;
    r->username = it->second.user;
    r->domainname = it->second.domain;
  }
  return r;
}

const SmbAnalyzer::TreeState* SmbAnalyzer::tree(uint32_t id) const {
  auto it = trees_.find(id);
  return it == trees_.end() ? nullptr : &it->second;
}

SmbAnalyzer::FileState* SmbAnalyzer::file(const FileKey& k) {
  auto it = files_.find(k);
  return it == files_.end() ? nullptr : &it->second;
}

SmbAnalyzer::FileState* SmbAnalyzer::pipe_for(const FileKey& k, SmbVersion v) {
  if (FileState* f = file(k)) {
    f->is_pipe = true;
    return f;
  }
  if (files_.size() >= limits_.max_files) {
    ctx_.anomalies().add(kAnomTooManyFiles);
    return nullptr;
  }
  FileState& f = files_[k];
  f.is_pipe = true;
  f.version = v;
  return &f;
}

DcePipe* SmbAnalyzer::dce_of(FileState& f) {
  if (!f.dce) {
    if (pipes_with_dce_ >= limits_.max_pipes) {
      ctx_.anomalies().add(kAnomTooManyPipes);
      return nullptr;
    }
    f.dce = std::make_unique<DcePipe>();
    ++pipes_with_dce_;
  }
  return f.dce.get();
}

void SmbAnalyzer::pipe_data(const FileKey& k, bool to_server, const SmbCommand& c, core::Timestamp ts) {
  FileState* f = file(k);
  if (!f || !f->is_pipe || c.data.empty()) return;
  DcePipe* d = dce_of(*f);
  if (!d || d->broken()) return;
  current_pipe_ = f;
  d->feed(to_server, c.data, ts, *this, ctx_.anomalies());
  if (!d->broken() && (c.truncated || c.data.size() < c.data_len)) {
    ctx_.anomalies().add(kAnomPipeDataCut);
    d->lose(to_server);
  }
  current_pipe_ = nullptr;
}

void SmbAnalyzer::close_file(const FileKey& k) {
  auto it = files_.find(k);
  if (it == files_.end()) return;
  if (it->second.dce) {
    current_pipe_ = &it->second;
    it->second.dce->flush(*this);
    current_pipe_ = nullptr;
    --pipes_with_dce_;
  }
  files_.erase(it);
}

void SmbAnalyzer::emit(std::unique_ptr<Record> r) {
  if (records_ >= limits_.max_records) {
    if (records_ == limits_.max_records) {
      ctx_.anomalies().add(kAnomTooManyRecords);
      ++records_;
    }
    if (!done_) {
      done_ = true;
      ctx_.give_up();
    }
    return;
  }
  ++records_;
  ctx_.emit(std::move(r));
}

// ---- requests ------------------------------------------------------------------

void SmbAnalyzer::session_setup_request(const SmbCommand& c, PendingCmd& p) {
  SmbRecord& rec = *p.rec;
  const bool reveal = ctx_.config().reveal_credentials;
  auto auth = std::make_unique<AuthRecord>();
  auth->set_conn(ctx_.conn());
  auth->ts = p.ts;
  auth->proto = "smb";
  if (c.version == SmbVersion::kSmb1 && c.plain_session_setup) {
    rec.auth_mech = "plain";
    rec.has_user = true;
    rec.username = c.account;
    rec.domainname = c.primary_domain;
    const size_t oem = c.oem_password.size();
    const size_t uni = c.unicode_password.size();
    if (oem <= 1 && uni == 0 && (oem == 0 || c.oem_password[0] == 0)) {
      auth->method = c.account.empty() ? "ntlm-anonymous" : "ntlm-no-response";
    } else if (smb1_plaintext_) {
      auth->method = "plaintext";
      if (reveal) {
        if (uni != 0) {
          utf16le_to_utf8(c.unicode_password, auth->password, 256);
        } else {
          oem_string(c.oem_password, auth->password, 256);
        }
        auth->has_password = true;
      }
    } else {
      auth->method = uni > 24 ? "ntlmv2" : uni == 24 ? "ntlmv1" : "lm";
      if (reveal && have_challenge_) {
        NtlmMessage m;
        m.user = c.account;
        m.domain = c.primary_domain;
        m.lm_response = c.oem_password;
        m.nt_response = c.unicode_password;
        auth->password = ntlm_crack_format(m, challenge_);
        auth->has_password = !auth->password.empty();
      }
    }
    auth->user = c.account;
    auth->domain = c.primary_domain;
    p.auth = std::move(auth);
    return;
  }
  const SecurityToken t = find_security_token(c.security_blob, ctx_.anomalies());
  rec.auth_mech = gss_mech_name(t.mech);
  if (t.mech != GssMech::kNtlm || t.ntlm.empty()) return;
  if (!parse_ntlm(t.ntlm, ntlm_, ctx_.anomalies()) || ntlm_.type != NtlmType::kAuthenticate) return;
  rec.has_user = true;
  rec.username = ntlm_.user;
  rec.domainname = ntlm_.domain;
  rec.hostname = ntlm_.workstation;
  auth->method = ntlm_auth_method(ntlm_);
  auth->user = ntlm_.user;
  auth->domain = ntlm_.domain;
  if (reveal && have_challenge_) {
    auth->password = ntlm_crack_format(ntlm_, challenge_);
    auth->has_password = !auth->password.empty();
  }
  p.auth = std::move(auth);
}

bool SmbAnalyzer::start(const SmbCommand& c, core::Timestamp ts, PendingCmd& p) {
  p.version = c.version;
  p.command = c.command;
  p.ts = ts;
  p.tree_id = c.tree_id;
  p.action = action_of(c.version, c.command);
  const bool v1 = c.version == SmbVersion::kSmb1;
  if (c.has_file) {
    p.has_file = true;
    p.file = file_key(c);
    p.related_file = !v1 && c.file.persistent == kAllOnes && c.file.volatile_id == kAllOnes;
  }
  if ((v1 && c.command == 0xa4) || (!v1 && c.command == smb2::kCancel)) return false;  // no response comes
  if (is_chatter(c.version, c.command)) return true;

  FileState* f = p.has_file && !p.related_file ? file(p.file) : nullptr;
  auto name_file = [&](SmbRecord& r) {
    if (f) r.name = f->name;
    if (c.has_file && v1) {
      r.has_fid = true;
      r.fid = static_cast<uint16_t>(c.file.persistent);
    }
  };

  switch (p.action) {
    case SmbAction::kNegotiate:
      p.rec = new_record(c, p.action, ts);
      if (v1) {
        p.rec->has_pid_high = true;
        p.rec->pid_high = c.pid_high;
        p.rec->dialects = c.dialects;
      } else {
        p.rec->dialect_codes = c.dialect_codes;
        for (uint16_t d : c.dialect_codes) p.rec->dialects.push_back(smb2_dialect_name(d));
      }
      break;
    case SmbAction::kSessionSetup:
      p.rec = new_record(c, p.action, ts);
      session_setup_request(c, p);
      break;
    case SmbAction::kTreeConnect:
      p.rec = new_record(c, p.action, ts);
      p.rec->tree = c.path;
      p.path = c.path;
      p.service = c.service;
      break;
    case SmbAction::kCreate:
      p.rec = new_record(c, p.action, ts);
      p.rec->name = c.name;
      p.path = c.name;
      break;
    case SmbAction::kClose:
    case SmbAction::kRead:
      if (f && f->is_pipe) {
        p.rec = new_record(c, p.action, ts);
        name_file(*p.rec);
        p.pipe_in = p.action == SmbAction::kRead;
      }
      break;
    case SmbAction::kWrite:
      if (f && f->is_pipe) {
        p.rec = new_record(c, p.action, ts);
        name_file(*p.rec);
        p.rec->has_data_len = true;
        p.rec->data_len = c.data_len;
        pipe_data(p.file, true, c, ts);
      }
      break;
    case SmbAction::kTransaction: {
      p.rec = new_record(c, p.action, ts);
      p.rec->has_sub_command = c.has_subcommand;
      p.rec->sub_command = c.subcommand;
      constexpr uint32_t kTransactNmPipe = 0x26;
      constexpr uint32_t kReadNmPipe = 0x36;
      constexpr uint32_t kWriteNmPipe = 0x37;
      if (c.has_file && c.has_subcommand &&
          (c.subcommand == kTransactNmPipe || c.subcommand == kReadNmPipe || c.subcommand == kWriteNmPipe)) {
        f = pipe_for(p.file, c.version);
        if (f) {
          p.rec->has_is_pipe = true;
          p.rec->is_pipe = true;
          if (c.subcommand != kReadNmPipe) pipe_data(p.file, true, c, ts);
          p.pipe_in = c.subcommand != kWriteNmPipe;
        }
      }
      name_file(*p.rec);
      if (p.rec->name.empty()) p.rec->name = c.trans_name;
      if (!c.data.empty() || c.data_len != 0) {
        p.rec->has_data_len = true;
        p.rec->data_len = c.data_len;
      }
      break;
    }
    case SmbAction::kTransaction2:
    case SmbAction::kNtTransact:
      p.rec = new_record(c, p.action, ts);
      p.rec->has_sub_command = c.has_subcommand;
      p.rec->sub_command = c.subcommand;
      name_file(*p.rec);
      break;
    case SmbAction::kIoctl:
      p.rec = new_record(c, p.action, ts);
      p.rec->has_sub_command = true;
      p.rec->sub_command = c.subcommand;
      if (c.subcommand == smb2::kFsctlPipeTransceive && c.has_file && !p.related_file) {
        f = pipe_for(p.file, c.version);
        if (f) {
          pipe_data(p.file, true, c, ts);
          p.pipe_in = true;
        }
      }
      if (f) p.rec->name = f->name;
      break;
    default:
      p.rec = new_record(c, p.action, ts);
      name_file(*p.rec);
      break;
  }
  return true;
}

void SmbAnalyzer::requests(core::Timestamp ts) {
  auto insert = [&](uint64_t key, PendingMsg m) {
    auto it = pending_.find(key);
    if (it != pending_.end()) {
      ctx_.anomalies().add(kAnomDuplicateId);
      emit_pending(it->second);
      pending_.erase(it);
    }
    if (pending_.size() >= limits_.max_pending) {
      ctx_.anomalies().add(kAnomTooManyPending);
      evict_oldest();
    }
    m.seq = next_seq_++;
    pending_.emplace(key, std::move(m));
  };

  if (cmds_.front().version == SmbVersion::kSmb1) {
    const uint64_t key = pending_key(cmds_.front());
    PendingMsg m;
    for (const SmbCommand& c : cmds_) {
      const uint8_t cmd = static_cast<uint8_t>(c.command);
      if (cmd == smb1::kTransactionSecondary || cmd == smb1::kTransaction2Secondary ||
          cmd == smb1::kNtTransactSecondary) {
        // More data of a transaction already pending under the same MID.
        auto it = pending_.find(key);
        if (it != pending_.end() && !it->second.cmds.empty()) {
          PendingCmd& prim = it->second.cmds.front();
          if (prim.has_file && cmd == smb1::kTransactionSecondary) pipe_data(prim.file, true, c, ts);
        }
        continue;
      }
      PendingCmd p;
      if (start(c, ts, p)) m.cmds.push_back(std::move(p));
      if (done_) return;
    }
    if (!m.cmds.empty()) insert(key, std::move(m));
    return;
  }
  for (const SmbCommand& c : cmds_) {
    PendingCmd p;
    if (!start(c, ts, p)) continue;
    if (done_) return;
    PendingMsg m;
    m.cmds.push_back(std::move(p));
    insert(pending_key(c), std::move(m));
  }
}

// ---- responses -----------------------------------------------------------------

void SmbAnalyzer::session_setup_response(const SmbCommand& r, PendingCmd& p) {
  SmbRecord* rec = p.rec.get();
  const bool ok = r.status == kStatusSuccess;
  if (rec && ok) rec->guest = (r.session_flags & 1) != 0;
  if (!r.error_body) {
    const SecurityToken t = find_security_token(r.security_blob, ctx_.anomalies());
    NtlmMessage m;
    if (t.mech == GssMech::kNtlm && !t.ntlm.empty() && parse_ntlm(t.ntlm, m, ctx_.anomalies()) &&
        m.type == NtlmType::kChallenge) {
      have_challenge_ = true;
      challenge_ = m.server_challenge;
    }
  }
  if (p.auth) {
    AuthRecord& a = *p.auth;
    a.outcome = ok ? AuthOutcome::kSuccess : nt_status_is_error(r.status) ? AuthOutcome::kFailure : AuthOutcome::kUnknown;
    a.reply = status_reply(r.status, r.dos_error);
    if (ok && rec && rec->guest) a.reply += " (guest)";
  }
  if (ok && rec && rec->has_user) {
    if (sessions_.size() < limits_.max_sessions || sessions_.count(r.session_id)) {
      sessions_[r.session_id] = SessionState{rec->username, rec->domainname};
    } else {
      ctx_.anomalies().add(kAnomTooManySessions);
    }
  }
}

void SmbAnalyzer::complete(PendingCmd& p, const SmbCommand* r, core::Timestamp ts) {
  SmbRecord* rec = p.rec.get();
  if (r) {
    if (rec) {
      rec->answered = true;
      rec->status = r->status;
      rec->dos_error = r->dos_error;
      rec->rtt_ns = ts - p.ts;
    }
    const bool ok = !nt_status_is_error(r->status) && !r->dos_error && !r->error_body;
    switch (p.action) {
      case SmbAction::kNegotiate:
        if (rec && !r->error_body) {
          if (r->version == SmbVersion::kSmb2) {
            rec->dialect = smb2_dialect_name(r->dialect);
          } else if (r->dialect < rec->dialects.size()) {
            rec->dialect = rec->dialects[r->dialect];
          }
          if (r->version == SmbVersion::kSmb1) {
            smb1_plaintext_ = (r->security_mode & 0x02) == 0 && !(r->capabilities & kSmb1CapExtendedSecurity) &&
                              r->challenge.empty();
            if (r->challenge.size() == 8) {
              have_challenge_ = true;
              std::copy_n(r->challenge.begin(), 8, challenge_.begin());
            }
          }
        }
        break;
      case SmbAction::kSessionSetup:
        session_setup_response(*r, p);
        break;
      case SmbAction::kTreeConnect:
        if (ok) {
          TreeState t{p.path, r->service, r->share_type};
          if (r->version == SmbVersion::kSmb1) {
            t.share_type = share_type_of_service(r->service);
            if (t.share_type == 0 && ends_with_ipc(p.path)) t.share_type = smb2::kSharePipe;
          }
          if (rec) {
            rec->tree_service = t.service;
            rec->share_type = t.share_type;
          }
          if (trees_.size() < limits_.max_trees || trees_.count(r->tree_id)) {
            trees_[r->tree_id] = std::move(t);
          } else {
            ctx_.anomalies().add(kAnomTooManyTrees);
          }
        }
        break;
      case SmbAction::kCreate:
        if (ok && r->has_file) {
          const FileKey k = file_key(*r);
          const TreeState* t = tree(p.tree_id);
          bool pipe = t && t->share_type == smb2::kSharePipe;
          if (r->version == SmbVersion::kSmb1 && (r->file_type == 1 || r->file_type == 2)) pipe = true;
          if (rec) {
            rec->has_is_pipe = true;
            rec->is_pipe = pipe;
            if (r->version == SmbVersion::kSmb1) {
              rec->has_fid = true;
              rec->fid = static_cast<uint16_t>(r->file.persistent);
            }
          }
          have_last_create_ = true;
          last_create_ = k;
          FileState* f = file(k);
          if (!f) {
            if (files_.size() >= limits_.max_files) {
              ctx_.anomalies().add(kAnomTooManyFiles);
              break;
            }
            f = &files_[k];
          }
          f->name = p.path;
          f->is_pipe = pipe;
          f->tree_id = p.tree_id;
          f->version = r->version;
        }
        break;
      case SmbAction::kClose:
        if (p.related_file && have_last_create_) {
          close_file(last_create_);
        } else if (p.has_file) {
          close_file(p.file);
        }
        break;
      case SmbAction::kRead:
      case SmbAction::kTransaction:
      case SmbAction::kIoctl:
        if (p.pipe_in && !r->error_body) pipe_data(p.file, false, *r, ts);
        if (rec && p.action == SmbAction::kRead) {
          rec->has_data_len = true;
          rec->data_len = r->data_len;
        }
        break;
      case SmbAction::kTreeDisconnect:
        if (ok) trees_.erase(p.tree_id);
        break;
      case SmbAction::kLogoff:
        if (ok) sessions_.erase(r->session_id);
        break;
      default:
        break;
    }
  }
  if (p.rec) emit(std::move(p.rec));
  if (p.auth) emit(std::move(p.auth));
}

void SmbAnalyzer::unmatched(const SmbCommand& r, core::Timestamp ts) {
  const SmbAction action = action_of(r.version, r.command);
  if (is_chatter(r.version, r.command) || action == SmbAction::kRead || action == SmbAction::kWrite ||
      action == SmbAction::kClose) {
    return;  // bulk or housekeeping whose request was not seen
  }
  ctx_.anomalies().add(kAnomUnmatched);
  auto rec = new_record(r, action, ts);
  rec->unmatched_response = true;
  rec->answered = true;
  rec->status = r.status;
  rec->dos_error = r.dos_error;
  if (action == SmbAction::kNegotiate && r.version == SmbVersion::kSmb2 && !r.error_body) {
    rec->dialect = smb2_dialect_name(r.dialect);
  }
  if (action == SmbAction::kTreeConnect) {
    rec->tree_service = r.service;
    rec->share_type = r.version == SmbVersion::kSmb1 ? share_type_of_service(r.service) : r.share_type;
  }
  if (r.version == SmbVersion::kSmb1 && r.has_file) {
    rec->has_fid = true;
    rec->fid = static_cast<uint16_t>(r.file.persistent);
  }
  emit(std::move(rec));
}

void SmbAnalyzer::responses(core::Timestamp ts) {
  if (cmds_.front().version == SmbVersion::kSmb1) {
    const SmbCommand& first = cmds_.front();
    auto it = pending_.find(pending_key(first));
    if (it == pending_.end()) {
      for (const SmbCommand& c : cmds_) unmatched(c, ts);
      return;
    }
    PendingMsg& m = it->second;
    // A transaction response in several parts: keep waiting for the last.
    const uint8_t cmd = static_cast<uint8_t>(first.command);
    if ((cmd == smb1::kTransaction || cmd == smb1::kTransaction2) && !first.error_body &&
        !m.cmds.empty() && m.cmds.front().command == cmd &&
        (uint64_t{first.data_displacement} + first.data_len < first.total_data ||
         uint64_t{first.param_displacement} + first.param_count < first.total_params)) {
      PendingCmd& p = m.cmds.front();
      if (p.pipe_in && p.has_file) pipe_data(p.file, false, first, ts);
      return;
    }
    PendingMsg done = std::move(m);
    pending_.erase(it);
    size_t j = 0;
    for (PendingCmd& p : done.cmds) {
      const SmbCommand* match = nullptr;
      for (size_t k = j; k < cmds_.size(); ++k) {
        if (cmds_[k].command == p.command) {
          match = &cmds_[k];
          j = k + 1;
          break;
        }
      }
      if (match) {
        complete(p, match, ts);
      } else {
        // The chain stopped early (an error): the header status is the answer.
        SmbCommand status_only;
        status_only.version = first.version;
        status_only.command = p.command;
        status_only.response = true;
        status_only.status = first.status;
        status_only.dos_error = first.dos_error;
        status_only.session_id = first.session_id;
        status_only.tree_id = first.tree_id;
        status_only.error_body = true;
        complete(p, &status_only, ts);
      }
      if (done_) return;
    }
    return;
  }
  for (const SmbCommand& c : cmds_) {
    if (c.async && c.status == kStatusPending) continue;  // interim response
    if (c.message_id == kOplockBreakId) continue;         // server notification
    auto it = pending_.find(pending_key(c));
    if (it == pending_.end()) {
      if (c.command == smb2::kNegotiate) {
        // The SMB2 answer to an SMB1 multi-protocol negotiate.
        auto neg = std::find_if(pending_.begin(), pending_.end(), [](const auto& kv) {
          return !kv.second.cmds.empty() && kv.second.cmds.front().version == SmbVersion::kSmb1 &&
                 kv.second.cmds.front().action == SmbAction::kNegotiate;
        });
        if (neg != pending_.end()) {
          PendingMsg done = std::move(neg->second);
          pending_.erase(neg);
          complete(done.cmds.front(), &c, ts);
          continue;
        }
      }
      unmatched(c, ts);
      continue;
    }
    PendingMsg done = std::move(it->second);
    pending_.erase(it);
    for (PendingCmd& p : done.cmds) complete(p, &c, ts);
    if (done_) return;
  }
}

// ---- pending housekeeping ------------------------------------------------------

void SmbAnalyzer::emit_pending(PendingMsg& m) {
  for (PendingCmd& p : m.cmds) complete(p, nullptr, p.ts);
}

void SmbAnalyzer::evict_oldest() {
  auto oldest = pending_.begin();
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (it->second.seq < oldest->second.seq) oldest = it;
  }
  if (oldest == pending_.end()) return;
  PendingMsg m = std::move(oldest->second);
  pending_.erase(oldest);
  emit_pending(m);
}

void SmbAnalyzer::finish(core::Timestamp ts) {
  (void)ts;
  std::vector<std::pair<uint64_t, uint64_t>> order;  // (seq, key)
  order.reserve(pending_.size());
  for (const auto& [key, m] : pending_) order.emplace_back(m.seq, key);
  std::sort(order.begin(), order.end());
  for (const auto& [seq, key] : order) {
    auto it = pending_.find(key);
    if (it != pending_.end()) emit_pending(it->second);
  }
  pending_.clear();
  for (auto& [key, f] : files_) {
    if (!f.dce) continue;
    current_pipe_ = &f;
    f.dce->flush(*this);
  }
  current_pipe_ = nullptr;
}

// ---- DCE/RPC events ------------------------------------------------------------

void SmbAnalyzer::on_bind(const DceBindEvent& e) {
  if (!current_pipe_) return;
  const FileState& f = *current_pipe_;
  auto base = [&]() {
    auto r = std::make_unique<SmbRecord>();
    r->set_conn(ctx_.conn());
    r->ts = e.ts;
    r->version = f.version;
    r->action = SmbAction::kDceRpcBind;
    r->command_name = e.alter ? "DCE_RPC_ALTER_CONTEXT" : "DCE_RPC_BIND";
    r->named_pipe = f.name;
    if (const TreeState* t = tree(f.tree_id)) r->tree = t->path;
    if (e.answered) {
      r->answered = true;
      r->rtt_ns = e.ts_resp - e.ts;
      r->has_bind_result = true;
      r->bind_nak = e.nak;
      r->bind_reason = e.reject_reason;
    }
    return r;
  };
  if (e.contexts.empty()) {
    emit(base());
    return;
  }
  // One record per interface offered (the transfer syntaxes of one interface
  // come as several contexts); its result is the best of its contexts.
  for (size_t i = 0; i < e.contexts.size(); ++i) {
    const DceContext& c = e.contexts[i];
    bool seen = false;
    for (size_t k = 0; k < i; ++k) {
      seen = seen || (e.contexts[k].uuid == c.uuid && e.contexts[k].ver_major == c.ver_major &&
                      e.contexts[k].ver_minor == c.ver_minor);
    }
    if (seen) continue;
    auto r = base();
    r->uuid = c.uuid;
    r->uuid_ver_major = c.ver_major;
    r->uuid_ver_minor = c.ver_minor;
    r->endpoint = dce_interface_name(c.uuid);
    if (e.answered && !e.nak) {
      bool have = false;
      for (size_t k = i; k < e.contexts.size() && k < e.results.size(); ++k) {
        if (e.contexts[k].uuid != c.uuid) continue;
        if (!have || e.results[k].result == 0) {
          r->bind_result = e.results[k].result;
          r->bind_reason = e.results[k].reason;
          have = true;
        }
      }
      r->has_bind_result = have;
    }
    emit(std::move(r));
    if (done_) return;
  }
}

void SmbAnalyzer::on_call(const DceCallEvent& e) {
  if (!current_pipe_) return;
  const FileState& f = *current_pipe_;
  auto r = std::make_unique<SmbRecord>();
  r->set_conn(ctx_.conn());
  r->ts = e.ts;
  r->version = f.version;
  r->action = SmbAction::kDceRpcRequest;
  r->command_name = "DCE_RPC_REQUEST";
  r->named_pipe = f.name;
  if (const TreeState* t = tree(f.tree_id)) r->tree = t->path;
  r->uuid = e.uuid;
  r->uuid_ver_major = e.ver_major;
  r->uuid_ver_minor = e.ver_minor;
  r->endpoint = dce_interface_name(e.uuid);
  r->has_opnum = true;
  r->opnum = e.opnum;
  r->operation = dce_operation_name(e.uuid, e.opnum);
  r->stub_len = e.stub_len;
  r->path_traversal_checked = e.traversal_checked;
  r->path_traversal = e.path_traversal;
  r->fault = e.fault;
  r->fault_status = e.fault_status;
  if (e.answered) {
    r->answered = true;
    r->rtt_ns = e.ts_resp - e.ts;
  }
  emit(std::move(r));
}

std::unique_ptr<Analyzer> create_smb_analyzer(Context& ctx) { return std::make_unique<SmbAnalyzer>(ctx); }

}  // namespace trawl::analyzers::smb

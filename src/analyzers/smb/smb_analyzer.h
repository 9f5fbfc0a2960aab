// SmbAnalyzer: SMB1 and SMB2/3 over TCP 445 (direct) and 139 (NetBIOS
// session service). Frames NBSS messages per direction (bounded buffer; bulk
// file data is skipped by counting), pairs requests with responses by
// MID / MessageId, tracks sessions, trees and open files, follows DCE/RPC over
// named pipes (DcePipe) and turns NTLMSSP AUTHENTICATE messages and SMB1
// plain session setups into auth.jsonl login attempts. Gives up at SMB3
// encryption or compression, after too many bad messages, and at its limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "analyzers/analyzer.h"
#include "analyzers/common/auth_record.h"
#include "analyzers/registry.h"
#include "analyzers/smb/dcerpc.h"
#include "analyzers/smb/ntlm.h"
#include "analyzers/smb/smb_parser.h"
#include "analyzers/smb/smb_record.h"

namespace trawl::analyzers::smb {

inline const core::AnomalyId kAnomBadNbss{"smb.bad_nbss_header"};
inline const core::AnomalyId kAnomBadMessage{"smb.bad_message"};
inline const core::AnomalyId kAnomOversize{"smb.oversize_message"};
inline const core::AnomalyId kAnomTooManyMessages{"smb.too_many_messages"};
inline const core::AnomalyId kAnomTooManyRecords{"smb.too_many_records"};
inline const core::AnomalyId kAnomTooManyPending{"smb.too_many_pending"};
inline const core::AnomalyId kAnomDuplicateId{"smb.duplicate_message_id"};
inline const core::AnomalyId kAnomUnmatched{"smb.unmatched_response"};
inline const core::AnomalyId kAnomTooManyTrees{"smb.too_many_trees"};
inline const core::AnomalyId kAnomTooManyFiles{"smb.too_many_files"};
inline const core::AnomalyId kAnomTooManyPipes{"smb.too_many_pipes"};
inline const core::AnomalyId kAnomTooManySessions{"smb.too_many_sessions"};
inline const core::AnomalyId kAnomResyncFailed{"smb.resync_failed"};
inline const core::AnomalyId kAnomPipeDataCut{"smb.pipe_data_truncated"};

struct SmbAnalyzerLimits {
  size_t max_message = 128 * 1024;  // bytes of one SMB message kept (the rest is skipped)
  size_t head_bytes = 512;          // read first to decide whether a message is bulk file data
  uint64_t max_messages = 200000;   // SMB messages per connection
  size_t max_records = 20000;       // smb + auth records per connection
  size_t max_pending = 512;         // requests waiting for their response
  size_t max_trees = 64;
  size_t max_files = 512;
  size_t max_pipes = 16;            // pipes with DCE/RPC state
  size_t max_sessions = 32;
  size_t max_bad_messages = 8;      // non-SMB NBSS messages before giving up
  uint64_t resync_window = 1 << 20;  // bytes searched for a message start after a gap
  SmbLimits parser;
};

// Content probe: an NBSS session message holding "\xffSMB", "\xfeSMB",
// "\xfdSMB" or "\xfcSMB", or a well-formed NBSS session request (139).
Probe probe_smb(const ProbeInput& in);

class SmbAnalyzer final : public Analyzer, private DceSink {
 public:
  explicit SmbAnalyzer(Context& ctx, const SmbAnalyzerLimits& limits = {});
  ~SmbAnalyzer() override;

  void data(bool is_orig, core::ByteView bytes, core::Timestamp ts) override;
  void gap(bool is_orig, uint64_t bytes, core::Timestamp ts) override;
  void finish(core::Timestamp ts) override;

 private:
  struct Dir {
    std::string buf;         // partial NBSS header, then the kept message bytes
    bool have_header = false;
    bool decided = false;    // the head was checked for bulk data
    uint32_t msg_len = 0;
    size_t keep = 0;         // bytes of the message that are parsed
    uint64_t skip = 0;       // bytes still to drop
    bool resync = false;
    uint64_t resync_scanned = 0;
  };

  struct FileKey {
    uint8_t version = 0;
    uint64_t persistent = 0;
    uint64_t volatile_id = 0;
    friend auto operator<=>(const FileKey&, const FileKey&) = default;
  };
  struct FileState {
    std::string name;
    bool is_pipe = false;
    uint32_t tree_id = 0;
    SmbVersion version = SmbVersion::kSmb1;
    std::unique_ptr<DcePipe> dce;
  };
  struct TreeState {
    std::string path;
    std::string service;
    uint8_t share_type = 0;
  };
  struct SessionState {
    std::string user;
    std::string domain;
  };

  // One command of a request waiting for its response.
  struct PendingCmd {
    SmbVersion version = SmbVersion::kSmb1;
    uint16_t command = 0;
    SmbAction action = SmbAction::kOther;
    core::Timestamp ts;
    std::unique_ptr<SmbRecord> rec;  // null: nothing is logged for it
    std::unique_ptr<AuthRecord> auth;
    bool has_file = false;
    FileKey file;
    bool related_file = false;       // SMB2 compound: "the file of the previous CREATE"
    bool pipe_in = false;            // response data belongs to the pipe's DCE/RPC stream
    std::string path;                // TREE_CONNECT path, CREATE name
    std::string service;             // SMB1 TREE_CONNECT service asked for
    uint32_t tree_id = 0;
  };
  struct PendingMsg {
    uint64_t seq = 0;
    std::vector<PendingCmd> cmds;
  };

  static uint64_t pending_key(const SmbCommand& c);
  static FileKey file_key(const SmbCommand& c);

  void feed(bool is_orig, core::ByteView in, core::Timestamp ts);
  bool resync(Dir& d, core::ByteView& in);
  bool is_bulk(bool is_orig, core::ByteView head) const;
  void message(bool is_orig, core::ByteView msg, bool truncated, core::Timestamp ts);
  void requests(core::Timestamp ts);
  void responses(core::Timestamp ts);
  bool start(const SmbCommand& c, core::Timestamp ts, PendingCmd& p);
  void complete(PendingCmd& p, const SmbCommand* r, core::Timestamp ts);
  void unmatched(const SmbCommand& r, core::Timestamp ts);
  void session_setup_request(const SmbCommand& c, PendingCmd& p);
  void session_setup_response(const SmbCommand& r, PendingCmd& p);
  void emit_pending(PendingMsg& m);
  void evict_oldest();

  std::unique_ptr<SmbRecord> new_record(const SmbCommand& c, SmbAction action, core::Timestamp ts);
  FileState* file(const FileKey& k);
  FileState* pipe_for(const FileKey& k, SmbVersion v);  // creates an unnamed pipe entry if needed
  DcePipe* dce_of(FileState& f);
  void pipe_data(const FileKey& k, bool to_server, const SmbCommand& c, core::Timestamp ts);
  void close_file(const FileKey& k);
  const TreeState* tree(uint32_t id) const;
  void emit(std::unique_ptr<Record> r);

  // DceSink
  void on_bind(const DceBindEvent& e) override;
  void on_call(const DceCallEvent& e) override;

  Context& ctx_;
  SmbAnalyzerLimits limits_;
  Dir dir_[2];
  bool done_ = false;
  uint64_t messages_ = 0;
  size_t records_ = 0;
  size_t bad_messages_ = 0;
  uint64_t next_seq_ = 0;
  std::unordered_map<uint64_t, PendingMsg> pending_;
  std::map<FileKey, FileState> files_;
  size_t pipes_with_dce_ = 0;
  std::map<uint32_t, TreeState> trees_;
  std::map<uint64_t, SessionState> sessions_;
  std::vector<SmbCommand> cmds_;  // reused for every message

  // Negotiated facts.
  bool smb1_plaintext_ = false;      // SMB1 server asked for plaintext passwords
  bool have_challenge_ = false;
  std::array<uint8_t, 8> challenge_{};  // last NTLM CHALLENGE (only used with reveal_credentials)
  bool have_last_create_ = false;
  FileKey last_create_;               // for related SMB2 compound requests

  // Where the DCE/RPC events being reported come from.
  const FileState* current_pipe_ = nullptr;
  NtlmMessage ntlm_;  // reused
};

std::unique_ptr<Analyzer> create_smb_analyzer(Context& ctx);

}  // namespace trawl::analyzers::smb

// DCE/RPC connection-oriented PDUs (C706 chapter 12, MS-RPCE 2.2.2) as they
// cross SMB named pipes: a pure PDU parser (BIND / ALTER_CONTEXT and their
// acks, REQUEST, RESPONSE, FAULT) and DcePipe, the per-pipe state that frames
// PDUs in each direction, remembers presentation contexts, pairs requests
// with responses by call id and reports binds and calls as events. Every
// table and buffer is bounded; PDUs are at most 65535 bytes by definition.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/anomalies.h"
#include "core/byte_view.h"
#include "core/timestamp.h"

namespace trawl::analyzers::smb {

inline const core::AnomalyId kAnomDceMalformed{"smb.dcerpc_malformed"};
inline const core::AnomalyId kAnomDceTooManyContexts{"smb.dcerpc_too_many_contexts"};
inline const core::AnomalyId kAnomDceTooManyCalls{"smb.dcerpc_too_many_pending_calls"};
inline const core::AnomalyId kAnomDceUnknownContext{"smb.dcerpc_unknown_context"};

enum class DcePduType : uint8_t {
  kRequest = 0,
  kResponse = 2,
  kFault = 3,
  kBind = 11,
  kBindAck = 12,
  kBindNak = 13,
  kAlterContext = 14,
  kAlterContextResp = 15,
  kAuth3 = 16,
  kShutdown = 17,
  kCoCancel = 18,
  kOrphaned = 19,
};
std::string_view dce_pdu_type_name(uint8_t type);

constexpr uint8_t kDceFirstFrag = 0x01;
constexpr uint8_t kDceLastFrag = 0x02;
constexpr uint8_t kDceObjectUuid = 0x80;

struct DceContext {
  uint16_t id = 0;
  std::string uuid;  // canonical lower-case "4b324fc8-1670-01d3-1278-5a47bf6ee188"
  uint16_t ver_major = 0;
  uint16_t ver_minor = 0;
};

struct DceResult {
  uint16_t result = 0;  // 0 acceptance, 1 user rejection, 2 provider rejection, 3 negotiate ack
  uint16_t reason = 0;
};
std::string_view dce_result_name(uint16_t result);  // "acceptance", "user_rejection", ...

struct DcePdu {
  uint8_t type = 0;
  uint8_t flags = 0;
  bool little_endian = true;
  uint16_t frag_len = 0;
  uint16_t auth_len = 0;
  uint32_t call_id = 0;
  std::vector<DceContext> contexts;  // BIND, ALTER_CONTEXT (at most kMaxContexts)
  std::vector<DceResult> results;    // BIND_ACK, ALTER_CONTEXT_RESP
  uint16_t reject_reason = 0;        // BIND_NAK
  uint16_t ctx_id = 0;               // REQUEST, RESPONSE, FAULT
  uint16_t opnum = 0;                // REQUEST
  uint32_t fault_status = 0;         // FAULT
  core::ByteView stub;               // REQUEST, RESPONSE (view into the PDU)
};

constexpr size_t kDceMaxContexts = 16;
constexpr size_t kDceHeaderLen = 16;

// Frag length of the PDU starting at `data` (needs 10 bytes): 0 when fewer
// are there; sets `bad` when the header is not a DCE/RPC CO header.
size_t dce_frag_length(core::ByteView data, bool& bad);

// Parses one whole PDU (`pdu.size()` == frag_len). false if malformed.
bool parse_dce_pdu(core::ByteView pdu, DcePdu& out, core::Anomalies& anomalies);

// Canonical string of a UUID in DCE wire order (first three fields in the
// data representation's byte order).
std::string dce_uuid_string(core::ByteView b16, bool little_endian);

// Well-known interfaces: Zeek's endpoint names ("srvsvc", "rasrpc", ...) and
// operation names for the srvsvc opnums. Empty when unknown.
std::string_view dce_interface_name(std::string_view uuid);
std::string_view dce_operation_name(std::string_view uuid, uint16_t opnum);

inline constexpr std::string_view kUuidSrvsvc = "4b324fc8-1670-01d3-1278-5a47bf6ee188";

// A UTF-16LE path that climbs: a separator, "..", a separator ("\..\" or
// with '/'), at any byte offset.
bool has_utf16_traversal(core::ByteView stub);

// What DcePipe reports.
struct DceBindEvent {
  bool alter = false;  // ALTER_CONTEXT rather than BIND
  uint32_t call_id = 0;
  std::vector<DceContext> contexts;
  std::vector<DceResult> results;  // empty when no answer came
  bool answered = false;
  bool nak = false;
  uint16_t reject_reason = 0;
  core::Timestamp ts;       // request time
  core::Timestamp ts_resp;  // answer time, when answered
};

struct DceCallEvent {
  uint32_t call_id = 0;
  uint16_t ctx_id = 0;
  uint16_t opnum = 0;
  std::string uuid;  // of the context; empty if its bind was not seen
  uint16_t ver_major = 0;
  uint16_t ver_minor = 0;
  uint64_t stub_len = 0;       // request stub bytes over all fragments
  uint32_t fragments = 0;
  bool traversal_checked = false;  // srvsvc opnum 31/32: the stub was searched
  bool path_traversal = false;
  bool answered = false;
  bool fault = false;
  uint32_t fault_status = 0;
  uint64_t resp_stub_len = 0;
  core::Timestamp ts;
  core::Timestamp ts_resp;
};

class DceSink {
 public:
  virtual ~DceSink() = default;
  virtual void on_bind(const DceBindEvent& e) = 0;
  virtual void on_call(const DceCallEvent& e) = 0;
};

// DCE/RPC over one named pipe. Direction "to server" is what the client
// writes (WRITE, TRANSACT_NMPIPE / IOCTL input), "to client" what it reads.
class DcePipe {
 public:
  static constexpr size_t kMaxPendingCalls = 64;
  static constexpr size_t kMaxPendingBinds = 8;
  static constexpr size_t kMaxKnownContexts = 32;

  // Bytes of the pipe in one direction; may hold several PDUs or parts.
  void feed(bool to_server, core::ByteView data, core::Timestamp ts, DceSink& sink, core::Anomalies& anomalies);
  // `bytes` of this direction were not seen (cut message): framing is lost
  // until the next write/read begins on a PDU boundary.
  void lose(bool to_server);
  // Reports what is still unanswered (pipe closed, connection over).
  void flush(DceSink& sink);
  // The pipe carried something that is not DCE/RPC: nothing more is parsed.
  bool broken() const { return broken_; }

 private:
  struct PendingCall {
    DceCallEvent ev;
    std::array<uint8_t, 7> tail{};  // last stub bytes, for a pattern split over fragments
    uint8_t tail_len = 0;
    bool open = true;  // more request fragments expected
  };

  void on_pdu(bool to_server, core::ByteView pdu, core::Timestamp ts, DceSink& sink, core::Anomalies& anomalies);
  void on_request(const DcePdu& p, core::Timestamp ts, DceSink& sink, core::Anomalies& anomalies);
  void on_answer(const DcePdu& p, core::Timestamp ts, DceSink& sink);
  void remember_context(const DceContext& c, core::Anomalies& anomalies);
  const DceContext* context(uint16_t id) const;
  PendingCall* find_call(uint32_t call_id);

  std::string buf_[2];  // partial PDU: [0] to server, [1] to client
  bool resync_[2] = {false, false};
  bool broken_ = false;
  bool seen_pdu_ = false;
  std::vector<DceContext> contexts_;
  std::vector<DceBindEvent> binds_;
  std::vector<PendingCall> calls_;
  DcePdu pdu_;  // reused
};

}  // namespace trawl::analyzers::smb

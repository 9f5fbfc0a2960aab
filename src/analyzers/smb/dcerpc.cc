#include "analyzers/smb/dcerpc.h"

#include <algorithm>
#include <utility>

namespace trawl::analyzers::smb {

namespace {

using core::ByteView;

uint16_t load16(const uint8_t* p, bool le) { return le ? core::load_le16(p) : core::load_be16(p); }
uint32_t load32(const uint8_t* p, bool le) { return le ? core::load_le32(p) : core::load_be32(p); }

struct NamedUuid {
  std::string_view uuid;
  std::string_view name;
};

constexpr NamedUuid kInterfaces[] = {
    {"4b324fc8-1670-01d3-1278-5a47bf6ee188", "srvsvc"},
    {"6bffd098-a112-3610-9833-46c3f87e345a", "wkssvc"},
    {"12345778-1234-abcd-ef00-0123456789ab", "lsarpc"},
    {"12345778-1234-abcd-ef00-0123456789ac", "samr"},
    {"12345678-1234-abcd-ef00-01234567cffb", "netlogon"},
    {"338cd001-2244-31f1-aaaa-900038001003", "winreg"},
    {"367abb81-9844-35f1-ad32-98f038001003", "svcctl"},
    {"12345678-1234-abcd-ef00-0123456789ab", "spoolss"},
    {"1ff70682-0a51-30e8-076d-740be8cee98b", "atsvc"},
    {"86d35949-83c9-4044-b424-db363231fd0c", "ITaskSchedulerService"},
    {"6bffd098-a112-3610-9833-012892020162", "browser"},
    {"20610036-fa22-11cf-9823-00a0c911e5df", "rasrpc"},
    {"50abc2a4-574d-40b3-9d66-ee4fd5fba076", "dnsserver"},
    {"e1af8308-5d1f-11c9-91a4-08002b14a0fa", "epmapper"},
    {"e3514235-4b06-11d1-ab04-00c04fc2dcd2", "drsuapi"},
    {"3919286a-b10c-11d0-9ba8-00c04fd92ef5", "dssetup"},
    {"82273fdc-e32a-18c3-3f78-827929dc23ea", "eventlog"},
    {"4fc742e0-4a10-11cf-8273-00aa004ae673", "netdfs"},
    {"8d9f4e40-a03d-11ce-8f69-08003e30051b", "ntsvcs"},
    {"342cfd40-3c6c-11ce-a893-08002b2e9c6d", "llsrpc"},
    {"4d9f4ab8-7d1c-11cf-861e-0020af6e7c57", "IRemoteActivation"},
    {"000001a0-0000-0000-c000-000000000046", "ISystemActivator"},
    {"99fcfec4-5260-101b-bbcb-00aa0021347a", "IOXIDResolver"},
    {"afa8bd80-7d8a-11c9-bef4-08002b102989", "mgmt"},
    {"c681d488-d850-11d0-8c52-00c04fd90f7e", "efsrpc"},
    {"df1941c5-fe89-4e79-bf10-463657acf44d", "efsrpc"},
};

constexpr std::string_view kSrvsvcOps[] = {
    "NetrCharDevEnum",        "NetrCharDevGetInfo",      "NetrCharDevControl",      "NetrCharDevQEnum",
    "NetrCharDevQGetInfo",    "NetrCharDevQSetInfo",     "NetrCharDevQPurge",       "NetrCharDevQPurgeSelf",
    "NetrConnectionEnum",     "NetrFileEnum",            "NetrFileGetInfo",         "NetrFileClose",
    "NetrSessionEnum",        "NetrSessionDel",          "NetrShareAdd",            "NetrShareEnum",
    "NetrShareGetInfo",       "NetrShareSetInfo",        "NetrShareDel",            "NetrShareDelSticky",
    "NetrShareCheck",         "NetrServerGetInfo",       "NetrServerSetInfo",       "NetrServerDiskEnum",
    "NetrServerStatisticsGet", "NetrServerTransportAdd", "NetrServerTransportEnum", "NetrServerTransportDel",
    "NetrRemoteTOD",          "NetrServerSetServiceBits", "NetprPathType",          "NetprPathCanonicalize",
    "NetprPathCompare",       "NetprNameValidate",       "NetprNameCanonicalize",   "NetprNameCompare",
    "NetrShareEnumSticky",    "NetrShareDelStart",       "NetrShareDelCommit",      "NetrpGetFileSecurity",
    "NetrpSetFileSecurity",   "NetrServerTransportAddEx",
};

bool wants_traversal_check(std::string_view uuid, uint16_t opnum) {
  return uuid == kUuidSrvsvc && (opnum == 31 || opnum == 32);
}

bool is_sep(const uint8_t* p) { return (p[0] == '\\' || p[0] == '/') && p[1] == 0; }

}  // namespace

std::string_view dce_pdu_type_name(uint8_t type) {
  switch (type) {
    case 0: return "request";
    case 2: return "response";
    case 3: return "fault";
    case 11: return "bind";
    case 12: return "bind_ack";
    case 13: return "bind_nak";
    case 14: return "alter_context";
    case 15: return "alter_context_resp";
    case 16: return "auth3";
    case 17: return "shutdown";
    case 18: return "co_cancel";
    case 19: return "orphaned";
    default: break;
  }
  return "";
}

std::string_view dce_result_name(uint16_t result) {
  switch (result) {
    case 0: return "acceptance";
    case 1: return "user_rejection";
    case 2: return "provider_rejection";
    case 3: return "negotiate_ack";
    default: break;
  }
  return "";
}

size_t dce_frag_length(ByteView data, bool& bad) {
  bad = false;
  if (data.empty()) return 0;
  if (data[0] != 5) {
    bad = true;
    return 0;
  }
  if (data.size() < 10) return 0;
  const uint8_t drep0 = data[4];
  if (data[1] > 1 || data[2] > 19 || (drep0 & 0xee) != 0) {
    bad = true;
    return 0;
  }
  const size_t len = load16(data.data() + 8, (drep0 & 0x10) != 0);
  if (len < kDceHeaderLen) {
    bad = true;
    return 0;
  }
  return len;
}

std::string dce_uuid_string(ByteView b, bool le) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  if (b.size() < 16) return s;
  s.reserve(36);
  auto hex = [&](uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) s.push_back(kHex[(v >> (4 * i)) & 15]);
  };
  hex(load32(b.data(), le), 8);
  s.push_back('-');
  hex(load16(b.data() + 4, le), 4);
  s.push_back('-');
  hex(load16(b.data() + 6, le), 4);
  s.push_back('-');
  for (size_t i = 8; i < 16; ++i) {
    if (i == 10) s.push_back('-');
    hex(b[i], 2);
  }
  return s;
}

std::string_view dce_interface_name(std::string_view uuid) {
  for (const NamedUuid& n : kInterfaces) {
    if (n.uuid == uuid) return n.name;
  }
  return {};
}

std::string_view dce_operation_name(std::string_view uuid, uint16_t opnum) {
  if (uuid == kUuidSrvsvc && opnum < std::size(kSrvsvcOps)) return kSrvsvcOps[opnum];
  return {};
}

bool has_utf16_traversal(ByteView s) {
  if (s.size() < 8) return false;
  for (size_t i = 0; i + 8 <= s.size(); ++i) {
    const uint8_t* p = s.data() + i;
    if (p[2] == '.' && p[3] == 0 && p[4] == '.' && p[5] == 0 && is_sep(p) && is_sep(p + 6)) return true;
  }
  return false;
}

bool parse_dce_pdu(ByteView pdu, DcePdu& out, core::Anomalies& anomalies) {
  out.contexts.clear();
  out.results.clear();
  out.stub = {};
  bool bad = false;
  if (pdu.size() < kDceHeaderLen || dce_frag_length(pdu, bad) != pdu.size() || bad) {
    anomalies.add(kAnomDceMalformed);
    return false;
  }
  const uint8_t* d = pdu.data();
  const bool le = (d[4] & 0x10) != 0;
  out.type = d[2];
  out.flags = d[3];
  out.little_endian = le;
  out.frag_len = static_cast<uint16_t>(pdu.size());
  out.auth_len = load16(d + 10, le);
  out.call_id = load32(d + 12, le);
  const size_t n = pdu.size();
  // Body end: before the auth verifier and its 8-byte trailer (and the pad
  // the trailer announces).
  size_t body_end = n;
  if (out.auth_len != 0) {
    if (size_t{out.auth_len} + 8 > n - kDceHeaderLen) {
      anomalies.add(kAnomDceMalformed);
      return false;
    }
    body_end = n - out.auth_len - 8;
    const uint8_t pad = d[body_end + 2];
    body_end = pad <= body_end - kDceHeaderLen ? body_end - pad : kDceHeaderLen;
  }
  switch (static_cast<DcePduType>(out.type)) {
    case DcePduType::kBind:
    case DcePduType::kAlterContext: {
      if (body_end < 28) break;
      const size_t count = d[24];
      size_t at = 28;
      for (size_t i = 0; i < count; ++i) {
        if (at + 24 > body_end) {
          anomalies.add(kAnomDceMalformed);
          return false;
        }
        const size_t n_syntax = d[at + 2];
        if (out.contexts.size() < kDceMaxContexts) {
          DceContext c;
          c.id = load16(d + at, le);
          c.uuid = dce_uuid_string(pdu.subspan(at + 4, 16), le);
          c.ver_major = load16(d + at + 20, le);
          c.ver_minor = load16(d + at + 22, le);
          out.contexts.push_back(std::move(c));
        } else {
          anomalies.add(kAnomDceTooManyContexts);
        }
        at += 24 + 20 * n_syntax;
      }
      return true;
    }
    case DcePduType::kBindAck:
    case DcePduType::kAlterContextResp: {
      if (body_end < 26) break;
      const size_t sec_len = load16(d + 24, le);
      size_t at = 26 + sec_len;
      at = (at + 3) & ~size_t{3};
      if (at + 4 > body_end) break;
      const size_t count = d[at];
      at += 4;
      for (size_t i = 0; i < count; ++i) {
        if (at + 24 > body_end) {
          anomalies.add(kAnomDceMalformed);
          return false;
        }
        if (out.results.size() < kDceMaxContexts) {
          out.results.push_back(DceResult{load16(d + at, le), load16(d + at + 2, le)});
        } else {
          anomalies.add(kAnomDceTooManyContexts);
        }
        at += 24;
      }
      return true;
    }
    case DcePduType::kBindNak:
      if (body_end < 18) break;
      out.reject_reason = load16(d + 16, le);
      return true;
    case DcePduType::kRequest: {
      size_t at = 24;
      if (out.flags & kDceObjectUuid) at += 16;
      if (at > body_end) break;
      out.ctx_id = load16(d + 20, le);
      out.opnum = load16(d + 22, le);
      out.stub = pdu.subspan(at, body_end - at);
      return true;
    }
    case DcePduType::kResponse:
      if (body_end < 24) break;
      out.ctx_id = load16(d + 20, le);
      out.stub = pdu.subspan(24, body_end - 24);
      return true;
    case DcePduType::kFault:
      if (n < 28) break;
      out.ctx_id = load16(d + 20, le);
      out.fault_status = load32(d + 24, le);
      return true;
    default:
      return true;  // other PDU types carry nothing recorded
  }
  anomalies.add(kAnomDceMalformed);
  return false;
}

// --------------------------------------------------------------------------
// DcePipe

void DcePipe::lose(bool to_server) {
  const int d = to_server ? 0 : 1;
  buf_[d].clear();
  resync_[d] = true;
}

void DcePipe::feed(bool to_server, ByteView data, core::Timestamp ts, DceSink& sink, core::Anomalies& anomalies) {
  const int d = to_server ? 0 : 1;
  std::string& buf = buf_[d];
  if (resync_[d]) {
    // After lost bytes only a write/read that starts with a PDU header is
    // taken as a boundary again.
    bool bad = false;
    if (data.size() < 10 || dce_frag_length(data, bad) == 0 || bad) return;
    resync_[d] = false;
  }
  while (!data.empty() && !broken_) {
    if (!buf.empty()) {
      if (buf.size() < 10) {
        const size_t take = std::min(data.size(), 10 - buf.size());
        buf.append(core::as_chars(data.first(take)));
        data = data.subspan(take);
        if (buf.size() < 10) return;
      }
      bool bad = false;
      const size_t len = dce_frag_length({reinterpret_cast<const uint8_t*>(buf.data()), buf.size()}, bad);
      if (bad) {
        anomalies.add(kAnomDceMalformed);
        lose(to_server);
        return;
      }
      const size_t take = std::min(data.size(), len - buf.size());
      buf.append(core::as_chars(data.first(take)));
      data = data.subspan(take);
      if (buf.size() < len) return;
      std::string pdu;
      pdu.swap(buf);
      on_pdu(to_server, {reinterpret_cast<const uint8_t*>(pdu.data()), pdu.size()}, ts, sink, anomalies);
      continue;
    }
    bool bad = false;
    const size_t len = dce_frag_length(data, bad);
    if (bad) {
      if (!seen_pdu_) {
        broken_ = true;  // not DCE/RPC on this pipe (LANMAN RAP, a custom protocol ...)
        return;
      }
      anomalies.add(kAnomDceMalformed);
      lose(to_server);
      return;
    }
    if (len == 0 || len > data.size()) {
      buf.assign(core::as_chars(data));
      return;
    }
    on_pdu(to_server, data.first(len), ts, sink, anomalies);
    data = data.subspan(len);
  }
}

void DcePipe::remember_context(const DceContext& c, core::Anomalies& anomalies) {
  for (DceContext& k : contexts_) {
    if (k.id == c.id) {
      k = c;
      return;
    }
  }
  if (contexts_.size() >= kMaxKnownContexts) {
    anomalies.add(kAnomDceTooManyContexts);
    return;
  }
  contexts_.push_back(c);
}

const DceContext* DcePipe::context(uint16_t id) const {
  for (const DceContext& k : contexts_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

DcePipe::PendingCall* DcePipe::find_call(uint32_t call_id) {
  for (PendingCall& c : calls_) {
    if (c.ev.call_id == call_id) return &c;
  }
  return nullptr;
}

void DcePipe::on_pdu(bool to_server, ByteView pdu, core::Timestamp ts, DceSink& sink, core::Anomalies& anomalies) {
  if (!parse_dce_pdu(pdu, pdu_, anomalies)) return;
  seen_pdu_ = true;
  const auto type = static_cast<DcePduType>(pdu_.type);
  if (to_server) {
    if (type == DcePduType::kBind || type == DcePduType::kAlterContext) {
      // Contexts count from the offer: an answer may be missing from the capture.
      for (const DceContext& c : pdu_.contexts) remember_context(c, anomalies);
      if (binds_.size() >= kMaxPendingBinds) {
        anomalies.add(kAnomDceTooManyCalls);
        sink.on_bind(binds_.front());
        binds_.erase(binds_.begin());
      }
      DceBindEvent e;
      e.alter = type == DcePduType::kAlterContext;
      e.call_id = pdu_.call_id;
      e.contexts = pdu_.contexts;
      e.ts = ts;
      binds_.push_back(std::move(e));
    } else if (type == DcePduType::kRequest) {
      on_request(pdu_, ts, sink, anomalies);
    }
    return;
  }
  if (type == DcePduType::kBindAck || type == DcePduType::kAlterContextResp || type == DcePduType::kBindNak) {
    for (size_t i = 0; i < binds_.size(); ++i) {
      if (binds_[i].call_id != pdu_.call_id) continue;
      DceBindEvent e = std::move(binds_[i]);
      binds_.erase(binds_.begin() + static_cast<std::ptrdiff_t>(i));
      e.answered = true;
      e.ts_resp = ts;
      e.nak = type == DcePduType::kBindNak;
      e.reject_reason = pdu_.reject_reason;
      e.results = pdu_.results;
      sink.on_bind(e);
      return;
    }
  } else if (type == DcePduType::kResponse || type == DcePduType::kFault) {
    on_answer(pdu_, ts, sink);
  }
}

void DcePipe::on_request(const DcePdu& p, core::Timestamp ts, DceSink& sink, core::Anomalies& anomalies) {
  PendingCall* call = find_call(p.call_id);
  if (call && (!call->open || (p.flags & kDceFirstFrag))) {
    // A new call reusing the id of one that got no answer.
    sink.on_call(call->ev);
    calls_.erase(calls_.begin() + (call - calls_.data()));
    call = nullptr;
  }
  if (!call) {
    if (calls_.size() >= kMaxPendingCalls) {
      anomalies.add(kAnomDceTooManyCalls);
      sink.on_call(calls_.front().ev);
      calls_.erase(calls_.begin());
    }
    PendingCall c;
    c.ev.call_id = p.call_id;
    c.ev.ctx_id = p.ctx_id;
    c.ev.opnum = p.opnum;
    c.ev.ts = ts;
    if (const DceContext* k = context(p.ctx_id)) {
      c.ev.uuid = k->uuid;
      c.ev.ver_major = k->ver_major;
      c.ev.ver_minor = k->ver_minor;
    } else if (!contexts_.empty()) {
      anomalies.add(kAnomDceUnknownContext);
    }
    c.ev.traversal_checked = wants_traversal_check(c.ev.uuid, c.ev.opnum);
    calls_.push_back(std::move(c));
    call = &calls_.back();
  }
  call->ev.stub_len += p.stub.size();
  ++call->ev.fragments;
  if (call->ev.traversal_checked && !call->ev.path_traversal) {
    // The pattern may straddle two fragments: join the previous tail with
    // this stub's head.
    uint8_t joint[14];
    const size_t head = std::min<size_t>(p.stub.size(), 7);
    std::copy_n(call->tail.begin(), call->tail_len, joint);
    std::copy_n(p.stub.begin(), head, joint + call->tail_len);
    if (has_utf16_traversal({joint, call->tail_len + head}) || has_utf16_traversal(p.stub)) {
      call->ev.path_traversal = true;
    }
    // New tail: the last 7 bytes of (old tail + stub).
    uint8_t all[14];
    size_t k = 0;
    if (p.stub.size() < 7) {
      std::copy_n(call->tail.begin(), call->tail_len, all);
      k = call->tail_len;
    }
    const size_t from_stub = std::min<size_t>(p.stub.size(), 7);
    std::copy_n(p.stub.end() - static_cast<std::ptrdiff_t>(from_stub), from_stub, all + k);
    k += from_stub;
    const size_t keep = std::min<size_t>(k, 7);
    std::copy_n(all + (k - keep), keep, call->tail.begin());
    call->tail_len = static_cast<uint8_t>(keep);
  }
  if (p.flags & kDceLastFrag) call->open = false;
}

void DcePipe::on_answer(const DcePdu& p, core::Timestamp ts, DceSink& sink) {
  PendingCall* call = find_call(p.call_id);
  if (!call) return;
  if (p.type == static_cast<uint8_t>(DcePduType::kFault)) {
    call->ev.fault = true;
    call->ev.fault_status = p.fault_status;
  } else {
    call->ev.resp_stub_len += p.stub.size();
    if (!(p.flags & kDceLastFrag)) return;
  }
  call->ev.answered = true;
  call->ev.ts_resp = ts;
  sink.on_call(call->ev);
  calls_.erase(calls_.begin() + (call - calls_.data()));
}

void DcePipe::flush(DceSink& sink) {
  for (const DceBindEvent& b : binds_) sink.on_bind(b);
  for (const PendingCall& c : calls_) sink.on_call(c.ev);
  binds_.clear();
  calls_.clear();
  buf_[0].clear();
  buf_[1].clear();
}

}  // namespace trawl::analyzers::smb

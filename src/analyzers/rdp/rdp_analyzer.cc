#include "analyzers/rdp/rdp_analyzer.h"

#include <algorithm>
#include <string_view>

#include "analyzers/common/auth_record.h"
#include "analyzers/rdp/rdp_names.h"

namespace trawl::analyzers::rdp {

namespace {

using core::ByteView;

constexpr std::string_view kCookieLine = "Cookie: ";

}  // namespace

Probe RdpAnalyzer::probe(const ProbeInput& in) {
  const ByteView o = in.orig;
  if (o.empty()) return in.orig_done ? Probe::kNo : Probe::kMaybe;
  size_t total = 0;
  const TpktResult r = frame_tpkt(o, total);
  if (r == TpktResult::kNotTpkt || r == TpktResult::kBadLength) return Probe::kNo;
  if (o.size() < 6) return in.orig_done ? Probe::kNo : Probe::kMaybe;
  if ((o[5] & 0xf0) != kTpduConnectRequest || total < 11) return Probe::kNo;
  const size_t li = o[4];
  if (in.port_hint) return li >= 6 && li + 5 <= total ? Probe::kYes : Probe::kNo;
  // Elsewhere, insist on RDP's shape (other ISO transports, e.g. S7comm on
  // port 102, also open with a Connection Request): the header length covers
  // the whole TPKT, and what follows the fixed part is a cookie line, an
  // RDP_NEG_REQ or nothing.
  if (li + 5 != total) return Probe::kNo;
  if (r == TpktResult::kNeedMore) return in.orig_done ? Probe::kNo : Probe::kMaybe;
  const ByteView rest = o.subspan(11, total - 11);
  if (rest.empty()) return Probe::kYes;
  const std::string_view s = core::as_chars(rest);
  if (s.substr(0, kCookieLine.size()) == kCookieLine && s.find("\r\n") != std::string_view::npos) return Probe::kYes;
  if (rest.size() == 8 && rest[0] == 0x01 && rest[2] == 8 && rest[3] == 0) return Probe::kYes;
  return Probe::kNo;
}

RdpAnalyzer::RdpAnalyzer(Context& ctx, const RdpLimits& limits) : ctx_(ctx), limits_(limits) {}

void RdpAnalyzer::stop() {
  if (stopped_) return;
  stopped_ = true;
  ctx_.give_up();
}

void RdpAnalyzer::touch(core::Timestamp ts) {
  if (!first_ts_) first_ts_ = ts;
}

void RdpAnalyzer::data(bool is_orig, ByteView bytes, core::Timestamp ts) {
  Direction& d = dirs_[is_orig ? 0 : 1];
  size_t pos = 0;
  while (pos < bytes.size() && !stopped_) {
    size_t total = 0;
    TpktResult r = TpktResult::kNeedMore;
    if (d.buf.empty()) {
      r = frame_tpkt(bytes.subspan(pos), total);
      if (r == TpktResult::kOk) {
        on_pdu(is_orig, bytes.subspan(pos, total), ts);
        pos += total;
        continue;
      }
      if (r == TpktResult::kNeedMore) {
        d.buf.assign(core::as_chars(bytes.subspan(pos)));
        return;
      }
    } else {
      // Complete the buffered TPKT: its header first, then the rest.
      const ByteView have(reinterpret_cast<const uint8_t*>(d.buf.data()), d.buf.size());
      size_t want = 4;
      if (have.size() >= 4) {
        frame_tpkt(have, total);
        want = std::max<size_t>(total, 4);
      }
      const size_t take = std::min(bytes.size() - pos, want > have.size() ? want - have.size() : size_t{0});
      d.buf.append(core::as_chars(bytes.subspan(pos, take)));
      pos += take;
      const ByteView now(reinterpret_cast<const uint8_t*>(d.buf.data()), d.buf.size());
      r = frame_tpkt(now, total);
      if (r == TpktResult::kOk) {
        std::string pdu = std::move(d.buf);
        d.buf.clear();
        on_pdu(is_orig, ByteView(reinterpret_cast<const uint8_t*>(pdu.data()), pdu.size()), ts);
        continue;
      }
      if (r == TpktResult::kNeedMore) continue;
    }
    ctx_.anomalies().add(r == TpktResult::kNotTpkt ? kAnomNotTpkt : kAnomBadTpktLength);
    stop();
  }
}

void RdpAnalyzer::on_pdu(bool is_orig, ByteView tpkt, core::Timestamp ts) {
  Direction& d = dirs_[is_orig ? 0 : 1];
  if (++d.pdus > limits_.max_pdus) {
    ctx_.anomalies().add(kAnomTooManyPdus);
    stop();
    return;
  }
  Tpdu t;
  if (!parse_tpdu(tpkt, t, ctx_.anomalies())) {
    stop();
    return;
  }
  if (is_orig && t.code == kTpduConnectRequest) {
    if (!request_seen_) on_request(t.rest, ts);
    return;
  }
  if (!is_orig && t.code == kTpduConnectConfirm) {
    touch(ts);
    on_confirm(t.rest);
    return;
  }
  if (t.code != kTpduData || t.rest.size() < 2 || t.rest[0] != 0x7f) return;
  if (is_orig && t.rest[1] == 101 && !client_data_seen_) {
    ClientData c;
    if (parse_connect_initial(t.rest, c, ctx_.anomalies(), limits_.parse)) {
      touch(ts);
      client_data_seen_ = true;
      on_client_data(c);
    }
  } else if (!is_orig && t.rest[1] == 102) {
    ServerData s;
    if (parse_connect_response(t.rest, s, ctx_.anomalies(), limits_.parse)) {
      touch(ts);
      on_server_data(s);
    }
    // What follows is encrypted (or of no interest to rdp.jsonl).
    stop();
  }
}

void RdpAnalyzer::on_request(ByteView rest, core::Timestamp ts) {
  request_seen_ = true;
  touch(ts);
  ConnectionRequest cr;
  parse_connection_request(rest, cr, ctx_.anomalies());
  if (cr.requested_protocols) rec_.requested_protocols = requested_protocol_names(*cr.requested_protocols);
  if (!cr.cookie) return;
  rec_.cookie = cr.cookie;
  auto auth = std::make_unique<AuthRecord>();
  auth->ts = ts;
  auth->set_conn(ctx_.conn());
  auth->proto = "rdp";
  auth->method = "cookie";
  auth->user = *cr.cookie;
  ctx_.emit(std::move(auth));
}

void RdpAnalyzer::on_confirm(ByteView rest) {
  ConnectionConfirm cc;
  parse_connection_confirm(rest, cc, ctx_.anomalies());
  if (cc.failure_code) {
    rec_.result = failure_code_name(*cc.failure_code);
    stop();
    return;
  }
  if (!cc.selected_protocol) return;  // no negotiation: standard RDP security follows
  rec_.security_protocol = security_protocol_name(*cc.selected_protocol);
  if (*cc.selected_protocol == kProtocolRdp) return;
  // TLS (SSL, CredSSP, RDSTLS, AAD) from the next byte on, as Zeek.
  if (!rec_.result) rec_.result = "encrypted";
  ctx_.upgrade("ssl");
  stopped_ = true;
}

void RdpAnalyzer::on_client_data(const ClientData& c) {
  if (c.channels) rec_.client_channels = *c.channels;
  if (!c.core) return;
  const ClientCore& core = *c.core;
  rec_.keyboard_layout = keyboard_layout_name(core.keyboard_layout);
  rec_.client_build = client_build_name(core.client_build);
  rec_.client_name = core.client_name;
  rec_.client_dig_product_id = core.dig_product_id;
  rec_.desktop_width = core.desktop_width;
  rec_.desktop_height = core.desktop_height;
  if (core.early_capability_flags && (*core.early_capability_flags & 0x0002) != 0) {
    rec_.requested_color_depth = "32bit";  // RNS_UD_CS_WANT_32BPP_SESSION
  } else if (core.high_color_depth) {
    rec_.requested_color_depth = high_color_depth_name(*core.high_color_depth);
  }
}

void RdpAnalyzer::on_server_data(const ServerData& s) {
  if (s.result) rec_.result = result_name(*s.result);
  if (s.encryption_method) rec_.encryption_method = encryption_method_name(*s.encryption_method);
  if (s.encryption_level) rec_.encryption_level = encryption_level_name(*s.encryption_level);
  if (s.cert_type) rec_.cert_type = cert_type_name(*s.cert_type);
  rec_.cert_permanent = s.cert_permanent;
  rec_.cert_count = s.cert_count;
  // Standard RDP security encrypts from here on (Zeek's rdp_begin_encryption(0)).
  if (s.encryption_method.value_or(0) != 0 && s.encryption_level.value_or(0) != 0) {
    if (!rec_.result) rec_.result = "encrypted";
    rec_.security_protocol = security_protocol_name(kProtocolRdp);
  }
}

void RdpAnalyzer::gap(bool is_orig, uint64_t bytes, core::Timestamp ts) {
  (void)is_orig;
  (void)bytes;
  (void)ts;
  stop();
}

void RdpAnalyzer::finish(core::Timestamp ts) {
  (void)ts;
  // Zeek writes the record only when it holds RDP data.
  if (!rec_.cookie && !rec_.keyboard_layout && !rec_.result) return;
  auto rec = std::make_unique<RdpRecord>(rec_);
  rec->ts = first_ts_.value_or(ts);
  const ConnInfo& c = ctx_.conn();
  rec->uid = c.uid;
  rec->orig_h = c.orig_h;
  rec->orig_p = c.orig_p;
  rec->resp_h = c.resp_h;
  rec->resp_p = c.resp_p;
  ctx_.emit(std::move(rec));
}

std::unique_ptr<Analyzer> create(Context& ctx) { return std::make_unique<RdpAnalyzer>(ctx); }

}  // namespace trawl::analyzers::rdp

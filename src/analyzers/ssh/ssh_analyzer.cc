#include "analyzers/ssh/ssh_analyzer.h"

#include <algorithm>

#include "analyzers/common/auth_record.h"
#include "analyzers/ssh/ssh_record.h"

namespace trawl::analyzers::ssh {

namespace {

using core::ByteView;

constexpr std::string_view kVersionPrefix = "SSH-";
// Lines a server may send before its version line that the probe looks at.
constexpr int kProbeBannerLines = 8;

// Whether `s` (the start of a line) is, could become, or cannot be a version line.
Probe version_start(std::string_view s, bool complete) {
  const size_t n = std::min(s.size(), kVersionPrefix.size());
  if (s.substr(0, n) != kVersionPrefix.substr(0, n)) return Probe::kNo;
  if (s.size() < kVersionPrefix.size()) return complete ? Probe::kNo : Probe::kMaybe;
  size_t i = kVersionPrefix.size();
  bool digit = false;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
    digit = digit || s[i] != '.';
    ++i;
  }
  if (i == s.size()) return complete ? Probe::kNo : Probe::kMaybe;
  return digit && s[i] == '-' ? Probe::kYes : Probe::kNo;
}

// The server side: its version line, possibly after a few other lines when
// the port says SSH (RFC 4253 4.2 lets servers send lines first).
Probe server_side(std::string_view s, bool allow_banner, bool done) {
  for (int line = 0; line < (allow_banner ? kProbeBannerLines : 1); ++line) {
    const size_t nl = s.find('\n');
    if (nl == std::string_view::npos) return version_start(s, done);
    const Probe p = version_start(s.substr(0, nl), true);
    if (p != Probe::kNo) return p;
    s.remove_prefix(nl + 1);
  }
  return Probe::kNo;
}

}  // namespace

Probe SshAnalyzer::probe(const ProbeInput& in) {
  const std::string_view orig = core::as_chars(in.orig);
  const std::string_view resp = core::as_chars(in.resp);
  // A client sends its version line first, always.
  Probe o = Probe::kMaybe;
  if (!orig.empty()) {
    o = version_start(orig, in.orig_done);
  } else if (in.orig_done) {
    o = Probe::kNo;
  }
  if (o == Probe::kYes) return Probe::kYes;
  if (o == Probe::kNo && !orig.empty()) return Probe::kNo;
  Probe r = Probe::kMaybe;
  if (!resp.empty()) {
    r = server_side(resp, in.port_hint, in.resp_done);
  } else if (in.resp_done) {
    r = Probe::kNo;
  }
  if (r == Probe::kYes) return Probe::kYes;
  if (o == Probe::kNo && r == Probe::kNo) return Probe::kNo;
  return r == Probe::kNo && in.orig_done ? Probe::kNo : Probe::kMaybe;
}

SshAnalyzer::SshAnalyzer(Context& ctx, const SshLimits& limits)
    : ctx_(ctx),
      limits_(limits),
      dirs_{Direction(limits.max_version_line), Direction(limits.max_version_line)} {}

void SshAnalyzer::stop() {
  if (stopped_) return;
  stopped_ = true;
  ctx_.give_up();
}

bool SshAnalyzer::inference_possible() const {
  // Zeek's analyzer infers only for SSH2; its script ignores attempts when the
  // negotiated compression is zlib (sizes say nothing then).
  if (version_ != 2) return false;
  return !(compression_alg_ && (*compression_alg_ == "zlib" || *compression_alg_ == "zlib@openssh.com"));
}

void SshAnalyzer::data(bool is_orig, ByteView bytes, core::Timestamp ts) {
  if (stopped_) return;
  Direction& d = dirs_[is_orig ? 0 : 1];
  size_t pos = 0;
  if (d.state == State::kVersion) {
    pos = d.lines.feed(bytes, [&](std::string_view line, bool truncated) {
      return on_line(is_orig, line, truncated, ts);
    });
    if (stopped_) return;
    if (d.state == State::kVersion) {
      if (d.lines.pending() >= limits_.max_version_line) {
        ctx_.anomalies().add(kAnomVersionTooLong);
        stop();
      }
      return;
    }
  }
  if (d.state == State::kKex) pos = on_packets(is_orig, bytes, pos);
  if (stopped_) return;
  if (d.state == State::kEncrypted && pos < bytes.size()) on_encrypted(is_orig, bytes.size() - pos, ts);
}

bool SshAnalyzer::on_line(bool is_orig, std::string_view line, bool truncated, core::Timestamp ts) {
  Direction& d = dirs_[is_orig ? 0 : 1];
  if (truncated) {
    ctx_.anomalies().add(kAnomVersionTooLong);
    stop();
    return false;
  }
  if (!is_version_line(line)) {
    // Clients must start with the version line; servers may send other lines first.
    if (is_orig && d.banner_lines == 0) ctx_.anomalies().add(kAnomMalformedVersion);
    if (++d.banner_lines > limits_.max_banner_lines) {
      ctx_.anomalies().add(kAnomTooManyBannerLines);
      stop();
      return false;
    }
    return true;
  }
  if (!seen_version_) {
    seen_version_ = true;
    first_ts_ = ts;
  }
  (is_orig ? client_ : server_) = std::string(line);
  const ProtoVersion own = proto_version(line);
  // Only SSH2 packet framing is parsed (1.99 speaks SSH2 with an SSH2 peer).
  d.state = (own == ProtoVersion::kSsh2 || own == ProtoVersion::kSsh199) ? State::kKex : State::kIgnored;
  if (client_ && server_) {
    version_ = negotiated_version(*client_, *server_);
    // SSH1 (or an incompatible pair) is not followed past the version lines.
    if (version_ != 2) stop();
  }
  return false;
}

size_t SshAnalyzer::on_packets(bool is_orig, ByteView bytes, size_t pos) {
  Direction& d = dirs_[is_orig ? 0 : 1];
  while (pos < bytes.size() && d.state == State::kKex && !stopped_) {
    Frame f;
    FrameResult r = FrameResult::kNeedMore;
    if (d.buf.empty()) {
      r = frame_packet(bytes.subspan(pos), limits_.max_packet, f);
      if (r == FrameResult::kOk) {
        on_packet(is_orig, f.payload);
        pos += f.total;
        continue;
      }
      if (r == FrameResult::kNeedMore) {
        d.buf.assign(core::as_chars(bytes.subspan(pos)));
        return bytes.size();
      }
    } else {
      // Complete the buffered packet: its length first, then the rest.
      const size_t have = d.buf.size();
      size_t want = 4;
      if (have >= 4) {
        frame_packet({reinterpret_cast<const uint8_t*>(d.buf.data()), have}, limits_.max_packet, f);
        want = f.total;
      }
      const size_t take = std::min(bytes.size() - pos, want > have ? want - have : size_t{0});
      d.buf.append(core::as_chars(bytes.subspan(pos, take)));
      pos += take;
      r = frame_packet({reinterpret_cast<const uint8_t*>(d.buf.data()), d.buf.size()}, limits_.max_packet, f);
      if (r == FrameResult::kOk) {
        on_packet(is_orig, f.payload);
        d.buf.clear();
        continue;
      }
      if (r == FrameResult::kNeedMore) continue;
    }
    ctx_.anomalies().add(r == FrameResult::kTooLong ? kAnomPacketTooLong : kAnomMalformedPacket);
    stop();
    return bytes.size();
  }
  return pos;
}

void SshAnalyzer::on_packet(bool is_orig, ByteView payload) {
  Direction& d = dirs_[is_orig ? 0 : 1];
  if (++d.packets > limits_.max_cleartext_packets) {
    ctx_.anomalies().add(kAnomTooManyCleartextPackets);
    stop();
    return;
  }
  const uint8_t type = payload[0];
  if (type == kMsgKexinit) {
    // Zeek keeps the first KEXINIT of each side.
    if (d.kexinit_seen) return;
    if (!parse_kexinit(payload, d.kexinit, ctx_.anomalies())) return;
    d.kexinit_seen = true;
    if (dirs_[0].kexinit_seen && dirs_[1].kexinit_seen) negotiate();
    return;
  }
  if (type == kMsgNewkeys) {
    d.state = State::kEncrypted;
    if (!inference_possible() && dirs_[0].state != State::kKex && dirs_[1].state != State::kKex) stop();
    return;
  }
  if (!is_orig && !host_key_ && negotiated_ && !kex_failed_) {
    ByteView key;
    if (server_host_key(family_, payload, key, ctx_.anomalies())) host_key_ = md5_fingerprint(key);
  }
}

void SshAnalyzer::negotiate() {
  const KexInit& c = dirs_[0].kexinit;
  const KexInit& s = dirs_[1].kexinit;
  negotiated_ = true;
  cipher_alg_ = find_bidirectional_alg(c.enc_c2s, c.enc_s2c, s.enc_c2s, s.enc_s2c);
  mac_alg_ = find_bidirectional_alg(c.mac_c2s, c.mac_s2c, s.mac_c2s, s.mac_s2c);
  compression_alg_ = find_bidirectional_alg(c.comp_c2s, c.comp_s2c, s.comp_c2s, s.comp_s2c);
  kex_alg_ = find_alg(c.kex, s.kex);
  host_key_alg_ = find_alg(c.host_key, s.host_key);
  kex_failed_ = *kex_alg_ == kNegotiationFailed;
  family_ = kex_family(*kex_alg_);
  if (family_ == KexFamily::kUnknown && !kex_failed_) ctx_.anomalies().add(kAnomUnknownKex);
}

void SshAnalyzer::on_encrypted(bool is_orig, size_t len, core::Timestamp ts) {
  if (!inference_possible()) {
    if (dirs_[0].state != State::kKex && dirs_[1].state != State::kKex) stop();
    return;
  }
  switch (inference_.segment(is_orig, len)) {
    case AuthInference::Event::kFailure:
      emit_attempt(false, ts);
      break;
    case AuthInference::Event::kSuccess:
      emit_attempt(true, ts);
      stop();
      return;
    case AuthInference::Event::kNone:
      break;
  }
  if (++encrypted_segments_ >= limits_.max_encrypted_segments) {
    ctx_.anomalies().add(kAnomInferenceWindowExhausted);
    stop();
  }
}

void SshAnalyzer::emit_attempt(bool success, core::Timestamp ts) {
  ++auth_attempts_;
  auth_success_ = success;
  auto rec = std::make_unique<AuthRecord>();
  rec->ts = ts;
  rec->set_conn(ctx_.conn());
  rec->proto = "ssh";
  rec->method = "inferred";
  rec->outcome = success ? AuthOutcome::kSuccess : AuthOutcome::kFailure;
  ctx_.emit(std::move(rec));
}

void SshAnalyzer::gap(bool is_orig, uint64_t bytes, core::Timestamp ts) {
  (void)is_orig;
  (void)bytes;
  (void)ts;
  // As Zeek: after a content gap nothing more is parsed (sizes lose their meaning).
  stop();
}

void SshAnalyzer::finish(core::Timestamp ts) {
  (void)ts;
  if (!seen_version_) return;
  auto rec = std::make_unique<SshRecord>();
  rec->ts = first_ts_;
  const ConnInfo& c = ctx_.conn();
  rec->uid = c.uid;
  rec->orig_h = c.orig_h;
  rec->orig_p = c.orig_p;
  rec->resp_h = c.resp_h;
  rec->resp_p = c.resp_p;
  if (version_ >= 0) rec->version = static_cast<uint32_t>(version_);
  rec->auth_success = auth_success_;
  rec->auth_attempts = auth_attempts_;
  rec->client = client_;
  rec->server = server_;
  rec->cipher_alg = cipher_alg_;
  rec->mac_alg = mac_alg_;
  rec->compression_alg = compression_alg_;
  rec->kex_alg = kex_alg_;
  rec->host_key_alg = host_key_alg_;
  rec->host_key = host_key_;
  if (dirs_[0].kexinit_seen) rec->hassh = hassh_client(dirs_[0].kexinit);
  if (dirs_[1].kexinit_seen) rec->hassh_server = hassh_server(dirs_[1].kexinit);
  ctx_.emit(std::move(rec));
}

std::unique_ptr<Analyzer> create(Context& ctx) { return std::make_unique<SshAnalyzer>(ctx); }

}  // namespace trawl::analyzers::ssh

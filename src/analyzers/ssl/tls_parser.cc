#include "analyzers/ssl/tls_parser.h"

#include <algorithm>
#include <cstring>

namespace trawl::analyzers::ssl {

namespace {

using core::ByteView;
using core::Cursor;

uint32_t load_be24(const uint8_t* p) { return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | uint32_t{p[2]}; }

bool be24(Cursor& c, uint32_t& out) {
  ByteView b;
  if (!c.bytes(3, b)) return false;
  out = load_be24(b.data());
  return true;
}

// RFC 8446 4.1.3: the ServerHello.random of a HelloRetryRequest (SHA-256 of "HelloRetryRequest").
constexpr uint8_t kHrrRandom[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
                                    0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
                                    0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

// A length-prefixed vector inside an extension: the prefix must fit and the
// vector must fit the rest of the extension.
bool vec8(Cursor& c, ByteView& out) {
  uint8_t n = 0;
  return c.u8(n) && c.bytes(n, out);
}
bool vec16(Cursor& c, ByteView& out) {
  uint16_t n = 0;
  return c.be16(n) && c.bytes(n, out);
}

bool u16_list(ByteView v, std::vector<uint16_t>& out) {
  if (v.size() % 2 != 0) return false;
  out.reserve(v.size() / 2);
  for (size_t i = 0; i + 1 < v.size(); i += 2) out.push_back(core::load_be16(v.data() + i));
  return true;
}

void append_capped(std::string& out, ByteView v, size_t cap) {
  out.assign(reinterpret_cast<const char*>(v.data()), std::min(v.size(), cap));
}

// Walks the extensions block; on_ext(type, data) is called for each kept
// extension. kPartial when the block is cut or malformed.
template <typename F>
ParseResult walk_extensions(Cursor& c, std::vector<uint16_t>& types, bool& has_block, core::Anomalies& anomalies,
                            const core::AnomalyId& malformed, const TlsLimits& limits, F&& on_ext) {
  if (c.empty()) return ParseResult::kOk;  // no extensions block (SSLv3 style)
  has_block = true;
  uint16_t total = 0;
  if (!c.be16(total)) {
    anomalies.add(malformed);
    return ParseResult::kPartial;
  }
  ByteView block;
  bool cut = false;
  if (!c.bytes(total, block)) {
    block = c.rest();
    cut = true;
  }
  Cursor e(block);
  bool limited = false;
  while (!e.empty()) {
    uint16_t type = 0;
    ByteView data;
    if (!e.be16(type) || !vec16(e, data)) {
      cut = true;
      break;
    }
    if (types.size() >= limits.max_extensions) {
      if (!limited) anomalies.add(kAnomTooManyExtensions);
      limited = true;
      continue;
    }
    types.push_back(type);
    on_ext(type, data);
  }
  if (cut) {
    anomalies.add(malformed);
    return ParseResult::kPartial;
  }
  return ParseResult::kOk;
}

void client_extension(uint16_t type, ByteView data, ClientHello& out, core::Anomalies& anomalies,
                      const TlsLimits& limits) {
  Cursor x(data);
  ByteView v;
  bool ok = true;
  switch (type) {
    case kExtServerName: {
      out.has_server_name = true;
      ok = vec16(x, v);
      Cursor l(v);
      while (ok && !l.empty()) {
        uint8_t name_type = 0;
        ByteView name;
        if (!l.u8(name_type) || !vec16(l, name)) {
          ok = false;
          break;
        }
        if (name_type != 0) continue;
        if (out.server_names++ == 0) {
          if (name.size() > limits.max_server_name) anomalies.add(kAnomServerNameTooLong);
          append_capped(out.server_name, name, limits.max_server_name);
        }
      }
      break;
    }
    case kExtAlpn: {
      ok = vec16(x, v);
      Cursor l(v);
      while (ok && !l.empty()) {
        ByteView name;
        if (!vec8(l, name)) {
          ok = false;
          break;
        }
        if (out.alpn.size() < limits.max_alpn) {
          out.alpn.emplace_back();
          append_capped(out.alpn.back(), name, limits.max_alpn_name);
        }
      }
      break;
    }
    case kExtSupportedVersions:
      ok = vec8(x, v) && u16_list(v, out.supported_versions);
      break;
    case kExtSupportedGroups:
      ok = vec16(x, v) && u16_list(v, out.groups);
      break;
    case kExtEcPointFormats:
      ok = vec8(x, v);
      if (ok) out.point_formats.assign(v.begin(), v.end());
      break;
    case kExtSignatureAlgorithms:
      ok = vec16(x, v) && u16_list(v, out.signature_algorithms);
      break;
    case kExtSessionTicket:
      out.session_ticket_data = !data.empty();
      break;
    case kExtPreSharedKey:
      out.has_psk = true;
      break;
    default:
      break;
  }
  if (!ok) anomalies.add(kAnomBadExtension);
}

void server_extension(uint16_t type, ByteView data, ServerHello& out, core::Anomalies& anomalies) {
  Cursor x(data);
  bool ok = true;
  switch (type) {
    case kExtSupportedVersions: {
      uint16_t v = 0;
      ok = x.be16(v);
      if (ok) out.selected_version = v;
      break;
    }
    case kExtAlpn: {
      ByteView list, name;
      ok = vec16(x, list);
      if (ok) {
        Cursor l(list);
        ok = vec8(l, name);
        if (ok) {
          out.has_alpn = true;
          out.alpn.assign(reinterpret_cast<const char*>(name.data()), name.size());
        }
      }
      break;
    }
    case kExtKeyShare: {
      uint16_t g = 0;
      ok = x.be16(g);
      if (ok) out.key_share_group = g;
      break;
    }
    case kExtPreSharedKey:
      out.has_psk = true;
      break;
    default:
      break;
  }
  if (!ok) anomalies.add(kAnomBadExtension);
}

}  // namespace

// ---------------------------------------------------------------- records

TlsRecordReader::Status TlsRecordReader::parse_header(RecordHeader& out, core::Anomalies& anomalies) {
  if (hdr_len_ == 2) {  // SSLv2 two-byte header (RFC 6101 E.2)
    out.ssl2 = true;
    out.version = 0x0002;
    out.length = ((uint32_t{hdr_[0]} & 0x7f) << 8) | hdr_[1];
    if (out.length < 9) {
      anomalies.add(kAnomBadRecordHeader);
      return Status::kError;
    }
    return Status::kOk;
  }
  out.content_type = hdr_[0];
  out.version = core::load_be16(hdr_ + 1);
  out.length = core::load_be16(hdr_ + 3);
  if (out.content_type < kContentChangeCipherSpec || out.content_type > kContentHeartbeat || hdr_[1] != 3 ||
      hdr_[2] > 4) {
    anomalies.add(kAnomBadRecordHeader);
    return Status::kError;
  }
  if (out.length > limits_.max_record_body) {
    anomalies.add(kAnomRecordTooLong);
    return Status::kError;
  }
  return Status::kOk;
}

TlsRecordReader::Status TlsRecordReader::feed(ByteView data, RecordHandler& h, core::Anomalies& anomalies) {
  if (failed_) return Status::kError;
  size_t pos = 0;
  while (pos < data.size()) {
    if (!in_body_) {
      if (hdr_len_ == 0) hdr_[hdr_len_++] = data[pos++];
      const size_t need = (allow_ssl2_ && records_ == 0 && (hdr_[0] & 0x80) != 0) ? 2 : 5;
      const size_t take = std::min(need - hdr_len_, data.size() - pos);
      std::memcpy(hdr_ + hdr_len_, data.data() + pos, take);
      hdr_len_ += take;
      pos += take;
      if (hdr_len_ < need) return Status::kOk;
      RecordHeader rh;
      if (parse_header(rh, anomalies) != Status::kOk) {
        failed_ = true;
        return Status::kError;
      }
      hdr_len_ = 0;
      in_body_ = true;
      remaining_ = rh.length;
      const RecordAction a = h.record_begin(rh);
      if (a == RecordAction::kStop) return Status::kStopped;
      deliver_ = a == RecordAction::kDeliver;
    }
    const size_t take = std::min<size_t>(remaining_, data.size() - pos);
    if (deliver_ && take != 0) h.record_data(data.subspan(pos, take));
    pos += take;
    remaining_ -= static_cast<uint32_t>(take);
    if (remaining_ == 0) {
      in_body_ = false;
      ++records_;
      if (!h.record_end()) return Status::kStopped;
    }
  }
  return Status::kOk;
}

// ---------------------------------------------------------------- handshake layer

bool HandshakeReader::feed(ByteView piece, HandshakeHandler& h, core::Anomalies& anomalies) {
  while (!piece.empty()) {
    if (skip_ != 0) {
      const size_t n = std::min<size_t>(skip_, piece.size());
      skip_ -= static_cast<uint32_t>(n);
      piece = piece.subspan(n);
      continue;
    }
    if (buf_.empty() && piece.size() >= 4) {
      const uint8_t type = piece[0];
      const uint32_t len = load_be24(piece.data() + 1);
      if (len > limits_.max_handshake_message) {
        anomalies.add(kAnomHandshakeTooLong);
        h.handshake_skipped(type, len);
        skip_ = len;
        piece = piece.subspan(4);
        continue;
      }
      if (piece.size() - 4 >= len) {
        if (!h.handshake_message(type, piece.subspan(4, len))) return false;
        piece = piece.subspan(4 + size_t{len});
        continue;
      }
    }
    if (buf_.size() < 4) {
      const size_t take = std::min(4 - buf_.size(), piece.size());
      buf_.append(reinterpret_cast<const char*>(piece.data()), take);
      piece = piece.subspan(take);
      if (buf_.size() < 4) return true;
      const uint32_t len = load_be24(reinterpret_cast<const uint8_t*>(buf_.data()) + 1);
      if (len > limits_.max_handshake_message) {
        anomalies.add(kAnomHandshakeTooLong);
        h.handshake_skipped(static_cast<uint8_t>(buf_[0]), len);
        skip_ = len;
        buf_.clear();
        continue;
      }
    }
    const auto* hdr = reinterpret_cast<const uint8_t*>(buf_.data());
    const size_t total = 4 + size_t{load_be24(hdr + 1)};
    const size_t take = std::min(total - buf_.size(), piece.size());
    buf_.append(reinterpret_cast<const char*>(piece.data()), take);
    piece = piece.subspan(take);
    if (buf_.size() == total) {
      const auto* m = reinterpret_cast<const uint8_t*>(buf_.data());
      const bool go_on = h.handshake_message(m[0], ByteView(m + 4, total - 4));
      buf_.clear();
      if (!go_on) return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------- messages

ParseResult parse_client_hello(ByteView body, ClientHello& out, core::Anomalies& anomalies, const TlsLimits& limits) {
  out = ClientHello{};
  Cursor c(body);
  ByteView random, sid, ciphers, comp;
  if (!c.be16(out.version) || !c.bytes(32, random) || !vec8(c, sid) || sid.size() > 32 || !vec16(c, ciphers) ||
      ciphers.size() % 2 != 0 || !vec8(c, comp)) {
    anomalies.add(kAnomBadClientHello);
    return ParseResult::kError;
  }
  std::memcpy(out.random.data(), random.data(), 32);
  out.session_id.assign(reinterpret_cast<const char*>(sid.data()), sid.size());
  u16_list(ciphers, out.ciphers);
  out.compressions.assign(comp.begin(), comp.end());
  return walk_extensions(c, out.extensions, out.has_extensions, anomalies, kAnomBadClientHello, limits,
                         [&](uint16_t type, ByteView data) { client_extension(type, data, out, anomalies, limits); });
}

ParseResult parse_ssl2_client_hello(ByteView body, ClientHello& out, core::Anomalies& anomalies) {
  out = ClientHello{};
  out.ssl2 = true;
  Cursor c(body);
  uint8_t type = 0;
  uint16_t cs_len = 0, sid_len = 0, chal_len = 0;
  ByteView specs, sid, chal;
  if (!c.u8(type) || type != 1 || !c.be16(out.version) || !c.be16(cs_len) || !c.be16(sid_len) ||
      !c.be16(chal_len) || cs_len % 3 != 0 || sid_len > 32 || chal_len < 16 || chal_len > 32 ||
      !c.bytes(cs_len, specs) || !c.bytes(sid_len, sid) || !c.bytes(chal_len, chal)) {
    anomalies.add(kAnomBadClientHello);
    return ParseResult::kError;
  }
  for (size_t i = 0; i + 2 < specs.size(); i += 3) {
    if (specs[i] == 0) out.ciphers.push_back(core::load_be16(specs.data() + i + 1));
  }
  out.session_id.assign(reinterpret_cast<const char*>(sid.data()), sid.size());
  // The challenge is the right-aligned client random (RFC 5246 E.2).
  std::memcpy(out.random.data() + (32 - chal.size()), chal.data(), chal.size());
  return ParseResult::kOk;
}

ParseResult parse_server_hello(ByteView body, ServerHello& out, core::Anomalies& anomalies, const TlsLimits& limits) {
  out = ServerHello{};
  Cursor c(body);
  ByteView random, sid;
  if (!c.be16(out.version) || !c.bytes(32, random) || !vec8(c, sid) || sid.size() > 32 || !c.be16(out.cipher) ||
      !c.u8(out.compression)) {
    anomalies.add(kAnomBadServerHello);
    return ParseResult::kError;
  }
  std::memcpy(out.random.data(), random.data(), 32);
  out.hello_retry_request = std::memcmp(random.data(), kHrrRandom, 32) == 0;
  out.session_id.assign(reinterpret_cast<const char*>(sid.data()), sid.size());
  return walk_extensions(c, out.extensions, out.has_extensions, anomalies, kAnomBadServerHello, limits,
                         [&](uint16_t type, ByteView data) { server_extension(type, data, out, anomalies); });
}

ParseResult parse_certificate_list(ByteView body, std::vector<ByteView>& certs, core::Anomalies& anomalies,
                                   const TlsLimits& limits) {
  certs.clear();
  Cursor c(body);
  uint32_t total = 0;
  ByteView list;
  if (!be24(c, total) || !c.bytes(total, list)) {
    anomalies.add(kAnomBadCertificateMessage);
    return ParseResult::kError;
  }
  Cursor l(list);
  while (!l.empty()) {
    uint32_t n = 0;
    ByteView der;
    if (!be24(l, n) || !l.bytes(n, der)) {
      anomalies.add(kAnomBadCertificateMessage);
      return ParseResult::kPartial;
    }
    if (certs.size() >= limits.max_certificates) {
      anomalies.add(kAnomTooManyCertificates);
      return ParseResult::kPartial;
    }
    certs.push_back(der);
  }
  return ParseResult::kOk;
}

std::optional<uint16_t> server_key_exchange_curve(ByteView body) {
  constexpr uint8_t kNamedCurve = 3;  // RFC 8422 5.4 ECCurveType
  if (body.size() < 3 || body[0] != kNamedCurve) return std::nullopt;
  return core::load_be16(body.data() + 1);
}

}  // namespace trawl::analyzers::ssl

#include "analyzers/rdp/rdp_parser.h"

#include <algorithm>
#include <string_view>

#include "core/utf8.h"

namespace trawl::analyzers::rdp {

namespace {

using core::ByteView;
using core::Cursor;

constexpr std::string_view kCookiePrefix = "Cookie: ";
constexpr std::string_view kMstshash = "mstshash=";
constexpr uint8_t kNegReq = 0x01;
constexpr uint8_t kNegRsp = 0x02;
constexpr uint8_t kNegFailure = 0x03;
constexpr uint16_t kCsCore = 0xc001;
constexpr uint16_t kCsNet = 0xc003;
constexpr uint16_t kScSecurity = 0x0c02;
constexpr size_t kCoreMandatory = 128;  // TS_UD_CS_CORE body up to imeFileName

// BER identifier and length (X.690): class/constructed byte and tag number.
struct BerTag {
  uint8_t first = 0;
  uint32_t number = 0;
};

bool ber_tag(Cursor& c, BerTag& t) {
  if (!c.u8(t.first)) return false;
  t.number = t.first & 0x1fu;
  if (t.number != 0x1f) return true;
  t.number = 0;
  for (int i = 0; i < 4; ++i) {
    uint8_t b = 0;
    if (!c.u8(b)) return false;
    t.number = (t.number << 7) | (b & 0x7fu);
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

bool ber_length(Cursor& c, size_t& len) {
  uint8_t b = 0;
  if (!c.u8(b)) return false;
  if (b < 0x80) {
    len = b;
    return true;
  }
  const int n = b & 0x7f;
  if (n == 0 || n > 4) return false;  // indefinite or absurd
  len = 0;
  for (int i = 0; i < n; ++i) {
    uint8_t x = 0;
    if (!c.u8(x)) return false;
    len = (len << 8) | x;
  }
  return true;
}

// Reads one TLV whose identifier byte must be `first`; `value` is its contents.
bool ber_tlv(Cursor& c, uint8_t first, ByteView& value) {
  BerTag t;
  size_t len = 0;
  if (!ber_tag(c, t) || t.first != first || !ber_length(c, len)) return false;
  return c.bytes(len, value);
}

// An MCS [APPLICATION n] header (7f <n>), then its contents.
bool mcs_application(ByteView mcs, uint32_t number, ByteView& contents) {
  Cursor c(mcs);
  BerTag t;
  size_t len = 0;
  if (!ber_tag(c, t) || t.first != 0x7f || t.number != number || !ber_length(c, len)) return false;
  return c.bytes(len, contents);
}

// T.124 data blocks: the PER length after the H.221 key, then the blocks.
// `key_at` is the offset of the key in `gcc`. Returns the block bytes.
ByteView gcc_blocks(ByteView gcc, size_t key_at, core::Anomalies& anomalies) {
  Cursor c(gcc.subspan(key_at + 4));
  uint8_t b0 = 0;
  if (!c.u8(b0)) {
    anomalies.add(kAnomMalformedMcs);
    return {};
  }
  size_t len = b0;
  if ((b0 & 0x80) != 0) {
    uint8_t b1 = 0;
    if ((b0 & 0x40) != 0 || !c.u8(b1)) {
      anomalies.add(kAnomMalformedMcs);
      return {};
    }
    len = (size_t{b0 & 0x3fu} << 8) | b1;
  }
  if (len > c.remaining()) {
    anomalies.add(kAnomMalformedMcs);
    len = c.remaining();
  }
  ByteView out;
  c.bytes(len, out);
  return out;
}

size_t find_key(ByteView gcc, std::string_view key) {
  const std::string_view s = core::as_chars(gcc);
  return s.find(key);
}

// Calls f(type, body) for each TS_UD_HEADER block.
template <typename F>
void for_each_block(ByteView blocks, core::Anomalies& anomalies, F&& f) {
  Cursor c(blocks);
  while (!c.empty()) {
    uint16_t type = 0;
    uint16_t len = 0;
    ByteView body;
    if (!c.le16(type) || !c.le16(len) || len < 4 || !c.bytes(len - 4u, body)) {
      anomalies.add(kAnomMalformedDataBlock);
      return;
    }
    f(type, body);
  }
}

void parse_client_core(ByteView body, ClientData& out, core::Anomalies& anomalies) {
  if (body.size() < kCoreMandatory) {
    anomalies.add(kAnomMalformedDataBlock);
    return;
  }
  Cursor c(body);
  ClientCore core;
  uint16_t sas = 0;
  ByteView name;
  c.le32(core.version);
  c.le16(core.desktop_width);
  c.le16(core.desktop_height);
  c.le16(core.color_depth);
  c.le16(sas);
  c.le32(core.keyboard_layout);
  c.le32(core.client_build);
  c.bytes(32, name);
  core.client_name = utf16le_to_utf8(name);
  c.skip(12 + 64);  // keyboard type, subtype, function keys; IME file name
  uint16_t post_beta2 = 0;
  uint16_t product_id = 0;
  uint32_t serial = 0;
  uint16_t v16 = 0;
  if (c.le16(post_beta2) && c.le16(product_id) && c.le32(serial)) {
    if (c.le16(v16)) core.high_color_depth = v16;
    if (c.skip(2) && c.le16(v16)) core.early_capability_flags = v16;  // after supportedColorDepths
    ByteView dig;
    if (c.bytes(64, dig)) core.dig_product_id = utf16le_to_utf8(dig);
  }
  out.core = std::move(core);
}

void parse_client_net(ByteView body, ClientData& out, core::Anomalies& anomalies, const Limits& limits) {
  Cursor c(body);
  uint32_t count = 0;
  if (!c.le32(count)) {
    anomalies.add(kAnomMalformedDataBlock);
    return;
  }
  out.channel_count = count;
  if (count > 31) anomalies.add(kAnomTooManyChannels);
  std::vector<std::string> names;
  for (uint32_t i = 0; i < count && names.size() < limits.max_channels; ++i) {
    ByteView name;
    uint32_t options = 0;
    if (!c.bytes(8, name) || !c.le32(options)) {
      anomalies.add(kAnomMalformedDataBlock);
      break;
    }
    std::string_view n = core::as_chars(name);
    while (!n.empty() && n.back() == '\0') n.remove_suffix(1);
    names.emplace_back(n);
  }
  out.channels = std::move(names);
}

void parse_server_security(ByteView body, ServerData& out, core::Anomalies& anomalies, const Limits& limits) {
  Cursor c(body);
  uint32_t method = 0;
  uint32_t level = 0;
  if (!c.le32(method) || !c.le32(level)) {
    anomalies.add(kAnomMalformedDataBlock);
    return;
  }
  out.encryption_method = method;
  out.encryption_level = level;
  uint32_t random_len = 0;
  uint32_t cert_len = 0;
  if (c.empty()) return;  // no encryption: neither random nor certificate
  ByteView random;
  ByteView cert;
  if (!c.le32(random_len) || !c.le32(cert_len) || !c.bytes(random_len, random) || !c.bytes(cert_len, cert)) {
    anomalies.add(kAnomMalformedDataBlock);
    return;
  }
  if (cert.empty()) return;
  Cursor cc(cert);
  uint32_t version = 0;
  if (!cc.le32(version)) {
    anomalies.add(kAnomMalformedDataBlock);
    return;
  }
  out.cert_type = version & 0x7fffffffu;
  out.cert_permanent = (version & 0x80000000u) == 0;
  if (*out.cert_type == 1) {
    out.cert_count = 1;
  } else if (*out.cert_type == 2) {
    uint32_t blobs = 0;
    if (!cc.le32(blobs)) {
      anomalies.add(kAnomMalformedDataBlock);
      return;
    }
    if (blobs > limits.max_certs) anomalies.add(kAnomTooManyCerts);
    for (uint32_t i = 0; i < blobs && out.cert_count < limits.max_certs; ++i) {
      uint32_t len = 0;
      if (!cc.le32(len) || !cc.skip(len)) {
        anomalies.add(kAnomMalformedDataBlock);
        return;
      }
      ++out.cert_count;
    }
  }
}

}  // namespace

TpktResult frame_tpkt(ByteView in, size_t& total) {
  total = 0;
  if (!in.empty() && in[0] != 3) return TpktResult::kNotTpkt;
  if (in.size() >= 2 && in[1] != 0) return TpktResult::kNotTpkt;
  if (in.size() < 4) return TpktResult::kNeedMore;
  total = core::load_be16(in.data() + 2);
  if (total < 7) return TpktResult::kBadLength;  // header + the smallest TPDU (DT)
  return in.size() < total ? TpktResult::kNeedMore : TpktResult::kOk;
}

bool parse_tpdu(ByteView tpkt, Tpdu& out, core::Anomalies& anomalies) {
  out = Tpdu{};
  if (tpkt.size() < 6) {
    anomalies.add(kAnomMalformedX224);
    return false;
  }
  const size_t li = tpkt[4];
  out.code = tpkt[5] & 0xf0;
  const size_t header_end = 5 + li;  // LI counts the header bytes after itself
  const size_t fixed = out.code == kTpduData ? 3 : 7;
  if (li + 1 < fixed || header_end > tpkt.size()) {
    anomalies.add(kAnomMalformedX224);
    return false;
  }
  if (out.code == kTpduData) {
    out.rest = tpkt.subspan(header_end);
  } else {
    out.rest = tpkt.subspan(4 + fixed, header_end - 4 - fixed);
  }
  return true;
}

void parse_connection_request(ByteView rest, ConnectionRequest& out, core::Anomalies& anomalies) {
  out = ConnectionRequest{};
  std::string_view s = core::as_chars(rest);
  if (s.substr(0, kCookiePrefix.size()) == kCookiePrefix) {
    const size_t end = s.find("\r\n");
    if (end == std::string_view::npos) {
      anomalies.add(kAnomMalformedCookie);
      return;
    }
    std::string_view value = s.substr(kCookiePrefix.size(), end - kCookiePrefix.size());
    if (value.substr(0, kMstshash.size()) == kMstshash) {
      out.cookie = std::string(value.substr(kMstshash.size()));
    } else {
      out.routing_token = std::string(value);
    }
    rest = rest.subspan(end + 2);
  }
  if (rest.empty()) return;
  Cursor c(rest);
  uint8_t type = 0;
  uint16_t len = 0;
  uint32_t protocols = 0;
  if (!c.u8(type) || type != kNegReq || !c.u8(out.neg_flags) || !c.le16(len) || len != 8 || !c.le32(protocols)) {
    anomalies.add(kAnomMalformedNegotiation);
    return;
  }
  out.requested_protocols = protocols;
  // RDP_NEG_CORRELATION_INFO (type 6, 36 bytes) may follow; nothing of it is logged.
}

void parse_connection_confirm(ByteView rest, ConnectionConfirm& out, core::Anomalies& anomalies) {
  out = ConnectionConfirm{};
  if (rest.empty()) return;  // a legacy server: no negotiation, standard RDP security
  Cursor c(rest);
  uint8_t type = 0;
  uint16_t len = 0;
  uint32_t value = 0;
  if (!c.u8(type) || !c.u8(out.flags) || !c.le16(len) || len != 8 || !c.le32(value) ||
      (type != kNegRsp && type != kNegFailure)) {
    anomalies.add(kAnomMalformedNegotiation);
    return;
  }
  (type == kNegRsp ? out.selected_protocol : out.failure_code) = value;
}

bool parse_connect_initial(ByteView mcs, ClientData& out, core::Anomalies& anomalies, const Limits& limits) {
  out = ClientData{};
  ByteView body;
  if (!mcs_application(mcs, 101, body)) return false;
  Cursor c(body);
  ByteView v;
  // callingDomainSelector, calledDomainSelector, upwardFlag, the three
  // DomainParameters, then userData.
  if (!ber_tlv(c, 0x04, v) || !ber_tlv(c, 0x04, v) || !ber_tlv(c, 0x01, v) || !ber_tlv(c, 0x30, v) ||
      !ber_tlv(c, 0x30, v) || !ber_tlv(c, 0x30, v) || !ber_tlv(c, 0x04, v)) {
    anomalies.add(kAnomMalformedMcs);
    return false;
  }
  const size_t key = find_key(v, "Duca");
  if (key == std::string_view::npos) {
    anomalies.add(kAnomMalformedMcs);
    return false;
  }
  for_each_block(gcc_blocks(v, key, anomalies), anomalies, [&](uint16_t type, ByteView b) {
    if (type == kCsCore && !out.core) parse_client_core(b, out, anomalies);
    if (type == kCsNet && !out.channels) parse_client_net(b, out, anomalies, limits);
  });
  return true;
}

bool parse_connect_response(ByteView mcs, ServerData& out, core::Anomalies& anomalies, const Limits& limits) {
  out = ServerData{};
  ByteView body;
  if (!mcs_application(mcs, 102, body)) return false;
  Cursor c(body);
  ByteView v;
  // result, calledConnectId, domainParameters, userData.
  if (!ber_tlv(c, 0x0a, v) || !ber_tlv(c, 0x02, v) || !ber_tlv(c, 0x30, v) || !ber_tlv(c, 0x04, v)) {
    anomalies.add(kAnomMalformedMcs);
    return false;
  }
  const size_t key = find_key(v, "McDn");
  if (key == std::string_view::npos || key < 4) {
    anomalies.add(kAnomMalformedMcs);
    return false;
  }
  // ConferenceCreateResponse: ... result, one user data set, c0, 00, "McDn".
  out.result = v[key - 4];
  bool security = false;
  for_each_block(gcc_blocks(v, key, anomalies), anomalies, [&](uint16_t type, ByteView b) {
    if (type == kScSecurity && !security) {
      security = true;
      parse_server_security(b, out, anomalies, limits);
    }
  });
  return true;
}

std::string utf16le_to_utf8(ByteView in) {
  std::string out;
  for (size_t i = 0; i + 1 < in.size(); i += 2) {
    uint32_t u = core::load_le16(in.data() + i);
    if (u == 0) break;
    if (u >= 0xd800 && u <= 0xdbff && i + 3 < in.size()) {
      const uint32_t lo = core::load_le16(in.data() + i + 2);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        core::append_utf8(out, 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
        i += 2;
        continue;
      }
    }
    if (u >= 0xd800 && u <= 0xdfff) u = 0xfffd;
    core::append_utf8(out, u);
  }
  return out;
}

}  // namespace trawl::analyzers::rdp

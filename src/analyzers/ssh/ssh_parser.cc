#include "analyzers/ssh/ssh_parser.h"

#include <openssl/evp.h>

namespace trawl::analyzers::ssh {

namespace {

using core::ByteView;
using core::Cursor;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Reads an SSH "string" (uint32 length + bytes) from the cursor.
bool read_string(Cursor& c, ByteView& out) {
  uint32_t len = 0;
  if (!c.be32(len)) return false;
  return c.bytes(len, out);
}

// Calls f(name) for each non-empty name of a comma-separated list; stops
// early when f returns true and returns that.
template <typename F>
bool for_each_name(std::string_view list, F&& f) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view name = list.substr(start, comma - start);
    if (!name.empty() && f(name)) return true;
    start = comma + 1;
  }
  return false;
}

void append_hex(std::string& out, const unsigned char* d, size_t n, bool colons) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    if (colons && i != 0) out.push_back(':');
    out.push_back(kHex[d[i] >> 4]);
    out.push_back(kHex[d[i] & 0x0f]);
  }
}

// MD5 through OpenSSL (already linked by core). Zero digest if the provider
// refuses MD5, which only a FIPS-only OpenSSL configuration does.
void md5(const void* data, size_t n, unsigned char out[16]) {
  unsigned int len = 0;
  if (EVP_Digest(data, n, out, &len, EVP_md5(), nullptr) != 1 || len != 16) {
    for (int i = 0; i < 16; ++i) out[i] = 0;
  }
}

}  // namespace

bool is_version_line(std::string_view line) {
  if (!starts_with(line, "SSH-")) return false;
  size_t i = 4;
  bool digit = false;
  while (i < line.size() && (is_digit(line[i]) || line[i] == '.')) {
    digit = digit || is_digit(line[i]);
    ++i;
  }
  return digit && i < line.size() && line[i] == '-';
}

ProtoVersion proto_version(std::string_view v) {
  if (v.size() < 5) return ProtoVersion::kUnknown;
  if (v[4] == '2') return ProtoVersion::kSsh2;
  if (v[4] == '1') {
    if (v.size() >= 8 && v[6] == '9' && v[7] == '9') return ProtoVersion::kSsh199;
    return ProtoVersion::kSsh1;
  }
  return ProtoVersion::kUnknown;
}

int negotiated_version(std::string_view client, std::string_view server) {
  // Zeek's script needs both strings longer than 4 characters.
  if (client.size() <= 4 || server.size() <= 4) return -1;
  const ProtoVersion c = proto_version(client);
  const ProtoVersion s = proto_version(server);
  if (c == ProtoVersion::kUnknown || s == ProtoVersion::kUnknown) return -1;
  const bool c1 = c != ProtoVersion::kSsh2;
  const bool s1 = s != ProtoVersion::kSsh2;
  if (!c1 && !s1) return 2;
  if (c1 && !s1) return c == ProtoVersion::kSsh199 ? 2 : 0;
  if (!c1 && s1) return s == ProtoVersion::kSsh199 ? 2 : 0;
  // Both 1.x: 1.99 on both sides is 2, otherwise 1.
  return (c == ProtoVersion::kSsh199 && s == ProtoVersion::kSsh199) ? 2 : 1;
}

FrameResult frame_packet(ByteView in, size_t max_packet, Frame& frame) {
  frame = Frame{};
  if (in.size() < 4) return FrameResult::kNeedMore;
  const uint32_t packet_length = core::load_be32(in.data());
  const uint64_t total = uint64_t{packet_length} + 4;
  if (total > max_packet) return FrameResult::kTooLong;
  frame.total = static_cast<size_t>(total);
  // padding_length byte + message number at least.
  if (packet_length < 2) return FrameResult::kMalformed;
  if (in.size() < frame.total) return FrameResult::kNeedMore;
  const uint8_t padding = in[4];
  if (uint32_t{padding} + 2 > packet_length) return FrameResult::kMalformed;
  frame.payload = in.subspan(5, packet_length - padding - 1u);
  return FrameResult::kOk;
}

bool parse_kexinit(ByteView payload, KexInit& out, core::Anomalies& anomalies) {
  out = KexInit{};
  Cursor c(payload);
  uint8_t type = 0;
  if (!c.u8(type) || type != kMsgKexinit || !c.skip(16)) {
    anomalies.add(kAnomMalformedKexinit);
    return false;
  }
  std::string* lists[] = {&out.kex,      &out.host_key, &out.enc_c2s,  &out.enc_s2c,  &out.mac_c2s,
                          &out.mac_s2c,  &out.comp_c2s, &out.comp_s2c, &out.lang_c2s, &out.lang_s2c};
  for (std::string* l : lists) {
    ByteView v;
    if (!read_string(c, v)) {
      anomalies.add(kAnomMalformedKexinit);
      return false;
    }
    l->assign(core::as_chars(v));
  }
  uint8_t follows = 0;
  uint32_t reserved = 0;
  if (!c.u8(follows) || !c.be32(reserved)) {
    anomalies.add(kAnomMalformedKexinit);
    return false;
  }
  out.first_kex_follows = follows != 0;
  return true;
}

KexFamily kex_family(std::string_view a) {
  if (starts_with(a, "diffie-hellman-group-exchange-")) return KexFamily::kDhGex;
  if (starts_with(a, "diffie-hellman-group")) return KexFamily::kDh;
  if (starts_with(a, "ecdh-sha2-") || a == "ecmqv-sha2" || starts_with(a, "curve25519-sha256") ||
      starts_with(a, "curve448-sha512") || starts_with(a, "sntrup761x25519-sha512") ||
      starts_with(a, "mlkem768x25519-sha256") || starts_with(a, "mlkem768nistp256-sha256") ||
      starts_with(a, "mlkem1024nistp384-sha384")) {
    return KexFamily::kEcdh;
  }
  if (starts_with(a, "gss-")) return KexFamily::kGss;
  if (a == "rsa1024-sha1" || a == "rsa2048-sha256") return KexFamily::kRsa;
  return KexFamily::kUnknown;
}

bool server_host_key(KexFamily family, ByteView payload, ByteView& key, core::Anomalies& anomalies) {
  if (payload.empty()) return false;
  uint8_t want = kMsgKexdhReply;
  switch (family) {
    case KexFamily::kDhGex:
      want = kMsgKexDhGexReply;
      break;
    case KexFamily::kGss:
      want = kMsgKexGssHostkey;
      break;
    case KexFamily::kRsa:
      want = kMsgKexRsaPubkey;
      break;
    case KexFamily::kDh:
    case KexFamily::kEcdh:
    case KexFamily::kUnknown:
      break;
  }
  if (payload[0] != want) return false;
  Cursor c(payload.subspan(1));
  ByteView k;
  if (!read_string(c, k) || k.empty()) {
    anomalies.add(kAnomMalformedKexReply);
    return false;
  }
  key = k;
  return true;
}

std::string find_alg(std::string_view client_list, std::string_view server_list) {
  std::string found;
  for_each_name(client_list, [&](std::string_view c) {
    const bool common = for_each_name(server_list, [&](std::string_view s) { return s == c; });
    if (common) found.assign(c);
    return common;
  });
  if (found.empty()) found = kNegotiationFailed;
  return found;
}

std::string find_bidirectional_alg(std::string_view client_c2s, std::string_view client_s2c,
                                   std::string_view server_c2s, std::string_view server_s2c) {
  std::string to_server = find_alg(client_c2s, server_c2s);
  std::string to_client = find_alg(client_s2c, server_s2c);
  if (to_server == to_client) return to_server;
  return "To server: " + to_server + ", to client: " + to_client;
}

std::string md5_fingerprint(ByteView key) {
  unsigned char d[16];
  md5(key.data(), key.size(), d);
  std::string out;
  out.reserve(47);
  append_hex(out, d, 16, true);
  return out;
}

std::string md5_hex(std::string_view data) {
  unsigned char d[16];
  md5(data.data(), data.size(), d);
  std::string out;
  out.reserve(32);
  append_hex(out, d, 16, false);
  return out;
}

std::string hassh_client(const KexInit& k) {
  return md5_hex(k.kex + ';' + k.enc_c2s + ';' + k.mac_c2s + ';' + k.comp_c2s);
}

std::string hassh_server(const KexInit& k) {
  return md5_hex(k.kex + ';' + k.enc_s2c + ';' + k.mac_s2c + ';' + k.comp_s2c);
}

AuthInference::Event AuthInference::segment(bool is_orig, size_t len_in) {
  if (decided_) return Event::kNone;
  if (is_orig) {
    saw_client_data_ = true;
    return Event::kNone;
  }
  // Server data before any encrypted client data is ignored.
  if (!saw_client_data_) return Event::kNone;
  const auto len = static_cast<int64_t>(len_in);
  if (service_accept_size_ == 0) {
    service_accept_size_ = len;
    return Event::kNone;
  }
  // USERAUTH_SUCCESS right away: "none" authentication was accepted.
  if (failure_size_ == 0 && len + 16 == service_accept_size_) {
    decided_ = true;
    return Event::kSuccess;
  }
  if (failure_size_ == 0) {
    if (!skipped_banner_ && len - service_accept_size_ > 256) {
      skipped_banner_ = true;
      return Event::kNone;
    }
    failure_size_ = len;
    return Event::kNone;
  }
  if (len == failure_size_) return Event::kFailure;
  if (len - service_accept_size_ == -16) {
    decided_ = true;
    return Event::kSuccess;
  }
  return Event::kNone;
}

}  // namespace trawl::analyzers::ssh

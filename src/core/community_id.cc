// Community ID v1, written from the public spec
// (https://github.com/corelight/community-id-spec): SHA-1 over
//   seed (2 bytes, big endian) | src addr | dst addr | proto | 0 | [sport | dport]
// with the endpoints ordered so both directions hash the same, then
// "1:" + base64(digest). Ports are hashed only for TCP, UDP, SCTP, ICMP and
// ICMPv6; for ICMP they are the message type and the counterpart type (or the
// code for message types without a counterpart, which are then not reordered).
#include "core/community_id.h"

#include <openssl/evp.h>

#include <array>
#include <cstring>

namespace trawl::core {

namespace {

constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint8_t kProtoSctp = 132;

struct IcmpPorts {
  uint16_t sport;
  uint16_t dport;
  bool one_way;
};

// The spec's table, which differs slightly from Zeek's own (e.g. the spec
// pairs router solicitation 10 with advertisement 9 only in that direction).
IcmpPorts icmp4_ports(uint16_t type, uint16_t code) {
  switch (type) {
    case 8: return {type, 0, false};    // echo request -> reply
    case 0: return {type, 8, false};    // echo reply -> request
    case 13: return {type, 14, false};  // timestamp
    case 14: return {type, 13, false};
    case 15: return {type, 16, false};  // information
    case 16: return {type, 15, false};
    case 10: return {type, 9, false};   // router solicitation -> advertisement
    case 17: return {type, 18, false};  // address mask
    case 18: return {type, 17, false};
    default: return {type, code, true};
  }
}

IcmpPorts icmp6_ports(uint16_t type, uint16_t code) {
  switch (type) {
    case 128: return {type, 129, false};  // echo
    case 129: return {type, 128, false};
    case 133: return {type, 134, false};  // router solicitation / advertisement
    case 134: return {type, 133, false};
    case 135: return {type, 136, false};  // neighbor solicitation / advertisement
    case 136: return {type, 135, false};
    case 130: return {type, 131, false};  // MLD query / report
    case 131: return {type, 130, false};
    case 139: return {type, 140, false};  // node information ("who are you")
    case 140: return {type, 139, false};
    case 144: return {type, 145, false};  // home agent address discovery
    case 145: return {type, 144, false};
    default: return {type, code, true};
  }
}

// One digest per connection record: fetch SHA-1 once and keep a context per
// thread, since a one-shot EVP_Digest looks the algorithm up (under a lock)
// on every call.
struct Sha1 {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  ~Sha1() { EVP_MD_free(md); }
};
struct Sha1Ctx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Sha1Ctx() { EVP_MD_CTX_free(ctx); }
};

bool sha1(const uint8_t* data, size_t n, unsigned char* out, unsigned int& out_len) {
  static const Sha1 kSha1;
  thread_local Sha1Ctx local;
  if (kSha1.md == nullptr || local.ctx == nullptr) return false;
  return EVP_DigestInit_ex(local.ctx, kSha1.md, nullptr) == 1 && EVP_DigestUpdate(local.ctx, data, n) == 1 &&
         EVP_DigestFinal_ex(local.ctx, out, &out_len) == 1;
}

// Orders (address, port) pairs the way the spec does: address bytes first,
// then the port.
bool endpoint_less(const IpAddress& a1, uint16_t p1, const IpAddress& a2, uint16_t p2) {
  int c = std::memcmp(a1.wire_data(), a2.wire_data(), a1.wire_size());
  return c < 0 || (c == 0 && p1 < p2);
}

}  // namespace

std::string community_id_v1(const IpAddress& src, const IpAddress& dst, uint8_t proto, uint16_t sport,
                            uint16_t dport, uint16_t seed) {
  bool has_ports = proto == kProtoTcp || proto == kProtoUdp || proto == kProtoSctp || proto == kProtoIcmp ||
                   proto == kProtoIcmpv6;
  bool one_way = false;
  if (proto == kProtoIcmp || proto == kProtoIcmpv6) {
    IcmpPorts p = proto == kProtoIcmp ? icmp4_ports(sport, dport) : icmp6_ports(sport, dport);
    sport = p.sport;
    dport = p.dport;
    one_way = p.one_way;
  }
  if (!has_ports) sport = dport = 0;

  const IpAddress* a = &src;
  const IpAddress* b = &dst;
  uint16_t pa = sport;
  uint16_t pb = dport;
  if (!one_way && !endpoint_less(src, sport, dst, dport)) {
    a = &dst;
    b = &src;
    pa = dport;
    pb = sport;
  }

  // At most 2 + 16 + 16 + 2 + 4 bytes.
  std::array<uint8_t, 40> buf{};
  size_t n = 0;
  buf[n++] = static_cast<uint8_t>(seed >> 8);
  buf[n++] = static_cast<uint8_t>(seed);
  std::memcpy(buf.data() + n, a->wire_data(), a->wire_size());
  n += a->wire_size();
  std::memcpy(buf.data() + n, b->wire_data(), b->wire_size());
  n += b->wire_size();
  buf[n++] = proto;
  buf[n++] = 0;
  if (has_ports) {
    buf[n++] = static_cast<uint8_t>(pa >> 8);
    buf[n++] = static_cast<uint8_t>(pa);
    buf[n++] = static_cast<uint8_t>(pb >> 8);
    buf[n++] = static_cast<uint8_t>(pb);
  }

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;
  if (!sha1(buf.data(), n, digest.data(), digest_len) || digest_len != 20) {
    return {};  // libcrypto failure: no id rather than a wrong one
  }
  // base64 of 20 bytes is 28 characters; EVP_EncodeBlock NUL-terminates.
  std::array<unsigned char, 32> b64{};
  int b64_len = EVP_EncodeBlock(b64.data(), digest.data(), static_cast<int>(digest_len));
  std::string out = "1:";
  out.append(reinterpret_cast<const char*>(b64.data()), static_cast<size_t>(b64_len));
  return out;
}

}  // namespace trawl::core

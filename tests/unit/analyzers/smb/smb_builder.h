// Byte-exact builders for the SMB tests: NBSS framing, SMB1 messages with
// AndX chains, SMB2 messages and compounds, NTLMSSP messages, SPNEGO/GSS-API
// wrappers (DER) and DCE/RPC PDUs. Field layouts follow MS-SMB, MS-SMB2,
// MS-NLMP, RFC 4178 and C706; each builder writes what the spec lists, in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/byte_view.h"

namespace trawl::analyzers::smb::test_util {

struct Bytes {
  std::vector<uint8_t> b;

  Bytes& u8(unsigned v) {
    b.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  Bytes& u16(unsigned v) { return u8(v & 0xff).u8((v >> 8) & 0xff); }
  Bytes& u32(uint32_t v) { return u16(v & 0xffff).u16(v >> 16); }
  Bytes& u64(uint64_t v) { return u32(static_cast<uint32_t>(v)).u32(static_cast<uint32_t>(v >> 32)); }
  Bytes& be16(unsigned v) { return u8((v >> 8) & 0xff).u8(v & 0xff); }
  Bytes& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
  Bytes& ascii(std::string_view s, bool nul = true) {
    for (char c : s) u8(static_cast<unsigned char>(c));
    if (nul) u8(0);
    return *this;
  }
  // ASCII to UTF-16LE.
  Bytes& utf16(std::string_view s, bool nul = true) {
    for (char c : s) u16(static_cast<unsigned char>(c));
    if (nul) u16(0);
    return *this;
  }
  Bytes& append(const Bytes& o) { return append(o.b); }
  Bytes& append(const std::vector<uint8_t>& o) {
    b.insert(b.end(), o.begin(), o.end());
    return *this;
  }
  Bytes& pad_to(size_t align) {
    while (b.size() % align) u8(0);
    return *this;
  }
  void put16(size_t at, unsigned v) {
    b[at] = static_cast<uint8_t>(v & 0xff);
    b[at + 1] = static_cast<uint8_t>((v >> 8) & 0xff);
  }
  void put32(size_t at, uint32_t v) {
    put16(at, v & 0xffff);
    put16(at + 2, v >> 16);
  }
  size_t size() const { return b.size(); }
  core::ByteView view() const { return {b.data(), b.size()}; }
};

inline std::vector<uint8_t> utf16_bytes(std::string_view s, bool nul = false) {
  Bytes x;
  x.utf16(s, nul);
  return x.b;
}

// ---- NBSS ----

inline std::vector<uint8_t> nbss(const std::vector<uint8_t>& msg, uint8_t type = 0x00) {
  Bytes x;
  x.u8(type).u8((msg.size() >> 16) & 0xff).be16(msg.size() & 0xffff).append(msg);
  return x.b;
}

// NBSS session request with two first-level encoded NetBIOS names.
inline std::vector<uint8_t> nbss_session_request(std::string_view called, std::string_view calling) {
  auto encode = [](Bytes& x, std::string_view name) {
    std::string n(name);
    n.resize(15, ' ');
    n.push_back(0x20);
    x.u8(0x20);
    for (char c : n) {
      const auto v = static_cast<unsigned char>(c);
      x.u8('A' + (v >> 4)).u8('A' + (v & 15));
    }
    x.u8(0);
  };
  Bytes body;
  encode(body, called);
  encode(body, calling);
  return nbss(body.b, 0x81);
}

// ---- SMB1 ----

struct Smb1Header {
  bool response = false;
  uint32_t status = 0;
  uint16_t flags2 = 0xc807;  // unicode, NT status, extended security, long names
  uint16_t pid_high = 0;
  uint16_t tid = 0;
  uint16_t pid = 0xfeff;
  uint16_t uid = 0;
  uint16_t mid = 1;
};

// An SMB1 message: header, then one block per command. AndX commands get
// their AndXCommand/AndXOffset words filled in (words must reserve them).
class Smb1 {
 public:
  using BytesFn = std::function<Bytes(size_t bytes_offset)>;
  explicit Smb1(Smb1Header h) : h_(h) {}

  Smb1& add(uint8_t cmd, Bytes words, BytesFn bytes = nullptr, bool andx = false) {
    blocks_.push_back({cmd, std::move(words), std::move(bytes), andx});
    return *this;
  }
  Smb1& add(uint8_t cmd, Bytes words, Bytes bytes, bool andx = false) {
    return add(cmd, std::move(words), [bytes](size_t) { return bytes; }, andx);
  }

  std::vector<uint8_t> build() const {
    Bytes x;
    x.u8(0xff).ascii("SMB", false);
    x.u8(blocks_.empty() ? 0 : blocks_[0].cmd);
    x.u32(h_.status);
    x.u8(h_.response ? 0x98 : 0x18);
    x.u16(h_.flags2);
    x.u16(h_.pid_high);
    x.zeros(8).zeros(2);
    x.u16(h_.tid).u16(h_.pid).u16(h_.uid).u16(h_.mid);
    std::vector<size_t> andx_at;
    for (size_t i = 0; i < blocks_.size(); ++i) {
      const Block& bl = blocks_[i];
      if (i > 0 && blocks_[i - 1].andx) {
        x.put16(andx_at.back() + 2, static_cast<unsigned>(x.size()));
        x.b[andx_at.back()] = bl.cmd;
      }
      x.u8(static_cast<unsigned>(bl.words.size() / 2));
      const size_t words_at = x.size();
      x.append(bl.words);
      if (bl.andx) {
        x.b[words_at] = 0xff;
        x.put16(words_at + 2, 0);
        andx_at.push_back(words_at);
      }
      const size_t bytes_off = x.size() + 2;
      Bytes bytes = bl.bytes ? bl.bytes(bytes_off) : Bytes{};
      x.u16(static_cast<unsigned>(bytes.size()));
      x.append(bytes);
    }
    return x.b;
  }

 private:
  struct Block {
    uint8_t cmd;
    Bytes words;
    BytesFn bytes;
    bool andx;
  };
  Smb1Header h_;
  std::vector<Block> blocks_;
};

inline Bytes andx_words() {
  Bytes w;
  w.u8(0xff).u8(0).u16(0);
  return w;
}

// ---- SMB2 ----

struct Smb2Header {
  uint16_t command = 0;
  bool response = false;
  uint32_t status = 0;
  uint64_t message_id = 0;
  uint64_t session_id = 0;
  uint32_t tree_id = 0;
  uint32_t flags = 0;  // extra flags (async, related)
  uint64_t async_id = 0;
};

inline std::vector<uint8_t> smb2(const Smb2Header& h, const Bytes& body) {
  Bytes x;
  x.u8(0xfe).ascii("SMB", false);
  x.u16(64).u16(1).u32(h.status).u16(h.command).u16(1);
  x.u32((h.response ? 1u : 0u) | h.flags);
  x.u32(0);  // NextCommand
  x.u64(h.message_id);
  if (h.flags & 2) {
    x.u64(h.async_id);
  } else {
    x.u32(0xfeff).u32(h.tree_id);
  }
  x.u64(h.session_id);
  x.zeros(16);
  x.append(body);
  return x.b;
}

// Joins SMB2 messages into one compound (8-byte aligned, NextCommand set).
inline std::vector<uint8_t> compound(const std::vector<std::vector<uint8_t>>& msgs) {
  Bytes x;
  for (size_t i = 0; i < msgs.size(); ++i) {
    const size_t start = x.size();
    x.append(msgs[i]);
    if (i + 1 < msgs.size()) {
      x.pad_to(8);
      x.put32(start + 20, static_cast<uint32_t>(x.size() - start));
    }
  }
  return x.b;
}

// ---- NTLMSSP ----

inline std::vector<uint8_t> ntlm_negotiate(uint32_t flags = 0xe2088297) {
  Bytes x;
  x.ascii("NTLMSSP").u32(1).u32(flags).u16(0).u16(0).u32(0).u16(0).u16(0).u32(0);
  return x.b;
}

inline std::vector<uint8_t> ntlm_challenge(const uint8_t (&chal)[8], std::string_view target,
                                           std::string_view nb_computer, uint32_t flags = 0xe2898215) {
  Bytes info;
  const auto tgt = utf16_bytes(target);
  const auto comp = utf16_bytes(nb_computer);
  info.u16(2).u16(static_cast<unsigned>(tgt.size())).append(tgt);
  info.u16(1).u16(static_cast<unsigned>(comp.size())).append(comp);
  info.u16(0).u16(0);
  Bytes x;
  const uint32_t tgt_off = 56;
  const uint32_t info_off = tgt_off + static_cast<uint32_t>(tgt.size());
  x.ascii("NTLMSSP").u32(2);
  x.u16(static_cast<unsigned>(tgt.size())).u16(static_cast<unsigned>(tgt.size())).u32(tgt_off);
  x.u32(flags);
  for (uint8_t c : chal) x.u8(c);
  x.zeros(8);
  x.u16(static_cast<unsigned>(info.size())).u16(static_cast<unsigned>(info.size())).u32(info_off);
  x.zeros(8);  // version
  x.append(tgt).append(info);
  return x.b;
}

// AUTHENTICATE with the payload in the order domain, user, workstation, LM, NT.
inline std::vector<uint8_t> ntlm_authenticate(std::string_view domain, std::string_view user,
                                              std::string_view workstation, const std::vector<uint8_t>& lm,
                                              const std::vector<uint8_t>& nt, bool unicode = true) {
  auto enc = [unicode](std::string_view s) {
    Bytes x;
    if (unicode) {
      x.utf16(s, false);
    } else {
      x.ascii(s, false);
    }
    return x.b;
  };
  const auto d = enc(domain);
  const auto u = enc(user);
  const auto w = enc(workstation);
  uint32_t off = 88;  // 64 fixed + version 8 + MIC 16
  Bytes x;
  x.ascii("NTLMSSP").u32(3);
  auto field = [&](size_t len, uint32_t at) { x.u16(static_cast<unsigned>(len)).u16(static_cast<unsigned>(len)).u32(at); };
  const uint32_t d_off = off;
  const uint32_t u_off = d_off + static_cast<uint32_t>(d.size());
  const uint32_t w_off = u_off + static_cast<uint32_t>(u.size());
  const uint32_t lm_off = w_off + static_cast<uint32_t>(w.size());
  const uint32_t nt_off = lm_off + static_cast<uint32_t>(lm.size());
  field(lm.size(), lm_off);
  field(nt.size(), nt_off);
  field(d.size(), d_off);
  field(u.size(), u_off);
  field(w.size(), w_off);
  field(0, nt_off + static_cast<uint32_t>(nt.size()));  // session key
  x.u32(unicode ? 0xe2888215 : 0xe2888216);
  x.zeros(8).zeros(16);
  x.append(d).append(u).append(w).append(lm).append(nt);
  return x.b;
}

// ---- DER / SPNEGO ----

inline std::vector<uint8_t> der(uint8_t tag, const std::vector<uint8_t>& content) {
  Bytes x;
  x.u8(tag);
  const size_t n = content.size();
  if (n < 0x80) {
    x.u8(static_cast<unsigned>(n));
  } else if (n < 0x100) {
    x.u8(0x81).u8(static_cast<unsigned>(n));
  } else {
    x.u8(0x82).be16(static_cast<unsigned>(n));
  }
  x.append(content);
  return x.b;
}

inline const std::vector<uint8_t> kOidSpnego{0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
inline const std::vector<uint8_t> kOidNtlmssp{0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
inline const std::vector<uint8_t> kOidKerberos{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};

// GSS-API InitialContextToken { SPNEGO, NegTokenInit { mechTypes, mechToken } }.
inline std::vector<uint8_t> spnego_init(const std::vector<uint8_t>& mech_token,
                                        const std::vector<uint8_t>& mech = kOidNtlmssp) {
  Bytes seq;
  seq.append(der(0xa0, der(0x30, der(0x06, mech))));
  if (!mech_token.empty()) seq.append(der(0xa2, der(0x04, mech_token)));
  Bytes inner;
  inner.append(der(0x06, kOidSpnego)).append(der(0xa0, der(0x30, seq.b)));
  return der(0x60, inner.b);
}

// NegTokenResp { negState, supportedMech, responseToken }.
inline std::vector<uint8_t> spnego_resp(const std::vector<uint8_t>& token, unsigned neg_state = 1) {
  Bytes seq;
  seq.append(der(0xa0, der(0x0a, {static_cast<uint8_t>(neg_state)})));
  seq.append(der(0xa1, der(0x06, kOidNtlmssp)));
  if (!token.empty()) seq.append(der(0xa2, der(0x04, token)));
  return der(0xa1, der(0x30, seq.b));
}

// ---- DCE/RPC ----

// "4b324fc8-1670-01d3-1278-5a47bf6ee188" in little-endian wire order.
inline std::vector<uint8_t> uuid_le(std::string_view s) {
  std::vector<uint8_t> raw;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '-') {
      ++i;
      continue;
    }
    auto hex = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    raw.push_back(static_cast<uint8_t>(hex(s[i]) * 16 + hex(s[i + 1])));
    i += 2;
  }
  std::vector<uint8_t> out{raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6]};
  out.insert(out.end(), raw.begin() + 8, raw.end());
  return out;
}

inline const char* const kNdr = "8a885d04-1ceb-11c9-9fe8-08002b104860";

inline std::vector<uint8_t> dce_pdu(uint8_t type, uint8_t flags, uint32_t call_id, const Bytes& body) {
  Bytes x;
  x.u8(5).u8(0).u8(type).u8(flags).u8(0x10).u8(0).u8(0).u8(0);
  x.u16(static_cast<unsigned>(16 + body.size())).u16(0).u32(call_id);
  x.append(body);
  return x.b;
}

struct DceCtx {
  uint16_t id;
  std::string uuid;
  uint16_t major;
  uint16_t minor;
};

inline std::vector<uint8_t> dce_bind(uint32_t call_id, const std::vector<DceCtx>& ctxs, uint8_t type = 11) {
  Bytes b;
  b.u16(4280).u16(4280).u32(0).u8(static_cast<unsigned>(ctxs.size())).u8(0).u16(0);
  for (const DceCtx& c : ctxs) {
    b.u16(c.id).u8(1).u8(0).append(uuid_le(c.uuid)).u16(c.major).u16(c.minor);
    b.append(uuid_le(kNdr)).u32(2);
  }
  return dce_pdu(type, 0x03, call_id, b);
}

inline std::vector<uint8_t> dce_bind_ack(uint32_t call_id, const std::vector<uint16_t>& results,
                                         std::string_view sec_addr = "\\PIPE\\srvsvc") {
  Bytes b;
  b.u16(4280).u16(4280).u32(0x1234);
  b.u16(static_cast<unsigned>(sec_addr.size() + 1)).ascii(sec_addr);
  while ((16 + b.size()) % 4) b.u8(0);
  b.u8(static_cast<unsigned>(results.size())).u8(0).u16(0);
  for (uint16_t r : results) {
    b.u16(r).u16(r == 0 ? 0 : 2);
    if (r == 0) {
      b.append(uuid_le(kNdr)).u32(2);
    } else {
      b.zeros(20);
    }
  }
  return dce_pdu(12, 0x03, call_id, b);
}

inline std::vector<uint8_t> dce_request(uint32_t call_id, uint16_t ctx, uint16_t opnum, const std::vector<uint8_t>& stub,
                                        uint8_t flags = 0x03) {
  Bytes b;
  b.u32(static_cast<uint32_t>(stub.size())).u16(ctx).u16(opnum).append(stub);
  return dce_pdu(0, flags, call_id, b);
}

inline std::vector<uint8_t> dce_response(uint32_t call_id, uint16_t ctx, const std::vector<uint8_t>& stub,
                                         uint8_t flags = 0x03) {
  Bytes b;
  b.u32(static_cast<uint32_t>(stub.size())).u16(ctx).u8(0).u8(0).append(stub);
  return dce_pdu(2, flags, call_id, b);
}

inline std::vector<uint8_t> dce_fault(uint32_t call_id, uint32_t status) {
  Bytes b;
  b.u32(0).u16(0).u8(0).u8(0).u32(status).u32(0);
  return dce_pdu(3, 0x03, call_id, b);
}

// NDR stub of srvsvc NetprPathCompare(ServerName, PathName1, PathName2,
// PathType, Flags) as nmap's smb-vuln-ms08-067 sends it.
inline std::vector<uint8_t> netpathcompare_stub(std::string_view server, std::string_view p1, std::string_view p2) {
  Bytes x;
  auto conformant = [&x](std::string_view s) {
    const uint32_t n = static_cast<uint32_t>(s.size() + 1);
    x.u32(n).u32(0).u32(n).utf16(s);
    x.pad_to(4);
  };
  x.u32(0x00020000);  // referent id of the unique ServerName pointer
  conformant(server);
  conformant(p1);
  conformant(p2);
  x.u32(1).u32(0);
  return x.b;
}

}  // namespace trawl::analyzers::smb::test_util

#include "analyzers/smb/ntlm.h"

#include <algorithm>

#include "analyzers/smb/utf16.h"

namespace trawl::analyzers::smb {

namespace {

using core::ByteView;
using core::Cursor;

constexpr size_t kMaxNameUnits = 256;  // user, domain, workstation, AV pair names
constexpr int kMaxAvPairs = 64;
constexpr int kMaxDerItems = 16;       // items looked at in one SEQUENCE

constexpr std::string_view kSignature{"NTLMSSP\0", 8};

constexpr uint8_t kOidSpnego[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
constexpr uint8_t kOidNtlm[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
constexpr uint8_t kOidKrb5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
constexpr uint8_t kOidMsKrb5[] = {0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02};

bool starts_with_signature(ByteView v) { return core::as_chars(v).substr(0, 8) == kSignature; }

template <size_t N>
bool oid_is(ByteView v, const uint8_t (&oid)[N]) {
  return v.size() == N && std::equal(v.begin(), v.end(), oid);
}
// Kerberos OIDs, and the user-to-user variant below them.
bool oid_is_kerberos(ByteView v) {
  if (v.size() < sizeof kOidKrb5) return false;
  ByteView head = v.first(sizeof kOidKrb5);
  return oid_is(head, kOidKrb5) || oid_is(head, kOidMsKrb5);
}

GssMech mech_of_oid(ByteView oid) {
  if (oid_is(oid, kOidNtlm)) return GssMech::kNtlm;
  if (oid_is_kerberos(oid)) return GssMech::kKerberos;
  return GssMech::kOther;
}

struct Tlv {
  uint8_t tag = 0;
  ByteView value;
};

// One DER TLV (definite length, low tag numbers: all this path ever uses).
bool read_tlv(Cursor& c, Tlv& out) {
  uint8_t tag = 0;
  uint8_t l = 0;
  if (!c.u8(tag) || (tag & 0x1f) == 0x1f || !c.u8(l)) return false;
  size_t len = l;
  if (l & 0x80) {
    const int n = l & 0x7f;
    if (n == 0 || n > 4) return false;
    len = 0;
    for (int i = 0; i < n; ++i) {
      uint8_t b = 0;
      if (!c.u8(b)) return false;
      len = (len << 8) | b;
    }
  }
  out.tag = tag;
  return c.bytes(len, out.value);
}

// The mechanism a mechToken / responseToken holds.
GssMech mech_of_token(ByteView token) {
  if (starts_with_signature(token)) return GssMech::kNtlm;
  Cursor c(token);
  Tlv app;
  if (read_tlv(c, app) && app.tag == 0x60) {
    Cursor in(app.value);
    Tlv oid;
    if (read_tlv(in, oid) && oid.tag == 0x06) return mech_of_oid(oid.value);
  }
  return GssMech::kOther;
}

// NegTokenInit ::= SEQUENCE { mechTypes [0], reqFlags [1], mechToken [2], mechListMIC [3] }
// NegTokenResp ::= SEQUENCE { negState [0], supportedMech [1], responseToken [2], mechListMIC [3] }
bool parse_nego_token(ByteView v, bool init, SecurityToken& out) {
  Cursor c(v);
  Tlv seq;
  if (!read_tlv(c, seq) || seq.tag != 0x30) return false;
  Cursor items(seq.value);
  GssMech listed = GssMech::kNone;
  for (int i = 0; i < kMaxDerItems && !items.empty(); ++i) {
    Tlv item;
    if (!read_tlv(items, item)) return false;
    Cursor inner(item.value);
    Tlv x;
    if (init && item.tag == 0xa0) {  // mechTypes: the first is the preferred one
      if (!read_tlv(inner, x) || x.tag != 0x30) return false;
      Cursor oids(x.value);
      Tlv oid;
      if (read_tlv(oids, oid) && oid.tag == 0x06) listed = mech_of_oid(oid.value);
    } else if (!init && item.tag == 0xa1) {  // supportedMech
      if (read_tlv(inner, x) && x.tag == 0x06) listed = mech_of_oid(x.value);
    } else if (item.tag == 0xa2) {  // mechToken / responseToken
      if (!read_tlv(inner, x) || x.tag != 0x04) return false;
      out.mech = mech_of_token(x.value);
      if (out.mech == GssMech::kNtlm) out.ntlm = x.value;
      return true;
    }
  }
  out.mech = listed;
  return true;
}

void field_string(ByteView v, bool unicode, std::string& out) {
  out.clear();
  if (unicode) {
    utf16le_to_utf8(v, out, kMaxNameUnits, false);
  } else {
    out.assign(core::as_chars(v.first(std::min(v.size(), kMaxNameUnits))));
  }
}

// An NTLM "fields" triple (Len, MaxLen, Offset) at `at`: the bytes it names.
bool read_field(ByteView tok, size_t at, ByteView& out, core::Anomalies& anomalies) {
  out = {};
  if (at + 8 > tok.size()) return false;
  const size_t len = core::load_le16(tok.data() + at);
  const size_t off = core::load_le32(tok.data() + at + 4);
  if (len == 0) return true;
  if (off > tok.size() || len > tok.size() - off) {
    anomalies.add(kAnomNtlmFieldOutOfBounds);
    return false;
  }
  out = tok.subspan(off, len);
  return true;
}

void parse_av_pairs(ByteView info, NtlmMessage& out) {
  Cursor c(info);
  for (int i = 0; i < kMaxAvPairs; ++i) {
    uint16_t id = 0;
    uint16_t len = 0;
    ByteView value;
    if (!c.le16(id) || !c.le16(len) || id == 0 || !c.bytes(len, value)) return;
    std::string* dst = nullptr;
    switch (id) {
      case 1: dst = &out.nb_computer; break;
      case 2: dst = &out.nb_domain; break;
      case 3: dst = &out.dns_computer; break;
      case 4: dst = &out.dns_domain; break;
      case 5: dst = &out.dns_tree; break;
      default: break;
    }
    if (dst) field_string(value, true, *dst);
  }
}

void append_hex(std::string& out, ByteView v) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (uint8_t b : v) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
}

}  // namespace

bool parse_ntlm(ByteView tok, NtlmMessage& out, core::Anomalies& anomalies) {
  out = NtlmMessage{};
  if (tok.size() < 12 || !starts_with_signature(tok)) {
    anomalies.add(kAnomNtlmMalformed);
    return false;
  }
  const uint32_t type = core::load_le32(tok.data() + 8);
  ByteView v;
  switch (type) {
    case 1: {
      out.type = NtlmType::kNegotiate;
      if (tok.size() >= 16) out.flags = core::load_le32(tok.data() + 12);
      if (read_field(tok, 16, v, anomalies)) field_string(v, false, out.domain);
      if (read_field(tok, 24, v, anomalies)) field_string(v, false, out.workstation);
      return true;
    }
    case 2: {
      out.type = NtlmType::kChallenge;
      if (tok.size() < 32) {
        anomalies.add(kAnomNtlmMalformed);
        return false;
      }
      out.flags = core::load_le32(tok.data() + 20);
      std::copy_n(tok.data() + 24, 8, out.server_challenge.begin());
      const bool unicode = (out.flags & kNtlmFlagUnicode) != 0;
      if (read_field(tok, 12, v, anomalies)) field_string(v, unicode, out.target_name);
      if (read_field(tok, 40, v, anomalies)) parse_av_pairs(v, out);
      return true;
    }
    case 3: {
      out.type = NtlmType::kAuthenticate;
      if (tok.size() < 52) {
        anomalies.add(kAnomNtlmMalformed);
        return false;
      }
      // Flags follow the session key field; very old clients stop before them
      // and always use Unicode.
      out.flags = tok.size() >= 64 ? core::load_le32(tok.data() + 60) : kNtlmFlagUnicode;
      const bool unicode = (out.flags & kNtlmFlagUnicode) != 0;
      read_field(tok, 12, out.lm_response, anomalies);
      read_field(tok, 20, out.nt_response, anomalies);
      if (read_field(tok, 28, v, anomalies)) field_string(v, unicode, out.domain);
      if (read_field(tok, 36, v, anomalies)) field_string(v, unicode, out.user);
      if (read_field(tok, 44, v, anomalies)) field_string(v, unicode, out.workstation);
      return true;
    }
    default:
      break;
  }
  anomalies.add(kAnomNtlmMalformed);
  return false;
}

std::string_view ntlm_auth_method(const NtlmMessage& m) {
  const size_t nt = m.nt_response.size();
  const size_t lm = m.lm_response.size();
  if (nt == 0 && (lm == 0 || (lm == 1 && m.lm_response[0] == 0))) {
    return m.user.empty() ? "ntlm-anonymous" : "ntlm-no-response";
  }
  if (nt > 24) return "ntlmv2";
  if (nt == 24) return "ntlmv1";
  return "lm";
}

std::string ntlm_crack_format(const NtlmMessage& auth, const std::array<uint8_t, 8>& challenge) {
  std::string out;
  const ByteView nt = auth.nt_response;
  const ByteView chal{challenge.data(), challenge.size()};
  if (nt.size() > 24) {
    out = auth.user + "::" + auth.domain + ":";
    append_hex(out, chal);
    out.push_back(':');
    append_hex(out, nt.first(16));
    out.push_back(':');
    append_hex(out, nt.subspan(16));
  } else if (nt.size() == 24) {
    out = auth.user + "::" + auth.domain + ":";
    append_hex(out, auth.lm_response);
    out.push_back(':');
    append_hex(out, nt);
    out.push_back(':');
    append_hex(out, chal);
  }
  return out;
}

std::string_view gss_mech_name(GssMech m) {
  switch (m) {
    case GssMech::kNtlm:
      return "ntlm";
    case GssMech::kKerberos:
      return "kerberos";
    case GssMech::kOther:
      return "other";
    case GssMech::kNone:
      break;
  }
  return "";
}

SecurityToken find_security_token(ByteView blob, core::Anomalies& anomalies) {
  SecurityToken out;
  if (blob.empty()) return out;
  if (starts_with_signature(blob)) {
    out.mech = GssMech::kNtlm;
    out.ntlm = blob;
    return out;
  }
  Cursor c(blob);
  Tlv top;
  bool ok = read_tlv(c, top);
  if (ok && top.tag == 0x60) {  // GSS-API InitialContextToken
    Cursor in(top.value);
    Tlv oid;
    ok = read_tlv(in, oid) && oid.tag == 0x06;
    if (ok && oid_is(oid.value, kOidSpnego)) {
      Tlv nego;
      ok = read_tlv(in, nego) && (nego.tag == 0xa0 || nego.tag == 0xa1) &&
           parse_nego_token(nego.value, nego.tag == 0xa0, out);
    } else if (ok) {
      out.mech = mech_of_oid(oid.value);
    }
  } else if (ok && top.tag == 0xa1) {  // NegTokenResp without the GSS wrapper
    ok = parse_nego_token(top.value, false, out);
  } else if (ok && top.tag == 0xa0) {
    ok = parse_nego_token(top.value, true, out);
  } else {
    ok = false;
  }
  if (ok) return out;
  anomalies.add(kAnomSpnegoMalformed);
  // Damaged or cut DER: an NTLMSSP message inside is still worth finding.
  const size_t at = core::as_chars(blob).find(kSignature);
  out = SecurityToken{};
  if (at != std::string_view::npos) {
    out.mech = GssMech::kNtlm;
    out.ntlm = blob.subspan(at);
  }
  return out;
}

}  // namespace trawl::analyzers::smb

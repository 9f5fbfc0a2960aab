#include "analyzers/smb/smb_parser.h"

#include <algorithm>

#include "analyzers/smb/utf16.h"

namespace trawl::analyzers::smb {

namespace {

using core::ByteView;

uint8_t at8(ByteView v, size_t i) { return i < v.size() ? v[i] : 0; }
uint16_t at16(ByteView v, size_t i) { return i + 2 <= v.size() ? core::load_le16(v.data() + i) : 0; }
uint32_t at32(ByteView v, size_t i) { return i + 4 <= v.size() ? core::load_le32(v.data() + i) : 0; }
uint64_t at64(ByteView v, size_t i) { return i + 8 <= v.size() ? core::load_le64(v.data() + i) : 0; }

bool is_magic(ByteView v, uint8_t first) {
  return v.size() >= 4 && v[0] == first && v[1] == 'S' && v[2] == 'M' && v[3] == 'B';
}

// Everything a body parser needs about the message around it.
struct Ctx {
  ByteView msg;         // SMB1: the whole message; SMB2: this header to the next
  bool msg_truncated;   // the message was cut before its declared end
  bool unicode;         // SMB1 FLAGS2_UNICODE
  const SmbLimits& limits;
  core::Anomalies& anomalies;
};

// msg[off, off+len) clipped to what is there. A range that runs past the end
// marks the command truncated (parse_smb1/2 count the anomaly when the
// message was not cut on purpose).
ByteView slice(const Ctx& x, size_t off, size_t len, SmbCommand& c) {
  if (off > x.msg.size()) {
    c.truncated = true;
    return {};
  }
  const size_t avail = x.msg.size() - off;
  if (len > avail) {
    c.truncated = true;
    len = avail;
  }
  return x.msg.subspan(off, len);
}

// A NUL-terminated SMB1 string at msg[pos, end): Unicode ones start on an
// even offset from the header. Returns the position after it.
size_t smb1_string(const Ctx& x, size_t pos, size_t end, bool unicode, std::string& out) {
  out.clear();
  end = std::min(end, x.msg.size());
  if (unicode && (pos & 1)) ++pos;
  if (pos >= end) return end;
  ByteView v = x.msg.subspan(pos, end - pos);
  const size_t used = unicode ? utf16le_to_utf8(v, out, x.limits.max_string) : oem_string(v, out, x.limits.max_string);
  return pos + used;
}

// ---- SMB1 -----------------------------------------------------------------

struct Block {
  size_t off = 0;  // of WordCount
  uint8_t wc = 0;
  ByteView words;  // clipped to the message
  size_t bytes_off = 0;
  uint16_t bc = 0;
  ByteView bytes;  // clipped
  size_t bytes_end = 0;  // declared end of the byte block
};

bool read_block(const Ctx& x, size_t off, Block& b, SmbCommand& c) {
  if (off >= x.msg.size()) return false;
  b.off = off;
  b.wc = x.msg[off];
  const size_t wlen = size_t{b.wc} * 2;
  b.words = slice(x, off + 1, wlen, c);
  const size_t bc_off = off + 1 + wlen;
  if (bc_off + 2 > x.msg.size()) {
    c.truncated = true;
    b.bytes_off = bc_off;
    b.bytes_end = bc_off;
    return true;
  }
  b.bc = core::load_le16(x.msg.data() + bc_off);
  b.bytes_off = bc_off + 2;
  b.bytes_end = b.bytes_off + b.bc;
  b.bytes = slice(x, b.bytes_off, b.bc, c);
  return true;
}

bool has_andx(uint8_t cmd) {
  switch (cmd) {
    case 0x24:  // LOCKING_ANDX
    case smb1::kOpenAndx:
    case smb1::kReadAndx:
    case smb1::kWriteAndx:
    case smb1::kSessionSetupAndx:
    case smb1::kLogoffAndx:
    case smb1::kTreeConnectAndx:
    case smb1::kNtCreateAndx:
      return true;
    default:
      return false;
  }
}

void set_fid(SmbCommand& c, uint16_t fid) {
  c.has_file = true;
  c.file = FileId{fid, 0};
}

void smb1_negotiate(const Ctx& x, const Block& b, SmbCommand& c) {
  if (!c.response) {
    size_t pos = b.bytes_off;
    const size_t end = std::min(b.bytes_end, x.msg.size());
    while (pos < end) {
      if (x.msg[pos] != 0x02) {  // BufferFormat: dialect
        x.anomalies.add(kAnomBadHeader);
        return;
      }
      if (c.dialects.size() >= x.limits.max_dialects) {
        x.anomalies.add(kAnomTooManyDialects);
        return;
      }
      std::string d;
      pos = smb1_string(x, pos + 1, end, false, d);
      c.dialects.push_back(std::move(d));
    }
    return;
  }
  if (b.wc == 0) return;
  c.dialect = at16(b.words, 0);
  if (b.wc < 17) return;
  c.security_mode = at8(b.words, 2);
  c.capabilities = at32(b.words, 19);
  const size_t chal_len = at8(b.words, 33);
  if (c.capabilities & kSmb1CapExtendedSecurity) {
    if (b.bytes.size() > 16) c.security_blob = b.bytes.subspan(16);
  } else {
    c.challenge = b.bytes.first(std::min(b.bytes.size(), chal_len));
  }
}

void smb1_session_setup(const Ctx& x, const Block& b, SmbCommand& c) {
  if (c.response) {
    if (b.wc < 3) return;
    c.session_flags = at16(b.words, 4);
    if (b.wc >= 4) {
      const size_t blob_len = at16(b.words, 6);
      c.security_blob = slice(x, b.bytes_off, std::min<size_t>(blob_len, b.bc), c);
    }
    return;
  }
  if (b.wc == 12) {
    const size_t blob_len = at16(b.words, 14);
    c.capabilities = at32(b.words, 20);
    c.security_blob = slice(x, b.bytes_off, std::min<size_t>(blob_len, b.bc), c);
    return;
  }
  size_t oem_len = 0;
  size_t uni_len = 0;
  if (b.wc == 13) {
    oem_len = at16(b.words, 14);
    uni_len = at16(b.words, 16);
    c.capabilities = at32(b.words, 22);
  } else if (b.wc == 10) {
    oem_len = at16(b.words, 14);
  } else {
    return;
  }
  c.plain_session_setup = true;
  const size_t end = b.bytes_end;
  size_t pos = b.bytes_off;
  c.oem_password = slice(x, pos, std::min(oem_len, end - pos), c);
  pos += c.oem_password.size();
  c.unicode_password = slice(x, pos, std::min(uni_len, end - std::min(end, pos)), c);
  pos += c.unicode_password.size();
  pos = smb1_string(x, pos, end, x.unicode, c.account);
  pos = smb1_string(x, pos, end, x.unicode, c.primary_domain);
  smb1_string(x, pos, end, x.unicode, c.native_os);
}

void smb1_tree_connect(const Ctx& x, const Block& b, SmbCommand& c) {
  if (c.response) {
    if (b.wc >= 2) smb1_string(x, b.bytes_off, b.bytes_end, false, c.service);
    return;
  }
  if (b.wc < 4) return;
  const size_t pw_len = at16(b.words, 6);
  size_t pos = b.bytes_off + std::min<size_t>(pw_len, b.bc);
  pos = smb1_string(x, pos, b.bytes_end, x.unicode, c.path);
  smb1_string(x, pos, b.bytes_end, false, c.service);
}

void smb1_nt_create(const Ctx& x, const Block& b, SmbCommand& c) {
  if (c.response) {
    if (b.wc < 34) {
      if (b.wc >= 4) set_fid(c, at16(b.words, 5));
      return;
    }
    set_fid(c, at16(b.words, 5));
    c.file_type = at16(b.words, 63);
    return;
  }
  if (b.wc < 24) return;
  const size_t name_len = at16(b.words, 5);
  size_t pos = b.bytes_off;
  if (x.unicode && (pos & 1)) ++pos;
  ByteView v = slice(x, pos, std::min(name_len, b.bytes_end - std::min(b.bytes_end, pos)), c);
  if (x.unicode) {
    utf16le_to_utf8(v, c.name, x.limits.max_string);
  } else {
    oem_string(v, c.name, x.limits.max_string);
  }
}

void smb1_open_andx(const Ctx& x, const Block& b, SmbCommand& c) {
  if (c.response) {
    if (b.wc >= 3) set_fid(c, at16(b.words, 4));
    if (b.wc >= 10) c.file_type = at16(b.words, 18);
    return;
  }
  if (b.wc < 15) return;
  smb1_string(x, b.bytes_off, b.bytes_end, x.unicode, c.name);
}

void smb1_write(const Ctx& x, const Block& b, SmbCommand& c) {
  if (c.response) {
    if (b.wc >= 3) c.data_len = at16(b.words, 4) | (uint32_t{at16(b.words, 8)} << 16);
    return;
  }
  if (b.wc < 12) return;
  set_fid(c, at16(b.words, 4));
  c.data_len = at16(b.words, 20) | (uint32_t{at16(b.words, 18)} << 16);
  c.data = slice(x, at16(b.words, 22), c.data_len, c);
}

void smb1_read(const Ctx& x, const Block& b, SmbCommand& c) {
  if (c.response) {
    if (b.wc < 12) return;
    c.data_len = at16(b.words, 10) | (uint32_t{at16(b.words, 14)} << 16);
    c.data = slice(x, at16(b.words, 12), c.data_len, c);
    return;
  }
  if (b.wc >= 10) set_fid(c, at16(b.words, 4));
}

// TRANSACTION, TRANSACTION2 (request or response) and their secondaries.
void smb1_trans(const Ctx& x, const Block& b, SmbCommand& c) {
  const bool secondary = c.command == smb1::kTransactionSecondary || c.command == smb1::kTransaction2Secondary;
  size_t data_count = 0;
  size_t data_off = 0;
  if (secondary) {
    if (b.wc < 8) return;
    c.total_params = at16(b.words, 0);
    c.total_data = at16(b.words, 2);
    c.param_count = at16(b.words, 4);
    c.param_displacement = at16(b.words, 8);
    data_count = at16(b.words, 10);
    data_off = at16(b.words, 12);
    c.data_displacement = at16(b.words, 14);
    if (c.command == smb1::kTransaction2Secondary && b.wc >= 9) set_fid(c, at16(b.words, 16));
  } else if (c.response) {
    if (b.wc < 10) return;
    c.total_params = at16(b.words, 0);
    c.total_data = at16(b.words, 2);
    c.param_count = at16(b.words, 6);
    c.param_displacement = at16(b.words, 10);
    data_count = at16(b.words, 12);
    data_off = at16(b.words, 14);
    c.data_displacement = at16(b.words, 16);
  } else {
    if (b.wc < 14) return;
    c.total_params = at16(b.words, 0);
    c.total_data = at16(b.words, 2);
    c.param_count = at16(b.words, 18);
    data_count = at16(b.words, 22);
    data_off = at16(b.words, 24);
    const size_t setup_count = at8(b.words, 26);
    if (setup_count >= 1 && b.words.size() >= 30) {
      c.has_subcommand = true;
      c.subcommand = at16(b.words, 28);
    }
    // Named-pipe transactions carry the FID in setup[1].
    if (c.command == smb1::kTransaction && setup_count >= 2 && b.words.size() >= 32) {
      set_fid(c, at16(b.words, 30));
    }
    if (c.command == smb1::kTransaction) smb1_string(x, b.bytes_off, b.bytes_end, x.unicode, c.trans_name);
  }
  c.data_len = data_count;
  if (data_count != 0) c.data = slice(x, data_off, data_count, c);
}

void smb1_nt_trans(const Ctx& x, const Block& b, SmbCommand& c) {
  if (c.response || c.command != smb1::kNtTransact) return;
  (void)x;
  if (b.wc < 19) return;
  c.has_subcommand = true;
  c.subcommand = at16(b.words, 36);
  c.total_params = at32(b.words, 3);
  c.total_data = at32(b.words, 7);
  c.data_len = at32(b.words, 27);
}

void smb1_body(const Ctx& x, const Block& b, SmbCommand& c) {
  switch (static_cast<uint8_t>(c.command)) {
    case smb1::kNegotiate: smb1_negotiate(x, b, c); break;
    case smb1::kSessionSetupAndx: smb1_session_setup(x, b, c); break;
    case smb1::kTreeConnectAndx: smb1_tree_connect(x, b, c); break;
    case smb1::kNtCreateAndx: smb1_nt_create(x, b, c); break;
    case smb1::kOpenAndx: smb1_open_andx(x, b, c); break;
    case smb1::kWriteAndx: smb1_write(x, b, c); break;
    case smb1::kReadAndx: smb1_read(x, b, c); break;
    case smb1::kTransaction:
    case smb1::kTransaction2:
    case smb1::kTransactionSecondary:
    case smb1::kTransaction2Secondary:
      smb1_trans(x, b, c);
      break;
    case smb1::kNtTransact:
    case smb1::kNtTransactSecondary:
      smb1_nt_trans(x, b, c);
      break;
    case smb1::kClose:
      if (!c.response && b.wc >= 1) set_fid(c, at16(b.words, 0));
      break;
    default:
      break;
  }
}

// ---- SMB2 -----------------------------------------------------------------

constexpr size_t kSmb2Header = 64;

void smb2_file(SmbCommand& c, ByteView body, size_t at) {
  if (at + 16 > body.size()) return;
  c.has_file = true;
  c.file = FileId{at64(body, at), at64(body, at + 8)};
}

// A (offset from header, length) buffer of an SMB2 message.
ByteView smb2_buffer(const Ctx& x, size_t off, size_t len, SmbCommand& c) {
  if (len == 0) return {};
  if (off < kSmb2Header) {
    x.anomalies.add(kAnomBadOffset);
    return {};
  }
  return slice(x, off, len, c);
}

void smb2_utf16(const Ctx& x, size_t off, size_t len, SmbCommand& c, std::string& out) {
  ByteView v = smb2_buffer(x, off, len, c);
  utf16le_to_utf8(v, out, x.limits.max_string, false);
}

void smb2_body(const Ctx& x, SmbCommand& c) {
  const ByteView body = x.msg.subspan(std::min(x.msg.size(), kSmb2Header));
  if (body.size() < 2) {
    c.truncated = true;
    return;
  }
  // An error response has the 9-byte ERROR body (a SESSION_SETUP that needs
  // another round trip and warnings such as BUFFER_OVERFLOW keep theirs).
  if (c.response && (c.status >> 30) == 3 &&
      !(c.command == smb2::kSessionSetup && c.status == kStatusMoreProcessing)) {
    c.error_body = true;
    return;
  }
  switch (c.command) {
    case smb2::kNegotiate:
      if (!c.response) {
        const size_t count = at16(body, 2);
        c.security_mode = static_cast<uint8_t>(at16(body, 4));
        c.capabilities = at32(body, 8);
        const size_t keep = std::min(count, x.limits.max_dialects);
        if (count > keep) x.anomalies.add(kAnomTooManyDialects);
        for (size_t i = 0; i < keep; ++i) {
          if (36 + 2 * i + 2 > body.size()) {
            c.truncated = true;
            break;
          }
          c.dialect_codes.push_back(at16(body, 36 + 2 * i));
        }
      } else {
        c.security_mode = static_cast<uint8_t>(at16(body, 2));
        c.dialect = at16(body, 4);
        c.capabilities = at32(body, 24);
        c.security_blob = smb2_buffer(x, at16(body, 56), at16(body, 58), c);
      }
      break;
    case smb2::kSessionSetup:
      if (!c.response) {
        c.security_mode = at8(body, 3);
        c.capabilities = at32(body, 4);
        c.security_blob = smb2_buffer(x, at16(body, 12), at16(body, 14), c);
      } else {
        c.session_flags = at16(body, 2);
        c.security_blob = smb2_buffer(x, at16(body, 4), at16(body, 6), c);
      }
      break;
    case smb2::kTreeConnect:
      if (!c.response) {
        smb2_utf16(x, at16(body, 4), at16(body, 6), c, c.path);
      } else {
        c.share_type = at8(body, 2);
      }
      break;
    case smb2::kCreate:
      if (!c.response) {
        smb2_utf16(x, at16(body, 44), at16(body, 46), c, c.name);
      } else {
        smb2_file(c, body, 64);
      }
      break;
    case smb2::kClose:
    case smb2::kFlush:
    case smb2::kLock:
    case smb2::kQueryDirectory:
    case smb2::kChangeNotify:
      if (!c.response) smb2_file(c, body, 8);
      break;
    case smb2::kQueryInfo:
      if (!c.response) smb2_file(c, body, 24);
      break;
    case smb2::kSetInfo:
      if (!c.response) smb2_file(c, body, 16);
      break;
    case smb2::kRead:
      if (!c.response) {
        c.data_len = at32(body, 4);
        smb2_file(c, body, 16);
      } else {
        c.data_len = at32(body, 4);
        c.data = smb2_buffer(x, at8(body, 2), c.data_len, c);
      }
      break;
    case smb2::kWrite:
      if (!c.response) {
        c.data_len = at32(body, 4);
        smb2_file(c, body, 16);
        c.data = smb2_buffer(x, at16(body, 2), c.data_len, c);
      } else {
        c.data_len = at32(body, 4);
      }
      break;
    case smb2::kIoctl:
      c.has_subcommand = true;
      c.subcommand = at32(body, 4);
      smb2_file(c, body, 8);
      if (!c.response) {
        c.data_len = at32(body, 28);
        c.data = smb2_buffer(x, at32(body, 24), c.data_len, c);
      } else {
        c.data_len = at32(body, 36);
        c.data = smb2_buffer(x, at32(body, 32), c.data_len, c);
      }
      break;
    default:
      break;
  }
}

}  // namespace

bool parse_nbss_header(ByteView four, NbssHeader& out) {
  if (four.size() < 4) return false;
  out.type = four[0];
  switch (out.type) {
    case kNbssMessage:
      out.length = (uint32_t{four[1]} << 16) | core::load_be16(four.data() + 2);
      return true;
    case kNbssRequest:
    case kNbssPositive:
    case kNbssNegative:
    case kNbssRetarget:
    case kNbssKeepAlive:
      if (four[1] & 0xfe) return false;
      out.length = (uint32_t{four[1] & 1u} << 16) | core::load_be16(four.data() + 2);
      return true;
    default:
      return false;
  }
}

bool parse_smb1(ByteView msg, bool truncated, std::vector<SmbCommand>& out, core::Anomalies& anomalies,
                const SmbLimits& limits) {
  if (!is_magic(msg, 0xff)) return false;
  SmbCommand base;
  base.version = SmbVersion::kSmb1;
  if (msg.size() < 32) {
    anomalies.add(truncated ? kAnomTruncated : kAnomBadHeader);
    return false;
  }
  const uint16_t flags2 = core::load_le16(msg.data() + 10);
  base.flags = flags2;
  base.response = (msg[9] & 0x80) != 0;
  if (flags2 & kSmb1Flags2NtStatus) {
    base.status = core::load_le32(msg.data() + 5);
  } else {
    base.status = msg[5] | (uint32_t{core::load_le16(msg.data() + 7)} << 16);
    base.dos_error = base.status != 0;
  }
  base.pid_high = core::load_le16(msg.data() + 12);
  base.tree_id = core::load_le16(msg.data() + 24);
  base.pid = (uint32_t{base.pid_high} << 16) | core::load_le16(msg.data() + 26);
  base.session_id = core::load_le16(msg.data() + 28);
  base.message_id = core::load_le16(msg.data() + 30);
  const Ctx x{msg, truncated, (msg[11] & kSmb1Flags2Unicode) != 0, limits, anomalies};

  uint8_t cmd = msg[4];
  size_t off = 32;
  for (size_t i = 0;; ++i) {
    if (i == limits.max_andx) {
      anomalies.add(kAnomTooManyAndx);
      break;
    }
    out.push_back(base);
    SmbCommand& c = out.back();
    c.command = cmd;
    Block b;
    if (!read_block(x, off, b, c)) {
      c.truncated = true;
      if (!truncated) anomalies.add(kAnomTruncated);
      break;
    }
    if (c.truncated && !truncated) anomalies.add(kAnomTruncated);
    if (c.response && b.wc == 0 && c.status != 0) c.error_body = true;
    smb1_body(x, b, c);
    if (!has_andx(cmd) || b.wc < 2) break;
    const uint8_t next = b.words[0];
    const size_t next_off = at16(b.words, 2);
    if (next == 0xff) break;
    if (next_off <= off || next_off >= msg.size()) {
      if (!(truncated && next_off >= msg.size() && next_off > off)) anomalies.add(kAnomAndxLoop);
      break;
    }
    off = next_off;
    cmd = next;
  }
  return true;
}

bool parse_smb2(ByteView msg, bool truncated, std::vector<SmbCommand>& out, core::Anomalies& anomalies,
                const SmbLimits& limits) {
  if (!is_magic(msg, 0xfe)) return false;
  size_t start = 0;
  for (size_t i = 0;; ++i) {
    if (i == limits.max_compound) {
      anomalies.add(kAnomTooManyCompound);
      break;
    }
    ByteView h = msg.subspan(start);
    if (h.size() < kSmb2Header || !is_magic(h, 0xfe) || core::load_le16(h.data() + 4) != 64) {
      if (i == 0) {
        anomalies.add(h.size() < kSmb2Header && truncated ? kAnomTruncated : kAnomBadHeader);
        return false;
      }
      anomalies.add(kAnomBadCompound);
      break;
    }
    const uint32_t next = core::load_le32(h.data() + 20);
    if (next != 0) {
      if (next < kSmb2Header || (next & 7) != 0 || next >= h.size()) {
        anomalies.add(kAnomBadCompound);
        // Parse this one message; the chain stops here.
      } else {
        h = h.first(next);
      }
    }
    SmbCommand c;
    c.version = SmbVersion::kSmb2;
    c.status = core::load_le32(h.data() + 8);
    c.command = core::load_le16(h.data() + 12);
    c.flags = core::load_le32(h.data() + 16);
    c.response = (c.flags & smb2::kFlagResponse) != 0;
    c.async = (c.flags & smb2::kFlagAsync) != 0;
    c.message_id = core::load_le64(h.data() + 24);
    if (!c.async) {
      c.pid = core::load_le32(h.data() + 32);
      c.tree_id = core::load_le32(h.data() + 36);
    }
    c.session_id = core::load_le64(h.data() + 40);
    const bool last = h.size() != next;  // no valid next message: this one runs to the end
    const Ctx x{h, truncated && last, false, limits, anomalies};
    smb2_body(x, c);
    if (c.truncated && !x.msg_truncated) anomalies.add(kAnomTruncated);
    out.push_back(std::move(c));
    if (next == 0 || h.size() != next) break;
    start += next;
  }
  return true;
}

}  // namespace trawl::analyzers::smb

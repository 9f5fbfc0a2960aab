#include "analyzers/dns/dns_message.h"

#include <array>
#include <cstring>
#include <string_view>

namespace trawl::analyzers::dns {

namespace {

using core::ByteView;
using core::Cursor;

constexpr size_t kHeaderLen = 12;
constexpr size_t kMaxNameWire = 255;  // RFC 1035 2.3.4, length bytes included

enum class Step { kOk, kTruncated, kError };

// Zeek keeps printable ASCII and writes every other byte as \xNN (lower-case
// hex); names are additionally lower-cased (ASCII only, as Zeek's isupper/tolower).
void append_escaped(std::string& out, ByteView bytes, bool lower) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Sized for the worst case once, then written without per-byte checks
  // (this runs for every name and string of every message).
  const size_t start = out.size();
  out.resize(start + 4 * bytes.size());
  char* w = out.data() + start;
  for (uint8_t b : bytes) {
    if (b < 0x20 || b >= 0x7f) {
      *w++ = '\\';
      *w++ = 'x';
      *w++ = kHex[b >> 4];
      *w++ = kHex[b & 0x0f];
    } else if (lower && b >= 'A' && b <= 'Z') {
      *w++ = static_cast<char>(b - 'A' + 'a');
    } else {
      *w++ = static_cast<char>(b);
    }
  }
  out.resize(static_cast<size_t>(w - out.data()));
}

// What append_escaped writes for each byte as one table lookup: the
// character itself (lower-cased for kLowered), or 0 for a \xNN escape.
constexpr std::array<char, 256> escape_table(bool lower) {
  std::array<char, 256> t{};
  for (int b = 0x20; b < 0x7f; ++b) {
    t[static_cast<size_t>(b)] = static_cast<char>(lower && b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b);
  }
  return t;
}
constexpr std::array<char, 256> kAsIs = escape_table(false);
constexpr std::array<char, 256> kLowered = escape_table(true);

// The text of one name, built on the stack and copied out once: appending
// label by label to a std::string cost a resize (with zero fill) and often
// a reallocation per label. read_name's wire-length check bounds the text:
// each label adds at most 4 bytes of text per wire byte (its length byte
// pays for the dot), so 4 * kMaxNameWire always fits.
class NameText {
 public:
  // Appends one label, dot-separated, escaped as append_escaped does.
  void add_label(ByteView label, bool lower) {
    static constexpr char kHex[] = "0123456789abcdef";
    if (len_ + 1 + 4 * label.size() > sizeof buf_) return;  // unreachable (see above); never write past buf_
    if (len_ != 0) buf_[len_++] = '.';
    const std::array<char, 256>& table = lower ? kLowered : kAsIs;
    char* w = buf_ + len_;
    for (uint8_t b : label) {
      const char c = table[b];
      if (c != 0) {
        *w++ = c;
      } else {
        *w++ = '\\';
        *w++ = 'x';
        *w++ = kHex[b >> 4];
        *w++ = kHex[b & 0x0f];
      }
    }
    len_ = static_cast<size_t>(w - buf_);
  }
  // add_label(label, true) here and add_label(label, false) on `as_is` in
  // one pass (question names are kept both ways).
  void add_label_twice(ByteView label, NameText& as_is) {
    static constexpr char kHex[] = "0123456789abcdef";
    if (len_ + 1 + 4 * label.size() > sizeof buf_ || as_is.len_ + 1 + 4 * label.size() > sizeof as_is.buf_) return;
    if (len_ != 0) buf_[len_++] = '.';
    if (as_is.len_ != 0) as_is.buf_[as_is.len_++] = '.';
    char* w = buf_ + len_;
    char* v = as_is.buf_ + as_is.len_;
    for (uint8_t b : label) {
      const char c = kAsIs[b];
      if (c != 0) {
        *w++ = kLowered[b];
        *v++ = c;
      } else {
        const char esc[4] = {'\\', 'x', kHex[b >> 4], kHex[b & 0x0f]};
        std::memcpy(w, esc, 4);
        std::memcpy(v, esc, 4);
        w += 4;
        v += 4;
      }
    }
    len_ = static_cast<size_t>(w - buf_);
    as_is.len_ = static_cast<size_t>(v - as_is.buf_);
  }
  void copy_to(std::string& out) const { out.assign(buf_, len_); }

 private:
  char buf_[4 * kMaxNameWire];
  size_t len_ = 0;
};

class Parser {
 public:
  Parser(ByteView msg, DnsMessage& out, core::Anomalies& anomalies, const DnsLimits& limits)
      : msg_(msg), out_(out), anomalies_(anomalies), limits_(limits) {}

  ParseResult run();

 private:
  // Reads the name at `pos`; its in-place part must end by `end` (the rdata
  // end when `in_rdata`, else the message end). On success `pos` is the byte
  // after the in-place part. A name reached through a backward pointer must
  // end before that pointer; a forward pointer (counted as an anomaly) may
  // lead anywhere in the message, and the jump cap ends any cycle.
  // `original`, when given, receives the name without lower-casing.
  Step read_name(size_t& pos, size_t end, bool in_rdata, std::string& out, std::string* original = nullptr);
  // read_name's work; out and original get what was read even on failure.
  Step read_name_text(size_t& pos, size_t end, bool in_rdata, NameText& out, NameText* original);
  Step parse_question(Cursor& c, DnsQuestion& q);
  Step parse_record(Cursor& c, DnsRecord& rr, bool additional);
  void parse_rdata(DnsRecord& rr, size_t start, size_t end);
  // Parses `count` records into `into` (at most the limit kept).
  Step parse_section(Cursor& c, uint16_t count, std::vector<DnsRecord>& into, bool additional);
  Step name_error(const core::AnomalyId& id) {
    anomalies_.add(id);
    return Step::kError;
  }

  ByteView msg_;
  DnsMessage& out_;
  core::Anomalies& anomalies_;
  const DnsLimits& limits_;
  size_t txt_bytes_ = 0;
  bool dropped_ = false;    // a limit dropped entries
  bool malformed_ = false;  // bad rdata that could be skipped
};

Step Parser::read_name(size_t& pos, size_t end, bool in_rdata, std::string& out, std::string* original) {
  NameText text;
  NameText original_text;
  const Step s = read_name_text(pos, end, in_rdata, text, original ? &original_text : nullptr);
  text.copy_to(out);
  if (original) original_text.copy_to(*original);
  return s;
}

Step Parser::read_name_text(size_t& pos, size_t end, bool in_rdata, NameText& out, NameText* original) {
  size_t p = pos;
  size_t limit = end;
  size_t resume = 0;
  bool jumped = false;
  bool forward = false;
  uint32_t jumps = 0;
  size_t wire = 1;  // the root label
  // Ran into `limit` before the root label.
  auto overrun = [&]() -> Step {
    if (jumped && limit == msg_.size()) return name_error(kAnomTruncated);  // forward target ran off the end
    if (jumped) return name_error(kAnomCompressionLoop);  // target ran into its own pointer
    if (in_rdata) return name_error(kAnomRdataOverflow);
    return Step::kTruncated;
  };
  for (;;) {
    if (p >= limit) return overrun();
    const uint8_t len = msg_[p];
    if (len == 0) {
      ++p;
      break;
    }
    const uint8_t kind = len & 0xc0;
    if (kind == 0xc0) {
      if (p + 1 >= limit) return overrun();
      const size_t target = (size_t{len & 0x3fu} << 8) | msg_[p + 1];
      if (target == p || ++jumps > limits_.max_name_jumps) return name_error(kAnomCompressionLoop);
      if (target > p) {
        // Unusual but unambiguous (masscan's version.bind probe points at
        // the root label after its own name); tshark follows them too. The
        // jump cap bounds any cycle they form.
        if (!forward) anomalies_.add(kAnomForwardPointer);
        forward = true;
        limit = msg_.size();
      } else {
        limit = p;
      }
      if (!jumped) resume = p + 2;
      jumped = true;
      p = target;
      continue;
    }
    if (kind != 0) return name_error(kAnomBadLabelType);
    if (wire + len + 1 > kMaxNameWire) return name_error(kAnomNameTooLong);
    if (p + 1 + len > limit) return overrun();
    if (original) {
      out.add_label_twice(msg_.subspan(p + 1, len), *original);
    } else {
      out.add_label(msg_.subspan(p + 1, len), true);
    }
    wire += size_t{len} + 1;
    p += size_t{len} + 1;
  }
  pos = jumped ? resume : p;
  return Step::kOk;
}

Step Parser::parse_question(Cursor& c, DnsQuestion& q) {
  size_t pos = c.position();
  const Step s = read_name(pos, msg_.size(), false, q.name, &q.original);
  if (s != Step::kOk) return s;
  c.skip(pos - c.position());
  if (!c.be16(q.qtype) || !c.be16(q.qclass)) return Step::kTruncated;
  return Step::kOk;
}

void Parser::parse_rdata(DnsRecord& rr, size_t start, size_t end) {
  const size_t rdlen = end - start;
  const ByteView rd = msg_.subspan(start, rdlen);
  auto mismatch = [&]() {
    anomalies_.add(kAnomRdataLengthMismatch);
    malformed_ = true;
  };
  // A name inside rdata; the rdata must hold exactly it from `at`.
  auto name_at = [&](size_t at, std::string& name, bool last) -> bool {
    size_t pos = at;
    const Step s = read_name(pos, end, true, name);
    if (s != Step::kOk) {
      malformed_ = true;
      return false;
    }
    if (last && pos != end) anomalies_.add(kAnomRdataLengthMismatch);
    return true;
  };
  switch (rr.type) {
    case kTypeA:
    case kTypeAaaa: {
      const size_t want = rr.type == kTypeA ? 4 : 16;
      if (rdlen != want) {
        mismatch();
        return;
      }
      rr.address = rr.type == kTypeA ? core::IpAddress::v4(rd.data()) : core::IpAddress::v6(rd.data());
      rr.has_address = true;
      rr.rdata = rr.address.to_string();
      return;
    }
    case kTypeNs:
    case kTypeCname:
    case kTypePtr:
      name_at(start, rr.rdata, true);
      return;
    case kTypeMx:
      if (rdlen < 2) {
        mismatch();
        return;
      }
      rr.preference = core::load_be16(rd.data());
      name_at(start + 2, rr.rdata, true);
      return;
    case kTypeSrv:
      if (rdlen < 6) {
        mismatch();
        return;
      }
      rr.preference = core::load_be16(rd.data());
      rr.weight = core::load_be16(rd.data() + 2);
      rr.port = core::load_be16(rd.data() + 4);
      name_at(start + 6, rr.rdata, true);
      return;
    case kTypeSoa: {
      size_t pos = start;
      std::string rname;
      if (read_name(pos, end, true, rr.rdata) != Step::kOk || read_name(pos, end, true, rname) != Step::kOk) {
        malformed_ = true;
        return;
      }
      if (end - pos != 20) mismatch();
      return;
    }
    case kTypeTxt:
    case kTypeSpf: {
      const char* prefix = rr.type == kTypeTxt ? "TXT " : "SPF ";
      Cursor t(rd);
      std::string rendered;
      while (!t.empty()) {
        uint8_t n = 0;
        ByteView s;
        t.u8(n);
        if (!t.bytes(n, s)) {
          anomalies_.add(kAnomRdataOverflow);
          malformed_ = true;
          break;
        }
        if (txt_bytes_ + n > limits_.max_txt_bytes) {
          anomalies_.add(kAnomTxtTooLong);
          dropped_ = true;
          break;
        }
        txt_bytes_ += n;
        std::string str;
        append_escaped(str, s, false);
        if (!rendered.empty()) rendered += ' ';
        rendered += prefix;
        rendered += std::to_string(n);
        rendered += ' ';
        rendered += str;
        rr.txt.push_back(std::move(str));
      }
      rr.rdata = std::move(rendered);
      return;
    }
    case kTypeRrsig: {
      // type covered, algorithm, labels, original TTL, expiration,
      // inception, key tag (18 bytes), then the signer's name.
      if (rdlen < 19) {
        mismatch();
        return;
      }
      std::string signer;
      size_t pos = start + 18;
      if (read_name(pos, end, true, signer) != Step::kOk) {
        malformed_ = true;
        return;
      }
      rr.rdata = "RRSIG " + std::to_string(core::load_be16(rd.data())) + ' ' + (signer.empty() ? "<Root>" : signer);
      return;
    }
    case kTypeDnskey:
      if (rdlen < 4) {
        mismatch();
        return;
      }
      rr.rdata = "DNSKEY " + std::to_string(rd[3]);
      return;
    case kTypeDs:
      if (rdlen < 4) {
        mismatch();
        return;
      }
      rr.rdata = "DS " + std::to_string(rd[2]) + ' ' + std::to_string(rd[3]);
      return;
    case kTypeNsec: {
      std::string next;
      size_t pos = start;
      if (read_name(pos, end, true, next) != Step::kOk) {
        malformed_ = true;
        return;
      }
      rr.rdata = "NSEC " + rr.name + ' ' + next;
      return;
    }
    case kTypeNsec3:
      rr.rdata = "NSEC3";
      return;
    case kTypeNsec3Param:
      rr.rdata = "NSEC3PARAM";
      return;
    default:
      rr.rdata = "<unknown type=" + std::to_string(rr.type) + ">";
      return;
  }
}

Step Parser::parse_record(Cursor& c, DnsRecord& rr, bool additional) {
  size_t pos = c.position();
  const Step s = read_name(pos, msg_.size(), false, rr.name);
  if (s != Step::kOk) return s;
  c.skip(pos - c.position());
  uint16_t rdlen = 0;
  if (!c.be16(rr.type) || !c.be16(rr.rclass) || !c.be32(rr.ttl) || !c.be16(rdlen)) return Step::kTruncated;
  ByteView rd;
  if (!c.bytes(rdlen, rd)) return Step::kTruncated;
  if (additional && rr.type == kTypeOpt) {
    if (out_.opt.present) {
      anomalies_.add(kAnomMultipleOpt);
      return Step::kOk;
    }
    out_.opt.present = true;
    out_.opt.udp_payload_size = rr.rclass;
    out_.opt.extended_rcode = static_cast<uint8_t>(rr.ttl >> 24);
    out_.opt.version = static_cast<uint8_t>(rr.ttl >> 16);
    out_.opt.do_bit = (rr.ttl & 0x8000u) != 0;
    out_.rcode = static_cast<uint16_t>((uint32_t{out_.opt.extended_rcode} << 4) | (out_.rcode & 0x0fu));
    return Step::kOk;
  }
  parse_rdata(rr, c.position() - rdlen, c.position());
  return Step::kOk;
}

Step Parser::parse_section(Cursor& c, uint16_t count, std::vector<DnsRecord>& into, bool additional) {
  bool section_dropped = false;
  for (uint32_t i = 0; i < count; ++i) {
    DnsRecord rr;
    const Step s = parse_record(c, rr, additional);
    if (s != Step::kOk) return s;
    if (additional && rr.type == kTypeOpt) continue;
    if (into.size() < limits_.max_records_per_section) {
      into.push_back(std::move(rr));
    } else if (!section_dropped) {
      section_dropped = true;
      dropped_ = true;
      anomalies_.add(kAnomTooManyRecords);
    }
  }
  return Step::kOk;
}

ParseResult Parser::run() {
  Cursor c(msg_);
  uint16_t flags = 0;
  if (!c.be16(out_.id) || !c.be16(flags) || !c.be16(out_.qdcount) || !c.be16(out_.ancount) ||
      !c.be16(out_.nscount) || !c.be16(out_.arcount)) {
    anomalies_.add(kAnomTruncated);
    return ParseResult::kError;
  }
  static_assert(kHeaderLen == 12);
  out_.flags.qr = (flags & 0x8000u) != 0;
  out_.flags.opcode = static_cast<uint8_t>((flags >> 11) & 0x0fu);
  out_.flags.aa = (flags & 0x0400u) != 0;
  out_.flags.tc = (flags & 0x0200u) != 0;
  out_.flags.rd = (flags & 0x0100u) != 0;
  out_.flags.ra = (flags & 0x0080u) != 0;
  out_.flags.z = (flags & 0x0040u) != 0;
  out_.flags.ad = (flags & 0x0020u) != 0;
  out_.flags.cd = (flags & 0x0010u) != 0;
  out_.rcode = static_cast<uint16_t>(flags & 0x0fu);

  Step s = Step::kOk;
  bool q_dropped = false;
  for (uint32_t i = 0; i < out_.qdcount && s == Step::kOk; ++i) {
    DnsQuestion q;
    s = parse_question(c, q);
    if (s != Step::kOk) break;
    if (out_.questions.size() < limits_.max_records_per_section) {
      out_.questions.push_back(std::move(q));
    } else if (!q_dropped) {
      q_dropped = true;
      dropped_ = true;
      anomalies_.add(kAnomTooManyRecords);
    }
  }
  if (s == Step::kOk) s = parse_section(c, out_.ancount, out_.answers, false);
  if (s == Step::kOk) s = parse_section(c, out_.nscount, out_.authority, false);
  if (s == Step::kOk) s = parse_section(c, out_.arcount, out_.additional, true);

  if (s == Step::kTruncated) anomalies_.add(kAnomTruncated);
  if (s == Step::kOk && !c.empty()) anomalies_.add(kAnomTrailingData);
  if (s == Step::kError || malformed_) return ParseResult::kError;
  if (s == Step::kTruncated || dropped_) return ParseResult::kPartial;
  return ParseResult::kOk;
}

}  // namespace

ParseResult parse_dns_message(core::ByteView msg, DnsMessage& out, core::Anomalies& anomalies,
                              const DnsLimits& limits) {
  // Reset field by field so the vectors keep their capacity when a caller
  // reuses one DnsMessage for every message of a connection.
  out.id = 0;
  out.flags = DnsFlags{};
  out.rcode = out.qdcount = out.ancount = out.nscount = out.arcount = 0;
  out.questions.clear();
  out.answers.clear();
  out.authority.clear();
  out.additional.clear();
  out.opt = DnsOpt{};
  return Parser(msg, out, anomalies, limits).run();
}

size_t dns_tcp_message_length(core::ByteView stream) {
  if (stream.size() < 2) return 0;
  const size_t total = size_t{core::load_be16(stream.data())} + 2;
  return stream.size() >= total ? total : 0;
}

}  // namespace trawl::analyzers::dns

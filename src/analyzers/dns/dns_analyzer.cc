#include "analyzers/dns/dns_analyzer.h"

#include <algorithm>
#include <utility>

namespace trawl::analyzers::dns {

namespace {

constexpr size_t kHeaderLen = 12;
constexpr size_t kMinQuestion = 5;  // root name, type, class
constexpr size_t kMinRecord = 11;   // root name, type, class, ttl, rdlength

// Questions a probe accepts in a first message (mDNS queries ask several).
constexpr uint16_t kProbeMaxQuestions = 16;
constexpr uint16_t kProbeMaxQuestionsStrict = 4;

// RFC 1035 CLASS values a question can carry (the top bit is mDNS's
// unicast-response flag).
bool known_class(uint16_t qclass) {
  const uint16_t c = qclass & 0x7fffu;
  return c == 1 || c == 3 || c == 4 || c == 254 || c == 255;
}

// Header plausibility for a probe. `len` is the message's full length, which
// may be more than `msg` holds (TCP: only the probe buffer's part).
bool plausible_header(core::ByteView msg, size_t len, bool hint) {
  if (msg.size() < kHeaderLen || len < kHeaderLen) return false;
  const uint16_t flags = core::load_be16(msg.data() + 2);
  const uint16_t qd = core::load_be16(msg.data() + 4);
  const size_t rrs = size_t{core::load_be16(msg.data() + 6)} + core::load_be16(msg.data() + 8) +
                     core::load_be16(msg.data() + 10);
  const bool qr = (flags & 0x8000u) != 0;
  const unsigned opcode = (flags >> 11) & 0x0fu;
  if (opcode > 5 || opcode == 3) return false;
  if (kHeaderLen + kMinQuestion * qd + kMinRecord * rrs > len) return false;
  if (!hint) {
    // Off the DNS ports: one to a few questions, reserved bit clear, a
    // standard query or its answer.
    if (qd == 0 || qd > kProbeMaxQuestionsStrict || (flags & 0x0040u) != 0 || opcode != 0) return false;
    if (!qr && (flags & 0x000fu) != 0) return false;  // a query carries no rcode
    return true;
  }
  if (qd > kProbeMaxQuestions) return false;
  // No question: only an answer that carries records (mDNS announcements).
  if (qd == 0) return qr && rrs != 0;
  return true;
}

enum class Walk { kOk, kBad, kMore };

// Walks the first question (at offset 12) within `msg`. `strict` also wants
// printable labels, a non-zero type, a known class and no compression (only
// the header precedes a first question; masscan's version.bind probe ends
// its name with a forward pointer, which the DNS ports accept).
Walk first_question(core::ByteView msg, bool strict) {
  size_t p = kHeaderLen;
  size_t wire = 1;
  for (;;) {
    if (p >= msg.size()) return Walk::kMore;
    const uint8_t n = msg[p];
    if (n == 0) {
      ++p;
      break;
    }
    if ((n & 0xc0) == 0xc0 && !strict) {
      p += 2;
      break;
    }
    if (n > 63) return Walk::kBad;  // pointer or reserved label type
    wire += size_t{n} + 1;
    if (wire > 255) return Walk::kBad;
    if (p + 1 + n > msg.size()) return Walk::kMore;
    if (strict) {
      for (size_t i = p + 1; i <= p + n; ++i) {
        if (msg[i] < 0x21 || msg[i] > 0x7e) return Walk::kBad;
      }
    }
    p += size_t{n} + 1;
  }
  if (p + 4 > msg.size()) return Walk::kMore;
  if (strict && (core::load_be16(msg.data() + p) == 0 || !known_class(core::load_be16(msg.data() + p + 2)))) {
    return Walk::kBad;
  }
  return Walk::kOk;
}

// A complete message that parses with no anomaly at all.
bool clean_parse(core::ByteView msg) {
  core::Anomalies scratch;
  DnsMessage m;
  return parse_dns_message(msg, m, scratch) == ParseResult::kOk && scratch.total() == 0;
}

// NBNS (137) shares DNS's header but not its names or semantics.
bool netbios(const ProbeInput& in) { return in.orig_p == 137 || in.resp_p == 137; }

}  // namespace

Probe probe_udp(const ProbeInput& in) {
  if (netbios(in)) return Probe::kNo;
  const core::ByteView d = in.orig.empty() ? in.resp : in.orig;
  // On a DNS port a datagram that does not fit may be noise before the
  // real traffic: let the next datagram decide.
  const Probe miss = in.port_hint ? Probe::kMaybe : Probe::kNo;
  if (!plausible_header(d, d.size(), in.port_hint)) return miss;
  if (core::load_be16(d.data() + 4) != 0 && first_question(d, !in.port_hint) != Walk::kOk) return miss;
  if (!in.port_hint && !clean_parse(d)) return Probe::kNo;
  return Probe::kYes;
}

Probe probe_tcp(const ProbeInput& in) {
  if (netbios(in)) return Probe::kNo;
  // The client speaks first; a capture that starts mid-connection may show
  // only the server's side.
  const bool use_orig = !in.orig.empty() || in.resp.empty();
  const core::ByteView s = use_orig ? in.orig : in.resp;
  const bool done = use_orig ? in.orig_done : in.resp_done;
  const Probe more = done ? Probe::kNo : Probe::kMaybe;
  if (s.size() < 2) return more;
  const size_t len = core::load_be16(s.data());
  if (len < kHeaderLen) return Probe::kNo;
  const core::ByteView msg = s.subspan(2, std::min(len, s.size() - 2));
  if (msg.size() < kHeaderLen) return more;
  if (!plausible_header(msg, len, in.port_hint)) return Probe::kNo;
  if (core::load_be16(msg.data() + 4) != 0) {
    const Walk w = first_question(msg, !in.port_hint);
    if (w == Walk::kBad) return Probe::kNo;
    if (w == Walk::kMore) return msg.size() == len ? Probe::kNo : more;
  }
  if (in.port_hint) return Probe::kYes;
  if (msg.size() == len) return clean_parse(msg) ? Probe::kYes : Probe::kNo;
  // Longer than the probe buffer: the first question has to do.
  return Probe::kYes;
}

const DnsAnalyzerLimits DnsAnalyzer::kDefaultLimits{};

const DnsAnalyzerLimits* DnsAnalyzer::own_limits(const DnsAnalyzerLimits& limits) {
  own_limits_ = std::make_unique<const DnsAnalyzerLimits>(limits);
  return own_limits_.get();
}

DnsAnalyzer::DnsAnalyzer(Context& ctx, const DnsAnalyzerLimits& limits)
    : ctx_(ctx),
      limits_(limits == kDefaultLimits ? &kDefaultLimits : own_limits(limits)),
      tcp_(ctx.conn().proto == 6),
      mdns_(ctx.conn().orig_p == 5353 || ctx.conn().resp_p == 5353) {
  if (tcp_) sides_ = std::make_unique<TcpSide[]>(2);
}

DnsAnalyzer::~DnsAnalyzer() = default;

void DnsAnalyzer::stop() {
  stopped_ = true;
  // Free what was buffered, in place: a caller up the stack may still hold
  // a reference to its TcpSide.
  if (sides_) {
    for (size_t i = 0; i < 2; ++i) std::string().swap(sides_[i].buf);
  }
  ctx_.give_up();
}

void DnsAnalyzer::data(bool is_orig, core::ByteView bytes, core::Timestamp ts) {
  if (stopped_) return;
  if (!tcp_) {
    message(bytes, ts);
    return;
  }
  tcp_data(sides_[is_orig ? 0 : 1], bytes, ts);
}

void DnsAnalyzer::tcp_data(TcpSide& s, core::ByteView in, core::Timestamp ts) {
  if (s.resync) {
    // Framing was lost in a gap. Deliveries usually start at a segment
    // boundary, and a DNS message usually starts a segment: take the first
    // delivery that begins with a length and a plausible header.
    if (in.size() < 2 + kHeaderLen) return;
    const size_t len = core::load_be16(in.data());
    if (!plausible_header(in.subspan(2, std::min(len, in.size() - 2)), len, true)) return;
    s.resync = false;
  }
  while (!in.empty() && !stopped_) {
    if (s.len_have < 2) {
      if (s.len_have == 0 && in.size() >= 2) {
        s.msg_len = core::load_be16(in.data());
        in = in.subspan(2);
      } else if (s.len_have == 0) {
        s.len_hi = in[0];
        s.len_have = 1;
        return;
      } else {
        s.msg_len = (size_t{s.len_hi} << 8) | in[0];
        in = in.subspan(1);
      }
      s.len_have = 2;
      s.got = 0;
      s.damaged = false;
      if (s.msg_len > limits_->max_tcp_message) ctx_.anomalies().add(kAnomTcpMessageTooLarge);
      // The whole message is here: parse it in place.
      if (in.size() >= s.msg_len) {
        message(in.first(std::min(s.msg_len, limits_->max_tcp_message)), ts);
        in = in.subspan(s.msg_len);
        s.len_have = 0;
        continue;
      }
    }
    const size_t take = std::min(in.size(), s.msg_len - s.got);
    const size_t keep_limit = std::min(s.msg_len, limits_->max_tcp_message);
    if (!s.damaged && s.buf.size() < keep_limit) {
      const size_t keep = std::min(take, keep_limit - s.buf.size());
      s.buf.append(reinterpret_cast<const char*>(in.data()), keep);
    }
    s.got += take;
    in = in.subspan(take);
    if (s.got == s.msg_len) tcp_message_done(s, ts);
  }
}

void DnsAnalyzer::tcp_message_done(TcpSide& s, core::Timestamp ts) {
  const std::string buf = std::move(s.buf);
  s.buf.clear();
  s.len_have = 0;
  s.got = 0;
  s.damaged = false;
  message({reinterpret_cast<const uint8_t*>(buf.data()), buf.size()}, ts);
}

void DnsAnalyzer::gap(bool is_orig, uint64_t bytes, core::Timestamp ts) {
  if (stopped_ || !tcp_) return;
  ctx_.anomalies().add(kAnomTcpGap);
  TcpSide& s = sides_[is_orig ? 0 : 1];
  if (s.resync) return;
  if (s.len_have == 2 && bytes <= s.msg_len - s.got) {
    // The hole is inside the current message: the framing survives, the
    // message keeps only what came before the hole.
    s.got += static_cast<size_t>(bytes);
    s.damaged = true;
    if (s.got == s.msg_len) tcp_message_done(s, ts);
    return;
  }
  // The hole swallowed a message boundary. What came before it is still a
  // message prefix worth parsing (header and question).
  if (s.len_have == 2 && s.buf.size() >= kHeaderLen) tcp_message_done(s, ts);
  s = TcpSide{};
  s.resync = true;
}

void DnsAnalyzer::end_of_stream(bool is_orig, core::Timestamp ts) {
  if (stopped_ || !tcp_) return;
  TcpSide& s = sides_[is_orig ? 0 : 1];
  // A message cut short by the end of the stream: parse what there is (the
  // parser counts it as truncated), as Zeek does when a connection closes.
  if (s.len_have == 2 && !s.buf.empty()) tcp_message_done(s, ts);
  s = TcpSide{};
}

void DnsAnalyzer::finish(core::Timestamp ts) {
  if (!stopped_ && tcp_) {
    for (size_t i = 0; i < 2 && !stopped_; ++i) {
      TcpSide& s = sides_[i];
      if (s.len_have == 2 && !s.buf.empty()) tcp_message_done(s, ts);
    }
  }
  for (Pending& p : pending_) flush(p);
  pending_.clear();
}

void DnsAnalyzer::message(core::ByteView msg, core::Timestamp ts) {
  // One parsed message per worker thread, reused across connections so its
  // vectors keep their capacity (no per-connection copy of it either).
  static thread_local DnsMessage scratch;
  if (stopped_) return;
  if (++messages_ > limits_->max_messages) {
    ctx_.anomalies().add(kAnomTooManyMessages);
    stop();
    return;
  }
  bool bad = msg.size() < kHeaderLen;
  if (bad) {
    ctx_.anomalies().add(kAnomTruncated);
  } else if (core::load_be16(msg.data() + 4) > limits_->max_questions) {
    ctx_.anomalies().add(kAnomTooManyQuestions);
    bad = true;
  }
  if (bad) {
    if (++bad_in_row_ >= limits_->max_bad_in_row) {
      ctx_.anomalies().add(kAnomNotDns);
      stop();
    }
    return;
  }
  bad_in_row_ = 0;
  // A partly parsed message still yields what came before the damage (its
  // header and usually its question), as Zeek's events do.
  DnsMessage& m = scratch;
  parse_dns_message(msg, m, ctx_.anomalies(), limits_->parser);
  expire(ts);
  // Only standard queries are tracked (as Zeek): NOTIFY, UPDATE and the
  // rest are not transactions of dns.log.
  if (m.flags.opcode != 0) return;
  if (m.flags.qr) {
    on_reply(m, ts);
  } else {
    on_query(m, ts);
  }
}

bool DnsAnalyzer::matches(const Pending& p, const DnsMessage& m) {
  if (p.rec->trans_id != m.id) return false;
  if (!p.has_question || m.questions.empty()) return true;
  // Names are compared lower-cased (0x20 randomisation); the class without
  // mDNS's unicast-response bit.
  const DnsQuestion& q = m.questions.front();
  return p.qname == q.name && p.qtype == q.qtype && (p.qclass & 0x7fffu) == (q.qclass & 0x7fffu);
}

void DnsAnalyzer::fill_query(DnsLogRecord& r, const DnsMessage& m) {
  r.saw_query = true;
  r.rd = m.flags.rd;
  r.z = static_cast<uint8_t>((m.flags.z ? 4 : 0) | (m.flags.ad ? 2 : 0) | (m.flags.cd ? 1 : 0));
  if (!r.saw_reply) r.tc = m.flags.tc;
  if (!m.questions.empty()) {
    const DnsQuestion& q = m.questions.front();
    r.query = q.name;
    r.query_original = q.original;
    r.qtype = q.qtype;
    r.qclass = q.qclass;
  }
}

void DnsAnalyzer::fill_reply(DnsLogRecord& r, DnsMessage& m, core::Timestamp ts) {
  r.saw_reply = true;
  r.reply_ts = ts;
  r.rcode = static_cast<uint16_t>(m.rcode & 0x0fu);
  r.aa = m.flags.aa;
  r.ra = m.flags.ra;
  r.tc = m.flags.tc;
  r.total_answers = m.ancount;
  r.total_replies = static_cast<uint16_t>(
      std::min<uint32_t>(uint32_t{m.ancount} + m.nscount + m.arcount, 0xffffu));
  if (r.saw_query) {
    if (ts >= r.ts) r.rtt_ns = ts - r.ts;
  } else {
    r.rd = m.flags.rd;
    r.z = static_cast<uint8_t>((m.flags.z ? 4 : 0) | (m.flags.ad ? 2 : 0) | (m.flags.cd ? 1 : 0));
    // Zeek sets qtype and qclass from the query only (so they tell that the
    // query was seen); the name is taken from the response's question.
    if (!m.questions.empty()) {
      r.query = m.questions.front().name;
      r.query_original = m.questions.front().original;
    } else if (!m.answers.empty()) {
      // No question at all: Zeek names the transaction after the first answer.
      r.query = m.answers.front().name;
    }
  }
  // Zeek: rejected when a response to a question carries no records at all,
  // or an error comes back without the question.
  r.rejected = (m.qdcount != 0 && m.ancount == 0 && m.nscount == 0 && m.arcount == 0) ||
               ((m.rcode & 0x0fu) != 0 && m.qdcount == 0);
  r.answers.clear();
  r.answers.reserve(m.answers.size());
  // m is parsed afresh for the next message: its strings can move.
  for (DnsRecord& rr : m.answers) {
    if (rr.rdata.empty()) continue;  // the root as target, or rdata too damaged to render: Zeek omits it
    DnsAnswer a;
    a.name = std::move(rr.name);
    a.type = rr.type;
    a.rclass = rr.rclass;
    a.ttl = rr.ttl;
    a.text = std::move(rr.rdata);
    if (rr.has_address) a.address = rr.address;
    r.answers.push_back(std::move(a));
  }
}

void DnsAnalyzer::on_query(const DnsMessage& m, core::Timestamp ts) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (it->is_reply && matches(*it, m)) {
      // The response came first (capture order): the pair is complete now.
      fill_query(*it->rec, m);
      ctx_.emit(std::move(it->rec));
      pending_.erase(it);
      release_if_idle();
      return;
    }
  }
  Pending p = make_pending(m, ts, false);
  fill_query(*p.rec, m);
  add_pending(std::move(p));
}

void DnsAnalyzer::on_reply(DnsMessage& m, core::Timestamp ts) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (!it->is_reply && matches(*it, m)) {
      fill_reply(*it->rec, m, ts);
      ctx_.emit(std::move(it->rec));
      pending_.erase(it);
      release_if_idle();
      return;
    }
  }
  // No query for it (yet): keep it a while, the query may follow.
  Pending p = make_pending(m, ts, true);
  fill_reply(*p.rec, m, ts);
  add_pending(std::move(p));
}

DnsAnalyzer::Pending DnsAnalyzer::make_pending(const DnsMessage& m, core::Timestamp ts, bool is_reply) const {
  Pending p;
  p.rec = std::make_unique<DnsLogRecord>();
  p.rec->set_conn(ctx_.conn());
  p.rec->ts = ts;
  p.rec->trans_id = m.id;
  p.seen = ts;
  p.is_reply = is_reply;
  if (!m.questions.empty()) {
    const DnsQuestion& q = m.questions.front();
    p.has_question = true;
    p.qname = q.name;
    p.qtype = q.qtype;
    p.qclass = q.qclass;
  }
  return p;
}

void DnsAnalyzer::add_pending(Pending p) {
  if (pending_.size() >= limits_->max_pending) {
    ctx_.anomalies().add(kAnomTooManyPending);
    flush(pending_.front());
    pending_.erase(pending_.begin());
  }
  pending_.push_back(std::move(p));
}

void DnsAnalyzer::expire(core::Timestamp now) {
  size_t n = 0;
  while (n < pending_.size() && now - pending_[n].seen > limits_->pending_timeout_ns) flush(pending_[n++]);
  if (n == 0) return;
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
  release_if_idle();
}

void DnsAnalyzer::release_if_idle() {
  // Most connections carry one transaction and then idle until their
  // inactivity timeout: free the vector's slot meanwhile.
  if (pending_.empty()) std::vector<Pending>().swap(pending_);
}

void DnsAnalyzer::flush(Pending& p) {
  if (!p.rec) return;
  if (p.is_reply && !mdns_) ctx_.anomalies().add(kAnomUnmatchedReply);
  ctx_.emit(std::move(p.rec));
}

}  // namespace trawl::analyzers::dns

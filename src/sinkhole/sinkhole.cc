#include "sinkhole/sinkhole.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "capture/raw_packet.h"
#include "decode/decoded_packet.h"
#include "decode/decoder.h"
#include "flow/conn_uid.h"
#include "flow/connection.h"
#include "output/json_line.h"
#include "sinkhole/tls_session.h"

namespace trawl::sinkhole {

namespace {

constexpr uint16_t kEtherArp = 0x0806;
constexpr size_t kMinEthernetFrame = 60;  // without FCS: short frames are padded

bool is_zero(const MacAddress& m) {
  return std::all_of(m.begin(), m.end(), [](uint8_t b) { return b == 0; });
}

bool is_unspecified(const core::IpAddress& a) {
  const uint8_t* p = a.wire_data();
  return std::all_of(p, p + a.wire_size(), [](uint8_t b) { return b == 0; });
}

bool is_multicast_or_broadcast(const core::IpAddress& a) {
  if (a.is_v4()) {
    const uint32_t v = a.v4_host_order();
    return (v >> 28) == 0xe || v == 0xffffffffu;
  }
  return a.wire_data()[0] == 0xff;
}

std::string hex(core::ByteView b) {
  static const char* const kDigits = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t c : b) {
    s.push_back(kDigits[c >> 4]);
    s.push_back(kDigits[c & 0xf]);
  }
  return s;
}

// Printable ASCII kept, everything else as '.', like a hex dump's text column.
std::string printable(core::ByteView b) {
  std::string s;
  s.reserve(b.size());
  for (uint8_t c : b) s.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.');
  return s;
}

ConnIds ids_of(const core::IpAddress& oh, uint16_t op, const core::IpAddress& rh, uint16_t rp) {
  ConnIds id;
  id.orig_h = oh;
  id.orig_p = op;
  id.resp_h = rh;
  id.resp_p = rp;
  return id;
}

}  // namespace

CaseLimits case_limits(const SinkholeLimits& l) {
  CaseLimits c;
  c.max_artifact_bytes = l.max_artifact_bytes;
  c.max_artifact_files = l.max_artifact_files;
  c.max_iocs_per_kind = l.max_iocs_per_kind;
  c.max_records_per_log = l.max_records_per_log;
  return c;
}

struct Sinkhole::Session {
  std::unique_ptr<ServiceSession> svc;
  SessionInfo info;
  std::string uid;
  bool closing = false;
};

// TcpEndpoint's output, routed to the sessions.
class Sinkhole::TcpGlue : public TcpSink {
 public:
  explicit TcpGlue(Sinkhole& s) : s_(s) {}
  void frame(core::ByteView bytes) override { s_.emit(bytes); }
  void opened(const TcpConnInfo& c) override { s_.open_session(c, s_.now_); }
  void data(const TcpConnInfo& c, core::ByteView bytes) override {
    auto it = s_.sessions_.find(c.id);
    if (it == s_.sessions_.end()) return;
    Session& ss = *it->second;
    std::vector<uint8_t> out;
    ss.svc->on_data(bytes, s_.now_, out);
    s_.pump(c.id, ss, out, s_.now_);
  }
  void peer_closed(const TcpConnInfo& c) override {
    auto it = s_.sessions_.find(c.id);
    if (it == s_.sessions_.end()) return;
    Session& ss = *it->second;
    std::vector<uint8_t> out;
    ss.svc->on_peer_closed(s_.now_, out);
    s_.pump(c.id, ss, out, s_.now_);
  }
  void closed(const TcpConnInfo& c, CloseReason r) override { s_.conn_closed(c, to_string(r), s_.now_); }

 private:
  Sinkhole& s_;
};

std::string Sinkhole::check_config(const SinkholeConfig& cfg) {
  std::string e = sinkhole::check_config(cfg.dns);
  if (!e.empty()) return "dns: " + e;
  e = sinkhole::check_config(cfg.services);
  if (!e.empty()) return "services: " + e;
  if ((cfg.answer_arp || cfg.answer_ndp) && is_zero(cfg.own_mac))
    return "the interface's MAC address is not set (ARP/NDP answers need it)";
  if (cfg.tcp.max_connections == 0) return "tcp.max_connections must be at least 1";
  if (cfg.tcp.our_mss < 64) return "tcp.mss must be at least 64";
  return {};
}

Sinkhole::Sinkhole(SinkholeConfig cfg, TlsAuthority* ca, CaseWriter& out)
    : cfg_(std::move(cfg)), out_(out), ca_(ca) {
  decoder_ = std::make_unique<decode::Decoder>(anomalies_);
  dns_ = std::make_unique<DnsResponder>(cfg_.dns);
  http_ = std::make_unique<HttpResponder>(cfg_.http);
  router_ = std::make_unique<ServiceRouter>(cfg_.services, *http_, *dns_, ca);
  glue_ = std::make_unique<TcpGlue>(*this);
  tcp_ = std::make_unique<TcpEndpoint>(cfg_.tcp, *glue_);
}

Sinkhole::~Sinkhole() = default;

size_t Sinkhole::connection_count() const { return tcp_->connection_count(); }

bool Sinkhole::never(const core::IpAddress& a) const {
  return std::any_of(cfg_.never_answer.begin(), cfg_.never_answer.end(),
                     [&](const core::IpNetwork& n) { return n.contains(a); });
}

void Sinkhole::emit(core::ByteView frame) {
  if (frame.empty()) return;
  ++stats_.frames_injected;
  if (!pcap_index) ++counted_index_;
  if (inject) inject(frame);
}

void Sinkhole::on_frame(core::ByteView frame, core::Timestamp now) {
  if (finished_) return;
  ++stats_.frames;
  // Our own injected frames come back through the capture: not the guest's.
  if (frame.size() >= 12 && std::memcmp(frame.data() + 6, cfg_.own_mac.data(), 6) == 0) {
    ++stats_.own_frames;
    return;
  }
  const uint64_t index = pcap_index ? pcap_index() : counted_index_++;
  now_ = now;
  if (!have_first_) {
    first_ts_ = now;
    have_first_ = true;
  }

  capture::RawPacket raw;
  raw.ts = now;
  raw.caplen = static_cast<uint32_t>(std::min<size_t>(frame.size(), UINT32_MAX));
  raw.wirelen = raw.caplen;
  raw.linktype = static_cast<uint16_t>(capture::LinkType::kEthernet);
  raw.data = frame.data();
  decode::DecodedPacket pkt;
  pkt.index = index;
  const decode::DecodeStatus st = decoder_->decode(raw, pkt);
  if (st != decode::DecodeStatus::kOk || !pkt.has_mac) {
    ++stats_.undecodable;
    return;
  }
  if (pkt.l3 == decode::L3::kArp) {
    handle_arp(pkt);
    return;
  }
  if (pkt.l3 != decode::L3::kIpv4 && pkt.l3 != decode::L3::kIpv6) {
    ++stats_.undecodable;
    return;
  }
  // Tunnelled packets would need their encapsulation rebuilt in the answer.
  if (pkt.tunnel_depth > 0 || pkt.vlan_count > 0 || !pkt.has_l4) {
    ++stats_.undecodable;
    return;
  }
  if (never(pkt.dst)) {
    ++stats_.never_answered;
    return;
  }
  switch (pkt.ip_proto) {
    case decode::ip_proto::kTcp:
      handle_tcp(pkt, index, now);
      break;
    case decode::ip_proto::kUdp:
      handle_udp(pkt, now);
      break;
    case decode::ip_proto::kIcmp:
    case decode::ip_proto::kIcmpv6:
      handle_icmp(pkt, now);
      break;
    default:
      ++stats_.other_ip;
      break;
  }
}

void Sinkhole::handle_tcp(const decode::DecodedPacket& pkt, uint64_t index, core::Timestamp now) {
  ++stats_.tcp_segments;
  const TcpCounters& k = tcp_->counters();
  const uint64_t syns = k.syns;
  const uint64_t refused = k.refused;
  const uint64_t evicted = k.evicted_half_open + k.table_full;
  const Tuple t{pkt.src, pkt.dst, pkt.sport, pkt.dport};
  // The uid is fixed by the SYN (as `trawl analyze` fixes it by the first
  // packet); record it before the endpoint can report the handshake.
  std::string uid;
  if ((pkt.tcp_flags & (decode::tcp_flag::kSyn | decode::tcp_flag::kAck)) == decode::tcp_flag::kSyn)
    uid = flow::make_conn_uid(index, flow::make_packet_key(pkt).key, now);
  tcp_->on_segment(pkt, now);
  if (k.syns != syns && !uid.empty()) uids_[t] = {std::move(uid), now};
  stats_.tcp_refused += k.refused - refused;
  stats_.syn_flood_evictions += k.evicted_half_open + k.table_full - evicted;
}

void Sinkhole::open_session(const TcpConnInfo& c, core::Timestamp now) {
  auto s = std::make_unique<Session>();
  s->info.conn = c.id;
  s->info.guest_ip = c.guest_ip;
  s->info.server_ip = c.server_ip;
  s->info.guest_port = c.guest_port;
  s->info.server_port = c.server_port;
  s->info.domain = dns_->name_for(c.server_ip).value_or("");
  auto u = uids_.find(Tuple{c.guest_ip, c.server_ip, c.guest_port, c.server_port});
  if (u != uids_.end()) s->uid = u->second.first;
  s->svc = router_->open(s->info);
  if (!s->svc) {
    tcp_->abort(c.id, now);
    return;
  }
  ++stats_.tcp_connections;
  if (s->info.domain.empty() && !is_multicast_or_broadcast(c.server_ip)) {
    out_.ioc(Ioc{Ioc::Kind::kIp, c.server_ip.to_string()}, now);
  }
  Session& ref = *s;
  sessions_[c.id] = std::move(s);
  std::vector<uint8_t> out;
  ref.svc->on_open(now, out);
  pump(c.id, ref, out, now);
}

void Sinkhole::pump(uint64_t conn, Session& s, std::vector<uint8_t>& out, core::Timestamp now) {
  if (!out.empty()) {
    // Bytes beyond the send queue are dropped and counted by the endpoint
    // (send_truncated): a session must not make the driver buffer without bound.
    tcp_->send(conn, out, now);
    out.clear();
  }
  drain_events(s, now);
  if (!s.closing && s.svc->wants_close()) {
    s.closing = true;
    tcp_->close(conn, now);
  }
}

void Sinkhole::drain_events(Session& s, core::Timestamp now) {
  std::vector<ServiceEvent> evs;
  s.svc->take_events(evs);
  const ConnIds id = ids_of(s.info.guest_ip, s.info.guest_port, s.info.server_ip, s.info.server_port);
  size_t n = 0;
  for (const ServiceEvent& e : evs) {
    if (n++ >= cfg_.limits.max_events_per_call) {
      ++stats_.events_dropped;
      continue;
    }
    ++stats_.events_by_log[e.log];
    if (!e.artifact_kind.empty() || !e.artifact.empty()) ++stats_.artifacts;
    out_.event(now, s.uid, id, e);
  }
}

void Sinkhole::conn_closed(const TcpConnInfo& c, const std::string& reason, core::Timestamp now) {
  SinkholeConn rec;
  const Tuple t{c.guest_ip, c.server_ip, c.guest_port, c.server_port};
  auto u = uids_.find(t);
  if (u != uids_.end()) {
    rec.uid = std::move(u->second.first);
    uids_.erase(u);
  }
  auto it = sessions_.find(c.id);
  if (it != sessions_.end()) {
    std::unique_ptr<Session> s = std::move(it->second);
    sessions_.erase(it);
    s->svc->on_closed(now);
    drain_events(*s, now);
    rec.service = s->svc->name();
    rec.domain = s->info.domain;
    ++stats_.connections_by_service[rec.service];
  } else {
    rec.domain = dns_->name_for(c.server_ip).value_or("");
  }
  rec.ts = c.first_seen;
  rec.last = c.last_seen;
  rec.id = ids_of(c.guest_ip, c.guest_port, c.server_ip, c.server_port);
  rec.orig_bytes = c.bytes_from_guest;
  rec.resp_bytes = c.bytes_to_guest;
  rec.close_reason = shutting_down_ ? "shutdown" : reason;
  out_.conn(rec);
}

void Sinkhole::handle_udp(const decode::DecodedPacket& pkt, core::Timestamp now) {
  const ConnIds id = ids_of(pkt.src, pkt.sport, pkt.dst, pkt.dport);
  // Each datagram is its own flow here; `trawl analyze` joins a query to
  // this uid when the guest uses a fresh source port per query (resolvers do).
  const std::string uid = flow::make_conn_uid(pkt.index, flow::make_packet_key(pkt).key, now);
  const bool complete = pkt.payload.size() == pkt.payload_len;
  if (pkt.dport == 53 && complete && !is_multicast_or_broadcast(pkt.dst)) {
    std::vector<uint8_t> answer;
    DnsExchange ex;
    if (!dns_->answer_udp(pkt.payload, answer, &ex)) {
      ++stats_.dns_dropped;
      return;
    }
    ++stats_.dns_queries;
    FrameAddrs a = reply_addrs(pkt);
    a.src_mac = cfg_.own_mac;
    a.ttl = cfg_.tcp.ttl;
    emit(build_udp_frame(a, pkt.dport, pkt.sport, answer));
    out_.dns(now, uid, id, ex);
    return;
  }
  // Logged, never answered: no ICMP port unreachable either. Silence is what
  // most internet hosts behind a firewall give, so the malware keeps trying
  // (more behaviour to record), and an unreachable from an address that
  // answers every TCP port would give the trick away.
  ++stats_.udp_other;
  if (stats_.udp_other > cfg_.limits.max_udp_events) return;
  const core::ByteView first = pkt.payload.first(std::min(pkt.payload.size(), cfg_.limits.udp_logged_bytes));
  ServiceEvent e;
  e.log = "sinkhole_udp";
  std::string& j = e.json;
  output::JsonLine line(j);
  line.u64("len", pkt.payload_len).str("first_bytes_hex", hex(first)).str("first_bytes_text", printable(first));
  line.end_object();
  if (!is_multicast_or_broadcast(pkt.dst) && !dns_->name_for(pkt.dst))
    e.iocs.push_back(Ioc{Ioc::Kind::kIp, pkt.dst.to_string()});
  ++stats_.events_by_log[e.log];
  out_.event(now, uid, id, e);
}

void Sinkhole::handle_icmp(const decode::DecodedPacket& pkt, core::Timestamp now) {
  (void)now;
  const bool v6 = pkt.ip_proto == decode::ip_proto::kIcmpv6;
  const uint8_t type = static_cast<uint8_t>(pkt.sport);
  if (v6 && type == 135) {
    if (!handle_ndp(pkt)) ++stats_.icmp_other;
    return;
  }
  const bool echo = v6 ? type == 128 : type == 8;
  if (!echo || !cfg_.answer_icmp_echo || is_multicast_or_broadcast(pkt.dst) ||
      pkt.payload.size() != pkt.payload_len) {
    ++stats_.icmp_other;
    return;
  }
  // The decoder's payload starts after the 8-byte echo header, inside the
  // same buffer: the 4 bytes before it are the identifier and sequence.
  const core::ByteView body(pkt.payload.data() - 4, pkt.payload.size() + 4);
  FrameAddrs a = reply_addrs(pkt);
  a.src_mac = cfg_.own_mac;
  a.ttl = cfg_.tcp.ttl;
  emit(build_icmp_frame(a, v6 ? 129 : 0, 0, body));
  ++stats_.icmp_echoes;
}

void Sinkhole::handle_arp(const decode::DecodedPacket& pkt) {
  const decode::ArpInfo& q = pkt.arp;
  // Probes (sender 0.0.0.0) and announcements (sender == target) are the
  // guest checking that its own address is free: answering them would make
  // it give the address up.
  if (!cfg_.answer_arp || q.op != 1 || is_unspecified(q.sender_ip) || q.sender_ip == q.target_ip ||
      never(q.target_ip) || is_multicast_or_broadcast(q.target_ip) || is_unspecified(q.target_ip)) {
    ++stats_.arp_ignored;
    return;
  }
  Frame f(kMinEthernetFrame, 0);
  uint8_t* p = f.data();
  std::memcpy(p, q.sender_mac.data(), 6);
  std::memcpy(p + 6, cfg_.own_mac.data(), 6);
  p[12] = kEtherArp >> 8;
  p[13] = kEtherArp & 0xff;
  const uint8_t hdr[8] = {0, 1, 8, 0, 6, 4, 0, 2};  // Ethernet, IPv4, reply
  std::memcpy(p + 14, hdr, 8);
  std::memcpy(p + 22, cfg_.own_mac.data(), 6);
  std::memcpy(p + 28, q.target_ip.wire_data(), 4);
  std::memcpy(p + 32, q.sender_mac.data(), 6);
  std::memcpy(p + 38, q.sender_ip.wire_data(), 4);
  emit(f);
  ++stats_.arp_replies;
}

bool Sinkhole::handle_ndp(const decode::DecodedPacket& pkt) {
  // Neighbour solicitation: 4 reserved bytes (in the decoder's 8-byte
  // header), then the target address, then options.
  if (!cfg_.answer_ndp || pkt.payload.size() < 16 || pkt.payload.size() != pkt.payload_len || pkt.ttl != 255)
    return false;
  const core::IpAddress target = core::IpAddress::v6(pkt.payload.data());
  // The guest's duplicate address detection (source ::) must see no answer.
  if (is_unspecified(pkt.src) || never(target) || is_multicast_or_broadcast(target) || is_unspecified(target))
    return false;
  std::vector<uint8_t> body(4 + 16 + 8, 0);
  body[0] = 0x60;  // solicited, override
  std::memcpy(body.data() + 4, pkt.payload.data(), 16);  // the target, as asked
  body[20] = 2;  // target link-layer address option, 8 bytes
  body[21] = 1;
  std::memcpy(body.data() + 22, cfg_.own_mac.data(), 6);
  FrameAddrs a;
  a.src_mac = cfg_.own_mac;
  a.dst_mac = pkt.src_mac;
  a.src = target;
  a.dst = pkt.src;
  a.ttl = 255;  // RFC 4861: receivers drop neighbour discovery with any other hop limit
  emit(build_icmp_frame(a, 136, 0, body));
  ++stats_.ndp_replies;
  return true;
}

void Sinkhole::on_timer(core::Timestamp now) {
  if (finished_) return;
  now_ = now;
  tcp_->on_timer(now);
  std::vector<uint64_t> due;
  for (const auto& [id, s] : sessions_)
    if (s->svc->next_deadline() <= now) due.push_back(id);
  for (uint64_t id : due) {
    auto it = sessions_.find(id);  // an earlier session's work may have closed this one
    if (it == sessions_.end()) continue;
    Session& s = *it->second;
    std::vector<uint8_t> out;
    s.svc->on_timer(now, out);
    pump(id, s, out, now);
  }
}

core::Timestamp Sinkhole::next_deadline() const {
  core::Timestamp t = tcp_->next_deadline();
  for (const auto& [id, s] : sessions_) t = std::min(t, s->svc->next_deadline());
  return t;
}

void Sinkhole::finish(core::Timestamp now) {
  if (finished_) return;
  now_ = now;
  // Abort every connection: the endpoint reports each closed, which writes
  // its record (with the reason below) and flushes its session's events.
  std::vector<uint64_t> ids;
  for (const auto& [id, s] : sessions_) ids.push_back(id);
  shutting_down_ = true;
  for (uint64_t id : ids) tcp_->abort(id, now);
  // Half-open connections have no session: their records from the table.
  std::vector<Tuple> rest;
  for (const auto& [t, u] : uids_) rest.push_back(t);
  for (const Tuple& t : rest) {
    auto u = uids_.find(t);
    if (u == uids_.end()) continue;
    SinkholeConn rec;
    rec.ts = u->second.second;
    rec.last = u->second.second;
    rec.uid = u->second.first;
    rec.id = ids_of(std::get<0>(t), std::get<2>(t), std::get<1>(t), std::get<3>(t));
    rec.domain = dns_->name_for(std::get<1>(t)).value_or("");
    rec.close_reason = "shutdown";
    out_.conn(rec);
    uids_.erase(u);
  }
  finished_ = true;

  CaseWriter::RunSummary sum;
  sum.start = have_first_ ? first_ts_ : now;
  sum.end = now;
  if (ca_) sum.ca_cert = ca_->ca_cert_path();
  const TcpCounters& k = tcp_->counters();
  sum.counters = {
      {"frames", stats_.frames},
      {"frames injected", stats_.frames_injected},
      {"tcp connections", stats_.tcp_connections},
      {"tcp SYNs", k.syns},
      {"tcp refused (rst_ports)", stats_.tcp_refused},
      {"tcp SYN flood evictions", stats_.syn_flood_evictions},
      {"dns queries (udp)", stats_.dns_queries},
      {"icmp echo replies", stats_.icmp_echoes},
      {"udp datagrams logged", stats_.udp_other},
      {"arp replies", stats_.arp_replies},
      {"ndp replies", stats_.ndp_replies},
      {"undecodable frames", stats_.undecodable},
      {"events dropped", stats_.events_dropped},
  };
  for (const auto& [name, n] : stats_.connections_by_service) sum.counters.emplace_back("tcp service " + name, n);
  out_.finish(sum);
}

}  // namespace trawl::sinkhole

// Builders for crafted DecodedPackets and a FlowTable harness that collects
// the records, so flow tests read as packet conversations.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/anomalies.h"
#include "core/ip_address.h"
#include "decode/decoded_packet.h"
#include "flow/conn_record.h"
#include "flow/flow_table.h"

namespace trawl::flow::testing {

inline core::IpAddress ip(const char* text) { return *core::IpAddress::parse(text); }

inline core::Timestamp at(double seconds) { return core::Timestamp{static_cast<int64_t>(seconds * 1e9 + 0.5)}; }

inline uint8_t parse_flags(const std::string& s) {
  uint8_t f = 0;
  for (char c : s) {
    switch (c) {
      case 'S': f |= decode::tcp_flag::kSyn; break;
      case 'A': f |= decode::tcp_flag::kAck; break;
      case 'F': f |= decode::tcp_flag::kFin; break;
      case 'R': f |= decode::tcp_flag::kRst; break;
      case 'P': f |= decode::tcp_flag::kPsh; break;
      case 'U': f |= decode::tcp_flag::kUrg; break;
      default: break;
    }
  }
  return f;
}

inline decode::DecodedPacket ip_packet(const core::IpAddress& src, const core::IpAddress& dst, uint8_t proto,
                                       double ts) {
  decode::DecodedPacket p;
  p.ts = at(ts);
  p.l3 = src.is_v4() ? decode::L3::kIpv4 : decode::L3::kIpv6;
  p.src = src;
  p.dst = dst;
  p.ip_proto = proto;
  p.ttl = 64;
  p.has_l4 = true;
  return p;
}

// Payload bytes for synthetic packets (zeros): packets carry their data, as
// captured ones do, so the reassembler does not see snaplen-cut segments.
inline core::ByteView zero_payload(uint32_t len) {
  static const std::vector<uint8_t> zeros(65536, 0);
  return core::ByteView(zeros.data(), std::min<size_t>(len, zeros.size()));
}

inline decode::DecodedPacket tcp_packet(const char* src, uint16_t sport, const char* dst, uint16_t dport,
                                        const std::string& flags, uint32_t seq, uint32_t ack, uint32_t len,
                                        double ts) {
  decode::DecodedPacket p = ip_packet(ip(src), ip(dst), decode::ip_proto::kTcp, ts);
  p.sport = sport;
  p.dport = dport;
  p.tcp_flags = parse_flags(flags);
  p.seq = seq;
  p.ack = ack;
  p.window = 65535;
  p.payload_len = len;
  p.payload = zero_payload(len);
  p.ip_len = (p.l3 == decode::L3::kIpv4 ? 20u : 40u) + 20u + len;
  return p;
}

inline decode::DecodedPacket udp_packet(const char* src, uint16_t sport, const char* dst, uint16_t dport,
                                        uint32_t len, double ts) {
  decode::DecodedPacket p = ip_packet(ip(src), ip(dst), decode::ip_proto::kUdp, ts);
  p.sport = sport;
  p.dport = dport;
  p.payload_len = len;
  p.payload = zero_payload(len);
  p.ip_len = (p.l3 == decode::L3::kIpv4 ? 20u : 40u) + 8u + len;
  return p;
}

// ICMP: type in sport, code in dport, payload_len after the 8-byte header.
inline decode::DecodedPacket icmp_packet(const char* src, const char* dst, uint8_t type, uint8_t code, uint32_t len,
                                         double ts, uint16_t id = 1) {
  core::IpAddress s = ip(src);
  decode::DecodedPacket p =
      ip_packet(s, ip(dst), s.is_v4() ? decode::ip_proto::kIcmp : decode::ip_proto::kIcmpv6, ts);
  p.sport = type;
  p.dport = code;
  p.icmp_id = id;
  p.payload_len = len;
  p.ip_len = (p.l3 == decode::L3::kIpv4 ? 20u : 40u) + 8u + len;
  return p;
}

// A FlowTable whose records land in `records`, with input indexes assigned
// in arrival order.
struct Harness {
  explicit Harness(FlowConfig cfg = {}) : table(cfg, anomalies, [this](ConnRecord&& r) { records.push_back(r); }) {}

  void send(decode::DecodedPacket p) {
    p.index = next_index++;
    table.process(p);
  }
  void flush() { table.flush(); }
  uint64_t anomaly(const char* name) const {
    auto m = anomalies.by_name();
    auto it = m.find(name);
    return it == m.end() ? 0 : it->second;
  }

  core::Anomalies anomalies;
  std::vector<ConnRecord> records;
  FlowTable table;
  uint64_t next_index = 0;
};

// Two TCP endpoints that keep their own sequence numbers, so a test lists
// who sends which flags and how much data; each packet acknowledges what the
// other side has sent so far when it carries ACK.
class TcpConversation {
 public:
  TcpConversation(Harness& h, const char* client, uint16_t cport, const char* server, uint16_t sport,
                  uint32_t client_isn = 1000, uint32_t server_isn = 5000)
      : h_(h), client_(client), server_(server), cport_(cport), sport_(sport) {
    next_[0] = client_isn;
    next_[1] = server_isn;
  }

  void client(const std::string& flags, uint32_t len = 0) { send(0, flags, len); }
  void server(const std::string& flags, uint32_t len = 0) { send(1, flags, len); }
  // Sends with an explicit sequence number (retransmissions, odd packets)
  // without advancing the sender's next sequence number.
  void raw(bool from_client, const std::string& flags, uint32_t seq, uint32_t len = 0, uint16_t window = 65535) {
    auto p = make(from_client ? 0 : 1, flags, seq, len);
    p.window = window;
    h_.send(p);
  }
  decode::DecodedPacket make(int s, const std::string& flags, uint32_t seq, uint32_t len) {
    t_ += step;
    auto p = s == 0 ? tcp_packet(client_, cport_, server_, sport_, flags, seq, next_[1], len, t_)
                    : tcp_packet(server_, sport_, client_, cport_, flags, seq, next_[0], len, t_);
    if (!(p.tcp_flags & decode::tcp_flag::kAck)) p.ack = 0;
    return p;
  }
  uint32_t next_seq(bool client) const { return next_[client ? 0 : 1]; }
  void skip(bool client, uint32_t n) { next_[client ? 0 : 1] += n; }
  double now() const { return t_; }
  void set_time(double t) { t_ = t; }

  double step = 0.01;

 private:
  void send(int s, const std::string& flags, uint32_t len) {
    auto p = make(s, flags, next_[s], len);
    uint32_t adv = len;
    if (p.tcp_flags & decode::tcp_flag::kSyn) ++adv;
    if (p.tcp_flags & decode::tcp_flag::kFin) ++adv;
    if (p.tcp_flags & decode::tcp_flag::kRst) adv = 0;
    next_[s] += adv;
    h_.send(p);
  }

  Harness& h_;
  const char* client_;
  const char* server_;
  uint16_t cport_;
  uint16_t sport_;
  uint32_t next_[2] = {0, 0};
  double t_ = 100.0;
};

}  // namespace trawl::flow::testing

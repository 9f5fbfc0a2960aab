// Sinkhole: the driver that makes a sandboxed guest believe it is online.
// Every Ethernet frame the guest sends comes in through on_frame; the driver
// decodes it, answers it (TCP through TcpEndpoint and one ServiceSession per
// connection, DNS over UDP, ICMP echo, ARP and IPv6 neighbour solicitation)
// with frames handed to `inject`, and writes what the guest did through a
// CaseWriter. Pure like its parts: no sockets, no clock reads; the caller
// (app/cmd_sinkhole.cc) owns libpcap, the clock and signals. See
// docs/sinkhole-config.md for the configuration and the answering policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "core/anomalies.h"
#include "core/byte_view.h"
#include "core/ip_address.h"
#include "core/timestamp.h"
#include "sinkhole/case_writer.h"
#include "sinkhole/dns_responder.h"
#include "sinkhole/frame.h"
#include "sinkhole/http_responder.h"
#include "sinkhole/service.h"
#include "sinkhole/service_router.h"
#include "sinkhole/tcp_endpoint.h"

namespace trawl::decode {
class Decoder;
struct DecodedPacket;
}  // namespace trawl::decode

namespace trawl::sinkhole {

class TlsAuthority;

// Bounds the driver itself enforces (the components bound their own state).
struct SinkholeLimits {
  // Events a session may report per take_events() call that are written;
  // the rest are counted in Stats::events_dropped.
  size_t max_events_per_call = 1000;
  // Every artifact (files/<sha256>) of the run together; then artifacts are
  // hashed and listed but not stored (Stats::artifacts_not_stored).
  uint64_t max_artifact_bytes = 256ULL * 1024 * 1024;
  uint64_t max_artifact_files = 10000;
  // Distinct values per kind that iocs.json keeps; more are counted only.
  size_t max_iocs_per_kind = 100000;
  // Bytes of a non-DNS UDP datagram logged (as hex and text).
  size_t udp_logged_bytes = 64;
  // sinkhole_udp records per run; then only counted (a UDP flood must not
  // fill the disk).
  uint64_t max_udp_events = 100000;
  // Records of any one log per run (sinkhole_conn, sinkhole_dns, every
  // service log); then only counted (Stats::records_dropped).
  uint64_t max_records_per_log = 1000000;
};

// The CaseWriter limits that belong to the run's configuration.
CaseLimits case_limits(const SinkholeLimits& l);

struct SinkholeConfig {
  TcpConfig tcp;
  DnsResponderConfig dns;
  HttpResponderConfig http;
  ServicesConfig services;  // service_router.h
  std::string ca_dir;       // default: <case dir>/ca (the caller sets it)
  bool answer_icmp_echo = true;
  // Answer ARP requests / IPv6 neighbour solicitations for every address
  // (except never_answer, probes and gratuitous announcements) with own_mac,
  // so a guest without a default gateway still reaches "internet" addresses
  // on its link, and the gateway address it was given.
  bool answer_arp = true;
  bool answer_ndp = true;
  // Addresses left to the sinkhole host's kernel (its own interface
  // addresses, always added by the caller): no frame addressed to them is
  // answered, and ARP/NDP for them is not claimed.
  std::vector<core::IpNetwork> never_answer;
  // The sinkhole interface's MAC (the caller sets it): frames from it are our
  // own injected frames and are ignored; ARP/NDP answers claim it.
  MacAddress own_mac{};
  SinkholeLimits limits;
};

class Sinkhole {
 public:
  // `ca` may be nullptr (TLS is then logged, not terminated). `out` must outlive
  // the Sinkhole. Call check_config() first: the constructor assumes a valid
  // configuration.
  Sinkhole(SinkholeConfig cfg, TlsAuthority* ca, CaseWriter& out);
  ~Sinkhole();
  Sinkhole(const Sinkhole&) = delete;
  Sinkhole& operator=(const Sinkhole&) = delete;

  // Empty when usable; else a message naming the bad part (DNS pool, ...).
  static std::string check_config(const SinkholeConfig& cfg);

  // Every frame seen on the interface (Ethernet, LINKTYPE 1), guest's and
  // ours: frames whose source MAC is own_mac are counted and ignored. `now`
  // is the frame's capture time (the same the pcap gets).
  void on_frame(core::ByteView frame, core::Timestamp now);
  // Timed work due by `now` (retransmissions, banners, linger, idle expiry).
  void on_timer(core::Timestamp now);
  // The earliest time on_timer has work; Timestamp{INT64_MAX} for none.
  core::Timestamp next_deadline() const;
  // Closes every session (their pending events are written), writes the
  // conn records of the connections still open (close reason "shutdown"),
  // and has the CaseWriter write iocs.json and summary.txt. Further calls
  // do nothing.
  void finish(core::Timestamp now);

  // Set by the caller before the first frame: pcap_inject, and append to the
  // case pcap.
  std::function<void(core::ByteView)> inject;
  // The 0-based position, in the case pcap, of the frame on_frame is
  // handling (so conn uids match `trawl analyze` of that pcap). Unset: the
  // driver counts it itself, assuming the pcap holds, in order, every frame
  // given to on_frame that is not from own_mac and every frame given to
  // inject.
  std::function<uint64_t()> pcap_index;

  struct Stats {
    uint64_t frames = 0;            // on_frame calls
    uint64_t own_frames = 0;        // from own_mac: ignored
    uint64_t undecodable = 0;       // malformed, fragments pending, not Ethernet IP/ARP
    uint64_t never_answered = 0;    // addressed to never_answer
    uint64_t tcp_segments = 0;
    uint64_t tcp_connections = 0;   // sessions opened (handshake completed)
    std::map<std::string, uint64_t> connections_by_service;  // counted when they close
    uint64_t tcp_refused = 0;       // SYNs to rst_ports (TcpCounters::refused)
    uint64_t syn_flood_evictions = 0;  // half-open entries evicted + SYNs dropped on a full table
    uint64_t dns_queries = 0;       // over UDP (TCP ones are events of their sessions)
    uint64_t dns_dropped = 0;       // datagrams DnsResponder would not answer
    uint64_t icmp_echoes = 0;       // echo requests answered
    uint64_t icmp_other = 0;        // other ICMP/ICMPv6: not answered
    uint64_t udp_other = 0;         // non-DNS UDP datagrams (logged, not answered)
    uint64_t arp_replies = 0;
    uint64_t arp_ignored = 0;       // replies, probes, announcements, never_answer targets
    uint64_t ndp_replies = 0;
    uint64_t other_ip = 0;          // other IP protocols: not answered
    uint64_t frames_injected = 0;
    std::map<std::string, uint64_t> events_by_log;
    uint64_t events_dropped = 0;    // over max_events_per_call
    uint64_t artifacts = 0;         // artifacts reported by sessions
    uint64_t artifact_bytes = 0;    // bytes stored under files/
    uint64_t artifacts_not_stored = 0;
  };
  const Stats& stats() const { return stats_; }
  // Connections in the TCP table (TIME_WAIT included) and sessions alive:
  // both bounded by tcp.max_connections.
  size_t connection_count() const;
  size_t session_count() const { return sessions_.size(); }
  // Connections whose uid the driver holds (bounded like the TCP table).
  size_t tracked_connections() const { return uids_.size(); }
  const TcpEndpoint& tcp() const { return *tcp_; }
  const DnsResponder& dns() const { return *dns_; }
  // Decoder anomalies of the guest's frames.
  const core::Anomalies& anomalies() const { return anomalies_; }

 private:
  class TcpGlue;
  struct Session;
  using Tuple = std::tuple<core::IpAddress, core::IpAddress, uint16_t, uint16_t>;

  void handle_tcp(const decode::DecodedPacket& pkt, uint64_t index, core::Timestamp now);
  void handle_udp(const decode::DecodedPacket& pkt, core::Timestamp now);
  void handle_icmp(const decode::DecodedPacket& pkt, core::Timestamp now);
  void handle_arp(const decode::DecodedPacket& pkt);
  bool handle_ndp(const decode::DecodedPacket& pkt);
  bool never(const core::IpAddress& a) const;
  void emit(core::ByteView frame);
  void open_session(const TcpConnInfo& c, core::Timestamp now);
  void pump(uint64_t conn, Session& s, std::vector<uint8_t>& out, core::Timestamp now);
  void drain_events(Session& s, core::Timestamp now);
  void conn_closed(const TcpConnInfo& c, const std::string& reason, core::Timestamp now);

  SinkholeConfig cfg_;
  CaseWriter& out_;
  core::Anomalies anomalies_;
  std::unique_ptr<decode::Decoder> decoder_;
  std::unique_ptr<DnsResponder> dns_;
  std::unique_ptr<HttpResponder> http_;
  std::unique_ptr<ServiceRouter> router_;
  std::unique_ptr<TcpGlue> glue_;
  std::unique_ptr<TcpEndpoint> tcp_;
  // uid and first time of each connection in the TCP table, by 4-tuple
  // (recorded at its SYN; erased when TcpEndpoint reports it closed).
  std::map<Tuple, std::pair<std::string, core::Timestamp>> uids_;
  std::map<uint64_t, std::unique_ptr<Session>> sessions_;
  TlsAuthority* ca_ = nullptr;
  uint64_t counted_index_ = 0;
  core::Timestamp now_;
  core::Timestamp first_ts_;
  bool have_first_ = false;
  bool shutting_down_ = false;
  Stats stats_;
  bool finished_ = false;
};

}  // namespace trawl::sinkhole

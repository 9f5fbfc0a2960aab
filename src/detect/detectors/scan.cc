// Port scans, typed by the probes the scanner sent (docs/findings/scan.md):
// scan.tcp_connect, scan.tcp_syn, scan.tcp_fin, scan.tcp_null, scan.tcp_xmas,
// scan.tcp_ack, scan.udp and scan.ip_proto. Built from conn records only: the
// originator's first TCP flags say what kind of probe it was, the history and
// the responder's flags say how the target answered.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/hash.h"
#include "detect/address_hash.h"
#include "detect/detector.h"
#include "detect/text.h"
#include "detect/scan_util.h"
#include "output/json_line.h"

namespace trawl::detect {
namespace {

using scan::Episode;
using scan::EpisodeStream;

// What kind of probe a connection was. kSyn covers both SYN and connect
// scans: the episode is typed when it is reported, so one scan is never
// reported twice.
enum class Family : uint8_t { kSyn, kFin, kNull, kXmas, kAck, kUdp, kIpProto };

struct Kind {
  const char* id;
  const char* verb;   // "SYN-scanned"
  const char* probe;  // "SYN probes", for details
};

struct Settings {
  double min_ports = 20;
  double min_hosts = 20;
  double min_protocols = 10;
  double large_ports = 100;
  double large_hosts = 100;
  double gap_s = 600;
  double udp_max_answered = 0.5;
  double busy_client_ratio = 1.0;
  double max_actors = 100000;
  double max_episodes = 32;
  scan::Caps caps;
};

struct Key {
  core::IpAddress src;
  core::IpAddress dst;  // only for kIpProto (per target); zero otherwise
  Family family;
  friend auto operator<=>(const Key&, const Key&) = default;
  friend bool operator==(const Key&, const Key&) = default;
};

struct KeyHash {
  size_t operator()(const Key& k) const {
    return static_cast<size_t>(core::mix64(address_hash(k.src) ^ (address_hash(k.dst) * 0x9e3779b97f4a7c15ull) ^
                                           static_cast<uint64_t>(k.family)));
  }
};

// ICMP destination-unreachable packets an address received (answers to UDP
// and IP protocol probes), kept to count them per episode.
struct Unreachable {
  core::Timestamp ts;
  core::Timestamp last;
  uint64_t pkts = 0;
};

class ScanDetector : public Detector {
 public:
  explicit ScanDetector(Config& c) {
    s_.min_ports = c.get("scan.min_ports", 20, "distinct ports (over all targets) that make an episode a port scan");
    s_.min_hosts = c.get("scan.min_hosts", 20, "distinct targets that make an episode a horizontal scan");
    s_.min_protocols = c.get("scan.min_protocols", 10,
                             "distinct IP protocols other than TCP/UDP/ICMP sent to one host for scan.ip_proto");
    s_.large_ports = c.get("scan.large_ports", 100, "distinct ports from which a scan is medium severity");
    s_.large_hosts = c.get("scan.large_hosts", 100, "distinct targets from which a scan is medium severity");
    s_.gap_s = c.get("scan.episode_gap_s", 600, "idle seconds that end one scan episode of a scanner");
    s_.udp_max_answered = c.get("scan.udp_max_answered_ratio", 0.5,
                                "UDP episodes with more answered probes than this share are services, not scans");
    s_.busy_client_ratio = c.get(
        "scan.busy_client_ratio", 1.0,
        "a horizontal/block SYN episode is a busy client's failed connections, not a scan, when the source held at "
        "least this many conversations (TCP with data) per probe during it (0: off)");
    s_.max_actors = c.get("scan.max_actors", 100000, "scanner x probe type pairs tracked (memory bound)");
    s_.max_episodes = c.get("scan.max_episodes", 32, "episodes kept per scanner and probe type (memory bound)");
    s_.caps.distinct = static_cast<size_t>(
        std::max(1.0, c.get("scan.max_distinct", 8192, "distinct targets counted exactly per episode (ports always are)")));
    s_.caps.open = static_cast<size_t>(std::max(1.0, c.get("scan.max_open_listed", 64, "open ports listed per finding")));
    s_.caps.evidence = static_cast<size_t>(std::max(1.0, c.get("scan.max_evidence", 20, "evidence uids per finding")));
    connect_max_ns_ = static_cast<int64_t>(
        c.get("scan.connect_max_s", 2, "longest a completed connection without data may last to count as a connect probe") *
        1e9);
    internal_ = &c.internal;
  }

  void on_conn(const flow::ConnRecord& r) override {
    if (r.orig_h == r.resp_h) return;
    if (r.proto == 1 || r.proto == 58) {
      note_icmp(r);
      return;
    }
    if (scan::is_group_or_unspecified(r.resp_h) || scan::is_group_or_unspecified(r.orig_h)) return;
    if (r.proto == 6) {
      tcp(r);
    } else if (r.proto == 17) {
      udp(r);
    } else {
      ip_proto(r);
    }
  }

  void finish(std::vector<Finding>& out) override {
    // In key order, as when streams_ was an ordered map.
    std::vector<std::pair<const Key, EpisodeStream>*> sorted;
    sorted.reserve(streams_.size());
    for (auto& entry : streams_) sorted.push_back(&entry);
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    for (auto* entry : sorted) {
      const Key& key = entry->first;
      EpisodeStream& stream = entry->second;
      Family f = key.family;
      stream.close([this, f](const Episode& e) { return worth_keeping(f, e); });
      for (auto& e : stream.kept()) report(key, e, out);
    }
  }

 private:
  bool worth_keeping(Family f, const Episode& e) const {
    if (f == Family::kIpProto) return static_cast<double>(e.ports.count()) >= s_.min_protocols;
    return static_cast<double>(e.ports.count()) >= s_.min_ports || static_cast<double>(e.hosts.count()) >= s_.min_hosts;
  }

  Episode* episode(const Key& key, core::Timestamp ts) {
    auto it = streams_.find(key);
    if (it == streams_.end()) {
      if (static_cast<double>(streams_.size()) >= s_.max_actors) {
        ++dropped_actors_;
        return nullptr;
      }
      it = streams_
               .emplace(key, EpisodeStream(s_.caps, static_cast<int64_t>(s_.gap_s * 1e9),
                                           static_cast<size_t>(std::max(1.0, s_.max_episodes))))
               .first;
    }
    Family f = key.family;
    return &it->second.at(ts, [&](const Episode& e) { return worth_keeping(f, e); });
  }

  void probe(const flow::ConnRecord& r, Family f, const char* outcome, bool open) {
    Key key{r.orig_h, {}, f};
    Episode* e = episode(key, r.ts);
    if (!e) return;
    e->add_probe(r.ts, r.last_ts, r.resp_h, internal_->is_internal(r.resp_h), r.uid);
    e->ports.add(r.resp_p);
    e->add_outcome(outcome);
    if (open) {
      e->open_ports.add(r.resp_p);
      e->answered_hosts.add(r.resp_h);
    }
  }

  void tcp(const flow::ConnRecord& r) {
    uint8_t first = r.orig_first_flags & scan::kClassic;
    bool no_data = r.orig_bytes == 0 && r.resp_bytes == 0;
    if (!no_data) {  // a conversation, not a probe
      note_conversation(r);
      return;
    }
    bool resp_rst = (r.resp_flags & scan::kRst) != 0 || r.history.find('r') != std::string::npos;
    bool syn_ack = (r.resp_flags & (scan::kSyn | scan::kAck)) == (scan::kSyn | scan::kAck) ||
                   r.history.find('h') != std::string::npos;
    if ((first & scan::kSyn) && !(first & scan::kAck)) {
      if (syn_ack) {
        bool orig_acked = (r.orig_flags & scan::kAck) != 0 || r.history.find('A') != std::string::npos;
        // A connect probe closes at once; an idle connection closed seconds
        // later is a client's pre-connect or a pool, not a probe.
        if (orig_acked && r.duration_ns > connect_max_ns_) return;
        probe(r, Family::kSyn, orig_acked ? "connect_completed" : "half_open", true);
      } else if (resp_rst) {
        probe(r, Family::kSyn, "refused", false);
      } else if (r.resp_pkts == 0) {
        probe(r, Family::kSyn, "unanswered", false);
      } else {
        probe(r, Family::kSyn, "other", false);
      }
      return;
    }
    // Probes are one packet (plus retries); a record where only the responder
    // spoke has no first flags to read.
    if (r.orig_pkts == 0 || r.orig_pkts > 3) return;
    const char* answer = resp_rst ? "reset" : (r.resp_pkts == 0 ? "unanswered" : "other");
    if (first == (scan::kFin | scan::kPsh | scan::kUrg)) {
      probe(r, Family::kXmas, answer, false);
    } else if (first == scan::kFin) {
      probe(r, Family::kFin, answer, false);
    } else if (first == 0 && (r.orig_flags & scan::kClassic) == 0) {
      probe(r, Family::kNull, answer, false);
    } else if (first == scan::kAck && (r.orig_flags & scan::kClassic) == scan::kAck) {
      // Only a reset or silence: a stray ACK of a live connection (a
      // keepalive after the flow expired) is answered with an ACK.
      if (!resp_rst && r.resp_pkts != 0) return;
      probe(r, Family::kAck, answer, false);
    }
  }

  void udp(const flow::ConnRecord& r) {
    if (r.orig_pkts > 4) return;  // a probe and its retries, not a conversation
    // Equal well-known ports on both sides (NetBIOS 137/138, NTP 123, IKE
    // 500) is service chatter between peers, not a probe.
    if (r.orig_p == r.resp_p && r.resp_p < 1024) return;
    // Traceroute (Unix, mtr, Windows tracert uses ICMP) probes UDP ports
    // 33434 and up, one per hop: path discovery, not a port scan.
    if (r.resp_p >= kTracerouteFirst && r.resp_p <= kTracerouteLast) return;
    bool answered = r.resp_pkts > 0;
    probe(r, Family::kUdp, answered ? "answered" : "unanswered", answered);
  }

  void ip_proto(const flow::ConnRecord& r) {
    Key key{r.orig_h, r.resp_h, Family::kIpProto};
    Episode* e = episode(key, r.ts);
    if (!e) return;
    e->add_probe(r.ts, r.last_ts, r.resp_h, internal_->is_internal(r.resp_h), r.uid);
    e->ports.add(r.proto);
    bool answered = r.resp_pkts > 0;
    e->add_outcome(answered ? "answered" : "unanswered");
    if (answered) e->open_ports.add(r.proto);
  }

  void note_icmp(const flow::ConnRecord& r) {
    bool unreachable = (r.proto == 1 && r.orig_p == 3) || (r.proto == 58 && r.orig_p == 1);
    if (!unreachable) return;
    auto it = unreachable_.find(r.resp_h);
    if (it == unreachable_.end()) {
      if (static_cast<double>(unreachable_.size()) >= s_.max_actors) return;
      it = unreachable_.emplace(r.resp_h, std::vector<Unreachable>{}).first;
    }
    if (it->second.size() < 4096) it->second.push_back({r.ts, std::max(r.ts, r.last_ts), r.orig_pkts});
  }

  uint64_t unreachable_during(const core::IpAddress& scanner, const Episode& e) const {
    auto it = unreachable_.find(scanner);
    if (it == unreachable_.end()) return 0;
    uint64_t n = 0;
    int64_t slack = 30LL * core::kNsPerSec;  // replies trail the last probe
    for (const auto& u : it->second) {
      if (u.last >= e.span.first && u.ts <= e.span.last + slack) n += u.pkts;
    }
    return n;
  }

  static Kind kind(Family f, bool connect) {
    switch (f) {
      case Family::kSyn:
        return connect ? Kind{"scan.tcp_connect", "TCP-connect-scanned", "SYN (full connects)"}
                       : Kind{"scan.tcp_syn", "SYN-scanned", "SYN"};
      case Family::kFin:
        return {"scan.tcp_fin", "FIN-scanned", "FIN"};
      case Family::kNull:
        return {"scan.tcp_null", "NULL-scanned", "no-flag"};
      case Family::kXmas:
        return {"scan.tcp_xmas", "Xmas-scanned", "FIN+PSH+URG"};
      case Family::kAck:
        return {"scan.tcp_ack", "ACK-scanned", "bare ACK"};
      case Family::kUdp:
        return {"scan.udp", "UDP-scanned", "UDP"};
      case Family::kIpProto:
        return {"scan.ip_proto", "probed", "IP protocol"};
    }
    return {"scan.unknown", "scanned", "unknown"};
  }

  // TCP conversations per source and minute: a client whose failed
  // connections are outnumbered by its working ones is not scanning
  // (a horizontal pattern over common ports otherwise looks the same).
  void note_conversation(const flow::ConnRecord& r) {
    auto it = talk_.find(r.orig_h);
    if (it == talk_.end()) {
      if (static_cast<double>(talk_.size()) >= s_.max_actors) return;
      it = talk_.emplace(r.orig_h, std::map<int64_t, uint32_t>{}).first;
    }
    int64_t minute = r.ts.ns / (60 * core::kNsPerSec);
    auto& buckets = it->second;
    if (buckets.size() >= kMaxTalkMinutes && !buckets.contains(minute)) return;
    ++buckets[minute];
  }
  uint64_t conversations_during(const core::IpAddress& src, const Episode& e) const {
    auto it = talk_.find(src);
    if (it == talk_.end()) return 0;
    int64_t lo = e.span.first.ns / (60 * core::kNsPerSec);
    int64_t hi = e.span.last.ns / (60 * core::kNsPerSec);
    uint64_t n = 0;
    for (auto b = it->second.lower_bound(lo); b != it->second.end() && b->first <= hi; ++b) n += b->second;
    return n;
  }
  static constexpr size_t kMaxTalkMinutes = 20000;
  static constexpr uint16_t kTracerouteFirst = 33434;
  static constexpr uint16_t kTracerouteLast = 33534;

  void report(const Key& key, const Episode& e, std::vector<Finding>& out) const {
    uint64_t ports = e.ports.count();
    uint64_t hosts = e.hosts.count();
    uint64_t unreach = (key.family == Family::kUdp || key.family == Family::kIpProto) ? unreachable_during(key.src, e) : 0;
    uint64_t answered = e.outcome("answered");
    if (key.family == Family::kUdp && e.probes > 0 &&
        static_cast<double>(answered) > s_.udp_max_answered * static_cast<double>(e.probes)) {
      return;  // mostly answered: clients of a UDP service (DNS, NTP ...), not a scan
    }
    uint64_t connects = e.outcome("connect_completed");
    uint64_t half_open = e.outcome("half_open");
    bool connect = key.family == Family::kSyn && connects > 0 && connects >= half_open;
    Kind k = kind(key.family, connect);

    const char* shape = "vertical";
    bool many_ports = static_cast<double>(ports) >= s_.min_ports;
    bool many_hosts = static_cast<double>(hosts) >= s_.min_hosts;
    if (key.family == Family::kIpProto) {
      shape = "vertical";
    } else if (many_ports && many_hosts) {
      shape = "block";
    } else if (many_hosts || (hosts > 1 && !many_ports)) {
      shape = "horizontal";
    }
    uint64_t conversations = 0;
    if (key.family == Family::kSyn && std::string_view(shape) != "vertical" && s_.busy_client_ratio > 0) {
      conversations = conversations_during(key.src, e);
      if (static_cast<double>(conversations) >= s_.busy_client_ratio * static_cast<double>(e.probes)) return;
    }

    Finding f;
    f.id = k.id;
    f.ts = e.span.first;
    f.last_ts = e.span.last;
    f.src = key.src.to_string();
    f.dst = text::address_strings(e.hosts.sample(20));
    f.dst_count = hosts;
    f.attack = "T1046";
    f.evidence = e.evidence.uids();
    f.evidence_total = e.evidence.total();
    std::vector<uint16_t> open = e.open_ports.sample(s_.caps.open);
    if (key.family != Family::kIpProto) {
      f.ports = e.ports.sample(20);
    }

    // Severity: scale, then who scans whom. Internal to internal is
    // reconnaissance from inside (lateral), one step higher.
    bool large = static_cast<double>(ports) >= s_.large_ports || static_cast<double>(hosts) >= s_.large_hosts;
    if (key.family == Family::kIpProto) large = ports >= 100;
    f.severity = large ? Severity::kMedium : Severity::kLow;
    bool src_internal = internal_->is_internal(key.src);
    if (src_internal && e.internal_targets > 0) f.severity = scan::raise(f.severity, 1);

    switch (key.family) {
      case Family::kSyn:
        f.confidence = connect ? 0.85 : (half_open > 0 ? 0.9 : 0.75);
        break;
      case Family::kFin:
      case Family::kNull:
      case Family::kXmas:
      case Family::kIpProto:
        f.confidence = 0.95;
        break;
      case Family::kAck:
        f.confidence = 0.85;
        break;
      case Family::kUdp:
        f.confidence = answered * 10 <= e.probes ? 0.85 : 0.7;
        break;
    }

    f.counts = {{"probes", e.probes}, {key.family == Family::kIpProto ? "protocols" : "ports", ports}, {"hosts", hosts}};
    if (key.family != Family::kIpProto) f.counts.emplace_back("open", e.open_ports.count());

    // Summary.
    std::string target;
    if (key.family == Family::kIpProto) {
      target = std::to_string(ports) + " IP protocol numbers of " + e.hosts.sample(1)[0].to_string();
    } else if (std::string(shape) == "vertical") {
      target = scan::plural(ports, "port", "ports") + " of " +
               (hosts == 1 ? e.hosts.sample(1)[0].to_string() : scan::plural(hosts, "host", "hosts"));
    } else if (std::string(shape) == "horizontal") {
      target = (ports == 1 ? "port " : "ports ") + scan::join_ports(e.ports.sample(5), 5, ports) + " on " +
               scan::plural(hosts, "host", "hosts");
    } else {
      target = scan::plural(ports, "port", "ports") + " on " + scan::plural(hosts, "host", "hosts");
    }
    std::string s = f.src + " " + k.verb + " " + target + " in " + scan::format_number(e.duration_s()) + " s (" +
                    scan::plural(e.probes, "probe", "probes");
    if (key.family == Family::kSyn || key.family == Family::kUdp) {
      if (open.empty()) {
        s += ", no open port seen";
      } else {
        s += ", " + std::to_string(e.open_ports.count()) + " open: " + scan::join_ports(open, 8, e.open_ports.count());
      }
    }
    if (unreach > 0) s += ", " + std::to_string(unreach) + " ICMP unreachable replies";
    s += ").";
    f.summary = s;

    f.details.clear();
    output::JsonLine j(f.details);
    j.str("scan_type", k.id + 5);
    j.str("probe", k.probe);
    j.str("shape", shape);
    j.u64(key.family == Family::kIpProto ? "protocols_probed" : "ports_probed", ports);
    j.u64("hosts", hosts);
    j.u64("probes", e.probes);
    j.raw("duration_s", scan::format_fixed2(e.duration_s()));
    j.raw("rate_per_s", scan::format_fixed2(e.rate_per_s()));
    if (key.family == Family::kIpProto) {
      j.raw("protocols_sample", scan::json_ports(e.ports.sample(32)));
      j.raw("protocols_answered", scan::json_ports(open));
    } else {
      j.raw("open_ports", scan::json_ports(open));
      j.u64("open_ports_total", e.open_ports.count());
      j.raw("answering_hosts", scan::json_addresses(e.answered_hosts.sample(s_.caps.open)));
      j.u64("answering_hosts_total", e.answered_hosts.count());
    }
    std::string outcomes = "{";
    for (size_t i = 0; i < e.outcomes.size(); ++i) {
      if (i) outcomes.push_back(',');
      output::append_json_string(outcomes, e.outcomes[i].first);
      outcomes += ":" + std::to_string(e.outcomes[i].second);
    }
    outcomes.push_back('}');
    j.raw("outcomes", outcomes);
    if (unreach > 0 || key.family == Family::kUdp || key.family == Family::kIpProto) j.u64("icmp_unreachable", unreach);
    j.u64("internal_targets", e.internal_targets);
    j.boolean("saturated", e.hosts.saturated());
    if (key.family == Family::kAck) {
      j.str("note", "ACK and window scans (nmap -sA, -sW) send the same probes; they differ only in how the scanner "
                    "reads the RST window, which records do not keep");
    } else if (key.family == Family::kSyn && !connect && half_open == 0) {
      j.str("note", "no port answered with SYN-ACK, so a SYN scan and a connect scan look the same here");
    }
    j.end_object();
    out.push_back(std::move(f));
  }

  Settings s_;
  const Networks* internal_ = nullptr;
  int64_t connect_max_ns_ = 0;
  // Hash maps: each is looked up per connection (an ordered map's address
  // compares were most of this detector's time); finish() sorts streams_.
  std::unordered_map<Key, EpisodeStream, KeyHash> streams_;
  std::unordered_map<core::IpAddress, std::map<int64_t, uint32_t>, AddressHash> talk_;
  std::unordered_map<core::IpAddress, std::vector<Unreachable>, AddressHash> unreachable_;
  uint64_t dropped_actors_ = 0;
};

}  // namespace

void register_scan(Registry& r) {
  r.add("scan", [](Config& c) { return std::make_unique<ScanDetector>(c); });
}

}  // namespace trawl::detect

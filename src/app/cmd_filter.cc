// trawl filter: copy the packets that match a BPF expression, a host or one
// connection (by uid) into a new capture, keeping timestamps and link type.
#include <cstdio>
#include <memory>
#include <optional>

#include "app/cli.h"
#include "capture/bpf_filter.h"
#include "capture/packet_reader.h"
#include "capture/pcap_writer.h"
#include "decode/decoder.h"

namespace trawl::app {

namespace {

bool same_endpoints(const decode::DecodedPacket& p, const flow::ConnRecord& c) {
  if (p.ip_proto != c.proto) return false;
  bool fwd = p.src == c.orig_h && p.dst == c.resp_h;
  bool rev = p.src == c.resp_h && p.dst == c.orig_h;
  if (!fwd && !rev) return false;
  if (c.proto != 6 && c.proto != 17) return true;  // ICMP and others: address pair and protocol
  return fwd ? (p.sport == c.orig_p && p.dport == c.resp_p) : (p.sport == c.resp_p && p.dport == c.orig_p);
}

}  // namespace

int cmd_filter(const Args& args) {
  if (args.write_path.empty()) {
    std::fputs("trawl filter: give the output capture with -w OUT.pcap\n", stderr);
    return 2;
  }
  if (args.bpf.empty() && args.host.empty() && args.uid.empty()) {
    std::fputs("trawl filter: give -f 'BPF expression', --host IP or --uid UID\n", stderr);
    return 2;
  }
  std::optional<core::IpAddress> host;
  if (!args.host.empty()) {
    host = core::IpAddress::parse(args.host);
    if (!host) {
      std::fprintf(stderr, "trawl filter: --host '%s' is not an IPv4 or IPv6 address\n", args.host.c_str());
      return 2;
    }
  }

  // --uid: a first pass finds the connection's endpoints and time span.
  std::optional<flow::ConnRecord> target;
  if (!args.uid.empty()) {
    Engine engine(args.engine);
    engine.on_conn = [&](const flow::ConnRecord& r) {
      if (r.uid == args.uid) target = r;
    };
    RunStats first;
    engine.run(args.inputs, first);
    if (!target) {
      report_input_errors(first);
      std::fprintf(stderr, "trawl filter: no connection with uid %s in these inputs\n", args.uid.c_str());
      return 1;
    }
  }

  capture::BpfFilter bpf;
  bool bpf_checked = false;

  RunStats stats;
  std::vector<std::string> expand_errors;
  stats.inputs = capture::expand_inputs(args.inputs, expand_errors);
  stats.input_errors = expand_errors;
  capture::MergedReader reader(stats.inputs, stats.anomalies);
  decode::Decoder decoder(stats.anomalies, args.engine.decode);
  capture::PcapWriter writer;
  bool writer_open = false;
  uint64_t written = 0, other_linktype = 0;
  uint16_t out_linktype = 0;
  capture::RawPacket raw;
  decode::DecodedPacket pkt;

  uint16_t first_linktype = 1;
  while (reader.next(raw) == capture::ReadResult::kPacket) {
    if (stats.packets == 0) first_linktype = raw.linktype;
    ++stats.packets;
    if (!args.bpf.empty()) {
      if (!bpf_checked) {
        // Checked against the first packet's link type; other link types get
        // their own program on first sight (BpfFilter caches them).
        std::string err;
        if (!bpf.compile(args.bpf, raw.linktype, capture::PcapWriter::kSnaplen, err)) {
          std::fprintf(stderr, "trawl filter: bad filter expression '%s': %s\n", args.bpf.c_str(), err.c_str());
          return 2;
        }
        bpf_checked = true;
      }
      if (!bpf.matches(raw)) continue;
    }
    if (host || target) {
      decode::DecodeStatus ds = decoder.decode(raw, pkt);
      bool ip = pkt.l3 == decode::L3::kIpv4 || pkt.l3 == decode::L3::kIpv6;
      // Every criterion given must match (as with BPF, which is ANDed too).
      bool keep = true;
      if (host) {
        keep = (ip && (pkt.src == *host || pkt.dst == *host)) ||
               (pkt.l3 == decode::L3::kArp && (pkt.arp.sender_ip == *host || pkt.arp.target_ip == *host));
      }
      if (keep && target) {
        keep = false;
        if (ip && raw.ts >= target->ts && raw.ts <= target->last_ts) {
          if (ds == decode::DecodeStatus::kConsumed) {
            // A fragment held for reassembly: keep it if it is between the
            // connection's hosts with its protocol (ports are not known yet).
            keep = pkt.ip_proto == target->proto && ((pkt.src == target->orig_h && pkt.dst == target->resp_h) ||
                                                     (pkt.src == target->resp_h && pkt.dst == target->orig_h));
          } else {
            keep = same_endpoints(pkt, *target);
          }
        }
      }
      if (!keep) continue;
    }
    if (!writer_open) {
      std::string err;
      if (!writer.open(args.write_path, raw.linktype, err)) {
        std::fprintf(stderr, "trawl filter: %s\n", err.c_str());
        return 2;
      }
      writer_open = true;
      out_linktype = raw.linktype;
    }
    if (raw.linktype != out_linktype) {
      ++other_linktype;
      continue;
    }
    if (!writer.write(raw)) {
      std::fprintf(stderr, "trawl filter: %s\n", writer.error().c_str());
      return 2;
    }
    ++written;
  }
  if (!args.bpf.empty() && !bpf_checked) {
    // No packet to compile against: still refuse a malformed expression.
    std::string err;
    if (!bpf.compile(args.bpf, 1, capture::PcapWriter::kSnaplen, err)) {
      std::fprintf(stderr, "trawl filter: bad filter expression '%s': %s\n", args.bpf.c_str(), err.c_str());
      return 2;
    }
  }
  if (!writer_open) {
    // No packet matched: still write an empty capture so scripts find a file.
    std::string err;
    if (!writer.open(args.write_path, first_linktype, err)) {
      std::fprintf(stderr, "trawl filter: %s\n", err.c_str());
      return 3;
    }
  }
  if (!writer.close()) {
    std::fprintf(stderr, "trawl filter: %s\n", writer.error().c_str());
    return 3;
  }
  for (const auto& e : bpf.errors()) std::fprintf(stderr, "trawl filter: %s\n", e.c_str());
  for (const auto& e : reader.errors()) stats.input_errors.push_back(e);
  if (other_linktype) {
    std::fprintf(stderr,
                 "trawl filter: %llu matching packets skipped: their link type differs from the first match's (%u); "
                 "filter each input separately\n",
                 static_cast<unsigned long long>(other_linktype), out_linktype);
  }
  std::fprintf(stderr, "trawl filter: %llu of %llu packets written to %s\n", static_cast<unsigned long long>(written),
               static_cast<unsigned long long>(stats.packets), args.write_path.c_str());
  return report_input_errors(stats);
}

}  // namespace trawl::app

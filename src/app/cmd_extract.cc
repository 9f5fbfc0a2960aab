// trawl extract: the packets behind a finding, a connection or a host, from
// the captures a case was made from, into a new pcap. The packet loop is
// trawl filter's (MergedReader, Decoder, PcapWriter).
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>

#include "app/cli.h"
#include "capture/packet_reader.h"
#include "capture/pcap_writer.h"
#include "decode/decoder.h"
#include "store/record_json.h"
#include "store/sink.h"

namespace trawl::app {

namespace {

constexpr const char* kUsage =
    "usage: trawl extract --from CASE (--finding N | --uid UID | --host IP) -w OUT.pcap [--captures DIR]\n"
    "Writes the packets behind a finding, a connection or a host, read again from\n"
    "the captures the case was made from.\n"
    "  --from CASE      a case folder, a case.db or clickhouse://HOST:PORT/DB\n"
    "  --finding N      the N-th finding of findings.jsonl (1-based; its id in case.db): the\n"
    "                   packets of every evidence connection; when the evidence list is capped\n"
    "                   or empty, also the actor's packets to the listed targets in the\n"
    "                   finding's time span\n"
    "  --uid UID        one connection: its 5-tuple within its first and last packet times\n"
    "  --host IP        every packet to or from the host (ARP included)\n"
    "  -w OUT.pcap      the output capture (nanosecond pcap)\n"
    "  --captures DIR   look for captures that moved here (by file name)\n"
    "exit status: 0 success, 1 a capture could not be read or nothing matched the uid/finding,\n"
    "2 usage error or the case cannot be read, 3 the output could not be written\n";

// Packet times in conn.jsonl are rounded to the microsecond: the window is
// widened by that much so the first and last packet stay in.
constexpr int64_t kRoundingNs = 1000;

struct ConnWindow {
  flow::ConnRecord c;
  core::Timestamp from, to;
};

// Packets between two hosts in a time span (a finding whose evidence is not
// complete as connections).
struct PairWindow {
  core::IpAddress a;
  std::optional<core::IpAddress> b;  // unset: any peer
  core::Timestamp from, to;
};

bool same_endpoints(const decode::DecodedPacket& p, const flow::ConnRecord& c, bool consumed) {
  if (p.ip_proto != c.proto) return false;
  bool fwd = p.src == c.orig_h && p.dst == c.resp_h;
  bool rev = p.src == c.resp_h && p.dst == c.orig_h;
  if (!fwd && !rev) return false;
  // ICMP and others: the address pair and protocol; a fragment held for
  // reassembly has no ports yet (as trawl filter --uid).
  if (consumed || (c.proto != 6 && c.proto != 17)) return true;
  return fwd ? (p.sport == c.orig_p && p.dport == c.resp_p) : (p.sport == c.resp_p && p.dport == c.orig_p);
}

}  // namespace

int cmd_extract(const std::vector<std::string>& argv) {
  std::string from, out_path, uid, host_text, captures_dir;
  std::optional<uint64_t> finding_no;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    auto value = [&](std::string& v) {
      if (i + 1 >= argv.size()) {
        std::fprintf(stderr, "trawl extract: %s needs a value\n", a.c_str());
        return false;
      }
      v = argv[++i];
      return true;
    };
    std::string v;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--from") {
      if (!value(from)) return 2;
    } else if (a == "-w") {
      if (!value(out_path)) return 2;
    } else if (a == "--uid") {
      if (!value(uid)) return 2;
    } else if (a == "--host") {
      if (!value(host_text)) return 2;
    } else if (a == "--captures") {
      if (!value(captures_dir)) return 2;
    } else if (a == "--finding") {
      if (!value(v)) return 2;
      uint64_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size() || n == 0) {
        std::fprintf(stderr, "trawl extract: --finding '%s': give the finding's number (1 is the first)\n", v.c_str());
        return 2;
      }
      finding_no = n;
    } else {
      std::fprintf(stderr, "trawl extract: unknown option '%s' (trawl extract -h)\n", a.c_str());
      return 2;
    }
  }
  int criteria = (finding_no ? 1 : 0) + (uid.empty() ? 0 : 1) + (host_text.empty() ? 0 : 1);
  if (from.empty() || out_path.empty() || criteria != 1) {
    std::fputs("trawl extract: give --from CASE, one of --finding N, --uid UID, --host IP, and -w OUT.pcap "
               "(trawl extract -h)\n",
               stderr);
    return 2;
  }
  std::optional<core::IpAddress> host;
  if (!host_text.empty()) {
    host = core::IpAddress::parse(host_text);
    if (!host) {
      std::fprintf(stderr, "trawl extract: --host '%s' is not an IPv4 or IPv6 address\n", host_text.c_str());
      return 2;
    }
  }

  std::string err;
  auto source = store::open_source(from, err);
  if (!source) {
    std::fprintf(stderr, "trawl extract: %s\n", err.c_str());
    return 2;
  }

  // What to keep: connections by uid, host pairs in a span, or one host.
  std::set<std::string, std::less<>> uids;
  std::vector<PairWindow> pairs;
  std::string what;
  if (!uid.empty()) {
    uids.insert(uid);
    what = "connection " + uid;
  }
  if (finding_no) {
    std::vector<std::string> lines;
    if (!source->findings(lines, err)) {
      std::fprintf(stderr, "trawl extract: %s\n", err.c_str());
      return 2;
    }
    if (*finding_no > lines.size()) {
      std::fprintf(stderr, "trawl extract: --finding %llu: the case has %zu finding%s\n",
                   static_cast<unsigned long long>(*finding_no), lines.size(), lines.size() == 1 ? "" : "s");
      return 1;
    }
    detect::Finding f;
    if (!store::finding_from_json(lines[*finding_no - 1], f, err)) {
      std::fprintf(stderr, "trawl extract: finding %llu does not read: %s\n",
                   static_cast<unsigned long long>(*finding_no), err.c_str());
      return 2;
    }
    what = "finding " + std::to_string(*finding_no) + " (" + f.id + ")";
    for (const auto& e : f.evidence) uids.insert(e);
    bool capped = f.evidence.empty() || f.evidence_total > f.evidence.size();
    auto src = core::IpAddress::parse(f.src);
    if (capped && src) {
      core::Timestamp t0{f.ts.ns - kRoundingNs}, t1{f.last_ts.ns + kRoundingNs};
      bool any_dst = false;
      for (const auto& d : f.dst) {
        if (auto dip = core::IpAddress::parse(d)) {
          pairs.push_back({*src, *dip, t0, t1});
          any_dst = true;
        }
      }
      if (!any_dst) pairs.push_back({*src, std::nullopt, t0, t1});
    }
  }
  if (host) what = "host " + host->to_string();

  // The connections named by uid, from the stored conn records.
  std::vector<ConnWindow> conns;
  if (!uids.empty()) {
    std::string perr;
    uint64_t bad = 0;
    auto fn = [&](std::string_view log, std::string_view line) {
      if (log != "conn") return;
      // Cheap pre-check before a full read: the uid must be in the line.
      size_t at = line.find("\"uid\":\"");
      if (at == std::string_view::npos) return;
      size_t end = line.find('"', at + 7);
      if (end == std::string_view::npos || !uids.count(line.substr(at + 7, end - at - 7))) return;
      flow::ConnRecord c;
      if (!store::conn_from_json(line, c, perr)) {
        ++bad;
        return;
      }
      ConnWindow w;
      w.from = core::Timestamp{c.ts.ns - kRoundingNs};
      w.to = core::Timestamp{c.ts.ns + c.duration_ns + kRoundingNs};
      w.c = std::move(c);
      conns.push_back(std::move(w));
    };
    if (!source->for_each(fn, err)) {
      std::fprintf(stderr, "trawl extract: reading %s: %s\n", from.c_str(), err.c_str());
      return 2;
    }
    if (bad) std::fprintf(stderr, "trawl extract: %llu conn records did not read: %s\n",
                          static_cast<unsigned long long>(bad), perr.c_str());
    if (conns.empty() && pairs.empty()) {
      std::fprintf(stderr, "trawl extract: no connection with uid %s in the case\n",
                   uid.empty() ? "from the finding's evidence" : uid.c_str());
      return 1;
    }
  }

  // The captures, where the case says they were (or in --captures DIR).
  std::vector<store::InputInfo> inputs;
  if (!source->inputs(inputs, err)) {
    std::fprintf(stderr, "trawl extract: %s\n", err.c_str());
    return 2;
  }
  if (inputs.empty()) {
    std::fputs("trawl extract: the case lists no captures\n", stderr);
    return 2;
  }
  std::vector<std::string> paths;
  std::set<std::string> seen;
  for (const auto& in : inputs) {
    std::error_code ec;
    std::string path = in.path;
    if (!std::filesystem::exists(path, ec) && !captures_dir.empty()) {
      auto alt = std::filesystem::path(captures_dir) / std::filesystem::path(in.path).filename();
      if (std::filesystem::exists(alt, ec)) path = alt.string();
    }
    if (!std::filesystem::exists(path, ec)) {
      std::fprintf(stderr,
                   "trawl extract: capture %s of the case is not there any more (moved or deleted?); "
                   "give the folder it is in now with --captures DIR\n",
                   in.path.c_str());
      return 2;
    }
    if (!in.identity.empty()) {
      store::InputInfo now;
      std::string ierr;
      if (store::describe_input(path, now, ierr) && now.identity != in.identity) {
        std::fprintf(stderr, "trawl extract: %s is not the file the case was made from (its content changed)\n",
                     path.c_str());
        return 2;
      }
    }
    if (seen.insert(path).second) paths.push_back(path);
  }

  RunStats stats;
  stats.inputs = paths;
  capture::MergedReader reader(paths, stats.anomalies);
  decode::Decoder decoder(stats.anomalies);
  capture::PcapWriter writer;
  bool writer_open = false;
  uint64_t written = 0, other_linktype = 0;
  uint16_t out_linktype = 0, first_linktype = 1;
  capture::RawPacket raw;
  decode::DecodedPacket pkt;
  while (reader.next(raw) == capture::ReadResult::kPacket) {
    if (stats.packets == 0) first_linktype = raw.linktype;
    ++stats.packets;
    decode::DecodeStatus ds = decoder.decode(raw, pkt);
    bool ip = pkt.l3 == decode::L3::kIpv4 || pkt.l3 == decode::L3::kIpv6;
    bool keep = false;
    if (host) {
      keep = (ip && (pkt.src == *host || pkt.dst == *host)) ||
             (pkt.l3 == decode::L3::kArp && (pkt.arp.sender_ip == *host || pkt.arp.target_ip == *host));
    } else if (ip) {
      bool consumed = ds == decode::DecodeStatus::kConsumed;
      for (const auto& w : conns) {
        if (raw.ts >= w.from && raw.ts <= w.to && same_endpoints(pkt, w.c, consumed)) {
          keep = true;
          break;
        }
      }
      for (size_t k = 0; k < pairs.size() && !keep; ++k) {
        const PairWindow& w = pairs[k];
        if (raw.ts < w.from || raw.ts > w.to) continue;
        if (w.b) {
          keep = (pkt.src == w.a && pkt.dst == *w.b) || (pkt.src == *w.b && pkt.dst == w.a);
        } else {
          keep = pkt.src == w.a || pkt.dst == w.a;
        }
      }
    }
    if (!keep) continue;
    if (!writer_open) {
      if (!writer.open(out_path, raw.linktype, err)) {
        std::fprintf(stderr, "trawl extract: %s\n", err.c_str());
        return 3;
      }
      writer_open = true;
      out_linktype = raw.linktype;
    }
    if (raw.linktype != out_linktype) {
      ++other_linktype;
      continue;
    }
    if (!writer.write(raw)) {
      std::fprintf(stderr, "trawl extract: %s\n", writer.error().c_str());
      return 3;
    }
    ++written;
  }
  if (!writer_open && !writer.open(out_path, first_linktype, err)) {
    // Nothing matched: still an (empty) capture, so scripts find a file.
    std::fprintf(stderr, "trawl extract: %s\n", err.c_str());
    return 3;
  }
  if (!writer.close()) {
    std::fprintf(stderr, "trawl extract: %s\n", writer.error().c_str());
    return 3;
  }
  for (const auto& e : reader.errors()) stats.input_errors.push_back(e);
  if (other_linktype) {
    std::fprintf(stderr,
                 "trawl extract: %llu matching packets skipped: their link type differs from the first match's (%u)\n",
                 static_cast<unsigned long long>(other_linktype), out_linktype);
  }
  std::fprintf(stderr, "trawl extract: %s: %llu of %llu packets written to %s\n", what.c_str(),
               static_cast<unsigned long long>(written), static_cast<unsigned long long>(stats.packets),
               out_path.c_str());
  return report_input_errors(stats);
}

}  // namespace trawl::app

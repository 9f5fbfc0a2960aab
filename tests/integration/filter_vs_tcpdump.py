#!/usr/bin/python3
"""`trawl filter` against tcpdump (libpcap's BPF) as the oracle.

    filter_vs_tcpdump.py TRAWL CAPTURE... [--keep]

For each capture and each BPF filter of a fixed list ('tcp', 'udp',
'udp port 53', 'icmp', 'tcp[tcpflags] & tcp-syn != 0', 'vlan', 'arp', 'ip6',
'host X' with X the capture's busiest source address, ...):

  TRAWL filter CAPTURE -f FILTER -w OUT.pcap
  tcpdump -n -r CAPTURE --time-stamp-precision=nano -w REF.pcap FILTER

and requires: trawl exits 0; tshark reads OUT.pcap without error; OUT.pcap
holds the same packets as REF.pcap, in the same order, with the same
timestamps (to the nanosecond; tcpdump keeps nanoseconds with
--time-stamp-precision=nano), link types, wire and captured lengths and
bytes (tshark's frame.md5_hash).

`--host X` is compared with tcpdump 'host X' on captures whose IP packets are
plain (no VLAN/MPLS/PPPoE tag, no tunnel, no IPv6 extension header): there both mean "IP source or
destination is X" (tcpdump's 'host' also matches ARP packets that carry X).
On encapsulated captures tcpdump's 'host' only looks at the outer header while
trawl's --host looks at the inner addresses (its documented meaning), so the
reference there is tshark's count of frames whose innermost IP header has X as
source or destination.

`--uid`: for the first TCP connection of `trawl analyze`, `trawl filter --uid`
must write orig_pkts + resp_pkts packets, and (on plain captures) the same
packets as tcpdump 'tcp and host A and host B and port P and port Q' when
that 5-tuple has only one connection.

A malformed filter must make trawl exit non-zero with one stderr line. A
filter libpcap cannot compile for the capture's link type (tcpdump refuses
it, e.g. 'vlan' on Linux SLL2) must be refused by trawl too.

Captures tcpdump cannot read (pcapng with several link types) are skipped
with a note; .gz/.zst captures are decompressed for tcpdump.

Exit 0 all agree, 1 a mismatch, 2 usage error.
"""

import argparse
import collections
import concurrent.futures
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

TCPDUMP = shutil.which("tcpdump") or "/usr/bin/tcpdump"
TSHARK = shutil.which("tshark") or "/usr/bin/tshark"
TIMEOUT = 120
FILTERS = ["tcp", "udp", "udp port 53", "icmp", "tcp[tcpflags] & tcp-syn != 0", "vlan", "arp", "ip6",
           "vlan and tcp", "not ip", "greater 1000"]
FRAME_FIELDS = ["frame.time_epoch", "frame.encap_type", "frame.len", "frame.cap_len", "frame.md5_hash"]


def run(cmd, timeout=TIMEOUT):
    try:
        return subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def frames(path):
    """List of per-frame tuples (time, encap, len, caplen, md5) or an error string."""
    cmd = [TSHARK, "-n", "-r", path, "-o", "frame.generate_md5_hash:TRUE", "-T", "fields"]
    for f in FRAME_FIELDS:
        cmd += ["-e", f]
    r = run(cmd)
    if r is None:
        return None, f"tshark timed out reading {path}"
    err = r.stderr.decode(errors="replace")
    err = "\n".join(ln for ln in err.splitlines() if "Running as user" not in ln).strip()
    if r.returncode != 0 or err:
        return None, f"tshark cannot read {path} cleanly (exit {r.returncode}): {err[:300]}"
    return [tuple(ln.split("\t")) for ln in r.stdout.decode().splitlines()], None


def plain_input(cap, work):
    """A path tcpdump can read: compressed captures are decompressed."""
    data = open(cap, "rb").read(4)
    if data[:2] == b"\x1f\x8b":
        out = os.path.join(work, os.path.basename(cap) + ".plain")
        with gzip.open(cap, "rb") as g, open(out, "wb") as f:
            shutil.copyfileobj(g, f)
        return out
    if data == b"\x28\xb5\x2f\xfd":
        out = os.path.join(work, os.path.basename(cap) + ".plain")
        with open(out, "wb") as f:
            r = subprocess.run(["zstd", "-q", "-d", "-c", cap], stdout=f, timeout=TIMEOUT)
        return out if r.returncode == 0 else None
    return cap


def capture_profile(cap):
    """(busiest innermost source address, plain?, innermost-host counter) from tshark."""
    r = run([TSHARK, "-n", "-r", cap, "-T", "fields", "-e", "frame.protocols", "-e", "ip.src", "-e", "ip.dst",
             "-e", "ipv6.src", "-e", "ipv6.dst", "-E", "occurrence=a", "-E", "aggregator=,"])
    if r is None or r.returncode != 0:
        return None, False, {}
    srcs = collections.Counter()
    per_host = collections.Counter()
    plain = True
    for ln in r.stdout.decode().splitlines():
        cols = ln.split("\t")
        toks = cols[0].split(":")
        cut = len(toks)
        for stop in ("icmp", "icmpv6"):
            if stop in toks:
                cut = min(cut, toks.index(stop))
        outer = toks[:cut]
        # BPF's 'tcp'/'port' only see a transport header right after the IP
        # header, so IPv6 extension headers make tcpdump no reference either.
        if any(t in outer for t in ("vlan", "ieee8021ad", "mpls", "pppoes", "gre", "vxlan")) or \
                any(t.startswith("ipv6.") for t in outer) or \
                (outer.count("ip") + outer.count("ipv6")) > 1:
            plain = False
        # innermost IP layer outside ICMP quotations
        last = None
        n4 = n6 = 0
        for t in outer:
            if t == "ip":
                last = ("ip", n4)
                n4 += 1
            elif t == "ipv6":
                last = ("ipv6", n6)
                n6 += 1
        if last is None:
            continue
        kind, i = last
        s = cols[1:3] if kind == "ip" else cols[3:5]
        src, dst = s[0].split(",")[i], s[1].split(",")[i]
        srcs[src] += 1
        for h in {src, dst}:
            per_host[h] += 1
    busiest = srcs.most_common(1)[0][0] if srcs else None
    return busiest, plain, per_host


def compare_frames(label, got, want):
    if got == want:
        return []
    out = [f"{label}: trawl wrote {len(got)} packets, reference has {len(want)}"] if len(got) != len(want) else \
        [f"{label}: same count ({len(got)}) but different packets"]
    names = ["time", "linktype", "len", "caplen", "md5"]
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            which = [f"{n} {a!r} vs reference {b!r}" for n, a, b in zip(names, g, w) if a != b]
            out.append(f"    first difference at packet {i + 1}: " + "; ".join(which))
            break
    else:
        extra = got[len(want):] or want[len(got):]
        who = "trawl" if len(got) > len(want) else "reference"
        out.append(f"    {who} has {len(extra)} more packet(s), the first at time {extra[0][0]}")
    return out


def check_capture(trawl, work, ci, cap):
    """All checks for one capture; returns (ok lines, failure lines, note)."""
    oks, fails = [], []
    name = os.path.relpath(cap)
    src = plain_input(cap, work)
    probe = run([TCPDUMP, "-n", "-r", src, "-c", "1"]) if src else None
    if probe is None or probe.returncode != 0:
        why = probe.stderr.decode(errors="replace").strip().replace("\n", " ") if probe else "cannot decompress"
        return oks, fails, f"SKIP {name}: tcpdump cannot read it ({why[:200]})"
    busiest, plain, per_host = capture_profile(src)
    filters = list(FILTERS)
    if busiest:
        filters.append(f"host {busiest}")
    for fi, flt in enumerate(filters):
        out = os.path.join(work, f"{ci}_{fi}_trawl.pcap")
        ref = os.path.join(work, f"{ci}_{fi}_tcpdump.pcap")
        label = f"{name} -f {flt!r}"
        t = run([TCPDUMP, "-n", "-r", src, "--time-stamp-precision=nano", "-w", ref, flt])
        r = run([trawl, "filter", cap, "-f", flt, "-w", out])
        if t is None:
            fails.append(f"{label}: tcpdump timed out")
            continue
        if t.returncode != 0:
            # libpcap cannot compile this filter for this link type: trawl must refuse it too.
            terr = t.stderr.decode(errors="replace").strip().splitlines()
            if r is not None and r.returncode not in (0, None) and r.returncode > 0:
                oks.append(f"ok   {label}: refused by both (tcpdump: {terr[-1][:100] if terr else '?'})")
            else:
                fails.append(f"{label}: tcpdump refuses the filter ({terr[-1][:200] if terr else '?'}) but trawl "
                             f"exited {None if r is None else r.returncode}")
            continue
        if r is None or r.returncode != 0:
            fails.append(f"{label}: trawl filter " + ("timed out" if r is None else
                         f"exited {r.returncode}: {r.stderr.decode(errors='replace').strip()[:300]}"))
            continue
        got, err = frames(out)
        if err:
            fails.append(f"{label}: {err}")
            continue
        want, err = frames(ref)
        if err:
            fails.append(f"{label}: reference unreadable: {err}")
            continue
        d = compare_frames(label, got, want)
        if d:
            fails.append("\n".join(d))
        else:
            oks.append(f"ok   {label}: {len(got)} packets")
    # --host
    if busiest:
        out = os.path.join(work, f"{ci}_host_trawl.pcap")
        label = f"{name} --host {busiest}"
        r = run([trawl, "filter", cap, "--host", busiest, "-w", out])
        if r is None or r.returncode != 0:
            fails.append(f"{label}: trawl filter exited {'(timeout)' if r is None else r.returncode}: "
                         f"{r.stderr.decode(errors='replace').strip()[:300] if r else ''}")
        else:
            got, err = frames(out)
            if err:
                fails.append(f"{label}: {err}")
            elif plain:
                ref = os.path.join(work, f"{ci}_host_tcpdump.pcap")
                run([TCPDUMP, "-n", "-r", src, "--time-stamp-precision=nano", "-w", ref, f"host {busiest}"])
                want, err = frames(ref)
                d = compare_frames(label + " vs tcpdump 'host'", got, want) if not err else [err]
                if d:
                    fails.append("\n".join(d))
                else:
                    oks.append(f"ok   {label}: {len(got)} packets, same as tcpdump 'host {busiest}'")
            elif len(got) != per_host[busiest]:
                fails.append(f"{label}: trawl wrote {len(got)} packets; tshark has {per_host[busiest]} frames whose "
                             f"innermost IP header has {busiest} as source or destination")
            else:
                oks.append(f"ok   {label}: {len(got)} packets (encapsulated capture: matched tshark's innermost "
                           f"addresses)")
    # --uid
    a_out = os.path.join(work, f"{ci}_analyze")
    r = run([trawl, "analyze", cap, "-o", a_out, "--threads", "1"])
    conns = []
    if r is not None and r.returncode == 0 and os.path.exists(os.path.join(a_out, "conn.jsonl")):
        conns = [json.loads(ln) for ln in open(os.path.join(a_out, "conn.jsonl")) if ln.strip()]
    tcp = [c for c in conns if c.get("proto") == "tcp"]
    if tcp:
        c = tcp[0]
        label = f"{name} --uid {c['uid']} ({c['id.orig_h']}:{c['id.orig_p']} -> {c['id.resp_h']}:{c['id.resp_p']})"
        out = os.path.join(work, f"{ci}_uid_trawl.pcap")
        r = run([trawl, "filter", cap, "--uid", c["uid"], "-w", out])
        if r is None or r.returncode != 0:
            fails.append(f"{label}: trawl filter exited {'(timeout)' if r is None else r.returncode}")
        else:
            got, err = frames(out)
            want_n = int(c["orig_pkts"]) + int(c["resp_pkts"])
            if err:
                fails.append(f"{label}: {err}")
            elif len(got) != want_n:
                fails.append(f"{label}: wrote {len(got)} packets, conn.jsonl says orig_pkts + resp_pkts = {want_n} "
                             f"(last packet written at {got[-1][0] if got else '-'}; connection ts {c.get('ts')}, "
                             f"duration {c.get('duration')})")
            else:
                same_tuple = [x for x in tcp if {(x["id.orig_h"], x["id.orig_p"]), (x["id.resp_h"], x["id.resp_p"])}
                              == {(c["id.orig_h"], c["id.orig_p"]), (c["id.resp_h"], c["id.resp_p"])}]
                msg = f"{len(got)} packets = orig_pkts + resp_pkts"
                if plain and len(same_tuple) == 1:
                    ref = os.path.join(work, f"{ci}_uid_tcpdump.pcap")
                    flt = (f"tcp and host {c['id.orig_h']} and host {c['id.resp_h']} and port {c['id.orig_p']} "
                           f"and port {c['id.resp_p']}")
                    run([TCPDUMP, "-n", "-r", src, "--time-stamp-precision=nano", "-w", ref, flt])
                    want, err = frames(ref)
                    d = compare_frames(label + f" vs tcpdump '{flt}'", got, want) if not err else [err]
                    if d:
                        fails.append("\n".join(d))
                        msg = None
                    else:
                        msg += ", same packets as tcpdump"
                if msg:
                    oks.append(f"ok   {label}: {msg}")
    # a malformed filter
    r = run([trawl, "filter", cap, "-f", "tcp port", "-w", os.path.join(work, f"{ci}_bad.pcap")])
    lines = [ln for ln in (r.stderr.decode(errors="replace").splitlines() if r else []) if ln.strip()]
    if r is None or r.returncode == 0 or len(lines) != 1:
        fails.append(f"{name} -f 'tcp port' (malformed): expected a non-zero exit and one stderr line, got exit "
                     f"{None if r is None else r.returncode} and {len(lines)} line(s): {lines[:3]}")
    else:
        oks.append(f"ok   {name} -f 'tcp port' rejected: {lines[0][:150]!r}")
    return oks, fails, None


def main():
    ap = argparse.ArgumentParser(description="trawl filter vs tcpdump")
    ap.add_argument("trawl")
    ap.add_argument("captures", nargs="+")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--jobs", type=int, default=max(1, min(8, os.cpu_count() or 1)))
    args = ap.parse_args()
    if not os.access(args.trawl, os.X_OK):
        print(f"error: {args.trawl} is missing or not executable", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="trawl-filter-")
    failures = []
    n_ok = 0
    try:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futs = [pool.submit(check_capture, os.path.abspath(args.trawl), work, ci, cap)
                    for ci, cap in enumerate(args.captures)]
            for f in futs:
                oks, fails, note = f.result()
                for o in oks:
                    print(o)
                if note:
                    print(note)
                n_ok += len(oks)
                failures += fails
        for f in failures:
            print("FAIL " + f)
        print(f"{n_ok} checks pass, {len(failures)} fail")
        return 1 if failures else 0
    finally:
        if args.keep or failures:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

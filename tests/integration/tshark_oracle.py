#!/usr/bin/python3
"""Compares trawl's conn.jsonl with tshark, capture by capture.

    tshark_oracle.py TRAWL CAPTURE... [--keep] [--verbose]
    tshark_oracle.py --tshark-only CAPTURE...      (print tshark's side only)

For each capture it runs `TRAWL analyze CAPTURE -o TMPDIR --threads 1` and
checks, exactly:

1. The set of TCP and UDP conversations and the packets in each direction
   equal `tshark -n -q -z conv,tcp` / `-z conv,udp`. tshark merges
   connections that reuse the same endpoints (and ignores VLAN ids), so
   trawl's records are summed per endpoint pair {addrA:portA, addrB:portB}
   before comparing; directions are matched by endpoint (tshark's A->B is
   trawl's orig->resp or resp->orig, whichever has the same source endpoint).
2. The IP bytes in each direction equal the sum over that direction's packets
   of the IP length tshark shows (`ip.len`; IPv6: 40 + `ipv6.plen`).

Rules, so that tshark's numbers mean what trawl's mean:

- Tunnels (GRE, VXLAN, IP-in-IP, ...): tshark shows every layer, fields hold
  one value per layer (comma-separated). A packet belongs to its innermost IP
  layer and the transport header that follows it; the IP length is that
  layer's. Conversations that only carry tunnelled packets (the outer UDP
  4789 flow of VXLAN, for instance) are dropped from tshark's table: trawl
  analyses the innermost packet (DecodedPacket: "for tunnels the fields
  describe the innermost packet") and has no record for the carrier. The
  dropped conversations are listed with --verbose.
- ICMP errors quote the IP + TCP/UDP header of the packet that caused them.
  tshark dissects the quotation (ip.src, udp.srcport get a second value) but
  does not count the ICMP packet in conv,tcp / conv,udp (checked on
  tests/data/crafted/icmp_sweep_dns_flip.pcap). This script stops at the
  first icmp/icmpv6 layer, so quoted headers never count either. An ICMP
  error is an ICMP packet, not a packet of the quoted flow.
- IP fragments: trawl (like Zeek) counts a reassembled datagram as ONE packet
  whose ip_len is the full reassembled length (header + whole payload);
  fragments of datagrams that never complete are not counted. tshark
  dissects the transport header only on the frame that completes the
  datagram, so conv counts it once, and for that frame this script uses
  IPv4: ip.hdr_len + ip.reassembled.length; IPv6: 40 + the extension headers
  before the Fragment header (the unfragmentable part) +
  ipv6.reassembled.length (the Fragment header itself is not part of the
  reassembled packet). Frames of incomplete datagrams have no transport layer
  in tshark and are not counted.
- Packets are also counted per direction from the per-frame fields; if that
  disagrees with conv,tcp / conv,udp the script reports an ORACLE error (the
  rules above do not describe tshark's behaviour for that capture) instead of
  blaming trawl.

Exit status: 0 all captures agree, 1 a mismatch (or trawl failed), 2 usage or
oracle error.
"""

import argparse
import collections
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TSHARK = shutil.which("tshark") or "/usr/bin/tshark"
TSHARK_PREFS = ["-n", "-o", "ip.defragment:TRUE", "-o", "ipv6.defragment:TRUE",
                "-o", "ip.check_checksum:FALSE", "-o", "tcp.check_checksum:FALSE",
                "-o", "udp.check_checksum:FALSE"]
TIMEOUT = 600

FIELDS = [
    "frame.number", "frame.protocols",
    "ip.src", "ip.dst", "ip.len", "ip.hdr_len", "ip.flags.mf", "ip.frag_offset", "ip.reassembled.length",
    "ipv6.src", "ipv6.dst", "ipv6.plen", "ipv6.fraghdr.offset", "ipv6.fraghdr.more", "ipv6.reassembled.length",
    "ipv6.hopopts.len_oct", "ipv6.dstopts.len_oct", "ipv6.routing.len_oct",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
]
EXT_FIELD = {"ipv6.hopopts": "ipv6.hopopts.len_oct", "ipv6.dstopts": "ipv6.dstopts.len_oct",
             "ipv6.routing": "ipv6.routing.len_oct"}
UNIT = r"(?:bytes|kB|MB|GB|TB|KiB|MiB|GiB)"
CONV_RE = re.compile(r"^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+[\d.,]+\s+" + UNIT + r"\s+(\d+)\s+[\d.,]+\s+" + UNIT +
                     r"\s+(\d+)\s")


class OracleError(Exception):
    pass


def norm_addr(a):
    return str(ipaddress.ip_address(a.strip("[]")))


def split_ep(s):
    """'10.0.0.1:80', '2001:db8::1:80' or '[2001:db8::1]:80' -> (addr, port)."""
    if s.startswith("["):
        a, p = s[1:].split("]:")
    else:
        a, p = s.rsplit(":", 1)
    return (norm_addr(a), int(p))


def fmt_ep(ep):
    a, p = ep
    return f"[{a}]:{p}" if ":" in a else f"{a}:{p}"


def run(cmd, timeout=TIMEOUT):
    try:
        return subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise OracleError(f"timed out after {timeout}s: {' '.join(cmd)}")


def tshark_conv(capture, proto):
    """{frozenset(epA, epB): Counter{(src_ep, dst_ep): frames}} from -z conv,PROTO."""
    r = run([TSHARK, "-r", capture] + TSHARK_PREFS + ["-q", "-z", f"conv,{proto}"])
    if r.returncode != 0:
        raise OracleError(f"tshark conv,{proto} failed on {capture}: {r.stderr.decode(errors='replace').strip()}")
    convs = {}
    for line in r.stdout.decode().splitlines():
        if "<->" not in line:
            continue
        m = CONV_RE.match(line)
        if not m:
            raise OracleError(f"cannot parse tshark conv,{proto} line: {line!r}")
        a, b = split_ep(m.group(1)), split_ep(m.group(2))
        b_to_a, a_to_b, total = int(m.group(3)), int(m.group(4)), int(m.group(5))
        if b_to_a + a_to_b != total:
            raise OracleError(f"tshark conv,{proto} line does not add up: {line!r}")
        c = convs.setdefault(frozenset((a, b)), collections.Counter())
        c[(a, b)] += a_to_b
        c[(b, a)] += b_to_a
    return convs


def split_vals(s):
    return s.split(",") if s else []


def tshark_frames(capture):
    """Per-frame innermost flow: yields dicts with proto, src, dst (endpoints), ip_len, frame, carriers."""
    cmd = [TSHARK, "-r", capture] + TSHARK_PREFS + ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
                                                   "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    r = run(cmd)
    if r.returncode != 0:
        raise OracleError(f"tshark -T fields failed on {capture}: {r.stderr.decode(errors='replace').strip()}")
    out = []
    for line in r.stdout.decode().splitlines():
        cols = line.split("\t")
        if len(cols) != len(FIELDS):
            raise OracleError(f"unexpected tshark fields line: {line!r}")
        v = {f: split_vals(c) for f, c in zip(FIELDS, cols)}
        res = interpret_frame(v)
        if res:
            out.append(res)
    return out


def interpret_frame(v):
    """Finds the innermost IP layer (not inside an ICMP error) and its transport."""
    frame = v["frame.number"][0]
    tokens = v["frame.protocols"][0].split(":") if v["frame.protocols"] else []
    seen = collections.Counter()   # occurrences of each token so far (field value index)
    layers = []                    # IP layers outside ICMP quotations, in order
    cur = None
    for tok in tokens:
        if tok in ("icmp", "icmpv6"):
            break  # what follows is a quotation of another packet
        if tok in ("ip", "ipv6"):
            cur = {"kind": tok, "idx": seen[tok], "ext_before_frag": [], "frag": False, "transport": None}
            layers.append(cur)
        elif cur is not None and tok in EXT_FIELD and not cur["frag"]:
            cur["ext_before_frag"].append((tok, seen[tok]))
        elif cur is not None and tok == "ipv6.fraghdr" and cur["kind"] == "ipv6":
            cur["frag"] = True
            cur["frag_idx"] = seen[tok]
        elif cur is not None and tok in ("tcp", "udp") and cur["transport"] is None:
            cur["transport"] = (tok, seen[tok])
        seen[tok] += 1
    if not layers:
        return None
    inner = layers[-1]
    if inner["transport"] is None:
        return None
    proto, tidx = inner["transport"]
    kind, i = inner["kind"], inner["idx"]

    def val(field, idx):
        vals = v[field]
        if idx >= len(vals):
            raise OracleError(f"frame {frame}: field {field} has {len(vals)} values, need index {idx} "
                              f"(protocols {':'.join(tokens)})")
        return vals[idx]

    # Value lists must line up with the protocol tokens, or indexes are meaningless.
    for k, field in ((kind, f"{kind}.src"), (proto, f"{proto}.srcport")):
        if len(v[field]) != tokens.count(k):
            raise OracleError(f"frame {frame}: {field} values {v[field]} do not line up with the layers in "
                              f"{':'.join(tokens)}")
    src_a, dst_a = norm_addr(val(f"{kind}.src", i)), norm_addr(val(f"{kind}.dst", i))
    sport, dport = int(val(f"{proto}.srcport", tidx)), int(val(f"{proto}.dstport", tidx))
    if kind == "ip":
        mf = val("ip.flags.mf", i) in ("1", "True")
        off = int(val("ip.frag_offset", i))
        if mf or off:
            # The completing fragment of a reassembled datagram.
            n_frag_layers = sum(1 for L in layers if L["kind"] == "ip" and
                                (v["ip.flags.mf"][L["idx"]] in ("1", "True") or int(v["ip.frag_offset"][L["idx"]])))
            if n_frag_layers != 1 or len(v["ip.reassembled.length"]) != 1:
                raise OracleError(f"frame {frame}: cannot attribute ip.reassembled.length "
                                  f"{v['ip.reassembled.length']} to one of several fragmented IPv4 layers")
            ip_len = int(val("ip.hdr_len", i)) + int(v["ip.reassembled.length"][0])
        else:
            ip_len = int(val("ip.len", i))
    else:
        if inner["frag"]:
            n_frag = sum(1 for L in layers if L["kind"] == "ipv6" and L["frag"])
            if n_frag != 1 or len(v["ipv6.reassembled.length"]) != 1:
                raise OracleError(f"frame {frame}: cannot attribute ipv6.reassembled.length "
                                  f"{v['ipv6.reassembled.length']} to one of several fragmented IPv6 layers")
            unfrag = sum(int(val(EXT_FIELD[t], k)) for t, k in inner["ext_before_frag"])
            ip_len = 40 + unfrag + int(v["ipv6.reassembled.length"][0])
        else:
            ip_len = 40 + int(val("ipv6.plen", i))
    carriers = []
    for L in layers[:-1]:  # outer layers whose transport carries the tunnel (VXLAN's UDP...)
        if L["transport"]:
            p, k = L["transport"]
            carriers.append((p, (norm_addr(v[f"{L['kind']}.src"][L["idx"]]), int(v[f"{p}.srcport"][k])),
                             (norm_addr(v[f"{L['kind']}.dst"][L["idx"]]), int(v[f"{p}.dstport"][k]))))
    return {"frame": int(frame), "proto": proto, "src": (src_a, sport), "dst": (dst_a, dport), "ip_len": ip_len,
            "carriers": carriers}


def tshark_side(capture, verbose=False):
    """{(proto, frozenset(eps)): {"pkts": Counter{(src,dst)}, "ip": Counter{(src,dst)}}}"""
    frames = tshark_frames(capture)
    flows = {}
    carrier_keys = collections.Counter()
    for fr in frames:
        key = (fr["proto"], frozenset((fr["src"], fr["dst"])))
        d = flows.setdefault(key, {"pkts": collections.Counter(), "ip": collections.Counter()})
        d["pkts"][(fr["src"], fr["dst"])] += 1
        d["ip"][(fr["src"], fr["dst"])] += fr["ip_len"]
        for p, s, t in fr["carriers"]:
            carrier_keys[(p, frozenset((s, t)))] += 1
    conv = {}
    for proto in ("tcp", "udp"):
        for eps, c in tshark_conv(capture, proto).items():
            key = (proto, eps)
            if key in conv:
                conv[key].update(c)
            else:
                conv[key] = c
    problems = []
    dropped = []
    for key, c in sorted(conv.items(), key=lambda kv: keystr(kv[0])):
        total = sum(c.values())
        if key not in flows and carrier_keys.get(key, 0) == total:
            dropped.append(key)
            continue
        mine = flows.get(key, {"pkts": collections.Counter()})["pkts"]
        if +c != +mine:
            problems.append(f"ORACLE: {keystr(key)}: conv,{key[0]} says {dirs(c)}, per-frame fields say "
                            f"{dirs(mine)}")
    for key in flows:
        if key not in conv:
            problems.append(f"ORACLE: {keystr(key)}: in per-frame fields ({dirs(flows[key]['pkts'])}) but not in "
                            f"conv,{key[0]}")
    if verbose:
        for key in dropped:
            print(f"  note: dropped tunnel carrier {keystr(key)} ({dirs(conv[key])})")
    return flows, problems


def keystr(key):
    proto, eps = key
    a, b = sorted(eps)
    return f"{proto} {fmt_ep(a)} <-> {fmt_ep(b)}" if a != b else f"{proto} {fmt_ep(a)} <-> itself"


def dirs(c):
    return ", ".join(f"{fmt_ep(s)} -> {fmt_ep(d)}: {n}" for (s, d), n in sorted(c.items()) if n) or "nothing"


def trawl_side(trawl, capture, keep):
    tmp = tempfile.mkdtemp(prefix="trawl-oracle-")
    out = os.path.join(tmp, "case")
    try:
        cmd = [trawl, "analyze", capture, "-o", out, "--threads", "1"]
        r = run(cmd)
        err = r.stderr.decode(errors="replace").strip()
        if r.returncode != 0:
            return None, [f"trawl exited with {r.returncode} ({' '.join(cmd)}); stderr: {err or '(empty)'}"]
        path = os.path.join(out, "conn.jsonl")
        if not os.path.exists(path):
            return None, [f"trawl wrote no {path}"]
        flows = {}
        problems = []
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    problems.append(f"conn.jsonl line {n} is not JSON ({e}): {line[:200]!r}")
                    continue
                if rec.get("proto") not in ("tcp", "udp"):
                    continue
                try:
                    o = (norm_addr(rec["id.orig_h"]), int(rec["id.orig_p"]))
                    rsp = (norm_addr(rec["id.resp_h"]), int(rec["id.resp_p"]))
                    key = (rec["proto"], frozenset((o, rsp)))
                    d = flows.setdefault(key, {"pkts": collections.Counter(), "ip": collections.Counter(),
                                               "uids": []})
                    d["pkts"][(o, rsp)] += int(rec["orig_pkts"])
                    d["pkts"][(rsp, o)] += int(rec["resp_pkts"])
                    d["ip"][(o, rsp)] += int(rec["orig_ip_bytes"])
                    d["ip"][(rsp, o)] += int(rec["resp_ip_bytes"])
                    d["uids"].append(rec.get("uid", "?"))
                except (KeyError, ValueError, TypeError) as e:
                    problems.append(f"conn.jsonl line {n}: missing or bad field {e}: {line.strip()[:300]}")
        return flows, problems
    finally:
        if keep:
            print(f"  kept trawl output in {out}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def compare(ts, tr):
    diffs = []
    for key in sorted(set(ts) | set(tr), key=keystr):
        if key not in tr:
            diffs.append(f"only in tshark: {keystr(key)} (packets {dirs(ts[key]['pkts'])}; "
                         f"ip bytes {dirs(ts[key]['ip'])})")
            continue
        if key not in ts:
            diffs.append(f"only in trawl: {keystr(key)} uid {','.join(tr[key]['uids'])} (packets "
                         f"{dirs(tr[key]['pkts'])}; ip bytes {dirs(tr[key]['ip'])})")
            continue
        a, b = sorted(key[1])
        for s, d in ((a, b), (b, a)):
            for what, label in (("pkts", "packets"), ("ip", "ip bytes")):
                x, y = ts[key][what][(s, d)], tr[key][what][(s, d)]
                if x != y:
                    diffs.append(f"{keystr(key)} uid {','.join(tr[key]['uids'])}: {label} "
                                 f"{fmt_ep(s)} -> {fmt_ep(d)}: tshark {x}, trawl {y}")
    return diffs


def main():
    ap = argparse.ArgumentParser(description="trawl conn.jsonl vs tshark conversations")
    ap.add_argument("trawl", nargs="?", help="path to the trawl binary")
    ap.add_argument("captures", nargs="*")
    ap.add_argument("--tshark-only", action="store_true", help="only print what tshark says (no trawl)")
    ap.add_argument("--keep", action="store_true", help="keep trawl's output directory")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if args.tshark_only and args.trawl:
        args.captures.insert(0, args.trawl)
        args.trawl = None
    if not args.captures or (not args.tshark_only and not args.trawl):
        ap.error("need TRAWL and at least one CAPTURE (or --tshark-only CAPTURE...)")
    if args.trawl and not os.access(args.trawl, os.X_OK):
        print(f"error: trawl binary {args.trawl} is missing or not executable", file=sys.stderr)
        return 2
    worst = 0
    for cap in args.captures:
        name = os.path.relpath(cap)
        if not os.path.exists(cap):
            print(f"ERROR {name}: no such file")
            worst = max(worst, 2)
            continue
        try:
            ts, oracle_problems = tshark_side(cap, args.verbose)
        except OracleError as e:
            print(f"ERROR {name}: {e}")
            worst = max(worst, 2)
            continue
        if oracle_problems:
            print(f"ERROR {name}: the oracle's rules do not explain tshark's output:")
            for p in oracle_problems:
                print(f"  {p}")
            worst = max(worst, 2)
            continue
        if args.tshark_only:
            print(f"{name}: {len(ts)} conversations")
            for key in sorted(ts, key=keystr):
                print(f"  {keystr(key)}: packets {dirs(ts[key]['pkts'])}; ip bytes {dirs(ts[key]['ip'])}")
            continue
        tr, problems = trawl_side(args.trawl, cap, args.keep)
        if tr is None:
            print(f"FAIL {name}: {problems[0]}")
            worst = max(worst, 1)
            continue
        diffs = problems + compare(ts, tr)
        if diffs:
            print(f"FAIL {name}: {len(diffs)} difference(s) between tshark and trawl")
            for d in diffs[:200]:
                print(f"  {d}")
            if len(diffs) > 200:
                print(f"  ... and {len(diffs) - 200} more")
            worst = max(worst, 1)
        else:
            npk = sum(sum(d["pkts"].values()) for d in ts.values())
            print(f"ok   {name}: {len(ts)} conversations, {npk} packets agree")
    return worst


if __name__ == "__main__":
    sys.exit(main())

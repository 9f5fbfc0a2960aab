#!/usr/bin/python3
"""Checks trawl's conn.jsonl on the crafted captures against the expectations
in tests/data/crafted/conn_states.json (written by tests/tools/craft_captures.py).

    check_crafted.py TRAWL [--data DIR] [--case NAME]... [--keep]

For every case it runs `TRAWL analyze INPUTS... -o TMP --threads 1` and, for
each expected connection (matched by proto and the exact orig/resp endpoints,
so the direction Zeek would choose is checked too), compares conn_state,
history, packet and IP byte counts per direction, payload bytes (absent, with
duration, when the duration is 0, as Zeek logs them), missed_bytes,
vlan, the Community ID (computed here from the 5-tuple, Community ID v1, seed
0) and, where given, ts and duration (to within 1 microsecond). A field whose
expected value is null is not checked. Cases marked "exact" must produce no
other connection; "absent" connections must not appear.

Exit status: 0 all cases pass, 1 a mismatch, 2 usage error.
"""

import argparse
import base64
import hashlib
import ipaddress
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "data", "crafted"))
PROTO_NUM = {"tcp": 6, "udp": 17, "icmp": 1}
# ICMP types that have a counterpart (Community ID spec): the flow is two-way.
ICMP4_PAIR = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17}
ICMP6_PAIR = {128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130, 144: 145, 145: 144}
COUNT_FIELDS = ["orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "orig_bytes", "resp_bytes",
                "missed_bytes"]


def community_id(proto, oh, op, rh, rp):
    """Community ID v1 (seed 0) for a tcp/udp/icmp connection as Zeek logs it."""
    sa, da = ipaddress.ip_address(oh), ipaddress.ip_address(rh)
    num = PROTO_NUM[proto]
    one_way = False
    if proto == "icmp":
        v6 = sa.version == 6
        num = 58 if v6 else 1
        pairs = ICMP6_PAIR if v6 else ICMP4_PAIR
        # Zeek's resp_p for ICMP is the counterpart type when there is one, else the code.
        if op in pairs:
            op, rp = op, pairs[op]
        else:
            one_way = True
    sb, db = sa.packed, da.packed
    if not one_way and (sb, op) > (db, rp):
        sb, db, op, rp = db, sb, rp, op
    data = struct.pack("!H", 0) + sb + db + struct.pack("!BBHH", num, 0, op, rp)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def self_test():
    # Test vectors of the Community ID spec (corelight/community-id-spec).
    assert community_id("tcp", "128.232.110.120", 34855, "66.35.250.204", 80) == "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
    assert community_id("udp", "192.168.1.52", 54585, "8.8.8.8", 53) == "1:d/FP5EW3wiY1vCndhwleRRKHowQ="
    assert community_id("icmp", "192.168.0.89", 8, "192.168.0.1", 0) == "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="


def norm(a):
    return str(ipaddress.ip_address(a))


def key_of(proto, oh, op, rh, rp):
    return (proto, norm(oh), int(op), norm(rh), int(rp))


def kstr(k):
    proto, oh, op, rh, rp = k
    return f"{proto} {oh}:{op} -> {rh}:{rp}"


def run_case(trawl, data_dir, name, case, keep):
    errs = []
    tmp = tempfile.mkdtemp(prefix="trawl-crafted-")
    out = os.path.join(tmp, "case")
    inputs = [os.path.join(data_dir, p) for p in case["inputs"]]
    cmd = [trawl, "analyze"] + inputs + ["-o", out, "--threads", "1"]
    try:
        try:
            r = subprocess.run(cmd, capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            return [f"trawl timed out after 60 s: {' '.join(cmd)}"]
        if r.returncode != 0:
            return [f"trawl exited with {r.returncode}: {r.stderr.decode(errors='replace').strip() or '(no stderr)'}"]
        path = os.path.join(out, "conn.jsonl")
        if not os.path.exists(path):
            return [f"no conn.jsonl in {out}"]
        recs = {}
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    k = key_of(rec["proto"], rec["id.orig_h"], rec["id.orig_p"], rec["id.resp_h"], rec["id.resp_p"])
                except (ValueError, KeyError) as e:
                    errs.append(f"conn.jsonl line {n} unreadable ({e}): {line.strip()[:200]}")
                    continue
                recs.setdefault(k, []).append(rec)
        expected_keys = set()
        for exp in case["connections"]:
            k = key_of(exp["proto"], exp["orig_h"], exp["orig_p"], exp["resp_h"], exp["resp_p"])
            expected_keys.add(k)
            got = recs.get(k, [])
            if not got:
                rev = key_of(exp["proto"], exp["resp_h"], exp["resp_p"], exp["orig_h"], exp["orig_p"])
                if rev in recs:
                    errs.append(f"{kstr(k)}: missing; trawl has it the other way round ({kstr(rev)}, history "
                                f"{[x.get('history') for x in recs[rev]]!r})")
                else:
                    errs.append(f"{kstr(k)}: missing from conn.jsonl")
                continue
            # Several expected connections may share a 5-tuple (port reuse): the
            # n-th expectation is matched with the n-th record in time order.
            same = [e for e in case["connections"]
                    if key_of(e["proto"], e["orig_h"], e["orig_p"], e["resp_h"], e["resp_p"]) == k]
            nth = same.index(exp)
            if len(got) != len(same):
                if nth == 0:
                    errs.append(f"{kstr(k)}: {len(got)} records (uids {[g.get('uid') for g in got]}), expected "
                                f"{len(same)}")
                continue
            got = sorted(got, key=lambda g: float(g.get("ts", 0)))
            if len(same) > 1 and len({g.get("uid") for g in got}) != len(got):
                errs.append(f"{kstr(k)}: records share a uid: {[g.get('uid') for g in got]}")
            g = got[nth]
            # Every crafted packet has its own time, so a connection of two or
            # more packets has a positive duration (Zeek logs duration only then).
            npk = (exp.get("orig_pkts") or 0) + (exp.get("resp_pkts") or 0)
            positive_duration = npk > 1
            dur = g.get("duration")
            if exp.get("orig_pkts") is not None and exp.get("resp_pkts") is not None:
                # (present, not necessarily > 0 once printed: 212 ns is 0.000000 with six decimals)
                if positive_duration and not isinstance(dur, (int, float)):
                    errs.append(f"{kstr(k)} uid {g.get('uid')}: duration expected ({npk} packets at different "
                                f"times), got {dur!r}")
                if not positive_duration and dur is not None:
                    errs.append(f"{kstr(k)} uid {g.get('uid')}: duration expected absent (one packet; Zeek logs "
                                f"duration only when it is > 0), got {dur!r}")
            for fld in ["conn_state", "history"] + COUNT_FIELDS + ["vlan"]:
                if fld not in exp or exp[fld] is None:
                    continue
                want = exp[fld]
                have = g.get(fld, "(absent)")
                if fld in ("orig_bytes", "resp_bytes") and not positive_duration:
                    # Zeek sets duration, orig_bytes and resp_bytes only when duration > 0.
                    want = "(absent)"
                if have != want:
                    errs.append(f"{kstr(k)} uid {g.get('uid')}: {fld} expected {want!r}, got {have!r}")
            if exp["proto"] in ("tcp", "udp", "icmp"):
                cid = community_id(exp["proto"], exp["orig_h"], exp["orig_p"], exp["resp_h"], exp["resp_p"])
                if g.get("community_id") != cid:
                    errs.append(f"{kstr(k)} uid {g.get('uid')}: community_id expected {cid}, got "
                                f"{g.get('community_id')!r}")
            if "ts_ns" in exp:
                try:
                    have = float(g.get("ts"))
                    if abs(have - exp["ts_ns"] / 1e9) > 1.5e-6:
                        errs.append(f"{kstr(k)}: ts expected {exp['ts_ns'] / 1e9:.9f}, got {g.get('ts')!r}")
                except (TypeError, ValueError):
                    errs.append(f"{kstr(k)}: ts expected {exp['ts_ns'] / 1e9:.9f}, got {g.get('ts')!r}")
            if "duration_ns" in exp:
                try:
                    have = float(g.get("duration"))
                    if abs(have - exp["duration_ns"] / 1e9) > 1.5e-6:
                        errs.append(f"{kstr(k)}: duration expected {exp['duration_ns'] / 1e9:.9f} (Zeek's: up to "
                                    f"the last packet before both sides closed), got {g.get('duration')!r}")
                except (TypeError, ValueError):
                    errs.append(f"{kstr(k)}: duration expected {exp['duration_ns'] / 1e9:.9f}, got "
                                f"{g.get('duration')!r}")
        if case.get("exact"):
            for k, rs in recs.items():
                if k not in expected_keys:
                    errs.append(f"unexpected connection {kstr(k)} (history {[x.get('history') for x in rs]!r}, "
                                f"state {[x.get('conn_state') for x in rs]!r})")
        for a in case.get("absent", []):
            k = key_of(a["proto"], a["orig_h"], a["orig_p"], a["resp_h"], a["resp_p"])
            rev = key_of(a["proto"], a["resp_h"], a["resp_p"], a["orig_h"], a["orig_p"])
            for kk in (k, rev):
                if kk in recs:
                    errs.append(f"{kstr(kk)} must not appear (it has no complete packet), but trawl logged "
                                f"{len(recs[kk])} record(s): {json.dumps(recs[kk][0])[:300]}")
        return errs
    finally:
        if keep:
            print(f"  kept {out}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="crafted captures vs the Zeek expectations in conn_states.json")
    ap.add_argument("trawl")
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--case", action="append", help="only this case (repeatable)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    self_test()
    if not os.access(args.trawl, os.X_OK):
        print(f"error: {args.trawl} is missing or not executable", file=sys.stderr)
        return 2
    with open(os.path.join(args.data, "conn_states.json")) as f:
        side = json.load(f)["files"]
    names = args.case or list(side)
    bad = 0
    for name in names:
        if name not in side:
            print(f"error: no case {name!r} in conn_states.json", file=sys.stderr)
            return 2
        errs = run_case(args.trawl, args.data, name, side[name], args.keep)
        if errs:
            bad += 1
            print(f"FAIL {name}: {side[name]['proves'][:110]}")
            for e in errs:
                print(f"  {e}")
        else:
            print(f"ok   {name}")
    print(f"{len(names) - bad}/{len(names)} cases pass")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

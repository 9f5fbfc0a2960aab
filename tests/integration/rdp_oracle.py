#!/usr/bin/python3
"""tshark as the oracle for rdp.jsonl and the RDP lines of auth.jsonl.

    rdp_oracle.py TRAWL CAPTURE [--port P]... [--expect-records N]

For every TCP connection in which tshark decodes an RDP Connection Request,
trawl's rdp.jsonl must hold one record (Zeek logs one when it has a cookie,
a keyboard layout or a result) whose fields equal what tshark decodes:
cookie (rdp.rt_cookie after "Cookie: mstshash="), requested_protocols
(rdp.negReq.requestedProtocols flags), security_protocol
(rdp.negReq.selectedProtocol, or RDP once standard RDP encryption starts),
result (rdp.negFailure.failureCode, t124.result, or "encrypted" after a
TLS/CredSSP selection), client name/build/keyboard/desktop/colour/product id
and channels (rdp.client.*, rdp.name), encryption method and level
(rdp.encryptionMethod/Level) and the certificate type, permanence and count
read from rdp.serverCertificate. Numeric values become names with the tables
of MS-RDPBCGR (and Zeek's rdp/consts.zeek wording) written out below for the
values the test captures use; an unknown value fails the test rather than
being guessed. auth.jsonl must hold exactly one "cookie" record per
connection with a mstshash user, with that user and outcome unknown.
--port P: tshark decodes TCP port P as TPKT too (trawl needs no such hint).
"""

import argparse
import collections
import json
import os
import struct
import subprocess
import sys
import tempfile

FIELDS = ["tcp.stream", "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport", "rdp.rt_cookie",
          "rdp.negReq.requestedProtocols", "rdp.negReq.selectedProtocol", "rdp.negFailure.failureCode",
          "t124.result", "rdp.client.name", "rdp.client.build", "rdp.keyboardLayout", "rdp.desktop.width",
          "rdp.desktop.height", "rdp.highColorDepth", "rdp.client.digProductId", "rdp.name",
          "rdp.encryptionMethod", "rdp.encryptionLevel", "rdp.serverCertificate", "rdp.earlyCapabilityFlags"]

PROTOCOLS = {0: "RDP", 1: "SSL", 2: "HYBRID", 4: "RDSTLS", 8: "HYBRID_EX", 16: "RDSAAD"}
FAILURES = {1: "SSL_REQUIRED_BY_SERVER", 2: "SSL_NOT_ALLOWED_BY_SERVER", 3: "SSL_CERT_NOT_ON_SERVER",
            4: "INCONSISTENT_FLAGS", 5: "HYBRID_REQUIRED_BY_SERVER", 6: "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER"}
RESULTS = {0: "Success", 1: "User rejected", 2: "Resources not available"}
BUILDS = {2600: "RDP 5.1", 7601: "RDP 7.1", 9600: "RDP 8.1"}
LAYOUTS = {0x0409: "English - United States", 0x0407: "German - Germany"}
COLOURS = {0x10: "16bit", 0x18: "24bit"}
METHODS = {0: "None", 1: "40bit", 2: "128bit", 8: "56bit", 0x10: "FIPS"}
LEVELS = {0: "None", 1: "Low", 2: "Client compatible", 3: "High", 4: "FIPS"}


def num(v):
    v = v.split("|")[0]
    return int(v, 0) if v else None


def tshark(capture, ports):
    cmd = ["tshark", "-r", capture, "-Y", "rdp or t124", "-T", "fields", "-E", "separator=\t",
           "-E", "aggregator=|", "-E", "occurrence=a"]
    for f in FIELDS:
        cmd += ["-e", f]
    for p in ports:
        cmd += ["-d", "tcp.port==%d,tpkt" % p]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    conns = collections.OrderedDict()
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t") + [""] * len(FIELDS)))
        key = (v["ip.src"], int(v["tcp.srcport"]), v["ip.dst"], int(v["tcp.dstport"]))
        if v["rdp.rt_cookie"] or v["rdp.negReq.requestedProtocols"]:
            conns.setdefault(v["tcp.stream"], {"tuple": key})
        c = conns.get(v["tcp.stream"])
        if c is None:
            continue
        for f in FIELDS[5:]:
            if v[f] and f not in c:
                c[f] = v[f]
    return conns


def cert_facts(hexbytes):
    b = bytes.fromhex(hexbytes.split("|")[0])
    version = struct.unpack_from("<I", b)[0]
    kind = version & 0x7FFFFFFF
    count = 1 if kind == 1 else struct.unpack_from("<I", b, 4)[0]
    return {1: "RSA", 2: "X.509"}[kind], (version & 0x80000000) == 0, count


def want_record(c):
    w = {}
    cookie = c.get("rdp.rt_cookie", "")
    if cookie.startswith("Cookie: mstshash="):
        w["cookie"] = cookie[len("Cookie: mstshash="):]
    req = c.get("rdp.negReq.requestedProtocols")
    if req is not None:
        r = num(req)
        w["requested_protocols"] = ["RDP"] if r == 0 else [PROTOCOLS[b] for b in sorted(PROTOCOLS) if b and r & b]
    sel = num(c.get("rdp.negReq.selectedProtocol", ""))
    if sel is not None:
        w["security_protocol"] = PROTOCOLS[sel]
        if sel:
            w["result"] = "encrypted"
    fail = num(c.get("rdp.negFailure.failureCode", ""))
    if fail is not None:
        w["result"] = FAILURES[fail]
    if "rdp.client.name" in c:
        w["client_name"] = c["rdp.client.name"]
        w["client_build"] = BUILDS[num(c["rdp.client.build"])]
        w["keyboard_layout"] = LAYOUTS[num(c["rdp.keyboardLayout"])]
        w["desktop_width"] = num(c["rdp.desktop.width"])
        w["desktop_height"] = num(c["rdp.desktop.height"])
        w["client_dig_product_id"] = c.get("rdp.client.digProductId", "")
        ec = num(c.get("rdp.earlyCapabilityFlags", "") or "0")
        w["requested_color_depth"] = "32bit" if ec & 2 else COLOURS[num(c["rdp.highColorDepth"])]
    if "rdp.name" in c:
        w["client_channels"] = c["rdp.name"].split("|")
    if "t124.result" in c:
        w["result"] = RESULTS[num(c["t124.result"])]
    if "rdp.encryptionMethod" in c:
        m, l = num(c["rdp.encryptionMethod"]), num(c["rdp.encryptionLevel"])
        w["encryption_method"], w["encryption_level"] = METHODS[m], LEVELS[l]
        if m and l:
            w["security_protocol"] = "RDP"
    w["cert_count"] = 0
    if "rdp.serverCertificate" in c:
        w["cert_type"], w["cert_permanent"], w["cert_count"] = cert_facts(c["rdp.serverCertificate"])
    return w


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def schema_errors(out, logs):
    """Every record of the given logs against docs/schema/<log>.schema.json
    (a log without a schema yet is skipped)."""
    import jsonschema
    errors = []
    for log in logs:
        path = os.path.join(ROOT, "docs", "schema", log + ".schema.json")
        data = os.path.join(out, log + ".jsonl")
        if not os.path.exists(path) or not os.path.exists(data):
            continue
        v = jsonschema.Draft202012Validator(json.load(open(path)))
        for n, line in enumerate(open(data), 1):
            for e in list(v.iter_errors(json.loads(line)))[:1]:
                errors.append("%s.jsonl line %d: schema: %s" % (log, n, e.message))
    return errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trawl")
    ap.add_argument("capture")
    ap.add_argument("--port", type=int, action="append", default=[])
    ap.add_argument("--expect-records", type=int)
    a = ap.parse_args()
    conns = tshark(a.capture, a.port)
    with tempfile.TemporaryDirectory() as out:
        p = subprocess.run([a.trawl, "analyze", a.capture, "-o", out, "-q", "--no-progress"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("trawl analyze failed (%d): %s" % (p.returncode, p.stderr))
        read = lambda n: [json.loads(l) for l in open(os.path.join(out, n))] \
            if os.path.exists(os.path.join(out, n)) else []
        recs, auth = read("rdp.jsonl"), read("auth.jsonl")
        schema = schema_errors(out, ["rdp", "auth"])
    by_tuple = {(r["id.orig_h"], r["id.orig_p"], r["id.resp_h"], r["id.resp_p"]): r for r in recs}
    auth_rdp = collections.defaultdict(list)
    for x in auth:
        if x["proto"] == "rdp":
            auth_rdp[x["uid"]].append(x)
    errors, checked = list(schema), collections.Counter()
    for stream, c in conns.items():
        where = "stream %s %s:%d > %s:%d" % ((stream,) + c["tuple"])
        r = by_tuple.get(c["tuple"])
        w = want_record(c)
        if r is None:
            errors.append("%s: no rdp.jsonl record (want %s)" % (where, w))
            continue
        for k, v in w.items():
            checked[k] += 1
            if r.get(k) != v:
                errors.append("%s: %s: tshark says %r, trawl says %r" % (where, k, v, r.get(k)))
        extra = set(r) - set(w) - {"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"}
        if extra:
            errors.append("%s: trawl logs fields tshark does not show: %s" % (where, sorted(extra)))
        want_auth = [w["cookie"]] if "cookie" in w else []
        got_auth = [(x["user"], x["method"], x["outcome"]) for x in auth_rdp.get(r["uid"], [])]
        checked["auth"] += 1
        if got_auth != [(u, "cookie", "unknown") for u in want_auth]:
            errors.append("%s: auth.jsonl: want users %r, got %r" % (where, want_auth, got_auth))
    if len(recs) != len(conns):
        errors.append("tshark decodes %d RDP connection requests, trawl wrote %d rdp records" % (len(conns), len(recs)))
    if a.expect_records is not None and len(recs) != a.expect_records:
        errors.append("expected %d rdp records, got %d" % (a.expect_records, len(recs)))
    for e in errors[:40]:
        print("FAIL " + e)
    print("%s: %d rdp records, %d rdp auth records; fields checked: %s" % (
        os.path.basename(a.capture), len(recs), sum(len(v) for v in auth_rdp.values()),
        ", ".join("%s %d" % kv for kv in sorted(checked.items()))))
    sys.exit(1 if errors else 0)


main()

#!/usr/bin/python3
"""Compares trawl's http.jsonl with tshark's HTTP dissector, capture by capture.

    oracle_http.py TRAWL CAPTURE... [--verbose]

For each capture it runs `TRAWL analyze CAPTURE -o TMPDIR` and checks, per
TCP connection (client address and port, server address and port), that

1. the multiset of requests (method, Host, URI) equals
   `tshark -Y "http.request && tcp" -e http.request.method -e http.host
   -e http.request.uri`;
2. the multiset of final status codes equals `tshark -Y "http.response && tcp"
   -e http.response.code` without 1xx codes (101 Switching Protocols ends HTTP
   on a connection and counts as final), and the set of 1xx codes tshark
   shows equals the set of trawl's info_code values;
3. body lengths: the multiset of (method, URI, request_body_len) and of
   (status code, response_body_len) equal tshark's "File Data: N bytes" of
   each message (`-T pdml`, the http.file_data size: de-chunked and
   gzip/deflate-decoded, as trawl counts; 0 when tshark shows no body).

Rules, so that tshark's values mean what trawl's mean:

- trawl writes uri %XX-decoded, as Zeek's http.log does (a '%' not followed
  by two hex digits stays); tshark shows the target as sent. tshark's URI is
  decoded with the same rule, then compared as the JSON string trawl writes
  (valid UTF-8 kept, other bytes as U+0000..U+00FF).
- tshark runs with tcp.reassemble_out_of_order:TRUE. By default tshark 4.0
  does not reassemble a PDU whose segments arrive out of order, so it shows
  no http.response for such a reply (two connections of many_protocols_pcpp
  have a lost-then-retransmitted segment in the middle of the response);
  trawl's reassembler, like Zeek's, orders segments first.
- A request without Host: tshark has no http.host, trawl no "host": both ''.
- HTTP over UDP (SSDP's M-SEARCH/NOTIFY) is not compared: trawl's HTTP
  analyzer is TCP only.
- tshark prints several messages of one frame (pipelining) as one line with
  each field aggregated; the fields are split and zipped. If a frame's
  method, host and URI counts differ (a request without Host among several),
  the script reports an ORACLE error instead of guessing.

Exit status: 0 every capture agrees, 1 a mismatch (or trawl failed), 2 usage
or oracle error.
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

TSHARK = shutil.which("tshark") or "/usr/bin/tshark"
AGG = "\x1e"
TIMEOUT = 600


class OracleError(Exception):
    pass


def zeek_unescape(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    hexd = b"0123456789abcdefABCDEF"
    while i < len(raw):
        c = raw[i]
        if c == 0x25 and i + 2 < len(raw) and raw[i + 1] in hexd and raw[i + 2] in hexd:
            out.append(int(raw[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(c)
            i += 1
    return bytes(out)


def as_json_text(b: bytes) -> str:
    """The string trawl's JSON writer produces for these bytes."""
    out = []
    i = 0
    while i < len(b):
        c = b[i]
        n = 1 if c < 0x80 else 2 if c & 0xE0 == 0xC0 else 3 if c & 0xF0 == 0xE0 else 4 if c & 0xF8 == 0xF0 else 0
        if n > 1:
            try:
                out.append(b[i:i + n].decode("utf-8"))
                i += n
                continue
            except UnicodeDecodeError:
                pass
        out.append(chr(c))
        i += 1
    return "".join(out)


def tshark_text_to_bytes(s: str) -> bytes:
    """tshark -T fields escapes non-printable bytes as \\xNN."""
    out = bytearray()
    i = 0
    while i < len(s):
        if s.startswith("\\x", i) and i + 4 <= len(s):
            try:
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            except ValueError:
                pass
        out += s[i].encode("utf-8")
        i += 1
    return bytes(out)


def tshark_fields(capture, display_filter, fields):
    cmd = [TSHARK, "-n", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", capture, "-Y", display_filter, "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=" + AGG]
    for f in fields:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
    if p.returncode != 0:
        raise OracleError("tshark failed on %s: %s" % (capture, p.stderr.decode(errors="replace").strip()))
    rows = []
    for line in p.stdout.decode("utf-8", errors="surrogateescape").splitlines():
        rows.append(line.split("\t"))
    return rows


def endpoint(row, src):
    """(addr, port) of the source (src=True) or destination of a row
    whose first columns are ip.src ip.dst ipv6.src ipv6.dst tcp.srcport tcp.dstport."""
    ip4s, ip4d, ip6s, ip6d, sp, dp = row[:6]
    addr = (ip4s or ip6s) if src else (ip4d or ip6d)
    port = sp if src else dp
    # Tunnels: the innermost layer is the last value.
    return addr.split(AGG)[-1], int(port.split(AGG)[-1])


ADDR = ["ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport"]


def tshark_side(capture):
    requests = collections.defaultdict(collections.Counter)
    finals = collections.defaultdict(collections.Counter)
    infos = collections.defaultdict(set)
    for row in tshark_fields(capture, "http.request && tcp", ADDR + ["frame.number", "http.request.method",
                                                                     "http.host", "http.request.uri"]):
        row += [""] * (10 - len(row))
        key = (endpoint(row, True), endpoint(row, False))
        methods = row[7].split(AGG) if row[7] else []
        hosts = row[8].split(AGG) if row[8] else []
        uris = row[9].split(AGG) if row[9] else []
        if not hosts and len(methods) == 1:
            hosts = [""]
        if len(uris) != len(methods) or len(hosts) != len(methods):
            raise OracleError("%s frame %s: %d methods, %d hosts, %d URIs; cannot pair them"
                              % (capture, row[6], len(methods), len(hosts), len(uris)))
        for m, h, u in zip(methods, hosts, uris):
            uri = as_json_text(zeek_unescape(tshark_text_to_bytes(u)))
            requests[key][(m, as_json_text(tshark_text_to_bytes(h)), uri)] += 1
    for row in tshark_fields(capture, "http.response && tcp", ADDR + ["frame.number", "http.response.code"]):
        row += [""] * (8 - len(row))
        key = (endpoint(row, False), endpoint(row, True))
        for code in (row[7].split(AGG) if row[7] else []):
            c = int(code)
            if 100 <= c < 200 and c != 101:
                infos[key].add(c)
            else:
                finals[key][c] += 1
    return requests, finals, infos


def tshark_bodies(capture):
    """{conn: Counter((method, uri, len))}, {conn: Counter((code, len))} from PDML."""
    import xml.etree.ElementTree as ET
    cmd = [TSHARK, "-n", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", capture, "-Y", "http && tcp", "-T", "pdml"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    req = collections.defaultdict(collections.Counter)
    resp = collections.defaultdict(collections.Counter)
    for _, pkt in ET.iterparse(p.stdout, events=("end",)):
        if pkt.tag != "packet":
            continue
        src = dst = None
        sport = dport = None
        msgs = []
        for proto in pkt.findall("proto"):
            name = proto.get("name")
            if name in ("ip", "ipv6"):
                for f in proto.findall("field"):
                    if f.get("name") in ("ip.src", "ipv6.src"):
                        src = f.get("show")
                    elif f.get("name") in ("ip.dst", "ipv6.dst"):
                        dst = f.get("show")
            elif name == "tcp":
                for f in proto.findall("field"):
                    if f.get("name") == "tcp.srcport":
                        sport = int(f.get("show"))
                    elif f.get("name") == "tcp.dstport":
                        dport = int(f.get("show"))
            elif name == "http":
                method = uri = code = None
                size = 0
                for f in proto.iter("field"):
                    n = f.get("name")
                    if n == "http.request.method" and method is None:
                        method = f.get("show")
                    elif n == "http.request.uri" and uri is None:
                        uri = f.get("show")
                    elif n == "http.response.code" and code is None:
                        code = int(f.get("show"))
                for f in proto.findall("field"):
                    if f.get("name") == "http.file_data":
                        size = int(f.get("size"))
                msgs.append((method, uri, code, size))
        pkt.clear()
        for method, uri, code, size in msgs:
            if method is not None:
                u = as_json_text(zeek_unescape(tshark_text_to_bytes(uri or "")))
                req[((src, sport), (dst, dport))][(method, u, size)] += 1
            elif code is not None and not (100 <= code < 200 and code != 101):
                resp[((dst, dport), (src, sport))][(code, size)] += 1
    if p.wait() != 0:
        raise OracleError("tshark -T pdml failed on %s" % capture)
    return req, resp


def trawl_side(trawl, capture):
    with tempfile.TemporaryDirectory(prefix="trawl-oracle-http-") as out:
        p = subprocess.run([trawl, "analyze", capture, "-o", out, "-q", "--no-progress"],
                           capture_output=True, timeout=TIMEOUT)
        if p.returncode != 0:
            raise RuntimeError("trawl failed (%d) on %s: %s" % (p.returncode, capture, p.stderr.decode(errors="replace")))
        requests = collections.defaultdict(collections.Counter)
        finals = collections.defaultdict(collections.Counter)
        infos = collections.defaultdict(set)
        req_bodies = collections.defaultdict(collections.Counter)
        resp_bodies = collections.defaultdict(collections.Counter)
        path = os.path.join(out, "http.jsonl")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    r = json.loads(line)
                    key = ((r["id.orig_h"], r["id.orig_p"]), (r["id.resp_h"], r["id.resp_p"]))
                    if "method" in r:
                        requests[key][(r["method"], r.get("host", ""), r.get("uri", ""))] += 1
                        req_bodies[key][(r["method"], r.get("uri", ""), r["request_body_len"])] += 1
                    code = r.get("status_code")
                    if code is not None and not (100 <= code < 200 and code != 101):
                        finals[key][code] += 1
                        resp_bodies[key][(code, r["response_body_len"])] += 1
                    if "info_code" in r and r["info_code"] != 101:
                        infos[key].add(r["info_code"])
        return requests, finals, infos, req_bodies, resp_bodies


def diff(name, want, have, verbose):
    """Prints the differences of two {conn: Counter/set}; returns their number."""
    problems = 0
    for key in sorted(set(want) | set(have), key=str):
        w, h = want.get(key, collections.Counter()), have.get(key, collections.Counter())
        if w == h:
            continue
        problems += 1
        (ca, cp), (sa, sp) = key
        print("  %s differ on %s:%d -> %s:%d" % (name, ca, cp, sa, sp))
        if isinstance(w, set) or isinstance(h, set):
            print("    tshark only: %s" % sorted(set(w) - set(h)))
            print("    trawl only:  %s" % sorted(set(h) - set(w)))
            continue
        missing = w - h
        extra = h - w
        for item, n in sorted(missing.items(), key=str)[:20 if not verbose else None]:
            print("    tshark only (x%d): %s" % (n, item))
        for item, n in sorted(extra.items(), key=str)[:20 if not verbose else None]:
            print("    trawl only  (x%d): %s" % (n, item))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trawl")
    ap.add_argument("captures", nargs="+")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    failed = False
    totals = collections.Counter()
    for cap in args.captures:
        try:
            t_req, t_fin, t_inf = tshark_side(cap)
            t_reqb, t_respb = tshark_bodies(cap)
        except OracleError as e:
            print("ORACLE %s" % e)
            sys.exit(2)
        try:
            r_req, r_fin, r_inf, r_reqb, r_respb = trawl_side(args.trawl, cap)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            print("FAIL %s" % e)
            failed = True
            continue
        n = diff("requests", t_req, r_req, args.verbose) + diff("status codes", t_fin, r_fin, args.verbose) + \
            diff("1xx codes", t_inf, r_inf, args.verbose) + \
            diff("request bodies", t_reqb, r_reqb, args.verbose) + \
            diff("response bodies", t_respb, r_respb, args.verbose)
        nreq = sum(sum(c.values()) for c in t_req.values())
        nresp = sum(sum(c.values()) for c in t_fin.values())
        totals["requests"] += nreq
        totals["responses"] += nresp
        totals["body_bytes"] += sum(k[-1] * v for c in t_respb.values() for k, v in c.items())
        totals["connections"] += len(set(t_req) | set(t_fin))
        if n:
            failed = True
            print("FAIL %s: %d connection(s) differ" % (cap, n))
        else:
            print("ok   %s: %d requests, %d final responses on %d connections agree (with body lengths)"
                  % (os.path.basename(cap), nreq, nresp, len(set(t_req) | set(t_fin))))
    print("%s: %d requests and %d responses (%d decoded response body bytes) on %d connections across %d captures"
          % ("FAILED" if failed else "all agree", totals["requests"], totals["responses"], totals["body_bytes"],
             totals["connections"], len(args.captures)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""tshark as the oracle for ssl.jsonl.

    oracle_ssl.py TRAWL CAPTURE...

For every capture, `trawl analyze` is compared with tshark 4.0 (TLS over TCP
found by its heuristic on any port) connection by connection, a connection
being the TCP 4-tuple (client, server) and, when a 4-tuple repeats, the order
of the connections:

  * the first ClientHello: server_name (tls.handshake.extensions_server_name)
    and ja3 (tls.handshake.ja3, GREASE removed) equal;
  * the first ClientHello's JA4 equals one computed here from tshark's
    fields (FoxIO's JA4.md: ciphers, extension types, signature algorithms,
    ALPN, supported versions, SNI), an implementation independent of
    trawl's (hellos that also carry signature_algorithms_cert are skipped:
    tshark puts both lists in one field);
  * the last ServerHello: ja3s (tls.handshake.ja3s), ja4s (computed here
    the same way), cipher (the name
    Wireshark gives tls.handshake.ciphersuite) and version
    (tls.handshake.extensions.supported_version, else tls.handshake.version,
    in Zeek's spelling) equal;
  * the curve (the ServerKeyExchange's tls.handshake.server_named_curve or
    the ServerHello's key_share group, by Wireshark's group name), the ALPN
    protocol the server chose (next_protocol), and the SHA-256 of every
    certificate each side sent (cert_chain_fps, client_cert_chain_fps);
  * subject and issuer of the server's first certificate equal what
    `openssl x509 -nameopt RFC2253` prints for it;
  * the set of server names of the capture is the same;
  * every connection tshark sees a hello on has "ssl" in its conn.jsonl
    service, and trawl logs no ssl record where tshark sees no hello.

Prints one summary line per capture and exits 1 on any difference.
"""
import collections
import hashlib
import json
import os
import subprocess
import sys
import tempfile

VERSIONS = {0x0002: "SSLv2", 0x0300: "SSLv3", 0x0301: "TLSv10", 0x0302: "TLSv11", 0x0303: "TLSv12",
            0x0304: "TLSv13", 0xFEFF: "DTLSv10", 0xFEFD: "DTLSv12", 0xFEFC: "DTLSv13"}
FIELDS = ["frame.number", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport",
          "tls.handshake.type", "tls.handshake.extensions_server_name", "tls.handshake.ja3", "tls.handshake.ja3s",
          "tls.handshake.ciphersuite", "tls.handshake.version", "tls.handshake.extensions.supported_version",
          "tcp.stream", "tls.handshake.extension.type", "tls.handshake.sig_hash_alg",
          "tls.handshake.extensions_alpn_str", "tls.handshake.server_named_curve",
          "tls.handshake.extensions_key_share_group", "tls.handshake.certificate"]


def grease(v):
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


def ints(value):
    return [int(x, 0) for x in value.split(",")] if value else []


JA4_VERSIONS = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3", 0x0002: "s2",
                0xFEFF: "d1", 0xFEFD: "d2", 0xFEFC: "d3"}


def sha12(text):
    import hashlib
    return hashlib.sha256(text.encode()).hexdigest()[:12] if text else "000000000000"


def alpn_chars(alpn):
    if not alpn:
        return "00"
    a, b = alpn[0], alpn[-1]
    if a.isascii() and a.isalnum() and b.isascii() and b.isalnum():
        return a + b
    h = alpn.encode("latin-1", "replace").hex()
    return h[0] + h[-1]


def ja4_of(hello_version, ciphers, exts, sigs, alpns, versions, sni):
    vers = [v for v in versions if not grease(v)]
    ver = max(vers) if vers else hello_version
    c = sorted(x for x in ciphers if not grease(x))
    e = [x for x in exts if not grease(x)]
    a = "t%s%s%02d%02d%s" % (JA4_VERSIONS.get(ver, "00"), "d" if sni else "i", min(len(c), 99), min(len(e), 99),
                            alpn_chars(alpns[0] if alpns else ""))
    ext_list = ",".join("%04x" % x for x in sorted(x for x in e if x not in (0x0000, 0x0010)))
    sig_list = ",".join("%04x" % x for x in sigs if not grease(x))
    c_part = ext_list + ("_" + sig_list if ext_list and sig_list else "")
    return "%s_%s_%s" % (a, sha12(",".join("%04x" % x for x in c)), sha12(c_part))


def ja4s_of(version, cipher, exts, alpn):
    e = [x for x in exts if not grease(x)]
    return "t%s%02d%s_%04x_%s" % (JA4_VERSIONS.get(version, "00"), min(len(e), 99), alpn_chars(alpn), cipher,
                                  sha12(",".join("%04x" % x for x in e)))


def version_name(v):
    if v in VERSIONS:
        return VERSIONS[v]
    if v >> 8 == 0x7F:
        return "TLSv13-draft%d" % (v & 0xFF)
    return "unknown-%d" % v


def value_names():
    """Wireshark's names of cipher suites and groups: {field: {number: name}}."""
    out = subprocess.run(["tshark", "-G", "values"], capture_output=True, text=True, check=True).stdout
    names = {"tls.handshake.ciphersuite": {}, "tls.handshake.extensions_supported_group": {}}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0] == "V" and parts[1] in names:
            names[parts[1]][int(parts[2], 0)] = parts[3]
    return names


def cert_names(der_hex, cache={}):
    """(subject, issuer) as `openssl x509 -nameopt RFC2253` prints them."""
    if der_hex not in cache:
        r = subprocess.run(["openssl", "x509", "-inform", "der", "-noout", "-subject", "-issuer", "-nameopt", "RFC2253"],
                           input=bytes.fromhex(der_hex), capture_output=True)
        lines = r.stdout.decode("utf-8", "replace").splitlines()
        cache[der_hex] = (lines[0][len("subject="):], lines[1][len("issuer="):]) if r.returncode == 0 else None
    return cache[der_hex]


def first(value):
    return value.split(",")[0] if value else ""


def tshark_conns(cap):
    """Per TCP stream: client, server, first ClientHello and last ServerHello fields."""
    cmd = ["tshark", "-n", "-r", cap, "-Y", "tls.handshake.type == 1 || tls.handshake.type == 2 || tls.handshake.type == 11 || "
           "tls.handshake.type == 12", "-T", "fields",
           "-E", "separator=\t"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    streams = collections.OrderedDict()
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        src = (v["ip.src"] or v["ipv6.src"], int(v["tcp.srcport"]))
        dst = (v["ip.dst"] or v["ipv6.dst"], int(v["tcp.dstport"]))
        types = v["tls.handshake.type"].split(",")
        s = streams.setdefault(v["tcp.stream"], {"ch": None, "sh": None, "client": None, "server": None,
                                                  "curve": None, "certs": {}})
        if v["tls.handshake.server_named_curve"]:
            s["curve"] = int(first(v["tls.handshake.server_named_curve"]), 0)
        if v["tls.handshake.certificate"] and "11" in types:
            s["certs"].setdefault(src, v["tls.handshake.certificate"].split(","))
        alpns = v["tls.handshake.extensions_alpn_str"].split(",") if v["tls.handshake.extensions_alpn_str"] else []
        exts = ints(v["tls.handshake.extension.type"])
        if "1" not in types and "2" not in types:
            continue
        if "1" in types and s["ch"] is None:
            hv = int(v["tls.handshake.version"].split(",")[types.index("1")], 0)
            sni = v["tls.handshake.extensions_server_name"]
            s["ch"] = {"server_name": first(sni), "ja3": first(v["tls.handshake.ja3"]),
                       "ja4": None if 50 in exts else ja4_of(
                           hv, ints(v["tls.handshake.ciphersuite"]), exts, ints(v["tls.handshake.sig_hash_alg"]),
                           alpns, ints(v["tls.handshake.extensions.supported_version"]), 0 in exts)}
            s["client"], s["server"] = src, dst
        if "2" in types:
            sv = first(v["tls.handshake.extensions.supported_version"])
            # tls.handshake.version lists the ClientHello's too when both are in one frame.
            hv = v["tls.handshake.version"].split(",")[types.index("2")] if v["tls.handshake.version"] else ""
            cipher = int(first(v["tls.handshake.ciphersuite"]), 0)
            s["sh"] = {"ja3s": first(v["tls.handshake.ja3s"]), "cipher": cipher, "version": int(sv or hv, 0),
                       "ja4s": ja4s_of(int(sv or hv, 0), cipher, exts, alpns[0] if alpns else ""),
                       "alpn": alpns[0] if alpns else None}
            if v["tls.handshake.extensions_key_share_group"]:
                s["curve"] = int(first(v["tls.handshake.extensions_key_share_group"]), 0)
            if s["client"] is None:
                s["client"], s["server"] = dst, src
    return streams


def trawl_run(trawl, cap, out):
    r = subprocess.run([trawl, "analyze", cap, "-o", out, "-q"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("trawl analyze %s failed (%d): %s" % (cap, r.returncode, r.stderr))

    def load(name):
        path = os.path.join(out, name)
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f]
    return load("ssl.jsonl"), load("conn.jsonl")


def key_of(rec):
    return ((rec["id.orig_h"], rec["id.orig_p"]), (rec["id.resp_h"], rec["id.resp_p"]))


def check(trawl, cap, names):
    errors = []
    with tempfile.TemporaryDirectory() as out:
        ssl, conns = trawl_run(trawl, cap, out)
    want = tshark_conns(cap)
    by_key = collections.defaultdict(list)
    for rec in sorted(ssl, key=lambda r: r["ts"]):
        by_key[key_of(rec)].append(rec)
        # A flipped connection (the ClientHello from the responder) is keyed client first.
        if rec.get("ssl_history", "").startswith("^"):
            by_key[(key_of(rec)[1], key_of(rec)[0])].append(rec)
    service = collections.defaultdict(list)
    for c in conns:
        service[frozenset(key_of(c))].append(c.get("service", ""))
    used = collections.Counter()
    counts = collections.Counter()
    for stream, s in want.items():
        k = (s["client"], s["server"])
        i = used[k]
        used[k] += 1
        if not any("ssl" in svc.split(",") for svc in service.get(frozenset(k), [])):
            errors.append("stream %s %s: conn.jsonl service is not ssl (%s)" % (stream, k, service.get(frozenset(k))))
        if i >= len(by_key[k]):
            errors.append("stream %s %s: tshark sees a hello, trawl logs no ssl record" % (stream, k))
            continue
        rec = by_key[k][i]
        if s["ch"] is not None:
            counts["client_hellos"] += 1
            got_sni = rec.get("server_name", "")
            if got_sni != s["ch"]["server_name"]:
                errors.append("stream %s: server_name %r, tshark %r" % (stream, got_sni, s["ch"]["server_name"]))
            if rec.get("ja3", "") != s["ch"]["ja3"]:
                errors.append("stream %s: ja3 %s, tshark %s" % (stream, rec.get("ja3"), s["ch"]["ja3"]))
            if s["ch"]["ja4"] is not None:
                counts["ja4"] += 1
                if rec.get("ja4", "") != s["ch"]["ja4"]:
                    errors.append("stream %s: ja4 %s, from tshark's fields %s" % (stream, rec.get("ja4"), s["ch"]["ja4"]))
        if s["sh"] is not None:
            counts["server_hellos"] += 1
            sh = s["sh"]
            if rec.get("ja3s", "") != sh["ja3s"]:
                errors.append("stream %s: ja3s %s, tshark %s" % (stream, rec.get("ja3s"), sh["ja3s"]))
            if rec.get("ja4s", "") != sh["ja4s"]:
                errors.append("stream %s: ja4s %s, from tshark's fields %s" % (stream, rec.get("ja4s"), sh["ja4s"]))
            if rec.get("next_protocol") != sh["alpn"]:
                errors.append("stream %s: next_protocol %s, tshark %s" % (stream, rec.get("next_protocol"), sh["alpn"]))
            want_cipher = names["tls.handshake.ciphersuite"].get(sh["cipher"], "unknown-%d" % sh["cipher"])
            if rec.get("cipher") != want_cipher:
                errors.append("stream %s: cipher %s, tshark %s" % (stream, rec.get("cipher"), want_cipher))
            if rec.get("version") != version_name(sh["version"]):
                errors.append("stream %s: version %s, tshark %s" % (stream, rec.get("version"),
                                                                    version_name(sh["version"])))
        if s["curve"] is not None:
            counts["curves"] += 1
            groups = names["tls.handshake.extensions_supported_group"]
            want_curve = groups.get(s["curve"], "unknown-%d" % s["curve"])
            if rec.get("curve") != want_curve:
                errors.append("stream %s: curve %s, tshark %s" % (stream, rec.get("curve"), want_curve))
        for side, field in ((s["server"], "cert_chain_fps"), (s["client"], "client_cert_chain_fps")):
            ders = s["certs"].get(side, [])
            want_fps = [hashlib.sha256(bytes.fromhex(d)).hexdigest() for d in ders]
            if rec.get(field, []) != want_fps:
                errors.append("stream %s: %s %s, tshark %s" % (stream, field, rec.get(field), want_fps))
            if ders and field == "cert_chain_fps":
                counts["chains"] += 1
                names_ = cert_names(ders[0])
                if names_ and (rec.get("subject"), rec.get("issuer")) != names_:
                    errors.append("stream %s: subject/issuer %s / %s, openssl %s" %
                                  (stream, rec.get("subject"), rec.get("issuer"), names_))
    extra = sum(len(v) for v in by_key.values()) - sum(used.values())
    flipped = sum(1 for r in ssl if r.get("ssl_history", "").startswith("^"))
    if extra - flipped > 0:
        errors.append("trawl logs %d ssl records on connections without a hello in tshark" % (extra - flipped))
    sni_trawl = {r["server_name"] for r in ssl if "server_name" in r}
    sni_tshark = {s["ch"]["server_name"] for s in want.values() if s["ch"] and s["ch"]["server_name"]}
    if sni_trawl != sni_tshark:
        errors.append("server names differ: only trawl %s, only tshark %s" %
                      (sorted(sni_trawl - sni_tshark), sorted(sni_tshark - sni_trawl)))
    status = "ok  " if not errors else "FAIL"
    print("%s %s: %d connections with a hello, %d ClientHellos (%d JA4), %d ServerHellos, %d server names, "
          "%d curves, %d certificate chains, %d ssl records" %
          (status, os.path.basename(cap), len(want), counts["client_hellos"], counts["ja4"], counts["server_hellos"],
           len(sni_tshark), counts["curves"], counts["chains"], len(ssl)))
    for e in errors[:20]:
        print("    " + e)
    if len(errors) > 20:
        print("    ... %d more" % (len(errors) - 20))
    return not errors, len(want)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    trawl, caps = sys.argv[1], sys.argv[2:]
    names = value_names()
    ok = True
    total = 0
    for cap in caps:
        good, n = check(trawl, cap, names)
        ok = ok and good
        total += n
    if total == 0:
        sys.exit("no TLS hello in any capture: nothing was compared")
    print("%d TLS connections compared over %d captures" % (total, len(caps)))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

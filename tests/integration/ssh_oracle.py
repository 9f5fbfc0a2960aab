#!/usr/bin/python3
"""tshark as the oracle for ssh.jsonl and the SSH lines of auth.jsonl.

    ssh_oracle.py TRAWL CAPTURE [--min-failed-conns N] [--no-success]
                                [--expect-records N] [--expect-success N] [--port P]

For every TCP connection in which tshark sees an SSH version line, trawl's
ssh.jsonl must have one record with:
- client and server: tshark's ssh.protocol of each side;
- hassh and hasshServer: tshark's ssh.kex.hassh / ssh.kex.hasshserver;
- kex_alg, host_key_alg, cipher_alg, mac_alg, compression_alg: computed here
  from tshark's KEXINIT name-lists with the rules of Zeek's ssh/main.zeek
  (first client algorithm the server also offers; "To server: ..., to
  client: ..." when the directions differ);
- host_key: the MD5 of the server host key blob rebuilt from tshark's
  ssh.host_key.* fields (type, then e/n, p/q/g/y, curve id/Q or the EdDSA key);
- auth_attempts and auth_success: Zeek's size inference
  (src/analyzer/protocol/ssh/SSH.cc, ProcessEncrypted) re-implemented here
  over tshark's TCP segment lengths, every segment after a direction's
  NEWKEYS counting as one encrypted segment (retransmissions skipped).
auth.jsonl must hold, per connection, auth_attempts records: failures, and a
success last when auth_success is true.

--min-failed-conns N: at least N connections must end with auth_success
false (e.g. Zeek's SSH::Password_Guessing notice for sshguess.pcap fires at
10 failed connections). --no-success: no connection may succeed (the
capture's annotation says the attack failed). --expect-records N: exactly N
ssh records. --expect-success N: exactly N successful logins inferred.
--port P: tshark decodes TCP port P as SSH too (trawl needs no such hint).
"""

import argparse
import collections
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

FIELDS = [
    "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport", "tcp.len",
    "tcp.analysis.retransmission", "ssh.protocol", "ssh.message_code", "ssh.kex.hassh", "ssh.kex.hasshserver",
    "ssh.kex_algorithms", "ssh.server_host_key_algorithms",
    "ssh.encryption_algorithms_client_to_server", "ssh.encryption_algorithms_server_to_client",
    "ssh.mac_algorithms_client_to_server", "ssh.mac_algorithms_server_to_client",
    "ssh.compression_algorithms_client_to_server", "ssh.compression_algorithms_server_to_client",
    "ssh.host_key.type", "ssh.host_key.rsa.e", "ssh.host_key.rsa.n",
    "ssh.host_key.dsa.p", "ssh.host_key.dsa.q", "ssh.host_key.dsa.g", "ssh.host_key.dsa.y",
    "ssh.host_key.ecdsa.id", "ssh.host_key.ecdsa.q", "ssh.host_key.eddsa.key",
]
FAILED = "Algorithm negotiation failed"


def tshark_rows(capture, ports):
    cmd = ["tshark", "-r", capture, "-o", "tcp.desegment_tcp_streams:TRUE", "-Y", "tcp", "-T", "fields",
           "-E", "separator=\t", "-E", "aggregator=|", "-E", "occurrence=a"]
    for f in FIELDS:
        cmd += ["-e", f]
    for p in ports:
        cmd += ["-d", "tcp.port==%d,ssh" % p]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        vals = line.split("\t")
        vals += [""] * (len(FIELDS) - len(vals))
        yield dict(zip(FIELDS, vals))


def names(lst):
    return [n for n in lst.split(",") if n]


def find_alg(client, server):
    s = set(names(server))
    for c in names(client):
        if c in s:
            return c
    return FAILED


def find_bidir(c_c2s, c_s2c, s_c2s, s_s2c):
    a, b = find_alg(c_c2s, s_c2s), find_alg(c_s2c, s_s2c)
    return a if a == b else "To server: %s, to client: %s" % (a, b)


def sshstr(b):
    return struct.pack(">I", len(b)) + b


def host_key_blob(r):
    t = r["ssh.host_key.type"].split("|")[0]
    if not t:
        return None
    hx = lambda f: bytes.fromhex(r[f].split("|")[0])
    blob = sshstr(t.encode())
    if t == "ssh-rsa":
        return blob + sshstr(hx("ssh.host_key.rsa.e")) + sshstr(hx("ssh.host_key.rsa.n"))
    if t == "ssh-dss":
        return blob + b"".join(sshstr(hx("ssh.host_key.dsa." + k)) for k in "pqgy")
    if t.startswith("ecdsa-sha2-"):
        return blob + sshstr(r["ssh.host_key.ecdsa.id"].split("|")[0].encode()) + sshstr(hx("ssh.host_key.ecdsa.q"))
    if t in ("ssh-ed25519", "ssh-ed448"):
        return blob + sshstr(hx("ssh.host_key.eddsa.key"))
    return None


class Zeek:
    """Zeek's ProcessEncrypted, fed segment lengths."""

    def __init__(self):
        self.decided = False
        self.client = False
        self.banner = False
        self.accept = 0
        self.failure = 0
        self.attempts = 0
        self.success = None

    def seg(self, orig, n):
        if self.decided:
            return
        if orig:
            self.client = True
            return
        if not self.client:
            return
        if not self.accept:
            self.accept = n
        elif not self.failure and n + 16 == self.accept:
            self.win()
        elif not self.failure:
            if not self.banner and n - self.accept > 256:
                self.banner = True
            else:
                self.failure = n
        elif n == self.failure:
            self.attempts += 1
            self.success = False
        elif n - self.accept == -16:
            self.win()

    def win(self):
        self.decided = True
        self.attempts += 1
        self.success = True


def expected(capture, ports):
    conns = {}
    for r in tshark_rows(capture, ports):
        src = r["ip.src"] or r["ipv6.src"]
        dst = r["ip.dst"] or r["ipv6.dst"]
        c = conns.setdefault(r["tcp.stream"], {"first": (src, int(r["tcp.srcport"]), dst, int(r["tcp.dstport"])),
                                               "ver": {}, "kex": {}, "hassh": {}, "host_key": None,
                                               "enc": set(), "segs": []})
        side = (src, int(r["tcp.srcport"]))
        for v in r["ssh.protocol"].split("|"):
            if v.startswith("SSH-") and side not in c["ver"]:
                c["ver"][side] = v
        if r["ssh.kex_algorithms"] and side not in c["kex"]:
            c["kex"][side] = {k: r[k].split("|")[0] for k in FIELDS if "algorithms" in k}
        if r["ssh.kex.hassh"]:
            c["hassh"].setdefault(("client", side), r["ssh.kex.hassh"].split("|")[0])
        if r["ssh.kex.hasshserver"]:
            c["hassh"].setdefault(("server", side), r["ssh.kex.hasshserver"].split("|")[0])
        if c["host_key"] is None:
            blob = host_key_blob(r)
            if blob is not None:
                c["host_key"] = (side, blob)
        n = int(r["tcp.len"] or 0)
        if n and not r["tcp.analysis.retransmission"]:
            c["segs"].append((side, n, side in c["enc"]))
        if "21" in r["ssh.message_code"].split("|"):
            c["enc"].add(side)  # NEWKEYS ends its segment in these captures
    return {k: v for k, v in conns.items() if v["ver"]}


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
    ap.add_argument("--min-failed-conns", type=int, default=0)
    ap.add_argument("--no-success", action="store_true")
    ap.add_argument("--expect-records", type=int)
    ap.add_argument("--port", type=int, action="append", default=[],
                    help="also decode this TCP port as SSH in tshark (trawl finds it by content)")
    ap.add_argument("--expect-success", type=int, help="exactly this many connections inferred successful")
    a = ap.parse_args()

    conns = expected(a.capture, a.port)
    with tempfile.TemporaryDirectory() as out:
        p = subprocess.run([a.trawl, "analyze", a.capture, "-o", out, "-q", "--no-progress"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("trawl analyze failed (%d): %s" % (p.returncode, p.stderr))
        recs = [json.loads(l) for l in open(os.path.join(out, "ssh.jsonl"))] \
            if os.path.exists(os.path.join(out, "ssh.jsonl")) else []
        auth = [json.loads(l) for l in open(os.path.join(out, "auth.jsonl"))] \
            if os.path.exists(os.path.join(out, "auth.jsonl")) else []
        schema = schema_errors(out, ["ssh", "auth"])
    by_tuple = {}
    for r in recs:
        by_tuple[(r["id.orig_h"], r["id.orig_p"], r["id.resp_h"], r["id.resp_p"])] = r
    auth_by_uid = collections.defaultdict(list)
    for x in auth:
        if x["proto"] == "ssh":
            auth_by_uid[x["uid"]].append(x)

    errors = list(schema)
    checked = collections.Counter()

    def check(what, want, got, where):
        checked[what] += 1
        if want != got:
            errors.append("%s: %s: tshark/Zeek rules say %r, trawl says %r" % (where, what, want, got))

    failed_conns = 0
    successes = 0
    for stream, c in sorted(conns.items(), key=lambda kv: int(kv[0])):
        o_h, o_p, r_h, r_p = c["first"]
        # The responder is the side that is not the first packet's sender
        # (every connection here starts with a SYN).
        client, server = (o_h, o_p), (r_h, r_p)
        r = by_tuple.get((o_h, o_p, r_h, r_p))
        where = "stream %s %s:%d > %s:%d" % (stream, o_h, o_p, r_h, r_p)
        if r is None:
            errors.append("%s: no ssh.jsonl record" % where)
            continue
        check("client", c["ver"].get(client), r.get("client"), where)
        check("server", c["ver"].get(server), r.get("server"), where)
        check("hassh", c["hassh"].get(("client", client)), r.get("hassh"), where)
        check("hasshServer", c["hassh"].get(("server", server)), r.get("hasshServer"), where)
        ck, sk = c["kex"].get(client), c["kex"].get(server)
        if ck and sk:
            g = lambda k: (ck[k], sk[k])
            check("kex_alg", find_alg(*g("ssh.kex_algorithms")), r.get("kex_alg"), where)
            check("host_key_alg", find_alg(*g("ssh.server_host_key_algorithms")), r.get("host_key_alg"), where)
            for name, base in (("cipher_alg", "encryption"), ("mac_alg", "mac"), ("compression_alg", "compression")):
                c2s, s2c = "ssh.%s_algorithms_client_to_server" % base, "ssh.%s_algorithms_server_to_client" % base
                check(name, find_bidir(ck[c2s], ck[s2c], sk[c2s], sk[s2c]), r.get(name), where)
        if c["host_key"] and c["host_key"][0] == server:
            md5 = hashlib.md5(c["host_key"][1]).hexdigest()
            check("host_key", ":".join(md5[i:i + 2] for i in range(0, 32, 2)), r.get("host_key"), where)
        z = Zeek()
        for side, n, enc in c["segs"]:
            if enc:
                z.seg(side == client, n)
        check("auth_attempts", z.attempts, r.get("auth_attempts"), where)
        check("auth_success", z.success, r.get("auth_success"), where)
        outcomes = [x["outcome"] for x in auth_by_uid.get(r["uid"], [])]
        want = ["failure"] * (z.attempts - (1 if z.success else 0)) + (["success"] if z.success else [])
        check("auth.jsonl outcomes", want, outcomes, where)
        failed_conns += r.get("auth_success") is False
        successes += r.get("auth_success") is True

    if len(recs) != len(conns):
        errors.append("tshark sees SSH in %d connections, trawl wrote %d ssh records" % (len(conns), len(recs)))
    if a.expect_records is not None and len(recs) != a.expect_records:
        errors.append("expected %d ssh records, got %d" % (a.expect_records, len(recs)))
    if failed_conns < a.min_failed_conns:
        errors.append("%d connections with auth_success false, expected at least %d" % (failed_conns, a.min_failed_conns))
    if a.expect_success is not None and successes != a.expect_success:
        errors.append("%d connections inferred successful, expected %d" % (successes, a.expect_success))
    if a.no_success and successes:
        errors.append("%d connections inferred successful; the capture's attack failed" % successes)
    for e in errors[:40]:
        print("FAIL " + e)
    print("%s: %d ssh records, %d failed / %d successful logins inferred, %d auth records; checks: %s" % (
        os.path.basename(a.capture), len(recs), failed_conns, successes, sum(len(v) for v in auth_by_uid.values()),
        ", ".join("%s %d" % kv for kv in sorted(checked.items()))))
    sys.exit(1 if errors else 0)


main()

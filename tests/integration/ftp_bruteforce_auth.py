#!/usr/bin/python3
"""Zeek's ftp/bruteforce.pcap gives exactly its 30 FTP login attempts in
auth.jsonl, all failures.

    ftp_bruteforce_auth.py TRAWL CAPTURE

The 30 is not taken on trust: tshark counts the PASS commands
(`ftp.request.command == "PASS"`) and the 530 replies, per connection, and
the test requires one auth.jsonl record per PASS, on the same connection
(client port), with the user of that connection's USER command, outcome
"failure" and the reply "530 Login incorrect." that tshark shows. Without
--reveal-credentials no record carries a password; with it each carries the
PASS argument tshark shows.

Exit status: 0 pass, 1 fail.
"""

import collections
import json
import os
import subprocess
import sys
import tempfile

EXPECTED_ATTEMPTS = 30  # MANIFEST.tsv: "30 USER/PASS attempts all answered 530"


def tshark(capture, display, *fields):
    cmd = ["tshark", "-n", "-r", capture, "-Y", display, "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def trawl_auth(trawl, capture, out, reveal):
    cmd = [trawl, "analyze", capture, "-o", out, "-q", "--no-progress"] + (["--reveal-credentials"] if reveal else [])
    subprocess.run(cmd, check=True)
    with open(os.path.join(out, "auth.jsonl")) as f:
        return [json.loads(line) for line in f]


def main():
    trawl, capture = sys.argv[1], sys.argv[2]
    errors = []
    # tshark: per client port, the USER argument, the PASS arguments and the 530 replies.
    users = {int(p): a for p, a in tshark(capture, 'ftp.request.command == "USER"', "tcp.srcport", "ftp.request.arg")}
    passes = collections.defaultdict(list)
    for p, a in tshark(capture, 'ftp.request.command == "PASS"', "tcp.srcport", "ftp.request.arg"):
        passes[int(p)].append(a)
    replies = collections.Counter()
    reply_text = set()
    for p, arg in tshark(capture, "ftp.response.code == 530", "tcp.dstport", "ftp.response.arg"):
        replies[int(p)] += 1
        reply_text.add("530 " + arg)
    n_pass = sum(len(v) for v in passes.values())
    n_530 = sum(replies.values())
    print(f"tshark: {n_pass} PASS commands, {n_530} replies 530, on {len(passes)} connections")
    if n_pass != EXPECTED_ATTEMPTS or n_530 != EXPECTED_ATTEMPTS:
        errors.append(f"the capture should hold {EXPECTED_ATTEMPTS} PASS and 530s: tshark saw {n_pass} and {n_530}")
    for port, pw in passes.items():
        if replies[port] != len(pw):
            errors.append(f"port {port}: {len(pw)} PASS but {replies[port]} replies 530")

    with tempfile.TemporaryDirectory() as tmp:
        for reveal in (False, True):
            recs = [r for r in trawl_auth(trawl, capture, os.path.join(tmp, str(reveal)), reveal) if r["proto"] == "ftp"]
            tag = "with --reveal-credentials" if reveal else "default"
            print(f"trawl ({tag}): {len(recs)} ftp records in auth.jsonl, "
                  f"{sum(r['outcome'] == 'failure' for r in recs)} failures")
            if len(recs) != n_pass:
                errors.append(f"{tag}: {len(recs)} ftp login attempts in auth.jsonl, tshark has {n_pass} PASS")
            got = collections.defaultdict(list)
            for r in recs:
                got[r["id.orig_p"]].append(r)
                if r["outcome"] != "failure" or r.get("method") != "USER/PASS" or r.get("reply") not in reply_text:
                    errors.append(f"{tag}: not a failed USER/PASS attempt answered 530: {r}")
                if r["id.resp_p"] != 21:
                    errors.append(f"{tag}: wrong server port: {r}")
                if not reveal and "password" in r:
                    errors.append(f"{tag}: password present: {r}")
            for port, pw in passes.items():
                rs = got.get(port, [])
                if len(rs) != len(pw):
                    errors.append(f"{tag}: port {port}: {len(rs)} attempts, tshark {len(pw)} PASS")
                    continue
                for r, p in zip(rs, pw):
                    if r["user"] != users.get(port):
                        errors.append(f"{tag}: port {port}: user {r['user']!r}, tshark USER {users.get(port)!r}")
                    if reveal and r.get("password") != p:
                        errors.append(f"{tag}: port {port}: password {r.get('password')!r}, tshark PASS {p!r}")
            extra = set(got) - set(passes)
            if extra:
                errors.append(f"{tag}: attempts on connections without PASS: {sorted(extra)}")
    for e in errors[:30]:
        print("FAIL " + e)
    if not errors:
        print(f"ok: {n_pass} FTP login attempts, all failures, agree with tshark connection by connection")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

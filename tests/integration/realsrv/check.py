"""Checks on the capture and on trawl's output: tshark confirms every scripted
login is in the capture; auth.jsonl must list exactly the scripted attempts."""

import json
import os
import subprocess
from collections import Counter

from .lab import SERVER_IP
from .servers import PORTS

PROTOS = ("pop3", "imap", "smtp", "ftp", "http", "ssh")


# --- tshark: the capture really holds the logins ----------------------------
def tshark_fields(capture, display_filter, fields):
    argv = ["tshark", "-n", "-r", capture, "-Y", display_filter, "-T", "fields",
            "-E", "separator=\t"]
    for f in fields:
        argv += ["-e", f]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"tshark -Y {display_filter!r} failed: {p.stderr.strip()}")
    return [line.split("\t") for line in p.stdout.splitlines() if line]


def login_commands_in_capture(capture):
    """Per protocol, the number of login attempts tshark sees (commands that
    carry a password, Authorization headers, SSH connections)."""
    n = {}
    pop = tshark_fields(capture, "pop.request.command", ["pop.request.command"])
    n["pop3"] = sum(1 for (c,) in pop if c.upper() in ("PASS", "AUTH"))
    imap = tshark_fields(capture, "imap.request.command", ["imap.request.command"])
    n["imap"] = sum(1 for (c,) in imap if c.upper() in ("LOGIN", "AUTHENTICATE"))
    smtp = tshark_fields(capture, "smtp.req.command", ["smtp.req.command"])
    n["smtp"] = sum(1 for (c,) in smtp if c.upper() == "AUTH")
    ftp = tshark_fields(capture, "ftp.request.command", ["ftp.request.command"])
    n["ftp"] = sum(1 for (c,) in ftp if c.upper() == "PASS")
    n["http"] = len(tshark_fields(capture, "http.authorization", ["http.authorization"]))
    syn = tshark_fields(capture, "tcp.dstport == 22 && tcp.flags.syn == 1 && tcp.flags.ack == 0",
                        ["tcp.srcport"])
    n["ssh"] = len({s[0] for s in syn})
    return n


def check_capture(capture, attempts):
    want = Counter(a.proto for a in attempts)
    got = login_commands_in_capture(capture)
    problems = [f"{p}: tshark sees {got.get(p, 0)} login attempts in the capture, the script made {want[p]}"
                for p in PROTOS if got.get(p, 0) != want[p]]
    return got, problems


# --- trawl's auth.jsonl -------------------------------------------------------
def load_auth(outdir):
    path = os.path.join(outdir, "auth.jsonl")
    if not os.path.exists(path):
        return None
    recs = []
    with open(path) as f:
        for line in f:
            if line.strip():
                recs.append(json.loads(line))
    # Attempts in time order (stable: attempts of one connection keep their order).
    recs.sort(key=lambda r: float(r.get("ts", 0)))
    return recs


def _cell(s, width):
    s = "-" if s is None else str(s)
    return (s[:width - 1] + "~") if len(s) > width else s.ljust(width)


def compare(attempts, recs, reveal):
    """Returns (per-protocol verdicts {proto: (ok, summary)}, table lines)."""
    verdicts, lines = {}, []
    recs = recs or []
    header = (f"  {'#':>2} {'expected user':<14} {'outcome':<8} {'password':<16} | "
              f"{'got user':<14} {'outcome':<8} {'method':<18} {'password':<16}")
    for proto in PROTOS:
        exp = [a for a in attempts if a.proto == proto]
        got = [r for r in recs if r.get("proto") == proto]
        bad = 0
        rows = []
        for i in range(max(len(exp), len(got))):
            e = exp[i] if i < len(exp) else None
            g = got[i] if i < len(got) else None
            why = []
            if e is None:
                why.append("extra record")
            elif g is None:
                why.append("missing")
            else:
                if g.get("outcome") != e.expect:
                    why.append("outcome")
                if proto == "ssh":
                    if g.get("user") not in ("", None):
                        why.append("user (SSH encrypts it; must be empty)")
                elif g.get("user") != e.user:
                    why.append("user")
                if g.get("id.resp_h") != SERVER_IP:
                    why.append("server address")
                if proto == "ssh" or not reveal:
                    if "password" in g:
                        why.append("password present")
                elif g.get("password") != e.password:
                    why.append("password")
            bad += bool(why)
            shown_pw = (e.password if (reveal and proto != "ssh") else "(absent)") if e else None
            rows.append(f"  {i + 1:>2} {_cell(e.user if e else None, 14)} {_cell(e.expect if e else None, 8)} "
                        f"{_cell(shown_pw, 16)} | "
                        f"{_cell(g.get('user') if g else None, 14)} {_cell(g.get('outcome') if g else None, 8)} "
                        f"{_cell(g.get('method') if g else None, 18)} "
                        f"{_cell(g.get('password', '(absent)') if g else None, 16)}"
                        f"  {'ok' if not why else 'MISMATCH: ' + ', '.join(why)}")
        ok = bad == 0
        note = " (user and password are encrypted: outcomes only)" if proto == "ssh" else ""
        summary = f"{len(exp)} expected, {len(got)} in auth.jsonl, {bad} rows differ{note}"
        verdicts[proto] = (ok, summary)
        lines.append(f"{proto}: {'PASS' if ok else 'FAIL'}: {summary}")
        if not ok:
            lines.append(header)
            lines.extend(rows)
    others = sorted({r.get("proto", "?") for r in recs} - set(PROTOS))
    if others:
        verdicts["other"] = (False, f"records for unexpected protocols: {others}")
        lines.append(f"other: FAIL: auth.jsonl has records for protocols nobody logged in to: {others}")
    return verdicts, lines


def passwords_in_output(outdir, passwords):
    """(file, password) pairs where a password appears anywhere in the output."""
    hits = []
    for name in sorted(os.listdir(outdir)):
        path = os.path.join(outdir, name)
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        for pw in passwords:
            # JSON escapes quotes and backslashes: look for the written form too.
            forms = {pw.encode(), json.dumps(pw)[1:-1].encode()}
            if any(form in data for form in forms):
                hits.append((name, pw))
    return hits


# --- conn.jsonl and stats.json: the same connections, seen whole --------------
def check_conns(outdir, sessions):
    """Every client connection to a service port is in conn.jsonl with that
    service, and a clean capture of well-behaved software raises no anomaly."""
    problems = []
    want = Counter(s.proto for s in sessions)
    got = Counter()
    wrong = []
    by_port = {port: proto for proto, port in PORTS.items()}
    try:
        with open(os.path.join(outdir, "conn.jsonl")) as f:
            conns = [json.loads(line) for line in f if line.strip()]
    except OSError as e:
        return [f"conn.jsonl: {e}"]
    for c in conns:
        proto = by_port.get(c.get("id.resp_p"))
        if proto is None or c.get("id.resp_h") != SERVER_IP:
            continue
        got[proto] += 1
        if c.get("service") != proto:
            wrong.append(f"{c.get('uid')} port {c.get('id.resp_p')}: service {c.get('service')!r}")
    for proto in PROTOS:
        if got[proto] != want[proto]:
            problems.append(f"conn.jsonl has {got[proto]} {proto} connections, the clients made {want[proto]}")
    if wrong:
        problems.append("connections without the right service: " + "; ".join(wrong[:10]))
    try:
        with open(os.path.join(outdir, "stats.json")) as f:
            anomalies = json.load(f).get("anomalies", {})
    except (OSError, ValueError) as e:
        return problems + [f"stats.json: {e}"]
    if anomalies:
        problems.append(f"anomalies on well-formed traffic: {anomalies}")
    return problems

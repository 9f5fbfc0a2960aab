#!/usr/bin/python3
"""tshark as the oracle for trawl's ftp.jsonl, pop3.jsonl, imap.jsonl and their
login attempts in auth.jsonl.

    oracle_mail.py TRAWL [--crafted] [CAPTURE...] [--keep]

--crafted adds the captures mail_pcaps.py writes (FTP, POP3 and IMAP sessions
in the style of vsftpd, ProFTPD and Dovecot) into a temporary folder.

For every capture it runs `TRAWL analyze CAPTURE -o DIR --threads 1`, twice
(without and with --reveal-credentials), and compares connection by
connection (client address and port, server address and port) with tshark:

FTP (`tshark -Y ftp`): the commands and their arguments in order; the final
  reply codes in order (tshark's codes minus the 220 greeting and the 1xx
  preliminary replies; tshark reads only the first line of each segment, so
  the crafted captures put each reply in its own segment); file sizes of 213
  and 150 "(N bytes)" replies; the data channel of PORT, EPRT, 227 and 229
  (tshark's ftp.active.*, ftp.eprt.*, ftp.passive.*, ftp.epsv.port).
POP3 (`-Y pop`): commands (SASL responses after AUTH left out) and the
  +OK/-ERR of each, the greeting left out; for RETR, response_body_len equals
  the size the server announced ("+OK N octets").
IMAP (`-Y imap`): (tag, command) of every command (SASL responses after
  AUTHENTICATE left out; "UID" prefixed when tshark flags it) and (tag,
  status) of every tagged response.
Logins: the attempts expected from tshark's commands and replies (FTP PASS
  and refused USER, POP3 PASS and AUTH, IMAP LOGIN and AUTHENTICATE; the
  users of SASL PLAIN/LOGIN decoded here from base64) equal auth.jsonl's
  (port, method, user, outcome), in order; passwords are absent from
  auth.jsonl and from every log without --reveal-credentials (except FTP
  guest passwords in ftp.jsonl, as Zeek) and equal tshark's with it.

Exit status: 0 agree, 1 a mismatch or trawl failed, 2 usage error.
"""

import argparse
import base64
import collections
import json
import os
import posixpath
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mail_pcaps  # noqa: E402

GUESTS = {"anonymous", "ftp", "ftpuser", "guest"}
FILE_CMDS = {"APPE", "RETR", "STOR", "STOU"}
PORTS = {"ftp": 21, "pop3": 110, "imap": 143}


class Checker:
    def __init__(self, capture):
        self.capture = os.path.basename(capture)
        self.errors = []
        self.checked = collections.Counter()

    def eq(self, what, want, got):
        self.checked[what] += 1
        if want != got:
            self.errors.append(f"{self.capture}: {what}: tshark {want!r} != trawl {got!r}")

    def fail(self, msg):
        self.errors.append(f"{self.capture}: {msg}")


def tshark(capture, display, fields):
    cmd = ["tshark", "-n", "-r", capture, "-Y", display, "-T", "fields", "-E", "occurrence=a",
           "-E", "aggregator=\x1f", "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split("\t")
        parts += [""] * (4 + len(fields) - len(parts))
        rows.append(parts)
    return rows


def by_conn(rows, server_port):
    """Groups tshark rows by (client_h, client_p, server_h, server_p); marks each row from_client."""
    conns = collections.OrderedDict()
    for r in rows:
        src, sp, dst, dp = r[0], int(r[1]), r[2], int(r[3])
        from_client = dp == server_port
        key = (src, sp, dst, dp) if from_client else (dst, dp, src, sp)
        conns.setdefault(key, []).append((from_client, r[4:]))
    return conns


def run_trawl(trawl, capture, out, reveal):
    cmd = [trawl, "analyze", capture, "-o", out, "--threads", "1", "-q", "--no-progress"]
    if reveal:
        cmd.append("--reveal-credentials")
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"trawl failed ({p.returncode}): {p.stderr}")
    logs = {}
    for name in ("ftp", "pop3", "imap", "auth"):
        path = os.path.join(out, name + ".jsonl")
        logs[name] = [json.loads(l) for l in open(path)] if os.path.exists(path) else []
    return logs


def key_of(rec):
    return (rec["id.orig_h"], rec["id.orig_p"], rec["id.resp_h"], rec["id.resp_p"])


def group(records):
    g = collections.OrderedDict()
    for r in records:
        g.setdefault(key_of(r), []).append(r)
    return g


def b64(s):
    try:
        return base64.b64decode(s.strip(), validate=True)
    except Exception:
        return None


def sasl_user(mech, responses):
    """User (and password) of a PLAIN or LOGIN exchange, decoded here independently."""
    mech = mech.upper()
    dec = [b64(r) for r in responses if r.strip() not in ("*",)]
    dec = [d for d in dec if d is not None]
    if mech == "PLAIN" and dec:
        parts = dec[0].split(b"\0")
        if len(parts) == 3:
            return (parts[1] or parts[0]).decode("latin-1"), parts[2].decode("latin-1")
    if mech == "LOGIN" and len(dec) >= 2:
        return dec[0].decode("latin-1"), dec[1].decode("latin-1")
    return "", None


def login_args(request):
    """The two astrings after "tag LOGIN" (atoms or quoted strings; no literals)."""
    rest = request.split(" ", 2)[2] if request.count(" ") >= 2 else ""
    out, i = [], 0
    while i < len(rest) and len(out) < 2:
        if rest[i] == " ":
            i += 1
        elif rest[i] == '"':
            j, tok = i + 1, ""
            while j < len(rest) and rest[j] != '"':
                if rest[j] == "\\" and j + 1 < len(rest):
                    j += 1
                tok += rest[j]
                j += 1
            out.append(tok)
            i = j + 1
        else:
            j = rest.find(" ", i)
            j = len(rest) if j < 0 else j
            out.append(rest[i:j])
            i = j
    return out


def outcome_ftp(code):
    c = code // 100
    return "success" if c == 2 else "failure" if c in (4, 5) else "unknown"


# --- FTP -------------------------------------------------------------------------


def check_ftp(ck, capture, logs, logs_rev):
    rows = tshark(capture, "ftp", ["ftp.request.command", "ftp.request.arg", "ftp.response.code", "ftp.response.arg",
                                   "ftp.passive.ip", "ftp.passive.port", "ftp.epsv.port", "ftp.active.cip",
                                   "ftp.active.port", "ftp.eprt.ip", "ftp.eprt.ipv6", "ftp.eprt.port"])
    want_auth, want_pw = [], []
    trawl_conns = group(logs["ftp"])
    for key, items in by_conn(rows, PORTS["ftp"]).items():
        recs = trawl_conns.get(key, [])
        cmds, codes, sizes, channels = [], [], {}, {}
        user, pending, first_reply = "", [], True
        for from_client, f in items:
            cmd, arg, code, rarg, pip, pport, eport, acip, aport, eip, eip6, eprt_port = f
            if from_client and cmd:
                i = len(cmds)
                cmds.append((cmd.upper(), arg))
                pending.append((cmd.upper(), arg, user, i))
                if cmd.upper() == "USER":
                    user = arg
                if cmd.upper() == "PORT" and acip:
                    channels[i] = (False, acip, int(aport))
                if cmd.upper() == "EPRT" and (eip or eip6):
                    channels[i] = (False, eip or eip6, int(eprt_port))
            elif not from_client and code:
                c = int(code)
                if first_reply and c in (220, 120):
                    first_reply = c == 120
                    continue
                first_reply = False
                if not pending:
                    continue
                if c < 200:
                    if c == 150 and pending[0][0] == "RETR" and "(" in rarg and " bytes" in rarg:
                        n = "".join(ch for ch in rarg.split("(", 1)[1].split(" bytes")[0] if ch.isdigit())
                        sizes[pending[0][3]] = int(n)
                    continue
                verb, varg, vuser, i = pending.pop(0)
                codes.append(c)
                if c == 213 and verb == "SIZE":
                    sizes[i] = int(rarg.split()[0])
                if c == 227 and pip:
                    channels[i] = (True, pip, int(pport))
                if c == 229 and eport:
                    channels[i] = (True, key[2], int(eport))
                if verb == "PASS" or (verb == "USER" and c not in (331, 332)):
                    u = varg if verb == "USER" else vuser
                    want_auth.append((key[1], "USER/PASS", u, outcome_ftp(c), str(c)))
                    if verb == "PASS":
                        want_pw.append(varg)
        for verb, varg, vuser, _ in pending:  # never answered
            if verb == "PASS":
                want_auth.append((key[1], "USER/PASS", vuser, "unknown", ""))
                want_pw.append(varg)
        got_cmds = [(r["command"], r.get("arg", "")) for r in recs]
        ck.eq(f"ftp {key} command count", len(cmds), len(got_cmds))
        guest = False
        for i, ((wc, wa), (gc, ga)) in enumerate(zip(cmds, got_cmds)):
            if wc == "USER":
                guest = wa.lower() in GUESTS
            if wc == "PASS" and not guest:
                wa = "<hidden>"
            if wc in FILE_CMDS:
                # Zeek's URL form: ftp://server/<cwd>/<file>
                ok = gc == wc and ga.startswith(f"ftp://{key[2]}/") and ga.endswith("/" + posixpath.basename(wa))
                ck.eq(f"ftp {key} #{i} {wc} {wa} as url", True, ok)
                continue
            ck.eq(f"ftp {key} #{i} command", (wc, wa), (gc, ga))
        ck.eq(f"ftp {key} reply codes", codes, [r["reply_code"] for r in recs if "reply_code" in r])
        # Records come in command order, so command i is recs[i].
        for i, size in sizes.items():
            if i < len(recs):
                ck.eq(f"ftp {key} #{i} file_size", size, recs[i].get("file_size"))
        for i, ch in channels.items():
            if i < len(recs):
                r = recs[i]
                got = (r.get("data_channel.passive"), r.get("data_channel.resp_h"), r.get("data_channel.resp_p"))
                ck.eq(f"ftp {key} #{i} data channel", ch, got)
    got_auth = [(a["id.orig_p"], a["method"], a["user"], a["outcome"], a.get("reply", "").split(" ")[0])
                for a in logs["auth"] if a["proto"] == "ftp"]
    ck.eq("ftp login attempts", want_auth, got_auth)
    got_pw = [a.get("password") for a in logs_rev["auth"] if a["proto"] == "ftp" and "password" in a]
    ck.eq("ftp passwords with --reveal-credentials", want_pw, got_pw)
    return want_pw


# --- POP3 --------------------------------------------------------------------------


def check_pop3(ck, capture, logs, logs_rev):
    rows = tshark(capture, "pop", ["pop.request.command", "pop.request.parameter", "pop.response.indicator",
                                   "pop.response.description"])
    want_auth, want_pw = [], []
    trawl_conns = group(logs["pop3"])
    for key, items in by_conn(rows, PORTS["pop3"]).items():
        recs = trawl_conns.get(key, [])
        cmds, statuses, retr_sizes = [], [], {}
        greeted, sasl, pending, last_user = False, None, [], ""
        for from_client, (cmd, param, ind, desc) in items:
            if from_client and cmd:
                if sasl is not None:
                    sasl[2].append((cmd + (" " + param if param else "")))
                    continue
                verb = cmd.upper()
                shown = param
                if verb == "PASS":
                    shown = "<hidden>"
                elif verb == "APOP":
                    shown = param.split(" ")[0] + " <hidden>"
                elif verb == "AUTH" and param:
                    mech, _, ir = param.partition(" ")
                    shown = mech
                    sasl = [verb, mech, [ir] if ir else []]
                elif verb == "USER":
                    last_user = param
                cmds.append((verb, shown))
                pending.append((verb, param, last_user, sasl))
            elif not from_client and ind in ("+OK", "-ERR"):
                if not greeted and not pending:
                    greeted = True
                    continue
                greeted = True
                if not pending:
                    continue
                verb, param, user, s = pending.pop(0)
                statuses.append(ind)
                ok = "success" if ind == "+OK" else "failure"
                if verb == "RETR" and ind == "+OK" and desc.endswith(" octets"):
                    retr_sizes[len(statuses) - 1] = int(desc.split()[0])
                if verb == "PASS":
                    want_auth.append((key[1], "USER/PASS", user, ok))
                    want_pw.append(param)
                elif verb == "USER" and ind == "-ERR":
                    want_auth.append((key[1], "USER/PASS", param, ok))
                elif verb == "APOP":
                    want_auth.append((key[1], "APOP", param.split(" ")[0], ok))
                elif verb == "AUTH" and s is not None:
                    if not any(r.strip() == "*" for r in s[2]):
                        u, pw = sasl_user(s[1], s[2])
                        want_auth.append((key[1], "AUTH " + s[1].upper(), u, ok))
                        if pw is not None:
                            want_pw.append(pw)
                    sasl = None
        got = [(r["command"], r.get("arg", "")) for r in recs]
        ck.eq(f"pop3 {key} commands", cmds, got)
        ck.eq(f"pop3 {key} statuses", statuses, [r["status"] for r in recs if "status" in r])
        for idx, size in retr_sizes.items():
            if idx < len(recs):
                ck.eq(f"pop3 {key} RETR #{idx} body length = announced octets", size, recs[idx].get("response_body_len"))
    got_auth = [(a["id.orig_p"], a["method"], a["user"], a["outcome"]) for a in logs["auth"] if a["proto"] == "pop3"]
    ck.eq("pop3 login attempts", want_auth, got_auth)
    got_pw = [a.get("password") for a in logs_rev["auth"] if a["proto"] == "pop3" and "password" in a]
    ck.eq("pop3 passwords with --reveal-credentials", want_pw, got_pw)
    return want_pw


# --- IMAP --------------------------------------------------------------------------


def check_imap(ck, capture, logs, logs_rev):
    rows = tshark(capture, "imap", ["imap.isrequest", "imap.request_tag", "imap.request.command",
                                    "imap.request.command.uid", "imap.request.username", "imap.request.password",
                                    "imap.request", "imap.response_tag", "imap.response.status"])
    want_auth, want_pw = [], []
    trawl_conns = group(logs["imap"])
    unq = lambda s: s[1:-1] if len(s) >= 2 and s[0] == s[-1] == '"' else s  # noqa: E731
    for key, items in by_conn(rows, PORTS["imap"]).items():
        recs = trawl_conns.get(key, [])
        cmds, tagged, pending = [], [], {}
        sasl_tag = None
        for from_client, (isreq, tag, cmd, uid, user, pw, req, rtags, rstatus) in items:
            if from_client:
                if sasl_tag is not None:
                    pending[sasl_tag]["responses"].append(tag or req)
                    continue
                if not tag or not cmd:
                    continue
                name = cmd.upper()
                if uid in ("1", "True"):
                    name = "UID " + name
                cmds.append((tag, name))
                info = {"cmd": name, "user": unq(user), "pw": unq(pw), "responses": [], "mech": ""}
                if name == "LOGIN":
                    # tshark 4.0 drops the first and last character of an unquoted
                    # password (it assumes quotes), so take both from the line.
                    words = login_args(req)
                    if len(words) == 2:
                        info["user"], info["pw"] = words
                if name == "AUTHENTICATE":
                    words = req.split(" ")
                    info["mech"] = words[2] if len(words) > 2 else ""
                    if len(words) > 3:
                        info["responses"].append(words[3])
                    sasl_tag = tag  # client lines are SASL responses until the tagged response
                pending[tag] = info
            else:
                tags = rtags.split("\x1f") if rtags else []
                stats = rstatus.split("\x1f") if rstatus else []
                # Tagged lines are those whose tag is a pending command's; statuses
                # belong to the last tagged lines of the segment.
                known = [t for t in tags if t in pending]
                for t, st in zip(known[-len(stats):] if stats else [], stats):
                    st = st.upper()
                    tagged.append((t, st))
                    info = pending.pop(t)
                    ok = "success" if st == "OK" else "failure"
                    if info["cmd"] == "LOGIN":
                        want_auth.append((key[1], "LOGIN", info["user"], ok))
                        want_pw.append(info["pw"])
                    elif info["cmd"] == "AUTHENTICATE":
                        if not any(r.strip() == "*" for r in info["responses"]):
                            u, p = sasl_user(info["mech"], info["responses"])
                            want_auth.append((key[1], "AUTH " + info["mech"].upper(), u, ok))
                            if p is not None:
                                want_pw.append(p)
                    if t == sasl_tag:
                        sasl_tag = None
        ck.eq(f"imap {key} commands", cmds, [(r["tag"], r["command"]) for r in recs])
        ck.eq(f"imap {key} tagged responses", tagged, [(r["tag"], r["status"]) for r in recs if "status" in r])
    got_auth = [(a["id.orig_p"], a["method"], a["user"], a["outcome"]) for a in logs["auth"] if a["proto"] == "imap"]
    ck.eq("imap login attempts", want_auth, got_auth)
    got_pw = [a.get("password") for a in logs_rev["auth"] if a["proto"] == "imap" and "password" in a]
    ck.eq("imap passwords with --reveal-credentials", want_pw, got_pw)
    return want_pw


def check_no_leak(ck, out, passwords, ftp_guest_pw):
    """Without --reveal-credentials no password appears in auth.jsonl or any protocol log
    (a password equal to a user name, as in admin/admin, is not looked for)."""
    users = set()
    if os.path.exists(os.path.join(out, "auth.jsonl")):
        users = {json.loads(l)["user"] for l in open(os.path.join(out, "auth.jsonl"))}
    passwords = [p for p in passwords if p not in users]
    for name in os.listdir(out):
        if not name.endswith(".jsonl"):
            continue
        text = open(os.path.join(out, name), encoding="utf-8", errors="replace").read()
        for pw in passwords:
            if len(pw) < 4 or (name == "ftp.jsonl" and pw in ftp_guest_pw):
                continue
            ck.checked["password absent"] += 1
            if json.dumps(pw)[1:-1] in text:
                ck.fail(f"password {pw!r} appears in {name} without --reveal-credentials")
    for line in open(os.path.join(out, "auth.jsonl")) if os.path.exists(os.path.join(out, "auth.jsonl")) else []:
        if "password" in json.loads(line):
            ck.fail("auth.jsonl has a password field without --reveal-credentials")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trawl")
    ap.add_argument("captures", nargs="*")
    ap.add_argument("--crafted", action="store_true")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_intermixed_args()
    if shutil.which("tshark") is None:
        print("SKIP: tshark not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="trawl-oracle-mail-")
    failed = False
    totals = collections.Counter()
    try:
        captures = list(args.captures)
        if args.crafted:
            captures += mail_pcaps.write_all(tmp)
        if not captures:
            ap.error("no captures")
        for n, cap in enumerate(captures):
            ck = Checker(cap)
            out, out_rev = os.path.join(tmp, f"out{n}"), os.path.join(tmp, f"rev{n}")
            logs, logs_rev = run_trawl(args.trawl, cap, out, False), run_trawl(args.trawl, cap, out_rev, True)
            pw = check_ftp(ck, cap, logs, logs_rev)
            guest_pw = set()
            for r in logs["ftp"]:
                if r["command"] == "PASS" and r.get("user", "").lower() in GUESTS:
                    guest_pw.add(r.get("arg", ""))
            pw += check_pop3(ck, cap, logs, logs_rev)
            pw += check_imap(ck, cap, logs, logs_rev)
            check_no_leak(ck, out, [p for p in pw if p], guest_pw)
            counts = {k: len(v) for k, v in logs.items()}
            print(f"{'FAIL' if ck.errors else 'ok  '} {os.path.basename(cap)}: ftp {counts['ftp']}, pop3 {counts['pop3']}, "
                  f"imap {counts['imap']}, auth {counts['auth']} records; {sum(ck.checked.values())} comparisons")
            for e in ck.errors[:40]:
                print("    " + e)
            failed |= bool(ck.errors)
            totals.update(counts)
            totals["comparisons"] += sum(ck.checked.values())
        if sum(totals[k] for k in ("ftp", "pop3", "imap")) == 0:
            print("FAIL: no ftp/pop3/imap records at all: nothing was compared")
            failed = True
        print(f"total: {dict(totals)}")
    finally:
        if args.keep:
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The scripted logins: real clients (curl, swaks, sshpass+ssh, Python's
poplib/imaplib/ftplib/smtplib) run in the client namespace in a fixed order.
Each session is one client run, one TCP connection, one or more attempts;
the client's own exit status (or answer) must agree with the expected outcome,
so the test knows the server really accepted or rejected each login."""

import json
import os
import subprocess
import time
from dataclasses import dataclass, field

from .lab import SERVER_IP
from .servers import GOOD_PASS, GOOD_USER, UNKNOWN_USER, PORTS

CLIENT_TIMEOUT = 25      # seconds per client run (each client has its own shorter limit)
PYCLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyclient.py")


@dataclass
class Attempt:
    proto: str
    method: str          # what the client sent (informational; not compared)
    user: str
    password: str
    expect: str          # "success" or "failure"


@dataclass
class Session:
    proto: str
    tool: str
    argv: list
    attempts: list
    check: object                    # fn(CompletedProcess, Session) -> error text or ""
    result: str = ""                 # filled by run(): "" if the client agreed
    detail: str = field(default="", repr=False)


def _rc_check(ok_rc, fail_rc, fail_text=""):
    def check(p, s):
        want = ok_rc if s.attempts[0].expect == "success" else fail_rc
        if p.returncode != want:
            return f"exit status {p.returncode}, expected {want}"
        if s.attempts[0].expect == "failure" and fail_text and fail_text not in p.stderr:
            return f"exit status {p.returncode} but stderr lacks {fail_text!r}"
        return ""
    return check


def _py_check(p, s):
    if p.returncode != 0:
        return f"exit status {p.returncode}"
    try:
        got = json.loads(p.stdout)
    except ValueError:
        return f"unreadable answer {p.stdout!r}"
    want = [a.expect for a in s.attempts]
    return "" if got == want else f"server answered {got}, expected {want}"


def _body_check(body):
    def check(p, s):
        if p.returncode != 0:
            return f"exit status {p.returncode}, expected 0"
        return "" if body in p.stdout else f"body {p.stdout[:60]!r} lacks {body!r}"
    return check


def curl(url, user=None, password=None, extra=()):
    argv = ["curl", "-q", "-sS", "--max-time", "10", "--connect-timeout", "5"]
    argv += list(extra)
    if user is not None:
        argv += ["-u", f"{user}:{password}"]
    return argv + [url]


def swaks(mech, user, password):
    return ["swaks", "--server", SERVER_IP, "--port", str(PORTS["smtp"]),
            "--helo", "client.trawl.test", "--from", "trawlalice@trawl.test",
            "--auth", mech, "--auth-user", user, "--auth-password", password,
            "--quit-after", "AUTH", "--timeout", "10"]


def ssh(user, password):
    return ["sshpass", "-p", password, "ssh", "-F", "/dev/null",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password",
            "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=10",
            "-o", "LogLevel=ERROR", "-o", "BatchMode=no",
            f"{user}@{SERVER_IP}", "true"]


def py(proto, pairs):
    argv = ["/usr/bin/python3", PYCLIENT, proto, SERVER_IP]
    for user, password in pairs:
        argv += [user, password]
    return argv


def scenario():
    """The fixed list of sessions. Every wrong password is unique, so a
    password reported on the wrong attempt is caught."""
    G, U = GOOD_USER, UNKNOWN_USER
    S = []

    def one(proto, tool, method, user, password, expect, argv, check):
        S.append(Session(proto, tool, argv, [Attempt(proto, method, user, password, expect)], check))

    def multi(proto, method, triples):
        attempts = [Attempt(proto, method, u, p, e) for u, p, e in triples]
        S.append(Session(proto, "python", py(proto, [(u, p) for u, p, _ in triples]),
                         attempts, _py_check))

    # POP3: curl uses SASL (AUTH PLAIN, AUTH LOGIN) because dovecot offers it;
    # poplib sends USER/PASS, three tries on one connection.
    pop = f"pop3://{SERVER_IP}/"
    c67 = _rc_check(0, 67)
    one("pop3", "curl", "AUTH PLAIN", G, "bad-pop3-1", "failure", curl(pop, G, "bad-pop3-1"), c67)
    one("pop3", "curl", "AUTH PLAIN", U, "guess-pop3-2", "failure", curl(pop, U, "guess-pop3-2"), c67)
    one("pop3", "curl", "AUTH PLAIN", G, GOOD_PASS, "success", curl(pop, G, GOOD_PASS), c67)
    login = ["--login-options", "AUTH=LOGIN"]
    one("pop3", "curl", "AUTH LOGIN", G, "bad-pop3-4", "failure", curl(pop, G, "bad-pop3-4", login), c67)
    one("pop3", "curl", "AUTH LOGIN", G, GOOD_PASS, "success", curl(pop, G, GOOD_PASS, login), c67)
    multi("pop3", "USER/PASS", [(G, "bad-pop3-6", "failure"), (U, "guess-pop3-7", "failure"),
                                (G, GOOD_PASS, "success")])

    # IMAP: curl AUTHENTICATE PLAIN / LOGIN; imaplib sends the LOGIN command.
    imap = f"imap://{SERVER_IP}/"
    one("imap", "curl", "AUTHENTICATE PLAIN", G, "bad-imap-1", "failure", curl(imap, G, "bad-imap-1"), c67)
    one("imap", "curl", "AUTHENTICATE PLAIN", U, "guess-imap-2", "failure", curl(imap, U, "guess-imap-2"), c67)
    one("imap", "curl", "AUTHENTICATE PLAIN", G, GOOD_PASS, "success", curl(imap, G, GOOD_PASS), c67)
    one("imap", "curl", "AUTHENTICATE LOGIN", G, "bad-imap-4", "failure", curl(imap, G, "bad-imap-4", login), c67)
    one("imap", "curl", "AUTHENTICATE LOGIN", G, GOOD_PASS, "success", curl(imap, G, GOOD_PASS, login), c67)
    multi("imap", "LOGIN", [(G, "bad-imap-6", "failure"), (U, "guess-imap-7", "failure"),
                            (G, GOOD_PASS, "success")])

    # SMTP (postfix, SASL through dovecot): swaks AUTH PLAIN (initial response)
    # and AUTH LOGIN; smtplib AUTH LOGIN twice on one connection.
    s28 = _rc_check(0, 28)
    one("smtp", "swaks", "AUTH PLAIN", G, "bad-smtp-1", "failure", swaks("PLAIN", G, "bad-smtp-1"), s28)
    one("smtp", "swaks", "AUTH PLAIN", U, "guess-smtp-2", "failure", swaks("PLAIN", U, "guess-smtp-2"), s28)
    one("smtp", "swaks", "AUTH PLAIN", G, GOOD_PASS, "success", swaks("PLAIN", G, GOOD_PASS), s28)
    one("smtp", "swaks", "AUTH LOGIN", G, "bad-smtp-4", "failure", swaks("LOGIN", G, "bad-smtp-4"), s28)
    one("smtp", "swaks", "AUTH LOGIN", G, GOOD_PASS, "success", swaks("LOGIN", G, GOOD_PASS), s28)
    multi("smtp", "AUTH LOGIN", [(G, "bad-smtp-6", "failure"), (G, GOOD_PASS, "success")])

    # FTP (vsftpd, PAM): curl USER/PASS, then ftplib with three tries on one connection.
    ftp = f"ftp://{SERVER_IP}/"
    one("ftp", "curl", "USER/PASS", G, "bad-ftp-1", "failure", curl(ftp, G, "bad-ftp-1"), c67)
    one("ftp", "curl", "USER/PASS", U, "guess-ftp-2", "failure", curl(ftp, U, "guess-ftp-2"), c67)
    one("ftp", "curl", "USER/PASS", G, GOOD_PASS, "success", curl(ftp, G, GOOD_PASS), c67)
    multi("ftp", "USER/PASS", [(G, "bad-ftp-4", "failure"), (U, "guess-ftp-5", "failure"),
                               (G, GOOD_PASS, "success")])

    # HTTP (nginx): an open page without credentials (no login attempt), then
    # Basic auth on /private/. The first wrong password has a quote and a
    # backslash (JSON escaping).
    S.append(Session("http", "curl", curl(f"http://{SERVER_IP}/", extra=["--fail"]), [],
                     _body_check("open")))
    priv = f"http://{SERVER_IP}/private/"
    h22 = _rc_check(0, 22, "401")
    bad_http = 'bad"http\\1'
    one("http", "curl", "basic", G, bad_http, "failure", curl(priv, G, bad_http, ["--fail"]), h22)
    one("http", "curl", "basic", U, "guess-http-2", "failure", curl(priv, U, "guess-http-2", ["--fail"]), h22)
    one("http", "curl", "basic", G, GOOD_PASS, "success", curl(priv, G, GOOD_PASS, ["--fail"]),
        _body_check("private"))

    # SSH (OpenSSH): one password try per connection. The user name and the
    # password are encrypted; only the outcome can be inferred.
    f255 = _rc_check(0, 255, "Permission denied")
    one("ssh", "ssh", "password", G, "bad-ssh-1", "failure", ssh(G, "bad-ssh-1"), f255)
    one("ssh", "ssh", "password", U, "guess-ssh-2", "failure", ssh(U, "guess-ssh-2"), f255)
    one("ssh", "ssh", "password", G, GOOD_PASS, "success", ssh(G, GOOD_PASS), f255)
    return S


def run_sessions(lab, sessions, home, budget):
    """Runs every session in order within `budget` seconds (so a hung server
    cannot push the test past CTest's timeout, which would skip the teardown);
    returns the list of client disagreements."""
    os.makedirs(home, exist_ok=True)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": home, "LANG": "C", "LC_ALL": "C"}
    deadline = time.monotonic() + budget
    problems = []
    for i, s in enumerate(sessions, 1):
        limit = min(CLIENT_TIMEOUT, deadline - time.monotonic())
        if limit <= 1:
            s.result = f"not run: the clients' {budget:.0f} s budget is spent"
        else:
            try:
                p = subprocess.run(lab.cli(s.argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, text=True, env=env, timeout=limit)
                s.result = s.check(p, s)
                s.detail = (p.stdout[-300:] + p.stderr[-300:]).strip()
            except subprocess.TimeoutExpired:
                s.result = f"no answer within {limit:.0f} s"
        if s.result:
            who = ", ".join(f"{a.user}/{a.expect}" for a in s.attempts) or "no login"
            problems.append(f"session {i} ({s.proto} via {s.tool}: {who}): {s.result}\n"
                            f"    {s.detail}")
    return problems


def expected_attempts(sessions):
    out = []
    for s in sessions:
        out.extend(s.attempts)
    return out

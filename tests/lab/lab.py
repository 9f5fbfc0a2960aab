#!/usr/bin/python3
"""The attack lab: real attack tools against real servers in private network
namespaces, each scenario captured with tcpdump and checked against the
findings `trawl analyze` reports for it.

The network is the one tests/integration/realsrv builds (two namespaces
joined by a veth pair, no route out), with more addresses and a few
prefix routes on top:

  client namespace ("attacker" / infected host)
    192.0.2.20/24      the outside attacker (scans, password guessing)
    10.1.0.20/24       an internal host (sweeps, beacon, DNS, mail, 445 sweep)
    routes 10.2.0.0/24, 10.3.0.0/24, 203.0.113.0/24 via 10.1.0.10
  server namespace (victims and servers)
    192.0.2.10/24      dovecot, postfix, vsftpd, nginx, sshd, dnsmasq
    10.1.0.10/24       dnsmasq (the internal resolver); also the "gateway"
    10.1.0.30-45       more hosts on the LAN (answer ARP)
    10.2.0.1-40/32     on lo: the 445-sweep targets (closed port: RST)
    10.3.0.1-24/32     on lo: the ICMP-sweep targets
    203.0.113.50/32    on lo: the beacon's "C2" nginx

Every scenario runs with tcpdump capturing the server end of the veth pair
into OUTDIR/<scenario>.pcap; `trawl analyze` then writes OUTDIR/<scenario>/
and the script compares findings.jsonl with the table SCENARIOS below:
every expected (id, actor) must be there; any other finding above `low`
is a false alarm. At the end: recall (expected found / expected) and the
number of false alarms, also in OUTDIR/results.json.

usage: lab.py TRAWL OUTDIR [--quick] [--only NAME,...] [--list] [--keep]
Exit 0 all expected found and no false alarm, 1 otherwise (or the lab
failed), 77 skipped (not root, or no `ip netns`). See tests/lab/README.md.
"""

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from auth_real_servers import run_trawl  # noqa: E402
from realsrv import servers as servers_mod  # noqa: E402
from realsrv.lab import CLIENT_IP, SERVER_IP, Lab, LabError, NetnsUnavailable, run  # noqa: E402
from realsrv.servers import GOOD_PASS, GOOD_USER, Servers, missing_prerequisites  # noqa: E402

SKIP = 77

# --- addresses (see the module docstring) ----------------------------------
ATTACKER_EXT = CLIENT_IP            # 192.0.2.20
TARGET_EXT = SERVER_IP              # 192.0.2.10
HOST_INT = "10.1.0.20"              # the internal host that misbehaves
GW_INT = "10.1.0.10"                # server namespace on the LAN; the resolver
LAN_HOSTS = [f"10.1.0.{i}" for i in range(30, 46)]
SMB_TARGETS = [f"10.2.0.{i}" for i in range(1, 41)]
SWEEP_TARGETS = [f"10.3.0.{i}" for i in range(1, 25)]
C2_IP = "203.0.113.50"
ROUTED = ("10.2.0.0/24", "10.3.0.0/24", "203.0.113.0/24")

# Debian packages of the tools the scenarios run (the servers come from
# realsrv.servers.missing_prerequisites).
TOOLS = {"nmap": "nmap", "hydra": "hydra", "dnsmasq": "dnsmasq-base", "swaks": "swaks",
         "curl": "curl", "dig": "bind9-dnsutils", "tcpdump": "tcpdump", "ss": "iproute2"}

WRONG_PASSWORDS = ["123456", "password", "qwerty", "letmein", "admin", "welcome", "monkey",
                   "dragon", "111111", "abc123", "iloveyou", "sunshine", "princess",
                   "football", "master", "shadow", "baseball", "superman", "trustno1",
                   "hello123", "freedom", "whatever", "qazwsx", "ninja", "mustang",
                   "access", "batman", "michael", "654321", "starwars"]
GOOD_AT = 25    # the right password comes after this many wrong ones

SCENARIO_BUDGET = 150.0   # seconds any one tool run may take before it is killed
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


class Terminated(Exception):
    pass


def on_signal(signum, _frame):
    raise Terminated(f"signal {signum}")


def log(msg):
    try:
        print(msg, flush=True)
    except OSError:
        pass


# --- the scenarios ---------------------------------------------------------
def _nmap_ports(quick):
    # Quick: 150 ports, still well past trawl's scan.min_ports (20) and
    # scan.large_ports (100), and all the open ones.
    return "1-150" if quick else "1-1024"


# (name, servers needed, expected [(id, actor)], allowed ids, in --quick,
#  what it does). The function that runs a scenario is FUNCS[name]. An actor
# "a|b" is met by either. "Allowed" ids are ones a correct trawl may also
# report for this traffic (not required, not counted as false alarms); each
# is explained in README.md.
SCENARIOS = [
    ("nmap_sn_arp", [], [("sweep.arp", HOST_INT)], [], False,
     "nmap -sn over 10.1.0.0/26 from the LAN host: ARP requests, 17 hosts answer"),
    ("nmap_sn_icmp", [], [("sweep.icmp", HOST_INT)], ["scan.tcp_ack", "scan.tcp_syn"], False,
     "nmap -sn over routed 10.3.0.0/26: echo, timestamp, SYN 443, ACK 80 per address; 24 up"),
    ("nmap_sT", ["all"], [("scan.tcp_connect", ATTACKER_EXT)], [], True,
     "nmap -sT on 192.0.2.10 (ports 21,22,25,80,110,143 open)"),
    ("nmap_sS", ["all"], [("scan.tcp_syn", ATTACKER_EXT)], [], True,
     "nmap -sS on 192.0.2.10"),
    ("nmap_sF", ["all"], [("scan.tcp_fin", ATTACKER_EXT)], [], False,
     "nmap -sF on 192.0.2.10"),
    ("nmap_sN", ["all"], [("scan.tcp_null", ATTACKER_EXT)], [], False,
     "nmap -sN on 192.0.2.10"),
    ("nmap_sX", ["all"], [("scan.tcp_xmas", ATTACKER_EXT)], [], False,
     "nmap -sX on 192.0.2.10"),
    ("nmap_sA", ["all"], [("scan.tcp_ack", ATTACKER_EXT)], [], False,
     "nmap -sA on 192.0.2.10"),
    ("nmap_sU", ["dns"], [("scan.udp", ATTACKER_EXT)], [], False,
     "nmap -sU on 192.0.2.10 (udp/53 open: dnsmasq; ICMP rate limit off)"),
    ("hydra_pop3", ["dovecot"], [("bruteforce.pop3", ATTACKER_EXT),
                                 ("bruteforce.success", ATTACKER_EXT)], [], False,
     "hydra pop3, 25 wrong passwords, the right one, 5 wrong"),
    ("hydra_imap", ["dovecot"], [("bruteforce.imap", ATTACKER_EXT),
                                 ("bruteforce.success", ATTACKER_EXT)], [], False,
     "hydra imap, 25 wrong passwords, the right one, 5 wrong"),
    ("hydra_smtp", ["dovecot", "postfix"], [("bruteforce.smtp", ATTACKER_EXT),
                                            ("bruteforce.success", ATTACKER_EXT)], [], False,
     "hydra smtp (AUTH LOGIN through postfix and dovecot SASL)"),
    ("hydra_ftp", ["vsftpd"], [("bruteforce.ftp", ATTACKER_EXT),
                               ("bruteforce.success", ATTACKER_EXT)], [], True,
     "hydra ftp against vsftpd"),
    ("hydra_ftp_nosuccess", ["vsftpd"], [("bruteforce.ftp", ATTACKER_EXT)], [], False,
     "hydra ftp, the 30 wrong passwords only (bruteforce.success would be a false alarm)"),
    ("hydra_ssh", ["sshd"], [("bruteforce.ssh", ATTACKER_EXT),
                             ("bruteforce.success", ATTACKER_EXT)], [], False,
     "hydra ssh against OpenSSH"),
    ("hydra_http", ["nginx"], [("bruteforce.http", ATTACKER_EXT),
                               ("bruteforce.success", ATTACKER_EXT)], [], False,
     "hydra http-get /private/ (Basic auth) against nginx"),
    ("beacon", ["c2"], [("beacon", HOST_INT)], ["http.repeated_uri"], True,
     "curl from 10.1.0.20 to http://203.0.113.50/ every 1.5 s +- 0.2 s, 40 times (quick: 20)"),
    ("dns_dga", ["dns"], [("dns.dga", HOST_INT)], [], False,
     "dig: 200 random-looking names under .com/.net/.org/.info/.biz/.ru, all NXDOMAIN"),
    ("dns_tunnel", ["dns"], [("dns.tunnel", HOST_INT)], [], False,
     "dig: 200 TXT queries <60 hex>.<30 hex>.<seq>.t.exfil-lab.test (NXDOMAIN)"),
    ("mass_mail", ["dovecot", "postfix"], [("mail.mass_mailing", f"{GOOD_USER}|{HOST_INT}")], [],
     False,
     "swaks from 10.1.0.20: 40 messages, 5 recipients each in other domains, via postfix"),
    ("mass_mail_relay", ["relay"], [("mail.mass_mailing", HOST_INT)], [], False,
     "swaks from 10.1.0.20 with no AUTH (postfix relays for 10.1.0.0/24): 40 messages, 5 "
     "recipients each"),
    ("smb_sweep", [], [("worm.smb_scan", HOST_INT)], ["scan.tcp_syn", "scan.tcp_connect"], False,
     "nmap -sT -Pn -p445 over routed 10.2.0.1-80 (40 answer RST, 40 silent)"),
]


# --- network ---------------------------------------------------------------
def build_network(lab):
    """The extra addresses and routes on top of Lab.up()'s veth pair."""
    srv, cli = lab.srv, lab.cli
    run(cli(["ip", "addr", "add", f"{HOST_INT}/24", "dev", lab.cli_if]))
    run(srv(["ip", "addr", "add", f"{GW_INT}/24", "dev", lab.srv_if]))
    for a in LAN_HOSTS:
        run(srv(["ip", "addr", "add", f"{a}/24", "dev", lab.srv_if]))
    for a in SMB_TARGETS + SWEEP_TARGETS + [C2_IP]:
        run(srv(["ip", "addr", "add", f"{a}/32", "dev", "lo"]))
    for prefix in ROUTED:
        run(cli(["ip", "route", "add", prefix, "via", GW_INT, "src", HOST_INT]))
    # Closed UDP ports answer at once (nmap -sU); per-namespace setting.
    run(srv(["sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0"]))
    routes = run(cli(["ip", "-4", "route", "show", "default"])).stdout.strip()
    if routes:
        raise LabError(f"client namespace unexpectedly has a default route: {routes}")


def wait_listening_on(lab, name, p, addr, port, proto="t", timeout=20.0):
    """Like Lab.wait_listening, for one address (several servers share a port)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lab.check_alive(name, p)
        flag = "-Hltn" if proto == "t" else "-Hlun"
        out = run(lab.srv(["ss", flag, f"src {addr}:{port}"]), check=False).stdout
        if out.strip():
            return
        time.sleep(0.1)
    raise LabError(f"{name} is not listening on {addr}:{port} after {timeout:.0f} s:\n"
                   f"{lab.log_tail(name)}")


class LabServers:
    """Starts, once each, the servers the chosen scenarios need: the
    realsrv.Servers ones, a second nginx as the "C2" and dnsmasq."""

    def __init__(self, lab, work):
        self.lab = lab
        self.work = work
        self.main = Servers(lab, os.path.join(work, "srv"))
        self.started = set()

    def need(self, names):
        order = ["accounts", "dovecot", "postfix", "relay", "vsftpd", "nginx", "sshd", "c2", "dns"]
        want = set()
        for n in names:
            if n == "all":
                want |= {"dovecot", "postfix", "vsftpd", "nginx", "sshd"}
            else:
                want.add(n)
        if want & {"vsftpd", "sshd"}:
            want.add("accounts")
        if "relay" in want:
            want.add("postfix")
        if "postfix" in want:
            want.add("dovecot")    # SMTP AUTH goes through dovecot's SASL socket
        for n in order:
            if n in want and n not in self.started:
                t0 = time.monotonic()
                getattr(self, "_start_" + n)()
                self.started.add(n)
                log(f"    started {n} ({time.monotonic() - t0:.1f} s)")

    def _start_accounts(self):
        self.main.make_accounts()

    def _start_dovecot(self):
        self.main.start_dovecot()

    def _start_postfix(self):
        self.main.start_postfix()

    def _start_relay(self):
        """postfix also relays, without AUTH, for the internal LAN (the spam bot
        of mass_mail_relay); the outside attacker still has to log in. Edits the
        lab's own main.cf and has the master reread it (SIGHUP)."""
        conf = self.main.path("postfix", "conf")
        run(self.lab.srv(["postconf", "-c", conf, "-e", "mynetworks = 127.0.0.0/8 10.1.0.0/24",
                          "smtpd_relay_restrictions = permit_mynetworks, "
                          "permit_sasl_authenticated, reject_unauth_destination"]))
        p = self.main.procs["postfix"]
        self.lab.check_alive("postfix", p)
        os.kill(p.pid, signal.SIGHUP)
        # smtpd processes already running keep the old settings until they
        # exit: probe (before the capture starts) until a relay is accepted.
        probe = ["swaks", "--server", TARGET_EXT, "--port", "25", "--local-interface", HOST_INT,
                 "--from", "probe@trawl.test", "--to", "probe@example.com",
                 "--quit-after", "RCPT", "--timeout", "5"]
        for _ in range(20):
            time.sleep(1.0)
            self.lab.check_alive("postfix", p)
            if run(self.lab.cli(probe), check=False, timeout=15).returncode == 0:
                return
        raise LabError("postfix does not relay for 10.1.0.0/24 after its reload")

    def _start_vsftpd(self):
        self.main.start_vsftpd()

    def _start_nginx(self):
        self.main.start_nginx()
        wait_listening_on(self.lab, "nginx", self.main.procs["nginx"], TARGET_EXT, 80)

    def _start_sshd(self):
        self.main.start_sshd()

    def _start_c2(self):
        # realsrv's nginx, with its listen address switched to the C2's for
        # the length of the call (servers.py takes it from its module global).
        c2 = Servers(self.lab, os.path.join(self.work, "c2"))
        saved = servers_mod.SERVER_IP
        servers_mod.SERVER_IP = C2_IP
        try:
            c2.start_nginx()
        finally:
            servers_mod.SERVER_IP = saved
        wait_listening_on(self.lab, "nginx", c2.procs["nginx"], C2_IP, 80)
        self.c2 = c2

    def _start_dns(self):
        d = os.path.join(self.work, "dnsmasq")
        os.makedirs(d, exist_ok=True)
        # Answers NXDOMAIN for everything under these TLDs, from nothing:
        # no upstream, no /etc/hosts, no /etc/dnsmasq.conf.
        zones = "/com/net/org/info/biz/ru/test/"
        argv = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--no-poll", "--pid-file=", "--user=nobody", "--group=nogroup",
                "--bind-interfaces", f"--listen-address={GW_INT},{TARGET_EXT}",
                "--port=53", f"--local={zones}", "--no-negcache", "--log-queries",
                f"--log-facility={d}/dnsmasq.log"]
        p = self.lab.start("dnsmasq", self.lab.srv(argv))
        wait_listening_on(self.lab, "dnsmasq", p, GW_INT, 53, proto="u")
        self.dns = p

    def check_alive(self):
        self.main.check_all_alive()


# --- capture ---------------------------------------------------------------
def start_capture(lab, name, path):
    """tcpdump on the server end of the veth pair (sees both directions and ARP)."""
    logname = f"tcpdump-{name}"
    # A 32 MiB kernel buffer and no --immediate-mode: the machine may be busy
    # (builds), and nmap sends fast; drops are reported, not hidden.
    p = lab.start(logname, lab.srv(["tcpdump", "-i", lab.srv_if, "-w", path, "-n",
                                    "-B", "32768", "-Z", "root"]))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        lab.check_alive(logname, p)
        if "listening on" in lab.log_tail(logname):
            return p
        time.sleep(0.05)
    raise LabError(f"tcpdump did not start capturing:\n{lab.log_tail(logname)}")


def stop_capture(lab, name, p):
    """Stops tcpdump; returns the number of packets the kernel dropped."""
    Lab.stop_process(p, signal.SIGINT)
    for line in lab.log_tail(f"tcpdump-{name}").splitlines():
        if "dropped by kernel" in line:
            try:
                return int(line.split()[0])
            except ValueError:
                return -1
    return -1


# --- tool runs -------------------------------------------------------------
def tool(lab, argv, ns="cli", timeout=SCENARIO_BUDGET, cwd=None, ok=(0,)):
    """Runs one attack tool to completion in a namespace (bounded by timeout)."""
    full = lab.cli(argv) if ns == "cli" else lab.srv(argv)
    p = run(full, check=False, timeout=timeout, cwd=cwd)
    if p.returncode not in ok:
        raise LabError(f"{' '.join(argv)} exited {p.returncode}: "
                       f"{(p.stderr or p.stdout).strip()[-600:]}")
    return p


def nmap(lab, args):
    # --max-rate keeps tcpdump from dropping on a busy machine; the scans still
    # take seconds.
    base = ["nmap", "-n", "-T4", "--max-retries", "1", "--max-rate", "400",
            "--host-timeout", "60s"]
    return tool(lab, base + args)


def s_nmap_sn_arp(ctx):
    nmap(ctx.lab, ["-sn", "10.1.0.0/26"])


def s_nmap_sn_icmp(ctx):
    nmap(ctx.lab, ["-sn", "10.3.0.0/26"])


def _port_scan(flag):
    def fn(ctx):
        nmap(ctx.lab, ["-Pn", flag, "-p", _nmap_ports(ctx.quick), TARGET_EXT])
    return fn


def _wordlist(ctx, with_good):
    path = os.path.join(ctx.work, "passwords-good.txt" if with_good else "passwords-bad.txt")
    # The right password is the 26th of 31, not the last: hydra 9.4 sometimes
    # loses the answer to its very last try (seen with http-get). hydra stops
    # trying a login once it has its password, and its 4 tasks run in
    # parallel, so about 22-25 failures come before the success.
    words = (WRONG_PASSWORDS[:GOOD_AT] + ([GOOD_PASS] if with_good else [])
             + WRONG_PASSWORDS[GOOD_AT:])
    with open(path, "w") as f:
        f.write("\n".join(words) + "\n")
    return path


def _hydra(service, with_good=True, tasks=4):
    def fn(ctx):
        words = _wordlist(ctx, with_good)
        # No -f: hydra goes on to the end of the list and waits for every
        # answer, so no late answer spills into the next scenario's capture.
        argv = ["hydra", "-I", "-l", GOOD_USER, "-P", words, "-t", str(tasks), "-w", "10"]
        if service == "http":
            argv += [TARGET_EXT, "http-get", "/private/"]
        else:
            argv += [f"{service}://{TARGET_EXT}"]
        hd = os.path.join(ctx.work, "hydra")
        os.makedirs(hd, exist_ok=True)
        p = tool(ctx.lab, argv, cwd=hd, ok=(0, 255))
        found = "1 valid password found" in p.stdout
        if found != with_good:
            raise LabError(f"hydra {service}: valid password found={found}, expected {with_good}:"
                           f"\n{p.stdout.strip()[-800:]}\n{p.stderr.strip()[-400:]}")
    return fn


def s_beacon(ctx):
    rng = random.Random(4242)
    # Quick: fewer requests, same rhythm (trawl's beacon.min_period_s is 1 s,
    # so a 1.0 s period would sit on the boundary).
    n, period, jitter = (20 if ctx.quick else 40), 1.5, 0.2
    url = f"http://{C2_IP}/"
    argv = ["curl", "-q", "-sS", "-o", "/dev/null", "--max-time", "5",
            "-A", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", url]
    t_next = time.monotonic()
    failures = 0
    for _ in range(n):      # n requests, each bounded by curl's --max-time
        p = run(ctx.lab.cli(argv), check=False, timeout=15)
        failures += p.returncode != 0
        t_next += period + rng.uniform(-jitter, jitter)
        time.sleep(max(0.0, t_next - time.monotonic()))
    if failures:
        raise LabError(f"beacon: {failures} of {n} curl requests failed")


def _dig_batch(ctx, lines, name):
    path = os.path.join(ctx.work, f"{name}.dig")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    # One dig process for the whole storm; every query bounded by +time/+tries.
    tool(ctx.lab, ["dig", f"@{GW_INT}", "+tries=1", "+time=2", "+noall", "+comments",
                   "-f", path])


def s_dns_dga(ctx):
    rng = random.Random(1717)
    letters = "abcdefghijklmnopqrstuvwxyz"
    tlds = ["com", "net", "org", "info", "biz", "ru"]
    names = []
    for _ in range(200):
        n = rng.randint(10, 18)
        names.append("".join(rng.choice(letters) for _ in range(n)) + "." + rng.choice(tlds))
    _dig_batch(ctx, [f"{q} A" for q in names], "dga")


def s_dns_tunnel(ctx):
    rng = random.Random(2323)
    lines = []
    for i in range(200):
        a = "".join(rng.choice("0123456789abcdef") for _ in range(60))
        b = "".join(rng.choice("0123456789abcdef") for _ in range(30))
        lines.append(f"{a}.{b}.{i:04x}.t.exfil-lab.test TXT")
    _dig_batch(ctx, lines, "tunnel")


def s_mass_mail(ctx, auth=True):
    rng = random.Random(99 if auth else 98)
    domains = ["example.com", "example.net", "example.org", "mail.example.com",
               "corp.example.net", "shop.example.org"]
    batch = []
    for i in range(40):     # 40 messages, one swaks run each (bounded by its timeout)
        rcpts = ",".join(f"user{rng.randint(1000, 9999)}@{rng.choice(domains)}"
                         for _ in range(5))
        argv = ["swaks", "--server", TARGET_EXT, "--port", "25",
                "--local-interface", HOST_INT, "--helo", "pc20.corp.example",
                "--from", f"{GOOD_USER}@trawl.test", "--to", rcpts]
        if auth:
            argv += ["--auth", "PLAIN", "--auth-user", GOOD_USER, "--auth-password", GOOD_PASS]
        argv += ["--header", f"Subject: Invoice {i:04d} overdue",
                 "--body", "Please find the invoice attached.", "--timeout", "10"]
        batch.append(ctx.lab.cli(argv))
    # Four sessions at a time (postfix takes about a second per message here).
    for k in range(0, len(batch), 4):
        procs = [subprocess.Popen(a, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT) for a in batch[k:k + 4]]
        bad = []
        for p in procs:
            try:
                out, _ = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                Lab.stop_process(p, signal.SIGKILL)
                out = b"timed out"
            if p.returncode != 0:
                bad.append(f"exit {p.returncode}: "
                           + (out or b"").decode(errors="replace").strip()[-300:])
        if bad:
            raise LabError("swaks failed: " + " | ".join(bad))


def s_smb_sweep(ctx):
    nmap(ctx.lab, ["-sT", "-Pn", "-p445", "10.2.0.1-80"])


FUNCS = {
    "nmap_sn_arp": s_nmap_sn_arp, "nmap_sn_icmp": s_nmap_sn_icmp,
    "nmap_sT": _port_scan("-sT"), "nmap_sS": _port_scan("-sS"), "nmap_sF": _port_scan("-sF"),
    "nmap_sN": _port_scan("-sN"), "nmap_sX": _port_scan("-sX"), "nmap_sA": _port_scan("-sA"),
    "nmap_sU": _port_scan("-sU"),
    "hydra_pop3": _hydra("pop3"), "hydra_imap": _hydra("imap"), "hydra_smtp": _hydra("smtp"),
    "hydra_ftp": _hydra("ftp"), "hydra_ftp_nosuccess": _hydra("ftp", with_good=False),
    "hydra_ssh": _hydra("ssh"), "hydra_http": _hydra("http"),
    "beacon": s_beacon, "dns_dga": s_dns_dga, "dns_tunnel": s_dns_tunnel,
    "mass_mail": s_mass_mail, "mass_mail_relay": lambda ctx: s_mass_mail(ctx, auth=False),
    "smb_sweep": s_smb_sweep,
}


# --- checking --------------------------------------------------------------
def load_findings(outdir):
    path = os.path.join(outdir, "findings.jsonl")
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                # Not JSON (a trawl bug, reported as such): still judge it by
                # the first id, src and severity fields on the line.
                f = {"malformed": True}
                for key in ("id", "src", "severity", "summary"):
                    m = re.search(r'"%s":"((?:[^"\\]|\\.)*)"' % key, line)
                    f[key] = m.group(1) if m else "<unreadable line>"
                if f["severity"] not in RANK:
                    f["severity"] = "critical"
                out.append(f)
    return out


def judge(expected, allowed, findings):
    """-> (found [(id, actor)], missing [(id, actor)], false alarms [finding]).
    An expected actor "a|b" is met by a finding whose src is a or b."""
    exp = {(i, a) for i, actors in expected for a in actors.split("|")}
    have = {(f.get("id"), f.get("src")) for f in findings}
    found = [e for e in expected if any((e[0], a) in have for a in e[1].split("|"))]
    missing = [e for e in expected if e not in found]
    alarms = []
    for f in findings:
        key = (f.get("id"), f.get("src"))
        if key in exp or f.get("id") in allowed:
            continue
        if RANK.get(f.get("severity"), 4) > RANK["low"]:
            alarms.append(f)
    return found, missing, alarms


class Ctx:
    def __init__(self, lab, work, quick):
        self.lab = lab
        self.work = work
        self.quick = quick


def run_scenario(ctx, servers, trawl, outdir, sc):
    name, need, expected, allowed, _, _ = sc
    servers.need(need)
    pcap = os.path.join(outdir, f"{name}.pcap")
    if os.path.exists(pcap):
        os.remove(pcap)
    t0 = time.monotonic()
    cap = start_capture(ctx.lab, name, pcap)
    dropped = -1
    try:
        FUNCS[name](ctx)
        # The last answers and FIN/ACKs, and tcpdump's buffer timeout (1 s).
        time.sleep(1.5)
    finally:
        dropped = stop_capture(ctx.lab, name, cap)
    if dropped:
        log(f"    WARNING: tcpdump reports {dropped} packets dropped by the kernel; "
            "the capture is incomplete")
    servers.check_alive()
    secs = time.monotonic() - t0
    out = os.path.join(outdir, name)
    run_trawl(trawl, pcap, out, reveal=False)
    findings = load_findings(out)
    found, missing, alarms = judge(expected, allowed, findings)
    return {"scenario": name, "seconds": round(secs, 1), "pcap": os.path.basename(pcap),
            "dropped": dropped,
            "expected": [list(e) for e in expected], "found": [list(e) for e in found],
            "missing": [list(e) for e in missing],
            "false_alarms": [{"id": f.get("id"), "src": f.get("src"),
                              "severity": f.get("severity"), "summary": f.get("summary")}
                             for f in alarms],
            "malformed_lines": sum(1 for f in findings if f.get("malformed")),
            "all_findings": [f"{f.get('severity')} {f.get('id')} {f.get('src')}"
                             + (" (line is not valid JSON)" if f.get("malformed") else "")
                             for f in findings]}


def report(results):
    log("\n(+ found, - missing; drops = packets tcpdump lost)")
    log("%-20s %5s %5s  %-46s %s" % ("scenario", "secs", "drops", "expected", "false alarms"))
    for r in results:
        if "error" in r:
            log("%-20s %5s %5s  ERROR: %s" % (r["scenario"], "-", "-",
                                              r["error"].splitlines()[0][:100]))
            continue
        exp = " ".join(("+" if e in r["found"] else "-") + f"{e[0]}@{e[1]}" for e in r["expected"])
        fa = ", ".join(f"{a['id']}@{a['src']}({a['severity']})" for a in r["false_alarms"]) or "-"
        log("%-20s %5.1f %5d  %-46s %s" % (r["scenario"], r["seconds"], r["dropped"], exp, fa))
    n_exp = sum(len(r.get("expected", [])) for r in results)
    n_found = sum(len(r.get("found", [])) for r in results)
    n_fa = sum(len(r.get("false_alarms", [])) for r in results)
    n_err = sum(1 for r in results if "error" in r)
    n_bad = sum(r.get("malformed_lines", 0) for r in results)
    recall = n_found / n_exp if n_exp else 0.0
    log(f"\nrecall {n_found}/{n_exp} = {recall:.2f}; false alarms {n_fa}; "
        f"scenarios that failed to run {n_err}")
    if n_bad:
        log(f"trawl wrote {n_bad} findings.jsonl lines that are not valid JSON")
    return {"expected": n_exp, "found": n_found, "recall": round(recall, 3),
            "false_alarms": n_fa, "errors": n_err, "malformed_lines": n_bad}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trawl", nargs="?")
    ap.add_argument("outdir", nargs="?", help="pcaps, trawl output and results.json go here")
    ap.add_argument("--quick", action="store_true", help="the CI subset (under 2 minutes)")
    ap.add_argument("--only", help="comma-separated scenario names")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (server configs, logs)")
    args = ap.parse_args()

    chosen = [s for s in SCENARIOS if s[4] or not args.quick]
    if args.only:
        names = args.only.split(",")
        unknown = [n for n in names if n not in FUNCS]
        if unknown:
            ap.error("unknown scenario: " + ", ".join(unknown))
        chosen = [s for s in SCENARIOS if s[0] in names]
    if args.list:
        for s in SCENARIOS:
            log(f"{s[0]:20s} {'quick ' if s[4] else '      '}"
                f"{', '.join(i + '@' + a for i, a in s[2])}  -- {s[5]}")
        return 0
    if not args.trawl or not args.outdir:
        ap.error("TRAWL and OUTDIR are required")
    trawl = os.path.abspath(args.trawl)
    outdir = os.path.abspath(args.outdir)

    if os.geteuid() != 0:
        log("SKIP: needs root (network namespaces, raw sockets, servers on ports < 1024)")
        return SKIP
    if not shutil.which("ip"):
        log("SKIP: `ip` (iproute2) is not installed, so no network namespaces")
        return SKIP
    missing = missing_prerequisites()
    missing += [f"{t} (Debian package {pkg})" for t, pkg in TOOLS.items() if not shutil.which(t)]
    if missing:
        log("FAIL: missing: " + ", ".join(missing) +
            "\n      scripts/setup.sh installs the servers and tools this lab needs")
        return 1

    os.makedirs(outdir, exist_ok=True)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="trawl-lab-")
    os.chmod(work, 0o755)     # the servers' unprivileged users must reach their files
    for msg in Lab.remove_stale():
        log(f"removed leftovers of an earlier run: {msg}")
    lab = Lab(work)
    servers = LabServers(lab, work)
    ctx = Ctx(lab, work, args.quick)
    results = []
    fatal = None
    try:
        try:
            lab.up()
        except NetnsUnavailable as e:
            log(f"SKIP: `ip netns` is not available here: {e}")
            return SKIP
        build_network(lab)
        for sc in chosen:
            log(f"--- {sc[0]}: {sc[5]}")
            try:
                r = run_scenario(ctx, servers, trawl, outdir, sc)
            except (LabError, subprocess.TimeoutExpired, OSError) as e:
                r = {"scenario": sc[0], "error": f"{type(e).__name__}: {e}",
                     "expected": [list(x) for x in sc[2]], "found": [], "false_alarms": []}
            results.append(r)
            if "error" in r:
                log(f"    ERROR {r['error']}")
            else:
                log(f"    {r['seconds']} s; findings: " + ("; ".join(r["all_findings"]) or "none"))
    except Terminated as e:
        fatal = f"stopped by {e}"
    except (LabError, subprocess.TimeoutExpired, OSError) as e:
        fatal = f"{type(e).__name__}: {e}"
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        for e in lab.close():
            log(f"teardown: {e}")
        logdir = os.path.join(outdir, "log")
        if os.path.isdir(logdir):
            shutil.rmtree(logdir)
        with contextlib.suppress(OSError):
            shutil.copytree(os.path.join(work, "log"), logdir)
        if args.keep:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    totals = report(results)
    totals["quick"] = args.quick
    totals["seconds"] = round(time.monotonic() - t0, 1)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"totals": totals, "scenarios": results}, f, indent=1)
    log(f"total {totals['seconds']} s; pcaps, trawl output and results.json in {outdir}")
    if fatal:
        log(f"FAIL: {fatal}")
        return 1
    ok = (totals["errors"] == 0 and totals["found"] == totals["expected"]
          and not totals["false_alarms"] and not totals["malformed_lines"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

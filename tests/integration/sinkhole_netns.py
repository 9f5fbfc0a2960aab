#!/usr/bin/env python3
"""`trawl sinkhole` fools real clients in a guest namespace, and leaks nothing.

Three network namespaces the test creates (nothing else is touched):

  guest  192.0.2.10/24, default route via 192.0.2.1, resolv.conf -> 198.51.100.53
    | veth
  sink   192.0.2.1/24 on the guest side (runs `trawl sinkhole -i <that veth>`);
    | veth  100.64.0.1/30, default route via 100.64.0.2 (an "internet" uplink)
  uplink 100.64.0.2/30, tcpdump counting every packet: must see none.

IPv4 forwarding is off in sink (as on a sandbox host) and IPv6 is off on every
link, so the only frames on the wire are the guest's, the sinkhole's injected
answers and the sink kernel's ARP for its own address. From the guest, real
clients, each bounded by a timeout: curl (HTTP to an IP, HTTPS to a name the
sinkhole's DNS resolved), wget, dig, swaks, curl FTP in passive mode, nc with
and without sending first, ping. Then checks the answers the clients got, the
sinkhole's records, that `trawl analyze` of sinkhole.pcap gives the same
records as the case folder, that the guest received no frame from the sink
host that the sinkhole did not inject (so the sink's kernel sent no RST and no
ICMP error), and that the uplink saw zero packets. Also checks the start-up
refusals: ip_forward=1 and a default route via the sinkhole's interface.

Needs root (namespaces, live capture), tcpdump and the clients; exits 77
(skipped) otherwise. Every process it starts is stopped by PID and the
namespaces and /etc/netns/<guest> are removed, also on failure
(SINKHOLE_NETNS_KEEP=1 keeps the work folder for a look).

usage: sinkhole_netns.py TRAWL
"""

import ipaddress
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

SKIP = 77
GUEST_IP = "192.0.2.10"
SINK_IP = "192.0.2.1"
SINK_UP_IP = "100.64.0.1"
UPLINK_IP = "100.64.0.2"
DNS_IP = "198.51.100.53"
HTTP_IP = "203.0.113.7"
SMTP_IP = "198.51.100.25"
FTP_IP = "198.51.100.21"
NC_SEND_IP, NC_SEND_PORT = "203.0.113.99", 31337
NC_WAIT_IP, NC_WAIT_PORT = "203.0.113.98", 4444
PING_IP = "203.0.113.50"
TLS_NAME = "www.example.test"
WGET_NAME = "dl.example.test"
POOL = ipaddress.ip_network("198.18.0.0/15")  # the DNS responder's default pool

TOOLS = ["ip", "tcpdump", "curl", "wget", "dig", "swaks", "nc", "sysctl", "ping"]

def in_ns(ns, *cmd):
    return ["ip", "netns", "exec", ns, *cmd]


def run(*cmd, timeout=20):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


def wait_for(pred, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def stop(proc, sig=signal.SIGTERM, wait=5):
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def read_pcap(path):
    """Frames of a classic pcap (micro or nano): list of (ts_ns, bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    else:
        endian = ">"
        magic = struct.unpack(">I", data[:4])[0]
    nano = magic == 0xA1B23C4D
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        if off + caplen > len(data):
            break  # a record cut by a stop: ignore its tail
        out.append((sec * 1_000_000_000 + (frac if nano else frac * 1000), data[off:off + caplen]))
        off += caplen
    return out


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Topology:
    """guest <-> sink <-> uplink, torn down by down() whatever happened."""

    def __init__(self, tag):
        self.guest, self.sink, self.uplink = f"tsh{tag}-g", f"tsh{tag}-s", f"tsh{tag}-u"
        self.veth_g, self.veth_sg = f"tsh{tag}g", f"tsh{tag}sg"
        self.veth_su, self.veth_u = f"tsh{tag}su", f"tsh{tag}u"
        self.made = []
        self.etc_netns = os.path.join("/etc/netns", self.guest)
        self.made_etc = False

    def up(self):
        for ns in (self.guest, self.sink, self.uplink):
            run("ip", "netns", "add", ns)
            self.made.append(ns)
        run("ip", "link", "add", self.veth_g, "type", "veth", "peer", "name", self.veth_sg)
        run("ip", "link", "add", self.veth_su, "type", "veth", "peer", "name", self.veth_u)
        for dev, ns in ((self.veth_g, self.guest), (self.veth_sg, self.sink), (self.veth_su, self.sink),
                        (self.veth_u, self.uplink)):
            run("ip", "link", "set", dev, "netns", ns)
        for ns in (self.guest, self.sink, self.uplink):
            # IPv6 off everywhere: no kernel-made link-local chatter (DAD,
            # router solicitations, MLD) that would blur the counts below.
            for key in ("all", "default"):
                run(*in_ns(ns, "sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1"))
            run(*in_ns(ns, "ip", "link", "set", "lo", "up"))
        run(*in_ns(self.sink, "sysctl", "-qw", "net.ipv4.ip_forward=0"))
        for ns, dev, addr in ((self.guest, self.veth_g, f"{GUEST_IP}/24"), (self.sink, self.veth_sg, f"{SINK_IP}/24"),
                              (self.sink, self.veth_su, f"{SINK_UP_IP}/30"),
                              (self.uplink, self.veth_u, f"{UPLINK_IP}/30")):
            run(*in_ns(ns, "ip", "addr", "add", addr, "dev", dev))
            run(*in_ns(ns, "ip", "link", "set", dev, "up"))
        run(*in_ns(self.guest, "ip", "route", "add", "default", "via", SINK_IP))
        # A sandbox host normally has its own way out; the sinkhole must not
        # give the guest's packets to it.
        run(*in_ns(self.sink, "ip", "route", "add", "default", "via", UPLINK_IP))
        os.makedirs(self.etc_netns, exist_ok=True)
        self.made_etc = True
        with open(os.path.join(self.etc_netns, "resolv.conf"), "w", encoding="ascii") as f:
            f.write(f"nameserver {DNS_IP}\noptions timeout:2 attempts:1\n")

    def down(self):
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=20)
        self.made = []
        if self.made_etc:
            shutil.rmtree(self.etc_netns, ignore_errors=True)
            self.made_etc = False


def start_tcpdump(ns, dev, path, inbound_only=False):
    cmd = ["tcpdump", "-i", dev, "-n", "-U", "-s", "0", "-w", path]
    if inbound_only:
        cmd[1:1] = ["-Q", "in"]
    p = subprocess.Popen(in_ns(ns, *cmd), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # tcpdump says "listening on" once capturing.
    deadline = time.monotonic() + 10
    line = b""
    while time.monotonic() < deadline and p.poll() is None:
        line = p.stderr.readline()
        if b"listening on" in line:
            return p
    raise AssertionError(f"tcpdump on {dev} did not start: {line!r}")


def client(topo, *cmd, timeout=15, stdin=None):
    return subprocess.run(in_ns(topo.guest, *cmd), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)


def random_label(rng, n=12):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def check_refusals(trawl, topo, work, problems):
    """ip_forward=1, then a default route via the sinkhole's interface: refused, named."""
    case = os.path.join(work, "refused")
    run(*in_ns(topo.sink, "sysctl", "-qw", "net.ipv4.ip_forward=1"))
    try:
        r = subprocess.run(in_ns(topo.sink, trawl, "sinkhole", "-i", topo.veth_sg, "-o", case, "--duration", "1s"),
                           capture_output=True, text=True, timeout=20)
    finally:
        run(*in_ns(topo.sink, "sysctl", "-qw", "net.ipv4.ip_forward=0"))
    if r.returncode != 2 or "refusing to start: /proc/sys/net/ipv4/ip_forward is 1" not in r.stderr \
            or "sysctl -w net.ipv4.ip_forward=0" not in r.stderr:
        problems.append(f"ip_forward=1 not refused as expected ({r.returncode}): {r.stderr}")
    if os.path.exists(os.path.join(case, "sinkhole.pcap")):
        problems.append("a refused start still opened the capture")

    run(*in_ns(topo.sink, "ip", "route", "replace", "default", "via", GUEST_IP, "dev", topo.veth_sg))
    try:
        r = subprocess.run(in_ns(topo.sink, trawl, "sinkhole", "-i", topo.veth_sg, "-o", case, "--duration", "1s"),
                           capture_output=True, text=True, timeout=20)
    finally:
        run(*in_ns(topo.sink, "ip", "route", "replace", "default", "via", UPLINK_IP, "dev", topo.veth_su))
    want = (f"refusing to start: interface {topo.veth_sg} has a route out (IPv4 default via {GUEST_IP})")
    if r.returncode != 2 or want not in r.stderr or f"ip route del default dev {topo.veth_sg}" not in r.stderr:
        problems.append(f"a default route via the interface not refused as expected ({r.returncode}): {r.stderr}")


def preflight(name, doc, tools):
    """(trawl, None) when the test can run; (None, exit status) when it cannot: 2 for
    a bad command line, SKIP without root or one of the tools."""
    if len(sys.argv) != 2:
        print(doc, file=sys.stderr)
        return None, 2
    if os.geteuid() != 0:
        print(f"SKIP: {name} needs root (network namespaces and live capture)")
        return None, SKIP
    for tool in tools:
        if not shutil.which(tool):
            print(f"SKIP: {name} needs {tool}")
            return None, SKIP
    return os.path.abspath(sys.argv[1]), None


def main():
    trawl, status = preflight("sinkhole_netns", __doc__, TOOLS)
    if trawl is None:
        return status

    tag = str(os.getpid() % 100000)
    topo = Topology(tag)
    work = tempfile.mkdtemp(prefix="trawl_sinkhole_netns_")
    procs = []
    rng = random.Random(os.getpid())
    try:
        try:
            topo.up()
        except subprocess.CalledProcessError as e:
            print(f"SKIP: cannot build the namespaces: {e.stderr.decode(errors='replace').strip()}")
            return SKIP
        problems = []
        check_refusals(trawl, topo, work, problems)

        guest_pcap = os.path.join(work, "guest.pcap")
        uplink_pcap = os.path.join(work, "uplink.pcap")
        uplink_dump = start_tcpdump(topo.uplink, topo.veth_u, uplink_pcap)
        procs.append(uplink_dump)
        guest_dump = start_tcpdump(topo.guest, topo.veth_g, guest_pcap, inbound_only=True)
        procs.append(guest_dump)

        case = os.path.join(work, "case")
        # The CA lives in the test's folder, not in this machine's ~/.local/share.
        ca_dir = os.path.join(work, "ca")
        hole = subprocess.Popen(in_ns(topo.sink, trawl, "sinkhole", "-i", topo.veth_sg, "-o", case,
                                      "--duration", "45s"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, TRAWL_SINKHOLE_CA_DIR=ca_dir))
        procs.append(hole)
        wait_for(lambda: os.path.exists(os.path.join(case, "sinkhole.pcap")) or hole.poll() is not None, 15,
                 "the sinkhole to start capturing")
        if hole.poll() is not None:
            out, err = hole.communicate()
            raise AssertionError(f"trawl sinkhole exited early ({hole.returncode}): {err}")

        answers = {}
        # HTTP to an address, no DNS.
        body_path = os.path.join(work, "b.exe")
        r = client(topo, "curl", "-sS", "--max-time", "8", "-o", body_path, "-w", "%{http_code}",
                   f"http://{HTTP_IP}/a/b.exe?c=1")
        answers["http"] = (r.returncode, r.stdout.decode())
        body = open(body_path, "rb").read() if os.path.exists(body_path) else b""
        if r.returncode != 0 or r.stdout != b"200" or body[:2] != b"MZ":
            problems.append(f"curl http: rc {r.returncode} code {r.stdout!r} body {body[:16]!r} {r.stderr!r}")

        # HTTPS to a name (resolved by the sinkhole's DNS through resolv.conf).
        # The guest trusts the CA the case exported: curl checks the chain and the name.
        case_ca = os.path.join(case, "sinkhole-ca.crt")
        if not os.path.exists(case_ca) or open(case_ca, "rb").read() != open(
                os.path.join(ca_dir, "trawl-sinkhole-ca.crt"), "rb").read():
            problems.append("the case has no copy of the CA certificate (sinkhole-ca.crt)")
        r = client(topo, "curl", "-sS", "--cacert", case_ca, "--max-time", "10", "-o", "/dev/null",
                   "-w", "%{http_code} %{remote_ip}", f"https://{TLS_NAME}/x")
        answers["https"] = (r.returncode, r.stdout.decode())
        code, _, tls_ip = r.stdout.decode().partition(" ")
        if r.returncode != 0 or code != "200" or ipaddress.ip_address(tls_ip or "0.0.0.0") not in POOL:
            problems.append(f"curl https: rc {r.returncode} {r.stdout!r} {r.stderr!r}")

        # wget to a name.
        wget_path = os.path.join(work, "wget.txt")
        r = client(topo, "wget", "-q", "-T", "5", "-t", "1", "-O", wget_path, f"http://{WGET_NAME}/tool.txt")
        wget_body = open(wget_path, "rb").read() if os.path.exists(wget_path) else b""
        if r.returncode != 0 or not wget_body:
            problems.append(f"wget: rc {r.returncode} {len(wget_body)} bytes {r.stderr!r}")

        # dig for random names.
        dig_names = [f"{random_label(rng)}.example.test" for _ in range(3)]
        dig_answers = {}
        for name in dig_names:
            r = client(topo, "dig", f"@{DNS_IP}", "+time=2", "+tries=1", "+short", name, "A")
            lines = r.stdout.decode().split()
            dig_answers[name] = lines
            if r.returncode != 0 or len(lines) != 1 or ipaddress.ip_address(lines[0]) not in POOL:
                problems.append(f"dig {name}: rc {r.returncode} {lines} {r.stderr!r}")
        if len({tuple(v) for v in dig_answers.values()}) != len(dig_names):
            problems.append(f"dig: distinct names got the same address: {dig_answers}")

        # SMTP.
        r = client(topo, "swaks", "--server", f"{SMTP_IP}:25", "--from", "bot@example.test", "--to",
                   "drop@example.test", "--header", "Subject: trawl-netns", "--body", "exfil-0001",
                   "--timeout", "8", timeout=20)
        if r.returncode != 0:
            problems.append(f"swaks: rc {r.returncode} {r.stdout[-400:]!r}")
        # The same inside STARTTLS, which the sinkhole terminates with its CA.
        r = client(topo, "swaks", "--server", f"{SMTP_IP}:25", "--tls", "--from", "bot@example.test", "--to",
                   "drop@example.test", "--header", "Subject: trawl-netns-tls", "--body", "exfil-0002",
                   "--timeout", "8", timeout=20)
        if r.returncode != 0 or b"=== TLS started" not in r.stdout:
            problems.append(f"swaks --tls: rc {r.returncode} {r.stdout[-400:]!r}")

        # FTP, passive: an upload (STOR through a PASV data connection).
        up = os.path.join(work, "up.txt")
        with open(up, "wb") as f:
            f.write(b"stolen-data-0001\n")
        r = client(topo, "curl", "-sS", "--ftp-pasv", "--max-time", "10", "-T", up, f"ftp://{FTP_IP}/up.txt",
                   timeout=20)
        if r.returncode != 0:
            problems.append(f"curl ftp upload: rc {r.returncode} {r.stderr!r}")

        # nc, sending first, to a random port.
        r = client(topo, "nc", "-N", "-w", "3", NC_SEND_IP, str(NC_SEND_PORT), stdin=b"trawl-hello\r\n")
        if r.returncode != 0:
            problems.append(f"nc (sending first): rc {r.returncode} {r.stderr!r}")
        # nc, silent: connects, waits for whatever the sinkhole says.
        r = client(topo, "nc", "-d", "-w", "4", NC_WAIT_IP, str(NC_WAIT_PORT))
        answers["nc_wait"] = (r.returncode, r.stdout)
        if r.returncode != 0:
            problems.append(f"nc (silent): rc {r.returncode} {r.stderr!r}")

        # ping.
        r = client(topo, "ping", "-n", "-c", "2", "-W", "2", PING_IP)
        if r.returncode != 0 or b"2 packets transmitted, 2 received" not in r.stdout:
            problems.append(f"ping: rc {r.returncode} {r.stdout!r} {r.stderr[-300:]!r}")

        time.sleep(0.5)  # the last ACKs and FINs
        hole.send_signal(signal.SIGINT)
        out, err = hole.communicate(timeout=40)
        if hole.returncode != 0:
            problems.append(f"trawl sinkhole exit {hole.returncode}: {err}")
        stop(guest_dump, signal.SIGINT)
        stop(uplink_dump, signal.SIGINT)

        check_records(case, tls_ip, dig_names, dig_answers, problems)
        check_analysis(trawl, case, work, problems)
        check_wire(case, guest_pcap, uplink_pcap, problems)
        if "CA to install in the guest:" not in out or "sinkhole.pcap" not in out:
            problems.append(f"the summary lacks the CA or the files: {out}")

        if problems:
            print("FAIL:\n  " + "\n  ".join(problems))
            print("trawl stderr:\n" + err)
            return 1
        print(f"ok: {len(read_pcap(os.path.join(case, 'sinkhole.pcap')))} frames in sinkhole.pcap, "
              f"uplink saw 0, no kernel RST")
        return 0
    finally:
        for p in reversed(procs):
            stop(p)
        topo.down()
        if os.environ.get("SINKHOLE_NETNS_KEEP"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def one(records, what, pred, problems):
    hits = [r for r in records if pred(r)]
    if len(hits) != 1:
        problems.append(f"{what}: {len(hits)} matching records (want 1)")
        return {}
    return hits[0]


def check_records(case, tls_ip, dig_names, dig_answers, problems):
    http = read_jsonl(os.path.join(case, "sinkhole_http.jsonl"))
    h = one(http, "sinkhole_http for the exe", lambda r: r.get("uri") == "/a/b.exe?c=1", problems)
    if h:
        want = {"id.resp_h": HTTP_IP, "id.resp_p": 80, "id.orig_h": GUEST_IP, "method": "GET", "host": HTTP_IP,
                "status_code": 200, "url": f"http://{HTTP_IP}/a/b.exe?c=1"}
        got = {k: h.get(k) for k in want}
        if got != want:
            problems.append(f"sinkhole_http exe record: {got} != {want}")
    h = one(http, "sinkhole_http inside TLS", lambda r: r.get("uri") == "/x", problems)
    if h:
        want = {"id.resp_h": tls_ip, "id.resp_p": 443, "host": TLS_NAME, "status_code": 200,
                "url": f"https://{TLS_NAME}/x"}
        got = {k: h.get(k) for k in want}
        if got != want:
            problems.append(f"sinkhole_http TLS record: {got} != {want}")
    one(http, "sinkhole_http for wget", lambda r: r.get("host") == WGET_NAME and r.get("uri") == "/tool.txt"
        and r.get("user_agent", "").startswith("Wget/"), problems)

    tls = read_jsonl(os.path.join(case, "sinkhole_tls.jsonl"))
    t = one(tls, "sinkhole_tls", lambda r: r.get("server_name") == TLS_NAME, problems)
    if t and (t.get("established") is not True or t.get("id.resp_h") != tls_ip or not t.get("ja3")):
        problems.append(f"sinkhole_tls record: {t}")

    dns = read_jsonl(os.path.join(case, "sinkhole_dns.jsonl"))
    for name in dig_names + [TLS_NAME, WGET_NAME]:
        hits = [r for r in dns if r.get("query") == name and r.get("qtype") == 1]
        if not hits:
            problems.append(f"sinkhole_dns: no A query for {name}")
        elif name in dig_answers and hits[0].get("answers") != dig_answers[name]:
            problems.append(f"sinkhole_dns {name}: answers {hits[0].get('answers')} != dig's {dig_answers[name]}")

    conns = read_jsonl(os.path.join(case, "sinkhole_conn.jsonl"))
    c = one(conns, "sinkhole_conn for the TLS name", lambda r: r.get("id.resp_h") == tls_ip, problems)
    if c and (c.get("domain") != TLS_NAME or c.get("service") != "ssl"):
        problems.append(f"sinkhole_conn for {tls_ip}: domain/service {c.get('domain')}/{c.get('service')}")

    smtp = read_jsonl(os.path.join(case, "sinkhole_smtp.jsonl"))
    for tls, subject, body in ((None, "trawl-netns", b"exfil-0001"), (True, "trawl-netns-tls", b"exfil-0002")):
        s = one(smtp, f"sinkhole_smtp message (tls {tls})",
                lambda r, tls=tls: r.get("event") == "message" and r.get("tls") == tls, problems)
        if not s:
            continue
        want = {"id.resp_h": SMTP_IP, "id.resp_p": 25, "mailfrom": "bot@example.test",
                "rcptto": ["drop@example.test"], "subject": subject, "artifact_kind": "smtp_message"}
        got = {k: s.get(k) for k in want}
        if got != want:
            problems.append(f"sinkhole_smtp: {got} != {want}")
        sha = s.get("artifact_sha256", "")
        path = os.path.join(case, "files", sha)
        if not sha or not os.path.exists(path) or body not in open(path, "rb").read():
            problems.append(f"the SMTP message is not stored as files/{sha}")
    one(smtp, "sinkhole_smtp starttls", lambda r: r.get("event") == "starttls", problems)

    ftp = read_jsonl(os.path.join(case, "sinkhole_ftp.jsonl"))
    f = one(ftp, "sinkhole_ftp upload", lambda r: r.get("artifact_kind") == "ftp_upload", problems)
    if f:
        path = os.path.join(case, "files", f.get("artifact_sha256", "-"))
        if f.get("id.resp_h") != FTP_IP or not os.path.exists(path) or \
                open(path, "rb").read() != b"stolen-data-0001\n":
            problems.append(f"sinkhole_ftp upload record/file: {f}")

    catch = read_jsonl(os.path.join(case, "sinkhole_catchall.jsonl"))
    n = one(catch, "catchall (sending first)", lambda r: r.get("id.resp_p") == NC_SEND_PORT, problems)
    if n and (n.get("id.resp_h") != NC_SEND_IP or n.get("bytes_received") != 13
              or n.get("first_bytes_hex") != b"trawl-hello\r\n".hex()):
        problems.append(f"catchall (sending first): {n}")
    n = one(catch, "catchall (silent)", lambda r: r.get("id.resp_p") == NC_WAIT_PORT, problems)
    if n and (n.get("id.resp_h") != NC_WAIT_IP or n.get("bytes_received") != 0):
        problems.append(f"catchall (silent): {n}")

    iocs = json.load(open(os.path.join(case, "iocs.json"), encoding="utf-8")) \
        if os.path.exists(os.path.join(case, "iocs.json")) else {}
    text = json.dumps(iocs)
    for want in (TLS_NAME, WGET_NAME, f"http://{HTTP_IP}/a/b.exe?c=1", "bot@example.test", *dig_names):
        if want not in text:
            problems.append(f"iocs.json lacks {want}")


# The analysis of sinkhole.pcap must be what `trawl analyze` of it gives.
ANALYSIS_FILES = ("conn.jsonl", "dns.jsonl", "http.jsonl", "ssl.jsonl", "smtp.jsonl", "ftp.jsonl",
                  "findings.jsonl")


def check_analysis(trawl, case, work, problems):
    again = os.path.join(work, "again")
    r = subprocess.run([trawl, "analyze", os.path.join(case, "sinkhole.pcap"), "-o", again, "-q", "--threads", "1"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        problems.append(f"trawl analyze sinkhole.pcap: exit {r.returncode}: {r.stderr}")
        return
    for name in ANALYSIS_FILES:
        a, b = os.path.join(case, name), os.path.join(again, name)
        ta = open(a, encoding="utf-8").read() if os.path.exists(a) else None
        tb = open(b, encoding="utf-8").read() if os.path.exists(b) else None
        if ta != tb:
            problems.append(f"{name} differs from `trawl analyze` of sinkhole.pcap")
    http = read_jsonl(os.path.join(case, "http.jsonl"))
    if not any(h.get("uri") == "/a/b.exe?c=1" and h.get("id.resp_h") == HTTP_IP for h in http):
        problems.append("http.jsonl (analysis) lacks the exe download")
    ssl = read_jsonl(os.path.join(case, "ssl.jsonl"))
    if not any(s.get("server_name") == TLS_NAME for s in ssl):
        problems.append("ssl.jsonl (analysis) lacks the SNI")


def is_rst(frame):
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return False
    ihl = (frame[14] & 0x0F) * 4
    return len(frame) >= 14 + ihl + 14 and frame[14 + ihl + 13] & 0x04 != 0


def check_wire(case, guest_pcap, uplink_pcap, problems):
    injected = {f for _, f in read_pcap(os.path.join(case, "sinkhole.pcap"))}
    received = read_pcap(guest_pcap)
    foreign = [f for _, f in received if f[12:14] != b"\x08\x06" and f not in injected]
    rsts = [f for f in foreign if is_rst(f)]
    if rsts:
        problems.append(f"the sink's kernel sent {len(rsts)} RST(s) to the guest")
    if foreign:
        problems.append(f"the guest received {len(foreign)} non-ARP frame(s) the sinkhole did not inject, "
                        f"first: {foreign[0][:64].hex()}")
    if len(received) < 50:
        problems.append(f"the guest capture holds only {len(received)} frames")
    uplink = read_pcap(uplink_pcap)
    if uplink:
        problems.append(f"the uplink saw {len(uplink)} packet(s); first: {uplink[0][1][:64].hex()}")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Trawl's sinkhole against INetSim, in the same namespaces, with the same clients.

Not in CI (needs root, INetSim, ~2 minutes). The topology is the one of
tests/integration/sinkhole_netns.py (guest -> sink -> uplink, nothing leaves).

  trawl:   `trawl sinkhole -i <veth>` in the sink namespace; no redirection:
           it answers every address itself, from libpcap.
  inetsim: Debian's /usr/bin/inetsim with bench/inetsim/inetsim.conf, bound to
           the sink's own address; iptables DNAT in the sink namespace
           (PREROUTING on the guest's veth) sends everything there, the way
           sandboxes deploy it: TCP 21/25/80/110/443/6667 and UDP 53 keep their
           port, every other TCP port goes to INetSim's dummy service on port
           1, other UDP to dummy_udp on port 1, anything else (ICMP) to the
           address. INetSim's own `redirect` module is not used (it needs the
           ipq/NFQUEUE Perl modules Debian does not ship).

Then the same client script from the guest (curl HTTP to an IP, curl HTTPS to
a name, wget, dig, swaks, curl FTP passive, nc sending first / silent, ping),
which behaviours each answered and logged, whether the log keeps the original
destination address, the time for 1,000 sequential HTTP requests and for
1,000 parallel connection attempts. Prints a Markdown table.

usage: sinkhole_vs_inetsim.py TRAWL
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import sinkhole_netns as net  # noqa: E402  (the topology and helpers)

INETSIM = "/usr/bin/inetsim"
KEEP_TCP = (21, 25, 80, 110, 443, 6667)

# Guest-side load: 1,000 sequential HTTP requests (a new connection each),
# then 1,000 parallel connection attempts to distinct addresses and ports.
LOAD = r"""
import http.client, resource, selectors, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
N = 1000
ok = 0
t0 = time.monotonic()
for i in range(N):
    try:
        c = http.client.HTTPConnection("203.0.113.7", 80, timeout=5)
        c.request("GET", "/seq/%d.txt" % i)
        r = c.getresponse(); r.read()
        ok += r.status == 200
        c.close()
    except Exception:
        pass
seq_s = time.monotonic() - t0
sel = selectors.DefaultSelector()
socks = []
t0 = time.monotonic()
for i in range(N):
    s = socket.socket(); s.setblocking(False)
    s.connect_ex(("203.0.113.%d" % (1 + i % 250), 20000 + i))
    sel.register(s, selectors.EVENT_WRITE)
    socks.append(s)
done = connected = 0
deadline = t0 + 30
while done < N and time.monotonic() < deadline:
    for key, _ in sel.select(timeout=0.5):
        s = key.fileobj
        sel.unregister(s)
        done += 1
        connected += s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
par_s = time.monotonic() - t0
for s in socks: s.close()
print(ok, "%.3f" % seq_s, connected, "%.3f" % par_s)
"""


def behaviours(topo, work):
    """Runs the clients; returns {name: answered?} and the TLS address used."""
    got = {}
    r = net.client(topo, "curl", "-sS", "--max-time", "8", "-o", os.path.join(work, "b.exe"), "-w", "%{http_code}",
                   f"http://{net.HTTP_IP}/a/b.exe?c=1")
    body = open(os.path.join(work, "b.exe"), "rb").read() if os.path.exists(os.path.join(work, "b.exe")) else b""
    got["http (curl to an IP, .exe)"] = r.returncode == 0 and r.stdout == b"200" and body[:2] == b"MZ"
    r = net.client(topo, "curl", "-sSk", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                   f"https://{net.TLS_NAME}/x")
    got["https (curl -k to a name)"] = r.returncode == 0 and r.stdout == b"200"
    r = net.client(topo, "wget", "-q", "-T", "5", "-t", "1", "-O", os.path.join(work, "w"),
                   f"http://{net.WGET_NAME}/tool.txt")
    got["wget"] = r.returncode == 0
    r = net.client(topo, "dig", f"@{net.DNS_IP}", "+time=2", "+tries=1", "+short", "qzkwmfyr.example.test", "A")
    got["dig random name"] = r.returncode == 0 and len(r.stdout.split()) == 1
    r = net.client(topo, "dig", f"@{net.DNS_IP}", "+time=2", "+tries=1", "+short", "example.test", "MX")
    got["dig MX"] = r.returncode == 0 and len(r.stdout.split()) >= 2
    r = net.client(topo, "swaks", "--server", f"{net.SMTP_IP}:25", "--from", "bot@example.test", "--to",
                   "drop@example.test", "--header", "Subject: trawl-bench", "--body", "exfil-0001", "--timeout", "8",
                   timeout=20)
    got["smtp (swaks)"] = r.returncode == 0
    up = os.path.join(work, "up.txt")
    with open(up, "wb") as f:
        f.write(b"stolen-data-0001\n")
    r = net.client(topo, "curl", "-sS", "--ftp-pasv", "--max-time", "10", "-T", up, f"ftp://{net.FTP_IP}/up.txt",
                   timeout=20)
    got["ftp upload (passive)"] = r.returncode == 0
    # PASV only: INetSim behind DNAT cannot serve EPSV (the guest opens the
    # data connection to the original address, which DNAT sends to port 1).
    r = net.client(topo, "curl", "-sS", "--ftp-pasv", "--disable-epsv", "--max-time", "10", "-T", up,
                   f"ftp://{net.FTP_IP}/up2.txt", timeout=20)
    got["ftp upload (PASV only, --disable-epsv)"] = r.returncode == 0
    r = net.client(topo, "curl", "-sS", "--max-time", "8", "-o", "/dev/null", "-w", "%{http_code}",
                   f"http://{net.HTTP_IP}:8080/p.html")
    got["http on port 8080"] = r.returncode == 0 and r.stdout == b"200"
    r = net.client(topo, "nc", "-N", "-w", "3", net.NC_SEND_IP, str(net.NC_SEND_PORT), stdin=b"trawl-hello\r\n")
    got["nc to a random port, sending first"] = r.returncode == 0
    r = net.client(topo, "nc", "-d", "-w", "4", net.NC_WAIT_IP, str(net.NC_WAIT_PORT))
    got["nc to a random port, silent (banner?)"] = r.returncode == 0 and len(r.stdout) > 0
    r = net.client(topo, "ping", "-n", "-c", "2", "-W", "2", net.PING_IP)
    got["ping"] = r.returncode == 0 and b"2 packets transmitted, 2 received" in r.stdout
    return got


def load(topo):
    r = net.client(topo, "/usr/bin/python3", "-c", LOAD, timeout=200)
    ok, seq_s, connected, par_s = r.stdout.decode().split()
    return int(ok), float(seq_s), int(connected), float(par_s)


def logged_trawl(case):
    text = {}
    for name in os.listdir(case):
        if name.endswith(".jsonl"):
            text[name] = open(os.path.join(case, name), encoding="utf-8").read()
    def has(log, *needles):
        return any(all(n in t for n in needles) for t in [text.get(log, "")])
    return {
        "http (curl to an IP, .exe)": has("sinkhole_http.jsonl", "/a/b.exe?c=1", f'"id.resp_h":"{net.HTTP_IP}"'),
        "https (curl -k to a name)": has("sinkhole_tls.jsonl", net.TLS_NAME) and has("sinkhole_http.jsonl", "/x"),
        "wget": has("sinkhole_http.jsonl", "Wget/"),
        "dig random name": has("sinkhole_dns.jsonl", "qzkwmfyr.example.test"),
        "dig MX": has("sinkhole_dns.jsonl", '"qtype":15'),
        "smtp (swaks)": has("sinkhole_smtp.jsonl", f'"id.resp_h":"{net.SMTP_IP}"', "bot@example.test"),
        "ftp upload (passive)": has("sinkhole_ftp.jsonl", f'"id.resp_h":"{net.FTP_IP}"', "ftp_upload"),
        "ftp upload (PASV only, --disable-epsv)": has("sinkhole_ftp.jsonl", "up2.txt", "ftp_upload"),
        "http on port 8080": has("sinkhole_http.jsonl", "/p.html", '"id.resp_p":8080'),
        "nc to a random port, sending first": has("sinkhole_catchall.jsonl", f'"id.resp_h":"{net.NC_SEND_IP}"',
                                                  b"trawl-hello".hex()),
        "nc to a random port, silent (banner?)": has("sinkhole_catchall.jsonl", f'"id.resp_h":"{net.NC_WAIT_IP}"'),
        "ping": has("conn.jsonl", f'"id.resp_h":"{net.PING_IP}"'),
    }


def logged_inetsim(logdir):
    path = os.path.join(logdir, "service.log")
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines() if os.path.exists(path) else []
    def has(service, *needles):
        return any(service in l and all(n in l for n in needles) for l in lines)
    def orig(service, ip):
        return any(service in l and ip in l for l in lines)
    logged = {
        "http (curl to an IP, .exe)": has("http_80", "/a/b.exe?c=1"),
        "https (curl -k to a name)": has("https_443", "/x"),
        "wget": has("http_80", "Wget/"),
        "dig random name": has("dns_53", "qzkwmfyr.example.test"),
        "dig MX": has("dns_53", "MX"),
        "smtp (swaks)": has("smtp_25", "bot@example.test"),
        "ftp upload (passive)": has("ftp_21", "STOR up.txt"),
        "ftp upload (PASV only, --disable-epsv)": has("ftp_21", "STOR up2.txt"),
        "http on port 8080": has("", "/p.html"),
        "nc to a random port, sending first": has("dummy_1_tcp", "recv: trawl-hello"),
        "nc to a random port, silent (banner?)": has("dummy_1_tcp", "connect"),
        "ping": False,  # INetSim has no ICMP service; the kernel answers, nothing is logged
    }
    # The original destination, as a sandbox needs it for IOCs: only where
    # the protocol itself carries it (the Host header of HTTP to an IP).
    # Behaviours that went to a name are left out ("-"): INetSim's DNS gave
    # its own address, so there is no other destination to keep.
    origin = {
        "http (curl to an IP, .exe)": orig("http_80", net.HTTP_IP),
        "http on port 8080": orig("dummy_1_tcp", net.HTTP_IP),
        "smtp (swaks)": orig("smtp_25", net.SMTP_IP),
        "ftp upload (passive)": orig("ftp_21", net.FTP_IP),
        "ftp upload (PASV only, --disable-epsv)": orig("ftp_21", net.FTP_IP),
        "nc to a random port, sending first": orig("dummy_1_tcp", net.NC_SEND_IP),
        "nc to a random port, silent (banner?)": orig("dummy_1_tcp", net.NC_WAIT_IP),
        "ping": False,
    }
    return logged, origin


def run_trawl(trawl, topo, work):
    case = os.path.join(work, "case")
    hole = subprocess.Popen(net.in_ns(topo.sink, trawl, "sinkhole", "-i", topo.veth_sg, "-o", case, "-q",
                                      "--duration", "400s"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        net.wait_for(lambda: os.path.exists(os.path.join(case, "sinkhole.pcap")) or hole.poll() is not None, 15,
                     "trawl sinkhole")
        if hole.poll() is not None:
            raise AssertionError(f"trawl sinkhole exited: {hole.communicate()[1]}")
        got = behaviours(topo, work)
        perf = load(topo)
        time.sleep(0.5)
        hole.send_signal(signal.SIGINT)
        hole.communicate(timeout=300)
        logged = logged_trawl(case)
        origin = {k: logged[k] for k in logged}  # every record has id.resp_h = the address the guest chose
        return got, logged, origin, perf
    finally:
        net.stop(hole)


def run_inetsim(topo, work):
    bind = net.SINK_IP
    conf = os.path.join(work, "inetsim.conf")
    with open(os.path.join(HERE, "inetsim", "inetsim.conf"), encoding="utf-8") as f:
        text = f.read().replace("@BIND@", bind)
    with open(conf, "w", encoding="utf-8") as f:
        f.write(text)
    data, logs, reports = (os.path.join(work, d) for d in ("data", "log", "report"))
    shutil.copytree("/var/lib/inetsim", data, symlinks=True)
    for d in (logs, reports):
        os.makedirs(d)
    for d in (data, logs, reports, work):
        subprocess.run(["chgrp", "-R", "inetsim", d], check=True)
        subprocess.run(["chmod", "-R", "g+rwX", d], check=True)
    os.chmod(work, 0o775)
    dev = topo.veth_sg
    ipt = lambda *a: net.run(*net.in_ns(topo.sink, "iptables", "-t", "nat", "-A", "PREROUTING", "-i", dev, *a))
    # The guest's connections to INetSim's own address (FTP passive data
    # connections) stay as they are.
    ipt("-d", bind, "-j", "RETURN")
    for port in KEEP_TCP:
        ipt("-p", "tcp", "--dport", str(port), "-j", "DNAT", "--to-destination", f"{bind}:{port}")
    ipt("-p", "udp", "--dport", "53", "-j", "DNAT", "--to-destination", f"{bind}:53")
    ipt("-p", "tcp", "-j", "DNAT", "--to-destination", f"{bind}:1")
    ipt("-p", "udp", "-j", "DNAT", "--to-destination", f"{bind}:1")
    ipt("-j", "DNAT", "--to-destination", bind)
    sim = subprocess.Popen(net.in_ns(topo.sink, INETSIM, f"--config={conf}", f"--data-dir={data}",
                                     f"--log-dir={logs}", f"--report-dir={reports}",
                                     f"--pidfile={os.path.join(work, 'inetsim.pid')}"),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def ready():
            r = subprocess.run(net.in_ns(topo.sink, "ss", "-Htln", "sport = :6667"), capture_output=True, text=True)
            return bool(r.stdout.strip()) or sim.poll() is not None
        net.wait_for(ready, 60, "INetSim's services")
        if sim.poll() is not None:
            raise AssertionError(f"inetsim exited: {sim.communicate()[0]}")
        time.sleep(1)
        got = behaviours(topo, work)
        perf = load(topo)
        logged, origin = logged_inetsim(logs)
        return got, logged, origin, perf
    finally:
        net.stop(sim, wait=15)


def main():
    if len(sys.argv) != 2 or os.geteuid() != 0 or not os.access(INETSIM, os.X_OK):
        print(__doc__, file=sys.stderr)
        return 2
    trawl = os.path.abspath(sys.argv[1])
    results = {}
    for name in ("trawl", "inetsim"):
        topo = net.Topology(str(os.getpid() % 10000) + name[0])
        work = tempfile.mkdtemp(prefix=f"trawl_bench_{name}_")
        try:
            topo.up()
            results[name] = run_trawl(trawl, topo, work) if name == "trawl" else run_inetsim(topo, work)
        finally:
            topo.down()
            shutil.rmtree(work, ignore_errors=True)

    def yn(v):
        return "yes" if v else "no"
    t, i = results["trawl"], results["inetsim"]
    print("| behaviour | Trawl answered | Trawl logged (orig. dst) | INetSim answered | INetSim logged (orig. dst) |")
    print("|---|---|---|---|---|")
    for k in t[0]:
        print(f"| {k} | {yn(t[0][k])} | {yn(t[1][k])} ({yn(t[2].get(k))}) | {yn(i[0][k])} | "
              f"{yn(i[1][k])} ({yn(i[2][k]) if k in i[2] else '-'}) |")
    for name, (_, _, _, (ok, seq_s, conn, par_s)) in results.items():
        print(f"| {name}: 1,000 sequential HTTP requests | {ok} x 200 in {seq_s:.2f} s "
              f"({ok / seq_s if seq_s else 0:.0f}/s) | 1,000 parallel connects | {conn} connected in {par_s:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

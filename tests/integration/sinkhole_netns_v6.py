#!/usr/bin/env python3
"""`trawl sinkhole` answers an IPv6-only guest through the Linux stack.

Two network namespaces the test creates (nothing else is touched):

  guest  2001:db8:1::10/64, default route via 2001:db8:1::1, no IPv4,
         resolv.conf -> 2001:db8:53::53
    | veth
  sink   IPv6 off on the link (runs `trawl sinkhole -i <that veth>`, which answers
         the neighbour solicitations for the guest's router 2001:db8:1::1)

A Windows sandbox guest prefers IPv6 whenever it has it, so the sinkhole's
IPv6 path must hold against a real stack, not only in unit tests. From the
guest, each bounded by a timeout: dig AAAA for a name (the sinkhole's DNS
over IPv6), curl over IPv6 to that name (HTTP) and to a literal address
(HTTPS through the sinkhole's CA), ping -6 to an address nobody owns. Then
checks the answers, the sinkhole's records (sinkhole_dns, sinkhole_http,
sinkhole_tls with IPv6 addresses) and that every frame the guest received
was injected by the sinkhole. IPv6 is off in the sink's kernel on that link,
as docs/sinkhole.md asks: with it on and no IPv6 default route, the kernel
answers the guest's packets to other addresses with ICMPv6 "no route" errors
and its connections fail (trawl sinkhole warns about that at start; checked
here too).

Needs root, tcpdump, curl, dig and ping; exits 77 (skipped) otherwise.
Every process it starts is stopped by PID and the namespaces and
/etc/netns/<guest> are removed, also on failure.

usage: sinkhole_netns_v6.py TRAWL
"""

import ipaddress
import os
import shutil
import subprocess
import sys
import tempfile

import sinkhole_netns
from sinkhole_netns import SKIP, client, in_ns, read_jsonl, read_pcap, run, start_tcpdump, stop, wait_for

GUEST_IP = "2001:db8:1::10"
SINK_IP = "2001:db8:1::1"
DNS_IP = "2001:db8:53::53"
HTTPS_IP = "2001:db8:443::7"
PING_IP = "2001:db8:99::50"
NAME = "v6.example.test"
POOL = ipaddress.ip_network("2001:2::/48")  # the DNS responder's default IPv6 pool

TOOLS = ["ip", "tcpdump", "curl", "dig", "sysctl", "ping"]


class Topology(sinkhole_netns.Topology):
    """guest <-> sink over IPv6 only; down() (the IPv4 test's) removes what up() made."""

    def __init__(self, tag):
        super().__init__(tag)
        self.guest, self.sink = f"tsv{tag}-g", f"tsv{tag}-s"
        self.veth_g, self.veth_s = f"tsv{tag}g", f"tsv{tag}s"
        self.etc_netns = os.path.join("/etc/netns", self.guest)

    def up(self):
        for ns in (self.guest, self.sink):
            run("ip", "netns", "add", ns)
            self.made.append(ns)
        run("ip", "link", "add", self.veth_g, "type", "veth", "peer", "name", self.veth_s)
        for dev, ns in ((self.veth_g, self.guest), (self.veth_s, self.sink)):
            run("ip", "link", "set", dev, "netns", ns)
        for ns, dev in ((self.guest, self.veth_g), (self.sink, self.veth_s)):
            run(*in_ns(ns, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=0"))
            # No duplicate-address wait, no router solicitations to wait for.
            run(*in_ns(ns, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"))
            run(*in_ns(ns, "sysctl", "-qw", "net.ipv6.conf.default.router_solicitations=0"))
            run(*in_ns(ns, "ip", "link", "set", "lo", "up"))
        run(*in_ns(self.guest, "ip", "-6", "addr", "add", f"{GUEST_IP}/64", "dev", self.veth_g, "nodad"))
        # The sink's kernel stays out of IPv6 on the guest's link (as docs/sinkhole.md
        # asks): the sinkhole answers the neighbour solicitations for the guest's
        # router itself, and no kernel "no route" error reaches the guest.
        run(*in_ns(self.sink, "sysctl", "-qw", f"net.ipv6.conf.{self.veth_s}.disable_ipv6=1"))
        for ns, dev in ((self.guest, self.veth_g), (self.sink, self.veth_s)):
            run(*in_ns(ns, "ip", "link", "set", dev, "up"))
        run(*in_ns(self.guest, "ip", "-6", "route", "add", "default", "via", SINK_IP))
        os.makedirs(self.etc_netns, exist_ok=True)
        self.made_etc = True
        with open(os.path.join(self.etc_netns, "resolv.conf"), "w", encoding="ascii") as f:
            f.write(f"nameserver {DNS_IP}\noptions timeout:2 attempts:1\n")


def tcp_rst_v6(frame):
    """An Ethernet frame carrying IPv6 + TCP (no extension headers) with RST set."""
    return len(frame) >= 14 + 40 + 14 and frame[12:14] == b"\x86\xdd" and frame[14 + 6] == 6 and \
        frame[14 + 40 + 13] & 0x04 != 0


def main():
    trawl, status = sinkhole_netns.preflight("sinkhole_netns_v6", __doc__, TOOLS)
    if trawl is None:
        return status
    topo = Topology(str(os.getpid() % 100000))
    work = tempfile.mkdtemp(prefix="trawl_sinkhole_v6_")
    procs = []
    problems = []
    try:
        try:
            topo.up()
        except subprocess.CalledProcessError as e:
            print(f"SKIP: cannot build the namespaces: {e.stderr.decode(errors='replace').strip()}")
            return SKIP
        # IPv6 on in the sink's kernel and no IPv6 default route: warned, with the fix.
        run(*in_ns(topo.sink, "sysctl", "-qw", f"net.ipv6.conf.{topo.veth_s}.disable_ipv6=0"))
        try:
            r = subprocess.run(in_ns(topo.sink, trawl, "sinkhole", "-i", topo.veth_s, "-o",
                                     os.path.join(work, "warned"), "--duration", "1s"),
                               capture_output=True, text=True, timeout=30,
                               env=dict(os.environ, TRAWL_SINKHOLE_CA_DIR=os.path.join(work, "ca")))
        finally:
            run(*in_ns(topo.sink, "sysctl", "-qw", f"net.ipv6.conf.{topo.veth_s}.disable_ipv6=1"))
        want = f"warning: IPv6 is on on {topo.veth_s} and this host has no IPv6 default route"
        if r.returncode != 0 or want not in r.stderr or \
                f"sysctl -w net.ipv6.conf.{topo.veth_s}.disable_ipv6=1" not in r.stderr:
            problems.append(f"no warning about IPv6 on without a default route ({r.returncode}): {r.stderr}")

        guest_pcap = os.path.join(work, "guest.pcap")
        procs.append(start_tcpdump(topo.guest, topo.veth_g, guest_pcap, inbound_only=True))
        case = os.path.join(work, "case")
        ca_dir = os.path.join(work, "ca")
        hole = subprocess.Popen(in_ns(topo.sink, trawl, "sinkhole", "-i", topo.veth_s, "-o", case,
                                      "--duration", "30s"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, TRAWL_SINKHOLE_CA_DIR=ca_dir))
        procs.append(hole)
        wait_for(lambda: os.path.exists(os.path.join(case, "sinkhole.pcap")) or hole.poll() is not None, 15,
                 "the sinkhole to start capturing")
        if hole.poll() is not None:
            out, err = hole.communicate()
            raise AssertionError(f"trawl sinkhole exited early ({hole.returncode}): {err}")

        # DNS over IPv6: an AAAA from the sinkhole's pool.
        r = client(topo, "dig", "+short", "+time=3", "+tries=1", "AAAA", NAME)
        lines = r.stdout.decode().split()
        aaaa = lines[0] if lines else ""
        try:
            in_pool = ipaddress.ip_address(aaaa) in POOL
        except ValueError:
            in_pool = False
        if r.returncode != 0 or not in_pool:
            problems.append(f"dig AAAA {NAME}: rc {r.returncode} {lines} {r.stderr!r}")

        # HTTP over IPv6 to the name (curl resolves it through the sinkhole too).
        body_path = os.path.join(work, "b.exe")
        r = client(topo, "curl", "-6", "-sS", "--max-time", "8", "-o", body_path, "-w", "%{http_code} %{remote_ip}",
                   f"http://{NAME}/v6/setup.exe")
        code, _, remote = r.stdout.decode().partition(" ")
        body = open(body_path, "rb").read() if os.path.exists(body_path) else b""
        if r.returncode != 0 or code != "200" or remote != aaaa or body[:2] != b"MZ":
            problems.append(f"curl -6 http: rc {r.returncode} {r.stdout!r} body {body[:16]!r} {r.stderr!r}")

        # HTTPS over IPv6 to a literal address, the chain checked against the CA.
        r = client(topo, "curl", "-6", "-sS", "--cacert", os.path.join(case, "sinkhole-ca.crt"), "--max-time", "10",
                   "-o", "/dev/null", "-w", "%{http_code}", f"https://[{HTTPS_IP}]/x")
        if r.returncode != 0 or r.stdout != b"200":
            problems.append(f"curl -6 https: rc {r.returncode} {r.stdout!r} {r.stderr!r}")

        # ICMPv6 echo to an address nobody owns.
        r = client(topo, "ping", "-6", "-c", "2", "-W", "2", PING_IP)
        if r.returncode != 0:
            problems.append(f"ping -6: rc {r.returncode} {r.stdout[-200:]!r}")

        stop(hole, wait=15)
        for p in procs:
            stop(p)
        if hole.returncode != 0:
            problems.append(f"trawl sinkhole exit {hole.returncode}: {hole.stderr.read()[-400:]}")

        http = read_jsonl(os.path.join(case, "sinkhole_http.jsonl"))
        if not any(h.get("uri") == "/v6/setup.exe" and h.get("id.resp_h") == aaaa and
                   h.get("id.orig_h") == GUEST_IP for h in http):
            problems.append(f"sinkhole_http lacks the IPv6 download: {http}")
        tls = read_jsonl(os.path.join(case, "sinkhole_tls.jsonl"))
        if not any(t.get("id.resp_h") == HTTPS_IP and t.get("established") is True for t in tls):
            problems.append(f"sinkhole_tls lacks the IPv6 handshake: {tls}")
        dns = read_jsonl(os.path.join(case, "sinkhole_dns.jsonl"))
        if not any(d.get("query") == NAME and d.get("id.resp_h") == DNS_IP for d in dns):
            problems.append(f"sinkhole_dns lacks {NAME} asked of {DNS_IP}: {dns[:3]}")

        # IPv6 is off in the sink's kernel on this link: every frame the guest
        # received is one the sinkhole injected (no kernel RST, no ICMPv6 error).
        injected = {f for _, f in read_pcap(os.path.join(case, "sinkhole.pcap"))}
        received = [f for _, f in read_pcap(guest_pcap)]
        foreign = [f for f in received if f not in injected]
        if foreign:
            rsts = sum(1 for f in foreign if tcp_rst_v6(f))
            problems.append(f"the guest received {len(foreign)} frame(s) the sinkhole did not inject ({rsts} TCP RST), "
                            f"first: {foreign[0][:80].hex()}")
        if len(received) < 10:
            problems.append(f"the guest capture holds only {len(received)} frames")
    finally:
        for p in procs:
            stop(p)
        topo.down()
        if os.environ.get("SINKHOLE_NETNS_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work folder kept: {work}")
    if problems:
        for p in problems:
            print("FAIL:", p)
        return 1
    print("ok: an IPv6-only guest got DNS, HTTP, HTTPS and ping answers from the sinkhole")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Writes the crafted test captures in tests/data/crafted/ and their sidecar
conn_states.json (what Zeek would log for each connection in them).

Run with Debian's /usr/bin/python3 (it has python3-scapy):

    /usr/bin/python3 tests/tools/craft_captures.py [--out DIR]

Deterministic: packet times start at 1700000000.0 and advance by fixed steps,
payloads come from seeded generators, IP ids / sequence numbers / MACs are
fixed. Running it twice gives byte-identical files. Scapy only builds the
packets; every capture file (classic pcap in both byte orders and both time
resolutions, pcapng with several sections) is written by the small writers
below so that the file format is exactly what each test needs.

Addresses: documentation ranges (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24, 2001:db8::/32) for "outside" hosts, RFC 1918 for inside ones.

The expected conn_state and history of every TCP case are reasoned from Zeek's
rules (scripts/base/protocols/conn/main.zeek conn_state(), the endpoint state
machine in src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc, history
letters recorded once per direction through CheckHistory, the '^' added when
Zeek flips a connection whose first packet comes from a likely server port).
The reasoning for each case is in the "why" field of the sidecar.
"""

import argparse
import json
import os
import random
import struct
import sys

from scapy.all import (ARP, DNS, DNSQR, DNSRR, GRE, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether,
                       ICMPv6EchoReply, ICMPv6EchoRequest, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, Raw, conf)
from scapy.contrib.mpls import MPLS
from scapy.layers.l2 import CookedLinux, CookedLinuxV2
from scapy.layers.ppp import PPP, PPPoE
from scapy.layers.vxlan import VXLAN

conf.verb = 0

T0_NS = 1700000000 * 10**9
MS = 10**6  # nanoseconds per millisecond

# Link types (https://www.tcpdump.org/linktypes.html)
LT_NULL = 0
LT_ETHERNET = 1
LT_RAW = 101
LT_LINUX_SLL = 113
LT_LINUX_SLL2 = 276

MAC_C = "02:00:00:00:00:0c"  # client side
MAC_S = "02:00:00:00:00:05"  # server side / router


# --------------------------------------------------------------------------
# capture writers


class Capture:
    """Frames with nanosecond timestamps, written as pcap or pcapng later."""

    def __init__(self, start_ns=T0_NS):
        self.now = start_ns
        self.frames = []  # (ts_ns, bytes, orig_len, ifid)

    def add(self, frame, dt=10 * MS, orig_len=None, ifid=0):
        self.now += dt
        self.frames.append((self.now, bytes(frame), orig_len, ifid))

    def at(self, ts_ns):
        self.now = ts_ns


def write_pcap(path, linktype, frames, nsec=False, big_endian=False, snaplen=262144):
    e = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
    out = bytearray(struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
    for ts_ns, data, orig_len, _ in frames:
        sec, frac_ns = divmod(ts_ns, 10**9)
        frac = frac_ns if nsec else frac_ns // 1000
        out += struct.pack(e + "IIII", sec, frac, len(data), orig_len or len(data))
        out += data
    with open(path, "wb") as f:
        f.write(out)


def _pad4(b):
    return b + b"\0" * ((4 - len(b) % 4) % 4)


def ng_opt(e, code, value):
    return struct.pack(e + "HH", code, len(value)) + _pad4(value)


def ng_opts(e, opts):
    if not opts:
        return b""
    return b"".join(ng_opt(e, c, v) for c, v in opts) + struct.pack(e + "HH", 0, 0)


def ng_block(e, btype, body):
    total = 12 + len(body)
    return struct.pack(e + "II", btype, total) + body + struct.pack(e + "I", total)


def ng_shb(e, opts=()):
    body = struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1) + ng_opts(e, list(opts))
    return ng_block(e, 0x0A0D0D0A, body)


def ng_idb(e, linktype, tsresol=None, name=None, snaplen=262144):
    opts = []
    if name:
        opts.append((2, name.encode()))
    if tsresol is not None:
        opts.append((9, bytes([tsresol])))
    body = struct.pack(e + "HHI", linktype, 0, snaplen) + ng_opts(e, opts)
    return ng_block(e, 1, body)


def ng_epb(e, ifid, ts_ns, tsresol, data, orig_len=None):
    units = ts_ns // (10 ** (9 - tsresol))
    body = struct.pack(e + "IIIII", ifid, units >> 32, units & 0xFFFFFFFF, len(data), orig_len or len(data))
    body += _pad4(data)
    return ng_block(e, 6, body)


def ng_isb(e, ifid, ts_ns, tsresol, recv, drop):
    units = ts_ns // (10 ** (9 - tsresol))
    opts = [(4, struct.pack(e + "Q", recv)), (5, struct.pack(e + "Q", drop))]
    body = struct.pack(e + "III", ifid, units >> 32, units & 0xFFFFFFFF) + ng_opts(e, opts)
    return ng_block(e, 5, body)


def ng_nrb(e, records):
    body = b""
    for addr4, name in records:
        val = bytes(int(x) for x in addr4.split(".")) + name.encode() + b"\0"
        body += struct.pack(e + "HH", 1, len(val)) + _pad4(val)
    body += struct.pack(e + "HH", 0, 0)
    return ng_block(e, 4, body)


# --------------------------------------------------------------------------
# packet helpers


def payload(seed, n):
    return random.Random(seed).randbytes(n)


def eth(c2s=True, mac_c=MAC_C, mac_s=MAC_S):
    """Returns an encapsulation: IP packet -> Ethernet frame."""
    def enc(ip, from_client):
        src, dst = (mac_c, mac_s) if from_client else (mac_s, mac_c)
        return Ether(src=src, dst=dst) / ip
    return enc


class TcpConv:
    """A TCP conversation: tracks sequence numbers so cases stay readable."""

    def __init__(self, cap, enc, cli, cport, srv, sport, isn_c=1000, isn_s=5000, v6=False, ip_extra=None):
        self.cap, self.enc = cap, enc
        self.cli, self.cport, self.srv, self.sport = cli, cport, srv, sport
        self.nxt = {True: isn_c, False: isn_s}  # next sequence number per side
        self.v6 = v6
        self.ip_extra = ip_extra  # callable(from_client) -> list of extension headers (IPv6)
        self.ipid = {True: 0x100, False: 0x200}

    def _ip(self, from_client):
        src, dst = (self.cli, self.srv) if from_client else (self.srv, self.cli)
        if self.v6:
            p = IPv6(src=src, dst=dst, hlim=64)
            for h in (self.ip_extra(from_client) if self.ip_extra else []):
                p = p / h
            return p
        self.ipid[from_client] += 1
        return IP(src=src, dst=dst, id=self.ipid[from_client], ttl=64, flags="DF")

    def send(self, from_client, flags, data=b"", dt=10 * MS, seq=None, ack=None, window=29200, pad_to=None):
        sp, dp = (self.cport, self.sport) if from_client else (self.sport, self.cport)
        s = self.nxt[from_client] if seq is None else seq
        a = self.nxt[not from_client] if ack is None else ack
        if "A" not in flags:
            a = 0
        tcp = TCP(sport=sp, dport=dp, flags=flags, seq=s, ack=a, window=window)
        pkt = self._ip(from_client) / tcp
        if data:
            pkt = pkt / Raw(data)
        frame = bytes(self.enc(pkt, from_client))
        if pad_to and len(frame) < pad_to:
            frame += b"\x5a" * (pad_to - len(frame))  # non-zero padding on purpose
        self.cap.add(frame, dt)
        if seq is None:
            self.nxt[from_client] = s + len(data) + ("S" in flags) + ("F" in flags)
        return pkt

    # shorthands
    def c(self, flags, data=b"", **kw):
        return self.send(True, flags, data, **kw)

    def s(self, flags, data=b"", **kw):
        return self.send(False, flags, data, **kw)


def ip_len(pkt):
    """IP total length (IPv6: 40 + payload length) of a scapy packet."""
    b = bytes(pkt)
    if b[0] >> 4 == 4:
        return struct.unpack("!H", b[2:4])[0]
    return 40 + struct.unpack("!H", b[4:6])[0]


# --------------------------------------------------------------------------
# expectations (the sidecar)

SIDE = {}


def expect(fname, what, conns, inputs=None, exact=True, absent=(), notes=None):
    """Records what Zeek would log for a crafted file.

    conns: list of dicts with proto, orig_h, orig_p, resp_h, resp_p and the
    fields to check (None = not checked). exact: the file yields exactly these
    connections (no others)."""
    SIDE[fname] = {
        "inputs": inputs or [fname],
        "proves": what,
        "exact": exact,
        "connections": conns,
        "absent": list(absent),
    }
    if notes:
        SIDE[fname]["notes"] = notes


def conn(proto, oh, op, rh, rp, **fields):
    d = {"proto": proto, "orig_h": oh, "orig_p": op, "resp_h": rh, "resp_p": rp}
    d.update(fields)
    return d


class Tally:
    """Counts packets and IP bytes per direction while a case is built."""

    def __init__(self):
        self.op = self.rp = self.oip = self.rip = 0

    def o(self, pkt):
        self.op += 1
        self.oip += ip_len(pkt)

    def r(self, pkt):
        self.rp += 1
        self.rip += ip_len(pkt)

    def fields(self):
        return {"orig_pkts": self.op, "orig_ip_bytes": self.oip, "resp_pkts": self.rp, "resp_ip_bytes": self.rip}


# --------------------------------------------------------------------------
# TCP conn_state cases

CLI = "192.168.1.10"
SRV = "203.0.113.10"
SPORT = 80  # a "likely server port" for Zeek (HTTP analyzer), used by the flip cases


def tcp_case(state, history, build, why, cport):
    cap = Capture()
    t = Tally()
    conv = TcpConv(cap, eth(), CLI, cport, SRV, SPORT)

    steps = []

    def c(flags, data=b"", **kw):
        t.o(conv.c(flags, data, **kw))
        steps.append(f"client {flags}" + (f"+{len(data)}B" if data else ""))

    def s(flags, data=b"", **kw):
        t.r(conv.s(flags, data, **kw))
        steps.append(f"server {flags}" + (f"+{len(data)}B" if data else ""))

    obytes, rbytes = build(c, s)
    fname = f"conn_{state}.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames)
    f = t.fields()
    expect(fname, f"TCP conn_state {state}: {why}. Packets: {', '.join(steps)}.", [conn(
        "tcp", CLI, cport, SRV, SPORT, conn_state=state, history=history,
        orig_bytes=obytes, resp_bytes=rbytes, missed_bytes=0, **f)])


D10 = payload(1, 10)
D20 = payload(2, 20)


def b_S0(c, s):
    c("S")
    c("S", dt=1000 * MS, seq=1000)  # retransmitted SYN, same sequence number: no second 'S'
    c("S", dt=2000 * MS, seq=1000)
    return 0, 0


def b_S1(c, s):
    c("S"); s("SA"); c("A"); c("PA", D10); s("A"); s("PA", D20); c("A")
    return 10, 20


def b_SF(c, s):
    c("S"); s("SA"); c("A"); c("PA", D10); s("A"); s("PA", D20); c("A")
    c("FA"); s("FA"); c("A")
    return 10, 20


def b_REJ(c, s):
    c("S"); s("RA", seq=0)
    return 0, 0


def b_S2(c, s):
    c("S"); s("SA"); c("A"); c("PA", D10); s("A"); c("FA")
    return 10, 0


def b_S3(c, s):
    c("S"); s("SA"); c("A"); c("PA", D10); s("PA", D20); s("FA")
    return 10, 20


def b_RSTO(c, s):
    c("S"); s("SA"); c("A"); c("PA", D10); s("A"); s("PA", D20); c("RA")
    return 10, 20


def b_RSTR(c, s):
    c("S"); s("SA"); c("A"); c("PA", D10); s("A"); s("RA")
    return 10, 0


def b_RSTOS0(c, s):
    c("S"); c("R", dt=500 * MS)
    return 0, 0


def b_RSTRH(c, s):
    s("SA", ack=778); s("R", dt=500 * MS)
    return 0, 0


def b_SH(c, s):
    c("S"); c("F", dt=500 * MS)
    return 0, 0


def b_SHR(c, s):
    s("SA", ack=778); s("FA", dt=500 * MS, ack=778)
    return 0, 0


def b_OTH(c, s):
    # Midstream: no SYN from either side. Sequence numbers as if established.
    c("PA", D10, seq=123457, ack=987655)
    s("PA", D20, seq=987655, ack=123467)
    c("A", seq=123467, ack=987675)
    return 10, 20


TCP_CASES = [
    ("S0", "S", b_S0, "SYN only (retransmitted twice with the same sequence number, so one 'S'); "
     "orig SYN_SENT, resp INACTIVE -> S0"),
    ("S1", "ShADad", b_S1, "handshake and data, no FIN/RST: both endpoints ESTABLISHED -> S1"),
    ("SF", "ShADadFf", b_SF, "handshake, data both ways, FIN from each side: both CLOSED -> SF"),
    ("REJ", "Sr", b_REJ, "SYN answered by RST+ACK: resp RESET while orig SYN_SENT -> REJ"),
    ("S2", "ShADaF", b_S2, "established, originator FIN never answered: orig CLOSED, resp ESTABLISHED -> S2"),
    ("S3", "ShADdf", b_S3, "established, responder FIN never answered: resp CLOSED, orig ESTABLISHED -> S3"),
    ("RSTO", "ShADadR", b_RSTO, "established, originator sends RST+ACK: orig RESET, resp ESTABLISHED -> RSTO"),
    ("RSTR", "ShADar", b_RSTR, "established, responder sends RST+ACK: resp RESET, orig ESTABLISHED -> RSTR"),
    ("RSTOS0", "SR", b_RSTOS0, "SYN then RST from the originator, nothing from the responder: orig RESET, "
     "resp INACTIVE and history matches /^?S[^HAFGIQ]*R.*/ -> RSTOS0"),
    ("RSTRH", "^hr", b_RSTRH, "first packet is a SYN+ACK from port 80 to an ephemeral port: Zeek flips the "
     "connection ('^', likely_server_ports) so the SYN+ACK sender is the responder ('h'), then it sends RST ('r'); "
     "resp RESET, orig INACTIVE -> RSTRH"),
    ("SH", "SF", b_SH, "SYN then FIN from the originator, no SYN+ACK: orig CLOSED, resp INACTIVE -> SH"),
    ("SHR", "^hf", b_SHR, "SYN+ACK from port 80 (flipped, '^h') then FIN+ACK from the same side: resp CLOSED, "
     "orig INACTIVE -> SHR"),
    ("OTH", "DdA", b_OTH, "midstream data both ways and an ACK, no SYN, client port is not a likely server port "
     "so no flip: both endpoints PARTIAL -> OTH"),
]


def craft_tcp_states():
    for i, (state, hist, build, why) in enumerate(TCP_CASES):
        tcp_case(state, hist, build, why, 49152 + i)


# --------------------------------------------------------------------------
# IP fragments


def udp_bytes_v4(src, dst, sport, dport, data):
    return bytes(IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(data))[20:]


def frag_v4(src, dst, ipid, l4, chunk=1480, proto=17):
    """Splits an L4 datagram into IPv4 fragments (list in offset order)."""
    frags = []
    for off in range(0, len(l4), chunk):
        part = l4[off:off + chunk]
        more = off + chunk < len(l4)
        frags.append(IP(src=src, dst=dst, id=ipid, ttl=64, proto=proto, flags="MF" if more else 0,
                        frag=off // 8) / Raw(part))
    return frags


def craft_ipv4_frag():
    cap = Capture()
    enc = eth()
    c, s = "10.0.0.5", "198.51.100.20"
    data = payload(10, 3000)
    l4 = udp_bytes_v4(c, s, 40000, 9999, data)
    frags = frag_v4(c, s, 0x1234, l4)
    assert len(frags) == 3
    for f in (frags[2], frags[0], frags[1]):  # out of order: last fragment first
        cap.add(enc(f, True))
    reply = IP(src=s, dst=c, id=0x4321, ttl=64) / UDP(sport=9999, dport=40000) / Raw(payload(11, 100))
    cap.add(enc(reply, False))
    # An incomplete datagram (the middle fragment never arrives): nothing to count.
    l4b = udp_bytes_v4(c, s, 40001, 9999, payload(12, 3000))
    fb = frag_v4(c, s, 0x1235, l4b)
    cap.add(enc(fb[0], True))
    cap.add(enc(fb[2], True))
    # A second complete datagram in order, reusing the first one's ports: the
    # same connection gets two reassembled packets.
    l4c = udp_bytes_v4(c, s, 40000, 9999, payload(13, 2000))
    for f in frag_v4(c, s, 0x1236, l4c):
        cap.add(enc(f, True))
    fname = "ipv4_frag_udp_ooo.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames)
    expect(fname, "IPv4 reassembly: a 3000-byte UDP datagram in three fragments arriving last-first, a "
           "2000-byte one in order, and an incomplete one (middle fragment missing). Each reassembled "
           "datagram counts as ONE packet with ip_len = 20 + 8 + payload; the incomplete one yields no "
           "connection.",
           [conn("udp", c, 40000, s, 9999, conn_state="SF", history="Dd", orig_pkts=2,
                 orig_ip_bytes=(20 + 8 + 3000) + (20 + 8 + 2000), resp_pkts=1, resp_ip_bytes=20 + 8 + 100,
                 orig_bytes=5000, resp_bytes=100)],
           absent=[{"proto": "udp", "orig_h": c, "orig_p": 40001, "resp_h": s, "resp_p": 9999}])


def craft_ipv6():
    cap = Capture()
    enc = eth()
    c, s = "2001:db8::10", "2001:db8::20"
    # TCP whose client packets carry Hop-by-Hop and Destination Options headers.
    ext = lambda from_client: ([IPv6ExtHdrHopByHop(), IPv6ExtHdrDestOpt()] if from_client else [])
    t = Tally()
    conv = TcpConv(cap, enc, c, 49300, s, 80, v6=True, ip_extra=ext)
    for who, fl, d in [(1, "S", b""), (0, "SA", b""), (1, "A", b""), (1, "PA", D10), (0, "A", b""),
                       (0, "PA", D20), (1, "A", b""), (1, "FA", b""), (0, "FA", b""), (1, "A", b"")]:
        p = conv.send(bool(who), fl, d)
        (t.o if who else t.r)(p)
    # Fragmented UDP datagram, Hop-by-Hop header (unfragmentable part) before
    # the Fragment header.
    data = payload(20, 3000)
    l4 = bytes(IPv6(src=c, dst=s) / UDP(sport=49400, dport=7000) / Raw(data))[40:]
    chunk = 1232
    offs = list(range(0, len(l4), chunk))
    for off in offs:
        part = l4[off:off + chunk]
        more = 1 if off + chunk < len(l4) else 0
        f = (IPv6(src=c, dst=s, hlim=64) / IPv6ExtHdrHopByHop() /
             IPv6ExtHdrFragment(nh=17, offset=off // 8, m=more, id=0xABCD0001) / Raw(part))
        cap.add(enc(f, True))
    reply = IPv6(src=s, dst=c, hlim=64) / UDP(sport=7000, dport=49400) / Raw(payload(21, 50))
    cap.add(enc(reply, False))
    # ICMPv6 echo request / reply.
    cap.add(enc(IPv6(src=c, dst=s, hlim=64) / ICMPv6EchoRequest(id=7, seq=1, data=payload(22, 32)), True))
    cap.add(enc(IPv6(src=s, dst=c, hlim=64) / ICMPv6EchoReply(id=7, seq=1, data=payload(22, 32)), False))
    fname = "ipv6_ext_frag.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames)
    expect(fname, "IPv6: TCP whose client packets carry Hop-by-Hop + Destination Options headers (the "
           "transport is found after them; ip_len = 40 + payload length, which includes the extension "
           "headers), a 3000-byte UDP datagram in three fragments with a Hop-by-Hop header before the "
           "Fragment header (reassembled: ONE packet, ip_len = 40 + 8 (HBH) + 8 + 3000), and an ICMPv6 echo.",
           [conn("tcp", c, 49300, s, 80, conn_state="SF", history="ShADadFf", orig_bytes=10, resp_bytes=20,
                 **t.fields()),
            conn("udp", c, 49400, s, 7000, conn_state="SF", history="Dd", orig_pkts=1,
                 orig_ip_bytes=40 + 8 + 8 + 3000, resp_pkts=1, resp_ip_bytes=40 + 8 + 50,
                 orig_bytes=3000, resp_bytes=50),
            conn("icmp", c, 128, s, 129, conn_state="OTH", history=None, orig_pkts=1, orig_ip_bytes=40 + 8 + 32,
                 resp_pkts=1, resp_ip_bytes=40 + 8 + 32)])


# --------------------------------------------------------------------------
# link layers and encapsulations


def simple_tcp_sf(cap, enc, cli, cport, srv, sport, v6=False):
    """Standard SF exchange; returns the expected conn dict."""
    t = Tally()
    conv = TcpConv(cap, enc, cli, cport, srv, sport, v6=v6)
    for who, fl, d in [(1, "S", b""), (0, "SA", b""), (1, "A", b""), (1, "PA", D10), (0, "A", b""),
                       (0, "PA", D20), (1, "A", b""), (1, "FA", b""), (0, "FA", b""), (1, "A", b"")]:
        p = conv.send(bool(who), fl, d)
        (t.o if who else t.r)(p)
    return conn("tcp", cli, cport, srv, sport, conn_state="SF", history="ShADadFf", orig_bytes=10,
                resp_bytes=20, **t.fields())


def dns_pair(seed, v6=False):
    """A DNS query and its answer (real messages, so DNS parsers see DNS)."""
    name = f"host{seed}.example.com"
    qid = (0x1000 + seed * 7919) & 0xFFFF
    q = DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype="AAAA" if v6 else "A"))
    if v6:
        an = DNSRR(rrname=name, type="AAAA", ttl=300, rdata=f"2001:db8:ffff::{seed % 250 + 1:x}")
    else:
        an = DNSRR(rrname=name, type="A", ttl=300, rdata=f"192.0.2.{seed % 250 + 1}")
    r = DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype="AAAA" if v6 else "A"), an=an)
    return bytes(q), bytes(r)


def simple_udp(cap, enc, cli, cport, srv, sport, seed=0, v6=False):
    """One request and one answer (DNS messages when the server port is 53 or
    5353, seeded random bytes otherwise); returns the expected conn dict."""
    L3 = IPv6 if v6 else IP
    if sport in (53, 5353):
        qd, rd = dns_pair(seed, v6)
    else:
        qd, rd = payload(seed, 30), payload(seed + 1, 60)
    q = L3(src=cli, dst=srv) / UDP(sport=cport, dport=sport) / Raw(qd)
    r = L3(src=srv, dst=cli) / UDP(sport=sport, dport=cport) / Raw(rd)
    cap.add(enc(q, True))
    cap.add(enc(r, False))
    return conn("udp", cli, cport, srv, sport, conn_state="SF", history="Dd", orig_pkts=1,
                orig_ip_bytes=ip_len(q), resp_pkts=1, resp_ip_bytes=ip_len(r), orig_bytes=len(qd),
                resp_bytes=len(rd))


def craft_vlan():
    cap = Capture()

    def vl(vid):
        def enc(ip, fc):
            src, dst = (MAC_C, MAC_S) if fc else (MAC_S, MAC_C)
            return Ether(src=src, dst=dst) / Dot1Q(vlan=vid, prio=0) / ip
        return enc

    a = simple_tcp_sf(cap, vl(100), "10.1.100.5", 49500, "198.51.100.80", 80)
    a["vlan"] = 100
    b = simple_udp(cap, vl(200), "10.1.200.5", 49501, "198.51.100.53", 53, seed=30)
    b["vlan"] = 200
    # Same 5-tuple as the UDP flow but on another VLAN. Zeek's default
    # connection key ignores VLAN ids (policy/frameworks/conn_key/
    # vlan_fivetuple.zeek, Zeek 8, makes them part of the key), so this is
    # the SAME connection, and its vlan stays the one of its first packet.
    c2 = simple_udp(cap, vl(201), "10.1.200.5", 49501, "198.51.100.53", 53, seed=32)
    for f in ("orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "orig_bytes", "resp_bytes"):
        b[f] += c2[f]
    fname = "vlan_8021q.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames)
    expect(fname, "802.1Q: a TCP connection on VLAN 100 and a UDP flow on VLAN 200; the same UDP 5-tuple "
           "then appears on VLAN 201 and, as in Zeek (whose default connection key ignores VLAN ids), joins "
           "the same connection, whose vlan stays 200 (its first packet's).", [a, b])


def craft_qinq():
    cap = Capture()

    def q_ad(outer, inner):  # 802.1ad S-tag (0x88a8) + 802.1Q C-tag
        def enc(ip, fc):
            src, dst = (MAC_C, MAC_S) if fc else (MAC_S, MAC_C)
            return Ether(src=src, dst=dst, type=0x88A8) / Dot1AD(vlan=outer) / Dot1Q(vlan=inner) / ip
        return enc

    def q_qq(outer, inner):  # old-style double 0x8100
        def enc(ip, fc):
            src, dst = (MAC_C, MAC_S) if fc else (MAC_S, MAC_C)
            return Ether(src=src, dst=dst) / Dot1Q(vlan=outer) / Dot1Q(vlan=inner) / ip
        return enc

    a = simple_tcp_sf(cap, q_ad(300, 30), "10.3.30.5", 49600, "198.51.100.81", 443)
    a["vlan"] = 300
    b = simple_udp(cap, q_qq(400, 40), "10.4.40.5", 49601, "198.51.100.53", 53, seed=40)
    b["vlan"] = 400
    fname = "qinq.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames)
    expect(fname, "QinQ: 802.1ad (0x88a8) outer 300 + 802.1Q inner 30 carrying TCP, and double 0x8100 "
           "(outer 400, inner 40) carrying UDP; both decode to the inner IP packet; vlan = outer id.", [a, b],
           notes="vlan is the outer tag (Zeek's vlan; inner_vlan would be 30 / 40)")


def craft_mpls():
    cap = Capture()

    def enc(ip, fc):
        src, dst = (MAC_C, MAC_S) if fc else (MAC_S, MAC_C)
        return Ether(src=src, dst=dst, type=0x8847) / MPLS(label=100, s=0, ttl=64) / MPLS(label=200, s=1, ttl=64) / ip

    a = simple_tcp_sf(cap, enc, "10.5.0.5", 49700, "203.0.113.80", 80)
    b = simple_udp(cap, enc, "10.5.0.5", 49701, "203.0.113.53", 53, seed=50)
    fname = "mpls_2labels.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames)
    expect(fname, "MPLS unicast (0x8847) with a two-label stack (bottom-of-stack bit on the second) over IPv4.",
           [a, b])


def craft_pppoe():
    cap = Capture()

    def enc(ip, fc):
        src, dst = (MAC_C, MAC_S) if fc else (MAC_S, MAC_C)
        proto = 0x0057 if ip.version == 6 else 0x0021
        return Ether(src=src, dst=dst, type=0x8864) / PPPoE(version=1, type=1, code=0, sessionid=0x0042) / PPP(proto=proto) / ip

    a = simple_tcp_sf(cap, enc, "100.64.0.5", 49800, "203.0.113.81", 80)
    b = simple_udp(cap, enc, "2001:db8:100::5", 49801, "2001:db8:53::53", 53, seed=60, v6=True)
    fname = "pppoe_session.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames)
    expect(fname, "PPPoE session stage (0x8864, session 0x0042): PPP protocol 0x0021 (IPv4, TCP) and 0x0057 "
           "(IPv6, UDP).", [a, b])


def craft_sll():
    cap = Capture()

    def enc(ip, fc):
        # Outgoing (4) from the capturing host for client packets, to-us (0) for replies.
        return CookedLinux(pkttype=4 if fc else 0, lladdrtype=1, lladdrlen=6,
                           src=bytes.fromhex((MAC_C if fc else MAC_S).replace(":", "")) + b"\0\0",
                           proto=0x86DD if ip.version == 6 else 0x0800) / ip

    a = simple_tcp_sf(cap, enc, "192.168.7.5", 49900, "198.51.100.82", 8080)
    b = simple_udp(cap, enc, "2001:db8:7::5", 49901, "2001:db8:53::53", 53, seed=70, v6=True)
    fname = "linux_sll.pcap"
    write_pcap(os.path.join(OUT, fname), LT_LINUX_SLL, cap.frames)
    expect(fname, "Linux cooked capture v1 (linktype 113, 16-byte header) with IPv4 TCP and IPv6 UDP.", [a, b])


def craft_sll2():
    cap = Capture()

    def enc(ip, fc):
        return CookedLinuxV2(proto=0x86DD if ip.version == 6 else 0x0800, ifindex=2, lladdrtype=1,
                             pkttype=4 if fc else 0, lladdrlen=6,
                             src=bytes.fromhex((MAC_C if fc else MAC_S).replace(":", "")) + b"\0\0") / ip

    a = simple_tcp_sf(cap, enc, "192.168.8.5", 50000, "198.51.100.83", 8443)
    b = simple_udp(cap, enc, "2001:db8:8::5", 50001, "2001:db8:53::53", 53, seed=80, v6=True)
    fname = "linux_sll2.pcap"
    write_pcap(os.path.join(OUT, fname), LT_LINUX_SLL2, cap.frames)
    expect(fname, "Linux cooked capture v2 (linktype 276, 20-byte header) with IPv4 TCP and IPv6 UDP.", [a, b])


def craft_raw():
    cap = Capture()
    enc = lambda ip, fc: ip
    a = simple_tcp_sf(cap, enc, "10.9.0.5", 50100, "203.0.113.84", 22)
    b = simple_udp(cap, enc, "2001:db8:9::5", 50101, "2001:db8:53::53", 53, seed=90, v6=True)
    fname = "raw_ip.pcap"
    write_pcap(os.path.join(OUT, fname), LT_RAW, cap.frames)
    expect(fname, "LINKTYPE_RAW (101): packets start with the IP header, version nibble picks IPv4 or IPv6.",
           [a, b])


def craft_null():
    cap = Capture()

    def fam(af):
        # DLT_NULL: 4-byte address family in the capturing host's byte order;
        # this file is little-endian, so the family is little-endian too.
        return lambda ip, fc: struct.pack("<I", af) + bytes(ip)

    a = simple_tcp_sf(cap, fam(2), "127.0.0.1", 50200, "127.0.0.1", 8000)
    b = simple_udp(cap, fam(24), "::1", 50201, "::1", 5353, seed=100, v6=True)   # NetBSD/OpenBSD AF_INET6
    c = simple_udp(cap, fam(28), "::1", 50202, "::1", 5353, seed=102, v6=True)   # FreeBSD
    d = simple_udp(cap, fam(30), "::1", 50203, "::1", 5353, seed=104, v6=True)   # macOS
    fname = "bsd_loopback_null.pcap"
    write_pcap(os.path.join(OUT, fname), LT_NULL, cap.frames)
    expect(fname, "BSD loopback (DLT_NULL, linktype 0): 4-byte host-order family; AF_INET=2 and the three "
           "AF_INET6 values 24/28/30 used by the BSDs and macOS. Both ends are the same address, so the "
           "originator is decided by the first packet, not by address order.", [a, b, c, d])


def craft_gre():
    cap = Capture()

    def enc(ip, fc):
        osrc, odst = ("192.0.2.1", "192.0.2.2") if fc else ("192.0.2.2", "192.0.2.1")
        src, dst = (MAC_C, MAC_S) if fc else (MAC_S, MAC_C)
        return Ether(src=src, dst=dst) / IP(src=osrc, dst=odst, ttl=64, id=7) / GRE(proto=0x0800) / ip

    a = simple_tcp_sf(cap, enc, "10.20.0.5", 50300, "10.30.0.80", 80)
    b = simple_udp(cap, enc, "10.20.0.5", 50301, "10.30.0.53", 53, seed=110)
    fname = "gre_ipv4.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames)
    expect(fname, "GRE (IP proto 47, protocol 0x0800) between 192.0.2.1 and 192.0.2.2 carrying IPv4 TCP and "
           "UDP: connections are the inner ones, ip_bytes are the inner IP lengths.", [a, b], exact=False,
           notes="exact=false: Zeek would also log tunnel state; whether the outer GRE packets yield a record "
                 "is not specified here")


def craft_vxlan():
    cap = Capture()

    def enc(ip, fc):
        osrc, odst = ("192.0.2.10", "192.0.2.20") if fc else ("192.0.2.20", "192.0.2.10")
        src, dst = (MAC_C, MAC_S) if fc else (MAC_S, MAC_C)
        isrc, idst = ("02:00:00:00:01:0c", "02:00:00:00:01:05") if fc else ("02:00:00:00:01:05", "02:00:00:00:01:0c")
        return (Ether(src=src, dst=dst) / IP(src=osrc, dst=odst, ttl=64, id=9) /
                UDP(sport=54321 if fc else 54322, dport=4789) / VXLAN(vni=42, flags=0x08) /
                Ether(src=isrc, dst=idst) / ip)

    a = simple_tcp_sf(cap, enc, "10.40.0.5", 50400, "10.40.0.80", 80)
    b = simple_udp(cap, enc, "10.40.0.5", 50401, "10.40.0.53", 53, seed=120)
    fname = "vxlan.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames)
    expect(fname, "VXLAN (UDP 4789, VNI 42) carrying Ethernet + IPv4 TCP and UDP: connections are the inner "
           "ones.", [a, b], exact=False,
           notes="exact=false: Zeek also logs the outer UDP 4789 flows (service vxlan); not checked here")


def craft_icmp_dns():
    cap = Capture()
    enc = eth()
    me = "192.168.1.10"
    conns = []
    for i, host in enumerate(range(1, 9)):
        dst = f"192.168.1.{host}"
        req = IP(src=me, dst=dst, id=0x500 + i, ttl=64) / ICMP(type=8, id=0x77, seq=i + 1) / Raw(payload(200 + i, 56))
        cap.add(enc(req, True))
        exp = conn("icmp", me, 8, dst, 0, conn_state="OTH", history=None, orig_pkts=1, orig_ip_bytes=84,
                   resp_pkts=0, resp_ip_bytes=0)
        if host in (1, 2, 5):
            rep = IP(src=dst, dst=me, id=0x900 + i, ttl=64) / ICMP(type=0, id=0x77, seq=i + 1) / Raw(payload(200 + i, 56))
            cap.add(enc(rep, False), dt=1 * MS)
            exp.update(resp_pkts=1, resp_ip_bytes=84)
        conns.append(exp)
    dns = "192.168.1.1"
    # A DNS reply whose query was not captured: the first packet comes from port 53.
    _, rd = dns_pair(300)
    rep = IP(src=dns, dst=me, id=0xA00, ttl=64) / UDP(sport=53, dport=51000) / Raw(rd)
    cap.add(enc(rep, False))
    conns.append(conn("udp", me, 51000, dns, 53, conn_state="SHR", history="^d", orig_pkts=0, orig_ip_bytes=0,
                      resp_pkts=1, resp_ip_bytes=ip_len(rep), orig_bytes=0, resp_bytes=len(rd)))
    # A normal query / answer.
    conns.append(simple_udp(cap, enc, me, 51001, dns, 53, seed=302))
    # A query nobody answers.
    qd, _ = dns_pair(304)
    q = IP(src=me, dst=dns, id=0xA10, ttl=64) / UDP(sport=51003, dport=53) / Raw(qd)
    cap.add(enc(q, True))
    conns.append(conn("udp", me, 51003, dns, 53, conn_state="S0", history="D", orig_pkts=1,
                      orig_ip_bytes=ip_len(q), resp_pkts=0, resp_ip_bytes=0, orig_bytes=len(qd), resp_bytes=0))
    # A UDP probe to a closed port answered by ICMP port unreachable quoting
    # the probe's IP + UDP header: the ICMP error is not a packet of the UDP flow.
    victim = "192.168.1.7"
    probe = IP(src=me, dst=victim, id=0xA20, ttl=64) / UDP(sport=51002, dport=161) / Raw(payload(306, 20))
    cap.add(enc(probe, True))
    unreach = IP(src=victim, dst=me, id=0xA21, ttl=64) / ICMP(type=3, code=3) / bytes(probe)[:28]
    cap.add(enc(unreach, False), dt=1 * MS)
    conns.append(conn("udp", me, 51002, victim, 161, conn_state="S0", history="D", orig_pkts=1, orig_ip_bytes=48,
                      resp_pkts=0, resp_ip_bytes=0, orig_bytes=20, resp_bytes=0))
    fname = "icmp_sweep_dns_flip.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames)
    expect(fname, "ICMP echo sweep of 192.168.1.1-8 (replies from .1 .2 .5; ICMP id is not part of the key: "
           "orig_p = type 8, resp_p = 0); a UDP flow whose first packet is a DNS reply from port 53 "
           "(Zeek flips it: history '^d', SHR); a normal query/answer (Dd, SF); an unanswered query (D, S0); "
           "a UDP probe answered by ICMP port unreachable (the ICMP error does not count as a UDP packet).",
           conns, exact=False,
           notes="exact=false: the ICMP unreachable itself becomes an icmp record whose shape is not checked")


def craft_padding():
    cap = Capture()
    enc = eth()
    c, s = "192.168.2.20", "198.51.100.90"
    t = Tally()
    conv = TcpConv(cap, enc, c, 50500, s, 80)
    d3 = b"abc"
    steps = [(1, "S", b""), (0, "SA", b""), (1, "A", b""), (1, "PA", d3), (0, "A", b""), (0, "PA", D20),
             (1, "A", b""), (1, "FA", b""), (0, "FA", b""), (1, "A", b"")]
    for who, fl, d in steps:
        p = conv.send(bool(who), fl, d, pad_to=60)
        (t.o if who else t.r)(p)
    a = conn("tcp", c, 50500, s, 80, conn_state="SF", history="ShADadFf", orig_bytes=3, resp_bytes=20, **t.fields())
    q = IP(src=c, dst=s, id=0x600, ttl=64) / UDP(sport=50501, dport=7) / Raw(b"hi")
    r = IP(src=s, dst=c, id=0x601, ttl=64) / UDP(sport=7, dport=50501) / Raw(b"hi")
    for p, fc in ((q, True), (r, False)):
        fr = bytes(enc(p, fc))
        cap.add(fr + b"\x5a" * (60 - len(fr)))
    b = conn("udp", c, 50501, s, 7, conn_state="SF", history="Dd", orig_pkts=1, orig_ip_bytes=30, resp_pkts=1,
             resp_ip_bytes=30, orig_bytes=2, resp_bytes=2)
    fname = "eth_padding.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames)
    expect(fname, "Ethernet padding: every frame shorter than 60 bytes is padded with 0x5a bytes to 60. Pure "
           "ACKs stay pure ('A'/'a', not 'D'), payload is taken from the IP length (3 bytes, not 9), "
           "ip_bytes are IP total lengths (40 per pure ACK), UDP payload 2 bytes.", [a, b])


# --------------------------------------------------------------------------
# file formats


def craft_pcapng():
    """Two sections (little-endian then big-endian), two interfaces each with
    different link types; the raw-IP interface has if_tsresol = 9 (ns). In
    section 2 the interface order is swapped so interface ids must be looked
    up per section. One TCP connection continues from section 1 into 2."""
    out = bytearray()
    eth_enc = eth()
    raw_enc = lambda ip, fc: ip
    cap = Capture()
    t = Tally()
    conv = TcpConv(cap, eth_enc, "192.168.3.5", 50600, "203.0.113.85", 443)
    steps1 = [(1, "S", b""), (0, "SA", b""), (1, "A", b""), (1, "PA", D10), (0, "A", b"")]
    steps2 = [(0, "PA", D20), (1, "A", b""), (1, "FA", b""), (0, "FA", b""), (1, "A", b"")]
    for who, fl, d in steps1:
        t.o(conv.send(True, fl, d)) if who else t.r(conv.send(False, fl, d))
    eth_frames1 = list(cap.frames)
    # UDP on the raw interface, with sub-microsecond times.
    qd, rd = dns_pair(400)
    q = IP(src="10.60.0.5", dst="10.60.0.53", id=0x700, ttl=64) / UDP(sport=50601, dport=53) / Raw(qd)
    r = IP(src="10.60.0.53", dst="10.60.0.5", id=0x701, ttl=64) / UDP(sport=53, dport=50601) / Raw(rd)
    raw1 = [(cap.frames[-1][0] + 123456789, bytes(q)), (cap.frames[-1][0] + 123457001, bytes(r))]
    u1 = conn("udp", "10.60.0.5", 50601, "10.60.0.53", 53, conn_state="SF", history="Dd", orig_pkts=1,
              orig_ip_bytes=ip_len(q), resp_pkts=1, resp_ip_bytes=ip_len(r), orig_bytes=len(qd), resp_bytes=len(rd))

    e = "<"
    out += ng_shb(e, [(4, b"trawl craft_captures.py section 1")])
    out += ng_idb(e, LT_ETHERNET, None, name="eth0")         # if 0: microseconds (default)
    out += ng_idb(e, LT_RAW, 9, name="tun0")                 # if 1: nanoseconds
    out += ng_nrb(e, [("203.0.113.85", "www.example.com")])
    merged = [(ts, 0, fr) for ts, fr, _, _ in eth_frames1] + [(ts, 1, fr) for ts, fr in raw1]
    merged.sort(key=lambda x: x[0])
    for ts, ifid, fr in merged:
        out += ng_epb(e, ifid, ts, 6 if ifid == 0 else 9, fr)
    last1 = merged[-1][0]
    out += ng_isb(e, 0, last1, 6, len(eth_frames1), 0)

    # Section 2, big-endian; interface 0 is now raw IP (ns), interface 1 Ethernet (us).
    cap.at(last1 + 1000 * MS)
    n_before = len(cap.frames)
    for who, fl, d in steps2:
        t.o(conv.send(True, fl, d)) if who else t.r(conv.send(False, fl, d))
    eth_frames2 = cap.frames[n_before:]
    qd2, rd2 = dns_pair(402)
    q2 = IP(src="10.60.0.5", dst="10.60.0.53", id=0x702, ttl=64) / UDP(sport=50602, dport=53) / Raw(qd2)
    r2 = IP(src="10.60.0.53", dst="10.60.0.5", id=0x703, ttl=64) / UDP(sport=53, dport=50602) / Raw(rd2)
    base2 = eth_frames2[-1][0]
    raw2 = [(base2 + 7, bytes(q2)), (base2 + 999999, bytes(r2))]
    u2 = conn("udp", "10.60.0.5", 50602, "10.60.0.53", 53, conn_state="SF", history="Dd", orig_pkts=1,
              orig_ip_bytes=ip_len(q2), resp_pkts=1, resp_ip_bytes=ip_len(r2), orig_bytes=len(qd2), resp_bytes=len(rd2))
    e = ">"
    out += ng_shb(e, [(4, b"trawl craft_captures.py section 2 (big-endian)")])
    out += ng_idb(e, LT_RAW, 9, name="tun0")
    out += ng_idb(e, LT_ETHERNET, None, name="eth0")
    merged = [(ts, 1, fr) for ts, fr, _, _ in eth_frames2] + [(ts, 0, fr) for ts, fr in raw2]
    merged.sort(key=lambda x: x[0])
    for ts, ifid, fr in merged:
        out += ng_epb(e, ifid, ts, 9 if ifid == 0 else 6, fr)
    fname = "pcapng_two_sections.pcapng"
    with open(os.path.join(OUT, fname), "wb") as f:
        f.write(out)
    tc = conn("tcp", "192.168.3.5", 50600, "203.0.113.85", 443, conn_state="SF", history="ShADadFf",
              orig_bytes=10, resp_bytes=20, **t.fields())
    expect(fname, "pcapng: section 1 little-endian with if0 Ethernet (microseconds) and if1 raw IP with "
           "if_tsresol=9 (nanoseconds), a Name Resolution Block and an Interface Statistics Block; section 2 "
           "big-endian with the interfaces declared in the other order (if0 raw/ns, if1 Ethernet/us), so "
           "interface ids must be resolved per section. A TCP connection starts in section 1 and ends in "
           "section 2 (one SF record).", [tc, u1, u2],
           notes=f"first packet of the UDP flow on if1 in section 1 is at {raw1[0][0]} ns")


def craft_classic_variants():
    # Nanosecond-resolution classic pcap (magic a1b23c4d). Packet times have
    # sub-microsecond parts; a reader that treats them as microseconds would
    # shift every packet by up to 1000 s.
    cap = Capture(start_ns=T0_NS + 123456789)
    cap.now -= 10 * MS  # the first add() advances by 10 ms
    a = simple_tcp_sf(cap, eth(), "192.168.4.5", 50700, "198.51.100.86", 80)
    b = simple_udp(cap, eth(), "192.168.4.5", 50701, "198.51.100.53", 53, seed=500)
    a["ts_ns"] = cap.frames[0][0]
    # Zeek's duration stops at the last packet that arrives while a side is still
    # open: the responder's FIN (frame 9), not the final ACK (frame 10).
    a["duration_ns"] = cap.frames[8][0] - cap.frames[0][0]
    fname = "pcap_nsec.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames, nsec=True)
    expect(fname, "classic pcap with nanosecond timestamps (magic 0xa1b23c4d); first packet at "
           "1700000000.123456789.", [a, b],
           notes="ts_ns / duration_ns: checked to within 1 microsecond (Zeek prints microseconds)")

    cap = Capture()
    a = simple_tcp_sf(cap, eth(), "192.168.5.5", 50800, "198.51.100.87", 25)
    b = simple_udp(cap, eth(), "192.168.5.5", 50801, "198.51.100.53", 53, seed=510)
    a["ts_ns"] = cap.frames[0][0]
    fname = "pcap_bigendian.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames, big_endian=True)
    expect(fname, "classic pcap written big-endian (magic bytes a1 b2 c3 d4 on disk), microseconds.", [a, b])


def craft_split():
    os.makedirs(os.path.join(OUT, "split"), exist_ok=True)
    cap = Capture()
    enc = eth()
    t = Tally()
    conv = TcpConv(cap, enc, "192.168.6.5", 50900, "203.0.113.88", 80)
    big1, big2 = payload(600, 900), payload(601, 1200)
    steps = [(1, "S", b""), (0, "SA", b""), (1, "A", b""), (1, "PA", D10), (0, "A", b""), (0, "PA", big1)]
    for who, fl, d in steps:
        t.o(conv.send(True, fl, d)) if who else t.r(conv.send(False, fl, d))
    u1 = simple_udp(cap, enc, "192.168.6.5", 50901, "203.0.113.53", 53, seed=610)
    part1 = list(cap.frames)
    cap.at(part1[-1][0] + 2000 * MS)  # part 2 starts 2 s after part 1 ends
    n = len(cap.frames)
    steps = [(1, "A", b""), (0, "PA", big2), (1, "A", b""), (1, "FA", b""), (0, "FA", b""), (1, "A", b"")]
    for who, fl, d in steps:
        t.o(conv.send(True, fl, d)) if who else t.r(conv.send(False, fl, d))
    u2 = simple_udp(cap, enc, "192.168.6.5", 50902, "203.0.113.53", 53, seed=620)
    part2 = cap.frames[n:]
    write_pcap(os.path.join(OUT, "split", "part1.pcap"), LT_ETHERNET, part1)
    write_pcap(os.path.join(OUT, "split", "part2.pcap"), LT_ETHERNET, part2)
    tc = conn("tcp", "192.168.6.5", 50900, "203.0.113.88", 80, conn_state="SF", history="ShADadFf",
              orig_bytes=10, resp_bytes=2100, **t.fields())
    what = ("one capture split in two files by time (part2 starts 2 s after part1 ends); the TCP "
            "connection spans both files and must be ONE SF record when both files (or the folder) are "
            "analysed together.")
    expect("split/", what + " Input given as the folder.", [tc, u1, u2], inputs=["split"])
    expect("split/part1.pcap+part2.pcap", what + " Inputs given as the two files, in reverse order "
           "(the reader merges by time).", [tc, u1, u2], inputs=["split/part2.pcap", "split/part1.pcap"])


def craft_arp():
    """ARP request/reply pair on Ethernet (arp.jsonl smoke input), plus a gratuitous ARP."""
    cap = Capture()
    req = Ether(src=MAC_C, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=MAC_C, psrc="192.168.9.10", pdst="192.168.9.1")
    rep = Ether(src=MAC_S, dst=MAC_C) / ARP(op=2, hwsrc=MAC_S, psrc="192.168.9.1", hwdst=MAC_C, pdst="192.168.9.10")
    grat = Ether(src=MAC_S, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=MAC_S, psrc="192.168.9.1", pdst="192.168.9.1")
    for p in (req, rep, grat):
        fr = bytes(p)
        cap.add(fr + b"\0" * max(0, 60 - len(fr)))
    fname = "arp_basic.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames)
    expect(fname, "ARP who-has, is-at and a gratuitous ARP (no IP connections at all).", [])


def craft_tcp_more():
    """History letters T and w, and a 5-tuple reused by a second connection."""
    cap = Capture()
    t = Tally()
    cport = 49170
    conv = TcpConv(cap, eth(), CLI, cport, SRV, SPORT)
    steps = [(1, "S", b"", {}), (0, "SA", b"", {}), (1, "A", b"", {}), (1, "PA", D10, {}),
             (1, "PA", D10, {"seq": 1001}),          # same bytes again: a retransmission
             (0, "A", b"", {"window": 0}),           # zero window advertised by the server
             (0, "A", b"", {}), (0, "PA", D20, {}), (1, "A", b"", {}),
             (1, "FA", b"", {}), (0, "FA", b"", {}), (1, "A", b"", {})]
    for who, fl, d, kw in steps:
        p = conv.send(bool(who), fl, d, **kw)
        (t.o if who else t.r)(p)
    fname = "tcp_retransmit_zero_window.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames)
    expect(fname, "TCP history letters beyond the handshake: the client's 10 data bytes are sent twice with "
           "the same sequence number (Zeek: the second is not new data, so no second 'D' but a 'T' from "
           "DidRxmit) and the server advertises a zero window in a pure ACK ('a' then 'w'; T and w are "
           "logged on the 1st, 10th, 100th... occurrence). Payload stays 10 bytes (sequence space), packets "
           "and IP bytes count the retransmission.",
           [conn("tcp", CLI, cport, SRV, SPORT, conn_state="SF", history="ShADTawdFf", orig_bytes=10,
                 resp_bytes=20, missed_bytes=0, **t.fields())])

    cap = Capture()
    cport = 49171
    exps = []
    for k, (isn_c, isn_s) in enumerate([(1000, 5000), (900000, 700000)]):
        t = Tally()
        if k:
            cap.now += 2000 * MS
        conv = TcpConv(cap, eth(), CLI, cport, SRV, SPORT, isn_c=isn_c, isn_s=isn_s)
        for who, fl, d in [(1, "S", b""), (0, "SA", b""), (1, "A", b""), (1, "PA", D10), (0, "A", b""),
                           (0, "PA", D20), (1, "A", b""), (1, "FA", b""), (0, "FA", b""), (1, "A", b"")]:
            p = conv.send(bool(who), fl, d)
            (t.o if who else t.r)(p)
        exps.append(conn("tcp", CLI, cport, SRV, SPORT, conn_state="SF", history="ShADadFf", orig_bytes=10,
                         resp_bytes=20, **t.fields()))
    fname = "tcp_port_reuse.pcap"
    write_pcap(os.path.join(OUT, fname), LT_ETHERNET, cap.frames)
    expect(fname, "The same 5-tuple used by two complete connections 2 s apart (the second SYN has a new "
           "initial sequence number): Zeek treats the SYN as connection reuse and logs two SF records with "
           "different uids, 10 packets each.", exps)


def craft_pcapng_edge_times():
    """pcapng timestamps at the edges: a binary if_tsresol (2^-20 s), a packet
    at time 0 and one whose 64-bit microsecond count does not fit in int64
    nanoseconds. Readers must not overflow; the ordinary packet keeps its time."""
    e = "<"
    out = bytearray(ng_shb(e, [(4, b"trawl craft_captures.py: edge timestamps")]))
    out += ng_idb(e, LT_ETHERNET, None, name="eth0")    # if 0: microseconds
    out += ng_idb(e, LT_ETHERNET, 0x80 | 20, name="eth1")  # if 1: 2^-20 s units
    enc = eth()
    pkts = []
    for k, port in enumerate((50950, 50951, 50952)):
        qd, _ = dns_pair(700 + k)
        q = IP(src="192.168.11.5", dst="198.51.100.53", id=0x800 + k, ttl=64) / UDP(sport=port, dport=53) / Raw(qd)
        pkts.append((q, bytes(enc(q, True))))

    def epb_units(ifid, units, data):
        body = struct.pack(e + "IIIII", ifid, units >> 32, units & 0xFFFFFFFF, len(data), len(data)) + _pad4(data)
        return ng_block(e, 6, body)

    t_bin = (T0_NS // 10**9) * 2**20 + 2**19   # 1700000000.5 s in 2^-20 s units
    out += epb_units(1, t_bin, pkts[0][1])
    out += epb_units(0, 0, pkts[1][1])                    # 1970-01-01
    out += epb_units(0, 0xFFFFFFFFFFFFFFFF, pkts[2][1])   # ~5.8e5 years of microseconds
    fname = "pcapng_edge_timestamps.pcapng"
    with open(os.path.join(OUT, fname), "wb") as f:
        f.write(out)
    c = conn("udp", "192.168.11.5", 50950, "198.51.100.53", 53, conn_state="S0", history="D", orig_pkts=1,
             orig_ip_bytes=ip_len(pkts[0][0]), resp_pkts=0, resp_ip_bytes=0)
    c["ts_ns"] = T0_NS + 500 * MS
    expect(fname, "pcapng timestamps at the edges: an interface with a binary if_tsresol (0x94: units of "
           "2^-20 s) whose packet is at exactly 1700000000.5; a packet at time 0; a packet whose 64-bit "
           "microsecond count (0xffffffffffffffff) cannot be held in int64 nanoseconds (must be counted as an "
           "anomaly or clamped, never overflow; run under -DTRAWL_SANITIZE=ON to see UB). Only the first flow "
           "is checked.", [c], exact=False)


def craft_compressed():
    """Compressed copies (content detection: gzip and zstd magic bytes)."""
    import gzip
    import shutil
    import subprocess
    src = os.path.join(OUT, "pcapng_two_sections.pcapng")
    with open(src, "rb") as f:
        data = f.read()
    fname = "pcapng_two_sections.pcapng.gz"
    with open(os.path.join(OUT, fname), "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as g:
            g.write(data)
    SIDE[fname] = dict(SIDE["pcapng_two_sections.pcapng"], inputs=[fname],
                       proves="gzip-compressed copy of pcapng_two_sections.pcapng (detected by content); same "
                              "connections.")
    zstd = shutil.which("zstd")
    if zstd:
        fname = "ipv6_ext_frag.pcap.zst"
        with open(os.path.join(OUT, fname), "wb") as f:
            subprocess.run([zstd, "-q", "-19", "--no-progress", "-c", os.path.join(OUT, "ipv6_ext_frag.pcap")],
                           stdout=f, check=True)
        SIDE[fname] = dict(SIDE["ipv6_ext_frag.pcap"], inputs=[fname],
                           proves="zstd-compressed copy of ipv6_ext_frag.pcap (detected by content); same "
                                  "connections.")
        # A bulk transfer of ~330 KB of capture (several zstd blocks of at most
        # 128 KB, so a cut stream still yields whole packets), committed only
        # compressed (a few KB).
        cap = Capture()
        t = Tally()
        conv = TcpConv(cap, eth(), "192.168.12.5", 51000, "203.0.113.90", 8080)
        for who, fl, d in [(1, "S", b""), (0, "SA", b""), (1, "A", b"")]:
            p = conv.send(bool(who), fl, d)
            (t.o if who else t.r)(p)
        chunk = (b"trawl bulk transfer, compressible on purpose. " * 22)[:1000]
        for i in range(300):
            t.o(conv.c("PA", chunk, dt=1 * MS))
            if i % 10 == 9:
                t.r(conv.s("A", dt=1 * MS))
        for who, fl in [(1, "FA"), (0, "FA"), (1, "A")]:
            p = conv.send(bool(who), fl)
            (t.o if who else t.r)(p)
        plain = os.path.join(OUT, "bulk_tcp.pcap.tmp")
        write_pcap(plain, LT_ETHERNET, cap.frames)
        fname = "bulk_tcp.pcap.zst"
        with open(os.path.join(OUT, fname), "wb") as f:
            subprocess.run([zstd, "-q", "-19", "--no-progress", "-c", plain], stdout=f, check=True)
        os.unlink(plain)
        expect(fname, "zstd-compressed bulk transfer (300 segments of 1000 bytes, ~330 KB of capture in several "
               "zstd blocks; only the compressed file is committed): one SF connection with 300000 payload "
               "bytes; the server only ACKs.",
               [conn("tcp", "192.168.12.5", 51000, "203.0.113.90", 8080, conn_state="SF", history="ShADaFf",
                     orig_bytes=300000, resp_bytes=0, missed_bytes=0, **t.fields())])
    else:
        print("note: zstd not found, ipv6_ext_frag.pcap.zst left as it is", file=sys.stderr)
        old = os.path.join(OUT, "conn_states.json")
        if os.path.exists(old):
            for keep in ("ipv6_ext_frag.pcap.zst", "bulk_tcp.pcap.zst"):
                prev = json.load(open(old))["files"].get(keep)
                if prev:
                    SIDE[keep] = prev


# --------------------------------------------------------------------------


def main():
    global OUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    committed = os.path.normpath(os.path.join(here, "..", "data", "crafted"))
    ap.add_argument("--out", default=committed)
    ap.add_argument("--check", action="store_true",
                    help="write into a temporary folder and compare with the committed files (exit 1 on drift)")
    args = ap.parse_args()
    if args.check:
        import tempfile
        tmp = tempfile.mkdtemp(prefix="crafted-check-")
        try:
            OUT = tmp
            build_all()
            return compare_trees(tmp, args.out)
        finally:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    OUT = args.out
    build_all()
    print(f"wrote {len(SIDE)} cases to {OUT}")


def compare_trees(new, old):
    """Every generated file must equal the committed one (compressed files are
    compared after decompression: compressor versions may change the bytes)."""
    import gzip
    import subprocess

    def content(path):
        data = open(path, "rb").read()
        if path.endswith(".gz"):
            return gzip.decompress(data)
        if path.endswith(".zst"):
            r = subprocess.run(["zstd", "-q", "-d", "-c", path], capture_output=True)
            return r.stdout if r.returncode == 0 else data
        return data

    bad = []
    for root, _, files in os.walk(new):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            rel = os.path.relpath(p, new)
            q = os.path.join(old, rel)
            if not os.path.exists(q):
                bad.append(f"{rel}: generated but not committed")
            elif content(p) != content(q):
                bad.append(f"{rel}: differs from the committed file (re-run craft_captures.py and commit)")
    for b in bad:
        print(f"FAIL {b}")
    print("crafted captures reproducible" if not bad else f"{len(bad)} file(s) drifted")
    return 1 if bad else 0


def build_all():
    os.makedirs(OUT, exist_ok=True)
    craft_tcp_states()
    craft_ipv4_frag()
    craft_ipv6()
    craft_vlan()
    craft_qinq()
    craft_mpls()
    craft_pppoe()
    craft_sll()
    craft_sll2()
    craft_raw()
    craft_null()
    craft_gre()
    craft_vxlan()
    craft_icmp_dns()
    craft_padding()
    craft_pcapng()
    craft_classic_variants()
    craft_split()
    craft_arp()
    craft_tcp_more()
    craft_pcapng_edge_times()
    craft_compressed()
    side = {
        "generated_by": "tests/tools/craft_captures.py",
        "semantics": "Expected Zeek conn.log values per connection (orig/resp as Zeek decides them). "
                     "A field set to null is not checked. 'exact': the input yields exactly these "
                     "connections. 'absent': connections that must not appear. Payload byte counts are "
                     "the values Zeek computes from sequence numbers, which for these well-formed cases "
                     "equal the payload sums. ip_bytes: IP total length (IPv6: 40 + payload length); a "
                     "reassembled fragmented datagram counts once with its full reassembled length.",
        "files": SIDE,
    }
    with open(os.path.join(OUT, "conn_states.json"), "w") as f:
        json.dump(side, f, indent=1, sort_keys=False)
        f.write("\n")
    write_readme()


README_HEAD = """# Crafted captures

Every file in this folder, this README included, is generated by
`tests/tools/craft_captures.py` with scapy and small hand-written pcap/pcapng
writers; do not edit them by hand. Regenerate with

    /usr/bin/python3 tests/tools/craft_captures.py

and check that the committed files are still what the tool produces with

    /usr/bin/python3 tests/tools/craft_captures.py --check

Packet times start at 1700000000.0 (2023-11-14 22:13:20 UTC) and advance in
fixed steps; payloads come from seeded generators; addresses are documentation
ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and
RFC 1918 / loopback for inside hosts. Files are a few KB at most.

Two subfolders come from their own generators, with their own `--check`:
`smb/` from `tests/tools/craft_smb.py` (see `smb/README.md`) and `rdp/`
(`rdp_sessions.pcap`, five RDP connection sequences) from
`tests/tools/craft_rdp.py` (see its docstring).

`conn_states.json` is the sidecar: for each case (one capture, a folder or
several files) the connections Zeek would log, with the fields to check
(conn_state, history, packets and IP bytes per direction, payload bytes,
vlan, and for a few cases ts/duration; null means "not checked"), whether the
list is exact, and connections that must not appear. The expected conn_state
and history of the TCP cases follow Zeek's rules: `conn_state()` in
`scripts/base/protocols/conn/main.zeek`, the endpoint state machine in
`src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc`, history letters
recorded once per direction (repeated S/F/R only with a new sequence number),
and the `^` Zeek adds when it flips a connection whose first packet comes from
a likely server port (a SYN+ACK, or a DNS reply from port 53). Zeek's btest
baselines agree on the shapes used here (e.g. `SR` -> RSTOS0 in
`conn_state-RST-behavior`, `^hADdFaf` for a missing SYN in `core.tcp.missing-syn`).
`tests/integration/check_crafted.py TRAWL` runs trawl on every case and
compares.

Counting rules the expectations encode: ip_bytes are IP total lengths (IPv6:
40 + payload length, extension headers included); a reassembled fragmented
datagram is ONE packet whose length is the whole reassembled datagram
(header + all payload; for IPv6 the Fragment header is not counted);
Ethernet padding is not payload; an ICMP error is not a packet of the flow it
quotes; the ICMP echo id is not part of the connection key (as in Zeek).

## Files

"""


def write_readme():
    lines = [README_HEAD]
    for name, case in SIDE.items():
        ins = ", ".join(f"`{i}`" for i in case["inputs"])
        conns = case["connections"]
        summary = "; ".join(
            f"{c['proto']} {c['orig_h']}:{c['orig_p']} -> {c['resp_h']}:{c['resp_p']}"
            + (f" {c['conn_state']}" if c.get("conn_state") else "")
            + (f" `{c['history']}`" if c.get("history") else "")
            for c in conns[:4]) + (f"; ... ({len(conns)} connections)" if len(conns) > 4 else "")
        lines.append(f"### {name}\n\nInput: {ins}\n\n{case['proves']}\n\n"
                     + (f"Expected: {summary}\n\n" if conns else "Expected: no connection records.\n\n")
                     + (f"Note: {case['notes']}\n\n" if case.get("notes") else ""))
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("".join(lines).rstrip("\n") + "\n")


if __name__ == "__main__":
    sys.exit(main())

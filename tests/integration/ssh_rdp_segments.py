#!/usr/bin/python3
"""Extracts the TCP payload segments of connections in a capture, in capture
order, as test fixtures and fuzz seeds for the SSH and RDP analyzers.

    ssh_rdp_segments.py CAPTURE --port PORT [--conn N] --text OUT.txt
    ssh_rdp_segments.py CAPTURE --port PORT [--conn N] --fuzz OUT.bin

Connections are those with PORT on one side, numbered in order of their first
packet. Segments are de-duplicated by sequence number (a retransmission of
bytes already seen is dropped), which matches in-order captures such as the
test ones; it is not a general reassembler.

--text: one line per segment, "c|s MICROSECONDS HEX" (c: from the client,
        i.e. the side not on PORT; time relative to the first segment).
--fuzz: the ssh/rdp analyzer fuzz input format (that of smtp_analyzer_fuzz):
        per segment a control byte (bit 0: 1 from the client, 0 from the
        server; upper bits 0: data), a two-byte big-endian length, the bytes.
"""

import argparse
import struct
import sys

from scapy.all import IP, IPv6, TCP, PcapReader, conf

conf.verb = 0


def connections(path, port):
    conns = {}
    order = []
    for pkt in PcapReader(path):
        if TCP not in pkt:
            continue
        ip = pkt[IP] if IP in pkt else pkt[IPv6] if IPv6 in pkt else None
        if ip is None:
            continue
        t = pkt[TCP]
        if t.dport == port:
            key, is_client = (ip.src, t.sport, ip.dst, t.dport), True
        elif t.sport == port:
            key, is_client = (ip.dst, t.dport, ip.src, t.sport), False
        else:
            continue
        if key not in conns:
            conns[key] = {"segs": [], "next": {}}
            order.append(key)
        c = conns[key]
        payload = bytes(t.payload)
        if t.flags & 0x02:  # SYN: data starts at seq + 1
            c["next"][is_client] = (t.seq + 1) & 0xFFFFFFFF
            continue
        if not payload:
            continue
        nxt = c["next"].get(is_client, t.seq)
        skip = (nxt - t.seq) & 0xFFFFFFFF
        if skip >= len(payload) and skip < 1 << 31:
            continue  # retransmission of bytes already seen
        if skip >= 1 << 31:
            skip = 0  # a hole: keep the segment as it is
        payload = payload[skip:]
        c["next"][is_client] = (t.seq + skip + len(payload)) & 0xFFFFFFFF
        c["segs"].append((is_client, float(pkt.time), payload))
    return [conns[k]["segs"] for k in order]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conn", type=int, default=0)
    ap.add_argument("--text")
    ap.add_argument("--fuzz")
    a = ap.parse_args()
    conns = connections(a.capture, a.port)
    if a.conn >= len(conns):
        sys.exit("only %d connections on port %d" % (len(conns), a.port))
    segs = conns[a.conn]
    t0 = segs[0][1] if segs else 0.0
    if a.text:
        with open(a.text, "w") as f:
            for is_client, ts, data in segs:
                f.write("%s %d %s\n" % ("c" if is_client else "s", round((ts - t0) * 1e6), data.hex()))
    if a.fuzz:
        with open(a.fuzz, "wb") as f:
            for is_client, _, data in segs:
                for i in range(0, len(data), 0xFFFF):
                    chunk = data[i:i + 0xFFFF]
                    f.write(struct.pack(">BH", 1 if is_client else 0, len(chunk)) + chunk)


main()

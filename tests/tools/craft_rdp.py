#!/usr/bin/python3
"""Writes tests/data/crafted/rdp/rdp_sessions.pcap: five RDP connections whose
connection sequences are built field by field from MS-RDPBCGR 2.2.1 (X.224
Connection Request/Confirm with RDP_NEG_*, MCS Connect Initial/Response with
the GCC user data blocks), since no public RDP capture with a licence that
allows copying is at hand.

    /usr/bin/python3 tests/tools/craft_rdp.py [--out DIR]   # write
    /usr/bin/python3 tests/tools/craft_rdp.py --check        # compare with the committed file

Deterministic: fixed times (from 1700000000 s), sequence numbers, addresses
and pseudo-random bytes from a seeded generator; two runs give identical
bytes. tshark decodes every PDU (tests/integration/rdp_oracle.py checks
trawl against it).

Connections (client 10.0.0.x -> server), what each shows:
  A 10.0.0.5:49200  -> 10.0.0.20:3389   mstsc-like: cookie "alice", requests
    SSL|HYBRID|HYBRID_EX, server selects HYBRID (CredSSP), then TLS.
  B 10.0.0.6:49300  -> 10.0.0.20:3389   cookie "Administr" (mstsc cuts it at
    9 characters), requests RDP only, standard RDP security: MCS Connect
    Initial (client WS-FINANCE-07, build 7601, en-US, 1920x1080, 32 bpp,
    channels rdpdr rdpsnd cliprdr drdynvc) and Connect Response (128-bit,
    client compatible, proprietary RSA certificate), then encrypted PDUs.
  C 10.0.0.7:49400  -> 10.0.0.20:3389   cookie "scanner", requests RDP only,
    the server refuses: RDP_NEG_FAILURE HYBRID_REQUIRED_BY_SERVER.
  D 10.0.0.8:49500  -> 10.0.0.21:33890  a load-balancer routing token
    ("Cookie: msts=...", no user), SSL requested and selected, on a port
    that is not RDP's (found by content).
  E 10.0.0.9:49600  -> 10.0.0.20:3389   an old client: cookie "eltons", no
    RDP_NEG_REQ, a Confirm without negotiation; MCS with a German keyboard,
    build 2600, 16-bit colour; the server answers with a temporary X.509
    chain of two certificates, 128-bit, high level.
"""

import argparse
import os
import random
import struct
import sys
import tempfile

from scapy.all import IP, TCP, Ether, conf

conf.verb = 0

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT_DIR = os.path.join(ROOT, "tests", "data", "crafted", "rdp")
NAME = "rdp_sessions.pcap"
T0_US = 1700000000 * 10**6
MAC_C = "02:00:00:00:00:0c"
MAC_S = "02:00:00:00:00:05"


# ---------------------------------------------------------------- capture


class Capture:
    def __init__(self):
        self.now_us = T0_US
        self.frames = []

    def add(self, frame, dt_us):
        self.now_us += dt_us
        self.frames.append((self.now_us, bytes(frame)))

    def write(self, path):
        out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for ts, data in self.frames:
            out += struct.pack("<IIII", ts // 10**6, ts % 10**6, len(data), len(data)) + data
        with open(path, "wb") as f:
            f.write(out)


class Tcp:
    """One TCP connection: handshake, data segments (acknowledged), FIN close."""

    def __init__(self, cap, cli, cport, srv, sport, isn_c, isn_s):
        self.cap, self.cli, self.cport, self.srv, self.sport = cap, cli, cport, srv, sport
        self.seq = {True: isn_c, False: isn_s}
        self.ipid = {True: 0x100, False: 0x200}

    def pkt(self, from_client, flags, data=b"", dt_us=200):
        src, dst = (self.cli, self.srv) if from_client else (self.srv, self.cli)
        sp, dp = (self.cport, self.sport) if from_client else (self.sport, self.cport)
        ack = self.seq[not from_client] if "A" in flags else 0
        self.ipid[from_client] += 1
        frame = (Ether(src=MAC_C if from_client else MAC_S, dst=MAC_S if from_client else MAC_C) /
                 IP(src=src, dst=dst, id=self.ipid[from_client], ttl=64 if from_client else 128) /
                 TCP(sport=sp, dport=dp, flags=flags, seq=self.seq[from_client], ack=ack, window=64240) / data)
        self.cap.add(frame, dt_us)
        self.seq[from_client] = (self.seq[from_client] + len(data) + (1 if ("S" in flags or "F" in flags) else 0)) \
            & 0xFFFFFFFF

    def open(self):
        self.pkt(True, "S", dt_us=1000)
        self.pkt(False, "SA")
        self.pkt(True, "A")

    def send(self, from_client, data, dt_us=2000, mss=1460):
        for i in range(0, len(data), mss):
            self.pkt(from_client, "PA", data[i:i + mss], dt_us if i == 0 else 50)
        self.pkt(not from_client, "A", dt_us=100)

    def close(self):
        self.pkt(True, "FA", dt_us=5000)
        self.pkt(False, "FA")
        self.pkt(True, "A")


# --------------------------------------------------------- RDP encoding


def tpkt(payload):
    return b"\x03\x00" + struct.pack(">H", len(payload) + 4) + payload


def x224_cr(variable):
    return tpkt(bytes([6 + len(variable), 0xE0]) + b"\x00\x00\x00\x00\x00" + variable)


def x224_cc(variable):
    return tpkt(bytes([6 + len(variable), 0xD0]) + b"\x00\x00\x12\x34\x00" + variable)


def x224_dt(user_data):
    return tpkt(b"\x02\xF0\x80" + user_data)


def neg(kind, flags, value):
    return struct.pack("<BBHI", kind, flags, 8, value)


def ber_len(n):
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82, n >> 8, n & 0xFF])


def ber(tag, content):
    return tag + ber_len(len(content)) + content


def ber_int(v):
    b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")
    return ber(b"\x02", b)


def domain_params(*vals):
    return ber(b"\x30", b"".join(ber_int(v) for v in vals))


def per_len(n):
    return bytes([n]) if n < 0x80 else bytes([0x80 | (n >> 8), n & 0xFF])


T124_KEY = bytes.fromhex("00050014 7c0001".replace(" ", ""))


def block(kind, body):
    return struct.pack("<HH", kind, len(body) + 4) + body


def utf16(s, size):
    b = s.encode("utf-16-le")
    return (b + b"\0" * size)[:size]


def client_core(name, build, layout, width, height, high_color, ec_flags, dig=""):
    b = struct.pack("<IHHHHII", 0x00080004, width, height, 0xCA01, 0xAA03, layout, build)
    b += utf16(name, 32)
    b += struct.pack("<III", 4, 0, 12) + b"\0" * 64
    b += struct.pack("<HHIHHH", 0xCA01, 1, 0, high_color, 0x000F, ec_flags)
    b += utf16(dig, 64)
    b += struct.pack("<BBI", 0, 0, 0)
    return block(0xC001, b)


def client_network(names):
    b = struct.pack("<I", len(names))
    for n, opts in names:
        b += (n.encode() + b"\0" * 8)[:8] + struct.pack("<I", opts)
    return block(0xC003, b)


def connect_initial(blocks):
    ccr = bytes.fromhex("000800100001c000") + b"Duca" + per_len(len(blocks)) + blocks
    gcc = T124_KEY + per_len(len(ccr)) + ccr
    body = (ber(b"\x04", b"\x01") + ber(b"\x04", b"\x01") + ber(b"\x01", b"\xFF") +
            domain_params(34, 2, 0, 1, 0, 1, 0xFFFF, 2) + domain_params(1, 1, 1, 1, 0, 1, 0x420, 2) +
            domain_params(0xFFFF, 0xFC17, 0xFFFF, 1, 0, 1, 0xFFFF, 2) + ber(b"\x04", gcc))
    return x224_dt(ber(b"\x7F\x65", body))


def connect_response(blocks, result=0):
    ccr = bytes.fromhex("14760a0101") + bytes([result]) + bytes.fromhex("01c000") + b"McDn" + \
        per_len(len(blocks)) + blocks
    gcc = T124_KEY + per_len(len(ccr)) + ccr
    body = ber(b"\x0A", b"\x00") + ber(b"\x02", b"\x00") + domain_params(22, 3, 0, 1, 0, 1, 0xFFF8, 2) + \
        ber(b"\x04", gcc)
    return x224_dt(ber(b"\x7F\x66", body))


def server_core(requested):
    return block(0x0C01, struct.pack("<III", 0x00080004, requested, 0))


def server_network(channels):
    ids = list(range(0x03EC, 0x03EC + channels))
    b = struct.pack("<HH", 0x03EB, len(ids)) + b"".join(struct.pack("<H", i) for i in ids)
    if len(ids) % 2:
        b += b"\0\0"
    return block(0x0C03, b)


def proprietary_cert(rng):
    modulus = bytes(rng.getrandbits(8) for _ in range(64)) + b"\0" * 8
    key = b"RSA1" + struct.pack("<IIII", len(modulus), 512, 63, 65537) + modulus
    sig = bytes(rng.getrandbits(8) for _ in range(64)) + b"\0" * 8
    return (struct.pack("<IIIHH", 1, 1, 1, 6, len(key)) + key + struct.pack("<HH", 8, len(sig)) + sig)


def x509_chain(rng, n, temporary):
    b = struct.pack("<II", (0x80000000 if temporary else 0) | 2, n)
    for i in range(n):
        der = b"\x30\x82" + struct.pack(">H", 60) + bytes(rng.getrandbits(8) for _ in range(60))
        b += struct.pack("<I", len(der)) + der
    return b + b"\0" * 16


def server_security(method, level, cert, rng):
    rand = bytes(rng.getrandbits(8) for _ in range(32))
    return block(0x0C02, struct.pack("<IIII", method, level, len(rand), len(cert)) + rand + cert)


def tls_record(ctype, body):
    return bytes([ctype]) + b"\x03\x03" + struct.pack(">H", len(body)) + body


def tls_client_hello(rng):
    suites = [0xC02C, 0xC030, 0xC02B, 0xC02F, 0x009F, 0x009E, 0x003D, 0x003C]
    body = b"\x03\x03" + bytes(rng.getrandbits(8) for _ in range(32)) + b"\x00"
    body += struct.pack(">H", 2 * len(suites)) + b"".join(struct.pack(">H", s) for s in suites) + b"\x01\x00"
    ext = struct.pack(">HH", 0xFF01, 1) + b"\x00"  # renegotiation_info
    ext += struct.pack(">HHH", 0x000A, 4, 2) + b"\x00\x17"  # supported_groups: secp256r1
    ext += struct.pack(">HHB", 0x000B, 2, 1) + b"\x00"  # ec_point_formats
    body += struct.pack(">H", len(ext)) + ext
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return tls_record(0x16, hs)


def tls_server_hello(rng):
    body = b"\x03\x03" + bytes(rng.getrandbits(8) for _ in range(32)) + b"\x20" + \
        bytes(rng.getrandbits(8) for _ in range(32)) + b"\xC0\x30\x00"
    ext = struct.pack(">HH", 0xFF01, 1) + b"\x00"
    body += struct.pack(">H", len(ext)) + ext
    hs = b"\x02" + struct.pack(">I", len(body))[1:] + body
    done = b"\x0E\x00\x00\x00"
    return tls_record(0x16, hs + done)


def send_data(from_client, data, initiator=6, channel=0x03EB):
    # MCS SendDataRequest (25) / SendDataIndication (26): initiator, channel,
    # priority and segmentation, a two-byte PER length, the data.
    tag = 0x64 if from_client else 0x68
    return x224_dt(bytes([tag]) + struct.pack(">HH", initiator, channel) + b"\x70" +
                   bytes([0x80 | (len(data) >> 8), len(data) & 0xFF]) + data)


def after_connect_response(t, rng):
    """Domain setup, then the RC4-encrypted part of standard RDP security."""
    t.send(True, x224_dt(b"\x04\x01\x00\x01\x00") + x224_dt(b"\x28"))  # Erect Domain, Attach User
    t.send(False, x224_dt(b"\x2E\x00\x00\x06"))                         # Attach User Confirm
    secret = bytes(rng.getrandbits(8) for _ in range(64)) + b"\0" * 8
    t.send(True, send_data(True, struct.pack("<HHI", 0x0001, 0, len(secret)) + secret))  # Security Exchange
    for n in (180, 60):
        body = struct.pack("<HH", 0x0008 | (0x0040 if n == 180 else 0), 0) + \
            bytes(rng.getrandbits(8) for _ in range(8 + n))  # SEC_ENCRYPT (+ SEC_INFO_PKT), MAC, data
        t.send(True, send_data(True, body))
        t.send(False, send_data(False, struct.pack("<HH", 0x0008, 0) + bytes(rng.getrandbits(8) for _ in range(8 + n))))


# ------------------------------------------------------------ scenarios


def tls_after(t, rng):
    """A TLS 1.2 handshake (no certificate: the server's keys are not the
    point here), change of cipher specs, then application data."""
    rand = lambda n: bytes(rng.getrandbits(8) for _ in range(n))
    t.send(True, tls_client_hello(rng))
    t.send(False, tls_server_hello(rng))
    cke = b"\x10" + struct.pack(">I", 66)[1:] + b"\x41\x04" + rand(64)
    t.send(True, tls_record(0x16, cke) + tls_record(0x14, b"\x01") + tls_record(0x16, rand(40)))
    t.send(False, tls_record(0x14, b"\x01") + tls_record(0x16, rand(40)))
    for n in (120, 300):
        t.send(True, tls_record(0x17, bytes(rng.getrandbits(8) for _ in range(n))))
        t.send(False, tls_record(0x17, bytes(rng.getrandbits(8) for _ in range(n + 40))))


def craft(path):
    rng = random.Random(3389)
    cap = Capture()

    # A: CredSSP (HYBRID) with TLS.
    t = Tcp(cap, "10.0.0.5", 49200, "10.0.0.20", 3389, 0x11110000, 0x22220000)
    t.open()
    t.send(True, x224_cr(b"Cookie: mstshash=alice\r\n" + neg(1, 0, 0x0B)))
    t.send(False, x224_cc(neg(2, 0x1F, 0x02)))
    tls_after(t, rng)
    t.close()

    # B: standard RDP security, proprietary certificate.
    t = Tcp(cap, "10.0.0.6", 49300, "10.0.0.20", 3389, 0x33330000, 0x44440000)
    t.open()
    t.send(True, x224_cr(b"Cookie: mstshash=Administr\r\n" + neg(1, 0, 0x00)))
    t.send(False, x224_cc(neg(2, 0x01, 0x00)))
    channels = [("rdpdr", 0x80800000), ("rdpsnd", 0xC0000000), ("cliprdr", 0xC0A00000), ("drdynvc", 0xC0800000)]
    blocks = (client_core("WS-FINANCE-07", 7601, 0x0409, 1920, 1080, 0x18, 0x0001 | 0x0002 | 0x0004,
                          "00371-OEM-8992671-00524") +
              block(0xC002, struct.pack("<II", 0x1B, 0)) + client_network(channels) +
              block(0xC004, struct.pack("<II", 0x0D, 0)))
    t.send(True, connect_initial(blocks))
    t.send(False, connect_response(server_core(0) + server_security(0x02, 0x02, proprietary_cert(rng), rng) +
                                   server_network(len(channels))))
    after_connect_response(t, rng)
    t.close()

    # C: the server refuses standard security.
    t = Tcp(cap, "10.0.0.7", 49400, "10.0.0.20", 3389, 0x55550000, 0x66660000)
    t.open()
    t.send(True, x224_cr(b"Cookie: mstshash=scanner\r\n" + neg(1, 0, 0x00)))
    t.send(False, x224_cc(neg(3, 0, 0x05)))
    t.close()

    # D: routing token, TLS, on port 33890.
    t = Tcp(cap, "10.0.0.8", 49500, "10.0.0.21", 33890, 0x77770000, 0x88880000)
    t.open()
    t.send(True, x224_cr(b"Cookie: msts=3640205228.15629.0000\r\n" + neg(1, 0, 0x01)))
    t.send(False, x224_cc(neg(2, 0x00, 0x01)))
    tls_after(t, rng)
    t.close()

    # E: an old client (no negotiation), X.509 chain, temporary.
    t = Tcp(cap, "10.0.0.9", 49600, "10.0.0.20", 3389, 0x99990000, 0xAAAA0000)
    t.open()
    t.send(True, x224_cr(b"Cookie: mstshash=eltons\r\n"))
    t.send(False, x224_cc(b""))
    blocks = (client_core("OLDBOX", 2600, 0x0407, 1024, 768, 0x10, 0x0001) +
              block(0xC002, struct.pack("<II", 0x03, 0)) + client_network([("rdpdr", 0x80800000)]))
    t.send(True, connect_initial(blocks))
    t.send(False, connect_response(server_core(0) + server_security(0x02, 0x03, x509_chain(rng, 2, True), rng) +
                                   server_network(1)))
    after_connect_response(t, rng)
    t.close()

    cap.write(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=OUT_DIR)
    ap.add_argument("--check", action="store_true", help="compare a fresh run with the committed capture")
    a = ap.parse_args()
    if a.check:
        with tempfile.TemporaryDirectory() as d:
            craft(os.path.join(d, NAME))
            fresh = open(os.path.join(d, NAME), "rb").read()
        committed = open(os.path.join(OUT_DIR, NAME), "rb").read()
        if fresh != committed:
            sys.exit("%s differs from what craft_rdp.py writes now (%d vs %d bytes); rerun it" %
                     (NAME, len(committed), len(fresh)))
        print("%s: reproducible (%d bytes)" % (NAME, len(fresh)))
        return
    os.makedirs(a.out, exist_ok=True)
    craft(os.path.join(a.out, NAME))
    print("wrote", os.path.join(a.out, NAME))


main()

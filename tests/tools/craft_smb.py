#!/usr/bin/python3
"""Writes the crafted SMB captures in tests/data/crafted/smb/ (and their README).

    /usr/bin/python3 tests/tools/craft_smb.py [--out DIR] [--check]

--check writes into a temporary folder and compares with the committed files
(exit 1 on drift). Deterministic: packet times start at 1700000000.0 and
advance in fixed steps, every "random" byte comes from a seeded generator,
sequence numbers, IP ids and MACs are fixed. Scapy builds Ethernet/IP/TCP;
the SMB, NTLMSSP, SPNEGO and DCE/RPC bytes are built here field by field
from the specifications (MS-SMB, MS-SMB2, MS-NLMP, RFC 4178, C706, MS-SRVS),
so the captures do not depend on scapy's SMB layers. tshark decodes every
message of every capture without a malformed-packet warning (checked by
tests/integration/oracle_smb.py).

Captures (addresses are documentation/RFC 1918 ranges):

  smb1_ms08_067_probe.pcap   nmap smb-vuln-ms08-067 over SMB1: negotiate,
      NTLMSSP anonymous login, tree connect IPC$, NT_CREATE \\BROWSER, SRVSVC
      bind by WRITE/READ, NetprPathCompare (opnum 32) with "\\..\\" in a
      TransactNmPipe; then Metasploit-style NetprPathCanonicalize (opnum 31)
      on \\srvsvc split into two DCE/RPC fragments, answered by a fault.
  smb1_cve_2009_3103.pcap    the SMB2 negotiate "function index" exploit:
      SMB1 NEGOTIATE with Process ID High 0x0026 and "SMB 2.002" offered,
      once unanswered (the server dies, client resets) and once answered by
      an SMB2 NEGOTIATE response.
  smb2_session_pipes.pcap    SMB1 multi-protocol negotiate answered with
      SMB 2.???, SMB2 negotiate, two NTLMv2 logins (LOGON_FAILURE then
      SUCCESS), IPC$ with srvsvc (bind by WRITE/READ, NetrShareEnum by
      FSCTL_PIPE_TRANSCEIVE), a disk share with a compound
      CREATE+QUERY_INFO+CLOSE and a 140 KB file read (bulk), logoff.
  smb1_ms06_025_ms07_029.pcap NetBIOS session (139) with a plain anonymous
      session setup, \\router and the RASRPC bind (MS06-025) by
      TransactNmPipe; and on 445 \\DNSSERVER with the DNSSERVER bind
      (MS07-029) and an R_DnssrvQuery left unanswered.
  smb3_encrypted.pcap        SMB 3.1.1 negotiate and NTLM login, then
      SMB3 transform (encrypted) messages: only the negotiate and the
      session setups are readable.
"""

import argparse
import collections
import os
import random
import shutil
import struct
import sys
import tempfile

from scapy.all import IP, TCP, Ether, Raw, conf

conf.verb = 0

T0_US = 1700000000 * 10**6
MAC_C = "02:00:00:00:00:0c"
MAC_S = "02:00:00:00:00:05"
MSS = 1460


def rnd(seed, n):
    return random.Random(seed).randbytes(n)


# --------------------------------------------------------------------------
# capture and TCP


class Capture:
    def __init__(self):
        self.now = T0_US
        self.frames = []

    def add(self, frame, dt_us):
        self.now += dt_us
        self.frames.append((self.now, bytes(frame)))

    def write(self, path):
        out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for ts, data in self.frames:
            out += struct.pack("<IIII", ts // 10**6, ts % 10**6, len(data), len(data)) + data
        with open(path, "wb") as f:
            f.write(out)


class Tcp:
    """One TCP connection: handshake, data in MSS segments each ACKed, close."""

    def __init__(self, cap, cli, cport, srv, sport, isn_c=0x10000, isn_s=0x20000):
        self.cap = cap
        self.cli, self.cport, self.srv, self.sport = cli, cport, srv, sport
        self.nxt = {True: isn_c, False: isn_s}
        self.ipid = {True: 0x1000, False: 0x2000}

    def pkt(self, from_client, flags, data=b"", dt=200):
        src, dst = (self.cli, self.srv) if from_client else (self.srv, self.cli)
        sp, dp = (self.cport, self.sport) if from_client else (self.sport, self.cport)
        self.ipid[from_client] += 1
        ack = self.nxt[not from_client] if "A" in flags else 0
        p = (Ether(src=MAC_C if from_client else MAC_S, dst=MAC_S if from_client else MAC_C) /
             IP(src=src, dst=dst, id=self.ipid[from_client], ttl=64 if from_client else 128, flags="DF") /
             TCP(sport=sp, dport=dp, flags=flags, seq=self.nxt[from_client], ack=ack, window=64240))
        if data:
            p = p / Raw(data)
        self.cap.add(p, dt)
        self.nxt[from_client] += len(data) + ("S" in flags) + ("F" in flags)

    def open(self):
        self.pkt(True, "S", dt=1000)
        self.pkt(False, "SA")
        self.pkt(True, "A")

    def send(self, from_client, data, dt=500):
        first = True
        n = 0
        for i in range(0, len(data), MSS):
            self.pkt(from_client, "PA", data[i:i + MSS], dt=dt if first else 30)
            first = False
            n += 1
            if n % 16 == 0 and i + MSS < len(data):
                self.pkt(not from_client, "A", dt=20)  # keep the window open
        self.pkt(not from_client, "A", dt=40)

    def c(self, data, dt=500):
        self.send(True, data, dt)

    def s(self, data, dt=500):
        self.send(False, data, dt)

    def close(self):
        self.pkt(True, "FA", dt=1000)
        self.pkt(False, "FA")
        self.pkt(True, "A")

    def reset(self, dt=3 * 10**6):
        self.pkt(True, "RA", dt=dt)


# --------------------------------------------------------------------------
# encodings


def u8(v):
    return struct.pack("<B", v)


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


def utf16(s, nul=True):
    return s.encode("utf-16-le") + (b"\0\0" if nul else b"")


def nbss(msg, typ=0x00):
    return struct.pack(">BBH", typ, (len(msg) >> 16) & 0xff, len(msg) & 0xffff) + msg


def netbios_name(name, suffix=0x20):
    n = name.upper().ljust(15)[:15].encode() + bytes([suffix])
    return b"\x20" + bytes(c for b in n for c in (0x41 + (b >> 4), 0x41 + (b & 15))) + b"\0"


# ---- SMB1 (MS-SMB / MS-CIFS) ----

ANDX = {0x24, 0x2D, 0x2E, 0x2F, 0x73, 0x74, 0x75, 0xA2}


class Smb1:
    """An SMB1 message: header then blocks; AndX words are patched in. A block's
    bytes may be a function of its absolute offset (Unicode alignment)."""

    def __init__(self, response=False, status=0, flags2=0xC807, pid_high=0, tid=0, pid=0xFEFF, uid=0, mid=1):
        self.h = dict(response=response, status=status, flags2=flags2, pid_high=pid_high, tid=tid, pid=pid,
                      uid=uid, mid=mid)
        self.blocks = []

    def add(self, cmd, words=b"", data=b""):
        self.blocks.append((cmd, words, data))
        return self

    def build(self):
        h = self.h
        out = bytearray(b"\xffSMB" + u8(self.blocks[0][0]) + u32(h["status"]) +
                        u8(0x98 if h["response"] else 0x18) + u16(h["flags2"]) + u16(h["pid_high"]) +
                        b"\0" * 10 + u16(h["tid"]) + u16(h["pid"]) + u16(h["uid"]) + u16(h["mid"]))
        prev_andx = None
        for cmd, words, data in self.blocks:
            if prev_andx is not None:
                out[prev_andx] = cmd
                out[prev_andx + 2:prev_andx + 4] = u16(len(out))
            out += u8(len(words) // 2)
            words_at = len(out)
            out += words
            if cmd in ANDX and len(words) >= 4:
                out[words_at:words_at + 4] = b"\xff\0\0\0"
                prev_andx = words_at
            else:
                prev_andx = None
            b = data(len(out) + 2) if callable(data) else data
            out += u16(len(b)) + b
        return bytes(out)


ANDX_W = b"\xff\0\0\0"


def pad_to(off, align):
    return b"\0" * ((align - off % align) % align)


def smb1_negotiate_req(mid, dialects, pid_high=0, pid=0xFEFF, flags2=0xC853):
    return Smb1(mid=mid, pid_high=pid_high, pid=pid, flags2=flags2).add(
        0x72, b"", b"".join(b"\x02" + d.encode() + b"\0" for d in dialects)).build()


def smb1_negotiate_rsp(mid, index, blob=b"", pid=0xFEFF, ext=True, challenge=b"", domain=""):
    caps = 0x8000E3FD if ext else 0x0000E3FD
    w = (u16(index) + u8(0x03) + u16(50) + u16(1) + u32(16644) + u32(65536) + u32(0) + u32(caps) +
         u64(0x01D9_1234_5678_9ABC) + u16(0) + u8(len(challenge)))
    b = (rnd(7, 16) + blob) if ext else (challenge + utf16(domain))
    return Smb1(response=True, mid=mid, pid=pid).add(0x72, w, b).build()


def smb1_session_setup_ext(mid, blob, uid=0, pid=0xFEFF):
    w = ANDX_W + u16(4356) + u16(50) + u16(0) + u32(0) + u16(len(blob)) + u32(0) + u32(0x800000D4)

    def data(off):
        b = blob
        b += pad_to(off + len(b), 2)
        return b + utf16("Unix") + utf16("Nmap")
    return Smb1(mid=mid, uid=uid, pid=pid).add(0x73, w, data).build()


def smb1_session_setup_ext_rsp(mid, status, blob, uid, action=0, pid=0xFEFF):
    if status not in (0, 0xC0000016):
        return Smb1(response=True, status=status, mid=mid, uid=uid, pid=pid).add(0x73).build()
    w = ANDX_W + u16(action) + u16(len(blob))

    def data(off):
        b = blob
        b += pad_to(off + len(b), 2)
        return b + utf16("Windows Server 2003 3790 Service Pack 2") + utf16("Windows Server 2003 5.2")
    return Smb1(response=True, status=status, mid=mid, uid=uid, pid=pid).add(0x73, w, data).build()


def smb1_session_setup_plain(mid, account, domain, oem_pw=b"", uni_pw=b"", pid=0xFEFF):
    w = (ANDX_W + u16(4356) + u16(50) + u16(0) + u32(0) + u16(len(oem_pw)) + u16(len(uni_pw)) + u32(0) +
         u32(0xD4))

    def data(off):
        b = oem_pw + uni_pw
        b += pad_to(off + len(b), 2)
        return b + utf16(account) + utf16(domain) + utf16("Windows 2000 2195") + utf16("Windows 2000 5.0")
    return Smb1(mid=mid, pid=pid).add(0x73, w, data).build()


def smb1_session_setup_plain_rsp(mid, uid, action=0, pid=0xFEFF):
    def data(off):
        b = pad_to(off, 2)
        return b + utf16("Windows 5.1") + utf16("Windows 2000 LAN Manager") + utf16("WORKGROUP")
    return Smb1(response=True, mid=mid, uid=uid, pid=pid).add(0x73, ANDX_W + u16(action), data).build()


def smb1_tree_connect(mid, uid, path, pid=0xFEFF):
    def data(off):
        b = b"\0"  # password: one zero byte
        b += pad_to(off + 1, 2)
        return b + utf16(path) + b"?????\0"
    return Smb1(mid=mid, uid=uid, pid=pid).add(0x75, ANDX_W + u16(0x0008) + u16(1), data).build()


def smb1_tree_connect_rsp(mid, uid, tid, service, pid=0xFEFF):
    w = ANDX_W + u16(1) + u32(0x1F01FF) + u32(0x1F01FF)

    def data(off):
        b = service.encode() + b"\0"
        b += pad_to(off + len(b), 2)
        return b + (utf16("") if service == "IPC" else utf16("NTFS"))
    return Smb1(response=True, mid=mid, uid=uid, tid=tid, pid=pid).add(0x75, w, data).build()


def smb1_nt_create(mid, uid, tid, name, pid=0xFEFF):
    n = utf16(name)
    w = (ANDX_W + u8(0) + u16(len(n)) + u32(0x16) + u32(0) + u32(0x0002019F) + u64(0) + u32(0) + u32(3) +
         u32(1) + u32(0x40) + u32(2) + u8(0))
    return Smb1(mid=mid, uid=uid, tid=tid, pid=pid).add(0xA2, w, lambda off: pad_to(off, 2) + n).build()


def smb1_nt_create_rsp(mid, uid, tid, fid, file_type, pid=0xFEFF):
    w = (ANDX_W + u8(0) + u16(fid) + u32(1) + u64(0) * 4 + u32(0x80) + u64(4096) + u64(0) + u16(file_type) +
         u16(0x05FF) + u8(0))
    return Smb1(response=True, mid=mid, uid=uid, tid=tid, pid=pid).add(0xA2, w, b"").build()


def smb1_write(mid, uid, tid, fid, data, pid=0xFEFF):
    hdr_len = 32 + 1 + 28 + 2  # header, WordCount, 14 words, ByteCount
    data_off = hdr_len + 1     # one pad byte
    w = (ANDX_W + u16(fid) + u32(0) + u32(0xFFFFFFFF) + u16(0x0008) + u16(len(data)) + u16(0) + u16(len(data)) +
         u16(data_off) + u32(0))
    return Smb1(mid=mid, uid=uid, tid=tid, pid=pid).add(0x2F, w, b"\0" + data).build()


def smb1_write_rsp(mid, uid, tid, count, pid=0xFEFF):
    w = ANDX_W + u16(count) + u16(0xFFFF) + u16(0) + u16(0)
    return Smb1(response=True, mid=mid, uid=uid, tid=tid, pid=pid).add(0x2F, w, b"").build()


def smb1_read(mid, uid, tid, fid, max_count=1024, pid=0xFEFF):
    w = ANDX_W + u16(fid) + u32(0) + u16(max_count) + u16(max_count) + u32(0xFFFFFFFF) + u16(max_count) + u32(0)
    return Smb1(mid=mid, uid=uid, tid=tid, pid=pid).add(0x2E, w, b"").build()


def smb1_read_rsp(mid, uid, tid, data, pid=0xFEFF):
    data_off = 32 + 1 + 24 + 2 + 1
    w = ANDX_W + u16(0xFFFF) + u16(0) + u16(0) + u16(len(data)) + u16(data_off) + u16(0) + b"\0" * 8
    return Smb1(response=True, mid=mid, uid=uid, tid=tid, pid=pid).add(0x2E, w, b"\0" + data).build()


def smb1_trans_pipe(mid, uid, tid, fid, data, sub=0x26, pid=0xFEFF, max_data=1024):
    """TRANSACTION on \\PIPE\\ (setup: subcommand, FID)."""
    setup = u16(sub) + u16(fid)
    words_len = 2 * (14 + 2)
    bytes_off = 32 + 1 + words_len + 2
    name = pad_to(bytes_off, 2) + utf16("\\PIPE\\")
    pad = pad_to(bytes_off + len(name), 4)
    data_off = bytes_off + len(name) + len(pad)
    w = (u16(0) + u16(len(data)) + u16(0) + u16(max_data) + u8(0) + u8(0) + u16(0) + u32(0) + u16(0) +
         u16(0) + u16(data_off) + u16(len(data)) + u16(data_off) + u8(2) + u8(0) + setup)
    return Smb1(mid=mid, uid=uid, tid=tid, pid=pid).add(0x25, w, name + pad + data).build()


def smb1_trans_rsp(mid, uid, tid, data, status=0, cmd=0x25, pid=0xFEFF):
    if status and not data:
        return Smb1(response=True, status=status, mid=mid, uid=uid, tid=tid, pid=pid).add(cmd).build()
    words_len = 2 * 10
    bytes_off = 32 + 1 + words_len + 2
    pad = pad_to(bytes_off, 4)
    data_off = bytes_off + len(pad)
    w = (u16(0) + u16(len(data)) + u16(0) + u16(0) + u16(data_off) + u16(0) + u16(len(data)) + u16(data_off) +
         u16(0) + u8(0) + u8(0))
    return Smb1(response=True, status=status, mid=mid, uid=uid, tid=tid, pid=pid).add(cmd, w, pad + data).build()


def smb1_close(mid, uid, tid, fid, pid=0xFEFF):
    return Smb1(mid=mid, uid=uid, tid=tid, pid=pid).add(0x04, u16(fid) + u32(0xFFFFFFFF), b"").build()


def smb1_simple_rsp(cmd, mid, uid, tid, pid=0xFEFF, words=b""):
    return Smb1(response=True, mid=mid, uid=uid, tid=tid, pid=pid).add(cmd, words, b"").build()


def smb1_tree_disconnect(mid, uid, tid, pid=0xFEFF):
    return Smb1(mid=mid, uid=uid, tid=tid, pid=pid).add(0x71, b"", b"").build()


def smb1_logoff(mid, uid, pid=0xFEFF):
    return Smb1(mid=mid, uid=uid, pid=pid).add(0x74, ANDX_W, b"").build()


# ---- SMB2 (MS-SMB2) ----


def smb2(cmd, body, msg_id, response=False, status=0, session=0, tree=0, flags=0, credit=1, next_cmd=0,
         async_id=None):
    fl = (1 if response else 0) | flags | (2 if async_id is not None else 0)
    h = (b"\xfeSMB" + u16(64) + u16(1) + u32(status) + u16(cmd) + u16(credit) + u32(fl) + u32(next_cmd) +
         u64(msg_id))
    h += u64(async_id) if async_id is not None else (u32(0xFEFF) + u32(tree))
    h += u64(session) + b"\0" * 16
    return h + body


def compound(msgs):
    out = bytearray()
    for i, m in enumerate(msgs):
        start = len(out)
        out += m
        if i + 1 < len(msgs):
            out += b"\0" * ((8 - len(out) % 8) % 8)
            out[start + 20:start + 24] = u32(len(out) - start)
    return bytes(out)


def smb2_error():
    return u16(9) + u8(0) + u8(0) + u32(0) + u8(0)


def smb2_negotiate_req(dialects, contexts=b""):
    ctx_off = 0
    body = u16(36) + u16(len(dialects)) + u16(1) + u16(0) + u32(0x7F) + rnd(11, 16)
    dl = b"".join(u16(d) for d in dialects)
    if contexts:
        ctx_off = 64 + 36 + len(dl)
        pad = pad_to(ctx_off, 8)
        ctx_off += len(pad)
        return body + u32(ctx_off) + u16(2) + u16(0) + dl + pad + contexts
    return body + u32(0) + u16(0) + u16(0) + dl


def smb2_negotiate_rsp(dialect, blob, contexts=b""):
    body = (u16(65) + u16(1) + u16(dialect) + u16(2 if contexts else 0) + rnd(12, 16) + u32(0x2F) +
            u32(8388608) * 3 + u64(0x01D9_1234_5678_9ABC) + u64(0) + u16(64 + 64) + u16(len(blob)))
    if contexts:
        blob_end = 64 + 64 + len(blob)
        pad = pad_to(blob_end, 8)
        return body + u32(blob_end + len(pad)) + blob + pad + contexts
    return body + u32(0) + blob


def smb2_session_setup_req(blob):
    return u16(25) + u8(0) + u8(1) + u32(1) + u32(0) + u16(64 + 24) + u16(len(blob)) + u64(0) + blob


def smb2_session_setup_rsp(blob, flags=0):
    return u16(9) + u16(flags) + u16(64 + 8) + u16(len(blob)) + blob


def smb2_tree_connect_req(path):
    p = utf16(path, nul=False)
    return u16(9) + u16(0) + u16(64 + 8) + u16(len(p)) + p


def smb2_tree_connect_rsp(share_type):
    return u16(16) + u8(share_type) + u8(0) + u32(0x30 if share_type == 2 else 0) + u32(0) + u32(0x1F01FF)


def smb2_create_req(name):
    n = utf16(name, nul=False)
    body = (u16(57) + u8(0) + u8(0) + u32(2) + u64(0) + u64(0) + u32(0x0012019F) + u32(0) + u32(7) + u32(1) +
            u32(0x40) + u16(64 + 56) + u16(len(n)) + u32(0) + u32(0))
    return body + (n if n else b"\0")


def smb2_create_rsp(fid, size=0):
    return (u16(89) + u8(0) + u8(0) + u32(1) + u64(0x01D9_0000_0000_0000) * 4 + u64(size) + u64(size) +
            u32(0x80) + u32(0) + fid + u32(0) + u32(0))


def smb2_close_req(fid):
    return u16(24) + u16(0) + u32(0) + fid


def smb2_close_rsp():
    return u16(60) + u16(0) + u32(0) + b"\0" * 56


def smb2_write_req(fid, data):
    return u16(49) + u16(64 + 48) + u32(len(data)) + u64(0) + fid + u32(0) + u32(0) + u16(0) + u16(0) + u32(0) + data


def smb2_write_rsp(count):
    return u16(17) + u16(0) + u32(count) + u32(0) + u16(0) + u16(0)


def smb2_read_req(fid, length, offset=0):
    return u16(49) + u8(0x50) + u8(0) + u32(length) + u64(offset) + fid + u32(1) + u32(0) + u32(0) + u16(0) + u16(0) + b"\0"


def smb2_read_rsp(data):
    return u16(17) + u8(64 + 16) + u8(0) + u32(len(data)) + u32(0) + u32(0) + data


def smb2_ioctl_req(fid, ctl, data, max_out=4280):
    return (u16(57) + u16(0) + u32(ctl) + fid + u32(64 + 56) + u32(len(data)) + u32(0) + u32(64 + 56) + u32(0) +
            u32(max_out) + u32(1) + u32(0) + data)


def smb2_ioctl_rsp(fid, ctl, data):
    return (u16(49) + u16(0) + u32(ctl) + fid + u32(64 + 48) + u32(0) + u32(64 + 48) + u32(len(data)) + u32(0) +
            u32(0) + data)


def smb2_query_info_req(fid):
    return u16(41) + u8(1) + u8(5) + u32(4096) + u16(0) + u16(0) + u32(0) + u32(0) + u32(0) + fid


def smb2_query_info_rsp(data):
    return u16(9) + u16(64 + 8) + u32(len(data)) + data


def smb2_simple(size=4):
    return u16(size) + u16(0)


# ---- DER / SPNEGO / NTLMSSP ----


def der(tag, content):
    n = len(content)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = b"\x81" + bytes([n])
    else:
        ln = b"\x82" + struct.pack(">H", n)
    return bytes([tag]) + ln + content


OID_SPNEGO = bytes.fromhex("2b0601050502")
OID_NTLM = bytes.fromhex("2b0601040182370202 0a".replace(" ", ""))
OID_KRB5 = bytes.fromhex("2a864886f712010202")
OID_MSKRB5 = bytes.fromhex("2a864882f712010202")


def spnego_init(token=b"", mechs=(OID_NTLM,)):
    seq = der(0xA0, der(0x30, b"".join(der(0x06, m) for m in mechs)))
    if token:
        seq += der(0xA2, der(0x04, token))
    return der(0x60, der(0x06, OID_SPNEGO) + der(0xA0, der(0x30, seq)))


def spnego_server_hint():
    seq = der(0xA0, der(0x30, der(0x06, OID_MSKRB5) + der(0x06, OID_KRB5) + der(0x06, OID_NTLM)))
    seq += der(0xA3, der(0x30, der(0xA0, der(0x1B, b"not_defined_in_RFC4178@please_ignore"))))
    return der(0x60, der(0x06, OID_SPNEGO) + der(0xA0, der(0x30, seq)))


def spnego_resp(token=b"", state=1, mech=True):
    seq = der(0xA0, der(0x0A, bytes([state])))
    if mech:
        seq += der(0xA1, der(0x06, OID_NTLM))
    if token:
        seq += der(0xA2, der(0x04, token))
    return der(0xA1, der(0x30, seq))


NTLM_FLAGS = 0xE2088297


def ntlm_negotiate():
    return b"NTLMSSP\0" + u32(1) + u32(NTLM_FLAGS) + u16(0) + u16(0) + u32(0) + u16(0) + u16(0) + u32(0) + \
        bytes.fromhex("0a0063450000000f")


def ntlm_challenge(challenge, domain, computer):
    tgt = utf16(domain, nul=False)
    info = b""
    for av_id, val in ((2, domain), (1, computer), (4, domain.lower() + ".local"),
                       (3, computer.lower() + "." + domain.lower() + ".local"), (7, None), (0, None)):
        if av_id == 7:
            v = u64(0x01D9_1234_5678_9ABC)
        elif val is None:
            v = b""
        else:
            v = utf16(val, nul=False)
        info += u16(av_id) + u16(len(v)) + v
    tgt_off = 56
    return (b"NTLMSSP\0" + u32(2) + u16(len(tgt)) + u16(len(tgt)) + u32(tgt_off) + u32(0xE2898215) + challenge +
            b"\0" * 8 + u16(len(info)) + u16(len(info)) + u32(tgt_off + len(tgt)) +
            bytes.fromhex("0502ce0e0000000f") + tgt + info)


def ntlm_authenticate(domain, user, host, lm, nt, flags=0xE2888215):
    d, u, w = utf16(domain, False), utf16(user, False), utf16(host, False)
    off = 88
    fields = b""
    payload = b""
    for blob in (lm, nt, d, u, w, b""):
        pass
    # Payload order as Windows writes it: domain, user, workstation, LM, NT, session key.
    pos = {}
    for name, blob in (("d", d), ("u", u), ("w", w), ("lm", lm), ("nt", nt), ("sk", b"")):
        pos[name] = off + len(payload)
        payload += blob
    for name, blob in (("lm", lm), ("nt", nt), ("d", d), ("u", u), ("w", w), ("sk", b"")):
        fields += u16(len(blob)) + u16(len(blob)) + u32(pos[name])
    return b"NTLMSSP\0" + u32(3) + fields + u32(flags) + bytes.fromhex("0601b11d0000000f") + b"\0" * 16 + payload


def ntlmv2_response(seed):
    blob = b"\x01\x01" + b"\0" * 6 + u64(0x01D9_1234_5678_9ABC) + rnd(seed, 8) + b"\0" * 4 + u16(0) + u16(0)
    return rnd(seed + 1, 16) + blob + b"\0" * 4


# ---- DCE/RPC (C706) ----

NDR = "8a885d04-1ceb-11c9-9fe8-08002b104860"
NDR64 = "71710533-beba-4937-8319-b5dbef9ccc36"
SRVSVC = ("4b324fc8-1670-01d3-1278-5a47bf6ee188", 3, 0)
RASRPC = ("20610036-fa22-11cf-9823-00a0c911e5df", 1, 0)
DNSSERVER = ("50abc2a4-574d-40b3-9d66-ee4fd5fba076", 5, 0)


def uuid_le(s):
    raw = bytes.fromhex(s.replace("-", ""))
    return raw[3::-1] + raw[5:3:-1] + raw[7:5:-1] + raw[8:]


def dce(ptype, call_id, body, flags=0x03):
    return struct.pack("<BBBB4sHHI", 5, 0, ptype, flags, b"\x10\0\0\0", 16 + len(body), 0, call_id) + body


def dce_bind(call_id, iface, ndr64=False):
    uuid, major, minor = iface
    ctxs = [(0, NDR, 2)] + ([(1, NDR64, 1)] if ndr64 else [])
    b = u16(4280) + u16(4280) + u32(0) + u8(len(ctxs)) + b"\0\0\0"
    for cid, ts, tv in ctxs:
        b += u16(cid) + u8(1) + u8(0) + uuid_le(uuid) + u16(major) + u16(minor) + uuid_le(ts) + u32(tv)
    return dce(11, call_id, b)


def dce_bind_ack(call_id, results, sec_addr):
    sa = sec_addr.encode() + b"\0"
    b = u16(4280) + u16(4280) + u32(0x53F0) + u16(len(sa)) + sa
    b += pad_to(16 + len(b), 4)
    b += u8(len(results)) + b"\0\0\0"
    for r in results:
        b += u16(r) + (u16(0) + uuid_le(NDR) + u32(2) if r == 0 else u16(2) + b"\0" * 20)
    return dce(12, call_id, b)


def dce_request(call_id, opnum, stub, flags=0x03, alloc=None):
    return dce(0, call_id, u32(len(stub) if alloc is None else alloc) + u16(0) + u16(opnum) + stub, flags)


def dce_response(call_id, stub):
    return dce(2, call_id, u32(len(stub)) + u16(0) + u8(0) + u8(0) + stub)


def dce_fault(call_id, status):
    return dce(3, call_id, u32(0) + u16(0) + u8(0) + u8(0) + u32(status) + u32(0))


def ndr_wstr(s, referent=None):
    n = len(s) + 1
    out = (u32(referent) if referent else b"") + u32(n) + u32(0) + u32(n) + utf16(s)
    return out + pad_to(len(out), 4)


def ndr_str(s, referent=None):
    n = len(s) + 1
    out = (u32(referent) if referent else b"") + u32(n) + u32(0) + u32(n) + s.encode() + b"\0"
    return out + pad_to(len(out), 4)


def netpathcompare_stub(server, p1, p2):
    # NetprPathCompare(ServerName [unique], PathName1, PathName2, PathType, Flags)
    return ndr_wstr(server, 0x00020000) + ndr_wstr(p1) + ndr_wstr(p2) + u32(1) + u32(0)


def netpathcanonicalize_stub(server, path, prefix):
    # NetprPathCanonicalize(ServerName, PathName, OutbufLen, Prefix, PathType [in,out], Flags)
    return ndr_wstr(server, 0x00020000) + ndr_wstr(path) + u32(1) + ndr_wstr(prefix) + u32(1) + u32(0)


def netshareenumall_stub(server):
    # NetrShareEnum(ServerName, InfoStruct{level 1, container ptr}, PreferedMaximumLength, ResumeHandle)
    return ndr_wstr(server, 0x00020000) + u32(1) + u32(1) + u32(0x00020004) + u32(0) + u32(0) + \
        u32(0xFFFFFFFF) + u32(0x00020008) + u32(0)


# --------------------------------------------------------------------------
# captures


def ms08_067(out):
    cap = Capture()
    cli, srv = "192.168.56.10", "192.168.56.20"
    uid, tid, fid = 2048, 2049, 0x4000

    # 1: nmap smb-vuln-ms08-067 (NetprPathCompare on \BROWSER)
    t = Tcp(cap, cli, 49210, srv, 445)
    t.open()
    t.c(nbss(smb1_negotiate_req(1, ["NT LM 0.12"], pid=0x1A2B)))
    t.s(nbss(smb1_negotiate_rsp(1, 0, spnego_server_hint(), pid=0x1A2B)))
    chal = rnd(21, 8)
    t.c(nbss(smb1_session_setup_ext(2, spnego_init(ntlm_negotiate()), pid=0x1A2B)))
    t.s(nbss(smb1_session_setup_ext_rsp(2, 0xC0000016, spnego_resp(ntlm_challenge(chal, "WORKGROUP", "XPSP2")),
                                        uid, pid=0x1A2B)))
    t.c(nbss(smb1_session_setup_ext(3, spnego_resp(ntlm_authenticate("", "", "", b"\0", b""), mech=False), uid,
                                    pid=0x1A2B)))
    t.s(nbss(smb1_session_setup_ext_rsp(3, 0, spnego_resp(b"", state=0, mech=False), uid, pid=0x1A2B)))
    t.c(nbss(smb1_tree_connect(4, uid, "\\\\192.168.56.20\\IPC$", pid=0x1A2B)))
    t.s(nbss(smb1_tree_connect_rsp(4, uid, tid, "IPC", pid=0x1A2B)))
    t.c(nbss(smb1_nt_create(5, uid, tid, "\\BROWSER", pid=0x1A2B)))
    t.s(nbss(smb1_nt_create_rsp(5, uid, tid, fid, 2, pid=0x1A2B)))
    bind = dce_bind(0x41414141, SRVSVC)
    t.c(nbss(smb1_write(6, uid, tid, fid, bind, pid=0x1A2B)))
    t.s(nbss(smb1_write_rsp(6, uid, tid, len(bind), pid=0x1A2B)))
    t.c(nbss(smb1_read(7, uid, tid, fid, pid=0x1A2B)))
    t.s(nbss(smb1_read_rsp(7, uid, tid, dce_bind_ack(0x41414141, [0], "\\PIPE\\browser"), pid=0x1A2B)))
    path1 = "\\" + "A" * 60 + "\\..\\n"
    stub = netpathcompare_stub("192.168.56.20", path1, "\\n")
    t.c(nbss(smb1_trans_pipe(8, uid, tid, fid, dce_request(0x41414142, 32, stub), pid=0x1A2B)))
    t.s(nbss(smb1_trans_rsp(8, uid, tid, dce_response(0x41414142, u32(0)), pid=0x1A2B)))
    t.c(nbss(smb1_close(9, uid, tid, fid, pid=0x1A2B)))
    t.s(nbss(smb1_simple_rsp(0x04, 9, uid, tid, pid=0x1A2B)))
    t.c(nbss(smb1_tree_disconnect(10, uid, tid, pid=0x1A2B)))
    t.s(nbss(smb1_simple_rsp(0x71, 10, uid, tid, pid=0x1A2B)))
    t.c(nbss(smb1_logoff(11, uid, pid=0x1A2B)))
    t.s(nbss(smb1_simple_rsp(0x74, 11, uid, 0, pid=0x1A2B, words=ANDX_W)))
    t.close()

    # 2: NetprPathCanonicalize on \srvsvc, the request in two DCE/RPC fragments
    t = Tcp(cap, cli, 49211, srv, 445, isn_c=0x30000, isn_s=0x40000)
    t.open()
    t.c(nbss(smb1_negotiate_req(1, ["NT LM 0.12"], pid=0x2222)))
    t.s(nbss(smb1_negotiate_rsp(1, 0, spnego_server_hint(), pid=0x2222)))
    t.c(nbss(smb1_session_setup_ext(2, spnego_init(ntlm_negotiate()), pid=0x2222)))
    t.s(nbss(smb1_session_setup_ext_rsp(2, 0xC0000016, spnego_resp(ntlm_challenge(rnd(22, 8), "WORKGROUP",
                                                                                   "XPSP2")), uid + 1, pid=0x2222)))
    t.c(nbss(smb1_session_setup_ext(3, spnego_resp(ntlm_authenticate("", "", "", b"\0", b""), mech=False),
                                    uid + 1, pid=0x2222)))
    t.s(nbss(smb1_session_setup_ext_rsp(3, 0, spnego_resp(b"", state=0, mech=False), uid + 1, pid=0x2222)))
    t.c(nbss(smb1_tree_connect(4, uid + 1, "\\\\192.168.56.20\\IPC$", pid=0x2222)))
    t.s(nbss(smb1_tree_connect_rsp(4, uid + 1, tid, "IPC", pid=0x2222)))
    t.c(nbss(smb1_nt_create(5, uid + 1, tid, "\\srvsvc", pid=0x2222)))
    t.s(nbss(smb1_nt_create_rsp(5, uid + 1, tid, fid + 1, 2, pid=0x2222)))
    bind = dce_bind(1, SRVSVC)
    t.c(nbss(smb1_write(6, uid + 1, tid, fid + 1, bind, pid=0x2222)))
    t.s(nbss(smb1_write_rsp(6, uid + 1, tid, len(bind), pid=0x2222)))
    t.c(nbss(smb1_read(7, uid + 1, tid, fid + 1, pid=0x2222)))
    t.s(nbss(smb1_read_rsp(7, uid + 1, tid, dce_bind_ack(1, [0], "\\PIPE\\srvsvc"), pid=0x2222)))
    path = "\\" + "".join(chr(0x41 + i % 26) for i in range(200)) + "\\..\\..\\" + "B" * 40
    stub = netpathcanonicalize_stub("192.168.56.20", path, "\\")
    cut = len(stub) // 2 + 1
    frag1 = dce_request(2, 31, stub[:cut], flags=0x01, alloc=len(stub))
    frag2 = dce_request(2, 31, stub[cut:], flags=0x02, alloc=len(stub) - cut)
    t.c(nbss(smb1_write(8, uid + 1, tid, fid + 1, frag1, pid=0x2222)))
    t.s(nbss(smb1_write_rsp(8, uid + 1, tid, len(frag1), pid=0x2222)))
    t.c(nbss(smb1_write(9, uid + 1, tid, fid + 1, frag2, pid=0x2222)))
    t.s(nbss(smb1_write_rsp(9, uid + 1, tid, len(frag2), pid=0x2222)))
    t.c(nbss(smb1_read(10, uid + 1, tid, fid + 1, pid=0x2222)))
    t.s(nbss(smb1_read_rsp(10, uid + 1, tid, dce_fault(2, 0x1C010003), pid=0x2222)))
    t.close()
    cap.write(os.path.join(out, "smb1_ms08_067_probe.pcap"))


CVE_DIALECTS = ["PC NETWORK PROGRAM 1.0", "LANMAN1.0", "Windows for Workgroups 3.1a", "LM1.2X002", "LANMAN2.1",
                "NT LM 0.12", "SMB 2.002"]


def cve_2009_3103(out):
    cap = Capture()
    cli, srv = "10.10.10.5", "10.10.10.60"
    # 1: the exploit's negotiate; the server never answers, the client resets.
    t = Tcp(cap, cli, 40001, srv, 445)
    t.open()
    t.c(nbss(smb1_negotiate_req(0, CVE_DIALECTS, pid_high=0x0026, pid=0x0000, flags2=0xC853)))
    t.reset()
    # 2: the same negotiate answered by an SMB2 NEGOTIATE response (Vista SP1).
    t = Tcp(cap, cli, 40002, srv, 445, isn_c=0x50000, isn_s=0x60000)
    t.open()
    t.c(nbss(smb1_negotiate_req(0, CVE_DIALECTS, pid_high=0x0026, pid=0x0000, flags2=0xC853)))
    t.s(nbss(smb2(0, smb2_negotiate_rsp(0x0202, spnego_server_hint()), 0, response=True)))
    t.close()
    cap.write(os.path.join(out, "smb1_cve_2009_3103.pcap"))


def smb2_session(out):
    cap = Capture()
    cli, srv = "10.0.0.5", "10.0.0.6"
    t = Tcp(cap, cli, 50123, srv, 445)
    t.open()
    sess = 0x0000_1000_0000_0041
    mid = [0]

    def x(cmd, req_body, rsp_body, status=0, tree=0, session=sess, flags=0, rsp_tree=None):
        m = mid[0]
        mid[0] += 1
        t.c(nbss(smb2(cmd, req_body, m, session=session, tree=tree, flags=flags)))
        t.s(nbss(smb2(cmd, rsp_body, m, response=True, status=status, session=session,
                      tree=tree if rsp_tree is None else rsp_tree)))

    # SMB1 multi-protocol negotiate answered with the SMB2 wildcard dialect.
    t.c(nbss(smb1_negotiate_req(0, ["NT LM 0.12", "SMB 2.002", "SMB 2.???"], pid=0x0ABC)))
    t.s(nbss(smb2(0, smb2_negotiate_rsp(0x02FF, spnego_server_hint()), 0, response=True)))
    mid[0] = 1
    x(0, smb2_negotiate_req([0x0202, 0x0210, 0x0300, 0x0302]), smb2_negotiate_rsp(0x0210, spnego_server_hint()),
      session=0)
    for attempt, (user, status) in enumerate((("administrator", 0xC000006D), ("alice", 0))):
        chal = rnd(30 + attempt, 8)
        x(1, smb2_session_setup_req(spnego_init(ntlm_negotiate())),
          smb2_session_setup_rsp(spnego_resp(ntlm_challenge(chal, "CORP", "FS01"))), status=0xC0000016)
        auth = ntlm_authenticate("CORP", user, "WS01", b"\0" * 24, ntlmv2_response(40 + attempt))
        x(1, smb2_session_setup_req(spnego_resp(auth, mech=False)),
          smb2_error() if status else smb2_session_setup_rsp(spnego_resp(b"", state=0, mech=False)), status=status)
    # IPC$ and srvsvc
    x(3, smb2_tree_connect_req("\\\\10.0.0.6\\IPC$"), smb2_tree_connect_rsp(2), rsp_tree=1)
    fid = u64(0x0000_0000_0000_0005) + u64(0x0000_0000_4000_0011)
    x(5, smb2_create_req("srvsvc"), smb2_create_rsp(fid), tree=1)
    bind = dce_bind(2, SRVSVC, ndr64=True)
    x(9, smb2_write_req(fid, bind), smb2_write_rsp(len(bind)), tree=1)
    x(8, smb2_read_req(fid, 1024), smb2_read_rsp(dce_bind_ack(2, [0, 2], "\\PIPE\\srvsvc")), tree=1)
    req = dce_request(3, 15, netshareenumall_stub("\\\\10.0.0.6"))
    # level 1, container {EntriesRead 0, Buffer NULL}, TotalEntries 0, ResumeHandle 0, WERR_OK
    resp_stub = u32(1) + u32(1) + u32(0x20000) + u32(0) + u32(0) + u32(0) + u32(0x20004) + u32(0) + u32(0)
    x(11, smb2_ioctl_req(fid, 0x0011C017, req), smb2_ioctl_rsp(fid, 0x0011C017, dce_response(3, resp_stub)), tree=1)
    x(6, smb2_close_req(fid), smb2_close_rsp(), tree=1)
    # A disk share: a compound directory query, then a 200 KB file read.
    x(3, smb2_tree_connect_req("\\\\10.0.0.6\\share"), smb2_tree_connect_rsp(1), rsp_tree=2)
    all1 = b"\xff" * 16
    m = mid[0]
    mid[0] += 3
    t.c(nbss(compound([smb2(5, smb2_create_req(""), m, session=sess, tree=2),
                       smb2(16, smb2_query_info_req(all1), m + 1, session=sess, tree=2, flags=4),
                       smb2(6, smb2_close_req(all1), m + 2, session=sess, tree=2, flags=4)])))
    dfid = u64(9) + u64(0x4000_0021)
    t.s(nbss(compound([smb2(5, smb2_create_rsp(dfid), m, response=True, session=sess, tree=2),
                       smb2(16, smb2_query_info_rsp(rnd(50, 24)), m + 1, response=True, session=sess, tree=2, flags=4),
                       smb2(6, smb2_close_rsp(), m + 2, response=True, session=sess, tree=2, flags=4)])))
    ffid = u64(10) + u64(0x4000_0025)
    content = rnd(51, 140000)
    x(5, smb2_create_req("docs\\report.pdf"), smb2_create_rsp(ffid, len(content)), tree=2)
    for off in range(0, len(content), 65536):
        chunk = content[off:off + 65536]
        x(8, smb2_read_req(ffid, len(chunk), off), smb2_read_rsp(chunk), tree=2)
    x(6, smb2_close_req(ffid), smb2_close_rsp(), tree=2)
    x(4, smb2_simple(), smb2_simple(), tree=2)
    x(4, smb2_simple(), smb2_simple(), tree=1)
    x(2, smb2_simple(), smb2_simple())
    t.close()
    cap.write(os.path.join(out, "smb2_session_pipes.pcap"))


def ms06_ms07(out):
    cap = Capture()
    cli, srv = "172.16.5.7", "172.16.5.9"
    uid, tid = 100, 200
    # 1: NetBIOS session service, \router and RASRPC (MS06-025)
    t = Tcp(cap, cli, 1035, srv, 139)
    t.open()
    t.c(nbss(netbios_name("*SMBSERVER") + netbios_name("ATTACKER"), 0x81))
    t.s(nbss(b"", 0x82))
    t.c(nbss(smb1_negotiate_req(1, ["PC NETWORK PROGRAM 1.0", "LANMAN1.0", "LM1.2X002", "NT LM 0.12"],
                                flags2=0xC001)))
    t.s(nbss(smb1_negotiate_rsp(1, 3, ext=False, challenge=rnd(60, 8), domain="WORKGROUP")))
    t.c(nbss(smb1_session_setup_plain(2, "", "", b"", b"")))
    t.s(nbss(smb1_session_setup_plain_rsp(2, uid)))
    t.c(nbss(smb1_tree_connect(3, uid, "\\\\*SMBSERVER\\IPC$")))
    t.s(nbss(smb1_tree_connect_rsp(3, uid, tid, "IPC")))
    t.c(nbss(smb1_nt_create(4, uid, tid, "\\router")))
    t.s(nbss(smb1_nt_create_rsp(4, uid, tid, 0x0801, 2)))
    t.c(nbss(smb1_trans_pipe(5, uid, tid, 0x0801, dce_bind(1, RASRPC))))
    t.s(nbss(smb1_trans_rsp(5, uid, tid, dce_bind_ack(1, [0], "\\PIPE\\ROUTER"))))
    t.c(nbss(smb1_trans_pipe(6, uid, tid, 0x0801, dce_request(2, 12, rnd(61, 1200)))))
    t.s(nbss(smb1_trans_rsp(6, uid, tid, dce_fault(2, 0x000006F7))))
    t.close()
    # 2: \DNSSERVER and the DNSSERVER bind (MS07-029); the query gets no answer.
    t = Tcp(cap, cli, 1036, srv, 445, isn_c=0x70000, isn_s=0x80000)
    t.open()
    t.c(nbss(smb1_negotiate_req(1, ["NT LM 0.12"])))
    t.s(nbss(smb1_negotiate_rsp(1, 0, spnego_server_hint())))
    t.c(nbss(smb1_session_setup_ext(2, spnego_init(ntlm_negotiate()))))
    t.s(nbss(smb1_session_setup_ext_rsp(2, 0xC0000016, spnego_resp(ntlm_challenge(rnd(62, 8), "LAB", "DC1")),
                                        uid)))
    auth = ntlm_authenticate("LAB", "operator", "KALI", b"\0" * 24, ntlmv2_response(63))
    t.c(nbss(smb1_session_setup_ext(3, spnego_resp(auth, mech=False), uid)))
    t.s(nbss(smb1_session_setup_ext_rsp(3, 0, spnego_resp(b"", state=0, mech=False), uid)))
    t.c(nbss(smb1_tree_connect(4, uid, "\\\\172.16.5.9\\IPC$")))
    t.s(nbss(smb1_tree_connect_rsp(4, uid, tid, "IPC")))
    t.c(nbss(smb1_nt_create(5, uid, tid, "\\DNSSERVER")))
    t.s(nbss(smb1_nt_create_rsp(5, uid, tid, 0x0802, 2)))
    bind = dce_bind(1, DNSSERVER)
    t.c(nbss(smb1_write(6, uid, tid, 0x0802, bind)))
    t.s(nbss(smb1_write_rsp(6, uid, tid, len(bind))))
    t.c(nbss(smb1_read(7, uid, tid, 0x0802)))
    t.s(nbss(smb1_read_rsp(7, uid, tid, dce_bind_ack(1, [0], "\\PIPE\\DNSSERVER"))))
    # R_DnssrvQuery(pwszServerName, pszZone, pszOperation): the zone name is
    # the overlong string of the MS07-029 exploits.
    zone = "\\" * 3 + "A" * 600
    t.c(nbss(smb1_trans_pipe(8, uid, tid, 0x0802, dce_request(2, 1, ndr_wstr("172.16.5.9", 0x20000) +
                                                                    ndr_str(zone, 0x20004) + ndr_str("Zones", 0x20008)))))
    t.reset(dt=5 * 10**6)
    cap.write(os.path.join(out, "smb1_ms06_025_ms07_029.pcap"))


def smb3_encrypted(out):
    cap = Capture()
    cli, srv = "192.168.77.2", "192.168.77.3"
    t = Tcp(cap, cli, 51000, srv, 445)
    t.open()
    sess = 0x0000_2000_0000_0009
    ctx_preauth = u16(1) + u16(38) + u32(0) + u16(1) + u16(32) + u16(1) + rnd(70, 32)
    ctx_enc = u16(2) + u16(6) + u32(0) + u16(2) + u16(2) + u16(1)
    contexts = ctx_preauth + pad_to(len(ctx_preauth), 8) + ctx_enc
    t.c(nbss(smb2(0, smb2_negotiate_req([0x0202, 0x0210, 0x0300, 0x0302, 0x0311], contexts), 0)))
    rctx_preauth = u16(1) + u16(38) + u32(0) + u16(1) + u16(32) + u16(1) + rnd(71, 32)
    rctx_enc = u16(2) + u16(4) + u32(0) + u16(1) + u16(2)
    t.s(nbss(smb2(0, smb2_negotiate_rsp(0x0311, spnego_server_hint(),
                                        rctx_preauth + pad_to(len(rctx_preauth), 8) + rctx_enc), 0, response=True)))
    t.c(nbss(smb2(1, smb2_session_setup_req(spnego_init(ntlm_negotiate())), 1)))
    t.s(nbss(smb2(1, smb2_session_setup_rsp(spnego_resp(ntlm_challenge(rnd(72, 8), "HOME", "NAS"))), 1,
                  response=True, status=0xC0000016, session=sess)))
    auth = ntlm_authenticate("HOME", "bob", "LAPTOP", b"\0" * 24, ntlmv2_response(73))
    t.c(nbss(smb2(1, smb2_session_setup_req(spnego_resp(auth, mech=False)), 2, session=sess)))
    t.s(nbss(smb2(1, smb2_session_setup_rsp(spnego_resp(b"", state=0, mech=False), flags=0x0004), 2,
                  response=True, session=sess)))
    for i in range(4):
        body = rnd(80 + i, 120 + 40 * i)
        tf = b"\xfdSMB" + rnd(90 + i, 16) + rnd(95 + i, 11) + b"\0" * 5 + u32(len(body)) + u16(0) + u16(1) + u64(sess)
        t.send(i % 2 == 0, nbss(tf + body))
    t.close()
    cap.write(os.path.join(out, "smb3_encrypted.pcap"))


README = """# Crafted SMB captures

Generated by `tests/tools/craft_smb.py` (do not edit by hand); regenerate with

    /usr/bin/python3 tests/tools/craft_smb.py

and check that the committed files are what the tool produces with

    /usr/bin/python3 tests/tools/craft_smb.py --check

The SMB, NTLMSSP, SPNEGO and DCE/RPC bytes are built field by field from the
specifications (MS-SMB, MS-SMB2, MS-NLMP, RFC 4178, C706, MS-SRVS); scapy
only builds Ethernet/IP/TCP. Times start at 1700000000.0; every other byte is
fixed or comes from a seeded generator. tshark decodes each message without
a malformed-packet warning; `tests/integration/oracle_smb.py` compares
trawl's smb.jsonl with tshark's fields on these captures.

- `smb1_ms08_067_probe.pcap`: nmap smb-vuln-ms08-067 as it runs over SMB1
  (negotiate, anonymous NTLMSSP login, IPC$, `\\BROWSER`, SRVSVC bind by
  WRITE/READ, NetprPathCompare opnum 32 with `\\..\\` in the path by
  TRANSACT_NMPIPE), then a Metasploit-style NetprPathCanonicalize (opnum 31)
  on `\\srvsvc` whose request is split over two DCE/RPC fragments (two
  WRITE_ANDX), answered with a fault.
- `smb1_cve_2009_3103.pcap`: SMB1 NEGOTIATE with Process ID High 0x0026 and
  "SMB 2.002" offered (the SMB2 negotiate function-index exploit), once
  unanswered (client reset), once answered by an SMB2 NEGOTIATE response.
- `smb2_session_pipes.pcap`: SMB1 multi-protocol negotiate (SMB 2.???), SMB2
  negotiate, NTLMv2 logins CORP\\administrator (LOGON_FAILURE) and
  CORP\\alice (SUCCESS), IPC$ + srvsvc (bind with NDR and NDR64, NetrShareEnum
  by FSCTL_PIPE_TRANSCEIVE), a disk share with a related compound
  CREATE+QUERY_INFO+CLOSE and a 140 000-byte file read in 64 KiB READs.
- `smb1_ms06_025_ms07_029.pcap`: NetBIOS session service on 139 (session
  request, plain anonymous session setup, `\\router`, RASRPC bind and a
  request answered by a fault, all by TRANSACT_NMPIPE); then on 445 an
  NTLMv2 login LAB\\operator, `\\DNSSERVER`, the DNSSERVER bind and an
  R_DnssrvQuery (opnum 1) with a long zone name that gets no answer.
- `smb3_encrypted.pcap`: SMB 3.1.1 negotiate with contexts, NTLMv2 login
  HOME\\bob, then four SMB3 transform (encrypted) messages.
"""


def build_all(out):
    os.makedirs(out, exist_ok=True)
    ms08_067(out)
    cve_2009_3103(out)
    smb2_session(out)
    ms06_ms07(out)
    smb3_encrypted(out)
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(README)


def fuzz_seeds(captures, out, max_bytes=12000):
    """Fuzz corpus seeds for tests/fuzz/smb_parser_fuzz.cc: each TCP connection
    of the captures as that target's records (op byte: 1 client, 0 server;
    16-bit big-endian length; bytes), cut after max_bytes of payload."""
    from scapy.all import rdpcap
    os.makedirs(out, exist_ok=True)
    n = 0
    for cap in captures:
        conns = collections.OrderedDict()
        for p in rdpcap(cap):
            if TCP not in p or not bytes(p[TCP].payload):
                continue
            data = bytes(p[TCP].payload)
            to_server = p[TCP].dport in (445, 139)
            key = (p[TCP].sport, p[TCP].dport) if to_server else (p[TCP].dport, p[TCP].sport)
            conns.setdefault(key, []).append((to_server, data))
        for (cport, _), segs in conns.items():
            rec, total = bytearray(), 0
            for to_server, data in segs:
                if total >= max_bytes:
                    break
                data = data[:max_bytes - total]
                total += len(data)
                rec += bytes([1 if to_server else 0]) + struct.pack(">H", len(data)) + data
            name = "%s_%d" % (os.path.splitext(os.path.basename(cap))[0], cport)
            with open(os.path.join(out, name), "wb") as f:
                f.write(rec)
            n += 1
    # Single messages for the direct parser calls (the whole input is parsed
    # as one SMB1/SMB2 message, a security blob and DCE/RPC PDUs).
    auth = ntlm_authenticate("CORP", "alice", "WS01", b"\0" * 24, ntlmv2_response(99))
    raw = {
        "raw_smb1_negotiate_cve_2009_3103": smb1_negotiate_req(0, CVE_DIALECTS, pid_high=0x26),
        "raw_smb1_trans_peek_fid0": smb1_trans_pipe(5, 2048, 2049, 0, b"", sub=0x23),
        "raw_smb2_session_setup_auth": smb2(1, smb2_session_setup_req(spnego_resp(auth, mech=False)), 3),
        "raw_smb2_compound": compound([smb2(5, smb2_create_req("srvsvc"), 4, tree=1),
                                       smb2(6, smb2_close_req(b"\xff" * 16), 5, tree=1, flags=4)]),
        "raw_spnego_init_negotiate": spnego_init(ntlm_negotiate()),
        "raw_dce_bind_request": dce_bind(1, SRVSVC) + dce_request(2, 32, netpathcompare_stub(
            "h", "\\A\\..\\n", "\\n")),
    }
    for name, data in raw.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        n += 1
    return n


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    committed = os.path.normpath(os.path.join(here, "..", "data", "crafted", "smb"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=committed)
    ap.add_argument("--check", action="store_true", help="compare a fresh build with the committed files")
    ap.add_argument("--fuzz-seeds", metavar="DIR", help="also write smb_parser_fuzz seeds from these captures "
                    "and tests/data/pcaps/ms17-010_eternalblue_scan_id2t.pcap into DIR")
    args = ap.parse_args()
    if args.fuzz_seeds:
        caps = [os.path.join(args.out, f) for f in sorted(os.listdir(args.out)) if f.endswith(".pcap")]
        caps.append(os.path.normpath(os.path.join(here, "..", "data", "pcaps", "ms17-010_eternalblue_scan_id2t.pcap")))
        print(f"wrote {fuzz_seeds(caps, args.fuzz_seeds)} seeds to {args.fuzz_seeds}")
        return 0
    if not args.check:
        build_all(args.out)
        print(f"wrote {len(os.listdir(args.out))} files to {args.out}")
        return 0
    tmp = tempfile.mkdtemp(prefix="craft-smb-")
    try:
        build_all(tmp)
        bad = []
        for fn in sorted(os.listdir(tmp)):
            old = os.path.join(args.out, fn)
            if not os.path.exists(old) or open(old, "rb").read() != open(os.path.join(tmp, fn), "rb").read():
                bad.append(fn)
        if bad:
            print("craft_smb.py --check: differs from the generator: " + ", ".join(bad))
            return 1
        print(f"craft_smb.py --check: {len(os.listdir(tmp))} files identical")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Writes small FTP, POP3 and IMAP captures from byte transcripts, for the
mail oracle (oracle_mail.py compares trawl with tshark on them).

    mail_pcaps.py OUTDIR      writes OUTDIR/{ftp,pop3,imap}_sessions.pcap

There is no public POP3 or IMAP capture among the test captures, so these
are made here: complete TCP connections (handshake, data segments of at most
MSS bytes each acknowledged, FIN both ways) carrying sessions in the style of
vsftpd/ProFTPD and Dovecot. Output is deterministic (fixed addresses, ports,
sequence numbers and timestamps), so the files are never committed; each test
run makes them again.
"""

import base64
import os
import struct
import sys

T0 = 1700000000  # 2023-11-14, seconds
MSS = 1460


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def _ip4(a):
    return bytes(int(x) for x in a.split("."))


class Pcap:
    """A pcap file (Ethernet, microsecond timestamps) written packet by packet."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.t_us = T0 * 1000000

    def write(self, frame, dt_us=1000):
        self.t_us += dt_us
        self.f.write(struct.pack("<IIII", self.t_us // 1000000, self.t_us % 1000000, len(frame), len(frame)))
        self.f.write(frame)

    def close(self):
        self.f.close()


class TcpSession:
    """One TCP connection between client and server (IPv4 over Ethernet)."""

    def __init__(self, pcap, client, cport, server, sport, isn_c=100000, isn_s=900000):
        self.p = pcap
        self.addr = {True: (_ip4(client), cport), False: (_ip4(server), sport)}
        self.seq = {True: isn_c, False: isn_s}
        self.ipid = 1
        self._send(True, 0x02)                   # SYN
        self._send(False, 0x12)                  # SYN/ACK
        self._send(True, 0x10)                   # ACK

    def _send(self, from_client, flags, data=b""):
        src, sp = self.addr[from_client]
        dst, dp = self.addr[not from_client]
        seq = self.seq[from_client]
        ack = self.seq[not from_client] if flags & 0x10 else 0
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 64240, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(data))
        csum = _checksum(pseudo + tcp + data)
        tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
        total = 20 + len(tcp) + len(data)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, self.ipid, 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
        self.ipid += 1
        mac_c, mac_s = b"\x02\x00\x00\x00\x00\x14", b"\x02\x00\x00\x00\x00\x0a"
        macs = (mac_s + mac_c) if from_client else (mac_c + mac_s)
        self.p.write(macs + b"\x08\x00" + ip + tcp + data)
        self.seq[from_client] = (seq + len(data) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF

    def send(self, from_client, data):
        for off in range(0, len(data), MSS):
            self._send(from_client, 0x18, data[off:off + MSS])   # PSH/ACK
            self._send(not from_client, 0x10)                       # ACK

    def close(self):
        self._send(True, 0x11)   # FIN/ACK
        self._send(False, 0x11)  # FIN/ACK
        self._send(True, 0x10)   # ACK


def play(pcap, transcript, cport, sport, client="192.0.2.20", server="192.0.2.10"):
    """transcript: list of ('c' | 's', bytes)."""
    t = TcpSession(pcap, client, cport, server, sport)
    for who, data in transcript:
        t.send(who == "c", data)
    t.close()


def b64(s):
    return base64.b64encode(s).decode()


# --- FTP ------------------------------------------------------------------------

FTP_SESSIONS = [
    # vsftpd: a good login, multi-line 230, passive and extended passive
    # listings, SIZE and RETR with the size in the 150 reply, active PORT and
    # EPRT, an upload into another folder.
    [("s", b"220 (vsFTPd 3.0.3)\r\n"),
     ("c", b"USER alice\r\n"), ("s", b"331 Please specify the password.\r\n"),
     ("c", b"PASS wonderland\r\n"),
     ("s", b"230-Welcome, alice.\r\n230-Mind the rabbit hole.\r\n230 Login successful.\r\n"),
     ("c", b"SYST\r\n"), ("s", b"215 UNIX Type: L8\r\n"),
     ("c", b"FEAT\r\n"), ("s", b"211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n SIZE\r\n UTF8\r\n211 End\r\n"),
     ("c", b"PWD\r\n"), ("s", b"257 \"/home/alice\" is the current directory\r\n"),
     ("c", b"CWD pub\r\n"), ("s", b"250 Directory successfully changed.\r\n"),
     ("c", b"TYPE I\r\n"), ("s", b"200 Switching to Binary mode.\r\n"),
     ("c", b"SIZE report.pdf\r\n"), ("s", b"213 48213\r\n"),
     ("c", b"PASV\r\n"), ("s", b"227 Entering Passive Mode (192,0,2,10,156,64).\r\n"),
     ("c", b"RETR report.pdf\r\n"),
     ("s", b"150 Opening BINARY mode data connection for report.pdf (48213 bytes).\r\n"),
     ("s", b"226 Transfer complete.\r\n"),
     ("c", b"EPSV\r\n"), ("s", b"229 Entering Extended Passive Mode (|||40001|)\r\n"),
     ("c", b"LIST\r\n"), ("s", b"150 Here comes the directory listing.\r\n"), ("s", b"226 Directory send OK.\r\n"),
     ("c", b"PORT 192,0,2,20,200,10\r\n"), ("s", b"200 PORT command successful. Consider using PASV.\r\n"),
     ("c", b"NLST\r\n"), ("s", b"150 Here comes the directory listing.\r\n"), ("s", b"226 Directory send OK.\r\n"),
     ("c", b"EPRT |1|192.0.2.20|50001|\r\n"), ("s", b"200 EPRT command successful. Consider using EPSV.\r\n"),
     ("c", b"STOR ../upload/notes.txt\r\n"), ("s", b"150 Ok to send data.\r\n"), ("s", b"226 Transfer complete.\r\n"),
     ("c", b"QUIT\r\n"), ("s", b"221 Goodbye.\r\n")],
    # ProFTPD: anonymous login (the e-mail address as password), a refused
    # AUTH TLS, a missing file.
    [("s", b"220 ProFTPD Server (Debian) [192.0.2.10]\r\n"),
     ("c", b"AUTH TLS\r\n"), ("s", b"500 AUTH not understood\r\n"),
     ("c", b"USER anonymous\r\n"),
     ("s", b"331 Anonymous login ok, send your complete email address as your password\r\n"),
     ("c", b"PASS IEUser@\r\n"), ("s", b"230 Anonymous access granted, restrictions apply\r\n"),
     ("c", b"RETR /pub/missing.iso\r\n"), ("s", b"550 /pub/missing.iso: No such file or directory\r\n"),
     ("c", b"QUIT\r\n"), ("s", b"221 Goodbye.\r\n")],
    # Guessing: two bad passwords, then a refused user, then a good one.
    [("s", b"220 FTP server ready\r\n"),
     ("c", b"USER admin\r\n"), ("s", b"331 Password required for admin\r\n"),
     ("c", b"PASS admin\r\n"), ("s", b"530 Login incorrect.\r\n"),
     ("c", b"USER admin\r\n"), ("s", b"331 Password required for admin\r\n"),
     ("c", b"PASS 123456\r\n"), ("s", b"530 Login incorrect.\r\n"),
     ("c", b"USER root\r\n"), ("s", b"530 Login incorrect.\r\n"),
     ("c", b"USER backup\r\n"), ("s", b"331 Password required for backup\r\n"),
     ("c", b"PASS backup2023\r\n"), ("s", b"230 User backup logged in\r\n"),
     ("c", b"QUIT\r\n"), ("s", b"221 Goodbye.\r\n")],
]

# --- POP3 -------------------------------------------------------------------------

MESSAGE = (b"Return-Path: <bob@example.com>\r\nFrom: bob@example.com\r\nTo: alice@example.com\r\n"
           b"Subject: report\r\n\r\nHello Alice,\r\n.a line that starts with a dot\r\n"
           + b"Some text of the message body.\r\n" * 80 + b"Bye.\r\n")


def dot_stuff(m):
    return b"".join((b"." + ln if ln.startswith(b".") else ln) for ln in m.splitlines(True))


POP3_GREETING = b"+OK Dovecot (Debian) ready.\r\n"
POP3_CAPA = (b"+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\n"
             b"SASL PLAIN LOGIN\r\n.\r\n")

POP3_SESSIONS = [
    [("s", POP3_GREETING),
     ("c", b"CAPA\r\n"), ("s", POP3_CAPA),
     ("c", b"USER alice\r\n"), ("s", b"+OK\r\n"),
     ("c", b"PASS wrong\r\n"), ("s", b"-ERR [AUTH] Authentication failed.\r\n"),
     ("c", b"USER alice\r\n"), ("s", b"+OK\r\n"),
     ("c", b"PASS wonderland\r\n"), ("s", b"+OK Logged in.\r\n"),
     ("c", b"STAT\r\n"), ("s", b"+OK 2 %d\r\n" % (len(MESSAGE) + 300)),
     ("c", b"LIST\r\n"), ("s", b"+OK 2 messages:\r\n1 %d\r\n2 300\r\n.\r\n" % len(MESSAGE)),
     ("c", b"UIDL\r\n"), ("s", b"+OK\r\n1 000000014f4a2b8f\r\n2 000000024f4a2b8f\r\n.\r\n"),
     ("c", b"RETR 1\r\n"), ("s", b"+OK %d octets\r\n" % len(MESSAGE) + dot_stuff(MESSAGE) + b".\r\n"),
     ("c", b"DELE 1\r\n"), ("s", b"+OK Marked to be deleted.\r\n"),
     ("c", b"QUIT\r\n"), ("s", b"+OK Logging out, messages deleted.\r\n")],
    [("s", POP3_GREETING),
     ("c", b"AUTH PLAIN " + b64(b"\0mallory\0guess1").encode() + b"\r\n"),
     ("s", b"-ERR [AUTH] Authentication failed.\r\n"),
     ("c", b"AUTH LOGIN\r\n"), ("s", b"+ VXNlcm5hbWU6\r\n"),
     ("c", b64(b"bob").encode() + b"\r\n"), ("s", b"+ UGFzc3dvcmQ6\r\n"),
     ("c", b64(b"builder").encode() + b"\r\n"), ("s", b"+OK Logged in.\r\n"),
     ("c", b"TOP 1 0\r\n"), ("s", b"+OK\r\nSubject: hi\r\n\r\n.\r\n"),
     ("c", b"QUIT\r\n"), ("s", b"+OK Logging out.\r\n")],
]

# --- IMAP -------------------------------------------------------------------------

IMAP_GREETING = (b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
                 b"AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.\r\n")
IMAP_BODY = MESSAGE

IMAP_SESSIONS = [
    [("s", IMAP_GREETING),
     ("c", b"a001 CAPABILITY\r\n"),
     ("s", b"* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN\r\n"
           b"a001 OK Pre-login capabilities listed, post-login capabilities have more.\r\n"),
     ("c", b"a002 LOGIN alice wrong\r\n"), ("s", b"a002 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
     ("c", b"a003 LOGIN \"alice\" \"wonderland\"\r\n"), ("s", b"a003 OK [CAPABILITY IMAP4rev1] Logged in\r\n"),
     ("c", b"a004 SELECT INBOX\r\n"),
     ("s", b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 2 EXISTS\r\n* 0 RECENT\r\n"
           b"* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
           b"a004 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n"),
     ("c", b"a005 UID FETCH 1 (BODY.PEEK[])\r\n"),
     ("s", b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % len(IMAP_BODY) + IMAP_BODY + b")\r\n"
           b"a005 OK Fetch completed (0.001 + 0.000 secs).\r\n"),
     ("c", b"a006 LOGOUT\r\n"), ("s", b"* BYE Logging out\r\na006 OK Logout completed (0.001 + 0.000 secs).\r\n")],
    [("s", IMAP_GREETING),
     ("c", b"A001 AUTHENTICATE PLAIN " + b64(b"\0mallory\0guess1").encode() + b"\r\n"),
     ("s", b"A001 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
     ("c", b"A002 AUTHENTICATE LOGIN\r\n"), ("s", b"+ VXNlcm5hbWU6\r\n"),
     ("c", b64(b"bob").encode() + b"\r\n"), ("s", b"+ UGFzc3dvcmQ6\r\n"),
     ("c", b64(b"builder").encode() + b"\r\n"), ("s", b"A002 OK [CAPABILITY IMAP4rev1] Logged in\r\n"),
     ("c", b"A003 LIST \"\" *\r\n"),
     ("s", b"* LIST (\\HasNoChildren) \"/\" Sent\r\n* LIST (\\HasNoChildren) \"/\" INBOX\r\nA003 OK List completed.\r\n"),
     ("c", b"A004 LOGOUT\r\n"), ("s", b"* BYE Logging out\r\nA004 OK Logout completed.\r\n")],
]

CAPTURES = {
    "ftp_sessions.pcap": (FTP_SESSIONS, 21),
    "pop3_sessions.pcap": (POP3_SESSIONS, 110),
    "imap_sessions.pcap": (IMAP_SESSIONS, 143),
}


def write_all(outdir):
    paths = []
    for name, (sessions, port) in CAPTURES.items():
        path = os.path.join(outdir, name)
        pcap = Pcap(path)
        for i, transcript in enumerate(sessions):
            play(pcap, transcript, 40000 + i, port)
        pcap.close()
        paths.append(path)
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: mail_pcaps.py OUTDIR")
    os.makedirs(sys.argv[1], exist_ok=True)
    for p in write_all(sys.argv[1]):
        print(p)

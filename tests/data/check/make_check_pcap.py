#!/usr/bin/python3
"""Writes check_c2.pcap, the capture tests/integration/check.py runs trawl
check on: an infected-looking host 10.0.0.5 (and fd00::5) with

  - DNS A beacon.trawl-c2-test.net -> 89.160.20.115, then three HTTP
    check-ins GET /gate.php to it (the C2; SE / AS29518 in the MaxMind test
    databases)
  - DNS A news.trawl-benign-test.net -> 81.2.69.142 and a TLS ClientHello with
    that SNI (London, GB in the test City database)
  - DNS NXDOMAIN for xkqjzpwlv.trawl-dga-test.net (a blocked C2 lookup: never
    connected to)
  - TCP 443 to 198.51.100.23 (no name), NTP to 192.0.2.123
  - an inbound SYN from 203.0.113.66 to port 22, answered by RST
  - IPv6: fd00::5 -> 2001:db8:bad::1 port 443
  - internal-only SMB to 10.0.0.9 and SSDP multicast (not destinations)

Addresses are documentation ranges except the two the GeoIP test databases
hold. Deterministic: fixed times, sequence numbers and ports.
usage: make_check_pcap.py [OUT.pcap]   (default: check_c2.pcap beside this file)
"""
import os
import sys

from scapy.all import DNS, DNSQR, DNSRR, IP, IPv6, TCP, UDP, Ether, Raw, load_layer, wrpcap

load_layer('tls')
from scapy.layers.tls.all import TLS, TLSClientHello, TLS_Ext_ServerName, ServerName  # noqa: E402

MAC_C = '02:00:00:00:00:05'
MAC_R = '02:00:00:00:00:01'
T0 = 1700000000.0
pkts = []


def add(p, t):
    p = Ether(src=MAC_C, dst=MAC_R) / p if p.haslayer(IP) and p[IP].src.startswith('10.') or \
        (p.haslayer(IPv6) and p[IPv6].src.startswith('fd00')) else Ether(src=MAC_R, dst=MAC_C) / p
    p.time = t
    pkts.append(p)


def ipl(src, dst):
    return IPv6(src=src, dst=dst) if ':' in src else IP(src=src, dst=dst, id=1, ttl=64)


def dns(t, qid, name, answers=None, rcode=0, sport=33000):
    q = DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype='A'))
    add(IP(src='10.0.0.5', dst='10.0.0.1', id=1) / UDP(sport=sport, dport=53) / q, t)
    an = None
    for a in answers or []:
        rr = DNSRR(rrname=name, type='A', ttl=300, rdata=a)
        an = rr if an is None else an / rr
    r = DNS(id=qid, qr=1, rd=1, ra=1, rcode=rcode, qd=DNSQR(qname=name, qtype='A'), an=an)
    add(IP(src='10.0.0.1', dst='10.0.0.5', id=1) / UDP(sport=53, dport=sport) / r, t + 0.01)


def tcp_session(t, c, cp, s, sp, req=b'', resp=b''):
    cs, ss = 1000, 50000
    add(ipl(c, s) / TCP(sport=cp, dport=sp, flags='S', seq=cs), t)
    add(ipl(s, c) / TCP(sport=sp, dport=cp, flags='SA', seq=ss, ack=cs + 1), t + 0.01)
    add(ipl(c, s) / TCP(sport=cp, dport=sp, flags='A', seq=cs + 1, ack=ss + 1), t + 0.02)
    cs += 1
    ss += 1
    if req:
        add(ipl(c, s) / TCP(sport=cp, dport=sp, flags='PA', seq=cs, ack=ss) / Raw(req), t + 0.03)
        cs += len(req)
        add(ipl(s, c) / TCP(sport=sp, dport=cp, flags='A', seq=ss, ack=cs), t + 0.04)
    if resp:
        add(ipl(s, c) / TCP(sport=sp, dport=cp, flags='PA', seq=ss, ack=cs) / Raw(resp), t + 0.05)
        ss += len(resp)
        add(ipl(c, s) / TCP(sport=cp, dport=sp, flags='A', seq=cs, ack=ss), t + 0.06)
    add(ipl(c, s) / TCP(sport=cp, dport=sp, flags='FA', seq=cs, ack=ss), t + 0.07)
    add(ipl(s, c) / TCP(sport=sp, dport=cp, flags='FA', seq=ss, ack=cs + 1), t + 0.08)
    add(ipl(c, s) / TCP(sport=cp, dport=sp, flags='A', seq=cs + 1, ack=ss + 1), t + 0.09)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             'check_c2.pcap')
    dns(T0, 0x1001, 'beacon.trawl-c2-test.net', ['89.160.20.115'])
    for i in range(3):
        req = (b'GET /gate.php?id=%d HTTP/1.1\r\nHost: beacon.trawl-c2-test.net\r\n'
               b'User-Agent: Mozilla/4.0\r\n\r\n' % i)
        resp = b'HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Type: text/plain\r\n\r\nidle'
        tcp_session(T0 + 1 + 60 * i, '10.0.0.5', 49200 + i, '89.160.20.115', 80, req, resp)
    dns(T0 + 2, 0x1002, 'news.trawl-benign-test.net', ['81.2.69.142'], sport=33001)
    hello = bytes(TLS(msg=[TLSClientHello(gmt_unix_time=0, random_bytes=b'\x00' * 28, ciphers=[0x1301, 0xc02f],
                                          ext=[TLS_Ext_ServerName(servernames=[
                                              ServerName(servername=b'news.trawl-benign-test.net')])])]))
    tcp_session(T0 + 3, '10.0.0.5', 49300, '81.2.69.142', 443, hello, b'')
    dns(T0 + 4, 0x1003, 'xkqjzpwlv.trawl-dga-test.net', rcode=3, sport=33002)
    tcp_session(T0 + 5, '10.0.0.5', 49400, '198.51.100.23', 443, b'\x16\x03\x01\x00\x01\x00', b'')
    add(IP(src='10.0.0.5', dst='192.0.2.123', id=1) / UDP(sport=123, dport=123) / Raw(b'\x23' + b'\x00' * 47), T0 + 6)
    add(IP(src='192.0.2.123', dst='10.0.0.5', id=1) / UDP(sport=123, dport=123) / Raw(b'\x24' + b'\x00' * 47),
        T0 + 6.02)
    add(IP(src='203.0.113.66', dst='10.0.0.5', id=1) / TCP(sport=61000, dport=22, flags='S', seq=7), T0 + 7)
    add(IP(src='10.0.0.5', dst='203.0.113.66', id=1) / TCP(sport=22, dport=61000, flags='RA', seq=0, ack=8), T0 + 7.01)
    tcp_session(T0 + 8, 'fd00::5', 49500, '2001:db8:bad::1', 443, b'\x16\x03\x01\x00\x01\x00', b'')
    tcp_session(T0 + 9, '10.0.0.5', 49600, '10.0.0.9', 445, b'\x00\x00\x00\x04abcd', b'')
    ssdp = Raw(b'M-SEARCH * HTTP/1.1\r\n\r\n')
    add(IP(src='10.0.0.5', dst='239.255.255.250', id=1) / UDP(sport=50000, dport=1900) / ssdp, T0 + 10)
    pkts.sort(key=lambda p: p.time)
    wrpcap(out, pkts)
    print('wrote %s (%d packets)' % (out, len(pkts)))


main()

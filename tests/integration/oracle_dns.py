#!/usr/bin/python3
"""tshark as the oracle for dns.jsonl.

    oracle_dns.py TRAWL [--craft] [CAPTURE...]

For each capture, tshark (PDML) lists every DNS, mDNS and LLMNR message;
trawl lists transactions (dns.jsonl). Every message of a standard query
(opcode 0) becomes exactly one half of one transaction, and as in Zeek's
dns.log qtype is set only when the query was seen and rcode only when the
response was, so per capture:

  queries    the multiset of (name, qtype) of tshark's query messages equals
             that of trawl's records that carry a qtype;
  responses  the multiset of (name, qtype, rcode, A/AAAA answers) of tshark's
             response messages equals that of trawl's records that carry an
             rcode, where qtype is the question's when tshark paired the
             response with its request (dns.response_to) and None otherwise,
             and name is the question's, or the first answer's owner when the
             response has no question (Zeek's rule). So trawl's pairing of
             responses with queries must be tshark's;
  fields     each response's answers (A, AAAA, CNAME, PTR, NS, MX, SRV, SOA,
             TXT in Zeek's rendering; a target that is the root is omitted,
             as Zeek does), TTLs, AA, RA, TC and rtt (tshark's dns.time) equal
             those of the record with its server, client and transaction id.

Names: trawl writes Zeek's form (lower-cased, bytes outside printable ASCII
as \\xNN); tshark's display form is lossy (\\ooo, UTF-8, U+FFFD), so the
oracle renders the name's wire bytes (PDML `value`) in Zeek's form, and
checks that tshark's display form agrees where it is plain ASCII.

Messages with another opcode (NOTIFY, UPDATE, ...) are not transactions in
Zeek's dns.log nor in trawl's; they are counted and reported, and trawl must
have written nothing for them (the totals above would differ otherwise).

--craft also writes a capture with DNS over TCP (several messages per
segment, messages split across segments, a 4 KB response), odd bytes in
names, an unanswered query and a lone response, and checks it the same way.
Exit status 0 when every capture agrees.
"""

import collections
import ipaddress
import json
import os
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET


def zeek_name(raw):
    """A name's labels (bytes) as Zeek and trawl write it."""
    out = []
    for label in raw:
        s = []
        for b in label:
            if b < 0x20 or b >= 0x7F:
                s.append('\\x%02x' % b)
            elif 0x41 <= b <= 0x5A:
                s.append(chr(b + 32))
            else:
                s.append(chr(b))
        out.append(''.join(s))
    return '.'.join(out)


def wire_labels(hexvalue):
    """Labels of an uncompressed wire name, or None if it uses a pointer."""
    b = bytes.fromhex(hexvalue)
    labels, i = [], 0
    while i < len(b):
        n = b[i]
        if n == 0:
            return labels
        if n & 0xC0:
            return None
        labels.append(b[i + 1:i + 1 + n])
        i += 1 + n
    return labels


def question_name(field):
    """dns.qry.name (or dns.resp.name) field -> Zeek-form name."""
    show = field.get('show', '')
    labels = wire_labels(field.get('value', ''))
    if labels is None:
        # Compressed question name: only tshark's display form is left; it is
        # exact when it is plain printable ASCII.
        if show == '<Root>':
            return ''
        if all(0x20 < ord(c) < 0x7F and c != '\\' for c in show):
            return show.lower()
        raise ValueError('cannot render compressed name %r' % show)
    name = zeek_name(labels)
    plain = all(0x20 <= b < 0x7F and b != 0x5C and b != 0x2E for l in labels for b in l)
    if plain and field.get('name') != 'dns.srv.service' and show != '<Root>' and show.lower() != name:
        raise ValueError('tshark shows %r for wire name %r' % (show, name))
    return name


# Answer-section rdata as Zeek's dns.log writes it, from tshark's fields.
RDATA_FIELDS = {1: 'dns.a', 28: 'dns.aaaa', 5: 'dns.cname', 12: 'dns.ptr.domain_name', 2: 'dns.ns',
                15: 'dns.mx.mail_exchange', 33: 'dns.srv.target', 6: 'dns.soa.mname'}
NAME_TYPES = (5, 12, 2, 15, 33, 6)
PACKET_FIELDS = ('ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'udp.srcport', 'udp.dstport', 'tcp.srcport',
                 'tcp.dstport')


def zeek_answer(rr):
    """One answer RR (PDML field) -> Zeek's string; None: not comparable
    (a type tshark and Zeek render differently, or a name tshark shows lossily);
    '' : Zeek writes nothing (a name that is the root)."""
    fields = rr.findall('field')
    by_name = {f.get('name'): f.get('show') for f in fields}
    rtype = int(by_name['dns.resp.type'])
    if rtype == 16:
        strings = [f.get('show') for f in fields if f.get('name') == 'dns.txt']
        if not all(all(0x20 <= ord(c) < 0x7F and c != '\\' for c in t) for t in strings):
            return None
        return ' '.join('TXT %d %s' % (len(t), t) for t in strings)
    if rtype not in RDATA_FIELDS:
        return None
    v = by_name.get(RDATA_FIELDS[rtype])
    if v is None:
        return None
    if rtype in NAME_TYPES:
        if v == '<Root>':
            return ''
        if not all(0x20 < ord(c) < 0x7F and c != '\\' for c in v):
            return None
        return v.lower()
    return str(ipaddress.ip_address(v))


def tshark_messages(capture):
    """One dict per DNS message tshark decodes."""
    p = subprocess.run(['tshark', '-r', capture, '-Y', 'dns or mdns or llmnr', '-T', 'pdml'],
                       capture_output=True, check=True)
    msgs = []
    root = ET.fromstring(p.stdout)
    for packet in root.iter('packet'):
        pf = {}
        for f in packet.iter('field'):
            if f.get('name') in PACKET_FIELDS and f.get('name') not in pf:
                pf[f.get('name')] = f.get('show')
        src = pf.get('ip.src') or pf.get('ipv6.src')
        dst = pf.get('ip.dst') or pf.get('ipv6.dst')
        sport = pf.get('udp.srcport') or pf.get('tcp.srcport')
        dport = pf.get('udp.dstport') or pf.get('tcp.dstport')
        for proto in packet.iter('proto'):
            if proto.get('name') not in ('dns', 'mdns', 'llmnr'):
                continue
            m = {'proto': proto.get('name'), 'qr': None, 'opcode': None, 'rcode': 0, 'questions': [],
                 'addrs': [], 'paired': False, 'flags': {}, 'answers': [], 'ttls': [], 'time': None,
                 'from': (str(ipaddress.ip_address(src)), int(sport)) if src and sport else None,
                 'to': (str(ipaddress.ip_address(dst)), int(dport)) if dst and dport else None}
            for f in proto.iter('field'):
                n = f.get('name')
                if n == 'dns.flags.response':
                    m['qr'] = f.get('show') == '1'
                elif n == 'dns.flags.opcode':
                    m['opcode'] = int(f.get('show'))
                elif n == 'dns.flags.rcode':
                    m['rcode'] = int(f.get('show'))
                elif n == 'dns.response_to':
                    m['paired'] = True
                elif n == 'dns.id':
                    m['id'] = int(f.get('show'), 16)
                elif n == 'dns.time':
                    m['time'] = float(f.get('show'))
                elif n in ('dns.flags.authoritative', 'dns.flags.recavail', 'dns.flags.truncated'):
                    m['flags'][n] = f.get('show') == '1'
            for section in proto.findall('field'):
                title = section.get('show')
                if title == 'Queries':
                    for q in section.findall('field'):
                        name = qtype = None
                        for f in q.findall('field'):
                            if f.get('name') == 'dns.qry.name':
                                name = question_name(f)
                            elif f.get('name') == 'dns.qry.type':
                                qtype = int(f.get('show'))
                        m['questions'].append((name, qtype))
                elif title == 'Answers':
                    for rr in section.findall('field'):
                        m['answers'].append(zeek_answer(rr))
                        for f in rr.findall('field'):
                            if f.get('name') == 'dns.resp.ttl':
                                m['ttls'].append(float(f.get('show')))
                            if f.get('name') in ('dns.a', 'dns.aaaa'):
                                m['addrs'].append(str(ipaddress.ip_address(f.get('show'))))
                            elif f.get('name') in ('dns.resp.name', 'dns.srv.service') and 'first_answer' not in m:
                                # (SRV owners are shown in parts; `value` is the whole name)
                                m['first_answer'] = f
            msgs.append(m)
    return msgs


def trawl_records(trawl, capture, out):
    p = subprocess.run([trawl, 'analyze', capture, '-o', out, '-q'], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError('trawl failed (%d): %s' % (p.returncode, p.stderr))
    path = os.path.join(out, 'dns.jsonl')
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


def is_addr(s):
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False


def compare(trawl, capture, work):
    msgs = tshark_messages(capture)
    std = [m for m in msgs if m['opcode'] == 0]
    other = len(msgs) - len(std)
    want_q, want_r = collections.Counter(), collections.Counter()
    for m in std:
        first = m['questions'][0] if m['questions'] else (None, None)
        if m['qr']:
            # Zeek's rules: qtype only when the query was seen (tshark: the
            # response points back to its request); without a question, the
            # name of the first answer.
            if m['questions']:
                name = first[0]
            else:
                name = question_name(m['first_answer']) if 'first_answer' in m else None
            qtype = first[1] if m['paired'] else None
            want_r[(name, qtype, m['rcode'], tuple(sorted(m['addrs'])))] += 1
        else:
            want_q[first] += 1
    recs = trawl_records(trawl, capture, os.path.join(work, os.path.basename(capture) + '.out'))
    got_q, got_r = collections.Counter(), collections.Counter()
    for r in recs:
        if 'qtype' in r:
            got_q[(r['query'], r['qtype'])] += 1
        if 'rcode' in r:
            addrs = tuple(sorted(str(ipaddress.ip_address(a)) for a in r.get('answers', []) if is_addr(a)))
            got_r[(r.get('query'), r.get('qtype'), r['rcode'], addrs)] += 1
    fields_checked, problems = check_fields(std, recs)
    for what, want, got in (('queries', want_q, got_q), ('responses', want_r, got_r)):
        if want != got:
            missing = want - got
            extra = got - want
            problems.append('%s: tshark %d, trawl %d; only tshark: %s; only trawl: %s' % (
                what, sum(want.values()), sum(got.values()),
                sorted(missing.items(), key=str)[:5], sorted(extra.items(), key=str)[:5]))
    names = {k[0] for k in want_q} | {k[0] for k in want_r}
    protos = collections.Counter(m['proto'] for m in msgs)
    paired = sum(n for k, n in want_r.items() if k[1] is not None)
    summary = ('%s: %d messages (%s; %d queries, %d responses of which %d paired, %d other opcodes), '
               '%d distinct names, %d A/AAAA answers; %d trawl records, fields of %d responses checked' % (
                   os.path.basename(capture), len(msgs), ' '.join('%s %d' % kv for kv in sorted(protos.items())),
                   sum(want_q.values()), sum(want_r.values()), paired, other, len(names),
                   sum(len(k[3]) * n for k, n in want_r.items()), len(recs), fields_checked))
    return summary, problems, sum(want_q.values()), sum(want_r.values())


def check_fields(msgs, recs):
    """Each tshark response against the trawl record of the same server,
    client and transaction id (in order): answers, TTLs, AA, RA, TC, rtt."""
    by_key = collections.defaultdict(list)
    for r in recs:
        if 'rcode' not in r:
            continue
        a, b = (r['id.orig_h'], r['id.orig_p']), (r['id.resp_h'], r['id.resp_p'])
        by_key[(b, a, r['trans_id'])].append(r)
        if a != b:
            by_key[(a, b, r['trans_id'])].append(r)  # mDNS/LLMNR: the responder may be the flow's originator
    problems = []
    checked = 0
    for m in msgs:
        if not m['qr'] or m['from'] is None:
            continue
        cands = by_key.get((m['from'], m['to'], m['id']))
        if not cands:
            problems.append('fields: no trawl record for the response %s -> %s id %d' % (m['from'], m['to'], m['id']))
            continue
        r = cands.pop(0)
        for lst in by_key.values():  # a record answers one response only
            if r in lst:
                lst.remove(r)
        checked += 1
        want = [(a, t) for a, t in zip(m['answers'], m['ttls']) if a != '']  # Zeek omits empty renderings
        got = list(zip(r.get('answers', []), r.get('TTLs', [])))
        diffs = []
        if len(want) != len(got) or any(w[0] is not None and w[0] != g[0] for w, g in zip(want, got)):
            diffs.append('answers %s, tshark %s' % ([g[0] for g in got], [w[0] for w in want]))
        if [w[1] for w in want] != [g[1] for g in got]:
            diffs.append('TTLs %s, tshark %s' % ([g[1] for g in got], [w[1] for w in want]))
        for field, key in (('AA', 'dns.flags.authoritative'), ('RA', 'dns.flags.recavail'), ('TC', 'dns.flags.truncated')):
            if r[field] != m['flags'].get(key, False):
                diffs.append('%s %s' % (field, r[field]))
        if ('rtt' in r) != (m['time'] is not None) or ('rtt' in r and abs(r['rtt'] - m['time']) > 2e-6):
            diffs.append('rtt %s, tshark %s' % (r.get('rtt'), m['time']))
        if diffs:
            problems.append('fields: %s -> %s id %d: %s' % (m['from'], m['to'], m['id'], '; '.join(diffs)))
    return checked, problems[:10] + (['... %d more' % (len(problems) - 10)] if len(problems) > 10 else [])


# --- crafted capture ------------------------------------------------------------

def dns_name(labels):
    return b''.join(bytes([len(l)]) + l for l in labels) + b'\x00'


def dns_msg(tid, flags, questions, answers=()):
    """questions: [(labels, qtype)]; answers: [(labels, type, rdata)] (class IN, TTL 60)."""
    b = struct.pack('!HHHHHH', tid, flags, len(questions), len(answers), 0, 0)
    for labels, qtype in questions:
        b += dns_name(labels) + struct.pack('!HH', qtype, 1)
    for labels, rtype, rdata in answers:
        b += dns_name(labels) + struct.pack('!HHIH', rtype, 1, 60, len(rdata)) + rdata
    return b


def framed(m):
    return struct.pack('!H', len(m)) + m


def craft(path):
    from scapy.all import Ether, IP, IPv6, TCP, UDP, Raw, wrpcap  # noqa: E402 (scapy is slow to import)
    pkts = []
    t = [1700000000.0]

    def add(p):
        t[0] += 0.001
        p.time = t[0]
        pkts.append(p)

    def tcp_conn(cli, srv, sport, client_chunks, server_chunks):
        """Handshake, then the client's segments, the server's segments, FIN both ways."""
        e = Ether()
        ip_c, ip_s = IP(src=cli, dst=srv), IP(src=srv, dst=cli)
        cs, ss = 1000, 5000
        add(e / ip_c / TCP(sport=sport, dport=53, flags='S', seq=cs))
        add(e / ip_s / TCP(sport=53, dport=sport, flags='SA', seq=ss, ack=cs + 1))
        cs += 1
        ss += 1
        add(e / ip_c / TCP(sport=sport, dport=53, flags='A', seq=cs, ack=ss))
        for c in client_chunks:
            add(e / ip_c / TCP(sport=sport, dport=53, flags='PA', seq=cs, ack=ss) / Raw(c))
            cs += len(c)
        for c in server_chunks:
            add(e / ip_s / TCP(sport=53, dport=sport, flags='PA', seq=ss, ack=cs) / Raw(c))
            ss += len(c)
        add(e / ip_c / TCP(sport=sport, dport=53, flags='FA', seq=cs, ack=ss))
        add(e / ip_s / TCP(sport=53, dport=sport, flags='FA', seq=ss, ack=cs + 1))
        add(e / ip_c / TCP(sport=sport, dport=53, flags='A', seq=cs + 1, ack=ss + 1))

    a = [b'www', b'Example', b'org']
    m_q1 = dns_msg(0x0101, 0x0100, [(a, 1)])
    m_q2 = dns_msg(0x0102, 0x0100, [([b'mail', b'example', b'org'], 15)])
    m_r1 = dns_msg(0x0101, 0x8180, [(a, 1)], [(a, 1, bytes([192, 0, 2, 10])), (a, 1, bytes([192, 0, 2, 11]))])
    m_r2 = dns_msg(0x0102, 0x8183, [([b'mail', b'example', b'org'], 15)])
    # Two queries in one segment; the first response split in three, the
    # second starting in the same segment as the first's tail.
    r = framed(m_r1) + framed(m_r2)
    tcp_conn('10.1.0.1', '10.1.0.53', 41000, [framed(m_q1) + framed(m_q2)], [r[:1], r[1:9], r[9:]])
    # A 4 KB TXT response in 600-byte segments; then an AAAA over the same connection.
    big_q = dns_msg(0x0201, 0x0100, [([b'big', b'example', b'org'], 16)])
    txt = b''.join(bytes([200]) + bytes([0x61 + i % 26]) * 200 for i in range(20))
    big_r = dns_msg(0x0201, 0x8180, [([b'big', b'example', b'org'], 16)], [([b'big', b'example', b'org'], 16, txt)])
    v6_q = dns_msg(0x0202, 0x0100, [([b'v6', b'example', b'org'], 28)])
    v6_r = dns_msg(0x0202, 0x8180, [([b'v6', b'example', b'org'], 28)],
                   [([b'v6', b'example', b'org'], 28, ipaddress.ip_address('2001:db8::6').packed)])
    s = framed(big_r) + framed(v6_r)
    tcp_conn('10.1.0.2', '10.1.0.53', 41001, [framed(big_q), framed(v6_q)], [s[i:i + 600] for i in range(0, len(s), 600)])

    def udp(src, dst, sport, dport, payload, v6=False):
        ip = IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst)
        add(Ether() / ip / UDP(sport=sport, dport=dport) / Raw(payload))

    # Odd bytes in a name (control byte, space, dot inside a label, UTF-8, 0xff).
    odd = [b'Ab\x01c d', b'x.y', b'\xc3\xa9t\xff', b'EXAMPLE']
    udp('10.2.0.1', '10.2.0.53', 42000, 53, dns_msg(0x0301, 0x0100, [(odd, 16)]))
    udp('10.2.0.53', '10.2.0.1', 53, 42000, dns_msg(0x0301, 0x8180, [(odd, 16)], [(odd, 16, b'\x02hi')]))
    # NXDOMAIN over IPv6, an unanswered query, and a response whose query was not captured.
    udp('2001:db8::1', '2001:db8::53', 42001, 53, dns_msg(0x0302, 0x0100, [([b'nx', b'example'], 1)]), True)
    udp('2001:db8::53', '2001:db8::1', 53, 42001, dns_msg(0x0302, 0x8183, [([b'nx', b'example'], 1)]), True)
    udp('10.2.0.2', '10.2.0.53', 42002, 53, dns_msg(0x0303, 0x0100, [([b'unanswered', b'example'], 1)]))
    udp('10.2.0.53', '10.2.0.3', 53, 42003, dns_msg(0x0304, 0x8180, [([b'lone', b'example'], 1)],
                                                      [([b'lone', b'example'], 1, bytes([198, 51, 100, 4]))]))
    # NOTIFY (opcode 4): a DNS message, but not a transaction of dns.log.
    udp('10.2.0.4', '10.2.0.53', 42004, 53, dns_msg(0x0305, 0x2400, [([b'zone', b'example'], 6)]))
    wrpcap(path, pkts)


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    trawl, rest = args[0], args[1:]
    captures = [a for a in rest if a != '--craft']
    failed = False
    total_q = total_r = 0
    with tempfile.TemporaryDirectory(prefix='trawl-oracle-dns-') as work:
        if '--craft' in rest:
            path = os.path.join(work, 'dns_crafted.pcap')
            craft(path)
            captures.append(path)
        if not captures:
            sys.exit('no captures')
        for cap in captures:
            summary, problems, nq, nr = compare(trawl, cap, work)
            total_q += nq
            total_r += nr
            print(('FAIL ' if problems else 'ok   ') + summary)
            for p in problems:
                print('     ' + p)
            failed = failed or bool(problems)
    print('%d captures, %d queries and %d responses: %s' % (
        len(captures), total_q, total_r, 'MISMATCH' if failed else 'tshark and trawl agree'))
    sys.exit(1 if failed else 0)


main()

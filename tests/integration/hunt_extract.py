#!/usr/bin/python3
"""`trawl hunt` and `trawl extract` on real captures.

    hunt_extract.py TRAWL

1. hunt gives the same findings as the run that made the case: `trawl
   analyze` on captures with scans, brute force, SMB probes, DNS tunnelling
   sweeps and an IP protocol scan (a beacon in a second case), then `trawl hunt --from` the case
   folder; findings.jsonl must be byte for byte the same. Done for a case
   without case.db (the .jsonl source) and, when trawl writes one, for the
   case.db (the folder and the file).
2. Thresholds apply: with --set bruteforce.min_failures=31 the FTP brute
   force of 30 failures disappears (30 keeps it); with scan.min_ports=1001
   the 1000-port SYN scan disappears.
3. extract writes exactly the packets behind a connection, a host and a
   finding; tshark is the oracle: the frames of OUT.pcap (their times, in
   order) equal the frames tshark selects from the case's captures with the
   equivalent display filter and time span.
4. A capture that moved gives a clear message; --captures DIR finds it.

Exit 77 (skipped) without tshark.
"""
import decimal
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
DATA = os.path.join(ROOT, 'tests', 'data', 'pcaps')
SHARED = os.path.join(ROOT, '..', 'shared', 'pcaps')
D = decimal.Decimal
US = D('0.000001')  # conn.jsonl times are rounded to the microsecond

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print('FAIL: ' + what)


def run(cmd, ok=(0,)):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if p.returncode not in ok:
        raise SystemExit('command failed (%d): %s\n%s%s' % (p.returncode, ' '.join(cmd), p.stdout, p.stderr))
    return p


def read_lines(path):
    with open(path, encoding='utf-8') as f:
        return [l for l in f.read().split('\n') if l]


def tshark_times(capture, display_filter):
    p = run(['tshark', '-n', '-r', capture, '-Y', display_filter, '-T', 'fields', '-e', 'frame.time_epoch'])
    return [D(x) for x in p.stdout.split()]


def pcap_times(path):
    """Packet times of a pcap trawl wrote (classic pcap, nanosecond or microsecond magic)."""
    with open(path, 'rb') as f:
        data = f.read()
    magic = struct.unpack('<I', data[:4])[0]
    scale = {0xa1b23c4d: D('0.000000001'), 0xa1b2c3d4: US}[magic]
    out, pos = [], 24
    while pos + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack('<IIII', data[pos:pos + 16])
        out.append(D(sec) + D(frac) * scale)
        pos += 16 + caplen
    return out


def addr_field(ip):
    return 'ipv6.addr' if ':' in ip else 'ip.addr'


def conn_filter(c):
    a, b = c['id.orig_h'], c['id.resp_h']
    f = '%s==%s && %s==%s' % (addr_field(a), a, addr_field(b), b)
    if c['proto'] in ('tcp', 'udp'):
        # ICMP errors quote a TCP/UDP header: tshark shows its ports, but the
        # packet is ICMP, not one of the connection's.
        p = c['proto']
        f += ' && %s.port==%d && %s.port==%d && !icmp && !icmpv6' % (p, c['id.orig_p'], p, c['id.resp_p'])
    else:
        f += ' && (icmp || icmpv6)'
    return f


def conn_window(c):
    ts = D(str(c['ts']))
    dur = D(str(c.get('duration', 0)))
    return ts - US, ts + dur + US


def display_filter(parts):
    """parts: (filter, lo, hi) triples, ORed into one display filter."""
    out = []
    for flt, lo, hi in parts:
        if lo is None:
            out.append('(%s)' % flt)
        else:
            out.append('(%s && frame.time_epoch >= %s && frame.time_epoch <= %s)' % (flt, lo, hi))
    return ' || '.join(out)


def main():
    trawl = os.path.abspath(sys.argv[1])
    if not shutil.which('tshark'):
        print('tshark not found: skipped')
        return 77
    work = tempfile.mkdtemp(prefix='trawl_hunt_')
    try:
        caps = [os.path.join(DATA, n) for n in ('ftp_bruteforce_zeek.pcap', 'arp_scan_slips.pcap',
                                               'icmp_ping_sweep_slips.pcap', 'vnc_scanner_zeek.pcap',
                                               'ms17-010_eternalblue_scan_id2t.pcap',
                                               'dns_txt_tunnel_suricata.pcap', 'ssh_openssh92_logins_trawl.pcap')]
        shared = [os.path.join(SHARED, n) for n in ('scan/nmap_syn_scan_evilfingers.pcap',
                                                    'scan/nmap_fin_scan_evilfingers.pcap',
                                                    'scan/nmap_udp_scan_evilfingers.pcap',
                                                    'scan/nmap_ipproto_scan_evilfingers.pcap',
                                                    'bruteforce/ssh_guess_zeek.pcap')]
        shared = [p for p in shared if os.path.exists(p)]
        caps += shared
        beacon = os.path.join(SHARED, 'c2_beacon', 'beacon_https_every2s_slips.pcap')

        # 1. Same findings, from the .jsonl files.
        case = os.path.join(work, 'case')
        run([trawl, 'analyze', '-q', '--no-report', '--no-case-db', '-o', case] + caps)
        stored = read_lines(os.path.join(case, 'findings.jsonl'))
        ids = [json.loads(l)['id'] for l in stored]
        print('case: %d findings: %s' % (len(ids), ', '.join(ids)))
        check('bruteforce.ftp' in ids and 'smb.ms17_010' in ids and 'sweep.arp' in ids and 'sweep.icmp' in ids,
              'the case shows brute force, an SMB probe and sweeps')
        if shared:
            check('scan.tcp_syn' in ids and 'scan.tcp_fin' in ids and 'scan.udp' in ids and 'scan.ip_proto' in ids,
                  'the case shows scans')
        out = os.path.join(work, 'hunt1')
        p = run([trawl, 'hunt', '--from', case, '-o', out])
        check(read_lines(os.path.join(out, 'findings.jsonl')) == stored, 'hunt (jsonl source) == analyze')
        check('the same findings as stored in the case (%d)' % len(stored) in p.stdout, 'hunt says they are the same')
        # Default output folder: CASE/hunt-<time>/.
        run([trawl, 'hunt', '--from', case, '-q'])
        hunts = [d for d in os.listdir(case) if d.startswith('hunt-')]
        check(len(hunts) == 1 and read_lines(os.path.join(case, hunts[0], 'findings.jsonl')) == stored,
              'hunt writes CASE/hunt-*/findings.jsonl by default')
        # --json prints the findings.jsonl lines.
        p = run([trawl, 'hunt', '--from', case, '-o', os.path.join(work, 'hunt_json'), '--json'])
        check(p.stdout.split('\n')[:-1] == stored, 'hunt --json prints the findings')

        if os.path.exists(beacon):
            bcase = os.path.join(work, 'beacon_case')
            run([trawl, 'analyze', '-q', '--no-report', '--no-case-db', '-o', bcase, beacon])
            bstored = read_lines(os.path.join(bcase, 'findings.jsonl'))
            check(any(json.loads(l)['id'] == 'beacon' for l in bstored), 'the beacon case shows a beacon')
            run([trawl, 'hunt', '--from', bcase, '-o', os.path.join(work, 'bhunt'), '-q'])
            check(read_lines(os.path.join(work, 'bhunt', 'findings.jsonl')) == bstored, 'beacon: hunt == analyze')

        # An Xmas scan differs from a FIN scan only in flags the history
        # letters do not show: conn.jsonl carries the TCP flags on such lines
        # (orig_first_flags ...), so hunt types the probes as analyze did,
        # from the .jsonl files and from case.db alike.
        xmas = os.path.join(SHARED, 'scan', 'nmap_xmas_scan_evilfingers.pcap')
        if os.path.exists(xmas):
            xc = os.path.join(work, 'xmas_case')
            run([trawl, 'analyze', '-q', '--no-report', '-o', xc, xmas])
            xstored = read_lines(os.path.join(xc, 'findings.jsonl'))
            check(any(json.loads(l)['id'] == 'scan.tcp_xmas' for l in xstored), 'the Xmas case shows an Xmas scan')
            with open(os.path.join(xc, 'conn.jsonl'), encoding='utf-8') as f:
                check('"orig_first_flags":41' in f.readline(), 'an Xmas probe line carries its flags (41)')
            run([trawl, 'hunt', '--from', os.path.join(xc, 'case.db'), '-o', os.path.join(work, 'xmas_hunt_db'), '-q'])
            check(read_lines(os.path.join(work, 'xmas_hunt_db', 'findings.jsonl')) == xstored,
                  'Xmas scan: hunt from case.db == analyze')
            os.remove(os.path.join(xc, 'case.db'))
            run([trawl, 'hunt', '--from', xc, '-o', os.path.join(work, 'xmas_hunt'), '-q'])
            check(read_lines(os.path.join(work, 'xmas_hunt', 'findings.jsonl')) == xstored,
                  'Xmas scan: hunt from the .jsonl files == analyze')

        # 1b. The same from case.db, when trawl writes one.
        dbcase = os.path.join(work, 'dbcase')
        run([trawl, 'analyze', '-q', '--no-report', '-o', dbcase] + caps)
        db = os.path.join(dbcase, 'case.db')
        if os.path.exists(db):
            dstored = read_lines(os.path.join(dbcase, 'findings.jsonl'))
            check(dstored == stored, 'analyze with case.db == without')
            for src in (dbcase, db):
                out = os.path.join(work, 'hunt_db_' + os.path.basename(src))
                p = subprocess.run([trawl, 'hunt', '--from', src, '-o', out, '-q'], capture_output=True, text=True,
                                   timeout=120)
                check(p.returncode == 0, 'hunt --from %s: %s' % (os.path.basename(src), p.stderr.strip()))
                if p.returncode == 0:
                    check(read_lines(os.path.join(out, 'findings.jsonl')) == dstored,
                          'hunt (case.db source %s) == analyze' % os.path.basename(src))
        else:
            print('no case.db written: the case.db part is skipped')

        # 2. Thresholds.
        def hunt_ids(*sets):
            out = tempfile.mkdtemp(dir=work)
            cmd = [trawl, 'hunt', '--from', case, '-o', out, '-q']
            for s in sets:
                cmd += ['--set', s]
            run(cmd)
            return [(json.loads(l)['id'], json.loads(l)['src']) for l in read_lines(os.path.join(out, 'findings.jsonl'))]
        ftp = ('bruteforce.ftp', '192.168.56.1')
        check(ftp in hunt_ids('bruteforce.min_failures=30'), 'min_failures=30 keeps the FTP brute force')
        check(ftp not in hunt_ids('bruteforce.min_failures=31'), 'min_failures=31 drops the FTP brute force')
        if shared:
            syn = ('scan.tcp_syn', '192.168.1.10')
            check(syn in hunt_ids('scan.min_ports=1000'), 'scan.min_ports=1000 keeps the SYN scan')
            check(syn not in hunt_ids('scan.min_ports=1001'), 'scan.min_ports=1001 drops the SYN scan')
        p = subprocess.run([trawl, 'hunt', '--from', case, '--set', 'scan.no_such=1'], capture_output=True, text=True)
        check(p.returncode == 2 and 'no such threshold' in p.stderr, 'an unknown threshold is refused')

        # 3. extract, against tshark, on a small case (tshark runs once per
        # check over the case's captures merged into one file).
        xcaps = [os.path.join(DATA, n) for n in ('ftp_bruteforce_zeek.pcap', 'icmp_ping_sweep_slips.pcap',
                                                'arp_scan_slips.pcap', 'dns_txt_tunnel_suricata.pcap')]
        xcase = os.path.join(work, 'xcase')
        run([trawl, 'analyze', '-q', '--no-report', '--no-case-db', '-o', xcase] + xcaps)
        xstored = read_lines(os.path.join(xcase, 'findings.jsonl'))
        merged = os.path.join(work, 'merged.pcapng')
        run(['mergecap', '-w', merged] + xcaps)
        conns = [json.loads(l) for l in read_lines(os.path.join(xcase, 'conn.jsonl'))]

        def extract_check(args, parts, what):
            out = os.path.join(work, 'x.pcap')
            p = run([trawl, 'extract', '--from', xcase, '-w', out] + args)
            got = pcap_times(out)
            want = sorted(tshark_times(merged, display_filter(parts)))
            check(len(want) > 0, what + ': the oracle selects packets')
            check(got == want, '%s: %d packets written, tshark selects %d' % (what, len(got), len(want)))
            print('%s: %d packets (%s)' % (what, len(got), p.stderr.strip()))

        picked = []
        for proto in ('tcp', 'udp', 'icmp'):
            for c in conns:
                if c['proto'] == proto and c.get('duration', 0) > 0 and c['orig_pkts'] + c['resp_pkts'] >= 2:
                    picked.append(c)
                    break
        check(len(picked) == 3, 'a tcp, a udp and an icmp connection to extract')
        for c in picked:
            lo, hi = conn_window(c)
            extract_check(['--uid', c['uid']], [(conn_filter(c), lo, hi)], 'uid %s (%s)' % (c['uid'], c['proto']))
        host = '192.168.1.109'
        extract_check(['--host', host],
                      [('ip.addr==%s || arp.src.proto_ipv4==%s || arp.dst.proto_ipv4==%s' % (host, host, host),
                        None, None)], 'host ' + host)
        # A finding with complete evidence (brute force: its connections) and
        # one whose evidence is capped (a sweep: the actor to its targets).
        by_uid = {c['uid']: c for c in conns}
        seen = set()
        for n, line in enumerate(xstored, 1):
            f = json.loads(line)
            if f['id'] not in ('bruteforce.ftp', 'sweep.icmp'):
                continue
            seen.add(f['id'])
            parts = [(conn_filter(by_uid[u]),) + conn_window(by_uid[u]) for u in f['evidence'] if u in by_uid]
            if not f['evidence'] or f['evidence_total'] > len(f['evidence']):
                lo, hi = D(str(f['ts'])) - US, D(str(f['last_ts'])) + US
                src = f['src']
                for d in f['dst']:
                    parts.append(('%s==%s && %s==%s' % (addr_field(src), src, addr_field(d), d), lo, hi))
                if not f['dst']:
                    parts.append(('%s==%s' % (addr_field(src), src), lo, hi))
            extract_check(['--finding', str(n)], parts, 'finding %d (%s)' % (n, f['id']))
        check(seen == {'bruteforce.ftp', 'sweep.icmp'}, 'findings to extract: ' + ', '.join(sorted(seen)))
        p = subprocess.run([trawl, 'extract', '--from', xcase, '--finding', str(len(xstored) + 1), '-w',
                            os.path.join(work, 'y.pcap')], capture_output=True, text=True)
        check(p.returncode == 1 and 'the case has %d findings' % len(xstored) in p.stderr, 'a finding out of range')
        p = subprocess.run([trawl, 'extract', '--from', xcase, '--uid', 'CnoSuchConnection0', '-w',
                            os.path.join(work, 'y.pcap')], capture_output=True, text=True)
        check(p.returncode == 1 and 'no connection with uid CnoSuchConnection0' in p.stderr, 'an unknown uid')

        # 4. A capture that moved.
        moved_dir = os.path.join(work, 'orig')
        os.makedirs(moved_dir)
        cap = os.path.join(moved_dir, 'ftp.pcap')
        shutil.copy(os.path.join(DATA, 'ftp_bruteforce_zeek.pcap'), cap)
        mcase = os.path.join(work, 'mcase')
        run([trawl, 'analyze', '-q', '--no-report', '--no-case-db', '-o', mcase, cap])
        new_dir = os.path.join(work, 'elsewhere')
        os.makedirs(new_dir)
        shutil.move(cap, os.path.join(new_dir, 'ftp.pcap'))
        out = os.path.join(work, 'm.pcap')
        p = subprocess.run([trawl, 'extract', '--from', mcase, '--finding', '1', '-w', out], capture_output=True,
                           text=True)
        check(p.returncode == 2 and 'not there any more' in p.stderr and '--captures' in p.stderr,
              'a moved capture is named: ' + p.stderr.strip())
        p = subprocess.run([trawl, 'extract', '--from', mcase, '--finding', '1', '-w', out, '--captures', new_dir],
                           capture_output=True, text=True)
        check(p.returncode == 0 and len(pcap_times(out)) > 0, '--captures finds the moved capture')
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print('%d failure(s)' % len(failures))
        return 1
    print('ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""Past one machine: two `trawl analyze` runs each send half of a capture set
to one ClickHouse (Debian's clickhouse-server, started privately on loopback),
and `trawl hunt --from clickhouse://...` finds the scan and the beacon that are
split across the halves (neither half alone shows them), with the same
findings.jsonl as analyzing everything in one run. Then the server is killed
in the middle of a run: the run exits non-zero and says so, nothing is lost
(rows in ClickHouse + rows in the spool = every record), and the spool's
resend.sh puts the rest in once the server is back.

usage: clickhouse.py TRAWL     (exit 77: clickhouse-server is not installed)
"""
import glob, json, os, re, shutil, struct, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tools'))
from clickhouse_server import ClickHouseServer, SERVER  # noqa: E402

T0 = 1700000000
N_FLOWS, BATCH = 20000, 500  # the killed run: 40 batches
SPLIT = T0 + 165  # between beacon 3 (T0+120) and 4 (T0+180); 13 scan ports before it, 11 after


def ip4(s):
    return bytes(int(x) for x in s.split('.'))


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ipv4(src, dst, proto, payload):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0, ip4(src), ip4(dst))
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return b'\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00' + h + payload


def tcp(src, dst, sp, dp, seq, ack, flags, data=b''):
    fl = sum(bit for ch, bit in zip('FSRPA', (1, 2, 4, 8, 16)) if ch in flags)
    seg = struct.pack('!HHIIBBHHH', sp, dp, seq, ack, 5 << 4, fl, 29200, 0, 0) + data
    c = csum(ip4(src) + ip4(dst) + struct.pack('!BBH', 0, 6, len(seg)) + seg)
    return ipv4(src, dst, 6, seg[:16] + struct.pack('!H', c) + seg[18:])


def udp(src, dst, sp, dp, data):
    seg = struct.pack('!HHHH', sp, dp, 8 + len(data), 0) + data
    c = csum(ip4(src) + ip4(dst) + struct.pack('!BBH', 0, 17, len(seg)) + seg) or 0xffff
    return ipv4(src, dst, 17, seg[:6] + struct.pack('!H', c) + seg[8:])


def write_pcap(path, pkts):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for t, p in pkts:
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            f.write(struct.pack('<IIII', sec, usec, len(p), len(p)) + p)


def scan_and_beacon():
    """A beacon 10.0.0.7 -> 203.0.113.5:443 every 60 s (6 sessions; the
    detector scores 4 distinct times or more) and a SYN scan 192.0.2.10 ->
    10.0.0.5 of 24 ports (20 make a scan), both cut in two by SPLIT."""
    pkts = []
    for i in range(6):
        t, sp, c, s = T0 + 60 * i, 40000 + i, 1000, 5000
        C, S = '10.0.0.7', '203.0.113.5'
        pkts += [(t, tcp(C, S, sp, 443, c, 0, 'S')), (t + .01, tcp(S, C, 443, sp, s, c + 1, 'SA')),
                 (t + .02, tcp(C, S, sp, 443, c + 1, s + 1, 'A')),
                 (t + .03, tcp(C, S, sp, 443, c + 1, s + 1, 'PA', b'x' * 200)),
                 (t + .05, tcp(S, C, 443, sp, s + 1, c + 201, 'PA', b'y' * 500)),
                 (t + .06, tcp(C, S, sp, 443, c + 201, s + 501, 'FA')),
                 (t + .07, tcp(S, C, 443, sp, s + 501, c + 202, 'FA')),
                 (t + .08, tcp(C, S, sp, 443, c + 202, s + 502, 'A'))]
    for i in range(24):
        t = T0 + 100 + 5 * i
        pkts += [(t, tcp('192.0.2.10', '10.0.0.5', 55000, 1000 + 7 * i, 7777, 0, 'S')),
                 (t + .001, tcp('10.0.0.5', '192.0.2.10', 1000 + 7 * i, 55000, 0, 7778, 'RA'))]
    return sorted(pkts, key=lambda x: x[0])


def many_flows(n):
    """n one-packet UDP flows a second apart (n conn records)."""
    return [(T0 + i, udp('10.0.%d.%d' % (i // 250 % 250, i % 250 + 1), '198.51.100.9', 20000 + i % 40000, 9999,
                         b'hello')) for i in range(n)]


def analyze(trawl, inputs, out, *extra, check=True):
    cmd = [trawl, 'analyze', *inputs, '-o', out, '-q', '--no-progress', '--no-case-db', '--no-report', *extra]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError('%s: exit %d: %s' % (' '.join(cmd), r.returncode, r.stderr[-800:]))
    return r


def findings(out):
    with open(os.path.join(out, 'findings.jsonl')) as f:
        return [json.loads(line) for line in f if line.strip()]


def ids(fs):
    return sorted((f['id'], f['src']) for f in fs)


def lines(path):
    with open(path) as f:
        return [line.rstrip('\n') for line in f if line.strip()]


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    trawl = os.path.abspath(sys.argv[1])
    if not os.path.exists(SERVER):
        print('SKIP: no clickhouse-server (Debian package clickhouse-server)')
        return 77
    failures = []
    started = time.monotonic()

    def check(cond, what):
        print(('ok   ' if cond else 'FAIL ') + '[%4.1f s] ' % (time.monotonic() - started) + what)
        if not cond:
            failures.append(what)

    work = tempfile.mkdtemp(prefix='trawl-ch-it-')
    try:
        pkts = scan_and_beacon()
        whole, half1, half2 = (os.path.join(work, n + '.pcap') for n in ('whole', 'half1', 'half2'))
        write_pcap(whole, pkts)
        write_pcap(half1, [p for p in pkts if p[0] < SPLIT])
        write_pcap(half2, [p for p in pkts if p[0] >= SPLIT])
        want = [('beacon', '10.0.0.7'), ('scan.tcp_syn', '192.0.2.10')]
        analyze(trawl, [whole], os.path.join(work, 'whole'))
        check(ids(findings(os.path.join(work, 'whole'))) == want, 'one run over everything finds %s' % want)
        for h in ('half1', 'half2'):
            analyze(trawl, [os.path.join(work, h + '.pcap')], os.path.join(work, h + '-alone'))
            got = ids(findings(os.path.join(work, h + '-alone')))
            check(got == [], '%s alone finds neither (%s)' % (h, got))

        with ClickHouseServer() as ch:
            url = ch.url('trawl_test')
            # Two machines, one half each, in two separate runs.
            for h in ('half1', 'half2'):
                r = analyze(trawl, [os.path.join(work, h + '.pcap')], os.path.join(work, h + '-ch'), '--sink', url)
                check(r.returncode == 0 and r.stderr == '', '%s --sink %s: exit 0, nothing on stderr' % (h, url))
            for log in ('conn',):
                stored = sorted(ch.query("SELECT json FROM trawl_test.log_%s FORMAT TabSeparated" % log).splitlines())
                sent = sorted(lines(os.path.join(work, 'half1-ch', log + '.jsonl')) +
                              lines(os.path.join(work, 'half2-ch', log + '.jsonl')))
                # The JSON has no tab, newline or backslash here, so TSV is the text itself.
                check(stored == sent, '%s: ClickHouse holds exactly the lines of both runs (%d)' % (log, len(sent)))
            runs = ch.query('SELECT records, spooled FROM trawl_test.runs ORDER BY run_id FORMAT TabSeparated')
            n1 = sum(len(lines(p)) for p in glob.glob(os.path.join(work, 'half1-ch', '*.jsonl'))
                     if not p.endswith('findings.jsonl'))
            n2 = sum(len(lines(p)) for p in glob.glob(os.path.join(work, 'half2-ch', '*.jsonl'))
                     if not p.endswith('findings.jsonl'))
            check(runs == '%d\t0\n%d\t0\n' % (n1, n2), 'runs table: %d and %d records, none spooled' % (n1, n2))

            hunt_out = os.path.join(work, 'hunt')
            r = subprocess.run([trawl, 'hunt', '--from', url, '-o', hunt_out, '-q'], capture_output=True, text=True,
                               timeout=120)
            check(r.returncode == 0, 'trawl hunt --from %s: exit %d %s' % (url, r.returncode, r.stderr.strip()[-300:]))
            if r.returncode == 0:
                got = open(os.path.join(hunt_out, 'findings.jsonl'), 'rb').read()
                ref = open(os.path.join(work, 'whole', 'findings.jsonl'), 'rb').read()
                check(ids(findings(hunt_out)) == want, 'hunt over both halves finds %s' % want)
                # A uid is made from the connection's packet index in its run
                # (flow/conn_uid.h), so connections of the second half have
                # other uids than in one run. Each uid is replaced by the
                # connection it names (time and 5-tuple); the rest must match
                # byte for byte.
                conns = {}
                for d in ('whole', 'half1-ch', 'half2-ch'):
                    for line in lines(os.path.join(work, d, 'conn.jsonl')):
                        c = json.loads(line)
                        conns[c['uid']] = '%s/%s:%s>%s:%s/%s' % (c['ts'], c['id.orig_h'], c['id.orig_p'],
                                                                  c['id.resp_h'], c['id.resp_p'], c['proto'])

                def by_conn(text):
                    return re.sub(r'"(C[0-9A-Za-z]{17})"', lambda m: '"%s"' % conns.get(m.group(1), '?' + m.group(1)),
                                  text.decode())
                differ = sum(1 for u in re.findall(r'"(C[0-9A-Za-z]{17})"', got.decode())
                             if u not in re.findall(r'"(C[0-9A-Za-z]{17})"', ref.decode()))
                check(by_conn(got) == by_conn(ref) and '"?' not in by_conn(got),
                      'hunt findings.jsonl == one run\'s findings.jsonl byte for byte, evidence uids read as '
                      'the connections they name (%d uids are other uids of the same connections)' % differ)
                if by_conn(got) != by_conn(ref):
                    print('hunt:\n' + by_conn(got) + 'one run:\n' + by_conn(ref))

            # The server dies in the middle of a run.
            flows = os.path.join(work, 'flows.pcap')
            write_pcap(flows, many_flows(N_FLOWS))
            spool = os.path.join(work, 'spool')
            url2 = ch.url('trawl_kill') + '?batch=%d&' % BATCH + 'retries=2&backoff_ms=50&spool=' + spool
            out = os.path.join(work, 'kill')
            p = subprocess.Popen([trawl, 'analyze', flows, '-o', out, '-q', '--no-progress', '--no-case-db',
                                  '--no-report', '--sink', url2], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                deadline = time.monotonic() + 20
                seen = 0
                while time.monotonic() < deadline and p.poll() is None:
                    try:
                        seen = int(ch.query("SELECT count() FROM system.tables WHERE database = 'trawl_kill' "
                                            "AND name = 'log_conn'") or 0)
                        if seen:
                            seen = int(ch.query('SELECT count() FROM trawl_kill.log_conn'))
                    except Exception:
                        seen = 0
                    if seen > 0:
                        break
                    time.sleep(0.02)
                check(seen > 0 and p.poll() is None, 'rows arrive while the run is going (%d)' % seen)
                ch.kill()
                _, err = p.communicate(timeout=60)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            err = err.decode()
            total = len(lines(os.path.join(out, 'conn.jsonl')))
            print('stderr: ' + err.strip()[:600])
            check(p.returncode == 3, 'killed server: analyze exits 3 (got %d)' % p.returncode)
            check('could not be sent' in err and 'sh resend.sh' in err, 'killed server: the message says so and how to re-send')
            spooled = set()
            for f in glob.glob(os.path.join(spool, 'log_conn-*.tsv')):
                spooled |= set(int(line.split('\t')[3]) for line in lines(f))
            check(len(spooled) > 0, 'killed server: %d conn rows spooled' % len(spooled))
            ch.restart()
            stored = set(int(x) for x in ch.query('SELECT seq FROM trawl_kill.log_conn FORMAT TabSeparated').split())
            # A batch the server stored just before it died, whose answer
            # never came, is in both (resend.sh then skips it).
            check(stored | spooled == set(range(total)),
                  'nothing lost: %d in ClickHouse + %d spooled cover all %d records (%d in both)' %
                  (len(stored), len(spooled), total, len(stored & spooled)))
            for attempt in ('resend.sh', 'resend.sh again'):
                r = subprocess.run(['sh', 'resend.sh'], cwd=spool, capture_output=True, text=True, timeout=60)
                check(r.returncode == 0, '%s: exit %d %s' % (attempt, r.returncode, r.stderr[-300:]))
                after = ch.query('SELECT count(), uniqExact(seq) FROM trawl_kill.log_conn FORMAT TabSeparated')
                check(after == '%d\t%d\n' % (total, total),
                      'after %s ClickHouse holds each of the %d records once (%s)' % (attempt, total, after.split()))
                if attempt == 'resend.sh':
                    check(glob.glob(os.path.join(spool, '*.tsv')) == [], 'resend.sh removed the files it sent')
            check(ch.query('SELECT count() FROM trawl_kill.runs') == '1\n', 'after resend.sh the run row is there')
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print('%.1f s' % (time.monotonic() - started))
    if failures:
        print('%d failed' % len(failures))
        return 1
    print('all passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())

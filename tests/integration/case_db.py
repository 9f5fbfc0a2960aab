#!/usr/bin/env python3
"""case.db end to end: `trawl analyze` on real captures, then

  * every record table has as many rows as its .jsonl file has lines, and its json column
    (by seq) is the file's lines byte for byte; findings likewise;
  * `trawl query --host / --domain / --finding / --uid --json` print exactly the records
    the .jsonl files say they should (computed here independently);
  * the sqlite3 command-line tool opens the file (integrity_check ok);
  * --append of a capture already in the case adds nothing, a new capture adds its run.

usage: case_db.py TRAWL
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(ROOT, '..', 'shared', 'pcaps')
WIKI = os.path.join(ROOT, 'samples', 'wikipedia.pcap')
MANY = os.path.join(SHARED, 'benign', 'many_protocols_pcpp.pcap')
FTP = os.path.join(SHARED, 'bruteforce', 'ftp_bruteforce_zeek.pcap')

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print('FAIL:', what, file=sys.stderr)
    return cond


def run(cmd, ok=(0,)):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if p.returncode not in ok:
        raise SystemExit('%s: exit %d: %s' % (' '.join(cmd), p.returncode, p.stderr.decode(errors='replace')))
    return p.stdout.decode()


def analyze(trawl, pcap, case, *extra):
    run([trawl, 'analyze', pcap, '-o', case, '-q', '--no-progress', '--no-report'] + list(extra))


def jsonl(case):
    """{log: [line, ...]} for every non-empty .jsonl but findings."""
    out = {}
    for name in sorted(os.listdir(case)):
        if not name.endswith('.jsonl') or name == 'findings.jsonl':
            continue
        with open(os.path.join(case, name), encoding='utf-8', errors='surrogateescape') as f:
            lines = f.read().splitlines()
        if lines:
            out[name[:-6]] = lines
    return out


def findings_lines(case):
    p = os.path.join(case, 'findings.jsonl')
    if not os.path.exists(p):
        return []
    with open(p, encoding='utf-8') as f:
        return f.read().splitlines()


def db_counts(db):
    con = sqlite3.connect('file:%s?mode=ro' % db, uri=True)
    tables = dict(con.execute('SELECT log, name FROM record_tables'))
    counts = {log: con.execute('SELECT count(*) FROM "%s"' % name).fetchone()[0] for log, name in tables.items()}
    counts['findings'] = con.execute('SELECT count(*) FROM findings').fetchone()[0]
    counts['runs'] = con.execute('SELECT count(*) FROM runs').fetchone()[0]
    counts['inputs'] = con.execute('SELECT count(*) FROM inputs').fetchone()[0]
    con.close()
    return counts


def check_tables(case):
    db = os.path.join(case, 'case.db')
    logs = jsonl(case)
    con = sqlite3.connect('file:%s?mode=ro' % db, uri=True)
    tables = dict(con.execute('SELECT log, name FROM record_tables'))
    check(sorted(tables) == sorted(logs), '%s: tables %s = logs %s' % (case, sorted(tables), sorted(logs)))
    for log, lines in logs.items():
        if log not in tables:
            continue
        rows = [r[0] for r in con.execute('SELECT json FROM "%s" ORDER BY seq' % tables[log])]
        check(len(rows) == len(lines), '%s %s: %d rows, %d lines' % (case, log, len(rows), len(lines)))
        check(rows == lines, '%s %s: json column equals the .jsonl lines' % (case, log))
    fl = findings_lines(case)
    rows = [r[0] for r in con.execute('SELECT json FROM findings ORDER BY id')]
    check(rows == fl, '%s: %d findings rows equal findings.jsonl (%d)' % (case, len(rows), len(fl)))
    con.close()
    out = run(['sqlite3', '-readonly', db, 'PRAGMA integrity_check; SELECT count(*) FROM conn;'])
    check(out.split() == ['ok', str(len(logs.get('conn', [])))], '%s: sqlite3 CLI: %r' % (case, out))


def addrs(log, obj):
    if log == 'arp':
        return obj.get('sender_ip'), obj.get('target_ip')
    return obj.get('id.orig_h'), obj.get('id.resp_h')


def ascii_lower(s):
    return ''.join(chr(ord(c) + 32) if 'A' <= c <= 'Z' else c for c in s)


def domain_of(log, obj):
    if log == 'dns':
        return obj.get('query')
    if log == 'http':
        h = obj.get('host')
        if h is None:
            return None
        if h.startswith('['):
            h = h[:h.find(']') + 1] if ']' in h else h
        elif h.count(':') == 1:
            h = h.split(':')[0]
        return ascii_lower(h)
    if log == 'ssl':
        s = obj.get('server_name')
        return None if s is None else ascii_lower(s)
    if log == 'smtp':
        m = obj.get('mailfrom') or ''
        if '@' not in m:
            return None
        d = m[m.rfind('@') + 1:].rstrip('> \t')
        return ascii_lower(d) if d else None
    return None


def expected(case, select, select_findings):
    """The --json answer: per log (name order) the selected lines by (ts, arrival), then findings."""
    out = []
    for log, lines in sorted(jsonl(case).items()):
        objs = [(json.loads(l), i, l) for i, l in enumerate(lines)]
        chosen = [(o['ts'], i, l) for o, i, l in objs if select(log, o)]
        for _, _, l in sorted(chosen):
            out.append('{"log":"%s","record":%s}' % (log, l))
    for n, l in enumerate(findings_lines(case), 1):
        if select_findings(n, json.loads(l)):
            out.append('{"log":"findings","finding":%d,"record":%s}' % (n, l))
    return out


def query(trawl, case, *args):
    return run([trawl, 'query', case] + list(args) + ['--json']).splitlines()


def check_queries(trawl, case, host, domain=None):
    logs = jsonl(case)
    got = query(trawl, case, '--host', host)
    want = expected(case, lambda log, o: host in addrs(log, o),
                    lambda n, f: f['src'] == host or host in f['dst'])
    check(len(want) > 0, '%s --host %s: the capture has records for it' % (case, host))
    check(got == want, '%s --host %s: %d lines, expected %d' % (case, host, len(got), len(want)))

    if domain:
        def match(d):
            return d is not None and (d == domain or d.endswith('.' + domain))
        answers, uids, all_uids = set(), set(), set()
        for log, lines in logs.items():
            for l in lines:
                o = json.loads(l)
                if match(domain_of(log, o)):
                    all_uids.add(o.get('uid'))
                    if log == 'dns':
                        answers.update(o.get('answers', []))
                    else:
                        uids.add(o.get('uid'))

        def sel(log, o):
            if log in ('dns', 'http', 'ssl', 'smtp'):
                return match(domain_of(log, o))
            if log == 'conn':
                return o['id.resp_h'] in answers or o['uid'] in uids
            return False

        def sel_f(n, f):
            return match(f['src']) or any(match(d) for d in f['dst']) or bool(all_uids & set(f['evidence']))
        got = query(trawl, case, '--domain', domain.upper())
        want = expected(case, sel, sel_f)
        check(sum(1 for w in want if w.startswith('{"log":"conn"')) > 0, '%s --domain %s: connections' % (case, domain))
        check(got == want, '%s --domain %s: %d lines, expected %d' % (case, domain, len(got), len(want)))

    fl = findings_lines(case)
    if fl:
        ev = set(json.loads(fl[0])['evidence'])
        got = query(trawl, case, '--finding', '1')
        want = expected(case, lambda log, o: o.get('uid') in ev, lambda n, f: n == 1)
        check(len(want) > 1, '%s --finding 1: evidence records' % case)
        check(got == want, '%s --finding 1: %d lines, expected %d' % (case, len(got), len(want)))
        ftype = json.loads(fl[0])['id']
        got = query(trawl, case, '--finding', ftype.split('.')[0], '--log', 'findings')
        want = ['{"log":"findings","finding":%d,"record":%s}' % (n, l) for n, l in enumerate(fl, 1)
                if json.loads(l)['id'].split('.')[0] == ftype.split('.')[0]]
        check(got == want, '%s --finding %s: by type' % (case, ftype.split('.')[0]))

    conn = logs.get('conn', [])
    if conn:
        uid = json.loads(conn[len(conn) // 2])['uid']
        got = query(trawl, case, '--uid', uid)
        want = expected(case, lambda log, o: o.get('uid') == uid, lambda n, f: uid in f['evidence'])
        check(got == want and len(want) >= 1, '%s --uid %s' % (case, uid))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    trawl = os.path.abspath(sys.argv[1])
    for p in (WIKI, MANY, FTP):
        if not os.path.exists(p):
            print('skip: missing', p)
            return 77
    if not shutil.which('sqlite3'):
        print('skip: no sqlite3 command-line tool')
        return 77
    work = tempfile.mkdtemp(prefix='trawl-case-db-')
    try:
        wiki = os.path.join(work, 'wiki')
        analyze(trawl, WIKI, wiki)
        check_tables(wiki)
        check_queries(trawl, wiki, '141.142.220.118', 'wikipedia.org')

        many = os.path.join(work, 'many')
        analyze(trawl, MANY, many)
        check_tables(many)
        http_hosts = {}
        for l in jsonl(many).get('http', []):
            d = domain_of('http', json.loads(l))
            if d and not d[0].isdigit():
                key = '.'.join(d.split('.')[-2:])
                http_hosts[key] = http_hosts.get(key, 0) + 1
        top = max(sorted(http_hosts), key=lambda k: http_hosts[k])
        busiest = {}
        for l in jsonl(many)['conn']:
            h = json.loads(l)['id.orig_h']
            busiest[h] = busiest.get(h, 0) + 1
        check_queries(trawl, many, max(sorted(busiest), key=lambda k: busiest[k]), top)

        ftp = os.path.join(work, 'ftp')
        analyze(trawl, FTP, ftp)
        check_tables(ftp)
        check(len(findings_lines(ftp)) > 0, 'ftp brute force: findings')
        check_queries(trawl, ftp, json.loads(findings_lines(ftp)[0])['src'])

        # --append: the same capture adds nothing; a new one adds its run.
        before = db_counts(os.path.join(ftp, 'case.db'))
        ftp_logs = {log: len(lines) for log, lines in jsonl(ftp).items()}
        analyze(trawl, FTP, ftp, '--append')
        check(db_counts(os.path.join(ftp, 'case.db')) == before, '--append of the same capture adds nothing')
        analyze(trawl, MANY, ftp, '--append')
        after = db_counts(os.path.join(ftp, 'case.db'))
        many_logs = {log: len(lines) for log, lines in jsonl(many).items()}
        for log in set(ftp_logs) | set(many_logs):
            check(after.get(log, 0) == ftp_logs.get(log, 0) + many_logs.get(log, 0),
                  '--append of a new capture: %s rows %d = %d + %d' %
                  (log, after.get(log, 0), ftp_logs.get(log, 0), many_logs.get(log, 0)))
        check(after['runs'] == 2 and after['inputs'] == 2, '--append: 2 runs, 2 inputs: %s' % after)
        check(after['findings'] == before['findings'] + len(findings_lines(many)), '--append: findings added')
        # Without --append the case is replaced.
        analyze(trawl, WIKI, ftp)
        check(db_counts(os.path.join(ftp, 'case.db'))['runs'] == 1, 'a run without --append replaces case.db')
        check(not os.path.exists(os.path.join(ftp, 'case.db.tmp')), 'no case.db.tmp left')
        check(db_counts(os.path.join(ftp, 'case.db')) == db_counts(os.path.join(wiki, 'case.db')),
              'the replaced case.db holds the new run only')
    finally:
        shutil.rmtree(work, ignore_errors=True)
    total = 1
    print('%d passed, %d failed' % (total - (1 if failures else 0), 1 if failures else 0))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())

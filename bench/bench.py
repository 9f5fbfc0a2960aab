#!/usr/bin/env python3
"""Times trawl against its peers on one capture, in one run (not a test).

usage: bench/bench.py [--capture PATH] [--runs N] [--trawl build/trawl] [--only id,id]

Generates the capture with ../shared/bench/make_capture.py (--bytes 2000000000 --seed 1)
when it is missing; keep it on tmpfs (default /dev/shm/trawl-bench.pcap). Each command runs
N times with the file warm in the page cache; the table gives median wall time, packets/s
and peak RSS (from /usr/bin/time). Peers: tcpdump, nfpcapd (nfdump), argus, ndpiReader.
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_timed(cmd, env):
    with tempfile.NamedTemporaryFile('r', suffix='.time') as tf:
        p = subprocess.run(['/usr/bin/time', '-f', '%e %U %S %M', '-o', tf.name, 'timeout', '900',
                            'sh', '-c', cmd], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        last = open(tf.name).read().strip().splitlines()[-1].split()
    wall, user, sys_, rss = float(last[0]), float(last[1]), float(last[2]), int(last[3])
    return dict(rc=p.returncode, wall=wall, cpu=user + sys_, rss_mb=rss / 1024, err=p.stderr.decode()[-300:])


def write_intel_feed(path, n=1000000, seed=7):
    """A plain-list feed of n indicators: 60 % IPv4 addresses, 5 % IPv4 CIDRs, 5 % IPv6,
    20 % domains, 10 % URLs, random but fixed by the seed (few if any are in the benchmark
    capture, so nearly every lookup is a miss: the common case)."""
    import random
    rnd = random.Random(seed)
    words = ['cdn', 'img', 'api', 'upd', 'mail', 'srv', 'dl', 'node', 'x', 'static']
    with open(path, 'w') as f:
        f.write('# trawl bench feed, %d indicators\n' % n)
        for i in range(n):
            k = rnd.random()
            if k < 0.60:
                f.write('%d.%d.%d.%d\n' % (rnd.randint(11, 223), rnd.randint(0, 255), rnd.randint(0, 255), rnd.randint(1, 254)))
            elif k < 0.65:
                f.write('%d.%d.%d.0/24\n' % (rnd.randint(11, 223), rnd.randint(0, 255), rnd.randint(0, 255)))
            elif k < 0.70:
                f.write('2001:db8:%x:%x::%x\n' % (rnd.randint(0, 65535), rnd.randint(0, 65535), rnd.randint(1, 65535)))
            elif k < 0.90:
                f.write('%s%d.%s.example\n' % (rnd.choice(words), i, ''.join(rnd.choice('abcdefghijklmnop') for _ in range(8))))
            else:
                f.write('http://%s%d.bad.example/%s/gate.php\n' % (rnd.choice(words), i, rnd.randint(0, 99999)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--capture', default='/dev/shm/trawl-bench.pcap')
    ap.add_argument('--bytes', default='2000000000')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--trawl', default=os.path.join(ROOT, 'build', 'trawl'))
    ap.add_argument('--only', default='')
    ap.add_argument('--json', default='')
    a = ap.parse_args()
    cap = a.capture
    if not os.path.exists(cap):
        gen = os.path.join(ROOT, '..', 'shared', 'bench', 'make_capture.py')
        print('generating', cap, file=sys.stderr)
        subprocess.run([sys.executable, gen, '--bytes', a.bytes, '--seed', '1', '--out', cap], check=True)
    work = tempfile.mkdtemp(prefix='trawl-bench-', dir='/dev/shm')
    env = dict(os.environ, F=cap, T=a.trawl, W=work)
    filt = 'host 10.1.2.3'
    cmds = [
        ('tcpdump', 'tcpdump -r -w /dev/null', 'tcpdump -r "$F" -w /dev/null', None),
        ('tcpdump_bpf', 'tcpdump -r -w /dev/null "%s"' % filt, 'tcpdump -r "$F" -w /dev/null "%s"' % filt, None),
        ('trawl_analyze_t2', 'trawl analyze --threads 2', '"$T" analyze "$F" -o "$W/case" -q --no-progress --threads 2', None),
        ('trawl_analyze_nodet_t2', 'trawl analyze --no-detect --threads 2 (analyzers, no detectors)',
         '"$T" analyze "$F" -o "$W/case" -q --no-progress --threads 2 --no-detect', None),
        ('trawl_analyze_noan_t2', 'trawl analyze --no-analyzers --threads 2',
         '"$T" analyze "$F" -o "$W/case" -q --no-progress --threads 2 --no-analyzers --no-detect', None),
        ('trawl_analyze_intel_t2', 'trawl analyze --threads 2 --intel (1 M indicators)',
         '"$T" analyze "$F" -o "$W/case" -q --no-progress --threads 2 --intel "$W/intel-1m.txt"', None),
        ('trawl_analyze_t1', 'trawl analyze --threads 1', '"$T" analyze "$F" -o "$W/case" -q --no-progress --threads 1', None),
        ('trawl_filter', 'trawl filter -f "%s"' % filt, '"$T" filter "$F" -f "%s" -w "$W/f.pcap"' % filt, None),
        ('trawl_flows', 'trawl flows --threads 2', '"$T" flows "$F" --threads 2 --no-progress > "$W/flows.tsv"', None),
        ('nfpcapd', 'nfpcapd -r (nfdump)', 'nfpcapd -r "$F" -w "$W/nf" ', 'rm -rf "$W/nf" && mkdir -p "$W/nf"'),
        ('argus', 'argus -r -w', 'argus -r "$F" -w "$W/out.argus"', 'rm -f "$W/out.argus"'),
        ('ndpi', 'ndpiReader -i (1 thread)', 'ndpiReader -i "$F"', None),
    ]
    only = set(x for x in a.only.split(',') if x)
    if not only or 'trawl_analyze_intel_t2' in only:
        write_intel_feed(os.path.join(work, 'intel-1m.txt'))
    pkts = int(subprocess.run(['capinfos', '-c', '-M', '-T', '-r', cap], capture_output=True, text=True).stdout.split()[-1]) \
        if shutil.which('capinfos') else 0
    size = os.path.getsize(cap)
    subprocess.run('cat "%s" > /dev/null' % cap, shell=True)
    rows = []
    for cid, what, cmd, setup in cmds:
        if only and cid not in only:
            continue
        tool = cmd.split()[0].strip('"')
        if not tool.startswith('"$T"') and tool != '$T' and shutil.which(tool) is None:
            print('skip', cid, '(not installed)', file=sys.stderr)
            continue
        runs = []
        for _ in range(a.runs):
            if setup:
                subprocess.run(setup, shell=True, env=env)
            r = run_timed(cmd, env)
            runs.append(r)
            print(cid, r['wall'], r['rss_mb'], 'rc', r['rc'], file=sys.stderr)
        wall = statistics.median(r['wall'] for r in runs)
        rows.append(dict(id=cid, what=what, cmd=cmd, wall=wall, cpu=statistics.median(r['cpu'] for r in runs),
                         rss_mb=max(r['rss_mb'] for r in runs), rc=[r['rc'] for r in runs],
                         runs=[r['wall'] for r in runs]))
    shutil.rmtree(work, ignore_errors=True)
    print('capture: %s, %.0f MB, %d packets, %d runs each, median wall time' % (cap, size / 1e6, pkts, a.runs))
    print('| command | wall s | MB/s | M pkt/s | CPU s | peak RSS MB | exit | runs |')
    print('|---|---|---|---|---|---|---|---|')
    for r in rows:
        w = r['wall'] or 1e-9
        print('| %s | %.2f | %.0f | %.2f | %.2f | %.0f | %s | %s |' % (
            r['what'], r['wall'], size / 1e6 / w, pkts / 1e6 / w if pkts else 0, r['cpu'], r['rss_mb'],
            ','.join(map(str, sorted(set(r['rc'])))), ', '.join('%.2f' % x for x in r['runs'])))
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(dict(capture=cap, size=size, packets=pkts, rows=rows), f, indent=1)


main()

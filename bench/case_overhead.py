#!/usr/bin/env python3
"""What writing case.db and report.html adds to `trawl analyze` (not a test; issue 7 asks for
at most 15 % for both together).

usage: bench/case_overhead.py [--capture PATH] [--runs N] [--trawl build/trawl] [--threads 2]

Times `trawl analyze --threads 2 -q` four ways, alternating, N runs each with the capture warm
in the page cache: with --no-case-db --no-report (the base), with case.db only, with the report
only, and with both (the default). Prints the median wall and CPU times, each overhead against
the base, and case.db's size and load rate. The capture is the
benchmark one (generated like bench/bench.py does when missing: make_capture.py --bytes
2000000000 --seed 1, kept on tmpfs). The case folder is on tmpfs too, so the figure is the CPU
cost of SQLite, not the disk's speed.
"""
import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def timed(cmd):
    with tempfile.NamedTemporaryFile('r', suffix='.time') as tf:
        p = subprocess.run(['/usr/bin/time', '-f', '%e %U %S %M', '-o', tf.name, 'timeout', '1800'] + cmd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        last = open(tf.name).read().strip().splitlines()[-1].split()
    if p.returncode != 0:
        raise SystemExit('%s: exit %d: %s' % (' '.join(cmd), p.returncode, p.stderr.decode()[-300:]))
    return float(last[0]), float(last[1]) + float(last[2]), int(last[3]) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--capture', default='/dev/shm/trawl-bench.pcap')
    ap.add_argument('--bytes', default='2000000000')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--threads', default='2')
    ap.add_argument('--trawl', default=os.path.join(ROOT, 'build', 'trawl'))
    a = ap.parse_args()
    if not os.path.exists(a.capture):
        gen = os.path.join(ROOT, '..', 'shared', 'bench', 'make_capture.py')
        print('generating', a.capture, file=sys.stderr)
        subprocess.run([sys.executable, gen, '--bytes', a.bytes, '--seed', '1', '--out', a.capture], check=True)
    work = tempfile.mkdtemp(prefix='trawl-case-bench-', dir='/dev/shm')
    try:
        base = [a.trawl, 'analyze', a.capture, '-o', os.path.join(work, 'case'), '-q', '--no-progress',
                '--threads', a.threads]
        variants = [('base', base + ['--no-case-db', '--no-report']), ('case.db', base + ['--no-report']),
                    ('report', base + ['--no-case-db']), ('both', base)]
        times = {name: [] for name, _ in variants}
        subprocess.run(['cat', a.capture], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
        for _ in range(a.runs):
            for name, cmd in variants:
                shutil.rmtree(os.path.join(work, 'case'), ignore_errors=True)
                times[name].append(timed(cmd))
        db = os.path.join(work, 'case', 'case.db')
        con = sqlite3.connect(db)
        rows = sum(con.execute('SELECT count(*) FROM "%s"' % t).fetchone()[0]
                   for (t,) in con.execute('SELECT name FROM record_tables'))
        con.close()
        size = os.path.getsize(db)
        print('capture: %s (%.0f MB), --threads %s, %d runs each' %
              (a.capture, os.path.getsize(a.capture) / 1e6, a.threads, a.runs))
        med = {}
        for name, _ in variants:
            wall = statistics.median(t[0] for t in times[name])
            cpu = statistics.median(t[1] for t in times[name])
            rss = max(t[2] for t in times[name])
            med[name] = (wall, cpu)
            print('  %-8s wall %7.2f s  cpu %7.2f s  peak RSS %6.0f MB  (walls: %s)' %
                  (name, wall, cpu, rss, ' '.join('%.2f' % t[0] for t in times[name])))
        w0, c0 = med['base']
        for name, _ in variants[1:]:
            w1, c1 = med[name]
            print('overhead of %-8s wall %+.1f %%, cpu %+.1f %%' % (name + ':', (w1 / w0 - 1) * 100, (c1 / c0 - 1) * 100))
        print('(target: both together at most +15 % wall)')
        w1 = med['case.db'][0]
        print('case.db: %.0f MB, %d records (%.0f k records/s of extra wall time)' %
              (size / 1e6, rows, rows / max(w1 - w0, 1e-9) / 1e3))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()

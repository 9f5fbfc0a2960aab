#!/usr/bin/env python3
"""How fast ClickHouse takes `trawl analyze --sink clickhouse://...` (not a test).

usage: bench/clickhouse_ingest.py [--capture PATH] [--bytes N] [--runs N] [--trawl build/trawl] [--threads N]

Starts a private clickhouse-server on loopback (tests/tools/clickhouse_server.py),
then times on the same capture, N runs each, the file warm in the page cache:
  alone: trawl analyze --no-case-db --no-report
  sink:  the same with --sink clickhouse://127.0.0.1:PORT/bench_K (a fresh database per run)
and prints wall time, records per second, the rows ClickHouse holds after each
sink run (must equal the records of the run: nothing spooled) and the server's
CPU time. The capture is made as bench/bench.py makes it (../shared/bench/make_capture.py,
--seed 1) when it is missing.
"""
import argparse, os, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'tools'))
from clickhouse_server import ClickHouseServer  # noqa: E402


def cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


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
    subprocess.run('cat "%s" > /dev/null' % a.capture, shell=True)
    rows = {'alone': [], 'sink': []}
    with tempfile.TemporaryDirectory(prefix='trawl-chbench-') as work, ClickHouseServer() as ch:
        base = [a.trawl, 'analyze', a.capture, '-o', os.path.join(work, 'case'), '-q', '--no-progress',
                '--threads', a.threads, '--no-case-db', '--no-report']
        for i in range(a.runs):
            for kind in ('alone', 'sink'):
                cmd = list(base)
                db = 'bench_%d' % i
                if kind == 'sink':
                    cmd += ['--sink', ch.url(db)]
                cpu0 = cpu_seconds(ch.proc.pid)
                t = time.monotonic()
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
                wall = time.monotonic() - t
                ch_cpu = cpu_seconds(ch.proc.pid) - cpu0
                row = dict(wall=wall, rc=r.returncode, ch_cpu=ch_cpu)
                if kind == 'sink':
                    stored = ch.query('SELECT records, spooled FROM %s.runs FORMAT TabSeparated' % db).split()
                    total = 0
                    for t_name in ch.query("SELECT name FROM system.tables WHERE database = '%s' AND name LIKE "
                                           "'log\\\\_%%' FORMAT TabSeparated" % db).split():
                        total += int(ch.query('SELECT count() FROM %s.%s' % (db, t_name)))
                    row.update(records=int(stored[0]), spooled=int(stored[1]), in_clickhouse=total)
                    ch.query('DROP DATABASE %s' % db)  # keep the disk small between runs
                rows[kind].append(row)
                print(kind, row, r.stderr.strip()[-300:], file=sys.stderr)
    alone = statistics.median(r['wall'] for r in rows['alone'])
    sink = statistics.median(r['wall'] for r in rows['sink'])
    recs = rows['sink'][0]['records']
    print('capture: %s, %.0f MB, %d runs each, median wall time, --threads %s' %
          (a.capture, os.path.getsize(a.capture) / 1e6, a.runs, a.threads))
    print('| run | wall s | records/s | ClickHouse CPU s | rows in ClickHouse / records | exit |')
    print('|---|---|---|---|---|---|')
    print('| analyze alone | %.2f | %.0f | - | - | %s |' %
          (alone, recs / alone, ','.join(str(r['rc']) for r in rows['alone'])))
    print('| analyze --sink clickhouse | %.2f | %.0f | %.2f | %s | %s |' %
          (sink, recs / sink, statistics.median(r['ch_cpu'] for r in rows['sink']),
           ', '.join('%d/%d' % (r['in_clickhouse'], r['records']) for r in rows['sink']),
           ','.join(str(r['rc']) for r in rows['sink'])))
    print('ClickHouse ingest adds %.1f %% to trawl analyze' % (100.0 * (sink - alone) / alone))


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Times `trawl intel` loading 1,000,000 mixed indicators from one plain list (not a test).

usage: bench/intel_load.py [--trawl build/trawl] [--count 1000000] [--runs 3] [--seed 1]

The list mixes IPv4 addresses (documentation and random public-looking ranges), IPv6
addresses and prefixes under 2001:db8::/32, IPv4 CIDRs, random domains, URLs and
MD5/SHA-1/SHA-256 hashes, written to a temporary file (tmpfs when there is one). Each run
is timed end to end (process start to exit, file warm in the page cache); the median of
the runs is printed with trawl's own load figure. The goal (issue 5): at most 2 s.
"""
import argparse, os, random, re, statistics, string, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def gen(path, count, seed):
    rnd = random.Random(seed)
    letters = string.ascii_lowercase + string.digits
    tlds = ['example', 'test', 'invalid', 'com', 'net', 'org', 'info', 'xyz', 'top', 'ru']

    def name():
        return ''.join(rnd.choice(letters) for _ in range(rnd.randint(5, 14)))

    def ipv4():
        r = rnd.random()
        if r < 0.3:  # documentation ranges
            base = rnd.choice(['192.0.2', '198.51.100', '203.0.113'])
            return f'{base}.{rnd.randint(1, 254)}'
        # random "public-looking" unicast (skips 0, 10, 127, 224+)
        a = rnd.choice([x for x in range(1, 224) if x not in (10, 127)])
        return f'{a}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}'

    kinds = (['ip4'] * 35 + ['ip6'] * 5 + ['cidr4'] * 4 + ['cidr6'] * 1 + ['domain'] * 30 + ['url'] * 12 +
             ['md5'] * 5 + ['sha1'] * 3 + ['sha256'] * 5)
    with open(path, 'w') as f:
        f.write('# trawl bench: generated mixed indicator list\n')
        for _ in range(count):
            k = rnd.choice(kinds)
            if k == 'ip4':
                v = ipv4()
            elif k == 'ip6':
                v = '2001:db8:%x:%x::%x' % (rnd.getrandbits(16), rnd.getrandbits(16), rnd.getrandbits(16))
            elif k == 'cidr4':
                plen = rnd.choice([16, 20, 22, 24, 24, 24, 28])
                v = f'{ipv4()}/{plen}'
            elif k == 'cidr6':
                v = '2001:db8:%x::/48' % rnd.getrandbits(16)
            elif k == 'domain':
                v = f'{name()}.{name()}.{rnd.choice(tlds)}' if rnd.random() < 0.3 else f'{name()}.{rnd.choice(tlds)}'
            elif k == 'url':
                v = f'http://{name()}.{rnd.choice(tlds)}/{name()}/{name()}.php?id={rnd.getrandbits(24)}'
            else:
                bits = {'md5': 128, 'sha1': 160, 'sha256': 256}[k]
                v = '%0*x' % (bits // 4, rnd.getrandbits(bits))
            f.write(v + '\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--trawl', default=os.path.join(ROOT, 'build', 'trawl'))
    ap.add_argument('--count', type=int, default=1000000)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()
    tmpdir = '/dev/shm' if os.path.isdir('/dev/shm') else None
    fd, path = tempfile.mkstemp(prefix='trawl-intel-bench-', suffix='.txt', dir=tmpdir)
    os.close(fd)
    try:
        gen(path, a.count, a.seed)
        size_mb = os.path.getsize(path) / 1e6
        walls, loads = [], []
        for _ in range(a.runs):
            t0 = time.monotonic()
            p = subprocess.run([a.trawl, 'intel', '-q', path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=300)
            walls.append(time.monotonic() - t0)
            out = p.stdout.decode()
            if p.returncode != 0:
                print(out, p.stderr.decode()[-2000:], file=sys.stderr)
                print(f'trawl intel exited {p.returncode}', file=sys.stderr)
                return 1
            m = re.search(r'(\d+) indicators stored.* in ([0-9.]+) s', out)
            if m:
                loads.append(float(m.group(2)))
        print(f'{a.count} indicators ({size_mb:.1f} MB): median wall {statistics.median(walls):.2f} s '
              f'(runs: {", ".join(f"{w:.2f}" for w in walls)}); trawl load+finalize median '
              f'{statistics.median(loads):.2f} s; stored {m.group(1) if m else "?"}')
        return 0
    finally:
        os.unlink(path)


if __name__ == '__main__':
    sys.exit(main())

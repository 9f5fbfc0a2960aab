#!/usr/bin/env python3
"""Detector truth on real captures: runs `trawl analyze` on every capture named
in tests/truth/*.json and checks that each expected finding (id and actor)
appears, and that captures marked benign give nothing above `low`.

usage: detect_truth.py TRAWL [TRUTH.json ...]   (default: every tests/truth/*.json)

Capture paths are relative to ../shared/pcaps, or to the repository when they
start with "repo:". A capture that is not there is reported and skipped; the
test fails if any expectation is missed or any benign capture alarms.
"""
import glob, json, os, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(ROOT, '..', 'shared', 'pcaps')
ABOVE_LOW = {'medium', 'high', 'critical'}


def capture_path(p):
    if p.startswith('repo:'):
        return os.path.join(ROOT, p[len('repo:'):])
    return os.path.join(SHARED, p)


def findings_of(trawl, path, work):
    out = os.path.join(work, 'case')
    r = subprocess.run([trawl, 'analyze', path, '-o', out, '-q', '--no-progress', '--threads', '2'],
                       capture_output=True, text=True, timeout=300)
    if r.returncode not in (0, 1):
        raise RuntimeError('trawl analyze %s: exit %d: %s' % (path, r.returncode, r.stderr.strip()[-500:]))
    with open(os.path.join(out, 'findings.jsonl')) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    trawl = sys.argv[1]
    files = sys.argv[2:] or sorted(glob.glob(os.path.join(ROOT, 'tests', 'truth', '*.json')))
    failures, checked, skipped = [], 0, 0
    with tempfile.TemporaryDirectory(prefix='trawl-truth-') as work:
        for tf in files:
            truth = json.load(open(tf))
            for cap in truth['captures']:
                path = capture_path(cap['path'])
                if not os.path.exists(path):
                    print('skip (not here): %s' % cap['path'])
                    skipped += 1
                    continue
                found = findings_of(trawl, path, work)
                checked += 1
                for exp in cap.get('expect', []):
                    hit = [f for f in found if f['id'] == exp['id'] and
                           ('src' not in exp or f['src'] == exp['src'])]
                    if not hit:
                        got = sorted(set('%s %s' % (f['id'], f['src']) for f in found))
                        failures.append('%s: expected %s from %s; got: %s' % (
                            cap['path'], exp['id'], exp.get('src', 'anyone'), ', '.join(got) or 'no findings'))
                if cap.get('benign'):
                    for f in found:
                        if f['severity'] in ABOVE_LOW:
                            failures.append('%s (benign): %s %s %s: %s' % (
                                cap['path'], f['severity'], f['id'], f['src'], f['summary']))
                print('%-60s %d findings' % (cap['path'], len(found)))
    print('captures checked: %d, skipped: %d' % (checked, skipped))
    for f in failures:
        print('FAIL', f)
    if checked == 0:
        return 77
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())

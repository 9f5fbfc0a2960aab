#!/usr/bin/env python3
"""`trawl intel`: exit codes (0 all loaded, 1 a file failed, 2 nothing usable), the
per-file, per-format and per-type counts it prints, and errors as file:line: message.

usage: intel_cli.py TRAWL FIXTURE_DIR   (FIXTURE_DIR: tests/data/intel/text)
"""
import os, re, subprocess, sys


def run(trawl, *args):
    p = subprocess.run([trawl, 'intel', *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def expect(cond, what, out=''):
    if not cond:
        print('FAIL:', what, '\n', out[-3000:])
        sys.exit(1)


def main():
    trawl, d = sys.argv[1], sys.argv[2]
    f = lambda name: os.path.join(d, name)

    # Everything loads (malformed lines are reported but do not fail the file).
    rc, out, err = run(trawl, f('feodo_ipblocklist.csv'), '--intel', f('misp_export.csv'), f('folder'))
    expect(rc == 0, f'all good: exit {rc}', out + err)
    # Positional feeds first, then --intel ones.
    files = re.findall(r'^(\S+)\s+(feodo|misp_csv|list)\s+(\d+)\s+(\d+)\s+(\d+)$', out, re.M)
    names = [(os.path.basename(a), b, int(c), int(dd), int(e)) for a, b, c, dd, e in files]
    expect(names == [('feodo_ipblocklist.csv', 'feodo', 3, 0, 1), ('a_list.txt', 'list', 1, 0, 0),
                     ('b_list.txt.gz', 'list', 2, 0, 0), ('c_list.txt', 'list', 1, 0, 0),
                     ('misp_export.csv', 'misp_csv', 8, 3, 1)] or
           names == [('feodo_ipblocklist.csv', 'feodo', 3, 0, 1), ('misp_export.csv', 'misp_csv', 8, 3, 1),
                     ('a_list.txt', 'list', 1, 0, 0), ('b_list.txt.gz', 'list', 2, 0, 0),
                     ('c_list.txt', 'list', 1, 0, 0)], f'per-file rows {names}', out)
    expect(re.search(r'^list\s+3\s+4\s+0\s+0$', out, re.M), 'per-format row for list', out)
    expect(re.search(r'^feodo\s+1\s+3\s+0\s+1$', out, re.M), 'per-format row for feodo', out)
    expect(re.search(r'^misp_csv\s+1\s+8\s+3\s+1$', out, re.M), 'per-format row for misp_csv', out)
    for t, n in (('ip', 8), ('cidr', 0), ('domain', 5), ('url', 1), ('hash', 2)):
        expect(re.search(rf'^{t}\s+{n}$', out, re.M), f'per-type count {t} {n}', out)
    expect(re.search(r'^16 indicators stored .* \d+ sources, 5 files read, in [0-9.]+ s$', out, re.M), 'totals', out)
    expect('trawl intel: 2 errors' in err, 'error total', err)
    expect(re.search(r'feodo_ipblocklist\.csv:12: dst_ip is not an IP address', err), 'feodo error line', err)
    expect(re.search(r'misp_export\.csv:12: not a valid ip-dst value', err), 'misp error line', err)

    # One file cannot be read: the others load, exit 1.
    rc, out, err = run(trawl, f('list.txt'), f('no_such_feed.txt'))
    expect(rc == 1, f'missing file: exit {rc}', out + err)
    expect(re.search(r'no_such_feed\.txt: cannot read: No such file or directory', err), 'missing file error', err)
    expect(re.search(r'^\S*no_such_feed\.txt\s+-\s+0\s+0\s+1\s+FAILED$', out, re.M), 'FAILED row', out)
    expect(re.search(r'^14 indicators stored', out, re.M), 'list still loaded', out)
    expect('list.txt:20: not an IP, CIDR, domain, URL or hash' in err, 'list error with line', err)

    # Nothing usable: exit 2.
    rc, out, err = run(trawl, f('truncated.txt.gz'))
    expect(rc == 2, f'nothing usable: exit {rc}', out + err)
    expect('truncated.txt.gz: cannot read: truncated gzip data' in err, 'gzip error', err)
    expect('trawl intel: no usable indicators' in err, 'nothing usable message', err)
    rc, out, err = run(trawl)
    expect(rc == 2, f'no arguments: exit {rc}', out + err)
    print('intel_cli: ok')


if __name__ == '__main__':
    main()

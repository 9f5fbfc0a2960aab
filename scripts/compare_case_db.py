#!/usr/bin/python3
"""Compares two case.db files: same schema text and the same rows in every table.

usage: scripts/compare_case_db.py A.db B.db

Exit 0 when the `sqlite_master` entries (type, name, table, SQL; as a set, so
the order indexes were created in does not count) and every table's rows in
rowid order, with their value types, are the same. runs.wall_seconds,
runs.started and runs.command_line differ from run to run and are ignored.
For checking that a change to the case.db writer leaves the case as it was
(a developer's tool, not a test).
"""
import hashlib
import sqlite3
import sys

IGNORED = {('runs', 'wall_seconds'), ('runs', 'started'), ('runs', 'command_line')}


def dump(path):
    c = sqlite3.connect('file:%s?mode=ro' % path, uri=True)
    c.text_factory = bytes
    schema = sorted(c.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(), key=repr)
    out = {'__schema__': schema}
    for (name,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        n = name.decode()
        cols = [r[1].decode() for r in c.execute('PRAGMA table_info("%s")' % n.replace('"', '""'))]
        keep = [i for i, col in enumerate(cols) if (n, col) not in IGNORED]
        h = hashlib.sha256()
        count = 0
        for row in c.execute('SELECT * FROM "%s" ORDER BY rowid' % n.replace('"', '""')):
            h.update(repr(tuple((type(row[i]).__name__, row[i]) for i in keep)).encode())
            count += 1
        out[n] = (cols, count, h.hexdigest())
    return out


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    a, b = dump(sys.argv[1]), dump(sys.argv[2])
    bad = False
    if a['__schema__'] != b['__schema__']:
        bad = True
        print('schema differs')
        sa, sb = set(a['__schema__']), set(b['__schema__'])
        for x in sorted(sa - sb, key=repr):
            print('  only in A:', x)
        for x in sorted(sb - sa, key=repr):
            print('  only in B:', x)
    for k in sorted((set(a) | set(b)) - {'__schema__'}):
        if a.get(k) != b.get(k):
            bad = True
            print('table %s differs: %s rows vs %s rows' % (k, a[k][1] if k in a else '-', b[k][1] if k in b else '-'))
    if not bad:
        print('same (%d tables, %d rows)' % (len(a) - 1, sum(v[1] for k, v in a.items() if k != '__schema__')))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())

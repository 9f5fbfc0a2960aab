#!/usr/bin/python3
"""Validates every record trawl analyze writes against docs/schema/.

usage: schema_check.py TRAWL CAPTURE...   (Debian python3-jsonschema)
"""
import json, os, subprocess, sys, tempfile
import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def schema(name):
    with open(os.path.join(ROOT, 'docs', 'schema', name + '.schema.json')) as f:
        return jsonschema.Draft202012Validator(json.load(f))


def main():
    trawl, caps = sys.argv[1], sys.argv[2:]
    checked = 0
    with tempfile.TemporaryDirectory() as out:
        p = subprocess.run([trawl, 'analyze', *caps, '-o', out, '-q', '--no-progress'], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit('trawl analyze failed (%d): %s' % (p.returncode, p.stderr))
        # Every log written must have a schema (a new record type without one fails).
        logs = sorted(f[:-6] for f in os.listdir(out) if f.endswith('.jsonl'))
        for name in logs:
            if not os.path.exists(os.path.join(ROOT, 'docs', 'schema', name + '.schema.json')):
                sys.exit('%s.jsonl has no schema in docs/schema/' % name)
            v = schema(name)
            with open(os.path.join(out, name + '.jsonl')) as f:
                for n, line in enumerate(f, 1):
                    rec = json.loads(line)
                    errors = list(v.iter_errors(rec))
                    if errors:
                        sys.exit('%s.jsonl line %d: %s\n%s' % (name, n, errors[0].message, line))
                    checked += 1
        with open(os.path.join(out, 'stats.json')) as f:
            errors = list(schema('stats').iter_errors(json.load(f)))
            if errors:
                sys.exit('stats.json: %s' % errors[0].message)
    if checked == 0:
        sys.exit('no records written: nothing was validated')
    print('%d records valid' % checked)


main()

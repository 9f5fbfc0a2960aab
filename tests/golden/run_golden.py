#!/usr/bin/python3
"""Golden tests: run trawl on a capture and compare its output files byte for
byte with saved baselines.

    run_golden.py TRAWL [--case NAME]... [--update] [--list]

Each case is a folder tests/golden/<case>/ holding

  args         the trawl command line after `trawl`, one line, shell quoting;
               placeholders: $CAPTURE_DIR (tests/data), $SHARED (../shared/pcaps,
               or $TRAWL_SHARED_PCAPS), $OUT (the temporary output folder)
  files        the output files to compare, one per line (paths inside $OUT;
               `stdout.txt` is trawl's standard output)
  exit_status  optional: the expected exit status (default 0)
  README.md    what the case proves and where the capture comes from
  expected/    the baselines

Without --update it runs trawl into a temporary folder and diffs each file of
`files` against expected/ (a unified diff of the first differences is
printed). With --update (or TRAWL_UPDATE_GOLDEN=1) it rewrites expected/ from
the run instead; review the change before committing it. Baselines are never
written by hand.

Exit status: 0 pass, 1 fail, 2 usage error, 77 skipped (a capture under
$SHARED is not available).
"""

import argparse
import difflib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CAPTURE_DIR = os.path.join(ROOT, "tests", "data")
SHARED = os.environ.get("TRAWL_SHARED_PCAPS") or os.path.normpath(os.path.join(ROOT, "..", "shared", "pcaps"))
TIMEOUT = 300
SKIP = 77
MAX_DIFF_LINES = 60


def cases():
    return sorted(d for d in os.listdir(HERE) if os.path.isfile(os.path.join(HERE, d, "args")))


def read_lines(path):
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")]


def build_argv(case_dir, out):
    line = " ".join(read_lines(os.path.join(case_dir, "args")))
    argv = []
    for tok in shlex.split(line):
        tok = tok.replace("$CAPTURE_DIR", CAPTURE_DIR).replace("$SHARED", SHARED).replace("$OUT", out)
        argv.append(tok)
    return argv


def missing_inputs(argv):
    """Paths under $SHARED that do not exist (the case is skipped then)."""
    return [a for a in argv if a.startswith(SHARED) and not os.path.exists(a)]


def show_diff(name, want, have):
    try:
        a, b = want.decode().splitlines(True), have.decode().splitlines(True)
    except UnicodeDecodeError:
        print(f"    {name}: binary content differs ({len(want)} bytes expected, {len(have)} got)")
        return
    diff = list(difflib.unified_diff(a, b, f"expected/{name}", f"got/{name}", n=1))
    for line in diff[:MAX_DIFF_LINES]:
        print("    " + line.rstrip("\n"))
    if len(diff) > MAX_DIFF_LINES:
        print(f"    ... ({len(diff) - MAX_DIFF_LINES} more diff lines)")
    if a and b and a[-1].endswith("\n") != b[-1].endswith("\n"):
        print("    (the files differ in the final newline)")


def run_case(trawl, name, update, keep):
    case_dir = os.path.join(HERE, name)
    files_path = os.path.join(case_dir, "files")
    if not os.path.exists(files_path):
        print(f"FAIL {name}: no 'files' list in {case_dir}")
        return 1
    files = read_lines(files_path)
    want_status = 0
    if os.path.exists(os.path.join(case_dir, "exit_status")):
        want_status = int(read_lines(os.path.join(case_dir, "exit_status"))[0])
    tmp = tempfile.mkdtemp(prefix=f"trawl-golden-{name}-")
    out = os.path.join(tmp, "out")
    try:
        argv = build_argv(case_dir, out)
        miss = missing_inputs(argv)
        if miss:
            print(f"SKIP {name}: capture not available: {', '.join(miss)}")
            return SKIP
        cmd = [trawl] + argv
        if "$OUT" not in open(os.path.join(case_dir, "args")).read():
            os.makedirs(out)
        try:
            r = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, cwd=tmp)
        except subprocess.TimeoutExpired:
            print(f"FAIL {name}: trawl did not finish in {TIMEOUT} s: {shlex.join(cmd)}")
            return 1
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "stdout.txt"), "wb") as f:
            f.write(r.stdout)
        if r.returncode != want_status:
            print(f"FAIL {name}: trawl exited with {r.returncode}, expected {want_status}: {shlex.join(cmd)}")
            err = r.stderr.decode(errors="replace").strip()
            print("    stderr: " + (err[:2000] or "(empty)"))
            return 1
        missing = [f for f in files if not os.path.exists(os.path.join(out, f))]
        if missing:
            print(f"FAIL {name}: trawl did not write {', '.join(missing)} ({shlex.join(cmd)})")
            return 1
        exp_dir = os.path.join(case_dir, "expected")
        if update:
            os.makedirs(exp_dir, exist_ok=True)
            changed = []
            for f in files:
                src, dst = os.path.join(out, f), os.path.join(exp_dir, f)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                new = open(src, "rb").read()
                old = open(dst, "rb").read() if os.path.exists(dst) else None
                if new != old:
                    changed.append(f"{f} ({'new' if old is None else 'changed'}, {len(new)} bytes)")
                    with open(dst, "wb") as fh:
                        fh.write(new)
            print(f"UPDATED {name}: {', '.join(changed)}" if changed else f"ok   {name}: baselines unchanged")
            return 0
        if not os.path.isdir(exp_dir):
            print(f"FAIL {name}: no baselines yet; generate them with `run_golden.py TRAWL --update --case {name}` "
                  f"and review them")
            return 1
        bad = []
        for f in files:
            ep = os.path.join(exp_dir, f)
            have = open(os.path.join(out, f), "rb").read()
            if not os.path.exists(ep):
                bad.append(f)
                print(f"FAIL {name}: no baseline expected/{f}")
                continue
            want = open(ep, "rb").read()
            if want != have:
                if not bad:
                    print(f"FAIL {name}: output differs from baseline ({shlex.join(cmd)})")
                bad.append(f)
                show_diff(f, want, have)
        if bad:
            print(f"    to accept the new output: run_golden.py TRAWL --update --case {name} (then review)")
            return 1
        print(f"ok   {name}")
        return 0
    finally:
        if keep:
            print(f"    kept {out}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="trawl golden output tests")
    ap.add_argument("trawl", nargs="?")
    ap.add_argument("--case", action="append", help="run only this case (repeatable)")
    ap.add_argument("--update", action="store_true", help="rewrite the baselines from this run")
    ap.add_argument("--keep", action="store_true", help="keep the output folders")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args()
    if args.list:
        print("\n".join(cases()))
        return 0
    if not args.trawl:
        ap.error("TRAWL is required")
    if not os.access(args.trawl, os.X_OK):
        print(f"error: {args.trawl} is missing or not executable", file=sys.stderr)
        return 2
    update = args.update or os.environ.get("TRAWL_UPDATE_GOLDEN") == "1"
    names = args.case or cases()
    unknown = [n for n in names if n not in cases()]
    if unknown:
        print(f"error: unknown case(s): {', '.join(unknown)}; --list shows them", file=sys.stderr)
        return 2
    results = [run_case(os.path.abspath(args.trawl), n, update, args.keep) for n in names]
    if len(names) > 1:
        print(f"{results.count(0)}/{len(names)} golden cases pass"
              + (f", {results.count(SKIP)} skipped" if SKIP in results else ""))
    if any(r == 1 for r in results):
        return 1
    if results and all(r == SKIP for r in results):
        return SKIP
    return 0


if __name__ == "__main__":
    sys.exit(main())

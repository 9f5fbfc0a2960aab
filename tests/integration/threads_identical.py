#!/usr/bin/python3
"""Output must not depend on the thread count.

    threads_identical.py TRAWL CAPTURE... [--threads 1,2,3,8] [--files all|conn.jsonl,...] [--keep]

For each capture (or folder; anything `trawl analyze` takes) it runs
`TRAWL analyze CAPTURE -o OUT_N --threads N` for every N and requires the
listed output files (default: every .jsonl, analyzer logs included) to be byte-identical to the --threads 1 run. On a
difference it prints the first differing lines of each file (uids,
ordering, counts...).

Exit 0 if identical everywhere, 1 otherwise, 2 on usage errors.
"""

import argparse
import difflib
import os
import shutil
import subprocess
import sys
import tempfile

TIMEOUT = 300


def main():
    ap = argparse.ArgumentParser(description="trawl output identical for any --threads")
    ap.add_argument("trawl")
    ap.add_argument("captures", nargs="+")
    ap.add_argument("--threads", default="1,2,3,8")
    ap.add_argument("--files", default="all",
                    help="comma-separated output files, or 'all' (every .jsonl the runs write)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if not os.access(args.trawl, os.X_OK):
        print(f"error: {args.trawl} is missing or not executable", file=sys.stderr)
        return 2
    counts = [int(x) for x in args.threads.split(",")]
    files = args.files.split(",")
    work = tempfile.mkdtemp(prefix="trawl-threads-")
    bad = 0
    try:
        for ci, cap in enumerate(args.captures):
            name = os.path.relpath(cap)
            outs = {}
            failed = False
            for n in counts:
                out = os.path.join(work, f"{ci}_{os.path.basename(cap.rstrip('/'))}_t{n}")
                cmd = [args.trawl, "analyze", cap, "-o", out, "--threads", str(n)]
                try:
                    r = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
                except subprocess.TimeoutExpired:
                    print(f"FAIL {name}: --threads {n} did not finish in {TIMEOUT} s")
                    failed = True
                    break
                if r.returncode != 0:
                    print(f"FAIL {name}: --threads {n} exited with {r.returncode}: "
                          f"{r.stderr.decode(errors='replace').strip()[:500]}")
                    failed = True
                    break
                outs[n] = out
            if failed:
                bad += 1
                continue
            ref_n = counts[0]
            diffs = []
            check = files
            if files == ["all"]:
                written = {n: sorted(f for f in os.listdir(outs[n]) if f.endswith(".jsonl")) for n in counts}
                check = written[ref_n]
                for n in counts[1:]:
                    if written[n] != check:
                        diffs.append(f"--threads {n} wrote {written[n]}, --threads {ref_n} wrote {check}")
            for f in check:
                ref_path = os.path.join(outs[ref_n], f)
                if not os.path.exists(ref_path):
                    diffs.append(f"{f}: not written with --threads {ref_n}")
                    continue
                ref = open(ref_path, "rb").read()
                for n in counts[1:]:
                    p = os.path.join(outs[n], f)
                    if not os.path.exists(p):
                        diffs.append(f"{f}: not written with --threads {n}")
                        continue
                    got = open(p, "rb").read()
                    if got != ref:
                        a = ref.decode(errors="replace").splitlines()
                        b = got.decode(errors="replace").splitlines()
                        d = list(difflib.unified_diff(a, b, f"threads{ref_n}/{f}", f"threads{n}/{f}", n=0,
                                                      lineterm=""))
                        diffs.append(f"{f}: --threads {n} differs from --threads {ref_n} "
                                     f"({len(a)} vs {len(b)} lines):\n      " + "\n      ".join(d[:24]) +
                                     ("\n      ..." if len(d) > 24 else ""))
            if diffs:
                bad += 1
                print(f"FAIL {name}:")
                for d in diffs:
                    print(f"    {d}")
            else:
                sizes = ", ".join(f"{f} {os.path.getsize(os.path.join(outs[ref_n], f))} B" for f in check)
                print(f"ok   {name}: identical for --threads {args.threads} ({sizes})")
        return 1 if bad else 0
    finally:
        if args.keep or bad:
            print(f"outputs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

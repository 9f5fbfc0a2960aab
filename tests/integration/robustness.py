#!/usr/bin/python3
"""Damaged-input tests: trawl must survive truncated and corrupted captures.

    robustness.py TRAWL CAPTURE... [--flips 20] [--seed 1] [--timeout 30] [--jobs N] [--keep]

For each capture it runs `TRAWL analyze COPY -o OUT --threads 1` with a
timeout on the capture itself (it must exit 0) and on damaged copies:

- truncated copies, cut strictly inside a structure: inside the file header
  (pcap global header / pcapng Section Header Block), inside a record header
  (pcapng: a block header), inside packet data (first, middle and last
  record), plus one byte short of the end; compressed captures (.gz / .zst)
  are cut inside the compressed stream's header, early and in the middle of
  its data, and inside its trailer;
- targeted corruptions of the first record after the header: captured length
  0xFFFFFFFF, captured length larger than the file, captured length 0, and
  (pcapng) a block length that is not a multiple of 4 and one below the
  minimum;
- --flips copies with 1 to 16 bytes overwritten at seeded random offsets
  (half of them leave the first 24 bytes alone so the file is still
  recognised and the damage reaches the record parser).

Every run must: not die from a signal, not hang, not print a sanitizer report,
exit with 0 or 1, and name the file in each stderr line that reports an error
(and in at least one stderr line when it exits with 1). For truncated copies
cut after the file header (and cut compressed streams), stats.json must exist
and count at least one anomaly (the damage may not pass silently). For copies cut inside the file
header (or a compressed stream cut inside its header or trailer), trawl may
reject the file (exit 1, a line naming it) or read what it can and count an
anomaly; one of the two must happen.

Then the mixed-input checks, once: a text file that is not a capture and a
path that does not exist, each given together with the first good capture:
exit status non-zero, exactly one stderr line naming the bad input, and the
good capture's conn.jsonl byte-identical to a run on the good capture alone.

Deterministic (seeded); bounded by --timeout per run. Exit 0 if all pass, 1
otherwise, 2 on usage errors.
"""

import argparse
import concurrent.futures
import gzip
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "ThreadSanitizer",
                     "MemorySanitizer", "runtime error:", "SUMMARY: ", "==ERROR", "Segmentation fault",
                     "terminate called", "Assertion", "core dumped", "stack smashing")


def capture_layout(data):
    """Offsets inside an uncompressed capture: (kind, header_end, records) where
    records is a list of (rec_start, data_start, data_end)."""
    if len(data) < 4:
        return ("unknown", 0, [])
    magic = data[:4]
    pcap_magics = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\x4d\x3c\xb2\xa1": "<",
                   b"\xa1\xb2\x3c\x4d": ">"}
    if magic in pcap_magics:
        e = pcap_magics[magic]
        recs = []
        off = 24
        while off + 16 <= len(data):
            incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
            if off + 16 + incl > len(data):
                break
            recs.append((off, off + 16, off + 16 + incl))
            off += 16 + incl
        return ("pcap", 24, recs)
    if magic == b"\x0a\x0d\x0d\x0a" and len(data) >= 12:
        e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        shb_len = struct.unpack(e + "I", data[4:8])[0]
        recs = []
        off = 0
        while off + 12 <= len(data):
            btype, blen = struct.unpack(e + "II", data[off:off + 8])
            if btype == 0x0A0D0D0A:
                e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
                btype, blen = struct.unpack(e + "II", data[off:off + 8])
            if blen < 12 or off + blen > len(data):
                break
            if btype in (6, 3):  # EPB / SPB: data after the fixed part
                fixed = 28 if btype == 6 else 12
                recs.append((off, off + fixed, off + blen - 4))
            off += blen
        return ("pcapng", shb_len, recs)
    return ("unknown", 0, [])


def decompress(path, data):
    if data[:2] == b"\x1f\x8b":
        return "gzip", gzip.decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        zstd = shutil.which("zstd")
        if not zstd:
            return "zstd", None
        r = subprocess.run([zstd, "-q", "-d", "-c", path], capture_output=True, timeout=60)
        return "zstd", r.stdout if r.returncode == 0 else None
    return None, data


def recoverable(comp, blob):
    """How many bytes of capture a truncated compressed stream still yields."""
    if comp == "gzip":
        import zlib
        try:
            return len(zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(blob))
        except zlib.error:
            return 0
    if comp == "zstd" and shutil.which("zstd"):
        r = subprocess.run(["zstd", "-q", "-d", "-c"], input=blob, capture_output=True, timeout=60)
        return len(r.stdout)
    return None


def variants(path, flips, seed):
    """Yields (label, kind, bytes) with kind in {'trunc_header', 'trunc', 'corrupt', 'flip'}."""
    data = open(path, "rb").read()
    comp, plain = decompress(path, data)
    n = len(data)
    if comp:
        # Cut the compressed stream: inside its header, early, middle, near the end.
        cuts = {min(5, n - 1): ("inside the compressed stream's header", "trunc_header"),
                n // 10: ("early in the compressed data", "trunc"),
                n // 2: ("in the middle of the compressed data", "trunc"),
                n - 1: ("inside the stream's trailer: every packet byte is there, the integrity check is not",
                        "trunc_header")}
        hdr_len = capture_layout(plain)[1] if plain else 24
        for cut in sorted(cuts):
            if 0 < cut < n:
                label, k = cuts[cut]
                got = recoverable(comp, data[:cut])
                if k == "trunc" and got is not None and got < max(hdr_len, 24):
                    # Not even the capture's file header can be decompressed from
                    # this prefix: the input is unreadable, like a cut inside the header.
                    label += f"; only {got} bytes decompress, less than the capture header"
                    k = "trunc_header"
                yield (f"{comp} stream cut at byte {cut} of {n} ({label})", k, data[:cut])
    else:
        kind, hdr_end, recs = capture_layout(data)
        cuts = {}
        cuts[min(10, hdr_end - 1) if hdr_end else min(10, n - 1)] = ("inside the file header", "trunc_header")
        if recs:
            first, mid, last = recs[0], recs[len(recs) // 2], recs[-1]
            hdr_label = "record header" if kind == "pcap" else "block header"
            cuts[first[0] + 7] = (f"inside the first {hdr_label}", "trunc")
            cuts[first[1] + max(1, (first[2] - first[1]) // 2)] = ("inside the first packet's data", "trunc")
            cuts[mid[1] + max(1, (mid[2] - mid[1]) // 2)] = ("inside a middle packet's data", "trunc")
            cuts[last[0] + 5] = (f"inside the last {hdr_label}", "trunc")
            cuts[last[1] + 1] = ("inside the last packet's data", "trunc")
        cuts[n - 1] = ("one byte short of the end", "trunc")
        for cut in sorted(cuts):
            if 0 < cut < n:
                label, k = cuts[cut]
                yield (f"cut at byte {cut} of {n} ({label})", k, data[:cut])
        if recs:
            r0 = recs[0]
            if kind == "pcap":
                e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
                for val, what in ((0xFFFFFFFF, "0xffffffff"), (n + 1000, "larger than the file"), (0, "zero")):
                    b = bytearray(data)
                    b[r0[0] + 8:r0[0] + 12] = struct.pack(e + "I", val)
                    yield (f"first record's captured length set to {what}", "corrupt", bytes(b))
            else:
                e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
                blk = r0[0]
                for val, what in ((struct.unpack(e + "I", data[blk + 4:blk + 8])[0] + 2, "not a multiple of 4"),
                                  (8, "8 (below the 12-byte minimum)"), (0xFFFFFFF0, "0xfffffff0")):
                    b = bytearray(data)
                    b[blk + 4:blk + 8] = struct.pack(e + "I", val)
                    yield (f"first packet block's length set to {what}", "corrupt", bytes(b))
                b = bytearray(data)
                b[blk + 20:blk + 24] = struct.pack(e + "I", 0xFFFFFFFF)
                yield ("first packet block's captured length set to 0xffffffff", "corrupt", bytes(b))
    yield ("the file as it is (undamaged)", "pristine", data)
    rng = random.Random(f"{seed}:{os.path.basename(path)}")
    for i in range(flips):
        b = bytearray(data)
        lo = 24 if (i % 2 == 0 and n > 48) else 0
        k = rng.randint(1, 16)
        offs = sorted(rng.randrange(lo, n) for _ in range(k))
        for o in offs:
            b[o] = rng.randrange(256)
        yield (f"flip #{i}: {k} byte(s) overwritten at {offs[:8]}{'...' if k > 8 else ''}", "flip", bytes(b))


def run_trawl(trawl, inputs, out, timeout):
    cmd = [trawl, "analyze"] + inputs + ["-o", out, "--threads", "1"]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=timeout)
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace"), cmd
    except subprocess.TimeoutExpired:
        return None, "", "", cmd


def stderr_problems(rc, err, names):
    """names: the strings that identify the damaged input (full path, base name)."""
    probs = []
    for marker in SANITIZER_MARKERS:
        if marker in err:
            probs.append(f"stderr contains {marker!r}")
            break
    lines = [ln for ln in err.splitlines() if ln.strip()]
    for ln in lines:
        low = ln.lower()
        if ("error" in low or "cannot" in low or "fail" in low) and not any(nm in ln for nm in names):
            probs.append(f"stderr line does not name the file: {ln[:200]!r}")
    if rc == 1 and not any(any(nm in ln for nm in names) for ln in lines):
        probs.append("exit status 1 but no stderr line names the file")
    return probs


def read_anomalies(out):
    path = os.path.join(out, "stats.json")
    if not os.path.exists(path):
        return None, "stats.json is missing"
    try:
        st = json.load(open(path))
    except ValueError as e:
        return None, f"stats.json is not JSON: {e}"
    an = st.get("anomalies")
    if not isinstance(an, dict):
        return None, f"stats.json has no 'anomalies' object: {json.dumps(st)[:200]}"
    return an, None


def check_variant(trawl, work, cap, idx, label, kind, blob, timeout, keep):
    base = os.path.basename(cap)
    name = f"v{idx:02d}_{base}"
    path = os.path.join(work, name)
    with open(path, "wb") as f:
        f.write(blob)
    out = os.path.join(work, f"out_{idx:02d}_{base}")
    rc, _, err, cmd = run_trawl(trawl, [path], out, timeout)
    probs = []
    if rc is None:
        probs.append(f"did not finish within {timeout} s (hang?)")
    elif rc < 0:
        probs.append(f"killed by signal {signal.Signals(-rc).name}")
    elif rc not in (0, 1):
        probs.append(f"exit status {rc} (expected 0 or 1)")
    if rc is not None:
        probs += stderr_problems(rc, err, (path, name))
        if kind == "pristine" and rc != 0:
            probs.append(f"the undamaged capture gives exit status {rc}, expected 0")
        if kind == "trunc" and rc in (0, 1):
            an, why = read_anomalies(out)
            if why:
                probs.append(why)
            elif sum(v for v in an.values() if isinstance(v, int)) == 0:
                probs.append("truncated capture but stats.json records no anomaly")
        if kind == "trunc_header" and rc == 0:
            an, why = read_anomalies(out)
            if why:
                probs.append(why)
            elif sum(v for v in an.values() if isinstance(v, int)) == 0:
                probs.append("damaged file accepted (exit 0) without any anomaly in stats.json")
    if not keep:
        if not probs:
            os.unlink(path)
        shutil.rmtree(out, ignore_errors=True)
    msg = f"{base}: {label}"
    if probs:
        tail = "\n      ".join(err.strip().splitlines()[-8:]) if err.strip() else "(no stderr)"
        return False, (f"FAIL {msg}\n    command: {' '.join(cmd)}\n    exit status: {rc}\n    problems: "
                       + "; ".join(probs) + f"\n    stderr (last lines):\n      {tail}\n    damaged copy kept at "
                       f"{path}")
    return True, f"ok   {msg} (exit {rc})"


def check_mixed(trawl, work, good, timeout):
    """A non-capture file and a missing path next to a good capture."""
    fails = []
    ref_out = os.path.join(work, "mixed_ref")
    rc, _, err, cmd = run_trawl(trawl, [good], ref_out, timeout)
    if rc != 0:
        return [f"FAIL mixed inputs: the good capture alone fails: exit {rc}, stderr {err.strip()[:300]!r}"]
    ref = open(os.path.join(ref_out, "conn.jsonl"), "rb").read()
    text = os.path.join(work, "notes_not_a_capture.txt")
    with open(text, "w") as f:
        f.write("These are analyst notes, not a packet capture.\nSecond line.\n")
    missing = os.path.join(work, "no_such_capture.pcap")
    for bad, what in ((text, "a text file"), (missing, "a path that does not exist")):
        for order in ("good first", "bad first"):
            inputs = [good, bad] if order == "good first" else [bad, good]
            out = os.path.join(work, f"mixed_{os.path.basename(bad)}_{order.replace(' ', '_')}")
            rc, _, err, cmd = run_trawl(trawl, inputs, out, timeout)
            probs = []
            if rc is None:
                probs.append(f"did not finish within {timeout} s")
            elif rc == 0:
                probs.append("exit status 0, expected non-zero (an input could not be read)")
            elif rc < 0:
                probs.append(f"killed by signal {signal.Signals(-rc).name}")
            naming = [ln for ln in err.splitlines() if os.path.basename(bad) in ln]
            if len(naming) != 1:
                probs.append(f"{len(naming)} stderr lines name {os.path.basename(bad)}, expected exactly 1")
            probs += [p for p in stderr_problems(rc if rc is not None else 0, err, (bad, os.path.basename(bad),
                                                                                   good, os.path.basename(good)))
                      if "sanitizer" in p.lower() or "contains" in p]
            conn = os.path.join(out, "conn.jsonl")
            if not os.path.exists(conn):
                probs.append("conn.jsonl was not written for the good capture")
            elif open(conn, "rb").read() != ref:
                probs.append("conn.jsonl differs from the run on the good capture alone")
            if probs:
                fails.append(f"FAIL mixed inputs ({what}, {order}): " + "; ".join(probs) +
                             f"\n    command: {' '.join(cmd)}\n    stderr: {err.strip()[:500]!r}")
            else:
                print(f"ok   mixed inputs ({what}, {order}): exit {rc}, stderr: {naming[0].strip()[:150]!r}")
    return fails


def main():
    ap = argparse.ArgumentParser(description="trawl on truncated and corrupted captures")
    ap.add_argument("trawl")
    ap.add_argument("captures", nargs="+")
    ap.add_argument("--flips", type=int, default=20)
    ap.add_argument("--seed", default="1")
    ap.add_argument("--timeout", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=max(1, min(8, os.cpu_count() or 1)))
    ap.add_argument("--keep", action="store_true", help="keep every damaged copy and output")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if not os.access(args.trawl, os.X_OK):
        print(f"error: {args.trawl} is missing or not executable", file=sys.stderr)
        return 2
    trawl = os.path.abspath(args.trawl)
    work = tempfile.mkdtemp(prefix="trawl-robust-")
    failures = []
    total = 0
    try:
        jobs = []
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for cap in args.captures:
                if not os.path.exists(cap):
                    failures.append(f"ERROR {cap}: no such file")
                    continue
                for i, (label, kind, blob) in enumerate(variants(cap, args.flips, args.seed)):
                    jobs.append(pool.submit(check_variant, trawl, work, cap, i, label, kind, blob, args.timeout,
                                            args.keep))
            for j in jobs:
                ok, msg = j.result()
                total += 1
                if not ok:
                    failures.append(msg)
                elif args.verbose:
                    print(msg)
        good = next((c for c in args.captures if os.path.exists(c)), None)
        if good:
            failures += check_mixed(trawl, work, os.path.abspath(good), args.timeout)
        for f in failures:
            print(f)
        print(f"{total - sum(1 for f in failures if not f.startswith('FAIL mixed'))}/{total} damaged copies "
              f"handled correctly; {len(failures)} failure(s)")
        if failures:
            print(f"work folder kept: {work}")
        return 1 if failures else 0
    finally:
        if not failures and not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

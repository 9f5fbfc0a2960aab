#!/usr/bin/python3
"""Login attempts end to end, against real servers and real clients.

Builds two private network namespaces joined by a veth pair (server
192.0.2.10, client 192.0.2.20, no route anywhere else), starts dovecot
(POP3, IMAP), postfix (SMTP AUTH via dovecot SASL), vsftpd, nginx (HTTP
Basic) and OpenSSH with throw-away configs, captures the server side with
tcpdump, drives a fixed list of good and bad logins with curl, swaks,
sshpass+ssh and Python's mail/FTP clients, checks with tshark that every
login is in the capture, then runs `trawl analyze` and checks that
auth.jsonl lists exactly those attempts (protocol, user, outcome, order per
protocol), that no password is written without --reveal-credentials and
that every password is right with it. Everything is torn down at the end.

usage: auth_real_servers.py TRAWL [--artifacts DIR] [--keep]
Exit 0 pass, 1 fail, 77 skipped (not root, or no `ip netns`).
See docs/testing-real-servers.md.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from realsrv import check  # noqa: E402
from realsrv.clients import expected_attempts, run_sessions, scenario  # noqa: E402
from realsrv.lab import Lab, LabError, NetnsUnavailable  # noqa: E402
from realsrv.servers import Servers, missing_prerequisites  # noqa: E402

SKIP = 77
CLIENT_TOOLS = ("curl", "swaks", "sshpass", "ssh", "tshark")
CLIENT_BUDGET = 150      # seconds for all client sessions (about 20 s normally)


class Terminated(Exception):
    pass


def on_signal(signum, _frame):
    raise Terminated(f"signal {signum}")


def log(msg):
    try:
        print(msg, flush=True)
    except OSError:      # a closed pipe must not stop the teardown
        pass


def start_capture(lab, path):
    p = lab.start("tcpdump", lab.srv(["tcpdump", "-i", lab.srv_if, "-w", path, "-U", "-n",
                                      "-Z", "root", "--immediate-mode"]))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        lab.check_alive("tcpdump", p)
        if "listening on" in lab.log_tail("tcpdump"):
            return p
        time.sleep(0.05)
    raise LabError(f"tcpdump did not start capturing:\n{lab.log_tail('tcpdump')}")


def stop_capture(lab, p):
    Lab.stop_process(p, signal.SIGINT)
    tail = lab.log_tail("tcpdump")
    for line in tail.splitlines():
        if "dropped by kernel" in line and not line.strip().startswith("0 "):
            raise LabError(f"tcpdump dropped packets: {line.strip()}")
    return tail


def run_trawl(trawl, capture, outdir, reveal):
    if os.path.exists(outdir):
        shutil.rmtree(outdir)
    argv = [trawl, "analyze", capture, "-o", outdir, "-q", "--no-progress"]
    if reveal:
        argv.append("--reveal-credentials")
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if p.returncode != 0:
        raise LabError(f"{' '.join(argv)} exited {p.returncode}: {p.stderr.strip()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trawl")
    ap.add_argument("--artifacts", help="copy the capture, trawl's output and the server logs here")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    trawl = os.path.abspath(args.trawl)

    if os.geteuid() != 0:
        log("SKIP: needs root (network namespaces, servers on ports < 1024)")
        return SKIP
    if not shutil.which("ip"):
        log("SKIP: `ip` (iproute2) is not installed, so no network namespaces")
        return SKIP
    missing = missing_prerequisites() + [t for t in CLIENT_TOOLS if not shutil.which(t)]
    if missing:
        log("FAIL: missing: " + ", ".join(missing) +
            "\n      scripts/setup.sh installs the servers and clients this test needs")
        return 1

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="trawl-auth-real-")
    os.chmod(work, 0o755)     # the servers' unprivileged users must reach their files
    for msg in Lab.remove_stale():
        log(f"removed leftovers of an earlier run: {msg}")
    lab = Lab(work)
    servers = Servers(lab, work)
    # Keep the .pcap suffix: Debian's AppArmor profile for tcpdump lets it
    # write only files named like captures.
    capture = os.path.join(work, "logins.pcap")
    failures = []
    verdicts = {}
    try:
        try:
            lab.up()
        except NetnsUnavailable as e:
            log(f"SKIP: `ip netns` is not available here: {e}")
            return SKIP
        servers.start_all()
        log(f"servers up in {lab.srv_ns} ({time.monotonic() - t0:.1f} s): "
            + ", ".join(sorted(servers.procs)))
        tcpdump = start_capture(lab, capture)

        sessions = scenario()
        attempts = expected_attempts(sessions)
        problems = run_sessions(lab, sessions, os.path.join(work, "client-home"), CLIENT_BUDGET)
        time.sleep(1.0)          # the last FIN/ACKs
        servers.check_all_alive()
        stop_capture(lab, tcpdump)
        log(f"{len(sessions)} client sessions, {len(attempts)} login attempts "
            f"({time.monotonic() - t0:.1f} s)")
        if problems:
            failures.append("clients disagree with the expected outcomes (the servers did not "
                            "behave as scripted, so trawl is not judged):\n  " + "\n  ".join(problems))
            return 1

        seen, cap_problems = check.check_capture(capture, attempts)
        log("tshark sees login attempts: " + ", ".join(f"{p} {seen[p]}" for p in check.PROTOS))
        if cap_problems:
            failures.append("the capture does not hold every login:\n  " + "\n  ".join(cap_problems))
            return 1

        out_plain = os.path.join(work, "out")
        out_reveal = os.path.join(work, "out-reveal")
        run_trawl(trawl, capture, out_plain, reveal=False)
        run_trawl(trawl, capture, out_reveal, reveal=True)

        recs = check.load_auth(out_plain)
        if recs is None:
            failures.append("trawl analyze wrote no auth.jsonl")
        plain, lines = check.compare(attempts, recs, reveal=False)
        log("\n== auth.jsonl without --reveal-credentials ==")
        log("\n".join(lines))
        revealed, lines = check.compare(attempts, check.load_auth(out_reveal), reveal=True)
        log("\n== auth.jsonl with --reveal-credentials ==")
        log("\n".join(lines))
        for proto in dict(plain, **revealed):
            verdicts[proto] = plain.get(proto, (True,))[0] and revealed.get(proto, (True,))[0]
        bad = [p for p, ok in verdicts.items() if not ok]
        if bad:
            failures.append("auth.jsonl differs from the scripted logins for: " + ", ".join(bad))

        passwords = sorted({a.password for a in attempts})
        leaks = check.passwords_in_output(out_plain, passwords)
        verdicts["no password without --reveal-credentials"] = not leaks
        if leaks:
            failures.append("passwords written without --reveal-credentials: "
                            + ", ".join(f"{pw!r} in {f}" for f, pw in leaks))

        conn_problems = check.check_conns(out_plain, sessions)
        verdicts["conn.jsonl services, no anomalies"] = not conn_problems
        if conn_problems:
            failures.append("conn.jsonl / stats.json:\n  " + "\n  ".join(conn_problems))
        return 1 if failures else 0
    except Terminated as e:
        failures.append(f"stopped by {e}")
        return 1
    except (LabError, RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as e:
        failures.append(f"{type(e).__name__}: {e}")
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        teardown_errors = lab.close()
        if args.artifacts:
            save_artifacts(args.artifacts, work, servers)
        for f in failures:
            log(f"\nFAIL: {f}")
        for e in teardown_errors:
            log(f"teardown: {e}")
        if failures:
            logs = servers.logs() + [os.path.join(work, "log")]
            where = args.artifacts if args.artifacts else (work if args.keep else None)
            if where:
                log(f"capture, trawl output and server logs: {where}")
            else:
                log("server logs were in: " + ", ".join(logs) + " (use --keep or --artifacts)")
        if verdicts:
            log("\nsummary: " + "; ".join(f"{p} {'PASS' if ok else 'FAIL'}"
                                          for p, ok in verdicts.items()))
        log(f"total {time.monotonic() - t0:.1f} s")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def save_artifacts(dest, work, servers):
    """Capture, trawl's output and the server logs, for a person to look at."""
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    for rel in ("logins.pcap", "out", "out-reveal", "log"):
        src = os.path.join(work, rel)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dest, rel))
        elif os.path.isfile(src):
            shutil.copy2(src, dest)
    for p in servers.logs():
        shutil.copy2(p, os.path.join(dest, os.path.basename(os.path.dirname(p)) + "-" + os.path.basename(p)))


if __name__ == "__main__":
    sys.exit(main())

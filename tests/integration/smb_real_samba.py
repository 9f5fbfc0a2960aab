#!/usr/bin/python3
"""SMB end to end against a real Samba server: smbd in one network namespace,
smbclient and rpcclient in another (the namespaces of realsrv/lab.py: a veth
pair, RFC 5737 addresses, no route out), tcpdump capturing. The clients run a
fixed list of sessions over SMB3 (signed), SMB2 and SMB1: logins with a wrong
password, an unknown user, the right password and anonymous ones; share
enumeration (srvsvc NetrShareEnum over IPC$), rpcclient srvsvc calls, a
300 000-byte file download, and a share that requires SMB3 encryption.

Then `trawl analyze` on the capture must agree with tshark everywhere
oracle_smb.py looks (commands and statuses, trees, file names, NTLM users,
DCE/RPC binds and opnums), auth.jsonl must list exactly the scripted logins
with their outcomes, no password or NTLM response may appear without
--reveal-credentials, and the encrypted session must stop the analysis.

usage: smb_real_samba.py TRAWL [--artifacts DIR] [--keep]
Exit 0 pass, 1 fail, 77 skipped (not root, no `ip netns`, or Samba missing).
"""

import argparse
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import oracle_smb  # noqa: E402
from realsrv.lab import CLIENT_IP, SERVER_IP, Lab, LabError, NetnsUnavailable, run  # noqa: E402

SKIP = 77
USER = "nobody"  # an account every Debian system has; its SMB password lives only in our private passdb
GOOD_PW = "Trawl-smb-g00d"
WRONG_PW = "Trawl-smb-wrong1"
UNKNOWN_USER = "trawlmallory"
FILE_SIZE = 300000


def log(msg):
    print(msg, flush=True)


SMB_CONF = """[global]
  netbios name = TRAWLSRV
  workgroup = TRAWLLAB
  server role = standalone server
  security = user
  map to guest = Never
  restrict anonymous = 0
  passdb backend = tdbsam:{w}/private/passdb.tdb
  private dir = {w}/private
  lock directory = {w}/lock
  state directory = {w}/state
  cache directory = {w}/cache
  pid directory = {w}/run
  ncalrpc dir = {w}/ncalrpc
  binddns dir = {w}/binddns
  log file = {w}/log/samba.%m
  log level = 1
  interfaces = {srv}/24
  bind interfaces only = yes
  smb ports = 445 139
  disable netbios = yes
  server min protocol = NT1
  server max protocol = SMB3
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  usershare path =
  registry shares = no
  config backend = file

[share]
  path = {w}/share
  read only = yes
  valid users = {user}

[secret]
  path = {w}/share
  read only = yes
  valid users = {user}
  smb encrypt = required
"""


def scenario():
    """(client argv after the tool name, tool, expected logins [(user, outcome, method)], note)."""
    srv = f"//{SERVER_IP}"
    good = f"{USER}%{GOOD_PW}"
    return [
        (["-L", srv, "-U", f"{USER}%{WRONG_PW}", "-m", "SMB3"], "smbclient",
         [(USER, "failure", "ntlmv2")], "SMB3 wrong password"),
        (["-L", srv, "-U", f"{UNKNOWN_USER}%{WRONG_PW}x", "-m", "SMB3"], "smbclient",
         [(UNKNOWN_USER, "failure", "ntlmv2")], "SMB3 unknown user"),
        (["-L", srv, "-U", good, "-m", "SMB3"], "smbclient",
         [(USER, "success", "ntlmv2")], "SMB3 share list (srvsvc over IPC$)"),
        (["-L", srv, "-U%", "-m", "SMB2"], "smbclient",
         [("", "success", "ntlm-anonymous")], "SMB2 anonymous share list"),
        ([f"{srv}/share", "-U", good, "-m", "SMB3", "-c", "get big.bin /dev/null"], "smbclient",
         [(USER, "success", "ntlmv2")], "SMB3 300 KB download"),
        (["-L", srv, "-U", good, "-m", "NT1", "--option=client min protocol=NT1"], "smbclient",
         [(USER, "success", "ntlmv2")], "SMB1 share list"),
        ([SERVER_IP, "-U", good, "-c", "srvinfo;netshareenumall;netsharegetinfo share"], "rpcclient",
         [(USER, "success", "ntlmv2")], "rpcclient srvsvc calls"),
        ([f"{srv}/secret", "-U", good, "-m", "SMB3", "--client-protection=encrypt", "-c", "ls"], "smbclient",
         [(USER, "success", "ntlmv2")], "SMB3 encrypted share"),
    ]


def start_capture(lab, path):
    p = lab.start("tcpdump", lab.srv(["tcpdump", "-i", lab.srv_if, "-w", path, "-U", "-n", "-Z", "root",
                                      "--immediate-mode", "tcp"]))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        lab.check_alive("tcpdump", p)
        if "listening on" in lab.log_tail("tcpdump"):
            return p
        time.sleep(0.05)
    raise LabError(f"tcpdump did not start capturing:\n{lab.log_tail('tcpdump')}")


def start_samba(lab, work):
    for d in ("private", "lock", "state", "cache", "run", "ncalrpc", "binddns", "log", "share"):
        os.makedirs(os.path.join(work, d), exist_ok=True)
    with open(os.path.join(work, "share", "big.bin"), "wb") as f:
        f.write(bytes((i * 7 + (i >> 8)) & 0xFF for i in range(FILE_SIZE)))
    with open(os.path.join(work, "share", "readme.txt"), "w") as f:
        f.write("trawl smb test\n")
    conf = os.path.join(work, "smb.conf")
    with open(conf, "w") as f:
        f.write(SMB_CONF.format(w=work, srv=SERVER_IP, user=USER))
    p = run(["pdbedit", "-s", conf, "-a", "-u", USER, "-t"], check=False,
            input=f"{GOOD_PW}\n{GOOD_PW}\n")
    if p.returncode != 0:
        raise LabError(f"pdbedit failed: {p.stderr.strip()} {p.stdout.strip()}")
    smbd = lab.start("smbd", lab.srv(["smbd", "--foreground", "--no-process-group", "--debug-stdout",
                                      "-s", conf]))
    lab.wait_listening("smbd", smbd, 445)
    return conf, smbd


def run_clients(lab, conf):
    problems = []
    env = dict(os.environ, HOME=os.path.dirname(conf))
    for argv, tool, _, note in scenario():
        cmd = lab.cli([tool, "-s", conf] + argv)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60, env=env)
        out = p.stdout.strip().replace("\n", " | ")
        failed_login = "NT_STATUS_LOGON_FAILURE" in p.stdout
        want_fail = scenario_fails(argv)
        if want_fail != failed_login or (not want_fail and p.returncode != 0):
            problems.append(f"{note}: {tool} exited {p.returncode}: {out[:300]}")
        log(f"  {note}: exit {p.returncode}{' (LOGON_FAILURE as scripted)' if failed_login else ''}")
        if p.returncode != 0 and not failed_login:
            log(f"    {out[:400]}")
        time.sleep(0.3)
    return problems


def scenario_fails(argv):
    return any(a.endswith(WRONG_PW) or a.endswith(WRONG_PW + "x") for a in argv)


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def check_output(trawl, capture, work):
    failures = []
    totals = collections.Counter()
    problems = oracle_smb.check(trawl, capture, totals)
    log("oracle_smb: compared " + ", ".join(f"{k} {totals[k]}" for k in
                                             ("connections", "commands", "negotiates", "trees", "files", "logins",
                                              "binds", "requests")))
    failures += ["oracle: " + p for p in problems]

    out = os.path.join(work, "out")
    p = subprocess.run([trawl, "analyze", capture, "-o", out, "-q", "--no-progress"], capture_output=True, text=True)
    if p.returncode != 0:
        return failures + [f"trawl analyze exited {p.returncode}: {p.stderr.strip()}"]
    smb = read_jsonl(os.path.join(out, "smb.jsonl"))
    auth = [a for a in read_jsonl(os.path.join(out, "auth.jsonl")) if a.get("proto") == "smb"]
    conns = read_jsonl(os.path.join(out, "conn.jsonl"))

    # Logins: one connection per client run, in order of the client port's first use.
    want = [l for _, _, logins, _ in scenario() for l in logins]
    have = sorted(auth, key=lambda a: (a["ts"], a["id.orig_p"]))
    got = [(a["user"], a["outcome"], a["method"]) for a in have]
    log(f"auth.jsonl: {len(got)} SMB logins: " + ", ".join(f"{u or '<anonymous>'}:{o}:{m}" for u, o, m in got))
    if collections.Counter(got) != collections.Counter(want):
        failures.append(f"auth.jsonl logins differ: want {want}, got {got}")
    for a in have:
        if a["outcome"] == "failure" and a.get("reply") != "LOGON_FAILURE":
            failures.append(f"failed login reply is {a.get('reply')!r}, not LOGON_FAILURE")

    def has(pred):
        return any(pred(r) for r in smb)
    facts = {
        "SMB1 and SMB2 records": has(lambda r: r["version"] == "SMB1") and has(lambda r: r["version"] == "SMB2"),
        "tree connect to IPC$": has(lambda r: r["command"] in ("TREE_CONNECT", "TREE_CONNECT_ANDX")
                                     and r.get("tree", "").upper().endswith("\\IPC$")),
        "srvsvc bind accepted": has(lambda r: r["command"] == "DCE_RPC_BIND" and r.get("endpoint") == "srvsvc"
                                     and r.get("bind_result") == "acceptance"),
        "NetrShareEnum (opnum 15)": has(lambda r: r["command"] == "DCE_RPC_REQUEST" and r.get("opnum") == 15
                                         and r.get("uuid") == oracle_smb_uuid()),
        "big.bin opened, its reads not logged": has(lambda r: r.get("name") == "big.bin")
        and not has(lambda r: r["command"] == "READ" and r.get("name") == "big.bin"),
    }
    for what, ok in facts.items():
        log(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            failures.append(f"smb.jsonl lacks: {what}")
    services = collections.Counter(c.get("service", "") for c in conns if c["id.resp_p"] == 445)
    if set(services) != {"smb"}:
        failures.append(f"conn.jsonl services on 445: {dict(services)}")
    with open(os.path.join(out, "stats.json")) as f:
        anomalies = {k: v for k, v in json.load(f).get("anomalies", {}).items() if k.startswith("smb.")}
    if anomalies:
        failures.append(f"smb anomalies on real traffic: {anomalies}")

    # No password and no NTLM response bytes without --reveal-credentials.
    text = ""
    for fn in os.listdir(out):
        with open(os.path.join(out, fn), errors="replace") as f:
            text += f.read()
    for secret in (GOOD_PW, WRONG_PW):
        if secret in text:
            failures.append(f"password {secret!r} written without --reveal-credentials")
    return failures


def oracle_smb_uuid():
    return "4b324fc8-1670-01d3-1278-5a47bf6ee188"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trawl")
    ap.add_argument("--artifacts", help="copy the capture, trawl's output and the logs here")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("SKIP: needs root (network namespaces)")
        return SKIP
    missing = [t for t in ("ip", "smbd", "smbclient", "rpcclient", "pdbedit", "tcpdump", "tshark")
               if not shutil.which(t)]
    if missing:
        log("SKIP: not installed: " + ", ".join(missing) + " (Debian packages samba, smbclient)")
        return SKIP
    work = tempfile.mkdtemp(prefix="trawl-smb-real-")
    os.chmod(work, 0o755)
    for msg in Lab.remove_stale():
        log(f"removed leftovers of an earlier run: {msg}")
    lab = Lab(work)
    failures = []
    capture = os.path.join(work, "smb.pcap")
    try:
        try:
            lab.up()
        except NetnsUnavailable as e:
            log(f"SKIP: `ip netns` is not available here: {e}")
            return SKIP
        conf, smbd = start_samba(lab, work)
        tcpdump = start_capture(lab, capture)
        log(f"smbd up in {lab.srv_ns}; clients from {CLIENT_IP}:")
        problems = run_clients(lab, conf)
        time.sleep(1.0)
        lab.check_alive("smbd", smbd)
        Lab.stop_process(tcpdump, signal.SIGINT)
        if problems:
            failures.append("the clients did not behave as scripted (trawl is not judged):\n  "
                            + "\n  ".join(problems))
            return 1
        failures += check_output(args.trawl, capture, work)
        return 1 if failures else 0
    except (LabError, subprocess.TimeoutExpired, OSError) as e:
        failures.append(f"{type(e).__name__}: {e}")
        return 1
    finally:
        for e in lab.close():
            log(f"teardown: {e}")
        if args.artifacts:
            shutil.rmtree(args.artifacts, ignore_errors=True)
            shutil.copytree(work, args.artifacts, ignore=shutil.ignore_patterns("private", "lock", "state",
                                                                                "cache", "run", "ncalrpc",
                                                                                "binddns", "share"))
        for f in failures:
            log(f"FAIL: {f}")
        if not failures:
            log("PASS")
        if args.keep:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

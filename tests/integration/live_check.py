#!/usr/bin/env python3
"""`trawl check --live` names the processes behind live connections.

Builds two network namespaces joined by a veth pair (198.51.100.1 server,
198.51.100.2 client, documentation addresses, no other route), runs a web
server in one and, in the other, `trawl check --live` on the veth while curl
fetches from the server several times (short-lived processes) and a python
client holds one connection open. Then checks that sockets.jsonl names every
curl PID with /usr/bin/curl and the python client with its PID, and that
destinations.jsonl ties the server address to those processes.

Needs root (namespaces, live capture); exits 77 (skipped) otherwise. Every
process it starts is stopped by PID and the namespaces are removed, also on
failure.

usage: live_check.py TRAWL
"""

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77
SERVER_IP = "198.51.100.1"
CLIENT_IP = "198.51.100.2"
PORT = 8080
CURLS = 5
CURL = "/usr/bin/curl"
PYTHON = "/usr/bin/python3"

# A web server that answers after DELAY_S, so each curl lives a little longer
# than its handshake even on a loaded CI machine (still far shorter than the
# capture). The first-packet lookup for really short connections has its own
# unit test (RunLive.ShortLivedClientAttributedAtFirstPacket).
DELAY_S = 0.2
SERVER = (
    "import http.server, time\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    f"        time.sleep({DELAY_S})\n"
    "        body = b'trawl live check\\n'\n"
    "        self.send_response(200)\n"
    "        self.send_header('Content-Length', str(len(body)))\n"
    "        self.send_header('Connection', 'close')\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "    def log_message(self, *args):\n"
    "        pass\n"
    f"http.server.ThreadingHTTPServer(('{SERVER_IP}', {PORT}), H).serve_forever()\n"
)

# Holds one connection open until stopped; prints its local port first.
LONG_CLIENT = (
    "import socket, sys, time\n"
    f"s = socket.create_connection(('{SERVER_IP}', {PORT}), timeout=5)\n"
    "print(s.getsockname()[1], flush=True)\n"
    "time.sleep(60)\n"
)


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=20)


def in_ns(ns, *cmd):
    return ["ip", "netns", "exec", ns, *cmd]


def wait_for(pred, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def listening(ns, port):
    out = subprocess.run(in_ns(ns, "ss", "-Htln", f"sport = :{port}"), capture_output=True, text=True,
                         timeout=10).stdout
    return bool(out.strip())


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def stop(proc):
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=3)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    trawl = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("SKIP: live_check needs root (network namespaces and live capture)")
        return SKIP
    for tool in (CURL, PYTHON, shutil.which("ip"), shutil.which("ss")):
        if not tool or not os.access(tool, os.X_OK):
            print(f"SKIP: live_check needs {tool or 'ip and ss (iproute2)'}")
            return SKIP

    tag = str(os.getpid() % 1000000)
    ns_s, ns_c = f"trawl-lc{tag}-s", f"trawl-lc{tag}-c"
    veth_s, veth_c = f"tlc{tag}s", f"tlc{tag}c"
    work = tempfile.mkdtemp(prefix="trawl_live_check_")
    procs = []
    made_ns = []
    try:
        try:
            for ns in (ns_s, ns_c):
                run("ip", "netns", "add", ns)
                made_ns.append(ns)
        except subprocess.CalledProcessError as e:
            print(f"SKIP: cannot create network namespaces: {e.stderr.decode(errors='replace').strip()}")
            return SKIP
        run("ip", "link", "add", veth_c, "type", "veth", "peer", "name", veth_s)
        run("ip", "link", "set", veth_s, "netns", ns_s)
        run("ip", "link", "set", veth_c, "netns", ns_c)
        for ns, dev, addr in ((ns_s, veth_s, SERVER_IP), (ns_c, veth_c, CLIENT_IP)):
            run(*in_ns(ns, "ip", "link", "set", "lo", "up"))
            run(*in_ns(ns, "ip", "addr", "add", f"{addr}/24", "dev", dev))
            run(*in_ns(ns, "ip", "link", "set", dev, "up"))

        server = subprocess.Popen(in_ns(ns_s, PYTHON, "-c", SERVER), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        procs.append(server)
        wait_for(lambda: listening(ns_s, PORT), 10, "the web server")

        case = os.path.join(work, "case")
        trawl_p = subprocess.Popen(
            in_ns(ns_c, trawl, "check", "--live", "-i", veth_c, "--duration", "6s", "-o", case, "--offline",
                  "--home-net", f"{CLIENT_IP}/32"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(trawl_p)
        # The capture file appears once libpcap is capturing.
        wait_for(lambda: os.path.exists(os.path.join(case, "live.pcap")) or trawl_p.poll() is not None, 10,
                 "trawl to start capturing")
        if trawl_p.poll() is not None:
            out, err = trawl_p.communicate()
            raise AssertionError(f"trawl exited early ({trawl_p.returncode}): {err}")
        time.sleep(0.3)

        long_client = subprocess.Popen(in_ns(ns_c, PYTHON, "-c", LONG_CLIENT), stdout=subprocess.PIPE, text=True)
        procs.append(long_client)
        ready, _, _ = select.select([long_client.stdout], [], [], 10)
        assert ready, "the long-lived client did not connect"
        long_port = int(long_client.stdout.readline())

        curls = []  # (pid, local port)
        for _ in range(CURLS):
            # `ip netns exec` execs curl in place: Popen's PID is curl's.
            c = subprocess.Popen(
                in_ns(ns_c, CURL, "-s", "-o", "/dev/null", "-w", "%{http_code} %{local_port}",
                      f"http://{SERVER_IP}:{PORT}/"),
                stdout=subprocess.PIPE, text=True)
            procs.append(c)
            out, _ = c.communicate(timeout=10)
            code, port = out.split()
            assert code == "200", f"curl got HTTP {code}"
            curls.append((c.pid, int(port)))
            time.sleep(0.3)

        out, err = trawl_p.communicate(timeout=60)
        stop(long_client)
        assert trawl_p.returncode in (0, 1), f"trawl check failed ({trawl_p.returncode}):\n{err}"
        assert "attribution unavailable" not in err, err

        sockets = read_jsonl(os.path.join(case, "sockets.jsonl"))
        problems = []
        for pid, port in curls:
            mine = [s for s in sockets if s["pid"] == pid]
            want = [s for s in mine if s["proto"] == "tcp" and s["exe"] == CURL and s["local_addr"] == CLIENT_IP
                    and s["local_port"] == port and s["remote_addr"] == SERVER_IP and s["remote_port"] == PORT
                    and s["how"] == "sock_diag+proc" and s["cmdline"].startswith(CURL + " -s")]
            if not want:
                near = [s for s in sockets if s["local_port"] == port]
                problems.append(f"curl pid {pid} (port {port}) not attributed; records for its port: {near}")
        python_exe = os.path.realpath(PYTHON)
        long_recs = [s for s in sockets if s["pid"] == long_client.pid and s["local_port"] == long_port
                     and s["remote_addr"] == SERVER_IP and s["remote_port"] == PORT]
        if not long_recs or long_recs[0]["exe"] != python_exe:
            problems.append(f"long-lived python client pid {long_client.pid} port {long_port} not attributed "
                            f"to {python_exe}: {long_recs}")

        dests = read_jsonl(os.path.join(case, "destinations.jsonl"))
        server_dest = [d for d in dests if d.get("address") == SERVER_IP or d.get("destination") == SERVER_IP]
        if not server_dest:
            problems.append(f"no destination record for {SERVER_IP}")
        else:
            procs_json = server_dest[0].get("processes", [])
            by_pid = {p["pid"]: p for p in procs_json}
            for pid, _ in curls:
                if by_pid.get(pid, {}).get("exe") != CURL:
                    problems.append(f"destination {SERVER_IP} does not name curl pid {pid}: {procs_json}")
            if by_pid.get(long_client.pid, {}).get("exe") != python_exe:
                problems.append(f"destination {SERVER_IP} does not name python pid {long_client.pid}")
            if server_dest[0].get("unattributed", 0) != 0:
                problems.append(f"destination {SERVER_IP}: {server_dest[0]['unattributed']} connections "
                                "unattributed")

        if problems:
            print("FAIL:\n  " + "\n  ".join(problems))
            return 1
        print(f"OK: {len(curls)} curl processes and 1 python client attributed "
              f"({len(sockets)} sockets seen, {len(dests)} destinations)")
        return 0
    finally:
        for p in procs:
            stop(p)
        for ns in made_ns:
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL, timeout=20)
        # Normally gone with its namespace; left in the root namespace only if moving it failed.
        subprocess.run(["ip", "link", "del", veth_c], stderr=subprocess.DEVNULL, timeout=20)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

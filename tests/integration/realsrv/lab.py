"""The lab: two network namespaces joined by a veth pair, and every process
started in them, all torn down by Lab.close() whatever happened before."""

import os
import re
import signal
import subprocess
import time

SERVER_IP = "192.0.2.10"   # RFC 5737 documentation addresses; no route out
CLIENT_IP = "192.0.2.20"
PREFIX_LEN = 24


class LabError(Exception):
    pass


class NetnsUnavailable(LabError):
    """`ip netns add` itself failed: this machine (or container) cannot make namespaces."""


def run(argv, check=True, timeout=30, **kw):
    """Runs a short command; returns CompletedProcess with text output."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise LabError(f"{' '.join(argv)} exited {p.returncode}: {p.stderr.strip()}")
    return p


class Lab:
    def __init__(self, workdir):
        pid = os.getpid()
        self.workdir = workdir
        self.srv_ns = f"trawl-srv-{pid}"
        self.cli_ns = f"trawl-cli-{pid}"
        self.srv_if = f"trs{pid}"     # interface names are at most 15 bytes
        self.cli_if = f"trc{pid}"
        self.procs = []               # (name, Popen, log path)
        self.cleanups = []            # callables run in reverse order by close()
        self.made_ns = []

    @staticmethod
    def remove_stale():
        """Deletes namespaces of earlier runs that were killed outright
        (SIGKILL skips the teardown): trawl-srv-<pid> / trawl-cli-<pid> whose
        <pid> no longer exists. Their processes are killed by PID first."""
        done = []
        out = run(["ip", "netns", "list"], check=False).stdout
        for line in out.splitlines():
            name = line.split()[0] if line.split() else ""
            m = re.fullmatch(r"trawl-(srv|cli)-(\d+)", name)
            if not m or os.path.exists(f"/proc/{m.group(2)}"):
                continue
            for pid in run(["ip", "netns", "pids", name], check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            if run(["ip", "netns", "del", name], check=False).returncode == 0:
                done.append(name)
        return done

    # --- network ---------------------------------------------------------
    def up(self):
        for ns in (self.srv_ns, self.cli_ns):
            try:
                run(["ip", "netns", "add", ns])
            except (LabError, OSError) as e:
                if not self.made_ns:
                    raise NetnsUnavailable(str(e)) from e
                raise
            self.made_ns.append(ns)
        run(["ip", "link", "add", self.srv_if, "netns", self.srv_ns,
             "type", "veth", "peer", "name", self.cli_if, "netns", self.cli_ns])
        for ns, ifname, addr in ((self.srv_ns, self.srv_if, SERVER_IP),
                                 (self.cli_ns, self.cli_if, CLIENT_IP)):
            # IPv4 only: keeps router solicitations and the like out of the capture.
            for key in ("all", "default", "lo"):
                run(self.ns(ns, ["sysctl", "-q", "-w", f"net.ipv6.conf.{key}.disable_ipv6=1"]))
            run(self.ns(ns, ["ip", "link", "set", "lo", "up"]))
            run(self.ns(ns, ["ip", "addr", "add", f"{addr}/{PREFIX_LEN}", "dev", ifname]))
            run(self.ns(ns, ["ip", "link", "set", ifname, "up"]))
        # Sanity: the namespaces have no way out.
        routes = run(self.ns(self.cli_ns, ["ip", "-4", "route", "show", "default"])).stdout.strip()
        if routes:
            raise LabError(f"client namespace unexpectedly has a default route: {routes}")

    @staticmethod
    def ns(name, argv):
        return ["ip", "netns", "exec", name] + list(argv)

    def srv(self, argv):
        return self.ns(self.srv_ns, argv)

    def cli(self, argv):
        return self.ns(self.cli_ns, argv)

    # --- processes -------------------------------------------------------
    def start(self, name, argv, env=None):
        """Starts a long-running process (it must stay in the foreground, so its
        PID is the one we kill); output goes to WORKDIR/log/<name>.log."""
        logdir = os.path.join(self.workdir, "log")
        os.makedirs(logdir, exist_ok=True)
        log_path = os.path.join(logdir, f"{name}.log")
        log = open(log_path, "ab")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                 env=env, start_new_session=True)
        finally:
            log.close()
        self.procs.append((name, p, log_path))
        return p

    def log_tail(self, name, lines=20):
        for n, _, path in self.procs:
            if n == name:
                try:
                    with open(path, "r", errors="replace") as f:
                        return "".join(f.readlines()[-lines:])
                except OSError:
                    return ""
        return ""

    def check_alive(self, name, p):
        if p.poll() is not None:
            raise LabError(f"{name} exited early with status {p.returncode}:\n"
                           f"{self.log_tail(name)}")

    def wait_listening(self, name, p, port, timeout=20.0):
        """Waits until something listens on SERVER_IP:port (or *:port) in the server namespace."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive(name, p)
            out = run(self.srv(["ss", "-Hltn", f"sport = :{port}"]), check=False).stdout
            if out.strip():
                return
            time.sleep(0.1)
        raise LabError(f"{name} is not listening on port {port} after {timeout:.0f} s:\n"
                       f"{self.log_tail(name)}")

    @staticmethod
    def stop_process(p, sig=signal.SIGTERM, timeout=10.0):
        if p.poll() is not None:
            return
        try:
            os.kill(p.pid, sig)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=timeout)

    def close(self):
        errors = []
        for name, p, _ in reversed(self.procs):
            try:
                self.stop_process(p)
            except Exception as e:  # keep tearing down
                errors.append(f"stopping {name}: {e}")
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:
                errors.append(f"cleanup: {e}")
        # Anything a server forked off and left behind in our namespaces
        # (postfix children, ssh sessions): listed by namespace, killed by PID.
        for ns in self.made_ns:
            try:
                pids = run(["ip", "netns", "pids", ns], check=False).stdout.split()
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
            except Exception as e:
                errors.append(f"pids in {ns}: {e}")
        for ns in reversed(self.made_ns):
            # Deleting a namespace also deletes the veth end inside it.
            for _ in range(20):
                if run(["ip", "netns", "del", ns], check=False).returncode == 0:
                    break
                time.sleep(0.1)
            else:
                errors.append(f"could not delete namespace {ns}")
        self.made_ns = []
        return errors

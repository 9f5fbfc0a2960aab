#!/usr/bin/env python3
"""A private clickhouse-server on loopback for tests (Debian's clickhouse-server).

Its own config, users and data dir in a temporary folder, free ports, readiness
checked with a bounded loop, stopped by PID. As a module:

    with ClickHouseServer() as ch:
        ch.query('SELECT 1')          # over HTTP
        url = ch.url('trawl_test')    # clickhouse://127.0.0.1:PORT/trawl_test

As a script (for trying things by hand): clickhouse_server.py [--seconds N]
starts one, prints its HTTP port and stops it after N seconds or on Ctrl-C.
"""
import os, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.parse, urllib.request

SERVER = shutil.which('clickhouse-server') or '/usr/bin/clickhouse-server'

CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{dir}/log/server.log</log><errorlog>{dir}/log/error.log</errorlog>
    <size>10M</size><count>1</count></logger>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <interserver_http_port>{inter}</interserver_http_port>
  <listen_host>127.0.0.1</listen_host>
  <max_connections>64</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>32</max_concurrent_queries>
  <uncompressed_cache_size>8589934592</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>{dir}/data/</path>
  <tmp_path>{dir}/tmp/</tmp_path>
  <user_files_path>{dir}/user_files/</user_files_path>
  <format_schema_path>{dir}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <!-- A one-node cluster, for trying Distributed tables (README "Past one machine"). -->
  <remote_servers><trawl_one><shard><replica><host>127.0.0.1</host><port>{tcp}</port></replica></shard>
  </trawl_one></remote_servers>
</yandex>
"""

USERS = """<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
"""


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ClickHouseServer:
    def __init__(self, ready_timeout=30.0):
        self.ready_timeout = ready_timeout
        self.dir = None
        self.proc = None
        self.out = None
        self.http_port = None

    def start(self):
        self.dir = tempfile.mkdtemp(prefix='trawl-ch-')
        for sub in ('log', 'data', 'tmp', 'user_files', 'format_schemas'):
            os.makedirs(os.path.join(self.dir, sub))
        self.http_port, tcp, inter = free_port(), free_port(), free_port()
        with open(os.path.join(self.dir, 'config.xml'), 'w') as f:
            f.write(CONFIG.format(dir=self.dir, http=self.http_port, tcp=tcp, inter=inter))
        with open(os.path.join(self.dir, 'users.xml'), 'w') as f:
            f.write(USERS)
        return self._launch()

    def restart(self):
        """Starts the server again on the same folder and ports (after kill())."""
        return self._launch()

    def _launch(self):
        if getattr(self, 'out', None) is None:
            self.out = open(os.path.join(self.dir, 'log', 'stdout.log'), 'ab')
        self.proc = subprocess.Popen([SERVER, '--config-file=' + os.path.join(self.dir, 'config.xml')],
                                     cwd=self.dir, stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.ready_timeout
        last = ''
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if self.query('SELECT 1').strip() == '1':
                    return self
            except Exception as e:  # not listening yet
                last = str(e)
            time.sleep(0.2)
        log = self.log_tail()
        self.stop()
        raise RuntimeError('clickhouse-server did not become ready (%s)\n%s' % (last, log))

    def log_tail(self):
        text = ''
        for name in ('stdout.log', 'error.log'):
            p = os.path.join(self.dir or '', 'log', name)
            if os.path.exists(p):
                text += open(p, errors='replace').read()[-2000:]
        return text

    def url(self, db):
        return 'clickhouse://127.0.0.1:%d/%s' % (self.http_port, db)

    def query(self, sql, timeout=20):
        req = urllib.request.Request('http://127.0.0.1:%d/' % self.http_port, data=sql.encode())
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.read().decode()

    def kill(self):
        """Stops the server abruptly (SIGKILL, by PID), keeping its folder."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None
        if getattr(self, 'out', None):
            self.out.close()
            self.out = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == '__main__':
    secs = 600.0
    if len(sys.argv) == 3 and sys.argv[1] == '--seconds':
        secs = float(sys.argv[2])
    with ClickHouseServer() as ch:
        print(ch.http_port, flush=True)
        try:
            time.sleep(secs)
        except KeyboardInterrupt:
            pass

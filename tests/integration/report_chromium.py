#!/usr/bin/env python3
"""report.html in headless Chromium: a crafted capture (a beacon, a port scan,
FTP password guessing, odd DNS names, and attacker text with <script> and
onerror= in the HTTP URI, Host and User-Agent, a TLS SNI, a DNS name and an FTP
user) goes through `trawl analyze`; the page it writes is opened from file://
in Debian's chromium, driven over the DevTools protocol, and must show:

  - no console errors, no exceptions, no CSP violations, in every view;
  - no request other than the file itself (Network domain events);
  - data-findings-count and the rows of the findings table equal to the
    lines of findings.jsonl, and the attacker text visible as text;
  - the XSS canaries (window.__xss) never set.

Then `trawl report CASE` must rebuild the same page data from the case. A
screenshot of the overview goes to ARTIFACTS/report-overview.png.

usage: report_chromium.py TRAWL ARTIFACTS_DIR
Exit 77 (skip) when chromium or scapy is missing.
"""
import json, os, shutil, signal, subprocess, sys, tempfile, time

TIMEOUT_S = 25  # the whole browser part
XSS = {
    'uri': '/<script>window.__xss=1</script>?q=<img/src=x/onerror=window.__xss=2>',
    'host': 'c2.example</script><script>window.__xss=3</script>',
    'ua': 'Mozilla/5.0 <img src=x onerror="window.__xss=4">',
    'dns': '<img/src=x/onerror=window.__xss=5>.example',
    'user': '<script>window.__xss=6</script>',
    'sni': '<svg/onload=window.__xss=7>.example',
}


def craft(path):
    from scapy.all import Ether, IP, TCP, UDP, DNS, DNSQR, Raw, wrpcap
    from scapy.layers.tls.all import TLS, TLSClientHello
    from scapy.layers.tls.extensions import TLS_Ext_ServerName, ServerName
    pkts = []

    # Explicit MACs everywhere: a bare Ether() makes scapy look them up (slow, and not ours to send).
    E = lambda: Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')
    ER = lambda: Ether(src='02:00:00:00:00:02', dst='02:00:00:00:00:01')

    def at(p, t):
        p.time = t
        pkts.append(p)

    def session(cli, cport, srv, sport, t, exchanges):
        """A TCP connection: handshake, (client bytes, server bytes) turns, FIN."""
        e, er = E(), ER()
        c, s = 1000, 5000
        at(e / IP(src=cli, dst=srv) / TCP(sport=cport, dport=sport, flags='S', seq=c), t)
        at(er / IP(src=srv, dst=cli) / TCP(sport=sport, dport=cport, flags='SA', seq=s, ack=c + 1), t + 0.001)
        c += 1
        s += 1
        at(e / IP(src=cli, dst=srv) / TCP(sport=cport, dport=sport, flags='A', seq=c, ack=s), t + 0.002)
        t += 0.003
        for req, resp in exchanges:
            if req:
                at(e / IP(src=cli, dst=srv) / TCP(sport=cport, dport=sport, flags='PA', seq=c, ack=s) / Raw(req), t)
                c += len(req)
                t += 0.001
            if resp:
                at(er / IP(src=srv, dst=cli) / TCP(sport=sport, dport=cport, flags='PA', seq=s, ack=c) / Raw(resp), t)
                s += len(resp)
                t += 0.001
        at(e / IP(src=cli, dst=srv) / TCP(sport=cport, dport=sport, flags='FA', seq=c, ack=s), t)
        at(er / IP(src=srv, dst=cli) / TCP(sport=sport, dport=cport, flags='FA', seq=s, ack=c + 1), t + 0.001)
        at(e / IP(src=cli, dst=srv) / TCP(sport=cport, dport=sport, flags='A', seq=c + 1, ack=s + 1), t + 0.002)

    t0 = 1700000000.0
    # A beacon every 60 s, carrying the HTTP canaries.
    req = ('GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n\r\n' % (
        XSS['uri'], XSS['host'], XSS['ua'])).encode()
    resp = b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello'
    for i in range(40):
        session('10.0.0.7', 40000 + i, '192.0.2.66', 80, t0 + 60 * i, [(req, resp)])
    # A TLS ClientHello with a hostile SNI.
    hello = bytes(TLS(msg=[TLSClientHello(ext=[TLS_Ext_ServerName(servernames=[ServerName(servername=XSS['sni'].encode())])])]))
    session('10.0.0.7', 45000, '198.51.100.20', 443, t0 + 30, [(hello, b'')])
    # A SYN scan of 150 ports, answered by RSTs.
    for p in range(1, 151):
        t = t0 + 100 + p * 0.01
        at(E() / IP(src='10.0.0.8', dst='192.0.2.99') / TCP(sport=55555, dport=p, flags='S', seq=7), t)
        at(ER() / IP(src='192.0.2.99', dst='10.0.0.8') / TCP(sport=p, dport=55555, flags='RA', seq=0, ack=8),
           t + 0.0005)
    # FTP password guessing: 12 connections, two wrong passwords each.
    for i in range(12):
        user = XSS['user'] if i == 0 else 'admin'
        turns = [(None, b'220 ftp ready\r\n')]
        for k in range(2):
            turns.append((('USER %s\r\n' % user).encode(), b'331 password please\r\n'))
            turns.append((('PASS guess%d\r\n' % (i * 2 + k)).encode(), b'530 Login incorrect.\r\n'))
        session('203.0.113.50', 50000 + i, '10.0.0.3', 21, t0 + 200 + i * 2, [(r, s) for r, s in turns])
    # DNS: NXDOMAIN answers and an odd name.
    names = ['a%d.nx.example' % i for i in range(8)] + [XSS['dns']]
    for i, name in enumerate(names):
        t = t0 + 300 + i
        q = DNS(id=100 + i, rd=1, qd=DNSQR(qname=name, qtype='A'))
        at(E() / IP(src='10.0.0.9', dst='10.0.0.53') / UDP(sport=33000 + i, dport=53) / q, t)
        r = DNS(id=100 + i, qr=1, rd=1, ra=1, rcode=3, qd=DNSQR(qname=name, qtype='A'))
        at(ER() / IP(src='10.0.0.53', dst='10.0.0.9') / UDP(sport=53, dport=33000 + i) / r, t + 0.002)
    pkts.sort(key=lambda p: float(p.time))
    wrpcap(path, pkts)


class Cdp:
    """A DevTools session over the browser websocket (flattened targets)."""

    def __init__(self, url):
        import websocket
        self.ws = websocket.create_connection(url, timeout=5, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, params=None, session=None, timeout=10):
        self.next_id += 1
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        self.ws.send(json.dumps(msg))
        end = time.time() + timeout
        while time.time() < end:
            m = json.loads(self.ws.recv())
            if m.get('id') == self.next_id:
                if 'error' in m:
                    raise RuntimeError('%s: %s' % (method, m['error']))
                return m.get('result', {})
            if 'method' in m:
                self.events.append(m)
        raise RuntimeError('%s: no answer in %d s' % (method, timeout))

    def wait_event(self, name, timeout=10):
        end = time.time() + timeout
        for m in self.events:
            if m['method'] == name:
                return m
        while time.time() < end:
            self.ws.settimeout(max(0.1, end - time.time()))
            m = json.loads(self.ws.recv())
            if 'method' in m:
                self.events.append(m)
                if m['method'] == name:
                    return m
        raise RuntimeError('no %s in %d s' % (name, timeout))


def run_browser(html, shot, expect_findings, failures):
    chromium = shutil.which('chromium')
    profile = tempfile.mkdtemp(prefix='trawl-chromium-')
    proc = None
    try:
        proc = subprocess.Popen(
            [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-extensions',
             '--user-data-dir=' + profile, '--remote-debugging-port=0', '--remote-debugging-address=127.0.0.1',
             'about:blank'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = os.path.join(profile, 'DevToolsActivePort')
        deadline = time.time() + 10
        while time.time() < deadline and not (os.path.exists(port_file) and len(open(port_file).read().split()) >= 2):
            time.sleep(0.05)
        if not os.path.exists(port_file):
            failures.append('chromium did not start (no DevToolsActivePort)')
            return
        port, path = open(port_file).read().split()[:2]
        cdp = Cdp('ws://127.0.0.1:%s%s' % (port, path))
        target = cdp.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        sid = cdp.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        for domain in ('Page', 'Runtime', 'Log', 'Network'):
            cdp.call(domain + '.enable', session=sid)
        cdp.call('Emulation.setDeviceMetricsOverride',
                 {'width': 1280, 'height': 1500, 'deviceScaleFactor': 1, 'mobile': False}, session=sid)
        url = 'file://' + os.path.abspath(html)
        cdp.events.clear()
        cdp.call('Page.navigate', {'url': url}, session=sid)
        cdp.wait_event('Page.loadEventFired')

        def js(expr):
            r = cdp.call('Runtime.evaluate', {'expression': expr, 'returnByValue': True}, session=sid)
            if 'exceptionDetails' in r:
                raise RuntimeError('evaluate %s: %s' % (expr, r['exceptionDetails']))
            return r['result'].get('value')

        shown = js('document.body.getAttribute("data-findings-count")')
        if str(shown) != str(expect_findings):
            failures.append('data-findings-count %s, findings.jsonl has %d lines' % (shown, expect_findings))
        cards = js('document.querySelectorAll(".card").length')
        if not cards:
            failures.append('overview shows no cards')
        shot_data = cdp.call('Page.captureScreenshot', {'format': 'png'}, session=sid)['data']
        import base64
        with open(shot, 'wb') as f:
            f.write(base64.b64decode(shot_data))
        print('screenshot of the overview: %s' % shot)

        rows = None
        hosts = js('(JSON.parse(document.getElementById("trawl-data").textContent).hosts || []).map(h => h.ip)')
        for view in ['findings', 'timeline', 'hosts', 'traffic', 'beacons', 'dns', 'logins', 'web', 'about',
                     'finding/0', 'host/' + (hosts[0] if hosts else 'none'), 'host/10.0.0.7', 'overview']:
            js('location.hash = %s' % json.dumps('#' + view))
            got = js('document.body.getAttribute("data-view")')
            if got != view.split('/')[0]:
                failures.append('view %s did not render (data-view %s)' % (view, got))
            if view == 'findings':
                rows = js('document.querySelectorAll("tr.finding").length')
            if view == 'web':
                text = js('document.body.innerText')
                for k in ('uri', 'ua', 'sni'):
                    if XSS[k] not in text:
                        failures.append('the %s canary is not shown as text in the Web view' % k)
            if view == 'dns' and XSS['dns'] not in js('document.body.innerText'):
                failures.append('the DNS canary is not shown as text')
            if view == 'logins' and XSS['user'] not in js('document.body.innerText'):
                failures.append('the FTP user canary is not shown as text')
        if rows != expect_findings:
            failures.append('findings table has %s rows, findings.jsonl %d lines' % (rows, expect_findings))
        if js('typeof window.__xss') != 'undefined':
            failures.append('XSS canary ran: window.__xss = %s' % js('String(window.__xss)'))
        # Let late events arrive, then judge them.
        time.sleep(0.3)
        try:
            cdp.ws.settimeout(0.2)
            while True:
                m = json.loads(cdp.ws.recv())
                if 'method' in m:
                    cdp.events.append(m)
        except Exception:
            pass
        for m in cdp.events:
            p = m.get('params', {})
            if m['method'] == 'Runtime.exceptionThrown':
                failures.append('exception: %s' % json.dumps(p.get('exceptionDetails', {}))[:300])
            elif m['method'] == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert', 'warning'):
                failures.append('console %s: %s' % (p['type'], json.dumps(p.get('args', []))[:300]))
            elif m['method'] == 'Log.entryAdded' and p.get('entry', {}).get('level') in ('error', 'warning'):
                failures.append('log %s: %s' % (p['entry']['level'], p['entry'].get('text', '')[:300]))
            elif m['method'] == 'Network.requestWillBeSent':
                u = p.get('request', {}).get('url', '')
                if u != url and not u.startswith('data:'):
                    failures.append('network request: %s' % u[:200])
        reqs = [m for m in cdp.events if m['method'] == 'Network.requestWillBeSent']
        print('browser: %d findings shown, %d table rows, %d request(s) (the file itself), %d events checked' % (
            int(shown or 0), rows or 0, len(reqs), len(cdp.events)))
        cdp.call('Browser.close')
    finally:
        if proc is not None:
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        shutil.rmtree(profile, ignore_errors=True)


def page_data(html):
    text = open(html, encoding='utf-8').read()
    a = text.index('id="trawl-data">') + len('id="trawl-data">')
    return json.loads(text[a:text.index('</script>', a)])


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    trawl, artifacts = sys.argv[1], sys.argv[2]
    if not shutil.which('chromium'):
        print('skip: no chromium')
        return 77
    try:
        import scapy, websocket  # noqa: F401
    except ImportError as e:
        print('skip: %s' % e)
        return 77
    os.makedirs(artifacts, exist_ok=True)
    failures = []
    started = time.time()
    with tempfile.TemporaryDirectory(prefix='trawl-report-') as work:
        pcap = os.path.join(work, 'crafted.pcap')
        craft(pcap)
        case = os.path.join(work, 'case')
        r = subprocess.run([trawl, 'analyze', pcap, '-o', case, '-q', '--no-progress', '--threads', '1'],
                           capture_output=True, text=True, timeout=60)
        if r.returncode not in (0, 1):
            print('trawl analyze: exit %d: %s' % (r.returncode, r.stderr[-800:]))
            return 1
        html = os.path.join(case, 'report.html')
        with open(os.path.join(case, 'findings.jsonl')) as f:
            lines = [l for l in f if l.strip()]
        ids = sorted(set(json.loads(l)['id'] for l in lines))
        print('findings.jsonl: %d lines (%s)' % (len(lines), ', '.join(ids)))
        for want in ('beacon', 'scan'):
            if not any(i.startswith(want) for i in ids):
                failures.append('the crafted capture gave no %s finding (the page test needs one)' % want)
        data = page_data(html)
        if data['findings_total'] != len(lines):
            failures.append('report data has %d findings, findings.jsonl %d' % (data['findings_total'], len(lines)))
        if not any(b['times'] for b in data['beacons']):
            failures.append('no beacon has connection times to plot')
        run_browser(html, os.path.join(artifacts, 'report-overview.png'), len(lines), failures)

        # trawl report CASE rebuilds the same data from case.db.
        again = os.path.join(work, 'again.html')
        r = subprocess.run([trawl, 'report', case, '-o', again], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            failures.append('trawl report: exit %d: %s' % (r.returncode, r.stderr.strip()[-400:]))
        else:
            d2 = page_data(again)
            for k in ('findings', 'overview', 'hosts', 'talkers', 'services', 'conns', 'beacons', 'dns', 'auth',
                      'http', 'tls', 'timeline'):
                if d2.get(k) != data.get(k):
                    failures.append('trawl report: %s differs from the page trawl analyze wrote' % k)
    elapsed = time.time() - started
    print('elapsed %.1f s' % elapsed)
    if failures:
        print('FAIL:\n  ' + '\n  '.join(failures))
        return 1
    print('ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""intel.match end to end: `trawl analyze --intel` on samples/wikipedia.pcap with a
hand-written plain list (one address, one domain, one URL that occur in the capture, plus
decoys and a malformed line) and a Feodo-Tracker-layout CSV naming one more server as C2.
Asserts exactly which intel.match findings appear, their counts against tshark's view of
the capture (when tshark is installed), the schema of every finding, the load error
message, and exit status 2 for a missing feed. Then, when ../shared/pcaps is there, an OTX
pulse export tagged c2 over the HTTPS beacon capture (DNS and TLS server name matches).

usage: intel_analyze.py TRAWL
"""
import json, os, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CAPTURE = os.path.join(ROOT, 'samples', 'wikipedia.pcap')
FEEDS = os.path.join(ROOT, 'tests', 'data', 'intel', 'analyze')
LIST = os.path.join(FEEDS, 'wikipedia_list.txt')
FEODO = os.path.join(FEEDS, 'feodo_c2.csv')
OTX = os.path.join(FEEDS, 'beacon_otx_pulses.json')
BEACON = os.path.join(ROOT, '..', 'shared', 'pcaps', 'c2_beacon', 'beacon_https_jitter2-3s_slips.pcap')
SCHEMA = os.path.join(ROOT, 'docs', 'schema', 'findings.schema.json')
HOST = '141.142.220.118'

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print('FAIL: ' + what)


def analyze(trawl, out, *extra, capture=CAPTURE):
    return subprocess.run([trawl, 'analyze', capture, '-o', out, '-q', '--no-progress', *extra],
                          capture_output=True, text=True, timeout=120)


def intel_findings(path):
    """intel.match findings by (indicator, feed file name, host)."""
    got = {}
    for f in jsonl(path):
        if f['id'] == 'intel.match':
            d = f['details']
            got[(d['indicator'], os.path.basename(d['feed']), f['src'])] = f
    return got


def jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def tshark(*args, capture=CAPTURE):
    r = subprocess.run(['tshark', '-r', capture, '-T', 'fields', *args], capture_output=True, text=True,
                       timeout=60)
    return [line.split('\t') for line in r.stdout.splitlines()]


def under(name, domain):
    return name == domain or name.endswith('.' + domain)


def tshark_facts():
    """What the capture holds, counted by tshark the way trawl's records count it."""
    facts = {}
    http = tshark('-Y', 'http.request', '-e', 'ip.dst', '-e', 'http.host', '-e', 'http.request.uri')
    facts['http_wikimedia'] = sum(1 for _, host, _ in http if under(host, 'wikimedia.org'))
    facts['http_root_url'] = sum(1 for _, host, uri in http if host == 'www.wikipedia.org' and uri == '/')
    hosts = {host for _, host, _ in http if under(host, 'wikimedia.org')}
    # DNS: one record per transaction (UDP stream, id); names from questions and CNAMEs.
    dns = tshark('-Y', 'dns', '-e', 'udp.stream', '-e', 'dns.id', '-e', 'dns.qry.name', '-e', 'dns.cname',
                 '-e', 'dns.a')
    tx_names, tx_answer3, names = set(), set(), set()
    for stream, tid, qname, cnames, addrs in dns:
        cn = [c for c in cnames.split(',') if c]
        hit = [n for n in [qname] + cn if under(n, 'wikimedia.org')]
        if hit:
            tx_names.add((stream, tid))
            names.update(hit)
        if '208.80.152.3' in addrs.split(','):
            tx_answer3.add((stream, tid))
    facts['dns_wikimedia'] = len(tx_names)
    facts['dns_answer_3'] = len(tx_answer3)
    facts['names'] = sorted(names | hosts)
    tcp = tshark('-Y', 'tcp.flags.syn == 1 && tcp.flags.ack == 0', '-e', 'tcp.stream', '-e', 'ip.dst')
    facts['conn_3'] = len({s for s, d in tcp if d == '208.80.152.3'})
    facts['conn_118'] = len({s for s, d in tcp if d == '208.80.152.118'})
    return facts


def beacon(trawl, work):
    """The OTX pulse (tags c2) names the beacon's domain and address, the other beacon
    capture's address, a URL never fetched, and an inactive indicator the capture does
    resolve (urlhaus-api.abuse.ch): exactly two findings, both high."""
    out = os.path.join(work, 'beacon')
    r = analyze(trawl, out, '--intel', OTX, capture=BEACON)
    check(r.returncode == 0 and r.stderr == '', 'beacon run: %d %r' % (r.returncode, r.stderr))
    got = intel_findings(os.path.join(out, 'findings.jsonl'))
    client = '147.32.80.37'
    feed = os.path.basename(OTX)
    check(set(got) == {('testing.com', feed, client), ('141.193.213.20', feed, client)},
          'beacon findings %s' % sorted(got))
    dom = got.get(('testing.com', feed, client))
    ip = got.get(('141.193.213.20', feed, client))
    if dom:
        check(dom['severity'] == 'high' and dom['details']['c2'] is True, 'pulse tagged c2 is high')
        check(dom['counts'] == {'records': 45, 'dns': 23, 'ssl': 22}, 'beacon domain counts %s' % dom['counts'])
        check(dom['details']['matched_as'] == ['dns.query', 'ssl.server_name'], 'beacon matched_as')
        check(dom['details']['format'] == 'otx_pulse'
              and dom['details']['reference'] == 'https://otx.alienvault.com/pulse/5f1e00000000000000000001',
              'pulse context %s' % dom['details'])
        check(dom['attack'] == 'T1071.001' and dom['ports'] == [443], 'beacon attack/ports')
    if ip:
        check(ip['severity'] == 'high' and ip.get('service') == 'ssl', 'beacon ip severity/service')
        check(ip['counts']['conn'] == 22 and ip['counts']['records'] == 22, 'beacon ip counts %s' % ip['counts'])
    if shutil.which('tshark') and dom and ip:
        dns = tshark('-Y', 'dns && dns.qry.name == "testing.com"', '-e', 'udp.stream', '-e', 'dns.id', capture=BEACON)
        check(len({tuple(x) for x in dns}) == dom['counts']['dns'], 'tshark: %d lookups' % len({tuple(x) for x in dns}))
        sni = tshark('-Y', 'tls.handshake.extensions_server_name == "testing.com"', '-e', 'tcp.stream', capture=BEACON)
        check(len({x[0] for x in sni}) == dom['counts']['ssl'], 'tshark: %d TLS sessions' % len({x[0] for x in sni}))
        syn = tshark('-Y', 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.dst == 141.193.213.20', '-e',
                     'tcp.stream', capture=BEACON)
        check(len({x[0] for x in syn}) == ip['counts']['conn'], 'tshark: %d connections' % len({x[0] for x in syn}))


def main():
    trawl = sys.argv[1]
    work = tempfile.mkdtemp(prefix='trawl-intel-')
    try:
        out = os.path.join(work, 'case')
        r = analyze(trawl, out, '--intel', LIST, '--intel', FEODO)
        check(r.returncode == 0, 'exit status %d (%s)' % (r.returncode, r.stderr.strip()[-300:]))
        check('trawl analyze: intel: %s:19: not an IP, CIDR, domain, URL or hash' % LIST in r.stderr,
              'load error names file and line: %r' % r.stderr)
        check(r.stderr.count('trawl analyze: intel:') == 1, 'exactly one load error: %r' % r.stderr)

        findings = jsonl(os.path.join(out, 'findings.jsonl'))
        try:
            import jsonschema
            schema = json.load(open(SCHEMA))
            for f in findings:
                jsonschema.validate(f, schema)
        except ImportError:
            print('note: jsonschema not installed; schema not checked')
        except Exception as e:  # jsonschema.ValidationError
            check(False, 'schema: %s' % str(e)[:300])

        got = intel_findings(os.path.join(out, 'findings.jsonl'))
        expected = {
            ('208.80.152.3', 'feodo_c2.csv', HOST),
            ('208.80.152.118', 'wikipedia_list.txt', HOST),
            ('wikimedia.org', 'wikipedia_list.txt', HOST),
            ('http://www.wikipedia.org/', 'wikipedia_list.txt', HOST),
        }
        check(set(got) == expected, 'findings %s, expected %s' % (sorted(got), sorted(expected)))

        uids = set()
        for log in ('conn', 'dns', 'http'):
            uids.update(rec['uid'] for rec in jsonl(os.path.join(out, log + '.jsonl')))

        c2 = got.get(('208.80.152.3', 'feodo_c2.csv', HOST))
        if c2:
            check(c2['severity'] == 'high', 'Feodo C2 address is high: %s' % c2['severity'])
            check(c2['dst'] == ['208.80.152.3'], 'c2 dst %s' % c2['dst'])
            check(c2['counts'] == {'records': 10, 'conn': 6, 'dns': 4, 'orig_bytes': 6889, 'resp_bytes': 4402},
                  'c2 counts %s' % c2['counts'])
            check(c2['details']['matched_as'] == ['conn.resp_h', 'dns.answer'], 'c2 matched_as')
            check(c2['details']['name'] == 'Emotet' and c2['details']['format'] == 'feodo'
                  and c2['details']['c2'] is True, 'c2 source %s' % c2['details'])
            check(c2['attack'] == 'T1071' and c2['ports'] == [80], 'c2 attack/ports')
        ip = got.get(('208.80.152.118', 'wikipedia_list.txt', HOST))
        if ip:
            check(ip['severity'] == 'medium', 'listed address is medium')
            check(ip['counts'] == {'records': 1, 'conn': 1, 'orig_bytes': 525, 'resp_bytes': 232},
                  'ip counts %s' % ip['counts'])
            check(ip.get('service') == 'http', 'ip service %s' % ip.get('service'))
        dom = got.get(('wikimedia.org', 'wikipedia_list.txt', HOST))
        if dom:
            check(dom['severity'] == 'medium' and dom['confidence'] == 0.8, 'domain severity/confidence')
            check(dom['dst'] == ['bits.wikimedia.org', 'meta.wikimedia.org', 'text.pmtpa.wikimedia.org',
                                 'text.wikimedia.org', 'upload.pmtpa.wikimedia.org', 'upload.wikimedia.org'],
                  'domain dst %s' % dom['dst'])
            check(dom['counts'] == {'records': 24, 'dns': 10, 'http': 14}, 'domain counts %s' % dom['counts'])
            check(dom['details']['matched_as'] == ['dns.query', 'dns.cname', 'http.host'], 'domain matched_as')
            check(dom['attack'] == 'T1071.001', 'domain attack')
        url = got.get(('http://www.wikipedia.org/', 'wikipedia_list.txt', HOST))
        if url:
            check(url['counts'] == {'records': 1, 'http': 1} and url['dst'] == ['http://www.wikipedia.org/'],
                  'url %s %s' % (url['counts'], url['dst']))
        for f in got.values():
            check(len(f['evidence']) == len(set(f['evidence'])), 'evidence uids distinct')
            check(set(f['evidence']) <= uids, 'evidence uids are records of this run: %s' % f['evidence'])

        if shutil.which('tshark') and c2 and ip and dom and url:
            t = tshark_facts()
            check(t['conn_3'] == c2['counts']['conn'], 'tshark: %d connections to 208.80.152.3' % t['conn_3'])
            check(t['dns_answer_3'] == c2['counts']['dns'], 'tshark: %d answers with 208.80.152.3' % t['dns_answer_3'])
            check(t['conn_118'] == ip['counts']['conn'], 'tshark: %d connections to .118' % t['conn_118'])
            check(t['http_wikimedia'] == dom['counts']['http'], 'tshark: %d requests to *.wikimedia.org'
                  % t['http_wikimedia'])
            check(t['dns_wikimedia'] == dom['counts']['dns'], 'tshark: %d lookups under wikimedia.org'
                  % t['dns_wikimedia'])
            check(t['names'] == dom['dst'], 'tshark names %s' % t['names'])
            check(t['http_root_url'] == url['counts']['http'], 'tshark: %d requests for the URL' % t['http_root_url'])
        elif not shutil.which('tshark'):
            print('note: tshark not installed; counts not cross-checked')

        # Without --intel the detector stays silent; a missing feed stops the run.
        r = analyze(trawl, os.path.join(work, 'plain'))
        check(r.returncode == 0, 'plain run exit %d' % r.returncode)
        check(not any(f['id'] == 'intel.match' for f in jsonl(os.path.join(work, 'plain', 'findings.jsonl'))),
              'no intel.match without --intel')
        missing = os.path.join(work, 'no-such-feed.txt')
        r = analyze(trawl, os.path.join(work, 'missing'), '--intel', LIST, '--intel', missing)
        check(r.returncode == 2, 'missing feed exit %d' % r.returncode)
        check('trawl analyze: --intel %s: no such file or folder' % missing in r.stderr, 'missing feed message')
        check(not os.path.exists(os.path.join(work, 'missing', 'findings.jsonl')), 'nothing written')

        if os.path.exists(BEACON):
            beacon(trawl, work)
        else:
            print('skip (not here): %s' % BEACON)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print('%d failure(s)' % len(failures))
        return 1
    print('ok: intel.match findings as expected')
    return 0


if __name__ == '__main__':
    sys.exit(main())

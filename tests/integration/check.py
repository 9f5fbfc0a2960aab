#!/usr/bin/python3
"""trawl check end to end on tests/data/check/check_c2.pcap (see
make_check_pcap.py there) with a plain-list feed, the MaxMind test databases
and the fake OTX server on loopback:

  - the set of address destinations and their bytes each way equal what
    tshark sees (IP lengths per external peer), and the one name never
    connected to is a destination too
  - verdicts and reasons of the bad ones (feed IP, URL and domain, CIDR, OTX
    pulses), GeoIP columns for the addresses the test databases hold
  - only external, non-documentation indicators reach OTX; a second run with
    --offline answers from the cache with no request
  - the OTX key is in no output file, cache file or terminal output
  - every file validates (docs/schema/) and the CSVs parse
  - without a key or a GeoIP database the columns say so

usage: check.py TRAWL   (exit 77: the GeoIP test databases are missing)
"""
import csv
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import time

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, 'tests', 'data', 'check')
PCAP = os.path.join(DATA, 'check_c2.pcap')
FEED = os.path.join(DATA, 'check_feed.txt')
FIXTURE = os.path.join(DATA, 'otx_fixture.json')
GEOIP = os.path.join(ROOT, '..', 'shared', 'geoip')
FAKE_OTX = os.path.join(ROOT, 'tests', 'tools', 'otx_fake_server.py')
KEY = 'k3y-Tr4wl-0123456789abcdef-SECRET'

INTERNAL = [ipaddress.ip_network(n) for n in
            ('10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', '127.0.0.0/8', '::1/128',
             '169.254.0.0/16', 'fe80::/10')]

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print('FAIL:', what)


def internal(a, nets=None):
    ip = ipaddress.ip_address(a)
    return any(ip in n for n in (nets or INTERNAL))


def unicast(a):
    ip = ipaddress.ip_address(a)
    return not (ip.is_multicast or ip.is_unspecified or (ip.version == 4 and int(ip) >> 28 >= 14))


def tshark_peers(pcap=PCAP, nets=None):
    """External peer -> [bytes from internal, bytes to internal] from IP lengths."""
    out = subprocess.run(['tshark', '-r', pcap, '-T', 'fields', '-E', 'separator=/t', '-e', 'ip.src', '-e', 'ip.dst',
                          '-e', 'ip.len', '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'ipv6.plen'],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    peers = {}
    for line in out.splitlines():
        f = line.split('\t')
        if f[0]:
            src, dst, n = f[0], f[1], int(f[2])
        else:
            src, dst, n = f[3], f[4], int(f[5]) + 40
        if internal(src, nets) == internal(dst, nets):
            continue
        peer = dst if internal(src, nets) else src
        if not unicast(peer):
            continue
        e = peers.setdefault(str(ipaddress.ip_address(peer)), [0, 0])
        e[0 if internal(src, nets) else 1] += n
    return peers


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def validate(out):
    with open(os.path.join(ROOT, 'docs', 'schema', 'destinations.schema.json')) as f:
        dv = jsonschema.Draft202012Validator(json.load(f))
    with open(os.path.join(ROOT, 'docs', 'schema', 'findings.schema.json')) as f:
        fv = jsonschema.Draft202012Validator(json.load(f))
    n = 0
    for name, v in (('destinations.jsonl', dv), ('suspicious.jsonl', dv), ('findings.jsonl', fv)):
        for i, rec in enumerate(read_jsonl(os.path.join(out, name)), 1):
            errs = list(v.iter_errors(rec))
            check(not errs, '%s line %d: %s' % (name, i, errs[0].message if errs else ''))
            n += 1
    return n


def read_csv(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def run(trawl, args, env):
    p = subprocess.run([trawl, 'check', *args, '--no-progress'], capture_output=True, text=True, env=env, timeout=120)
    return p


def by_dest(recs):
    return {r['destination']: r for r in recs}


def otx_log(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def key_absent(out, texts):
    for t in texts:
        check(KEY not in t, 'the OTX key appears in terminal output')
    for base, _, files in os.walk(out):
        for fn in files:
            with open(os.path.join(base, fn), 'rb') as f:
                check(KEY.encode() not in f.read(), 'the OTX key appears in %s' % os.path.join(base, fn))


def main():
    trawl = sys.argv[1]
    if not os.path.exists(os.path.join(GEOIP, 'GeoLite2-City-Test.mmdb')):
        print('skipped: no GeoIP test databases in ../shared/geoip')
        sys.exit(77)
    env = {k: v for k, v in os.environ.items() if not k.startswith('TRAWL_') and k != 'XDG_CACHE_HOME'}
    with tempfile.TemporaryDirectory() as tmp:
        env['HOME'] = tmp  # the default OTX cache, if any, stays in here
        port_file = os.path.join(tmp, 'port')
        log = os.path.join(tmp, 'otx.log')
        cache = os.path.join(tmp, 'otx-cache')
        server = subprocess.Popen(['/usr/bin/python3', FAKE_OTX, '--data', FIXTURE, '--key', KEY, '--port-file',
                                   port_file, '--log', log, '--max-seconds', '120'],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 15
            while not os.path.exists(port_file) and time.monotonic() < deadline and server.poll() is None:
                time.sleep(0.05)
            if not os.path.exists(port_file):
                sys.exit('fake OTX server did not start: %s' % server.stderr.read().decode(errors='replace'))
            with open(port_file) as f:
                url = 'http://127.0.0.1:%d' % int(f.read().strip())
            out1 = os.path.join(tmp, 'out1')
            common = [PCAP, '--intel', FEED, '--geoip-dir', GEOIP, '--otx-url', url, '--otx-cache', cache]
            p = run(trawl, common + ['--otx-key', KEY, '-o', out1], env)
            print(p.stdout)
            check(p.returncode == 0, 'trawl check exit %d: %s' % (p.returncode, p.stderr))
            key_absent(out1, [p.stdout, p.stderr])
            first(out1, p.stdout, log)
            n = validate(out1)
            print('%d records valid' % n)

            # Offline: the same answers from the cache, no request.
            before = len(otx_log(log))
            out2 = os.path.join(tmp, 'out2')
            p2 = run(trawl, common + ['--otx-key', KEY, '--offline', '-o', out2], env)
            check(p2.returncode == 0, 'offline run exit %d: %s' % (p2.returncode, p2.stderr))
            check(len(otx_log(log)) == before, 'the --offline run sent %d requests' % (len(otx_log(log)) - before))
            d1, d2 = by_dest(read_jsonl(os.path.join(out1, 'destinations.jsonl'))), \
                by_dest(read_jsonl(os.path.join(out2, 'destinations.jsonl')))
            for k in d1:
                check(d2[k]['verdict'] == d1[k]['verdict'] and d2[k]['reasons'] == d1[k]['reasons'],
                      'offline %s: %s %s != %s %s' % (k, d2[k]['verdict'], d2[k]['reasons'], d1[k]['verdict'],
                                                      d1[k]['reasons']))
                check(d2[k]['otx']['status'] == d1[k]['otx']['status'], 'offline OTX status of %s' % k)
                for q in d2[k]['otx']['queries']:
                    if q['status'] == 'ok':
                        check(q['from_cache'], 'offline answer for %s not from the cache' % q['indicator'])
            check(any(q['status'] == 'ok' for q in d2['89.160.20.115']['otx']['queries']), 'offline run has no answer')
            key_absent(out2, [p2.stdout, p2.stderr])
            key_absent(cache, [])

            # No key and no GeoIP database: the columns say so.
            empty = os.path.join(tmp, 'no-geoip')
            os.mkdir(empty)
            out3 = os.path.join(tmp, 'out3')
            p3 = run(trawl, [PCAP, '--intel', FEED, '--geoip-dir', empty, '--otx-url', url, '--otx-cache', cache,
                             '-o', out3], env)
            check(p3.returncode == 0, 'no-key run exit %d: %s' % (p3.returncode, p3.stderr))
            d3 = by_dest(read_jsonl(os.path.join(out3, 'destinations.jsonl')))
            check(all(r['otx']['status'] == 'not queried (no key)' and r['otx']['queries'] == [] for r in d3.values()),
                  'without a key every OTX column says "not queried (no key)"')
            check(all(r['geo']['country_code'] == '' and r['geo']['asn'] == 0 for r in d3.values()),
                  'without a database the GeoIP columns are empty')
            check(any(line.startswith('  GeoIP: ') and '--geoip-dir' in line for line in p3.stdout.splitlines()),
                  'the missing-database hint is printed')
            check(d3['89.160.20.115']['verdict'] == 'malicious', 'the feed alone makes the C2 malicious')
            check(len(otx_log(log)) == before, 'the no-key run sent requests')
            beacon(trawl, env, tmp)
        finally:
            server.kill()
            server.wait(timeout=10)
    if failures:
        sys.exit('%d failures' % len(failures))
    print('ok')


def beacon(trawl, env, tmp):
    """A real C2 beacon capture: the detector's finding becomes evidence."""
    pcap = os.path.join(ROOT, '..', 'shared', 'pcaps', 'c2_beacon', 'beacon_https_jitter2-3s_slips.pcap')
    if not os.path.exists(pcap):
        print('beacon capture not present: part skipped')
        return
    out = os.path.join(tmp, 'beacon')
    p = run(trawl, [pcap, '--home-net', '147.32.0.0/16', '-o', out], env)
    check(p.returncode == 0, 'beacon run exit %d: %s' % (p.returncode, p.stderr))
    dests = read_jsonl(os.path.join(out, 'destinations.jsonl'))
    d = by_dest(dests)
    peers = tshark_peers(pcap, [ipaddress.ip_network('147.32.0.0/16')])
    addrs = {r['destination'] for r in dests if r['kind'] == 'address'}
    check(addrs == set(peers), 'beacon: address destinations %s != tshark %s' % (sorted(addrs), sorted(peers)))
    for a, (bout, bin_) in peers.items():
        if a in d:
            check((d[a]['bytes_out'], d[a]['bytes_in']) == (bout, bin_), 'beacon: %s bytes' % a)
    c2 = d.get('141.193.213.20', {})
    check(c2.get('verdict') == 'suspicious' and c2.get('domains') == ['testing.com'] and c2.get('conns') == 22,
          'beacon C2 %s' % {k: c2.get(k) for k in ('verdict', 'domains', 'conns')})
    check([f['id'] for f in c2.get('findings', [])] == ['beacon'] and
          c2.get('reasons', [''])[0].startswith('finding beacon (high): 147.32.80.37 \u2192 testing.com:443 every'),
          'beacon finding as the reason: %s' % c2.get('reasons'))
    check(dests[0]['destination'] == '141.193.213.20', 'beacon C2 first')
    print('beacon capture: %d destinations, %d records valid' % (len(dests), validate(out)))


def first(out, stdout, log):
    dests = read_jsonl(os.path.join(out, 'destinations.jsonl'))
    d = by_dest(dests)
    # Destinations vs tshark.
    peers = tshark_peers()
    addrs = {r['destination'] for r in dests if r['kind'] == 'address'}
    check(addrs == set(peers), 'address destinations %s != tshark %s' % (sorted(addrs), sorted(peers)))
    for a, (bout, bin_) in peers.items():
        if a in d:
            check((d[a]['bytes_out'], d[a]['bytes_in']) == (bout, bin_),
                  '%s bytes %d/%d, tshark %d/%d' % (a, d[a]['bytes_out'], d[a]['bytes_in'], bout, bin_))
    names = {r['destination'] for r in dests if r['kind'] == 'name'}
    check(names == {'xkqjzpwlv.trawl-dga-test.net'}, 'name destinations %s' % sorted(names))

    # The C2.
    c2 = d['89.160.20.115']
    check(c2['verdict'] == 'malicious', 'C2 verdict %s' % c2['verdict'])
    check(c2['conns'] == 3 and c2['conns_outbound'] == 3 and c2['direction'] == 'outbound', 'C2 connections')
    check(c2['ports'] == [80] and c2['services'] == ['http'], 'C2 ports %s services %s' % (c2['ports'], c2['services']))
    check(c2['internal_hosts'] == ['10.0.0.5'], 'C2 internal hosts %s' % c2['internal_hosts'])
    check(c2['domains'] == ['beacon.trawl-c2-test.net'], 'C2 domains %s' % c2['domains'])
    check(c2['urls'] == ['http://beacon.trawl-c2-test.net/gate.php?id=%d' % i for i in range(3)],
          'C2 urls %s' % c2['urls'])
    check(c2['geo'] == {'country_code': 'SE', 'country': 'Sweden', 'city': 'Linköping', 'asn': 29518,
                        'as_org': 'Bredband2 AB'}, 'C2 geo %s' % c2['geo'])
    hits = sorted((h['type'], h['indicator'], h['matched'], h['feed']) for h in c2['intel'])
    check(hits == [('ip', '89.160.20.115', '89.160.20.115', 'check_feed.txt'),
                   ('url', 'http://beacon.trawl-c2-test.net/gate.php?id=2',
                    'http://beacon.trawl-c2-test.net/gate.php?id=2', 'check_feed.txt')],
          'C2 intel hits %s' % hits)
    reasons = c2['reasons']
    check(any(r.startswith('intel: check_feed.txt lists ip 89.160.20.115') for r in reasons),
          'C2 ip reason %s' % reasons)
    check(any(r.startswith('intel: check_feed.txt lists url http://beacon.trawl-c2-test.net/gate.php?id=2')
              for r in reasons), 'C2 url reason')
    check('OTX: 89.160.20.115 in 2 pulses: TrawlTest C2 servers; gate.php panels (tags c2 trawl-test botnet)'
          in reasons,
          'C2 OTX IP reason %s' % reasons)
    check('OTX: beacon.trawl-c2-test.net in 1 pulse: TrawlTest C2 domains (tags c2)' in reasons, 'C2 OTX domain reason')
    check(c2['otx']['status'] == '2 pulses', 'C2 OTX status %s' % c2['otx']['status'])
    # 100 (ip) + 100 (url) + 30 (OTX, its strongest answer); the intel_match
    # detector's findings are listed but restate the same hits, so add nothing.
    check(c2['score'] == 230, 'C2 score %d' % c2['score'])
    check([f['id'] for f in c2['findings']] == ['intel.match', 'intel.match'], 'C2 findings %s' % c2['findings'])

    nx = d['xkqjzpwlv.trawl-dga-test.net']
    check(nx['verdict'] == 'malicious' and nx['dns_rcode'] == 'NXDOMAIN' and nx['conns'] == 0 and nx['lookups'] == 1
          and nx['score'] == 100 and nx['internal_hosts'] == ['10.0.0.5'],
          'blocked lookup %s' % nx)
    check(nx['reasons'][0].startswith('intel: check_feed.txt lists domain xkqjzpwlv.trawl-dga-test.net'),
          'blocked lookup reason %s' % nx['reasons'])
    scanner = d['203.0.113.66']
    check(scanner['verdict'] == 'suspicious' and scanner['direction'] == 'inbound' and scanner['score'] == 60,
          'inbound scanner %s %s %d' % (scanner['verdict'], scanner['direction'], scanner['score']))
    check(scanner['reasons'][0].startswith('intel: check_feed.txt lists cidr 203.0.113.0/24 (matched 203.0.113.66)'),
          'scanner reason %s' % scanner['reasons'])
    news = d['81.2.69.142']
    check(news['domains'] == ['news.trawl-benign-test.net'], 'SNI/DNS domain %s' % news['domains'])
    check(news['geo']['country_code'] == 'GB' and news['geo']['city'] == 'London', 'London %s' % news['geo'])
    check(news['otx']['status'] == '0 pulses' and news['intel'] == [], 'benign OTX/intel')
    for a in ('198.51.100.23', '192.0.2.123', '2001:db8:bad::1'):
        check(d[a]['otx']['queries'] == [] or all(q['status'] == 'skipped' for q in d[a]['otx']['queries']),
              'documentation address %s sent to OTX' % a)
        check(d[a]['intel'] == [], '%s has no intel' % a)
    check(d['192.0.2.123']['services'] == ['ntp'] or d['192.0.2.123']['ports'] == [123], 'NTP destination')

    # Exactly the external, sendable indicators reached OTX, each once, with the key.
    reqs = otx_log(log)
    got = sorted((r['kind'], r['value']) for r in reqs)
    want = sorted([('IPv4', '89.160.20.115'), ('IPv4', '81.2.69.142'), ('hostname', 'beacon.trawl-c2-test.net'),
                   ('hostname', 'news.trawl-benign-test.net'), ('hostname', 'xkqjzpwlv.trawl-dga-test.net')])
    check(got == want, 'OTX requests %s, want %s' % (got, want))
    check(all(r.get('key_ok') for r in reqs), 'every OTX request carried the key')

    # Order: suspicion first.
    order = [r['verdict'] for r in dests]
    rank = {'malicious': 0, 'suspicious': 1, 'unknown': 2}
    check(order == sorted(order, key=rank.get), 'destinations not sorted by suspicion: %s' % order)

    # Suspicious files and CSVs.
    sus = read_jsonl(os.path.join(out, 'suspicious.jsonl'))
    check([r['destination'] for r in sus] == [r['destination'] for r in dests if r['verdict'] != 'unknown'],
          'suspicious.jsonl holds the non-unknown destinations')
    rows = read_csv(os.path.join(out, 'destinations.csv'))
    check([r['destination'] for r in rows] == [r['destination'] for r in dests], 'destinations.csv rows')
    row = {r['destination']: r for r in rows}['89.160.20.115']
    check((row['country_code'], row['city'], row['asn'], row['as_org'], row['bytes_out'], row['verdict']) ==
          ('SE', 'Linköping', '29518', 'Bredband2 AB', str(c2['bytes_out']), 'malicious'), 'destinations.csv C2 row')
    srows = read_csv(os.path.join(out, 'suspicious.csv'))
    check([r['destination'] for r in srows] == [r['destination'] for r in sus], 'suspicious.csv rows')
    check(' | '.join(c2['reasons']) == {r['destination']: r for r in srows}['89.160.20.115']['reasons'],
          'suspicious.csv reasons')
    loc = {r['address']: r for r in read_csv(os.path.join(out, 'locations.csv'))}
    check(set(loc) == addrs, 'locations.csv addresses')
    check((loc['81.2.69.142']['country_code'], loc['81.2.69.142']['country'], loc['81.2.69.142']['city']) ==
          ('GB', 'United Kingdom', 'London'), 'locations.csv London')
    check(loc['89.160.20.115']['bytes'] == str(c2['bytes_out'] + c2['bytes_in']), 'locations.csv bytes')

    # Terminal: the C2 on the first table row, and the summary.
    lines = stdout.splitlines()
    check(len(lines) > 1 and lines[1].startswith('malicious') and '89.160.20.115' in lines[1] and
          'SE' in lines[1] and 'AS29518 Bredband2 AB' in lines[1], 'first table row: %s' % (lines[1:2],))
    check(any(line.startswith('trawl check: %d destinations' % len(dests)) and '2 malicious, 1 suspicious' in line
              for line in lines), 'summary line')


main()

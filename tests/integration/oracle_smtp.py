#!/usr/bin/python3
"""tshark as the oracle for smtp.jsonl and the SMTP lines of auth.jsonl.

    oracle_smtp.py TRAWL CAPTURE... [--min-rcpt N] [--min-auth N]
                   [--min-attachments N] [--keep]

For each capture it runs `TRAWL analyze CAPTURE -o TMPDIR` and compares, per
connection (client address and port, server address and port):

  mailfrom     the sequence of MAIL FROM addresses tshark decodes
               (smtp.req.command MAIL, the address in smtp.req.parameter)
               equals the sequence of `mailfrom` of trawl's records (one
               record per transaction, in order; a null sender "<>" has no
               address on either side);
  rcptto       the set of RCPT TO addresses equals the union of trawl's
               `rcptto` arrays;
  auth         every AUTH command tshark shows is one auth.jsonl record, in
               order: method "AUTH <mechanism>", the user decoded from the
               client's base64 response (LOGIN: the first response; PLAIN:
               the authcid of "authzid NUL authcid NUL password"; CRAM-MD5:
               the name before the digest) and the outcome from the first
               reply code after the command that is not 334 (2xx success,
               4xx/5xx failure);

and per capture:

  attachments  the client bytes of every SMTP stream as tshark reassembles
               them (`-z follow,tcp,raw`) give each message sent after DATA
               (up to CRLF.CRLF, dot-stuffing removed); Python's email
               package walks it, and every part with a file name (or
               Content-Disposition: attachment) gives (name, MIME type,
               decoded size), the size being the length of the part's
               transfer-decoded payload. That multiset equals the one from
               trawl's `attachments` arrays.
  subjects     the multiset of decoded Subject headers of those messages
               equals trawl's `subject` values;
  to, cc       the multiset of (number of distinct To addresses, number of
               distinct Cc addresses) per message (email.utils.getaddresses)
               equals trawl's (len(to), len(cc)) per record with a message.

--min-* make a capture that yields nothing on both sides fail instead of
passing vacuously. Exit status 0 when every capture agrees, 1 otherwise.
"""

import argparse
import base64
import binascii
import collections
import email
import email.header
import email.policy
import email.utils
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET


def addr_of(param):
    """The address in a MAIL/RCPT parameter ("FROM: <a@b> SIZE=1" -> a@b)."""
    m = re.search(r'<([^>]*)>', param)
    if m:
        return m.group(1).strip()
    after = param.split(':', 1)[1] if ':' in param else param
    parts = after.split()
    return parts[0] if parts else ''


def b64text(s):
    try:
        return base64.b64decode(s.strip(), validate=False)
    except (binascii.Error, ValueError):
        return None


def sasl_user(mech, responses):
    """The user name in the client's decoded SASL responses, as the RFCs define them."""
    if not responses or responses[0] is None:
        return ''
    first = responses[0]
    if mech == 'LOGIN':
        return first.decode('utf-8', 'replace')
    if mech == 'PLAIN':
        parts = first.split(b'\0')
        if len(parts) >= 3:
            return (parts[1] or parts[0]).decode('utf-8', 'replace')
        return ''
    if mech == 'CRAM-MD5':
        return first.rsplit(b' ', 1)[0].decode('utf-8', 'replace') if b' ' in first else ''
    return ''


def tshark_sessions(capture):
    """Per connection key: MAIL FROM list, RCPT TO set, AUTH attempts."""
    p = subprocess.run(['tshark', '-r', capture, '-Y', 'smtp', '-T', 'pdml'], capture_output=True, check=True)
    sessions = collections.defaultdict(lambda: {'mail': [], 'rcpt': set(), 'auth': []})
    streams = set()
    open_auth = {}  # key -> attempt awaiting its final reply
    root = ET.fromstring(p.stdout)
    for packet in root.iter('packet'):
        src = dst = sport = dport = None
        smtp = None
        for proto in packet.findall('proto'):
            name = proto.get('name')
            for f in proto.iter('field'):
                n = f.get('name')
                if n in ('ip.src', 'ipv6.src'):
                    src = f.get('show')
                elif n in ('ip.dst', 'ipv6.dst'):
                    dst = f.get('show')
                elif n == 'tcp.srcport':
                    sport = int(f.get('show'))
                elif n == 'tcp.dstport':
                    dport = int(f.get('show'))
                elif n == 'tcp.stream':
                    streams.add(int(f.get('show')))
            if name == 'smtp':
                smtp = proto
        if smtp is None:
            continue
        for f in smtp.iter('field'):
            n = f.get('name')
            if n == 'smtp.command_line':
                key = (src, sport, dst, dport)
                cmd = param = ''
                for c in f.iter('field'):
                    if c.get('name') == 'smtp.req.command':
                        cmd = c.get('show').upper()
                    elif c.get('name') == 'smtp.req.parameter':
                        param = c.get('show')
                s = sessions[key]
                if cmd == 'MAIL' and param.upper().startswith('FROM:'):
                    s['mail'].append(addr_of(param))
                elif cmd == 'RCPT' and param.upper().startswith('TO:'):
                    a = addr_of(param)
                    if a:
                        s['rcpt'].add(a)
                elif cmd == 'AUTH':
                    words = param.split()
                    mech = words[0].upper() if words else ''
                    att = {'method': 'AUTH ' + mech, 'mech': mech, 'responses': [], 'outcome': 'unknown'}
                    if len(words) > 1 and words[1] != '=':
                        att['responses'].append(b64text(words[1]))
                    s['auth'].append(att)
                    open_auth[key] = att
            elif n in ('smtp.auth.username', 'smtp.auth.password', 'smtp.auth.username_password'):
                key = (src, sport, dst, dport)
                att = open_auth.get(key)
                if att is not None:
                    att['responses'].append(b64text(f.get('show')))
            elif n == 'smtp.response.code':
                key = (dst, dport, src, sport)  # a reply: the client is the destination
                att = open_auth.get(key)
                if att is None:
                    continue
                code = int(f.get('show'))
                if code == 334:
                    continue
                att['outcome'] = 'success' if code // 100 == 2 else 'failure' if code // 100 in (4, 5) else 'unknown'
                del open_auth[key]
    for s in sessions.values():
        for att in s['auth']:
            att['user'] = sasl_user(att['mech'], att['responses'])
    return sessions, streams


def client_streams(capture, streams):
    """The client bytes of each TCP stream, reassembled by tshark (follow,tcp,raw).

    Node 0 of a follow is the endpoint that sent the stream's first packet; the
    client is taken to be the node that is not on port 25/587/2525 when that is
    clear, else node 0."""
    if not streams:
        return []
    cmd = ['tshark', '-r', capture, '-q']
    for n in sorted(streams):
        cmd += ['-z', 'follow,tcp,raw,%d' % n]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout.decode('ascii', 'replace')
    result = []
    for block in out.split('Follow: tcp,raw')[1:]:
        nodes = re.findall(r'^Node (\d): (.*):(\d+)$', block, re.M)
        ports = {int(n): int(port) for n, _, port in nodes}
        client = 1 if ports.get(0) in (25, 587, 2525) and ports.get(1) not in (25, 587, 2525) else 0
        data = []
        for line in block.split('\n'):
            if not re.fullmatch(r'\t?[0-9a-f]+', line):
                continue
            node = 1 if line.startswith('\t') else 0
            if node == client:
                data.append(binascii.unhexlify(line.strip()))
        result.append(b''.join(data))
    return result


def messages_in(client_bytes):
    """Message contents the client sent after DATA (dot-stuffing removed)."""
    msgs = []
    pos = 0
    while True:
        m = re.compile(rb'(?:^|\r?\n)DATA\r?\n', re.I).search(client_bytes, pos)
        if not m:
            return msgs
        start = m.end()
        end = client_bytes.find(b'\r\n.\r\n', start - 2)
        if end < 0:
            body, pos = client_bytes[start:], len(client_bytes)
        else:
            body, pos = client_bytes[start:end + 2], end + 5
        msgs.append(re.sub(rb'(?m)^\.', b'', body))


def tshark_messages(capture, streams):
    """(subjects, attachments) of the messages in tshark's reassembled streams.

    tshark's own IMF export is not used: its DATA reassembly repeats bytes when
    a capture retransmits with different segment boundaries (it does on
    smtp_authlogin_attachment_zeek.pcap); follow,tcp uses TCP reassembly."""
    subjects, attachments, recipients = collections.Counter(), collections.Counter(), collections.Counter()
    for data in client_streams(capture, streams):
        for raw in messages_in(data):
            msg = email.message_from_bytes(raw, policy=email.policy.compat32)
            counts = []
            for field in ('To', 'Cc'):
                values = msg.get_all(field) or []
                counts.append(len(set(email.utils.getaddresses(values))) if values else 0)
            recipients[tuple(counts)] += 1
            if msg['Subject'] is not None:
                parts = email.header.decode_header(msg['Subject'])
                text = ''.join(p.decode(cs or 'ascii', 'replace') if isinstance(p, bytes) else p for p, cs in parts)
                subjects[text] += 1
            for part in msg.walk():
                if part.is_multipart():
                    continue
                name = part.get_filename()
                disp = (part.get('Content-Disposition') or '').split(';')[0].strip().lower()
                if name is None and disp != 'attachment':
                    continue
                payload = part.get_payload(decode=True) or b''
                attachments[(name or '', part.get_content_type(), len(payload))] += 1
    return subjects, attachments, recipients


def trawl_logs(trawl, capture, out):
    subprocess.run([trawl, 'analyze', capture, '-o', out], capture_output=True, check=True)

    def load(name):
        path = os.path.join(out, name)
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    return load('smtp.jsonl'), [r for r in load('auth.jsonl') if r.get('proto') == 'smtp']


def check(trawl, capture, args):
    tmp = tempfile.mkdtemp(prefix='oracle-smtp-')
    errors = []
    try:
        sessions, streams = tshark_sessions(capture)
        subjects, attachments, recipients = tshark_messages(capture, streams)
        smtp, auth = trawl_logs(trawl, capture, os.path.join(tmp, 'out'))

        mine = collections.defaultdict(lambda: {'mail': [], 'rcpt': set(), 'auth': []})
        for r in sorted(smtp, key=lambda r: (r['ts'], r['trans_depth'])):
            key = (r['id.orig_h'], r['id.orig_p'], r['id.resp_h'], r['id.resp_p'])
            if 'mailfrom' in r:
                mine[key]['mail'].append(r['mailfrom'])
            mine[key]['rcpt'].update(r.get('rcptto', []))
        for a in sorted(auth, key=lambda r: r['ts']):
            key = (a['id.orig_h'], a['id.orig_p'], a['id.resp_h'], a['id.resp_p'])
            mine[key]['auth'].append((a.get('method'), a.get('user'), a.get('outcome')))

        n_mail = n_rcpt = n_auth = 0
        for key in sorted(set(sessions) | set(mine), key=str):
            want, have = sessions.get(key), mine.get(key)
            want_mail = [m for m in (want['mail'] if want else []) if m]
            want_rcpt = want['rcpt'] if want else set()
            want_auth = [(a['method'], a['user'], a['outcome']) for a in want['auth']] if want else []
            have = have or {'mail': [], 'rcpt': set(), 'auth': []}
            conn = '%s:%s -> %s:%s' % key
            if want_mail != have['mail']:
                errors.append('%s: MAIL FROM tshark %s, trawl %s' % (conn, want_mail[:5], have['mail'][:5]))
            if want_rcpt != have['rcpt']:
                only_t = sorted(want_rcpt - have['rcpt'])[:5]
                only_m = sorted(have['rcpt'] - want_rcpt)[:5]
                errors.append('%s: RCPT TO differ (%d vs %d); only tshark %s, only trawl %s'
                              % (conn, len(want_rcpt), len(have['rcpt']), only_t, only_m))
            if want_auth != have['auth']:
                errors.append('%s: AUTH tshark %s, trawl %s' % (conn, want_auth, have['auth']))
            n_mail += len(want_mail)
            n_rcpt += len(want_rcpt)
            n_auth += len(want_auth)

        my_att = collections.Counter()
        my_subj = collections.Counter()
        for r in smtp:
            for a in r.get('attachments', []):
                my_att[(a['name'], a['mime_type'], a['size'])] += 1
            if 'subject' in r:
                my_subj[r['subject']] += 1
        if my_att != attachments:
            errors.append('attachments: tshark+email %s, trawl %s' % (sorted(attachments.items()), sorted(my_att.items())))
        my_rcpt = collections.Counter()
        for r in smtp:
            if 'subject' in r or 'date' in r or 'from' in r:  # records with a message
                my_rcpt[(len(r.get('to', [])), len(r.get('cc', [])))] += 1
        if my_rcpt != recipients:
            errors.append('To/Cc address counts per message: email %s, trawl %s'
                          % (sorted(recipients.items()), sorted(my_rcpt.items())))
        if my_subj != subjects:
            errors.append('subjects: tshark %s, trawl %s' % (sorted(subjects.items())[:5], sorted(my_subj.items())[:5]))

        n_att = sum(attachments.values())
        if n_rcpt < args.min_rcpt:
            errors.append('only %d RCPT TO addresses (expected at least %d)' % (n_rcpt, args.min_rcpt))
        if n_auth < args.min_auth:
            errors.append('only %d AUTH attempts (expected at least %d)' % (n_auth, args.min_auth))
        if n_att < args.min_attachments:
            errors.append('only %d attachments (expected at least %d)' % (n_att, args.min_attachments))
        status = 'FAIL' if errors else 'ok  '
        print('%s %s: %d MAIL FROM, %d RCPT TO, %d AUTH %s, %d attachments %s, %d subjects, To/Cc %s, '
              '%d smtp records'
              % (status, os.path.basename(capture), n_mail, n_rcpt, n_auth,
                 [(x['method'], x['outcome']) for s in sessions.values() for x in s['auth']],
                 n_att, sorted(attachments), sum(subjects.values()), sorted(recipients), len(smtp)))
        for e in errors:
            print('     ' + e)
    finally:
        if args.keep:
            print('     kept ' + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return not errors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('trawl')
    ap.add_argument('captures', nargs='+')
    ap.add_argument('--min-rcpt', type=int, default=0)
    ap.add_argument('--min-auth', type=int, default=0)
    ap.add_argument('--min-attachments', type=int, default=0)
    ap.add_argument('--keep', action='store_true')
    args = ap.parse_args()
    ok = True
    for cap in args.captures:
        ok = check(args.trawl, cap, args) and ok
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/python3
"""tshark as the oracle for smb.jsonl and the SMB lines of auth.jsonl.

    oracle_smb.py TRAWL CAPTURE...

For each capture, runs `trawl analyze` and tshark (fields only), then checks
per connection (keyed by the client port):

  commands   the multiset of (version, command, NT status) of every
             request/response pair tshark shows, after trawl's logging policy
             (READ/WRITE/CLOSE only on pipes; FLUSH, LOCK, ECHO, CANCEL,
             QUERY/SET_INFO, QUERY_DIRECTORY, CHANGE_NOTIFY, OPLOCK_BREAK,
             secondaries never), equals trawl's SMB records (unanswered
             requests: no status on either side)
  negotiate  SMB1 dialect lists and Process ID High; SMB2 offered dialects
             and the selected one
  trees      the paths of TREE_CONNECT requests
  files      the names of CREATE / NT_CREATE_ANDX requests
  logins     (user, domain, workstation) of each NTLMSSP AUTHENTICATE and
             (account, domain) of each SMB1 plain session setup; auth.jsonl
             has one line per login with the outcome of its response
  dce/rpc    interfaces (uuid, version) of each BIND, the first result of
             each BIND_ACK, the opnum of each REQUEST (first fragment), the
             number of FAULTs
  sanity     tshark reports no malformed SMB/DCE-RPC packet

Exit status 0 when everything agrees; prints the figures compared.
"""

import collections
import json
import os
import subprocess
import sys
import tempfile

SEP = "\x1f"

SMB1_NAMES = {
    0x04: "CLOSE", 0x25: "TRANSACTION", 0x2E: "READ_ANDX", 0x2F: "WRITE_ANDX", 0x32: "TRANSACTION2",
    0x71: "TREE_DISCONNECT", 0x72: "NEGOTIATE", 0x73: "SESSION_SETUP_ANDX", 0x74: "LOGOFF_ANDX",
    0x75: "TREE_CONNECT_ANDX", 0xA0: "NT_TRANSACT", 0xA2: "NT_CREATE_ANDX", 0x2D: "OPEN_ANDX",
}
SMB2_NAMES = ["NEGOTIATE_PROTOCOL", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT", "CREATE",
              "CLOSE", "FLUSH", "READ", "WRITE", "LOCK", "IOCTL", "CANCEL", "ECHO", "QUERY_DIRECTORY",
              "CHANGE_NOTIFY", "QUERY_INFO", "SET_INFO", "OPLOCK_BREAK"]
SMB1_CHATTER = {0x05, 0x0A, 0x0B, 0x12, 0x13, 0x14, 0x1A, 0x1D, 0x22, 0x23, 0x24, 0x26, 0x2B, 0x2C, 0x33, 0x34,
                0xA1, 0xA4}
SMB2_CHATTER = {7, 10, 12, 13, 14, 15, 16, 17, 18}
SMB1_PIPE_ONLY = {0x04, 0x2E, 0x2F}
SMB2_PIPE_ONLY = {6, 8, 9}
DIALECTS2 = {0x0202: "SMB 2.0.2", 0x0210: "SMB 2.1", 0x0300: "SMB 3.0", 0x0302: "SMB 3.0.2", 0x0311: "SMB 3.1.1",
             0x02FF: "SMB 2.???"}

SMB_FIELDS = ["frame.number", "tcp.srcport", "tcp.dstport", "smb.cmd", "smb.flags.response", "smb.mid", "smb.pid",
              "smb.pid.high", "smb.nt_status", "smb.error_class", "smb.error_code", "smb.path", "smb.file",
              "smb.dialect.name", "smb.account", "smb.primary_domain", "smb.security_blob", "smb.ansi_pwlen",
              "smb.pwlen",
              "smb2.cmd", "smb2.flags.response", "smb2.msg_id", "smb2.nt_status", "smb2.tree", "smb2.filename",
              "smb2.dialect", "smb2.share_type", "smb2.flags.async",
              "ntlmssp.messagetype", "ntlmssp.auth.username", "ntlmssp.auth.domain", "ntlmssp.auth.hostname"]
DCE_FIELDS = ["frame.number", "tcp.srcport", "tcp.dstport", "dcerpc.pkt_type", "dcerpc.cn_call_id",
              "dcerpc.cn_bind_to_uuid", "dcerpc.cn_bind_if_ver", "dcerpc.cn_bind_if_ver_minor", "dcerpc.opnum",
              "dcerpc.cn_ack_result", "dcerpc.cn_flags.first_frag"]


def tshark(cap, display_filter, fields):
    cmd = ["tshark", "-r", cap, "-o", "tcp.desegment_tcp_streams:TRUE", "-Y", display_filter, "-T", "fields",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=" + SEP]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        vals = line.split("\t")
        vals += [""] * (len(fields) - len(vals))
        rows.append({f: (v.split(SEP) if v else []) for f, v in zip(fields, vals)})
    return rows


def num(v):
    return int(v, 0)


def first(row, f, default=""):
    return row[f][0] if row[f] else default


def tshark_user(v):
    return "" if v == "NULL" else v


class Conn:
    def __init__(self):
        self.pending = collections.OrderedDict()  # key -> (version, [(code, pipe)])
        self.pairs = []       # (version, name, status or None)
        self.unmatched = []
        self.neg1 = []        # (dialects, pid_high)
        self.neg2 = []        # offered names
        self.neg2_sel = []
        self.trees = []
        self.files = []
        self.logins = []      # (user, domain, host)
        self.login_status = []


def expected(cap):
    conns = collections.defaultdict(Conn)
    for r in tshark(cap, "smb || smb2", SMB_FIELDS):
        sport, dport = num(first(r, "tcp.srcport")), num(first(r, "tcp.dstport"))
        if r["smb.cmd"]:
            resp = first(r, "smb.flags.response") in ("1", "True")
            client = dport if resp else sport
            c = conns[client]
            key = ("1", num(first(r, "smb.mid")), num(first(r, "smb.pid", "0")))
            codes = [num(x) for x in r["smb.cmd"] if num(x) != 0xFF]
            pipe = first(r, "smb.path").upper().endswith("IPC$")
            if not resp:
                if codes and codes[0] == 0x72:
                    c.neg1.append((r["smb.dialect.name"], num(first(r, "smb.pid.high", "0"))))
                if codes and codes[0] == 0x75:
                    c.trees.append(first(r, "smb.path"))
                if codes and codes[0] == 0xA2:
                    c.files.append(first(r, "smb.file"))
                is_auth = False
                if codes and codes[0] == 0x73:
                    plain = bool(r["smb.ansi_pwlen"] or r["smb.pwlen"]) and not r["smb.security_blob"]
                    is_auth = plain or bool(r["ntlmssp.auth.username"] or r["ntlmssp.auth.hostname"])
                    if plain:
                        c.logins.append((first(r, "smb.account"), first(r, "smb.primary_domain"), ""))
                c.pending[key] = ("SMB1", [(x, pipe) for x in codes], is_auth)
            else:
                if r["smb.nt_status"]:
                    status = num(first(r, "smb.nt_status"))
                else:
                    status = num(first(r, "smb.error_class", "0")) | (num(first(r, "smb.error_code", "0")) << 16)
                if key in c.pending:
                    _, cmds, is_auth = c.pending.pop(key)
                    for code, pipe0 in cmds:
                        c.pairs.append(("SMB1", code, pipe0 or pipe, status))
                    if is_auth:
                        c.login_status.append(status)
                else:
                    for code in codes:
                        c.unmatched.append(("SMB1", code, pipe, status))
        if r["smb2.cmd"]:
            n = len(r["smb2.cmd"])
            for i in range(n):
                def at(f, default=""):
                    v = r[f]
                    return v[i] if len(v) == n else (v[0] if v else default)
                code = num(r["smb2.cmd"][i])
                resp = at("smb2.flags.response") in ("1", "True")
                client = dport if resp else sport
                c = conns[client]
                mid = num(at("smb2.msg_id"))
                key = ("2", mid)
                pipe = at("smb2.share_type") in ("0x02", "2")
                if not resp:
                    if code == 0:
                        c.neg2.append([DIALECTS2.get(num(d), "0x%04x" % num(d)) for d in r["smb2.dialect"]])
                    if code == 3:
                        c.trees.append(at("smb2.tree"))
                    if code == 5 and at("smb2.filename"):
                        c.files.append(at("smb2.filename"))
                    is_auth = code == 1 and bool(r["ntlmssp.auth.username"] or r["ntlmssp.auth.hostname"])
                    if code != 12:
                        c.pending[key] = ("SMB2", [(code, pipe)], is_auth)
                    continue
                status = num(at("smb2.nt_status", "0"))
                if status == 0x103 and at("smb2.flags.async") in ("1", "True"):
                    continue
                if key in c.pending:
                    _, cmds, is_auth = c.pending.pop(key)
                    for code0, pipe0 in cmds:
                        c.pairs.append(("SMB2", code0, pipe0 or pipe, status))
                    if is_auth:
                        c.login_status.append(status)
                    if code == 0:
                        c.neg2_sel.append(DIALECTS2.get(num(first(r, "smb2.dialect")), ""))
                elif code == 0:
                    # The SMB2 answer to an SMB1 multi-protocol negotiate.
                    k1 = next((k for k, v in c.pending.items() if v[0] == "SMB1" and v[1][0][0] == 0x72), None)
                    if k1 is not None:
                        c.pending.pop(k1)
                        c.pairs.append(("SMB1", 0x72, False, status))
                else:
                    c.unmatched.append(("SMB2", code, pipe, status))
        if r["ntlmssp.auth.username"] or r["ntlmssp.auth.hostname"]:
            client = sport
            conns[client].logins.append((tshark_user(first(r, "ntlmssp.auth.username")),
                                         tshark_user(first(r, "ntlmssp.auth.domain")),
                                         tshark_user(first(r, "ntlmssp.auth.hostname"))))
    for c in conns.values():
        for key, (ver, cmds, is_auth) in c.pending.items():
            for code, pipe in cmds:
                c.pairs.append((ver, code, pipe, None))
            if is_auth:
                c.login_status.append(None)
        c.pending.clear()
    return conns


def logged(ver, code, pipe):
    if ver == "SMB1":
        return code not in SMB1_CHATTER and (code not in SMB1_PIPE_ONLY or pipe)
    return code not in SMB2_CHATTER and (code not in SMB2_PIPE_ONLY or pipe)


def name(ver, code):
    if ver == "SMB1":
        return SMB1_NAMES.get(code, "0x%04x" % code)
    return SMB2_NAMES[code] if code < len(SMB2_NAMES) else "0x%04x" % code


def dce_expected(cap):
    out = collections.defaultdict(lambda: {"binds": [], "acks": [], "opnums": [], "faults": 0})
    for r in tshark(cap, "dcerpc", DCE_FIELDS):
        sport, dport = num(first(r, "tcp.srcport")), num(first(r, "tcp.dstport"))
        for i, t in enumerate(r["dcerpc.pkt_type"]):
            t = num(t)
            client = sport if t in (0, 11, 14) else dport
            d = out[client]
            if t in (11, 14):
                uuids = r["dcerpc.cn_bind_to_uuid"]
                vers = r["dcerpc.cn_bind_if_ver"]
                minors = r["dcerpc.cn_bind_if_ver_minor"]
                seen = []
                for k, u in enumerate(uuids):
                    v = (u, "%s.%s" % (vers[k] if k < len(vers) else "0", minors[k] if k < len(minors) else "0"))
                    if v not in seen:
                        seen.append(v)
                d["binds"] += seen
            elif t in (12, 15):
                if r["dcerpc.cn_ack_result"]:
                    d["acks"].append(num(r["dcerpc.cn_ack_result"][0]))
            elif t == 0:
                ff = r["dcerpc.cn_flags.first_frag"]
                if not ff or ff[min(i, len(ff) - 1)] in ("1", "True"):
                    d["opnums"].append(num(r["dcerpc.opnum"][min(i, len(r["dcerpc.opnum"]) - 1)]))
            elif t == 3:
                d["faults"] += 1
    return out


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def check(trawl, cap, totals):
    problems = []
    with tempfile.TemporaryDirectory(prefix="oracle-smb-") as tmp:
        out = os.path.join(tmp, "out")
        r = subprocess.run([trawl, "analyze", cap, "-o", out], capture_output=True, text=True)
        if r.returncode != 0:
            return [f"trawl exited {r.returncode}: {r.stderr.strip()[:500]}"]
        smb = read_jsonl(os.path.join(out, "smb.jsonl"))
        auth = [a for a in read_jsonl(os.path.join(out, "auth.jsonl")) if a.get("proto") == "smb"]
    malformed = subprocess.run(["tshark", "-r", cap, "-Y", "(smb || smb2 || dcerpc || ntlmssp) && _ws.malformed"],
                               capture_output=True, text=True).stdout.strip()
    if malformed:
        problems.append("tshark reports malformed packets:\n" + malformed[:800])

    exp = expected(cap)
    dce = dce_expected(cap)
    by_conn = collections.defaultdict(list)
    for rec in smb:
        by_conn[rec["id.orig_p"]].append(rec)
    auth_by_conn = collections.defaultdict(list)
    for a in auth:
        auth_by_conn[a["id.orig_p"]].append(a)

    for client in sorted(set(exp) | set(by_conn) | set(dce)):
        recs = by_conn.get(client, [])
        c = exp.get(client, Conn())
        smb_recs = [x for x in recs if not x["command"].startswith("DCE_RPC_")]
        want = collections.Counter()
        for ver, code, pipe, status in c.pairs:
            if logged(ver, code, pipe):
                want[(ver, name(ver, code), None if status is None else "0x%08x" % status, False)] += 1
        for ver, code, pipe, status in c.unmatched:
            if logged(ver, code, pipe) and code not in (SMB1_PIPE_ONLY if ver == "SMB1" else SMB2_PIPE_ONLY):
                want[(ver, name(ver, code), "0x%08x" % status, True)] += 1
        have = collections.Counter((x["version"], x["command"], x.get("status_code"),
                                    bool(x.get("unmatched_response"))) for x in smb_recs)
        if want != have:
            problems.append(f"port {client}: commands differ: tshark-only {dict(want - have)}, "
                            f"trawl-only {dict(have - want)}")
        totals["commands"] += sum(want.values())

        neg1 = [(x["dialects"], x["pid_high"]) for x in smb_recs if x["command"] == "NEGOTIATE"]
        if sorted(map(repr, neg1)) != sorted(map(repr, [(list(d), p) for d, p in c.neg1])):
            problems.append(f"port {client}: SMB1 negotiate differs: tshark {c.neg1}, trawl {neg1}")
        neg2 = [x.get("dialects", []) for x in smb_recs if x["command"] == "NEGOTIATE_PROTOCOL"]
        if sorted(map(repr, neg2)) != sorted(map(repr, c.neg2)):
            problems.append(f"port {client}: SMB2 dialects differ: tshark {c.neg2}, trawl {neg2}")
        sel2 = [x["dialect"] for x in smb_recs if x["command"] == "NEGOTIATE_PROTOCOL" and "dialect" in x]
        if sorted(sel2) != sorted(c.neg2_sel):
            problems.append(f"port {client}: SMB2 selected dialect differs: tshark {c.neg2_sel}, trawl {sel2}")
        totals["negotiates"] += len(c.neg1) + len(c.neg2)

        trees = sorted(x["tree"] for x in smb_recs if x["command"] in ("TREE_CONNECT_ANDX", "TREE_CONNECT"))
        if trees != sorted(c.trees):
            problems.append(f"port {client}: tree paths differ: tshark {sorted(c.trees)}, trawl {trees}")
        totals["trees"] += len(c.trees)
        files = sorted(x["name"] for x in smb_recs if x["command"] in ("NT_CREATE_ANDX", "CREATE") and "name" in x)
        if files != sorted(c.files):
            problems.append(f"port {client}: create names differ: tshark {sorted(c.files)}, trawl {files}")
        totals["files"] += len(c.files)

        logins = sorted((x.get("username", ""), x.get("domainname", ""), x.get("hostname", ""))
                        for x in smb_recs if "username" in x and x["command"].startswith("SESSION_SETUP"))
        if logins != sorted(c.logins):
            problems.append(f"port {client}: logins differ: tshark {sorted(c.logins)}, trawl {logins}")
        alines = auth_by_conn.get(client, [])
        outcomes = ["unknown" if s is None else "success" if s == 0 else "failure" if (s >> 30) == 3 else "unknown"
                    for s in c.login_status]
        if sorted(a["outcome"] for a in alines) != sorted(outcomes) or len(alines) != len(c.logins):
            problems.append(f"port {client}: auth.jsonl differs: {len(c.logins)} logins with outcomes {outcomes}, "
                            f"trawl {[(a['user'], a['outcome']) for a in alines]}")
        totals["logins"] += len(c.logins)

        d = dce.get(client, {"binds": [], "acks": [], "opnums": [], "faults": 0})
        binds = sorted((x.get("uuid", ""), x.get("uuid_version", "")) for x in recs
                       if x["command"] in ("DCE_RPC_BIND", "DCE_RPC_ALTER_CONTEXT"))
        if binds != sorted(d["binds"]):
            problems.append(f"port {client}: DCE/RPC binds differ: tshark {sorted(d['binds'])}, trawl {binds}")
        acks = sorted({"acceptance": 0, "user_rejection": 1, "provider_rejection": 2}.get(x["bind_result"], -1)
                      for x in recs if "bind_result" in x)
        if acks != sorted(d["acks"]):
            problems.append(f"port {client}: bind results differ: tshark {d['acks']}, trawl {acks}")
        opnums = sorted(x["opnum"] for x in recs if x["command"] == "DCE_RPC_REQUEST")
        if opnums != sorted(d["opnums"]):
            problems.append(f"port {client}: DCE/RPC opnums differ: tshark {sorted(d['opnums'])}, trawl {opnums}")
        faults = sum(1 for x in recs if "fault" in x)
        if faults != d["faults"]:
            problems.append(f"port {client}: DCE/RPC faults differ: tshark {d['faults']}, trawl {faults}")
        for x in recs:
            if x["command"] == "DCE_RPC_REQUEST" and x.get("uuid") and (x["uuid"], x["uuid_version"]) not in binds:
                problems.append(f"port {client}: request interface {x['uuid']} was not bound")
        totals["binds"] += len(d["binds"])
        totals["requests"] += len(d["opnums"])
        totals["connections"] += 1
    return problems


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    trawl = sys.argv[1]
    totals = collections.Counter()
    failed = False
    for cap in sys.argv[2:]:
        problems = check(trawl, cap, totals)
        status = "ok" if not problems else "FAIL"
        print(f"{status} {os.path.basename(cap)}")
        for p in problems:
            print("    " + p)
        failed = failed or bool(problems)
    print("compared: " + ", ".join(f"{k} {totals[k]}" for k in
                                   ("connections", "commands", "negotiates", "trees", "files", "logins", "binds",
                                    "requests")))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

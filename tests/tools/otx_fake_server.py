#!/usr/bin/env python3
"""A fake AlienVault OTX DirectConnect server on loopback, for tests.

Answers GET /api/v1/indicators/{IPv4,IPv6,domain,hostname,url}/{value}/general
in the shape of OTX's real /general answers, from a JSON fixture. It listens
on 127.0.0.1 only, on a port the kernel chooses, and stops by itself after
--max-seconds.

Usage:
  otx_fake_server.py --data FIXTURE.json --key KEY [--port-file FILE]
                     [--log FILE] [--max-seconds 300]

  --port-file FILE  the chosen port is written there (atomically: the file
                    appears complete) and also printed on stdout
  --log FILE        one JSON line per request, appended and flushed:
                    {"kind", "value" (decoded), "path" (raw, as sent),
                     "status" (answered), "key_ok", "concurrent" (requests
                     of the same fixture "group" in progress when this one
                     arrived, itself included)}
                    The key header is never logged.

Fixture: a JSON object mapping an indicator value to what the server does
for it (an optional top level {"indicators": {...}} is accepted too):
  {
    "c2.example.com": {
      "pulses": [{"id": "...", "name": "...", "tags": [...],
                  "created": "...", "modified": "...", "adversary": "...",
                  "malware_families": ["Emotet", {"id": "x", "display_name": "X"}]}],
      "count": 3,                 # pulse_info.count (default: len(pulses))
      "kind": "domain",           # answer only under this kind (default: any)
      "fail": {"status": 429, "times": 2, "retry_after": 1},
                                  # the first `times` requests get `status`
                                  # (429, 500, 503...), with Retry-After when
                                  # retry_after is given; then the normal answer
      "delay": 2.0,               # seconds to wait before every answer
      "group": "par",             # requests are counted in "concurrent" per group
      "status": 404,              # always this status (404, 400...), OTX-style body
      "body": "raw text"          # answer 200 with this body instead of JSON
    }
  }
Values not in the fixture answer 200 with no pulses, as OTX does for a valid
indicator it knows nothing about. A value that is not a valid address for
IPv4/IPv6 gets 400, an unknown kind or path 404, a wrong or missing
X-OTX-API-KEY 403.
"""

import argparse
import ipaddress
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = ("IPv4", "IPv6", "domain", "hostname", "url")

# Defaults that make a fixture pulse look like a real OTX one.
PULSE_DEFAULTS = {
    "description": "",
    "modified": "2024-01-01T00:00:00.000000",
    "created": "2024-01-01T00:00:00.000000",
    "tags": [],
    "references": [],
    "public": 1,
    "adversary": "",
    "targeted_countries": [],
    "malware_families": [],
    "attack_ids": [],
    "industries": [],
    "TLP": "white",
    "cloned_from": None,
    "export_count": 0,
    "upvotes_count": 0,
    "downvotes_count": 0,
    "votes_count": 0,
    "locked": False,
    "pulse_source": "web",
    "validator_count": 0,
    "comment_count": 0,
    "follower_count": 0,
    "vote": 0,
    "author": {"username": "fixture", "id": "1", "avatar_url": "", "is_subscribed": False,
               "is_following": False},
    "indicator_type_counts": {},
    "indicator_count": 1,
    "is_author": False,
    "is_subscribing": None,
    "subscriber_count": 0,
    "modified_text": "",
    "is_modified": False,
    "groups": [],
    "in_group": False,
    "threat_hunter_scannable": True,
    "threat_hunter_has_agents": 1,
    "related_indicator_type": "",
    "related_indicator_is_active": 1,
}


class State:
    def __init__(self, fixture, key, log_path):
        self.fixture = fixture
        self.key = key
        self.log_path = log_path
        self.lock = threading.Lock()
        self.failures_sent = {}
        self.in_progress = {}

    def log(self, entry):
        if not self.log_path:
            return
        with self.lock:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")
                f.flush()


def general_answer(kind, value, entry):
    pulses = []
    for i, p in enumerate(entry.get("pulses", [])):
        full = dict(PULSE_DEFAULTS)
        full["id"] = "%024x" % (i + 1)
        full["name"] = "pulse %d" % (i + 1)
        full.update(p)
        full["related_indicator_type"] = kind
        pulses.append(full)
    return {
        "whois": "http://whois.domaintools.com/" + value,
        "reputation": 0,
        "indicator": value,
        "type": kind,
        "type_title": kind,
        "base_indicator": {"id": 1, "indicator": value, "type": kind, "title": "", "description": "",
                           "content": "", "access_type": "public", "access_reason": ""},
        "pulse_info": {
            "count": entry.get("count", len(pulses)),
            "pulses": pulses,
            "references": [],
            "related": {
                "alienvault": {"adversary": [], "malware_families": [], "industries": []},
                "other": {"adversary": [], "malware_families": [], "industries": []},
            },
        },
        "false_positive": [],
        "validation": [],
        "sections": ["general", "geo", "reputation", "url_list", "passive_dns", "malware",
                     "nids_list", "http_scans"],
    }


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # the default writes every request to stderr
            pass

        def send_json(self, status, obj, extra_headers=()):
            self.send_raw(status, json.dumps(obj).encode("utf-8"), extra_headers)

        def send_raw(self, status, body, extra_headers=()):
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra_headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def do_GET(self):
            raw_path = self.path.split("?", 1)[0]
            parts = raw_path.split("/")
            kind, value = "", ""
            ok_shape = (len(parts) == 7 and parts[0] == "" and parts[1] == "api" and parts[2] == "v1"
                        and parts[3] == "indicators" and parts[6] == "general")
            if ok_shape:
                kind = parts[4]
                value = urllib.parse.unquote(parts[5])
            entry = state.fixture.get(value) if ok_shape else None
            group = entry.get("group") if isinstance(entry, dict) else None
            with state.lock:
                state.in_progress[group] = state.in_progress.get(group, 0) + 1
                concurrent = state.in_progress[group]
            try:
                self.answer(raw_path, ok_shape, kind, value, entry, concurrent)
            finally:
                with state.lock:
                    state.in_progress[group] -= 1

        def answer(self, raw_path, ok_shape, kind, value, entry, concurrent):
            key_ok = self.headers.get("X-OTX-API-KEY") == state.key

            status, body, headers = 200, None, []
            if not key_ok:
                status, body = 403, {"detail": "Invalid API key"}
            elif not ok_shape or kind not in KINDS:
                status, body = 404, {"detail": "Not found."}
            elif kind in ("IPv4", "IPv6") and not valid_ip(kind, value):
                status, body = 400, {"detail": "Invalid %s indicator" % kind}
            elif entry is not None and entry.get("kind") not in (None, kind):
                entry = None
            if status == 200 and entry is not None:
                fail = entry.get("fail")
                if fail:
                    with state.lock:
                        sent = state.failures_sent.get(value, 0)
                        if sent < int(fail.get("times", 1)):
                            state.failures_sent[value] = sent + 1
                            status = int(fail.get("status", 500))
                            body = {"detail": "Request was throttled." if status == 429 else "Server Error"}
                            if "retry_after" in fail:
                                headers.append(("Retry-After", str(fail["retry_after"])))
                if status == 200 and "status" in entry:
                    status = int(entry["status"])
                    body = {"detail": "Not found." if status == 404 else "Invalid indicator"}
            if status == 200:
                body = general_answer(kind, value, entry or {})

            state.log({"kind": kind, "value": value, "path": raw_path, "status": status, "key_ok": key_ok,
                       "concurrent": concurrent})
            if entry is not None and key_ok:
                delay = float(entry.get("delay", 0))
                if delay > 0:
                    time.sleep(min(delay, 30.0))
            if status == 200 and entry is not None and "body" in entry:
                self.send_raw(200, entry["body"].encode("utf-8"))
            else:
                self.send_json(status, body, headers)

    return Handler


def valid_ip(kind, value):
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return False
    return addr.version == (4 if kind == "IPv4" else 6)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--max-seconds", type=float, default=300.0)
    args = ap.parse_args()

    with open(args.data, encoding="utf-8") as f:
        fixture = json.load(f)
    if isinstance(fixture.get("indicators"), dict):
        fixture = fixture["indicators"]

    state = State(fixture, args.key, args.log)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print(port, flush=True)

    # A server a crashed test forgot still goes away.
    stopper = threading.Timer(args.max_seconds, server.shutdown)
    stopper.daemon = True
    stopper.start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

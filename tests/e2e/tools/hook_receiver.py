#!/usr/bin/env python3
"""hook_receiver.py - a small web-hook receiver for zt controller tests.

Listens on 127.0.0.1, verifies each POST's X-Zt-Signature
(t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>),
appends one JSON line per request to --events, and answers with a
configurable status and decision body.

  hook_receiver.py --secret S --events /tmp/ev.jsonl [--port 0] [--port-file F]
                   [--decision '{"authorize": true}'] [--status 200]
                   [--fail-first N] [--max-skew 300]

Each events line: {"time": <float unix seconds>, "path": ..., "valid": bool,
"reason": ..., "signature": <header>, "event_type": <X-Zt-Event>,
"body": <raw body text>, "event": <parsed body or null>, "status": <answer>}.
A request with a bad or stale signature is answered 401 (and recorded).
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20


def verify(secret, header, body, max_skew, now=None):
    """Return (ok, reason) for an X-Zt-Signature header over body (bytes)."""
    if not header:
        return False, "missing X-Zt-Signature"
    parts = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or key in parts:
            return False, "malformed signature header"
        parts[key] = value
    if set(parts) != {"t", "v1"} or not parts["t"].isdigit():
        return False, "malformed signature header"
    t = int(parts["t"])
    now = time.time() if now is None else now
    if abs(now - t) > max_skew:
        return False, "stale timestamp"
    want = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, parts["v1"]):
        return False, "bad signature"
    return True, ""


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.requests = 0
        self.decision = json.loads(args.decision) if args.decision else None


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # keep test output quiet
            pass

        def answer(self, status, obj):
            data = b"" if obj is None else json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            args = state.args
            try:
                length = int(self.headers.get("Content-Length", "-1"))
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                self.answer(411 if length < 0 else 413, {"error": "bad length"})
                return
            body = self.rfile.read(length)
            ok, reason = verify(args.secret, self.headers.get("X-Zt-Signature"), body, args.max_skew)
            with state.lock:
                state.requests += 1
                n = state.requests
            if not ok:
                status, reply = 401, {"error": reason}
            elif n <= args.fail_first:
                status, reply = 500, {"error": "failing on purpose"}
            else:
                status, reply = args.status, state.decision
            try:
                event = json.loads(body)
            except ValueError:
                event = None
            record = {"time": time.time(), "path": self.path, "valid": ok, "reason": reason,
                      "signature": self.headers.get("X-Zt-Signature"),
                      "event_type": self.headers.get("X-Zt-Event"),
                      "body": body.decode("utf-8", "replace"), "event": event, "status": status}
            with state.lock:
                with open(args.events, "a", encoding="utf-8") as f:
                    f.write(json.dumps(record) + "\n")
                    f.flush()
                    os.fsync(f.fileno())
            self.answer(status, reply)

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--secret", required=True)
    p.add_argument("--events", required=True, help="file to append one JSON line per request to")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--decision", help="JSON body to answer with, e.g. '{\"authorize\": true}'")
    p.add_argument("--status", type=int, default=200)
    p.add_argument("--fail-first", type=int, default=0, help="answer 500 to the first N valid requests")
    p.add_argument("--max-skew", type=int, default=300, help="seconds a timestamp may differ from now")
    args = p.parse_args()
    if args.decision:
        json.loads(args.decision)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(State(args)))
    server.daemon_threads = True
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("%d\n" % server.server_address[1])
        os.rename(tmp, args.port_file)
    print("hook_receiver: listening on 127.0.0.1:%d" % server.server_address[1], file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

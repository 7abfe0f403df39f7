#!/usr/bin/env python3
"""ctl_api.py - drive and check a zt controller's REST API (ztd --controller)
for the end-to-end controller tests. Run it inside the controller's namespace:
it talks to 127.0.0.1:<HOME/ztd.port> with the token of HOME/authtoken.secret
(header X-ZT-Auth). Every call is bounded (--timeout, default 5 s).

  req --home H METHOD PATH [JSON]
        One call; prints the reply body; exit 0 on 2xx, 1 otherwise (status on
        stderr).

  wait-deliveries --home H --nwid N [--timeout S] [--min N]
        Poll GET /controller/network/N/hook/delivery until every delivery is
        "delivered" (and there are at least --min); prints the list (JSON) and
        exits 0, or prints it and exits 1 on timeout.

  verify-sig --secret S --events E [--type T] [--max-skew 300]
        Independently of the receiver, recompute the HMAC-SHA256 of
        "<t>.<body>" for every recorded request (of type T) and check the
        timestamp against the time the receiver logged it. Exit 0 iff at least
        one request was checked and all are valid. Prints one line per request.

  stream --home H --nwid N --calls C --log F [--down-timeout S] [--base HEX]
        C member changes (create / update / delete, each setting the member's
        whole checked state) on network N. One JSON line per call in F:
        {"i", "member", "op", "expect" (state or null = deleted), "event",
        "acked" (2xx seen), "status", "error", "t0", "t1"}; F is fsynced per
        line. On a connection error the call is logged unacked and the stream
        waits (up to --down-timeout s) for the API to answer again, then goes on.
        Prints "stream: N acked, M not acked".

  verify-durability --home H --nwid N --log F --events E [--secret S]
        After the stream: every acked change is what the API returns now (or a
        later unacked change of the same member, which may have committed),
        no member exists that the stream did not write, IP assignments are
        unique, every acked change has its event in the outbox, every outbox
        event id was received by the hook receiver with a valid signature and
        the same body for the same id, and every event id the receiver got is
        in the outbox. Prints "figure:" lines and "ok"/"FAIL ..." lines; exit 0
        iff all hold.
"""
import argparse
import hashlib
import hmac
import http.client
import json
import os
import sys
import time


# ---- REST client ----

class Api:
    def __init__(self, home, timeout=5.0):
        self.home = home
        self.timeout = timeout

    def _port(self):
        try:
            with open(os.path.join(self.home, "ztd.port"), encoding="ascii") as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return 9993

    def _token(self):
        with open(os.path.join(self.home, "authtoken.secret"), encoding="ascii") as f:
            return f.read().strip()

    def call(self, method, path, body=None):
        """(status, parsed reply or raw text). Raises OSError/HTTPException on transport errors."""
        conn = http.client.HTTPConnection("127.0.0.1", self._port(), timeout=self.timeout)
        try:
            data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
            headers = {"X-ZT-Auth": self._token()}
            if data is not None:
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            try:
                reply = json.loads(raw) if raw else None
            except ValueError:
                reply = raw.decode("utf-8", "replace")
            return resp.status, reply
        finally:
            conn.close()

    def up(self):
        try:
            status, _ = self.call("GET", "/controller")
            return status == 200
        except (OSError, http.client.HTTPException):
            return False


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# ---- req ----

def cmd_req(a):
    api = Api(a.home, a.timeout)
    body = None
    if a.json is not None:
        body = json.loads(a.json)
    status, reply = api.call(a.method, a.path, body)
    out(json.dumps(reply, indent=1, sort_keys=True))
    if not 200 <= status < 300:
        print("ctl_api: HTTP %d" % status, file=sys.stderr)
        return 1
    return 0


# ---- deliveries ----

def deliveries(api, nwid):
    status, reply = api.call("GET", "/controller/network/%s/hook/delivery" % nwid)
    if status != 200 or not isinstance(reply, list):
        raise RuntimeError("GET hook/delivery: HTTP %d %r" % (status, reply))
    return reply


def cmd_wait_deliveries(a):
    api = Api(a.home, a.call_timeout)
    deadline = time.monotonic() + a.timeout
    last = []
    while True:
        try:
            last = deliveries(api, a.nwid)
            if len(last) >= a.min and all(d.get("state") == "delivered" for d in last):
                out(json.dumps(last))
                return 0
        except (OSError, http.client.HTTPException, RuntimeError) as e:
            print("ctl_api: %s" % e, file=sys.stderr)
        if time.monotonic() >= deadline:
            out(json.dumps(last))
            return 1
        time.sleep(0.25)


# ---- signatures ----

def check_sig(secret, header, body, logged_time, max_skew):
    """Our own check, written from controller/README.md, not the receiver's code."""
    if not header:
        return False, "no signature"
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        t, v1 = parts["t"], parts["v1"]
        ts = int(t)
    except (ValueError, KeyError):
        return False, "malformed"
    if abs(logged_time - ts) > max_skew:
        return False, "stale (t=%d, received %.0f)" % (ts, logged_time)
    want = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, v1):
        return False, "HMAC mismatch"
    # and a wrong secret must not verify (guards against a checker that accepts anything)
    bad = hmac.new(secret.encode() + b"x", t.encode() + b"." + body, hashlib.sha256).hexdigest()
    if hmac.compare_digest(bad, v1):
        return False, "verifies under a wrong secret too"
    return True, "t=%s v1=%s..." % (t, v1[:16])


def read_events(path):
    recs = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    recs.append(json.loads(line))
    except FileNotFoundError:
        pass
    return recs


def cmd_verify_sig(a):
    n = 0
    bad = 0
    for r in read_events(a.events):
        if a.type and r.get("event_type") != a.type:
            continue
        n += 1
        ok, why = check_sig(a.secret, r.get("signature"), r["body"].encode("utf-8"), r["time"], a.max_skew)
        ev = r.get("event") or {}
        out("%s %s id=%s member=%s: %s" % ("valid" if ok else "INVALID", r.get("event_type"), ev.get("id"),
                                          ev.get("member_id"), why))
        if not ok:
            bad += 1
    if n == 0:
        out("no request of type %s recorded" % (a.type or "any"))
        return 1
    return 1 if bad else 0


# ---- the stream of member changes ----

def plan(nwid, calls, base):
    """Deterministic list of (member, op, body, expect, event)."""
    steps = []
    j = 0
    while len(steps) < calls:
        addr = "%010x" % (base + j)
        s1 = {"name": "dur-%d-a" % j, "description": "", "authorized": True, "tags": [{"id": 1, "value": j}]}
        s2 = {"name": "dur-%d-b" % j, "description": "second %d" % j, "authorized": False,
              "tags": [{"id": 1, "value": j + 1000}]}
        s3 = {"name": "dur-%d-c" % j, "description": "third %d" % j, "authorized": True,
              "tags": [{"id": 1, "value": j + 2000}]}
        steps.append((addr, "create", s1, s1, "member.authorized"))
        steps.append((addr, "update", s2, s2, "member.deauthorized"))
        if j % 2 == 0:
            steps.append((addr, "delete", None, None, "member.deleted"))
        else:
            steps.append((addr, "update", s3, s3, "member.authorized"))
        j += 1
    return steps[:calls]


def cmd_stream(a):
    api = Api(a.home, a.timeout)
    acked = unacked = 0
    with open(a.log, "a", encoding="utf-8") as log:
        for i, (addr, op, body, expect, event) in enumerate(plan(a.nwid, a.calls, int(a.base, 16))):
            path = "/controller/network/%s/member/%s" % (a.nwid, addr)
            rec = {"i": i, "member": addr, "op": op, "expect": expect, "event": event, "acked": False,
                   "sent": True, "status": None, "error": None, "t0": time.time()}
            transport_error = False
            try:
                status, reply = api.call("DELETE" if op == "delete" else "POST", path, body)
                rec["status"] = status
                rec["acked"] = 200 <= status < 300
                if not rec["acked"]:
                    rec["error"] = reply
            except (OSError, http.client.HTTPException) as e:
                rec["error"] = "%s: %s" % (type(e).__name__, e)
                # refused: the request never reached the controller; anything else may have committed
                rec["sent"] = not isinstance(e, ConnectionRefusedError)
                transport_error = True
            rec["t1"] = time.time()
            log.write(json.dumps(rec, sort_keys=True) + "\n")
            log.flush()
            os.fsync(log.fileno())
            if rec["acked"]:
                acked += 1
            else:
                unacked += 1
            if transport_error:
                deadline = time.monotonic() + a.down_timeout
                while not api.up():
                    if time.monotonic() >= deadline:
                        out("stream: API still down after %.0f s, stopping at call %d" % (a.down_timeout, i))
                        out("stream: %d acked, %d not acked" % (acked, unacked))
                        return 1
                    time.sleep(0.05)
            if a.gap:
                time.sleep(a.gap)
    out("stream: %d acked, %d not acked" % (acked, unacked))
    return 0


def state_of(member):
    if member is None:
        return None
    return {"name": member.get("name"), "description": member.get("description"),
            "authorized": member.get("authorized"),
            "tags": sorted(({"id": t["id"], "value": t["value"]} for t in member.get("tags") or []),
                           key=lambda t: t["id"])}


def cmd_verify_durability(a):
    api = Api(a.home, a.timeout)
    fails = []
    all_calls = [json.loads(l) for l in open(a.log, encoding="utf-8") if l.strip()]
    calls = [c for c in all_calls if c.get("sent", True) or c["acked"]]
    status, members = api.call("GET", "/controller/network/%s/member" % a.nwid)
    if status != 200:
        out("FAIL GET members: HTTP %d" % status)
        return 1
    now = {m["address"]: m for m in members}

    # 1. every acked change is there (or a later unacked one of the same member)
    by_member = {}
    for c in calls:
        by_member.setdefault(c["member"], []).append(c)
    checked = 0
    matched = []
    for addr, cs in by_member.items():
        last_acked = max((k for k, c in enumerate(cs) if c["acked"]), default=-1)
        allowed = [cs[last_acked]["expect"]] if last_acked >= 0 else [None]
        allowed += [c["expect"] for c in cs[last_acked + 1:] if not c["acked"]]
        got = state_of(now.get(addr))
        cands = ([cs[last_acked]] if last_acked >= 0 else []) + [c for c in cs[last_acked + 1:] if not c["acked"]]
        for c in cands:
            if got is not None and state_of(c["expect"]) == got:
                matched.append((c["i"], now[addr].get("revision"), addr))
                break
        if got not in [state_of(x) if x is not None else None for x in allowed]:
            fails.append("member %s: API has %s, acked calls say %s (allowed %s)" %
                         (addr, json.dumps(got), json.dumps(cs[last_acked] if last_acked >= 0 else None),
                          json.dumps(allowed)))
        if last_acked >= 0:
            checked += 1
    # the controller's revision counter never goes back: later writes have higher revisions
    matched.sort()
    for (i1, r1, a1), (i2, r2, a2) in zip(matched, matched[1:]):
        if not (isinstance(r1, int) and isinstance(r2, int) and r1 < r2):
            fails.append("revision went back: %s written by call %d has revision %s, %s by later call %d has %s" %
                         (a1, i1, r1, a2, i2, r2))
    extra = sorted(set(now) - set(by_member))
    if extra:
        fails.append("members nobody wrote: %s" % ", ".join(extra))
    ips = {}
    for m in members:
        for ip in m.get("ip_assignments") or []:
            if ip in ips:
                fails.append("address %s given to %s and %s" % (ip, ips[ip], m["address"]))
            ips[ip] = m["address"]
    n_acked = sum(1 for c in calls if c["acked"])
    out("figure: %d calls, %d acked (2xx), %d in flight at a kill (outcome unknown), %d refused (never sent); "
        "%d members checked against their last acked change, %d present now" %
        (len(all_calls), n_acked, len(calls) - n_acked, len(all_calls) - len(calls), checked, len(now)))

    # 2. events: outbox vs acked calls vs receiver
    dl = deliveries(api, a.nwid)
    outbox_ids = {}
    for d in dl:
        outbox_ids.setdefault(d["event_id"], d)
    not_delivered = [d for d in dl if d["state"] != "delivered"]
    if not_delivered:
        fails.append("%d deliveries not delivered, e.g. %s" % (len(not_delivered), json.dumps(not_delivered[0])))
    per_key = {}
    for d in outbox_ids.values():
        k = (d["type"], d.get("member_id"))
        per_key[k] = per_key.get(k, 0) + 1
    # The event a call makes depends on the member's state before it, which an
    # unacknowledged (maybe committed) earlier call leaves uncertain: an event is
    # required when every possible predecessor implies it, allowed when one does.
    def implied(prev, c):
        if c["op"] == "delete":
            return "member.deleted" if prev is not None else None
        was = bool(prev and prev["authorized"])
        if c["expect"]["authorized"] != was:
            return "member.authorized" if c["expect"]["authorized"] else "member.deauthorized"
        return None
    need = {}
    maybe = {}
    required = []  # (call, event type, possible names in the event's member)
    for addr, cs in by_member.items():
        for k, c in enumerate(cs):
            la = max((m for m in range(k) if cs[m]["acked"]), default=-1)
            preds = [cs[la]["expect"] if la >= 0 else None] + [cs[m]["expect"] for m in range(la + 1, k)]
            if c["acked"] and c["op"] == "delete":
                preds = [p for p in preds if p is not None]  # a 2xx delete found the member
            evs = {implied(p, c) for p in preds}
            for e in evs - {None}:
                maybe[(e, addr)] = maybe.get((e, addr), 0) + 1
            if c["acked"] and len(evs) == 1 and None not in evs:
                e = evs.pop()
                need[(e, addr)] = need.get((e, addr), 0) + 1
                names = [c["expect"]["name"]] if c["expect"] else [p["name"] for p in preds]
                required.append((c, e, names))
    for k, n in need.items():
        if per_key.get(k, 0) < n:
            fails.append("outbox has %d %s event(s) for %s, acked calls made %d" % (per_key.get(k, 0), k[0], k[1], n))
    for k, n in per_key.items():
        if k[1] is not None and k[1] in by_member and n > maybe.get(k, 0):
            fails.append("outbox has %d %s event(s) for %s, only %d call(s) could make one" % (n, k[0], k[1], maybe.get(k, 0)))

    recs = read_events(a.events)
    got = {}
    invalid = 0
    for r in recs:
        ev = r.get("event") or {}
        if not r.get("valid"):
            invalid += 1
            continue
        if a.secret:
            ok, why = check_sig(a.secret, r.get("signature"), r["body"].encode("utf-8"), r["time"], 300)
            if not ok:
                fails.append("event %s: receiver accepted it but our check says %s" % (ev.get("id"), why))
        got.setdefault(ev.get("id"), []).append(r)
    for eid, rs in got.items():
        bodies = {r["body"] for r in rs}
        if len(bodies) > 1:
            fails.append("event id %s received with %d different bodies (an id reused after a lost commit?)" %
                         (eid, len(bodies)))
    missing = sorted(set(outbox_ids) - set(got))
    if missing:
        fails.append("%d outbox event(s) never received: %s" % (len(missing), ", ".join(missing[:10])))
    unknown = sorted(set(got) - set(outbox_ids))
    if unknown:
        fails.append("%d received event id(s) not in the outbox (a delivered event whose change was lost?): %s" %
                     (len(unknown), ", ".join(map(str, unknown[:10]))))
    # every acked change's event was received with that member state
    seen_states = set()
    for rs in got.values():
        ev = rs[0].get("event") or {}
        m = ev.get("member")
        if m:
            seen_states.add((ev.get("type"), ev.get("member_id"), m.get("name")))
    for c, e, names in required:
        if not any((e, c["member"], n) in seen_states for n in names):
            fails.append("call %d (%s %s) acked but the receiver never got %s with name %s" %
                         (c["i"], c["op"], c["member"], e, " or ".join(names)))
    attempts = [d.get("attempts", 0) for d in dl]
    dups = sum(len(rs) - 1 for rs in got.values())
    out("figure: %d acknowledged changes required an event (all found: %s)" %
        (len(required), "no" if any(f.startswith(("outbox has", "call ")) for f in fails) else "yes"))
    out("figure: outbox %d deliveries (%d events), all delivered: %s; attempts max %d, %d delivered after >1 "
        "attempt; receiver got %d requests (%d valid distinct ids, %d duplicates, %d rejected)" %
        (len(dl), len(outbox_ids), "yes" if not not_delivered else "no", max(attempts or [0]),
         sum(1 for x in attempts if x > 1), len(recs), len(got), dups, invalid))
    for f in fails[:40]:
        out("FAIL " + f)
    if len(fails) > 40:
        out("FAIL ... and %d more" % (len(fails) - 40))
    if not fails:
        out("ok")
    return 1 if fails else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("req")
    r.add_argument("--home", required=True)
    r.add_argument("--timeout", type=float, default=5.0)
    r.add_argument("method")
    r.add_argument("path")
    r.add_argument("json", nargs="?")
    w = sub.add_parser("wait-deliveries")
    w.add_argument("--home", required=True)
    w.add_argument("--nwid", required=True)
    w.add_argument("--timeout", type=float, default=30.0)
    w.add_argument("--call-timeout", type=float, default=5.0)
    w.add_argument("--min", type=int, default=1)
    v = sub.add_parser("verify-sig")
    v.add_argument("--secret", required=True)
    v.add_argument("--events", required=True)
    v.add_argument("--type")
    v.add_argument("--max-skew", type=int, default=300)
    s = sub.add_parser("stream")
    s.add_argument("--home", required=True)
    s.add_argument("--nwid", required=True)
    s.add_argument("--calls", type=int, default=200)
    s.add_argument("--log", required=True)
    s.add_argument("--timeout", type=float, default=5.0)
    s.add_argument("--down-timeout", type=float, default=60.0)
    s.add_argument("--gap", type=float, default=0.0)
    s.add_argument("--base", default="d000000000")
    d = sub.add_parser("verify-durability")
    d.add_argument("--home", required=True)
    d.add_argument("--nwid", required=True)
    d.add_argument("--log", required=True)
    d.add_argument("--events", required=True)
    d.add_argument("--secret")
    d.add_argument("--timeout", type=float, default=5.0)
    a = ap.parse_args()
    if a.cmd == "stream":
        a.calls = max(1, min(a.calls, 10000))
        a.down_timeout = max(1.0, min(a.down_timeout, 600.0))
    if a.cmd == "wait-deliveries":
        a.timeout = max(0.0, min(a.timeout, 600.0))
    return {"req": cmd_req, "wait-deliveries": cmd_wait_deliveries, "verify-sig": cmd_verify_sig,
            "stream": cmd_stream, "verify-durability": cmd_verify_durability}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())

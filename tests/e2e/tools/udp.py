#!/usr/bin/env python3
"""udp.py - tiny, bounded UDP tools for the zt end-to-end lab (tests/e2e/lab.sh).

Every mode stops by itself: after --timeout/--listen seconds or a datagram count.
Output is plain text, one line per event, flushed at once, so bash can grep it:

  echo  --port P [--port P ...] [--addr A] [--timeout S] [--max N]
        Bind every port, answer each datagram with
          "echo seen=IP:PORT server=IP:PORT data=DATA"
        (seen = the source address the server observed, i.e. the NAT mapping),
        and print "got seen=IP:PORT server=IP:PORT data=DATA". Prints
        "ready PORT..." once bound. Exit 0.

  probe --bind A:P --to IP:PORT [--to ...] [--rounds N] [--gap S] [--listen S]
        [--data TEXT]
        One socket: every --gap seconds (N rounds) send DATA to every --to,
        receiving all the while, then keep receiving --listen more seconds.
        Prints "bound IP:PORT", "sent N to IP:PORT" and for every datagram
        "recv IP:PORT PAYLOAD". Exit 0 iff at least one datagram came back from
        every --to address (exact IP and port), else 1. Use it for STUN-like
        mapping discovery (against `echo`), for hole punching (--to the peer's
        mapping on both sides at once) and for "did anything arrive" checks.

  send  --to IP:PORT [--bind A:P] [--data TEXT] [--count N] [--gap S]
        Send N datagrams and exit (no receive). Exit 0.
"""
import argparse
import selectors
import socket
import sys
import time


def hostport(s):
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("want IP:PORT, got %r" % s)
    return (host, int(port))


def fmt(addr):
    return "%s:%d" % (addr[0], addr[1])


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def udp_socket(bind=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if bind:
        s.bind(bind)
    return s


def cmd_echo(a):
    sel = selectors.DefaultSelector()
    socks = []
    for p in a.port:
        s = udp_socket((a.addr, p))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    out("ready " + " ".join(str(p) for p in a.port))
    deadline = time.monotonic() + a.timeout
    n = 0
    while n < a.max:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(timeout=min(left, 1.0)):
            s = key.fileobj
            try:
                data, src = s.recvfrom(2048)
            except OSError:
                continue
            n += 1
            text = data.decode("utf-8", "replace").replace("\n", " ")
            here = s.getsockname()
            info = "seen=%s server=%s data=%s" % (fmt(src), fmt(here), text)
            out("got " + info)
            try:
                s.sendto(("echo " + info).encode(), src)
            except OSError as e:
                out("error reply to %s: %s" % (fmt(src), e))
    return 0


def cmd_probe(a):
    s = udp_socket(a.bind)
    s.setblocking(False)
    out("bound " + fmt(s.getsockname()))
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    heard = set()
    start = time.monotonic()
    next_send = start
    rounds = 0
    end = None
    while True:
        now = time.monotonic()
        if rounds < a.rounds and now >= next_send:
            rounds += 1
            for dst in a.to:
                try:
                    s.sendto(("%s #%d" % (a.data, rounds)).encode(), dst)
                    out("sent %d to %s" % (rounds, fmt(dst)))
                except OSError as e:
                    out("error send to %s: %s" % (fmt(dst), e))
            next_send = now + a.gap
            if rounds == a.rounds:
                end = now + a.listen
        if end is not None and now >= end:
            break
        wake = end if rounds >= a.rounds else next_send
        for _ in sel.select(timeout=max(0.0, min(wake - now, 0.5))):
            try:
                data, src = s.recvfrom(2048)
            except OSError as e:  # e.g. ICMP port unreachable
                out("error recv: %s" % e)
                continue
            heard.add(src)
            out("recv %s %s" % (fmt(src), data.decode("utf-8", "replace").replace("\n", " ")))
    missing = [fmt(d) for d in a.to if d not in heard]
    out("done heard=%d missing=%s" % (len(heard), ",".join(missing) or "-"))
    return 1 if missing else 0


def cmd_send(a):
    s = udp_socket(a.bind)
    out("bound " + fmt(s.getsockname()))
    for i in range(a.count):
        if i:
            time.sleep(a.gap)
        s.sendto(("%s #%d" % (a.data, i + 1)).encode(), a.to)
        out("sent %d to %s" % (i + 1, fmt(a.to)))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    e = sub.add_parser("echo")
    e.add_argument("--port", type=int, action="append", required=True)
    e.add_argument("--addr", default="0.0.0.0")
    e.add_argument("--timeout", type=float, default=60.0)
    e.add_argument("--max", type=int, default=100000)
    p = sub.add_parser("probe")
    p.add_argument("--bind", type=hostport, default=("0.0.0.0", 0))
    p.add_argument("--to", type=hostport, action="append", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--gap", type=float, default=0.3)
    p.add_argument("--listen", type=float, default=1.0)
    p.add_argument("--data", default="probe")
    s = sub.add_parser("send")
    s.add_argument("--bind", type=hostport, default=None)
    s.add_argument("--to", type=hostport, required=True)
    s.add_argument("--data", default="send")
    s.add_argument("--count", type=int, default=1)
    s.add_argument("--gap", type=float, default=0.1)
    a = ap.parse_args()
    if a.mode == "probe":
        a.rounds = max(1, min(a.rounds, 10000))
        a.listen = max(0.0, min(a.listen, 600.0))
    if a.mode == "echo":
        a.timeout = max(0.1, min(a.timeout, 3600.0))
    if a.mode == "send":
        a.count = max(1, min(a.count, 100000))
    return {"echo": cmd_echo, "probe": cmd_probe, "send": cmd_send}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""udp_stream.py - bounded one-way UDP streams with timestamps, to see exactly
when a direction stops carrying frames (e.g. after a member is revoked).

  send --to IP:PORT [--gap 0.05] [--duration S] [--tag TEXT] [--bind-dev IF]
        Send "TAG seq=N t=<unix seconds>" every GAP seconds for S seconds.
        Send errors (no route, interface gone) are counted, not fatal. Prints
        "sent N errors M first=<t> last=<t>" at the end. Exit 0.

  recv --port P [--duration S]
        Print "recv <t_recv> <src> <payload>" for every datagram, for S
        seconds, then "done N". Exit 0.
"""
import argparse
import socket
import sys
import time


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def hostport(s):
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("want IP:PORT, got %r" % s)
    return (host, int(port))


def cmd_send(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if a.bind_dev:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.bind_dev.encode())
    end = time.monotonic() + a.duration
    n = errors = 0
    first = last = None
    nxt = time.monotonic()
    while time.monotonic() < end:
        t = time.time()
        try:
            s.sendto(("%s seq=%d t=%.6f" % (a.tag, n, t)).encode(), a.to)
            first = first if first is not None else t
            last = t
        except OSError:
            errors += 1
        n += 1
        nxt += a.gap
        time.sleep(max(0.0, nxt - time.monotonic()))
    out("sent %d errors %d first=%s last=%s" % (n, errors, first, last))
    return 0


def cmd_recv(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", a.port))
    out("ready %d" % a.port)
    end = time.monotonic() + a.duration
    n = 0
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(min(left, 0.5))
        try:
            data, src = s.recvfrom(4096)
        except socket.timeout:
            continue
        n += 1
        out("recv %.6f %s:%d %s" % (time.time(), src[0], src[1], data.decode("utf-8", "replace")))
    out("done %d" % n)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("send")
    s.add_argument("--to", type=hostport, required=True)
    s.add_argument("--gap", type=float, default=0.05)
    s.add_argument("--duration", type=float, default=10.0)
    s.add_argument("--tag", default="stream")
    s.add_argument("--bind-dev")
    r = sub.add_parser("recv")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--duration", type=float, default=10.0)
    a = ap.parse_args()
    a.duration = max(0.1, min(a.duration, 600.0))
    if a.mode == "send":
        a.gap = max(0.001, min(a.gap, 10.0))
        return cmd_send(a)
    return cmd_recv(a)


if __name__ == "__main__":
    sys.exit(main())

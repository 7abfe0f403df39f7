#!/usr/bin/env python3
"""ssdp.py - a bounded SSDP (UPnP discovery) responder and searcher for the zt lab.

  respond --iface IF --usn USN [--st ST] [--timeout S]
      join 239.255.255.250 on IF (by interface index), listen on UDP 1900,
      answer every M-SEARCH whose ST is ssdp:all, upnp:rootdevice or ST with a
      unicast HTTP/1.1 200 OK to the searcher's address and port. Prints
      "ready" once joined, "msearch FROM ST=..." per request, "replied TO".
      Ends after --timeout seconds (default 60), status 0.
  search --iface IF [--st ST] [--mx N] [--expect USN] [--rounds N] [--gap S]
      send an M-SEARCH to 239.255.255.250:1900 out of IF (IP_MULTICAST_IF by
      index, TTL 2) every --gap seconds (default 1) for --rounds rounds (default
      5), print "reply FROM USN=... LOCATION=..." per unicast answer and
      "first MS" (ms from the first send to the first matching reply). Exit 0
      once a reply with USN --expect (or any reply without --expect) arrived,
      else 1 after the last round's wait.
"""
import argparse
import socket
import struct
import sys
import time

GROUP = "239.255.255.250"
PORT = 1900


def ifindex(name):
    return socket.if_nametoindex(name)


def mreqn(iface):
    # struct ip_mreqn { in_addr imr_multiaddr; in_addr imr_address; int imr_ifindex; }
    return struct.pack("4s4si", socket.inet_aton(GROUP), socket.inet_aton("0.0.0.0"), ifindex(iface))


def headers(data):
    text = data.decode("utf-8", "replace")
    lines = text.split("\r\n")
    h = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            h[k.strip().upper()] = v.strip()
    return lines[0], h


def respond(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", PORT))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn(a.iface))
    st_mine = a.st
    print("ready", flush=True)
    end = time.time() + a.timeout
    while True:
        left = end - time.time()
        if left <= 0:
            return 0
        s.settimeout(left)
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            continue
        first, h = headers(data)
        if not first.startswith("M-SEARCH"):
            continue
        st = h.get("ST", "")
        print("msearch %s:%d ST=%s" % (src[0], src[1], st), flush=True)
        if st not in ("ssdp:all", "upnp:rootdevice", st_mine):
            continue
        reply = ("HTTP/1.1 200 OK\r\n"
                 "CACHE-CONTROL: max-age=120\r\n"
                 "EXT:\r\n"
                 "LOCATION: http://zt-lab.invalid/%s.xml\r\n"
                 "SERVER: Linux/6 UPnP/1.1 zt-lab-ssdp/1\r\n"
                 "ST: %s\r\n"
                 "USN: %s\r\n\r\n" % (a.usn, st_mine if st == "ssdp:all" else st, a.usn))
        s.sendto(reply.encode(), src)
        print("replied %s:%d" % (src[0], src[1]), flush=True)


def search(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, struct.pack("4s4si", socket.inet_aton("0.0.0.0"),
                                                                           socket.inet_aton("0.0.0.0"),
                                                                           ifindex(a.iface)))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    s.bind(("0.0.0.0", 0))
    msg = ("M-SEARCH * HTTP/1.1\r\n"
           "HOST: 239.255.255.250:1900\r\n"
           "MAN: \"ssdp:discover\"\r\n"
           "MX: %d\r\n"
           "ST: %s\r\n"
           "USER-AGENT: zt-lab-ssdp/1\r\n\r\n" % (a.mx, a.st)).encode()
    t0 = None
    ok = False
    for r in range(a.rounds):
        now = time.time()
        if t0 is None:
            t0 = now
        s.sendto(msg, (GROUP, PORT))
        print("sent round %d" % (r + 1), flush=True)
        end = now + a.gap
        while True:
            left = end - time.time()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                data, src = s.recvfrom(65535)
            except socket.timeout:
                break
            first, h = headers(data)
            if not first.startswith("HTTP/1.1 200"):
                continue
            usn = h.get("USN", "")
            print("reply %s:%d USN=%s LOCATION=%s" % (src[0], src[1], usn, h.get("LOCATION", "")), flush=True)
            if not ok and (a.expect is None or usn == a.expect):
                ok = True
                print("first %d" % int((time.time() - t0) * 1000), flush=True)
        if ok:
            return 0
    return 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("respond")
    r.add_argument("--iface", required=True)
    r.add_argument("--usn", required=True)
    r.add_argument("--st", default="urn:zt-lab:device:Test:1")
    r.add_argument("--timeout", type=float, default=60)
    q = sub.add_parser("search")
    q.add_argument("--iface", required=True)
    q.add_argument("--st", default="urn:zt-lab:device:Test:1")
    q.add_argument("--mx", type=int, default=1)
    q.add_argument("--expect")
    q.add_argument("--rounds", type=int, default=5)
    q.add_argument("--gap", type=float, default=1.0)
    a = p.parse_args()
    return respond(a) if a.cmd == "respond" else search(a)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""bcast.py - bounded UDP broadcast/multicast helpers for the zt lab.

  listen PORT COUNT TIMEOUT        print each datagram's payload; exit 0 after COUNT, 1 on timeout
  send IFACE DST PORT TEXT         send TEXT to DST (broadcast or unicast) out of IFACE
                                   (SO_BINDTODEVICE, so 255.255.255.255 leaves by the TAP)
"""
import socket
import sys
import time


def listen(port, count, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    end = time.time() + timeout
    got = 0
    while got < count:
        left = end - time.time()
        if left <= 0:
            print("timeout after %d datagram(s)" % got, flush=True)
            return 1
        s.settimeout(left)
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            continue
        got += 1
        print("recv %s:%d %s" % (src[0], src[1], data.decode(errors="replace")), flush=True)
    return 0


def send(iface, dst, port, text):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    for _ in range(3):
        s.sendto(text.encode(), (dst, port))
        time.sleep(0.2)
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "listen":
        return listen(int(argv[2]), int(argv[3]), float(argv[4]))
    if len(argv) == 6 and argv[1] == "send":
        return send(argv[2], argv[3], int(argv[4]), argv[5])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

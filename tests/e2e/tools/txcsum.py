#!/usr/bin/env python3
"""txcsum.py IFACE [on|off] - show or set an interface's TX checksum offload
(the legacy ETHTOOL_GTXCSUM / ETHTOOL_STXCSUM ioctls), without ethtool.

With TX checksum offload on (the default on veth), a locally sent TCP/UDP
packet travels with only the pseudo-header sum in its checksum field
(CHECKSUM_PARTIAL) until a device that cannot offload fills it in; a packet
socket (libpcap) on the receiving veth sees it in that state. Prints
"IFACE tx-checksumming on|off".
"""
import ctypes
import fcntl
import socket
import struct
import sys

SIOCETHTOOL = 0x8946
ETHTOOL_GTXCSUM = 0x00000016
ETHTOOL_STXCSUM = 0x00000017


def ethtool_value(sock, ifname, cmd, data=0):
    ev = ctypes.create_string_buffer(struct.pack("II", cmd, data), 8)
    ifr = struct.pack("16sP", ifname.encode(), ctypes.addressof(ev)) + b"\0" * 16
    fcntl.ioctl(sock.fileno(), SIOCETHTOOL, ifr)
    return struct.unpack("II", ev.raw)[1]


def main(argv):
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] not in ("on", "off")):
        print(__doc__, file=sys.stderr)
        return 2
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if len(argv) == 3:
        ethtool_value(s, argv[1], ETHTOOL_STXCSUM, 1 if argv[2] == "on" else 0)
    v = ethtool_value(s, argv[1], ETHTOOL_GTXCSUM)
    print("%s tx-checksumming %s" % (argv[1], "on" if v else "off"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

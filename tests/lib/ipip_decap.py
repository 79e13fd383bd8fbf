#!/usr/bin/python3
# Runs on: a test's real-server namespace (tests/scripts/dr_tun_netns.sh).
#
# Stands in for the kernel's ipip device on hosts whose kernel has no ipip
# module: creates the TUN device NAME (IFF_TUN, no packet info), reads every
# IPv4 packet of protocol 4 (IP-in-IP) with a raw socket, strips the outer
# header and writes the inner packet to the device, so the kernel receives
# it on NAME as it would on an ipip device. Writes "ready" to READY_FILE once
# both are open; runs until killed.
#
#   ipip_decap.py NAME READY_FILE
import fcntl
import os
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
IPPROTO_IPIP = 4


def main() -> int:
    name, ready = sys.argv[1], sys.argv[2]
    tun = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_IPIP)
    with open(ready, "w") as f:
        f.write("ready\n")
    while True:
        outer = raw.recv(65535)  # an IPv4 raw socket receives the IP header too
        ihl = (outer[0] & 0x0F) * 4
        if len(outer) > ihl + 20 and outer[ihl] >> 4 == 4:
            os.write(tun, outer[ihl:])


if __name__ == "__main__":
    sys.exit(main())

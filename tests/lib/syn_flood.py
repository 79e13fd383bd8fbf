#!/usr/bin/env python3
# Runs on: the test host, inside a network namespace (tests/scripts/syn_flood_netns.sh).
# Sends TCP SYNs with spoofed source addresses through a raw socket
# (IP_HDRINCL), standard library only: no scapy on the test machines.
#
#   syn_flood.py DST_IP DST_PORT RATE SECONDS [SRC_NET]
#
# RATE SYNs per second for SECONDS, each from its own address
# SRC_NET.X.Y (default 198.18: X 1..254, Y 1..254, never 198.18.0.0/24, the
# test client's own network) and port. Prints the number sent.
import socket
import struct
import sys
import time


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn(src: bytes, dst: bytes, sport: int, dport: int, seq: int) -> bytes:
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), seq & 0xFFFF, 0, 64, socket.IPPROTO_TCP, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


def main() -> int:
    dst_ip, dport, rate, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    net = sys.argv[5] if len(sys.argv) > 5 else "198.18"
    a, b = (int(x) for x in net.split("."))
    dst = socket.inet_aton(dst_ip)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    sent = 0
    start = time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= seconds:
            break
        due = int(elapsed * rate) + 1
        while sent < due:
            x, y = 1 + (sent // 254) % 254, 1 + sent % 254
            src = bytes([a, b, x, y])
            pkt = syn(src, dst, 1024 + sent % 60000, dport, sent * 7919)
            try:
                s.sendto(pkt, (dst_ip, 0))
            except OSError:
                pass  # a full socket buffer: that SYN is lost, as on a wire
            sent += 1
        time.sleep(0.005)
    print(sent)
    return 0


if __name__ == "__main__":
    sys.exit(main())

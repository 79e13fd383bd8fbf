# Runs on: the test host (/usr/bin/python3 with Debian's python3-scapy);
# imported by run_fixtures.py. Nothing here touches DPDK.
#
# Golden packet fixtures for kadp's data plane, Katran/VPP style: each
# fixture is {description, config, input frames per port, expected output
# frames per port, expected counters}. run_fixtures.py writes the inputs as
# pcap files, runs the real kadp over two net_pcap ports, and compares every
# header field, every checksum and every byte of what comes out.
#
# Topology (every fixture):
#
#   client 198.18.0.1 ---- port "lan" 198.18.0.254/24 (net_pcap0, MAC 02:70:63:61:70:00)
#                          kadp, VIP 198.18.0.100
#   real servers 198.19.0.1-3 ---- port "srv" 198.19.0.254/24 (net_pcap1, MAC 02:70:63:61:70:01)
#
# The port MACs are what DPDK's pcap PMD gives its ports ("\x02pcap" + port
# index); the runner checks them against kadp's "port ... mac X" log lines.
#
# ORDERING. A pcap rx port reads its file once, as fast as it is polled, and
# nobody answers kadp while it runs: a conversation is a script played in
# one go. With one worker (-l 0,1) the loop polls lan q0 then srv q0, up to
# 32 frames per burst, so every fixture with < 32 frames per port is played
# as: all lan frames in order, then all srv frames in order. That is why an
# ARP reply from a real server can sit in the srv input although kadp only
# asks for it while processing the lan input: the reply is processed after
# the request was sent and completes the `incomplete` neighbour entry.
#
# CONTRACT — choices the expectations encode (where the RFCs leave room;
# change them here, in one place, if the pipeline decides otherwise):
# * ARP replies are the request rewritten in place (arp_reply_in_place): the
#   frame keeps its length and padding. Requests kadp originates are
#   broadcast, target hardware 00:00:00:00:00:00, sender = the port address,
#   zero-padded to 60 bytes (build_arp_request).
# * Frames kadp originates (RST, ICMP errors) are zero-padded to 60 bytes;
#   forwarded frames keep their length (all forwarded inputs are >= 60 bytes
#   without padding, so padding never matters for them).
# * NAT: only the destination (client -> server) or source (server ->
#   client) address and port change, TTL - 1, both checksums updated; TOS,
#   ID, DF, IP/TCP options, window, payload unchanged. A UDP checksum of 0
#   stays 0.
# * DR: only the MACs change (to the real server's, from the srv port) and
#   TTL - 1 with the IP checksum (IPVS decrements the TTL for DR too); the
#   destination stays the VIP.
# * TUN (ipip): the client's packet with TTL - 1 inside an outer IPv4
#   header 198.19.0.254 -> real server, protocol 4, outer TOS = inner TOS,
#   outer DF = inner DF, outer TTL = the inner's after its decrement, outer
#   ID 0 with DF. Too big for the srv MTU with DF: ICMP fragmentation needed
#   (type 3 code 4, next-hop MTU = srv mtu - 20) from the VIP, TOS 0xc0, ID
#   0, no DF, TTL 64, quoting the IP header + 8 bytes as received.
# * ICMP echo reply: addresses swapped, TTL 64, TOS/ID/flags kept, type 0,
#   id/seq/payload kept (VPP's ip4_icmp_echo_request does the same).
# * RST (RFC 793 reset generation) from VIP:port: a segment with ACK gets
#   seq = its ack, flags R; one without gets seq 0, ack = seq + len (+1 for
#   SYN and FIN), flags RA. IP: TOS 0, ID 0, DF, TTL 64; TCP window 0, no
#   options (what Linux sends).
# * ICMP port unreachable from the VIP: TOS 0xc0 (RFC 1812 4.3.2.5, Linux),
#   ID 0, no DF, TTL 64; it quotes the datagram as received. The fixture's
#   datagram has no payload, so "IP header + 8 bytes" (RFC 792) and "as much
#   as fits in 576 bytes" (RFC 1812, Linux) give the same bytes.
# * A neighbour learned from an ARP request is `stale` (neigh_table.h): the
#   first packet to it would also send a unicast ARP probe. The client
#   therefore sends a gratuitous ARP right after its request (as hosts do
#   on link up), which refreshes the entry to `reachable`; no probe is
#   expected anywhere.
# * ICMP errors kadp forwards (about a connection): MACs and TTL - 1 as for
#   any forwarded packet, the outer address and the quote translated, every
#   other field (TOS 0xc0, ID, flags, ICMP type/code/MTU, quote length) kept.
# * IPv4 fragments: each leaves as it came (no reassembly, no
#   re-fragmentation), NAT'ed like its first fragment; the first fragment's
#   UDP checksum is the whole NAT'ed datagram's (split() after nat_in()).
# * No vrrp_instance in the configs: the VIP set comes from the virtual
#   services (snapshot.h), and a VRRP instance would start in BACKUP.
#
# Counters: a dict name -> exact value over the whole run (totals over
# workers); names must exist in dataplane/counters.h (the runner checks).
# Only what the fixture is about is listed; unlisted counters are free.
from __future__ import annotations

import dataclasses
from typing import Callable

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Raw

# --- addresses ---------------------------------------------------------------
KADP_MAC = {"lan": "02:70:63:61:70:00", "srv": "02:70:63:61:70:01"}
PORT_IP = {"lan": "198.18.0.254", "srv": "198.19.0.254"}
PORTS = ("lan", "srv")  # configuration order = DPDK port order

VIP = "198.18.0.100"
CLIENT_IP = "198.18.0.1"
CLIENT_MAC = "02:00:00:00:01:01"
RS_IP = ["198.19.0.1", "198.19.0.2", "198.19.0.3"]
RS_MAC = ["02:00:00:00:02:01", "02:00:00:00:02:02", "02:00:00:00:02:03"]
BROADCAST = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"

ETH_MIN = 60  # Ethernet minimum without FCS


@dataclasses.dataclass
class Fixture:
    name: str
    description: str
    config: str  # @lan.rx@ @lan.tx@ @srv.rx@ @srv.tx@ are replaced by pcap paths
    inputs: dict[str, list]  # port -> frames, in order
    expected: dict[str, list]  # port -> frames, in order
    counters: dict[str, int]
    pending: bool = False  # behaviour not decided yet: skipped unless --all
    pending_reason: str = ""


# --- configuration -------------------------------------------------------------
def dataplane_block(lan_extra: str = "", srv_extra: str = "") -> str:
    extra = f"\n        {lan_extra}" if lan_extra else ""
    sextra = f"\n        {srv_extra}" if srv_extra else ""
    return f"""dataplane {{
    interface lan {{
        device "net_pcap0,rx_pcap=@lan.rx@,tx_pcap=@lan.tx@"
        address 198.18.0.254/24{extra}
    }}
    interface srv {{
        device "net_pcap1,rx_pcap=@srv.rx@,tx_pcap=@srv.tx@"
        address 198.19.0.254/24{sextra}
    }}
    conn_table_size 4096
}}
"""


def virtual_server(vip: str, port: int, proto: str, reals: list[tuple[str, int, int]], algo: str = "rr",
                   kind: str = "NAT") -> str:
    rs = "".join(f"    real_server {ip} {rport} {{\n        weight {w}\n    }}\n" for ip, rport, w in reals)
    return f"""virtual_server {vip} {port} {{
    lb_algo {algo}
    lb_kind {kind}
    protocol {proto}
{rs}}}
"""


def config(*services: str, lan_extra: str = "", srv_extra: str = "") -> str:
    return dataplane_block(lan_extra, srv_extra) + "".join(services)


WEB = virtual_server(VIP, 80, "TCP", [(RS_IP[0], 80, 1)])
WEB3 = virtual_server(VIP, 80, "TCP", [(RS_IP[i], 80, 1) for i in range(3)])
DNS = virtual_server(VIP, 53, "UDP", [(RS_IP[0], 53, 1)])
WEB_DR = virtual_server(VIP, 80, "TCP", [(RS_IP[0], 80, 1)], kind="DR")
WEB_TUN = virtual_server(VIP, 80, "TCP", [(RS_IP[1], 80, 1)], kind="TUN")
DNS5353 = virtual_server(VIP, 53, "UDP", [(RS_IP[0], 5353, 1)])

# Routers that send ICMP errors: beyond the client (lan) and before the servers (srv).
ROUTER_LAN_IP, ROUTER_LAN_MAC = "198.18.0.9", "02:00:00:00:01:09"
ROUTER_SRV_IP, ROUTER_SRV_MAC = "198.19.0.9", "02:00:00:00:02:09"


# --- frame builders --------------------------------------------------------------
def frame(p):
    """Every field concrete: what a parser of the bytes would see."""
    return Ether(bytes(p))


def pad(p, to: int = ETH_MIN):
    raw = bytes(p)
    return Ether(raw + b"\0" * (to - len(raw))) if len(raw) < to else Ether(raw)


def arp_request(src_mac, src_ip, target_ip, dst_mac=BROADCAST):
    return pad(Ether(dst=dst_mac, src=src_mac) /
               ARP(op=1, hwsrc=src_mac, psrc=src_ip, hwdst=ZERO_MAC, pdst=target_ip))


def arp_reply_to(request, our_mac, asked_ip):
    """arp_reply_in_place: same length and padding, every ARP field set."""
    r = Ether(bytes(request))
    a = r[ARP]
    sha, spa = a.hwsrc, a.psrc
    r[Ether].dst = sha
    r[Ether].src = our_mac
    a.op = 2
    a.hwsrc, a.psrc = our_mac, asked_ip
    a.hwdst, a.pdst = sha, spa
    return frame(r)


def arp_reply(src_mac, src_ip, dst_mac, dst_ip):
    return pad(Ether(dst=dst_mac, src=src_mac) /
               ARP(op=2, hwsrc=src_mac, psrc=src_ip, hwdst=dst_mac, pdst=dst_ip))


def gratuitous_arp(mac, ip):
    return pad(Ether(dst=BROADCAST, src=mac) / ARP(op=1, hwsrc=mac, psrc=ip, hwdst=ZERO_MAC, pdst=ip))


def kadp_arp_request(port, target_ip):
    """What build_arp_request sends to resolve a next hop."""
    return arp_request(KADP_MAC[port], PORT_IP[port], target_ip)


def client_hello():
    """The client ARPs for the VIP (kadp learns it, stale), then announces
    itself (gratuitous: the same MAC, unasked -- the entry stays stale, see
    neigh_table.h's poisoning policy). Returns (inputs, expected)."""
    req = arp_request(CLIENT_MAC, CLIENT_IP, VIP)
    return [req, gratuitous_arp(CLIENT_MAC, CLIENT_IP)], [arp_reply_to(req, KADP_MAC["lan"], VIP)]


def client_probe():
    """The unicast probe the client's stale entry sends after the first
    packet forwarded to it."""
    return arp_request(KADP_MAC["lan"], PORT_IP["lan"], CLIENT_IP, dst_mac=CLIENT_MAC)


SYN_OPTIONS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (123456, 0)), ("NOP", None), ("WScale", 7)]
SYNACK_OPTIONS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (777, 123456)), ("NOP", None), ("WScale", 9)]


def client_tcp(dport, sport=40001, flags="S", seq=1000, ack=0, ip_id=0x1001, options=SYN_OPTIONS, payload=b""):
    p = (Ether(dst=KADP_MAC["lan"], src=CLIENT_MAC) /
         IP(src=CLIENT_IP, dst=VIP, ttl=64, id=ip_id, flags="DF") /
         TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=64240, options=options))
    return frame(p / Raw(payload) if payload else p)


def client_udp(dport, sport=40001, payload=b"kadp-udp-query-0001", ip_id=0x3001, zero_csum=False):
    p = frame(Ether(dst=KADP_MAC["lan"], src=CLIENT_MAC) /
              IP(src=CLIENT_IP, dst=VIP, ttl=64, id=ip_id, flags="DF") /
              UDP(sport=sport, dport=dport) / Raw(payload))
    if zero_csum:
        p[UDP].chksum = 0
        p = frame(p)
    return p


def server_tcp(rs, dport, sport=80, flags="SA", seq=9000, ack=1001, ip_id=0x5001, options=SYNACK_OPTIONS):
    return frame(Ether(dst=KADP_MAC["srv"], src=RS_MAC[rs]) /
                 IP(src=RS_IP[rs], dst=CLIENT_IP, ttl=64, id=ip_id, flags="DF") /
                 TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=65160, options=options))


def server_udp(rs, dport, sport=53, payload=b"kadp-udp-answer-0001", ip_id=0x6001, zero_csum=False):
    p = frame(Ether(dst=KADP_MAC["srv"], src=RS_MAC[rs]) /
              IP(src=RS_IP[rs], dst=CLIENT_IP, ttl=64, id=ip_id, flags="DF") /
              UDP(sport=sport, dport=dport) / Raw(payload))
    if zero_csum:
        p[UDP].chksum = 0
        p = frame(p)
    return p


def _l4(p):
    return p[TCP] if TCP in p else p[UDP]


def _refresh_checksums(p):
    del p[IP].chksum
    if TCP in p:
        del p[TCP].chksum
    elif UDP in p and p[UDP].chksum != 0:  # a zero UDP checksum means "none" and stays so
        del p[UDP].chksum
    return frame(p)


def nat_in(p, rs, rport):
    """Client -> real server as kadp must send it on srv."""
    q = Ether(bytes(p))
    q[Ether].src, q[Ether].dst = KADP_MAC["srv"], RS_MAC[rs]
    q[IP].dst = RS_IP[rs]
    q[IP].ttl -= 1
    _l4(q).dport = rport
    return _refresh_checksums(q)


def nat_out(p, vport):
    """Real server -> client as kadp must send it on lan."""
    q = Ether(bytes(p))
    q[Ether].src, q[Ether].dst = KADP_MAC["lan"], CLIENT_MAC
    q[IP].src = VIP
    q[IP].ttl -= 1
    _l4(q).sport = vport
    return _refresh_checksums(q)


def dr_in(p, rs):
    """Client -> real server by direct routing: only the MACs and the TTL change."""
    q = Ether(bytes(p))
    q[Ether].src, q[Ether].dst = KADP_MAC["srv"], RS_MAC[rs]
    q[IP].ttl -= 1
    return _refresh_checksums(q)


def tun_in(p, rs):
    """Client -> real server IP-in-IP: the client's packet with TTL - 1 inside
    an outer header from the srv port address to the server; outer TOS and
    DF copied from the inner, outer TTL = the inner's after the decrement,
    outer ID 0 (DF set), protocol 4."""
    inner = IP(bytes(p[IP]))
    inner.ttl -= 1
    del inner.chksum
    inner = IP(bytes(inner))
    outer = IP(src=PORT_IP["srv"], dst=RS_IP[rs], proto=4, ttl=inner.ttl, tos=inner.tos, id=0,
               flags="DF" if "DF" in inner.flags else 0)
    return frame(Ether(dst=RS_MAC[rs], src=KADP_MAC["srv"]) / outer / inner)


def frag_needed_for(p, mtu):
    """ICMP fragmentation needed from the VIP: next-hop MTU, the packet's IP
    header + 8 bytes as received; TOS 0xc0, ID 0, no DF, TTL 64."""
    quoted = bytes(p[IP])[: p[IP].ihl * 4 + 8]
    return pad(Ether(dst=p[Ether].src, src=p[Ether].dst) /
               IP(src=p[IP].dst, dst=p[IP].src, tos=0xC0, id=0, flags=0, ttl=64) /
               ICMP(type=3, code=4, nexthopmtu=mtu) / Raw(quoted))


def echo_request(dst_ip, ident=0x77, seq=1, ip_id=0x2001):
    return frame(Ether(dst=KADP_MAC["lan"], src=CLIENT_MAC) /
                 IP(src=CLIENT_IP, dst=dst_ip, ttl=64, id=ip_id, flags="DF") /
                 ICMP(type=8, code=0, id=ident, seq=seq) / Raw(bytes(range(32))))


def echo_reply_to(p):
    q = Ether(bytes(p))
    q[Ether].src, q[Ether].dst = p[Ether].dst, p[Ether].src
    q[IP].src, q[IP].dst = p[IP].dst, p[IP].src
    q[IP].ttl = 64
    del q[IP].chksum
    q[ICMP].type = 0
    del q[ICMP].chksum
    return frame(q)


def rst_for(p):
    """RFC 793 reset for segment p sent to a VIP port without a service."""
    ip, tcp = p[IP], p[TCP]
    if "A" in tcp.flags:
        seq, ack, flags = tcp.ack, 0, "R"
    else:
        seglen = len(tcp.payload) + (1 if "S" in tcp.flags else 0) + (1 if "F" in tcp.flags else 0)
        seq, ack, flags = 0, (tcp.seq + seglen) & 0xFFFFFFFF, "RA"
    return pad(Ether(dst=p[Ether].src, src=p[Ether].dst) /
               IP(src=ip.dst, dst=ip.src, tos=0, id=0, flags="DF", ttl=64) /
               TCP(sport=tcp.dport, dport=tcp.sport, seq=seq, ack=ack, flags=flags, window=0, urgptr=0))


def port_unreachable_for(p):
    quoted = bytes(p[IP])[: p[IP].len]
    return pad(Ether(dst=p[Ether].src, src=p[Ether].dst) /
               IP(src=p[IP].dst, dst=p[IP].src, tos=0xC0, id=0, flags=0, ttl=64) /
               ICMP(type=3, code=3) / Raw(quoted))


def ip_bytes(p, ttl=None) -> bytes:
    """The IPv4 packet of frame p as bytes, with its TTL changed (checksum
    recomputed) when ttl is given: what a router quotes after a hop."""
    q = Ether(bytes(p))
    if ttl is not None:
        q[IP].ttl = ttl
        del q[IP].chksum
    return bytes(Ether(bytes(q))[IP])


def icmp_error(port, src_mac, src_ip, dst_ip, icmp_type, code, quote: bytes, ip_id, mtu=0):
    """An ICMP error as a router sends it (TOS 0xc0, no DF, like Linux),
    arriving on `port`."""
    return frame(Ether(dst=KADP_MAC[port], src=src_mac) /
                 IP(src=src_ip, dst=dst_ip, tos=0xC0, id=ip_id, flags=0, ttl=64) /
                 ICMP(type=icmp_type, code=code, nexthopmtu=mtu) / Raw(quote))


def forwarded_icmp_error(p, out_port, dst_mac, src_ip=None, dst_ip=None, quote: bytes = b""):
    """ICMP error p as kadp must forward it: MACs, TTL - 1, the given outer
    address and the translated quote; checksums recomputed."""
    q = Ether(bytes(p))
    q[Ether].src, q[Ether].dst = KADP_MAC[out_port], dst_mac
    ip = q[IP]
    return frame(Ether(dst=dst_mac, src=KADP_MAC[out_port]) /
                 IP(src=src_ip or ip.src, dst=dst_ip or ip.dst, tos=ip.tos, id=ip.id, flags=ip.flags, ttl=ip.ttl - 1) /
                 ICMP(type=q[ICMP].type, code=q[ICMP].code, nexthopmtu=q[ICMP].nexthopmtu) / Raw(quote))


def split(p, offsets):
    """Frame p (one IPv4 datagram, DF clear) cut into fragments at the given
    payload offsets (multiples of 8); every fragment a complete frame."""
    ip = p[IP]
    payload = bytes(ip.payload)
    ends = list(offsets[1:]) + [len(payload)]
    out = []
    for i, (off, end) in enumerate(zip(offsets, ends)):
        out.append(frame(Ether(dst=p[Ether].dst, src=p[Ether].src) /
                         IP(src=ip.src, dst=ip.dst, tos=ip.tos, id=ip.id, ttl=ip.ttl, proto=ip.proto,
                            flags="MF" if i < len(offsets) - 1 else 0, frag=off // 8) /
                         Raw(payload[off:end])))
    return out


# --- the table ---------------------------------------------------------------
def _arp_answers() -> Fixture:
    req_port = arp_request(CLIENT_MAC, CLIENT_IP, PORT_IP["lan"])
    req_vip = arp_request(CLIENT_MAC, CLIENT_IP, VIP)
    req_srv = arp_request(RS_MAC[0], RS_IP[0], PORT_IP["srv"])
    return Fixture(
        name="arp_request_port_and_vip",
        description="ARP requests for the lan port address and the VIP (on lan) and for the srv port "
                    "address (on srv) are answered in place: every ARP field, same length and padding",
        config=config(WEB),
        inputs={"lan": [req_port, req_vip], "srv": [req_srv]},
        expected={"lan": [arp_reply_to(req_port, KADP_MAC["lan"], PORT_IP["lan"]),
                          arp_reply_to(req_vip, KADP_MAC["lan"], VIP)],
                  "srv": [arp_reply_to(req_srv, KADP_MAC["srv"], PORT_IP["srv"])]},
        counters={"arp_request_answered": 3, "arp_request_not_ours": 0},
    )


def _arp_unknown() -> Fixture:
    return Fixture(
        name="arp_request_unknown_address",
        description="ARP request for an address kadp does not own (198.18.0.77): no reply, counted",
        config=config(WEB),
        inputs={"lan": [arp_request(CLIENT_MAC, CLIENT_IP, "198.18.0.77")], "srv": []},
        expected={"lan": [], "srv": []},
        counters={"arp_request_not_ours": 1, "arp_request_answered": 0, "arp_request_learned": 0},
    )


def _icmp_echo() -> Fixture:
    hello_in, hello_out = client_hello()
    e_vip = echo_request(VIP, seq=1, ip_id=0x2001)
    e_port = echo_request(PORT_IP["lan"], seq=2, ip_id=0x2002)
    return Fixture(
        name="icmp_echo_vip_and_port",
        description="ICMP echo to the VIP and to the lan port address: echo replies with addresses swapped, "
                    "TTL 64, id/seq/payload kept, valid IP and ICMP checksums",
        config=config(WEB),
        inputs={"lan": hello_in + [e_vip, e_port], "srv": []},
        expected={"lan": hello_out + [echo_reply_to(e_vip), echo_reply_to(e_port)], "srv": []},
        counters={"icmp_echo_answered": 2, "arp_request_answered": 1},
    )


def _tcp_nat() -> Fixture:
    hello_in, hello_out = client_hello()
    syn = client_tcp(80, sport=40001, seq=1000)
    synack = server_tcp(0, dport=40001, seq=9000, ack=1001)
    ack = client_tcp(80, sport=40001, flags="A", seq=1001, ack=9001, ip_id=0x1002, options=[],
                     payload=b"GET / HTTP/1.0\r\n\r\n")
    return Fixture(
        name="tcp_nat_syn_synack_ack",
        description="SYN to VIP:80 -> ARP request for the real server on srv, SYN held; the server's ARP "
                    "reply releases it NAT'ed (dst 198.19.0.1, TTL-1); the SYN-ACK goes to the client from "
                    "VIP:80; the client's ACK with data follows the connection",
        config=config(WEB),
        inputs={"lan": hello_in + [syn, ack],
                "srv": [arp_reply(RS_MAC[0], RS_IP[0], KADP_MAC["srv"], PORT_IP["srv"]), synack]},
        # The ACK arrives in the lan burst while the neighbour is still
        # incomplete: held behind the SYN, released with it, in order.
        expected={"lan": hello_out + [nat_out(synack, 80), client_probe()],
                  "srv": [kadp_arp_request("srv", RS_IP[0]), nat_in(syn, 0, 80), nat_in(ack, 0, 80)]},
        counters={"conn_new": 1, "nat_in": 2, "nat_out": 1, "arp_request_sent": 2,
                  "neigh_unresolved_held": 2, "neigh_held_sent": 2, "nat_reply_no_conn": 0},
    )


def _udp_nat() -> Fixture:
    hello_in, hello_out = client_hello()
    q1 = client_udp(53, sport=40001, payload=b"kadp-udp-query-0001", ip_id=0x3001)
    q2 = client_udp(53, sport=40002, payload=b"kadp-udp-query-0002", ip_id=0x3002, zero_csum=True)
    a1 = server_udp(0, dport=40001, payload=b"kadp-udp-answer-0001", ip_id=0x6001)
    a2 = server_udp(0, dport=40002, payload=b"kadp-udp-answer-0002", ip_id=0x6002, zero_csum=True)
    return Fixture(
        name="udp_nat_both_directions",
        description="UDP to VIP:53 NAT'ed to 198.19.0.1:53 and the answers back from VIP:53; the datagram "
                    "and the answer sent with UDP checksum 0 keep checksum 0",
        config=config(DNS),
        inputs={"lan": hello_in + [q1, q2],
                "srv": [arp_reply(RS_MAC[0], RS_IP[0], KADP_MAC["srv"], PORT_IP["srv"]), a1, a2]},
        expected={"lan": hello_out + [nat_out(a1, 53), client_probe(), nat_out(a2, 53)],
                  "srv": [kadp_arp_request("srv", RS_IP[0]), nat_in(q1, 0, 53), nat_in(q2, 0, 53)]},
        counters={"conn_new": 2, "nat_in": 2, "nat_out": 2, "arp_request_sent": 2,
                  "neigh_unresolved_held": 2, "neigh_held_sent": 2},
    )


def _tcp_no_service() -> Fixture:
    hello_in, hello_out = client_hello()
    syn = client_tcp(81, sport=40003, seq=5000, ip_id=0x1101)
    stray_ack = client_tcp(81, sport=40004, flags="A", seq=7000, ack=424242, ip_id=0x1102, options=[])
    return Fixture(
        name="tcp_vip_port_without_service_rst",
        description="TCP to VIP:81 (only :80 has a service): a SYN gets RST+ACK with seq 0, ack = ISN+1; "
                    "an ACK segment gets RST with seq = its ack (RFC 793)",
        config=config(WEB),
        inputs={"lan": hello_in + [syn, stray_ack], "srv": []},
        expected={"lan": hello_out + [rst_for(syn), rst_for(stray_ack)], "srv": []},
        counters={"no_service_rst": 2, "conn_new": 0},
    )


def _udp_no_service() -> Fixture:
    hello_in, hello_out = client_hello()
    d = client_udp(5353, sport=40005, payload=b"", ip_id=0x3101)
    return Fixture(
        name="udp_vip_port_without_service_icmp",
        description="UDP to VIP:5353 (no service): ICMP port unreachable from the VIP quoting the "
                    "datagram's IP and UDP headers as received",
        config=config(WEB),
        inputs={"lan": hello_in + [d], "srv": []},
        expected={"lan": hello_out + [port_unreachable_for(d)], "srv": []},
        counters={"no_service_icmp_unreach": 1, "conn_new": 0},
    )


def _reply_no_conn() -> Fixture:
    return Fixture(
        name="real_server_reply_without_connection",
        description="A SYN-ACK from real server 198.19.0.1:80 with no connection behind it is dropped",
        config=config(WEB),
        inputs={"lan": [], "srv": [server_tcp(0, dport=40010)]},
        expected={"lan": [], "srv": []},
        counters={"nat_reply_no_conn": 1, "nat_out": 0},
    )


def _malformed() -> Fixture:
    to_vip = Ether(dst=KADP_MAC["lan"], src=CLIENT_MAC)
    short_eth = bytes(to_vip)[:10]
    ihl4 = pad(to_vip / IP(src=CLIENT_IP, dst=VIP, ihl=4) / TCP(dport=80, sport=40020))
    long_len = pad(to_vip / IP(src=CLIENT_IP, dst=VIP, len=200) / TCP(dport=80, sport=40021))
    trunc_tcp = pad(to_vip / IP(src=CLIENT_IP, dst=VIP, proto=6, len=30) / Raw(b"\x9c\x55\x00\x50" + b"\0" * 6))
    return Fixture(
        name="malformed_frames_dropped",
        description="A 10-byte frame, IHL 4, an IP total length past the frame and a 10-byte TCP header "
                    "are dropped with their drop_* counters; nothing is sent",
        config=config(WEB),
        inputs={"lan": [Raw(short_eth), ihl4, long_len, trunc_tcp], "srv": []},
        expected={"lan": [], "srv": []},
        counters={"drop_truncated_l2": 1, "drop_bad_ihl": 1, "drop_bad_total_length": 1,
                  "drop_truncated_l4": 1, "conn_new": 0},
    )


def _rr_three() -> Fixture:
    hello_in, hello_out = client_hello()
    syns = [client_tcp(80, sport=40101 + i, seq=2000 + 1000 * i, ip_id=0x1201 + i) for i in range(3)]
    replies = [arp_reply(RS_MAC[i], RS_IP[i], KADP_MAC["srv"], PORT_IP["srv"]) for i in range(3)]
    return Fixture(
        name="rr_three_real_servers",
        description="rr over 198.19.0.1-3: SYNs from client ports 40101, 40102, 40103 go to servers 1, 2, 3 "
                    "in that order (one ARP request each, then the held SYNs)",
        config=config(WEB3),
        inputs={"lan": hello_in + syns, "srv": replies},
        expected={"lan": hello_out,
                  "srv": [kadp_arp_request("srv", ip) for ip in RS_IP] +
                         [nat_in(syns[i], i, 80) for i in range(3)]},
        counters={"conn_new": 3, "nat_in": 3, "arp_request_sent": 3, "neigh_held_sent": 3},
    )


def _vlan() -> Fixture:
    def tag(p):
        q = Ether(bytes(p))
        eth = Ether(dst=q.dst, src=q.src, type=0x8100)
        return frame(eth / Dot1Q(prio=0, id=0, vlan=100, type=q.type) / q.payload)

    req = arp_request(CLIENT_MAC, CLIENT_IP, VIP)
    e = echo_request(VIP, seq=9, ip_id=0x2009)
    return Fixture(
        name="vlan_tagged_arp_and_echo",
        description="lan configured with vlan 100: a tagged ARP request for the VIP and a tagged echo "
                    "request are answered with the tag kept",
        config=config(WEB, lan_extra="vlan 100"),
        inputs={"lan": [tag(req), tag(gratuitous_arp(CLIENT_MAC, CLIENT_IP)), tag(e)], "srv": []},
        expected={"lan": [tag(arp_reply_to(req, KADP_MAC["lan"], VIP)), tag(echo_reply_to(e))], "srv": []},
        counters={"vlan_passed": 3, "arp_request_answered": 1, "icmp_echo_answered": 1},
    )


def _tcp_dr() -> Fixture:
    hello_in, hello_out = client_hello()
    syn = client_tcp(80, sport=40201, seq=3000, ip_id=0x1301)
    ack = client_tcp(80, sport=40201, flags="A", seq=3001, ack=7001, ip_id=0x1302, options=[],
                     payload=b"GET / HTTP/1.0\r\n\r\n")
    return Fixture(
        name="tcp_dr_syn_ack",
        description="lb_kind DR: the SYN and the data after it go to 198.19.0.1's MAC from the srv port "
                    "with the IP packet unchanged but for TTL - 1 (destination still the VIP); no reply "
                    "direction exists",
        config=config(WEB_DR),
        inputs={"lan": hello_in + [syn, ack],
                "srv": [arp_reply(RS_MAC[0], RS_IP[0], KADP_MAC["srv"], PORT_IP["srv"])]},
        expected={"lan": hello_out, "srv": [kadp_arp_request("srv", RS_IP[0]), dr_in(syn, 0), dr_in(ack, 0)]},
        counters={"conn_new": 1, "xmit_dr": 2, "nat_in": 0, "conn_hit_in": 1, "neigh_held_sent": 2},
    )


def _tcp_tun() -> Fixture:
    hello_in, hello_out = client_hello()
    syn = client_tcp(80, sport=40301, seq=4000, ip_id=0x1401)
    syn[IP].tos = 0xB9  # DSCP 46 + ECN 01: copied to the outer header
    syn = _refresh_checksums(syn)
    ack = client_tcp(80, sport=40301, flags="A", seq=4001, ack=8001, ip_id=0x1402, options=[],
                     payload=b"GET / HTTP/1.0\r\n\r\n")
    big = client_tcp(80, sport=40301, flags="A", seq=4019, ack=8001, ip_id=0x1403, options=[],
                     payload=bytes(range(256)) * 4)
    return Fixture(
        name="tcp_tun_ipip_and_frag_needed",
        description="lb_kind TUN (ipip) to 198.19.0.2 over srv with mtu 1000: SYN and data encapsulated "
                    "(outer 198.19.0.254 -> 198.19.0.2, protocol 4, TOS/DF from the inner, TTL = inner "
                    "TTL - 1, ID 0); a 1064-byte DF packet gets ICMP fragmentation needed with MTU 980",
        config=config(WEB_TUN, srv_extra="mtu 1000"),
        inputs={"lan": hello_in + [syn, ack, big],
                "srv": [arp_reply(RS_MAC[1], RS_IP[1], KADP_MAC["srv"], PORT_IP["srv"])]},
        expected={"lan": hello_out + [frag_needed_for(big, 980)],
                  "srv": [kadp_arp_request("srv", RS_IP[1]), tun_in(syn, 1), tun_in(ack, 1)]},
        counters={"conn_new": 1, "xmit_tun": 2, "frag_needed_sent": 1, "nat_in": 0, "neigh_held_sent": 2},
    )


def _mixed_methods() -> Fixture:
    hello_in, hello_out = client_hello()
    syns = [client_tcp(80, sport=40401 + i, seq=5000 + 1000 * i, ip_id=0x1501 + i) for i in range(3)]
    replies = [arp_reply(RS_MAC[i], RS_IP[i], KADP_MAC["srv"], PORT_IP["srv"]) for i in range(3)]
    service = f"""virtual_server {VIP} 80 {{
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server {RS_IP[0]} 80 {{
        lvs_method DR
    }}
    real_server {RS_IP[1]} 80 {{
        lvs_method TUN
    }}
    real_server {RS_IP[2]} 80 {{
    }}
}}
"""
    return Fixture(
        name="mixed_methods_one_service",
        description="one service, lvs_method per real server: rr sends the first SYN by DR to 198.19.0.1, "
                    "the second IP-in-IP to 198.19.0.2, the third NAT'ed to 198.19.0.3",
        config=config(service),
        inputs={"lan": hello_in + syns, "srv": replies},
        expected={"lan": hello_out,
                  "srv": [kadp_arp_request("srv", ip) for ip in RS_IP] +
                         [dr_in(syns[0], 0), tun_in(syns[1], 1), nat_in(syns[2], 2, 80)]},
        counters={"conn_new": 3, "xmit_dr": 1, "xmit_tun": 1, "nat_in": 1, "neigh_held_sent": 3},
    )


def _icmp_errors_translated() -> Fixture:
    hello_in, hello_out = client_hello()
    q1 = client_udp(53, sport=40001, payload=b"kadp-udp-query-0001", ip_id=0x3001)
    a1 = server_udp(0, dport=40001, sport=5353, payload=b"kadp-udp-answer-0001", ip_id=0x6001)
    # Beyond the client: the answer (VIP:53 -> client, TTL 63 after kadp) is too big.
    err_lan = icmp_error("lan", ROUTER_LAN_MAC, ROUTER_LAN_IP, VIP, 3, 4,
                         ip_bytes(nat_out(a1, 53))[:28], 0x4001, mtu=1280)
    # Before the servers: the query (client -> 198.19.0.1:5353, TTL 63) ran out of TTL.
    err_srv = icmp_error("srv", ROUTER_SRV_MAC, ROUTER_SRV_IP, CLIENT_IP, 11, 0,
                         ip_bytes(nat_in(q1, 0, 5353))[:28], 0x4002)
    return Fixture(
        name="icmp_errors_translated_both_ways",
        description="UDP VIP:53 -> 198.19.0.1:5353. Fragmentation needed from a router beyond the client "
                    "about the answer goes to the real server (outer dst, quoted src and port rewritten, "
                    "quoted IP and UDP checksums as the server sent them); time exceeded from a router "
                    "before the servers about the query goes to the client from the VIP (quoted dst and "
                    "port back to VIP:53)",
        config=config(DNS5353),
        inputs={"lan": hello_in + [q1, err_lan],
                "srv": [arp_reply(RS_MAC[0], RS_IP[0], KADP_MAC["srv"], PORT_IP["srv"]), a1, err_srv]},
        expected={"lan": hello_out + [nat_out(a1, 53), client_probe(),
                                      forwarded_icmp_error(err_srv, "lan", CLIENT_MAC, src_ip=VIP,
                                                           quote=ip_bytes(q1, ttl=63)[:28])],
                  "srv": [kadp_arp_request("srv", RS_IP[0]), nat_in(q1, 0, 5353),
                          forwarded_icmp_error(err_lan, "srv", RS_MAC[0], dst_ip=RS_IP[0],
                                               quote=ip_bytes(a1, ttl=63)[:28])]},
        counters={"icmp_error_nat": 2, "icmp_error_no_conn": 0, "conn_new": 1},
    )


def _icmp_errors_dropped() -> Fixture:
    hello_in, hello_out = client_hello()
    q1 = client_udp(53, sport=40001, ip_id=0x3001)
    a1 = server_udp(0, dport=40001, sport=5353, ip_id=0x6001)
    reply = ip_bytes(nat_out(a1, 53))
    forged = ip_bytes(nat_out(server_udp(0, dport=40999, sport=5353), 53))
    errs = [icmp_error("lan", ROUTER_LAN_MAC, ROUTER_LAN_IP, VIP, 3, 4, b"", 0x4101, mtu=1280),
            icmp_error("lan", ROUTER_LAN_MAC, ROUTER_LAN_IP, VIP, 3, 4, reply[:24], 0x4102, mtu=1280),
            icmp_error("lan", ROUTER_LAN_MAC, ROUTER_LAN_IP, VIP, 3, 4, forged[:28], 0x4103, mtu=1280),
            icmp_error("lan", ROUTER_LAN_MAC, ROUTER_LAN_IP, VIP, 5, 1, reply[:28], 0x4104)]
    return Fixture(
        name="icmp_errors_dropped",
        description="ICMP errors to the VIP quoting nothing, only 4 bytes of UDP, a connection that does "
                    "not exist, and a redirect (not related, as in IPVS): all dropped and counted; the "
                    "query itself waits for its real server's ARP",
        config=config(DNS5353),
        inputs={"lan": hello_in + [q1] + [pad(e) for e in errs], "srv": []},
        expected={"lan": hello_out, "srv": [kadp_arp_request("srv", RS_IP[0])]},
        counters={"icmp_error_bad_quote": 2, "icmp_error_no_conn": 1, "icmp_error_not_related": 1,
                  "icmp_error_nat": 0},
    )


def _fragments() -> Fixture:
    hello_in, hello_out = client_hello()
    body = bytes(range(48, 88))
    q = frame(Ether(dst=KADP_MAC["lan"], src=CLIENT_MAC) /
              IP(src=CLIENT_IP, dst=VIP, ttl=64, id=0x3301, flags=0) / UDP(sport=40001, dport=53) / Raw(body))
    a = frame(Ether(dst=KADP_MAC["srv"], src=RS_MAC[0]) /
              IP(src=RS_IP[0], dst=CLIENT_IP, ttl=64, id=0x6301, flags=0) / UDP(sport=5353, dport=40001) / Raw(body))
    offsets = [0, 24, 40]
    return Fixture(
        name="ipv4_fragments_follow_their_first",
        description="A UDP datagram to VIP:53 in 3 fragments: the first opens the connection and is NAT'ed "
                    "with its UDP checksum right for the whole datagram, the later two get the same "
                    "address rewrite (IP checksum only); the real server's fragmented answer comes back "
                    "from VIP:53 the same way",
        config=config(DNS5353),
        inputs={"lan": hello_in + split(q, offsets),
                "srv": [arp_reply(RS_MAC[0], RS_IP[0], KADP_MAC["srv"], PORT_IP["srv"])] + split(a, offsets)},
        expected={"lan": hello_out + split(nat_out(a, 53), offsets)[:1] + [client_probe()] +
                         split(nat_out(a, 53), offsets)[1:],
                  "srv": [kadp_arp_request("srv", RS_IP[0])] + split(nat_in(q, 0, 5353), offsets)},
        counters={"conn_new": 1, "frag_first_tracked": 2, "frag_forwarded": 4, "frag_datagram_done": 2,
                  "nat_in": 3, "nat_out": 3},
    )


def _from_client(p, ip: str):
    """The same frame from another client address of the LAN."""
    q = Ether(bytes(p))
    q[IP].src = ip
    return _refresh_checksums(q)


def _sh_bucket_dest(ip: str, dests: int) -> int:
    """IPVS sh (ip_vs_sh.c) by hand: bucket hash_32(ntohl(saddr), 8) with
    Linux's GOLDEN_RATIO_32, buckets dealt one per dest (weights 1) in list
    order, so bucket b belongs to dest b % dests."""
    a, b, c, d = (int(x) for x in ip.split("."))
    bucket = ((((a << 24) | (b << 16) | (c << 8) | d) * 0x61C88647) & 0xFFFFFFFF) >> 24
    return bucket % dests


def _sh_source_hash() -> Fixture:
    clients = [f"198.18.0.{i}" for i in range(1, 7)]
    syns = [_from_client(client_tcp(80, sport=40601 + i, seq=6000 + 100 * i, ip_id=0x1601 + i), ip)
            for i, ip in enumerate(clients)]
    dest = [_sh_bucket_dest(ip, 3) for ip in clients]
    first_use = list(dict.fromkeys(dest))
    return Fixture(
        name="sh_source_hash_by_hand",
        description="lb_algo sh over 198.19.0.1-3 (weights 1): SYNs from clients 198.18.0.1-6 go to the "
                    "server IPVS's hash_32(saddr, 8) bucket names (computed here, by hand: " +
                    ", ".join(f"{ip} -> {RS_IP[d]}" for ip, d in zip(clients, dest)) + ")",
        config=config(virtual_server(VIP, 80, "TCP", [(RS_IP[i], 80, 1) for i in range(3)], algo="sh")),
        inputs={"lan": syns,
                "srv": [arp_reply(RS_MAC[i], RS_IP[i], KADP_MAC["srv"], PORT_IP["srv"]) for i in range(3)]},
        # ARP requests in first-use order; each reply releases its server's held SYNs.
        expected={"lan": [],
                  "srv": [kadp_arp_request("srv", RS_IP[d]) for d in first_use] +
                         [nat_in(syns[k], i, 80) for i in range(3) for k in range(len(syns)) if dest[k] == i]},
        counters={"conn_new": 6, "nat_in": 6, "arp_request_sent": 3, "neigh_held_sent": 6},
    )


def _persistence() -> Fixture:
    hello_in, hello_out = client_hello()
    other = "198.18.0.2"
    syns = [client_tcp(80, sport=40701 + i, seq=7000 + 100 * i, ip_id=0x1701 + i) for i in range(3)]
    syns.append(_from_client(client_tcp(80, sport=40701, seq=7400, ip_id=0x1704), other))
    service = WEB3.replace("    lb_kind NAT\n", "    lb_kind NAT\n    persistence_timeout 60\n")
    return Fixture(
        name="persistence_same_client_new_ports",
        description="rr over 198.19.0.1-3 with persistence_timeout 60: three connections of 198.18.0.1 from "
                    "ports 40701-40703 all go to 198.19.0.1 (its template), where plain rr would rotate; "
                    "198.18.0.2 gets a template of its own on rr's next server, 198.19.0.2",
        config=config(service),
        inputs={"lan": hello_in + syns,
                "srv": [arp_reply(RS_MAC[i], RS_IP[i], KADP_MAC["srv"], PORT_IP["srv"]) for i in range(2)]},
        expected={"lan": hello_out,
                  "srv": [kadp_arp_request("srv", RS_IP[0]), kadp_arp_request("srv", RS_IP[1])] +
                         [nat_in(syns[i], 0, 80) for i in range(3)] + [nat_in(syns[3], 1, 80)]},
        counters={"conn_new": 4, "nat_in": 4, "persist_template_new": 2, "persist_template_hit": 2},
    )


FIXTURE_BUILDERS: list[Callable[[], Fixture]] = [
    _arp_answers, _arp_unknown, _icmp_echo, _tcp_nat, _udp_nat, _tcp_no_service, _udp_no_service,
    _reply_no_conn, _malformed, _rr_three, _vlan, _tcp_dr, _tcp_tun, _mixed_methods,
    _icmp_errors_translated, _icmp_errors_dropped, _fragments, _sh_source_hash, _persistence,
]


def all_fixtures() -> list[Fixture]:
    fixtures = [b() for b in FIXTURE_BUILDERS]
    names = [f.name for f in fixtures]
    assert len(names) == len(set(names)), "fixture names must be unique"
    return fixtures

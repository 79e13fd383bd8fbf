#!/usr/bin/python3
# Runs on: a developer's host (Debian's /usr/bin/python3 with python3-scapy).
# Writes the seed corpora of the libFuzzer targets (tests/fuzz/corpus_NAME/,
# checked in; run again only to change them): real frames from the packet
# fixtures (tests/packet/fixtures.py), VRRP adverts as keepalived sends them,
# HTTP/SMTP/DNS replies as servers send them, kadpctl requests and replies.
#   tests/fuzz/make_seeds.py            (from anywhere; rewrites the corpora)
import hashlib
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "packet"))

from scapy.layers.dns import DNS, DNSQR, DNSRR  # noqa: E402
from scapy.layers.inet import ICMP, IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.l2 import Dot1Q, Ether  # noqa: E402
from scapy.layers.vrrp import VRRP, VRRPv3  # noqa: E402

import fixtures  # noqa: E402


def write(name: str, seeds: dict[str, bytes]) -> None:
    d = os.path.join(here, f"corpus_{name}")
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    for label, data in seeds.items():
        with open(os.path.join(d, label), "wb") as out:
            out.write(data)
    print(f"corpus_{name}: {len(seeds)} seeds")


def packet_seeds() -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    seen = set()
    for f in fixtures.all_fixtures():
        for port, frames in f.inputs.items():
            for i, fr in enumerate(frames):
                b = bytes(fr)
                if b in seen:
                    continue
                seen.add(b)
                seeds[f"{f.name}-{port}-{i}"] = b
    mac = dict(src="02:00:00:00:01:01", dst="02:70:63:61:70:00")
    seeds["ipv6-tcp-syn"] = bytes(Ether(**mac) / IPv6(src="2001:db8::1", dst="2001:db8::100") /
                                  TCP(sport=40001, dport=80, flags="S"))
    seeds["qinq"] = bytes(Ether(**mac, type=0x88a8) / Dot1Q(vlan=10) / IP(src="198.18.0.1", dst="198.18.0.100") /
                          ICMP())
    seeds["ipv4-options-udp"] = bytes(Ether(**mac) / IP(src="198.18.0.1", dst="198.18.0.100",
                                                        options=b"\x94\x04\x00\x00") /
                                      UDP(sport=40001, dport=53) / b"q")
    return seeds


def pipeline_seeds() -> dict[str, bytes]:
    # fuzz_pipeline's records: [control: bit 0 = port (lan 0, srv 1)]
    # [length, 2 bytes big endian][frame]; each fixture's lan frames, then
    # its srv frames (the order run_fixtures.py plays them in), at most 8.
    # The fixtures' addresses and services are the ones fuzz_pipeline sets up.
    seeds: dict[str, bytes] = {}
    for f in fixtures.all_fixtures():
        records = []
        for port, control in (("lan", 0), ("srv", 1)):
            for fr in f.inputs.get(port, []):
                b = bytes(fr)
                records.append(bytes([control]) + len(b).to_bytes(2, "big") + b)
        if records:
            seeds[f.name] = b"".join(records[:8])
    return seeds


V4_SRC, V4_GROUP = "198.18.0.1", "224.0.0.18"
V6_SRC, V6_GROUP = "fe80::1", "ff02::12"


def vrrp_seeds() -> dict[str, bytes]:
    v2_pass = IP(src=V4_SRC, dst=V4_GROUP, ttl=255, tos=0xc0, id=1) / VRRP(
        vrid=51, priority=100, ipcount=2, authtype=1, adv=1, addrlist=["198.18.0.100", "198.18.0.101"],
        auth1=int.from_bytes(b"secr", "big"), auth2=int.from_bytes(b"et\0\0", "big"))
    v2_none = IP(src=V4_SRC, dst=V4_GROUP, ttl=255, tos=0xc0, id=2) / VRRP(
        vrid=51, priority=255, ipcount=1, authtype=0, adv=3, addrlist=["198.18.0.100"])
    v3_v4 = IP(src=V4_SRC, dst=V4_GROUP, ttl=255, tos=0xc0, id=3) / VRRPv3(
        vrid=51, priority=100, ipcount=2, adv=100, addrlist=["198.18.0.100", "198.18.0.101"])
    v3_v6 = IPv6(src=V6_SRC, dst=V6_GROUP, hlim=255, tc=0xc0) / VRRPv3(
        vrid=51, priority=150, ipcount=1, adv=50, addrlist=["2001:db8::100"])
    leaving = IP(src=V4_SRC, dst=V4_GROUP, ttl=255, tos=0xc0, id=4) / VRRPv3(
        vrid=51, priority=0, ipcount=1, adv=100, addrlist=["198.18.0.100"])
    seeds = {
        "v2-pass-ipv4": bytes(v2_pass),
        "v2-none-owner-ipv4": bytes(v2_none),
        "v3-ipv4": bytes(v3_v4),
        "v3-ipv6": bytes(v3_v6),
        "v3-priority0-ipv4": bytes(leaving),
        "v2-pass-payload": bytes(v2_pass[VRRP]),
        "v3-ipv4-payload": bytes(v3_v4[VRRPv3]),
        "v3-ipv6-payload": bytes(v3_v6[VRRPv3]),
    }
    return seeds


def http_seeds() -> dict[str, bytes]:
    # The first byte picks the chunk size the response is fed in.
    body = b"<html><body>It works!</body></html>\n"
    return {
        "200-content-length": b"\x07HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n"
                              b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body,
        "200-to-eof": b"\x00HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n\r\n" + body,
        "301-redirect": b"\x03HTTP/1.1 301 Moved Permanently\r\nLocation: http://198.18.0.100/new\r\n"
                        b"content-length: 0\r\n\r\n",
        "503": b"\x0fHTTP/1.1 503 Service Unavailable\r\nContent-Length:\t19\r\nRetry-After: 5\r\n\r\n"
               b"Service Unavailable",
        "short-body": b"\x01HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a few bytes",
        "no-blank-line": b"\x02HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
        "not-http": b"\x05SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
    }


def smtp_seeds() -> dict[str, bytes]:
    return {
        "postfix-session": b"220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n250 mail.example.org\r\n"
                           b"221 2.0.0 Bye\r\n",
        "exim-multiline": b"220-mail.example.org ESMTP Exim 4.96\r\n220 ready\r\n",
        "busy": b"421 4.3.2 Service not available, closing transmission channel\r\n",
        "bare-code": b"220\r\n250\n",
        "helo-refused": b"220 mx ESMTP\r\n501 5.5.4 Syntax: HELO hostname\r\n",
    }


def dns_seeds() -> dict[str, bytes]:
    q = DNSQR(qname="www.example.org", qtype="A")
    return {
        "noerror-a": bytes(DNS(id=0x4b41, qr=1, rd=1, ra=1, qd=q,
                               an=DNSRR(rrname="www.example.org", type="A", ttl=300, rdata="198.19.0.1"))),
        "nxdomain": bytes(DNS(id=0x4b41, qr=1, rd=1, ra=1, rcode=3, qd=q)),
        "servfail": bytes(DNS(id=0x4b41, qr=1, rd=1, rcode=2, qd=q)),
        "other-id": bytes(DNS(id=0x1234, qr=1, rd=1, qd=q)),
        "query": bytes(DNS(id=0x4b41, rd=1, qd=q)),
        "name": b"www.example.org",
        "name-root": b".",
        "name-trailing-dot": b"mail.example.org.",
    }


def ctl_seeds() -> dict[str, bytes]:
    list_reply = (b'{"ok":true,"command":"list","result":{"backend":"dpdk","ipvs_version":"1.2.1",'
                  b'"conn_table_size":65536,"services":[{"protocol":"TCP","address":"198.18.0.100","port":80,'
                  b'"fwmark":0,"family":"inet","scheduler":"wrr","dests":[{"address":"198.19.0.1","port":80,'
                  b'"forward":"Masq","weight":3,"active_conns":1,"inactive_conns":2}]}]}}\n')
    conns_reply = (b'{"ok":true,"command":"conns","result":{"total":1,"truncated":false,"conns":[{"protocol":"TCP",'
                   b'"expires":899,"state":"ESTABLISHED","client":"198.18.0.1","client_port":40001,'
                   b'"virtual":"198.18.0.100","virtual_port":80,"dest":"198.19.0.1","dest_port":80}]}}\n')
    status_reply = (b'{"ok":true,"command":"status","result":{"backend":"dpdk","version":"0.1.0","pid":9,'
                    b'"uptime_seconds":12,"config_file":"/etc/kadp/keepalived.conf","generation":2,'
                    b'"worker_lcores":[1],"ports":[{"name":"lan","device":"net_af_packet0","port_id":0,'
                    b'"mac":"02:00:00:00:00:01","rx_packets":5,"rx_bytes":300,"tx_packets":4,"tx_bytes":240,'
                    b'"rx_missed":0,"rx_errors":0,"rx_nombuf":0,"tx_errors":0}],"counters":{"rx_packets":5},'
                    b'"conn_table":{"capacity":4096,"in_use":1},"services":1,"real_servers":2,'
                    b'"last_reload":null,"vrrp":[{"name":"VI_1","interface":"lan","vrid":51,"state":"BACKUP",'
                    b'"priority":100}]}}\n')
    reload_reply = (b'{"ok":true,"command":"reload","result":{"accepted":false,"generation":3,"time":1700000000,'
                    b'"trigger":"kadpctl","message":"k.conf: 1 error(s); the running configuration stays '
                    b'(generation 3)","diagnostics":[{"file":"k.conf","line":4,"severity":"error",'
                    b'"message":"unknown keyword \\"foo\\" \\u00e9"}],"changes":[]}}\n')
    return {
        "list": b"list\n",
        "conns": b"conns\n",
        "conns-limit": b"conns 10\r\n",
        "status": b"status\n",
        "reload": b"reload\n",
        "checks": b"checks\n",
        "vrrp": b"vrrp\n",
        "stats": b"stats\n",
        "unknown": b"restart now\n",
        "conns-zero": b"conns 0\n",
        "reply-list": list_reply,
        "reply-conns": conns_reply,
        "reply-status": status_reply,
        "reply-reload": reload_reply,
        "reply-checks": b'{"ok":true,"command":"checks","result":{"checkers":[{"virtual_server":"[198.18.0.100]:tcp:80",'
                        b'"real_server":"[198.19.0.2]:tcp:80","checked":"[198.19.0.2]:tcp:80","type":"TCP_CHECK",'
                        b'"state":"down","in_service":false,"weight":0,"last_result":"failed",'
                        b'"reason":"TCP connection to [198.19.0.2]:tcp:80 timeout.","latency_ms":5000,'
                        b'"last_check":1795624414,"last_transition":1795624405,"consecutive_failures":4,"retry":2}]}}\n',
        "reply-vrrp": b'{"ok":true,"command":"vrrp","result":{"instances":[{"name":"VI_1","interface":"lan","vrid":51,'
                      b'"state":"BACKUP","priority":100,"base_priority":100,"master":"198.18.0.3","master_is_self":false,'
                      b'"last_transition":1795624405,"reason":"startup","dropped":{"bad_ttl":2}}],"dropped":{"bad_ttl":2}}}\n',
        "reply-stats": b'{"ok":true,"command":"stats","result":{"backend":"dpdk","workers":[{"lcore":1,"counters":'
                       b'{"rx_packets":7}}],"totals":{"rx_packets":7},"ports":[],"conn_table":{"capacity":65536,"in_use":0},'
                       b'"mempools":[],"ipvs":null}}\n',
        "reply-error": b'{"ok":false,"error":"unknown command \'foo\' (expected list, conns, status, reload, checks, vrrp or stats)"}\n',
    }


if __name__ == "__main__":
    write("packet", packet_seeds())
    write("pipeline", pipeline_seeds())
    write("vrrp", vrrp_seeds())
    write("http", http_seeds())
    write("smtp", smtp_seeds())
    write("dns", dns_seeds())
    write("ctl", ctl_seeds())

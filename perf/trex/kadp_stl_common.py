# Runs on: the TRex traffic generator host (TRex stateless, Python 3), never
# on the kadp appliance. Shared by the kadp TRex profiles in this folder.
#
# Address plan (docs/benchmarking.md, "Topology"), all in 198.18.0.0/15, the
# range RFC 2544 reserves for benchmarking:
#   198.18.0.1/24     kadp port 0 (client side)      198.18.0.2  TRex port 0
#   198.18.0.100      the VIP (virtual_server 198.18.0.100 80)
#   198.18.128.0/17   clients, routed by kadp via 198.18.0.2
#   198.19.0.1/24     kadp port 1 (server side)      198.19.0.2  TRex port 1
#   198.19.1.0/24     real servers, routed by kadp via 198.19.0.2
# TRex port 0 sends client -> VIP traffic; TRex port 1 receives what kadp
# forwarded to the real servers and counts it.
#
# Tunables: `start -f udp_flood.py -t flows=100000,size=128` in the TRex
# console. Newer TRex passes them as an argument list (`tunables`), older
# releases as keyword arguments; parse_tunables() accepts both.
import argparse
import os

try:  # TRex v2.50 and later
    from trex.stl.api import *  # noqa: F401,F403 (STLVM, STLStream, scapy layers, CTRexVmInsFixHwCs, ...)
except ImportError:  # older layouts
    from trex_stl_lib.api import *  # noqa: F401,F403

VIP = "198.18.0.100"
VPORT = 80
CLIENT_FIRST = "198.18.128.1"
CLIENT_LAST = "198.18.255.254"
# New-flow (SYN) clients of established_mix.py: the top /18 of the client
# range, disjoint from the established flows' range below it.
NEW_CLIENT_FIRST = "198.18.192.1"
NEW_CLIENT_LAST = "198.18.255.254"
EST_CLIENT_FIRST = "198.18.128.1"
EST_CLIENT_LAST = "198.18.191.254"

DEFAULTS = {
    "size": 64,         # frame size on the wire, FCS included (RFC 2544 sizes: 64 128 256 512 1024 1280 1518)
    "flows": 1000000,   # distinct (source address, source port) pairs
    "vip": VIP,
    "vport": VPORT,
    "pps": 1000000,     # established_mix.py: continuous rate, data + new SYNs (keep -m 1)
    "new_pct": 10,      # established_mix.py: share of SYNs of new flows, in percent of the packets
    "warmup_pps": 1000000,  # established_mix.py: rate of the opening SYN of every established flow
    "l4_csum": "hw",    # hw: NIC offload fixes IPv4 + L4 checksums; sw: IPv4 only (see client_tuple_vm)
}


def parse_tunables(name, kwargs):
    """The profile's settings from TRex's tunables, whichever way they come."""
    values = dict(DEFAULTS)
    tunables = kwargs.get("tunables")
    if isinstance(tunables, (list, tuple)):
        parser = argparse.ArgumentParser(prog=name, description="kadp TRex profile " + name)
        for key, default in DEFAULTS.items():
            parser.add_argument("--" + key, type=type(default), default=default)
        values.update(vars(parser.parse_args(list(tunables))))
    else:
        for key, default in DEFAULTS.items():
            if key in kwargs:
                values[key] = type(default)(kwargs[key])
    if values["size"] < 64 or values["size"] > 9216:
        raise ValueError("size must be 64..9216 (frame size including the 4-byte FCS)")
    if values["pps"] <= 0 or values["warmup_pps"] <= 0:
        raise ValueError("pps and warmup_pps must be positive")
    if values["flows"] < 1:
        raise ValueError("flows must be at least 1")
    if values["l4_csum"] not in ("hw", "sw"):
        raise ValueError("l4_csum is hw or sw")
    if not 0 <= values["new_pct"] < 100:
        raise ValueError("new_pct must be 0..99")
    return values


def padded(base_pkt, frame_size):
    """The packet padded to frame_size on the wire (the NIC adds the FCS)."""
    pad = max(0, frame_size - 4 - len(base_pkt))
    return base_pkt / ("x" * pad)


def client_tuple_vm(l4, flows, first=CLIENT_FIRST, last=CLIENT_LAST, op_random=False, l4_csum="hw"):
    """A field engine program giving each packet a client (address, port)
    out of `flows` distinct pairs and fixing the checksums.

    tuple_var walks addresses first, then ports, and repeats after
    `flows` packets, so the first `flows` packets of a stream are exactly the
    flows, once each. With op_random the pair is drawn at random instead
    (new connections on every packet, as a flood has).
    """
    vm = STLVM()
    if op_random:
        vm.var(name="src_ip", min_value=first, max_value=last, size=4, op="random")
        vm.var(name="src_port", min_value=1025, max_value=65535, size=2, op="random")
        vm.write(fv_name="src_ip", pkt_offset="IP.src")
        vm.write(fv_name="src_port", pkt_offset=l4 + ".sport")
    else:
        vm.tuple_var(name="tuple", ip_min=first, ip_max=last, port_min=1025, port_max=65535, limit_flows=flows)
        vm.write(fv_name="tuple.ip", pkt_offset="IP.src")
        vm.write(fv_name="tuple.port", pkt_offset=l4 + ".sport")
    if l4_csum == "hw":
        # IPv4 and TCP/UDP checksums by the NIC's offload (TRex's
        # syn_attack_fix_cs_hw.py does the same).
        l4_type = CTRexVmInsFixHwCs.L4_TYPE_TCP if l4 == "TCP" else CTRexVmInsFixHwCs.L4_TYPE_UDP  # noqa: F405
        vm.fix_chksum_hw(l3_offset="IP", l4_offset=l4, l4_type=l4_type)
    else:
        # IPv4 header checksum in software only: the L4 checksum stays the
        # base packet's (UDP: 0, "no checksum"; TCP: stale). kadp does not
        # verify L4 checksums (it updates them incrementally), and the sink
        # port only counts packets; use this on NICs without TX offloads.
        vm.fix_chksum()
    return vm


def profile_name(path):
    return os.path.basename(path)

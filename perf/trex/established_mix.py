# Runs on: the TRex traffic generator host (TRex stateless). Not on kadp.
#
# Established-flow mix, the traffic a load balancer mostly sees:
#   1. warm-up: one SYN for each of `flows` flows (198.18.128.0/18 clients),
#      a single burst at warmup_pps, so kadp holds `flows` connections;
#   2. then, continuously: TCP ACK|PSH data packets of those same flows
#      (IPVS moves SYN_RECV + ACK to ESTABLISHED, 900 s), cycling through
#      all of them, plus `new_pct` percent of SYNs from random new clients
#      (198.18.192.0/18), i.e. new connections among established traffic.
# The data stream starts when the warm-up burst ends (`next`), so no data
# packet arrives before its SYN (kadp drops non-SYN packets without a
# connection, `conn_not_syn`, as IPVS does).
#
#   trex> start -f perf/trex/established_mix.py -m 1 -p 0 -t flows=1000000,pps=10000000,new_pct=10
#
# Stateless limits: there are no replies (TRex port 1 only counts what kadp
# forwards), so the out-direction lookups of NAT are not exercised; the -m
# multiplier scales every stream, the warm-up too: keep -m 1 and set `pps`
# (the continuous total). Tunables: size, flows, pps, new_pct, warmup_pps,
# vip, vport, l4_csum.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kadp_stl_common import (IP, TCP, Ether, STLPktBuilder, STLStream, STLTXCont, STLTXSingleBurst,  # noqa: E402
                             client_tuple_vm, padded, parse_tunables, EST_CLIENT_FIRST, EST_CLIENT_LAST,
                             NEW_CLIENT_FIRST, NEW_CLIENT_LAST)


class KadpEstablishedMix:
    def get_streams(self, direction=0, **kwargs):
        t = parse_tunables("established_mix.py", kwargs)
        flows = t["flows"]
        ip = IP(src=EST_CLIENT_FIRST, dst=t["vip"], ttl=64)

        def est_vm():
            return client_tuple_vm("TCP", flows, first=EST_CLIENT_FIRST, last=EST_CLIENT_LAST,
                                   l4_csum=t["l4_csum"])

        syn = Ether() / ip / TCP(sport=1025, dport=t["vport"], flags="S", seq=1000, window=65535)
        data = Ether() / ip / TCP(sport=1025, dport=t["vport"], flags="PA", seq=1001, ack=1, window=65535)
        new = (Ether() / IP(src=NEW_CLIENT_FIRST, dst=t["vip"], ttl=64) /
               TCP(sport=1025, dport=t["vport"], flags="S", seq=1000, window=65535))
        new_vm = client_tuple_vm("TCP", flows, first=NEW_CLIENT_FIRST, last=NEW_CLIENT_LAST, op_random=True,
                                 l4_csum=t["l4_csum"])

        # Absolute rates (pps tunable); TRex's -m multiplies every stream,
        # the warm-up included, so keep -m 1 and set the rate with pps.
        new_pps = t["pps"] * t["new_pct"] / 100.0
        est_pps = t["pps"] - new_pps
        warmup_us = 1e6 * flows / t["warmup_pps"]
        streams = [
            STLStream(name="warmup", packet=STLPktBuilder(pkt=padded(syn, t["size"]), vm=est_vm()),
                      mode=STLTXSingleBurst(total_pkts=flows, pps=t["warmup_pps"]), next="established"),
            # isg: 1 ms for the last SYNs to be through kadp.
            STLStream(name="established", self_start=False, isg=1000.0,
                      packet=STLPktBuilder(pkt=padded(data, t["size"]), vm=est_vm()),
                      mode=STLTXCont(pps=est_pps)),
        ]
        if new_pps > 0:
            # New clients' SYNs need no warm-up: start them with the data.
            streams.append(STLStream(name="new_flows", isg=warmup_us + 1000.0,
                                     packet=STLPktBuilder(pkt=padded(new, t["size"]), vm=new_vm),
                                     random_seed=0x6b616471, mode=STLTXCont(pps=new_pps)))
        return streams


def register():
    return KadpEstablishedMix()

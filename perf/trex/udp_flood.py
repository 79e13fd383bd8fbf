# Runs on: the TRex traffic generator host (TRex stateless). Not on kadp.
#
# UDP flood to the VIP: client -> 198.18.0.100:80 from `flows` distinct
# (source address, source port) pairs of 198.18.128.0/17, cycled in order,
# so kadp creates `flows` UDP connections and then forwards on hits.
# Size the run with `flows` against kadp's conn_table_size: more flows than
# the table holds measures table-full drops, not forwarding.
#
#   trex> start -f perf/trex/udp_flood.py -m 10mpps -p 0 -t size=64,flows=1000000
#
# Tunables: size (frame bytes incl. FCS), flows, vip, vport, l4_csum (hw|sw).
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kadp_stl_common import (IP, UDP, Ether, STLPktBuilder, STLStream, STLTXCont, client_tuple_vm,  # noqa: E402
                             padded, parse_tunables, CLIENT_FIRST)


class KadpUdpFlood:
    def get_streams(self, direction=0, **kwargs):
        t = parse_tunables("udp_flood.py", kwargs)
        base = Ether() / IP(src=CLIENT_FIRST, dst=t["vip"], ttl=64) / UDP(sport=1025, dport=t["vport"], chksum=0)
        vm = client_tuple_vm("UDP", t["flows"], l4_csum=t["l4_csum"])
        pkt = STLPktBuilder(pkt=padded(base, t["size"]), vm=vm)
        return [STLStream(name="udp_flood", packet=pkt, mode=STLTXCont())]


def register():
    return KadpUdpFlood()

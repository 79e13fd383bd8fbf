# Runs on: the TRex traffic generator host (TRex stateless). Not on kadp.
#
# TCP SYN flood to the VIP: every packet a SYN from a random client
# (address from 198.18.128.0/17, port 1025..65535), so nearly every packet
# is a new connection: scheduler pick, table insert, NAT. Shows the new
# connection rate kadp sustains and, once the table fills (SYN_RECV
# connections live 60 s), how it drops (`conn_table_full`) while the
# established flows of another stream keep going.
#
#   trex> start -f perf/trex/syn_flood.py -m 2mpps -p 0 -t size=64
#
# Tunables: size, vip, vport, l4_csum (hw|sw). `flows` is not used: the
# source pair is random over the whole client range.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kadp_stl_common import (IP, TCP, Ether, STLPktBuilder, STLStream, STLTXCont, client_tuple_vm,  # noqa: E402
                             padded, parse_tunables, CLIENT_FIRST)


class KadpSynFlood:
    def get_streams(self, direction=0, **kwargs):
        t = parse_tunables("syn_flood.py", kwargs)
        base = (Ether() / IP(src=CLIENT_FIRST, dst=t["vip"], ttl=64) /
                TCP(sport=1025, dport=t["vport"], flags="S", seq=1000, window=65535))
        vm = client_tuple_vm("TCP", t["flows"], op_random=True, l4_csum=t["l4_csum"])
        pkt = STLPktBuilder(pkt=padded(base, t["size"]), vm=vm)
        # A fixed seed: the same sequence of clients on every run.
        return [STLStream(name="syn_flood", packet=pkt, random_seed=0x6b616470, mode=STLTXCont())]


def register():
    return KadpSynFlood()

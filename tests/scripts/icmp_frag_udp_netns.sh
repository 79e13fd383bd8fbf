#!/usr/bin/env bash
# ICMP errors, IPv4 fragments and UDP services through kadp NAT, end to end
# in network namespaces (tests/lib/nat_topology.sh, with its client
# namespace turned into a router in front of a real client):
#
#   client 198.18.1.1 --cl0 (1500)--- rt1 (MTU 1280) [router PFX-c 198.18.1.254 / 198.18.0.1] --c0--
#       [lan 198.18.0.254  kadp  srv 198.19.0.254] --- bridge --- 198.19.0.{1,2,3}: nginx :80,
#                                                                  dnsmasq :53/udp, python3 UDP echo :9000
#   VIP 198.18.0.100: 80/tcp, 53/udp, 9000/udp, all rr, lb_kind NAT; kadp routes
#   198.18.1.0/24 via the router.
#
# Cases:
# (a) path-MTU discovery through the NAT: the client downloads 3 MB from
#     nginx through the VIP; the servers' 1500-byte segments (DF, as Linux
#     TCP sends them) do not fit the router's 1280-byte link to the client,
#     the router sends "fragmentation needed" to the VIP, kadp must translate
#     it to the real server, which lowers its segment size. The file must
#     arrive intact (sha256) and kadp's icmp_error_nat must have moved.
# (b) DNS through the VIP: 6 queries, each from a new port, answered by
#     dnsmasq on the three servers in turn (rr: 2 each, told apart by the
#     address each one answers).
# (c) large UDP: 8000-byte datagrams to the echo servers come back intact,
#     fragmented by the sender's kernel (the router, 198.18.0.1, here) on
#     the way in and by the servers' on the way back (kadp's frag_forwarded must have moved, both ways).
# (d) TTL expiring at kadp: the client gets an ICMP time exceeded from the VIP.
#
# Needs root, nginx, curl, ethtool, dnsmasq, /usr/bin/python3. Exit 0 pass,
# 77 skip, else fail; the last line is "COUNT passed failed skipped".
# Environment: KADP (default build/kadp).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
PY=/usr/bin/python3

. tests/lib/nat_topology.sh
nat_topo_test_start "$KADP"
for tool in dnsmasq "$PY"; do
  command -v "$tool" >/dev/null || { echo "SKIP: no $tool"; echo "COUNT 0 0 1"; exit 77; }
done

if ! nat_topo_setup "kadp-icf-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR
NS_CL=$NT_PREFIX-cl
cleanup_all() {
  local p
  for p in $(ip netns pids "$NS_CL" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  ip netns del "$NS_CL" 2>/dev/null
  nat_topo_cleanup
}
trap cleanup_all EXIT

# The real client behind the topology's client namespace, now a router
# whose link towards the client has a 1280-byte MTU (the client's side
# keeps 1500, so its SYN still offers an MSS of 1460).
setup_client() {
  ip netns add "$NS_CL" || return 1
  ip netns exec "$NS_CL" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip netns exec "$NS_CL" ip link set lo up
  ip link add cl0 netns "$NS_CL" type veth peer name rt1 netns "$NT_NS_C" || return 1
  ip netns exec "$NS_CL" ip addr add 198.18.1.1/24 dev cl0
  ip netns exec "$NS_CL" ip link set cl0 up
  ip netns exec "$NS_CL" ip route add default via 198.18.1.254
  ip netns exec "$NS_CL" ethtool -K cl0 tx off tso off gso off gro off >/dev/null 2>&1
  nat_topo_in_ns "$NT_NS_C" ip addr add 198.18.1.254/24 dev rt1
  nat_topo_in_ns "$NT_NS_C" ip link set rt1 mtu 1280 up
  nat_topo_in_ns "$NT_NS_C" ethtool -K rt1 tx off tso off gso off gro off >/dev/null 2>&1
  nat_topo_in_ns "$NT_NS_C" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0 net.ipv4.icmp_ratelimit=0
}
in_cl() { ip netns exec "$NS_CL" "$@"; }

# dnsmasq answering who.kadp.test with its own 198.18.200.N; a UDP echo on :9000.
start_udp_servers() {
  local i ns
  for i in 1 2 3; do
    ns=${NT_NS_S[$((i - 1))]}
    ip netns exec "$ns" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
      --listen-address=198.19.0.$i --port=53 --user=root --group=root --pid-file="$tmp/dnsmasq$i.pid" \
      --host-record=who.kadp.test,198.18.200.$i >"$tmp/dnsmasq$i.log" 2>&1 &
    NT_PIDS+=($!)
    ip netns exec "$ns" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9000))
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
' 198.19.0.$i >"$tmp/echo$i.log" 2>&1 &
    NT_PIDS+=($!)
  done
  for i in 1 2 3; do
    local up=
    for _ in $(seq 50); do
      if nat_topo_in_ns "${NT_NS_S[$((i - 1))]}" ss -lun 2>/dev/null | grep -q "198.19.0.$i:53 " &&
         nat_topo_in_ns "${NT_NS_S[$((i - 1))]}" ss -lun 2>/dev/null | grep -q "198.19.0.$i:9000 "; then up=1; break; fi
      sleep 0.1
    done
    [ -n "$up" ] || { cat "$tmp/dnsmasq$i.log" "$tmp/echo$i.log" >&2; return 1; }
  done
}

if ! setup_client || ! start_udp_servers; then echo "FAIL: topology setup (client router, UDP servers)"; echo "COUNT 0 1 0"; exit 1; fi
head -c 3000000 /dev/urandom >"$tmp/big.bin"
nat_topo_publish "$tmp/big.bin" || { echo "FAIL: topology setup (big.bin)"; echo "COUNT 0 1 0"; exit 1; }

udp_service() {  # PORT: rr NAT UDP over the three servers, same port
  printf 'virtual_server 198.18.0.100 %s {\n    lb_algo rr\n    lb_kind NAT\n    protocol UDP\n' "$1"
  for i in 1 2 3; do printf '    real_server 198.19.0.%s %s {\n        weight 1\n    }\n' "$i" "$1"; done
  printf '}\n'
}
# af_xdp when DPDK has it: the af_packet PMD joins a PACKET_FANOUT group with
# the defrag flag, so the kernel reassembles fragments before kadp sees them
# (truncated to a frame: case (c) cannot run on it).
pmd=af_packet
if ldd "$KADP" 2>/dev/null | grep -q librte_net_af_xdp ||
   [ -n "$(find /usr/lib/*/dpdk/pmds-* -name 'librte_net_af_xdp.so*' 2>/dev/null | head -1)" ]; then
  pmd=af_xdp
  for dev in lan srv; do nat_topo_in_ns "$NT_NS_LB" ip link set dev "$dev" xdp off 2>/dev/null; done
fi
{
  nat_topo_dataplane "$pmd" 65536 "" "    route 198.18.1.0/24 via 198.18.0.1"
  nat_topo_service rr 1 1 1
  udp_service 53
  udp_service 9000
} >"$tmp/kadp.conf"

log=$tmp/kadp.log
if ! nat_topo_kadp_start "$tmp/kadp.conf" "$log" icf; then
  fail kadp_start "kadp did not start" "$log"
  echo "COUNT $passed $failed $skipped"
  exit 1
fi

get() { in_cl curl -s --max-time 20 "$@"; }
warm=
for _ in $(seq 10); do get -o "$tmp/warm.out" http://198.18.0.100/ && { warm=1; break; }; sleep 0.3; done
[ -n "$warm" ] || fail warm_up "no answer through the VIP from behind the router" "$log"

# (a)
if get -o "$tmp/got.bin" http://198.18.0.100/big.bin &&
   [ "$(sha256sum <"$tmp/got.bin")" = "$(sha256sum <"$tmp/big.bin")" ]; then
  a_ok=1
else
  a_ok=
  fail a_pmtu_download "$(stat -c %s "$tmp/got.bin" 2>/dev/null || echo no) of 3000000 bytes received" "$log"
fi

# (b) one query per fresh socket (a new source port: a new UDP connection).
in_cl "$PY" - >"$tmp/dns.out" 2>&1 <<'EOF'
import socket, struct
q = struct.pack(">HHHHHH", 0x4b41, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in "who.kadp.test".split(".")) + b"\0" + struct.pack(">HH", 1, 1)
for _ in range(6):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(q, ("198.18.0.100", 53))
    try:
        r, peer = s.recvfrom(2048)
        an = struct.unpack(">H", r[6:8])[0]
        print("answer", peer[0], peer[1], socket.inet_ntoa(r[-4:]) if an == 1 else "none")
    except socket.timeout:
        print("timeout")
    s.close()
EOF
t=$(sort "$tmp/dns.out" | uniq -c | sed 's/^ *//')
if [ "$(grep -c '^2 answer 198.18.0.100 53 198.18.200.[123]$' <<<"$t")" = 3 ]; then
  pass b_dns_rr_2_each
else
  fail b_dns_rr_2_each "got: $(tr '\n' ' ' <<<"$t")" "$log"
fi

# (c) 8000-byte datagrams: fragmented both ways. Sent from the router
# (198.18.0.1, on kadp's lan link): the veth towards the client drops
# frames over its 1280-byte MTU on receive, so the client cannot send them.
nat_topo_client "$PY" - >"$tmp/echo.out" 2>&1 <<'EOF'
import os, socket
ok = 0
for _ in range(6):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    data = os.urandom(8000)
    s.sendto(data, ("198.18.0.100", 9000))
    try:
        r, peer = s.recvfrom(65535)
        ok += r == data and peer == ("198.18.0.100", 9000)
    except socket.timeout:
        pass
    s.close()
print("intact", ok)
EOF
c_intact=$(grep -c '^intact 6$' "$tmp/echo.out")

# (d) TTL 1: a DNS query from the client, two hops away (the router takes
# its TTL from 2 to 1), is not forwarded; the client's socket gets an ICMP
# time exceeded in transit from the VIP (IP_RECVERR: origin ICMP, type 11,
# code 0, offender 198.18.0.100), as from IPVS's decrement_ttl().
in_cl "$PY" - >"$tmp/ttl.out" 2>&1 <<'EOF'
import select, socket, struct
IP_RECVERR = 11
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
s.setsockopt(socket.SOL_IP, socket.IP_TTL, 2)
got = None
for _ in range(3):
    s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01", ("198.18.0.100", 53))
    p = select.poll()
    p.register(s, select.POLLERR)
    if not p.poll(1000):
        continue
    _, anc, _, _ = s.recvmsg(512, 512, socket.MSG_ERRQUEUE)
    for level, typ, data in anc:
        if level == socket.SOL_IP and typ == IP_RECVERR:
            _, origin, etype, code = struct.unpack_from("=IBBB", data)
            offender = socket.inet_ntoa(data[16 + 4:16 + 8])
            got = "origin %d type %d code %d from %s" % (origin, etype, code, offender)
    if got:
        break
print(got or "no ICMP error")
EOF

nat_topo_kadp_stop || fail kadp_stop "kadp did not stop cleanly" "$log"
counter() { grep -o " $1=[0-9]*" "$log" | head -1 | cut -d= -f2; }
icmp_nat=$(counter icmp_error_nat)
frag_fwd=$(counter frag_forwarded)
frag_done=$(counter frag_datagram_done)
nat_out=$(counter nat_out)
if [ -n "$a_ok" ]; then
  if [ "${icmp_nat:-0}" -gt 0 ]; then
    pass a_pmtu_download
  else
    fail a_pmtu_download "intact, but icmp_error_nat did not move (no frag-needed translated?)" "$log"
  fi
fi
ttl_icmp=$(counter ttl_exceeded_icmp)
if grep -q '^origin 2 type 11 code 0 from 198.18.0.100$' "$tmp/ttl.out" && [ "${ttl_icmp:-0}" -ge 1 ]; then
  pass d_ttl_one_gets_time_exceeded_from_the_vip
else
  fail d_ttl_one_gets_time_exceeded_from_the_vip "client saw: $(cat "$tmp/ttl.out"); ttl_exceeded_icmp=${ttl_icmp:-0}" "$log"
fi
if [ "$pmd" = af_packet ]; then
  echo "SKIP: c_large_udp_fragments: no af_xdp PMD (af_packet's kernel defragments before kadp)"
  skipped=$((skipped + 1))
elif [ "$c_intact" = 1 ] && [ "${frag_done:-0}" -ge 12 ]; then
  pass c_large_udp_fragments
else
  fail c_large_udp_fragments "$(cat "$tmp/echo.out"), frag_forwarded=${frag_fwd:-0} frag_datagram_done=${frag_done:-0} (12 wanted: 6 in, 6 out)" "$log"
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

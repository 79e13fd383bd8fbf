#!/usr/bin/env bash
# ARP abuse on the real servers' segment of the NAT topology
# (tests/lib/nat_topology.sh): a hostile namespace on the servers' bridge
# sends, through a raw socket (tests/lib/arp_abuse.py), a storm of
# gratuitous ARPs and unsolicited replies claiming real server 1's address
# with its own MAC, and replies for addresses kadp never asked about, while a
# client downloads a file through the VIP from that server. kadp's
# neighbour-table policy (dataplane/neigh_table.h "ARP poisoning policy")
# refuses a new MAC for a reachable neighbour, so
#   (a) the download is sha256-exact;
#   (b) the hostile MAC never receives the client's traffic (the hostile
#       side captures on the same raw socket), while the control -- kadp's
#       answer to one ARP request from the hostile side -- does arrive there,
#       so the capture works;
#   (c) kadp's counters at SIGTERM show the storm refused (arp_conflict) and
#       the replies nobody asked for ignored (arp_reply_unsolicited);
#   (d) a request through the VIP after the storm is answered;
#   (e) the kernel behind kadp's exception TAP, whose TCP_CHECK talks to
#       the server, keeps the server's real MAC (kadp does not copy the ARP
#       it refused to the kernel, which would take a gratuitous ARP as an
#       override) and the check never fails.
# The storm runs within 30 s (reachable_ms) of kadp resolving the server.
#
# Needs root, nginx (nginx-light), curl, ethtool, python3. Exit 0 pass, 77
# skip, else fail; the last line is "COUNT passed failed skipped".
# Environment: KADP (default build/kadp).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}

. tests/lib/nat_topology.sh
nat_topo_test_start "$KADP"
command -v python3 >/dev/null || { echo "SKIP: no python3"; echo "COUNT 0 0 1"; exit 77; }

NS_H=
hostile_cleanup() {
  local p
  if [ -n "$NS_H" ]; then
    for p in $(ip netns pids "$NS_H" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$NS_H" 2>/dev/null
    NS_H=
  fi
}
trap 'hostile_cleanup; nat_topo_cleanup' EXIT

if ! nat_topo_setup "kadp-arpab-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR
# The hostile station: a veth on the servers' bridge, no IP address (its
# kernel stays quiet), IPv6 off.
NS_H=$NT_PREFIX-h
if ! { ip netns add "$NS_H" &&
       ip link add eth0 netns "$NS_H" type veth peer name ph netns "$NT_NS_BR" &&
       nat_topo_in_ns "$NS_H" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
       nat_topo_in_ns "$NS_H" ip link set lo up &&
       nat_topo_in_ns "$NS_H" ip link set eth0 up &&
       nat_topo_in_ns "$NT_NS_BR" ip link set ph master br0 &&
       nat_topo_in_ns "$NT_NS_BR" ip link set ph up; }; then
  echo "FAIL: hostile namespace setup"; echo "COUNT 0 1 0"; exit 1
fi

# The kernel of kadp's namespace ignores its copy of what it sees on the
# af_packet veths (as checkers_netns.sh): what its checker gets came
# through the TAPs, and only kadp answers ARP on the wire.
if ! nat_topo_in_ns "$NT_NS_LB" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 \
       net.ipv4.conf.lan.rp_filter=1 net.ipv4.conf.srv.rp_filter=1 \
       net.ipv4.conf.lan.arp_ignore=8 net.ipv4.conf.srv.arp_ignore=8; then
  echo "FAIL: sysctl in kadp's namespace"; echo "COUNT 0 1 0"; exit 1
fi

head -c 3000000 /dev/urandom >"$tmp/big.bin"
nat_topo_publish "$tmp/big.bin" || { echo "FAIL: topology setup (big.bin)"; echo "COUNT 0 1 0"; exit 1; }
# One real server, so the download's server is the storm's victim; its
# TCP_CHECK gives the kernel a neighbour entry for it.
{ nat_topo_dataplane af_packet; cat <<EOF
virtual_server 198.18.0.100 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    delay_loop 1
    real_server 198.19.0.1 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 2
            retry 1
            delay_before_retry 1
        }
    }
}
EOF
} >"$tmp/arp.conf"
log=$tmp/kadp.log
if ! nat_topo_kadp_start "$tmp/arp.conf" "$log" arp; then
  fail kadp_start "kadp did not start" "$log"
  echo "COUNT $passed $failed $skipped"
  exit 1
fi
get() { nat_topo_client curl -s --max-time 15 "$@"; }
# The first request makes kadp resolve 198.19.0.1: reachable from now on.
up=
for _ in $(seq 10); do get -o /dev/null http://198.18.0.100/ && { up=1; break; }; sleep 0.3; done
[ -n "$up" ] || fail warm_up "no answer through the VIP" "$log"

lb_mac=$(nat_topo_in_ns "$NT_NS_LB" cat /sys/class/net/srv/address)
# ~5 s at 600 KB/s; the storm: 5 s of 200 rounds of 4 frames a second.
nat_topo_client curl -s --max-time 30 --limit-rate 600k -o "$tmp/got.bin" http://198.18.0.100/big.bin &
dl=$!
nat_topo_in_ns "$NS_H" python3 tests/lib/arp_abuse.py eth0 198.19.0.1 198.19.0.254 "$lb_mac" 200 5 198.19.0.66 \
  >"$tmp/storm.out" 2>&1 &
storm=$!
wait "$storm"
storm_rc=$?
if wait "$dl" && [ "$(sha256sum <"$tmp/got.bin")" = "$(sha256sum <"$tmp/big.bin")" ]; then
  pass a_download_sha256_exact_through_the_storm
else
  fail a_download_sha256_exact_through_the_storm "$(stat -c %s "$tmp/got.bin" 2>/dev/null || echo no) of 3000000 bytes" "$log"
fi

out=$(tail -1 "$tmp/storm.out")
echo "hostile side: $out"
field() { echo "$out" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
sent=$(field sent) answers=$(field arp_answers_to_me) to_me=$(field ipv4_to_me) victim=$(field ipv4_for_victim)
if [ "$storm_rc" = 0 ] && [ "${sent:-0}" -ge 4000 ] && [ "${answers:-0}" -ge 1 ] && [ "${to_me:-x}" = 0 ] &&
   [ "${victim:-x}" = 0 ]; then
  pass b_hostile_mac_never_gets_the_clients_traffic
else
  fail b_hostile_mac_never_gets_the_clients_traffic "rc=$storm_rc $out" "$tmp/storm.out"
fi

# (e)
srv1_mac=$(nat_topo_in_ns "${NT_NS_S[0]}" cat /sys/class/net/eth0/address)
kernel_neigh=$(nat_topo_in_ns "$NT_NS_LB" ip neigh show 198.19.0.1 dev kadp-srv)
if echo "$kernel_neigh" | grep -q "lladdr $srv1_mac" && ! grep -q "TCP_CHECK on service.*failed" "$log"; then
  pass e_kernel_neighbour_and_check_unpoisoned
else
  fail e_kernel_neighbour_and_check_unpoisoned "kernel: '$kernel_neigh', server 1 is $srv1_mac" "$log"
fi

# (d)
if get -o "$tmp/after.out" http://198.18.0.100/ && grep -q '^server 1$' "$tmp/after.out"; then
  pass d_vip_answers_after_the_storm
else
  fail d_vip_answers_after_the_storm "no answer" "$log"
fi

nat_topo_kadp_stop || fail kadp_stop "kadp did not exit cleanly" "$log"
counters=$(grep '^kadp: counters (all workers):' "$log")
val() { echo "$counters" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
conflict=$(val arp_conflict) unsolicited=$(val arp_reply_unsolicited)
echo "kadp: arp_conflict=${conflict:-0} arp_reply_unsolicited=${unsolicited:-0}" \
     "arp_reply_learned=$(val arp_reply_learned) arp_request_answered=$(val arp_request_answered)" \
     "arp_request_offlink=$(val arp_request_offlink) rx_arp=$(val rx_arp)"
# Three of each round's four frames claim the reachable victim, one is a
# reply for an address never asked about (1000 rounds; half of them is
# plenty to show it, whatever af_packet may drop on a loaded machine).
if [ "${conflict:-0}" -ge 1500 ] && [ "${unsolicited:-0}" -ge 500 ]; then
  pass c_storm_counted_as_conflicts_and_unsolicited
else
  fail c_storm_counted_as_conflicts_and_unsolicited "arp_conflict=$conflict arp_reply_unsolicited=$unsolicited" "$log"
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

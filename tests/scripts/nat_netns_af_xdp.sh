#!/usr/bin/env bash
# NAT end to end with kadp's ports on AF_XDP sockets instead of af_packet:
# the topology of nat_netns.sh (tests/lib/nat_topology.sh), kadp's devices
# "net_af_xdp0,iface=lan" / "net_af_xdp1,iface=srv".
#
# Cases: (a) rr: 12 sequential requests, 4 per server; (b) a 1 MB file
# arrives intact (sha256).
#
# af_xdp needs the PMD (librte_net_af_xdp), a kernel with XDP on veth and an
# AF_XDP socket the PMD can bind. When it cannot work here the whole script
# SKIPs (exit 77) with the reason; it never fails for that. Cases: kadp
# cannot bring an af_xdp port up (probe, socket or queue error: kadp names
# the interface), or the ports come up but receive nothing. Any other failure
# fails.
#
# Needs root, nginx (nginx-light), curl, ethtool. Exit 0 pass, 77 skip, else
# fail; the last line is "COUNT passed failed skipped". Environment: KADP
# (default build/kadp).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}

skip_all() { echo "SKIP: af_xdp: $1"; echo "COUNT 0 0 1"; exit 77; }
# Debian's DPDK loads its PMDs from its plugin directory (EAL's -d default).
pmd=$(find /usr/lib/*/dpdk/pmds-* -name 'librte_net_af_xdp.so*' 2>/dev/null | head -1)
ldd "$KADP" 2>/dev/null | grep -q librte_net_af_xdp || [ -n "$pmd" ] ||
  skip_all "DPDK has no af_xdp PMD (no librte_net_af_xdp.so in its plugin directory)"

. tests/lib/nat_topology.sh
nat_topo_test_start "$KADP" "af_xdp: "

if ! nat_topo_setup "kadp-xdp-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR
head -c 1048576 /dev/urandom >"$tmp/1m.bin"
nat_topo_publish "$tmp/1m.bin" || { echo "FAIL: topology setup (1m.bin)"; echo "COUNT 0 1 0"; exit 1; }
# No XDP program left on kadp's veths (the PMD attaches its own).
for dev in lan srv; do nat_topo_in_ns "$NT_NS_LB" ip link set dev "$dev" xdp off 2>/dev/null; done

{ nat_topo_dataplane af_xdp; nat_topo_service rr 1 1 1; } >"$tmp/xdp.conf"

get() { nat_topo_client curl -s --max-time 5 "$@"; }
# What the af_xdp PMD, libbpf and libxdp said, for a SKIP reason.
xdp_lines() {
  grep -iE 'af_xdp|xsk|xdp|bpf' "$1" | grep -vE 'skipping unrecognized data section|mp_socket|^kadp:' | tail -6 | tr '\n' ';'
}

log=$tmp/kadp-xdp.log
if ! nat_topo_kadp_start "$tmp/xdp.conf" "$log" xdp; then
  port_err=$(grep -m1 '^kadp: interface \(lan\|srv\) (device "net_af_xdp' "$log")
  [ -n "$port_err" ] && skip_all "kadp cannot bring an af_xdp port up: ${port_err#kadp: } [PMD: $(xdp_lines "$log")]"
  fail kadp_start "kadp did not start" "$log"
  echo "COUNT $passed $failed $skipped"
  exit 1
fi
grep '^kadp: port ' "$log"

warm=
for _ in $(seq 10); do get -o "$tmp/warm.out" http://198.18.0.100/ && { warm=1; break; }; sleep 0.3; done
if [ -z "$warm" ]; then
  nat_topo_kadp_stop
  rx=$(sed -n 's/^kadp: counters (all workers):.* rx_packets=\([0-9]*\).*/\1/p' "$log")
  [ "${rx:-0}" = 0 ] &&
    skip_all "the af_xdp ports came up but received no packets (rx_packets 0) [PMD: $(xdp_lines "$log")]"
  fail warm_up "no answer through the VIP (rx_packets $rx)" "$log"
  echo "COUNT $passed $failed $skipped"
  exit 1
fi

# (a) the warm-up took one rr pick; 12 more still give 4 each.
t=$(for i in $(seq 12); do get http://198.18.0.100/ || echo "request $i failed"; done | sort | uniq -c | sed 's/^ *//')
if [ "$(echo "$t" | grep -c '^4 server [123]$')" = 3 ]; then pass a_xdp_rr_4_each; else fail a_xdp_rr_4_each "got: $(echo "$t" | tr '\n' ' ')"; fi
# (b)
if get -o "$tmp/got.bin" http://198.18.0.100/1m.bin &&
   [ "$(sha256sum <"$tmp/got.bin")" = "$(sha256sum <"$tmp/1m.bin")" ]; then
  pass b_xdp_1mb_intact
else
  fail b_xdp_1mb_intact "$(stat -c %s "$tmp/got.bin" 2>/dev/null || echo no) bytes received"
fi

if nat_topo_kadp_stop; then
  grep -q "^kadp: real server 198.19.0.1:80 of 198.18.0.100:80/tcp: conns [1-9]" "$log" ||
    fail xdp_stop_report "no real-server line" "$log"
else
  fail xdp_stop "kadp did not stop cleanly" "$log"
fi
if [ "$failed" = 0 ]; then
  grep -E '^kadp: (counters|real server)' "$log"
else
  sed 's/^/    | /' "$log" | grep 'kadp:' | tail -12
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

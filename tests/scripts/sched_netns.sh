#!/usr/bin/env bash
# The hashing and locality schedulers end to end, through the real pipeline
# (tests/lib/nat_topology.sh): one kadp, one VIP 198.18.0.100 with a service
# per scheduler on ports 81..85, each over the three nginx (weight 1, port 80).
#
# Cases, 12 sequential requests each from the client 198.18.0.1; the expected
# servers are IPVS's choices worked out by hand:
#   (a) sh :81 - bucket hash_32(0xc6120001, 8) = 188, dealt to dest 188 % 3 = 2:
#       all 12 on "server 3";
#   (b) sh + sh-port :82 - the client's ports are hashed too: more than one
#       server (all 12 on one would happen with probability 3 / 3^12);
#   (c) mh :83 - one source, one entry of the Maglev table: all 12 on one server;
#   (d) lblc :84 - first pick wlc over idle servers = server 1, remembered for
#       the VIP (sequential requests never leave it with active > weight);
#   (e) dh :85 - bucket (0xc6120064 * 2654435761) & 255 = 36 -> 36 % 3 = 0:
#       all 12 on "server 1".
# kadp prints per-worker counters and per-real-server figures on SIGTERM;
# they are shown when a case fails.
#
# Needs root, nginx (nginx-light), curl, ethtool. Exit 0 pass, 77 skip, else
# fail; the last line is "COUNT passed failed skipped". Environment: KADP
# (default build/kadp).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}

. tests/lib/nat_topology.sh
nat_topo_test_start "$KADP"

if ! nat_topo_setup "kadp-sch-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR

# service PORT ALGO [FLAG...]: a virtual server over the three nginx.
service() {
  local port=$1 algo=$2 i
  shift 2
  printf 'virtual_server 198.18.0.100 %s {\n    lb_algo %s\n' "$port" "$algo"
  for i in "$@"; do printf '    %s\n' "$i"; done
  printf '    lb_kind NAT\n    protocol TCP\n'
  for i in 1 2 3; do printf '    real_server 198.19.0.%s 80 {\n        weight 1\n    }\n' "$i"; done
  printf '}\n'
}

{
  nat_topo_dataplane af_packet
  service 81 sh
  service 82 sh sh-port
  service 83 mh
  service 84 lblc
  service 85 dh
} >"$tmp/sched.conf"

get() { nat_topo_client curl -s --max-time 5 "$@"; }
# `n` sequential requests to PORT; prints "count name" per server.
tally() {
  local port=$1 n=$2 i
  for i in $(seq "$n"); do get "http://198.18.0.100:$port/" || echo "request $i failed"; done | sort | uniq -c | sed 's/^ *//'
}
warm_up() {
  for _ in $(seq 10); do get -o /dev/null "http://198.18.0.100:$1/" && return 0; sleep 0.3; done
  return 1
}

log=$tmp/kadp.log
if ! nat_topo_kadp_start "$tmp/sched.conf" "$log" sched; then
  fail kadp_start "kadp did not start" "$log"
else
  if ! warm_up 81; then
    fail warm_up "no answer through the VIP" "$log"
  else
    t=$(tally 81 12)
    if [ "$t" = "12 server 3" ]; then pass a_sh_source_hash; else fail a_sh_source_hash "got: $(echo "$t" | tr '\n' ' ')"; fi
    t=$(tally 82 12)
    if [ "$(echo "$t" | grep -c 'server [123]$')" -ge 2 ] && ! echo "$t" | grep -q failed; then
      pass b_sh_port_spreads
    else
      fail b_sh_port_spreads "got: $(echo "$t" | tr '\n' ' ')"
    fi
    t=$(tally 83 12)
    if echo "$t" | grep -qx '12 server [123]'; then
      pass c_mh_one_source_one_server
    else
      fail c_mh_one_source_one_server "got: $(echo "$t" | tr '\n' ' ')"
    fi
    t=$(tally 84 12)
    if [ "$t" = "12 server 1" ]; then pass d_lblc_remembers; else fail d_lblc_remembers "got: $(echo "$t" | tr '\n' ' ')"; fi
    t=$(tally 85 12)
    if [ "$t" = "12 server 1" ]; then pass e_dh_destination_hash; else fail e_dh_destination_hash "got: $(echo "$t" | tr '\n' ' ')"; fi
  fi
  nat_topo_kadp_stop || fail stop "kadp did not stop cleanly" "$log"
  [ "$failed" = 0 ] || sed 's/^/    | /' "$log" | grep 'kadp:' | tail -20
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

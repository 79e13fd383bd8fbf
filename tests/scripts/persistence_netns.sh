#!/usr/bin/env bash
# Persistence end to end on the NAT topology (tests/lib/nat_topology.sh):
# rr over the three nginx servers, which spreads one client's successive
# connections, and the same service with persistence_timeout, which keeps
# them on one server; kadpctl conns lists the template as ipvsadm -Lnc does
# (state NONE, client port 0).
#
#   client 198.18.0.1 --- [lan kadp srv] --- bridge --- 198.19.0.{1,2,3} nginx
#
# Cases: (a) without persistence, 6 successive requests reach 3 servers;
# (b) with persistence_timeout 60, 8 successive requests (each its own TCP
# connection and source port) reach one server; (c) kadpctl conns shows
# the template "TCP MM:SS NONE 198.18.0.1:0 198.18.0.100:80 <server>:80";
# (d) kadpctl list shows "persistent 60"; a second client address
# (198.18.0.2) has its own template, on the next server; (e) a port-0 ("all
# ports") persistent service: requests to port 80 reach one server on port
# 80 (the client's destination port is kept) and the template's VIP port is
# 0; (f) persistence_granularity 255.255.255.0: both client addresses share
# one template (198.18.0.0:0) and one server.
# kadp's persist_template_new / _hit counters at SIGTERM agree with (b)-(d).
#
# Needs root, nginx (nginx-light), curl, ethtool. Exit 0 pass, 77 skip, else
# fail; the last line is "COUNT passed failed skipped". Environment: KADP
# (default build/kadp), KADPCTL (default build/kadpctl).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
KADPCTL=${KADPCTL:-${KADP_BUILD:-build}/kadpctl}

. tests/lib/nat_topology.sh
nat_topo_test_start "$KADP"
[ -x "$KADPCTL" ] || { echo "FAIL: no kadpctl binary at $KADPCTL"; echo "COUNT 0 1 0"; exit 1; }

if ! nat_topo_setup "kadp-pers-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR
# A second client address in the same /24, for per-client vs per-network templates.
nat_topo_client ip addr add 198.18.0.2/24 dev c0

get() { nat_topo_client curl -s --max-time 5 "$@"; }
ctl() { "$KADPCTL" -s "$NT_KADP_SOCK" "$@"; }

# tally N CURL_ARGS...: N successive requests (a new connection each);
# prints "count name" per server.
tally() {
  local n=$1 i
  shift
  for i in $(seq "$n"); do get "$@" || echo "request $i failed"; done | sort | uniq -c | sed 's/^ *//'
}

warm_up() {
  for _ in $(seq 10); do get -o "$tmp/warm.out" "$1" && return 0; sleep 0.3; done
  return 1
}

# write_conf FILE PORT PERSISTENCE_LINES (PORT empty: a port-0 service)
write_conf() {
  { nat_topo_dataplane af_packet
    # Port 0: the address alone ("all ports").
    nat_topo_service rr 1 1 1 | sed -e "s/^virtual_server 198.18.0.100 80 {/virtual_server 198.18.0.100${2:+ $2} {/" \
                                    -e "s/^    protocol TCP\$/&${3:+\\n$3}/"
  } >"$1"
}

# run NAME PORT PERSISTENCE_LINE: starts kadp; 0 when it answers through the VIP.
run() {
  write_conf "$tmp/$1.conf" "$2" "$3"
  log=$tmp/kadp-$1.log
  if ! nat_topo_kadp_start "$tmp/$1.conf" "$log" "$1"; then fail "$1_start" "kadp did not start" "$log"; return 1; fi
  if ! warm_up http://198.18.0.100/; then fail "$1_warm_up" "no answer through the VIP" "$log"; nat_topo_kadp_stop; return 1; fi
  return 0
}

# --- (a) rr alone spreads them ----------------------------------------------------
if run plain 80 ""; then
  t=$(tally 6 http://198.18.0.100/)
  if [ "$(echo "$t" | grep -c '^2 server [123]$')" = 3 ]; then pass a_rr_spreads; else fail a_rr_spreads "got: $(echo "$t" | tr '\n' ' ')" "$log"; fi
  nat_topo_kadp_stop || fail plain_stop "kadp did not exit cleanly" "$log"
fi

# --- (b)-(d) persistence_timeout 60 -------------------------------------------------
if run persistent 80 "    persistence_timeout 60"; then
  first=$(cat "$tmp/warm.out")
  t=$(tally 8 http://198.18.0.100/)
  if [ "$t" = "8 $first" ]; then pass b_one_server; else fail b_one_server "warm-up on '$first', then: $(echo "$t" | tr '\n' ' ')" "$log"; fi
  ctl conns >"$tmp/conns.txt" 2>&1
  srv=198.19.0.${first#server }
  if grep -Eq "^TCP [0-9]{2}:[0-9]{2}  NONE +198\.18\.0\.1:0 +198\.18\.0\.100:80 +$srv:80\$" "$tmp/conns.txt" &&
     [ "$(grep -c ' NONE ' "$tmp/conns.txt")" = 1 ] &&
     [ "$(grep -Ec "^TCP .* 198\.18\.0\.1:[1-9][0-9]* +198\.18\.0\.100:80 +$srv:80\$" "$tmp/conns.txt")" -ge 9 ]; then
    pass c_conns_template
  else
    fail c_conns_template "no template line for $srv" "$tmp/conns.txt"
  fi
  if ctl list | grep -Eq '^TCP  198\.18\.0\.100:80 rr persistent 60$'; then pass d_list_persistent; else
    ctl list >"$tmp/list.txt" 2>&1; fail d_list_persistent "no 'persistent 60'" "$tmp/list.txt"; fi
  # Per client: the other address gets a template of its own, on rr's next server.
  t2=$(tally 3 --interface 198.18.0.2 http://198.18.0.100/)
  ctl conns >"$tmp/conns2.txt" 2>&1
  if [ "$(echo "$t2" | wc -l)" = 1 ] && [ "${t2%% *}" = 3 ] && [ "${t2#3 }" != "$first" ] &&
     [ "$(grep -c ' NONE ' "$tmp/conns2.txt")" = 2 ] && grep -q ' NONE  *198\.18\.0\.2:0 ' "$tmp/conns2.txt"; then
    pass d_second_client_own_template
  else
    fail d_second_client_own_template "first on '$first', second: $(echo "$t2" | tr '\n' ' ')" "$tmp/conns2.txt"
  fi
  nat_topo_kadp_stop || fail persistent_stop "kadp did not exit cleanly" "$log"
  # Two templates (one per client address); 8 + 2 requests placed by them (+1 if the warm-up retried).
  if grep -Eq "persist_template_new=2( |$)" "$log" && grep -Eq "persist_template_hit=1[01]( |$)" "$log"; then
    pass d_counters
  else
    fail d_counters "persist_template_new/hit not as expected" "$log"
  fi
fi

# --- (e) a port-0 service, persistent (keepalived would make it so anyway) ---------
if run port0 "" "    persistence_timeout 60"; then
  first=$(cat "$tmp/warm.out")
  t=$(tally 4 http://198.18.0.100:80/)
  ctl conns >"$tmp/conns0.txt" 2>&1
  srv=198.19.0.${first#server }
  if [ "$t" = "4 $first" ] &&
     grep -Eq "^TCP [0-9]{2}:[0-9]{2}  NONE +198\.18\.0\.1:0 +198\.18\.0\.100:0 +$srv:0\$" "$tmp/conns0.txt" &&
     grep -Eq "^TCP .* 198\.18\.0\.1:[1-9][0-9]* +198\.18\.0\.100:80 +$srv:80\$" "$tmp/conns0.txt"; then
    pass e_port0_keeps_port
  else
    fail e_port0_keeps_port "requests: $(echo "$t" | tr '\n' ' ')" "$tmp/conns0.txt"
  fi
  nat_topo_kadp_stop || fail port0_stop "kadp did not exit cleanly" "$log"
fi

# --- (f) persistence_granularity: one template for the /24 ---------------------------
if run granularity 80 "    persistence_granularity 255.255.255.0"; then
  first=$(cat "$tmp/warm.out")
  t=$( { for i in 1 2 3; do get http://198.18.0.100/; get --interface 198.18.0.2 http://198.18.0.100/; done; } |
       sort | uniq -c | sed 's/^ *//')
  ctl conns >"$tmp/conns24.txt" 2>&1
  srv=198.19.0.${first#server }
  if [ "$t" = "6 $first" ] && [ "$(grep -c ' NONE ' "$tmp/conns24.txt")" = 1 ] &&
     grep -Eq "^TCP [0-9]{2}:[0-9]{2}  NONE +198\.18\.0\.0:0 +198\.18\.0\.100:80 +$srv:80\$" "$tmp/conns24.txt" &&
     ctl list | grep -Eq '^TCP  198\.18\.0\.100:80 rr persistent 360 mask 255\.255\.255\.0$'; then
    pass f_granularity_one_server
  else
    fail f_granularity_one_server "warm-up on '$first', then: $(echo "$t" | tr '\n' ' ')" "$tmp/conns24.txt"
  fi
  nat_topo_kadp_stop || fail granularity_stop "kadp did not exit cleanly" "$log"
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

#!/usr/bin/env bash
# NAT end to end: a client namespace, kadp on two af_packet veths in its own
# namespace, three nginx real servers behind a bridge (tests/lib/nat_topology.sh).
#
#   client 198.18.0.1 --- [lan 198.18.0.254  kadp  srv 198.19.0.254] --- bridge --- 198.19.0.{1,2,3} nginx
#   VIP 198.18.0.100:80/tcp, lb_kind NAT; the servers route back via 198.19.0.254.
#
# Cases: (a) rr: 12 sequential requests, 4 per server; (b) a 5 MB file
# arrives intact (sha256); (c) 10 parallel requests all succeed; (d) wrr with
# weights 1,2,3: 2/4/6 of 12 requests (kadp restarted with a second config).
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

if ! nat_topo_setup "kadp-nat-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR
head -c 5000000 /dev/urandom >"$tmp/big.bin"
nat_topo_publish "$tmp/big.bin" || { echo "FAIL: topology setup (big.bin)"; echo "COUNT 0 1 0"; exit 1; }

write_conf() {
  { nat_topo_dataplane af_packet; nat_topo_service "$2" "$3" "$4" "$5"; } >"$1"
}

get() { nat_topo_client curl -s --max-time 5 "$@"; }

# `n` sequential requests for the page; prints "count name" per server.
tally() {
  local n=$1 i
  for i in $(seq "$n"); do get http://198.18.0.100/ || echo "request $i failed"; done | sort | uniq -c | sed 's/^ *//'
}

# The first request may wait for ARP on both sides: retry it a few times.
warm_up() {
  for _ in $(seq 10); do get -o "$tmp/warm.out" http://198.18.0.100/ && return 0; sleep 0.3; done
  return 1
}

# --- run 1: rr -------------------------------------------------------------------
write_conf "$tmp/rr.conf" rr 1 1 1
log=$tmp/kadp-rr.log
if ! nat_topo_kadp_start "$tmp/rr.conf" "$log" rr; then
  fail kadp_start "kadp did not start" "$log"
else
  if ! warm_up; then
    fail warm_up "no answer through the VIP" "$log"
  else
    # (a) the warm-up took one rr pick; 12 more still give 4 each.
    t=$(tally 12)
    if [ "$(echo "$t" | grep -c '^4 server [123]$')" = 3 ]; then pass a_rr_4_each; else fail a_rr_4_each "got: $(echo "$t" | tr '\n' ' ')"; fi
    # (b)
    if get -o "$tmp/got.bin" http://198.18.0.100/big.bin &&
       [ "$(sha256sum <"$tmp/got.bin")" = "$(sha256sum <"$tmp/big.bin")" ]; then
      pass b_5mb_intact
    else
      fail b_5mb_intact "$(stat -c %s "$tmp/got.bin" 2>/dev/null || echo no) bytes received"
    fi
    # (c)
    par=()
    for i in $(seq 10); do get -o "$tmp/par$i.out" -w '%{http_code}\n' http://198.18.0.100/ >"$tmp/par$i.code" & par+=($!); done
    for p in "${par[@]}"; do wait "$p"; done
    ok=$(cat "$tmp"/par*.code 2>/dev/null | grep -c '^200$')
    if [ "$ok" = 10 ] && [ "$(cat "$tmp"/par*.out | grep -c '^server [123]$')" = 10 ]; then
      pass c_parallel_10
    else
      fail c_parallel_10 "$ok of 10 succeeded"
    fi
  fi
  if nat_topo_kadp_stop; then
    grep -q "^kadp: real server 198.19.0.1:80 of 198.18.0.100:80/tcp: conns [1-9]" "$log" ||
      fail rr_stop_report "no real-server line" "$log"
  else
    fail rr_stop "kadp did not stop cleanly" "$log"
  fi
  [ "$failed" = 0 ] || sed 's/^/    | /' "$log" | grep 'kadp:' | tail -12
fi

# --- run 2: wrr 1,2,3 -----------------------------------------------------------------
write_conf "$tmp/wrr.conf" wrr 1 2 3
log=$tmp/kadp-wrr.log
if ! nat_topo_kadp_start "$tmp/wrr.conf" "$log" wrr; then
  fail kadp_start_wrr "kadp did not start" "$log"
else
  # ARP answers were learned by the previous kadp; the first request may still wait.
  if ! warm_up; then
    fail d_wrr_1_2_3 "no answer through the VIP" "$log"
  else
    # The warm-up took the first pick; 11 more make 12 (two wrr periods of 6).
    counts=$( (cat "$tmp/warm.out"; for i in $(seq 11); do get http://198.18.0.100/ || echo "request $i failed"; done) |
      sort | uniq -c | awk '{print $3 "=" $1}' | tr '\n' ' ')
    if [ "$counts" = "1=2 2=4 3=6 " ]; then pass d_wrr_1_2_3; else fail d_wrr_1_2_3 "got: $counts" "$log"; fi
  fi
  nat_topo_kadp_stop || fail wrr_stop "kadp did not stop cleanly" "$log"
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

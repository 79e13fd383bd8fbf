#!/usr/bin/env bash
# A SYN flood with spoofed sources against kadp's smallest connection table
# (conn_table_size 1024) on the NAT topology (tests/lib/nat_topology.sh),
# while a long download runs through the VIP: the SYN-flood defense
# (docs/dataplane.md, dataplane/conn_defense.h) removes the idle half-open
# entries, so
#   (a) the download, established before the flood, completes byte-exact;
#   (b) a new connection opened in the middle of the flood succeeds;
#   (c) kadp's counters at SIGTERM show the flood was taken in and then
#       removed early (conn_defense_raised, conn_evicted_half_open > 0) and
#       that it was larger than the table (conn_new above 1024);
#   (d) a request after the flood succeeds at once;
#   (e) the control: the same flood against the same table with
#       `conn_defense off` starves it -- a new connection during the flood
#       fails, and conn_table_full counts its SYNs.
# The flood: tests/lib/syn_flood.py from the client's namespace, 600 SYNs a
# second for 8 s from 198.18.1.1 .. 198.18.254.254 (one address each) --
# without the defense the 60 s SYN_RECV timeout would keep the table full
# after under 2 s. The servers' SYN-ACKs to the spoofed addresses have no
# route in kadp (only 198.18.0.0/24 is on-link) and are dropped there.
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

if ! nat_topo_setup "kadp-synf-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR
head -c 12000000 /dev/urandom >"$tmp/big.bin"
nat_topo_publish "$tmp/big.bin" || { echo "FAIL: topology setup (big.bin)"; echo "COUNT 0 1 0"; exit 1; }

{ nat_topo_dataplane af_packet 1024; nat_topo_service rr 1 1 1; } >"$tmp/flood.conf"
get() { nat_topo_client curl -s --max-time 15 "$@"; }
log=$tmp/kadp.log
if ! nat_topo_kadp_start "$tmp/flood.conf" "$log" flood; then
  fail kadp_start "kadp did not start" "$log"
  echo "COUNT $passed $failed $skipped"
  exit 1
fi
up=
for _ in $(seq 10); do get -o /dev/null http://198.18.0.100/ && { up=1; break; }; sleep 0.3; done
[ -n "$up" ] || fail warm_up "no answer through the VIP" "$log"

# (a) ~10 s at 1.2 MB/s, started before the flood.
nat_topo_client curl -s --max-time 60 --limit-rate 1200k -o "$tmp/got.bin" http://198.18.0.100/big.bin &
dl=$!
sleep 1
nat_topo_client python3 tests/lib/syn_flood.py 198.18.0.100 80 600 8 >"$tmp/flood.out" 2>&1 &
flood=$!
# (b) 4 s into the flood: the table has been past its marks for seconds.
sleep 4
if get -o "$tmp/mid.out" -w '%{http_code}' http://198.18.0.100/ >"$tmp/mid.code" &&
   [ "$(cat "$tmp/mid.code")" = 200 ] && grep -q '^server [123]$' "$tmp/mid.out"; then
  pass b_new_connection_during_flood
else
  fail b_new_connection_during_flood "code $(cat "$tmp/mid.code" 2>/dev/null)" "$log"
fi
wait "$flood"
sent=$(tail -1 "$tmp/flood.out")
if wait "$dl" && [ "$(sha256sum <"$tmp/got.bin")" = "$(sha256sum <"$tmp/big.bin")" ]; then
  pass a_download_intact_through_flood
else
  fail a_download_intact_through_flood "$(stat -c %s "$tmp/got.bin" 2>/dev/null || echo no) of 12000000 bytes" "$log"
fi
# (d)
if get -o "$tmp/after.out" http://198.18.0.100/ && grep -q '^server [123]$' "$tmp/after.out"; then
  pass d_new_connection_after_flood
else
  fail d_new_connection_after_flood "no answer" "$log"
fi

nat_topo_kadp_stop || fail kadp_stop "kadp did not exit cleanly" "$log"
counters=$(grep '^kadp: counters (all workers):' "$log")
val() { echo "$counters" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
evicted=$(val conn_evicted_half_open) raised=$(val conn_defense_raised) new=$(val conn_new)
echo "flood: $sent SYNs sent; kadp: conn_new=${new:-0} conn_evicted_half_open=${evicted:-0}" \
     "conn_defense_raised=${raised:-0} conn_table_full=$(val conn_table_full) conn_expired=$(val conn_expired)"
if [ "${sent:-0}" -ge 4000 ] && [ "${new:-0}" -gt 1024 ] && [ "${evicted:-0}" -gt 0 ] && [ "${raised:-0}" -gt 0 ]; then
  pass c_flood_taken_in_and_evicted
else
  fail c_flood_taken_in_and_evicted "sent=$sent conn_new=$new evicted=$evicted raised=$raised" "$log"
fi

# (e) the same flood without the defense.
{ nat_topo_dataplane af_packet 1024 "" "    conn_defense off"; nat_topo_service rr 1 1 1; } >"$tmp/off.conf"
log=$tmp/kadp-off.log
if ! nat_topo_kadp_start "$tmp/off.conf" "$log" off; then
  fail off_start "kadp did not start" "$log"
else
  up=
  for _ in $(seq 10); do get -o /dev/null http://198.18.0.100/ && { up=1; break; }; sleep 0.3; done
  [ -n "$up" ] || fail off_warm_up "no answer through the VIP" "$log"
  nat_topo_client python3 tests/lib/syn_flood.py 198.18.0.100 80 600 8 >"$tmp/flood-off.out" 2>&1 &
  flood=$!
  sleep 4
  # Its SYN and both retransmissions (1 s, 3 s) find the table full.
  if nat_topo_client curl -s --max-time 5 -o /dev/null http://198.18.0.100/; then mid=ok; else mid=failed; fi
  wait "$flood"
  nat_topo_kadp_stop || fail off_stop "kadp did not exit cleanly" "$log"
  counters=$(grep '^kadp: counters (all workers):' "$log")
  full=$(val conn_table_full) evicted=$(val conn_evicted_half_open)
  echo "conn_defense off: new connection $mid; conn_table_full=${full:-0} conn_evicted_half_open=${evicted:-0}"
  if [ "$mid" = failed ] && [ "${full:-0}" -gt 1000 ] && [ -z "$evicted" ]; then
    pass e_without_defense_the_flood_starves_the_table
  else
    fail e_without_defense_the_flood_starves_the_table "new connection $mid, conn_table_full=$full" "$log"
  fi
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

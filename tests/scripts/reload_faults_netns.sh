#!/usr/bin/env bash
# Reloads that fail half-way, end to end on the NAT topology
# (tests/lib/nat_topology.sh), DPDK backend (docs/faults.md):
#
#   client 198.18.0.1 --- [lan  kadp  srv] --- bridge --- 198.19.0.{1,2,3} nginx
#
# The running configuration: 198.18.0.100:80 wrr over the three servers with
# weights 1 2 3, and - from a file pulled in by `include conf.d/*.conf` -
# 198.18.0.100:8080 rr over servers 1 and 2.
# Cases, each checked to leave the old configuration serving in full
# (`kadpctl --json list` byte for byte as before, 12 requests split 2/4/6,
# :8080 answers, the generation unchanged) with an error line naming the
# file:line or the reason, and `kadpctl status` counting the rejection:
#   (a) a file that parses but the data plane cannot take: a
#       virtual_server_group of 17 x 254 = 4318 addresses, more services than
#       the data plane's 4096 service ids (StatsRegistry) - rejected by
#       `kadpctl reload` (exit 1) and by SIGHUP;
#   (b) one broken included file (conf.d/extra.conf with a real server
#       address that is no address): rejected with that file's name and line;
#   (c) the next good reload (weights 3 2 1, the include fixed) is accepted
#       and serves 6/4/2;
#   (d) a storm of 10 SIGHUPs in a row while a client makes requests, the
#       file flipped between weights 1 1 1 and 2 2 2 on the way and left at
#       2 2 2: every request answered, kadp alive, no reload rejected, and
#       `kadpctl list` shows 2 2 2 at the end.
# (The dataplane-block change refused with "needs a restart" is
# reload_netns.sh's case (i); an IPVS refusing one op is the kernel backend's.)
#
# Needs root, nginx, curl, ethtool, python3. Exit 0 pass, 77 skip, else fail;
# the last line is "COUNT passed failed skipped". Environment: KADP, KADPCTL.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
KADPCTL=${KADPCTL:-${KADP_BUILD:-build}/kadpctl}
PY=/usr/bin/python3

. tests/lib/nat_topology.sh
nat_topo_test_start "$KADP"
[ -x "$KADPCTL" ] || { echo "FAIL: no kadpctl binary at $KADPCTL"; echo "COUNT 0 1 0"; exit 1; }
[ -x "$PY" ] || { echo "SKIP: no $PY"; echo "COUNT 0 0 1"; exit 77; }

if ! nat_topo_setup "kadp-rlf-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR
conf=$tmp/kadp.conf
log=$tmp/kadp.log
mkdir -p "$tmp/conf.d"

# write_conf W1 W2 W3 [EXTRA]: the main file (EXTRA appended as is).
write_conf() {
  {
    nat_topo_dataplane af_packet
    nat_topo_service wrr "$1" "$2" "$3"
    printf 'include %s/conf.d/*.conf\n' "$tmp"
    [ $# -ge 4 ] && printf '%s\n' "$4"
  } >"$conf"
}
# write_extra [BAD]: conf.d/extra.conf; BAD puts an address that is none in it.
write_extra() {
  cat >"$tmp/conf.d/extra.conf" <<CONF
virtual_server 198.18.0.100 8080 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.19.0.1 80 {
        weight 1
    }
    real_server ${1:-198.19.0.2} 80 {
        weight 1
    }
}
CONF
}
# big_group: 17 x 254 addresses behind one virtual_server.
big_group() {
  local i
  printf 'virtual_server_group BIG {\n'
  for i in $(seq 17); do printf '    198.18.%s.1-254 80\n' "$i"; done
  printf '}\nvirtual_server group BIG {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n'
  printf '    real_server 198.19.0.1 80 {\n        weight 1\n    }\n}\n'
}

ctl() { "$KADPCTL" -s "$NT_KADP_SOCK" "$@"; }
get() { nat_topo_client curl -s --max-time 5 "$@"; }
# tally N: "1=a 2=b 3=c " of N sequential requests to the VIP's port 80.
tally() {
  local i
  for i in $(seq "$1"); do get http://198.18.0.100/ || echo "request $i failed"; done |
    sort | uniq -c | awk '{print $3 "=" $1}' | tr '\n' ' '
}
# summary: the services as configured (no counters): address, port, scheduler, dests and weights.
summary() {
  ctl --json list | "$PY" -c '
import json, sys
for s in json.load(sys.stdin)["result"]["services"]:
    print(s["address"], s["port"], s["scheduler"], [(d["address"], d["port"], d["weight"]) for d in s["dests"]])'
}
status_field() { ctl --json status | "$PY" -c 'import json,sys; r = json.load(sys.stdin)["result"]; print(r[sys.argv[1]])' "$1"; }
generation() { status_field generation; }
rejected() { status_field reloads_rejected; }
warm_up() {
  for _ in $(seq 10); do get -o /dev/null http://198.18.0.100/ && return 0; sleep 0.3; done
  return 1
}
# old_serves CASE BEFORE GEN: the old configuration serves in full.
old_serves() {
  local t now gen
  now=$(summary)
  gen=$(generation)
  t=$(tally 12)
  if [ "$now" = "$2" ] && [ "$gen" = "$3" ] && [ "$t" = "1=2 2=4 3=6 " ] &&
     get http://198.18.0.100:8080/ | grep -q '^server [12]$'; then
    pass "$1_old_configuration_serves_in_full"
  else
    fail "$1_old_configuration_serves_in_full" "generation $gen (want $3), requests: $t, list: $(ctl list)"
  fi
}

write_conf 1 2 3
write_extra
if ! nat_topo_kadp_start "$conf" "$log" rlf; then
  fail kadp_start "kadp did not start" "$log"; echo "COUNT $passed $failed $skipped"; exit 1
fi
warm_up || fail warm_up "the VIP does not answer" "$log"
before=$(summary)
gen0=$(generation)
t=$(tally 12)
[ "$t" = "1=2 2=4 3=6 " ] && pass "start_serves_1_2_3 ($t)" || fail start_serves_1_2_3 "requests: $t" "$log"

# --- (a) parses, but more services than the data plane holds --------------------------
write_conf 3 2 1 "$(big_group)"
vs_line=$(grep -n '^virtual_server group BIG' "$conf" | cut -d: -f1)
"$KADP" -t -f "$conf" >"$tmp/a_check.out" 2>&1 && pass a_file_parses || fail a_file_parses "kadp -t refused it" "$tmp/a_check.out"
ctl reload >"$tmp/a_reload.out" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q "^reload rejected: .*error(s) in the services; the running configuration stays (generation $gen0)$" "$tmp/a_reload.out" &&
   [ "$(grep -c "^  $conf:$vs_line: error: virtual server group BIG/TCP: \[198\.18\.[0-9]*\.[0-9]*\]:80/tcp: more than 4096 virtual services in use" "$tmp/a_reload.out")" = 1 ]; then
  pass a_too_many_services_rejected_with_file_line
else
  fail a_too_many_services_rejected_with_file_line "exit $rc (want 1, $conf:$vs_line)" "$tmp/a_reload.out"
fi
kill -HUP "$NT_KADP_PID"
for _ in $(seq 100); do [ "$(rejected)" = 2 ] && break; sleep 0.1; done
if [ "$(rejected)" = 2 ] && grep -q "^kadp: reload (SIGHUP) rejected: .*stays (generation $gen0)$" "$log" &&
   grep -q "^kadp:   $conf:$vs_line: error: " "$log"; then
  pass a_sighup_rejected_logged_and_counted
else
  fail a_sighup_rejected_logged_and_counted "rejected count '$(rejected)'" "$log"
fi
ctl status >"$tmp/a_status.txt" 2>&1
grep -q "^reloads 0 accepted, 2 rejected$" "$tmp/a_status.txt" && grep -q "^last reload .*(SIGHUP): rejected: " "$tmp/a_status.txt" &&
  pass a_status_says_rejected || fail a_status_says_rejected "status:" "$tmp/a_status.txt"
old_serves a "$before" "$gen0"

# --- (b) one broken included file ----------------------------------------------------------
write_conf 3 2 1
write_extra 198.19.0.300
bad_line=$(grep -n 'real_server 198.19.0.300 80' "$tmp/conf.d/extra.conf" | cut -d: -f1)
ctl reload >"$tmp/b_reload.out" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q "^reload rejected: " "$tmp/b_reload.out" &&
   grep -q "^  $tmp/conf.d/extra.conf:$bad_line: error:" "$tmp/b_reload.out" && [ "$(rejected)" = 3 ]; then
  pass b_broken_include_rejected_with_its_file_line
else
  fail b_broken_include_rejected_with_its_file_line "exit $rc (want 1, extra.conf:$bad_line)" "$tmp/b_reload.out"
fi
old_serves b "$before" "$gen0"

# --- (c) the next good reload works ----------------------------------------------------------
write_extra
ctl reload >"$tmp/c_reload.out" 2>&1
rc=$?
t=$(tally 12)
if [ "$rc" = 0 ] && grep -q "^reload accepted: generation $((gen0 + 1)): " "$tmp/c_reload.out" && [ "$t" = "1=6 2=4 3=2 " ] &&
   ctl status | grep -q "^reloads 1 accepted, 3 rejected$"; then
  pass "c_next_good_reload_applies ($t)"
else
  fail c_next_good_reload_applies "exit $rc, requests: $t" "$tmp/c_reload.out"
fi

# --- (d) a SIGHUP storm while traffic flows --------------------------------------------------
gen1=$(generation)
( for i in $(seq 60); do get http://198.18.0.100/ | grep -q '^server [123]$' && echo ok || echo "failed $i"; done ) >"$tmp/storm_client.txt" 2>&1 &
client=$!
for i in $(seq 10); do
  if [ $((i % 2)) = 1 ]; then write_conf 1 1 1; else write_conf 2 2 2; fi
  kill -HUP "$NT_KADP_PID"
  sleep 0.05
done
wait "$client"
sleep 1
accepted=$(status_field reloads_accepted)
t=$(tally 12)
weights=$(ctl --json list | "$PY" -c '
import json, sys
for s in json.load(sys.stdin)["result"]["services"]:
    if s["port"] == 80: print(" ".join(str(d["weight"]) for d in sorted(s["dests"], key=lambda d: d["address"])))')
if kill -0 "$NT_KADP_PID" 2>/dev/null && [ "$(grep -c '^ok$' "$tmp/storm_client.txt")" = 60 ] &&
   [ "$(rejected)" = 3 ] && [ "$accepted" -ge 2 ] && [ "$weights" = "2 2 2" ] && [ "$t" = "1=4 2=4 3=4 " ] &&
   ! grep -q "reload (SIGHUP) failed" "$log"; then
  pass "d_sighup_storm ($((accepted - 1)) reloads for 10 SIGHUPs, generation $gen1 -> $(generation))"
else
  fail d_sighup_storm "alive? answered $(grep -c '^ok$' "$tmp/storm_client.txt")/60, rejected $(rejected), accepted $accepted, weights '$weights', requests $t" "$log"
fi

if nat_topo_kadp_stop; then pass e_stop; else fail e_stop "kadp did not stop cleanly" "$log"; fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

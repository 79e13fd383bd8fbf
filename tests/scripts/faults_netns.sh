#!/usr/bin/env bash
# Faults kadp (DPDK backend) must survive, end to end in namespaces
# (docs/faults.md has the table of outcomes).
#
# Part A, the VRRP topology (tests/lib/vrrp_topology.sh): kadp and
# keepalived 2.2.7 as peers on one LAN. kadp runs
#   * VI_HANG (VRID 51, kadp 150 vs keepalived 100) tracking vrrp_script
#     `hang` (interval 2, timeout 1, fall 1, weight 0): a script that traps
#     SIGTERM and sleeps, so each run needs the SIGKILL after kill_grace;
#   * VI_CALM (VRID 52, kadp 150 vs keepalived 100), tracking nothing;
#   * virtual_server 198.18.0.100:80 with two real servers checked by
#     MISC_CHECKs (delay_loop 1, misc_timeout 1, retry 1): 198.18.0.11 by a
#     script that hangs as above, 198.18.0.12 by a fork bomb limited to the
#     test (it loops spawning `setsid sleep` children and double-forked,
#     setsid'ed grandchildren, never exiting).
# Cases: (a1) the hanging MISC_CHECK removes its server ("MISC_CHECK on
# service [198.18.0.11]:tcp:80 failed after 1 retries.", "timed out"),
# kadpctl list weight 0; (a2) the fork bomb's server too, and kadp logs that
# it killed processes outside the script's process group; (a3) the
# vrrp_script times out ("VRRP_Script(hang) timed_out"), VI_HANG enters FAULT
# (kadpctl status) and keepalived takes VRID 51 over; (a4) meanwhile the
# control thread never blocked: keepalived stays BACKUP on VRID 52 for the
# whole run (kadp's adverts for VI_CALM kept coming every second) and kadpctl
# answers; (a5) at most one run of each MISC_CHECK at a time, at most
# ceil((timeout + kill_grace) / interval) = 2 of the vrrp_script (sampled); (a6) no
# zombie child of kadp lives on between two samples 3 s apart; (a7) after
# kadp stops, no process that any of its scripts started is left (by the
# run mark KADP_SCRIPT_RUN=<kadp pid>. in /proc/*/environ, and by the
# process groups/sessions the runs had); (a8) a port losing link: the
# bridge's end of kadp's veth (pk) set down: kadp's port link goes down
# (log line, kadpctl status), VI_CALM enters FAULT as keepalived does for a down
# interface; link up again: back to MASTER.
#
# Part B, the NAT topology (tests/lib/nat_topology.sh): (b1) the exception
# TAP kadp-lan deleted with `ip link del` while kadp runs: requests through
# the VIP keep succeeding, kadp logs the loss once and kadpctl status says
# so; (b2) the server side's link down (the bridge's end of kadp's `srv`
# veth): requests fail while down, succeed again after link up, the port's
# link state in kadpctl status follows.
#
# Needs root, ip, ethtool, keepalived, nginx, curl, python3. Exit 0 pass,
# 77 skip, else fail; the last line is "COUNT passed failed skipped".
# Environment: KADP, KADPCTL.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
KADPCTL=${KADPCTL:-${KADP_BUILD:-build}/kadpctl}
PY=/usr/bin/python3

. tests/lib/nat_topology.sh
. tests/lib/vrrp_topology.sh
nat_topo_test_start "$KADP"
trap 'vrrp_topo_cleanup; nat_topo_cleanup' EXIT
command -v keepalived >/dev/null || { echo "SKIP: no keepalived"; echo "COUNT 0 0 1"; exit 77; }
[ -x "$PY" ] || { echo "SKIP: no $PY"; echo "COUNT 0 0 1"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; echo "COUNT 0 0 1"; exit 77; }
[ -x "$KADPCTL" ] || { echo "FAIL: no kadpctl binary at $KADPCTL"; echo "COUNT 0 1 0"; exit 1; }
VT_KADP=$KADP

# wait_for SECONDS COMMAND...: until COMMAND succeeds (every 0.2 s).
wait_for() {
  local n=$(($1 * 5))
  shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.2; done
  return 1
}
has_line() { grep -qF -- "$2" "$1"; }

# =========================================================================================
# Part A: hanging scripts, a fork bomb, a port losing link (VRRP topology)
# =========================================================================================
if ! vrrp_topo_setup "kadp-flt-$$"; then echo "FAIL: vrrp topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$VT_DIR
vrrp_topo_lb sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 \
  net.ipv4.conf.lan.rp_filter=1 net.ipv4.conf.lan.arp_ignore=8

# Each run appends "start PID" (PID = its process group and session).
cat >"$tmp/hang.sh" <<SH
#!/bin/sh
echo "start \$\$" >>"\$1"
trap '' TERM
sleep 1000
SH
cat >"$tmp/forkbomb.sh" <<SH
#!/bin/sh
echo "start \$\$" >>"\$1"
while :; do
  setsid sleep 1000 &
  (setsid sleep 1000 &)
  sleep 0.05
done
SH
chmod 0755 "$tmp/hang.sh" "$tmp/forkbomb.sh"

vrrp_instance() {  # NAME VRID PRIORITY VIP [MORE]
  printf 'vrrp_instance %s {\n    state BACKUP\n    interface %s\n    virtual_router_id %s\n    priority %s\n    advert_int 1\n' \
    "$1" "${IFACE:-lan}" "$2" "$3"
  [ -n "${5:-}" ] && printf '%s\n' "$5"
  printf '    virtual_ipaddress {\n        %s\n    }\n}\n' "$4"
}
{
  vrrp_topo_dataplane
  cat <<CONF
vrrp_script hang {
    script "$tmp/hang.sh $tmp/vrrp_runs"
    interval 2
    timeout 1
    fall 1
    rise 1
}
CONF
  vrrp_instance VI_HANG 51 150 198.18.0.51/24 '    track_script {
        hang
    }'
  vrrp_instance VI_CALM 52 150 198.18.0.52/24
  cat <<CONF
virtual_server 198.18.0.100 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.18.0.11 80 {
        MISC_CHECK {
            misc_path "$tmp/hang.sh $tmp/misc_runs"
            misc_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
    real_server 198.18.0.12 80 {
        MISC_CHECK {
            misc_path "$tmp/forkbomb.sh $tmp/bomb_runs"
            misc_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
}
CONF
} >"$tmp/kadp.conf"
{
  IFACE=eth0 vrrp_instance VI_HANG 51 100 198.18.0.51/24
  IFACE=eth0 vrrp_instance VI_CALM 52 100 198.18.0.52/24
} >"$tmp/ka.conf"

klog=$tmp/kadp.log
kalog=$tmp/ka.log
if ! vrrp_topo_kadp_start "$tmp/kadp.conf" "$klog"; then
  fail a_kadp_start "kadp did not start" "$klog"; echo "COUNT $passed $failed $skipped"; exit 1
fi
kadp_pid=$VT_KADP_PID
if ! vrrp_topo_ka_start "$tmp/ka.conf" "$kalog"; then
  fail a_keepalived_start "keepalived did not start" "$kalog"; echo "COUNT $passed $failed $skipped"; exit 1
fi
ctl() { vrrp_topo_kadpctl "$@"; }
weight_of() {  # ADDR: its weight in 198.18.0.100:80 (kadpctl --json list)
  ctl --json list 2>/dev/null | "$PY" -c '
import json, sys
for s in json.load(sys.stdin)["result"]["services"]:
    for d in s["dests"]:
        if d["address"] == sys.argv[1]: print(d["weight"])
' "$1"
}
# vrrp_state NAME: its state in kadpctl status ("vrrp NAME on IF, VRID N: STATE, priority P").
vrrp_state() { ctl status 2>/dev/null | awk -v n="$1" '$1 == "vrrp" && $2 == n { s = $7; sub(",", "", s); print s }' | head -1; }

# Samples while the scripts run: live runs per checker (at most one each)
# and zombie children of kadp (none may survive 3 s).
max_misc=0 max_bomb=0 max_vrrp=0 zombies_kept=
runs_alive() {  # RUNS_FILE: how many of the runs it lists still have a live leader
  local n=0 p st
  while read -r _ p; do
    st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Z ] && grep -qsF "$tmp/" "/proc/$p/cmdline" && n=$((n + 1))
  done <"$1" 2>/dev/null
  echo $n
}
zombie_children() {  # PID: its zombie children's PIDs
  local f
  for f in /proc/[0-9]*/stat; do
    awk -v pp="$1" '$4 == pp && $3 == "Z" { print $1 }' "$f" 2>/dev/null
  done | sort -n
}
ctl_ok=1
for _ in $(seq 6); do
  z1=$(zombie_children "$kadp_pid")
  for _ in 1 2 3; do
    n=$(runs_alive "$tmp/misc_runs"); [ "$n" -gt "$max_misc" ] && max_misc=$n
    n=$(runs_alive "$tmp/bomb_runs"); [ "$n" -gt "$max_bomb" ] && max_bomb=$n
    n=$(runs_alive "$tmp/vrrp_runs"); [ "$n" -gt "$max_vrrp" ] && max_vrrp=$n
    ctl status >/dev/null 2>&1 || ctl_ok=
    sleep 1
  done
  z2=$(zombie_children "$kadp_pid")
  kept=$(comm -12 <(echo "$z1") <(echo "$z2") | grep . | tr '\n' ' ')
  [ -n "$kept" ] && zombies_kept="$zombies_kept $kept"
done

# (a1) the hanging MISC_CHECK
if has_line "$klog" "kadp: MISC_CHECK on service [198.18.0.11]:tcp:80 failed after 1 retries." &&
   has_line "$klog" "kadp: Misc check for [$tmp/hang.sh $tmp/misc_runs] timed out." &&
   has_line "$klog" "kadp: Removing service [198.18.0.11]:tcp:80 from VS [198.18.0.100]:tcp:80" &&
   [ "$(weight_of 198.18.0.11)" = 0 ]; then
  pass a1_hanging_misc_check_removes_its_server
else
  fail a1_hanging_misc_check_removes_its_server "no failure/removal, or weight '$(weight_of 198.18.0.11)'" "$klog"
fi
# (a2) the fork bomb
if has_line "$klog" "kadp: MISC_CHECK on service [198.18.0.12]:tcp:80 failed after 1 retries." &&
   has_line "$klog" "kadp: Removing service [198.18.0.12]:tcp:80 from VS [198.18.0.100]:tcp:80" &&
   grep -q "^kadp: MISC_CHECK of \[198.18.0.12\]:tcp:80: killed [0-9]* process(es) it started outside its process group$" "$klog" &&
   [ "$(weight_of 198.18.0.12)" = 0 ]; then
  pass a2_fork_bomb_killed_and_its_server_removed
else
  fail a2_fork_bomb_killed_and_its_server_removed "no failure/removal/kill line, or weight '$(weight_of 198.18.0.12)'" "$klog"
fi
# (a3) the vrrp_script
if has_line "$klog" "VRRP_Script(hang) timed_out" && grep -q "(VI_HANG) Entering FAULT STATE" "$klog" &&
   [ "$(vrrp_state VI_HANG)" = FAULT ] && grep -q "(VI_HANG) Entering MASTER STATE" "$kalog"; then
  pass a3_hanging_vrrp_script_faults_its_instance
else
  fail a3_hanging_vrrp_script_faults_its_instance "state '$(vrrp_state VI_HANG)'" "$klog"
fi
# (a4) the control thread kept going
if [ -n "$ctl_ok" ] && ! grep -q "(VI_CALM) Entering MASTER STATE" "$kalog" &&
   [ "$(vrrp_state VI_CALM)" = MASTER ]; then
  pass a4_adverts_and_kadpctl_kept_going
else
  fail a4_adverts_and_kadpctl_kept_going "kadpctl ok '$ctl_ok', kadp VI_CALM '$(vrrp_state VI_CALM)'" "$kalog"
fi
# (a5) one run per checker at a time
runs=$(wc -l <"$tmp/misc_runs" 2>/dev/null)
# A vrrp_script run lasts timeout 1 + kill_grace 2 s and the next starts
# every interval (2 s) anyway, as keepalived 2.2.7 does: two may overlap.
if [ "$max_misc" = 1 ] && [ "$max_bomb" = 1 ] && [ "$max_vrrp" -le 2 ] && [ "${runs:-0}" -ge 2 ]; then
  pass "a5_one_run_per_checker_at_a_time ($runs hang runs)"
else
  fail a5_one_run_per_checker_at_a_time "at most $max_misc/$max_bomb/$max_vrrp live runs, $runs runs"
fi
# (a6) no zombie lives on
[ -z "$zombies_kept" ] && pass a6_no_zombie_lives_on || fail a6_no_zombie_lives_on "zombies kept:$zombies_kept"

# (a8) a port losing link: keepalived's view of kadp's veth, pk, down
vrrp_topo_br ip link set pk down
state_is() { [ "$(vrrp_state "$1")" = "$2" ]; }
if wait_for 10 state_is VI_CALM FAULT && has_line "$klog" "kadp: port lan link down" &&
   has_line "$klog" "(VI_CALM) Entering FAULT STATE"; then
  pass a8_link_down_faults_the_instances_on_it
else
  fail a8_link_down_faults_the_instances_on_it "VI_CALM '$(vrrp_state VI_CALM)'" "$klog"
fi
ctl status >"$tmp/status_down.txt" 2>&1
grep -q "^port lan .*, link down$" "$tmp/status_down.txt" && pass a8_kadpctl_shows_link_down ||
  fail a8_kadpctl_shows_link_down "no 'link down' port line" "$tmp/status_down.txt"
vrrp_topo_br ip link set pk up
if wait_for 15 state_is VI_CALM MASTER && has_line "$klog" "kadp: port lan link up"; then
  pass a8_link_up_instance_back_to_master
else
  fail a8_link_up_instance_back_to_master "VI_CALM '$(vrrp_state VI_CALM)'" "$klog"
fi

# (a7) kadp stops: nothing its scripts started is left
vrrp_topo_kadp_stop || fail a7_stop "kadp did not stop cleanly" "$klog"
left=
sleep 0.5
for f in /proc/[0-9]*/environ; do
  { tr '\0' '\n' <"$f"; } 2>/dev/null | grep -q "^KADP_SCRIPT_RUN=$kadp_pid\\." && left="$left ${f#/proc/}"
done
groups=$(cat "$tmp/misc_runs" "$tmp/bomb_runs" "$tmp/vrrp_runs" 2>/dev/null | awk '{print $2}' | sort -u | tr '\n' ' ')
for f in /proc/[0-9]*/stat; do
  { read -r pid _ st _ pgrp sid _ <"$f"; } 2>/dev/null || continue
  for g in $groups; do
    [ "$pgrp" = "$g" ] || [ "$sid" = "$g" ] && left="$left $pid($st)"
  done
done
if [ -z "$left" ]; then
  pass "a7_nothing_left_after_stop ($(echo "$groups" | wc -w) runs)"
else
  fail a7_nothing_left_after_stop "left:$left"
fi
vrrp_topo_ka_stop
vrrp_topo_cleanup

# =========================================================================================
# Part B: the exception TAP deleted, the server side losing link (NAT topology)
# =========================================================================================
if ! nat_topo_setup "kadp-flb-$$" lan srv; then echo "FAIL: nat topology setup"; echo "COUNT $passed $((failed + 1)) $skipped"; exit 1; fi
tmp=$NT_DIR
nat_topo_in_ns "$NT_NS_LB" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 \
  net.ipv4.conf.lan.rp_filter=1 net.ipv4.conf.srv.rp_filter=1 \
  net.ipv4.conf.lan.arp_ignore=8 net.ipv4.conf.srv.arp_ignore=8
{ nat_topo_dataplane af_packet; nat_topo_service rr 1 1 1; } >"$tmp/nat.conf"
nlog=$tmp/kadp.log
if ! nat_topo_kadp_start "$tmp/nat.conf" "$nlog" b; then
  fail b_kadp_start "kadp did not start" "$nlog"; echo "COUNT $passed $failed $skipped"; exit 1
fi
nctl() { "$KADPCTL" -s "$NT_KADP_SOCK" "$@"; }
# requests N: how many of N requests to the VIP got a server's page.
requests() {
  local ok=0
  for _ in $(seq "$1"); do
    nat_topo_client curl -s --max-time 3 http://198.18.0.100/ | grep -q '^server [123]$' && ok=$((ok + 1))
  done
  echo $ok
}
ok=$(requests 9)
[ "$ok" = 9 ] && pass "b0_vip_serves ($ok/9)" || fail b0_vip_serves "$ok/9 requests answered" "$nlog"

# (b1) the exception TAP of lan deleted
gone="exception port kadp-lan of lan is gone (deleted from the kernel)"
nat_topo_in_ns "$NT_NS_LB" ip link del kadp-lan
if wait_for 10 grep -qF "kadp: $gone" "$nlog"; then
  pass b1_tap_loss_logged
else
  fail b1_tap_loss_logged "no '$gone' line" "$nlog"
fi
ok=$(requests 9)
[ "$ok" = 9 ] && pass "b1_vip_serves_without_the_tap ($ok/9)" || fail b1_vip_serves_without_the_tap "$ok/9 requests answered" "$nlog"
sleep 2
nctl status >"$tmp/status_tap.txt" 2>&1
if [ "$(grep -cF "$gone" "$nlog")" = 1 ] && grep -qF "degraded: $gone" "$tmp/status_tap.txt" &&
   grep -qx "exception TAPs lost 1" "$tmp/status_tap.txt" && ! grep -q "degraded: .*kadp-srv" "$tmp/status_tap.txt"; then
  pass b1_tap_loss_said_once_and_in_status
else
  fail b1_tap_loss_said_once_and_in_status "$(grep -cF "$gone" "$nlog") log lines; status:" "$tmp/status_tap.txt"
fi

# (b2) the server side loses link (the bridge's end of kadp's srv veth down)
nat_topo_in_ns "$NT_NS_BR" ip link set up0 down
sleep 2
ok=$(requests 3)
nctl status >"$tmp/status_srv_down.txt" 2>&1
[ "$ok" = 0 ] && pass "b2_link_down_no_answers" || fail b2_link_down_no_answers "$ok/3 requests answered" "$nlog"
if has_line "$nlog" "kadp: port srv link down" && grep -q "^port srv .*, link down$" "$tmp/status_srv_down.txt" &&
   grep -q "^port lan .*, link up$" "$tmp/status_srv_down.txt"; then
  pass b2_link_down_logged_and_in_status
else
  fail b2_link_down_logged_and_in_status "no log line or port line" "$tmp/status_srv_down.txt"
fi
nat_topo_in_ns "$NT_NS_BR" ip link set up0 up
wait_for 10 has_line "$nlog" "kadp: port srv link up"
ok=$(requests 9)
[ "$ok" = 9 ] && pass "b2_link_up_serves_again ($ok/9)" || fail b2_link_up_serves_again "$ok/9 requests answered" "$nlog"
nctl status 2>&1 | grep -q "^port srv .*, link up$" && pass b2_kadpctl_shows_link_up ||
  fail b2_kadpctl_shows_link_up "no 'link up' srv port line"
if nat_topo_kadp_stop; then pass b3_stop; else fail b3_stop "kadp did not stop cleanly" "$nlog"; fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

#!/usr/bin/env bash
# VRRP with the kernel backend against the real keepalived 2.2.7, on a
# bridge in network namespaces (no IPVS needed: VRRP alone):
#
#   client 198.18.0.1 ---+
#   kadp   198.18.0.2 ---+--- bridge (PREFIX-br)     VIP 198.18.0.100/24
#   keepalived 198.18.0.3+
#
# VRRPv3, advert_int 0.1; kadp priority 150, keepalived 100.
# (a) kadp becomes MASTER: the VIP is on its eth0 (rtnetlink), the
#     client's ARP for the VIP gets kadp's MAC, keepalived is BACKUP;
#     `kadpctl status` shows the instance MASTER with its priority;
# (b) its notify script got keepalived's arguments ("INSTANCE VI_1 MASTER
#     150") and notify_master ran;
# (c) its vrrp_script failing (weight -60) hands over: kadp BACKUP, the VIP
#     gone from its eth0, keepalived MASTER; the script OK again: kadp
#     preempts back;
# (e) SIGHUP with the same file keeps the MASTER as it is; with priority 90
#     the instance restarts as backup and keepalived takes over; back to
#     150, kadp preempts again;
# (f) track_interface up0: its carrier lost (the veth peer down), kadp goes
#     to FAULT and keepalived takes over; back up, kadp is MASTER again;
# (d) SIGTERM: kadp sends priority 0 and removes the VIP; keepalived is
#     MASTER within the skew plus a generous margin; kadp exits 0.
# Needs root, keepalived, python3. Exit 0 pass, 77 skip, else fail; the
# last line is "COUNT passed failed skipped". Environment: KADP.
set -u
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
KADPCTL=${KADPCTL:-$(dirname "$KADP")/kadpctl}
passed=0 failed=0 skipped=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() {
  echo "FAIL: $1: $2"
  failed=$((failed + 1))
  [ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/    | /' "$3" | tail -30
}
if [ "$(id -u)" != 0 ] || ! command -v keepalived >/dev/null || [ ! -x "$KADP" ]; then
  echo "SKIP: needs root, keepalived and $KADP"; echo "COUNT 0 0 1"; exit 77
fi

P=kvk-$$
tmp=$(mktemp -d /tmp/kadp-vrrpk-XXXXXX)
chmod 0755 "$tmp"
kadp_pid= ka_pid=
cleanup() {
  [ -n "$kadp_pid" ] && { kill -KILL "$kadp_pid"; wait "$kadp_pid"; } 2>/dev/null
  [ -n "$ka_pid" ] && { kill -KILL "$ka_pid"; wait "$ka_pid"; } 2>/dev/null
  for f in "$tmp"/ka*.pid; do [ -s "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null; done
  local n p
  for n in c lb ka br; do
    for p in $(ip netns pids "$P-$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$P-$n" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for n in br lb ka c; do ip netns add "$P-$n" || { echo "FAIL: netns"; exit 1; }; done
ip -n "$P-br" link add br0 type bridge
ip -n "$P-br" link set br0 up
i=0
for n in c lb ka; do
  i=$((i + 1))
  ip link add eth0 netns "$P-$n" type veth peer name "p$i" netns "$P-br"
  ip -n "$P-br" link set "p$i" master br0 up
  ip -n "$P-$n" addr add "198.18.0.$i/24" dev eth0
  ip -n "$P-$n" link set eth0 up
  ip -n "$P-$n" link set lo up
done
# An uplink kadp tracks (track_interface, weight 0): its peer going down
# takes its carrier away.
ip link add up0 netns "$P-lb" type veth peer name up0p netns "$P-br"
ip -n "$P-lb" link set up0 up
ip -n "$P-br" link set up0p up

echo 0 >"$tmp/code"
printf '#!/bin/sh\nexit "$(cat %s)"\n' "$tmp/code" >"$tmp/chk.sh"
printf '#!/bin/sh\necho "$*" >>%s\n' "$tmp/notify.log" >"$tmp/notify.sh"
printf '#!/bin/sh\necho master >>%s\n' "$tmp/master.log" >"$tmp/master.sh"
chmod 0755 "$tmp/chk.sh" "$tmp/notify.sh" "$tmp/master.sh"
instance() {  # NAME PRIO IF [EXTRA]
  cat <<CONF
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority $2
    version 3
    advert_int 0.1
    virtual_ipaddress {
        198.18.0.100/24
    }
$4
}
CONF
}
kadp_conf() {  # PRIORITY
  printf 'vrrp_script chk {\n    script "%s"\n    interval 1\n    weight -60\n}\n' "$tmp/chk.sh"
  instance kadp "$1" eth0 "    track_script {
        chk
    }
    track_interface {
        up0
    }
    notify \"$tmp/notify.sh\"
    notify_master \"$tmp/master.sh\""
}
kadp_conf 150 >"$tmp/kadp.conf"
{ printf 'global_defs {\n    router_id ka\n}\n'; instance ka 100 eth0 ""; } >"$tmp/ka.conf"

ip netns exec "$P-ka" keepalived -n -l -D -P -f "$tmp/ka.conf" -p "$tmp/ka.pid" -r "$tmp/kav.pid" -c "$tmp/kac.pid" \
  >"$tmp/ka.log" 2>&1 &
ka_pid=$!
ip netns exec "$P-lb" "$KADP" --backend kernel -f "$tmp/kadp.conf" --control-socket "$tmp/k.sock" >"$tmp/kadp.log" 2>&1 &
kadp_pid=$!

# wait_for SECONDS FILE PATTERN
wait_for() {
  local i
  for i in $(seq $(($1 * 20))); do grep -q -- "$3" "$2" 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
vip_on() { ip -n "$P-$1" -4 addr show dev eth0 | grep -q "198.18.0.100/24"; }
mac_of() { ip -n "$P-$1" link show eth0 | awk '/link\/ether/ { print $2 }'; }
# Which MAC the client resolves the VIP to now.
vip_mac() {
  ip -n "$P-c" neigh flush dev eth0 2>/dev/null
  ip netns exec "$P-c" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"x", ("198.18.0.100", 9))' 2>/dev/null
  local i
  for i in $(seq 40); do
    ip -n "$P-c" neigh show 198.18.0.100 | grep -q lladdr && break
    sleep 0.05
  done
  ip -n "$P-c" neigh show 198.18.0.100 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
}

# --- (a) ---------------------------------------------------------------------------
if wait_for 10 "$tmp/kadp.log" "(VI_1) Entering MASTER STATE"; then
  sleep 0.3
  m=$(vip_mac)
  if vip_on lb && ! vip_on ka && [ "$m" = "$(mac_of lb)" ] && grep -q "(VI_1) Entering BACKUP STATE" "$tmp/ka.log"; then
    pass a_kadp_master_vip_on_its_interface
  else
    fail a_kadp_master_vip_on_its_interface "vip lb=$(vip_on lb && echo y) ka=$(vip_on ka && echo y), client sees $m (kadp $(mac_of lb))" "$tmp/kadp.log"
  fi
else
  fail a_kadp_master_vip_on_its_interface "kadp never became MASTER" "$tmp/kadp.log"
fi

st=$(ip netns exec "$P-lb" "$KADPCTL" -s "$tmp/k.sock" status 2>&1)
if [[ "$st" == *"vrrp VI_1 on eth0, VRID 61: MASTER, priority 150"* ]]; then
  pass a_kadpctl_status_shows_the_instance
else
  fail a_kadpctl_status_shows_the_instance "status: $st"
fi

# --- (b) ---------------------------------------------------------------------------
wait_for 3 "$tmp/master.log" master
if grep -qx "INSTANCE VI_1 MASTER 150" "$tmp/notify.log" 2>/dev/null && grep -qx master "$tmp/master.log" 2>/dev/null; then
  pass b_notify_scripts_with_keepalived_arguments
else
  fail b_notify_scripts_with_keepalived_arguments "notify.log: $(tr '\n' '|' <"$tmp/notify.log" 2>/dev/null)" "$tmp/kadp.log"
fi

# --- (c) ---------------------------------------------------------------------------
echo 1 >"$tmp/code"
if wait_for 10 "$tmp/kadp.log" "(VI_1) Changing effective priority from 150 to 90" &&
   wait_for 10 "$tmp/kadp.log" "(VI_1) Entering BACKUP STATE$" && wait_for 5 "$tmp/ka.log" "(VI_1) Entering MASTER STATE"; then
  sleep 0.3
  if ! vip_on lb && vip_on ka && [ "$(vip_mac)" = "$(mac_of ka)" ]; then
    pass c_failing_vrrp_script_hands_over
  else
    fail c_failing_vrrp_script_hands_over "vip lb=$(vip_on lb && echo y) ka=$(vip_on ka && echo y)" "$tmp/kadp.log"
  fi
  echo 0 >"$tmp/code"
  n=$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/kadp.log")
  for _ in $(seq 100); do [ "$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/kadp.log")" -gt "$n" ] && break; sleep 0.05; done
  sleep 0.3
  if [ "$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/kadp.log")" -gt "$n" ] && vip_on lb && ! vip_on ka; then
    pass c_script_ok_again_kadp_preempts
  else
    fail c_script_ok_again_kadp_preempts "vip lb=$(vip_on lb && echo y) ka=$(vip_on ka && echo y)" "$tmp/kadp.log"
  fi
else
  fail c_failing_vrrp_script_hands_over "no hand-over" "$tmp/kadp.log"
fi

# --- (e) reload ----------------------------------------------------------------------
# The same file: the instance goes on (no new state line). Priority 90: it
# restarts as backup (priority 0 first, so keepalived takes over at once).
inits=$(grep -c "(VI_1) Entering BACKUP STATE (init)" "$tmp/kadp.log")
kill -HUP "$kadp_pid"
sleep 1
if [ "$(grep -c "(VI_1) Entering BACKUP STATE (init)" "$tmp/kadp.log")" = "$inits" ] && vip_on lb; then
  pass e_reload_same_file_keeps_the_master
else
  fail e_reload_same_file_keeps_the_master "restarted or lost the VIP" "$tmp/kadp.log"
fi
masters=$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/ka.log")
kadp_conf 90 >"$tmp/kadp.conf"
kill -HUP "$kadp_pid"
for _ in $(seq 100); do [ "$(grep -c "(VI_1) Entering BACKUP STATE (init)" "$tmp/kadp.log")" -gt "$inits" ] && break; sleep 0.05; done
if [ "$(grep -c "(VI_1) Entering BACKUP STATE (init)" "$tmp/kadp.log")" -gt "$inits" ]; then
  for _ in $(seq 40); do [ "$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/ka.log")" -gt "$masters" ] && break; sleep 0.05; done
  if [ "$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/ka.log")" -gt "$masters" ] && ! vip_on lb; then
    pass e_reload_lower_priority_hands_over
  else
    fail e_reload_lower_priority_hands_over "keepalived not master or VIP still on kadp" "$tmp/kadp.log"
  fi
else
  fail e_reload_lower_priority_hands_over "no restart of the instance" "$tmp/kadp.log"
fi
kadp_conf 150 >"$tmp/kadp.conf"
kill -HUP "$kadp_pid"
n=$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/kadp.log")
for _ in $(seq 100); do [ "$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/kadp.log")" -gt "$n" ] && break; sleep 0.05; done
if [ "$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/kadp.log")" -gt "$n" ]; then
  sleep 0.3
  vip_on lb && ! vip_on ka && pass e_reload_back_to_150_preempts ||
    fail e_reload_back_to_150_preempts "vip lb=$(vip_on lb && echo y) ka=$(vip_on ka && echo y)" "$tmp/kadp.log"
else
  fail e_reload_back_to_150_preempts "kadp not master again" "$tmp/kadp.log"
fi

# --- (f) track_interface ---------------------------------------------------------------
faults=$(grep -c "(VI_1) Entering FAULT STATE" "$tmp/kadp.log")
masters=$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/ka.log")
ip -n "$P-br" link set up0p down
for _ in $(seq 100); do [ "$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/ka.log")" -gt "$masters" ] && break; sleep 0.05; done
sleep 0.3
if [ "$(grep -c "(VI_1) Entering FAULT STATE" "$tmp/kadp.log")" -gt "$faults" ] &&
   [ "$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/ka.log")" -gt "$masters" ] && ! vip_on lb && vip_on ka; then
  pass f_tracked_interface_down_faults_and_hands_over
else
  fail f_tracked_interface_down_faults_and_hands_over "vip lb=$(vip_on lb && echo y) ka=$(vip_on ka && echo y)" "$tmp/kadp.log"
fi
n=$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/kadp.log")
ip -n "$P-br" link set up0p up
for _ in $(seq 100); do [ "$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/kadp.log")" -gt "$n" ] && break; sleep 0.05; done
sleep 0.3
if [ "$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/kadp.log")" -gt "$n" ] && vip_on lb && ! vip_on ka; then
  pass f_tracked_interface_up_kadp_back
else
  fail f_tracked_interface_up_kadp_back "vip lb=$(vip_on lb && echo y) ka=$(vip_on ka && echo y)" "$tmp/kadp.log"
fi

# --- (d) ---------------------------------------------------------------------------
masters=$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/ka.log")
t0=$(date +%s%N)
kill -TERM "$kadp_pid"
took=
for _ in $(seq 400); do
  if [ "$(grep -c "(VI_1) Entering MASTER STATE" "$tmp/ka.log")" -gt "$masters" ]; then took=$((($(date +%s%N) - t0) / 1000000)); break; fi
  sleep 0.005
done
wait "$kadp_pid"
rc=$?
kadp_pid=
# The bound after a priority-0 advert is keepalived's skew: (256-100) x 0.1 / 256 s = 61 ms.
if [ -n "$took" ] && [ "$took" -lt 1500 ] && [ "$rc" = 0 ] && ! vip_on lb && vip_on ka; then
  pass "d_graceful_stop_hands_over (${took} ms; bound 61 ms + margin)"
else
  fail d_graceful_stop_hands_over "took '${took}' ms, exit $rc, vip lb=$(vip_on lb && echo y)" "$tmp/kadp.log"
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

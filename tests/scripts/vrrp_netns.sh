#!/usr/bin/env bash
# VRRP end to end: kadp (DPDK backend, af_packet on a veth, adverts through
# its exception TAP) and keepalived 2.2.7 as peers on one bridge, on the
# topology of tests/lib/vrrp_topology.sh:
#
#   client 198.18.0.1 --+
#   kadp   lan (DPDK) --+-- br0      kadp's port address 198.18.0.2
#   keepalived eth0 ----+            198.18.0.3
#
# Ownership is read from outside: keepalived's state from its log and from
# `ip addr` (the VIP on eth0), kadp's from its log ("(VI_1) Entering MASTER
# STATE") and, for both, from which MAC answers the client's ARP request for
# the VIP (kadp's port MAC or keepalived's eth0 MAC). Takeover times are
# measured from the kill to the new master's log line and checked only
# against the protocol's bound (3 x advert_int + skew, or the skew after a
# priority-0 advert) plus MARGIN seconds (default 1.5; VRRP_MARGIN) for a
# busy machine.
#
# Cases:
#   1. v2 PASS, advert_int 1, kadp 150 / keepalived 100: kadp MASTER (its
#      log says why on the line after "Entering MASTER STATE"),
#      keepalived BACKUP, the VIP's ARP answered by kadp alone; kadp SIGKILL:
#      keepalived MASTER within 3 s + skew, ARP answered by keepalived;
#      kadp restarted: it preempts (keepalived "Entering BACKUP STATE", VIP
#      gone from eth0); kadp SIGTERM: keepalived gets the priority-0 advert
#      and is MASTER within the skew; kadp released the VIP ("1 VIP(s)
#      released", a debug line: kadp runs with --log-level debug here) and
#      exited 0.
#   2. v2, keepalived 150 / kadp 100: kadp stays BACKUP while adverts come
#      (its exception path counts them) and does not answer ARP for the VIP;
#      keepalived SIGKILLed (parent and VRRP child): kadp MASTER within the
#      bound, ARP answered by kadp.
#   3. v3, advert_int 0.1: kadp 150 / keepalived 100, kadp SIGKILL ->
#      keepalived; kadp back at priority 50 stays BACKUP, keepalived
#      SIGKILL -> kadp; keepalived restarted preempts kadp; keepalived
#      SIGTERM -> kadp within the skew.
#   4. v3 unicast (unicast_src_ip / unicast_peer both sides): takeover both
#      ways; on kadp's bridge port no advert to 224.0.0.18, unicast adverts
#      from both.
#   5. v2 PASS with different passwords: both MASTER, kadp logs that it
#      drops keepalived's adverts ("received an invalid passwd!", keepalived's line), both answer ARP.
#   6a. v3: a vrrp_script on kadp (weight -60, exit code read from a file)
#      fails: kadp 150 -> 90, keepalived 100 preempts; it passes again: kadp
#      preempts back.
#   6b. v3: a vrrp_sync_group of two instances (two VRIDs, two VIPs) on kadp,
#      keepalived with the same two instances: a weight-0 script of one
#      member fails -> both kadp members FAULT (priority 0), keepalived takes
#      both VIPs; the script passes -> kadp takes both back.
#
# Needs root, keepalived, ethtool, ip, tcpdump (case 4), /usr/bin/python3,
# /dev/net/tun. Exit 0 pass, 77 skip, else fail; the last line is "COUNT
# passed failed skipped". Environment: KADP, KADPCTL, VRRP_MARGIN,
# VRRP_CASES (default "1 2 3 4 5 6a 6b": which cases run, in that order),
# VRRP_NETNS_KEEP=DIR (the configs, logs and capture are copied there).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
KADPCTL=${KADPCTL:-${KADP_BUILD:-build}/kadpctl}
MARGIN=${VRRP_MARGIN:-1.5}

skip_all() { echo "SKIP: $1"; echo "COUNT 0 0 1"; exit 77; }
[ "$(id -u)" = 0 ] || skip_all "needs root"
for tool in keepalived ethtool ip; do command -v $tool >/dev/null || skip_all "no $tool"; done
[ -x /usr/bin/python3 ] || skip_all "no /usr/bin/python3"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
[ -x "$KADP" ] || { echo "FAIL: no kadp binary at $KADP"; echo "COUNT 0 1 0"; exit 1; }
[ -x "$KADPCTL" ] || { echo "FAIL: no kadpctl binary at $KADPCTL"; echo "COUNT 0 1 0"; exit 1; }
export KADPCTL

. tests/lib/vrrp_topology.sh
VT_KADP=$KADP
VT_KADP_OPTS="--log-level debug"  # case 1 reads a debug line (docs/logging.md)
on_exit() {
  if [ -n "${VRRP_NETNS_KEEP:-}" ] && [ -n "$VT_DIR" ]; then
    mkdir -p "$VRRP_NETNS_KEEP" && cp -a "$VT_DIR"/. "$VRRP_NETNS_KEEP"/
  fi
  vrrp_topo_cleanup
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

. tests/lib/check_report.sh

if ! vrrp_topo_setup "kadp-vrrp-$$"; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
KADP_MAC=$(vrrp_topo_mac "$VT_NS_LB" lan)
KA_MAC=$(vrrp_topo_mac "$VT_NS_KA" eth0)

# --- helpers -----------------------------------------------------------------------------
now_us() { echo "${EPOCHREALTIME/./}"; }
# secs_since T0_US: seconds since T0 with two decimals.
secs_since() { local d=$(($(now_us) - $1)); printf '%d.%02d' $((d / 1000000)) $((d % 1000000 / 10000)); }
# within TOOK BOUND: TOOK <= BOUND + MARGIN.
within() { awk -v t="$1" -v b="$2" -v m="$MARGIN" 'BEGIN { exit !(t <= b + m) }'; }
# down_bound VERSION INTERVAL PRIORITY: the master-down interval of a backup
# of that priority (keepalived's skew: v2 (256-p)/256 s, v3 (256-p)*int/256).
down_bound() {
  awk -v v="$1" -v i="$2" -v p="$3" 'BEGIN { s = (v == 2) ? (256 - p) / 256 : (256 - p) * i / 256; printf "%.2f", 3 * i + s }'
}
skew() {
  awk -v v="$1" -v i="$2" -v p="$3" 'BEGIN { s = (v == 2) ? (256 - p) / 256 : (256 - p) * i / 256; printf "%.2f", s }'
}
# state LOG INSTANCE: the state the log last shows the instance entering.
state() { grep -oE "\($2\) Entering [A-Z]+ STATE" "$1" 2>/dev/null | tail -1 | cut -d' ' -f3; }
# wait_state LOG INSTANCE STATE SECONDS
wait_state() {
  local end=$(($(now_us) + ${4%.*} * 1000000))
  while [ "$(state "$1" "$2")" != "$3" ]; do
    [ "$(now_us)" -lt "$end" ] || return 1
    sleep 0.02
  done
}
# wait_arp VIP WANT SECONDS: until the client's ARP request for VIP is
# answered by exactly the MACs WANT ("" for none); ARP_SEEN holds the last answer.
ARP_SEEN=
wait_arp() {
  local end=$(($(now_us) + $3 * 1000000))
  while :; do
    ARP_SEEN=$(vrrp_topo_arp "$1")
    [ "$ARP_SEEN" = "$2" ] && return 0
    [ "$(now_us)" -lt "$end" ] || return 1
  done
}

# crash_takeover CASE LOG WHO MAC BOUND T0 WAIT [VIP_ON_KA]: after a SIGKILL
# at T0, LOG's VI_1 must be MASTER (waiting up to WAIT s) within BOUND (+
# MARGIN), and MAC alone must answer ARP for $vip (with VIP_ON_KA, the VIP
# must be on keepalived's eth0 too). WHO names the new master in messages.
# Returns 1 when it never became MASTER. Uses the caller's vip and logs.
crash_takeover() {
  local c=$1 log=$2 who=$3 mac=$4 b=$5 t0=$6 wait=$7 vip_on_ka=${8:-} took
  if ! wait_state "$log" VI_1 MASTER "$wait"; then
    fail "$c" "$who not MASTER" "${logs[@]}"
    return 1
  fi
  took=$(secs_since "$t0")
  if ! within "$took" "$b"; then
    fail "$c" "$who MASTER after $took s (bound $b s + $MARGIN)" "${logs[@]}"
  elif [ -n "$vip_on_ka" ] && ! wait_ka_vip "$vip" present 2; then
    fail "$c" "$who MASTER but $vip not on its eth0" "${logs[@]}"
  elif ! wait_arp "$vip" "$mac" 2; then
    fail "$c" "ARP for $vip answered by '$(macs "$ARP_SEEN")', not $who alone" "${logs[@]}"
  else
    pass "$c: SIGKILL of the master -> $who MASTER in $took s (bound $b s + $MARGIN), ARP answered by $who"
  fi
}
# ka_vip_gone VIP SECONDS: until keepalived's eth0 no longer holds VIP.
wait_ka_vip() {
  local want=$2 end=$(($(now_us) + $3 * 1000000))
  while :; do
    if vrrp_topo_ka_has "$1"; then [ "$want" = present ] && return 0; else [ "$want" = absent ] && return 0; fi
    [ "$(now_us)" -lt "$end" ] || return 1
    sleep 0.05
  done
}
macs() { echo "$1" | sed "s/$KADP_MAC/kadp/; s/$KA_MAC/keepalived/"; }
# counter NAME: a data-plane counter of the running kadp (kadpctl status).
counter() { vrrp_topo_kadpctl status 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }' | grep . || echo 0; }

# instance NAME IFACE VRID PRIORITY ADVERT_INT VIP [MORE_LINES]: a vrrp_instance.
instance() {
  printf 'vrrp_instance %s {\n    state BACKUP\n    interface %s\n    virtual_router_id %s\n    priority %s\n    advert_int %s\n' "$1" "$2" "$3" "$4" "$5"
  [ -n "${7:-}" ] && printf '%s\n' "$7"
  printf '    virtual_ipaddress {\n        %s\n    }\n}\n' "$6"
}
pass_auth() { printf '    authentication {\n        auth_type PASS\n        auth_pass %s\n    }' "$1"; }
# kadp_conf FILE INSTANCE_ARGS...: kadp's config (dataplane block + instance).
kadp_conf() { local f=$1; shift; { vrrp_topo_dataplane; instance "$@"; } >"$f"; }
ka_conf() { local f=$1; shift; instance "$@" >"$f"; }

# start_both DIR KADP_LOG: kadp first (its timers run from its start), then keepalived.
start_kadp() {
  vrrp_topo_kadp_start "$1" "$2" && return 0
  fail "$3" "kadp did not start" "$2"
  return 1
}
start_ka() {
  vrrp_topo_ka_start "$1" "$2" && return 0
  fail "$3" "keepalived did not start" "$2"
  return 1
}
# end_case: whatever of this case still runs stops (by PID).
end_case() {
  [ -n "$VT_KADP_PID" ] && vrrp_topo_kadp_kill
  [ -n "$VT_KA_PID" ] && vrrp_topo_ka_kill
  return 0
}

# =========================================================================================
# 1. v2 PASS multicast, kadp 150 vs keepalived 100
# =========================================================================================
case1() {
  local d=$VT_DIR/c1 vip=198.18.0.101 t0 took b n
  mkdir -p "$d"
  kadp_conf "$d/kadp.conf" VI_1 lan 51 150 1 "$vip" "$(pass_auth kadp51)"
  ka_conf "$d/ka.conf" VI_1 eth0 51 100 1 "$vip" "$(pass_auth kadp51)"
  start_kadp "$d/kadp.conf" "$d/kadp1.log" 1_kadp_master || return
  start_ka "$d/ka.conf" "$d/ka.log" 1_kadp_master || return
  local logs=("$d/kadp1.log" "$d/ka.log")
  if ! wait_state "$d/kadp1.log" VI_1 MASTER 10; then
    fail 1_kadp_master "kadp not MASTER 10 s after start" "${logs[@]}"
    return
  fi
  sleep 0.3
  if [ "$(state "$d/ka.log" VI_1)" != BACKUP ] || vrrp_topo_ka_has "$vip"; then
    fail 1_kadp_master "keepalived is '$(state "$d/ka.log" VI_1)' / holds the VIP" "${logs[@]}"
    return
  fi
  if ! wait_arp "$vip" "$KADP_MAC" 2; then
    fail 1_kadp_master "ARP for $vip answered by '$(macs "$ARP_SEEN")', not kadp alone" "${logs[@]}"
    return
  fi
  # The transition's reason follows keepalived's line (docs/logging.md).
  if ! grep -A1 "^kadp: (VI_1) Entering MASTER STATE$" "$d/kadp1.log" | grep -q "^kadp: (VI_1) reason: master down timer expired"; then
    fail 1_kadp_master "no '(VI_1) reason: master down timer expired ...' after kadp's 'Entering MASTER STATE'" "${logs[@]}"
    return
  fi
  pass "1_kadp_master: kadp MASTER (reason logged), keepalived BACKUP, ARP for $vip answered by kadp ($KADP_MAC) alone"

  # SIGKILL: no priority 0; keepalived waits out its master-down interval.
  b=$(down_bound 2 1 100)
  t0=$(now_us)
  vrrp_topo_kadp_kill
  crash_takeover 1_crash_takeover "$d/ka.log" keepalived "$KA_MAC" "$b" "$t0" $((${b%.*} + 10)) vip_on_ka || return

  # kadp restarted at 150 preempts.
  n=$(grep -c "(VI_1) Entering BACKUP STATE$" "$d/ka.log")
  t0=$(now_us)
  start_kadp "$d/kadp.conf" "$d/kadp2.log" 1_preempt || return
  logs=("$d/kadp2.log" "$d/ka.log")
  if ! wait_state "$d/kadp2.log" VI_1 MASTER 10; then
    fail 1_preempt "restarted kadp not MASTER" "${logs[@]}"
    return
  fi
  if ! wait_state "$d/ka.log" VI_1 BACKUP 3 || [ "$(grep -c "(VI_1) Entering BACKUP STATE$" "$d/ka.log")" -le "$n" ]; then
    fail 1_preempt "keepalived did not log 'Entering BACKUP STATE'" "${logs[@]}"
  elif ! wait_ka_vip "$vip" absent 2; then
    fail 1_preempt "$vip still on keepalived's eth0" "${logs[@]}"
  elif ! wait_arp "$vip" "$KADP_MAC" 2; then
    fail 1_preempt "ARP for $vip answered by '$(macs "$ARP_SEEN")', not kadp alone" "${logs[@]}"
  elif ! grep -q "(VI_1) received lower priority (100) advert from $VT_KA_ADDR - discarding" "$d/kadp2.log"; then
    fail 1_preempt "kadp did not discard keepalived's lower-priority adverts" "${logs[@]}"
  else
    pass "1_preempt: restarted kadp discards keepalived's priority-100 adverts and preempts ($(secs_since "$t0") s after start); keepalived BACKUP, VIP removed there, ARP answered by kadp"
  fi

  # SIGTERM: priority 0, keepalived takes over after its skew.
  b=$(skew 2 1 100)
  n=$(grep -c "(VI_1) Backup received priority 0 advertisement" "$d/ka.log")
  t0=$(now_us)
  kill -TERM "$VT_KADP_PID"
  if wait_state "$d/ka.log" VI_1 MASTER 10; then
    took=$(secs_since "$t0")
    vrrp_topo_kadp_wait_exit 10
    local rc=$?
    if [ "$(grep -c "(VI_1) Backup received priority 0 advertisement" "$d/ka.log")" -le "$n" ]; then
      fail 1_graceful_stop "keepalived got no priority-0 advert" "${logs[@]}"
    elif ! within "$took" "$b"; then
      fail 1_graceful_stop "keepalived MASTER after $took s (bound: skew $b s + $MARGIN)" "${logs[@]}"
    elif [ "$rc" != 0 ]; then
      fail 1_graceful_stop "kadp exited with $rc" "${logs[@]}"
    elif ! sed -n '/^kadp: stopping (SIGTERM)$/,$p' "$d/kadp2.log" | grep -q "1 VIP(s) released" ||
         ! grep -qx "kadp: stopped" "$d/kadp2.log" || [ "$(state "$d/kadp2.log" VI_1)" != MASTER ]; then
      fail 1_graceful_stop "kadp's log does not show a MASTER releasing its VIP and stopping" "${logs[@]}"
    elif ! wait_arp "$vip" "$KA_MAC" 2; then
      fail 1_graceful_stop "ARP for $vip answered by '$(macs "$ARP_SEEN")', not keepalived alone" "${logs[@]}"
    else
      pass "1_graceful_stop: kadp SIGTERM -> priority 0 -> keepalived MASTER in $took s (skew $b s + $MARGIN); kadp released the VIP, exit 0"
    fi
  else
    fail 1_graceful_stop "keepalived not MASTER 10 s after kadp's SIGTERM" "${logs[@]}"
  fi
  vrrp_topo_ka_stop || fail 1_keepalived_stop "keepalived exited with $?" "$d/ka.log"
}

# =========================================================================================
# 2. v2, keepalived 150 master, kadp 100 backup
# =========================================================================================
case2() {
  local d=$VT_DIR/c2 vip=198.18.0.102 t0 took b c0 c1 seen
  mkdir -p "$d"
  kadp_conf "$d/kadp.conf" VI_1 lan 52 100 1 "$vip" "$(pass_auth kadp52)"
  ka_conf "$d/ka.conf" VI_1 eth0 52 150 1 "$vip" "$(pass_auth kadp52)"
  # keepalived first: its master-down interval (3.41 s) runs out before kadp's.
  start_ka "$d/ka.conf" "$d/ka.log" 2_kadp_backup || return
  start_kadp "$d/kadp.conf" "$d/kadp.log" 2_kadp_backup || return
  local logs=("$d/kadp.log" "$d/ka.log")
  if ! wait_state "$d/ka.log" VI_1 MASTER 10; then
    fail 2_kadp_backup "keepalived not MASTER 10 s after start" "${logs[@]}"
    return
  fi
  # Three adverts' time as backup.
  c0=$(counter exception_vrrp_to_kernel)
  seen=
  for _ in 1 2 3; do
    sleep 0.4
    seen="${seen:+$seen }$(vrrp_topo_arp "$vip")"
  done
  sleep 0.9
  c1=$(counter exception_vrrp_to_kernel)
  if [ "$(state "$d/kadp.log" VI_1)" != BACKUP ] || grep -q "(VI_1) Entering MASTER STATE" "$d/kadp.log"; then
    fail 2_kadp_backup "kadp left BACKUP" "${logs[@]}"
  elif [ $((c1 - c0)) -lt 2 ]; then
    fail 2_kadp_backup "kadp's exception path passed $((c1 - c0)) adverts in 3 s" "${logs[@]}"
  elif [ "$seen" != "$KA_MAC $KA_MAC $KA_MAC" ]; then
    fail 2_kadp_backup "ARP for $vip answered by '$(macs "$seen")' (3 requests), not keepalived alone" "${logs[@]}"
  elif ! wait_ka_vip "$vip" present 2; then
    fail 2_kadp_backup "$vip not on keepalived's eth0" "${logs[@]}"
  else
    pass "2_kadp_backup: keepalived 150 MASTER; kadp 100 BACKUP over $((c1 - c0)) adverts, never answers ARP for $vip"
  fi

  b=$(down_bound 2 1 100)
  t0=$(now_us)
  vrrp_topo_ka_kill
  crash_takeover 2_crash_takeover "$d/kadp.log" kadp "$KADP_MAC" "$b" "$t0" $((${b%.*} + 10))
  vrrp_topo_kadp_stop || fail 2_kadp_stop "kadp exited with $?" "$d/kadp.log"
}

# =========================================================================================
# 3. VRRPv3, advert_int 0.1, takeovers both ways
# =========================================================================================
case3() {
  local d=$VT_DIR/c3 vip=198.18.0.103 t0 took b n seen
  mkdir -p "$d"
  kadp_conf "$d/kadp150.conf" VI_1 lan 53 150 0.1 "$vip" "    version 3"
  kadp_conf "$d/kadp50.conf" VI_1 lan 53 50 0.1 "$vip" "    version 3"
  ka_conf "$d/ka.conf" VI_1 eth0 53 100 0.1 "$vip" "    version 3"
  start_kadp "$d/kadp150.conf" "$d/kadp1.log" 3_v3_kadp_master || return
  start_ka "$d/ka.conf" "$d/ka.log" 3_v3_kadp_master || return
  local logs=("$d/kadp1.log" "$d/ka.log")
  if ! wait_state "$d/kadp1.log" VI_1 MASTER 10; then
    fail 3_v3_kadp_master "kadp not MASTER" "${logs[@]}"
    return
  fi
  sleep 0.5
  if [ "$(state "$d/ka.log" VI_1)" != BACKUP ] || vrrp_topo_ka_has "$vip" || ! wait_arp "$vip" "$KADP_MAC" 2; then
    fail 3_v3_kadp_master "keepalived '$(state "$d/ka.log" VI_1)', ARP answered by '$(macs "$ARP_SEEN")'" "${logs[@]}"
    return
  fi
  pass "3_v3_kadp_master: kadp MASTER, keepalived BACKUP, ARP answered by kadp"

  b=$(down_bound 3 0.1 100)
  t0=$(now_us)
  vrrp_topo_kadp_kill
  crash_takeover 3_v3_crash_to_keepalived "$d/ka.log" keepalived "$KA_MAC" "$b" "$t0" 10 || return

  # kadp back at priority 50: a backup of keepalived's 100.
  start_kadp "$d/kadp50.conf" "$d/kadp2.log" 3_v3_kadp_backup || return
  logs=("$d/kadp2.log" "$d/ka.log")
  seen=
  for _ in 1 2; do
    sleep 0.5
    seen="${seen:+$seen }$(vrrp_topo_arp "$vip")"
  done
  if [ "$(state "$d/kadp2.log" VI_1)" != BACKUP ] || grep -q "Entering MASTER STATE" "$d/kadp2.log" ||
     [ "$(state "$d/ka.log" VI_1)" != MASTER ] || [ "$seen" != "$KA_MAC $KA_MAC" ]; then
    fail 3_v3_kadp_backup "kadp '$(state "$d/kadp2.log" VI_1)', keepalived '$(state "$d/ka.log" VI_1)', ARP '$(macs "$seen")'" "${logs[@]}"
    return
  fi
  pass "3_v3_kadp_backup: kadp 50 stays BACKUP over about 20 adverts, ARP answered by keepalived"

  b=$(down_bound 3 0.1 50)
  t0=$(now_us)
  vrrp_topo_ka_kill
  crash_takeover 3_v3_crash_to_kadp "$d/kadp2.log" kadp "$KADP_MAC" "$b" "$t0" 10 || return

  # keepalived restarted at 100 preempts kadp's 50.
  n=$(grep -c "(VI_1) Entering BACKUP STATE$" "$d/kadp2.log")
  start_ka "$d/ka.conf" "$d/ka2.log" 3_v3_keepalived_preempts || return
  logs=("$d/kadp2.log" "$d/ka2.log")
  if wait_state "$d/ka2.log" VI_1 MASTER 10 && wait_state "$d/kadp2.log" VI_1 BACKUP 3 &&
     [ "$(grep -c "(VI_1) Entering BACKUP STATE$" "$d/kadp2.log")" -gt "$n" ] && wait_arp "$vip" "$KA_MAC" 2; then
    pass "3_v3_keepalived_preempts: restarted keepalived 100 preempts kadp 50 (kadp 'Entering BACKUP STATE'), ARP answered by keepalived"
  else
    fail 3_v3_keepalived_preempts "keepalived '$(state "$d/ka2.log" VI_1)', kadp '$(state "$d/kadp2.log" VI_1)', ARP '$(macs "$ARP_SEEN")'" "${logs[@]}"
    return
  fi

  b=$(skew 3 0.1 50)
  t0=$(now_us)
  kill -TERM "$VT_KA_PID"
  if wait_state "$d/kadp2.log" VI_1 MASTER 10; then
    took=$(secs_since "$t0")
    vrrp_topo_ka_wait_exit 10
    local rc=$?
    if ! within "$took" "$b"; then
      fail 3_v3_graceful_to_kadp "kadp MASTER after $took s (skew $b s + $MARGIN)" "${logs[@]}"
    elif [ "$rc" != 0 ]; then
      fail 3_v3_graceful_to_kadp "keepalived exited with $rc" "${logs[@]}"
    elif ! wait_arp "$vip" "$KADP_MAC" 2; then
      fail 3_v3_graceful_to_kadp "ARP answered by '$(macs "$ARP_SEEN")', not kadp alone" "${logs[@]}"
    else
      pass "3_v3_graceful_to_kadp: keepalived SIGTERM -> priority 0 -> kadp MASTER in $took s (skew $b s + $MARGIN)"
    fi
  else
    fail 3_v3_graceful_to_kadp "kadp not MASTER after keepalived's SIGTERM" "${logs[@]}"
  fi
  vrrp_topo_kadp_stop || fail 3_kadp_stop "kadp exited with $?" "$d/kadp2.log"
}

# =========================================================================================
# 4. VRRPv3 unicast
# =========================================================================================
case4() {
  local d=$VT_DIR/c4 vip=198.18.0.104 t0 took b tcpdump_pid mc k2a a2k
  if ! command -v tcpdump >/dev/null; then
    skip 4_v3_unicast "no tcpdump"
    return
  fi
  mkdir -p "$d"
  kadp_conf "$d/kadp.conf" VI_1 lan 54 150 0.1 "$vip" "    version 3
    unicast_src_ip $VT_KADP_ADDR
    unicast_peer {
        $VT_KA_ADDR
    }"
  ka_conf "$d/ka.conf" VI_1 eth0 54 100 0.1 "$vip" "    version 3
    unicast_src_ip $VT_KA_ADDR
    unicast_peer {
        $VT_KADP_ADDR
    }"
  # kadp's bridge port sees all that kadp sends and all that is flooded or sent to it.
  ip netns exec "$VT_NS_BR" tcpdump -n -U -i pk -w "$d/pk.pcap" 'ip proto 112' >"$d/tcpdump.log" 2>&1 &
  tcpdump_pid=$!
  VT_PIDS+=("$tcpdump_pid")
  for _ in $(seq 50); do grep -qs "listening on" "$d/tcpdump.log" && break; sleep 0.1; done
  start_kadp "$d/kadp.conf" "$d/kadp1.log" 4_v3_unicast || return
  start_ka "$d/ka.conf" "$d/ka.log" 4_v3_unicast || return
  local logs=("$d/kadp1.log" "$d/ka.log")
  if ! wait_state "$d/kadp1.log" VI_1 MASTER 10; then
    fail 4_v3_unicast "kadp not MASTER" "${logs[@]}"
    return
  fi
  sleep 0.5
  if [ "$(state "$d/ka.log" VI_1)" != BACKUP ] || ! wait_arp "$vip" "$KADP_MAC" 2; then
    fail 4_v3_unicast "keepalived '$(state "$d/ka.log" VI_1)', ARP answered by '$(macs "$ARP_SEEN")'" "${logs[@]}"
    return
  fi
  b=$(down_bound 3 0.1 100)
  t0=$(now_us)
  vrrp_topo_kadp_kill
  if ! wait_state "$d/ka.log" VI_1 MASTER 10; then
    fail 4_v3_unicast "keepalived not MASTER after kadp's SIGKILL" "${logs[@]}"
    return
  fi
  took=$(secs_since "$t0")
  if ! within "$took" "$b" || ! wait_arp "$vip" "$KA_MAC" 2; then
    fail 4_v3_unicast "keepalived MASTER after $took s (bound $b s + $MARGIN), ARP '$(macs "$ARP_SEEN")'" "${logs[@]}"
    return
  fi
  # Back at 150, kadp hears keepalived's unicast adverts and preempts.
  start_kadp "$d/kadp.conf" "$d/kadp2.log" 4_v3_unicast || return
  logs=("$d/kadp2.log" "$d/ka.log")
  if ! wait_state "$d/kadp2.log" VI_1 MASTER 10 || ! wait_state "$d/ka.log" VI_1 BACKUP 3 ||
     ! wait_arp "$vip" "$KADP_MAC" 2; then
    fail 4_v3_unicast "after kadp's restart: kadp '$(state "$d/kadp2.log" VI_1)', keepalived '$(state "$d/ka.log" VI_1)', ARP '$(macs "$ARP_SEEN")'" "${logs[@]}"
    return
  fi
  if ! grep -q "(VI_1) received lower priority (100) advert from $VT_KA_ADDR - discarding" "$d/kadp2.log"; then
    fail 4_v3_unicast "kadp did not hear keepalived's unicast adverts" "${logs[@]}"
    return
  fi
  vrrp_topo_kadp_stop || fail 4_kadp_stop "kadp exited with $?" "$d/kadp2.log"
  sleep 0.3
  kill -TERM "$tcpdump_pid" 2>/dev/null
  wait "$tcpdump_pid" 2>/dev/null
  mc=$(tcpdump -n -r "$d/pk.pcap" 'dst host 224.0.0.18' 2>/dev/null | wc -l)
  k2a=$(tcpdump -n -r "$d/pk.pcap" "src host $VT_KADP_ADDR and dst host $VT_KA_ADDR" 2>/dev/null | wc -l)
  a2k=$(tcpdump -n -r "$d/pk.pcap" "src host $VT_KA_ADDR and dst host $VT_KADP_ADDR" 2>/dev/null | wc -l)
  if [ "$mc" = 0 ] && [ "$k2a" -gt 0 ] && [ "$a2k" -gt 0 ]; then
    pass "4_v3_unicast: keepalived MASTER $took s after kadp's SIGKILL (bound $b s + $MARGIN), restarted kadp preempts; on the bridge: 0 multicast adverts, $k2a kadp->keepalived, $a2k keepalived->kadp"
  else
    fail 4_v3_unicast "adverts on the bridge: $mc to 224.0.0.18, $k2a kadp->keepalived, $a2k keepalived->kadp" "${logs[@]}"
  fi
}

# =========================================================================================
# 5. Auth mismatch: v2 PASS, different passwords
# =========================================================================================
case5() {
  local d=$VT_DIR/c5 vip=198.18.0.105 both
  mkdir -p "$d"
  kadp_conf "$d/kadp.conf" VI_1 lan 55 150 1 "$vip" "$(pass_auth kadpAAA)"
  ka_conf "$d/ka.conf" VI_1 eth0 55 100 1 "$vip" "$(pass_auth kadpBBB)"
  start_kadp "$d/kadp.conf" "$d/kadp.log" 5_auth_mismatch || return
  start_ka "$d/ka.conf" "$d/ka.log" 5_auth_mismatch || return
  local logs=("$d/kadp.log" "$d/ka.log")
  if wait_state "$d/kadp.log" VI_1 MASTER 10 && wait_state "$d/ka.log" VI_1 MASTER 10; then
    both=$(printf '%s\n' "$KADP_MAC" "$KA_MAC" | sort | tr '\n' ' ')
    wait_arp "$vip" "${both% }" 2
    if ! grep -q "^kadp: (VI_1) received an invalid passwd!" "$d/kadp.log"; then
      fail 5_auth_mismatch "kadp did not log dropping keepalived's adverts" "${logs[@]}"
    elif [ "$(state "$d/kadp.log" VI_1)" != MASTER ] || [ "$(state "$d/ka.log" VI_1)" != MASTER ]; then
      fail 5_auth_mismatch "not both MASTER" "${logs[@]}"
    elif [ "$ARP_SEEN" != "${both% }" ]; then
      fail 5_auth_mismatch "ARP answered by '$(macs "$ARP_SEEN")', not both" "${logs[@]}"
    else
      pass "5_auth_mismatch: both MASTER (kadp drops keepalived's adverts: '$(grep -m1 "^kadp: (VI_1) received an invalid passwd!" "$d/kadp.log" | cut -c7-)'), both answer ARP"
    fi
  else
    fail 5_auth_mismatch "kadp '$(state "$d/kadp.log" VI_1)', keepalived '$(state "$d/ka.log" VI_1)'" "${logs[@]}"
  fi
  vrrp_topo_kadp_stop || fail 5_kadp_stop "kadp exited with $?" "$d/kadp.log"
  vrrp_topo_ka_stop || fail 5_keepalived_stop "keepalived exited with $?" "$d/ka.log"
}

# =========================================================================================
# 6a. A vrrp_script on kadp (weight -60) moves mastership to keepalived and back
# =========================================================================================
case6a() {
  local d=$VT_DIR/c6a vip=198.18.0.106 t0 took b n
  mkdir -p "$d"
  echo 0 >"$d/code"
  # shellcheck disable=SC2016 # $(cat) is the script's
  printf '#!/bin/sh\nexit "$(cat %s)"\n' "$d/code" >"$d/chk.sh"
  chmod 0755 "$d/chk.sh"
  {
    printf 'global_defs {\n    enable_script_security\n    script_user root\n}\n'
    vrrp_topo_dataplane
    printf 'vrrp_script chk {\n    script "%s"\n    interval 1\n    weight -60\n    rise 1\n    fall 1\n}\n' "$d/chk.sh"
    instance VI_1 lan 56 150 0.1 "$vip" "    version 3
    track_script {
        chk
    }"
  } >"$d/kadp.conf"
  ka_conf "$d/ka.conf" VI_1 eth0 56 100 0.1 "$vip" "    version 3"
  start_kadp "$d/kadp.conf" "$d/kadp.log" 6a_script_fails || return
  start_ka "$d/ka.conf" "$d/ka.log" 6a_script_fails || return
  local logs=("$d/kadp.log" "$d/ka.log")
  if ! wait_state "$d/kadp.log" VI_1 MASTER 10 || ! wait_state "$d/ka.log" VI_1 BACKUP 3 ||
     ! wait_arp "$vip" "$KADP_MAC" 2; then
    fail 6a_script_fails "at start: kadp '$(state "$d/kadp.log" VI_1)', keepalived '$(state "$d/ka.log" VI_1)', ARP '$(macs "$ARP_SEEN")'" "${logs[@]}"
    return
  fi
  # Failing, the script takes kadp to 90: keepalived's 100 preempts. The
  # script runs every second: the bound is that plus the master-down interval.
  b=$(awk -v b="$(down_bound 3 0.1 100)" 'BEGIN { printf "%.2f", 1 + b }')
  n=$(grep -c "(VI_1) Entering BACKUP STATE$" "$d/kadp.log")
  t0=$(now_us)
  echo 1 >"$d/code"
  if wait_state "$d/ka.log" VI_1 MASTER 10; then
    took=$(secs_since "$t0")
    if ! wait_state "$d/kadp.log" VI_1 BACKUP 3 || [ "$(grep -c "(VI_1) Entering BACKUP STATE$" "$d/kadp.log")" -le "$n" ]; then
      fail 6a_script_fails "kadp did not go BACKUP" "${logs[@]}"
    elif ! grep -q "^kadp: VRRP_Script(chk) failed (exited with status 1)$" "$d/kadp.log" ||
         ! grep -q "^kadp: (VI_1) Changing effective priority from 150 to 90$" "$d/kadp.log"; then
      fail 6a_script_fails "kadp's log lacks the script's failure / the priority change to 90" "${logs[@]}"
    elif ! within "$took" "$b"; then
      fail 6a_script_fails "keepalived MASTER $took s after the script's file changed (bound $b s + $MARGIN)" "${logs[@]}"
    elif ! wait_arp "$vip" "$KA_MAC" 2; then
      fail 6a_script_fails "ARP answered by '$(macs "$ARP_SEEN")', not keepalived alone" "${logs[@]}"
    else
      pass "6a_script_fails: kadp's vrrp_script fails -> priority 150 to 90 -> keepalived 100 preempts in $took s (bound: interval 1 + $(down_bound 3 0.1 100) s + $MARGIN), ARP answered by keepalived"
    fi
  else
    fail 6a_script_fails "keepalived not MASTER after kadp's script failed" "${logs[@]}"
    return
  fi
  # The script passes again: kadp back at 150 preempts.
  n=$(grep -c "(VI_1) Entering BACKUP STATE$" "$d/ka.log")
  b=$(awk -v b="$(down_bound 3 0.1 150)" 'BEGIN { printf "%.2f", 1 + b }')
  t0=$(now_us)
  echo 0 >"$d/code"
  if wait_state "$d/kadp.log" VI_1 MASTER 10; then
    took=$(secs_since "$t0")
    if ! wait_state "$d/ka.log" VI_1 BACKUP 3 || [ "$(grep -c "(VI_1) Entering BACKUP STATE$" "$d/ka.log")" -le "$n" ]; then
      fail 6a_script_recovers "keepalived did not go BACKUP" "${logs[@]}"
    elif ! grep -q "^kadp: (VI_1) Changing effective priority from 90 to 150$" "$d/kadp.log"; then
      fail 6a_script_recovers "kadp's log lacks the priority change back to 150" "${logs[@]}"
    elif ! within "$took" "$b"; then
      fail 6a_script_recovers "kadp MASTER $took s after the script's file changed (bound $b s + $MARGIN)" "${logs[@]}"
    elif ! wait_arp "$vip" "$KADP_MAC" 2; then
      fail 6a_script_recovers "ARP answered by '$(macs "$ARP_SEEN")', not kadp alone" "${logs[@]}"
    else
      pass "6a_script_recovers: script passes again -> kadp 150 preempts in $took s, keepalived BACKUP, ARP answered by kadp"
    fi
  else
    fail 6a_script_recovers "kadp not MASTER after its script passed again" "${logs[@]}"
  fi
  vrrp_topo_kadp_stop || fail 6a_kadp_stop "kadp exited with $?" "$d/kadp.log"
}

# =========================================================================================
# 6b. A vrrp_sync_group on kadp: one member's FAULT moves both VIPs to keepalived
# =========================================================================================
case6b() {
  local d=$VT_DIR/c6b vipa=198.18.0.107 vipb=198.18.0.108 t0 took b i ok
  mkdir -p "$d"
  echo 0 >"$d/code"
  # shellcheck disable=SC2016 # $(cat) is the script's
  printf '#!/bin/sh\nexit "$(cat %s)"\n' "$d/code" >"$d/chk.sh"
  chmod 0755 "$d/chk.sh"
  {
    printf 'global_defs {\n    enable_script_security\n    script_user root\n}\n'
    vrrp_topo_dataplane
    printf 'vrrp_script chk_b {\n    script "%s"\n    interval 1\n    weight 0\n    rise 1\n    fall 1\n}\n' "$d/chk.sh"
    printf 'vrrp_sync_group G1 {\n    group {\n        VI_A\n        VI_B\n    }\n}\n'
    instance VI_A lan 57 150 0.1 "$vipa" "    version 3"
    instance VI_B lan 58 150 0.1 "$vipb" "    version 3
    track_script {
        chk_b
    }"
  } >"$d/kadp.conf"
  { instance VI_A eth0 57 100 0.1 "$vipa" "    version 3"; instance VI_B eth0 58 100 0.1 "$vipb" "    version 3"; } >"$d/ka.conf"
  start_kadp "$d/kadp.conf" "$d/kadp.log" 6b_sync_group_fault || return
  start_ka "$d/ka.conf" "$d/ka.log" 6b_sync_group_fault || return
  local logs=("$d/kadp.log" "$d/ka.log")
  ok=1
  for i in VI_A VI_B; do
    wait_state "$d/kadp.log" $i MASTER 10 && wait_state "$d/ka.log" $i BACKUP 3 || ok=
  done
  if [ -z "$ok" ] || ! wait_arp "$vipa" "$KADP_MAC" 2 || ! wait_arp "$vipb" "$KADP_MAC" 2; then
    fail 6b_sync_group_fault "at start: kadp VI_A '$(state "$d/kadp.log" VI_A)' VI_B '$(state "$d/kadp.log" VI_B)', keepalived VI_A '$(state "$d/ka.log" VI_A)' VI_B '$(state "$d/ka.log" VI_B)', ARP '$(macs "$ARP_SEEN")'" "${logs[@]}"
    return
  fi
  # keepalived keeps a member whose weight-0 script has not reported yet in
  # INIT without a word; so does kadp: no FAULT (nor notify_fault) at start.
  if grep -q "FAULT" "$d/kadp.log"; then
    fail 6b_no_fault_before_the_first_script_result "$(grep FAULT "$d/kadp.log" | head -3 | tr '\n' '|')" "$d/kadp.log"
  else
    pass 6b_no_fault_before_the_first_script_result
  fi
  # VI_B's script fails: VI_B FAULT, the group follows, both masters send
  # priority 0; keepalived takes both within the script's interval and its skew.
  b=$(awk -v b="$(skew 3 0.1 100)" 'BEGIN { printf "%.2f", 1 + b }')
  t0=$(now_us)
  echo 1 >"$d/code"
  ok=1
  for i in VI_A VI_B; do wait_state "$d/ka.log" $i MASTER 10 || ok=; done
  took=$(secs_since "$t0")
  if [ -z "$ok" ]; then
    fail 6b_sync_group_fault "keepalived VI_A '$(state "$d/ka.log" VI_A)' VI_B '$(state "$d/ka.log" VI_B)'" "${logs[@]}"
    return
  elif [ "$(state "$d/kadp.log" VI_A)" != FAULT ] || [ "$(state "$d/kadp.log" VI_B)" != FAULT ] ||
       ! grep -q "^kadp: VRRP_Group(G1) Syncing instances to FAULT state$" "$d/kadp.log"; then
    fail 6b_sync_group_fault "kadp VI_A '$(state "$d/kadp.log" VI_A)' VI_B '$(state "$d/kadp.log" VI_B)', or no 'Syncing instances to FAULT state'" "${logs[@]}"
  elif ! within "$took" "$b"; then
    fail 6b_sync_group_fault "keepalived MASTER of both $took s after the script's file changed (bound $b s + $MARGIN)" "${logs[@]}"
  elif ! wait_ka_vip "$vipa" present 2 || ! wait_ka_vip "$vipb" present 2; then
    fail 6b_sync_group_fault "keepalived MASTER but its eth0 lacks $vipa or $vipb" "${logs[@]}"
  elif ! wait_arp "$vipa" "$KA_MAC" 2 || ! wait_arp "$vipb" "$KA_MAC" 2; then
    fail 6b_sync_group_fault "ARP answered by '$(macs "$ARP_SEEN")', not keepalived alone" "${logs[@]}"
  else
    pass "6b_sync_group_fault: VI_B's script fails -> kadp's group G1 FAULT (VI_A too) -> keepalived MASTER of both VIPs in $took s (bound: interval 1 + skew $(skew 3 0.1 100) s + $MARGIN), ARP answered by keepalived"
  fi
  # Back: both kadp members leave FAULT and preempt together.
  echo 0 >"$d/code"
  ok=1
  for i in VI_A VI_B; do
    wait_state "$d/kadp.log" $i MASTER 10 && wait_state "$d/ka.log" $i BACKUP 3 || ok=
  done
  if [ -n "$ok" ] && wait_arp "$vipa" "$KADP_MAC" 2 && wait_arp "$vipb" "$KADP_MAC" 2; then
    pass "6b_sync_group_recovers: script passes -> kadp MASTER of VI_A and VI_B again, keepalived BACKUP, ARP answered by kadp"
  else
    fail 6b_sync_group_recovers "kadp VI_A '$(state "$d/kadp.log" VI_A)' VI_B '$(state "$d/kadp.log" VI_B)', keepalived VI_A '$(state "$d/ka.log" VI_A)' VI_B '$(state "$d/ka.log" VI_B)', ARP '$(macs "$ARP_SEEN")'" "${logs[@]}"
  fi
  vrrp_topo_kadp_stop || fail 6b_kadp_stop "kadp exited with $?" "$d/kadp.log"
}

started=$(now_us)
for c in ${VRRP_CASES:-1 2 3 4 5 6a 6b}; do
  "case$c"
  end_case
done
echo "total $(secs_since "$started") s"
echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

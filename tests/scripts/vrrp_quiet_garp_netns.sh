#!/usr/bin/env bash
# A VRRP takeover on a quiet LAN sends its gratuitous ARPs
# (tests/lib/vrrp_topology.sh, keepalived not started): kadp, alone on the
# bridge with a client that sends nothing, becomes MASTER of VI_1
# (198.18.0.100); the client's packet socket hears at least 5 gratuitous
# ARPs for the VIP from kadp's MAC (keepalived's garp_master_repeat), and
# `kadpctl status` shows garp_sent >= 5 and no mbuf_alloc_fail.
#
# Regression test: the worker used to build its own packets (GARPs, ARP
# requests) from the pool of the first packet it had received; with nothing
# received yet the takeover's GARPs were counted as mbuf_alloc_fail and not
# sent (found by tests/scripts/soak_netns.sh).
#
# Needs root, ethtool, ip, /usr/bin/python3, /dev/net/tun. Exit 0 pass, 77
# skip, else fail; the last line is "COUNT passed failed skipped".
# Environment: KADP, KADPCTL.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
KADPCTL=${KADPCTL:-$(dirname "$KADP")/kadpctl}
export KADPCTL

passed=0 failed=0 skipped=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1: $2"; [ -n "${3:-}" ] && sed 's/^/    | /' "$3" | tail -25; failed=$((failed + 1)); }
skip_all() { echo "SKIP: $1"; echo "COUNT 0 0 1"; exit 77; }
[ "$(id -u)" = 0 ] || skip_all "needs root"
for tool in ethtool ip; do command -v $tool >/dev/null || skip_all "no $tool"; done
[ -x /usr/bin/python3 ] || skip_all "no /usr/bin/python3"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
[ -x "$KADP" ] || { echo "FAIL: no kadp binary at $KADP"; echo "COUNT 0 1 0"; exit 1; }
[ -x "$KADPCTL" ] || { echo "FAIL: no kadpctl binary at $KADPCTL"; echo "COUNT 0 1 0"; exit 1; }

. tests/lib/vrrp_topology.sh
trap vrrp_topo_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if ! vrrp_topo_setup "kqg-$$"; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
d=$VT_DIR
kadp_mac=$(vrrp_topo_mac "$VT_NS_LB" lan)

# The client listens from before kadp starts until $d/stop exists (at most
# 60 s): "sender_mac" per gratuitous ARP (sender IP = target IP = the VIP).
vrrp_topo_client "$VT_PY" - c0 198.18.0.100 "$d/stop" >"$d/garps" 2>&1 <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind((sys.argv[1], 0))
s.settimeout(0.1)
vip, end = socket.inet_aton(sys.argv[2]), time.monotonic() + 60
while time.monotonic() < end and not os.path.exists(sys.argv[3]):
    try:
        f = s.recv(2048)
    except socket.timeout:
        continue
    if len(f) >= 42 and f[12:14] == b"\x08\x06" and f[28:32] == vip and f[38:42] == vip:
        print(f[22:28].hex(":"), flush=True)
PY
listener=$!
VT_PIDS+=("$listener")
sleep 0.5

{
  vrrp_topo_dataplane
  cat <<CONF
vrrp_instance VI_1 {
    state BACKUP
    interface lan
    virtual_router_id 51
    priority 150
    version 3
    advert_int 0.5
    virtual_ipaddress {
        198.18.0.100/24
    }
}
CONF
} >"$d/kadp.conf"
if ! vrrp_topo_kadp_start "$d/kadp.conf" "$d/kadp.log"; then
  fail kadp_start "kadp did not start" "$d/kadp.log"
  echo "COUNT $passed $failed $skipped"; exit 1
fi
for _ in $(seq 100); do grep -q "(VI_1) Entering MASTER STATE" "$d/kadp.log" && break; sleep 0.1; done
# The takeover sends 5 at once (keepalived's garp_master_repeat).
for _ in $(seq 50); do [ "$(grep -c "^$kadp_mac$" "$d/garps")" -ge 5 ] && break; sleep 0.1; done
touch "$d/stop"
wait "$listener"
n=$(grep -c "^$kadp_mac$" "$d/garps")
st=$(vrrp_topo_kadpctl --json status)
read -r garps fails rx < <(echo "$st" | "$VT_PY" -c '
import json, sys
c = json.load(sys.stdin)["result"]["counters"]
print(c["garp_sent"], c["mbuf_alloc_fail"], c["rx_packets"])')
echo "INFO: the worker had received $rx packets at the takeover's end"
if grep -q "(VI_1) Entering MASTER STATE" "$d/kadp.log" && [ "$n" -ge 5 ] && [ "$garps" -ge 5 ] && [ "$fails" = 0 ]; then
  pass "garps_on_a_quiet_lan (the client heard $n from kadp; garp_sent $garps, mbuf_alloc_fail 0)"
else
  fail garps_on_a_quiet_lan "heard $n, garp_sent $garps, mbuf_alloc_fail $fails" "$d/kadp.log"
fi
vrrp_topo_kadp_stop && pass kadp_stops_cleanly || fail kadp_stops_cleanly "exit $?" "$d/kadp.log"

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

#!/usr/bin/env bash
# The control thread never blocks on a peer (ARCHITECTURE.md): kadp (DPDK
# backend) is VRRP MASTER (priority 255, advert_int 1) against a real
# keepalived 2.2.7 BACKUP while every one of its 115 health checkers waits
# on a peer that stays silent, all at once; VRRP adverts must still leave on
# time. Topology: tests/lib/vrrp_topology.sh plus two namespaces on its
# bridge:
#
#   kadp   lan (DPDK) 198.18.0.2 --+
#   keepalived eth0   198.18.0.3 --+-- br0
#   client c0         198.18.0.1 --+
#   hole   eth0       198.18.0.20 -+   a blackhole route back to 198.18.0.2:
#                                  |   SYNs and DNS queries arrive, nothing answers
#   mute   eth0       198.18.0.21 -+   accepts every connection and never sends a byte
#
# Checkers (connect_timeout 10, retry 0, warmup 2, delay_loop 60): TCP_CHECK
# x30, HTTP_GET x15, SSL_GET x10, SMTP_CHECK x10, DNS_CHECK x10 to the
# hole; HTTP_GET x10, SSL_GET x10 (handshake stalled), SMTP_CHECK x10
# (banner never sent) to the mute server; MISC_CHECK x10 whose script sleeps
# until misc_timeout 10 kills it.
#
# Cases:
#   a. all pending at once: one sample of the kadp namespace shows every
#      checker waiting together (65 SYN-SENT to the hole, 30 connections to
#      the mute server, 10 UDP sockets to the hole, 10 MISC_CHECK scripts).
#   b. `kadpctl status` answers (under `timeout 3`) while they wait, with
#      VI_1 MASTER, every time it is asked.
#   c. keepalived stays BACKUP for the 20 s after kadp became MASTER: its log
#      never says "Entering MASTER STATE" and its notify script only ever
#      heard BACKUP (it would take over 3 x advert_int + skew = 3.6 s after
#      the last advert).
#   d. adverts captured on keepalived's side: at least 18 in the 20 s and
#      the largest gap between two is printed and below 2.5 s (a sanity
#      bound: keepalived itself would take over at 3.6 s).
#   e. every checker ends failed: 115 "Removing service" lines, no checker
#      socket or script left in the kadp namespace.
#   f. a hostile advert (VRID 51, TTL 254, priority 254) from the client is
#      counted: `kadpctl status` shows "dropped adverts: bad_ttl 1" for
#      VI_1, `--json` "dropped":{"bad_ttl":1}, and kadp stays MASTER; an
#      advert for VRID 52 (nobody's) is counted service-wide only
#      ("vrrp dropped adverts in all: bad_ttl 1, vrid_mismatch 1",
#      `--json` "vrrp_dropped").
#   g. VI_1's auth_pass never appears in kadp's log or kadpctl's outputs.
#
# The kernel backend is not run: this host has no IPVS (TESTING.md).
# Needs root, keepalived, ethtool, ip, tcpdump, ss, /usr/bin/python3,
# /dev/net/tun. Exit 0 pass, 77 skip, else fail; the last line is "COUNT
# passed failed skipped". Environment: KADP, KADPCTL, QUIET_KEEP=DIR (logs
# and the capture are copied there).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
KADPCTL=${KADPCTL:-${KADP_BUILD:-build}/kadpctl}

skip_all() { echo "SKIP: $1"; echo "COUNT 0 0 1"; exit 77; }
[ "$(id -u)" = 0 ] || skip_all "needs root"
for tool in keepalived ethtool ip tcpdump ss timeout; do command -v $tool >/dev/null || skip_all "no $tool"; done
[ -x /usr/bin/python3 ] || skip_all "no /usr/bin/python3"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
[ -x "$KADP" ] || { echo "FAIL: no kadp binary at $KADP"; echo "COUNT 0 1 0"; exit 1; }
[ -x "$KADPCTL" ] || { echo "FAIL: no kadpctl binary at $KADPCTL"; echo "COUNT 0 1 0"; exit 1; }
export KADPCTL

. tests/lib/vrrp_topology.sh
VT_KADP=$KADP
NS_HOLE='' NS_MUTE=''
on_exit() {
  local p ns
  if [ -n "${QUIET_KEEP:-}" ] && [ -n "$VT_DIR" ]; then
    mkdir -p "$QUIET_KEEP" && cp -a "$VT_DIR"/. "$QUIET_KEEP"/
  fi
  vrrp_topo_cleanup  # also stops VT_PIDS (the mute server, tcpdump)
  for ns in "$NS_HOLE" "$NS_MUTE"; do
    [ -n "$ns" ] || continue
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

. tests/lib/check_report.sh
setup_fail() { echo "FAIL: setup: $1"; [ -n "${2:-}" ] && sed 's/^/    | /' "$2" | tail -20; echo "COUNT $passed $((failed + 1)) $skipped"; exit 1; }

PREFIX=kadp-quiet-$$
vrrp_topo_setup "$PREFIX" || setup_fail "topology"
d=$VT_DIR
NS_HOLE=$PREFIX-h NS_MUTE=$PREFIX-m
HOLE=198.18.0.20 MUTE=198.18.0.21 VIP=198.18.0.101 PASSWORD=Qu1et-Pw9
# extra_ns NS BRIDGE_PORT ADDR
extra_ns() {
  ip netns add "$1" || return 1
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip netns exec "$1" ip link set lo up
  ip link add eth0 netns "$1" type veth peer name "$2" netns "$VT_NS_BR" || return 1
  vrrp_topo_br ip link set "$2" master br0 && vrrp_topo_br ip link set "$2" up || return 1
  _vt_no_offload "$VT_NS_BR" "$2"
  ip netns exec "$1" ip addr add "$3/24" dev eth0 && ip netns exec "$1" ip link set eth0 up || return 1
  _vt_no_offload "$1" eth0
}
extra_ns "$NS_HOLE" ph "$HOLE" || setup_fail "hole namespace"
extra_ns "$NS_MUTE" pm "$MUTE" || setup_fail "mute namespace"
# The hole hears everything and can answer nothing: its replies to kadp
# (SYN-ACK, RST, DNS answer, ICMP port unreachable) have no route.
ip netns exec "$NS_HOLE" ip route add blackhole "$VT_KADP_ADDR/32" || setup_fail "blackhole route"

# The mute server: accepts on 20001-20030 and never sends (nor reads, nor closes).
cat >"$d/mute.py" <<'PY'
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in range(20001, 20031):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], port)); s.listen(64); sel.register(s, selectors.EVENT_READ)
print("listening", flush=True)
held = []
while True:
    for key, _ in sel.select():
        c, _ = key.fileobj.accept()
        held.append(c)
PY
ip netns exec "$NS_MUTE" /usr/bin/python3 "$d/mute.py" "$MUTE" >"$d/mute.log" 2>&1 &
VT_PIDS+=($!)
for _ in $(seq 50); do grep -qs listening "$d/mute.log" && break; sleep 0.1; done
grep -qs listening "$d/mute.log" || setup_fail "mute server" "$d/mute.log"

# MISC_CHECK: a script that waits far beyond misc_timeout.
printf '#!/bin/sh\nexec sleep 631\n' >"$d/hang.sh"
printf '#!/bin/sh\necho "$*" >>%s\n' "$d/ka_notify.log" >"$d/ka_notify.sh"
chmod 0755 "$d/hang.sh" "$d/ka_notify.sh"
: >"$d/ka_notify.log"

# --- configurations -----------------------------------------------------------------------
N_TCP=30 N_HTTP=15 N_SSL=10 N_SMTP=10 N_DNS=10 N_MHTTP=10 N_MSSL=10 N_MSMTP=10 N_MISC=10
TOTAL=$((N_TCP + N_HTTP + N_SSL + N_SMTP + N_DNS + N_MHTTP + N_MSSL + N_MSMTP + N_MISC))
# service VS_PORT PROTO ADDR FIRST_PORT COUNT CHECK_BLOCK
service() {
  local p=$1 proto=$2 addr=$3 first=$4 n=$5 block=$6 i
  printf 'virtual_server 198.18.0.100 %s {\n    delay_loop 60\n    warmup 2\n    lb_algo rr\n    lb_kind NAT\n    protocol %s\n' "$p" "$proto"
  for i in $(seq "$first" $((first + n - 1))); do
    printf '    real_server %s %s {\n        weight 1\n%s\n    }\n' "$addr" "$i" "$block"
  done
  printf '}\n'
}
timers='            connect_timeout 10
            retry 0'
http="        HTTP_GET {
            url {
                path /
            }
$timers
        }"
ssl=${http/HTTP_GET/SSL_GET}
{
  vrrp_topo_dataplane
  cat <<CONF
vrrp_instance VI_1 {
    state MASTER
    interface lan
    virtual_router_id 51
    priority 255
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass $PASSWORD
    }
    virtual_ipaddress {
        $VIP/24
    }
}
CONF
  service 1 TCP "$HOLE" 10001 $N_TCP "        TCP_CHECK {
$timers
        }"
  service 2 TCP "$HOLE" 11001 $N_HTTP "$http"
  service 3 TCP "$HOLE" 12001 $N_SSL "$ssl"
  service 4 TCP "$HOLE" 13001 $N_SMTP "        SMTP_CHECK {
$timers
        }"
  service 5 UDP "$HOLE" 14001 $N_DNS "        DNS_CHECK {
            type A
            name quiet.test
$timers
        }"
  service 6 TCP "$MUTE" 20001 $N_MHTTP "$http"
  service 7 TCP "$MUTE" 20011 $N_MSSL "$ssl"
  service 8 TCP "$MUTE" 20021 $N_MSMTP "        SMTP_CHECK {
$timers
        }"
  service 9 TCP 198.18.0.22 15001 $N_MISC "        MISC_CHECK {
            misc_path \"$d/hang.sh\"
            misc_timeout 10
$timers
        }"
} >"$d/kadp.conf"
cat >"$d/ka.conf" <<CONF
global_defs {
    script_user root
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass $PASSWORD
    }
    virtual_ipaddress {
        $VIP/24
    }
    notify $d/ka_notify.sh
}
CONF

# --- run ----------------------------------------------------------------------------------
now_us() { echo "${EPOCHREALTIME/./}"; }
state() { grep -oE "\($2\) Entering [A-Z]+ STATE" "$1" 2>/dev/null | tail -1 | cut -d' ' -f3; }
logs=("$d/kadp.log" "$d/ka.log")

# keepalived first: BACKUP, listening, before kadp sends its first advert.
vrrp_topo_ka_start "$d/ka.conf" "$d/ka.log" || setup_fail "keepalived did not start" "$d/ka.log"
for _ in $(seq 50); do [ "$(state "$d/ka.log" VI_1)" = BACKUP ] && break; sleep 0.1; done
[ "$(state "$d/ka.log" VI_1)" = BACKUP ] || setup_fail "keepalived not BACKUP" "$d/ka.log"
# The capture, on keepalived's side: every advert that reaches it.
ip netns exec "$VT_NS_KA" tcpdump -i eth0 -nn -tt -l -U -w "$d/adverts.pcap" "ip proto 112 and src $VT_KADP_ADDR" \
  >"$d/tcpdump.log" 2>&1 &
TCPDUMP_PID=$!
VT_PIDS+=("$TCPDUMP_PID")
for _ in $(seq 50); do grep -qs "listening on" "$d/tcpdump.log" && break; sleep 0.1; done

vrrp_topo_kadp_start "$d/kadp.conf" "$d/kadp.log" || setup_fail "kadp did not start" "$d/kadp.log"
for _ in $(seq 50); do [ "$(state "$d/kadp.log" VI_1)" = MASTER ] && break; sleep 0.1; done
[ "$(state "$d/kadp.log" VI_1)" = MASTER ] || setup_fail "kadp not MASTER" "$d/kadp.log"
T_MASTER=$(now_us)
ctl() { timeout 3 "$KADPCTL" -s "$d/kadp-$VT_KADP_RUNS.sock" "$@"; }

# Sample the kadp namespace every 0.2 s for 20 s: what waits, and kadpctl.
# A sample line: SYN_SENT_TO_HOLE CONN_TO_MUTE UDP_TO_HOLE SCRIPTS STATUS_RC STATUS_VRRP
sample() {
  local syn mute udp scripts rc st p
  syn=$(vrrp_topo_lb ss -Htn state syn-sent dst "$HOLE" | wc -l)
  mute=$(vrrp_topo_lb ss -Htn state established dst "$MUTE" | wc -l)
  udp=$(vrrp_topo_lb ss -Hun dst "$HOLE" | wc -l)
  scripts=0
  for p in $(ip netns pids "$VT_NS_LB"); do
    [ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "sleep 631 " ] && scripts=$((scripts + 1))
  done
  st=$(ctl status 2>&1)
  rc=$?
  echo "$st" >>"$d/status_outputs.log"
  echo "$syn $mute $udp $scripts $rc $(echo "$st" | grep -c '^vrrp VI_1 on lan, VRID 51: MASTER')"
}
: >"$d/samples.log"
while [ $(($(now_us) - T_MASTER)) -lt 20000000 ]; do
  sample >>"$d/samples.log"
  sleep 0.2
done
kill -INT "$TCPDUMP_PID" 2>/dev/null
wait "$TCPDUMP_PID" 2>/dev/null

# a. all pending at once
want="$((N_TCP + N_HTTP + N_SSL + N_SMTP)) $((N_MHTTP + N_MSSL + N_MSMTP)) $N_DNS $N_MISC"
if grep -q "^$want " "$d/samples.log"; then
  pass "a_all_pending: one sample saw every checker waiting at once (SYN-SENT to the hole, connections to the mute server, DNS sockets, MISC_CHECK scripts: $want)"
else
  fail a_all_pending "no sample with '$want'; most seen: $(sort -n "$d/samples.log" | awk '{for (i=1;i<=4;i++) if ($i>m[i]) m[i]=$i} END {print m[1], m[2], m[3], m[4]}')" "$d/samples.log" "$d/kadp.log"
fi

# b. kadpctl status answered every time
n=$(wc -l <"$d/samples.log")
bad=$(awk '$5 != 0 || $6 != 1' "$d/samples.log" | wc -l)
if [ "$n" -ge 10 ] && [ "$bad" = 0 ]; then
  pass "b_status_answers: kadpctl status answered $n times in 20 s (timeout 3 s each), VI_1 MASTER every time"
else
  fail b_status_answers "$bad of $n status calls failed or did not show VI_1 MASTER" "$d/samples.log" "$d/status_outputs.log"
fi

# c. keepalived stayed BACKUP
if grep -q "(VI_1) Entering MASTER STATE" "$d/ka.log" || grep -qv "BACKUP" "$d/ka_notify.log" ||
   ! grep -q BACKUP "$d/ka_notify.log"; then
  fail c_peer_stays_backup "keepalived left BACKUP (notify: $(tr '\n' ';' <"$d/ka_notify.log"))" "${logs[@]}"
else
  pass "c_peer_stays_backup: keepalived BACKUP for 20 s (notify heard only: $(sort -u "$d/ka_notify.log" | tr '\n' ';'))"
fi

# d. advert gaps on the peer side
gaps=$(/usr/bin/python3 - "$d/adverts.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", data[:4])[0]
end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
scale = 1e-9 if magic in (0xa1b23c4d, 0x4d3cb2a1) else 1e-6
off, ts = 24, []
while off + 16 <= len(data):
    sec, frac, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
    ts.append(sec + frac * scale)
    off += 16 + incl
gaps = [b - a for a, b in zip(ts, ts[1:])]
print(len(ts), "%.3f" % (max(gaps) if gaps else 99))
PY
)
count=${gaps%% *} maxgap=${gaps##* }
echo "    adverts captured on keepalived's side: $count, largest gap $maxgap s"
if [ "${count:-0}" -ge 18 ] && awk -v g="$maxgap" 'BEGIN { exit !(g < 2.5) }'; then
  pass "d_adverts_on_time: $count adverts in 20 s on the peer's side, largest gap $maxgap s (< 2.5 s)"
else
  fail d_adverts_on_time "$count adverts, largest gap $maxgap s" "$d/tcpdump.log" "$d/kadp.log"
fi

# e. every checker failed and let go
removed=$(grep -c "Removing service \[" "$d/kadp.log")
left=$(tail -1 "$d/samples.log" | cut -d' ' -f1-4)
if [ "$removed" = "$TOTAL" ] && [ "$left" = "0 0 0 0" ]; then
  pass "e_all_failed: $removed of $TOTAL real servers removed, no checker socket or script left"
else
  fail e_all_failed "$removed of $TOTAL removed; still waiting at the end: $left" "$d/kadp.log"
fi

# f. a hostile advert is counted and shown
vrrp_topo_client /usr/bin/python3 - "$VT_CLIENT_ADDR" "$VIP" <<'PY'
import socket, struct, sys
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
# VRRPv2 advert VRID 51, priority 254, one address, auth none, interval 1.
vrrp = struct.pack("!BBBBBBH", 0x21, 51, 254, 1, 0, 1, 0) + socket.inet_aton(sys.argv[2]) + b"\0" * 8
vrrp = vrrp[:6] + struct.pack("!H", csum(vrrp)) + vrrp[8:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 254)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[1]))
s.sendto(vrrp, ("224.0.0.18", 0))
# And one for VRID 52, which nobody here runs (TTL 255).
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
other = vrrp[:1] + bytes([52]) + vrrp[2:6] + b"\0\0" + vrrp[8:]
other = other[:6] + struct.pack("!H", csum(other)) + other[8:]
s.sendto(other, ("224.0.0.18", 0))
PY
sleep 0.5
st=$(ctl status 2>&1)
js=$(ctl --json status 2>&1)
echo "$st" >>"$d/status_outputs.log"
echo "$js" >>"$d/status_outputs.log"
if echo "$st" | grep -q "^vrrp VI_1 on lan, VRID 51: MASTER, priority 255, dropped adverts: bad_ttl 1$" &&
   echo "$st" | grep -q "^vrrp dropped adverts in all: bad_ttl 1, vrid_mismatch 1$" &&
   echo "$js" | grep -q '"name":"VI_1".*"dropped":{"bad_ttl":1}}\],"vrrp_dropped":{"bad_ttl":1,"vrid_mismatch":1}'; then
  pass "f_drop_counters: a TTL-254 advert is counted for VI_1 (bad_ttl 1), one for VRID 52 service-wide only (vrid_mismatch 1), in text and --json; kadp stays MASTER"
else
  fail f_drop_counters "status: $(echo "$st" | grep '^vrrp' | tr '\n' ';') / json: $(echo "$js" | grep -o '"vrrp".*')" "$d/kadp.log"
fi

# g. the password appears nowhere kadp or kadpctl wrote
ctl list >>"$d/status_outputs.log" 2>&1
if grep -qF "$PASSWORD" "$d/kadp.log" "$d/status_outputs.log"; then
  fail g_no_secret "auth_pass found in: $(grep -lF "$PASSWORD" "$d/kadp.log" "$d/status_outputs.log" | tr '\n' ' ')"
else
  pass "g_no_secret: VI_1's auth_pass is in none of kadp's log and $(grep -c . "$d/status_outputs.log") lines of kadpctl output"
fi

if vrrp_topo_kadp_stop; then pass "h_clean_stop: kadp exits 0 on SIGTERM"; else fail h_clean_stop "kadp's exit status" "$d/kadp.log"; fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

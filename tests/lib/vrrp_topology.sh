# shellcheck shell=bash
# The VRRP namespace topology: kadp (DPDK backend) and keepalived 2.2.7 as
# VRRP peers on one LAN, and a client that asks who answers for the VIPs.
# Source it; it defines functions and VT_* variables only.
#
#   PREFIX-c   client  c0   198.18.0.1/24 --pc--+
#   PREFIX-lb  kadp    lan  (af_packet, no      |
#                      kernel address) ---pk----+ br0 (PREFIX-br)
#   PREFIX-ka  keepalived eth0 198.18.0.3/24 -pa-+
#
# kadp's port address is 198.18.0.2/24 (vrrp_topo_dataplane); its exception
# TAP kadp-lan carries the adverts (vrrp/vrrp_service.h). The kadp
# namespace's kernel ignores its own copy of what af_packet sees on `lan`
# (strict rp_filter, arp_ignore=8, as in tests/scripts/exception_netns.sh).
# One topology per shell:
#
#   source tests/lib/vrrp_topology.sh
#   trap vrrp_topo_cleanup EXIT; trap 'exit 130' INT; trap 'exit 143' TERM
#   vrrp_topo_setup kadp-vrrp-$$
#   vrrp_topo_kadp_start CONF LOG     # VT_KADP_PID; a new DPDK file prefix per start
#   vrrp_topo_ka_start CONF LOG       # keepalived (VRRP only); VT_KA_PID, VT_KA_VRRP_PID
#   vrrp_topo_arp 198.18.0.100        # the MACs that answer the client's ARP request
#   vrrp_topo_ka_kill                 # SIGKILL parent and VRRP child, remove what it left on eth0
#   vrrp_topo_kadp_kill / vrrp_topo_kadp_stop / vrrp_topo_ka_stop
#
# vrrp_topo_cleanup (safe to call twice, and after a setup that failed half
# way) kills kadp, keepalived and whatever else runs in the namespaces, by
# PID, deletes the namespaces, DPDK's runtime files of PREFIX and VT_DIR.
# Needs root, ip, ethtool, keepalived, /usr/bin/python3.

VT_PREFIX=
VT_DIR=
VT_NS_C='' VT_NS_LB='' VT_NS_KA='' VT_NS_BR=''
# $KADP, else $KADP_BUILD/kadp (docs/testing.md; scripts/test.sh: build-san).
VT_KADP=${KADP:-${KADP_BUILD:-build}/kadp}
VT_KADP_PID=
VT_KADP_RUNS=0
VT_KA_PID=
VT_KA_VRRP_PID=
VT_PIDS=()
VT_PY=/usr/bin/python3
VT_KADP_ADDR=198.18.0.2
VT_KA_ADDR=198.18.0.3
VT_CLIENT_ADDR=198.18.0.1

vrrp_topo_in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
vrrp_topo_client() { ip netns exec "$VT_NS_C" "$@"; }
vrrp_topo_ka() { ip netns exec "$VT_NS_KA" "$@"; }
vrrp_topo_lb() { ip netns exec "$VT_NS_LB" "$@"; }
vrrp_topo_br() { ip netns exec "$VT_NS_BR" "$@"; }

# Software checksums everywhere: af_packet hands DPDK what the veth peer
# left unfinished otherwise (TESTING.md).
_vt_no_offload() { vrrp_topo_in_ns "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1; }

# vrrp_topo_setup PREFIX: builds the topology (namespaces PREFIX-{c,lb,ka,br}).
# VT_DIR is a fresh directory the caller may use too (removed by cleanup).
vrrp_topo_setup() {
  VT_PREFIX=$1
  VT_NS_C=$VT_PREFIX-c VT_NS_LB=$VT_PREFIX-lb VT_NS_KA=$VT_PREFIX-ka VT_NS_BR=$VT_PREFIX-br
  VT_DIR=$(mktemp -d "/tmp/$VT_PREFIX.XXXXXX") || return 1
  chmod 755 "$VT_DIR"
  local ns
  for ns in "$VT_NS_C" "$VT_NS_LB" "$VT_NS_KA" "$VT_NS_BR"; do
    ip netns add "$ns" || return 1
    vrrp_topo_in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    vrrp_topo_in_ns "$ns" ip link set lo up || return 1
  done
  vrrp_topo_br ip link add br0 type bridge || return 1
  # No multicast snooping: the adverts and ARP reach every port at once.
  vrrp_topo_br ip link set br0 type bridge mcast_snooping 0 2>/dev/null
  ip link add c0 netns "$VT_NS_C" type veth peer name pc netns "$VT_NS_BR" || return 1
  ip link add lan netns "$VT_NS_LB" type veth peer name pk netns "$VT_NS_BR" || return 1
  ip link add eth0 netns "$VT_NS_KA" type veth peer name pa netns "$VT_NS_BR" || return 1
  for ns in pc pk pa; do
    vrrp_topo_br ip link set "$ns" master br0 || return 1
    vrrp_topo_br ip link set "$ns" up || return 1
    _vt_no_offload "$VT_NS_BR" "$ns"
  done
  vrrp_topo_br ip link set br0 up || return 1
  vrrp_topo_client ip addr add "$VT_CLIENT_ADDR/24" dev c0 || return 1
  vrrp_topo_client ip link set c0 up || return 1
  _vt_no_offload "$VT_NS_C" c0
  vrrp_topo_ka ip addr add "$VT_KA_ADDR/24" dev eth0 || return 1
  vrrp_topo_ka ip link set eth0 up || return 1
  _vt_no_offload "$VT_NS_KA" eth0
  vrrp_topo_lb ip link set lan up || return 1
  _vt_no_offload "$VT_NS_LB" lan
  # The kadp namespace's kernel ignores its copy of the af_packet veth's frames.
  vrrp_topo_lb sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 \
    net.ipv4.conf.lan.rp_filter=1 net.ipv4.conf.lan.arp_ignore=8 || return 1
  return 0
}

# vrrp_topo_mac NS DEV
vrrp_topo_mac() { vrrp_topo_in_ns "$1" cat "/sys/class/net/$2/address"; }

# vrrp_topo_dataplane: kadp's dataplane block (af_packet on `lan`, 198.18.0.2/24).
vrrp_topo_dataplane() {
  printf 'dataplane {\n    interface lan {\n        device "net_af_packet0,iface=lan"\n        address %s/24\n    }\n    conn_table_size 65536\n}\n' "$VT_KADP_ADDR"
}

# vrrp_topo_kadp_start CONF LOG: starts kadp in the kadp namespace (lcores
# 0,1, no hugepages, a DPDK file prefix and control socket of its own per
# start). Returns 0 once kadp logs "running with", 1 if it exits first or
# takes over 30 s. VT_KADP_OPTS: more kadp options (after EAL's "--").
vrrp_topo_kadp_start() {
  local conf=$1 log=$2
  VT_KADP_RUNS=$((VT_KADP_RUNS + 1))
  ip netns exec "$VT_NS_LB" "$VT_KADP" -l 0,1 --no-huge -m 512 --no-pci --no-telemetry \
    --file-prefix "$VT_PREFIX-$VT_KADP_RUNS" -- -f "$conf" \
    --control-socket "$VT_DIR/kadp-$VT_KADP_RUNS.sock" ${VT_KADP_OPTS:-} >"$log" 2>&1 &
  VT_KADP_PID=$!
  for _ in $(seq 300); do
    grep -qs "^kadp: running with" "$log" && return 0
    kill -0 "$VT_KADP_PID" 2>/dev/null || { wait "$VT_KADP_PID" 2>/dev/null; VT_KADP_PID=; return 1; }
    sleep 0.1
  done
  return 1
}

# vrrp_topo_kadp_kill: SIGKILL (a crash: no priority-0 advert).
vrrp_topo_kadp_kill() {
  [ -n "$VT_KADP_PID" ] || return 0
  kill -KILL "$VT_KADP_PID" 2>/dev/null
  wait "$VT_KADP_PID" 2>/dev/null
  VT_KADP_PID=
}

# vrrp_topo_kadp_wait_exit [SECONDS]: waits (default 10 s) for kadp, stopping
# after a signal the caller sent, to exit; returns its exit status (1 if it
# had to be killed).
vrrp_topo_kadp_wait_exit() {
  [ -n "$VT_KADP_PID" ] || return 1
  local rc
  for _ in $(seq $((${1:-10} * 10))); do
    if ! kill -0 "$VT_KADP_PID" 2>/dev/null; then
      wait "$VT_KADP_PID"
      rc=$?
      VT_KADP_PID=
      return $rc
    fi
    sleep 0.1
  done
  vrrp_topo_kadp_kill
  return 1
}

# vrrp_topo_kadp_stop: SIGTERM and vrrp_topo_kadp_wait_exit.
vrrp_topo_kadp_stop() {
  [ -n "$VT_KADP_PID" ] || return 1
  kill -TERM "$VT_KADP_PID" 2>/dev/null
  vrrp_topo_kadp_wait_exit 10
}

# vrrp_topo_kadpctl ARGS...: kadpctl on the running kadp's control socket.
vrrp_topo_kadpctl() { "${KADPCTL:-${KADP_BUILD:-build}/kadpctl}" -s "$VT_DIR/kadp-$VT_KADP_RUNS.sock" "$@"; }

# vrrp_topo_ka_start CONF LOG: keepalived, VRRP only, in the foreground with
# detailed console logs, in the keepalived namespace; stale pid files are
# removed first. Returns 0 once its VRRP child runs (VT_KA_VRRP_PID).
vrrp_topo_ka_start() {
  local conf=$1 log=$2
  rm -f "$VT_DIR/ka.pid" "$VT_DIR/ka-vrrp.pid" "$VT_DIR/ka-chk.pid"
  # Not through a function: $! must be keepalived's own PID.
  ip netns exec "$VT_NS_KA" keepalived -n -l -D -G -P -f "$conf" -p "$VT_DIR/ka.pid" \
    -r "$VT_DIR/ka-vrrp.pid" -c "$VT_DIR/ka-chk.pid" >"$log" 2>&1 &
  VT_KA_PID=$!
  VT_KA_VRRP_PID=
  for _ in $(seq 100); do
    if [ -s "$VT_DIR/ka-vrrp.pid" ]; then
      VT_KA_VRRP_PID=$(cat "$VT_DIR/ka-vrrp.pid")
      [ -n "$VT_KA_VRRP_PID" ] && kill -0 "$VT_KA_VRRP_PID" 2>/dev/null && return 0
    fi
    kill -0 "$VT_KA_PID" 2>/dev/null || { wait "$VT_KA_PID" 2>/dev/null; VT_KA_PID=; return 1; }
    sleep 0.1
  done
  return 1
}

# _vt_ka_flush: removes every address but its own from keepalived's eth0
# (a crashed keepalived leaves its VIPs there).
_vt_ka_flush() {
  local a
  for a in $(vrrp_topo_ka ip -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}'); do
    [ "$a" = "$VT_KA_ADDR/24" ] || vrrp_topo_ka ip addr del "$a" dev eth0
  done
}

# _vt_dead PID: gone, or a zombie.
_vt_dead() {
  local st
  st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 0
  [ -z "$st" ] || [ "$st" = Z ]
}

# vrrp_topo_ka_kill: a crash of keepalived: SIGKILL to the VRRP child and the
# parent in one call (the parent would restart a child it saw die; the child
# would stop gracefully, priority 0, on its parent's death), then the VIPs it
# left on eth0 are removed.
vrrp_topo_ka_kill() {
  [ -n "$VT_KA_PID" ] || return 0
  kill -KILL ${VT_KA_VRRP_PID:+"$VT_KA_VRRP_PID"} "$VT_KA_PID" 2>/dev/null
  wait "$VT_KA_PID" 2>/dev/null
  # The orphaned child may stay a zombie for a while: dead is enough.
  if [ -n "$VT_KA_VRRP_PID" ]; then
    for _ in $(seq 50); do _vt_dead "$VT_KA_VRRP_PID" && break; sleep 0.02; done
  fi
  _vt_ka_flush
  VT_KA_PID='' VT_KA_VRRP_PID=''
}

# vrrp_topo_ka_wait_exit [SECONDS]: waits (default 10 s) for keepalived,
# stopping after a signal the caller sent, to exit; returns its exit status
# (1 if it had to be killed).
vrrp_topo_ka_wait_exit() {
  [ -n "$VT_KA_PID" ] || return 1
  local rc
  for _ in $(seq $((${1:-10} * 10))); do
    if ! kill -0 "$VT_KA_PID" 2>/dev/null; then
      wait "$VT_KA_PID"
      rc=$?
      VT_KA_PID='' VT_KA_VRRP_PID=''
      _vt_ka_flush
      return $rc
    fi
    sleep 0.1
  done
  vrrp_topo_ka_kill
  return 1
}

# vrrp_topo_ka_stop: SIGTERM (masters send priority 0) and
# vrrp_topo_ka_wait_exit.
vrrp_topo_ka_stop() {
  [ -n "$VT_KA_PID" ] || return 1
  kill -TERM "$VT_KA_PID" 2>/dev/null
  vrrp_topo_ka_wait_exit 10
}

# vrrp_topo_ka_has ADDR: keepalived's eth0 holds ADDR.
vrrp_topo_ka_has() { vrrp_topo_ka ip -4 -o addr show dev eth0 | grep -q " $1/"; }

# vrrp_topo_arp ADDR [WAIT]: the client broadcasts two ARP requests for
# ADDR (0.1 s apart) from c0 and prints the sender MACs of the replies heard
# within WAIT seconds (default 0.6), sorted, space separated.
vrrp_topo_arp() {
  vrrp_topo_client "$VT_PY" - c0 "$1" "$VT_CLIENT_ADDR" "${2:-0.6}" <<'PY'
import socket, struct, sys, time
ifname, target, source, wait = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind((ifname, 0))
mac = s.getsockname()[4]
tip, sip = socket.inet_aton(target), socket.inet_aton(source)
req = b"\xff" * 6 + mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + sip + b"\0" * 6 + tip
seen = set()
start = time.monotonic()
sends = [start, start + 0.1]
while True:
    now = time.monotonic()
    while sends and sends[0] <= now:
        s.send(req)
        sends.pop(0)
    left = min([start + wait - now] + [t - now for t in sends])
    if start + wait - now <= 0:
        break
    s.settimeout(max(left, 0.001))
    try:
        f = s.recv(2048)
    except socket.timeout:
        continue
    # ARP reply (opcode 2) whose sender is the asked address.
    if len(f) >= 42 and f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x02" and f[28:32] == tip:
        seen.add(f[22:28].hex(":"))
print(" ".join(sorted(seen)))
PY
}

vrrp_topo_cleanup() {
  [ -n "$VT_PREFIX" ] || return 0
  local p ns
  [ -n "$VT_KADP_PID" ] && kill -KILL "$VT_KADP_PID" 2>/dev/null
  [ -n "$VT_KA_VRRP_PID" ] && kill -KILL "$VT_KA_VRRP_PID" 2>/dev/null
  [ -n "$VT_KA_PID" ] && kill -KILL "$VT_KA_PID" 2>/dev/null
  for p in "${VT_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in $VT_KADP_PID $VT_KA_PID "${VT_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  VT_KADP_PID='' VT_KA_PID='' VT_KA_VRRP_PID=''
  VT_PIDS=()
  for ns in "$VT_NS_C" "$VT_NS_LB" "$VT_NS_KA" "$VT_NS_BR"; do
    [ -n "$ns" ] || continue
    # Whatever else still runs in our namespaces (keepalived's child, a
    # script it ran, a tcpdump cut short), by PID.
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  [ -n "$VT_DIR" ] && rm -rf "$VT_DIR"
  rm -rf /var/run/dpdk/"$VT_PREFIX"-*
  VT_PREFIX='' VT_DIR=''
}

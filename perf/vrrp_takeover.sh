#!/usr/bin/env bash
# VRRP takeover time, measured on the wire, for every pair master -> backup
# among kadp (DPDK backend) and keepalived 2.2.7, with keepalived ->
# keepalived as the baseline of the same run.
#
#   sudo perf/vrrp_takeover.sh [--quick] [--runs-v3 N] [--runs-v2 N]
#        [--versions "v3 v2"] [--pairs "ka-ka kadp-ka ka-kadp kadp-kadp"]
#        [--events "crash graceful"] [--json FILE] [--keep DIR]
#
# Topology: one bridge (namespace PREFIX-br) and four nodes, each in its own
# namespace, all in 198.18.0.0/24; only the two nodes of the pair measured
# run at a time (VRID 61, VIP 198.18.0.100/24):
#
#   keepalived ka1 198.18.0.11 (eth0) --p-ka1--+
#   keepalived ka2 198.18.0.12 (eth0) --p-ka2--+-- br0
#   kadp kd1 198.18.0.21 (lan, af_packet) -p-kd1-+
#   kadp kd2 198.18.0.22 (lan, af_packet) -p-kd2-+
#
# kadp runs as tests/lib/nat_topology.sh starts it (-l 0,1 --no-huge -m 512
# --no-pci, its own file prefix and control socket); its adverts travel
# through the exception TAP kadp-lan. With two kadp, the second one's
# worker polls on CPU 0 (--lcores 0@1,1@0) so that the two busy-polling
# workers do not share a CPU. The master has priority 200, the backup 100.
#
# Per run: the master is killed (crash: SIGKILL, for keepalived its VRRP
# child and its parent; graceful: SIGTERM, which sends a priority-0
# advert); bash's $EPOCHREALTIME is read right before the kill (no fork,
# the same clock as `date +%s.%N`). tcpdump listens on the bridge's port of
# each node (-Q in: what that node sends, kernel time stamps). Afterwards:
#
#   kill     = backup's first advert as master - moment of the kill
#   advert   = backup's first advert as master - master's last advert
#              (graceful: its priority-0 advert)
#   bound    = crash: 3 x interval + skew; graceful: skew, where skew =
#              (256 - 100) / 256 s (v2) or (256 - 100) x interval / 256 (v3)
#   excess   = advert - bound (how late the backup took over, its receive
#              and send paths included); kill - bound is printed too (a
#              crash lands anywhere in the interval: it is <= 0 there)
#
# Then the master is started again and preempts (priority 200) before the
# next run. Prints each run, then a table of min / median / max per pair and
# the ratio of each pair's medians to keepalived -> keepalived's. Defaults:
# VRRPv3 advert_int 0.1 x 10 runs per event, VRRPv2 advert_int 1 x 3 runs
# (each takes seconds); --quick: v3 only, 2 runs. --json FILE writes one
# JSON object per (version, pair, event) line. --keep DIR keeps the
# captures and logs. Nothing is a threshold: the exit status says only
# whether every run produced a measurement.
#
# Needs root, ip, ethtool, tcpdump, keepalived, /usr/bin/python3 and kadp
# (KADP, default build/kadp); exits 77 when one is missing. Addresses only
# in 198.18.0.0/15; namespaces, processes (by PID) and DPDK runtime files are
# removed on exit, also on failure or Ctrl-C.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
KADP=${KADP:-$here/build/kadp}
py=/usr/bin/python3

runs_v3=10 runs_v2=3
versions="v3 v2"
pairs="ka-ka kadp-ka ka-kadp kadp-kadp"
events="crash graceful"
json_out='' keep=''
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) runs_v3=2; versions=v3; shift ;;
    --runs-v3) runs_v3=$2; shift 2 ;;
    --runs-v2) runs_v2=$2; shift 2 ;;
    --versions) versions=$2; shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --json) json_out=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    -h|--help) sed -n '2,52p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "vrrp_takeover: unknown option $1" >&2; exit 2 ;;
  esac
done
for n in "$runs_v3" "$runs_v2"; do
  case "$n" in ''|*[!0-9]*|0) echo "vrrp_takeover: runs are whole numbers >= 1" >&2; exit 2 ;; esac
done
for v in $versions; do case "$v" in v2|v3) ;; *) echo "vrrp_takeover: versions are v2, v3" >&2; exit 2 ;; esac; done
for p in $pairs; do case "$p" in ka-ka|kadp-ka|ka-kadp|kadp-kadp) ;; *) echo "vrrp_takeover: unknown pair $p" >&2; exit 2 ;; esac; done
for e in $events; do case "$e" in crash|graceful) ;; *) echo "vrrp_takeover: events are crash, graceful" >&2; exit 2 ;; esac; done

skip() { echo "vrrp_takeover: $1; skipped" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
for tool in ip ethtool tcpdump keepalived; do command -v "$tool" >/dev/null || skip "no $tool"; done
[ -x "$py" ] || skip "no $py"
needs_kadp=0
case " $pairs " in *kadp*) needs_kadp=1 ;; esac
if [ "$needs_kadp" = 1 ] && [ ! -x "$KADP" ]; then
  echo "vrrp_takeover: no kadp binary at $KADP (build it, or set KADP)" >&2; exit 1
fi

P=kvb-$$
tmp=$(mktemp -d "/tmp/$P.XXXXXX") || exit 1
chmod 755 "$tmp"
nodes="ka1 ka2 kd1 kd2"
declare -A node_pid=() node_addr=([ka1]=198.18.0.11 [ka2]=198.18.0.12 [kd1]=198.18.0.21 [kd2]=198.18.0.22)
declare -A node_log=() node_seq=()
tcpdump_pids=()

cleanup() {
  local n p
  for n in "${!node_pid[@]}"; do
    p=${node_pid[$n]}
    [ -n "$p" ] || continue
    kill -KILL "$p" 2>/dev/null
  done
  # keepalived's VRRP children, by their pid files.
  for p in "$tmp"/*.vpid; do [ -s "$p" ] && kill -KILL "$(cat "$p")" 2>/dev/null; done
  for p in "${tcpdump_pids[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for n in br $nodes; do
    for p in $(ip netns pids "$P-$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$P-$n" 2>/dev/null
  done
  rm -rf /var/run/dpdk/"$P"-*
  if [ -n "$keep" ]; then
    mkdir -p "$keep" && cp -r "$tmp"/. "$keep"/ && echo "vrrp_takeover: captures and logs kept in $keep" >&2
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() { echo "vrrp_takeover: $*" >&2; exit 1; }

# --- topology ---------------------------------------------------------------------
ip netns add "$P-br" || die "cannot create namespaces"
for n in br $nodes; do
  [ "$n" = br ] || ip netns add "$P-$n" || die "netns $P-$n"
  ip netns exec "$P-$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$P-$n" link set lo up
done
ip -n "$P-br" link add br0 type bridge mcast_snooping 0 || die "bridge"
ip -n "$P-br" link set br0 up
for n in $nodes; do
  case "$n" in ka*) dev=eth0 ;; *) dev=lan ;; esac
  ip link add "$dev" netns "$P-$n" type veth peer name "p-$n" netns "$P-br" || die "veth $n"
  ip -n "$P-br" link set "p-$n" master br0 up
  ip -n "$P-$n" link set "$dev" up
  # Software checksums: af_packet hands DPDK finished frames (TESTING.md).
  ip netns exec "$P-br" ethtool -K "p-$n" tx off >/dev/null 2>&1
  ip netns exec "$P-$n" ethtool -K "$dev" tx off >/dev/null 2>&1
  case "$n" in ka*) ip -n "$P-$n" addr add "${node_addr[$n]}/24" dev eth0 ;; esac
done

# --- nodes ------------------------------------------------------------------------
# instance_conf VERSION PRIO IFACE
instance_conf() {
  local ver=${1#v} int=0.1
  [ "$ver" = 2 ] && int=1
  cat <<EOF
vrrp_instance VI_1 {
    state BACKUP
    interface $3
    virtual_router_id 61
    priority $2
    version $ver
    advert_int $int
    virtual_ipaddress {
        198.18.0.100/24
    }
}
EOF
}

# start_node NODE VERSION PRIO [KADP_LCORES]: starts the node's daemon in the
# background; node_log[NODE] is its new log.
start_node() {
  local n=$1 ver=$2 prio=$3 seq=$((${node_seq[$1]:-0} + 1))
  node_seq[$n]=$seq
  local base=$tmp/$n-$seq
  node_log[$n]=$base.log
  case "$n" in
    ka*)
      { printf 'global_defs {\n    router_id %s\n}\n' "$n"; instance_conf "$ver" "$prio" eth0; } >"$base.conf"
      rm -f "$tmp/$n.pid" "$tmp/$n.vpid" "$tmp/$n.cpid"
      ip netns exec "$P-$n" keepalived -n -l -D -G -P -f "$base.conf" -p "$tmp/$n.pid" -r "$tmp/$n.vpid" \
        -c "$tmp/$n.cpid" >"$base.log" 2>&1 &
      ;;
    kd*)
      {
        printf 'dataplane {\n    interface lan {\n        device "net_af_packet0,iface=lan"\n'
        printf '        address %s/24\n    }\n    conn_table_size 1024\n}\n' "${node_addr[$n]}"
        instance_conf "$ver" "$prio" lan
      } >"$base.conf"
      local lc=(-l "0,1")
      [ "$n" = kd2 ] && lc=(--lcores "0@1,1@0")
      ip netns exec "$P-$n" "$KADP" "${lc[@]}" --no-huge -m 512 --no-pci --no-telemetry \
        --file-prefix "$P-$n-$seq" -- -f "$base.conf" --control-socket "$base.sock" >"$base.log" 2>&1 &
      ;;
  esac
  node_pid[$n]=$!
  # No "Killed" job notices from bash: reap() and cleanup() poll by PID.
  disown "$!"
}

# tap_capture NODE: for a kadp node whose daemon is up, a capture on its
# exception TAP (both ways: what its kernel sends, what the data plane hands
# it), so that a run can be split into receive path, timer and send path.
# It ends by itself when kadp goes and the TAP with it.
declare -A node_tap=()
tap_capture() {
  local n=$1 base=$tmp/$1-${node_seq[$1]}
  case "$n" in kd*) ;; *) node_tap[$n]=-; return 0 ;; esac
  node_tap[$n]=$base.tap.pcap
  ip netns exec "$P-$n" tcpdump -Z root -i kadp-lan -U --immediate-mode -n --time-stamp-precision=nano \
    -w "$base.tap.pcap" 'ip proto 112' 2>"$base.tap.log" &
  tcpdump_pids+=("$!")
  for _ in $(seq 300); do grep -qs "listening on" "$base.tap.log" && break; sleep 0.01; done
}

count() { local c; c=$(grep -c -- "$2" "${node_log[$1]}" 2>/dev/null); echo "${c:-0}"; }
# wait_count NODE PATTERN MIN SECONDS: until the node's log has MIN lines
# matching PATTERN; 1 on timeout or when the daemon died.
wait_count() {
  local n=$1 end=$((SECONDS + $4 + 1))
  while [ "$SECONDS" -lt "$end" ]; do
    [ "$(count "$n" "$2")" -ge "$3" ] && return 0
    kill -0 "${node_pid[$n]}" 2>/dev/null || return 1
    sleep 0.01
  done
  return 1
}
MASTER="(VI_1) Entering MASTER STATE"
BACKUP="(VI_1) Entering BACKUP STATE"

# reap NODE SECONDS: waits for the daemon to exit, SIGKILL after SECONDS.
reap() {
  local n=$1 p=${node_pid[$1]}
  [ -n "$p" ] || return 0
  for _ in $(seq $(($2 * 100))); do kill -0 "$p" 2>/dev/null || break; sleep 0.01; done
  kill -KILL "$p" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.01; done
  case "$n" in ka*)
    # The VRRP child outlives a SIGKILLed parent unless killed itself.
    [ -s "$tmp/$n.vpid" ] && kill -KILL "$(cat "$tmp/$n.vpid")" 2>/dev/null
    # After a crash the VIP stays on the dead node's interface.
    ip -n "$P-$n" addr del 198.18.0.100/24 dev eth0 2>/dev/null
    rm -f "$tmp/$n.pid" "$tmp/$n.vpid" "$tmp/$n.cpid"
    ;;
  esac
  node_pid[$n]=
}

# kill_node NODE crash|graceful: prints the moment of the kill.
kill_node() {
  local n=$1 t
  if [ "$2" = crash ]; then
    case "$n" in
      ka*)
        local child
        child=$(cat "$tmp/$n.vpid" 2>/dev/null)
        [ -n "$child" ] || return 1
        t=$EPOCHREALTIME
        kill -KILL "$child" "${node_pid[$n]}"
        ;;
      *) t=$EPOCHREALTIME; kill -KILL "${node_pid[$n]}" ;;
    esac
  else
    t=$EPOCHREALTIME
    kill -TERM "${node_pid[$n]}"
  fi
  echo "$t"
}

node_of() { case "$1" in ka) echo "$2" ;; kadp) echo "$3" ;; esac; }
kind() { case "$1" in ka*) echo keepalived ;; *) echo kadp ;; esac; }

# --- one session: a version and a pair, every event, N runs each -------------------
failures=0
events_file=$tmp/events.tsv
: >"$events_file"
session() {
  local ver=$1 pair=$2 runs=$3 m b mk bk
  mk=${pair%-*} bk=${pair#*-}
  m=$(node_of "$mk" ka1 kd1)
  if [ "$mk" = "$bk" ]; then b=$(node_of "$bk" ka2 kd2); else b=$(node_of "$bk" ka1 kd1); fi
  local int=0.1 start_wait=30 take_wait=5
  [ "$ver" = v2 ] && int=1 take_wait=10
  local cap=$tmp/$ver-$pair
  local pm pb
  # Captures: what each node sends, on its bridge port, kernel time stamps.
  ip netns exec "$P-br" tcpdump -Z root -i "p-$m" -Q in -U --immediate-mode -n \
    --time-stamp-precision=nano -w "$cap-$m.pcap" 'ip proto 112' 2>"$cap-$m.tcpdump.log" &
  pm=$!
  ip netns exec "$P-br" tcpdump -Z root -i "p-$b" -Q in -U --immediate-mode -n \
    --time-stamp-precision=nano -w "$cap-$b.pcap" 'ip proto 112' 2>"$cap-$b.tcpdump.log" &
  pb=$!
  tcpdump_pids+=("$pm" "$pb")
  for _ in $(seq 500); do
    grep -qs "listening on" "$cap-$m.tcpdump.log" && grep -qs "listening on" "$cap-$b.tcpdump.log" && break
    sleep 0.01
  done

  echo "== $ver $(kind "$m") -> $(kind "$b") (master $m ${node_addr[$m]}, backup $b ${node_addr[$b]})"
  start_node "$m" "$ver" 200
  if ! wait_count "$m" "$MASTER" 1 "$start_wait"; then
    echo "vrrp_takeover: $m never became MASTER:" >&2; tail -20 "${node_log[$m]}" >&2
    failures=$((failures + 1)); reap "$m" 1; return 1
  fi
  tap_capture "$m"
  start_node "$b" "$ver" 100
  if ! wait_count "$b" "$BACKUP" 1 "$start_wait"; then
    echo "vrrp_takeover: $b never became BACKUP:" >&2; tail -20 "${node_log[$b]}" >&2
    failures=$((failures + 1)); reap "$m" 1; reap "$b" 1; return 1
  fi
  tap_capture "$b"
  local ev run t_kill bm bb
  for ev in $events; do
    for run in $(seq "$runs"); do
      # Settle: a few adverts of the master, then a random phase.
      if [ "$ver" = v2 ]; then sleep "1.$((RANDOM % 1000))"; else sleep "0.$((200 + RANDOM % 100))"; fi
      if [ "$(count "$b" "$MASTER")" -gt "$(count "$b" "$BACKUP")" ] || ! kill -0 "${node_pid[$m]}" 2>/dev/null; then
        echo "vrrp_takeover: $ver $pair: not master/backup before run $run" >&2
        failures=$((failures + 1)); break 2
      fi
      bm=$(count "$b" "$MASTER")
      if ! t_kill=$(kill_node "$m" "$ev"); then
        echo "vrrp_takeover: $m: no VRRP child pid" >&2; failures=$((failures + 1)); break 2
      fi
      if ! wait_count "$b" "$MASTER" $((bm + 1)) "$take_wait"; then
        echo "vrrp_takeover: $ver $pair $ev run $run: $b did not take over" >&2
        tail -5 "${node_log[$b]}" >&2
        failures=$((failures + 1))
      fi
      reap "$m" 10
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ver" "$pair" "$ev" "$run" "$t_kill" \
        "${node_addr[$m]}" "${node_addr[$b]}" "$int" 100 "$cap-$m.pcap" "$cap-$b.pcap" \
        "${node_tap[$m]}" "${node_tap[$b]}" >>"$events_file"
      [ "$run" = "$runs" ] && [ "$ev" = "${events##* }" ] && break
      # The master again: it starts as BACKUP and preempts.
      bb=$(count "$b" "$BACKUP")
      start_node "$m" "$ver" 200
      if ! wait_count "$m" "$MASTER" 1 "$start_wait" || ! wait_count "$b" "$BACKUP" $((bb + 1)) 5; then
        echo "vrrp_takeover: $ver $pair: $m did not take back over:" >&2; tail -10 "${node_log[$m]}" >&2
        failures=$((failures + 1)); break 2
      fi
      tap_capture "$m"
    done
  done
  kill -TERM "${node_pid[$b]}" 2>/dev/null; [ -n "${node_pid[$m]}" ] && kill -TERM "${node_pid[$m]}" 2>/dev/null
  reap "$b" 10; reap "$m" 10
  sleep 0.1
  local p
  for p in "${tcpdump_pids[@]}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  tcpdump_pids=()
}

# --- analysis ---------------------------------------------------------------------
cat >"$tmp/analyse.py" <<'EOF'
import json, math, struct, sys

events_file, json_out = sys.argv[1], sys.argv[2]
NAMES = {"ka": "keepalived", "kadp": "kadp"}

def pcap(path, cache={}):
    """[(time, source, priority)] of the VRRP adverts in a pcap file."""
    if path in cache:
        return cache[path]
    out = []
    try:
        data = open(path, "rb").read()
    except OSError:
        data = b""
    if len(data) >= 24:
        magic = struct.unpack("<I", data[:4])[0]
        e, nano = ("<", magic == 0xA1B23C4D) if magic in (0xA1B2C3D4, 0xA1B23C4D) else (">", struct.unpack(">I", data[:4])[0] == 0xA1B23C4D)
        linktype = struct.unpack(e + "I", data[20:24])[0]
        off = 24
        while off + 16 <= len(data):
            sec, frac, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
            pkt = data[off + 16:off + 16 + incl]
            off += 16 + incl
            t = sec + frac / (1e9 if nano else 1e6)
            l2 = 14 if linktype == 1 else 16  # Ethernet, or Linux cooked
            if len(pkt) < l2 + 20:
                continue
            ip = pkt[l2:]
            ihl = (ip[0] & 0x0F) * 4
            if ip[0] >> 4 != 4 or ip[9] != 112 or len(ip) < ihl + 4:
                continue
            src = ".".join(str(b) for b in ip[12:16])
            out.append((t, src, ip[ihl + 2]))
    cache[path] = out
    return out

results = []
for line in open(events_file):
    ver, pair, ev, run, kill, m_addr, b_addr, interval, prio, m_pcap, b_pcap, m_tap, b_tap = line.rstrip("\n").split("\t")
    kill, interval, prio = float(kill), float(interval), int(prio)
    skew = (256 - prio) / 256 * (1.0 if ver == "v2" else interval)
    bound = 3 * interval + skew if ev == "crash" else skew
    r = {"version": ver, "pair": pair, "event": ev, "run": int(run), "bound_ms": bound * 1e3}
    b_adv = [p for p in pcap(b_pcap) if p[1] == b_addr and p[0] > kill and p[2] > 0]
    if not b_adv or b_adv[0][0] > kill + bound + 10:
        r["error"] = "no advert from the backup after the kill"
        results.append(r)
        continue
    tb = b_adv[0][0]
    m_adv = [p for p in pcap(m_pcap) if p[1] == m_addr and p[0] < tb]
    if not m_adv:
        r["error"] = "no advert from the master before the takeover"
        results.append(r)
        continue
    tm, _, mprio = m_adv[-1]
    r["kill_ms"] = (tb - kill) * 1e3
    r["advert_ms"] = (tb - tm) * 1e3
    r["excess_ms"] = r["advert_ms"] - r["bound_ms"]
    r["excess_kill_ms"] = r["kill_ms"] - r["bound_ms"]
    r["last_advert_prio"] = mprio
    r["last_advert_after_kill_ms"] = (tm - kill) * 1e3
    if ev == "graceful" and mprio != 0:
        r["note"] = "no priority-0 advert from the master"
    # kadp's side, from its exception TAP: the backup's receive path (the
    # master's last advert on the wire -> on the TAP), its timer (that ->
    # its own first advert written to the TAP, less the bound) and its send
    # path (TAP -> wire); a kadp master's SIGTERM -> priority-0 advert on
    # its TAP and TAP -> wire.
    if b_tap != "-":
        tap = pcap(b_tap)
        own = [p for p in tap if p[1] == b_addr and p[0] > kill and p[2] > 0]
        if own:
            heard = [p for p in tap if p[1] == m_addr and p[0] < own[0][0]]
            r["b_tx_ms"] = (tb - own[0][0]) * 1e3
            if heard:
                r["b_rx_ms"] = (heard[-1][0] - tm) * 1e3
                r["b_timer_ms"] = (own[0][0] - heard[-1][0]) * 1e3 - r["bound_ms"]
    if m_tap != "-" and ev == "graceful":
        zero = [p for p in pcap(m_tap) if p[1] == m_addr and p[0] > kill and p[2] == 0]
        if zero:
            r["m_stop_ms"] = (zero[0][0] - kill) * 1e3
            r["m_tx_ms"] = (tm - zero[0][0]) * 1e3 if mprio == 0 else None
    results.append(r)

def name(pair):
    m, b = pair.split("-")
    return "%s -> %s" % (NAMES[m], NAMES[b])

for r in results:
    head = "%s %-24s %-8s run %2d:" % (r["version"], name(r["pair"]), r["event"], r["run"])
    if "error" in r:
        print(head, "ERROR", r["error"])
        continue
    print(head, "kill->takeover %7.1f ms, last advert->takeover %7.1f ms, bound %6.1f ms, excess %+6.1f ms (from kill %+7.1f)%s" % (
        r["kill_ms"], r["advert_ms"], r["bound_ms"], r["excess_ms"], r["excess_kill_ms"],
        (", master's prio-0 advert %.1f ms after SIGTERM" % r["last_advert_after_kill_ms"]) if r["event"] == "graceful" and r["last_advert_prio"] == 0 else
        (" [" + r["note"] + "]" if "note" in r else "")))
    parts = []
    if "b_tx_ms" in r:
        parts.append("kadp backup: rx path %s, timer %s, tx path %.1f ms" % (
            "%.1f" % r["b_rx_ms"] if "b_rx_ms" in r else "?", "%+.1f" % r["b_timer_ms"] if "b_timer_ms" in r else "?", r["b_tx_ms"]))
    if r.get("m_stop_ms") is not None:
        parts.append("kadp master: SIGTERM -> prio-0 on its TAP %.1f ms, tx path %s ms" % (
            r["m_stop_ms"], "%.1f" % r["m_tx_ms"] if r.get("m_tx_ms") is not None else "?"))
    if parts:
        print(" " * 10, "; ".join(parts))

def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2

def mmm(v):
    return "%.1f / %.1f / %.1f" % (min(v), median(v), max(v)) if v else "-"

groups = {}
for r in results:
    groups.setdefault((r["version"], r["event"], r["pair"]), []).append(r)
order = {"ka-ka": 0, "kadp-ka": 1, "ka-kadp": 2, "kadp-kadp": 3}
keys = sorted(groups, key=lambda k: (k[0] != "v3", k[1] != "crash", order[k[2]]))
print()
print("| protocol | master -> backup | event | runs | bound ms | kill -> takeover ms (min / median / max) "
      "| last advert -> takeover ms | excess over bound ms | ratio to keepalived (kill / advert) |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
summary = []
for k in keys:
    ver, ev, pair = k
    ok = [r for r in groups[k] if "error" not in r]
    kill = [r["kill_ms"] for r in ok]
    adv = [r["advert_ms"] for r in ok]
    exc = [r["excess_ms"] for r in ok]
    base = [r for r in groups.get((ver, ev, "ka-ka"), []) if "error" not in r]
    ratio = "-"
    rk = ra = None
    if base and ok:
        rk = median(kill) / median([r["kill_ms"] for r in base])
        ra = median(adv) / median([r["advert_ms"] for r in base])
        ratio = "%.2f / %.2f" % (rk, ra)
    proto = "VRRPv3 advert_int 0.1" if ver == "v3" else "VRRPv2 advert_int 1"
    errors = len(groups[k]) - len(ok)
    print("| %s | %s | %s | %d%s | %.1f | %s | %s | %s | %s |" % (
        proto, name(pair), ev, len(ok), (" (%d failed)" % errors) if errors else "", groups[k][0]["bound_ms"],
        mmm(kill), mmm(adv), mmm(exc), ratio))
    s = {"bench": "vrrp_takeover", "version": ver, "pair": pair, "master": NAMES[pair.split("-")[0]],
         "backup": NAMES[pair.split("-")[1]], "event": ev, "runs": len(ok), "failed_runs": errors,
         "bound_ms": groups[k][0]["bound_ms"]}
    for f, v in (("kill_ms", kill), ("advert_ms", adv), ("excess_ms", exc)):
        if v:
            s[f] = {"min": min(v), "median": median(v), "max": max(v)}
    if rk is not None:
        s["ratio_kill"], s["ratio_advert"] = rk, ra
    summary.append(s)
print()
print("Where kadp's time goes (ms, min / median / max; from the captures on its exception TAP):")
print()
print("| protocol | master -> backup | event | backup: rx path (wire -> TAP) | backup: timer (excess over the bound) | backup: tx path (TAP -> wire) | master: SIGTERM -> prio-0 on TAP | master: tx path |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for k in keys:
    ver, ev, pair = k
    if "kadp" not in pair:
        continue
    ok = [r for r in groups[k] if "error" not in r]
    col = lambda f: mmm([r[f] for r in ok if r.get(f) is not None])
    proto = "VRRPv3 advert_int 0.1" if ver == "v3" else "VRRPv2 advert_int 1"
    print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (proto, name(pair), ev, col("b_rx_ms"), col("b_timer_ms"),
          col("b_tx_ms"), col("m_stop_ms"), col("m_tx_ms")))
    s = next(x for x in summary if x["version"] == ver and x["pair"] == pair and x["event"] == ev)
    for f in ("b_rx_ms", "b_timer_ms", "b_tx_ms", "m_stop_ms", "m_tx_ms"):
        v = [r[f] for r in ok if r.get(f) is not None]
        if v:
            s[f] = {"min": min(v), "median": median(v), "max": max(v)}
if json_out:
    with open(json_out, "w") as f:
        for s in summary:
            f.write(json.dumps(s) + "\n")
sys.exit(1 if any("error" in r for r in results) else 0)
EOF

# --- run --------------------------------------------------------------------------
echo "vrrp_takeover: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r), $(keepalived --version 2>&1 | head -1)"
[ "$needs_kadp" = 1 ] && echo "vrrp_takeover: kadp $KADP ($(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "vrrp_takeover: master priority 200, backup 100; runs per event: v3 $runs_v3, v2 $runs_v2"
for ver in $versions; do
  runs=$runs_v3
  [ "$ver" = v2 ] && runs=$runs_v2
  for pair in $pairs; do
    session "$ver" "$pair" "$runs"
  done
done
echo
"$py" "$tmp/analyse.py" "$events_file" "$json_out"
rc=$?
echo "vrrp_takeover: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$failures" -eq 0 ] && [ "$rc" -eq 0 ]

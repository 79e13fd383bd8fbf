#!/usr/bin/env bash
# Data-plane launch: `kadp [EAL options] -- -f FILE` brings up EAL, ports and
# worker lcores and stops cleanly on SIGTERM; start-up failures give one
# clear "kadp: ..." line and a non-zero exit.
#
#   tests/scripts/dataplane_launch.sh          (as root for the af_packet case)
#
# Cases: (a) net_null port: start, SIGHUP (reload not implemented yet),
# SIGTERM -> exit 0 and "stopped"; (b) af_packet on a veth in a namespace of
# our own, with ARP traffic from the peer so RX is seen; (c) devices that do
# not exist (af_packet on a missing interface, a PCI address not given to
# EAL); (d) -l 0: no worker lcore; (e) -m 8: not enough memory for the mbuf
# pool; (f) a config with errors: exit 5 before EAL starts; (g) the kernel
# backend on a kernel without IPVS: one clear error, no EAL (the backend
# itself is tested against a real IPVS by kernel_ipvs_vm.sh); (h) two workers: a two-queue port spread over
# them, and a single-queue port whose TX ring the other worker uses.
#
# The cases that start kadp pass --no-exception-path: (a) and (h) run in the
# host's namespace, where kadp must not create TAPs (tests never touch the
# host's interfaces), and in (b) a TAP holding 198.18.0.1 would make the
# peer's datagrams local to its own namespace. exception_netns.sh tests the
# exception path.
#
# EAL options: --no-huge -m 512 --no-pci --file-prefix <unique> --no-telemetry.
# Not --in-memory: DPDK 22.11 refuses --no-huge together with --in-memory
# ("Option --legacy-mem is not compatible with --in-memory"), so each case
# uses its own --file-prefix and the runtime directory is removed on exit.
#
# Output: "PASS: case" / "FAIL: case why" (with kadp's log on a failure), then
# "COUNT passed failed skipped". Environment: KADP (default build/kadp).
set -uo pipefail
cd "$(dirname "$0")/../.."
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
[ -x "$KADP" ] || { echo "FAIL: no kadp binary at $KADP"; echo "COUNT 0 1 0"; exit 1; }

tag=kadp-launch-$$
tmp=$(mktemp -d /tmp/$tag.XXXXXX)
ns=$tag
pids=()
passed=0 failed=0 skipped=0

cleanup() {
  for p in "${pids[@]}"; do reap "$p"; done
  ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp" /var/run/dpdk/"$tag"-*
}
trap cleanup EXIT

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { [ -n "${pid:-}" ] && reap "$pid"; echo "FAIL: $1: $2"; sed 's/^/    | /' "$3" | grep -v '^    | *$' | tail -30; failed=$((failed + 1)); }
skip() { echo "SKIP: $1: $2"; skipped=$((skipped + 1)); }

eal() { echo "--no-huge -m ${2:-512} --no-pci --file-prefix $tag-$1 --no-telemetry -l ${3:-0,1}"; }

# A dataplane config with one interface per "name devargs [extra]" argument.
write_conf() {
  local file=$1; shift
  {
    echo "dataplane {"
    for spec in "$@"; do
      read -r name dev extra <<<"$spec"
      echo "    interface $name {"
      echo "        device \"$dev\""
      [ -n "$extra" ] && echo "        ${extra//;/$'\n'        }"
      echo "    }"
    done
    echo "    conn_table_size 4096"
    echo "}"
  } >"$file"
}

# Waits until `file` contains `pattern` or process `pid` is gone (up to 30 s).
wait_for() {
  local pid=$1 file=$2 pattern=$3
  for _ in $(seq 300); do
    grep -qs -- "$pattern" "$file" && return 0
    kill -0 "$pid" 2>/dev/null || { grep -qs -- "$pattern" "$file"; return; }
    sleep 0.1
  done
  return 1
}

# Sends `sig` and waits up to 10 s; sets rc to the exit status (or "timeout").
stop_with() {
  local pid=$1 sig=$2
  kill -"$sig" "$pid" 2>/dev/null
  for _ in $(seq 100); do
    if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; rc=$?; return; fi
    sleep 0.1
  done
  rc=timeout
}

# After a failed check: the process must not outlive its case.
reap() { kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# Runs kadp to completion for start-up failures (30 s cap); sets rc, log.
run_to_end() {
  local name=$1; shift
  log=$tmp/$name.log
  timeout 30 "$@" >"$log" 2>&1
  rc=$?
}

# Exactly one "kadp:" line, and it matches `pattern`.
one_clear_error() {
  local log=$1 pattern=$2
  [ "$(grep -c '^kadp: ' "$log")" -eq 1 ] && grep -q "^kadp: .*$pattern" "$log"
}

# --- (a) net_null: start, SIGHUP, SIGTERM ------------------------------------
case_a() {
  local c=a_net_null_start_stop log=$tmp/a.log
  write_conf "$tmp/a.conf" "lan net_null0 address 198.18.0.1/24"
  # shellcheck disable=SC2046
  "$KADP" $(eal a) -- -f "$tmp/a.conf" --control-socket "$tmp/a.sock" --no-exception-path >"$log" 2>&1 &
  pid=$!; pids+=("$pid")
  if ! wait_for "$pid" "$log" "kadp: running with"; then fail $c "did not start" "$log"; return; fi
  grep -q "^kadp: port lan (net_null0) up, 1 rx/1 tx queue, mac [0-9a-f:]\{17\}$" "$log" ||
    { fail $c "no port line" "$log"; return; }
  grep -q "^kadp: worker on lcore 1 polls lan q0; tx lan q0$" "$log" || { fail $c "no worker line" "$log"; return; }
  kill -HUP "$pid"
  # The file did not change: the reload is accepted and changes nothing.
  wait_for "$pid" "$log" "kadp: reload (SIGHUP): generation 2: no change" || { fail $c "SIGHUP reload not logged" "$log"; return; }
  kill -0 "$pid" 2>/dev/null || { fail $c "SIGHUP stopped kadp" "$log"; return; }
  stop_with "$pid" TERM
  [ "$rc" = 0 ] || { fail $c "SIGTERM: exit $rc" "$log"; return; }
  grep -q "^kadp: stopping (SIGTERM)$" "$log" && grep -q "^kadp: stopped$" "$log" ||
    { fail $c "no stopping/stopped lines" "$log"; return; }
  # net_null hands out zero-filled frames on every poll: the NAT pipeline
  # parses them as another ethertype and drops them.
  grep -Eq "^kadp: worker on lcore 1 stopped: rx [1-9][0-9]*," "$log" &&
    grep -Eq "^kadp: counters \(all workers\): .*drop_not_ip=[1-9]" "$log" ||
    { fail $c "no RX seen on net_null" "$log"; return; }
  pass $c
}

# --- (b) af_packet on a veth in our own namespace ----------------------------
case_b() {
  local c=b_af_packet_veth log=$tmp/b.log
  if [ "$(id -u)" -ne 0 ]; then skip $c "needs root for network namespaces"; return; fi
  local va=kl$$a vb=kl$$b
  if ! ip netns add "$ns" 2>"$log" ||
     ! ip -n "$ns" link add "$va" type veth peer name "$vb" 2>>"$log" ||
     ! ip -n "$ns" link set "$va" up 2>>"$log" || ! ip -n "$ns" link set "$vb" up 2>>"$log" ||
     ! ip -n "$ns" addr add 198.18.0.2/24 dev "$vb" 2>>"$log"; then
    skip $c "cannot create the namespace and veth pair"; return
  fi
  ip -n "$ns" link set lo up
  write_conf "$tmp/b.conf" "lan net_af_packet0,iface=$va address 198.18.0.1/24"
  # shellcheck disable=SC2046
  ip netns exec "$ns" "$KADP" $(eal b) -- -f "$tmp/b.conf" --control-socket "$tmp/b.sock" --no-exception-path >"$log" 2>&1 &
  pid=$!; pids+=("$pid")
  if ! wait_for "$pid" "$log" "kadp: running with"; then fail $c "did not start" "$log"; return; fi
  grep -q "^kadp: port lan (net_af_packet0,iface=$va) up, 1 rx/1 tx queue, mac " "$log" ||
    { fail $c "no port line" "$log"; return; }
  grep -q "^kadp: worker on lcore 1 polls lan q0" "$log" || { fail $c "no worker line" "$log"; return; }
  # The peer ARPs for 198.18.0.1 (a UDP datagram makes it ask): broadcasts
  # that reach the af_packet port. No ping needed.
  for _ in 1 2 3; do
    ip netns exec "$ns" bash -c 'echo kadp >/dev/udp/198.18.0.1/9' 2>/dev/null
    sleep 0.3
  done
  stop_with "$pid" TERM
  [ "$rc" = 0 ] || { fail $c "SIGTERM: exit $rc" "$log"; return; }
  grep -q "^kadp: stopped$" "$log" || { fail $c "no stopped line" "$log"; return; }
  grep -Eq "^kadp: worker on lcore 1 stopped: rx [1-9]" "$log" || { fail $c "ARP from the peer not received" "$log"; return; }
  pass $c
}

# --- (c) devices that do not exist -------------------------------------------
case_c() {
  local c=c_missing_device
  write_conf "$tmp/c1.conf" "lan net_af_packet0,iface=kadpnone$$"
  # shellcheck disable=SC2046
  run_to_end c1 "$KADP" $(eal c1) -- -f "$tmp/c1.conf" --control-socket "$tmp/c1.sock"
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || ! one_clear_error "$log" "interface lan (device \"net_af_packet0,iface=kadpnone$$\"): cannot attach the device"; then
    fail $c "af_packet on a missing interface: exit $rc" "$log"; return
  fi
  write_conf "$tmp/c2.conf" "lan 0000:7f:1f.7"
  # shellcheck disable=SC2046
  run_to_end c2 "$KADP" $(eal c2) -- -f "$tmp/c2.conf" --control-socket "$tmp/c2.sock"
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || ! one_clear_error "$log" "PCI device 0000:7f:1f.7 is not available to DPDK"; then
    fail $c "PCI address not given to EAL: exit $rc" "$log"; return
  fi
  write_conf "$tmp/c3.conf" "lan net_nosuchdriver0"
  # shellcheck disable=SC2046
  run_to_end c3 "$KADP" $(eal c3) -- -f "$tmp/c3.conf" --control-socket "$tmp/c3.sock"
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || ! one_clear_error "$log" "cannot attach the device"; then
    fail $c "unknown vdev driver: exit $rc" "$log"; return
  fi
  pass $c
}

# --- (d) no worker lcore ------------------------------------------------------
case_d() {
  local c=d_no_worker_lcore
  write_conf "$tmp/d.conf" "lan net_null0"
  # shellcheck disable=SC2046
  run_to_end d "$KADP" $(eal d 512 0) -- -f "$tmp/d.conf" --control-socket "$tmp/d.sock"
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || ! one_clear_error "$log" "no worker lcore"; then
    fail $c "exit $rc" "$log"; return
  fi
  pass $c
}

# --- (e) not enough memory ----------------------------------------------------
case_e() {
  local c=e_not_enough_memory
  write_conf "$tmp/e.conf" "lan net_null0"
  # shellcheck disable=SC2046
  run_to_end e "$KADP" $(eal e 8) -- -f "$tmp/e.conf" --control-socket "$tmp/e.sock"
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || ! one_clear_error "$log" "give EAL more memory"; then
    fail $c "exit $rc" "$log"; return
  fi
  pass $c
}

# --- (f) config errors: exit 5 before EAL ------------------------------------
case_f() {
  local c=f_config_errors
  printf 'dataplane {\n    interface lan {\n        address 198.18.0.1/24\n    }\n}\n' >"$tmp/f.conf"
  # shellcheck disable=SC2046
  run_to_end f "$KADP" $(eal f) -- -f "$tmp/f.conf" --control-socket "$tmp/f.sock"
  if [ "$rc" -ne 5 ] || ! grep -q "f.conf:2: error: " "$log" || grep -q "^EAL:" "$log"; then
    fail $c "exit $rc (want 5, diagnostics, no EAL)" "$log"; return
  fi
  pass $c
}

# --- (g) kernel backend -------------------------------------------------------
case_g() {
  local c=g_kernel_backend_without_ipvs
  if [ -e /proc/net/ip_vs ]; then skip $c "this kernel has IPVS"; return; fi
  write_conf "$tmp/g.conf" "lan net_null0"
  # A virtual server needs IPVS (VRRP and static addresses alone run without).
  printf 'virtual_server 198.18.0.100 80 {\n    protocol TCP\n    real_server 198.19.0.1 80 {\n    }\n}\n' >>"$tmp/g.conf"
  # shellcheck disable=SC2046
  run_to_end g "$KADP" $(eal g) --backend kernel -- -f "$tmp/g.conf" --control-socket "$tmp/g.sock"
  if [ "$rc" -ne 1 ] || ! one_clear_error "$log" "the kernel has no IPVS" || grep -q "^EAL:" "$log"; then
    fail $c "exit $rc" "$log"; return
  fi
  pass $c
}

# --- (h) two workers: spread queues and a TX ring ----------------------------
case_h() {
  local c=h_two_workers_queues_and_ring log=$tmp/h.log
  write_conf "$tmp/h.conf" "wan net_null0" "lan net_null1 rx_queues 1; tx_queues 1"
  # Three lcores on two CPUs: lcore 2 shares CPU 1 with lcore 1.
  # shellcheck disable=SC2046
  "$KADP" $(eal h 512 0,1 | sed 's/ -l 0,1$//') --lcores 0@0,1@1,2@1 -- -f "$tmp/h.conf" --control-socket "$tmp/h.sock" --no-exception-path >"$log" 2>&1 &
  pid=$!; pids+=("$pid")
  if ! wait_for "$pid" "$log" "kadp: running with 2 workers"; then fail $c "did not start" "$log"; return; fi
  grep -q "^kadp: port wan (net_null0) up, 2 rx/2 tx queues" "$log" || { fail $c "wan: not 2 queues" "$log"; return; }
  grep -q "^kadp: port lan (net_null1) up, 1 rx/1 tx queue, mac .*, tx ring" "$log" ||
    { fail $c "lan: no TX ring" "$log"; return; }
  grep -q "^kadp: worker on lcore 1 polls wan q0, lan q0; tx wan q0, lan q0; drains the tx ring of lan$" "$log" &&
    grep -q "^kadp: worker on lcore 2 polls wan q1; tx wan q1, lan via ring$" "$log" ||
    { fail $c "unexpected placement" "$log"; return; }
  stop_with "$pid" INT
  [ "$rc" = 0 ] && grep -q "^kadp: stopping (SIGINT)$" "$log" && grep -q "^kadp: stopped$" "$log" ||
    { fail $c "SIGINT: exit $rc" "$log"; return; }
  pass $c
}

case_a; case_b; case_c; case_d; case_e; case_f; case_g; case_h
echo "COUNT $passed $failed $skipped"
[ "$failed" -eq 0 ]

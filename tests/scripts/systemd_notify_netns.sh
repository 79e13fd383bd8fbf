#!/usr/bin/env bash
# systemd's notify protocol end to end (control/sd_notify.h,
# control/stuck_workers.h): kadp on the NAT topology (tests/lib/nat_topology.sh)
# with NOTIFY_SOCKET pointing at tests/tools/fake_systemd_notify.py, which
# plays systemd and probes the VIP the moment READY=1 arrives.
#
# Run 1 (WATCHDOG_USEC=400000, pings every 200 ms):
#   a. READY=1 arrives once, with STATUS= and MAINPID=, and the VIP answers
#      at that moment;
#   b. WATCHDOG=1 keeps arriving (3 more after READY);
#   c. SIGHUP: RELOADING=1 (with MONOTONIC_USEC=) then READY=1 again;
#   d. SIGTERM: STOPPING=1, and kadp exits 0.
# Run 2 (KADP_TEST_STALL_WORKER=4000:8000: the worker sleeps 8 s, 4 s after
# READY):
#   e0. before the stall a reload sets the dataplane block's
#      stuck_worker_timeout 3000 (default 1000): accepted, the change listed;
#   e. kadp logs "worker on lcore 1 stopped polling for N ms", N >= 3000 (the
#      reloaded threshold: with 1000 it would be logged before 2000 ms);
#   f. kadpctl status --json says workers_stuck 1, and the text status a
#      degraded line and "workers stuck 1";
#   g. no WATCHDOG=1 arrives while it is stuck (1.5 s = 7 periods);
#   h. the worker polls again: logged, workers_stuck 0, pings resume.
# Run 3 (--log-level warning, KADP_TEST_STALL_WORKER=500:4000):
#   i. the stuck worker's warning is logged, info lines ("running with",
#      the test's own "sleeps" line, "stopped") are not.
# Run 4 (--backend kernel, no virtual servers: this host may have no IPVS):
#   j. READY=1 (kernel status), WATCHDOG=1 twice, RELOADING=1 then READY=1 on
#      SIGHUP, STOPPING=1 on SIGTERM, exit 0.
#
# Needs root, nginx, curl, ethtool, python3. Exit 0 pass, 77 skip, else fail;
# last line "COUNT passed failed skipped". Environment: KADP, KADPCTL.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
KADPCTL=${KADPCTL:-${KADP_BUILD:-build}/kadpctl}

. tests/lib/nat_topology.sh
nat_topo_test_start "$KADP"
command -v python3 >/dev/null || { echo "SKIP: no python3"; echo "COUNT 0 0 1"; exit 77; }
[ -x "$KADPCTL" ] || { echo "FAIL: no kadpctl binary at $KADPCTL"; echo "COUNT 0 1 0"; exit 1; }

LISTENER_PID=
stop_listener() {
  [ -n "$LISTENER_PID" ] && { kill -TERM "$LISTENER_PID" 2>/dev/null; wait "$LISTENER_PID" 2>/dev/null; }
  LISTENER_PID=
}
trap 'stop_listener; nat_topo_cleanup' EXIT

if ! nat_topo_setup "kadp-sdn-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR
{ nat_topo_dataplane af_packet; nat_topo_service rr 1 1 1; } >"$tmp/kadp.conf"

# start_listener OUT: the fake systemd at $tmp/notify.sock, writing to OUT.
start_listener() {
  : >"$1"
  python3 tests/tools/fake_systemd_notify.py "$tmp/notify.sock" "$1" "$NT_NS_C" http://198.18.0.100/ &
  LISTENER_PID=$!
  for _ in $(seq 50); do grep -qs LISTENING "$1" && return 0; sleep 0.1; done
  return 1
}
# wait_for PATTERN FILE [TENTHS]: until a line of FILE matches (grep -E).
wait_for() {
  for _ in $(seq "${3:-100}"); do grep -Eqs "$1" "$2" && return 0; sleep 0.1; done
  return 1
}
pings() { grep -c '^MSG WATCHDOG=1$' "$1"; }
nctl() { "$KADPCTL" -s "$NT_KADP_SOCK" "$@"; }
stuck_count() { nctl status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["workers_stuck"])'; }

# --- run 1: ready, watchdog, reload, stop -------------------------------------------
out=$tmp/notify1.log
log=$tmp/kadp1.log
start_listener "$out" || { echo "FAIL: the fake systemd does not listen"; echo "COUNT 0 1 0"; exit 1; }
if ! NOTIFY_SOCKET=$tmp/notify.sock WATCHDOG_USEC=400000 nat_topo_kadp_start "$tmp/kadp.conf" "$log" one; then
  fail kadp_start "kadp did not start" "$log"
else
  # a.
  if wait_for '^VIP_AT_READY' "$out" 150 && grep -q '^VIP_AT_READY ok$' "$out" &&
     [ "$(grep -c '^MSG READY=1|STATUS=serving 1 virtual service, generation 1|MAINPID=[0-9]*$' "$out")" = 1 ]; then
    pass a_ready_when_vip_answers
  else
    fail a_ready_when_vip_answers "no READY=1, or the VIP did not answer then" "$out"
  fi
  # b. three pings after READY
  n0=$(pings "$out")
  ok=
  for _ in $(seq 100); do [ "$(pings "$out")" -ge $((n0 + 3)) ] && { ok=1; break; }; sleep 0.1; done
  if [ -n "$ok" ]; then pass b_watchdog_pings; else fail b_watchdog_pings "$(pings "$out") pings" "$out"; fi
  # c.
  kill -HUP "$NT_KADP_PID"
  ok=
  for _ in $(seq 100); do
    sed -n '/^MSG RELOADING=1/,$p' "$out" | grep -Eq '^MSG READY=1\|STATUS=serving 1 virtual service, generation [0-9]+\|' &&
      { ok=1; break; }
    sleep 0.1
  done
  if [ -n "$ok" ] && grep -Eq '^MSG RELOADING=1\|STATUS=reloading\|MONOTONIC_USEC=[0-9]+$' "$out"; then
    pass c_reloading_then_ready
  else
    fail c_reloading_then_ready "no RELOADING=1 then READY=1" "$out"
  fi
  # d.
  if nat_topo_kadp_stop && wait_for '^MSG STOPPING=1\|STATUS=stopping \(SIGTERM\)$' "$out" 30; then
    pass d_stopping
  else
    fail d_stopping "no STOPPING=1 or exit status not 0" "$out"
  fi
fi
stop_listener

# --- run 2: a stuck worker ----------------------------------------------------------
out=$tmp/notify2.log
log=$tmp/kadp2.log
start_listener "$out" || { echo "FAIL: the fake systemd does not listen"; echo "COUNT $passed $((failed + 1)) $skipped"; exit 1; }
cp "$tmp/kadp.conf" "$tmp/kadp2.conf"
if ! KADP_TEST_STALL_WORKER=4000:8000 NOTIFY_SOCKET=$tmp/notify.sock WATCHDOG_USEC=400000 \
     nat_topo_kadp_start "$tmp/kadp2.conf" "$log" two; then
  fail kadp_start_2 "kadp did not start" "$log"
else
  # e0.
  sed -i 's/^    conn_table_size /    stuck_worker_timeout 3000\n&/' "$tmp/kadp2.conf"
  r=$(nctl reload 2>&1)
  if echo "$r" | grep -q '^reload accepted' && echo "$r" | grep -q '^  stuck_worker_timeout 1000 -> 3000 ms$'; then
    pass e0_reload_sets_stuck_worker_timeout
  else
    fail e0_reload_sets_stuck_worker_timeout "reply: $r" "$log"
  fi
  # e.
  if wait_for '^kadp: worker on lcore 1 stopped polling for [0-9]+ ms$' "$log" 150; then
    n=$(grep -Eo 'stopped polling for [0-9]+ ms' "$log" | head -1 | grep -Eo '[0-9]+')
    if [ "$n" -ge 3000 ]; then pass e_stuck_logged; else fail e_stuck_logged "after $n ms, threshold 3000" "$log"; fi
  else
    fail e_stuck_logged "no log line" "$log"
  fi
  # f. (the detection runs before the ping it withholds: wait a little for
  # a ping already in flight to be written)
  s=$(stuck_count)
  text=$(nctl status)
  if [ "$s" = 1 ] && echo "$text" | grep -q '^degraded: worker on lcore 1 stopped polling' &&
     echo "$text" | grep -q '^workers stuck 1$'; then
    pass f_status_workers_stuck
  else
    fail f_status_workers_stuck "workers_stuck '$s'" "$log"
  fi
  sleep 0.3
  # g.
  n1=$(pings "$out")
  sleep 1.5
  n2=$(pings "$out")
  s=$(stuck_count)
  if [ "$s" = 1 ] && [ "$n1" = "$n2" ] && [ "$n1" -ge 1 ]; then
    pass g_no_pings_while_stuck
  else
    fail g_no_pings_while_stuck "pings $n1 -> $n2, workers_stuck '$s'" "$out"
  fi
  # h.
  if wait_for '^kadp: worker on lcore 1 polls again after [0-9]+ ms$' "$log" 150 && [ "$(stuck_count)" = 0 ]; then
    ok=
    for _ in $(seq 50); do [ "$(pings "$out")" -gt "$n2" ] && { ok=1; break; }; sleep 0.1; done
    if [ -n "$ok" ]; then pass h_recovered; else fail h_recovered "pings did not resume" "$out"; fi
  else
    fail h_recovered "no 'polls again' or still stuck" "$log"
  fi
  if [ "$(grep -c 'stopped polling for' "$log")" != 1 ]; then fail e_once "logged $(grep -c 'stopped polling for' "$log") times" "$log"; fi
  nat_topo_kadp_stop || fail stop_2 "exit status" "$log"
fi
stop_listener

# --- run 3: --log-level warning ---------------------------------------------------
out=$tmp/notify3.log
log=$tmp/kadp3.log
if start_listener "$out"; then
  NT_KADP_SOCK=$tmp/kadp-three.sock
  KADP_TEST_STALL_WORKER=500:4000 NOTIFY_SOCKET=$tmp/notify.sock ip netns exec "$NT_NS_LB" "$NT_KADP" \
    -l 0,1 --no-huge -m 512 --no-pci --no-telemetry --file-prefix "$NT_PREFIX-three" -- -f "$tmp/kadp.conf" \
    --control-socket "$NT_KADP_SOCK" --log-level warning >"$log" 2>&1 &
  NT_KADP_PID=$!
  step=ready
  wait_for '^MSG READY=1' "$out" 300 && step=stuck &&
    wait_for '^kadp: worker on lcore 1 stopped polling for [0-9]+ ms$' "$log" 100 && step=recovered &&
    wait_for '^kadp: worker on lcore 1 polls again' "$log" 100 && step=stop &&
    nat_topo_kadp_stop && step=info_lines &&
    ! grep -Eq '^kadp: (running with|test: the worker|stopped$|services:)' "$log" && step=
  if [ -z "$step" ]; then
    pass i_log_level_warning
  else
    sed 's/^/notify: /' "$out" >>"$log"
    fail i_log_level_warning "failed at: $step" "$log"
  fi
  stop_listener
else
  fail i_log_level_warning "the fake systemd does not listen"
fi

# --- run 4: the kernel backend ----------------------------------------------------
out=$tmp/notify4.log
log=$tmp/kadp4.log
printf 'global_defs {\n    router_id kadp-sdn\n}\n' >"$tmp/kernel.conf"
if start_listener "$out"; then
  NOTIFY_SOCKET=$tmp/notify.sock WATCHDOG_USEC=400000 ip netns exec "$NT_NS_LB" "$NT_KADP" --backend kernel \
    -f "$tmp/kernel.conf" --control-socket "$tmp/kadp-four.sock" >"$log" 2>&1 &
  NT_KADP_PID=$!
  ok=
  if wait_for '^MSG READY=1\|STATUS=serving \(kernel IPVS backend\)\|MAINPID=' "$out" 100; then
    for _ in $(seq 50); do [ "$(pings "$out")" -ge 2 ] && { ok=1; break; }; sleep 0.1; done
  fi
  if [ -n "$ok" ]; then
    kill -HUP "$NT_KADP_PID"
    ok=
    for _ in $(seq 100); do
      sed -n '/^MSG RELOADING=1/,$p' "$out" | grep -q '^MSG READY=1|STATUS=serving (kernel IPVS backend)' && { ok=1; break; }
      sleep 0.1
    done
  fi
  if [ -n "$ok" ] && nat_topo_kadp_stop && wait_for '^MSG STOPPING=1\|STATUS=stopping \(SIGTERM\)$' "$out" 30; then
    pass j_kernel_backend
  else
    sed 's/^/log: /' "$log" >>"$out"
    fail j_kernel_backend "READY, pings, RELOADING/READY or STOPPING missing" "$out"
  fi
  stop_listener
else
  fail j_kernel_backend "the fake systemd does not listen"
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

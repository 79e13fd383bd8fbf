#!/usr/bin/env bash
# Logging as an operator expects (docs/logging.md), on the NAT topology
# (tests/lib/nat_topology.sh): levels filter, debug lines exist, and floods
# give a bounded number of lines.
#
# kadp serves 198.18.0.100:80 (three nginx) and 198.18.0.100:81 whose only
# real server 198.19.0.1:81 has a MISC_CHECK running /bin/false every 0.1 s
# with log_all_failures (each failed attempt would be logged).
#
# Run 1 (default level, info), ~4 s:
#   a. the failing MISC_CHECK's attempt lines ("Misc check for [/bin/false]
#      ...") are at most 5 (the limiter's budget per minute) though ~40
#      attempts failed (run 2 shows the attempts);
#   b. 200 control-socket clients at once, each sending garbage and holding
#      on: at most 5 "clients at once, refusing more" lines; kadp answers
#      kadpctl status afterwards;
#   c. no debug line ("attempt failed in") at the default level.
# Run 2 (-D, keepalived's --log-detail, that is --log-level debug):
#   d. the checker's attempt line "MISC_CHECK of [198.19.0.1]:tcp:81:
#      attempt failed in N ms: ..." and the script run's end "...: pid N
#      exited with status 1 in N ms" are there, many times (debug lines are
#      not limited).
# Run 3 (--log-level warning):
#   e. the flood of (b) again: its warning line is there; none of the info
#      lines (running with, Activating healthchecker, control socket, Removing
#      service, the MISC_CHECK's failure lines).
#
# Needs root, nginx, curl, ethtool, /usr/bin/python3. Exit 0 pass, 77 skip,
# else fail; the last line is "COUNT passed failed skipped". Environment:
# KADP, KADPCTL.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
KADPCTL=${KADPCTL:-${KADP_BUILD:-build}/kadpctl}
PY=/usr/bin/python3

. tests/lib/nat_topology.sh
nat_topo_test_start "$KADP"
[ -x "$KADPCTL" ] || { echo "FAIL: no kadpctl binary at $KADPCTL"; echo "COUNT 0 1 0"; exit 1; }
[ -x "$PY" ] || { echo "SKIP: no $PY"; echo "COUNT 0 0 1"; exit 77; }

if ! nat_topo_setup "kadp-lg-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR
conf=$tmp/kadp.conf
{
  nat_topo_dataplane af_packet
  nat_topo_service rr 1 1 1
  cat <<'EOF'
virtual_server 198.18.0.100 81 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    delay_loop 0.1
    real_server 198.19.0.1 81 {
        MISC_CHECK {
            misc_path "/bin/false"
            misc_timeout 1
            log_all_failures
        }
    }
}
EOF
} >"$conf"

# flood SOCKET: 200 clients at once, each sends garbage without a newline
# and holds on for 2 s.
cat >"$tmp/flood.py" <<'EOF'
import socket, sys, time
held = []
for _ in range(200):
    # A full listen backlog refuses at once (EAGAIN): a few tries each.
    for _ in range(50):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(sys.argv[1])
            s.send(b"\x00garbage{{{")
            held.append(s)
            break
        except OSError:
            s.close()
            time.sleep(0.01)
time.sleep(2)
print(len(held))
EOF
ctl() { timeout 3 "$KADPCTL" -s "$NT_KADP_SOCK" "$@"; }
count() { grep -c -- "$1" "$2"; }

# --- run 1: info -------------------------------------------------------------------
log=$tmp/kadp-info.log
if ! nat_topo_kadp_start "$conf" "$log" info; then
  fail kadp_start "kadp did not start" "$log"
  echo "COUNT $passed $failed $skipped"; exit 1
fi
sleep 4

"$PY" "$tmp/flood.py" "$NT_KADP_SOCK" >"$tmp/flood1.out" 2>&1
ctl status >/dev/null 2>&1; status_rc=$?
nat_topo_kadp_stop || fail stop_1 "kadp did not stop cleanly" "$log"
attempts=$(count 'Misc check for \[/bin/false\]' "$log")
if [ "$attempts" -ge 1 ] && [ "$attempts" -le 5 ]; then
  pass "a_failing_check_limited: $attempts attempt lines in ~4 s at delay_loop 0.1"
else
  fail a_failing_check_limited "$attempts attempt lines" "$log"
fi
busy=$(count 'control socket: [0-9]* clients at once, refusing more' "$log")
if [ "$busy" -ge 1 ] && [ "$busy" -le 5 ] && [ "$status_rc" = 0 ]; then
  pass "b_client_flood_limited: $busy busy lines for 200 clients ($(cat "$tmp/flood1.out") connected), status answers"
else
  fail b_client_flood_limited "$busy busy lines, status rc $status_rc, flood: $(cat "$tmp/flood1.out")" "$log"
fi
if ! grep -q 'attempt failed in' "$log"; then pass c_no_debug_at_info; else fail c_no_debug_at_info "debug lines at info" "$log"; fi

# --- run 2: debug ------------------------------------------------------------------
log=$tmp/kadp-debug.log
NT_KADP_OPTS="-D"  # keepalived's --log-detail: --log-level debug
if nat_topo_kadp_start "$conf" "$log" debug; then
  sleep 2
  nat_topo_kadp_stop || fail stop_2 "kadp did not stop cleanly" "$log"
  tries=$(count '^kadp: MISC_CHECK of \[198.19.0.1\]:tcp:81: attempt failed in [0-9]* ms: Misc check for \[/bin/false\] exited with status 1\.$' "$log")
  ends=$(count '^kadp: MISC_CHECK of \[198.19.0.1\]:tcp:81: pid [0-9]* exited with status 1 in [0-9]* ms$' "$log")
  if [ "$tries" -gt 5 ] && [ "$ends" -gt 5 ]; then
    pass "d_debug_lines: $tries attempt lines, $ends script-run lines in ~2 s"
  else
    fail d_debug_lines "$tries attempt lines, $ends script-run lines" "$log"
  fi
else
  fail d_debug_lines "kadp did not start" "$log"
fi
NT_KADP_OPTS=

# --- run 3: warning ----------------------------------------------------------------
# nat_topo_kadp_start waits for an info line: started by hand, ready once
# kadpctl status answers.
log=$tmp/kadp-warning.log
NT_KADP_SOCK=$tmp/kadp-warning.sock
ip netns exec "$NT_NS_LB" "$NT_KADP" -l 0,1 --no-huge -m 512 --no-pci --no-telemetry \
  --file-prefix "$NT_PREFIX-warning" -- -f "$conf" --control-socket "$NT_KADP_SOCK" --log-level warning >"$log" 2>&1 &
NT_KADP_PID=$!
up=
for _ in $(seq 300); do
  ctl status >/dev/null 2>&1 && { up=1; break; }
  kill -0 "$NT_KADP_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -n "$up" ]; then
  sleep 1
  "$PY" "$tmp/flood.py" "$NT_KADP_SOCK" >"$tmp/flood3.out" 2>&1
  nat_topo_kadp_stop || fail stop_3 "kadp did not stop cleanly" "$log"
  if grep -q 'control socket: [0-9]* clients at once, refusing more' "$log" &&
     ! grep -Eq '^kadp: (running with|Activating healthchecker|control socket /|Removing service|Misc check for|MISC_CHECK on service|stopped$)' "$log"; then
    pass e_warning_level_keeps_only_warnings
  else
    fail e_warning_level_keeps_only_warnings "info lines present or the warning missing" "$log"
  fi
else
  fail e_warning_level_keeps_only_warnings "kadp did not answer" "$log"
  nat_topo_kadp_stop
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

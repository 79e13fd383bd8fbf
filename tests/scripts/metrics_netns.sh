#!/usr/bin/env bash
# Prometheus metrics end to end (docs/metrics.md), on the NAT topology
# (tests/lib/nat_topology.sh): kadp on two af_packet veths, three nginx
# behind a bridge, VIP 198.18.0.100:80/tcp rr.
#
# Cases: (a) without a metrics block nothing listens on TCP in kadp's
# namespace; (b) `kadp -t` rejects a bad port with file:line; with `metrics
# { listen 127.0.0.1 PORT }`: (c) GET /metrics is 200 text/plain
# version=0.0.4 and every line parses as the exposition format; after N
# requests through the VIP the deltas of (d) the service's connections == N,
# (e) each real server's connections == N/3 (rr) and its packets in > 0,
# (f) worker outcomes conn_new == N (summed and per worker) and nat_in >= N; (g) the connection
# table's capacity is the configured size; (h) /nope is 404; (i) a slow
# client holding a half request and (j) a client sending garbage do not stop
# a scrape, and kadp keeps running; (k) a reload that moves the listener is
# rejected (needs a restart) and the old port keeps serving; (l) the kernel
# backend (VRRP only, in the client namespace once the DPDK kadp stopped)
# exports the same names: kadp_info backend="kernel", its instance MASTER
# in kadp_vrrp_state and its priority; (m) kadp_real_server_up shows a
# TCP_CHECK verdict alive and one down; (n) a second kadp whose metrics
# port is taken stops at start-up with the reason; (o) the per-checker
# families: nginx 1 stopped, its TCP_CHECK shows up 0, last result
# connect_error, failures counted, a transition time; restarted, up 1 and
# ok again.
#
# Needs root, nginx, curl, ethtool. Exit 0 pass, 77 skip, else fail; the
# last line is "COUNT passed failed skipped".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
KADPCTL=${KADPCTL:-${KADP_BUILD:-build}/kadpctl}

. tests/lib/nat_topology.sh
nat_topo_test_start "$KADP"
[ -x "$KADPCTL" ] || { echo "FAIL: no kadpctl binary at $KADPCTL"; echo "COUNT 0 1 0"; exit 1; }

if ! nat_topo_setup "kadp-mt-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR
MPORT=9115
N=9
SVC='vip="198.18.0.100",port="80",protocol="TCP"'

get() { nat_topo_client curl -s --max-time 5 "$@"; }
lb() { nat_topo_in_ns "$NT_NS_LB" "$@"; }
scrape() { lb curl -s --max-time 5 "http://127.0.0.1:$MPORT${1:-/metrics}"; }
# value NAME_WITH_LABELS FILE: the sample's value, or "none".
value() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "none" }' "$2"; }
warm_up() {
  for _ in $(seq 10); do get -o /dev/null http://198.18.0.100/ && return 0; sleep 0.3; done
  return 1
}

# --- (a) off by default ---------------------------------------------------------
{ nat_topo_dataplane af_packet; nat_topo_service rr 1 1 1; } >"$tmp/off.conf"
log=$tmp/kadp-off.log
if ! nat_topo_kadp_start "$tmp/off.conf" "$log" off; then
  fail a_off_by_default "kadp did not start" "$log"
else
  listeners=$(lb ss -Hltn | wc -l)
  if [ "$listeners" = 0 ] && ! grep -q "metrics on" "$log"; then pass a_off_by_default; else fail a_off_by_default "$listeners TCP listeners: $(lb ss -Hltn)" "$log"; fi
  nat_topo_kadp_stop || fail a_stop "kadp did not stop cleanly" "$log"
fi

# --- (b) kadp -t -----------------------------------------------------------------
{ nat_topo_dataplane af_packet; nat_topo_service rr 1 1 1; printf 'metrics {\n    listen 127.0.0.1 65536\n}\n'; } >"$tmp/bad.conf"
line=$(grep -n "listen 127.0.0.1 65536" "$tmp/bad.conf" | cut -d: -f1)
out=$("$KADP" -t -f "$tmp/bad.conf" 2>&1); rc=$?
if [ "$rc" = 5 ] && echo "$out" | grep -q "^$tmp/bad.conf:$line: error: listen: '65536' is not a whole number from 1 to 65535"; then
  pass b_config_test_bad_port
else
  fail b_config_test_bad_port "rc $rc: $out"
fi

# --- metrics on -------------------------------------------------------------------
# 8080: two TCP_CHECKed real servers, one alive (nginx on 80), one not
# (nothing on 81): their verdicts in kadp_real_server_up.
checked() {
  printf 'virtual_server 198.18.0.100 8080 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    delay_loop 1\n'
  printf '    real_server 198.19.0.%s %s {\n        TCP_CHECK {\n            connect_timeout 1\n            retry 1\n            delay_before_retry 1\n        }\n    }\n' 1 80 2 81
  printf '}\n'
}
{ nat_topo_dataplane af_packet; nat_topo_service rr 1 1 1; checked; printf 'metrics {\n    listen 127.0.0.1 %s\n}\n' "$MPORT"; } >"$tmp/on.conf"
log=$tmp/kadp-on.log
if ! nat_topo_kadp_start "$tmp/on.conf" "$log" on; then
  fail kadp_start "kadp did not start" "$log"
elif ! warm_up; then
  fail warm_up "no answer through the VIP" "$log"
else
  # (c) headers and format
  lb curl -s --max-time 5 -D "$tmp/hdr" -o "$tmp/m0" "http://127.0.0.1:$MPORT/metrics"
  bad=$(grep -cvE '^(# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge)|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? -?[0-9]+(\.[0-9]+)?)$' "$tmp/m0")
  if grep -q '^HTTP/1.1 200 OK' "$tmp/hdr" && grep -qi '^Content-Type: text/plain; version=0.0.4' "$tmp/hdr" &&
     [ "$bad" = 0 ] && [ -s "$tmp/m0" ]; then
    pass c_scrape_format
  else
    fail c_scrape_format "$bad bad lines; headers: $(tr -d '\r' <"$tmp/hdr" | tr '\n' ' ')" "$tmp/m0"
  fi
  for i in $(seq "$N"); do get -o /dev/null http://198.18.0.100/ || echo "request $i failed" >>"$tmp/errors"; done
  scrape >"$tmp/m1"
  c0=$(value "kadp_service_connections_total{$SVC}" "$tmp/m0")
  c1=$(value "kadp_service_connections_total{$SVC}" "$tmp/m1")
  if [ ! -s "$tmp/errors" ] && [ "$c0" != none ] && [ "$((c1 - c0))" = "$N" ]; then
    pass d_service_connections_delta_N
  else
    fail d_service_connections_delta_N "before $c0 after $c1; $(cat "$tmp/errors" 2>/dev/null)" "$tmp/m1"
  fi
  ok=1 why=
  for i in 1 2 3; do
    rs="$SVC,real_server=\"198.19.0.$i\",real_port=\"80\""
    r0=$(value "kadp_real_server_connections_total{$rs}" "$tmp/m0")
    r1=$(value "kadp_real_server_connections_total{$rs}" "$tmp/m1")
    p0=$(value "kadp_real_server_packets_total{$rs,direction=\"in\"}" "$tmp/m0")
    p1=$(value "kadp_real_server_packets_total{$rs,direction=\"in\"}" "$tmp/m1")
    w=$(value "kadp_real_server_weight{$rs}" "$tmp/m1")
    if [ "$r1" = none ] || [ "$((r1 - r0))" != $((N / 3)) ] || [ "$((p1 - p0))" -le 0 ] || [ "$w" != 1 ]; then
      ok= why="$why 198.19.0.$i: conns $r0->$r1 packets in $p0->$p1 weight $w;"
    fi
  done
  if [ -n "$ok" ]; then pass e_real_server_counters; else fail e_real_server_counters "$why" "$tmp/m1"; fi
  n0=$(value 'kadp_dataplane_events_total{counter="conn_new"}' "$tmp/m0")
  n1=$(value 'kadp_dataplane_events_total{counter="conn_new"}' "$tmp/m1")
  x0=$(value 'kadp_dataplane_events_total{counter="nat_in"}' "$tmp/m0")
  x1=$(value 'kadp_dataplane_events_total{counter="nat_in"}' "$tmp/m1")
  # the per-worker split adds up to the same
  w0=$(awk '/^kadp_worker_events_total\{worker="[0-9]+",counter="conn_new"\} / { s += $2; f = 1 } END { print f ? s : "none" }' "$tmp/m0")
  w1=$(awk '/^kadp_worker_events_total\{worker="[0-9]+",counter="conn_new"\} / { s += $2; f = 1 } END { print f ? s : "none" }' "$tmp/m1")
  if [ "$n1" != none ] && [ "$((n1 - n0))" = "$N" ] && [ "$((x1 - x0))" -ge "$N" ] &&
     [ "$w1" != none ] && [ "$((w1 - w0))" = "$N" ]; then
    pass f_worker_outcomes
  else
    fail f_worker_outcomes "conn_new $n0->$n1 (per worker $w0->$w1) nat_in $x0->$x1" "$tmp/m1"
  fi
  cap=$(value kadp_conn_table_capacity "$tmp/m1")
  if [ "$cap" = 65536 ]; then pass g_conn_table_capacity; else fail g_conn_table_capacity "got $cap"; fi
  # (m) the checkers' verdicts (the failing one needs a few seconds)
  UP='kadp_real_server_up{vip="198.18.0.100",port="8080",protocol="TCP",real_server='
  for _ in $(seq 100); do
    scrape >"$tmp/m2"
    [ "$(value "${UP}\"198.19.0.2\",real_port=\"81\"}" "$tmp/m2")" = 0 ] && break
    sleep 0.2
  done
  u1=$(value "${UP}\"198.19.0.1\",real_port=\"80\"}" "$tmp/m2")
  u2=$(value "${UP}\"198.19.0.2\",real_port=\"81\"}" "$tmp/m2")
  u3=$(value "kadp_real_server_up{$SVC,real_server=\"198.19.0.3\",real_port=\"80\"}" "$tmp/m2")
  if [ "$u1" = 1 ] && [ "$u2" = 0 ] && [ "$u3" = 1 ]; then
    pass m_checker_verdicts
  else
    fail m_checker_verdicts "up: .1:80=$u1 .2:81=$u2 (rr service .3:80=$u3)" "$log"
  fi
  # (h)
  code=$(lb curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/nope")
  if [ "$code" = 404 ]; then pass h_nope_404; else fail h_nope_404 "got $code"; fi
  # (i) a slow client: half a request line, then silence (killed by PID below)
  lb bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT; printf 'GET /met' >&3; sleep 30" &
  slow=$!
  NT_PIDS+=("$slow")
  sleep 0.5
  code=$(lb curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics")
  if [ "$code" = 200 ]; then pass i_slow_client; else fail i_slow_client "scrape got $code" "$log"; fi
  kill "$slow" 2>/dev/null; wait "$slow" 2>/dev/null
  # (j) garbage: 64 KiB of random bytes, then a scrape
  head -c 65536 /dev/urandom >"$tmp/garbage"
  lb timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT; cat '$tmp/garbage' >&3 2>/dev/null; cat <&3 >'$tmp/garbage.reply'"
  code=$(lb curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics")
  if [ "$code" = 200 ] && kill -0 "$NT_KADP_PID" 2>/dev/null && grep -qa '^HTTP/1.1 4[03][01] ' "$tmp/garbage.reply"; then
    pass j_garbage_client
  else
    fail j_garbage_client "scrape got $code; reply to garbage: $(head -c 80 "$tmp/garbage.reply" 2>/dev/null | tr -d '\r')" "$log"
  fi
  # (k) the listener is bound once: moving it is a restart, the reload is refused
  sed -i "s/listen 127.0.0.1 $MPORT/listen 127.0.0.1 $((MPORT + 1))/" "$tmp/on.conf"
  out=$("$KADPCTL" -s "$NT_KADP_SOCK" reload 2>&1); rc=$?
  code=$(lb curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics")
  if [ "$rc" != 0 ] && echo "$out" | grep -q "metrics listen 127.0.0.1 $MPORT -> listen 127.0.0.1 $((MPORT + 1)) needs a restart" &&
     [ "$code" = 200 ] && [ "$(lb ss -Hltn "sport = :$((MPORT + 1))" | wc -l)" = 0 ]; then
    pass k_reload_move_rejected
  else
    fail k_reload_move_rejected "rc $rc, scrape $code: $out" "$log"
  fi
  # (o) per-checker state: stop nginx 1, its TCP_CHECK on 8080 goes down
  # with a connect_error; start it again, the checker is back up with ok
  CHK="vip=\"198.18.0.100\",port=\"8080\",protocol=\"TCP\",real_server=\"198.19.0.1\",real_port=\"80\",checker=\"TCP_CHECK\",target=\"[198.19.0.1]:tcp:80\""
  # wait_checker UP FILE: scrapes into FILE until the checker's up is UP (20 s)
  wait_checker() {
    for _ in $(seq 100); do
      scrape >"$2"
      [ "$(value "kadp_checker_up{$CHK}" "$2")" = "$1" ] && return 0
      sleep 0.2
    done
    return 1
  }
  ok0=$(value "kadp_checker_last_result{$CHK,result=\"ok\"}" "$tmp/m2")
  up0=$(value "kadp_checker_up{$CHK}" "$tmp/m2")
  f0=$(value "kadp_checker_failures_total{$CHK}" "$tmp/m2")
  ngx=$(cat "$tmp/srv1/nginx.pid" 2>/dev/null)
  [ -n "$ngx" ] && kill -TERM "$ngx" 2>/dev/null
  for _ in $(seq 50); do
    nat_topo_in_ns "${NT_NS_S[0]}" ss -Hltn 2>/dev/null | grep -q '198.19.0.1:80' || break
    sleep 0.1
  done
  if wait_checker 0 "$tmp/m3"; then down=1; else down=; fi
  ce=$(value "kadp_checker_last_result{$CHK,result=\"connect_error\"}" "$tmp/m3")
  ok3=$(value "kadp_checker_last_result{$CHK,result=\"ok\"}" "$tmp/m3")
  f3=$(value "kadp_checker_failures_total{$CHK}" "$tmp/m3")
  cf3=$(value "kadp_checker_consecutive_failures{$CHK}" "$tmp/m3")
  tr3=$(value "kadp_checker_last_transition_timestamp_seconds{$CHK}" "$tmp/m3")
  rsu3=$(value "${UP}\"198.19.0.1\",real_port=\"80\"}" "$tmp/m3")
  lat3=$(value "kadp_checker_last_latency_seconds{$CHK}" "$tmp/m3")
  if [ "$up0" = 1 ] && [ "$ok0" = 1 ] && [ "$f0" = 0 ] && [ -n "$down" ] && [ "$ce" = 1 ] && [ "$ok3" = 0 ] &&
     [ "$f3" != none ] && [ "$f3" -ge 2 ] && [ "$cf3" != none ] && [ "$cf3" -ge 2 ] && [ "$rsu3" = 0 ] &&
     [ "$tr3" != none ] && [ "$tr3" -gt 1000000000 ] && [ "$lat3" != none ]; then
    pass o_checker_down_connect_error
  else
    fail o_checker_down_connect_error "before: up $up0 ok $ok0 failures $f0; stopped: down=$down connect_error $ce ok $ok3 failures $f3 consecutive $cf3 transition $tr3 rs_up $rsu3 latency $lat3" "$tmp/m3"
  fi
  # Started as nat_topology.sh does (not through a function: $! is nginx).
  ip netns exec "${NT_NS_S[0]}" nginx -c "$tmp/srv1/nginx.conf" -e "$tmp/srv1/error.log" >>"$tmp/srv1/stdout.log" 2>&1 &
  NT_PIDS+=($!)
  if wait_checker 1 "$tmp/m4"; then back=1; else back=; fi
  ok4=$(value "kadp_checker_last_result{$CHK,result=\"ok\"}" "$tmp/m4")
  ce4=$(value "kadp_checker_last_result{$CHK,result=\"connect_error\"}" "$tmp/m4")
  f4=$(value "kadp_checker_failures_total{$CHK}" "$tmp/m4")
  cf4=$(value "kadp_checker_consecutive_failures{$CHK}" "$tmp/m4")
  rsu4=$(value "${UP}\"198.19.0.1\",real_port=\"80\"}" "$tmp/m4")
  if [ -n "$back" ] && [ "$ok4" = 1 ] && [ "$ce4" = 0 ] && [ "$cf4" = 0 ] && [ "$f4" != none ] && [ "$f3" != none ] &&
     [ "$f4" -ge "$f3" ] && [ "$rsu4" = 1 ]; then
    pass o_checker_back_up_ok
  else
    fail o_checker_back_up_ok "back=$back ok $ok4 connect_error $ce4 consecutive $cf4 failures $f3->$f4 rs_up $rsu4" "$tmp/m4"
  fi
fi
[ -n "$NT_KADP_PID" ] && { nat_topo_kadp_stop || fail on_stop "kadp did not stop cleanly" "$log"; }

# --- (l) kernel backend: VRRP only -----------------------------------------------------
cat >"$tmp/kernel.conf" <<CONF
vrrp_instance VI_M {
    state BACKUP
    interface c0
    virtual_router_id 77
    priority 150
    version 3
    advert_int 0.1
    virtual_ipaddress {
        198.18.0.200/24
    }
}
metrics {
    listen 127.0.0.1 $MPORT
}
CONF
klog=$tmp/kadp-kernel.log
nat_topo_client "$KADP" --backend kernel -f "$tmp/kernel.conf" --control-socket "$tmp/kernel.sock" >"$klog" 2>&1 &
kpid=$!
NT_PIDS+=("$kpid")
kscrape() { nat_topo_client curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics"; }
for _ in $(seq 100); do
  kscrape >"$tmp/mk" 2>/dev/null && grep -q '^kadp_vrrp_state{instance="VI_M",state="MASTER"} 1$' "$tmp/mk" && break
  kill -0 "$kpid" 2>/dev/null || break
  sleep 0.1
done
if grep -q '^kadp_info{backend="kernel",version="[^"]*"} 1$' "$tmp/mk" &&
   grep -q '^kadp_vrrp_state{instance="VI_M",state="MASTER"} 1$' "$tmp/mk" &&
   grep -q '^kadp_vrrp_state{instance="VI_M",state="BACKUP"} 0$' "$tmp/mk" &&
   grep -q '^kadp_vrrp_priority{instance="VI_M"} 150$' "$tmp/mk"; then
  pass l_kernel_backend_vrrp
else
  fail l_kernel_backend_vrrp "scrape: $(grep -E 'kadp_info|vrrp' "$tmp/mk" 2>/dev/null | tr '\n' ' ')" "$klog"
fi
# (n) a second kadp whose metrics port is taken stops at start-up, saying why
out=$(nat_topo_client timeout 20 "$KADP" --backend kernel -f "$tmp/kernel.conf" --control-socket "$tmp/kernel2.sock" 2>&1); rc=$?
if [ "$rc" = 1 ] && echo "$out" | grep -q "metrics listen 127.0.0.1 $MPORT: bind: Address already in use" &&
   kill -0 "$kpid" 2>/dev/null; then
  pass n_port_in_use_stops_startup
else
  fail n_port_in_use_stops_startup "rc $rc: $out"
fi
kill -TERM "$kpid" 2>/dev/null; wait "$kpid" 2>/dev/null

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

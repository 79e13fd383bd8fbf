#!/usr/bin/env bash
# Reload and kadpctl end to end on the NAT topology (tests/lib/nat_topology.sh):
#
#   client 198.18.0.1 --- [lan  kadp  srv] --- bridge --- 198.19.0.{1,2,3} nginx
#   VIP 198.18.0.100:80/tcp wrr; each server has its own 6 MB big.bin, so a
#   download's sha256 tells which server sent it.
#
# Cases: kadpctl list matches the configuration (ipvsadm -Ln text, --json),
# the socket is 0600; a long download (rate-limited, ~15 s) is found with
# kadpctl conns, survives a weight change and the removal of its own real
# server and arrives byte-exact (docs/reload.md: connections of a removed real
# server keep flowing until they end); the weight change shifts new
# connections (4/4/4 -> 2/4/6 of 12); the removed server gets no new ones; a
# service added by reload answers; a broken file is rejected with its
# file:line by kadpctl reload (exit 1) and by SIGHUP, and the old
# configuration keeps serving; a dataplane change is refused ("needs a
# restart"); kadpctl status shows sane counters; the socket is removed at exit.
# kadp runs with --log-level debug: a reload's summary line is at info, each
# change (the full diff) at debug (docs/logging.md).
#
# Needs root, nginx, curl, ethtool, python3. Exit 0 pass, 77 skip, else fail;
# the last line is "COUNT passed failed skipped". Environment: KADP, KADPCTL.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
KADPCTL=${KADPCTL:-${KADP_BUILD:-build}/kadpctl}
PY=/usr/bin/python3

. tests/lib/nat_topology.sh
nat_topo_test_start "$KADP"
[ -x "$KADPCTL" ] || { echo "FAIL: no kadpctl binary at $KADPCTL"; echo "COUNT 0 1 0"; exit 1; }
[ -x "$PY" ] || { echo "SKIP: no $PY"; echo "COUNT 0 0 1"; exit 77; }

if ! nat_topo_setup "kadp-rl-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR
for i in 1 2 3; do head -c 6000000 /dev/urandom >"$NT_DIR/www$i/big.bin"; done

conf=$tmp/kadp.conf
log=$tmp/kadp.log

# write_conf W1 W2 W3 [extra]: weights ("-" leaves the server out); `extra`
# is appended as is. CONN_TABLE may change the table size.
write_conf() {
  {
    nat_topo_dataplane af_packet "${CONN_TABLE:-65536}"
    nat_topo_service wrr "$1" "$2" "$3"
    [ $# -ge 4 ] && printf '%s\n' "$4"
  } >"$conf"
}

ctl() { "$KADPCTL" -s "$NT_KADP_SOCK" "$@"; }
get() { nat_topo_client curl -s --max-time 5 "$@"; }
# `n` sequential requests; prints "1=a 2=b 3=c " counts per server (only those seen).
tally() {
  local n=$1 url=${2:-http://198.18.0.100/} i
  for i in $(seq "$n"); do get "$url" || echo "request $i failed"; done |
    sort | uniq -c | awk '{print $3 "=" $1}' | tr '\n' ' '
}
warm_up() {
  for _ in $(seq 10); do get -o /dev/null http://198.18.0.100/ && return 0; sleep 0.3; done
  return 1
}
# The services of `kadpctl --json list` as "VIP:PORT sched | dest weight ..." lines.
json_summary() {
  "$PY" -c '
import json, sys
r = json.load(sys.stdin)
assert r["ok"] and r["command"] == "list", r
for s in r["result"]["services"]:
    print(s["protocol"], "%s:%d" % (s["address"], s["port"]), s["scheduler"],
          "|", " ".join("%s:%d/%s/%d" % (d["address"], d["port"], d["forward"], d["weight"]) for d in s["dests"]))
'
}

# --- start --------------------------------------------------------------------------
write_conf 1 1 1
NT_KADP_OPTS="--log-level debug"
if ! nat_topo_kadp_start "$conf" "$log" main; then
  fail kadp_start "kadp did not start" "$log"
  echo "COUNT $passed $failed $skipped"; exit 1
fi

# (a) list right after start: exactly ipvsadm -Ln's text (no connection yet).
printf '%s\n' "IP Virtual Server version 1.2.1 (size=65536)" \
  "Prot LocalAddress:Port Scheduler Flags" \
  "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn" \
  "TCP  198.18.0.100:80 wrr" \
  "  -> 198.19.0.1:80                Masq    1      0          0         " \
  "  -> 198.19.0.2:80                Masq    1      0          0         " \
  "  -> 198.19.0.3:80                Masq    1      0          0         " >"$tmp/list.want"
if ctl list >"$tmp/list.got" 2>&1 && cmp -s "$tmp/list.want" "$tmp/list.got"; then
  pass a_list_matches_config
else
  fail a_list_matches_config "kadpctl list differs" <(diff "$tmp/list.want" "$tmp/list.got")
fi
if [ "$(ctl --json list | json_summary)" = "TCP 198.18.0.100:80 wrr | 198.19.0.1:80/Masq/1 198.19.0.2:80/Masq/1 198.19.0.3:80/Masq/1" ]; then
  pass a_list_json
else
  fail a_list_json "got: $(ctl --json list)"
fi
mode=$(stat -c %a "$NT_KADP_SOCK" 2>/dev/null)
[ "$mode" = 600 ] && pass a_socket_0600 || fail a_socket_0600 "mode $mode"
grep -q "^kadp: control socket $NT_KADP_SOCK$" "$log" && pass a_socket_logged || fail a_socket_logged "no log line" "$log"

if ! warm_up; then
  fail warm_up "no answer through the VIP" "$log"
  echo "COUNT $passed $failed $skipped"; exit 1
fi

# (b) weights 1,1,1: 12 new connections, 4 each.
t=$(tally 12)
[ "$t" = "1=4 2=4 3=4 " ] && pass b_wrr_1_1_1 || fail b_wrr_1_1_1 "got: $t"

# (c) a long download, ~15 s at 400 KB/s; kadpctl conns tells its real server.
ip netns exec "$NT_NS_C" curl -s --max-time 120 --limit-rate 400k -o "$tmp/long.bin" http://198.18.0.100/big.bin &
long_pid=$!
NT_PIDS+=("$long_pid")
long_srv=
for _ in $(seq 50); do
  read -r long_srv long_src < <(ctl conns | awk '$3 == "ESTABLISHED" && $5 == "198.18.0.100:80" {sub(/^198\.19\.0\./, "", $6); sub(/:80$/, "", $6); print $6, $4; exit}')
  [ -n "$long_srv" ] && break
  sleep 0.1
done
if [ -n "$long_srv" ] && ctl conns | head -2 | tail -1 | grep -q '^pro expire state       source             virtual            destination$'; then
  pass c_conns_shows_the_download
else
  fail c_conns_shows_the_download "no ESTABLISHED connection listed: $(ctl conns)"
  long_srv=3
fi
if ctl --json conns | "$PY" -c '
import json, sys
r = json.load(sys.stdin)["result"]
assert any(c["state"] == "ESTABLISHED" and c["dest"] == "198.19.0.'"$long_srv"'" and c["virtual_port"] == 80
           and c["protocol"] == "TCP" and 0 < c["expires"] <= 900 for c in r["conns"]), r'; then
  pass c_conns_json
else
  fail c_conns_json "the download is not in kadpctl --json conns"
fi
echo "    (the download runs on server $long_srv)"

# (d) weight change by kadpctl reload: 1,2,3 -> 2/4/6 of 12 new connections.
write_conf 1 2 3
if ctl reload >"$tmp/reload1.out" 2>&1 && grep -q "^reload accepted: generation 2: 2 real servers changed$" "$tmp/reload1.out" &&
   grep -q "real server 198.19.0.3:80 of TCP 198.18.0.100:80: weight 1 -> 3" "$tmp/reload1.out"; then
  pass d_reload_weights_accepted
else
  fail d_reload_weights_accepted "kadpctl reload said:" "$tmp/reload1.out"
fi
grep -q "^kadp: reload (kadpctl): generation 2: 2 real servers changed$" "$log" && pass d_reload_logged || fail d_reload_logged "no log line" "$log"
t=$(tally 12)
[ "$t" = "1=2 2=4 3=6 " ] && pass d_weights_shift_new_connections || fail d_weights_shift_new_connections "got: $t" "$log"
kill -0 "$long_pid" 2>/dev/null && pass d_download_still_running || fail d_download_still_running "it ended before the removal (too fast?)"

# (e) remove the download's real server (SIGHUP this time).
w=(x 1 2 3)
w[$long_srv]=-
write_conf "${w[1]}" "${w[2]}" "${w[3]}"
kill -HUP "$NT_KADP_PID"
for _ in $(seq 50); do grep -q "^kadp: reload (SIGHUP)" "$log" && break; sleep 0.1; done
if grep -q "^kadp: reload (SIGHUP): generation 3: 1 real server removed$" "$log" &&
   grep -q "^kadp:   real server 198.19.0.$long_srv:80 of TCP 198.18.0.100:80 removed$" "$log"; then
  pass e_sighup_removes_real_server
else
  fail e_sighup_removes_real_server "no reload lines" "$log"
fi
if ctl list | grep -q "198.19.0.$long_srv:80"; then fail e_list_without_it "still listed: $(ctl list)"; else pass e_list_without_it; fi
t=$(tally 12)
if [ -n "$t" ] && ! echo "$t" | grep -q "$long_srv=" && [ "$(echo "$t" | tr ' ' '\n' | awk -F= '{s += $2} END {print s}')" = 12 ]; then
  pass e_no_new_connections_to_it
else
  fail e_no_new_connections_to_it "got: $t"
fi
# Its entry stays: ESTABLISHED while the download runs. On a loaded machine
# the download may already be ending: then the same client port's entry must
# still be there towards the same server, closing (TIME_WAIT and the like).
long_state=$(ctl conns | awk -v d="198.19.0.$long_srv:80" -v s="$long_src" '$4 == s && $6 == d {print $3; exit}')
if [ "$long_state" != ESTABLISHED ] && [ -n "$long_state" ]; then
  for _ in $(seq 20); do kill -0 "$long_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$long_pid" 2>/dev/null && long_state="$long_state (download still running)"
fi
if [ "$long_state" = ESTABLISHED ] || { [ -n "$long_state" ] && ! kill -0 "$long_pid" 2>/dev/null; }; then
  pass e_its_connection_stays
else
  fail e_its_connection_stays "entry $long_src -> 198.19.0.$long_srv:80: state '$long_state'; conns: $(ctl conns)"
fi

# The control thread's 2 s rate samples see the download (~400 KB/s out of
# the service: its counters carry on though its real server left).
rate_ok=
for _ in $(seq 40); do
  if ctl list --rate | awk '$1 == "TCP" && $2 == "198.18.0.100:80" && $7 + 0 > 50000 {ok = 1} END {exit !ok}'; then rate_ok=1; break; fi
  kill -0 "$long_pid" 2>/dev/null || break
  sleep 0.25
done
# On a loaded machine the download may end before a 2 s sample saw it
# running: then the service's byte counter must hold all of it instead.
if [ -z "$rate_ok" ] && ! kill -0 "$long_pid" 2>/dev/null; then
  big_size=$(stat -c %s "$NT_DIR/www1/big.bin")
  if ctl list --stats --exact | awk -v n="$big_size" '$1 == "TCP" && $2 == "198.18.0.100:80" && $7 + 0 >= n {ok = 1} END {exit !ok}'; then
    rate_ok=1
    echo "    (the download ended before a rate sample; --stats holds its bytes)"
  fi
fi
[ -n "$rate_ok" ] && pass e_rate_shows_the_download || fail e_rate_shows_the_download "$(ctl list --rate; ctl list --stats --exact)"

# (f) the download arrives byte-exact from the removed server.
wait "$long_pid"
rc=$?
if [ "$rc" = 0 ] && [ "$(sha256sum <"$tmp/long.bin")" = "$(sha256sum <"$NT_DIR/www$long_srv/big.bin")" ]; then
  pass f_download_byte_exact_across_reloads
else
  fail f_download_byte_exact_across_reloads "curl exit $rc, $(stat -c %s "$tmp/long.bin" 2>/dev/null || echo no) bytes"
fi

# (g) add a service: 198.18.0.100:8080 -> the remaining servers' port 80.
extra="virtual_server 198.18.0.100 8080 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
$(for i in 1 2 3; do [ "$i" = "$long_srv" ] || printf '    real_server 198.19.0.%s 80 {\n    }\n' "$i"; done)
}"
write_conf "${w[1]}" "${w[2]}" "${w[3]}" "$extra"
if ctl reload >"$tmp/reload3.out" 2>&1 && grep -q "^reload accepted: generation 4: 1 service added$" "$tmp/reload3.out"; then
  pass g_reload_adds_service
else
  fail g_reload_adds_service "kadpctl reload said:" "$tmp/reload3.out"
fi
if get http://198.18.0.100:8080/ | grep -q '^server [123]$' && ctl list | grep -q '^TCP  198.18.0.100:8080 rr$'; then
  pass g_new_service_answers
else
  fail g_new_service_answers "no answer on :8080 or not listed" "$log"
fi

# (h) a broken file: rejected with its file:line, the old configuration serves on.
before=$(ctl --json list | json_summary)
cp "$conf" "$tmp/good.conf"
sed -i 's/^    lb_algo rr$/    lb_algo rr\n    real_server 198.19.0.300 80 {\n    }/' "$conf"
bad_line=$(grep -n 'real_server 198.19.0.300 80' "$conf" | cut -d: -f1)
ctl reload >"$tmp/reload_bad.out" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q "^reload rejected: " "$tmp/reload_bad.out" && grep -q "$conf:$bad_line: error:" "$tmp/reload_bad.out"; then
  pass h_broken_file_rejected_with_file_line
else
  fail h_broken_file_rejected_with_file_line "exit $rc (want 1, $conf:$bad_line)" "$tmp/reload_bad.out"
fi
kill -HUP "$NT_KADP_PID"
for _ in $(seq 50); do [ "$(grep -c '^kadp: reload (SIGHUP) rejected' "$log")" -ge 1 ] && break; sleep 0.1; done
if grep -q "^kadp: reload (SIGHUP) rejected: .*the running configuration stays (generation 4)$" "$log" &&
   grep -q "^kadp:   $conf:$bad_line: error:" "$log"; then
  pass h_sighup_rejected_and_logged
else
  fail h_sighup_rejected_and_logged "no rejection lines" "$log"
fi
if [ "$(ctl --json list | json_summary)" = "$before" ] && get http://198.18.0.100:8080/ | grep -q '^server [123]$' &&
   get http://198.18.0.100/ | grep -q '^server [123]$'; then
  pass h_old_configuration_serves
else
  fail h_old_configuration_serves "services changed or no answer: $(ctl list)"
fi

# (i) a dataplane change needs a restart.
cp "$tmp/good.conf" "$conf"
sed -i 's/conn_table_size 65536/conn_table_size 131072/' "$conf"
ctl reload >"$tmp/reload_dp.out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q "conn_table_size 65536 -> 131072 needs a restart" "$tmp/reload_dp.out" &&
  pass i_dataplane_change_needs_restart || fail i_dataplane_change_needs_restart "exit $rc" "$tmp/reload_dp.out"
cp "$tmp/good.conf" "$conf"

# (j) status: backend, generation, ports and counters that add up.
ctl status >"$tmp/status.txt" 2>&1
if ctl --json status | "$PY" -c '
import json, sys
r = json.load(sys.stdin)["result"]
c = r["counters"]
assert r["backend"] == "dpdk" and r["generation"] == 4, r
assert [p["name"] for p in r["ports"]] == ["lan", "srv"], r["ports"]
assert all(p["rx_packets"] > 0 and p["tx_packets"] > 0 for p in r["ports"]), r["ports"]
assert c["conn_new"] >= 40 and c["nat_in"] > c["conn_new"] and c["nat_out"] > 0, c
assert c["rx_packets"] >= c["nat_in"] + c["nat_out"], c
assert r["services"] == 2 and r["real_servers"] == 4, r
assert r["conn_table"]["capacity"] == 65536 and r["conn_table"]["in_use"] > 0, r
lr = r["last_reload"]
assert lr and not lr["accepted"] and "needs a restart" in lr["message"], lr
' 2>"$tmp/status.err" && grep -q "^backend dpdk" "$tmp/status.txt" && grep -q "^port lan (net_af_packet0,iface=lan)" "$tmp/status.txt"; then
  pass j_status_counters
else
  fail j_status_counters "$(cat "$tmp/status.err")" "$tmp/status.txt"
fi
if ctl list --stats | awk '$1 == "TCP" && $2 == "198.18.0.100:80" && $3 > 0 && $4 > 0 && $5 > 0 {ok = 1} END {exit !ok}'; then
  pass j_list_stats
else
  fail j_list_stats "$(ctl list --stats)"
fi

# (k) exit codes: usage 2, no daemon 3.
ctl flush >/dev/null 2>&1; rc1=$?
"$KADPCTL" -s "$tmp/nobody.sock" list >/dev/null 2>&1; rc2=$?
[ "$rc1" = 2 ] && [ "$rc2" = 3 ] && pass k_exit_codes || fail k_exit_codes "usage $rc1 (want 2), no daemon $rc2 (want 3)"

# (l) a clean stop removes the socket.
if nat_topo_kadp_stop && [ ! -e "$NT_KADP_SOCK" ]; then pass l_stop_removes_socket; else fail l_stop_removes_socket "exit or socket left" "$log"; fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

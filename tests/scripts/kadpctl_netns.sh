#!/usr/bin/env bash
# kadpctl checks, vrrp and stats against a running kadp (DPDK backend,
# af_packet) with a keepalived 2.2.7 VRRP peer and two real servers on the
# LAN (tests/lib/vrrp_topology.sh): nginx on 198.18.0.3:8080 (HTTP_GET: up)
# and nothing on 198.18.0.3:8081 (TCP_CHECK: down, connection refused). The
# checkers run through kadp's exception TAP.
#
# (a) keepalived (priority 200) is MASTER first; kadp (150) starts: `kadpctl
#     vrrp` shows BACKUP, base 150, master 198.18.0.3, reason startup;
# (b) `kadpctl checks`: the nginx server up, in service at weight 2, last ok;
#     the other down, out of service at weight 0, last failed with the log's
#     words "TCP connection to [198.18.0.3]:tcp:8081 failed (Connection
#     refused).", consecutive failures counted; --json carries the same;
# (c) `kadpctl stats`: one worker (lcore 1), its counters and the total,
#     the port, the connection table, the mempools; --all lists every
#     counter (as many as `status --json` has), --json's totals are the sum
#     of the workers'; `checks --all` is a usage error (exit 2);
# (d) keepalived SIGKILLed: kadp MASTER, master itself (us), reason "master
#     down timer expired (the master stopped advertising)", in --json too;
# (e) SIGTERM: kadp exits 0 (with build-san: no sanitizer report).
#
# Needs root, keepalived, nginx, ethtool, python3. Exit 0 pass, 77 skip,
# else fail; the last line is "COUNT passed failed skipped".
# Environment: KADP, KADPCTL, KADP_BUILD.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
KADPCTL=${KADPCTL:-$(dirname "$KADP")/kadpctl}
export KADP KADPCTL

passed=0 failed=0 skipped=0
skip_all() { echo "SKIP: $1"; echo "COUNT 0 0 1"; exit 77; }
[ "$(id -u)" = 0 ] || skip_all "needs root"
for tool in keepalived nginx ethtool ip; do command -v $tool >/dev/null || skip_all "no $tool"; done
[ -x /usr/bin/python3 ] || skip_all "no python3"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
[ -x "$KADP" ] || { echo "FAIL: no kadp binary at $KADP"; echo "COUNT 0 1 0"; exit 1; }
[ -x "$KADPCTL" ] || { echo "FAIL: no kadpctl binary at $KADPCTL"; echo "COUNT 0 1 0"; exit 1; }

. tests/lib/nat_topology.sh  # nat_topo_nginx_conf, pass, fail
. tests/lib/vrrp_topology.sh
NGINX_PID=
finish() {
  [ -n "$NGINX_PID" ] && { kill -TERM "$NGINX_PID"; wait "$NGINX_PID"; } 2>/dev/null
  vrrp_topo_cleanup
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
setup_fail() { echo "FAIL: setup: $1"; [ -n "${2:-}" ] && sed 's/^/    | /' "$2" | tail -30; echo "COUNT 0 1 0"; exit 1; }

vrrp_topo_setup "kctl-$$" || setup_fail "topology"
D=$VT_DIR
ctl() { vrrp_topo_kadpctl "$@"; }
# until CMD... holds, every 0.2 s for at most 20 s
until_true() { local i; for i in $(seq 100); do "$@" && return 0; sleep 0.2; done; return 1; }
state() { grep -oE "\($2\) Entering [A-Z]+ STATE" "$1" 2>/dev/null | tail -1 | cut -d' ' -f3; }
is_state() { [ "$(state "$1" "$2")" = "$3" ]; }
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

# --- nginx on 198.18.0.3:8080 (keepalived's namespace) -------------------------
mkdir -p "$D/ngx" "$D/www"
echo hello >"$D/www/index.html"
nat_topo_nginx_conf "$D/ngx" "        listen 198.18.0.3:8080;
        root $D/www;"
ip netns exec "$VT_NS_KA" nginx -c "$D/ngx/nginx.conf" -e "$D/ngx/error.log" >"$D/ngx/stdout.log" 2>&1 &
NGINX_PID=$!
nginx_up() { ip netns exec "$VT_NS_KA" bash -c 'exec 3<>/dev/tcp/198.18.0.3/8080' 2>/dev/null; }
# Listening before kadp's first check: the up server never fails (no transition).
until_true nginx_up || setup_fail "nginx did not start" "$D/ngx/error.log"

# --- configurations ------------------------------------------------------------
instance() {
  printf 'vrrp_instance VI_1 {\n    state BACKUP\n    interface %s\n    virtual_router_id 51\n    priority %s\n    advert_int 1\n    virtual_ipaddress {\n        198.18.0.100/24\n    }\n}\n' "$1" "$2"
}
{
  vrrp_topo_dataplane
  instance lan 150
  cat <<'CONF'
virtual_server 198.18.0.100 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.18.0.3 8080 {
        weight 2
        HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 2
            retry 1
            delay_before_retry 1
        }
    }
    real_server 198.18.0.3 8081 {
        weight 1
        TCP_CHECK {
            connect_timeout 2
            retry 1
            delay_before_retry 1
        }
    }
}
CONF
} >"$D/kadp.conf"
instance eth0 200 >"$D/ka.conf"

vrrp_topo_ka_start "$D/ka.conf" "$D/ka.log" || setup_fail "keepalived did not start" "$D/ka.log"
until_true is_state "$D/ka.log" VI_1 MASTER || setup_fail "keepalived not MASTER" "$D/ka.log"
vrrp_topo_kadp_start "$D/kadp.conf" "$D/kadp.log" || setup_fail "kadp did not start" "$D/kadp.log"

# --- (a) kadp BACKUP of keepalived ----------------------------------------------
vrrp_has_master() { ctl vrrp >"$D/vrrp.txt" 2>&1 && grep -q "master 198.18.0.3$" "$D/vrrp.txt"; }
if until_true vrrp_has_master &&
   grep -qx "vrrp VI_1 on lan, VRID 51: BACKUP, priority 150 (base 150), master 198.18.0.3" "$D/vrrp.txt" &&
   grep -qE "^  since [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC: startup$" "$D/vrrp.txt" &&
   grep -qx "vrrp dropped adverts in all: none" "$D/vrrp.txt"; then
  pass "a_vrrp_backup: kadpctl vrrp: BACKUP, priority 150 (base 150), master 198.18.0.3 (keepalived), since startup"
else
  fail a_vrrp_backup "unexpected kadpctl vrrp" "$D/vrrp.txt"
fi

# --- (b) checks --------------------------------------------------------------------
checks_settled() {
  ctl checks >"$D/checks.txt" 2>&1 &&
    grep -q "8080 HTTP_GET: up, in service, weight 2; last ok" "$D/checks.txt" &&
    grep -q "8081 TCP_CHECK: down, out of service, weight 0; last failed" "$D/checks.txt"
}
UP_RE='^\[198\.18\.0\.100\]:tcp:80 -> \[198\.18\.0\.3\]:tcp:8080 HTTP_GET: up, in service, weight 2; last ok in [0-9]+ ms at [0-9: -]+ UTC; no transition; failures 0, retry 1$'
DOWN_RE='^\[198\.18\.0\.100\]:tcp:80 -> \[198\.18\.0\.3\]:tcp:8081 TCP_CHECK: down, out of service, weight 0; last failed \(TCP connection to \[198\.18\.0\.3\]:tcp:8081 failed \(Connection refused\)\.\) in [0-9]+ ms at [0-9: -]+ UTC; down since [0-9: -]+ UTC; failures [2-9][0-9]*, retry 1$'
if until_true checks_settled && [ "$(wc -l <"$D/checks.txt")" = 2 ] &&
   grep -qE "$UP_RE" "$D/checks.txt" && grep -qE "$DOWN_RE" "$D/checks.txt"; then
  pass "b_checks_text: nginx up/in service/weight 2/last ok; 8081 down/out/weight 0/Connection refused/failures counted"
else
  fail b_checks_text "unexpected kadpctl checks" "$D/checks.txt"
fi
if ctl --json checks >"$D/checks.json" 2>&1 && json '
c = {x["real_server"]: x for x in d["result"]["checkers"]}
u, w = c["[198.18.0.3]:tcp:8080"], c["[198.18.0.3]:tcp:8081"]
assert d["ok"] and d["command"] == "checks"
assert (u["type"], u["state"], u["in_service"], u["weight"], u["last_result"], u["reason"]) == ("HTTP_GET", "up", True, 2, "ok", ""), u
assert u["last_check"] > 1700000000 and u["consecutive_failures"] == 0 and u["retry"] == 1, u
assert (w["type"], w["state"], w["in_service"], w["weight"], w["last_result"]) == ("TCP_CHECK", "down", False, 0, "failed"), w
assert w["reason"] == "TCP connection to [198.18.0.3]:tcp:8081 failed (Connection refused).", w
assert w["last_transition"] > 1700000000 and w["consecutive_failures"] >= 2, w
assert u["virtual_server"] == w["virtual_server"] == "[198.18.0.100]:tcp:80"
' <"$D/checks.json" 2>"$D/checks.err"; then
  pass "b_checks_json: the same in --json"
else
  fail b_checks_json "$(tail -1 "$D/checks.err")" "$D/checks.json"
fi

# --- (c) stats ----------------------------------------------------------------------
ctl stats >"$D/stats.txt" 2>&1; rc=$?
if [ $rc = 0 ] && grep -qx "backend dpdk: workers 1" "$D/stats.txt" &&
   grep -qx "worker lcore 1 counters, non-zero:" "$D/stats.txt" &&
   grep -qx "counters (all workers, non-zero):" "$D/stats.txt" &&
   grep -qE "^  rx_packets [1-9][0-9]*$" "$D/stats.txt" &&
   grep -qE "^port lan \(net_af_packet0,iface=lan\) mac [0-9a-f:]{17}: rx [1-9][0-9]* packets .*, link up$" "$D/stats.txt" &&
   grep -qE "^connections [0-9]+ of 65536$" "$D/stats.txt" &&
   grep -qE "^mempool [a-z_0-9]+: size [0-9]+, in use [0-9]+, available [0-9]+$" "$D/stats.txt"; then
  pass "c_stats_text: one worker (lcore 1) with its counters, the total, port lan, connections, mempools"
else
  fail c_stats_text "exit $rc or unexpected kadpctl stats" "$D/stats.txt"
fi
n_counters=$(ctl --json status | json 'print(len(d["result"]["counters"]))')
ctl stats --all >"$D/stats_all.txt" 2>&1
n_worker=$(awk '/^worker lcore 1 counters:$/ {on=1; next} /^[^ ]/ {on=0} on' "$D/stats_all.txt" | wc -l)
n_total=$(awk '/^counters \(all workers\):$/ {on=1; next} /^[^ ]/ {on=0} on' "$D/stats_all.txt" | wc -l)
if [ -n "$n_counters" ] && [ "$n_counters" -gt 10 ] && [ "$n_worker" = "$n_counters" ] && [ "$n_total" = "$n_counters" ]; then
  pass "c_stats_all: --all lists all $n_counters counters for the worker and the total"
else
  fail c_stats_all "status has '$n_counters' counters, stats --all $n_worker (worker) / $n_total (total)" "$D/stats_all.txt"
fi
if ctl --json stats >"$D/stats.json" 2>&1 && json '
r = d["result"]
assert r["backend"] == "dpdk" and [w["lcore"] for w in r["workers"]] == [1], r["workers"]
w = r["workers"][0]["counters"]
assert list(w) == list(r["totals"]) and len(w) > 10
assert all(r["totals"][k] >= w[k] for k in w)  # read a moment later
assert r["totals"]["rx_packets"] > 0
assert r["ports"][0]["name"] == "lan" and r["ports"][0]["rx_packets"] > 0
assert r["conn_table"]["capacity"] == 65536 and r["mempools"] and r["ipvs"] is None
' <"$D/stats.json" 2>"$D/stats.err"; then
  pass "c_stats_json: workers, totals (as many, the same names), ports, conn_table, mempools, ipvs null"
else
  fail c_stats_json "$(tail -1 "$D/stats.err")" "$D/stats.json"
fi
ctl checks --all >/dev/null 2>"$D/usage.txt"; rc=$?
if [ $rc = 2 ] && grep -q "\-\-all goes with stats" "$D/usage.txt"; then
  pass "c_usage: checks --all exits 2"
else
  fail c_usage "exit $rc" "$D/usage.txt"
fi

# --- (d) keepalived dies: kadp takes over ----------------------------------------
vrrp_topo_ka_kill
kadp_master() { ctl vrrp >"$D/vrrp2.txt" 2>&1 && grep -q ": MASTER, " "$D/vrrp2.txt"; }
if until_true kadp_master &&
   grep -qx "vrrp VI_1 on lan, VRID 51: MASTER, priority 150 (base 150), master 198.18.0.2 (us)" "$D/vrrp2.txt" &&
   grep -qE "^  since [0-9: -]+ UTC: master down timer expired \(the master stopped advertising\)$" "$D/vrrp2.txt"; then
  pass "d_vrrp_master: after keepalived's SIGKILL kadp is MASTER (us), master down timer expired"
else
  fail d_vrrp_master "unexpected kadpctl vrrp" "$D/vrrp2.txt" "$D/kadp.log"
fi
if ctl --json vrrp >"$D/vrrp.json" 2>&1 && json '
i = d["result"]["instances"][0]
assert (i["name"], i["interface"], i["vrid"], i["state"], i["priority"], i["base_priority"]) == ("VI_1", "lan", 51, "MASTER", 150, 150), i
assert i["master"] == "198.18.0.2" and i["master_is_self"] is True, i
assert i["reason"] == "master down timer expired (the master stopped advertising)", i
assert i["last_transition"] > 1700000000, i
' <"$D/vrrp.json" 2>"$D/vrrp.err"; then
  pass "d_vrrp_json: the same in --json"
else
  fail d_vrrp_json "$(tail -1 "$D/vrrp.err")" "$D/vrrp.json"
fi

# What an operator would see (for the log).
for f in vrrp checks stats vrrp2; do sed "s/^/INFO: $f: /" "$D/$f.txt"; done
if vrrp_topo_kadp_stop; then
  pass "e_stop: kadp exits 0 on SIGTERM"
else
  fail e_stop "kadp did not exit 0 on SIGTERM" "$D/kadp.log"
fi
echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

#!/usr/bin/env bash
# DNS_CHECK end to end against a real DNS server nobody here wrote: dnsmasq
# (Debian's dnsmasq-base) in its own network namespace, answering from a
# hosts file made now, checked by kadp's HealthCheckers
# (build/tests/tools/kadp_check_probe: the checkers of a keepalived.conf with
# no backend, as this host has no IPVS) from a second namespace.
#
#   [kadp-dns-PID-lb] 198.19.53.2 --- veth --- 198.19.53.1 [kadp-dns-PID-srv] dnsmasq :53
#
# Services (delay_loop 1, retry 1, delay_before_retry 1, connect_timeout 1):
#   198.18.53.100:53 (UDP)  198.19.53.1:53, DNS_CHECK type A name kadp-dns.test
#                           (in the hosts file);
#   198.18.53.100:54 (UDP)  198.19.53.1:53, DNS_CHECK name nope.test, type left
#                           at keepalived's default SOA (not in it:
#                           dnsmasq, with no upstream, answers REFUSED).
#
# Cases: (a) the query dnsmasq logs is keepalived's (A kadp-dns.test) and the
# :53 server is not removed; (b) dnsmasq logs an SOA query for nope.test and
# its REFUSED removes the :54 one with keepalived's
# line "DNS_CHECK ([198.19.53.1]:udp:53) read error occurred. (rcode = 5)
# after 1 retries"; (c) dnsmasq stopped: "Removing service [198.19.53.1]:udp:53
# from VS [198.18.53.100]:udp:53" after "... failed to read socket; errno 111
# (Connection refused) after 1 retries" (the ICMP port unreachable); (d)
# dnsmasq restarted: "Adding service ..."; (e) the probe stops on SIGTERM;
# (f) keepalived -t accepts the same file (when keepalived is installed).
#
# Needs root, dnsmasq. Exit 0 pass, 77 skip, else fail; the last line is
# "COUNT passed failed skipped". Environment: PROBE.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
PROBE=${PROBE:-${KADP_BUILD:-build}/tests/tools/kadp_check_probe}

skip() { echo "SKIP: $1"; echo "COUNT 0 0 1"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v dnsmasq >/dev/null || skip "no dnsmasq (apt-get install dnsmasq-base)"
[ -x "$PROBE" ] || skip "no $PROBE (build first)"

ns_lb=kadp-dns-$$-lb
ns_srv=kadp-dns-$$-srv
tmp=$(mktemp -d /tmp/kadp-dns.XXXXXX)
dns_pid=""
probe_pid=""
passed=0
failed=0
skipped=0

cleanup() {
  [ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null && wait "$probe_pid" 2>/dev/null
  [ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null && wait "$dns_pid" 2>/dev/null
  ip netns del "$ns_lb" 2>/dev/null
  ip netns del "$ns_srv" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() {
  echo "FAIL: $1: $2"; failed=$((failed + 1))
  [ -f "$tmp/probe.log" ] && sed 's/^/    | /' "$tmp/probe.log" | tail -30
  dnslog | sed 's/^/    | dnsmasq: /' | tail -10
}
setup_fail() { echo "FAIL: setup: $1"; echo "COUNT 0 1 0"; exit 1; }

ip netns add "$ns_lb" && ip netns add "$ns_srv" || setup_fail "netns"
ip link add kdns-lb netns "$ns_lb" type veth peer name kdns-srv netns "$ns_srv" || setup_fail "veth"
ip -n "$ns_lb" addr add 198.19.53.2/24 dev kdns-lb &&
  ip -n "$ns_srv" addr add 198.19.53.1/24 dev kdns-srv &&
  ip -n "$ns_lb" link set lo up && ip -n "$ns_srv" link set lo up &&
  ip -n "$ns_lb" link set kdns-lb up && ip -n "$ns_srv" link set kdns-srv up || setup_fail "addresses"

echo "198.19.1.1 kadp-dns.test" > "$tmp/hosts"
starts=0
start_dnsmasq() {
  starts=$((starts + 1))
  ip netns exec "$ns_srv" dnsmasq --keep-in-foreground --no-hosts --addn-hosts="$tmp/hosts" --no-resolv \
    --listen-address=198.19.53.1 --bind-interfaces --port=53 --user=root --pid-file="$tmp/dnsmasq.pid" \
    --log-queries --log-facility=- >"$tmp/dnsmasq.$starts.log" 2>&1 &
  dns_pid=$!
  # Ready once it has read the hosts file (its sockets are bound by then).
  for _ in $(seq 50); do grep -q "read $tmp/hosts" "$tmp/dnsmasq.$starts.log" && return 0; sleep 0.1; done
  return 1
}
dnslog() { cat "$tmp"/dnsmasq.*.log 2>/dev/null; }
start_dnsmasq || setup_fail "dnsmasq did not start"

cat > "$tmp/keepalived.conf" <<CONF
virtual_server 198.18.53.100 53 {
    protocol UDP
    lb_algo rr
    lb_kind NAT
    delay_loop 1
    real_server 198.19.53.1 53 {
        DNS_CHECK {
            type A
            name kadp-dns.test
            connect_timeout 1
            retry 1
            delay_before_retry 1
            warmup 0
        }
    }
}
virtual_server 198.18.53.100 54 {
    protocol UDP
    lb_algo rr
    lb_kind NAT
    delay_loop 1
    real_server 198.19.53.1 53 {
        DNS_CHECK {
            name nope.test
            connect_timeout 1
            retry 1
            delay_before_retry 1
            warmup 0
        }
    }
}
CONF

ip netns exec "$ns_lb" "$PROBE" -f "$tmp/keepalived.conf" >"$tmp/probe.log" 2>&1 &
probe_pid=$!

logged() { grep -qxF -- "kadp: $1" "$tmp/probe.log"; }
wait_log() { local s=$1; shift; for _ in $(seq $((s * 10))); do logged "$1" && return 0; sleep 0.1; done; return 1; }
count() { grep -cxF -- "kadp: $1" "$tmp/probe.log"; }

rs="[198.19.53.1]:udp:53"
vs53="[198.18.53.100]:udp:53"
vs54="[198.18.53.100]:udp:54"

# --- (a) the query is keepalived's, the server stays ---------------------------------------------
if wait_log 5 "Activating healthchecker for service $rs for VS $vs53"; then
  for _ in $(seq 50); do dnslog | grep -q "query\[A\] kadp-dns.test from 198.19.53.2" && break; sleep 0.1; done
  sleep 3
  if dnslog | grep -q "query\[A\] kadp-dns.test from 198.19.53.2" &&
     ! logged "Removing service $rs from VS $vs53" && ! grep -q "not run by kadp yet" "$tmp/probe.log"; then
    pass a_answered_server_stays
  else
    fail a_answered_server_stays "no A query for kadp-dns.test, or the server was removed"
  fi
else
  fail a_answered_server_stays "probe did not start its checkers"
fi

# --- (b) REFUSED takes the other one down --------------------------------------------------------
if wait_log 5 "Removing service $rs from VS $vs54" &&
   logged "DNS_CHECK ($rs) read error occurred. (rcode = 5) after 1 retries" &&
   dnslog | grep -q "query\[SOA\] nope.test from 198.19.53.2"; then
  pass b_refused_removes
else
  fail b_refused_removes "no removal from $vs54 with keepalived's rcode line"
fi

# --- (c) dnsmasq stopped: removed ----------------------------------------------------------------
kill "$dns_pid"; wait "$dns_pid" 2>/dev/null; dns_pid=""
# delay_loop + retry x delay_before_retry, plus generous slack.
if wait_log 10 "Removing service $rs from VS $vs53" &&
   logged "DNS_CHECK ($rs) failed to read socket; errno 111 (Connection refused) after 1 retries"; then
  pass c_stopped_server_removed
else
  fail c_stopped_server_removed "no removal from $vs53 after dnsmasq stopped"
fi

# --- (d) dnsmasq restarted: back -----------------------------------------------------------------
start_dnsmasq || setup_fail "dnsmasq did not restart"
if wait_log 10 "Adding service $rs to VS $vs53" && [ "$(count "Adding service $rs to VS $vs54")" = 0 ]; then
  pass d_restarted_server_added
else
  fail d_restarted_server_added "no 'Adding service $rs to VS $vs53' (or $vs54 came back while REFUSED)"
fi

# --- (e) the probe stops ------------------------------------------------------------------------
kill -TERM "$probe_pid"
for _ in $(seq 50); do kill -0 "$probe_pid" 2>/dev/null || break; sleep 0.1; done
if ! kill -0 "$probe_pid" 2>/dev/null && wait "$probe_pid"; then
  probe_pid=""
  pass e_probe_stops
else
  fail e_probe_stops "the probe did not exit 0 on SIGTERM"
fi

# --- (f) keepalived -t on the same file ----------------------------------------------------------
if command -v keepalived >/dev/null; then
  if keepalived -t -f "$tmp/keepalived.conf" >"$tmp/kt.log" 2>&1; then
    pass f_keepalived_accepts
  else
    fail f_keepalived_accepts "keepalived -t: $(cat "$tmp/kt.log")"
  fi
else
  echo "SKIP: f_keepalived_accepts (no keepalived)"; skipped=$((skipped + 1))
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

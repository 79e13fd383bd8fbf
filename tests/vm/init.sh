#!/bin/sh
# Runs as /init inside the qemu VM of tests/scripts/kernel_ipvs_vm.sh
# (Debian's kernel, busybox userland). kadp drives the VM's real IPVS:
#   client ns "cl" -- d-cl [director = root ns, IPVS, kadp] d-rs1 -- ns "rs1"
#                                                          d-rs2 -- ns "rs2"
# Real servers are busybox httpd answering "rs1" / "rs2". kadpctl talks to
# kadp over /run/kadp/kadp.sock and must print what ipvsadm prints for the
# same IPVS state (the configs' services sort the same under kadpctl's
# numeric order and libipvs's: docs/kadpctl.md). Each check prints
# "KADP-VM: PASS name" or "KADP-VM: FAIL name: why"; the end prints
# "KADP-VM: DONE pass N fail N" and powers off. The last part runs kadp
# with TCP_CHECKs (conf/chk.conf) and stops and restarts their listeners.
# ok/bad/finish, listing, expect_settings, same_output, log_since,
# log_lines, wait_log, get.
. /guest_lib.sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp

# expect_listing NAME FILE: `ipvsadm -Ln` must be exactly FILE.
expect_listing() {
    listing > /tmp/got.txt
    if cmp -s /tmp/got.txt "$2"; then
        ok "$1"
    else
        bad "$1: ipvsadm -Ln differs from $2"
        diff "$2" /tmp/got.txt | sed 's/^/KADP-VM:   /'
        sed 's/^/KADP-GOT: /; s/$/|/' /tmp/got.txt
    fi
}
# The connections of a -Lnc listing without their expiry (it ticks), sorted.
conns_key() { sed 1,2d | awk '{ $2 = ""; print }' | sort; }

echo "KADP-VM: kernel $(uname -r)"

# -- IPVS missing: a clear message and a non-zero exit. (The kernel would
# load ip_vs by itself when kadp asks for the family: not this once.)
echo /bin/false > /proc/sys/kernel/modprobe
out=$(kadp --backend kernel -f /conf/v1.conf 2>&1)
rc=$?
echo /sbin/modprobe > /proc/sys/kernel/modprobe
case "$out" in
*"has no IPVS"*) [ $rc -eq 1 ] && ok "no-ipvs-message" || bad "no-ipvs-message: exit $rc" ;;
*) bad "no-ipvs-message: exit $rc, output: $out" ;;
esac

modprobe ip_vs || { bad "modprobe ip_vs"; finish; }
modprobe veth || { bad "modprobe veth"; finish; }

# -- Topology.
$IP link set lo up
echo 1 > /proc/sys/net/ipv4/ip_forward
echo 1 > /proc/sys/net/ipv6/conf/all/forwarding
echo 1 > /proc/sys/net/ipv4/conf/all/accept_local  # DR replies come back with the VIP as source
$IP netns add cl
$IP link add d-cl type veth peer name eth0 netns cl
echo 0 > /proc/sys/net/ipv6/conf/d-cl/accept_dad    # the VIPs kadp adds are usable at once
$IP addr add 198.18.0.1/24 dev d-cl
$IP addr add 2001:db8::1/64 dev d-cl nodad
$IP link set d-cl up
$IP -n cl link set lo up
$IP -n cl addr add 198.18.0.2/24 dev eth0
$IP -n cl addr add 2001:db8::2/64 dev eth0 nodad
$IP -n cl link set eth0 up
$IP -n cl route add default via 198.18.0.1
$IP -n cl -6 route add default via 2001:db8::1
for i in 1 2; do
    ns=rs$i
    $IP netns add $ns
    $IP link add d-$ns type veth peer name eth0 netns $ns
    echo 1 > /proc/sys/net/ipv4/conf/d-$ns/accept_local
    $IP addr add 198.18.$i.1/24 dev d-$ns
    $IP addr add 2001:db8:$i::1/64 dev d-$ns nodad
    $IP link set d-$ns up
    $IP -n $ns link set lo up
    $IP -n $ns addr add 198.18.$i.1$i/24 dev eth0
    $IP -n $ns addr add 2001:db8:$i::1$i/64 dev eth0 nodad
    $IP -n $ns addr add 198.18.0.10/32 dev lo           # DR: the VIP is local to the real server
    $IP -n $ns link set eth0 up
    $IP -n $ns route add default via 198.18.$i.1
    $IP -n $ns -6 route add default via 2001:db8:$i::1
    mkdir -p /www/$ns
    echo $ns > /www/$ns/index.html
    $IP netns exec $ns httpd -f -p 80 -h /www/$ns &
    $IP netns exec $ns httpd -f -p 8080 -h /www/$ns &
done
sleep 1

# -- IpvsNetlink on its own (gtest): every setting reads back as programmed.
unit_kernel_ipvs --gtest_color=no > /tmp/unit.log 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "^\[  PASSED  \] 9 tests" /tmp/unit.log; then
    ok "unit_kernel_ipvs: $(grep '^\[  PASSED' /tmp/unit.log)"
else
    bad "unit_kernel_ipvs: exit $rc"
    grep -E "Failure|Expected|Which is|Actual|error|FAILED|SKIPPED|PASSED|^  " /tmp/unit.log | head -60 | sed 's/^/KADP-VM:   /'
fi

# A service kadp does not manage: it must survive start, reload and stop.
ipvsadm -A -t 198.18.0.99:80 -s rr

# -- Start.
# No --backend: a configuration without a dataplane block means kernel.
cp /conf/v1.conf /tmp/kadp.conf
kadp -f /tmp/kadp.conf > /tmp/kadp.log 2>&1 &
kadp_pid=$!
if wait_log "running with the kernel (IPVS) backend"; then ok "start"; else bad "start"; cat /tmp/kadp.log; finish; fi
expect_listing "v1-listing" /conf/v1.txt
same_output "kadpctl-list-v1" "list" "-Ln"
status=$(kadpctl status 2>&1)
case "$status" in
"backend kernel, kadp "*"config /tmp/kadp.conf, generation 1"*"services 5, real servers 8, connections "*" (IPVS connection table size "*"last reload: none"*)
    ok "kadpctl-status-kernel" ;;
*) bad "kadpctl-status-kernel: $status" ;;
esac
timeouts=$(ipvsadm -L --timeout)
[ "$timeouts" = "Timeout (tcp tcpfin udp): 7200 60 200" ] && ok "lvs-timeouts" || bad "lvs-timeouts: $timeouts"
$IP addr show dev d-cl | grep -q "inet 198.18.0.10/32" && ok "static-ipaddress-v4" || bad "static-ipaddress-v4"
$IP addr show dev d-cl | grep -q "inet6 2001:db8::10/128" && ok "static-ipaddress-v6" || bad "static-ipaddress-v6"
route=$($IP route show 198.18.50.0/24)
case "$route" in "198.18.50.0/24 via 198.18.1.11 dev d-rs1 "*) ok "static-route" ;; *) bad "static-route: '$route'" ;; esac
route=$($IP route show 198.18.51.0/24)
case "$route" in "blackhole 198.18.51.0/24"*) ok "static-route-blackhole" ;; *) bad "static-route-blackhole: '$route'" ;; esac

# -- Traffic through IPVS.
answers=""
for _ in 1 2 3 4; do answers="$answers $(get cl 198.18.0.10 80)"; done
[ "$answers" = " rs1 rs2 rs1 rs2" ] || [ "$answers" = " rs2 rs1 rs2 rs1" ] \
    && ok "nat-wrr-alternates:$answers" || bad "nat-wrr-alternates: got '$answers'"
answers=""
for _ in 1 2 3; do answers="$answers $(get cl 198.18.0.10 8080)"; done
[ "$answers" = " rs1 rs1 rs1" ] || [ "$answers" = " rs2 rs2 rs2" ] && ok "dr-persistent-wrr:$answers" || bad "dr-persistent-wrr: got '$answers'"
answers=""
for _ in 1 2; do answers="$answers $(get cl 2001:db8::10 80)"; done
[ "$answers" = " rs1 rs2" ] || [ "$answers" = " rs2 rs1" ] \
    && ok "ipv6-nat-rr:$answers" || bad "ipv6-nat-rr: got '$answers'"
sleep 1
expect_listing "v1-listing-after-traffic" /conf/v1-traffic.txt

# What the services have before the reload: the connections made above
# (3 and 4). The kernel folds its per-CPU counters into what it reports
# every 2 s: wait for all of them.
conns_of() { ipvsadm -Ln --stats -t "$1" | sed -n "s/^TCP  $1 *\([0-9]*\) .*/\1/p"; }
for _ in $(seq 50); do
    [ "$(conns_of 198.18.0.10:8080)" = 3 ] && [ "$(conns_of 198.18.0.10:80)" = 4 ] && break
    sleep 0.2
done
stats_8080=$(conns_of 198.18.0.10:8080)
stats_80=$(conns_of 198.18.0.10:80)
conns_8080=$(ipvsadm -Lnc | grep -c "198.18.0.10:8080")

# -- kadpctl on the state that traffic left: counters, rates, connections.
same_output "kadpctl-list-after-traffic" "list" "-Ln"
same_output "kadpctl-list-stats" "list --stats" "-Ln --stats"
same_output "kadpctl-list-stats-exact" "list --stats --exact" "-Ln --stats --exact"
same_output "kadpctl-list-rate" "list --rate" "-Ln --rate"
for _ in 1 2 3; do
    kadpctl conns > /tmp/kconns.txt 2> /tmp/kadpctl.err
    krc=$?
    ipvsadm -Lnc > /tmp/iconns.txt
    conns_key < /tmp/kconns.txt > /tmp/kconns.key
    conns_key < /tmp/iconns.txt > /tmp/iconns.key
    [ $krc -eq 0 ] && [ -s /tmp/iconns.key ] && cmp -s /tmp/kconns.key /tmp/iconns.key \
        && [ "$(sed -n 1,2p /tmp/kconns.txt)" = "$(sed -n 1,2p /tmp/iconns.txt)" ] && break
    sleep 0.3
done
if [ $krc -eq 0 ] && [ -s /tmp/iconns.key ] && cmp -s /tmp/kconns.key /tmp/iconns.key; then
    ok "kadpctl-conns: $(wc -l < /tmp/iconns.key) connections as ipvsadm -Lnc ($(awk '$4 ~ /:0$/' /tmp/iconns.txt | wc -l) persistence templates)"
else
    bad "kadpctl-conns: exit $krc"
    diff /tmp/iconns.txt /tmp/kconns.txt | sed 's/^/KADP-VM:   /'
fi
# status counts the connections IPVS counts on its real servers.
want=$(ipvsadm -Ln | awk '$1 == "->" && NR > 3 { n += $5 + $6 } END { print n + 0 }')
got=$(kadpctl status | sed -n 's/^services .*, connections \([0-9]*\) (IPVS.*/\1/p')
[ -n "$got" ] && [ "$got" = "$want" ] && [ "$got" -gt 0 ] && ok "kadpctl-status-connections: $got" \
    || bad "kadpctl-status-connections: kadpctl $got, ipvsadm $want"
# stats: IPVS's totals are the sums of ipvsadm -Ln --stats --exact's service lines.
for _ in 1 2 3; do
    want=$(ipvsadm -Ln --stats --exact | awk 'NR > 3 && $1 != "->" { c = ($3 == "IPv6") ? 4 : 3; n += $c; p += $(c + 1) } END { print n + 0, p + 0 }')
    got=$(kadpctl stats | sed -n 's/^IPVS totals over every service: conns \([0-9]*\), inpkts \([0-9]*\),.*/\1 \2/p')
    [ "$got" = "$want" ] && break
    sleep 0.3
done
if [ -n "$got" ] && [ "$got" = "$want" ] && [ "${got%% *}" -gt 0 ] && kadpctl stats | grep -qx "backend kernel: no workers (Linux IPVS forwards)"; then
    ok "kadpctl-stats-kernel: conns and inpkts $got as ipvsadm --stats adds up"
else
    bad "kadpctl-stats-kernel: kadpctl '$got', ipvsadm '$want'"
    kadpctl stats | sed 's/^/KADP-VM:   /'
fi
# Parsed and compared on the host (kernel_ipvs_vm.sh): the VM has no JSON parser.
echo "KADP-JSON: $(kadpctl --json list)"
ipvsadm -Ln | sed 's/^/KADP-IPVSADM: /'

# -- Reload (SIGHUP) with v2.
mark=$(( $(log_lines) + 1 ))
cp /conf/v2.conf /tmp/kadp.conf
kill -HUP $kadp_pid
if wait_log "reloaded /tmp/kadp.conf"; then ok "reload-v2"; else bad "reload-v2"; finish; fi
expect_listing "v2-listing" /conf/v2.txt
same_output "kadpctl-list-v2" "list" "-Ln"
# Exactly these operations: nothing else touched.
log_since $mark | sed -n 's/^kadp: \(\(add\|edit\|delete\|cannot\|added\|removed\) .*\)/\1/p' > /tmp/ops.txt
if cmp -s /tmp/ops.txt /conf/v2-ops.txt; then ok "reload-v2-operations"; else
    bad "reload-v2-operations"
    diff /conf/v2-ops.txt /tmp/ops.txt | sed 's/^/KADP-VM:   /'
fi
after=$(conns_of 198.18.0.10:8080)
[ "$stats_8080" = 3 ] && [ "$after" = "$stats_8080" ] && ok "unchanged-service-keeps-counters: conns $after" \
    || bad "unchanged-service-keeps-counters: conns $stats_8080 before, $after after"
after=$(ipvsadm -Lnc | grep -c "198.18.0.10:8080")
[ "$after" -gt 0 ] && [ "$after" = "$conns_8080" ] && ok "unchanged-service-keeps-connections: $after" \
    || bad "unchanged-service-keeps-connections: $conns_8080 before, $after after"
after=$(conns_of 198.18.0.10:80)
[ "$stats_80" = 4 ] && [ "$after" = "$stats_80" ] && ok "edited-service-keeps-counters: conns $after" \
    || bad "edited-service-keeps-counters: conns $stats_80 before, $after after"
answers=""
for _ in 1 2 3; do answers="$answers $(get cl 198.18.0.10 80)"; done
[ "$answers" = " rs2 rs2 rs2" ] && ok "weight-0-drains-new-connections:$answers" \
    || bad "weight-0-drains-new-connections: got '$answers'"
answers=$(get cl 198.18.0.11 80)
[ "$answers" = "rs2" ] && ok "added-service-answers: $answers" || bad "added-service-answers: got '$answers'"
[ -z "$($IP route show 198.18.51.0/24)" ] && [ -n "$($IP route show 198.18.50.0/24)" ] \
    && ok "reload-removes-only-the-dropped-route" || bad "reload-removes-only-the-dropped-route"

# -- A configuration with errors: rejected, the running state stays.
listing > /tmp/before-bad.txt
mark=$(( $(log_lines) + 1 ))
cp /conf/bad.conf /tmp/kadp.conf
kill -HUP $kadp_pid
if wait_log "reload rejected"; then ok "bad-config-rejected"; else bad "bad-config-rejected"; fi
log_since $mark | grep -q "/tmp/kadp.conf:7: error: real_server: '198.18.999.11' is not an IP address" \
    && ok "bad-config-diagnostic" || bad "bad-config-diagnostic"
expect_listing "bad-config-keeps-state" /tmp/before-bad.txt
kill -0 $kadp_pid 2>/dev/null && ok "still-running" || bad "still-running"

# -- kadpctl reload does what SIGHUP does: the broken file is rejected
# (exit 1, its file:line on stderr), then a fixed one is applied.
kadpctl reload > /tmp/reload.out 2> /tmp/reload.err
rc=$?
[ $rc -eq 1 ] && grep -q "^reload rejected: /tmp/kadp.conf: [0-9]* error(s); the running configuration stays (generation 2)$" /tmp/reload.err \
    && grep -q "^  /tmp/kadp.conf:7: error: real_server: '198.18.999.11' is not an IP address$" /tmp/reload.err \
    && ok "kadpctl-reload-rejected: exit 1" \
    || { bad "kadpctl-reload-rejected: exit $rc"; sed 's/^/KADP-VM:   /' /tmp/reload.out /tmp/reload.err; }
expect_listing "kadpctl-reload-rejected-keeps-state" /tmp/before-bad.txt
# v2 with rs1 of 198.18.0.10:80 back at weight 1 (the lblcr service is
# still refused by the kernel, and said so).
sed 's/weight 0/weight 1/' /conf/v2.conf > /tmp/kadp.conf
kadpctl reload > /tmp/reload.out 2> /tmp/reload.err
rc=$?
printf '%s\n' "reload accepted: generation 3: 1 real server changed; the kernel refused 1 operation(s) (see kadp's log)" \
    "  real server 198.18.1.11:80 of TCP 198.18.0.10:80: weight 0 -> 1" > /tmp/reload.want
[ $rc -eq 0 ] && cmp -s /tmp/reload.out /tmp/reload.want && ok "kadpctl-reload-applies" \
    || { bad "kadpctl-reload-applies: exit $rc"; sed 's/^/KADP-VM:   /' /tmp/reload.out /tmp/reload.err; }
sed 's/^\(  -> 198.18.1.11:80  *Masq    \)0/\11/' /tmp/before-bad.txt > /tmp/v3.txt
expect_settings "kadpctl-reload-listing" /tmp/v3.txt
same_output "kadpctl-list-v3" "list" "-Ln"
status=$(kadpctl status 2>&1)
case "$status" in
*"generation 3"*"last reload "*" (kadpctl): accepted: generation 3: 1 real server changed"*) ok "kadpctl-status-last-reload" ;;
*) bad "kadpctl-status-last-reload: $status" ;;
esac

# -- Clean stop: what kadp added goes, the rest stays.
kill $kadp_pid
wait $kadp_pid
rc=$?
[ $rc -eq 0 ] && ok "stop-exit-0" || bad "stop-exit-0: exit $rc"
[ ! -e /run/kadp/kadp.sock ] && ok "stop-removes-control-socket" || bad "stop-removes-control-socket"
expect_listing "stop-removes-what-kadp-added" /conf/stopped.txt
$IP addr show dev d-cl | grep -q "198.18.0.1[01]/32" && bad "stop-removes-static-ipaddress" \
    || ok "stop-removes-static-ipaddress"
[ -z "$($IP route show 198.18.50.0/24)" ] && ok "stop-removes-static-route" || bad "stop-removes-static-route"
$IP addr show dev d-cl | grep -q "inet 198.18.0.1/24" && ok "stop-keeps-other-addresses" \
    || bad "stop-keeps-other-addresses"

# -- Health checkers through the host stack (TCP_CHECK, delay_loop 1,
# retry 0): a stopped listener is removed from IPVS (rs1) or kept at
# weight 0 (rs2, inhibit_on_failure); restarted, it is back. Listeners of
# their own on port 9000, so stopping them leaves the rest alone.
listen9000() { $IP netns exec rs$1 httpd -f -p 9000 -h /www/rs$1 & }
# wait_listing FILE: up to 15 s for `ipvsadm -Ln` to be FILE (then checked).
wait_listing() {
    for _ in $(seq 75); do
        listing > /tmp/wl.txt
        cmp -s /tmp/wl.txt "$1" && return
        sleep 0.2
    done
}
listen9000 1; l1=$!
listen9000 2; l2=$!
sleep 0.5
mark=$(( $(log_lines) + 1 ))
kadp -f /conf/chk.conf >> /tmp/kadp.log 2>&1 &
kadp_pid=$!
if wait_log "Activating healthchecker for service [198.18.2.12]:tcp:9000"; then ok "checkers-start"; else bad "checkers-start"; finish; fi
expect_listing "checkers-up-listing" /conf/chk-up.txt
kill $l1 $l2
wait $l1 $l2 2>/dev/null
# Both checkers must have failed: with the sorry server the listing is
# already chk-down.txt once the first failure loses the quorum.
wait_log "Removing service [198.18.1.11]:tcp:9000 from VS [198.18.0.12]:tcp:9000"
wait_log "Disabling service [198.18.2.12]:tcp:9000 of VS [198.18.0.12]:tcp:9000"
wait_listing /conf/chk-down.txt
expect_listing "checker-down-removes-or-inhibits" /conf/chk-down.txt
log_since $mark | grep -qF "Removing service [198.18.1.11]:tcp:9000 from VS [198.18.0.12]:tcp:9000" \
    && log_since $mark | grep -qF "Disabling service [198.18.2.12]:tcp:9000 of VS [198.18.0.12]:tcp:9000" \
    && ok "checker-down-log" || bad "checker-down-log"
log_since $mark | grep -q "Lost quorum 2-0=2 > [01] for VS \[198.18.0.12\]:tcp:9000" \
    && log_since $mark | grep -qF "Adding sorry server [198.18.1.13]:tcp:9000 to VS [198.18.0.12]:tcp:9000" \
    && ok "quorum-lost-sorry-server-log" || bad "quorum-lost-sorry-server-log"
# A reload of the same file keeps the verdicts (unchanged checkers go on).
kadpctl reload > /tmp/reload.out 2> /tmp/reload.err
rc=$?
[ $rc -eq 0 ] && ok "checker-reload-accepted" || { bad "checker-reload-accepted: exit $rc"; sed 's/^/KADP-VM:   /' /tmp/reload.out /tmp/reload.err; }
expect_listing "checker-reload-keeps-verdicts" /conf/chk-down.txt
listen9000 1; l1=$!
listen9000 2; l2=$!
wait_listing /conf/chk-up.txt
expect_listing "checker-up-restores" /conf/chk-up.txt
log_since $mark | grep -qF "Gained quorum 2+0=2 <= " && ok "quorum-gained-log" || bad "quorum-gained-log"
kill $kadp_pid
wait $kadp_pid
rc=$?
[ $rc -eq 0 ] && ok "checkers-stop-exit-0" || bad "checkers-stop-exit-0: exit $rc"
expect_listing "checkers-stop-removes-the-service" /conf/stopped.txt
kill $l1 $l2

finish

#!/bin/sh
# Runs as /init inside the qemu VM of tests/scripts/kernel_restart_vm.sh
# (Debian's kernel, busybox userland; network: guest_topology in
# tests/vm/guest_lib.sh). What kadp's kernel backend leaves when it is
# killed, and what the next kadp makes of it (docs/kernel-backend.md,
# "Restart after a crash", "When the kernel refuses an operation"):
#  1. kadp (restart/a.conf) with a long-lived TCP connection through IPVS
#     and VRRP MASTER; kill -9: IPVS, the static address, the VIP and the
#     record /run/kadp/kadp.state stay;
#  2. kadp again with the same file: every service adopted (no IPVS
#     operation, counters and the connection entry kept, the connection
#     still carries data), the leftover VIP removed before VRRP starts;
#  3. kill -9, then kadp with b.conf (a service gone, a weight changed):
#     exactly those two operations, the listing is b.conf's;
#  4. a reload (b2.conf) the kernel half refuses (scheduler sed not
#     loadable): the refusal logged with the kernel's reason, the other
#     changes applied, kadpctl and ipvsadm show that state; once the module
#     is there the next reload applies the refused edit;
#  5. SIGTERM removes what kadp added (services, static address, record),
#     leaving the service someone else added;
#  6. lvs_flush (c.conf) empties IPVS at start, others' services too.
# Listings are compared with restart/*.txt, connection counts aside.
. /guest_lib.sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
C=/conf/restart
RECORD=/run/kadp/kadp.state

echo "KADP-VM: kernel $(uname -r)"
modprobe ip_vs || { bad "modprobe ip_vs"; finish; }
modprobe veth || { bad "modprobe veth"; finish; }
guest_topology
# The long-lived connection's server: one connection, what it receives
# kept; its input a fifo held open (at EOF on its input nc would close).
mkfifo /tmp/sin
exec 4<>/tmp/sin
$IP netns exec rs1 nc -l -p 7000 < /tmp/sin > /tmp/srv7000.txt &
sleep 1

# Conns counter of a service (--stats); the kernel folds its per-CPU
# counters in every 2 s.
conns_of() { ipvsadm -Ln --stats -t "$1" | sed -n "s/^TCP  $1 *\([0-9]*\) .*/\1/p"; }
wait_conns() {
    for _ in $(seq 50); do
        [ "$(conns_of "$1")" = "$2" ] && return 0
        sleep 0.2
    done
    return 1
}
# The connection of the long-lived client in ipvsadm -Lnc, expiry aside.
conn7000() { ipvsadm -Lnc | awk '$5 == "198.18.0.10:7000" { print $1, $3, $4, $5, $6 }'; }
# send WORD: through the long-lived connection; true once the server has it.
send() {
    echo "$1" >&3
    for _ in $(seq 25); do
        grep -qx "$1" /tmp/srv7000.txt && return 0
        sleep 0.2
    done
    return 1
}
vip_count() { $IP -4 addr show dev d-cl | grep -c "inet 198.18.0.100/32"; }
start_kadp() {
    mark=$(( $(log_lines 2>/dev/null || echo 0) + 1 ))
    cp "$C/$1" /tmp/kadp.conf
    kadp -f /tmp/kadp.conf >> /tmp/kadp.log 2>&1 &
    kadp_pid=$!
    wait_log "running with the kernel (IPVS) backend" "$mark"
}
# expect_ops NAME FILE: the IPVS and static-entry operations kadp logged
# since $mark are exactly FILE.
expect_ops() {
    ops_since "$mark" > /tmp/ops.txt
    if cmp -s /tmp/ops.txt "$2"; then ok "$1"; else
        bad "$1"
        diff "$2" /tmp/ops.txt | sed 's/^/KADP-VM:   /'
    fi
}
logged() { log_since "$mark" | grep -qF "$1"; }

# A service nobody configured: kadp leaves it alone (but lvs_flush).
ipvsadm -A -t 198.18.0.99:80 -s rr
: > /tmp/kadp.log

# -- 1. First run, then SIGKILL.
start_kadp a.conf && ok "a-start" || { bad "a-start"; finish; }
logged "service TCP 198.18.0.99:80 in IPVS is not kadp's: left as it is (lvs_flush would remove it at start)" \
    && ok "a-foreign-service-named" || bad "a-foreign-service-named"
[ "$(grep -c '^service ' $RECORD)" = 3 ] && grep -qx "static_ipaddress 198.18.0.10/32 dev d-cl" $RECORD \
    && ok "a-record-lists-what-kadp-added" || { bad "a-record-lists-what-kadp-added"; sed 's/^/KADP-VM:   /' $RECORD; }
wait_log "(VI_1) Entering MASTER STATE" "$mark" && [ "$(vip_count)" = 1 ] && ok "a-vrrp-master-vip" || bad "a-vrrp-master-vip"
expect_settings "a-listing" $C/a.txt
mkfifo /tmp/cin
exec 3<>/tmp/cin
$IP netns exec cl nc 198.18.0.10 7000 < /tmp/cin > /dev/null &
client=$!
send one && ok "connection-carries-data" || bad "connection-carries-data"
for _ in 1 2 3; do get cl 198.18.0.10 80 > /dev/null; done
wait_conns 198.18.0.10:80 3 && wait_conns 198.18.0.10:7000 1 && ok "a-counters: 3 and 1" \
    || bad "a-counters: $(conns_of 198.18.0.10:80) $(conns_of 198.18.0.10:7000)"
conn=$(conn7000)
case "$conn" in "TCP ESTABLISHED 198.18.0.2:"*" 198.18.0.10:7000 198.18.1.11:7000") ok "a-connection-entry" ;;
*) bad "a-connection-entry: '$conn'" ;; esac

kill -9 $kadp_pid
wait $kadp_pid 2>/dev/null
expect_settings "sigkill-leaves-ipvs" $C/a.txt
[ "$(vip_count)" = 1 ] && ok "sigkill-leaves-the-vip" || bad "sigkill-leaves-the-vip"
$IP -4 addr show dev d-cl | grep -q "inet 198.18.0.10/32" && ok "sigkill-leaves-the-static-address" \
    || bad "sigkill-leaves-the-static-address"
[ -s $RECORD ] && ok "sigkill-leaves-the-record" || bad "sigkill-leaves-the-record"

# -- 2. The same configuration again: adopted, nothing redone.
start_kadp a.conf && ok "a-restart" || { bad "a-restart"; finish; }
logged "found $RECORD: the previous kadp did not stop cleanly; taking over what it left (3 IPVS services, 1 static address, 0 static routes): kept where the configuration has them, removed where not" \
    && ok "restart-finds-the-record" || bad "restart-finds-the-record"
[ "$(log_since $mark | grep -c 'is already in IPVS: adopted (its connections and counters stay)')" = 3 ] \
    && ok "restart-adopts-3-services" || bad "restart-adopts-3-services"
expect_ops "restart-same-config-no-ipvs-operation" $C/a-restart-ops.txt
logged "3 virtual services in IPVS: 0 changes" && ok "restart-0-changes" || bad "restart-0-changes"
logged "(VI_1) removed 198.18.0.100/32 dev d-cl, left on the interface by a previous run: the instance starts in BACKUP" \
    && ok "restart-removes-leftover-vip" || bad "restart-removes-leftover-vip"
expect_settings "restart-listing" $C/a.txt
same_output "restart-kadpctl-list" "list" "-Ln"
[ "$(conns_of 198.18.0.10:80)" = 3 ] && [ "$(conns_of 198.18.0.10:7000)" = 1 ] && ok "restart-keeps-counters" \
    || bad "restart-keeps-counters: $(conns_of 198.18.0.10:80) $(conns_of 198.18.0.10:7000)"
[ -n "$conn" ] && [ "$(conn7000)" = "$conn" ] && ok "restart-keeps-the-connection-entry" \
    || bad "restart-keeps-the-connection-entry: '$(conn7000)'"
send two && ok "connection-flows-after-restart" || bad "connection-flows-after-restart"
wait_log "(VI_1) Entering MASTER STATE" "$mark" && [ "$(vip_count)" = 1 ] && ok "restart-vip-back-once-as-master" \
    || bad "restart-vip-back-once-as-master: $(vip_count)"

# -- 3. Killed again; started with a changed configuration.
kill -9 $kadp_pid
wait $kadp_pid 2>/dev/null
start_kadp b.conf && ok "b-start" || { bad "b-start"; finish; }
expect_ops "b-exactly-the-differences" $C/b-ops.txt
expect_settings "b-listing" $C/b.txt
same_output "b-kadpctl-list" "list" "-Ln"
logged "(VI_1) removed 198.18.0.100/32 dev d-cl" && [ "$(vip_count)" = 0 ] && ok "b-backup-has-no-leftover-vip" \
    || bad "b-backup-has-no-leftover-vip: $(vip_count)"
send three && ok "connection-flows-after-changed-restart" || bad "connection-flows-after-changed-restart"
[ "$(grep -c '^service ' $RECORD)" = 2 ] && ok "b-record-follows" || bad "b-record-follows"

# -- 4. A reload the kernel refuses in part, then retried.
mark=$(( $(log_lines) + 1 ))
cp $C/b2.conf /tmp/kadp.conf
kadpctl reload > /tmp/reload.out 2> /tmp/reload.err
rc=$?
[ $rc -eq 0 ] && [ "$(sed -n 1p /tmp/reload.out)" = "reload accepted: generation 2: 1 service added, 1 service changed, 1 real server changed; the kernel refused 1 operation(s) (see kadp's log)" ] \
    && ok "half-refused-reload-reply" || { bad "half-refused-reload-reply: exit $rc"; sed 's/^/KADP-VM:   /' /tmp/reload.out /tmp/reload.err; }
expect_ops "half-refused-reload-operations" $C/b2-ops.txt
expect_settings "half-refused-reload-listing" $C/b2-partial.txt
same_output "half-refused-reload-kadpctl-list" "list" "-Ln"
case "$(kadpctl status)" in
*"generation 2"*"services 3, real servers 4,"*) ok "half-refused-reload-status-counts-the-configuration" ;;
*) bad "half-refused-reload-status-counts-the-configuration: $(kadpctl status | tr '\n' '|')" ;;
esac
[ "$(get cl 198.18.0.10 9090)" = rs2 ] && ok "half-refused-reload-new-service-answers" \
    || bad "half-refused-reload-new-service-answers"
insmod /extra/ip_vs_sed.ko || bad "insmod ip_vs_sed"
mark=$(( $(log_lines) + 1 ))
kadpctl reload > /tmp/reload.out 2> /tmp/reload.err
rc=$?
[ $rc -eq 0 ] && [ "$(cat /tmp/reload.out)" = "reload accepted: generation 3: no change" ] \
    && ok "retry-reload-reply" || { bad "retry-reload-reply: exit $rc"; sed 's/^/KADP-VM:   /' /tmp/reload.out /tmp/reload.err; }
expect_ops "retry-applies-the-refused-edit" $C/b2-retry-ops.txt
expect_settings "retry-listing" $C/b2.txt
same_output "retry-kadpctl-list" "list" "-Ln"
send four && ok "connection-flows-after-reloads" || bad "connection-flows-after-reloads"

# -- 5. Clean stop.
kill $kadp_pid
wait $kadp_pid
rc=$?
[ $rc -eq 0 ] && ok "stop-exit-0" || bad "stop-exit-0: exit $rc"
expect_settings "stop-leaves-only-the-foreign-service" $C/stopped.txt
$IP -4 addr show dev d-cl | grep -q "inet 198.18.0.10/32" && bad "stop-removes-the-static-address" \
    || ok "stop-removes-the-static-address"
[ ! -e $RECORD ] && [ ! -e /run/kadp/kadp.sock ] && ok "stop-removes-record-and-socket" \
    || bad "stop-removes-record-and-socket"
kill $client 2>/dev/null
exec 3>&-

# -- 6. lvs_flush at start: everything goes, then kadp's services come.
ipvsadm -A -t 198.18.0.10:8080 -s wlc   # as if left by something else
start_kadp c.conf && ok "c-start" || { bad "c-start"; finish; }
logged "lvs_flush: IPVS flushed" && ok "c-lvs-flush-logged" || bad "c-lvs-flush-logged"
expect_settings "c-listing-is-the-config-alone" $C/c.txt
kill $kadp_pid
wait $kadp_pid
expect_settings "c-stop-leaves-ipvs-empty" $C/empty.txt

finish

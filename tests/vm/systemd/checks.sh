#!/bin/sh
# Runs in: the qemu VM of tests/scripts/systemd_unit_vm.sh, as
# kadp-vm-checks.service under the real systemd (PID 1, Debian's 252).
# kadp.service is the unit meson installed; /etc/default/kadp starts as the
# installed example. Each check prints "KADP-VM: PASS|FAIL name" on the
# serial console (tests/vm/guest_lib.sh), then the VM powers off.
#
# Network: lan (kadp's DPDK af_packet port) -- eth0 in ns "cl" 198.18.0.1;
#          srv (DPDK port)                  -- eth0 in ns "rs1" 198.19.0.1 (httpd "rs1").
#
# Run A (DPDK, KADP_EAL_OPTS "--lcores 0@0,3@0 ...", KADP_OPTS "-S 0"):
#  1. `systemctl start kadp` returns with the unit active (running), kadp's
#     STATUS= as its status text, systemd logged READY=1 from kadp's pid,
#     kadpctl status answers and the VIP answers;
#  2. the EnvironmentFile's words reached kadp: its worker is on lcore 3,
#     its command line carries both variables;
#  6a. -S 0: kadp's info lines are in the journal from syslog (/dev/log),
#     facility local0 (16), priority info (6), and not on its stderr;
#  3. `systemctl reload kadp` with a new service in the file: applied
#     (kadpctl list, the VIP on :8080), systemd got RELOADING=1 then READY=1,
#     the unit active (running) again, same main PID;
#  5. `systemctl stop kadp` (VRRP MASTER): STOPPING=1, exit status 0, the
#     unit inactive, its cgroup gone, a priority-0 advert seen by the client.
# Run B (DPDK, a drop-in: WatchdogSec=4s, KADP_TEST_STALL_WORKER; KADP_OPTS
# "-S 0 --log-level warning"):
#  4. the stuck worker is logged at warning, systemd's watchdog kills kadp
#     (SIGABRT) and restarts it: NRestarts=1, a new main PID, active again;
#  6b. that first run's syslog lines hold the warning and no info line;
#  the restarted kadp (the stall drop-in gone) stays, and stops with 0.
# Run C (kernel backend, KADP_OPTS "--backend kernel"): start, IPVS
#  programmed (ipvsadm), reload to another scheduler applied, stop leaves
#  IPVS empty with exit status 0 (ProtectKernelModules=yes: the kernel
#  loads ip_vs* itself).
. /usr/lib/kadp-vm/guest_lib.sh
V=/usr/lib/kadp-vm
# Where meson installed the unit, kadp, kadpctl and the example of
# /etc/default/kadp (build_initramfs.sh writes it).
. $V/layout
PATH=$KADP_SBINDIR:$PATH
DROPIN=/etc/systemd/system/kadp.service.d

# prop NAME: a property of kadp.service.
prop() { systemctl show -p "$1" --value kadp; }
# state: "ActiveState/SubState".
state() { echo "$(prop ActiveState)/$(prop SubState)"; }
# pid1_log: systemd's own log lines (debug from here on).
pid1_log() { journalctl _PID=1 -o cat --no-pager; }
# syslog_of PID [FIELD=VALUE...]: the syslog lines (facility local0) kadp
# process PID sent to /dev/log.
syslog_of() {
    spid=$1
    shift
    journalctl _PID="$spid" _TRANSPORT=syslog SYSLOG_FACILITY=16 SYSLOG_IDENTIFIER=kadp "$@" -o cat --no-pager
}
# stderr_of PID: what kadp process PID wrote on stdout/stderr (the journal's stream).
stderr_of() { journalctl _PID="$1" _TRANSPORT=stdout -o cat --no-pager; }
uptime_s() { cut -d. -f1 /proc/uptime; }
# until_true SECONDS CMD...: CMD until it succeeds, for at most SECONDS.
until_true() {
    limit=$(($(uptime_s) + $1))
    shift
    while :; do
        "$@" && return 0
        [ "$(uptime_s)" -ge "$limit" ] && return 1
        sleep 0.2
    done
}
# exited_0 PID: systemd logged that kadp process PID exited with status 0
# (`systemctl show` forgets it once the stopped unit is garbage-collected).
exited_0() {
    pid1_log | grep -A1 -F "kadp.service: Child $1 belongs to kadp.service." \
        | grep -qF "kadp.service: Main process exited, code=exited, status=0/SUCCESS"
}
has_line() { grep -qF "$1" "$2"; }
# in_order FILE TEXT...: FILE has lines holding each TEXT, in that order.
in_order() {
    f=$1
    shift
    awk -v n=$# 'BEGIN { for (i = 1; i <= n; i++) want[i] = ARGV[i + 1]; ARGC = 2; k = 1 }
        k <= n && index($0, want[k]) { k++ } END { exit k <= n }' "$f" "$@"
}
# kadp_env EAL_OPTS KADP_OPTS: /etc/default/kadp from the installed example.
kadp_env() {
    sed -e "s|^KADP_EAL_OPTS=.*|KADP_EAL_OPTS=\"$1\"|" -e "s|^KADP_OPTS=.*|KADP_OPTS=\"$2\"|" \
        "$KADP_DEFAULT_EXAMPLE" > /etc/default/kadp
}
EAL="--lcores 0@0,3@0 --no-huge -m 256 --no-pci --no-telemetry"
dump_journal() {
    journalctl -o short-monotonic --no-pager -u kadp > /tmp/kadp.log
}
end() {
    [ "$fail" -gt 0 ] && dump_journal
    finish
}

echo "KADP-VM: $(systemctl --version | head -1), kernel $(uname -r)"
# systemd's debug log into the journal: the notify messages it receives.
systemctl log-level debug
systemctl log-target journal
modprobe veth && modprobe tun || { bad "modprobe veth tun"; end; }

# --- the network --------------------------------------------------------------------
$IP link set lo up
$IP netns add cl
$IP netns add rs1
$IP link add lan type veth peer name eth0 netns cl
$IP link add srv type veth peer name eth0 netns rs1
for d in lan srv; do
    $IP link set $d up
    ethtool -K $d tx off tso off gso off gro off > /dev/null 2>&1
    # The root namespace's kernel ignores its copy of what af_packet sees.
    sysctl -qw net.ipv4.conf.$d.rp_filter=1 net.ipv4.conf.$d.arp_ignore=8 net.ipv6.conf.$d.disable_ipv6=1
done
for ns in cl rs1; do
    $IP -n $ns link set lo up
    $IP -n $ns link set eth0 up
    $IP netns exec $ns ethtool -K eth0 tx off tso off gso off gro off > /dev/null 2>&1
done
$IP -n cl addr add 198.18.0.1/24 dev eth0
$IP -n rs1 addr add 198.19.0.1/24 dev eth0
$IP -n rs1 route add default via 198.19.0.254
mkdir -p /www/rs1 /etc/kadp
echo rs1 > /www/rs1/index.html
$IP netns exec rs1 httpd -p 80 -h /www/rs1

unit=$(prop FragmentPath)
[ "$unit" = "$KADP_UNIT" ] && ok "unit-is-the-installed-one: $unit" || bad "unit-is-the-installed-one: '$unit'"

# --- run A ----------------------------------------------------------------------------
cp $V/dpdk.conf /etc/kadp/keepalived.conf
kadp_env "$EAL" "-S 0"
systemctl start kadp
rc=$?
# 1. The moment systemctl returns.
st=$(state)
text=$(prop StatusText)
kadpctl status > /tmp/status.txt 2>&1
krc=$?
body=$(get cl 198.18.0.100 80)
pid=$(prop MainPID)
# A start that failed: the rest cannot run (the journal follows).
[ $rc -eq 0 ] || { bad "1-start: exit $rc, $st"; systemctl stop kadp; end; }
[ "$st" = active/running ] && [ "$text" = "serving 1 virtual service, generation 1" ] \
    && ok "1-start-returns-active-running-with-kadp-status" \
    || bad "1-start-returns-active-running-with-kadp-status: $st, '$text'"
[ "$(prop Type)" = notify ] && [ "$(prop NotifyAccess)" = main ] && ok "1-type-notify" \
    || bad "1-type-notify: $(prop Type) $(prop NotifyAccess)"
pid1_log | grep -F "kadp.service" > /tmp/pid1.txt
if in_order /tmp/pid1.txt "kadp.service: Changed dead -> start" \
    "kadp.service: Got notification message from PID $pid (READY=1, STATUS=serving 1 virtual service, generation 1, MAINPID=$pid)" \
    "kadp.service: Changed start -> running" "kadp.service/start finished, result=done"; then
    ok "1-systemd-running-on-ready-from-kadp"
else
    bad "1-systemd-running-on-ready-from-kadp"
    tail -15 /tmp/pid1.txt | sed 's/^/KADP-VM:   /'
fi
[ $krc -eq 0 ] && has_line "backend dpdk" /tmp/status.txt && ok "1-kadpctl-status-answers" \
    || { bad "1-kadpctl-status-answers: exit $krc"; sed 's/^/KADP-VM:   /' /tmp/status.txt; }
[ "$body" = rs1 ] && ok "1-vip-answers-once-started" || bad "1-vip-answers-once-started: '$body'"

# 2. /etc/default/kadp reached kadp.
has_line "workers 1 (lcores 3)" /tmp/status.txt && ok "2-eal-opts-worker-on-lcore-3" \
    || { bad "2-eal-opts-worker-on-lcore-3"; sed 's/^/KADP-VM:   /' /tmp/status.txt; }
cmd=$(tr '\0' ' ' < /proc/$pid/cmdline)
[ "$cmd" = "$KADP_SBINDIR/kadp $EAL -- -f /etc/kadp/keepalived.conf -S 0 " ] && ok "2-command-line-from-environment-file" \
    || bad "2-command-line-from-environment-file: '$cmd'"

# 6a. Syslog, facility local0, priority info; not on stderr.
if until_true 10 eval 'syslog_of $pid PRIORITY=6 | grep -qx "control socket /run/kadp/kadp.sock"' \
    && syslog_of $pid PRIORITY=6 | grep -qx "running with 1 worker (NAT pipeline)"; then
    ok "6-syslog-info-lines-local0"
else
    bad "6-syslog-info-lines-local0"
    journalctl _PID=$pid -o verbose --no-pager | grep -E "MESSAGE=|PRIORITY=|FACILITY=|TRANSPORT=" | tail -40 | sed 's/^/KADP-VM:   /'
fi
stderr_of $pid > /tmp/stderr.txt
# DPDK's EAL lines are there (the stream works); kadp's own lines are not.
grep -q "^EAL: " /tmp/stderr.txt && ! grep -q "running with\|control socket" /tmp/stderr.txt \
    && ok "6-not-on-stderr" || { bad "6-not-on-stderr"; sed 's/^/KADP-VM:   /' /tmp/stderr.txt; }

# 3. Reload.
cp $V/dpdk-reload.conf /etc/kadp/keepalived.conf
systemctl reload kadp
rc=$?
until_true 20 eval 'kadpctl status 2>/dev/null | grep -q "^services 2,"'
kadpctl list > /tmp/list.txt 2>&1
until_true 10 eval '[ "$(state)" = active/running ]'
st=$(state)
text=$(prop StatusText)
[ $rc -eq 0 ] && grep -q "^TCP  198.18.0.100:8080 rr" /tmp/list.txt && [ "$(get cl 198.18.0.100 8080)" = rs1 ] \
    && ok "3-reload-applied" || { bad "3-reload-applied: rc $rc"; sed 's/^/KADP-VM:   /' /tmp/list.txt; }
case "$text" in "serving 2 virtual services, generation "*) ;; *) st="$st '$text'" ;; esac
[ "$st" = active/running ] && [ "$(prop MainPID)" = "$pid" ] && [ "$(prop ReloadResult)" = success ] \
    && ok "3-active-running-after-reload" || bad "3-active-running-after-reload: $st pid $(prop MainPID)"
pid1_log | grep -F "kadp.service" > /tmp/pid1.txt
if in_order /tmp/pid1.txt "kadp.service: About to execute /bin/kill -HUP" \
    "kadp.service: Got notification message from PID $pid (RELOADING=1, STATUS=reloading, MONOTONIC_USEC=" \
    "kadp.service: Got notification message from PID $pid (READY=1, STATUS=serving 2 virtual services, generation " \
    "kadp.service: Changed reload -> running"; then
    ok "3-systemd-reloading-until-ready"
else
    bad "3-systemd-reloading-until-ready"
    tail -15 /tmp/pid1.txt | sed 's/^/KADP-VM:   /'
fi

# 5. Stop, as VRRP master: the client sees the priority-0 advert.
until_true 15 eval 'syslog_of $pid | grep -qF "(VI_1) Entering MASTER STATE"' || bad "5-vrrp-master-before-stop"
$IP netns exec cl tcpdump -Z root -U -n -i eth0 -w /tmp/vrrp.pcap ip proto 112 > /tmp/tcpdump.err 2>&1 &
tcpdump_pid=$!
until_true 5 grep -q "listening on" /tmp/tcpdump.err
sleep 1.5
systemctl stop kadp
rc=$?
sleep 0.5
kill $tcpdump_pid
wait $tcpdump_pid
tcpdump -Z root -n -v -r /tmp/vrrp.pcap > /tmp/vrrp.txt 2>&1
st=$(state)
[ $rc -eq 0 ] && [ "$st" = inactive/dead ] && exited_0 $pid && ok "5-stop-exit-0-inactive" \
    || bad "5-stop-exit-0-inactive: rc $rc $st"
[ ! -e /sys/fs/cgroup/system.slice/kadp.service ] && ! pidof kadp > /dev/null && ok "5-nothing-left-in-the-cgroup" \
    || bad "5-nothing-left-in-the-cgroup: $(cat /sys/fs/cgroup/system.slice/kadp.service/cgroup.procs 2>/dev/null)"
pid1_log | grep -qF "kadp.service: Got notification message from PID $pid (STOPPING=1, STATUS=stopping (SIGTERM))" \
    && syslog_of $pid | grep -qx "stopped" && ok "5-stopping-notified-and-logged" || bad "5-stopping-notified-and-logged"
grep -q "vrid 51, prio 100," /tmp/vrrp.txt && grep -q "vrid 51, prio 0," /tmp/vrrp.txt && ok "5-priority-0-advert-on-stop" \
    || { bad "5-priority-0-advert-on-stop"; sed 's/^/KADP-VM:   /' /tmp/vrrp.txt /tmp/tcpdump.err | tail -10; }

# --- run B: the watchdog --------------------------------------------------------------
cp $V/dpdk.conf /etc/kadp/keepalived.conf
kadp_env "$EAL" "-S 0 --log-level warning"
mkdir -p $DROPIN
printf '[Service]\nWatchdogSec=4s\nRestartSec=1s\n' > $DROPIN/watchdog.conf
printf '[Service]\nEnvironment=KADP_TEST_STALL_WORKER=4000:60000\n' > $DROPIN/stall.conf
systemctl daemon-reload
systemctl start kadp || { bad "4-start"; systemctl stop kadp; end; }
pid=$(prop MainPID)
# The restart must not stall again: the drop-in goes (the running kadp has
# its environment already; the restart comes seconds after the stall).
rm $DROPIN/stall.conf
systemctl daemon-reload
[ "$(prop WatchdogUSec)" = 4s ] || bad "4-watchdog-4s: $(prop WatchdogUSec)"
until_true 40 eval '[ "$(prop NRestarts)" = 1 ] && [ "$(state)" = active/running ]'
npid=$(prop MainPID)
pid1_log | grep -F "kadp.service" > /tmp/pid1.txt
if [ "$(prop NRestarts)" = 1 ] && [ "$(state)" = active/running ] && [ "$npid" != "$pid" ] \
    && in_order /tmp/pid1.txt "kadp.service: Watchdog timeout (limit 4s)!" \
        "kadp.service: Killing process $pid (kadp) with signal SIGABRT." \
        "kadp.service: Main process exited, code=killed, status=6/ABRT" \
        "kadp.service: Failed with result 'watchdog'." \
        "kadp.service: Scheduled restart job, restart counter is at 1." \
        "kadp.service: Got notification message from PID $npid (READY=1"; then
    ok "4-watchdog-kills-and-restarts-kadp"
else
    bad "4-watchdog-kills-and-restarts-kadp: NRestarts $(prop NRestarts), $(state), pid $pid -> $npid"
    grep -v WATCHDOG=1 /tmp/pid1.txt | tail -25 | sed 's/^/KADP-VM:   /'
fi
syslog_of $pid PRIORITY=4 > /tmp/warn.txt
grep -qx "worker on lcore 3 stopped polling for [0-9]* ms" /tmp/warn.txt && ok "4-stuck-worker-logged-as-warning" \
    || { bad "4-stuck-worker-logged-as-warning"; syslog_of $pid | sed 's/^/KADP-VM:   /'; }
# 6b. --log-level warning: not one info line from that run.
n=$(syslog_of $pid PRIORITY=6 | wc -l)
[ "$n" = 0 ] && [ -s /tmp/warn.txt ] && ! syslog_of $pid | grep -q "running with\|control socket" \
    && ok "6-log-level-warning-drops-info" || bad "6-log-level-warning-drops-info: $n info lines"
sleep 6
! grep -q KADP_TEST_STALL_WORKER /proc/$npid/environ && [ "$(prop NRestarts)" = 1 ] && [ "$(prop MainPID)" = "$npid" ] \
    && ok "4-restarted-kadp-stays" \
    || bad "4-restarted-kadp-stays: NRestarts $(prop NRestarts)"
systemctl stop kadp
exited_0 $npid && ok "4-restarted-kadp-stops-cleanly" || bad "4-restarted-kadp-stops-cleanly"
rm -f $DROPIN/watchdog.conf
systemctl daemon-reload

# --- run C: the kernel backend ----------------------------------------------------------
# No IPVS module yet: under ProtectKernelModules=yes the kernel itself loads
# ip_vs (generic netlink family) and the schedulers (ip_vs_rr, ip_vs_wlc).
grep -q "^ip_vs" /proc/modules && bad "C-no-ipvs-module-before: $(grep ^ip_vs /proc/modules | cut -d' ' -f1)"
cp $V/kernel.conf /etc/kadp/keepalived.conf
kadp_env "-l 0" "--backend kernel"
systemctl start kadp
rc=$?
st=$(state)
pid=$(prop MainPID)
ipvsadm -Ln > /tmp/ipvs.txt 2>&1
[ $rc -eq 0 ] && [ "$st" = active/running ] && [ "$(prop StatusText)" = "serving (kernel IPVS backend)" ] \
    && grep -q "^TCP  198.18.5.1:80 rr" /tmp/ipvs.txt && grep -q "198.18.6.1:80" /tmp/ipvs.txt \
    && grep -q "^ip_vs_rr " /proc/modules && ok "C-kernel-start-programs-ipvs" || { bad "C-kernel-start-programs-ipvs: rc $rc $st"; sed 's/^/KADP-VM:   /' /tmp/ipvs.txt; }
cp $V/kernel-reload.conf /etc/kadp/keepalived.conf
systemctl reload kadp
until_true 20 eval 'ipvsadm -Ln | grep -q "^TCP  198.18.5.1:80 wlc"' && until_true 10 eval '[ "$(state)" = active/running ]' \
    && grep -q "^ip_vs_wlc " /proc/modules && ok "C-kernel-reload-applied" || { bad "C-kernel-reload-applied: $(state)"; ipvsadm -Ln | sed 's/^/KADP-VM:   /'; }
systemctl stop kadp
exited_0 $pid && [ -z "$(ipvsadm -Ln | sed 1,3d)" ] && ok "C-kernel-stop-clean" \
    || { bad "C-kernel-stop-clean"; ipvsadm -Ln | sed 's/^/KADP-VM:   /'; }

end

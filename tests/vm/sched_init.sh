#!/bin/sh
# Runs as /init inside the qemu VM of tests/scripts/sched_vs_kernel_vm.sh
# (Debian's kernel, busybox userland): which real server Linux IPVS's sh and
# mh give each of 60 client addresses.
#   client ns "cl" (198.18.0.2, .20-.79) -- d-cl [director: IPVS] d-rs1 -- ns "rs1" 198.18.1.11
#                                                                 d-rs2 -- ns "rs2" 198.18.2.12
# A third real server, 198.18.1.13, does not exist: its connections never
# open, but IPVS has scheduled them all the same. Dests are added 198.18.1.11
# (weight 1), 198.18.2.12 (2), 198.18.1.13 (3). For each case the connection
# table is printed as "KADP-SCHED: CASE CLIENT:PORT DEST:PORT"; the host
# compares it with kadp's choices. Ends with "KADP-SCHED: DONE".
. /guest_lib.sh  # guest_topology
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
done_() { echo "KADP-SCHED: DONE"; poweroff -f; }

for m in ip_vs ip_vs_sh ip_vs_mh veth; do
    modprobe $m || { echo "KADP-SCHED: FAIL modprobe $m"; done_; }
done
guest_topology
# The VIP is the director's own (IPVS's LOCAL_IN), and the client has 60
# addresses to come from.
$IP addr add 198.18.0.100/32 dev lo
i=20
while [ $i -lt 80 ]; do $IP -n cl addr add 198.18.0.$i/24 dev eth0; i=$((i + 1)); done
sleep 1

# run CASE VPORT SCHED [FLAGS]: a service on 198.18.0.100:VPORT (a port per
# case: connections of the previous cases linger in the table), one
# connection from each client address (the route's preferred source picks
# it), then the table's connections to that service.
run() {
    vip=198.18.0.100:$2
    if [ -n "${4:-}" ]; then
        ipvsadm -A -t $vip -s "$3" -b "$4" || echo "KADP-SCHED: FAIL ipvsadm -A $3 $4"
    else
        ipvsadm -A -t $vip -s "$3" || echo "KADP-SCHED: FAIL ipvsadm -A $3"
    fi
    ipvsadm -a -t $vip -r 198.18.1.11:80 -m -w 1
    ipvsadm -a -t $vip -r 198.18.2.12:80 -m -w 2
    ipvsadm -a -t $vip -r 198.18.1.13:80 -m -w 3
    i=20 pids=
    while [ $i -lt 80 ]; do
        $IP -n cl route replace 198.18.0.100/32 dev eth0 src 198.18.0.$i
        $IP netns exec cl nc -w 2 198.18.0.100 $2 </dev/null >/dev/null 2>&1 &
        pids="$pids $!"
        sleep 0.05
        i=$((i + 1))
    done
    sleep 1
    ipvsadm -Lnc | awk -v c="$1" -v v=$vip '$1 == "TCP" && $5 == v { print "KADP-SCHED: " c " " $4 " " $6 }'
    kill $pids 2>/dev/null
}
run sh 80 sh
run sh-port 81 sh sh-port
run mh 82 mh
run mh-port 83 mh mh-port
done_

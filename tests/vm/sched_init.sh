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
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
IP=/sbin/ip
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
done_() { echo "KADP-SCHED: DONE"; poweroff -f; }

for m in ip_vs ip_vs_sh ip_vs_mh veth; do
    modprobe $m || { echo "KADP-SCHED: FAIL modprobe $m"; done_; }
done
$IP link set lo up
echo 1 > /proc/sys/net/ipv4/ip_forward
$IP netns add cl
$IP link add d-cl type veth peer name eth0 netns cl
$IP addr add 198.18.0.1/24 dev d-cl
$IP addr add 198.18.0.100/32 dev lo
$IP link set d-cl up
$IP -n cl link set lo up
$IP -n cl addr add 198.18.0.2/24 dev eth0
i=20
while [ $i -lt 80 ]; do $IP -n cl addr add 198.18.0.$i/24 dev eth0; i=$((i + 1)); done
$IP -n cl link set eth0 up
for i in 1 2; do
    ns=rs$i
    $IP netns add $ns
    $IP link add d-$ns type veth peer name eth0 netns $ns
    $IP addr add 198.18.$i.1/24 dev d-$ns
    $IP link set d-$ns up
    $IP -n $ns link set lo up
    $IP -n $ns addr add 198.18.$i.1$i/24 dev eth0
    $IP -n $ns link set eth0 up
    $IP -n $ns route add default via 198.18.$i.1
    mkdir -p /www/$ns
    echo $ns > /www/$ns/index.html
    $IP netns exec $ns httpd -f -p 80 -h /www/$ns &
done
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

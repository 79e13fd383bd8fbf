# Runs in: a qemu VM's /init (busybox sh), sourced as /guest_lib.sh by
# tests/vm/init.sh, restart_init.sh and sched_init.sh, or by a unit of the
# systemd VM (tests/vm/systemd/checks.sh).
# The network of a kernel-IPVS VM test and the checks it prints on the
# console for its host script: each "KADP-VM: PASS name" or "KADP-VM: FAIL
# name: why"; finish prints kadp's log (/tmp/kadp.log) as "KADP-LOG: "
# lines and "KADP-VM: DONE pass N fail N", then powers the VM off.
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
IP=/sbin/ip
pass=0
fail=0
ok() { echo "KADP-VM: PASS $1"; pass=$((pass + 1)); }
bad() { echo "KADP-VM: FAIL $1"; fail=$((fail + 1)); }
finish() {
    [ -f /tmp/kadp.log ] && sed 's/^/KADP-LOG: /' /tmp/kadp.log
    echo "KADP-VM: DONE pass $pass fail $fail"
    poweroff -f
}
# `ipvsadm -Ln` without its header line (the table size varies).
listing() { ipvsadm -Ln | sed 1d; }
# expect_settings NAME FILE: `ipvsadm -Ln` is FILE but for the connection
# counts (columns 49 on), which traffic and expiry move.
expect_settings() {
    listing | cut -c1-48 > /tmp/got.txt
    cut -c1-48 "$2" > /tmp/want.txt
    if cmp -s /tmp/got.txt /tmp/want.txt; then
        ok "$1"
    else
        bad "$1: ipvsadm -Ln differs from $2 (connection counts aside)"
        diff /tmp/want.txt /tmp/got.txt | sed 's/^/KADP-VM:   /'
        sed 's/^/KADP-GOT: /; s/$/|/' /tmp/got.txt
    fi
}
# same_output NAME "KADPCTL ARGS" "IPVSADM ARGS": byte for byte (three
# tries: a counter may move between the two reads).
same_output() {
    for _ in 1 2 3; do
        kadpctl $2 > /tmp/kadpctl.txt 2> /tmp/kadpctl.err
        krc=$?
        ipvsadm $3 > /tmp/ipvsadm.txt
        if [ $krc -eq 0 ] && [ -s /tmp/ipvsadm.txt ] && cmp -s /tmp/kadpctl.txt /tmp/ipvsadm.txt; then
            ok "$1"
            return
        fi
        sleep 0.3
    done
    bad "$1: kadpctl $2 (exit $krc) differs from ipvsadm $3"
    diff /tmp/ipvsadm.txt /tmp/kadpctl.txt | sed 's/^/KADP-VM:   /'
    sed 's/^/KADP-VM:   stderr: /' /tmp/kadpctl.err
}
log_lines() { wc -l < /tmp/kadp.log; }
# The kadp log from line $1 on.
log_since() { sed -n "$1,\$p" /tmp/kadp.log; }
# wait_log TEXT [FROM]: up to 10 s for the kadp log (from line FROM) to
# contain TEXT.
wait_log() {
    for _ in $(seq 50); do
        log_since "${2:-1}" | grep -qF "$1" && return 0
        sleep 0.2
    done
    return 1
}
# The IPVS operations kadp logged from line $1 on, one a line.
ops_since() { log_since "$1" | sed -n 's/^kadp: \(\(add\|edit\|delete\|cannot\|added\|removed\|adopted\) .*\)/\1/p'; }
# get NS ADDR PORT: the body of an HTTP GET / from NS ("" on failure).
get() { printf 'GET / HTTP/1.0\r\n\r\n' | $IP netns exec "$1" nc -w 5 "$2" "$3" 2>/dev/null | tail -1 | tr -d '\r'; }

# The network of the kernel-IPVS VM tests (as tests/vm/init.sh builds it,
# IPv4 only):
#   client ns "cl" 198.18.0.2 -- d-cl 198.18.0.1 [director: root ns, IPVS, kadp]
#                                 d-rs1 198.18.1.1 -- ns "rs1" 198.18.1.11
#                                 d-rs2 198.18.2.1 -- ns "rs2" 198.18.2.12
# with busybox httpd answering "rs1" / "rs2" on ports 80 and 8080.
guest_topology() {
    $IP link set lo up
    echo 1 > /proc/sys/net/ipv4/ip_forward
    $IP netns add cl
    $IP link add d-cl type veth peer name eth0 netns cl
    $IP addr add 198.18.0.1/24 dev d-cl
    $IP link set d-cl up
    $IP -n cl link set lo up
    $IP -n cl addr add 198.18.0.2/24 dev eth0
    $IP -n cl link set eth0 up
    $IP -n cl route add default via 198.18.0.1
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
        $IP netns exec $ns httpd -f -p 8080 -h /www/$ns &
    done
}

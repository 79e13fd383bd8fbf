#!/usr/bin/env bash
# DR and TUN end to end: kadp on two af_packet veths (tests/lib/nat_topology.sh),
# real nginx servers that answer the client directly, bypassing kadp.
#
#   client c0 198.18.0.1 --- [lan 198.18.0.254  kadp  srv 198.19.0.254] --- bridge br0 --- s1 198.19.0.1 (DR)
#          c1 198.18.1.1 --- r1 (router in the bridge namespace, br0 198.19.0.253) ---+--- s2 198.19.0.2 (TUN)
#
#   VIP 198.18.0.100:80 lb_kind DR  -> s1: the VIP on its loopback, arp_ignore=1,
#                                       arp_announce=2, nginx on the VIP.
#   VIP 198.18.0.101:80 lb_kind TUN -> s2: the VIP on an IP-in-IP device
#                                       "ipip0", rp_filter off, nginx on the VIP.
#   The servers route 198.18.0.0/24 via 198.19.0.253, which reaches the
#   client on c1: requests go through kadp (c0), answers come back on c1.
#
#   VIP 198.18.0.102:80 lb_kind TUN -> a qemu VM 198.19.0.4 on the bridge
#                                       (tests/vm/ipip): Debian's kernel with
#                                       a real ipip device tunl0 holding the
#                                       VIP, rp_filter off, nginx on the VIP.
#
# The host kernel has no ipip module (TESTING.md), so s2's ipip0 is a TUN
# device fed by tests/lib/ipip_decap.py: it reads IP protocol 4 with a raw
# socket, strips the outer header and hands the inner packet to the kernel,
# which then treats it as the ipip device would (VIP local there, rp_filter
# off). The VM (qemu, TCG, booted while the rest is set up) is the kernel's
# own ipip; without qemu or linux-image-cloud-amd64 its cases are skipped.
#
# Cases per real server (dr, tun, tun_vm): a small page, a 4 MB file intact
# (sha256), the answer bytes arriving on c1 and not on c0; then kadp's
# xmit_dr / xmit_tun counters moved and nat_in / nat_out did not. About 15 s
# (the VM boots in ~8 s, in parallel with the rest).
#
# Needs root, nginx (nginx-light), curl, ethtool, /usr/bin/python3; for the
# VM qemu-system-x86, linux-image-cloud-amd64, busybox-static, cpio, kmod
# (all in scripts/install-deps.sh's test set). Exit 0
# pass, 77 skip, else fail; the last line is "COUNT passed failed skipped".
# Environment: KADP (default build/kadp).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}

. tests/lib/nat_topology.sh
. tests/vm/vm_lib.sh
nat_topo_test_start "$KADP"
[ -x /usr/bin/python3 ] && [ -c /dev/net/tun ] || { echo "SKIP: no /usr/bin/python3 or /dev/net/tun"; echo "COUNT 0 0 1"; exit 77; }

if ! nat_topo_setup "kadp-drtun-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR
C=$NT_NS_C BR=$NT_NS_BR S1=${NT_NS_S[0]} S2=${NT_NS_S[1]}
head -c 4000000 /dev/urandom >"$tmp/big.bin"
nat_topo_publish "$tmp/big.bin" || { echo "FAIL: topology setup (big.bin)"; echo "COUNT 0 1 0"; exit 1; }

setup_return_path() {
  # client c1 <-> r1 in the bridge namespace, which routes between br0 and r1.
  ip link add c1 netns "$C" type veth peer name r1 netns "$BR" || return 1
  ip netns exec "$C" ip addr add 198.18.1.1/24 dev c1 &&
    ip netns exec "$C" ip link set c1 up &&
    ip netns exec "$BR" ip addr add 198.18.1.254/24 dev r1 &&
    ip netns exec "$BR" ip link set r1 up &&
    ip netns exec "$BR" ip addr add 198.19.0.253/24 dev br0 &&
    ip netns exec "$BR" ip route add 198.18.0.0/24 dev r1 &&
    ip netns exec "$BR" sysctl -qw net.ipv4.ip_forward=1 || return 1
  # Answers from the VIPs arrive on c1 while the client's route to them is c0.
  ip netns exec "$C" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv4.conf.c0.rp_filter=0 net.ipv4.conf.c1.rp_filter=0 || return 1
  local ns
  for ns in "$S1" "$S2"; do
    ip netns exec "$ns" ip route add 198.18.0.0/24 via 198.19.0.253 || return 1
  done
}

# nginx NAME NS VIP ROOT: one more nginx in NS listening on VIP:80.
start_vip_nginx() {
  local d=$tmp/$1
  nat_topo_nginx_conf "$d" "        listen $3:80;
        root $4;"
  ip netns exec "$2" nginx -c "$d/nginx.conf" -e "$d/error.log" >"$d/stdout.log" 2>&1 &
  NT_PIDS+=($!)
  for _ in $(seq 50); do
    ip netns exec "$2" ss -ltn 2>/dev/null | grep -q "$3:80" && return 0
    sleep 0.1
  done
  cat "$d/error.log" >&2
  return 1
}

setup_dr_server() {
  ip netns exec "$S1" ip addr add 198.18.0.100/32 dev lo || return 1
  ip netns exec "$S1" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
    net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 || return 1
  start_vip_nginx dr "$S1" 198.18.0.100 "$tmp/www1"
}

setup_tun_server() {
  ip netns exec "$S2" /usr/bin/python3 tests/lib/ipip_decap.py ipip0 "$tmp/decap.ready" >"$tmp/decap.log" 2>&1 &
  NT_PIDS+=($!)
  for _ in $(seq 50); do [ -s "$tmp/decap.ready" ] && break; sleep 0.1; done
  [ -s "$tmp/decap.ready" ] || { cat "$tmp/decap.log" >&2; return 1; }
  ip netns exec "$S2" ip addr add 198.18.0.101/32 dev ipip0 &&
    ip netns exec "$S2" ip link set ipip0 up &&
    ip netns exec "$S2" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
      net.ipv4.conf.ipip0.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 || return 1
  start_vip_nginx tun "$S2" 198.18.0.101 "$tmp/www2"
}

# The ipip VM: built and booted in the background; returns 2 when qemu or
# Debian's cloud kernel is missing.
start_ipip_vm() {
  command -v qemu-system-x86_64 >/dev/null || return 2
  local vmlinuz kver vm_missing
  vm_find_kernel || return 2
  mkdir -p "$tmp/vmwww" && echo "tun vm" >"$tmp/vmwww/index.html" && cp "$tmp/big.bin" "$tmp/vmwww/" || return 1
  tests/vm/ipip/build_initramfs.sh "$kver" "$tmp/vmwww" "$tmp/ipip.gz" >"$tmp/vm-build.log" 2>&1 || return 1
  ip netns exec "$BR" qemu-system-x86_64 -accel tcg -cpu Nehalem -m 256 -smp 1 -nographic -no-reboot \
    -netdev tap,id=n0,ifname=vm0,script=no,downscript=no \
    -device virtio-net-pci,netdev=n0,mac=02:00:00:00:02:04,romfile= \
    -kernel "$vmlinuz" -initrd "$tmp/ipip.gz" -append 'console=ttyS0 quiet panic=-1' >"$tmp/vm.log" 2>&1 &
  NT_PIDS+=($!)
  for _ in $(seq 50); do
    ip netns exec "$BR" ip link show vm0 >/dev/null 2>&1 && break
    sleep 0.1
  done
  ip netns exec "$BR" ip link set vm0 master br0 && ip netns exec "$BR" ip link set vm0 up
}

vm=0
start_ipip_vm
case $? in 0) vm=1 ;; 2) vm=2 ;; *) fail ipip_vm_start "cannot build or start the VM" "$tmp/vm-build.log" ;; esac

if ! setup_return_path || ! setup_dr_server || ! setup_tun_server; then
  echo "FAIL: DR/TUN server setup"; echo "COUNT $passed 1 $skipped"; exit 1
fi

{
  nat_topo_dataplane af_packet
  cat <<'EOF'
virtual_server 198.18.0.100 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 198.19.0.1 80 {
        weight 1
    }
}
virtual_server 198.18.0.101 80 {
    lb_algo rr
    lb_kind TUN
    protocol TCP
    real_server 198.19.0.2 80 {
        weight 1
    }
}
virtual_server 198.18.0.102 80 {
    lb_algo rr
    lb_kind TUN
    protocol TCP
    real_server 198.19.0.4 80 {
        weight 1
    }
}
EOF
} >"$tmp/kadp.conf"

get() { nat_topo_client curl -s --max-time 10 "$@"; }
rx_bytes() { ip netns exec "$C" cat "/sys/class/net/$1/statistics/rx_bytes"; }

# check METHOD VIP PAGE: the page, the big file intact, and where the bytes came in.
check() {
  local method=$1 vip=$2 page=$3 ok=
  for _ in $(seq 10); do
    [ "$(get "http://$vip/")" = "$page" ] && { ok=1; break; }
    sleep 0.3
  done
  if [ -n "$ok" ]; then pass "${method}_page"; else fail "${method}_page" "no '$page' from $vip" "$log"; return; fi
  local c0_before c1_before c0_after c1_after
  c0_before=$(rx_bytes c0) c1_before=$(rx_bytes c1)
  if get -o "$tmp/$method.bin" "http://$vip/big.bin" && [ "$(sha256sum <"$tmp/$method.bin")" = "$(sha256sum <"$tmp/big.bin")" ]; then
    pass "${method}_4mb_intact"
  else
    fail "${method}_4mb_intact" "$(stat -c %s "$tmp/$method.bin" 2>/dev/null || echo no) bytes received" "$log"
  fi
  c0_after=$(rx_bytes c0) c1_after=$(rx_bytes c1)
  # The answer bypasses kadp: 4 MB on c1, next to nothing (ARP) on c0.
  if [ $((c1_after - c1_before)) -ge 4000000 ] && [ $((c0_after - c0_before)) -lt 100000 ]; then
    pass "${method}_answer_bypasses_kadp"
  else
    fail "${method}_answer_bypasses_kadp" "c1 +$((c1_after - c1_before)) bytes, c0 +$((c0_after - c0_before)) bytes"
  fi
}

log=$tmp/kadp.log
if ! nat_topo_kadp_start "$tmp/kadp.conf" "$log" run; then
  fail kadp_start "kadp did not start" "$log"
else
  check dr 198.18.0.100 "server 1"
  check tun 198.18.0.101 "server 2"
  if [ "$vm" = 1 ]; then
    for _ in $(seq 400); do grep -q "IPIP-VM:" "$tmp/vm.log" && break; sleep 0.1; done
    if grep -q "IPIP-VM: ready" "$tmp/vm.log"; then
      check tun_vm 198.18.0.102 "tun vm"
    else
      fail tun_vm_boot "the ipip VM did not come up" "$tmp/vm.log"
    fi
  elif [ "$vm" = 2 ]; then
    echo "SKIP: tun_vm: no qemu-system-x86_64 or linux-image-cloud-amd64"; skipped=$((skipped + 1))
  fi
  if nat_topo_kadp_stop; then
    counters=$(grep '^kadp: counters (all workers):' "$log")
    num() { echo "$counters" | grep -o "\b$1=[0-9]*" | cut -d= -f2; }
    dr=$(num xmit_dr) tun=$(num xmit_tun) nat_in=$(num nat_in) nat_out=$(num nat_out)
    # A 4 MB download is thousands of client ACKs through kadp, per method.
    if [ "${dr:-0}" -gt 100 ] && [ "${tun:-0}" -gt 100 ] && [ "${nat_in:-0}" = 0 ] && [ "${nat_out:-0}" = 0 ]; then
      pass "counters_xmit_dr_tun (xmit_dr=$dr xmit_tun=$tun)"
    else
      fail counters_xmit_dr_tun "xmit_dr=${dr:-0} xmit_tun=${tun:-0} nat_in=${nat_in:-0} nat_out=${nat_out:-0}" "$log"
    fi
  else
    fail kadp_stop "kadp did not stop cleanly" "$log"
  fi
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

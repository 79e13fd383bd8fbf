#!/usr/bin/env bash
# The kernel backend against a real Linux IPVS: boots Debian's cloud kernel
# under qemu (TCG; KVM hangs on Debian kernels here) with a busybox
# initramfs holding kadp, ipvsadm and iproute2 (tests/vm/build_initramfs.sh),
# whose /init (tests/vm/init.sh) applies configs, compares `ipvsadm -Ln`
# with the expected listings, reloads, passes traffic through IPVS to real
# servers in namespaces and stops kadp. This script reads the console.
# Exit 0 = every check passed, 1 = a check failed or the VM did not finish,
# 77 = qemu or the kernel is not installed (scripts/install-deps.sh test).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kadp=${KADP:-$top/build/kadp}
unit=${UNIT_KERNEL_IPVS:-$top/build/tests/unit/unit_kernel_ipvs}

skip() { echo "SKIP: kernel_ipvs_vm: $*"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
[ -x /bin/busybox ] || skip "busybox-static not installed"
command -v ipvsadm >/dev/null || skip "ipvsadm not installed"
vmlinuz=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
[ -n "$vmlinuz" ] || skip "no /boot/vmlinuz-*-cloud-amd64 (linux-image-cloud-amd64)"
kver=${vmlinuz#/boot/vmlinuz-}
[ -d "/lib/modules/$kver" ] || skip "no /lib/modules/$kver"
[ -x "$kadp" ] || { echo "FAIL: kernel_ipvs_vm: no kadp binary at $kadp (build first)"; exit 1; }
[ -x "$unit" ] || { echo "FAIL: kernel_ipvs_vm: no $unit (build first)"; exit 1; }

work=$(mktemp -d /tmp/kadp-ipvs-vm.XXXXXX)
qemu_pid=
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

if ! timeout 120 "$top/tests/vm/build_initramfs.sh" "$kver" "$kadp" "$work/initrd.gz" "$unit" >"$work/build.log" 2>&1; then
  cat "$work/build.log"
  echo "FAIL: kernel_ipvs_vm: cannot build the initramfs"
  exit 1
fi

# The guest powers itself off; the time bound catches a hung guest.
timeout 300 qemu-system-x86_64 -accel tcg -cpu Nehalem -m 512 -smp 1 -nographic -no-reboot -net none \
  -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
  -append 'console=ttyS0 quiet panic=-1' </dev/null >"$work/console.log" 2>&1 &
qemu_pid=$!
wait "$qemu_pid"
qemu_rc=$?
qemu_pid=
# KADP_VM_CONSOLE=FILE keeps the whole console for debugging.
[ -n "${KADP_VM_CONSOLE:-}" ] && cp "$work/console.log" "$KADP_VM_CONSOLE"

tr -d '\r' <"$work/console.log" | grep -a '^KADP-VM: \|^KADP-LOG: ' | sed 's/^KADP-VM: //; s/^KADP-LOG: /  log: /'
passes=$(tr -d '\r' <"$work/console.log" | grep -ac '^KADP-VM: PASS ')
fails=$(tr -d '\r' <"$work/console.log" | grep -ac '^KADP-VM: FAIL ')
if ! tr -d '\r' <"$work/console.log" | grep -aq '^KADP-VM: DONE '; then
  echo "--- console (last 40 lines; qemu exit $qemu_rc)"
  tr -d '\r' <"$work/console.log" | tail -40
  echo "FAIL: kernel_ipvs_vm: the VM did not finish"
  echo "COUNT $passes $((fails + 1)) 0"
  exit 1
fi
echo "COUNT $passes $fails 0"
[ "$fails" -eq 0 ] && [ "$passes" -gt 0 ]

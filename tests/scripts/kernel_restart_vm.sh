#!/usr/bin/env bash
# The kernel backend after a crash and under a half-refused reload, against
# a real Linux IPVS: boots Debian's cloud kernel under qemu (TCG) with the
# initramfs of tests/vm/build_initramfs.sh plus an overlay whose /init is
# tests/vm/restart_init.sh (configs and listings from tests/vm/restart/,
# and ip_vs_sed.ko out of modprobe's reach, for the test to insmod). The VM
# kills kadp with SIGKILL mid-connection, starts it again with the same and
# with a changed configuration, reloads with a scheduler the kernel cannot
# load, stops it, and tries lvs_flush; see restart_init.sh. This script
# reads the console.
# Exit 0 = every check passed, 1 = a check failed or the VM did not finish,
# 77 = qemu or the kernel is not installed (scripts/install-deps.sh test).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kadp=${KADP:-${KADP_BUILD:-$top/build}/kadp}
kadpctl=${KADPCTL:-${KADP_BUILD:-$top/build}/kadpctl}
. "$top/tests/vm/vm_lib.sh"

skip() { echo "SKIP: kernel_restart_vm: $*"; echo "COUNT 0 0 1"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
[ -x /bin/busybox ] || skip "busybox-static not installed"
command -v ipvsadm >/dev/null || skip "ipvsadm not installed"
vm_find_kernel || skip "$vm_missing"
for b in "$kadp" "$kadpctl"; do
  [ -x "$b" ] || { echo "FAIL: kernel_restart_vm: no $b (build first)"; echo "COUNT 0 1 0"; exit 1; }
done
sed_ko=$(modinfo -k "$kver" -n ip_vs_sed 2>/dev/null)
[ -f "$sed_ko" ] || skip "no ip_vs_sed module for $kver"

work=$(mktemp -d /tmp/kadp-restart-vm.XXXXXX)
qemu_pid=
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

if ! timeout 120 "$top/tests/vm/build_initramfs.sh" "$kver" "$kadp" "$work/base.gz" "" "$kadpctl" >"$work/build.log" 2>&1; then
  cat "$work/build.log"
  echo "FAIL: kernel_restart_vm: cannot build the initramfs"; echo "COUNT 0 1 0"
  exit 1
fi
# A second archive overrides /init: the kernel unpacks concatenated archives in order.
mkdir -p "$work/over/conf/restart" "$work/over/extra"
cp "$top/tests/vm/restart_init.sh" "$work/over/init"
chmod +x "$work/over/init"
cp "$top"/tests/vm/restart/* "$work/over/conf/restart/"
cp "$sed_ko" "$work/over/extra/ip_vs_sed.ko"
(cd "$work/over" && find . | cpio -o -H newc --quiet) | gzip -1 > "$work/over.gz"
cat "$work/base.gz" "$work/over.gz" > "$work/initrd.gz"

vm_run "$work/initrd.gz" "$work/console.log"
qemu_rc=$?
# KADP_VM_CONSOLE=FILE keeps the whole console for debugging.
[ -n "${KADP_VM_CONSOLE:-}" ] && cp "$work/console.log" "$KADP_VM_CONSOLE"
tr -d '\r' <"$work/console.log" >"$work/console.txt"

grep -a '^KADP-VM: \|^KADP-LOG: ' "$work/console.txt" | sed 's/^KADP-VM: //; s/^KADP-LOG: /  log: /'
passes=$(grep -ac '^KADP-VM: PASS ' "$work/console.txt")
fails=$(grep -ac '^KADP-VM: FAIL ' "$work/console.txt")
if ! grep -aq '^KADP-VM: DONE ' "$work/console.txt"; then
  echo "--- console (last 40 lines; qemu exit $qemu_rc)"
  tail -40 "$work/console.txt"
  echo "FAIL: kernel_restart_vm: the VM did not finish"
  echo "COUNT $passes $((fails + 1)) 0"
  exit 1
fi
echo "COUNT $passes $fails 0"
[ "$fails" -eq 0 ] && [ "$passes" -gt 0 ]

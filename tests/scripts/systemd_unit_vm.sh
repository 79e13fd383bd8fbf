#!/usr/bin/env bash
# kadp.service under a real systemd: boots Debian's cloud kernel under qemu
# (TCG) with an initramfs whose PID 1 is this host's /lib/systemd/systemd
# (tests/vm/systemd/build_initramfs.sh), kadp installed by `meson install
# --destdir` (so the unit is the one meson generates from
# dist/systemd/kadp.service.in), and runs tests/vm/systemd/checks.sh as a
# unit of its own: Type=notify start, the EnvironmentFile, reload, the
# watchdog restarting kadp with a stuck worker, stop (exit 0, priority-0
# VRRP advert), syslog into the journal, and the kernel backend under the
# same unit. This script reads the serial console.
# Exit 0 = every check passed, 1 = a check failed or the VM did not finish,
# 77 = qemu, the kernel, systemd or a tool is not installed
# (scripts/install-deps.sh test). Environment: KADP_BUILD (the meson build
# directory to install from; default build), KADP_VM_CONSOLE=FILE keeps the
# console.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${KADP_BUILD:-$top/build}
[[ $build = /* ]] || build=$top/$build
. "$top/tests/vm/vm_lib.sh"

skip() { echo "SKIP: systemd_unit_vm: $*"; echo "COUNT 0 0 1"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
[ -x /bin/busybox ] || skip "busybox-static not installed"
[ -x /lib/systemd/systemd ] && [ -x /lib/systemd/systemd-journald ] || skip "systemd not installed"
for tool in systemctl journalctl ipvsadm tcpdump ethtool cpio meson; do
  command -v $tool >/dev/null || skip "$tool not installed"
done
vm_find_kernel || skip "$vm_missing"
[ -f "$build/build.ninja" ] || { echo "FAIL: systemd_unit_vm: no meson build in $build"; echo "COUNT 0 1 0"; exit 1; }

work=$(mktemp -d /tmp/kadp-systemd-vm.XXXXXX)
qemu_pid=
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
t0=$SECONDS

if ! meson install -C "$build" --no-rebuild --destdir "$work/dest" >"$work/install.log" 2>&1; then
  tail -20 "$work/install.log"
  echo "FAIL: systemd_unit_vm: meson install --destdir failed (build kadp and kadpctl first)"; echo "COUNT 0 1 0"
  exit 1
fi
if ! timeout 120 "$top/tests/vm/systemd/build_initramfs.sh" "$kver" "$work/dest" "$work/initrd.gz" >"$work/build.log" 2>&1; then
  cat "$work/build.log"
  echo "FAIL: systemd_unit_vm: cannot build the initramfs"; echo "COUNT 0 1 0"
  exit 1
fi

# systemd, journald and DPDK's 256 MiB without hugepages.
VM_MEM=1024 vm_run "$work/initrd.gz" "$work/console.log"
qemu_rc=$?
[ -n "${KADP_VM_CONSOLE:-}" ] && cp "$work/console.log" "$KADP_VM_CONSOLE"
tr -d '\r' <"$work/console.log" >"$work/console.txt"

grep -a '^KADP-VM: \|^KADP-LOG: ' "$work/console.txt" |
  sed 's/^KADP-VM: PASS /PASS: /; s/^KADP-VM: FAIL /FAIL: /; s/^KADP-VM: //; s/^KADP-LOG: /  log: /'
passes=$(grep -ac '^KADP-VM: PASS ' "$work/console.txt")
fails=$(grep -ac '^KADP-VM: FAIL ' "$work/console.txt")
echo "($((SECONDS - t0)) s)"
if ! grep -aq '^KADP-VM: DONE ' "$work/console.txt"; then
  echo "--- console (last 40 lines; qemu exit $qemu_rc)"
  tail -40 "$work/console.txt"
  echo "FAIL: systemd_unit_vm: the VM did not finish"
  echo "COUNT $passes $((fails + 1)) 0"
  exit 1
fi
echo "COUNT $passes $fails 0"
[ "$fails" -eq 0 ] && [ "$passes" -gt 0 ]

# Runs on: the test host (sourced by the qemu VM tests:
# tests/scripts/kernel_ipvs_vm.sh, sched_vs_kernel_vm.sh, dr_tun_netns.sh,
# kernel_restart_vm.sh, systemd_unit_vm.sh).
# Finding Debian's cloud kernel and booting it.

# Sets vmlinuz and kver to the newest /boot/vmlinuz-*-cloud-amd64 (it has
# the IPVS and ipip modules the host's kernel may lack). Without one, or
# without its modules, returns 1 with the reason in vm_missing.
vm_find_kernel() {
  vmlinuz=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
  [ -n "$vmlinuz" ] || { vm_missing="no /boot/vmlinuz-*-cloud-amd64 (linux-image-cloud-amd64)"; return 1; }
  kver=${vmlinuz#/boot/vmlinuz-}
  [ -d "/lib/modules/$kver" ] || { vm_missing="no /lib/modules/$kver"; return 1; }
}

# vm_run INITRD CONSOLE_LOG: boots $vmlinuz with INITRD under qemu (TCG; KVM
# hangs on Debian kernels here), no network, and waits for it. The guest
# powers itself off; the time bound catches a hung guest. qemu_pid is set
# while it runs, for the caller's EXIT trap. Returns qemu's exit status.
# VM_MEM: the guest's memory in MiB (default 512).
vm_run() {
  timeout 300 qemu-system-x86_64 -accel tcg -cpu Nehalem -m "${VM_MEM:-512}" -smp 1 -nographic -no-reboot -net none \
    -kernel "$vmlinuz" -initrd "$1" \
    -append 'console=ttyS0 quiet panic=-1' </dev/null >"$2" 2>&1 &
  qemu_pid=$!
  wait "$qemu_pid"
  local rc=$?
  qemu_pid=
  return "$rc"
}

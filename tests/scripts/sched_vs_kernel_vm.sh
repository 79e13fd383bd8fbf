#!/usr/bin/env bash
# kadp's sh and mh against Linux IPVS's: boots Debian's cloud kernel under
# qemu (TCG) with the initramfs of tests/vm/build_initramfs.sh and
# tests/vm/sched_init.sh as /init, which lets IPVS schedule connections
# from 60 client addresses (sh, sh + sh-port, mh, mh + mh-port; real
# servers of weights 1, 2, 3). Every (client, real server) pair IPVS chose
# must be kadp's choice too (tests/tools/sched_probe.cpp), given the dests in
# the kernel's list order (newest first: IPVS adds at the head).
# Exit 0 = every pair agrees, 1 = a difference or the VM did not finish,
# 77 = qemu or the kernel is not installed (scripts/install-deps.sh test).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kadp=${KADP:-${KADP_BUILD:-$top/build}/kadp}
probe=${SCHED_PROBE:-${KADP_BUILD:-$top/build}/tests/tools/kadp_sched_probe}
. "$top/tests/vm/vm_lib.sh"

skip() { echo "SKIP: sched_vs_kernel_vm: $*"; echo "COUNT 0 0 1"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
[ -x /bin/busybox ] || skip "busybox-static not installed"
command -v ipvsadm >/dev/null || skip "ipvsadm not installed"
vm_find_kernel || skip "$vm_missing"
for b in "$kadp" "$probe"; do
  [ -x "$b" ] || { echo "FAIL: sched_vs_kernel_vm: no $b (build first)"; echo "COUNT 0 1 0"; exit 1; }
done

work=$(mktemp -d /tmp/kadp-sched-vm.XXXXXX)
qemu_pid=
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The shared initramfs (busybox, ip, ipvsadm, IPVS modules) wants a kadp and
# a kadpctl; this test runs neither, so kadp stands in for both.
if ! timeout 120 "$top/tests/vm/build_initramfs.sh" "$kver" "$kadp" "$work/base.gz" "" "$kadp" >"$work/build.log" 2>&1; then
  cat "$work/build.log"
  echo "FAIL: sched_vs_kernel_vm: cannot build the initramfs"; echo "COUNT 0 1 0"
  exit 1
fi
# A second archive overrides /init: the kernel unpacks concatenated archives in order.
mkdir -p "$work/over"
cp "$top/tests/vm/sched_init.sh" "$work/over/init"
chmod +x "$work/over/init"
(cd "$work/over" && echo init | cpio -o -H newc --quiet) | gzip -1 > "$work/over.gz"
cat "$work/base.gz" "$work/over.gz" > "$work/initrd.gz"

vm_run "$work/initrd.gz" "$work/console.log"
[ -n "${KADP_VM_CONSOLE:-}" ] && cp "$work/console.log" "$KADP_VM_CONSOLE"
tr -d '\r' <"$work/console.log" | grep '^KADP-SCHED: ' | sed 's/^KADP-SCHED: //' >"$work/got.txt"

passed=0 failed=0
grep -q '^DONE$' "$work/got.txt" || { echo "FAIL: vm_finished: no DONE line"; tail -20 "$work/console.log"; failed=$((failed + 1)); }
grep '^FAIL' "$work/got.txt" | sed 's/^/FAIL: vm: /' && failed=$((failed + 1))
for c in sh:sh:- sh-port:sh:sh-port mh:mh:- mh-port:mh:mh-port; do
  name=${c%%:*} rest=${c#*:}
  algo=${rest%%:*} flags=${rest#*:}
  awk -v c="$name" '$1 == c { print $2 " " $3 }' "$work/got.txt" | sort -u >"$work/kernel-$name.txt"
  n=$(wc -l <"$work/kernel-$name.txt")
  cut -d' ' -f1 "$work/kernel-$name.txt" |
    "$probe" "$algo" "$flags" 198.18.1.13:80:3 198.18.2.12:80:2 198.18.1.11:80:1 | sort -u >"$work/kadp-$name.txt"
  servers=$(cut -d' ' -f2 "$work/kernel-$name.txt" | sort -u | wc -l)
  if [ "$n" -ge 40 ] && [ "$servers" -ge 2 ] && cmp -s "$work/kernel-$name.txt" "$work/kadp-$name.txt"; then
    echo "PASS: $name ($n clients over $servers real servers, same choices)"
    passed=$((passed + 1))
  else
    echo "FAIL: $name: $n connections over $servers real servers; kernel vs kadp:"
    diff "$work/kernel-$name.txt" "$work/kadp-$name.txt" | head -20 | sed 's/^/    | /'
    failed=$((failed + 1))
  fi
done
echo "COUNT $passed $failed 0"
[ "$failed" = 0 ]

#!/usr/bin/env bash
# Runs on: the test host (called by tests/scripts/systemd_unit_vm.sh). Builds
# the initramfs of the systemd VM test: a root whose PID 1 is the host's own
# /lib/systemd/systemd (Debian's systemd 252, its libraries, journald and the
# few units a boot into kadp-vm.target needs), busybox for the shell tools,
# kadp as `meson install --destdir` laid it out (binaries, and the unit meson
# generated from dist/systemd/kadp.service.in), the DPDK drivers the guest
# uses (af_packet, tap, ring mempool, vdev bus), iproute2, ipvsadm, tcpdump,
# ethtool,
# the kernel modules, and tests/vm/systemd/* (units, configurations, the
# checks).
#   tests/vm/systemd/build_initramfs.sh KERNEL_VERSION DESTDIR OUT.cpio.gz
# DESTDIR: the tree `meson install --destdir` made (it must hold
# lib/systemd/system/kadp.service under the build's prefix).
set -euo pipefail

kver=$1 dest=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../initramfs_lib.sh"
root=$(mktemp -d /tmp/kadp-sdvm-root.XXXXXX)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib/systemd,lib64,proc,sys,dev,run,tmp,var/tmp,var/lib,etc/kadp,etc/default,etc/systemd/system,root}
ln -s /run "$root/var/run"
chmod 1777 "$root/tmp" "$root/var/tmp"

initramfs_busybox
# systemd and the programs its units run.
copy_binary /lib/systemd/systemd lib/systemd/systemd
copy_binary /lib/systemd/systemd-journald lib/systemd/systemd-journald
copy_binary /usr/bin/systemctl usr/bin/systemctl
copy_binary /usr/bin/journalctl usr/bin/journalctl
copy_binary /sbin/ip sbin/ip
copy_binary /usr/sbin/ipvsadm usr/sbin/ipvsadm
copy_binary /usr/bin/tcpdump usr/bin/tcpdump
copy_binary /usr/sbin/ethtool usr/sbin/ethtool

# kadp as installed: everything meson put in DESTDIR, the binaries stripped
# (the libraries they load copied next to the system's).
cp -a "$dest"/. "$root"/
for b in $(find "$dest" -type f -path '*/sbin/*'); do
  rel=${b#"$dest"}
  copy_binary "$b" "${rel#/}"
  strip "$root$rel"
done
unit=$(cd "$dest" && find . -path '*/lib/systemd/system/kadp.service')
kadp=$(cd "$dest" && find . -path '*/sbin/kadp')
example=$(cd "$dest" && find . -path '*/examples/kadp.default')
[ -n "$unit" ] && [ -n "$kadp" ] && [ -n "$example" ] || { echo "no kadp.service, sbin/kadp or kadp.default in $dest" >&2; exit 1; }

# DPDK's drivers are plugins EAL loads from its driver directory: only those
# the guest uses (every .so there is loaded, so the others stay out).
pmds=$(ls -d /usr/lib/x86_64-linux-gnu/dpdk/pmds-* | tail -1)
mkdir -p "$root$pmds"
for d in bus_vdev mempool_ring net_af_packet net_tap; do
  lib=$(readlink -f "$pmds/librte_$d.so")
  copy_binary "$lib" "${lib#/}"
  ln -s "$lib" "$root$pmds/librte_$d.so"
done

initramfs_modules "$kver" veth tun ip_vs ip_vs_rr ip_vs_wrr ip_vs_wlc

# The units a boot needs: the targets up to multi-user, journald and its
# sockets (/dev/log among them). No generators, no udev: nothing else starts.
sd=/lib/systemd/system
mkdir -p "$root$sd"
for u in basic.target sysinit.target sockets.target paths.target timers.target slices.target \
         local-fs.target local-fs-pre.target swap.target network.target network-online.target \
         network-pre.target multi-user.target shutdown.target emergency.target rescue.target \
         poweroff.target final.target umount.target \
         systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket \
         systemd-journald-audit.socket; do
  cp "$sd/$u" "$root$sd/$u"
done
mkdir -p "$root$sd/sockets.target.wants" "$root$sd/sysinit.target.wants"
for u in systemd-journald.socket systemd-journald-dev-log.socket; do
  ln -s "../$u" "$root$sd/sockets.target.wants/$u"
done
ln -s ../systemd-journald.service "$root$sd/sysinit.target.wants/systemd-journald.service"
cp "$here/kadp-vm.target" "$here/kadp-vm-checks.service" "$root/etc/systemd/system/"
ln -s /etc/systemd/system/kadp-vm.target "$root/etc/systemd/system/default.target"

# A minimal /etc: who root is, what the system is.
cp /usr/lib/os-release "$root/etc/os-release"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
: > "$root/etc/machine-id"

mkdir -p "$root/usr/lib/kadp-vm"
cp "$here"/checks.sh "$here/../guest_lib.sh" "$root/usr/lib/kadp-vm/"
cp "$here"/conf/* "$root/usr/lib/kadp-vm/"
# Where this build's prefix put things, for checks.sh.
printf 'KADP_UNIT=%s\nKADP_SBINDIR=%s\nKADP_DEFAULT_EXAMPLE=%s\n' "${unit#.}" "$(dirname "${kadp#.}")" "${example#.}" \
  > "$root/usr/lib/kadp-vm/layout"
cp "$here/init" "$root/init"
chmod +x "$root/init" "$root/usr/lib/kadp-vm/checks.sh"

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"

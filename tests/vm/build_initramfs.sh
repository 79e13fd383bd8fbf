#!/usr/bin/env bash
# Builds the initramfs of the kernel-IPVS VM test: busybox (static), the
# IPVS and veth modules of Debian's cloud kernel (with their dependencies,
# depmod'ed so the kernel can autoload schedulers), iproute2's ip (busybox's
# has no netns), ipvsadm, kadp and kadpctl (stripped), each with the
# libraries ldd lists, and tests/vm/init.sh as /init (with
# tests/vm/guest_lib.sh, which every /init sources) and the configs of
# tests/vm/conf.
#   tests/vm/build_initramfs.sh KERNEL_VERSION KADP_BINARY OUT.cpio.gz [UNIT_KERNEL_IPVS [KADPCTL_BINARY]]
# The optional gtest binary (IpvsNetlink against the real kernel) becomes
# /usr/bin/unit_kernel_ipvs; KADPCTL_BINARY defaults to kadpctl next to kadp.
set -euo pipefail

kver=$1 kadp=$2 out=$3 unit=${4:-}
kadpctl=${5:-$(dirname "$kadp")/kadpctl}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/initramfs_lib.sh"
root=$(mktemp -d /tmp/kadp-vm-root.XXXXXX)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,proc,sys,dev,run,tmp,etc,conf,www}

initramfs_busybox
copy_binary /sbin/ip sbin/ip
copy_binary /usr/sbin/ipvsadm usr/sbin/ipvsadm
copy_binary "$kadp" usr/sbin/kadp
strip "$root/usr/sbin/kadp"
copy_binary "$kadpctl" usr/sbin/kadpctl
strip "$root/usr/sbin/kadpctl"
if [ -n "$unit" ]; then
  copy_binary "$unit" usr/bin/unit_kernel_ipvs
  strip "$root/usr/bin/unit_kernel_ipvs"
fi

# Modules: IPVS and the schedulers the configs use (lblcr deliberately left
# out: the test checks the message when the kernel cannot load it), veth.
initramfs_modules "$kver" ip_vs ip_vs_rr ip_vs_wrr ip_vs_wlc ip_vs_lc ip_vs_sh ip_vs_mh ip_vs_pe_sip veth

cp "$here/init.sh" "$root/init"
chmod +x "$root/init"
cp "$here/guest_lib.sh" "$root/guest_lib.sh"  # every /init's checks and topology
cp "$here"/conf/* "$root/conf/"
cp "$here"/expected/* "$root/conf/"

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"

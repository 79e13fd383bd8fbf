#!/usr/bin/env bash
# Builds the initramfs of the TUN real server VM (tests/scripts/dr_tun_netns.sh):
# Debian's cloud kernel has the ipip module the test host's kernel lacks.
# Busybox (static), iproute2's ip, nginx with the libraries ldd lists, the
# virtio-net and ipip modules (depmod'ed), tests/vm/ipip/init.sh as /init
# and WWW_DIR's files as the document root.
#   tests/vm/ipip/build_initramfs.sh KERNEL_VERSION WWW_DIR OUT.cpio.gz
set -euo pipefail

kver=$1 www=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../initramfs_lib.sh"
root=$(mktemp -d /tmp/kadp-ipip-root.XXXXXX)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,proc,sys,dev,run,tmp,etc,www,var/log/nginx}
initramfs_busybox
copy_binary /sbin/ip sbin/ip
copy_binary /usr/sbin/nginx usr/sbin/nginx
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"

initramfs_modules "$kver" virtio_net virtio_pci ipip

cp "$here/init.sh" "$root/init"
chmod +x "$root/init"
cp -r "$www"/. "$root/www/"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"

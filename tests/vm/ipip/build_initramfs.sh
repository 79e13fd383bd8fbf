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
root=$(mktemp -d /tmp/kadp-ipip-root.XXXXXX)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,proc,sys,dev,run,tmp,etc,www,var/log/nginx}
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list-full); do
  [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

copy_binary() {
  local src=$1 dst=$2
  rm -f "$root/$dst"
  cp -L "$src" "$root/$dst"
  for lib in $(ldd "$src" | awk '/=>/ { print $3 } $1 ~ /^\// { print $1 }'); do
    [ -f "$lib" ] || continue
    mkdir -p "$root/$(dirname "$lib")"
    [ -e "$root/$lib" ] || cp -L "$lib" "$root/$lib"
  done
}
copy_binary /sbin/ip sbin/ip
copy_binary /usr/sbin/nginx usr/sbin/nginx
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"

for m in virtio_net virtio_pci ipip; do
  modprobe -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | sort -u | while read -r ko; do
  mkdir -p "$root/$(dirname "$ko")"
  cp "$ko" "$root/$ko"
done
cp /lib/modules/"$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/" 2>/dev/null || true
depmod -b "$root" "$kver"

cp "$here/init.sh" "$root/init"
chmod +x "$root/init"
cp -r "$www"/. "$root/www/"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"

# Runs on: the test host (sourced by tests/vm/build_initramfs.sh and
# tests/vm/ipip/build_initramfs.sh). What every VM initramfs is made of:
# busybox with its applets, programs with the libraries ldd lists, and
# kernel modules with their dependencies. Each function works in the
# directory $root the caller created.

# Busybox (static) and its applets as symlinks; the real binaries copied
# afterwards take precedence.
initramfs_busybox() {
  cp /bin/busybox "$root/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list-full); do
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
  done
}

# A program and every library it loads, at the same paths.
#   copy_binary SRC DST (DST relative to $root)
copy_binary() {
  local src=$1 dst=$2 lib
  rm -f "$root/$dst"
  cp -L "$src" "$root/$dst"
  for lib in $(ldd "$src" | awk '/=>/ { print $3 } $1 ~ /^\// { print $1 }'); do
    [ -f "$lib" ] || continue
    mkdir -p "$root/$(dirname "$lib")"
    [ -e "$root/$lib" ] || cp -L "$lib" "$root/$lib"
  done
}

# Kernel KVER's modules MODULE... with their dependencies, depmod'ed so the
# kernel can autoload them.
#   initramfs_modules KVER MODULE...
initramfs_modules() {
  local kver=$1 m
  shift
  for m in "$@"; do
    modprobe -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
  done | sort -u | while read -r ko; do
    mkdir -p "$root/$(dirname "$ko")"
    cp "$ko" "$root/$ko"
  done
  cp /lib/modules/"$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/" 2>/dev/null || true
  depmod -b "$root" "$kver"
}

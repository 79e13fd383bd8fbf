#!/usr/bin/env bash
# Installs the Debian 12 packages kadp needs, only those missing (idempotent).
#   scripts/install-deps.sh build   what building kadp needs
#   scripts/install-deps.sh demo    build plus what scripts/demo.sh runs (nginx, curl, ...)
#   scripts/install-deps.sh test    that plus the real peers and tools the tests use
set -euo pipefail

build_pkgs=(build-essential meson ninja-build pkg-config
            libdpdk-dev dpdk libnl-3-dev libnl-genl-3-dev libnl-route-3-dev
            libssl-dev libboost-dev libgtest-dev libgmock-dev)
test_pkgs=(clang libclang-rt-14-dev keepalived nginx-light python3 python3-scapy dpdk-dev
           iproute2 ethtool curl tcpdump procps valgrind dnsmasq-base
           qemu-system-x86 linux-image-cloud-amd64 busybox-static ipvsadm cpio kmod
           systemd  # systemd_unit_vm.sh boots the host's systemd as the VM's PID 1
           groff-base man-db  # install_layout.sh renders the man pages
           libasan8 libubsan1 libtsan2)  # build-san/, build-tsan/ (docs/testing.md)
demo_pkgs=(nginx-light curl ethtool iproute2 procps)

case "${1:-build}" in
  build) want=("${build_pkgs[@]}") ;;
  demo) want=("${build_pkgs[@]}" "${demo_pkgs[@]}") ;;
  test) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "usage: $0 build|demo|test" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Keep the peers from starting as services: tests start their own instances.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

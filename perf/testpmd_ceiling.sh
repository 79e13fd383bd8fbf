#!/usr/bin/env bash
# Runs on: a development machine (no NIC, no hugepages). An independent
# cross-check of kadp-bench's baseline: how many packets per second DPDK's
# own dpdk-testpmd moves between two virtual ports in io forwarding mode
# (receive a burst, transmit it unchanged on the peer port, no header
# access) on one forwarding lcore. kadp cannot forward faster than this on
# the same machine and devices: it does all of that plus parsing, lookups
# and rewriting.
#
#   perf/testpmd_ceiling.sh [--seconds N] [--vdev null|ring] [--json]
#
# Devices:
#   null (default)  two net_null ports: RX hands out mbufs from the pool
#                   without touching packet data, TX frees them. Measures the
#                   ethdev burst API, mempool and forwarding loop cost only.
#   ring            one net_ring port forwarding to itself
#                   (--port-topology=loop); --tx-first injects one burst,
#                   which then circulates through the ring. No mbuf is
#                   allocated or freed and nothing waits on a producer, so
#                   this measures rte_ring pointer passing (hundreds of
#                   Mpps), an upper bound of the ring, not a forwarding
#                   ceiling: quote the null figure.
# Prints the per-period Mpps testpmd reports (sum of the ports' Rx-pps),
# the median over the periods after the first, and the run's parameters.
# Exit 77 when dpdk-testpmd is not installed (Debian: apt-get install dpdk-dev).
#
# Limits: --no-huge (4 KiB pages, more TLB misses than a real deployment);
# net_null/net_ring never touch a NIC, a PCIe bus or packet data, so this is
# the CPU ceiling of DPDK's forwarding loop on this machine, not of any NIC.
# On a shared or 2-core VM the figure moves with whatever else runs: the
# main lcore and the forwarding lcore take both cores.
set -euo pipefail

seconds=5
vdev=null
json=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --vdev) vdev="$2"; shift 2 ;;
    --json) json=1; shift ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "testpmd_ceiling: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$seconds" in ''|*[!0-9]*) echo "testpmd_ceiling: --seconds takes a whole number" >&2; exit 2 ;; esac
[ "$seconds" -ge 2 ] || { echo "testpmd_ceiling: --seconds must be at least 2" >&2; exit 2; }

testpmd=$(command -v dpdk-testpmd || true)
if [ -z "$testpmd" ]; then
  echo "testpmd_ceiling: dpdk-testpmd not found (Debian package dpdk-dev); skipped" >&2
  exit 77
fi

cores=$(nproc)
if [ "$cores" -ge 2 ]; then lcores="0,1"; else lcores="0,0"; fi
prefix="kadp_testpmd_$$"
case "$vdev" in
  null)
    dev_args=(--vdev=net_null0 --vdev=net_null1)
    app_args=(--port-topology=paired)
    ;;
  ring)
    dev_args=(--vdev=net_ring0)
    app_args=(--port-topology=loop --tx-first)
    ;;
  *) echo "testpmd_ceiling: --vdev is null or ring" >&2; exit 2 ;;
esac

out=$(mktemp)
trap 'rm -f "$out"; rm -rf "/var/run/dpdk/$prefix"' EXIT
# --stats-period: testpmd prints the port statistics every second and needs
# no terminal (stdin is /dev/null here). SIGINT stops it cleanly; the extra
# 2 s cover EAL start-up.
set +e
timeout -s INT "$((seconds + 2))" "$testpmd" -l "$lcores" --no-huge -m 512 --no-pci \
  --file-prefix "$prefix" --log-level=lib.eal:error "${dev_args[@]}" -- \
  --forward-mode=io "${app_args[@]}" --stats-period 1 --total-num-mbufs=16384 \
  --nb-cores=1 --burst=32 </dev/null >"$out" 2>&1
rc=$?
set -e
# timeout's 124 is the normal end of the run.
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -ne 130 ]; then
  echo "testpmd_ceiling: dpdk-testpmd failed (exit $rc):" >&2
  tail -20 "$out" >&2
  exit 1
fi

# One "Port statistics" block per period; each port's Rx-pps line in it.
mpps=$(awk '
  /^Port statistics/ { if (n) printf "%.3f\n", sum / 1e6; sum = 0; n = 1 }
  /Rx-pps:/ { sum += $2 }
  END { if (n) printf "%.3f\n", sum / 1e6 }' "$out")
# Blocks before forwarding starts read 0; the first non-zero one may cover
# only part of its period, so it is dropped when there are enough others.
samples=$(printf '%s\n' "$mpps" | grep -v '^0.000$' || true)
if [ "$(printf '%s\n' "$samples" | grep -c .)" -ge 3 ]; then
  samples=$(printf '%s\n' "$samples" | tail -n +2)
fi
if [ -z "$samples" ]; then
  echo "testpmd_ceiling: no throughput samples in testpmd's output:" >&2
  tail -30 "$out" >&2
  exit 1
fi
median=$(printf '%s\n' "$samples" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
count=$(printf '%s\n' "$samples" | wc -l)

if [ "$json" -eq 1 ]; then
  printf '{"bench":"testpmd_ceiling","vdev":"%s","lcores":"%s","cores":%s,"seconds":%s,"samples":%s,"mpps_median":%s,"mpps_samples":[%s]}\n' \
    "$vdev" "$lcores" "$cores" "$seconds" "$count" "$median" "$(printf '%s\n' "$samples" | paste -sd, -)"
else
  echo "testpmd_ceiling: dpdk-testpmd io forwarding, vdev=$vdev, lcores $lcores ($cores cores), --no-huge, 64-byte mbufs"
  echo "testpmd_ceiling: Mpps per 1 s period (all ports' RX): $(printf '%s\n' "$samples" | paste -sd' ' -)"
  echo "testpmd_ceiling: median $median Mpps"
fi

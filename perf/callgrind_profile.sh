#!/bin/bash
# Instructions per packet of the worker's pipeline, by function, counted by
# callgrind: unlike cycles, the count does not move with the machine's load,
# so it shows what a change to the fast path costs even on a shared VM.
#
#   perf/callgrind_profile.sh [--bench PATH] [kadp-bench options]
#   perf/callgrind_profile.sh --traffic established --flows 1000
#
# Runs kadp-bench (default build/kadp-bench; a release build with -Ddebug=true
# gives per-line figures in the kept callgrind file) under
# `valgrind --tool=callgrind`, collecting only inside NatPipeline::process
# (the per-packet work; the once-per-ms timers of end_of_loop are left out:
# under valgrind the clock crawls and they would weigh far more per packet
# than at full speed), and divides by the packets it handled (populate,
# warm-up and window). Prints the total and the functions above 1% of it,
# code inlined from several files summed per function. Needs valgrind
# (Debian package `valgrind`). For --traffic new, a smaller
# --conn-table-size (e.g. 2097152) keeps the set-up short.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bench="$here/build/kadp-bench"
if [[ "${1:-}" == "--bench" ]]; then
    bench=$2
    shift 2
fi
command -v valgrind >/dev/null || { echo "callgrind_profile: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
[[ -x "$bench" ]] || { echo "callgrind_profile: no kadp-bench at $bench (build it, or pass --bench PATH)" >&2; exit 2; }

work=$(mktemp -d /tmp/kadp-callgrind.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Under callgrind everything runs ~50x slower: short windows are plenty.
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
    --toggle-collect='kadp::dp::NatPipeline::process*' \
    "$bench" --seconds 0.5 --warmup 0.1 "$@" --json >"$work/bench.json" 2>"$work/valgrind.log" || {
    echo "callgrind_profile: kadp-bench failed under valgrind:" >&2
    tail -20 "$work/valgrind.log" >&2
    exit 1
}
callgrind_annotate --inclusive=no --auto=no "$work/callgrind.out" >"$work/annotate.txt" 2>/dev/null

/usr/bin/python3 - "$work/bench.json" "$work/annotate.txt" <<'EOF'
import json, re, sys
bench = json.load(open(sys.argv[1]))
packets = bench["counters"].get("rx_packets", 0) + bench.get("populate_counters", {}).get("rx_packets", 0)
total = 0
funcs = {}
for line in open(sys.argv[2]):
    m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*)", line)
    if not m:
        continue
    n = int(m.group(1).replace(",", ""))
    name = m.group(2)
    if "PROGRAM TOTALS" in name:
        total = n
    elif ":" in name:
        name = re.sub(r"^[^:]*:", "", name, count=1)  # drop "file:"
        name = re.sub(r"\s*\[[^\]]*\]$", "", name)     # drop "[binary]"
        name = name.replace("(anonymous namespace)::", "")
        name = re.sub(r"\(.*", "", name)               # drop the argument list
        funcs[name] = funcs.get(name, 0) + n
if packets == 0 or total == 0:
    sys.exit("callgrind_profile: no packets or no instructions counted")
print(f"kadp-bench {bench['mode']}, {bench['traffic']} traffic, {bench['flows']} flows: "
      f"{packets} packets through the pipeline")
print(f"  {total / packets:8.1f} instructions per packet (NatPipeline::process, inclusive)")
for n, name in sorted(((n, name) for name, n in funcs.items()), reverse=True):
    if n * 100 < total:
        break
    print(f"  {n / packets:8.1f}  {name}")
EOF

#!/usr/bin/env bash
# Runs on: a development machine or CI (no NIC). Smoke test of the micro
# benchmarks: each one runs in its tiny configuration (--quick), its output
# must be JSON and its figures positive. A sanity check that the benchmarks
# still run and measure something, never a speed threshold.
#
#   tests/scripts/micro_bench_smoke.sh        (BUILD=build by default)
#
# Cases: kadp-bench-conntable, kadp-bench-sched, kadp-bench-control (plain
# and --tcp-check), perf/testpmd_ceiling.sh (skipped when dpdk-testpmd is
# not installed). Output: "PASS: case" / "FAIL: case why" / "SKIP: case
# why", then "COUNT passed failed skipped". Well under 60 s.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-${KADP_BUILD:-build}}
tmp=$(mktemp -d /tmp/kadp-micro-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0 skipped=0

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1: $2"; [ -f "${3:-}" ] && sed 's/^/    | /' "$3" | tail -20; failed=$((failed + 1)); }
skip() { echo "SKIP: $1: $2"; skipped=$((skipped + 1)); }

# check NAME FILE MIN_LINES 'python expression over d (one JSON object)'...:
# every stdout line is one JSON object, at least MIN_LINES of them, and each
# expression holds for each.
check() {
  local name=$1 file=$2 min=$3; shift 3
  local why
  why=$(python3 - "$file" "$min" "$@" <<'PY'
import json, sys
path, min_lines, exprs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
lines = [l for l in open(path) if l.strip()]
if len(lines) < min_lines:
    print(f"{len(lines)} JSON lines, expected at least {min_lines}"); sys.exit(1)
for n, line in enumerate(lines, 1):
    try:
        d = json.loads(line)
    except ValueError as e:
        print(f"line {n} is not JSON: {e}"); sys.exit(1)
    for e in exprs:
        try:
            ok = eval(e, {}, {"d": d})
        except Exception as ex:  # a missing key is a failure too
            ok, e = False, f"{e} ({ex!r})"
        if not ok:
            print(f"line {n}: not {e}: {line.strip()[:300]}"); sys.exit(1)
PY
  ) && pass "$name" || fail "$name" "$why" "$file.err"
}

run() {  # run NAME OUTFILE CMD...: 40 s at most; a failure to run is a FAIL
  local name=$1 out=$2; shift 2
  if ! timeout 40 "$@" >"$out" 2>"$out.err"; then
    fail "$name" "exit $? from $*" "$out.err"
    return 1
  fi
}

bench() {
  local bin=$BUILD/perf/$1
  [ -x "$bin" ] || { fail "$1" "not built: $bin (perf/micro_benchmarks.meson.txt entries in perf/meson.build?)"; return 1; }
  echo "$bin"
}

if b=$(bench kadp-bench-conntable); then
  run conntable "$tmp/ct" "$b" --quick &&
    check kadp-bench-conntable "$tmp/ct" 4 \
      'd["bench"] == "conntable"' 'd["lookups"] > 0' 'd["lookup_mops"] > 0' 'd["lookup_ns_per_op_cpu"] > 0' \
      '0 < d["hit_ratio"] < 1' 'd["writer_updates"] > 0' 'd["insert_ns_single_thread"] > 0' \
      'd["bytes_per_conn"] > 0' 'd["cores"] > 0' 'd["in_use"] > 0'
fi
if b=$(bench kadp-bench-sched); then
  run sched "$tmp/sc" "$b" --quick &&
    check kadp-bench-sched "$tmp/sc" 52 \
      'd["bench"] == "sched"' \
      'd["algo"] in ("rr", "wrr", "lc", "wlc", "sh", "dh", "mh", "sed", "nq", "lblc", "lblcr", "fo", "ovf")' \
      'd["picks"] > 0' 'd["pick_mops"] > 0' \
      'd["pick_ns_per_op_cpu"] > 0'
fi
if b=$(bench kadp-bench-control); then
  for variant in plain tcp-check; do
    args=(--quick); [ "$variant" = tcp-check ] && args+=(--tcp-check)
    run "control $variant" "$tmp/co-$variant" "$b" "${args[@]}" &&
      check "kadp-bench-control $variant" "$tmp/co-$variant" 1 \
        'd["bench"] == "control"' 'd["load_ms"] > 0' 'd["build_ms"] > 0' 'd["rebuild_ms"] > 0' \
        'd["dump_ms"] > 0' 'd["services"] == d["virtual_servers"]' \
        'd["dests"] == d["virtual_servers"] * d["real_servers_per_vs"]' 'd["peak_rss_kib_after_dump"] > 0' \
        'd["json_bytes"] > 0'
  done
fi

timeout 30 perf/testpmd_ceiling.sh --seconds 3 --json >"$tmp/tp" 2>"$tmp/tp.err"
rc=$?
if [ "$rc" -eq 77 ]; then
  skip testpmd_ceiling "dpdk-testpmd not installed (Debian package dpdk-dev)"
elif [ "$rc" -ne 0 ]; then
  fail testpmd_ceiling "exit $rc" "$tmp/tp.err"
else
  check testpmd_ceiling "$tmp/tp" 1 'd["bench"] == "testpmd_ceiling"' 'd["mpps_median"] > 0' 'd["samples"] > 0'
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" -eq 0 ]

#!/bin/bash
# Smoke run of kadp-bench (not a speed test): established and new traffic,
# 1000 flows, 0.3 s windows. Checks the JSON report parses, has its keys,
# that both loops moved packets (mpps > 0, baseline_mpps > 0) and that
# established traffic dropped nothing; and that perf/callgrind_profile.sh
# prints a positive instructions-per-packet figure. Ends with "COUNT passed failed skipped".
# Usage: tests/scripts/bench_smoke.sh [BUILD_DIR]   (default: build)
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-${KADP_BUILD:-$here/build}}
bench=$build/kadp-bench
py=/usr/bin/python3
pass=0
total=0

if [ ! -x "$bench" ]; then
    echo "bench_smoke: $bench not built"
    echo "COUNT 0 1 0"
    exit 1
fi

check() {  # check TRAFFIC EXPECT_NO_DROPS
    local traffic=$1 no_drops=$2 out rc
    total=$((total + 1))
    out=$(timeout 60 "$bench" --seconds 0.3 --warmup 0.1 --flows 1000 --traffic "$traffic" --json 2>&1)
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL $traffic: kadp-bench exited $rc: $out"
        return
    fi
    if msg=$(printf '%s\n' "$out" | tail -n 1 | "$py" -c '
import json, sys
no_drops = sys.argv[1] == "1"
r = json.loads(sys.stdin.read())
keys = ["mode", "traffic", "flows", "mpps", "ns_per_packet", "baseline_mpps", "ratio",
        "conn_table_bytes_per_connection", "drops", "drops_total", "counters",
        "dpdk_version", "cpu_model", "command_line"]
missing = [k for k in keys if k not in r]
assert not missing, "missing keys: %s" % missing
assert r["mode"] == "nat" and r["flows"] == 1000, "mode/flows: %s/%s" % (r["mode"], r["flows"])
assert r["mpps"] > 0, "mpps = %s" % r["mpps"]
assert r["baseline_mpps"] > 0, "baseline_mpps = %s" % r["baseline_mpps"]
if no_drops:
    assert r["drops_total"] == 0 and r["drops"] == {}, "drops: %s" % r["drops"]
print("%s: %.3f Mpps, baseline %.3f Mpps, ratio %.4f" % (r["traffic"], r["mpps"], r["baseline_mpps"], r["ratio"]))
' "$no_drops" 2>&1); then
        echo "PASS $msg"
        pass=$((pass + 1))
    else
        echo "FAIL $traffic: $msg"
    fi
}

check established 1
check new 0

# The unimplemented methods say so and exit 2.
total=$((total + 1))
out=$("$bench" --mode dr 2>&1)
if [ $? -eq 2 ] && grep -q "not implemented yet" <<<"$out"; then
    echo "PASS --mode dr: exit 2, not implemented yet"
    pass=$((pass + 1))
else
    echo "FAIL --mode dr: $out"
fi

# The callgrind profile runs and counts a positive number of instructions
# per packet (a figure, never a threshold).
total=$((total + 1))
out=$(timeout 300 "$here/perf/callgrind_profile.sh" --bench "$bench" --traffic established --flows 1000 2>&1)
if [ $? -eq 0 ] && ipp=$(sed -n 's/^ *\([0-9.]*\) instructions per packet.*/\1/p' <<<"$out") &&
   [ -n "$ipp" ] && "$py" -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)" "$ipp"; then
    echo "PASS callgrind_profile: $ipp instructions per packet"
    pass=$((pass + 1))
else
    echo "FAIL callgrind_profile: $out"
fi

echo "COUNT $pass $((total - pass)) 0"
[ "$pass" -eq "$total" ]

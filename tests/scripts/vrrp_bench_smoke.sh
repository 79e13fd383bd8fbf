#!/usr/bin/env bash
# Smoke run of perf/vrrp_takeover.sh --quick (not a speed test): VRRPv3
# advert_int 0.1, 2 runs per event (crash, graceful) for every pair among
# kadp and keepalived 2.2.7. Checks only that it ran and printed sane
# numbers: exit 0, a JSON line for each of the 8 (pair, event) rows with 2
# measured runs, takeover times positive and finite, the bound the protocol
# gives, and the table on stdout. No timing assertion. ~30-60 s.
# Exit 0 pass, 77 skip, else fail; the last line is "COUNT passed failed
# skipped". Usage: tests/scripts/vrrp_bench_smoke.sh [BUILD_DIR] (default
# build); KADP overrides the binary.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-${KADP_BUILD:-$here/build}}
export KADP=${KADP:-$build/kadp}
py=/usr/bin/python3

if [ "$(id -u)" != 0 ] || ! command -v keepalived >/dev/null || ! command -v tcpdump >/dev/null || [ ! -x "$py" ]; then
  echo "SKIP: needs root, keepalived, tcpdump and $py"; echo "COUNT 0 0 1"; exit 77
fi
if [ ! -x "$KADP" ]; then
  echo "FAIL: no kadp binary at $KADP"; echo "COUNT 0 1 0"; exit 1
fi

tmp=$(mktemp -d /tmp/kadp-vrrp-bench-smoke.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

timeout 300 "$here/perf/vrrp_takeover.sh" --quick --json "$tmp/out.json" >"$tmp/out.txt" 2>&1
rc=$?
if [ "$rc" = 77 ]; then
  echo "SKIP: $(tail -1 "$tmp/out.txt")"; echo "COUNT 0 0 1"; exit 77
fi
if [ "$rc" = 0 ]; then
  echo "PASS: vrrp_takeover.sh --quick exited 0"; passed=$((passed + 1))
else
  echo "FAIL: vrrp_takeover.sh --quick exited $rc"; sed 's/^/    | /' "$tmp/out.txt" | tail -40; failed=$((failed + 1))
fi

if msg=$("$py" - "$tmp/out.json" "$tmp/out.txt" <<'EOF' 2>&1
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
text = open(sys.argv[2]).read()
want = {(p, e) for p in ("ka-ka", "kadp-ka", "ka-kadp", "kadp-kadp") for e in ("crash", "graceful")}
got = {(r["pair"], r["event"]) for r in rows}
assert got == want, "rows: missing %s, extra %s" % (sorted(want - got), sorted(got - want))
for r in rows:
    tag = "%s %s" % (r["pair"], r["event"])
    assert r["version"] == "v3" and r["runs"] == 2 and r["failed_runs"] == 0, "%s: runs %s failed %s" % (tag, r["runs"], r["failed_runs"])
    bound = 360.9375 if r["event"] == "crash" else 60.9375
    assert abs(r["bound_ms"] - bound) < 0.01, "%s: bound %s" % (tag, r["bound_ms"])
    for f in ("kill_ms", "advert_ms"):
        v = r[f]
        assert all(math.isfinite(v[k]) and v[k] > 0 for k in ("min", "median", "max")), "%s: %s %s" % (tag, f, v)
        assert v["min"] <= v["median"] <= v["max"], "%s: %s %s" % (tag, f, v)
    assert math.isfinite(r["excess_ms"]["median"]), tag
    assert ("ratio_kill" in r) and r["ratio_kill"] > 0 and r["ratio_advert"] > 0, "%s: no ratio" % tag
    if r["backup"] == "kadp":
        assert "b_tx_ms" in r, "%s: no breakdown from kadp's TAP" % tag
assert "| VRRPv3 advert_int 0.1 | kadp -> kadp | crash | 2 |" in text, "no table row on stdout"
print("8 rows, 2 runs each; medians (ms, last advert -> takeover): " + ", ".join(
    "%s %s %.1f" % (r["pair"], r["event"], r["advert_ms"]["median"]) for r in rows))
EOF
); then
  echo "PASS: sane figures: $msg"; passed=$((passed + 1))
else
  echo "FAIL: figures: $msg"; failed=$((failed + 1))
fi

echo "COUNT $passed $failed 0"
[ "$failed" = 0 ]

#!/usr/bin/env bash
# Runs on: a development machine or CI (root, no NIC). Smoke run of
# kadp-bench-checkers (not a speed test): --quick (200 real servers, TCP_CHECK
# and HTTP_GET, steady and saturating, ~5 s) with the builtin HTTP server,
# then HTTP_GET against nginx when it is installed. Each run must exit 0 and
# print one JSON object per configuration whose figures are sane and
# non-zero (checks, checks/s, control-thread CPU); no timing is asserted.
# The benchmark makes its own network namespace (unshare): it disappears
# with the process, and nginx, its child, is stopped by PID (and dies with
# it); a run is killed after 60 s (timeout, by PID), also when this script
# is interrupted.
#
#   tests/scripts/checkers_bench_smoke.sh        (BUILD=build by default)
#
# Exit 0 pass, 77 skip (not root), else fail; the last line is
# "COUNT passed failed skipped".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-${KADP_BUILD:-build}}
bench=$BUILD/perf/kadp-bench-checkers
py=/usr/bin/python3
passed=0 failed=0 skipped=0
tmp=$(mktemp -d /tmp/kadp-checkers-bench.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1: $2"; [ -f "${3:-}" ] && sed 's/^/    | /' "$3" | tail -20; failed=$((failed + 1)); }
skip() { echo "SKIP: $1: $2"; skipped=$((skipped + 1)); }

if [ "$(id -u)" -ne 0 ]; then
  skip kadp-bench-checkers "needs root (a network namespace of its own)"
  echo "COUNT $passed $failed $skipped"
  exit 77
fi
if [ ! -x "$bench" ]; then
  fail kadp-bench-checkers "not built: $bench"
  echo "COUNT $passed $failed $skipped"
  exit 1
fi

# check NAME EXPECTED_LINES ARGS...: runs the benchmark (60 s at most) and
# checks every JSON line it prints.
check() {
  local name=$1 lines=$2; shift 2
  local out=$tmp/$name rc why
  timeout 60 "$bench" "$@" >"$out" 2>"$out.err" &
  pid=$!  # timeout's: it passes a kill on to the benchmark
  wait "$pid"
  rc=$?
  pid=
  if [ "$rc" -eq 77 ]; then  # no network namespace allowed here
    skip "$name" "$(tail -1 "$out.err")"
    return
  fi
  if [ "$rc" -ne 0 ]; then
    fail "$name" "exit $rc from $bench $*" "$out.err"
    return
  fi
  if why=$("$py" - "$out" "$lines" <<'PY'
import json, sys
path, want = sys.argv[1], int(sys.argv[2])
rows = [json.loads(l) for l in open(path) if l.strip()]
assert len(rows) == want, "%d JSON lines, expected %d" % (len(rows), want)
for r in rows:
    what = "%s %s" % (r["check"], r["mode"])
    assert r["bench"] == "checkers" and r["check"] in ("TCP_CHECK", "HTTP_GET"), what
    assert r["servers"] == 200 and r["seconds"] > 0, "%s: servers/seconds %s" % (what, r)
    assert r["checks"] > 0 and r["checks_per_s"] > 0, "%s: no checks counted: %s" % (what, r)
    assert 0 < r["control_cpu_core"] <= r["cores"] + 0.5, "%s: control_cpu_core %s" % (what, r["control_cpu_core"])
    assert r["control_us_per_check"] > 0 and r["checks_per_control_cpu_s"] > 0, what
print("; ".join("%s %s %s: %.0f checks/s, %.1f us/check" % (r["check"], r["mode"], r["server"], r["checks_per_s"],
                                                          r["control_us_per_check"]) for r in rows))
PY
  ); then
    pass "$name: $why"
  else
    fail "$name" "$why" "$out"
  fi
}

check quick-builtin 4 --quick --http-server=builtin
if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
  check quick-nginx 2 --quick --check=http --http-server=nginx
else
  skip quick-nginx "nginx not installed (Debian package nginx-light)"
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" -eq 0 ] || exit 1
[ "$passed" -gt 0 ] || exit 77

#!/usr/bin/env bash
# The test command: installs what the tests need, builds kadp in build/, runs
# every test (unit, config corpus against keepalived, fuzzing, integration)
# and ends with one line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

scripts/install-deps.sh test || { echo "0 passed, 1 failed"; exit 1; }

if [ -f build/build.ninja ]; then
  meson setup --reconfigure build --werror >/tmp/kadp-setup.log 2>&1
else
  meson setup build --werror >/tmp/kadp-setup.log 2>&1
fi || { cat /tmp/kadp-setup.log; echo "0 passed, 1 failed"; exit 1; }
ninja -C build || { echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0 skipped=0
failures=()

# gtest binaries: count their test cases.
for bin in build/tests/unit/unit_*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  log=$(mktemp)
  timeout 600 "$bin" --gtest_color=no >"$log" 2>&1
  rc=$?
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
  if [ "$rc" -ne 0 ]; then
    grep -E '^\[  FAILED  \]|Failure|error' "$log" | head -40
    [ -z "$f" ] && failed=$((failed + 1))
    failures+=("$(basename "$bin")")
  fi
  rm -f "$log"
done

# Script tests: one test each; exit 0 passes, 77 skips, anything else fails.
# Each prints its own "PASS:"/"FAIL:" lines; counted here as whole scripts
# unless they print "COUNT passed failed skipped" as their last line.
for t in tests/scripts/*.sh; do
  [ -x "$t" ] || continue
  log=$(mktemp)
  echo "== $t"
  timeout 900 "$t" >"$log" 2>&1
  rc=$?
  last=$(tail -1 "$log")
  if [[ "$last" =~ ^COUNT\ ([0-9]+)\ ([0-9]+)\ ([0-9]+)$ ]]; then
    passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2])); skipped=$((skipped + BASH_REMATCH[3]))
    [ "$rc" -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ] && failed=$((failed + 1))
  elif [ "$rc" -eq 0 ]; then passed=$((passed + 1))
  elif [ "$rc" -eq 77 ]; then skipped=$((skipped + 1))
  else failed=$((failed + 1))
  fi
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
    tail -40 "$log"
    failures+=("$t")
  else
    grep -E '^(PASS|SKIP)' "$log" | tail -5
  fi
  rm -f "$log"
done

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# The test command: installs what the tests need, builds kadp, runs every
# test (unit, config corpus against keepalived, fuzzing, integration) and
# ends with one line "N passed, N failed, N skipped".
#
# Three builds (docs/testing.md, "Sanitizers"):
#   build/       the optimized build (debugoptimized): what ships.
#   build-san/   the same sources under AddressSanitizer + UndefinedBehavior-
#                Sanitizer (UB aborts: -fno-sanitize-recover=undefined),
#                LeakSanitizer at exit.
#   build-tsan/  ThreadSanitizer, unit_dataplane only: its multi-threaded
#                connection-table, persistence-template, conn_defense and
#                lblc/lblcr tests (no EAL needed; DPDK's ring built with its
#                C11 atomics so TSan sees them, see tests/sanitizers/).
# What runs where, and why (timings: docs/testing.md):
#   * unit tests: in build/ and build-san/ (cheap: both fit);
#   * script tests: in build-san/ only (KADP_BUILD=build-san: every script
#     takes kadp, kadpctl and the test tools from $KADP_BUILD), so the whole
#     integration suite drives the sanitized daemon; running them twice would
#     not fit the time budget (~20 min on the 2-core CI machine);
#   * in build/ only: the benchmark smoke tests (they run the optimized
#     binaries the published figures come from; under ASan they would measure
#     the sanitizer), demo_smoke.sh (it runs the README's scripts/demo.sh,
#     which builds and uses build/ itself), fuzz_targets.sh (its own clang
#     ASan+UBSan libFuzzer build, build-fuzz/) and the qemu VM tests (the
#     kernel backend inside Debian's kernel under TCG emulation: a sanitizer
#     report would stay inside the VM, and ASan there doubles their time).
# A sanitizer report anywhere fails the test that produced it: ASan, LSan
# and TSan reports go to files (log_path), which are checked after every
# test binary and script, printed, and kept under
# build-san/sanitizer-reports/; UB kills the process (exit 86).
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

scripts/install-deps.sh test || { echo "0 passed, 1 failed"; exit 1; }

# Scripts that run against build/ (see above); every other one gets build-san/.
optimized_only=(bench_smoke.sh checkers_bench_smoke.sh micro_bench_smoke.sh vrrp_bench_smoke.sh
                demo_smoke.sh fuzz_targets.sh kernel_ipvs_vm.sh kernel_restart_vm.sh sched_vs_kernel_vm.sh
                systemd_unit_vm.sh)

# setup_build DIR [meson options...]: configures DIR (again, if it exists).
setup_build() {
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" --werror "$@" >"/tmp/kadp-setup-$$.log" 2>&1
  else
    meson setup "$dir" --werror "$@" >"/tmp/kadp-setup-$$.log" 2>&1
  fi || { cat "/tmp/kadp-setup-$$.log"; rm -f "/tmp/kadp-setup-$$.log"; return 1; }
  rm -f "/tmp/kadp-setup-$$.log"
}
build_failed() { echo "build of $1 failed"; echo "0 passed, 1 failed"; exit 1; }

t_start=$SECONDS
setup_build build || build_failed build
ninja -C build || build_failed build
setup_build build-san -Db_sanitize=address,undefined \
  "-Dcpp_args=-fno-omit-frame-pointer -fno-sanitize-recover=undefined" || build_failed build-san
# Everything but the benchmarks (perf/: they run from build/ only).
san_targets=$(ninja -C build-san -t targets all | awk -F': ' '$2 ~ /LINKER/ && $1 !~ /^perf\// && $1 !~ /^kadp-bench/ { print $1 }')
# shellcheck disable=SC2086  # one target per word
ninja -C build-san $san_targets || build_failed build-san
# -Wno-tsan: GCC warns that TSan does not model std::atomic_thread_fence
# (used by the stress test's seqlock, never by dataplane/).
setup_build build-tsan -Db_sanitize=thread \
  "-Dcpp_args=-fno-omit-frame-pointer -DRTE_USE_C11_MEM_MODEL -Wno-tsan" || build_failed build-tsan
ninja -C build-tsan tests/unit/unit_dataplane || build_failed build-tsan
echo "== builds done ($((SECONDS - t_start)) s)"

# Sanitizer reports land in $san_logs (one file per process that reported).
san_logs=$(mktemp -d /tmp/kadp-san.XXXXXX)
chmod 1777 "$san_logs"
san_kept=$top/build-san/sanitizer-reports
rm -rf "$san_kept"
trap 'rm -rf "$san_logs"' EXIT
export ASAN_OPTIONS="log_path=$san_logs/asan:detect_leaks=1:abort_on_error=0:check_initialization_order=1"
# GCC 12's UBSan, linked with ASan, ignores log_path: its report goes to the
# process's stderr, and the process exits with UBSan's exitcode (UB is not
# recoverable in build-san/), which fails the unit binary or the kadp run.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=86"
export LSAN_OPTIONS="suppressions=$top/tests/sanitizers/lsan.supp:print_suppressions=0"
export TSAN_OPTIONS="log_path=$san_logs/tsan:halt_on_error=0:second_deadlock_stack=1:suppressions=$top/tests/sanitizers/tsan.supp"

passed=0 failed=0 skipped=0
failures=()

# san_check NAME: 0 when no sanitizer reported since the last call; else
# prints the reports, keeps them under $san_kept/NAME/ and returns 1.
san_check() {
  local f
  shopt -s nullglob
  local reports=("$san_logs"/*)
  shopt -u nullglob
  [ ${#reports[@]} -eq 0 ] && return 0
  mkdir -p "$san_kept/$1"
  for f in "${reports[@]}"; do
    echo "-- sanitizer report $(basename "$f") (kept in ${san_kept#"$top"/}/$1/):"
    head -60 "$f"
    mv "$f" "$san_kept/$1/"
  done
  return 1
}

# run_unit BIN LABEL [gtest args...]: a gtest binary, counting its test cases.
run_unit() {
  local bin=$1 label=$2 log rc p f s
  shift 2
  log=$(mktemp)
  echo "== $label"
  t0=$SECONDS
  timeout 600 "$bin" --gtest_color=no "$@" >"$log" 2>&1
  rc=$?
  echo "   ($((SECONDS - t0)) s)"
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
  if [ "$rc" -ne 0 ]; then
    grep -E '^\[  FAILED  \]|Failure|error' "$log" | head -40
    [ -z "$f" ] && failed=$((failed + 1))
    failures+=("$label")
  fi
  if ! san_check "$(printf '%s' "$label" | tr -c 'A-Za-z0-9_.-' '_')"; then
    [ "$rc" -eq 0 ] && { failed=$((failed + 1)); failures+=("$label (sanitizer)"); }
  fi
  rm -f "$log"
}

for dir in build build-san; do
  for bin in "$dir"/tests/unit/unit_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    run_unit "$bin" "$bin"
  done
done
# ThreadSanitizer: the tests where threads share the connection table, the
# persistence templates and the locality tables.
run_unit build-tsan/tests/unit/unit_dataplane "build-tsan/tests/unit/unit_dataplane (threads)" \
  --gtest_filter='*Concurrent*:*Race*:*Racing*:*Stress*:*Threads*'

# Script tests: one test each; exit 0 passes, 77 skips, anything else fails.
# Each prints its own "PASS:"/"FAIL:" lines; counted here as whole scripts
# unless they print "COUNT passed failed skipped" as their last line.
for t in tests/scripts/*.sh; do
  [ -x "$t" ] || continue
  kb=$top/build-san
  for o in "${optimized_only[@]}"; do [ "$(basename "$t")" = "$o" ] && kb=$top/build; done
  log=$(mktemp)
  echo "== $t (${kb#"$top"/})"
  t0=$SECONDS
  KADP_BUILD=$kb timeout 900 "$t" >"$log" 2>&1
  rc=$?
  echo "   ($((SECONDS - t0)) s)"
  last=$(tail -1 "$log")
  if [[ "$last" =~ ^COUNT\ ([0-9]+)\ ([0-9]+)\ ([0-9]+)$ ]]; then
    passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2])); skipped=$((skipped + BASH_REMATCH[3]))
    [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "${BASH_REMATCH[2]}" -eq 0 ] && failed=$((failed + 1))
  elif [ "$rc" -eq 0 ]; then passed=$((passed + 1))
  elif [ "$rc" -eq 77 ]; then skipped=$((skipped + 1))
  else failed=$((failed + 1))
  fi
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
    # Its FAIL lines with what follows them (they may be far from the end),
    # then its last lines.
    grep -A15 '^FAIL' "$log" | head -80
    echo "   --- last lines:"
    tail -40 "$log"
    failures+=("$t")
  else
    grep -E '^(PASS|SKIP)' "$log" | tail -5
  fi
  if ! san_check "$(basename "$t" .sh)"; then
    failed=$((failed + 1))
    failures+=("$t (sanitizer)")
  fi
  rm -f "$log"
done

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "== total $((SECONDS - t_start)) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# libFuzzer on the configuration front end (tests/fuzz/fuzz_conf.cpp: lexer,
# block tree, every section parser, validation, JSON dump), with ASan + UBSan
# and leak detection, for a bounded time.
#
#   tests/scripts/fuzz_conf.sh            (no root needed)
#
# Builds build-fuzz/ with clang++ if needed (it is the one thing this script
# builds; the tree's build/ is not touched):
#   CXX=clang++ meson setup build-fuzz -Dfuzzing=true \
#       -Db_sanitize=address,undefined -Db_lundef=false
#   ninja -C build-fuzz
# then
#   1. runs every input in tests/fuzz/regressions_conf/ once (inputs that once
#      crashed, leaked, hung or blew up memory: each must now pass, within 3 s);
#   2. fuzzes for FUZZ_TIME seconds (default 45) on a COPY, in a temp dir, of
#      the seed corpus tests/fuzz/corpus_conf/ plus tests/corpus/{valid,invalid}/
#      (the repo is never modified), with the dictionary tests/fuzz/conf.dict.
# Any crash, sanitizer report, leak, timeout (-timeout=10) or out-of-memory
# (-rss_limit_mb=2048) fails; the failing input is kept in a directory under
# /tmp whose name is printed, with the command that reproduces it. On success
# it prints how many executions the target survived.
#
# Long run (hours, both cores; new inputs are kept in the corpus dir; add a
# reproducer to tests/fuzz/regressions_conf/ for every bug found):
#   mkdir -p /tmp/fuzz-conf && cp tests/fuzz/corpus_conf/* tests/corpus/valid/*.conf \
#       tests/corpus/invalid/*.conf /tmp/fuzz-conf/
#   ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
#   build-fuzz/tests/fuzz/fuzz_conf -dict=tests/fuzz/conf.dict -rss_limit_mb=2048 \
#       -timeout=10 -jobs=2 -workers=2 -max_total_time=14400 \
#       -artifact_prefix=/tmp/fuzz-conf-artifacts/ /tmp/fuzz-conf
#   (mkdir -p /tmp/fuzz-conf-artifacts first; reproduce one input with
#    build-fuzz/tests/fuzz/fuzz_conf FILE)
#
# Environment: FUZZ_TIME (seconds, default 45), FUZZ_BUILD (default build-fuzz).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top" || exit 1
FUZZ_TIME=${FUZZ_TIME:-45}
bdir=${FUZZ_BUILD:-build-fuzz}
fuzzer="$bdir/tests/fuzz/fuzz_conf"

if ! command -v clang++ >/dev/null; then echo "SKIP: clang++ is not installed"; exit 77; fi

passed=0 failed=0 skipped=0
tmp=$(mktemp -d /tmp/kadp-fuzz.XXXXXX)
child=""
cleanup() {
    [ -n "$child" ] && kill "$child" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run LOG CMD...: in the background (so the trap can end it by PID).
run() {
    local log=$1; shift
    "$@" >"$log" 2>&1 &
    child=$!
    wait "$child"
    local rc=$?
    child=""
    return "$rc"
}

# Build (configure only once; ninja re-runs meson when meson files change).
if [ ! -f "$bdir/build.ninja" ]; then
    if ! run "$tmp/setup.log" env CXX=clang++ meson setup "$bdir" -Dfuzzing=true \
            -Db_sanitize=address,undefined -Db_lundef=false; then
        tail -30 "$tmp/setup.log"
        echo "FAIL: meson setup $bdir (clang++, -Dfuzzing=true)"
        echo "COUNT 0 1 0"; exit 1
    fi
fi
if ! run "$tmp/build.log" ninja -C "$bdir" tests/fuzz/fuzz_conf; then
    grep -E 'error|FAILED' "$tmp/build.log" | head -30
    echo "FAIL: ninja -C $bdir"
    echo "COUNT 0 1 0"; exit 1
fi

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
limits=(-rss_limit_mb=2048 -timeout=10)

keep=""   # where failing inputs are kept (created on the first failure)
keep_inputs() {
    [ -n "$keep" ] || keep=$(mktemp -d /tmp/kadp-fuzz-failures.XXXXXX)
    cp "$@" "$keep/" 2>/dev/null
}
report() {  # report LOG: the sanitizer/libFuzzer report, not the progress lines
    grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|INITED)' "$1" | grep -vE '^(INFO|MS:|base unit|0x)' | tail -60
}

# 1. Regression inputs, once each.
for f in tests/fuzz/regressions_conf/*; do
    [ -f "$f" ] || continue
    # A tiny input parses in milliseconds even under ASan: 3 s is generous.
    if run "$tmp/regression.log" timeout 120 "$fuzzer" -rss_limit_mb=2048 -timeout=3 -runs=1 "$f"; then
        echo "PASS: regression $(basename "$f")"
        passed=$((passed + 1))
    else
        echo "FAIL: regression $(basename "$f") (reproduce: $fuzzer -timeout=3 -rss_limit_mb=2048 $f)"
        report "$tmp/regression.log"
        failed=$((failed + 1))
    fi
done

# 2. Fuzzing on a copy of the seeds.
mkdir -p "$tmp/corpus" "$tmp/artifacts"
cp tests/fuzz/corpus_conf/* "$tmp/corpus/"
for f in tests/corpus/valid/*.conf tests/corpus/invalid/*.conf; do
    [ -f "$f" ] && cp "$f" "$tmp/corpus/$(basename "$(dirname "$f")")-$(basename "$f")"
done
nseeds=$(find "$tmp/corpus" -type f | wc -l)
run "$tmp/fuzz.log" timeout $((FUZZ_TIME + 300)) "$fuzzer" "${limits[@]}" -detect_leaks=1 \
    -max_total_time="$FUZZ_TIME" -print_final_stats=1 -dict=tests/fuzz/conf.dict \
    -artifact_prefix="$tmp/artifacts/" "$tmp/corpus"
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log" | tail -1)
artifacts=$(find "$tmp/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | sort)
if [ "$rc" -eq 0 ] && [ -z "$artifacts" ]; then
    echo "PASS: fuzz_conf survived ${execs:-?} executions in ${FUZZ_TIME}s from $nseeds seeds" \
         "($(grep -c -E '^#[0-9]+[[:space:]]+NEW' "$tmp/fuzz.log") new inputs)"
    passed=$((passed + 1))
else
    echo "FAIL: fuzz_conf exit $rc after ${execs:-?} executions"
    report "$tmp/fuzz.log"
    if [ -n "$artifacts" ]; then
        # shellcheck disable=SC2086
        keep_inputs $artifacts
        for a in $artifacts; do
            echo "  input $(basename "$a") ($(wc -c <"$a") bytes), first lines:"
            head -c 600 "$a" | head -15 | cat -v | sed 's/^/    | /'
        done
        echo "  kept in $keep; reproduce: $fuzzer -timeout=10 -rss_limit_mb=2048 $keep/<file>"
    fi
    failed=$((failed + 1))
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" -eq 0 ]

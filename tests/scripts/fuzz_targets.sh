#!/usr/bin/env bash
# libFuzzer on every parser that reads untrusted bytes, with ASan + UBSan and
# leak detection, each for a bounded time (docs/fuzzing.md):
#   conf    the configuration front end (lexer, every section parser, JSON dump)
#   packet  the worker's frame parser and checksum verifiers (dataplane/packet_parse.h)
#   vrrp    the VRRP decoder and validation, v2/v3, IPv4/IPv6 (vrrp/codec.h)
#   http    HTTP_GET's response parser (checks/http_response.h)
#   smtp    SMTP_CHECK's reply code rule (checks/checks_internal.h)
#   dns     DNS_CHECK's reply judge and query builder (checks/dns_message.h)
#   ctl     the kadpctl socket: request parser, replies both ways (control/ctl_protocol.h)
#   pipeline the whole worker pipeline (NatPipeline::process) on real mbufs, EAL
#           with --no-huge --no-pci (skipped when DPDK is not installed)
#
#   tests/scripts/fuzz_targets.sh              every target (no root needed)
#   tests/scripts/fuzz_targets.sh vrrp ctl     only those
#
# Builds build-fuzz/ with clang++ if needed (the one thing this script builds;
# the tree's build/ is not touched):
#   CXX=clang++ meson setup build-fuzz -Dfuzzing=true \
#       -Db_sanitize=address,undefined -Db_lundef=false
#   ninja -C build-fuzz
# then, for each target NAME (tests/fuzz/fuzz_NAME.cpp):
#   1. runs every input in tests/fuzz/regressions_NAME/ once (inputs that once
#      crashed, leaked, hung or blew up memory: each must now pass, within 3 s);
#   2. fuzzes for FUZZ_TIME seconds (default 12; conf, the slowest, 25) on a COPY, in a temp dir, of
#      the seeds tests/fuzz/corpus_NAME/ (conf: plus tests/corpus/{valid,invalid}/)
#      (the repo is never modified), with tests/fuzz/NAME.dict when it exists.
# Any crash, sanitizer report, leak, timeout (-timeout=10) or out-of-memory
# (-rss_limit_mb=2048) fails; the failing input is kept in a directory under
# /tmp whose name is printed, with the command that reproduces it. Each
# target prints how many executions it survived.
#
# Long run of one target (hours, both cores; new inputs stay in the corpus
# dir; add a reproducer to tests/fuzz/regressions_NAME/ for every bug found):
#   mkdir -p /tmp/fuzz-NAME /tmp/fuzz-NAME-artifacts && cp tests/fuzz/corpus_NAME/* /tmp/fuzz-NAME/
#   ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
#   build-fuzz/tests/fuzz/fuzz_NAME [-dict=tests/fuzz/NAME.dict] -rss_limit_mb=2048 \
#       -timeout=10 -jobs=2 -workers=2 -max_total_time=14400 \
#       -artifact_prefix=/tmp/fuzz-NAME-artifacts/ /tmp/fuzz-NAME
#   (reproduce one input with build-fuzz/tests/fuzz/fuzz_NAME FILE)
#
# Environment: FUZZ_TIME (seconds per target; default 12, conf 25: about two
# minutes for all of them on 2 cores), FUZZ_BUILD (default build-fuzz).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top" || exit 1
fuzz_time_set=${FUZZ_TIME:-}
bdir=${FUZZ_BUILD:-build-fuzz}
all_targets=(conf packet vrrp http smtp dns ctl pipeline)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
for t in "${targets[@]}"; do
    [ -f "tests/fuzz/fuzz_$t.cpp" ] || { echo "unknown target $t (known: ${all_targets[*]})"; exit 2; }
done

if ! command -v clang++ >/dev/null; then echo "SKIP: clang++ is not installed"; exit 77; fi

passed=0 failed=0 skipped=0
tmp=$(mktemp -d /tmp/kadp-fuzz.XXXXXX)
child=""
last_pid=""
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
    last_pid=$child
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
# fuzz_pipeline exists only when meson found DPDK and boost (build.ninja
# first: meson runs again if its files changed since the last build).
run "$tmp/regen.log" ninja -C "$bdir" build.ninja
available=$(ninja -C "$bdir" -t targets all 2>/dev/null)
build_targets=() run_targets=()
for t in "${targets[@]}"; do
    if grep -q "^tests/fuzz/fuzz_$t:" <<<"$available"; then
        build_targets+=("tests/fuzz/fuzz_$t"); run_targets+=("$t")
    else
        echo "SKIP: fuzz_$t is not built here (DPDK or boost not found by meson)"
        skipped=$((skipped + 1))
    fi
done
if ! run "$tmp/build.log" ninja -C "$bdir" "${build_targets[@]}"; then
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

# seeds NAME DIR: copies target NAME's seeds into DIR.
seeds() {
    local name=$1 dir=$2 f
    cp "tests/fuzz/corpus_$name"/* "$dir/"
    if [ "$name" = conf ]; then
        for f in tests/corpus/valid/*.conf tests/corpus/invalid/*.conf; do
            [ -f "$f" ] && cp "$f" "$dir/$(basename "$(dirname "$f")")-$(basename "$f")"
        done
    fi
}

# The pipeline target's EAL leaves /var/run/dpdk/kadp-fuzz-pipeline-PID when
# the fuzzer dies (it removes it on a normal exit).
forget_eal() {
    [ "$1" = pipeline ] && [ -n "$last_pid" ] && rm -rf "/var/run/dpdk/kadp-fuzz-pipeline-$last_pid" \
        "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk/kadp-fuzz-pipeline-$last_pid"
    return 0
}

summary=()
for name in "${run_targets[@]}"; do
    fuzzer="$bdir/tests/fuzz/fuzz_$name"
    FUZZ_TIME=$fuzz_time_set
    [ -n "$FUZZ_TIME" ] || { [ "$name" = conf ] && FUZZ_TIME=25 || FUZZ_TIME=12; }

    # 1. Regression inputs, once each.
    for f in "tests/fuzz/regressions_$name"/*; do
        [ -f "$f" ] || continue
        # A tiny input is handled in milliseconds even under ASan: 3 s is generous.
        if run "$tmp/regression.log" timeout 120 "$fuzzer" -rss_limit_mb=2048 -timeout=3 -runs=1 "$f"; then
            echo "PASS: fuzz_$name regression $(basename "$f")"
            passed=$((passed + 1))
        else
            echo "FAIL: fuzz_$name regression $(basename "$f") (reproduce: $fuzzer -timeout=3 -rss_limit_mb=2048 $f)"
            report "$tmp/regression.log"
            failed=$((failed + 1))
        fi
        forget_eal "$name"
    done

    # 2. Fuzzing on a copy of the seeds.
    rm -rf "$tmp/corpus" "$tmp/artifacts"
    mkdir -p "$tmp/corpus" "$tmp/artifacts"
    seeds "$name" "$tmp/corpus"
    nseeds=$(find "$tmp/corpus" -type f | wc -l)
    dict=()
    [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
    run "$tmp/fuzz.log" timeout $((FUZZ_TIME + 300)) "$fuzzer" "${limits[@]}" -detect_leaks=1 \
        -max_total_time="$FUZZ_TIME" -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="$tmp/artifacts/" "$tmp/corpus"
    rc=$?
    forget_eal "$name"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log" | tail -1)
    artifacts=$(find "$tmp/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
        -o -name 'oom-*' \) | sort)
    if [ "$rc" -eq 0 ] && [ -z "$artifacts" ]; then
        echo "PASS: fuzz_$name survived ${execs:-?} executions in ${FUZZ_TIME}s from $nseeds seeds" \
             "($(grep -c -E '^#[0-9]+[[:space:]]+NEW' "$tmp/fuzz.log") new inputs)"
        summary+=("fuzz_$name ${execs:-?} in ${FUZZ_TIME}s")
        passed=$((passed + 1))
    else
        echo "FAIL: fuzz_$name exit $rc after ${execs:-?} executions"
        report "$tmp/fuzz.log"
        if [ -n "$artifacts" ]; then
            # shellcheck disable=SC2086
            keep_inputs $artifacts
            for a in $artifacts; do
                echo "  input $(basename "$a") ($(wc -c <"$a") bytes), first bytes:"
                head -c 256 "$a" | od -A d -c | head -12 | sed 's/^/    | /'
            done
            echo "  kept in $keep; reproduce: $fuzzer -timeout=10 -rss_limit_mb=2048 $keep/<file>"
        fi
        summary+=("fuzz_$name FAILED after ${execs:-?}")
        failed=$((failed + 1))
    fi
done

echo "executions survived:"
printf '  %s\n' "${summary[@]}"
echo "COUNT $passed $failed $skipped"
[ "$failed" -eq 0 ]

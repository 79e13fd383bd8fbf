#!/usr/bin/env bash
# Config corpus: kadp's verdict on each keepalived.conf compared with the real
# keepalived 2.2.7 (`keepalived -t`) on the same file.
#
#   tests/scripts/conf_corpus_vs_keepalived.sh [FILE...]     (as root)
#
# Corpus: tests/corpus/valid/*.conf (keepalived -t exits 0), tests/corpus/
# invalid/*.conf (each breaks one rule keepalived reports: exit 5, or 6 for a
# script-security violation) and every Debian sample
# /usr/share/doc/keepalived/samples/keepalived.conf.* (copied to a temp dir at
# test time; not part of the repo). tests/corpus/include/ holds fixtures that
# corpus files include; they are not corpus files themselves. With FILE
# arguments only those files are checked (handy while fixing one parser).
#
# Verdicts: `kadp -t --strict -f F` (0 clean, 5 errors or warnings) against
# `keepalived -t -f F` (0 clean, 5 anything reported, 6 script security; 6 is
# matched by kadp 5 or 6). Both run with the same config-id (`-i`) inside a
# private network namespace that holds exactly the interfaces the file names,
# so "interface doesn't exist" checks agree. Header comments in corpus files:
#   # interfaces: eth0 eth1   veth interfaces to create (samples: eth0-eth3, eth0.1)
#   # config-id: lb1          -i for both programs (default: corpus)
#   # expect-line: N          (invalid/) a kadp diagnostic must name line N
# Every invalid/ file must also make kadp print at least one diagnostic
# "FILE:LINE: error|warning: ...". A valid/ file keepalived rejects, or an
# invalid/ file it accepts, is a corpus bug and fails too.
#
# Output: one "PASS: file" or "FAIL: file kadp=X keepalived=Y [why]" line per
# file (with both programs' messages on a failure), then "COUNT p f s".
# Environment: KADP (default build/kadp), KEEPALIVED (default keepalived).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
KADP=${KADP:-$top/build/kadp}
KEEPALIVED=${KEEPALIVED:-$(command -v keepalived || true)}
SAMPLES=/usr/share/doc/keepalived/samples
SAMPLE_IFACES="eth0 eth1 eth2 eth3 eth0.1"
DEFAULT_ID=corpus

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (network namespaces)"; exit 77; fi
if [ -z "$KEEPALIVED" ] || [ ! -x "$KEEPALIVED" ]; then echo "SKIP: keepalived is not installed"; exit 77; fi
if [ ! -x "$KADP" ]; then echo "FAIL: $KADP not built (ninja -C build)"; echo "COUNT 0 1 0"; exit 1; fi

prefix="kadpcc$$"
tmp=$(mktemp -d /tmp/kadp-corpus.XXXXXX)
namespaces=()
child=""

cleanup() {
    [ -n "$child" ] && kill "$child" 2>/dev/null
    local ns
    for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run OUTFILE CMD...: runs CMD in the background (so the trap can end it by
# PID), bounded by timeout; returns its exit status.
run() {
    local out=$1; shift
    timeout 30 "$@" >"$out" 2>&1 &
    child=$!
    wait "$child"
    local rc=$?
    child=""
    return "$rc"
}

header() {  # header FILE KEY -> value of "# KEY: value" (first one)
    sed -n "s/^#[[:space:]]*$2:[[:space:]]*//p" "$1" | head -1 | sed 's/[[:space:]]*$//'
}

# make_ns NAME IFACES...: a namespace with lo up and one veth pair per name.
make_ns() {
    local ns=$1; shift
    ip netns add "$ns" || return 1
    namespaces+=("$ns")
    ip -n "$ns" link set lo up
    local i=0 ifc
    for ifc in "$@"; do
        ip -n "$ns" link add "$ifc" type veth peer name "kcpeer$i" || return 1
        ip -n "$ns" link set "$ifc" up
        i=$((i + 1))
    done
}

del_ns() {
    ip netns del "$1" 2>/dev/null
    local keep=() ns
    for ns in "${namespaces[@]}"; do [ "$ns" != "$1" ] && keep+=("$ns"); done
    namespaces=("${keep[@]}")
}

indent() { sed -n '1,25s/^/    /p' "$1"; }

passed=0 failed=0 skipped=0 seq=0
diag_re='^[^[:space:]]+:[0-9]+: (error|warning): '

# check FILE KIND(valid|invalid|sample) LABEL
check() {
    local f=$1 kind=$2 label=$3
    seq=$((seq + 1))
    local ns="$prefix-$seq"
    local ifaces id
    ifaces=$(header "$f" interfaces)
    [ "$kind" = sample ] && [ -z "$ifaces" ] && ifaces=$SAMPLE_IFACES
    id=$(header "$f" config-id)
    id=${id:-$DEFAULT_ID}
    # shellcheck disable=SC2086
    if ! make_ns "$ns" $ifaces; then
        echo "FAIL: $label cannot create namespace $ns with interfaces: $ifaces"
        failed=$((failed + 1)); del_ns "$ns"; return
    fi
    local kout="$tmp/kadp.out" rout="$tmp/keepalived.out" krc rrc
    run "$kout" ip netns exec "$ns" "$KADP" -t --strict -i "$id" -f "$f"; krc=$?
    run "$rout" ip netns exec "$ns" "$KEEPALIVED" -t -i "$id" -f "$f"; rrc=$?
    del_ns "$ns"

    local why=()
    if [ "$krc" -ne "$rrc" ] && ! { [ "$rrc" -eq 6 ] && [ "$krc" -eq 5 ]; }; then
        why+=("verdicts differ")
    fi
    case $kind in
        valid) [ "$rrc" -ne 0 ] && why+=("corpus bug: keepalived rejects a valid/ file") ;;
        invalid) [ "$rrc" -eq 0 ] && why+=("corpus bug: keepalived accepts an invalid/ file") ;;
    esac
    if [ "$kind" = invalid ]; then
        grep -Eq "$diag_re" "$kout" || why+=("no FILE:LINE: error|warning: diagnostic")
        local line
        line=$(header "$f" expect-line)
        if [ -n "$line" ] && ! grep -Eq "^[^[:space:]]+:$line: (error|warning): " "$kout"; then
            why+=("no diagnostic names line $line")
        fi
    fi
    if [ ${#why[@]} -eq 0 ]; then
        echo "PASS: $label kadp=$krc keepalived=$rrc"
        passed=$((passed + 1))
    else
        local joined
        joined=$(printf '%s; ' "${why[@]}")
        echo "FAIL: $label kadp=$krc keepalived=$rrc (${joined%; })"
        echo "  kadp -t --strict:"; indent "$kout"
        echo "  keepalived -t:"; indent "$rout"
        failed=$((failed + 1))
    fi
}

files=()
if [ $# -gt 0 ]; then
    for a in "$@"; do files+=("$(cd "$(dirname "$a")" && pwd)/$(basename "$a")"); done
else
    for f in "$top"/tests/corpus/valid/*.conf "$top"/tests/corpus/invalid/*.conf; do
        [ -f "$f" ] && files+=("$f")
    done
    if compgen -G "$SAMPLES/keepalived.conf.*" >/dev/null; then
        mkdir -p "$tmp/samples"
        cp "$SAMPLES"/keepalived.conf.* "$tmp/samples/"
        for f in "$tmp"/samples/keepalived.conf.*; do
            case $f in *.gz) continue ;; esac
            files+=("$f")
        done
    else
        echo "SKIP: no keepalived samples in $SAMPLES"
        skipped=$((skipped + 1))
    fi
fi

for f in "${files[@]}"; do
    case $f in
        "$top"/tests/corpus/valid/*) check "$f" valid "valid/$(basename "$f")" ;;
        "$top"/tests/corpus/invalid/*) check "$f" invalid "invalid/$(basename "$f")" ;;
        "$tmp"/samples/*) check "$f" sample "samples/$(basename "$f")" ;;
        *) check "$f" other "$f" ;;
    esac
done

echo "COUNT $passed $failed $skipped"
[ "$failed" -eq 0 ]

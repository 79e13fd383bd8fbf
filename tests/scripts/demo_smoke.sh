#!/bin/bash
# The README's first command, scripts/demo.sh, end to end: it must answer all
# 32 requests with the example's wrr split and clean up after itself (it
# removes its namespaces and processes on any exit). Skips without root or
# network namespaces, as the demo itself would only validate then.
set -u
cd "$(dirname "$0")/../.." || exit 1
if [ "$(id -u)" -ne 0 ] || ! ip netns list >/dev/null 2>&1; then
    echo "SKIP: needs root and network namespaces"
    echo "COUNT 0 0 1"
    exit 77
fi
out=$(timeout 300 scripts/demo.sh 2>&1)
rc=$?
pass=0
fail=0
check() {  # check NAME CONDITION-RESULT
    if [ "$2" -eq 0 ]; then echo "PASS: $1"; pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi
}
check "exit_0" "$rc"
# The example's VRRP instance, alone on the LAN, is MASTER before the requests.
grep -q "kadp: (VI_1) Entering MASTER STATE" <<<"$out"; check "vrrp_master" $?
grep -q "== done: 32 of 32 requests answered" <<<"$out"; check "all_32_answered" $?
# The example's weights 1, 1, 2: 8/8/16.
grep -Eq "server 3 +198\.19\.0\.3 +16 " <<<"$out"; check "wrr_split_8_8_16" $?
left=$(ip netns list 2>/dev/null | grep -c "kadp-demo-" || true)
[ "$left" -eq 0 ]; check "namespaces_removed" $?
if [ "$fail" -ne 0 ]; then printf '%s\n' "$out" | tail -40; fi
echo "COUNT $pass $fail 0"
[ "$fail" -eq 0 ]

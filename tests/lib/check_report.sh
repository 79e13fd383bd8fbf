# Sourced by script tests: the PASS:/FAIL:/SKIP: lines and their tallies
# (scripts end with `echo "COUNT $passed $failed $skipped"`).
#   pass NAME
#   fail NAME WHY [LOG...]   the last lines of each log follow (kadp's
#                            gratuitous-ARP chatter left out)
#   skip NAME WHY
# CHECK_LOG_LINES sets how many lines of each log (default 25).
passed=0 failed=0 skipped=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() {
  local name=$1 why=$2 f
  shift 2
  echo "FAIL: $name: $why"
  for f in "$@"; do
    [ -f "$f" ] || continue
    echo "    --- ${f##*/}"
    grep -v "Sending gratuitous ARP" "$f" | sed 's/^/    | /' | tail -"${CHECK_LOG_LINES:-25}"
  done
  failed=$((failed + 1))
}
skip() { echo "SKIP: $1: $2"; skipped=$((skipped + 1)); }

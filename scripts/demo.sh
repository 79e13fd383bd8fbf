#!/usr/bin/env bash
# The main command: installs what kadp and the demo need, builds kadp, and
# shows it load-balancing live.
#
#   scripts/demo.sh                 live demo (root, network namespaces)
#   scripts/demo.sh --check [CONF]  validate CONF like `keepalived -t` and print
#                                   the resolved model as JSON (no root needed)
#
# The live demo builds the namespace topology of tests/lib/nat_topology.sh
# (a client, kadp on two af_packet veths, three nginx real servers behind a
# bridge; addresses in 198.18.0.0/15), starts kadp on examples/keepalived.conf,
# sends REQUESTS (default 32) HTTP requests to the VIP 198.18.0.100 from the
# client, prints which real server answered each and a per-server tally, stops
# kadp with SIGTERM and prints its per-real-server figures and counter totals.
# Everything it made is removed on exit, also on failure or Ctrl-C. Exit 0
# when every request was answered and kadp stopped cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

build() {
  scripts/install-deps.sh "$1"
  [ -f build/build.ninja ] || meson setup build >/dev/null
  local log
  log=$(mktemp)
  if ! ninja -C build >"$log" 2>&1; then cat "$log"; rm -f "$log"; exit 1; fi
  rm -f "$log"
}

check() {
  local conf=${1:-examples/keepalived.conf}
  build build
  echo "== kadp -t -f $conf"
  ./build/kadp -t -f "$conf" && echo "configuration OK"
  echo "== kadp --dump-config -f $conf"
  ./build/kadp --dump-config -f "$conf"
}

case "${1:-}" in
  --check) shift; check "$@"; exit ;;
  -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--check [CONF]]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: the live demo needs root (network namespaces); running $0 --check instead" >&2
  check
  exit
fi
probe=kadp-demo-probe-$$
if ! ip netns add "$probe" 2>/dev/null; then
  echo "demo: cannot create network namespaces here; running $0 --check instead" >&2
  check
  exit
fi
ip netns del "$probe"

conf=examples/keepalived.conf
requests=${REQUESTS:-32}
vip=198.18.0.100

build demo
set +e   # from here on, failures are reported, not fatal; cleanup runs on every exit

. tests/lib/nat_topology.sh
trap nat_topo_cleanup EXIT
trap 'echo; echo "demo: interrupted, cleaning up" >&2; exit 130' INT
trap 'exit 143' TERM

die() {
  echo "demo: $1" >&2
  [ -n "${2:-}" ] && [ -f "$2" ] && grep -v 'skipping unrecognized' "$2" | tail -30 | sed 's/^/    | /' >&2
  exit 1
}

echo "== kadp -t -f $conf"
./build/kadp -t -f "$conf" || die "$conf does not validate"
echo "configuration OK"

echo "== topology (namespaces kadp-demo-$$-*)"
nat_topo_setup "kadp-demo-$$" veth-lan veth-srv || die "cannot build the namespace topology"
cat <<EOF
  client 198.18.0.1 --- [veth-lan  kadp  veth-srv] --- bridge --- nginx 198.19.0.1 "server 1"
                                                                  nginx 198.19.0.2 "server 2"
                                                                  nginx 198.19.0.3 "server 3"
EOF

log=$NT_DIR/kadp.log
echo "== in $NT_NS_LB: kadp -l 0,1 --no-huge -m 512 --no-pci ... -- -f $conf"
nat_topo_kadp_start "$conf" "$log" run || die "kadp did not start" "$log"
grep -E '^kadp: (port|services|running)' "$log" | sed 's/^/  /'
# VRRP: alone on the LAN, the instance becomes MASTER after its master-down
# interval (about 3.4 s); only then does the data plane answer for the VIP.
for _ in $(seq 100); do grep -q "Entering MASTER STATE" "$log" && break; sleep 0.1; done
grep -E '^kadp: \(VI_1\) Entering' "$log" | sed 's/^/  /'

# Requests: one new TCP connection each. The first may wait for ARP on both
# sides of kadp, so it gets a few tries; the others get one.
declare -A tally=()
answers=()
failures=0
for i in $(seq "$requests"); do
  tries=1
  [ "$i" = 1 ] && tries=10
  got=
  for _ in $(seq $tries); do
    got=$(nat_topo_client curl -s --max-time 3 "http://$vip/") && break
    got=
    sleep 0.3
  done
  [ -n "$got" ] || { got=failed; failures=$((failures + 1)); }
  answers+=("$got")
  tally[$got]=$(( ${tally[$got]:-0} + 1 ))
done

algo=$(awk '$1 == "lb_algo" { print $2; exit }' "$conf")
weights=$(awk '$1 == "weight" { printf "%s%s", sep, $2; sep = "," }' "$conf")
echo "== $requests HTTP requests from the client to http://$vip/ (lb_algo $algo, weights $weights)"
line=
for i in "${!answers[@]}"; do
  line+=$(printf '  #%-3s %-9s' "$((i + 1))" "${answers[$i]}")
  if [ $(((i + 1) % 4)) = 0 ]; then echo "${line% *}"; line=; fi
done
[ -n "$line" ] && echo "${line% *}"
echo "== answers per real server"
for s in "server 1" "server 2" "server 3" failed; do
  n=${tally[$s]:-0}
  [ "$s" = failed ] && [ "$n" = 0 ] && continue
  bar=$(printf '%*s' "$n" '' | tr ' ' '#')
  addr=
  [ "$s" != failed ] && addr="198.19.0.${s#server }"
  printf '  %-9s %-11s %3d  %s\n' "$s" "$addr" "$n" "$bar"
done

echo "== kadp stopped with SIGTERM; what it counted"
nat_topo_kadp_stop
rc=$?
grep '^kadp: real server ' "$log" | sed 's/^kadp: /  /'
grep '^kadp: counters (all workers):' "$log" | sed 's/^kadp: counters (all workers): *//' | fold -s -w 96 |
  sed 's/ *$//; 1s/^/  counters (all workers): /; 2,$s/^/                          /'
[ "$rc" = 0 ] || die "kadp did not stop cleanly (exit $rc)" "$log"
[ "$failures" = 0 ] || die "$failures of $requests requests got no answer" "$log"
echo "== done: $requests of $requests requests answered (removing the namespaces and processes)"

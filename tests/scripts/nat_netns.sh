#!/usr/bin/env bash
# NAT end to end: a client namespace, kadp on two af_packet veths in its own
# namespace, three nginx real servers behind a bridge.
#
#   client 198.18.0.1 --- [lan 198.18.0.254  kadp  srv 198.19.0.254] --- bridge --- 198.19.0.{1,2,3} nginx
#   VIP 198.18.0.100:80/tcp, lb_kind NAT; the servers route back via 198.19.0.254.
#
# Cases: (a) rr: 12 sequential requests, 4 per server; (b) a 5 MB file
# arrives intact (sha256); (c) 10 parallel requests all succeed; (d) wrr with
# weights 1,2,3: 2/4/6 of 12 requests (kadp restarted with a second config).
# kadp prints per-worker counters and per-real-server figures on SIGTERM;
# they are shown when a case fails.
#
# Needs root, nginx (nginx-light), curl, ethtool. Exit 0 pass, 77 skip, else
# fail; the last line is "COUNT passed failed skipped". Environment: KADP
# (default build/kadp).
set -uo pipefail
cd "$(dirname "$0")/../.."
KADP=${KADP:-build/kadp}

skip_all() { echo "SKIP: $1"; echo "COUNT 0 0 1"; exit 77; }
[ "$(id -u)" = 0 ] || skip_all "needs root"
for tool in nginx curl ethtool ip sha256sum; do command -v $tool >/dev/null || skip_all "no $tool"; done
[ -x "$KADP" ] || { echo "FAIL: no kadp binary at $KADP"; echo "COUNT 0 1 0"; exit 1; }

tag=kadp-nat-$$
tmp=$(mktemp -d /tmp/$tag.XXXXXX)
chmod 755 "$tmp"
ns_c=$tag-c ns_lb=$tag-lb ns_br=$tag-br
ns_s=("$tag-s1" "$tag-s2" "$tag-s3")
pids=()
kadp_pid=
passed=0 failed=0 skipped=0

cleanup() {
  [ -n "$kadp_pid" ] && { kill -KILL "$kadp_pid" 2>/dev/null; wait "$kadp_pid" 2>/dev/null; }
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  for ns in "$ns_c" "$ns_lb" "$ns_br" "${ns_s[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$tmp" /var/run/dpdk/"$tag"*
}
trap cleanup EXIT

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1: $2"; [ -n "${3:-}" ] && sed 's/^/    | /' "$3" | tail -40; failed=$((failed + 1)); }

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
quiet_ns() { in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; in_ns "$1" ip link set lo up; }
# Checksums and segmentation done in software, so af_packet hands DPDK whole, finished frames.
no_offload() { in_ns "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1; }

# --- topology ---------------------------------------------------------------------
setup() {
  for ns in "$ns_c" "$ns_lb" "$ns_br" "${ns_s[@]}"; do ip netns add "$ns" || return 1; quiet_ns "$ns"; done
  # client <-> kadp lan
  ip link add c0 netns "$ns_c" type veth peer name lan netns "$ns_lb" || return 1
  in_ns "$ns_c" ip addr add 198.18.0.1/24 dev c0
  in_ns "$ns_c" ip link set c0 up
  no_offload "$ns_c" c0
  # kadp srv <-> bridge
  ip link add srv netns "$ns_lb" type veth peer name up0 netns "$ns_br" || return 1
  in_ns "$ns_br" ip link add br0 type bridge
  in_ns "$ns_br" ip link set up0 master br0
  in_ns "$ns_br" ip link set up0 up
  no_offload "$ns_br" up0
  for dev in lan srv; do in_ns "$ns_lb" ip link set "$dev" up; no_offload "$ns_lb" "$dev"; done
  local i
  for i in 1 2 3; do
    local ns=${ns_s[$((i - 1))]}
    ip link add eth0 netns "$ns" type veth peer name p$i netns "$ns_br" || return 1
    in_ns "$ns_br" ip link set p$i master br0
    in_ns "$ns_br" ip link set p$i up
    no_offload "$ns_br" p$i
    in_ns "$ns" ip addr add 198.19.0.$i/24 dev eth0
    in_ns "$ns" ip link set eth0 up
    in_ns "$ns" ip route add default via 198.19.0.254
    no_offload "$ns" eth0
    start_nginx "$i" "$ns" || return 1
  done
  in_ns "$ns_br" ip link set br0 up
  head -c 5000000 /dev/urandom >"$tmp/big.bin"
  for i in 1 2 3; do cp "$tmp/big.bin" "$tmp/www$i/big.bin"; done
  return 0
}

start_nginx() {
  local i=$1 ns=$2 d=$tmp/srv$1
  mkdir -p "$d" "$tmp/www$i"
  echo "server $i" >"$tmp/www$i/index.html"
  cat >"$d/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    server {
        listen 198.19.0.$i:80;
        root $tmp/www$i;
    }
}
EOF
  # Not through in_ns: a backgrounded function is a subshell, and its PID
  # would not be nginx's.
  ip netns exec "$ns" nginx -c "$d/nginx.conf" -e "$d/error.log" >"$d/stdout.log" 2>&1 &
  pids+=($!)
}

write_conf() {
  local file=$1 algo=$2 w1=$3 w2=$4 w3=$5
  cat >"$file" <<EOF
dataplane {
    interface lan {
        device "net_af_packet0,iface=lan"
        address 198.18.0.254/24
    }
    interface srv {
        device "net_af_packet1,iface=srv"
        address 198.19.0.254/24
    }
    conn_table_size 65536
}
virtual_server 198.18.0.100 80 {
    lb_algo $algo
    lb_kind NAT
    protocol TCP
    real_server 198.19.0.1 80 {
        weight $w1
    }
    real_server 198.19.0.2 80 {
        weight $w2
    }
    real_server 198.19.0.3 80 {
        weight $w3
    }
}
EOF
}

# Starts kadp on `conf`, logging to `log`; waits for "running with".
start_kadp() {
  local conf=$1 log=$2 run=$3
  ip netns exec "$ns_lb" "$KADP" -l 0,1 --no-huge -m 512 --no-pci --no-telemetry --file-prefix "$tag-$run" -- -f "$conf" \
    >"$log" 2>&1 &
  kadp_pid=$!
  for _ in $(seq 300); do
    grep -qs "kadp: running with" "$log" && return 0
    kill -0 "$kadp_pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

stop_kadp() {
  kill -TERM "$kadp_pid" 2>/dev/null
  for _ in $(seq 100); do
    if ! kill -0 "$kadp_pid" 2>/dev/null; then wait "$kadp_pid"; local rc=$?; kadp_pid=; return $rc; fi
    sleep 0.1
  done
  kill -KILL "$kadp_pid"; wait "$kadp_pid" 2>/dev/null; kadp_pid=
  return 1
}

get() { in_ns "$ns_c" curl -s --max-time 5 "$@"; }

# `n` sequential requests for the page; prints "count name" per server.
tally() {
  local n=$1 i
  for i in $(seq "$n"); do get http://198.18.0.100/ || echo "request $i failed"; done | sort | uniq -c | sed 's/^ *//'
}

# The first request may wait for ARP on both sides: retry it a few times.
warm_up() {
  for _ in $(seq 10); do get -o "$tmp/warm.out" http://198.18.0.100/ && return 0; sleep 0.3; done
  return 1
}

if ! setup; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
for i in 1 2 3; do
  for _ in $(seq 50); do in_ns "${ns_s[$((i - 1))]}" ss -ltn 2>/dev/null | grep -q "198.19.0.$i:80" && break; sleep 0.1; done
done

# --- run 1: rr -------------------------------------------------------------------
write_conf "$tmp/rr.conf" rr 1 1 1
log=$tmp/kadp-rr.log
if ! start_kadp "$tmp/rr.conf" "$log" rr; then
  fail kadp_start "kadp did not start" "$log"
else
  if ! warm_up; then
    fail warm_up "no answer through the VIP" "$log"
  else
    # (a) the warm-up took one rr pick; 12 more still give 4 each.
    t=$(tally 12)
    if [ "$(echo "$t" | grep -c '^4 server [123]$')" = 3 ]; then pass a_rr_4_each; else fail a_rr_4_each "got: $(echo $t)"; fi
    # (b)
    if get -o "$tmp/got.bin" http://198.18.0.100/big.bin &&
       [ "$(sha256sum <"$tmp/got.bin")" = "$(sha256sum <"$tmp/big.bin")" ]; then
      pass b_5mb_intact
    else
      fail b_5mb_intact "$(stat -c %s "$tmp/got.bin" 2>/dev/null || echo no) bytes received"
    fi
    # (c)
    par=()
    for i in $(seq 10); do get -o "$tmp/par$i.out" -w '%{http_code}\n' http://198.18.0.100/ >"$tmp/par$i.code" & par+=($!); done
    for p in "${par[@]}"; do wait "$p"; done
    ok=$(cat "$tmp"/par*.code 2>/dev/null | grep -c '^200$')
    if [ "$ok" = 10 ] && [ "$(cat "$tmp"/par*.out | grep -c '^server [123]$')" = 10 ]; then
      pass c_parallel_10
    else
      fail c_parallel_10 "$ok of 10 succeeded"
    fi
  fi
  if stop_kadp; then
    grep -q "^kadp: real server 198.19.0.1:80 of 198.18.0.100:80/tcp: conns [1-9]" "$log" ||
      fail rr_stop_report "no real-server line" "$log"
  else
    fail rr_stop "kadp did not stop cleanly" "$log"
  fi
  [ "$failed" = 0 ] || sed 's/^/    | /' "$log" | grep 'kadp:' | tail -12
fi

# --- run 2: wrr 1,2,3 -----------------------------------------------------------------
write_conf "$tmp/wrr.conf" wrr 1 2 3
log=$tmp/kadp-wrr.log
if ! start_kadp "$tmp/wrr.conf" "$log" wrr; then
  fail kadp_start_wrr "kadp did not start" "$log"
else
  # ARP answers were learned by the previous kadp; the first request may still wait.
  if ! warm_up; then
    fail d_wrr_1_2_3 "no answer through the VIP" "$log"
  else
    # The warm-up took the first pick; 11 more make 12 (two wrr periods of 6).
    counts=$( (cat "$tmp/warm.out"; for i in $(seq 11); do get http://198.18.0.100/ || echo "request $i failed"; done) |
      sort | uniq -c | awk '{print $3 "=" $1}' | tr '\n' ' ')
    if [ "$counts" = "1=2 2=4 3=6 " ]; then pass d_wrr_1_2_3; else fail d_wrr_1_2_3 "got: $counts" "$log"; fi
  fi
  stop_kadp || fail wrr_stop "kadp did not stop cleanly" "$log"
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

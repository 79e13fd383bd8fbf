# shellcheck shell=bash
# The NAT namespace topology, shared by tests/scripts/nat_netns*.sh and
# scripts/demo.sh. Source it; it defines functions and NT_* variables only.
#
#   client 198.18.0.1 --c0--- [LAN  kadp  SRV] ---up0-- bridge br0 --+-- 198.19.0.1 nginx "server 1"
#                                 (no kernel addresses)               +-- 198.19.0.2 nginx "server 2"
#                                                                     +-- 198.19.0.3 nginx "server 3"
#
# The client's default route is its own 198.18.0.0/24 (it ARPs for the VIP);
# the servers route back via 198.19.0.254, kadp's srv address. kadp's config
# gives its ports those addresses and a VIP in 198.18.0.0/24 (198.18.0.100 in
# every user). One topology per shell:
#
#   source tests/lib/nat_topology.sh
#   trap nat_topo_cleanup EXIT; trap 'exit 130' INT; trap 'exit 143' TERM
#   nat_topo_setup kadp-foo-$$ [LAN_DEV SRV_DEV]   # namespaces PREFIX-{c,lb,br,s1,s2,s3}
#   nat_topo_kadp_start CONF LOG RUN [EAL args...] # kadp in PREFIX-lb; NT_KADP_PID
#   nat_topo_client curl -s http://198.18.0.100/
#   nat_topo_kadp_stop                             # SIGTERM; kadp's exit status
#
# nat_topo_cleanup (safe to call twice, and after a setup that failed half
# way) kills kadp, nginx and anything else left in the namespaces, by PID,
# deletes the namespaces, DPDK's runtime files of PREFIX and NT_DIR.
# Needs root, ip, ethtool, nginx, ss.
#
# Which kadp: $KADP if set, else $KADP_BUILD/kadp (KADP_BUILD: a build
# directory, default build). scripts/test.sh sets KADP_BUILD=build-san, the
# ASan+UBSan build, for every script test (docs/testing.md): a new script
# that takes kadp from NT_KADP, and kadpctl or other built tools from
# ${KADP_BUILD:-build}/..., runs against the sanitized binaries unchanged.

NT_PREFIX=
NT_DIR=
NT_NS_C='' NT_NS_LB='' NT_NS_BR=''
NT_NS_S=()
NT_LAN=lan NT_SRV=srv
NT_PIDS=()
NT_KADP_PID=
NT_KADP_SOCK=
NT_KADP=${KADP:-${KADP_BUILD:-build}/kadp}

nat_topo_in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
nat_topo_client() { ip netns exec "$NT_NS_C" "$@"; }

_nt_quiet_ns() {
  nat_topo_in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  nat_topo_in_ns "$1" ip link set lo up
}
# Checksums and segmentation done in software, so af_packet/af_xdp hand DPDK
# whole, finished frames (see /work/shared/design/TESTING.md).
_nt_no_offload() { nat_topo_in_ns "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1; }

# nat_topo_setup PREFIX [LAN_DEV SRV_DEV]: builds the topology; the nginx
# servers listen when it returns 0. Writes what it made into NT_*; NT_DIR is
# a fresh directory the caller may use too (removed by cleanup).
nat_topo_setup() {
  NT_PREFIX=$1 NT_LAN=${2:-lan} NT_SRV=${3:-srv}
  NT_NS_C=$NT_PREFIX-c NT_NS_LB=$NT_PREFIX-lb NT_NS_BR=$NT_PREFIX-br
  NT_NS_S=("$NT_PREFIX-s1" "$NT_PREFIX-s2" "$NT_PREFIX-s3")
  NT_DIR=$(mktemp -d "/tmp/$NT_PREFIX.XXXXXX") || return 1
  chmod 755 "$NT_DIR"
  local ns i
  for ns in "$NT_NS_C" "$NT_NS_LB" "$NT_NS_BR" "${NT_NS_S[@]}"; do
    ip netns add "$ns" || return 1
    _nt_quiet_ns "$ns"
  done
  # client <-> kadp lan
  ip link add c0 netns "$NT_NS_C" type veth peer name "$NT_LAN" netns "$NT_NS_LB" || return 1
  nat_topo_in_ns "$NT_NS_C" ip addr add 198.18.0.1/24 dev c0
  nat_topo_in_ns "$NT_NS_C" ip link set c0 up
  _nt_no_offload "$NT_NS_C" c0
  # kadp srv <-> bridge
  ip link add "$NT_SRV" netns "$NT_NS_LB" type veth peer name up0 netns "$NT_NS_BR" || return 1
  nat_topo_in_ns "$NT_NS_BR" ip link add br0 type bridge || return 1
  nat_topo_in_ns "$NT_NS_BR" ip link set up0 master br0
  nat_topo_in_ns "$NT_NS_BR" ip link set up0 up
  _nt_no_offload "$NT_NS_BR" up0
  for ns in "$NT_LAN" "$NT_SRV"; do
    nat_topo_in_ns "$NT_NS_LB" ip link set "$ns" up
    _nt_no_offload "$NT_NS_LB" "$ns"
  done
  for i in 1 2 3; do
    ns=${NT_NS_S[$((i - 1))]}
    ip link add eth0 netns "$ns" type veth peer name p$i netns "$NT_NS_BR" || return 1
    nat_topo_in_ns "$NT_NS_BR" ip link set p$i master br0
    nat_topo_in_ns "$NT_NS_BR" ip link set p$i up
    _nt_no_offload "$NT_NS_BR" p$i
    nat_topo_in_ns "$ns" ip addr add 198.19.0.$i/24 dev eth0
    nat_topo_in_ns "$ns" ip link set eth0 up
    nat_topo_in_ns "$ns" ip route add default via 198.19.0.254
    _nt_no_offload "$ns" eth0
    _nt_start_nginx "$i" "$ns" || return 1
  done
  nat_topo_in_ns "$NT_NS_BR" ip link set br0 up
  for i in 1 2 3; do
    local up=
    for _ in $(seq 50); do
      if nat_topo_in_ns "${NT_NS_S[$((i - 1))]}" ss -ltn 2>/dev/null | grep -q "198.19.0.$i:80"; then up=1; break; fi
      sleep 0.1
    done
    [ -n "$up" ] || { echo "nat_topology: nginx $i does not listen:" >&2; cat "$NT_DIR/srv$i/error.log" >&2; return 1; }
  done
  # kadp's ports must see their carrier: the kernel sets it (operstate up,
  # IFF_RUNNING) up to a second after both ends are up, and a kadp started
  # before that reports the port down (VRRP instances start in FAULT).
  for ns in "$NT_LAN" "$NT_SRV"; do
    for _ in $(seq 50); do
      [ "$(nat_topo_in_ns "$NT_NS_LB" cat "/sys/class/net/$ns/operstate")" = up ] && break
      sleep 0.1
    done
  done
  return 0
}

# nat_topo_dataplane [PMD [CONN_TABLE [SRV_LINES [MORE_LINES]]]]: prints the
# dataplane block for kadp on the topology's two veths (PMD af_packet or
# af_xdp, default af_packet); SRV_LINES go inside the srv interface,
# MORE_LINES at the end of the block.
nat_topo_dataplane() {
  local pmd=${1:-af_packet} table=${2:-65536}
  printf 'dataplane {\n    interface lan {\n        device "net_%s0,iface=lan"\n        address 198.18.0.254/24\n    }\n' "$pmd"
  printf '    interface srv {\n        device "net_%s1,iface=srv"\n        address 198.19.0.254/24\n' "$pmd"
  [ -n "${3:-}" ] && printf '%s\n' "$3"
  printf '    }\n'
  [ -n "${4:-}" ] && printf '%s\n' "$4"
  printf '    conn_table_size %s\n}\n' "$table"
}

# nat_topo_service ALGO W1 W2 W3: prints the virtual server 198.18.0.100:80
# (TCP, NAT) over the three nginx with those weights; "-" leaves one out.
nat_topo_service() {
  local algo=$1 i w
  shift
  printf 'virtual_server 198.18.0.100 80 {\n    lb_algo %s\n    lb_kind NAT\n    protocol TCP\n' "$algo"
  for i in 1 2 3; do
    w=${!i}
    [ "$w" = - ] && continue
    printf '    real_server 198.19.0.%s 80 {\n        weight %s\n    }\n' "$i" "$w"
  done
  printf '}\n'
}

# nat_topo_publish FILE: copies FILE into every server's document root.
nat_topo_publish() {
  local i
  for i in 1 2 3; do cp "$1" "$NT_DIR/www$i/" || return 1; done
}

# nat_topo_nginx_conf DIR SERVER_LINES: writes DIR/nginx.conf, an nginx
# running in the foreground as root with every path under DIR and one
# server { SERVER_LINES }.
nat_topo_nginx_conf() {
  local d=$1
  mkdir -p "$d"
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
$2
    }
}
EOF
}

_nt_start_nginx() {
  local i=$1 ns=$2 d=$NT_DIR/srv$1
  mkdir -p "$d" "$NT_DIR/www$i"
  echo "server $i" >"$NT_DIR/www$i/index.html"
  nat_topo_nginx_conf "$d" "        listen 198.19.0.$i:80;
        root $NT_DIR/www$i;"
  # Not through a function: a backgrounded function is a subshell, and its
  # PID would not be nginx's.
  ip netns exec "$ns" nginx -c "$d/nginx.conf" -e "$d/error.log" >"$d/stdout.log" 2>&1 &
  NT_PIDS+=($!)
}

# nat_topo_kadp_start CONF LOG RUN [EAL args...]: starts kadp (NT_KADP,
# default $KADP or build/kadp) in the kadp namespace on lcores 0,1 without
# hugepages, logging to LOG; RUN makes its DPDK file prefix and its control
# socket (NT_KADP_SOCK, in NT_DIR: the default /run/kadp/kadp.sock is one per
# host) unique. Returns 0 once kadp logs "running with", 1 if it exits first
# or takes over 30 s. NT_KADP_OPTS: more kadp options (after EAL's "--").
nat_topo_kadp_start() {
  local conf=$1 log=$2 run=$3
  shift 3
  NT_KADP_SOCK=$NT_DIR/kadp-$run.sock
  ip netns exec "$NT_NS_LB" "$NT_KADP" -l 0,1 --no-huge -m 512 --no-pci --no-telemetry \
    --file-prefix "$NT_PREFIX-$run" "$@" -- -f "$conf" --control-socket "$NT_KADP_SOCK" ${NT_KADP_OPTS:-} >"$log" 2>&1 &
  NT_KADP_PID=$!
  for _ in $(seq 300); do
    grep -qs "kadp: running with" "$log" && return 0
    kill -0 "$NT_KADP_PID" 2>/dev/null || { wait "$NT_KADP_PID" 2>/dev/null; NT_KADP_PID=; return 1; }
    sleep 0.1
  done
  return 1
}

# nat_topo_kadp_stop: SIGTERM, then up to 10 s for kadp to print its figures
# and exit; returns its exit status (1 if it had to be killed).
nat_topo_kadp_stop() {
  [ -n "$NT_KADP_PID" ] || return 1
  kill -TERM "$NT_KADP_PID" 2>/dev/null
  for _ in $(seq 100); do
    if ! kill -0 "$NT_KADP_PID" 2>/dev/null; then
      wait "$NT_KADP_PID"
      local rc=$?
      NT_KADP_PID=
      return $rc
    fi
    sleep 0.1
  done
  kill -KILL "$NT_KADP_PID" 2>/dev/null
  wait "$NT_KADP_PID" 2>/dev/null
  NT_KADP_PID=
  return 1
}

nat_topo_cleanup() {
  [ -n "$NT_PREFIX" ] || return 0
  local p ns
  if [ -n "$NT_KADP_PID" ]; then
    kill -KILL "$NT_KADP_PID" 2>/dev/null
    wait "$NT_KADP_PID" 2>/dev/null
    NT_KADP_PID=
  fi
  for p in "${NT_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${NT_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  NT_PIDS=()
  for ns in "$NT_NS_C" "$NT_NS_LB" "$NT_NS_BR" "${NT_NS_S[@]}"; do
    [ -n "$ns" ] || continue
    # Whatever else still runs in our namespaces (a curl cut short by Ctrl-C,
    # an nginx worker), by PID.
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  [ -n "$NT_DIR" ] && rm -rf "$NT_DIR"
  rm -rf /var/run/dpdk/"$NT_PREFIX"-*
  NT_PREFIX='' NT_DIR=''
}

# --- for test scripts ---------------------------------------------------------------
# The common start of a netns test: skip (exit 77) without root or a tool,
# fail without the kadp binary, trap cleanup, and define pass/fail counters
# (the caller prints "COUNT $passed $failed $skipped" at the end).
nat_topo_test_start() {
  local kadp=$1 skip_prefix=${2:-}
  _nt_skip_all() { echo "SKIP: $skip_prefix$1"; echo "COUNT 0 0 1"; exit 77; }
  [ "$(id -u)" = 0 ] || _nt_skip_all "needs root"
  local tool
  for tool in nginx curl ethtool ip sha256sum; do command -v $tool >/dev/null || _nt_skip_all "no $tool"; done
  [ -x "$kadp" ] || { echo "FAIL: no kadp binary at $kadp"; echo "COUNT 0 1 0"; exit 1; }
  NT_KADP=$kadp
  trap nat_topo_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  passed=0 failed=0 skipped=0
}
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1: $2"; [ -n "${3:-}" ] && sed 's/^/    | /' "$3" | tail -40; failed=$((failed + 1)); }

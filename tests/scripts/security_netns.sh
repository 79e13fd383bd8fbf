#!/usr/bin/env bash
# The appliance's security claims of docs/security.md, checked on the real
# binaries:
#
#   a. secrets: a configuration with auth_pass wherever one can be written
#      (valid, too long, with extra words, in the wrong section): no
#      password appears in `kadp -t` or `kadp --dump-config` output; the
#      dump shows "<hidden>" for each instance's password.
#   b. `kadp -t` needs no capability: it passes with an empty bounding set.
#   c. least privileges, DPDK backend (af_packet, exception TAP, no
#      hugepages; tests/lib/vrrp_topology.sh): kadp started under umask 000
#      with only CAP_NET_RAW, CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID and
#      CAP_KILL in its bounding set has exactly those effective, becomes
#      VRRP MASTER (the client's ARP for the VIP is answered by its port),
#      runs a MISC_CHECK as script_user nobody, passes the shell syntax
#      (";", "&&", "$(...)", backquotes) written in a MISC_CHECK, a
#      vrrp_script and a notify_master to them as plain arguments (no file
#      the injections would touch appears), kills a hung MISC_CHECK of
#      nobody's at misc_timeout (the script's process is gone), answers
#      `kadpctl status`, and exits 0 on SIGTERM;
#   d. its control socket (in a directory kadp created, under umask 000) is
#      a socket, 0600, root's, in a 0755 root directory;
#   e. each of those capabilities is needed: without CAP_NET_RAW the
#      af_packet port cannot open, without CAP_NET_ADMIN the port's MTU
#      (and the TAP) cannot be set: kadp refuses to start; without
#      CAP_SETUID/CAP_SETGID the MISC_CHECK cannot become nobody and fails;
#      without CAP_KILL a hung MISC_CHECK of nobody's outlives misc_timeout
#      and the SIGKILL after it (the check then never ends: docs/security.md);
#   f. least privileges, kernel backend (VRRP only: this host has no IPVS):
#      CAP_NET_RAW + CAP_NET_ADMIN: MASTER, the VIP on its interface; without
#      CAP_NET_RAW it cannot open its VRRP socket and refuses to start;
#   h. af_xdp ports: CAP_NET_RAW CAP_NET_ADMIN CAP_SYS_ADMIN CAP_IPC_LOCK
#      (+ the script ones) run (MASTER, ARP answered); without CAP_IPC_LOCK
#      (memlock limit 8 MiB) the UMEM cannot be made; with CAP_BPF instead
#      of CAP_SYS_ADMIN libxdp cannot read its program back: no start.
#      (A larger memlock limit instead of CAP_IPC_LOCK is not tried: raising
#      it needs CAP_SYS_RESOURCE, which test sandboxes may lack.)
#   g. no password in kadp's logs or kadpctl's outputs (text and --json) of
#      the runs above, also around a reload that changes the password.
#
# Needs root, setpriv, ip, ethtool, /usr/bin/python3, /dev/net/tun. Exit 0
# pass, 77 skip, else fail; the last line is "COUNT passed failed
# skipped". Environment: KADP, KADPCTL.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
KADPCTL=${KADPCTL:-${KADP_BUILD:-build}/kadpctl}

skip_all() { echo "SKIP: $1"; echo "COUNT 0 0 1"; exit 77; }
[ "$(id -u)" = 0 ] || skip_all "needs root"
for tool in setpriv ethtool ip; do command -v $tool >/dev/null || skip_all "no $tool"; done
[ -x /usr/bin/python3 ] || skip_all "no /usr/bin/python3"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
[ -x "$KADP" ] || { echo "FAIL: no kadp binary at $KADP"; echo "COUNT 0 1 0"; exit 1; }
[ -x "$KADPCTL" ] || { echo "FAIL: no kadpctl binary at $KADPCTL"; echo "COUNT 0 1 0"; exit 1; }
KADP=$(realpath "$KADP")
export KADPCTL

. tests/lib/vrrp_topology.sh
trap vrrp_topo_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

CHECK_LOG_LINES=20
. tests/lib/check_report.sh

vrrp_topo_setup "kadp-sec-$$" || { echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; }
d=$VT_DIR
KADP_MAC=$(vrrp_topo_mac "$VT_NS_LB" lan)
# Every password of this file; case g greps every output for each.
PASSWORDS=(Gl0bSecr TopLvlPw VeryL0ng Ah5ecret Only5ecr Ka1Secrt)
LEAST=+net_raw,+net_admin,+setuid,+setgid,+kill

# --- a, b: secrets in kadp -t / --dump-config; -t without capabilities ----------------
cat >"$d/secrets.conf" <<'EOF'
global_defs {
    auth_pass Gl0bSecr
}
vrrp_instance VI_1 {
    state BACKUP
    interface lo
    virtual_router_id 51
    priority 100
    auth_pass TopLvlPw
    authentication {
        auth_type PASS
        auth_pass VeryL0ngSecretPassw0rd extra words
    }
    virtual_ipaddress {
        198.18.0.100
    }
}
vrrp_instance VI_2 {
    interface lo
    virtual_router_id 52
    priority 100
    authentication {
        auth_type AH
        auth_pass Ah5ecret
    }
    authentication {
        auth_pass Only5ecr
    }
    virtual_ipaddress {
        198.18.0.101
    }
}
EOF
"$KADP" -t -f "$d/secrets.conf" >"$d/t.out" 2>&1
t_rc=$?
"$KADP" --dump-config -f "$d/secrets.conf" >"$d/dump.out" 2>&1
dump_rc=$?
# "extra words after 1 value(s) ignored" is the diagnostic, not the words.
leaks=$(grep -F -e "${PASSWORDS[0]}" -e "${PASSWORDS[1]}" -e VeryL0ng -e "${PASSWORDS[3]}" -e "${PASSWORDS[4]}" -e "extra words" \
  "$d/t.out" "$d/dump.out" | grep -v "extra words after" )
hidden=$(grep -c '"auth_pass": "<hidden>"' "$d/dump.out")
if [ "$t_rc" = 0 ] && [ "$dump_rc" = 0 ] && [ -z "$leaks" ] && [ "$hidden" = 2 ]; then
  pass "a_secrets_in_config_outputs: kadp -t ($(grep -c . "$d/t.out") lines) and --dump-config show no password; the dump has <hidden> for both instances"
else
  fail a_secrets_in_config_outputs "rc $t_rc/$dump_rc, <hidden> x$hidden, leaked: $leaks" "$d/t.out"
fi

if setpriv --bounding-set=-all --inh-caps=-all "$KADP" -t -f "$d/secrets.conf" >"$d/t_nocaps.out" 2>&1; then
  pass "b_config_test_needs_no_capability: kadp -t passes with an empty bounding set"
else
  fail b_config_test_needs_no_capability "exit status $?" "$d/t_nocaps.out"
fi

# --- c, d: the DPDK backend with its least capabilities -------------------------------
# The wrapper: umask 000 (the socket must not depend on it), the bounding
# set KADP_CAPS (+cap,... on top of none), no inheritable capabilities.
cat >"$d/capwrap.sh" <<EOF
#!/bin/sh
umask 000
[ -n "\${KADP_MEMLOCK:-}" ] && ulimit -l "\$KADP_MEMLOCK"  # may only lower it
exec setpriv --bounding-set=-all\${KADP_CAPS:+,\$KADP_CAPS} --inh-caps=-all "$KADP" "\$@"
EOF
chmod 0755 "$d/capwrap.sh"
VT_KADP=$d/capwrap.sh
mkdir -m 1777 "$d/out"
printf '#!/bin/sh\nid -un >%s/misc_user\nexit 0\n' "$d/out" >"$d/misc.sh"
printf '#!/bin/sh\necho $$ >%s/hang_pid\nexec sleep 647\n' "$d/out" >"$d/hang.sh"
# rec.sh WHAT ARGS...: records its arguments; the configured commands below
# give it shell syntax that must arrive as plain arguments.
# shellcheck disable=SC2016
printf '#!/bin/sh\nw=$1\nshift\necho "$*" >%s/rec.$w\n' "$d/out" >"$d/rec.sh"
chmod 0755 "$d/misc.sh" "$d/hang.sh" "$d/rec.sh"
VIP=198.18.0.101
dpdk_conf() {
  vrrp_topo_dataplane
  cat <<EOF
global_defs {
    script_user nobody
}
vrrp_script chk_inj {
    script "$d/rec.sh vscript \`touch $d/out/injected_vscript\`"
    interval 1
}
vrrp_instance VI_1 {
    state MASTER
    interface lan
    virtual_router_id 51
    priority 255
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass Ka1Secrt
    }
    virtual_ipaddress {
        $VIP/24
    }
    track_script {
        chk_inj
    }
    notify_master "$d/rec.sh notify \$(touch $d/out/injected_notify)"
}
virtual_server 198.18.0.100 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.18.0.3 80 {
        MISC_CHECK {
            misc_path "$d/misc.sh"
            warmup 0
        }
    }
    real_server 198.18.0.3 82 {
        MISC_CHECK {
            misc_path "$d/rec.sh misc ; touch $d/out/injected_misc && touch $d/out/injected_misc2"
            warmup 0
        }
    }
    real_server 198.18.0.3 81 {
        MISC_CHECK {
            misc_path "$d/hang.sh"
            misc_timeout 2
            warmup 0
            retry 0
        }
    }
}
EOF
}
dpdk_conf >"$d/dpdk.conf"
# start_dpdk CAPS LOG [CONF]: kadp with the control socket in a directory it makes.
start_dpdk() {
  VT_KADP_RUNS=$((VT_KADP_RUNS + 1))
  SOCK=$d/run$VT_KADP_RUNS/kadp/kadp.sock
  KADP_CAPS=$1 ip netns exec "$VT_NS_LB" "$VT_KADP" -l 0,1 --no-huge -m 512 --no-pci --no-telemetry \
    --file-prefix "$VT_PREFIX-$VT_KADP_RUNS" -- -f "${3:-$d/dpdk.conf}" --control-socket "$SOCK" >"$2" 2>&1 &
  VT_KADP_PID=$!
  for _ in $(seq 300); do
    grep -qs "^kadp: running with" "$2" && return 0
    kill -0 "$VT_KADP_PID" 2>/dev/null || { wait "$VT_KADP_PID" 2>/dev/null; VT_KADP_PID=; return 1; }
    sleep 0.1
  done
  return 1
}
ctl() { timeout 3 "$KADPCTL" -s "$SOCK" "$@"; }
state() { grep -oE "\($2\) Entering [A-Z]+ STATE" "$1" 2>/dev/null | tail -1 | cut -d' ' -f3; }
# cap_mask NAME...: the CapEff bits of those capabilities, as /proc prints them.
cap_mask() {
  local m=0 c
  for c in "$@"; do
    case $c in kill) m=$((m | 1 << 5)) ;; setgid) m=$((m | 1 << 6)) ;; setuid) m=$((m | 1 << 7)) ;;
      net_admin) m=$((m | 1 << 12)) ;; net_raw) m=$((m | 1 << 13)) ;; esac
  done
  printf '%016x' "$m"
}
: >"$d/ctl_outputs.log"

L=$d/dpdk_least.log
if ! start_dpdk "$LEAST" "$L"; then
  fail c_dpdk_least_caps "kadp did not start with $LEAST" "$L"
else
  for _ in $(seq 50); do [ "$(state "$L" VI_1)" = MASTER ] && break; sleep 0.1; done
  eff=$(awk '/^CapEff/ { print $2 }' "/proc/$VT_KADP_PID/status")
  # The hung script: started, then killed at misc_timeout.
  for _ in $(seq 100); do grep -qs "Misc check for \[$d/hang.sh\].* timed out" "$L" && break; sleep 0.1; done
  sleep 0.3
  hang_pid=$(cat "$d/out/hang_pid" 2>/dev/null)
  hang_alive=no
  [ -n "$hang_pid" ] && [ -e "/proc/$hang_pid" ] && [ "$(cut -d' ' -f3 "/proc/$hang_pid/stat")" != Z ] && hang_alive=yes
  arp=$(vrrp_topo_arp "$VIP")
  st=$(ctl status 2>&1); st_rc=$?
  { echo "$st"; ctl --json status; ctl list; ctl --json list; } >>"$d/ctl_outputs.log" 2>&1
  sock_stat=$(stat -c '%F %a %U:%G' "$SOCK" 2>&1)
  dir_stat=$(stat -c '%a %U:%G' "$(dirname "$SOCK")" 2>&1)
  why=
  [ "$eff" = "$(cap_mask net_raw net_admin setuid setgid kill)" ] || why+=" CapEff $eff;"
  [ "$(state "$L" VI_1)" = MASTER ] || why+=" not MASTER;"
  [ "$arp" = "$KADP_MAC" ] || why+=" ARP for $VIP answered by '$arp';"
  [ "$(cat "$d/out/misc_user" 2>/dev/null)" = nobody ] || why+=" MISC_CHECK ran as '$(cat "$d/out/misc_user" 2>/dev/null)';"
  [ -n "$hang_pid" ] && [ "$hang_alive" = no ] || why+=" hung script pid '$hang_pid' alive: $hang_alive;"
  [ "$st_rc" = 0 ] || why+=" kadpctl status: $st_rc;"
  # No shell: the injections are arguments, nothing was touched.
  for _ in $(seq 30); do [ -s "$d/out/rec.vscript" ] && [ -s "$d/out/rec.misc" ] && break; sleep 0.1; done
  [ "$(cat "$d/out/rec.misc" 2>/dev/null)" = "; touch $d/out/injected_misc && touch $d/out/injected_misc2" ] ||
    why+=" MISC_CHECK got '$(cat "$d/out/rec.misc" 2>/dev/null)';"
  [ "$(cat "$d/out/rec.vscript" 2>/dev/null)" = "\`touch $d/out/injected_vscript\`" ] ||
    why+=" vrrp_script got '$(cat "$d/out/rec.vscript" 2>/dev/null)';"
  [ "$(cat "$d/out/rec.notify" 2>/dev/null)" = "\$(touch $d/out/injected_notify)" ] ||
    why+=" notify_master got '$(cat "$d/out/rec.notify" 2>/dev/null)';"
  injected=$(find "$d/out" -name 'injected*' -printf '%f ')
  [ -z "$injected" ] || why+=" injected: $injected;"
  if [ -z "$why" ]; then
    pass "c_dpdk_least_caps: with only $LEAST (CapEff $eff): VRRP MASTER, ARP answered, MISC_CHECK as nobody, shell syntax in MISC_CHECK/vrrp_script/notify_master passed as arguments (nothing injected), hung script killed at misc_timeout, kadpctl answers"
  else
    fail c_dpdk_least_caps "$why" "$L"
  fi
  if [ "$sock_stat" = "socket 600 root:root" ] && [ "$dir_stat" = "755 root:root" ]; then
    pass "d_control_socket_private: under umask 000 the socket is '$sock_stat', its new directory '$dir_stat'"
  else
    fail d_control_socket_private "socket '$sock_stat', directory '$dir_stat'"
  fi
  # A reload that changes the password: its reply and log lines carry neither.
  sed -i 's/auth_pass Ka1Secrt/auth_pass Rel0adPw/' "$d/dpdk.conf"
  { ctl reload; ctl --json reload; } >>"$d/ctl_outputs.log" 2>&1
  sed -i 's/auth_pass Rel0adPw/auth_pass Ka1Secrt/' "$d/dpdk.conf"
  vrrp_topo_kadp_stop || fail c_dpdk_least_caps_stop "exit status with $LEAST" "$L"
fi

# e. each capability is needed
L=$d/dpdk_no_raw.log
if start_dpdk "+net_admin,+setuid,+setgid,+kill" "$L"; then
  fail e_needs_net_raw "kadp started without CAP_NET_RAW" "$L"
  vrrp_topo_kadp_kill
elif grep -q "Could not open AF_PACKET socket" "$L"; then
  pass "e_needs_net_raw: without CAP_NET_RAW the af_packet port cannot open; kadp refuses to start"
else
  fail e_needs_net_raw "not the af_packet error" "$L"
fi
L=$d/dpdk_no_admin.log
if start_dpdk "+net_raw,+setuid,+setgid,+kill" "$L"; then
  fail e_needs_net_admin "kadp started without CAP_NET_ADMIN" "$L"
  vrrp_topo_kadp_kill
elif grep -q "cannot set mtu" "$L"; then
  pass "e_needs_net_admin: without CAP_NET_ADMIN: '$(grep -m1 "cannot set mtu" "$L")'; kadp refuses to start"
else
  fail e_needs_net_admin "not the MTU error" "$L"
fi
L=$d/dpdk_no_setuid.log
rm -f "$d/out/misc_user"
if start_dpdk "+net_raw,+net_admin,+kill" "$L"; then
  for _ in $(seq 50); do grep -qs "MISC_CHECK on service \[198.18.0.3\]:tcp:80 failed" "$L" && break; sleep 0.1; done
  if grep -qs "MISC_CHECK on service \[198.18.0.3\]:tcp:80 failed" "$L" && [ ! -e "$d/out/misc_user" ]; then
    pass "e_needs_setuid: without CAP_SETUID/CAP_SETGID the MISC_CHECK cannot become nobody: '$(grep -m1 -E "set(gid|uid|groups)" "$L")', the check fails"
  else
    fail e_needs_setuid "the MISC_CHECK did not fail (ran as '$(cat "$d/out/misc_user" 2>/dev/null)')" "$L"
  fi
  grep -qF "Ka1Secrt" "$L" && fail g_no_secret "auth_pass in $L"
  vrrp_topo_kadp_stop >/dev/null
else
  fail e_needs_setuid "kadp did not start" "$L"
fi

L=$d/dpdk_no_kill.log
rm -f "$d/out/hang_pid"
if start_dpdk "+net_raw,+net_admin,+setuid,+setgid" "$L"; then
  # misc_timeout 2 s, then SIGTERM, 2 s later SIGKILL: both refused.
  sleep 6
  hang_pid=$(cat "$d/out/hang_pid" 2>/dev/null)
  if [ -n "$hang_pid" ] && [ -e "/proc/$hang_pid" ] && [ "$(cut -d' ' -f3 "/proc/$hang_pid/stat")" != Z ] &&
     grep -q "cannot signal the script (pid [0-9]*): Operation not permitted; kadp needs CAP_KILL" "$L" &&
     grep -q "MISC_CHECK on service .* failed" "$L"; then
    pass "e_needs_kill: without CAP_KILL the hung MISC_CHECK of nobody's outlives misc_timeout and the SIGKILL after it (kadp may not signal another user's process); kadp says so and the check fails instead of waiting on it"
  else
    fail e_needs_kill "the hung script (pid '$hang_pid') is gone without CAP_KILL" "$L"
  fi
  [ -n "$hang_pid" ] && kill -KILL "$hang_pid" 2>/dev/null
  vrrp_topo_kadp_stop >/dev/null
else
  fail e_needs_kill "kadp did not start" "$L"
fi

# --- h: af_xdp ports -------------------------------------------------------------------------
# The same configuration on an af_xdp port: libxdp loads the XDP program
# and reads its fd back by id (CAP_SYS_ADMIN: CAP_BPF is not enough), the
# UMEM is locked memory (CAP_IPC_LOCK, or a memlock limit large enough).
sed 's/net_af_packet0/net_af_xdp0/' "$d/dpdk.conf" >"$d/xdp.conf"
XDP=+net_raw,+net_admin,+sys_admin,+setuid,+setgid,+kill
# xdp_run NAME CAPS MEMLOCK WANT(start|fail) WHAT
xdp_run() {
  local L=$d/xdp_$1.log ok=no
  if KADP_MEMLOCK=$3 start_dpdk "$2" "$L" "$d/xdp.conf"; then
    for _ in $(seq 50); do [ "$(state "$L" VI_1)" = MASTER ] && break; sleep 0.1; done
    [ "$(state "$L" VI_1)" = MASTER ] && [ "$(vrrp_topo_arp "$VIP")" = "$KADP_MAC" ] && ok=yes
    ctl status >>"$d/ctl_outputs.log" 2>&1
    vrrp_topo_kadp_stop >/dev/null
  fi
  if [ "$4" = start ] && [ "$ok" = yes ]; then
    pass "h_xdp_$1: $5: VRRP MASTER, ARP for the VIP answered"
  elif [ "$4" = fail ] && [ "$ok" = no ] && grep -q "cannot set up rx queue 0" "$L"; then
    pass "h_xdp_$1: $5: '$(grep -m1 -oE "Failed to create umem|couldn't get program fd: Operation not permitted" "$L")', kadp refuses to start"
  else
    fail "h_xdp_$1" "$5: expected $4, MASTER: $ok" "$L"
  fi
}
xdp_run least "$XDP,+ipc_lock" 8192 start "af_xdp with CAP_NET_RAW CAP_NET_ADMIN CAP_SYS_ADMIN CAP_IPC_LOCK (memlock 8 MiB)"
xdp_run no_ipc_lock "$XDP" 8192 fail "af_xdp without CAP_IPC_LOCK, memlock 8 MiB"
xdp_run no_sys_admin "+net_raw,+net_admin,+bpf,+ipc_lock,+setuid,+setgid,+kill" 8192 fail "af_xdp with CAP_BPF instead of CAP_SYS_ADMIN"

# --- f: the kernel backend (VRRP only) -------------------------------------------------
# In keepalived's namespace (no keepalived there): eth0 198.18.0.3.
cat >"$d/kernel.conf" <<EOF
vrrp_instance VI_K {
    state MASTER
    interface eth0
    virtual_router_id 61
    priority 255
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass Ka1Secrt
    }
    virtual_ipaddress {
        198.18.0.111/24
    }
}
EOF
# run_kernel CAPS LOG: 0 once MASTER with the VIP on eth0; the process is stopped after.
run_kernel() {
  local caps=$1 log=$2 pid ok=1
  KADP_CAPS=$caps ip netns exec "$VT_NS_KA" "$d/capwrap.sh" --backend kernel -f "$d/kernel.conf" \
    --control-socket "$d/kernel.sock" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 60); do
    if [ "$(state "$log" VI_K)" = MASTER ] && vrrp_topo_ka_has 198.18.0.111; then ok=0; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [ "$ok" = 0 ] && { timeout 3 "$KADPCTL" -s "$d/kernel.sock" status; timeout 3 "$KADPCTL" -s "$d/kernel.sock" --json status; } >>"$d/ctl_outputs.log" 2>&1
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return $ok
}
if run_kernel +net_raw,+net_admin "$d/kernel_least.log"; then
  pass "f_kernel_least_caps: kernel backend with only CAP_NET_RAW + CAP_NET_ADMIN: MASTER, 198.18.0.111 on eth0"
else
  fail f_kernel_least_caps "not MASTER with the VIP" "$d/kernel_least.log"
fi
if run_kernel +net_admin "$d/kernel_no_raw.log"; then
  fail f_kernel_needs_net_raw "MASTER without CAP_NET_RAW" "$d/kernel_no_raw.log"
elif grep -qiE "operation not permitted" "$d/kernel_no_raw.log"; then
  pass "f_kernel_needs_net_raw: without CAP_NET_RAW: '$(grep -m1 -i "operation not permitted" "$d/kernel_no_raw.log")'"
else
  fail f_kernel_needs_net_raw "no 'Operation not permitted' in the log" "$d/kernel_no_raw.log"
fi

# --- g: no password in any output -------------------------------------------------------
found=$(grep -lF -e Ka1Secrt -e Rel0adPw "$d"/*.log 2>/dev/null)
grep -q "^reload accepted" "$d/ctl_outputs.log" || found+=" (no accepted reload in the kadpctl outputs)"
if [ -z "$found" ] && [ -s "$d/ctl_outputs.log" ]; then
  pass "g_no_secret: auth_pass in none of $(find "$d" -maxdepth 1 -name '*.log' | wc -l) logs (kadp's and $(grep -c . "$d/ctl_outputs.log") lines of kadpctl output)"
else
  fail g_no_secret "found in: $found"
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]

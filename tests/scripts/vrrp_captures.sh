#!/usr/bin/env bash
# The VRRP codec (vrrp/codec.h) against the real keepalived 2.2.7:
#
#   PREFIX-ka: keepalived, ka0 198.18.0.1/24 ---veth--- kb0 198.18.0.2/24 :PREFIX-peer, tcpdump
#
# keepalived runs (VRRP only, MASTER) five instances on ka0:
#   V2_PASS   v2, vrid 51, priority 200, advert_int 1, auth PASS "kadp12" (under 8 chars)
#   V2_NONE   v2, vrid 52, priority 150, advert_int 1, no auth, 2 VIPs
#   V3_MULTI  v3, vrid 53, priority 100, advert_int 0.1, 4 VIPs
#   V3_UCAST  v3, vrid 54, priority 120, advert_int 0.5, unicast_src_ip / unicast_peer
#   V3_V6     v3, vrid 55, priority 110, advert_int 0.2, 2 IPv6 VIPs (link-local source)
# and the peer captures its adverts (tcpdump -w) until each instance sent two
# at its priority; then keepalived stops gracefully (priority-0 adverts).
# Checks:
#   1. `keepalived -t` accepts the config;
#   2. unit_vrrp --gtest_filter='Captured*': every captured packet decodes to
#      what keepalived.conf says (loaded with kadp's own parser), and kadp's
#      encoding of that advert is byte-identical to keepalived's (IPv4: the
#      whole packet given keepalived's IP ID, and all but ID/checksum with ID
#      0; IPv6: all but the kernel's flow label); it also writes kadp's
#      encodings for 3.;
#   3. scapy (Debian's /usr/bin/python3) parses kadp's packets: every field
#      as intended, IP and VRRP checksums valid by scapy's own computation,
#      and every field equal to scapy's parse of keepalived's packet of the
#      same instance and priority;
#   4. keepalived, restarted, takes kadp's adverts for its five instances as
#      sent by the peer at priority 250 (scapy plays them): it stays BACKUP
#      while they come and becomes MASTER once they stop.
# Needs root, keepalived, tcpdump, ip, python3-scapy.
# Exit 0 pass, 77 skip, else fail; the last line is "COUNT passed failed
# skipped". Environment: UNIT_VRRP (default build/tests/unit/unit_vrrp);
# VRRP_CAPTURES_KEEP=DIR copies the captures and the config there (the
# golden packets in tests/unit/vrrp/codec_test.cpp came from such a run).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
UNIT=${UNIT_VRRP:-${KADP_BUILD:-build}/tests/unit/unit_vrrp}
PY=/usr/bin/python3

skip_all() { echo "SKIP: $1"; echo "COUNT 0 0 1"; exit 77; }
[ "$(id -u)" = 0 ] || skip_all "needs root"
for tool in keepalived tcpdump ip; do command -v $tool >/dev/null || skip_all "no $tool"; done
[ -x "$PY" ] && "$PY" -c 'import scapy.layers.vrrp' 2>/dev/null || skip_all "no scapy for $PY"
[ -x "$UNIT" ] || { echo "FAIL: no unit binary at $UNIT"; echo "COUNT 0 1 0"; exit 1; }

PREFIX=kadp-vrrpcap-$$
NS_KA=$PREFIX-ka NS_PEER=$PREFIX-peer
DIR=
PIDS=()
cleanup() {
  local p ns
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  for ns in "$NS_KA" "$NS_PEER"; do
    # keepalived's VRRP child and anything else left in our namespaces, by PID.
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  if [ -n "$DIR" ]; then
    [ -n "${VRRP_CAPTURES_KEEP:-}" ] && mkdir -p "$VRRP_CAPTURES_KEEP" && cp -a "$DIR"/. "$VRRP_CAPTURES_KEEP"/
    rm -rf "$DIR"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0 failed=0 skipped=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }
setup_fail() {
  echo "FAIL: setup: $1"
  [ -n "${2:-}" ] && [ -f "$2" ] && sed 's/^/    | /' "$2" | tail -20
  echo "COUNT $passed $((failed + 1)) $skipped"
  exit 1
}

DIR=$(mktemp -d "/tmp/$PREFIX.XXXXXX") || setup_fail mktemp
for ns in "$NS_KA" "$NS_PEER"; do
  ip netns add "$ns" || setup_fail "ip netns add $ns"
  # No duplicate address detection: the link-local address (keepalived's
  # IPv6 source) is usable at once.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip -n "$ns" link set lo up
done
ip link add ka0 netns "$NS_KA" type veth peer name kb0 netns "$NS_PEER" || setup_fail "veth"
ip -n "$NS_KA" addr add 198.18.0.1/24 dev ka0
ip -n "$NS_PEER" addr add 198.18.0.2/24 dev kb0
ip -n "$NS_KA" link set ka0 up
ip -n "$NS_PEER" link set kb0 up
src6=
for _ in $(seq 50); do
  src6=$(ip -n "$NS_KA" -6 -o addr show dev ka0 scope link | awk '{print $4}' | cut -d/ -f1)
  [ -n "$src6" ] && break
  sleep 0.1
done
peer6=$(ip -n "$NS_PEER" -6 -o addr show dev kb0 scope link | awk '{print $4}' | cut -d/ -f1)
[ -n "$src6" ] && [ -n "$peer6" ] || setup_fail "no link-local address on ka0 or kb0"
ka_mac=$(ip -n "$NS_KA" -o link show ka0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

conf=$DIR/keepalived.conf
cat >"$conf" <<'CONF'
global_defs {
    router_id kadp_vrrp_captures
}
vrrp_instance V2_PASS {
    state MASTER
    interface ka0
    virtual_router_id 51
    priority 200
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass kadp12
    }
    virtual_ipaddress {
        198.18.1.51/32
    }
}
vrrp_instance V2_NONE {
    state MASTER
    interface ka0
    virtual_router_id 52
    priority 150
    advert_int 1
    virtual_ipaddress {
        198.18.1.52/32
        198.18.1.152/32
    }
}
vrrp_instance V3_MULTI {
    state MASTER
    version 3
    interface ka0
    virtual_router_id 53
    priority 100
    advert_int 0.1
    virtual_ipaddress {
        198.18.1.53/32
        198.18.1.153/32
        198.18.1.253/32
        198.19.1.53/32
    }
}
vrrp_instance V3_UCAST {
    state MASTER
    version 3
    interface ka0
    virtual_router_id 54
    priority 120
    advert_int 0.5
    unicast_src_ip 198.18.0.1
    unicast_peer {
        198.18.0.2
    }
    virtual_ipaddress {
        198.18.1.54/32
    }
}
vrrp_instance V3_V6 {
    state MASTER
    version 3
    interface ka0
    virtual_router_id 55
    priority 110
    advert_int 0.2
    virtual_ipaddress {
        2001:db8::55/128
        2001:db8::155/128
    }
}
CONF
# vrid:priority each instance must have sent twice before keepalived stops.
wanted="51:200 52:150 53:100 54:120 55:110"

if ip netns exec "$NS_KA" keepalived -t -f "$conf" >"$DIR/check.log" 2>&1; then
  pass "keepalived -t accepts the capture config"
else
  fail "keepalived -t refuses the capture config (exit $?)"
  sed 's/^/    | /' "$DIR/check.log" | tail -20
fi

pcap=$DIR/adverts.pcap
ip netns exec "$NS_PEER" tcpdump -i kb0 -U -n -w "$pcap" 'ip proto 112 or ip6 proto 112' 2>"$DIR/tcpdump.log" &
TCPDUMP=$!
PIDS+=("$TCPDUMP")
for _ in $(seq 50); do grep -q "listening on" "$DIR/tcpdump.log" && break; sleep 0.1; done
grep -q "listening on" "$DIR/tcpdump.log" || setup_fail "tcpdump does not capture" "$DIR/tcpdump.log"

rm -f "$DIR"/*.pid
ip netns exec "$NS_KA" keepalived -n -l -D -G -P -f "$conf" -p "$DIR/keepalived.pid" -r "$DIR/vrrp.pid" \
  -c "$DIR/checkers.pid" >"$DIR/keepalived.log" 2>&1 &
KA=$!
PIDS+=("$KA")

# "vrid priority" per captured advert (tcpdump's own decoding: the script
# does not trust the codec it is testing to decide when to stop).
seen() { tcpdump -r "$pcap" -n 2>/dev/null | sed -n 's/.*vrid \([0-9]*\), prio \([0-9]*\),.*/\1:\2/p'; }
all_seen() {
  local got w
  got=$(seen)
  for w in $wanted; do
    [ "$(grep -cx "$w" <<<"$got")" -ge 2 ] || return 1
  done
}
# v2 masters wait for the master down interval (3 x 1 s + skew) first.
for _ in $(seq 150); do all_seen && break; kill -0 "$KA" 2>/dev/null || break; sleep 0.1; done
if all_seen; then
  pass "keepalived sent two adverts per instance as MASTER"
else
  fail "not every instance became MASTER within 15 s (seen: $(seen | sort | uniq -c | tr -s ' \n' ' '))"
  sed 's/^/    | /' "$DIR/keepalived.log" | tail -20
fi

# A graceful stop: every instance says goodbye with priority 0.
kill -TERM "$KA" 2>/dev/null
for _ in $(seq 50); do kill -0 "$KA" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$KA" 2>/dev/null; then
  fail "keepalived still runs 5 s after SIGTERM"
else
  wait "$KA"
  rc=$?
  [ "$rc" -eq 0 ] && pass "keepalived stopped cleanly" || fail "keepalived exited with $rc"
fi
sleep 0.2
kill -TERM "$TCPDUMP" 2>/dev/null
wait "$TCPDUMP" 2>/dev/null
echo "captured: $(seen | sort | uniq -c | tr -s ' \n' ' ')"
if grep -q "Entering MASTER STATE" "$DIR/keepalived.log" && ! grep -qiE "invalid|bogus" "$DIR/keepalived.log"; then
  pass "keepalived's log: MASTER, no invalid packet"
else
  fail "keepalived's log"
  sed 's/^/    | /' "$DIR/keepalived.log" | tail -20
fi

# 2. The codec against the captures (each gtest case counts).
KADP_VRRP_CAPTURES=$DIR KADP_VRRP_SOURCE4=198.18.0.1 KADP_VRRP_SOURCE6=$src6 \
  KADP_VRRP_PEER4=198.18.0.2 KADP_VRRP_PEER6=$peer6 \
  "$UNIT" --gtest_filter='Captured*' --gtest_color=no >"$DIR/unit.log" 2>&1
rc=$?
p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$DIR/unit.log" | tail -1)
f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$DIR/unit.log" | tail -1)
s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$DIR/unit.log" | tail -1)
if [ "$rc" -eq 0 ] && [ "${p:-0}" -eq 2 ] && [ -z "$s" ]; then
  echo "PASS: unit_vrrp Captured* ($p tests): keepalived's adverts decode to the config, kadp encodes them byte for byte"
  passed=$((passed + p))
else
  echo "FAIL: unit_vrrp Captured* (exit $rc, passed ${p:-0}, failed ${f:-0}, skipped ${s:-0})"
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
  grep -vE '^\[ *(RUN|OK) ' "$DIR/unit.log" | head -60 | sed 's/^/    | /'
fi

# 3. scapy reads kadp's packets.
if [ -s "$DIR/kadp_encoded.pcap" ]; then
  "$PY" - "$DIR/kadp_encoded.pcap" "$DIR/kadp_encoded.txt" "$pcap" >"$DIR/scapy.log" 2>&1 <<'PYEOF'
import sys
from scapy.all import rdpcap, raw, IP, IPv6
from scapy.layers.vrrp import VRRP, VRRPv3
from scapy.layers.inet import in4_chksum
from scapy.layers.inet6 import in6_chksum

kadp_pcap, txt, ka_pcap = sys.argv[1:4]
ok = bad = 0
def check(cond, what):
    global ok, bad
    if cond:
        ok += 1
    else:
        bad += 1
        print("MISMATCH:", what)

def layers(p):
    l3 = p[IP] if IP in p else p[IPv6]
    v = p[VRRPv3] if VRRPv3 in p else p[VRRP]
    return l3, v

def vrrp_fields(v):
    return {f.name: v.getfieldval(f.name) for f in v.fields_desc}

def ip_fields(l3):
    skip = {"id", "chksum", "fl"}   # per-packet: keepalived's ID, the kernel's flow label
    return {f.name: l3.getfieldval(f.name) for f in l3.fields_desc if f.name not in skip}

def vrrp_checksum_ok(l3, v):
    data = raw(v)
    if isinstance(v, VRRPv3):
        fn = in4_chksum if isinstance(l3, IP) else in6_chksum
        return fn(112, l3, data) == 0
    s = 0
    for i in range(0, len(data), 2):
        s += (data[i] << 8) + (data[i + 1] if i + 1 < len(data) else 0)
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s == 0xffff

keepalived = {}
for p in rdpcap(ka_pcap):
    l3, v = layers(p)
    keepalived.setdefault((v.vrid, v.priority), (l3, v))

lines = [dict(kv.split("=", 1) for kv in line.split()) for line in open(txt) if line.strip()]
pkts = rdpcap(kadp_pcap)
check(len(pkts) == len(lines), "%d packets for %d lines" % (len(pkts), len(lines)))
compared = 0
for p, want in zip(pkts, lines):
    l3, v = layers(p)
    tag = "vrid %s prio %s %s" % (want["vrid"], want["priority"], want["src"])
    ver = int(want["version"])
    check(v.version == ver and v.type == 1, tag + ": version/type %d/%d" % (v.version, v.type))
    check(isinstance(v, VRRPv3) == (ver == 3), tag + ": scapy layer " + v.name)
    check(v.vrid == int(want["vrid"]), tag + ": vrid %d" % v.vrid)
    check(v.priority == int(want["priority"]), tag + ": priority %d" % v.priority)
    addrs = [a for a in want["addrs"].split(",") if a]
    check(v.ipcount == len(addrs), tag + ": ipcount %d" % v.ipcount)
    check([str(a) for a in v.addrlist] == addrs, tag + ": addrlist %s" % v.addrlist)
    if ver == 2:
        check(v.adv * 100 == int(want["interval_cs"]), tag + ": adv %d" % v.adv)
        check(v.authtype == int(want["authtype"]), tag + ": authtype %d" % v.authtype)
        auth = "%08x%08x" % (v.auth1, v.auth2)
        check(auth == want["auth"], tag + ": auth %s" % auth)
    else:
        check(v.adv == int(want["interval_cs"]) and v.res == 0, tag + ": adv %d res %d" % (v.adv, v.res))
    check(vrrp_checksum_ok(l3, v), tag + ": VRRP checksum 0x%04x does not verify" % v.chksum)
    # scapy's own checksum of the same fields equals kadp's.
    rebuilt = v.copy(); rebuilt.chksum = None
    l3copy = l3.copy(); l3copy.remove_payload(); l3copy = l3copy / rebuilt
    if isinstance(l3copy, IP):
        l3copy.chksum = None; l3copy.len = None
    else:
        l3copy.plen = None
    check(raw(l3copy) == raw(l3), tag + ": scapy rebuilds different bytes:\n  %s\n  %s" % (raw(l3copy).hex(), raw(l3).hex()))
    if isinstance(l3, IP):
        check(l3.version == 4 and l3.ihl == 5 and l3.tos == 0xc0 and l3.ttl == 255 and l3.proto == 112
              and l3.flags == 0 and l3.frag == 0 and l3.len == 20 + len(raw(v)), tag + ": IPv4 header " + repr(l3))
        hdr = IP(raw(l3)); hdr.chksum = None
        check(IP(raw(hdr)).chksum == l3.chksum, tag + ": IPv4 header checksum")
    else:
        check(l3.tc == 0xc0 and l3.hlim == 255 and l3.nh == 112 and l3.plen == len(raw(v)), tag + ": IPv6 header " + repr(l3))
    check(str(l3.src) == want["src"] and str(l3.dst) == want["dst"], tag + ": %s > %s" % (l3.src, l3.dst))
    ka = keepalived.get((v.vrid, v.priority))
    if ka and str(ka[0].src) == want["src"]:
        compared += 1
        check(vrrp_fields(ka[1]) == vrrp_fields(v), tag + ": VRRP fields differ from keepalived's: %s vs %s" % (vrrp_fields(ka[1]), vrrp_fields(v)))
        check(ip_fields(ka[0]) == ip_fields(l3), tag + ": IP fields differ from keepalived's: %s vs %s" % (ip_fields(ka[0]), ip_fields(l3)))
check(compared >= 10, "compared %d kadp packets with keepalived's" % compared)
print("scapy: %d checks ok, %d failed, %d packets compared with keepalived's" % (ok, bad, compared))
sys.exit(1 if bad else 0)
PYEOF
  rc=$?
  if [ "$rc" -eq 0 ]; then
    pass "$(tail -1 "$DIR/scapy.log")"
  else
    fail "scapy on kadp's packets"
    sed 's/^/    | /' "$DIR/scapy.log" | tail -30
  fi
else
  fail "unit_vrrp wrote no kadp_encoded.pcap"
fi

# 4. keepalived takes kadp's adverts: while they come from the peer at
# priority 250, no instance leaves BACKUP (the v2 ones would take over after
# 3 x 1 s + skew); once they stop, every one becomes MASTER.
if [ -s "$DIR/kadp_as_peer.pcap" ]; then
  cat >"$DIR/sender.py" <<'PYEOF'
import sys, time, os
from scapy.all import rdpcap, conf, Ether, IP
frames = rdpcap(sys.argv[1])
for f in frames:
    if IP in f and not f[IP].dst.startswith("224."):
        f[Ether].dst = sys.argv[2]   # unicast to keepalived's ka0
s = conf.L2socket(iface="kb0")
print("sending", len(frames), flush=True)
while True:
    for f in frames:
        s.send(f)
    time.sleep(0.1)
PYEOF
  ip netns exec "$NS_PEER" "$PY" "$DIR/sender.py" "$DIR/kadp_as_peer.pcap" "$ka_mac" >"$DIR/sender.log" 2>&1 &
  SENDER=$!
  PIDS+=("$SENDER")
  for _ in $(seq 100); do grep -q "^sending" "$DIR/sender.log" && break; sleep 0.1; done
  rm -f "$DIR"/*.pid
  ip netns exec "$NS_KA" keepalived -n -l -D -G -P -f "$conf" -p "$DIR/keepalived.pid" -r "$DIR/vrrp.pid" \
    -c "$DIR/checkers.pid" >"$DIR/keepalived2.log" 2>&1 &
  KA=$!
  PIDS+=("$KA")
  for _ in $(seq 50); do [ "$(grep -c 'Entering BACKUP STATE' "$DIR/keepalived2.log")" -ge 5 ] && break; sleep 0.1; done
  sleep 4.5
  kill -TERM "$SENDER"
  wait "$SENDER" 2>/dev/null
  masters=$(grep -c "Entering MASTER STATE" "$DIR/keepalived2.log")
  if ! grep -q "^sending 5" "$DIR/sender.log"; then
    fail "the sender did not send kadp's adverts"
    sed 's/^/    | /' "$DIR/sender.log" | tail -10
  elif [ "$masters" -eq 0 ] && ! grep -qiE "invalid|bogus|mismatch|error" "$DIR/keepalived2.log"; then
    pass "keepalived stays BACKUP for 4.5 s while kadp's priority-250 adverts come (v2 PASS/none, v3, unicast, IPv6)"
  else
    fail "keepalived did not take kadp's adverts"
    grep -vi "gratuitous" "$DIR/keepalived2.log" | sed 's/^/    | /' | tail -25
  fi
  for _ in $(seq 60); do [ "$(grep -c 'Entering MASTER STATE' "$DIR/keepalived2.log")" -ge 5 ] && break; sleep 0.1; done
  masters=$(grep -c "Entering MASTER STATE" "$DIR/keepalived2.log")
  [ "$masters" -ge 5 ] && pass "and every instance becomes MASTER once they stop" ||
    fail "only $masters of 5 instances became MASTER after kadp's adverts stopped"
  kill -TERM "$KA"
  for _ in $(seq 50); do kill -0 "$KA" 2>/dev/null || break; sleep 0.1; done
else
  fail "unit_vrrp wrote no kadp_as_peer.pcap"
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" -eq 0 ]
